//! The two results files, as serde structs: `.benchmarks/profile_report.json` (written by
//! `cargo xtask profile`) and `.benchmarks/benchmark_results.json` (written by
//! `cargo xtask bench`), plus the depth-error map of one view and the verification verdicts
//! that `cargo xtask update-docs` computes from them.
//!
//! **Reading is tolerant, where the docs rely on a field it is strict.** Unknown fields are
//! ignored (producers may add more); optional fields carry `#[serde(default)]`; a missing
//! required field, a wrong type or an unknown enum value is one clear error naming the file's
//! field. JSON cannot hold NaN: a nullable number is an `Option`, and a required one is finite
//! by construction.
//!
//! **Units are in the field names** (`_ms`, `_s`, `_mm`, `_pct`, `_mb`, `_gb`); percentages are
//! 0–100. **`generated_at` is UTC RFC 3339** (`2026-03-01T12:00:00Z`, fractional seconds
//! allowed), so two stamps compare as strings.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ReportError;

/// File name of the profiling results inside the results folder (`.benchmarks/`).
pub const PROFILE_REPORT_FILE: &str = "profile_report.json";
/// File name of the benchmark results inside the results folder (`.benchmarks/`).
pub const BENCHMARK_RESULTS_FILE: &str = "benchmark_results.json";

/// A JSON object whose keys keep **the order they have in the file** (a stage table reads in
/// pipeline order). Duplicate keys are an error.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<V> OrderedMap<V> {
    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(std::marker::PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = OrderedMap<V>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::new();
                while let Some((key, value)) = access.next_entry::<String, V>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
                    }
                    entries.push((key, value));
                }
                Ok(OrderedMap(entries))
            }
        }

        deserializer.deserialize_map(OrderedVisitor(std::marker::PhantomData))
    }
}

/// The machine a run was made on. The docs print all six required fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name (`/proc/cpuinfo` "model name").
    pub cpu_model: String,
    /// Logical cores available to the run.
    pub cores: u32,
    /// Total memory in GB.
    pub memory_gb: f64,
    /// Operating system, e.g. `Debian GNU/Linux 13 (x86_64)`.
    pub os: String,
    /// wgpu adapter name (e.g. `llvmpipe (LLVM 19.1.7, 256 bits)`), or a note that none was used.
    pub adapter: String,
    /// wgpu backend (`Vulkan`, `Gl`, …) or `cpu` for the CPU reference.
    pub backend: String,
    /// wgpu device type (`Cpu`, `DiscreteGpu`, …), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// Driver name and version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
}

/// Size of a profiled or benchmarked workload. Fields beyond the four required ones (sources,
/// window, features, …) are kept in `extra`, in key order, and printed as `key=value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// Workload name from DOMAIN.md (`small`, `standard`, `full`, `plan-profile`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Number of cameras taking part.
    pub cameras: u32,
    /// Number of depth hypotheses.
    pub depths: u32,
    /// Other parameters, printed as they are.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

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
    /// Memory the stage allocated (GPU buffers and textures through the profiler), MB.
    pub memory_mb: f64,
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
    /// Its memory, MB.
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

/// One point in the distance-to-tolerance table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToleranceScore {
    /// Tolerance τ, mm.
    pub tolerance_mm: f64,
    /// % of reconstructed points within τ of the ground truth.
    pub precision_pct: f64,
    /// % of ground-truth surface samples within τ of the reconstruction.
    pub recall_pct: f64,
    /// 2PR/(P+R), %.
    pub fscore_pct: f64,
}

/// Accuracy of a point cloud against the ground-truth mesh (the metrics crate's output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Mean point-to-mesh distance, mm.
    pub mean_error_mm: f64,
    /// Median point-to-mesh distance, mm.
    pub median_error_mm: f64,
    /// Standard deviation of the distances, mm.
    pub std_error_mm: f64,
    /// Points per mm² of mesh area × 100 (AquaMVS's definition).
    pub raw_completeness_pct: f64,
    /// % of points within the first tolerance (AquaMVS's name; really a precision).
    pub accurate_completeness_pct: f64,
    /// RMSE of an SVD plane fit (flat scenes), mm.
    #[serde(default)]
    pub plane_fit_rmse_mm: Option<f64>,
    /// Largest deviation from that plane, mm.
    #[serde(default)]
    pub plane_fit_max_error_mm: Option<f64>,
    /// Precision, recall and F-score per tolerance, ascending.
    pub by_tolerance: Vec<ToleranceScore>,
}

impl Accuracy {
    /// The row for tolerance `tolerance_mm` (exact match within 1e-9), if present.
    pub fn at_tolerance(&self, tolerance_mm: f64) -> Option<&ToleranceScore> {
        self.by_tolerance
            .iter()
            .find(|t| (t.tolerance_mm - tolerance_mm).abs() < 1e-9)
    }
}

/// One row of the plan's **simulated** comparison: mesh samples with noise and dropouts,
/// standing in for a matcher's output. Not a pipeline run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulatedRow {
    /// `"LightGlue-like (simulated)"` or `"RoMa-like (simulated)"`.
    pub name: String,
    /// Scene name (`flat`, `undulating`).
    pub scene: String,
    /// Points evaluated (after dropping).
    pub n_points: u64,
    /// Mesh samples drawn before dropping.
    #[serde(default)]
    pub mesh_samples: Option<u64>,
    /// Gaussian noise σ, mm.
    pub noise_sigma_mm: f64,
    /// Fraction of samples dropped, 0–1.
    pub drop_fraction: f64,
    /// RNG seed.
    pub seed: u64,
    /// Its accuracy.
    pub accuracy: Accuracy,
}

/// How a measured reconstruction modelled the water surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    /// The refractive camera model.
    #[serde(rename = "refractive")]
    Refractive,
    /// The same sweep with refraction ignored (plain pinhole cameras).
    #[serde(rename = "pinhole (refraction ignored)")]
    Pinhole,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Refractive => "refractive",
            Self::Pinhole => "pinhole (refraction ignored)",
        })
    }
}

/// One real reconstruction: sweep and fusion on rendered images, evaluated against ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredRow {
    /// Scene name (`flat`, `undulating`).
    pub scene: String,
    /// Camera model used by the sweep.
    pub method: Method,
    /// Image width, px.
    pub width: u32,
    /// Image height, px.
    pub height: u32,
    /// Depth hypotheses.
    pub depths: u32,
    /// NCC window, px (odd).
    pub window: u32,
    /// Depth batch size.
    pub batch: u32,
    /// `gpu` or `cpu` (the sweep backend), or the wgpu backend name.
    pub backend: String,
    /// The adapter that ran it.
    pub adapter: String,
    /// Fused points evaluated.
    pub n_points: u64,
    /// Wall time of the whole reconstruction, s.
    pub runtime_s: f64,
    /// Wall time per stage, s, in pipeline order.
    #[serde(default)]
    pub stage_times_s: OrderedMap<f64>,
    /// Its accuracy (by_tolerance at 1, 2 and 5 mm).
    pub accuracy: Accuracy,
}

/// Sweep throughput on a named workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThroughputRow {
    /// Workload name (`small`, `standard`, `full`).
    pub workload: String,
    /// `gpu` or `cpu`.
    pub backend: String,
    /// Depth batch size.
    pub batch: u32,
    /// Samples per second.
    pub samples_per_s: f64,
    /// Median time of one sweep, ms.
    pub median_ms: f64,
    /// Adapter name, when the backend is `gpu`.
    #[serde(default)]
    pub adapter: Option<String>,
}

/// Regression thresholds of `cargo xtask bench --compare`, in % change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionThresholds {
    /// Allowed worsening of accuracy metrics, %.
    pub accuracy_pct: f64,
    /// Allowed loss of completeness / recall, %.
    pub completeness_pct: f64,
    /// Allowed slow-down, %.
    pub time_pct: f64,
}

/// What `cargo xtask bench` says about its regression check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionCheck {
    /// Whether `--compare BASE.json [CURRENT.json]` is available in this build.
    pub supported: bool,
    /// The command to run it.
    #[serde(default)]
    pub command: Option<String>,
    /// Default thresholds.
    pub thresholds: RegressionThresholds,
}

/// Where the depth-error map of one view is, and what it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorMapRef {
    /// File relative to the results folder: `.json` ([`ErrorMap`]) or `.npy` (float32 H×W, NaN
    /// invalid). **Values are signed ray-depth errors in mm, estimate − truth.**
    pub file: String,
    /// Scene name.
    pub scene: String,
    /// Camera name of the view.
    pub view: String,
    /// Camera model used.
    #[serde(default)]
    pub method: Option<Method>,
    /// Colour scale saturates at ±this, mm (default 1 mm).
    #[serde(default)]
    pub color_limit_mm: Option<f64>,
}

/// `.benchmarks/benchmark_results.json`, written by `cargo xtask bench`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkResults {
    /// When the run finished, UTC RFC 3339.
    pub generated_at: String,
    /// The command line that produced the file.
    pub command: String,
    /// Where it ran.
    pub machine: Machine,
    /// The plan's simulated comparison (LightGlue-like vs RoMa-like).
    pub simulated: Vec<SimulatedRow>,
    /// Real reconstructions, refractive and pinhole.
    pub measured: Vec<MeasuredRow>,
    /// Sweep throughput on the named workloads.
    #[serde(default)]
    pub sweep_throughput: Vec<ThroughputRow>,
    /// The `--compare` regression check, as this build of `bench` supports it.
    #[serde(default)]
    pub regression_check: Option<RegressionCheck>,
    /// The depth-error map of one view, if bench wrote one.
    #[serde(default)]
    pub depth_error_map: Option<ErrorMapRef>,
}

/// A depth-error image: `height` rows of `width` values, row-major; `null` marks pixels with no
/// estimate or no ground truth. **Values in mm, estimate − truth.**
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorMap {
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// `width × height` values, row-major.
    pub values: Vec<Option<f32>>,
}

/// The four phase criteria, as `cargo xtask update-docs` judged them from the results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    /// Phase id, e.g. `05-performance-and-optimization`.
    pub phase: String,
    /// Timestamp of the evidence (the later `generated_at` of the two results files).
    pub verified: String,
    /// One verdict per criterion, in order.
    pub truths: Vec<TruthVerdict>,
    /// How many hold.
    pub score: usize,
    /// `gaps_closed` when all hold, otherwise `gaps_found`.
    pub status: String,
}

/// One criterion and the evidence for or against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TruthVerdict {
    /// 1-based number.
    pub number: u32,
    /// The criterion.
    pub truth: String,
    /// Whether the evidence supports it.
    pub verified: bool,
    /// What the evidence is, with numbers.
    pub evidence: String,
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, ReportError> {
    serde_json::from_str(json).map_err(|source| {
        // serde_json names a missing field but not the field holding a wrong value: name the
        // last key before the error position.
        let near = match source.classify() {
            serde_json::error::Category::Data => {
                last_key_before(json, source.line(), source.column())
            }
            _ => None,
        };
        ReportError::Json {
            what: near.map_or_else(|| what.to_owned(), |key| format!("{what} (at `{key}`)")),
            source,
        }
    })
}

/// The last `"key":` that starts before 1-based (`line`, `column`) in `json`.
fn last_key_before(json: &str, line: usize, column: usize) -> Option<String> {
    let line_start: usize = json
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let end = (line_start + column).min(json.len());
    let head = json.get(..end)?;
    let mut search = head;
    while let Some(colon) = search.rfind(':') {
        let before = search[..colon].trim_end();
        if let Some(without_quote) = before.strip_suffix('"')
            && let Some(open) = without_quote.rfind('"')
        {
            let key = &without_quote[open + 1..];
            if !key.is_empty() && !key.contains(['{', '}', ',', ':']) {
                return Some(key.to_owned());
            }
        }
        search = &search[..colon];
    }
    None
}

fn invalid(what: &str, message: impl Into<String>) -> ReportError {
    ReportError::Invalid {
        what: what.to_owned(),
        message: message.into(),
    }
}

/// Checks `s` is UTC RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fff]Z`.
pub fn is_utc_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let fraction = &b[19..b.len() - 1];
    let fraction_ok = fraction.is_empty()
        || (fraction.len() >= 2
            && fraction[0] == b'.'
            && fraction[1..].iter().all(u8::is_ascii_digit));
    shape && fraction_ok
}

fn check_common(what: &str, generated_at: &str, machine: &Machine) -> Result<(), ReportError> {
    if !is_utc_timestamp(generated_at) {
        return Err(invalid(
            what,
            format!(
                "generated_at `{generated_at}` is not UTC RFC 3339 (like 2026-03-01T12:00:00Z)"
            ),
        ));
    }
    if machine.cores == 0 || !(machine.memory_gb > 0.0) {
        return Err(invalid(
            what,
            "machine.cores and machine.memory_gb must be positive",
        ));
    }
    for (field, value) in [
        ("cpu_model", &machine.cpu_model),
        ("adapter", &machine.adapter),
        ("backend", &machine.backend),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(what, format!("machine.{field} is empty")));
        }
    }
    Ok(())
}

impl ProfileReport {
    /// Parses and validates `profile_report.json`.
    pub fn from_json(json: &str) -> Result<Self, ReportError> {
        let report: Self = parse(PROFILE_REPORT_FILE, json)?;
        report.validate()?;
        Ok(report)
    }

    /// Checks what the docs rely on beyond the types: a timestamp, stages, named bottlenecks.
    pub fn validate(&self) -> Result<(), ReportError> {
        let what = PROFILE_REPORT_FILE;
        check_common(what, &self.generated_at, &self.machine)?;
        if self.stages.is_empty() {
            return Err(invalid(what, "`stages` is empty"));
        }
        if self.stages.iter().any(|(k, _)| k.trim().is_empty()) {
            return Err(invalid(what, "a stage has an empty name"));
        }
        if self
            .top_bottlenecks
            .iter()
            .any(|b| b.name.trim().is_empty())
        {
            return Err(invalid(what, "a bottleneck has an empty name"));
        }
        if self.optimised_stage.trim().is_empty() {
            return Err(invalid(what, "`optimised_stage` is empty"));
        }
        Ok(())
    }

    /// Serialises with two-space indentation and a final newline.
    pub fn to_json(&self) -> String {
        to_pretty(self)
    }
}

impl BenchmarkResults {
    /// Parses and validates `benchmark_results.json`.
    pub fn from_json(json: &str) -> Result<Self, ReportError> {
        let results: Self = parse(BENCHMARK_RESULTS_FILE, json)?;
        results.validate()?;
        Ok(results)
    }

    /// Checks what the docs rely on beyond the types.
    pub fn validate(&self) -> Result<(), ReportError> {
        let what = BENCHMARK_RESULTS_FILE;
        check_common(what, &self.generated_at, &self.machine)?;
        if self.simulated.iter().any(|r| r.name.trim().is_empty()) {
            return Err(invalid(what, "a simulated row has an empty name"));
        }
        if let Some(map) = &self.depth_error_map
            && map.file.trim().is_empty()
        {
            return Err(invalid(what, "depth_error_map.file is empty"));
        }
        Ok(())
    }

    /// Serialises with two-space indentation and a final newline.
    pub fn to_json(&self) -> String {
        to_pretty(self)
    }
}

impl ErrorMap {
    /// Parses and validates an error-map JSON file.
    pub fn from_json(what: &str, json: &str) -> Result<Self, ReportError> {
        let map: Self = parse(what, json)?;
        map.validate(what)?;
        Ok(map)
    }

    /// Checks the size: both sides 1..=8192 and `values.len() == width × height`.
    pub fn validate(&self, what: &str) -> Result<(), ReportError> {
        if self.width == 0 || self.height == 0 || self.width > 8192 || self.height > 8192 {
            return Err(invalid(
                what,
                format!(
                    "size {}x{} is invalid (each side 1..=8192)",
                    self.width, self.height
                ),
            ));
        }
        let expected = self.width as usize * self.height as usize;
        if self.values.len() != expected {
            return Err(invalid(
                what,
                format!(
                    "{} values for a {}x{} map (expected {expected})",
                    self.values.len(),
                    self.width,
                    self.height
                ),
            ));
        }
        Ok(())
    }
}

fn to_pretty<T: Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("results serialise to JSON");
    s.push('\n');
    s
}
