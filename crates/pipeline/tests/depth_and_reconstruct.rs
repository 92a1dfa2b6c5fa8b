//! Depth estimation and the chained pipeline against the scenes' ground truth, and the
//! degenerate inputs that must give warnings rather than errors.

use aquamvs_camera::Rig;
use aquamvs_gpu::{GpuContext, GpuOptions};
use aquamvs_pipeline::{
    Backend, DepthOptions, KeypointOptions, Pipeline, Profiled, Progress, RangeSource,
    ReconstructOptions, STAGES, StageReport,
};
use aquamvs_profiler::Profiler;
use aquamvs_scenes::{RenderOptions, Scene, render};
use aquamvs_sweep::SweepSettings;

fn render_rig(scene: &Scene, rig: &Rig) -> Vec<Vec<f32>> {
    rig.cameras
        .iter()
        .map(|c| render(scene, c, &RenderOptions::default()))
        .collect()
}

/// Median |estimated − true| ray depth (m) over the patch pixels, and the fraction of those
/// pixels with a depth.
fn patch_depth_error(scene: &Scene, rig: &Rig, view: usize, depth: &[f32]) -> (f64, f64) {
    let cam = &rig.cameras[view];
    let truth = scene.depth_map(cam);
    let e = aquamvs_metrics::depth_errors(depth, &truth, &scene.patch_pixels(cam, &truth));
    (e.median_abs_error_mm.unwrap() * 1e-3, e.valid_pct / 100.0)
}

fn settings(depths: u32, window: u32, batch: u32) -> SweepSettings {
    SweepSettings {
        depths,
        window,
        batch,
        ..SweepSettings::default()
    }
}

fn gpu_backend(ctx: Option<&GpuContext>) -> Backend<'_> {
    match ctx {
        Some(c) => Backend::Gpu {
            device: &c.device,
            queue: &c.queue,
        },
        None => Backend::Cpu,
    }
}

#[test]
fn depth_maps_match_the_true_ray_depths_cpu_and_gpu() {
    let rig = Rig::reference(240, 180).unwrap();
    let scene = Scene::flat();
    let images = render_rig(&scene, &rig);
    let refs = [0usize, 7];
    let ranges = [(0.15f32, 0.32f32); 2];
    let opts = DepthOptions {
        sweep: settings(48, 7, 8),
        sources: 3,
        ..DepthOptions::default()
    };
    let cpu = Pipeline::new(Backend::Cpu).unwrap();
    let maps = cpu
        .depth_estimation(&rig, &images, &refs, &ranges, &opts, &mut ())
        .unwrap();
    for m in &maps {
        let (median, covered) = patch_depth_error(&scene, &rig, m.view, &m.depth);
        // Depth step 3.5 mm; a 240×180 pixel covers ~7 mm of the patch (the texture's finest octaves are below that).
        assert!(median < 0.001, "view {}: median error {median}", m.view);
        assert!(covered > 0.95, "view {}: {covered}", m.view);
    }
    // Mismatched inputs are errors.
    assert!(
        cpu.depth_estimation(&rig, &images, &refs, &ranges[..1], &opts, &mut ())
            .is_err()
    );
    let Some(ctx) = GpuContext::for_tests(&GpuOptions::default()).unwrap() else {
        return;
    };
    let gpu = Pipeline::new(gpu_backend(Some(&ctx))).unwrap();
    let maps = gpu
        .depth_estimation(&rig, &images, &refs, &ranges, &opts, &mut ())
        .unwrap();
    for m in &maps {
        let (median, covered) = patch_depth_error(&scene, &rig, m.view, &m.depth);
        assert!(
            median < 0.001 && covered > 0.95,
            "GPU view {}: {median} {covered}",
            m.view
        );
    }
}

/// Fraction of `points` within `tol` (vertically) of the flat plane, over the patch.
fn on_plane(points: &[[f64; 3]], scene: &Scene, tol: f64) -> (usize, f64) {
    let patch: Vec<&[f64; 3]> = points
        .iter()
        .filter(|p| scene.in_bounds(p[0], p[1]))
        .collect();
    let ok = patch
        .iter()
        .filter(|p| (p[2] - scene.base_z).abs() < tol)
        .count();
    (patch.len(), ok as f64 / patch.len().max(1) as f64)
}

#[test]
fn reconstruct_a_small_flat_scene_end_to_end() {
    let ctx = GpuContext::for_tests(&GpuOptions::default()).unwrap();
    let rig = Rig::reference(240, 180).unwrap();
    let scene = Scene::flat();
    let images = render_rig(&scene, &rig);
    let mut opts = ReconstructOptions {
        references: Some(vec![0, 1, 2, 3, 4, 5]),
        ..ReconstructOptions::default()
    };
    opts.sparse.keypoints = KeypointOptions {
        max_keypoints: 150,
        ..KeypointOptions::default()
    };
    // A 240×180 pixel covers ~7 mm of the patch: the height-field cells must be coarser.
    opts.surface.cell_size = 0.02;
    opts.depth = DepthOptions {
        sweep: settings(32, 7, 8),
        sources: 3,
        ..DepthOptions::default()
    };
    let pipeline = Pipeline::new(gpu_backend(ctx.as_ref())).unwrap();
    let mut lines = Vec::new();
    let r = pipeline
        .reconstruct(
            &rig,
            &images,
            &opts,
            &mut Progress(|s: &StageReport| lines.push(s.stage)),
        )
        .unwrap();
    assert_eq!(lines, STAGES);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(r.ranges.iter().all(|v| v.source == RangeSource::Sparse));
    assert_eq!(r.depth_maps.len(), 6);
    let (n, frac) = on_plane(&r.cloud.points, &scene, 0.005);
    assert!(n > 5_000, "{n} fused points on the patch");
    assert!(frac > 0.99, "{frac} of fused patch points within 5 mm");
    let (nv, frac_v) = on_plane(&r.surface.vertices, &scene, 0.002);
    // 2 cm cells: the 50 × 30 cm patch has 375.
    assert!(
        nv > 300 && frac_v > 0.99,
        "{nv} vertices, {frac_v} within 2 mm"
    );
}

#[test]
fn textureless_input_gives_warnings_and_empty_outputs_not_errors() {
    let rig = Rig::reference(48, 36).unwrap();
    let images = vec![vec![0.5f32; 48 * 36]; rig.cameras.len()];
    let mut opts = ReconstructOptions {
        references: Some(vec![0, 1, 2, 3]),
        fallback_z: Some((1.16, 1.19)),
        ..ReconstructOptions::default()
    };
    opts.depth.sweep.depths = 8;
    opts.depth.sources = 2;
    let cpu = Pipeline::new(Backend::Cpu).unwrap();
    let r = cpu.reconstruct(&rig, &images, &opts, &mut ()).unwrap();
    assert!(r.sparse.points.is_empty());
    assert!(
        r.ranges
            .iter()
            .all(|v| v.source == RangeSource::SceneExtent)
    );
    assert!(r.cloud.points.is_empty() && r.surface.faces.is_empty());
    let all = r.warnings.join("\n");
    assert!(all.contains("too few for a depth range"), "{all}");
    assert!(all.contains("no valid depth"), "{all}");
    assert!(all.contains("fused cloud is empty"), "{all}");
    // Without a scene extent the search interval is swept instead.
    opts.fallback_z = None;
    let r = cpu.reconstruct(&rig, &images, &opts, &mut ()).unwrap();
    assert!(
        r.ranges
            .iter()
            .all(|v| v.source == RangeSource::SearchInterval)
    );
}

/// The profiler only observes: the same run with and without it attached gives bit-identical
/// outputs, and the profile has every stage and view as a scope (GPU stages on the GPU).
#[test]
fn attaching_the_profiler_changes_no_output() {
    let ctx = GpuContext::for_tests(&GpuOptions::default()).unwrap();
    let mut rig = Rig::reference(160, 120).unwrap();
    let keep: Vec<usize> = vec![0, 1, 11, rig.index_of("center").unwrap()];
    rig.cameras = keep.iter().map(|&i| rig.cameras[i].clone()).collect();
    let scene = Scene::undulating();
    let images = render_rig(&scene, &rig);
    let mut opts = ReconstructOptions {
        fallback_z: Some((scene.min_height(), scene.max_height())),
        ..ReconstructOptions::default()
    };
    opts.depth.sweep = settings(16, 7, 8);
    opts.sparse.keypoints.max_keypoints = 200;
    opts.surface.cell_size = 0.02;
    let pipeline = Pipeline::new(gpu_backend(ctx.as_ref())).unwrap();
    let bare = pipeline.reconstruct(&rig, &images, &opts, &mut ()).unwrap();
    let mut prof = match &ctx {
        Some(c) => Profiler::for_context(c),
        None => Profiler::cpu_only(),
    };
    let profiled = pipeline
        .reconstruct(&rig, &images, &opts, &mut Profiled::new(&mut prof))
        .unwrap();
    let report = prof.finish();
    let bits = |p: &[[f64; 3]]| -> Vec<u64> { p.iter().flatten().map(|c| c.to_bits()).collect() };
    assert!(!bare.cloud.points.is_empty());
    assert_eq!(bits(&bare.cloud.points), bits(&profiled.cloud.points));
    assert_eq!(
        bits(&bare.surface.vertices),
        bits(&profiled.surface.vertices)
    );
    for (a, b) in bare.depth_maps.iter().zip(&profiled.depth_maps) {
        let d = |m: &[f32]| -> Vec<u32> { m.iter().map(|v| v.to_bits()).collect() };
        assert_eq!(d(&a.depth), d(&b.depth));
    }
    // The fitting for this 4-camera rig is said, not silent.
    assert!(
        bare.warnings
            .iter()
            .any(|w| w.contains("fusion agreeing views")),
        "{:?}",
        bare.warnings
    );
    for stage in STAGES {
        let s = report.stage(stage).unwrap_or_else(|| panic!("{stage}"));
        assert_eq!(s.status, "ok", "{stage}");
    }
    for name in ["cam00", "cam01", "cam11"] {
        assert!(report.stage(&format!("depth_estimation/{name}")).is_some());
    }
    assert!(report.stage("depth_estimation/center").is_none());
}
