//! `cargo xtask evaluate`: a reconstructed point cloud against a ground-truth mesh.
//!
//! ```text
//! cargo xtask evaluate (--scene DIR | --mesh M.ply) --points P.ply [--tolerances-mm 1,2,5]
//!     [--bounds x0,x1,y0,y1] [--gt-density-per-mm2 1] [--seed 0] [--json]
//! ```
//!
//! Reads both PLY files (ASCII or binary, metres; `--scene`: its mesh and bounds), calls
//! `aquamvs_metrics::evaluate` and prints the report: tables by default, exactly one JSON
//! object on stdout with `--json`. Warnings go to stderr, one line each (also when most points
//! lie outside the ground truth); errors are one line and a non-zero exit. The plane fit is
//! named as the points' own flatness unless the ground truth is planar.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use aquamvs_metrics::{EvalOptions, evaluate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A scene folder (`cargo xtask scene`): its mesh.ply is the ground truth and its bounds
    /// the crop (`--bounds` overrides them).
    #[arg(long, value_name = "DIR", conflicts_with = "mesh")]
    scene: Option<PathBuf>,
    /// Ground-truth triangle mesh (PLY, metres); not with --scene.
    #[arg(long, value_name = "M.ply", required_unless_present = "scene")]
    mesh: Option<PathBuf>,
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
    let (mesh_path, bounds) = match &args.scene {
        Some(dir) => (
            aquamvs_io::scene_dir::mesh_path(dir),
            bounds.or(Some(aquamvs_io::scene_dir::read_scene(dir)?.bounds)),
        ),
        None => (args.mesh.clone().context("give --scene or --mesh")?, bounds),
    };
    let opts = EvalOptions {
        tolerances_mm,
        bounds,
        gt_sample_density_per_mm2: density,
        seed,
    };

    let mesh = read_ply(&mesh_path)?;
    let cloud = read_ply(&args.points)?;
    if mesh.faces.is_empty() {
        bail!(
            "{}: the ground-truth mesh has no faces (a point cloud was given as --mesh?)",
            mesh_path.display()
        );
    }
    let extent = bounds.or(mesh.xy_extent()).unwrap_or_default();
    let (n, out) = cloud.count_outside_xy(extent);
    if out * 2 > n {
        eprintln!(
            "warning: {out} of {n} points lie outside the ground truth's x/y extent {extent:.4?} \
             m: {}",
            match bounds {
                Some(_) => "they are cropped away and not evaluated",
                None =>
                    "their errors are distances to the mesh's edge, not reconstruction \
                         errors (crop with --bounds, or evaluate with --scene DIR)",
            }
        );
    }
    let planar = aquamvs_metrics::plane_fit(&mesh.vertices).is_ok_and(|p| p.max_error_mm < 1e-3);
    let report =
        evaluate(&cloud.vertices, &mesh.vertices, &mesh.faces, &opts).with_context(|| {
            format!(
                "evaluating {} against {}",
                args.points.display(),
                mesh_path.display()
            )
        })?;

    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["ground_truth_planar"] = planar.into();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let (points, mesh) = (args.points.display(), mesh_path.display());
    print!(
        "{}",
        aquamvs_report::accuracy::tables(&report, &points.to_string(), &mesh.to_string(), planar)
    );
    Ok(())
}
