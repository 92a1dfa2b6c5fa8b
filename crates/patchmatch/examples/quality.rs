//! Developer tool: PatchMatch (CPU reference) on cam00 of the reference rig for the built-in
//! scenes, with its median depth and normal errors against ground truth.
//! `cargo run --release -p aquamvs-patchmatch --example quality -- WIDTH ITERATIONS [truth]`;
//! ITERATIONS 0 prints the cost around the true plane at a few pixels instead. Settings from
//! `PM_WIN`, `PM_STRIDE`, `PM_SIGMA`, `PM_SPACE`, `PM_TOPK`, `PM_SOURCES`, `PM_MAXCOST`;
//! `PM_SCENE` picks one scene; `PM_GPU=1` runs the wgpu backend.
use aquamvs_camera::Rig;
use aquamvs_patchmatch::{PatchMatchSettings, patchmatch_cpu};
use aquamvs_scenes::{RenderOptions, Scene, render};
use aquamvs_sweep::{View, depth_range_from_z};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let w: u32 = args.get(1).map_or(320, |s| s.parse().unwrap());
    let h = w * 3 / 4;
    let iters: u32 = args.get(2).map_or(6, |s| s.parse().unwrap());
    let use_truth = args.get(3).is_some();
    let rig = Rig::reference(w, h).unwrap();
    let only = std::env::var("PM_SCENE").ok();
    for scene in [Scene::flat(), Scene::undulating(), Scene::slope()] {
        if only.as_deref().is_some_and(|o| o != scene.kind.name()) {
            continue;
        }
        let n_src = std::env::var("PM_SOURCES")
            .ok()
            .map_or(4, |v| v.parse().unwrap());
        let idx: Vec<usize> = std::iter::once(0).chain(rig.sources(0, n_src)).collect();
        let imgs: Vec<Vec<f32>> = idx
            .iter()
            .map(|&i| render(&scene, &rig.cameras[i], &RenderOptions::default()))
            .collect();
        let views: Vec<View> = idx
            .iter()
            .zip(&imgs)
            .map(|(&i, im)| View {
                camera: &rig.cameras[i],
                image: im,
            })
            .collect();
        let range = depth_range_from_z(
            &rig.cameras[0],
            scene.min_height(),
            scene.max_height(),
            0.05,
        )
        .unwrap();
        let env = |k: &str, d: f64| std::env::var(k).ok().map_or(d, |v| v.parse().unwrap());
        let s = PatchMatchSettings {
            iterations: iters,
            sigma_color: env("PM_SIGMA", 0.1) as f32,
            sigma_space: env("PM_SPACE", 1e6) as f32,
            stride: env("PM_STRIDE", 2.0) as u32,
            top_k: env("PM_TOPK", 2.0) as u32,
            window: env("PM_WIN", 11.0) as u32,
            ..Default::default()
        };
        if iters == 0 {
            let truth = scene.depth_map(&rig.cameras[0]);
            let patch = scene.patch_pixels(&rig.cameras[0], &truth);
            for &i in patch.iter().step_by(patch.len() / 6) {
                let (x, y) = (i % w as usize, i / w as usize);
                let ray = aquamvs_sweep::pixel_ray(&rig.cameras[0], x, y).unwrap();
                let p = ray.at(truth[i] as f64);
                let n = scene.normal(p.x, p.y);
                let c: Vec<String> = [-3.0, -1.0, -0.3, 0.0, 0.3, 1.0, 3.0]
                    .iter()
                    .map(|dd| {
                        format!(
                            "{:.4}",
                            aquamvs_patchmatch::debug_cost(
                                views[0],
                                &views[1..],
                                &s,
                                range,
                                (x, y),
                                truth[i] as f64 + dd * 1e-3,
                                n
                            )
                        )
                    })
                    .collect();
                let h = aquamvs_patchmatch::debug_cost(
                    views[0],
                    &views[1..],
                    &s,
                    range,
                    (x, y),
                    truth[i] as f64,
                    nalgebra::Vector3::new(0.0, 0.0, -1.0),
                );
                println!(
                    "  {} ({x},{y}) costs at -3,-1,-0.3,0,0.3,1,3 mm: {}  horizontal {h:.4}",
                    scene.kind,
                    c.join(" ")
                );
            }
            continue;
        }
        let t = std::time::Instant::now();
        let truth = scene.depth_map(&rig.cameras[0]);
        let out = patchmatch_cpu(
            views[0],
            &views[1..],
            &s,
            range,
            use_truth.then_some(&truth[..]),
        )
        .unwrap();
        let patch = scene.patch_pixels(&rig.cameras[0], &truth);
        let e = aquamvs_metrics::depth_errors(&out.depth, &truth, &patch);
        // normal error
        let mut angs = Vec::new();
        for &i in &patch {
            if !out.depth[i].is_finite() {
                continue;
            }
            let ray =
                aquamvs_sweep::pixel_ray(&rig.cameras[0], i % w as usize, i / w as usize).unwrap();
            let p = ray.at(truth[i] as f64);
            let n = scene.normal(p.x, p.y);
            let m = nalgebra::Vector3::new(
                out.normal[3 * i] as f64,
                out.normal[3 * i + 1] as f64,
                out.normal[3 * i + 2] as f64,
            );
            angs.push(n.dot(&m).clamp(-1.0, 1.0).acos().to_degrees());
        }
        angs.sort_by(f64::total_cmp);
        println!(
            "{} {}x{} iters {}: median {:?} mm, valid {:.1} %, within1 {:.1}, normal median {:.2} deg, {:.1} s",
            scene.kind,
            w,
            h,
            iters,
            e.median_abs_error_mm,
            e.valid_pct,
            e.within_1_mm_pct,
            angs.get(angs.len() / 2).copied().unwrap_or(f64::NAN),
            t.elapsed().as_secs_f64()
        );
    }
}
