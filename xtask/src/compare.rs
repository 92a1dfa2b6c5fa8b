//! `cargo xtask bench --compare BASE.json [CURRENT.json]`: regressions between two benchmark
//! results files. Accuracy and completeness may not worsen by more than their thresholds (5 %
//! by default), times may not grow by more than theirs (10 %); a row of BASE missing from
//! CURRENT is a regression too. Changes are relative to BASE.

use aquamvs_report::schema::{Accuracy, BenchmarkResults, RegressionThresholds};
use aquamvs_report::table::Table;

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

/// One compared quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Row and quantity, e.g. `measured flat/refractive: stage depth_estimation (s)`.
    pub what: String,
    /// Value in BASE.
    pub base: f64,
    /// Value in CURRENT (`NaN` when the row or field is missing).
    pub current: f64,
    /// Relative change towards worse, % (negative = better).
    pub worse_pct: f64,
    /// Threshold that applied, %.
    pub threshold_pct: f64,
    /// Whether it is a regression.
    pub regression: bool,
}

/// Compares CURRENT with BASE.
pub fn compare(
    base: &BenchmarkResults,
    current: &BenchmarkResults,
    t: &RegressionThresholds,
) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut push = |what: String, b: f64, c: Option<f64>, kind: Kind, worse: Worse| {
        let threshold_pct = match kind {
            Kind::Accuracy => t.accuracy_pct,
            Kind::Completeness => t.completeness_pct,
            Kind::Time => t.time_pct,
        };
        let Some(c) = c.filter(|c| c.is_finite()) else {
            checks.push(Check {
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
        checks.push(Check {
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

/// A terminal table of the regressions (or of every check when `all`).
pub fn table(checks: &[Check], all: bool) -> Table {
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
