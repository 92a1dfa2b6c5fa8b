//! Throughput of the plane sweep (samples/s; one sample = reference pixel × depth × source) on
//! the named workloads of DOMAIN.md, per backend and batch size, side by side in one run.
//!
//! `cargo bench -p aquamvs-sweep --bench sweep [-- small|standard|full] [--runs N] [--cpu-runs N]`
//!
//! Scenes: the reference rig looking at a textured flat plane, rendered by `tests/common`.
//! Timings are wall-clock medians of `--runs` runs of `GpuSweep::run` / `sweep_cpu` (rays,
//! uploads, all batches and the read-back included; pipelines built beforehand), timed by the
//! workspace's one harness (`aquamvs_profiler::harness`: a warm-up each, rounds interleaved).
//! `setup ms` is the median of the runs' `SweepTimings::setup_s` (host work before the first
//! hypothesis is swept; see `aquamvs_sweep::SweepTimings`), included in `median s`.

#[path = "../tests/common/mod.rs"]
mod common;

use aquamvs_profiler::harness;
use aquamvs_sweep::{GpuSweep, Workload, depth_range_from_z, sweep_cpu};

/// CPU time (user + system, all threads) of this process so far, seconds; 0 where
/// `/proc/self/stat` is unavailable. Clock ticks are 1/100 s on Linux.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let utime: f64 = f.get(11)?.parse().ok()?;
            let stime: f64 = f.get(12)?.parse().ok()?;
            Some((utime + stime) / 100.0)
        })
        .unwrap_or(0.0)
}

/// The 1-minute load average (other work competing for the cores), as text.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let runs = flag("--runs", 5);
    let cpu_runs = flag("--cpu-runs", 1);
    let batches: Vec<u32> = args
        .iter()
        .position(|a| a == "--batches")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.split(',').filter_map(|b| b.parse().ok()).collect())
        .unwrap_or(vec![1, 8, 16]);
    let wanted: Vec<&str> = args
        .iter()
        .filter(|a| Workload::ALL.iter().any(|w| w.name == a.as_str()))
        .map(String::as_str)
        .collect();
    let wanted = if wanted.is_empty() {
        vec!["small", "standard"]
    } else {
        wanted
    };

    let ctx = aquamvs_gpu::GpuContext::new(&Default::default());
    match &ctx {
        Ok(c) => println!("adapter: {} ({})", c.adapter_name(), c.backend_name()),
        Err(e) => println!("no GPU adapter: {e}"),
    }
    // One GpuSweep per batch size: each keeps its own buffers from run to run (one shape per
    // sweep, as a caller with one batch size sees it), released after each workload.
    let sweeps: Vec<GpuSweep> = match &ctx {
        Ok(c) => batches
            .iter()
            .map(|_| GpuSweep::new(&c.device).unwrap())
            .collect(),
        Err(_) => Vec::new(),
    };
    println!(
        "{:<10} {:<8} {:>6} {:>10} {:>9} {:>12} {:>10} {:>12} {:>10}",
        "workload",
        "backend",
        "batch",
        "median s",
        "setup ms",
        "samples/s",
        "vs batch 1",
        "cpu-s/run",
        "load"
    );
    for wl in Workload::ALL.iter().filter(|w| wanted.contains(&w.name)) {
        let scene = common::plane_scene(wl.width, wl.height, wl.sources);
        let cam = &scene.rig.cameras[0];
        let range = depth_range_from_z(cam, common::PLANE_Z, common::PLANE_Z, 0.03).unwrap();
        let n = wl.samples() as f64;
        let views = scene.source_views();
        // CPU seconds and set-up seconds of each timed run, by variant.
        let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); batches.len() + 1];
        let mut setup: Vec<Vec<f64>> = vec![Vec::new(); batches.len() + 1];
        if let Ok(ctx) = &ctx {
            let mut warm = vec![true; batches.len()];
            let timed = harness::interleaved(
                batches.len(),
                runs as u32,
                |i| {
                    let c = cpu_seconds();
                    let out = sweeps[i]
                        .run(
                            &ctx.device,
                            &ctx.queue,
                            scene.reference(),
                            &views,
                            &wl.settings(batches[i]),
                            range,
                        )
                        .unwrap();
                    if !std::mem::replace(&mut warm[i], false) {
                        cpu[i].push(cpu_seconds() - c);
                        setup[i].push(out.timings.setup_s);
                    }
                    Ok::<_, ()>(())
                },
                |_, _| {},
            )
            .unwrap();
            sweeps.iter().for_each(GpuSweep::release_buffers);
            let base = timed.summary(0).median;
            for (i, &b) in batches.iter().enumerate() {
                let m = timed.summary(i).median;
                println!(
                    "{:<10} {:<8} {:>6} {:>10.4} {:>9.2} {:>12.3e} {:>9.2}x {:>12.3} {:>10}",
                    wl.name,
                    "gpu",
                    b,
                    m,
                    median(&setup[i]) * 1e3,
                    n / m,
                    base / m,
                    median(&cpu[i]),
                    load_average()
                );
            }
        }
        if cpu_runs > 0 {
            let c = batches.len();
            let mut warm = true;
            let timed = harness::interleaved(
                1,
                cpu_runs as u32,
                |_| {
                    let t = cpu_seconds();
                    let out = sweep_cpu(scene.reference(), &views, &wl.settings(1), range).unwrap();
                    if !std::mem::replace(&mut warm, false) {
                        cpu[c].push(cpu_seconds() - t);
                        setup[c].push(out.timings.setup_s);
                    }
                    Ok::<_, ()>(())
                },
                |_, _| {},
            )
            .unwrap();
            let m = timed.summary(0).median;
            println!(
                "{:<10} {:<8} {:>6} {:>10.4} {:>9.2} {:>12.3e} {:>10} {:>12.3} {:>10}",
                wl.name,
                "cpu",
                "-",
                m,
                median(&setup[c]) * 1e3,
                n / m,
                "",
                median(&cpu[c]),
                load_average()
            );
        }
    }
}

/// The workspace's one median; NaN for no runs.
fn median(v: &[f64]) -> f64 {
    aquamvs_metrics::median(v).unwrap_or(f64::NAN)
}
