//! The [`Profiler`]: nested named scopes with CPU wall time, GPU timestamps and memory.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::ProfilerError;
use crate::gpu_timer::{GpuTimer, PendingSlots, SlotOwner, WriteMode};
use crate::memory::{peak_resident_bytes, texture_bytes};
use crate::report::{PassEvent, ProfileReport, ScopeEvent, TimingSource};
use crate::sampler::{MemorySampler, allocated_bytes, peak_in};

static NEXT_PROFILER_ID: AtomicU64 = AtomicU64::new(1);

/// How a scope ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeStatus {
    /// The measured work succeeded.
    Ok,
    /// The measured work failed (or panicked, or was left open); the message says why.
    Error(String),
}

impl fmt::Display for ScopeStatus {
    /// `ok` or `error: <message>`, as the report writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => f.write_str("ok"),
            Self::Error(msg) => write!(f, "error: {msg}"),
        }
    }
}

/// An open scope, returned by [`Profiler::begin`] and consumed by [`Profiler::end`].
///
/// Deliberately neither `Clone` nor `Copy`: a scope is ended once.
#[must_use = "a scope is measured until it is passed to Profiler::end"]
#[derive(Debug)]
pub struct ScopeToken {
    profiler: u64,
    index: usize,
}

/// Timestamp slots for one compute or render pass of the caller's own, from
/// [`Profiler::pass_timestamps`]. The pass must be **submitted before the scope that was open
/// when these were taken ends** (the profiler resolves the slots then).
#[derive(Debug, Clone)]
pub struct PassTimestamps {
    query_set: wgpu::QuerySet,
    begin: u32,
    end: u32,
}

impl PassTimestamps {
    /// For `ComputePassDescriptor::timestamp_writes`.
    pub fn compute_pass_timestamp_writes(&self) -> wgpu::ComputePassTimestampWrites<'_> {
        wgpu::ComputePassTimestampWrites {
            query_set: &self.query_set,
            beginning_of_pass_write_index: Some(self.begin),
            end_of_pass_write_index: Some(self.end),
        }
    }

    /// For `RenderPassDescriptor::timestamp_writes`.
    pub fn render_pass_timestamp_writes(&self) -> wgpu::RenderPassTimestampWrites<'_> {
        wgpu::RenderPassTimestampWrites {
            query_set: &self.query_set,
            beginning_of_pass_write_index: Some(self.begin),
            end_of_pass_write_index: Some(self.end),
        }
    }
}

/// One call of a scope, as recorded.
#[derive(Debug)]
pub(crate) struct ScopeRecord {
    pub name: String,
    pub parent: Option<usize>,
    pub depth: u32,
    pub cpu_start_ns: u64,
    pub cpu_end_ns: Option<u64>,
    pub gpu_begin: Option<u64>,
    pub gpu_end: Option<u64>,
    pub status: Option<ScopeStatus>,
    /// Bytes tracked while this scope was the innermost open one.
    pub alloc_bytes_self: u64,
    /// Process peak resident memory (VmHWM) when the scope began and ended.
    pub peak_rss_begin_bytes: Option<u64>,
    pub peak_rss_bytes: Option<u64>,
    /// Device allocator total at begin (memory sampling on).
    pub mem_begin: Option<u64>,
    /// Whether timestamps were written around this call.
    pub gpu_timed: bool,
    pending_pass_slots: Vec<PendingSlots>,
}

#[derive(Debug)]
pub(crate) struct PassRecord {
    pub name: String,
    pub scope: Option<usize>,
    pub gpu_begin: Option<u64>,
    pub gpu_end: Option<u64>,
}

/// Records nested named scopes: CPU wall time always, GPU time from timestamp queries where
/// the device has `TIMESTAMP_QUERY`, and the GPU bytes allocated through its helpers.
///
/// **Coupling:** the measured code is not changed. A GPU scope submits a one-timestamp command
/// buffer at [`begin`](Self::begin) and another at [`end`](Self::end), so the GPU span of a
/// scope covers every submission the stage made in between, in queue order. Code that wants
/// per-pass GPU times can add [`pass_timestamps`](Self::pass_timestamps) to its passes.
///
/// **Clocks:** CPU times are `std::time::Instant` differences, taken *inside* the profiler's
/// own submissions (the profiler's cost is not charged to the stage). GPU ticks are converted
/// with `Queue::get_timestamp_period` and placed on the CPU clock (trace only) through one
/// calibration point taken when the profiler is created.
///
/// **Never stalls measured work:** timestamps are resolved and mapped asynchronously; the only
/// blocking waits are the calibration in the constructor and [`finish`](Self::finish).
/// (A driver may still block *any* `queue.submit` while the queue is busy — lavapipe accepts
/// one submission ahead — so on such a driver `end` returns when the queue takes the end
/// timestamp, as the stage's own next submission would. The scope's CPU end is taken before.)
///
/// **Cost:** a GPU scope is two tiny submissions: 70–180 µs per begin + end on lavapipe on a
/// 2-core machine, depending on its load (`cargo bench -p aquamvs-profiler --bench overhead`),
/// i.e. under 3 % for GPU scopes of about 10 ms or more (measured +0.4 % with 10 ms scopes,
/// +7 % with 2.5 ms ones); a CPU-only scope costs ~6 µs (mostly reading `/proc/self/status`).
/// Time finer GPU work with [`pass_timestamps`](Self::pass_timestamps) instead.
pub struct Profiler {
    id: u64,
    epoch: Instant,
    timer: Option<GpuTimer>,
    device: Option<wgpu::Device>,
    sampler: Option<MemorySampler>,
    cpu_only_reason: Option<String>,
    calibration: Option<crate::gpu_timer::Calibration>,
    adapter: Option<String>,
    backend: Option<String>,
    records: Vec<ScopeRecord>,
    passes: Vec<PassRecord>,
    stack: Vec<usize>,
    unscoped_alloc_bytes: u64,
}

impl fmt::Debug for Profiler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profiler")
            .field("timing_source", &self.timing_source())
            .field("scopes", &self.records.len())
            .field("open", &self.stack.len())
            .finish()
    }
}

impl Profiler {
    /// A profiler for this device and queue, with GPU timestamps when the device has
    /// `TIMESTAMP_QUERY` (cpu-only otherwise), or a cpu-only one for `None`.
    ///
    /// With timestamps it waits for the queue to go idle three times to calibrate the GPU
    /// clock against the CPU clock (a few milliseconds): create it before the measured work.
    pub fn new(gpu: Option<(&wgpu::Device, &wgpu::Queue)>) -> Self {
        let epoch = Instant::now();
        let mut profiler = Self {
            id: NEXT_PROFILER_ID.fetch_add(1, Ordering::Relaxed),
            epoch,
            timer: None,
            device: gpu.map(|(d, _)| d.clone()),
            sampler: None,
            cpu_only_reason: None,
            calibration: None,
            adapter: None,
            backend: None,
            records: Vec::new(),
            passes: Vec::new(),
            stack: Vec::new(),
            unscoped_alloc_bytes: 0,
        };
        match gpu {
            None => profiler.cpu_only_reason = Some("no GPU device was given".into()),
            Some((device, queue)) => match GpuTimer::new(device, queue) {
                None => {
                    profiler.cpu_only_reason =
                        Some("the device was created without TIMESTAMP_QUERY".into())
                }
                Some(mut timer) => match timer.calibrate(epoch) {
                    Some(c) => {
                        profiler.calibration = Some(c);
                        profiler.timer = Some(timer);
                    }
                    None => {
                        profiler.cpu_only_reason =
                            Some("GPU timestamp calibration failed (device lost?)".into())
                    }
                },
            },
        }
        profiler
    }

    /// A profiler that records CPU wall time only.
    pub fn cpu_only() -> Self {
        Self::new(None)
    }

    /// [`Profiler::new`] for a context's device and queue, with the adapter and backend names
    /// filled in for the report.
    pub fn for_context(ctx: &aquamvs_gpu::GpuContext) -> Self {
        let mut p = Self::new(Some((&ctx.device, &ctx.queue)));
        p.set_adapter(ctx.adapter_name(), &ctx.backend_name());
        p
    }

    /// Names the adapter and backend in the report.
    pub fn set_adapter(&mut self, adapter: &str, backend: &str) {
        self.adapter = Some(adapter.to_owned());
        self.backend = Some(backend.to_owned());
    }

    /// Also measures each scope's GPU memory from the device allocator's total
    /// (`Device::generate_allocator_report`): sampled at every scope boundary and by a
    /// background thread every `period`, so allocations the measured code makes itself are
    /// seen without changing it. A stage's `memory_mb` then is the **peak growth of the
    /// allocated total during the stage** (a sample-based lower bound of the true peak).
    ///
    /// Returns `false` (and measures nothing) without a device or when the backend gives no
    /// allocator report. Each sample takes ~20 µs of CPU on lavapipe with 200 live
    /// allocations: choose a period that is small against the stages (5–10 ms).
    pub fn sample_device_memory(&mut self, period: Duration) -> bool {
        if self.sampler.is_some() {
            return true;
        }
        let Some(device) = &self.device else {
            return false;
        };
        self.sampler =
            MemorySampler::start(device, self.epoch, period.max(Duration::from_micros(100)));
        self.sampler.is_some()
    }

    /// Samples the device allocator now, stamped `t_ns`, when sampling is on.
    fn sample_memory(&self, t_ns: u64) -> Option<u64> {
        let (sampler, device) = (self.sampler.as_ref()?, self.device.as_ref()?);
        let bytes = allocated_bytes(device)?;
        sampler.push(t_ns, bytes);
        Some(bytes)
    }

    /// Where the times come from.
    pub fn timing_source(&self) -> TimingSource {
        if self.timer.is_some() {
            TimingSource::GpuTimestamps
        } else {
            TimingSource::CpuOnly
        }
    }

    /// Whether scope boundaries are written with `write_timestamp` in a command encoder
    /// (`TIMESTAMP_QUERY_INSIDE_ENCODERS`) rather than with empty timestamped compute passes.
    pub fn uses_encoder_timestamps(&self) -> bool {
        self.timer
            .as_ref()
            .is_some_and(|t| t.mode() == WriteMode::Encoder)
    }

    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Opens a scope named `name` inside the innermost open one, with GPU timestamps around
    /// it when the device has them.
    ///
    /// An empty name is replaced by `"(unnamed)"` (names are report keys).
    pub fn begin(&mut self, name: &str) -> ScopeToken {
        self.begin_inner(name, true)
    }

    /// Opens a scope for **CPU-only work**: no timestamps are written (its `gpu_time_ms` is
    /// `null`, and it costs a few µs instead of two submissions). Use it for stages that
    /// submit nothing: a GPU scope around them would report the idle queue's elapsed time.
    pub fn begin_cpu(&mut self, name: &str) -> ScopeToken {
        self.begin_inner(name, false)
    }

    fn begin_inner(&mut self, name: &str, gpu: bool) -> ScopeToken {
        let index = self.records.len();
        let parent = self.stack.last().copied();
        let depth = self.stack.len() as u32;
        let name = if name.is_empty() { "(unnamed)" } else { name };
        let gpu_timed = gpu && self.timer.is_some();
        if gpu_timed && let Some(t) = &mut self.timer {
            t.write(SlotOwner::ScopeBegin(index), false);
        }
        // Read before the clock starts: not charged to the scope.
        let peak_rss_begin_bytes = peak_resident_bytes();
        let mut cpu_start_ns = self.now_ns();
        let mem_begin = self.sample_memory(cpu_start_ns);
        if mem_begin.is_some() {
            // Do not charge the sample to the scope.
            cpu_start_ns = self.now_ns();
        }
        self.records.push(ScopeRecord {
            name: name.to_owned(),
            parent,
            depth,
            cpu_start_ns,
            cpu_end_ns: None,
            gpu_begin: None,
            gpu_end: None,
            status: None,
            alloc_bytes_self: 0,
            peak_rss_begin_bytes,
            peak_rss_bytes: None,
            mem_begin,
            gpu_timed,
            pending_pass_slots: Vec::new(),
        });
        self.stack.push(index);
        ScopeToken {
            profiler: self.id,
            index,
        }
    }

    /// Ends a scope successfully. Scopes still open inside it are ended first, with the status
    /// `error: left open inside <name>`.
    pub fn end(&mut self, token: ScopeToken) -> Result<(), ProfilerError> {
        self.end_with(token, ScopeStatus::Ok)
    }

    /// Ends a scope with a status (for example the error the stage returned).
    pub fn end_with(
        &mut self,
        token: ScopeToken,
        status: ScopeStatus,
    ) -> Result<(), ProfilerError> {
        let cpu_end = self.now_ns();
        if token.profiler != self.id {
            let name = self
                .records
                .get(token.index)
                .map_or_else(|| "?".to_owned(), |r| r.name.clone());
            return Err(ProfilerError::ForeignScope { name });
        }
        let record = &self.records[token.index];
        if let Some(s) = &record.status {
            return Err(ProfilerError::AlreadyEnded {
                name: record.name.clone(),
                status: s.to_string(),
            });
        }
        self.close(token.index, cpu_end, status);
        Ok(())
    }

    /// Closes `index` and everything open above it on the stack.
    fn close(&mut self, index: usize, cpu_end: u64, status: ScopeStatus) {
        let outer_name = self.records[index].name.clone();
        while let Some(&top) = self.stack.last() {
            let (st, end) = if top == index {
                (status.clone(), cpu_end)
            } else {
                (
                    ScopeStatus::Error(format!("left open inside {outer_name:?}")),
                    cpu_end,
                )
            };
            self.stack.pop();
            let rec = &mut self.records[top];
            rec.cpu_end_ns = Some(end);
            rec.status = Some(st);
            let pending = std::mem::take(&mut rec.pending_pass_slots);
            let gpu_timed = rec.gpu_timed;
            if let Some(t) = &mut self.timer {
                if gpu_timed {
                    t.write(SlotOwner::ScopeEnd(top), true);
                }
                t.settle(&pending);
            }
            self.sample_memory(end);
            self.records[top].peak_rss_bytes = peak_resident_bytes();
            if top == index {
                break;
            }
        }
    }

    /// Runs `f` inside a scope named `name` and ends the scope whatever happens: `Ok` gives
    /// status `ok`, `Err(e)` gives `error: {e}` and is returned, and a panic gives
    /// `error: panicked: {message}` and then continues unwinding.
    pub fn scope<T, E: fmt::Display>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Profiler) -> Result<T, E>,
    ) -> Result<T, E> {
        self.scope_inner(name, true, f)
    }

    /// [`scope`](Self::scope) for CPU-only work (see [`begin_cpu`](Self::begin_cpu)).
    pub fn scope_cpu<T, E: fmt::Display>(
        &mut self,
        name: &str,
        f: impl FnOnce(&mut Profiler) -> Result<T, E>,
    ) -> Result<T, E> {
        self.scope_inner(name, false, f)
    }

    fn scope_inner<T, E: fmt::Display>(
        &mut self,
        name: &str,
        gpu: bool,
        f: impl FnOnce(&mut Profiler) -> Result<T, E>,
    ) -> Result<T, E> {
        let token = self.begin_inner(name, gpu);
        let index = token.index;
        let outcome = catch_unwind(AssertUnwindSafe(|| f(self)));
        let cpu_end = self.now_ns();
        match outcome {
            Ok(Ok(v)) => {
                self.close(index, cpu_end, ScopeStatus::Ok);
                Ok(v)
            }
            Ok(Err(e)) => {
                self.close(index, cpu_end, ScopeStatus::Error(e.to_string()));
                Err(e)
            }
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic payload".to_owned());
                self.close(
                    index,
                    cpu_end,
                    ScopeStatus::Error(format!("panicked: {msg}")),
                );
                resume_unwind(payload)
            }
        }
    }

    /// [`scope`](Self::scope) for work that cannot fail (status `ok` unless it panics).
    pub fn span<T>(&mut self, name: &str, f: impl FnOnce(&mut Profiler) -> T) -> T {
        self.scope(name, |p| Ok::<T, std::convert::Infallible>(f(p)))
            .unwrap_or_else(|never| match never {})
    }

    /// [`span`](Self::span) for CPU-only work (see [`begin_cpu`](Self::begin_cpu)).
    pub fn span_cpu<T>(&mut self, name: &str, f: impl FnOnce(&mut Profiler) -> T) -> T {
        self.scope_cpu(name, |p| Ok::<T, std::convert::Infallible>(f(p)))
            .unwrap_or_else(|never| match never {})
    }

    /// Timestamp slots for one of the caller's passes, reported under `name` in the innermost
    /// open scope; `None` in cpu-only mode. See [`PassTimestamps`] for the submission rule.
    pub fn pass_timestamps(&mut self, name: &str) -> Option<PassTimestamps> {
        let timer = self.timer.as_mut()?;
        let index = self.passes.len();
        let (query_set, begin, end, pending) =
            timer.pass_slots(SlotOwner::PassBegin(index), SlotOwner::PassEnd(index));
        let scope = self.stack.last().copied();
        self.passes.push(PassRecord {
            name: name.to_owned(),
            scope,
            gpu_begin: None,
            gpu_end: None,
        });
        // Outside any scope the slots are resolved by finish().
        if let Some(s) = scope {
            self.records[s].pending_pass_slots.push(pending);
        }
        Some(PassTimestamps {
            query_set,
            begin,
            end,
        })
    }

    /// Counts `bytes` of GPU memory allocated by the innermost open scope (or outside any
    /// scope, reported as `unscoped_memory_mb`).
    pub fn track_alloc(&mut self, bytes: u64) {
        match self.stack.last() {
            Some(&s) => self.records[s].alloc_bytes_self += bytes,
            None => self.unscoped_alloc_bytes += bytes,
        }
    }

    /// `device.create_buffer(desc)`, counting `desc.size` bytes in the current scope.
    pub fn create_buffer(
        &mut self,
        device: &wgpu::Device,
        desc: &wgpu::BufferDescriptor<'_>,
    ) -> wgpu::Buffer {
        self.track_alloc(desc.size);
        device.create_buffer(desc)
    }

    /// `device.create_texture(desc)`, counting [`texture_bytes`](crate::texture_bytes) in the
    /// current scope.
    pub fn create_texture(
        &mut self,
        device: &wgpu::Device,
        desc: &wgpu::TextureDescriptor<'_>,
    ) -> wgpu::Texture {
        self.track_alloc(texture_bytes(desc));
        device.create_texture(desc)
    }

    /// Ends any scope still open (status `error: not ended before finish`), waits for the
    /// outstanding GPU timestamps, and builds the report.
    pub fn finish(mut self) -> ProfileReport {
        let wall_ns = self.now_ns();
        if let Some(&bottom) = self.stack.first() {
            self.close(
                bottom,
                wall_ns,
                ScopeStatus::Error("not ended before finish".into()),
            );
        }
        let mut warnings = Vec::new();
        let memory_period_ms = self
            .sampler
            .as_ref()
            .map(|s| s.period.as_secs_f64() * 1000.0);
        let mem_samples = self.sampler.as_mut().map(|s| s.stop()).unwrap_or_default();
        let mut period_ns = None;
        if let Some(timer) = &mut self.timer {
            period_ns = Some(timer.period_ns());
            for (owner, ticks) in timer.finish() {
                match owner {
                    SlotOwner::ScopeBegin(i) => self.records[i].gpu_begin = Some(ticks),
                    SlotOwner::ScopeEnd(i) => self.records[i].gpu_end = Some(ticks),
                    SlotOwner::PassBegin(i) => self.passes[i].gpu_begin = Some(ticks),
                    SlotOwner::PassEnd(i) => self.passes[i].gpu_end = Some(ticks),
                }
            }
            warnings.append(&mut timer.warnings);
        }
        let to_cpu_us = |ticks: u64| -> Option<f64> {
            let (c, p) = (self.calibration?, period_ns?);
            Some((c.cpu_ns + (ticks as f64 - c.gpu_ticks as f64) * p) / 1000.0)
        };
        let gpu_span = |b: Option<u64>, e: Option<u64>| -> Option<(f64, f64, f64)> {
            let (b, e, p) = (b?, e?, period_ns?);
            if b == 0 || e < b {
                return None;
            }
            Some((to_cpu_us(b)?, to_cpu_us(e)?, (e - b) as f64 * p / 1e6))
        };
        let mut missing_gpu = 0usize;
        let events: Vec<ScopeEvent> = self
            .records
            .iter()
            .map(|r| {
                let gpu = gpu_span(r.gpu_begin, r.gpu_end);
                if r.gpu_timed && gpu.is_none() {
                    missing_gpu += 1;
                }
                ScopeEvent {
                    name: r.name.clone(),
                    parent: r.parent,
                    depth: r.depth,
                    cpu_start_us: r.cpu_start_ns as f64 / 1000.0,
                    cpu_end_us: r.cpu_end_ns.unwrap_or(wall_ns) as f64 / 1000.0,
                    gpu_start_us: gpu.map(|g| g.0),
                    gpu_end_us: gpu.map(|g| g.1),
                    gpu_time_ms: gpu.map(|g| g.2),
                    status: r
                        .status
                        .clone()
                        .unwrap_or(ScopeStatus::Error("never ended".into()))
                        .to_string(),
                    alloc_bytes: r.alloc_bytes_self,
                    peak_rss_begin_bytes: r.peak_rss_begin_bytes,
                    peak_rss_bytes: r.peak_rss_bytes,
                    gpu_memory_begin_bytes: r.mem_begin,
                    gpu_memory_peak_bytes: r.mem_begin.map(|b| {
                        let end = r.cpu_end_ns.unwrap_or(wall_ns);
                        peak_in(&mem_samples, r.cpu_start_ns, end)
                            .unwrap_or(b)
                            .max(b)
                    }),
                }
            })
            .collect();
        if missing_gpu > 0 {
            warnings.push(format!(
                "{missing_gpu} scope call(s) have no GPU timestamps (see warnings above)"
            ));
        }
        let passes = self
            .passes
            .iter()
            .map(|p| {
                let gpu = gpu_span(p.gpu_begin, p.gpu_end);
                PassEvent {
                    name: p.name.clone(),
                    scope: p.scope,
                    gpu_start_us: gpu.map(|g| g.0),
                    gpu_end_us: gpu.map(|g| g.1),
                    gpu_time_ms: gpu.map(|g| g.2),
                }
            })
            .collect();
        let timing_source = self.timing_source();
        let timing_note = match &self.cpu_only_reason {
            Some(r) => format!("cpu-only: {r}"),
            None => format!(
                "GPU timestamps ({}), {} ns per tick",
                if self.uses_encoder_timestamps() {
                    "write_timestamp in command encoders"
                } else {
                    "empty timestamped compute passes"
                },
                period_ns.unwrap_or(0.0)
            ),
        };
        ProfileReport::build(crate::report::ReportParts {
            timing_source,
            timing_note,
            adapter: self.adapter.take(),
            backend: self.backend.take(),
            timestamp_period_ns: period_ns,
            calibration_uncertainty_us: self.calibration.map(|c| c.uncertainty_ns / 1000.0),
            wall_time_ms: wall_ns as f64 / 1e6,
            peak_rss_bytes: peak_resident_bytes(),
            unscoped_alloc_bytes: self.unscoped_alloc_bytes,
            memory_sample_period_ms: memory_period_ms,
            warnings,
            events,
            passes,
        })
    }
}
