//! Rendering the textured scene through a refractive camera.

use aquamvs_camera::{Camera, Distortion, Ray};
use nalgebra::Vector3;
use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use crate::Scene;

/// How to render an image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderOptions {
    /// Anti-aliasing cap: each pixel averages up to `supersample × supersample` sub-samples
    /// on a regular grid over its area, fewer where the pixel's footprint on the surface is
    /// small (see [`render`]); 1 = one ray through the pixel centre; 0 is treated as 1.
    pub supersample: u32,
    /// Standard deviation of additive Gaussian sensor noise, grey levels (0 = none).
    pub noise_sigma: f64,
    /// Seed of the sensor noise.
    pub seed: u64,
    /// Lens distortion of the rendered (recorded) image; `None` uses the camera's own
    /// (`cam.distortion`, usually none). Each recorded pixel is undistorted, then cast.
    pub distortion: Option<Distortion>,
}

impl Default for RenderOptions {
    /// Up to 3×3 sub-samples per pixel, no noise, no extra distortion.
    fn default() -> Self {
        Self {
            supersample: 3,
            noise_sigma: 0.0,
            seed: 0,
            distortion: None,
        }
    }
}

/// Renders `scene` as seen by `cam`: row-major `H×W` grey values in **[0, 1]**.
///
/// A sub-sample at recorded-image position `(u, v)` (pixel centres at integer coordinates,
/// the pixel covering `±0.5`) is undistorted, cast through the water surface, intersected
/// exactly with the surface and shaded with [`Scene::albedo`] at the hit's `(x, y)`; rays that miss
/// count as black. Each pixel averages `n×n` sub-samples on a regular grid over its area,
/// **adaptively**: `n` is the smallest number that spaces the sub-samples at most 0.5 mm
/// apart on the surface (a quarter of the finest texture cell), capped at
/// `opts.supersample`; pixels whose footprint is unknown (a miss nearby) use the cap.
///
/// For speed, only pixel centres are intersected exactly; the other sub-samples take their
/// surface point from the biquadratic interpolant of the 3×3 neighbouring centre hits where
/// its points at the pixel's four corners lie within 10 µm of the corner rays and of the
/// surface; any other pixel (an occlusion edge, a fold, a grazing view, a miss, a pixel too
/// coarse for the surface's curvature) has every sub-sample cast exactly. [`render_exact`] casts every sub-sample and is the
/// reference this is tested against. Noise, if any, is added after averaging, seeded and
/// independent of thread scheduling, and the result clamped to [0, 1].
pub fn render(scene: &Scene, cam: &Camera<f64>, opts: &RenderOptions) -> Vec<f32> {
    render_with_depth(scene, cam, opts).0
}

/// [`render`] and the ground-truth ray-depth map of the same (recording) camera in one pass:
/// `(image, depth)`, both row-major `H×W`; the depth equals [`Scene::depth_map`] of `cam`
/// with `opts.distortion` applied, and costs nothing extra (the renderer casts the pixel
/// centres anyway).
pub fn render_with_depth(
    scene: &Scene,
    cam: &Camera<f64>,
    opts: &RenderOptions,
) -> (Vec<f32>, Vec<f32>) {
    let cam = &recording_camera(cam, opts);
    let w = cam.width as usize;
    let h = cam.height as usize;
    let s_max = opts.supersample.max(1);
    // Exact surface points (and ray depths) at the pixel centres of a grid one pixel wider
    // on every side; the rays through the pixel corners check the interpolant.
    let grid = CentreGrid::new(scene, cam);
    let corner_rays = |v: usize, j: usize| -> Vec<Option<Ray<f64>>> {
        (0..=w)
            .map(|i| {
                let (uu, vv) = cam.undistort_pixel(i as f64 - 0.5, (v + j) as f64 - 0.5);
                cam.cast_ray(uu, vv)
            })
            .collect()
    };
    let mut out = vec![0.0f32; w * h];
    let mut depth = vec![f32::NAN; w * h];
    out.par_chunks_mut(w)
        .zip(depth.par_chunks_mut(w))
        .enumerate()
        .for_each(|(v, (row, drow))| {
            let rays = if s_max > 1 {
                [corner_rays(v, 0), corner_rays(v, 1)]
            } else {
                [Vec::new(), Vec::new()]
            };
            for u in 0..w {
                let c = grid.at(u, v, 0, 0);
                drow[u] = c[3] as f32;
                let fit = grid.fit(u, v);
                let n = subsamples(fit.as_ref(), s_max);
                let offsets = offsets(n);
                let sub = offsets
                    .iter()
                    .flat_map(|&dv| offsets.iter().map(move |&du| (du, dv)));
                let acc: f64 = if n == 1 {
                    if c[0].is_finite() {
                        scene.albedo(c[0], c[1])
                    } else {
                        0.0
                    }
                } else {
                    let ray = |i: usize, j: usize| rays[j][u + i];
                    match fit.filter(|q| q.agrees_with_corner_rays(scene, ray)) {
                        Some(q) => sub
                            .map(|(du, dv)| {
                                let p = q.at(du, dv);
                                scene.albedo(p.x, p.y)
                            })
                            .sum(),
                        None => sub
                            .map(|(du, dv)| shade(scene, cam, u as f64 + du, v as f64 + dv))
                            .sum(),
                    }
                };
                row[u] = (acc / (n * n) as f64) as f32;
            }
        });
    add_noise(&mut out, opts);
    (out, depth)
}

/// [`render`] with **every** sub-sample cast exactly (the same adaptive `n` per pixel): the
/// slow reference renderer.
pub fn render_exact(scene: &Scene, cam: &Camera<f64>, opts: &RenderOptions) -> Vec<f32> {
    let cam = &recording_camera(cam, opts);
    let w = cam.width as usize;
    let s_max = opts.supersample.max(1);
    let grid = CentreGrid::new(scene, cam);
    let mut out = vec![0.0f32; w * cam.height as usize];
    out.par_chunks_mut(w).enumerate().for_each(|(v, row)| {
        for (u, px) in row.iter_mut().enumerate() {
            let n = subsamples(grid.fit(u, v).as_ref(), s_max);
            let offsets = offsets(n);
            let mut acc = 0.0;
            for &dv in &offsets {
                for &du in &offsets {
                    acc += shade(scene, cam, u as f64 + du, v as f64 + dv);
                }
            }
            *px = (acc / (n * n) as f64) as f32;
        }
    });
    add_noise(&mut out, opts);
    out
}

/// Largest spacing of sub-samples on the surface, metres: a quarter of the finest texture
/// cell (2 mm).
pub const MAX_SUBSAMPLE_SPACING: f64 = 0.5e-3;

/// Sub-samples per pixel side: enough to space them ≤ [`MAX_SUBSAMPLE_SPACING`] on the
/// surface, at most `s_max`; `s_max` where the footprint is unknown.
fn subsamples(fit: Option<&Biquadratic>, s_max: u32) -> u32 {
    match fit {
        Some(q) => {
            let footprint = q.du.norm().max(q.dv.norm());
            let n = (footprint / MAX_SUBSAMPLE_SPACING).ceil();
            if n.is_finite() {
                (n.max(1.0) as u32).min(s_max)
            } else {
                s_max
            }
        }
        None => s_max,
    }
}

/// Exact surface points and ray depths `[x, y, z, depth]` at the pixel centres of a grid
/// one pixel wider than the image on every side (NaN where the ray misses).
struct CentreGrid {
    points: Vec<[f64; 4]>,
    gw: usize,
}

impl CentreGrid {
    fn new(scene: &Scene, cam: &Camera<f64>) -> Self {
        let gw = cam.width as usize + 2;
        let gh = cam.height as usize + 2;
        Self {
            points: exact_grid(scene, cam, gw, gh, -1.0),
            gw,
        }
    }

    /// The centre of pixel `(u + du, v + dv)`, `du, dv ∈ {-1, 0, 1}`.
    fn at(&self, u: usize, v: usize, du: isize, dv: isize) -> [f64; 4] {
        let gu = (u as isize + 1 + du) as usize;
        let gv = (v as isize + 1 + dv) as usize;
        self.points[gv * self.gw + gu]
    }

    fn fit(&self, u: usize, v: usize) -> Option<Biquadratic> {
        Biquadratic::fit(|du, dv| {
            let p = self.at(u, v, du, dv);
            Vector3::new(p[0], p[1], p[2])
        })
    }
}

/// The camera with the recorded image's distortion.
fn recording_camera(cam: &Camera<f64>, opts: &RenderOptions) -> Camera<f64> {
    let mut c = cam.clone();
    if opts.distortion.is_some() {
        c.distortion = opts.distortion;
    }
    c
}

/// Sub-sample offsets from the pixel centre along one axis: the centres of `s` equal cells.
fn offsets(s: u32) -> Vec<f64> {
    (0..s).map(|i| (i as f64 + 0.5) / s as f64 - 0.5).collect()
}

fn add_noise(out: &mut [f32], opts: &RenderOptions) {
    if opts.noise_sigma > 0.0 && opts.noise_sigma.is_finite() {
        let mut rng = StdRng::seed_from_u64(opts.seed);
        if let Ok(normal) = Normal::new(0.0, opts.noise_sigma) {
            for px in out {
                *px = (*px as f64 + normal.sample(&mut rng)).clamp(0.0, 1.0) as f32;
            }
        }
    }
}

/// Exact surface points and ray depths `[x, y, z, depth]` on a `gw × gh` grid of
/// recorded-image positions starting at `(origin, origin)` with unit spacing; NaN where the
/// ray misses.
fn exact_grid(
    scene: &Scene,
    cam: &Camera<f64>,
    gw: usize,
    gh: usize,
    origin: f64,
) -> Vec<[f64; 4]> {
    let mut grid = vec![[f64::NAN; 4]; gw * gh];
    grid.par_chunks_mut(gw).enumerate().for_each(|(gv, row)| {
        for (gu, p) in row.iter_mut().enumerate() {
            if let Some(q) = surface_point(scene, cam, gu as f64 + origin, gv as f64 + origin) {
                *p = q;
            }
        }
    });
    grid
}

/// The surface point and ray depth `[x, y, z, depth]` seen at recorded-image position
/// `(u, v)`, if any.
fn surface_point(scene: &Scene, cam: &Camera<f64>, u: f64, v: f64) -> Option<[f64; 4]> {
    let (uu, vv) = cam.undistort_pixel(u, v);
    let ray = cam.cast_ray(uu, vv)?;
    let t = scene.intersect(&ray)?;
    let p = ray.at(t);
    Some([p.x, p.y, p.z, t])
}

/// Grey value of one recorded-image sample; 0 where the ray misses.
fn shade(scene: &Scene, cam: &Camera<f64>, u: f64, v: f64) -> f64 {
    surface_point(scene, cam, u, v).map_or(0.0, |p| scene.albedo(p[0], p[1]))
}

/// Largest distance (metres) of an interpolated pixel-corner point from its ray and from the
/// surface for the interpolant to be used: 10 µm, 1/200 of the finest texture cell, which
/// moves a grey value by ~0.003 at most (under one 8-bit level).
const INTERPOLATION_TOLERANCE: f64 = 1e-5;

/// The 9-point (tensor-product quadratic) interpolant of the surface point around a pixel
/// centre, in pixel offsets `(du, dv)`.
struct Biquadratic {
    p: Vector3<f64>,
    du: Vector3<f64>,
    dv: Vector3<f64>,
    duu: Vector3<f64>,
    dvv: Vector3<f64>,
    duv: Vector3<f64>,
}

impl Biquadratic {
    /// Fits it from the neighbouring centre points `at(du, dv)`, `du, dv ∈ {-1, 0, 1}`;
    /// `None` when one is missing.
    fn fit(at: impl Fn(isize, isize) -> Vector3<f64>) -> Option<Self> {
        let mut n = [[Vector3::zeros(); 3]; 3];
        for (j, row) in n.iter_mut().enumerate() {
            for (i, p) in row.iter_mut().enumerate() {
                *p = at(i as isize - 1, j as isize - 1);
                if !p.x.is_finite() {
                    return None;
                }
            }
        }
        let p = n[1][1];
        let du = (n[1][2] - n[1][0]) * 0.5;
        let dv = (n[2][1] - n[0][1]) * 0.5;
        let duu = n[1][2] - 2.0 * p + n[1][0];
        let dvv = n[2][1] - 2.0 * p + n[0][1];
        let duv = (n[2][2] - n[2][0] - n[0][2] + n[0][0]) * 0.25;
        Some(Self {
            p,
            du,
            dv,
            duu,
            dvv,
            duv,
        })
    }

    /// Whether the interpolant's points at the pixel corners `(±½, ±½)` lie on the rays
    /// through those corners, in front of the water surface, and on the surface, each within
    /// [`INTERPOLATION_TOLERANCE`] (the surface residual measured along the ray). The
    /// sub-samples lie inside the corners. Fails at occlusion edges, folds, grazing views,
    /// misses and where the pixel is too coarse for the surface's curvature.
    fn agrees_with_corner_rays(
        &self,
        scene: &Scene,
        ray: impl Fn(usize, usize) -> Option<Ray<f64>>,
    ) -> bool {
        (0..2).all(|j| {
            (0..2).all(|i| {
                let Some(r) = ray(i, j) else {
                    return false;
                };
                let p = self.at(i as f64 - 0.5, j as f64 - 0.5);
                let w = p - r.origin.coords;
                let along = w.dot(&r.direction);
                let off_ray = (w - r.direction * along).norm();
                let (hz, hx, hy) = scene.height_gradient(p.x, p.y);
                // f(t) = z − h along the ray and its slope there.
                let f = p.z - hz;
                let df = r.direction.z - hx * r.direction.x - hy * r.direction.y;
                // NaN fails every comparison.
                along > 0.0
                    && off_ray <= INTERPOLATION_TOLERANCE
                    && df > 0.0
                    && f.abs() <= INTERPOLATION_TOLERANCE * df
            })
        })
    }

    fn at(&self, u: f64, v: f64) -> Vector3<f64> {
        self.p
            + self.du * u
            + self.dv * v
            + self.duu * (0.5 * u * u)
            + self.dvv * (0.5 * v * v)
            + self.duv * (u * v)
    }
}
