//! The slope scene (a plane at 20° to the water surface) against implementations written here
//! from the conventions alone: the refraction in angle form and the plane `n·p = c` with
//! `n = (−tan θ, 0, 1)`, intersected in closed form; its normal, mesh, texture, file form and
//! validation.

use aquamvs_camera::{Camera, Ray, Rig};
use aquamvs_scenes::{RenderOptions, Scene, SceneError, SceneKind, placement, render, texture};
use nalgebra::{Point3, Vector3};

/// The refracted ray through pixel `(u, v)`, built from K, R, t and the interface alone:
/// Snell's law in angle form, the horizontal direction kept (as in `ground_truth.rs`).
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

/// The plane of a slope scene as `n·p = c`, `n = (−tan θ, 0, 1)` (not normalised).
fn plane(scene: &Scene) -> (Vector3<f64>, f64) {
    let t = (scene.slope_deg * std::f64::consts::PI / 180.0).tan();
    let n = Vector3::new(-t, 0.0, 1.0);
    (n, scene.base_z - t * scene.center[0])
}

/// Ray depth of the first hit with the plane: the ray must start above it (on the water side)
/// and come down to it.
fn independent_depth(scene: &Scene, o: Point3<f64>, d: Vector3<f64>) -> Option<f64> {
    let (n, c) = plane(scene);
    let above = n.dot(&o.coords) - c; // negative above the plane (+Z down).
    let closing = n.dot(&d);
    if above > 0.0 || closing <= 0.0 {
        return None;
    }
    Some((c - n.dot(&o.coords)) / closing)
}

fn check_depths(scene: &Scene, width: u32, height: u32) {
    let rig = Rig::reference(width, height).unwrap();
    let mut compared = 0;
    for cam in &rig.cameras {
        let map = scene.depth_map(cam);
        let mut worst = 0.0f64;
        for v in 0..height {
            for u in 0..width {
                let (uf, vf) = (u as f64, v as f64);
                let (o, d) = independent_ray(cam, uf, vf).unwrap();
                let want = independent_depth(scene, o, d);
                let got = scene.pixel_depth(cam, uf, vf);
                let stored = map[(v * width + u) as usize];
                match (want, got) {
                    (None, None) => assert!(stored.is_nan()),
                    (Some(w), Some(g)) => {
                        worst = worst.max((g - w).abs());
                        // The stored map is the f64 depth rounded to f32.
                        let ulp = f64::from(f32::EPSILON) * w;
                        assert!(
                            (f64::from(stored) - w).abs() <= ulp,
                            "{} ({u},{v}): stored {stored}, independent {w}",
                            cam.name
                        );
                        compared += 1;
                    }
                    _ => panic!("{} ({u},{v}): ours {got:?}, independent {want:?}", cam.name),
                }
            }
        }
        eprintln!(
            "{} {}: worst |depth - independent| = {worst:.2e} m",
            scene.formula(),
            cam.name
        );
        assert!(worst < 1e-9, "{}: worst {worst} m", cam.name);
    }
    assert!(compared > (rig.cameras.len() * (width * height) as usize) / 2);
}

#[test]
fn reference_slope_matches_the_issue() {
    let s = Scene::slope();
    let t = 20f64.to_radians().tan();
    assert_eq!(s.kind, SceneKind::Slope);
    assert_eq!((s.base_z, s.slope_deg), (1.178, 20.0));
    assert_eq!(s.bounds, [-0.25, 0.25, -0.15, 0.15]);
    assert_eq!(s.height(0.0, 0.7), 1.178);
    assert!((s.height(0.1, -0.3) - (1.178 + 0.1 * t)).abs() < 1e-15);
    // The extent over the evaluation bounds (the plane itself is unbounded in Z).
    assert!((s.min_height() - (1.178 - 0.25 * t)).abs() < 1e-15);
    assert!((s.max_height() - (1.178 + 0.25 * t)).abs() < 1e-15);
    assert!((s.max_slope() - t).abs() < 1e-15);
    assert_eq!(s.formula(), "z = 1.178 + tan(20 deg) * x");
    let c = Scene::new_slope(1.2, 35.0, [-0.1, 0.3, -0.2, 0.1])
        .unwrap()
        .with_center([0.1, -0.05])
        .unwrap();
    assert_eq!(c.formula(), "z = 1.2 + tan(35 deg) * (x - 0.1)");
    let t35 = 35f64.to_radians().tan();
    assert!((c.min_height() - (1.2 - 0.2 * t35)).abs() < 1e-15);
    assert!((c.max_height() - (1.2 + 0.2 * t35)).abs() < 1e-15);
    assert!(s.check_rig(&Rig::reference(32, 24).unwrap()).is_ok());
    assert_eq!("slope".parse::<SceneKind>(), Ok(SceneKind::Slope));
    assert_eq!(SceneKind::Slope.to_string(), "slope");
}

#[test]
fn slope_depth_matches_an_independent_ray_plane_intersection_on_every_camera() {
    check_depths(&Scene::slope(), 160, 120);
}

#[test]
fn centred_steeper_slope_depth_matches_too() {
    let s = Scene::new_slope(1.2, 35.0, [-0.2, 0.2, -0.1, 0.1])
        .unwrap()
        .with_center([0.03, -0.02])
        .unwrap();
    check_depths(&s, 64, 48);
}

#[test]
fn normal_is_the_tilted_plane_normal_pointing_up() {
    let s = Scene::slope();
    let t = 20f64.to_radians().tan();
    // (−tan θ, 0, 1)/‖·‖ points down into the water; `Scene::normal` points up (−Z).
    let down = Vector3::new(-t, 0.0, 1.0).normalize();
    for &(x, y) in &[(0.0, 0.0), (-0.2, 0.1), (0.25, -0.15), (3.0, 7.0)] {
        let n = s.normal(x, y);
        assert!((n + down).norm() < 1e-15, "({x}, {y}): {n}");
        assert!(n.z < 0.0 && (n.norm() - 1.0).abs() < 1e-15);
        let (h, hx, hy) = s.height_gradient(x, y);
        assert_eq!(h, s.height(x, y));
        let e = 1e-6;
        let fx = (s.height(x + e, y) - s.height(x - e, y)) / (2.0 * e);
        assert!((hx - fx).abs() < 1e-8 && hy == 0.0);
        // The angle to the water surface (normal to +Z) is 20°.
        let angle = n.z.abs().acos().to_degrees();
        assert!((angle - 20.0).abs() < 1e-12, "{angle}");
    }
}

#[test]
fn intersect_handles_parallel_upward_and_submerged_rays() {
    let s = Scene::slope();
    let t = 20f64.to_radians().tan();
    let ray = |o: [f64; 3], d: Vector3<f64>| Ray {
        origin: Point3::from(o),
        direction: d.normalize(),
    };
    // Parallel to the plane (it runs down the slope at exactly its angle; not normalised, so
    // exactly parallel in floating point): never meets it.
    let parallel = Ray {
        origin: Point3::new(0.0, 0.0, 1.0),
        direction: Vector3::new(1.0, 0.0, t),
    };
    assert_eq!(s.intersect(&parallel), None);
    // Going down less steeply than the plane, in +X: never meets it.
    assert_eq!(
        s.intersect(&ray([0.0, 0.0, 1.0], Vector3::new(1.0, 0.0, 0.1))),
        None
    );
    // Going up, or level.
    assert_eq!(
        s.intersect(&ray([0.0, 0.0, 1.0], Vector3::new(0.0, 0.0, -1.0))),
        None
    );
    assert_eq!(
        s.intersect(&ray([0.0, 0.0, 1.0], Vector3::new(-1.0, 0.0, 0.0))),
        None
    );
    // Starting below the plane.
    assert_eq!(
        s.intersect(&ray([0.0, 0.0, 1.2], Vector3::new(0.0, 0.0, 1.0))),
        None
    );
    // Straight down, and toward −X where the plane rises to meet the ray.
    let r = ray([0.1, 0.0, 1.0], Vector3::new(0.0, 0.0, 1.0));
    assert!((s.intersect(&r).unwrap() - (0.178 + 0.1 * t)).abs() < 1e-14);
    let r = ray([0.0, 0.0, 1.0], Vector3::new(-1.0, 0.0, 1.0));
    let d = s.intersect(&r).unwrap();
    let p = r.at(d);
    assert!((p.z - s.height(p.x, p.y)).abs() < 1e-14);
    // On the plane: depth 0.
    let r = ray([0.0, 0.0, 1.178], Vector3::new(0.0, 0.0, 1.0));
    assert_eq!(s.intersect(&r), Some(0.0));
}

#[test]
fn mesh_vertices_lie_on_the_plane_at_any_spacing() {
    let s = Scene::slope();
    let t = 20f64.to_radians().tan();
    for spacing in [0.005, 0.05, s.max_mesh_spacing()] {
        let mesh = s.mesh(spacing).unwrap();
        for v in &mesh.vertices {
            assert!((v[2] - (1.178 + t * v[0])).abs() < 1e-15, "{v:?}");
            assert!(s.in_bounds(v[0], v[1]));
        }
        for f in &mesh.faces {
            let [a, b, c] = f.map(|i| Vector3::from(mesh.vertices[i as usize]));
            assert!((b - a).cross(&(c - a)).z < 0.0, "faces toward the cameras");
        }
        // A plane is meshed exactly: its area is the footprint over cos θ.
        let area = 0.15 / 20f64.to_radians().cos();
        assert!((mesh.area() - area).abs() < 1e-12, "{}", mesh.area());
        assert_eq!(s.mesh_deviation(spacing), 0.0);
        assert_eq!(s.mesh_warning(spacing), None);
    }
    assert_eq!(s.max_mesh_spacing(), 0.5);
    assert!(matches!(
        s.mesh(0.6),
        Err(SceneError::MeshTooCoarse {
            kind: SceneKind::Slope,
            ..
        })
    ));
    // Uniform samples lie on the plane too.
    for p in s.sample_surface(1000, 7) {
        assert!((p[2] - s.height(p[0], p[1])).abs() < 1e-15 && s.in_bounds(p[0], p[1]));
    }
}

#[test]
fn rendered_slope_is_textured_and_shows_the_ground_truth_point() {
    let s = Scene::slope();
    let rig = Rig::reference(160, 120).unwrap();
    let one = RenderOptions {
        supersample: 1,
        ..RenderOptions::default()
    };
    for cam in &rig.cameras {
        let img = render(&s, cam, &RenderOptions::default());
        assert!(img.iter().all(|v| (0.0..=1.0).contains(v)));
        let n = img.len() as f64;
        let mean = img.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = img.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        assert!(var.sqrt() > 0.05, "{}: std {}", cam.name, var.sqrt());
        // One sample per pixel: the texture at the ground-truth point.
        let img = render(&s, cam, &one);
        let mut seen = 0;
        for (i, &grey) in img.iter().enumerate() {
            let (u, v) = ((i % 160) as f64, (i / 160) as f64);
            let Some(d) = s.pixel_depth(cam, u, v) else {
                continue;
            };
            let p = cam.cast_ray(u, v).unwrap().at(d);
            let want = texture(p.x, p.y);
            assert!(
                (f64::from(grey) - want).abs() < 1e-5,
                "{} ({u},{v}): {grey} vs {want}, depth {d}",
                cam.name
            );
            seen += 1;
        }
        assert!(
            seen > img.len() / 2,
            "{}: {seen} pixels see the plane",
            cam.name
        );
    }
}

#[test]
fn file_round_trip_and_errors() {
    let centred = Scene::new_slope(1.1, 12.5, [-0.1, 0.2, -0.3, 0.05])
        .unwrap()
        .with_center([0.05, -0.1])
        .unwrap();
    for s in [Scene::slope(), centred] {
        let f = s.to_file();
        assert_eq!(f.kind, SceneKind::Slope);
        assert_eq!(f.base_depth_z, Some(s.base_z));
        assert_eq!(f.slope_deg, Some(s.slope_deg));
        assert_eq!((f.depth_z, f.amplitude, f.wavelength), (None, None, None));
        assert_eq!(f.surface.as_deref(), Some(s.formula().as_str()));
        assert_eq!(Scene::from_file(&f), Ok(s));
    }
    assert_eq!(centred.to_file().center, Some([0.05, -0.1]));
    assert_eq!(Scene::slope().to_file().center, None);
    // The other kinds carry no angle.
    for s in [Scene::flat(), Scene::undulating()] {
        assert_eq!(s.to_file().slope_deg, None);
    }

    let err = |f: &aquamvs_scenes::SceneFile| Scene::from_file(f).unwrap_err().to_string();
    let mut f = Scene::slope().to_file();
    f.slope_deg = None;
    assert!(
        err(&f).contains("a slope scene needs \"slope_deg\""),
        "{}",
        err(&f)
    );
    let mut f = Scene::slope().to_file();
    f.base_depth_z = None;
    assert!(err(&f).contains("\"base_depth_z\""), "{}", err(&f));
    let mut f = Scene::slope().to_file();
    f.amplitude = Some(0.01);
    assert!(err(&f).contains("amplitude"), "{}", err(&f));
    let mut f = Scene::slope().to_file();
    f.slope_deg = Some(85.0);
    assert!(err(&f).contains("slope_deg"), "{}", err(&f));
    let mut f = Scene::flat().to_file();
    f.slope_deg = Some(20.0);
    assert!(err(&f).contains("slope_deg"), "{}", err(&f));
}

#[test]
fn slope_is_validated() {
    let b = [-0.25, 0.25, -0.15, 0.15];
    for bad in [0.0, 90.0, 80.0, -20.0, 200.0] {
        let e = Scene::new_slope(1.178, bad, b).unwrap_err();
        assert!(
            matches!(
                e,
                SceneError::Parameter {
                    name: "slope_deg",
                    ..
                }
            ),
            "{bad}: {e}"
        );
    }
    for bad in [f64::NAN, f64::INFINITY] {
        assert_eq!(
            Scene::new_slope(1.178, bad, b),
            Err(SceneError::NonFinite("slope_deg"))
        );
    }
    assert_eq!(Scene::new_slope(1.178, 20.0, b), Ok(Scene::slope()));
    assert!(Scene::new_slope(1.178, 79.9, b).is_ok());
    assert!(Scene::new_slope(f64::NAN, 20.0, b).is_err());
    assert!(Scene::new_slope(1.178, 20.0, [0.1, -0.1, 0.0, 1.0]).is_err());
    // `Scene::new` builds no slope scene (its angle would be 0).
    assert!(Scene::new(SceneKind::Slope, 1.178, 0.0, 0.0, b).is_err());
    // The other kinds carry no angle; a hand-edited scene is checked by `validate`.
    let mut flat = Scene::flat();
    flat.slope_deg = 5.0;
    assert!(flat.validate().is_err());
    let mut slope = Scene::slope();
    slope.slope_deg = 0.0;
    assert!(slope.validate().is_err());
    assert!(Scene::slope().validate().is_ok());
}

#[test]
fn placement_fitted_to_the_slope_is_seen_by_three_cameras_and_stays_below_the_water() {
    let rig = Rig::reference(160, 120).unwrap();
    let water = rig.interface.water_z;
    let z = water + 0.2;
    let area = placement::working_area(&rig, z, None).unwrap();
    // The other kinds keep the working area's bounds.
    assert_eq!(Scene::flat().fit_bounds(&rig, &area, 0.1), Ok(area.bounds));
    let s = Scene::slope().with_center(area.center).unwrap();
    let bounds = s.fit_bounds(&rig, &area, 0.1).unwrap();
    eprintln!("working area {:?}, slope bounds {bounds:?}", area.bounds);
    let reach = 0.1 / 20f64.to_radians().tan();
    assert!(bounds[0] >= area.center[0] - reach && bounds[1] <= area.center[0] + reach);
    assert!(bounds[2] >= area.bounds[2] && bounds[3] <= area.bounds[3]);
    assert!(
        bounds[1] - bounds[0] > 0.3 && bounds[3] - bounds[2] > 0.3,
        "{bounds:?}"
    );
    let s = Scene::new_slope(z, 20.0, bounds)
        .unwrap()
        .with_center(area.center)
        .unwrap();
    assert!(s.check_rig(&rig).is_ok());
    assert!(s.min_height() >= z - 0.1 - 1e-12 && s.max_height() <= z + 0.1 + 1e-12);
    let n = 57;
    for j in 0..=n {
        for i in 0..=n {
            let x = bounds[0] + (bounds[1] - bounds[0]) * i as f64 / n as f64;
            let y = bounds[2] + (bounds[3] - bounds[2]) * j as f64 / n as f64;
            let views = placement::views_of(&rig, x, y, s.height(x, y));
            assert!(views >= 3, "({x}, {y}) seen by {views} cameras");
        }
    }
}
