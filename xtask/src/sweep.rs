//! `cargo xtask sweep`: the refractive plane sweep (or, with `--method patchmatch`, refractive
//! PatchMatch, which also writes `OUT/normal.npy`, H×W×3 world-frame unit normals) for one
//! reference camera of a scene folder.
//!
//! Reads the folder written by `cargo xtask scene`, sweeps the reference against its nearest
//! sources (`Rig::sources`), and writes `OUT/depth.npy` and `OUT/confidence.npy` (float32,
//! H×W; depth is **ray depth in metres, NaN invalid**) and `OUT/sweep.json` (timing, adapter,
//! backend, every parameter, the depth range and where it came from). The default depth range
//! comes from what a user knows — the scene's stated depth extent (`scene.json`: the surface's
//! lowest and highest Z over its bounds) ± `--margin` — converted to ray depth over the whole
//! reference view; it never looks at a ground-truth depth map. Because a scene folder also holds
//! ground truth, `sweep.json` gets an `evaluation` block (clearly labelled) over the patch
//! pixels: those whose ground-truth surface point lies within the scene bounds.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use aquamvs_io::scene_dir::read_scene_dir;
use aquamvs_pipeline::{Backend, DepthMap, DepthMethod, DepthOptions, Pipeline, SweepEngine};
use aquamvs_sweep::{check_range, depth_range_from_z, samples, warp_span};
use serde_json::json;

use crate::flags::{self, BackendFlag, MethodFlags, SweepFlags};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    sweep: SweepFlags,
    /// Scene folder written by `cargo xtask scene`.
    #[arg(long)]
    scene: PathBuf,
    /// Reference camera name (e.g. cam00).
    #[arg(long)]
    reference: String,
    /// Number of source cameras (nearest first, as `Rig::sources` orders them).
    #[arg(long, default_value_t = 4)]
    sources: usize,
    /// Ray-depth range `lo,hi` in metres (default: the scene's depth extent ± --margin).
    #[arg(long, allow_hyphen_values = true)]
    depth_range: Option<String>,
    /// Margin (metres of world Z) around the scene's depth extent for the default range.
    #[arg(long, default_value_t = 0.02)]
    margin: f64,
    /// Where the sweep runs: `gpu` (wgpu) or `cpu` (the f64 reference).
    #[arg(long, value_enum, default_value_t = BackendFlag::Gpu)]
    backend: BackendFlag,
    /// Also run the other backend and report how well the two agree on the patch.
    #[arg(long)]
    compare: bool,
    #[command(flatten)]
    method: MethodFlags,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
}

fn parse_range(s: &str) -> anyhow::Result<(f32, f32)> {
    let (a, b) = s
        .split_once(',')
        .with_context(|| format!("--depth-range {s:?} must be two numbers `lo,hi` (metres)"))?;
    let lo: f32 = a
        .trim()
        .parse()
        .with_context(|| format!("--depth-range: {a:?} is not a number"))?;
    let hi: f32 = b
        .trim()
        .parse()
        .with_context(|| format!("--depth-range: {b:?} is not a number"))?;
    check_range((lo, hi)).context("--depth-range")?;
    Ok((lo, hi))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // Everything that can be checked without reading the scene is checked first.
    let opts = DepthOptions {
        sweep: args.sweep.settings()?,
        sources: args.sources,
        method: args.method.depth_method()?,
        ..DepthOptions::default()
    };
    let given_range = args.depth_range.as_deref().map(parse_range).transpose()?;
    if args.sources == 0 {
        bail!("--sources must be at least 1");
    }
    if !(args.margin.is_finite() && args.margin >= 0.0) {
        bail!("--margin {} must be a finite number >= 0", args.margin);
    }
    aquamvs_io::check_writable_dir(&args.out)?;

    let dir = read_scene_dir(&args.scene)
        .with_context(|| format!("reading the scene folder {}", args.scene.display()))?;
    let rig = &dir.rig;
    let ref_idx = rig.index_of(&args.reference).with_context(|| {
        let names: Vec<&str> = rig.cameras.iter().map(|c| c.name.as_str()).collect();
        format!(
            "no camera {:?} in {} (cameras: {})",
            args.reference,
            args.scene.display(),
            names.join(", ")
        )
    })?;
    let others = rig.cameras.len() - 1;
    if args.sources > others {
        bail!(
            "--sources {} but the rig has only {others} other cameras",
            args.sources
        );
    }
    let src_idx = rig.sources(ref_idx, args.sources);
    let cam = &rig.cameras[ref_idx];
    let (range, range_source) = match given_range {
        Some(r) => (r, "--depth-range".to_string()),
        None => {
            let (z0, z1) = (dir.scene.min_height(), dir.scene.max_height());
            let r = depth_range_from_z(cam, z0, z1, args.margin)
                .context("converting the scene's depth extent to a ray-depth range")?;
            (
                r,
                format!(
                    "scene depth extent Z [{z0:.4}, {z1:.4}] m ± {} m over the reference view",
                    args.margin
                ),
            )
        }
    };
    let n_samples = samples(
        cam.width,
        cam.height,
        opts.sweep.depths,
        src_idx.len() as u32,
    );

    // The GPU context is needed for --backend gpu, and for --compare.
    let gpu_wanted = args.backend == BackendFlag::Gpu || args.compare;
    let ctx = if gpu_wanted {
        BackendFlag::Gpu.context()?
    } else {
        None
    };
    let setup = Instant::now();
    let gpu = ctx
        .as_ref()
        .map(|c| Pipeline::new(flags::backend(Some(c))))
        .transpose()
        .context("building the sweep pipelines")?;
    let setup_seconds = setup.elapsed().as_secs_f64();
    let cpu = Pipeline::new(Backend::Cpu)?;
    // The first run's engine follows --sweep-engine; the comparison runs on its backend.
    let engine = args
        .sweep
        .engine(ctx.as_ref().filter(|_| args.backend == BackendFlag::Gpu));
    let sweep_on = |p: &Pipeline, engine| -> anyhow::Result<(DepthMap, f64)> {
        let t = Instant::now();
        let opts = DepthOptions { engine, ..opts };
        let out = p.depth_map(rig, &dir.images, ref_idx, range, &opts)?;
        Ok((out, t.elapsed().as_secs_f64()))
    };
    let (first, second) = match (args.backend, &gpu) {
        (BackendFlag::Gpu, Some(g)) => (g, args.compare.then_some(&cpu)),
        (_, g) => (&cpu, g.as_ref().filter(|_| args.compare)),
    };
    let (out, seconds) = sweep_on(first, engine)?;
    let other = second
        .map(|p| sweep_on(p, SweepEngine::Backend))
        .transpose()?;

    let (w, h) = (cam.width as usize, cam.height as usize);

    // Accuracy against the folder's ground truth over the patch pixels, and agreement with
    // the other backend when it ran.
    let truth = &dir.depths[ref_idx];
    let patch = dir.scene.patch_pixels(cam, truth);
    let errors = aquamvs_metrics::depth_errors(&out.depth, truth, &patch);
    // Normals against the analytic surface normal at each pixel's true surface point.
    let normals = out.normal.as_ref().map(|est| {
        let true_n = crate::methods::true_normals(&dir.scene, cam, truth, &patch);
        aquamvs_metrics::normal_errors(est, &true_n, &patch)
    });
    let agreement = other
        .as_ref()
        .map(|(o, _)| aquamvs_metrics::depth_agreement(&out.depth, &o.depth, &patch, 0.1));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (adapter, backend_name) = match (first.backend_name(), &ctx) {
        _ if engine == SweepEngine::Native && opts.method == DepthMethod::Sweep => (
            format!("native f32 CPU sweep, {threads} threads (rayon)"),
            "native".to_string(),
        ),
        ("gpu", Some(c)) => (c.adapter_name().to_string(), c.backend_name()),
        _ => (
            format!("CPU reference, {threads} threads (rayon)"),
            "cpu".to_string(),
        ),
    };
    let src_cams: Vec<_> = src_idx.iter().map(|&i| &rig.cameras[i]).collect();
    // Samples (pixel × depth × source) count plane-sweep work only.
    let is_sweep = opts.method == DepthMethod::Sweep;
    let report = json!({
        "scene": args.scene.display().to_string(),
        "reference": args.reference,
        "sources": src_idx.iter().map(|&i| rig.cameras[i].name.clone()).collect::<Vec<_>>(),
        "width": cam.width,
        "height": cam.height,
        "method": opts.method,
        "depths": opts.sweep.depths,
        "window": opts.sweep.window,
        "batch": opts.sweep.batch,
        "depth_range": [range.0, range.1],
        "depth_range_source": range_source,
        "depth_step_m": opts.sweep.step(range),
        "backend": backend_name,
        "adapter": adapter,
        "sweep_engine": engine,
        "warp_span": (first.backend_name() == "gpu" && engine == SweepEngine::Backend && is_sweep)
            .then(|| warp_span(cam, &src_cams, opts.sweep.depths, range)),
        "samples": is_sweep.then_some(n_samples),
        "seconds": seconds,
        "samples_per_s": is_sweep.then(|| n_samples as f64 / seconds),
        "setup_seconds": setup_seconds,
        "compare": other.as_ref().map(|(o, s)| json!({
            "backend": second.map(|p| p.backend_name()),
            "sweep_engine": SweepEngine::Backend,
            "seconds": s,
            "samples_per_s": is_sweep.then(|| n_samples as f64 / s),
            "valid_pixels": o.valid_count(),
        })),
        "evaluation": {
            "note": "evaluation against the scene folder's ground truth (not used by the sweep)",
            "patch_pixels": patch.len(),
            "errors": errors,
            "normal_errors": normals,
            "agreement_with_other_backend": agreement,
        },
    });
    let text = serde_json::to_string_pretty(&report)?;
    // The three files together or none (a new depth.npy never sits beside an old sweep.json).
    let mut files = aquamvs_io::OutputSet::new(&args.out);
    files.add("depth.npy", aquamvs_io::npy::encode_f32(h, w, &out.depth));
    files.add(
        "confidence.npy",
        aquamvs_io::npy::encode_f32(h, w, &out.confidence),
    );
    if let Some(n) = &out.normal {
        files.add(
            "normal.npy",
            aquamvs_io::npy::encode_f32_shape(&[h, w, 3], n),
        );
    }
    files.add("sweep.json", text.clone());
    files.commit()?;
    println!("{text}");
    Ok(())
}
