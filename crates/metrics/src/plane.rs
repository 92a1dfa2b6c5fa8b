//! Least-squares plane fit (SVD of the covariance of the centred points).

use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};

use crate::MetricsError;

/// A fitted plane `normal · x = offset` and the residuals of the points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlaneFit {
    /// Unit normal, **oriented so that its largest-magnitude component is positive** (for a
    /// near-horizontal patch: +Z, down into the water).
    pub normal: [f64; 3],
    /// Signed distance of the plane from the origin along `normal`, metres.
    pub offset: f64,
    /// Centroid of the points, metres (on the plane).
    pub centroid: [f64; 3],
    /// Root mean square of the point-to-plane distances, mm.
    pub rmse_mm: f64,
    /// Largest point-to-plane distance, mm.
    pub max_error_mm: f64,
}

/// Fits a plane to `points` (metres) by total least squares: the normal is the right singular
/// vector of the smallest singular value of the centred points (computed as the SVD of their
/// 3×3 scatter matrix, in f64, two passes).
///
/// Errors: fewer than 3 points, non-finite coordinates, or points that are (numerically)
/// collinear or coincident, for which the plane is not defined.
pub fn plane_fit(points: &[[f64; 3]]) -> Result<PlaneFit, MetricsError> {
    if points.len() < 3 {
        return Err(MetricsError::PlaneUndefined(format!(
            "{} points, at least 3 are needed",
            points.len()
        )));
    }
    if points.iter().any(|p| p.iter().any(|c| !c.is_finite())) {
        return Err(MetricsError::PlaneUndefined(
            "non-finite coordinates".into(),
        ));
    }
    let n = points.len() as f64;
    let centroid = points
        .iter()
        .fold(Vector3::zeros(), |acc, p| acc + Vector3::from(*p))
        / n;
    let mut scatter = Matrix3::<f64>::zeros();
    for p in points {
        let d = Vector3::from(*p) - centroid;
        scatter += d * d.transpose();
    }
    let svd = scatter.svd(true, false);
    let u = svd
        .u
        .ok_or_else(|| MetricsError::PlaneUndefined("the SVD did not converge".into()))?;
    let s = svd.singular_values;
    let mut order = [0usize, 1, 2];
    order.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
    let (s_max, s_mid) = (s[order[0]], s[order[1]]);
    if !(s_mid > 1e-12 * s_max) || !(s_max > 0.0) {
        return Err(MetricsError::PlaneUndefined(
            "the points are collinear or coincident".into(),
        ));
    }
    let mut normal: Vector3<f64> = u.column(order[2]).into_owned();
    normal /= normal.norm();
    let imax = normal.iamax();
    if normal[imax] < 0.0 {
        normal = -normal;
    }
    let offset = normal.dot(&centroid);
    let (mut sum2, mut max) = (0.0f64, 0.0f64);
    for p in points {
        let r = (normal.dot(&(Vector3::from(*p) - centroid))).abs();
        sum2 += r * r;
        max = max.max(r);
    }
    Ok(PlaneFit {
        normal: normal.into(),
        offset,
        centroid: centroid.into(),
        rmse_mm: (sum2 / n).sqrt() * 1e3,
        max_error_mm: max * 1e3,
    })
}
