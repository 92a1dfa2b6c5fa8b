//! The CPU reference sweep: the same algorithm as the shaders, in `f64`, rows in parallel
//! (rayon).

use std::time::Instant;

use rayon::prelude::*;

use crate::rays::checked_rays;
use crate::select::{WtaState, ncc_cost};
use crate::{CENTRE, SweepError, SweepOutput, SweepSettings, SweepTimings, View};

/// Bilinear sample at `(u, v)`; `None` unless `0 ≤ u ≤ width−1` and `0 ≤ v ≤ height−1`.
pub(crate) fn bilinear(img: &[f32], width: usize, height: usize, u: f64, v: f64) -> Option<f64> {
    if !(u >= 0.0 && v >= 0.0 && u <= (width - 1) as f64 && v <= (height - 1) as f64) {
        return None;
    }
    let x0 = (u as usize).min(width - 1);
    let y0 = (v as usize).min(height - 1);
    let x1 = (x0 + 1).min(width - 1);
    let y1 = (y0 + 1).min(height - 1);
    let fx = u - x0 as f64;
    let fy = v - y0 as f64;
    let at = |x: usize, y: usize| img[y * width + x] as f64;
    let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * fx;
    let bottom = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * fx;
    Some(top + (bottom - top) * fy)
}

/// The plane sweep on the CPU (`f64`, multi-threaded). Same inputs, outputs and algorithm as
/// [`crate::GpuSweep::run`]; `settings.batch` is ignored.
pub fn sweep_cpu(
    reference: View,
    sources: &[View],
    settings: &SweepSettings,
    range: (f32, f32),
) -> Result<SweepOutput, SweepError> {
    let start = Instant::now();
    let rays = checked_rays(&reference, sources, settings, range)?;
    let cam = reference.camera;
    let (w, h) = (cam.width as usize, cam.height as usize);
    let n = w * h;
    // Centred reference values; NaN where the pixel has no ray (masked like an invalid sample).
    let refv: Vec<f64> = rays
        .iter()
        .zip(reference.image)
        .map(|(r, &v)| match r {
            Some(_) => v as f64 - CENTRE as f64,
            None => f64::NAN,
        })
        .collect();
    let setup_s = start.elapsed().as_secs_f64();
    let win = settings.window as usize;
    let half = win / 2;
    let depths = settings.depths;
    let inv_sources = 1.0 / sources.len() as f64;

    let mut crossing: Vec<Vec<f64>> = vec![vec![f64::NAN; n]; sources.len()];
    let mut states = vec![WtaState::default(); n];
    let mut agg = vec![0.0f64; n];
    let mut moments = vec![[0.0f64; 6]; n];
    let mut hsum = vec![[0.0f64; 6]; n];
    let mut cost_volume = settings
        .keep_cost_volume
        .then(|| Vec::with_capacity(n * depths as usize));

    for k in 0..depths {
        let d = settings.depth_of(range, k);
        agg.fill(0.0);
        for (src, cross) in sources.iter().zip(crossing.iter_mut()) {
            let scam = src.camera;
            let (sw, sh) = (scam.width as usize, scam.height as usize);
            // Warp, and the six masked moments per pixel.
            moments
                .par_chunks_mut(w)
                .zip(cross.par_chunks_mut(w))
                .enumerate()
                .for_each(|(v, (mrow, crow))| {
                    for u in 0..w {
                        let p = v * w + u;
                        let r = refv[p];
                        let mut s = f64::NAN;
                        if let Some(ray) = &rays[p] {
                            let guess = crow[u].is_finite().then_some(crow[u]);
                            if let Some(pr) = scam.project_from(&ray.at(d), guess) {
                                crow[u] = pr.crossing_r;
                                let (x, y) = scam.distort_pixel(pr.pixel.x, pr.pixel.y);
                                if let Some(val) = bilinear(src.image, sw, sh, x, y) {
                                    s = val - CENTRE as f64;
                                }
                            }
                        }
                        mrow[u] = if r.is_finite() && s.is_finite() {
                            [1.0, r, r * r, s, s * s, r * s]
                        } else {
                            [0.0; 6]
                        };
                    }
                });
            // Horizontal window sums.
            hsum.par_chunks_mut(w)
                .zip(moments.par_chunks(w))
                .for_each(|(hrow, mrow)| {
                    for (u, out) in hrow.iter_mut().enumerate() {
                        let a = u.saturating_sub(half);
                        let b = (u + half + 1).min(w);
                        let mut acc = [0.0; 6];
                        for m in &mrow[a..b] {
                            for (x, y) in acc.iter_mut().zip(m) {
                                *x += y;
                            }
                        }
                        *out = acc;
                    }
                });
            // Vertical window sums → cost, summed over sources.
            agg.par_chunks_mut(w).enumerate().for_each(|(v, arow)| {
                let a = v.saturating_sub(half);
                let b = (v + half + 1).min(h);
                for u in 0..w {
                    let mut acc = [0.0; 6];
                    for y in a..b {
                        for (x, y) in acc.iter_mut().zip(&hsum[y * w + u]) {
                            *x += y;
                        }
                    }
                    arow[u] += ncc_cost(acc, settings.window);
                }
            });
        }
        states.par_iter_mut().zip(&agg).for_each(|(st, &c)| {
            st.update(k, c * inv_sources);
        });
        if let Some(cv) = cost_volume.as_mut() {
            cv.extend(agg.iter().map(|&c| (c * inv_sources) as f32));
        }
    }

    let (lo, step) = (range.0 as f64, settings.step(range));
    let mut depth = vec![f32::NAN; n];
    let mut confidence = vec![0.0f32; n];
    depth
        .par_iter_mut()
        .zip(confidence.par_iter_mut())
        .enumerate()
        .for_each(|(p, (d, c))| {
            if rays[p].is_some() {
                let (dd, cc) = states[p].finish(depths, lo, step);
                *d = dd as f32;
                *c = cc as f32;
            }
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
