//! The curved stage between the PatchMatch rounds and the final polish: each pixel's surface
//! is fitted by a quadric through the points of its neighbours' planes, which gives it a
//! smoothed normal and a curvature, so that the polish can score a larger window on a curved
//! patch instead of a plane (a plane over a large window is biased on a curved bed; a small
//! window is noisy).

use nalgebra::{SMatrix, SVector, Vector3};

type Coef = SVector<f64, 10>;
use rayon::prelude::*;

use crate::problem::{Curv, Problem, tangent_basis};

/// Points a fit needs (of the `(2r + 1)²` neighbours).
const MIN_POINTS: usize = 20;

/// A neighbour whose residual exceeds this many times the median residual (and 0.1 mm) is
/// left out of the second fit.
const OUTLIER: f64 = 4.0;

/// The fitted surface of one pixel: its ray depth, normal and curved patch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fitted {
    pub d: f64,
    pub n: Vector3<f64>,
    pub curv: Curv,
}

/// Fits every pixel whose plane `(d, n)` is valid (finite `d`): in the tangent frame of its
/// plane at `X_p`, the heights `z = n·(X_j − X_p)` of the neighbours' points `X_j = o_j + d_j v_j`
/// within `radius` pixels (of the lattice of spacing `lattice` only: the pixels between have a
/// plane for the frame, not a point), by least squares `z = a + b s + c t + ½A s² + B s t + ½C t²` plus
/// the four cubic terms (so that the slope at the centre is not biased by the surface's odd
/// terms), then again without the outliers. The pixel gets the fitted surface's point on its
/// ray, its normal there and `k = (A, B, C)` (in the tangent basis of the new normal: the frames
/// differ by a rotation of second order), each curvature shrunk toward 0 by its significance:
/// `k·max(0, 1 − var(k)/k²)`, with the variance from the residuals inflated by `window²`
/// (neighbouring PatchMatch depths share most of their window, so their errors are correlated
/// over about a window and a flat bed would otherwise get noise as curvature). `None` where the
/// plane is invalid or the fit fails.
pub(crate) fn fit(
    pb: &Problem,
    planes: &[(f64, Vector3<f64>)],
    radius: u32,
    lattice: u32,
) -> Vec<Option<Fitted>> {
    (0..pb.w * pb.h)
        .into_par_iter()
        .map(|i| fit_pixel(pb, planes, (radius as i64, lattice as i64), i))
        .collect()
}

fn fit_pixel(
    pb: &Problem,
    planes: &[(f64, Vector3<f64>)],
    (r, s): (i64, i64),
    i: usize,
) -> Option<Fitted> {
    let (d, n) = planes[i];
    let ray = pb.rays[i]?;
    if !d.is_finite() {
        return None;
    }
    let xp = ray.o + ray.v * d;
    let (e1, e2) = tangent_basis(&n);
    let (x, y) = ((i % pb.w) as i64, (i / pb.w) as i64);
    let mut pts: Vec<(f64, f64, f64)> = Vec::with_capacity(((2 * r + 1) * (2 * r + 1)) as usize);
    // The lattice's rows and columns within the radius.
    let first = |c: i64| ((c - r).max(0) + s - 1) / s * s;
    for qy in (first(y)..=(y + r).min(pb.h as i64 - 1)).step_by(s as usize) {
        for qx in (first(x)..=(x + r).min(pb.w as i64 - 1)).step_by(s as usize) {
            let j = qy as usize * pb.w + qx as usize;
            let (dj, Some(rj)) = (planes[j].0, pb.rays[j]) else {
                continue;
            };
            if dj.is_finite() {
                let rel = rj.o + rj.v * dj - xp;
                pts.push((e1.dot(&rel), e2.dot(&rel), n.dot(&rel)));
            }
        }
    }
    let mut eq = Normal::of(&pts);
    let coef = eq.coefficients(pts.len())?;
    let mut res: Vec<f64> = pts.iter().map(|p| (p.2 - eval(&coef, p)).abs()).collect();
    let mid = res.len() / 2;
    let limit = (OUTLIER * *res.select_nth_unstable_by(mid, f64::total_cmp).1).max(1e-4);
    // The second fit's equations: the first's less the outliers' rows.
    pts.retain(|p| {
        let keep = (p.2 - eval(&coef, p)).abs() <= limit;
        if !keep {
            eq.remove(p);
        }
        keep
    });
    let (coef, var) = eq.solve(&pts)?;
    let inflate = f64::from(pb.settings.window).powi(2);
    let shrink = |k, v| shrink(k, inflate * v);
    let (a, b, c) = (coef[0], coef[1], coef[2]);
    let (ka, kb, kc) = (
        shrink(coef[3], var[3]),
        shrink(coef[4], var[4]),
        shrink(coef[5], var[5]),
    );
    let n_fit = (n - e1 * b - e2 * c).normalize();
    let den = n.dot(&ray.v);
    let d_fit = d + a / den;
    (d_fit.is_finite() && d_fit >= pb.range.0 && d_fit <= pb.range.1 && n_fit.dot(&ray.v) < 0.0)
        .then_some(Fitted {
            d: d_fit,
            n: n_fit,
            curv: Curv { k: [ka, kb, kc] },
        })
}

/// `k` shrunk toward 0 by its significance: `k·max(0, 1 − var/k²)`.
fn shrink(k: f64, var: f64) -> f64 {
    k * (1.0 - var / (k * k).max(1e-300)).max(0.0)
}

fn row(s: f64, t: f64) -> Coef {
    Coef::from([
        1.0,
        s,
        t,
        0.5 * s * s,
        s * t,
        0.5 * t * t,
        s * s * s,
        s * s * t,
        s * t * t,
        t * t * t,
    ])
}

fn eval(c: &Coef, p: &(f64, f64, f64)) -> f64 {
    c.dot(&row(p.0, p.1))
}

/// Millimetres per metre: the normal equations are built in millimetres so that they are well
/// conditioned.
const MM: f64 = 1e3;

/// The normal equations `AᵀA x = Aᵀb` of the fit (upper triangle of `AᵀA`, in millimetres).
struct Normal {
    ata: SMatrix<f64, 10, 10>,
    atb: Coef,
}

impl Normal {
    fn of(pts: &[(f64, f64, f64)]) -> Self {
        let mut eq = Self {
            ata: SMatrix::zeros(),
            atb: Coef::zeros(),
        };
        for p in pts {
            eq.add(p, 1.0);
        }
        eq
    }

    fn add(&mut self, p: &(f64, f64, f64), sign: f64) {
        let r = row(p.0 * MM, p.1 * MM);
        for a in 0..10 {
            let ra = sign * r[a];
            for b in a..10 {
                self.ata[(a, b)] += ra * r[b];
            }
            self.atb[a] += ra * p.2 * MM;
        }
    }

    fn remove(&mut self, p: &(f64, f64, f64)) {
        self.add(p, -1.0);
    }

    /// Least squares for the ten coefficients of `pts` (whose equations these are) and their
    /// variances from the residuals; both in metres (a), unitless (b, c), 1/m (curvatures),
    /// 1/m² (cubic terms).
    fn solve(&self, pts: &[(f64, f64, f64)]) -> Option<(Coef, Coef)> {
        let (chol, x) = self.factor(pts.len())?;
        let inv = chol.inverse();
        let sse: f64 = pts
            .iter()
            .map(|p| (p.2 * MM - x.dot(&row(p.0 * MM, p.1 * MM))).powi(2))
            .sum();
        let sigma2 = sse / (pts.len() - 10).max(1) as f64;
        let c = Coef::from_fn(|k, _| x[k] * unit(k));
        let v = Coef::from_fn(|k, _| sigma2 * inv[(k, k)] * unit(k) * unit(k));
        (c.iter().chain(v.iter()).all(|v| v.is_finite())).then_some((c, v))
    }

    /// The coefficients of [`Self::solve`] alone (the first pass needs no variances).
    fn coefficients(&self, points: usize) -> Option<Coef> {
        let (_, x) = self.factor(points)?;
        let c = Coef::from_fn(|k, _| x[k] * unit(k));
        c.iter().all(|v| v.is_finite()).then_some(c)
    }

    /// The Cholesky factor of `AᵀA` and the solution in millimetres, for `points` rows.
    fn factor(&self, points: usize) -> Option<(nalgebra::Cholesky<f64, nalgebra::U10>, Coef)> {
        if points < MIN_POINTS {
            return None;
        }
        let mut ata = self.ata;
        ata.fill_lower_triangle_with_upper_triangle();
        let chol = ata.cholesky()?;
        let x = chol.solve(&self.atb);
        Some((chol, x))
    }
}

/// Metres per unit of coefficient `k` in millimetres: a is a length, b and c slopes, the
/// curvatures 1/length, the cubic terms 1/length².
fn unit(k: usize) -> f64 {
    match k {
        0 => 1.0 / MM,
        1 | 2 => 1.0,
        3..=5 => MM,
        _ => MM * MM,
    }
}

/// [`Normal::solve`] of `pts`' own equations.
#[cfg(test)]
fn solve(pts: &[(f64, f64, f64)]) -> Option<(Coef, Coef)> {
    Normal::of(pts).solve(pts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points of `z = 2e-4 + 0.1 s − 0.05 t + ½·40 s² + 15 s t + ½·(−25) t²` (metres) on a
    /// 9×9 grid 2 mm apart, plus a cubic term and, optionally, ±`noise` alternating.
    fn points(noise: f64) -> Vec<(f64, f64, f64)> {
        let mut pts = Vec::new();
        for j in -4..=4 {
            for i in -4..=4 {
                let (s, t) = (f64::from(i) * 2e-3, f64::from(j) * 2e-3);
                let z = 2e-4 + 0.1 * s - 0.05 * t + 20.0 * s * s + 15.0 * s * t - 12.5 * t * t
                    + 300.0 * s * s * s;
                let e = if (i + j) % 2 == 0 { noise } else { -noise };
                pts.push((s, t, z + e));
            }
        }
        pts
    }

    #[test]
    fn the_fit_recovers_a_quadric_exactly() {
        let (c, var) = solve(&points(0.0)).unwrap();
        let want = [2e-4, 0.1, -0.05, 40.0, 15.0, -25.0, 300.0, 0.0, 0.0, 0.0];
        for (k, w) in want.iter().enumerate() {
            assert!(
                (c[k] - w).abs() < 1e-6 * w.abs().max(1.0),
                "coefficient {k}: {}",
                c[k]
            );
            assert!(var[k] < 1e-12, "variance {k}: {}", var[k]);
        }
    }

    #[test]
    fn removing_rows_gives_the_equations_of_the_rest() {
        let pts = points(1e-4);
        let mut eq = Normal::of(&pts);
        let rest: Vec<_> = pts
            .iter()
            .enumerate()
            .filter(|(k, _)| k % 7 != 3)
            .map(|(_, p)| *p)
            .collect();
        for p in pts.iter().skip(3).step_by(7) {
            eq.remove(p);
        }
        let (a, va) = eq.solve(&rest).unwrap();
        let (b, vb) = solve(&rest).unwrap();
        for k in 0..10 {
            assert!(
                (a[k] - b[k]).abs() <= 1e-9 * b[k].abs().max(1.0),
                "coefficient {k}: {} vs {}",
                a[k],
                b[k]
            );
            assert!(
                (va[k] - vb[k]).abs() <= 1e-6 * vb[k].abs().max(1e-20),
                "variance {k}: {} vs {}",
                va[k],
                vb[k]
            );
        }
    }

    #[test]
    fn curvature_that_noise_explains_is_shrunk_to_zero() {
        // A flat bed seen with 0.2 mm of noise: the fitted curvatures are noise.
        let flat: Vec<(f64, f64, f64)> = points(0.0)
            .iter()
            .enumerate()
            .map(|(k, p)| (p.0, p.1, if k % 3 == 0 { 2e-4 } else { -1e-4 }))
            .collect();
        let (c, var) = solve(&flat).unwrap();
        for k in 3..6 {
            assert_eq!(shrink(c[k], 25.0 * var[k]), 0.0, "curvature {k}: {}", c[k]);
        }
        // A strongly curved bed with the same noise keeps most of its curvature.
        let (c, var) = solve(&points(1e-4)).unwrap();
        let k = shrink(c[3], 25.0 * var[3]);
        assert!((k - 40.0).abs() < 4.0, "{k}");
    }
}
