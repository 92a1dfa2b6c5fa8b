//! The depth methods side by side in `benchmark_results.json`: the plane sweep at several
//! windows and PatchMatch, on the same reference view of each built-in scene, with and without
//! sensor noise, measured in the same run.

use serde::{Deserialize, Serialize};

use crate::ResultsError;
use crate::check::Fields;

fn one_run() -> u32 {
    1
}

/// One depth map of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepthMethodRow {
    /// `flat`, `undulating` or `slope`.
    pub scene: String,
    /// Standard deviation of the images' Gaussian sensor noise, grey levels (0 = none).
    pub noise: f64,
    /// `sweep` or `patchmatch`.
    pub method: String,
    /// Window side, pixels (PatchMatch: its propagation window).
    pub window: u32,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Reference camera.
    pub reference: String,
    /// Source cameras.
    pub sources: u32,
    /// Median |ray-depth error| over the patch pixels with an estimate, mm.
    pub median_error_mm: f64,
    /// Patch pixels with an estimate, %.
    pub valid_pct: f64,
    /// Patch pixels within 1 mm of the truth, % of those with an estimate.
    pub within_1_mm_pct: f64,
    /// Median angle to the analytic surface normal, degrees (methods that estimate normals).
    pub normal_median_deg: Option<f64>,
    /// Wall time of the depth map on this run's backend, s: the median of `timed_runs` runs.
    pub runtime_s: f64,
    /// Timed runs whose median `runtime_s` is (after an untimed warm-up run; 1 in files
    /// written before it was recorded).
    #[serde(default = "one_run")]
    pub timed_runs: u32,
    /// Where it ran (`gpu: <adapter>` or `cpu`).
    pub backend: String,
}

impl DepthMethodRow {
    pub(crate) fn check(&self, f: &Fields, at: &str) -> Result<(), ResultsError> {
        f.named(&format!("{at}.scene"), &self.scene)?;
        f.named(&format!("{at}.method"), &self.method)?;
        f.named(&format!("{at}.reference"), &self.reference)?;
        f.named(&format!("{at}.backend"), &self.backend)?;
        f.within(&format!("{at}.noise"), self.noise, 0.0, 1.0, " grey levels")?;
        f.count(&format!("{at}.window"), self.window.into())?;
        f.count(&format!("{at}.width"), self.width.into())?;
        f.count(&format!("{at}.height"), self.height.into())?;
        f.count(&format!("{at}.sources"), self.sources.into())?;
        f.error_mm(&format!("{at}.median_error_mm"), self.median_error_mm)?;
        f.percent(&format!("{at}.valid_pct"), self.valid_pct)?;
        f.percent(&format!("{at}.within_1_mm_pct"), self.within_1_mm_pct)?;
        if let Some(d) = self.normal_median_deg {
            f.within(&format!("{at}.normal_median_deg"), d, 0.0, 180.0, "°")?;
        }
        f.count(&format!("{at}.timed_runs"), self.timed_runs.into())?;
        f.seconds(&format!("{at}.runtime_s"), self.runtime_s)
    }

    /// The key of a row: scene, noise, method and window.
    pub fn key(&self) -> String {
        format!(
            "{}/noise {}/{} w{}",
            self.scene, self.noise, self.method, self.window
        )
    }
}
