//! Adapter and device selection for the workspace's GPU code, done once, at the edge, and the
//! buffer helpers every GPU crate shares.
//!
//! Every GPU function in the workspace takes `&wgpu::Device, &wgpu::Queue`; this crate is the
//! one place that creates them. [`GpuContext::new`] honours wgpu's environment variables
//! (`WGPU_BACKEND`, `WGPU_ADAPTER_NAME`, `WGPU_POWER_PREF`, …) and asks for the optional
//! features the profiler and the sweep use when the adapter has them (timestamp queries).
//!
//! [`GpuContext::for_tests`] is what tests use: with `CI=true` in the environment a missing
//! adapter is an error (tests **fail, never skip** in CI); elsewhere it returns `None` so a
//! developer without Vulkan can still run the CPU tests.
//!
//! Buffer helpers create buffers with the usual usages
//! ([`storage_buffer`], [`uniform_buffer`], [`empty_buffer`], [`staging_buffer`]) and read
//! results back ([`read_back`], blocking, through a `MAP_READ` staging buffer), so every GPU
//! crate maps buffers the same way.
//!
//! This crate does no file I/O and no computation.
//!
//! ```no_run
//! let ctx = aquamvs_gpu::GpuContext::new(&aquamvs_gpu::GpuOptions::default()).unwrap();
//! println!("{} ({})", ctx.adapter_name(), ctx.backend_name());
//! ```

use std::fmt;
use std::io::Write as _;
use std::sync::atomic::AtomicUsize;

mod buffers;

pub use buffers::{
    ReadBackError, empty_buffer, init_buffer, read_back, staging_buffer, storage_buffer,
    uniform_buffer,
};

/// What went wrong while looking for an adapter or a device.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No adapter matched (no Vulkan/GL driver, or `WGPU_BACKEND` excluded every one).
    #[error(
        "no GPU adapter found (backends: {backends}); install a Vulkan driver such as Debian's \
         `mesa-vulkan-drivers`, or check WGPU_BACKEND / WGPU_ADAPTER_NAME: {source}"
    )]
    NoAdapter {
        /// Backends that were searched.
        backends: String,
        /// wgpu's own reason.
        #[source]
        source: wgpu::RequestAdapterError,
    },
    /// `WGPU_ADAPTER_NAME` was set but no adapter's name contains it.
    #[error("WGPU_ADAPTER_NAME={0:?} matches no adapter (found: {1})")]
    NoNamedAdapter(String, String),
    /// The adapter refused to create a device.
    #[error("the adapter {adapter:?} could not create a device: {source}")]
    Device {
        /// Adapter name.
        adapter: String,
        /// wgpu's reason.
        #[source]
        source: wgpu::RequestDeviceError,
    },
}

/// GPU tests skipped (no adapter, outside CI) in this process.
static SKIPPED: AtomicUsize = AtomicUsize::new(0);

/// Options for [`GpuContext::new`].
#[derive(Debug, Clone, Default)]
pub struct GpuOptions {
    /// Do not request `TIMESTAMP_QUERY*` even when the adapter has them (tests the
    /// timestamp-less path of the profiler).
    pub disable_timestamps: bool,
}

/// The long-lived GPU objects: one adapter, one device, one queue.
pub struct GpuContext {
    /// The adapter the device was created from.
    pub adapter: wgpu::Adapter,
    /// The logical device.
    pub device: wgpu::Device,
    /// Its queue.
    pub queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
}

impl fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.info.name)
            .field("backend", &self.info.backend)
            .field("features", &self.device.features())
            .finish()
    }
}

impl GpuContext {
    /// Picks an adapter (environment variables honoured) and creates a device with the
    /// adapter's own limits and the optional features this workspace uses.
    pub fn new(options: &GpuOptions) -> Result<Self, GpuError> {
        pollster::block_on(Self::new_async(options))
    }

    async fn new_async(options: &GpuOptions) -> Result<Self, GpuError> {
        let desc = wgpu::InstanceDescriptor::new_without_display_handle().with_env();
        let backends = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let adapter = match std::env::var("WGPU_ADAPTER_NAME") {
            Ok(wanted) if !wanted.is_empty() => {
                let wanted_lc = wanted.to_lowercase();
                let adapters = instance.enumerate_adapters(backends).await;
                let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
                adapters
                    .into_iter()
                    .find(|a| a.get_info().name.to_lowercase().contains(&wanted_lc))
                    .ok_or_else(|| GpuError::NoNamedAdapter(wanted, names.join(", ")))?
            }
            _ => instance
                .request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::from_env()
                        .unwrap_or(wgpu::PowerPreference::HighPerformance),
                    ..Default::default()
                })
                .await
                .map_err(|source| GpuError::NoAdapter {
                    backends: format!("{backends:?}"),
                    source,
                })?,
        };
        let info = adapter.get_info();
        let mut wanted = wgpu::Features::TIMESTAMP_QUERY
            | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS
            | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES;
        if options.disable_timestamps {
            wanted = wgpu::Features::empty();
        }
        let features = adapter.features() & wanted;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("aquamvs"),
                required_features: features,
                required_limits: adapter.limits(),
                ..Default::default()
            })
            .await
            .map_err(|source| GpuError::Device {
                adapter: info.name.clone(),
                source,
            })?;
        Ok(Self {
            adapter,
            device,
            queue,
            info,
        })
    }

    /// The context tests use. Each skip prints one line to the process's stderr with the
    /// number of GPU tests skipped so far in this test binary. With `CI=true` a missing adapter is an error, so GPU tests fail
    /// rather than skip in CI; elsewhere `Ok(None)` lets a machine without Vulkan run the rest.
    pub fn for_tests(options: &GpuOptions) -> Result<Option<Self>, GpuError> {
        match Self::new(options) {
            Ok(ctx) => Ok(Some(ctx)),
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => Err(e),
            Err(e) => {
                // Straight to the process's stderr: the test harness captures `eprintln!` of
                // passing tests, and a skipped GPU test must be visible.
                let n = SKIPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "GPU tests skipped in this test binary: {n} (no GPU adapter: {e}; install \
                     mesa-vulkan-drivers for llvmpipe; with CI=true they fail instead)"
                );
                Ok(None)
            }
        }
    }

    /// wgpu's description of the adapter.
    pub fn info(&self) -> &wgpu::AdapterInfo {
        &self.info
    }

    /// Whether the adapter is a software rasteriser on the CPU (llvmpipe / lavapipe, WARP).
    pub fn is_software(&self) -> bool {
        self.info.device_type == wgpu::DeviceType::Cpu
    }

    /// Adapter name as the driver reports it (e.g. "llvmpipe (LLVM 15.0.6, 256 bits)").
    pub fn adapter_name(&self) -> &str {
        &self.info.name
    }

    /// Backend name in lower case ("vulkan", "gl", …).
    pub fn backend_name(&self) -> String {
        format!("{:?}", self.info.backend).to_lowercase()
    }

    /// Whether GPU timestamps can be written at pass boundaries.
    pub fn has_timestamps(&self) -> bool {
        self.device
            .features()
            .contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    /// Largest storage buffer binding, in bytes.
    pub fn max_storage_binding(&self) -> u64 {
        self.device.limits().max_storage_buffer_binding_size
    }
}

/// Blocks until all submitted work has finished.
pub fn wait_idle(device: &wgpu::Device) {
    // An error here means the device was lost; the next call reports it.
    let _ = device.poll(wgpu::PollType::Wait {
        submission_index: None,
        timeout: None,
    });
}
