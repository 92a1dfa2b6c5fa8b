//! Round trips, Snell's law and f32/f64 agreement on every reference-rig camera.

use aquamvs_camera::{Camera, Distortion, Interface, Rig};
use nalgebra::{Matrix3, Point3, Vector3};

fn grid(cam: &Camera) -> impl Iterator<Item = (f64, f64)> + '_ {
    let (w, h) = (cam.width as f64, cam.height as f64);
    (0..=16).flat_map(move |i| {
        (0..=12).map(move |j| (-0.5 + w * i as f64 / 16.0, -0.5 + h * j as f64 / 12.0))
    })
}

#[test]
fn project_inverts_cast_ray_over_the_whole_image() {
    let rig = Rig::reference(1600, 1200).unwrap();
    let mut worst: f64 = 0.0;
    for cam in &rig.cameras {
        for (u, v) in grid(cam) {
            let ray = cam
                .cast_ray(u, v)
                .expect("every reference pixel sees the water");
            for depth in [0.01, 0.2, 0.5, 1.5] {
                let p = ray.at(depth);
                let back = cam.project(&p).expect("valid projection");
                let err = (back.pixel.x - u).hypot(back.pixel.y - v);
                worst = worst.max(err);
                assert!((back.depth - depth).abs() < 1e-9, "ray depth round trip");
            }
        }
    }
    assert!(worst < 1e-4, "worst round-trip error {worst} px");
}

#[test]
fn snell_law_holds_at_the_crossing() {
    let rig = Rig::reference(640, 480).unwrap();
    for cam in &rig.cameras {
        for (u, v) in grid(cam) {
            let ray = cam.cast_ray(u, v).unwrap();
            assert!((ray.origin.z - rig.interface.water_z).abs() < 1e-12);
            assert!((ray.direction.norm() - 1.0).abs() < 1e-12);
            let air = (ray.origin - cam.center()).normalize();
            let sin_air = air.x.hypot(air.y);
            let sin_water = ray.direction.x.hypot(ray.direction.y);
            let lhs = rig.interface.n_air * sin_air;
            let rhs = rig.interface.n_water * sin_water;
            assert!((lhs - rhs).abs() < 1e-9, "Snell: {lhs} vs {rhs}");
            // The refracted ray stays in the plane of incidence (same azimuth) and bends
            // toward the normal.
            let cross = air.x * ray.direction.y - air.y * ray.direction.x;
            assert!(cross.abs() < 1e-12);
            assert!(ray.direction.z >= air.z);
        }
    }
}

#[test]
fn f32_agrees_with_f64() {
    let rig = Rig::reference(1600, 1200).unwrap();
    let mut worst: f64 = 0.0;
    for cam in &rig.cameras {
        let c32 = cam.to_f32();
        for (u, v) in grid(cam) {
            let p = cam.cast_ray(u, v).unwrap().at(0.25);
            let p32 = Point3::new(p.x as f32, p.y as f32, p.z as f32);
            let a = cam.project(&p).unwrap().pixel;
            let b = c32.project(&p32).unwrap().pixel;
            worst = worst.max((a.x - b.x as f64).hypot(a.y - b.y as f64));
            let r32 = c32.cast_ray(u as f32, v as f32).unwrap();
            let back = cam.project(&r32.at(0.25).cast::<f64>()).unwrap().pixel;
            worst = worst.max((back.x - u).hypot(back.y - v));
        }
    }
    assert!(worst < 1e-3, "f32 vs f64: {worst} px");
}

#[test]
fn warm_start_gives_the_same_answer() {
    let rig = Rig::reference(640, 480).unwrap();
    let cam = &rig.cameras[3];
    let p = cam.cast_ray(100.0, 50.0).unwrap().at(0.3);
    let cold = cam.project(&p).unwrap();
    let near = cam.cast_ray(101.0, 50.0).unwrap().at(0.3);
    let warm = cam
        .project_from(&p, Some(cam.project(&near).unwrap().crossing_r))
        .unwrap();
    assert!((cold.pixel - warm.pixel).norm() < 1e-9);
}

#[test]
fn reference_cameras_look_at_the_patch_centre() {
    let rig = Rig::reference(641, 481).unwrap();
    assert_eq!(rig.cameras.len(), 13);
    for cam in &rig.cameras {
        let p = cam.project(&Point3::new(0.0, 0.0, 1.178)).unwrap();
        assert!((p.pixel.x - 320.0).abs() < 1e-6 && (p.pixel.y - 240.0).abs() < 1e-6);
        let hfov = 2.0 * (0.5 * 641.0 / cam.k[(0, 0)]).atan();
        assert!((hfov.to_degrees() - 60.0).abs() < 1e-9);
    }
}

#[test]
fn invalid_geometry_is_rejected() {
    let rig = Rig::reference(64, 48).unwrap();
    let cam = &rig.cameras[0];
    // Above the water, or a ray pointing up.
    assert!(cam.project(&Point3::new(0.0, 0.0, 0.5)).is_none());
    let up = Camera::new(
        "up",
        64,
        48,
        cam.k,
        Matrix3::from_diagonal(&Vector3::new(1.0, -1.0, -1.0)),
        Vector3::zeros(),
        None,
        Interface::water(1.0),
    )
    .unwrap();
    assert!(up.cast_ray(32.0, 24.0).is_none());
    // Camera under water, bad sizes, NaN.
    let sunk = Camera::new(
        "sunk",
        64,
        48,
        cam.k,
        Matrix3::identity(),
        Vector3::new(0.0, 0.0, -2.0),
        None,
        Interface::water(1.0),
    );
    assert!(sunk.is_err());
    let zero = Camera::new("z", 0, 48, cam.k, cam.r, cam.t, None, Interface::water(1.0));
    assert!(zero.is_err());
    let nan = Camera::new(
        "n",
        64,
        48,
        cam.k,
        cam.r,
        Vector3::new(f64::NAN, 0.0, 0.0),
        None,
        Interface::water(1.0),
    );
    assert!(nan.is_err());
}

#[test]
fn sources_are_the_cameras_that_see_most_of_the_reference_view() {
    let rig = Rig::reference(64, 48).unwrap();
    let names =
        |v: &[usize]| -> Vec<String> { v.iter().map(|&i| rig.cameras[i].name.clone()).collect() };
    // On the reference ring the nearest neighbours see most of cam00's view.
    let five = rig.sources(0, 5);
    assert_eq!(names(&five[..4]), ["cam01", "cam11", "cam02", "cam10"]);
    let z = rig.interface.water_z + aquamvs_camera::WORKING_DEPTH;
    let all = rig.sources(0, 99);
    assert_eq!(all.len(), 12, "every other camera, clamped");
    let overlaps: Vec<f64> = all.iter().map(|&i| rig.overlap(0, i, z)).collect();
    assert!(
        overlaps.windows(2).all(|w| w[0] >= w[1]),
        "ordered by overlap: {overlaps:?}"
    );
    assert!(overlaps[0] > 0.5 && overlaps[0] <= 1.0, "{overlaps:?}");
    // The geometry decides, not the names: a camera that sees nothing of the reference view
    // (one far away) comes last.
    let mut far = rig.clone();
    let moved = far.cameras[1].clone();
    let t = moved.t - moved.r * nalgebra::Vector3::new(50.0, 0.0, 0.0);
    far.cameras[1] =
        aquamvs_camera::Camera::new("cam01", 64, 48, moved.k, moved.r, t, None, rig.interface)
            .unwrap();
    assert_eq!(far.overlap(0, 1, z), 0.0);
    assert_eq!(*far.sources(0, 12).last().unwrap(), 1);
}

#[test]
fn rig_file_round_trips() {
    let rig = Rig::reference(320, 240).unwrap();
    let back = Rig::from_file(&rig.to_file()).unwrap();
    for (a, b) in rig.cameras.iter().zip(&back.cameras) {
        assert_eq!(a.name, b.name);
        assert!((a.k - b.k).norm() < 1e-12 && (a.r - b.r).norm() < 1e-12);
    }
}

#[test]
fn distortion_inverts() {
    let d = Distortion {
        k1: -0.12,
        k2: 0.03,
        p1: 0.001,
        p2: -0.0005,
        k3: 0.0,
        ..Distortion::NONE
    };
    for (x, y) in [(0.0f64, 0.0f64), (0.3, -0.2), (-0.45, 0.33)] {
        let (xd, yd) = d.distort(x, y);
        let (xu, yu) = d.undistort(xd, yd);
        assert!((xu - x).abs() < 1e-12 && (yu - y).abs() < 1e-12);
    }
}

#[test]
fn without_refraction_rays_go_straight() {
    let rig = Rig::reference(64, 48).unwrap().without_refraction();
    let cam = &rig.cameras[2];
    let ray = cam.cast_ray(10.0, 40.0).unwrap();
    let air = (ray.origin - cam.center()).normalize();
    assert!((air - ray.direction).norm() < 1e-12);
    let p = ray.at(0.3);
    let back = cam.project(&p).unwrap();
    assert!((back.pixel.x - 10.0).abs() < 1e-6 && (back.pixel.y - 40.0).abs() < 1e-6);
}
