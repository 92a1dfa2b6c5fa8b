//! Multi-view refractive triangulation and the sweep depth ranges of the sparse points.

use aquamvs_camera::{Camera, Rig};
use nalgebra::{Matrix3, Point2, Point3, Vector3};

use super::DepthRange;

/// A refractive triangulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Triangulation {
    /// The point closest (least squares) to all rays.
    pub point: Point3<f64>,
    /// Largest reprojection error over the views, pixels.
    pub reprojection_px: f64,
    /// Largest distance from the point to a ray, metres.
    pub ray_distance: f64,
}

/// Triangulates one point seen at undistorted `pixels` in `cameras`: the least-squares point
/// closest to all refracted rays (for two rays, the midpoint of their common perpendicular),
/// and its reprojection error in every view. `None` when a ray misses the water, the rays are
/// (nearly) parallel, or the point does not project into some view.
pub fn triangulate(cameras: &[&Camera<f64>], pixels: &[Point2<f64>]) -> Option<Triangulation> {
    if cameras.len() != pixels.len() || cameras.len() < 2 {
        return None;
    }
    let rays: Vec<_> = cameras
        .iter()
        .zip(pixels)
        .map(|(c, p)| c.cast_ray(p.x, p.y))
        .collect::<Option<_>>()?;
    // Σ (I − d dᵀ) x = Σ (I − d dᵀ) o
    let mut a = Matrix3::zeros();
    let mut rhs = Vector3::zeros();
    for r in &rays {
        let m = Matrix3::identity() - r.direction * r.direction.transpose();
        a += m;
        rhs += m * r.origin.coords;
    }
    // Rays closer than ~0.1° to parallel give no depth.
    let eig = a.symmetric_eigenvalues();
    if !(eig.min() > 1e-6 * rays.len() as f64) {
        return None;
    }
    let x = Point3::from(a.lu().solve(&rhs)?);
    let mut reprojection_px = 0f64;
    let mut ray_distance = 0f64;
    for ((c, p), r) in cameras.iter().zip(pixels).zip(&rays) {
        let proj = c.project(&x)?;
        // The point must be in front of the ray's start (below the surface along the ray).
        if (x - r.origin).dot(&r.direction) <= 0.0 {
            return None;
        }
        reprojection_px = reprojection_px.max((proj.pixel - p).norm());
        let v = x - r.origin;
        ray_distance = ray_distance.max((v - r.direction * v.dot(&r.direction)).norm());
    }
    Some(Triangulation {
        point: x,
        reprojection_px,
        ray_distance,
    })
}

/// Sweep ranges from sparse points: for every camera of `rig`, the `quantiles` of the ray
/// depths of the points that project into its image, widened by `margin` on both sides
/// (AquaMVS). `None` for a view with fewer than `min_points` points in view.
pub fn depth_ranges(
    rig: &Rig,
    points: &[[f64; 3]],
    quantiles: (f64, f64),
    margin: f64,
    min_points: usize,
) -> Vec<Option<DepthRange>> {
    rig.cameras
        .iter()
        .map(|cam| {
            let mut depths: Vec<f64> = points
                .iter()
                .filter_map(|p| cam.project(&Point3::from(*p)))
                .filter(|pr| cam.contains(pr.pixel.x, pr.pixel.y))
                .map(|pr| pr.depth)
                .collect();
            if depths.len() < min_points.max(1) {
                return None;
            }
            depths.sort_by(f64::total_cmp);
            let lo = (quantile(&depths, quantiles.0) - margin).max(1e-4);
            // A sweep needs a non-empty interval even when every point has one depth.
            let hi = (quantile(&depths, quantiles.1) + margin).max(lo + 1e-3);
            Some(DepthRange {
                min: lo as f32,
                max: hi as f32,
                points: depths.len(),
            })
        })
        .collect()
}

/// Linear-interpolated quantile of sorted values (NumPy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    sorted[i] + (sorted[j] - sorted[i]) * (pos - i as f64)
}
