//! The wgpu backend against the CPU reference: the shader validates with naga, and on a small
//! rendered scene both backends agree on ≥ 99 % of the pixels within 0.1 mm.

mod common;

use aquamvs_camera::Rig;
use aquamvs_gpu::{GpuContext, GpuOptions};
use aquamvs_patchmatch::{GpuPatchMatch, PatchMatchSettings, patchmatch_cpu};
use aquamvs_scenes::Scene;
use aquamvs_sweep::depth_range_from_z;

#[test]
fn the_shader_validates() {
    let src = [
        aquamvs_camera::LENS_WGSL,
        aquamvs_camera::REFRACT_WGSL,
        include_str!("../src/patchmatch.wgsl"),
    ]
    .join("\n");
    let module =
        naga::front::wgsl::parse_str(&src).unwrap_or_else(|e| panic!("{}", e.emit_to_string(&src)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&src)));
}

#[test]
fn gpu_and_cpu_agree_on_a_small_scene() {
    // With CI=true a missing adapter is an error here (the test fails); elsewhere it returns
    // after `for_tests` has printed why.
    let Some(ctx) = GpuContext::for_tests(&GpuOptions::default()).unwrap() else {
        return;
    };
    // 320×240 (the "small" workload): at lower resolutions a 0.1 mm step changes the cost so
    // little that f32 round-off alone moves the polished depth by that much.
    let rig = Rig::reference(320, 240).unwrap();
    let scene = Scene::undulating();
    let (idx, images) = common::rendered(&rig, &scene, 4);
    let views = common::views(&rig, &idx, &images);
    let range = depth_range_from_z(
        &rig.cameras[0],
        scene.min_height(),
        scene.max_height(),
        0.05,
    )
    .unwrap();
    // The final smoothing is one host function that both backends' depths go through (there
    // is no second implementation to compare), and it spreads each differing pixel over its
    // neighbourhood: compare what the two backends compute, the depths before it.
    let s = PatchMatchSettings {
        smooth_radius: 0,
        ..Default::default()
    };
    let cpu = patchmatch_cpu(views[0], &views[1..], &s, range, None).unwrap();
    let gpu = GpuPatchMatch::new(&ctx.device)
        .unwrap()
        .run(
            &ctx.device,
            &ctx.queue,
            views[0],
            &views[1..],
            &s,
            range,
            None,
        )
        .unwrap();
    let (mut both, mut close) = (0, 0);
    for (a, b) in cpu.depth.iter().zip(&gpu.depth) {
        if a.is_finite() || b.is_finite() {
            both += 1;
            if (a - b).abs() <= 1e-4 {
                close += 1;
            }
        }
    }
    let pct = 100.0 * close as f64 / both as f64;
    println!("GPU and CPU within 0.1 mm on {close}/{both} pixels ({pct:.2} %)");
    assert!(both > 320 * 240 / 2, "{both} pixels with a depth");
    assert!(pct >= 99.0, "{pct:.2} %");
}
