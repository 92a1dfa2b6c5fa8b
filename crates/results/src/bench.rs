//! `.benchmarks/benchmark_results.json`: the simulated comparison, measured reconstructions and
//! their accuracy, sweep throughput, the declared regression check, the depth-error map.

use std::fmt;
use std::path::Component;

use serde::{Deserialize, Serialize};

use crate::check::{Fields, MAX_ERROR_MM, MAX_RATE, MAX_SECONDS, slack};
use crate::common::{Machine, OrderedMap, check_common};
use crate::json::{invalid, parse, to_pretty};
use crate::{BENCHMARK_RESULTS_FILE, ResultsError};

/// The tolerance of the plan's comparison, mm (DOMAIN.md: "tolerance 5 mm").
pub const PLAN_TOLERANCE_MM: f64 = 5.0;

/// One point in the distance-to-tolerance table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
    /// The refractive camera model, depth maps by refractive PatchMatch instead of the sweep.
    #[serde(rename = "refractive PatchMatch")]
    RefractivePatchMatch,
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Refractive => "refractive",
            Self::Pinhole => "pinhole (refraction ignored)",
            Self::RefractivePatchMatch => "refractive PatchMatch",
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
    /// AquaMVS's own sweep beside ours (`bench --peer aquamvs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peer: Vec<crate::PeerRow>,
    /// Why the peer comparison did not run, when it was asked for and could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_skipped: Option<String>,
    /// The depth methods side by side: plane-sweep windows and PatchMatch, per scene and noise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depth_methods: Vec<crate::DepthMethodRow>,
    /// PatchMatch's settings in those rows and in the PatchMatch reconstructions, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patchmatch_settings: Option<String>,
    /// The ground-truth board validation (issue 15), one report per depth method; absent in
    /// results written before it existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub board: Vec<crate::BoardReport>,
    /// Why a depth method's board validation did not run (e.g. PatchMatch over the time
    /// budget), when it did not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub board_skipped: Vec<String>,
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

impl BenchmarkResults {
    /// Parses and validates `benchmark_results.json`.
    pub fn from_json(json: &str) -> Result<Self, ResultsError> {
        let results: Self = parse(BENCHMARK_RESULTS_FILE, json)?;
        results.validate()?;
        Ok(results)
    }

    /// Checks what the docs rely on beyond the types: every physical value finite and in its
    /// range (times, errors and memory non-negative, percentages 0–100, rates positive), the
    /// parts consistent with the whole (stage times within the runtime, F-scores from their
    /// precision and recall), each row once. An error names the field, e.g.
    /// `measured[0].runtime_s`.
    pub fn validate(&self) -> Result<(), ResultsError> {
        let what = BENCHMARK_RESULTS_FILE;
        check_common(what, &self.generated_at, &self.machine)?;
        let f = Fields::new(what);
        for (i, r) in self.simulated.iter().enumerate() {
            r.check(&f, &format!("simulated[{i}]"))?;
            let twin = self.simulated[..i]
                .iter()
                .any(|o| o.name == r.name && o.scene == r.scene);
            if twin {
                return Err(f.error(
                    &format!("simulated[{i}]"),
                    "repeats an earlier row's name and scene",
                ));
            }
        }
        for (i, r) in self.measured.iter().enumerate() {
            r.check(&f, &format!("measured[{i}]"))?;
            let twin = self.measured[..i]
                .iter()
                .any(|o| o.scene == r.scene && o.method == r.method);
            if twin {
                return Err(f.error(
                    &format!("measured[{i}]"),
                    "repeats an earlier row's scene and method",
                ));
            }
        }
        for (i, r) in self.peer.iter().enumerate() {
            r.check(&f, &format!("peer[{i}]"))?;
        }
        for (i, r) in self.board.iter().enumerate() {
            r.check(&f, &format!("board[{i}]"))?;
        }
        for (i, r) in self.depth_methods.iter().enumerate() {
            let at = format!("depth_methods[{i}]");
            r.check(&f, &at)?;
            if self.depth_methods[..i].iter().any(|o| o.key() == r.key()) {
                return Err(f.error(&at, format!("repeats an earlier row ({})", r.key())));
            }
        }
        for (i, r) in self.sweep_throughput.iter().enumerate() {
            let at = format!("sweep_throughput[{i}]");
            f.named(&format!("{at}.workload"), &r.workload)?;
            f.named(&format!("{at}.backend"), &r.backend)?;
            f.count(&format!("{at}.batch"), r.batch.into())?;
            f.positive(
                &format!("{at}.samples_per_s"),
                r.samples_per_s,
                MAX_RATE,
                "",
            )?;
            f.positive(
                &format!("{at}.median_ms"),
                r.median_ms,
                MAX_SECONDS * 1e3,
                " ms",
            )?;
            let twin = self.sweep_throughput[..i]
                .iter()
                .any(|o| o.workload == r.workload && o.backend == r.backend && o.batch == r.batch);
            if twin {
                return Err(f.error(&at, "repeats an earlier row's workload, backend and batch"));
            }
        }
        if let Some(check) = &self.regression_check {
            let t = &check.thresholds;
            for (name, v) in [
                ("accuracy_pct", t.accuracy_pct),
                ("completeness_pct", t.completeness_pct),
                ("time_pct", t.time_pct),
            ] {
                f.within(
                    &format!("regression_check.thresholds.{name}"),
                    v,
                    0.0,
                    1e6,
                    " %",
                )?;
            }
        }
        if let Some(map) = &self.depth_error_map {
            f.named("depth_error_map.file", &map.file)?;
            let file = std::path::Path::new(&map.file);
            let inside = file
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
            let known = matches!(
                file.extension().and_then(|e| e.to_str()),
                Some("json" | "npy")
            );
            if !inside || !known {
                return Err(f.error(
                    "depth_error_map.file",
                    format!(
                        "`{}` must be a path inside the results folder ending in .json or .npy",
                        map.file
                    ),
                ));
            }
            if let Some(limit) = map.color_limit_mm {
                f.positive("depth_error_map.color_limit_mm", limit, MAX_ERROR_MM, " mm")?;
            }
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
    pub fn from_json(what: &str, json: &str) -> Result<Self, ResultsError> {
        let map: Self = parse(what, json)?;
        map.validate(what)?;
        Ok(map)
    }

    /// The map of a float image (`height` rows of `width`, row-major), non-finite values
    /// (NaN: no estimate) as `None`; validated like [`ErrorMap::from_json`].
    pub fn from_f32(
        what: &str,
        width: usize,
        height: usize,
        data: &[f32],
    ) -> Result<Self, ResultsError> {
        let side = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let map = Self {
            width: side(width),
            height: side(height),
            values: data.iter().map(|v| v.is_finite().then_some(*v)).collect(),
        };
        map.validate(what)?;
        Ok(map)
    }

    /// Checks the size: both sides 1..=8192 and `values.len() == width × height`.
    pub fn validate(&self, what: &str) -> Result<(), ResultsError> {
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

/// How far a stored F-score may be from 2PR/(P+R) of its stored precision and recall,
/// percentage points (the producer may round each to 0.1).
const FSCORE_SLACK_PCT: f64 = 0.1;

impl Accuracy {
    /// Checks the distances, percentages and F-scores; `at` names the block in errors.
    fn check(&self, f: &Fields, at: &str) -> Result<(), ResultsError> {
        f.error_mm(&format!("{at}.mean_error_mm"), self.mean_error_mm)?;
        f.error_mm(&format!("{at}.median_error_mm"), self.median_error_mm)?;
        f.error_mm(&format!("{at}.std_error_mm"), self.std_error_mm)?;
        // Points per mm² × 100: a density, not bounded by 100.
        f.within(
            &format!("{at}.raw_completeness_pct"),
            self.raw_completeness_pct,
            0.0,
            1e9,
            "",
        )?;
        f.percent(
            &format!("{at}.accurate_completeness_pct"),
            self.accurate_completeness_pct,
        )?;
        if let Some(v) = self.plane_fit_rmse_mm {
            f.error_mm(&format!("{at}.plane_fit_rmse_mm"), v)?;
        }
        if let Some(v) = self.plane_fit_max_error_mm {
            f.error_mm(&format!("{at}.plane_fit_max_error_mm"), v)?;
        }
        if let (Some(rmse), Some(max)) = (self.plane_fit_rmse_mm, self.plane_fit_max_error_mm)
            && rmse > max + slack(max)
        {
            return Err(f.error(
                &format!("{at}.plane_fit_rmse_mm"),
                format!("= {rmse} exceeds plane_fit_max_error_mm = {max} (an RMS cannot exceed the largest value)"),
            ));
        }
        for (i, t) in self.by_tolerance.iter().enumerate() {
            let at = format!("{at}.by_tolerance[{i}]");
            f.positive(
                &format!("{at}.tolerance_mm"),
                t.tolerance_mm,
                MAX_ERROR_MM,
                " mm",
            )?;
            f.percent(&format!("{at}.precision_pct"), t.precision_pct)?;
            f.percent(&format!("{at}.recall_pct"), t.recall_pct)?;
            f.percent(&format!("{at}.fscore_pct"), t.fscore_pct)?;
            let (p, r) = (t.precision_pct, t.recall_pct);
            let harmonic = if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            };
            if (t.fscore_pct - harmonic).abs() > FSCORE_SLACK_PCT {
                return Err(f.error(
                    &format!("{at}.fscore_pct"),
                    format!(
                        "= {} disagrees with 2PR/(P+R) = {harmonic:.3} of its precision and recall",
                        t.fscore_pct
                    ),
                ));
            }
            if self.by_tolerance[..i]
                .iter()
                .any(|o| (o.tolerance_mm - t.tolerance_mm).abs() < 1e-9)
            {
                return Err(f.error(
                    &format!("{at}.tolerance_mm"),
                    "repeats an earlier tolerance",
                ));
            }
        }
        Ok(())
    }
}

impl SimulatedRow {
    fn check(&self, f: &Fields, at: &str) -> Result<(), ResultsError> {
        f.named(&format!("{at}.name"), &self.name)?;
        f.named(&format!("{at}.scene"), &self.scene)?;
        f.error_mm(&format!("{at}.noise_sigma_mm"), self.noise_sigma_mm)?;
        f.within(
            &format!("{at}.drop_fraction"),
            self.drop_fraction,
            0.0,
            1.0,
            "",
        )?;
        if let Some(samples) = self.mesh_samples
            && self.n_points > samples
        {
            return Err(f.error(
                &format!("{at}.n_points"),
                format!(
                    "= {} exceeds mesh_samples = {samples} (points are kept samples)",
                    self.n_points
                ),
            ));
        }
        self.accuracy.check(f, &format!("{at}.accuracy"))
    }
}

impl MeasuredRow {
    fn check(&self, f: &Fields, at: &str) -> Result<(), ResultsError> {
        f.named(&format!("{at}.scene"), &self.scene)?;
        f.named(&format!("{at}.backend"), &self.backend)?;
        f.named(&format!("{at}.adapter"), &self.adapter)?;
        for (name, v) in [
            ("width", self.width),
            ("height", self.height),
            ("depths", self.depths),
            ("window", self.window),
            ("batch", self.batch),
        ] {
            f.count(&format!("{at}.{name}"), v.into())?;
        }
        f.seconds(&format!("{at}.runtime_s"), self.runtime_s)?;
        let mut sum = 0.0;
        for (stage, secs) in self.stage_times_s.iter() {
            f.seconds(&format!("{at}.stage_times_s.{stage}"), *secs)?;
            sum += secs;
        }
        // The stages run one after another inside the timed reconstruction.
        if sum > self.runtime_s * 1.01 + 1e-3 {
            return Err(f.error(
                &format!("{at}.stage_times_s"),
                format!("sum to {sum} s, more than runtime_s = {} s", self.runtime_s),
            ));
        }
        self.accuracy.check(f, &format!("{at}.accuracy"))
    }
}
