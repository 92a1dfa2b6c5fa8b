// Refractive warp of the source images onto the reference rays, for a batch of depth hypotheses.
//
// One invocation per reference pixel of the band's warp region (band rows plus the window halo).
// It loads its ray and reference value once per batch. The hypotheses are grouped in segments of
// G (= P.span) consecutive hypotheses, aligned to multiples of G whatever the batch: for each
// segment the exact refractive projection (surface crossing by Newton's method) is computed at
// three anchors (the segment's start, middle and end), and the camera-frame vector of the surface
// crossing, p_cam = R (q - C), is interpolated quadratically between them for every hypothesis of
// the segment. The host picks G so that this interpolation stays far below 1e-3 px (it measures
// it); a batch of B hypotheses shares the anchors, so batches pay for about 2 exact projections
// per G hypotheses instead of one per hypothesis. Every hypothesis is computed from its own
// segment's anchors, so the result does not depend on the batch size.
//
// Output per (hypothesis b, source s, pixel): two 16-bit codes, sample | reference << 16, each
// 1 + round(value * 65534) for a grey value in [0, 1], and 0 when missing (no ray, no projection,
// outside the source image: invalid, never 0 grey). NaN is never used inside the shaders
// (compilers may assume it away). The output planes have rows of P.stride words: PAD_LEFT words
// of code 0 (invalid), the row, then more zeros, so that `ncc.wgsl` reads aligned quads of words
// without bounds tests. The source images come as 16-bit texel quads: for pixel (x, y)
// the codes of (x, y), (x+1, y), (x, y+1), (x+1, y+1), so a bilinear sample is one load.

// Joined after `params.wgsl` (Params P, Batch B, PAD_LEFT) and the camera crate's `lens.wgsl`
// and `refract.wgsl` (lens_distort; SrcCam, NEWTON_STEPS, crossing, to_pixel) when loaded.

const INVALID: f32 = -8.0;        // crate::INVALID (tested)
const TEXEL_SCALE: f32 = 1.0 / 65535.0;

@group(0) @binding(2) var<storage, read> rays: array<vec4<f32>>;      // 2 per pixel: origin+valid, dir
@group(0) @binding(3) var<storage, read> cams: array<SrcCam>;
@group(0) @binding(4) var<storage, read> src_img: array<vec2<u32>>;  // texel quads, 16-bit codes
@group(0) @binding(5) var<storage, read_write> warped: array<u32>;    // nb * n_sources * warp_rows * stride
@group(0) @binding(6) var<storage, read> ref_vals: array<f32>;       // n_warp, centred or INVALID
// Test entry points only.
@group(0) @binding(7) var<storage, read> points_in: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> points_out: array<vec4<f32>>;

// Two crossings at once (independent, so their Newton steps overlap): the same arithmetic as
// `crossing` for pa and pb.
struct Pair {
    a: vec4<f32>,
    b: vec4<f32>,
}

fn crossing2(cam: SrcCam, pa: vec3<f32>, pb: vec3<f32>) -> Pair {
    let h_c = cam.center.w - cam.center.z;
    let h_q = vec2<f32>(pa.z, pb.z) - cam.center.w;
    let dx = vec2<f32>(pa.x, pb.x) - cam.center.x;
    let dy = vec2<f32>(pa.y, pb.y) - cam.center.y;
    let r_q = sqrt(dx * dx + dy * dy);
    let na = cam.extra.y;
    let nw = cam.extra.z;
    let hc2 = h_c * h_c;
    let hq2 = h_q * h_q;
    var r = r_q * nw * h_c / (na * h_q + nw * h_c);
    for (var i = 0u; i < NEWTON_STEPS; i++) {
        let a2 = r * r + hc2;
        let a = sqrt(a2);
        let wv = r_q - r;
        let b2 = wv * wv + hq2;
        let b = sqrt(b2);
        let f = na * r / a - nw * wv / b;
        let df = na * hc2 / (a2 * a) + nw * hq2 / (b2 * b);
        r = clamp(r - f / df, vec2<f32>(0.0), r_q);
    }
    var ua = vec2<f32>(0.0);
    var ub = vec2<f32>(0.0);
    if (r_q.x > 0.0) {
        ua = vec2<f32>(dx.x, dy.x) / r_q.x;
    }
    if (r_q.y > 0.0) {
        ub = vec2<f32>(dx.y, dy.y) / r_q.y;
    }
    let pca = r.x * (ua.x * cam.col0.xyz + ua.y * cam.col1.xyz) + h_c * cam.col2.xyz;
    let pcb = r.y * (ub.x * cam.col0.xyz + ub.y * cam.col1.xyz) + h_c * cam.col2.xyz;
    return Pair(
        vec4<f32>(pca, select(0.0, 1.0, h_q.x > 0.0)),
        vec4<f32>(pcb, select(0.0, 1.0, h_q.y > 0.0)),
    );
}

// Bilinear sample of a source image in [0, 1]; negative unless 0 <= u <= w-1 and 0 <= v <= h-1.
fn sample_src(cam: SrcCam, u: f32, v: f32) -> f32 {
    let w = cam.dims.x;
    let h = cam.dims.y;
    if (!(u >= 0.0 && v >= 0.0 && u <= f32(w - 1u) && v <= f32(h - 1u))) {
        return INVALID;
    }
    let x0 = min(u32(u), w - 1u);
    let y0 = min(u32(v), h - 1u);
    let fx = u - f32(x0);
    let fy = v - f32(y0);
    let q = src_img[cam.dims.z + y0 * w + x0];
    let a = f32(q.x & 0xffffu) * TEXEL_SCALE;
    let b = f32(q.x >> 16u) * TEXEL_SCALE;
    let c = f32(q.y & 0xffffu) * TEXEL_SCALE;
    let d = f32(q.y >> 16u) * TEXEL_SCALE;
    let top = a + (b - a) * fx;
    let bottom = c + (d - c) * fx;
    return top + (bottom - top) * fy;
}

// 16-bit code of a grey value in [0, 1]: 1 + round(v * 65534); 0 for a missing value.
fn code16(v: f32) -> u32 {
    if (!(v >= 0.0)) {
        return 0u;
    }
    return u32(min(v, 1.0) * 65534.0 + 1.5);
}

// Ray depth of half-hypothesis index h2 (hypothesis h2 / 2).
fn depth_half(h2: u32) -> f32 {
    return P.lo + P.step * (f32(h2) * 0.5);
}

// p_cam at hypothesis G j + i (0 <= i < G) by quadratic (Lagrange) interpolation between the
// anchors at hypotheses G j, G j + G/2 and G (j + 1); w = ok.
fn interpolate(a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, i: u32) -> vec4<f32> {
    let t = f32(i) * (2.0 / f32(P.span));  // 0 <= t < 2; anchors at t = 0, 1, 2 (exact: G = 2^n)
    let l0 = 0.5 * (t - 1.0) * (t - 2.0);
    let l1 = t * (2.0 - t);
    let l2 = 0.5 * t * (t - 1.0);
    let pc = l0 * a0.xyz + l1 * a1.xyz + l2 * a2.xyz;
    return vec4<f32>(pc, a0.w * a1.w * a2.w);
}

@compute @workgroup_size(64)
fn warp(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let pp = gid.y * nwg.x * 64u + gid.x;
    let n_plane = P.warp_rows * P.stride;
    if (pp >= n_plane) {
        return;
    }
    let col = i32(pp % P.stride) - i32(PAD_LEFT);
    if (col < 0 || col >= i32(P.width)) {
        // Padding: invalid for every hypothesis and source.
        for (var i = 0u; i < B.nb * P.n_sources; i++) {
            warped[i * n_plane + pp] = 0u;
        }
        return;
    }
    let p = (pp / P.stride) * P.width + u32(col);
    let o4 = rays[2u * p];
    let o = o4.xyz;
    let dir = rays[2u * p + 1u].xyz;
    let ray_ok = o4.w > 0.5;
    let ref_code = code16(ref_vals[p] + 0.5) << 16u;
    let g = P.span;
    let k_end = B.k0 + B.nb;
    for (var s = 0u; s < P.n_sources; s++) {
        let cam = cams[s];
        var k = B.k0;
        var j = k / g;
        // Anchor at the start of the first segment; then two new anchors per segment (the end
        // of one segment is the start of the next).
        var a0 = crossing(cam, o + depth_half(2u * g * j) * dir);
        loop {
            if (k >= k_end) {
                break;
            }
            let pair = crossing2(cam, o + depth_half(2u * g * j + g) * dir,
                                 o + depth_half(2u * g * j + 2u * g) * dir);
            let seg_end = min(g * (j + 1u), k_end);
            for (; k < seg_end; k++) {
                var val = INVALID;
                let pc = interpolate(a0, pair.a, pair.b, k - g * j);
                if (ray_ok && pc.w > 0.5) {
                    let px = to_pixel(cam, pc.xyz);
                    if (px.z > 0.5) {
                        val = sample_src(cam, px.x, px.y);
                    }
                }
                warped[((k - B.k0) * P.n_sources + s) * n_plane + pp] = code16(val) | ref_code;
            }
            a0 = pair.b;
            j += 1u;
        }
    }
}

// Test entry point: projects points_in[i].xyz into cams[0] (exact crossing, Newton from the
// paraxial guess). Writes (u, v, 0, ok).
@compute @workgroup_size(64)
fn project_points(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= arrayLength(&points_in)) {
        return;
    }
    let c = crossing(cams[0], points_in[i].xyz);
    var out = vec4<f32>(0.0);
    if (c.w > 0.5) {
        let px = to_pixel(cams[0], c.xyz);
        out = vec4<f32>(px.x, px.y, 0.0, px.z);
    }
    points_out[i] = out;
}

// Test entry point: the warp's interpolated pixel. points_in holds pairs (origin, k) and
// (direction, 0) of rays; writes (u, v, 0, ok) for hypothesis k of cams[0] with the P.span
// segments of the uniform P.
@compute @workgroup_size(64)
fn warp_points(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (2u * i + 1u >= arrayLength(&points_in)) {
        return;
    }
    let o = points_in[2u * i];
    let dir = points_in[2u * i + 1u].xyz;
    let k = u32(o.w);
    let g = P.span;
    let j = k / g;
    let a0 = crossing(cams[0], o.xyz + depth_half(2u * g * j) * dir);
    let pair = crossing2(cams[0], o.xyz + depth_half(2u * g * j + g) * dir,
                         o.xyz + depth_half(2u * g * j + 2u * g) * dir);
    let pc = interpolate(a0, pair.a, pair.b, k - g * j);
    var out = vec4<f32>(0.0);
    if (pc.w > 0.5) {
        let px = to_pixel(cams[0], pc.xyz);
        out = vec4<f32>(px.x, px.y, 0.0, px.z);
    }
    points_out[i] = out;
}
