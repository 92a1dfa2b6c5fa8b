//! [`BusyKernel`]: a real, deliberately long compute kernel (`busy_loop.wgsl`) for checking the
//! profiler's GPU times against wall time and measuring its overhead. Not a stand-in for any
//! pipeline stage: it exists to validate the instrument.

use std::time::{Duration, Instant};

/// Invocations per dispatch (64 workgroups of 64).
pub const BUSY_INVOCATIONS: u32 = 64 * 64;

/// An integer-hash loop over [`BUSY_INVOCATIONS`] invocations, `iterations` steps each.
#[derive(Debug)]
pub struct BusyKernel {
    pipeline: wgpu::ComputePipeline,
    params: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

impl BusyKernel {
    /// Compiles the kernel and allocates its two small buffers.
    pub fn new(device: &wgpu::Device) -> Self {
        let module = device.create_shader_module(wgpu::include_wgsl!("busy_loop.wgsl"));
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("busy_loop"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("busy_loop params"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let out = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("busy_loop out"),
            size: u64::from(BUSY_INVOCATIONS) * 4,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("busy_loop"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: params.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: out.as_entire_binding(),
                },
            ],
        });
        Self {
            pipeline,
            params,
            bind_group,
        }
    }

    /// Submits one dispatch of `iterations` steps per invocation (does not wait).
    pub fn submit(&self, device: &wgpu::Device, queue: &wgpu::Queue, iterations: u32) {
        self.submit_with_timestamps(device, queue, iterations, None);
    }

    /// [`submit`](Self::submit) with the pass's `timestamp_writes` (for example from
    /// [`crate::PassTimestamps::compute_pass_timestamp_writes`]).
    pub fn submit_with_timestamps(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        iterations: u32,
        timestamp_writes: Option<wgpu::ComputePassTimestampWrites<'_>>,
    ) {
        let mut p = [0u8; 16];
        p[..4].copy_from_slice(&iterations.to_le_bytes());
        queue.write_buffer(&self.params, 0, &p);
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("busy_loop"),
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("busy_loop"),
                timestamp_writes,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &self.bind_group, &[]);
            pass.dispatch_workgroups(BUSY_INVOCATIONS / 64, 1, 1);
        }
        queue.submit([encoder.finish()]);
    }

    /// Submits one dispatch and waits for it: the wall time of a synchronous GPU stage.
    pub fn run(&self, device: &wgpu::Device, queue: &wgpu::Queue, iterations: u32) -> Duration {
        let t = Instant::now();
        self.submit(device, queue, iterations);
        aquamvs_gpu::wait_idle(device);
        t.elapsed()
    }

    /// Iterations for a dispatch of about `target` wall time on this device, from timed runs
    /// that grow until one takes at least 20 ms, then scaled linearly from the faster of two
    /// runs at that size (a run slowed by a busy machine would overshoot the target less).
    pub fn iterations_for(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        target: Duration,
    ) -> u32 {
        aquamvs_gpu::wait_idle(device);
        let mut iterations: u32 = 1024;
        loop {
            let t = self.run(device, queue, iterations);
            if t >= Duration::from_millis(20) || iterations >= u32::MAX / 4 {
                let t = t.min(self.run(device, queue, iterations));
                let scaled = f64::from(iterations) * target.as_secs_f64() / t.as_secs_f64();
                return scaled.clamp(1.0, f64::from(u32::MAX)) as u32;
            }
            iterations = iterations.saturating_mul(4);
        }
    }
}
