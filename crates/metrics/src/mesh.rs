//! Point-to-mesh distances: parry3d's BVH over the triangles, exact f64 distances at the leaves.

use nalgebra::Vector3;
use parry3d::bounding_volume::Aabb;
use parry3d::math::Point;
use parry3d::partitioning::{Bvh, BvhBuildStrategy, BvhNode};
use rayon::prelude::*;

use crate::MetricsError;

type V3 = Vector3<f64>;

/// One non-degenerate triangle, in f64.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tri {
    pub(crate) a: V3,
    pub(crate) b: V3,
    pub(crate) c: V3,
    /// Unit normal (right-handed in a, b, c).
    n: V3,
}

impl Tri {
    /// `None` when the triangle is degenerate: its area is below `1e-10` times its longest edge
    /// squared (a sliver thinner than 1e-10 rad, a segment or a point).
    pub(crate) fn new(a: V3, b: V3, c: V3) -> Option<Self> {
        let cross = (b - a).cross(&(c - a));
        let len = cross.norm();
        let longest = (b - a)
            .norm_squared()
            .max((c - a).norm_squared())
            .max((c - b).norm_squared());
        if !(len > 1e-10 * longest) || !len.is_finite() {
            return None;
        }
        Some(Self {
            a,
            b,
            c,
            n: cross / len,
        })
    }

    /// Area in m².
    pub(crate) fn area(&self) -> f64 {
        0.5 * (self.b - self.a).cross(&(self.c - self.a)).norm()
    }

    /// Squared distance from `p` to the triangle (closest point by Voronoi region, after
    /// Ericson, *Real-Time Collision Detection*, 5.1.5). In the face region the distance is the
    /// projection on the unit normal, which keeps full precision for large triangles.
    #[inline]
    pub(crate) fn dist2(&self, p: &V3) -> f64 {
        let (a, b, c) = (&self.a, &self.b, &self.c);
        let ab = b - a;
        let ac = c - a;
        let ap = p - a;
        let d1 = ab.dot(&ap);
        let d2 = ac.dot(&ap);
        if d1 <= 0.0 && d2 <= 0.0 {
            return ap.norm_squared();
        }
        let bp = p - b;
        let d3 = ab.dot(&bp);
        let d4 = ac.dot(&bp);
        if d3 >= 0.0 && d4 <= d3 {
            return bp.norm_squared();
        }
        let vc = d1 * d4 - d3 * d2;
        if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
            let v = d1 / (d1 - d3);
            return (ap - ab * v).norm_squared();
        }
        let cp = p - c;
        let d5 = ab.dot(&cp);
        let d6 = ac.dot(&cp);
        if d6 >= 0.0 && d5 <= d6 {
            return cp.norm_squared();
        }
        let vb = d5 * d2 - d1 * d6;
        if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
            let w = d2 / (d2 - d6);
            return (ap - ac * w).norm_squared();
        }
        let va = d3 * d6 - d5 * d4;
        if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
            let w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
            return (bp - (c - b) * w).norm_squared();
        }
        let h = self.n.dot(&ap);
        h * h
    }
}

/// A triangle mesh prepared for point-to-surface distance queries.
///
/// The BVH is parry3d's [`Bvh`] (binned SAH build) over one axis-aligned box per triangle,
/// stored in f32 **relative to the centre of the mesh's bounding box** and padded outward, so
/// that pruning is conservative; the distance at each leaf is computed in f64 from the
/// original coordinates. Distances are therefore exact to f64 rounding (parry's own
/// `TriMesh::project_point` would work in f32 world coordinates: about 0.1 µm of rounding at
/// the reference scene's 1.2 m).
///
/// Degenerate triangles (see [`MeshIndex::n_degenerate`]) are left out.
#[derive(Debug, Clone)]
pub struct MeshIndex {
    pub(crate) tris: Vec<Tri>,
    bvh: Bvh,
    origin: V3,
    n_input: usize,
}

impl MeshIndex {
    /// Validates the mesh and builds the BVH.
    ///
    /// Errors: no faces, a face index out of range, a face using a non-finite vertex, or only
    /// degenerate triangles.
    pub fn new(vertices: &[[f64; 3]], faces: &[[u32; 3]]) -> Result<Self, MetricsError> {
        let tris = valid_triangles(vertices, faces)?;
        if tris.is_empty() {
            return Err(MetricsError::AllTrianglesDegenerate { n: faces.len() });
        }
        let (mut lo, mut hi) = (V3::repeat(f64::INFINITY), V3::repeat(f64::NEG_INFINITY));
        for t in &tris {
            for v in [&t.a, &t.b, &t.c] {
                lo = lo.inf(v);
                hi = hi.sup(v);
            }
        }
        let origin = (lo + hi) * 0.5;
        let scale = (hi - lo).amax().max(f64::MIN_POSITIVE);
        // Covers the rounding of the box corners and of the query point to f32.
        let pad = 4.0 * f32::EPSILON as f64 * scale;
        let aabbs: Vec<Aabb> = tris
            .par_iter()
            .map(|t| {
                let mut mn = [0f32; 3];
                let mut mx = [0f32; 3];
                for k in 0..3 {
                    let l = t.a[k].min(t.b[k]).min(t.c[k]) - origin[k] - pad;
                    let h = t.a[k].max(t.b[k]).max(t.c[k]) - origin[k] + pad;
                    mn[k] = round_down(l);
                    mx[k] = round_up(h);
                }
                Aabb::new(Point::from(mn), Point::from(mx))
            })
            .collect();
        let bvh = Bvh::from_leaves(BvhBuildStrategy::Binned, &aabbs);
        Ok(Self {
            tris,
            bvh,
            origin,
            n_input: faces.len(),
        })
    }

    /// Number of faces given to [`MeshIndex::new`].
    pub fn n_faces(&self) -> usize {
        self.n_input
    }

    /// Number of faces left out as degenerate (area below `1e-10` × longest edge²).
    pub fn n_degenerate(&self) -> usize {
        self.n_input - self.tris.len()
    }

    /// Total area of the kept triangles, m².
    pub fn area_m2(&self) -> f64 {
        self.tris.iter().map(Tri::area).sum()
    }

    /// Unsigned distance (metres) from `p` to the nearest point of the mesh surface.
    /// `p` must be finite.
    pub fn distance(&self, p: &[f64; 3]) -> f64 {
        self.nearest(p, None).1
    }

    /// (triangle, distance) of the nearest triangle. `hint`, a triangle near `p` (the answer
    /// for a neighbouring point), bounds the search from the start: the result is the same,
    /// found faster.
    #[inline]
    fn nearest(&self, p: &[f64; 3], hint: Option<u32>) -> (u32, f64) {
        let p = V3::from(*p);
        let q = p - self.origin;
        let q = [q.x as f32, q.y as f32, q.z as f32];
        let aabb_cost = |node: &BvhNode, _best: f32| {
            let (mn, mx) = (node.mins(), node.maxs());
            let mut d2 = 0f32;
            for k in 0..3 {
                let d = (mn[k] - q[k]).max(q[k] - mx[k]).max(0.0);
                d2 += d * d;
            }
            d2
        };
        let leaf_cost = |leaf: u32, _best: f32| {
            let d2 = self.tris[leaf as usize].dist2(&p);
            Some((d2 as f32, d2))
        };
        // The hint's own distance is an upper bound; pad it so the hint itself still passes
        // find_best's strict `<` after rounding to f32.
        let (start, fallback) = match hint {
            Some(h) => {
                let d2 = self.tris[h as usize].dist2(&p);
                (
                    (d2 as f32 * (1.0 + 4.0 * f32::EPSILON)).next_up(),
                    Some((h, d2)),
                )
            }
            None => (f32::MAX, None),
        };
        match self.bvh.find_best(start, aabb_cost, leaf_cost) {
            Some((t, (_, d2))) => match fallback {
                Some((h, hd2)) if hd2 < d2 => (h, hd2.sqrt()),
                _ => (t, d2.sqrt()),
            },
            None => match fallback {
                Some((h, hd2)) => (h, hd2.sqrt()),
                // Only for points so far away that their squared distance overflows f32.
                None => self
                    .tris
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (i as u32, t.dist2(&p)))
                    .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a })
                    .pipe_sqrt(),
            },
        }
    }

    /// [`MeshIndex::distance`] for every point, in parallel (rayon). Points must be finite.
    ///
    /// The queries run in Morton (Z-curve) order, each starting from the previous one's
    /// triangle: neighbouring queries touch the same part of the tree (cache), and the
    /// starting bound prunes most of it. The result is in the input order and does not depend
    /// on the order.
    pub fn distances(&self, points: &[[f64; 3]]) -> Vec<f64> {
        let order = morton_order(points);
        let mut sorted_d = vec![0.0; points.len()];
        sorted_d
            .par_chunks_mut(2048)
            .zip(order.par_chunks(2048))
            .for_each(|(out, idx)| {
                let mut hint = None;
                for (o, &i) in out.iter_mut().zip(idx) {
                    let (t, d) = self.nearest(&points[i as usize], hint);
                    hint = Some(t);
                    *o = d;
                }
            });
        let mut d = vec![0.0; points.len()];
        for (&i, v) in order.iter().zip(sorted_d) {
            d[i as usize] = v;
        }
        d
    }
}

trait PipeSqrt {
    fn pipe_sqrt(self) -> (u32, f64);
}

impl PipeSqrt for (u32, f64) {
    fn pipe_sqrt(self) -> (u32, f64) {
        (self.0, self.1.sqrt())
    }
}

/// Indices of `points` sorted along a 3-D Morton curve (21 bits per axis over their bounding
/// box).
pub(crate) fn morton_order(points: &[[f64; 3]]) -> Vec<u32> {
    let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
    for p in points {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let scale: Vec<f64> = (0..3)
        .map(|k| {
            let e = hi[k] - lo[k];
            if e > 0.0 { 2_097_151.0 / e } else { 0.0 }
        })
        .collect();
    let spread = |x: u64| {
        let mut x = x & 0x1f_ffff;
        x = (x | x << 32) & 0x1f_0000_0000_ffff;
        x = (x | x << 16) & 0x1f_0000_ff00_00ff;
        x = (x | x << 8) & 0x100f_00f0_0f00_f00f;
        x = (x | x << 4) & 0x10c3_0c30_c30c_30c3;
        x = (x | x << 2) & 0x1249_2492_4924_9249;
        x
    };
    let mut keyed: Vec<(u64, u32)> = points
        .par_iter()
        .enumerate()
        .map(|(i, p)| {
            let c = |k: usize| ((p[k] - lo[k]) * scale[k]) as u64;
            (
                spread(c(0)) | spread(c(1)) << 1 | spread(c(2)) << 2,
                i as u32,
            )
        })
        .collect();
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

fn round_down(x: f64) -> f32 {
    let f = x as f32;
    if f as f64 > x { f.next_down() } else { f }
}

fn round_up(x: f64) -> f32 {
    let f = x as f32;
    if (f as f64) < x { f.next_up() } else { f }
}

/// Checks the faces and returns the non-degenerate triangles.
pub(crate) fn valid_triangles(
    vertices: &[[f64; 3]],
    faces: &[[u32; 3]],
) -> Result<Vec<Tri>, MetricsError> {
    if faces.is_empty() {
        return Err(MetricsError::NoTriangles);
    }
    let mut tris = Vec::with_capacity(faces.len());
    for (fi, f) in faces.iter().enumerate() {
        let mut v = [V3::zeros(); 3];
        for k in 0..3 {
            let i = f[k] as usize;
            let p = vertices.get(i).ok_or(MetricsError::FaceIndexOutOfRange {
                face: fi,
                index: f[k],
                n_vertices: vertices.len(),
            })?;
            if !p.iter().all(|c| c.is_finite()) {
                return Err(MetricsError::NonFiniteVertex { index: i });
            }
            v[k] = V3::from(*p);
        }
        if let Some(t) = Tri::new(v[0], v[1], v[2]) {
            tris.push(t);
        }
    }
    Ok(tris)
}
