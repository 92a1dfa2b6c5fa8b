//! Winner-take-all depth selection, parabola refinement and confidence — the CPU versions of the
//! functions that `cost.wgsl` runs on the GPU.
//!
//! The selection runs over the hypotheses **in depth order** with a small running state
//! ([`WtaState`]), so the cost volume never has to be stored: the best cost and its index
//! (first index on ties), the costs just before and after it, and the running sum for the mean.

use crate::{SweepError, SweepSettings, check_range};

/// Parabola vertex offset, in hypothesis steps, from the costs at the winner `c0` and its two
/// neighbours: `0.5(c₋ − c₊)/(c₋ − 2c₀ + c₊ + 1e-8)`, clamped to ±0.5.
pub fn refine_offset(c_minus: f64, c0: f64, c_plus: f64) -> f64 {
    let offset = 0.5 * (c_minus - c_plus) / (c_minus - 2.0 * c0 + c_plus + 1e-8);
    offset.clamp(-0.5, 0.5)
}

/// Confidence from the winning cost `c0` and the pixel's mean cost over all hypotheses:
/// `sqrt((1 − clamp(c0, 0, 1)) · clamp(1 − c0/(mean + 1e-8), 0, 1))`.
pub fn confidence(c0: f64, mean_cost: f64) -> f64 {
    let a = 1.0 - c0.clamp(0.0, 1.0);
    let b = (1.0 - c0 / (mean_cost + 1e-8)).clamp(0.0, 1.0);
    (a * b).sqrt()
}

/// `1 − NCC` of a window from its masked moments (sums over valid samples), clamped to [0, 2];
/// 1 where fewer than half of the `window²` samples are valid.
///
/// `sums = [Σm, Σm·r, Σm·r², Σm·s, Σm·s², Σm·r·s]`.
pub fn ncc_cost(sums: [f64; 6], window: u32) -> f64 {
    let [n, sr, srr, ss, sss, srs] = sums;
    if 2.0 * n < (window * window) as f64 {
        return 1.0;
    }
    let inv = 1.0 / n;
    let mr = sr * inv;
    let ms = ss * inv;
    let vr = (srr * inv - mr * mr).max(0.0);
    let vs = (sss * inv - ms * ms).max(0.0);
    let cov = srs * inv - mr * ms;
    let ncc = cov / (vr * vs + crate::NCC_EPS).sqrt();
    (1.0 - ncc).clamp(0.0, 2.0)
}

/// The running winner-take-all state of one pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WtaState {
    /// Lowest cost so far.
    pub best: f64,
    /// Its hypothesis index (`None` before the first update).
    pub index: Option<u32>,
    /// Cost of the hypothesis before the best one.
    pub c_minus: f64,
    /// Cost of the hypothesis after the best one (once seen).
    pub c_plus: f64,
    /// Sum of all costs seen.
    pub sum: f64,
    /// The last cost seen.
    pub prev: f64,
}

impl Default for WtaState {
    fn default() -> Self {
        Self {
            best: f64::INFINITY,
            index: None,
            c_minus: 0.0,
            c_plus: 0.0,
            sum: 0.0,
            prev: 0.0,
        }
    }
}

impl WtaState {
    /// Takes the cost of hypothesis `k`; hypotheses must come in order 0, 1, 2, …
    pub fn update(&mut self, k: u32, cost: f64) {
        self.sum += cost;
        if cost < self.best {
            self.best = cost;
            self.index = Some(k);
            self.c_minus = self.prev;
        } else if self.index.is_some_and(|i| k == i + 1) {
            self.c_plus = cost;
        }
        self.prev = cost;
    }

    /// Refined depth (NaN when the winner is the first or last hypothesis) and confidence (0
    /// then), given the hypotheses `depth_of(k) = lo + k·step`.
    pub fn finish(&self, depths: u32, lo: f64, step: f64) -> (f64, f64) {
        match self.index {
            Some(i) if i > 0 && i + 1 < depths => {
                let offset = refine_offset(self.c_minus, self.best, self.c_plus);
                let depth = lo + (i as f64 + offset) * step;
                let mean = self.sum / depths as f64;
                (depth, confidence(self.best, mean))
            }
            _ => (f64::NAN, 0.0),
        }
    }
}

/// The running winner-take-all of a tile's output pixels, as [`WtaState`] in structure-of-arrays
/// form so that the update vectorises: the costs are kept as summed over the sources (`f32`,
/// the same order as their means), the sum of the means in `f64` as `WtaState` does, and
/// [`Wta::state`] gives the `WtaState` the `f64` updates would have reached.
pub(crate) struct Wta {
    best: Vec<f32>,
    /// `u32::MAX` before the first update.
    index: Vec<u32>,
    c_minus: Vec<f32>,
    c_plus: Vec<f32>,
    prev: Vec<f32>,
    sum: Vec<f64>,
}

impl Wta {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            best: vec![f32::INFINITY; n],
            index: vec![u32::MAX; n],
            c_minus: vec![0.0; n],
            c_plus: vec![0.0; n],
            prev: vec![0.0; n],
            sum: vec![0.0; n],
        }
    }

    /// Takes hypothesis `k`'s summed costs (`k` = 0, 1, 2, …); `scale` makes them means.
    #[allow(clippy::needless_range_loop)]
    pub(crate) fn update(&mut self, k: u32, costs: &[f32], scale: f64) {
        let n = costs.len();
        let (best, index, sum) = (
            &mut self.best[..n],
            &mut self.index[..n],
            &mut self.sum[..n],
        );
        let (c_minus, c_plus) = (&mut self.c_minus[..n], &mut self.c_plus[..n]);
        let prev = &mut self.prev[..n];
        for p in 0..n {
            let c = costs[p];
            sum[p] += f64::from(c) * scale;
            let better = c < best[p];
            // Hypothesis k follows the best (with none yet, index + 1 wraps to 0 = k only
            // when k = 0, where a cost that is not better is NaN and never read).
            let after = index[p].wrapping_add(1) == k;
            c_plus[p] = if !better & after { c } else { c_plus[p] };
            c_minus[p] = if better { prev[p] } else { c_minus[p] };
            index[p] = if better { k } else { index[p] };
            best[p] = if better { c } else { best[p] };
            prev[p] = c;
        }
    }

    /// Pixel `p`'s state as [`WtaState`] (costs as means: `scale` as given to `update`).
    pub(crate) fn state(&self, p: usize, scale: f64) -> WtaState {
        let mean = |c: f32| f64::from(c) * scale;
        WtaState {
            best: mean(self.best[p]),
            index: (self.index[p] != u32::MAX).then_some(self.index[p]),
            c_minus: mean(self.c_minus[p]),
            c_plus: mean(self.c_plus[p]),
            sum: self.sum[p],
            prev: mean(self.prev[p]),
        }
    }
}

/// A cost volume to select depths from: `costs[k · pixels + p]` is the cost of hypothesis `k`
/// at pixel `p`, with hypotheses uniform over `depth_range` (ray depth, both ends included).
#[derive(Debug, Clone, Copy)]
pub struct CostVolume<'a> {
    /// `depths × pixels` finite costs, **`[depth][pixel]`**.
    pub costs: &'a [f32],
    /// Pixels per hypothesis.
    pub pixels: usize,
    /// Number of hypotheses, `2..=`[`SweepSettings::MAX_DEPTHS`].
    pub depths: u32,
    /// Ray depth of the first and last hypothesis.
    pub depth_range: (f32, f32),
}

impl CostVolume<'_> {
    /// Checks sizes, depth count and range, and that every cost is finite.
    pub fn check(&self) -> Result<(), SweepError> {
        check_cost_volume(self.costs, self.pixels, self.depths, self.depth_range)
    }
}

/// Winner-take-all, refinement and confidence over a given cost volume — what `cost.wgsl` does
/// on the GPU (its `select_costs` entry point runs the same update in the crate's tests).
/// Returns (depth, confidence) per pixel.
pub fn select_from_costs_cpu(volume: &CostVolume) -> Result<(Vec<f32>, Vec<f32>), SweepError> {
    volume.check()?;
    let CostVolume {
        costs,
        pixels,
        depths,
        depth_range,
    } = *volume;
    let (lo, hi) = (depth_range.0 as f64, depth_range.1 as f64);
    let step = (hi - lo) / (depths as f64 - 1.0);
    let mut depth = vec![f32::NAN; pixels];
    let mut conf = vec![0.0; pixels];
    for p in 0..pixels {
        let mut st = WtaState::default();
        for k in 0..depths {
            st.update(k, costs[k as usize * pixels + p] as f64);
        }
        let (d, c) = st.finish(depths, lo, step);
        depth[p] = d as f32;
        conf[p] = c as f32;
    }
    Ok((depth, conf))
}

fn check_cost_volume(
    costs: &[f32],
    pixels: usize,
    depths: u32,
    depth_range: (f32, f32),
) -> Result<(), SweepError> {
    if !(2..=SweepSettings::MAX_DEPTHS).contains(&depths) {
        return Err(SweepError::Depths(depths));
    }
    check_range(depth_range)?;
    if pixels == 0 || costs.len() != pixels * depths as usize {
        return Err(SweepError::Image {
            view: "cost volume".into(),
            message: format!(
                "{} values for {depths} depths x {pixels} pixels",
                costs.len()
            ),
        });
    }
    if costs.iter().any(|c| !c.is_finite()) {
        return Err(SweepError::Image {
            view: "cost volume".into(),
            message: "holds non-finite values".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn vol(costs: &[f32], pixels: usize, depths: u32, depth_range: (f32, f32)) -> CostVolume<'_> {
        CostVolume {
            costs,
            pixels,
            depths,
            depth_range,
        }
    }

    #[test]
    fn quadratic_profile_refined_to_1e4_step() {
        for &truth in &[3.0, 3.17, 3.5 - 1e-3, 2.6, 4.42] {
            let costs: Vec<f32> = (0..8)
                .map(|k| (0.05 * (k as f64 - truth).powi(2) + 0.1) as f32)
                .collect();
            let (d, c) = select_from_costs_cpu(&vol(&costs, 1, 8, (1.0, 8.0))).unwrap();
            // lo = 1, step = 1: hypothesis k is at depth 1 + k.
            assert!(
                (d[0] as f64 - (1.0 + truth)).abs() < 1e-4,
                "{truth}: {}",
                d[0]
            );
            assert!(c[0] > 0.0 && c[0] <= 1.0);
        }
    }

    #[test]
    fn boundary_winners_are_nan() {
        let first: Vec<f32> = (0..5).map(|k| 0.1 + 0.1 * k as f32).collect();
        let last: Vec<f32> = first.iter().rev().copied().collect();
        let flat = [0.7f32; 5];
        let mut costs = Vec::new();
        for k in 0..5 {
            costs.extend([first[k], last[k], flat[k]]);
        }
        let (d, c) = select_from_costs_cpu(&vol(&costs, 3, 5, (0.1, 0.5))).unwrap();
        assert!(d.iter().all(|d| d.is_nan()), "{d:?}");
        assert_eq!(c, vec![0.0; 3]);
    }

    #[test]
    fn ties_take_the_first_index() {
        let mut st = WtaState::default();
        for (k, c) in [0.9, 0.5, 0.2, 0.2, 0.6].iter().enumerate() {
            st.update(k as u32, *c);
        }
        assert_eq!(st.index, Some(2));
        assert_eq!((st.c_minus, st.c_plus), (0.5, 0.2));
        assert_relative_eq!(st.sum, 2.4, epsilon = 1e-12);
    }

    #[test]
    fn ncc_cost_edge_cases() {
        // 9 identical samples (window 3): cost 0 up to the epsilon.
        let r = [0.1, -0.2, 0.3, 0.0, 0.25, -0.4, 0.05, 0.2, -0.1];
        let mut sums = [0.0; 6];
        for &v in &r {
            sums = [
                sums[0] + 1.0,
                sums[1] + v,
                sums[2] + v * v,
                sums[3] + v,
                sums[4] + v * v,
                sums[5] + v * v,
            ];
        }
        assert!(ncc_cost(sums, 3) < 1e-6);
        // Anti-correlated: cost 2.
        let neg = [sums[0], sums[1], sums[2], -sums[3], sums[4], -sums[5]];
        assert!((ncc_cost(neg, 3) - 2.0).abs() < 1e-6);
        // Fewer than half valid: cost 1.
        let few = [4.0, 0.1, 0.1, 0.1, 0.1, 0.1];
        assert_eq!(ncc_cost(few, 3), 1.0);
        // Constant window: no correlation, cost 1.
        assert!((ncc_cost([9.0, 0.9, 0.09, 0.0, 0.0, 0.0], 3) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn bad_cost_volumes_rejected() {
        assert!(select_from_costs_cpu(&vol(&[0.0; 5], 1, 5, (0.2, 0.1))).is_err());
        assert!(select_from_costs_cpu(&vol(&[0.0; 4], 1, 5, (0.1, 0.2))).is_err());
        assert!(select_from_costs_cpu(&vol(&[0.0; 1], 1, 1, (0.1, 0.2))).is_err());
        assert!(select_from_costs_cpu(&vol(&[f32::NAN; 2], 1, 2, (0.1, 0.2))).is_err());
    }
}
