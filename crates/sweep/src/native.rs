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
use crate::select::Wta;
use crate::{CENTRE, SweepError, SweepOutput, SweepSettings, SweepTimings, View};

/// Output rows and columns per tile (the window's halo around each is swept twice): a tile's
/// working set (a dozen planes of its region) stays in a core's L2 cache.
const TILE_ROWS: usize = 64;
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
    /// For pixel (x, y), at `y · width + x`: the 16-bit codes (`round(v · 65535)`) of (x, y),
    /// (x+1, y), (x, y+1) and (x+1, y+1) in the low to high bits, clamped at the last column and
    /// row: a bilinear sample is one 8-byte load (as the shaders' texel quads). The length is a
    /// power of two (zeros after the image), so that an index masked with `len − 1` needs no
    /// bounds check and the sampling loop vectorises (gathers).
    quads: Vec<u64>,
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
        (u, v): (&mut [f32], &mut [f32]),
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
        let (u, v) = (&mut u[..n], &mut v[..n]);
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

    /// Bilinear samples at `(u[i], v[i])` of the recorded image (after the lens model, applied
    /// to `u` and `v` in place), centred, into `out[i]` where the reference pixel has a value
    /// (`m[i] > 0`) and [`Self::inside`] the image, else 0. Returns the number of reference
    /// pixels with a value but no sample. Branch-free without a lens, so that the loop
    /// vectorises.
    fn sample_into(&self, u: &mut [f32], v: &mut [f32], m: &[f32], out: &mut [f32]) -> u32 {
        let n = out.len();
        let (u, v, m) = (&mut u[..n], &mut v[..n], &m[..n]);
        if self.lens {
            for (x, y) in u.iter_mut().zip(v.iter_mut()) {
                if x.is_finite() && y.is_finite() {
                    let (a, b) = self.camera.distort_pixel(f64::from(*x), f64::from(*y));
                    (*x, *y) = (a as f32, b as f32);
                }
            }
        }
        let (wm1, hm1) = ((self.width - 1) as f32, (self.height - 1) as f32);
        let w = self.width as u32;
        let mask = self.quads.len() - 1;
        let quads = &self.quads[..=mask];
        let mut missing = 0;
        for i in 0..n {
            let (x, y) = (u[i], v[i]);
            // NaN and out-of-range coordinates clamp to a different value.
            let (xc, yc) = (x.max(0.0).min(wm1), y.max(0.0).min(hm1));
            let ok = (xc == x) & (yc == y);
            let (xf, yf) = (xc.floor(), yc.floor());
            let (fx, fy) = (xc - xf, yc - yf);
            let q = quads[(int_of(yf) * w + int_of(xf)) as usize & mask];
            let c = |shift: u32| ((q >> shift) & 0xffff) as u32 as f32 * (1.0 / 65535.0);
            let (a, b, c, e) = (c(0), c(16), c(32), c(48));
            let top = a + (b - a) * fx;
            let bottom = c + (e - c) * fx;
            let value = top + (bottom - top) * fy - CENTRE;
            let has = m[i] > 0.0;
            out[i] = if ok & has { value } else { 0.0 };
            missing += u32::from(has & !ok);
        }
        missing
    }

    /// Whether [`Self::sample_into`] samples the recorded image at `(x, y)` (after the lens).
    fn inside(&self, x: f32, y: f32) -> bool {
        let (wm1, hm1) = ((self.width - 1) as f32, (self.height - 1) as f32);
        (0.0..=wm1).contains(&x) & (0.0..=hm1).contains(&y)
    }
}

/// `v` as an integer, for a whole number `0 ≤ v < 2²³`: the low mantissa bits of `v + 2²³`.
/// (Unlike `v as u32`, which saturates, this vectorises.)
fn int_of(v: f32) -> u32 {
    (v + 8_388_608.0).to_bits() & 0x7f_ffff
}

/// The texel quads of a `width × height` image (see `Src::quads`).
fn texel_quads(image: &[f32], width: usize, height: usize) -> Vec<u64> {
    let code = |v: f32| (v.clamp(0.0, 1.0) * 65535.0).round() as u64;
    let mut quads = vec![0u64; (width * height).next_power_of_two()];
    quads[..width * height]
        .par_chunks_mut(width)
        .enumerate()
        .for_each(|(y, row)| {
            let y1 = (y + 1).min(height - 1);
            for (x, q) in row.iter_mut().enumerate() {
                let x1 = (x + 1).min(width - 1);
                *q = code(image[y * width + x])
                    | code(image[y * width + x1]) << 16
                    | code(image[y1 * width + x]) << 32
                    | code(image[y1 * width + x1]) << 48;
            }
        });
    quads
}

/// A tile region's rays in structure-of-arrays form, and the reference as `[m, r]`: `m` is 1
/// where the pixel has a ray and a finite value, else 0; `r` the centred value (0 where `m` is
/// 0).
struct RayPlanes {
    ox: Vec<f32>,
    oy: Vec<f32>,
    oz: Vec<f32>,
    dx: Vec<f32>,
    dy: Vec<f32>,
    dz: Vec<f32>,
    valid: Vec<bool>,
    reference: [Vec<f32>; 2],
}

/// Per-pixel state of one source's projection: the crossings at this hypothesis and the one
/// before (warm starts).
struct Projected {
    cross: Vec<f32>,
    prev: Vec<f32>,
}

/// Where a projection's Newton iteration starts (`Src::project`'s `G`): the paraxial
/// approximation (the first hypothesis), the last crossing (the second), or the last two
/// extrapolated linearly (the others).
const PARAXIAL: u8 = 0;
const LAST: u8 = 1;
const EXTRAPOLATE: u8 = 2;

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
                reference: {
                    let r: Vec<f32> = px
                        .iter()
                        .map(|&p| match rays[p] {
                            Some(_) => reference.image[p] - CENTRE,
                            None => f32::NAN,
                        })
                        .collect();
                    let m = r.iter().map(|r| f32::from(u8::from(r.is_finite())));
                    let r: Vec<f32> = r
                        .iter()
                        .map(|&r| if r.is_finite() { r } else { 0.0 })
                        .collect();
                    [m.collect(), r]
                },
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
///
/// Per hypothesis and source: project, sample, the masked moments, their window sums and the
/// cost. Where every region pixel with a reference value has a sample (most tiles at most
/// hypotheses), the reference's three moments `m, m·r, m·r²` are the same at every hypothesis:
/// their window sums are taken once per tile and only `m·s, m·s², m·r·s` are summed again.
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
            cross: vec![0.0; n],
            prev: vec![0.0; n],
        })
        .collect();
    let mut boxes = BoxSums::new(bw + 2 * half);
    // The reference's window sums, row-major over the output block.
    let mut reference: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; out_n]);
    let [m, r] = planes.reference.each_ref().map(|p| &p[..n]);
    boxes.sums(
        t,
        half,
        [m, r],
        |[m, r]| [m, r, r * r],
        |row, sums| {
            for (out, s) in reference.iter_mut().zip(sums) {
                out[row * bw..(row + 1) * bw].copy_from_slice(s);
            }
        },
    );
    // Masked sample, and (where a reference pixel lacks a sample) the masked reference.
    let mut masked: [Vec<f32>; 3] = std::array::from_fn(|_| vec![0.0; n]);
    let mut agg = vec![0f32; out_n];
    let mut wta = Wta::new(out_n);
    let mut costs = Vec::new();
    if settings.keep_cost_volume {
        costs.reserve(out_n * settings.depths as usize);
    }
    for k in 0..settings.depths {
        let d = settings.depth_of(range, k) as f32;
        agg.fill(0.0);
        for (src, proj) in srcs.iter().zip(warm.iter_mut()) {
            // The pixel coordinates go to the first two masked planes (written again only
            // after the sampling).
            let [mm, mr, ms] = masked.each_mut().map(|p| &mut p[..n]);
            match k {
                0 => src.project::<COLD_STEPS, PARAXIAL>(planes, d, 0.0, proj, (mm, mr)),
                1 => src.project::<{ COLD_STEPS / 2 }, LAST>(planes, d, 0.0, proj, (mm, mr)),
                _ => src.project::<WARM_STEPS, EXTRAPOLATE>(planes, d, 1.0, proj, (mm, mr)),
            }
            // Reference pixels without a sample: none, or the masked moments in full.
            let missing = src.sample_into(mm, mr, m, ms);
            let mut add_costs = |row: usize, ref_sums: [&[f32]; 3], s_sums: &[Vec<f32>]| {
                let block = row * bw..(row + 1) * bw;
                let [s0, s1, s2] = ref_sums;
                let [s3, s4, s5] = [0, 1, 2].map(|j| &s_sums[j][..bw]);
                for (x, a) in agg[block].iter_mut().enumerate() {
                    *a += ncc_cost([s0[x], s1[x], s2[x], s3[x], s4[x], s5[x]], window2);
                }
            };
            if missing > 0 {
                // (`mm`, `mr` still hold the sampled coordinates.)
                for i in 0..n {
                    let ok = (m[i] > 0.0) & src.inside(mm[i], mr[i]);
                    mm[i] = f32::from(u8::from(ok));
                    mr[i] = if ok { r[i] } else { 0.0 };
                }
                let moments = |[m, r, s]: [f32; 3]| [m, r, r * r, s, s * s, r * s];
                boxes.sums(t, half, [&*mm, &*mr, &*ms], moments, |row, sums| {
                    add_costs(row, [0, 1, 2].map(|j| &sums[j][..bw]), &sums[3..]);
                });
            } else {
                let moments = |[s, r]: [f32; 2]| [s, s * s, r * s];
                boxes.sums(t, half, [&*ms, r], moments, |row, sums| {
                    let block = row * bw..(row + 1) * bw;
                    add_costs(row, reference.each_ref().map(|s| &s[block.clone()]), sums);
                });
            }
        }
        wta.update(k, &agg, inv_sources);
        if settings.keep_cost_volume {
            costs.extend(agg.iter().map(|&c| (f64::from(c) * inv_sources) as f32));
        }
    }
    let (lo, step) = (f64::from(range.0), settings.step(range));
    let (depth, confidence) = (0..out_n)
        .map(|p| {
            let i = (t.y0 - t.r0 + p / bw) * rw + bx + p % bw;
            if planes.valid[i] {
                let (d, c) = wta.state(p, inv_sources).finish(settings.depths, lo, step);
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

/// Window sums of moments of a tile's region planes at its output pixels, a row at a time:
/// running sums down the columns (per output row, the moments of the row entering the window
/// added and those of the row leaving it removed, whole rows at once), then the direct sum of
/// `window` column sums along the row (vectorised over the row). Columns outside the image count
/// as zero.
struct BoxSums {
    /// Per moment: the column sums of output columns `x0 − half .. x1 + half`.
    cols: Vec<Vec<f32>>,
    /// Per moment: the window sums of one output row.
    rows: Vec<Vec<f32>>,
    /// Scratch of [`window_row`].
    runs: [Vec<f32>; 2],
}

impl BoxSums {
    fn new(padded_width: usize) -> Self {
        Self {
            cols: vec![vec![0.0; padded_width]; 6],
            rows: vec![Vec::new(); 6],
            runs: [Vec::new(), Vec::new()],
        }
    }

    /// Calls `emit(row, sums)` for each output row of `t` (0 = its first), `sums[j]` holding
    /// the window sums along that row of moment `j` of `moments(values)`, `values` being the
    /// `planes`' values at a pixel (region planes, row-major).
    fn sums<const Q: usize, const P: usize>(
        &mut self,
        t: &Tile,
        half: usize,
        planes: [&[f32]; Q],
        moments: impl Fn([f32; Q]) -> [f32; P],
        mut emit: impl FnMut(usize, &[Vec<f32>]),
    ) {
        let (rw, bw) = (t.region_width(), t.x1 - t.x0);
        // Region column q is padded column q − (x0 − half).
        let k0 = t.q0 + half - t.x0;
        let (cols, rows) = (&mut self.cols[..P], &mut self.rows[..P]);
        for c in cols.iter_mut() {
            c.fill(0.0);
        }
        let row = |y: usize| planes.map(|p| &p[(y - t.r0) * rw..(y - t.r0 + 1) * rw]);
        // Column sums += moments of row `add` − moments of row `sub`. (Indexed loops: the
        // moments of both rows and all P column sums advance together.)
        #[allow(clippy::needless_range_loop)]
        let update = |cols: &mut [Vec<f32>], add: Option<usize>, sub: Option<usize>| {
            let mut it = cols.iter_mut();
            let c: [&mut [f32]; P] = std::array::from_fn(|_| match it.next() {
                Some(c) => &mut c[k0..k0 + rw],
                None => &mut [],
            });
            let value = |p: &[&[f32]; Q], x: usize| moments(std::array::from_fn(|q| p[q][x]));
            match (add.map(row), sub.map(row)) {
                (Some(a), Some(s)) => {
                    for x in 0..rw {
                        let (va, vs) = (value(&a, x), value(&s, x));
                        for j in 0..P {
                            c[j][x] += va[j] - vs[j];
                        }
                    }
                }
                (Some(a), None) => {
                    for x in 0..rw {
                        let va = value(&a, x);
                        for j in 0..P {
                            c[j][x] += va[j];
                        }
                    }
                }
                (None, Some(s)) => {
                    for x in 0..rw {
                        let vs = value(&s, x);
                        for j in 0..P {
                            c[j][x] -= vs[j];
                        }
                    }
                }
                (None, None) => {}
            }
        };
        for y in t.r0..(t.y0 + half).min(t.r1) {
            update(cols, Some(y), None);
        }
        for y in t.y0..t.y1 {
            // The window of row y: rows y − half ..= y + half (clipped to the region).
            let sub = (y > half && y - half > t.r0).then(|| y - half - 1);
            update(cols, (y + half < t.r1).then_some(y + half), sub);
            for (c, r) in cols.iter().zip(rows.iter_mut()) {
                window_row(c, 2 * half + 1, bw, r, &mut self.runs);
            }
            emit(y - t.y0, &rows[..]);
        }
    }
}

/// `out[x] = Σ c[x .. x + window]` for `x < width` (`c` holds at least `width + window − 1`
/// values), by runs of doubling length: the sums of 1, 2, 4, … consecutive values, each from
/// the last by one vectorised addition, and `out` the sum of the runs that the binary digits
/// of `window` name (5 additions per value for a window of 11 instead of 10).
fn window_row(
    c: &[f32],
    window: usize,
    width: usize,
    out: &mut Vec<f32>,
    runs: &mut [Vec<f32>; 2],
) {
    let [run, next] = runs;
    let c = &c[..width + window - 1];
    out.clear();
    let (mut len, mut covered) = (1, 0);
    loop {
        // The runs of length `len`: run[x] = Σ c[x .. x + len], for x < width + window − len
        // (`c` itself for the first).
        let current: &[f32] = if len == 1 { c } else { run };
        if window & len != 0 {
            let part = &current[covered..covered + width];
            if out.is_empty() {
                out.extend_from_slice(part);
            } else {
                for (a, &b) in out.iter_mut().zip(part) {
                    *a += b;
                }
            }
            covered += len;
        }
        if 2 * len > window {
            break;
        }
        let m = current.len() - len;
        next.clear();
        next.extend(current[..m].iter().zip(&current[len..]).map(|(a, b)| a + b));
        std::mem::swap(run, next);
        len *= 2;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Window sums by `BoxSums` equal direct sums over the window clipped to the image, for
    /// every tile of an image whose sides are not multiples of the tile size (interior tiles,
    /// edge tiles and the corner), at the smallest and a large window.
    #[test]
    fn box_sums_are_the_clipped_window_sums() {
        let (w, h) = (TILE_COLS + 37, TILE_ROWS * 2 + 5);
        // A deterministic plane with values of both signs and no structure the sums could hide.
        let image: Vec<f32> = (0..w * h)
            .map(|i| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * if i % 3 == 0 { 2.0 } else { 1.0 })
            .collect();
        for half in [1, 7] {
            for t in Tile::cover(w, h, half) {
                let rw = t.region_width();
                let region: Vec<f32> = (t.r0..t.r1)
                    .flat_map(|y| (t.q0..t.q1).map(move |x| (y, x)))
                    .map(|(y, x)| image[y * w + x])
                    .collect();
                assert_eq!(region.len(), (t.r1 - t.r0) * rw);
                let mut boxes = BoxSums::new(t.x1 - t.x0 + 2 * half);
                let mut rows_seen = 0;
                boxes.sums(
                    &t,
                    half,
                    [&region[..]],
                    |[v]| [v],
                    |row, sums| {
                        rows_seen += 1;
                        let y = t.y0 + row;
                        for (i, &got) in sums[0].iter().enumerate() {
                            let x = t.x0 + i;
                            let mut want = 0.0f64;
                            for yy in y.saturating_sub(half)..(y + half + 1).min(h) {
                                for xx in x.saturating_sub(half)..(x + half + 1).min(w) {
                                    want += f64::from(image[yy * w + xx]);
                                }
                            }
                            assert!(
                                (f64::from(got) - want).abs() < 1e-4,
                                "half {half}, pixel ({x}, {y}): {got} vs {want}"
                            );
                        }
                    },
                );
                assert_eq!(rows_seen, t.y1 - t.y0);
            }
        }
    }
}
