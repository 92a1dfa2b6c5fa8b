//! Memory planning: how many output rows a band holds so that every band buffer fits in one
//! storage binding, the bands themselves (output rows plus the window halo), and the buffer and
//! dispatch sizes that follow. Pure arithmetic, no wgpu objects.

use super::abi::{F, OUT_BYTES, RAY_BYTES, SEG, STATE_BYTES, WG1, warp_stride};
use crate::{SweepError, SweepSettings};

/// Largest storage binding used by default, even where the device allows more.
const DEFAULT_MAX_BINDING: u64 = 256 << 20;

/// Largest storage binding (bytes) the bands may use: `option` if set, else the device's
/// limit capped at 256 MiB — never more than the device allows.
pub(super) fn max_binding(limits: &wgpu::Limits, option: Option<u64>) -> u64 {
    let device = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size);
    match option {
        Some(b) => b.min(device),
        None => device.min(DEFAULT_MAX_BINDING),
    }
}

/// Workgroup counts covering `n` invocations of a 64-wide one-dimensional shader (wrapping into
/// a second dimension beyond 65535 workgroups; the shaders index `y · groups_x · 64 + x`).
pub(super) fn groups_1d(n: u32) -> (u32, u32) {
    let groups = n.div_ceil(WG1).max(1);
    if groups <= 65535 {
        (groups, 1)
    } else {
        (65535, groups.div_ceil(65535))
    }
}

/// The shape of one sweep and its row bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Plan {
    /// Reference image width.
    pub(super) width: u32,
    /// Reference image height.
    pub(super) height: u32,
    /// Number of source views.
    pub(super) n_sources: u32,
    /// Number of depth hypotheses.
    pub(super) depths: u32,
    /// Half the window: rows of halo above and below a band.
    pub(super) half: u32,
    /// Hypotheses per batch: the batch, at most `depths`.
    pub(super) cap: u32,
    /// Output rows per band (the last one may be shorter).
    pub(super) band_rows: u32,
    /// Whether the cost volume is kept.
    pub(super) keep_cost: bool,
}

/// One row band: output rows `y0..y1` and the warp region `wy0..wy1` (with the window halo,
/// clipped to the image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Band {
    pub(super) y0: u32,
    pub(super) y1: u32,
    pub(super) wy0: u32,
    pub(super) wy1: u32,
}

impl Band {
    /// Output rows.
    pub(super) fn rows(&self) -> u32 {
        self.y1 - self.y0
    }

    /// Rows of the warp region.
    pub(super) fn warp_rows(&self) -> u32 {
        self.wy1 - self.wy0
    }

    /// Warp-region row of the first output row.
    pub(super) fn halo_top(&self) -> u32 {
        self.y0 - self.wy0
    }
}

impl Plan {
    /// The plan of a `width × height` sweep against `n_sources` sources: as many output rows
    /// per band as keep every band buffer within `budget` bytes, in whole NCC segments of
    /// [`SEG`] rows unless one band holds the whole image. `settings` must be valid.
    pub(super) fn new(
        budget: u64,
        width: u32,
        height: u32,
        n_sources: usize,
        settings: &SweepSettings,
    ) -> Result<Self, SweepError> {
        let (w, h) = (width as u64, height as u64);
        let half = (settings.window / 2) as u64;
        let cap = settings.batch.min(settings.depths) as u64;
        let n_src = n_sources as u64;
        let warp_row_bytes = (cap * n_src * warp_stride(width) as u64 * F).max(w * RAY_BYTES);
        let mut out_row_bytes = (cap * n_src * w * F).max(w * STATE_BYTES);
        if settings.keep_cost_volume {
            out_row_bytes = out_row_bytes.max(settings.depths as u64 * w * F);
        }
        let rows_by_warp = (budget / warp_row_bytes).saturating_sub(2 * half);
        let rows_by_out = budget / out_row_bytes;
        let mut band_rows = rows_by_warp.min(rows_by_out);
        if band_rows < h && band_rows >= SEG as u64 {
            band_rows -= band_rows % SEG as u64;
        }
        if band_rows == 0 {
            return Err(SweepError::TooLarge(format!(
                "one {w}-pixel row with its {}-row halo needs {} bytes per binding at batch {cap} \
                 with {n_src} sources, more than {budget}; lower the batch",
                2 * half,
                warp_row_bytes * (1 + 2 * half)
            )));
        }
        Ok(Self {
            width,
            height,
            n_sources: n_sources as u32,
            depths: settings.depths,
            half: half as u32,
            cap: cap as u32,
            band_rows: band_rows.min(h) as u32,
            keep_cost: settings.keep_cost_volume,
        })
    }

    /// The bands, top to bottom.
    pub(super) fn bands(&self) -> impl Iterator<Item = Band> + use<> {
        let (h, half, rows) = (self.height, self.half, self.band_rows);
        (0..h.div_ceil(rows)).map(move |i| {
            let y0 = i * rows;
            let y1 = (y0 + rows).min(h);
            Band {
                y0,
                y1,
                wy0: y0.saturating_sub(half),
                wy1: (y1 + half).min(h),
            }
        })
    }

    /// Number of batches of hypotheses.
    pub(super) fn n_batches(&self) -> u32 {
        self.depths.div_ceil(self.cap)
    }

    /// Hypotheses in batch `i`.
    pub(super) fn batch_len(&self, i: u32) -> u32 {
        self.cap.min(self.depths - i * self.cap)
    }

    /// Row length (words) of the warped planes.
    pub(super) fn stride(&self) -> u32 {
        warp_stride(self.width)
    }

    /// Pixels of the largest warp region.
    fn max_warp_pixels(&self) -> u64 {
        (self.band_rows + 2 * self.half).min(self.height) as u64 * self.width as u64
    }

    /// Pixels of the largest band.
    fn max_out_pixels(&self) -> u64 {
        self.band_rows as u64 * self.width as u64
    }

    /// Bytes of the reference rays of a warp region.
    pub(super) fn rays_bytes(&self) -> u64 {
        self.max_warp_pixels() * RAY_BYTES
    }

    /// Bytes of the reference values of a warp region.
    pub(super) fn reference_bytes(&self) -> u64 {
        self.max_warp_pixels() * F
    }

    /// Bytes of the warped planes of a batch (every hypothesis and source).
    pub(super) fn warped_bytes(&self) -> u64 {
        let rows = (self.band_rows + 2 * self.half).min(self.height) as u64;
        self.cap as u64 * self.n_sources as u64 * rows * self.stride() as u64 * F
    }

    /// Bytes of the per-source costs of a batch.
    pub(super) fn costs_bytes(&self) -> u64 {
        self.cap as u64 * self.n_sources as u64 * self.max_out_pixels() * F
    }

    /// Bytes of the winner-take-all states of a band.
    pub(super) fn state_bytes(&self) -> u64 {
        self.max_out_pixels() * STATE_BYTES
    }

    /// Bytes of the output (depth, confidence) of a band.
    pub(super) fn out_bytes(&self) -> u64 {
        self.max_out_pixels() * OUT_BYTES
    }

    /// Bytes of the kept cost volume of a band; 0 when it is not kept.
    pub(super) fn cost_volume_bytes(&self) -> u64 {
        if self.keep_cost {
            self.depths as u64 * self.max_out_pixels() * F
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(depths: u32, window: u32, batch: u32, keep: bool) -> SweepSettings {
        SweepSettings {
            depths,
            window,
            batch,
            keep_cost_volume: keep,
        }
    }

    /// The bands cover every row once, halos clipped to the image, and every band buffer fits
    /// the budget.
    #[test]
    fn bands_partition_the_image_within_the_budget() {
        for (budget, height, s) in [
            (280u64 << 10, 150u32, settings(10, 7, 4, true)),
            (100 << 10, 150, settings(10, 7, 4, true)),
            (256 << 20, 150, settings(10, 7, 4, true)),
            (1 << 20, 1000, settings(64, 11, 16, false)),
            (1 << 20, 1000, settings(64, 31, 8, true)),
            (4 << 20, 1000, settings(64, 31, 100, false)),
        ] {
            let plan = Plan::new(budget, 72, height, 2, &s).unwrap();
            let bands: Vec<Band> = plan.bands().collect();
            assert_eq!(bands[0].y0, 0);
            assert_eq!(bands.last().unwrap().y1, height);
            for pair in bands.windows(2) {
                assert_eq!(pair[0].y1, pair[1].y0);
            }
            for b in &bands {
                assert!(b.rows() >= 1 && b.rows() <= plan.band_rows);
                assert_eq!(b.wy0, b.y0.saturating_sub(s.window / 2));
                assert_eq!(b.wy1, (b.y1 + s.window / 2).min(height));
            }
            if bands.len() > 1 && plan.band_rows >= SEG {
                assert_eq!(plan.band_rows % SEG, 0, "{plan:?}");
            }
            for bytes in [
                plan.rays_bytes(),
                plan.reference_bytes(),
                plan.warped_bytes(),
                plan.costs_bytes(),
                plan.state_bytes(),
                plan.out_bytes(),
                plan.cost_volume_bytes(),
            ] {
                assert!(bytes <= budget, "{bytes} > {budget}: {plan:?}");
            }
            let batches: u32 = (0..plan.n_batches()).map(|i| plan.batch_len(i)).sum();
            assert_eq!(batches, s.depths);
        }
    }

    #[test]
    fn band_rows_follow_the_budget() {
        let s = settings(10, 7, 4, true);
        // 280 KiB: 68 rows with the halos, cut to one whole segment of 64.
        assert_eq!(Plan::new(280 << 10, 72, 150, 2, &s).unwrap().band_rows, 64);
        // 100 KiB: 20 rows, fewer than a segment.
        assert_eq!(Plan::new(100 << 10, 72, 150, 2, &s).unwrap().band_rows, 20);
        assert_eq!(Plan::new(256 << 20, 72, 150, 2, &s).unwrap().band_rows, 150);
        assert!(matches!(
            Plan::new(1024, 72, 150, 2, &s),
            Err(SweepError::TooLarge(_))
        ));
    }

    #[test]
    fn dispatches_wrap_beyond_65535_groups() {
        assert_eq!(groups_1d(0), (1, 1));
        assert_eq!(groups_1d(65), (2, 1));
        assert_eq!(groups_1d(65535 * 64), (65535, 1));
        assert_eq!(groups_1d(65536 * 64), (65535, 2));
    }

    #[test]
    fn the_device_limit_caps_the_option() {
        let limits = wgpu::Limits::default();
        let device = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        assert_eq!(max_binding(&limits, Some(1000)), 1000);
        assert_eq!(max_binding(&limits, Some(u64::MAX)), device);
        assert_eq!(max_binding(&limits, None), device.min(DEFAULT_MAX_BINDING));
    }
}
