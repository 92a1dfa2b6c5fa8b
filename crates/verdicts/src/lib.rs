//! Judgements on the results: the phase's verification verdicts and the regression check of
//! `cargo xtask bench --compare`. Pure functions from the results format (`aquamvs-results`)
//! to its judgement types.
//!
//! Main functions:
//! - [`verify`]`(profile, bench) -> Verification`: the four phase-05 truths, each with its
//!   evidence in numbers, the score and the status (`gaps_closed` only when all four hold);
//!   [`TRUTHS`], [`PHASE`], [`later`] (the later of two result timestamps).
//! - [`compare`]`(base, current, thresholds) -> Vec<QuantityCheck>`: every compared quantity,
//!   with how much worse it got and whether that is a regression.
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
//! let checks = aquamvs_verdicts::compare(&base, &current, &t);
//! let regressions: Vec<_> = checks.iter().filter(|c| c.regression).collect();
//! assert_eq!(regressions.len(), 1);
//! assert_eq!(regressions[0].what, "measured flat/refractive: runtime (s)");
//! assert!((regressions[0].worse_pct - 50.0).abs() < 1e-9);
//! ```
//!
//! [`Verification`]: aquamvs_results::Verification
//! [`QuantityCheck`]: aquamvs_results::QuantityCheck

mod compare;
mod phase05;

pub use compare::compare;
pub use phase05::{PHASE, TRUTHS, later, verify};
