//! Validation of physical values: each finite and inside its range, each error naming the file
//! and the field (`measured[0].runtime_s`).
//!
//! JSON cannot hold NaN or infinity, so these ranges are what stands between a results file
//! and the docs: a negative time, a percentage above 100 or an absurd magnitude is refused.

use crate::ResultsError;
use crate::json::invalid;

/// Longest plausible time of one run or stage, s (a week).
pub(crate) const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;
/// Largest plausible distance error, mm (a kilometre).
pub(crate) const MAX_ERROR_MM: f64 = 1e6;
/// Largest plausible memory figure, MB (a hundred terabytes).
pub(crate) const MAX_MB: f64 = 1e8;
/// Largest plausible throughput, samples/s.
pub(crate) const MAX_RATE: f64 = 1e15;

/// Checks the fields of one file (`what`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a> {
    what: &'a str,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(what: &'a str) -> Self {
        Self { what }
    }

    /// An error about `field`.
    pub(crate) fn error(&self, field: &str, message: impl std::fmt::Display) -> ResultsError {
        invalid(self.what, format!("`{field}` {message}"))
    }

    /// `lo <= value <= hi` (and finite), or an error naming the field, the value and the range.
    pub(crate) fn within(
        &self,
        field: &str,
        value: f64,
        lo: f64,
        hi: f64,
        unit: &str,
    ) -> Result<(), ResultsError> {
        if value.is_finite() && (lo..=hi).contains(&value) {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!("= {value} is impossible (must be within {lo}..={hi}{unit})"),
            ))
        }
    }

    /// `0 < value <= hi`.
    pub(crate) fn positive(
        &self,
        field: &str,
        value: f64,
        hi: f64,
        unit: &str,
    ) -> Result<(), ResultsError> {
        if value.is_finite() && value > 0.0 && value <= hi {
            Ok(())
        } else {
            Err(self.error(
                field,
                format!("= {value} is impossible (must be > 0 and <= {hi}{unit})"),
            ))
        }
    }

    /// A duration in seconds: 0..=a week.
    pub(crate) fn seconds(&self, field: &str, value: f64) -> Result<(), ResultsError> {
        self.within(field, value, 0.0, MAX_SECONDS, " s")
    }

    /// A duration in milliseconds: 0..=a week.
    pub(crate) fn millis(&self, field: &str, value: f64) -> Result<(), ResultsError> {
        self.within(field, value, 0.0, MAX_SECONDS * 1e3, " ms")
    }

    /// A memory figure in MB: 0..=100 TB.
    pub(crate) fn megabytes(&self, field: &str, value: f64) -> Result<(), ResultsError> {
        self.within(field, value, 0.0, MAX_MB, " MB")
    }

    /// A distance error in mm: 0..=1 km.
    pub(crate) fn error_mm(&self, field: &str, value: f64) -> Result<(), ResultsError> {
        self.within(field, value, 0.0, MAX_ERROR_MM, " mm")
    }

    /// A percentage: 0..=100.
    pub(crate) fn percent(&self, field: &str, value: f64) -> Result<(), ResultsError> {
        self.within(field, value, 0.0, 100.0, " %")
    }

    /// A text that must not be blank.
    pub(crate) fn named(&self, field: &str, value: &str) -> Result<(), ResultsError> {
        if value.trim().is_empty() {
            Err(self.error(field, "is empty"))
        } else {
            Ok(())
        }
    }

    /// A count that must be at least 1.
    pub(crate) fn count(&self, field: &str, value: u64) -> Result<(), ResultsError> {
        if value == 0 {
            Err(self.error(field, "= 0 is impossible (must be at least 1)"))
        } else {
            Ok(())
        }
    }
}

/// Relative slack for sums and orderings of measured values (rounding in the producer).
pub(crate) fn slack(value: f64) -> f64 {
    1e-6 * value.abs() + 1e-9
}
