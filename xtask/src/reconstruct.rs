//! `cargo xtask reconstruct`: run the five pipeline stages on a scene folder, or on one frame
//! of a real image folder (`--calibration CALIB.json --images DIR`, the AquaMVS layout
//! `DIR/<camera>/<frames>`; no ground truth is used anywhere), and write
//! `sparse.ply`, `points.ply`, `surface.ply`, `depth/<camera>.npy` (ray depth, NaN invalid),
//! `depth/<camera>_confidence.npy` (with `--method patchmatch` also `depth/<camera>_normal.npy`)
//! and `reconstruct.json` (per-stage wall time, counts,
//! parameters, adapter, warnings). One progress line per stage; the library does the work.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use aquamvs_io::frames::{FolderCamera, read_image_folder};
use aquamvs_io::{OutputSet, npy, ply, scene_dir::read_scene_dir};
use aquamvs_pipeline::{Pipeline, Progress, ReconstructOptions, STAGES};
use serde_json::json;

use crate::flags::{self, BackendFlag, SweepFlags};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    sweep: SweepFlags,
    /// Scene folder (as written by `cargo xtask scene`).
    #[arg(
        long,
        required_unless_present = "calibration",
        conflicts_with = "calibration"
    )]
    scene: Option<PathBuf>,
    /// AquaCal `calibration.json` of a real rig (with --images).
    #[arg(long, requires = "images")]
    calibration: Option<PathBuf>,
    /// Image folder in the AquaMVS layout: `DIR/<camera>/<frames>` (PNG, JPEG or TIFF, 8 or
    /// 16 bit; frames in natural order).
    #[arg(long, requires = "calibration")]
    images: Option<PathBuf>,
    /// Frame to reconstruct (0-based, in natural order of each camera's files).
    #[arg(long, default_value_t = 0, requires = "images")]
    frame: usize,
    /// Output folder (created if missing; files in it are replaced).
    #[arg(long)]
    out: PathBuf,
    /// Where undistortion and the sweep run.
    #[arg(long, value_enum, default_value_t = BackendFlag::Gpu)]
    backend: BackendFlag,
    /// Keypoints per view for sparse matching.
    #[arg(long, default_value_t = 600)]
    keypoints: usize,
    /// Height-field grid cell, metres.
    #[arg(long, default_value_t = 0.003)]
    cell: f64,
    /// `--method sweep|patchmatch` (patchmatch also writes `depth/<camera>_normal.npy`).
    #[command(flatten)]
    method: crate::flags::MethodFlags,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut opts = ReconstructOptions::default();
    opts.depth.sweep = args.sweep.settings()?;
    opts.depth.method = args.method.depth_method()?;
    opts.sparse.keypoints.max_keypoints = args.keypoints;
    opts.surface.cell_size = args.cell;
    opts.validate()?;
    aquamvs_io::check_writable_dir(&args.out)?;
    let input = Input::read(&args)?;
    let (w, h) = input
        .rig
        .cameras
        .first()
        .map(|c| (c.width, c.height))
        .unwrap_or((0, 0));
    println!(
        "{} ({} cameras, {w}x{h})",
        input.what,
        input.rig.cameras.len()
    );
    opts.fallback_z = input.fallback_z;
    let ctx = args.backend.context()?;
    opts.depth.engine = args.sweep.engine(ctx.as_ref());
    let pipeline = Pipeline::new(flags::backend(ctx.as_ref()))?;
    let mut n = 0;
    let result = pipeline.reconstruct(
        &input.rig,
        &input.images,
        &opts,
        &mut Progress(|s: &aquamvs_pipeline::StageReport| {
            n += 1;
            println!(
                "[{n}/{}] {:<22} {:>8.2} s  {}",
                STAGES.len(),
                s.stage,
                s.seconds,
                s.summary
            );
        }),
    )?;
    for wmsg in &result.warnings {
        eprintln!("warning: {wmsg}");
    }

    let t_write = Instant::now();
    // All files or none: every one is written as a temporary first, then all are renamed.
    let mut files = OutputSet::new(&args.out);
    let sparse: Vec<[f64; 3]> = result.sparse.points.iter().map(|p| p.position).collect();
    files.add("sparse.ply", ply::encode(&sparse, &[]));
    files.add("points.ply", ply::encode(&result.cloud.points, &[]));
    files.add(
        "surface.ply",
        ply::encode(&result.surface.vertices, &result.surface.faces),
    );
    let mut depth_files = Vec::new();
    for m in &result.depth_maps {
        let name = &result.rig.cameras[m.view].name;
        let (hh, ww) = (m.height as usize, m.width as usize);
        files.add(
            format!("depth/{name}.npy"),
            npy::encode_f32(hh, ww, &m.depth),
        );
        files.add(
            format!("depth/{name}_confidence.npy"),
            npy::encode_f32(hh, ww, &m.confidence),
        );
        if let Some(n) = &m.normal {
            files.add(
                format!("depth/{name}_normal.npy"),
                npy::encode_f32_shape(&[hh, ww, 3], n),
            );
        }
        depth_files.push(json!({
            "camera": name,
            "file": format!("depth/{name}.npy"),
            "valid_pixels": m.valid_count(),
            "valid_pct": 100.0 * m.valid_count() as f64 / m.depth.len().max(1) as f64,
        }));
    }
    let stage_total: f64 = result.stages.iter().map(|s| s.seconds).sum();
    let report = json!({
        "input": input.what,
        "scene": args.scene.as_ref().map(|p| p.display().to_string()),
        "scene_kind": input.kind,
        "calibration": args.calibration.as_ref().map(|p| p.display().to_string()),
        "images": args.images.as_ref().map(|p| p.display().to_string()),
        "frame": args.images.as_ref().map(|_| args.frame),
        "image_size": [w, h],
        "cameras": input.rig.cameras.len(),
        "backend": result.backend,
        "adapter": ctx.as_ref().map(|c| json!({
            "name": c.adapter_name(),
            "backend": c.backend_name(),
            "device_type": format!("{:?}", c.info().device_type),
            "driver": c.info().driver,
        })),
        "parameters": &result.options,
        "references": result.references.iter().map(|&r| &result.rig.cameras[r].name).collect::<Vec<_>>(),
        "stages": &result.stages,
        "stage_seconds_total": stage_total,
        "counts": result.counts(),
        "sparse_views": &result.sparse.stats,
        "ranges": &result.ranges,
        "depth_maps": depth_files,
        "fusion_views": &result.cloud.views,
        "surface": &result.surface,
        "warnings": &result.warnings,
        "outputs": ["sparse.ply", "points.ply", "surface.ply", "depth/", "reconstruct.json"],
    });
    files.add("reconstruct.json", serde_json::to_vec_pretty(&report)?);
    files.commit()?;
    println!(
        "wrote {} (files {:.2} s, total {:.2} s){}",
        args.out.display(),
        t_write.elapsed().as_secs_f64(),
        start.elapsed().as_secs_f64(),
        if result.warnings.is_empty() {
            String::new()
        } else {
            format!(", {} warning(s) in reconstruct.json", result.warnings.len())
        }
    );
    Ok(())
}

/// What is reconstructed: a rig and one image per camera.
struct Input {
    what: String,
    rig: aquamvs_camera::Rig,
    images: Vec<Vec<f32>>,
    /// The scene's stated Z extent (scene folders only).
    fallback_z: Option<(f64, f64)>,
    kind: Option<&'static str>,
}

impl Input {
    fn read(args: &Args) -> anyhow::Result<Self> {
        if let (Some(cal), Some(dir)) = (&args.calibration, &args.images) {
            let rig = aquamvs_io::aquacal::read_calibration(cal)?;
            let cams: Vec<FolderCamera> = rig
                .cameras
                .iter()
                .map(|c| FolderCamera {
                    name: &c.name,
                    width: c.width,
                    height: c.height,
                })
                .collect();
            let images = read_image_folder(dir, &cams, args.frame)?
                .into_iter()
                .map(|im| im.data)
                .collect();
            return Ok(Self {
                what: format!(
                    "frame {} of {} (calibration {})",
                    args.frame,
                    dir.display(),
                    cal.display()
                ),
                rig,
                images,
                fallback_z: None,
                kind: None,
            });
        }
        let scene = args.scene.as_ref().context("--scene or --calibration")?;
        let sd = read_scene_dir(scene)
            .with_context(|| format!("reading scene folder {}", scene.display()))?;
        Ok(Self {
            what: format!("scene {} ({})", scene.display(), sd.scene.kind.name()),
            fallback_z: Some((sd.scene.min_height(), sd.scene.max_height())),
            kind: Some(sd.scene.kind.name()),
            rig: sd.rig,
            images: sd.images,
        })
    }
}
