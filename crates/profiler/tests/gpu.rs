//! GPU timestamps against wall time, both ways of writing them, per-pass timestamps, pool
//! recycling, the forced timestamp-less path, and the buffer/texture helpers.
//!
//! With `CI=true` a missing adapter fails these tests; elsewhere they print a note and pass.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aquamvs_gpu::{GpuContext, GpuOptions, wait_idle};
use aquamvs_profiler::{BusyKernel, Profiler, TimingSource};

/// The tests of this file run one at a time: on a software adapter they share the CPU cores,
/// and a concurrent test would stretch the wall time the long kernel is compared with.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn context(options: &GpuOptions) -> Option<GpuContext> {
    GpuContext::for_tests(options).expect("GPU adapter required (CI=true)")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Runs the long kernel three times in a scope each, measuring our own wall time around the
/// synchronous submit + wait, and checks the profiler's GPU and CPU times against it: the
/// median run within 20 %, and no run's GPU time above its wall time by more than 20 % (a
/// busy machine can delay the start of a run, which lengthens the wall time only).
fn check_agreement(device: &wgpu::Device, queue: &wgpu::Queue, mut prof: Profiler) {
    let kernel = BusyKernel::new(device);
    let iterations = kernel.iterations_for(device, queue, Duration::from_millis(100));
    let mut walls = Vec::new();
    for _ in 0..3 {
        let s = prof.begin("long_kernel");
        let t = Instant::now();
        kernel.submit(device, queue, iterations);
        wait_idle(device);
        walls.push(t.elapsed().as_secs_f64() * 1000.0);
        prof.end(s).unwrap();
    }
    let report = prof.finish();
    assert_eq!(report.timing_source, TimingSource::GpuTimestamps);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.events.len(), 3);
    let mut ratios = Vec::new();
    for (e, wall) in report.events.iter().zip(&walls) {
        let gpu = e.gpu_time_ms.expect("GPU time");
        let cpu = e.cpu_time_ms();
        eprintln!("wall {wall:.2} ms, scope cpu {cpu:.2} ms, gpu {gpu:.2} ms");
        assert!(*wall > 20.0, "kernel too short to compare: {wall} ms");
        assert!(
            gpu <= 1.2 * wall,
            "GPU {gpu:.2} ms exceeds wall {wall:.2} ms by > 20 %"
        );
        // The scope's CPU time is the same interval as ours, minus two Instant reads.
        assert!(
            (cpu - wall).abs() <= 0.05 * wall,
            "cpu {cpu} vs wall {wall}"
        );
        ratios.push(gpu / wall);
        // The GPU span, placed on the CPU clock, overlaps the CPU span for most of its length.
        let (gs, ge) = (e.gpu_start_us.unwrap(), e.gpu_end_us.unwrap());
        let overlap = ge.min(e.cpu_end_us) - gs.max(e.cpu_start_us);
        assert!(overlap >= 0.8 * (ge - gs), "GPU span misplaced: {e:?}");
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[1];
    assert!(
        (median - 1.0).abs() <= 0.2,
        "median GPU/wall ratio {median:.3} is off by more than 20 % ({ratios:?})"
    );
    let stage = report.stage("long_kernel").unwrap();
    assert_eq!(stage.calls, 3);
    let sum: f64 = report.events.iter().map(|e| e.gpu_time_ms.unwrap()).sum();
    assert!((stage.gpu_time_ms.unwrap() - sum).abs() < 1e-9);
    // A synchronous stage: total = max(cpu, gpu) per call.
    assert!(stage.total_time_ms >= stage.cpu_time_ms);
}

#[test]
fn gpu_time_agrees_with_wall_time_on_a_long_kernel() {
    let _serial = serial();
    let Some(ctx) = context(&GpuOptions::default()) else {
        return;
    };
    if !ctx.has_timestamps() {
        assert!(!in_ci(), "the CI adapter must have TIMESTAMP_QUERY");
        eprintln!("adapter without TIMESTAMP_QUERY: agreement test not run");
        return;
    }
    let prof = Profiler::for_context(&ctx);
    assert_eq!(
        prof.uses_encoder_timestamps(),
        ctx.device
            .features()
            .contains(wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS)
    );
    check_agreement(&ctx.device, &ctx.queue, prof);
}

/// The fallback for devices with TIMESTAMP_QUERY but not INSIDE_ENCODERS: empty compute passes.
#[test]
fn empty_pass_timestamps_agree_too() {
    let _serial = serial();
    let Some(ctx) = context(&GpuOptions::default()) else {
        return;
    };
    if !ctx.has_timestamps() {
        assert!(!in_ci(), "the CI adapter must have TIMESTAMP_QUERY");
        return;
    }
    let (device, queue) = pollster::block_on(ctx.adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("timestamps at pass boundaries only"),
        required_features: wgpu::Features::TIMESTAMP_QUERY,
        required_limits: ctx.adapter.limits(),
        ..Default::default()
    }))
    .unwrap();
    let prof = Profiler::new(Some((&device, &queue)));
    assert!(!prof.uses_encoder_timestamps());
    check_agreement(&device, &queue, prof);
}

#[test]
fn forced_cpu_only_reports_null_gpu_times() {
    let _serial = serial();
    let Some(ctx) = context(&GpuOptions {
        disable_timestamps: true,
    }) else {
        return;
    };
    assert!(!ctx.has_timestamps());
    let kernel = BusyKernel::new(&ctx.device);
    let mut prof = Profiler::for_context(&ctx);
    assert_eq!(prof.timing_source(), TimingSource::CpuOnly);
    assert!(prof.pass_timestamps("p").is_none());
    prof.span("depth_estimation", |_| {
        kernel.run(&ctx.device, &ctx.queue, 20_000)
    });
    let report = prof.finish();
    assert_eq!(report.timing_source, TimingSource::CpuOnly);
    assert!(
        report.timing_note.contains("TIMESTAMP_QUERY"),
        "{}",
        report.timing_note
    );
    let stage = report.stage("depth_estimation").unwrap();
    assert!(stage.gpu_time_ms.is_none());
    assert!(stage.cpu_time_ms > 0.0);
    assert_eq!(stage.total_time_ms, stage.cpu_time_ms);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["timing_source"], "cpu-only");
    assert!(json["stages"]["depth_estimation"]["gpu_time_ms"].is_null());
    assert!(
        json["stages"]["depth_estimation"]["cpu_time_ms"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let trace = report.chrome_trace();
    let events = trace["traceEvents"].as_array().unwrap();
    assert!(
        events.iter().all(|e| e["tid"] != 2),
        "no GPU track when cpu-only"
    );
}

#[test]
fn nested_gpu_scopes_passes_and_trace_tracks() {
    let _serial = serial();
    let Some(ctx) = context(&GpuOptions::default()) else {
        return;
    };
    if !ctx.has_timestamps() {
        assert!(!in_ci(), "the CI adapter must have TIMESTAMP_QUERY");
        return;
    }
    let (device, queue) = (&ctx.device, &ctx.queue);
    let kernel = BusyKernel::new(device);
    let iterations = kernel.iterations_for(device, queue, Duration::from_millis(15));
    let mut prof = Profiler::for_context(&ctx);
    prof.span("depth_estimation", |prof| {
        for _ in 0..2 {
            prof.span("batch", |prof| {
                let ts = prof.pass_timestamps("busy_pass").unwrap();
                kernel.submit_with_timestamps(
                    device,
                    queue,
                    iterations,
                    Some(ts.compute_pass_timestamp_writes()),
                );
                wait_idle(device);
            });
        }
    });
    let report = prof.finish();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let parent = &report.events[0];
    for child in &report.events[1..] {
        // Children's GPU spans lie inside the parent's (same clock, queue order).
        assert!(child.gpu_start_us.unwrap() >= parent.gpu_start_us.unwrap());
        assert!(child.gpu_end_us.unwrap() <= parent.gpu_end_us.unwrap());
    }
    let batch = report.stage("batch").unwrap();
    assert_eq!(batch.passes.len(), 1);
    assert_eq!(batch.passes[0].calls, 2);
    let pass_ms = batch.passes[0].gpu_time_ms.unwrap();
    let batch_gpu = batch.gpu_time_ms.unwrap();
    eprintln!("pass {pass_ms:.3} ms within batch GPU {batch_gpu:.3} ms");
    assert!(pass_ms > 0.0 && pass_ms <= batch_gpu);
    // Each pass lies inside its batch's GPU span (the span also holds any idle time while
    // the CPU was submitting, so only containment is exact).
    assert_eq!(report.passes.len(), 2);
    for p in &report.passes {
        let scope = &report.events[p.scope.unwrap()];
        assert_eq!(scope.name, "batch");
        assert!(p.gpu_start_us.unwrap() >= scope.gpu_start_us.unwrap() - 1e-3);
        assert!(p.gpu_end_us.unwrap() <= scope.gpu_end_us.unwrap() + 1e-3);
    }

    let trace = report.chrome_trace();
    let text = serde_json::to_string(&trace).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let events = v["traceEvents"].as_array().unwrap();
    let on = |tid: u64| {
        events
            .iter()
            .filter(|e| e["ph"] == "X" && e["tid"] == tid)
            .count()
    };
    assert_eq!(on(1), 3, "CPU track");
    assert_eq!(on(2), 3, "GPU track");
    assert_eq!(on(3), 2, "GPU pass track");
    for tid in [1, 2, 3] {
        assert!(
            events
                .iter()
                .any(|e| e["ph"] == "M" && e["name"] == "thread_name" && e["tid"] == tid),
            "track {tid} is named"
        );
    }
}

#[test]
fn query_pool_is_recycled_beyond_one_chunk() {
    let _serial = serial();
    let Some(ctx) = context(&GpuOptions::default()) else {
        return;
    };
    if !ctx.has_timestamps() {
        assert!(!in_ci(), "the CI adapter must have TIMESTAMP_QUERY");
        return;
    }
    let kernel = BusyKernel::new(&ctx.device);
    let mut prof = Profiler::for_context(&ctx);
    // 700 scopes = 1400 timestamps: more than five chunks of 256.
    for i in 0..700 {
        prof.span("tiny", |_| {
            kernel.submit(&ctx.device, &ctx.queue, 1);
            if i % 100 == 0 {
                wait_idle(&ctx.device);
            }
        });
    }
    let report = prof.finish();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.events.len(), 700);
    assert!(report.events.iter().all(|e| e.gpu_time_ms.is_some()));
    assert_eq!(report.stage("tiny").unwrap().calls, 700);
}

#[test]
fn helpers_count_buffer_and_texture_bytes() {
    let _serial = serial();
    let Some(ctx) = context(&GpuOptions::default()) else {
        return;
    };
    let mut prof = Profiler::for_context(&ctx);
    let (buffer, texture) = prof.span("undistortion", |prof| {
        let buffer = prof.create_buffer(
            &ctx.device,
            &wgpu::BufferDescriptor {
                label: Some("maps"),
                size: 3 << 20,
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            },
        );
        let texture = prof.span("images", |prof| {
            prof.create_texture(
                &ctx.device,
                &wgpu::TextureDescriptor {
                    label: Some("image"),
                    size: wgpu::Extent3d {
                        width: 1024,
                        height: 512,
                        depth_or_array_layers: 2,
                    },
                    mip_level_count: 1,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format: wgpu::TextureFormat::R32Float,
                    usage: wgpu::TextureUsages::TEXTURE_BINDING,
                    view_formats: &[],
                },
            )
        });
        (buffer, texture)
    });
    assert_eq!(buffer.size(), 3 << 20);
    assert_eq!(texture.width(), 1024);
    let report = prof.finish();
    assert_eq!(report.stage("images").unwrap().memory_mb, 4.0);
    assert_eq!(report.stage("undistortion").unwrap().self_memory_mb, 3.0);
    assert_eq!(report.stage("undistortion").unwrap().memory_mb, 7.0);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["stages"]["undistortion"]["memory_mb"], 7.0);
}

#[test]
fn device_memory_sampling_sees_allocations_the_stage_makes_itself() {
    let _serial = serial();
    let Some(ctx) = context(&GpuOptions::default()) else {
        return;
    };
    let mut prof = Profiler::for_context(&ctx);
    if !prof.sample_device_memory(Duration::from_millis(2)) {
        assert!(!in_ci(), "lavapipe/Vulkan gives allocator reports");
        eprintln!("backend without allocator reports: test not run");
        return;
    }
    let make = |mib: u64| {
        ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("stage-owned"),
            size: mib << 20,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        })
    };
    prof.span("fusion", |prof| {
        let a = make(48);
        prof.span("inner", |_| {
            let b = make(16);
            std::thread::sleep(Duration::from_millis(5));
            drop(b);
        });
        drop(a);
    });
    prof.span("idle", |_| std::thread::sleep(Duration::from_millis(5)));
    let report = prof.finish();
    assert_eq!(report.memory_source, "device-allocator");
    let fusion = report.stage("fusion").unwrap();
    let inner = report.stage("inner").unwrap();
    eprintln!(
        "fusion {} MiB, inner {} MiB",
        fusion.memory_mb, inner.memory_mb
    );
    // Allocator blocks can round sizes up; never down.
    assert!(fusion.memory_mb >= 64.0, "{}", fusion.memory_mb);
    assert!(
        inner.memory_mb >= 16.0 && inner.memory_mb < 48.0,
        "{}",
        inner.memory_mb
    );
    assert_eq!(fusion.tracked_memory_mb, 0.0);
    assert!(fusion.gpu_memory_peak_mb.unwrap() >= 64.0);
    assert!(report.stage("idle").unwrap().memory_mb < 1.0);
}

#[test]
fn cpu_scopes_write_no_timestamps() {
    let _serial = serial();
    let Some(ctx) = context(&GpuOptions::default()) else {
        return;
    };
    if !ctx.has_timestamps() {
        assert!(!in_ci(), "the CI adapter must have TIMESTAMP_QUERY");
        return;
    }
    let kernel = BusyKernel::new(&ctx.device);
    let mut prof = Profiler::for_context(&ctx);
    prof.span_cpu("fusion", |prof| {
        std::thread::sleep(Duration::from_millis(3));
        // A GPU scope nested in a CPU one still gets its timestamps.
        prof.span("gpu_inside", |_| kernel.run(&ctx.device, &ctx.queue, 1000));
    });
    let r: Result<(), String> =
        prof.scope_cpu("surface_reconstruction", |_| Err("empty cloud".into()));
    assert!(r.is_err());
    let report = prof.finish();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let fusion = report.stage("fusion").unwrap();
    assert!(fusion.gpu_time_ms.is_none());
    assert!(fusion.cpu_time_ms >= 3.0);
    assert!(report.stage("gpu_inside").unwrap().gpu_time_ms.is_some());
    let surface = report.stage("surface_reconstruction").unwrap();
    assert!(surface.gpu_time_ms.is_none());
    assert_eq!(surface.status, "error: empty cloud");
    let trace = report.chrome_trace();
    let gpu_events: Vec<&str> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X" && e["tid"] == 2)
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(gpu_events, ["gpu_inside"]);
}
