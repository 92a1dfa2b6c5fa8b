//! Stage 2, sparse matching: Shi–Tomasi keypoints, matching along the refractive epipolar
//! curve with warped-patch NCC descriptors (best vs. second peak ratio test, mutual check),
//! multi-view refractive triangulation with a reprojection filter, and per-view sweep depth
//! ranges from the sparse points.

use aquamvs_camera::{Camera, Rig};
use nalgebra::{Matrix3, Point2};
use rayon::prelude::*;
use serde::Serialize;

use crate::PipelineError;
use crate::undistort::sample_bilinear;

mod keypoints;
mod triangulate;

pub use keypoints::{Keypoint, KeypointOptions, detect_keypoints};
pub use triangulate::{Triangulation, depth_ranges, quantile, triangulate};

/// Options of [`sparse_matching`].
#[derive(Debug, Clone, Serialize)]
pub struct SparseOptions {
    /// Keypoint detection.
    pub keypoints: KeypointOptions,
    /// Source views per reference: the first `sources` of `rig.sources(reference, ..)` (the
    /// nearest ring neighbours).
    pub sources: usize,
    /// Descriptor window side (odd): the reference patch and its warp into the source. The
    /// warp assumes one ray depth over the window, so a small window (7) is more accurate on
    /// curved surfaces (measured on the undulating scene at 640×480: median error 0.6 mm
    /// with 7, 1.2 mm with 11).
    pub window: u32,
    /// Ray-depth interval (metres, in the reference view) searched along the epipolar curve.
    pub search_depth: (f64, f64),
    /// Curve sampling step in source pixels.
    pub step_px: f64,
    /// Minimum NCC of an accepted match.
    pub min_ncc: f32,
    /// Ratio test: `(1 - best NCC) / (1 - second peak NCC)` must be below this.
    pub ratio: f32,
    /// Second peaks closer than this (source pixels) to the best one are the same peak.
    pub peak_separation_px: f64,
    /// Mutual check: the reverse search from the source must land within this many pixels
    /// of the reference keypoint.
    pub mutual_px: f64,
    /// A point needs at least this many views (reference + matched sources).
    pub min_views: usize,
    /// Largest reprojection error (pixels) of a triangulated point in any of its views.
    pub max_reprojection_px: f64,
    /// Quantiles of the ray depths that bound a view's sweep range (AquaMVS: 2 % and 98 %).
    pub quantiles: (f64, f64),
    /// Margin added on both sides of the quantile range, metres (AquaMVS: 0.05).
    pub range_margin: f64,
    /// A view needs at least this many sparse points in view to get a range.
    pub min_points_per_range: usize,
}

impl Default for SparseOptions {
    fn default() -> Self {
        Self {
            keypoints: KeypointOptions::default(),
            sources: 2,
            window: 7,
            search_depth: (0.01, 1.5),
            step_px: 0.5,
            min_ncc: 0.7,
            ratio: 0.8,
            peak_separation_px: 2.0,
            mutual_px: 1.0,
            min_views: 3,
            max_reprojection_px: 1.0,
            quantiles: (0.02, 0.98),
            range_margin: 0.05,
            min_points_per_range: 10,
        }
    }
}

/// A triangulated sparse point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SparsePoint {
    /// World position, metres.
    pub position: [f64; 3],
    /// Views (rig indices) it was triangulated from; the first is the reference.
    pub views: Vec<usize>,
    /// Largest reprojection error over those views, pixels.
    pub reprojection_px: f64,
    /// Mean NCC of its matches.
    pub ncc: f32,
}

/// A sweep depth range of one view, in ray depth (metres).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DepthRange {
    /// Nearest ray depth.
    pub min: f32,
    /// Farthest ray depth.
    pub max: f32,
    /// Sparse points it was computed from.
    pub points: usize,
}

/// Counters of one reference view's matching.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ViewMatchStats {
    /// Rig index of the reference view.
    pub view: usize,
    /// Keypoints detected.
    pub keypoints: usize,
    /// Accepted matches per source (rig index, count).
    pub matches: Vec<(usize, usize)>,
    /// Points triangulated with this view as reference.
    pub points: usize,
}

/// Output of [`sparse_matching`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct SparseResult {
    /// Per reference view: keypoints and matches.
    pub stats: Vec<ViewMatchStats>,
    /// All triangulated points.
    pub points: Vec<SparsePoint>,
    /// Sweep range per rig camera (`None`: fewer than `min_points_per_range` points in view).
    pub ranges: Vec<Option<DepthRange>>,
}

/// A reference patch, zero mean and unit norm.
struct Descriptor {
    values: Vec<f32>,
}

/// Samples a `(2r+1)²` patch of `image` around `(u, v)` through `map` (reference window
/// offset → image position), normalised to zero mean and unit norm. `None` when a sample is
/// outside the image or the patch is flat.
fn sample_patch(
    image: &[f32],
    width: u32,
    height: u32,
    radius: i32,
    map: impl Fn(f64, f64) -> (f64, f64),
    out: &mut Vec<f32>,
) -> bool {
    out.clear();
    let mut sum = 0f32;
    for dy in -radius..=radius {
        for dx in -radius..=radius {
            let (x, y) = map(f64::from(dx), f64::from(dy));
            match sample_bilinear(image, width, height, x, y) {
                Some(s) => {
                    out.push(s);
                    sum += s;
                }
                None => return false,
            }
        }
    }
    let mean = sum / out.len() as f32;
    let mut ss = 0f32;
    for s in out.iter_mut() {
        *s -= mean;
        ss += *s * *s;
    }
    if !(ss > 1e-8 * out.len() as f32) {
        return false;
    }
    let inv = ss.sqrt().recip();
    for s in out.iter_mut() {
        *s *= inv;
    }
    true
}

/// NCC of the descriptor `desc` (zero mean, unit norm) with the window of `image` warped by
/// the affine map `(dx, dy) -> q + J (dx, dy)`, `dx, dy` in `-radius..=radius`: the value of
/// sampling that window with [`sample_patch`] and taking its dot product with `desc`, in one
/// pass without a buffer. NaN when a tap is outside the image or the window is flat.
fn warped_ncc(
    image: &[f32],
    width: u32,
    height: u32,
    radius: i32,
    q: Point2<f64>,
    j: &Matrix3<f64>,
    desc: &[f32],
) -> f32 {
    let (w_max, h_max) = (f64::from(width - 1), f64::from(height - 1));
    let (j00, j01, j10, j11) = (j[(0, 0)], j[(0, 1)], j[(1, 0)], j[(1, 1)]);
    let at = |dx: f64, dy: f64| (q.x + j00 * dx + j01 * dy, q.y + j10 * dx + j11 * dy);
    // The taps are affine in (dx, dy), so the window's corners bound them all: the corners
    // pass `sample_bilinear`'s bounds test exactly when every tap does.
    let r = f64::from(radius);
    for (dx, dy) in [(-r, -r), (r, -r), (-r, r), (r, r)] {
        let (x, y) = at(dx, dy);
        if !(x >= -1e-3 && y >= -1e-3 && x <= w_max + 1e-3 && y <= h_max + 1e-3) {
            return f32::NAN;
        }
    }
    let w = width as usize;
    let (x_last, y_last) = (w - 1, height as usize - 1);
    // Sums of the samples less the pixel nearest the centre (less cancellation in f32): the
    // variance does not depend on the shift, nor does the dot product since `desc` sums to 0.
    let shift = image
        [(q.y.clamp(0.0, h_max).round() as usize) * w + q.x.clamp(0.0, w_max).round() as usize];
    let (mut s, mut ss, mut sd) = (0f32, 0f32, 0f32);
    let side = (2 * radius + 1) as usize;
    for (dy, row) in (-radius..=radius).zip(desc.chunks_exact(side)) {
        // Taps along a row are one Jacobian column apart.
        let (mut u, mut v) = at(-r, f64::from(dy));
        for &d in row {
            let (uc, vc) = (u.clamp(0.0, w_max), v.clamp(0.0, h_max));
            // uc, vc >= 0: truncation is the floor.
            let (x0, y0) = (uc as usize, vc as usize);
            let (x1, y1) = ((x0 + 1).min(x_last), (y0 + 1).min(y_last));
            let (ax, ay) = ((uc - x0 as f64) as f32, (vc - y0 as f64) as f32);
            let (r0, r1) = (y0 * w, y1 * w);
            let top = image[r0 + x0] + (image[r0 + x1] - image[r0 + x0]) * ax;
            let bottom = image[r1 + x0] + (image[r1 + x1] - image[r1 + x0]) * ax;
            let x = top + (bottom - top) * ay - shift;
            s += x;
            ss += x * x;
            sd += x * d;
            u += j00;
            v += j10;
        }
    }
    let n = desc.len() as f32;
    let var = ss - s * s / n;
    if !(var > 1e-8 * n) {
        return f32::NAN;
    }
    sd / var.sqrt()
}

fn descriptor(image: &[f32], cam: &Camera<f64>, p: Point2<f64>, radius: i32) -> Option<Descriptor> {
    let mut values = Vec::with_capacity(((2 * radius + 1) * (2 * radius + 1)) as usize);
    sample_patch(
        image,
        cam.width,
        cam.height,
        radius,
        |dx, dy| (p.x + dx, p.y + dy),
        &mut values,
    )
    .then_some(Descriptor { values })
}

/// One sample along the epipolar curve.
#[derive(Debug, Clone, Copy)]
struct CurveSample {
    depth: f64,
    pixel: Point2<f64>,
    ncc: f32,
}

/// The window of a reference pixel warped into a source view at one ray depth: the rays of
/// the centre and of four neighbours `±radius` away, projected at the same ray depth, give
/// the local affine map (central differences).
struct WarpRays {
    center: aquamvs_camera::Ray<f64>,
    /// +u, −u, +v, −v neighbours.
    around: [aquamvs_camera::Ray<f64>; 4],
    radius: f64,
}

impl WarpRays {
    fn new(cam: &Camera<f64>, p: Point2<f64>, radius: f64) -> Option<Self> {
        let r = |du: f64, dv: f64| cam.cast_ray(p.x + du, p.y + dv);
        Some(Self {
            center: r(0.0, 0.0)?,
            around: [
                r(radius, 0.0)?,
                r(-radius, 0.0)?,
                r(0.0, radius)?,
                r(0.0, -radius)?,
            ],
            radius,
        })
    }

    /// Centre pixel and affine Jacobian (columns: d/du, d/dv) in `src` at ray depth `d`.
    ///
    /// The centre is projected exactly (warm-started from its crossings at the previous two
    /// calls, extrapolated). The
    /// four neighbours are projected exactly on a fresh state, and after that by one
    /// [`Camera::project_newton`] step from the centre's crossing plus their offset from it at
    /// the previous call: the Jacobian differs from that of exact projections by less than
    /// 1e-7 px per px even for depth steps of several pixels (tested; the walk's steps are
    /// half a pixel), at about a quarter of the cost. The Jacobian is `None` (and the four projections are skipped) when
    /// the centre pixel is outside `src`'s image: the window contains its centre, so such a
    /// window cannot be sampled and its score is NaN whatever the Jacobian.
    fn warp(
        &self,
        src: &Camera<f64>,
        d: f64,
        state: &mut WarpState,
    ) -> Option<(Point2<f64>, Option<Matrix3<f64>>)> {
        let c = src.project_from(&self.center.at(d), state.center_guess(d))?;
        state.last = [state.last[1], Some((d, c.crossing_r))];
        if !inside_bilinear(src, c.pixel) {
            return Some((c.pixel, None));
        }
        let warm = state.offsets.is_some();
        let offsets = state.offsets.get_or_insert([0.0; 4]);
        let mut q = [Point2::origin(); 4];
        for ((qi, ray), off) in q.iter_mut().zip(&self.around).zip(offsets.iter_mut()) {
            let p = ray.at(d);
            let n = if warm {
                src.project_newton(&p, c.crossing_r + *off, 1)?
            } else {
                src.project_from(&p, Some(c.crossing_r))?
            };
            *off = n.crossing_r - c.crossing_r;
            *qi = n.pixel;
        }
        let s = 0.5 / self.radius;
        let ju = (q[0] - q[1]) * s;
        let jv = (q[2] - q[3]) * s;
        let mut j = Matrix3::identity();
        j[(0, 0)] = ju.x;
        j[(1, 0)] = ju.y;
        j[(0, 1)] = jv.x;
        j[(1, 1)] = jv.y;
        Some((c.pixel, Some(j)))
    }
}

/// Warm starts of [`WarpRays::warp`] along one walk: the centre's last two (depth, crossing)
/// and each neighbour's last offset from the centre's crossing.
#[derive(Debug, Clone, Copy, Default)]
struct WarpState {
    last: [Option<(f64, f64)>; 2],
    offsets: Option<[f64; 4]>,
}

impl WarpState {
    /// The centre's crossing at depth `d` extrapolated linearly from the last two.
    fn center_guess(&self, d: f64) -> Option<f64> {
        match self.last {
            [Some((d0, r0)), Some((d1, r1))] if d1 != d0 => {
                Some(r1 + (r1 - r0) * ((d - d1) / (d1 - d0)))
            }
            [_, Some((_, r1))] => Some(r1),
            _ => None,
        }
    }
}

/// Whether [`sample_bilinear`] can sample `cam`'s image at `p` (the same bounds test).
fn inside_bilinear(cam: &Camera<f64>, p: Point2<f64>) -> bool {
    let (w_max, h_max) = (f64::from(cam.width - 1), f64::from(cam.height - 1));
    let eps = 1e-3;
    p.x >= -eps && p.y >= -eps && p.x <= w_max + eps && p.y <= h_max + eps
}

/// Result of one curve search.
#[derive(Debug, Clone, Copy)]
struct CurveMatch {
    pixel: Point2<f64>,
    ncc: f32,
    second: Option<f32>,
}

/// Searches the epipolar curve of reference pixel `p` (view `a`) in view `b` over ray
/// depths `range`, scoring warped-patch NCC; returns the best peak refined to sub-sample
/// depth and the second-best separate peak.
#[allow(clippy::too_many_arguments)]
fn search_curve(
    a: &Camera<f64>,
    image_a: &[f32],
    p: Point2<f64>,
    b: &Camera<f64>,
    image_b: &[f32],
    range: (f64, f64),
    opts: &SparseOptions,
) -> Option<CurveMatch> {
    let radius = (opts.window / 2) as i32;
    let desc = descriptor(image_a, a, p, radius)?;
    let rays = WarpRays::new(a, p, f64::from(radius))?;
    let mut guess = WarpState::default();
    // Warped-window NCC at centre `q` with Jacobian `j` (NaN when it cannot be sampled).
    let ncc_at = |q: Point2<f64>, j: Option<Matrix3<f64>>| -> f32 {
        j.map_or(f32::NAN, |j| {
            warped_ncc(image_b, b.width, b.height, radius, q, &j, &desc.values)
        })
    };
    let score = |d: f64, guess: &mut WarpState| -> Option<(Point2<f64>, f32)> {
        let (q, j) = rays.warp(b, d, guess)?;
        Some((q, ncc_at(q, j)))
    };
    // Walk the curve with an adaptive step of about `step_px` source pixels.
    let (d_lo, d_hi) = range;
    let mut samples: Vec<CurveSample> = Vec::new();
    let mut d = d_lo;
    let mut step = (d_hi - d_lo) * 1e-3;
    let mut prev: Option<Point2<f64>> = None;
    let mut iterations = 0;
    while d <= d_hi && iterations < 100_000 {
        iterations += 1;
        // The window is sampled only once the step is accepted (a rejected step's score
        // was never used).
        let Some((q, j)) = rays.warp(b, d, &mut guess) else {
            d += step;
            prev = None;
            continue;
        };
        if let Some(pq) = prev {
            let moved = (q - pq).norm();
            if moved > 1.5 * opts.step_px && step > 1e-9 {
                // Too coarse: go back and take a smaller step.
                d -= step;
                step *= 0.5 * opts.step_px / moved;
                d += step;
                continue;
            }
            if moved > 1e-12 {
                step = (step * opts.step_px / moved).min((d_hi - d_lo) * 0.05);
            }
        }
        samples.push(CurveSample {
            depth: d,
            pixel: q,
            ncc: ncc_at(q, j),
        });
        prev = Some(q);
        d += step;
    }
    // Best sample and the best other local maximum away from it.
    let best_i = samples
        .iter()
        .enumerate()
        .filter(|(_, s)| s.ncc.is_finite())
        .max_by(|x, y| x.1.ncc.total_cmp(&y.1.ncc))?
        .0;
    let best = samples[best_i];
    let is_peak = |i: usize| {
        let s = samples[i].ncc;
        s.is_finite()
            && (i == 0 || !(samples[i - 1].ncc > s))
            && (i + 1 == samples.len() || !(samples[i + 1].ncc > s))
    };
    let second = (0..samples.len())
        .filter(|&i| i != best_i && is_peak(i))
        .filter(|&i| (samples[i].pixel - best.pixel).norm() > opts.peak_separation_px)
        .map(|i| samples[i].ncc)
        .max_by(f32::total_cmp);
    // Sub-sample refinement: two rounds of a parabola through three depths.
    if best_i == 0 || best_i + 1 == samples.len() {
        return None;
    }
    let (mut d0, mut h) = (
        best.depth,
        0.5 * (samples[best_i + 1].depth - samples[best_i - 1].depth),
    );
    let mut best_ncc = best.ncc;
    for _ in 0..2 {
        let mut g = WarpState::default();
        let sm = score(d0 - h, &mut g)?.1;
        let s0 = score(d0, &mut g)?.1;
        let sp = score(d0 + h, &mut g)?.1;
        if !(sm.is_finite() && s0.is_finite() && sp.is_finite()) {
            return None;
        }
        let denom = f64::from(sm - 2.0 * s0 + sp);
        let off = if denom < -1e-12 {
            (0.5 * f64::from(sm - sp) / denom).clamp(-1.0, 1.0)
        } else {
            0.0
        };
        d0 += off * h;
        h *= 0.35;
        best_ncc = s0.max(best_ncc);
    }
    let mut g = WarpState::default();
    let (q, ncc) = score(d0, &mut g)?;
    Some(CurveMatch {
        pixel: q,
        ncc: if ncc.is_finite() {
            ncc.max(best_ncc)
        } else {
            best_ncc
        },
        second,
    })
}

/// Sparse matching over a rig: for every camera in `references`, Shi–Tomasi keypoints, each
/// matched into the first `opts.sources` of `rig.sources(reference, ..)` along its refractive
/// epipolar curve (warped-patch NCC, ratio test, mutual check), then triangulated from all
/// accepted views with a reprojection filter. Finally every camera's sweep range.
///
/// `images` are undistorted greyscale `[0, 1]` images, one per rig camera, row-major.
pub fn sparse_matching(
    rig: &Rig,
    images: &[Vec<f32>],
    references: &[usize],
    opts: &SparseOptions,
) -> Result<SparseResult, PipelineError> {
    crate::check_views(rig, images)?;
    if opts.window < 3 || opts.window.is_multiple_of(2) {
        return Err(PipelineError::Input(format!(
            "sparse window must be odd and >= 3, got {}",
            opts.window
        )));
    }
    if !(opts.search_depth.0 >= 0.0 && opts.search_depth.1 > opts.search_depth.0) {
        return Err(PipelineError::Input(format!(
            "search depth range {:?} is empty",
            opts.search_depth
        )));
    }
    if !(opts.step_px > 0.0) {
        return Err(PipelineError::Input("step_px must be positive".into()));
    }
    if let Some(&r) = references.iter().find(|&&r| r >= rig.cameras.len()) {
        return Err(PipelineError::Input(format!(
            "reference index {r} is not in the rig"
        )));
    }
    let per_view: Vec<(ViewMatchStats, Vec<SparsePoint>)> = references
        .par_iter()
        .map(|&ri| match_view(rig, images, ri, opts))
        .collect::<Result<_, _>>()?;
    let mut stats = Vec::new();
    let mut points = Vec::new();
    for (s, p) in per_view {
        stats.push(s);
        points.extend(p);
    }
    let xyz: Vec<[f64; 3]> = points.iter().map(|p| p.position).collect();
    let ranges = depth_ranges(
        rig,
        &xyz,
        opts.quantiles,
        opts.range_margin,
        opts.min_points_per_range,
    );
    Ok(SparseResult {
        stats,
        points,
        ranges,
    })
}

fn match_view(
    rig: &Rig,
    images: &[Vec<f32>],
    ri: usize,
    opts: &SparseOptions,
) -> Result<(ViewMatchStats, Vec<SparsePoint>), PipelineError> {
    let a = &rig.cameras[ri];
    let kps = detect_keypoints(&images[ri], a.width, a.height, &opts.keypoints)?;
    let sources = rig.sources(ri, opts.sources);
    let mut matched: Vec<Vec<(usize, Point2<f64>, f32)>> = vec![Vec::new(); kps.len()];
    let mut counts = Vec::new();
    for &si in &sources {
        let b = &rig.cameras[si];
        let found: Vec<Option<(Point2<f64>, f32)>> = kps
            .par_iter()
            .map(|k| {
                let p = Point2::new(f64::from(k.u), f64::from(k.v));
                let m = search_curve(a, &images[ri], p, b, &images[si], opts.search_depth, opts)?;
                if !(m.ncc >= opts.min_ncc) {
                    return None;
                }
                if let Some(s2) = m.second
                    && !((1.0 - m.ncc) < opts.ratio * (1.0 - s2).max(0.0))
                {
                    return None;
                }
                // Mutual check: search back from the match; it must come home.
                let back = search_curve(
                    b,
                    &images[si],
                    m.pixel,
                    a,
                    &images[ri],
                    opts.search_depth,
                    opts,
                )?;
                if (back.pixel - p).norm() > opts.mutual_px {
                    return None;
                }
                Some((m.pixel, m.ncc))
            })
            .collect();
        let mut n = 0;
        for (slot, f) in matched.iter_mut().zip(found) {
            if let Some((q, s)) = f {
                slot.push((si, q, s));
                n += 1;
            }
        }
        counts.push((si, n));
    }
    let mut points = Vec::new();
    for (k, m) in kps.iter().zip(&matched) {
        if m.len() + 1 < opts.min_views.max(2) {
            continue;
        }
        let mut cams = vec![a];
        let mut pix = vec![Point2::new(f64::from(k.u), f64::from(k.v))];
        for (si, q, _) in m {
            cams.push(&rig.cameras[*si]);
            pix.push(*q);
        }
        let Some(t) = triangulate(&cams, &pix) else {
            continue;
        };
        if !(t.reprojection_px <= opts.max_reprojection_px) {
            continue;
        }
        let mut views = vec![ri];
        views.extend(m.iter().map(|x| x.0));
        points.push(SparsePoint {
            position: t.point.coords.into(),
            views,
            reprojection_px: t.reprojection_px,
            ncc: m.iter().map(|x| x.2).sum::<f32>() / m.len() as f32,
        });
    }
    let stats = ViewMatchStats {
        view: ri,
        keypoints: kps.len(),
        matches: counts,
        points: points.len(),
    };
    Ok((stats, points))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth textured test image.
    fn image(w: u32, h: u32) -> Vec<f32> {
        (0..w * h)
            .map(|i| {
                let (x, y) = (f64::from(i % w), f64::from(i / w));
                (0.5 + 0.25 * (0.37 * x + 0.11 * y).sin() + 0.2 * (0.23 * y - 0.05 * x).cos())
                    as f32
            })
            .collect()
    }

    /// The one-pass NCC equals sampling the warped window with `sample_patch` and taking the
    /// dot product with the descriptor, and is NaN exactly when a tap is outside.
    #[test]
    fn warped_ncc_matches_the_sampled_window() {
        let (w, h) = (64u32, 48u32);
        let img = image(w, h);
        let other: Vec<f32> = image(w, h).iter().map(|v| 1.0 - v * v).collect();
        let radius = 3;
        let mut desc = Vec::new();
        assert!(sample_patch(
            &img,
            w,
            h,
            radius,
            |dx, dy| (20.3 + dx, 17.8 + dy),
            &mut desc
        ));
        let mut j = Matrix3::identity();
        j[(0, 0)] = 1.07;
        j[(0, 1)] = -0.21;
        j[(1, 0)] = 0.15;
        j[(1, 1)] = 0.93;
        let mut buf = Vec::new();
        let (mut finite, mut nan) = (0, 0);
        for (qx, qy) in [
            (30.2, 20.7),
            (3.0, 3.1),
            (2.2, 40.0),
            (60.4, 44.9),
            (10.5, 9.25),
        ] {
            for image in [&img, &other] {
                let q = Point2::new(qx, qy);
                let fast = warped_ncc(image, w, h, radius, q, &j, &desc);
                let ok = sample_patch(
                    image,
                    w,
                    h,
                    radius,
                    |dx, dy| {
                        (
                            q.x + j[(0, 0)] * dx + j[(0, 1)] * dy,
                            q.y + j[(1, 0)] * dx + j[(1, 1)] * dy,
                        )
                    },
                    &mut buf,
                );
                if ok {
                    let slow: f32 = buf.iter().zip(&desc).map(|(x, y)| x * y).sum();
                    assert!((fast - slow).abs() < 1e-5, "{fast} vs {slow} at {q}");
                    finite += 1;
                } else {
                    assert!(fast.is_nan(), "{fast} at {q}: a tap is outside");
                    nan += 1;
                }
            }
        }
        assert!(finite >= 4 && nan >= 4, "{finite} sampled, {nan} outside");
        // A flat window has no NCC.
        let flat = vec![0.5f32; (w * h) as usize];
        assert!(warped_ncc(&flat, w, h, radius, Point2::new(30.0, 20.0), &j, &desc).is_nan());
    }

    /// The warm-started neighbour projections of `WarpRays::warp` give the Jacobian of exact
    /// projections (each solved to convergence from scratch) within 1e-7 px per px along a
    /// walk with depth steps of 3 mm (several pixels; the curve search steps half a pixel).
    #[test]
    fn warp_jacobian_matches_exact_projections() {
        let rig = Rig::reference(640, 480).unwrap();
        let (a, b) = (&rig.cameras[0], &rig.cameras[rig.sources(0, 1)[0]]);
        let mut worst = 0f64;
        let mut compared = 0;
        for p in [Point2::new(320.0, 240.0), Point2::new(100.5, 400.25)] {
            let rays = WarpRays::new(a, p, 3.0).unwrap();
            let mut state = WarpState::default();
            for i in 0..400 {
                let d = 0.05 + 0.003 * f64::from(i);
                let Some((q, Some(j))) = rays.warp(b, d, &mut state) else {
                    continue;
                };
                let exact = |ray: &aquamvs_camera::Ray<f64>| b.project(&ray.at(d)).unwrap().pixel;
                worst = worst.max((q - exact(&rays.center)).norm());
                let e: Vec<Point2<f64>> = rays.around.iter().map(exact).collect();
                let ju = (e[0] - e[1]) / 6.0;
                let jv = (e[2] - e[3]) / 6.0;
                for (got, want) in [
                    (j[(0, 0)], ju.x),
                    (j[(1, 0)], ju.y),
                    (j[(0, 1)], jv.x),
                    (j[(1, 1)], jv.y),
                ] {
                    worst = worst.max((got - want).abs());
                }
                compared += 1;
            }
        }
        assert!(compared > 100, "{compared} samples inside the source image");
        assert!(worst < 1e-7, "Jacobian differs by {worst:e}");
    }
}
