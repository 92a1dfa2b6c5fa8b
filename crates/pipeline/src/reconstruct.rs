//! The five stages chained: undistortion → sparse matching (depth ranges) → depth estimation →
//! fusion → surface, each timed.

use std::time::Instant;

use aquamvs_camera::Rig;
use aquamvs_sweep::{GpuSweep, depth_range_from_z};
use serde::Serialize;

use crate::{
    DepthMap, DepthOptions, FusedCloud, FusionOptions, GpuUndistort, Mesh, PipelineError,
    SparseOptions, SparseResult, SurfaceOptions, SweepBackend, depth_estimation, fuse,
    height_field_surface, sparse_matching, undistort_cpu,
};

/// Where the GPU stages (undistortion, sweep) run.
#[derive(Debug, Clone, Copy)]
pub enum Backend<'a> {
    /// On this device.
    Gpu {
        /// The device.
        device: &'a wgpu::Device,
        /// Its queue.
        queue: &'a wgpu::Queue,
    },
    /// On the CPU (the CPU references of the GPU stages).
    Cpu,
}

/// Options of [`reconstruct`].
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
    /// Reference views of sparse matching and the sweep; `None`: every ring camera
    /// ([`ring_cameras`]).
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

/// Wall time and a one-line summary of one stage.
#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    /// Stage name (`undistortion`, `sparse_matching`, `depth_estimation`, `fusion`,
    /// `surface_reconstruction`).
    pub stage: &'static str,
    /// Wall time, seconds.
    pub seconds: f64,
    /// What it produced, for a progress line.
    pub summary: String,
}

/// Where a view's sweep range came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeSource {
    /// Quantiles of the sparse points' ray depths (the normal case).
    Sparse,
    /// The scene's stated Z extent ([`ReconstructOptions::fallback_z`]).
    SceneExtent,
    /// Sparse matching's whole search interval (no sparse range, no scene extent).
    SearchInterval,
}

/// The sweep range of one reference view.
#[derive(Debug, Clone, Serialize)]
pub struct ViewRange {
    /// Rig index.
    pub view: usize,
    /// Camera name.
    pub name: String,
    /// Ray-depth range swept, metres.
    pub range: (f32, f32),
    /// Where it came from.
    pub source: RangeSource,
    /// Sparse points in view.
    pub sparse_points: usize,
}

/// Everything [`reconstruct`] produced.
#[derive(Debug, Clone, Serialize)]
pub struct Reconstruction {
    /// Backend of the GPU stages ("gpu" or "cpu").
    pub backend: &'static str,
    /// The rig after undistortion (pinhole cameras).
    #[serde(skip)]
    pub rig: Rig,
    /// Undistorted images, one per camera.
    #[serde(skip)]
    pub images: Vec<Vec<f32>>,
    /// Reference views.
    pub references: Vec<usize>,
    /// Stage 2 output.
    pub sparse: SparseResult,
    /// Sweep range per reference view.
    pub ranges: Vec<ViewRange>,
    /// Stage 3 output, one per reference view.
    pub depth_maps: Vec<DepthMap>,
    /// Stage 4 output.
    pub cloud: FusedCloud,
    /// Stage 5 output.
    pub surface: Mesh,
    /// Per-stage wall time.
    pub stages: Vec<StageReport>,
    /// Problems that did not stop the run (fallback ranges, empty views, empty cloud).
    pub warnings: Vec<String>,
}

/// Ring cameras: every camera not directly above the patch centre (horizontal distance of
/// its centre from the Z axis > 1 mm), i.e. all but `center` in the reference rig.
pub fn ring_cameras(rig: &Rig) -> Vec<usize> {
    (0..rig.cameras.len())
        .filter(|&i| {
            let c = rig.cameras[i].center();
            c.x.hypot(c.y) > 1e-3
        })
        .collect()
}

/// Runs the five stages on recorded images (one per rig camera, distorted if the camera has
/// distortion), calling `progress` after each. Problems that leave a usable result — too
/// few sparse points for a view's range, a view without valid depth, an empty cloud — are
/// recorded in [`Reconstruction::warnings`], not returned as errors.
pub fn reconstruct(
    rig: &Rig,
    images: &[Vec<f32>],
    opts: &ReconstructOptions,
    backend: Backend<'_>,
    progress: &mut dyn FnMut(&StageReport),
) -> Result<Reconstruction, PipelineError> {
    crate::check_views(rig, images)?;
    let references = opts.references.clone().unwrap_or_else(|| ring_cameras(rig));
    if references.is_empty() {
        return Err(PipelineError::Input("no reference views".into()));
    }
    if let Some(&r) = references.iter().find(|&&r| r >= rig.cameras.len()) {
        return Err(PipelineError::Input(format!(
            "reference index {r} is not in the rig"
        )));
    }
    let mut stages = Vec::new();
    let mut warnings = Vec::new();
    let mut report =
        |stage: &'static str, t: Instant, summary: String, stages: &mut Vec<StageReport>| {
            let r = StageReport {
                stage,
                seconds: t.elapsed().as_secs_f64(),
                summary,
            };
            progress(&r);
            stages.push(r);
        };

    // 1. Undistortion.
    let t = Instant::now();
    let distorted = rig
        .cameras
        .iter()
        .filter(|c| c.distortion.is_some_and(|d| !d.is_identity()))
        .count();
    let undistorted: Vec<Vec<f32>> = match backend {
        Backend::Gpu { device, queue } if distorted > 0 => {
            let gpu = GpuUndistort::new(device)?;
            rig.cameras
                .iter()
                .zip(images)
                .map(|(c, im)| gpu.run(device, queue, c, im, opts.undistort_fill))
                .collect::<Result<_, _>>()?
        }
        _ => rig
            .cameras
            .iter()
            .zip(images)
            .map(|(c, im)| undistort_cpu(c, im, opts.undistort_fill))
            .collect::<Result<_, _>>()?,
    };
    let mut pinhole = rig.clone();
    for c in &mut pinhole.cameras {
        c.distortion = None;
    }
    let rig = &pinhole;
    report(
        "undistortion",
        t,
        format!(
            "{distorted} of {} views had lens distortion",
            rig.cameras.len()
        ),
        &mut stages,
    );

    // 2. Sparse matching and sweep ranges.
    let t = Instant::now();
    let sparse = sparse_matching(rig, &undistorted, &references, &opts.sparse)?;
    let mut ranges = Vec::new();
    for &r in &references {
        let cam = &rig.cameras[r];
        let (range, source, n) = match sparse.ranges[r] {
            Some(s) => ((s.min, s.max), RangeSource::Sparse, s.points),
            None => {
                let n = sparse
                    .points
                    .iter()
                    .filter(|p| {
                        cam.project(&nalgebra::Point3::from(p.position))
                            .is_some_and(|pr| {
                                pr.pixel.x >= -0.5
                                    && pr.pixel.y >= -0.5
                                    && pr.pixel.x <= f64::from(cam.width) - 0.5
                                    && pr.pixel.y <= f64::from(cam.height) - 0.5
                            })
                    })
                    .count();
                let fallback = opts.fallback_z.and_then(|(z0, z1)| {
                    depth_range_from_z(cam, z0, z1, opts.fallback_margin).ok()
                });
                match fallback {
                    Some(rz) => {
                        warnings.push(format!(
                            "view {}: {n} sparse points in view (< {}), too few for a depth range; \
                             using the scene's stated depth extent: ray depth {:.3}-{:.3} m",
                            cam.name, opts.sparse.min_points_per_range, rz.0, rz.1
                        ));
                        (rz, RangeSource::SceneExtent, n)
                    }
                    None => {
                        let s = opts.sparse.search_depth;
                        let rs = ((s.0 as f32).max(1e-4), s.1 as f32);
                        warnings.push(format!(
                            "view {}: {n} sparse points in view (< {}), too few for a depth range, \
                             and no scene extent given; sweeping the whole search interval \
                             {:.3}-{:.3} m",
                            cam.name, opts.sparse.min_points_per_range, rs.0, rs.1
                        ));
                        (rs, RangeSource::SearchInterval, n)
                    }
                }
            }
        };
        ranges.push(ViewRange {
            view: r,
            name: cam.name.clone(),
            range,
            source,
            sparse_points: n,
        });
    }
    let matches: usize = sparse
        .stats
        .iter()
        .flat_map(|s| s.matches.iter().map(|m| m.1))
        .sum();
    report(
        "sparse_matching",
        t,
        format!(
            "{} keypoints, {matches} matches, {} sparse points, {} of {} ranges from sparse points",
            sparse.stats.iter().map(|s| s.keypoints).sum::<usize>(),
            sparse.points.len(),
            ranges
                .iter()
                .filter(|r| r.source == RangeSource::Sparse)
                .count(),
            ranges.len()
        ),
        &mut stages,
    );

    // 3. Depth estimation.
    let t = Instant::now();
    let range_list: Vec<(f32, f32)> = ranges.iter().map(|r| r.range).collect();
    let depth_maps = match backend {
        Backend::Gpu { device, queue } => {
            let sweep = GpuSweep::new(device).map_err(|source| PipelineError::Sweep {
                view: "(pipeline creation)".into(),
                source,
            })?;
            depth_estimation(
                rig,
                &undistorted,
                &references,
                &range_list,
                &opts.depth,
                SweepBackend::Gpu {
                    device,
                    queue,
                    sweep: &sweep,
                },
            )?
        }
        Backend::Cpu => depth_estimation(
            rig,
            &undistorted,
            &references,
            &range_list,
            &opts.depth,
            SweepBackend::Cpu,
        )?,
    };
    let mut valid_total = 0;
    for m in &depth_maps {
        let n = m.valid_count();
        valid_total += n;
        if n == 0 {
            warnings.push(format!(
                "view {}: the sweep found no valid depth (every pixel's best hypothesis is at an \
                 end of the range, or no ray reaches the water)",
                rig.cameras[m.view].name
            ));
        }
    }
    report(
        "depth_estimation",
        t,
        format!(
            "{} views, {:.1} % of pixels with a depth",
            depth_maps.len(),
            100.0 * valid_total as f64
                / depth_maps
                    .iter()
                    .map(|m| m.depth.len())
                    .sum::<usize>()
                    .max(1) as f64
        ),
        &mut stages,
    );

    // 4. Fusion.
    let t = Instant::now();
    let cloud = fuse(rig, &depth_maps, &opts.fusion)?;
    if cloud.points.is_empty() {
        warnings.push(format!(
            "the fused cloud is empty: no pixel with confidence >= {} was confirmed by {} other \
             views within {} m (per view valid/confident/consistent: {})",
            opts.fusion.min_confidence,
            opts.fusion.min_agreeing_views,
            opts.fusion.depth_tolerance,
            cloud
                .views
                .iter()
                .map(|v| format!("{}/{}/{}", v.valid, v.confident, v.consistent))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    report(
        "fusion",
        t,
        format!(
            "{} consistent points, {} after voxel downsampling",
            cloud.consistent,
            cloud.points.len()
        ),
        &mut stages,
    );

    // 5. Surface.
    let t = Instant::now();
    let surface = height_field_surface(&cloud.points, &opts.surface)?;
    if surface.faces.is_empty() {
        warnings.push("the surface mesh is empty (no 2x2 block of supported grid cells)".into());
    }
    report(
        "surface_reconstruction",
        t,
        format!(
            "{} vertices, {} triangles on a {}x{} grid",
            surface.vertices.len(),
            surface.faces.len(),
            surface.grid.0,
            surface.grid.1
        ),
        &mut stages,
    );

    Ok(Reconstruction {
        backend: match backend {
            Backend::Gpu { .. } => "gpu",
            Backend::Cpu => "cpu",
        },
        rig: pinhole.clone(),
        images: undistorted,
        references,
        sparse,
        ranges,
        depth_maps,
        cloud,
        surface,
        stages,
        warnings,
    })
}
