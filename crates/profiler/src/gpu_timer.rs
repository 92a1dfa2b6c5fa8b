//! GPU timestamps: a pool of query sets, written around the measured work in tiny command
//! buffers of their own, resolved and read back asynchronously.
//!
//! A *chunk* is one `wgpu::QuerySet` of [`CHUNK_QUERIES`] timestamps with its resolve buffer
//! and its `MAP_READ` staging buffer. Slots are handed out in order; a full chunk is resolved
//! (one small submission: `resolve_query_set` + a copy) and `map_async`ed as soon as every slot
//! in it has been written, and a new chunk is taken from the free list. Mapped chunks are read
//! and recycled when the free list runs dry (a non-blocking `device.poll`) and at
//! [`GpuTimer::finish`] (the only blocking wait). Nothing here ever waits for the measured work.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// Timestamps per query set.
pub(crate) const CHUNK_QUERIES: u32 = 256;

/// Chunks that may be in flight before the pool waits for the oldest read-back (a bound on
/// memory for runaway scope counts: 1024 × 256 timestamps).
const MAX_CHUNKS: usize = 1024;

const MAP_PENDING: u8 = 0;
const MAP_OK: u8 = 1;
const MAP_FAILED: u8 = 2;

/// How a scope boundary writes its timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteMode {
    /// `CommandEncoder::write_timestamp` (needs `TIMESTAMP_QUERY_INSIDE_ENCODERS`).
    Encoder,
    /// An empty compute pass with `timestamp_writes` (needs only `TIMESTAMP_QUERY`).
    EmptyPass,
}

/// Who a timestamp slot belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotOwner {
    /// Begin timestamp of scope record `n`.
    ScopeBegin(usize),
    /// End timestamp of scope record `n`.
    ScopeEnd(usize),
    /// Begin timestamp of pass record `n`.
    PassBegin(usize),
    /// End timestamp of pass record `n`.
    PassEnd(usize),
}

/// Where a pair of pass slots lives, so the owning scope can settle them when it ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PendingSlots {
    pub chunk: usize,
    pub count: u32,
}

#[derive(Debug)]
struct Chunk {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    read: wgpu::Buffer,
    owners: Vec<SlotOwner>,
    /// Slots handed to user passes whose scope has not ended yet: the chunk cannot be
    /// resolved before they are written.
    unsettled: u32,
    map_state: Arc<AtomicU8>,
}

/// Clock relation between GPU ticks and the profiler's CPU clock.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Calibration {
    /// GPU timestamp (ticks) taken at the calibration point.
    pub gpu_ticks: u64,
    /// CPU time (ns since the profiler epoch) of the same point: the middle of the interval
    /// between the submit and the end of the wait.
    pub cpu_ns: f64,
    /// Half that interval: the alignment's uncertainty.
    pub uncertainty_ns: f64,
}

#[derive(Debug)]
pub(crate) struct GpuTimer {
    device: wgpu::Device,
    queue: wgpu::Queue,
    mode: WriteMode,
    period_ns: f64,
    chunks: Vec<Chunk>,
    current: Option<usize>,
    free: Vec<usize>,
    /// Full chunks waiting for their unsettled slots.
    full: Vec<usize>,
    /// Chunks whose resolve was submitted and whose map is pending, oldest first.
    in_flight: Vec<usize>,
    /// (owner, ticks) read back so far.
    results: Vec<(SlotOwner, u64)>,
    pub warnings: Vec<String>,
}

impl GpuTimer {
    /// A timer for `device`, or `None` when it lacks `TIMESTAMP_QUERY`.
    pub fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> Option<Self> {
        let features = device.features();
        if !features.contains(wgpu::Features::TIMESTAMP_QUERY) {
            return None;
        }
        let mode = if features.contains(wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS) {
            WriteMode::Encoder
        } else {
            WriteMode::EmptyPass
        };
        let period_ns = f64::from(queue.get_timestamp_period());
        if !(period_ns > 0.0) {
            return None;
        }
        let mut timer = Self {
            device: device.clone(),
            queue: queue.clone(),
            mode,
            period_ns,
            chunks: Vec::new(),
            current: None,
            free: Vec::new(),
            full: Vec::new(),
            in_flight: Vec::new(),
            results: Vec::new(),
            warnings: Vec::new(),
        };
        // One chunk up front so the first scopes allocate nothing.
        let first = timer.new_chunk();
        timer.free.push(first);
        Some(timer)
    }

    pub fn mode(&self) -> WriteMode {
        self.mode
    }

    /// Nanoseconds per tick (`Queue::get_timestamp_period`).
    pub fn period_ns(&self) -> f64 {
        self.period_ns
    }

    fn new_chunk(&mut self) -> usize {
        let set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("aquamvs-profiler timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: CHUNK_QUERIES,
        });
        let bytes = u64::from(CHUNK_QUERIES) * u64::from(wgpu::QUERY_SIZE);
        let resolve = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("aquamvs-profiler resolve"),
            size: bytes,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let read = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("aquamvs-profiler read-back"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.chunks.push(Chunk {
            set,
            resolve,
            read,
            owners: Vec::with_capacity(CHUNK_QUERIES as usize),
            unsettled: 0,
            map_state: Arc::new(AtomicU8::new(MAP_PENDING)),
        });
        self.chunks.len() - 1
    }

    /// A chunk with at least `slots` free slots, retiring the current one if it is too full.
    fn chunk_with_room(&mut self, slots: u32) -> usize {
        if let Some(c) = self.current {
            if self.chunks[c].owners.len() as u32 + slots <= CHUNK_QUERIES {
                return c;
            }
            self.current = None;
            self.full.push(c);
            self.resolve_ready();
        }
        let c = self.take_free_chunk();
        self.current = Some(c);
        c
    }

    fn take_free_chunk(&mut self) -> usize {
        if self.free.is_empty() {
            // Recycle whatever has been read back meanwhile, without blocking.
            let _ = self.device.poll(wgpu::PollType::Poll);
            self.collect_mapped();
        }
        if let Some(c) = self.free.pop() {
            return c;
        }
        if self.chunks.len() < MAX_CHUNKS {
            return self.new_chunk();
        }
        // Runaway scope count: wait for the oldest read-back rather than grow without bound.
        if let Some(&oldest) = self.in_flight.first() {
            self.wait_for(oldest);
            self.collect_mapped();
        }
        self.free.pop().unwrap_or_else(|| self.new_chunk())
    }

    /// Writes one timestamp now, in a command buffer of its own, and returns nothing: the value
    /// arrives through [`GpuTimer::finish`].
    pub fn write(&mut self, owner: SlotOwner, at_end: bool) {
        let c = self.chunk_with_room(1);
        let index = self.chunks[c].owners.len() as u32;
        self.chunks[c].owners.push(owner);
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("aquamvs-profiler timestamp"),
            });
        encode_timestamp(&mut encoder, self.mode, &self.chunks[c].set, index, at_end);
        self.queue.submit([encoder.finish()]);
    }

    /// Two slots in one query set for a user pass; they stay unsettled (the chunk is not
    /// resolved) until [`GpuTimer::settle`] is called for them.
    pub fn pass_slots(
        &mut self,
        begin: SlotOwner,
        end: SlotOwner,
    ) -> (wgpu::QuerySet, u32, u32, PendingSlots) {
        let c = self.chunk_with_room(2);
        let chunk = &mut self.chunks[c];
        let index = chunk.owners.len() as u32;
        chunk.owners.push(begin);
        chunk.owners.push(end);
        chunk.unsettled += 2;
        (
            chunk.set.clone(),
            index,
            index + 1,
            PendingSlots { chunk: c, count: 2 },
        )
    }

    /// The scope that owned these pass slots has ended: their passes have been submitted.
    pub fn settle(&mut self, slots: &[PendingSlots]) {
        for s in slots {
            let chunk = &mut self.chunks[s.chunk];
            chunk.unsettled = chunk.unsettled.saturating_sub(s.count);
        }
        if !slots.is_empty() {
            self.resolve_ready();
        }
    }

    /// Submits the resolve and copy of every full chunk whose slots are all written, and
    /// starts mapping its staging buffer. Does not wait.
    fn resolve_ready(&mut self) {
        let ready: Vec<usize> = self
            .full
            .iter()
            .copied()
            .filter(|&c| self.chunks[c].unsettled == 0)
            .collect();
        if ready.is_empty() {
            return;
        }
        self.full.retain(|c| !ready.contains(c));
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("aquamvs-profiler resolve"),
            });
        for &c in &ready {
            let chunk = &self.chunks[c];
            let used = chunk.owners.len() as u32;
            encoder.resolve_query_set(&chunk.set, 0..used, &chunk.resolve, 0);
            encoder.copy_buffer_to_buffer(
                &chunk.resolve,
                0,
                &chunk.read,
                0,
                u64::from(used) * u64::from(wgpu::QUERY_SIZE),
            );
        }
        self.queue.submit([encoder.finish()]);
        for c in ready {
            let chunk = &self.chunks[c];
            let used = chunk.owners.len() as u64 * u64::from(wgpu::QUERY_SIZE);
            chunk.map_state.store(MAP_PENDING, Ordering::Release);
            let state = Arc::clone(&chunk.map_state);
            chunk
                .read
                .slice(0..used)
                .map_async(wgpu::MapMode::Read, move |r| {
                    let v = if r.is_ok() { MAP_OK } else { MAP_FAILED };
                    state.store(v, Ordering::Release);
                });
            self.in_flight.push(c);
        }
    }

    fn wait_for(&mut self, _chunk: usize) {
        if let Err(e) = self.device.poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(Duration::from_secs(60)),
        }) {
            self.warnings
                .push(format!("waiting for GPU timestamp read-back failed: {e}"));
        }
    }

    /// Reads every chunk whose map has completed and returns it to the free list.
    fn collect_mapped(&mut self) {
        let mut still = Vec::with_capacity(self.in_flight.len());
        for c in std::mem::take(&mut self.in_flight) {
            let chunk = &mut self.chunks[c];
            match chunk.map_state.load(Ordering::Acquire) {
                MAP_PENDING => {
                    still.push(c);
                    continue;
                }
                MAP_OK => {
                    let used = chunk.owners.len() as u64 * u64::from(wgpu::QUERY_SIZE);
                    let slice = chunk.read.slice(0..used);
                    match slice.get_mapped_range() {
                        Ok(view) => {
                            for (owner, bytes) in chunk.owners.iter().zip(view.chunks_exact(8)) {
                                let mut b = [0u8; 8];
                                b.copy_from_slice(bytes);
                                self.results.push((*owner, u64::from_le_bytes(b)));
                            }
                        }
                        Err(e) => self
                            .warnings
                            .push(format!("GPU timestamps could not be read: {e}")),
                    }
                    chunk.read.unmap();
                }
                _ => self.warnings.push(
                    "mapping a GPU timestamp buffer failed; those stages are cpu-only".into(),
                ),
            }
            chunk.owners.clear();
            chunk.unsettled = 0;
            chunk.map_state.store(MAP_PENDING, Ordering::Release);
            self.free.push(c);
        }
        self.in_flight = still;
    }

    /// Resolves everything outstanding, waits for the read-backs (the one blocking wait) and
    /// returns every timestamp read so far. Slots still unsettled are resolved anyway: their
    /// scopes are over.
    pub fn finish(&mut self) -> Vec<(SlotOwner, u64)> {
        if let Some(c) = self.current.take() {
            if self.chunks[c].owners.is_empty() {
                self.free.push(c);
            } else {
                self.full.push(c);
            }
        }
        for &c in &self.full {
            self.chunks[c].unsettled = 0;
        }
        self.resolve_ready();
        if !self.in_flight.is_empty() {
            self.wait_for(usize::MAX);
            self.collect_mapped();
            if !self.in_flight.is_empty() {
                self.warnings.push(format!(
                    "{} GPU timestamp buffers never mapped; their stages are cpu-only",
                    self.in_flight.len()
                ));
            }
        }
        std::mem::take(&mut self.results)
    }

    /// Relates GPU ticks to CPU time: writes a timestamp on an idle queue, waits, and pairs
    /// it with the middle of the CPU interval around it. Best of three. Blocks (call it only
    /// outside measured work).
    pub fn calibrate(&mut self, epoch: Instant) -> Option<Calibration> {
        let set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("aquamvs-profiler calibration"),
            ty: wgpu::QueryType::Timestamp,
            count: 1,
        });
        let resolve = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("aquamvs-profiler calibration resolve"),
            size: u64::from(wgpu::QUERY_SIZE),
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let read = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("aquamvs-profiler calibration read-back"),
            size: u64::from(wgpu::QUERY_SIZE),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let wait = wgpu::PollType::Wait {
            submission_index: None,
            timeout: Some(Duration::from_secs(10)),
        };
        let mut best: Option<Calibration> = None;
        for _ in 0..3 {
            // Drain the queue so the timestamp is written as soon as it is submitted.
            self.device.poll(wait.clone()).ok()?;
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("aquamvs-profiler calibration"),
                });
            encode_timestamp(&mut encoder, self.mode, &set, 0, false);
            let t0 = Instant::now();
            self.queue.submit([encoder.finish()]);
            self.device.poll(wait.clone()).ok()?;
            let t1 = Instant::now();

            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("aquamvs-profiler calibration resolve"),
                });
            encoder.resolve_query_set(&set, 0..1, &resolve, 0);
            encoder.copy_buffer_to_buffer(&resolve, 0, &read, 0, u64::from(wgpu::QUERY_SIZE));
            self.queue.submit([encoder.finish()]);
            let state = Arc::new(AtomicU8::new(MAP_PENDING));
            let s = Arc::clone(&state);
            read.slice(..).map_async(wgpu::MapMode::Read, move |r| {
                s.store(
                    if r.is_ok() { MAP_OK } else { MAP_FAILED },
                    Ordering::Release,
                );
            });
            self.device.poll(wait.clone()).ok()?;
            if state.load(Ordering::Acquire) != MAP_OK {
                return None;
            }
            let ticks = {
                let view = read.slice(..).get_mapped_range().ok()?;
                let mut b = [0u8; 8];
                b.copy_from_slice(&view[..8]);
                u64::from_le_bytes(b)
            };
            read.unmap();
            let start = t0.duration_since(epoch).as_nanos() as f64;
            let end = t1.duration_since(epoch).as_nanos() as f64;
            let c = Calibration {
                gpu_ticks: ticks,
                cpu_ns: 0.5 * (start + end),
                uncertainty_ns: 0.5 * (end - start),
            };
            if best.is_none_or(|b| c.uncertainty_ns < b.uncertainty_ns) {
                best = Some(c);
            }
        }
        best
    }
}

fn encode_timestamp(
    encoder: &mut wgpu::CommandEncoder,
    mode: WriteMode,
    set: &wgpu::QuerySet,
    index: u32,
    at_end: bool,
) {
    match mode {
        WriteMode::Encoder => encoder.write_timestamp(set, index),
        WriteMode::EmptyPass => {
            let writes = if at_end {
                wgpu::ComputePassTimestampWrites {
                    query_set: set,
                    beginning_of_pass_write_index: None,
                    end_of_pass_write_index: Some(index),
                }
            } else {
                wgpu::ComputePassTimestampWrites {
                    query_set: set,
                    beginning_of_pass_write_index: Some(index),
                    end_of_pass_write_index: None,
                }
            };
            drop(encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("aquamvs-profiler timestamp"),
                timestamp_writes: Some(writes),
            }));
        }
    }
}
