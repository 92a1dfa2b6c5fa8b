//! The CPU reference: settings are checked, the Jacobian placement of window samples is
//! measured against exact refractive projection, and runs are deterministic for a seed.

mod common;

use aquamvs_camera::Rig;
use aquamvs_patchmatch::{PatchMatchSettings, patchmatch_cpu, projection_error};
use aquamvs_scenes::Scene;
use aquamvs_sweep::{depth_range_from_z, pixel_ray};
use nalgebra::Vector3;

#[test]
fn bad_settings_are_named() {
    let ok = PatchMatchSettings::default();
    assert!(ok.validate().is_ok());
    for (bad, name) in [
        (PatchMatchSettings { window: 10, ..ok }, "window"),
        (PatchMatchSettings { window: 33, ..ok }, "window"),
        (PatchMatchSettings { stride: 0, ..ok }, "stride"),
        (PatchMatchSettings { stride: 3, ..ok }, "stride"),
        (
            PatchMatchSettings {
                iterations: 0,
                ..ok
            },
            "iterations",
        ),
        (PatchMatchSettings { top_k: 0, ..ok }, "top_k"),
        (
            PatchMatchSettings {
                curved_stride: 0,
                ..ok
            },
            "curved_stride",
        ),
        (
            PatchMatchSettings {
                curved_window: 11,
                curved_stride: 6,
                ..ok
            },
            "curved_stride",
        ),
        (
            PatchMatchSettings {
                sigma_color: f32::NAN,
                ..ok
            },
            "sigma_color",
        ),
        (
            PatchMatchSettings {
                max_cost: 2.5,
                ..ok
            },
            "max_cost",
        ),
        (
            PatchMatchSettings {
                smooth_radius: 16,
                ..ok
            },
            "smooth_radius",
        ),
        (
            PatchMatchSettings {
                smooth_radius: 1,
                ..ok
            },
            "smooth_radius",
        ),
        (
            PatchMatchSettings {
                smooth_radius: 4,
                smooth_wide_radius: 4,
                ..ok
            },
            "smooth_wide_radius",
        ),
        (
            PatchMatchSettings {
                smooth_radius: 4,
                smooth_wide_radius: 32,
                ..ok
            },
            "smooth_wide_radius",
        ),
        (PatchMatchSettings { lattice: 0, ..ok }, "lattice"),
        (PatchMatchSettings { lattice: 5, ..ok }, "lattice"),
        (
            PatchMatchSettings {
                lattice: 2,
                curved_window: 0,
                ..ok
            },
            "lattice",
        ),
        (
            PatchMatchSettings {
                init_depths: 1,
                ..ok
            },
            "init_depths",
        ),
    ] {
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains(name), "{e}");
    }
}

/// The window samples' placement by the quadratic model against exact projection of each sample's own ray ∩
/// plane, over the reference rig's cam00 → its sources, planes up to 40° from horizontal.
#[test]
fn the_quadratic_model_places_window_samples_within_a_hundredth_of_a_pixel() {
    let rig = Rig::reference(640, 480).unwrap();
    let reference = &rig.cameras[0];
    let settings = PatchMatchSettings {
        window: 11,
        stride: 2,
        ..PatchMatchSettings::default()
    };
    let mut worst: f64 = 0.0;
    for &s in &rig.sources(0, 4) {
        for (x, y) in [(320, 240), (40, 40), (600, 440), (100, 400)] {
            let ray = pixel_ray(reference, x, y).unwrap();
            for tilt in [0.0f64, 20.0, 40.0] {
                for azimuth in [0.0f64, 90.0, 225.0] {
                    let (t, a) = (tilt.to_radians(), azimuth.to_radians());
                    let n = Vector3::new(t.sin() * a.cos(), t.sin() * a.sin(), -t.cos());
                    let d = (1.178 - ray.origin.z) / ray.direction.z;
                    if let Some(e) =
                        projection_error(reference, &rig.cameras[s], &settings, (x, y), d, n)
                    {
                        worst = worst.max(e);
                    }
                }
            }
        }
    }
    eprintln!("worst placement error of the window model: {worst:.5} px");
    assert!(worst > 0.0 && worst < 0.01, "{worst} px");
}

#[test]
fn runs_are_deterministic_for_a_seed() {
    let rig = Rig::reference(64, 48).unwrap();
    let scene = Scene::undulating();
    let (idx, images) = common::rendered(&rig, &scene, 3);
    let views = common::views(&rig, &idx, &images);
    let range = depth_range_from_z(&rig.cameras[0], 1.16, 1.19, 0.02).unwrap();
    let s = PatchMatchSettings {
        iterations: 2,
        ..Default::default()
    };
    let a = patchmatch_cpu(views[0], &views[1..], &s, range, None).unwrap();
    let b = patchmatch_cpu(views[0], &views[1..], &s, range, None).unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a.depth), bits(&b.depth));
    assert_eq!(bits(&a.normal), bits(&b.normal));
    let c = patchmatch_cpu(
        views[0],
        &views[1..],
        &PatchMatchSettings { seed: 7, ..s },
        range,
        None,
    )
    .unwrap();
    assert_ne!(
        bits(&a.depth),
        bits(&c.depth),
        "another seed draws other planes"
    );
    // Every valid normal is a unit vector facing the camera (within 80° of the reversed ray).
    for i in 0..a.depth.len() {
        if a.depth[i].is_finite() {
            let n = Vector3::new(a.normal[3 * i], a.normal[3 * i + 1], a.normal[3 * i + 2]);
            let v = pixel_ray(&rig.cameras[0], i % 64, i / 64)
                .unwrap()
                .direction;
            assert!((n.norm() - 1.0).abs() < 1e-5, "{n:?}");
            assert!(
                n.cast::<f64>().dot(&v) <= -0.17 + 1e-6,
                "{n:?} faces away from {v:?}"
            );
            assert!(a.depth[i] >= range.0 && a.depth[i] <= range.1);
        }
    }
    // The rounds ran on the lattice (every second pixel and row); the curved polish gave the
    // pixels between depths as often.
    let valid = |on: bool| {
        (0..a.depth.len())
            .filter(|&i| ((i % 64) % 2 == 0 && (i / 64) % 2 == 0) == on)
            .map(|i| f64::from(u8::from(a.depth[i].is_finite())))
            .sum::<f64>()
    };
    let (on, between) = (valid(true) / 768.0, valid(false) / 2304.0);
    eprintln!("valid: {on:.3} of the lattice, {between:.3} of the pixels between");
    assert!(on > 0.5 && between > on - 0.05, "{on} {between}");
    // Bad inputs are the sweep's errors.
    let e = patchmatch_cpu(views[0], &[], &s, range, None).unwrap_err();
    assert!(e.to_string().contains("source"), "{e}");
    let e = patchmatch_cpu(views[0], &views[1..], &s, range, Some(&[0.0; 3])).unwrap_err();
    assert!(e.to_string().contains("initial depth map"), "{e}");
}
