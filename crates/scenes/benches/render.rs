//! Rendering and ground-truth speed (`cargo bench -p aquamvs-scenes`): the plan's profile
//! workload (4 reference cameras at 1920×1080) and one camera at 640×480, image and depth
//! map together ([`render_with_depth`]) at several anti-aliasing caps. Prints wall time and
//! the process CPU time (on a shared machine the CPU time is the steadier figure).

use std::time::Instant;

use aquamvs_camera::Rig;
use aquamvs_scenes::{RenderOptions, Scene, render_with_depth};

/// User + system CPU seconds of this process so far (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line (11 and 12 after the name).
    (tick(11) + tick(12)) / 100.0
}

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
                let (t0, c0) = (Instant::now(), cpu_seconds());
                let mut checksum = 0.0f64;
                for cam in rig.cameras.iter().take(n) {
                    let (img, depth) = render_with_depth(&scene, cam, &opts);
                    checksum += img.iter().map(|&v| v as f64).sum::<f64>();
                    checksum += depth.iter().filter(|d| d.is_nan()).count() as f64;
                }
                println!(
                    "render+depth {:>10} {n} camera(s) {w}x{h} supersample <= {ss}: wall {:.2} s, \
                     cpu {:.2} s ({threads} threads, mean grey {:.3})",
                    scene.kind.name(),
                    t0.elapsed().as_secs_f64(),
                    cpu_seconds() - c0,
                    checksum / (n as f64 * w as f64 * h as f64)
                );
            }
        }
    }
}
