//! `cargo xtask sweep`: the refractive plane sweep for one reference camera of a scene folder.
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
use aquamvs_sweep::{
    GpuSweep, SweepOutput, SweepParams, View, depth_range_from_z, samples, sweep_cpu, warp_span,
};
use serde_json::json;

use crate::flags::SweepFlags;

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
    /// `gpu` (wgpu; WGPU_BACKEND etc. honoured) or `cpu` (the f64 reference).
    #[arg(long, default_value = "gpu")]
    backend: String,
    /// Also run the other backend and report how well the two agree on the patch.
    #[arg(long)]
    compare: bool,
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
    Ok((lo, hi))
}

enum Backend {
    Gpu,
    Cpu,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // Everything that can be checked without reading the scene is checked first.
    let backend = match args.backend.as_str() {
        "gpu" => Backend::Gpu,
        "cpu" => Backend::Cpu,
        other => bail!("--backend {other:?} must be \"gpu\" or \"cpu\""),
    };
    let given_range = args.depth_range.as_deref().map(parse_range).transpose()?;
    let probe = SweepParams {
        depths: args.sweep.depths,
        window: args.sweep.window,
        batch: args.sweep.batch,
        depth_range: given_range.unwrap_or((0.1, 0.2)),
        keep_cost_volume: false,
    };
    probe.validate().context("invalid sweep parameters")?;
    if args.sources == 0 {
        bail!("--sources must be at least 1");
    }
    if !(args.margin.is_finite() && args.margin >= 0.0) {
        bail!("--margin {} must be a finite number >= 0", args.margin);
    }

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
    let params = SweepParams {
        depth_range: range,
        ..probe
    };
    params.validate().context("invalid sweep parameters")?;

    let reference = View {
        camera: cam,
        image: &dir.images[ref_idx],
    };
    let sources: Vec<View> = src_idx
        .iter()
        .map(|&i| View {
            camera: &rig.cameras[i],
            image: &dir.images[i],
        })
        .collect();
    let src_cams: Vec<_> = src_idx.iter().map(|&i| &rig.cameras[i]).collect();
    let n_samples = samples(cam.width, cam.height, params.depths, sources.len() as u32);

    // The GPU context is needed for --backend gpu, and for --compare.
    let ctx = match (&backend, args.compare) {
        (Backend::Gpu, _) => Some(
            aquamvs_gpu::GpuContext::new(&Default::default())
                .context("--backend gpu needs a GPU adapter (try --backend cpu)")?,
        ),
        (Backend::Cpu, true) => Some(
            aquamvs_gpu::GpuContext::new(&Default::default())
                .context("--compare needs a GPU adapter")?,
        ),
        (Backend::Cpu, false) => None,
    };
    let setup = Instant::now();
    let gpu = ctx
        .as_ref()
        .map(|c| GpuSweep::new(&c.device))
        .transpose()
        .context("building the sweep pipelines")?;
    let setup_seconds = setup.elapsed().as_secs_f64();
    let run_gpu = || -> anyhow::Result<(SweepOutput, f64)> {
        let (c, g) = (ctx.as_ref().unwrap(), gpu.as_ref().unwrap());
        let t = Instant::now();
        let out = g.run(&c.device, &c.queue, reference, &sources, &params)?;
        Ok((out, t.elapsed().as_secs_f64()))
    };
    let run_cpu = || -> anyhow::Result<(SweepOutput, f64)> {
        let t = Instant::now();
        let out = sweep_cpu(reference, &sources, &params)?;
        Ok((out, t.elapsed().as_secs_f64()))
    };
    let ((out, seconds), other) = match backend {
        Backend::Gpu => (
            run_gpu().context("GPU sweep")?,
            args.compare
                .then(run_cpu)
                .transpose()
                .context("CPU sweep")?,
        ),
        Backend::Cpu => (
            run_cpu().context("CPU sweep")?,
            args.compare
                .then(run_gpu)
                .transpose()
                .context("GPU sweep")?,
        ),
    };

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let (w, h) = (cam.width as usize, cam.height as usize);
    aquamvs_io::npy::write_f32(&args.out.join("depth.npy"), h, w, &out.depth)?;
    aquamvs_io::npy::write_f32(&args.out.join("confidence.npy"), h, w, &out.confidence)?;

    let eval = evaluate(&dir, ref_idx, &out, other.as_ref().map(|o| &o.0));
    let (adapter, backend_name) = match (&backend, &ctx) {
        (Backend::Gpu, Some(c)) => (c.adapter_name().to_string(), c.backend_name()),
        _ => (
            format!("CPU reference, {} threads (rayon)", rayon_threads()),
            "cpu".to_string(),
        ),
    };
    let report = json!({
        "scene": args.scene.display().to_string(),
        "reference": args.reference,
        "sources": src_idx.iter().map(|&i| rig.cameras[i].name.clone()).collect::<Vec<_>>(),
        "width": cam.width,
        "height": cam.height,
        "depths": params.depths,
        "window": params.window,
        "batch": params.batch,
        "depth_range": [params.depth_range.0, params.depth_range.1],
        "depth_range_source": range_source,
        "depth_step_m": params.step(),
        "backend": backend_name,
        "adapter": adapter,
        "warp_span": matches!(backend, Backend::Gpu)
            .then(|| warp_span(cam, &src_cams, params.depths, params.depth_range)),
        "samples": n_samples,
        "seconds": seconds,
        "samples_per_s": n_samples as f64 / seconds,
        "setup_seconds": setup_seconds,
        "compare": other.as_ref().map(|(_, s)| json!({
            "backend": if matches!(backend, Backend::Gpu) { "cpu" } else { "gpu" },
            "seconds": s,
            "samples_per_s": n_samples as f64 / s,
        })),
        "evaluation": eval,
    });
    let text = serde_json::to_string_pretty(&report)?;
    aquamvs_io::write_atomic(&args.out.join("sweep.json"), text.as_bytes())?;
    println!("{text}");
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Accuracy against the folder's ground truth over the patch pixels (ground-truth surface point
/// within the scene bounds), and agreement with the other backend when it ran.
fn evaluate(
    dir: &aquamvs_io::scene_dir::SceneDir,
    ref_idx: usize,
    out: &SweepOutput,
    other: Option<&SweepOutput>,
) -> serde_json::Value {
    let cam = &dir.rig.cameras[ref_idx];
    let truth = &dir.depths[ref_idx];
    let w = cam.width as usize;
    let mut patch = Vec::new();
    for (i, &t) in truth.iter().enumerate() {
        if !t.is_finite() {
            continue;
        }
        let (u, v) = ((i % w) as f64, (i / w) as f64);
        let (x, y) = cam.undistort_pixel(u, v);
        let Some(ray) = cam.cast_ray(x, y) else {
            continue;
        };
        let p = ray.at(t as f64);
        if dir.scene.in_bounds(p.x, p.y) {
            patch.push(i);
        }
    }
    let mut errors: Vec<f64> = patch
        .iter()
        .filter(|&&i| out.depth[i].is_finite())
        .map(|&i| (out.depth[i] as f64 - truth[i] as f64).abs() * 1e3)
        .collect();
    errors.sort_by(|a, b| a.total_cmp(b));
    let pct = |n: usize, d: usize| {
        if d == 0 {
            0.0
        } else {
            100.0 * n as f64 / d as f64
        }
    };
    let quantile = |q: f64| {
        (!errors.is_empty()).then(|| errors[((errors.len() - 1) as f64 * q).round() as usize])
    };
    let agreement = other.map(|o| {
        let both: Vec<usize> = patch
            .iter()
            .copied()
            .filter(|&i| out.depth[i].is_finite() && o.depth[i].is_finite())
            .collect();
        let close = both
            .iter()
            .filter(|&&i| (out.depth[i] - o.depth[i]).abs() <= 1e-4)
            .count();
        let valid_other = patch.iter().filter(|&&i| o.depth[i].is_finite()).count();
        json!({
            "pixels_valid_in_both": both.len(),
            "within_0_1_mm_pct_of_both": pct(close, both.len()),
            "within_0_1_mm_pct_of_patch": pct(close, patch.len()),
            "other_valid_pct": pct(valid_other, patch.len()),
        })
    });
    json!({
        "note": "evaluation against the scene folder's ground truth (not used by the sweep)",
        "patch_pixels": patch.len(),
        "valid_pct": pct(errors.len(), patch.len()),
        "median_abs_error_mm": quantile(0.5),
        "p90_abs_error_mm": quantile(0.9),
        "mean_abs_error_mm": (!errors.is_empty())
            .then(|| errors.iter().sum::<f64>() / errors.len() as f64),
        "within_1_mm_pct": pct(errors.iter().filter(|&&e| e <= 1.0).count(), patch.len()),
        "agreement_with_other_backend": agreement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct SceneCli {
        #[command(flatten)]
        args: crate::scene::Args,
    }

    #[derive(Debug, Parser)]
    struct SweepCli {
        #[command(flatten)]
        args: Args,
    }

    fn scratch(name: &str) -> PathBuf {
        let p =
            std::env::temp_dir().join(format!("aquamvs-xtask-sweep-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// A tiny rendered flat scene.
    fn tiny_scene(root: &std::path::Path) -> PathBuf {
        let dir = root.join("scene");
        let cli = SceneCli::parse_from([
            "scene",
            "--kind",
            "flat",
            "--width",
            "64",
            "--height",
            "48",
            "--out",
            dir.to_str().unwrap(),
            "--mesh-spacing",
            "0.02",
            "--supersample",
            "2",
        ]);
        crate::scene::run(cli.args).unwrap();
        dir
    }

    fn sweep(extra: &[&str]) -> anyhow::Result<()> {
        let mut argv = vec!["sweep"];
        argv.extend_from_slice(extra);
        run(SweepCli::try_parse_from(argv)?.args)
    }

    #[test]
    fn bad_input_gives_one_clear_error() {
        let root = scratch("bad");
        let scene = tiny_scene(&root);
        let (s, o) = (scene.to_str().unwrap(), root.join("out"));
        let o = o.to_str().unwrap();
        let base = ["--scene", s, "--reference", "cam00", "--out", o];
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (vec!["--window", "10"], "window must be odd"),
            (vec!["--window", "33"], "window must be odd"),
            (vec!["--depths", "1"], "at least 2 depth"),
            (vec!["--depth-range", "0.3,0.2"], "depth range"),
            (vec!["--depth-range", "0.2,0.2"], "depth range"),
            (vec!["--depth-range", "0.2"], "--depth-range"),
            (vec!["--batch", "0"], "batch"),
            (vec!["--backend", "tpu"], "--backend"),
            (vec!["--sources", "0"], "--sources"),
            (vec!["--sources", "13"], "other cameras"),
        ];
        for (extra, want) in cases {
            let mut argv = base.to_vec();
            argv.extend(extra.iter());
            let err = format!("{:#}", sweep(&argv).unwrap_err());
            assert!(err.contains(want), "{extra:?}: {err}");
            assert!(!err.contains('\n'), "{extra:?}: more than one line: {err}");
        }
        let err = format!(
            "{:#}",
            sweep(&["--scene", s, "--reference", "cam99", "--out", o]).unwrap_err()
        );
        assert!(
            err.contains("no camera \"cam99\"") && err.contains("cam00"),
            "{err}"
        );
        let missing = root.join("nowhere");
        let err = format!(
            "{:#}",
            sweep(&[
                "--scene",
                missing.to_str().unwrap(),
                "--reference",
                "cam00",
                "--out",
                o
            ])
            .unwrap_err()
        );
        assert!(err.contains("nowhere"), "{err}");
        assert!(!root.join("out").join("sweep.json").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn cpu_sweep_writes_maps_and_report() {
        let root = scratch("cpu");
        let scene = tiny_scene(&root);
        let out = root.join("out");
        sweep(&[
            "--scene",
            scene.to_str().unwrap(),
            "--reference",
            "cam00",
            "--backend",
            "cpu",
            "--depths",
            "12",
            "--window",
            "5",
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        let depth = aquamvs_io::npy::read_f32(&out.join("depth.npy")).unwrap();
        assert_eq!((depth.height, depth.width), (48, 64));
        let conf = aquamvs_io::npy::read_f32(&out.join("confidence.npy")).unwrap();
        assert_eq!(conf.data.len(), 48 * 64);
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
        for key in [
            "seconds",
            "samples_per_s",
            "adapter",
            "backend",
            "depth_range",
            "window",
        ] {
            assert!(report.get(key).is_some(), "sweep.json lacks {key}");
        }
        assert_eq!(report["backend"], "cpu");
        assert_eq!(report["depths"], 12);
        assert!(report["samples_per_s"].as_f64().unwrap() > 0.0);
        let valid = depth.data.iter().filter(|d| d.is_finite()).count();
        assert!(valid > 48 * 64 / 2, "only {valid} valid depths");
        assert!(report["evaluation"]["patch_pixels"].as_u64().unwrap() > 0);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
