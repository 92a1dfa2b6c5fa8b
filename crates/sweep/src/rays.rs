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
            let (x, y) = cam.undistort_pixel(u as f64, v as f64);
            *out = cam.cast_ray(x, y);
        }
    });
    rays
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
