//! `bench`'s depth methods side by side: the plane sweep at windows 3, 5, 7 and 11 (the
//! frontier no one window escapes) and PatchMatch at its defaults, on the reference view cam00
//! of every built-in scene at 640×480 with its 4 default sources, rendered without and with
//! sensor noise; each depth map scored against the analytic ground truth (PatchMatch's normals
//! too), each timed on the same backend in the same run: the median of [`TIMED_RUNS`] runs,
//! after one untimed warm-up run of each method (the first dispatch of a shader compiles it:
//! about 11 s for PatchMatch's on llvmpipe with a cold Mesa shader cache, 0.3 s for the
//! sweep's).

use std::time::Instant;

use anyhow::Context;
use aquamvs_camera::{Camera, Rig};
use aquamvs_pipeline::{DepthMethod, DepthOptions, Pipeline, SweepEngine};
use aquamvs_results::DepthMethodRow;
use aquamvs_scenes::{RenderOptions, Scene};
use aquamvs_sweep::{SweepSettings, depth_range_from_z};

/// The sweep windows of the frontier.
pub const SWEEP_WINDOWS: [u32; 4] = [3, 5, 7, 11];
/// Sensor noise of the two renders, grey levels.
pub const NOISE: [f64; 2] = [0.0, 0.02];
/// Margin of the depth range around the scene's Z extent, metres (`sweep`'s default).
const MARGIN: f64 = 0.02;
/// Timed runs of each method on each input; the row has their median.
pub const TIMED_RUNS: usize = 3;
/// Sources of the reference view (the pipeline's default).
const SOURCES: usize = 4;

/// The analytic unit normals (`H×W×3`, NaN off `patch`) at each patch pixel's true surface
/// point (`truth`: its ground-truth ray depths).
pub fn true_normals(scene: &Scene, cam: &Camera<f64>, truth: &[f32], patch: &[usize]) -> Vec<f32> {
    let w = cam.width as usize;
    let mut out = vec![f32::NAN; 3 * truth.len()];
    for &i in patch {
        if let Some(ray) = aquamvs_sweep::pixel_ray(cam, i % w, i / w) {
            let p = ray.at(f64::from(truth[i]));
            let n = scene.normal(p.x, p.y);
            for k in 0..3 {
                out[3 * i + k] = n[k] as f32;
            }
        }
    }
    out
}

/// The rows: every scene × noise × (sweep windows, PatchMatch).
pub fn rows(
    pipeline: &Pipeline,
    backend: &str,
    (width, height): (u32, u32),
    sweep: SweepSettings,
    seed: u64,
) -> anyhow::Result<Vec<DepthMethodRow>> {
    let full = Rig::reference(width, height)?;
    let reference = 0;
    // The reference view and its sources only (the pipeline ranks the same 4 first).
    let idx: Vec<usize> = std::iter::once(reference)
        .chain(full.sources(reference, SOURCES))
        .collect();
    let rig = Rig {
        interface: full.interface,
        cameras: idx.iter().map(|&i| full.cameras[i].clone()).collect(),
    };
    let cam = &rig.cameras[0];
    let mut rows = Vec::new();
    let mut warmed = std::collections::HashSet::new();
    for scene in [Scene::flat(), Scene::undulating(), Scene::slope()] {
        let truth = scene.depth_map(cam);
        let patch = scene.patch_pixels(cam, &truth);
        let normals = true_normals(&scene, cam, &truth, &patch);
        let range = depth_range_from_z(cam, scene.min_height(), scene.max_height(), MARGIN)?;
        for noise in NOISE {
            let t = Instant::now();
            let images: Vec<Vec<f32>> = idx
                .iter()
                .zip(&rig.cameras)
                .map(|(&i, c)| {
                    let opts = RenderOptions {
                        noise_sigma: noise,
                        seed: seed + i as u64,
                        ..RenderOptions::default()
                    };
                    aquamvs_scenes::render(&scene, c, &opts)
                })
                .collect();
            eprintln!(
                "  {} (noise {noise}): rendered {} views in {:.1} s",
                scene.kind.name(),
                images.len(),
                t.elapsed().as_secs_f64()
            );
            let methods = SWEEP_WINDOWS
                .iter()
                .map(|&window| {
                    let sweep = SweepSettings { window, ..sweep };
                    ("sweep", window, sweep, DepthMethod::Sweep)
                })
                .chain(std::iter::once({
                    let pm = aquamvs_patchmatch::PatchMatchSettings::default();
                    ("patchmatch", pm.window, sweep, DepthMethod::PatchMatch(pm))
                }));
            for (name, window, sweep, method) in methods {
                // Both methods on the same adapter (the backend's shaders), side by side.
                let opts = DepthOptions {
                    sweep,
                    sources: SOURCES,
                    method,
                    engine: SweepEngine::Backend,
                };
                if warmed.insert(name) {
                    pipeline.depth_map(&rig, &images, 0, range, &opts)?;
                }
                // The median of TIMED_RUNS (the maps are the same: both methods are
                // deterministic).
                let mut times = Vec::with_capacity(TIMED_RUNS);
                let mut map = None;
                for _ in 0..TIMED_RUNS {
                    let t = Instant::now();
                    map = Some(pipeline.depth_map(&rig, &images, 0, range, &opts)?);
                    times.push(t.elapsed().as_secs_f64());
                }
                let map = map.context("no timed run")?;
                times.sort_by(f64::total_cmp);
                let runtime_s = times[times.len() / 2];
                let e = aquamvs_metrics::depth_errors(&map.depth, &truth, &patch);
                let what = format!("{name} w{window} on {} (noise {noise})", scene.kind.name());
                let median = e
                    .median_abs_error_mm
                    .with_context(|| format!("{what}: no patch pixel has a depth"))?;
                let normal = map
                    .normal
                    .as_ref()
                    .and_then(|n| aquamvs_metrics::normal_errors(n, &normals, &patch).median_deg);
                eprintln!(
                    "    {name:<10} w{window:<2}: median {median:.3} mm, valid {:.1} %{}, {runtime_s:.1} s",
                    e.valid_pct,
                    normal.map_or(String::new(), |d| format!(", normals {d:.1}°")),
                );
                rows.push(DepthMethodRow {
                    scene: scene.kind.name().into(),
                    noise,
                    method: name.into(),
                    window,
                    width,
                    height,
                    reference: cam.name.clone(),
                    sources: SOURCES as u32,
                    median_error_mm: median,
                    valid_pct: e.valid_pct,
                    within_1_mm_pct: e.within_1_mm_pct,
                    normal_median_deg: normal,
                    runtime_s,
                    timed_runs: TIMED_RUNS as u32,
                    backend: backend.into(),
                });
            }
        }
    }
    Ok(rows)
}
