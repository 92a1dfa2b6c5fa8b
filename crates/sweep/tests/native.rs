//! The native `f32` CPU sweep against the `f64` reference: the same depths (within 0.1 mm on
//! ≥ 99 % of the pixels both call valid, the tolerance the GPU is held to), validity and
//! confidence, cost volume layout, distorted cameras, bands and bad input.

mod common;

use aquamvs_camera::Rig;
use aquamvs_scenes::{RenderOptions, Scene, render};
use aquamvs_sweep::{
    SweepError, SweepOutput, SweepSettings, View, depth_range_from_z, sweep_cpu, sweep_native,
};
use common::{PLANE_Z, PlaneScene, plane_scene, plane_scene_of};

/// (pixels valid in both, of those within 0.1 mm, pixels whose validity differs).
fn agreement(a: &SweepOutput, b: &SweepOutput) -> (usize, usize, usize) {
    let (mut both, mut close, mut differs) = (0, 0, 0);
    for (x, y) in a.depth.iter().zip(&b.depth) {
        match (x.is_finite(), y.is_finite()) {
            (true, true) => {
                both += 1;
                if (x - y).abs() <= 1e-4 {
                    close += 1;
                }
            }
            (false, false) => {}
            _ => differs += 1,
        }
    }
    (both, close, differs)
}

fn assert_agree(cpu: &SweepOutput, native: &SweepOutput, what: &str) {
    let (both, close, differs) = agreement(cpu, native);
    eprintln!("{what}: {close}/{both} within 0.1 mm, validity differs on {differs}");
    assert!(both > cpu.depth.len() / 2, "{what}: {both} valid in both");
    assert!(close as f64 >= 0.99 * both as f64, "{what}: {close}/{both}");
    assert!(
        (differs as f64) < 0.01 * cpu.depth.len() as f64,
        "{what}: {differs}"
    );
    for (c, n) in cpu.confidence.iter().zip(&native.confidence) {
        assert!((0.0..=1.0).contains(n), "{what}: confidence {n}");
        assert!((c - n).abs() < 0.05, "{what}: confidence {c} vs {n}");
    }
}

fn range(scene: &PlaneScene) -> (f32, f32) {
    depth_range_from_z(&scene.rig.cameras[0], PLANE_Z, PLANE_Z, 0.03).unwrap()
}

#[test]
fn native_agrees_with_the_reference_on_a_plane_across_tiles() {
    // 200 x 150: several tiles down and across, the last ones short.
    let scene = plane_scene(200, 150, 4);
    let settings = SweepSettings {
        depths: 32,
        window: 7,
        batch: 8,
        keep_cost_volume: true,
    };
    let r = range(&scene);
    let views = scene.source_views();
    let cpu = sweep_cpu(scene.reference(), &views, &settings, r).unwrap();
    let native = sweep_native(scene.reference(), &views, &settings, r).unwrap();
    assert_agree(&cpu, &native, "plane 200x150");
    // The cost volume, [depth][row][col], within f32 rounding of the reference's.
    let (a, b) = (cpu.cost_volume.unwrap(), native.cost_volume.unwrap());
    assert_eq!(a.len(), b.len());
    // Within f32 rounding except where a sample sits on the image border and rounding flips
    // its validity (a few in a million).
    let far = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| (*x - *y).abs() > 2e-3)
        .count();
    eprintln!("cost volume: {far} of {} differ by more than 2e-3", a.len());
    assert!(far * 10_000 <= a.len(), "{far} of {} costs differ", a.len());
    assert!(native.timings.sweep_s > 0.0);
}

#[test]
fn native_agrees_with_the_reference_on_rendered_undulating_sand() {
    let scene = Scene::undulating();
    let rig = Rig::reference(320, 240).unwrap();
    let cam = &rig.cameras[0];
    let opts = RenderOptions::default();
    let reference = render(&scene, cam, &opts);
    let sources = rig.sources(0, 4);
    let images: Vec<Vec<f32>> = sources
        .iter()
        .map(|&i| render(&scene, &rig.cameras[i], &opts))
        .collect();
    let views: Vec<View> = sources
        .iter()
        .zip(&images)
        .map(|(&i, image)| View {
            camera: &rig.cameras[i],
            image,
        })
        .collect();
    let settings = SweepSettings {
        depths: 32,
        window: 5,
        batch: 16,
        keep_cost_volume: false,
    };
    let r = depth_range_from_z(cam, scene.min_height(), scene.max_height(), 0.02).unwrap();
    let reference = View {
        camera: cam,
        image: &reference,
    };
    let cpu = sweep_cpu(reference, &views, &settings, r).unwrap();
    let native = sweep_native(reference, &views, &settings, r).unwrap();
    assert_agree(&cpu, &native, "undulating 320x240");
}

#[test]
fn native_agrees_with_the_reference_through_distortion() {
    let mut rig = Rig::reference(80, 60).unwrap();
    for (i, cam) in rig.cameras.iter_mut().enumerate() {
        cam.distortion = Some(aquamvs_camera::Distortion {
            k1: -0.12 + 0.01 * i as f64,
            k2: 0.03,
            p1: 0.002,
            p2: -0.001,
            ..aquamvs_camera::Distortion::NONE
        });
    }
    let mut scene = plane_scene_of(rig, 3);
    scene.sources = vec![1, 11, 2];
    let settings = SweepSettings {
        depths: 24,
        window: 7,
        batch: 8,
        keep_cost_volume: false,
    };
    let r = range(&scene);
    let views = scene.source_views();
    let cpu = sweep_cpu(scene.reference(), &views, &settings, r).unwrap();
    let native = sweep_native(scene.reference(), &views, &settings, r).unwrap();
    assert_agree(&cpu, &native, "distorted 80x60");
}

#[test]
fn native_rejects_what_the_reference_rejects() {
    let scene = plane_scene(40, 30, 2);
    let views = scene.source_views();
    let ok = SweepSettings {
        depths: 8,
        window: 5,
        batch: 4,
        keep_cost_volume: false,
    };
    let r = range(&scene);
    let bad = [
        (SweepSettings { window: 4, ..ok }, r),
        (SweepSettings { depths: 1, ..ok }, r),
        (ok, (0.3, 0.1)),
        (ok, (0.1, f32::NAN)),
    ];
    for (settings, range) in bad {
        let a = sweep_cpu(scene.reference(), &views, &settings, range).unwrap_err();
        let b = sweep_native(scene.reference(), &views, &settings, range).unwrap_err();
        assert_eq!(a.to_string(), b.to_string());
    }
    let e = sweep_native(scene.reference(), &[], &ok, r).unwrap_err();
    assert_eq!(e, SweepError::NoSources);
}
