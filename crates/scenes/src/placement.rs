//! Where to put a scene for any rig: the part of a horizontal plane that the cameras see.
//!
//! **The rule** ([`working_area`]): on the plane `Z = z`, a point is *seen* by a camera when it
//! projects (refractively, through the camera's lens model) inside its recorded image at
//! least [`MARGIN_PX`] pixels from the border. The union of the cameras' footprints is sampled
//! on a grid of [`GRID`] nodes along its longer side.
//! - The **centre** is the centroid of the nodes seen by the most cameras (if that centroid is
//!   not itself such a node, the nearest one that is), rounded to the millimetre.
//! - The **bounds** are the largest-area axis-aligned rectangle centred there every node of
//!   which, one grid step beyond its edges included, is seen by at least `min_views` cameras
//!   (3, or every camera of a smaller rig), rounded inward to the millimetre.

use aquamvs_camera::{Camera, Rig};
use nalgebra::Point3;
use rayon::prelude::*;

use crate::SceneError;

/// Nodes along the longer side of the sampled footprint.
pub const GRID: usize = 240;
/// A point counts as seen this far inside the image border, pixels.
pub const MARGIN_PX: f64 = 8.0;

/// Where a scene goes on the plane `Z = z`: see the module notes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorkingArea {
    /// Centre `(x, y)`, metres.
    pub center: [f64; 2],
    /// `[x_min, x_max, y_min, y_max]`, metres.
    pub bounds: [f64; 4],
    /// Cameras that see the centre.
    pub views_at_center: usize,
    /// The fewest cameras that see a point of the bounds.
    pub min_views: usize,
}

/// How many of `rig`'s cameras see `(x, y, z)` ([`MARGIN_PX`] inside their images).
pub fn views_of(rig: &Rig, x: f64, y: f64, z: f64) -> usize {
    let p = Point3::new(x, y, z);
    rig.cameras.iter().filter(|c| sees(c, &p)).count()
}

fn sees(cam: &Camera<f64>, p: &Point3<f64>) -> bool {
    cam.project(p).is_some_and(|pr| {
        let (u, v) = cam.distort_pixel(pr.pixel.x, pr.pixel.y);
        let (w, h) = (f64::from(cam.width), f64::from(cam.height));
        u >= MARGIN_PX - 0.5
            && v >= MARGIN_PX - 0.5
            && u <= w - 0.5 - MARGIN_PX
            && v <= h - 0.5 - MARGIN_PX
    })
}

/// The working area of `rig` on the plane `Z = z` (module notes). `center` fixes the centre
/// instead of finding it. Errors when the plane is not below the water or no point of it
/// (at the centre) is seen by `min_views` cameras.
pub fn working_area(
    rig: &Rig,
    z: f64,
    center: Option<[f64; 2]>,
) -> Result<WorkingArea, SceneError> {
    let min_views = 3.min(rig.cameras.len());
    if !(z > rig.interface.water_z) || !z.is_finite() {
        return Err(SceneError::Parameter {
            name: "z",
            value: z,
            why: "the scene plane must lie below the water surface",
        });
    }
    let (lo, hi) = footprint_box(rig, z)
        .ok_or_else(|| SceneError::Placement(format!("no camera sees the plane Z = {z} m")))?;
    let step = (hi[0] - lo[0]).max(hi[1] - lo[1]) / GRID as f64;
    let center = match center {
        Some(c) => c,
        None => best_center(rig, z, lo, hi, step),
    };
    // A grid centred on the centre, reaching past the footprint box on every side.
    let reach = |a: f64, b: f64, c: f64| ((c - a).abs().max((b - c).abs()) / step).ceil() as i64;
    let nx = reach(lo[0], hi[0], center[0]);
    let ny = reach(lo[1], hi[1], center[1]);
    let counts: Vec<Vec<usize>> = (-ny..=ny)
        .into_par_iter()
        .map(|j| {
            (-nx..=nx)
                .map(|i| {
                    let (x, y) = (center[0] + i as f64 * step, center[1] + j as f64 * step);
                    views_of(rig, x, y, z)
                })
                .collect()
        })
        .collect();
    let at = |i: i64, j: i64| counts[(j + ny) as usize][(i + nx) as usize];
    let views_at_center = at(0, 0);
    if views_at_center < min_views {
        return Err(SceneError::Placement(format!(
            "only {views_at_center} cameras see the centre ({}, {}) on the plane Z = {z} m \
             (at least {min_views} must)",
            center[0], center[1]
        )));
    }
    // Half-width (in steps) of the covered run about the centre in each row.
    let run: Vec<i64> = (-ny..=ny)
        .map(|j| {
            let mut k = -1;
            while k < nx && at(k + 1, j) >= min_views && at(-(k + 1), j) >= min_views {
                k += 1;
            }
            k
        })
        .collect();
    let row = |j: i64| run[(j + ny) as usize];
    let (mut best, mut best_area) = ((0, 0), -1);
    for a in 0..nx {
        if row(0) <= a {
            break;
        }
        let mut b = -1;
        while b + 2 <= ny && row(b + 2) > a && row(-(b + 2)) > a {
            b += 1;
        }
        if b >= 1 && a * b > best_area {
            best = (a, b);
            best_area = a * b;
        }
    }
    if best_area <= 0 {
        return Err(SceneError::Placement(format!(
            "no rectangle about ({}, {}) on the plane Z = {z} m is seen by {min_views} cameras",
            center[0], center[1]
        )));
    }
    let (a, b) = (best.0 as f64 * step, best.1 as f64 * step);
    // Rounded inward to the millimetre.
    let (up, down) = (
        |v: f64| (v * 1e3).ceil() / 1e3,
        |v: f64| (v * 1e3).floor() / 1e3,
    );
    let bounds = [
        up(center[0] - a),
        down(center[0] + a),
        up(center[1] - b),
        down(center[1] + b),
    ];
    let mut min_seen = usize::MAX;
    for j in -best.1..=best.1 {
        for i in -best.0..=best.0 {
            min_seen = min_seen.min(at(i, j));
        }
    }
    Ok(WorkingArea {
        center,
        bounds,
        views_at_center,
        min_views: min_seen,
    })
}

/// The box `(lo, hi)` around every camera's footprint on the plane (image border rays).
fn footprint_box(rig: &Rig, z: f64) -> Option<([f64; 2], [f64; 2])> {
    let mut lo = [f64::INFINITY; 2];
    let mut hi = [f64::NEG_INFINITY; 2];
    for cam in &rig.cameras {
        let (w, h) = (f64::from(cam.width) - 1.0, f64::from(cam.height) - 1.0);
        for k in 0..=64 {
            let t = f64::from(k) / 64.0;
            for (u, v) in [(t * w, 0.0), (t * w, h), (0.0, t * h), (w, t * h)] {
                let (x, y) = cam.undistort_pixel(u, v);
                let Some(ray) = cam.cast_ray(x, y) else {
                    continue;
                };
                let d = (z - ray.origin.z) / ray.direction.z;
                if !(d >= 0.0 && d.is_finite()) {
                    continue;
                }
                let p = ray.at(d);
                lo = [lo[0].min(p.x), lo[1].min(p.y)];
                hi = [hi[0].max(p.x), hi[1].max(p.y)];
            }
        }
    }
    (lo[0] < hi[0] && lo[1] < hi[1]).then_some((lo, hi))
}

/// The centroid of the nodes seen by the most cameras (or the nearest such node), to 1 mm.
fn best_center(rig: &Rig, z: f64, lo: [f64; 2], hi: [f64; 2], step: f64) -> [f64; 2] {
    let nodes: Vec<(f64, f64)> = (0..=((hi[1] - lo[1]) / step).ceil() as usize)
        .flat_map(|j| {
            (0..=((hi[0] - lo[0]) / step).ceil() as usize)
                .map(move |i| (lo[0] + i as f64 * step, lo[1] + j as f64 * step))
        })
        .collect();
    let counts: Vec<usize> = nodes
        .par_iter()
        .map(|&(x, y)| views_of(rig, x, y, z))
        .collect();
    let most = counts.iter().copied().max().unwrap_or(0);
    let best: Vec<(f64, f64)> = nodes
        .iter()
        .zip(&counts)
        .filter(|(_, c)| **c == most)
        .map(|(p, _)| *p)
        .collect();
    let n = best.len() as f64;
    let (mx, my) = best
        .iter()
        .fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
    let mm = |v: f64| (v * 1000.0).round() / 1000.0 + 0.0;
    if views_of(rig, mm(mx), mm(my), z) == most {
        return [mm(mx), mm(my)];
    }
    let nearest = best
        .iter()
        .min_by(|a, b| {
            let da = (a.0 - mx).hypot(a.1 - my);
            let db = (b.0 - mx).hypot(b.1 - my);
            da.total_cmp(&db)
        })
        .copied()
        .unwrap_or((mx, my));
    [nearest.0, nearest.1]
}
