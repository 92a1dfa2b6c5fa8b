//! The optional last stage: each valid pixel's ray depth replaced by the value at the pixel of
//! a quadratic `d(x, y)` fitted by least squares to the valid depths of its `(2r + 1)²`
//! neighbourhood (pixel coordinates), and, where a fit over the wider radius agrees with it
//! within 1.5 times the narrow fit's RMS residual, by the wider fit's value: the averaging that a flat bed
//! rewards, where the wide quadratic still follows the surface. A host stage shared by both
//! backends.

use rayon::prelude::*;

use nalgebra::{SMatrix, SVector};

/// Neighbours a fit needs.
const MIN_POINTS: usize = 12;

/// The wide fit is used where it differs from the narrow one by at most this many times the
/// narrow fit's RMS residual. Measured on cam00 640×480 PatchMatch depth maps (radius 4, wide
/// 12): 1.5 keeps the wide fit on 68 % of a flat bed and 21 % of the rippled one; 1 and 2 trade
/// the flat bed against the ripples (flat with noise 0.070 / 0.065 mm, ripples 0.185 / 0.25).
const AGREE: f64 = 1.5;

/// The value at the centre of the quadratic fitted to the valid depths within `r` pixels of
/// pixel `i`, and the fit's RMS residual; `None` when the pixel is invalid or too few
/// neighbours are.
fn fit_at(depth: &[f32], w: usize, h: usize, i: usize, r: i64) -> Option<(f64, f64)> {
    let d0 = f64::from(depth[i]);
    if !d0.is_finite() {
        return None;
    }
    let (x, y) = ((i % w) as i64, (i / w) as i64);
    let row = |s: f64, t: f64| SVector::<f64, 6>::from([1.0, s, t, s * s, s * t, t * t]);
    let mut ata = SMatrix::<f64, 6, 6>::zeros();
    let mut atb = SVector::<f64, 6>::zeros();
    let mut pts = Vec::with_capacity(((2 * r + 1) * (2 * r + 1)) as usize);
    for qy in (y - r).max(0)..=(y + r).min(h as i64 - 1) {
        for qx in (x - r).max(0)..=(x + r).min(w as i64 - 1) {
            let d = f64::from(depth[qy as usize * w + qx as usize]);
            if d.is_finite() {
                // Scaled to ±1 so that the normal equations are well conditioned; depths
                // relative to the centre (millimetre residuals on metre depths).
                let (s, t) = ((qx - x) as f64 / r as f64, (qy - y) as f64 / r as f64);
                let f = row(s, t);
                ata += f * f.transpose();
                atb += f * (d - d0);
                pts.push((s, t, d - d0));
            }
        }
    }
    if pts.len() < MIN_POINTS {
        return None;
    }
    let c = ata.cholesky()?.solve(&atb);
    let sse: f64 = pts
        .iter()
        .map(|&(s, t, z)| (z - c.dot(&row(s, t))).powi(2))
        .sum();
    let rms = (sse / (pts.len() - 6) as f64).sqrt();
    Some((d0 + c[0], rms)).filter(|(d, _)| d.is_finite())
}

/// The smoothed depth map (see the module notes): `radius` 0 leaves it as it is; `wide` 0 (or
/// not above `radius`) uses the narrow fit everywhere. Depths stay within `range`; invalid
/// pixels (NaN) stay invalid and are not used.
pub(crate) fn smooth(
    depth: &[f32],
    (w, h): (usize, usize),
    radius: u32,
    wide: u32,
    range: (f64, f64),
) -> Vec<f32> {
    if radius == 0 {
        return depth.to_vec();
    }
    (0..w * h)
        .into_par_iter()
        .map(|i| {
            let Some((narrow, rms)) = fit_at(depth, w, h, i, i64::from(radius)) else {
                return depth[i];
            };
            let wide_fit = (wide > radius)
                .then(|| fit_at(depth, w, h, i, i64::from(wide)))
                .flatten();
            let d = match wide_fit {
                Some((d, _)) if (d - narrow).abs() <= AGREE * rms => d,
                _ => narrow,
            };
            if d >= range.0 && d <= range.1 {
                d as f32
            } else {
                depth[i]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quadratic_depth_map_is_kept_and_noise_is_averaged() {
        let (w, h) = (40, 30);
        let truth = |x: usize, y: usize| {
            let (s, t) = (x as f64 - 20.0, y as f64 - 15.0);
            1.2 + 1e-4 * s - 2e-4 * t + 3e-6 * s * s + 1e-6 * s * t - 2e-6 * t * t
        };
        let exact: Vec<f32> = (0..w * h).map(|i| truth(i % w, i / w) as f32).collect();
        let range = (1.0, 1.5);
        let out = smooth(&exact, (w, h), 3, 6, range);
        for (a, b) in out.iter().zip(&exact) {
            assert!((a - b).abs() < 2e-6, "{a} vs {b}");
        }
        // ±0.1 mm alternating noise: averaged to well under its size, except at the border.
        let noisy: Vec<f32> = (0..w * h)
            .map(|i| {
                exact[i]
                    + if (i % w + i / w) % 2 == 0 {
                        1e-4
                    } else {
                        -1e-4
                    }
            })
            .collect();
        let out = smooth(&noisy, (w, h), 3, 6, range);
        let inner = (8..h - 8).flat_map(|y| (8..w - 8).map(move |x| y * w + x));
        for i in inner {
            assert!(
                (out[i] - exact[i]).abs() < 2e-5,
                "{} at {i}",
                out[i] - exact[i]
            );
        }
    }

    #[test]
    fn invalid_pixels_stay_invalid_and_radius_zero_changes_nothing() {
        let (w, h) = (20, 20);
        let mut d = vec![1.2f32; w * h];
        d[5 * w + 5] = f32::NAN;
        let out = smooth(&d, (w, h), 2, 4, (1.0, 1.5));
        assert!(out[5 * w + 5].is_nan());
        assert!(
            out.iter()
                .filter(|v| v.is_finite())
                .all(|v| (v - 1.2).abs() < 1e-6)
        );
        let same = smooth(&d, (w, h), 0, 4, (1.0, 1.5));
        assert_eq!(same.len(), d.len());
        assert!(same.iter().zip(&d).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
}
