//! Depth estimation and the chained pipeline against the scenes' ground truth, and the
//! degenerate inputs that must give warnings rather than errors.

use aquamvs_camera::Rig;
use aquamvs_gpu::{GpuContext, GpuOptions};
use aquamvs_pipeline::{
    Backend, DepthOptions, KeypointOptions, RangeSource, ReconstructOptions, SweepBackend,
    depth_estimation, reconstruct,
};
use aquamvs_scenes::{RenderOptions, Scene, render};
use aquamvs_sweep::GpuSweep;

fn render_rig(scene: &Scene, rig: &Rig) -> Vec<Vec<f32>> {
    rig.cameras
        .iter()
        .map(|c| render(scene, c, &RenderOptions::default()))
        .collect()
}

/// Median |estimated − true| ray depth over pixels whose true surface point is on the patch,
/// and the fraction of those pixels with a depth.
fn patch_depth_error(scene: &Scene, rig: &Rig, view: usize, depth: &[f32]) -> (f64, f64) {
    let cam = &rig.cameras[view];
    let truth = scene.depth_map(cam);
    let mut err = Vec::new();
    let mut total = 0;
    for (i, (&d, &t)) in depth.iter().zip(&truth).enumerate() {
        let (u, v) = ((i as u32 % cam.width) as f64, (i as u32 / cam.width) as f64);
        let Some(ray) = cam.cast_ray(u, v) else {
            continue;
        };
        let p = ray.at(f64::from(t));
        if !t.is_finite() || !scene.in_bounds(p.x, p.y) {
            continue;
        }
        total += 1;
        if d.is_finite() {
            err.push(f64::from((d - t).abs()));
        }
    }
    err.sort_by(f64::total_cmp);
    (err[err.len() / 2], err.len() as f64 / total as f64)
}

#[test]
fn depth_maps_match_the_true_ray_depths_cpu_and_gpu() {
    let rig = Rig::reference(240, 180).unwrap();
    let scene = Scene::flat();
    let images = render_rig(&scene, &rig);
    let refs = [0usize, 7];
    let ranges = [(0.15f32, 0.32f32); 2];
    let opts = DepthOptions {
        depths: 48,
        window: 7,
        batch: 8,
        sources: 3,
    };
    let cpu = depth_estimation(&rig, &images, &refs, &ranges, &opts, SweepBackend::Cpu).unwrap();
    for m in &cpu {
        let (median, covered) = patch_depth_error(&scene, &rig, m.view, &m.depth);
        // Depth step 3.5 mm; a 240×180 pixel covers ~7 mm of the patch (the texture's finest octaves are below that).
        assert!(median < 0.001, "view {}: median error {median}", m.view);
        assert!(covered > 0.95, "view {}: {covered}", m.view);
    }
    let Some(ctx) = GpuContext::for_tests(&GpuOptions::default()).unwrap() else {
        return;
    };
    let sweep = GpuSweep::new(&ctx.device).unwrap();
    let backend = SweepBackend::Gpu {
        device: &ctx.device,
        queue: &ctx.queue,
        sweep: &sweep,
    };
    let gpu = depth_estimation(&rig, &images, &refs, &ranges, &opts, backend).unwrap();
    for m in &gpu {
        let (median, covered) = patch_depth_error(&scene, &rig, m.view, &m.depth);
        assert!(
            median < 0.001 && covered > 0.95,
            "GPU view {}: {median} {covered}",
            m.view
        );
    }
    // Mismatched inputs are errors.
    assert!(
        depth_estimation(&rig, &images, &refs, &ranges[..1], &opts, SweepBackend::Cpu).is_err()
    );
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
        depths: 32,
        window: 7,
        batch: 8,
        sources: 3,
    };
    let backend = match &ctx {
        Some(c) => Backend::Gpu {
            device: &c.device,
            queue: &c.queue,
        },
        None => Backend::Cpu,
    };
    let mut lines = Vec::new();
    let r = reconstruct(&rig, &images, &opts, backend, &mut |s| lines.push(s.stage)).unwrap();
    assert_eq!(
        lines,
        [
            "undistortion",
            "sparse_matching",
            "depth_estimation",
            "fusion",
            "surface_reconstruction"
        ]
    );
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
    opts.depth.depths = 8;
    opts.depth.sources = 2;
    let r = reconstruct(&rig, &images, &opts, Backend::Cpu, &mut |_| {}).unwrap();
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
    let r = reconstruct(&rig, &images, &opts, Backend::Cpu, &mut |_| {}).unwrap();
    assert!(
        r.ranges
            .iter()
            .all(|v| v.source == RangeSource::SearchInterval)
    );
}
