//! The one chain of the five stages: undistortion → sparse matching (depth ranges) → depth
//! estimation → fusion → surface, each timed and observed.

use std::time::Instant;

use aquamvs_camera::Rig;
use aquamvs_sweep::{GpuSweep, depth_range_from_z};
use serde::Serialize;

use crate::observe::{StageKind, observed};
use crate::{
    DepthMap, FusedCloud, GpuUndistort, Mesh, Observer, PipelineError, ReconstructOptions,
    SparseResult, fuse, height_field_surface, sparse_matching, undistort_cpu,
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

/// The GPU stages' pipelines, built once per [`Pipeline`].
pub(crate) struct GpuStages<'a> {
    pub device: &'a wgpu::Device,
    pub queue: &'a wgpu::Queue,
    pub sweep: GpuSweep,
    pub patchmatch: aquamvs_patchmatch::GpuPatchMatch,
    pub undistort: GpuUndistort,
}

/// The pipeline on one backend: GPU pipelines are built once in [`Pipeline::new`] and reused
/// by every run. [`Pipeline::reconstruct`] is the only code that chains the stages.
pub struct Pipeline<'a> {
    pub(crate) gpu: Option<GpuStages<'a>>,
}

impl std::fmt::Debug for Pipeline<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("backend", &self.backend_name())
            .finish()
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

/// The five stages, in pipeline order.
pub const STAGES: [&str; 5] = [
    "undistortion",
    "sparse_matching",
    "depth_estimation",
    "fusion",
    "surface_reconstruction",
];

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

/// Everything [`Pipeline::reconstruct`] produced.
#[derive(Debug, Clone, Serialize)]
pub struct Reconstruction {
    /// Backend of the GPU stages ("gpu" or "cpu").
    pub backend: &'static str,
    /// The options as run: the given ones fitted to the rig ([`ReconstructOptions::fit`]).
    pub options: ReconstructOptions,
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
    /// Problems that did not stop the run (options fitted to a small rig, fallback ranges,
    /// empty views, empty cloud).
    pub warnings: Vec<String>,
}

/// What each stage produced, counted: shows that every stage did its real work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Views through stage 1.
    pub views_undistorted: usize,
    /// Keypoints over all reference views.
    pub keypoints: usize,
    /// Accepted matches over all (reference, source) pairs.
    pub matches: usize,
    /// Triangulated sparse points.
    pub sparse_points: usize,
    /// Reference views whose range came from the sparse points.
    pub ranges_from_sparse_points: usize,
    /// Reference views whose range came from the scene's stated extent.
    pub ranges_from_scene_extent: usize,
    /// Depth maps.
    pub depth_maps: usize,
    /// Pixels with a valid depth over all depth maps.
    pub valid_depth_pixels: usize,
    /// Consistent points before voxel downsampling.
    pub consistent_points: usize,
    /// Points of the fused cloud.
    pub fused_points: usize,
    /// Surface vertices.
    pub mesh_vertices: usize,
    /// Surface triangles.
    pub mesh_faces: usize,
}

impl Reconstruction {
    /// What each stage produced.
    pub fn counts(&self) -> Counts {
        let ranges = |s| self.ranges.iter().filter(|v| v.source == s).count();
        Counts {
            views_undistorted: self.images.len(),
            keypoints: self.sparse.stats.iter().map(|s| s.keypoints).sum(),
            matches: self
                .sparse
                .stats
                .iter()
                .flat_map(|s| s.matches.iter().map(|m| m.1))
                .sum(),
            sparse_points: self.sparse.points.len(),
            ranges_from_sparse_points: ranges(RangeSource::Sparse),
            ranges_from_scene_extent: ranges(RangeSource::SceneExtent),
            depth_maps: self.depth_maps.len(),
            valid_depth_pixels: self.depth_maps.iter().map(DepthMap::valid_count).sum(),
            consistent_points: self.cloud.consistent,
            fused_points: self.cloud.points.len(),
            mesh_vertices: self.surface.vertices.len(),
            mesh_faces: self.surface.faces.len(),
        }
    }
}

/// The default reference views: every camera that is not auxiliary (all of them if every
/// camera is), i.e. all but `center` in the reference rig.
pub fn reference_views(rig: &Rig) -> Vec<usize> {
    let own: Vec<usize> = (0..rig.cameras.len())
        .filter(|&i| !rig.cameras[i].auxiliary)
        .collect();
    if own.is_empty() {
        (0..rig.cameras.len()).collect()
    } else {
        own
    }
}

impl<'a> Pipeline<'a> {
    /// The pipeline on `backend`, its GPU pipelines built now.
    pub fn new(backend: Backend<'a>) -> Result<Self, PipelineError> {
        let gpu = match backend {
            Backend::Gpu { device, queue } => Some(GpuStages {
                device,
                queue,
                sweep: GpuSweep::new(device).map_err(|source| PipelineError::Sweep {
                    view: "(pipeline creation)".into(),
                    source,
                })?,
                patchmatch: aquamvs_patchmatch::GpuPatchMatch::new(device).map_err(|source| {
                    PipelineError::PatchMatch {
                        view: "(pipeline creation)".into(),
                        source,
                    }
                })?,
                undistort: GpuUndistort::new(device)?,
            }),
            Backend::Cpu => None,
        };
        Ok(Self { gpu })
    }

    /// "gpu" or "cpu".
    pub fn backend_name(&self) -> &'static str {
        match self.gpu {
            Some(_) => "gpu",
            None => "cpu",
        }
    }

    /// Runs the five stages on recorded images (one per rig camera, distorted if the camera
    /// has distortion). `opts` are first fitted to the rig ([`ReconstructOptions::fit`]).
    /// `obs` sees every stage and view begin and end. Problems that leave a usable result —
    /// options lowered for a small rig, too few sparse points for a view's range, a view
    /// without valid depth, an empty cloud — are recorded in [`Reconstruction::warnings`], not
    /// returned as errors.
    pub fn reconstruct(
        &self,
        rig: &Rig,
        images: &[Vec<f32>],
        opts: &ReconstructOptions,
        obs: &mut dyn Observer,
    ) -> Result<Reconstruction, PipelineError> {
        crate::check_views(rig, images)?;
        let (opts, mut warnings) = opts.fit(rig)?;
        let references = opts.references.clone().expect("fit sets the references");
        let mut stages = Vec::new();
        let mut stage =
            |name: &'static str,
             kind: StageKind,
             obs: &mut dyn Observer,
             run: &mut dyn FnMut(&mut dyn Observer) -> Result<String, PipelineError>|
             -> Result<(), PipelineError> {
                let t = Instant::now();
                let summary = observed(obs, name, kind, |obs| run(obs))?;
                let report = StageReport {
                    stage: name,
                    seconds: t.elapsed().as_secs_f64(),
                    summary,
                };
                obs.stage_done(&report);
                stages.push(report);
                Ok(())
            };

        // 1. Undistortion.
        let distorted = rig
            .cameras
            .iter()
            .filter(|c| c.distortion.is_some_and(|d| !d.is_identity()))
            .count();
        let kind = if distorted > 0 {
            self.kind()
        } else {
            StageKind::Cpu
        };
        let mut undistorted = Vec::new();
        stage("undistortion", kind, obs, &mut |obs| {
            undistorted = self.undistort(rig, images, opts.undistort_fill, kind, obs)?;
            Ok(format!(
                "{distorted} of {} views had lens distortion",
                rig.cameras.len()
            ))
        })?;
        let mut pinhole = rig.clone();
        for c in &mut pinhole.cameras {
            c.distortion = None;
        }
        let rig = &pinhole;

        // 2. Sparse matching and sweep ranges.
        let mut sparse = None;
        let mut ranges = Vec::new();
        stage("sparse_matching", StageKind::Cpu, obs, &mut |_| {
            let s = sparse_matching(rig, &undistorted, &references, &opts.sparse)?;
            ranges = view_ranges(rig, &s, &references, &opts, &mut warnings);
            let matches: usize = s
                .stats
                .iter()
                .flat_map(|v| v.matches.iter().map(|m| m.1))
                .sum();
            let summary = format!(
                "{} keypoints, {matches} matches, {} sparse points, {} of {} ranges from sparse points",
                s.stats.iter().map(|v| v.keypoints).sum::<usize>(),
                s.points.len(),
                ranges
                    .iter()
                    .filter(|r| r.source == RangeSource::Sparse)
                    .count(),
                ranges.len()
            );
            sparse = Some(s);
            Ok(summary)
        })?;
        let sparse = sparse.expect("stage 2 ran");

        // 3. Depth estimation.
        let mut depth_maps = Vec::new();
        stage("depth_estimation", self.kind(), obs, &mut |obs| {
            let range_list: Vec<(f32, f32)> = ranges.iter().map(|r| r.range).collect();
            depth_maps = self.depth_estimation(
                rig,
                &undistorted,
                &references,
                &range_list,
                &opts.depth,
                obs,
            )?;
            for m in &depth_maps {
                if m.valid_count() == 0 {
                    warnings.push(format!(
                        "view {}: the sweep found no valid depth (every pixel's best hypothesis \
                         is at an end of the range, or no ray reaches the water)",
                        rig.cameras[m.view].name
                    ));
                }
            }
            Ok(format!(
                "{} views, {:.1} % of pixels with a depth",
                depth_maps.len(),
                100.0 * valid_fraction(&depth_maps)
            ))
        })?;

        // 4. Fusion.
        let mut cloud = None;
        stage("fusion", StageKind::Cpu, obs, &mut |_| {
            let c = fuse(rig, &depth_maps, &opts.fusion)?;
            if c.points.is_empty() {
                warnings.push(empty_cloud_warning(&c, &opts));
            }
            let summary = format!(
                "{} consistent points, {} after voxel downsampling",
                c.consistent,
                c.points.len()
            );
            cloud = Some(c);
            Ok(summary)
        })?;
        let cloud = cloud.expect("stage 4 ran");

        // 5. Surface.
        let mut surface = None;
        stage("surface_reconstruction", StageKind::Cpu, obs, &mut |_| {
            let m = height_field_surface(&cloud.points, &opts.surface)?;
            if m.faces.is_empty() {
                warnings.push(
                    "the surface mesh is empty (no 2x2 block of supported grid cells)".into(),
                );
            }
            let summary = format!(
                "{} vertices, {} triangles on a {}x{} grid",
                m.vertices.len(),
                m.faces.len(),
                m.grid.0,
                m.grid.1
            );
            surface = Some(m);
            Ok(summary)
        })?;

        Ok(Reconstruction {
            backend: self.backend_name(),
            options: opts,
            rig: pinhole.clone(),
            images: undistorted,
            references,
            sparse,
            ranges,
            depth_maps,
            cloud,
            surface: surface.expect("stage 5 ran"),
            stages,
            warnings,
        })
    }

    /// Stage 1: every image remapped to its camera's pinhole model, each view observed as
    /// `undistortion/<camera>`; on the GPU when `kind` is [`StageKind::Gpu`].
    fn undistort(
        &self,
        rig: &Rig,
        images: &[Vec<f32>],
        fill: f32,
        kind: StageKind,
        obs: &mut dyn Observer,
    ) -> Result<Vec<Vec<f32>>, PipelineError> {
        rig.cameras
            .iter()
            .zip(images)
            .map(|(cam, im)| {
                observed(
                    obs,
                    &format!("undistortion/{}", cam.name),
                    kind,
                    |_| match (&self.gpu, kind) {
                        (Some(g), StageKind::Gpu) => {
                            g.undistort.run(g.device, g.queue, cam, im, fill)
                        }
                        _ => undistort_cpu(cam, im, fill),
                    },
                )
            })
            .collect()
    }
}

/// Each reference view's sweep range: from the sparse points, else the scene's stated
/// extent, else the whole search interval (with a warning for each fallback).
fn view_ranges(
    rig: &Rig,
    sparse: &SparseResult,
    references: &[usize],
    opts: &ReconstructOptions,
    warnings: &mut Vec<String>,
) -> Vec<ViewRange> {
    references
        .iter()
        .map(|&r| {
            let cam = &rig.cameras[r];
            let (range, source, n) = match sparse.ranges[r] {
                Some(s) => ((s.min, s.max), RangeSource::Sparse, s.points),
                None => {
                    let n = sparse
                        .points
                        .iter()
                        .filter(|p| {
                            cam.project(&nalgebra::Point3::from(p.position))
                                .is_some_and(|pr| cam.contains(pr.pixel.x, pr.pixel.y))
                        })
                        .count();
                    let too_few = format!(
                        "view {}: {n} sparse points in view (< {}), too few for a depth range",
                        cam.name, opts.sparse.min_points_per_range
                    );
                    let fallback = opts.fallback_z.and_then(|(z0, z1)| {
                        depth_range_from_z(cam, z0, z1, opts.fallback_margin).ok()
                    });
                    match fallback {
                        Some(rz) => {
                            warnings.push(format!(
                                "{too_few}; using the scene's stated depth extent: ray depth \
                                 {:.3}-{:.3} m",
                                rz.0, rz.1
                            ));
                            (rz, RangeSource::SceneExtent, n)
                        }
                        None => {
                            let s = opts.sparse.search_depth;
                            let rs = ((s.0 as f32).max(1e-4), s.1 as f32);
                            warnings.push(format!(
                                "{too_few}, and no scene extent given; sweeping the whole search \
                                 interval {:.3}-{:.3} m",
                                rs.0, rs.1
                            ));
                            (rs, RangeSource::SearchInterval, n)
                        }
                    }
                }
            };
            ViewRange {
                view: r,
                name: cam.name.clone(),
                range,
                source,
                sparse_points: n,
            }
        })
        .collect()
}

fn empty_cloud_warning(cloud: &FusedCloud, opts: &ReconstructOptions) -> String {
    format!(
        "the fused cloud is empty: no pixel with confidence >= {} was confirmed by {} other views \
         within {} m (per view valid/confident/consistent: {})",
        opts.fusion.min_confidence,
        opts.fusion.min_agreeing_views,
        opts.fusion.depth_tolerance,
        cloud
            .views
            .iter()
            .map(|v| format!("{}/{}/{}", v.valid, v.confident, v.consistent))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The depth maps' share of valid pixels, for summaries.
pub fn valid_fraction(maps: &[DepthMap]) -> f64 {
    let pixels: usize = maps.iter().map(|m| m.depth.len()).sum();
    maps.iter().map(DepthMap::valid_count).sum::<usize>() as f64 / pixels.max(1) as f64
}
