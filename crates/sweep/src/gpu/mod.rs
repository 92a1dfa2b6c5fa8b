//! The wgpu sweep ([`GpuSweep`]), by concern:
//!
//! - `abi.rs`: the Rust mirrors of the shader structs and the constants shared with the shaders,
//!   and the host tables the shaders read (texel quads, reference rays and values);
//! - `plan.rs`: row bands and buffer sizes within one storage binding;
//! - `pipelines.rs`: the shader sources (prelude `params.wgsl` joined, NCC specialised per
//!   window) and the pipelines;
//! - `run.rs`: the sweep itself, band by band, batch by batch, and what one sweep keeps for the
//!   next (buffers, bind groups, host tables);
//! - `testing.rs` (tests only): the shaders' test entry points and the winner-take-all over a
//!   given cost volume; `tests.rs`: the GPU unit tests and the Rust/WGSL layout checks.

mod abi;
pub use abi::SrcCamU;
mod pipelines;
mod plan;
mod run;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use aquamvs_camera::Camera;

use crate::{SweepError, SweepOutput, SweepSettings, View, check_views};
use pipelines::Pipelines;
use plan::{Plan, max_binding};
use run::{Job, Kept, check_sources_fit};

/// Options of a [`GpuSweep`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GpuSweepOptions {
    /// Largest storage binding (bytes) the row bands may use; `None`: the device's
    /// `max_storage_buffer_binding_size` (at most 256 MiB). Set it small to force tiling.
    pub max_binding_bytes: Option<u64>,
}

/// The refractive plane sweep's pipelines, created once per device.
///
/// **One dispatch handles a batch of depth hypotheses** ([`SweepSettings::batch`]). Per batch,
/// one command buffer with three dispatches: `warp` (each reference ray and reference value
/// loaded once; exact refractive projections only at the anchors of each segment of
/// [`crate::warp_span`] hypotheses, shared by the batch's hypotheses of that segment), `ncc`
/// (sliding window sums in registers) and `wta` (the winner-take-all state loaded and stored
/// once per batch). Nothing is read back until the end of a row band.
///
/// **It keeps the last sweep's buffers** (GPU buffers and bind groups, and the host tables of
/// rays and texel quads) and reuses them for the next sweep of the same shape (image size,
/// number and size of sources, depths, window, batch, tiling, cost volume kept or not), so
/// repeated sweeps, such as one per reference view, pay no allocation, zero-fill or page
/// faults; a sweep of another shape replaces them. They hold one sweep's memory until
/// [`GpuSweep::release_buffers`] or the drop. Results do not depend on it.
#[derive(Debug)]
pub struct GpuSweep {
    options: GpuSweepOptions,
    /// The device's uniform offset alignment (at least 16): the stride of the batch uniforms.
    uniform_align: u64,
    pipelines: Pipelines,
    /// What the last sweep leaves for the next: its host tables and GPU buffers.
    kept: Mutex<Kept>,
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
        let pipelines = scoped(device, || Ok(Pipelines::new(device)))?;
        let sweep = Self {
            options,
            uniform_align: device.limits().min_uniform_buffer_offset_alignment.max(16) as u64,
            pipelines,
            kept: Mutex::default(),
        };
        // Compile the default window's NCC shader now, so shader problems surface here.
        sweep
            .pipelines
            .ncc(device, SweepSettings::default().window)?;
        Ok(sweep)
    }

    /// Frees the GPU buffers and host tables kept from the last sweep (the next sweep creates
    /// new ones).
    pub fn release_buffers(&self) {
        drop(self.take_kept());
    }

    /// Takes what the last sweep left (a concurrent sweep finds nothing and makes its own).
    fn take_kept(&self) -> Kept {
        std::mem::take(&mut *self.kept.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Leaves `kept` for the next sweep.
    fn keep(&self, kept: Kept) {
        *self.kept.lock().unwrap_or_else(PoisonError::into_inner) = kept;
    }

    /// The options this sweep was built with.
    pub fn options(&self) -> GpuSweepOptions {
        self.options
    }

    /// Largest storage binding the bands may use on `device`.
    fn max_binding(&self, device: &wgpu::Device) -> u64 {
        max_binding(&device.limits(), self.options.max_binding_bytes)
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
        settings: &SweepSettings,
    ) -> Result<u32, SweepError> {
        settings.validate()?;
        let plan = Plan::new(self.max_binding(device), width, height, n_sources, settings)?;
        Ok(plan.band_rows)
    }

    /// Runs the sweep of `reference` against `sources` over `range`, the ray depths of the
    /// first and last hypothesis (metres). See the crate documentation for the algorithm;
    /// results are identical for every `settings.batch`. The output's
    /// [`crate::SweepTimings`] split the call into set-up, sweep and read-back.
    pub fn run(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        reference: View,
        sources: &[View],
        settings: &SweepSettings,
        range: (f32, f32),
    ) -> Result<SweepOutput, SweepError> {
        let start = Instant::now();
        check_views(&reference, sources, settings, range)?;
        let mut kept = self.take_kept();
        let mut sweep = || {
            let cam = reference.camera;
            let tables = &mut kept.tables;
            if !abi::fill_reference(&mut tables.rays, &mut tables.values, &reference) {
                return Err(SweepError::NoRays(cam.name.clone()));
            }
            let src_cams: Vec<&Camera<f64>> = sources.iter().map(|s| s.camera).collect();
            let span = crate::warp_span(cam, &src_cams, settings.depths, range);
            let cams = abi::fill_sources(&mut tables.quads, sources);
            let ncc = self.pipelines.ncc(device, settings.window)?;
            let job = Job {
                quads: &tables.quads,
                cams: &cams,
                rays: &tables.rays,
                values: &tables.values,
                lo: range.0,
                step: settings.step(range) as f32,
                span,
                ncc: &ncc,
                start,
            };
            let resources = kept.resources.take();
            let (output, resources) = scoped(device, || {
                check_sources_fit(device, sources)?;
                let plan = Plan::new(
                    self.max_binding(device),
                    cam.width,
                    cam.height,
                    sources.len(),
                    settings,
                )?;
                self.execute(device, queue, &job, &plan, resources)
            })?;
            kept.resources = Some(resources);
            Ok(output)
        };
        let result = sweep();
        self.keep(kept);
        let mut output = result?;
        let t = &mut output.timings;
        t.sweep_s = (start.elapsed().as_secs_f64() - t.setup_s - t.readback_s).max(0.0);
        Ok(output)
    }
}
