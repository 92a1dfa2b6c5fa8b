//! `cargo xtask bench`: accuracy and speed on the built-in synthetic scenes, written to
//! `.benchmarks/benchmark_results.json`.
//!
//! Three parts:
//! - the plan's **simulated** comparison (`aquamvs_metrics::SimulatedMatcher`: mesh samples
//!   with Gaussian noise and dropouts standing in for "LightGlue-like" and "RoMa-like"
//!   matchers) — labelled simulated everywhere;
//! - **measured** reconstructions: `aquamvs_pipeline::Pipeline::reconstruct` (the same chain
//!   as `reconstruct` and `profile`) on rendered images of both scenes, evaluated against
//!   ground truth, with and without refraction;
//! - the sweep's **throughput** on the "small" workload (`aquamvs_sweep::Workload::SMALL`; GPU
//!   batch 1, 8 and 16, CPU reference),
//!   timed side by side by the one harness (`aquamvs_profiler::harness`).
//!
//! `--compare BASE.json [CURRENT.json]` checks for regressions (`compare.rs`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use aquamvs_metrics::{EvalOptions, SimulatedMatcher};
use aquamvs_pipeline::{Pipeline, Progress, ReconstructOptions, SweepEngine};
use aquamvs_profiler::harness;
use aquamvs_results::{
    BenchmarkResults, BoardReport, ErrorMap, ErrorMapRef, MeasuredRow, Method, OrderedMap,
    RegressionCheck, RegressionThresholds, SimulatedRow, ThroughputRow,
};
use aquamvs_scenes::{Scene, SceneKind};
use aquamvs_sweep::{
    GpuSweep, SweepSettings, View, Workload, depth_range_from_z, sweep_cpu, sweep_native,
};

use crate::flags::{self, BackendFlag, SweepFlags};
use crate::{compare, machine};

/// How rows and the machine are labelled when `--backend gpu` found no adapter.
const NO_ADAPTER: &str = "cpu (no GPU adapter)";
/// Why bench ran no board validation of PatchMatch.
const PATCHMATCH_BOARD_SKIPPED: &str = "patchmatch: not asked for (--no-board-patchmatch)";
/// Why bench runs no board validation of the AquaMVS peer.
const PEER_BOARD_SKIPPED: &str = "aquamvs peer: its sweep runs one reference view per Python \
     process on a scene folder (tools/peer); the board's 8 poses x 4 views would be 32 such \
     runs, not wired into the board command yet";
/// The plan's tolerance (first: AquaMVS's `accurate_completeness_pct`), then the finer ones.
const TOLERANCES_MM: [f64; 3] = [5.0, 2.0, 1.0];
/// Ground-truth mesh spacing, metres (DOMAIN.md).
const MESH_SPACING: f64 = 0.005;
/// Scenes also reconstructed with PatchMatch depth maps (every other ring camera a reference
/// view: each takes PatchMatch's time).
const PATCHMATCH_FUSED: [SceneKind; 1] = [SceneKind::Undulating];
/// The plan's simulated matchers.
const SIMULATED: [(&str, SimulatedMatcher); 2] = [
    (
        "LightGlue-like (simulated)",
        SimulatedMatcher {
            n: 1000,
            sigma_mm: 2.0,
            drop_fraction: 0.10,
        },
    ),
    (
        "RoMa-like (simulated)",
        SimulatedMatcher {
            n: 3000,
            sigma_mm: 1.0,
            drop_fraction: 0.05,
        },
    ),
];

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    sweep: SweepFlags,
    /// Compare with a saved run instead of (CURRENT given) or after (CURRENT omitted) running:
    /// `--compare BASE.json [CURRENT.json]`. Exits non-zero when a regression is found.
    #[arg(long, num_args = 1..=2, value_names = ["BASE", "CURRENT"], action = clap::ArgAction::Set)]
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
    /// Backend of the measured reconstructions.
    #[arg(long, value_enum, default_value_t = BackendFlag::Gpu)]
    backend: BackendFlag,
    /// Timed runs per throughput configuration (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: u32,
    /// Seed of the simulated comparison and of the renders' noise.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where the results go. The default is a scratch folder that git ignores, so running the
    /// benchmark never changes the committed results: to publish a run, give
    /// `--out-dir .benchmarks` and then run `cargo xtask update-docs`.
    #[arg(long, default_value = ".benchmarks/runs/latest")]
    out_dir: PathBuf,
    /// Print every table (the terminal shows a one-screen summary otherwise; the results file
    /// always holds everything).
    #[arg(long)]
    verbose: bool,
    /// Also run a peer's own sweep beside ours (`aquamvs`: AquaMVS's PyTorch plane sweep, through
    /// `tools/peer/aquamvs_sweep.py`; skipped with one line when it is not installed).
    #[arg(long, value_parser = ["aquamvs"])]
    peer: Option<String>,
    /// Python interpreter with `aquamvs` and `torch` for --peer (default: $AQUAMVS_PYTHON, else
    /// python3).
    #[arg(long, requires = "peer")]
    python: Option<PathBuf>,
    /// Board poses of the ground-truth board validation (0: not run).
    #[arg(long, default_value_t = 8)]
    board_poses: usize,
    /// Run the board validation with the plane sweep only, not also with PatchMatch (which
    /// takes about 40 s of the bench on 2 llvmpipe cores: 8 poses x 4 views at 320x240).
    #[arg(long)]
    no_board_patchmatch: bool,
    /// Accepted for older command lines: PatchMatch's board validation now runs by default.
    #[arg(long, hide = true)]
    board_patchmatch: bool,
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
        return compare::report(
            &compare::load(base)?,
            &base_label,
            &compare::load(current)?,
            &current_label,
            &thresholds,
        );
    }
    let settings = args.sweep.settings()?;
    for (name, v) in [("--width", args.width), ("--height", args.height)] {
        if !(32..=8192).contains(&v) {
            bail!("{name} {v} is out of range (32..=8192)");
        }
    }
    if !(1..=50).contains(&args.runs) {
        bail!("--runs {} is out of range (1..=50)", args.runs);
    }
    aquamvs_io::check_writable_dir(&args.out_dir)?;
    // Read BASE before running: the run may overwrite it, and a bad BASE should fail before
    // minutes of benchmarking.
    let base = match args.compare.as_deref() {
        Some([base]) => Some((compare::load(base)?, base.display().to_string())),
        _ => None,
    };
    let (results, error_map) = run_benchmarks(&args, settings, &thresholds)?;
    // The results and the error map they name: both or neither.
    let mut files = aquamvs_io::OutputSet::new(&args.out_dir);
    files.add(aquamvs_results::BENCHMARK_RESULTS_FILE, results.to_json());
    if let (Some(map), Some(about)) = (error_map, &results.depth_error_map) {
        files.add(about.file.clone(), serde_json::to_string(&map)? + "\n");
    }
    files.commit()?;
    let out = args.out_dir.join(aquamvs_results::BENCHMARK_RESULTS_FILE);
    println!("wrote {}", out.display());
    if let Some((base, base_label)) = base {
        return compare::report(
            &base,
            &base_label,
            &results,
            &format!("this run ({})", out.display()),
            &thresholds,
        );
    }
    Ok(())
}

fn run_benchmarks(
    args: &Args,
    settings: SweepSettings,
    thresholds: &RegressionThresholds,
) -> anyhow::Result<(BenchmarkResults, Option<ErrorMap>)> {
    let (gpu, no_adapter) = match args.backend {
        BackendFlag::Gpu => match BackendFlag::Gpu.context() {
            Ok(ctx) => (ctx, false),
            Err(e) => {
                eprintln!(
                    "warning: {e:#}; running the CPU backend instead (slower; rows labelled \
                     \"{NO_ADAPTER}\"). For the GPU path install a Vulkan driver (Debian: \
                     apt-get install mesa-vulkan-drivers libvulkan1) or choose another with \
                     WGPU_BACKEND / WGPU_ADAPTER_NAME"
                );
                (None, true)
            }
        },
        BackendFlag::Cpu => (None, false),
    };
    let pipeline = Pipeline::new(flags::backend(gpu.as_ref()))?;
    eprintln!("[1/4] simulated comparison (LightGlue-like vs RoMa-like, simulated)");
    let simulated = simulated_rows(args.seed)?;
    eprintln!("[2/4] measured reconstructions (depth maps + fusion on rendered images)");
    let mut measured = Vec::new();
    let mut error_map = None;
    let mut eta = harness::Eta::new(4 + PATCHMATCH_FUSED.len());
    for scene in [Scene::flat(), Scene::undulating()] {
        let (rows, map) = measured_rows(args, settings, &scene, &pipeline, gpu.as_ref(), &mut eta)?;
        measured.extend(rows);
        if error_map.is_none() {
            error_map = map;
        }
    }
    eprintln!("[3/4] depth methods side by side (sweep windows 3-11, PatchMatch; cam00)");
    let backend_label = match (&gpu, no_adapter) {
        (Some(c), _) => format!("gpu: {}", c.adapter_name()),
        (None, true) => NO_ADAPTER.to_string(),
        (None, false) => "cpu".to_string(),
    };
    let depth_methods = crate::methods::rows(
        &pipeline,
        &backend_label,
        (args.width, args.height),
        settings,
        args.seed,
    )?;
    eprintln!("[4/4] sweep throughput on the \"small\" workload");
    let mut sweep_throughput = throughput_rows(gpu.as_ref(), args.runs)?;

    let (peer, peer_skipped) = match &args.peer {
        None => (Vec::new(), None),
        Some(_) => {
            eprintln!(
                "[peer] AquaMVS's own sweep beside ours (small and standard workloads, both scenes)"
            );
            let python = crate::peer::python(args.python.as_deref());
            let work = std::env::temp_dir().join(format!("aquamvs-peer-{}", std::process::id()));
            let native = args.sweep.engine(gpu.as_ref()) == SweepEngine::Native;
            let rows = crate::peer::rows(&python, &work, gpu.as_ref(), args.runs, native);
            let _ = std::fs::remove_dir_all(&work);
            match rows? {
                Ok(rows) => (rows, None),
                Err(why) => {
                    eprintln!(
                        "skipped the AquaMVS peer: {why} (give a Python with aquamvs and torch \
                         by --python or AQUAMVS_PYTHON; see tools/peer/README.md)"
                    );
                    (Vec::new(), Some(why))
                }
            }
        }
    };
    let (board, board_skipped) = board_reports(args, gpu.is_some())?;
    let mut machine = machine::machine(gpu.as_ref());
    if no_adapter {
        machine.adapter = NO_ADAPTER.into();
        for r in &mut measured {
            r.backend = NO_ADAPTER.into();
            r.adapter = NO_ADAPTER.into();
        }
        for r in &mut sweep_throughput {
            r.backend = NO_ADAPTER.into();
        }
    }
    let mut results = BenchmarkResults {
        board,
        board_skipped,
        generated_at: machine::utc_now(),
        command: machine::command_line(),
        machine,
        simulated,
        measured,
        sweep_throughput,
        regression_check: Some(RegressionCheck {
            supported: true,
            command: Some("cargo xtask bench --compare BASE.json [CURRENT.json]".into()),
            thresholds: thresholds.clone(),
        }),
        depth_error_map: None,
        peer,
        peer_skipped,
        depth_methods,
        patchmatch_settings: Some(aquamvs_patchmatch::PatchMatchSettings::default().to_string()),
    };
    let map = error_map.map(|(map, about)| {
        results.depth_error_map = Some(about);
        map
    });
    if args.verbose {
        for table in [
            aquamvs_report::tables::simulated(&results),
            aquamvs_report::tables::measured(&results),
            aquamvs_report::tables::measured_by_tolerance(&results),
            aquamvs_report::tables::measured_stage_times(&results),
            aquamvs_report::tables::throughput(&results),
        ] {
            if !table.is_empty() {
                println!("{}", table.to_terminal());
            }
        }
    } else {
        print!("{}", aquamvs_report::summary::bench(&results));
    }
    Ok((results, map))
}

/// The board validation of each depth method that fits the bench's budget (files in a
/// temporary folder, removed after), and why the others did not run.
fn board_reports(args: &Args, gpu: bool) -> anyhow::Result<(Vec<BoardReport>, Vec<String>)> {
    let mut skipped = Vec::new();
    if args.no_board_patchmatch {
        skipped.push(PATCHMATCH_BOARD_SKIPPED.to_owned());
    }
    if args.peer.is_some() {
        skipped.push(PEER_BOARD_SKIPPED.to_owned());
    }
    if args.board_poses == 0 {
        skipped.insert(0, "sweep: not asked for (--board-poses 0)".to_owned());
        return Ok((Vec::new(), skipped));
    }
    let out = std::env::temp_dir().join(format!("aquamvs-board-{}", std::process::id()));
    let size = [(args.width / 2).max(160), (args.height / 2).max(120)].map(|v| v.to_string());
    let poses = args.board_poses.to_string();
    let methods = ["sweep", "patchmatch"];
    let mut reports = Vec::new();
    for method in &methods[..1 + usize::from(!args.no_board_patchmatch)] {
        let words = [
            &["--out", out.to_str().unwrap_or("."), "--poses", &poses][..],
            &[
                "--width", &size[0], "--height", &size[1], "--method", method,
            ],
            &["--backend", if gpu { "gpu" } else { "cpu" }],
            &crate::board::BENCH_FLAGS,
        ]
        .concat();
        eprintln!(
            "[board] ground-truth board validation ({})",
            words[2..].join(" ")
        );
        let report = crate::board::execute(&crate::board::parse(&words)?, false);
        let _ = std::fs::remove_dir_all(&out);
        reports.push(report?);
    }
    Ok((reports, skipped))
}

fn eval_options(scene: &Scene, seed: u64) -> EvalOptions {
    EvalOptions {
        tolerances_mm: TOLERANCES_MM.to_vec(),
        bounds: Some(scene.bounds),
        seed,
        ..EvalOptions::default()
    }
}

/// The plan's simulated comparison on both scenes.
fn simulated_rows(seed: u64) -> anyhow::Result<Vec<SimulatedRow>> {
    let mut rows = Vec::new();
    for scene in [Scene::flat(), Scene::undulating()] {
        let mesh = scene.mesh(MESH_SPACING)?;
        for (i, (name, matcher)) in SIMULATED.into_iter().enumerate() {
            let seed = seed + i as u64;
            let points = matcher.points(&mesh.vertices, &mesh.faces, seed)?;
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
                mesh_samples: Some(matcher.n as u64),
                noise_sigma_mm: matcher.sigma_mm,
                drop_fraction: matcher.drop_fraction,
                seed,
                accuracy: report.to_results(scene.kind == SceneKind::Flat),
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
    settings: SweepSettings,
    scene: &Scene,
    pipeline: &Pipeline,
    gpu: Option<&aquamvs_gpu::GpuContext>,
    eta: &mut harness::Eta,
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
    let mut opts = ReconstructOptions {
        fallback_z: Some((scene.min_height(), scene.max_height())),
        ..ReconstructOptions::default()
    };
    opts.depth.sweep = settings;
    opts.depth.engine = args.sweep.engine(gpu);
    let mut rows = Vec::new();
    let mut error_map = None;
    let patchmatch = PATCHMATCH_FUSED
        .contains(&scene.kind)
        .then_some(Method::RefractivePatchMatch);
    for method in [Method::Refractive, Method::Pinhole]
        .into_iter()
        .chain(patchmatch)
    {
        let model = match method {
            Method::Refractive | Method::RefractivePatchMatch => rig.clone(),
            Method::Pinhole => rig.without_refraction(),
        };
        let mut opts = opts.clone();
        let mut window = settings.window;
        if method == Method::RefractivePatchMatch {
            let pm = aquamvs_patchmatch::PatchMatchSettings::default();
            window = pm.window;
            opts.depth.method = aquamvs_pipeline::DepthMethod::PatchMatch(pm);
            // Every other ring camera as a reference view (PatchMatch takes ~10× the sweep's
            // time per view; the fused cloud still has 3+ views over every patch point).
            let ring = rig.cameras.iter().enumerate().filter(|(_, c)| !c.auxiliary);
            opts.references = Some(ring.map(|(i, _)| i).step_by(2).collect());
        }
        let start = Instant::now();
        let rec = pipeline.reconstruct(
            &model,
            &images,
            &opts,
            &mut Progress(|s: &aquamvs_pipeline::StageReport| {
                eprintln!(
                    "    {method}: {:<22} {:>7.2} s  {}",
                    s.stage, s.seconds, s.summary
                )
            }),
        )?;
        let runtime_s = start.elapsed().as_secs_f64();
        eprintln!("    {}", eta.step("reconstructions"));
        for w in &rec.warnings {
            eprintln!("    warning ({method}): {w}");
        }
        // A cloud with no point on the ground truth (empty, or all outside the scene's
        // bounds) has no accuracy: the row is left out, and said so.
        let report = match aquamvs_metrics::evaluate(
            &rec.cloud.points,
            &mesh.vertices,
            &mesh.faces,
            &eval_options(scene, args.seed),
        ) {
            Ok(r) => r,
            Err(
                e @ (aquamvs_metrics::MetricsError::EmptyCloud { .. }
                | aquamvs_metrics::MetricsError::NoPointsInBounds { .. }),
            ) => {
                eprintln!(
                    "    warning ({method}): no accuracy to report for {}: {e}",
                    scene.kind.name()
                );
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        if method == Method::Refractive && scene.kind == SceneKind::Flat {
            error_map = rec.depth_maps.first().map(|m| {
                let cam = &rig.cameras[m.view];
                let e = aquamvs_metrics::signed_error_map(
                    &m.depth,
                    &scene.depth_map(cam),
                    m.width as usize,
                    m.height as usize,
                    320,
                );
                let map = ErrorMap {
                    width: e.width,
                    height: e.height,
                    values: e.values,
                };
                let about = ErrorMapRef {
                    file: "depth_error_map.json".into(),
                    scene: scene.kind.name().into(),
                    view: cam.name.clone(),
                    method: Some(Method::Refractive),
                    color_limit_mm: Some(1.0),
                };
                (map, about)
            });
        }
        rows.push(MeasuredRow {
            scene: scene.kind.name().into(),
            method,
            width: args.width,
            height: args.height,
            depths: settings.depths,
            window,
            batch: settings.batch,
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
            accuracy: report.to_results(scene.kind == SceneKind::Flat),
        });
    }
    Ok((rows, error_map))
}

/// One sweep workload of DOMAIN.md, rendered: cam00 of the reference rig at the workload's
/// size and its nearest sources, seeing `scene`; the range covers the scene's stated extent
/// ± 5 cm. Shared by the throughput rows here and `profile`'s batching benchmark.
pub struct Rendered {
    pub workload: Workload,
    rig: aquamvs_camera::Rig,
    idx: Vec<usize>,
    images: Vec<Vec<f32>>,
    pub range: (f32, f32),
}

impl Rendered {
    pub fn new(workload: Workload, scene: &Scene) -> anyhow::Result<Self> {
        let rig = aquamvs_camera::Rig::reference(workload.width, workload.height)?;
        let idx: Vec<usize> = std::iter::once(0)
            .chain(rig.sources(0, workload.sources))
            .collect();
        let images = idx
            .iter()
            .map(|&i| aquamvs_scenes::render(scene, &rig.cameras[i], &Default::default()))
            .collect();
        let range = depth_range_from_z(
            &rig.cameras[0],
            scene.min_height(),
            scene.max_height(),
            0.05,
        )?;
        Ok(Self {
            workload,
            rig,
            idx,
            images,
            range,
        })
    }

    /// One GPU sweep of the workload at a depth batch.
    pub fn sweep_gpu(
        &self,
        sweep: &GpuSweep,
        ctx: &aquamvs_gpu::GpuContext,
        batch: u32,
    ) -> Result<aquamvs_sweep::SweepOutput, aquamvs_sweep::SweepError> {
        let views = self.views();
        let settings = self.workload.settings(batch);
        sweep.run(
            &ctx.device,
            &ctx.queue,
            views[0],
            &views[1..],
            &settings,
            self.range,
        )
    }

    /// The reference view, then the sources.
    pub fn views(&self) -> Vec<View<'_>> {
        self.idx
            .iter()
            .zip(&self.images)
            .map(|(&i, image)| View {
                camera: &self.rig.cameras[i],
                image,
            })
            .collect()
    }
}

/// Sweep throughput on the "small" workload of the rendered flat scene: GPU at batch 1, 8 and
/// 16 interleaved run by run (same conditions), and the CPU reference.
fn throughput_rows(
    gpu: Option<&aquamvs_gpu::GpuContext>,
    runs: u32,
) -> anyhow::Result<Vec<ThroughputRow>> {
    let runs = runs.max(1);
    let small = Rendered::new(Workload::SMALL, &Scene::flat())?;
    let (views, range, wl) = (small.views(), small.range, small.workload);
    let samples = wl.samples() as f64;
    let row = |backend: &str, batch: u32, s: harness::TimeSummary, adapter: Option<String>| {
        ThroughputRow {
            workload: wl.name.into(),
            backend: backend.into(),
            batch,
            samples_per_s: samples / s.median,
            median_ms: s.median * 1e3,
            adapter,
        }
    };
    let mut rows = Vec::new();
    if let Some(ctx) = gpu {
        let batches = [1u32, 8, 16];
        // One sweep per batch size: each keeps its buffers from run to run.
        let sweeps = batches
            .iter()
            .map(|_| GpuSweep::new(&ctx.device))
            .collect::<Result<Vec<_>, _>>()?;
        // The native CPU sweep as one more variant, side by side with the shaders.
        let timed = harness::interleaved(
            batches.len() + 1,
            runs,
            |v| match batches.get(v) {
                Some(&b) => small.sweep_gpu(&sweeps[v], ctx, b),
                None => sweep_native(views[0], &views[1..], &wl.settings(1), range),
            },
            |_, _| {},
        )?;
        rows.push(row("native", 1, timed.summary(batches.len()), None));
        for (k, &b) in batches.iter().enumerate() {
            rows.push(row(
                "gpu",
                b,
                timed.summary(k),
                Some(ctx.adapter_name().to_string()),
            ));
        }
    }
    let timed = harness::interleaved(
        1,
        runs.min(3),
        |_| sweep_cpu(views[0], &views[1..], &wl.settings(1), range),
        |_, _| {},
    )?;
    rows.push(row("cpu", 1, timed.summary(0), None));
    Ok(rows)
}
