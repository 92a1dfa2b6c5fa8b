// OpenCV's lens models on normalised coordinates, ideal -> distorted: the WGSL twin of the
// camera crate's `Distortion::distort` (`Distortion::shader_form` fills the arguments).
// model: 0 none, 1 standard (c0 = k1 k2 p1 p2, c1 = k3 k4 k5 k6; rational when k4..k6 != 0),
// 2 fisheye (c0 = k1 k2 0 0, c1 = k3 k4 0 0: θ_d = θ (1 + k1 θ² + k2 θ⁴ + k3 θ⁶ + k4 θ⁸)).
fn lens_distort(model: f32, c0: vec4<f32>, c1: vec4<f32>, p: vec2<f32>) -> vec2<f32> {
    if (model < 0.5) {
        return p;
    }
    let r2 = dot(p, p);
    if (model > 1.5) {
        let r = sqrt(r2);
        if (r < 1e-9) {
            return p;
        }
        let t = atan(r);
        let t2 = t * t;
        let td = t * (1.0 + t2 * (c0.x + t2 * (c0.y + t2 * (c1.x + t2 * c1.y))));
        return p * (td / r);
    }
    let q = (1.0 + r2 * (c0.x + r2 * (c0.y + r2 * c1.x)))
        / (1.0 + r2 * (c1.y + r2 * (c1.z + r2 * c1.w)));
    let x = p.x;
    let y = p.y;
    return vec2<f32>(
        x * q + 2.0 * c0.z * x * y + c0.w * (r2 + 2.0 * x * x),
        y * q + c0.z * (r2 + 2.0 * y * y) + 2.0 * c0.w * x * y,
    );
}
