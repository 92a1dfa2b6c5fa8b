//! The phase-05 verdicts ("performance and optimization"), computed from the two results files
//! alone.
//!
//! **A truth holds only while its evidence does**: rerunning with worse results (a slower
//! batched sweep, a stage dropping out of the top three, a missing comparison row) turns it
//! back to failed and the status back to `gaps_found`.

use std::cmp::Ordering;

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

/// Judges the four truths.
pub fn verify(profile: &ProfileReport, bench: &BenchmarkResults) -> Verification {
    let judged = [
        truth1(bench),
        truth2(profile),
        truth3(profile),
        truth4(bench),
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

/// Truth 1: both simulated pathways, with finite metrics and the plan's 5 mm tolerance,
/// on at least one scene.
fn truth1(bench: &BenchmarkResults) -> (bool, String) {
    let mut scenes: Vec<&str> = Vec::new();
    for r in &bench.simulated {
        if !scenes.contains(&r.scene.as_str()) {
            scenes.push(&r.scene);
        }
    }
    let usable = |pathway: &str, scene: &str| {
        bench.simulated.iter().find(|r| {
            r.scene == scene
                && r.name.to_lowercase().contains(pathway)
                && r.n_points > 0
                && accuracy_finite(&r.accuracy)
                && r.accuracy.at_tolerance(PLAN_TOLERANCE_MM).is_some()
        })
    };
    let mut complete = Vec::new();
    for scene in &scenes {
        if let (Some(lg), Some(roma)) = (usable("lightglue", scene), usable("roma", scene)) {
            let f = |r: &SimulatedRow| {
                r.accuracy
                    .at_tolerance(PLAN_TOLERANCE_MM)
                    .map_or(f64::NAN, |t| t.fscore_pct)
            };
            complete.push(format!(
                "{scene}: LightGlue-like median {} mm, F@5 mm {} % vs RoMa-like median {} mm, F@5 mm {} %",
                fixed(lg.accuracy.median_error_mm, 2),
                fixed(f(lg), 1),
                fixed(roma.accuracy.median_error_mm, 2),
                fixed(f(roma), 1)
            ));
        }
    }
    if complete.is_empty() {
        (
            false,
            format!(
                "No scene has both a LightGlue-like and a RoMa-like simulated row with finite metrics at 5 mm ({} simulated rows).",
                bench.simulated.len()
            ),
        )
    } else {
        (
            true,
            format!(
                "Simulated comparison (noisy mesh samples standing in for matcher output, not matcher runs), documented in docs/benchmarks.rst — {}.",
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
                "({}) {} {} ms, {} MB",
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
    let measured = format!(
        "`{stage}` is measured bottleneck #{}; sweep median {} ms at batch 1 vs {} ms at batch {} ({}, {} and {} runs){workload}",
        rank + 1,
        fixed(base.median_ms, 1),
        fixed(target.median_ms, 1),
        target.batch_size,
        speedup(s),
        base.runs,
        target.runs
    );
    if s > 1.0 {
        (true, format!("Depth batching: {measured}."))
    } else {
        (
            false,
            format!("Depth batching does not speed the sweep up: {measured}."),
        )
    }
}

/// Truth 4: measured results to compare, and a supported `--compare` with thresholds.
fn truth4(bench: &BenchmarkResults) -> (bool, String) {
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
    (
        true,
        format!(
            "`{}` flags accuracy worse by > {} %, completeness lower by > {} %, time slower by > {} % (non-zero exit); {timed} timed reconstructions and their accuracy are recorded to compare against.",
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
