//! A tiny synthetic scene for the sweep tests: a textured flat plane seen by the reference rig,
//! rendered here through the refractive camera rays (2×2 supersampled).

#![allow(dead_code)]

use aquamvs_camera::{Camera, Rig};

/// Plane depth of the test scene (the reference rig's patch), metres.
pub const PLANE_Z: f64 = 1.178;

/// Smooth, non-periodic-looking grey texture on the plane, values in [0.1, 0.9].
pub fn texture(x: f64, y: f64) -> f64 {
    use std::f64::consts::TAU;
    let v = 0.22 * (TAU * x / 0.071 + 0.4).sin() * (TAU * y / 0.093 + 1.1).cos()
        + 0.12 * (TAU * (0.8 * x + 0.6 * y) / 0.052).sin()
        + 0.06 * (TAU * (-0.3 * x + 0.95 * y) / 0.037 + 2.0).sin();
    0.5 + v
}

/// Renders the plane Z = `z` for `cam` (mean of 2×2 sub-pixel rays; recorded pixels are
/// undistorted first when the camera has distortion); 0.5 where no ray.
pub fn render_plane(cam: &Camera<f64>, z: f64) -> Vec<f32> {
    let (w, h) = (cam.width as usize, cam.height as usize);
    let mut img = vec![0.5f32; w * h];
    for v in 0..h {
        for u in 0..w {
            let mut acc = 0.0;
            let mut n = 0;
            for (du, dv) in [(-0.25, -0.25), (0.25, -0.25), (-0.25, 0.25), (0.25, 0.25)] {
                let (x, y) = cam.undistort_pixel(u as f64 + du, v as f64 + dv);
                if let Some(ray) = cam.cast_ray(x, y) {
                    let d = (z - ray.origin.z) / ray.direction.z;
                    let p = ray.at(d);
                    acc += texture(p.x, p.y);
                    n += 1;
                }
            }
            if n > 0 {
                img[v * w + u] = (acc / n as f64) as f32;
            }
        }
    }
    img
}

/// True ray depth of the plane for every pixel of `cam` (NaN without a ray).
pub fn plane_depth(cam: &Camera<f64>, z: f64) -> Vec<f32> {
    let (w, h) = (cam.width as usize, cam.height as usize);
    let mut out = vec![f32::NAN; w * h];
    for v in 0..h {
        for u in 0..w {
            let (x, y) = cam.undistort_pixel(u as f64, v as f64);
            if let Some(ray) = cam.cast_ray(x, y) {
                out[v * w + u] = ((z - ray.origin.z) / ray.direction.z) as f32;
            }
        }
    }
    out
}

/// The reference rig at `w × h`, its images of the plane, and cam00's true depth.
pub struct PlaneScene {
    pub rig: Rig,
    pub images: Vec<Vec<f32>>,
    pub truth: Vec<f32>,
    pub sources: Vec<usize>,
}

pub fn plane_scene(w: u32, h: u32, n_sources: usize) -> PlaneScene {
    plane_scene_of(Rig::reference(w, h).unwrap(), n_sources)
}

/// The same for a given rig.
pub fn plane_scene_of(rig: Rig, n_sources: usize) -> PlaneScene {
    let images = rig
        .cameras
        .iter()
        .map(|c| render_plane(c, PLANE_Z))
        .collect();
    let truth = plane_depth(&rig.cameras[0], PLANE_Z);
    let sources = rig.sources(0, n_sources);
    PlaneScene {
        rig,
        images,
        truth,
        sources,
    }
}

impl PlaneScene {
    pub fn reference(&self) -> aquamvs_sweep::View<'_> {
        aquamvs_sweep::View {
            camera: &self.rig.cameras[0],
            image: &self.images[0],
        }
    }
    pub fn source_views(&self) -> Vec<aquamvs_sweep::View<'_>> {
        self.sources
            .iter()
            .map(|&i| aquamvs_sweep::View {
                camera: &self.rig.cameras[i],
                image: &self.images[i],
            })
            .collect()
    }
}

/// The GPU context for tests: `None` without an adapter locally; an error (test fails) in CI.
pub fn gpu() -> Option<aquamvs_gpu::GpuContext> {
    aquamvs_gpu::GpuContext::for_tests(&aquamvs_gpu::GpuOptions::default())
        .expect("no GPU adapter (CI=true: GPU tests must not be skipped)")
}

/// Median of the finite values (the workspace's one median, `aquamvs_metrics::median`); NaN
/// when there is none.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    aquamvs_metrics::median(&v).unwrap_or(f64::NAN)
}
