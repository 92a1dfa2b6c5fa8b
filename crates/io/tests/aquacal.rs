//! AquaCal's `calibration.json`: a file written by AquaCal's own serializer
//! (`fixtures/aquacal_grid_rig.json`, made by `tools/peer/make_aquacal_rig.py` with AquaCal
//! 2.1's `save_calibration`: 6 untilted cameras in a 3×2 grid, water at 0.72 m, strong 4-, 5-
//! and 8-coefficient lenses and an auxiliary fisheye camera) is read; what we write reads back
//! the same; every malformed file gives a one-line error.

use aquamvs_camera::{LensModel, Rig};
use aquamvs_io::aquacal::{calibration_json, parse_calibration};
use serde_json::{Value, json};

const GRID: &str = include_str!("fixtures/aquacal_grid_rig.json");

#[test]
fn a_calibration_written_by_aquacal_is_read() {
    let rig = parse_calibration(GRID).unwrap();
    let names: Vec<&str> = rig.cameras.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cam00", "cam01", "cam02", "cam03", "cam04", "cam05", "aux00"
        ],
        "file order is kept"
    );
    assert_eq!(rig.interface.water_z, 0.72);
    assert_eq!(rig.interface.n_water, 1.333);
    let aux = &rig.cameras[6];
    assert!(aux.auxiliary && rig.cameras[..6].iter().all(|c| !c.auxiliary));
    assert_eq!(aux.distortion.unwrap().model, LensModel::Fisheye);
    let counts: Vec<usize> = rig
        .cameras
        .iter()
        .map(|c| c.distortion.map_or(0, |d| d.to_opencv().len()))
        .collect();
    assert!(counts.contains(&5) && counts.contains(&8), "{counts:?}");
    // The first camera is at the world origin, untilted (looking straight down +Z).
    let c0 = &rig.cameras[0];
    assert!(c0.center().coords.norm() < 1e-12);
    assert!((c0.r - nalgebra::Matrix3::identity()).norm() < 1e-12);
    // A 4-coefficient lens is there too (file cam with k3 absent).
    let raw: Value = serde_json::from_str(GRID).unwrap();
    let four = raw["cameras"]
        .as_object()
        .unwrap()
        .values()
        .any(|c| c["intrinsics"]["dist_coeffs"].as_array().unwrap().len() == 4);
    assert!(four, "the fixture has a 4-coefficient lens");
}

#[test]
fn what_we_write_reads_back_the_same() {
    for rig in [
        parse_calibration(GRID).unwrap(),
        Rig::reference(64, 48).unwrap(),
    ] {
        let text = calibration_json(&rig);
        let back = parse_calibration(&text).unwrap();
        assert_eq!(back, rig);
        // AquaCal's reader needs these sections; its writer's field layout is kept.
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["version"], "1.0");
        for key in ["board", "diagnostics", "metadata"] {
            assert!(v[key].is_object(), "{key}");
        }
        for field in [
            "squares_x",
            "squares_y",
            "square_size",
            "marker_size",
            "dictionary",
        ] {
            assert!(!v["board"][field].is_null(), "board.{field}");
        }
        for field in [
            "calibration_date",
            "software_version",
            "config_hash",
            "num_frames_used",
            "num_frames_holdout",
        ] {
            assert!(!v["metadata"][field].is_null(), "metadata.{field}");
        }
        let cam = &v["cameras"][rig.cameras[0].name.as_str()];
        assert_eq!(
            cam["intrinsics"]["image_size"],
            json!([rig.cameras[0].width, rig.cameras[0].height])
        );
        assert_eq!(cam["extrinsics"]["t"].as_array().unwrap().len(), 3);
        assert_eq!(v["interface"]["normal"], json!([0.0, 0.0, -1.0]));
    }
}

/// Applies `edit` to the fixture and returns the error.
fn error_of(edit: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(GRID).unwrap();
    edit(&mut v);
    let e = parse_calibration(&v.to_string()).unwrap_err();
    assert!(!e.contains('\n'), "one line: {e}");
    e
}

#[test]
fn malformed_calibrations_are_one_line_errors() {
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|v| v["version"] = json!("2.0")),
            "version \"2.0\" is not supported",
        ),
        (
            Box::new(|v| {
                v["cameras"]["cam02"]["intrinsics"]["dist_coeffs"] = json!([0.1, 0.2, 0.0])
            }),
            "camera \"cam02\": 3 distortion coefficients",
        ),
        (
            Box::new(|v| v["cameras"]["cam02"]["intrinsics"]["dist_coeffs"] = json!(vec![0.1; 6])),
            "camera \"cam02\": 6 distortion coefficients",
        ),
        (
            Box::new(|v| v["cameras"]["aux00"]["intrinsics"]["dist_coeffs"] = json!(vec![0.0; 5])),
            "camera \"aux00\": 5 distortion coefficients: the fisheye model takes 4",
        ),
        (
            Box::new(|v| v["cameras"]["cam03"]["water_z"] = json!(0.72 + 2e-6)),
            "disagree on the water surface",
        ),
        (
            Box::new(|v| v["interface"]["normal"] = json!([0.0, 0.1, -1.0])),
            "tilted 5.71",
        ),
        (
            Box::new(|v| v["interface"]["normal"] = json!([0.0, 0.0, 0.0])),
            "is not a direction",
        ),
        (
            Box::new(|v| v["cameras"]["cam01"]["name"] = json!("other")),
            "camera \"cam01\": its name field says \"other\"",
        ),
        (
            Box::new(|v| {
                v["cameras"]["cam01"]
                    .as_object_mut()
                    .unwrap()
                    .remove("water_z")
                    .map(drop)
                    .unwrap()
            }),
            "missing field `water_z`",
        ),
        (
            Box::new(|v| {
                v["cameras"]["cam04"]["extrinsics"]["R"] = json!([[1, 0, 0], [0, 1, 0], [0, 0, 2]])
            }),
            "cam04",
        ),
        (Box::new(|v| v["cameras"] = json!({})), "no cameras"),
        (
            Box::new(|v| v["cameras"]["cam00"]["intrinsics"]["image_size"] = json!([640])),
            "not an AquaCal calibration",
        ),
    ];
    for (edit, says) in cases {
        let e = error_of(edit);
        assert!(e.contains(says), "expected {says:?} in: {e}");
    }
    // Within 1 µm is one surface; the column form of t is read too.
    let rig = {
        let mut v: Value = serde_json::from_str(GRID).unwrap();
        v["cameras"]["cam03"]["water_z"] = json!(0.72 + 5e-7);
        v["cameras"]["cam01"]["extrinsics"]["t"] = json!([[-0.25], [0.0], [0.0]]);
        parse_calibration(&v.to_string()).unwrap()
    };
    assert_eq!(rig.interface.water_z, 0.72);
    // (serde_json::Value sorts the keys, so find the camera by name.)
    let t = rig.cameras[rig.index_of("cam01").unwrap()].t;
    assert!(
        (t - nalgebra::Vector3::new(-0.25, 0.0, 0.0)).norm() < 1e-12,
        "{t:?}"
    );
    assert!(
        parse_calibration("not json")
            .unwrap_err()
            .starts_with("not an AquaCal")
    );
}
