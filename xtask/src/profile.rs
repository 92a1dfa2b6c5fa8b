//! `cargo xtask profile`: where the time goes. Renders a synthetic scene (the plan's workload:
//! 4 cameras at 1920×1080, 64 depths, by default), runs the five real pipeline stages inside
//! profiler scopes (CPU wall time, GPU time from timestamp queries, GPU memory from the device
//! allocator), then times the sweep at depth-batch sizes 1, 8 and 16 on the standard workload
//! (640×480, 64 depths, 4 sources), side by side, with the profiler's own overhead on the same
//! sweep. Prints the tables and writes `.benchmarks/profile_report.json` (the
//! `aquamvs_report::ProfileReport` schema plus the profiler's full report) and
//! `.benchmarks/profile_trace.json` (Chrome trace), each atomically.
//!
//! The stage functions are called as they are (no instrumentation inside them); a stage that
//! fails ends its scope with its error, the report is still written (later stages marked not
//! run) and the command exits non-zero.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use aquamvs_camera::{Distortion, Rig};
use aquamvs_gpu::{GpuContext, GpuOptions};
use aquamvs_pipeline::{
    DepthMap, DepthOptions, FusionOptions, GpuUndistort, KeypointOptions, SparseOptions,
    SurfaceOptions, SweepBackend, depth_estimation, fuse, height_field_surface, sparse_matching,
};
use aquamvs_profiler::Profiler;
use aquamvs_report::schema::{
    BatchTiming, Bottleneck, OrderedMap, StageTiming, TimingSource, Workload,
};
use aquamvs_scenes::{RenderOptions, Scene, render};
use aquamvs_sweep::{GpuSweep, SweepParams, View, depth_range_from_z, samples};
use serde::Serialize;
use serde_json::json;

use crate::machine;
use crate::scene::parse_distortion;

/// The five stages, in pipeline order.
const STAGES: [&str; 5] = [
    "undistortion",
    "sparse_matching",
    "depth_estimation",
    "fusion",
    "surface_reconstruction",
];

/// Batch sizes of the batching benchmark.
const BATCH_SIZES: [u32; 3] = [1, 8, 16];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image width of the profiled workload, pixels.
    #[arg(long, default_value_t = 1920)]
    width: u32,
    /// Image height of the profiled workload, pixels.
    #[arg(long, default_value_t = 1080)]
    height: u32,
    /// Depth hypotheses of the sweep.
    #[arg(long, default_value_t = 64)]
    depths: u32,
    /// Cameras taking part (2..=13): cam00, the centre camera, then cam00's nearest ring
    /// neighbours. The ring cameras are the sweep's references; each uses all others as sources.
    #[arg(long, default_value_t = 4)]
    cameras: usize,
    /// NCC window of the sweep (odd, 3..=31).
    #[arg(long, default_value_t = 11)]
    window: u32,
    /// Depth batch of the profiled sweep.
    #[arg(long, default_value_t = 16)]
    batch: u32,
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
    /// Results folder.
    #[arg(long, default_value = ".benchmarks")]
    out: PathBuf,
}

/// Counts that show each stage did its real work.
#[derive(Debug, Default, Serialize)]
struct StageOutputs {
    views_undistorted: usize,
    keypoints: usize,
    sparse_points: usize,
    ranges_from_sparse_points: usize,
    ranges_from_scene_extent: usize,
    depth_maps: usize,
    valid_depth_pixels: usize,
    fused_points: usize,
    mesh_vertices: usize,
    mesh_faces: usize,
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

/// The file: the report writer's schema (flattened) plus this run's extras.
#[derive(Serialize)]
struct ProfileFile<'a> {
    #[serde(flatten)]
    base: &'a aquamvs_report::ProfileReport,
    adapter: String,
    backend: String,
    setup: serde_json::Value,
    stage_outputs: &'a StageOutputs,
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
    let sweep_check = SweepParams {
        depths: args.depths,
        window: args.window,
        batch: args.batch,
        depth_range: (0.1, 0.5),
        keep_cost_volume: false,
    };
    sweep_check
        .validate()
        .context("--depths / --window / --batch")?;
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

    // Setup (not profiled): the rig, the recorded images.
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

    // The profiled run.
    let mut prof = Profiler::for_context(&ctx);
    let sampling = args.memory_sample_ms > 0.0
        && prof.sample_device_memory(Duration::from_secs_f64(args.memory_sample_ms / 1000.0));
    let mut outputs = StageOutputs::default();
    let wall = Instant::now();
    let result = run_stages(&ctx, &mut prof, &rig, &images, &scene, &args, &mut outputs);
    let wall_s = wall.elapsed().as_secs_f64();
    let profile = prof.finish();
    match &result {
        Ok(()) => println!("five stages done in {wall_s:.1} s"),
        Err(e) => eprintln!("a stage failed after {wall_s:.1} s: {e:#}"),
    }
    if !profile.warnings.is_empty() {
        for w in &profile.warnings {
            eprintln!("profiler warning: {w}");
        }
    }

    // Depth batching, before/after, and the profiler's overhead on the same sweep.
    let (batching, identical, overhead) = if batch_benchmark && result.is_ok() {
        let (b, i, o) = batching_benchmark(&ctx, &scene, args.batch_runs)?;
        (b, Some(i), Some(o))
    } else {
        (Vec::new(), None, None)
    };

    // The report.
    let mut stages = Vec::new();
    let mut failed_at = None;
    for name in STAGES {
        match profile.stage(name) {
            Some(s) => {
                if !s.status.starts_with("ok") && failed_at.is_none() {
                    failed_at = Some(name);
                }
                stages.push((
                    name.to_owned(),
                    StageTiming {
                        cpu_time_ms: s.cpu_time_ms,
                        gpu_time_ms: s.gpu_time_ms,
                        total_time_ms: s.total_time_ms,
                        self_time_ms: Some(s.self_time_ms),
                        memory_mb: s.memory_mb,
                        status: s.status.clone(),
                    },
                ));
            }
            None => stages.push((
                name.to_owned(),
                StageTiming {
                    cpu_time_ms: 0.0,
                    gpu_time_ms: None,
                    total_time_ms: 0.0,
                    self_time_ms: None,
                    memory_mb: 0.0,
                    status: format!(
                        "not run ({} failed)",
                        failed_at.unwrap_or("an earlier stage")
                    ),
                },
            )),
        }
    }
    let mut extra = std::collections::BTreeMap::new();
    extra.insert("window".to_owned(), json!(args.window));
    extra.insert("batch".to_owned(), json!(args.batch));
    extra.insert("features".to_owned(), json!(args.features));
    extra.insert("scene".to_owned(), json!(scene.kind.name()));
    extra.insert(
        "sources_per_view".to_owned(),
        json!(args.cameras.saturating_sub(1)),
    );
    let is_plan = args.width == 1920
        && args.height == 1080
        && args.cameras == 4
        && args.depths == 64
        && args.window == 11
        && args.features == 2000;
    let base = aquamvs_report::ProfileReport {
        generated_at: machine::utc_now(),
        command: machine::command_line(),
        machine: machine::machine(Some(&ctx)),
        workload: Workload {
            name: is_plan.then(|| "plan-profile".to_owned()),
            width: args.width,
            height: args.height,
            cameras: args.cameras as u32,
            depths: args.depths,
            extra,
        },
        timing_source: match profile.timing_source {
            aquamvs_profiler::TimingSource::GpuTimestamps => TimingSource::GpuTimestamps,
            aquamvs_profiler::TimingSource::CpuOnly => TimingSource::CpuOnly,
        },
        stages: OrderedMap(stages),
        top_bottlenecks: profile
            .top_bottlenecks(3)
            .into_iter()
            .map(|b| Bottleneck {
                name: b.name,
                time_ms: b.time_ms,
                memory_mb: b.memory_mb,
            })
            .collect(),
        optimised_stage: "depth_estimation".to_owned(),
        depth_batching: batching,
        depth_batching_workload: batch_benchmark.then(|| {
            let mut extra = std::collections::BTreeMap::new();
            extra.insert("sources".to_owned(), json!(4));
            extra.insert("window".to_owned(), json!(11));
            extra.insert("scene".to_owned(), json!(scene.kind.name()));
            Workload {
                name: Some("standard".to_owned()),
                width: 640,
                height: 480,
                cameras: 5,
                depths: 64,
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
        }),
        stage_outputs: &outputs,
        depth_batching_identical_results: identical,
        profiler_overhead: overhead.as_ref(),
        profiler: &profile,
    };
    let mut text = serde_json::to_string_pretty(&file)?;
    text.push('\n');
    // What update-docs will read must parse and validate before anything is written.
    aquamvs_report::ProfileReport::from_json(&text)
        .context("the profile report does not match the report writer's schema")?;
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

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let trace_path = args.out.join("profile_trace.json");
    let report_path = args.out.join(aquamvs_report::schema::PROFILE_REPORT_FILE);
    aquamvs_io::write_atomic(&trace_path, trace.as_bytes())?;
    aquamvs_io::write_atomic(&report_path, text.as_bytes())?;
    println!(
        "wrote {} and {}",
        report_path.display(),
        trace_path.display()
    );
    result
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

/// The five stages, each in its scope; per-view work in nested scopes `stage/camera`. The
/// CPU stages (sparse matching, fusion, surface) use CPU-only scopes: their GPU time is null.
fn run_stages(
    ctx: &GpuContext,
    prof: &mut Profiler,
    rig: &Rig,
    images: &[Vec<f32>],
    scene: &Scene,
    args: &Args,
    out: &mut StageOutputs,
) -> anyhow::Result<()> {
    let (device, queue) = (&ctx.device, &ctx.queue);

    // 1. Undistortion (GPU).
    let undistorted: Vec<Vec<f32>> = prof.scope("undistortion", |prof| {
        let gpu = GpuUndistort::new(device)?;
        rig.cameras
            .iter()
            .zip(images)
            .map(|(cam, im)| {
                prof.scope(&format!("undistortion/{}", cam.name), |_| {
                    gpu.run(device, queue, cam, im, 0.0)
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })?;
    out.views_undistorted = undistorted.len();
    let mut pinhole = rig.clone();
    for c in &mut pinhole.cameras {
        c.distortion = None;
    }
    let rig = &pinhole;
    let references: Vec<usize> = (0..rig.cameras.len())
        .filter(|&i| rig.cameras[i].name != "center")
        .collect();

    // 2. Sparse matching and the sweep ranges (CPU).
    let sparse_opts = SparseOptions {
        keypoints: KeypointOptions {
            max_keypoints: args.features,
            ..KeypointOptions::default()
        },
        sources: SparseOptions::default().sources.min(rig.cameras.len() - 1),
        min_views: SparseOptions::default().min_views.min(rig.cameras.len()),
        ..SparseOptions::default()
    };
    let sparse = prof.scope_cpu("sparse_matching", |_| {
        sparse_matching(rig, &undistorted, &references, &sparse_opts)
    })?;
    out.keypoints = sparse.stats.iter().map(|s| s.keypoints).sum();
    out.sparse_points = sparse.points.len();
    let mut ranges = Vec::with_capacity(references.len());
    for &r in &references {
        match sparse.ranges[r] {
            Some(s) => {
                out.ranges_from_sparse_points += 1;
                ranges.push((s.min, s.max));
            }
            None => {
                // Too few sparse points in view: the scene's stated depth extent (what a user
                // knows), never the ground truth.
                out.ranges_from_scene_extent += 1;
                ranges.push(depth_range_from_z(
                    &rig.cameras[r],
                    scene.min_height(),
                    scene.max_height(),
                    0.05,
                )?);
            }
        }
    }

    // 3. Depth estimation (GPU sweep), one nested scope per reference view.
    let depth_opts = DepthOptions {
        depths: args.depths,
        window: args.window,
        batch: args.batch,
        sources: rig.cameras.len() - 1,
    };
    let maps: Vec<DepthMap> = prof.scope("depth_estimation", |prof| {
        let sweep = GpuSweep::new(device)?;
        let mut maps = Vec::with_capacity(references.len());
        for (&r, &range) in references.iter().zip(&ranges) {
            let m = prof.scope(&format!("depth_estimation/{}", rig.cameras[r].name), |_| {
                depth_estimation(
                    rig,
                    &undistorted,
                    &[r],
                    &[range],
                    &depth_opts,
                    SweepBackend::Gpu {
                        device,
                        queue,
                        sweep: &sweep,
                    },
                )
            })?;
            maps.extend(m);
        }
        Ok::<_, anyhow::Error>(maps)
    })?;
    out.depth_maps = maps.len();
    out.valid_depth_pixels = maps.iter().map(DepthMap::valid_count).sum();

    // 4. Fusion (CPU).
    let fusion_opts = FusionOptions {
        min_agreeing_views: FusionOptions::default()
            .min_agreeing_views
            .min(maps.len().saturating_sub(1).max(1)),
        ..FusionOptions::default()
    };
    let cloud = prof.scope_cpu("fusion", |_| fuse(rig, &maps, &fusion_opts))?;
    out.fused_points = cloud.points.len();

    // 5. Surface reconstruction (CPU).
    let mesh = prof.scope_cpu("surface_reconstruction", |_| {
        height_field_surface(&cloud.points, &SurfaceOptions::default())
    })?;
    out.mesh_vertices = mesh.vertices.len();
    out.mesh_faces = mesh.faces.len();
    Ok(())
}

/// The standard workload (640×480, 64 depths, window 11, cam00 against its 4 sources) at each
/// batch size, rounds interleaved (the order rotates) after one warm-up run each; plus batch 16
/// inside a profiler scope, to measure the profiler's overhead on the sweep.
fn batching_benchmark(
    ctx: &GpuContext,
    scene: &Scene,
    runs: u32,
) -> anyhow::Result<(Vec<BatchTiming>, bool, Overhead)> {
    let (w, h, depths, n_sources) = (640, 480, 64, 4);
    let rig = Rig::reference(w, h)?;
    let sources_idx = rig.sources(0, n_sources);
    let mut views_idx = vec![0];
    views_idx.extend(&sources_idx);
    let images: Vec<(usize, Vec<f32>)> = views_idx
        .iter()
        .map(|&i| (i, render(scene, &rig.cameras[i], &RenderOptions::default())))
        .collect();
    let image = |i: usize| &images.iter().find(|(j, _)| *j == i).expect("rendered").1;
    let reference = View {
        camera: &rig.cameras[0],
        image: image(0),
    };
    let sources: Vec<View> = sources_idx
        .iter()
        .map(|&i| View {
            camera: &rig.cameras[i],
            image: image(i),
        })
        .collect();
    let range = depth_range_from_z(
        &rig.cameras[0],
        scene.min_height(),
        scene.max_height(),
        0.05,
    )?;
    let sweep = GpuSweep::new(&ctx.device)?;
    let params = |batch| SweepParams {
        depths,
        window: 11,
        batch,
        depth_range: range,
        keep_cost_volume: false,
    };
    let run_once = |batch: u32| -> anyhow::Result<(f64, Vec<f32>)> {
        let t = Instant::now();
        let out = sweep.run(&ctx.device, &ctx.queue, reference, &sources, &params(batch))?;
        Ok((t.elapsed().as_secs_f64() * 1000.0, out.depth))
    };
    println!(
        "depth batching: {w}x{h}, {depths} depths, {n_sources} sources, window 11, batch {:?}, \
         {runs} runs each (+1 warm-up), interleaved",
        BATCH_SIZES
    );
    // Variants: the three batch sizes, then batch 16 inside a profiler scope.
    let n_variants = BATCH_SIZES.len() + 1;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); n_variants];
    let mut depth_maps: Vec<Option<Vec<f32>>> = vec![None; BATCH_SIZES.len()];
    let mut profiled_ratio = Vec::new();
    let run_profiled = || -> anyhow::Result<f64> {
        let mut prof = Profiler::for_context(ctx);
        let t = Instant::now();
        prof.scope("depth_estimation", |_| {
            sweep.run(&ctx.device, &ctx.queue, reference, &sources, &params(16))
        })?;
        drop(prof.finish());
        Ok(t.elapsed().as_secs_f64() * 1000.0)
    };
    for (k, &b) in BATCH_SIZES.iter().enumerate() {
        let (_, d) = run_once(b)?;
        depth_maps[k] = Some(d);
    }
    run_profiled()?;
    for round in 0..runs as usize {
        let mut this = vec![0.0; n_variants];
        for j in 0..n_variants {
            let v = (round + j) % n_variants;
            this[v] = if v < BATCH_SIZES.len() {
                run_once(BATCH_SIZES[v])?.0
            } else {
                run_profiled()?
            };
        }
        for v in 0..n_variants {
            times[v].push(this[v]);
        }
        profiled_ratio.push(this[n_variants - 1] / this[BATCH_SIZES.len() - 1]);
        println!(
            "  round {}: {}",
            round + 1,
            BATCH_SIZES
                .iter()
                .map(|b| format!("batch {b}"))
                .chain(std::iter::once("batch 16 profiled".to_owned()))
                .zip(&this)
                .map(|(n, t)| format!("{n} {t:.0} ms"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let stats = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        (median(&s), s[0], s[s.len() - 1])
    };
    let base = stats(&times[0]).0;
    let n_samples = samples(w, h, depths, n_sources as u32) as f64;
    let rows = BATCH_SIZES
        .iter()
        .enumerate()
        .map(|(k, &b)| {
            let (med, min, max) = stats(&times[k]);
            BatchTiming {
                batch_size: b,
                median_ms: med,
                min_ms: min,
                max_ms: max,
                runs,
                speedup: base / med,
                samples_per_s: Some(n_samples / (med / 1000.0)),
            }
        })
        .collect();
    let first = depth_maps[0].as_ref().expect("warm-up ran");
    let identical = depth_maps.iter().all(|d| {
        d.as_ref().is_some_and(|d| {
            d.len() == first.len() && d.iter().zip(first).all(|(a, b)| a.to_bits() == b.to_bits())
        })
    });
    profiled_ratio.sort_by(f64::total_cmp);
    let overhead = Overhead {
        workload: format!("{w}x{h}, {depths} depths, {n_sources} sources, batch 16"),
        runs,
        median_bare_ms: stats(&times[BATCH_SIZES.len() - 1]).0,
        median_profiled_ms: stats(&times[n_variants - 1]).0,
        overhead_pct: (median(&profiled_ratio) - 1.0) * 100.0,
    };
    Ok((rows, identical, overhead))
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
}

fn print_tables(report: &aquamvs_report::ProfileReport) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(extra: &[&str]) -> Args {
        let mut argv = vec!["profile"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).unwrap().args
    }

    fn scratch(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!(
            "aquamvs-xtask-profile-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&p);
        p
    }

    #[test]
    fn defaults_are_the_plan_workload_with_the_batch_benchmark() {
        let a = parse(&[]);
        assert_eq!(
            (a.width, a.height, a.cameras, a.depths),
            (1920, 1080, 4, 64)
        );
        assert!(!a.no_batch_benchmark);
        assert!(parse(&["--no-batch-benchmark"]).no_batch_benchmark);
        // The last of the pair wins.
        assert!(!parse(&["--no-batch-benchmark", "--batch-benchmark"]).no_batch_benchmark);
    }

    #[test]
    fn bad_input_is_one_error_and_writes_nothing() {
        let out = scratch("bad");
        let out_s = out.to_str().unwrap();
        for (flags, want) in [
            (&["--cameras", "1"][..], "--cameras"),
            (&["--width", "8"][..], "--width"),
            (&["--window", "4"][..], "--depths / --window / --batch"),
            (&["--depths", "1"][..], "--depths / --window / --batch"),
            (&["--batch", "0"][..], "--depths / --window / --batch"),
            (&["--scene", "bumpy"][..], "--scene"),
            (&["--distortion", "0.1,0"][..], "--distortion"),
            (&["--features", "0"][..], "--features"),
            (&["--batch-runs", "0"][..], "--batch-runs"),
            (&["--memory-sample-ms=-1"][..], "--memory-sample-ms"),
        ] {
            let mut argv = flags.to_vec();
            argv.extend(["--out", out_s]);
            let err = run(parse(&argv)).unwrap_err();
            let msg = format!("{err:#}");
            assert!(msg.contains(want), "{flags:?}: {msg}");
            assert!(!out.exists(), "{flags:?} wrote something");
        }
    }

    #[test]
    fn distortion_parsing() {
        assert_eq!(parse_distortion("none").unwrap(), None);
        let d = parse_distortion("-0.1, 0.02,0,0,0.001").unwrap().unwrap();
        assert_eq!((d.k1, d.k2, d.k3), (-0.1, 0.02, 0.001));
        assert!(parse_distortion("1,2,3,4,inf").is_err());
    }

    #[test]
    fn the_profile_rig_is_cam00_its_neighbours_and_the_centre() {
        let (rig, names) = profile_rig(64, 48, 4, None).unwrap();
        assert_eq!(names, ["cam00", "cam01", "cam11", "center"]);
        assert_eq!(rig.cameras.len(), 4);
        let (_, names) = profile_rig(64, 48, 2, None).unwrap();
        assert_eq!(names, ["cam00", "center"]);
        let (_, names) = profile_rig(64, 48, 13, None).unwrap();
        assert_eq!(names.len(), 13);
    }

    /// The whole command on a tiny workload: five stages, GPU time exactly for the GPU
    /// stages, three sorted bottlenecks, a valid trace; the report parses with the report
    /// writer's schema. Fails without an adapter under CI=true.
    #[test]
    fn tiny_profile_writes_a_valid_report_and_trace() {
        if GpuContext::for_tests(&GpuOptions::default())
            .expect("GPU adapter required (CI=true)")
            .is_none()
        {
            return;
        }
        let out = scratch("tiny");
        let args = parse(&[
            "--width",
            "160",
            "--height",
            "120",
            "--depths",
            "16",
            "--features",
            "300",
            "--supersample",
            "1",
            "--no-batch-benchmark",
            "--out",
            out.to_str().unwrap(),
        ]);
        run(args).unwrap();
        let text = std::fs::read_to_string(out.join("profile_report.json")).unwrap();
        let report = aquamvs_report::ProfileReport::from_json(&text).unwrap();
        let names: Vec<&str> = report.stages.iter().map(|(k, _)| k).collect();
        assert_eq!(names, STAGES);
        for (name, s) in report.stages.iter() {
            assert_eq!(s.status, "ok", "{name}");
            assert!(s.cpu_time_ms > 0.0, "{name}");
            let gpu_stage = matches!(name, "undistortion" | "depth_estimation");
            let has_timestamps = report.timing_source == TimingSource::GpuTimestamps;
            assert_eq!(
                s.gpu_time_ms.is_some(),
                gpu_stage && has_timestamps,
                "{name}"
            );
        }
        assert_eq!(report.top_bottlenecks.len(), 3);
        assert!(
            report
                .top_bottlenecks
                .windows(2)
                .all(|w| w[0].time_ms >= w[1].time_ms)
        );
        assert!(report.depth_batching.is_empty());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(v["stage_outputs"]["fused_points"].as_u64().unwrap() > 0);
        assert!(v["profiler"]["stages"]["depth_estimation/cam00"].is_object());
        let trace: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("profile_trace.json")).unwrap())
                .unwrap();
        let events = trace["traceEvents"].as_array().unwrap();
        for stage in STAGES {
            assert!(
                events
                    .iter()
                    .any(|e| e["ph"] == "X" && e["tid"] == 1 && e["name"] == stage),
                "{stage} on the CPU track"
            );
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}
