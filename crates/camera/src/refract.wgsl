// Refractive projection into a source camera in WGSL, the twin of the camera crate's
// `Camera::project` (f32, a fixed number of Newton steps): joined after `lens.wgsl` by the
// shaders that project (the sweep's warp, PatchMatch). `SrcCam` is filled by the sweep crate's
// `SrcCamU`.

// A source camera (`aquamvs_sweep::SrcCamU`).
struct SrcCam {
    col0: vec4<f32>,     // columns of R (world -> camera): p_cam = R (q - C)
    col1: vec4<f32>,
    col2: vec4<f32>,
    center: vec4<f32>,   // camera centre C (xyz), water_z (w)
    intr: vec4<f32>,     // fx, fy, cx, cy
    extra: vec4<f32>,    // skew, n_air, n_water, lens model (0 none, 1 standard, 2 fisheye)
    dist0: vec4<f32>,    // k1, k2, p1, p2 (lens_distort's c0)
    dist1: vec4<f32>,    // k3, k4, k5, k6 (lens_distort's c1)
    dims: vec4<u32>,     // width, height, offset of the image in src_img, 0
}

// Newton steps for the surface crossing from the paraxial guess (converged to < 1e-4 px).
const NEWTON_STEPS: u32 = 4u;

// The surface crossing of the underwater point `pt` seen from `cam`: returns (p_cam, ok) with
// p_cam = R (q - C); ok = 0 when there is none (point not below the surface). Newton's method on
// Snell's law in the vertical plane, NEWTON_STEPS steps from the paraxial guess; a function of
// `pt` alone, so every anchor is the same whichever batch computes it.
fn crossing(cam: SrcCam, pt: vec3<f32>) -> vec4<f32> {
    let c = crossing_from(cam, pt, -1.0, NEWTON_STEPS);
    return vec4<f32>(c.pc, c.ok);
}

// A surface crossing: p_cam = R (q - C), ok (1 or 0), and `ratio` = r / r_q (the crossing's
// horizontal distance from the camera over the point's; -1 when the point is under the camera:
// a nearby point then starts from the paraxial guess).
struct Crossing {
    pc: vec3<f32>,
    ok: f32,
    ratio: f32,
}

// `crossing` with `steps` Newton steps from the paraxial guess (`ratio` < 0) or from
// r = ratio · r_q: a nearby point's ratio is a start that two steps make exact (the ratio
// changes with the point's depth; tests/projection.rs in the patchmatch crate).
fn crossing_from(cam: SrcCam, pt: vec3<f32>, ratio: f32, steps: u32) -> Crossing {
    let h_c = cam.center.w - cam.center.z;
    let h_q = pt.z - cam.center.w;
    let dx = pt.x - cam.center.x;
    let dy = pt.y - cam.center.y;
    let r_q = sqrt(dx * dx + dy * dy);
    let na = cam.extra.y;
    let nw = cam.extra.z;
    let hc2 = h_c * h_c;
    let hq2 = h_q * h_q;
    // f(r) = na r/|a| - nw (r_q - r)/|b| = 0, f increasing; paraxial guess sin ~ tan.
    var r = r_q * nw * h_c / (na * h_q + nw * h_c);
    if (ratio >= 0.0) {
        r = r_q * ratio;
    }
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
    var u = vec2<f32>(0.0);
    var k = -1.0;
    if (r_q > 0.0) {
        u = vec2<f32>(dx, dy) / r_q;
        k = r / r_q;
    }
    // q - C = (ux r, uy r, h_c).
    let pc = r * (u.x * cam.col0.xyz + u.y * cam.col1.xyz) + h_c * cam.col2.xyz;
    return Crossing(pc, select(0.0, 1.0, h_q > 0.0), k);
}

// Camera-frame vector -> recorded (distorted) pixel; (u, v, ok).
fn to_pixel(cam: SrcCam, pc: vec3<f32>) -> vec3<f32> {
    if (!(pc.z > 0.0)) {
        return vec3<f32>(0.0, 0.0, 0.0);
    }
    let iz = 1.0 / pc.z;
    var x = pc.x * iz;
    var y = pc.y * iz;
    let d = lens_distort(cam.extra.w, cam.dist0, cam.dist1, vec2<f32>(x, y));
    x = d.x;
    y = d.y;
    return vec3<f32>(cam.intr.x * x + cam.extra.x * y + cam.intr.z, cam.intr.y * y + cam.intr.w, 1.0);
}
