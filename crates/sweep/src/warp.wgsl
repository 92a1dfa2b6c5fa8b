// Refractive warp of the source images onto the reference rays, for a batch of depth hypotheses.
//
// One invocation per reference pixel of the band's warp region (band rows plus the window halo).
// It loads its ray once, then for each source walks the batch's hypotheses in depth order: the
// point at ray depth d is projected into the source (surface crossing by Newton's method, warm
// started from the previous hypothesis's crossing, which is kept in `crossing` between batches so
// every batch size does the same arithmetic) and sampled bilinearly.
//
// Output: warped[(b * n_sources + s) * n_warp + p] = sample - 0.5, or INVALID (-8) when the ray,
// the projection or the bilinear footprint is missing (outside the image is invalid, never 0).
// NaN is never used inside the shaders (compilers may assume it away).

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
    keep_cost: u32,
}

struct Batch {
    k0: u32,          // first hypothesis of this batch
    nb: u32,          // hypotheses in this batch
    _pad0: u32,
    _pad1: u32,
}

struct SrcCam {
    col0: vec4<f32>,     // columns of R (world -> camera): p_cam = R (q - C)
    col1: vec4<f32>,
    col2: vec4<f32>,
    center: vec4<f32>,   // camera centre C (xyz), water_z (w)
    intr: vec4<f32>,     // fx, fy, cx, cy
    extra: vec4<f32>,    // skew, n_air, n_water, has_distortion (0 or 1)
    dist0: vec4<f32>,    // k1, k2, p1, p2
    dist1: vec4<f32>,    // k3, 0, 0, 0
    dims: vec4<u32>,     // width, height, offset of the image in src_img, 0
}

const INVALID: f32 = -8.0;
const CENTRE: f32 = 0.5;
// Newton steps for the surface crossing: from the pinhole guess, and from a nearby crossing.
const COLD_STEPS: u32 = 5u;
const WARM_STEPS: u32 = 2u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<uniform> B: Batch;
@group(0) @binding(2) var<storage, read> rays: array<vec4<f32>>;      // 2 per pixel: origin+valid, dir
@group(0) @binding(3) var<storage, read> cams: array<SrcCam>;
@group(0) @binding(4) var<storage, read> src_img: array<f32>;
@group(0) @binding(5) var<storage, read_write> warped: array<f32>;
@group(0) @binding(6) var<storage, read_write> crossing: array<f32>;  // n_sources * n_warp
// Test entry point only.
@group(0) @binding(7) var<storage, read> points_in: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> points_out: array<vec4<f32>>;

// Projects the underwater point `pt` into `cam`. Returns (u, v, crossing_r, ok): the recorded
// (distorted) pixel, the horizontal distance of the surface crossing from the camera centre, and
// 1 when the projection exists. `guess` is a previous crossing (or negative for none).
fn project(cam: SrcCam, pt: vec3<f32>, guess: f32) -> vec4<f32> {
    let wz = cam.center.w;
    let h_c = wz - cam.center.z;
    let h_q = pt.z - wz;
    if (!(h_q > 0.0)) {
        return vec4<f32>(0.0, 0.0, guess, 0.0);
    }
    let dx = pt.x - cam.center.x;
    let dy = pt.y - cam.center.y;
    let r_q = sqrt(dx * dx + dy * dy);
    let na = cam.extra.y;
    let nw = cam.extra.z;
    let hc2 = h_c * h_c;
    let hq2 = h_q * h_q;
    var r = guess;
    var steps = WARM_STEPS;
    if (!(guess > 0.0 && guess < r_q)) {
        r = r_q * h_c / (h_c + h_q);
        steps = COLD_STEPS;
    }
    // Snell in the vertical plane: f(r) = na r/|a| - nw (r_q - r)/|b| = 0, f increasing.
    for (var i = 0u; i < steps; i++) {
        let a2 = r * r + hc2;
        let a = sqrt(a2);
        let wv = r_q - r;
        let b2 = wv * wv + hq2;
        let b = sqrt(b2);
        let f = na * r / a - nw * wv / b;
        let df = na * hc2 / (a2 * a) + nw * hq2 / (b2 * b);
        r = clamp(r - f / df, 0.0, r_q);
    }
    var ux = 0.0;
    var uy = 0.0;
    if (r_q > 0.0) {
        ux = dx / r_q;
        uy = dy / r_q;
    }
    // p_cam = R (q - C) with q - C = (ux r, uy r, h_c).
    let pc = r * (ux * cam.col0.xyz + uy * cam.col1.xyz) + h_c * cam.col2.xyz;
    if (!(pc.z > 0.0)) {
        return vec4<f32>(0.0, 0.0, r, 0.0);
    }
    var x = pc.x / pc.z;
    var y = pc.y / pc.z;
    if (cam.extra.w > 0.5) {
        let k1 = cam.dist0.x;
        let k2 = cam.dist0.y;
        let p1 = cam.dist0.z;
        let p2 = cam.dist0.w;
        let k3 = cam.dist1.x;
        let r2 = x * x + y * y;
        let radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3));
        let xd = x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x);
        let yd = y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y;
        x = xd;
        y = yd;
    }
    let u = cam.intr.x * x + cam.extra.x * y + cam.intr.z;
    let v = cam.intr.y * y + cam.intr.w;
    return vec4<f32>(u, v, r, 1.0);
}

// Bilinear sample of a source image, centred; INVALID unless 0 <= u <= w-1 and 0 <= v <= h-1.
fn sample_src(cam: SrcCam, u: f32, v: f32) -> f32 {
    let w = cam.dims.x;
    let h = cam.dims.y;
    if (!(u >= 0.0 && v >= 0.0 && u <= f32(w - 1u) && v <= f32(h - 1u))) {
        return INVALID;
    }
    let x0 = min(u32(u), w - 1u);
    let y0 = min(u32(v), h - 1u);
    let x1 = min(x0 + 1u, w - 1u);
    let y1 = min(y0 + 1u, h - 1u);
    let fx = u - f32(x0);
    let fy = v - f32(y0);
    let base = cam.dims.z;
    let a = src_img[base + y0 * w + x0];
    let b = src_img[base + y0 * w + x1];
    let c = src_img[base + y1 * w + x0];
    let d = src_img[base + y1 * w + x1];
    let top = a + (b - a) * fx;
    let bottom = c + (d - c) * fx;
    return top + (bottom - top) * fy - CENTRE;
}

@compute @workgroup_size(64)
fn warp(@builtin(global_invocation_id) gid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let p = gid.y * nwg.x * 64u + gid.x;
    if (p >= P.n_warp) {
        return;
    }
    let o = rays[2u * p];
    let dir = rays[2u * p + 1u].xyz;
    let ray_ok = o.w > 0.5;
    for (var s = 0u; s < P.n_sources; s++) {
        let cam = cams[s];
        var r = -1.0;
        if (B.k0 > 0u) {
            r = crossing[s * P.n_warp + p];
        }
        for (var b = 0u; b < B.nb; b++) {
            var val = INVALID;
            if (ray_ok) {
                let d = P.lo + f32(B.k0 + b) * P.step;
                let pr = project(cam, o.xyz + d * dir, r);
                if (pr.w > 0.5) {
                    r = pr.z;
                    val = sample_src(cam, pr.x, pr.y);
                }
            }
            warped[(b * P.n_sources + s) * P.n_warp + p] = val;
        }
        crossing[s * P.n_warp + p] = r;
    }
}

// Test entry point: projects points_in[i].xyz into cams[0], warm-started from points_in[i].w
// (negative: cold start). Writes (u, v, crossing_r, ok).
@compute @workgroup_size(64)
fn project_points(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i >= arrayLength(&points_in)) {
        return;
    }
    let q = points_in[i];
    points_out[i] = project(cams[0], q.xyz, q.w);
}
