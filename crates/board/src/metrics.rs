//! The paper's board metrics, with the same definitions, plus the absolute error.
//!
//! Input: transferred corners ([`Observation`]: one camera's corner, placed at that camera's
//! ray depth). Per pose:
//! - **flatness**: RMS distance of the pose's transferred corners (every camera's) to their own
//!   least-squares plane;
//! - **cross-camera**: RMS over (camera, corner) pairs, for corners transferred by ≥ 2 cameras,
//!   of the distance to that corner's mean position over those cameras;
//! - **scale**: the Umeyama similarity (scale, rotation, translation) taking the ideal board's
//!   corners onto the transferred ones (every pair); scale error = (s − 1)·100 %, square size
//!   = s × the ideal square;
//! - **range / lateral**: each pair's residual against the fitted ideal board, split along the
//!   camera's in-water ray (range) and perpendicular to it (lateral), RMS of each;
//! - **absolute**: RMS of |X − X_exact| over every pair, split the same way.
//!
//! Pooled figures are RMS over every pose's residuals (flatness, cross-camera, range, lateral,
//! absolute), the mean of the per-pose scales, and the board-size CV = sample standard deviation
//! ÷ mean of the per-pose scales (the board's size is the ideal size times the scale).

use std::collections::BTreeMap;

pub use aquamvs_results::{BoardMetrics, PoseMetrics};
use nalgebra::{Matrix3, Point3, Vector3};

use crate::Board;

/// One camera's transferred corner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Index of the pose.
    pub pose: usize,
    /// Index of the camera that detected and transferred it.
    pub camera: usize,
    /// Corner id on the board (row-major inner corners).
    pub id: usize,
    /// The transferred position (ray origin + depth-map depth × direction).
    pub point: Point3<f64>,
    /// The camera's unit in-water ray direction at the corner pixel.
    pub direction: Vector3<f64>,
    /// The corner's exact world position.
    pub exact: Point3<f64>,
}

/// Why the metrics cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    #[error("pose {pose}: {count} transferred corners, at least 3 non-collinear are needed")]
    TooFewCorners { pose: usize, count: usize },
    #[error("observation {index}: {what} is not finite")]
    NotFinite { index: usize, what: &'static str },
    #[error("observation {index}: corner id {id} is not on the board ({count} corners)")]
    BadId {
        index: usize,
        id: usize,
        count: usize,
    },
    #[error("pose {pose}: the transferred corners are degenerate (collinear or coincident)")]
    Degenerate { pose: usize },
}

/// Accumulates squares for an RMS.
#[derive(Debug, Default, Clone, Copy)]
struct Rms {
    sum: f64,
    n: usize,
}

impl Rms {
    fn add(&mut self, x: f64) {
        self.sum += x * x;
        self.n += 1;
    }
    fn merge(&mut self, o: Rms) {
        self.sum += o.sum;
        self.n += o.n;
    }
    fn mm(&self) -> Option<f64> {
        (self.n > 0).then(|| (self.sum / self.n as f64).sqrt() * 1e3)
    }
}

/// The paper's metrics over `observations` (any order; poses are the distinct `pose` values).
pub fn board_metrics(
    board: &Board,
    observations: &[Observation],
) -> Result<BoardMetrics, MetricsError> {
    let count = board.corner_count();
    for (index, o) in observations.iter().enumerate() {
        let finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if !finite(o.point.coords.as_slice()) {
            return Err(MetricsError::NotFinite {
                index,
                what: "point",
            });
        }
        if !finite(o.direction.as_slice()) || o.direction.norm() == 0.0 {
            return Err(MetricsError::NotFinite {
                index,
                what: "direction",
            });
        }
        if !finite(o.exact.coords.as_slice()) {
            return Err(MetricsError::NotFinite {
                index,
                what: "exact",
            });
        }
        if o.id >= count {
            return Err(MetricsError::BadId {
                index,
                id: o.id,
                count,
            });
        }
    }
    let mut by_pose: BTreeMap<usize, Vec<&Observation>> = BTreeMap::new();
    for o in observations {
        by_pose.entry(o.pose).or_default().push(o);
    }
    let mut totals = [Rms::default(); 7];
    let mut per_pose = Vec::new();
    for (&pose, obs) in &by_pose {
        let (metrics, sums) = pose_metrics(board, pose, obs)?;
        for (t, s) in totals.iter_mut().zip(sums) {
            t.merge(s);
        }
        per_pose.push(metrics);
    }
    if per_pose.is_empty() {
        return Err(MetricsError::TooFewCorners { pose: 0, count: 0 });
    }
    let [flat, cross, range, lateral, abs, abs_range, abs_lateral] = totals;
    let scales: Vec<f64> = per_pose.iter().map(|p| p.scale).collect();
    let mean_scale = scales.iter().sum::<f64>() / scales.len() as f64;
    let board_size_cv = (scales.len() > 1).then(|| {
        let var = scales.iter().map(|s| (s - mean_scale).powi(2)).sum::<f64>()
            / (scales.len() - 1) as f64;
        var.sqrt() / mean_scale
    });
    let (range_mm, lateral_mm) = (range.mm().unwrap_or(0.0), lateral.mm().unwrap_or(0.0));
    Ok(BoardMetrics {
        flatness_rms_mm: flat.mm().unwrap_or(0.0),
        cross_camera_rms_mm: cross.mm(),
        range_rms_mm: range_mm,
        lateral_rms_mm: lateral_mm,
        range_lateral_ratio: (lateral_mm > 0.0).then(|| range_mm / lateral_mm),
        scale_error_pct: (mean_scale - 1.0) * 100.0,
        square_size_mm: board.square * mean_scale * 1e3,
        board_size_cv,
        absolute_rms_mm: abs.mm().unwrap_or(0.0),
        absolute_range_rms_mm: abs_range.mm().unwrap_or(0.0),
        absolute_lateral_rms_mm: abs_lateral.mm().unwrap_or(0.0),
        per_pose,
    })
}

/// Splits a residual into its part along the unit ray `d` and the length of the rest.
fn split(r: Vector3<f64>, d: &Vector3<f64>) -> (f64, f64) {
    let d = d.normalize();
    let along = r.dot(&d);
    (along, (r - d * along).norm())
}

fn pose_metrics(
    board: &Board,
    pose: usize,
    obs: &[&Observation],
) -> Result<(PoseMetrics, [Rms; 7]), MetricsError> {
    if obs.len() < 3 {
        return Err(MetricsError::TooFewCorners {
            pose,
            count: obs.len(),
        });
    }
    let n = obs.len() as f64;
    let mean = obs.iter().fold(Vector3::zeros(), |a, o| a + o.point.coords) / n;

    // Flatness: the least-squares plane's normal is the covariance's smallest eigenvector.
    let cov = obs.iter().fold(Matrix3::zeros(), |a, o| {
        let d = o.point.coords - mean;
        a + d * d.transpose()
    }) / n;
    let eig = cov.symmetric_eigen();
    let k = eig.eigenvalues.imin();
    let normal = eig.eigenvectors.column(k).into_owned();
    let mut flat = Rms::default();
    for o in obs {
        flat.add(normal.dot(&(o.point.coords - mean)));
    }

    // Cross-camera: each corner's mean over the cameras that transferred it.
    let mut corners: BTreeMap<usize, Vec<&Observation>> = BTreeMap::new();
    for o in obs {
        corners.entry(o.id).or_default().push(o);
    }
    let mut cross = Rms::default();
    for group in corners.values().filter(|g| g.len() >= 2) {
        let m = group
            .iter()
            .fold(Vector3::zeros(), |a, o| a + o.point.coords)
            / group.len() as f64;
        for o in group {
            cross.add((o.point.coords - m).norm());
        }
    }

    // Umeyama similarity: ideal board corners → transferred points.
    let ideal: Vec<Vector3<f64>> = obs.iter().map(|o| board.corner(o.id).coords).collect();
    let mu_a = ideal.iter().fold(Vector3::zeros(), |a, p| a + p) / n;
    let var_a = ideal.iter().map(|p| (p - mu_a).norm_squared()).sum::<f64>() / n;
    let sigma = obs
        .iter()
        .zip(&ideal)
        .fold(Matrix3::zeros(), |acc, (o, a)| {
            acc + (o.point.coords - mean) * (a - mu_a).transpose()
        })
        / n;
    let svd = sigma.svd(true, true);
    let (u, v_t) = (
        svd.u.ok_or(MetricsError::Degenerate { pose })?,
        svd.v_t.ok_or(MetricsError::Degenerate { pose })?,
    );
    let mut s_diag = Vector3::new(1.0, 1.0, 1.0);
    if (u.determinant() * v_t.determinant()) < 0.0 {
        // The reflection's sign goes on the smallest singular value.
        let k = svd.singular_values.imin();
        s_diag[k] = -1.0;
    }
    let rotation = u * Matrix3::from_diagonal(&s_diag) * v_t;
    if !(var_a > 0.0)
        || svd
            .singular_values
            .iter()
            .filter(|s| **s > 1e-12 * var_a)
            .count()
            < 2
    {
        return Err(MetricsError::Degenerate { pose });
    }
    let scale = svd.singular_values.dot(&s_diag) / var_a;
    let translation = mean - rotation * mu_a * scale;

    let (mut range, mut lateral) = (Rms::default(), Rms::default());
    let (mut abs, mut abs_range, mut abs_lateral) =
        (Rms::default(), Rms::default(), Rms::default());
    for (o, a) in obs.iter().zip(&ideal) {
        let fitted = rotation * a * scale + translation;
        let (r, l) = split(o.point.coords - fitted, &o.direction);
        range.add(r);
        lateral.add(l);
        let e = o.point - o.exact;
        abs.add(e.norm());
        let (r, l) = split(e, &o.direction);
        abs_range.add(r);
        abs_lateral.add(l);
    }
    let mm = |r: Rms| r.mm().unwrap_or(0.0);
    let metrics = PoseMetrics {
        pose,
        transferred: obs.len(),
        flatness_rms_mm: mm(flat),
        cross_camera_rms_mm: cross.mm(),
        range_rms_mm: mm(range),
        lateral_rms_mm: mm(lateral),
        scale,
        scale_error_pct: (scale - 1.0) * 100.0,
        square_size_mm: board.square * scale * 1e3,
        absolute_rms_mm: mm(abs),
        absolute_range_rms_mm: mm(abs_range),
        absolute_lateral_rms_mm: mm(abs_lateral),
    };
    Ok((
        metrics,
        [flat, cross, range, lateral, abs, abs_range, abs_lateral],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BoardPose;
    use approx::assert_relative_eq;

    fn exact_obs(
        board: &Board,
        pose_index: usize,
        pose: &BoardPose,
        cameras: usize,
    ) -> Vec<Observation> {
        let mut out = Vec::new();
        for (id, c) in pose.world_corners(board).into_iter().enumerate() {
            for camera in 0..cameras {
                let origin = Point3::new(0.1 * camera as f64 - 0.1, 0.05, 1.0);
                out.push(Observation {
                    pose: pose_index,
                    camera,
                    id,
                    point: c,
                    direction: (c - origin).normalize(),
                    exact: c,
                });
            }
        }
        out
    }

    #[test]
    fn exact_transfers_score_zero_and_unit_scale() {
        let board = Board::default();
        let pose = BoardPose {
            center: [0.02, -0.01, 1.3],
            tilt_deg: 25.0,
            tilt_axis_deg: 70.0,
        };
        let m = board_metrics(&board, &exact_obs(&board, 0, &pose, 3)).unwrap();
        assert!(m.flatness_rms_mm < 1e-9);
        assert!(m.cross_camera_rms_mm.unwrap() < 1e-9);
        assert!(m.absolute_rms_mm < 1e-9 && m.range_rms_mm < 1e-9 && m.lateral_rms_mm < 1e-9);
        assert_relative_eq!(m.square_size_mm, 60.0, epsilon = 1e-9);
        assert!(m.board_size_cv.is_none());
    }

    #[test]
    fn a_scaled_board_gives_its_scale_and_range_error_along_the_rays() {
        let board = Board::default();
        let poses = [
            BoardPose {
                center: [0.0, 0.0, 1.28],
                tilt_deg: 5.0,
                tilt_axis_deg: 0.0,
            },
            BoardPose {
                center: [0.03, 0.02, 1.33],
                tilt_deg: 35.0,
                tilt_axis_deg: 135.0,
            },
        ];
        let mut obs = Vec::new();
        for (k, pose) in poses.iter().enumerate() {
            obs.extend(exact_obs(&board, k, pose, 2));
        }
        // Pose 0: the whole board 0.1 % larger about its centre (a pure similarity: no flatness,
        // no residual against the fitted board, but an absolute error).
        for o in obs.iter_mut().filter(|o| o.pose == 0) {
            let c = Vector3::from(poses[0].center);
            o.point = Point3::from(c + (o.exact.coords - c) * 1.001);
        }
        let m = board_metrics(&board, &obs).unwrap();
        assert_relative_eq!(m.per_pose[0].scale, 1.001, epsilon = 1e-9);
        assert_relative_eq!(m.per_pose[1].scale, 1.0, epsilon = 1e-9);
        assert_relative_eq!(m.scale_error_pct, 0.05, epsilon = 1e-7);
        let cv = (0.001f64 / 2f64.sqrt()) / 1.0005;
        assert_relative_eq!(m.board_size_cv.unwrap(), cv, epsilon = 1e-9);
        assert!(m.per_pose[0].flatness_rms_mm < 1e-9 && m.per_pose[0].range_rms_mm < 1e-9);
        assert!(m.per_pose[0].absolute_rms_mm > 0.1);

        // A corner pushed 1 mm along its own ray: range error only (absolute), and cross-camera
        // sees it against the other camera's copy.
        let mut obs2 = exact_obs(&board, 0, &poses[1], 2);
        let o = &mut obs2[10];
        o.point += o.direction * 1e-3;
        let m = board_metrics(&board, &obs2).unwrap();
        let p = &m.per_pose[0];
        let n = obs2.len() as f64;
        assert_relative_eq!(p.absolute_range_rms_mm, (1.0 / n).sqrt(), epsilon = 1e-9);
        assert!(p.absolute_lateral_rms_mm < 1e-9);
        // Two copies, 1 mm apart: each 0.5 mm from their mean; two pairs of all n.
        assert_relative_eq!(
            p.cross_camera_rms_mm.unwrap(),
            (2.0 * 0.25 / n).sqrt(),
            epsilon = 1e-9
        );
    }

    #[test]
    fn bad_input_is_refused_with_the_reason() {
        let board = Board::default();
        let pose = BoardPose {
            center: [0.0, 0.0, 1.3],
            tilt_deg: 0.0,
            tilt_axis_deg: 0.0,
        };
        let mut obs = exact_obs(&board, 0, &pose, 1);
        assert!(matches!(
            board_metrics(&board, &obs[..2]),
            Err(MetricsError::TooFewCorners { count: 2, .. })
        ));
        assert!(matches!(
            board_metrics(&board, &[]),
            Err(MetricsError::TooFewCorners { .. })
        ));
        // Three corners on one row are collinear.
        assert!(matches!(
            board_metrics(&board, &obs[..3]),
            Err(MetricsError::Degenerate { .. })
        ));
        obs[4].point.x = f64::NAN;
        assert!(matches!(
            board_metrics(&board, &obs),
            Err(MetricsError::NotFinite { index: 4, .. })
        ));
        obs[4].point.x = 0.0;
        obs[5].id = 88;
        assert!(matches!(
            board_metrics(&board, &obs),
            Err(MetricsError::BadId { id: 88, .. })
        ));
    }
}
