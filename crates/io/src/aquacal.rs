//! AquaCal's `calibration.json` (format version `"1.0"`), read into a [`Rig`] and written from
//! one, so that AquaCal's own `load_calibration` (and AquaMVS, which reads it through AquaCal)
//! reads what we write.
//!
//! The format (`aquacal/io/serialization.py`, AquaCal 2.1):
//! `{"version": "1.0", "cameras": {name: {"name", "intrinsics": {"K" (3×3), "dist_coeffs",
//! "image_size": [w, h], "is_fisheye"?}, "extrinsics": {"R" (3×3, world → camera), "t" (3 or
//! 3×1)}, "water_z", "is_auxiliary"?}}, "interface": {"normal", "n_air", "n_water"}, "board",
//! "diagnostics", "metadata"}`. The world frame is ours (+Z down, water surface `Z = water_z`).
//!
//! Decisions:
//! - **Lens models**: OpenCV's standard model with 4, 5 or 8 coefficients and the fisheye
//!   model with 4 ([`Distortion::from_opencv`]); any other count is an error naming it.
//! - **`water_z`** is stored per camera; we hold one water surface, so cameras that disagree
//!   by more than [`WATER_Z_TOLERANCE`] are refused (naming the two extremes); within it, the
//!   first camera's is used (as AquaMVS does).
//! - **The interface normal** must be `[0, 0, -1]` (within 1e-9 after normalising): a tilted
//!   water surface is refused with its tilt in degrees, never ignored.
//! - Cameras keep the file's order (a JSON object's order, as Python's `dict` keeps it).
//! - `board`, `diagnostics` and `metadata` are ignored when reading; when writing they hold
//!   plausible values that say the rig is synthetic (no board was seen, no error measured).

use std::path::Path;

use aquamvs_camera::{Camera, Distortion, Interface, Rig};
use nalgebra::{Matrix3, Vector3};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use crate::{IoError, write_atomic};

/// The format version AquaCal 2.1 reads and writes.
pub const VERSION: &str = "1.0";
/// Largest disagreement between the cameras' `water_z`, metres (1 µm).
pub const WATER_Z_TOLERANCE: f64 = 1e-6;

/// The file as AquaCal writes it (the fields we use; others are kept as JSON values).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalibrationFile {
    /// `"1.0"`.
    pub version: String,
    /// Cameras in file order.
    pub cameras: Cameras,
    /// The water surface.
    pub interface: InterfaceFile,
    /// The ChArUco board of the calibration (ignored when reading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<Value>,
    /// Calibration quality figures (ignored when reading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Value>,
    /// Provenance (ignored when reading).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// The `cameras` object, in file order.
#[derive(Debug, Clone, Default)]
pub struct Cameras(pub Vec<(String, CameraEntry)>);

/// One camera of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CameraEntry {
    /// Its name (the key of the `cameras` object too).
    pub name: String,
    /// K, lens model, image size.
    pub intrinsics: Intrinsics,
    /// World → camera.
    pub extrinsics: Extrinsics,
    /// The water surface, metres.
    pub water_z: f64,
    /// An auxiliary camera.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_auxiliary: bool,
}

/// `intrinsics` of one camera.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Intrinsics {
    /// 3×3, row-major.
    #[serde(rename = "K")]
    pub k: [[f64; 3]; 3],
    /// OpenCV's coefficients.
    pub dist_coeffs: Vec<f64>,
    /// `[width, height]`, pixels.
    pub image_size: [u32; 2],
    /// OpenCV's fisheye model.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_fisheye: bool,
}

/// `extrinsics` of one camera.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Extrinsics {
    /// World → camera rotation, row-major.
    #[serde(rename = "R")]
    pub r: [[f64; 3]; 3],
    /// World → camera translation, `[x, y, z]` or `[[x], [y], [z]]`.
    pub t: Translation,
}

/// A translation written flat or as a column.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Translation {
    /// `[x, y, z]`.
    Flat([f64; 3]),
    /// `[[x], [y], [z]]`.
    Column([[f64; 1]; 3]),
}

impl Translation {
    fn vector(&self) -> Vector3<f64> {
        match *self {
            Self::Flat(t) => Vector3::from(t),
            Self::Column(t) => Vector3::new(t[0][0], t[1][0], t[2][0]),
        }
    }
}

/// `interface`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InterfaceFile {
    /// Unit normal from water toward air.
    pub normal: [f64; 3],
    /// Refractive index of air.
    pub n_air: f64,
    /// Refractive index of water.
    pub n_water: f64,
}

impl Serialize for Cameras {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Cameras {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = Cameras;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of cameras by name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cameras, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, CameraEntry>()? {
                    out.push((k, v));
                }
                Ok(Cameras(out))
            }
        }
        d.deserialize_map(Ordered)
    }
}

/// Reads `calibration.json` into a validated rig (see the module notes).
pub fn read_calibration(path: &Path) -> Result<Rig, IoError> {
    let text = std::fs::read_to_string(path).map_err(|e| IoError::os(path, e))?;
    parse_calibration(&text).map_err(|m| IoError::format(path, m))
}

/// Parses the text of a `calibration.json`; the error is one line.
pub fn parse_calibration(text: &str) -> Result<Rig, String> {
    let file: CalibrationFile =
        serde_json::from_str(text).map_err(|e| format!("not an AquaCal calibration: {e}"))?;
    file.to_rig()
}

impl CalibrationFile {
    /// The rig the file describes (see the module notes for what is refused).
    pub fn to_rig(&self) -> Result<Rig, String> {
        if self.version != VERSION {
            return Err(format!(
                "calibration format version {:?} is not supported (expected {VERSION:?})",
                self.version
            ));
        }
        if self.cameras.0.is_empty() {
            return Err("the calibration has no cameras".into());
        }
        let interface = self.interface()?;
        let mut cameras = Vec::with_capacity(self.cameras.0.len());
        for (key, c) in &self.cameras.0 {
            let named = |m: String| format!("camera {key:?}: {m}");
            if c.name != *key {
                return Err(named(format!("its name field says {:?}", c.name)));
            }
            let lens = Distortion::from_opencv(&c.intrinsics.dist_coeffs, c.intrinsics.is_fisheye)
                .map_err(|e| named(e.to_string()))?;
            let [w, h] = c.intrinsics.image_size;
            let mut cam = Camera::new(
                key.clone(),
                w,
                h,
                Matrix3::from_fn(|i, j| c.intrinsics.k[i][j]),
                Matrix3::from_fn(|i, j| c.extrinsics.r[i][j]),
                c.extrinsics.t.vector(),
                (!lens.is_identity()).then_some(lens),
                interface,
            )
            .map_err(|e| e.to_string())?;
            cam.auxiliary = c.is_auxiliary;
            cameras.push(cam);
        }
        Rig::new(interface, cameras).map_err(|e| e.to_string())
    }

    /// The one water surface of the file's cameras and interface.
    fn interface(&self) -> Result<Interface<f64>, String> {
        let n = Vector3::from(self.interface.normal);
        if n.iter().any(|x| !x.is_finite()) || n.norm() == 0.0 {
            return Err(format!(
                "interface normal {:?} is not a direction",
                self.interface.normal
            ));
        }
        let up = Vector3::new(0.0, 0.0, -1.0);
        if (n.normalize() - up).norm() > 1e-9 {
            let tilt = n.normalize().dot(&up).clamp(-1.0, 1.0).acos().to_degrees();
            return Err(format!(
                "interface normal {:?} is tilted {tilt:.6}° from [0, 0, -1]: only a horizontal \
                 water surface (normal [0, 0, -1], from water toward air) is supported",
                self.interface.normal
            ));
        }
        let zs: Vec<(&str, f64)> = self
            .cameras
            .0
            .iter()
            .map(|(k, c)| (k.as_str(), c.water_z))
            .collect();
        if let Some((k, z)) = zs.iter().find(|(_, z)| !z.is_finite()) {
            return Err(format!("camera {k:?}: water_z {z} is not a finite number"));
        }
        let lo = zs
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("cameras");
        let hi = zs
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("cameras");
        if hi.1 - lo.1 > WATER_Z_TOLERANCE {
            return Err(format!(
                "the cameras disagree on the water surface: water_z {} m for {:?} but {} m for \
                 {:?} ({:.3} µm apart; at most 1 µm is accepted)",
                lo.1,
                lo.0,
                hi.1,
                hi.0,
                (hi.1 - lo.1) * 1e6
            ));
        }
        let water_z = zs[0].1;
        Ok(Interface {
            water_z,
            n_air: self.interface.n_air,
            n_water: self.interface.n_water,
        })
    }

    /// The file of `rig`, with `board`, `diagnostics` and `metadata` saying it is synthetic
    /// (no date, so that the same rig always gives the same bytes).
    pub fn from_rig(rig: &Rig) -> Self {
        let cameras = rig
            .cameras
            .iter()
            .map(|c| {
                let lens = c.distortion.unwrap_or(Distortion::NONE);
                let entry = CameraEntry {
                    name: c.name.clone(),
                    intrinsics: Intrinsics {
                        k: rows(&c.k),
                        dist_coeffs: lens.to_opencv(),
                        image_size: [c.width, c.height],
                        is_fisheye: lens.model == aquamvs_camera::LensModel::Fisheye,
                    },
                    extrinsics: Extrinsics {
                        r: rows(&c.r),
                        t: Translation::Flat([c.t.x, c.t.y, c.t.z]),
                    },
                    water_z: rig.interface.water_z,
                    is_auxiliary: c.auxiliary,
                };
                (c.name.clone(), entry)
            })
            .collect();
        let per_camera: serde_json::Map<String, Value> = rig
            .cameras
            .iter()
            .map(|c| (c.name.clone(), json!(0.0)))
            .collect();
        Self {
            version: VERSION.into(),
            cameras: Cameras(cameras),
            interface: InterfaceFile {
                normal: [0.0, 0.0, -1.0],
                n_air: rig.interface.n_air,
                n_water: rig.interface.n_water,
            },
            board: Some(json!({
                "squares_x": 12, "squares_y": 9, "square_size": 0.06,
                "marker_size": 0.045, "dictionary": "DICT_5X5_100"
            })),
            diagnostics: Some(json!({
                "reprojection_error_rms": 0.0,
                "reprojection_error_per_camera": per_camera,
                "validation_3d_error_mean": 0.0,
                "validation_3d_error_std": 0.0
            })),
            metadata: Some(json!({
                "calibration_date": "n/a (synthetic rig)",
                "software_version": format!(
                    "aquamvs-rs {} (synthetic rig: exact, not calibrated)",
                    env!("CARGO_PKG_VERSION")
                ),
                "config_hash": "",
                "num_frames_used": 0,
                "num_frames_holdout": 0,
                "seed": null
            })),
        }
    }
}

/// `rig` as the text of a `calibration.json` (see [`CalibrationFile::from_rig`]).
pub fn calibration_json(rig: &Rig) -> String {
    let mut s = serde_json::to_string_pretty(&CalibrationFile::from_rig(rig))
        .expect("a calibration serialises");
    s.push('\n');
    s
}

/// Writes `rig` to `path` as a `calibration.json`, atomically.
pub fn write_calibration(path: &Path, rig: &Rig) -> Result<(), IoError> {
    write_atomic(path, calibration_json(rig).as_bytes())
}

fn rows(m: &Matrix3<f64>) -> [[f64; 3]; 3] {
    std::array::from_fn(|i| std::array::from_fn(|j| m[(i, j)]))
}
