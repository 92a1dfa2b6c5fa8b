//! An accuracy report of `aquamvs_metrics::evaluate` as terminal tables.

use aquamvs_metrics::AccuracyReport;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

fn opt(v: Option<f64>, what: &str) -> String {
    v.map_or_else(|| format!("n/a ({what})"), |v| format!("{v:.4}"))
}

/// The readable report of `cargo xtask evaluate`: a summary line naming the point cloud and
/// the mesh, the metrics, the scores by tolerance.
///
/// `planar_truth`: whether the ground truth is a plane. Only then is the plane fit of the
/// points an accuracy figure (`plane_fit_*`); otherwise the same numbers are labelled as the
/// points' own flatness, with a note.
pub fn tables(r: &AccuracyReport, points: &str, mesh: &str, planar_truth: bool) -> String {
    let (rmse, max, normal) = if planar_truth {
        (
            "plane_fit_rmse_mm",
            "plane_fit_max_error_mm",
            "plane normal",
        )
    } else {
        (
            "points_own_flatness_rmse_mm",
            "points_own_flatness_max_mm",
            "points' own plane normal",
        )
    };
    let mut out = format!(
        "{} vs {}\n{} points evaluated ({} given, {} dropped as NaN/inf, {} outside the bounds); \
         mesh {} triangles, {:.1} mm² evaluated{}\n",
        points,
        mesh,
        r.n_points,
        r.n_points_input,
        r.n_dropped_nonfinite,
        r.n_cropped_out,
        r.n_triangles,
        r.mesh_area_mm2,
        r.bounds
            .map(|b| format!(", bounds x [{}, {}] y [{}, {}] m", b[0], b[1], b[2], b[3]))
            .unwrap_or_default()
    );

    let mut b = Builder::default();
    b.push_record(["Metric", "Value", "Unit"]);
    let mut row = |name: &str, value: String, unit: &str| {
        b.push_record([name.to_owned(), value, unit.to_owned()]);
    };
    row("mean_error_mm", format!("{:.4}", r.mean_error_mm), "mm");
    row("median_error_mm", format!("{:.4}", r.median_error_mm), "mm");
    row("std_error_mm", format!("{:.4}", r.std_error_mm), "mm");
    row("rmse_mm", format!("{:.4}", r.rmse_mm), "mm");
    row(
        "p90 / p95 / p99",
        format!(
            "{:.4} / {:.4} / {:.4}",
            r.p90_error_mm, r.p95_error_mm, r.p99_error_mm
        ),
        "mm",
    );
    row("max_error_mm", format!("{:.4}", r.max_error_mm), "mm");
    row(
        "raw_completeness_pct",
        format!("{:.4}", r.raw_completeness_pct),
        "%",
    );
    row(
        &format!(
            "accurate_completeness_pct (τ = {} mm)",
            r.accurate_completeness_tolerance_mm
        ),
        format!("{:.4}", r.accurate_completeness_pct),
        "%",
    );
    row(rmse, opt(r.plane_fit_rmse_mm, "plane undefined"), "mm");
    row(max, opt(r.plane_fit_max_error_mm, "plane undefined"), "mm");
    row(
        normal,
        r.plane_normal.map_or("n/a".into(), |n| {
            format!("({:.4}, {:.4}, {:.4})", n[0], n[1], n[2])
        }),
        "",
    );
    row(
        &format!(
            "DTU accuracy (≤ {} mm)",
            aquamvs_metrics::DTU_OUTLIER_CUT_MM
        ),
        opt(r.dtu_accuracy_mm, "no point that close"),
        "mm",
    );
    row(
        &format!(
            "DTU completeness (≤ {} mm)",
            aquamvs_metrics::DTU_OUTLIER_CUT_MM
        ),
        opt(r.dtu_completeness_mm, "no sample that close"),
        "mm",
    );
    let mut t = b.build();
    t.with(Style::rounded())
        .modify(Columns::new(1..2), Alignment::right());
    out.push_str(&t.to_string());
    out.push('\n');

    let mut b = Builder::default();
    b.push_record(["τ (mm)", "precision (%)", "recall (%)", "F-score (%)"]);
    for s in &r.by_tolerance {
        b.push_record([
            format!("{}", s.tolerance_mm),
            format!("{:.2}", s.precision_pct),
            format!("{:.2}", s.recall_pct),
            format!("{:.2}", s.fscore_pct),
        ]);
    }
    let mut t = b.build();
    t.with(Style::rounded())
        .modify(Columns::new(..), Alignment::right());
    out.push_str(&t.to_string());
    out.push_str(&format!(
        "\nrecall from {} ground-truth surface samples ({:.4} per mm², seed {}); \
         \"within τ\" is ≤ τ + {} mm\n",
        r.n_gt_samples,
        r.gt_sample_density_per_mm2,
        r.gt_sample_seed,
        aquamvs_metrics::WITHIN_SLACK_MM
    ));
    if !planar_truth {
        out.push_str(
            "the ground truth is not planar: points_own_flatness_* is the spread of the points \
             about their own best-fit plane, not an accuracy figure\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use aquamvs_metrics::{EvalOptions, evaluate};

    #[test]
    fn tables_show_every_metric_and_no_nan() {
        let v = [
            [0.0, 0.0, 1.0],
            [0.1, 0.0, 1.0],
            [0.1, 0.1, 1.0],
            [0.0, 0.1, 1.0],
        ];
        let f = [[0, 1, 2], [0, 2, 3]];
        let pts = [
            [0.02, 0.03, 1.0005],
            [0.05, 0.05, 1.003],
            [0.07, 0.01, 0.999],
        ];
        let r = evaluate(&pts, &v, &f, &EvalOptions::default()).unwrap();
        let t = super::tables(&r, "p.ply", "m.ply", true);
        for k in [
            "p.ply vs m.ply",
            "mean_error_mm",
            "median_error_mm",
            "std_error_mm",
            "raw_completeness_pct",
            "accurate_completeness_pct",
            "plane_fit_rmse_mm",
            "plane_fit_max_error_mm",
            "precision (%)",
            "recall (%)",
            "F-score (%)",
        ] {
            assert!(t.contains(k), "{k} missing from\n{t}");
        }
        assert!(!t.replace("NaN/inf", "").contains("NaN"), "{t}");
        let curved = super::tables(&r, "p.ply", "m.ply", false);
        assert!(!curved.contains("plane_fit_rmse_mm"), "{curved}");
        assert!(curved.contains("points_own_flatness_rmse_mm"), "{curved}");
    }
}
