// A deliberately long compute kernel: each invocation runs `params.iterations` steps of an
// integer hash and stores the result, so the work cannot be optimised away. Used to check the
// profiler's GPU times against CPU wall time and to measure its overhead on real GPU work.

struct Params {
    iterations: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out_values: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let n = arrayLength(&out_values);
    if (gid.x >= n) {
        return;
    }
    var x: u32 = gid.x * 747796405u + 2891336453u;
    for (var i: u32 = 0u; i < params.iterations; i = i + 1u) {
        x = x * 1664525u + 1013904223u;
        x = x ^ (x >> 13u);
    }
    out_values[gid.x] = x;
}
