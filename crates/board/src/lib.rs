//! The AquaMVS ground-truth board protocol on exact ground truth (issue 15, first part).
//!
//! `McGrathLab/AquaMVS_gtanalysis` validated AquaMVS with a submerged ChArUco board: 12×9
//! squares of 60 mm, held at several poses; each detected inner corner is transferred to 3-D by
//! casting the camera's refracted ray and reading that camera's depth map there. This crate
//! holds the parts of that protocol that are pure geometry, with no image and no file:
//!
//! - [`Board`]: the square grid and its inner corners (ids row-major), in the board frame;
//! - [`BoardPose`]: where the board is (centre, tilt angle, tilt axis) and its corners in the
//!   world frame (+X right, +Y forward, +Z down into the water, metres);
//! - [`default_poses`]: eight poses spanning the paper's working volume around a centre;
//! - [`metrics`]: the paper's figures (flatness, cross-camera agreement, range/lateral split,
//!   Umeyama scale, board-size CV) and the absolute error a real board cannot give.

use nalgebra::{Point3, Rotation3, Unit, Vector3};
use serde::{Deserialize, Serialize};

pub mod detect;
pub mod metrics;

pub use detect::{DetectSettings, Gray, refine_corner};
pub use metrics::{BoardMetrics, MetricsError, Observation, PoseMetrics, board_metrics};

/// A checkerboard: `cols × rows` squares of side `square` metres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Board {
    pub cols: usize,
    pub rows: usize,
    pub square: f64,
}

impl Default for Board {
    /// The paper's board: 12×9 squares of 60 mm.
    fn default() -> Self {
        Board {
            cols: 12,
            rows: 9,
            square: 0.060,
        }
    }
}

impl Board {
    /// Inner corners across (`cols − 1`) and down (`rows − 1`).
    pub fn inner(&self) -> (usize, usize) {
        (self.cols.saturating_sub(1), self.rows.saturating_sub(1))
    }

    /// Number of inner corners (88 for the paper's board).
    pub fn corner_count(&self) -> usize {
        let (nx, ny) = self.inner();
        nx * ny
    }

    /// Inner corner `id` (row-major: `id = j·(cols − 1) + i`) in the board frame: the board's
    /// centre at the origin, x along the `cols` side, y along the `rows` side, z = 0.
    pub fn corner(&self, id: usize) -> Point3<f64> {
        let (nx, _) = self.inner();
        let (i, j) = (id % nx, id / nx);
        Point3::new(
            (i as f64 + 1.0 - self.cols as f64 / 2.0) * self.square,
            (j as f64 + 1.0 - self.rows as f64 / 2.0) * self.square,
            0.0,
        )
    }

    /// Every inner corner in the board frame, in id order.
    pub fn corners(&self) -> Vec<Point3<f64>> {
        (0..self.corner_count()).map(|id| self.corner(id)).collect()
    }

    /// Is the board-frame point (x, y) on a dark square? Square (0, 0), at the board's
    /// −x −y corner, is dark; outside the board is `None`.
    pub fn is_dark(&self, x: f64, y: f64) -> Option<bool> {
        let i = (x / self.square + self.cols as f64 / 2.0).floor();
        let j = (y / self.square + self.rows as f64 / 2.0).floor();
        if i < 0.0 || j < 0.0 || i >= self.cols as f64 || j >= self.rows as f64 {
            return None;
        }
        Some((i as i64 + j as i64) % 2 == 0)
    }
}

/// Where a board is: its centre in the world, and a tilt of `tilt_deg` about a horizontal axis
/// at `tilt_axis_deg` from +X (toward +Y). Untilted, the board frame is the world's axes
/// translated to `center`: the board faces up (−Z), toward the cameras.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoardPose {
    pub center: [f64; 3],
    pub tilt_deg: f64,
    pub tilt_axis_deg: f64,
}

impl BoardPose {
    /// Board frame → world frame rotation.
    pub fn rotation(&self) -> Rotation3<f64> {
        let phi = self.tilt_axis_deg.to_radians();
        let axis = Unit::new_normalize(Vector3::new(phi.cos(), phi.sin(), 0.0));
        Rotation3::from_axis_angle(&axis, self.tilt_deg.to_radians())
    }

    /// A board-frame point in the world frame.
    pub fn to_world(&self, p: &Point3<f64>) -> Point3<f64> {
        Point3::from(self.rotation() * p.coords + Vector3::from(self.center))
    }

    /// A world point in the board frame.
    pub fn to_board(&self, p: &Point3<f64>) -> Point3<f64> {
        Point3::from(self.rotation().inverse() * (p.coords - Vector3::from(self.center)))
    }

    /// The board plane's unit normal in the world, pointing down (+Z side).
    pub fn normal(&self) -> Vector3<f64> {
        self.rotation() * Vector3::z()
    }

    /// The board's inner corners in the world frame, in id order.
    pub fn world_corners(&self, board: &Board) -> Vec<Point3<f64>> {
        board.corners().iter().map(|c| self.to_world(c)).collect()
    }

    /// Ray depth of the board plane along a ray (origin, unit direction), if the ray meets the
    /// plane in front of its origin.
    pub fn ray_depth(&self, origin: &Point3<f64>, direction: &Vector3<f64>) -> Option<f64> {
        let n = self.normal();
        let denom = n.dot(direction);
        if denom.abs() < 1e-12 {
            return None;
        }
        let t = n.dot(&(Vector3::from(self.center) - origin.coords)) / denom;
        (t > 0.0).then_some(t)
    }
}

/// The paper's working volume: board centres over 0.08 m of depth (its Z = 1.27–1.35 m) and
/// tilts from 2.6° to 40.9°.
pub const PAPER_DEPTH_SPAN_M: f64 = 0.08;
pub const PAPER_TILTS_DEG: [f64; 2] = [2.6, 40.9];

/// `count` poses spanning the paper's working volume around `center`: depths evenly over
/// `center.z ± PAPER_DEPTH_SPAN_M / 2`, tilts evenly over 2.6°–40.9° (interleaved with the
/// depths so neither follows the other), tilt axes turning by 135° from pose to pose, and the
/// centres spread on a circle of radius `lateral` (metres) around `center` so the board is seen
/// from different parts of the rig. Deterministic; `count = 8` is the default protocol.
pub fn default_poses(center: Point3<f64>, lateral: f64, count: usize) -> Vec<BoardPose> {
    let frac = |k: usize| {
        if count > 1 {
            k as f64 / (count - 1) as f64
        } else {
            0.5
        }
    };
    (0..count)
        .map(|k| {
            // Tilt order: a permutation of the depth order (k·3 mod count for count coprime
            // to 3, else reversed), so shallow poses are not all flat.
            let t = if !count.is_multiple_of(3) {
                (k * 3) % count
            } else {
                count - 1 - k
            };
            let tilt = PAPER_TILTS_DEG[0] + (PAPER_TILTS_DEG[1] - PAPER_TILTS_DEG[0]) * frac(t);
            let angle = (k as f64) * std::f64::consts::TAU / count.max(1) as f64;
            let radius = if k == 0 { 0.0 } else { lateral };
            BoardPose {
                center: [
                    center.x + radius * angle.cos(),
                    center.y + radius * angle.sin(),
                    center.z - PAPER_DEPTH_SPAN_M / 2.0 + PAPER_DEPTH_SPAN_M * frac(k),
                ],
                tilt_deg: tilt,
                tilt_axis_deg: (k as f64 * 135.0) % 360.0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn paper_board_has_88_inner_corners_60_mm_apart_centred() {
        let b = Board::default();
        assert_eq!(b.corner_count(), 88);
        let c = b.corners();
        assert_relative_eq!((c[1] - c[0]).norm(), 0.060, epsilon = 1e-15);
        assert_relative_eq!((c[11] - c[0]).norm(), 0.060, epsilon = 1e-15);
        let mean = c.iter().fold(Vector3::zeros(), |a, p| a + p.coords) / c.len() as f64;
        assert!(mean.norm() < 1e-12, "inner corners centred: {mean}");
        // Corners sit where four squares meet: the colours around one alternate.
        let p = c[0];
        let e = 1e-4;
        let dark = |dx: f64, dy: f64| b.is_dark(p.x + dx, p.y + dy).unwrap();
        assert_eq!(dark(-e, -e), dark(e, e));
        assert_ne!(dark(-e, -e), dark(e, -e));
        assert_eq!(b.is_dark(0.37, 0.0), None);
    }

    #[test]
    fn pose_round_trips_and_tilts_the_normal() {
        let pose = BoardPose {
            center: [0.1, -0.05, 1.3],
            tilt_deg: 30.0,
            tilt_axis_deg: 45.0,
        };
        let p = Point3::new(0.2, -0.1, 0.0);
        let back = pose.to_board(&pose.to_world(&p));
        assert_relative_eq!(back, p, epsilon = 1e-14);
        assert_relative_eq!(pose.normal().z, 30f64.to_radians().cos(), epsilon = 1e-14);
        // Every world corner lies on the plane through the centre with that normal.
        for c in pose.world_corners(&Board::default()) {
            let d = pose.normal().dot(&(c.coords - Vector3::from(pose.center)));
            assert!(d.abs() < 1e-14);
        }
        let o = Point3::new(0.1, -0.05, 1.0);
        let t = pose.ray_depth(&o, &Vector3::z()).unwrap();
        assert_relative_eq!(t, 0.3, epsilon = 1e-12);
    }

    #[test]
    fn default_poses_span_the_paper_volume() {
        let poses = default_poses(Point3::new(0.0, 0.0, 1.31), 0.05, 8);
        assert_eq!(poses.len(), 8);
        let z: Vec<f64> = poses.iter().map(|p| p.center[2]).collect();
        let t: Vec<f64> = poses.iter().map(|p| p.tilt_deg).collect();
        let (zmin, zmax) = (
            z.iter().copied().fold(f64::MAX, f64::min),
            z.iter().copied().fold(f64::MIN, f64::max),
        );
        assert_relative_eq!(zmin, 1.27, epsilon = 1e-12);
        assert_relative_eq!(zmax, 1.35, epsilon = 1e-12);
        let (tmin, tmax) = (
            t.iter().copied().fold(f64::MAX, f64::min),
            t.iter().copied().fold(f64::MIN, f64::max),
        );
        assert_relative_eq!(tmin, 2.6, epsilon = 1e-12);
        assert_relative_eq!(tmax, 40.9, epsilon = 1e-12);
        // Every tilt used once: the tilt order is a permutation.
        let mut sorted = t.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.dedup();
        assert_eq!(sorted.len(), 8);
    }
}
