//! Uniform, seeded, area-proportional sampling of a triangle mesh, and cropping of a mesh to
//! x/y bounds.

use nalgebra::Vector3;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use crate::mesh::Tri;

type V3 = Vector3<f64>;

/// Samples per deterministic RNG stream: the result depends on the seed, never on the number
/// of threads.
const CHUNK: usize = 8192;

/// `n` points drawn uniformly (area-proportional) on the surface of a triangle mesh, from a
/// fixed `seed`: the same inputs give the same points on every machine.
///
/// Faces with an out-of-range index or a non-finite vertex, and degenerate faces, are skipped;
/// a mesh with no usable face gives an empty vector.
pub fn sample_mesh(
    vertices: &[[f64; 3]],
    faces: &[[u32; 3]],
    n: usize,
    seed: u64,
) -> Vec<[f64; 3]> {
    sample_triangles(&usable_triangles(vertices, faces), n, seed)
}

/// The non-degenerate faces with valid indices and finite vertices.
fn usable_triangles(vertices: &[[f64; 3]], faces: &[[u32; 3]]) -> Vec<Tri> {
    faces
        .iter()
        .filter_map(|f| {
            let p = |k: usize| vertices.get(f[k] as usize).map(|v| V3::from(*v));
            let (a, b, c) = (p(0)?, p(1)?, p(2)?);
            let finite = [a, b, c].iter().all(|v| v.iter().all(|x| x.is_finite()));
            if finite { Tri::new(a, b, c) } else { None }
        })
        .collect()
}

/// [`sample_mesh`] with `round(area_mm² × per_mm2)` points. A non-finite or negative density
/// gives no points.
pub fn sample_mesh_density(
    vertices: &[[f64; 3]],
    faces: &[[u32; 3]],
    per_mm2: f64,
    seed: u64,
) -> Vec<[f64; 3]> {
    let tris = usable_triangles(vertices, faces);
    let area_mm2: f64 = tris.iter().map(Tri::area).sum::<f64>() * 1e6;
    let n = area_mm2 * per_mm2;
    if !(n >= 0.0) || !n.is_finite() {
        return Vec::new();
    }
    sample_triangles(&tris, n.round() as usize, seed)
}

pub(crate) fn sample_triangles(tris: &[Tri], n: usize, seed: u64) -> Vec<[f64; 3]> {
    if tris.is_empty() || n == 0 {
        return Vec::new();
    }
    let mut cdf = Vec::with_capacity(tris.len());
    let mut total = 0.0;
    for t in tris {
        total += t.area();
        cdf.push(total);
    }
    let n_chunks = n.div_ceil(CHUNK);
    (0..n_chunks)
        .into_par_iter()
        .flat_map_iter(|ci| {
            let mut rng =
                StdRng::seed_from_u64(seed ^ (ci as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let len = CHUNK.min(n - ci * CHUNK);
            let cdf = &cdf;
            (0..len).map(move |_| {
                let u: f64 = rng.random::<f64>() * total;
                let i = cdf.partition_point(|&c| c <= u).min(tris.len() - 1);
                let t = &tris[i];
                let s: f64 = rng.random::<f64>().sqrt();
                let r: f64 = rng.random();
                let p = t.a * (1.0 - s) + t.b * (s * (1.0 - r)) + t.c * (s * r);
                [p.x, p.y, p.z]
            })
        })
        .collect()
}

/// The parts of the triangles inside `x0 ≤ x ≤ x1, y0 ≤ y ≤ y1` (vertical walls: the crop is
/// on x and y only), fan-triangulated; clipped slivers that are degenerate are dropped.
pub(crate) fn crop_triangles(tris: &[Tri], b: [f64; 4]) -> Vec<Tri> {
    let mut out = Vec::new();
    let mut poly: Vec<V3> = Vec::with_capacity(8);
    let mut next: Vec<V3> = Vec::with_capacity(8);
    // Half-planes as (axis, bound, keep-greater).
    let planes = [
        (0, b[0], true),
        (0, b[1], false),
        (1, b[2], true),
        (1, b[3], false),
    ];
    for t in tris {
        let inside = |p: &V3| p.x >= b[0] && p.x <= b[1] && p.y >= b[2] && p.y <= b[3];
        if inside(&t.a) && inside(&t.b) && inside(&t.c) {
            out.push(*t);
            continue;
        }
        poly.clear();
        poly.extend([t.a, t.b, t.c]);
        for &(axis, bound, greater) in &planes {
            next.clear();
            let keep = |p: &V3| {
                if greater {
                    p[axis] >= bound
                } else {
                    p[axis] <= bound
                }
            };
            for i in 0..poly.len() {
                let p = poly[i];
                let q = poly[(i + 1) % poly.len()];
                let (kp, kq) = (keep(&p), keep(&q));
                if kp {
                    next.push(p);
                }
                if kp != kq {
                    let s = (bound - p[axis]) / (q[axis] - p[axis]);
                    let mut x = p + (q - p) * s;
                    x[axis] = bound;
                    next.push(x);
                }
            }
            std::mem::swap(&mut poly, &mut next);
            if poly.len() < 3 {
                break;
            }
        }
        for k in 1..poly.len().saturating_sub(1) {
            if let Some(t) = Tri::new(poly[0], poly[k], poly[k + 1]) {
                out.push(t);
            }
        }
    }
    out
}

/// The plan's **simulated** matcher: what a feature matcher's output would look like if it
/// found `n` uniform points of the true surface, each moved by isotropic Gaussian noise of
/// `sigma_mm`, and lost a `drop_fraction` of them. A stand-in for "LightGlue-like" and
/// "RoMa-like" results where no such matcher is run; **every output that shows it must say
/// "simulated"**. Seeded: the same inputs give the same points.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimulatedMatcher {
    /// Surface samples before dropping.
    pub n: usize,
    /// Noise per coordinate, mm.
    pub sigma_mm: f64,
    /// Fraction of the samples dropped, in [0, 1].
    pub drop_fraction: f64,
}

impl SimulatedMatcher {
    /// The simulated points on the mesh `vertices`/`faces`, metres.
    pub fn points(
        &self,
        vertices: &[[f64; 3]],
        faces: &[[u32; 3]],
        seed: u64,
    ) -> Result<Vec<[f64; 3]>, crate::MetricsError> {
        use rand::seq::SliceRandom;
        use rand_distr::{Distribution, Normal};
        let valid = self.sigma_mm.is_finite()
            && self.sigma_mm >= 0.0
            && (0.0..=1.0).contains(&self.drop_fraction);
        if !valid {
            return Err(crate::MetricsError::InvalidSimulation(format!(
                "sigma {} mm and drop fraction {} (need sigma >= 0 and 0 <= drop <= 1)",
                self.sigma_mm, self.drop_fraction
            )));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let noise = Normal::new(0.0, self.sigma_mm * 1e-3)
            .map_err(|e| crate::MetricsError::InvalidSimulation(e.to_string()))?;
        let mut points: Vec<[f64; 3]> = sample_mesh(vertices, faces, self.n, seed)
            .into_iter()
            .map(|p| p.map(|c| c + noise.sample(&mut rng)))
            .collect();
        points.shuffle(&mut rng);
        points.truncate(((self.n as f64) * (1.0 - self.drop_fraction)).round() as usize);
        Ok(points)
    }
}
