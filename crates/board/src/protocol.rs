//! The protocol on rendered views: find each camera's corners in its image, transfer them to
//! 3-D through that camera's own depth map, and collect the [`Observation`]s the metrics take.
//!
//! **Corner detection.** Each inner corner's exact 3-D position is projected refractively into
//! the camera (through its lens model: recorded-image pixels, centres at integer coordinates).
//! Corners whose projection lies within [`ProtocolSettings::border_px`] of the image border are
//! not looked for. The detector ([`refine_corner`], `cornerSubPix`'s method) starts from a
//! **seed perturbed from the exact projection** by [`ProtocolSettings::seed_offset_px`] in a
//! direction fixed per (camera, corner) — a stand-in for a coarse prediction — so the answer
//! comes from the image, and its own error against the exact projection is reported. Its
//! window and search radius shrink where the squares are small in the image (at most 0.35 and
//! 0.3 of the predicted distance to the nearest neighbouring corner; the seed offset at most
//! half the radius), as a detector that knows the board's grid would.
//!
//! **Transfer.** The detected pixel is undistorted and cast through the water surface
//! (`Camera::cast_ray`); the camera's depth map is read there **bilinearly** (recorded-image
//! pixel coordinates); if any of the four neighbours is NaN or off the image the corner is a
//! **dropout** (counted, not transferred), as the paper excludes corners without depth.
//! No files, no GPU: the caller renders and runs the depth method.

use aquamvs_camera::Camera;
use aquamvs_scenes::BoardPlacement;
use nalgebra::{Point3, Vector3};
use serde::{Deserialize, Serialize};

use crate::{DetectSettings, Gray, Observation, refine_corner};

/// How corners are looked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProtocolSettings {
    /// The sub-pixel detector's window and search radius.
    pub detect: DetectSettings,
    /// Distance of the detector's seed from the exact projection, pixels.
    pub seed_offset_px: f64,
    /// Corners projecting closer than this to the image border are not looked for, pixels.
    pub border_px: f64,
}

impl Default for ProtocolSettings {
    /// Window ±5 px, search radius 4 px, seeds 1.5 px off, 8 px border.
    fn default() -> Self {
        ProtocolSettings {
            detect: DetectSettings::default(),
            seed_offset_px: 1.5,
            border_px: 8.0,
        }
    }
}

/// One corner found in one camera's image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// Corner id (row-major inner corners).
    pub id: usize,
    /// The detected pixel `(u, v)` (recorded image).
    pub pixel: [f64; 2],
    /// The exact projection of the corner `(u, v)` (recorded image).
    pub exact_pixel: [f64; 2],
}

impl Detection {
    /// Distance from the exact projection, pixels.
    pub fn error_px(&self) -> f64 {
        (self.pixel[0] - self.exact_pixel[0]).hypot(self.pixel[1] - self.exact_pixel[1])
    }
}

/// One camera's corners: those found, and how many were looked for but not found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CameraCorners {
    pub detected: Vec<Detection>,
    pub missed: usize,
}

/// The corners of `placement` in `cam`'s rendered `image` (row-major `H×W`).
pub fn detect_corners(
    placement: &BoardPlacement,
    cam: &Camera<f64>,
    camera_index: usize,
    image: &[f32],
    settings: &ProtocolSettings,
) -> CameraCorners {
    let (w, h) = (cam.width as usize, cam.height as usize);
    let gray = Gray {
        width: w,
        height: h,
        pixels: image,
    };
    let mut out = CameraCorners::default();
    let b = settings.border_px;
    let board = &placement.board;
    let projected: Vec<Option<(f64, f64)>> = placement
        .pose
        .world_corners(board)
        .iter()
        .map(|p| {
            cam.project(p)
                .map(|pr| cam.distort_pixel(pr.pixel.x, pr.pixel.y))
        })
        .collect();
    let (nx, ny) = board.inner();
    for (id, &proj) in projected.iter().enumerate() {
        let Some((u, v)) = proj else { continue };
        if !(u >= b && v >= b && u <= w as f64 - 1.0 - b && v <= h as f64 - 1.0 - b) {
            continue;
        }
        // The window and the search radius shrink with the square's size in the image (the
        // predicted distance to the nearest neighbouring corner), so they never reach the
        // next corner: half-window at most 0.35 of it, search radius at most 0.3.
        let (i, j) = (id % nx, id / nx);
        let neighbours = [
            (i > 0).then(|| id - 1),
            (i + 1 < nx).then(|| id + 1),
            (j > 0).then(|| id - nx),
            (j + 1 < ny).then(|| id + nx),
        ];
        let spacing = neighbours
            .iter()
            .flatten()
            .filter_map(|&n| projected[n])
            .map(|(a, c)| (a - u).hypot(c - v))
            .fold(f64::INFINITY, f64::min);
        let detect = DetectSettings {
            half_window: settings
                .detect
                .half_window
                .min((0.35 * spacing).floor().max(2.0) as usize),
            max_shift: settings.detect.max_shift.min(0.3 * spacing),
        };
        // A direction fixed per (camera, corner): the golden angle spreads them evenly.
        let angle = (camera_index * 97 + id) as f64 * 2.399_963_229_728_653;
        let offset = settings.seed_offset_px.min(0.5 * detect.max_shift);
        let seed = (u + offset * angle.cos(), v + offset * angle.sin());
        match refine_corner(gray, seed, &detect) {
            Some((du, dv)) => out.detected.push(Detection {
                id,
                pixel: [du, dv],
                exact_pixel: [u, v],
            }),
            None => out.missed += 1,
        }
    }
    out
}

/// Bilinear read of a row-major `H×W` map at `(u, v)` (pixel centres at integers); `None`
/// when a neighbour is off the map or not finite.
pub fn bilinear(map: &[f32], width: usize, height: usize, u: f64, v: f64) -> Option<f64> {
    if !(u.is_finite() && v.is_finite()) || u < 0.0 || v < 0.0 {
        return None;
    }
    let (u0, v0) = (u.floor() as usize, v.floor() as usize);
    let (fu, fv) = (u - u0 as f64, v - v0 as f64);
    // On the last row or column the weight of the next one is zero: read it only if inside.
    if u0 >= width
        || v0 >= height
        || (fu > 0.0 && u0 + 1 >= width)
        || (fv > 0.0 && v0 + 1 >= height)
    {
        return None;
    }
    let u1 = if fu > 0.0 { u0 + 1 } else { u0 };
    let v1 = if fv > 0.0 { v0 + 1 } else { v0 };
    let at = |x: usize, y: usize| f64::from(map[y * width + x]);
    let q = [at(u0, v0), at(u1, v0), at(u0, v1), at(u1, v1)];
    if q.iter().any(|x| !x.is_finite()) {
        return None;
    }
    Some((1.0 - fv) * ((1.0 - fu) * q[0] + fu * q[1]) + fv * ((1.0 - fu) * q[2] + fu * q[3]))
}

/// A corner transferred to 3-D: its ray's unit in-water direction, and the point at the
/// depth map's ray depth; `None` (a dropout) when the ray or the depth is missing.
pub fn transfer(
    cam: &Camera<f64>,
    depth: &[f32],
    pixel: [f64; 2],
) -> Option<(Point3<f64>, Vector3<f64>)> {
    let d = bilinear(
        depth,
        cam.width as usize,
        cam.height as usize,
        pixel[0],
        pixel[1],
    )?;
    let (uu, vv) = cam.undistort_pixel(pixel[0], pixel[1]);
    let ray = cam.cast_ray(uu, vv)?;
    Some((ray.at(d), ray.direction))
}

/// One pose's transfers: every camera's detections, the observations, and the dropouts.
#[derive(Debug, Clone, PartialEq)]
pub struct PoseTransfer {
    /// The board's inner corners in the world, in id order.
    pub exact: Vec<Point3<f64>>,
    /// Per camera (rig order; empty for cameras that were not references).
    pub corners: Vec<CameraCorners>,
    /// The transferred corners.
    pub observations: Vec<Observation>,
    /// Detected corners with no valid depth (not transferred).
    pub dropouts: usize,
}

/// Detects and transfers the corners of pose `pose` for each camera in `references`, using
/// `images[i]` and the depth map `depths[i]` of camera `i` (maps of other cameras unused).
pub fn transfer_pose(
    pose: usize,
    placement: &BoardPlacement,
    cameras: &[Camera<f64>],
    references: &[usize],
    images: &[Vec<f32>],
    depths: &[Vec<f32>],
    settings: &ProtocolSettings,
) -> PoseTransfer {
    let exact = placement.pose.world_corners(&placement.board);
    let mut corners = vec![CameraCorners::default(); cameras.len()];
    let mut observations = Vec::new();
    let mut dropouts = 0;
    for &i in references {
        let cam = &cameras[i];
        let found = detect_corners(placement, cam, i, &images[i], settings);
        for det in &found.detected {
            match transfer(cam, &depths[i], det.pixel) {
                Some((point, direction)) => observations.push(Observation {
                    pose,
                    camera: i,
                    id: det.id,
                    point,
                    direction,
                    exact: exact[det.id],
                }),
                None => dropouts += 1,
            }
        }
        corners[i] = found;
    }
    PoseTransfer {
        exact,
        corners,
        observations,
        dropouts,
    }
}

/// `corners.json` of one pose: `{"exact": [[id, x, y, z], …], "detected": {"<camera>":
/// [[id, u, v], …]}}` (metres, world frame; recorded-image pixels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CornersFile {
    pub exact: Vec<(usize, f64, f64, f64)>,
    pub detected: std::collections::BTreeMap<String, Vec<(usize, f64, f64)>>,
}

impl PoseTransfer {
    /// The corner lists of this pose: every corner, and each reference camera's detections
    /// (named from `cameras`).
    pub fn corners_file(&self, cameras: &[Camera<f64>], references: &[usize]) -> CornersFile {
        CornersFile {
            exact: (self.exact.iter().enumerate())
                .map(|(id, p)| (id, p.x, p.y, p.z))
                .collect(),
            detected: references
                .iter()
                .map(|&i| {
                    let rows = (self.corners[i].detected.iter())
                        .map(|d| (d.id, d.pixel[0], d.pixel[1]))
                        .collect();
                    (cameras[i].name.clone(), rows)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aquamvs_camera::Rig;
    use aquamvs_scenes::{Board, BoardPose, RenderOptions, Scene, render_with_depth};

    #[test]
    fn bilinear_reads_between_pixels_and_refuses_nan_neighbours() {
        let map = [0.0f32, 1.0, 2.0, 3.0, 4.0, f32::NAN];
        assert_eq!(bilinear(&map, 3, 2, 0.5, 0.5), Some(2.0));
        assert_eq!(bilinear(&map, 3, 2, 0.0, 0.0), Some(0.0));
        assert_eq!(bilinear(&map, 3, 2, 1.5, 0.0), Some(1.5));
        assert_eq!(bilinear(&map, 3, 2, 1.5, 0.5), None);
        assert_eq!(bilinear(&map, 3, 2, 1.0, 0.5), Some(2.5));
        assert_eq!(bilinear(&map, 3, 2, -0.1, 0.0), None);
        assert_eq!(bilinear(&map, 3, 2, 0.0, 1.5), None);
    }

    #[test]
    fn exact_depth_maps_transfer_the_detected_corners_onto_the_board() {
        let rig = Rig::reference(320, 240).unwrap();
        let pose = BoardPose {
            center: [0.02, -0.01, 1.30],
            tilt_deg: 20.0,
            tilt_axis_deg: 60.0,
        };
        let scene = Scene::board(Board::default(), pose).unwrap();
        let placement = scene.board.unwrap();
        let refs = [0usize, 3];
        let n = rig.cameras.len();
        let (mut images, mut depths) = (vec![Vec::new(); n], vec![Vec::new(); n]);
        let opts = RenderOptions {
            supersample: 8,
            ..RenderOptions::default()
        };
        for i in refs {
            (images[i], depths[i]) = render_with_depth(&scene, &rig.cameras[i], &opts);
        }
        let t = transfer_pose(
            0,
            &placement,
            &rig.cameras,
            &refs,
            &images,
            &depths,
            &ProtocolSettings::default(),
        );
        assert!(t.observations.len() > 100, "{}", t.observations.len());
        assert_eq!(t.dropouts, 0);
        let mut errors: Vec<f64> = refs
            .iter()
            .flat_map(|&i| t.corners[i].detected.iter().map(Detection::error_px))
            .collect();
        errors.sort_by(f64::total_cmp);
        let (median, worst) = (errors[errors.len() / 2], errors[errors.len() - 1]);
        assert!(
            median < 0.1 && worst < 0.35,
            "detector error {median} / {worst} px"
        );
        // With exact depth the transferred corner lies on the board plane, near the corner
        // (the detector's pixel error, a few tenths of a millimetre at this distance).
        for o in &t.observations {
            let off = placement.pose.to_board(&o.point);
            assert!(off.z.abs() < 2e-4, "{off}");
            assert!(
                (o.point - o.exact).norm() < 2e-3,
                "{}",
                (o.point - o.exact).norm()
            );
        }
    }
}
