//! `cargo xtask update-docs [--check]`: writes `.benchmarks/*.json` into the docs.
//!
//! Reads `.benchmarks/profile_report.json` and `.benchmarks/benchmark_results.json` (it runs no
//! benchmark), computes the phase-05 verdicts from them ([`verdict`]), and rewrites:
//! - `docs/benchmarks.rst`, only between its `.. BEGIN/END GENERATED: <name>` markers;
//! - `docs/_static/benchmark/*.svg`, the plots;
//! - `.planning/phases/05-performance-and-optimization/05-VERIFICATION.md`: frontmatter
//!   `verified`, `status`, `score`, and its `<!-- BEGIN/END GENERATED -->` regions;
//! - `05-08-SUMMARY.md` beside it (fully generated).
//!
//! **Everything is read, checked and rendered before the first file is written**: a missing
//! or malformed results file, or a page whose markers are missing, duplicated or out of order,
//! fails the command with every file untouched. Writes are atomic and only files whose bytes
//! change are written, so a second run changes nothing. `--check` writes nothing and fails if
//! any file would change.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use aquamvs_report::docs::{self, MarkerStyle};
use aquamvs_report::pages::{self, BENCHMARKS_RST, PLOT_DIR, SUMMARY_MD, VERIFICATION_MD};
use aquamvs_report::schema::{
    BENCHMARK_RESULTS_FILE, BenchmarkResults, ErrorMap, PROFILE_REPORT_FILE, ProfileReport,
};
use aquamvs_report::tables;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write nothing: list the files that would change, and fail if any would.
    #[arg(long)]
    pub check: bool,
    /// Folder holding the results files (default: `<root>/.benchmarks`).
    #[arg(long, hide = true)]
    pub results_dir: Option<PathBuf>,
    /// Workspace root whose docs are rewritten (default: this workspace).
    #[arg(long, hide = true)]
    pub root: Option<PathBuf>,
}

/// The workspace this xtask was built from.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

pub fn run(args: Args) -> Result<()> {
    let root = args.root.unwrap_or_else(workspace_root);
    let results_dir = args.results_dir.unwrap_or_else(|| root.join(".benchmarks"));
    let outputs = plan(&root, &results_dir)?;
    let changed: Vec<&Output> = outputs.iter().filter(|o| o.changes()).collect();

    if args.check {
        for o in &changed {
            println!("would change: {}", o.relative);
        }
        if !changed.is_empty() {
            bail!(
                "{} file(s) out of date with {}; run `cargo xtask update-docs`",
                changed.len(),
                results_dir.display()
            );
        }
        println!("up to date: {} file(s) checked", outputs.len());
        return Ok(());
    }

    for o in &changed {
        if let Some(parent) = o.path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        aquamvs_io::write_atomic(&o.path, &o.bytes)?;
        println!("wrote {}", o.relative);
    }
    println!(
        "{} file(s) written, {} unchanged",
        changed.len(),
        outputs.len() - changed.len()
    );
    Ok(())
}

/// One file `update-docs` produces: where, what, and what is there now.
#[derive(Debug)]
struct Output {
    /// Path relative to the root, for messages.
    relative: String,
    /// Absolute (or root-joined) path.
    path: PathBuf,
    /// New contents.
    bytes: Vec<u8>,
    /// Current contents, if the file exists.
    current: Option<Vec<u8>>,
}

impl Output {
    fn new(root: &Path, relative: &str, bytes: Vec<u8>) -> Result<Self> {
        let path = root.join(relative);
        let current = match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok(Self {
            relative: relative.to_owned(),
            path,
            bytes,
            current,
        })
    }

    fn changes(&self) -> bool {
        self.current.as_deref() != Some(self.bytes.as_slice())
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Reads the optional depth-error map named by the benchmark results.
fn read_error_map(results_dir: &Path, bench: &BenchmarkResults) -> Result<Option<ErrorMap>> {
    let Some(about) = &bench.depth_error_map else {
        return Ok(None);
    };
    let rel = Path::new(&about.file);
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        bail!(
            "{BENCHMARK_RESULTS_FILE}: depth_error_map.file `{}` must be a path inside the results folder",
            about.file
        );
    }
    let path = results_dir.join(rel);
    let map = match rel.extension().and_then(|e| e.to_str()) {
        Some("json") => ErrorMap::from_json(&path.display().to_string(), &read_text(&path)?)?,
        Some("npy") => {
            let a = aquamvs_io::npy::read_f32(&path)?;
            let map = ErrorMap {
                width: u32::try_from(a.width).context("error map too wide")?,
                height: u32::try_from(a.height).context("error map too tall")?,
                values: a.data.iter().map(|v| v.is_finite().then_some(*v)).collect(),
            };
            map.validate(&path.display().to_string())?;
            map
        }
        _ => bail!(
            "{BENCHMARK_RESULTS_FILE}: depth_error_map.file `{}` must end in .json or .npy",
            about.file
        ),
    };
    Ok(Some(map))
}

/// Reads every input, computes every output; writes nothing.
fn plan(root: &Path, results_dir: &Path) -> Result<Vec<Output>> {
    let profile_path = results_dir.join(PROFILE_REPORT_FILE);
    let bench_path = results_dir.join(BENCHMARK_RESULTS_FILE);
    let profile = ProfileReport::from_json(&read_text(&profile_path)?)
        .with_context(|| format!("{} is not a valid profile report", profile_path.display()))?;
    let bench = BenchmarkResults::from_json(&read_text(&bench_path)?)
        .with_context(|| format!("{} is not valid benchmark results", bench_path.display()))?;
    let error_map = read_error_map(results_dir, &bench)?;

    let verification = verdict::verify(&profile, &bench);
    print!("{}", tables::truths(&verification).to_terminal());
    println!(
        "score: {} — status {}",
        pages::score_line(&verification),
        verification.status
    );

    let plots = pages::plots(&profile, &bench, error_map.as_ref())?;

    let rst_path = root.join(BENCHMARKS_RST);
    let rst = read_text(&rst_path)?;
    let rst = docs::replace_regions(
        &rst,
        MarkerStyle::Rst,
        &pages::benchmarks_regions(&profile, &bench, &plots),
    )
    .with_context(|| format!("{}: generated regions", rst_path.display()))?;

    let ver_path = root.join(VERIFICATION_MD);
    let ver = read_text(&ver_path)?;
    let ver = docs::set_frontmatter(&ver, &pages::verification_frontmatter(&verification))
        .and_then(|t| {
            docs::replace_regions(
                &t,
                MarkerStyle::Markdown,
                &pages::verification_regions(&profile, &bench, &verification),
            )
        })
        .with_context(|| format!("{}: frontmatter and generated regions", ver_path.display()))?;

    let summary = pages::summary(&profile, &bench, &verification);

    let mut outputs = vec![
        Output::new(root, BENCHMARKS_RST, rst.into_bytes())?,
        Output::new(root, VERIFICATION_MD, ver.into_bytes())?,
        Output::new(root, SUMMARY_MD, summary.into_bytes())?,
    ];
    for p in plots {
        outputs.push(Output::new(
            root,
            &format!("{PLOT_DIR}/{}", p.name),
            p.svg.into_bytes(),
        )?);
    }
    Ok(outputs)
}

/// The phase-05 verdicts, computed from the results files alone.
///
/// **A truth holds only while its evidence does**: rerunning with worse results (a slower
/// batched sweep, a stage dropping out of the top three, a missing comparison row) turns it
/// back to failed and the status back to `gaps_found`.
pub mod verdict {
    use std::cmp::Ordering;

    use aquamvs_report::schema::{
        Accuracy, BenchmarkResults, ProfileReport, StageTiming, TruthVerdict, Verification,
    };
    use aquamvs_report::table::{fixed, speedup};
    use aquamvs_report::tables::{PLAN_TOLERANCE_MM, workload_line};

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
                let f = |r: &aquamvs_report::schema::SimulatedRow| {
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
                format!(
                    "The optimised stage `{stage}` is not among the measured top 3 bottlenecks."
                ),
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
        let computed = |r: &aquamvs_report::schema::BatchTiming| base.median_ms / r.median_ms;
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
}

#[cfg(test)]
mod tests {
    use super::verdict::{later, verify};
    use super::*;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/report/tests/fixtures"
    );

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
    }

    fn inputs() -> (ProfileReport, BenchmarkResults) {
        (
            ProfileReport::from_json(&fixture(PROFILE_REPORT_FILE)).unwrap(),
            BenchmarkResults::from_json(&fixture(BENCHMARK_RESULTS_FILE)).unwrap(),
        )
    }

    fn statuses(p: &ProfileReport, b: &BenchmarkResults) -> Vec<bool> {
        verify(p, b).truths.iter().map(|t| t.verified).collect()
    }

    #[test]
    fn fixtures_close_all_gaps() {
        let (p, b) = inputs();
        let v = verify(&p, &b);
        assert_eq!(v.score, 4, "{v:#?}");
        assert_eq!(v.status, "gaps_closed");
        assert_eq!(v.verified, "2000-01-02T00:00:00Z");
        assert!(v.truths[0].evidence.contains("not matcher runs"));
        assert!(
            v.truths[1]
                .evidence
                .contains("(1) depth_estimation 2000.0 ms")
        );
        assert!(
            v.truths[2]
                .evidence
                .contains("900.0 ms at batch 1 vs 450.0 ms at batch 16 (2.00×")
        );
    }

    #[test]
    fn slower_batching_turns_truth3_back() {
        let (mut p, b) = inputs();
        // The batch-16 sweep regressed: slower than unbatched.
        let row = p
            .depth_batching
            .iter_mut()
            .find(|r| r.batch_size == 16)
            .unwrap();
        row.median_ms = 990.0;
        row.speedup = 900.0 / 990.0;
        let v = verify(&p, &b);
        assert_eq!(statuses(&p, &b), [true, true, false, true]);
        assert_eq!((v.score, v.status.as_str()), (3, "gaps_found"));
        assert!(v.truths[2].evidence.contains("does not speed the sweep up"));
    }

    #[test]
    fn optimised_stage_outside_top3_fails_truth3() {
        let (mut p, b) = inputs();
        p.top_bottlenecks.remove(0);
        p.top_bottlenecks.push(aquamvs_report::schema::Bottleneck {
            name: "surface_reconstruction".into(),
            time_ms: 100.0,
            memory_mb: 5.0,
        });
        assert_eq!(statuses(&p, &b), [true, true, false, true]);
        // A scope inside the stage counts as the stage.
        let (mut p, b) = inputs();
        p.top_bottlenecks[0].name = "depth_estimation/cost_volume".into();
        assert_eq!(statuses(&p, &b), [true; 4]);
        // But a look-alike name does not.
        p.top_bottlenecks[0].name = "depth_estimation_old".into();
        assert_eq!(statuses(&p, &b), [true, false, false, true]);
    }

    #[test]
    fn truth3_needs_consistent_medians_and_a_baseline() {
        let (mut p, b) = inputs();
        p.depth_batching[2].speedup = 3.0; // medians say 2.0
        assert!(!verify(&p, &b).truths[2].verified);
        let (mut p, b) = inputs();
        p.depth_batching.retain(|r| r.batch_size != 1);
        assert!(!verify(&p, &b).truths[2].verified);
        // Without batch 16, the best batch is judged.
        let (mut p, b) = inputs();
        p.depth_batching.retain(|r| r.batch_size != 16);
        let v = verify(&p, &b);
        assert!(v.truths[2].verified && v.truths[2].evidence.contains("batch 8 (1.80×"));
        let (mut p, b) = inputs();
        p.depth_batching.clear();
        assert!(!verify(&p, &b).truths[2].verified);
    }

    #[test]
    fn truth2_rules() {
        let (mut p, b) = inputs();
        p.top_bottlenecks.truncate(2);
        assert!(!verify(&p, &b).truths[1].verified);
        let (mut p, b) = inputs();
        p.top_bottlenecks[2].time_ms = 0.0;
        assert!(!verify(&p, &b).truths[1].verified);
        let (mut p, b) = inputs();
        p.top_bottlenecks[1].name = "random_tensor_standin".into();
        assert!(!verify(&p, &b).truths[1].verified);
        let (mut p, b) = inputs();
        p.top_bottlenecks.swap(0, 1);
        assert!(!verify(&p, &b).truths[1].verified);
        let (mut p, b) = inputs();
        p.stages.0[3].1.status = "error: out of memory".into();
        let v = verify(&p, &b);
        assert!(!v.truths[1].verified && v.truths[1].evidence.contains("did not complete"));
    }

    #[test]
    fn truth1_and_truth4_rules() {
        let (p, mut b) = inputs();
        b.simulated.retain(|r| !r.name.contains("RoMa"));
        assert_eq!(statuses(&p, &b), [false, true, true, true]);
        let (p, mut b) = inputs();
        b.simulated[1].accuracy.mean_error_mm = f64::NAN;
        // The undulating scene still has both rows.
        assert!(verify(&p, &b).truths[0].verified);
        b.simulated[3].accuracy.by_tolerance.clear();
        assert!(!verify(&p, &b).truths[0].verified);

        let (p, mut b) = inputs();
        b.regression_check = None;
        assert_eq!(statuses(&p, &b), [true, true, true, false]);
        let (p, mut b) = inputs();
        b.regression_check.as_mut().unwrap().supported = false;
        assert!(!verify(&p, &b).truths[3].verified);
        let (p, mut b) = inputs();
        b.regression_check.as_mut().unwrap().thresholds.time_pct = 0.0;
        assert!(!verify(&p, &b).truths[3].verified);
        let (p, mut b) = inputs();
        b.measured.clear();
        assert!(!verify(&p, &b).truths[3].verified);
    }

    #[test]
    fn later_timestamp() {
        assert_eq!(
            later("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
            "2026-01-02T00:00:00Z"
        );
        assert_eq!(
            later("2026-01-01T00:00:00.5Z", "2026-01-01T00:00:00Z"),
            "2026-01-01T00:00:00.5Z"
        );
        assert_eq!(
            later("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.25Z"),
            "2026-01-01T00:00:00.25Z"
        );
    }

    /// A scratch copy of the pages and fixture results.
    struct Scratch {
        root: PathBuf,
        results: PathBuf,
    }

    impl Scratch {
        fn new(name: &str) -> Self {
            let root = std::env::temp_dir()
                .join(format!("aquamvs-update-docs-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            let results = root.join("results");
            std::fs::create_dir_all(&results).unwrap();
            let ws = workspace_root();
            for rel in [BENCHMARKS_RST, VERIFICATION_MD] {
                let dst = root.join(rel);
                std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
                std::fs::copy(ws.join(rel), dst).unwrap();
            }
            for f in [
                PROFILE_REPORT_FILE,
                BENCHMARK_RESULTS_FILE,
                "error_map.json",
            ] {
                std::fs::write(results.join(f), fixture(f)).unwrap();
            }
            Self { root, results }
        }

        fn args(&self, check: bool) -> Args {
            Args {
                check,
                results_dir: Some(self.results.clone()),
                root: Some(self.root.clone()),
            }
        }

        fn read(&self, rel: &str) -> Vec<u8> {
            std::fs::read(self.root.join(rel)).unwrap()
        }

        /// Every file under the root, with its bytes.
        fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
            fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
                let mut entries: Vec<_> = std::fs::read_dir(dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                entries.sort();
                for p in entries {
                    if p.is_dir() {
                        walk(&p, out);
                    } else {
                        let bytes = std::fs::read(&p).unwrap();
                        out.push((p, bytes));
                    }
                }
            }
            let mut out = Vec::new();
            walk(&self.root, &mut out);
            out
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn end_to_end_on_fixtures() {
        let s = Scratch::new("e2e");
        assert!(run(s.args(true)).is_err(), "--check on stale docs fails");
        let before_check = s.snapshot();
        let _ = run(s.args(true));
        assert_eq!(s.snapshot(), before_check, "--check writes nothing");

        run(s.args(false)).unwrap();
        let first = s.snapshot();
        let rst = String::from_utf8(s.read(BENCHMARKS_RST)).unwrap();
        assert!(rst.contains(".. list-table:: Baseline Performance"));
        assert!(rst.contains("Fixture CPU (test data)"));
        let ver = String::from_utf8(s.read(VERIFICATION_MD)).unwrap();
        assert!(ver.starts_with(
            "---\nphase: 05-performance-and-optimization\nverified: 2000-01-02T00:00:00Z\nstatus: gaps_closed\nscore: 4/4 success criteria verified\n---\n"
        ));
        assert!(ver.contains("| # | Truth | Status | Evidence |"));
        assert!(ver.contains("## Gap Closure Results"));
        // Hand-written text survives.
        assert!(ver.contains("### How the verdicts are computed"));
        assert!(ver.contains("_Initial verification: 2026-02-15T17:30:00Z"));
        let summary = String::from_utf8(s.read(SUMMARY_MD)).unwrap();
        assert!(summary.contains("status: gaps_closed"));
        for plot in [
            pages::STAGE_TIMING_SVG,
            pages::DEPTH_BATCHING_SVG,
            pages::DEPTH_ERROR_MAP_SVG,
        ] {
            assert!(s.read(&format!("{PLOT_DIR}/{plot}")).starts_with(b"<svg"));
        }

        // Idempotent: a second run and --check change nothing.
        run(s.args(false)).unwrap();
        assert_eq!(s.snapshot(), first);
        run(s.args(true)).unwrap();

        // A regression in the results turns the verdict back.
        let mut p = ProfileReport::from_json(&fixture(PROFILE_REPORT_FILE)).unwrap();
        let row = p
            .depth_batching
            .iter_mut()
            .find(|r| r.batch_size == 16)
            .unwrap();
        row.median_ms = 1000.0;
        row.speedup = 0.9;
        p.generated_at = "2000-01-03T00:00:00Z".into();
        std::fs::write(s.results.join(PROFILE_REPORT_FILE), p.to_json()).unwrap();
        run(s.args(false)).unwrap();
        let ver = String::from_utf8(s.read(VERIFICATION_MD)).unwrap();
        assert!(ver.contains("verified: 2000-01-03T00:00:00Z\nstatus: gaps_found\nscore: 3/4 success criteria verified\n"));
        assert!(ver.contains("| 3 | At least one optimization"));
        assert!(ver.contains("| FAILED | Depth batching does not speed the sweep up"));
    }

    #[test]
    fn refuses_and_leaves_files_untouched() {
        let s = Scratch::new("refuse");
        let pristine = s.snapshot();

        // Markers removed from benchmarks.rst.
        let rst_path = s.root.join(BENCHMARKS_RST);
        let original = std::fs::read_to_string(&rst_path).unwrap();
        let stripped: String = original
            .lines()
            .filter(|l| !l.starts_with(".. BEGIN GENERATED") && !l.starts_with(".. END GENERATED"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&rst_path, &stripped).unwrap();
        let snap = s.snapshot();
        let e = run(s.args(false)).unwrap_err();
        assert!(format!("{e:#}").contains("is missing"), "{e:#}");
        assert_eq!(
            s.snapshot(),
            snap,
            "nothing written when markers are missing"
        );

        // Regions out of order.
        let swapped = original
            .replace(".. BEGIN GENERATED: hardware", ".. BEGIN GENERATED: tmp")
            .replace(".. END GENERATED: hardware", ".. END GENERATED: tmp")
            .replace(
                ".. BEGIN GENERATED: provenance",
                ".. BEGIN GENERATED: hardware",
            )
            .replace(".. END GENERATED: provenance", ".. END GENERATED: hardware")
            .replace(".. BEGIN GENERATED: tmp", ".. BEGIN GENERATED: provenance")
            .replace(".. END GENERATED: tmp", ".. END GENERATED: provenance");
        std::fs::write(&rst_path, &swapped).unwrap();
        let snap = s.snapshot();
        let e = run(s.args(false)).unwrap_err();
        assert!(format!("{e:#}").contains("out of order"), "{e:#}");
        assert_eq!(s.snapshot(), snap);

        // Duplicated region in the verification file.
        std::fs::write(&rst_path, &original).unwrap();
        let ver_path = s.root.join(VERIFICATION_MD);
        let ver = std::fs::read_to_string(&ver_path).unwrap();
        std::fs::write(
            &ver_path,
            format!("{ver}\n<!-- BEGIN GENERATED: gap-closure -->\n<!-- END GENERATED: gap-closure -->\n"),
        )
        .unwrap();
        let snap = s.snapshot();
        let e = run(s.args(false)).unwrap_err();
        assert!(format!("{e:#}").contains("appears twice"), "{e:#}");
        assert_eq!(s.snapshot(), snap);
        std::fs::write(&ver_path, &ver).unwrap();
        assert_eq!(s.snapshot(), pristine);

        // Missing and malformed results files.
        std::fs::remove_file(s.results.join(BENCHMARK_RESULTS_FILE)).unwrap();
        let e = run(s.args(false)).unwrap_err();
        assert!(format!("{e:#}").contains(BENCHMARK_RESULTS_FILE), "{e:#}");
        std::fs::write(
            s.results.join(BENCHMARK_RESULTS_FILE),
            "{\"generated_at\": 3",
        )
        .unwrap();
        let snap = s.snapshot();
        let e = run(s.args(false)).unwrap_err();
        assert!(
            format!("{e:#}").contains("not valid benchmark results"),
            "{e:#}"
        );
        assert_eq!(s.snapshot(), snap);

        // An error map that is not where the results say.
        let mut b = BenchmarkResults::from_json(&fixture(BENCHMARK_RESULTS_FILE)).unwrap();
        b.depth_error_map.as_mut().unwrap().file = "../outside.json".into();
        std::fs::write(s.results.join(BENCHMARK_RESULTS_FILE), b.to_json()).unwrap();
        let snap = s.snapshot();
        assert!(run(s.args(false)).is_err());
        assert_eq!(s.snapshot(), snap);
    }

    /// rust-analyzer style: the committed pages agree with the committed results. Only
    /// deterministic output is compared; timings are never asserted.
    #[test]
    fn committed_docs_match_committed_results() {
        let root = workspace_root();
        let results = root.join(".benchmarks");
        let have_results = results.join(PROFILE_REPORT_FILE).exists()
            && results.join(BENCHMARK_RESULTS_FILE).exists();
        if have_results {
            let stale: Vec<String> = plan(&root, &results)
                .unwrap()
                .into_iter()
                .filter(Output::changes)
                .map(|o| o.relative)
                .collect();
            assert!(
                stale.is_empty(),
                "out of date: {stale:?}; run `cargo xtask update-docs`"
            );
        } else {
            // No results committed: the pages must not claim any.
            let ver = std::fs::read_to_string(root.join(VERIFICATION_MD)).unwrap();
            assert_eq!(
                docs::frontmatter_value(&ver, "status").unwrap().as_deref(),
                Some("gaps_found")
            );
            let rst = std::fs::read_to_string(root.join(BENCHMARKS_RST)).unwrap();
            let regions = docs::find_regions(&rst, MarkerStyle::Rst).unwrap();
            for r in regions {
                assert!(
                    !rst[r.body.clone()].contains("list-table"),
                    "region `{}` holds a table but no results are committed",
                    r.name
                );
            }
        }
    }
}
