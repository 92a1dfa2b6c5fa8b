//! Shader sources and pipelines: the prelude `params.wgsl` joined before each shader, the NCC
//! shader specialised per window (window fixed, marked loops unrolled), bind group layouts and
//! compute pipelines.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use super::abi::{BatchU, PAD_LEFT, STRIP};
use super::scoped;
use crate::SweepError;

/// `warp.wgsl` as compiled: after the prelude, the lens models and the refractive projection
/// ([`aquamvs_camera::LENS_WGSL`], [`aquamvs_camera::REFRACT_WGSL`]).
pub(super) static WARP_WGSL: LazyLock<String> = LazyLock::new(|| {
    [
        include_str!("params.wgsl"),
        aquamvs_camera::LENS_WGSL,
        aquamvs_camera::REFRACT_WGSL,
        include_str!("warp.wgsl"),
    ]
    .join("\n")
});
/// `cost.wgsl` as compiled: after the prelude.
pub(super) const COST_WGSL: &str =
    concat!(include_str!("params.wgsl"), "\n", include_str!("cost.wgsl"));
/// `ncc.wgsl` after the prelude, before specialisation ([`ncc_source`]).
const NCC_WGSL: &str = concat!(include_str!("params.wgsl"), "\n", include_str!("ncc.wgsl"));

/// `ncc.wgsl` (after the prelude) for one window size: the window fixed and the marked loops
/// unrolled.
pub(super) fn ncc_source(window: u32) -> Result<String, SweepError> {
    let taps = STRIP + window - 1;
    let off = (PAD_LEFT - window / 2) % 4;
    let consts = [
        ("K", STRIP),
        ("WIN", window),
        ("TAPS", taps),
        ("OFF", off),
        ("NQ", (off + taps).div_ceil(4)),
    ];
    let fixed = crate::unroll::fix_overrides(NCC_WGSL, &consts);
    crate::unroll::unroll(&fixed, &consts)
        .map_err(|e| SweepError::Gpu(format!("preparing ncc.wgsl: {e}")))
}

/// A shader module from WGSL source.
pub(super) fn module(device: &wgpu::Device, label: &str, source: &str) -> wgpu::ShaderModule {
    device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(label),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    })
}

/// What a binding of a bind group layout holds.
#[derive(Debug, Clone, Copy)]
pub(super) enum Slot {
    Uniform,
    /// A uniform bound at a dynamic offset (the batch uniforms).
    UniformDynamic,
    Read,
    ReadWrite,
}

/// A compute bind group layout with the given `(binding, slot)` entries.
pub(super) fn layout(
    device: &wgpu::Device,
    label: &str,
    slots: &[(u32, Slot)],
) -> wgpu::BindGroupLayout {
    let entries: Vec<wgpu::BindGroupLayoutEntry> = slots
        .iter()
        .map(|&(binding, slot)| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: match slot {
                    Slot::Uniform | Slot::UniformDynamic => wgpu::BufferBindingType::Uniform,
                    Slot::Read => wgpu::BufferBindingType::Storage { read_only: true },
                    Slot::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                },
                has_dynamic_offset: matches!(slot, Slot::UniformDynamic),
                min_binding_size: None,
            },
            count: None,
        })
        .collect();
    device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some(label),
        entries: &entries,
    })
}

/// A bind group of `layout` with the given `(binding, resource)` entries.
pub(super) fn bind(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
    entries: &[(u32, wgpu::BindingResource)],
) -> wgpu::BindGroup {
    let entries: Vec<wgpu::BindGroupEntry> = entries
        .iter()
        .map(|(binding, resource)| wgpu::BindGroupEntry {
            binding: *binding,
            resource: resource.clone(),
        })
        .collect();
    device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout,
        entries: &entries,
    })
}

/// The whole buffer as a binding.
pub(super) fn whole(b: &wgpu::Buffer) -> wgpu::BindingResource<'_> {
    b.as_entire_binding()
}

/// The batch uniforms are bound with a dynamic offset: only one [`BatchU`].
pub(super) fn batch_binding(buf: &wgpu::Buffer) -> wgpu::BindingResource<'_> {
    wgpu::BindingResource::Buffer(wgpu::BufferBinding {
        buffer: buf,
        offset: 0,
        size: wgpu::BufferSize::new(std::mem::size_of::<BatchU>() as u64),
    })
}

/// A pipeline layout of one bind group.
pub(super) fn pipeline_layout(
    device: &wgpu::Device,
    layout: &wgpu::BindGroupLayout,
) -> wgpu::PipelineLayout {
    device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: None,
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    })
}

/// The compute pipeline of entry point `entry` of `module`.
pub(super) fn compute_pipeline(
    device: &wgpu::Device,
    layout: &wgpu::PipelineLayout,
    module: &wgpu::ShaderModule,
    entry: &str,
) -> wgpu::ComputePipeline {
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(entry),
        layout: Some(layout),
        module,
        entry_point: Some(entry),
        compilation_options: Default::default(),
        cache: None,
    })
}

/// The sweep's bind group layouts and pipelines, built once per device; the NCC pipeline once
/// per window size.
#[derive(Debug)]
pub(super) struct Pipelines {
    pub(super) warp_layout: wgpu::BindGroupLayout,
    pub(super) ncc_layout: wgpu::BindGroupLayout,
    pub(super) wta_layout: wgpu::BindGroupLayout,
    pub(super) finalize_layout: wgpu::BindGroupLayout,
    ncc_pipeline_layout: wgpu::PipelineLayout,
    pub(super) warp: wgpu::ComputePipeline,
    pub(super) wta: wgpu::ComputePipeline,
    pub(super) finalize: wgpu::ComputePipeline,
    /// NCC pipelines by window size (the window is compiled in, its loops unrolled).
    ncc: Mutex<HashMap<u32, wgpu::ComputePipeline>>,
}

impl Pipelines {
    /// Compiles `warp.wgsl` and `cost.wgsl` and builds their pipelines (call it inside an
    /// error scope: wgpu reports shader errors there).
    pub(super) fn new(device: &wgpu::Device) -> Self {
        use Slot::*;
        let warp_module = module(device, "warp.wgsl", &WARP_WGSL);
        let cost_module = module(device, "cost.wgsl", COST_WGSL);
        let warp_layout = layout(
            device,
            "sweep warp",
            &[
                (0, Uniform),
                (1, UniformDynamic),
                (2, Read),
                (3, Read),
                (4, Read),
                (5, ReadWrite),
                (6, Read),
            ],
        );
        let ncc_layout = layout(
            device,
            "sweep ncc",
            &[(0, Uniform), (1, UniformDynamic), (3, Read), (8, ReadWrite)],
        );
        let wta_layout = layout(
            device,
            "sweep wta",
            &[
                (0, Uniform),
                (1, UniformDynamic),
                (4, ReadWrite),
                (5, ReadWrite),
                (8, ReadWrite),
            ],
        );
        let finalize_layout = layout(
            device,
            "sweep finalize",
            &[(0, Uniform), (2, Read), (4, ReadWrite), (6, ReadWrite)],
        );
        let pipeline = |bgl: &wgpu::BindGroupLayout, module: &wgpu::ShaderModule, entry: &str| {
            compute_pipeline(device, &pipeline_layout(device, bgl), module, entry)
        };
        Self {
            warp: pipeline(&warp_layout, &warp_module, "warp"),
            wta: pipeline(&wta_layout, &cost_module, "wta"),
            finalize: pipeline(&finalize_layout, &cost_module, "finalize"),
            ncc_pipeline_layout: pipeline_layout(device, &ncc_layout),
            warp_layout,
            ncc_layout,
            wta_layout,
            finalize_layout,
            ncc: Mutex::new(HashMap::new()),
        }
    }

    /// The NCC pipeline for `window`, compiled on first use.
    pub(super) fn ncc(
        &self,
        device: &wgpu::Device,
        window: u32,
    ) -> Result<wgpu::ComputePipeline, SweepError> {
        let mut cache = self
            .ncc
            .lock()
            .map_err(|_| SweepError::Gpu("pipeline cache poisoned".into()))?;
        if let Some(p) = cache.get(&window) {
            return Ok(p.clone());
        }
        let source = ncc_source(window)?;
        let p = scoped(device, || {
            let module = module(device, "ncc.wgsl", &source);
            Ok(compute_pipeline(
                device,
                &self.ncc_pipeline_layout,
                &module,
                "ncc",
            ))
        })?;
        cache.insert(window, p.clone());
        Ok(p)
    }
}
