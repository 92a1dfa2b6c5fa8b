//! Bad input gives a typed error or a clearly reported result, never a panic or a NaN.

use aquamvs_metrics::{
    AccuracyReport, EvalOptions, MetricsError, evaluate, point_to_mesh_distances,
};

fn square() -> (Vec<[f64; 3]>, Vec<[u32; 3]>) {
    (
        vec![
            [0.0, 0.0, 1.0],
            [1.0, 0.0, 1.0],
            [1.0, 1.0, 1.0],
            [0.0, 1.0, 1.0],
        ],
        vec![[0, 1, 2], [0, 2, 3]],
    )
}

fn pts() -> Vec<[f64; 3]> {
    vec![
        [0.2, 0.2, 1.001],
        [0.5, 0.5, 1.0],
        [0.7, 0.1, 0.997],
        [0.1, 0.9, 1.002],
    ]
}

fn opts() -> EvalOptions {
    EvalOptions::default()
}

/// No field of the JSON is null (serde_json writes NaN and ±inf as null) except the
/// documented options, and the JSON reads back into a report.
fn check_json(r: &AccuracyReport) {
    let s = serde_json::to_string(r).unwrap();
    let back: AccuracyReport = serde_json::from_str(&s).unwrap();
    assert_eq!(back.n_points, r.n_points);
    assert_eq!(back.by_tolerance.len(), r.by_tolerance.len());
    assert!(back.by_tolerance.iter().all(|t| t.fscore_pct.is_finite()));
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    for (k, val) in v.as_object().unwrap() {
        let optional = matches!(
            k.as_str(),
            "bounds"
                | "plane_fit_rmse_mm"
                | "plane_fit_max_error_mm"
                | "plane_normal"
                | "dtu_accuracy_mm"
                | "dtu_completeness_mm"
        );
        assert!(optional || !val.is_null(), "{k} is null");
    }
}

#[test]
fn empty_cloud() {
    let (v, f) = square();
    let e = evaluate(&[], &v, &f, &opts()).unwrap_err();
    assert_eq!(
        e,
        MetricsError::EmptyCloud {
            n_input: 0,
            n_nonfinite: 0
        }
    );
    let nan = [[f64::NAN, 0.0, 0.0], [0.0, f64::INFINITY, 0.0]];
    let e = evaluate(&nan, &v, &f, &opts()).unwrap_err();
    assert_eq!(
        e,
        MetricsError::EmptyCloud {
            n_input: 2,
            n_nonfinite: 2
        }
    );
    assert!(e.to_string().contains("2 dropped as NaN/inf"), "{e}");
}

#[test]
fn nonfinite_points_are_dropped_counted_and_warned() {
    let (v, f) = square();
    let mut p = pts();
    p.push([f64::NAN, 0.5, 1.0]);
    p.push([0.5, f64::NEG_INFINITY, 1.0]);
    p.push([0.5, 0.5, f64::INFINITY]);
    let r = evaluate(&p, &v, &f, &opts()).unwrap();
    assert_eq!(r.n_points_input, 7);
    assert_eq!(r.n_dropped_nonfinite, 3);
    assert_eq!(r.n_points, 4);
    // (1 + 0 + 3 + 2)/4 mm.
    assert!((r.mean_error_mm - 1.5).abs() < 1e-9, "{}", r.mean_error_mm);
    assert_eq!(r.warnings.len(), 1);
    assert!(r.warnings[0].contains("3 of 7 points"), "{:?}", r.warnings);
    check_json(&r);
}

#[test]
fn bad_meshes() {
    let p = pts();
    assert_eq!(
        evaluate(&p, &[[0.0; 3]; 3], &[], &opts()).unwrap_err(),
        MetricsError::NoTriangles
    );
    // A point, a segment, and a triangle with all vertices collinear.
    let v = vec![[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [2.0, 0.0, 1.0]];
    let f = vec![[0, 0, 0], [0, 1, 1], [0, 1, 2]];
    assert_eq!(
        evaluate(&p, &v, &f, &opts()).unwrap_err(),
        MetricsError::AllTrianglesDegenerate { n: 3 }
    );
    let (v, f) = square();
    let mut f_bad = f.clone();
    f_bad.push([0, 1, 9]);
    assert_eq!(
        evaluate(&p, &v, &f_bad, &opts()).unwrap_err(),
        MetricsError::FaceIndexOutOfRange {
            face: 2,
            index: 9,
            n_vertices: 4
        }
    );
    let mut v_bad = v.clone();
    v_bad[2][1] = f64::NAN;
    assert_eq!(
        evaluate(&p, &v_bad, &f, &opts()).unwrap_err(),
        MetricsError::NonFiniteVertex { index: 2 }
    );
}

/// Degenerate faces among good ones are ignored, counted and warned about.
#[test]
fn some_degenerate_triangles() {
    let (v, mut f) = square();
    f.push([1, 1, 2]);
    let r = evaluate(&pts(), &v, &f, &opts()).unwrap();
    assert_eq!(r.n_triangles, 3);
    assert_eq!(r.n_degenerate_triangles, 1);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("1 of 3 mesh triangles"))
    );
    assert!((r.mesh_area_mm2 - 1e6).abs() < 1e-3);
    check_json(&r);
}

#[test]
fn bad_options() {
    let (v, f) = square();
    let p = pts();
    let with = |o: EvalOptions| evaluate(&p, &v, &f, &o).unwrap_err();
    assert_eq!(
        with(EvalOptions {
            tolerances_mm: vec![],
            ..opts()
        }),
        MetricsError::NoTolerances
    );
    for t in [0.0, -1.0, f64::INFINITY] {
        assert_eq!(
            with(EvalOptions {
                tolerances_mm: vec![1.0, t],
                ..opts()
            }),
            MetricsError::InvalidTolerance(t)
        );
    }
    let e = with(EvalOptions {
        tolerances_mm: vec![f64::NAN],
        ..opts()
    });
    assert!(matches!(e, MetricsError::InvalidTolerance(t) if t.is_nan()));
    for b in [
        [1.0, 0.0, 0.0, 1.0],
        [0.0, 1.0, 0.5, 0.5],
        [0.0, f64::NAN, 0.0, 1.0],
    ] {
        let e = with(EvalOptions {
            bounds: Some(b),
            ..opts()
        });
        assert!(matches!(e, MetricsError::InvalidBounds(_)), "{e}");
    }
    for d in [0.0, -2.0, f64::NAN, f64::INFINITY] {
        let e = with(EvalOptions {
            gt_sample_density_per_mm2: d,
            ..opts()
        });
        assert!(matches!(e, MetricsError::InvalidDensity(_)), "{e}");
    }
}

#[test]
fn nothing_inside_the_bounds() {
    let (v, f) = square();
    // No point inside.
    let e = evaluate(
        &pts(),
        &v,
        &f,
        &EvalOptions {
            bounds: Some([0.3, 0.4, 0.3, 0.4]),
            ..opts()
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, MetricsError::NoPointsInBounds { n_finite: 4, .. }),
        "{e}"
    );
    // Points inside, but no mesh there.
    let far = [[5.5, 5.5, 1.0]];
    let e = evaluate(
        &far,
        &v,
        &f,
        &EvalOptions {
            bounds: Some([5.0, 6.0, 5.0, 6.0]),
            ..opts()
        },
    )
    .unwrap_err();
    assert!(matches!(e, MetricsError::NoMeshInBounds { .. }), "{e}");
}

/// Tiny clouds: one point (plane undefined: reported as absent with a warning, no NaN);
/// a point far from everything (recall 0, precision 0, F 0, DTU means absent).
#[test]
fn tiny_and_far_clouds() {
    let (v, f) = square();
    let r = evaluate(&[[0.5, 0.5, 1.0]], &v, &f, &opts()).unwrap();
    assert_eq!(r.plane_fit_rmse_mm, None);
    assert!(r.warnings.iter().any(|w| w.contains("plane fit")));
    assert_eq!(r.std_error_mm, 0.0);
    check_json(&r);

    let r = evaluate(&[[0.5, 0.5, 3.0], [0.5, 0.6, 3.0]], &v, &f, &opts()).unwrap();
    for s in &r.by_tolerance {
        assert_eq!(
            (s.precision_pct, s.recall_pct, s.fscore_pct),
            (0.0, 0.0, 0.0)
        );
    }
    assert_eq!(r.dtu_accuracy_mm, None);
    assert_eq!(r.dtu_completeness_mm, None);
    assert!((r.mean_error_mm - 2000.0).abs() < 1e-9);
    check_json(&r);
}

#[test]
fn distances_reject_nonfinite_points() {
    let (v, f) = square();
    let e = point_to_mesh_distances(&[[0.0; 3], [0.0, f64::NAN, 0.0]], &v, &f).unwrap_err();
    assert_eq!(e, MetricsError::NonFinitePoint { index: 1 });
}
