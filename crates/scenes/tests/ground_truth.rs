//! Ground-truth depth maps against implementations written here from the conventions alone:
//! the refraction in angle form (not the camera crate's vector form), the flat plane in closed
//! form, the undulating surface by a fixed-step march with bisection, and a parry3d ray cast
//! against a fine triangle mesh.

use aquamvs_camera::{Camera, Rig};
use aquamvs_scenes::{Scene, SceneKind};
use nalgebra::{Point3, Vector3};
use parry3d::query::{Ray as PRay, RayCast};
use rayon::prelude::*;

/// Tolerance of the acceptance criterion: 0.02 mm.
const TOL_M: f64 = 2e-5;

/// The refracted ray through pixel `(u, v)`, built from K, R, t and the interface alone:
/// Snell's law in angle form, the horizontal direction kept.
fn independent_ray(cam: &Camera<f64>, u: f64, v: f64) -> Option<(Point3<f64>, Vector3<f64>)> {
    let (fx, s, cx) = (cam.k[(0, 0)], cam.k[(0, 1)], cam.k[(0, 2)]);
    let (fy, cy) = (cam.k[(1, 1)], cam.k[(1, 2)]);
    let yn = (v - cy) / fy;
    let xn = (u - cx - s * yn) / fx;
    let dir_world = cam.r.transpose() * Vector3::new(xn, yn, 1.0);
    let centre = -(cam.r.transpose() * cam.t);
    let water = cam.interface.water_z;
    if dir_world.z <= 0.0 {
        return None;
    }
    let lambda = (water - centre.z) / dir_world.z;
    let hit = centre + dir_world * lambda;
    let horiz = dir_world.xy().norm();
    let sin_air = horiz / dir_world.norm();
    let sin_water = sin_air * cam.interface.n_air / cam.interface.n_water;
    let cos_water = (1.0 - sin_water * sin_water).sqrt();
    let h = if horiz > 0.0 {
        dir_world.xy() / horiz * sin_water
    } else {
        nalgebra::Vector2::zeros()
    };
    Some((Point3::from(hit), Vector3::new(h.x, h.y, cos_water)))
}

/// First root by a fixed-step march (0.2 mm, from the top of the surface's Z range) and
/// bisection; the flat plane in closed form. (A pair of roots closer than 0.2 mm means the
/// ray dips < 0.2 µm into a crest: never on these grids.)
fn independent_depth(scene: &Scene, cam: &Camera<f64>, u: f64, v: f64) -> Option<f64> {
    let (o, d) = independent_ray(cam, u, v)?;
    let f = |t: f64| {
        let p = o + d * t;
        p.z - scene.height(p.x, p.y)
    };
    if scene.kind == SceneKind::Flat {
        let t = (scene.base_z - o.z) / d.z;
        return (t >= 0.0).then_some(t);
    }
    let step = 2e-4;
    if f(0.0) > 0.0 {
        return None;
    }
    let top = scene.base_z - 2.0 * scene.amplitude.abs();
    let mut lo = ((top - o.z) / d.z).max(0.0);
    loop {
        let hi = lo + step;
        if f(hi) >= 0.0 {
            let (mut a, mut b) = (lo, hi);
            for _ in 0..60 {
                let m = 0.5 * (a + b);
                if f(m) >= 0.0 { b = m } else { a = m }
            }
            return Some(0.5 * (a + b));
        }
        lo = hi;
        if o.z + d.z * lo > scene.max_height() + 1.0 {
            return None;
        }
    }
}

fn check_scene(scene: &Scene, width: u32, height: u32) {
    let rig = Rig::reference(width, height).unwrap();
    for cam in &rig.cameras {
        let ours = scene.depth_map(cam);
        assert_eq!(ours.len(), (width * height) as usize);
        let worst = (0..height)
            .into_par_iter()
            .map(|v| {
                let mut worst = 0.0f64;
                for u in 0..width {
                    let got = ours[(v * width + u) as usize];
                    let want = independent_depth(scene, cam, u as f64, v as f64);
                    match want {
                        None => assert!(got.is_nan(), "{} ({u},{v}): {got} but no hit", cam.name),
                        Some(w) => {
                            assert!(got.is_finite(), "{} ({u},{v}): NaN, want {w}", cam.name);
                            worst = worst.max((got as f64 - w).abs());
                        }
                    }
                }
                worst
            })
            .reduce(|| 0.0, f64::max);
        eprintln!(
            "{} {}: worst |depth - independent| = {:.2e} mm",
            scene.kind,
            cam.name,
            worst * 1e3
        );
        assert!(
            worst < TOL_M,
            "{} {}: worst depth difference {:.4} mm",
            scene.kind,
            cam.name,
            worst * 1e3
        );
    }
}

#[test]
fn flat_depth_matches_closed_form_on_every_pixel_of_every_camera() {
    check_scene(&Scene::flat(), 320, 240);
}

#[test]
fn undulating_depth_matches_an_independent_march_on_every_pixel_of_every_camera() {
    check_scene(&Scene::undulating(), 320, 240);
}

#[test]
fn undulating_depth_matches_a_parry3d_ray_cast_on_a_fine_mesh() {
    // Mesh error at 1 mm spacing: |h''| h²/8 ≤ 0.005·(2π/0.05)²·1e-6/8 ≈ 0.01 mm in z.
    let scene = Scene::undulating();
    let mesh = scene.mesh(0.001).unwrap().to_parry().unwrap();
    let rig = Rig::reference(160, 120).unwrap();
    let mut compared = 0;
    for cam in &rig.cameras {
        let depth = scene.depth_map(cam);
        for v in 0..cam.height {
            for u in 0..cam.width {
                let d = depth[(v * cam.width + u) as usize] as f64;
                let ray = cam.cast_ray(u as f64, v as f64).unwrap();
                let p = ray.at(d);
                // Stay clear of the mesh border.
                let b = scene.bounds;
                if !(p.x > b[0] + 0.01
                    && p.x < b[1] - 0.01
                    && p.y > b[2] + 0.01
                    && p.y < b[3] - 0.01)
                {
                    continue;
                }
                // Cast from 1 cm above the hit to keep f32 precision.
                let start = ray.at(d - 0.01);
                let pr = PRay::new(
                    parry3d::math::Point::new(start.x as f32, start.y as f32, start.z as f32),
                    parry3d::math::Vector::new(
                        ray.direction.x as f32,
                        ray.direction.y as f32,
                        ray.direction.z as f32,
                    ),
                );
                let toi = mesh
                    .cast_local_ray(&pr, 1.0, false)
                    .expect("the mesh is hit near the analytic hit");
                let mesh_depth = d - 0.01 + toi as f64;
                assert!(
                    (mesh_depth - d).abs() < 3e-5,
                    "{} ({u},{v}): analytic {d}, mesh {mesh_depth}",
                    cam.name
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 10_000, "only {compared} pixels compared");
}

#[test]
fn hits_lie_on_the_surface_and_on_the_ray() {
    let scene = Scene::undulating();
    let rig = Rig::reference(64, 48).unwrap();
    for cam in &rig.cameras {
        let depth = scene.depth_map(cam);
        for (i, &d) in depth.iter().enumerate() {
            let (u, v) = ((i % 64) as f64, (i / 64) as f64);
            let ray = cam.cast_ray(u, v).unwrap();
            let p = ray.at(d as f64);
            // f32 storage of ~0.2 m: 1e-8 m; the root itself is far tighter.
            assert!((p.z - scene.height(p.x, p.y)).abs() < 1e-7);
            let exact = scene.intersect(&ray).unwrap();
            let q = ray.at(exact);
            assert!((q.z - scene.height(q.x, q.y)).abs() < 1e-10);
        }
    }
}

#[test]
fn depth_maps_with_distortion_use_the_undistorted_pixel() {
    let mut rig = Rig::reference(80, 60).unwrap();
    let dist = aquamvs_camera::Distortion {
        k1: -0.12,
        k2: 0.03,
        p1: 0.001,
        p2: -0.0005,
        k3: 0.0,
        ..aquamvs_camera::Distortion::NONE
    };
    let scene = Scene::flat();
    for cam in &mut rig.cameras {
        cam.distortion = Some(dist);
        let depth = scene.depth_map(cam);
        for (u, v) in [(0.0, 0.0), (79.0, 59.0), (40.0, 30.0), (5.0, 50.0)] {
            let (uu, vv) = cam.undistort_pixel(u, v);
            let want = independent_depth(&scene, cam, uu, vv).unwrap();
            let got = depth[(v as usize) * 80 + u as usize] as f64;
            assert!((got - want).abs() < TOL_M);
        }
    }
}
