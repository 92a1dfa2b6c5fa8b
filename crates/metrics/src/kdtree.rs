//! A static k-d tree for nearest-point queries within a radius.

use rayon::prelude::*;

/// Points per leaf.
const LEAF: usize = 12;

/// A static, balanced k-d tree over a point cloud (for the ground-truth → reconstruction
/// nearest-point queries of recall / completeness).
///
/// Layout: the points are reordered so that every subtree is a contiguous range whose median
/// point sits in the middle; `split[mid]` holds that node's split axis (the widest extent of
/// its points). Nothing else is stored. Built in parallel (rayon), O(n log n).
#[derive(Debug, Clone)]
pub struct PointTree {
    pts: Vec<[f64; 3]>,
    split: Vec<u8>,
}

impl PointTree {
    /// Builds the tree over `points` (finite coordinates expected).
    pub fn new(points: &[[f64; 3]]) -> Self {
        let mut pts = points.to_vec();
        let mut split = vec![0u8; pts.len()];
        build(&mut pts, &mut split);
        Self { pts, split }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.pts.len()
    }

    /// Whether the tree holds no point.
    pub fn is_empty(&self) -> bool {
        self.pts.is_empty()
    }

    /// Distance to the nearest point if it is within `max_dist` (inclusive), else `None`.
    pub fn nearest_within(&self, q: &[f64; 3], max_dist: f64) -> Option<f64> {
        let mut best = max_dist * max_dist;
        let mut found = false;
        let mut off = [0.0; 3];
        self.search(q, 0, self.pts.len(), 0.0, &mut off, &mut best, &mut found);
        found.then(|| best.sqrt())
    }

    /// Arya and Mount's incremental search: `rd` is the squared distance from `q` to the cell
    /// of `lo..hi` (the intersection of the half-spaces above it), `off` its per-axis offsets.
    /// Far cells are entered only when strictly closer than the best so far, so duplicates
    /// (many points at one place) do not make the search visit every node.
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        q: &[f64; 3],
        lo: usize,
        hi: usize,
        rd: f64,
        off: &mut [f64; 3],
        best: &mut f64,
        found: &mut bool,
    ) {
        if hi - lo <= LEAF {
            for p in &self.pts[lo..hi] {
                let d2 = dist2(p, q);
                if d2 <= *best {
                    *best = d2;
                    *found = true;
                }
            }
            return;
        }
        let mid = lo + (hi - lo) / 2;
        let axis = self.split[mid] as usize;
        let m = &self.pts[mid];
        let d2 = dist2(m, q);
        if d2 <= *best {
            *best = d2;
            *found = true;
        }
        let diff = q[axis] - m[axis];
        let (near, far) = if diff < 0.0 {
            ((lo, mid), (mid + 1, hi))
        } else {
            ((mid + 1, hi), (lo, mid))
        };
        self.search(q, near.0, near.1, rd, off, best, found);
        let old = off[axis];
        let far_rd = rd - old * old + diff * diff;
        if far_rd < *best {
            off[axis] = diff;
            self.search(q, far.0, far.1, far_rd, off, best, found);
            off[axis] = old;
        }
    }
}

#[inline]
fn dist2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    let (x, y, z) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    x * x + y * y + z * z
}

fn build(pts: &mut [[f64; 3]], split: &mut [u8]) {
    let n = pts.len();
    if n <= LEAF {
        return;
    }
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in pts.iter() {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let axis = (0..3)
        .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
        .unwrap_or(0);
    let mid = n / 2;
    pts.select_nth_unstable_by(mid, |a, b| a[axis].total_cmp(&b[axis]));
    split[mid] = axis as u8;
    let (pl, pr) = pts.split_at_mut(mid);
    let (sl, sr) = split.split_at_mut(mid);
    let (pr, sr) = (&mut pr[1..], &mut sr[1..]);
    if n > 50_000 {
        rayon::join(|| build(pl, sl), || build(pr, sr));
    } else {
        build(pl, sl);
        build(pr, sr);
    }
}

/// For each query, the distance to the nearest of `tree`'s points if within `max_dist`, in
/// parallel.
pub(crate) fn nearest_all(
    tree: &PointTree,
    queries: &[[f64; 3]],
    max_dist: f64,
) -> Vec<Option<f64>> {
    queries
        .par_iter()
        .with_min_len(1024)
        .map(|q| tree.nearest_within(q, max_dist))
        .collect()
}
