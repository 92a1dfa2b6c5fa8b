//! Chrome trace output (the JSON object format: `{"traceEvents": [...]}`), which Perfetto
//! (ui.perfetto.dev) and chrome://tracing open.

use serde_json::{Value, json};

use crate::report::ProfileReport;

/// Process id of every event.
pub const TRACE_PID: u32 = 1;
/// Thread id of the CPU track (scope wall times).
pub const TRACE_TID_CPU: u32 = 1;
/// Thread id of the GPU track (time between each scope's begin and end timestamps).
pub const TRACE_TID_GPU: u32 = 2;
/// Thread id of the GPU pass track (the caller's timestamped passes).
pub const TRACE_TID_GPU_PASSES: u32 = 3;

impl ProfileReport {
    /// The report as a Chrome trace: `"M"` metadata events naming the process and the tracks,
    /// then one `"X"` (complete) event per scope call on the CPU track, one per call with GPU
    /// timestamps on the GPU track, and one per timestamped pass on the pass track.
    ///
    /// **`ts` and `dur` are microseconds since the profiler was created**; GPU events are moved
    /// onto the CPU clock by the calibration offset (so they line up within
    /// `calibration_uncertainty_us`), while their `dur` comes from the ticks. Events are sorted
    /// by start, longer first on ties, so nested scopes nest in the viewers. The crate writes no
    /// file: serialise the value and write it where you like.
    pub fn chrome_trace(&self) -> Value {
        let meta = |name: &str, tid: u32, args: Value| json!({"name": name, "ph": "M", "pid": TRACE_PID, "tid": tid, "args": args});
        let mut events = vec![
            meta("process_name", 0, json!({"name": "aquamvs"})),
            meta(
                "thread_name",
                TRACE_TID_CPU,
                json!({"name": "CPU (scope wall time)"}),
            ),
            meta("thread_sort_index", TRACE_TID_CPU, json!({"sort_index": 1})),
        ];
        let has_gpu = self.events.iter().any(|e| e.gpu_start_us.is_some());
        if has_gpu {
            events.push(meta(
                "thread_name",
                TRACE_TID_GPU,
                json!({"name": "GPU (timestamps)"}),
            ));
            events.push(meta(
                "thread_sort_index",
                TRACE_TID_GPU,
                json!({"sort_index": 2}),
            ));
        }
        let has_passes = self.passes.iter().any(|p| p.gpu_start_us.is_some());
        if has_passes {
            events.push(meta(
                "thread_name",
                TRACE_TID_GPU_PASSES,
                json!({"name": "GPU passes"}),
            ));
            events.push(meta(
                "thread_sort_index",
                TRACE_TID_GPU_PASSES,
                json!({"sort_index": 3}),
            ));
        }

        // (ts, dur, event) for sorting.
        let mut timed: Vec<(f64, f64, Value)> = Vec::new();
        for (i, e) in self.events.iter().enumerate() {
            let dur = (e.cpu_end_us - e.cpu_start_us).max(0.0);
            let mut args = json!({
                "status": e.status,
                "tracked_memory_mb": e.alloc_bytes as f64 / crate::memory::BYTES_PER_MB,
                "call": i,
            });
            if let (Some(b), Some(p)) = (e.gpu_memory_begin_bytes, e.gpu_memory_peak_bytes) {
                args["gpu_memory_growth_mb"] =
                    json!(p.saturating_sub(b) as f64 / crate::memory::BYTES_PER_MB);
            }
            timed.push((
                e.cpu_start_us,
                dur,
                json!({
                    "name": e.name, "cat": "cpu", "ph": "X",
                    "ts": e.cpu_start_us, "dur": dur,
                    "pid": TRACE_PID, "tid": TRACE_TID_CPU, "args": args,
                }),
            ));
            if let (Some(ts), Some(ms)) = (e.gpu_start_us, e.gpu_time_ms) {
                let dur = ms * 1000.0;
                timed.push((
                    ts,
                    dur,
                    json!({
                        "name": e.name, "cat": "gpu", "ph": "X",
                        "ts": ts, "dur": dur,
                        "pid": TRACE_PID, "tid": TRACE_TID_GPU,
                        "args": {"status": e.status, "call": i},
                    }),
                ));
            }
        }
        for p in &self.passes {
            if let (Some(ts), Some(ms)) = (p.gpu_start_us, p.gpu_time_ms) {
                let dur = ms * 1000.0;
                let scope = p
                    .scope
                    .and_then(|s| self.events.get(s))
                    .map(|e| e.name.clone());
                timed.push((
                    ts,
                    dur,
                    json!({
                        "name": p.name, "cat": "gpu_pass", "ph": "X",
                        "ts": ts, "dur": dur,
                        "pid": TRACE_PID, "tid": TRACE_TID_GPU_PASSES,
                        "args": {"scope": scope},
                    }),
                ));
            }
        }
        timed.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        events.extend(timed.into_iter().map(|t| t.2));
        json!({
            "traceEvents": events,
            "displayTimeUnit": "ms",
            "otherData": {
                "timing_source": self.timing_source.as_str(),
                "adapter": self.adapter,
                "backend": self.backend,
                "calibration_uncertainty_us": self.calibration_uncertainty_us,
            },
        })
    }
}
