//! The native CPU sweep: the plane sweep in `f32` on the host's cores, a backend for machines
//! whose only adapter is a software rasteriser (llvmpipe), where it is several times faster
//! than the shaders (measured by `cargo xtask profile` and `bench`).
//!
//! Same inputs, outputs and cost as [`crate::sweep_cpu`] (the `f64` reference it is tested
//! against), organised for speed: the image is cut into tiles of `TILE_ROWS × TILE_COLS`
//! output pixels (plus the window's halo), swept in parallel (rayon), each keeping everything it touches
//! in a few planes of `f32` that stay in cache. Per hypothesis and source: the refractive
//! projection of every pixel's ray point (Newton's method on Snell's law, warm-started from the
//! pixel's crossing at the previous hypothesis, branch-free so that it vectorises), a bilinear
//! sample, the six masked moments, and their window sums by sliding box sums (along rows, then
//! down columns), then `1 − NCC` summed over sources and a running winner-take-all per pixel.

use std::time::Instant;

use aquamvs_camera::Camera;
use rayon::prelude::*;

use crate::rays::checked_rays;
use crate::select::WtaState;
use crate::{CENTRE, SweepError, SweepOutput, SweepSettings, SweepTimings, View};

/// Output rows and columns per tile (the window's halo around each is swept twice): a tile's
/// working set (a dozen planes of its region) stays in a core's L2 cache.
const TILE_ROWS: usize = 32;
const TILE_COLS: usize = 160;
/// Newton steps for the first hypothesis (from the paraxial guess; half as many for the second,
/// from the first's crossing) and for the next ones (from the last two crossings extrapolated:
/// the hypotheses are uniform in ray depth, so the error of the guess is second order).
const COLD_STEPS: u32 = 6;
const WARM_STEPS: u32 = 1;

/// A source camera in `f32`: p_cam = r (ux R₀ + uy R₁) + h_c R₂ for a crossing at horizontal
/// distance r from the centre in direction (ux, uy).
struct Src<'a> {
    center: [f32; 3],
    water_z: f32,
    n_air: f32,
    n_water: f32,
    /// Columns of R.
    cols: [[f32; 3]; 3],
    /// Rows of K.
    k: [[f32; 3]; 3],
    camera: &'a Camera<f64>,
    lens: bool,
    /// For pixel (x, y): the 16-bit codes (`round(v · 65535)`) of (x, y), (x+1, y), (x, y+1) and
    /// (x+1, y+1), clamped at the last column and row: a bilinear sample is one 8-byte load (as
    /// the shaders' texel quads).
    quads: Vec<[u16; 4]>,
    width: usize,
    height: usize,
}

impl<'a> Src<'a> {
    fn new(view: &View<'a>) -> Self {
        let c = view.camera;
        let f = |x: f64| x as f32;
        let center = c.center();
        Self {
            center: [f(center.x), f(center.y), f(center.z)],
            water_z: f(c.interface.water_z),
            n_air: f(c.interface.n_air),
            n_water: f(c.interface.n_water),
            cols: [0, 1, 2].map(|j| [0, 1, 2].map(|i| f(c.r[(i, j)]))),
            k: [0, 1, 2].map(|i| [0, 1, 2].map(|j| f(c.k[(i, j)]))),
            camera: c,
            lens: c.distortion.is_some_and(|d| !d.is_identity()),
            quads: texel_quads(view.image, c.width as usize, c.height as usize),
            width: c.width as usize,
            height: c.height as usize,
        }
    }

    /// Projects the points `o + d·dir` of `rays[..]` (pixel `i` of a tile's region) into this
    /// camera: undistorted-model pixel `(u[i], v[i])`, NaN where there is no projection.
    /// Newton's method on the crossing starts from the guess `G` (see [`Guess`]; `t` is the
    /// extrapolation factor) and takes `STEPS` steps; the crossing goes to `out.cross` (the
    /// previous one to `out.prev`). Constant trip counts, no branches and no bounds checks in
    /// the loop, so that the compiler vectorises it.
    fn project<const STEPS: u32, const G: u8>(
        &self,
        rays: &RayPlanes,
        d: f32,
        t: f32,
        out: &mut Projected,
    ) {
        let [cx, cy, cz] = self.center;
        let h_c = self.water_z - cz;
        let (na, nw, wz) = (self.n_air, self.n_water, self.water_z);
        let hc2 = h_c * h_c;
        let [c0, c1, c2] = self.cols;
        let [k0, k1, k2] = self.k;
        let n = rays.ox.len();
        let (ox, oy, oz) = (&rays.ox[..n], &rays.oy[..n], &rays.oz[..n]);
        let (dx, dy, dz) = (&rays.dx[..n], &rays.dy[..n], &rays.dz[..n]);
        let valid = &rays.valid[..n];
        let (u, v) = (&mut out.u[..n], &mut out.v[..n]);
        let (cross, prev) = (&mut out.cross[..n], &mut out.prev[..n]);
        for i in 0..n {
            let px = ox[i] + d * dx[i];
            let py = oy[i] + d * dy[i];
            let h_q = oz[i] + d * dz[i] - wz;
            let (ex, ey) = (px - cx, py - cy);
            let r_q = (ex * ex + ey * ey).sqrt();
            let hq2 = h_q * h_q;
            let mut r = match G {
                PARAXIAL => r_q * nw * h_c / (na * h_q + nw * h_c),
                LAST => cross[i],
                _ => cross[i] + t * (cross[i] - prev[i]),
            };
            for _ in 0..STEPS {
                let a2 = r * r + hc2;
                let a = a2.sqrt();
                let wv = r_q - r;
                let b2 = wv * wv + hq2;
                let b = b2.sqrt();
                let f = na * r / a - nw * wv / b;
                let df = na * hc2 / (a2 * a) + nw * hq2 / (b2 * b);
                r = (r - f / df).max(0.0).min(r_q);
            }
            prev[i] = cross[i];
            cross[i] = r;
            let inv = r / r_q.max(f32::MIN_POSITIVE);
            let (ux, uy) = (ex * inv, ey * inv);
            let pc0 = ux * c0[0] + uy * c1[0] + h_c * c2[0];
            let pc1 = ux * c0[1] + uy * c1[1] + h_c * c2[1];
            let pc2 = ux * c0[2] + uy * c1[2] + h_c * c2[2];
            let iw = 1.0 / (k2[0] * pc0 + k2[1] * pc1 + k2[2] * pc2);
            let pu = (k0[0] * pc0 + k0[1] * pc1 + k0[2] * pc2) * iw;
            let pv = (k1[0] * pc0 + k1[1] * pc1 + k1[2] * pc2) * iw;
            let ok = valid[i] & (h_q > 0.0) & (pc2 > 0.0) & r.is_finite();
            u[i] = if ok { pu } else { f32::NAN };
            v[i] = if ok { pv } else { f32::NAN };
        }
    }

    /// Bilinear sample at `(u, v)` of the recorded image (after the lens model), centred; NaN
    /// unless `0 ≤ u ≤ width−1` and `0 ≤ v ≤ height−1`.
    fn sample(&self, u: f32, v: f32) -> f32 {
        let (u, v) = if self.lens && u.is_finite() && v.is_finite() {
            let (x, y) = self.camera.distort_pixel(f64::from(u), f64::from(v));
            (x as f32, y as f32)
        } else {
            (u, v)
        };
        let (w, h) = (self.width, self.height);
        if !(u >= 0.0 && v >= 0.0 && u <= (w - 1) as f32 && v <= (h - 1) as f32) {
            return f32::NAN;
        }
        // 0 <= u <= w - 1 < 2^24: the i32 conversion is the floor, cheaper than usize's.
        let (xi, yi) = (u as i32, v as i32);
        let (fx, fy) = (u - xi as f32, v - yi as f32);
        let q = self.quads[yi as usize * w + xi as usize].map(|c| f32::from(c) * (1.0 / 65535.0));
        let [a, b, c, e] = q;
        let top = a + (b - a) * fx;
        let bottom = c + (e - c) * fx;
        top + (bottom - top) * fy - CENTRE
    }
}

/// The texel quads of a `width × height` image (see `Src::quads`).
fn texel_quads(image: &[f32], width: usize, height: usize) -> Vec<[u16; 4]> {
    let code = |v: f32| (v.clamp(0.0, 1.0) * 65535.0).round() as u16;
    let mut quads = vec![[0u16; 4]; width * height];
    quads
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(y, row)| {
            let y1 = (y + 1).min(height - 1);
            for (x, q) in row.iter_mut().enumerate() {
                let x1 = (x + 1).min(width - 1);
                *q = [
                    code(image[y * width + x]),
                    code(image[y * width + x1]),
                    code(image[y1 * width + x]),
                    code(image[y1 * width + x1]),
                ];
            }
        });
    quads
}

/// A tile region's rays in structure-of-arrays form, and the centred reference values (NaN
/// where the pixel has no ray).
struct RayPlanes {
    ox: Vec<f32>,
    oy: Vec<f32>,
    oz: Vec<f32>,
    dx: Vec<f32>,
    dy: Vec<f32>,
    dz: Vec<f32>,
    valid: Vec<bool>,
    refv: Vec<f32>,
}

/// Per-pixel scratch of one source's projection: pixel, and the crossings at this hypothesis
/// and the one before (warm starts).
struct Projected {
    u: Vec<f32>,
    v: Vec<f32>,
    cross: Vec<f32>,
    prev: Vec<f32>,
}

/// Where a projection's Newton iteration starts (`Src::project`'s `G`): the paraxial
/// approximation (the first hypothesis), the last crossing (the second), or the last two
/// extrapolated linearly (the others).
const PARAXIAL: u8 = 0;
const LAST: u8 = 1;
const EXTRAPOLATE: u8 = 2;

/// The six masked moments `m, m·r, m·r², m·s, m·s², m·r·s` as planes.
type Moments = [Vec<f32>; 6];

/// A tile: output rows `y0..y1` and columns `x0..x1`, and its region (the output block with the
/// window's halo, clipped to the image): rows `r0..r1`, columns `q0..q1`.
#[derive(Debug, Clone, Copy)]
struct Tile {
    y0: usize,
    y1: usize,
    x0: usize,
    x1: usize,
    r0: usize,
    r1: usize,
    q0: usize,
    q1: usize,
}

impl Tile {
    /// The tiles of a `w × h` image for window half-side `half`, row-major.
    fn cover(w: usize, h: usize, half: usize) -> Vec<Tile> {
        let mut tiles = Vec::new();
        for y0 in (0..h).step_by(TILE_ROWS) {
            for x0 in (0..w).step_by(TILE_COLS) {
                let (y1, x1) = ((y0 + TILE_ROWS).min(h), (x0 + TILE_COLS).min(w));
                tiles.push(Tile {
                    y0,
                    y1,
                    x0,
                    x1,
                    r0: y0.saturating_sub(half),
                    r1: (y1 + half).min(h),
                    q0: x0.saturating_sub(half),
                    q1: (x1 + half).min(w),
                });
            }
        }
        tiles
    }

    fn region_width(&self) -> usize {
        self.q1 - self.q0
    }

    fn out_len(&self) -> usize {
        (self.y1 - self.y0) * (self.x1 - self.x0)
    }
}

/// What one tile produced, row-major over its output block.
struct TileOut {
    depth: Vec<f32>,
    confidence: Vec<f32>,
    /// `[depth][row][col]` over the block, when the cost volume is kept.
    costs: Vec<f32>,
}

/// The plane sweep on the CPU in `f32` (tiles in parallel). Same inputs and outputs as
/// [`crate::sweep_cpu`], within `f32` rounding of it; `settings.batch` is ignored.
pub fn sweep_native(
    reference: View,
    sources: &[View],
    settings: &SweepSettings,
    range: (f32, f32),
) -> Result<SweepOutput, SweepError> {
    let start = Instant::now();
    let rays = checked_rays(&reference, sources, settings, range)?;
    let cam = reference.camera;
    let (w, h) = (cam.width as usize, cam.height as usize);
    let srcs: Vec<Src> = sources.iter().map(Src::new).collect();
    let setup_s = start.elapsed().as_secs_f64();
    let tiles = Tile::cover(w, h, settings.window as usize / 2);
    let outs: Vec<TileOut> = tiles
        .par_iter()
        .map(|t| {
            let px: Vec<usize> = (t.r0..t.r1)
                .flat_map(|y| (t.q0..t.q1).map(move |x| y * w + x))
                .collect();
            let ray = |f: fn(&aquamvs_camera::Ray<f64>) -> f64| -> Vec<f32> {
                px.iter()
                    .map(|&p| rays[p].as_ref().map_or(0.0, |r| f(r) as f32))
                    .collect()
            };
            let planes = RayPlanes {
                ox: ray(|r| r.origin.x),
                oy: ray(|r| r.origin.y),
                oz: ray(|r| r.origin.z),
                dx: ray(|r| r.direction.x),
                dy: ray(|r| r.direction.y),
                dz: ray(|r| r.direction.z),
                valid: px.iter().map(|&p| rays[p].is_some()).collect(),
                refv: px
                    .iter()
                    .map(|&p| match rays[p] {
                        Some(_) => reference.image[p] - CENTRE,
                        None => f32::NAN,
                    })
                    .collect(),
            };
            sweep_tile(&planes, &srcs, settings, range, t)
        })
        .collect();
    let n = w * h;
    let mut depth = vec![f32::NAN; n];
    let mut confidence = vec![0f32; n];
    for (t, o) in tiles.iter().zip(&outs) {
        let bw = t.x1 - t.x0;
        for (i, y) in (t.y0..t.y1).enumerate() {
            let row = y * w + t.x0..y * w + t.x1;
            depth[row.clone()].copy_from_slice(&o.depth[i * bw..(i + 1) * bw]);
            confidence[row].copy_from_slice(&o.confidence[i * bw..(i + 1) * bw]);
        }
    }
    let cost_volume = settings.keep_cost_volume.then(|| {
        let mut cv = vec![0f32; n * settings.depths as usize];
        for (t, o) in tiles.iter().zip(&outs) {
            let (bw, m) = (t.x1 - t.x0, t.out_len());
            for k in 0..settings.depths as usize {
                for (i, y) in (t.y0..t.y1).enumerate() {
                    let at = k * n + y * w + t.x0;
                    cv[at..at + bw].copy_from_slice(&o.costs[k * m + i * bw..k * m + (i + 1) * bw]);
                }
            }
        }
        cv
    });
    Ok(SweepOutput {
        width: cam.width,
        height: cam.height,
        depth,
        confidence,
        cost_volume,
        timings: SweepTimings {
            setup_s,
            sweep_s: start.elapsed().as_secs_f64() - setup_s,
            readback_s: 0.0,
        },
    })
}

/// Sweeps one tile, whose region's rays are `planes`.
fn sweep_tile(
    planes: &RayPlanes,
    srcs: &[Src],
    settings: &SweepSettings,
    range: (f32, f32),
    t: &Tile,
) -> TileOut {
    let rw = t.region_width();
    let n = (t.r1 - t.r0) * rw;
    let (bx, bw) = (t.x0 - t.q0, t.x1 - t.x0);
    let out_n = t.out_len();
    let half = settings.window as usize / 2;
    let window2 = (settings.window * settings.window) as f32;
    let inv_sources = 1.0 / srcs.len() as f64;
    let mut warm: Vec<Projected> = srcs
        .iter()
        .map(|_| Projected {
            u: vec![0.0; n],
            v: vec![0.0; n],
            cross: vec![0.0; n],
            prev: vec![0.0; n],
        })
        .collect();
    let mut moments: Moments = std::array::from_fn(|_| vec![0.0; n]);
    let mut hsum: Moments = std::array::from_fn(|_| vec![0.0; n]);
    let mut col: Moments = std::array::from_fn(|_| vec![0.0; rw]);
    let mut agg = vec![0f32; out_n];
    let mut states = vec![WtaState::default(); out_n];
    let mut costs = Vec::new();
    if settings.keep_cost_volume {
        costs.reserve(out_n * settings.depths as usize);
    }
    for k in 0..settings.depths {
        let d = settings.depth_of(range, k) as f32;
        agg.fill(0.0);
        for (src, proj) in srcs.iter().zip(warm.iter_mut()) {
            match k {
                0 => src.project::<COLD_STEPS, PARAXIAL>(planes, d, 0.0, proj),
                1 => src.project::<{ COLD_STEPS / 2 }, LAST>(planes, d, 0.0, proj),
                _ => src.project::<WARM_STEPS, EXTRAPOLATE>(planes, d, 1.0, proj),
            }
            // The masked moments of every region pixel.
            let (refv, pu, pv) = (&planes.refv[..n], &proj.u[..n], &proj.v[..n]);
            for i in 0..n {
                let r = refv[i];
                let s = src.sample(pu[i], pv[i]);
                let m = if r.is_finite() && s.is_finite() {
                    1.0
                } else {
                    0.0
                };
                let (r, s) = (if m > 0.0 { r } else { 0.0 }, if m > 0.0 { s } else { 0.0 });
                moments[0][i] = m;
                moments[1][i] = r;
                moments[2][i] = r * r;
                moments[3][i] = s;
                moments[4][i] = s * s;
                moments[5][i] = r * s;
            }
            // Sliding window sums along each region row (clipped at its ends: the image's
            // sides, or columns outside the output block).
            for y in 0..n / rw {
                box_row(&moments, &mut hsum, y * rw..(y + 1) * rw, half);
            }
            // Down the columns (clipped at the image's top and bottom), then the cost.
            for c in col.iter_mut() {
                c.fill(0.0);
            }
            let row_of = |y: usize| (y - t.r0) * rw..(y - t.r0 + 1) * rw;
            for y in t.r0..(t.y0 + half).min(t.r1) {
                add_rows(&mut col, &hsum, row_of(y), 1.0);
            }
            for y in t.y0..t.y1 {
                if y + half < t.r1 {
                    add_rows(&mut col, &hsum, row_of(y + half), 1.0);
                }
                let arow = &mut agg[(y - t.y0) * bw..(y - t.y0 + 1) * bw];
                let [c0, c1, c2, c3, c4, c5] = col.each_ref().map(|c| &c[bx..bx + bw]);
                for (x, a) in arow.iter_mut().enumerate() {
                    *a += ncc_cost([c0[x], c1[x], c2[x], c3[x], c4[x], c5[x]], window2);
                }
                if y >= half {
                    add_rows(&mut col, &hsum, row_of(y - half), -1.0);
                }
            }
        }
        for (st, &c) in states.iter_mut().zip(&agg) {
            st.update(k, f64::from(c) * inv_sources);
        }
        if settings.keep_cost_volume {
            costs.extend(agg.iter().map(|&c| (f64::from(c) * inv_sources) as f32));
        }
    }
    let (lo, step) = (f64::from(range.0), settings.step(range));
    let (depth, confidence) = states
        .iter()
        .enumerate()
        .map(|(p, st)| {
            let i = (t.y0 - t.r0 + p / bw) * rw + bx + p % bw;
            if planes.valid[i] {
                let (d, c) = st.finish(settings.depths, lo, step);
                (d as f32, c as f32)
            } else {
                (f32::NAN, 0.0)
            }
        })
        .unzip();
    TileOut {
        depth,
        confidence,
        costs,
    }
}

/// Window sums over `x − half ..= x + half` (clipped at the row's ends) of the six moments'
/// row `cols`, into `out`: the six running sums are independent, so their additions overlap.
fn box_row(m: &Moments, out: &mut Moments, cols: std::ops::Range<usize>, half: usize) {
    let rows: [&[f32]; 6] = std::array::from_fn(|j| &m[j][cols.clone()]);
    let outs = out.each_mut().map(|o| &mut o[cols.clone()]);
    let w = cols.len();
    let mut acc = [0f32; 6];
    for (a, row) in acc.iter_mut().zip(&rows) {
        *a = row[..half.min(w)].iter().sum();
    }
    // x in [0, w): add x + half while it is inside, remove x - half once it is.
    let add_end = w.saturating_sub(half);
    for x in 0..w {
        if x < add_end {
            for j in 0..6 {
                acc[j] += rows[j][x + half];
            }
        }
        for j in 0..6 {
            outs[j][x] = acc[j];
        }
        if x >= half {
            for j in 0..6 {
                acc[j] -= rows[j][x - half];
            }
        }
    }
}

/// `col[j] += sign · hsum[j][rows]` for the six moments.
fn add_rows(col: &mut Moments, hsum: &Moments, rows: std::ops::Range<usize>, sign: f32) {
    for (c, hs) in col.iter_mut().zip(hsum) {
        for (a, &b) in c.iter_mut().zip(&hs[rows.clone()]) {
            *a += sign * b;
        }
    }
}

/// `1 − NCC` from the window sums, as [`crate::select::ncc_cost`] in `f32`; 1 where fewer than
/// half of the `window2 = window²` samples are valid.
fn ncc_cost(sums: [f32; 6], window2: f32) -> f32 {
    let [n, sr, srr, ss, sss, srs] = sums;
    let inv = 1.0 / n.max(1.0);
    let mr = sr * inv;
    let ms = ss * inv;
    let vr = (srr * inv - mr * mr).max(0.0);
    let vs = (sss * inv - ms * ms).max(0.0);
    let cov = srs * inv - mr * ms;
    let ncc = cov / (vr * vs + crate::NCC_EPS as f32).sqrt();
    let cost = (1.0 - ncc).clamp(0.0, 2.0);
    if 2.0 * n < window2 { 1.0 } else { cost }
}
