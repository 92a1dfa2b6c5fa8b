//! Command-line flags shared by the subcommands: the sweep settings and the backend, each
//! defined once and turned into the library's one value for it.

use anyhow::Context;
use aquamvs_gpu::{GpuContext, GpuOptions};
use aquamvs_pipeline::Backend;
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
