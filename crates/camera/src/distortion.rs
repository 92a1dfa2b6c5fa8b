//! Lens distortion on normalised image coordinates: OpenCV's standard model (4, 5 or 8
//! coefficients, the 8-coefficient one being the rational model) and OpenCV's fisheye
//! (equidistant) model.

use nalgebra::{RealField, convert};
use serde::{Deserialize, Serialize};

/// Which of OpenCV's lens models a [`Distortion`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LensModel {
    /// `cv::projectPoints`: `k1 k2 p1 p2 [k3 [k4 k5 k6]]`; rational when `k4..k6` are set.
    #[default]
    Standard,
    /// `cv::fisheye`: equidistant, `k1 k2 k3 k4` on the angle `θ` (`p1 = p2 = k5 = k6 = 0`).
    Fisheye,
}

/// A lens model of the recorded images, on **normalised** coordinates
/// `x = (u - cx)/fx`, `y = (v - cy)/fy` of the ideal pinhole image.
///
/// **Standard** (OpenCV `k1, k2, p1, p2, k3, k4, k5, k6`), with `r² = x² + y²`:
/// `x_d = x·q + 2p1·xy + p2·(r² + 2x²)`, `y_d = y·q + p1·(r² + 2y²) + 2p2·xy`,
/// `q = (1 + k1 r² + k2 r⁴ + k3 r⁶) / (1 + k4 r² + k5 r⁴ + k6 r⁶)`.
///
/// **Fisheye** (OpenCV `cv::fisheye`, `k1..k4`): `θ = atan r`,
/// `θ_d = θ·(1 + k1 θ² + k2 θ⁴ + k3 θ⁶ + k4 θ⁸)`, `(x_d, y_d) = (θ_d / r)·(x, y)`.
///
/// [`Distortion::distort`] maps ideal → distorted; [`Distortion::undistort`] inverts it by
/// Newton's method (standard: 2-D with the analytic Jacobian; fisheye: 1-D in `θ`), to 1e-14.
///
/// **A usable distortion is one-to-one over the image**: the radial mapping (`r ↦ r·q(r)`,
/// or `θ ↦ θ_d` for the fisheye) must keep increasing out to the image corners, or the
/// recorded image folds over itself (and parts of it have no ray at all); a fisheye whose
/// corners would look 90° or more off-axis cannot be held by the pinhole image either.
/// Cameras check this ([`Distortion::radial_fold`]) when they are built; the small tangential
/// terms are not part of the check.
///
/// The serde form is `{k1, k2, p1, p2, k3, k4, k5, k6, model}`; `k4..k6` and `model`
/// (`"standard"` or `"fisheye"`) may be left out (0 and standard).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Distortion {
    /// Radial r² (fisheye: θ²) coefficient.
    pub k1: f64,
    /// Radial r⁴ (fisheye: θ⁴) coefficient.
    pub k2: f64,
    /// Tangential coefficient 1 (standard model only).
    pub p1: f64,
    /// Tangential coefficient 2 (standard model only).
    pub p2: f64,
    /// Radial r⁶ (fisheye: θ⁶) coefficient.
    pub k3: f64,
    /// Rational denominator r² coefficient (fisheye: the θ⁸ coefficient).
    #[serde(default)]
    pub k4: f64,
    /// Rational denominator r⁴ coefficient.
    #[serde(default)]
    pub k5: f64,
    /// Rational denominator r⁶ coefficient.
    #[serde(default)]
    pub k6: f64,
    /// Standard or fisheye.
    #[serde(default, skip_serializing_if = "is_standard")]
    pub model: LensModel,
}

fn is_standard(m: &LensModel) -> bool {
    *m == LensModel::Standard
}

/// Why a list of OpenCV coefficients is not a lens model.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LensError {
    /// A length other than 4, 5 or 8 (standard) or 4 (fisheye).
    #[error(
        "{count} distortion coefficients: the {model} model takes {expected} (OpenCV order k1 k2 \
         p1 p2 [k3 [k4 k5 k6]]; fisheye k1 k2 k3 k4)"
    )]
    Count {
        /// How many were given.
        count: usize,
        /// `standard` or `fisheye`.
        model: &'static str,
        /// The lengths accepted.
        expected: &'static str,
    },
    /// NaN or infinite.
    #[error("distortion coefficient {index} is {value}, not a finite number")]
    NonFinite {
        /// 0-based position in the list.
        index: usize,
        /// The value.
        value: f64,
    },
}

impl Distortion {
    /// No distortion (every coefficient 0, standard model); the base of struct updates.
    pub const NONE: Distortion = Distortion {
        k1: 0.0,
        k2: 0.0,
        p1: 0.0,
        p2: 0.0,
        k3: 0.0,
        k4: 0.0,
        k5: 0.0,
        k6: 0.0,
        model: LensModel::Standard,
    };

    /// OpenCV's 5-coefficient Brown–Conrady model.
    pub fn brown_conrady(k1: f64, k2: f64, p1: f64, p2: f64, k3: f64) -> Self {
        Self {
            k1,
            k2,
            p1,
            p2,
            k3,
            ..Self::NONE
        }
    }

    /// From OpenCV's coefficient list: standard `k1 k2 p1 p2 [k3 [k4 k5 k6]]` (4, 5 or 8
    /// numbers) or, with `fisheye`, `k1 k2 k3 k4` (4 numbers).
    pub fn from_opencv(coefficients: &[f64], fisheye: bool) -> Result<Self, LensError> {
        if let Some((index, &value)) = coefficients
            .iter()
            .enumerate()
            .find(|(_, c)| !c.is_finite())
        {
            return Err(LensError::NonFinite { index, value });
        }
        let c = |i: usize| coefficients.get(i).copied().unwrap_or(0.0);
        if fisheye {
            if coefficients.len() != 4 {
                return Err(LensError::Count {
                    count: coefficients.len(),
                    model: "fisheye",
                    expected: "4",
                });
            }
            return Ok(Self {
                k1: c(0),
                k2: c(1),
                k3: c(2),
                k4: c(3),
                model: LensModel::Fisheye,
                ..Self::NONE
            });
        }
        if ![4, 5, 8].contains(&coefficients.len()) {
            return Err(LensError::Count {
                count: coefficients.len(),
                model: "standard",
                expected: "4, 5 or 8",
            });
        }
        Ok(Self {
            k1: c(0),
            k2: c(1),
            p1: c(2),
            p2: c(3),
            k3: c(4),
            k4: c(5),
            k5: c(6),
            k6: c(7),
            model: LensModel::Standard,
        })
    }

    /// OpenCV's coefficient list: fisheye `[k1, k2, k3, k4]`; standard the shortest of 5 or
    /// 8 numbers that holds every non-zero coefficient.
    pub fn to_opencv(&self) -> Vec<f64> {
        match self.model {
            LensModel::Fisheye => vec![self.k1, self.k2, self.k3, self.k4],
            LensModel::Standard if self.is_rational() => self.coefficients().to_vec(),
            LensModel::Standard => self.coefficients()[..5].to_vec(),
        }
    }

    /// `true` for a standard model with a rational denominator (`k4..k6` not all zero).
    pub fn is_rational(&self) -> bool {
        self.model == LensModel::Standard && [self.k4, self.k5, self.k6].iter().any(|c| *c != 0.0)
    }

    /// Ideal normalised coordinates → distorted normalised coordinates.
    pub fn distort<T: RealField + Copy>(&self, x: T, y: T) -> (T, T) {
        match self.model {
            LensModel::Standard => self.standard(x, y).0,
            LensModel::Fisheye => {
                let r = (x * x + y * y).sqrt();
                if r < convert(1e-12) {
                    return (x, y);
                }
                let theta = r.atan();
                let s = self.fisheye_theta_d(theta) / r;
                (x * s, y * s)
            }
        }
    }

    /// Distorted normalised coordinates → ideal ones (inverse of [`Self::distort`]).
    pub fn undistort<T: RealField + Copy>(&self, xd: T, yd: T) -> (T, T) {
        match self.model {
            LensModel::Standard => self.undistort_standard(xd, yd),
            LensModel::Fisheye => {
                let theta_d = (xd * xd + yd * yd).sqrt();
                if theta_d < convert(1e-12) {
                    return (xd, yd);
                }
                // Newton on θ ↦ θ_d(θ), from θ = θ_d, kept inside [0, π/2).
                let limit: T = convert(std::f64::consts::FRAC_PI_2 - 1e-9);
                let mut theta = theta_d.min(limit);
                for _ in 0..50 {
                    let (f, df) = self.fisheye_theta_d_slope(theta);
                    let step = (f - theta_d) / df;
                    theta = (theta - step).max(T::zero()).min(limit);
                    if step.abs() < convert(1e-15) {
                        break;
                    }
                }
                let s = theta.tan() / theta_d;
                (xd * s, yd * s)
            }
        }
    }

    /// The standard model at `(x, y)` and its Jacobian `[[∂xd/∂x, ∂xd/∂y], [∂yd/∂x, ∂yd/∂y]]`.
    #[allow(clippy::type_complexity)]
    fn standard<T: RealField + Copy>(&self, x: T, y: T) -> ((T, T), [[T; 2]; 2]) {
        let k = |v: f64| -> T { convert(v) };
        let (k1, k2, k3, k4, k5, k6) = (
            k(self.k1),
            k(self.k2),
            k(self.k3),
            k(self.k4),
            k(self.k5),
            k(self.k6),
        );
        let (p1, p2) = (k(self.p1), k(self.p2));
        let (two, three, six): (T, T, T) = (convert(2.0), convert(3.0), convert(6.0));
        let r2 = x * x + y * y;
        let a = T::one() + r2 * (k1 + r2 * (k2 + r2 * k3));
        let b = T::one() + r2 * (k4 + r2 * (k5 + r2 * k6));
        let da = k1 + r2 * (two * k2 + r2 * three * k3);
        let db = k4 + r2 * (two * k5 + r2 * three * k6);
        let q = a / b;
        let dq = (da * b - a * db) / (b * b);
        let xd = x * q + two * p1 * x * y + p2 * (r2 + two * x * x);
        let yd = y * q + p1 * (r2 + two * y * y) + two * p2 * x * y;
        let cross = two * x * y * dq + two * p1 * x + two * p2 * y;
        let j = [
            [q + two * x * x * dq + two * p1 * y + six * p2 * x, cross],
            [cross, q + two * y * y * dq + six * p1 * y + two * p2 * x],
        ];
        ((xd, yd), j)
    }

    /// Newton's method on the standard model from `(xd, yd)`, halving steps that do not
    /// reduce the residual.
    fn undistort_standard<T: RealField + Copy>(&self, xd: T, yd: T) -> (T, T) {
        let (mut x, mut y) = (xd, yd);
        let residual = |x: T, y: T| {
            let ((fx, fy), _) = self.standard(x, y);
            let (ex, ey) = (fx - xd, fy - yd);
            (ex, ey, ex.abs() + ey.abs())
        };
        let (mut ex, mut ey, mut err) = residual(x, y);
        for _ in 0..50 {
            if err < convert(1e-15) {
                break;
            }
            let (_, j) = self.standard(x, y);
            let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
            if det == T::zero() || !det.is_finite() {
                break;
            }
            let sx = (j[1][1] * ex - j[0][1] * ey) / det;
            let sy = (j[0][0] * ey - j[1][0] * ex) / det;
            let mut t = T::one();
            let mut improved = false;
            for _ in 0..30 {
                let (nx, ny) = (x - sx * t, y - sy * t);
                let (nex, ney, nerr) = residual(nx, ny);
                if nerr < err {
                    (x, y, ex, ey, err) = (nx, ny, nex, ney, nerr);
                    improved = true;
                    break;
                }
                t *= convert(0.5);
            }
            if !improved {
                break;
            }
        }
        (x, y)
    }

    fn fisheye_theta_d<T: RealField + Copy>(&self, theta: T) -> T {
        self.fisheye_theta_d_slope(theta).0
    }

    /// `θ_d(θ)` and `dθ_d/dθ` of the fisheye model.
    fn fisheye_theta_d_slope<T: RealField + Copy>(&self, theta: T) -> (T, T) {
        let k = |v: f64| -> T { convert(v) };
        let (k1, k2, k3, k4) = (k(self.k1), k(self.k2), k(self.k3), k(self.k4));
        let t2 = theta * theta;
        let poly = T::one() + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4)));
        let slope = T::one()
            + t2 * (k(3.0) * k1 + t2 * (k(5.0) * k2 + t2 * (k(7.0) * k3 + t2 * k(9.0) * k4)));
        (theta * poly, slope)
    }

    /// The distorted radius of undistorted radius `r` (standard: normalised radius; fisheye:
    /// the angle θ off the optical axis); `None` where the rational denominator is not
    /// positive.
    fn radial(&self, r: f64) -> Option<f64> {
        match self.model {
            LensModel::Fisheye => Some(self.fisheye_theta_d(r)),
            LensModel::Standard => {
                let s = r * r;
                let b = 1.0 + s * (self.k4 + s * (self.k5 + s * self.k6));
                (b > 0.0).then(|| r * (1.0 + s * (self.k1 + s * (self.k2 + s * self.k3))) / b)
            }
        }
    }

    /// Where the radial mapping stops increasing before the distorted radius reaches
    /// `corner_radius` (the normalised distorted radius of the farthest image corner):
    /// `Some(r)` with the undistorted radius (fisheye: angle θ) of the fold, `None` when the
    /// mapping is increasing all the way (the distortion is one-to-one over the image). A
    /// standard mapping that compresses the corners beyond 64 times their radius, and a
    /// fisheye whose corners would be 90° or more off-axis, count as a fold there. Checked
    /// on 1024 steps per corner radius.
    pub fn radial_fold(&self, corner_radius: f64) -> Option<f64> {
        if !(corner_radius > 0.0) {
            return None;
        }
        let step = corner_radius / 1024.0;
        let limit = match self.model {
            LensModel::Standard => 64.0 * corner_radius,
            LensModel::Fisheye => std::f64::consts::FRAC_PI_2,
        };
        let mut last = 0.0;
        for i in 1..=64 * 1024 {
            let r = step * f64::from(i);
            if r >= limit {
                return Some(limit);
            }
            match self.radial(r) {
                Some(d) if d > last => last = d,
                _ => return Some(step * f64::from(i - 1)),
            }
            if last >= corner_radius {
                return None;
            }
        }
        Some(limit)
    }

    /// The coefficients in OpenCV's standard order `[k1, k2, p1, p2, k3, k4, k5, k6]` (for
    /// a fisheye, `p1 = p2 = k5 = k6 = 0` and `k4` is its θ⁸ coefficient).
    pub fn coefficients(&self) -> [f64; 8] {
        [
            self.k1, self.k2, self.p1, self.p2, self.k3, self.k4, self.k5, self.k6,
        ]
    }

    /// The arguments of `lens_distort` in [`crate::LENS_WGSL`]: the model code (0 none, 1
    /// standard, 2 fisheye) and the coefficients `[k1, k2, p1, p2]`, `[k3, k4, k5, k6]` as
    /// `f32`. `None` is "no distortion" (code 0).
    pub fn shader_form(d: Option<&Distortion>) -> (f32, [f32; 4], [f32; 4]) {
        let Some(d) = d.filter(|d| !d.is_identity()) else {
            return (0.0, [0.0; 4], [0.0; 4]);
        };
        let c = d.coefficients().map(|c| c as f32);
        let model = match d.model {
            LensModel::Standard => 1.0,
            LensModel::Fisheye => 2.0,
        };
        (model, [c[0], c[1], c[2], c[3]], [c[4], c[5], c[6], c[7]])
    }

    /// `true` when every coefficient is zero. A fisheye with zero coefficients is still a
    /// fisheye (equidistant is not the pinhole), so only a standard model can be the identity.
    pub fn is_identity(&self) -> bool {
        self.model == LensModel::Standard && self.coefficients().iter().all(|c| *c == 0.0)
    }
}

impl std::fmt::Display for Distortion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let model = match self.model {
            LensModel::Fisheye => "fisheye",
            LensModel::Standard if self.is_rational() => "rational",
            LensModel::Standard => "standard",
        };
        let c: Vec<String> = self.to_opencv().iter().map(|c| format!("{c}")).collect();
        write!(f, "{model} [{}]", c.join(", "))
    }
}
