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
                        host_peak_rss_growth_mb: s.host_peak_rss_growth_mb,
                        status: s.status.clone(),
                    }
                }
                None => StageTiming {
                    cpu_time_ms: 0.0,
                    gpu_time_ms: None,
                    total_time_ms: 0.0,
                    self_time_ms: None,
                    memory_mb: 0.0,
                    host_peak_rss_growth_mb: None,
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
}
