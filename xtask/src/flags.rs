//! Command-line flags shared by the subcommands that run the plane sweep.

/// `--depths`, `--window`, `--batch`: the sweep's parameters, with the defaults of the
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
