//! The ground-truth board's geometry: a checkerboard ([`Board`]) and where it is
//! ([`BoardPose`]). **World frame: +X right, +Y forward, +Z down into the water, metres.** The
//! board scene ([`crate::Scene::board`]) renders it; `aquamvs-board` runs the protocol on it.

use nalgebra::{Point3, Rotation3, Unit, Vector3};
use serde::{Deserialize, Serialize};

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

    /// Half the board's width and height `(cols·square/2, rows·square/2)`, metres.
    pub fn half_size(&self) -> (f64, f64) {
        (
            self.cols as f64 * self.square / 2.0,
            self.rows as f64 * self.square / 2.0,
        )
    }

    /// Checks the board: at least 2×2 squares, a finite positive square size.
    pub fn validate(&self) -> Result<(), crate::SceneError> {
        if self.cols < 2 || self.rows < 2 {
            return Err(crate::SceneError::Parameter {
                name: "board squares",
                value: self.cols.min(self.rows) as f64,
                why: "a board needs at least 2x2 squares",
            });
        }
        if !(self.square.is_finite() && self.square > 0.0) {
            return Err(crate::SceneError::Parameter {
                name: "board square",
                value: self.square,
                why: "must be a finite size > 0 metres",
            });
        }
        Ok(())
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
    /// Checks the pose: a finite centre and axis, a tilt in `[0, 80)` degrees (steeper boards
    /// are seen edge-on).
    pub fn validate(&self) -> Result<(), crate::SceneError> {
        if self.center.iter().any(|c| !c.is_finite()) {
            return Err(crate::SceneError::NonFinite("board pose centre"));
        }
        if !self.tilt_axis_deg.is_finite() {
            return Err(crate::SceneError::NonFinite("board tilt axis"));
        }
        if !(self.tilt_deg >= 0.0 && self.tilt_deg < crate::scene::MAX_SLOPE_DEG) {
            return Err(crate::SceneError::Parameter {
                name: "board tilt_deg",
                value: self.tilt_deg,
                why: "must be in [0, 80) degrees",
            });
        }
        Ok(())
    }

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

/// A board at a pose: what a board scene ([`crate::Scene::board`]) holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoardPlacement {
    pub board: Board,
    pub pose: BoardPose,
}

/// Grey level of the board's dark squares.
pub const BOARD_DARK: f64 = 0.15;
/// Grey level of the board's light squares.
pub const BOARD_LIGHT: f64 = 0.85;

impl BoardPlacement {
    /// The board's four outer corners in the world frame.
    pub fn outline(&self) -> [Point3<f64>; 4] {
        let (hx, hy) = self.board.half_size();
        [(-hx, -hy), (hx, -hy), (hx, hy), (-hx, hy)]
            .map(|(x, y)| self.pose.to_world(&Point3::new(x, y, 0.0)))
    }

    /// The world point on the board plane above or below `(x, y)` lies on the board.
    pub fn covers(&self, x: f64, y: f64, z: f64) -> bool {
        let p = self.pose.to_board(&Point3::new(x, y, z));
        let (hx, hy) = self.board.half_size();
        p.x.abs() <= hx && p.y.abs() <= hy
    }

    /// Is the world point `(x, y, z)` (on the board plane) on a dark square? `None` off the
    /// board.
    pub fn is_dark(&self, x: f64, y: f64, z: f64) -> Option<bool> {
        let p = self.pose.to_board(&Point3::new(x, y, z));
        self.board.is_dark(p.x, p.y)
    }
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
    fn board_scene_is_its_plane_with_exact_depth_and_checker_albedo() {
        use crate::{Scene, SceneKind};
        use aquamvs_camera::Rig;
        let board = Board::default();
        let pose = BoardPose {
            center: [0.03, -0.02, 1.31],
            tilt_deg: 35.0,
            tilt_axis_deg: 120.0,
        };
        let scene = Scene::board(board, pose).unwrap();
        assert_eq!(scene.kind, SceneKind::Board);
        assert_eq!(Scene::from_file(&scene.to_file()), Ok(scene));
        let file = scene.to_file();
        assert_eq!(file.corners.as_ref().map(Vec::len), Some(88));
        // Every corner is on the surface and in the evaluation area; the squares around a
        // corner alternate.
        let placement = scene.board.unwrap();
        for c in pose.world_corners(&board) {
            assert!((scene.height(c.x, c.y) - c.z).abs() < 1e-12);
            assert!(scene.in_bounds(c.x, c.y));
        }
        let c = pose.world_corners(&board)[0];
        let (u, v) = (
            pose.rotation() * Vector3::x(),
            pose.rotation() * Vector3::y(),
        );
        let at = |a: f64, b: f64| {
            let p = c + u * a + v * b;
            scene.albedo(p.x, p.y)
        };
        assert_eq!(at(-0.01, -0.01), at(0.01, 0.01));
        assert_ne!(at(-0.01, -0.01), at(0.01, -0.01));
        // Off the board: outside the evaluation area, the world texture.
        let far = c - u * 0.2;
        assert!(!scene.in_bounds(far.x, far.y) || !placement.covers(far.x, far.y, far.z));
        // The ground-truth depth of a pixel is where its ray meets the board plane.
        let rig = Rig::reference(64, 48).unwrap();
        let cam = &rig.cameras[2];
        let ray = cam.cast_ray(31.0, 22.0).unwrap();
        let t = scene.intersect(&ray).unwrap();
        let t_pose = pose.ray_depth(&ray.origin, &ray.direction).unwrap();
        assert!((t - t_pose).abs() < 1e-12, "{t} vs {t_pose}");
        // Bad poses are refused.
        let steep = BoardPose {
            tilt_deg: 85.0,
            ..pose
        };
        assert!(Scene::board(board, steep).is_err());
        let nan = BoardPose {
            center: [f64::NAN, 0.0, 1.3],
            ..pose
        };
        assert!(Scene::board(board, nan).is_err());
    }
}
