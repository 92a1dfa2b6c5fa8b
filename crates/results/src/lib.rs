//! The results format: what `.benchmarks/*.json` hold, as serde structs that producers fill in
//! and that the judges (`aquamvs-verdicts`) and the formatter (`aquamvs-report`) read.
//!
//! Main types:
//! - [`ProfileReport`] (`.benchmarks/profile_report.json`, written by `cargo xtask profile`):
//!   [`Machine`], [`Workload`], [`TimingSource`], per-stage [`StageTiming`] in an
//!   [`OrderedMap`], [`Bottleneck`]s, depth-batching [`BatchTiming`]s;
//! - [`BenchmarkResults`] (`.benchmarks/benchmark_results.json`, written by
//!   `cargo xtask bench`): [`SimulatedRow`]s, [`MeasuredRow`]s with their [`Accuracy`],
//!   [`ThroughputRow`]s, the declared [`RegressionCheck`], the depth-error map ([`ErrorMapRef`],
//!   [`ErrorMap`]), the ground-truth board validation per depth method ([`BoardReport`], also
//!   `board.json` of `cargo xtask board`, with [`BoardMetrics`] and [`PoseMetrics`]);
//! - what is judged from them: [`Verification`] and [`TruthVerdict`] (the phase's verdicts),
//!   [`QuantityCheck`] (one quantity of a `bench --compare` regression check).
//!
//! Each file has `from_json` (parse **and** validate: one [`ResultsError`] naming the file and
//! the field), `validate` and `to_json` (two-space indentation, final newline). **The JSON is
//! the contract:** field names, order and optional fields are those of the committed files;
//! this crate only moves them into types.
//!
//! **Reading is tolerant, where the docs rely on a field it is strict.** Unknown fields are
//! ignored (producers may add more); optional fields carry `#[serde(default)]`; a missing
//! required field, a wrong type or an unknown enum value is one clear error naming the file's
//! field. JSON cannot hold NaN: a nullable number is an `Option`, and a required one is finite
//! by construction. **What JSON can hold but physics cannot is refused too:** negative or
//! absurd times, errors and memory, percentages outside 0–100, non-positive rates, batch
//! timings with `min > median` or `median > max`, stage times summing past the runtime,
//! F-scores that disagree with their precision and recall, a row given twice.
//!
//! **Memory says what it measures:** a stage's `memory_mb` is the GPU allocator's growth;
//! `host_peak_rss_growth_mb` (optional) is the growth of the process's peak RSS.
//!
//! **Units are in the field names** (`_ms`, `_s`, `_mm`, `_pct`, `_mb`, `_gb`); percentages are
//! 0–100. **`generated_at` is UTC RFC 3339** (`2026-03-01T12:00:00Z`, fractional seconds
//! allowed), so two stamps compare as strings.
//!
//! What it does not do: no formatting of tables or text (`aquamvs-report`), no verdicts or
//! comparisons (`aquamvs-verdicts`), no file I/O (the file names are constants; `xtask` reads
//! and writes), no wgpu.
//!
//! ```
//! use aquamvs_results::{OrderedMap, StageTiming};
//! let stages: OrderedMap<StageTiming> = serde_json::from_str(
//!     r#"{"fusion": {"cpu_time_ms": 2, "total_time_ms": 2, "memory_mb": 0},
//!         "depth_estimation": {"cpu_time_ms": 9, "gpu_time_ms": 8, "total_time_ms": 9, "memory_mb": 4}}"#,
//! ).unwrap();
//! // File order, not alphabetical; `status` defaults to "ok".
//! assert_eq!(stages.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["fusion", "depth_estimation"]);
//! assert!(stages.get("fusion").unwrap().is_ok());
//! ```

mod bench;
mod board;
mod check;
mod common;
mod json;
mod methods;
mod peer;
mod profile;
mod verification;

pub use bench::{
    Accuracy, BenchmarkResults, ErrorMap, ErrorMapRef, MeasuredRow, Method, PLAN_TOLERANCE_MM,
    RegressionCheck, RegressionThresholds, SimulatedRow, ThroughputRow, ToleranceScore,
};
pub use board::{
    AQUAMVS_REAL_RIG, BoardMetrics, BoardReport, BoardTimings, DetectorError, ExternalBoardFigures,
    PoseMetrics,
};
pub use common::{Machine, OrderedMap, Workload, is_utc_timestamp, utc_timestamp};
pub use methods::DepthMethodRow;
pub use peer::{PeerRow, PeerSide};
pub use profile::{BatchTiming, Bottleneck, ProfileReport, StageTiming, TimingSource};
pub use verification::{QuantityCheck, TruthVerdict, Verification};

/// File name of the profiling results inside the results folder (`.benchmarks/`).
pub const PROFILE_REPORT_FILE: &str = "profile_report.json";
/// File name of the benchmark results inside the results folder (`.benchmarks/`).
pub const BENCHMARK_RESULTS_FILE: &str = "benchmark_results.json";

/// Why a results file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A results file is not valid JSON or does not match the format. (serde's error is in
    /// the message, not a `source()`, so an error chain does not print it twice.)
    #[error("{what}: {error}")]
    Json {
        /// Which file or value (with the field near the error, when known).
        what: String,
        /// What serde said (names the field, line and column).
        error: serde_json::Error,
    },
    /// A results file parses but breaks a rule the docs rely on.
    #[error("{what}: {message}")]
    Invalid {
        /// Which file or value.
        what: String,
        /// What is wrong.
        message: String,
    },
}
