// Undistortion: for every output (undistorted, pinhole) pixel, apply the lens model (the camera
// crate's `lens.wgsl`, joined before this file) to find where it lies in the recorded image and
// sample that bilinearly. Pixel centres at integer coordinates; samples whose 2x2 footprint
// leaves the recorded image get `fill`.

struct Params {
    fx: f32,
    fy: f32,
    cx: f32,
    cy: f32,
    skew: f32,
    model: f32,
    width: u32,
    height: u32,
    c0: vec4<f32>,
    c1: vec4<f32>,
    fill: f32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> recorded: array<f32>;
@group(0) @binding(2) var<storage, read_write> undistorted: array<f32>;

fn texel(x: i32, y: i32) -> f32 {
    return recorded[u32(y) * params.width + u32(x)];
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    if gid.x >= params.width || gid.y >= params.height {
        return;
    }
    // Undistorted pixel -> ideal normalised coordinates (K⁻¹ of an upper-triangular K).
    let y = (f32(gid.y) - params.cy) / params.fy;
    let x = (f32(gid.x) - params.cx - params.skew * y) / params.fx;
    // The lens model, ideal -> distorted.
    let d = lens_distort(params.model, params.c0, params.c1, vec2<f32>(x, y));
    let xd = d.x;
    let yd = d.y;
    // Back to pixels of the recorded image.
    let ud = params.fx * xd + params.skew * yd + params.cx;
    let vd = params.fy * yd + params.cy;

    let out_index = gid.y * params.width + gid.x;
    let w_max = f32(params.width - 1u);
    let h_max = f32(params.height - 1u);
    // Tolerance for the last row/column, where x0 + 1 would leave the image.
    let eps = 1e-3;
    if !(ud >= -eps && vd >= -eps && ud <= w_max + eps && vd <= h_max + eps) {
        undistorted[out_index] = params.fill;
        return;
    }
    let uc = clamp(ud, 0.0, w_max);
    let vc = clamp(vd, 0.0, h_max);
    let x0 = i32(floor(uc));
    let y0 = i32(floor(vc));
    let x1 = min(x0 + 1, i32(params.width) - 1);
    let y1 = min(y0 + 1, i32(params.height) - 1);
    let ax = uc - f32(x0);
    let ay = vc - f32(y0);
    let top = mix(texel(x0, y0), texel(x1, y0), ax);
    let bottom = mix(texel(x0, y1), texel(x1, y1), ax);
    undistorted[out_index] = mix(top, bottom, ay);
}
