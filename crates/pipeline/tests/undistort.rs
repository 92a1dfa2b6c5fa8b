//! Undistortion against geometry: a recording synthesised through the distortion model, and a
//! scene rendered with and without lens distortion.

use aquamvs_camera::{Camera, Distortion, Rig};
use aquamvs_gpu::{GpuContext, GpuOptions};
use aquamvs_pipeline::{GpuUndistort, PipelineError, undistort_cpu};
use aquamvs_scenes::{RenderOptions, Scene, render};

const LENS: Distortion = Distortion {
    k1: 0.12,
    k2: 0.04,
    p1: 0.0015,
    p2: -0.001,
    k3: 0.0,
    ..Distortion::NONE
};

fn camera(w: u32, h: u32) -> Camera<f64> {
    let mut cam = Rig::reference(w, h).unwrap().cameras[2].clone();
    cam.distortion = Some(LENS);
    cam
}

/// A smooth image defined on undistorted pixel coordinates.
fn ideal(u: f64, v: f64) -> f64 {
    0.5 + 0.25 * (u / 7.0).sin() * (v / 9.0).cos() + 0.1 * ((u + v) / 23.0).sin()
}

/// The recording of `ideal` through the lens: recorded pixel (ud, vd) shows the ideal image
/// at undistort_pixel(ud, vd).
fn recording(cam: &Camera<f64>) -> Vec<f32> {
    let (w, h) = (cam.width, cam.height);
    let mut out = Vec::with_capacity((w * h) as usize);
    for v in 0..h {
        for u in 0..w {
            let (x, y) = cam.undistort_pixel(f64::from(u), f64::from(v));
            out.push(ideal(x, y) as f32);
        }
    }
    out
}

/// Checks an undistorted image against `ideal` where the lens maps inside the recording
/// (2 px margin); returns (max error, checked pixels, fill pixels).
fn check_against_ideal(cam: &Camera<f64>, out: &[f32]) -> (f64, usize, usize) {
    let (w, h) = (cam.width, cam.height);
    let (mut max_err, mut n, mut filled) = (0f64, 0, 0);
    for v in 0..h {
        for u in 0..w {
            let (ud, vd) = cam.distort_pixel(f64::from(u), f64::from(v));
            let o = out[(v * w + u) as usize];
            let inside =
                ud >= 2.0 && vd >= 2.0 && ud <= f64::from(w) - 3.0 && vd <= f64::from(h) - 3.0;
            let outside =
                ud < -0.01 || vd < -0.01 || ud > f64::from(w) - 0.99 || vd > f64::from(h) - 0.99;
            if inside {
                max_err = max_err.max((f64::from(o) - ideal(f64::from(u), f64::from(v))).abs());
                n += 1;
            } else if outside {
                assert!(
                    o == -1.0,
                    "pixel ({u}, {v}) maps outside the recording but is {o}"
                );
                filled += 1;
            }
        }
    }
    (max_err, n, filled)
}

#[test]
fn cpu_undistortion_recovers_the_ideal_image() {
    let cam = camera(160, 120);
    let out = undistort_cpu(&cam, &recording(&cam), -1.0).unwrap();
    let (err, n, filled) = check_against_ideal(&cam, &out);
    assert!(n > 15_000, "only {n} pixels checked");
    assert!(
        filled > 0,
        "barrel distortion must leave corners outside the recording"
    );
    // Bilinear interpolation of a smooth image: error ~ h²/8 · |f''| ≈ 2e-3.
    assert!(err < 5e-3, "max error {err}");
}

#[test]
fn gpu_undistortion_recovers_the_ideal_image() {
    let Some(ctx) = GpuContext::for_tests(&GpuOptions::default()).unwrap() else {
        return;
    };
    let cam = camera(160, 120);
    let gpu = GpuUndistort::new(&ctx.device).unwrap();
    let out = gpu
        .run(&ctx.device, &ctx.queue, &cam, &recording(&cam), -1.0)
        .unwrap();
    let (err, n, filled) = check_against_ideal(&cam, &out);
    assert!(n > 15_000 && filled > 0);
    assert!(err < 5e-3, "max error {err}");
    // f32 on the GPU vs f64 on the CPU: same samples to float precision.
    let cpu = undistort_cpu(&cam, &recording(&cam), -1.0).unwrap();
    let diff = out
        .iter()
        .zip(&cpu)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(diff < 1e-3, "GPU and CPU differ by {diff}");
}

/// 5×5 box blur (clipped at the border): keeps the structure the pixels resolve, drops the
/// aliased sub-pixel texture that any resampling changes.
fn blur(a: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0f32; a.len()];
    for y in 0..h {
        for x in 0..w {
            let (mut s, mut n) = (0f32, 0f32);
            for yy in y.saturating_sub(2)..(y + 3).min(h) {
                for xx in x.saturating_sub(2)..(x + 3).min(w) {
                    s += a[yy * w + xx];
                    n += 1.0;
                }
            }
            out[y * w + x] = s / n;
        }
    }
    out
}

fn mean_abs_diff(a: &[f32], b: &[f32], cam: &Camera<f64>, margin: f64) -> f64 {
    let (w, h) = (cam.width, cam.height);
    let (mut s, mut n) = (0f64, 0usize);
    for v in 0..h {
        for u in 0..w {
            let (ud, vd) = cam.distort_pixel(f64::from(u), f64::from(v));
            if ud >= margin
                && vd >= margin
                && ud <= f64::from(w) - 1.0 - margin
                && vd <= f64::from(h) - 1.0 - margin
            {
                let i = (v * w + u) as usize;
                s += f64::from((a[i] - b[i]).abs());
                n += 1;
            }
        }
    }
    s / n as f64
}

#[test]
fn undistorting_a_distorted_render_matches_the_pinhole_render() {
    let Some(ctx) = GpuContext::for_tests(&GpuOptions::default()).unwrap() else {
        return;
    };
    let scene = Scene::flat();
    // 640×480: a pixel covers ~2 mm of the patch, as fine as the texture's finest octave.
    let pinhole = Rig::reference(640, 480).unwrap().cameras[2].clone();
    let lensed = camera(640, 480);
    let ideal = render(&scene, &pinhole, &RenderOptions::default());
    let recorded = render(
        &scene,
        &pinhole,
        &RenderOptions {
            distortion: Some(LENS),
            ..RenderOptions::default()
        },
    );
    let gpu = GpuUndistort::new(&ctx.device).unwrap();
    let out = gpu
        .run(&ctx.device, &ctx.queue, &lensed, &recorded, 0.0)
        .unwrap();
    let before = mean_abs_diff(&recorded, &ideal, &lensed, 4.0);
    let after = mean_abs_diff(&out, &ideal, &lensed, 4.0);
    let (w, h) = (640, 480);
    let blurred_after = mean_abs_diff(&blur(&out, w, h), &blur(&ideal, w, h), &lensed, 4.0);
    let blurred_before = mean_abs_diff(&blur(&recorded, w, h), &blur(&ideal, w, h), &lensed, 4.0);
    // The texture (grey s.d. ~0.2) has detail finer than a pixel here: any resampling of the
    // anti-aliased render changes it (`after`), but at the scale the pixels resolve
    // (5×5 blur) the undistorted image matches the pinhole render and the recording does not.
    assert!(
        blurred_after < 0.01,
        "blurred: undistorted vs pinhole {blurred_after}"
    );
    assert!(
        blurred_after < 0.1 * blurred_before,
        "blurred: before {blurred_before}, after {blurred_after}"
    );
    assert!(after < 0.3 * before, "before {before}, after {after}");
}

#[test]
fn no_distortion_is_a_copy_and_bad_sizes_are_errors() {
    let cam = Rig::reference(32, 24).unwrap().cameras[0].clone();
    let img: Vec<f32> = (0..32 * 24).map(|i| i as f32).collect();
    assert_eq!(undistort_cpu(&cam, &img, 0.0).unwrap(), img);
    let err = undistort_cpu(&camera(32, 24), &img[1..], 0.0).unwrap_err();
    assert!(matches!(err, PipelineError::ImageSize { .. }), "{err}");
}
