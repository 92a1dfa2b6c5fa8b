//! `scene.json`: the serde form of a [`Scene`] ([`SceneFile`]), and the conversions.

use serde::{Deserialize, Serialize};

use crate::{Scene, SceneError, SceneKind};

impl Scene {
    /// The serde form written to `scene.json` (the optional extras left empty).
    pub fn to_file(&self) -> SceneFile {
        let flat = self.kind == SceneKind::Flat;
        let undulating = self.kind == SceneKind::Undulating;
        SceneFile {
            kind: self.kind,
            depth_z: flat.then_some(self.base_z),
            base_depth_z: (!flat).then_some(self.base_z),
            amplitude: undulating.then_some(self.amplitude),
            wavelength: undulating.then_some(self.wavelength),
            slope_deg: (self.kind == SceneKind::Slope).then_some(self.slope_deg),
            bounds: self.bounds,
            center: (self.center != [0.0, 0.0]).then_some(self.center),
            surface: Some(self.formula()),
            units: Some("metres; +Z down into the water".into()),
            texture: Some(crate::TEXTURE_DESCRIPTION.into()),
            mesh_spacing: None,
            seed: None,
            noise_sigma: None,
            supersample: None,
            board: self.board.map(|b| b.board),
            pose: self.board.map(|b| b.pose),
            corners: self.board.map(|b| {
                b.pose
                    .world_corners(&b.board)
                    .iter()
                    .enumerate()
                    .map(|(id, p)| [id as f64, p.x, p.y, p.z])
                    .collect()
            }),
        }
    }

    /// Builds and validates a scene from its serde form.
    pub fn from_file(file: &SceneFile) -> Result<Self, SceneError> {
        if file.kind == SceneKind::Board {
            // The pose is the whole description (centre, bounds and plane follow from it).
            let board = file
                .board
                .ok_or_else(|| SceneError::File("a board scene needs \"board\"".into()))?;
            let pose = file
                .pose
                .ok_or_else(|| SceneError::File("a board scene needs \"pose\"".into()))?;
            return Self::board(board, pose);
        }
        if file.board.is_some() || file.pose.is_some() {
            return Err(SceneError::File(format!(
                "a {} scene must not have a \"board\" or \"pose\"",
                file.kind
            )));
        }
        Self::from_file_uncentred(file)?.with_center(file.center.unwrap_or([0.0, 0.0]))
    }

    fn from_file_uncentred(file: &SceneFile) -> Result<Self, SceneError> {
        let need = |v: Option<f64>, name: &str| {
            v.ok_or_else(|| {
                SceneError::File(format!("a {} scene needs \"{name}\"", file.kind.name()))
            })
        };
        if file.kind != SceneKind::Slope && file.slope_deg.is_some_and(|a| a != 0.0) {
            return Err(SceneError::File(format!(
                "a {} scene must not have a non-zero \"slope_deg\"",
                file.kind
            )));
        }
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
            SceneKind::Slope => {
                if file.amplitude.is_some_and(|a| a != 0.0) {
                    return Err(SceneError::File(
                        "a slope scene must not have a non-zero \"amplitude\"".into(),
                    ));
                }
                Self::new_slope(
                    need(file.base_depth_z, "base_depth_z")?,
                    need(file.slope_deg, "slope_deg")?,
                    file.bounds,
                )
            }
            SceneKind::Board => Err(SceneError::File(
                "a board scene is described by its \"board\" and \"pose\"".into(),
            )),
        }
    }
}

/// `scene.json`: `{"kind", "depth_z"}` (flat), `{"kind", "base_depth_z", "amplitude",
/// "wavelength"}` (undulating), `{"kind", "base_depth_z", "slope_deg"}` (slope) or
/// `{"kind", "board", "pose"}` (board; with the inner-corner grid `"corners"` as
/// `[id, x, y, z]` rows, informative),
/// `"bounds": [x_min, x_max, y_min, y_max]`, `"center": [cx, cy]`
/// when the formula is centred away from the origin, plus informative
/// extras (formula, texture, how the folder was rendered). Metres, **+Z down**.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SceneFile {
    /// `"flat"`, `"undulating"`, `"slope"` or `"board"`.
    pub kind: SceneKind,
    /// Plane Z (flat scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth_z: Option<f64>,
    /// Mean surface Z (undulating scenes); Z at `x = cx` (slope scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_depth_z: Option<f64>,
    /// Amplitude A of each sine (undulating scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amplitude: Option<f64>,
    /// Wavelength λ along x; along y it is 1.3λ (undulating scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wavelength: Option<f64>,
    /// Angle θ to the water surface, degrees: `z = base_depth_z + tan(θ)·(x − cx)` (slope
    /// scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope_deg: Option<f64>,
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
    /// The checkerboard (board scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<crate::Board>,
    /// Where the board is: centre, tilt, tilt axis (board scenes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pose: Option<crate::BoardPose>,
    /// The board's inner corners in the world, `[id, x, y, z]` in id order (board scenes;
    /// informative: they follow from the board and the pose).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corners: Option<Vec<[f64; 4]>>,
}
