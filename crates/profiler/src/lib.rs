//! Where the time goes: nested named scopes with CPU wall time, GPU time from timestamp
//! queries, and GPU memory, summarised as a [`ProfileReport`] and a Chrome trace.
//!
//! Main types:
//! - [`Profiler`]: [`begin`](Profiler::begin)/[`end`](Profiler::end), or the closure forms
//!   [`scope`](Profiler::scope) (ends the scope on `Ok`, `Err` *and* panic, recording the
//!   status) and [`span`](Profiler::span); `*_cpu` variants ([`scope_cpu`](Profiler::scope_cpu))
//!   for stages that submit no GPU work; [`track_alloc`](Profiler::track_alloc),
//!   [`create_buffer`](Profiler::create_buffer), [`create_texture`](Profiler::create_texture),
//!   or [`sample_device_memory`](Profiler::sample_device_memory) to measure memory the measured
//!   code allocates itself (device allocator totals, sampled);
//!   [`pass_timestamps`](Profiler::pass_timestamps) for per-pass GPU times;
//!   [`finish`](Profiler::finish) → [`ProfileReport`].
//! - [`ProfileReport`] (serde): `stages` keyed by name (cpu/gpu/total/self ms, memory, calls,
//!   status, parent), [`top_bottlenecks`](ProfileReport::top_bottlenecks),
//!   [`chrome_trace`](ProfileReport::chrome_trace), `timing_source`.
//! - [`BusyKernel`]: a long WGSL loop used to validate the timings and measure the overhead.
//!
//! Design decisions:
//! - **Zero coupling with the measured code.** A GPU scope submits a tiny command buffer with
//!   one timestamp at its begin and another at its end (`write_timestamp` with
//!   `TIMESTAMP_QUERY_INSIDE_ENCODERS`, else an empty compute pass with `timestamp_writes`),
//!   so a stage's GPU span covers everything it submitted in between, in queue order, without
//!   touching the stage's code.
//! - **Never stalls the measured work.** Query sets are pooled in chunks of 256; a full chunk
//!   is resolved and `map_async`ed in the background and recycled when read. The only
//!   blocking waits are the clock calibration in [`Profiler::new`] and [`Profiler::finish`].
//! - **Honest labels.** Without `TIMESTAMP_QUERY` (or with
//!   `aquamvs_gpu::GpuOptions { disable_timestamps: true }`) the report's `timing_source` is
//!   `"cpu-only"` and every `gpu_time_ms` is `null`, never an estimate.
//!
//! What it does not do: no file I/O (serialise the report and the trace and write them with
//! `aquamvs_io::write_atomic`), no sampling of call stacks, no CPU-side memory accounting
//! beyond the process's peak resident memory (`VmHWM`, Linux only).
//!
//! Conventions: **times in the report are milliseconds; trace and event times are
//! microseconds since the profiler was created, on the CPU clock; memory is in MiB
//! (2²⁰ bytes).**
//!
//! ```
//! use aquamvs_profiler::Profiler;
//! let mut prof = Profiler::cpu_only();
//! let sum = prof.scope("depth_estimation", |prof| {
//!     let s = prof.begin("cost_volume");
//!     let x: u64 = (0..1000u64).sum();
//!     prof.end(s).unwrap();
//!     Ok::<_, String>(x)
//! });
//! assert_eq!(sum, Ok(499500));
//! let report = prof.finish();
//! assert_eq!(report.timing_source.as_str(), "cpu-only");
//! assert_eq!(report.stage("cost_volume").unwrap().parent.as_deref(), Some("depth_estimation"));
//! assert!(report.stage("depth_estimation").unwrap().gpu_time_ms.is_none());
//! let trace = report.chrome_trace();
//! assert!(trace["traceEvents"].as_array().unwrap().len() >= 2);
//! ```

mod busy;
mod error;
mod gpu_timer;
pub mod harness;
mod memory;
mod profiler;
mod report;
mod results;
mod sampler;
mod trace;

pub use busy::{BUSY_INVOCATIONS, BusyKernel};
pub use error::ProfilerError;
pub use memory::{BYTES_PER_MB, peak_resident_bytes, texture_bytes};
pub use profiler::{PassTimestamps, Profiler, ScopeStatus, ScopeToken};
pub use report::{
    Bottleneck, PassEvent, PassStats, ProfileReport, ScopeEvent, StageStats, TimingSource,
};
pub use trace::{TRACE_PID, TRACE_TID_CPU, TRACE_TID_GPU, TRACE_TID_GPU_PASSES};
