//! Stage 1, undistortion: remap a lens-distorted recording to the pinhole model of its camera.

use aquamvs_camera::{Camera, Distortion};
use aquamvs_gpu::{empty_buffer, read_back, staging_buffer, storage_buffer, uniform_buffer};
use bytemuck::{Pod, Zeroable};

use crate::PipelineError;

/// Uniforms of `undistort.wgsl` (20 scalars, 80 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
struct Params {
    fx: f32,
    fy: f32,
    cx: f32,
    cy: f32,
    skew: f32,
    model: f32,
    width: u32,
    height: u32,
    c0: [f32; 4],
    c1: [f32; 4],
    fill: f32,
    _pad: [u32; 3],
}

/// Checks the image size against the camera.
fn check_image(camera: &Camera<f64>, image: &[f32]) -> Result<(), PipelineError> {
    let n = camera.width as usize * camera.height as usize;
    if image.len() != n {
        return Err(PipelineError::ImageSize {
            camera: camera.name.clone(),
            expected: n,
            got: image.len(),
        });
    }
    Ok(())
}

/// Bilinear sample of a `width × height` row-major image at `(u, v)`; `None` outside
/// `[0, width-1] × [0, height-1]` (pixel centres at integer coordinates).
pub fn sample_bilinear(image: &[f32], width: u32, height: u32, u: f64, v: f64) -> Option<f32> {
    let (w_max, h_max) = (f64::from(width - 1), f64::from(height - 1));
    let eps = 1e-3;
    if !(u >= -eps && v >= -eps && u <= w_max + eps && v <= h_max + eps) {
        return None;
    }
    let (u, v) = (u.clamp(0.0, w_max), v.clamp(0.0, h_max));
    let (x0, y0) = (u.floor() as usize, v.floor() as usize);
    let x1 = (x0 + 1).min(width as usize - 1);
    let y1 = (y0 + 1).min(height as usize - 1);
    let (ax, ay) = ((u - x0 as f64) as f32, (v - y0 as f64) as f32);
    let w = width as usize;
    let at = |x: usize, y: usize| image[y * w + x];
    let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * ax;
    let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * ax;
    Some(top + (bottom - top) * ay)
}

/// CPU reference of [`GpuUndistort::run`]: for each undistorted pixel, `distort_pixel` (f64)
/// and a bilinear sample of the recording; `fill` where that falls outside it. A camera
/// without distortion returns a copy.
pub fn undistort_cpu(
    camera: &Camera<f64>,
    image: &[f32],
    fill: f32,
) -> Result<Vec<f32>, PipelineError> {
    check_image(camera, image)?;
    if camera.distortion.is_none_or(|d| d.is_identity()) {
        return Ok(image.to_vec());
    }
    let (w, h) = (camera.width, camera.height);
    let mut out = vec![fill; image.len()];
    use rayon::prelude::*;
    out.par_chunks_mut(w as usize)
        .enumerate()
        .for_each(|(v, row)| {
            for (u, px) in row.iter_mut().enumerate() {
                let (ud, vd) = camera.distort_pixel(u as f64, v as f64);
                if let Some(s) = sample_bilinear(image, w, h, ud, vd) {
                    *px = s;
                }
            }
        });
    Ok(out)
}

/// The undistortion compute pipeline (one WGSL entry point, `undistort.wgsl`), built once and
/// reused for every view.
#[derive(Debug)]
pub struct GpuUndistort {
    pipeline: wgpu::ComputePipeline,
}

impl GpuUndistort {
    /// Compiles the shader and builds the pipeline.
    pub fn new(device: &wgpu::Device) -> Result<Self, PipelineError> {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let source = [aquamvs_camera::LENS_WGSL, include_str!("undistort.wgsl")].join("\n");
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("undistort.wgsl"),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some("undistort"),
            layout: None,
            module: &module,
            entry_point: Some("main"),
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(PipelineError::Gpu(format!("undistort pipeline: {e}")));
        }
        Ok(Self { pipeline })
    }

    /// Remaps `image` (the recording of `camera`, distorted by `camera.distortion`) to the
    /// pinhole model of `camera.k`: bilinear, in f32, `fill` where an output pixel maps
    /// outside the recording. A camera without distortion returns a copy (no GPU work).
    pub fn run(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        camera: &Camera<f64>,
        image: &[f32],
        fill: f32,
    ) -> Result<Vec<f32>, PipelineError> {
        check_image(camera, image)?;
        let Some(d) = camera.distortion.filter(|d| !d.is_identity()) else {
            return Ok(image.to_vec());
        };
        let bytes = std::mem::size_of_val(image) as u64;
        let limit = device.limits().max_storage_buffer_binding_size;
        if bytes > limit {
            return Err(PipelineError::Gpu(format!(
                "image of {bytes} bytes exceeds the device's storage binding limit of {limit}"
            )));
        }
        let k = &camera.k;
        let (model, c0, c1) = Distortion::shader_form(Some(&d));
        let params = Params {
            fx: k[(0, 0)] as f32,
            fy: k[(1, 1)] as f32,
            cx: k[(0, 2)] as f32,
            cy: k[(1, 2)] as f32,
            skew: k[(0, 1)] as f32,
            model,
            width: camera.width,
            height: camera.height,
            c0,
            c1,
            fill,
            _pad: [0; 3],
        };
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let uniform = uniform_buffer(device, "undistort params", &params);
        let src = storage_buffer(device, "undistort recorded", image);
        let dst = empty_buffer(
            device,
            "undistort output",
            bytes,
            wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        );
        let staging = staging_buffer(device, "undistort read-back", bytes);
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("undistort"),
            layout: &self.pipeline.get_bind_group_layout(0),
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniform.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: src.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: dst.as_entire_binding(),
                },
            ],
        });
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("undistort"),
        });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("undistort"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&self.pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(camera.width.div_ceil(16), camera.height.div_ceil(16), 1);
        }
        encoder.copy_buffer_to_buffer(&dst, 0, &staging, 0, bytes);
        queue.submit([encoder.finish()]);
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(PipelineError::Gpu(format!("undistort: {e}")));
        }
        read_back(device, &staging, image.len())
            .map_err(|e| PipelineError::Gpu(format!("undistort read-back: {e}")))
    }
}

/// One-shot [`GpuUndistort`] for every camera of a set of views; cameras without distortion
/// are copied through.
pub fn undistort_views(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    cameras: &[Camera<f64>],
    images: &[Vec<f32>],
    fill: f32,
) -> Result<Vec<Vec<f32>>, PipelineError> {
    if cameras.len() != images.len() {
        return Err(PipelineError::Input(format!(
            "{} cameras but {} images",
            cameras.len(),
            images.len()
        )));
    }
    let gpu = GpuUndistort::new(device)?;
    cameras
        .iter()
        .zip(images)
        .map(|(c, im)| gpu.run(device, queue, c, im, fill))
        .collect()
}
