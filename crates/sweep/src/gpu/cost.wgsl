// Aggregation over sources with a running winner-take-all (`wta`), and refinement and confidence
// (`finalize`); `select_costs` runs the same winner-take-all over a given cost volume.
//
// `wta`: one invocation per output pixel: loads its winner-take-all state once per batch, takes
// the batch's hypotheses in depth order (cost = mean over sources of the costs `ncc.wgsl` wrote,
// summed in source order) and stores the state back.
//
// Joined after `params.wgsl` (Params P, Batch B) when loaded.

// One pixel's running winner-take-all state (STATE_BYTES in `abi.rs`; tested).
struct WtaState {
    best: f32,   // lowest cost so far
    idx: f32,    // its hypothesis (-1 before the first)
    cm: f32,     // cost of the hypothesis before it
    cp: f32,     // cost of the hypothesis after it
    sum: f32,    // sum of costs (for the mean)
    prev: f32,   // last cost seen
}

const VALID_ABOVE: f32 = -4.0;

@group(0) @binding(2) var<storage, read> ref_vals: array<f32>;     // n_warp, centred or INVALID
@group(0) @binding(4) var<storage, read_write> state: array<WtaState>;  // n_out
@group(0) @binding(5) var<storage, read_write> cost_out: array<f32>;    // depths * n_out, if kept
@group(0) @binding(6) var<storage, read_write> out: array<f32>;         // 2 * n_out: depth, conf
@group(0) @binding(7) var<storage, read> costs_in: array<f32>;          // select_costs only
@group(0) @binding(8) var<storage, read_write> costs: array<f32>;       // nb * n_sources * n_out

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

@compute @workgroup_size(64)
fn wta(@builtin(global_invocation_id) gid: vec3<u32>,
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
        var acc = 0.0;
        for (var s = 0u; s < P.n_sources; s++) {
            acc += costs[(b * P.n_sources + s) * P.n_out + p];
        }
        let c = acc * P.inv_sources;
        let k = B.k0 + b;
        if (P.keep_cost != 0u) {
            cost_out[k * P.n_out + p] = c;
        }
        wta_update(&st, k, c);
    }
    state[p] = st;
}

// Winner-take-all over a given cost volume costs_in[k * n_out + p] (the same update as `wta`).
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
