//! `.benchmarks/profile_report.json`: per-stage timings, bottlenecks, depth batching.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::check::{Fields, MAX_RATE, MAX_SECONDS, slack};
use crate::common::{Machine, OrderedMap, Workload, check_common};
use crate::json::{invalid, parse, to_pretty};
use crate::{PROFILE_REPORT_FILE, ResultsError};

/// Where the GPU times come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimingSource {
    /// Timestamp queries on the adapter (`"gpu-timestamps"`).
    GpuTimestamps,
    /// The adapter has no timestamp queries; CPU wall time only (`"cpu-only"`).
    CpuOnly,
}

impl fmt::Display for TimingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::GpuTimestamps => "gpu-timestamps",
            Self::CpuOnly => "cpu-only",
        })
    }
}

/// One pipeline stage's measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageTiming {
    /// CPU wall time of the stage scope, ms.
    pub cpu_time_ms: f64,
    /// GPU time from timestamp queries, ms; `null` for CPU-only stages or adapters.
    #[serde(default)]
    pub gpu_time_ms: Option<f64>,
    /// Total time of the stage, ms.
    pub total_time_ms: f64,
    /// Time not spent in nested scopes, ms.
    #[serde(default)]
    pub self_time_ms: Option<f64>,
    /// **GPU memory: the device allocator's growth** during the stage (GPU buffers and
    /// textures), MB. Host (CPU) memory is not in it: see `host_peak_rss_growth_mb`.
    pub memory_mb: f64,
    /// **Host memory: growth of the process's peak resident set size (RSS)** during the
    /// stage, MB; absent in files written before it was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_peak_rss_growth_mb: Option<f64>,
    /// `"ok"`, or what went wrong (a stage that errors still ends its scope).
    #[serde(default = "ok_status")]
    pub status: String,
}

fn ok_status() -> String {
    "ok".to_owned()
}

impl StageTiming {
    /// Whether the stage ran to completion (`status == "ok"`).
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

/// One of the top bottlenecks, **sorted by time, longest first**.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bottleneck {
    /// Stage name, or a nested scope written `stage/scope`.
    pub name: String,
    /// Its time, ms.
    pub time_ms: f64,
    /// Its GPU memory (the device allocator's growth, as [`StageTiming::memory_mb`]), MB.
    pub memory_mb: f64,
}

/// The sweep timed at one depth-batch size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchTiming {
    /// Depth hypotheses per dispatch (1 = no batching).
    pub batch_size: u32,
    /// Median wall time of one sweep, ms.
    pub median_ms: f64,
    /// Fastest run, ms.
    pub min_ms: f64,
    /// Slowest run, ms.
    pub max_ms: f64,
    /// Number of timed runs.
    pub runs: u32,
    /// `median_ms` at batch 1 divided by this row's `median_ms`.
    pub speedup: f64,
    /// Throughput, samples/s (one sample = reference pixel × depth × source).
    #[serde(default)]
    pub samples_per_s: Option<f64>,
}

/// `.benchmarks/profile_report.json`, written by `cargo xtask profile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileReport {
    /// When the run finished, UTC RFC 3339.
    pub generated_at: String,
    /// The command line that produced the file.
    pub command: String,
    /// Where it ran.
    pub machine: Machine,
    /// The profiled workload (the plan's: 4 cameras at 1920×1080, 64 depths).
    pub workload: Workload,
    /// Whether GPU times are from timestamps.
    pub timing_source: TimingSource,
    /// Per stage, in pipeline order.
    pub stages: OrderedMap<StageTiming>,
    /// The longest stages or scopes, longest first.
    pub top_bottlenecks: Vec<Bottleneck>,
    /// The stage the depth batching optimises (`"depth_estimation"`).
    pub optimised_stage: String,
    /// Sweep timings per batch size (empty when the batching benchmark was not run).
    #[serde(default)]
    pub depth_batching: Vec<BatchTiming>,
    /// The workload the batching benchmark used (the standard one: 640×480, 64 depths).
    #[serde(default)]
    pub depth_batching_workload: Option<Workload>,
    /// Peak resident memory of the process, MB.
    #[serde(default)]
    pub peak_rss_mb: Option<f64>,
    /// The Chrome trace written beside the report, relative to the results folder.
    #[serde(default)]
    pub trace_file: Option<String>,
}

impl ProfileReport {
    /// Parses and validates `profile_report.json`.
    pub fn from_json(json: &str) -> Result<Self, ResultsError> {
        let report: Self = parse(PROFILE_REPORT_FILE, json)?;
        report.validate()?;
        Ok(report)
    }

    /// Checks what the docs rely on beyond the types: a timestamp, stages, named bottlenecks,
    /// every time and memory figure finite and non-negative (a stage's self time within its
    /// total), each batch timing's `min_ms <= median_ms <= max_ms`, each batch size once. An
    /// error names the field, e.g. `stages.fusion.total_time_ms`.
    pub fn validate(&self) -> Result<(), ResultsError> {
        let what = PROFILE_REPORT_FILE;
        check_common(what, &self.generated_at, &self.machine)?;
        let f = Fields::new(what);
        self.workload.check(&f, "workload")?;
        if self.stages.is_empty() {
            return Err(invalid(what, "`stages` is empty"));
        }
        if self.stages.iter().any(|(k, _)| k.trim().is_empty()) {
            return Err(invalid(what, "a stage has an empty name"));
        }
        for (name, s) in self.stages.iter() {
            s.check(&f, &format!("stages.{name}"))?;
        }
        if self
            .top_bottlenecks
            .iter()
            .any(|b| b.name.trim().is_empty())
        {
            return Err(invalid(what, "a bottleneck has an empty name"));
        }
        for (i, b) in self.top_bottlenecks.iter().enumerate() {
            f.millis(&format!("top_bottlenecks[{i}].time_ms"), b.time_ms)?;
            f.megabytes(&format!("top_bottlenecks[{i}].memory_mb"), b.memory_mb)?;
        }
        if self.optimised_stage.trim().is_empty() {
            return Err(invalid(what, "`optimised_stage` is empty"));
        }
        for (i, b) in self.depth_batching.iter().enumerate() {
            b.check(&f, &format!("depth_batching[{i}]"))?;
            if self.depth_batching[..i]
                .iter()
                .any(|o| o.batch_size == b.batch_size)
            {
                return Err(f.error(
                    &format!("depth_batching[{i}].batch_size"),
                    format!("= {} repeats an earlier row", b.batch_size),
                ));
            }
        }
        if let Some(w) = &self.depth_batching_workload {
            w.check(&f, "depth_batching_workload")?;
        }
        if let Some(rss) = self.peak_rss_mb {
            f.megabytes("peak_rss_mb", rss)?;
        }
        Ok(())
    }

    /// Serialises with two-space indentation and a final newline.
    pub fn to_json(&self) -> String {
        to_pretty(self)
    }
}

impl StageTiming {
    fn check(&self, f: &Fields, at: &str) -> Result<(), ResultsError> {
        f.millis(&format!("{at}.cpu_time_ms"), self.cpu_time_ms)?;
        if let Some(v) = self.gpu_time_ms {
            f.millis(&format!("{at}.gpu_time_ms"), v)?;
        }
        f.millis(&format!("{at}.total_time_ms"), self.total_time_ms)?;
        if let Some(v) = self.self_time_ms {
            f.millis(&format!("{at}.self_time_ms"), v)?;
            if v > self.total_time_ms + slack(self.total_time_ms) {
                return Err(f.error(
                    &format!("{at}.self_time_ms"),
                    format!("= {v} exceeds total_time_ms = {}", self.total_time_ms),
                ));
            }
        }
        f.megabytes(&format!("{at}.memory_mb"), self.memory_mb)?;
        if let Some(v) = self.host_peak_rss_growth_mb {
            f.megabytes(&format!("{at}.host_peak_rss_growth_mb"), v)?;
        }
        f.named(&format!("{at}.status"), &self.status)
    }
}

impl BatchTiming {
    fn check(&self, f: &Fields, at: &str) -> Result<(), ResultsError> {
        f.count(&format!("{at}.batch_size"), self.batch_size.into())?;
        f.count(&format!("{at}.runs"), self.runs.into())?;
        let ms = MAX_SECONDS * 1e3;
        f.positive(&format!("{at}.min_ms"), self.min_ms, ms, " ms")?;
        f.positive(&format!("{at}.median_ms"), self.median_ms, ms, " ms")?;
        f.positive(&format!("{at}.max_ms"), self.max_ms, ms, " ms")?;
        let ordered = self.min_ms <= self.median_ms + slack(self.median_ms)
            && self.median_ms <= self.max_ms + slack(self.max_ms);
        if !ordered {
            return Err(f.error(
                at,
                format!(
                    "has min_ms {} / median_ms {} / max_ms {}: need min <= median <= max",
                    self.min_ms, self.median_ms, self.max_ms
                ),
            ));
        }
        f.positive(&format!("{at}.speedup"), self.speedup, 1e6, "")?;
        if let Some(v) = self.samples_per_s {
            f.positive(&format!("{at}.samples_per_s"), v, MAX_RATE, "")?;
        }
        Ok(())
    }
}
