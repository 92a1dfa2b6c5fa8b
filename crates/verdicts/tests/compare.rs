//! The regression check: what counts as worse, by how much, and what a missing row means.

use aquamvs_results::{BenchmarkResults, QuantityCheck, RegressionThresholds};
use aquamvs_verdicts::CompareError;

fn compare(
    base: &BenchmarkResults,
    current: &BenchmarkResults,
    t: &RegressionThresholds,
) -> Vec<QuantityCheck> {
    aquamvs_verdicts::compare(base, current, t).unwrap()
}

// Invented numbers (see the fixtures' README).
const BENCH: &str = include_str!("../../results/tests/fixtures/benchmark_results.json");

const THRESHOLDS: RegressionThresholds = RegressionThresholds {
    accuracy_pct: 5.0,
    completeness_pct: 5.0,
    time_pct: 10.0,
};

fn base() -> BenchmarkResults {
    BenchmarkResults::from_json(BENCH).unwrap()
}

fn regressions(current: &BenchmarkResults) -> Vec<QuantityCheck> {
    compare(&base(), current, &THRESHOLDS)
        .into_iter()
        .filter(|c| c.regression)
        .collect()
}

fn find<'a>(checks: &'a [QuantityCheck], what: &str) -> &'a QuantityCheck {
    checks
        .iter()
        .find(|c| c.what == what)
        .unwrap_or_else(|| panic!("no check `{what}` in {checks:#?}"))
}

#[test]
fn identical_results_have_no_regression() {
    let checks = compare(&base(), &base(), &THRESHOLDS);
    assert!(checks.iter().all(|c| !c.regression && c.worse_pct == 0.0));
    // Every row and quantity of BASE is compared: per accuracy 3 + 3 per tolerance; per
    // measured row also the runtime and each stage time; per throughput row its median.
    let b = base();
    let accuracy = |a: &aquamvs_results::Accuracy| 3 + 3 * a.by_tolerance.len();
    let expected: usize = b
        .simulated
        .iter()
        .map(|r| accuracy(&r.accuracy))
        .sum::<usize>()
        + b.measured
            .iter()
            .map(|r| accuracy(&r.accuracy) + 1 + r.stage_times_s.len())
            .sum::<usize>()
        + b.sweep_throughput.len();
    assert_eq!(checks.len(), expected);
}

#[test]
fn worse_beyond_the_threshold_is_a_regression_better_is_not() {
    let mut current = base();
    current.measured[0].runtime_s *= 1.0999; // within 10 %
    current.measured[0].accuracy.median_error_mm *= 0.5; // better
    current.measured[1].runtime_s *= 1.2; // 20 % slower
    current.measured[1].accuracy.by_tolerance[0].recall_pct *= 0.9; // 10 % less recall
    let checks = compare(&base(), &current, &THRESHOLDS);
    let within = find(&checks, "measured flat/refractive: runtime (s)");
    assert!(!within.regression && (within.worse_pct - 9.99).abs() < 1e-9);
    let better = find(&checks, "measured flat/refractive: median error (mm)");
    assert!(!better.regression && (better.worse_pct + 50.0).abs() < 1e-9);
    let tol = base().measured[1].accuracy.by_tolerance[0].tolerance_mm;
    let label = format!("measured flat/pinhole (refraction ignored): recall @{tol} mm (%)");
    let found = regressions(&current);
    let found: Vec<&str> = found.iter().map(|c| c.what.as_str()).collect();
    assert_eq!(
        found,
        [
            label.as_str(),
            "measured flat/pinhole (refraction ignored): runtime (s)"
        ]
    );
    let slow = find(&checks, found[1]);
    assert_eq!((slow.threshold_pct, slow.base * 1.2), (10.0, slow.current));
}

#[test]
fn missing_rows_and_values_are_regressions() {
    let mut current = base();
    current.simulated.pop();
    current.sweep_throughput.clear();
    current.measured[0].stage_times_s.0.remove(0);
    let found = regressions(&current);
    assert!(
        found
            .iter()
            .all(|c| c.what.ends_with("(missing in CURRENT)")
                && c.current.is_nan()
                && c.worse_pct == f64::INFINITY)
    );
    let b = base();
    let last = b.simulated.last().unwrap();
    let missing_accuracy = 3 + 3 * last.accuracy.by_tolerance.len();
    assert_eq!(found.len(), missing_accuracy + b.sweep_throughput.len() + 1);
}

#[test]
fn comparing_nothing_or_impossible_values_is_an_error() {
    let t = &THRESHOLDS;
    let mut empty = base();
    empty.simulated.clear();
    empty.measured.clear();
    empty.sweep_throughput.clear();
    let e = aquamvs_verdicts::compare(&empty, &base(), t).unwrap_err();
    assert!(matches!(e, CompareError::Nothing), "{e}");
    assert!(e.to_string().contains("nothing to compare"), "{e}");

    type Change = fn(&mut BenchmarkResults);
    let impossible: [(Change, &str); 5] = [
        (|r| r.measured[0].runtime_s = -1.0, "measured[0].runtime_s"),
        (
            |r| r.measured[1].stage_times_s.0[2].1 = -0.5,
            "measured[1].stage_times_s.depth_estimation",
        ),
        (
            |r| r.simulated[0].accuracy.mean_error_mm = -0.1,
            "simulated[0].accuracy.mean_error_mm",
        ),
        (
            |r| r.measured[0].runtime_s = f64::NAN,
            "measured[0].runtime_s",
        ),
        (
            |r| r.sweep_throughput[0].median_ms = -109.2,
            "sweep_throughput[0].median_ms",
        ),
    ];
    for (change, field) in impossible {
        let mut bad = base();
        change(&mut bad);
        let e = aquamvs_verdicts::compare(&base(), &bad, t).unwrap_err();
        assert!(
            matches!(
                e,
                CompareError::Invalid {
                    which: "CURRENT",
                    ..
                }
            ) && e.to_string().contains(field),
            "{e}"
        );
        // A negative BASE is no better: no "+573.8 %" line, an error.
        let e = aquamvs_verdicts::compare(&bad, &base(), t).unwrap_err();
        assert!(
            e.to_string().starts_with("BASE is not usable") && e.to_string().contains(field),
            "{e}"
        );
    }
    let mut negative = THRESHOLDS.clone();
    negative.time_pct = -10.0;
    let e = aquamvs_verdicts::compare(&base(), &base(), &negative).unwrap_err();
    assert!(e.to_string().contains("time_pct"), "{e}");
}

#[test]
fn a_zero_base_regresses_only_when_worse() {
    let mut b = base();
    b.measured[0].accuracy.mean_error_mm = 0.0;
    let mut current = b.clone();
    let what = "measured flat/refractive: mean error (mm)";
    let same = compare(&b, &current, &THRESHOLDS);
    assert!(!find(&same, what).regression);
    current.measured[0].accuracy.mean_error_mm = 0.1;
    let worse = compare(&b, &current, &THRESHOLDS);
    assert!(find(&worse, what).regression && find(&worse, what).worse_pct.is_infinite());
}
