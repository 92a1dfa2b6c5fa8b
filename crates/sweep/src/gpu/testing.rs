//! Test-only kernels: the shaders' test entry points (`project_points`, `warp_points` of
//! `warp.wgsl`) and `select_costs` of `cost.wgsl`, the winner-take-all over a given cost volume
//! with the same functions the sweep uses.

use aquamvs_camera::Camera;
use aquamvs_gpu::{empty_buffer, init_buffer, read_back, staging_buffer, storage_buffer};
use wgpu::BufferUsages as U;

use super::abi::{ParamsU, SrcCamU, WG1, batch_uniforms};
use super::pipelines::{
    COST_WGSL, Slot, WARP_WGSL, batch_binding, bind, compute_pipeline, layout, module,
    pipeline_layout, whole,
};
use super::plan::{Band, Plan, groups_1d};
use super::run::gpu_error;
use super::{GpuSweep, scoped};
use crate::SweepError;
use crate::select::CostVolume;

/// The test pipelines, built beside a [`GpuSweep`].
#[derive(Debug)]
pub(super) struct TestKernels {
    points_layout: wgpu::BindGroupLayout,
    project_points: wgpu::ComputePipeline,
    warp_points: wgpu::ComputePipeline,
    select_layout: wgpu::BindGroupLayout,
    select_costs: wgpu::ComputePipeline,
}

/// A one-row plan of `width` pixels, one source and `depths` hypotheses, in one band.
fn one_row(width: u32, depths: u32, cap: u32) -> (Plan, Band) {
    let plan = Plan {
        width,
        height: 1,
        n_sources: 1,
        depths,
        half: 0,
        cap,
        band_rows: 1,
        keep_cost: false,
    };
    let band = Band {
        y0: 0,
        y1: 1,
        wy0: 0,
        wy1: 1,
    };
    (plan, band)
}

impl TestKernels {
    pub(super) fn new(device: &wgpu::Device) -> Result<Self, SweepError> {
        use Slot::*;
        scoped(device, || {
            let warp = module(device, "warp.wgsl", &WARP_WGSL);
            let cost = module(device, "cost.wgsl", COST_WGSL);
            let points_layout = layout(
                device,
                "sweep test points",
                &[(0, Uniform), (3, Read), (7, Read), (8, ReadWrite)],
            );
            let select_layout = layout(
                device,
                "sweep test select",
                &[(0, Uniform), (1, UniformDynamic), (4, ReadWrite), (7, Read)],
            );
            let points = pipeline_layout(device, &points_layout);
            Ok(Self {
                project_points: compute_pipeline(device, &points, &warp, "project_points"),
                warp_points: compute_pipeline(device, &points, &warp, "warp_points"),
                select_costs: compute_pipeline(
                    device,
                    &pipeline_layout(device, &select_layout),
                    &cost,
                    "select_costs",
                ),
                points_layout,
                select_layout,
            })
        })
    }

    /// Runs `entry` ("project_points" or "warp_points") of `warp.wgsl` for `cam` over
    /// `points` with a uniform whose `span`, `lo` and `step` are given; returns its output.
    pub(super) fn points(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        entry: &str,
        cam: &Camera<f64>,
        points: &[[f32; 4]],
        (span, lo, step): (u32, f32, f32),
    ) -> Result<Vec<[f32; 4]>, SweepError> {
        let (pipeline, n_out) = match entry {
            "project_points" => (&self.project_points, points.len()),
            _ => (&self.warp_points, points.len() / 2),
        };
        scoped(device, || {
            let (plan, band) = one_row(1, 2, 1);
            let params = ParamsU::new(&plan, &band, lo, step, span);
            let params_buf = init_buffer(device, "test params", &[params], U::UNIFORM);
            let cam_buf = storage_buffer(device, "test camera", &[SrcCamU::new(cam, 0)]);
            let pts = storage_buffer(device, "test points", points);
            let size = (n_out * 16) as u64;
            let out = empty_buffer(device, "test out", size, U::STORAGE | U::COPY_SRC);
            let staging = staging_buffer(device, "test staging", size);
            let bg = bind(
                device,
                &self.points_layout,
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
            read_back(device, &staging, n_out).map_err(gpu_error)
        })
    }

    /// Winner-take-all, refinement and confidence on the GPU over a given cost volume,
    /// `batch` hypotheses per dispatch — the `finalize` pipeline of `sweep` and the same
    /// update as its `wta`. Returns (depth, confidence) per pixel.
    pub(super) fn select_from_costs(
        &self,
        sweep: &GpuSweep,
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
        scoped(device, || {
            let n = pixels as u64;
            let (plan, band) = one_row(pixels as u32, depths, batch.min(depths));
            let step = (depth_range.1 as f64 - depth_range.0 as f64) / (depths as f64 - 1.0);
            let params = ParamsU::new(&plan, &band, depth_range.0, step as f32, 1);
            let params_buf = init_buffer(device, "select params", &[params], U::UNIFORM);
            let batches = init_buffer(
                device,
                "select batches",
                &batch_uniforms(depths, plan.cap, sweep.uniform_align),
                U::UNIFORM,
            );
            let costs_buf = storage_buffer(device, "select costs", costs);
            let ref_vals = storage_buffer(device, "select reference", &vec![0.0f32; pixels]);
            let state = empty_buffer(device, "select state", plan.state_bytes(), U::STORAGE);
            let out = empty_buffer(device, "select out", n * 8, U::STORAGE | U::COPY_SRC);
            let staging = staging_buffer(device, "select staging", n * 8);
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
                &sweep.pipelines.finalize_layout,
                &[
                    (0, whole(&params_buf)),
                    (2, whole(&ref_vals)),
                    (4, whole(&state)),
                    (6, whole(&out)),
                ],
            );
            let (gx, gy) = groups_1d(pixels as u32);
            for i in 0..plan.n_batches() {
                let mut enc = device.create_command_encoder(&Default::default());
                {
                    let mut pass = enc.begin_compute_pass(&Default::default());
                    pass.set_pipeline(&self.select_costs);
                    let offset = (i as u64 * sweep.uniform_align) as u32;
                    pass.set_bind_group(0, &select_bg, &[offset]);
                    pass.dispatch_workgroups(gx, gy, 1);
                }
                queue.submit([enc.finish()]);
            }
            let mut enc = device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(&sweep.pipelines.finalize);
                pass.set_bind_group(0, &finalize_bg, &[]);
                pass.dispatch_workgroups(gx, gy, 1);
            }
            enc.copy_buffer_to_buffer(&out, 0, &staging, 0, n * 8);
            queue.submit([enc.finish()]);
            let res: Vec<[f32; 2]> = read_back(device, &staging, pixels).map_err(gpu_error)?;
            Ok(res.iter().map(|r| (r[0], r[1])).unzip())
        })
    }
}
