//! `cargo xtask bench`: accuracy and speed on the built-in synthetic scenes, written to
//! `.benchmarks/benchmark_results.json`.
//!
//! Three parts:
//! - the plan's **simulated** comparison (mesh samples with Gaussian noise and dropouts standing
//!   in for "LightGlue-like" and "RoMa-like" matchers) — labelled simulated everywhere;
//! - **measured** reconstructions: the real pipeline (sparse matching, sweep, fusion) on rendered
//!   images of both scenes, evaluated against ground truth, with and without refraction;
//! - the sweep's **throughput** on the "small" workload (GPU batch 1 and 16, CPU reference).
//!
//! `--compare BASE.json [CURRENT.json]` checks for regressions (see `compare.rs`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use aquamvs_metrics::{AccuracyReport, EvalOptions};
use aquamvs_pipeline::{Backend, ReconstructOptions};
use aquamvs_report::schema::{
    Accuracy, BenchmarkResults, ErrorMap, ErrorMapRef, MeasuredRow, Method, OrderedMap,
    RegressionCheck, RegressionThresholds, SimulatedRow, ThroughputRow, ToleranceScore,
};
use aquamvs_scenes::Scene;
use rand::{SeedableRng, rngs::StdRng, seq::SliceRandom};
use rand_distr::{Distribution, Normal};

use crate::{compare, flags::SweepFlags, machine};

/// The plan's tolerance (first: AquaMVS's `accurate_completeness_pct`), then the finer ones.
const TOLERANCES_MM: [f64; 3] = [5.0, 2.0, 1.0];
/// Ground-truth mesh spacing, metres (DOMAIN.md).
const MESH_SPACING: f64 = 0.005;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    sweep: SweepFlags,
    /// Compare with a saved run instead of (CURRENT given) or after (CURRENT omitted) running:
    /// `--compare BASE.json [CURRENT.json]`. Exits non-zero when a regression is found.
    #[arg(long, num_args = 1..=2, value_names = ["BASE", "CURRENT"])]
    compare: Option<Vec<PathBuf>>,
    /// Allowed worsening of accuracy (errors, precision), % of BASE.
    #[arg(long, default_value_t = 5.0)]
    accuracy_threshold_pct: f64,
    /// Allowed loss of completeness (recall, F-score, raw completeness), % of BASE.
    #[arg(long, default_value_t = 5.0)]
    completeness_threshold_pct: f64,
    /// Allowed slow-down of runtimes and stage times, % of BASE.
    #[arg(long, default_value_t = 10.0)]
    time_threshold_pct: f64,
    /// Image width of the measured reconstructions.
    #[arg(long, default_value_t = 640)]
    width: u32,
    /// Image height of the measured reconstructions.
    #[arg(long, default_value_t = 480)]
    height: u32,
    /// Sweep backend of the measured reconstructions.
    #[arg(long, value_enum, default_value_t = BackendArg::Gpu)]
    backend: BackendArg,
    /// Timed runs per throughput configuration (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: u32,
    /// Seed of the simulated comparison and of the renders' noise.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where the results go.
    #[arg(long, default_value = ".benchmarks")]
    out_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    Gpu,
    Cpu,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let thresholds = RegressionThresholds {
        accuracy_pct: args.accuracy_threshold_pct,
        completeness_pct: args.completeness_threshold_pct,
        time_pct: args.time_threshold_pct,
    };
    for (name, v) in [
        ("--accuracy-threshold-pct", thresholds.accuracy_pct),
        ("--completeness-threshold-pct", thresholds.completeness_pct),
        ("--time-threshold-pct", thresholds.time_pct),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            bail!("{name} must be a finite, non-negative percentage (got {v})");
        }
    }
    if let Some([base, current]) = args.compare.as_deref() {
        let base_label = base.display().to_string();
        let current_label = current.display().to_string();
        return report_regressions(
            &load(base)?,
            &base_label,
            &load(current)?,
            &current_label,
            &thresholds,
        );
    }
    // Read BASE before running: the run may overwrite it (the default output is the committed
    // results file), and a bad BASE should fail before minutes of benchmarking.
    let base = match args.compare.as_deref() {
        Some([base]) => Some((load(base)?, base.display().to_string())),
        _ => None,
    };
    let results = run_benchmarks(&args, &thresholds)?;
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let out = args.out_dir.join("benchmark_results.json");
    let json = serde_json::to_string_pretty(&results)? + "\n";
    aquamvs_io::write_atomic(&out, json.as_bytes())?;
    println!("wrote {}", out.display());
    if let Some((base, base_label)) = base {
        return report_regressions(
            &base,
            &base_label,
            &results,
            &format!("this run ({})", out.display()),
            &thresholds,
        );
    }
    Ok(())
}

fn load(path: &Path) -> anyhow::Result<BenchmarkResults> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a benchmark results file", path.display()))
}

fn report_regressions(
    base: &BenchmarkResults,
    base_label: &str,
    current: &BenchmarkResults,
    current_label: &str,
    thresholds: &RegressionThresholds,
) -> anyhow::Result<()> {
    let checks = compare::compare(base, current, thresholds);
    let regressions = checks.iter().filter(|c| c.regression).count();
    if regressions == 0 {
        println!(
            "no regression: {} quantities of {} within thresholds (accuracy {} %, completeness {} %, time {} %)",
            checks.len(),
            current_label,
            thresholds.accuracy_pct,
            thresholds.completeness_pct,
            thresholds.time_pct
        );
        return Ok(());
    }
    println!("{}", compare::table(&checks, false).to_terminal());
    bail!("{regressions} regression(s) of {current_label} against {base_label}")
}

fn run_benchmarks(
    args: &Args,
    thresholds: &RegressionThresholds,
) -> anyhow::Result<BenchmarkResults> {
    let gpu = match args.backend {
        BackendArg::Gpu => Some(aquamvs_gpu::GpuContext::new(
            &aquamvs_gpu::GpuOptions::default(),
        )?),
        BackendArg::Cpu => None,
    };
    if let Some(ctx) = &gpu {
        eprintln!("adapter: {} ({})", ctx.adapter_name(), ctx.backend_name());
    }
    eprintln!("[1/3] simulated comparison (LightGlue-like vs RoMa-like, simulated)");
    let simulated = simulated_rows(args.seed)?;
    eprintln!("[2/3] measured reconstructions (sweep + fusion on rendered images)");
    let mut measured = Vec::new();
    let mut error_map = None;
    for scene in [Scene::flat(), Scene::undulating()] {
        let (rows, map) = measured_rows(args, &scene, gpu.as_ref())?;
        measured.extend(rows);
        if error_map.is_none() {
            error_map = map;
        }
    }
    eprintln!("[3/3] sweep throughput on the \"small\" workload");
    let sweep_throughput = throughput_rows(gpu.as_ref(), args.runs)?;

    let results = BenchmarkResults {
        generated_at: machine::utc_now(),
        command: machine::command_line(),
        machine: machine::machine(gpu.as_ref()),
        simulated,
        measured,
        sweep_throughput,
        regression_check: Some(RegressionCheck {
            supported: true,
            command: Some("cargo xtask bench --compare BASE.json [CURRENT.json]".into()),
            thresholds: thresholds.clone(),
        }),
        depth_error_map: None,
    };
    let mut results = results;
    if let Some((map, about)) = error_map {
        let path = args.out_dir.join(&about.file);
        std::fs::create_dir_all(&args.out_dir)
            .with_context(|| format!("creating {}", args.out_dir.display()))?;
        aquamvs_io::write_atomic(&path, (serde_json::to_string(&map)? + "\n").as_bytes())?;
        results.depth_error_map = Some(about);
    }
    println!(
        "{}",
        aquamvs_report::tables::simulated(&results).to_terminal()
    );
    if !results.measured.is_empty() {
        println!(
            "{}",
            aquamvs_report::tables::measured(&results).to_terminal()
        );
    }
    println!(
        "{}",
        aquamvs_report::tables::throughput(&results).to_terminal()
    );
    Ok(results)
}

/// The schema's accuracy block from a metrics report; the plane fit only where the truth is a
/// plane.
fn accuracy(r: &AccuracyReport, plane: bool) -> Accuracy {
    Accuracy {
        mean_error_mm: r.mean_error_mm,
        median_error_mm: r.median_error_mm,
        std_error_mm: r.std_error_mm,
        raw_completeness_pct: r.raw_completeness_pct,
        accurate_completeness_pct: r.accurate_completeness_pct,
        plane_fit_rmse_mm: if plane { r.plane_fit_rmse_mm } else { None },
        plane_fit_max_error_mm: if plane {
            r.plane_fit_max_error_mm
        } else {
            None
        },
        by_tolerance: r
            .by_tolerance
            .iter()
            .map(|t| ToleranceScore {
                tolerance_mm: t.tolerance_mm,
                precision_pct: t.precision_pct,
                recall_pct: t.recall_pct,
                fscore_pct: t.fscore_pct,
            })
            .collect(),
    }
}

fn eval_options(scene: &Scene, seed: u64) -> EvalOptions {
    EvalOptions {
        tolerances_mm: TOLERANCES_MM.to_vec(),
        bounds: Some(scene.bounds),
        seed,
        ..EvalOptions::default()
    }
}

/// The plan's simulated comparison: `n` samples of the ground-truth mesh, isotropic Gaussian
/// noise of σ, a random fraction dropped; seeded.
fn simulated_rows(seed: u64) -> anyhow::Result<Vec<SimulatedRow>> {
    let configs = [
        ("LightGlue-like (simulated)", 1000usize, 2.0f64, 0.10f64),
        ("RoMa-like (simulated)", 3000, 1.0, 0.05),
    ];
    let mut rows = Vec::new();
    for scene in [Scene::flat(), Scene::undulating()] {
        let mesh = scene.mesh(MESH_SPACING)?;
        for (i, (name, n, sigma_mm, drop)) in configs.into_iter().enumerate() {
            let seed = seed + i as u64;
            let mut rng = StdRng::seed_from_u64(seed);
            let noise = Normal::new(0.0, sigma_mm * 1e-3)?;
            let mut points: Vec<[f64; 3]> =
                aquamvs_metrics::sample_mesh(&mesh.vertices, &mesh.faces, n, seed)
                    .into_iter()
                    .map(|p| p.map(|c| c + noise.sample(&mut rng)))
                    .collect();
            points.shuffle(&mut rng);
            points.truncate(((n as f64) * (1.0 - drop)).round() as usize);
            let report = aquamvs_metrics::evaluate(
                &points,
                &mesh.vertices,
                &mesh.faces,
                &eval_options(&scene, seed),
            )?;
            rows.push(SimulatedRow {
                name: name.into(),
                scene: scene.kind.name().into(),
                n_points: points.len() as u64,
                mesh_samples: Some(n as u64),
                noise_sigma_mm: sigma_mm,
                drop_fraction: drop,
                seed,
                accuracy: accuracy(&report, scene.kind == aquamvs_scenes::SceneKind::Flat),
            });
        }
    }
    Ok(rows)
}

/// A depth-error map and what it shows.
type ErrorMapFile = (ErrorMap, ErrorMapRef);

/// The real pipeline on rendered images of `scene` at the requested size: once with the
/// refractive model and once with refraction ignored (pinhole cameras, `n_water := n_air`), each
/// evaluated against the ground-truth mesh over the scene's bounds. Also returns the signed
/// depth-error map (mm) of the first reference view of the refractive run.
fn measured_rows(
    args: &Args,
    scene: &Scene,
    gpu: Option<&aquamvs_gpu::GpuContext>,
) -> anyhow::Result<(Vec<MeasuredRow>, Option<ErrorMapFile>)> {
    let rig = aquamvs_camera::Rig::reference(args.width, args.height)?;
    let t = Instant::now();
    let images: Vec<Vec<f32>> = rig
        .cameras
        .iter()
        .map(|c| aquamvs_scenes::render(scene, c, &Default::default()))
        .collect();
    let mesh = scene.mesh(MESH_SPACING)?;
    eprintln!(
        "  {}: rendered {} views at {}x{} in {:.1} s",
        scene.kind.name(),
        images.len(),
        args.width,
        args.height,
        t.elapsed().as_secs_f64()
    );
    let mut opts = ReconstructOptions::default();
    opts.depth.depths = args.sweep.depths;
    opts.depth.window = args.sweep.window;
    opts.depth.batch = args.sweep.batch;
    opts.fallback_z = Some((scene.min_height(), scene.max_height()));
    let mut rows = Vec::new();
    let mut error_map = None;
    for method in [Method::Refractive, Method::Pinhole] {
        let model = match method {
            Method::Refractive => rig.clone(),
            Method::Pinhole => rig.without_refraction(),
        };
        let backend = match gpu {
            Some(ctx) => Backend::Gpu {
                device: &ctx.device,
                queue: &ctx.queue,
            },
            None => Backend::Cpu,
        };
        let start = Instant::now();
        let rec = aquamvs_pipeline::reconstruct(&model, &images, &opts, backend, &mut |s| {
            eprintln!(
                "    {method}: {:<22} {:>7.2} s  {}",
                s.stage, s.seconds, s.summary
            )
        })?;
        let runtime_s = start.elapsed().as_secs_f64();
        for w in &rec.warnings {
            eprintln!("    warning ({method}): {w}");
        }
        if rec.cloud.points.is_empty() {
            eprintln!(
                "    {method}: the fused cloud is empty, no accuracy to report for {}",
                scene.kind.name()
            );
            continue;
        }
        let report = aquamvs_metrics::evaluate(
            &rec.cloud.points,
            &mesh.vertices,
            &mesh.faces,
            &eval_options(scene, args.seed),
        )?;
        if method == Method::Refractive && scene.kind == aquamvs_scenes::SceneKind::Flat {
            error_map = rec
                .depth_maps
                .first()
                .map(|m| depth_error_map(scene, &rig, m));
        }
        rows.push(MeasuredRow {
            scene: scene.kind.name().into(),
            method,
            width: args.width,
            height: args.height,
            depths: args.sweep.depths,
            window: args.sweep.window,
            batch: args.sweep.batch,
            backend: rec.backend.into(),
            adapter: gpu.map_or_else(
                || "none (CPU reference)".into(),
                |c| c.adapter_name().into(),
            ),
            n_points: rec.cloud.points.len() as u64,
            runtime_s,
            stage_times_s: OrderedMap(
                rec.stages
                    .iter()
                    .map(|s| (s.stage.to_string(), s.seconds))
                    .collect(),
            ),
            accuracy: accuracy(&report, scene.kind == aquamvs_scenes::SceneKind::Flat),
        });
    }
    Ok((rows, error_map))
}

/// Signed ray-depth error (estimate − truth, mm) of one depth map, decimated so that it is at
/// most 320 pixels wide (the committed file stays small), rounded to 1 µm.
fn depth_error_map(
    scene: &Scene,
    rig: &aquamvs_camera::Rig,
    map: &aquamvs_pipeline::DepthMap,
) -> (ErrorMap, ErrorMapRef) {
    let cam = &rig.cameras[map.view];
    let truth = scene.depth_map(cam);
    let step = (map.width as usize).div_ceil(320).max(1);
    let (w, h) = (map.width as usize, map.height as usize);
    let mut values = Vec::new();
    for v in (0..h).step_by(step) {
        for u in (0..w).step_by(step) {
            let (e, t) = (map.depth[v * w + u], truth[v * w + u]);
            values.push((e.is_finite() && t.is_finite()).then(|| ((e - t) * 1e6).round() / 1e3));
        }
    }
    let out = ErrorMap {
        width: w.div_ceil(step) as u32,
        height: h.div_ceil(step) as u32,
        values,
    };
    let about = ErrorMapRef {
        file: "depth_error_map.json".into(),
        scene: scene.kind.name().into(),
        view: cam.name.clone(),
        method: Some(Method::Refractive),
        color_limit_mm: Some(1.0),
    };
    (out, about)
}

/// Median of a non-empty list.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Sweep throughput on the "small" workload (320×240, 32 depths, 4 sources, window 11) of the
/// rendered flat scene: GPU at batch 1 and 16 interleaved run by run (same conditions), and
/// the CPU reference.
fn throughput_rows(
    gpu: Option<&aquamvs_gpu::GpuContext>,
    runs: u32,
) -> anyhow::Result<Vec<ThroughputRow>> {
    let runs = runs.max(1);
    let rig = aquamvs_camera::Rig::reference(320, 240)?;
    let scene = Scene::flat();
    let sources = rig.sources(0, 4);
    let images: Vec<Vec<f32>> = std::iter::once(0)
        .chain(sources.iter().copied())
        .map(|i| aquamvs_scenes::render(&scene, &rig.cameras[i], &Default::default()))
        .collect();
    let reference = aquamvs_sweep::View {
        camera: &rig.cameras[0],
        image: &images[0],
    };
    let source_views: Vec<aquamvs_sweep::View> = sources
        .iter()
        .zip(&images[1..])
        .map(|(&i, img)| aquamvs_sweep::View {
            camera: &rig.cameras[i],
            image: img,
        })
        .collect();
    let range = aquamvs_sweep::depth_range_from_z(
        &rig.cameras[0],
        scene.min_height(),
        scene.max_height(),
        0.05,
    )?;
    let params = |batch| aquamvs_sweep::SweepParams {
        depths: 32,
        window: 11,
        batch,
        depth_range: range,
        keep_cost_volume: false,
    };
    let samples = aquamvs_sweep::samples(320, 240, 32, 4) as f64;
    let mut rows = Vec::new();
    let row = |backend: &str, batch: u32, times: Vec<f64>, adapter: Option<String>| {
        let med = median(times);
        ThroughputRow {
            workload: "small".into(),
            backend: backend.into(),
            batch,
            samples_per_s: samples / med,
            median_ms: med * 1e3,
            adapter,
        }
    };
    if let Some(ctx) = gpu {
        let sweep = aquamvs_sweep::GpuSweep::new(&ctx.device)?;
        let batches = [1u32, 8, 16];
        let mut times = vec![Vec::new(); batches.len()];
        // One warm-up each (pipeline caches, first-use allocations), then interleaved runs.
        for &b in &batches {
            sweep.run(
                &ctx.device,
                &ctx.queue,
                reference,
                &source_views,
                &params(b),
            )?;
        }
        for _ in 0..runs {
            for (t, &b) in times.iter_mut().zip(&batches) {
                let start = Instant::now();
                sweep.run(
                    &ctx.device,
                    &ctx.queue,
                    reference,
                    &source_views,
                    &params(b),
                )?;
                t.push(start.elapsed().as_secs_f64());
            }
        }
        for (t, &b) in times.into_iter().zip(&batches) {
            rows.push(row("gpu", b, t, Some(ctx.adapter_name().to_string())));
        }
    }
    let mut cpu_times = Vec::new();
    for _ in 0..runs.min(3) {
        let start = Instant::now();
        aquamvs_sweep::sweep_cpu(reference, &source_views, &params(1))?;
        cpu_times.push(start.elapsed().as_secs_f64());
    }
    rows.push(row("cpu", 1, cpu_times, None));
    Ok(rows)
}
