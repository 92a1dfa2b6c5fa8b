//! The wgpu sweep: pipelines ([`GpuSweep`]), buffers, row bands and batches.

use std::collections::HashMap;
use std::sync::Mutex;

use aquamvs_camera::{Camera, Ray};
use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::rays::reference_rays;
use crate::select::CostVolume;
use crate::{CENTRE, INVALID, SweepError, SweepOutput, SweepParams, View, check_inputs};

/// Output columns per strip of the NCC shader (must match `K` in `ncc.wgsl`).
const STRIP: u32 = 16;
/// Output rows per segment of the NCC shader (must match `SEG` in `ncc.wgsl`); row bands are
/// multiples of it so that tiling does not change any sum.
const SEG: u32 = 64;
/// Zero words before each row of the warped planes (must match `PAD_LEFT` in the shaders).
const PAD_LEFT: u32 = 16;

/// Row length (words) of the warped planes for a reference `width`: the row after `PAD_LEFT`
/// zeros, then at least 32 more, a multiple of 4 so that `ncc.wgsl` reads aligned quads.
fn warp_stride(width: u32) -> u32 {
    (PAD_LEFT + width + 32).div_ceil(4) * 4
}

/// Workgroup size of the one-dimensional shaders.
const WG1: u32 = 64;
/// Largest storage binding used by default, even where the device allows more.
const DEFAULT_MAX_BINDING: u64 = 256 << 20;

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct ParamsU {
    width: u32,
    warp_rows: u32,
    band_rows: u32,
    halo_top: u32,
    n_sources: u32,
    depths: u32,
    n_warp: u32,
    n_out: u32,
    lo: f32,
    step: f32,
    inv_sources: f32,
    keep_cost: u32,
    span: u32,
    stride: u32,
    pad: [u32; 2],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct BatchU {
    k0: u32,
    nb: u32,
    pad: [u32; 2],
}

#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct SrcCamU {
    col0: [f32; 4],
    col1: [f32; 4],
    col2: [f32; 4],
    center: [f32; 4],
    intr: [f32; 4],
    extra: [f32; 4],
    dist0: [f32; 4],
    dist1: [f32; 4],
    dims: [u32; 4],
}

impl SrcCamU {
    fn new(cam: &Camera<f64>, offset: u32) -> Self {
        let r = &cam.r;
        let col = |j: usize| [r[(0, j)] as f32, r[(1, j)] as f32, r[(2, j)] as f32, 0.0];
        let c = cam.center();
        let k = &cam.k;
        let d = cam.distortion.filter(|d| !d.is_identity());
        let (dist0, dist1) = match d {
            Some(d) => (
                [d.k1 as f32, d.k2 as f32, d.p1 as f32, d.p2 as f32],
                [d.k3 as f32, 0.0, 0.0, 0.0],
            ),
            None => ([0.0; 4], [0.0; 4]),
        };
        Self {
            col0: col(0),
            col1: col(1),
            col2: col(2),
            center: [
                c.x as f32,
                c.y as f32,
                c.z as f32,
                cam.interface.water_z as f32,
            ],
            intr: [
                k[(0, 0)] as f32,
                k[(1, 1)] as f32,
                k[(0, 2)] as f32,
                k[(1, 2)] as f32,
            ],
            extra: [
                k[(0, 1)] as f32,
                cam.interface.n_air as f32,
                cam.interface.n_water as f32,
                if d.is_some() { 1.0 } else { 0.0 },
            ],
            dist0,
            dist1,
            dims: [cam.width, cam.height, offset, 0],
        }
    }
}

/// Options of a [`GpuSweep`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GpuSweepOptions {
    /// Largest storage binding (bytes) the row bands may use; `None`: the device's
    /// `max_storage_buffer_binding_size` (at most 256 MiB). Set it small to force tiling.
    pub max_binding_bytes: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Uniform,
    UniformDynamic,
    Read,
    ReadWrite,
}

fn layout(device: &wgpu::Device, label: &str, slots: &[(u32, Slot)]) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = slots
        .iter()
        .map(|&(binding, slot)| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: match slot {
                    Slot::Uniform | Slot::UniformDynamic => wgpu::BufferBindingType::Uniform,
                    Slot::Read => wgpu::BufferBindingType::Storage { read_only: true },
                    Slot::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                },
                has_dynamic_offset: matches!(slot, Slot::UniformDynamic),
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries: &entries,
    })
}

fn bind(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
    entries: &[(u32, wgpu::BindingResource)],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = entries
        .iter()
        .map(|(binding, resource)| wgpu::BindGroupEntry {
            binding: *binding,
            resource: resource.clone(),
        })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout,
        entries: &entries,
    })
}

/// The batch uniform is bound with a dynamic offset: only its first 16 bytes.
fn batch_binding(buf: &wgpu::Buffer) -> wgpu::BindingResource<'_> {
    wgpu::BindingResource::Buffer(wgpu::BufferBinding {
        buffer: buf,
        offset: 0,
        size: wgpu::BufferSize::new(std::mem::size_of::<BatchU>() as u64),
    })
}

fn whole(b: &wgpu::Buffer) -> wgpu::BindingResource<'_> {
    b.as_entire_binding()
}

/// Runs `f` inside validation and out-of-memory error scopes; a captured error becomes
/// [`SweepError::Gpu`].
fn scoped<T>(
    device: &wgpu::Device,
    f: impl FnOnce() -> Result<T, SweepError>,
) -> Result<T, SweepError> {
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let result = f();
    let v = pollster::block_on(validation.pop());
    let o = pollster::block_on(oom.pop());
    if let Some(e) = v.or(o) {
        return Err(SweepError::Gpu(e.to_string()));
    }
    result
}

/// Blocks until `buffer` (MAP_READ) is mapped and returns its first `len` f32 values.
fn read_back(
    device: &wgpu::Device,
    buffer: &wgpu::Buffer,
    len: usize,
) -> Result<Vec<f32>, SweepError> {
    let bytes = (len * 4) as u64;
    let slice = buffer.slice(..bytes);
    let (tx, rx) = std::sync::mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: None,
        })
        .map_err(|e| SweepError::Gpu(format!("waiting for the GPU: {e}")))?;
    rx.recv()
        .map_err(|_| SweepError::Gpu("buffer mapping was dropped".into()))?
        .map_err(|e| SweepError::Gpu(format!("mapping the result buffer: {e}")))?;
    let out = {
        let view = slice
            .get_mapped_range()
            .map_err(|e| SweepError::Gpu(format!("reading the result buffer: {e}")))?;
        bytemuck::cast_slice::<u8, f32>(&view).to_vec()
    };
    buffer.unmap();
    Ok(out)
}

/// Workgroup counts covering `n` invocations of a 64-wide one-dimensional shader (wrapping into
/// a second dimension beyond 65535 workgroups; the shaders index `y · groups_x · 64 + x`).
fn groups_1d(n: u32) -> (u32, u32) {
    let groups = n.div_ceil(WG1).max(1);
    if groups <= 65535 {
        (groups, 1)
    } else {
        (65535, groups.div_ceil(65535))
    }
}

/// The refractive plane sweep's pipelines, created once per device.
/// The refractive plane sweep's pipelines, created once per device.
///
/// **One dispatch handles a batch of depth hypotheses** ([`SweepParams::batch`]). Per batch, one
/// command buffer with three dispatches: `warp` (each reference ray and reference value loaded
/// once; exact refractive projections only at the anchors of each segment of
/// [`crate::warp_span`] hypotheses, shared by the batch's hypotheses of that segment), `ncc`
/// (sliding window sums in registers) and `wta` (the winner-take-all state loaded and stored
/// once per batch). Nothing is read back until the end of a row band.
#[derive(Debug)]
pub struct GpuSweep {
    options: GpuSweepOptions,
    uniform_align: u64,
    warp_layout: wgpu::BindGroupLayout,
    ncc_layout: wgpu::BindGroupLayout,
    wta_layout: wgpu::BindGroupLayout,
    select_layout: wgpu::BindGroupLayout,
    finalize_layout: wgpu::BindGroupLayout,
    ncc_pipeline_layout: wgpu::PipelineLayout,
    warp_pipeline: wgpu::ComputePipeline,
    wta_pipeline: wgpu::ComputePipeline,
    select_pipeline: wgpu::ComputePipeline,
    finalize_pipeline: wgpu::ComputePipeline,
    /// NCC pipelines by window size (the window is compiled in, its loops unrolled).
    ncc_pipelines: Mutex<HashMap<u32, wgpu::ComputePipeline>>,
    #[cfg(test)]
    test_layout: wgpu::BindGroupLayout,
    #[cfg(test)]
    project_pipeline: wgpu::ComputePipeline,
    #[cfg(test)]
    warp_points_pipeline: wgpu::ComputePipeline,
}

/// Bytes of one `f32`/`u32`.
const F: u64 = 4;

/// Appends the 16-bit texel quads of a grey image in [0, 1]: for pixel (x, y) the codes
/// `round(65535 v)` of (x, y) | (x+1, y) << 16 and (x, y+1) | (x+1, y+1) << 16, clamped at the
/// last row and column — one load per bilinear sample in `warp.wgsl`.
fn texel_quads(image: &[f32], width: usize, height: usize, out: &mut Vec<[u32; 2]>) {
    let code = |v: f32| (v.clamp(0.0, 1.0) * 65535.0).round() as u32;
    for y in 0..height {
        let y1 = (y + 1).min(height - 1);
        for x in 0..width {
            let x1 = (x + 1).min(width - 1);
            let at = |xx: usize, yy: usize| code(image[yy * width + xx]);
            out.push([at(x, y) | at(x1, y) << 16, at(x, y1) | at(x1, y1) << 16]);
        }
    }
}

/// `ncc.wgsl` for one window size: the window fixed and the marked loops unrolled.
pub(crate) fn ncc_source(window: u32) -> Result<String, SweepError> {
    let taps = STRIP + window - 1;
    let off = (PAD_LEFT - window / 2) % 4;
    let consts = [
        ("K", STRIP),
        ("WIN", window),
        ("TAPS", taps),
        ("OFF", off),
        ("NQ", (off + taps).div_ceil(4)),
    ];
    let fixed = crate::unroll::fix_overrides(include_str!("ncc.wgsl"), &consts);
    crate::unroll::unroll(&fixed, &consts)
        .map_err(|e| SweepError::Gpu(format!("preparing ncc.wgsl: {e}")))
}

impl GpuSweep {
    /// Compiles the shaders and builds the pipelines with default options.
    pub fn new(device: &wgpu::Device) -> Result<Self, SweepError> {
        Self::with_options(device, GpuSweepOptions::default())
    }

    /// Compiles the shaders and builds the pipelines.
    pub fn with_options(
        device: &wgpu::Device,
        options: GpuSweepOptions,
    ) -> Result<Self, SweepError> {
        if options.max_binding_bytes == Some(0) {
            return Err(SweepError::TooLarge(
                "max_binding_bytes must be positive".into(),
            ));
        }
        let sweep = scoped(device, || {
            let warp_module = device.create_shader_module(wgpu::include_wgsl!("warp.wgsl"));
            let cost_module = device.create_shader_module(wgpu::include_wgsl!("cost.wgsl"));
            use Slot::*;
            let warp_layout = layout(
                device,
                "sweep warp",
                &[
                    (0, Uniform),
                    (1, UniformDynamic),
                    (2, Read),
                    (3, Read),
                    (4, Read),
                    (5, ReadWrite),
                    (6, Read),
                ],
            );
            let ncc_layout = layout(
                device,
                "sweep ncc",
                &[(0, Uniform), (1, UniformDynamic), (3, Read), (8, ReadWrite)],
            );
            let wta_layout = layout(
                device,
                "sweep wta",
                &[
                    (0, Uniform),
                    (1, UniformDynamic),
                    (4, ReadWrite),
                    (5, ReadWrite),
                    (8, ReadWrite),
                ],
            );
            let select_layout = layout(
                device,
                "sweep select",
                &[(0, Uniform), (1, UniformDynamic), (4, ReadWrite), (7, Read)],
            );
            let finalize_layout = layout(
                device,
                "sweep finalize",
                &[(0, Uniform), (2, Read), (4, ReadWrite), (6, ReadWrite)],
            );
            let pl = |bgl: &wgpu::BindGroupLayout| {
                device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                    label: None,
                    bind_group_layouts: &[Some(bgl)],
                    immediate_size: 0,
                })
            };
            let pipeline =
                |layout: &wgpu::PipelineLayout, module: &wgpu::ShaderModule, entry: &str| {
                    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(entry),
                        layout: Some(layout),
                        module,
                        entry_point: Some(entry),
                        compilation_options: Default::default(),
                        cache: None,
                    })
                };
            let warp_pipeline = pipeline(&pl(&warp_layout), &warp_module, "warp");
            let wta_pipeline = pipeline(&pl(&wta_layout), &cost_module, "wta");
            let select_pipeline = pipeline(&pl(&select_layout), &cost_module, "select_costs");
            let finalize_pipeline = pipeline(&pl(&finalize_layout), &cost_module, "finalize");
            #[cfg(test)]
            let test_layout = layout(
                device,
                "sweep test",
                &[(0, Uniform), (3, Read), (7, Read), (8, ReadWrite)],
            );
            #[cfg(test)]
            let project_pipeline = pipeline(&pl(&test_layout), &warp_module, "project_points");
            #[cfg(test)]
            let warp_points_pipeline = pipeline(&pl(&test_layout), &warp_module, "warp_points");
            Ok(Self {
                options,
                uniform_align: device.limits().min_uniform_buffer_offset_alignment.max(16) as u64,
                ncc_pipeline_layout: pl(&ncc_layout),
                warp_layout,
                ncc_layout,
                wta_layout,
                select_layout,
                finalize_layout,
                warp_pipeline,
                wta_pipeline,
                select_pipeline,
                finalize_pipeline,
                ncc_pipelines: Mutex::new(HashMap::new()),
                #[cfg(test)]
                test_layout,
                #[cfg(test)]
                project_pipeline,
                #[cfg(test)]
                warp_points_pipeline,
            })
        })?;
        // Compile the default window's NCC shader now, so shader problems surface here.
        sweep.ncc_pipeline(device, SweepParams::default().window)?;
        Ok(sweep)
    }

    /// The options this sweep was built with.
    pub fn options(&self) -> GpuSweepOptions {
        self.options
    }

    fn ncc_pipeline(
        &self,
        device: &wgpu::Device,
        window: u32,
    ) -> Result<wgpu::ComputePipeline, SweepError> {
        let mut cache = self
            .ncc_pipelines
            .lock()
            .map_err(|_| SweepError::Gpu("pipeline cache poisoned".into()))?;
        if let Some(p) = cache.get(&window) {
            return Ok(p.clone());
        }
        let source = ncc_source(window)?;
        let p = scoped(device, || {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("ncc.wgsl"),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            Ok(
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some("ncc"),
                    layout: Some(&self.ncc_pipeline_layout),
                    module: &module,
                    entry_point: Some("ncc"),
                    compilation_options: Default::default(),
                    cache: None,
                }),
            )
        })?;
        cache.insert(window, p.clone());
        Ok(p)
    }

    fn max_binding(&self, device: &wgpu::Device) -> u64 {
        let l = device.limits();
        let dev = l.max_storage_buffer_binding_size.min(l.max_buffer_size);
        match self.options.max_binding_bytes {
            Some(b) => b.min(dev),
            None => dev.min(DEFAULT_MAX_BINDING),
        }
    }

    /// Output rows per band for a `width × height` reference and `n_sources` sources: as many
    /// as keep every band buffer within one storage binding (the option's or the device's
    /// limit), in whole NCC segments of 64 rows unless one band holds the whole image.
    pub fn band_rows(
        &self,
        device: &wgpu::Device,
        width: u32,
        height: u32,
        n_sources: usize,
        params: &SweepParams,
    ) -> Result<u32, SweepError> {
        let (w, h) = (width as u64, height as u64);
        let half = (params.window / 2) as u64;
        let cap = params.batch.min(params.depths) as u64;
        let n_src = n_sources as u64;
        let budget = self.max_binding(device);
        let warp_row_bytes = (cap * n_src * warp_stride(width) as u64 * F).max(w * 32);
        let mut out_row_bytes = (cap * n_src * w * F).max(w * 24);
        if params.keep_cost_volume {
            out_row_bytes = out_row_bytes.max(params.depths as u64 * w * F);
        }
        let rows_by_warp = (budget / warp_row_bytes).saturating_sub(2 * half);
        let rows_by_out = budget / out_row_bytes;
        let mut band_rows = rows_by_warp.min(rows_by_out);
        if band_rows < h && band_rows >= SEG as u64 {
            band_rows -= band_rows % SEG as u64;
        }
        if band_rows == 0 {
            return Err(SweepError::TooLarge(format!(
                "one {w}-pixel row with its {}-row halo needs {} bytes per binding at batch {cap} \
                 with {n_src} sources, more than {budget}; lower the batch",
                2 * half,
                warp_row_bytes * (1 + 2 * half)
            )));
        }
        Ok(band_rows.min(h) as u32)
    }

    /// Runs the sweep of `reference` against `sources`. See the crate documentation for the
    /// algorithm; results are identical for every `params.batch`.
    pub fn run(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        reference: View,
        sources: &[View],
        params: &SweepParams,
    ) -> Result<SweepOutput, SweepError> {
        check_inputs(&reference, sources, params)?;
        let cam = reference.camera;
        let rays = reference_rays(cam);
        if rays.iter().all(Option::is_none) {
            return Err(SweepError::NoRays(cam.name.clone()));
        }
        let src_cams: Vec<&Camera<f64>> = sources.iter().map(|s| s.camera).collect();
        let span = crate::warp_span(cam, &src_cams, params.depths, params.depth_range);
        let ncc_pipeline = self.ncc_pipeline(device, params.window)?;
        scoped(device, || {
            self.run_inner(
                device,
                queue,
                &reference,
                sources,
                params,
                &rays,
                span,
                &ncc_pipeline,
            )
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn run_inner(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        reference: &View,
        sources: &[View],
        params: &SweepParams,
        rays: &[Option<Ray<f64>>],
        span: u32,
        ncc_pipeline: &wgpu::ComputePipeline,
    ) -> Result<SweepOutput, SweepError> {
        let cam = reference.camera;
        let (width, height) = (cam.width, cam.height);
        let (w, h) = (width as u64, height as u64);
        let half = (params.window / 2) as u64;
        let n_src = sources.len() as u64;
        let depths = params.depths;
        let cap = params.batch.min(depths) as u64;

        // Sources: one concatenated image buffer and the camera table.
        let dev_binding = {
            let l = device.limits();
            l.max_storage_buffer_binding_size.min(l.max_buffer_size)
        };
        let src_total: u64 = sources.iter().map(|s| s.image.len() as u64 * 8).sum();
        if src_total > dev_binding {
            return Err(SweepError::TooLarge(format!(
                "the source images take {src_total} bytes as texel quads; one storage binding \
                 holds {dev_binding}"
            )));
        }
        let mut src_data: Vec<[u32; 2]> = Vec::with_capacity((src_total / 8) as usize);
        let mut cams = Vec::with_capacity(sources.len());
        for s in sources {
            cams.push(SrcCamU::new(s.camera, src_data.len() as u32));
            texel_quads(
                s.image,
                s.camera.width as usize,
                s.camera.height as usize,
                &mut src_data,
            );
        }

        let band_rows = self.band_rows(device, width, height, sources.len(), params)? as u64;
        let max_warp_rows = (band_rows + 2 * half).min(h);
        let n_warp_max = max_warp_rows * w;
        let stride = warp_stride(width);
        let n_out_max = band_rows * w;
        let storage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
        let buf = |label: &str, size: u64, usage: wgpu::BufferUsages| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: size.max(16),
                usage,
                mapped_at_creation: false,
            })
        };
        let src_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("sweep sources"),
            contents: bytemuck::cast_slice(&src_data),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let cam_buf = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("sweep cameras"),
            contents: bytemuck::cast_slice(&cams),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let n_batches = depths.div_ceil(cap as u32);
        let batch_bytes = self.batch_uniforms(depths, cap as u32);
        let batches = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("sweep batches"),
            contents: &batch_bytes,
            usage: wgpu::BufferUsages::UNIFORM,
        });
        let params_buf = buf(
            "sweep params",
            std::mem::size_of::<ParamsU>() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        let rays_buf = buf("sweep rays", n_warp_max * 32, storage);
        let ref_buf = buf("sweep reference", n_warp_max * F, storage);
        let warped = buf(
            "sweep warped",
            cap * n_src * max_warp_rows * stride as u64 * F,
            wgpu::BufferUsages::STORAGE,
        );
        let costs = buf(
            "sweep costs",
            cap * n_src * n_out_max * F,
            wgpu::BufferUsages::STORAGE,
        );
        let state = buf("sweep state", n_out_max * 24, wgpu::BufferUsages::STORAGE);
        let out = buf(
            "sweep out",
            n_out_max * 8,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let out_staging = buf(
            "sweep out staging",
            n_out_max * 8,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        let cost_size = if params.keep_cost_volume {
            depths as u64 * n_out_max * F
        } else {
            16
        };
        let cost_volume_buf = buf(
            "sweep cost volume",
            cost_size,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let cost_staging = params.keep_cost_volume.then(|| {
            buf(
                "sweep cost staging",
                cost_size,
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            )
        });

        let warp_bg = bind(
            device,
            &self.warp_layout,
            &[
                (0, whole(&params_buf)),
                (1, batch_binding(&batches)),
                (2, whole(&rays_buf)),
                (3, whole(&cam_buf)),
                (4, whole(&src_buf)),
                (5, whole(&warped)),
                (6, whole(&ref_buf)),
            ],
        );
        let ncc_bg = bind(
            device,
            &self.ncc_layout,
            &[
                (0, whole(&params_buf)),
                (1, batch_binding(&batches)),
                (3, whole(&warped)),
                (8, whole(&costs)),
            ],
        );
        let wta_bg = bind(
            device,
            &self.wta_layout,
            &[
                (0, whole(&params_buf)),
                (1, batch_binding(&batches)),
                (4, whole(&state)),
                (5, whole(&cost_volume_buf)),
                (8, whole(&costs)),
            ],
        );
        let finalize_bg = bind(
            device,
            &self.finalize_layout,
            &[
                (0, whole(&params_buf)),
                (2, whole(&ref_buf)),
                (4, whole(&state)),
                (6, whole(&out)),
            ],
        );

        let n_pix = (w * h) as usize;
        let mut depth_out = vec![f32::NAN; n_pix];
        let mut conf_out = vec![0.0f32; n_pix];
        let mut cost_volume = params
            .keep_cost_volume
            .then(|| vec![0.0f32; n_pix * depths as usize]);
        let step = params.step();
        let mut y0 = 0u64;
        while y0 < h {
            let y1 = (y0 + band_rows).min(h);
            let wy0 = y0.saturating_sub(half);
            let wy1 = (y1 + half).min(h);
            let (n_warp, n_out) = ((wy1 - wy0) * w, (y1 - y0) * w);
            // Reference rays and values of the warp region.
            let mut ray_data = vec![[0.0f32; 4]; 2 * n_warp as usize];
            let mut ref_data = vec![INVALID; n_warp as usize];
            let first = (wy0 * w) as usize;
            for (i, ray) in rays[first..first + n_warp as usize].iter().enumerate() {
                if let Some(r) = ray {
                    let (o, d) = (r.origin, r.direction);
                    ray_data[2 * i] = [o.x as f32, o.y as f32, o.z as f32, 1.0];
                    ray_data[2 * i + 1] = [d.x as f32, d.y as f32, d.z as f32, 0.0];
                    ref_data[i] = reference.image[first + i] - CENTRE;
                }
            }
            queue.write_buffer(&rays_buf, 0, bytemuck::cast_slice(&ray_data));
            queue.write_buffer(&ref_buf, 0, bytemuck::cast_slice(&ref_data));
            let p = ParamsU {
                width,
                warp_rows: (wy1 - wy0) as u32,
                band_rows: (y1 - y0) as u32,
                halo_top: (y0 - wy0) as u32,
                n_sources: n_src as u32,
                depths,
                n_warp: n_warp as u32,
                n_out: n_out as u32,
                lo: params.depth_range.0,
                step: step as f32,
                inv_sources: 1.0 / n_src as f32,
                keep_cost: params.keep_cost_volume as u32,
                span,
                stride,
                pad: [0; 2],
            };
            queue.write_buffer(&params_buf, 0, bytemuck::bytes_of(&p));
            let warp_groups = groups_1d((wy1 - wy0) as u32 * stride);
            let wta_groups = groups_1d(n_out as u32);
            let strips = width.div_ceil(STRIP) as u64 * ((y1 - y0) as u32).div_ceil(SEG) as u64;
            for i in 0..n_batches {
                let nb = (cap as u32).min(depths - i * cap as u32) as u64;
                let ncc_groups = groups_1d((nb * n_src * strips) as u32);
                let offset = (i as u64 * self.uniform_align) as u32;
                let mut enc = device.create_command_encoder(&Default::default());
                {
                    let mut pass = enc.begin_compute_pass(&Default::default());
                    pass.set_pipeline(&self.warp_pipeline);
                    pass.set_bind_group(0, &warp_bg, &[offset]);
                    pass.dispatch_workgroups(warp_groups.0, warp_groups.1, 1);
                    pass.set_pipeline(ncc_pipeline);
                    pass.set_bind_group(0, &ncc_bg, &[offset]);
                    pass.dispatch_workgroups(ncc_groups.0, ncc_groups.1, 1);
                    pass.set_pipeline(&self.wta_pipeline);
                    pass.set_bind_group(0, &wta_bg, &[offset]);
                    pass.dispatch_workgroups(wta_groups.0, wta_groups.1, 1);
                }
                queue.submit([enc.finish()]);
            }
            let mut enc = device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(&self.finalize_pipeline);
                pass.set_bind_group(0, &finalize_bg, &[]);
                pass.dispatch_workgroups(wta_groups.0, wta_groups.1, 1);
            }
            enc.copy_buffer_to_buffer(&out, 0, &out_staging, 0, n_out * 8);
            if let Some(cs) = &cost_staging {
                enc.copy_buffer_to_buffer(&cost_volume_buf, 0, cs, 0, depths as u64 * n_out * F);
            }
            queue.submit([enc.finish()]);
            let res = read_back(device, &out_staging, 2 * n_out as usize)?;
            let at = (y0 * w) as usize;
            for i in 0..n_out as usize {
                depth_out[at + i] = res[2 * i];
                conf_out[at + i] = res[2 * i + 1];
            }
            if let (Some(cs), Some(cv)) = (&cost_staging, cost_volume.as_mut()) {
                let n_out = n_out as usize;
                let c = read_back(device, cs, depths as usize * n_out)?;
                for k in 0..depths as usize {
                    let dst = k * n_pix + at;
                    cv[dst..dst + n_out].copy_from_slice(&c[k * n_out..(k + 1) * n_out]);
                }
            }
            y0 = y1;
        }
        Ok(SweepOutput {
            width,
            height,
            depth: depth_out,
            confidence: conf_out,
            cost_volume,
        })
    }

    /// The per-batch uniforms `(k0, nb)`, one per `uniform_align` bytes.
    fn batch_uniforms(&self, depths: u32, cap: u32) -> Vec<u8> {
        let n_batches = depths.div_ceil(cap);
        let mut bytes = vec![0u8; (n_batches as u64 * self.uniform_align) as usize];
        for i in 0..n_batches {
            let k0 = i * cap;
            let b = BatchU {
                k0,
                nb: cap.min(depths - k0),
                pad: [0; 2],
            };
            let at = (i as u64 * self.uniform_align) as usize;
            bytes[at..at + 16].copy_from_slice(bytemuck::bytes_of(&b));
        }
        bytes
    }

    /// Winner-take-all, refinement and confidence on the GPU over a given cost volume,
    /// `batch` hypotheses per dispatch — the same shader functions [`Self::run`] uses. Returns
    /// (depth, confidence) per pixel.
    pub fn select_from_costs(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        volume: &CostVolume,
        batch: u32,
    ) -> Result<(Vec<f32>, Vec<f32>), SweepError> {
        volume.check()?;
        let CostVolume {
            costs,
            pixels,
            depths,
            depth_range,
        } = *volume;
        if batch < 1 {
            return Err(SweepError::Batch(batch));
        }
        let limit = self.max_binding(device);
        if costs.len() as u64 * F > limit || pixels as u64 * 24 > limit {
            return Err(SweepError::TooLarge(format!(
                "a cost volume of {} bytes exceeds one storage binding ({limit})",
                costs.len() * 4
            )));
        }
        scoped(device, || {
            let n = pixels as u64;
            let cap = batch.min(depths);
            let n_batches = depths.div_ceil(cap);
            let step = (depth_range.1 as f64 - depth_range.0 as f64) / (depths as f64 - 1.0);
            let p = ParamsU {
                width: pixels as u32,
                warp_rows: 1,
                band_rows: 1,
                halo_top: 0,
                n_sources: 1,
                depths,
                n_warp: pixels as u32,
                n_out: pixels as u32,
                lo: depth_range.0,
                step: step as f32,
                inv_sources: 1.0,
                keep_cost: 0,
                span: 1,
                stride: 0,
                pad: [0; 2],
            };
            let init = |label: &str, contents: &[u8], usage| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents,
                    usage,
                })
            };
            let params_buf = init(
                "select params",
                bytemuck::bytes_of(&p),
                wgpu::BufferUsages::UNIFORM,
            );
            let batches = init(
                "select batches",
                &self.batch_uniforms(depths, cap),
                wgpu::BufferUsages::UNIFORM,
            );
            let costs_buf = init(
                "select costs",
                bytemuck::cast_slice(costs),
                wgpu::BufferUsages::STORAGE,
            );
            let zeros = vec![0.0f32; pixels];
            let ref_vals = init(
                "select reference",
                bytemuck::cast_slice(&zeros),
                wgpu::BufferUsages::STORAGE,
            );
            let mk = |label: &str, size: u64, usage| {
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size,
                    usage,
                    mapped_at_creation: false,
                })
            };
            let state = mk("select state", n * 24, wgpu::BufferUsages::STORAGE);
            let out = mk(
                "select out",
                n * 8,
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            );
            let staging = mk(
                "select staging",
                n * 8,
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            );
            let select_bg = bind(
                device,
                &self.select_layout,
                &[
                    (0, whole(&params_buf)),
                    (1, batch_binding(&batches)),
                    (4, whole(&state)),
                    (7, whole(&costs_buf)),
                ],
            );
            let finalize_bg = bind(
                device,
                &self.finalize_layout,
                &[
                    (0, whole(&params_buf)),
                    (2, whole(&ref_vals)),
                    (4, whole(&state)),
                    (6, whole(&out)),
                ],
            );
            let (gx, gy) = groups_1d(pixels as u32);
            for i in 0..n_batches {
                let mut enc = device.create_command_encoder(&Default::default());
                {
                    let mut pass = enc.begin_compute_pass(&Default::default());
                    pass.set_pipeline(&self.select_pipeline);
                    pass.set_bind_group(0, &select_bg, &[(i as u64 * self.uniform_align) as u32]);
                    pass.dispatch_workgroups(gx, gy, 1);
                }
                queue.submit([enc.finish()]);
            }
            let mut enc = device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(&self.finalize_pipeline);
                pass.set_bind_group(0, &finalize_bg, &[]);
                pass.dispatch_workgroups(gx, gy, 1);
            }
            enc.copy_buffer_to_buffer(&out, 0, &staging, 0, n * 8);
            queue.submit([enc.finish()]);
            let res = read_back(device, &staging, 2 * pixels)?;
            Ok((
                res.iter().step_by(2).copied().collect(),
                res.iter().skip(1).step_by(2).copied().collect(),
            ))
        })
    }

    /// Test hook: runs `entry` ("project_points" or "warp_points") of `warp.wgsl` for `cam` over
    /// `points` with a uniform whose `span`, `lo` and `step` are given; returns its output.
    #[cfg(test)]
    pub(crate) fn test_points(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        entry: &str,
        cam: &Camera<f64>,
        points: &[[f32; 4]],
        span_lo_step: (u32, f32, f32),
    ) -> Result<Vec<[f32; 4]>, SweepError> {
        let (pipeline, n_out) = match entry {
            "project_points" => (&self.project_pipeline, points.len()),
            _ => (&self.warp_points_pipeline, points.len() / 2),
        };
        scoped(device, || {
            let init = |contents: &[u8], usage| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: None,
                    contents,
                    usage,
                })
            };
            let p = ParamsU {
                width: 1,
                warp_rows: 1,
                band_rows: 1,
                halo_top: 0,
                n_sources: 1,
                depths: 2,
                n_warp: 1,
                n_out: 1,
                lo: span_lo_step.1,
                step: span_lo_step.2,
                inv_sources: 1.0,
                keep_cost: 0,
                span: span_lo_step.0,
                stride: 0,
                pad: [0; 2],
            };
            let params_buf = init(bytemuck::bytes_of(&p), wgpu::BufferUsages::UNIFORM);
            let cam_buf = init(
                bytemuck::cast_slice(&[SrcCamU::new(cam, 0)]),
                wgpu::BufferUsages::STORAGE,
            );
            let pts = init(bytemuck::cast_slice(points), wgpu::BufferUsages::STORAGE);
            let size = (n_out * 16) as u64;
            let out = device.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                size,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            let staging = device.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let bg = bind(
                device,
                &self.test_layout,
                &[
                    (0, whole(&params_buf)),
                    (3, whole(&cam_buf)),
                    (7, whole(&pts)),
                    (8, whole(&out)),
                ],
            );
            let mut enc = device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups((n_out as u32).div_ceil(WG1), 1, 1);
            }
            enc.copy_buffer_to_buffer(&out, 0, &staging, 0, size);
            queue.submit([enc.finish()]);
            let v = read_back(device, &staging, n_out * 4)?;
            Ok(v.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aquamvs_camera::Rig;

    /// The unrolled NCC shader validates with naga for every window size.
    #[test]
    fn generated_ncc_shaders_validate() {
        for window in (3..=SweepParams::MAX_WINDOW).step_by(2) {
            let src = ncc_source(window).unwrap();
            assert!(
                !src.contains("{ // unroll"),
                "window {window}: a loop was left rolled"
            );
            let module = naga::front::wgsl::parse_str(&src)
                .unwrap_or_else(|e| panic!("window {window}: {}", e.emit_to_string(&src)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::all(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("window {window}: {}", e.emit_to_string(&src)));
        }
    }

    /// The shader's refractive projection (f32, fixed Newton steps) agrees with the f64 camera
    /// model to < 1e-3 px, from the pinhole guess (cold) and from a neighbouring hypothesis's
    /// crossing (warm).
    #[test]
    fn shader_projection_matches_f64_camera() {
        let Some(ctx) = aquamvs_gpu::GpuContext::for_tests(&Default::default())
            .expect("no GPU adapter (CI=true: GPU tests must not be skipped)")
        else {
            return;
        };
        let sweep = GpuSweep::new(&ctx.device).unwrap();
        let rig = Rig::reference(640, 480).unwrap();
        let reference = &rig.cameras[0];
        for &src in &[1usize, 6, 12] {
            let cam = &rig.cameras[src];
            let mut pts = Vec::new();
            let mut want = Vec::new();
            for v in (0..480).step_by(37) {
                for u in (0..640).step_by(41) {
                    let ray = reference.cast_ray(u as f64, v as f64).unwrap();
                    for &d in &[0.12, 0.2, 0.26, 0.33, 0.5] {
                        let p = ray.at(d);
                        let Some(exact) = cam.project(&p) else {
                            continue;
                        };
                        // Warm start: the crossing of the hypothesis 3 mm shallower.
                        let warm = cam.project(&ray.at(d - 0.003)).unwrap().crossing_r;
                        for guess in [-1.0, warm as f32] {
                            pts.push([p.x as f32, p.y as f32, p.z as f32, guess]);
                            want.push(exact.pixel);
                        }
                    }
                }
            }
            let got = sweep
                .test_points(
                    &ctx.device,
                    &ctx.queue,
                    "project_points",
                    cam,
                    &pts,
                    (1, 0.0, 0.0),
                )
                .unwrap();
            let mut worst = 0.0f64;
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g[3], 1.0);
                let e = (g[0] as f64 - w.x).hypot(g[1] as f64 - w.y);
                worst = worst.max(e);
            }
            eprintln!(
                "source {src}: worst projection error {worst:.2e} px over {} points",
                pts.len()
            );
            assert!(worst < 1e-3, "source {src}: {worst} px");
        }
    }

    /// The warp's segment interpolation (anchors + quadratic) agrees with exact `f64`
    /// projections to < 1e-3 px at every hypothesis, for the span `warp_span` picks.
    #[test]
    fn interpolated_warp_matches_f64_camera() {
        let Some(ctx) = aquamvs_gpu::GpuContext::for_tests(&Default::default())
            .expect("no GPU adapter (CI=true: GPU tests must not be skipped)")
        else {
            return;
        };
        let sweep = GpuSweep::new(&ctx.device).unwrap();
        let rig = Rig::reference(640, 480).unwrap();
        let reference = &rig.cameras[0];
        let range = crate::depth_range_from_z(reference, 1.168, 1.188, 0.03).unwrap();
        for depths in [32u32, 64, 128] {
            let step = (range.1 as f64 - range.0 as f64) / (depths as f64 - 1.0);
            let srcs: Vec<_> = rig.sources(0, 5).iter().map(|&i| &rig.cameras[i]).collect();
            let span = crate::warp_span(reference, &srcs, depths, range);
            assert!(span >= 4, "{depths} depths: span {span}");
            for cam in &srcs {
                let mut pts = Vec::new();
                let mut want = Vec::new();
                for v in (0..480).step_by(53) {
                    for u in (0..640).step_by(71) {
                        let ray = reference.cast_ray(u as f64, v as f64).unwrap();
                        for k in 0..depths {
                            let d = range.0 as f64 + k as f64 * step;
                            let Some(exact) = cam.project(&ray.at(d)) else {
                                continue;
                            };
                            let (o, dir) = (ray.origin, ray.direction);
                            pts.push([o.x as f32, o.y as f32, o.z as f32, k as f32]);
                            pts.push([dir.x as f32, dir.y as f32, dir.z as f32, 0.0]);
                            want.push(exact.pixel);
                        }
                    }
                }
                let got = sweep
                    .test_points(
                        &ctx.device,
                        &ctx.queue,
                        "warp_points",
                        cam,
                        &pts,
                        (span, range.0, step as f32),
                    )
                    .unwrap();
                let mut worst = 0.0f64;
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g[3], 1.0);
                    worst = worst.max((g[0] as f64 - w.x).hypot(g[1] as f64 - w.y));
                }
                eprintln!(
                    "{depths} depths, span {span}, {}: worst {worst:.2e} px",
                    cam.name
                );
                assert!(worst < 1e-3, "{}: {worst} px", cam.name);
            }
        }
    }
}
