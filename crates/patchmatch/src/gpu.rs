//! The wgpu backend: `patchmatch.wgsl` (after the camera crate's lens models), one dispatch for
//! the initial planes and one per checkerboard colour and round, all in one submission.

use std::time::Instant;

use aquamvs_gpu::{empty_buffer, read_back, staging_buffer, storage_buffer, uniform_buffer};
use aquamvs_sweep::{SrcCamU, View};
use bytemuck::{Pod, Zeroable};
use nalgebra::Vector3;

use crate::curved;
use crate::problem::{
    CURVED_POLISH_STEPS, MAX_COST, POLISH_STEPS, Problem, curved_polish_start, fill_between,
    lattice_dims, on_lattice, polish_start, refine_scale,
};
use crate::{PatchMatchError, PatchMatchOutput, PatchMatchSettings, PatchMatchTimings};

/// The shader as compiled: the lens models and refractive projection, then `patchmatch.wgsl`.
pub(crate) fn source() -> String {
    [
        aquamvs_camera::LENS_WGSL,
        aquamvs_camera::REFRACT_WGSL,
        include_str!("patchmatch.wgsl"),
    ]
    .join("\n")
}

/// Largest number of sources (`MAX_SRC` in the shader).
pub const MAX_SOURCES: usize = 8;
/// Workgroup size of both entry points.
const GROUP: u32 = 64;

/// `Params` of the shader.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub(crate) struct ParamsU {
    width: u32,
    height: u32,
    n_src: u32,
    half: u32,
    stride: u32,
    top_k: u32,
    seed: u32,
    colour: u32,
    round: u32,
    step: u32,
    has_init: u32,
    lattice: u32,
    lo: f32,
    hi: f32,
    sigma_color: f32,
    scale: f32,
    spatial: f32,
    curved: u32,
    checker: u32,
    flags: u32,
}

/// PatchMatch on a wgpu device: the two compute pipelines, built once.
#[derive(Debug)]
pub struct GpuPatchMatch {
    init: wgpu::ComputePipeline,
    step: wgpu::ComputePipeline,
    polish: wgpu::ComputePipeline,
}

impl GpuPatchMatch {
    /// Compiles the shader and builds its pipelines.
    pub fn new(device: &wgpu::Device) -> Result<Self, PatchMatchError> {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("patchmatch.wgsl"),
            source: wgpu::ShaderSource::Wgsl(source().into()),
        });
        let pipeline = |entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let (init, step, polish) = (pipeline("init"), pipeline("step"), pipeline("polish"));
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(PatchMatchError::Gpu(format!("patchmatch pipelines: {e}")));
        }
        Ok(Self { init, step, polish })
    }

    /// PatchMatch of `reference` against `sources` (at most [`MAX_SOURCES`]) over ray depths
    /// `range`, from `init` (see [`crate::patchmatch_cpu`], whose algorithm this is).
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        reference: View,
        sources: &[View],
        settings: &PatchMatchSettings,
        range: (f32, f32),
        init: Option<&[f32]>,
    ) -> Result<PatchMatchOutput, PatchMatchError> {
        crate::check_inputs(&reference, sources, settings, range, init)?;
        if sources.len() > MAX_SOURCES {
            return Err(PatchMatchError::Setting {
                name: "sources",
                value: sources.len() as f64,
                why: "at most 8 on the GPU",
            });
        }
        let t0 = Instant::now();
        let pb = Problem::new(&reference, sources, settings, range);
        let n = pb.w * pb.h;
        let groups_all = (n as u32).div_ceil(GROUP);
        let (lw, lh) = lattice_dims(pb.w, pb.h, settings.lattice);
        let groups_init = ((lw * lh) as u32).div_ceil(GROUP);
        let groups_step = ((lw as u32).div_ceil(2) * lh as u32).div_ceil(GROUP);
        if groups_all > 65535 {
            return Err(PatchMatchError::Setting {
                name: "reference pixels",
                value: n as f64,
                why: "at most 65535 × 64 on the GPU (tiling is not written yet)",
            });
        }
        let mut rays = vec![[0.0f32; 4]; 2 * n];
        for (i, r) in pb.rays.iter().enumerate() {
            if let Some(r) = r {
                rays[2 * i] = [r.o.x as f32, r.o.y as f32, r.o.z as f32, 1.0];
                rays[2 * i + 1] = [r.v.x as f32, r.v.y as f32, r.v.z as f32, 0.0];
            }
        }
        let mut cams = Vec::with_capacity(sources.len());
        let mut images: Vec<u32> = Vec::new();
        for s in sources {
            cams.push(SrcCamU::new(s.camera, images.len() as u32));
            images.extend(pack_pairs(s.image, s.camera.width as usize));
        }
        let init_map: Vec<f32> = init.map_or_else(|| vec![0.0], <[f32]>::to_vec);
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let rays_b = storage_buffer(device, "pm rays", &rays);
        let cams_b = storage_buffer(device, "pm cams", &cams);
        let src_b = storage_buffer(device, "pm sources", &images);
        let ref_b = storage_buffer(device, "pm reference", reference.image);
        let init_b = storage_buffer(device, "pm init", &init_map);
        let rw = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST;
        let planes_b = empty_buffer(device, "pm planes", (16 * n) as u64, rw);
        let costs_b = empty_buffer(device, "pm costs", (4 * n) as u64, rw);
        let planes_s = staging_buffer(device, "pm planes read-back", (16 * n) as u64);
        let costs_s = staging_buffer(device, "pm costs read-back", (4 * n) as u64);
        let base = ParamsU {
            width: pb.w as u32,
            height: pb.h as u32,
            n_src: sources.len() as u32,
            half: settings.window / 2,
            stride: settings.stride,
            top_k: settings.top_k,
            seed: settings.seed,
            colour: 0,
            round: 0,
            step: 0,
            has_init: init.is_some() as u32,
            lattice: settings.lattice,
            lo: range.0,
            hi: range.1,
            sigma_color: settings.sigma_color,
            scale: 0.0,
            spatial: 0.5 / (settings.sigma_space * settings.sigma_space),
            curved: 0,
            checker: 0,
            flags: 0,
        };
        // `step` does not read the initial depths (binding 5): its automatic layout lacks it.
        let bind = |pipeline: &wgpu::ComputePipeline, params: &ParamsU, curv_b: &wgpu::Buffer| {
            let with_init = std::ptr::eq(pipeline, &self.init);
            let with_curv = std::ptr::eq(pipeline, &self.polish);
            let u = uniform_buffer(device, "pm params", params);
            let layout = pipeline.get_bind_group_layout(0);
            let entries: Vec<wgpu::BindGroupEntry> = [
                &u, &rays_b, &cams_b, &src_b, &ref_b, &init_b, &planes_b, &costs_b, curv_b,
            ]
            .iter()
            .enumerate()
            .filter(|(k, _)| (with_init || *k != 5) && (with_curv || *k != 8))
            .map(|(k, b)| wgpu::BindGroupEntry {
                binding: k as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
            device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("pm bind group"),
                layout: &layout,
                entries: &entries,
            })
        };
        let no_curv = storage_buffer(device, "pm no curvature", &[[0.0f32; 4]]);
        let mut passes = vec![(&self.init, bind(&self.init, &base, &no_curv), groups_init)];
        for round in 0..settings.iterations {
            for colour in 0..2 {
                let p = ParamsU {
                    colour,
                    round,
                    step: 1 + 2 * round + colour,
                    scale: refine_scale(round) as f32,
                    ..base
                };
                passes.push((&self.step, bind(&self.step, &p, &no_curv), groups_step));
            }
        }
        let curved = settings.curved_window > 0;
        // cpu.rs `polish`: the rounds' cost is over every source when top_k covers them, and
        // the curved polish computes its own.
        let known = settings.top_k as usize >= sources.len();
        let mut polish = ParamsU {
            scale: polish_start(settings, pb.range) as f32,
            step: POLISH_STEPS,
            flags: u32::from(known) | (2 * u32::from(curved)),
            ..base
        };
        passes.push((
            &self.polish,
            bind(&self.polish, &polish, &no_curv),
            groups_init,
        ));
        let record = |passes: &[(&wgpu::ComputePipeline, wgpu::BindGroup, u32)]| {
            let mut enc = device.create_command_encoder(&Default::default());
            for (pipeline, group, groups) in passes {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, group, &[]);
                pass.dispatch_workgroups(*groups, 1, 1);
            }
            enc.copy_buffer_to_buffer(&planes_b, 0, &planes_s, 0, (16 * n) as u64);
            enc.copy_buffer_to_buffer(&costs_b, 0, &costs_s, 0, (4 * n) as u64);
            enc.finish()
        };
        let commands = record(&passes);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(PatchMatchError::Gpu(format!("patchmatch set-up: {e}")));
        }
        let setup_s = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        queue.submit([commands]);
        let gpu_err = |e| PatchMatchError::Gpu(format!("patchmatch read-back: {e}"));
        let mut planes: Vec<[f32; 4]> = read_back(device, &planes_s, n).map_err(gpu_err)?;
        if curved {
            // The curved stage on the host (`curved::fit`), then the polish on the GPU.
            let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
            // Only the lattice's planes were computed; the pixels between get theirs from it.
            let s = settings.lattice;
            let mut state: Vec<(f64, Vector3<f64>)> = planes
                .iter()
                .enumerate()
                .map(|(i, p)| match on_lattice(i % pb.w, i / pb.w, s) {
                    true => (
                        f64::from(p[0]),
                        Vector3::new(p[1], p[2], p[3]).cast::<f64>(),
                    ),
                    false => (f64::NAN, Vector3::zeros()),
                })
                .collect();
            fill_between(&pb, &mut state, s);
            let fits = curved::fit(&pb, &state, settings.curvature_radius, s);
            let mut curv = vec![[0.0f32; 4]; n];
            for (i, (f, p)) in fits.iter().zip(&state).enumerate() {
                let (d, n) = f.map_or(*p, |f| (f.d, f.n));
                planes[i] = [d as f32, n.x as f32, n.y as f32, n.z as f32];
                if let Some(f) = f {
                    let k = f.curv.k;
                    curv[i] = [k[0] as f32, k[1] as f32, k[2] as f32, 0.0];
                }
            }
            queue.write_buffer(&planes_b, 0, bytemuck::cast_slice(&planes));
            // Every pixel's cost is the curved polish's (MAX_COST where it has no plane).
            let max_cost = vec![MAX_COST as f32; n];
            queue.write_buffer(&costs_b, 0, bytemuck::cast_slice(&max_cost));
            let curv_b = storage_buffer(device, "pm curvature", &curv);
            polish.half = settings.curved_window / 2;
            polish.stride = settings.curved_stride;
            polish.curved = 1;
            polish.scale = curved_polish_start(settings, pb.range) as f32;
            polish.step = CURVED_POLISH_STEPS;
            polish.checker = u32::from(settings.curved_checker);
            polish.sigma_color = settings.curved_sigma_color();
            polish.lattice = 1;
            polish.flags = 0;
            let pass = (
                &self.polish,
                bind(&self.polish, &polish, &curv_b),
                groups_all,
            );
            let commands = record(&[pass]);
            if let Some(e) = pollster::block_on(scope.pop()) {
                return Err(PatchMatchError::Gpu(format!("patchmatch polish: {e}")));
            }
            queue.submit([commands]);
            planes = read_back(device, &planes_s, n).map_err(gpu_err)?;
        }
        let mut run_s = t1.elapsed().as_secs_f64();
        let t2 = Instant::now();
        let cost: Vec<f32> = read_back(device, &costs_s, n).map_err(gpu_err)?;
        let mut out = PatchMatchOutput {
            width: pb.w as u32,
            height: pb.h as u32,
            depth: vec![f32::NAN; n],
            normal: vec![f32::NAN; 3 * n],
            confidence: vec![0.0; n],
            cost,
            timings: PatchMatchTimings::default(),
        };
        for (i, p) in planes.iter().enumerate() {
            let c = out.cost[i];
            if p[0].is_finite() && c <= settings.max_cost {
                out.depth[i] = p[0];
                out.normal[3 * i..3 * i + 3].copy_from_slice(&p[1..]);
                out.confidence[i] = (1.0 - c).clamp(0.0, 1.0);
            }
        }
        let readback_s = t2.elapsed().as_secs_f64();
        let t3 = Instant::now();
        crate::finish(&mut out, settings, pb.range);
        run_s += t3.elapsed().as_secs_f64();
        out.timings = PatchMatchTimings {
            setup_s,
            run_s,
            readback_s,
        };
        Ok(out)
    }
}

/// A source image for `sample_pm`: per pixel the 16-bit levels of itself and its right-hand
/// neighbour (the last column repeats itself) in one `u32`, so a bilinear sample reads two
/// words instead of four (the gathers are what the rounds spend their time on). The image is
/// first stretched to its own `[min, max]`: NCC does not see an affine change of a source's
/// grey levels, and the stretch spends all 16 bits on the levels present (non-finite → min).
fn pack_pairs(image: &[f32], width: usize) -> Vec<u32> {
    let finite = image.iter().copied().filter(|v| v.is_finite());
    let lo = finite.clone().fold(f32::INFINITY, f32::min);
    let hi = finite.fold(f32::NEG_INFINITY, f32::max);
    let scale = if hi > lo { 65535.0 / (hi - lo) } else { 0.0 };
    let level = |v: f32| {
        if v.is_finite() {
            ((v - lo) * scale).round().clamp(0.0, 65535.0) as u32
        } else {
            0
        }
    };
    image
        .chunks(width.max(1))
        .flat_map(|row| {
            (0..row.len())
                .map(move |x| level(row[x]) | (level(row[(x + 1).min(row.len() - 1)]) << 16))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::pack_pairs;

    fn unpack(w: u32) -> (f64, f64) {
        (
            f64::from(w & 0xffff) / 65535.0,
            f64::from(w >> 16) / 65535.0,
        )
    }

    #[test]
    fn packed_pairs_hold_each_pixel_and_its_right_neighbour_stretched_to_16_bits() {
        // 3×2, levels 0.2..=0.7: stretched to 0..=1 by (v - 0.2) / 0.5.
        let image = [0.2, 0.45, 0.7, 0.3, f32::NAN, 0.6];
        let packed = pack_pairs(&image, 3);
        assert_eq!(packed.len(), 6);
        let level = |v: f32| (f64::from(v) - 0.2) / 0.5;
        for (i, &w) in packed.iter().enumerate() {
            let (x, row) = (i % 3, i / 3);
            let right = row * 3 + (x + 1).min(2);
            let (a, b) = unpack(w);
            let want = |v: f32| if v.is_finite() { level(v) } else { 0.0 };
            assert!((a - want(image[i])).abs() < 1e-4, "pixel {i}: {a}");
            assert!(
                (b - want(image[right])).abs() < 1e-4,
                "pixel {i} right: {b}"
            );
        }
        // A constant image has no contrast to keep: every level is 0.
        assert!(pack_pairs(&[0.5; 4], 2).iter().all(|&w| w == 0));
    }
}
