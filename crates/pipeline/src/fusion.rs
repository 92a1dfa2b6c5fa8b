//! Stage 4, fusion: confidence filter, multi-view depth consistency, back-projection and voxel
//! downsampling of per-view depth maps into one point cloud.

use aquamvs_camera::{Camera, Rig};
use nalgebra::Point3;
use rayon::prelude::*;
use serde::Serialize;

use crate::PipelineError;

/// A per-view depth map, as the sweep returns it.
///
/// **Depth is ray depth** (metres along the refracted ray of the pixel, from its water-surface
/// crossing), row-major `height × width`, **NaN where invalid**; pixel centres at integer
/// coordinates of the undistorted image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepthMap {
    /// Rig index of the camera.
    pub view: usize,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Ray depth per pixel, metres (NaN invalid).
    #[serde(skip)]
    pub depth: Vec<f32>,
    /// Confidence per pixel in [0, 1].
    #[serde(skip)]
    pub confidence: Vec<f32>,
    /// Unit normals (world frame, toward the cameras), `H×W×3`, NaN where invalid: PatchMatch
    /// only.
    #[serde(skip)]
    pub normal: Option<Vec<f32>>,
}

impl DepthMap {
    /// Pixels with a finite depth.
    pub fn valid_count(&self) -> usize {
        self.depth.iter().filter(|d| d.is_finite()).count()
    }
}

/// Options of [`fuse`].
#[derive(Debug, Clone, Serialize)]
pub struct FusionOptions {
    /// Pixels below this confidence are dropped, in the view itself and as witnesses
    /// (AquaMVS: 0.1).
    pub min_confidence: f32,
    /// Another view agrees when its depth map, at the point's projection, differs from the
    /// point's ray depth in that view by less than this, metres (AquaMVS: 0.005).
    pub depth_tolerance: f32,
    /// A point survives if at least this many *other* views agree (AquaMVS: 3). With 12
    /// ring views that each see the patch, 3 independent witnesses make a chance agreement
    /// of wrong depths very unlikely, while pixels near a view's edge, which fewer
    /// neighbours see, still survive.
    pub min_agreeing_views: usize,
    /// Edge of the downsampling voxels, metres (AquaMVS: 0.001); each occupied voxel gives
    /// the centroid of its points. 0 disables downsampling.
    pub voxel_size: f64,
}

impl Default for FusionOptions {
    fn default() -> Self {
        Self {
            min_confidence: 0.1,
            depth_tolerance: 0.005,
            min_agreeing_views: 3,
            voxel_size: 0.001,
        }
    }
}

/// Counts of one view's fusion.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ViewFusionStats {
    /// Rig index.
    pub view: usize,
    /// Pixels with a finite depth.
    pub valid: usize,
    /// Of those, pixels at or above the confidence threshold.
    pub confident: usize,
    /// Of those, pixels confirmed by enough other views.
    pub consistent: usize,
}

/// The fused point cloud.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FusedCloud {
    /// Points (voxel centroids), metres, world frame.
    #[serde(skip)]
    pub points: Vec<[f64; 3]>,
    /// Per-view counts.
    pub views: Vec<ViewFusionStats>,
    /// Consistent points before downsampling.
    pub consistent: usize,
}

/// Reads a depth map at a sub-pixel position: bilinear when the four neighbours are valid
/// (finite, confident), else the nearest pixel if it is valid.
fn lookup(map: &DepthMap, min_conf: f32, u: f64, v: f64) -> Option<f32> {
    let (w, h) = (map.width as usize, map.height as usize);
    if !(u > -0.5 && v > -0.5 && u < w as f64 - 0.5 && v < h as f64 - 0.5) {
        return None;
    }
    let ok = |x: usize, y: usize| {
        let i = y * w + x;
        let d = map.depth[i];
        (d.is_finite() && map.confidence[i] >= min_conf).then_some(d)
    };
    let (x0, y0) = (u.floor().max(0.0) as usize, v.floor().max(0.0) as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    if let (Some(a), Some(b), Some(c), Some(d)) = (ok(x0, y0), ok(x1, y0), ok(x0, y1), ok(x1, y1)) {
        let (ax, ay) = (
            (u - x0 as f64).clamp(0.0, 1.0) as f32,
            (v - y0 as f64).clamp(0.0, 1.0) as f32,
        );
        let top = a + (b - a) * ax;
        let bottom = c + (d - c) * ax;
        return Some(top + (bottom - top) * ay);
    }
    let (xn, yn) = (
        (u.round().max(0.0) as usize).min(w - 1),
        (v.round().max(0.0) as usize).min(h - 1),
    );
    ok(xn, yn)
}

fn check_map<'r>(rig: &'r Rig, m: &DepthMap) -> Result<&'r Camera<f64>, PipelineError> {
    let cam = rig.cameras.get(m.view).ok_or_else(|| {
        PipelineError::Input(format!("depth map of view {} not in the rig", m.view))
    })?;
    let n = cam.width as usize * cam.height as usize;
    if m.width != cam.width
        || m.height != cam.height
        || m.depth.len() != n
        || m.confidence.len() != n
    {
        return Err(PipelineError::Input(format!(
            "depth map of {} is {}x{} with {} depths / {} confidences, camera is {}x{}",
            cam.name,
            m.width,
            m.height,
            m.depth.len(),
            m.confidence.len(),
            cam.width,
            cam.height
        )));
    }
    Ok(cam)
}

/// Fuses depth maps into one cloud (AquaMVS's rules): keep pixels with confidence ≥
/// `min_confidence`; back-project each (`cast_ray(u, v).at(depth)`); keep the point if at
/// least `min_agreeing_views` other maps, at its projection, hold a ray depth within
/// `depth_tolerance` of the point's ray depth in that view; downsample to `voxel_size`
/// voxel centroids. An empty result is not an error (see [`FusedCloud::views`] for why).
pub fn fuse(
    rig: &Rig,
    maps: &[DepthMap],
    opts: &FusionOptions,
) -> Result<FusedCloud, PipelineError> {
    let cams: Vec<&Camera<f64>> = maps
        .iter()
        .map(|m| check_map(rig, m))
        .collect::<Result<_, _>>()?;
    if !(opts.depth_tolerance > 0.0) || !(opts.voxel_size >= 0.0) {
        return Err(PipelineError::Input(
            "fusion needs depth_tolerance > 0 and voxel_size >= 0".into(),
        ));
    }
    // One task per (view, row): rows balance the two cores better than views (3–4 maps),
    // and every row starts its warm-start guesses afresh, so the result does not depend on
    // the thread count or the scheduling. Rows are gathered back in order.
    let others: Vec<Vec<usize>> = (0..maps.len())
        .map(|i| {
            (0..maps.len())
                .filter(|&j| j != i && maps[j].view != maps[i].view)
                .collect()
        })
        .collect();
    let tasks: Vec<(usize, u32)> = maps
        .iter()
        .enumerate()
        .flat_map(|(i, m)| (0..m.height).map(move |v| (i, v)))
        .collect();
    let rows: Vec<(usize, ViewFusionStats, Vec<[f64; 3]>)> = tasks
        .par_iter()
        .map(|&(i, v)| {
            let (m, cam, others) = (&maps[i], cams[i], &others[i]);
            let mut stats = ViewFusionStats::default();
            let mut pts = Vec::new();
            let need = opts.min_agreeing_views;
            let mut guesses = vec![None; maps.len()];
            for u in 0..m.width {
                let idx = (v * m.width + u) as usize;
                let d = m.depth[idx];
                if !d.is_finite() {
                    continue;
                }
                stats.valid += 1;
                if !(m.confidence[idx] >= opts.min_confidence) {
                    continue;
                }
                stats.confident += 1;
                let Some(ray) = cam.cast_ray(f64::from(u), f64::from(v)) else {
                    continue;
                };
                let p = ray.at(f64::from(d));
                let mut agree = 0;
                for (n_checked, &j) in others.iter().enumerate() {
                    if agree >= need || agree + (others.len() - n_checked) < need {
                        break;
                    }
                    let Some(pr) = cams[j].project_from(&p, guesses[j]) else {
                        continue;
                    };
                    guesses[j] = Some(pr.crossing_r);
                    if lookup(&maps[j], opts.min_confidence, pr.pixel.x, pr.pixel.y).is_some_and(
                        |dj| (f64::from(dj) - pr.depth).abs() < f64::from(opts.depth_tolerance),
                    ) {
                        agree += 1;
                    }
                }
                if agree >= need {
                    stats.consistent += 1;
                    pts.push(p.coords.into());
                }
            }
            (i, stats, pts)
        })
        .collect();
    let mut views: Vec<ViewFusionStats> = maps
        .iter()
        .map(|m| ViewFusionStats {
            view: m.view,
            ..Default::default()
        })
        .collect();
    let mut all = Vec::new();
    for (i, s, p) in rows {
        views[i].valid += s.valid;
        views[i].confident += s.confident;
        views[i].consistent += s.consistent;
        all.extend(p);
    }
    let consistent = all.len();
    let points = if opts.voxel_size > 0.0 {
        voxel_downsample(&all, opts.voxel_size)
    } else {
        all
    };
    Ok(FusedCloud {
        points,
        views,
        consistent,
    })
}

/// Replaces the points of every occupied `size`-edged voxel (grid aligned to the origin) by
/// their centroid; output ordered by voxel index (deterministic).
pub fn voxel_downsample(points: &[[f64; 3]], size: f64) -> Vec<[f64; 3]> {
    // Keys in parallel, then a parallel sort by (key, input index): each voxel's points keep
    // their input order, so its sum is the same whatever the thread count. Where the occupied
    // voxels span fewer than 2²¹ along every axis (2 km at 1 mm), the key is packed in a `u64`
    // (same order as the triple), which sorts several times faster.
    let key = |p: &[f64; 3]| p.map(|c| (c / size).floor() as i64);
    let finite = |p: &[f64; 3]| p.iter().all(|c| c.is_finite());
    let bounds = |(l, h): ([i64; 3], [i64; 3]), (m, k): ([i64; 3], [i64; 3])| {
        let f = |a: [i64; 3], b: [i64; 3], g: fn(i64, i64) -> i64| {
            std::array::from_fn(|i| g(a[i], b[i]))
        };
        (f(l, m, i64::min), f(h, k, i64::max))
    };
    let none = || ([i64::MAX; 3], [i64::MIN; 3]);
    let (lo, hi) = points
        .par_iter()
        .filter(|p| finite(p))
        .map(|p| (key(p), key(p)))
        .reduce(none, bounds);
    const BITS: u32 = 21;
    let packable = points.len() <= u32::MAX as usize
        && (0..3).all(|a| {
            hi[a]
                .checked_sub(lo[a])
                .is_some_and(|span| span < 1 << BITS)
        });
    let finite_points = || points.par_iter().enumerate().filter(|(_, p)| finite(p));
    // The runs of equal keys, as ranges of `order` (input indices in voxel order).
    let (order, runs): (Vec<usize>, Vec<usize>) = if packable {
        let pack = |k: [i64; 3]| (0..3).fold(0u64, |acc, a| (acc << BITS) | (k[a] - lo[a]) as u64);
        let mut packed: Vec<(u64, u32)> = finite_points()
            .map(|(i, p)| (pack(key(p)), i as u32))
            .collect();
        packed.par_sort_unstable();
        let runs = run_starts(&packed, |x| x.0);
        (packed.into_par_iter().map(|x| x.1 as usize).collect(), runs)
    } else {
        let mut keyed: Vec<([i64; 3], usize)> = finite_points().map(|(i, p)| (key(p), i)).collect();
        keyed.par_sort_unstable();
        let runs = run_starts(&keyed, |x| x.0);
        (keyed.into_par_iter().map(|x| x.1).collect(), runs)
    };
    runs.par_windows(2)
        .map(|r| {
            let mut acc = [0.0; 3];
            for &i in &order[r[0]..r[1]] {
                for (a, c) in acc.iter_mut().zip(&points[i]) {
                    *a += c;
                }
            }
            let n = (r[1] - r[0]) as f64;
            acc.map(|a| a / n)
        })
        .collect()
}

/// The indices where `key` changes along `sorted`, with 0 and `sorted.len()`: the bounds of
/// its runs of equal keys.
fn run_starts<T, K: PartialEq>(sorted: &[T], key: impl Fn(&T) -> K) -> Vec<usize> {
    let mut starts: Vec<usize> = (0..sorted.len())
        .filter(|&i| i == 0 || key(&sorted[i]) != key(&sorted[i - 1]))
        .collect();
    starts.push(sorted.len());
    starts
}

/// Back-projects every finite pixel of a depth map (no filtering): `cast_ray(u, v).at(d)`.
pub fn back_project(cam: &Camera<f64>, map: &DepthMap) -> Vec<Point3<f64>> {
    let mut out = Vec::new();
    for v in 0..map.height {
        for u in 0..map.width {
            let d = map.depth[(v * map.width + u) as usize];
            if d.is_finite()
                && let Some(r) = cam.cast_ray(f64::from(u), f64::from(v))
            {
                out.push(r.at(f64::from(d)));
            }
        }
    }
    out
}
