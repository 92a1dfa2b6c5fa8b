//! The sweep on the workspace's rendered reference-rig scenes (`aquamvs_scenes`) at reduced
//! size: accuracy over the patch against ground truth, and GPU/CPU agreement.
//!
//! The full-size (640×480) figures come from `cargo xtask sweep`; here the images are 320×240,
//! so every pixel covers twice the surface: the undulating scene uses window 5 (about the
//! surface footprint of window 11 at 640×480; the error grows with the window), and the
//! thresholds are looser than the 640×480 targets.

mod common;

use aquamvs_camera::Rig;
use aquamvs_scenes::{RenderOptions, Scene, render};
use aquamvs_sweep::{GpuSweep, SweepOutput, SweepSettings, View, depth_range_from_z, sweep_cpu};

struct Run {
    truth: Vec<f32>,
    patch: Vec<usize>,
    cpu: SweepOutput,
    gpu: Option<SweepOutput>,
    step: f64,
}

fn sweep_scene(scene: &Scene, width: u32, height: u32, depths: u32, window: u32) -> Run {
    let rig = Rig::reference(width, height).unwrap();
    let sources = rig.sources(0, 4);
    let cam = &rig.cameras[0];
    let opts = RenderOptions::default();
    let reference_image = render(scene, cam, &opts);
    let images: Vec<Vec<f32>> = sources
        .iter()
        .map(|&i| render(scene, &rig.cameras[i], &opts))
        .collect();
    let truth = scene.depth_map(cam);
    // The patch: pixels whose ground-truth surface point lies within the scene bounds.
    let w = width as usize;
    let patch: Vec<usize> = (0..truth.len())
        .filter(|&i| {
            let t = truth[i];
            t.is_finite()
                && cam
                    .cast_ray((i % w) as f64, (i / w) as f64)
                    .map(|r| r.at(t as f64))
                    .is_some_and(|p| scene.in_bounds(p.x, p.y))
        })
        .collect();
    let settings = SweepSettings {
        depths,
        window,
        batch: 16,
        keep_cost_volume: false,
    };
    let range = depth_range_from_z(cam, scene.min_height(), scene.max_height(), 0.02).unwrap();
    let reference = View {
        camera: cam,
        image: &reference_image,
    };
    let views: Vec<View> = sources
        .iter()
        .zip(&images)
        .map(|(&i, img)| View {
            camera: &rig.cameras[i],
            image: img,
        })
        .collect();
    let cpu = sweep_cpu(reference, &views, &settings, range).unwrap();
    let gpu = common::gpu().map(|ctx| {
        GpuSweep::new(&ctx.device)
            .unwrap()
            .run(&ctx.device, &ctx.queue, reference, &views, &settings, range)
            .unwrap()
    });
    Run {
        truth,
        patch,
        cpu,
        gpu,
        step: settings.step(range),
    }
}

/// (valid fraction, median |error| in mm) over the patch.
fn accuracy(run: &Run, out: &SweepOutput) -> (f64, f64) {
    let errs: Vec<f64> = run
        .patch
        .iter()
        .filter(|&&i| out.depth[i].is_finite())
        .map(|&i| (out.depth[i] as f64 - run.truth[i] as f64).abs() * 1e3)
        .collect();
    (
        errs.len() as f64 / run.patch.len() as f64,
        common::median(errs),
    )
}

/// Fraction of the patch pixels valid in both where CPU and GPU agree within 0.1 mm.
fn agreement(run: &Run, gpu: &SweepOutput) -> f64 {
    let both: Vec<usize> = run
        .patch
        .iter()
        .copied()
        .filter(|&i| run.cpu.depth[i].is_finite() && gpu.depth[i].is_finite())
        .collect();
    let close = both
        .iter()
        .filter(|&&i| (run.cpu.depth[i] - gpu.depth[i]).abs() <= 1e-4)
        .count();
    close as f64 / both.len() as f64
}

#[test]
fn flat_scene_is_accurate_and_backends_agree() {
    let run = sweep_scene(&Scene::flat(), 320, 240, 32, 11);
    assert!(
        run.patch.len() > 3000,
        "patch of {} pixels",
        run.patch.len()
    );
    let (valid, med) = accuracy(&run, &run.cpu);
    eprintln!(
        "flat 320x240, CPU: {:.1} % valid, median {med:.3} mm (step {:.2} mm)",
        100.0 * valid,
        run.step * 1e3
    );
    assert!(valid >= 0.95 && med <= 0.25, "CPU: {valid}, {med} mm");
    let Some(gpu) = &run.gpu else { return };
    let (gvalid, gmed) = accuracy(&run, gpu);
    let agree = agreement(&run, gpu);
    eprintln!(
        "flat 320x240, GPU: {:.1} % valid, median {gmed:.3} mm; CPU agrees on {:.2} %",
        100.0 * gvalid,
        100.0 * agree
    );
    assert!(gvalid >= 0.95 && gmed <= 0.25, "GPU: {gvalid}, {gmed} mm");
    assert!(agree >= 0.99, "agreement {agree}");
}

#[test]
fn undulating_scene_is_accurate_and_backends_agree() {
    let run = sweep_scene(&Scene::undulating(), 320, 240, 32, 5);
    let (valid, med) = accuracy(&run, &run.cpu);
    eprintln!(
        "undulating 320x240, CPU: {:.1} % valid, median {med:.3} mm (step {:.2} mm)",
        100.0 * valid,
        run.step * 1e3
    );
    assert!(valid >= 0.9 && med <= 1.8, "CPU: {valid}, {med} mm");
    let Some(gpu) = &run.gpu else { return };
    let (gvalid, gmed) = accuracy(&run, gpu);
    let agree = agreement(&run, gpu);
    eprintln!(
        "undulating 320x240, GPU: {:.1} % valid, median {gmed:.3} mm; CPU agrees on {:.2} %",
        100.0 * gvalid,
        100.0 * agree
    );
    assert!(gvalid >= 0.9 && gmed <= 1.8, "GPU: {gvalid}, {gmed} mm");
    assert!(agree >= 0.99, "agreement {agree}");
}
