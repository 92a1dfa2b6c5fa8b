//! The regression check of `cargo xtask bench --compare BASE.json [CURRENT.json]`: which
//! quantities of CURRENT are worse than BASE by more than their thresholds.
//!
//! Accuracy and completeness may not worsen by more than their thresholds (5 % by default),
//! times may not grow by more than theirs (10 %); **a row or value of BASE missing from CURRENT
//! is a regression too.** Changes are relative to BASE; rows of CURRENT
//! that BASE lacks are not compared.
//!
//! **Comparing nothing, or comparing impossible values, is an error, not a verdict:** both
//! files must pass [`BenchmarkResults::validate`] (no negative runtimes, stage times or
//! errors), the thresholds must be finite and non-negative, and BASE must hold something to
//! compare.

use aquamvs_results::{
    Accuracy, BenchmarkResults, QuantityCheck, RegressionThresholds, ResultsError,
};

/// Why two results cannot be compared.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// BASE or CURRENT holds impossible values (or breaks another rule of the format).
    #[error("{which} is not usable: {error}")]
    Invalid {
        /// `BASE` or `CURRENT`.
        which: &'static str,
        /// What is wrong, naming the field.
        error: ResultsError,
    },
    /// BASE has no rows, so no quantity would be compared.
    #[error(
        "nothing to compare: BASE has no simulated, measured or sweep-throughput rows (0 quantities)"
    )]
    Nothing,
    /// A threshold is negative or not finite.
    #[error("threshold {name} = {value} % is not a finite, non-negative percentage")]
    Threshold {
        /// Which threshold.
        name: &'static str,
        /// Its value.
        value: f64,
    },
}

/// Which way is worse for a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Worse {
    Higher,
    Lower,
}

/// What a quantity is, for its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Accuracy,
    Completeness,
    Time,
}

/// Compares CURRENT with BASE: every accuracy quantity of each simulated and measured row of
/// BASE, the runtime and stage times of each measured row, the median of each throughput row,
/// in that order. Rows are matched by name and scene, scene and method, workload, backend and
/// batch. Fails (see [`CompareError`]) when either file is invalid, a threshold is, or there
/// is nothing to compare.
pub fn compare(
    base: &BenchmarkResults,
    current: &BenchmarkResults,
    t: &RegressionThresholds,
) -> Result<Vec<QuantityCheck>, CompareError> {
    for (which, results) in [("BASE", base), ("CURRENT", current)] {
        results
            .validate()
            .map_err(|error| CompareError::Invalid { which, error })?;
    }
    for (name, value) in [
        ("accuracy_pct", t.accuracy_pct),
        ("completeness_pct", t.completeness_pct),
        ("time_pct", t.time_pct),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(CompareError::Threshold { name, value });
        }
    }
    let checks = quantities(base, current, t);
    if checks.is_empty() {
        return Err(CompareError::Nothing);
    }
    Ok(checks)
}

/// Every quantity of BASE against CURRENT (both valid).
fn quantities(
    base: &BenchmarkResults,
    current: &BenchmarkResults,
    t: &RegressionThresholds,
) -> Vec<QuantityCheck> {
    let mut checks = Vec::new();
    let mut push = |what: String, b: f64, c: Option<f64>, kind: Kind, worse: Worse| {
        let threshold_pct = match kind {
            Kind::Accuracy => t.accuracy_pct,
            Kind::Completeness => t.completeness_pct,
            Kind::Time => t.time_pct,
        };
        let Some(c) = c.filter(|c| c.is_finite()) else {
            checks.push(QuantityCheck {
                what: format!("{what} (missing in CURRENT)"),
                base: b,
                current: f64::NAN,
                worse_pct: f64::INFINITY,
                threshold_pct,
                regression: true,
            });
            return;
        };
        let delta = match worse {
            Worse::Higher => c - b,
            Worse::Lower => b - c,
        };
        let worse_pct = if b.abs() > 0.0 {
            100.0 * delta / b.abs()
        } else if delta > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        checks.push(QuantityCheck {
            what,
            base: b,
            current: c,
            worse_pct,
            threshold_pct,
            regression: worse_pct > threshold_pct,
        });
    };

    for b in &base.simulated {
        let c = current
            .simulated
            .iter()
            .find(|c| c.name == b.name && c.scene == b.scene);
        let label = format!("simulated {}/{}", b.scene, b.name);
        accuracy_checks(&mut push, &label, &b.accuracy, c.map(|c| &c.accuracy));
    }
    for b in &base.measured {
        let c = current
            .measured
            .iter()
            .find(|c| c.scene == b.scene && c.method == b.method);
        let label = format!("measured {}/{}", b.scene, b.method);
        accuracy_checks(&mut push, &label, &b.accuracy, c.map(|c| &c.accuracy));
        push(
            format!("{label}: runtime (s)"),
            b.runtime_s,
            c.map(|c| c.runtime_s),
            Kind::Time,
            Worse::Higher,
        );
        for (stage, secs) in &b.stage_times_s.0 {
            let cur = c.and_then(|c| c.stage_times_s.0.iter().find(|(s, _)| s == stage));
            push(
                format!("{label}: stage {stage} (s)"),
                *secs,
                cur.map(|(_, v)| *v),
                Kind::Time,
                Worse::Higher,
            );
        }
    }
    for b in &base.sweep_throughput {
        let c = current
            .sweep_throughput
            .iter()
            .find(|c| c.workload == b.workload && c.backend == b.backend && c.batch == b.batch);
        let label = format!("sweep {}/{}/batch {}", b.workload, b.backend, b.batch);
        push(
            format!("{label}: median (ms)"),
            b.median_ms,
            c.map(|c| c.median_ms),
            Kind::Time,
            Worse::Higher,
        );
    }
    checks
}

fn accuracy_checks(
    push: &mut impl FnMut(String, f64, Option<f64>, Kind, Worse),
    label: &str,
    b: &Accuracy,
    c: Option<&Accuracy>,
) {
    push(
        format!("{label}: mean error (mm)"),
        b.mean_error_mm,
        c.map(|c| c.mean_error_mm),
        Kind::Accuracy,
        Worse::Higher,
    );
    push(
        format!("{label}: median error (mm)"),
        b.median_error_mm,
        c.map(|c| c.median_error_mm),
        Kind::Accuracy,
        Worse::Higher,
    );
    push(
        format!("{label}: raw completeness (%)"),
        b.raw_completeness_pct,
        c.map(|c| c.raw_completeness_pct),
        Kind::Completeness,
        Worse::Lower,
    );
    for tb in &b.by_tolerance {
        let tc = c.and_then(|c| c.at_tolerance(tb.tolerance_mm));
        let tol = tb.tolerance_mm;
        push(
            format!("{label}: precision @{tol} mm (%)"),
            tb.precision_pct,
            tc.map(|t| t.precision_pct),
            Kind::Accuracy,
            Worse::Lower,
        );
        push(
            format!("{label}: recall @{tol} mm (%)"),
            tb.recall_pct,
            tc.map(|t| t.recall_pct),
            Kind::Completeness,
            Worse::Lower,
        );
        push(
            format!("{label}: F-score @{tol} mm (%)"),
            tb.fscore_pct,
            tc.map(|t| t.fscore_pct),
            Kind::Completeness,
            Worse::Lower,
        );
    }
}
