//! The phase-05 verdicts on the fixture results, and how each turns back to failed when its
//! evidence does.

use aquamvs_report::docs::MarkerStyle;
use aquamvs_report::pages::{self, BENCHMARKS_REGIONS, Links};
use aquamvs_results::{BenchmarkResults, Bottleneck, ProfileReport, Verification};
use aquamvs_verdicts::later;

// Invented numbers (see the fixtures' README).
const PROFILE: &str = include_str!("../../results/tests/fixtures/profile_report.json");
const BENCH: &str = include_str!("../../results/tests/fixtures/benchmark_results.json");

const LINKS: Links = Links {
    results_dir: ".benchmarks",
    benchmarks_page: "docs/benchmarks.rst",
    verification_page: "05-VERIFICATION.md",
    plots_from_benchmarks_page: "_static/benchmark",
};

fn inputs() -> (ProfileReport, BenchmarkResults) {
    (
        ProfileReport::from_json(PROFILE).unwrap(),
        BenchmarkResults::from_json(BENCH).unwrap(),
    )
}

/// A benchmarks page with every generated region, written from `p` and `b` as update-docs
/// writes it.
fn page(p: &ProfileReport, b: &BenchmarkResults) -> String {
    let skeleton: String = BENCHMARKS_REGIONS
        .iter()
        .map(|r| {
            format!(
                "Section\n-------\n\n{}\n{}\n\n",
                MarkerStyle::Rst.begin(r),
                MarkerStyle::Rst.end(r)
            )
        })
        .collect();
    pages::patch_benchmarks_page(&skeleton, p, b, &[], &LINKS).unwrap()
}

fn verify(p: &ProfileReport, b: &BenchmarkResults) -> Verification {
    aquamvs_verdicts::verify(p, b, &page(p, b))
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
    assert!(v.truths[2].evidence.contains("ranges do not overlap"));
    assert!(v.truths[3].evidence.contains("regression-check"));
}

#[test]
fn batching_inside_the_noise_fails_truth3() {
    // Faster median, but the slowest batch-16 run is slower than the fastest unbatched one.
    let (mut p, b) = inputs();
    p.depth_batching[2].max_ms = 885.0;
    let v = verify(&p, &b);
    assert_eq!(statuses(&p, &b), [true, true, false, true]);
    assert!(v.truths[2].evidence.contains("ranges overlap"), "{v:#?}");
    // Touching ranges overlap too.
    p.depth_batching[2].max_ms = 880.0;
    assert!(!verify(&p, &b).truths[2].verified);
    // Too few runs for a range to mean anything.
    let (mut p, b) = inputs();
    p.depth_batching[0].runs = 2;
    let v = verify(&p, &b);
    assert!(!v.truths[2].verified && v.truths[2].evidence.contains("Too few runs"));
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
    (row.min_ms, row.median_ms, row.max_ms) = (980.0, 990.0, 1000.0);
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
    p.top_bottlenecks.push(Bottleneck {
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
fn truth1_checks_the_recipe_not_the_names() {
    // The names say LightGlue, the recorded recipe does not: σ 1.5 mm instead of 2.
    let (p, mut b) = inputs();
    for r in b
        .simulated
        .iter_mut()
        .filter(|r| r.name.contains("LightGlue"))
    {
        r.noise_sigma_mm = 1.5;
    }
    let v = verify(&p, &b);
    assert!(!v.truths[0].verified);
    assert!(
        v.truths[0]
            .evidence
            .contains("1000 samples, σ 2.0 mm, 10 % dropped")
    );
    type Change = fn(&mut aquamvs_results::SimulatedRow);
    let breaks: [Change; 6] = [
        |r| r.mesh_samples = Some(2000),
        |r| r.mesh_samples = None,
        |r| r.drop_fraction = 0.2,
        |r| r.n_points = 2990,           // more than the recipe keeps (2850)
        |r| r.name = "RoMa-like".into(), // not labelled simulated
        |r| r.accuracy.by_tolerance[0].tolerance_mm = 4.0, // not scored at 5 mm
    ];
    for change in breaks {
        let (p, mut b) = inputs();
        // Rows 1 and 3 are the RoMa-like ones; break both scenes.
        change(&mut b.simulated[1]);
        change(&mut b.simulated[3]);
        assert!(!verify(&p, &b).truths[0].verified, "{:?}", b.simulated[1]);
    }
    // A row made by the recipe counts whatever it is called, as long as it says simulated.
    let (p, mut b) = inputs();
    b.simulated[1].name = "Dense matcher stand-in (simulated)".into();
    let v = verify(&p, &b);
    assert!(v.truths[0].verified, "{v:#?}");
}

#[test]
fn truth4_reads_the_page() {
    let (p, b) = inputs();
    let good = page(&p, &b);
    let judge = |text: &str| aquamvs_verdicts::verify(&p, &b, text).truths[3].clone();
    assert!(judge(&good).verified);
    // No regression section.
    let begin = MarkerStyle::Rst.begin("regression-check");
    let end = MarkerStyle::Rst.end("regression-check");
    let (head, rest) = good.split_at(good.find(&begin).unwrap());
    let tail = &rest[rest.find(&end).unwrap() + end.len()..];
    let t = judge(&format!("{head}{tail}"));
    assert!(
        !t.verified && t.evidence.contains("no `regression-check` section"),
        "{t:?}"
    );
    // The section without its table.
    let t = judge(&format!("{head}{begin}\n\nTo be written.\n\n{end}{tail}"));
    assert!(!t.verified && t.evidence.contains("no table"), "{t:?}");
    // Unfinished text anywhere on the page.
    for word in ["TBD", "Pending"] {
        let t = judge(&format!("{good}\nResults: {word}.\n"));
        assert!(
            !t.verified && t.evidence.contains(&word.to_lowercase()),
            "{t:?}"
        );
    }
    // Damaged markers.
    let t = judge(&good.replacen(&end, "", 1));
    assert!(!t.verified && t.evidence.contains("damaged"), "{t:?}");
    // An empty page.
    assert!(!judge("").verified);
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
