//! Mesh sampling and the spatial indexes, against simple independent oracles.

use aquamvs_metrics::{
    MeshIndex, PointTree, point_to_mesh_distances, sample_mesh, sample_mesh_density,
};
use rand::{Rng, SeedableRng};

/// Two triangles of areas 1/2 and 3/2 (m²): a quarter of the samples fall on the first.
/// Uniform within a triangle: the sample mean tends to the centroid.
#[test]
fn area_proportional_and_uniform() {
    let v = vec![
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [10.0, 0.0, 0.0],
        [13.0, 0.0, 0.0],
        [10.0, 1.0, 0.0],
    ];
    let f = vec![[0, 1, 2], [3, 4, 5]];
    let n = 200_000;
    let s = sample_mesh(&v, &f, n, 42);
    assert_eq!(s.len(), n);
    let first: Vec<&[f64; 3]> = s.iter().filter(|p| p[0] < 5.0).collect();
    let frac = first.len() as f64 / n as f64;
    // Binomial σ = √(0.25 · 0.75 / n) ≈ 0.001.
    assert!(
        (frac - 0.25).abs() < 0.005,
        "fraction on the small triangle {frac}"
    );
    let mx = first.iter().map(|p| p[0]).sum::<f64>() / first.len() as f64;
    let my = first.iter().map(|p| p[1]).sum::<f64>() / first.len() as f64;
    // Centroid (1/3, 1/3); σ of the mean ≈ 0.24/√50 000 ≈ 0.001.
    assert!((mx - 1.0 / 3.0).abs() < 0.005 && (my - 1.0 / 3.0).abs() < 0.005);
    // Inside the triangle x, y ≥ 0, x + y ≤ 1.
    assert!(
        first
            .iter()
            .all(|p| p[0] >= 0.0 && p[1] >= 0.0 && p[0] + p[1] <= 1.0 + 1e-12)
    );
    // Every sample is on the mesh.
    let d = point_to_mesh_distances(&s[..1000], &v, &f).unwrap();
    assert!(d.iter().all(|&d| d < 1e-12));
    // Seeded.
    assert_eq!(sample_mesh(&v, &f, 1000, 42), s[..1000].to_vec());
    assert_ne!(sample_mesh(&v, &f, 1000, 43), s[..1000].to_vec());
    // Density: 2 m² = 2·10⁶ mm² at 0.01 per mm².
    assert_eq!(sample_mesh_density(&v, &f, 0.01, 1).len(), 20_000);
}

#[test]
fn sampling_skips_bad_faces() {
    let v = vec![
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [f64::NAN, 0.0, 0.0],
    ];
    assert!(sample_mesh(&v, &[], 10, 0).is_empty());
    assert!(sample_mesh(&v, &[[0, 1, 1]], 10, 0).is_empty());
    let s = sample_mesh(&v, &[[0, 1, 9], [0, 1, 3], [0, 1, 2]], 10, 0);
    assert_eq!(s.len(), 10);
    assert!(sample_mesh_density(&v, &[[0, 1, 2]], f64::NAN, 0).is_empty());
}

/// The BVH query against the minimum over one-triangle meshes (no BVH pruning at all), on a
/// random mesh of 2 000 triangles and 2 000 points around it, some far away.
#[test]
fn bvh_matches_exhaustive_search() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut v = Vec::new();
    let mut f = Vec::new();
    for t in 0..2000u32 {
        let c = [
            rng.random::<f64>(),
            rng.random::<f64>(),
            1.0 + rng.random::<f64>() * 0.2,
        ];
        for _ in 0..3 {
            v.push([
                c[0] + rng.random_range(-0.03..0.03),
                c[1] + rng.random_range(-0.03..0.03),
                c[2] + rng.random_range(-0.03..0.03),
            ]);
        }
        f.push([3 * t, 3 * t + 1, 3 * t + 2]);
    }
    let pts: Vec<[f64; 3]> = (0..2000)
        .map(|k| {
            let s = if k % 10 == 0 { 5.0 } else { 1.2 };
            [
                rng.random_range(-0.1..1.1) * s,
                rng.random_range(-0.1..1.1) * s,
                rng.random_range(0.8..1.4) * s,
            ]
        })
        .collect();
    let index = MeshIndex::new(&v, &f).unwrap();
    let fast = index.distances(&pts);
    let mut slow = vec![f64::INFINITY; pts.len()];
    for tri in &f {
        let one = point_to_mesh_distances(&pts, &v, &[*tri]).unwrap();
        for (s, d) in slow.iter_mut().zip(one) {
            *s = s.min(d);
        }
    }
    for (a, b) in fast.iter().zip(&slow) {
        assert!(
            (a - b).abs() <= 1e-12 * b.max(1.0),
            "bvh {a} vs exhaustive {b}"
        );
    }
}

/// The k-d tree against brute force, with and without a radius.
#[test]
fn kd_tree_matches_brute_force() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let pts: Vec<[f64; 3]> = (0..20_000)
        .map(|_| {
            [
                rng.random(),
                rng.random::<f64>() * 0.5,
                1.0 + rng.random::<f64>() * 0.01,
            ]
        })
        .collect();
    let tree = PointTree::new(&pts);
    assert_eq!(tree.len(), pts.len());
    for _ in 0..500 {
        let q = [
            rng.random_range(-0.1..1.1),
            rng.random_range(-0.1..0.6),
            1.0,
        ];
        let brute = pts
            .iter()
            .map(|p| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt())
            .fold(f64::INFINITY, f64::min);
        let got = tree.nearest_within(&q, 10.0).unwrap();
        assert!((got - brute).abs() < 1e-15, "{got} vs {brute}");
        let r = 0.004;
        assert_eq!(tree.nearest_within(&q, r).is_some(), brute <= r);
    }
    assert!(PointTree::new(&[]).nearest_within(&[0.0; 3], 1.0).is_none());
}

/// Many points at one place (a collapsed reconstruction) next to a few distinct ones: the
/// answers match brute force (and the search does not degrade to visiting every point).
#[test]
fn kd_tree_with_duplicates() {
    let mut pts = vec![[0.5, 0.5, 1.0]; 200_000];
    pts.extend([[0.0, 0.0, 1.0], [1.0, 0.2, 1.1], [0.51, 0.5, 1.0]]);
    let tree = PointTree::new(&pts);
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    for _ in 0..200 {
        let q = [rng.random::<f64>(), rng.random::<f64>(), 1.0];
        let brute = pts
            .iter()
            .map(|p| ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2) + (p[2] - q[2]).powi(2)).sqrt())
            .fold(f64::INFINITY, f64::min);
        assert!((tree.nearest_within(&q, 5.0).unwrap() - brute).abs() < 1e-15);
    }
}
