//! Height-field meshing against known surfaces: exact heights on a plane, bounded error on a
//! slope, holes left open, upward normals.

use aquamvs_pipeline::{SurfaceOptions, height_field_surface};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Random points on z = f(x, y) over [0, 0.1] × [0, 0.06], except a disc of radius 1 cm
/// around (0.05, 0.03).
fn sample(f: impl Fn(f64, f64) -> f64, n: usize) -> Vec<[f64; 3]> {
    let mut rng = StdRng::seed_from_u64(3);
    let mut out = Vec::new();
    while out.len() < n {
        let (x, y) = (rng.random_range(0.0..0.1), rng.random_range(0.0..0.06));
        if (x - 0.05f64).hypot(y - 0.03) > 0.01 {
            out.push([x, y, f(x, y)]);
        }
    }
    out
}

#[test]
fn plane_with_a_hole() {
    let pts = sample(|_, _| 1.2, 60_000);
    let mesh = height_field_surface(&pts, &SurfaceOptions::default()).unwrap();
    assert!(!mesh.faces.is_empty());
    for v in &mesh.vertices {
        assert_eq!(v[2], 1.2);
        // No vertex is invented inside the hole (cell centres > 1 cell inside it are empty).
        assert!(
            (v[0] - 0.05).hypot(v[1] - 0.03) > 0.01 - 0.003,
            "vertex {v:?} in the hole"
        );
    }
    // Most of the 34×20 grid is meshed: area of the triangles ≈ area covered minus the hole.
    let area: f64 = mesh
        .faces
        .iter()
        .map(|f| {
            let [a, b, c] = f.map(|i| mesh.vertices[i as usize]);
            let (u, v) = ([b[0] - a[0], b[1] - a[1]], [c[0] - a[0], c[1] - a[1]]);
            // Signed: negative z of the normal means it points up (−Z).
            0.5 * (u[0] * v[1] - u[1] * v[0])
        })
        .sum();
    assert!(area < 0.0, "normals must point up (−Z)");
    let expected = 0.1 * 0.06 - std::f64::consts::PI * 0.01 * 0.01;
    assert!(
        (-area / expected - 1.0).abs() < 0.15,
        "meshed area {} vs {expected}",
        -area
    );
}

#[test]
fn sloped_surface_heights_are_close_to_the_truth() {
    let f = |x: f64, y: f64| 1.2 + 0.2 * x - 0.1 * y;
    let pts = sample(f, 60_000);
    let mesh = height_field_surface(&pts, &SurfaceOptions::default()).unwrap();
    let mut err: Vec<f64> = mesh
        .vertices
        .iter()
        .map(|v| (v[2] - f(v[0], v[1])).abs())
        .collect();
    err.sort_by(f64::total_cmp);
    // ~18 points per 3 mm cell on a 0.2 slope: the median's offset from the centre value is a
    // fraction of 0.2 · 3 mm.
    assert!(err[err.len() / 2] < 1e-4, "median {}", err[err.len() / 2]);
    assert!(err[err.len() - 1] < 4e-4, "max {}", err[err.len() - 1]);
}

#[test]
fn sparse_cells_are_holes_and_bad_options_are_errors() {
    // Two isolated points: no cell reaches min_points, no mesh.
    let mesh = height_field_surface(
        &[[0.0, 0.0, 1.0], [0.5, 0.5, 1.0]],
        &SurfaceOptions::default(),
    )
    .unwrap();
    assert!(mesh.vertices.is_empty() && mesh.faces.is_empty());
    assert!(
        height_field_surface(&[], &SurfaceOptions::default())
            .unwrap()
            .faces
            .is_empty()
    );
    let bad = SurfaceOptions {
        cell_size: 0.0,
        ..SurfaceOptions::default()
    };
    assert!(height_field_surface(&[[0.0, 0.0, 1.0]], &bad).is_err());
    // Outliers in a cell do not move its median.
    let mut pts = sample(|_, _| 1.2, 60_000);
    pts.extend((0..3).map(|_| [0.0151, 0.0151, 1.5]));
    let mesh = height_field_surface(&pts, &SurfaceOptions::default()).unwrap();
    assert!(mesh.vertices.iter().all(|v| v[2] == 1.2));
}
