//! The multi-view stereo pipeline around the refractive plane sweep, as five stages that each
//! work alone on typed inputs:
//!
//! 1. [`undistort`] — remap lens-distorted recordings to the pinhole model
//!    ([`GpuUndistort`], a wgpu compute shader; [`undistort_cpu`] is its CPU reference).
//! 2. [`sparse`] — Shi–Tomasi keypoints, matching along the refractive epipolar curve with
//!    warped-patch NCC descriptors (ratio test, mutual check), multi-view refractive
//!    triangulation with a reprojection filter, and each view's sweep depth range from the
//!    sparse points' ray depths (2–98 % quantiles ± 0.05 m, as AquaMVS).
//! 3. [`depth`] — the plane sweep (GPU or CPU, `aquamvs_sweep`) for every reference view.
//! 4. [`fusion`] — confidence filter, multi-view depth consistency, back-projection and voxel
//!    downsampling into one cloud.
//! 5. [`surface`] — a height-field mesh on a regular XY grid, holes left open.
//!
//! [`Pipeline::reconstruct`] is the **only** code that chains them: a [`Pipeline`] holds the
//! backend (GPU pipelines built once), [`ReconstructOptions`] is the one settings value
//! (fitted to the rig in one place, [`ReconstructOptions::fit`]), and an [`Observer`] sees each
//! stage and view begin and end — progress lines ([`Progress`]), the profiler ([`Profiled`]) —
//! so `cargo xtask reconstruct`, `bench` and `profile` all run this same chain.
//!
//! **Conventions.** World frame +X right, +Y forward, **+Z down into the water**, metres.
//! Images are greyscale in [0, 1], row-major `height × width`, **pixel centres at integer
//! coordinates**. Depth maps hold **ray depth** (metres along the refracted ray from its
//! water-surface crossing), NaN where invalid.
//!
//! Design decisions:
//! - Sparse matching does not match keypoint to keypoint: a 30° baseline rotates and
//!   foreshortens patches too much for plain descriptors. Each reference keypoint's window is
//!   warped along its **refractive epipolar curve** (the projections of its ray at every ray
//!   depth) into each source and scored by NCC; the best peak must beat the second by a ratio
//!   test and survive the reverse search (mutual check). The resulting pixels are triangulated
//!   from all matched views at once, so the reprojection filter sees disagreements.
//! - Fusion counts *other* views that agree; AquaMVS's 3 is kept (see
//!   [`FusionOptions::min_agreeing_views`]).
//! - The surface is a height field because the scene is seen from above; empty cells stay
//!   holes.
//!
//! ```
//! use aquamvs_pipeline::{SurfaceOptions, height_field_surface};
//! // A 2 cm square of a plane at Z = 1.2 m, one point per millimetre.
//! let pts: Vec<[f64; 3]> = (0..400).map(|i| [0.001 * (i % 20) as f64, 0.001 * (i / 20) as f64, 1.2]).collect();
//! let mesh = height_field_surface(&pts, &SurfaceOptions::default()).unwrap();
//! assert!(!mesh.faces.is_empty());
//! assert!(mesh.vertices.iter().all(|v| v[2] == 1.2));
//! ```
//!
//! What this crate does not do: no file I/O (the `io` crate and `xtask` do that), no adapter
//! selection (callers pass `&wgpu::Device, &wgpu::Queue`), no learned features.

pub mod depth;
pub mod fusion;
pub mod observe;
pub mod options;
pub mod reconstruct;
pub mod sparse;
pub mod surface;
pub mod undistort;

pub use fusion::{DepthMap, FusedCloud, FusionOptions, ViewFusionStats, fuse, voxel_downsample};
pub use observe::{Observer, Profiled, Progress, StageKind};
pub use options::{DepthMethod, DepthOptions, ReconstructOptions, SweepEngine};
pub use reconstruct::{
    Backend, Counts, Pipeline, RangeSource, Reconstruction, STAGES, StageReport, ViewRange,
    reference_views, valid_fraction,
};
pub use sparse::{
    DepthRange, Keypoint, KeypointOptions, SparseOptions, SparsePoint, SparseResult, Triangulation,
    ViewMatchStats, depth_ranges, detect_keypoints, sparse_matching, triangulate,
};
pub use surface::{Mesh, SurfaceOptions, height_field_surface};
pub use undistort::{GpuUndistort, undistort_cpu};

use aquamvs_camera::Rig;

/// Errors of the pipeline stages.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Inputs that do not fit together (counts, sizes, indices, options).
    #[error("invalid input: {0}")]
    Input(String),
    /// An image does not have its camera's size.
    #[error("image of camera {camera:?} has {got} values, expected {expected}")]
    ImageSize {
        /// Camera name.
        camera: String,
        /// width × height.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// The sweep of one reference view failed.
    #[error("sweep of view {view:?}: {source}")]
    Sweep {
        /// Reference camera name.
        view: String,
        /// The sweep's error.
        #[source]
        source: aquamvs_sweep::SweepError,
    },
    /// PatchMatch failed for a view.
    #[error("patchmatch of view {view}: {source}")]
    PatchMatch {
        /// Reference camera name.
        view: String,
        /// PatchMatch's error.
        #[source]
        source: aquamvs_patchmatch::PatchMatchError,
    },
    /// wgpu reported a validation or device error.
    #[error("GPU error: {0}")]
    Gpu(String),
}

/// One image per rig camera, each of its camera's size.
pub(crate) fn check_views(rig: &Rig, images: &[Vec<f32>]) -> Result<(), PipelineError> {
    if images.len() != rig.cameras.len() {
        return Err(PipelineError::Input(format!(
            "{} images for {} cameras",
            images.len(),
            rig.cameras.len()
        )));
    }
    for (cam, im) in rig.cameras.iter().zip(images) {
        let n = cam.width as usize * cam.height as usize;
        if im.len() != n {
            return Err(PipelineError::ImageSize {
                camera: cam.name.clone(),
                expected: n,
                got: im.len(),
            });
        }
    }
    Ok(())
}
