// Masked NCC cost, aggregation over sources and running winner-take-all, for a batch of depth
// hypotheses; then refinement and confidence (`finalize`).
//
// `cost`: one workgroup per 16x16 tile of output pixels. The reference values of the tile plus
// its window halo are loaded into workgroup memory once per batch, and the winner-take-all
// state once per batch. For each hypothesis and source, the six masked moments
// (m, m r, m r^2, m s, m s^2, m r s) are box-summed: rows first (each invocation slides along 4
// outputs of one halo row), into workgroup memory, then columns; then 1 - NCC. The order of every
// sum is fixed, so the result does not depend on the batch size.

struct Params {
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
}

struct Batch {
    k0: u32,
    nb: u32,
    _pad0: u32,
    _pad1: u32,
}

struct WtaState {
    best: f32,   // lowest cost so far
    idx: f32,    // its hypothesis (-1 before the first)
    cm: f32,     // cost of the hypothesis before it
    cp: f32,     // cost of the hypothesis after it
    sum: f32,    // sum of costs (for the mean)
    prev: f32,   // last cost seen
}

const INVALID: f32 = -8.0;
const VALID_ABOVE: f32 = -4.0;
const NCC_EPS: f32 = 1e-12;
const TX: u32 = 16u;
const TY: u32 = 16u;
const SEG: u32 = 4u;            // outputs per horizontal sliding job

// Window side (odd, 3..=31), and the workgroup arrays it sizes; the host sets all three.
override WIN: u32 = 11u;
override SH_H: u32 = 2496u;     // 6 * (TY + WIN - 1) * TX
override SH_R: u32 = 676u;      // (TY + WIN - 1) * (TX + WIN - 1)

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<uniform> B: Batch;
@group(0) @binding(2) var<storage, read> ref_vals: array<f32>;     // n_warp, centred or INVALID
@group(0) @binding(3) var<storage, read> warped: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<WtaState>;  // n_out
@group(0) @binding(5) var<storage, read_write> cost_out: array<f32>;    // depths * n_out, if kept
@group(0) @binding(6) var<storage, read_write> out: array<f32>;         // 2 * n_out: depth, conf
@group(0) @binding(7) var<storage, read> costs_in: array<f32>;          // select_costs only

var<workgroup> sh_h: array<f32, SH_H>;   // row sums [quantity][region row][tile col]
var<workgroup> sh_r: array<f32, SH_R>;   // reference values [region row][region col]

fn fresh_state() -> WtaState {
    return WtaState(1e30, -1.0, 0.0, 0.0, 0.0, 0.0);
}

fn wta_update(st: ptr<function, WtaState>, k: u32, c: f32) {
    (*st).sum = (*st).sum + c;
    if (c < (*st).best) {
        (*st).best = c;
        (*st).idx = f32(k);
        (*st).cm = (*st).prev;
    } else if (f32(k) == (*st).idx + 1.0) {
        (*st).cp = c;
    }
    (*st).prev = c;
}

fn refine_offset(cm: f32, c0: f32, cp: f32) -> f32 {
    let o = 0.5 * (cm - cp) / (cm - 2.0 * c0 + cp + 1e-8);
    return clamp(o, -0.5, 0.5);
}

fn confidence(c0: f32, mean_cost: f32) -> f32 {
    let a = 1.0 - clamp(c0, 0.0, 1.0);
    let b = clamp(1.0 - c0 / (mean_cost + 1e-8), 0.0, 1.0);
    return sqrt(a * b);
}

// 1 - NCC from the moments (n, sr, srr, ss, sss, srs), clamped to [0, 2]; 1 when fewer than half
// of the window is valid.
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

@compute @workgroup_size(16, 16)
fn cost(@builtin(workgroup_id) wg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let half = WIN / 2u;
    let ry = TY + WIN - 1u;        // region rows
    let rx = TX + WIN - 1u;        // region cols
    let tx0 = wg.x * TX;
    let ty0 = wg.y * TY;
    let ox = tx0 + lid.x;
    let oy = ty0 + lid.y;
    let inside = ox < P.width && oy < P.band_rows;
    let po = oy * P.width + ox;

    // Reference tile with halo, once per batch.
    for (var e = li; e < ry * rx; e += TX * TY) {
        let row = i32(ty0 + e / rx) - i32(half) + i32(P.halo_top);
        let col = i32(tx0 + e % rx) - i32(half);
        var r = INVALID;
        if (row >= 0 && row < i32(P.warp_rows) && col >= 0 && col < i32(P.width)) {
            r = ref_vals[u32(row) * P.width + u32(col)];
        }
        sh_r[e] = r;
    }

    var st = fresh_state();
    if (inside && B.k0 > 0u) {
        st = state[po];
    }

    // Horizontal job: one region row, SEG consecutive tile columns.
    let job_row = li / (TX / SEG);
    let job_c0 = (li % (TX / SEG)) * SEG;
    let has_job = job_row < ry;
    let grow = i32(ty0 + job_row) - i32(half) + i32(P.halo_top);
    let row_ok = has_job && grow >= 0 && grow < i32(P.warp_rows);
    let gcol0 = i32(tx0 + job_c0) - i32(half);
    let rbase = job_row * rx + job_c0;
    workgroupBarrier();

    for (var b = 0u; b < B.nb; b++) {
        var acc = 0.0;
        for (var s = 0u; s < P.n_sources; s++) {
            if (has_job) {
                let wbase = i32((b * P.n_sources + s) * P.n_warp) + grow * i32(P.width);
                var m0 = vec3<f32>(0.0);   // m, m s, m s^2
                var m1 = vec3<f32>(0.0);   // m r, m r^2, m r s
                for (var j = 0u; j < WIN + SEG - 1u; j++) {
                    let col = gcol0 + i32(j);
                    var sv = INVALID;
                    if (row_ok && col >= 0 && col < i32(P.width)) {
                        sv = warped[wbase + col];
                    }
                    let rv = sh_r[rbase + j];
                    let ok = sv > VALID_ABOVE && rv > VALID_ABOVE;
                    let ms = select(0.0, sv, ok);
                    let mr = select(0.0, rv, ok);
                    m0 += vec3<f32>(select(0.0, 1.0, ok), ms, ms * ms);
                    m1 += vec3<f32>(mr, mr * mr, mr * ms);
                    if (j + 1u >= WIN) {
                        // The window [j + 1 - WIN, j] is complete: emit output column t.
                        let t = j + 1u - WIN;
                        let o = job_row * TX + job_c0 + t;
                        sh_h[o] = m0.x;
                        sh_h[ry * TX + o] = m0.y;
                        sh_h[2u * ry * TX + o] = m0.z;
                        sh_h[3u * ry * TX + o] = m1.x;
                        sh_h[4u * ry * TX + o] = m1.y;
                        sh_h[5u * ry * TX + o] = m1.z;
                        // Slide: remove column t.
                        let col_t = gcol0 + i32(t);
                        var st_v = INVALID;
                        if (row_ok && col_t >= 0 && col_t < i32(P.width)) {
                            st_v = warped[wbase + col_t];
                        }
                        let rt = sh_r[rbase + t];
                        let okt = st_v > VALID_ABOVE && rt > VALID_ABOVE;
                        let mst = select(0.0, st_v, okt);
                        let mrt = select(0.0, rt, okt);
                        m0 -= vec3<f32>(select(0.0, 1.0, okt), mst, mst * mst);
                        m1 -= vec3<f32>(mrt, mrt * mrt, mrt * mst);
                    }
                }
            }
            workgroupBarrier();
            if (inside) {
                var v0 = vec3<f32>(0.0);
                var v1 = vec3<f32>(0.0);
                for (var j = 0u; j < WIN; j++) {
                    let o = (lid.y + j) * TX + lid.x;
                    v0 += vec3<f32>(sh_h[o], sh_h[ry * TX + o], sh_h[2u * ry * TX + o]);
                    v1 += vec3<f32>(sh_h[3u * ry * TX + o], sh_h[4u * ry * TX + o], sh_h[5u * ry * TX + o]);
                }
                acc += ncc_cost(v0, v1);
            }
            workgroupBarrier();
        }
        if (inside) {
            let c = acc * P.inv_sources;
            let k = B.k0 + b;
            if (P.keep_cost != 0u) {
                cost_out[k * P.n_out + po] = c;
            }
            wta_update(&st, k, c);
        }
    }
    if (inside) {
        state[po] = st;
    }
}

// Winner-take-all over a given cost volume costs_in[k * n_out + p] (the same update as `cost`).
@compute @workgroup_size(64)
fn select_costs(@builtin(global_invocation_id) gid: vec3<u32>,
                @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = gid.y * nwg.x * 64u + gid.x;
    if (p >= P.n_out) {
        return;
    }
    var st = fresh_state();
    if (B.k0 > 0u) {
        st = state[p];
    }
    for (var b = 0u; b < B.nb; b++) {
        let k = B.k0 + b;
        wta_update(&st, k, costs_in[k * P.n_out + p]);
    }
    state[p] = st;
}

// Refined depth and confidence per output pixel; NaN / 0 for a boundary winner or a pixel
// without a ray.
@compute @workgroup_size(64)
fn finalize(@builtin(global_invocation_id) gid: vec3<u32>,
            @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = gid.y * nwg.x * 64u + gid.x;
    if (p >= P.n_out) {
        return;
    }
    let st = state[p];
    let row = p / P.width + P.halo_top;
    let col = p % P.width;
    let has_ray = ref_vals[row * P.width + col] > VALID_ABOVE;
    let i = i32(st.idx);
    var depth = bitcast<f32>(0x7fc00000u);
    var conf = 0.0;
    if (has_ray && i > 0 && i + 1 < i32(P.depths)) {
        let offset = refine_offset(st.cm, st.best, st.cp);
        depth = P.lo + (f32(i) + offset) * P.step;
        conf = confidence(st.best, st.sum / f32(P.depths));
    }
    out[2u * p] = depth;
    out[2u * p + 1u] = conf;
}
