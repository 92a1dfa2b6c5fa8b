//! `cargo xtask profile`: where the time goes. Renders a synthetic scene (the plan's workload:
//! 4 cameras at 1920×1080, 64 depths, by default), runs the pipeline —
//! `aquamvs_pipeline::Pipeline::reconstruct`, the same chain as `reconstruct` and `bench` —
//! with the profiler attached (each stage and view a scope: CPU wall time, GPU time from
//! timestamp queries, GPU memory from the device allocator), then times the sweep at
//! depth-batch sizes 1, 8 and 16 on the standard workload (640×480, 64 depths, 4 sources),
//! side by side, with the profiler's own overhead on the same sweep. Prints the tables and
//! writes `.benchmarks/profile_report.json` (the `aquamvs_results::ProfileReport` schema plus
//! the profiler's full report) and `.benchmarks/profile_trace.json` (Chrome trace), each
//! atomically. A stage that fails ends its scope with its error; the report is still written
//! (later stages marked not run) and the command exits non-zero.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aquamvs_camera::{Distortion, Rig};
use aquamvs_gpu::{GpuContext, GpuOptions};
use aquamvs_pipeline::{
    DepthOptions, Pipeline, Profiled, ReconstructOptions, Reconstruction, STAGES,
};
use aquamvs_profiler::{Profiler, harness};
use aquamvs_results::{BatchTiming, ProfileReport, Workload};
use aquamvs_scenes::{RenderOptions, Scene, render};
use aquamvs_sweep::GpuSweep;
use serde::Serialize;
use serde_json::json;

use crate::bench::Rendered;
use crate::flags::{self, SweepFlags};
use crate::machine;
use crate::scene::parse_distortion;

/// Batch sizes of the batching benchmark.
const BATCH_SIZES: [u32; 3] = [1, 8, 16];

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    sweep: SweepFlags,
    /// `--method sweep|patchmatch`: the depth method the depth_estimation stage runs (the
    /// report's workload names it).
    #[command(flatten)]
    method: crate::flags::MethodFlags,
    /// Image width of the profiled workload, pixels.
    #[arg(long, default_value_t = 1920)]
    width: u32,
    /// Image height of the profiled workload, pixels.
    #[arg(long, default_value_t = 1080)]
    height: u32,
    /// Cameras taking part (2..=13): cam00, the centre camera, then cam00's nearest ring
    /// neighbours. The ring cameras are the sweep's references; each uses all others as sources.
    #[arg(long, default_value_t = 4)]
    cameras: usize,
    /// Keypoints per image for sparse matching (the plan's 2000 features).
    #[arg(long, default_value_t = 2000)]
    features: usize,
    /// Surface: `undulating` or `flat`.
    #[arg(long, default_value = "undulating")]
    scene: String,
    /// Lens distortion of the rendered recordings, `k1,k2,p1,p2,k3`, or `none` (then the
    /// undistortion stage only copies).
    #[arg(
        long,
        default_value = "-0.05,0.01,0.0002,-0.0002,0",
        allow_hyphen_values = true
    )]
    distortion: String,
    /// Anti-aliasing sub-samples per pixel side when rendering (1..=8).
    #[arg(long, default_value_t = 2)]
    supersample: u32,
    /// Run the depth-batching benchmark (the default).
    #[arg(long, overrides_with = "no_batch_benchmark")]
    batch_benchmark: bool,
    /// Skip the depth-batching benchmark.
    #[arg(long, overrides_with = "batch_benchmark")]
    no_batch_benchmark: bool,
    /// Timed runs per batch size in the batching benchmark (after one warm-up run each).
    #[arg(long, default_value_t = 3)]
    batch_runs: u32,
    /// Period of the device-memory sampling, ms (0: count only the profiler's helpers).
    #[arg(long, default_value_t = 5.0)]
    memory_sample_ms: f64,
    /// Results folder (default: git-ignored scratch; `--out .benchmarks` publishes, see
    /// `.benchmarks/README.md`).
    #[arg(long, default_value = ".benchmarks/runs/latest")]
    out: PathBuf,
}

#[derive(Debug, Serialize)]
struct Overhead {
    /// What was timed.
    workload: String,
    runs: u32,
    median_bare_ms: f64,
    median_profiled_ms: f64,
    /// Median over rounds of (profiled / bare of the same round) − 1, percent.
    overhead_pct: f64,
}

/// The file: the results schema (flattened) plus this run's extras.
#[derive(Serialize)]
struct ProfileFile<'a> {
    #[serde(flatten)]
    base: &'a ProfileReport,
    adapter: String,
    backend: String,
    setup: serde_json::Value,
    stage_outputs: Option<aquamvs_pipeline::Counts>,
    depth_batching_identical_results: Option<bool>,
    profiler_overhead: Option<&'a Overhead>,
    profiler: &'a aquamvs_profiler::ProfileReport,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // Every argument is checked before anything runs.
    for (name, v) in [("width", args.width), ("height", args.height)] {
        if !(32..=8192).contains(&v) {
            bail!("--{name} {v} is out of range (32..=8192)");
        }
    }
    if !(2..=13).contains(&args.cameras) {
        bail!("--cameras {} is out of range (2..=13)", args.cameras);
    }
    let settings = args.sweep.settings()?;
    if args.features == 0 {
        bail!("--features must be at least 1");
    }
    if !(1..=8).contains(&args.supersample) {
        bail!("--supersample {} is out of range (1..=8)", args.supersample);
    }
    if !(1..=50).contains(&args.batch_runs) {
        bail!("--batch-runs {} is out of range (1..=50)", args.batch_runs);
    }
    if !(args.memory_sample_ms.is_finite() && args.memory_sample_ms >= 0.0) {
        bail!("--memory-sample-ms must be a finite number >= 0");
    }
    let scene = match args.scene.as_str() {
        "flat" => Scene::flat(),
        "undulating" => Scene::undulating(),
        other => bail!("unknown --scene {other:?} (expected \"flat\" or \"undulating\")"),
    };
    let distortion = parse_distortion(&args.distortion)?;
    aquamvs_io::check_writable_dir(&args.out)?;
    let batch_benchmark = !args.no_batch_benchmark;

    let ctx = GpuContext::new(&GpuOptions::default())
        .context("`cargo xtask profile` measures GPU stages and needs a wgpu adapter")?;
    println!(
        "adapter: {} ({}), GPU timestamps: {}",
        ctx.adapter_name(),
        ctx.backend_name(),
        if ctx.has_timestamps() {
            "yes"
        } else {
            "no (cpu-only)"
        }
    );

    // Setup (not profiled): the rig, the recorded images, the GPU pipelines.
    let t = Instant::now();
    let (rig, names) = profile_rig(args.width, args.height, args.cameras, distortion)?;
    scene.check_rig(&rig)?;
    let images: Vec<Vec<f32>> = rig
        .cameras
        .iter()
        .enumerate()
        .map(|(i, cam)| {
            render(
                &scene,
                cam,
                &RenderOptions {
                    supersample: args.supersample,
                    seed: i as u64,
                    ..RenderOptions::default()
                },
            )
        })
        .collect();
    let render_s = t.elapsed().as_secs_f64();
    println!(
        "rendered {} {}x{} recordings of the {} scene in {render_s:.1} s (setup, not profiled)",
        rig.cameras.len(),
        args.width,
        args.height,
        scene.kind.name()
    );
    let pipeline = Pipeline::new(flags::backend(Some(&ctx)))?;
    let method = args.method.depth_method()?;
    let mut opts = ReconstructOptions {
        depth: DepthOptions {
            sweep: settings,
            method,
            engine: args.sweep.engine(Some(&ctx)),
            ..DepthOptions::default()
        },
        fallback_z: Some((scene.min_height(), scene.max_height())),
        ..ReconstructOptions::default()
    };
    opts.sparse.keypoints.max_keypoints = args.features;

    // The profiled run: the pipeline with the profiler attached.
    let mut prof = Profiler::for_context(&ctx);
    let sampling = args.memory_sample_ms > 0.0
        && prof.sample_device_memory(Duration::from_secs_f64(args.memory_sample_ms / 1000.0));
    let wall = Instant::now();
    let result = pipeline.reconstruct(
        &rig,
        &images,
        &opts,
        &mut Profiled::new(&mut prof)
            .with_progress(|s| println!("  {:<22} {:>8.2} s  {}", s.stage, s.seconds, s.summary)),
    );
    let wall_s = wall.elapsed().as_secs_f64();
    let profile = prof.finish();
    match &result {
        Ok(r) => {
            println!("five stages done in {wall_s:.1} s");
            for w in &r.warnings {
                eprintln!("warning: {w}");
            }
        }
        Err(e) => eprintln!("a stage failed after {wall_s:.1} s: {e}"),
    }
    for w in &profile.warnings {
        eprintln!("profiler warning: {w}");
    }

    // Depth batching, before/after, and the profiler's overhead on the same sweep.
    let (batching, identical, overhead) = if batch_benchmark && result.is_ok() {
        let (b, i, o) = batching_benchmark(&ctx, &scene, args.batch_runs)?;
        (b, Some(i), Some(o))
    } else {
        (Vec::new(), None, None)
    };

    // The report.
    let mut extra = std::collections::BTreeMap::new();
    extra.insert("window".to_owned(), json!(settings.window));
    extra.insert("batch".to_owned(), json!(settings.batch));
    extra.insert("features".to_owned(), json!(args.features));
    extra.insert("scene".to_owned(), json!(scene.kind.name()));
    // Which depth method the depth_estimation stage ran.
    extra.insert(
        "depth_method".to_owned(),
        json!(match method {
            aquamvs_pipeline::DepthMethod::Sweep => "plane sweep".to_owned(),
            aquamvs_pipeline::DepthMethod::PatchMatch(pm) => format!("PatchMatch ({pm})"),
        }),
    );
    // Where its plane sweep ran (`--sweep-engine`): "native" or "backend" (the adapter).
    extra.insert("sweep_engine".to_owned(), json!(opts.depth.engine));
    extra.insert(
        "sources_per_view".to_owned(),
        json!(args.cameras.saturating_sub(1)),
    );
    let is_plan = args.width == 1920
        && args.height == 1080
        && args.cameras == 4
        && settings.depths == 64
        && settings.window == 11
        && args.features == 2000;
    let base = ProfileReport {
        generated_at: machine::utc_now(),
        command: machine::command_line(),
        machine: machine::machine(Some(&ctx)),
        workload: Workload {
            name: is_plan.then(|| "plan-profile".to_owned()),
            width: args.width,
            height: args.height,
            cameras: args.cameras as u32,
            depths: settings.depths,
            extra,
        },
        timing_source: profile.timing_source.into(),
        stages: profile.stage_timings(&STAGES),
        top_bottlenecks: profile.top_bottlenecks(3),
        optimised_stage: "depth_estimation".to_owned(),
        depth_batching: batching,
        depth_batching_workload: batch_benchmark.then(|| {
            let wl = aquamvs_sweep::Workload::STANDARD;
            let mut extra = std::collections::BTreeMap::new();
            extra.insert("sources".to_owned(), json!(wl.sources));
            extra.insert("window".to_owned(), json!(wl.window));
            extra.insert("scene".to_owned(), json!(scene.kind.name()));
            // Which depth method the depth_estimation stage ran.
            extra.insert(
                "depth_method".to_owned(),
                json!(match method {
                    aquamvs_pipeline::DepthMethod::Sweep => "plane sweep".to_owned(),
                    aquamvs_pipeline::DepthMethod::PatchMatch(pm) => format!("PatchMatch ({pm})"),
                }),
            );
            Workload {
                name: Some(wl.name.to_owned()),
                width: wl.width,
                height: wl.height,
                cameras: wl.sources as u32 + 1,
                depths: wl.depths,
                extra,
            }
        }),
        peak_rss_mb: profile.peak_rss_mb,
        trace_file: Some("profile_trace.json".to_owned()),
    };
    let file = ProfileFile {
        base: &base,
        adapter: ctx.adapter_name().to_owned(),
        backend: ctx.backend_name(),
        setup: json!({
            "cameras": names,
            "distortion": distortion.map(|d| [d.k1, d.k2, d.p1, d.p2, d.k3]),
            "supersample": args.supersample,
            "render_s": render_s,
            "device_memory_sampling": sampling,
            "stages_wall_s": wall_s,
            "warnings": result.as_ref().map(|r| r.warnings.clone()).unwrap_or_default(),
        }),
        stage_outputs: result.as_ref().ok().map(Reconstruction::counts),
        depth_batching_identical_results: identical,
        profiler_overhead: overhead.as_ref(),
        profiler: &profile,
    };
    let mut text = serde_json::to_string_pretty(&file)?;
    text.push('\n');
    // What update-docs will read must parse and validate before anything is written.
    ProfileReport::from_json(&text)
        .context("the profile report does not match the results schema")?;
    let trace = serde_json::to_string(&profile.chrome_trace())?;

    print_tables(&base);
    if let Some(o) = &overhead {
        println!(
            "profiler overhead on the sweep ({}): median {:.1} ms bare, {:.1} ms profiled, {:+.2} %",
            o.workload, o.median_bare_ms, o.median_profiled_ms, o.overhead_pct
        );
    }
    if let Some(false) = identical {
        eprintln!("warning: the sweep's depth maps differ between batch sizes");
    }

    let trace_path = args.out.join("profile_trace.json");
    let report_path = args.out.join(aquamvs_results::PROFILE_REPORT_FILE);
    let mut files = aquamvs_io::OutputSet::new(&args.out);
    files.add(aquamvs_results::PROFILE_REPORT_FILE, text);
    files.add("profile_trace.json", trace);
    files.commit()?;
    println!(
        "wrote {} and {}",
        report_path.display(),
        trace_path.display()
    );
    result.map(drop).map_err(Into::into)
}

/// `cam00`, `center`, then cam00's nearest ring neighbours, `n` in all, in rig order; the
/// recordings carry `distortion`.
fn profile_rig(
    width: u32,
    height: u32,
    n: usize,
    distortion: Option<Distortion>,
) -> anyhow::Result<(Rig, Vec<String>)> {
    let full = Rig::reference(width, height)?;
    let center = full
        .index_of("center")
        .context("reference rig without `center`")?;
    let mut chosen = vec![0, center];
    chosen.extend(
        full.sources(0, full.cameras.len())
            .into_iter()
            .filter(|&i| i != center)
            .take(n.saturating_sub(2)),
    );
    chosen.truncate(n);
    chosen.sort_unstable();
    let cameras = chosen
        .iter()
        .map(|&i| full.cameras[i].with_distortion(distortion))
        .collect::<Result<Vec<_>, _>>()?;
    let names = cameras.iter().map(|c| c.name.clone()).collect();
    Ok((Rig::new(full.interface, cameras)?, names))
}

/// The standard workload (`aquamvs_sweep::Workload::STANDARD`, cam00 against its 4 sources) at
/// each batch size, rounds interleaved by the one timing harness; plus batch 16 inside a
/// profiler scope, to measure the profiler's overhead on the sweep.
fn batching_benchmark(
    ctx: &GpuContext,
    scene: &Scene,
    runs: u32,
) -> anyhow::Result<(Vec<BatchTiming>, bool, Overhead)> {
    let standard = Rendered::new(aquamvs_sweep::Workload::STANDARD, scene)?;
    let wl = standard.workload;
    // One sweep per variant: each keeps its buffers from run to run.
    let sweeps = (0..=BATCH_SIZES.len())
        .map(|_| GpuSweep::new(&ctx.device))
        .collect::<Result<Vec<_>, _>>()?;
    let sweep_at = |v: usize, batch: u32| standard.sweep_gpu(&sweeps[v], ctx, batch);
    println!(
        "depth batching: {}x{}, {} depths, {} sources, window {}, batch {BATCH_SIZES:?}, \
         {runs} runs each (+1 warm-up), interleaved",
        wl.width, wl.height, wl.depths, wl.sources, wl.window
    );
    // Variants: the three batch sizes, then batch 16 inside a profiler scope.
    let profiled = BATCH_SIZES.len();
    let labels: Vec<String> = BATCH_SIZES
        .iter()
        .map(|b| format!("batch {b}"))
        .chain(std::iter::once("batch 16 profiled".to_owned()))
        .collect();
    let timed = harness::interleaved(
        profiled + 1,
        runs,
        |v| -> anyhow::Result<Option<Vec<f32>>> {
            if v < profiled {
                return Ok(Some(sweep_at(v, BATCH_SIZES[v])?.depth));
            }
            let mut prof = Profiler::for_context(ctx);
            prof.scope("depth_estimation", |_| sweep_at(v, 16))?;
            drop(prof.finish());
            Ok(None)
        },
        |round, t| {
            let line: Vec<String> = labels
                .iter()
                .zip(t)
                .map(|(n, s)| format!("{n} {:.0} ms", s * 1e3))
                .collect();
            println!("  round {}: {}", round + 1, line.join(", "));
        },
    )?;
    let base = timed.summary(0).median;
    let n_samples = wl.samples() as f64;
    let rows = BATCH_SIZES
        .iter()
        .enumerate()
        .map(|(k, &b)| {
            let s = timed.summary(k);
            BatchTiming {
                batch_size: b,
                median_ms: s.median * 1e3,
                min_ms: s.min * 1e3,
                max_ms: s.max * 1e3,
                runs,
                speedup: base / s.median,
                samples_per_s: Some(n_samples / s.median),
            }
        })
        .collect();
    let first = timed.warmup[0].as_ref().expect("a batch variant");
    let identical = timed.warmup[..profiled].iter().all(|d| {
        d.as_ref().is_some_and(|d| {
            d.len() == first.len() && d.iter().zip(first).all(|(a, b)| a.to_bits() == b.to_bits())
        })
    });
    let overhead = Overhead {
        workload: format!(
            "{}x{}, {} depths, {} sources, batch 16",
            wl.width, wl.height, wl.depths, wl.sources
        ),
        runs,
        median_bare_ms: timed.summary(profiled - 1).median * 1e3,
        median_profiled_ms: timed.summary(profiled).median * 1e3,
        overhead_pct: (timed.median_ratio(profiled, profiled - 1) - 1.0) * 100.0,
    };
    Ok((rows, identical, overhead))
}

fn print_tables(report: &ProfileReport) {
    println!();
    println!(
        "workload: {}; GPU times: {}",
        aquamvs_report::tables::workload_line(&report.workload),
        report.timing_source
    );
    print!("{}", aquamvs_report::tables::stages(report).to_terminal());
    print!(
        "{}",
        aquamvs_report::tables::bottlenecks(report).to_terminal()
    );
    if !report.depth_batching.is_empty() {
        print!("{}", aquamvs_report::tables::batching(report).to_terminal());
    }
    if let Some(rss) = report.peak_rss_mb {
        println!("peak resident memory: {rss:.0} MB");
    }
}
