// Refractive PatchMatch, the GPU twin of the crate's CPU reference (`problem.rs`, `cpu.rs`): the
// same hypotheses in the same order, the same random numbers, in f32. Joined after the camera
// crate's `lens.wgsl` and `refract.wgsl` (SrcCam, crossing, to_pixel) when loaded.

struct Params {
    width: u32,
    height: u32,
    n_src: u32,
    half: u32,
    stride: u32,
    top_k: u32,
    seed: u32,
    colour: u32,
    round: u32,
    step: u32,          // rounds: the half-round (random numbers); polish: its parabola steps
    has_init: u32,
    lattice: u32,       // the pixels updated: every lattice-th of every lattice-th row
    lo: f32,
    hi: f32,
    sigma_color: f32,
    scale: f32,
    spatial: f32,       // 1 / (2 sigma_space^2)
    curved: u32,        // polish: 1 when `curv` holds each pixel's curved patch
    checker: u32,       // 1: only the window samples (i, j) with i + j even (problem::Problem::checker)
    flags: u32,         // polish: 1 the cost is known over every source, 2 skip the last cost
}

const FACING: f32 = 0.17;       // problem::FACING
const MAX_COST: f32 = 2.0;      // problem::MAX_COST
const MAX_SRC: u32 = 8u;

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> rays: array<vec4<f32>>;      // 2 per pixel: origin+valid, dir
@group(0) @binding(2) var<storage, read> cams: array<SrcCam>;
@group(0) @binding(3) var<storage, read> src_img: array<u32>;    // gpu.rs pack_pairs
@group(0) @binding(4) var<storage, read> ref_img: array<f32>;
@group(0) @binding(5) var<storage, read> init_depth: array<f32>;
@group(0) @binding(6) var<storage, read_write> planes: array<vec4<f32>>;  // d, nx, ny, nz
@group(0) @binding(7) var<storage, read_write> costs: array<f32>;
@group(0) @binding(8) var<storage, read> curv: array<vec4<f32>>;      // polish: (k0, k1, k2, 0)

// The curved patch of the pixel being scored (zero: a plane); set by `polish` only.
var<private> bend: vec3<f32>;

// problem::tangent_basis: e1 = world X made orthogonal to n (Y when n is nearly along X).
fn tangent_e1(n: vec3<f32>) -> vec3<f32> {
    var a = vec3<f32>(1.0, 0.0, 0.0);
    if (abs(n.x) >= 0.9) {
        a = vec3<f32>(0.0, 1.0, 0.0);
    }
    return normalize(a - n * dot(n, a));
}

fn pcg(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn uniform01(pixel: u32, step: u32, draw: u32) -> f32 {
    let h = pcg(P.seed ^ pcg(pixel + pcg(step * 16u + draw)));
    return f32(h >> 8u) / 16777216.0;
}

fn perturb(n: vec3<f32>, scale: f32, a: f32, b: f32, c: f32) -> vec3<f32> {
    return normalize(n + scale * vec3<f32>(2.0 * a - 1.0, 2.0 * b - 1.0, 2.0 * c - 1.0));
}

// World point -> recorded pixel of `cam`: (u, v, ok, ratio), `steps` Newton steps from the
// paraxial guess (`ratio` < 0, as refract.wgsl's crossing) or from a nearby point's `ratio`.
// A window's corners start from its centre's ratio: WARM_STEPS instead of NEWTON_STEPS. They are
// up to a centimetre from the centre; tests/projection.rs bounds the difference from the cold
// and the exact f64 projection (one step was off by up to 0.03 px for a 10 mm change in depth).
const WARM_STEPS: u32 = 2u;

fn project(cam: SrcCam, pt: vec3<f32>, ratio: f32, steps: u32) -> vec4<f32> {
    let c = crossing_from(cam, pt, ratio, steps);
    if (c.ok < 0.5) {
        return vec4<f32>(0.0);
    }
    return vec4<f32>(to_pixel(cam, c.pc), c.ratio);
}

fn sample_pm(cam: SrcCam, u: f32, v: f32) -> f32 {
    let w = cam.dims.x;
    let h = cam.dims.y;
    if (!(u >= 0.0 && v >= 0.0 && u <= f32(w - 1u) && v <= f32(h - 1u))) {
        return -1.0;
    }
    let x0 = min(u32(u), w - 1u);
    let y0 = min(u32(v), h - 1u);
    let y1 = min(y0 + 1u, h - 1u);
    let ax = u - f32(x0);
    let ay = v - f32(y0);
    let base = cam.dims.z;
    // Each word holds a pixel and its right-hand neighbour (x0 + 1 clamped), 16 bits each.
    let ab = unpack2x16unorm(src_img[base + y0 * w + x0]);
    let cd = unpack2x16unorm(src_img[base + y1 * w + x0]);
    let top = ab.x + (ab.y - ab.x) * ax;
    let bottom = cd.x + (cd.y - cd.x) * ax;
    return top + (bottom - top) * ay;
}

// The plane point of the ray of pixel (clamped x + dx, y + dy), and the offsets after clamping:
// (point, valid) and (dx, dy).
struct Corner {
    p: vec4<f32>,
    off: vec2<f32>,
}

fn corner(x: i32, y: i32, dx: i32, dy: i32, pt: vec3<f32>, n: vec3<f32>) -> Corner {
    let qx = clamp(x + dx, 0, i32(P.width) - 1);
    let qy = clamp(y + dy, 0, i32(P.height) - 1);
    let q = u32(qy) * P.width + u32(qx);
    let o = rays[2u * q];
    let v = rays[2u * q + 1u].xyz;
    let den = dot(n, v);
    var ok = 0.0;
    var p = vec3<f32>(0.0);
    if (o.w > 0.5 && den < -FACING) {
        p = o.xyz + v * (dot(n, pt - o.xyz) / den);
        if (any(bend != vec3<f32>(0.0))) {
            let e1 = tangent_e1(n);
            let e2 = cross(n, e1);
            let s = dot(e1, p - pt);
            let t = dot(e2, p - pt);
            let hgt = 0.5 * (bend.x * s * s + 2.0 * bend.y * s * t + bend.z * t * t);
            p += v * (hgt / den);
        }
        ok = 1.0;
    }
    return Corner(vec4<f32>(p, ok), vec2<f32>(f32(qx - x), f32(qy - y)));
}

// First and second derivative along an axis from samples at +a, 0, -b (problem::Quadratic).
fn axis(fp: vec2<f32>, f0: vec2<f32>, fm: vec2<f32>, a: f32, b: f32) -> vec4<f32> {
    if (a > 0.0 && b > 0.0) {
        let d2 = 2.0 * (fp * b + fm * a - f0 * (a + b)) / (a * b * (a + b));
        let d1 = (fp - fm) / (a + b) - 0.5 * d2 * (a - b);
        return vec4<f32>(d1, d2);
    }
    if (a > 0.0) {
        return vec4<f32>((fp - f0) / a, 0.0, 0.0);
    }
    return vec4<f32>((f0 - fm) / b, 0.0, 0.0);
}

// The reference side of the window of the pixel being scored, the same for every plane and
// source it is scored on: per sample (bilateral weight, grey), 0 weight outside the image,
// cached when the window has at most MAX_WIN samples; and the sums of w, w r, w r².
const MAX_WIN: u32 = 225u;
var<private> win: array<vec2<f32>, MAX_WIN>;
var<private> win_sums: vec3<f32>;
var<private> win_cached: bool;
var<private> win_centre: f32;

fn window_weight(x: i32, y: i32, ox: i32, oy: i32) -> vec2<f32> {
    let qx = x + ox;
    let qy = y + oy;
    if (qx < 0 || qy < 0 || qx >= i32(P.width) || qy >= i32(P.height)) {
        return vec2<f32>(0.0);
    }
    let r = ref_img[u32(qy) * P.width + u32(qx)];
    let wq = exp(-abs(r - win_centre) / P.sigma_color - f32(ox * ox + oy * oy) * P.spatial);
    return vec2<f32>(wq, r);
}

fn prepare_window(x: i32, y: i32) {
    let h = i32(P.half);
    let st = i32(P.stride);
    let side = u32(2 * h / st + 1);
    win_cached = side * side <= MAX_WIN;
    win_centre = ref_img[u32(y) * P.width + u32(x)];
    win_sums = vec3<f32>(0.0);
    var k = 0u;
    let ck = P.checker;
    var row = 0;
    for (var oy = -h; oy <= h; oy += st) {
        let x0 = -h + select(0, st * (row % 2), ck == 1u);
        row += 1;
        for (var ox = x0; ox <= h; ox += st * select(1, 2, ck == 1u)) {
            let wr = window_weight(x, y, ox, oy);
            if (win_cached) {
                win[k] = wr;
            }
            k += 1u;
            win_sums += vec3<f32>(wr.x, wr.x * wr.y, wr.x * wr.y * wr.y);
        }
    }
}

fn window_sample(k: u32, x: i32, y: i32, ox: i32, oy: i32) -> vec2<f32> {
    if (win_cached) {
        return win[k];
    }
    return window_weight(x, y, ox, oy);
}

// 1 - NCC of plane (d, n) at pixel (x, y) in source s; MAX_COST when it fails.
fn source_cost(s: u32, x: i32, y: i32, pt: vec3<f32>, cs: array<Corner, 5>) -> f32 {
    let cam = cams[s];
    let c = project(cam, pt, -1.0, NEWTON_STEPS);
    if (c.z < 0.5) {
        return MAX_COST;
    }
    var uv: array<vec2<f32>, 5>;
    for (var k = 0u; k < 5u; k++) {
        if (cs[k].p.w < 0.5) {
            return MAX_COST;
        }
        let pr = project(cam, cs[k].p.xyz, c.w, WARM_STEPS);
        if (pr.z < 0.5) {
            return MAX_COST;
        }
        uv[k] = pr.xy;
    }
    let ax = cs[0].off.x;
    let bx = -cs[1].off.x;
    let ay = cs[2].off.y;
    let by = -cs[3].off.y;
    if (!(ax > 0.0 || bx > 0.0) || !(ay > 0.0 || by > 0.0)) {
        return MAX_COST;
    }
    let gx = axis(uv[0], c.xy, uv[1], ax, bx);
    let gy = axis(uv[2], c.xy, uv[3], ay, by);
    var dxy = vec2<f32>(0.0);
    let sx = cs[4].off.x;
    let sy = cs[4].off.y;
    if (sx != 0.0 && sy != 0.0) {
        let m = c.xy + gx.xy * sx + gy.xy * sy + 0.5 * (gx.zw * sx * sx + gy.zw * sy * sy);
        dxy = (uv[4] - m) / (sx * sy);
    }
    // The window's samples in rows, each row's source positions by forward differences of the
    // quadratic map (exact up to rounding); the reference side comes from `prepare_window`.
    let h = i32(P.half);
    let st = i32(P.stride);
    let ck = P.checker;
    let xstep = st * select(1, 2, ck == 1u);
    let fs = f32(xstep);
    let dd = gx.zw * fs * fs;
    var k = 0u;
    var row = 0;
    var bad = vec3<f32>(0.0);
    var ss = 0.0;
    var sss = 0.0;
    var srs = 0.0;
    for (var oy = -h; oy <= h; oy += st) {
        let fy = f32(oy);
        let ox0 = -h + select(0, st * (row % 2), ck == 1u);
        row += 1;
        let fx0 = f32(ox0);
        var p = c.xy + gx.xy * fx0 + gy.xy * fy + 0.5 * (gx.zw * fx0 * fx0 + gy.zw * fy * fy)
            + dxy * fx0 * fy;
        var dp = gx.xy * fs + 0.5 * gx.zw * (2.0 * fx0 * fs + fs * fs) + dxy * fs * fy;
        for (var ox = ox0; ox <= h; ox += xstep) {
            let wr = window_sample(k, x, y, ox, oy);
            k += 1u;
            if (wr.x > 0.0) {
                let sv = sample_pm(cam, p.x, p.y);
                if (sv < 0.0) {
                    bad += vec3<f32>(wr.x, wr.x * wr.y, wr.x * wr.y * wr.y);
                } else {
                    ss += wr.x * sv;
                    sss += wr.x * sv * sv;
                    srs += wr.x * wr.y * sv;
                }
            }
            p += dp;
            dp += dd;
        }
    }
    let w_all = win_sums.x;
    let wt = w_all - bad.x;
    let sr = win_sums.y - bad.y;
    let srr = win_sums.z - bad.z;
    if (!(wt > 0.0) || wt < 0.5 * w_all) {
        return MAX_COST;
    }
    let mr = sr / wt;
    let ms = ss / wt;
    let vr = srr / wt - mr * mr;
    let vs = sss / wt - ms * ms;
    let cov = srs / wt - mr * ms;
    if (!(vr > 1e-8 && vs > 1e-8)) {
        return 1.0;
    }
    return 1.0 - clamp(cov / sqrt(vr * vs), -1.0, 1.0);
}

// The cost of plane (d, n) at pixel (x, y) in every source of `mask` (MAX_COST elsewhere and
// on failure).
fn source_costs(x: i32, y: i32, d: f32, n: vec3<f32>, mask: u32) -> array<f32, MAX_SRC> {
    var out: array<f32, MAX_SRC>;
    for (var s = 0u; s < MAX_SRC; s++) {
        out[s] = MAX_COST;
    }
    let i = u32(y) * P.width + u32(x);
    let o = rays[2u * i];
    let v = rays[2u * i + 1u].xyz;
    if (o.w < 0.5 || !(dot(n, v) < -FACING)) {
        return out;
    }
    let pt = o.xyz + v * d;
    let h = i32(P.half);
    var cs: array<Corner, 5>;
    cs[0] = corner(x, y, h, 0, pt, n);
    cs[1] = corner(x, y, -h, 0, pt, n);
    cs[2] = corner(x, y, 0, h, pt, n);
    cs[3] = corner(x, y, 0, -h, pt, n);
    cs[4] = corner(x, y, h, h, pt, n);
    for (var s = 0u; s < P.n_src; s++) {
        if ((mask & (1u << s)) != 0u) {
            out[s] = source_cost(s, x, y, pt, cs);
        }
    }
    return out;
}

struct Selected {
    cost: f32,
    mask: u32,
}

// The cost of plane (d, n) at pixel (x, y). With `top`: the mean of the best top_k sources'
// costs, and those sources (lowest index first on ties); else the mean over the sources of
// `mask` (view selection). An entry point calls it at one place only: every call of a WGSL
// function is compiled inline, and one site keeps the shader small (it compiled in 18 s on
// llvmpipe with a site per candidate).
fn plane_cost(x: i32, y: i32, d: f32, n: vec3<f32>, mask: u32, top: bool) -> Selected {
    let costs = source_costs(x, y, d, n, mask);
    if (!top) {
        var sum = 0.0;
        var count = 0u;
        for (var s = 0u; s < P.n_src; s++) {
            if ((mask & (1u << s)) != 0u) {
                sum += costs[s];
                count += 1u;
            }
        }
        return Selected(sum / f32(max(count, 1u)), mask);
    }
    let k = min(P.top_k, P.n_src);
    var picked = 0u;
    var sum = 0.0;
    for (var j = 0u; j < k; j++) {
        var pick = 0u;
        var low = 3.0e38;
        for (var s = 0u; s < P.n_src; s++) {
            if ((picked & (1u << s)) == 0u && costs[s] < low) {
                low = costs[s];
                pick = s;
            }
        }
        picked |= 1u << pick;
        sum += low;
    }
    return Selected(sum / f32(k), picked);
}

// Pixel `k` of the lattice (problem::lattice_dims, row-major), or x = width past its end.
fn lattice_pixel(k: u32) -> vec2<u32> {
    let s = P.lattice;
    let lw = (P.width + s - 1u) / s;
    let lh = (P.height + s - 1u) / s;
    if (k >= lw * lh) {
        return vec2<u32>(P.width, 0u);
    }
    return vec2<u32>((k % lw) * s, (k / lw) * s);
}

@compute @workgroup_size(64)
fn init(@builtin(global_invocation_id) gid: vec3<u32>) {
    let px = lattice_pixel(gid.x);
    if (px.x >= P.width) {
        return;
    }
    let i = px.y * P.width + px.x;
    let o = rays[2u * i];
    let v = rays[2u * i + 1u].xyz;
    if (o.w < 0.5) {
        planes[i] = vec4<f32>(bitcast<f32>(0x7fc00000u), 0.0, 0.0, 0.0);
        costs[i] = MAX_COST;
        return;
    }
    var d = 0.0;
    var n = vec3<f32>(0.0, 0.0, -1.0);
    var given = false;
    if (P.has_init == 1u) {
        let g = init_depth[i];
        if (g >= P.lo && g <= P.hi) {
            d = g;
            given = true;
        }
    }
    if (!given) {
        d = P.lo + uniform01(i, 0u, 0u) * (P.hi - P.lo);
        n = perturb(-v, 1.0, uniform01(i, 0u, 1u), uniform01(i, 0u, 2u), uniform01(i, 0u, 3u));
    }
    let x = i32(px.x);
    let y = i32(px.y);
    planes[i] = vec4<f32>(d, n);
    prepare_window(x, y);
    costs[i] = plane_cost(x, y, d, n, (1u << P.n_src) - 1u, true).cost;
}

struct Best {
    d: f32,
    n: vec3<f32>,
    cost: f32,
}

const NEIGHBOURS: array<vec2<i32>, 8> = array<vec2<i32>, 8>(
    vec2<i32>(-1, 0), vec2<i32>(1, 0), vec2<i32>(0, -1), vec2<i32>(0, 1),
    vec2<i32>(-5, 0), vec2<i32>(5, 0), vec2<i32>(0, -5), vec2<i32>(0, 5),
);

@compute @workgroup_size(64)
fn step(@builtin(global_invocation_id) gid: vec3<u32>) {
    // Red–black on the lattice (cpu.rs): lattice pixel (lx, ly) is pixel (s lx, s ly).
    let s = P.lattice;
    let lw = (P.width + s - 1u) / s;
    let lh = (P.height + s - 1u) / s;
    let half_w = (lw + 1u) / 2u;
    let ly = gid.x / half_w;
    if (ly >= lh) {
        return;
    }
    let lx = 2u * (gid.x % half_w) + ((ly + P.colour) % 2u);
    if (lx >= lw) {
        return;
    }
    let x = lx * s;
    let y = ly * s;
    let i = y * P.width + x;
    let o = rays[2u * i];
    if (o.w < 0.5) {
        return;
    }
    let v = rays[2u * i + 1u].xyz;
    let cur = planes[i];
    var best = Best(cur.x, cur.yzw, costs[i]);
    prepare_window(i32(x), i32(y));
    let xi = i32(x);
    let yi = i32(y);
    // problem::neighbours: all 8 in the first round, the 4 at distance 1 after it.
    let n_nb = select(4u, 8u, P.round == 0u);
    let span = P.hi - P.lo;
    var mask = (1u << P.n_src) - 1u;
    // Every evaluation at one site (see plane_cost): first the view selection, where the
    // current plane picks the sources every candidate is scored on (when every source is
    // picked, the stored cost is already over all of them); then the neighbours' planes; then
    // the 3 refinements, each drawn from the best so far.
    for (var k = 0u; k < n_nb + 4u; k++) {
        var d = best.d;
        var n = best.n;
        var ok = true;
        if (k == 0u) {
            ok = cur.x == cur.x && P.top_k < P.n_src;
        } else if (k <= n_nb) {
            let nx = xi + NEIGHBOURS[k - 1u].x * i32(s);
            let ny = yi + NEIGHBOURS[k - 1u].y * i32(s);
            ok = nx >= 0 && ny >= 0 && nx < i32(P.width) && ny < i32(P.height);
            if (ok) {
                let j = u32(ny) * P.width + u32(nx);
                let q = planes[j];
                let oq = rays[2u * j];
                n = q.yzw;
                let den = dot(n, v);
                ok = oq.w > 0.5 && q.x == q.x && den < -FACING;
                if (ok) {
                    let xq = oq.xyz + rays[2u * j + 1u].xyz * q.x;
                    d = dot(n, xq - o.xyz) / den;
                }
            }
        } else if (k == n_nb + 1u) {
            d = P.lo + uniform01(i, P.step, 0u) * span;
        } else if (k == n_nb + 2u) {
            d = best.d + (2.0 * uniform01(i, P.step, 1u) - 1.0) * P.scale * 0.25 * span;
            n = perturb(best.n, P.scale, uniform01(i, P.step, 2u), uniform01(i, P.step, 3u), uniform01(i, P.step, 4u));
        } else {
            n = perturb(best.n, P.scale, uniform01(i, P.step, 5u), uniform01(i, P.step, 6u), uniform01(i, P.step, 7u));
        }
        // A candidate must lie in the range and face the camera.
        ok = ok && (k == 0u || (d >= P.lo && d <= P.hi && dot(n, v) < -FACING));
        if (ok) {
            let c = plane_cost(xi, yi, d, n, mask, k == 0u);
            if (k == 0u) {
                best.cost = c.cost;
                mask = c.mask;
            } else if (c.cost < best.cost) {
                best = Best(d, n, c.cost);
            }
        }
    }
    planes[i] = vec4<f32>(best.d, best.n);
    costs[i] = best.cost;
}

// The depth polish (cpu.rs `polish`): P.step parabola steps along the ray from delta =
// P.scale, the normal kept, on the sources the plane picks (every one, its cost kept, with
// flag 1); with P.curved, on each pixel's curved patch (`curv`); without the last cost with
// flag 2. One invocation per lattice pixel.
@compute @workgroup_size(64)
fn polish(@builtin(global_invocation_id) gid: vec3<u32>) {
    let px = lattice_pixel(gid.x);
    if (px.x >= P.width) {
        return;
    }
    let i = px.y * P.width + px.x;
    let cur = planes[i];
    if (rays[2u * i].w < 0.5 || !(cur.x == cur.x)) {
        return;
    }
    let x = i32(px.x);
    let y = i32(px.y);
    let n = cur.yzw;
    if (P.curved == 1u) {
        bend = curv[i].xyz;
    }
    prepare_window(x, y);
    var mask = (1u << P.n_src) - 1u;
    var d = cur.x;
    var c0 = costs[i];
    var cm = 0.0;
    var cp = 0.0;
    var delta = P.scale;
    // Every evaluation at one site (see plane_cost): the plane's own cost and sources (unless
    // known), then per step d - delta, d + delta and the parabola's vertex (its cost left out
    // at the last step with flag 2).
    for (var e = 0u; e < 1u + 3u * P.step; e++) {
        let phase = (e + 2u) % 3u;
        var dq = d;
        var want = true;
        if (e == 0u) {
            want = (P.flags & 1u) == 0u;
        } else if (phase == 0u) {
            dq = d - delta;
        } else if (phase == 1u) {
            dq = d + delta;
        } else {
            // problem::polish_offset
            let den = cm - 2.0 * c0 + cp;
            var off = 0.0;
            if (den > 1e-12) {
                off = clamp(0.5 * (cm - cp) / den, -1.0, 1.0);
            } else if (cm < cp) {
                off = -1.0;
            } else if (cp < cm) {
                off = 1.0;
            }
            d = clamp(d + off * delta, P.lo, P.hi);
            dq = d;
            want = (P.flags & 2u) == 0u || e < 3u * P.step;
        }
        var c = MAX_COST;
        if (want && (e == 0u || (dq >= P.lo && dq <= P.hi))) {
            let r = plane_cost(x, y, dq, n, mask, e == 0u);
            c = r.cost;
            if (e == 0u) {
                mask = r.mask;
            }
        }
        if (e == 0u) {
            if (want) {
                c0 = c;
            }
        } else if (phase == 0u) {
            cm = c;
        } else if (phase == 1u) {
            cp = c;
        } else {
            if (want) {
                c0 = c;
            }
            delta *= 0.5;
        }
    }
    planes[i] = vec4<f32>(d, n);
    costs[i] = c0;
}
