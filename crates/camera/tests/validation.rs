//! Physically impossible cameras and rigs are refused with an error that names the problem:
//! water thinner than air, absurd intrinsics, distortion that folds the image, camera names
//! that are not plain folder names.

use aquamvs_camera::{Camera, CameraError, Distortion, Interface, Rig, RigFile, check_camera_name};

fn rig_file() -> RigFile {
    Rig::reference(160, 120).unwrap().to_file()
}

#[test]
fn water_thinner_than_air_is_refused_but_equal_indices_are_kept() {
    let mut f = rig_file();
    f.n_water = 0.9;
    let e = Rig::from_file(&f).unwrap_err();
    assert!(matches!(e, CameraError::RefractiveIndex { .. }), "{e}");
    assert!(e.to_string().contains("n_water >= n_air"), "{e}");
    f.n_water = f.n_air;
    assert!(Rig::from_file(&f).is_ok(), "no refraction is legitimate");
    let plain = Rig::reference(64, 48).unwrap().without_refraction();
    assert!(Rig::from_file(&plain.to_file()).is_ok());
}

#[test]
fn absurd_intrinsics_are_refused() {
    let base = rig_file();
    for (row, col, value, what) in [
        (0, 0, 1e-300, "fx"),
        (1, 1, 1e-300, "fy"),
        (0, 0, 1e9, "fx"),
        (0, 2, 1e6, "cx"),
        (1, 2, -500.0, "cy"),
    ] {
        let mut f = base.clone();
        f.cameras[3].k[row][col] = value;
        let e = Rig::from_file(&f).unwrap_err();
        assert!(
            matches!(&e, CameraError::IntrinsicsRange { what: w, name, .. } if *w == what && name == "cam03"),
            "{what} = {value}: {e}"
        );
        assert!(e.to_string().contains("160x120"), "{e}");
    }
    let mut f = base.clone();
    f.cameras[0].k[0][0] = f64::NAN;
    assert!(Rig::from_file(&f).is_err());
    // The edges of the accepted ranges.
    let mut f = base;
    f.cameras[0].k[0][0] = 0.16;
    f.cameras[0].k[0][2] = 320.0;
    assert!(Rig::from_file(&f).is_ok());
}

#[test]
fn distortion_that_folds_the_image_is_refused_naming_the_coefficients() {
    let cam = Rig::reference(160, 120).unwrap().cameras[0].clone();
    let bad = Distortion {
        k1: -50.0,
        k2: 0.0,
        p1: 0.0,
        p2: 0.0,
        k3: 0.0,
        ..Distortion::NONE
    };
    let e = cam.with_distortion(Some(bad)).unwrap_err();
    assert!(matches!(e, CameraError::DistortionFolds { .. }), "{e}");
    assert!(e.to_string().contains("standard [-50, 0, 0, 0, 0]"), "{e}");
    // Barrel distortion just too strong for a 60° field of view: the mapping r - 0.3 r³
    // peaks below the corner radius (0.72).
    let strong = Distortion { k1: -0.3, ..bad };
    assert!(cam.with_distortion(Some(strong)).is_err());
    // A strong pincushion that keeps growing is fine, and so are real lenses.
    for ok in [
        Distortion { k1: 0.5, ..bad },
        Distortion {
            k1: -0.12,
            k2: 0.03,
            p1: 0.001,
            p2: -0.0005,
            k3: 0.0,
            ..Distortion::NONE
        },
    ] {
        assert!(cam.with_distortion(Some(ok)).is_ok(), "{ok:?}");
    }
    // Rig files are checked too.
    let mut f = rig_file();
    f.cameras[5].distortion = Some(bad);
    let e = Rig::from_file(&f).unwrap_err();
    assert!(e.to_string().contains("cam05"), "{e}");
    // The fold itself: r(1 - 50 r²) stops increasing at r = 1/sqrt(150).
    let fold = bad.radial_fold(0.72).unwrap();
    assert!((fold - 1.0 / 150f64.sqrt()).abs() < 1e-3, "{fold}");
    assert_eq!(Distortion { k1: 0.0, ..bad }.radial_fold(0.72), None);
}

#[test]
fn camera_names_must_be_plain_names() {
    for name in [
        "../../../x",
        "a/b",
        "a\\b",
        "",
        ".",
        "..",
        ".hidden",
        "nul\0byte",
        "line\nbreak",
    ] {
        let mut f = rig_file();
        f.cameras[2].name = name.to_owned();
        let e = Rig::from_file(&f).unwrap_err();
        assert!(
            matches!(&e, CameraError::Name { name: n, .. } if n == name),
            "{name:?}: {e}"
        );
        assert!(e.to_string().contains(&format!("{name:?}")), "{e}");
    }
    assert!(check_camera_name(&"x".repeat(256)).is_err());
    for ok in ["cam00", "center", "left cam", "cam.1", "kamera-ä"] {
        assert!(check_camera_name(ok).is_ok(), "{ok}");
    }
}

#[test]
fn negative_zero_is_not_printed() {
    let cam = &Rig::reference(64, 48).unwrap().cameras[12];
    let e = Camera::new(
        "low",
        64,
        48,
        cam.k,
        cam.r,
        cam.t,
        None,
        Interface::water(-1.0),
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("Z = 0 m") && !text.contains("-0 m"), "{text}");
}
