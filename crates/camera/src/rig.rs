//! A set of cameras looking through one water surface, and the reference rig.

use nalgebra::{Matrix3, Point3, Vector3};
use serde::{Deserialize, Serialize};

use crate::{Camera, CameraError, Distortion, Interface, camera::solve_crossing};

/// Cameras sharing one water surface.
#[derive(Debug, Clone, PartialEq)]
pub struct Rig {
    /// The water surface.
    pub interface: Interface<f64>,
    /// The cameras; names are unique.
    pub cameras: Vec<Camera<f64>>,
}

/// Ring radius of the reference rig, metres.
pub const RING_RADIUS: f64 = 0.635;
/// Water surface of the reference rig, metres.
pub const WATER_Z: f64 = 0.978;
/// The point every reference ring camera looks at (patch centre), metres.
pub const PATCH_CENTER: [f64; 3] = [0.0, 0.0, 1.178];
/// How far below the water surface views are compared when nothing says where the scene is
/// ([`Rig::sources`]), and where a scene for a calibrated rig is put by default, metres.
pub const WORKING_DEPTH: f64 = 0.2;
/// The grid of reference pixels [`Rig::overlap`] samples.
const OVERLAP_GRID: (usize, usize) = (32, 24);
/// Number of ring cameras in the reference rig.
pub const RING_CAMERAS: usize = 12;
/// Horizontal field of view of the reference cameras, degrees.
pub const HFOV_DEG: f64 = 60.0;

impl Rig {
    /// Validates a rig: at least one camera, unique **plain** names ([`check_camera_name`]:
    /// each names a folder of a scene folder), every camera above the water, all on the same
    /// interface.
    pub fn new(interface: Interface<f64>, cameras: Vec<Camera<f64>>) -> Result<Self, CameraError> {
        if cameras.is_empty() {
            return Err(CameraError::Rig("no cameras".into()));
        }
        for cam in &cameras {
            check_camera_name(&cam.name)?;
        }
        let mut names: Vec<&str> = cameras.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(CameraError::Rig(format!(
                "camera name {:?} used twice",
                w[0]
            )));
        }
        for cam in &cameras {
            if cam.interface != interface {
                return Err(CameraError::Rig(format!(
                    "camera {:?} looks through another water surface",
                    cam.name
                )));
            }
        }
        Ok(Self { interface, cameras })
    }

    /// The reference rig: 12 ring cameras `cam00`…`cam11` on a circle of radius 0.635 m at
    /// Z = 0 (cam00 on +X, counter-clockwise seen from above), each **tilted so that its
    /// principal ray, after refraction, hits the patch centre** (0, 0, 1.178), plus `center`
    /// at the origin looking straight down, an **auxiliary** camera (a source, never a
    /// reference view). Water at 0.978 m, n_water 1.333, square pixels,
    /// 60° horizontal field of view, principal point at the image centre.
    pub fn reference(width: u32, height: u32) -> Result<Self, CameraError> {
        let interface = Interface::water(WATER_Z);
        let target = Point3::from(PATCH_CENTER);
        let mut cameras = Vec::with_capacity(RING_CAMERAS + 1);
        for i in 0..RING_CAMERAS {
            let a = std::f64::consts::TAU * i as f64 / RING_CAMERAS as f64;
            let c = Point3::new(RING_RADIUS * a.cos(), RING_RADIUS * a.sin(), 0.0);
            cameras.push(look_at_refracted(
                format!("cam{i:02}"),
                width,
                height,
                c,
                target,
                interface,
            )?);
        }
        let mut center = look_at_refracted(
            "center".into(),
            width,
            height,
            Point3::origin(),
            target,
            interface,
        )?;
        center.auxiliary = true;
        cameras.push(center);
        Self::new(interface, cameras)
    }

    /// The same cameras with refraction ignored: `n_water := n_air`, so every ray goes
    /// straight through the surface (the plain pinhole model a refraction-unaware pipeline
    /// uses). Ray depth is still measured from the surface crossing.
    pub fn without_refraction(&self) -> Self {
        let interface = Interface {
            n_water: self.interface.n_air,
            ..self.interface
        };
        let cameras = self
            .cameras
            .iter()
            .map(|c| c.with_interface(interface))
            .collect();
        Self { interface, cameras }
    }

    /// Index of the camera called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.cameras.iter().position(|c| c.name == name)
    }

    /// Source cameras for `reference`: [`Rig::sources_at`] on the plane
    /// [`WORKING_DEPTH`] below the water surface.
    pub fn sources(&self, reference: usize, count: usize) -> Vec<usize> {
        self.sources_at(reference, count, self.interface.water_z + WORKING_DEPTH)
    }

    /// Source cameras for `reference`, from the geometry of the rig alone: the other cameras
    /// (auxiliary ones too) ordered by how much of the reference's view they see on the plane
    /// `Z = z`, at the reference's resolution ([`Rig::overlap`], most first), ties broken by
    /// the distance between centres, then by index. `count` is clamped to the number of other
    /// cameras.
    pub fn sources_at(&self, reference: usize, count: usize, z: f64) -> Vec<usize> {
        let c0 = self.cameras[reference].center();
        let mut order: Vec<(usize, f64, f64)> = (0..self.cameras.len())
            .filter(|&i| i != reference)
            .map(|i| {
                // Rounded so that mirror-image cameras tie exactly.
                let seen = (self.overlap(reference, i, z) * 1e6).round();
                (i, seen, (self.cameras[i].center() - c0).norm())
            })
            .collect();
        order.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(a.2.total_cmp(&b.2))
                .then(a.0.cmp(&b.0))
        });
        order.into_iter().take(count).map(|(i, ..)| i).collect()
    }

    /// How much of camera `a`'s view camera `b` sees on the plane `Z = z`, in `[0, 1]`: over
    /// a 32 × 24 grid of `a`'s recorded pixels (cell centres) whose refracted ray meets the
    /// plane, the mean of `min(1, (s_b / s_a)²)` where the point projects inside `b`'s
    /// recorded image (0 elsewhere), `s` being each camera's local scale there (pixels per
    /// metre on the plane): the overlap counted in `b`'s pixels, up to one per pixel of `a`.
    /// A camera that sees the whole view at least as finely scores 1; a wide, coarse one (a
    /// fisheye) scores by its pixel density. 0 when the plane is not below the water.
    pub fn overlap(&self, a: usize, b: usize, z: f64) -> f64 {
        let (ca, cb) = (&self.cameras[a], &self.cameras[b]);
        let (gx, gy) = OVERLAP_GRID;
        let mut seen = 0.0;
        for j in 0..gy {
            for i in 0..gx {
                let u = (i as f64 + 0.5) / gx as f64 * f64::from(ca.width) - 0.5;
                let v = (j as f64 + 0.5) / gy as f64 * f64::from(ca.height) - 0.5;
                let Some(p) = plane_point(ca, u, v, z) else {
                    continue;
                };
                if sees(cb, &p) {
                    let ratio = match (local_scale(cb, &p), local_scale(ca, &p)) {
                        (Some(sb), Some(sa)) if sa > 0.0 => (sb / sa).powi(2).min(1.0),
                        _ => 1.0,
                    };
                    seen += ratio;
                }
            }
        }
        seen / (gx * gy) as f64
    }

    /// The serde form written to `rig.json`.
    pub fn to_file(&self) -> RigFile {
        RigFile {
            water_z: self.interface.water_z,
            n_air: self.interface.n_air,
            n_water: self.interface.n_water,
            cameras: self
                .cameras
                .iter()
                .map(|c| CameraFile {
                    name: c.name.clone(),
                    width: c.width,
                    height: c.height,
                    k: rows(&c.k),
                    r: rows(&c.r),
                    t: [c.t.x, c.t.y, c.t.z],
                    center: Some(c.center().coords.into()),
                    distortion: c.distortion,
                    auxiliary: c.auxiliary,
                })
                .collect(),
        }
    }

    /// Builds and validates a rig from its serde form.
    pub fn from_file(file: &RigFile) -> Result<Self, CameraError> {
        let interface = Interface {
            water_z: file.water_z,
            n_air: file.n_air,
            n_water: file.n_water,
        };
        let cameras = file
            .cameras
            .iter()
            .map(|c| {
                let mut cam = Camera::new(
                    c.name.clone(),
                    c.width,
                    c.height,
                    from_rows(&c.k),
                    from_rows(&c.r),
                    Vector3::from(c.t),
                    c.distortion,
                    interface,
                )?;
                cam.auxiliary = c.auxiliary;
                Ok(cam)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(interface, cameras)
    }
}

/// Checks that `name` is a plain name, usable as one folder name on any system: not empty,
/// at most 255 bytes, no `/`, `\`, NUL or other control character, not starting with `.`
/// (so neither `.` nor `..`). A scene folder keeps each camera in `cameras/<name>/`, so a
/// name like `../../x` would reach outside it.
pub fn check_camera_name(name: &str) -> Result<(), CameraError> {
    let why = if name.is_empty() {
        "it is empty"
    } else if name.len() > 255 {
        "it is longer than 255 bytes"
    } else if name.contains(['/', '\\']) {
        "it contains a path separator"
    } else if name.chars().any(char::is_control) {
        "it contains a control character"
    } else if name.starts_with('.') {
        "it starts with `.`"
    } else {
        return Ok(());
    };
    Err(CameraError::Name {
        name: name.to_owned(),
        why,
    })
}

/// Where the refracted ray of `cam`'s recorded pixel `(u, v)` meets the plane `Z = z`.
pub(crate) fn plane_point(cam: &Camera<f64>, u: f64, v: f64, z: f64) -> Option<Point3<f64>> {
    let (x, y) = cam.undistort_pixel(u, v);
    let ray = cam.cast_ray(x, y)?;
    let depth = (z - ray.origin.z) / ray.direction.z;
    (depth >= 0.0 && depth.is_finite()).then(|| ray.at(depth))
}

/// `true` when `p` projects inside `cam`'s recorded image.
pub(crate) fn sees(cam: &Camera<f64>, p: &Point3<f64>) -> bool {
    cam.project(p).is_some_and(|pr| {
        let (u, v) = cam.distort_pixel(pr.pixel.x, pr.pixel.y);
        cam.contains(u, v)
    })
}

/// Pixels per metre of `cam`'s recorded image around `p` on a horizontal plane: the larger
/// displacement of `p`'s pixel when `p` moves 1 mm along X or along Y.
fn local_scale(cam: &Camera<f64>, p: &Point3<f64>) -> Option<f64> {
    let pixel = |q: &Point3<f64>| {
        cam.project(q)
            .map(|pr| cam.distort_pixel(pr.pixel.x, pr.pixel.y))
    };
    let (u0, v0) = pixel(p)?;
    let step = 1e-3;
    let mut best: f64 = 0.0;
    for d in [Vector3::new(step, 0.0, 0.0), Vector3::new(0.0, step, 0.0)] {
        let (u, v) = pixel(&(p + d))?;
        best = best.max((u - u0).hypot(v - v0) / step);
    }
    Some(best)
}

/// A camera whose refracted principal ray passes through `target`.
fn look_at_refracted(
    name: String,
    width: u32,
    height: u32,
    c: Point3<f64>,
    target: Point3<f64>,
    interface: Interface<f64>,
) -> Result<Camera<f64>, CameraError> {
    let h_c = interface.water_z - c.z;
    let h_q = target.z - interface.water_z;
    let (dx, dy) = (target.x - c.x, target.y - c.y);
    let r_q = dx.hypot(dy);
    let r_p = solve_crossing(h_c, h_q, r_q, interface.n_air, interface.n_water, None);
    let crossing = if r_q > 0.0 {
        Point3::new(
            c.x + dx / r_q * r_p,
            c.y + dy / r_q * r_p,
            interface.water_z,
        )
    } else {
        Point3::new(c.x, c.y, interface.water_z)
    };
    let f = (crossing - c).normalize();
    // Image x ≈ world +X seen from above, image y = f × x (down the image).
    let x = Vector3::y().cross(&f).normalize();
    let y = f.cross(&x);
    let r = Matrix3::from_rows(&[x.transpose(), y.transpose(), f.transpose()]);
    let t = -(r * c.coords);
    let focal = 0.5 * width as f64 / (0.5 * HFOV_DEG.to_radians()).tan();
    let k = Matrix3::new(
        focal,
        0.0,
        0.5 * (width as f64 - 1.0),
        0.0,
        focal,
        0.5 * (height as f64 - 1.0),
        0.0,
        0.0,
        1.0,
    );
    Camera::new(name, width, height, k, r, t, None, interface)
}

fn rows(m: &Matrix3<f64>) -> [[f64; 3]; 3] {
    [
        [m[(0, 0)], m[(0, 1)], m[(0, 2)]],
        [m[(1, 0)], m[(1, 1)], m[(1, 2)]],
        [m[(2, 0)], m[(2, 1)], m[(2, 2)]],
    ]
}

fn from_rows(a: &[[f64; 3]; 3]) -> Matrix3<f64> {
    Matrix3::from_fn(|i, j| a[i][j])
}

/// `rig.json`: `{"water_z", "n_air", "n_water", "cameras": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RigFile {
    /// Water surface Z, metres.
    pub water_z: f64,
    /// Refractive index of air.
    pub n_air: f64,
    /// Refractive index of water.
    pub n_water: f64,
    /// The cameras.
    pub cameras: Vec<CameraFile>,
}

/// One camera of `rig.json`: K and R as 3×3 **row-major** nested arrays, `t` as 3 numbers,
/// world → camera (OpenCV).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CameraFile {
    /// Unique name.
    pub name: String,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Intrinsics, row-major.
    #[serde(rename = "K")]
    pub k: [[f64; 3]; 3],
    /// World → camera rotation, row-major.
    #[serde(rename = "R")]
    pub r: [[f64; 3]; 3],
    /// World → camera translation.
    pub t: [f64; 3],
    /// Camera centre in world coordinates (informative; derived from R and t).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub center: Option<[f64; 3]>,
    /// Lens model of the recorded images, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distortion: Option<Distortion>,
    /// An auxiliary camera: a source, never a reference view.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auxiliary: bool,
}
