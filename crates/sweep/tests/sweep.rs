//! The sweep on a tiny synthetic flat-plane scene: batching, tiling, CPU/GPU agreement,
//! identical images, accuracy and bad input.

mod common;

use aquamvs_sweep::{
    GpuSweep, GpuSweepOptions, SweepError, SweepOutput, SweepSettings, View, check_range,
    depth_range_from_z, sweep_cpu,
};
use common::*;

fn settings(depths: u32, batch: u32) -> SweepSettings {
    SweepSettings {
        depths,
        window: 7,
        batch,
        keep_cost_volume: false,
    }
}

/// The depth range of the plane scene (ray depth, metres).
fn range(scene: &PlaneScene) -> (f32, f32) {
    depth_range_from_z(&scene.rig.cameras[0], PLANE_Z, PLANE_Z, 0.03).unwrap()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn assert_bitwise_eq(a: &SweepOutput, b: &SweepOutput, what: &str) {
    let check = |x: &[f32], y: &[f32], name: &str| {
        assert_eq!(x.len(), y.len(), "{what}: {name} sizes differ");
        let differ = bits(x)
            .iter()
            .zip(bits(y))
            .filter(|(p, q)| **p != *q)
            .count();
        let first = bits(x).iter().zip(bits(y)).position(|(p, q)| *p != q);
        assert_eq!(
            differ,
            0,
            "{what}: {name} differs at {differ} of {} values, first at {first:?}",
            x.len()
        );
    };
    check(&a.depth, &b.depth, "depth");
    check(&a.confidence, &b.confidence, "confidence");
    assert_eq!(a.cost_volume.is_some(), b.cost_volume.is_some());
    if let (Some(x), Some(y)) = (&a.cost_volume, &b.cost_volume) {
        check(x, y, "cost volume");
    }
}

/// Valid fraction and median |error| (m) over the interior pixels (a window away from edges).
fn accuracy(out: &SweepOutput, truth: &[f32], margin: usize) -> (f64, f64) {
    let (w, h) = (out.width as usize, out.height as usize);
    let mut errs = Vec::new();
    let mut total = 0;
    for v in margin..h - margin {
        for u in margin..w - margin {
            total += 1;
            let d = out.depth[v * w + u];
            if d.is_finite() {
                errs.push((d as f64 - truth[v * w + u] as f64).abs());
            }
        }
    }
    (errs.len() as f64 / total as f64, median(errs))
}

#[test]
fn batch_sizes_give_bitwise_identical_results() {
    let Some(ctx) = gpu() else { return };
    let scene = plane_scene(72, 54, 3);
    let sweep = GpuSweep::new(&ctx.device).unwrap();
    let mut p = settings(13, 1);
    p.keep_cost_volume = true;
    let r = range(&scene);
    let run = |batch| {
        let q = SweepSettings { batch, ..p };
        sweep
            .run(
                &ctx.device,
                &ctx.queue,
                scene.reference(),
                &scene.source_views(),
                &q,
                r,
            )
            .unwrap()
    };
    let one = run(1);
    assert!(one.depth.iter().filter(|d| d.is_finite()).count() > 1000);
    for batch in [2, 5, 8, 13, 64] {
        assert_bitwise_eq(&one, &run(batch), &format!("batch {batch} vs 1"));
    }
}

#[test]
fn tiled_equals_untiled() {
    let Some(ctx) = gpu() else { return };
    let scene = plane_scene(72, 150, 2);
    let mut p = settings(10, 4);
    p.keep_cost_volume = true;
    let r = range(&scene);
    let views = scene.source_views();
    let untiled = GpuSweep::new(&ctx.device).unwrap();
    assert_eq!(untiled.band_rows(&ctx.device, 72, 150, 2, &p).unwrap(), 150);
    let whole = untiled
        .run(&ctx.device, &ctx.queue, scene.reference(), &views, &p, r)
        .unwrap();
    // Per row: 4 depths × 2 sources × 120 words (72 px padded for aligned reads) × 4 B =
    // 3840 B warped, 10 depths × 72 px × 4 B = 2880 B of kept cost volume: 280 KiB holds 68
    // rows with the 3-row halos, so bands of 64 rows (whole NCC segments): three over 150 rows.
    let small = GpuSweepOptions {
        max_binding_bytes: Some(280 << 10),
    };
    let tiled_sweep = GpuSweep::with_options(&ctx.device, small).unwrap();
    assert_eq!(
        tiled_sweep.band_rows(&ctx.device, 72, 150, 2, &p).unwrap(),
        64
    );
    let tiled = tiled_sweep
        .run(&ctx.device, &ctx.queue, scene.reference(), &views, &p, r)
        .unwrap();
    assert_bitwise_eq(&whole, &tiled, "tiled vs untiled");
    // Bands that are not whole segments restart the sliding sums elsewhere: the same depths up
    // to rounding.
    let odd = GpuSweepOptions {
        max_binding_bytes: Some(100 << 10),
    };
    let odd_sweep = GpuSweep::with_options(&ctx.device, odd).unwrap();
    assert_eq!(
        odd_sweep.band_rows(&ctx.device, 72, 150, 2, &p).unwrap(),
        20
    );
    let banded = odd_sweep
        .run(&ctx.device, &ctx.queue, scene.reference(), &views, &p, r)
        .unwrap();
    let (mut valid, mut close) = (0, 0);
    for (a, b) in whole.depth.iter().zip(&banded.depth) {
        if a.is_finite() && b.is_finite() {
            valid += 1;
            close += ((a - b).abs() < 1e-4) as usize;
        }
    }
    assert!(
        valid > 72 * 150 / 2 && close as f64 >= 0.995 * valid as f64,
        "{close}/{valid}"
    );
    // Too small for even one row: a clear error, not a panic.
    let tiny = GpuSweepOptions {
        max_binding_bytes: Some(1024),
    };
    let err = GpuSweep::with_options(&ctx.device, tiny)
        .unwrap()
        .run(&ctx.device, &ctx.queue, scene.reference(), &views, &p, r)
        .unwrap_err();
    assert!(matches!(err, SweepError::TooLarge(_)), "{err}");
}

/// A `GpuSweep` keeps its buffers and host tables from one sweep to the next of the same
/// shape: sweeping other images with them, then the first images again, gives bit for bit what
/// a fresh `GpuSweep` gives; another shape in between, or releasing them, changes nothing.
#[test]
fn kept_buffers_give_the_results_of_fresh_ones() {
    let Some(ctx) = gpu() else { return };
    let (d, q) = (&ctx.device, &ctx.queue);
    let scene = plane_scene(72, 54, 3);
    // The same shape, other images: grey levels inverted.
    let inverted: Vec<Vec<f32>> = scene
        .images
        .iter()
        .map(|im| im.iter().map(|v| 1.0 - v).collect())
        .collect();
    let b_view = |i: usize| View {
        camera: &scene.rig.cameras[i],
        image: &inverted[i],
    };
    let b_reference = b_view(0);
    let b_sources: Vec<View> = scene.sources.iter().map(|&i| b_view(i)).collect();
    let p = SweepSettings {
        keep_cost_volume: true,
        ..settings(12, 5)
    };
    let r = range(&scene);
    let a_sources = scene.source_views();
    let fresh = |reference, sources: &[View]| {
        GpuSweep::new(d)
            .unwrap()
            .run(d, q, reference, sources, &p, r)
            .unwrap()
    };
    let (fresh_a, fresh_b) = (
        fresh(scene.reference(), &a_sources),
        fresh(b_reference, &b_sources),
    );
    let sweep = GpuSweep::new(d).unwrap();
    let run = |reference, sources: &[View], p: &SweepSettings| {
        sweep.run(d, q, reference, sources, p, r).unwrap()
    };
    assert_bitwise_eq(&run(scene.reference(), &a_sources, &p), &fresh_a, "first");
    assert_bitwise_eq(
        &run(b_reference, &b_sources, &p),
        &fresh_b,
        "kept, images B",
    );
    assert_bitwise_eq(&run(scene.reference(), &a_sources, &p), &fresh_a, "kept, A");
    assert_ne!(bits(&fresh_a.depth), bits(&fresh_b.depth));
    let other = SweepSettings {
        window: 9,
        keep_cost_volume: false,
        ..p
    };
    run(b_reference, &b_sources, &other);
    assert_bitwise_eq(
        &run(b_reference, &b_sources, &p),
        &fresh_b,
        "after a shape change",
    );
    sweep.release_buffers();
    assert_bitwise_eq(
        &run(scene.reference(), &a_sources, &p),
        &fresh_a,
        "after release",
    );
}

/// Both backends report where the time went; equality ignores it.
#[test]
fn timings_split_the_call() {
    let scene = plane_scene(72, 54, 3);
    let (p, r, views) = (settings(12, 4), range(&scene), scene.source_views());
    let start = std::time::Instant::now();
    let cpu = sweep_cpu(scene.reference(), &views, &p, r).unwrap();
    let wall = start.elapsed().as_secs_f64();
    let t = cpu.timings;
    assert!(
        t.setup_s > 0.0 && t.sweep_s > 0.0 && t.readback_s == 0.0,
        "{t:?}"
    );
    assert!(t.total_s() <= wall, "{t:?} vs {wall} s");
    let mut same = cpu.clone();
    same.timings = Default::default();
    same.depth = cpu.depth.iter().map(|d| d.max(0.0)).collect();
    let mut other = same.clone();
    other.timings.setup_s = 1e3;
    assert_eq!(same, other, "timings are not part of equality");

    let Some(ctx) = gpu() else { return };
    let sweep = GpuSweep::new(&ctx.device).unwrap();
    for round in 0..2 {
        let start = std::time::Instant::now();
        let out = sweep
            .run(&ctx.device, &ctx.queue, scene.reference(), &views, &p, r)
            .unwrap();
        let wall = start.elapsed().as_secs_f64();
        let t = out.timings;
        assert!(
            t.setup_s > 0.0 && t.sweep_s > 0.0 && t.readback_s > 0.0,
            "round {round}: {t:?}"
        );
        assert!(t.total_s() <= wall, "round {round}: {t:?} vs {wall} s");
    }
}

#[test]
fn gpu_agrees_with_cpu_and_both_find_the_plane() {
    let scene = plane_scene(96, 72, 4);
    let p = SweepSettings {
        window: 9,
        ..settings(32, 8)
    };
    let r = range(&scene);
    let views = scene.source_views();
    let cpu = sweep_cpu(scene.reference(), &views, &p, r).unwrap();
    let step = p.step(r);
    let (valid, med) = accuracy(&cpu, &scene.truth, 6);
    eprintln!(
        "CPU: {:.1} % valid, median error {:.3} mm = {:.3} step",
        100.0 * valid,
        med * 1e3,
        med / step
    );
    assert!(
        valid > 0.95 && med < 0.15 * step,
        "CPU valid {valid}, median {med}"
    );

    let Some(ctx) = gpu() else { return };
    let gpu_out = GpuSweep::new(&ctx.device)
        .unwrap()
        .run(&ctx.device, &ctx.queue, scene.reference(), &views, &p, r)
        .unwrap();
    let (gvalid, gmed) = accuracy(&gpu_out, &scene.truth, 6);
    eprintln!(
        "GPU: {:.1} % valid, median error {:.3} mm",
        100.0 * gvalid,
        gmed * 1e3
    );
    assert!(
        gvalid > 0.95 && gmed < 0.15 * step,
        "GPU valid {gvalid}, median {gmed}"
    );
    // Agreement on the pixels both call valid, and validity itself.
    let (mut both, mut close, mut valid_differs) = (0, 0, 0);
    for (c, g) in cpu.depth.iter().zip(&gpu_out.depth) {
        match (c.is_finite(), g.is_finite()) {
            (true, true) => {
                both += 1;
                if (c - g).abs() < 1e-4 {
                    close += 1;
                }
            }
            (false, false) => {}
            _ => valid_differs += 1,
        }
    }
    eprintln!("CPU vs GPU: {close}/{both} within 0.1 mm, validity differs on {valid_differs}");
    assert!(close as f64 >= 0.99 * both as f64);
    assert!((valid_differs as f64) < 0.01 * cpu.depth.len() as f64);
    for (c, g) in cpu.confidence.iter().zip(&gpu_out.confidence) {
        assert!((0.0..=1.0).contains(g));
        assert!((c - g).abs() < 0.05 || c.is_nan());
    }
}

#[test]
fn distorted_cameras_gpu_agrees_with_cpu() {
    // Every camera records through Brown–Conrady distortion; the sweep undistorts reference
    // pixels (CPU, f64) and distorts projections (CPU and shader).
    let mut rig = aquamvs_camera::Rig::reference(80, 60).unwrap();
    for (i, cam) in rig.cameras.iter_mut().enumerate() {
        cam.distortion = Some(aquamvs_camera::Distortion {
            k1: -0.12 + 0.01 * i as f64,
            k2: 0.03,
            p1: 0.002,
            p2: -0.001,
            k3: 0.0,
            ..aquamvs_camera::Distortion::NONE
        });
    }
    let mut scene = plane_scene_of(rig, 3);
    // The nearest neighbours, pinned: the cameras' differing lenses change how much of cam00's
    // view each sees in pixels, and so `Rig::sources`' order; this test is about distortion.
    scene.sources = vec![1, 11, 2];
    let p = settings(24, 8);
    let r = range(&scene);
    let views = scene.source_views();
    let cpu = sweep_cpu(scene.reference(), &views, &p, r).unwrap();
    let (valid, med) = accuracy(&cpu, &scene.truth, 5);
    eprintln!(
        "distorted, CPU: {:.1} % valid, median {:.3} mm",
        100.0 * valid,
        med * 1e3
    );
    assert!(valid > 0.95 && med < 0.15 * p.step(r), "{valid} {med}");
    let Some(ctx) = gpu() else { return };
    let g = GpuSweep::new(&ctx.device)
        .unwrap()
        .run(&ctx.device, &ctx.queue, scene.reference(), &views, &p, r)
        .unwrap();
    let both: Vec<(f32, f32)> = cpu
        .depth
        .iter()
        .zip(&g.depth)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .collect();
    let close = both.iter().filter(|(a, b)| (a - b).abs() < 1e-4).count();
    eprintln!("distorted: GPU agrees with CPU on {close}/{}", both.len());
    assert!(both.len() > 3000 && close as f64 >= 0.99 * both.len() as f64);
}

#[test]
fn identical_images_give_near_zero_cost() {
    // Every "source" is the reference camera itself: each hypothesis maps every pixel onto
    // itself, so the window compares the image with itself at every depth.
    let scene = plane_scene(48, 36, 1);
    let cam = &scene.rig.cameras[0];
    let same = View {
        camera: cam,
        image: &scene.images[0],
    };
    let p = SweepSettings {
        keep_cost_volume: true,
        ..settings(6, 4)
    };
    let r = range(&scene);
    let check = |out: &SweepOutput, what: &str| {
        let cv = out.cost_volume.as_ref().unwrap();
        let (w, h) = (48usize, 36usize);
        let mut worst = 0.0f32;
        for k in 0..6 {
            for v in 3..h - 3 {
                for u in 3..w - 3 {
                    worst = worst.max(cv[k * w * h + v * w + u]);
                }
            }
        }
        eprintln!("{what}: worst interior cost {worst:e}");
        assert!(worst < 1e-3, "{what}: {worst}");
    };
    let cpu = sweep_cpu(same, &[same, same], &p, r).unwrap();
    check(&cpu, "CPU");
    let Some(ctx) = gpu() else { return };
    let gpu_out = GpuSweep::new(&ctx.device)
        .unwrap()
        .run(&ctx.device, &ctx.queue, same, &[same, same], &p, r)
        .unwrap();
    check(&gpu_out, "GPU");
}

#[test]
fn bad_settings_and_ranges_are_rejected() {
    let good = SweepSettings {
        depths: 8,
        window: 5,
        batch: 2,
        keep_cost_volume: false,
    };
    let r = (0.1, 0.3);
    assert!(good.validate().is_ok() && check_range(r).is_ok());
    // A batch larger than the depths is fine (all at once); so is the largest depth count.
    assert!(SweepSettings { batch: 100, ..good }.validate().is_ok());
    let most = SweepSettings::MAX_DEPTHS;
    assert!(
        SweepSettings {
            depths: most,
            ..good
        }
        .validate()
        .is_ok()
    );
    let bad_settings = [
        SweepSettings { window: 4, ..good },
        SweepSettings { window: 1, ..good },
        SweepSettings { window: 33, ..good },
        SweepSettings { depths: 1, ..good },
        SweepSettings {
            depths: most + 1,
            ..good
        },
        SweepSettings {
            depths: 100_000_000,
            ..good
        },
        SweepSettings { batch: 0, ..good },
    ];
    let bad_ranges = [
        (0.3, 0.1),
        (0.2, 0.2),
        (0.0, 0.2),
        (-0.1, 0.2),
        (f32::NAN, 0.2),
        (0.1, f32::INFINITY),
    ];
    let err = SweepSettings {
        depths: most + 1,
        ..good
    }
    .validate()
    .unwrap_err();
    assert_eq!(err, SweepError::Depths(most + 1));
    assert!(err.to_string().contains("4096"), "{err}");
    let scene = plane_scene(16, 12, 1);
    let views = scene.source_views();
    let ctx = gpu();
    let sweep = ctx.as_ref().map(|c| GpuSweep::new(&c.device).unwrap());
    let cases = bad_settings
        .iter()
        .map(|s| (*s, r))
        .chain(bad_ranges.iter().map(|&r| (good, r)));
    for (p, r) in cases {
        assert!(
            p.validate().is_err() || check_range(r).is_err(),
            "{p:?} {r:?}"
        );
        assert!(sweep_cpu(scene.reference(), &views, &p, r).is_err());
        if let (Some(ctx), Some(s)) = (&ctx, &sweep) {
            assert!(
                s.run(&ctx.device, &ctx.queue, scene.reference(), &views, &p, r)
                    .is_err()
            );
        }
    }
    for r in bad_ranges {
        assert!(matches!(check_range(r), Err(SweepError::DepthRange(..))));
    }
    // Views: no sources, wrong image size, non-finite values.
    assert_eq!(
        sweep_cpu(scene.reference(), &[], &good, r).unwrap_err(),
        SweepError::NoSources
    );
    let short = View {
        camera: &scene.rig.cameras[1],
        image: &scene.images[1][..10],
    };
    assert!(matches!(
        sweep_cpu(scene.reference(), &[short], &good, r),
        Err(SweepError::Image { .. })
    ));
    let mut nan_img = scene.images[1].clone();
    nan_img[7] = f32::NAN;
    let nan_view = View {
        camera: &scene.rig.cameras[1],
        image: &nan_img,
    };
    assert!(matches!(
        sweep_cpu(scene.reference(), &[nan_view], &good, r),
        Err(SweepError::Image { .. })
    ));
    if let (Some(ctx), Some(s)) = (&ctx, &sweep) {
        assert!(
            s.run(
                &ctx.device,
                &ctx.queue,
                scene.reference(),
                &[short],
                &good,
                r
            )
            .is_err()
        );
        assert!(
            s.run(&ctx.device, &ctx.queue, scene.reference(), &[], &good, r)
                .is_err()
        );
    }
    // Scene extents.
    let cam = &scene.rig.cameras[0];
    assert!(depth_range_from_z(cam, 1.2, 1.1, 0.01).is_err());
    assert!(depth_range_from_z(cam, 1.1, 1.2, -0.01).is_err());
    assert!(depth_range_from_z(cam, 0.5, 0.9, 0.01).is_err());
    assert!(depth_range_from_z(cam, f64::NAN, 1.2, 0.01).is_err());
}

#[test]
fn depth_range_covers_the_plane_over_the_view() {
    let scene = plane_scene(64, 48, 1);
    let cam = &scene.rig.cameras[0];
    let (lo, hi) = depth_range_from_z(cam, PLANE_Z, PLANE_Z, 0.02).unwrap();
    let finite: Vec<f32> = scene
        .truth
        .iter()
        .copied()
        .filter(|d| d.is_finite())
        .collect();
    let tmin = finite.iter().copied().fold(f32::INFINITY, f32::min);
    let tmax = finite.iter().copied().fold(0.0, f32::max);
    assert!(
        lo < tmin && hi > tmax,
        "({lo}, {hi}) vs truth [{tmin}, {tmax}]"
    );
    // The margin is in world Z: 0.02 m of Z is at least 0.02 m of ray depth.
    assert!(tmin - lo >= 0.0199 && hi - tmax >= 0.0199);
    assert!(hi - tmax < 0.05 && tmin - lo < 0.05);
}
