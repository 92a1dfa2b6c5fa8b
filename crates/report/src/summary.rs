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
    out
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
