//! Scope behaviour without a GPU: errors and panics end their scopes, nesting, memory
//! accounting, bottleneck order, and the Chrome trace.

use std::time::Duration;

use aquamvs_profiler::{Profiler, ProfilerError, ScopeStatus, TimingSource};

fn busy_sleep(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

#[test]
fn erroring_scope_is_ended_with_its_error() {
    let mut prof = Profiler::cpu_only();
    let r: Result<(), String> = prof.scope("fusion", |prof| {
        let _inner = prof.begin("left_open");
        Err("no valid depth".to_owned())
    });
    assert_eq!(r, Err("no valid depth".to_owned()));
    prof.span("after", |_| busy_sleep(1));
    let report = prof.finish();
    let fusion = report.stage("fusion").unwrap();
    assert_eq!(fusion.status, "error: no valid depth");
    assert_eq!(fusion.calls, 1);
    let inner = report.stage("left_open").unwrap();
    assert_eq!(inner.status, "error: left open inside \"fusion\"");
    assert_eq!(inner.parent.as_deref(), Some("fusion"));
    // The next scope is top-level again: the failed one was popped.
    assert_eq!(report.stage("after").unwrap().parent, None);
    assert_eq!(report.stage("after").unwrap().status, "ok");
}

#[test]
fn panicking_scope_is_ended_and_the_panic_continues() {
    let mut prof = Profiler::cpu_only();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        prof.span("surface_reconstruction", |prof| {
            prof.span("poisson", |_| -> () { panic!("solver diverged") })
        })
    }));
    assert!(caught.is_err(), "the panic must propagate");
    let report = prof.finish();
    assert_eq!(
        report.stage("poisson").unwrap().status,
        "error: panicked: solver diverged"
    );
    // The parent saw the panic pass through it too.
    assert_eq!(
        report.stage("surface_reconstruction").unwrap().status,
        "error: panicked: solver diverged"
    );
    assert!(report.events.iter().all(|e| e.cpu_end_us >= e.cpu_start_us));
}

#[test]
fn begin_end_nesting_and_self_time() {
    let mut prof = Profiler::cpu_only();
    let outer = prof.begin("depth_estimation");
    busy_sleep(5);
    for _ in 0..2 {
        let inner = prof.begin("batch");
        busy_sleep(10);
        prof.end(inner).unwrap();
    }
    prof.end_with(outer, ScopeStatus::Ok).unwrap();
    let report = prof.finish();
    assert_eq!(report.timing_source, TimingSource::CpuOnly);
    let outer = report.stage("depth_estimation").unwrap();
    let batch = report.stage("batch").unwrap();
    assert_eq!(batch.calls, 2);
    assert_eq!(batch.parent.as_deref(), Some("depth_estimation"));
    assert!(batch.cpu_time_ms >= 20.0, "{}", batch.cpu_time_ms);
    assert!(outer.cpu_time_ms >= 25.0);
    // Self time is exactly the total less the children's totals.
    assert!((outer.self_time_ms - (outer.total_time_ms - batch.total_time_ms)).abs() < 1e-9);
    assert!(outer.self_time_ms >= 5.0 && outer.self_time_ms < outer.total_time_ms);
    // cpu-only: total is the CPU time and there is no GPU time anywhere.
    assert_eq!(outer.total_time_ms, outer.cpu_time_ms);
    assert!(report.stages.iter().all(|s| s.gpu_time_ms.is_none()));
}

#[test]
fn ending_twice_or_with_a_foreign_token_is_an_error() {
    let mut a = Profiler::cpu_only();
    let mut b = Profiler::cpu_only();
    let tb = b.begin("b");
    assert!(matches!(a.end(tb), Err(ProfilerError::ForeignScope { .. })));
    let outer = a.begin("outer");
    let inner = a.begin("inner");
    a.end(outer).unwrap(); // ends inner too
    match a.end(inner) {
        Err(ProfilerError::AlreadyEnded { name, status }) => {
            assert_eq!(name, "inner");
            assert!(status.starts_with("error: left open"), "{status}");
        }
        other => panic!("expected AlreadyEnded, got {other:?}"),
    }
    let r = a.finish();
    assert_eq!(r.stage("outer").unwrap().status, "ok");
}

#[test]
fn scopes_open_at_finish_are_marked() {
    let mut prof = Profiler::cpu_only();
    let _s = prof.begin("sparse_matching");
    let report = prof.finish();
    assert_eq!(
        report.stage("sparse_matching").unwrap().status,
        "error: not ended before finish"
    );
}

#[test]
fn memory_is_counted_per_scope_and_inclusive_of_children() {
    let mut prof = Profiler::cpu_only();
    prof.track_alloc(1 << 20); // outside any scope
    prof.span("stage", |prof| {
        prof.track_alloc(2 << 20);
        prof.span("child", |prof| prof.track_alloc(3 << 20));
    });
    let report = prof.finish();
    assert_eq!(report.unscoped_memory_mb, 1.0);
    assert_eq!(report.stage("stage").unwrap().memory_mb, 5.0);
    assert_eq!(report.stage("stage").unwrap().self_memory_mb, 2.0);
    assert_eq!(report.stage("child").unwrap().memory_mb, 3.0);
    if cfg!(target_os = "linux") {
        assert!(report.peak_rss_mb.is_some_and(|m| m > 0.0));
        assert!(report.stage("child").unwrap().peak_rss_mb.is_some());
    }
}

#[test]
fn bottlenecks_follow_measured_times() {
    let mut prof = Profiler::cpu_only();
    for (name, ms) in [("a", 2), ("b", 30), ("c", 15), ("d", 1)] {
        prof.span(name, |prof| {
            prof.span("inner", |_| busy_sleep(ms));
        });
    }
    let report = prof.finish();
    let top = &report.top_bottlenecks;
    assert_eq!(top.len(), 3);
    assert!(top.windows(2).all(|w| w[0].time_ms >= w[1].time_ms));
    // Only top-level stages, and they are the three largest of them.
    let mut top_level: Vec<(f64, &str)> = report
        .stages
        .iter()
        .filter(|s| s.parent.is_none())
        .map(|s| (s.total_time_ms, s.name.as_str()))
        .collect();
    top_level.sort_by(|x, y| y.0.total_cmp(&x.0));
    let expect: Vec<&str> = top_level[..3].iter().map(|t| t.1).collect();
    let got: Vec<&str> = top.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(got, expect);
    assert_eq!(got[0], "b", "30 ms of sleep outranks 15 ms");
}

#[test]
fn chrome_trace_is_valid_json_with_cpu_events() {
    let mut prof = Profiler::cpu_only();
    prof.span("undistortion", |_| busy_sleep(2));
    prof.span("depth_estimation", |prof| {
        prof.span("batch", |_| busy_sleep(2));
    });
    let report = prof.finish();
    let text = serde_json::to_string(&report.chrome_trace()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    let meta: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "M").collect();
    assert!(meta.iter().any(|e| e["name"] == "process_name"));
    assert!(
        meta.iter()
            .any(|e| e["name"] == "thread_name" && e["tid"] == 1)
    );
    // cpu-only: no GPU track.
    assert!(!meta.iter().any(|e| e["tid"] == 2));
    let xs: Vec<&serde_json::Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(xs.len(), 3);
    for e in &xs {
        assert_eq!(e["pid"], 1);
        assert_eq!(e["tid"], 1);
        assert_eq!(e["cat"], "cpu");
        assert!(e["ts"].as_f64().unwrap() >= 0.0);
        assert!(e["dur"].as_f64().unwrap() >= 0.0);
    }
    let names: Vec<&str> = xs.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["undistortion", "depth_estimation", "batch"]);
    // The child lies inside its parent.
    let (p, c) = (xs[1], xs[2]);
    let (pt, pd) = (p["ts"].as_f64().unwrap(), p["dur"].as_f64().unwrap());
    let (ct, cd) = (c["ts"].as_f64().unwrap(), c["dur"].as_f64().unwrap());
    assert!(ct >= pt && ct + cd <= pt + pd);
    assert_eq!(v["otherData"]["timing_source"], "cpu-only");
}

/// Host memory per stage is the rise of the process's peak resident memory during the stage:
/// a stage that touches 64 MiB more than the process ever held shows (about) that much; a
/// stage that allocates nothing shows (about) nothing. Linux only (`/proc/self/status`).
#[test]
fn host_memory_is_the_peak_rss_growth_of_each_stage() {
    if aquamvs_profiler::peak_resident_bytes().is_none() {
        return;
    }
    let mut prof = Profiler::cpu_only();
    prof.span_cpu("idle", |_| std::hint::black_box(1 + 1));
    let touched = prof.span_cpu("allocate", |_| {
        let v = vec![1u8; 64 << 20];
        std::hint::black_box(v.iter().step_by(4096).map(|&b| b as u64).sum::<u64>())
    });
    assert_eq!(touched, 16384);
    let r = prof.finish();
    let grew = |name: &str| r.stage(name).unwrap().host_peak_rss_growth_mb.unwrap();
    assert!(grew("allocate") > 48.0, "{}", grew("allocate"));
    assert!(grew("idle") < 4.0, "{}", grew("idle"));
}
