//! Benchmark of point → mesh distances and of the whole evaluation on large inputs
//! (`harness = false`: prints timings, asserts nothing about speed).
//!
//! ```text
//! cargo bench -p aquamvs-metrics --bench point_to_mesh                  # 1M points, ~100k triangles
//! cargo bench -p aquamvs-metrics --bench point_to_mesh -- --points 200000
//! cargo bench -p aquamvs-metrics --bench point_to_mesh -- --write-ply /tmp/eval  # also writes
//!     /tmp/eval/mesh.ply and /tmp/eval/points.ply (binary) for `cargo xtask evaluate`
//! ```
//!
//! The surface is the undulating scene of the workspace (z = 1.178 + A(sin 2πx/λ +
//! sin 2πy/1.3λ), A = 5 mm, λ = 5 cm) over 0.5 m × 0.5 m, 224 × 224 vertices (99 458
//! triangles); the points are surface samples with Gaussian noise (σ = 1 mm) and 2 % outliers
//! up to 5 cm away.

use std::time::Instant;

use aquamvs_metrics::{EvalOptions, MeshIndex, PointTree, evaluate, sample_mesh};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

fn surface(n: u32) -> (Vec<[f64; 3]>, Vec<[u32; 3]>) {
    let (a, lambda) = (5e-3, 0.05);
    let tau = std::f64::consts::TAU;
    let mut v = Vec::new();
    for j in 0..n {
        for i in 0..n {
            let x = -0.25 + 0.5 * i as f64 / (n - 1) as f64;
            let y = -0.25 + 0.5 * j as f64 / (n - 1) as f64;
            let z = 1.178 + a * ((tau * x / lambda).sin() + (tau * y / (1.3 * lambda)).sin());
            v.push([x, y, z]);
        }
    }
    let mut f = Vec::new();
    for j in 0..n - 1 {
        for i in 0..n - 1 {
            let k = j * n + i;
            f.push([k, k + 1, k + n + 1]);
            f.push([k, k + n + 1, k + n]);
        }
    }
    (v, f)
}

fn cloud(v: &[[f64; 3]], f: &[[u32; 3]], n: usize, outliers: f64) -> Vec<[f64; 3]> {
    let mut pts = sample_mesh(v, f, n, 1);
    let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    let noise = Normal::new(0.0, 1e-3).unwrap();
    for p in &mut pts {
        if rng.random::<f64>() < outliers {
            p[2] += rng.random_range(-0.05..0.05);
        } else {
            for c in p.iter_mut() {
                *c += noise.sample(&mut rng);
            }
        }
    }
    pts
}

fn time<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    println!("{label:<44} {:>9.1} ms", t.elapsed().as_secs_f64() * 1e3);
    r
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let n_points: usize = arg("--points")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let grid: u32 = arg("--grid").and_then(|s| s.parse().ok()).unwrap_or(224);

    let (v, f) = surface(grid);
    let outliers: f64 = arg("--outliers")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.02);
    let pts = cloud(&v, &f, n_points, outliers);
    println!(
        "point_to_mesh: {} points ({:.0} % outliers), {} triangles, {} rayon threads",
        pts.len(),
        outliers * 100.0,
        f.len(),
        rayon::current_num_threads()
    );
    if let Some(dir) = arg("--write-ply") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("create the output folder");
        aquamvs_io::ply::write_mesh(&dir.join("mesh.ply"), &v, &f).expect("write mesh.ply");
        aquamvs_io::ply::write_points(&dir.join("points.ply"), &pts).expect("write points.ply");
        println!("wrote {0}/mesh.ply and {0}/points.ply", dir.display());
        for _ in 0..2 {
            let back = time("aquamvs_io::ply::read (points.ply)", || {
                aquamvs_io::ply::read(&dir.join("points.ply")).expect("read points.ply")
            });
            assert_eq!(back.vertices.len(), pts.len());
        }
    }

    for round in 0..2 {
        println!("-- round {round}");
        let index = time("MeshIndex::new (validate + BVH)", || {
            MeshIndex::new(&v, &f).unwrap()
        });
        let d = time("distances (BVH, rayon)", || index.distances(&pts));
        let tree = time("PointTree::new (k-d tree)", || PointTree::new(&pts));
        let samples = time("sample_mesh (250 000 GT samples)", || {
            sample_mesh(&v, &f, 250_000, 3)
        });
        let nn = time("nearest_within 20 mm (250k GT samples)", || {
            use rayon::prelude::*;
            samples
                .par_iter()
                .map(|q| tree.nearest_within(q, 0.02))
                .filter(|d| d.is_some())
                .count()
        });
        let r = time("evaluate (whole, default options)", || {
            evaluate(&pts, &v, &f, &EvalOptions::default()).unwrap()
        });
        let mean = d.iter().sum::<f64>() / d.len() as f64 * 1e3;
        println!(
            "   check: mean {mean:.4} mm (report {:.4}), {} of 250k samples near points, \
             {} GT samples in evaluate, precision(1 mm) {:.2} %, recall(1 mm) {:.2} %",
            r.mean_error_mm,
            nn,
            r.n_gt_samples,
            r.by_tolerance[0].precision_pct,
            r.by_tolerance[0].recall_pct
        );
    }
}
