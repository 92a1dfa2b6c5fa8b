//! The wgpu sweep: pipelines ([`GpuSweep`]), buffers, row bands and batches.

use std::collections::HashMap;
use std::sync::Mutex;

use aquamvs_camera::{Camera, Ray};
use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use crate::rays::reference_rays;
use crate::select::CostVolume;
use crate::{CENTRE, INVALID, SweepError, SweepOutput, SweepParams, View, check_inputs};

/// Output tile of the cost shader (must match `TX`, `TY` in `cost.wgsl`).
const TILE: u32 = 16;
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
///
/// **One dispatch handles a batch of depth hypotheses** ([`SweepParams::batch`]): the warp shader
/// loads each reference ray once and walks the batch's hypotheses, warm-starting each surface
/// crossing from the previous one; the cost shader loads the reference tile and the
/// winner-take-all state once per batch. Each batch is one command buffer; nothing is read back
/// until the end of a row band.
#[derive(Debug)]
pub struct GpuSweep {
    options: GpuSweepOptions,
    uniform_align: u64,
    warp_layout: wgpu::BindGroupLayout,
    cost_layout: wgpu::BindGroupLayout,
    select_layout: wgpu::BindGroupLayout,
    finalize_layout: wgpu::BindGroupLayout,
    cost_module: wgpu::ShaderModule,
    cost_pipeline_layout: wgpu::PipelineLayout,
    warp_pipeline: wgpu::ComputePipeline,
    select_pipeline: wgpu::ComputePipeline,
    finalize_pipeline: wgpu::ComputePipeline,
    /// Cost pipelines by window size (the window sizes workgroup arrays).
    cost_pipelines: Mutex<HashMap<u32, wgpu::ComputePipeline>>,
    #[cfg(test)]
    project_pipeline: wgpu::ComputePipeline,
    #[cfg(test)]
    project_layout: wgpu::BindGroupLayout,
}

struct Buffers {
    params: wgpu::Buffer,
    batches: wgpu::Buffer,
    rays: wgpu::Buffer,
    ref_vals: wgpu::Buffer,
    state: wgpu::Buffer,
    out: wgpu::Buffer,
    out_staging: wgpu::Buffer,
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
                    (6, ReadWrite),
                ],
            );
            let cost_layout = layout(
                device,
                "sweep cost",
                &[
                    (0, Uniform),
                    (1, UniformDynamic),
                    (2, Read),
                    (3, Read),
                    (4, ReadWrite),
                    (5, ReadWrite),
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
            let select_pipeline = pipeline(&pl(&select_layout), &cost_module, "select_costs");
            let finalize_pipeline = pipeline(&pl(&finalize_layout), &cost_module, "finalize");
            #[cfg(test)]
            let project_layout = layout(
                device,
                "sweep project test",
                &[(3, Read), (7, Read), (8, ReadWrite)],
            );
            #[cfg(test)]
            let project_pipeline = pipeline(&pl(&project_layout), &warp_module, "project_points");
            Ok(Self {
                options,
                uniform_align: device.limits().min_uniform_buffer_offset_alignment.max(16) as u64,
                cost_pipeline_layout: pl(&cost_layout),
                warp_layout,
                cost_layout,
                select_layout,
                finalize_layout,
                cost_module,
                warp_pipeline,
                select_pipeline,
                finalize_pipeline,
                cost_pipelines: Mutex::new(HashMap::new()),
                #[cfg(test)]
                project_pipeline,
                #[cfg(test)]
                project_layout,
            })
        })?;
        // Compile the default window's cost shader now, so shader problems surface here.
        sweep.cost_pipeline(device, SweepParams::default().window)?;
        Ok(sweep)
    }

    /// The options this sweep was built with.
    pub fn options(&self) -> GpuSweepOptions {
        self.options
    }

    fn cost_pipeline(
        &self,
        device: &wgpu::Device,
        window: u32,
    ) -> Result<wgpu::ComputePipeline, SweepError> {
        let mut cache = self
            .cost_pipelines
            .lock()
            .map_err(|_| SweepError::Gpu("pipeline cache poisoned".into()))?;
        if let Some(p) = cache.get(&window) {
            return Ok(p.clone());
        }
        let (ry, rx) = (TILE + window - 1, TILE + window - 1);
        let constants = [
            ("WIN", window as f64),
            ("SH_H", (6 * ry * TILE) as f64),
            ("SH_R", (ry * rx) as f64),
        ];
        let shared = (6 * ry * TILE + ry * rx) as u64 * 4;
        let limit = device.limits().max_compute_workgroup_storage_size as u64;
        if shared > limit {
            return Err(SweepError::TooLarge(format!(
                "window {window} needs {shared} bytes of workgroup memory, the device allows {limit}"
            )));
        }
        let p = scoped(device, || {
            Ok(
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some("cost"),
                    layout: Some(&self.cost_pipeline_layout),
                    module: &self.cost_module,
                    entry_point: Some("cost"),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: &constants,
                        // Every workgroup array element is written before it is read.
                        zero_initialize_workgroup_memory: false,
                    },
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
        let cost_pipeline = self.cost_pipeline(device, params.window)?;
        scoped(device, || {
            self.run_inner(
                device,
                queue,
                &reference,
                sources,
                params,
                &rays,
                &cost_pipeline,
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
        cost_pipeline: &wgpu::ComputePipeline,
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
        let src_total: u64 = sources.iter().map(|s| s.image.len() as u64 * 4).sum();
        if src_total > dev_binding {
            return Err(SweepError::TooLarge(format!(
                "the source images take {src_total} bytes; one storage binding holds {dev_binding}"
            )));
        }
        let mut src_data = Vec::with_capacity((src_total / 4) as usize);
        let mut cams = Vec::with_capacity(sources.len());
        for s in sources {
            cams.push(SrcCamU::new(s.camera, src_data.len() as u32));
            src_data.extend_from_slice(s.image);
        }

        // Row bands: every band buffer must fit in one binding.
        let budget = self.max_binding(device);
        let warp_row_bytes = (cap * n_src * w * 4).max(w * 32);
        let out_row_bytes = if params.keep_cost_volume {
            (depths as u64 * w * 4).max(w * 24)
        } else {
            w * 24
        };
        let rows_by_warp = (budget / warp_row_bytes).saturating_sub(2 * half);
        let rows_by_out = budget / out_row_bytes;
        let band_rows = rows_by_warp.min(rows_by_out).min(h);
        if band_rows == 0 {
            return Err(SweepError::TooLarge(format!(
                "one {w}-pixel row with its {}-row halo needs {} bytes per binding at batch {cap} \
                 with {n_src} sources, more than {budget}; lower the batch",
                2 * half,
                warp_row_bytes * (1 + 2 * half)
            )));
        }
        let max_warp_rows = (band_rows + 2 * half).min(h);
        let n_warp_max = max_warp_rows * w;
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
        let mut batch_bytes = vec![0u8; (n_batches as u64 * self.uniform_align) as usize];
        for i in 0..n_batches {
            let k0 = i * cap as u32;
            let b = BatchU {
                k0,
                nb: (cap as u32).min(depths - k0),
                pad: [0; 2],
            };
            let at = (i as u64 * self.uniform_align) as usize;
            batch_bytes[at..at + 16].copy_from_slice(bytemuck::bytes_of(&b));
        }
        let b = Buffers {
            params: buf(
                "sweep params",
                std::mem::size_of::<ParamsU>() as u64,
                wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            ),
            batches: device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("sweep batches"),
                contents: &batch_bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            }),
            rays: buf("sweep rays", n_warp_max * 32, storage),
            ref_vals: buf("sweep reference", n_warp_max * 4, storage),
            state: buf("sweep state", n_out_max * 24, wgpu::BufferUsages::STORAGE),
            out: buf(
                "sweep out",
                n_out_max * 8,
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            ),
            out_staging: buf(
                "sweep out staging",
                n_out_max * 8,
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ),
        };
        let warped = buf(
            "sweep warped",
            cap * n_src * n_warp_max * 4,
            wgpu::BufferUsages::STORAGE,
        );
        let crossing = buf(
            "sweep crossings",
            n_src * n_warp_max * 4,
            wgpu::BufferUsages::STORAGE,
        );
        let cost_size = if params.keep_cost_volume {
            depths as u64 * n_out_max * 4
        } else {
            16
        };
        let cost_buf = buf(
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
                (0, whole(&b.params)),
                (1, batch_binding(&b.batches)),
                (2, whole(&b.rays)),
                (3, whole(&cam_buf)),
                (4, whole(&src_buf)),
                (5, whole(&warped)),
                (6, whole(&crossing)),
            ],
        );
        let cost_bg = bind(
            device,
            &self.cost_layout,
            &[
                (0, whole(&b.params)),
                (1, batch_binding(&b.batches)),
                (2, whole(&b.ref_vals)),
                (3, whole(&warped)),
                (4, whole(&b.state)),
                (5, whole(&cost_buf)),
            ],
        );
        let finalize_bg = bind(
            device,
            &self.finalize_layout,
            &[
                (0, whole(&b.params)),
                (2, whole(&b.ref_vals)),
                (4, whole(&b.state)),
                (6, whole(&b.out)),
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
            queue.write_buffer(&b.rays, 0, bytemuck::cast_slice(&ray_data));
            queue.write_buffer(&b.ref_vals, 0, bytemuck::cast_slice(&ref_data));
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
            };
            queue.write_buffer(&b.params, 0, bytemuck::bytes_of(&p));
            let (wgx, wgy) = groups_1d(n_warp as u32);
            let tiles = (width.div_ceil(TILE), ((y1 - y0) as u32).div_ceil(TILE));
            for i in 0..n_batches {
                let offset = (i as u64 * self.uniform_align) as u32;
                let mut enc = device.create_command_encoder(&Default::default());
                {
                    let mut pass = enc.begin_compute_pass(&Default::default());
                    pass.set_pipeline(&self.warp_pipeline);
                    pass.set_bind_group(0, &warp_bg, &[offset]);
                    pass.dispatch_workgroups(wgx, wgy, 1);
                    pass.set_pipeline(cost_pipeline);
                    pass.set_bind_group(0, &cost_bg, &[offset]);
                    pass.dispatch_workgroups(tiles.0, tiles.1, 1);
                }
                queue.submit([enc.finish()]);
            }
            let mut enc = device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(&self.finalize_pipeline);
                pass.set_bind_group(0, &finalize_bg, &[]);
                let (gx, gy) = groups_1d(n_out as u32);
                pass.dispatch_workgroups(gx, gy, 1);
            }
            enc.copy_buffer_to_buffer(&b.out, 0, &b.out_staging, 0, n_out * 8);
            if let Some(cs) = &cost_staging {
                enc.copy_buffer_to_buffer(&cost_buf, 0, cs, 0, depths as u64 * n_out * 4);
            }
            queue.submit([enc.finish()]);
            let res = read_back(device, &b.out_staging, 2 * n_out as usize)?;
            let at = (y0 * w) as usize;
            for i in 0..n_out as usize {
                depth_out[at + i] = res[2 * i];
                conf_out[at + i] = res[2 * i + 1];
            }
            if let (Some(cs), Some(cv)) = (&cost_staging, cost_volume.as_mut()) {
                let c = read_back(device, cs, depths as usize * n_out as usize)?;
                for k in 0..depths as usize {
                    let dst = k * n_pix + at;
                    cv[dst..dst + n_out as usize]
                        .copy_from_slice(&c[k * n_out as usize..(k + 1) * n_out as usize]);
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

    /// Winner-take-all, refinement and confidence on the GPU over a given cost volume,
    /// `batch` hypotheses per dispatch — the same
    /// shader functions [`Self::run`] uses. Returns (depth, confidence) per pixel.
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
        if costs.len() as u64 * 4 > limit || pixels as u64 * 24 > limit {
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
            let mut batch_bytes = vec![0u8; (n_batches as u64 * self.uniform_align) as usize];
            for i in 0..n_batches {
                let k0 = i * cap;
                let b = BatchU {
                    k0,
                    nb: cap.min(depths - k0),
                    pad: [0; 2],
                };
                let at = (i as u64 * self.uniform_align) as usize;
                batch_bytes[at..at + 16].copy_from_slice(bytemuck::bytes_of(&b));
            }
            let batches = init("select batches", &batch_bytes, wgpu::BufferUsages::UNIFORM);
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

    /// Test hook: projects `points` (xyz, warm-start crossing or negative) into `cam` with the
    /// shader's `project` function; returns (u, v, crossing_r, ok).
    #[cfg(test)]
    pub(crate) fn project_points(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        cam: &Camera<f64>,
        points: &[[f32; 4]],
    ) -> Result<Vec<[f32; 4]>, SweepError> {
        scoped(device, || {
            let cams = [SrcCamU::new(cam, 0)];
            let init = |contents: &[u8], usage| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: None,
                    contents,
                    usage,
                })
            };
            let cam_buf = init(bytemuck::cast_slice(&cams), wgpu::BufferUsages::STORAGE);
            let pts = init(bytemuck::cast_slice(points), wgpu::BufferUsages::STORAGE);
            let size = (points.len() * 16) as u64;
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
                &self.project_layout,
                &[
                    (3, cam_buf.as_entire_binding()),
                    (7, pts.as_entire_binding()),
                    (8, out.as_entire_binding()),
                ],
            );
            let mut enc = device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(&self.project_pipeline);
                pass.set_bind_group(0, &bg, &[]);
                pass.dispatch_workgroups((points.len() as u32).div_ceil(WG1), 1, 1);
            }
            enc.copy_buffer_to_buffer(&out, 0, &staging, 0, size);
            queue.submit([enc.finish()]);
            let v = read_back(device, &staging, points.len() * 4)?;
            Ok(v.chunks(4).map(|c| [c[0], c[1], c[2], c[3]]).collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aquamvs_camera::Rig;

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
                .project_points(&ctx.device, &ctx.queue, cam, &pts)
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
}
