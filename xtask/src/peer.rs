//! `cargo xtask bench --peer aquamvs`: AquaMVS's own PyTorch plane sweep beside ours, in the same
//! run, on the same rendered images (the standard workload: cam00 of the reference rig at
//! 640×480, 64 depths, 4 sources, window 11, as `Workload::STANDARD`), same range, both depth
//! maps scored against the same ground truth.
//!
//! The peer runs through `tools/peer/aquamvs_sweep.py` (AquaMVS's calibration loader, projection
//! model, `plane_sweep_stereo` and `extract_depth`) on an AquaMVS project exported for each scene
//! (`aquamvs_io::aquamvs_project`). The interpreter is `--python`, else `$AQUAMVS_PYTHON`, else
//! `python3`; without `aquamvs` and `torch` there the comparison is skipped with one line.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use aquamvs_io::aquamvs_project::write_project;
use aquamvs_io::scene_dir::SceneDir;
use aquamvs_metrics::depth_errors;
use aquamvs_profiler::harness;
use aquamvs_results::{PeerRow, PeerSide};
use aquamvs_scenes::Scene;
use aquamvs_sweep::{GpuSweep, Workload, sweep_cpu, sweep_native};
use serde_json::json;

use crate::bench::Rendered;

/// The runner script, relative to the workspace root.
pub const SCRIPT: &str = "tools/peer/aquamvs_sweep.py";
/// Timed sweeps of the peer (each takes tens of seconds on a CPU).
const PEER_REPEATS: u32 = 3;

/// The interpreter to use: `--python`, `$AQUAMVS_PYTHON`, or `python3`.
pub fn python(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| std::env::var_os("AQUAMVS_PYTHON").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("python3"))
}

/// The comparison on both built-in scenes, or `Err(reason)` (one line) when the peer cannot
/// run here. Scratch files go under `work`.
pub fn rows(
    python: &Path,
    work: &Path,
    gpu: Option<&aquamvs_gpu::GpuContext>,
    runs: u32,
    native: bool,
) -> anyhow::Result<Result<Vec<PeerRow>, String>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask sits in the workspace root")?
        .join(SCRIPT);
    let mut rows = Vec::new();
    for (wl, scene) in [Workload::SMALL, Workload::STANDARD]
        .into_iter()
        .flat_map(|wl| [(wl, Scene::flat()), (wl, Scene::undulating())])
    {
        let r = Rendered::new(wl, &scene)?;
        let views = r.views();
        let cams: Vec<_> = views.iter().map(|v| v.camera.clone()).collect();
        let rig = aquamvs_camera::Rig::new(cams[0].interface, cams.clone())?;
        let truth: Vec<f32> = scene.depth_map(&cams[0]);
        let patch = scene.patch_pixels(&cams[0], &truth);
        let dir = work.join(format!("{}-{}", wl.name, scene.kind.name()));
        let project = dir.join("project");
        let sd = SceneDir {
            depths: cams.iter().map(|c| scene.depth_map(c)).collect(),
            images: views.iter().map(|v| v.image.to_vec()).collect(),
            rig,
            scene,
        };
        let mesh = scene.mesh(0.005)?;
        write_project(&sd, &scene.to_file(), &mesh, &project)?;
        let names: Vec<&str> = cams.iter().map(|c| c.name.as_str()).collect();
        let job = json!({
            "project": std::path::absolute(&project)?,
            "reference": names[0],
            "sources": &names[1..],
            "depth_min": r.range.0, "depth_max": r.range.1,
            "num_depths": wl.depths, "window": wl.window,
            "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "repeats": PEER_REPEATS, "warmup": 1,
        });
        let job_path = dir.join("job.json");
        aquamvs_io::write_atomic(&job_path, serde_json::to_string_pretty(&job)?.as_bytes())?;
        let out = dir.join("peer");
        eprintln!(
            "      {} {}: AquaMVS's sweep ({PEER_REPEATS} timed + 1 warm-up) ...",
            wl.name,
            scene.kind.name()
        );
        let run = Command::new(python)
            .arg(&script)
            .arg("--job")
            .arg(&job_path)
            .arg("--out")
            .arg(&out)
            .output();
        let run = match run {
            Ok(r) => r,
            Err(e) => return Ok(Err(format!("cannot run {}: {e}", python.display()))),
        };
        let stderr = String::from_utf8_lossy(&run.stderr);
        match run.status.code() {
            Some(0) => {}
            Some(3) => {
                let line = stderr.lines().find(|l| l.starts_with("peer unavailable"));
                return Ok(Err(line.unwrap_or("peer unavailable").to_string()));
            }
            _ => bail!(
                "the peer runner failed ({}): {}",
                run.status,
                stderr.lines().last().unwrap_or("")
            ),
        }
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("peer.json"))?)?;
        let peer_depth = aquamvs_io::npy::read_f32(&out.join("depth.npy"))?;
        // Ours, on the same views, timed over the same number of runs.
        let sweep = gpu.map(|c| GpuSweep::new(&c.device)).transpose()?;
        let ours_timed = harness::interleaved(
            1,
            runs.max(1),
            |_| match (gpu, &sweep) {
                _ if native => sweep_native(views[0], &views[1..], &wl.settings(16), r.range),
                (Some(ctx), Some(s)) => r.sweep_gpu(s, ctx, 16),
                _ => sweep_cpu(views[0], &views[1..], &wl.settings(16), r.range),
            },
            |_, _| {},
        )?;
        let ours_t = ours_timed.summary(0);
        let samples = wl.samples() as f64;
        let score = |depth: &[f32]| {
            let e = depth_errors(depth, &truth, &patch);
            (e.median_abs_error_mm.unwrap_or(f64::NAN), e.valid_pct)
        };
        let (ours_err, ours_valid) = score(&ours_timed.warmup[0].depth);
        let (peer_err, peer_valid) = score(&peer_depth.data);
        let peer_s = report["median_seconds"]
            .as_f64()
            .context("peer.json: median_seconds")?;
        let version = |k: &str| report[k].as_str().unwrap_or("unknown").to_string();
        let ours = PeerSide {
            name: "aquamvs-rs".into(),
            backend: match gpu {
                _ if native => "native f32 CPU sweep".into(),
                Some(c) => format!("gpu: {}", c.adapter_name()),
                None => "cpu".into(),
            },
            samples_per_s: samples / ours_t.median,
            median_s: ours_t.median,
            runs: ours_t.runs as u32,
            median_error_mm: ours_err,
            valid_pct: ours_valid,
        };
        let peer = PeerSide {
            name: "AquaMVS".into(),
            backend: format!("torch cpu, {} threads", report["threads"]),
            samples_per_s: samples / peer_s,
            median_s: peer_s,
            runs: report["seconds"].as_array().map_or(1, |a| a.len() as u32),
            median_error_mm: peer_err,
            valid_pct: peer_valid,
        };
        rows.push(PeerRow {
            scene: scene.kind.name().into(),
            width: wl.width,
            height: wl.height,
            reference: names[0].into(),
            sources: names[1..].iter().map(|s| s.to_string()).collect(),
            depths: wl.depths,
            window: wl.window,
            depth_range: [f64::from(r.range.0), f64::from(r.range.1)],
            speedup: ours.samples_per_s / peer.samples_per_s,
            ours,
            peer,
            aquamvs_version: version("aquamvs_version"),
            torch_version: version("torch_version"),
        });
    }
    Ok(Ok(rows))
}
