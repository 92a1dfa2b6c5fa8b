//! Rendering and ground-truth speed (`cargo bench -p aquamvs-scenes`): wall time for the
//! plan's profile workload (4 reference cameras at 1920×1080) and for one camera at 640×480.

use std::time::Instant;

use aquamvs_camera::Rig;
use aquamvs_scenes::{RenderOptions, Scene, render};

fn main() {
    let threads = rayon::current_num_threads();
    for (w, h, n) in [(640u32, 480u32, 1usize), (1920, 1080, 4)] {
        let rig = Rig::reference(w, h).expect("reference rig");
        for scene in [Scene::flat(), Scene::undulating()] {
            for ss in [1u32, 2, 3] {
                let opts = RenderOptions {
                    supersample: ss,
                    ..RenderOptions::default()
                };
                let t0 = Instant::now();
                let mut checksum = 0.0f64;
                for cam in rig.cameras.iter().take(n) {
                    let img = render(&scene, cam, &opts);
                    checksum += img.iter().map(|&v| v as f64).sum::<f64>();
                }
                let render_s = t0.elapsed().as_secs_f64();
                println!(
                    "render {:>10} {n} camera(s) {w}x{h} supersample {ss}x{ss}: {render_s:.2} s \
                     ({threads} threads, mean grey {:.3})",
                    scene.kind.name(),
                    checksum / (n as f64 * w as f64 * h as f64)
                );
            }
            let t0 = Instant::now();
            let mut valid = 0usize;
            for cam in rig.cameras.iter().take(n) {
                valid += scene
                    .depth_map(cam)
                    .iter()
                    .filter(|d| d.is_finite())
                    .count();
            }
            println!(
                "depth  {:>10} {n} camera(s) {w}x{h}: {:.2} s ({valid} valid pixels)",
                scene.kind.name(),
                t0.elapsed().as_secs_f64()
            );
        }
    }
}
