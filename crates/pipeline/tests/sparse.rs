//! Sparse matching against geometry: corners of a synthetic checkerboard, triangulation of
//! exactly projected points, quantile ranges, and matching on rendered scenes.

use aquamvs_camera::Rig;
use aquamvs_pipeline::{
    KeypointOptions, SparseOptions, depth_ranges, detect_keypoints, sparse_matching, triangulate,
};
use aquamvs_scenes::{RenderOptions, Scene, render};
use nalgebra::{Point2, Point3};

#[test]
fn keypoints_sit_on_checkerboard_corners() {
    // 12 px squares with inner corners at (10 + 12i, 10 + 12j) − 0.5 (between pixels).
    let (w, h) = (96u32, 72u32);
    let img: Vec<f32> = (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as i32 + 2, (i / w) as i32 + 2);
            if ((x / 12) + (y / 12)) % 2 == 0 {
                0.9
            } else {
                0.1
            }
        })
        .collect();
    let opts = KeypointOptions {
        max_keypoints: 1000,
        grid: (1, 1),
        ..KeypointOptions::default()
    };
    let kps = detect_keypoints(&img, w, h, &opts).unwrap();
    let inner: Vec<(f64, f64)> = (1..8)
        .flat_map(|i| {
            (1..6).map(move |j| (f64::from(i * 12 - 2) - 0.5, f64::from(j * 12 - 2) - 0.5))
        })
        .filter(|&(x, y)| x > 8.0 && y > 8.0 && x < f64::from(w) - 9.0 && y < f64::from(h) - 9.0)
        .collect();
    assert!(!inner.is_empty());
    // Every keypoint is at a corner (integer pixel next to it) and every corner is found.
    for k in &kps {
        let d = inner
            .iter()
            .map(|c| (c.0 - f64::from(k.u)).hypot(c.1 - f64::from(k.v)))
            .fold(f64::MAX, f64::min);
        assert!(
            d < 1.0,
            "keypoint ({}, {}) is {d} px from every corner",
            k.u,
            k.v
        );
    }
    assert_eq!(kps.len(), inner.len(), "{kps:?}");
    // A flat image has no corners.
    assert!(
        detect_keypoints(&[0.5; 96 * 72], w, h, &opts)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn triangulation_recovers_projected_points() {
    let rig = Rig::reference(320, 240).unwrap();
    let cams: Vec<_> = [0usize, 1, 11, 12]
        .iter()
        .map(|&i| &rig.cameras[i])
        .collect();
    for p in [
        Point3::new(0.0, 0.0, 1.178),
        Point3::new(0.05, -0.03, 1.19),
        Point3::new(-0.12, 0.08, 1.16),
    ] {
        let px: Vec<Point2<f64>> = cams.iter().map(|c| c.project(&p).unwrap().pixel).collect();
        for n in [2, 4] {
            let t = triangulate(&cams[..n], &px[..n]).unwrap();
            assert!((t.point - p).norm() < 1e-7, "{n} views: {} vs {p}", t.point);
            assert!(t.reprojection_px < 1e-4 && t.ray_distance < 1e-7);
        }
        // A wrong pixel in one view shows up as reprojection error.
        let mut bad = px.clone();
        bad[1].x += 3.0;
        let t = triangulate(&cams, &bad).unwrap();
        assert!(t.reprojection_px > 1.0, "{}", t.reprojection_px);
    }
    // Rays from one camera through one pixel are parallel: no point.
    let c = &rig.cameras[0];
    assert!(triangulate(&[c, c], &[Point2::new(10.0, 10.0), Point2::new(10.0, 10.0)]).is_none());
}

#[test]
fn ranges_are_quantiles_of_ray_depths_plus_margin() {
    let rig = Rig::reference(320, 240).unwrap();
    let cam = &rig.cameras[12];
    // 101 points on the centre camera's principal ray at ray depths 0.10 … 0.30 m.
    let ray = cam.cast_ray(159.5, 119.5).unwrap();
    let pts: Vec<[f64; 3]> = (0..=100)
        .map(|i| ray.at(0.1 + 0.002 * f64::from(i)).coords.into())
        .collect();
    let ranges = depth_ranges(&rig, &pts, (0.02, 0.98), 0.05, 10);
    let r = ranges[12].unwrap();
    assert_eq!(r.points, 101);
    assert!((f64::from(r.min) - (0.104 - 0.05)).abs() < 1e-6, "{r:?}");
    assert!((f64::from(r.max) - (0.296 + 0.05)).abs() < 1e-6, "{r:?}");
    // Too few points in view: no range.
    assert!(depth_ranges(&rig, &pts[..5], (0.02, 0.98), 0.05, 10)[12].is_none());
}

/// Renders every rig camera of a scene (3×3 supersampling, no noise).
fn render_rig(scene: &Scene, rig: &Rig) -> Vec<Vec<f32>> {
    rig.cameras
        .iter()
        .map(|c| render(scene, c, &RenderOptions::default()))
        .collect()
}

#[test]
fn undulating_sparse_points_lie_on_the_surface_and_ranges_cover_the_patch() {
    let (w, h) = (320, 240);
    let rig = Rig::reference(w, h).unwrap();
    let scene = Scene::undulating();
    let images = render_rig(&scene, &rig);
    let refs = [0usize, 4, 8];
    let opts = SparseOptions {
        keypoints: KeypointOptions {
            max_keypoints: 300,
            ..KeypointOptions::default()
        },
        ..SparseOptions::default()
    };
    let res = sparse_matching(&rig, &images, &refs, &opts).unwrap();
    assert!(res.points.len() > 300, "{:?}", res.stats);
    // Vertical distance to the analytic surface (≥ the true distance).
    let mut err: Vec<f64> = res
        .points
        .iter()
        .map(|p| (p.position[2] - scene.height(p.position[0], p.position[1])).abs())
        .collect();
    err.sort_by(f64::total_cmp);
    let median = err[err.len() / 2];
    assert!(median < 0.003, "median |dz| {median}");
    for p in &res.points {
        assert!(p.reprojection_px <= opts.max_reprojection_px && p.views.len() >= 3);
    }
    // Each reference view's range holds ≥ 98 % of its patch pixels' true ray depths.
    for &r in &refs {
        let cam = &rig.cameras[r];
        let range = res.ranges[r].expect("range");
        let truth = scene.depth_map(cam);
        let (mut inside, mut total) = (0, 0);
        for v in 0..h {
            for u in 0..w {
                let d = truth[(v * w + u) as usize];
                let Some(ray) = cam.cast_ray(f64::from(u), f64::from(v)) else {
                    continue;
                };
                if !d.is_finite() {
                    continue;
                }
                let p = ray.at(f64::from(d));
                if scene.in_bounds(p.x, p.y) {
                    total += 1;
                    inside += usize::from(d >= range.min && d <= range.max);
                }
            }
        }
        assert!(total > 1000);
        let frac = inside as f64 / total as f64;
        assert!(
            frac >= 0.98,
            "view {r}: {frac} of patch pixels inside {range:?}"
        );
    }
}

#[test]
fn flat_sparse_points_are_on_the_plane() {
    let (w, h) = (160, 120);
    let rig = Rig::reference(w, h).unwrap();
    let scene = Scene::flat();
    let images = render_rig(&scene, &rig);
    let opts = SparseOptions {
        keypoints: KeypointOptions {
            max_keypoints: 150,
            ..KeypointOptions::default()
        },
        ..SparseOptions::default()
    };
    let res = sparse_matching(&rig, &images, &[3], &opts).unwrap();
    assert!(res.points.len() > 50, "{:?}", res.stats);
    let mut err: Vec<f64> = res
        .points
        .iter()
        .map(|p| (p.position[2] - 1.178).abs())
        .collect();
    err.sort_by(f64::total_cmp);
    // A 160×120 pixel covers ~1 cm of the plane.
    assert!(err[err.len() / 2] < 0.002, "median {}", err[err.len() / 2]);
    assert!(
        err[err.len() * 9 / 10] < 0.01,
        "p90 {}",
        err[err.len() * 9 / 10]
    );
}

#[test]
fn bad_inputs_are_errors() {
    let rig = Rig::reference(32, 24).unwrap();
    let images = vec![vec![0.5f32; 32 * 24]; 12];
    assert!(sparse_matching(&rig, &images, &[0], &SparseOptions::default()).is_err());
    let images = vec![vec![0.5f32; 32 * 24]; 13];
    assert!(sparse_matching(&rig, &images, &[20], &SparseOptions::default()).is_err());
    let even = SparseOptions {
        window: 8,
        ..SparseOptions::default()
    };
    assert!(sparse_matching(&rig, &images, &[0], &even).is_err());
    // Flat grey images: no keypoints, no points, no ranges — and no error.
    let res = sparse_matching(&rig, &images, &[0], &SparseOptions::default()).unwrap();
    assert!(res.points.is_empty() && res.ranges.iter().all(Option::is_none));
}
