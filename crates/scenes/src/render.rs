//! Rendering the textured scene through a refractive camera.

use aquamvs_camera::{Camera, Distortion};
use nalgebra::Vector3;
use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use crate::{Scene, texture};

/// How to render an image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderOptions {
    /// Anti-aliasing: each pixel averages `supersample × supersample` exactly cast
    /// sub-samples on a regular grid over its area (1 = one ray through the pixel centre;
    /// 0 is treated as 1).
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
    /// 3×3 supersampling, no noise, no extra distortion.
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
/// exactly with the surface and shaded with [`texture`] at the hit's `(x, y)`; rays that miss
/// count as black. Each pixel averages `s×s` sub-samples on a regular grid over its area.
///
/// For speed, only pixel centres and corners are cast exactly; the other sub-samples take
/// their surface point from the biquadratic interpolant of the 3×3 neighbouring centre hits
/// where it reproduces the pixel's four exact corner hits within 10 µm; any other pixel (an
/// occlusion edge, a fold, a miss, a pixel too coarse for the surface's curvature) has
/// every sub-sample cast exactly.
/// [`render_exact`] casts every sub-sample and is the reference this is tested against.
/// Noise, if any, is added after averaging, seeded and independent of thread scheduling,
/// and the result clamped to [0, 1].
pub fn render(scene: &Scene, cam: &Camera<f64>, opts: &RenderOptions) -> Vec<f32> {
    let cam = &recording_camera(cam, opts);
    let w = cam.width as usize;
    let h = cam.height as usize;
    let s = opts.supersample.max(1);
    let offsets = offsets(s);
    let inv = 1.0 / (s * s) as f64;
    // Exact surface points at the pixel centres of a grid one pixel wider on every side, and
    // at the pixel corners (only needed to check the interpolant when it is used).
    let gw = w + 2;
    let centres = exact_grid(scene, cam, gw, h + 2, -1.0);
    let cw = w + 1;
    let corners = if s > 1 {
        exact_grid(scene, cam, cw, h + 1, -0.5)
    } else {
        Vec::new()
    };
    let mut out = vec![0.0f32; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(v, row)| {
        for (u, px) in row.iter_mut().enumerate() {
            let exact = |du: f64, dv: f64| shade(scene, cam, u as f64 + du, v as f64 + dv);
            let sub = offsets
                .iter()
                .flat_map(|&dv| offsets.iter().map(move |&du| (du, dv)));
            let acc: f64 = if s == 1 {
                let p = centres[(v + 1) * gw + u + 1];
                if p[0].is_finite() {
                    texture(p[0], p[1])
                } else {
                    0.0
                }
            } else {
                let at = |du: isize, dv: isize| {
                    Vector3::from(
                        centres
                            [(v as isize + 1 + dv) as usize * gw + (u as isize + 1 + du) as usize],
                    )
                };
                let corner = |i: usize, j: usize| Vector3::from(corners[(v + j) * cw + u + i]);
                match Biquadratic::fit(at).filter(|q| q.agrees_with_corners(corner)) {
                    Some(q) => sub
                        .map(|(du, dv)| {
                            let p = q.at(du, dv);
                            texture(p.x, p.y)
                        })
                        .sum(),
                    None => sub.map(|(du, dv)| exact(du, dv)).sum(),
                }
            };
            *px = (acc * inv) as f32;
        }
    });
    add_noise(&mut out, opts);
    out
}

/// [`render`] with **every** sub-sample cast exactly: the slow reference renderer.
pub fn render_exact(scene: &Scene, cam: &Camera<f64>, opts: &RenderOptions) -> Vec<f32> {
    let cam = &recording_camera(cam, opts);
    let w = cam.width as usize;
    let h = cam.height as usize;
    let s = opts.supersample.max(1);
    let offsets = offsets(s);
    let inv = 1.0 / (s * s) as f64;
    let mut out = vec![0.0f32; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(v, row)| {
        for (u, px) in row.iter_mut().enumerate() {
            let mut acc = 0.0;
            for &dv in &offsets {
                for &du in &offsets {
                    acc += shade(scene, cam, u as f64 + du, v as f64 + dv);
                }
            }
            *px = (acc * inv) as f32;
        }
    });
    add_noise(&mut out, opts);
    out
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

/// Exact surface points on a `gw × gh` grid of recorded-image positions starting at
/// `(origin, origin)` with unit spacing; NaN where the ray misses.
fn exact_grid(
    scene: &Scene,
    cam: &Camera<f64>,
    gw: usize,
    gh: usize,
    origin: f64,
) -> Vec<[f64; 3]> {
    let mut grid = vec![[f64::NAN; 3]; gw * gh];
    grid.par_chunks_mut(gw).enumerate().for_each(|(gv, row)| {
        for (gu, p) in row.iter_mut().enumerate() {
            if let Some(q) = surface_point(scene, cam, gu as f64 + origin, gv as f64 + origin) {
                *p = q;
            }
        }
    });
    grid
}

/// The surface point seen at recorded-image position `(u, v)`, if any.
fn surface_point(scene: &Scene, cam: &Camera<f64>, u: f64, v: f64) -> Option<[f64; 3]> {
    let (uu, vv) = cam.undistort_pixel(u, v);
    let ray = cam.cast_ray(uu, vv)?;
    let t = scene.intersect(&ray)?;
    Some(ray.at(t).coords.into())
}

/// Grey value of one recorded-image sample; 0 where the ray misses.
fn shade(scene: &Scene, cam: &Camera<f64>, u: f64, v: f64) -> f64 {
    surface_point(scene, cam, u, v).map_or(0.0, |p| texture(p[0], p[1]))
}

/// Largest distance (metres) between the interpolated and the exact surface point at a pixel
/// corner for the interpolant to be used: 10 µm, 1/200 of the finest texture cell, which
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

    /// Whether the interpolant reproduces the exact hits `corner(i, j)` at the pixel
    /// corners `(±½, ±½)` within [`INTERPOLATION_TOLERANCE`]; the sub-samples lie inside
    /// them. Fails at occlusion edges, folds and where the pixel is too coarse for the
    /// surface's curvature.
    fn agrees_with_corners(&self, corner: impl Fn(usize, usize) -> Vector3<f64>) -> bool {
        (0..2).all(|j| {
            (0..2).all(|i| {
                let want = corner(i, j);
                let got = self.at(i as f64 - 0.5, j as f64 - 0.5);
                // NaN (a missing corner) fails the comparison.
                (got - want).norm() <= INTERPOLATION_TOLERANCE
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
