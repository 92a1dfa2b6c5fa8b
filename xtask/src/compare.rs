//! `cargo xtask bench --compare BASE.json [CURRENT.json]`: reads the results, runs the
//! regression check (`aquamvs_verdicts::compare`: accuracy and completeness may not worsen by
//! more than their thresholds, times may not grow by more than theirs, a row of BASE missing
//! from CURRENT is a regression), prints the regressions and fails when there are any.
//! Comparing nothing, or impossible values (both files are validated), is an error.

use std::path::Path;

use anyhow::{Context, bail};
use aquamvs_results::{BenchmarkResults, RegressionThresholds};

/// Reads and validates a benchmark results file (BASE or CURRENT).
pub fn load(path: &Path) -> anyhow::Result<BenchmarkResults> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    BenchmarkResults::from_json(&text)
        .with_context(|| format!("{} is not a valid benchmark results file", path.display()))
}

/// Compares CURRENT with BASE: one line when nothing regressed, otherwise the table of
/// regressions and an error naming both.
pub fn report(
    base: &BenchmarkResults,
    base_label: &str,
    current: &BenchmarkResults,
    current_label: &str,
    thresholds: &RegressionThresholds,
) -> anyhow::Result<()> {
    let checks = aquamvs_verdicts::compare(base, current, thresholds)
        .with_context(|| format!("comparing {current_label} with {base_label}"))?;
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
    let table = aquamvs_report::tables::regressions(&checks, false);
    println!("{}", table.to_terminal());
    bail!("{regressions} regression(s) of {current_label} against {base_label}")
}
