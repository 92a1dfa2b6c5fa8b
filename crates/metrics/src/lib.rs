//! Accuracy metrics: how close a reconstructed point cloud is to a ground-truth triangle mesh,
//! in the numbers AquaMVS users know and in the measures the field trusts.
//!
//! - [`evaluate`] turns a point cloud and a mesh into an [`AccuracyReport`] (serde): point →
//!   mesh distances (mean, median, std, RMSE, max, percentiles), the AquaMVS names
//!   (`mean_error_mm`, `median_error_mm`, `std_error_mm`, `raw_completeness_pct`,
//!   `accurate_completeness_pct`, `plane_fit_rmse_mm`, `plane_fit_max_error_mm`), and at every
//!   tolerance τ the ETH3D / Tanks and Temples precision, recall and F-score
//!   ([`ToleranceScore`]), plus DTU's mean accuracy and completeness with outliers beyond
//!   [`DTU_OUTLIER_CUT_MM`] cut.
//! - Building blocks: [`MeshIndex`] / [`point_to_mesh_distances`] (parry3d BVH, exact f64
//!   distances at the leaves, rayon), [`PointTree`] (k-d tree for ground truth → points),
//!   [`sample_mesh`] (uniform, seeded, area-proportional), [`plane_fit`] (SVD).
//!
//! Definitions:
//! - **precision(τ)** = % of reconstructed points within τ of the mesh;
//!   **recall(τ)** = % of ground-truth surface samples within τ of the nearest reconstructed
//!   point, the samples drawn uniformly and area-proportionally at
//!   [`EvalOptions::gt_sample_density_per_mm2`] from [`EvalOptions::seed`] (the density and
//!   count used are in the report); **F(τ)** = 2PR/(P+R), 0 when both are 0.
//! - `raw_completeness_pct` = points / (mesh area in mm²) × 100 (AquaMVS);
//!   `accurate_completeness_pct` = % of points within the **first** tolerance (AquaMVS; it is
//!   really a precision).
//! - "Within τ" means distance ≤ τ + [`WITHIN_SLACK_MM`] (1 µm), so that points stored as
//!   32-bit floats exactly at τ are not split by rounding.
//! - With [`EvalOptions::bounds`] the points and the ground-truth surface are both cropped to
//!   `x0 ≤ x ≤ x1, y0 ≤ y ≤ y1` (as Tanks and Temples crops to the evaluated volume); the mesh
//!   area and the samples come from the cropped surface; distances are still to the whole mesh.
//!
//! Conventions: **inputs are metres** (the workspace's world frame), **reported distances are
//! millimetres** (`*_mm`), **percentages are 0–100** (`*_pct`). Non-finite points are dropped,
//! counted and named in [`AccuracyReport::warnings`]; every other bad input is a typed
//! [`MetricsError`]. **A report never holds a NaN**: what may be undefined is an `Option`.
//!
//! Not here: file reading (`aquamvs_io::ply`), printing (xtask and `aquamvs-report`), signed
//! distances or inside/outside tests (distances are unsigned, to the surface).
//!
//! ```
//! use aquamvs_metrics::{evaluate, EvalOptions};
//! // A 1 m × 1 m square at z = 1 and two points 2 mm above and below it.
//! let v = [[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]];
//! let f = [[0, 1, 2], [0, 2, 3]];
//! let pts = [[0.3, 0.4, 1.002], [0.6, 0.5, 0.998]];
//! let r = evaluate(&pts, &v, &f, &EvalOptions::default()).unwrap();
//! assert!((r.mean_error_mm - 2.0).abs() < 1e-9);
//! assert_eq!(r.by_tolerance[1].precision_pct, 100.0); // τ = 2 mm
//! assert_eq!(r.by_tolerance[0].precision_pct, 0.0); // τ = 1 mm
//! ```

mod depth;
mod kdtree;
mod mesh;
mod plane;
mod results;
mod sample;
pub mod stats;

pub use depth::{
    DepthAgreement, DepthErrors, NormalErrors, SignedErrorMap, depth_agreement, depth_errors,
    normal_errors, signed_error_map,
};
pub use kdtree::PointTree;
pub use mesh::MeshIndex;
pub use plane::{PlaneFit, plane_fit};
pub use sample::{SimulatedMatcher, sample_mesh, sample_mesh_density};
pub use stats::{median, percentile};

use serde::{Deserialize, Serialize};

/// A point is "within τ" when its distance is at most τ + this (mm): 1 µm, far below any
/// reconstruction's accuracy, above the rounding of coordinates stored as f32 (≈ 0.1 µm at
/// the reference scene's 1.2 m).
pub const WITHIN_SLACK_MM: f64 = 1e-3;

/// DTU's outlier cut: distances beyond it are left out of the DTU-style means, mm.
pub const DTU_OUTLIER_CUT_MM: f64 = 20.0;

/// At most this many ground-truth samples are drawn (the density is lowered, with a warning).
pub const MAX_GT_SAMPLES: usize = 2_000_000;

/// At least this many ground-truth samples are drawn (the density is raised on small meshes,
/// so that recall is not a coarse estimate).
pub const MIN_GT_SAMPLES: usize = 10_000;

/// Options of [`evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalOptions {
    /// Tolerances τ, mm (finite, > 0). The first one is AquaMVS's tolerance for
    /// `accurate_completeness_pct`. Default `[1, 2, 5]`.
    pub tolerances_mm: Vec<f64>,
    /// Optional crop `[x0, x1, y0, y1]`, metres, `x0 < x1`, `y0 < y1`. Default: none.
    pub bounds: Option<[f64; 4]>,
    /// Density of the ground-truth surface samples for recall, per mm² (finite, > 0).
    /// Default 1 (one sample per mm², i.e. 1 mm spacing, below the smallest default τ);
    /// clamped to between [`MIN_GT_SAMPLES`] and [`MAX_GT_SAMPLES`] samples.
    pub gt_sample_density_per_mm2: f64,
    /// Seed of the surface sampling. Default 0.
    pub seed: u64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            tolerances_mm: vec![1.0, 2.0, 5.0],
            bounds: None,
            gt_sample_density_per_mm2: 1.0,
            seed: 0,
        }
    }
}

/// Precision, recall and F-score at one tolerance (percentages 0–100): the results format's
/// own type, filled in directly.
pub use aquamvs_results::ToleranceScore;

/// The result of [`evaluate`]. Distances in mm, percentages 0–100, never NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccuracyReport {
    /// Points given.
    pub n_points_input: usize,
    /// Points dropped because a coordinate was NaN or infinite.
    pub n_dropped_nonfinite: usize,
    /// Finite points outside the crop bounds.
    pub n_cropped_out: usize,
    /// Points evaluated (`n_points_input - n_dropped_nonfinite - n_cropped_out`).
    pub n_points: usize,
    /// The crop used, `[x0, x1, y0, y1]` metres.
    pub bounds: Option<[f64; 4]>,
    /// Faces of the mesh.
    pub n_triangles: usize,
    /// Faces left out as degenerate (zero area).
    pub n_degenerate_triangles: usize,
    /// Area of the ground-truth surface evaluated (inside the bounds if cropped), mm².
    pub mesh_area_mm2: f64,

    /// Mean point → mesh distance, mm (AquaMVS).
    pub mean_error_mm: f64,
    /// Median point → mesh distance, mm (AquaMVS).
    pub median_error_mm: f64,
    /// Standard deviation (population) of the point → mesh distances, mm (AquaMVS).
    pub std_error_mm: f64,
    /// Root mean square point → mesh distance, mm.
    pub rmse_mm: f64,
    /// Largest point → mesh distance, mm.
    pub max_error_mm: f64,
    /// 90th percentile of the point → mesh distances, mm.
    pub p90_error_mm: f64,
    /// 95th percentile, mm.
    pub p95_error_mm: f64,
    /// 99th percentile, mm.
    pub p99_error_mm: f64,

    /// Points per mm² of ground-truth surface × 100 (AquaMVS).
    pub raw_completeness_pct: f64,
    /// % of points within the first tolerance (AquaMVS; a precision).
    pub accurate_completeness_pct: f64,
    /// The tolerance of `accurate_completeness_pct`, mm.
    pub accurate_completeness_tolerance_mm: f64,
    /// RMS distance of the points to their own best-fit plane, mm (AquaMVS); `None` when the
    /// plane is undefined (fewer than 3 points, or collinear).
    pub plane_fit_rmse_mm: Option<f64>,
    /// Largest distance of a point to its best-fit plane, mm (AquaMVS).
    pub plane_fit_max_error_mm: Option<f64>,
    /// Unit normal of the best-fit plane (largest component positive).
    pub plane_normal: Option<[f64; 3]>,

    /// Precision, recall and F-score at each tolerance, in the order given.
    pub by_tolerance: Vec<ToleranceScore>,
    /// DTU-style accuracy: mean point → mesh distance of the points within
    /// [`DTU_OUTLIER_CUT_MM`], mm; `None` if no point is.
    pub dtu_accuracy_mm: Option<f64>,
    /// DTU-style completeness: mean ground-truth sample → nearest point distance of the
    /// samples within [`DTU_OUTLIER_CUT_MM`], mm; `None` if no sample is.
    pub dtu_completeness_mm: Option<f64>,

    /// Ground-truth surface samples drawn (after cropping).
    pub n_gt_samples: usize,
    /// Their density, per mm² (the requested one unless clamped).
    pub gt_sample_density_per_mm2: f64,
    /// Seed of the sampling.
    pub gt_sample_seed: u64,
    /// Things the reader should know (dropped points, degenerate triangles, clamped density).
    pub warnings: Vec<String>,
}

/// Why an evaluation could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// No point left to evaluate.
    #[error("the point cloud is empty ({n_input} points given, {n_nonfinite} dropped as NaN/inf)")]
    EmptyCloud {
        /// Points given.
        n_input: usize,
        /// Of which non-finite.
        n_nonfinite: usize,
    },
    /// Every finite point lies outside the crop bounds.
    #[error("none of the {n_finite} finite points lies inside the bounds {bounds:?}")]
    NoPointsInBounds {
        /// Finite points given.
        n_finite: usize,
        /// The crop.
        bounds: [f64; 4],
    },
    /// The ground-truth mesh has no triangle inside the crop bounds.
    #[error("the ground-truth mesh has no surface inside the bounds {bounds:?}")]
    NoMeshInBounds {
        /// The crop.
        bounds: [f64; 4],
    },
    /// The mesh has no faces.
    #[error("the ground-truth mesh has no triangles")]
    NoTriangles,
    /// Every face of the mesh is degenerate (zero area).
    #[error("all {n} triangles of the ground-truth mesh are degenerate (zero area)")]
    AllTrianglesDegenerate {
        /// Faces.
        n: usize,
    },
    /// A face refers to a vertex that does not exist.
    #[error("mesh face {face} refers to vertex {index}, but there are {n_vertices} vertices")]
    FaceIndexOutOfRange {
        /// The face.
        face: usize,
        /// The bad index.
        index: u32,
        /// Vertices in the mesh.
        n_vertices: usize,
    },
    /// A face uses a vertex with a NaN or infinite coordinate.
    #[error("mesh vertex {index} has a NaN or infinite coordinate")]
    NonFiniteVertex {
        /// The vertex.
        index: usize,
    },
    /// No tolerance was given.
    #[error("no tolerance given")]
    NoTolerances,
    /// A tolerance is not a finite positive number of mm.
    #[error("tolerance {0} mm is not a finite positive number")]
    InvalidTolerance(f64),
    /// The crop bounds are not finite with x0 < x1 and y0 < y1.
    #[error("bounds {0:?} are not [x0, x1, y0, y1] with finite x0 < x1 and y0 < y1")]
    InvalidBounds([f64; 4]),
    /// The sampling density is not a finite positive number.
    #[error("ground-truth sample density {0} per mm² is not a finite positive number")]
    InvalidDensity(f64),
    /// A point has a NaN or infinite coordinate ([`point_to_mesh_distances`]; [`evaluate`]
    /// drops such points instead).
    #[error("point {index} has a NaN or infinite coordinate")]
    NonFinitePoint {
        /// The point.
        index: usize,
    },
    /// A distance overflowed (coordinates beyond about 1e150).
    #[error("a distance is not finite: coordinates are too large")]
    NonFiniteDistance,
    /// A simulated matcher's recipe is invalid.
    #[error("invalid simulated matcher: {0}")]
    InvalidSimulation(String),
    /// The best-fit plane is not defined.
    #[error("plane fit undefined: {0}")]
    PlaneUndefined(String),
}

/// Unsigned distance (metres) from each point to the nearest point of the mesh surface.
///
/// Errors as [`MeshIndex::new`]; non-finite points are an error here (use [`evaluate`] to
/// drop them).
pub fn point_to_mesh_distances(
    points: &[[f64; 3]],
    vertices: &[[f64; 3]],
    faces: &[[u32; 3]],
) -> Result<Vec<f64>, MetricsError> {
    let index = MeshIndex::new(vertices, faces)?;
    if let Some(i) = points.iter().position(|p| p.iter().any(|c| !c.is_finite())) {
        return Err(MetricsError::NonFinitePoint { index: i });
    }
    Ok(index.distances(points))
}

fn check_options(opts: &EvalOptions) -> Result<(), MetricsError> {
    if opts.tolerances_mm.is_empty() {
        return Err(MetricsError::NoTolerances);
    }
    if let Some(&t) = opts
        .tolerances_mm
        .iter()
        .find(|t| !(**t > 0.0 && t.is_finite()))
    {
        return Err(MetricsError::InvalidTolerance(t));
    }
    if let Some(b) = opts.bounds
        && !(b.iter().all(|c| c.is_finite()) && b[0] < b[1] && b[2] < b[3])
    {
        return Err(MetricsError::InvalidBounds(b));
    }
    let d = opts.gt_sample_density_per_mm2;
    if !(d > 0.0 && d.is_finite()) {
        return Err(MetricsError::InvalidDensity(d));
    }
    Ok(())
}

fn pct(count: usize, total: usize) -> f64 {
    100.0 * count as f64 / total as f64
}

fn fscore(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

/// Evaluates a reconstructed point cloud against a ground-truth mesh (all inputs in metres).
/// See the crate documentation for the definitions.
///
/// Errors: bad options (no/invalid tolerance, bad bounds or density), a bad mesh (no faces,
/// out-of-range index, non-finite vertex, only degenerate faces), no finite point, no point
/// or no surface inside the bounds.
pub fn evaluate(
    points: &[[f64; 3]],
    vertices: &[[f64; 3]],
    faces: &[[u32; 3]],
    opts: &EvalOptions,
) -> Result<AccuracyReport, MetricsError> {
    check_options(opts)?;
    let index = MeshIndex::new(vertices, faces)?;
    let mut warnings = Vec::new();

    // Points: drop non-finite, crop.
    let finite: Vec<[f64; 3]> = points
        .iter()
        .filter(|p| p.iter().all(|c| c.is_finite()))
        .copied()
        .collect();
    let n_dropped_nonfinite = points.len() - finite.len();
    if finite.is_empty() {
        return Err(MetricsError::EmptyCloud {
            n_input: points.len(),
            n_nonfinite: n_dropped_nonfinite,
        });
    }
    if n_dropped_nonfinite > 0 {
        warnings.push(format!(
            "{n_dropped_nonfinite} of {} points have NaN or infinite coordinates and were dropped",
            points.len()
        ));
    }
    let (pts, n_cropped_out) = match opts.bounds {
        None => (finite, 0),
        Some(b) => {
            let n_finite = finite.len();
            let kept: Vec<[f64; 3]> = finite
                .into_iter()
                .filter(|p| p[0] >= b[0] && p[0] <= b[1] && p[1] >= b[2] && p[1] <= b[3])
                .collect();
            if kept.is_empty() {
                return Err(MetricsError::NoPointsInBounds {
                    n_finite,
                    bounds: b,
                });
            }
            let out = n_finite - kept.len();
            (kept, out)
        }
    };
    if index.n_degenerate() > 0 {
        warnings.push(format!(
            "{} of {} mesh triangles are degenerate (zero area) and were ignored",
            index.n_degenerate(),
            index.n_faces()
        ));
    }

    // Point → mesh.
    let dist_mm: Vec<f64> = index.distances(&pts).into_iter().map(|d| d * 1e3).collect();
    if dist_mm.iter().any(|d| !d.is_finite()) {
        return Err(MetricsError::NonFiniteDistance);
    }
    let s = stats::summarize(&dist_mm);

    // Ground-truth surface (cropped) and its samples.
    let surface = match opts.bounds {
        None => index.tris.clone(),
        Some(b) => sample::crop_triangles(&index.tris, b),
    };
    let area_mm2: f64 = surface.iter().map(|t| t.area()).sum::<f64>() * 1e6;
    if surface.is_empty() || !(area_mm2 > 0.0) {
        // Not reached without bounds: the mesh has a non-degenerate triangle.
        return Err(MetricsError::NoMeshInBounds {
            bounds: opts.bounds.unwrap_or([0.0; 4]),
        });
    }
    let wanted = (area_mm2 * opts.gt_sample_density_per_mm2).round();
    let n_samples = if wanted > MAX_GT_SAMPLES as f64 {
        warnings.push(format!(
            "ground-truth sampling capped at {MAX_GT_SAMPLES} samples: density lowered from \
             {} to {:.4} per mm²",
            opts.gt_sample_density_per_mm2,
            MAX_GT_SAMPLES as f64 / area_mm2
        ));
        MAX_GT_SAMPLES
    } else {
        (wanted as usize).max(MIN_GT_SAMPLES)
    };
    let samples = sample::sample_triangles(&surface, n_samples, opts.seed);
    // In Morton order, neighbouring queries walk the same part of the k-d tree (cache).
    let samples: Vec<[f64; 3]> = mesh::morton_order(&samples)
        .into_iter()
        .map(|i| samples[i as usize])
        .collect();

    // Ground truth → points.
    let max_tol = opts.tolerances_mm.iter().copied().fold(0.0, f64::max);
    let radius_m = (max_tol + WITHIN_SLACK_MM).max(DTU_OUTLIER_CUT_MM) * 1e-3;
    let tree = PointTree::new(&pts);
    let nn_mm: Vec<Option<f64>> = kdtree::nearest_all(&tree, &samples, radius_m)
        .into_iter()
        .map(|d| d.map(|d| d * 1e3))
        .collect();

    let by_tolerance: Vec<ToleranceScore> = opts
        .tolerances_mm
        .iter()
        .map(|&t| {
            let lim = t + WITHIN_SLACK_MM;
            let p = pct(dist_mm.iter().filter(|&&d| d <= lim).count(), dist_mm.len());
            let r = pct(
                nn_mm.iter().filter(|d| d.is_some_and(|d| d <= lim)).count(),
                nn_mm.len(),
            );
            ToleranceScore {
                tolerance_mm: t,
                precision_pct: p,
                recall_pct: r,
                fscore_pct: fscore(p, r),
            }
        })
        .collect();

    let mean_of = |it: &mut dyn Iterator<Item = f64>| {
        let (sum, n) = it.fold((0.0, 0usize), |(s, n), d| (s + d, n + 1));
        (n > 0).then(|| sum / n as f64)
    };
    let dtu_accuracy_mm =
        mean_of(&mut dist_mm.iter().copied().filter(|&d| d <= DTU_OUTLIER_CUT_MM));
    let dtu_completeness_mm = mean_of(
        &mut nn_mm
            .iter()
            .filter_map(|d| *d)
            .filter(|&d| d <= DTU_OUTLIER_CUT_MM),
    );

    let plane = match plane_fit(&pts) {
        Ok(p) => Some(p),
        Err(e) => {
            warnings.push(format!("{e}: plane_fit_* left empty"));
            None
        }
    };

    Ok(AccuracyReport {
        n_points_input: points.len(),
        n_dropped_nonfinite,
        n_cropped_out,
        n_points: pts.len(),
        bounds: opts.bounds,
        n_triangles: index.n_faces(),
        n_degenerate_triangles: index.n_degenerate(),
        mesh_area_mm2: area_mm2,
        mean_error_mm: s.mean,
        median_error_mm: s.median,
        std_error_mm: s.std,
        rmse_mm: s.rmse,
        max_error_mm: s.max,
        p90_error_mm: s.p90,
        p95_error_mm: s.p95,
        p99_error_mm: s.p99,
        raw_completeness_pct: pts.len() as f64 / area_mm2 * 100.0,
        accurate_completeness_pct: by_tolerance[0].precision_pct,
        accurate_completeness_tolerance_mm: by_tolerance[0].tolerance_mm,
        plane_fit_rmse_mm: plane.map(|p| p.rmse_mm),
        plane_fit_max_error_mm: plane.map(|p| p.max_error_mm),
        plane_normal: plane.map(|p| p.normal),
        by_tolerance,
        dtu_accuracy_mm,
        dtu_completeness_mm,
        n_gt_samples: samples.len(),
        gt_sample_density_per_mm2: samples.len() as f64 / area_mm2,
        gt_sample_seed: opts.seed,
        warnings,
    })
}
