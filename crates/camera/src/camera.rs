//! One refractive camera: pinhole in air, flat water surface below it.

use nalgebra::{Matrix3, Point2, Point3, RealField, Vector3, convert};

use crate::{CameraError, Distortion};

/// The flat air/water interface: the plane **`Z = water_z`**, normal `[0, 0, -1]` (water → air).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interface<T: RealField + Copy = f64> {
    /// Z of the water surface, metres (> camera Z).
    pub water_z: T,
    /// Refractive index of air (1.0).
    pub n_air: T,
    /// Refractive index of water (1.333).
    pub n_water: T,
}

impl Interface<f64> {
    /// Air over fresh water at `water_z`.
    pub fn water(water_z: f64) -> Self {
        Self {
            water_z,
            n_air: 1.0,
            n_water: 1.333,
        }
    }
}

impl<T: RealField + Copy> Interface<T> {
    /// Converts the scalar type.
    pub fn cast<U: RealField + Copy>(&self) -> Interface<U>
    where
        T: Into<f64>,
    {
        Interface {
            water_z: convert(self.water_z.into()),
            n_air: convert(self.n_air.into()),
            n_water: convert(self.n_water.into()),
        }
    }
}

/// A refracted ray: it **starts on the water surface** and `direction` is a unit vector, so
/// `origin + d·direction` is the point at *ray depth* `d` metres.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ray<T: RealField + Copy = f64> {
    /// Where the ray crosses the water surface (Z = water_z).
    pub origin: Point3<T>,
    /// Unit direction in water (Z component > 0).
    pub direction: Vector3<T>,
}

impl<T: RealField + Copy> Ray<T> {
    /// The point at ray depth `depth` (metres along the refracted ray).
    pub fn at(&self, depth: T) -> Point3<T> {
        self.origin + self.direction * depth
    }
}

/// A successful projection of an underwater point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection<T: RealField + Copy = f64> {
    /// Undistorted pixel `(u, v)`; pixel centres at integer coordinates.
    pub pixel: Point2<T>,
    /// Horizontal distance (metres) from the camera centre to the surface crossing; pass it to
    /// [`Camera::project_from`] to warm-start a nearby projection.
    pub crossing_r: T,
    /// Ray depth of the point: distance from the surface crossing to the point.
    pub depth: T,
}

/// A pinhole camera in air above a flat water surface.
///
/// **World → camera**: `p_cam = R·p_world + t`; centre `C = -Rᵀt`. `K` maps undistorted
/// normalised coordinates to pixels, **pixel centres at integer coordinates**.
#[derive(Debug, Clone, PartialEq)]
pub struct Camera<T: RealField + Copy = f64> {
    /// Name, unique in its rig.
    pub name: String,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Intrinsics (upper triangular, `K[2][2] = 1`).
    pub k: Matrix3<T>,
    /// World → camera rotation.
    pub r: Matrix3<T>,
    /// World → camera translation.
    pub t: Vector3<T>,
    /// Lens distortion of the *recorded* images, if any (`K` itself is for undistorted pixels).
    pub distortion: Option<Distortion>,
    /// The water surface this camera looks through.
    pub interface: Interface<T>,
    /// An auxiliary camera (AquaCal's `is_auxiliary`): a source for other views, never a
    /// reference view of its own. `false` from [`Camera::new`].
    pub auxiliary: bool,
    k_inv: Matrix3<T>,
    center: Point3<T>,
}

impl Camera<f64> {
    /// Builds and validates a camera.
    ///
    /// Refused: an image side of 0 or over 65536; a non-finite number; refractive indices
    /// that are not positive or with **`n_water < n_air`** (equal is the "no refraction" case);
    /// `K` not of the form `[[fx, s, cx], [0, fy, cy], [0, 0, 1]]`; **focal lengths outside
    /// `[1e-3·S, 1e4·S]` pixels**, `S = max(width, height)` (a field of view between about
    /// 0.006° and 179.8°); **a principal point more than one image size outside the image**
    /// (`cx ∈ [−W, 2W]`, `cy ∈ [−H, 2H]`); `R` not a rotation; a centre not above the water;
    /// a distortion that folds the image ([`Distortion::radial_fold`]).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: impl Into<String>,
        width: u32,
        height: u32,
        k: Matrix3<f64>,
        r: Matrix3<f64>,
        t: Vector3<f64>,
        distortion: Option<Distortion>,
        interface: Interface<f64>,
    ) -> Result<Self, CameraError> {
        let name = name.into();
        if width == 0 || height == 0 || width > 65536 || height > 65536 {
            return Err(CameraError::ImageSize { width, height });
        }
        if k.iter()
            .chain(r.iter())
            .chain(t.iter())
            .any(|x| !x.is_finite())
        {
            return Err(CameraError::NonFinite("camera K, R or t"));
        }
        if !(interface.water_z.is_finite()
            && interface.n_air.is_finite()
            && interface.n_water.is_finite())
        {
            return Err(CameraError::NonFinite("water interface"));
        }
        if !(interface.n_air > 0.0 && interface.n_water >= interface.n_air) {
            return Err(CameraError::RefractiveIndex {
                n_air: interface.n_air,
                n_water: interface.n_water,
            });
        }
        if !(k[(0, 0)] > 0.0
            && k[(1, 1)] > 0.0
            && k[(1, 0)] == 0.0
            && k[(2, 0)] == 0.0
            && k[(2, 1)] == 0.0
            && (k[(2, 2)] - 1.0).abs() < 1e-12)
        {
            return Err(CameraError::Intrinsics(name));
        }
        check_intrinsics_range(&name, width, height, &k)?;
        let orth = (r * r.transpose() - Matrix3::identity()).abs().max();
        if orth > 1e-6 || r.determinant() < 0.0 {
            return Err(CameraError::Rotation(name));
        }
        let cam = Self::build(name, width, height, k, r, t, None, interface);
        if cam.center.z >= interface.water_z {
            // `+ 0.0` turns a negative zero into 0 for the message.
            return Err(CameraError::CameraBelowWater {
                name: cam.name,
                z: cam.center.z + 0.0,
                water_z: interface.water_z + 0.0,
            });
        }
        cam.with_distortion(distortion)
    }

    /// The same camera with `f32` arithmetic (the fast path).
    pub fn to_f32(&self) -> Camera<f32> {
        self.cast()
    }
}

impl<T: RealField + Copy> Camera<T> {
    #[allow(clippy::too_many_arguments)]
    fn build(
        name: String,
        width: u32,
        height: u32,
        k: Matrix3<T>,
        r: Matrix3<T>,
        t: Vector3<T>,
        distortion: Option<Distortion>,
        interface: Interface<T>,
    ) -> Self {
        // K is validated upper triangular with positive diagonal, so it is invertible.
        let k_inv = k.try_inverse().unwrap_or_else(Matrix3::identity);
        let center = Point3::from(-(r.transpose() * t));
        Self {
            name,
            width,
            height,
            k,
            r,
            t,
            distortion,
            interface,
            auxiliary: false,
            k_inv,
            center,
        }
    }

    /// Converts the scalar type (e.g. `f64` reference → `f32` fast path).
    pub fn cast<U: RealField + Copy>(&self) -> Camera<U>
    where
        T: Into<f64>,
    {
        let c = |x: T| -> U { convert(x.into()) };
        let mut cam = Camera::build(
            self.name.clone(),
            self.width,
            self.height,
            self.k.map(c),
            self.r.map(c),
            self.t.map(c),
            self.distortion,
            self.interface.cast(),
        );
        cam.auxiliary = self.auxiliary;
        cam
    }

    /// The same camera recording through `distortion` (or none). Errors on a non-finite
    /// coefficient, and on a distortion whose radial mapping is not increasing out to the
    /// image corners ([`Distortion::radial_fold`]: the image would fold over itself).
    pub fn with_distortion(&self, distortion: Option<Distortion>) -> Result<Self, CameraError> {
        if let Some(d) = distortion {
            if d.coefficients().iter().any(|x| !x.is_finite()) {
                return Err(CameraError::NonFinite("distortion coefficient"));
            }
            let corner = nalgebra::try_convert::<T, f64>(self.corner_radius()).unwrap_or(0.0);
            if let Some(fold) = d.radial_fold(corner) {
                return Err(CameraError::DistortionFolds {
                    name: self.name.clone(),
                    lens: d.to_string(),
                    fold,
                    corner,
                });
            }
        }
        Ok(Self {
            distortion,
            ..self.clone()
        })
    }

    /// The same camera looking through another water surface.
    pub fn with_interface(&self, interface: Interface<T>) -> Self {
        Self {
            interface,
            ..self.clone()
        }
    }

    /// Camera centre `C = -Rᵀt` in world coordinates.
    pub fn center(&self) -> Point3<T> {
        self.center
    }

    /// Whether pixel `(u, v)` lies on the image: **pixel centres at integer coordinates**, so
    /// the image spans `-0.5 ≤ u ≤ width - 0.5`, `-0.5 ≤ v ≤ height - 0.5`.
    pub fn contains(&self, u: T, v: T) -> bool {
        let half: T = convert(0.5);
        let w: T = convert(f64::from(self.width));
        let h: T = convert(f64::from(self.height));
        u >= -half && v >= -half && u <= w - half && v <= h - half
    }

    /// `K⁻¹`.
    pub fn k_inv(&self) -> &Matrix3<T> {
        &self.k_inv
    }

    /// Casts the refracted ray through undistorted pixel `(u, v)`.
    ///
    /// `None` when the ray never reaches the water (it points level or upward in the world).
    pub fn cast_ray(&self, u: T, v: T) -> Option<Ray<T>> {
        let dir_cam = self.k_inv * Vector3::new(u, v, T::one());
        let d = (self.r.transpose() * dir_cam).normalize();
        self.refract_from_center(d)
    }

    /// Refracts the air ray from the camera centre along unit direction `d` (world frame).
    pub fn refract_from_center(&self, d: Vector3<T>) -> Option<Ray<T>> {
        let c = self.center;
        let iface = &self.interface;
        if d.z <= T::zero() || !d.z.is_finite() {
            return None;
        }
        let s = (iface.water_z - c.z) / d.z;
        if s <= T::zero() {
            return None;
        }
        let origin = c + d * s;
        // Vector Snell's law with n = [0, 0, -1] (water → air): cos_i = -d·n = d.z.
        let eta = iface.n_air / iface.n_water;
        let cos_i = d.z;
        let sin2_t = eta * eta * (T::one() - cos_i * cos_i);
        if sin2_t > T::one() {
            return None;
        }
        let cos_t = (T::one() - sin2_t).sqrt();
        // dir = η d + (η cos_i − cos_t) n, n = −ẑ.
        let k = eta * cos_i - cos_t;
        let direction = Vector3::new(eta * d.x, eta * d.y, eta * d.z - k).normalize();
        Some(Ray { origin, direction })
    }

    /// Projects an underwater world point to its undistorted pixel.
    ///
    /// `None` when the point is not below the surface or the crossing is behind the camera.
    pub fn project(&self, p: &Point3<T>) -> Option<Projection<T>> {
        self.project_from(p, None)
    }

    /// [`Self::project`] warm-started from `guess`, the `crossing_r` of a nearby projection.
    pub fn project_from(&self, p: &Point3<T>, guess: Option<T>) -> Option<Projection<T>> {
        let iface = &self.interface;
        self.project_with(p, |h_c, h_q, r_q| {
            solve_crossing(h_c, h_q, r_q, iface.n_air, iface.n_water, guess)
        })
    }

    /// [`Self::project_from`] with exactly `steps` Newton steps from `guess` and no
    /// convergence test: for a caller whose guess is already close (the crossing of a ray a few
    /// pixels away at the same depth), where each step squares the relative error of the
    /// crossing (about 1e-3 → 1e-6 → 1e-12). Less exact than [`Self::project_from`] by design;
    /// callers measure the difference.
    pub fn project_newton(&self, p: &Point3<T>, guess: T, steps: u32) -> Option<Projection<T>> {
        let iface = &self.interface;
        self.project_with(p, |h_c, h_q, r_q| {
            let (na, nw) = (iface.n_air, iface.n_water);
            let mut r = guess.clamp(T::zero(), r_q);
            for _ in 0..steps {
                let a = (r * r + h_c * h_c).sqrt();
                let w = r_q - r;
                let b = (w * w + h_q * h_q).sqrt();
                let f = na * r / a - nw * w / b;
                let df = na * h_c * h_c / (a * a * a) + nw * h_q * h_q / (b * b * b);
                r = (r - f / df).clamp(T::zero(), r_q);
            }
            r
        })
    }

    /// The projection of `p` with the surface crossing's radius from `crossing(h_c, h_q, r_q)`.
    fn project_with(
        &self,
        p: &Point3<T>,
        crossing: impl FnOnce(T, T, T) -> T,
    ) -> Option<Projection<T>> {
        let c = self.center;
        let iface = &self.interface;
        let h_c = iface.water_z - c.z;
        let h_q = p.z - iface.water_z;
        if !(h_q > T::zero()) || !(h_c > T::zero()) {
            return None;
        }
        let dx = p.x - c.x;
        let dy = p.y - c.y;
        let r_q = (dx * dx + dy * dy).sqrt();
        let r_p = if r_q > T::zero() {
            crossing(h_c, h_q, r_q)
        } else {
            T::zero()
        };
        let (ux, uy) = if r_q > T::zero() {
            (dx / r_q, dy / r_q)
        } else {
            (T::zero(), T::zero())
        };
        let q = Point3::new(c.x + ux * r_p, c.y + uy * r_p, iface.water_z);
        let pc = self.r * q.coords + self.t;
        if !(pc.z > T::zero()) {
            return None;
        }
        let uvw = self.k * pc;
        let pixel = Point2::new(uvw.x / uvw.z, uvw.y / uvw.z);
        let depth = (p - q).norm();
        Some(Projection {
            pixel,
            crossing_r: r_p,
            depth,
        })
    }

    /// Undistorted pixel → pixel in the recorded (distorted) image. Identity without distortion.
    pub fn distort_pixel(&self, u: T, v: T) -> (T, T) {
        match self.distortion {
            None => (u, v),
            Some(d) => {
                let (x, y) = self.pixel_to_normalized(u, v);
                let (xd, yd) = d.distort(x, y);
                self.normalized_to_pixel(xd, yd)
            }
        }
    }

    /// Pixel in the recorded (distorted) image → undistorted pixel.
    pub fn undistort_pixel(&self, u: T, v: T) -> (T, T) {
        match self.distortion {
            None => (u, v),
            Some(d) => {
                let (xd, yd) = self.pixel_to_normalized(u, v);
                let (x, y) = d.undistort(xd, yd);
                self.normalized_to_pixel(x, y)
            }
        }
    }

    /// Normalised (undistorted-model) radius of the farthest image corner: how far out a
    /// distortion must stay one-to-one.
    fn corner_radius(&self) -> T {
        let half: T = convert(0.5);
        let w: T = convert(f64::from(self.width));
        let h: T = convert(f64::from(self.height));
        [
            (-half, -half),
            (w - half, -half),
            (-half, h - half),
            (w - half, h - half),
        ]
        .into_iter()
        .map(|(u, v)| {
            let (x, y) = self.pixel_to_normalized(u, v);
            (x * x + y * y).sqrt()
        })
        .fold(T::zero(), |a, b| a.max(b))
    }

    fn pixel_to_normalized(&self, u: T, v: T) -> (T, T) {
        let n = self.k_inv * Vector3::new(u, v, T::one());
        (n.x / n.z, n.y / n.z)
    }

    fn normalized_to_pixel(&self, x: T, y: T) -> (T, T) {
        let p = self.k * Vector3::new(x, y, T::one());
        (p.x / p.z, p.y / p.z)
    }
}

/// Focal lengths in `[1e-3·S, 1e4·S]` px (`S = max(width, height)`), principal point within
/// one image size of the image (see [`Camera::new`]).
fn check_intrinsics_range(
    name: &str,
    width: u32,
    height: u32,
    k: &Matrix3<f64>,
) -> Result<(), CameraError> {
    let (w, h) = (f64::from(width), f64::from(height));
    let s = w.max(h);
    for (what, value, min, max) in [
        ("fx", k[(0, 0)], 1e-3 * s, 1e4 * s),
        ("fy", k[(1, 1)], 1e-3 * s, 1e4 * s),
        ("cx", k[(0, 2)], -w, 2.0 * w),
        ("cy", k[(1, 2)], -h, 2.0 * h),
    ] {
        if !(value >= min && value <= max) {
            return Err(CameraError::IntrinsicsRange {
                name: name.to_owned(),
                what,
                value,
                min,
                max,
                width,
                height,
            });
        }
    }
    Ok(())
}

/// Solves Snell's law in the vertical plane through the camera centre and the point: the
/// crossing's horizontal distance `r ∈ [0, r_q]` from the camera with
/// `n_air·r/√(r²+h_c²) = n_water·(r_q−r)/√((r_q−r)²+h_q²)`.
///
/// The left side minus the right side is strictly increasing in `r`, so the root is unique;
/// Newton from the pinhole guess (or `guess`) is kept inside a shrinking bracket and falls
/// back to bisection if a step leaves it. Converges to the scalar's precision in a few steps.
pub fn solve_crossing<T: RealField + Copy>(
    h_c: T,
    h_q: T,
    r_q: T,
    n_air: T,
    n_water: T,
    guess: Option<T>,
) -> T {
    if r_q <= T::zero() {
        return T::zero();
    }
    let mut lo = T::zero();
    let mut hi = r_q;
    let mut r = match guess {
        Some(g) if g > lo && g < hi => g,
        _ => r_q * h_c / (h_c + h_q),
    };
    let tol = T::default_epsilon() * convert::<f64, T>(16.0) * (r_q + h_c + h_q);
    // Newton's error after a step of size s is about K s², K = |f''| / 2|f'| <= 3 / min(h_c,
    // h_q) here: a Newton step below `quick` leaves an error below `tol`.
    let quick = (tol * h_c.min(h_q) / convert::<f64, T>(3.0)).sqrt();
    let mut polish = false;
    for _ in 0..60 {
        let a = (r * r + h_c * h_c).sqrt();
        let w = r_q - r;
        let b = (w * w + h_q * h_q).sqrt();
        let f = n_air * r / a - n_water * w / b;
        if f > T::zero() {
            hi = r;
        } else {
            lo = r;
        }
        // d/dr [r/a] = h_c²/a³ ; d/dr [-(r_q-r)/b] = h_q²/b³
        let df = n_air * h_c * h_c / (a * a * a) + n_water * h_q * h_q / (b * b * b);
        let mut next = r - f / df;
        let newton = next >= lo && next <= hi;
        if !newton {
            next = (lo + hi) * convert(0.5);
        }
        let step = (next - r).abs();
        r = next;
        if polish || hi - lo <= tol || (newton && step <= quick) {
            break;
        }
        // Newton converges quadratically: one more step after a tiny one reaches the
        // scalar's precision.
        polish = step <= tol;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::solve_crossing;

    /// The root of Snell's condition by plain bisection to the last bit.
    fn bisect(h_c: f64, h_q: f64, r_q: f64, na: f64, nw: f64) -> f64 {
        let (mut lo, mut hi) = (0.0, r_q);
        for _ in 0..200 {
            let r = 0.5 * (lo + hi);
            let f = na * r / (r * r + h_c * h_c).sqrt()
                - nw * (r_q - r) / ((r_q - r).powi(2) + h_q * h_q).sqrt();
            if f > 0.0 { hi = r } else { lo = r }
        }
        0.5 * (lo + hi)
    }

    /// The solver (with its early exit after a small Newton step) reaches the crossing to a
    /// few ulps of the geometry's scale from cold and warm starts, from grazing points just
    /// below the surface to far, steep ones.
    #[test]
    fn crossing_is_exact_from_any_start() {
        let (na, nw) = (1.0, 1.333);
        let mut worst = 0f64;
        for h_c in [0.05, 0.7, 2.0] {
            for h_q in [1e-4, 0.01, 0.3, 1.5] {
                for r_q in [1e-6, 0.02, 0.5, 3.0, 10.0] {
                    let want = bisect(h_c, h_q, r_q, na, nw);
                    let scale = r_q + h_c + h_q;
                    for guess in [
                        None,
                        Some(want * 1.1),
                        Some(want * (1.0 + 1e-4)),
                        Some(want),
                    ] {
                        let got = solve_crossing(h_c, h_q, r_q, na, nw, guess);
                        worst = worst.max((got - want).abs() / scale);
                    }
                }
            }
        }
        assert!(worst < 1e-14, "relative error {worst:e}");
    }
}
