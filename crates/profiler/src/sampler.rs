//! Optional sampling of the device allocator's total (`Device::generate_allocator_report`), so
//! a stage's GPU memory can be measured without routing its allocations through the profiler.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes currently allocated on the device, or `None` when the backend gives no report.
pub(crate) fn allocated_bytes(device: &wgpu::Device) -> Option<u64> {
    device
        .generate_allocator_report()
        .map(|r| r.total_allocated_bytes)
}

/// A background thread that records `(ns since epoch, allocated bytes)` every `period`.
#[derive(Debug)]
pub(crate) struct MemorySampler {
    pub period: Duration,
    samples: Arc<Mutex<Vec<(u64, u64)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MemorySampler {
    /// Starts sampling; `None` when the device has no allocator report.
    pub fn start(device: &wgpu::Device, epoch: Instant, period: Duration) -> Option<Self> {
        allocated_bytes(device)?;
        let samples = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (device, samples, stop) = (device.clone(), Arc::clone(&samples), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("aquamvs-profiler memory".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        if let Some(b) = allocated_bytes(&device) {
                            let t = epoch.elapsed().as_nanos() as u64;
                            samples
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push((t, b));
                        }
                        std::thread::sleep(period);
                    }
                })
                .ok()?
        };
        Some(Self {
            period,
            samples,
            stop,
            thread: Some(thread),
        })
    }

    /// Adds a sample taken by the caller (at a scope boundary).
    pub fn push(&self, t_ns: u64, bytes: u64) {
        self.samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((t_ns, bytes));
    }

    /// Stops the thread and returns every sample, sorted by time.
    pub fn stop(&mut self) -> Vec<(u64, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let mut v = std::mem::take(&mut *self.samples.lock().unwrap_or_else(|e| e.into_inner()));
        v.sort_unstable();
        v
    }
}

impl Drop for MemorySampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Largest sampled value in `[start, end]` (both ns), if any sample falls there.
pub(crate) fn peak_in(samples: &[(u64, u64)], start: u64, end: u64) -> Option<u64> {
    let from = samples.partition_point(|s| s.0 < start);
    samples[from..]
        .iter()
        .take_while(|s| s.0 <= end)
        .map(|s| s.1)
        .max()
}

#[cfg(test)]
mod tests {
    use super::peak_in;

    #[test]
    fn peak_within_interval() {
        let s = [(0, 5), (10, 50), (20, 7), (30, 100)];
        assert_eq!(peak_in(&s, 5, 25), Some(50));
        assert_eq!(peak_in(&s, 10, 10), Some(50));
        assert_eq!(peak_in(&s, 11, 19), None);
        assert_eq!(peak_in(&s, 0, 40), Some(100));
    }
}
