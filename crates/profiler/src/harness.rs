//! The workspace's one timing harness: several variants of the same work timed side by side,
//! rounds interleaved, after one warm-up run each. Used by `cargo xtask bench` (sweep
//! throughput), `cargo xtask profile` (depth batching, profiler overhead) and the sweep's
//! `cargo bench`.
//!
//! **Speed is compared side by side in one run**: the machine may be shared and noisy, so each
//! round runs every variant once (the order rotating from round to round) and the summaries
//! are medians ([`aquamvs_metrics::median`]).

use std::time::Instant;

/// Wall times of each variant, seconds, and the outputs of the warm-up runs.
#[derive(Debug, Clone)]
pub struct Interleaved<T> {
    /// `seconds[variant][round]`.
    pub seconds: Vec<Vec<f64>>,
    /// The output of each variant's warm-up run (for checking that variants agree).
    pub warmup: Vec<T>,
}

/// Median, minimum and maximum of one variant's times, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSummary {
    /// Median ([`aquamvs_metrics::median`]).
    pub median: f64,
    /// Fastest run.
    pub min: f64,
    /// Slowest run.
    pub max: f64,
    /// Runs.
    pub runs: usize,
}

impl<T> Interleaved<T> {
    /// The summary of `variant`'s times.
    pub fn summary(&self, variant: usize) -> TimeSummary {
        summarize(&self.seconds[variant])
    }

    /// Median over rounds of the ratio `seconds[a] / seconds[b]` of the same round (how much
    /// slower `a` is than `b`, immune to drifts between rounds).
    pub fn median_ratio(&self, a: usize, b: usize) -> f64 {
        let ratios: Vec<f64> = self.seconds[a]
            .iter()
            .zip(&self.seconds[b])
            .map(|(x, y)| x / y)
            .collect();
        aquamvs_metrics::median(&ratios).unwrap_or(f64::NAN)
    }
}

/// Summary of a non-empty list of times (NaN fields when it is empty).
pub fn summarize(seconds: &[f64]) -> TimeSummary {
    TimeSummary {
        median: aquamvs_metrics::median(seconds).unwrap_or(f64::NAN),
        min: seconds.iter().copied().fold(f64::INFINITY, f64::min),
        max: seconds.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        runs: seconds.len(),
    }
}

/// Runs `run(v)` once for every variant `v < variants` (warm-up: pipeline caches, first-use
/// allocations; its output is kept), then `rounds` rounds, round `r` running variant
/// `(r + j) % variants` at its step `j`, each call timed by the wall clock. `on_round` sees
/// each round's times (seconds, by variant). Stops at the first error.
pub fn interleaved<T, E>(
    variants: usize,
    rounds: u32,
    mut run: impl FnMut(usize) -> Result<T, E>,
    mut on_round: impl FnMut(usize, &[f64]),
) -> Result<Interleaved<T>, E> {
    let warmup = (0..variants).map(&mut run).collect::<Result<Vec<_>, _>>()?;
    let mut seconds = vec![Vec::with_capacity(rounds as usize); variants];
    for round in 0..rounds as usize {
        let mut this = vec![0.0; variants];
        for j in 0..variants {
            let v = (round + j) % variants;
            let t = Instant::now();
            run(v)?;
            this[v] = t.elapsed().as_secs_f64();
        }
        on_round(round, &this);
        for (s, t) in seconds.iter_mut().zip(this) {
            s.push(t);
        }
    }
    Ok(Interleaved { seconds, warmup })
}

/// Progress of a fixed number of similar steps, with an estimate of the time left (the mean
/// time per step so far times the steps left).
#[derive(Debug)]
pub struct Eta {
    start: Instant,
    total: usize,
    done: usize,
}

impl Eta {
    /// `total` steps, the clock starting now.
    pub fn new(total: usize) -> Self {
        Self {
            start: Instant::now(),
            total,
            done: 0,
        }
    }

    /// Counts one step done: `2/4 reconstructions done, about 50 s left`.
    pub fn step(&mut self, what: &str) -> String {
        self.done += 1;
        let per = self.start.elapsed().as_secs_f64() / self.done as f64;
        let left = per * (self.total.saturating_sub(self.done)) as f64;
        format!(
            "{}/{} {what} done, about {left:.0} s left",
            self.done, self.total
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_runs_once_per_round_in_rotating_order() {
        let mut calls = Vec::new();
        let mut rounds_seen = 0;
        let r = interleaved(
            3,
            2,
            |v| {
                calls.push(v);
                Ok::<_, ()>(v * 10)
            },
            |_, t| {
                rounds_seen += 1;
                assert_eq!(t.len(), 3);
            },
        )
        .unwrap();
        assert_eq!(calls, [0, 1, 2, 0, 1, 2, 1, 2, 0]);
        assert_eq!(r.warmup, [0, 10, 20]);
        assert_eq!(rounds_seen, 2);
        assert!(r.seconds.iter().all(|s| s.len() == 2));
        let s = r.summary(1);
        assert_eq!(s.runs, 2);
        assert!(s.min <= s.median && s.median <= s.max);
    }

    #[test]
    fn eta_counts_steps() {
        let mut eta = Eta::new(2);
        assert!(eta.step("runs").starts_with("1/2 runs done, about "));
        assert_eq!(eta.step("runs"), "2/2 runs done, about 0 s left");
    }

    #[test]
    fn an_error_stops_the_run() {
        let mut n = 0;
        let r = interleaved(
            2,
            5,
            |_| {
                n += 1;
                if n == 3 { Err("boom") } else { Ok(()) }
            },
            |_, _| {},
        );
        assert_eq!(r.unwrap_err(), "boom");
        assert_eq!(n, 3);
    }
}
