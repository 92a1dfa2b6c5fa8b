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
use aquamvs_metrics::{EvalOptions, evaluate};

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
        print!(
            "{}",
            aquamvs_report::accuracy::tables(
                &report,
                &args.points.display().to_string(),
                &args.mesh.display().to_string()
            )
        );
    }
    Ok(())
}
