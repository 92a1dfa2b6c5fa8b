//! The AquaMVS ground-truth board protocol on exact ground truth (issue 15).
//!
//! `McGrathLab/AquaMVS_gtanalysis` validated AquaMVS with a submerged ChArUco board: 12×9
//! squares of 60 mm, held at several poses; each detected inner corner is transferred to 3-D by
//! casting the camera's refracted ray and reading that camera's depth map there. This crate
//! holds that protocol, with no file and no GPU (the caller renders the board scene and runs
//! the depth method):
//!
//! - [`Board`] and [`BoardPose`] (re-exported from `aquamvs-scenes`, whose board scene renders
//!   them): the square grid, its inner corners (ids row-major), and where the board is (centre,
//!   tilt angle, tilt axis; world frame **+X right, +Y forward, +Z down into the water, metres**);
//! - [`default_poses`]: eight poses spanning the paper's working volume around a centre;
//! - [`detect`]: a sub-pixel corner detector (`cornerSubPix`'s method);
//! - [`protocol`]: corners found in each camera's image and transferred through its depth map
//!   ([`transfer_pose`]: observations, detector errors, dropouts);
//! - [`run`]: the whole protocol on a rig ([`run_board`]: poses placed over what the rig sees,
//!   rendered, the caller's depth method per reference camera, transfers, metrics);
//! - [`metrics`]: the paper's figures (flatness, cross-camera agreement, range/lateral split,
//!   Umeyama scale, board-size CV) and the absolute error a real board cannot give.

use nalgebra::Point3;

pub mod detect;
pub mod metrics;
pub mod protocol;
pub mod run;

pub use aquamvs_scenes::{Board, BoardPose};
pub use detect::{DetectSettings, Gray, refine_corner};
pub use metrics::{BoardMetrics, MetricsError, Observation, PoseMetrics, board_metrics};
pub use protocol::{
    CameraCorners, CornersFile, Detection, PoseTransfer, ProtocolSettings, detect_corners,
    transfer, transfer_pose,
};
pub use run::{PoseRun, RunError, RunOutput, RunSettings, protocol_poses, run_board};

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
