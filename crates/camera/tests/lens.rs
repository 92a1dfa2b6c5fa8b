//! The lens models against OpenCV: `fixtures/opencv_lens.json` holds pixels computed with
//! OpenCV 4.13 (`cv2.projectPoints`, `cv2.fisheye.projectPoints`, and their converged inverses
//! `cv2.undistortPointsIter` / `cv2.fisheye.undistortPoints`) for the standard model with 4, 5
//! and 8 coefficients and the fisheye model; `tools/peer/make_lens_fixtures.py` made it (the
//! command and versions are in the file's `made_by`).

use aquamvs_camera::{Camera, Distortion, Interface, LensError, LensModel};
use nalgebra::{Matrix3, Vector3};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    made_by: String,
    models: Vec<Model>,
}

#[derive(Deserialize)]
struct Model {
    name: String,
    is_fisheye: bool,
    #[serde(rename = "K")]
    k: [[f64; 3]; 3],
    dist_coeffs: Vec<f64>,
    project: Vec<Pair>,
    undistort: Vec<Pair>,
}

#[derive(Deserialize)]
struct Pair {
    xy: [f64; 2],
    uv: [f64; 2],
}

fn fixture() -> Fixture {
    let text = include_str!("fixtures/opencv_lens.json");
    serde_json::from_str(text).expect("fixture parses")
}

/// A camera at the origin looking down +Z with the model's K and lens.
fn camera(m: &Model, lens: Distortion) -> Camera<f64> {
    Camera::new(
        m.name.clone(),
        640,
        480,
        Matrix3::from_fn(|i, j| m.k[i][j]),
        Matrix3::identity(),
        Vector3::zeros(),
        Some(lens),
        Interface::water(1.0),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", m.name))
}

#[test]
fn every_lens_model_matches_opencv() {
    let f = fixture();
    assert!(f.made_by.contains("opencv"), "{}", f.made_by);
    let names: Vec<&str> = f.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["standard4", "standard5", "rational8", "fisheye4"]);
    for m in &f.models {
        let lens = Distortion::from_opencv(&m.dist_coeffs, m.is_fisheye).unwrap();
        assert_eq!(lens.model == LensModel::Fisheye, m.is_fisheye);
        let cam = camera(m, lens);
        let (mut worst_p, mut worst_u) = (0.0_f64, 0.0_f64);
        for p in &m.project {
            // Ideal normalised → ideal pixel (K) → recorded pixel (the lens).
            let (u, v) = (
                m.k[0][0] * p.xy[0] + m.k[0][1] * p.xy[1] + m.k[0][2],
                m.k[1][1] * p.xy[1] + m.k[1][2],
            );
            let (ud, vd) = cam.distort_pixel(u, v);
            worst_p = worst_p.max((ud - p.uv[0]).hypot(vd - p.uv[1]));
            // And f32, as the shaders compute it.
            let (xf, yf) = lens.distort(p.xy[0] as f32, p.xy[1] as f32);
            let xf = m.k[0][0] * f64::from(xf) + m.k[0][1] * f64::from(yf) + m.k[0][2];
            assert!(
                (xf - p.uv[0]).abs() < 2e-3,
                "{}: f32 {xf} vs {:?}",
                m.name,
                p.uv
            );
        }
        for p in &m.undistort {
            let (u, v) = cam.undistort_pixel(p.uv[0], p.uv[1]);
            let (x, y) = (
                (u - m.k[0][2] - m.k[0][1] * (v - m.k[1][2]) / m.k[1][1]) / m.k[0][0],
                (v - m.k[1][2]) / m.k[1][1],
            );
            let scale = m.k[0][0];
            worst_u = worst_u.max(scale * (x - p.xy[0]).hypot(y - p.xy[1]));
        }
        eprintln!(
            "{}: projection within {worst_p:.2e} px, undistortion within {worst_u:.2e} px of OpenCV",
            m.name
        );
        assert!(worst_p < 1e-6, "{}: projection off by {worst_p} px", m.name);
        assert!(
            worst_u < 1e-6,
            "{}: undistortion off by {worst_u} px",
            m.name
        );
    }
}

#[test]
fn coefficient_lists_round_trip_and_bad_counts_are_named() {
    for (c, fisheye) in [
        (vec![-0.3, 0.1, 0.001, 0.002], false),
        (vec![-0.3, 0.1, 0.001, 0.002, -0.01], false),
        (vec![0.9, 0.3, 0.001, -0.001, 0.01, 1.3, 0.5, 0.05], false),
        (vec![-0.05, 0.02, -0.006, 0.0008], true),
    ] {
        let d = Distortion::from_opencv(&c, fisheye).unwrap();
        let mut back = d.to_opencv();
        back.resize(c.len(), 0.0);
        assert_eq!(back, c, "{d}");
    }
    for (n, fisheye, says) in [
        (
            3,
            false,
            "3 distortion coefficients: the standard model takes 4, 5 or 8",
        ),
        (
            6,
            false,
            "6 distortion coefficients: the standard model takes 4, 5 or 8",
        ),
        (12, false, "12 distortion coefficients"),
        (
            5,
            true,
            "5 distortion coefficients: the fisheye model takes 4",
        ),
        (0, false, "0 distortion coefficients"),
    ] {
        let e = Distortion::from_opencv(&vec![0.0; n], fisheye).unwrap_err();
        assert!(matches!(e, LensError::Count { count, .. } if count == n));
        let text = e.to_string();
        assert!(text.starts_with(says), "{text}");
        assert!(!text.contains('\n'));
    }
    let e = Distortion::from_opencv(&[0.1, f64::NAN, 0.0, 0.0, 0.0], false).unwrap_err();
    assert!(matches!(e, LensError::NonFinite { index: 1, .. }), "{e}");
}

#[test]
fn rational_and_fisheye_folds_are_refused() {
    let m = &fixture().models[0];
    // A rational denominator that grows faster than r: r / (1 + 3r²) peaks at 0.29 < 0.67.
    let bad = Distortion::from_opencv(&[0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 0.0, 0.0], false).unwrap();
    let cam = camera(m, Distortion::NONE);
    let e = cam.with_distortion(Some(bad)).unwrap_err();
    assert!(e.to_string().contains("rational ["), "{e}");
    // A fisheye whose corners would be 90° off-axis cannot be held by the pinhole image.
    let wide = Distortion::from_opencv(&[-0.3, 0.0, 0.0, 0.0], true).unwrap();
    let mut k = cam.k;
    k[(0, 0)] = 150.0;
    k[(1, 1)] = 150.0;
    let wide_cam = Camera::new("wide", 640, 480, k, cam.r, cam.t, None, cam.interface).unwrap();
    let e = wide_cam.with_distortion(Some(wide)).unwrap_err();
    assert!(e.to_string().contains("fisheye ["), "{e}");
    // The fixture's own lenses are one-to-one over the image.
    for m in &fixture().models {
        let lens = Distortion::from_opencv(&m.dist_coeffs, m.is_fisheye).unwrap();
        camera(m, lens);
    }
}
