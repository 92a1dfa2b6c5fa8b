//! Summary statistics: the workspace's one definition of a median and a percentile.
//!
//! **Percentiles interpolate linearly between order statistics** (NumPy's default,
//! `method="linear"`), so the median of an even count is the mean of the two middle values.
//! Every median in the workspace (accuracy, depth errors, timings) is [`median`].

use rayon::prelude::*;

/// Mean, population standard deviation, RMSE, maximum and percentiles of a non-empty set of
/// finite values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Summary {
    pub mean: f64,
    pub std: f64,
    pub rmse: f64,
    pub max: f64,
    pub median: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
}

/// `values` must be non-empty and finite. Percentiles interpolate linearly between order
/// statistics (NumPy's default, `method="linear"`); the standard deviation divides by n
/// (NumPy's `np.std` default, as AquaMVS reports it).
pub(crate) fn summarize(values: &[f64]) -> Summary {
    let n = values.len() as f64;
    let mean = sum(values, |v| v) / n;
    let var = sum(values, |v| (v - mean) * (v - mean)) / n;
    let ms = sum(values, |v| v * v) / n;
    let mut sorted = values.to_vec();
    sorted.par_sort_unstable_by(f64::total_cmp);
    Summary {
        mean,
        std: var.sqrt(),
        rmse: ms.sqrt(),
        max: sorted[sorted.len() - 1],
        median: percentile_sorted(&sorted, 50.0),
        p90: percentile_sorted(&sorted, 90.0),
        p95: percentile_sorted(&sorted, 95.0),
        p99: percentile_sorted(&sorted, 99.0),
    }
}

/// `Σ f(v)` in parallel, with the same result whatever the threads do: fixed chunks summed in
/// order, then their sums in order (rayon's `sum` adds in an order that depends on the work
/// stealing, so its last bits vary from run to run).
fn sum(values: &[f64], f: impl Fn(f64) -> f64 + Sync) -> f64 {
    let partial: Vec<f64> = values
        .par_chunks(4096)
        .map(|c| c.iter().map(|&v| f(v)).sum::<f64>())
        .collect();
    partial.iter().sum()
}

/// The `pct`-th percentile (0–100) of `values`, linear interpolation between order statistics;
/// `None` when `values` is empty or holds a NaN.
pub fn percentile(values: &[f64], pct: f64) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) || !(0.0..=100.0).contains(&pct) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    Some(percentile_sorted(&sorted, pct))
}

/// The median of `values` ([`percentile`] 50: the mean of the two middle values of an even
/// count); `None` when `values` is empty or holds a NaN.
pub fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 50.0)
}

/// Linear-interpolation percentile of sorted, non-empty data.
pub(crate) fn percentile_sorted(sorted: &[f64], pct: f64) -> f64 {
    let pos = pct / 100.0 * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    let f = pos - i as f64;
    sorted[i] + (sorted[j] - sorted[i]) * f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_percentile_follow_numpy_linear() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(percentile(&[0.0, 10.0], 25.0), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
        assert_eq!(percentile(&[1.0], 101.0), None);
    }
}
