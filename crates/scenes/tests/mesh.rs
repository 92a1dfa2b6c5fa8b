//! Meshes lie on the analytic surface; surface samples are uniform by area and in bounds.

use aquamvs_scenes::{Scene, SceneError, SceneKind};

#[test]
fn mesh_vertices_lie_on_the_surface_and_cover_the_bounds() {
    for scene in [Scene::flat(), Scene::undulating()] {
        let mesh = scene.mesh(0.005).unwrap();
        // 0.5 m / 5 mm = 100 cells, 0.3 m / 5 mm = 60 cells.
        assert_eq!(mesh.vertices.len(), 101 * 61);
        assert_eq!(mesh.faces.len(), 2 * 100 * 60);
        for v in &mesh.vertices {
            assert!((v[2] - scene.height(v[0], v[1])).abs() < 1e-12);
            assert!(scene.in_bounds(v[0], v[1]));
        }
        let xs = mesh.vertices.iter().map(|v| v[0]);
        let ys = mesh.vertices.iter().map(|v| v[1]);
        assert_eq!(xs.clone().fold(f64::INFINITY, f64::min), -0.25);
        assert_eq!(xs.fold(f64::NEG_INFINITY, f64::max), 0.25);
        assert_eq!(ys.clone().fold(f64::INFINITY, f64::min), -0.15);
        assert_eq!(ys.fold(f64::NEG_INFINITY, f64::max), 0.15);
        // Every face index valid, every normal toward the cameras (−Z).
        for f in &mesh.faces {
            let [a, b, c] = f.map(|i| nalgebra::Vector3::from(mesh.vertices[i as usize]));
            assert!((b - a).cross(&(c - a)).z < 0.0);
        }
    }
    assert!((Scene::flat().mesh(0.005).unwrap().area() - 0.15).abs() < 1e-12);
}

#[test]
fn mesh_area_converges_to_the_surface_area() {
    // Surface area by a fine midpoint rule on the analytic area element.
    let s = Scene::undulating();
    let n = 2000;
    let b = s.bounds;
    let (dx, dy) = ((b[1] - b[0]) / n as f64, (b[3] - b[2]) / n as f64);
    let mut area = 0.0;
    for j in 0..n {
        for i in 0..n {
            let (_, hx, hy) =
                s.height_gradient(b[0] + (i as f64 + 0.5) * dx, b[2] + (j as f64 + 0.5) * dy);
            area += (1.0 + hx * hx + hy * hy).sqrt() * dx * dy;
        }
    }
    let mesh_area = s.mesh(0.001).unwrap().area();
    assert!(
        (mesh_area - area).abs() / area < 5e-4,
        "mesh {mesh_area}, analytic {area}"
    );
    assert!(
        area > 0.15 * 1.05,
        "the undulating surface is larger than its footprint"
    );
}

#[test]
fn mesh_spacing_is_validated() {
    let s = Scene::undulating();
    assert!(matches!(s.mesh(0.0), Err(SceneError::Parameter { .. })));
    assert!(matches!(s.mesh(-0.1), Err(SceneError::Parameter { .. })));
    assert!(matches!(s.mesh(f64::NAN), Err(SceneError::NonFinite(_))));
    assert!(matches!(s.mesh(1e-6), Err(SceneError::MeshTooLarge { .. })));
    // A flat scene: a spacing up to the larger side of the bounds gives one cell.
    let m = Scene::flat().mesh(0.5).unwrap();
    assert_eq!((m.vertices.len(), m.faces.len()), (4, 2));
    // Spacing not dividing the side: the largest one that does and is not larger.
    let m = s.mesh(0.007).unwrap();
    let dx = m.vertices[1][0] - m.vertices[0][0];
    assert!(dx <= 0.007 && dx > 0.0069, "dx {dx}");
    assert!(s.mesh_in([0.0, 0.0, 0.0, 1.0], 0.01).is_err());
    assert_eq!(s.mesh_size(0.007).unwrap(), (73 * 44, 2 * 72 * 43));
    assert_eq!(
        s.mesh_size(0.007).unwrap(),
        (m.vertices.len() as u64, m.faces.len() as u64)
    );
}

/// `--kind undulating --mesh-spacing 100` made a two-triangle "ground truth" for a surface
/// with 5 cm waves.
#[test]
fn a_mesh_coarser_than_the_surface_allows_is_refused() {
    let s = Scene::undulating();
    assert_eq!(s.max_mesh_spacing(), 0.025);
    for spacing in [100.0, 10.0, 0.026] {
        let e = s.mesh(spacing).unwrap_err();
        assert!(matches!(e, SceneError::MeshTooCoarse { .. }), "{e}");
        assert!(e.to_string().contains("half the wavelength"), "{e}");
        assert!(s.mesh_size(spacing).is_err());
    }
    assert!(s.mesh(0.025).is_ok());
    // Flat: anything up to the larger side of the bounds (0.5 m).
    let f = Scene::flat();
    assert_eq!(f.max_mesh_spacing(), 0.5);
    assert!(matches!(
        f.mesh(100.0),
        Err(SceneError::MeshTooCoarse { .. })
    ));
    assert_eq!(f.mesh_warning(0.5), None);
    // Between λ/8 and λ/2 the mesh is accepted with a warning naming the deviation.
    assert_eq!(s.mesh_warning(0.005), None);
    assert_eq!(s.mesh_warning(s.wavelength / 8.0), None);
    let w = s.mesh_warning(0.02).unwrap();
    assert!(w.contains("mm") && w.contains("0.00625"), "{w}");
}

#[test]
fn mesh_deviation_bounds_the_real_distance_to_the_surface() {
    let s = Scene::undulating();
    for spacing in [0.002, 0.005, 0.01, 0.02] {
        let m = s.mesh(spacing).unwrap();
        // Largest vertical gap between the mesh and the surface at triangle centroids and
        // edge midpoints.
        let mut worst: f64 = 0.0;
        for f in &m.faces {
            let [a, b, c] = f.map(|i| m.vertices[i as usize]);
            for (w0, w1, w2) in [
                (1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0),
                (0.5, 0.5, 0.0),
                (0.0, 0.5, 0.5),
            ] {
                let p: Vec<f64> = (0..3).map(|k| w0 * a[k] + w1 * b[k] + w2 * c[k]).collect();
                worst = worst.max((p[2] - s.height(p[0], p[1])).abs());
            }
        }
        let est = s.mesh_deviation(spacing);
        assert!(worst <= est * 1.01, "spacing {spacing}: {worst} > {est}");
        assert!(worst >= est * 0.2, "spacing {spacing}: {worst} << {est}");
    }
    assert_eq!(Scene::flat().mesh_deviation(0.3), 0.0);
}

#[test]
fn mesh_converts_to_parry() {
    let m = Scene::undulating().mesh(0.01).unwrap();
    let t = m.to_parry().unwrap();
    assert_eq!(t.num_triangles(), m.faces.len());
}

#[test]
fn surface_samples_are_in_bounds_on_the_surface_reproducible_and_uniform_by_area() {
    let s = Scene::undulating();
    let pts = s.sample_surface(40_000, 42);
    assert_eq!(pts.len(), 40_000);
    assert_eq!(pts, s.sample_surface(40_000, 42));
    assert_ne!(pts, s.sample_surface(40_000, 43));
    for p in &pts {
        assert!(s.in_bounds(p[0], p[1]));
        assert!((p[2] - s.height(p[0], p[1])).abs() < 1e-12);
    }
    // Counts per 10×6 grid cell against the cell's surface area (chi-square, 59 d.o.f.:
    // the 99.9 % quantile is about 98).
    let b = s.bounds;
    let (nx, ny) = (10, 6);
    let mut counts = vec![0.0f64; nx * ny];
    for p in &pts {
        let i = (((p[0] - b[0]) / (b[1] - b[0]) * nx as f64) as usize).min(nx - 1);
        let j = (((p[1] - b[2]) / (b[3] - b[2]) * ny as f64) as usize).min(ny - 1);
        counts[j * nx + i] += 1.0;
    }
    let mut areas = vec![0.0f64; nx * ny];
    let sub = 100;
    for (k, a) in areas.iter_mut().enumerate() {
        let (i, j) = (k % nx, k / nx);
        let (cw, ch) = ((b[1] - b[0]) / nx as f64, (b[3] - b[2]) / ny as f64);
        for jj in 0..sub {
            for ii in 0..sub {
                let x = b[0] + cw * (i as f64 + (ii as f64 + 0.5) / sub as f64);
                let y = b[2] + ch * (j as f64 + (jj as f64 + 0.5) / sub as f64);
                let (_, hx, hy) = s.height_gradient(x, y);
                *a += (1.0 + hx * hx + hy * hy).sqrt();
            }
        }
    }
    let total: f64 = areas.iter().sum();
    let chi2: f64 = counts
        .iter()
        .zip(&areas)
        .map(|(c, a)| {
            let e = a / total * pts.len() as f64;
            (c - e).powi(2) / e
        })
        .sum();
    assert!(chi2 < 98.0, "chi-square {chi2}");
}

#[test]
fn area_weighting_shows_on_a_steep_surface() {
    // Steep ridges (slope up to 2.5): samples crowd where the surface is steep.
    let s = Scene::new(
        SceneKind::Undulating,
        1.2,
        0.02,
        0.05,
        [0.0, 0.05, 0.0, 0.01],
    )
    .unwrap();
    let steep = |x: f64| (2.0 * std::f64::consts::PI * x / 0.05).cos().abs() > 0.7;
    let pts = s.sample_surface(20_000, 1);
    let got = pts.iter().filter(|p| steep(p[0])).count() as f64 / pts.len() as f64;
    // Expected share of the surface area, by a midpoint rule.
    let (n, b) = (400, s.bounds);
    let (mut all, mut part) = (0.0, 0.0);
    for j in 0..n {
        for i in 0..n {
            let x = b[0] + (b[1] - b[0]) * (i as f64 + 0.5) / n as f64;
            let y = b[2] + (b[3] - b[2]) * (j as f64 + 0.5) / n as f64;
            let (_, hx, hy) = s.height_gradient(x, y);
            let e = (1.0 + hx * hx + hy * hy).sqrt();
            all += e;
            if steep(x) {
                part += e;
            }
        }
    }
    let want = part / all;
    // Uniform in (x, y) would give ~0.506; 4 standard errors of 20 000 samples ≈ 0.014.
    assert!(want > 0.55, "expected share {want}");
    assert!(
        (got - want).abs() < 0.014,
        "steep share {got}, expected {want}"
    );
}
