//! `cargo xtask evaluate`: a reconstructed point cloud against a ground-truth mesh.
//!
//! ```text
//! cargo xtask evaluate --mesh M.ply --points P.ply [--tolerances-mm 1,2,5]
//!     [--bounds x0,x1,y0,y1] [--gt-density-per-mm2 1] [--seed 0] [--json]
//! ```
//!
//! Reads both PLY files (ASCII or binary, metres), calls `aquamvs_metrics::evaluate` and prints
//! the report: tables by default, exactly one JSON object on stdout with `--json`. Warnings
//! go to stderr; errors are one line and a non-zero exit.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use aquamvs_metrics::{AccuracyReport, EvalOptions, evaluate};
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Ground-truth triangle mesh (PLY, metres).
    #[arg(long, value_name = "M.ply")]
    mesh: PathBuf,
    /// Reconstructed point cloud (PLY, metres; only the vertices are used).
    #[arg(long, value_name = "P.ply")]
    points: PathBuf,
    /// Tolerances τ in mm, comma-separated. The first is AquaMVS's tolerance for
    /// `accurate_completeness_pct`.
    #[arg(long, value_name = "MM,...", default_value = "1,2,5")]
    tolerances_mm: String,
    /// Crop the points and the ground-truth surface to x0 ≤ x ≤ x1, y0 ≤ y ≤ y1 (metres).
    #[arg(long, value_name = "X0,X1,Y0,Y1", allow_hyphen_values = true)]
    bounds: Option<String>,
    /// Density of the ground-truth surface samples used for recall, per mm².
    #[arg(long, value_name = "N", default_value = "1")]
    gt_density_per_mm2: String,
    /// Seed of the ground-truth surface sampling.
    #[arg(long, default_value = "0")]
    seed: String,
    /// Print one JSON object (the whole report) instead of tables.
    #[arg(long)]
    json: bool,
}

fn parse_list(flag: &str, text: &str) -> anyhow::Result<Vec<f64>> {
    text.split(',')
        .map(|s| {
            let s = s.trim();
            s.parse::<f64>()
                .map_err(|_| anyhow::anyhow!("{flag}: `{s}` is not a number (in `{text}`)"))
        })
        .collect()
}

fn read_ply(path: &Path) -> anyhow::Result<aquamvs_io::ply::PlyData> {
    // The error's message already names its cause: keep it to one line.
    aquamvs_io::ply::read(path).map_err(|e| anyhow::anyhow!("{e}"))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let tolerances_mm = parse_list("--tolerances-mm", &args.tolerances_mm)?;
    let bounds = match &args.bounds {
        None => None,
        Some(b) => {
            let v = parse_list("--bounds", b)?;
            let Ok(arr) = <[f64; 4]>::try_from(v.as_slice()) else {
                bail!(
                    "--bounds: expected 4 numbers x0,x1,y0,y1, got {} (`{b}`)",
                    v.len()
                );
            };
            Some(arr)
        }
    };
    let density = args.gt_density_per_mm2.trim().parse::<f64>().map_err(|_| {
        anyhow::anyhow!(
            "--gt-density-per-mm2: `{}` is not a number",
            args.gt_density_per_mm2
        )
    })?;
    let seed =
        args.seed.trim().parse::<u64>().map_err(|_| {
            anyhow::anyhow!("--seed: `{}` is not a non-negative integer", args.seed)
        })?;
    let opts = EvalOptions {
        tolerances_mm,
        bounds,
        gt_sample_density_per_mm2: density,
        seed,
    };

    // The two files are independent: read them at the same time.
    let (mesh, cloud) = std::thread::scope(|s| {
        let m = s.spawn(|| read_ply(&args.mesh));
        let p = read_ply(&args.points);
        (
            m.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("reading the mesh panicked"))),
            p,
        )
    });
    let mesh = mesh?;
    let cloud = cloud?;
    if mesh.faces.is_empty() {
        bail!(
            "{}: the ground-truth mesh has no faces (a point cloud was given as --mesh?)",
            args.mesh.display()
        );
    }
    let report =
        evaluate(&cloud.vertices, &mesh.vertices, &mesh.faces, &opts).with_context(|| {
            format!(
                "evaluating {} against {}",
                args.points.display(),
                args.mesh.display()
            )
        })?;

    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", tables(&report, &args.points, &args.mesh));
    }
    Ok(())
}

fn opt(v: Option<f64>, what: &str) -> String {
    v.map_or_else(|| format!("n/a ({what})"), |v| format!("{v:.4}"))
}

/// The readable report: a summary line, the metrics, the scores by tolerance.
fn tables(r: &AccuracyReport, points: &Path, mesh: &Path) -> String {
    let mut out = format!(
        "{} vs {}\n{} points evaluated ({} given, {} dropped as NaN/inf, {} outside the bounds); \
         mesh {} triangles, {:.1} mm² evaluated{}\n",
        points.display(),
        mesh.display(),
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
    row(
        "plane_fit_rmse_mm",
        opt(r.plane_fit_rmse_mm, "plane undefined"),
        "mm",
    );
    row(
        "plane_fit_max_error_mm",
        opt(r.plane_fit_max_error_mm, "plane undefined"),
        "mm",
    );
    row(
        "plane normal",
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> AccuracyReport {
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
        evaluate(&pts, &v, &f, &EvalOptions::default()).unwrap()
    }

    #[test]
    fn lists_parse_or_say_why() {
        assert_eq!(parse_list("--x", "1, 2.5,5").unwrap(), vec![1.0, 2.5, 5.0]);
        let e = parse_list("--tolerances-mm", "1,,2")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--tolerances-mm") && e.contains("``"), "{e}");
    }

    /// The JSON holds the keys the issue names, `by_tolerance` as a list of objects.
    #[test]
    fn json_has_the_required_keys() {
        let v: serde_json::Value = serde_json::to_value(report()).unwrap();
        for k in [
            "mean_error_mm",
            "median_error_mm",
            "std_error_mm",
            "raw_completeness_pct",
            "accurate_completeness_pct",
            "plane_fit_rmse_mm",
            "plane_fit_max_error_mm",
        ] {
            assert!(v[k].is_number(), "{k}: {}", v[k]);
        }
        let bt = v["by_tolerance"].as_array().unwrap();
        assert_eq!(bt.len(), 3);
        for k in ["tolerance_mm", "precision_pct", "recall_pct", "fscore_pct"] {
            assert!(bt[0][k].is_number(), "{k}");
        }
    }

    #[test]
    fn tables_show_every_metric() {
        let t = tables(&report(), Path::new("p.ply"), Path::new("m.ply"));
        for k in [
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
    }
}
