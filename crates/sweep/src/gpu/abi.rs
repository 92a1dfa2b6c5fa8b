//! The host side of the shaders' interface: `#[repr(C)]` mirrors of the WGSL structs the host
//! writes (declared with `shader_struct!`, which also lists their fields for the layout test),
//! the constants shared with the shaders, and the data the host uploads.
//!
//! **Every struct and constant here has a WGSL twin** (`params.wgsl`, `warp.wgsl`, `ncc.wgsl`,
//! `cost.wgsl`); `gpu/tests.rs` parses the shaders with naga and fails when the two diverge.

use aquamvs_camera::{Camera, Distortion};
use bytemuck::{Pod, Zeroable};
use rayon::prelude::*;

use super::plan::{Band, Plan};
use crate::rays::pixel_ray;
use crate::{CENTRE, INVALID};

/// Output columns per strip of the NCC shader (`K` in `ncc.wgsl`).
pub(super) const STRIP: u32 = 16;
/// Output rows per segment of the NCC shader (`SEG` in `ncc.wgsl`); row bands are multiples of
/// it so that tiling does not change any sum.
pub(super) const SEG: u32 = 64;
/// Zero words before each row of the warped planes (`PAD_LEFT` in `params.wgsl`).
pub(super) const PAD_LEFT: u32 = 16;
/// Workgroup size of the one-dimensional shaders (`@workgroup_size(64)`).
pub(super) const WG1: u32 = 64;
/// Bytes of one `f32`/`u32`.
pub(super) const F: u64 = 4;
/// Bytes of one reference ray: origin and direction, two `vec4<f32>`.
pub(super) const RAY_BYTES: u64 = 32;
/// Bytes of one pixel's winner-take-all state (`WtaState` in `cost.wgsl`).
pub(super) const STATE_BYTES: u64 = 24;
/// Bytes of one output pixel: depth and confidence.
pub(super) const OUT_BYTES: u64 = 8;
/// Bytes of one source texel quad (two `u32`, see [`texel_quads`]).
pub(super) const QUAD_BYTES: u64 = 8;

/// Row length (words) of the warped planes for a reference `width`: the row after `PAD_LEFT`
/// zeros, then at least 32 more, a multiple of 4 so that `ncc.wgsl` reads aligned quads.
pub(super) fn warp_stride(width: u32) -> u32 {
    (PAD_LEFT + width + 32).div_ceil(4) * 4
}

/// One field of a struct shared with WGSL, as the layout test compares it.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Field {
    pub(super) name: &'static str,
    pub(super) offset: usize,
    pub(super) size: usize,
    pub(super) scalar: Scalar,
}

/// The scalar type of a field (of its elements for arrays and vectors).
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scalar {
    U32,
    F32,
}

/// The WGSL scalar type a Rust field type stands for.
#[cfg(test)]
pub(super) trait ShaderScalar {
    const SCALAR: Scalar;
}

#[cfg(test)]
impl ShaderScalar for u32 {
    const SCALAR: Scalar = Scalar::U32;
}

#[cfg(test)]
impl ShaderScalar for f32 {
    const SCALAR: Scalar = Scalar::F32;
}

#[cfg(test)]
impl<T: ShaderScalar, const N: usize> ShaderScalar for [T; N] {
    const SCALAR: Scalar = T::SCALAR;
}

/// Declares a `#[repr(C)]` Pod struct mirroring the WGSL struct named after `=`, and (for the
/// tests) `WGSL_NAME` and `FIELDS`, its fields in order with offsets, sizes and scalar types.
macro_rules! shader_struct {
    ($(#[$meta:meta])* $vis:vis struct $name:ident = $wgsl:literal {
        $($field:ident: $ty:ty,)*
    }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Debug, Clone, Copy, Pod, Zeroable)]
        $vis struct $name {
            $($field: $ty,)*
        }

        #[cfg(test)]
        impl $name {
            /// The WGSL struct this mirrors.
            pub(super) const WGSL_NAME: &'static str = $wgsl;
            /// Its fields in order.
            pub(super) const FIELDS: &'static [Field] = &[$(Field {
                name: stringify!($field),
                offset: std::mem::offset_of!($name, $field),
                size: std::mem::size_of::<$ty>(),
                scalar: <$ty as ShaderScalar>::SCALAR,
            }),*];
        }
    };
}

shader_struct! {
    /// The uniform of one row band.
    pub(super) struct ParamsU = "Params" {
        width: u32,
        warp_rows: u32,
        band_rows: u32,
        halo_top: u32,
        n_sources: u32,
        depths: u32,
        n_warp: u32,
        n_out: u32,
        lo: f32,
        step: f32,
        inv_sources: f32,
        keep_cost: u32,
        span: u32,
        stride: u32,
        _pad1: u32,
        _pad2: u32,
    }
}

shader_struct! {
    /// The uniform of one batch of hypotheses, bound at a dynamic offset.
    pub(super) struct BatchU = "Batch" {
        k0: u32,
        nb: u32,
        _pad0: u32,
        _pad1: u32,
    }
}

shader_struct! {
    /// A source camera for the shaders (`SrcCam` of the camera crate's `refract.wgsl`):
    /// rotation columns, centre and water height, intrinsics, refractive indices, lens model,
    /// and where its image starts in the shader's image buffer.
    pub struct SrcCamU = "SrcCam" {
        col0: [f32; 4],
        col1: [f32; 4],
        col2: [f32; 4],
        center: [f32; 4],
        intr: [f32; 4],
        extra: [f32; 4],
        dist0: [f32; 4],
        dist1: [f32; 4],
        dims: [u32; 4],
    }
}

impl ParamsU {
    /// The uniform of `band` of `plan`, with hypotheses `lo + k·step` (ray depth, metres)
    /// interpolated in segments of `span`. The one place this struct is written.
    pub(super) fn new(plan: &Plan, band: &Band, lo: f32, step: f32, span: u32) -> Self {
        Self {
            width: plan.width,
            warp_rows: band.warp_rows(),
            band_rows: band.rows(),
            halo_top: band.halo_top(),
            n_sources: plan.n_sources,
            depths: plan.depths,
            n_warp: band.warp_rows() * plan.width,
            n_out: band.rows() * plan.width,
            lo,
            step,
            inv_sources: 1.0 / plan.n_sources as f32,
            keep_cost: plan.keep_cost as u32,
            span,
            stride: plan.stride(),
            _pad1: 0,
            _pad2: 0,
        }
    }
}

/// The per-batch uniforms `(k0, nb)` of `depths` hypotheses in batches of `cap`, one per
/// `align` bytes (the device's uniform offset alignment) for dynamic offsets.
pub(super) fn batch_uniforms(depths: u32, cap: u32, align: u64) -> Vec<u8> {
    let n_batches = depths.div_ceil(cap);
    let mut bytes = vec![0u8; (n_batches as u64 * align) as usize];
    for i in 0..n_batches {
        let k0 = i * cap;
        let b = BatchU {
            k0,
            nb: cap.min(depths - k0),
            _pad0: 0,
            _pad1: 0,
        };
        let at = (i as u64 * align) as usize;
        bytes[at..at + std::mem::size_of::<BatchU>()].copy_from_slice(bytemuck::bytes_of(&b));
    }
    bytes
}

impl SrcCamU {
    /// Camera `cam` whose image starts at element `offset` of the shader's image buffer.
    pub fn new(cam: &Camera<f64>, offset: u32) -> Self {
        let r = &cam.r;
        let col = |j: usize| [r[(0, j)] as f32, r[(1, j)] as f32, r[(2, j)] as f32, 0.0];
        let c = cam.center();
        let k = &cam.k;
        let (model, dist0, dist1) = Distortion::shader_form(cam.distortion.as_ref());
        Self {
            col0: col(0),
            col1: col(1),
            col2: col(2),
            center: [
                c.x as f32,
                c.y as f32,
                c.z as f32,
                cam.interface.water_z as f32,
            ],
            intr: [
                k[(0, 0)] as f32,
                k[(1, 1)] as f32,
                k[(0, 2)] as f32,
                k[(1, 2)] as f32,
            ],
            extra: [
                k[(0, 1)] as f32,
                cam.interface.n_air as f32,
                cam.interface.n_water as f32,
                model,
            ],
            dist0,
            dist1,
            dims: [cam.width, cam.height, offset, 0],
        }
    }
}

/// The 16-bit texel quads of a grey image in [0, 1] into `out` (`width × height`): for pixel
/// (x, y) the codes `round(65535 v)` of (x, y) | (x+1, y) << 16 and (x, y+1) | (x+1, y+1) << 16,
/// clamped at the last row and column — one load per bilinear sample in `warp.wgsl`. Rows in
/// parallel.
pub(super) fn texel_quads(image: &[f32], width: usize, height: usize, out: &mut [[u32; 2]]) {
    if width == 0 || height == 0 {
        return;
    }
    out.par_chunks_mut(width).enumerate().for_each(|(y, row)| {
        let y1 = (y + 1).min(height - 1);
        let (top, bottom) = (&image[y * width..][..width], &image[y1 * width..][..width]);
        let (mut a, mut c) = (code(top[0]), code(bottom[0]));
        for (x, quad) in row.iter_mut().enumerate() {
            let x1 = (x + 1).min(width - 1);
            let (b, d) = (code(top[x1]), code(bottom[x1]));
            *quad = [a | b << 16, c | d << 16];
            (a, c) = (b, d);
        }
    });
}

/// Host memory for what the shaders read, kept by [`super::GpuSweep`] from sweep to sweep so
/// that large tables are not allocated (and page-faulted) again.
#[derive(Debug, Default)]
pub(super) struct HostTables {
    /// The source images as texel quads, one after the other ([`fill_sources`]).
    pub(super) quads: Vec<[u32; 2]>,
    /// The reference rays, two per pixel, and the centred reference values
    /// ([`fill_reference`]).
    pub(super) rays: Vec<[f32; 4]>,
    pub(super) values: Vec<f32>,
}

/// The 16-bit code `round(65535 v)` of a grey value clamped to [0, 1]: `f32::round` (half away
/// from zero) without its library call — for `x ≥ 0` below 2^23, `x − trunc(x)` is exact.
/// Checked equal to `f32::round` for every `f32` in [0, 1].
fn code(v: f32) -> u32 {
    let x = v.clamp(0.0, 1.0) * 65535.0;
    let i = x as u32;
    i + (x - i as f32 >= 0.5) as u32
}

/// Fills `quads` with the source images' texel quads, one image after the other (sources in
/// parallel); returns the camera table pointing into it.
pub(super) fn fill_sources(quads: &mut Vec<[u32; 2]>, sources: &[crate::View]) -> Vec<SrcCamU> {
    let total: usize = sources.iter().map(|s| s.image.len()).sum();
    quads.resize(total, [0; 2]);
    let mut cams = Vec::with_capacity(sources.len());
    let mut parts = Vec::with_capacity(sources.len());
    let mut rest = quads.as_mut_slice();
    for s in sources {
        cams.push(SrcCamU::new(s.camera, (total - rest.len()) as u32));
        let (part, tail) = rest.split_at_mut(s.image.len());
        parts.push((s, part));
        rest = tail;
    }
    parts.into_par_iter().for_each(|(s, part)| {
        let (w, h) = (s.camera.width as usize, s.camera.height as usize);
        texel_quads(s.image, w, h, part);
    });
    cams
}

/// Fills `rays` and `values` with what the warp reads of the reference view, row-major (rows
/// in parallel): two `vec4<f32>` per pixel, its ray's origin (w = 1) and direction (w = 0),
/// zeros where the pixel has no ray; and its centred value `v − 0.5`, [`INVALID`] where it has
/// no ray. Returns whether any pixel has a ray.
pub(super) fn fill_reference(
    rays: &mut Vec<[f32; 4]>,
    values: &mut Vec<f32>,
    view: &crate::View,
) -> bool {
    let cam = view.camera;
    let w = cam.width as usize;
    let n = view.image.len();
    rays.resize(2 * n, [0.0; 4]);
    values.resize(n, INVALID);
    if w == 0 || n == 0 {
        return false;
    }
    rays.par_chunks_mut(2 * w)
        .zip(values.par_chunks_mut(w))
        .enumerate()
        .map(|(v, (ray_row, value_row))| {
            let mut any = false;
            for (u, (ray, value)) in ray_row.chunks_exact_mut(2).zip(value_row).enumerate() {
                (ray[0], ray[1], *value) = match pixel_ray(cam, u, v) {
                    Some(r) => {
                        any = true;
                        let (o, d) = (r.origin, r.direction);
                        (
                            [o.x as f32, o.y as f32, o.z as f32, 1.0],
                            [d.x as f32, d.y as f32, d.z as f32, 0.0],
                            view.image[v * w + u] - CENTRE,
                        )
                    }
                    None => ([0.0; 4], [0.0; 4], INVALID),
                };
            }
            any
        })
        .reduce(|| false, |a, b| a || b)
}
