// The prelude of the sweep's shaders: the host joins it before `warp.wgsl`, `ncc.wgsl` and
// `cost.wgsl` when it loads them (`pipelines.rs`), so that what the host writes is declared once.
// `abi.rs` holds the Rust mirrors of these structs and constants; its tests compare them with
// this file field by field (names, offsets, sizes, scalar types) through naga.

// The uniform of one row band (`ParamsU`).
struct Params {
    width: u32,       // reference image width
    warp_rows: u32,   // rows of this band's warp region
    band_rows: u32,   // output rows of this band
    halo_top: u32,    // warp-region row of the band's first output row
    n_sources: u32,
    depths: u32,
    n_warp: u32,      // width * warp_rows
    n_out: u32,       // width * band_rows
    lo: f32,          // ray depth of hypothesis 0, metres
    step: f32,        // hypothesis spacing, metres
    inv_sources: f32,
    keep_cost: u32,   // 1: write the cost volume
    span: u32,        // G: hypotheses per interpolation segment (1 = exact at every hypothesis)
    stride: u32,      // row length of the warped planes: PAD_LEFT + width + padding, a multiple of 4
    _pad1: u32,
    _pad2: u32,
}

// The uniform of one batch of hypotheses (`BatchU`), bound at a dynamic offset.
struct Batch {
    k0: u32,          // first hypothesis of this batch
    nb: u32,          // hypotheses in this batch
    _pad0: u32,
    _pad1: u32,
}

// Zero words before each row of the warped planes.
const PAD_LEFT: u32 = 16u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<uniform> B: Batch;
