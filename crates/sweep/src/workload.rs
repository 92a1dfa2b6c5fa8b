//! The named sweep workloads of DOMAIN.md, defined once: benchmarks, `cargo xtask bench` and
//! `cargo xtask profile` pass these values rather than restating them.

use crate::SweepSettings;

/// A sweep workload: one reference camera of the reference rig at `width × height`, swept
/// over `depths` hypotheses against its `sources` nearest sources with an NCC window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Workload {
    /// `small`, `standard` or `full`.
    pub name: &'static str,
    /// Image width, pixels.
    pub width: u32,
    /// Image height, pixels.
    pub height: u32,
    /// Depth hypotheses.
    pub depths: u32,
    /// Source views.
    pub sources: usize,
    /// NCC window side.
    pub window: u32,
}

impl Workload {
    /// 320×240, 32 depths, 4 sources, window 11.
    pub const SMALL: Self = Self {
        name: "small",
        width: 320,
        height: 240,
        depths: 32,
        sources: 4,
        window: 11,
    };
    /// 640×480, 64 depths, 4 sources, window 11.
    pub const STANDARD: Self = Self {
        name: "standard",
        width: 640,
        height: 480,
        depths: 64,
        sources: 4,
        window: 11,
    };
    /// 1600×1200, 128 depths, 5 sources, window 11 (AquaMVS's BALANCED preset on a real frame).
    pub const FULL: Self = Self {
        name: "full",
        width: 1600,
        height: 1200,
        depths: 128,
        sources: 5,
        window: 11,
    };
    /// All of them, smallest first.
    pub const ALL: [Self; 3] = [Self::SMALL, Self::STANDARD, Self::FULL];

    /// The sweep settings of this workload at a depth batch.
    pub fn settings(&self, batch: u32) -> SweepSettings {
        SweepSettings {
            depths: self.depths,
            window: self.window,
            batch,
            keep_cost_volume: false,
        }
    }

    /// Samples of one sweep ([`crate::samples`]).
    pub fn samples(&self) -> u64 {
        crate::samples(self.width, self.height, self.depths, self.sources as u32)
    }
}
