//! Command-line flags shared by the subcommands: the sweep settings and the backend, each
//! defined once and turned into the library's one value for it.

use anyhow::Context;
use aquamvs_gpu::{GpuContext, GpuOptions};
use aquamvs_patchmatch::PatchMatchSettings;
use aquamvs_pipeline::{Backend, DepthMethod, SweepEngine};
use aquamvs_sweep::SweepSettings;

/// `--depths`, `--window`, `--batch`: the sweep's settings, with the defaults of the
/// standard workload (64 depths, window 11, batch 16).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct SweepFlags {
    /// Depth hypotheses (uniform in ray depth, both ends included).
    #[arg(long, default_value_t = 64)]
    pub depths: u32,
    /// NCC window side (odd, 3..=31).
    #[arg(long, default_value_t = 11)]
    pub window: u32,
    /// Depth hypotheses per GPU dispatch (results do not depend on it).
    #[arg(long, default_value_t = 16)]
    pub batch: u32,
    /// Where the plane sweep runs: `auto` (the native f32 CPU sweep when the GPU adapter is a
    /// software rasteriser such as llvmpipe, else the backend), `backend`, `native`.
    #[arg(long, value_enum, default_value_t = EngineFlag::Auto)]
    pub sweep_engine: EngineFlag,
}

/// `--sweep-engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineFlag {
    /// Native on a software adapter, else the backend.
    Auto,
    /// The backend (`--backend`): the GPU's shaders or the f64 CPU reference.
    Backend,
    /// The native f32 CPU sweep.
    Native,
}

impl SweepFlags {
    /// The validated settings (before any work).
    pub fn settings(&self) -> anyhow::Result<SweepSettings> {
        let s = SweepSettings {
            depths: self.depths,
            window: self.window,
            batch: self.batch,
            ..SweepSettings::default()
        };
        s.validate().context("--depths / --window / --batch")?;
        Ok(s)
    }

    /// The sweep engine for a run on `ctx` (`None`: the CPU backend).
    pub fn engine(&self, ctx: Option<&GpuContext>) -> SweepEngine {
        match self.sweep_engine {
            EngineFlag::Native => SweepEngine::Native,
            EngineFlag::Auto if ctx.is_some_and(GpuContext::is_software) => SweepEngine::Native,
            EngineFlag::Auto | EngineFlag::Backend => SweepEngine::Backend,
        }
    }
}

/// `--method` and PatchMatch's settings (`--pm-*`, defaults from `PatchMatchSettings`).
#[derive(Debug, Clone, clap::Args)]
pub struct MethodFlags {
    /// Depth method: `sweep` (the plane sweep, --depths/--window/--batch) or `patchmatch`
    /// (refractive PatchMatch, --pm-*; also writes normals).
    #[arg(long, value_enum, default_value_t = Method::Sweep)]
    pub method: Method,
    /// PatchMatch window side (odd, 3..=31) [default: PatchMatch's own].
    #[arg(long)]
    pub pm_window: Option<u32>,
    /// PatchMatch: sample every this many pixels of the window (1..=window/2) [default:
    /// PatchMatch's own].
    #[arg(long)]
    pub pm_stride: Option<u32>,
    /// PatchMatch red–black rounds (1..=64) [default: PatchMatch's own].
    #[arg(long)]
    pub pm_iterations: Option<u32>,
    /// PatchMatch: the best k sources whose costs are averaged [default: PatchMatch's own].
    #[arg(long)]
    pub pm_top_k: Option<u32>,
    /// PatchMatch: seed of the random numbers [default: PatchMatch's own].
    #[arg(long)]
    pub pm_seed: Option<u32>,
    /// PatchMatch: start from the plane sweep (`sweep`) or random planes (`random`)
    /// [default: PatchMatch's own].
    #[arg(long, value_parser = ["sweep", "random"])]
    pub pm_init: Option<String>,
    /// PatchMatch: window of the final curved polish (0 = none) [default: PatchMatch's own].
    #[arg(long)]
    pub pm_curved_window: Option<u32>,
    /// PatchMatch: sample every this many pixels of the curved polish's window
    /// [default: PatchMatch's own].
    #[arg(long)]
    pub pm_curved_stride: Option<u32>,
    /// PatchMatch: sample the curved polish's window on a checkerboard (`true`/`false`)
    /// [default: PatchMatch's own].
    #[arg(long)]
    pub pm_curved_checker: Option<bool>,
    /// PatchMatch: radius, pixels, of the neighbourhood each pixel's quadric is fitted to
    /// [default: PatchMatch's own].
    #[arg(long)]
    pub pm_curvature_radius: Option<u32>,
    /// PatchMatch: run the rounds on every this many pixels and rows (1..=4) [default:
    /// PatchMatch's own].
    #[arg(long)]
    pub pm_lattice: Option<u32>,
    /// PatchMatch: depths of the plane sweep that starts the rounds [default: PatchMatch's own].
    #[arg(long)]
    pub pm_init_depths: Option<u32>,
    /// PatchMatch: radius of the final depth smoothing (0 = none) [default: PatchMatch's own].
    #[arg(long)]
    pub pm_smooth_radius: Option<u32>,
    /// PatchMatch: the wider smoothing radius, used where it agrees (0 = none) [default:
    /// PatchMatch's own].
    #[arg(long)]
    pub pm_smooth_wide_radius: Option<u32>,
}

/// The depth methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// The refractive plane sweep.
    Sweep,
    /// Refractive PatchMatch.
    Patchmatch,
}

impl MethodFlags {
    /// The pipeline's depth method, validated (before any work).
    pub fn depth_method(&self) -> anyhow::Result<DepthMethod> {
        let d = PatchMatchSettings::default();
        let s = PatchMatchSettings {
            window: self.pm_window.unwrap_or(d.window),
            stride: self.pm_stride.unwrap_or(d.stride),
            iterations: self.pm_iterations.unwrap_or(d.iterations),
            top_k: self.pm_top_k.unwrap_or(d.top_k),
            seed: self.pm_seed.unwrap_or(d.seed),
            sweep_init: self
                .pm_init
                .as_deref()
                .map_or(d.sweep_init, |i| i == "sweep"),
            curved_window: self.pm_curved_window.unwrap_or(d.curved_window),
            curved_stride: self.pm_curved_stride.unwrap_or(d.curved_stride),
            curved_checker: self.pm_curved_checker.unwrap_or(d.curved_checker),
            curvature_radius: self.pm_curvature_radius.unwrap_or(d.curvature_radius),
            lattice: self.pm_lattice.unwrap_or(d.lattice),
            init_depths: self.pm_init_depths.unwrap_or(d.init_depths),
            smooth_radius: self.pm_smooth_radius.unwrap_or(d.smooth_radius),
            smooth_wide_radius: self.pm_smooth_wide_radius.unwrap_or(d.smooth_wide_radius),
            ..d
        };
        s.validate().context("--pm-*")?;
        Ok(match self.method {
            Method::Sweep => DepthMethod::Sweep,
            Method::Patchmatch => DepthMethod::PatchMatch(s),
        })
    }
}

/// Where undistortion and the sweep run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendFlag {
    /// wgpu (WGPU_BACKEND, WGPU_ADAPTER_NAME honoured).
    Gpu,
    /// The f64 CPU references.
    Cpu,
}

impl BackendFlag {
    /// The GPU context this backend needs (`None` for `cpu`).
    pub fn context(self) -> anyhow::Result<Option<GpuContext>> {
        match self {
            Self::Gpu => {
                let ctx = GpuContext::new(&GpuOptions::default())
                    .context("--backend gpu needs a GPU adapter (try --backend cpu)")?;
                eprintln!("adapter: {} ({})", ctx.adapter_name(), ctx.backend_name());
                Ok(Some(ctx))
            }
            Self::Cpu => Ok(None),
        }
    }
}

/// The pipeline backend on `ctx` (the CPU without one).
pub fn backend(ctx: Option<&GpuContext>) -> Backend<'_> {
    match ctx {
        Some(c) => Backend::Gpu {
            device: &c.device,
            queue: &c.queue,
        },
        None => Backend::Cpu,
    }
}
