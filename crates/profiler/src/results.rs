//! The profile in the results format (`aquamvs_results`): the stage rows, bottlenecks and
//! timing source of `.benchmarks/profile_report.json`, copied from a [`ProfileReport`].

use aquamvs_results::{OrderedMap, StageTiming};

use crate::report::{ProfileReport, TimingSource};

impl From<TimingSource> for aquamvs_results::TimingSource {
    fn from(source: TimingSource) -> Self {
        match source {
            TimingSource::GpuTimestamps => Self::GpuTimestamps,
            TimingSource::CpuOnly => Self::CpuOnly,
        }
    }
}

impl ProfileReport {
    /// The results format's rows for `stages`, in that order. A stage the profiler never saw
    /// gets zero times, no GPU or self time, and the status **`not run (X failed)`**, X being
    /// the first earlier stage whose status is not `ok` (`an earlier stage` if none is).
    pub fn stage_timings(&self, stages: &[&str]) -> OrderedMap<StageTiming> {
        let mut rows = Vec::with_capacity(stages.len());
        let mut failed_at = None;
        for &name in stages {
            let row = match self.stage(name) {
                Some(s) => {
                    if !s.status.starts_with("ok") && failed_at.is_none() {
                        failed_at = Some(name);
                    }
                    StageTiming {
                        cpu_time_ms: s.cpu_time_ms,
                        gpu_time_ms: s.gpu_time_ms,
                        total_time_ms: s.total_time_ms,
                        self_time_ms: Some(s.self_time_ms),
                        memory_mb: s.memory_mb,
                        status: s.status.clone(),
                    }
                }
                None => StageTiming {
                    cpu_time_ms: 0.0,
                    gpu_time_ms: None,
                    total_time_ms: 0.0,
                    self_time_ms: None,
                    memory_mb: 0.0,
                    status: format!(
                        "not run ({} failed)",
                        failed_at.unwrap_or("an earlier stage")
                    ),
                },
            };
            rows.push((name.to_owned(), row));
        }
        OrderedMap(rows)
    }

    /// The results format's top `n` bottlenecks: [`Self::top_bottlenecks`] (top-level stages
    /// by total time, longest first), copied.
    pub fn bottlenecks(&self, n: usize) -> Vec<aquamvs_results::Bottleneck> {
        self.top_bottlenecks(n)
            .into_iter()
            .map(|b| aquamvs_results::Bottleneck {
                name: b.name,
                time_ms: b.time_ms,
                memory_mb: b.memory_mb,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::Profiler;

    #[test]
    fn stage_rows_in_the_order_asked_with_not_run_after_a_failure() {
        let mut prof = Profiler::cpu_only();
        let _ = prof.scope_cpu("undistortion", |_| Ok::<_, String>(()));
        let _ = prof.scope_cpu("sparse_matching", |_| Err::<(), _>("no matches"));
        let report = prof.finish();
        let rows = report.stage_timings(&["sparse_matching", "undistortion", "fusion"]);
        let names: Vec<&str> = rows.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["sparse_matching", "undistortion", "fusion"]);
        let ok = rows.get("undistortion").unwrap();
        let stats = report.stage("undistortion").unwrap();
        assert_eq!(
            (
                ok.cpu_time_ms,
                ok.total_time_ms,
                ok.self_time_ms,
                ok.gpu_time_ms
            ),
            (
                stats.cpu_time_ms,
                stats.total_time_ms,
                Some(stats.self_time_ms),
                None
            )
        );
        assert!(ok.is_ok());
        assert_eq!(
            rows.get("sparse_matching").unwrap().status,
            "error: no matches"
        );
        let not_run = rows.get("fusion").unwrap();
        assert_eq!(not_run.status, "not run (sparse_matching failed)");
        assert_eq!((not_run.total_time_ms, not_run.self_time_ms), (0.0, None));
        // Nothing failed before it: said so, not invented.
        let rows = report.stage_timings(&["surface_reconstruction"]);
        assert_eq!(
            rows.get("surface_reconstruction").unwrap().status,
            "not run (an earlier stage failed)"
        );
        assert_eq!(
            aquamvs_results::TimingSource::from(report.timing_source),
            aquamvs_results::TimingSource::CpuOnly
        );
    }

    #[test]
    fn bottlenecks_are_the_profilers_top_stages() {
        let mut prof = Profiler::cpu_only();
        for name in ["a", "b", "c"] {
            let _ = prof.scope_cpu(name, |_| Ok::<_, String>(()));
        }
        let report = prof.finish();
        let ours = report.bottlenecks(2);
        let theirs = report.top_bottlenecks(2);
        assert_eq!(ours.len(), 2);
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!(
                (&o.name, o.time_ms, o.memory_mb),
                (&t.name, t.time_ms, t.memory_mb)
            );
        }
    }
}
