//! The peer comparison of `benchmark_results.json`: AquaMVS's own plane sweep and ours on the
//! same rendered images, same reference view, sources, depth range, depth count and window,
//! measured in the same run and scored against the same ground truth.

use serde::{Deserialize, Serialize};

use crate::ResultsError;
use crate::check::{Fields, MAX_RATE, MAX_SECONDS};

/// One sweep of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerSide {
    /// `aquamvs-rs` or `AquaMVS`.
    pub name: String,
    /// Where it ran (`gpu: <adapter>`, `cpu`, `torch cpu, N threads`).
    pub backend: String,
    /// Samples (reference pixel × depth × source) per second, from the median time.
    pub samples_per_s: f64,
    /// Median wall time of one sweep, s.
    pub median_s: f64,
    /// Timed sweeps.
    pub runs: u32,
    /// Median |ray-depth error| over the patch pixels with an estimate, mm.
    pub median_error_mm: f64,
    /// Patch pixels with an estimate, %.
    pub valid_pct: f64,
}

/// One scene of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerRow {
    /// `flat` or `undulating`.
    pub scene: String,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Reference camera.
    pub reference: String,
    /// Source cameras, in order.
    pub sources: Vec<String>,
    /// Depth hypotheses.
    pub depths: u32,
    /// NCC window side.
    pub window: u32,
    /// Ray-depth range swept, metres.
    pub depth_range: [f64; 2],
    /// Our sweep.
    pub ours: PeerSide,
    /// AquaMVS's sweep.
    pub peer: PeerSide,
    /// The `aquamvs` package version.
    pub aquamvs_version: String,
    /// The `torch` package version.
    pub torch_version: String,
    /// Ours / peer samples per second.
    pub speedup: f64,
}

impl PeerRow {
    pub(crate) fn check(&self, f: &Fields, at: &str) -> Result<(), ResultsError> {
        f.named(&format!("{at}.scene"), &self.scene)?;
        f.named(&format!("{at}.reference"), &self.reference)?;
        f.named(&format!("{at}.aquamvs_version"), &self.aquamvs_version)?;
        f.named(&format!("{at}.torch_version"), &self.torch_version)?;
        f.count(&format!("{at}.depths"), self.depths.into())?;
        f.count(&format!("{at}.window"), self.window.into())?;
        f.count(&format!("{at}.sources"), self.sources.len() as u64)?;
        let [lo, hi] = self.depth_range;
        if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo < hi) {
            return Err(f.error(&format!("{at}.depth_range"), "must be 0 <= lo < hi"));
        }
        for (side, s) in [("ours", &self.ours), ("peer", &self.peer)] {
            let at = format!("{at}.{side}");
            f.named(&format!("{at}.name"), &s.name)?;
            f.named(&format!("{at}.backend"), &s.backend)?;
            f.positive(
                &format!("{at}.samples_per_s"),
                s.samples_per_s,
                MAX_RATE,
                "",
            )?;
            f.positive(&format!("{at}.median_s"), s.median_s, MAX_SECONDS, " s")?;
            f.count(&format!("{at}.runs"), s.runs.into())?;
            f.error_mm(&format!("{at}.median_error_mm"), s.median_error_mm)?;
            f.percent(&format!("{at}.valid_pct"), s.valid_pct)?;
        }
        let ratio = self.ours.samples_per_s / self.peer.samples_per_s;
        if !((self.speedup - ratio).abs() <= 1e-6 * ratio) {
            return Err(f.error(
                &format!("{at}.speedup"),
                format!(
                    "is {} but ours/peer samples per second is {ratio}",
                    self.speedup
                ),
            ));
        }
        Ok(())
    }
}
