//! The analytic surfaces, their exact ray intersection and ground-truth depth maps.

use std::f64::consts::TAU;

use aquamvs_camera::{Camera, Ray, Rig};
use nalgebra::Vector3;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::SceneError;

/// The reference patch depth, metres (water_z 0.978 + 0.2).
pub const PATCH_Z: f64 = 1.178;
/// The reference evaluation bounds `[x_min, x_max, y_min, y_max]`, metres.
pub const PATCH_BOUNDS: [f64; 4] = [-0.25, 0.25, -0.15, 0.15];
/// Amplitude of the reference undulating surface, metres.
pub const UNDULATING_AMPLITUDE: f64 = 0.005;
/// Wavelength of the reference undulating surface, metres.
pub const UNDULATING_WAVELENGTH: f64 = 0.05;
/// The y wavelength of the undulating surface is this times the x wavelength.
pub const Y_WAVELENGTH_RATIO: f64 = 1.3;

/// The shape of a scene's surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SceneKind {
    /// The plane `z = base_z`.
    Flat,
    /// `z = base_z + A·(sin(2πx/λ) + sin(2πy/(1.3λ)))`.
    Undulating,
}

impl SceneKind {
    /// `"flat"` or `"undulating"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flat => "flat",
            Self::Undulating => "undulating",
        }
    }
}

impl std::fmt::Display for SceneKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SceneKind {
    type Err = SceneError;
    fn from_str(s: &str) -> Result<Self, SceneError> {
        match s {
            "flat" => Ok(Self::Flat),
            "undulating" => Ok(Self::Undulating),
            _ => Err(SceneError::File(format!(
                "unknown scene kind {s:?} (expected \"flat\" or \"undulating\")"
            ))),
        }
    }
}

/// An analytic height-field scene `z = h(x, y)` (**+Z down into the water**).
///
/// The surface is **defined everywhere**; `bounds` is only the evaluation crop and the mesh
/// extent. Build with [`Scene::flat`], [`Scene::undulating`] or the validating [`Scene::new`];
/// the fields are public for reading — a scene edited by hand is not re-validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scene {
    /// Flat or undulating.
    pub kind: SceneKind,
    /// Mean surface Z, metres.
    pub base_z: f64,
    /// Amplitude `A` of each sine, metres (0 for a flat scene).
    pub amplitude: f64,
    /// Wavelength `λ` along x, metres (the y wavelength is 1.3λ); unused for a flat scene.
    pub wavelength: f64,
    /// Evaluation crop and mesh extent `[x_min, x_max, y_min, y_max]`, metres.
    pub bounds: [f64; 4],
    /// Origin `(cx, cy)` of the surface formula, metres: the formula reads `x − cx`,
    /// `y − cy` ([`Scene::with_center`]; `[0, 0]` for the reference scenes).
    pub center: [f64; 2],
}

impl Scene {
    /// The reference flat scene: `z = 1.178`, bounds `[-0.25, 0.25, -0.15, 0.15]`.
    pub fn flat() -> Self {
        Self {
            kind: SceneKind::Flat,
            base_z: PATCH_Z,
            amplitude: 0.0,
            wavelength: 0.0,
            bounds: PATCH_BOUNDS,
            center: [0.0, 0.0],
        }
    }

    /// The reference undulating scene: `z = 1.178 + 0.005·(sin(2πx/0.05) + sin(2πy/0.065))`,
    /// bounds `[-0.25, 0.25, -0.15, 0.15]`.
    pub fn undulating() -> Self {
        Self {
            kind: SceneKind::Undulating,
            base_z: PATCH_Z,
            amplitude: UNDULATING_AMPLITUDE,
            wavelength: UNDULATING_WAVELENGTH,
            bounds: PATCH_BOUNDS,
            center: [0.0, 0.0],
        }
    }

    /// Builds and validates a scene: every number finite, `x_min < x_max`, `y_min < y_max`;
    /// a flat scene has amplitude 0; an undulating one has amplitude ≥ 0 and wavelength > 0.
    pub fn new(
        kind: SceneKind,
        base_z: f64,
        amplitude: f64,
        wavelength: f64,
        bounds: [f64; 4],
    ) -> Result<Self, SceneError> {
        if !base_z.is_finite() {
            return Err(SceneError::NonFinite("base_z"));
        }
        if !amplitude.is_finite() {
            return Err(SceneError::NonFinite("amplitude"));
        }
        if !wavelength.is_finite() {
            return Err(SceneError::NonFinite("wavelength"));
        }
        if bounds.iter().any(|b| !b.is_finite()) {
            return Err(SceneError::NonFinite("bounds"));
        }
        if !(bounds[0] < bounds[1] && bounds[2] < bounds[3]) {
            return Err(SceneError::Bounds(bounds));
        }
        match kind {
            SceneKind::Flat if amplitude != 0.0 => {
                return Err(SceneError::Parameter {
                    name: "amplitude",
                    value: amplitude,
                    why: "a flat scene has amplitude 0",
                });
            }
            SceneKind::Undulating if amplitude < 0.0 => {
                return Err(SceneError::Parameter {
                    name: "amplitude",
                    value: amplitude,
                    why: "must be >= 0",
                });
            }
            SceneKind::Undulating if !(wavelength > 0.0) => {
                return Err(SceneError::Parameter {
                    name: "wavelength",
                    value: wavelength,
                    why: "must be > 0",
                });
            }
            _ => {}
        }
        Ok(Self {
            kind,
            base_z,
            amplitude,
            wavelength,
            bounds,
            center: [0.0, 0.0],
        })
    }

    /// The same surface with its formula centred on `(cx, cy)` (it reads `x − cx`, `y − cy`);
    /// the bounds are not moved.
    pub fn with_center(self, center: [f64; 2]) -> Result<Self, SceneError> {
        if center.iter().any(|c| !c.is_finite()) {
            return Err(SceneError::NonFinite("center"));
        }
        Ok(Self { center, ..self })
    }

    /// Angular wave numbers `(2π/λ, 2π/(1.3λ))`; zero for a flat scene.
    fn wave_numbers(&self) -> (f64, f64) {
        match self.kind {
            SceneKind::Flat => (0.0, 0.0),
            SceneKind::Undulating => (
                TAU / self.wavelength,
                TAU / (Y_WAVELENGTH_RATIO * self.wavelength),
            ),
        }
    }

    /// Surface Z at `(x, y)`, metres.
    pub fn height(&self, x: f64, y: f64) -> f64 {
        match self.kind {
            SceneKind::Flat => self.base_z,
            SceneKind::Undulating => {
                let (kx, ky) = self.wave_numbers();
                let (x, y) = (x - self.center[0], y - self.center[1]);
                self.base_z + self.amplitude * ((kx * x).sin() + (ky * y).sin())
            }
        }
    }

    /// Height and its gradient `(h, ∂h/∂x, ∂h/∂y)` at `(x, y)`.
    pub fn height_gradient(&self, x: f64, y: f64) -> (f64, f64, f64) {
        match self.kind {
            SceneKind::Flat => (self.base_z, 0.0, 0.0),
            SceneKind::Undulating => {
                let (kx, ky) = self.wave_numbers();
                let a = self.amplitude;
                let (x, y) = (x - self.center[0], y - self.center[1]);
                let (sx, cx) = (kx * x).sin_cos();
                let (sy, cy) = (ky * y).sin_cos();
                (self.base_z + a * (sx + sy), a * kx * cx, a * ky * cy)
            }
        }
    }

    /// Unit surface normal at `(x, y)`, **pointing up toward the water and the cameras**
    /// (negative Z component): `(∂h/∂x, ∂h/∂y, −1)/‖·‖`.
    pub fn normal(&self, x: f64, y: f64) -> Vector3<f64> {
        let (_, hx, hy) = self.height_gradient(x, y);
        Vector3::new(hx, hy, -1.0).normalize()
    }

    /// Smallest surface Z anywhere (the top of the scene, nearest the water).
    pub fn min_height(&self) -> f64 {
        self.base_z - 2.0 * self.amplitude
    }

    /// Largest surface Z anywhere.
    pub fn max_height(&self) -> f64 {
        self.base_z + 2.0 * self.amplitude
    }

    /// Largest slope `max ‖∇h‖` anywhere.
    pub fn max_slope(&self) -> f64 {
        let (kx, ky) = self.wave_numbers();
        self.amplitude * kx.hypot(ky)
    }

    /// Checks that the rig's water surface lies strictly between its cameras and this scene.
    pub fn check_rig(&self, rig: &Rig) -> Result<(), SceneError> {
        let water_z = rig.interface.water_z;
        let camera_z = rig
            .cameras
            .iter()
            .map(|c| c.center().z)
            .fold(f64::NEG_INFINITY, f64::max);
        let scene_top = self.min_height();
        if !(camera_z < water_z && water_z < scene_top) {
            // `+ 0.0` turns a negative zero into 0 for the message.
            return Err(SceneError::WaterNotBetween {
                water_z: water_z + 0.0,
                camera_z: camera_z + 0.0,
                scene_top: scene_top + 0.0,
            });
        }
        Ok(())
    }

    /// Ray depth of the **first** intersection of a refracted ray with the analytic surface,
    /// or `None` when the ray never meets it (it points level or up, or it starts below the
    /// surface).
    ///
    /// With `f(t) = z(t) − h(x(t), y(t))` (negative above the surface) and the bound
    /// `|f''| ≤ M = A·(kx²dx² + ky²dy²)`, the step `s` solving `f + f's + Ms²/2 = 0` cannot
    /// pass a root; repeated from the top of the surface's Z range it converges to the first
    /// root, quadratically at an ordinary crossing. The result is within ~1e-10 m of the
    /// exact root.
    pub fn intersect(&self, ray: &Ray<f64>) -> Option<f64> {
        let o = ray.origin;
        let d = ray.direction;
        if !(d.z > 0.0) {
            return None;
        }
        match self.kind {
            SceneKind::Flat => {
                let t = (self.base_z - o.z) / d.z;
                (t >= 0.0).then_some(t)
            }
            SceneKind::Undulating => self.intersect_undulating(o.coords, d),
        }
    }

    fn intersect_undulating(&self, o: Vector3<f64>, d: Vector3<f64>) -> Option<f64> {
        let (kx, ky) = self.wave_numbers();
        let a = self.amplitude;
        let f_df = |t: f64| {
            let p = o + d * t;
            let (sx, cx) = (kx * (p.x - self.center[0])).sin_cos();
            let (sy, cy) = (ky * (p.y - self.center[1])).sin_cos();
            let h = self.base_z + a * (sx + sy);
            let f = p.z - h;
            let df = d.z - a * (kx * cx * d.x + ky * cy * d.y);
            (f, df)
        };
        let curvature = a * (kx * kx * d.x * d.x + ky * ky * d.y * d.y);
        // Above the top of the surface f < 0 everywhere: start there.
        let mut t = ((self.min_height() - o.z) / d.z).max(0.0);
        let (f0, _) = f_df(0.0);
        if f0 > 0.0 {
            return None;
        }
        for _ in 0..10_000 {
            let (f, df) = f_df(t);
            if f >= 0.0 {
                return Some(t);
            }
            let g = -f;
            let disc = (df * df + 2.0 * curvature * g).sqrt();
            let denom = df + disc;
            // denom > 0 unless df <= 0 with zero curvature (a ray that never comes down
            // to the surface); then no root lies ahead.
            if !(denom > 0.0) {
                return None;
            }
            let step = 2.0 * g / denom;
            t += step;
            if step < 1e-10 {
                return Some(t);
            }
        }
        // Unreachable for any real scene (each step gains at least sqrt(2g/M)); answer the
        // best estimate rather than nothing.
        Some(t)
    }

    /// The ground-truth ray-depth map of `cam`: row-major `H×W` ray depth in metres, **NaN
    /// where the ray misses**. Pixel `(u, v)` of the recorded image (pixel centres at integer
    /// coordinates); when the camera has lens distortion the pixel is undistorted first.
    pub fn depth_map(&self, cam: &Camera<f64>) -> Vec<f32> {
        let w = cam.width as usize;
        let h = cam.height as usize;
        let mut out = vec![f32::NAN; w * h];
        out.par_chunks_mut(w).enumerate().for_each(|(v, row)| {
            for (u, px) in row.iter_mut().enumerate() {
                *px = self
                    .pixel_depth(cam, u as f64, v as f64)
                    .map_or(f32::NAN, |d| d as f32);
            }
        });
        out
    }

    /// Ray depth (f64) at recorded-image pixel `(u, v)` of `cam`, `None` where the ray misses.
    pub fn pixel_depth(&self, cam: &Camera<f64>, u: f64, v: f64) -> Option<f64> {
        let (uu, vv) = cam.undistort_pixel(u, v);
        let ray = cam.cast_ray(uu, vv)?;
        self.intersect(&ray)
    }

    /// The patch pixels of `cam`: indices (row-major) of the pixels whose ground-truth surface
    /// point — ray depth `truth[i]` along the pixel's ray, as [`Self::depth_map`] gives —
    /// lies inside the evaluation bounds. Where depth maps are evaluated.
    pub fn patch_pixels(&self, cam: &Camera<f64>, truth: &[f32]) -> Vec<usize> {
        let w = cam.width as usize;
        (0..truth.len())
            .filter(|&i| {
                let t = truth[i];
                if !t.is_finite() {
                    return false;
                }
                let (x, y) = cam.undistort_pixel((i % w) as f64, (i / w) as f64);
                cam.cast_ray(x, y).is_some_and(|ray| {
                    let p = ray.at(f64::from(t));
                    self.in_bounds(p.x, p.y)
                })
            })
            .collect()
    }

    /// Whether `(x, y)` lies inside the evaluation bounds (inclusive).
    pub fn in_bounds(&self, x: f64, y: f64) -> bool {
        let b = self.bounds;
        x >= b[0] && x <= b[1] && y >= b[2] && y <= b[3]
    }

    /// A human-readable formula of the surface, e.g. `"z = 1.178"`; a centred scene reads
    /// `(x - cx)` and `(y - cy)`.
    pub fn formula(&self) -> String {
        let axis = |name: &str, c: f64| {
            if c == 0.0 {
                name.to_owned()
            } else {
                format!("({name} - {c})")
            }
        };
        let (x, y) = (axis("x", self.center[0]), axis("y", self.center[1]));
        match self.kind {
            SceneKind::Flat => format!("z = {}", self.base_z),
            SceneKind::Undulating => format!(
                "z = {} + {} * (sin(2*pi*{x}/{}) + sin(2*pi*{y}/({} * {})))",
                self.base_z, self.amplitude, self.wavelength, Y_WAVELENGTH_RATIO, self.wavelength
            ),
        }
    }

    /// The serde form written to `scene.json` (the optional extras left empty).
    pub fn to_file(&self) -> SceneFile {
        let flat = self.kind == SceneKind::Flat;
        SceneFile {
            kind: self.kind,
            depth_z: flat.then_some(self.base_z),
            base_depth_z: (!flat).then_some(self.base_z),
            amplitude: (!flat).then_some(self.amplitude),
            wavelength: (!flat).then_some(self.wavelength),
            bounds: self.bounds,
            center: (self.center != [0.0, 0.0]).then_some(self.center),
            surface: Some(self.formula()),
            units: Some("metres; +Z down into the water".into()),
            texture: Some(crate::TEXTURE_DESCRIPTION.into()),
            mesh_spacing: None,
            seed: None,
            noise_sigma: None,
            supersample: None,
        }
    }

    /// Builds and validates a scene from its serde form.
    pub fn from_file(file: &SceneFile) -> Result<Self, SceneError> {
        Self::from_file_uncentred(file)?.with_center(file.center.unwrap_or([0.0, 0.0]))
    }

    fn from_file_uncentred(file: &SceneFile) -> Result<Self, SceneError> {
        let need = |v: Option<f64>, name: &str| {
            v.ok_or_else(|| {
                SceneError::File(format!("a {} scene needs \"{name}\"", file.kind.name()))
            })
        };
        match file.kind {
            SceneKind::Flat => {
                let z = need(file.depth_z, "depth_z")?;
                if file.amplitude.is_some_and(|a| a != 0.0) {
                    return Err(SceneError::File(
                        "a flat scene must not have a non-zero \"amplitude\"".into(),
                    ));
                }
                Self::new(SceneKind::Flat, z, 0.0, 0.0, file.bounds)
            }
            SceneKind::Undulating => Self::new(
                SceneKind::Undulating,
                need(file.base_depth_z, "base_depth_z")?,
                need(file.amplitude, "amplitude")?,
                need(file.wavelength, "wavelength")?,
                file.bounds,
            ),
        }
    }
}

/// `scene.json`: `{"kind", "depth_z"}` (flat) or `{"kind", "base_depth_z", "amplitude",
/// "wavelength"}` (undulating), `"bounds": [x_min, x_max, y_min, y_max]`, `"center": [cx, cy]`
/// when the formula is centred away from the origin, plus informative
/// extras (formula, texture, how the folder was rendered). Metres, **+Z down**.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneFile {
    /// `"flat"` or `"undulating"`.
    pub kind: SceneKind,
    /// Plane Z (flat scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth_z: Option<f64>,
    /// Mean surface Z (undulating scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_depth_z: Option<f64>,
    /// Amplitude A of each sine (undulating scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amplitude: Option<f64>,
    /// Wavelength λ along x; along y it is 1.3λ (undulating scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wavelength: Option<f64>,
    /// Evaluation crop and mesh extent.
    pub bounds: [f64; 4],
    /// Origin `[cx, cy]` of the formula (`x − cx`, `y − cy`); absent: `[0, 0]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub center: Option<[f64; 2]>,
    /// The surface formula (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surface: Option<String>,
    /// Units and axes (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<String>,
    /// How the texture is made (informative).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub texture: Option<String>,
    /// Spacing of `mesh.ply`, metres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh_spacing: Option<f64>,
    /// Seed of the sensor noise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Standard deviation of the sensor noise (grey levels in [0, 1]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_sigma: Option<f64>,
    /// Anti-aliasing: sub-samples per pixel side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supersample: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Point3;

    #[test]
    fn reference_scenes_match_the_domain_numbers() {
        let s = Scene::undulating();
        assert_eq!(s.height(0.0, 0.0), 1.178);
        // sin(2π·x/λ) = 1 at x = λ/4; sin(2π·y/(1.3λ)) = 1 at y = 1.3λ/4.
        let h = s.height(0.0125, 0.01625);
        assert!((h - (1.178 + 0.01)).abs() < 1e-12);
        assert_eq!(Scene::flat().height(3.0, -7.0), 1.178);
        assert_eq!(Scene::flat().bounds, [-0.25, 0.25, -0.15, 0.15]);
    }

    #[test]
    fn gradient_matches_finite_differences_and_normal_points_up() {
        let s = Scene::undulating();
        for &(x, y) in &[(0.01, 0.02), (-0.13, 0.07), (0.2, -0.11)] {
            let (_, hx, hy) = s.height_gradient(x, y);
            let e = 1e-6;
            let fx = (s.height(x + e, y) - s.height(x - e, y)) / (2.0 * e);
            let fy = (s.height(x, y + e) - s.height(x, y - e)) / (2.0 * e);
            assert!((hx - fx).abs() < 1e-7 && (hy - fy).abs() < 1e-7);
            let n = s.normal(x, y);
            assert!(n.z < 0.0 && (n.norm() - 1.0).abs() < 1e-12);
            // Orthogonal to both tangents.
            assert!(n.dot(&Vector3::new(1.0, 0.0, hx)).abs() < 1e-12);
            assert!(n.dot(&Vector3::new(0.0, 1.0, hy)).abs() < 1e-12);
        }
    }

    #[test]
    fn new_rejects_bad_parameters() {
        let b = PATCH_BOUNDS;
        use SceneKind::*;
        assert!(Scene::new(Flat, f64::NAN, 0.0, 0.0, b).is_err());
        assert!(Scene::new(Undulating, 1.0, f64::INFINITY, 0.05, b).is_err());
        assert!(Scene::new(Undulating, 1.0, 0.005, 0.0, b).is_err());
        assert!(Scene::new(Undulating, 1.0, 0.005, f64::NAN, b).is_err());
        assert!(Scene::new(Undulating, 1.0, -0.005, 0.05, b).is_err());
        assert!(Scene::new(Flat, 1.0, 0.005, 0.05, b).is_err());
        assert!(Scene::new(Flat, 1.0, 0.0, 0.0, [0.1, -0.1, 0.0, 1.0]).is_err());
        assert!(Scene::new(Flat, 1.0, 0.0, 0.0, [0.0, 1.0, 0.0, f64::NAN]).is_err());
        assert_eq!(
            Scene::new(Undulating, PATCH_Z, 0.005, 0.05, b),
            Ok(Scene::undulating())
        );
    }

    #[test]
    fn file_round_trip_and_errors() {
        for s in [Scene::flat(), Scene::undulating()] {
            assert_eq!(Scene::from_file(&s.to_file()), Ok(s));
        }
        let mut f = Scene::undulating().to_file();
        f.wavelength = None;
        assert!(
            Scene::from_file(&f)
                .unwrap_err()
                .to_string()
                .contains("wavelength")
        );
        let mut f = Scene::flat().to_file();
        f.depth_z = None;
        assert!(Scene::from_file(&f).is_err());
        assert_eq!("flat".parse::<SceneKind>(), Ok(SceneKind::Flat));
        assert!("bumpy".parse::<SceneKind>().is_err());
    }

    #[test]
    fn first_root_is_found_when_a_ray_passes_through_a_crest() {
        // A steep ray through the crest at x = λ/4: it enters the surface first near the
        // crest, even though it would cross again further on.
        let s = Scene::new(SceneKind::Undulating, 1.0, 0.01, 0.05, PATCH_BOUNDS).unwrap();
        let d = Vector3::new(1.0, 0.0, 0.35).normalize();
        let ray = Ray {
            origin: Point3::new(-0.05, -0.0325 * 0.0, 0.975),
            direction: d,
        };
        let t = s.intersect(&ray).unwrap();
        let p = ray.at(t);
        assert!((p.z - s.height(p.x, p.y)).abs() < 1e-10);
        // Independent check: a fine march finds no earlier crossing.
        let mut prev = ray.origin.z - s.height(ray.origin.x, ray.origin.y);
        let n = 200_000;
        for i in 1..=n {
            let q = ray.at(t * i as f64 / n as f64 * (1.0 - 1e-9));
            let f = q.z - s.height(q.x, q.y);
            assert!(f < 0.0, "earlier crossing at step {i} (prev {prev})");
            prev = f;
        }
    }

    #[test]
    fn rig_check() {
        let rig = Rig::reference(32, 24).unwrap();
        assert!(Scene::undulating().check_rig(&rig).is_ok());
        let above = Scene::new(SceneKind::Flat, 0.9, 0.0, 0.0, PATCH_BOUNDS).unwrap();
        let e = above.check_rig(&rig).unwrap_err();
        assert!(matches!(e, SceneError::WaterNotBetween { .. }), "{e}");
        assert!(
            !e.to_string().contains("-0 m"),
            "negative zero printed: {e}"
        );
        let touching = Scene::new(SceneKind::Undulating, 0.985, 0.005, 0.05, PATCH_BOUNDS).unwrap();
        assert!(touching.check_rig(&rig).is_err());
    }
}
