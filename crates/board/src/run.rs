//! The whole protocol on a rig: poses placed over what the rig sees, each pose rendered through
//! every camera, the depth method run for each reference camera (a closure: the caller's
//! depth code path), the corners transferred, and the metrics.
//!
//! **Poses** ([`protocol_poses`]): the paper's board centres lie at Z = 1.27–1.35 m with its
//! water surface at 0.978 m, i.e. 0.292–0.372 m below the water; here they are centred
//! [`PAPER_BELOW_WATER_M`] below the rig's water surface, at the centre of the rig's working
//! area on that plane (`aquamvs_scenes::placement`), spread laterally on a circle of a quarter
//! of the working area's smaller half-side ([`crate::default_poses`]).

use std::time::Instant;

use aquamvs_camera::Rig;
use aquamvs_results::{BoardMetrics, BoardReport, BoardTimings, DetectorError};
use aquamvs_scenes::placement::working_area;
use aquamvs_scenes::{RenderOptions, Scene, SceneError, render_with_depth};
use nalgebra::Point3;

use crate::{Board, BoardPose, MetricsError, PoseTransfer, ProtocolSettings, board_metrics};

/// Depth of the paper's mid pose below its water surface, metres (1.31 − 0.978).
pub const PAPER_BELOW_WATER_M: f64 = 0.332;

/// The detector and its seeding, in words (for reports).
pub fn detector_method(p: &ProtocolSettings) -> String {
    format!(
        "cornerSubPix-style (Förstner) sub-pixel refinement, window up to ±{} px and search \
         radius up to {} px (less where the squares are small in the image), seeded {} px from \
         the exact projection (direction fixed per camera and corner)",
        p.detect.half_window, p.detect.max_shift, p.seed_offset_px
    )
}

/// An error of the depth method, from the caller.
pub type DepthError = Box<dyn std::error::Error + Send + Sync>;

/// Why a board run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("placing the board: {0}")]
    Scene(#[from] SceneError),
    #[error("pose {pose}, camera {camera}: {source}")]
    Depth {
        pose: usize,
        camera: String,
        source: DepthError,
    },
    #[error("pose {pose}, camera {camera}: the depth map has {got} values, the image {want}")]
    DepthSize {
        pose: usize,
        camera: String,
        got: usize,
        want: usize,
    },
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("{0}")]
    Input(String),
}

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSettings {
    pub board: Board,
    pub poses: Vec<BoardPose>,
    pub render: RenderOptions,
    pub protocol: ProtocolSettings,
    /// The cameras that run the depth method and transfer corners (rig indices).
    pub references: Vec<usize>,
}

/// `count` poses over what `rig` sees (module notes).
pub fn protocol_poses(rig: &Rig, count: usize) -> Result<Vec<BoardPose>, RunError> {
    if count == 0 {
        return Err(RunError::Input("at least one pose is needed".into()));
    }
    let z = rig.interface.water_z + PAPER_BELOW_WATER_M;
    let area = working_area(rig, z, None)?;
    let b = area.bounds;
    let lateral = 0.25 * (0.5 * (b[1] - b[0])).min(0.5 * (b[3] - b[2]));
    Ok(crate::default_poses(
        Point3::new(area.center[0], area.center[1], z),
        lateral,
        count,
    ))
}

/// One pose: its scene, every camera's image and ground truth, the reference cameras' depth
/// maps (empty for the others), and the transfers.
#[derive(Debug, Clone)]
pub struct PoseRun {
    pub scene: Scene,
    pub images: Vec<Vec<f32>>,
    pub truth: Vec<Vec<f32>>,
    pub depths: Vec<Vec<f32>>,
    pub transfer: PoseTransfer,
    pub render_s: f64,
    pub depth_s: f64,
}

/// Every pose's run, the metrics, and what the detector and the transfer did.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub poses: Vec<PoseRun>,
    pub metrics: BoardMetrics,
    pub detector: DetectorError,
    pub dropouts: u64,
}

impl RunOutput {
    /// The results-format report of this run.
    pub fn report(
        &self,
        method: &str,
        settings: &str,
        (width, height): (u32, u32),
        cameras: usize,
        total_s: f64,
    ) -> BoardReport {
        let detected = self.detector.detected.max(1) as f64;
        BoardReport {
            method: method.to_owned(),
            settings: settings.to_owned(),
            width,
            height,
            poses: self.poses.len() as u32,
            cameras: cameras as u32,
            metrics: self.metrics.clone(),
            detector: self.detector.clone(),
            dropouts: self.dropouts,
            dropout_pct: 100.0 * self.dropouts as f64 / detected,
            timings: BoardTimings {
                render_s: self.poses.iter().map(|p| p.render_s).sum(),
                depth_s: self.poses.iter().map(|p| p.depth_s).sum(),
                total_s,
            },
        }
    }
}

/// Runs the protocol: for each pose, renders the board scene through every camera of `rig`,
/// calls `depth(scene, images, camera)` for each reference camera (its ray-depth map,
/// row-major `H×W`, NaN invalid), and transfers that camera's corners; then the metrics.
/// `progress` is told when each pose is done.
pub fn run_board(
    rig: &Rig,
    settings: &RunSettings,
    mut depth: impl FnMut(&Scene, &[Vec<f32>], usize) -> Result<Vec<f32>, DepthError>,
    mut progress: impl FnMut(usize, &PoseRun),
) -> Result<RunOutput, RunError> {
    if settings.poses.is_empty() {
        return Err(RunError::Input("at least one pose is needed".into()));
    }
    if settings.references.is_empty() {
        return Err(RunError::Input(
            "at least one reference camera is needed".into(),
        ));
    }
    if let Some(&i) = settings
        .references
        .iter()
        .find(|&&i| i >= rig.cameras.len())
    {
        return Err(RunError::Input(format!(
            "reference camera {i} is not in the rig ({} cameras)",
            rig.cameras.len()
        )));
    }
    let mut poses = Vec::with_capacity(settings.poses.len());
    for (k, pose) in settings.poses.iter().enumerate() {
        let scene = Scene::board(settings.board, *pose)?;
        scene.check_rig(rig)?;
        let placement = scene.board.expect("a board scene has its board");
        let t = Instant::now();
        let (images, truth): (Vec<_>, Vec<_>) = rig
            .cameras
            .iter()
            .map(|cam| render_with_depth(&scene, cam, &settings.render))
            .unzip();
        let render_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut depths = vec![Vec::new(); rig.cameras.len()];
        for &i in &settings.references {
            let cam = &rig.cameras[i];
            let d = depth(&scene, &images, i).map_err(|source| RunError::Depth {
                pose: k,
                camera: cam.name.clone(),
                source,
            })?;
            let want = cam.width as usize * cam.height as usize;
            if d.len() != want {
                return Err(RunError::DepthSize {
                    pose: k,
                    camera: cam.name.clone(),
                    got: d.len(),
                    want,
                });
            }
            depths[i] = d;
        }
        let depth_s = t.elapsed().as_secs_f64();
        let transfer = crate::transfer_pose(
            k,
            &placement,
            &rig.cameras,
            &settings.references,
            &images,
            &depths,
            &settings.protocol,
        );
        let run = PoseRun {
            scene,
            images,
            truth,
            depths,
            transfer,
            render_s,
            depth_s,
        };
        progress(k, &run);
        poses.push(run);
    }
    let observations: Vec<_> = poses
        .iter()
        .flat_map(|p| p.transfer.observations.iter().copied())
        .collect();
    let metrics = board_metrics(&settings.board, &observations)?;
    let errors: Vec<f64> = poses
        .iter()
        .flat_map(|p| p.transfer.corners.iter())
        .flat_map(|c| c.detected.iter().map(crate::Detection::error_px))
        .collect();
    let missed = poses
        .iter()
        .flat_map(|p| p.transfer.corners.iter())
        .map(|c| c.missed as u64)
        .sum();
    let detector = DetectorError {
        method: detector_method(&settings.protocol),
        detected: errors.len() as u64,
        missed,
        median_px: aquamvs_metrics::stats::median(&errors).unwrap_or(0.0),
        max_px: errors.iter().copied().fold(0.0, f64::max),
    };
    let dropouts = poses.iter().map(|p| p.transfer.dropouts as u64).sum();
    Ok(RunOutput {
        poses,
        metrics,
        detector,
        dropouts,
    })
}
