//! Judgements on the results: the phase's verification verdicts and the regression check of
//! `cargo xtask bench --compare`. Pure functions from the results format (`aquamvs-results`)
//! to its judgement types.
//!
//! Main functions:
//! - [`verify`]`(profile, bench, benchmarks_page) -> Verification`: the four phase-05 truths,
//!   each with its evidence in numbers, the score and the status (`gaps_closed` only when all
//!   four hold); [`TRUTHS`], [`PHASE`], [`later`] (the later of two result timestamps), the
//!   plan's simulated recipes ([`PLAN_SIMULATION`]). Truth 1 checks the recipe recorded in the
//!   simulated rows (not their names), truth 3 needs the batch-1 and batched timing ranges not
//!   to overlap, truth 4 reads the benchmarks page (its regression section and table, no
//!   "TBD"/"pending").
//! - [`compare`]`(base, current, thresholds) -> Result<Vec<QuantityCheck>, CompareError>`:
//!   every compared quantity, with how much worse it got and whether that is a regression;
//!   an error when either file holds impossible values or there is nothing to compare.
//!
//! **A verdict holds only while its evidence does**: the same function judges every rerun, so
//! worse results turn a truth back to failed. Evidence text uses the report writer's number
//! formats (`aquamvs_report::table`), so the verdicts read like the tables beside them.
//!
//! What it does not do: no file I/O and no paths (xtask reads the results and writes the
//! pages), no tables or pages (`aquamvs-report` formats a [`Verification`] and the
//! [`QuantityCheck`]s), no timing or measuring (the producers did that).
//!
//! ```
//! use aquamvs_results::{BenchmarkResults, RegressionThresholds};
//! let json = include_str!("../../results/tests/fixtures/benchmark_results.json");
//! let base = BenchmarkResults::from_json(json).unwrap();
//! let mut current = base.clone();
//! current.measured[0].runtime_s *= 1.5;
//! let t = RegressionThresholds { accuracy_pct: 5.0, completeness_pct: 5.0, time_pct: 10.0 };
//! let checks = aquamvs_verdicts::compare(&base, &current, &t).unwrap();
//! let regressions: Vec<_> = checks.iter().filter(|c| c.regression).collect();
//! assert_eq!(regressions.len(), 1);
//! assert_eq!(regressions[0].what, "measured flat/refractive: runtime (s)");
//! assert!((regressions[0].worse_pct - 50.0).abs() < 1e-9);
//! // Impossible values are an error, not a "+573.8 %" line.
//! current.measured[0].runtime_s = -1.0;
//! assert!(aquamvs_verdicts::compare(&base, &current, &t).is_err());
//! ```
//!
//! [`Verification`]: aquamvs_results::Verification
//! [`QuantityCheck`]: aquamvs_results::QuantityCheck

mod compare;
mod phase05;

pub use compare::{CompareError, compare};
pub use phase05::{
    MIN_BATCH_RUNS, PHASE, PLAN_SIMULATION, SIMULATED_LABEL, SimulatedRecipe, TRUTHS, later, verify,
};
