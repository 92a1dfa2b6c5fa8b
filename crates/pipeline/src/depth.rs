//! Stage 3, depth estimation: the refractive plane sweep (`aquamvs_sweep`) or PatchMatch
//! (`aquamvs_patchmatch`) for every reference view against its neighbours, on the pipeline's
//! backend.

use aquamvs_camera::Rig;
use aquamvs_patchmatch::patchmatch_cpu;
use aquamvs_sweep::{SweepSettings, View, sweep_cpu, sweep_native};

use crate::observe::{StageKind, observed};
use crate::{DepthMap, DepthMethod, DepthOptions, Observer, Pipeline, PipelineError, SweepEngine};

impl Pipeline<'_> {
    /// The depth map of `rig.cameras[reference]`, swept over `range` (ray depth, metres)
    /// against the first `opts.sources` of `rig.sources(reference, ..)`.
    ///
    /// `images` are undistorted greyscale images, one per rig camera. A view whose sweep finds
    /// no valid depth is returned as it is (all NaN), not as an error:
    /// [`DepthMap::valid_count`] tells the caller.
    pub fn depth_map(
        &self,
        rig: &Rig,
        images: &[Vec<f32>],
        reference: usize,
        range: (f32, f32),
        opts: &DepthOptions,
    ) -> Result<DepthMap, PipelineError> {
        crate::check_views(rig, images)?;
        if opts.sources == 0 {
            return Err(PipelineError::Input(
                "depth estimation needs at least one source".into(),
            ));
        }
        let cam = rig.cameras.get(reference).ok_or_else(|| {
            PipelineError::Input(format!("reference index {reference} is not in the rig"))
        })?;
        let sources: Vec<View> = rig
            .sources(reference, opts.sources)
            .into_iter()
            .map(|s| View {
                camera: &rig.cameras[s],
                image: &images[s],
            })
            .collect();
        let view = View {
            camera: cam,
            image: &images[reference],
        };
        let sweep = |view: View, sources: &[View], settings: &SweepSettings| {
            match &self.gpu {
                _ if opts.engine == SweepEngine::Native => {
                    sweep_native(view, sources, settings, range)
                }
                Some(gpu) => gpu
                    .sweep
                    .run(gpu.device, gpu.queue, view, sources, settings, range),
                None => sweep_cpu(view, sources, settings, range),
            }
            .map_err(|source| PipelineError::Sweep {
                view: cam.name.clone(),
                source,
            })
        };
        if let DepthMethod::PatchMatch(settings) = opts.method {
            // The rounds refine the sweep's winner: its `init_depths` are enough.
            let init = if settings.sweep_init {
                let coarse = SweepSettings {
                    depths: settings.init_depths,
                    ..opts.sweep
                };
                Some(sweep(view, &sources, &coarse)?.depth)
            } else {
                None
            };
            let init = init.as_deref();
            let out = match &self.gpu {
                Some(gpu) => gpu.patchmatch.run(
                    gpu.device, gpu.queue, view, &sources, &settings, range, init,
                ),
                None => patchmatch_cpu(view, &sources, &settings, range, init),
            }
            .map_err(|source| PipelineError::PatchMatch {
                view: cam.name.clone(),
                source,
            })?;
            return Ok(DepthMap {
                view: reference,
                width: out.width,
                height: out.height,
                depth: out.depth,
                confidence: out.confidence,
                normal: Some(out.normal),
            });
        }
        let out = sweep(view, &sources, &opts.sweep)?;
        Ok(DepthMap {
            view: reference,
            width: out.width,
            height: out.height,
            depth: out.depth,
            confidence: out.confidence,
            normal: None,
        })
    }

    /// Stage 3: [`Self::depth_map`] of every `references[i]` over `ranges[i]`, each view
    /// observed as `depth_estimation/<camera>`.
    pub fn depth_estimation(
        &self,
        rig: &Rig,
        images: &[Vec<f32>],
        references: &[usize],
        ranges: &[(f32, f32)],
        opts: &DepthOptions,
        obs: &mut dyn Observer,
    ) -> Result<Vec<DepthMap>, PipelineError> {
        if references.len() != ranges.len() {
            return Err(PipelineError::Input(format!(
                "{} references but {} depth ranges",
                references.len(),
                ranges.len()
            )));
        }
        let kind = self.kind();
        references
            .iter()
            .zip(ranges)
            .map(|(&r, &range)| {
                let name = rig
                    .cameras
                    .get(r)
                    .map_or_else(|| format!("#{r}"), |c| c.name.clone());
                observed(obs, &format!("depth_estimation/{name}"), kind, |_| {
                    self.depth_map(rig, images, r, range, opts)
                })
            })
            .collect()
    }

    /// Where this pipeline's GPU stages run.
    pub(crate) fn kind(&self) -> StageKind {
        match self.gpu {
            Some(_) => StageKind::Gpu,
            None => StageKind::Cpu,
        }
    }
}
