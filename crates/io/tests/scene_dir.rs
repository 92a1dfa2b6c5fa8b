//! Scene folders: round trip, all-or-nothing writes, clear read errors.

use std::path::{Path, PathBuf};

use aquamvs_camera::Rig;
use aquamvs_io::scene_dir::{
    SceneDir, check_output_dir, depth_path, image_path, mesh_path, read_scene_dir, read_scene_file,
    write_scene_dir, write_scene_dir_with,
};
use aquamvs_scenes::{RenderOptions, Scene, render};

/// A fresh, empty parent folder for one test.
fn scratch(test: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("aquamvs-io-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn small_scene() -> SceneDir {
    let rig = Rig::reference(40, 30).unwrap();
    let scene = Scene::undulating();
    let opts = RenderOptions {
        supersample: 1,
        ..RenderOptions::default()
    };
    let images = rig
        .cameras
        .iter()
        .map(|c| render(&scene, c, &opts))
        .collect();
    let mut depths: Vec<Vec<f32>> = rig.cameras.iter().map(|c| scene.depth_map(c)).collect();
    depths[0][5] = f32::NAN; // a miss must survive the round trip
    SceneDir {
        rig,
        scene,
        images,
        depths,
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn round_trip() {
    let root = scratch("round-trip");
    let dir = root.join("scene");
    let sd = small_scene();
    let mesh = sd.scene.mesh(0.01).unwrap();
    let mut file = sd.scene.to_file();
    file.mesh_spacing = Some(0.01);
    file.seed = Some(3);
    write_scene_dir_with(&dir, &sd, &file, &mesh, false).unwrap();
    // Nothing else left beside it.
    assert_eq!(entries(&root), vec!["scene"]);
    let back = read_scene_dir(&dir).unwrap();
    // serde_json without its `float_roundtrip` feature may parse the last bit differently.
    let (a, b) = (back.rig.to_file(), sd.rig.to_file());
    assert_eq!(a.cameras.len(), b.cameras.len());
    assert_eq!(
        (a.water_z, a.n_air, a.n_water),
        (b.water_z, b.n_air, b.n_water)
    );
    for (ca, cb) in a.cameras.iter().zip(&b.cameras) {
        assert_eq!(
            (&ca.name, ca.width, ca.height),
            (&cb.name, cb.width, cb.height)
        );
        let flat = |c: &aquamvs_camera::CameraFile| -> Vec<f64> {
            c.k.iter()
                .chain(c.r.iter())
                .flatten()
                .chain(c.t.iter())
                .copied()
                .collect()
        };
        for (x, y) in flat(ca).iter().zip(flat(cb)) {
            assert!((x - y).abs() <= 1e-15, "{} {x} {y}", ca.name);
        }
    }
    assert_eq!(back.scene, sd.scene);
    assert_eq!(read_scene_file(&dir).unwrap(), file);
    for (a, b) in back.depths.iter().zip(&sd.depths) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!(x == y || (x.is_nan() && y.is_nan()));
        }
    }
    assert!(back.depths[0][5].is_nan());
    for (a, b) in back.images.iter().zip(&sd.images) {
        assert!(
            a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 0.5 / 255.0 + 1e-6)
        );
    }
    let ply = aquamvs_io::ply::read(&mesh_path(&dir)).unwrap();
    assert_eq!(ply.vertices.len(), mesh.vertices.len());
    assert_eq!(ply.faces, mesh.faces);
    // The JSON uses the documented field names.
    let rig: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("rig.json")).unwrap()).unwrap();
    assert!(rig["water_z"].is_number() && rig["cameras"][0]["K"][2][2] == 1.0);
    let scene: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("scene.json")).unwrap()).unwrap();
    assert_eq!(scene["kind"], "undulating");
    assert_eq!(scene["base_depth_z"], 1.178);
    assert_eq!(scene["bounds"][0], -0.25);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn non_empty_folder_without_force_is_rejected_and_untouched() {
    let root = scratch("non-empty");
    let dir = root.join("scene");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("keep.txt"), b"mine").unwrap();
    let sd = small_scene();
    let mesh = sd.scene.mesh(0.025).unwrap();
    let err = write_scene_dir(&dir, &sd, &mesh, false).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert!(check_output_dir(&dir, false).is_err());
    assert_eq!(entries(&dir), vec!["keep.txt"]);
    assert_eq!(std::fs::read(dir.join("keep.txt")).unwrap(), b"mine");
    assert_eq!(entries(&root), vec!["scene"]);
    // An empty folder is fine without force; a file in the way is not.
    let empty = root.join("empty");
    std::fs::create_dir(&empty).unwrap();
    write_scene_dir(&empty, &sd, &mesh, false).unwrap();
    // A scene folder is replaced with force.
    write_scene_dir(&empty, &sd, &mesh, true).unwrap();
    assert!(read_scene_dir(&empty).is_ok());
    let file = root.join("file");
    std::fs::write(&file, b"x").unwrap();
    assert!(write_scene_dir(&file, &sd, &mesh, true).is_err());
    std::fs::remove_dir_all(&root).unwrap();
}

/// `xtask scene --force` emptied any folder (`DIR/precious.txt` was lost): force replaces
/// only what is recognisably a scene folder, and names what is in the way.
#[test]
fn force_replaces_only_a_scene_folder() {
    let root = scratch("force");
    let sd = small_scene();
    let mesh = sd.scene.mesh(0.025).unwrap();
    let precious = root.join("work");
    std::fs::create_dir_all(&precious).unwrap();
    std::fs::write(precious.join("precious.txt"), b"mine").unwrap();
    let e = write_scene_dir(&precious, &sd, &mesh, true)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not a scene folder") && e.contains("precious.txt"),
        "{e}"
    );
    assert_eq!(
        std::fs::read(precious.join("precious.txt")).unwrap(),
        b"mine"
    );
    // Scene files only, but no rig.json: not a scene folder either.
    let partial = root.join("partial");
    std::fs::create_dir_all(partial.join("cameras")).unwrap();
    std::fs::write(partial.join("scene.json"), b"{}").unwrap();
    let e = write_scene_dir(&partial, &sd, &mesh, true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no rig.json"), "{e}");
    std::fs::remove_dir_all(&partial).unwrap();

    // A scene folder with one stranger in it, at any level: named, nothing touched.
    let dir = root.join("scene");
    write_scene_dir(&dir, &sd, &mesh, false).unwrap();
    let rig_before = std::fs::read(dir.join("rig.json")).unwrap();
    for stranger in [
        "precious.txt",
        "cameras/notes.txt",
        "cameras/cam00/precious.txt",
        "cameras/cam03/sub/x",
    ] {
        let p = dir.join(stranger);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"mine").unwrap();
        let e = write_scene_dir(&dir, &sd, &mesh, true)
            .unwrap_err()
            .to_string();
        let named = if stranger.ends_with("sub/x") {
            "cam03/sub"
        } else {
            stranger
        };
        assert!(
            e.contains(named) && e.contains("not part of one"),
            "{stranger}: {e}"
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"mine");
        assert_eq!(std::fs::read(dir.join("rig.json")).unwrap(), rig_before);
        if stranger.ends_with("sub/x") {
            std::fs::remove_dir_all(p.parent().unwrap()).unwrap();
        } else {
            std::fs::remove_file(&p).unwrap();
        }
    }
    // Clean again: replaced.
    write_scene_dir(&dir, &sd, &mesh, true).unwrap();
    assert!(read_scene_dir(&dir).is_ok());
    assert_eq!(entries(&root), vec!["scene", "work"]);
    std::fs::remove_dir_all(&root).unwrap();
}

/// A camera named `../../../x` in rig.json was read from outside the scene folder.
#[test]
fn camera_names_that_leave_the_folder_are_refused_on_read() {
    let root = scratch("names");
    let dir = root.join("scene");
    let sd = small_scene();
    let mesh = sd.scene.mesh(0.025).unwrap();
    write_scene_dir(&dir, &sd, &mesh, false).unwrap();
    let mut rig: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("rig.json")).unwrap()).unwrap();
    rig["cameras"][4]["name"] = "../../../x".into();
    std::fs::write(dir.join("rig.json"), serde_json::to_vec(&rig).unwrap()).unwrap();
    let e = read_scene_dir(&dir).unwrap_err().to_string();
    assert!(
        e.contains("rig.json") && e.contains("\"../../../x\""),
        "{e}"
    );
    assert!(e.contains("not a plain name"), "{e}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn inconsistent_input_writes_nothing() {
    let root = scratch("inconsistent");
    let dir = root.join("scene");
    let mut sd = small_scene();
    let mesh = sd.scene.mesh(0.025).unwrap();
    sd.images[3].pop();
    let err = write_scene_dir(&dir, &sd, &mesh, false).unwrap_err();
    assert!(err.to_string().contains("cam03"), "{err}");
    let mut sd = small_scene();
    sd.depths.pop();
    assert!(write_scene_dir(&dir, &sd, &mesh, false).is_err());
    let sd = small_scene();
    let wrong = Scene::flat().to_file();
    assert!(write_scene_dir_with(&dir, &sd, &wrong, &mesh, false).is_err());
    let mut sd = small_scene();
    sd.images[0][0] = f32::NAN;
    assert!(write_scene_dir(&dir, &sd, &mesh, false).is_err());
    assert!(
        entries(&root).is_empty(),
        "left behind: {:?}",
        entries(&root)
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn missing_and_malformed_files_are_named_in_the_error() {
    let root = scratch("malformed");
    let dir = root.join("scene");
    let sd = small_scene();
    let mesh = sd.scene.mesh(0.025).unwrap();
    assert!(
        read_scene_dir(&dir)
            .unwrap_err()
            .to_string()
            .contains("scene")
    );
    write_scene_dir(&dir, &sd, &mesh, false).unwrap();

    std::fs::remove_file(image_path(&dir, "cam04")).unwrap();
    let e = read_scene_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("cam04") && e.contains("image.png"), "{e}");

    write_scene_dir(&dir, &sd, &mesh, true).unwrap();
    std::fs::write(depth_path(&dir, "center"), b"garbage").unwrap();
    let e = read_scene_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("depth.npy"), "{e}");

    write_scene_dir(&dir, &sd, &mesh, true).unwrap();
    aquamvs_io::npy::write_f32(&depth_path(&dir, "cam01"), 2, 2, &[0.0; 4]).unwrap();
    let e = read_scene_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("cam01") && e.contains("2x2"), "{e}");

    write_scene_dir(&dir, &sd, &mesh, true).unwrap();
    std::fs::write(dir.join("rig.json"), b"{\"water_z\": 1").unwrap();
    let e = read_scene_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("rig.json") && e.contains("invalid JSON"), "{e}");

    write_scene_dir(&dir, &sd, &mesh, true).unwrap();
    std::fs::write(
        dir.join("scene.json"),
        br#"{"kind": "bumpy", "bounds": [0,1,0,1]}"#,
    )
    .unwrap();
    let e = read_scene_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("scene.json"), "{e}");

    write_scene_dir(&dir, &sd, &mesh, true).unwrap();
    std::fs::write(
        dir.join("scene.json"),
        br#"{"kind": "flat", "bounds": [0,1,0,1]}"#,
    )
    .unwrap();
    let e = read_scene_dir(&dir).unwrap_err().to_string();
    assert!(e.contains("depth_z"), "{e}");
    std::fs::remove_dir_all(&root).unwrap();
}
