//! Depth-map errors against a ground-truth depth map: absolute error statistics over chosen
//! pixels, agreement between two estimates, and a decimated signed-error map.
//!
//! **Depth maps are row-major `height × width` ray depths in metres, NaN where invalid;
//! errors are reported in millimetres.**

use serde::{Deserialize, Serialize};

use crate::stats::percentile;

/// Absolute depth errors of an estimate over a set of pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthErrors {
    /// Pixels evaluated (those with a ground-truth depth in the chosen set).
    pub pixels: usize,
    /// % of them with a finite estimate.
    pub valid_pct: f64,
    /// Median |estimate − truth| over the valid pixels, mm ([`crate::median`]); `None` when no
    /// pixel is valid.
    pub median_abs_error_mm: Option<f64>,
    /// 90th percentile, mm.
    pub p90_abs_error_mm: Option<f64>,
    /// Mean, mm.
    pub mean_abs_error_mm: Option<f64>,
    /// % of the evaluated pixels (valid or not) within 1 mm.
    pub within_1_mm_pct: f64,
}

/// Errors of `estimate` against `truth` over `pixels` (indices into both maps; pixels whose
/// truth is not finite are skipped).
///
/// ```
/// use aquamvs_metrics::depth_errors;
/// let truth = [1.0, 1.0, 1.0, f32::NAN];
/// let est = [1.0005, 0.998, f32::NAN, 1.0];
/// let e = depth_errors(&est, &truth, &[0, 1, 2, 3]);
/// assert_eq!(e.pixels, 3);
/// assert!((e.median_abs_error_mm.unwrap() - 1.25).abs() < 1e-3);
/// assert!((e.within_1_mm_pct - 100.0 / 3.0).abs() < 1e-9);
/// ```
pub fn depth_errors(estimate: &[f32], truth: &[f32], pixels: &[usize]) -> DepthErrors {
    let evaluated: Vec<usize> = pixels
        .iter()
        .copied()
        .filter(|&i| truth[i].is_finite())
        .collect();
    let errors: Vec<f64> = evaluated
        .iter()
        .filter(|&&i| estimate[i].is_finite())
        .map(|&i| (f64::from(estimate[i]) - f64::from(truth[i])).abs() * 1e3)
        .collect();
    DepthErrors {
        pixels: evaluated.len(),
        valid_pct: pct(errors.len(), evaluated.len()),
        median_abs_error_mm: percentile(&errors, 50.0),
        p90_abs_error_mm: percentile(&errors, 90.0),
        mean_abs_error_mm: (!errors.is_empty())
            .then(|| errors.iter().sum::<f64>() / errors.len() as f64),
        within_1_mm_pct: pct(
            errors.iter().filter(|&&e| e <= 1.0).count(),
            evaluated.len(),
        ),
    }
}

/// How well two estimates of the same depth map agree over a set of pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthAgreement {
    /// Pixels where both estimates are finite.
    pub pixels_valid_in_both: usize,
    /// % of those where they differ by at most the tolerance.
    pub within_tolerance_pct_of_both: f64,
    /// % of all the given pixels where both are finite and within the tolerance.
    pub within_tolerance_pct_of_all: f64,
    /// % of the given pixels where `b` is finite.
    pub b_valid_pct: f64,
    /// The tolerance, mm.
    pub tolerance_mm: f64,
}

/// Agreement of `a` and `b` over `pixels` at `tolerance_mm`.
pub fn depth_agreement(
    a: &[f32],
    b: &[f32],
    pixels: &[usize],
    tolerance_mm: f64,
) -> DepthAgreement {
    let both: Vec<usize> = pixels
        .iter()
        .copied()
        .filter(|&i| a[i].is_finite() && b[i].is_finite())
        .collect();
    let close = both
        .iter()
        .filter(|&&i| (f64::from(a[i]) - f64::from(b[i])).abs() * 1e3 <= tolerance_mm)
        .count();
    let b_valid = pixels.iter().filter(|&&i| b[i].is_finite()).count();
    DepthAgreement {
        pixels_valid_in_both: both.len(),
        within_tolerance_pct_of_both: pct(close, both.len()),
        within_tolerance_pct_of_all: pct(close, pixels.len()),
        b_valid_pct: pct(b_valid, pixels.len()),
        tolerance_mm,
    }
}

/// A signed depth-error map (estimate − truth, mm), decimated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedErrorMap {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Row-major errors, mm, rounded to 1 µm; `None` where either map is invalid.
    pub values: Vec<Option<f32>>,
}

/// The signed error of a `width × height` depth map, taking every `step`-th pixel of every
/// `step`-th row with `step` the smallest that makes the map at most `max_width` wide.
pub fn signed_error_map(
    estimate: &[f32],
    truth: &[f32],
    width: usize,
    height: usize,
    max_width: usize,
) -> SignedErrorMap {
    let step = width.div_ceil(max_width.max(1)).max(1);
    let mut values = Vec::new();
    for v in (0..height).step_by(step) {
        for u in (0..width).step_by(step) {
            let (e, t) = (estimate[v * width + u], truth[v * width + u]);
            values.push((e.is_finite() && t.is_finite()).then(|| ((e - t) * 1e6).round() / 1e3));
        }
    }
    SignedErrorMap {
        width: width.div_ceil(step) as u32,
        height: height.div_ceil(step) as u32,
        values,
    }
}

fn pct(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * count as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_and_error_map() {
        let a = [1.0, 1.0, f32::NAN, 1.0];
        let b = [1.00005, 1.001, 1.0, f32::NAN];
        let g = depth_agreement(&a, &b, &[0, 1, 2, 3], 0.1);
        assert_eq!(g.pixels_valid_in_both, 2);
        assert_eq!(g.within_tolerance_pct_of_both, 50.0);
        assert_eq!(g.within_tolerance_pct_of_all, 25.0);
        assert_eq!(g.b_valid_pct, 75.0);
        let m = signed_error_map(&b, &a, 2, 2, 1);
        assert_eq!((m.width, m.height), (1, 1));
        assert_eq!(m.values, [Some(0.05)]);
        let m = signed_error_map(&b, &a, 2, 2, 320);
        assert_eq!(m.values, [Some(0.05), Some(1.0), None, None]);
    }

    #[test]
    fn no_valid_pixel_gives_no_statistics() {
        let e = depth_errors(&[f32::NAN], &[1.0], &[0]);
        assert_eq!(e.pixels, 1);
        assert_eq!(e.valid_pct, 0.0);
        assert_eq!(e.median_abs_error_mm, None);
        let e = depth_errors(&[], &[], &[]);
        assert_eq!((e.pixels, e.within_1_mm_pct), (0, 0.0));
    }
}

/// Angular errors of estimated unit normals against true ones.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NormalErrors {
    /// Pixels evaluated (those with a finite true normal in the chosen set).
    pub pixels: usize,
    /// % of them with a finite estimate.
    pub valid_pct: f64,
    /// Median angle between estimate and truth, degrees; `None` when no pixel is valid.
    pub median_deg: Option<f64>,
    /// 90th percentile, degrees.
    pub p90_deg: Option<f64>,
}

/// Angles between `estimate` and `truth` (both `H×W×3`, unit vectors, NaN where none) over
/// `pixels` (indices of `H×W`).
pub fn normal_errors(estimate: &[f32], truth: &[f32], pixels: &[usize]) -> NormalErrors {
    let at = |v: &[f32], i: usize| [v[3 * i], v[3 * i + 1], v[3 * i + 2]].map(f64::from);
    let evaluated: Vec<usize> = pixels
        .iter()
        .copied()
        .filter(|&i| at(truth, i).iter().all(|c| c.is_finite()))
        .collect();
    let angles: Vec<f64> = evaluated
        .iter()
        .filter_map(|&i| {
            let (e, t) = (at(estimate, i), at(truth, i));
            e.iter().all(|c| c.is_finite()).then(|| {
                let dot = e[0] * t[0] + e[1] * t[1] + e[2] * t[2];
                let norm = (e.iter().map(|c| c * c).sum::<f64>()
                    * t.iter().map(|c| c * c).sum::<f64>())
                .sqrt();
                (dot / norm).clamp(-1.0, 1.0).acos().to_degrees()
            })
        })
        .collect();
    NormalErrors {
        pixels: evaluated.len(),
        valid_pct: if evaluated.is_empty() {
            0.0
        } else {
            100.0 * angles.len() as f64 / evaluated.len() as f64
        },
        median_deg: crate::median(&angles),
        p90_deg: crate::percentile(&angles, 90.0),
    }
}
