//! A scene folder:
//!
//! ```text
//! DIR/rig.json                     serde form of the rig (aquamvs_camera::RigFile)
//! DIR/calibration.json             the same rig as AquaCal writes it (aquacal, read by AquaMVS)
//! DIR/scene.json                   serde form of the scene (aquamvs_scenes::SceneFile)
//! DIR/mesh.ply                     ground-truth mesh over the evaluation bounds
//! DIR/cameras/<name>/image.png     8-bit grey rendered image
//! DIR/cameras/<name>/depth.npy     float32 H×W ray depth (m), NaN where the ray misses
//! ```
//!
//! **Writing is all or nothing**: everything goes into a temporary sibling folder that is
//! renamed to `DIR` at the end, so a half-written scene never appears at `DIR`; an existing
//! non-empty `DIR` is an error (left untouched) unless `force` is set and it is recognisably
//! a scene folder ([`check_output_dir`]), and then it is replaced only after the new folder
//! is complete. Camera names are plain names (`aquamvs_camera::check_camera_name`), checked
//! when the rig is made or read, so `cameras/<name>` never leaves the folder.

use std::path::{Path, PathBuf};

use aquamvs_camera::{Rig, RigFile};
use aquamvs_scenes::{MeshData, Scene, SceneFile};

use crate::{IoError, image, npy, ply, write_atomic};

/// A scene folder in memory; `images[i]` and `depths[i]` (row-major `H×W`) belong to
/// `rig.cameras[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneDir {
    /// The cameras and the water surface.
    pub rig: Rig,
    /// The ground-truth surface.
    pub scene: Scene,
    /// Grey images in [0, 1], one per camera.
    pub images: Vec<Vec<f32>>,
    /// Ray-depth maps in metres (NaN where the ray misses), one per camera.
    pub depths: Vec<Vec<f32>>,
}

/// `DIR/rig.json`.
pub fn rig_path(dir: &Path) -> PathBuf {
    dir.join("rig.json")
}
/// `DIR/scene.json`.
pub fn scene_path(dir: &Path) -> PathBuf {
    dir.join("scene.json")
}
/// `DIR/mesh.ply`.
pub fn mesh_path(dir: &Path) -> PathBuf {
    dir.join("mesh.ply")
}
/// `DIR/cameras/<name>/image.png`.
pub fn image_path(dir: &Path, camera: &str) -> PathBuf {
    dir.join("cameras").join(camera).join("image.png")
}
/// `DIR/cameras/<name>/depth.npy`.
pub fn depth_path(dir: &Path, camera: &str) -> PathBuf {
    dir.join("cameras").join(camera).join("depth.npy")
}

/// Checks that `dir` may receive a scene: it does not exist, or is an empty folder, or
/// `force` is set and it is **recognisably a scene folder** — `rig.json` and `scene.json`, and
/// nothing but `calibration.json`, `mesh.ply` and `cameras/<name>/{image.png,depth.npy}` beside them (no symbolic
/// links). Anything else in it is named in the error, so `--force` never deletes work that a
/// scene folder would not hold. Nothing is changed.
pub fn check_output_dir(dir: &Path, force: bool) -> Result<(), IoError> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(IoError::os(dir, e)),
        Ok(m) if !m.is_dir() => Err(IoError::format(dir, "exists and is not a folder")),
        Ok(_) => {
            let mut entries = std::fs::read_dir(dir).map_err(|e| IoError::os(dir, e))?;
            if entries.next().is_none() {
                return Ok(());
            }
            match (not_a_scene_folder(dir)?, force) {
                (None, true) => Ok(()),
                (None, false) => Err(IoError::format(
                    dir,
                    "exists and is not empty (use --force to replace it)",
                )),
                (Some(why), _) => Err(IoError::format(
                    dir,
                    format!(
                        "exists and is not empty, and is not a scene folder ({why}): --force \
                         replaces only a scene folder; nothing was changed"
                    ),
                )),
            }
        }
    }
}

/// Why `dir` (an existing folder) is not a scene folder, or `None` when it is one.
fn not_a_scene_folder(dir: &Path) -> Result<Option<String>, IoError> {
    let list = |d: &Path| -> Result<Vec<(String, std::fs::FileType)>, IoError> {
        std::fs::read_dir(d)
            .and_then(|it| {
                it.map(|e| {
                    let e = e?;
                    Ok((e.file_name().to_string_lossy().into_owned(), e.file_type()?))
                })
                .collect()
            })
            .map_err(|e| IoError::os(d, e))
    };
    let top = list(dir)?;
    let stranger = |p: PathBuf| Some(format!("{} is not part of one", p.display()));
    for (name, kind) in &top {
        let path = dir.join(name);
        match name.as_str() {
            "rig.json" | "calibration.json" | "scene.json" | "mesh.ply" if kind.is_file() => {}
            "cameras" if kind.is_dir() => {
                for (cam, kind) in list(&path)? {
                    let cam_dir = path.join(&cam);
                    if !kind.is_dir() {
                        return Ok(stranger(cam_dir));
                    }
                    for (file, kind) in list(&cam_dir)? {
                        if !(kind.is_file() && (file == "image.png" || file == "depth.npy")) {
                            return Ok(stranger(cam_dir.join(file)));
                        }
                    }
                }
            }
            _ => return Ok(stranger(path)),
        }
    }
    for need in ["rig.json", "scene.json"] {
        if !top.iter().any(|(n, t)| n == need && t.is_file()) {
            return Ok(Some(format!("it has no {need}")));
        }
    }
    Ok(None)
}

/// Writes a scene folder with `scene.json` = `sd.scene.to_file()`; see [`write_scene_dir_with`].
pub fn write_scene_dir(
    dir: &Path,
    sd: &SceneDir,
    mesh: &MeshData,
    force: bool,
) -> Result<(), IoError> {
    write_scene_dir_with(dir, sd, &sd.scene.to_file(), mesh, force)
}

/// Writes a scene folder with the given `scene.json` (which must describe `sd.scene`; its
/// extras such as `mesh_spacing` and `seed` are kept). All or nothing; see the module doc.
pub fn write_scene_dir_with(
    dir: &Path,
    sd: &SceneDir,
    scene_file: &SceneFile,
    mesh: &MeshData,
    force: bool,
) -> Result<(), IoError> {
    validate(dir, sd, scene_file)?;
    check_output_dir(dir, force)?;
    let name = dir
        .file_name()
        .ok_or_else(|| IoError::format(dir, "not a folder name"))?
        .to_string_lossy()
        .into_owned();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| IoError::os(&parent, e))?;
    let stamp = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let tmp = parent.join(format!(".{name}.tmp-{stamp}"));
    if let Err(e) = write_contents(&tmp, sd, scene_file, mesh) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let result = move_into_place(&tmp, dir, &parent, &name, &stamp, force);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

fn validate(dir: &Path, sd: &SceneDir, scene_file: &SceneFile) -> Result<(), IoError> {
    let n = sd.rig.cameras.len();
    if sd.images.len() != n || sd.depths.len() != n {
        return Err(IoError::format(
            dir,
            format!(
                "{} cameras but {} images and {} depth maps",
                n,
                sd.images.len(),
                sd.depths.len()
            ),
        ));
    }
    for (i, cam) in sd.rig.cameras.iter().enumerate() {
        let name = &cam.name;
        aquamvs_camera::check_camera_name(name).map_err(|e| IoError::format(dir, e.to_string()))?;
        let px = cam.width as usize * cam.height as usize;
        if sd.images[i].len() != px || sd.depths[i].len() != px {
            return Err(IoError::format(
                dir,
                format!(
                    "camera {name:?} is {}x{} but has {} image values and {} depth values",
                    cam.width,
                    cam.height,
                    sd.images[i].len(),
                    sd.depths[i].len()
                ),
            ));
        }
    }
    match Scene::from_file(scene_file) {
        Ok(s) if s == sd.scene => Ok(()),
        Ok(_) => Err(IoError::format(
            dir,
            "scene.json does not describe the scene being written",
        )),
        Err(e) => Err(IoError::format(dir, e.to_string())),
    }
}

fn write_contents(
    tmp: &Path,
    sd: &SceneDir,
    scene_file: &SceneFile,
    mesh: &MeshData,
) -> Result<(), IoError> {
    std::fs::create_dir(tmp).map_err(|e| IoError::os(tmp, e))?;
    write_json(&rig_path(tmp), &sd.rig.to_file())?;
    crate::aquacal::write_calibration(&tmp.join("calibration.json"), &sd.rig)?;
    write_json(&scene_path(tmp), scene_file)?;
    ply::write_mesh(&mesh_path(tmp), &mesh.vertices, &mesh.faces)?;
    for (i, cam) in sd.rig.cameras.iter().enumerate() {
        let folder = tmp.join("cameras").join(&cam.name);
        std::fs::create_dir_all(&folder).map_err(|e| IoError::os(&folder, e))?;
        image::write_gray_png(
            &image_path(tmp, &cam.name),
            cam.width,
            cam.height,
            &sd.images[i],
        )?;
        npy::write_f32(
            &depth_path(tmp, &cam.name),
            cam.height as usize,
            cam.width as usize,
            &sd.depths[i],
        )?;
    }
    Ok(())
}

/// Pretty JSON with a final newline, written atomically.
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), IoError> {
    let mut s =
        serde_json::to_string_pretty(value).map_err(|e| IoError::format(path, e.to_string()))?;
    s.push('\n');
    write_atomic(path, s.as_bytes())
}

fn move_into_place(
    tmp: &Path,
    dir: &Path,
    parent: &Path,
    name: &str,
    stamp: &str,
    force: bool,
) -> Result<(), IoError> {
    // Re-check: something may have appeared while we rendered.
    check_output_dir(dir, force)?;
    let old = parent.join(format!(".{name}.old-{stamp}"));
    let replaced = if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| IoError::os(dir, e))?;
        true
    } else {
        false
    };
    if let Err(e) = std::fs::rename(tmp, dir) {
        if replaced {
            let _ = std::fs::rename(&old, dir);
        }
        return Err(IoError::os(dir, e));
    }
    if replaced {
        std::fs::remove_dir_all(&old).map_err(|e| IoError::os(&old, e))?;
    }
    Ok(())
}

/// Reads a scene folder (not the mesh: see [`mesh_path`] and [`crate::ply::read`]).
/// Missing or malformed files are errors naming the file.
pub fn read_scene_dir(dir: &Path) -> Result<SceneDir, IoError> {
    if !dir.is_dir() {
        return Err(IoError::format(
            dir,
            "is not a scene folder (no such folder)",
        ));
    }
    let rig_file: RigFile = read_json(&rig_path(dir))?;
    let rig =
        Rig::from_file(&rig_file).map_err(|e| IoError::format(&rig_path(dir), e.to_string()))?;
    let scene = read_scene(dir)?;
    let mut images = Vec::with_capacity(rig.cameras.len());
    let mut depths = Vec::with_capacity(rig.cameras.len());
    for cam in &rig.cameras {
        let ip = image_path(dir, &cam.name);
        let (w, h, img) = image::read_gray_png(&ip)?;
        if (w, h) != (cam.width, cam.height) {
            return Err(IoError::format(
                &ip,
                format!(
                    "image is {w}x{h} but rig.json says {}x{}",
                    cam.width, cam.height
                ),
            ));
        }
        let dp = depth_path(dir, &cam.name);
        let d = npy::read_f32(&dp)?;
        if (d.width, d.height) != (cam.width as usize, cam.height as usize) {
            return Err(IoError::format(
                &dp,
                format!(
                    "depth map is {}x{} (W×H) but rig.json says {}x{}",
                    d.width, d.height, cam.width, cam.height
                ),
            ));
        }
        images.push(img);
        depths.push(d.data);
    }
    Ok(SceneDir {
        rig,
        scene,
        images,
        depths,
    })
}

/// Reads and validates `DIR/scene.json` (the scene alone: no images, no rig); errors name
/// the file.
pub fn read_scene(dir: &Path) -> Result<Scene, IoError> {
    Scene::from_file(&read_scene_file(dir)?)
        .map_err(|e| IoError::format(&scene_path(dir), e.to_string()))
}

/// Reads `DIR/scene.json` as written (with its extras: mesh spacing, seed, noise).
pub fn read_scene_file(dir: &Path) -> Result<SceneFile, IoError> {
    read_json(&scene_path(dir))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::os(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| IoError::format(path, format!("invalid JSON: {e}")))
}
