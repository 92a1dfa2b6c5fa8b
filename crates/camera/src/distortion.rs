//! Brown–Conrady lens distortion on normalised image coordinates.

use nalgebra::{RealField, convert};
use serde::{Deserialize, Serialize};

/// Brown–Conrady (OpenCV `k1, k2, p1, p2, k3`) distortion.
///
/// Acts on **normalised** coordinates `x = (u - cx)/fx`, `y = (v - cy)/fy` of the ideal
/// pinhole image: [`Distortion::distort`] maps ideal → distorted, [`Distortion::undistort`]
/// inverts it by fixed-point iteration (converges for the mild distortion of real lenses).
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

    /// `true` when every coefficient is zero.
    pub fn is_identity(&self) -> bool {
        [self.k1, self.k2, self.p1, self.p2, self.k3]
            .iter()
            .all(|c| *c == 0.0)
    }
}
