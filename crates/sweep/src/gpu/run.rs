//! Running the sweep: the buffers (reused from the previous sweep of the same shape, else
//! created from the [`Plan`]), the sources written once, then per row band the reference rays
//! and values, one command buffer per batch of hypotheses (`warp`, `ncc`, `wta`), the
//! `finalize` pass and the read-back.

use std::time::Instant;

use aquamvs_gpu::{empty_buffer, init_buffer, read_back, staging_buffer};
use wgpu::BufferUsages as U;

use super::GpuSweep;
use super::abi::{self, F, HostTables, OUT_BYTES, ParamsU, QUAD_BYTES, SEG, STRIP, SrcCamU};
use super::pipelines::{Pipelines, batch_binding, bind, whole};
use super::plan::{Band, Plan, groups_1d};
use crate::{SweepError, SweepOutput, SweepTimings, View};

/// One sweep, its inputs checked and prepared on the host.
pub(super) struct Job<'a> {
    /// The source images as texel quads, and the camera table ([`abi::fill_sources`]).
    pub(super) quads: &'a [[u32; 2]],
    pub(super) cams: &'a [SrcCamU],
    /// The reference rays and centred values, row-major ([`abi::fill_reference`]).
    pub(super) rays: &'a [[f32; 4]],
    pub(super) values: &'a [f32],
    /// First hypothesis and spacing (ray depth, metres).
    pub(super) lo: f32,
    pub(super) step: f32,
    /// Interpolation segment of the warp ([`crate::warp_span`]).
    pub(super) span: u32,
    /// The NCC pipeline for the window.
    pub(super) ncc: &'a wgpu::ComputePipeline,
    /// When the call began (the timings count from here).
    pub(super) start: Instant,
}

/// What the buffers' sizes depend on: the plan and the number of source texel quads.
type Shape = (Plan, usize);

/// The buffers and bind groups of one sweep shape. [`GpuSweep`] keeps the last ones for the
/// next sweep of the same shape: no allocation, no zero-fill, no page faults on fresh memory.
#[derive(Debug)]
pub(super) struct Resources {
    shape: Shape,
    buffers: Buffers,
    groups: BindGroups,
}

/// What a sweep leaves for the next one ([`GpuSweep`] keeps it): the memory of its host
/// tables, and its GPU resources (none before the first sweep, after a failed one or after
/// [`GpuSweep::release_buffers`]).
#[derive(Debug, Default)]
pub(super) struct Kept {
    pub(super) tables: HostTables,
    pub(super) resources: Option<Resources>,
}

impl Resources {
    fn new(device: &wgpu::Device, pipelines: &Pipelines, shape: Shape, uniform_align: u64) -> Self {
        let buffers = Buffers::new(device, &shape.0, shape.1, uniform_align);
        let groups = BindGroups::new(device, pipelines, &buffers);
        Self {
            shape,
            buffers,
            groups,
        }
    }
}

/// The buffers of a sweep: inputs written once, band buffers reused by every band.
#[derive(Debug)]
struct Buffers {
    params: wgpu::Buffer,
    batches: wgpu::Buffer,
    rays: wgpu::Buffer,
    reference: wgpu::Buffer,
    sources: wgpu::Buffer,
    cameras: wgpu::Buffer,
    warped: wgpu::Buffer,
    costs: wgpu::Buffer,
    state: wgpu::Buffer,
    out: wgpu::Buffer,
    out_staging: wgpu::Buffer,
    cost_volume: wgpu::Buffer,
    cost_staging: Option<wgpu::Buffer>,
}

impl Buffers {
    fn new(device: &wgpu::Device, plan: &Plan, n_quads: usize, uniform_align: u64) -> Self {
        let written = U::STORAGE | U::COPY_DST;
        let cams_bytes = plan.n_sources as u64 * std::mem::size_of::<SrcCamU>() as u64;
        Self {
            params: empty_buffer(
                device,
                "sweep params",
                std::mem::size_of::<ParamsU>() as u64,
                U::UNIFORM | U::COPY_DST,
            ),
            batches: init_buffer(
                device,
                "sweep batches",
                &abi::batch_uniforms(plan.depths, plan.cap, uniform_align),
                U::UNIFORM,
            ),
            rays: empty_buffer(device, "sweep rays", plan.rays_bytes(), written),
            reference: empty_buffer(device, "sweep reference", plan.reference_bytes(), written),
            sources: empty_buffer(
                device,
                "sweep sources",
                n_quads as u64 * QUAD_BYTES,
                written,
            ),
            cameras: empty_buffer(device, "sweep cameras", cams_bytes, written),
            warped: empty_buffer(device, "sweep warped", plan.warped_bytes(), U::STORAGE),
            costs: empty_buffer(device, "sweep costs", plan.costs_bytes(), U::STORAGE),
            state: empty_buffer(device, "sweep state", plan.state_bytes(), U::STORAGE),
            out: empty_buffer(
                device,
                "sweep out",
                plan.out_bytes(),
                U::STORAGE | U::COPY_SRC,
            ),
            out_staging: staging_buffer(device, "sweep out staging", plan.out_bytes()),
            cost_volume: empty_buffer(
                device,
                "sweep cost volume",
                plan.cost_volume_bytes(),
                U::STORAGE | U::COPY_SRC,
            ),
            cost_staging: plan
                .keep_cost
                .then(|| staging_buffer(device, "sweep cost staging", plan.cost_volume_bytes())),
        }
    }
}

/// The bind groups of the four passes over [`Buffers`].
#[derive(Debug)]
struct BindGroups {
    warp: wgpu::BindGroup,
    ncc: wgpu::BindGroup,
    wta: wgpu::BindGroup,
    finalize: wgpu::BindGroup,
}

impl BindGroups {
    fn new(device: &wgpu::Device, p: &Pipelines, b: &Buffers) -> Self {
        Self {
            warp: bind(
                device,
                &p.warp_layout,
                &[
                    (0, whole(&b.params)),
                    (1, batch_binding(&b.batches)),
                    (2, whole(&b.rays)),
                    (3, whole(&b.cameras)),
                    (4, whole(&b.sources)),
                    (5, whole(&b.warped)),
                    (6, whole(&b.reference)),
                ],
            ),
            ncc: bind(
                device,
                &p.ncc_layout,
                &[
                    (0, whole(&b.params)),
                    (1, batch_binding(&b.batches)),
                    (3, whole(&b.warped)),
                    (8, whole(&b.costs)),
                ],
            ),
            wta: bind(
                device,
                &p.wta_layout,
                &[
                    (0, whole(&b.params)),
                    (1, batch_binding(&b.batches)),
                    (4, whole(&b.state)),
                    (5, whole(&b.cost_volume)),
                    (8, whole(&b.costs)),
                ],
            ),
            finalize: bind(
                device,
                &p.finalize_layout,
                &[
                    (0, whole(&b.params)),
                    (2, whole(&b.reference)),
                    (4, whole(&b.state)),
                    (6, whole(&b.out)),
                ],
            ),
        }
    }
}

impl GpuSweep {
    /// Runs a prepared sweep (call it inside an error scope) with the `kept` resources if
    /// they have its shape, else new ones; returns the output and the resources to keep. The
    /// output's timings hold `setup_s` and `readback_s`; the caller sets `sweep_s`.
    pub(super) fn execute(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        job: &Job,
        plan: &Plan,
        kept: Option<Resources>,
    ) -> Result<(SweepOutput, Resources), SweepError> {
        let shape = (*plan, job.quads.len());
        let resources = match kept {
            Some(r) if r.shape == shape => r,
            other => {
                drop(other);
                Resources::new(device, &self.pipelines, shape, self.uniform_align)
            }
        };
        let b = &resources.buffers;
        queue.write_buffer(&b.sources, 0, bytemuck::cast_slice(job.quads));
        queue.write_buffer(&b.cameras, 0, bytemuck::cast_slice(job.cams));
        let run = Run {
            device,
            queue,
            resources: &resources,
            pipelines: &self.pipelines,
            uniform_align: self.uniform_align,
            job,
            plan,
        };
        let n_pix = plan.width as usize * plan.height as usize;
        let mut output = SweepOutput {
            width: plan.width,
            height: plan.height,
            depth: vec![f32::NAN; n_pix],
            confidence: vec![0.0f32; n_pix],
            cost_volume: plan
                .keep_cost
                .then(|| vec![0.0f32; n_pix * plan.depths as usize]),
            timings: SweepTimings::default(),
        };
        for (i, band) in plan.bands().enumerate() {
            run.upload(&band);
            if i == 0 {
                output.timings.setup_s = job.start.elapsed().as_secs_f64();
            }
            run.batches(&band);
            output.timings.readback_s += run.finish(&band, &mut output)?;
        }
        Ok((output, resources))
    }
}

/// A sweep under way: its buffers and bind groups.
struct Run<'a> {
    device: &'a wgpu::Device,
    queue: &'a wgpu::Queue,
    pipelines: &'a Pipelines,
    uniform_align: u64,
    job: &'a Job<'a>,
    plan: &'a Plan,
    resources: &'a Resources,
}

impl Run<'_> {
    /// Writes the band's reference rays and values (its warp region) and its uniform.
    fn upload(&self, band: &Band) {
        let (job, plan, b) = (self.job, self.plan, &self.resources.buffers);
        let n_warp = (band.warp_rows() * plan.width) as usize;
        let first = (band.wy0 * plan.width) as usize;
        let rays = &job.rays[2 * first..2 * (first + n_warp)];
        self.queue
            .write_buffer(&b.rays, 0, bytemuck::cast_slice(rays));
        let values = &job.values[first..first + n_warp];
        self.queue
            .write_buffer(&b.reference, 0, bytemuck::cast_slice(values));
        let params = ParamsU::new(plan, band, job.lo, job.step, job.span);
        self.queue
            .write_buffer(&b.params, 0, bytemuck::bytes_of(&params));
    }

    /// One command buffer per batch: `warp`, `ncc` and `wta` over the band.
    fn batches(&self, band: &Band) {
        let (p, g, plan) = (self.pipelines, &self.resources.groups, self.plan);
        let warp_groups = groups_1d(band.warp_rows() * plan.stride());
        let wta_groups = groups_1d(band.rows() * plan.width);
        let strips = plan.width.div_ceil(STRIP) as u64 * band.rows().div_ceil(SEG) as u64;
        for i in 0..plan.n_batches() {
            let nb = plan.batch_len(i) as u64;
            let ncc_groups = groups_1d((nb * plan.n_sources as u64 * strips) as u32);
            let offset = (i as u64 * self.uniform_align) as u32;
            let mut enc = self.device.create_command_encoder(&Default::default());
            {
                let mut pass = enc.begin_compute_pass(&Default::default());
                pass.set_pipeline(&p.warp);
                pass.set_bind_group(0, &g.warp, &[offset]);
                pass.dispatch_workgroups(warp_groups.0, warp_groups.1, 1);
                pass.set_pipeline(self.job.ncc);
                pass.set_bind_group(0, &g.ncc, &[offset]);
                pass.dispatch_workgroups(ncc_groups.0, ncc_groups.1, 1);
                pass.set_pipeline(&p.wta);
                pass.set_bind_group(0, &g.wta, &[offset]);
                pass.dispatch_workgroups(wta_groups.0, wta_groups.1, 1);
            }
            self.queue.submit([enc.finish()]);
        }
    }

    /// `finalize` over the band, then the read-back into `output`; returns the seconds of the
    /// read-back (after the device finished).
    fn finish(&self, band: &Band, output: &mut SweepOutput) -> Result<f64, SweepError> {
        let (plan, b) = (self.plan, &self.resources.buffers);
        let n_out = (band.rows() * plan.width) as usize;
        let depths = plan.depths as usize;
        let groups = groups_1d(n_out as u32);
        let mut enc = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipelines.finalize);
            pass.set_bind_group(0, &self.resources.groups.finalize, &[]);
            pass.dispatch_workgroups(groups.0, groups.1, 1);
        }
        enc.copy_buffer_to_buffer(&b.out, 0, &b.out_staging, 0, n_out as u64 * OUT_BYTES);
        if let Some(cs) = &b.cost_staging {
            enc.copy_buffer_to_buffer(&b.cost_volume, 0, cs, 0, (depths * n_out) as u64 * F);
        }
        self.queue.submit([enc.finish()]);
        // The sweep ends when the device is done; what follows is the read-back (a lost device
        // is reported by `read_back`).
        aquamvs_gpu::wait_idle(self.device);
        let start = Instant::now();
        let res: Vec<f32> = read_back(self.device, &b.out_staging, 2 * n_out).map_err(gpu_error)?;
        let at = (band.y0 * plan.width) as usize;
        let depth = &mut output.depth[at..at + n_out];
        let confidence = &mut output.confidence[at..at + n_out];
        for ((pair, d), c) in res.chunks_exact(2).zip(depth).zip(confidence) {
            (*d, *c) = (pair[0], pair[1]);
        }
        if let (Some(cs), Some(cv)) = (&b.cost_staging, output.cost_volume.as_mut()) {
            let c: Vec<f32> = read_back(self.device, cs, depths * n_out).map_err(gpu_error)?;
            let n_pix = plan.width as usize * plan.height as usize;
            for k in 0..depths {
                let dst = k * n_pix + at;
                cv[dst..dst + n_out].copy_from_slice(&c[k * n_out..(k + 1) * n_out]);
            }
        }
        Ok(start.elapsed().as_secs_f64())
    }
}

/// A failed read-back as a [`SweepError::Gpu`].
pub(super) fn gpu_error(e: aquamvs_gpu::ReadBackError) -> SweepError {
    SweepError::Gpu(e.to_string())
}

/// Refuses sources whose texel quads do not fit in one storage binding.
pub(super) fn check_sources_fit(device: &wgpu::Device, sources: &[View]) -> Result<(), SweepError> {
    let l = device.limits();
    let binding = l.max_storage_buffer_binding_size.min(l.max_buffer_size);
    let total: u64 = sources
        .iter()
        .map(|s| s.image.len() as u64 * QUAD_BYTES)
        .sum();
    if total > binding {
        return Err(SweepError::TooLarge(format!(
            "the source images take {total} bytes as texel quads; one storage binding holds \
             {binding}"
        )));
    }
    Ok(())
}
