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

/// The exponents `(a, b)` of the basis `sᵃ tᵇ` of the quadratic: 1, s, t, s², s t, t².
const BASIS: [(usize, usize); 6] = [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2)];

/// For every pixel, the value at the pixel of the quadratic fitted by least squares to the
/// valid depths within `r` pixels (offsets scaled by `1/r`), and the fit's RMS residual;
/// `None` where the pixel is invalid or fewer than `MIN_POINTS` neighbours are valid.
///
/// The normal equations come from windowed moments, `Σ sᵃ tᵇ (1, z, z²)` over the valid
/// neighbours, summed along rows and then along columns (`O(r)` per pixel and moment, not
/// `O(r²)`); depths are taken relative to their mean so that the sums stay well conditioned.
fn fits(depth: &[f32], (w, h): (usize, usize), r: usize) -> Vec<Option<(f64, f64)>> {
    let valid = |v: f32| v.is_finite();
    let count = depth.iter().filter(|v| valid(**v)).count();
    if count == 0 {
        return vec![None; w * h];
    }
    let z0 = depth
        .iter()
        .filter(|v| valid(**v))
        .map(|&v| f64::from(v))
        .sum::<f64>()
        / count as f64;
    let scale = 1.0 / r as f64;
    let pow = |x: f64, k: usize| (0..k).fold(1.0, |p, _| p * x);
    // Along rows: Σ sᵃ (a ≤ 4), Σ sᵃ z (a ≤ 2), Σ z² over the valid pixels of the row segment.
    let mut rows = vec![[0.0f64; 9]; w * h];
    rows.par_chunks_mut(w).enumerate().for_each(|(y, out)| {
        for (x, m) in out.iter_mut().enumerate() {
            for qx in x.saturating_sub(r)..=(x + r).min(w - 1) {
                let d = depth[y * w + qx];
                if !valid(d) {
                    continue;
                }
                let z = f64::from(d) - z0;
                let s = (qx as f64 - x as f64) * scale;
                let mut sa = 1.0;
                for a in 0..5 {
                    m[a] += sa;
                    if a < 3 {
                        m[5 + a] += sa * z;
                    }
                    sa *= s;
                }
                m[8] += z * z;
            }
        }
    });
    (0..w * h)
        .into_par_iter()
        .map(|i| {
            if !valid(depth[i]) {
                return None;
            }
            let (x, y) = (i % w, i / w);
            // mom[a][b] = Σ sᵃ tᵇ, zm[a][b] = Σ sᵃ tᵇ z (a + b ≤ 4 and ≤ 2), zz = Σ z².
            let mut mom = [[0.0f64; 5]; 5];
            let mut zm = [[0.0f64; 3]; 3];
            let mut zz = 0.0;
            for qy in y.saturating_sub(r)..=(y + r).min(h - 1) {
                let m = &rows[qy * w + x];
                let t = (qy as f64 - y as f64) * scale;
                for b in 0..5 {
                    let tb = pow(t, b);
                    for a in 0..5 - b {
                        mom[a][b] += m[a] * tb;
                    }
                    if b < 3 {
                        for a in 0..3 - b {
                            zm[a][b] += m[5 + a] * tb;
                        }
                    }
                }
                zz += m[8];
            }
            let n = mom[0][0];
            if n < MIN_POINTS as f64 {
                return None;
            }
            let ata = SMatrix::<f64, 6, 6>::from_fn(|i, j| {
                let ((ai, bi), (aj, bj)) = (BASIS[i], BASIS[j]);
                mom[ai + aj][bi + bj]
            });
            let atb = SVector::<f64, 6>::from_fn(|i, _| zm[BASIS[i].0][BASIS[i].1]);
            let c = ata.cholesky()?.solve(&atb);
            let sse = zz - 2.0 * c.dot(&atb) + c.dot(&(ata * c));
            let rms = (sse.max(0.0) / (n - 6.0)).sqrt();
            let d = z0 + c[0];
            d.is_finite().then_some((d, rms))
        })
        .collect()
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
    let narrow = fits(depth, (w, h), radius as usize);
    let wide = if wide > radius {
        fits(depth, (w, h), wide as usize)
    } else {
        vec![None; w * h]
    };
    narrow
        .par_iter()
        .zip(&wide)
        .zip(depth)
        .map(|((narrow, wide), &d0)| {
            let Some((narrow, rms)) = *narrow else {
                return d0;
            };
            let d = match *wide {
                Some((d, _)) if (d - narrow).abs() <= AGREE * rms => d,
                _ => narrow,
            };
            if d >= range.0 && d <= range.1 {
                d as f32
            } else {
                d0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct fit (every neighbour's row of the normal equations, residuals summed), the
    /// reference for [`fits`].
    fn fit_at(depth: &[f32], w: usize, h: usize, i: usize, r: i64) -> Option<(f64, f64)> {
        let d0 = f64::from(depth[i]);
        if !d0.is_finite() {
            return None;
        }
        let (x, y) = ((i % w) as i64, (i / w) as i64);
        let row = |s: f64, t: f64| SVector::<f64, 6>::from([1.0, s, t, s * s, s * t, t * t]);
        let mut ata = SMatrix::<f64, 6, 6>::zeros();
        let mut atb = SVector::<f64, 6>::zeros();
        let mut pts = Vec::new();
        for qy in (y - r).max(0)..=(y + r).min(h as i64 - 1) {
            for qx in (x - r).max(0)..=(x + r).min(w as i64 - 1) {
                let d = f64::from(depth[qy as usize * w + qx as usize]);
                if d.is_finite() {
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
        Some((d0 + c[0], (sse / (pts.len() - 6) as f64).sqrt()))
    }

    #[test]
    fn the_moment_fits_match_the_direct_fits_with_holes_and_borders() {
        let (w, h) = (37, 23);
        // A smooth surface with pseudo-random 0.1 mm noise and holes.
        let depth: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f64, (i / w) as f64);
                let hash = (i as u32).wrapping_mul(2_654_435_761) >> 8;
                if hash.is_multiple_of(7) {
                    return f32::NAN;
                }
                let noise = (f64::from(hash % 1000) / 1000.0 - 0.5) * 2e-4;
                (1.2 + 2e-3 * (x / 5.0).sin() + 1e-4 * y + noise) as f32
            })
            .collect();
        for r in [1, 4, 12] {
            let fast = fits(&depth, (w, h), r);
            for (i, got) in fast.iter().enumerate() {
                let want = fit_at(&depth, w, h, i, r as i64);
                match (got, want) {
                    (None, None) => {}
                    (Some(g), Some(e)) => {
                        assert!((g.0 - e.0).abs() < 1e-9, "r {r} pixel {i}: {g:?} vs {e:?}");
                        assert!((g.1 - e.1).abs() < 1e-9, "r {r} pixel {i}: {g:?} vs {e:?}");
                    }
                    _ => panic!("r {r} pixel {i}: {got:?} vs {want:?}"),
                }
            }
        }
    }

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
