//! Summary statistics of distance samples.

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
    let mean = values.par_iter().sum::<f64>() / n;
    let var = values
        .par_iter()
        .map(|v| (v - mean) * (v - mean))
        .sum::<f64>()
        / n;
    let ms = values.par_iter().map(|v| v * v).sum::<f64>() / n;
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

/// Linear-interpolation percentile of sorted, non-empty data.
pub(crate) fn percentile_sorted(sorted: &[f64], pct: f64) -> f64 {
    let pos = pct / 100.0 * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let j = (i + 1).min(sorted.len() - 1);
    let f = pos - i as f64;
    sorted[i] + (sorted[j] - sorted[i]) * f
}
