//! The results as [`Table`]s: one function per table, each a straight copy of fields into
//! formatted cells (no sums, no ratios, no sorting — the producers did that).

pub use aquamvs_results::PLAN_TOLERANCE_MM;
use aquamvs_results::{
    BenchmarkResults, Machine, ProfileReport, QuantityCheck, Verification, Workload,
};

use crate::table::{Table, fixed, opt_fixed, si, speedup, thousands};

/// `standard (640×480, 5 cameras, 64 depths, sources=4)` — a workload in one line.
pub fn workload_line(w: &Workload) -> String {
    let mut s = format!(
        "{}×{}, {} cameras, {} depths",
        w.width, w.height, w.cameras, w.depths
    );
    for (k, v) in &w.extra {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        s.push_str(&format!(", {k}={v}"));
    }
    match &w.name {
        Some(name) => format!("{name} ({s})"),
        None => s,
    }
}

/// "Hardware": one column per run, rows CPU, cores, memory, OS, adapter, backend.
pub fn hardware(runs: &[(&str, &Machine)]) -> Table {
    let mut header = vec!["Machine"];
    header.extend(runs.iter().map(|(label, _)| *label));
    let mut t = Table::new("Hardware", &header);
    type Field = fn(&Machine) -> String;
    let fields: [(&str, Field); 7] = [
        ("CPU", |m| m.cpu_model.clone()),
        ("Cores", |m| m.cores.to_string()),
        ("Memory", |m| format!("{} GB", fixed(m.memory_gb, 1))),
        ("OS", |m| m.os.clone()),
        ("Adapter", |m| m.adapter.clone()),
        ("Backend", |m| m.backend.clone()),
        ("Device type", |m| m.device_type.clone().unwrap_or_default()),
    ];
    for (name, get) in fields {
        let mut row = vec![name.to_owned()];
        row.extend(runs.iter().map(|(_, m)| get(m)));
        t.push(row);
    }
    t
}

/// "Baseline Performance": the measured reconstructions in one line each.
pub fn baseline(bench: &BenchmarkResults) -> Table {
    let mut t = Table::new(
        "Baseline Performance",
        &[
            "Scene",
            "Method",
            "Image",
            "Depths",
            "Batch",
            "Backend",
            "Points",
            "Runtime (s)",
            "Median error (mm)",
            "F-score @ 5 mm (%)",
        ],
    );
    for r in &bench.measured {
        t.push(vec![
            r.scene.clone(),
            r.method.to_string(),
            format!("{}×{}", r.width, r.height),
            r.depths.to_string(),
            r.batch.to_string(),
            r.backend.clone(),
            thousands(r.n_points),
            fixed(r.runtime_s, 2),
            fixed(r.accuracy.median_error_mm, 3),
            opt_fixed(
                r.accuracy
                    .at_tolerance(PLAN_TOLERANCE_MM)
                    .map(|s| s.fscore_pct),
                1,
            ),
        ]);
    }
    t
}

/// Heading of a stage's `memory_mb`: what it measures.
pub const GPU_MEMORY_COLUMN: &str = "GPU memory (MB, allocator growth)";
/// Heading of a stage's `host_peak_rss_growth_mb`: what it measures.
pub const HOST_MEMORY_COLUMN: &str = "Host memory (MB, peak RSS growth)";

/// "Per-stage timing": CPU, GPU, total and self time, GPU memory (the allocator's growth) and
/// host memory (the growth of the process's peak RSS, `—` where not recorded) of each stage,
/// in file order.
pub fn stages(profile: &ProfileReport) -> Table {
    let mut t = Table::new(
        "Per-stage timing",
        &[
            "Stage",
            "CPU (ms)",
            "GPU (ms)",
            "Total (ms)",
            "Self (ms)",
            GPU_MEMORY_COLUMN,
            HOST_MEMORY_COLUMN,
            "Status",
        ],
    );
    for (name, s) in profile.stages.iter() {
        t.push(vec![
            name.to_owned(),
            fixed(s.cpu_time_ms, 1),
            opt_fixed(s.gpu_time_ms, 1),
            fixed(s.total_time_ms, 1),
            opt_fixed(s.self_time_ms, 1),
            fixed(s.memory_mb, 1),
            opt_fixed(s.host_peak_rss_growth_mb, 1),
            s.status.clone(),
        ]);
    }
    t
}

/// "Top 3 bottlenecks": the first three of `top_bottlenecks` (the producer sorted them).
pub fn bottlenecks(profile: &ProfileReport) -> Table {
    let mut t = Table::new(
        "Top 3 bottlenecks",
        &["Rank", "Stage or scope", "Time (ms)", GPU_MEMORY_COLUMN],
    );
    for (i, b) in profile.top_bottlenecks.iter().take(3).enumerate() {
        t.push(vec![
            (i + 1).to_string(),
            b.name.clone(),
            fixed(b.time_ms, 1),
            fixed(b.memory_mb, 1),
        ]);
    }
    t
}

/// "Depth batching": the sweep at each batch size, before (batch 1) and after.
pub fn batching(profile: &ProfileReport) -> Table {
    let mut t = Table::new(
        "Depth batching (sweep time per batch size)",
        &[
            "Batch size",
            "Median (ms)",
            "Min (ms)",
            "Max (ms)",
            "Runs",
            "Speed-up vs batch 1",
            "Samples/s",
        ],
    );
    for b in &profile.depth_batching {
        t.push(vec![
            b.batch_size.to_string(),
            fixed(b.median_ms, 1),
            fixed(b.min_ms, 1),
            fixed(b.max_ms, 1),
            b.runs.to_string(),
            speedup(b.speedup),
            b.samples_per_s.map_or_else(|| "—".to_owned(), si),
        ]);
    }
    t
}

/// The plan's comparison, **labelled simulated** in the title and in every row's config.
pub fn simulated(bench: &BenchmarkResults) -> Table {
    let mut t = Table::new(
        "Simulated comparison (noisy mesh samples, not pipeline runs)",
        &[
            "Config",
            "Scene",
            "Points",
            "Noise σ (mm)",
            "Dropped (%)",
            "Mean error (mm)",
            "Median error (mm)",
            "Std (mm)",
            "Raw completeness (%)",
            "Plane-fit RMSE (mm)",
            "Precision @ 5 mm (%)",
            "Recall @ 5 mm (%)",
            "F-score @ 5 mm (%)",
        ],
    );
    for r in &bench.simulated {
        let at = r.accuracy.at_tolerance(PLAN_TOLERANCE_MM);
        let name = if r.name.to_lowercase().contains("simulated") {
            r.name.clone()
        } else {
            format!("{} (simulated)", r.name)
        };
        t.push(vec![
            name,
            r.scene.clone(),
            thousands(r.n_points),
            fixed(r.noise_sigma_mm, 1),
            fixed(r.drop_fraction * 100.0, 0),
            fixed(r.accuracy.mean_error_mm, 3),
            fixed(r.accuracy.median_error_mm, 3),
            fixed(r.accuracy.std_error_mm, 3),
            fixed(r.accuracy.raw_completeness_pct, 2),
            opt_fixed(r.accuracy.plane_fit_rmse_mm, 3),
            opt_fixed(at.map(|s| s.precision_pct), 1),
            opt_fixed(at.map(|s| s.recall_pct), 1),
            opt_fixed(at.map(|s| s.fscore_pct), 1),
        ]);
    }
    t
}

/// Measured reconstructions: distance statistics, runtime and points.
pub fn measured(bench: &BenchmarkResults) -> Table {
    let mut t = Table::new(
        "Measured reconstructions (rendered images, real sweep and fusion)",
        &[
            "Scene",
            "Method",
            "Points",
            "Mean error (mm)",
            "Median error (mm)",
            "Std (mm)",
            "Plane-fit RMSE (mm)",
            "Runtime (s)",
            "Adapter",
        ],
    );
    for r in &bench.measured {
        t.push(vec![
            r.scene.clone(),
            r.method.to_string(),
            thousands(r.n_points),
            fixed(r.accuracy.mean_error_mm, 3),
            fixed(r.accuracy.median_error_mm, 3),
            fixed(r.accuracy.std_error_mm, 3),
            opt_fixed(r.accuracy.plane_fit_rmse_mm, 3),
            fixed(r.runtime_s, 2),
            r.adapter.clone(),
        ]);
    }
    t
}

/// Measured reconstructions: precision, recall and F-score at each tolerance.
pub fn measured_by_tolerance(bench: &BenchmarkResults) -> Table {
    let mut t = Table::new(
        "Measured reconstructions by tolerance",
        &[
            "Scene",
            "Method",
            "Tolerance (mm)",
            "Precision (%)",
            "Recall (%)",
            "F-score (%)",
        ],
    );
    for r in &bench.measured {
        for s in &r.accuracy.by_tolerance {
            t.push(vec![
                r.scene.clone(),
                r.method.to_string(),
                fixed(s.tolerance_mm, 1),
                fixed(s.precision_pct, 1),
                fixed(s.recall_pct, 1),
                fixed(s.fscore_pct, 1),
            ]);
        }
    }
    t
}

/// Measured reconstructions: wall time of each pipeline stage, s. Columns are the stage
/// names in the order they first appear.
pub fn measured_stage_times(bench: &BenchmarkResults) -> Table {
    let mut names: Vec<&str> = Vec::new();
    for r in &bench.measured {
        for (k, _) in r.stage_times_s.iter() {
            if !names.contains(&k) {
                names.push(k);
            }
        }
    }
    let mut header = vec!["Scene", "Method"];
    header.extend(names.iter().copied());
    header.push("Total (s)");
    let mut t = Table::new("Reconstruction time per stage (s)", &header);
    for r in &bench.measured {
        let mut row = vec![r.scene.clone(), r.method.to_string()];
        row.extend(
            names
                .iter()
                .map(|n| opt_fixed(r.stage_times_s.get(n).copied(), 2)),
        );
        row.push(fixed(r.runtime_s, 2));
        t.push(row);
    }
    t
}

/// Sweep throughput on the named workloads.
pub fn throughput(bench: &BenchmarkResults) -> Table {
    let mut t = Table::new(
        "Sweep throughput",
        &[
            "Workload",
            "Backend",
            "Adapter",
            "Batch",
            "Median (ms)",
            "Samples/s",
        ],
    );
    for r in &bench.sweep_throughput {
        t.push(vec![
            r.workload.clone(),
            r.backend.clone(),
            r.adapter.clone().unwrap_or_default(),
            r.batch.to_string(),
            fixed(r.median_ms, 1),
            si(r.samples_per_s),
        ]);
    }
    t
}

/// AquaMVS's own sweep beside ours (`bench --peer aquamvs`): two rows per scene and image size.
pub fn peer(bench: &BenchmarkResults) -> Table {
    let mut t = Table::new(
        "AquaMVS's plane sweep beside ours (same images, views, range, depths, window)",
        &[
            "Scene",
            "Sweep",
            "Backend",
            "Median |error| (mm)",
            "Valid (%)",
            "Median time (s)",
            "Samples/s",
            "Speed-up",
        ],
    );
    for r in &bench.peer {
        for (side, speedup) in [(&r.ours, fixed(r.speedup, 1) + "×"), (&r.peer, "1×".into())] {
            t.push(vec![
                format!("{} {}×{}", r.scene, r.width, r.height),
                side.name.clone(),
                side.backend.clone(),
                fixed(side.median_error_mm, 3),
                fixed(side.valid_pct, 1),
                fixed(side.median_s, 2),
                si(side.samples_per_s),
                speedup,
            ]);
        }
    }
    t
}

/// The depth methods side by side (`bench`): one row per scene, noise and method; the last
/// column is the runtime over the plane sweep's at window 11 of the same scene and noise, both
/// from the same run.
pub fn depth_methods(bench: &BenchmarkResults) -> Table {
    let mut t = Table::new(
        "Depth methods side by side (same view, sources, range and images)",
        &[
            "Scene",
            "Noise σ",
            "Method",
            "Window",
            "Median |error| (mm)",
            "Valid (%)",
            "≤ 1 mm (%)",
            "Normals (°)",
            "Time (s)",
            "Time / sweep w11",
        ],
    );
    for r in &bench.depth_methods {
        let base = bench.depth_methods.iter().find(|o| {
            o.scene == r.scene && o.noise == r.noise && o.method == "sweep" && o.window == 11
        });
        t.push(vec![
            r.scene.clone(),
            fixed(r.noise, 2),
            r.method.clone(),
            r.window.to_string(),
            fixed(r.median_error_mm, 3),
            fixed(r.valid_pct, 1),
            fixed(r.within_1_mm_pct, 1),
            r.normal_median_deg.map_or("–".into(), |d| fixed(d, 2)),
            fixed(r.runtime_s, 2),
            base.map_or("–".into(), |b| fixed(r.runtime_s / b.runtime_s, 1) + "×"),
        ]);
    }
    t
}

/// The regression thresholds of `cargo xtask bench --compare`.
pub fn regression(bench: &BenchmarkResults) -> Table {
    let mut t = Table::new(
        "Regression thresholds of cargo xtask bench --compare",
        &["Supported", "Accuracy", "Completeness", "Time"],
    );
    if let Some(r) = &bench.regression_check {
        t.push(vec![
            if r.supported { "yes" } else { "no" }.to_owned(),
            format!("worse by > {} %", fixed(r.thresholds.accuracy_pct, 1)),
            format!("lower by > {} %", fixed(r.thresholds.completeness_pct, 1)),
            format!("slower by > {} %", fixed(r.thresholds.time_pct, 1)),
        ]);
    }
    t
}

/// The Observable Truths table, `| # | Truth | Status | Evidence |` (untitled).
pub fn truths(v: &Verification) -> Table {
    let mut t = Table::new("", &["#", "Truth", "Status", "Evidence"]);
    for truth in &v.truths {
        t.push(vec![
            truth.number.to_string(),
            truth.truth.clone(),
            if truth.verified { "VERIFIED" } else { "FAILED" }.to_owned(),
            truth.evidence.clone(),
        ]);
    }
    t
}

/// "Regression check (CURRENT vs BASE)": the regressions among `checks` (every check when
/// `all`), in the order given.
pub fn regressions(checks: &[QuantityCheck], all: bool) -> Table {
    let mut table = Table::new(
        "Regression check (CURRENT vs BASE)",
        &[
            "Quantity",
            "Base",
            "Current",
            "Worse by",
            "Threshold",
            "Verdict",
        ],
    );
    for c in checks.iter().filter(|c| all || c.regression) {
        table.push(vec![
            c.what.clone(),
            format!("{:.4}", c.base),
            if c.current.is_finite() {
                format!("{:.4}", c.current)
            } else {
                "missing".into()
            },
            if c.worse_pct.is_finite() {
                format!("{:+.1} %", c.worse_pct)
            } else {
                "n/a".into()
            },
            format!("{:.0} %", c.threshold_pct),
            if c.regression { "REGRESSION" } else { "ok" }.into(),
        ]);
    }
    table
}

/// The ground-truth board validation: the external real-rig figures
/// ([`aquamvs_results::AQUAMVS_REAL_RIG`]) beside each depth method's run on exact ground
/// truth, one column each, one metric per row.
pub fn board(reports: &[aquamvs_results::BoardReport]) -> Table {
    let ext = &aquamvs_results::AQUAMVS_REAL_RIG;
    let mut header = vec![
        "Metric".to_owned(),
        "AquaMVS, real rig (external)".to_owned(),
    ];
    header.extend(
        reports
            .iter()
            .map(|r| format!("{} (synthetic, exact truth)", r.method)),
    );
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut t = Table::new(
        "Ground-truth board validation (12×9 board, 60 mm squares; the paper's metrics)",
        &header,
    );
    let row = |name: &str, ext: String, ours: &dyn Fn(&aquamvs_results::BoardReport) -> String| {
        let mut cells = vec![name.to_owned(), ext];
        cells.extend(reports.iter().map(ours));
        cells
    };
    let none = || "—".to_owned();
    let rows = [
        row("Flatness RMS (mm)", fixed(ext.flatness_rms_mm, 2), &|r| {
            fixed(r.metrics.flatness_rms_mm, 3)
        }),
        row(
            "Cross-camera RMS (mm)",
            fixed(ext.cross_camera_rms_mm, 2),
            &|r| opt_fixed(r.metrics.cross_camera_rms_mm, 3),
        ),
        row("Range RMS (mm)", fixed(ext.range_rms_mm, 2), &|r| {
            fixed(r.metrics.range_rms_mm, 3)
        }),
        row("Lateral RMS (mm)", fixed(ext.lateral_rms_mm, 2), &|r| {
            fixed(r.metrics.lateral_rms_mm, 3)
        }),
        row("Range / lateral", fixed(ext.range_lateral_ratio, 2), &|r| {
            opt_fixed(r.metrics.range_lateral_ratio, 2)
        }),
        row(
            "Scale error (%)",
            format!("{:+.3}", ext.scale_error_pct),
            &|r| format!("{:+.4}", r.metrics.scale_error_pct),
        ),
        row("Square size (mm)", fixed(ext.square_size_mm, 3), &|r| {
            fixed(r.metrics.square_size_mm, 3)
        }),
        row("Board-size CV", fixed(ext.board_size_cv, 4), &|r| {
            opt_fixed(r.metrics.board_size_cv, 4)
        }),
        row("Absolute RMS (mm)", none(), &|r| {
            fixed(r.metrics.absolute_rms_mm, 3)
        }),
        row("Dropout (%)", fixed(ext.dropout_pct, 1), &|r| {
            fixed(r.dropout_pct, 2)
        }),
        row("Detector error, median / max (px)", none(), &|r| {
            format!(
                "{} / {}",
                fixed(r.detector.median_px, 3),
                fixed(r.detector.max_px, 3)
            )
        }),
        row("Poses × reference cameras", "8 × —".to_owned(), &|r| {
            format!("{} × {}", r.poses, r.cameras)
        }),
        row("Time (s)", none(), &|r| fixed(r.timings.total_s, 1)),
    ];
    for r in rows {
        t.push(r);
    }
    t
}
