// Masked NCC cost per (hypothesis, source, reference pixel) for a batch of depth hypotheses.
//
// One invocation per (hypothesis b of the batch, source s, strip of K output columns, segment of
// SEG output rows). It walks down its segment keeping, for each of its K columns, the window sums
// of the six masked moments (m, m s, m s^2, m r, m r^2, m r s) in registers: each new row's
// horizontal window sums are computed by sliding along the row (its taps are read once), added,
// and the row leaving the window is subtracted the same way. Every sample is read about three
// times whatever the window, and there is no workgroup memory and no barrier. Strips and segments
// are aligned to the band (the host makes bands whole segments), so the sums, and the results,
// do not depend on the batch size or the tiling.
//
// The host unrolls the loops marked `// unroll` (their bounds are constants once WIN is fixed), so
// that every array index is a constant and the arrays live in registers; this file, as written,
// is valid WGSL with the same meaning.

// Joined after `params.wgsl` (Params P, Batch B, PAD_LEFT) when loaded.

const NCC_EPS: f32 = 1e-12;
const CODE_SCALE: f32 = 1.0 / 65534.0;
const CODE_OFFSET: f32 = 0.5 + 1.0 / 65534.0;   // code 1 + 65534 v  ->  v - 0.5
const K: u32 = 16u;             // output columns per strip (STRIP in `abi.rs`; tested)
const SEG: u32 = 64u;           // output rows per segment (SEG in `abi.rs`; tested)
const MAX_TAPS: u32 = 46u;      // K + MAX_WINDOW - 1 (tested)
const MAX_NQ: u32 = 13u;        // quads of words per row: ceil((3 + MAX_TAPS) / 4)

// Window side (odd, 3..=31); the host fixes it (and TAPS) before compiling.
override WIN: u32 = 11u;
override TAPS: u32 = K + WIN - 1u;
// The row's taps start OFF words into an aligned quad (strips start at multiples of K, so OFF is
// the same for every strip) and span NQ quads.
override OFF: u32 = (PAD_LEFT - WIN / 2u) % 4u;
override NQ: u32 = (OFF + TAPS + 3u) / 4u;

@group(0) @binding(3) var<storage, read> warped: array<vec4<u32>>; // 16-bit codes sample | ref << 16
@group(0) @binding(8) var<storage, read_write> costs: array<f32>; // nb * n_sources * n_out

// 1 - NCC from the window sums (n, sum m s, sum m s^2) and (sum m r, sum m r^2, sum m r s),
// clamped to [0, 2]; 1 when fewer than half of the window is valid.
fn ncc_cost(m0: vec3<f32>, m1: vec3<f32>) -> f32 {
    let n = m0.x;
    if (2.0 * n < f32(WIN * WIN)) {
        return 1.0;
    }
    let inv = 1.0 / n;
    let mr = m1.x * inv;
    let ms = m0.y * inv;
    let vr = max(m1.y * inv - mr * mr, 0.0);
    let vs = max(m0.z * inv - ms * ms, 0.0);
    let cov = m1.z * inv - mr * ms;
    let ncc = cov / sqrt(vr * vs + NCC_EPS);
    return clamp(1.0 - ncc, 0.0, 2.0);
}

// Tap (m, m s, m r) of a (sample, reference) code pair, values centred (v - 0.5); zero when
// either is missing (code 0).
fn tap(word: u32) -> vec3<f32> {
    let cs = word & 0xffffu;
    let cr = word >> 16u;
    let s = f32(cs) * CODE_SCALE - CODE_OFFSET;
    let r = f32(cr) * CODE_SCALE - CODE_OFFSET;
    return select(vec3<f32>(0.0), vec3<f32>(1.0, s, r), cs != 0u && cr != 0u);
}

// Moments (m, m s, m s^2) and (m r, m r^2, m r s) of a tap.
fn moments0(t: vec3<f32>) -> vec3<f32> {
    return vec3<f32>(t.x, t.y, t.y * t.y);
}

fn moments1(t: vec3<f32>) -> vec3<f32> {
    return vec3<f32>(t.z, t.z * t.z, t.z * t.y);
}

// Adds `sign` times the horizontal window sums of warp row `wrow` (output columns x0 .. x0 + K)
// to the column sums (v0, v1).
fn add_row(v0: ptr<function, array<vec3<f32>, K>>, v1: ptr<function, array<vec3<f32>, K>>,
           plane: u32, wrow: i32, x0: u32, sign: f32) {
    if (wrow < 0 || wrow >= i32(P.warp_rows)) {
        return;
    }
    // Word of the first tap (column x0 - WIN/2) in its padded row, rounded down to a quad.
    let first = PAD_LEFT + x0 - WIN / 2u - OFF;
    let base = (plane + u32(wrow) * P.stride + first) / 4u;
    var quads: array<vec4<u32>, MAX_NQ>;
    for (var q = 0u; q < NQ; q++) { // unroll
        quads[q] = warped[base + q];
    }
    var taps: array<vec3<f32>, MAX_TAPS>;
    for (var j = 0u; j < TAPS; j++) { // unroll
        taps[j] = tap(quads[(OFF + j) / 4u][(OFF + j) % 4u]);
    }
    // Window sums at output column 0, then slide one column at a time.
    var h0 = vec3<f32>(0.0);
    var h1 = vec3<f32>(0.0);
    for (var j = 0u; j < WIN; j++) { // unroll
        h0 += moments0(taps[j]);
        h1 += moments1(taps[j]);
    }
    (*v0)[0] += sign * h0;
    (*v1)[0] += sign * h1;
    for (var c = 1u; c < K; c++) { // unroll
        h0 += moments0(taps[c + WIN - 1u]) - moments0(taps[c - 1u]);
        h1 += moments1(taps[c + WIN - 1u]) - moments1(taps[c - 1u]);
        (*v0)[c] += sign * h0;
        (*v1)[c] += sign * h1;
    }
}

@compute @workgroup_size(64)
fn ncc(@builtin(global_invocation_id) gid: vec3<u32>,
       @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.y * nwg.x * 64u + gid.x;
    let n_strips = (P.width + K - 1u) / K;
    let n_segs = (P.band_rows + SEG - 1u) / SEG;
    if (i >= B.nb * P.n_sources * n_strips * n_segs) {
        return;
    }
    let b = i % B.nb;
    var rest = i / B.nb;
    let s = rest % P.n_sources;
    rest = rest / P.n_sources;
    let strip = rest % n_strips;
    let seg = rest / n_strips;
    let x0 = strip * K;
    let y0 = seg * SEG;
    let y1 = min(y0 + SEG, P.band_rows);
    let half = i32(WIN / 2u);
    let plane = (b * P.n_sources + s) * P.warp_rows * P.stride;
    let out_plane = (b * P.n_sources + s) * P.n_out;
    var v0: array<vec3<f32>, K>;
    var v1: array<vec3<f32>, K>;
    // Output row y is warp row y + halo_top; its window is warp rows y + halo_top -+ half.
    let w0 = i32(y0 + P.halo_top);
    for (var r = w0 - half; r < w0 + half; r++) {
        add_row(&v0, &v1, plane, r, x0, 1.0);
    }
    for (var y = y0; y < y1; y++) {
        let wr = i32(y + P.halo_top);
        add_row(&v0, &v1, plane, wr + half, x0, 1.0);
        let row = out_plane + y * P.width + x0;
        for (var c = 0u; c < K; c++) { // unroll
            if (x0 + c < P.width) {
                costs[row + c] = ncc_cost(v0[c], v1[c]);
            }
        }
        add_row(&v0, &v1, plane, wr - half, x0, -1.0);
    }
}
