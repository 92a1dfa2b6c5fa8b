//! The ground-truth board validation (issue 15): `board.json` of `cargo xtask board`, and one
//! [`BoardReport`] per depth method in `benchmark_results.json`.
//!
//! The metrics keep the names and definitions of `McGrathLab/AquaMVS_gtanalysis`
//! (`results/methods.md`): flatness, cross-camera agreement, range/lateral split along the
//! in-water ray, Umeyama scale and square size, board-size CV; plus the absolute error of the
//! transferred corners against the exact ones, which a real board cannot give. Producer:
//! `aquamvs-board` (`board_metrics`).

use serde::{Deserialize, Serialize};

use crate::ResultsError;
use crate::check::Fields;

/// One pose's figures (millimetres, percent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoseMetrics {
    /// Index of the pose.
    pub pose: usize,
    /// Transferred (camera, corner) pairs.
    pub transferred: usize,
    /// RMS distance of the transferred corners to their own least-squares plane, mm.
    pub flatness_rms_mm: f64,
    /// `None` when no corner was transferred by two cameras.
    pub cross_camera_rms_mm: Option<f64>,
    /// RMS of the residuals (against the fitted ideal board) along the in-water ray, mm.
    pub range_rms_mm: f64,
    /// RMS of the residuals perpendicular to the ray, mm.
    pub lateral_rms_mm: f64,
    /// Umeyama scale of the ideal board onto the transferred corners.
    pub scale: f64,
    /// `(scale − 1)·100`.
    pub scale_error_pct: f64,
    /// Scale × the ideal square, mm.
    pub square_size_mm: f64,
    /// RMS of |X − X_exact|, mm.
    pub absolute_rms_mm: f64,
    /// Its part along the ray, mm.
    pub absolute_range_rms_mm: f64,
    /// Its part perpendicular to the ray, mm.
    pub absolute_lateral_rms_mm: f64,
}

/// Pooled figures over every pose (RMS over every pose's residuals; scale: mean of the
/// per-pose scales; CV: their sample standard deviation ÷ mean), and each pose's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardMetrics {
    pub flatness_rms_mm: f64,
    /// `None` when no corner was transferred by two cameras.
    pub cross_camera_rms_mm: Option<f64>,
    pub range_rms_mm: f64,
    pub lateral_rms_mm: f64,
    /// `range_rms_mm / lateral_rms_mm`; `None` when the lateral RMS is 0.
    pub range_lateral_ratio: Option<f64>,
    pub scale_error_pct: f64,
    pub square_size_mm: f64,
    /// `None` with fewer than two poses.
    pub board_size_cv: Option<f64>,
    pub absolute_rms_mm: f64,
    pub absolute_range_rms_mm: f64,
    pub absolute_lateral_rms_mm: f64,
    pub per_pose: Vec<PoseMetrics>,
}

/// The corner detector's own error against the exact projections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorError {
    /// Which detector, and how it was seeded, in words.
    pub method: String,
    /// Corners found (camera, corner pairs).
    pub detected: u64,
    /// Corners looked for (projecting inside the image) but not found.
    pub missed: u64,
    /// Median distance of a detected corner from its exact projection, pixels.
    pub median_px: f64,
    /// Largest such distance, pixels.
    pub max_px: f64,
}

/// Where the time went, seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardTimings {
    /// Rendering every pose's views (images and ground truth).
    pub render_s: f64,
    /// The depth method, every reference view of every pose.
    pub depth_s: f64,
    /// The whole run.
    pub total_s: f64,
}

/// One board validation run: `board.json`, and a row of `benchmark_results.json`'s `board`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoardReport {
    /// `sweep`, `patchmatch` (or a peer's name).
    pub method: String,
    /// The depth method's settings, the images and the rig, in words.
    pub settings: String,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Poses of the board.
    pub poses: u32,
    /// Reference cameras (each runs the depth method and transfers its corners).
    pub cameras: u32,
    /// The paper's metrics, pooled and per pose.
    #[serde(flatten)]
    pub metrics: BoardMetrics,
    /// The corner detector's own error.
    pub detector: DetectorError,
    /// Detected corners with no valid depth at their pixel (not transferred).
    pub dropouts: u64,
    /// `dropouts` as % of the detected corners.
    pub dropout_pct: f64,
    /// Wall times.
    pub timings: BoardTimings,
}

impl BoardReport {
    /// Parses and validates a `board.json`.
    pub fn from_json(json: &str) -> Result<Self, ResultsError> {
        let r: Self = crate::json::parse("board.json", json)?;
        r.check(&Fields::new("board.json"), "board")?;
        Ok(r)
    }

    /// Two-space indented JSON with a final newline.
    pub fn to_json(&self) -> String {
        crate::json::to_pretty(self)
    }

    pub(crate) fn check(&self, f: &Fields, at: &str) -> Result<(), ResultsError> {
        let m = &self.metrics;
        f.named(&format!("{at}.method"), &self.method)?;
        f.count(&format!("{at}.width"), self.width.into())?;
        f.count(&format!("{at}.height"), self.height.into())?;
        f.count(&format!("{at}.poses"), self.poses.into())?;
        f.count(&format!("{at}.cameras"), self.cameras.into())?;
        for (name, v) in [
            ("flatness_rms_mm", Some(m.flatness_rms_mm)),
            ("cross_camera_rms_mm", m.cross_camera_rms_mm),
            ("range_rms_mm", Some(m.range_rms_mm)),
            ("lateral_rms_mm", Some(m.lateral_rms_mm)),
            ("absolute_rms_mm", Some(m.absolute_rms_mm)),
            ("absolute_range_rms_mm", Some(m.absolute_range_rms_mm)),
            ("absolute_lateral_rms_mm", Some(m.absolute_lateral_rms_mm)),
        ] {
            if let Some(v) = v {
                f.error_mm(&format!("{at}.{name}"), v)?;
            }
        }
        if let Some(r) = m.range_lateral_ratio {
            f.within(&format!("{at}.range_lateral_ratio"), r, 0.0, 1e9, "")?;
        }
        if let Some(cv) = m.board_size_cv {
            f.within(&format!("{at}.board_size_cv"), cv, 0.0, 1.0, "")?;
        }
        f.within(
            &format!("{at}.scale_error_pct"),
            m.scale_error_pct,
            -100.0,
            100.0,
            " %",
        )?;
        f.positive(
            &format!("{at}.square_size_mm"),
            m.square_size_mm,
            1e4,
            " mm",
        )?;
        if m.per_pose.len() != self.poses as usize {
            return Err(f.error(
                &format!("{at}.per_pose"),
                format!(
                    "has {} poses but `poses` is {}",
                    m.per_pose.len(),
                    self.poses
                ),
            ));
        }
        for (i, p) in m.per_pose.iter().enumerate() {
            let at = format!("{at}.per_pose[{i}]");
            f.error_mm(&format!("{at}.flatness_rms_mm"), p.flatness_rms_mm)?;
            f.error_mm(&format!("{at}.absolute_rms_mm"), p.absolute_rms_mm)?;
            f.positive(&format!("{at}.scale"), p.scale, 2.0, "")?;
        }
        let d = &self.detector;
        f.named(&format!("{at}.detector.method"), &d.method)?;
        f.within(
            &format!("{at}.detector.median_px"),
            d.median_px,
            0.0,
            1e4,
            " px",
        )?;
        f.within(
            &format!("{at}.detector.max_px"),
            d.max_px,
            d.median_px,
            1e4,
            " px",
        )?;
        f.percent(&format!("{at}.dropout_pct"), self.dropout_pct)?;
        let t = &self.timings;
        f.seconds(&format!("{at}.timings.render_s"), t.render_s)?;
        f.seconds(&format!("{at}.timings.depth_s"), t.depth_s)?;
        f.seconds(&format!("{at}.timings.total_s"), t.total_s)
    }
}

/// Published figures of a real-rig board validation, for the docs beside ours: **external**,
/// never produced by this workspace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExternalBoardFigures {
    /// Who and what, with versions.
    pub label: &'static str,
    /// Where the figures were read (repository, files, commit).
    pub source: &'static str,
    pub flatness_rms_mm: f64,
    pub cross_camera_rms_mm: f64,
    pub range_rms_mm: f64,
    pub lateral_rms_mm: f64,
    pub range_lateral_ratio: f64,
    pub scale_error_pct: f64,
    pub square_size_mm: f64,
    pub board_size_cv: f64,
    /// Detected corners without direct depth, %.
    pub dropout_pct: f64,
}

/// The AquaMVS authors' ChArUco ground-truth validation on their real rig (13 cameras, 8
/// held-out board poses at Z = 1.27–1.35 m, tilts 2.6°–40.9°; AquaMVS 1.7.2, RoMa v2 pathway,
/// AquaCal 2.1.0 calibration). Every figure read from `McGrathLab/AquaMVS_gtanalysis` at commit
/// `14a8a9ce5de75c18a36b832098b5350811992abd`: `results/methods.md` (flatness 1.11 mm, board-size
/// CV 0.0016, cross-camera 1.82 mm, scale +0.064 %, board size 60.018 mm, range 1.78 mm vs
/// lateral 0.53 mm, ratio 3.39, dropout 0.2 %) and `results/FINDINGS.md` (the same figures;
/// AquaCal 2.1.0 / AquaMVS 1.7.2, RoMa pathway; 6 of 2,610 corners used the plane-fit fallback
/// (0.2 %) and a further 29 (1.1 %) had no depth, all excluded from the metrics).
pub const AQUAMVS_REAL_RIG: ExternalBoardFigures = ExternalBoardFigures {
    label: "AquaMVS 1.7.2 (RoMa v2 pathway), AquaCal 2.1.0 calibration, real 13-camera rig",
    source: "McGrathLab/AquaMVS_gtanalysis, results/methods.md and results/FINDINGS.md \
             (commit 14a8a9ce5de75c18a36b832098b5350811992abd)",
    flatness_rms_mm: 1.11,
    cross_camera_rms_mm: 1.82,
    range_rms_mm: 1.78,
    lateral_rms_mm: 0.53,
    range_lateral_ratio: 3.39,
    scale_error_pct: 0.064,
    square_size_mm: 60.018,
    board_size_cv: 0.0016,
    dropout_pct: 0.2,
};
