//! The analytic surfaces, their exact ray intersection and ground-truth depth maps.

use std::f64::consts::TAU;

use aquamvs_camera::{Camera, Ray, Rig};
use nalgebra::Vector3;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::SceneError;
use crate::board::{BOARD_DARK, BOARD_LIGHT, Board, BoardPlacement, BoardPose};
use crate::placement::{WorkingArea, views_of};

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
/// Angle of the reference slope scene to the water surface, degrees.
pub const SLOPE_DEG: f64 = 20.0;
/// A slope scene's angle must be below this, degrees (steeper planes are seen edge-on).
pub const MAX_SLOPE_DEG: f64 = 80.0;

/// The shape of a scene's surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SceneKind {
    /// The plane `z = base_z`.
    Flat,
    /// `z = base_z + A·(sin(2πx/λ) + sin(2πy/(1.3λ)))`.
    Undulating,
    /// The plane `z = base_z + tan(θ)·x`, tilted by `θ` about the y axis (it deepens toward
    /// +X).
    Slope,
    /// A checkerboard ([`Board`]) on the plane through its pose's centre ([`BoardPose`]);
    /// the plane goes on beyond the board with the world texture.
    Board,
}

impl SceneKind {
    /// `"flat"`, `"undulating"` or `"slope"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flat => "flat",
            Self::Undulating => "undulating",
            Self::Slope => "slope",
            Self::Board => "board",
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
            "slope" => Ok(Self::Slope),
            "board" => Ok(Self::Board),
            _ => Err(SceneError::File(format!(
                "unknown scene kind {s:?} (expected \"flat\", \"undulating\", \"slope\" or \"board\")"
            ))),
        }
    }
}

/// An analytic height-field scene `z = h(x, y)` (**+Z down into the water**).
///
/// The surface is **defined everywhere**; `bounds` is only the evaluation crop and the mesh
/// extent. Build with [`Scene::flat`], [`Scene::undulating`], [`Scene::slope`] or the
/// validating [`Scene::new`] and [`Scene::new_slope`]; the fields are public for reading — a
/// scene edited by hand is not re-validated (unless [`Scene::validate`] is called).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scene {
    /// Flat, undulating or slope.
    pub kind: SceneKind,
    /// Mean surface Z, metres (for a slope: Z at `x = cx`).
    pub base_z: f64,
    /// Amplitude `A` of each sine, metres (0 for a flat or slope scene).
    pub amplitude: f64,
    /// Wavelength `λ` along x, metres (the y wavelength is 1.3λ); unused for a flat or slope
    /// scene.
    pub wavelength: f64,
    /// Angle `θ` of a slope scene to the water surface, degrees, in `(0, 80)`; 0 for the
    /// other kinds.
    pub slope_deg: f64,
    /// Evaluation crop and mesh extent `[x_min, x_max, y_min, y_max]`, metres.
    pub bounds: [f64; 4],
    /// Origin `(cx, cy)` of the surface formula, metres: the formula reads `x − cx`,
    /// `y − cy` ([`Scene::with_center`]; `[0, 0]` for the reference scenes).
    pub center: [f64; 2],
    /// The board and its pose (board scenes only; `None` for the other kinds).
    pub board: Option<BoardPlacement>,
}

impl Scene {
    /// The reference flat scene: `z = 1.178`, bounds `[-0.25, 0.25, -0.15, 0.15]`.
    pub fn flat() -> Self {
        Self {
            kind: SceneKind::Flat,
            base_z: PATCH_Z,
            amplitude: 0.0,
            wavelength: 0.0,
            slope_deg: 0.0,
            bounds: PATCH_BOUNDS,
            center: [0.0, 0.0],
            board: None,
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
            slope_deg: 0.0,
            bounds: PATCH_BOUNDS,
            center: [0.0, 0.0],
            board: None,
        }
    }

    /// The reference slope scene: `z = 1.178 + tan(20°)·x`, bounds
    /// `[-0.25, 0.25, -0.15, 0.15]` (Z from 1.087 to 1.269 m over the bounds).
    pub fn slope() -> Self {
        Self {
            kind: SceneKind::Slope,
            base_z: PATCH_Z,
            amplitude: 0.0,
            wavelength: 0.0,
            slope_deg: SLOPE_DEG,
            bounds: PATCH_BOUNDS,
            center: [0.0, 0.0],
            board: None,
        }
    }

    /// Builds and validates a scene: every number finite, `x_min < x_max`, `y_min < y_max`;
    /// a flat scene has amplitude 0; an undulating one has amplitude ≥ 0 and wavelength > 0.
    /// A slope scene needs its angle: build it with [`Scene::new_slope`] (here its angle
    /// would be 0, which is refused).
    pub fn new(
        kind: SceneKind,
        base_z: f64,
        amplitude: f64,
        wavelength: f64,
        bounds: [f64; 4],
    ) -> Result<Self, SceneError> {
        let scene = Self {
            kind,
            base_z,
            amplitude,
            wavelength,
            slope_deg: 0.0,
            bounds,
            center: [0.0, 0.0],
            board: None,
        };
        scene.validate()?;
        Ok(scene)
    }

    /// Builds and validates a slope scene `z = base_z + tan(slope_deg°)·x`: every number
    /// finite, `x_min < x_max`, `y_min < y_max`, `0 < slope_deg < 80`.
    pub fn new_slope(base_z: f64, slope_deg: f64, bounds: [f64; 4]) -> Result<Self, SceneError> {
        let scene = Self {
            kind: SceneKind::Slope,
            base_z,
            amplitude: 0.0,
            wavelength: 0.0,
            slope_deg,
            bounds,
            center: [0.0, 0.0],
            board: None,
        };
        scene.validate()?;
        Ok(scene)
    }

    /// The checks of [`Scene::new`] and [`Scene::new_slope`] (and a finite centre) on a
    /// scene built or edited by hand.
    pub fn validate(&self) -> Result<(), SceneError> {
        let (a, w, s, b) = (self.amplitude, self.wavelength, self.slope_deg, self.bounds);
        for (name, v) in [("base_z", self.base_z), ("amplitude", a), ("wavelength", w)] {
            if !v.is_finite() {
                return Err(SceneError::NonFinite(name));
            }
        }
        if !s.is_finite() {
            return Err(SceneError::NonFinite("slope_deg"));
        }
        if b.iter().any(|b| !b.is_finite()) {
            return Err(SceneError::NonFinite("bounds"));
        }
        if self.center.iter().any(|c| !c.is_finite()) {
            return Err(SceneError::NonFinite("center"));
        }
        if !(b[0] < b[1] && b[2] < b[3]) {
            return Err(SceneError::Bounds(b));
        }
        let bad = |name, value, why| Err(SceneError::Parameter { name, value, why });
        match (self.kind, &self.board) {
            (SceneKind::Board, None) => {
                return Err(SceneError::File(
                    "a board scene needs its board and pose".into(),
                ));
            }
            (SceneKind::Board, Some(b)) => {
                b.board.validate()?;
                b.pose.validate()?;
            }
            (_, Some(_)) => {
                return Err(SceneError::File(format!(
                    "a {} scene has no board",
                    self.kind
                )));
            }
            (_, None) => {}
        }
        match self.kind {
            SceneKind::Slope if !(s > 0.0 && s < MAX_SLOPE_DEG) => bad(
                "slope_deg",
                s,
                "a slope scene's angle must be in (0, 80) degrees",
            ),
            SceneKind::Slope if a != 0.0 => bad("amplitude", a, "a slope scene has amplitude 0"),
            SceneKind::Board if a != 0.0 || s != 0.0 => bad(
                "amplitude",
                a,
                "a board scene has amplitude 0 and no slope angle (its pose tilts it)",
            ),
            SceneKind::Flat | SceneKind::Undulating if s != 0.0 => {
                bad("slope_deg", s, "only a slope scene has a non-zero angle")
            }
            SceneKind::Flat if a != 0.0 => bad("amplitude", a, "a flat scene has amplitude 0"),
            SceneKind::Undulating if a < 0.0 => bad("amplitude", a, "must be >= 0"),
            SceneKind::Undulating if !(w > 0.0) => bad("wavelength", w, "must be > 0"),
            _ => Ok(()),
        }
    }

    /// The same surface with its formula centred on `(cx, cy)` (it reads `x − cx`, `y − cy`);
    /// the bounds are not moved.
    pub fn with_center(self, center: [f64; 2]) -> Result<Self, SceneError> {
        if center.iter().any(|c| !c.is_finite()) {
            return Err(SceneError::NonFinite("center"));
        }
        Ok(Self { center, ..self })
    }

    /// A board scene: `board` on the plane of `pose`. The bounds (evaluation crop and mesh
    /// extent) are the axis-aligned box around the board's outline, and
    /// [`Scene::in_bounds`] further keeps only points on the board: **the board's area is
    /// the evaluation area**. `base_z` and `center` are the pose's centre.
    pub fn board(board: Board, pose: BoardPose) -> Result<Self, SceneError> {
        board.validate()?;
        pose.validate()?;
        let placement = BoardPlacement { board, pose };
        let outline = placement.outline();
        let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
        for p in &outline {
            for k in 0..2 {
                lo[k] = lo[k].min(p[k]);
                hi[k] = hi[k].max(p[k]);
            }
        }
        let scene = Self {
            kind: SceneKind::Board,
            base_z: pose.center[2],
            amplitude: 0.0,
            wavelength: 0.0,
            slope_deg: 0.0,
            bounds: [lo[0], hi[0], lo[1], hi[1]],
            center: [pose.center[0], pose.center[1]],
            board: Some(placement),
        };
        scene.validate()?;
        Ok(scene)
    }

    /// The plane's gradient `(∂h/∂x, ∂h/∂y)` of a slope or board scene; zero otherwise.
    fn plane_gradient(&self) -> (f64, f64) {
        match (self.kind, &self.board) {
            (SceneKind::Slope, _) => (self.tan_slope(), 0.0),
            (SceneKind::Board, Some(b)) => {
                let n = b.pose.normal();
                (-n.x / n.z, -n.y / n.z)
            }
            _ => (0.0, 0.0),
        }
    }

    /// The grey value of the surface at world `(x, y)`: the procedural [`crate::texture`],
    /// except on a board scene's board (dark and light squares, [`BOARD_DARK`] and
    /// [`BOARD_LIGHT`]).
    pub fn albedo(&self, x: f64, y: f64) -> f64 {
        if let Some(dark) = self.board.and_then(|b| b.is_dark(x, y, self.height(x, y))) {
            return if dark { BOARD_DARK } else { BOARD_LIGHT };
        }
        crate::texture(x, y)
    }

    /// Angular wave numbers `(2π/λ, 2π/(1.3λ))`; zero for a flat or slope scene.
    fn wave_numbers(&self) -> (f64, f64) {
        match self.kind {
            SceneKind::Flat | SceneKind::Slope | SceneKind::Board => (0.0, 0.0),
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
            SceneKind::Slope | SceneKind::Board => {
                let (gx, gy) = self.plane_gradient();
                self.base_z + gx * (x - self.center[0]) + gy * (y - self.center[1])
            }
        }
    }

    /// `tan θ`, the slope `∂h/∂x` of a slope scene; 0 for the other kinds.
    fn tan_slope(&self) -> f64 {
        self.slope_deg.to_radians().tan()
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
            SceneKind::Slope | SceneKind::Board => {
                let (gx, gy) = self.plane_gradient();
                (self.height(x, y), gx, gy)
            }
        }
    }

    /// Unit surface normal at `(x, y)`, **pointing up toward the water and the cameras**
    /// (negative Z component): `(∂h/∂x, ∂h/∂y, −1)/‖·‖`.
    pub fn normal(&self, x: f64, y: f64) -> Vector3<f64> {
        let (_, hx, hy) = self.height_gradient(x, y);
        Vector3::new(hx, hy, -1.0).normalize()
    }

    /// Smallest surface Z anywhere (the top of the scene, nearest the water). A slope or board
    /// scene is an unbounded plane: for a slope this is the smallest Z **over the evaluation
    /// bounds** (at `x = x_min`), for a board over the board.
    pub fn min_height(&self) -> f64 {
        match self.kind {
            SceneKind::Slope | SceneKind::Board => self.corner_heights().0,
            _ => self.base_z - 2.0 * self.amplitude,
        }
    }

    /// Largest surface Z anywhere; for a slope scene the largest **over the evaluation
    /// bounds** (at `x = x_max`).
    pub fn max_height(&self) -> f64 {
        match self.kind {
            SceneKind::Slope | SceneKind::Board => self.corner_heights().1,
            _ => self.base_z + 2.0 * self.amplitude,
        }
    }

    /// Lowest and highest Z of a plane over the corners of the bounds (a plane's extremes
    /// over a rectangle), or for a board scene over the board's outline (its area).
    fn corner_heights(&self) -> (f64, f64) {
        let b = self.bounds;
        let corners = match &self.board {
            Some(board) => board.outline().map(|p| (p.x, p.y)),
            None => [(b[0], b[2]), (b[1], b[2]), (b[0], b[3]), (b[1], b[3])],
        };
        corners
            .iter()
            .map(|&(x, y)| self.height(x, y))
            .fold((f64::MAX, f64::MIN), |(lo, hi), z| (lo.min(z), hi.max(z)))
    }

    /// Largest slope `max ‖∇h‖` anywhere (`tan θ` for a slope or board scene).
    pub fn max_slope(&self) -> f64 {
        match self.kind {
            SceneKind::Slope | SceneKind::Board => {
                let (gx, gy) = self.plane_gradient();
                gx.hypot(gy)
            }
            _ => {
                let (kx, ky) = self.wave_numbers();
                self.amplitude * kx.hypot(ky)
            }
        }
    }

    /// Bounds for this scene on `rig` from a working area found on the plane `Z = base_z`
    /// ([`crate::placement::working_area`]): `area.bounds` for a flat or undulating scene. A
    /// slope is unbounded in Z: its x extent is first cut to `cx ± max_dz / tan θ` (the plane
    /// within `max_dz` of `base_z`), then the bounds shrink about `area.center` in steps of
    /// 5 % until `area.min_views` cameras see every node of a 41×41 grid on the tilted plane
    /// (rounded inward to the millimetre).
    pub fn fit_bounds(
        &self,
        rig: &Rig,
        area: &WorkingArea,
        max_dz: f64,
    ) -> Result<[f64; 4], SceneError> {
        match self.kind {
            SceneKind::Board => return Ok(self.bounds),
            SceneKind::Slope => {}
            _ => return Ok(area.bounds),
        }
        let (b, c, reach) = (area.bounds, area.center, max_dz / self.tan_slope());
        let b = [
            b[0].max(self.center[0] - reach),
            b[1].min(self.center[0] + reach),
            b[2],
            b[3],
        ];
        let n = 40;
        let seen = |s: [f64; 4]| {
            (0..(n + 1) * (n + 1)).into_par_iter().all(|k| {
                let x = s[0] + (s[1] - s[0]) * (k % (n + 1)) as f64 / n as f64;
                let y = s[2] + (s[3] - s[2]) * (k / (n + 1)) as f64 / n as f64;
                views_of(rig, x, y, self.height(x, y)) >= area.min_views
            })
        };
        (0..19)
            .map(|k| {
                let f = 1.0 - 0.05 * f64::from(k);
                let lo = |v: f64, c: f64| ((c + f * (v - c)) * 1e3).ceil() / 1e3;
                let hi = |v: f64, c: f64| ((c + f * (v - c)) * 1e3).floor() / 1e3;
                [
                    lo(b[0], c[0]),
                    hi(b[1], c[0]),
                    lo(b[2], c[1]),
                    hi(b[3], c[1]),
                ]
            })
            .find(|&s| s[0] < s[1] && s[2] < s[3] && seen(s))
            .ok_or_else(|| {
                SceneError::Placement(format!(
                    "no part of the {} deg slope about ({}, {}) is seen by {} cameras",
                    self.slope_deg, c[0], c[1], area.min_views
                ))
            })
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
    /// Flat and slope scenes are planes, intersected in closed form. For an undulating one, with
    /// `f(t) = z(t) − h(x(t), y(t))` (negative above the surface) and the bound
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
            SceneKind::Slope | SceneKind::Board => {
                // f(t) = f0 + df·t, negative above the plane.
                let (gx, gy) = self.plane_gradient();
                let f0 = o.z - self.height(o.x, o.y);
                let df = d.z - gx * d.x - gy * d.y;
                if f0 > 0.0 || !(df > 0.0) {
                    return None;
                }
                Some((-f0 / df).max(0.0))
            }
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

    /// Whether `(x, y)` lies inside the evaluation bounds (inclusive); for a board scene,
    /// also on the board.
    pub fn in_bounds(&self, x: f64, y: f64) -> bool {
        let b = self.bounds;
        let inside = x >= b[0] && x <= b[1] && y >= b[2] && y <= b[3];
        match &self.board {
            Some(board) => inside && board.covers(x, y, self.height(x, y)),
            None => inside,
        }
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
            SceneKind::Slope => format!("z = {} + tan({} deg) * {x}", self.base_z, self.slope_deg),
            SceneKind::Board => {
                let (gx, gy) = self.plane_gradient();
                format!("z = {} + {gx} * {x} + {gy} * {y}", self.base_z)
            }
            SceneKind::Undulating => format!(
                "z = {} + {} * (sin(2*pi*{x}/{}) + sin(2*pi*{y}/({} * {})))",
                self.base_z, self.amplitude, self.wavelength, Y_WAVELENGTH_RATIO, self.wavelength
            ),
        }
    }
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
        for s in [Scene::flat(), Scene::undulating(), Scene::slope()] {
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
