//! An AquaMVS project made from a scene folder, so that AquaMVS runs on our synthetic scenes
//! and its result can be scored against their exact ground truth:
//!
//! ```text
//! PROJECT/calibration.json                 AquaCal 1.0 (crate::aquacal), read by AquaMVS
//! PROJECT/images/<camera>/frame_000000.png the recorded image (lens distortion included)
//! PROJECT/config.yaml                      AquaMVS 1.7 PipelineConfig: calibration_path,
//!                                          output_dir, camera_input_map (paths relative to
//!                                          PROJECT, as `aquamvs init` run there writes them)
//! PROJECT/ground_truth/scene.json          the scene (formula, centre, bounds)
//! PROJECT/ground_truth/mesh.ply            ground-truth mesh over the bounds
//! PROJECT/ground_truth/depth/<camera>.npy  float32 H×W ray depth (m), NaN where no surface
//! ```
//!
//! Written all or nothing ([`crate::OutputSet`]). AquaMVS resolves the relative paths against
//! its working directory: run it from `PROJECT` (`cd PROJECT && aquamvs run config.yaml`).

use std::path::Path;

use aquamvs_scenes::{MeshData, SceneFile};

use crate::image::encode_gray_png;
use crate::scene_dir::SceneDir;
use crate::{IoError, OutputSet, npy, ply};

/// The frame file every camera gets (one frame per project).
pub const FRAME: &str = "frame_000000.png";

/// `config.yaml` for `cameras`: the three fields `aquamvs init` fills, everything else left
/// to AquaMVS's defaults. Names and paths are written as double-quoted (JSON) scalars, which
/// YAML reads verbatim.
pub fn config_yaml(cameras: &[&str]) -> String {
    let q = |s: &str| serde_json::to_string(s).expect("a string serialises");
    let mut out = String::from(
        "# AquaMVS 1.7 PipelineConfig, written by aquamvs-rs `cargo xtask export-aquamvs`.\n\
         # Paths are relative to this folder: run AquaMVS from here.\n",
    );
    out.push_str(&format!("calibration_path: {}\n", q("calibration.json")));
    out.push_str(&format!("output_dir: {}\n", q("output")));
    out.push_str("camera_input_map:\n");
    for name in cameras {
        out.push_str(&format!(
            "  {}: {}\n",
            q(name),
            q(&format!("images/{name}"))
        ));
    }
    out
}

/// Writes the AquaMVS project of the scene `sd` (described by `scene_file`, ground-truth
/// `mesh`) into `project`: see the module notes. Files of `project` outside the set are left
/// alone.
pub fn write_project(
    sd: &SceneDir,
    scene_file: &SceneFile,
    mesh: &MeshData,
    project: &Path,
) -> Result<(), IoError> {
    let mut out = OutputSet::new(project);
    out.add(
        "calibration.json",
        crate::aquacal::calibration_json(&sd.rig),
    );
    let names: Vec<&str> = sd.rig.cameras.iter().map(|c| c.name.as_str()).collect();
    out.add("config.yaml", config_yaml(&names));
    for (i, cam) in sd.rig.cameras.iter().enumerate() {
        let png = encode_gray_png(cam.width, cam.height, &sd.images[i])
            .map_err(|m| IoError::format(project, format!("camera {:?}: {m}", cam.name)))?;
        out.add(format!("images/{}/{FRAME}", cam.name), png);
        out.add(
            format!("ground_truth/depth/{}.npy", cam.name),
            npy::encode_f32(cam.height as usize, cam.width as usize, &sd.depths[i]),
        );
    }
    let mut json = serde_json::to_string_pretty(scene_file)
        .map_err(|e| IoError::format(project, e.to_string()))?;
    json.push('\n');
    out.add("ground_truth/scene.json", json);
    out.add(
        "ground_truth/mesh.ply",
        ply::encode(&mesh.vertices, &mesh.faces),
    );
    out.commit()
}
