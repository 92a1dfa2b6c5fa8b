//! One-screen summaries of a run for the terminal: the figures a user acts on. The full tables
//! are in [`crate::tables`].

use aquamvs_results::BenchmarkResults;

/// The figures a user acts on, one screen: accuracy and time of each measured reconstruction,
/// the simulated rows in one line each, the sweep's throughput. `--verbose` prints the tables.
pub fn bench(r: &BenchmarkResults) -> String {
    let mut out = String::new();
    out.push_str("summary (full tables: --verbose, the results file, docs/benchmarks.rst)\n");
    out.push_str("  measured (median error, F-score at 5 mm, points, runtime):\n");
    for m in &r.measured {
        let f5 = m
            .accuracy
            .at_tolerance(5.0)
            .map_or_else(|| "-".into(), |t| format!("{:.1} %", t.fscore_pct));
        out += &format!(
            "    {:<10} {:<28} {:>9.3} mm  F@5mm {:>7}  {:>8} pts  {:>6.1} s\n",
            m.scene,
            m.method.to_string(),
            m.accuracy.median_error_mm,
            f5,
            m.n_points,
            m.runtime_s
        );
    }
    out.push_str("  simulated inputs (not measured):\n");
    for s in &r.simulated {
        out += &format!(
            "    {:<10} {:<28} {:>9.3} mm median error\n",
            s.scene, s.name, s.accuracy.median_error_mm
        );
    }
    out.push_str("  sweep throughput:\n");
    for t in &r.sweep_throughput {
        out += &format!(
            "    {:<10} {:<22} batch {:>2}  {:>7.1} M samples/s  ({:.0} ms)\n",
            t.workload,
            t.backend,
            t.batch,
            t.samples_per_s / 1e6,
            t.median_ms
        );
    }
    // One short line per board run (every metric: `board`, the results file, the docs).
    for b in &r.board {
        out += &format!(
            "  board {} ({} poses): flatness {:.3}, cross-camera {}, absolute {:.3} mm, dropout {:.1} %\n",
            b.method,
            b.poses,
            b.metrics.flatness_rms_mm,
            b.metrics
                .cross_camera_rms_mm
                .map_or("n/a".to_owned(), |v| format!("{v:.3}")),
            b.metrics.absolute_rms_mm,
            b.dropout_pct
        );
    }
    out
}

/// One board validation in one line: every metric, the detector's error, the dropouts, the
/// time.
pub fn board(r: &aquamvs_results::BoardReport) -> String {
    let m = &r.metrics;
    let opt = |v: Option<f64>, d: usize| v.map_or("n/a".to_owned(), |v| format!("{v:.d$}"));
    format!(
        "board ({}, {} poses, {} cameras, {}x{}): flatness {:.3} mm, cross-camera {} mm, \
         range {:.3} / lateral {:.3} mm (ratio {}), scale {:+.4} %, square {:.3} mm, board-size \
         CV {}, absolute {:.3} mm; detector {:.3} px median / {:.3} px max; dropout {} of {} \
         ({:.2} %); {:.1} s",
        r.method,
        r.poses,
        r.cameras,
        r.width,
        r.height,
        m.flatness_rms_mm,
        opt(m.cross_camera_rms_mm, 3),
        m.range_rms_mm,
        m.lateral_rms_mm,
        opt(m.range_lateral_ratio, 2),
        m.scale_error_pct,
        m.square_size_mm,
        opt(m.board_size_cv, 5),
        m.absolute_rms_mm,
        r.detector.median_px,
        r.detector.max_px,
        r.dropouts,
        r.detector.detected,
        r.dropout_pct,
        r.timings.total_s
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bench_summary_names_every_row_and_fits_a_screen() {
        let text = include_str!("../../../.benchmarks/benchmark_results.json");
        let r = aquamvs_results::BenchmarkResults::from_json(text).unwrap();
        let s = super::bench(&r);
        assert!(s.lines().count() <= 24, "{s}");
        assert!(s.lines().all(|l| l.chars().count() <= 100), "{s}");
        for m in &r.measured {
            assert!(s.contains(&m.scene));
        }
        assert!(s.contains("simulated"));
    }
}
