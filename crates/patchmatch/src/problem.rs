//! What both backends share: the random numbers, the neighbour pattern, the refinement
//! schedule, and the `f64` plane cost of the CPU reference (which the shader mirrors in `f32`).

use aquamvs_camera::Camera;
use aquamvs_sweep::{View, pixel_ray};
use nalgebra::{Point3, Vector3};

use crate::PatchMatchSettings;

/// Neighbours whose planes are tried, as (dx, dy): all of the other checkerboard colour.
pub(crate) const NEIGHBOURS: [(i32, i32); 8] = [
    (-1, 0),
    (1, 0),
    (0, -1),
    (0, 1),
    (-5, 0),
    (5, 0),
    (0, -5),
    (0, 5),
];

/// The neighbours tried in round `round`: all 8 in the first, the 4 at distance 1 after it (by
/// then the far ones have spread the sweep's planes; cam00 640×480, noise 0.02: the same
/// medians within 0.001 mm on the three scenes, 7 plane evaluations per pixel instead of 11).
pub(crate) fn neighbours(round: u32) -> &'static [(i32, i32)] {
    if round == 0 {
        &NEIGHBOURS
    } else {
        &NEIGHBOURS[..4]
    }
}

/// A plane must face the camera: `n · v ≤ −FACING` along the pixel's ray (within 80° of
/// facing it head-on); planes nearly along the ray are degenerate.
pub(crate) const FACING: f64 = 0.17;

/// The cost of a plane nothing supports.
pub(crate) const MAX_COST: f64 = 2.0;

/// PCG's output hash (O'Neill), on `u32` exactly as the shader computes it.
pub(crate) fn pcg(v: u32) -> u32 {
    let state = v.wrapping_mul(747_796_405).wrapping_add(2_891_336_453);
    let word = ((state >> ((state >> 28) + 4)) ^ state).wrapping_mul(277_803_737);
    (word >> 22) ^ word
}

/// A uniform number in [0, 1) with 24 bits (exact in `f32`) for (seed, pixel, step, draw);
/// `step` counts half-rounds (the initialisation is step 0).
pub(crate) fn uniform(seed: u32, pixel: u32, step: u32, draw: u32) -> f64 {
    let h = pcg(seed ^ pcg(pixel.wrapping_add(pcg(step.wrapping_mul(16).wrapping_add(draw)))));
    f64::from(h >> 8) / 16_777_216.0
}

/// Scale of the refinement of round `round` (0-based): halves each round.
pub(crate) fn refine_scale(round: u32) -> f64 {
    0.5f64.powi(round as i32 + 1)
}

/// Steps of the plane polish (see [`polish_start`]).
pub(crate) const POLISH_STEPS: u32 = 2;

/// Steps of the curved polish (see [`curved_polish_start`]).
pub(crate) const CURVED_POLISH_STEPS: u32 = 1;

/// The first step of the plane polish, metres: half the last round's depth perturbation
/// (`0.125 · span · refine_scale(iterations − 1)`); each later step halves it.
pub(crate) fn polish_start(settings: &PatchMatchSettings, range: (f64, f64)) -> f64 {
    0.125 * (range.1 - range.0) * refine_scale(settings.iterations - 1)
}

/// The step of the curved polish, metres: the plane polish's halving continued (the curved patch
/// moves the depth by less than a millimetre). Measured (cam00 640×480, noise 0.02, against
/// three steps from the plane polish's start): undulating 0.198 → 0.190 mm, flat 0.0619 →
/// 0.0626, in 4 evaluations instead of 10.
pub(crate) fn curved_polish_start(settings: &PatchMatchSettings, range: (f64, f64)) -> f64 {
    polish_start(settings, range) * 0.5f64.powi(POLISH_STEPS as i32)
}

/// One polish step from a depth whose cost is `c0`, given the costs `cm`, `cp` at `d ∓ δ`: the
/// offset, in steps of δ, to the vertex of the parabola through the three, clamped to ±1 (a full
/// step toward the lower side when the parabola is not convex). A continuous function of the
/// costs, so that the `f32` shader and the `f64` reference stay close.
pub(crate) fn polish_offset(c0: f64, cm: f64, cp: f64) -> f64 {
    let den = cm - 2.0 * c0 + cp;
    if den > 1e-12 {
        (0.5 * (cm - cp) / den).clamp(-1.0, 1.0)
    } else if cm < cp {
        -1.0
    } else if cp < cm {
        1.0
    } else {
        0.0
    }
}

/// The lattice of the rounds: every `s`-th pixel of every `s`-th row, `(columns, rows)`.
pub(crate) fn lattice_dims(w: usize, h: usize, s: u32) -> (usize, usize) {
    (w.div_ceil(s as usize), h.div_ceil(s as usize))
}

/// Whether pixel `(x, y)` is on the lattice of spacing `s`.
pub(crate) fn on_lattice(x: usize, y: usize, s: u32) -> bool {
    x.is_multiple_of(s as usize) && y.is_multiple_of(s as usize)
}

/// The planes of the pixels between the lattice's (spacing `s`): each takes the plane of the
/// nearest lattice pixel that has one (the four around it by distance, ties in row order),
/// met along its own ray; NaN where none does. The curved stage's fit only needs a frame there.
pub(crate) fn fill_between(pb: &Problem, planes: &mut [(f64, Vector3<f64>)], s: u32) {
    if s == 1 {
        return;
    }
    let s = s as usize;
    for y in 0..pb.h {
        for x in 0..pb.w {
            if on_lattice(x, y, s as u32) {
                continue;
            }
            let (x0, y0) = (x - x % s, y - y % s);
            let mut around: Vec<(usize, usize)> =
                [(x0, y0), (x0 + s, y0), (x0, y0 + s), (x0 + s, y0 + s)]
                    .into_iter()
                    .filter(|&(qx, qy)| qx < pb.w && qy < pb.h)
                    .collect();
            around.sort_by_key(|&(qx, qy)| qx.abs_diff(x).pow(2) + qy.abs_diff(y).pow(2));
            let i = y * pb.w + x;
            planes[i] = around
                .into_iter()
                .find_map(|(qx, qy)| {
                    let j = qy * pb.w + qx;
                    let (d, n) = planes[j];
                    let rj = pb.rays[j]?;
                    let d = d.is_finite().then_some(d)?;
                    Some((pb.depth_on_plane(i, &(rj.o + rj.v * d), &n)?, n))
                })
                .unwrap_or((f64::NAN, Vector3::zeros()));
        }
    }
}

/// The window offsets sampled along each axis: `-h, -h + stride, …` up to `h`.
pub(crate) fn offsets(settings: &PatchMatchSettings) -> Vec<i32> {
    let h = (settings.window / 2) as i32;
    (-h..=h).step_by(settings.stride as usize).collect()
}

/// A refracted ray: origin on the water surface and unit direction.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ray {
    pub o: Vector3<f64>,
    pub v: Vector3<f64>,
}

/// The host's view of one run: rays of every reference pixel, images, sources.
pub(crate) struct Problem<'a> {
    pub w: usize,
    pub h: usize,
    pub rays: Vec<Option<Ray>>,
    pub reference: &'a [f32],
    pub sources: Vec<View<'a>>,
    pub range: (f64, f64),
    pub settings: PatchMatchSettings,
    pub offsets: Vec<i32>,
    /// Per pixel, the curved patch of the final polish (empty: planes).
    pub curv: Vec<Curv>,
    /// Sample only the window offsets `(offsets[i], offsets[j])` with `i + j` even (the curved
    /// polish with `curved_checker`).
    pub checker: bool,
}

/// A pixel's curved patch: the surface departs from the plane `(X_p, n)` by
/// `h = ½(k₀ s² + 2 k₁ s t + k₂ t²)` along `n`, with `(s, t)` the coordinates of the plane point
/// on the tangent basis `(e1, e2)` of `n` ([`tangent_basis`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Curv {
    pub k: [f64; 3],
}

/// The tangent basis of a unit normal: `e1` is world X made orthogonal to `n` (world Y when
/// `n` is nearly along X), `e2 = n × e1`. The shader computes the same.
pub(crate) fn tangent_basis(n: &Vector3<f64>) -> (Vector3<f64>, Vector3<f64>) {
    let a = if n.x.abs() < 0.9 {
        Vector3::x()
    } else {
        Vector3::y()
    };
    let e1 = (a - n * n.dot(&a)).normalize();
    (e1, n.cross(&e1))
}

impl<'a> Problem<'a> {
    pub fn new(
        reference: &View<'a>,
        sources: &[View<'a>],
        settings: &PatchMatchSettings,
        range: (f32, f32),
    ) -> Self {
        let cam = reference.camera;
        let (w, h) = (cam.width as usize, cam.height as usize);
        let rays = (0..w * h)
            .map(|i| {
                pixel_ray(cam, i % w, i / w).map(|r| Ray {
                    o: r.origin.coords,
                    v: r.direction,
                })
            })
            .collect();
        Self {
            w,
            h,
            rays,
            reference: reference.image,
            sources: sources.to_vec(),
            range: (f64::from(range.0), f64::from(range.1)),
            settings: *settings,
            offsets: offsets(settings),
            curv: Vec::new(),
            checker: false,
        }
    }

    /// The same problem with the curved polish's window (`curved_window`, sampled every
    /// `curved_stride` pixels, on a checkerboard with `curved_checker`) and curved patches
    /// `curv`.
    pub fn curved(&self, curv: Vec<Curv>) -> Self {
        let (window, stride) = (self.settings.curved_window, self.settings.curved_stride);
        let settings = PatchMatchSettings {
            window,
            stride,
            sigma_color: self.settings.curved_sigma_color(),
            ..self.settings
        };
        Self {
            rays: self.rays.clone(),
            sources: self.sources.clone(),
            offsets: offsets(&settings),
            settings,
            curv,
            checker: self.settings.curved_checker,
            ..*self
        }
    }

    /// Ray depth at pixel `i` of the plane through `x` with normal `n`; `None` when the ray
    /// is (nearly) parallel to the plane or meets it outside the range.
    pub fn depth_on_plane(&self, i: usize, x: &Vector3<f64>, n: &Vector3<f64>) -> Option<f64> {
        let r = self.rays[i]?;
        let den = n.dot(&r.v);
        if !(den < -FACING) {
            return None;
        }
        let t = n.dot(&(x - r.o)) / den;
        (t >= self.range.0 && t <= self.range.1).then_some(t)
    }

    /// `1 − NCC` of the plane `(d, n)` at pixel `(x, y)`, averaged over the best `top_k`
    /// sources (see the crate notes), and those sources as a bit mask (lowest index first on
    /// ties).
    pub fn cost(&self, x: usize, y: usize, d: f64, n: &Vector3<f64>) -> (f64, u32) {
        let all = (1u32 << self.sources.len()) - 1;
        let costs = self.source_costs(x, y, d, n, all);
        let mut order: Vec<usize> = (0..costs.len()).collect();
        order.sort_by(|&a, &b| costs[a].total_cmp(&costs[b]).then(a.cmp(&b)));
        let k = (self.settings.top_k as usize).min(costs.len());
        let mask = order[..k].iter().fold(0u32, |m, &s| m | 1 << s);
        (
            order[..k].iter().map(|&s| costs[s]).sum::<f64>() / k as f64,
            mask,
        )
    }

    /// The mean cost of the plane `(d, n)` at pixel `(x, y)` over the sources in `mask` (view
    /// selection: the refinements of a pixel are scored on the sources its current plane
    /// chose).
    pub fn cost_on(&self, x: usize, y: usize, d: f64, n: &Vector3<f64>, mask: u32) -> f64 {
        let costs = self.source_costs(x, y, d, n, mask);
        let picked: Vec<f64> = (0..costs.len())
            .filter(|s| mask & (1 << s) != 0)
            .map(|s| costs[s])
            .collect();
        picked.iter().sum::<f64>() / picked.len().max(1) as f64
    }

    /// The cost of the plane in every source in `mask` (MAX_COST elsewhere and on failure).
    fn source_costs(&self, x: usize, y: usize, d: f64, n: &Vector3<f64>, mask: u32) -> Vec<f64> {
        let mut costs = vec![MAX_COST; self.sources.len()];
        let i = y * self.w + x;
        let Some(r) = self.rays[i] else {
            return costs;
        };
        if !(n.dot(&r.v) < -FACING) {
            return costs;
        }
        let p = r.o + r.v * d;
        let half = (self.settings.window / 2) as i64;
        let bend = self.curv.get(i).map(|c| {
            let (e1, e2) = tangent_basis(n);
            (c.k, e1, e2)
        });
        // The rays of the model's five pixels, clamped to the image; the plane points.
        let at = |dx: i64, dy: i64| -> Option<(Vector3<f64>, f64, f64)> {
            let qx = (x as i64 + dx).clamp(0, self.w as i64 - 1);
            let qy = (y as i64 + dy).clamp(0, self.h as i64 - 1);
            let q = self.rays[qy as usize * self.w + qx as usize]?;
            let den = n.dot(&q.v);
            if !(den < -FACING) {
                return None;
            }
            let t = n.dot(&(p - q.o)) / den;
            let mut point = q.o + q.v * t;
            if let Some((k, e1, e2)) = bend {
                let rel = point - p;
                let (s, t) = (e1.dot(&rel), e2.dot(&rel));
                let h = 0.5 * (k[0] * s * s + 2.0 * k[1] * s * t + k[2] * t * t);
                point += q.v * (h / den);
            }
            Some((point, (qx - x as i64) as f64, (qy - y as i64) as f64))
        };
        let corners = [
            at(half, 0),
            at(-half, 0),
            at(0, half),
            at(0, -half),
            at(half, half),
        ];
        for (k, s) in self.sources.iter().enumerate() {
            if mask & (1 << k) != 0 {
                costs[k] = self
                    .source_cost(x, y, s.camera, s.image, &p, &corners)
                    .unwrap_or(MAX_COST);
            }
        }
        costs
    }

    #[allow(clippy::type_complexity)]
    fn source_cost(
        &self,
        x: usize,
        y: usize,
        cam: &Camera<f64>,
        image: &[f32],
        p: &Vector3<f64>,
        corners: &[Option<(Vector3<f64>, f64, f64)>; 5],
    ) -> Option<f64> {
        let proj = |q: &Vector3<f64>| -> Option<(f64, f64)> {
            let pr = cam.project(&Point3::from(*q))?;
            Some(cam.distort_pixel(pr.pixel.x, pr.pixel.y))
        };
        let c = proj(p)?;
        let mut at_corner = [(0.0, 0.0, 0.0, 0.0); 5];
        for (k, corner) in corners.iter().enumerate() {
            let (q, dx, dy) = (*corner)?;
            let (u, v) = proj(&q)?;
            at_corner[k] = (u, v, dx, dy);
        }
        let model = Quadratic::fit(c, &at_corner)?;
        let cam_w = cam.width as usize;
        let cam_h = cam.height as usize;
        let centre = f64::from(self.reference[y * self.w + x]);
        let sigma = f64::from(self.settings.sigma_color);
        let spatial = 0.5 / f64::from(self.settings.sigma_space).powi(2);
        let (mut wt, mut w_all) = (0.0, 0.0);
        let (mut sr, mut ss, mut srr, mut sss, mut srs) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (j, &dy) in self.offsets.iter().enumerate() {
            let qy = y as i64 + i64::from(dy);
            if qy < 0 || qy >= self.h as i64 {
                continue;
            }
            for (i, &dx) in self.offsets.iter().enumerate() {
                let qx = x as i64 + i64::from(dx);
                if qx < 0 || qx >= self.w as i64 || (self.checker && (i + j) % 2 == 1) {
                    continue;
                }
                let r = f64::from(self.reference[qy as usize * self.w + qx as usize]);
                let d2 = f64::from(dx * dx + dy * dy);
                let wq = (-(r - centre).abs() / sigma - d2 * spatial).exp();
                w_all += wq;
                let (u, v) = model.at(f64::from(dx), f64::from(dy));
                let Some(s) = bilinear(image, cam_w, cam_h, u, v) else {
                    continue;
                };
                wt += wq;
                sr += wq * r;
                ss += wq * s;
                srr += wq * r * r;
                sss += wq * s * s;
                srs += wq * r * s;
            }
        }
        if !(wt > 0.0) || wt < 0.5 * w_all {
            return None;
        }
        let (mr, ms) = (sr / wt, ss / wt);
        let vr = srr / wt - mr * mr;
        let vs = sss / wt - ms * ms;
        let cov = srs / wt - mr * ms;
        if !(vr > 1e-8 && vs > 1e-8) {
            return Some(1.0);
        }
        let ncc = (cov / (vr * vs).sqrt()).clamp(-1.0, 1.0);
        Some(1.0 - ncc)
    }
}

/// The reference-pixel → source-pixel map of a plane around a window's centre, from exact
/// projections at the centre `c` and at offsets `(+h, 0)`, `(−h, 0)`, `(0, +h)`, `(0, −h)`,
/// `(+h, +h)` (clamped to the image): first derivatives by central differences, second
/// derivatives `∂²/∂x²`, `∂²/∂y²` and the cross term from the same six points.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Quadratic {
    c: (f64, f64),
    dx: (f64, f64),
    dy: (f64, f64),
    dxx: (f64, f64),
    dyy: (f64, f64),
    dxy: (f64, f64),
}

impl Quadratic {
    /// `corners[k] = (u, v, dx, dy)` in the order above; `None` when an axis collapses.
    pub(crate) fn fit(c: (f64, f64), corners: &[(f64, f64, f64, f64); 5]) -> Option<Self> {
        let [px, mx, py, my, pxy] = *corners;
        let (ax, bx) = (px.2, -mx.2);
        let (ay, by) = (py.3, -my.3);
        // Three points on a line at −b, 0, +a: the first and second derivative of the parabola
        // through them; one-sided (linear) where the image edge clamped one side away.
        let axis = |fp: f64, f0: f64, fm: f64, a: f64, b: f64| match (a > 0.0, b > 0.0) {
            (true, true) => {
                let d2 = 2.0 * (fp * b + fm * a - f0 * (a + b)) / (a * b * (a + b));
                Some(((fp - fm) / (a + b) - 0.5 * d2 * (a - b), d2))
            }
            (true, false) => Some(((fp - f0) / a, 0.0)),
            (false, true) => Some(((f0 - fm) / b, 0.0)),
            (false, false) => None,
        };
        let (ux, uxx) = axis(px.0, c.0, mx.0, ax, bx)?;
        let (vx, vxx) = axis(px.1, c.1, mx.1, ax, bx)?;
        let (uy, uyy) = axis(py.0, c.0, my.0, ay, by)?;
        let (vy, vyy) = axis(py.1, c.1, my.1, ay, by)?;
        let mut q = Self {
            c,
            dx: (ux, vx),
            dy: (uy, vy),
            dxx: (uxx, vxx),
            dyy: (uyy, vyy),
            dxy: (0.0, 0.0),
        };
        let (sx, sy) = (pxy.2, pxy.3);
        if sx != 0.0 && sy != 0.0 {
            let (u0, v0) = q.at(sx, sy);
            q.dxy = ((pxy.0 - u0) / (sx * sy), (pxy.1 - v0) / (sx * sy));
        }
        Some(q)
    }

    /// The source pixel of reference offset `(dx, dy)`.
    pub(crate) fn at(&self, dx: f64, dy: f64) -> (f64, f64) {
        let f = |c: f64, x: f64, y: f64, xx: f64, yy: f64, xy: f64| {
            c + x * dx + y * dy + 0.5 * (xx * dx * dx + yy * dy * dy) + xy * dx * dy
        };
        (
            f(
                self.c.0, self.dx.0, self.dy.0, self.dxx.0, self.dyy.0, self.dxy.0,
            ),
            f(
                self.c.1, self.dx.1, self.dy.1, self.dxx.1, self.dyy.1, self.dxy.1,
            ),
        )
    }
}

/// Bilinear sample at `(u, v)`, `None` outside `[0, w−1] × [0, h−1]`.
pub(crate) fn bilinear(img: &[f32], w: usize, h: usize, u: f64, v: f64) -> Option<f64> {
    if !(u >= 0.0 && v >= 0.0 && u <= (w - 1) as f64 && v <= (h - 1) as f64) {
        return None;
    }
    let (x0, y0) = ((u as usize).min(w - 1), (v as usize).min(h - 1));
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (ax, ay) = (u - x0 as f64, v - y0 as f64);
    let at = |x: usize, y: usize| f64::from(img[y * w + x]);
    let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * ax;
    let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * ax;
    Some(top + (bottom - top) * ay)
}

/// The largest distance, pixels, between where the Jacobian places a window sample in a
/// source and where exact refractive projection of that sample's own ray ∩ plane puts it, over
/// the window of pixel `(x, y)` of `reference` for the plane at ray depth `d` with normal `n`
/// (`None` when the plane or a projection fails).
pub fn projection_error(
    reference: &Camera<f64>,
    source: &Camera<f64>,
    settings: &PatchMatchSettings,
    (x, y): (usize, usize),
    d: f64,
    n: Vector3<f64>,
) -> Option<f64> {
    let ray = |u: i64, v: i64| {
        let r = pixel_ray(reference, u as usize, v as usize)?;
        Some(Ray {
            o: r.origin.coords,
            v: r.direction,
        })
    };
    let r = ray(x as i64, y as i64)?;
    let p = r.o + r.v * d;
    let on_plane = |q: Ray| {
        let den = n.dot(&q.v);
        (den < -FACING).then(|| q.o + q.v * (n.dot(&(p - q.o)) / den))
    };
    let proj = |q: &Vector3<f64>| {
        let pr = source.project(&Point3::from(*q))?;
        Some(source.distort_pixel(pr.pixel.x, pr.pixel.y))
    };
    let half = (settings.window / 2) as i64;
    let c = proj(&p)?;
    let (xi, yi) = (x as i64, y as i64);
    let mut corners = [(0.0, 0.0, 0.0, 0.0); 5];
    for (k, (dx, dy)) in [(half, 0), (-half, 0), (0, half), (0, -half), (half, half)]
        .into_iter()
        .enumerate()
    {
        let (u, v) = proj(&on_plane(ray(xi + dx, yi + dy)?)?)?;
        corners[k] = (u, v, dx as f64, dy as f64);
    }
    let model = Quadratic::fit(c, &corners)?;
    let mut worst: f64 = 0.0;
    for &dy in &offsets(settings) {
        for &dx in &offsets(settings) {
            let exact = proj(&on_plane(ray(xi + i64::from(dx), yi + i64::from(dy))?)?)?;
            let (u, v) = model.at(f64::from(dx), f64::from(dy));
            worst = worst.max((u - exact.0).hypot(v - exact.1));
        }
    }
    Some(worst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aquamvs_camera::Rig;

    #[test]
    fn pixels_between_the_lattice_take_the_nearest_lattice_plane_along_their_own_ray() {
        let rig = Rig::reference(9, 7).unwrap();
        let image = vec![0.5f32; 63];
        let view = View {
            camera: &rig.cameras[0],
            image: &image,
        };
        let settings = PatchMatchSettings::default();
        let pb = Problem::new(&view, &[view], &settings, (0.01, 5.0));
        // One tilted plane through a point seen by the centre pixel, on every lattice pixel but
        // (2, 2), which has none.
        let n = Vector3::new(0.2, -0.1, -1.0).normalize();
        let c = pb.rays[3 * 9 + 4].unwrap();
        let x0 = c.o + c.v * 0.3;
        let mut planes = vec![(f64::NAN, Vector3::zeros()); 63];
        for (i, p) in planes.iter_mut().enumerate() {
            if on_lattice(i % 9, i / 9, 2) && i != 2 * 9 + 2 {
                *p = (pb.depth_on_plane(i, &x0, &n).unwrap(), n);
            }
        }
        fill_between(&pb, &mut planes, 2);
        for (i, &(d, m)) in planes.iter().enumerate() {
            if i == 2 * 9 + 2 {
                assert!(d.is_nan(), "the lattice pixel without a plane keeps none");
                continue;
            }
            // Every pixel has the plane (met along its own ray), also (2, 2)'s neighbours,
            // which take the next lattice pixel's.
            let want = pb.depth_on_plane(i, &x0, &n).unwrap();
            assert!((d - want).abs() < 1e-12, "pixel {i}: {d} vs {want}");
            assert_eq!(m, n);
        }
        // Without any lattice plane, nothing is filled.
        let mut none = vec![(f64::NAN, Vector3::zeros()); 63];
        fill_between(&pb, &mut none, 2);
        assert!(none.iter().all(|p| p.0.is_nan()));
        assert_eq!(lattice_dims(9, 7, 2), (5, 4));
        assert_eq!(lattice_dims(8, 6, 2), (4, 3));
    }
}
