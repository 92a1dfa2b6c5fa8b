//! Refractive PatchMatch stereo: per reference pixel a surface patch — its **ray depth**, its
//! **normal** and, in the last stage, its **curvature** — found by PatchMatch (Gipuma's
//! red–black propagation, random refinement, bilateral-weighted NCC over the best `k`
//! sources), as a CPU reference ([`patchmatch_cpu`], `f64`) and wgpu compute shaders
//! ([`GpuPatchMatch`], `f32`, `patchmatch.wgsl`) that run the same algorithm with the same
//! random numbers (the quadric fit of the curved stage runs on the host for both).
//!
//! **Refraction done right.** A plane does not induce a homography through a refracting
//! surface. For a hypothesis `(d, n)` at pixel `p`, the plane passes through `X = o_p + d·v_p`
//! with normal `n`; each window pixel `q`'s own refracted ray `(o_q, v_q)` is intersected with
//! it and the point is projected refractively (exactly, by Newton's method) into each source.
//! To keep the cost bounded, exact projections are made at the window's centre and at five
//! pixels `p ± (h, 0)`, `p ± (0, h)`, `p + (h, h)` (`h` = half the window): the window's samples
//! are placed by the quadratic reference-pixel → source-pixel map through those six, and
//! sampled every `stride` pixels, as COLMAP and ACMM sample sparsely. [`projection_error`]
//! measures what the model costs against exact projection of every sample (0.005 px; the tests
//! bound it). The shader projects the five corners with two Newton steps from the centre's
//! crossing instead of four from the paraxial guess (`tests/projection.rs`: within 2e-4 px of
//! exact, 7e-5 measured), and reads the reference side of a window (bilateral weights, grey levels and their
//! sums) once per pixel for all the planes and sources it scores.
//!
//! **The loop.** It runs on a **lattice**: every `lattice`-th pixel of every `lattice`-th row
//! (2 by default: a quarter of the pixels; distances below are in lattice steps). Initial
//! planes from a given depth map (e.g. a coarse plane sweep's winner, with a horizontal
//! normal) or at random; then `iterations` rounds, each updating the pixels of one
//! checkerboard colour and then the other. An update evaluates the planes of 8 neighbours of
//! the other colour (at distance 1 and 5 along rows and columns; after the first round only
//! the 4 at distance 1), then 3 random refinements
//! (a new depth; a perturbed depth and normal; a perturbed normal) whose scale halves each
//! round, keeping the best. The cost of a plane is `1 − NCC` (bilateral weights on the
//! reference grey difference), averaged over the best `top_k` sources. **View selection**: at
//! each update the pixel's current plane picks its best `top_k` sources, and every candidate
//! is scored on those only. Random numbers come from a counter-based hash of (seed, pixel,
//! round, colour, draw), so both backends draw the same numbers and the result is
//! deterministic for a given seed.
//!
//! **Polish and the curved stage.** After the rounds every lattice pixel's depth is polished by
//! two parabola steps along its ray (normal kept), δ from half the last round's depth
//! perturbation. The pixels between take the plane of the nearest lattice pixel (a frame for
//! the fit below; its points come from the lattice only). A small window is needed on a curved bed (a
//! plane over 11 pixels of 5 cm ripples is off by a millimetre) but is noisy on a flat one; so,
//! with `curved_window` set, every pixel's surface is then fitted by a cubic through its
//! lattice neighbours' polished points (`curvature_radius`; curvatures that the residuals explain as
//! noise are shrunk to 0), and its depth is polished again over the larger `curved_window`, on
//! the **curved** patch (one parabola step, δ continuing the halving): each window pixel's plane
//! point is moved along its own ray to the fitted quadric, and the window's samples weigh the
//! same (`curved_bilateral` for the rounds' bilateral weights). The output normal is the
//! fitted one.
//!
//! Outputs: ray depth (NaN where invalid: no patch with cost ≤ `max_cost` inside the range),
//! unit normals in the world frame (**pointing up toward the cameras**, NaN where invalid),
//! confidence `1 − cost` and the cost.

mod cpu;
mod curved;
mod gpu;
mod problem;
mod smooth;

pub use cpu::patchmatch_cpu;
pub use gpu::{GpuPatchMatch, MAX_SOURCES};
pub use problem::projection_error;

use aquamvs_sweep::View;

/// Errors from PatchMatch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchMatchError {
    /// A setting is out of range.
    #[error("patchmatch setting {name} = {value} is invalid: {why}")]
    Setting {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: f64,
        /// The accepted range.
        why: &'static str,
    },
    /// The views or range are unusable (as the sweep reports them).
    #[error(transparent)]
    Input(#[from] aquamvs_sweep::SweepError),
    /// wgpu reported an error.
    #[error("GPU error: {0}")]
    Gpu(String),
}

/// The settings of PatchMatch (everything but the depth range).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PatchMatchSettings {
    /// Window side, pixels (odd, 3..=31).
    pub window: u32,
    /// Sample every `stride` pixels of the window (1..=window/2).
    pub stride: u32,
    /// Red–black rounds (1..=64).
    pub iterations: u32,
    /// Sources whose costs are averaged: the best `top_k` (≥ 1; clamped to the sources).
    pub top_k: u32,
    /// Bilateral weight scale on the reference grey difference (grey levels, > 0).
    pub sigma_color: f32,
    /// Gaussian spatial weight of a window sample, pixels (> 0; large = uniform).
    pub sigma_space: f32,
    /// Largest cost of a valid pixel (0..=2).
    pub max_cost: f32,
    /// Seed of the random numbers.
    pub seed: u32,
    /// Window side of the final curved polish (odd, 3..=31), or 0 for none: each pixel's
    /// surface is fitted by a quadric through its neighbours' planes (see `curvature_radius`)
    /// and its depth is polished on that curved patch over this larger window.
    #[serde(default)]
    pub curved_window: u32,
    /// Sample every `curved_stride` pixels of the curved polish's window (1..=curved_window/2
    /// when it is set), as COLMAP and ACMM sample sparsely. Alone, stride 2 cost the
    /// undulating bed 0.22 → 0.31 mm (cam00 640×480); with the final smoothing only 0.20 →
    /// 0.23 mm (noise 0.02) for a fifth of the time, but the backends then part on more
    /// pixels (within 0.1 mm: 99.6 → 98.3 % at 320×240), so the default is 1.
    #[serde(default = "default_curved_stride")]
    pub curved_stride: u32,
    /// Sample the curved polish's window on a checkerboard: of its `curved_stride` grid only
    /// the samples `(i, j)` with `i + j` even, half of them over the same span. Measured (cam00
    /// 640×480, noise 0.02, against every sample): undulating 0.190 → 0.193 mm, flat 0.063 →
    /// 0.053, slope 0.066 → 0.057.
    #[serde(default = "default_curved_checker")]
    pub curved_checker: bool,
    /// Radius, pixels, of the neighbourhood whose points fit each pixel's quadric (2..=15): on
    /// the default lattice 2 the 7×7 lattice points within 6 (4 gave 5×5 points, too few for
    /// the cubic: undulating 0.60 mm; 5: 0.22, 6: 0.20, 8: 0.31, cam00 640×480, noise 0.02).
    #[serde(default = "default_curvature_radius")]
    pub curvature_radius: u32,
    /// Start from the plane sweep's depth map instead of random planes. The caller runs the
    /// sweep and passes its depths as `init` (the pipeline does); without `init` the planes
    /// start at random whatever this says.
    #[serde(default)]
    pub sweep_init: bool,
    /// Run the rounds and the plane polish on every `lattice`-th pixel of every `lattice`-th
    /// row only (1..=4; above 1 needs `curved_window`): the quadric fit then takes its points
    /// from those pixels and the curved polish scores every pixel. See the crate notes.
    #[serde(default = "default_lattice")]
    pub lattice: u32,
    /// Depths of the plane sweep that starts the rounds (2..=1024; with `sweep_init`): the
    /// rounds refine its winner, so it can be coarse.
    #[serde(default = "default_init_depths")]
    pub init_depths: u32,
    /// Weight the curved polish's window bilaterally (`sigma_color`, as the rounds do) instead
    /// of uniformly. Uniform is the default: the curved patch already follows the surface, and
    /// the bilateral weights only cost it samples (cam00 640×480, window 11: flat 0.082 →
    /// 0.076 mm, flat with noise 0.02 0.093 → 0.087 mm, undulating 0.219 → 0.218 mm).
    #[serde(default)]
    pub curved_bilateral: bool,
    /// Radius, pixels, of the final depth smoothing (0 = none, else 2..=15): each valid
    /// pixel's depth becomes the value at the pixel of a quadratic fitted to its neighbours'
    /// depths (see `smooth_wide_radius`).
    #[serde(default = "default_smooth_radius")]
    pub smooth_radius: u32,
    /// A wider smoothing radius (0 = none, else above `smooth_radius`, at most 31): used where
    /// its fit agrees with the `smooth_radius` fit within 1.5 times that fit's RMS residual (a
    /// flat bed), the narrow fit elsewhere (a curved one).
    #[serde(default = "default_smooth_wide_radius")]
    pub smooth_wide_radius: u32,
}

fn default_curvature_radius() -> u32 {
    6
}

fn default_smooth_radius() -> u32 {
    4
}

fn default_smooth_wide_radius() -> u32 {
    12
}

fn default_curved_stride() -> u32 {
    1
}

fn default_curved_checker() -> bool {
    true
}

fn default_lattice() -> u32 {
    2
}

fn default_init_depths() -> u32 {
    16
}

impl Default for PatchMatchSettings {
    fn default() -> Self {
        // Measured at 640×480 on cam00 (the issue notes): propagation window 5 (7 and 11
        // flatten the ripples), all 4 sources (top 2: flat 0.24 → 0.17 mm), rounds from the
        // sweep (as good as 6 from random, half the time), curved polish over 11 (15 breaks
        // the undulating bed: 0.20 → 0.43 mm). With the final smoothing (radius 4, wide 12),
        // 2 rounds are enough (noise 0.02: flat 0.087 → 0.062 mm, undulating 0.237 → 0.198,
        // slope 0.094 → 0.077; 1 round breaks the slope: 0.24 mm, normals 7.7°). The rounds
        // and the plane polish on every second pixel of every second row, from a 16-depth
        // sweep: the run in half the time (15.6 → 7.1 s, undulating noise 0.02), the medians
        // within 0.01 mm (flat 0.053 → 0.050 mm, undulating 0.193 → 0.201, slope 0.057 →
        // 0.052). The curved polish then over 9 instead of 11: 0.6 s less of 6 (cam00 and
        // cam03, noise 0.02: flat 0.050 → 0.052 and 0.049 → 0.051 mm, undulating 0.201 → 0.200
        // and 0.174 → 0.171, slope 0.052 → 0.055 and 0.054 → 0.057).
        Self {
            window: 5,
            stride: 1,
            iterations: 2,
            top_k: 4,
            sigma_color: 0.3,
            sigma_space: 1e6,
            max_cost: 0.8,
            seed: 1,
            curved_window: 9,
            curved_stride: default_curved_stride(),
            curved_checker: default_curved_checker(),
            curvature_radius: default_curvature_radius(),
            sweep_init: true,
            lattice: default_lattice(),
            init_depths: default_init_depths(),
            curved_bilateral: false,
            smooth_radius: default_smooth_radius(),
            smooth_wide_radius: default_smooth_wide_radius(),
        }
    }
}

impl PatchMatchSettings {
    /// Checks every setting.
    pub fn validate(&self) -> Result<(), PatchMatchError> {
        let bad = |name, value: f64, why| Err(PatchMatchError::Setting { name, value, why });
        if self.window.is_multiple_of(2) || !(3..=31).contains(&self.window) {
            return bad("window", self.window.into(), "odd, 3..=31");
        }
        if !(1..=self.window / 2).contains(&self.stride) {
            return bad("stride", self.stride.into(), "1..=window/2");
        }
        if !(1..=64).contains(&self.iterations) {
            return bad("iterations", self.iterations.into(), "1..=64");
        }
        if self.top_k == 0 {
            return bad("top_k", 0.0, "at least 1");
        }
        if !(self.sigma_color > 0.0 && self.sigma_color.is_finite()) {
            return bad("sigma_color", self.sigma_color.into(), "finite, > 0");
        }
        if !(self.sigma_space > 0.0 && self.sigma_space.is_finite()) {
            return bad("sigma_space", self.sigma_space.into(), "finite, > 0");
        }
        if self.curved_window != 0
            && (self.curved_window.is_multiple_of(2) || !(3..=31).contains(&self.curved_window))
        {
            return bad(
                "curved_window",
                self.curved_window.into(),
                "0, or odd 3..=31",
            );
        }
        if self.curved_window != 0 && !(1..=self.curved_window / 2).contains(&self.curved_stride) {
            return bad(
                "curved_stride",
                self.curved_stride.into(),
                "1..=curved_window/2",
            );
        }
        if !(1..=4).contains(&self.lattice) {
            return bad("lattice", self.lattice.into(), "1..=4");
        }
        if self.lattice > 1 && self.curved_window == 0 {
            return bad(
                "lattice",
                self.lattice.into(),
                "1 without the curved polish (curved_window 0): the polish fills the pixels between",
            );
        }
        if !(2..=1024).contains(&self.init_depths) {
            return bad("init_depths", self.init_depths.into(), "2..=1024");
        }
        if !(2..=15).contains(&self.curvature_radius) {
            return bad("curvature_radius", self.curvature_radius.into(), "2..=15");
        }
        if self.smooth_radius == 1 || self.smooth_radius > 15 {
            return bad("smooth_radius", self.smooth_radius.into(), "0, or 2..=15");
        }
        if self.smooth_wide_radius != 0
            && (self.smooth_wide_radius <= self.smooth_radius || self.smooth_wide_radius > 31)
        {
            return bad(
                "smooth_wide_radius",
                self.smooth_wide_radius.into(),
                "0, or above smooth_radius and at most 31",
            );
        }
        if !(0.0..=2.0).contains(&self.max_cost) {
            return bad("max_cost", self.max_cost.into(), "0..=2");
        }
        Ok(())
    }
}

impl PatchMatchSettings {
    /// The bilateral σ of the curved polish: `sigma_color`, or (uniform weights) so large that
    /// every weight is exactly 1 in `f32`.
    pub(crate) fn curved_sigma_color(&self) -> f32 {
        if self.curved_bilateral {
            self.sigma_color
        } else {
            1e30
        }
    }
}

impl std::fmt::Display for PatchMatchSettings {
    /// The settings in words, e.g. for a docs table's caption.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "window {} (stride {}), {} red–black rounds{} from {}, best {} sources, bilateral σ {}",
            self.window,
            self.stride,
            self.iterations,
            match self.lattice {
                1 => String::new(),
                s => format!(" on a {s}-pixel lattice"),
            },
            if self.sweep_init {
                format!("a {}-depth plane sweep", self.init_depths)
            } else {
                "random planes".into()
            },
            self.top_k,
            self.sigma_color,
        )?;
        if self.curved_window > 0 {
            write!(
                f,
                ", curved polish over window {} (stride {}{}, {} weights, quadric fit radius {} px)",
                self.curved_window,
                self.curved_stride,
                if self.curved_checker {
                    ", checkerboard"
                } else {
                    ""
                },
                if self.curved_bilateral {
                    "bilateral"
                } else {
                    "uniform"
                },
                self.curvature_radius
            )?;
        }
        if self.smooth_radius > 0 {
            write!(f, ", depths smoothed over radius {}", self.smooth_radius)?;
            if self.smooth_wide_radius > 0 {
                write!(f, " (or {} where it agrees)", self.smooth_wide_radius)?;
            }
        }
        write!(f, ", cost ≤ {}, seed {}", self.max_cost, self.seed)
    }
}

/// Timings of one run, wall-clock seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct PatchMatchTimings {
    /// Host preparation (rays, uploads).
    pub setup_s: f64,
    /// The PatchMatch rounds.
    pub run_s: f64,
    /// Reading the maps back.
    pub readback_s: f64,
}

/// The result of PatchMatch for one reference view.
#[derive(Debug, Clone)]
pub struct PatchMatchOutput {
    /// Image width.
    pub width: u32,
    /// Image height.
    pub height: u32,
    /// Ray depth, row-major, NaN where invalid.
    pub depth: Vec<f32>,
    /// Unit normals (world frame, toward the cameras), `H×W×3`, NaN where invalid.
    pub normal: Vec<f32>,
    /// `1 − cost` clamped to [0, 1]; 0 where invalid.
    pub confidence: Vec<f32>,
    /// The final cost of every pixel's plane (also where invalid).
    pub cost: Vec<f32>,
    /// Wall-clock timings.
    pub timings: PatchMatchTimings,
}

/// The inputs both backends check the same way.
pub(crate) fn check_inputs(
    reference: &View,
    sources: &[View],
    settings: &PatchMatchSettings,
    range: (f32, f32),
    init: Option<&[f32]>,
) -> Result<(), PatchMatchError> {
    settings.validate()?;
    // The sweep's own checks of views and range (a 2-depth, window-3 sweep setting is valid).
    let probe = aquamvs_sweep::SweepSettings {
        depths: 2,
        window: 3,
        batch: 1,
        keep_cost_volume: false,
    };
    aquamvs_sweep::check_views(reference, sources, &probe, range)?;
    if let Some(init) = init {
        let n = reference.camera.width as usize * reference.camera.height as usize;
        if init.len() != n {
            return Err(PatchMatchError::Setting {
                name: "initial depth map length",
                value: init.len() as f64,
                why: "one value per reference pixel",
            });
        }
    }
    Ok(())
}

/// The output's last step for both backends: the optional depth smoothing
/// ([`PatchMatchSettings::smooth_radius`]).
pub(crate) fn finish(out: &mut PatchMatchOutput, settings: &PatchMatchSettings, range: (f64, f64)) {
    let size = (out.width as usize, out.height as usize);
    out.depth = smooth::smooth(
        &out.depth,
        size,
        settings.smooth_radius,
        settings.smooth_wide_radius,
        range,
    );
}

/// Diagnostics: the cost of plane `(d, n)` at pixel `(x, y)` (CPU reference arithmetic).
#[doc(hidden)]
pub fn debug_cost(
    reference: View,
    sources: &[View],
    settings: &PatchMatchSettings,
    range: (f32, f32),
    (x, y): (usize, usize),
    d: f64,
    n: nalgebra::Vector3<f64>,
) -> f64 {
    problem::Problem::new(&reference, sources, settings, range)
        .cost(x, y, d, &n)
        .0
}
