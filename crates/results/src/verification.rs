//! What is judged from the results: the phase's verdicts and a regression check's quantities.

use serde::{Deserialize, Serialize};

/// The phase's criteria, as `aquamvs_verdicts::verify` judged them from the results.
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

/// One quantity compared by a regression check (`cargo xtask bench --compare BASE [CURRENT]`):
/// **changes are relative to BASE, signed towards worse.**
#[derive(Debug, Clone, PartialEq)]
pub struct QuantityCheck {
    /// Row and quantity, e.g. `measured flat/refractive: stage depth_estimation (s)`; a row or
    /// field missing from CURRENT says `(missing in CURRENT)`.
    pub what: String,
    /// Value in BASE.
    pub base: f64,
    /// Value in CURRENT (`NaN` when the row or field is missing).
    pub current: f64,
    /// Relative change towards worse, % (negative = better; infinite when missing, or when
    /// BASE is 0 and CURRENT is worse).
    pub worse_pct: f64,
    /// Threshold that applied, %.
    pub threshold_pct: f64,
    /// Whether it is a regression (`worse_pct > threshold_pct`, or missing).
    pub regression: bool,
}
