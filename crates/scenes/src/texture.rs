//! The procedural world texture: smooth value noise at several scales.

/// One octave: lattice cell size (metres), weight, rotation `(cos, sin)` (exact Pythagorean
/// ratios, so no trigonometry per call), hash seed.
struct Octave {
    cell: f64,
    weight: f64,
    rot: (f64, f64),
    seed: u64,
}

/// Feature sizes from 2 mm to 32 mm (a 640×480 reference pixel covers about 2 mm of the
/// patch), each octave rotated and hashed differently so the lattices never line up. The
/// fine octaves carry most of the contrast: an NCC window then sees detail across all of its
/// pixels rather than one large blob, which measured better on the undulating scene (median
/// ray-depth error of cam00 at 640×480, window 11: 1.54 mm with equal weights, 1.42 mm with
/// these).
const OCTAVES: [Octave; 5] = [
    Octave {
        cell: 0.002,
        weight: 1.0,
        rot: (3.0 / 5.0, 4.0 / 5.0),
        seed: 0x51f1_5eed_0000_0001,
    },
    Octave {
        cell: 0.004,
        weight: 1.0,
        rot: (-5.0 / 13.0, 12.0 / 13.0),
        seed: 0x51f1_5eed_0000_0002,
    },
    Octave {
        cell: 0.008,
        weight: 0.6,
        rot: (15.0 / 17.0, 8.0 / 17.0),
        seed: 0x51f1_5eed_0000_0003,
    },
    Octave {
        cell: 0.016,
        weight: 0.3,
        rot: (-24.0 / 25.0, 7.0 / 25.0),
        seed: 0x51f1_5eed_0000_0004,
    },
    Octave {
        cell: 0.032,
        weight: 0.15,
        rot: (21.0 / 29.0, -20.0 / 29.0),
        seed: 0x51f1_5eed_0000_0005,
    },
];

/// Contrast gain before the `tanh` that maps the octave sum into (0, 1); chosen so the
/// texture's standard deviation is about 0.2 (mean 0.5).
const GAIN: f64 = 1.6;

/// How the texture is made, for `scene.json`.
pub const TEXTURE_DESCRIPTION: &str = "value noise (quintic), 5 rotated octaves with cells of \
    2, 4, 8, 16, 32 mm in world (x, y); grey = 0.5 + 0.5*tanh(1.6 * weighted sum)";

/// The procedural grey texture at world `(x, y)` (metres), in **(0, 1)**: the same value in
/// every view, smooth (C²), rich at scales from ~2 mm to ~3 cm, defined everywhere.
pub fn texture(x: f64, y: f64) -> f64 {
    let mut sum = 0.0;
    for o in &OCTAVES {
        let (c, s) = o.rot;
        let u = (c * x - s * y) / o.cell;
        let v = (s * x + c * y) / o.cell;
        sum += o.weight * (value_noise(u, v, o.seed) - 0.5);
    }
    0.5 + 0.5 * (GAIN * sum).tanh()
}

/// Value noise in [0, 1): lattice values from a hash, quintic (C²) interpolation.
fn value_noise(u: f64, v: f64, seed: u64) -> f64 {
    let (iu, iv) = (floor_i64(u), floor_i64(v));
    let (tu, tv) = (fade(u - iu as f64), fade(v - iv as f64));
    let a = hash(iu, iv, seed);
    let b = hash(iu + 1, iv, seed);
    let c = hash(iu, iv + 1, seed);
    let d = hash(iu + 1, iv + 1, seed);
    let ab = a + (b - a) * tu;
    let cd = c + (d - c) * tu;
    ab + (cd - ab) * tv
}

/// `⌊x⌋` as an integer without a libm call (the baseline x86-64 has no `roundsd`);
/// saturates far outside any scene.
fn floor_i64(x: f64) -> i64 {
    let i = x as i64;
    if (i as f64) > x { i - 1 } else { i }
}

fn fade(t: f64) -> f64 {
    t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
}

/// A well-mixed hash of a lattice point to [0, 1) (splitmix64 finaliser).
fn hash(i: i64, j: i64, seed: u64) -> f64 {
    let mut h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
        ^ seed;
    h ^= h >> 30;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 31;
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texture_is_in_range_with_useful_contrast() {
        let n = 200_000;
        let mut sum = 0.0;
        let mut sum2 = 0.0;
        let (mut lo, mut hi) = (1.0f64, 0.0f64);
        for k in 0..n {
            // A low-discrepancy walk over a 1 m square.
            let x = (k as f64 * 0.618_033_988_75).fract() - 0.5;
            let y = (k as f64 * 0.754_877_666_2).fract() - 0.5;
            let t = texture(x, y);
            assert!(t > 0.0 && t < 1.0);
            sum += t;
            sum2 += t * t;
            lo = lo.min(t);
            hi = hi.max(t);
        }
        let mean = sum / n as f64;
        let sd = (sum2 / n as f64 - mean * mean).sqrt();
        assert!((mean - 0.5).abs() < 0.03, "mean {mean}");
        assert!(sd > 0.15 && sd < 0.3, "sd {sd}");
        assert!(lo < 0.1 && hi > 0.9, "range {lo}..{hi}");
    }

    #[test]
    fn texture_is_continuous_and_varies_at_millimetre_scale() {
        // Continuous: tiny steps change it a little.
        let mut max_jump = 0.0f64;
        // Rich: 1 mm steps change it noticeably on average.
        let mut mean_mm = 0.0;
        let n = 10_000;
        for k in 0..n {
            let x = -0.25 + 0.5 * k as f64 / n as f64;
            let y = 0.037 + 0.1 * x;
            max_jump = max_jump.max((texture(x + 1e-6, y) - texture(x, y)).abs());
            mean_mm += (texture(x + 1e-3, y) - texture(x, y)).abs() / n as f64;
        }
        assert!(max_jump < 2e-3, "max jump over 1 µm {max_jump}");
        assert!(mean_mm > 0.03, "mean change over 1 mm {mean_mm}");
    }
}
