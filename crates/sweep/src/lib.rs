//! The refractive plane sweep: a depth map for one reference camera from its source cameras,
//! as wgpu compute shaders ([`GpuSweep`]) with a CPU reference ([`sweep_cpu`]), and a fast
//! native `f32` CPU sweep ([`sweep_native`]) for machines without a hardware adapter.
//!
//! Main types: [`SweepSettings`] (depths, window, batch, validated once; the depth range depends
//! on the scene and travels beside it as `range: (f32, f32)`, checked by [`check_range`]),
//! [`View`] (a camera and its grey image), [`SweepOutput`] (depth and confidence maps,
//! optionally the cost volume, and [`SweepTimings`]: set-up, sweep and read-back wall-clock),
//! [`GpuSweep`] (pipelines, created once per device; it keeps the last sweep's buffers for the
//! next one of the same shape) and [`SweepError`].
//!
//! The algorithm (AquaMVS's, with its out-of-image bug fixed): depth hypotheses uniformly spaced
//! in **ray depth**, both ends included; for each hypothesis and source, the point on each
//! reference ray at that depth is projected refractively into the source and sampled
//! bilinearly — **a sample outside the source image is invalid (masked), never 0**. The cost is
//! `1 − NCC` over an odd square window using only valid samples (cost 1 where fewer than half
//! the window is valid, clamped to [0, 2]), averaged over the sources; then winner-take-all
//! (first index on ties), parabola refinement and a confidence
//! (see [`select::refine_offset`] and [`select::confidence`]).
//!
//! Design decisions:
//! - **Depth batching is real.** Per batch of `batch` hypotheses: one command buffer with three
//!   dispatches. `warp` loads each reference ray and reference value once and warps every
//!   source at all the batch's hypotheses; `ncc` computes the masked NCC of every (hypothesis,
//!   source, pixel); `wta` loads each pixel's winner-take-all state once, takes the batch's
//!   hypotheses in depth order and stores it back. The running winner-take-all means the cost
//!   volume is never stored unless asked for ([`SweepSettings::keep_cost_volume`]). Every
//!   hypothesis goes through the same arithmetic whatever the batch size, so **results are
//!   bitwise identical for every batch size**.
//! - The GPU warp projects exactly (surface crossing by Newton's method in `f32`) only at
//!   anchors, the ends and middle of segments of [`warp_span`] hypotheses aligned to multiples of
//!   the span, and interpolates the camera-frame vector of the crossing quadratically in between;
//!   the span is the longest whose interpolation error, measured in `f64` before the sweep, stays
//!   below 5e-4 px. The batch's hypotheses share these anchors, which is most of the saving of
//!   batching on a CPU-like adapter. The CPU reference is `f64` and projects every sample exactly
//!   with [`aquamvs_camera::Camera::project_from`].
//! - Window sums are sliding box sums of the six masked moments `m, m·r, m·r², m·s, m·s², m·r·s`,
//!   kept in registers by each invocation of `ncc` while it walks down a strip of columns (no
//!   workgroup memory, no barriers: both are slow on llvmpipe). The host unrolls the shader's
//!   marked loops for the chosen window so that its arrays are registers.
//! - Samples travel between the shaders as 16-bit fixed-point codes (1.5e-5 grey levels, far
//!   below 8-bit image quantisation) in zero-padded rows that `ncc` reads as aligned quads; the
//!   source images are uploaded as 16-bit texel quads so a bilinear sample is one load. On
//!   llvmpipe every per-invocation memory access is a scalar loop over the SIMD lanes, so these
//!   layouts matter more than arithmetic.
//! - Images taller than one storage binding allows are swept in row bands (with a window halo)
//!   made of whole `ncc` segments, so tiling does not change the results either; the source
//!   images (as texel quads) must fit in one binding.
//! - What the host writes for the shaders is declared once in WGSL (the prelude
//!   `gpu/params.wgsl`, joined before each shader when it is loaded) and mirrored in Rust
//!   (`gpu/abi.rs`); a test parses the shaders with naga and fails when the two diverge.
//!
//! What it does not do: no file I/O, no adapter selection (pass a `wgpu::Device` and `Queue`;
//! see `aquamvs_gpu`), no depth-map filtering or fusion.
//!
//! **Conventions.** Images are grey, **row-major `height × width`, values in [0, 1]**, pixel
//! `(u, v)` = (column, row) with **pixel centres at integer coordinates**; recorded images may be
//! distorted (the camera's [`aquamvs_camera::Distortion`] is applied). Depths are **ray depths in
//! metres** (distance along the refracted ray from the water surface); invalid depths are
//! **NaN** with confidence 0. The cost volume is laid out **`[depth][row][col]`**.
//!
//! ```
//! use aquamvs_sweep::{SweepSettings, check_range, samples};
//! let settings = SweepSettings { depths: 65, ..SweepSettings::default() };
//! settings.validate().unwrap();
//! let range = (0.15, 0.35); // ray depth, metres: from the scene (`depth_range_from_z`)
//! check_range(range).unwrap();
//! assert!((settings.step(range) - 0.2 / 64.0).abs() < 1e-7);
//! assert_eq!(settings.depth_of(range, 64), range.1 as f64);
//! assert_eq!(samples(640, 480, 64, 4), 640 * 480 * 64 * 4);
//! ```

mod cpu;
mod gpu;
mod native;
mod rays;
pub mod select;
mod unroll;
mod workload;

pub use cpu::sweep_cpu;
pub use gpu::{GpuSweep, GpuSweepOptions, SrcCamU};
pub use native::sweep_native;
pub use rays::{depth_range_from_z, pixel_ray, warp_span};
pub use workload::Workload;

use aquamvs_camera::Camera;

/// Errors from the sweep.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepError {
    /// The window is even, too small or too large.
    #[error("window must be odd and in 3..={max}, got {0}", max = SweepSettings::MAX_WINDOW)]
    Window(u32),
    /// Fewer than two depth hypotheses, or more than [`SweepSettings::MAX_DEPTHS`].
    #[error(
        "the number of depth hypotheses must be in 2..={max}, got {0}",
        max = SweepSettings::MAX_DEPTHS
    )]
    Depths(u32),
    /// Batch of zero hypotheses.
    #[error("batch must be at least 1, got {0}")]
    Batch(u32),
    /// The depth range is empty, inverted, not positive or not finite.
    #[error("depth range ({0}, {1}) is invalid: it must be finite with 0 < lo < hi (ray depth, m)")]
    DepthRange(f64, f64),
    /// No source views.
    #[error("at least one source view is needed")]
    NoSources,
    /// An image does not match its camera, or holds non-finite values.
    #[error("{view} image: {message}")]
    Image {
        /// "reference" or "source N".
        view: String,
        /// What is wrong.
        message: String,
    },
    /// No reference pixel's ray reaches the water.
    #[error("no ray of camera {0:?} reaches the water surface")]
    NoRays(String),
    /// The scene depth extent given to [`depth_range_from_z`] is invalid.
    #[error("scene depth extent is invalid: {0}")]
    SceneExtent(String),
    /// The images are too large for the adapter's buffers even when tiled.
    #[error("too large for this adapter: {0}")]
    TooLarge(String),
    /// wgpu reported an error (validation, out of memory, device lost, mapping).
    #[error("GPU error: {0}")]
    Gpu(String),
}

/// The settings of a sweep: everything but the depth range, which depends on the scene and
/// travels separately as `range: (f32, f32)` (checked by [`check_range`] where it is known).
/// Validated once by [`SweepSettings::validate`] and passed down unchanged.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepSettings {
    /// Number of depth hypotheses, `2..=`[`SweepSettings::MAX_DEPTHS`], uniform in ray depth,
    /// both ends of the range included.
    pub depths: u32,
    /// NCC window side in pixels: odd, `3..=`[`SweepSettings::MAX_WINDOW`].
    pub window: u32,
    /// Depth hypotheses per GPU dispatch (≥ 1; more than `depths` means all at once; results
    /// do not depend on it). Ignored by the CPU reference.
    pub batch: u32,
    /// Also return the aggregated cost volume `[depth][row][col]`.
    pub keep_cost_volume: bool,
}

impl Default for SweepSettings {
    /// 64 depths, window 11, batch 16, no cost volume.
    fn default() -> Self {
        Self {
            depths: 64,
            window: 11,
            batch: 16,
            keep_cost_volume: false,
        }
    }
}

impl SweepSettings {
    /// Largest window accepted.
    pub const MAX_WINDOW: u32 = 31;
    /// Most depth hypotheses accepted.
    pub const MAX_DEPTHS: u32 = 4096;

    /// Checks the settings: odd window in `3..=31`, `2..=4096` depths, batch ≥ 1.
    pub fn validate(&self) -> Result<(), SweepError> {
        if self.window.is_multiple_of(2) || !(3..=Self::MAX_WINDOW).contains(&self.window) {
            return Err(SweepError::Window(self.window));
        }
        if !(2..=Self::MAX_DEPTHS).contains(&self.depths) {
            return Err(SweepError::Depths(self.depths));
        }
        if self.batch < 1 {
            return Err(SweepError::Batch(self.batch));
        }
        Ok(())
    }

    /// Spacing between consecutive hypotheses over `range` (**ray depth**, metres):
    /// `(hi − lo)/(depths − 1)`.
    pub fn step(&self, range: (f32, f32)) -> f64 {
        let (lo, hi) = range;
        (hi as f64 - lo as f64) / (self.depths as f64 - 1.0)
    }

    /// Ray depth of hypothesis `k` over `range` (`lo + k·step`), metres.
    pub fn depth_of(&self, range: (f32, f32), k: u32) -> f64 {
        range.0 as f64 + k as f64 * self.step(range)
    }
}

/// Checks a depth range `(lo, hi)`, the **ray depth** of the first and last hypothesis in
/// metres: finite, `0 < lo < hi`.
pub fn check_range(range: (f32, f32)) -> Result<(), SweepError> {
    let (lo, hi) = range;
    if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo < hi) {
        return Err(SweepError::DepthRange(lo as f64, hi as f64));
    }
    Ok(())
}

/// A camera and its image.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// The camera (its width and height are the image's).
    pub camera: &'a Camera<f64>,
    /// Grey values in [0, 1], **row-major `height × width`**, as recorded (distorted if the
    /// camera has distortion).
    pub image: &'a [f32],
}

impl View<'_> {
    fn check(&self, what: &str) -> Result<(), SweepError> {
        let (w, h) = (self.camera.width as usize, self.camera.height as usize);
        let err = |message: String| SweepError::Image {
            view: what.to_string(),
            message,
        };
        if self.image.len() != w * h {
            return Err(err(format!(
                "{} values for a {w}x{h} camera ({:?})",
                self.image.len(),
                self.camera.name
            )));
        }
        // Branch-free per chunk (vectorised); the position only when a chunk fails.
        let ok = |c: &[f32]| c.iter().fold(true, |ok, v| ok & (0.0..=1.0).contains(v));
        if !self.image.chunks(1024).all(ok)
            && let Some(i) = self.image.iter().position(|v| !(0.0..=1.0).contains(v))
        {
            return Err(err(format!(
                "value {} at row {}, column {} is not a grey value in [0, 1]",
                self.image[i],
                i / w,
                i % w
            )));
        }
        Ok(())
    }
}

/// Checks the views, settings and range, the same for both backends (and for other depth
/// methods on the same views).
pub fn check_views(
    reference: &View,
    sources: &[View],
    settings: &SweepSettings,
    range: (f32, f32),
) -> Result<(), SweepError> {
    settings.validate()?;
    check_range(range)?;
    if sources.is_empty() {
        return Err(SweepError::NoSources);
    }
    reference.check("reference")?;
    for (i, s) in sources.iter().enumerate() {
        s.check(&format!("source {i}"))?;
    }
    Ok(())
}

/// The result of a sweep.
///
/// Equality (`==`) compares the maps and the cost volume, **not** [`SweepOutput::timings`]:
/// two runs that computed the same thing are equal however long they took.
#[derive(Debug, Clone)]
pub struct SweepOutput {
    /// Reference image width.
    pub width: u32,
    /// Reference image height.
    pub height: u32,
    /// Refined **ray depth** per reference pixel, metres, row-major; **NaN where invalid**
    /// (ray misses the water, or the winner is the first or last hypothesis).
    pub depth: Vec<f32>,
    /// Confidence in [0, 1] per pixel; 0 where the depth is NaN.
    pub confidence: Vec<f32>,
    /// Aggregated cost `[depth][row][col]` when [`SweepSettings::keep_cost_volume`] is set.
    pub cost_volume: Option<Vec<f32>>,
    /// Where the wall-clock time of this sweep went (not part of equality).
    pub timings: SweepTimings,
}

impl PartialEq for SweepOutput {
    /// Compares everything but [`SweepOutput::timings`].
    fn eq(&self, other: &Self) -> bool {
        self.width == other.width
            && self.height == other.height
            && self.depth == other.depth
            && self.confidence == other.confidence
            && self.cost_volume == other.cost_volume
    }
}

/// Wall-clock seconds (`std::time::Instant`) of the phases of one sweep, from the call to its
/// return: `setup_s + sweep_s + readback_s` is the whole call.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SweepTimings {
    /// Host work before the first depth hypothesis is swept: input checks, reference rays,
    /// the warp span ([`warp_span`]), packing the source images, GPU buffers (created, or
    /// reused from the previous sweep of the same shape), bind groups, and the writes of the
    /// sources, cameras and first row band's rays and reference values. CPU reference: input
    /// checks, reference rays and values.
    pub setup_s: f64,
    /// The sweep itself: every batch's dispatches, the `finalize` pass and the waits for the
    /// device (for a tiled sweep, also the later row bands' ray uploads). CPU reference: the
    /// whole sweep after setup.
    pub sweep_s: f64,
    /// Read-back of the finished maps (and cost volume) from the device into the output:
    /// mapping the staging buffers and copying, summed over row bands. 0 for the CPU reference.
    pub readback_s: f64,
}

impl SweepTimings {
    /// The whole call, seconds: `setup_s + sweep_s + readback_s`.
    pub fn total_s(&self) -> f64 {
        self.setup_s + self.sweep_s + self.readback_s
    }
}

/// Number of samples of a sweep: one sample is one (reference pixel, depth, source).
pub fn samples(width: u32, height: u32, depths: u32, sources: u32) -> u64 {
    width as u64 * height as u64 * depths as u64 * sources as u64
}

/// Value that marks an invalid sample (outside the image, no ray, no projection).
pub(crate) const INVALID: f32 = -8.0;
/// Values are centred before the NCC moments (`v − 0.5`) to limit cancellation.
pub(crate) const CENTRE: f32 = 0.5;
/// Added to `var_r · var_s` under the NCC square root.
pub(crate) const NCC_EPS: f64 = 1e-12;
