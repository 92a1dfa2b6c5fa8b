//! Stage 3, depth estimation: the refractive plane sweep (`aquamvs_sweep`) for every reference
//! view against its neighbours.

use aquamvs_camera::Rig;
use aquamvs_sweep::{GpuSweep, SweepParams, View, sweep_cpu};
use serde::Serialize;

use crate::{DepthMap, PipelineError};

/// Where the sweep runs.
#[derive(Debug, Clone, Copy)]
pub enum SweepBackend<'a> {
    /// [`GpuSweep::run`] on this device.
    Gpu {
        /// The device.
        device: &'a wgpu::Device,
        /// Its queue.
        queue: &'a wgpu::Queue,
        /// Pipelines built once for the device.
        sweep: &'a GpuSweep,
    },
    /// [`sweep_cpu`] (f64, multi-threaded).
    Cpu,
}

impl SweepBackend<'_> {
    /// "gpu" or "cpu".
    pub fn name(&self) -> &'static str {
        match self {
            Self::Gpu { .. } => "gpu",
            Self::Cpu => "cpu",
        }
    }
}

/// Options of [`depth_estimation`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DepthOptions {
    /// Depth hypotheses per view.
    pub depths: u32,
    /// NCC window (odd).
    pub window: u32,
    /// Hypotheses per GPU dispatch (results do not depend on it).
    pub batch: u32,
    /// Source views per reference: the first `sources` of `rig.sources(reference, ..)`
    /// (AquaMVS: 4 nearest ring neighbours + the centre camera = 5).
    pub sources: usize,
}

impl Default for DepthOptions {
    fn default() -> Self {
        Self {
            depths: 64,
            window: 11,
            batch: 16,
            sources: 5,
        }
    }
}

/// Sweeps every `references[i]` over `ranges[i]` (ray depth, metres) against its sources.
///
/// `images` are undistorted greyscale images, one per rig camera. A view whose sweep finds no
/// valid depth is returned as it is (all NaN), not as an error: [`DepthMap::valid_count`]
/// tells the caller.
pub fn depth_estimation(
    rig: &Rig,
    images: &[Vec<f32>],
    references: &[usize],
    ranges: &[(f32, f32)],
    opts: &DepthOptions,
    backend: SweepBackend<'_>,
) -> Result<Vec<DepthMap>, PipelineError> {
    crate::check_views(rig, images)?;
    if references.len() != ranges.len() {
        return Err(PipelineError::Input(format!(
            "{} references but {} depth ranges",
            references.len(),
            ranges.len()
        )));
    }
    if opts.sources == 0 {
        return Err(PipelineError::Input(
            "depth estimation needs at least one source".into(),
        ));
    }
    let mut maps = Vec::with_capacity(references.len());
    for (&r, &range) in references.iter().zip(ranges) {
        let cam = rig.cameras.get(r).ok_or_else(|| {
            PipelineError::Input(format!("reference index {r} is not in the rig"))
        })?;
        let sources: Vec<View> = rig
            .sources(r, opts.sources)
            .into_iter()
            .map(|s| View {
                camera: &rig.cameras[s],
                image: &images[s],
            })
            .collect();
        let reference = View {
            camera: cam,
            image: &images[r],
        };
        let params = SweepParams {
            depths: opts.depths,
            window: opts.window,
            batch: opts.batch,
            depth_range: range,
            keep_cost_volume: false,
        };
        let out = match backend {
            SweepBackend::Gpu {
                device,
                queue,
                sweep,
            } => sweep.run(device, queue, reference, &sources, &params),
            SweepBackend::Cpu => sweep_cpu(reference, &sources, &params),
        }
        .map_err(|source| PipelineError::Sweep {
            view: cam.name.clone(),
            source,
        })?;
        maps.push(DepthMap {
            view: r,
            width: out.width,
            height: out.height,
            depth: out.depth,
            confidence: out.confidence,
        });
    }
    Ok(maps)
}
