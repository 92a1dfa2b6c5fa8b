//! Reference rays (shared by both backends) and the default depth range.

use aquamvs_camera::{Camera, Ray};
use rayon::prelude::*;

use crate::SweepError;

/// The refracted ray of every reference pixel, row-major; `None` where the ray misses the water.
/// Pixels are those of the recorded image (undistorted before casting).
pub(crate) fn reference_rays(cam: &Camera<f64>) -> Vec<Option<Ray<f64>>> {
    let (w, h) = (cam.width as usize, cam.height as usize);
    let mut rays = vec![None; w * h];
    rays.par_chunks_mut(w).enumerate().for_each(|(v, row)| {
        for (u, out) in row.iter_mut().enumerate() {
            *out = pixel_ray(cam, u, v);
        }
    });
    rays
}

/// Checks a sweep's inputs ([`crate::check_views`]) and casts the reference rays (the CPU
/// backends' first step); [`SweepError::NoRays`] when none reaches the water.
pub(crate) fn checked_rays(
    reference: &crate::View,
    sources: &[crate::View],
    settings: &crate::SweepSettings,
    range: (f32, f32),
) -> Result<Vec<Option<Ray<f64>>>, SweepError> {
    crate::check_views(reference, sources, settings, range)?;
    let rays = reference_rays(reference.camera);
    if rays.iter().all(Option::is_none) {
        return Err(SweepError::NoRays(reference.camera.name.clone()));
    }
    Ok(rays)
}

/// The refracted ray of recorded pixel `(u, v)` (undistorted before casting); `None` where it
/// misses the water. The one definition of a reference ray, for both backends.
pub fn pixel_ray(cam: &Camera<f64>, u: usize, v: usize) -> Option<Ray<f64>> {
    let (x, y) = cam.undistort_pixel(u as f64, v as f64);
    cam.cast_ray(x, y)
}

/// The ray-depth interval that covers world depths `Z ∈ [z_min − margin, z_max + margin]` over
/// the whole reference view: the smallest ray depth at which any pixel's ray reaches
/// `z_min − margin`, and the largest at which any reaches `z_max + margin`.
///
/// This is what a user knows before reconstructing (the scene's stated depth extent); it never
/// looks at a depth map. A lower plane at or above the water gives a ray depth of 1e-4 m.
pub fn depth_range_from_z(
    camera: &Camera<f64>,
    z_min: f64,
    z_max: f64,
    margin_m: f64,
) -> Result<(f32, f32), SweepError> {
    if !(z_min.is_finite() && z_max.is_finite() && margin_m.is_finite()) {
        return Err(SweepError::SceneExtent(format!(
            "z_min {z_min}, z_max {z_max} and margin {margin_m} must be finite"
        )));
    }
    if z_min > z_max || margin_m < 0.0 {
        return Err(SweepError::SceneExtent(format!(
            "need z_min <= z_max and margin >= 0 (got z [{z_min}, {z_max}], margin {margin_m})"
        )));
    }
    let water = camera.interface.water_z;
    let z_hi = z_max + margin_m;
    if z_hi <= water {
        return Err(SweepError::SceneExtent(format!(
            "z_max + margin = {z_hi} m is not below the water surface Z = {water} m"
        )));
    }
    let z_lo = z_min - margin_m;
    let rays = reference_rays(camera);
    let (dz_min, dz_max) = rays
        .par_iter()
        .flatten()
        .map(|r| (r.direction.z, r.direction.z))
        .reduce(
            || (f64::INFINITY, f64::NEG_INFINITY),
            |a, b| (a.0.min(b.0), a.1.max(b.1)),
        );
    if !(dz_min > 0.0 && dz_max.is_finite()) {
        return Err(SweepError::NoRays(camera.name.clone()));
    }
    // Along a ray from the surface, Z = water + d·dir_z: d = (Z − water)/dir_z.
    let lo = ((z_lo - water) / dz_max).max(1e-4);
    let hi = (z_hi - water) / dz_min;
    if !(hi > lo) {
        return Err(SweepError::SceneExtent(format!(
            "empty ray-depth interval ({lo}, {hi})"
        )));
    }
    Ok((lo as f32, hi as f32))
}

/// Largest interpolation segment the GPU warp may use.
pub(crate) const MAX_SPAN: u32 = 16;
/// Largest interpolation error (px) the GPU warp accepts, measured in `f64`.
pub(crate) const SPAN_TOLERANCE_PX: f64 = 5e-4;

/// The GPU warp's interpolation segment `G` (hypotheses per segment, a power of two ≤ 16, or
/// 1 for exact projections at every hypothesis).
///
/// The shader projects exactly at three anchors per segment (its start, middle and end) and
/// interpolates the camera-frame vector of the surface crossing quadratically in between. This
/// picks the longest segment whose interpolation error, measured here in `f64` on a grid of
/// reference pixels (corners included) for every source and every segment of the sweep, stays
/// below 5e-4 px.
pub fn warp_span(
    reference: &Camera<f64>,
    sources: &[&Camera<f64>],
    depths: u32,
    depth_range: (f32, f32),
) -> u32 {
    let (lo, hi) = (depth_range.0 as f64, depth_range.1 as f64);
    if depths < 2 || !(hi > lo) {
        return 1;
    }
    let step = (hi - lo) / (depths as f64 - 1.0);
    let (w, h) = (reference.width as f64, reference.height as f64);
    let mut rays = Vec::new();
    for i in 0..=8 {
        for j in 0..=6 {
            let (u, v) = ((w - 1.0) * i as f64 / 8.0, (h - 1.0) * j as f64 / 6.0);
            let (x, y) = reference.undistort_pixel(u, v);
            rays.extend(reference.cast_ray(x, y));
        }
    }
    // Every anchor of an even span is a whole hypothesis, at most the first multiple of
    // MAX_SPAN at or past the last one: each (source, ray) projects every hypothesis once and
    // tests every even span against the same projections. A bit per span that passes (spans
    // are powers of two), and-ed over all of them.
    let n = (depths.div_ceil(MAX_SPAN) * MAX_SPAN + 1) as usize;
    let pairs: Vec<(&Camera<f64>, &Ray<f64>)> = sources
        .iter()
        .flat_map(|&cam| rays.iter().map(move |ray| (cam, ray)))
        .collect();
    let passing = pairs
        .par_iter()
        .map(|&(cam, ray)| {
            let track: Vec<Option<Exact>> = (0..n)
                .map(|k| exact(cam, ray, lo + step * k as f64))
                .collect();
            even_spans()
                .filter(|&g| interpolation_error(cam, &track, g, depths) <= SPAN_TOLERANCE_PX)
                .fold(0, |bits, g| bits | g)
        })
        .reduce(|| u32::MAX, |a, b| a & b);
    even_spans().find(|&g| passing & g != 0).unwrap_or(1)
}

/// The spans above 1 the warp may use, longest first: 16, 8, 4, 2.
fn even_spans() -> impl Iterator<Item = u32> {
    (1..=MAX_SPAN.ilog2()).rev().map(|e| 1 << e)
}

/// The exact projection of one hypothesis into a source: its pixel and the camera-frame
/// vector `R (q − C)` of its surface crossing `q`.
struct Exact {
    pixel: (f64, f64),
    crossing: nalgebra::Vector3<f64>,
}

/// The exact projection of the point at ray depth `d` along `ray` into `cam`.
fn exact(cam: &Camera<f64>, ray: &Ray<f64>, d: f64) -> Option<Exact> {
    let p = ray.at(d);
    let pr = cam.project(&p)?;
    let c = cam.center();
    let (dx, dy) = (p.x - c.x, p.y - c.y);
    let rq = dx.hypot(dy);
    let (ux, uy) = if rq > 0.0 {
        (dx / rq, dy / rq)
    } else {
        (0.0, 0.0)
    };
    let hc = cam.interface.water_z - c.z;
    Some(Exact {
        pixel: (pr.pixel.x, pr.pixel.y),
        crossing: cam.r * nalgebra::Vector3::new(ux * pr.crossing_r, uy * pr.crossing_r, hc),
    })
}

/// Worst pixel error of the segment-`g` quadratic interpolation (`g` even) over all
/// hypotheses of one ray, given its exact projections at every whole hypothesis (`track`).
fn interpolation_error(cam: &Camera<f64>, track: &[Option<Exact>], g: u32, depths: u32) -> f64 {
    let mut worst = 0.0f64;
    let to_px = |pc: nalgebra::Vector3<f64>| {
        let q = cam.k * (pc / pc.z);
        (q.x, q.y)
    };
    let at = |k: u32| track[k as usize].as_ref();
    for j in 0..depths.div_ceil(g) {
        // Anchors at hypotheses g j, g j + g/2 and g (j + 1).
        let (Some(a0), Some(a1), Some(a2)) = (at(g * j), at(g * j + g / 2), at(g * j + g)) else {
            continue;
        };
        let a = [a0.crossing, a1.crossing, a2.crossing];
        for i in 0..g {
            let k = g * j + i;
            if k >= depths {
                break;
            }
            let Some(exact) = at(k) else {
                continue;
            };
            let t = 2.0 * i as f64 / g as f64;
            let l0 = 0.5 * (t - 1.0) * (t - 2.0);
            let l1 = t * (2.0 - t);
            let l2 = 0.5 * t * (t - 1.0);
            let pc = a[0] * l0 + a[1] * l1 + a[2] * l2;
            if !(pc.z > 0.0) {
                return f64::INFINITY;
            }
            let (u, v) = to_px(pc);
            worst = worst.max((u - exact.pixel.0).hypot(v - exact.pixel.1));
        }
    }
    worst
}
