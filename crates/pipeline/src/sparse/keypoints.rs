//! Shi–Tomasi keypoints for sparse matching.

use serde::Serialize;

use crate::PipelineError;

/// Options of [`detect_keypoints`].
#[derive(Debug, Clone, Serialize)]
pub struct KeypointOptions {
    /// At most this many keypoints per image (strongest first, spread over a grid).
    pub max_keypoints: usize,
    /// Half size of the structure-tensor window (2 → 5×5, Gaussian σ = 0.6·radius).
    pub block_radius: u32,
    /// Non-maximum suppression radius, pixels: a keypoint is the strongest in its
    /// `(2r+1)²` neighbourhood.
    pub nms_radius: u32,
    /// Keypoints closer than this to the image border are dropped (room for descriptors).
    pub border: u32,
    /// Responses below this fraction of the image's strongest are dropped.
    pub min_response_rel: f32,
    /// The image is split into `grid.0 × grid.1` cells that share `max_keypoints` evenly, so
    /// keypoints cover the whole view.
    pub grid: (u32, u32),
}

impl Default for KeypointOptions {
    fn default() -> Self {
        Self {
            max_keypoints: 600,
            block_radius: 2,
            nms_radius: 4,
            border: 8,
            min_response_rel: 0.01,
            grid: (8, 6),
        }
    }
}

/// A corner at an integer pixel of an (undistorted) image.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Keypoint {
    /// Column.
    pub u: u32,
    /// Row.
    pub v: u32,
    /// Shi–Tomasi response (smaller eigenvalue of the structure tensor).
    pub response: f32,
}

/// Shi–Tomasi corners (minimum eigenvalue of the gradient structure tensor, Gaussian-weighted
/// over a `(2·block_radius+1)²` window, central-difference gradients) with non-maximum suppression,
/// a relative threshold and a per-cell quota.
pub fn detect_keypoints(
    image: &[f32],
    width: u32,
    height: u32,
    opts: &KeypointOptions,
) -> Result<Vec<Keypoint>, PipelineError> {
    let (w, h) = (width as usize, height as usize);
    if image.len() != w * h {
        return Err(PipelineError::Input(format!(
            "image has {} values, expected {width}x{height}",
            image.len()
        )));
    }
    if w < 3 || h < 3 || opts.grid.0 == 0 || opts.grid.1 == 0 {
        return Ok(Vec::new());
    }
    // Gradients (central differences), zero on the border.
    let mut gxx = vec![0f32; w * h];
    let mut gyy = vec![0f32; w * h];
    let mut gxy = vec![0f32; w * h];
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let gx = 0.5 * (image[i + 1] - image[i - 1]);
            let gy = 0.5 * (image[i + w] - image[i - w]);
            gxx[i] = gx * gx;
            gyy[i] = gy * gy;
            gxy[i] = gx * gy;
        }
    }
    let r = opts.block_radius as usize;
    let (sxx, syy, sxy) = (
        window_sum(&gxx, w, h, r),
        window_sum(&gyy, w, h, r),
        window_sum(&gxy, w, h, r),
    );
    let response: Vec<f32> = (0..w * h)
        .map(|i| {
            let (a, c, b) = (sxx[i], syy[i], sxy[i]);
            0.5 * (a + c) - (0.25 * (a - c) * (a - c) + b * b).sqrt()
        })
        .collect();
    let max_resp = response.iter().copied().fold(0f32, f32::max);
    if !(max_resp > 0.0) {
        return Ok(Vec::new());
    }
    let thresh = max_resp * opts.min_response_rel;
    let border = (opts.border as usize).max(r + 1);
    let nms = opts.nms_radius as isize;
    let mut cands = Vec::new();
    for y in border..h.saturating_sub(border) {
        for x in border..w.saturating_sub(border) {
            let v = response[y * w + x];
            if v < thresh {
                continue;
            }
            let mut is_max = true;
            'nb: for dy in -nms..=nms {
                for dx in -nms..=nms {
                    if dx == 0 && dy == 0 {
                        continue;
                    }
                    let (xx, yy) = (x as isize + dx, y as isize + dy);
                    if xx < 0 || yy < 0 || xx >= w as isize || yy >= h as isize {
                        continue;
                    }
                    let o = response[yy as usize * w + xx as usize];
                    // Ties go to the first pixel in raster order.
                    if o > v || (o == v && (dy < 0 || (dy == 0 && dx < 0))) {
                        is_max = false;
                        break 'nb;
                    }
                }
            }
            if is_max {
                cands.push(Keypoint {
                    u: x as u32,
                    v: y as u32,
                    response: v,
                });
            }
        }
    }
    // Per-cell quota, strongest first.
    let (gx, gy) = (opts.grid.0 as usize, opts.grid.1 as usize);
    let quota = opts.max_keypoints.div_ceil(gx * gy);
    let mut cells: Vec<Vec<Keypoint>> = vec![Vec::new(); gx * gy];
    for k in cands {
        let cx = (k.u as usize * gx / w).min(gx - 1);
        let cy = (k.v as usize * gy / h).min(gy - 1);
        cells[cy * gx + cx].push(k);
    }
    let mut out = Vec::new();
    for mut c in cells {
        c.sort_by(|a, b| b.response.total_cmp(&a.response));
        c.truncate(quota);
        out.extend(c);
    }
    out.sort_by(|a, b| b.response.total_cmp(&a.response));
    out.truncate(opts.max_keypoints);
    Ok(out)
}

/// Gaussian-weighted sum over a `(2r+1)²` window (σ = 0.6·r, separable, clipped at the
/// borders). The weighting makes the response peak at a corner rather than plateau around it.
fn window_sum(a: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let sigma = 0.6 * r.max(1) as f32;
    let k: Vec<f32> = (0..=2 * r)
        .map(|i| {
            let x = i as f32 - r as f32;
            (-0.5 * x * x / (sigma * sigma)).exp()
        })
        .collect();
    let mut tmp = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut s = 0f32;
            for (i, kv) in k.iter().enumerate() {
                let xx = x as isize + i as isize - r as isize;
                if xx >= 0 && (xx as usize) < w {
                    s += kv * a[y * w + xx as usize];
                }
            }
            tmp[y * w + x] = s;
        }
    }
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let mut s = 0f32;
            for (i, kv) in k.iter().enumerate() {
                let yy = y as isize + i as isize - r as isize;
                if yy >= 0 && (yy as usize) < h {
                    s += kv * tmp[yy as usize * w + x];
                }
            }
            out[y * w + x] = s;
        }
    }
    out
}
