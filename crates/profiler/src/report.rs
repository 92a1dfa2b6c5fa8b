//! The profile report: per-stage statistics, bottlenecks, and the raw events behind them.

use serde::{Deserialize, Serialize};

use crate::memory::BYTES_PER_MB;

/// Where the report's times come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimingSource {
    /// CPU wall time plus GPU time from timestamp queries.
    #[serde(rename = "gpu-timestamps")]
    GpuTimestamps,
    /// CPU wall time only (no device, no `TIMESTAMP_QUERY`, or timestamps disabled):
    /// every `gpu_time_ms` is `null`.
    #[serde(rename = "cpu-only")]
    CpuOnly,
}

impl TimingSource {
    /// `"gpu-timestamps"` or `"cpu-only"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GpuTimestamps => "gpu-timestamps",
            Self::CpuOnly => "cpu-only",
        }
    }
}

/// One call of a scope (the report's raw material, and the Chrome trace's).
///
/// **Times are microseconds since the profiler was created, on the CPU clock**; GPU times are
/// moved onto it through the calibration point (`calibration_uncertainty_us`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeEvent {
    /// Scope name.
    pub name: String,
    /// Index of the enclosing call in `events`, if any (always smaller than this one's).
    pub parent: Option<usize>,
    /// Nesting depth (0 for a top-level scope).
    pub depth: u32,
    /// CPU start.
    pub cpu_start_us: f64,
    /// CPU end.
    pub cpu_end_us: f64,
    /// GPU begin timestamp on the CPU clock (`null` when cpu-only).
    pub gpu_start_us: Option<f64>,
    /// GPU end timestamp on the CPU clock.
    pub gpu_end_us: Option<f64>,
    /// GPU time between the two timestamps, from the ticks themselves (exact, unlike the
    /// difference of the aligned times only by rounding).
    pub gpu_time_ms: Option<f64>,
    /// `ok` or `error: …`.
    pub status: String,
    /// Bytes allocated while this call was the innermost open scope.
    pub alloc_bytes: u64,
    /// Process peak resident memory (VmHWM) when the call began; `null` off Linux.
    #[serde(default)]
    pub peak_rss_begin_bytes: Option<u64>,
    /// Process peak resident memory (VmHWM) when the call ended; `null` off Linux.
    pub peak_rss_bytes: Option<u64>,
    /// Device allocator total when the call began (`null` unless
    /// [`crate::Profiler::sample_device_memory`] is on).
    #[serde(default)]
    pub gpu_memory_begin_bytes: Option<u64>,
    /// Largest device allocator total sampled during the call.
    #[serde(default)]
    pub gpu_memory_peak_bytes: Option<u64>,
}

impl ScopeEvent {
    /// CPU wall time of the call.
    pub fn cpu_time_ms(&self) -> f64 {
        (self.cpu_end_us - self.cpu_start_us) / 1000.0
    }
}

/// GPU time of one of the caller's passes ([`crate::Profiler::pass_timestamps`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassEvent {
    /// Pass name.
    pub name: String,
    /// Index in `events` of the scope that was open when the slots were taken.
    pub scope: Option<usize>,
    /// Begin timestamp on the CPU clock.
    pub gpu_start_us: Option<f64>,
    /// End timestamp on the CPU clock.
    pub gpu_end_us: Option<f64>,
    /// GPU time of the pass (`null` if the pass was never submitted).
    pub gpu_time_ms: Option<f64>,
}

/// Per-pass totals inside a stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassStats {
    /// Pass name.
    pub name: String,
    /// Summed GPU time of the passes that have one.
    pub gpu_time_ms: Option<f64>,
    /// Number of passes.
    pub calls: u32,
}

/// Statistics of all calls of one scope name.
///
/// **Times:** `cpu_time_ms` is CPU wall time; `gpu_time_ms` the time between the GPU
/// timestamps written at the scope's begin and end — the stage's **span on the GPU timeline**,
/// which includes moments the GPU waited for the stage's CPU work (it equals busy time only
/// when the stage keeps the queue fed; per-pass timestamps give busy time). It is `null` when
/// cpu-only and for scopes opened with `begin_cpu`/`scope_cpu`. `total_time_ms` is,
/// per call, the larger of the two (a stage that waits for its GPU work has total = CPU; one
/// that returns before its GPU work finishes has total = GPU); `self_time_ms` is, per call,
/// total minus the totals of its direct children (never negative). All are summed over calls.
/// **Memory, in MiB (2²⁰ bytes):** `tracked_memory_mb` counts the GPU bytes allocated through
/// the profiler's helpers by the stage and its children (summed over calls), `self_memory_mb`
/// by the stage alone. With device-memory sampling on
/// ([`crate::Profiler::sample_device_memory`]), `memory_mb` is, over the calls, the largest
/// peak growth of the device allocator's total during a call (it sees every allocation, the
/// helpers' included; sample-based, so a lower bound) and `gpu_memory_peak_mb` the largest
/// total; without sampling, `memory_mb` equals `tracked_memory_mb`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageStats {
    /// Scope name (the key of the `stages` object in JSON).
    #[serde(skip)]
    pub name: String,
    /// CPU wall time.
    pub cpu_time_ms: f64,
    /// GPU time; `null` when cpu-only or when no call has timestamps.
    pub gpu_time_ms: Option<f64>,
    /// Per-call max(CPU, GPU), summed.
    pub total_time_ms: f64,
    /// Total minus the children's totals.
    pub self_time_ms: f64,
    /// GPU memory of the stage (see above for its two sources).
    pub memory_mb: f64,
    /// GPU memory allocated through the helpers by the stage and its children.
    #[serde(default)]
    pub tracked_memory_mb: f64,
    /// GPU memory allocated through the helpers by the stage alone.
    pub self_memory_mb: f64,
    /// Largest device allocator total sampled during the stage; `null` without sampling.
    #[serde(default)]
    pub gpu_memory_peak_mb: Option<f64>,
    /// Number of calls.
    pub calls: u32,
    /// `ok`, or the first call's error (`error: …`), with the count when several calls ran.
    pub status: String,
    /// Name of the enclosing scope of the first call.
    pub parent: Option<String>,
    /// Nesting depth of the first call.
    pub depth: u32,
    /// Process peak resident memory (VmHWM) when the last call ended, in MiB; `null` off Linux.
    pub peak_rss_mb: Option<f64>,
    /// **Host memory**: how much the process's peak resident memory (VmHWM) rose during the
    /// stage's calls, summed, MiB — the host memory the stage needed beyond what the process
    /// had already used (0 when it fit in memory used before). `null` off Linux.
    #[serde(default)]
    pub host_peak_rss_growth_mb: Option<f64>,
    /// The caller's timestamped passes inside the stage, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passes: Vec<PassStats>,
}

/// One line of the bottleneck list (the results format's own type: name, the stage's
/// `total_time_ms`, its `memory_mb`).
pub use aquamvs_results::Bottleneck;

/// What [`crate::Profiler::finish`] returns. Serialises to the JSON the `profile` task
/// writes; `stages` is an object keyed by stage name **in the order the stages first began**.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileReport {
    /// `"gpu-timestamps"` or `"cpu-only"`.
    pub timing_source: TimingSource,
    /// Why cpu-only, or how timestamps were written.
    pub timing_note: String,
    /// Adapter name, when known.
    pub adapter: Option<String>,
    /// Backend name, when known.
    pub backend: Option<String>,
    /// Nanoseconds per GPU tick.
    pub timestamp_period_ns: Option<f64>,
    /// Half-width of the CPU interval the GPU clock was aligned in (trace placement only).
    pub calibration_uncertainty_us: Option<f64>,
    /// From the profiler's creation to `finish`.
    pub wall_time_ms: f64,
    /// Process peak resident memory (VmHWM) at `finish`, MiB; `null` off Linux.
    pub peak_rss_mb: Option<f64>,
    /// GPU memory allocated through the helpers outside any scope, MiB.
    pub unscoped_memory_mb: f64,
    /// `"device-allocator"` when `memory_mb` comes from sampling the device allocator,
    /// `"helpers"` when it counts the helpers' allocations only.
    #[serde(default)]
    pub memory_source: String,
    /// Period of the device-allocator sampling thread, ms; `null` when off.
    #[serde(default)]
    pub memory_sample_period_ms: Option<f64>,
    /// Per-stage statistics, keyed by name, in first-begin order.
    #[serde(with = "stage_map")]
    pub stages: Vec<StageStats>,
    /// The three top-level stages with the largest total time ([`Self::top_bottlenecks`]).
    pub top_bottlenecks: Vec<Bottleneck>,
    /// Problems met while reading GPU timestamps (the affected stages are cpu-only).
    pub warnings: Vec<String>,
    /// Every scope call, in begin order.
    pub events: Vec<ScopeEvent>,
    /// Every timestamped pass of the caller's.
    #[serde(default)]
    pub passes: Vec<PassEvent>,
}

pub(crate) struct ReportParts {
    pub timing_source: TimingSource,
    pub timing_note: String,
    pub adapter: Option<String>,
    pub backend: Option<String>,
    pub timestamp_period_ns: Option<f64>,
    pub calibration_uncertainty_us: Option<f64>,
    pub wall_time_ms: f64,
    pub peak_rss_bytes: Option<u64>,
    pub unscoped_alloc_bytes: u64,
    pub memory_sample_period_ms: Option<f64>,
    pub warnings: Vec<String>,
    pub events: Vec<ScopeEvent>,
    pub passes: Vec<PassEvent>,
}

impl ProfileReport {
    pub(crate) fn build(parts: ReportParts) -> Self {
        let stages = aggregate(&parts.events, &parts.passes);
        let mut report = Self {
            timing_source: parts.timing_source,
            timing_note: parts.timing_note,
            adapter: parts.adapter,
            backend: parts.backend,
            timestamp_period_ns: parts.timestamp_period_ns,
            calibration_uncertainty_us: parts.calibration_uncertainty_us,
            wall_time_ms: parts.wall_time_ms,
            peak_rss_mb: parts.peak_rss_bytes.map(|b| b as f64 / BYTES_PER_MB),
            unscoped_memory_mb: parts.unscoped_alloc_bytes as f64 / BYTES_PER_MB,
            memory_source: if parts.memory_sample_period_ms.is_some() {
                "device-allocator".into()
            } else {
                "helpers".into()
            },
            memory_sample_period_ms: parts.memory_sample_period_ms,
            stages,
            top_bottlenecks: Vec::new(),
            warnings: parts.warnings,
            events: parts.events,
            passes: parts.passes,
        };
        report.top_bottlenecks = report.top_bottlenecks(3);
        report
    }

    /// The stage called `name`.
    pub fn stage(&self, name: &str) -> Option<&StageStats> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// The `n` **top-level** stages (depth 0) with the largest `total_time_ms`, largest first
    /// (ties keep first-begin order). Top-level stages do not overlap, so their times add up
    /// to the run's; see [`Self::top_self_time`] for a ranking across all depths.
    pub fn top_bottlenecks(&self, n: usize) -> Vec<Bottleneck> {
        rank(self.stages.iter().filter(|s| s.depth == 0), n, |s| {
            s.total_time_ms
        })
    }

    /// The `n` stages of any depth with the largest `self_time_ms` (time not spent in a
    /// child scope), largest first; `time_ms` is the self time.
    pub fn top_self_time(&self, n: usize) -> Vec<Bottleneck> {
        rank(self.stages.iter(), n, |s| s.self_time_ms)
    }
}

fn rank<'a>(
    stages: impl Iterator<Item = &'a StageStats>,
    n: usize,
    key: impl Fn(&StageStats) -> f64,
) -> Vec<Bottleneck> {
    let mut v: Vec<Bottleneck> = stages
        .map(|s| Bottleneck {
            name: s.name.clone(),
            time_ms: key(s),
            memory_mb: s.memory_mb,
        })
        .collect();
    v.sort_by(|a, b| b.time_ms.total_cmp(&a.time_ms));
    v.truncate(n);
    v
}

/// Per-call totals, then per-name sums in first-begin order.
fn aggregate(events: &[ScopeEvent], passes: &[PassEvent]) -> Vec<StageStats> {
    let n = events.len();
    let total: Vec<f64> = events
        .iter()
        .map(|e| e.cpu_time_ms().max(e.gpu_time_ms.unwrap_or(0.0)))
        .collect();
    let mut children_total = vec![0.0; n];
    let mut inclusive_bytes: Vec<u64> = events.iter().map(|e| e.alloc_bytes).collect();
    // Children always come after their parent: walk backwards to accumulate.
    for i in (0..n).rev() {
        if let Some(p) = events[i].parent.filter(|&p| p < i) {
            children_total[p] += total[i];
            inclusive_bytes[p] += inclusive_bytes[i];
        }
    }
    let mut stages: Vec<StageStats> = Vec::new();
    let mut errors: Vec<u32> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let k = match stages.iter().position(|s| s.name == e.name) {
            Some(k) => k,
            None => {
                stages.push(StageStats {
                    name: e.name.clone(),
                    cpu_time_ms: 0.0,
                    gpu_time_ms: None,
                    total_time_ms: 0.0,
                    self_time_ms: 0.0,
                    memory_mb: 0.0,
                    tracked_memory_mb: 0.0,
                    self_memory_mb: 0.0,
                    gpu_memory_peak_mb: None,
                    calls: 0,
                    status: "ok".into(),
                    parent: e.parent.and_then(|p| events.get(p)).map(|p| p.name.clone()),
                    depth: e.depth,
                    peak_rss_mb: None,
                    host_peak_rss_growth_mb: None,
                    passes: Vec::new(),
                });
                errors.push(0);
                stages.len() - 1
            }
        };
        let s = &mut stages[k];
        s.cpu_time_ms += e.cpu_time_ms();
        if let Some(g) = e.gpu_time_ms {
            *s.gpu_time_ms.get_or_insert(0.0) += g;
        }
        s.total_time_ms += total[i];
        s.self_time_ms += (total[i] - children_total[i]).max(0.0);
        let tracked = inclusive_bytes[i] as f64 / BYTES_PER_MB;
        s.tracked_memory_mb += tracked;
        s.self_memory_mb += e.alloc_bytes as f64 / BYTES_PER_MB;
        match (e.gpu_memory_begin_bytes, e.gpu_memory_peak_bytes) {
            (Some(b), Some(p)) => {
                let growth = p.saturating_sub(b) as f64 / BYTES_PER_MB;
                s.memory_mb = s.memory_mb.max(growth.max(tracked));
                let peak = p as f64 / BYTES_PER_MB;
                s.gpu_memory_peak_mb = Some(s.gpu_memory_peak_mb.map_or(peak, |q| q.max(peak)));
            }
            _ => s.memory_mb += tracked,
        }
        s.calls += 1;
        if e.status != "ok" {
            if errors[k] == 0 {
                s.status = e.status.clone();
            }
            errors[k] += 1;
        }
        if let Some(b) = e.peak_rss_bytes {
            s.peak_rss_mb = Some(b as f64 / BYTES_PER_MB);
        }
        if let (Some(b), Some(e)) = (e.peak_rss_begin_bytes, e.peak_rss_bytes) {
            let growth = e.saturating_sub(b) as f64 / BYTES_PER_MB;
            *s.host_peak_rss_growth_mb.get_or_insert(0.0) += growth;
        }
    }
    for (s, &errs) in stages.iter_mut().zip(&errors) {
        if errs > 0 && s.calls > 1 {
            s.status = format!("{} ({errs} of {} calls failed)", s.status, s.calls);
        }
    }
    for p in passes {
        let Some(stage) = p
            .scope
            .and_then(|i| events.get(i))
            .and_then(|e| stages.iter_mut().find(|s| s.name == e.name))
        else {
            continue;
        };
        let ps = match stage.passes.iter().position(|q| q.name == p.name) {
            Some(k) => &mut stage.passes[k],
            None => {
                stage.passes.push(PassStats {
                    name: p.name.clone(),
                    gpu_time_ms: None,
                    calls: 0,
                });
                stage.passes.last_mut().expect("just pushed")
            }
        };
        ps.calls += 1;
        if let Some(g) = p.gpu_time_ms {
            *ps.gpu_time_ms.get_or_insert(0.0) += g;
        }
    }
    stages
}

/// `stages` as a JSON object keyed by name, keeping the vector's order both ways.
mod stage_map {
    use super::StageStats;
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(stages: &[StageStats], ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(Some(stages.len()))?;
        for s in stages {
            map.serialize_entry(&s.name, s)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<StageStats>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Vec<StageStats>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of stage statistics keyed by stage name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::new();
                while let Some((name, mut s)) = map.next_entry::<String, StageStats>()? {
                    s.name = name;
                    v.push(s);
                }
                Ok(v)
            }
        }
        de.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(name: &str, parent: Option<usize>, start: f64, end: f64, gpu: Option<f64>) -> ScopeEvent {
        ScopeEvent {
            name: name.into(),
            parent,
            depth: 0,
            cpu_start_us: start * 1000.0,
            cpu_end_us: end * 1000.0,
            gpu_start_us: gpu.map(|_| start * 1000.0),
            gpu_end_us: gpu.map(|g| (start + g) * 1000.0),
            gpu_time_ms: gpu,
            status: "ok".into(),
            alloc_bytes: 0,
            peak_rss_begin_bytes: None,
            peak_rss_bytes: None,
            gpu_memory_begin_bytes: None,
            gpu_memory_peak_bytes: None,
        }
    }

    fn report(mut events: Vec<ScopeEvent>, passes: Vec<PassEvent>) -> ProfileReport {
        for i in 0..events.len() {
            events[i].depth = match events[i].parent {
                Some(p) => events[p].depth + 1,
                None => 0,
            };
        }
        ProfileReport::build(ReportParts {
            timing_source: TimingSource::GpuTimestamps,
            timing_note: String::new(),
            adapter: Some("test".into()),
            backend: None,
            timestamp_period_ns: Some(1.0),
            calibration_uncertainty_us: Some(0.0),
            wall_time_ms: 100.0,
            peak_rss_bytes: None,
            unscoped_alloc_bytes: 0,
            memory_sample_period_ms: None,
            warnings: Vec::new(),
            events,
            passes,
        })
    }

    #[test]
    fn self_time_is_total_minus_children_and_total_is_max_of_cpu_and_gpu() {
        // root: cpu 0..50 ms; a: cpu 5..15, gpu 12 ms (total 12); b: cpu 20..30, no gpu (10).
        let mut events = vec![
            ev("root", None, 0.0, 50.0, Some(49.0)),
            ev("a", Some(0), 5.0, 15.0, Some(12.0)),
            ev("b", Some(0), 20.0, 30.0, None),
            ev("a", Some(0), 31.0, 32.0, Some(0.5)),
        ];
        events[1].alloc_bytes = 3 << 20;
        events[2].alloc_bytes = 1 << 20;
        events[0].alloc_bytes = 1 << 19;
        let r = report(events, Vec::new());
        let root = r.stage("root").unwrap();
        assert_eq!(root.total_time_ms, 50.0);
        assert_eq!(root.self_time_ms, 50.0 - 12.0 - 10.0 - 1.0);
        assert_eq!(root.memory_mb, 4.5);
        assert_eq!(root.self_memory_mb, 0.5);
        let a = r.stage("a").unwrap();
        assert_eq!(a.calls, 2);
        assert_eq!(a.cpu_time_ms, 11.0);
        assert_eq!(a.gpu_time_ms, Some(12.5));
        assert_eq!(a.total_time_ms, 13.0);
        assert_eq!(a.self_time_ms, 13.0);
        assert_eq!(a.parent.as_deref(), Some("root"));
        assert_eq!(a.depth, 1);
        assert_eq!(a.memory_mb, 3.0);
        let b = r.stage("b").unwrap();
        assert_eq!(b.gpu_time_ms, None);
        assert_eq!(b.total_time_ms, 10.0);
        let names: Vec<&str> = r.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["root", "a", "b"]);
    }

    #[test]
    fn self_time_never_negative() {
        // A child whose GPU work outlives the parent's CPU span.
        let r = report(
            vec![
                ev("p", None, 0.0, 10.0, None),
                ev("c", Some(0), 1.0, 2.0, Some(30.0)),
            ],
            Vec::new(),
        );
        assert_eq!(r.stage("p").unwrap().self_time_ms, 0.0);
        assert_eq!(r.stage("c").unwrap().total_time_ms, 30.0);
    }

    #[test]
    fn bottlenecks_are_top_level_sorted_by_total() {
        let r = report(
            vec![
                ev("undistortion", None, 0.0, 5.0, Some(4.0)),
                ev("sparse_matching", None, 5.0, 20.0, None),
                ev("inner", Some(1), 6.0, 19.0, None),
                ev("depth_estimation", None, 20.0, 60.0, Some(39.0)),
                ev("fusion", None, 60.0, 70.0, None),
                ev("surface_reconstruction", None, 70.0, 71.0, None),
            ],
            Vec::new(),
        );
        let names: Vec<&str> = r.top_bottlenecks.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["depth_estimation", "sparse_matching", "fusion"]);
        assert_eq!(r.top_bottlenecks[0].time_ms, 40.0);
        assert_eq!(r.top_bottlenecks(10).len(), 5);
        let by_self: Vec<String> = r.top_self_time(2).into_iter().map(|b| b.name).collect();
        assert_eq!(by_self, ["depth_estimation", "inner"]);
    }

    #[test]
    fn sampled_memory_is_the_largest_peak_growth_over_calls() {
        let mut events = vec![
            ev("sweep", None, 0.0, 1.0, None),
            ev("sweep", None, 1.0, 2.0, None),
        ];
        events[0].gpu_memory_begin_bytes = Some(10 << 20);
        events[0].gpu_memory_peak_bytes = Some(30 << 20);
        events[1].gpu_memory_begin_bytes = Some(12 << 20);
        events[1].gpu_memory_peak_bytes = Some(22 << 20);
        events[1].alloc_bytes = 1 << 20;
        let r = report(events, Vec::new());
        let s = r.stage("sweep").unwrap();
        assert_eq!(s.memory_mb, 20.0);
        assert_eq!(s.tracked_memory_mb, 1.0);
        assert_eq!(s.gpu_memory_peak_mb, Some(30.0));
    }

    #[test]
    fn error_status_aggregates_over_calls() {
        let mut events = vec![
            ev("s", None, 0.0, 1.0, None),
            ev("s", None, 1.0, 2.0, None),
            ev("s", None, 2.0, 3.0, None),
        ];
        events[1].status = "error: boom".into();
        let r = report(events, Vec::new());
        assert_eq!(
            r.stage("s").unwrap().status,
            "error: boom (1 of 3 calls failed)"
        );
    }

    #[test]
    fn passes_are_summed_into_their_stage() {
        let pass = |name: &str, g: Option<f64>| PassEvent {
            name: name.into(),
            scope: Some(0),
            gpu_start_us: g.map(|_| 0.0),
            gpu_end_us: g.map(|g| g * 1000.0),
            gpu_time_ms: g,
        };
        let r = report(
            vec![ev("sweep", None, 0.0, 10.0, Some(9.0))],
            vec![
                pass("cost", Some(2.0)),
                pass("cost", Some(3.0)),
                pass("argmin", None),
            ],
        );
        let s = r.stage("sweep").unwrap();
        assert_eq!(s.passes.len(), 2);
        assert_eq!(s.passes[0].gpu_time_ms, Some(5.0));
        assert_eq!(s.passes[0].calls, 2);
        assert_eq!(s.passes[1].gpu_time_ms, None);
    }

    #[test]
    fn json_keeps_stage_order_and_round_trips() {
        let r = report(
            vec![
                ev("zeta", None, 0.0, 1.0, Some(0.5)),
                ev("alpha", None, 1.0, 3.0, None),
                ev("mid", None, 3.0, 4.0, None),
            ],
            Vec::new(),
        );
        let text = serde_json::to_string_pretty(&r).unwrap();
        let (z, a, m) = (
            text.find("\"zeta\": {").unwrap(),
            text.find("\"alpha\": {").unwrap(),
            text.find("\"mid\": {").unwrap(),
        );
        assert!(z < a && a < m, "stages must keep first-begin order");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["timing_source"], "gpu-timestamps");
        assert_eq!(v["stages"]["zeta"]["gpu_time_ms"], 0.5);
        assert!(v["stages"]["alpha"]["gpu_time_ms"].is_null());
        for key in [
            "cpu_time_ms",
            "total_time_ms",
            "self_time_ms",
            "memory_mb",
            "calls",
        ] {
            assert!(v["stages"]["mid"][key].is_number(), "{key}");
        }
        assert_eq!(v["top_bottlenecks"][0]["name"], "alpha");
        let back: ProfileReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, r);
    }
}
