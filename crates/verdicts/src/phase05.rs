//! The phase-05 verdicts ("performance and optimization"), computed from the two results files
//! alone.
//!
//! **A truth holds only while its evidence does**: rerunning with worse results (a slower
//! batched sweep, a stage dropping out of the top three, a missing comparison row) turns it
//! back to failed and the status back to `gaps_found`.

use std::cmp::Ordering;

use aquamvs_report::docs::{self, MarkerStyle};
use aquamvs_report::pages::REGRESSION_REGION;
use aquamvs_report::table::{fixed, speedup};
use aquamvs_report::tables::workload_line;
use aquamvs_results::{
    Accuracy, BatchTiming, BenchmarkResults, PLAN_TOLERANCE_MM, ProfileReport, SimulatedRow,
    StageTiming, TruthVerdict, Verification,
};

/// The phase these truths belong to.
pub const PHASE: &str = "05-performance-and-optimization";

/// The four success criteria of phase 05.
pub const TRUTHS: [&str; 4] = [
    "A benchmark comparing the RoMa and LightGlue pathways is implemented and its results are documented",
    "Runtime profiling identifies and documents the top 3 performance bottlenecks with specific measurements",
    "At least one optimization targeting a measured bottleneck is implemented and verified by before/after timing",
    "A benchmark suite tracks performance across code changes and detects regressions",
];

/// How far a reported speed-up may be from the one the medians give (relative).
const SPEEDUP_TOLERANCE: f64 = 0.02;

/// Timed runs each batch size needs before its min..max range says anything about noise.
pub const MIN_BATCH_RUNS: u32 = 3;

/// One pathway of the plan's simulated comparison, as the plan specified it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimulatedRecipe {
    /// The pathway it stands in for, e.g. `LightGlue-like`.
    pub pathway: &'static str,
    /// Mesh samples drawn before dropping.
    pub mesh_samples: u64,
    /// Gaussian noise σ, mm.
    pub noise_sigma_mm: f64,
    /// Fraction of the samples dropped, 0–1.
    pub drop_fraction: f64,
}

/// The plan's two recipes, scored at [`PLAN_TOLERANCE_MM`]; each row is labelled
/// [`SIMULATED_LABEL`].
pub const PLAN_SIMULATION: [SimulatedRecipe; 2] = [
    SimulatedRecipe {
        pathway: "LightGlue-like",
        mesh_samples: 1000,
        noise_sigma_mm: 2.0,
        drop_fraction: 0.10,
    },
    SimulatedRecipe {
        pathway: "RoMa-like",
        mesh_samples: 3000,
        noise_sigma_mm: 1.0,
        drop_fraction: 0.05,
    },
];

/// What every simulated row's name must say.
pub const SIMULATED_LABEL: &str = "(simulated)";

impl SimulatedRecipe {
    /// Whether `row` was made by this recipe: its samples, σ and drop rate, at most the points
    /// the recipe keeps, labelled simulated, with finite metrics scored at the plan's tolerance.
    pub fn made(&self, row: &SimulatedRow) -> bool {
        let kept = (self.mesh_samples as f64 * (1.0 - self.drop_fraction)).round() as u64;
        row.mesh_samples == Some(self.mesh_samples)
            && (row.noise_sigma_mm - self.noise_sigma_mm).abs() < 1e-9
            && (row.drop_fraction - self.drop_fraction).abs() < 1e-9
            && row.n_points > 0
            && row.n_points <= kept
            && row.name.contains(SIMULATED_LABEL)
            && accuracy_finite(&row.accuracy)
            && row.accuracy.at_tolerance(PLAN_TOLERANCE_MM).is_some()
    }

    fn describe(&self) -> String {
        format!(
            "{}: {} samples, σ {} mm, {} % dropped",
            self.pathway,
            self.mesh_samples,
            fixed(self.noise_sigma_mm, 1),
            fixed(self.drop_fraction * 100.0, 0)
        )
    }
}

/// Judges the four truths. `benchmarks_page` is the text of `docs/benchmarks.rst` as it will
/// be written (truth 4 needs the page to document the regression check).
pub fn verify(
    profile: &ProfileReport,
    bench: &BenchmarkResults,
    benchmarks_page: &str,
) -> Verification {
    let judged = [
        truth1(bench),
        truth2(profile),
        truth3(profile),
        truth4(bench, benchmarks_page),
    ];
    let truths: Vec<TruthVerdict> = judged
        .into_iter()
        .zip(TRUTHS)
        .enumerate()
        .map(|(i, ((verified, evidence), truth))| TruthVerdict {
            number: i as u32 + 1,
            truth: truth.to_owned(),
            verified,
            evidence,
        })
        .collect();
    let score = truths.iter().filter(|t| t.verified).count();
    Verification {
        phase: PHASE.to_owned(),
        verified: later(&profile.generated_at, &bench.generated_at).to_owned(),
        status: if score == truths.len() {
            "gaps_closed"
        } else {
            "gaps_found"
        }
        .to_owned(),
        truths,
        score,
    }
}

/// The later of two UTC RFC 3339 stamps (fractional seconds compared as numbers).
pub fn later<'a>(a: &'a str, b: &'a str) -> &'a str {
    let key = |s: &'a str| {
        let (whole, frac) = s
            .trim_end_matches('Z')
            .split_at(19.min(s.len().saturating_sub(1)));
        let frac = frac.trim_start_matches('.');
        (whole, format!("{frac:0<9}"))
    };
    if key(a).cmp(&key(b)) == Ordering::Less {
        b
    } else {
        a
    }
}

fn accuracy_finite(a: &Accuracy) -> bool {
    let mut values = vec![
        a.mean_error_mm,
        a.median_error_mm,
        a.std_error_mm,
        a.raw_completeness_pct,
        a.accurate_completeness_pct,
    ];
    values.extend(a.plane_fit_rmse_mm);
    values.extend(a.plane_fit_max_error_mm);
    for t in &a.by_tolerance {
        values.extend([t.tolerance_mm, t.precision_pct, t.recall_pct, t.fscore_pct]);
    }
    values.iter().all(|v| v.is_finite())
}

/// Truth 1: on at least one scene, a row made by each of the plan's recipes
/// ([`PLAN_SIMULATION`]), labelled simulated, with finite metrics at the plan's 5 mm tolerance.
/// Row names are not trusted: the recipe recorded in the row is.
fn truth1(bench: &BenchmarkResults) -> (bool, String) {
    let mut scenes: Vec<&str> = Vec::new();
    for r in &bench.simulated {
        if !scenes.contains(&r.scene.as_str()) {
            scenes.push(&r.scene);
        }
    }
    let [lg_recipe, roma_recipe] = &PLAN_SIMULATION;
    let made = |recipe: &SimulatedRecipe, scene: &str| {
        bench
            .simulated
            .iter()
            .find(|r| r.scene == scene && recipe.made(r))
    };
    let mut complete = Vec::new();
    for scene in &scenes {
        if let (Some(lg), Some(roma)) = (made(lg_recipe, scene), made(roma_recipe, scene)) {
            let f = |r: &SimulatedRow| {
                r.accuracy
                    .at_tolerance(PLAN_TOLERANCE_MM)
                    .map_or(f64::NAN, |t| t.fscore_pct)
            };
            complete.push(format!(
                "{scene}: {} median {} mm, F@5 mm {} % vs {} median {} mm, F@5 mm {} %",
                lg_recipe.pathway,
                fixed(lg.accuracy.median_error_mm, 2),
                fixed(f(lg), 1),
                roma_recipe.pathway,
                fixed(roma.accuracy.median_error_mm, 2),
                fixed(f(roma), 1)
            ));
        }
    }
    let recipes = format!(
        "{}; {}; scored at {} mm",
        lg_recipe.describe(),
        roma_recipe.describe(),
        fixed(PLAN_TOLERANCE_MM, 0)
    );
    if complete.is_empty() {
        (
            false,
            format!(
                "No scene has a row made by each of the plan's recipes ({recipes}), labelled \"{SIMULATED_LABEL}\", with finite metrics ({} simulated rows).",
                bench.simulated.len()
            ),
        )
    } else {
        (
            true,
            format!(
                "Simulated comparison (noisy mesh samples standing in for matcher output, not matcher runs) by the plan's recipes ({recipes}), documented in docs/benchmarks.rst — {}.",
                complete.join("; ")
            ),
        )
    }
}

/// The stage a bottleneck or stage name belongs to: the stage itself, or `stage/scope`,
/// `stage::scope`, `stage.scope`.
fn stage_of<'a>(profile: &'a ProfileReport, name: &str) -> Option<(&'a str, &'a StageTiming)> {
    profile.stages.iter().find(|(stage, _)| {
        name == *stage
            || name.strip_prefix(stage).is_some_and(|rest| {
                rest.starts_with('/') || rest.starts_with("::") || rest.starts_with('.')
            })
    })
}

/// Truth 2: three bottlenecks, positive times, sorted, each in a stage that completed.
fn truth2(profile: &ProfileReport) -> (bool, String) {
    let top: Vec<_> = profile.top_bottlenecks.iter().take(3).collect();
    if top.len() < 3 {
        return (
            false,
            format!(
                "The profile names {} bottleneck(s); three are needed.",
                top.len()
            ),
        );
    }
    for b in &top {
        if !(b.time_ms.is_finite() && b.time_ms > 0.0) {
            return (
                false,
                format!("Bottleneck `{}` has no positive time.", b.name),
            );
        }
        match stage_of(profile, &b.name) {
            None => {
                return (
                    false,
                    format!("Bottleneck `{}` is not one of the profiled stages.", b.name),
                );
            }
            Some((stage, s)) if !s.is_ok() => {
                return (
                    false,
                    format!(
                        "Bottleneck `{}` is in stage `{stage}`, which did not complete ({}).",
                        b.name, s.status
                    ),
                );
            }
            Some(_) => {}
        }
    }
    if profile
        .top_bottlenecks
        .windows(2)
        .any(|w| !(w[0].time_ms >= w[1].time_ms))
    {
        return (
            false,
            "The bottlenecks are not sorted by time, so the first three are not the top three."
                .to_owned(),
        );
    }
    let list: Vec<String> = top
        .iter()
        .enumerate()
        .map(|(i, b)| {
            format!(
                "({}) {} {} ms, {} MB GPU memory (allocator growth)",
                i + 1,
                b.name,
                fixed(b.time_ms, 1),
                fixed(b.memory_mb, 1)
            )
        })
        .collect();
    (
        true,
        format!(
            "Real stages profiled ({}; {}): {}.",
            workload_line(&profile.workload),
            profile.timing_source,
            list.join(", ")
        ),
    )
}

/// Truth 3: the optimised stage is a measured top-3 bottleneck and batching measurably
/// speeds the sweep up.
fn truth3(profile: &ProfileReport) -> (bool, String) {
    let stage = profile.optimised_stage.as_str();
    let rank = profile
        .top_bottlenecks
        .iter()
        .take(3)
        .position(|b| stage_of(profile, &b.name).is_some_and(|(s, _)| s == stage));
    let Some(rank) = rank else {
        return (
            false,
            format!("The optimised stage `{stage}` is not among the measured top 3 bottlenecks."),
        );
    };
    let rows = &profile.depth_batching;
    let Some(base) = rows.iter().find(|r| r.batch_size == 1) else {
        return (
            false,
            "No batch-1 (unbatched) timing to compare against.".to_owned(),
        );
    };
    if !(base.median_ms.is_finite() && base.median_ms > 0.0) {
        return (
            false,
            "The batch-1 median is not a positive time.".to_owned(),
        );
    }
    let computed = |r: &BatchTiming| base.median_ms / r.median_ms;
    let candidates: Vec<_> = rows
        .iter()
        .filter(|r| r.batch_size > 1 && r.median_ms.is_finite() && r.median_ms > 0.0)
        .collect();
    let target = candidates.iter().find(|r| r.batch_size == 16).or_else(|| {
        candidates
            .iter()
            .max_by(|a, b| computed(a).total_cmp(&computed(b)))
    });
    let Some(target) = target else {
        return (
            false,
            "No batched (batch > 1) timing to compare with batch 1.".to_owned(),
        );
    };
    let s = computed(target);
    if (target.speedup - s).abs() > SPEEDUP_TOLERANCE * s {
        return (
            false,
            format!(
                "Reported batch-{} speed-up {} disagrees with its medians ({} / {} ms = {}).",
                target.batch_size,
                speedup(target.speedup),
                fixed(base.median_ms, 1),
                fixed(target.median_ms, 1),
                speedup(s)
            ),
        );
    }
    let workload = profile
        .depth_batching_workload
        .as_ref()
        .map(|w| format!(" on {}", workload_line(w)))
        .unwrap_or_default();
    let ranges = format!(
        "ranges {}–{} ms vs {}–{} ms",
        fixed(base.min_ms, 1),
        fixed(base.max_ms, 1),
        fixed(target.min_ms, 1),
        fixed(target.max_ms, 1)
    );
    let measured = format!(
        "`{stage}` is measured bottleneck #{}; sweep median {} ms at batch 1 vs {} ms at batch {} ({}, {} and {} runs; {ranges}){workload}",
        rank + 1,
        fixed(base.median_ms, 1),
        fixed(target.median_ms, 1),
        target.batch_size,
        speedup(s),
        base.runs,
        target.runs
    );
    if !(s > 1.0) {
        return (
            false,
            format!("Depth batching does not speed the sweep up: {measured}."),
        );
    }
    if base.runs.min(target.runs) < MIN_BATCH_RUNS {
        return (
            false,
            format!(
                "Too few runs to tell the speed-up from run-to-run noise (at least {MIN_BATCH_RUNS} each): {measured}."
            ),
        );
    }
    // Every batched run must beat every unbatched one: the ranges may not overlap.
    if !(target.max_ms < base.min_ms) {
        return (
            false,
            format!(
                "The speed-up is inside run-to-run noise (the batch-1 and batch-{} ranges overlap): {measured}.",
                target.batch_size
            ),
        );
    }
    (
        true,
        format!("Depth batching: {measured}; the ranges do not overlap."),
    )
}

/// What the benchmarks page lacks for truth 4, if anything: its regression section (the
/// generated `regression-check` region) with its list-table, and no "TBD" or "pending".
fn page_gap(page: &str) -> Option<String> {
    let regions = match docs::find_regions(page, MarkerStyle::Rst) {
        Ok(r) => r,
        Err(e) => return Some(format!("its generated regions are damaged ({e})")),
    };
    let Some(region) = regions.iter().find(|r| r.name == REGRESSION_REGION) else {
        return Some(format!("it has no `{REGRESSION_REGION}` section"));
    };
    if !page[region.body.clone()].contains(".. list-table::") {
        return Some(format!(
            "its `{REGRESSION_REGION}` section holds no table of thresholds"
        ));
    }
    let lower = page.to_lowercase();
    let unfinished = lower
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| ["tbd", "pending"].contains(w));
    unfinished.map(|w| format!("it still says \"{w}\""))
}

/// Truth 4: measured results to compare, a supported `--compare` with thresholds, and the
/// benchmarks page documenting it.
fn truth4(bench: &BenchmarkResults, page: &str) -> (bool, String) {
    let timed = bench
        .measured
        .iter()
        .filter(|r| r.runtime_s.is_finite() && r.runtime_s > 0.0)
        .count();
    if timed == 0 || timed != bench.measured.len() {
        return (
            false,
            format!(
                "{timed} of {} measured reconstructions have a runtime; the suite needs timed results to compare.",
                bench.measured.len()
            ),
        );
    }
    let Some(check) = &bench.regression_check else {
        return (
            false,
            "The results do not declare a regression check (`cargo xtask bench --compare`)."
                .to_owned(),
        );
    };
    let t = &check.thresholds;
    let positive = [t.accuracy_pct, t.completeness_pct, t.time_pct]
        .iter()
        .all(|v| v.is_finite() && *v > 0.0);
    if !check.supported || !positive {
        return (
            false,
            "The regression check is not supported by this build or has no positive thresholds."
                .to_owned(),
        );
    }
    if let Some(gap) = page_gap(page) {
        return (
            false,
            format!("The benchmarks page does not document the regression check: {gap}."),
        );
    }
    (
        true,
        format!(
            "`{}` flags accuracy worse by > {} %, completeness lower by > {} %, time slower by > {} % (non-zero exit); {timed} timed reconstructions and their accuracy are recorded to compare against; docs/benchmarks.rst documents the check (its `{REGRESSION_REGION}` section and thresholds table, no TBD or pending text).",
            check
                .command
                .as_deref()
                .unwrap_or("cargo xtask bench --compare BASE.json"),
            fixed(t.accuracy_pct, 1),
            fixed(t.completeness_pct, 1),
            fixed(t.time_pct, 1)
        ),
    )
}
