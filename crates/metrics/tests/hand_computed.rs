//! Hand-computed cases: every expected number below is worked out in the comments, not taken
//! from the implementation.

#![allow(clippy::needless_range_loop)] // k indexes several arrays at once

use aquamvs_metrics::{
    EvalOptions, MetricsError, ToleranceScore, evaluate, plane_fit, point_to_mesh_distances,
};

const Z: f64 = 1.178;

/// A square `[x0, x1] × [y0, y1]` at height `z`, split into `n × n` quads of two triangles.
fn plane_mesh(
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    z: f64,
    n: u32,
) -> (Vec<[f64; 3]>, Vec<[u32; 3]>) {
    let mut v = Vec::new();
    for j in 0..=n {
        for i in 0..=n {
            let x = x0 + (x1 - x0) * i as f64 / n as f64;
            let y = y0 + (y1 - y0) * j as f64 / n as f64;
            v.push([x, y, z]);
        }
    }
    let mut f = Vec::new();
    let idx = |i: u32, j: u32| j * (n + 1) + i;
    for j in 0..n {
        for i in 0..n {
            f.push([idx(i, j), idx(i + 1, j), idx(i + 1, j + 1)]);
            f.push([idx(i, j), idx(i + 1, j + 1), idx(i, j + 1)]);
        }
    }
    (v, f)
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol,
        "{what}: got {a}, expected {b} (± {tol})"
    );
}

fn score(r: &[ToleranceScore], tol: f64) -> ToleranceScore {
    *r.iter().find(|s| s.tolerance_mm == tol).unwrap()
}

/// 1000 points over a 1 m square at z = 1.178, 200 each at signed offsets
/// +0.5, -1.5, +2.5, -3.5, +7 mm. |d| = 0.5, 1.5, 2.5, 3.5, 7:
/// mean = 15/5 = 3; median = 2.5 (order statistics 499 and 500 are both 2.5);
/// population variance = (2.5² + 1.5² + 0.5² + 0.5² + 4²)/5 = 25/5 = 5, std = √5;
/// RMSE = √((0.25 + 2.25 + 6.25 + 12.25 + 49)/5) = √14; max = p90 = p99 = 7;
/// precision(1) = 20 %, precision(2) = 40 %, precision(5) = 80 %.
#[test]
fn points_offset_from_a_plane() {
    let (v, f) = plane_mesh(0.0, 1.0, 0.0, 1.0, Z, 7);
    let offsets_mm = [0.5, -1.5, 2.5, -3.5, 7.0];
    let mut pts = Vec::new();
    for k in 0..1000 {
        // Positions spread over the interior (a 40 × 25 grid), offsets cycling.
        let (i, j) = (k % 40, k / 40);
        let x = 0.05 + 0.9 * i as f64 / 39.0;
        let y = 0.05 + 0.9 * j as f64 / 24.0;
        pts.push([x, y, Z + offsets_mm[k % 5] * 1e-3]);
    }
    let r = evaluate(&pts, &v, &f, &EvalOptions::default()).unwrap();
    let tol = 1e-6; // mm; well inside the required 1e-3 mm
    close(r.mean_error_mm, 3.0, tol, "mean");
    close(r.median_error_mm, 2.5, tol, "median");
    close(r.std_error_mm, 5f64.sqrt(), tol, "std");
    close(r.rmse_mm, 14f64.sqrt(), tol, "rmse");
    close(r.max_error_mm, 7.0, tol, "max");
    close(r.p90_error_mm, 7.0, tol, "p90");
    close(r.p99_error_mm, 7.0, tol, "p99");
    assert_eq!(score(&r.by_tolerance, 1.0).precision_pct, 20.0);
    assert_eq!(score(&r.by_tolerance, 2.0).precision_pct, 40.0);
    assert_eq!(score(&r.by_tolerance, 5.0).precision_pct, 80.0);
    assert_eq!(r.accurate_completeness_pct, 20.0);
    assert_eq!(r.accurate_completeness_tolerance_mm, 1.0);
    // 1000 points on 10⁶ mm²: 0.1 %.
    close(r.raw_completeness_pct, 0.1, 1e-9, "raw completeness");
    close(r.mesh_area_mm2, 1e6, 1e-3, "area");
    assert_eq!(r.n_points, 1000);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

/// A 200 mm square, points on a 0.5 mm grid over its left half x ∈ [0, 100] mm, on the
/// surface. Precision is 100 % at every τ. A ground-truth sample is within τ of the points if
/// it lies in the covered half or in a band just right of it, of width
/// √(τ² − Δy²) with Δy the offset to the nearest grid row (≤ 0.25 mm): on average
/// ≈ 0.99 τ for τ = 1 and ≈ τ beyond. Recall(τ) ≈ (100 + τ)/200:
/// 50.5 %, 51 %, 52.5 % for τ = 1, 2, 5 (the samples are random: ±0.13 % at one sigma with
/// 160 000 of them, hence ±0.4 %).
#[test]
fn grid_covering_half_a_plane() {
    let (v, f) = plane_mesh(0.0, 0.2, 0.0, 0.2, Z, 4);
    let mut pts = Vec::new();
    for j in 0..=400 {
        for i in 0..=200 {
            pts.push([i as f64 * 0.5e-3, j as f64 * 0.5e-3, Z]);
        }
    }
    let opts = EvalOptions {
        gt_sample_density_per_mm2: 4.0,
        seed: 7,
        ..EvalOptions::default()
    };
    let r = evaluate(&pts, &v, &f, &opts).unwrap();
    assert_eq!(r.n_gt_samples, 160_000);
    close(r.gt_sample_density_per_mm2, 4.0, 1e-9, "density");
    for (tau, recall) in [(1.0, 50.5), (2.0, 51.0), (5.0, 52.5)] {
        let s = score(&r.by_tolerance, tau);
        assert_eq!(s.precision_pct, 100.0);
        close(s.recall_pct, recall, 0.4, &format!("recall({tau})"));
        let f = 2.0 * s.precision_pct * s.recall_pct / (s.precision_pct + s.recall_pct);
        close(s.fscore_pct, f, 1e-9, "F = 2PR/(P+R)");
        // With P = 100 and R ≈ 50, F ≈ 2·100·50/150 ≈ 66.7.
        close(s.fscore_pct, 200.0 * recall / (100.0 + recall), 0.4, "F");
    }
    // 201 × 401 points over 40 000 mm².
    close(
        r.raw_completeness_pct,
        201.0 * 401.0 / 40_000.0 * 100.0,
        1e-9,
        "raw",
    );
    close(r.mean_error_mm, 0.0, 1e-9, "mean");
    // DTU completeness: uncovered samples within 20 mm are at mean distance 10 mm from the
    // edge, covered ones at ≤ 0.35 mm: (100 · ~0.19 + 20 · 10) / 120 ≈ 1.8 mm.
    let c = r.dtu_completeness_mm.unwrap();
    assert!(c > 1.6 && c < 2.0, "DTU completeness {c}");
}

/// The same tolerance scores whatever the seed, within sampling noise; the same seed gives
/// the same numbers.
#[test]
fn sampling_is_seeded() {
    let (v, f) = plane_mesh(0.0, 0.1, 0.0, 0.1, Z, 2);
    let pts: Vec<[f64; 3]> = (0..=100)
        .flat_map(|j| (0..=50).map(move |i| [i as f64 * 1e-3, j as f64 * 1e-3, Z]))
        .collect();
    let run = |seed| {
        let o = EvalOptions {
            seed,
            ..EvalOptions::default()
        };
        evaluate(&pts, &v, &f, &o).unwrap()
    };
    let (a, b, c) = (run(1), run(1), run(2));
    assert_eq!(a, b);
    assert_ne!(a.by_tolerance[0].recall_pct, c.by_tolerance[0].recall_pct);
    close(
        a.by_tolerance[0].recall_pct,
        c.by_tolerance[0].recall_pct,
        1.5,
        "seeds agree",
    );
}

/// A plane tilted with unit normal n = (1, 2, 5)/√30 through c = (0.1, -0.2, 1.2): points
/// c + a·u + b·w + d·n (u, w in the plane) are at distance |d| from it.
/// |d| = 0.8 or 2.4 mm, half each (each at +d and −d): mean = 1.6, median = (0.8 + 2.4)/2 = 1.6, std = 0.8,
/// precision(1) = 50 %, precision(2) = 50 %, precision(5) = 100 %.
#[test]
fn tilted_plane() {
    let s30 = 30f64.sqrt();
    let n = [1.0 / s30, 2.0 / s30, 5.0 / s30];
    // u = (2, -1, 0)/√5 ⟂ n; w = n × u.
    let s5 = 5f64.sqrt();
    let u = [2.0 / s5, -1.0 / s5, 0.0];
    let w = [
        n[1] * u[2] - n[2] * u[1],
        n[2] * u[0] - n[0] * u[2],
        n[0] * u[1] - n[1] * u[0],
    ];
    let c = [0.1, -0.2, 1.2];
    let at = |a: f64, b: f64, d: f64| {
        [
            c[0] + a * u[0] + b * w[0] + d * n[0],
            c[1] + a * u[1] + b * w[1] + d * n[1],
            c[2] + a * u[2] + b * w[2] + d * n[2],
        ]
    };
    let v = vec![
        at(-0.3, -0.3, 0.0),
        at(0.3, -0.3, 0.0),
        at(0.3, 0.3, 0.0),
        at(-0.3, 0.3, 0.0),
    ];
    let f = vec![[0, 1, 2], [0, 2, 3]];
    // 200 positions, each with a point at +d and one at −d, |d| = 0.8 or 2.4 mm alternating.
    let pts: Vec<[f64; 3]> = (0..400)
        .map(|k| {
            let pos = k / 2;
            let a = -0.25 + 0.5 * (pos % 20) as f64 / 19.0;
            let b = -0.25 + 0.5 * (pos / 20) as f64 / 9.0;
            let d = [0.8e-3, 2.4e-3][pos % 2] * if k % 2 == 0 { 1.0 } else { -1.0 };
            at(a, b, d)
        })
        .collect();
    let r = evaluate(&pts, &v, &f, &EvalOptions::default()).unwrap();
    close(r.mean_error_mm, 1.6, 1e-6, "mean");
    close(r.median_error_mm, 1.6, 1e-6, "median");
    close(r.std_error_mm, 0.8, 1e-6, "std");
    assert_eq!(score(&r.by_tolerance, 1.0).precision_pct, 50.0);
    assert_eq!(score(&r.by_tolerance, 2.0).precision_pct, 50.0);
    assert_eq!(score(&r.by_tolerance, 5.0).precision_pct, 100.0);
    close(r.mesh_area_mm2, 600.0 * 600.0, 1e-3, "area");
    // The points' own plane is the tilted one: every position has a point at +d and one at −d,
    // so the scatter matrix has no cross term with n; the residuals are the offsets.
    let fit_n = r.plane_normal.unwrap();
    for k in 0..3 {
        close(fit_n[k], n[k], 1e-9, "plane normal");
    }
    // Residual RMS = √((0.8² + 2.4²)/2) = √3.2.
    close(
        r.plane_fit_rmse_mm.unwrap(),
        3.2f64.sqrt(),
        1e-6,
        "plane rmse",
    );
    close(r.plane_fit_max_error_mm.unwrap(), 2.4, 1e-6, "plane max");
}

/// A closed box [-0.1, 0.1] × [-0.2, 0.2] × [1.0, 1.3] (12 triangles). Distances are to the
/// surface, unsigned, for points inside and outside.
#[test]
fn closed_box() {
    let (x0, x1, y0, y1, z0, z1) = (-0.1, 0.1, -0.2, 0.2, 1.0, 1.3);
    let v = vec![
        [x0, y0, z0],
        [x1, y0, z0],
        [x1, y1, z0],
        [x0, y1, z0],
        [x0, y0, z1],
        [x1, y0, z1],
        [x1, y1, z1],
        [x0, y1, z1],
    ];
    let f = vec![
        [0, 2, 1],
        [0, 3, 2],
        [4, 5, 6],
        [4, 6, 7],
        [0, 1, 5],
        [0, 5, 4],
        [1, 2, 6],
        [1, 6, 5],
        [2, 3, 7],
        [2, 7, 6],
        [3, 0, 4],
        [3, 4, 7],
    ];
    let cases = [
        // Centre: nearest faces x = ±0.1 at 0.1 (y faces 0.2, z faces 0.15).
        ([0.0, 0.0, 1.15], 0.1),
        // Inside near x1: 0.1 - 0.05 = 0.05.
        ([0.05, 0.0, 1.15], 0.05),
        // Inside near the top z0 = 1.0: 1.02 - 1.0 = 0.02.
        ([0.0, 0.1, 1.02], 0.02),
        // Inside near the edge x1/y1: min(0.1 - 0.09, 0.2 - 0.17) = 0.01.
        ([0.09, 0.17, 1.15], 0.01),
        // Outside beyond the face x = 0.1: 0.05.
        ([0.15, 0.0, 1.15], 0.05),
        // Outside beyond the edge x1/y1: √(0.03² + 0.04²) = 0.05.
        ([0.13, 0.24, 1.15], 0.05),
        // Outside beyond the corner x1/y1/z1: √(0.02² + 0.02² + 0.01²) = 0.03.
        ([0.12, 0.22, 1.31], 0.03),
        // Far above: 1.0 - 0.0 = 1.0 (straight above the top face).
        ([0.0, 0.0, 0.0], 1.0),
        // On a face.
        ([0.1, 0.05, 1.2], 0.0),
    ];
    let pts: Vec<[f64; 3]> = cases.iter().map(|c| c.0).collect();
    let d = point_to_mesh_distances(&pts, &v, &f).unwrap();
    for (got, (p, want)) in d.iter().zip(&cases) {
        close(*got, *want, 1e-12, &format!("distance of {p:?}"));
    }
    // Surface area 2(0.2·0.4 + 0.2·0.3 + 0.4·0.3) m² = 0.52 m².
    let r = evaluate(&pts, &v, &f, &EvalOptions::default()).unwrap();
    close(r.mesh_area_mm2, 0.52e6, 1e-3, "box area");
}

/// Triangle A = (0,0,0), B = (1,0,0), C = (0,1,0) and a point in each Voronoi region.
#[test]
fn single_triangle_voronoi_regions() {
    let v = vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
    let f = vec![[0, 1, 2]];
    let r2 = 0.3 / 2f64.sqrt();
    let cases = [
        // Vertex A: (-0.3, -0.4, 1.2) → √(0.09 + 0.16 + 1.44) = 1.3.
        ([-0.3, -0.4, 1.2], 1.3),
        // Vertex B: p − B = (0.3, −0.4, 0) → 0.5.
        ([1.3, -0.4, 0.0], 0.5),
        // Vertex C: p − C = (−0.4, 0.3, 0) → 0.5.
        ([-0.4, 1.3, 0.0], 0.5),
        // Edge AB: below y = 0 by 0.3, above by 0.4 → 0.5.
        ([0.5, -0.3, 0.4], 0.5),
        // Edge AC: left of x = 0 by 0.3, below by 0.4 → 0.5.
        ([-0.3, 0.5, -0.4], 0.5),
        // Edge BC: midpoint (0.5, 0.5) moved 0.3 along the outward (1, 1)/√2 and 0.4 in z → 0.5.
        ([0.5 + r2, 0.5 + r2, 0.4], 0.5),
        // Face: straight below (0.2, 0.3) by 0.7.
        ([0.2, 0.3, -0.7], 0.7),
        // On the face.
        ([0.25, 0.25, 0.0], 0.0),
        // On edge BC's line beyond C: nearest is C, (−0.1, 1.1) − (0, 1) → √0.02.
        ([-0.1, 1.1, 0.0], 0.02f64.sqrt()),
    ];
    let pts: Vec<[f64; 3]> = cases.iter().map(|c| c.0).collect();
    let d = point_to_mesh_distances(&pts, &v, &f).unwrap();
    for (got, (p, want)) in d.iter().zip(&cases) {
        close(*got, *want, 1e-12, &format!("distance of {p:?}"));
    }
}

/// Crop to x ∈ [0.2, 0.4], y ∈ [0.2, 0.6] of a 1 m square: area 200 × 400 = 80 000 mm²;
/// points on a 10 mm grid over the whole square (101² = 10 201), of which 21 × 41 = 861 are
/// inside (bounds inclusive).
#[test]
fn crop_to_bounds() {
    let (v, f) = plane_mesh(0.0, 1.0, 0.0, 1.0, Z, 3);
    let pts: Vec<[f64; 3]> = (0..=100)
        .flat_map(|j| (0..=100).map(move |i| [i as f64 / 100.0, j as f64 / 100.0, Z + 1e-3]))
        .collect();
    let opts = EvalOptions {
        bounds: Some([0.2, 0.4, 0.2, 0.6]),
        tolerances_mm: vec![2.0, 10.0],
        ..EvalOptions::default()
    };
    let r = evaluate(&pts, &v, &f, &opts).unwrap();
    close(r.mesh_area_mm2, 80_000.0, 1e-6, "cropped area");
    assert_eq!(r.n_points, 861);
    assert_eq!(r.n_cropped_out, 10_201 - 861);
    close(
        r.raw_completeness_pct,
        861.0 / 80_000.0 * 100.0,
        1e-12,
        "raw",
    );
    close(r.mean_error_mm, 1.0, 1e-6, "mean");
    // Every cropped sample is within √(5² + 5² + 1²) ≈ 7.1 mm of a grid point.
    assert_eq!(score(&r.by_tolerance, 10.0).recall_pct, 100.0);
    assert_eq!(score(&r.by_tolerance, 10.0).precision_pct, 100.0);
    // At 2 mm: within 2 mm of a point means a horizontal offset ≤ √3 mm from a grid node:
    // π·3/100 ≈ 9.4 % of the area.
    close(
        score(&r.by_tolerance, 2.0).recall_pct,
        300.0 * std::f64::consts::PI / 100.0,
        0.5,
        "recall(2)",
    );
}

/// Plane fit on a tilted plane with ±σ checkerboard noise: normal exact, RMSE = max = σ.
/// Then Gaussian noise of σ = 0.5 mm on 10 000 points: RMSE ≈ σ (±3 %), normal within 1e-3.
#[test]
fn plane_fit_known_tilt_and_noise() {
    let s14 = 14f64.sqrt();
    let n = [-1.0 / s14, 2.0 / s14, 3.0 / s14]; // largest component positive
    let u = {
        let s = 5f64.sqrt();
        [2.0 / s, 1.0 / s, 0.0]
    };
    let w = [
        n[1] * u[2] - n[2] * u[1],
        n[2] * u[0] - n[0] * u[2],
        n[0] * u[1] - n[1] * u[0],
    ];
    let c = [0.0, 0.0, 1.178];
    let at = |a: f64, b: f64, d: f64| {
        [
            c[0] + a * u[0] + b * w[0] + d * n[0],
            c[1] + a * u[1] + b * w[1] + d * n[1],
            c[2] + a * u[2] + b * w[2] + d * n[2],
        ]
    };
    let sigma = 0.5e-3;
    let pts: Vec<[f64; 3]> = (0..100)
        .flat_map(|i| {
            (0..100).map(move |j| {
                let d = if (i + j) % 2 == 0 { sigma } else { -sigma };
                at(i as f64 * 0.003 - 0.15, j as f64 * 0.003 - 0.15, d)
            })
        })
        .collect();
    let fit = plane_fit(&pts).unwrap();
    for k in 0..3 {
        close(fit.normal[k], n[k], 1e-9, "normal");
    }
    close(fit.offset, n[2] * 1.178, 1e-9, "offset = n·c");
    close(fit.rmse_mm, 0.5, 1e-6, "rmse");
    close(fit.max_error_mm, 0.5, 1e-6, "max");

    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let noise = Normal::new(0.0, sigma).unwrap();
    let noisy: Vec<[f64; 3]> = (0..10_000)
        .map(|k| {
            let (i, j) = (k % 100, k / 100);
            at(
                i as f64 * 0.003 - 0.15,
                j as f64 * 0.003 - 0.15,
                noise.sample(&mut rng),
            )
        })
        .collect();
    let fit = plane_fit(&noisy).unwrap();
    close(fit.rmse_mm, 0.5, 0.015, "rmse of Gaussian noise");
    for k in 0..3 {
        close(fit.normal[k], n[k], 1e-3, "normal under noise");
    }
    // A horizontal patch has normal +Z (down into the water).
    let flat = [
        [0.0, 0.0, 1.0],
        [1.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
        [1.0, 1.0, 1.0],
    ];
    assert_eq!(plane_fit(&flat).unwrap().normal, [0.0, 0.0, 1.0]);
}

#[test]
fn plane_fit_undefined() {
    assert!(matches!(
        plane_fit(&[[0.0; 3], [1.0; 3]]),
        Err(MetricsError::PlaneUndefined(_))
    ));
    let line: Vec<[f64; 3]> = (0..10).map(|i| [i as f64, 2.0 * i as f64, 1.0]).collect();
    assert!(matches!(
        plane_fit(&line),
        Err(MetricsError::PlaneUndefined(_))
    ));
    assert!(matches!(
        plane_fit(&[[1.0; 3]; 5]),
        Err(MetricsError::PlaneUndefined(_))
    ));
}
