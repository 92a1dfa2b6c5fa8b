//! The CPU reference (`f64`): the algorithm of the crate notes, pixel by pixel.

use std::time::Instant;

use aquamvs_sweep::View;
use nalgebra::Vector3;
use rayon::prelude::*;

use crate::curved;
use crate::problem::{
    CURVED_POLISH_STEPS, Curv, FACING, MAX_COST, POLISH_STEPS, Problem, curved_polish_start,
    fill_between, lattice_dims, neighbours, on_lattice, polish_offset, polish_start, refine_scale,
    uniform,
};
use crate::{PatchMatchError, PatchMatchOutput, PatchMatchSettings, PatchMatchTimings};

/// One pixel's plane and its cost.
#[derive(Debug, Clone, Copy)]
struct Plane {
    d: f64,
    n: Vector3<f64>,
    cost: f64,
}

const NONE: Plane = Plane {
    d: f64::NAN,
    n: Vector3::new(0.0, 0.0, 0.0),
    cost: MAX_COST,
};

/// `n` moved by `scale · (2a−1, 2b−1, 2c−1)` and normalised.
pub(crate) fn perturb(n: &Vector3<f64>, scale: f64, a: f64, b: f64, c: f64) -> Vector3<f64> {
    (n + scale * Vector3::new(2.0 * a - 1.0, 2.0 * b - 1.0, 2.0 * c - 1.0)).normalize()
}

/// PatchMatch on the CPU: `reference` against `sources` over ray depths `range`; `init` is an
/// optional starting depth map (one value per reference pixel, NaN where none: those pixels
/// start at random).
pub fn patchmatch_cpu(
    reference: View,
    sources: &[View],
    settings: &PatchMatchSettings,
    range: (f32, f32),
    init: Option<&[f32]>,
) -> Result<PatchMatchOutput, PatchMatchError> {
    crate::check_inputs(&reference, sources, settings, range, init)?;
    let t0 = Instant::now();
    let pb = Problem::new(&reference, sources, settings, range);
    let setup_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let (w, h) = (pb.w, pb.h);
    let (lo, hi) = pb.range;
    let seed = settings.seed;
    let s = settings.lattice;
    let (lw, lh) = lattice_dims(w, h, s);
    let mut state: Vec<Plane> = (0..w * h)
        .into_par_iter()
        .map(|i| {
            let Some(r) = pb.rays[i].filter(|_| on_lattice(i % w, i / w, s)) else {
                return NONE;
            };
            let u = |k| uniform(seed, i as u32, 0, k);
            let given = init
                .map(|m| f64::from(m[i]))
                .filter(|d| *d >= lo && *d <= hi);
            let (d, n) = match given {
                Some(d) => (d, Vector3::new(0.0, 0.0, -1.0)),
                None => (lo + u(0) * (hi - lo), perturb(&-r.v, 1.0, u(1), u(2), u(3))),
            };
            let (cost, _) = pb.cost(i % w, i / w, d, &n);
            Plane { d, n, cost }
        })
        .collect();
    for round in 0..settings.iterations {
        for colour in 0..2 {
            let step = 1 + 2 * round + colour;
            // Red–black on the lattice: lattice pixel (lx, ly) is pixel (s·lx, s·ly).
            let updates: Vec<(usize, Plane)> = (0..lh)
                .into_par_iter()
                .flat_map_iter(|ly| {
                    let start = (ly + colour as usize) % 2;
                    let (pb, state) = (&pb, &state);
                    let (s, y) = (s as usize, s as usize * ly);
                    (start..lw).step_by(2).map(move |lx| {
                        let x = s * lx;
                        (y * w + x, update(pb, state, (x, y), s as i64, round, step))
                    })
                })
                .collect();
            for (i, p) in updates {
                state[i] = p;
            }
        }
    }
    // The plane polish (on the lattice), then (with a curved window) the quadric fit and the
    // curved polish of every pixel.
    // The rounds' cost is over every source when top_k covers them; the curved polish
    // computes its own.
    let start = polish_start(settings, pb.range);
    let known = settings.top_k as usize >= sources.len();
    let last = settings.curved_window == 0;
    let mut state: Vec<Plane> = state
        .par_iter()
        .enumerate()
        .map(|(i, p)| polish(&pb, *p, (i % w, i / w), start, POLISH_STEPS, (known, last)))
        .collect();
    if settings.curved_window > 0 {
        let mut planes: Vec<(f64, Vector3<f64>)> = state.iter().map(|p| (p.d, p.n)).collect();
        fill_between(&pb, &mut planes, s);
        for (p, &(d, n)) in state.iter_mut().zip(&planes) {
            if !p.d.is_finite() && d.is_finite() {
                *p = Plane {
                    d,
                    n,
                    cost: MAX_COST,
                };
            }
        }
        let fits = curved::fit(&pb, &planes, settings.curvature_radius, s);
        let curv = fits
            .iter()
            .map(|f| f.map_or(Curv { k: [0.0; 3] }, |f| f.curv))
            .collect();
        let cpb = pb.curved(curv);
        state = state
            .par_iter()
            .zip(&fits)
            .enumerate()
            .map(|(i, (p, f))| {
                let start = f.map_or(*p, |f| Plane {
                    d: f.d,
                    n: f.n,
                    cost: p.cost,
                });
                let delta = curved_polish_start(settings, pb.range);
                polish(
                    &cpb,
                    start,
                    (i % w, i / w),
                    delta,
                    CURVED_POLISH_STEPS,
                    (false, true),
                )
            })
            .collect();
    }
    let run_s = t1.elapsed().as_secs_f64();
    let max_cost = f64::from(settings.max_cost);
    let mut out = PatchMatchOutput {
        width: w as u32,
        height: h as u32,
        depth: vec![f32::NAN; w * h],
        normal: vec![f32::NAN; 3 * w * h],
        confidence: vec![0.0; w * h],
        cost: state.iter().map(|p| p.cost as f32).collect(),
        timings: PatchMatchTimings {
            setup_s,
            run_s,
            readback_s: 0.0,
        },
    };
    for (i, p) in state.iter().enumerate() {
        if p.d.is_finite() && p.cost <= max_cost {
            out.depth[i] = p.d as f32;
            for k in 0..3 {
                out.normal[3 * i + k] = p.n[k] as f32;
            }
            out.confidence[i] = (1.0 - p.cost).clamp(0.0, 1.0) as f32;
        }
    }
    crate::finish(&mut out, settings, pb.range);
    Ok(out)
}

/// The new plane of pixel `(x, y)` in half-round `step` of `round`: the planes of its
/// neighbours on the lattice of spacing `s`, then three refinements.
fn update(
    pb: &Problem,
    state: &[Plane],
    (x, y): (usize, usize),
    s: i64,
    round: u32,
    step: u32,
) -> Plane {
    let (w, h) = (pb.w, pb.h);
    let i = y * w + x;
    let mut best = state[i];
    let Some(r) = pb.rays[i] else {
        return best;
    };
    // View selection: the current plane picks the best `top_k` sources; every candidate is
    // scored on those.
    let all = (1u32 << pb.sources.len()) - 1;
    let mask = if pb.settings.top_k as usize >= pb.sources.len() {
        // Every source is picked: the stored cost is already over all of them.
        all
    } else if best.d.is_finite() {
        let (cost, mask) = pb.cost(x, y, best.d, &best.n);
        best.cost = cost;
        mask
    } else {
        all
    };
    let try_plane = |best: &mut Plane, d: f64, n: Vector3<f64>| {
        if !(d >= pb.range.0 && d <= pb.range.1 && n.dot(&r.v) < -FACING) {
            return;
        }
        let cost = pb.cost_on(x, y, d, &n, mask);
        if cost < best.cost {
            *best = Plane { d, n, cost };
        }
    };
    for &(dx, dy) in neighbours(round) {
        let (nx, ny) = (x as i64 + s * i64::from(dx), y as i64 + s * i64::from(dy));
        if nx < 0 || ny < 0 || nx >= w as i64 || ny >= h as i64 {
            continue;
        }
        let j = ny as usize * w + nx as usize;
        let (q, Some(rq)) = (state[j], pb.rays[j]) else {
            continue;
        };
        if !q.d.is_finite() {
            continue;
        }
        let xq = rq.o + rq.v * q.d;
        if let Some(d) = pb.depth_on_plane(i, &xq, &q.n) {
            try_plane(&mut best, d, q.n);
        }
    }
    let seed = pb.settings.seed;
    let u = |k| uniform(seed, i as u32, step, k);
    let scale = refine_scale(round);
    let (lo, hi) = pb.range;
    let d = lo + u(0) * (hi - lo);
    let n = best.n;
    try_plane(&mut best, d, n);
    let d = best.d + (2.0 * u(1) - 1.0) * scale * 0.25 * (hi - lo);
    let n = perturb(&best.n, scale, u(2), u(3), u(4));
    try_plane(&mut best, d, n);
    let n = perturb(&best.n, scale, u(5), u(6), u(7));
    let d = best.d;
    try_plane(&mut best, d, n);
    best
}

/// The depth polish of one pixel's plane: `steps` parabola steps along its ray
/// (`polish_offset`, δ halving from `delta`) with the normal kept, on the sources the plane
/// picks; the result is the last step's depth and its cost. With `known`, the plane's cost is
/// already over every source (`top_k` covers them) and is not computed again; without `last`,
/// the last depth's cost is left to whoever polishes next (the cost is then the one before).
fn polish(
    pb: &Problem,
    mut best: Plane,
    (x, y): (usize, usize),
    mut delta: f64,
    steps: u32,
    (known, last): (bool, bool),
) -> Plane {
    if !best.d.is_finite() {
        return best;
    }
    let mask = if known {
        (1u32 << pb.sources.len()) - 1
    } else {
        let (cost, mask) = pb.cost(x, y, best.d, &best.n);
        best.cost = cost;
        mask
    };
    let n = best.n;
    let (lo, hi) = pb.range;
    let cost_at = |d: f64| {
        if d >= lo && d <= hi {
            pb.cost_on(x, y, d, &n, mask)
        } else {
            MAX_COST
        }
    };
    for k in 0..steps {
        let (cm, cp) = (cost_at(best.d - delta), cost_at(best.d + delta));
        best.d = (best.d + polish_offset(best.cost, cm, cp) * delta).clamp(lo, hi);
        if last || k + 1 < steps {
            best.cost = cost_at(best.d);
        }
        delta *= 0.5;
    }
    best
}
