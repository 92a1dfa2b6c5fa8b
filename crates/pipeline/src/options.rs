//! The pipeline's settings: one value per stage, validated once and fitted to a rig in one
//! place ([`ReconstructOptions::fit`]).

use aquamvs_camera::Rig;
use aquamvs_patchmatch::PatchMatchSettings;
use aquamvs_sweep::SweepSettings;
use serde::Serialize;

use crate::{FusionOptions, PipelineError, SparseOptions, SurfaceOptions};

/// Smallest surface cell accepted, metres (0.1 mm: a 0.5 m scene is then 5000 cells a side).
pub const MIN_CELL: f64 = 1e-4;
/// Largest surface cell accepted, metres.
pub const MAX_CELL: f64 = 1.0;

/// Options of the depth stage: the sweep's settings, passed down unchanged, and how many
/// sources each reference view is swept against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DepthOptions {
    /// Depths, window, batch of every sweep.
    #[serde(flatten)]
    pub sweep: SweepSettings,
    /// The depth method: the plane sweep (with `sweep`) or PatchMatch (with its settings;
    /// the depth range and sources are the same).
    pub method: DepthMethod,
    /// Source views per reference: the first `sources` of `rig.sources(reference, ..)`
    /// (AquaMVS: 4 nearest ring neighbours + the centre camera = 5).
    pub sources: usize,
    /// Where the plane sweep runs (also PatchMatch's sweep initialisation).
    pub engine: SweepEngine,
}

impl Default for DepthOptions {
    fn default() -> Self {
        Self {
            sweep: SweepSettings::default(),
            method: DepthMethod::Sweep,
            sources: 5,
            engine: SweepEngine::Backend,
        }
    }
}

/// Where the plane sweep runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SweepEngine {
    /// On the pipeline's backend: the GPU's shaders, or the `f64` CPU reference.
    #[default]
    Backend,
    /// The native `f32` CPU sweep (`aquamvs_sweep::sweep_native`) whatever the backend: several
    /// times faster than the shaders on a software adapter (llvmpipe), within the same
    /// tolerance of the reference as the GPU.
    Native,
}

/// How depth maps are estimated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum DepthMethod {
    /// The refractive plane sweep (`aquamvs_sweep`): fronto-parallel windows.
    Sweep,
    /// Refractive PatchMatch (`aquamvs_patchmatch`): a plane per pixel, depth and normal.
    PatchMatch(PatchMatchSettings),
}

/// Options of [`crate::Pipeline::reconstruct`]: one value for the whole chain.
#[derive(Debug, Clone, Serialize)]
pub struct ReconstructOptions {
    /// Stage 2.
    pub sparse: SparseOptions,
    /// Stage 3.
    pub depth: DepthOptions,
    /// Stage 4.
    pub fusion: FusionOptions,
    /// Stage 5.
    pub surface: SurfaceOptions,
    /// Reference views of sparse matching and the sweep; `None`: every camera that is not auxiliary
    /// ([`crate::reference_views`]).
    pub references: Option<Vec<usize>>,
    /// The scene's stated world-Z extent `(z_min, z_max)`, metres: a view without a sparse
    /// range sweeps the ray depths that cover it (± `fallback_margin`).
    pub fallback_z: Option<(f64, f64)>,
    /// Margin around `fallback_z`, metres.
    pub fallback_margin: f64,
    /// Grey value of undistorted pixels that map outside the recording.
    pub undistort_fill: f32,
}

impl Default for ReconstructOptions {
    fn default() -> Self {
        Self {
            sparse: SparseOptions::default(),
            depth: DepthOptions::default(),
            fusion: FusionOptions::default(),
            surface: SurfaceOptions::default(),
            references: None,
            fallback_z: None,
            fallback_margin: 0.05,
            undistort_fill: 0.0,
        }
    }
}

impl ReconstructOptions {
    /// Checks what can be checked without a rig: the sweep settings, the surface cell, the
    /// fallback extent and margin, the fill value.
    pub fn validate(&self) -> Result<(), PipelineError> {
        self.depth
            .sweep
            .validate()
            .map_err(|e| PipelineError::Input(format!("sweep settings: {e}")))?;
        if self.depth.sources == 0 {
            return Err(PipelineError::Input(
                "depth estimation needs at least one source".into(),
            ));
        }
        let cell = self.surface.cell_size;
        if !(MIN_CELL..=MAX_CELL).contains(&cell) {
            return Err(PipelineError::Input(format!(
                "surface cell size {cell} m is outside {MIN_CELL}..={MAX_CELL} m (a finer grid \
                 would not fit in memory over a scene, a coarser one has a few cells for a whole \
                 scene)"
            )));
        }
        if let Some((z0, z1)) = self.fallback_z
            && !(z0.is_finite() && z1.is_finite() && z0 <= z1)
        {
            return Err(PipelineError::Input(format!(
                "scene extent ({z0}, {z1}) must be finite with z_min <= z_max"
            )));
        }
        if !(self.fallback_margin.is_finite() && self.fallback_margin >= 0.0) {
            return Err(PipelineError::Input(format!(
                "fallback margin must be finite and >= 0, got {}",
                self.fallback_margin
            )));
        }
        if !(0.0..=1.0).contains(&self.undistort_fill) {
            return Err(PipelineError::Input(format!(
                "undistortion fill must be a grey value in [0, 1], got {}",
                self.undistort_fill
            )));
        }
        Ok(())
    }

    /// The reference views of a run on `rig`: [`Self::references`], or every ring camera.
    pub fn references_for(&self, rig: &Rig) -> Result<Vec<usize>, PipelineError> {
        let references = self
            .references
            .clone()
            .unwrap_or_else(|| crate::reference_views(rig));
        if references.is_empty() {
            return Err(PipelineError::Input("no reference views".into()));
        }
        if let Some(&r) = references.iter().find(|&&r| r >= rig.cameras.len()) {
            return Err(PipelineError::Input(format!(
                "reference index {r} is not in the rig"
            )));
        }
        Ok(references)
    }

    /// These options fitted to `rig` (the one place where counts meet a rig): source views
    /// and views per sparse point no more than the rig has, and fusion asking no more
    /// agreeing views than there are other reference views. Each change is named in the
    /// returned warnings.
    pub fn fit(&self, rig: &Rig) -> Result<(Self, Vec<String>), PipelineError> {
        self.validate()?;
        let n = rig.cameras.len();
        if n < 2 {
            return Err(PipelineError::Input(format!(
                "a reconstruction needs at least 2 cameras, the rig has {n}"
            )));
        }
        let references = self.references_for(rig)?;
        let mut fitted = self.clone();
        let mut warnings = Vec::new();
        let mut clamp = |what: &str, value: &mut usize, max: usize, why: &str| {
            if *value > max {
                warnings.push(format!("{what} lowered from {value} to {max} ({why})"));
                *value = max;
            }
        };
        let others = format!("the rig has {n} cameras");
        clamp(
            "sparse matching sources",
            &mut fitted.sparse.sources,
            n - 1,
            &others,
        );
        clamp(
            "views per sparse point",
            &mut fitted.sparse.min_views,
            n,
            &others,
        );
        clamp(
            "depth sources per view",
            &mut fitted.depth.sources,
            n - 1,
            &others,
        );
        clamp(
            "fusion agreeing views",
            &mut fitted.fusion.min_agreeing_views,
            references.len().saturating_sub(1).max(1),
            &format!("{} reference views", references.len()),
        );
        fitted.references = Some(references);
        Ok((fitted, warnings))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_options_are_refused_before_any_work() {
        let ok = ReconstructOptions::default();
        ok.validate().unwrap();
        type Edit = fn(&mut ReconstructOptions);
        let cases: [(&str, Edit); 9] = [
            ("cell", |o| o.surface.cell_size = 0.0),
            ("cell", |o| o.surface.cell_size = f64::NAN),
            ("cell", |o| o.surface.cell_size = 1e-7),
            ("cell", |o| o.surface.cell_size = 1000.0),
            ("sweep settings", |o| o.depth.sweep.window = 4),
            ("sweep settings", |o| o.depth.sweep.depths = 100_000_000),
            ("at least one source", |o| o.depth.sources = 0),
            ("scene extent", |o| o.fallback_z = Some((1.2, 1.1))),
            ("fill", |o| o.undistort_fill = 2.0),
        ];
        for (want, edit) in cases {
            let mut o = ReconstructOptions::default();
            edit(&mut o);
            let e = o.validate().unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn fitting_to_a_small_rig_lowers_counts_and_says_so() {
        let mut rig = Rig::reference(64, 48).unwrap();
        rig.cameras.truncate(3);
        let (fitted, warnings) = ReconstructOptions::default().fit(&rig).unwrap();
        assert_eq!(fitted.depth.sources, 2);
        assert_eq!(fitted.sparse.min_views, 3);
        assert_eq!(fitted.references.as_deref(), Some(&[0, 1, 2][..]));
        assert_eq!(fitted.fusion.min_agreeing_views, 2);
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("depth sources per view"))
        );
        rig.cameras.truncate(1);
        assert!(ReconstructOptions::default().fit(&rig).is_err());
    }
}
