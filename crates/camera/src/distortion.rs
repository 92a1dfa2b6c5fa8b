//! Brown–Conrady lens distortion on normalised image coordinates.

use nalgebra::{RealField, convert};
use serde::{Deserialize, Serialize};

/// Brown–Conrady (OpenCV `k1, k2, p1, p2, k3`) distortion.
///
/// Acts on **normalised** coordinates `x = (u - cx)/fx`, `y = (v - cy)/fy` of the ideal
/// pinhole image: [`Distortion::distort`] maps ideal → distorted, [`Distortion::undistort`]
/// inverts it by fixed-point iteration (converges for the mild distortion of real lenses).
///
/// **A usable distortion is one-to-one over the image**: the radial mapping
/// `r ↦ r·(1 + k1·r² + k2·r⁴ + k3·r⁶)` must keep increasing out to the image corners, or
/// the recorded image folds over itself (and parts of it have no ray at all). Cameras check
/// this ([`Distortion::radial_fold`]) when they are built; the small tangential terms are not
/// part of the check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Distortion {
    /// Radial r² coefficient.
    pub k1: f64,
    /// Radial r⁴ coefficient.
    pub k2: f64,
    /// Tangential coefficient 1.
    pub p1: f64,
    /// Tangential coefficient 2.
    pub p2: f64,
    /// Radial r⁶ coefficient.
    pub k3: f64,
}

impl Distortion {
    /// Ideal normalised coordinates → distorted normalised coordinates.
    pub fn distort<T: RealField + Copy>(&self, x: T, y: T) -> (T, T) {
        let (k1, k2, k3): (T, T, T) = (convert(self.k1), convert(self.k2), convert(self.k3));
        let (p1, p2): (T, T) = (convert(self.p1), convert(self.p2));
        let two: T = convert(2.0);
        let r2 = x * x + y * y;
        let radial = T::one() + r2 * (k1 + r2 * (k2 + r2 * k3));
        let xd = x * radial + two * p1 * x * y + p2 * (r2 + two * x * x);
        let yd = y * radial + p1 * (r2 + two * y * y) + two * p2 * x * y;
        (xd, yd)
    }

    /// Distorted normalised coordinates → ideal ones (iterative inverse of [`Self::distort`]).
    pub fn undistort<T: RealField + Copy>(&self, xd: T, yd: T) -> (T, T) {
        let (mut x, mut y) = (xd, yd);
        for _ in 0..50 {
            let (fx, fy) = self.distort(x, y);
            let (ex, ey) = (fx - xd, fy - yd);
            x -= ex;
            y -= ey;
            if ex.abs() + ey.abs() < convert(1e-14) {
                break;
            }
        }
        (x, y)
    }

    /// Where the radial mapping `r ↦ r·(1 + k1·r² + k2·r⁴ + k3·r⁶)` of undistorted normalised
    /// radii stops increasing before the distorted radius reaches `corner_radius` (the
    /// normalised radius of the farthest image corner): `Some(r)` with the undistorted radius
    /// of the fold, `None` when the mapping is increasing all the way (the distortion is
    /// one-to-one over the image). A mapping that compresses the corners beyond 64 times
    /// their radius counts as a fold there. Checked on 1024 steps per corner radius.
    pub fn radial_fold(&self, corner_radius: f64) -> Option<f64> {
        if !(corner_radius > 0.0) {
            return None;
        }
        let slope = |r: f64| {
            let s = r * r;
            1.0 + s * (3.0 * self.k1 + s * (5.0 * self.k2 + s * 7.0 * self.k3))
        };
        let radial = |r: f64| {
            let s = r * r;
            r * (1.0 + s * (self.k1 + s * (self.k2 + s * self.k3)))
        };
        let step = corner_radius / 1024.0;
        for i in 0..=64 * 1024 {
            let r = step * f64::from(i);
            if !(slope(r) > 0.0) {
                return Some(r);
            }
            if radial(r) >= corner_radius {
                return None;
            }
        }
        Some(64.0 * corner_radius)
    }

    /// The coefficients in OpenCV order `[k1, k2, p1, p2, k3]`.
    pub fn coefficients(&self) -> [f64; 5] {
        [self.k1, self.k2, self.p1, self.p2, self.k3]
    }

    /// `true` when every coefficient is zero.
    pub fn is_identity(&self) -> bool {
        [self.k1, self.k2, self.p1, self.p2, self.k3]
            .iter()
            .all(|c| *c == 0.0)
    }
}
