//! Sub-pixel checkerboard-corner detection on a grey image.
//!
//! The method is OpenCV's `cornerSubPix` (Förstner's operator): at a corner `q`, every image
//! gradient `g` at a nearby pixel `p` is orthogonal to `p − q` (it lies on an edge through `q`,
//! or in a flat region where `g = 0`). So `q` solves `Σ w gᵀg · q = Σ w gᵀg · p` over a
//! Gaussian-weighted window, iterated with the window re-centred until `q` moves less than
//! 0.001 px. A window whose gradients do not span two directions (an edge, a flat region) has
//! no corner: its smaller structure-tensor eigenvalue is below a tenth of the larger, and the
//! detector says `None`. The caller gives a seed and a search radius (for the board protocol: a
//! coarse prediction of where the corner should appear); the answer comes from the image alone.

/// A grey image, row-major, values of any scale.
#[derive(Debug, Clone, Copy)]
pub struct Gray<'a> {
    pub width: usize,
    pub height: usize,
    pub pixels: &'a [f32],
}

impl Gray<'_> {
    fn at(&self, x: usize, y: usize) -> f64 {
        f64::from(self.pixels[y * self.width + x])
    }
}

/// Detector settings: half-size of the gradient window and how far from the seed a corner may
/// be found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectSettings {
    pub half_window: usize,
    pub max_shift: f64,
}

impl Default for DetectSettings {
    fn default() -> Self {
        DetectSettings {
            half_window: 5,
            max_shift: 4.0,
        }
    }
}

/// The sub-pixel corner near `seed` (pixel coordinates: the centre of pixel (i, j) is
/// (i, j)), or `None` when the window leaves the image, holds no corner, or the corner found is
/// further than `max_shift` from the seed.
pub fn refine_corner(
    image: Gray<'_>,
    seed: (f64, f64),
    settings: &DetectSettings,
) -> Option<(f64, f64)> {
    if image.pixels.len() != image.width * image.height
        || !(seed.0.is_finite() && seed.1.is_finite())
    {
        return None;
    }
    let h = settings.half_window as i64;
    let sigma = settings.half_window as f64 / 2.0;
    let mut q = seed;
    for _ in 0..50 {
        let (cx, cy) = (q.0.round() as i64, q.1.round() as i64);
        // One pixel of margin for the central differences.
        if cx - h < 1
            || cy - h < 1
            || cx + h + 1 >= image.width as i64
            || cy + h + 1 >= image.height as i64
        {
            return None;
        }
        let (mut a, mut b, mut c, mut bx, mut by) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for y in cy - h..=cy + h {
            for x in cx - h..=cx + h {
                let (xu, yu) = (x as usize, y as usize);
                let gx = (image.at(xu + 1, yu) - image.at(xu - 1, yu)) / 2.0;
                let gy = (image.at(xu, yu + 1) - image.at(xu, yu - 1)) / 2.0;
                let (dx, dy) = (x as f64 - q.0, y as f64 - q.1);
                let w = (-(dx * dx + dy * dy) / (2.0 * sigma * sigma)).exp();
                let (gxx, gxy, gyy) = (w * gx * gx, w * gx * gy, w * gy * gy);
                a += gxx;
                b += gxy;
                c += gyy;
                bx += gxx * x as f64 + gxy * y as f64;
                by += gxy * x as f64 + gyy * y as f64;
            }
        }
        let det = a * c - b * b;
        let tr = a + c;
        let disc = ((a - c) * (a - c) + 4.0 * b * b).sqrt();
        let (small, large) = ((tr - disc) / 2.0, (tr + disc) / 2.0);
        if !(large > 0.0) || small < 0.1 * large || det <= 0.0 {
            return None;
        }
        let next = ((c * bx - b * by) / det, (a * by - b * bx) / det);
        let moved = ((next.0 - q.0).powi(2) + (next.1 - q.1).powi(2)).sqrt();
        q = next;
        if ((q.0 - seed.0).powi(2) + (q.1 - seed.1).powi(2)).sqrt() > settings.max_shift {
            return None;
        }
        if moved < 1e-3 {
            return Some(q);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rotated checkerboard, 8×8 supersampled per pixel, with a corner at `corner`.
    fn checker(
        width: usize,
        height: usize,
        corner: (f64, f64),
        angle: f64,
        period: f64,
    ) -> Vec<f32> {
        let (s, c) = angle.sin_cos();
        let n = 8;
        let mut out = vec![0.0f32; width * height];
        for y in 0..height {
            for x in 0..width {
                let mut acc = 0.0;
                for sy in 0..n {
                    for sx in 0..n {
                        let px = x as f64 - 0.5 + (sx as f64 + 0.5) / n as f64 - corner.0;
                        let py = y as f64 - 0.5 + (sy as f64 + 0.5) / n as f64 - corner.1;
                        let (u, v) = (c * px + s * py, -s * px + c * py);
                        let dark =
                            ((u / period).floor() as i64 + (v / period).floor() as i64) % 2 == 0;
                        acc += if dark { 0.1 } else { 0.9 };
                    }
                }
                out[y * width + x] = (acc / (n * n) as f64) as f32;
            }
        }
        out
    }

    #[test]
    fn finds_a_rotated_corner_to_a_few_hundredths_of_a_pixel() {
        for (k, (corner, angle)) in [
            ((32.3, 30.7), 0.3),
            ((31.81, 33.12), -0.7),
            ((30.05, 29.5), 1.1),
        ]
        .into_iter()
        .enumerate()
        {
            let img = checker(64, 64, corner, angle, 12.0);
            let gray = Gray {
                width: 64,
                height: 64,
                pixels: &img,
            };
            let seed = (corner.0 + 1.6, corner.1 - 1.2);
            let q = refine_corner(gray, seed, &DetectSettings::default()).expect("corner found");
            let err = ((q.0 - corner.0).powi(2) + (q.1 - corner.1).powi(2)).sqrt();
            assert!(err < 0.05, "case {k}: {q:?} vs {corner:?}: {err} px");
        }
    }

    #[test]
    fn an_edge_or_a_flat_region_has_no_corner() {
        let w = 40;
        let edge: Vec<f32> = (0..w * w)
            .map(|i| if (i % w) < 20 { 0.1 } else { 0.9 })
            .collect();
        let gray = Gray {
            width: w,
            height: w,
            pixels: &edge,
        };
        assert_eq!(
            refine_corner(gray, (20.0, 20.0), &DetectSettings::default()),
            None
        );
        let flat = vec![0.5f32; w * w];
        let gray = Gray {
            width: w,
            height: w,
            pixels: &flat,
        };
        assert_eq!(
            refine_corner(gray, (20.0, 20.0), &DetectSettings::default()),
            None
        );
        // Too near the border for the window.
        let img = checker(w, w, (3.0, 3.0), 0.2, 8.0);
        let gray = Gray {
            width: w,
            height: w,
            pixels: &img,
        };
        assert_eq!(
            refine_corner(gray, (3.0, 3.0), &DetectSettings::default()),
            None
        );
    }
}
