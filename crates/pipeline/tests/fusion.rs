//! Fusion against geometry: ground-truth depth maps of the flat scene, with noise, outliers
//! and low-confidence regions added, must fuse to points on the plane.

use aquamvs_camera::Rig;
use aquamvs_pipeline::{DepthMap, FusionOptions, fuse, voxel_downsample};
use aquamvs_scenes::Scene;
use rand::{Rng, SeedableRng, rngs::StdRng};

fn truth_maps(rig: &Rig, scene: &Scene, views: &[usize]) -> Vec<DepthMap> {
    views
        .iter()
        .map(|&i| {
            let cam = &rig.cameras[i];
            let depth = scene.depth_map(cam);
            DepthMap {
                view: i,
                width: cam.width,
                height: cam.height,
                confidence: vec![1.0; depth.len()],
                depth,
                normal: None,
            }
        })
        .collect()
}

#[test]
fn outliers_and_low_confidence_are_removed_and_points_lie_on_the_plane() {
    let (w, h) = (160u32, 120u32);
    let rig = Rig::reference(w, h).unwrap();
    let scene = Scene::flat();
    let views: Vec<usize> = (0..12).collect();
    let mut maps = truth_maps(&rig, &scene, &views);
    let mut rng = StdRng::seed_from_u64(7);
    for m in &mut maps {
        for d in &mut m.depth {
            *d += rng.random_range(-0.0005f32..0.0005);
        }
    }
    // View 0: a 40×30 block 2 cm too far (a wrong sweep minimum).
    for v in 40..70 {
        for u in 60..100 {
            maps[0].depth[(v * w + u) as usize] += 0.02;
        }
    }
    // View 1: a low-confidence block, with wrong depths that must not matter.
    for v in 0..60 {
        for u in 0..80 {
            let i = (v * w + u) as usize;
            maps[1].confidence[i] = 0.05;
            maps[1].depth[i] -= 0.03;
        }
    }
    // View 2: every depth wrong by a random amount of 1-5 cm.
    for d in &mut maps[2].depth {
        *d += rng.random_range(0.01f32..0.05) * if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    }
    let opts = FusionOptions::default();
    let cloud = fuse(&rig, &maps, &opts).unwrap();
    assert!(cloud.points.len() > 20_000, "{} points", cloud.points.len());
    let worst = cloud
        .points
        .iter()
        .map(|p| (p[2] - 1.178).abs())
        .fold(0f64, f64::max);
    // Noise of ±0.5 mm along rays; the 2 cm block, the low-confidence block and view 2
    // must be gone entirely.
    assert!(worst < 0.001, "a fused point is {worst} m off the plane");
    let v0 = &cloud.views[0];
    assert_eq!(v0.valid, (w * h) as usize);
    assert!(v0.consistent <= v0.valid - 40 * 30, "{v0:?}");
    assert_eq!(cloud.views[1].confident, (w * h) as usize - 80 * 60);
    assert_eq!(cloud.views[2].consistent, 0, "{:?}", cloud.views[2]);
    // Voxels are 1 mm: no two points closer than the voxel grid allows in the same voxel.
    let mut keys: Vec<[i64; 3]> = cloud
        .points
        .iter()
        .map(|p| p.map(|c| (c / 0.001).floor() as i64))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), cloud.points.len());
}

#[test]
fn too_few_witnesses_give_an_empty_cloud_not_an_error() {
    let rig = Rig::reference(64, 48).unwrap();
    let maps = truth_maps(&rig, &Scene::flat(), &[0, 1, 2]);
    // Only two other views exist; three must agree.
    let cloud = fuse(&rig, &maps, &FusionOptions::default()).unwrap();
    assert!(cloud.points.is_empty());
    assert!(
        cloud
            .views
            .iter()
            .all(|v| v.confident == 64 * 48 && v.consistent == 0)
    );
    // With two witnesses required the same maps fuse.
    let two = FusionOptions {
        min_agreeing_views: 2,
        ..FusionOptions::default()
    };
    assert!(!fuse(&rig, &maps, &two).unwrap().points.is_empty());
}

#[test]
fn mismatched_maps_are_errors() {
    let rig = Rig::reference(64, 48).unwrap();
    let mut maps = truth_maps(&rig, &Scene::flat(), &[0, 1]);
    maps[1].depth.pop();
    assert!(fuse(&rig, &maps, &FusionOptions::default()).is_err());
    maps[1].view = 99;
    assert!(fuse(&rig, &maps, &FusionOptions::default()).is_err());
}

#[test]
fn voxel_downsampling_keeps_one_centroid_per_voxel() {
    // 100 points spread inside voxel [0, 1 mm)³ and one in the next voxel along x.
    let mut pts: Vec<[f64; 3]> = (0..100)
        .map(|i| {
            let f = (f64::from(i) + 0.5) / 100.0 * 0.001;
            [f, 0.0005, 0.0005]
        })
        .collect();
    pts.push([0.0015, 0.0002, 0.0002]);
    pts.push([f64::NAN, 0.0, 0.0]);
    let out = voxel_downsample(&pts, 0.001);
    assert_eq!(out.len(), 2);
    assert!((out[0][0] - 0.0005).abs() < 1e-12 && (out[0][1] - 0.0005).abs() < 1e-12);
    assert_eq!(out[1], [0.0015, 0.0002, 0.0002]);
}

#[test]
fn fusion_does_not_depend_on_the_thread_count() {
    let (w, h) = (160u32, 120u32);
    let rig = Rig::reference(w, h).unwrap();
    let scene = Scene::undulating();
    let views: Vec<usize> = (0..6).collect();
    let mut maps = truth_maps(&rig, &scene, &views);
    let mut rng = StdRng::seed_from_u64(11);
    for m in &mut maps {
        for d in &mut m.depth {
            *d += rng.random_range(-0.004f32..0.004);
        }
    }
    let opts = FusionOptions::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one = pool.install(|| fuse(&rig, &maps, &opts).unwrap());
    let many = fuse(&rig, &maps, &opts).unwrap();
    assert!(one.points.len() > 1000, "{} points", one.points.len());
    assert_eq!(one.points, many.points);
    assert_eq!(one.views, many.views);
    assert_eq!(one.consistent, many.consistent);
}

#[test]
fn voxel_downsampling_matches_a_hash_map_reference() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut points: Vec<[f64; 3]> = (0..20_000)
        .map(|_| {
            [
                rng.random_range(-0.02..0.02),
                rng.random_range(-0.02..0.02),
                rng.random_range(1.0..1.01),
            ]
        })
        .collect();
    points.push([f64::NAN, 0.0, 1.0]);
    let size = 0.002;
    let reference = |points: &[[f64; 3]]| {
        let mut cells = std::collections::BTreeMap::<[i64; 3], ([f64; 3], f64)>::new();
        for p in points.iter().filter(|p| p.iter().all(|c| c.is_finite())) {
            let e = cells
                .entry(p.map(|c| (c / size).floor() as i64))
                .or_insert(([0.0; 3], 0.0));
            for (a, c) in e.0.iter_mut().zip(p) {
                *a += c;
            }
            e.1 += 1.0;
        }
        cells
            .values()
            .map(|(s, n)| s.map(|c| c / n))
            .collect::<Vec<[f64; 3]>>()
    };
    let expected = reference(&points);
    assert!(expected.len() > 1000);
    assert_eq!(voxel_downsample(&points, size), expected);
    // Voxels spanning more than 2^21 along an axis (the packed keys' limit), on both sides.
    points.push([-1e4, 0.0, 1.0]);
    points.push([0.0, 5e3, -2e3]);
    let expected = reference(&points);
    assert_eq!(expected.len(), voxel_downsample(&points, size).len());
    assert_eq!(voxel_downsample(&points, size), expected);
}
