//! The warm projection PatchMatch uses for a window's corners (`crossing_from`, the shader's
//! `WARM_STEPS` Newton steps from the centre's ratio) against the cold 4-step WGSL projection
//! and the exact f64 CPU `Camera::project`, for points millimetres apart under the water, in
//! every reference camera.

use aquamvs_camera::{Camera, Distortion, LENS_WGSL, REFRACT_WGSL, Rig};
use aquamvs_gpu::{
    GpuContext, GpuOptions, empty_buffer, read_back, staging_buffer, storage_buffer,
};
use aquamvs_sweep::SrcCamU;
use nalgebra::{Point3, Vector3};

const KERNEL: &str = r"
@group(0) @binding(0) var<storage, read> cams: array<SrcCam>;
@group(0) @binding(1) var<storage, read> pts: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let pairs = arrayLength(&pts) / 2u;
    let i = gid.x;
    if (i >= pairs * arrayLength(&cams)) {
        return;
    }
    let cam = cams[i / pairs];
    let centre = pts[2u * (i % pairs)].xyz;
    let nb = pts[2u * (i % pairs) + 1u].xyz;
    let c = crossing(cam, nb);
    let cold = to_pixel(cam, c.xyz);
    let ratio = crossing_from(cam, centre, -1.0, NEWTON_STEPS).ratio;
    let w = crossing_from(cam, nb, ratio, WARM_STEPS);
    let warm = to_pixel(cam, w.pc);
    out[2u * i] = vec4<f32>(cold.xy, c.w * cold.z, 0.0);
    out[2u * i + 1u] = vec4<f32>(warm.xy, w.ok * warm.z, 0.0);
}
";

/// The recorded pixel of `p` in `cam` (f64), if it lies on the image.
fn exact(cam: &Camera<f64>, p: &Point3<f64>) -> Option<(f64, f64)> {
    let pr = cam.project(p)?;
    let (u, v) = cam.distort_pixel(pr.pixel.x, pr.pixel.y);
    cam.contains(u, v).then_some((u, v))
}

fn max_median(mut e: Vec<f64>) -> (f64, f64) {
    e.sort_by(f64::total_cmp);
    (*e.last().unwrap(), e[e.len() / 2])
}

#[test]
fn warm_corner_projection_matches_cold_and_exact() {
    let Some(ctx) = GpuContext::for_tests(&GpuOptions::default()).unwrap() else {
        return;
    };
    let (device, queue) = (&ctx.device, &ctx.queue);
    let rig = Rig::reference(640, 480).unwrap();
    let mut cams = rig.cameras.clone();
    let lens = Distortion::from_opencv(&[-0.25, 0.05, 0.002, -0.001], false).unwrap();
    let mut distorted = rig.cameras[3].with_distortion(Some(lens)).unwrap();
    distorted.name = "cam03-distorted".into();
    cams.push(distorted);

    // Centres on the benchmark patch ([-0.25, 0.25] × [-0.15, 0.15] m, Z in 1.15..1.25 m);
    // neighbours 1, 3 and 10 mm away along the axes and diagonals (window corners). A
    // neighbour's w is its class: offset size, + 3 when it moves in Z.
    let dirs = [
        Vector3::x(),
        -Vector3::x(),
        Vector3::y(),
        -Vector3::y(),
        Vector3::z(),
        -Vector3::z(),
        Vector3::new(1.0, 1.0, 1.0).normalize(),
        Vector3::new(-1.0, 1.0, -1.0).normalize(),
    ];
    let mut pts: Vec<[f32; 4]> = Vec::new();
    for j in 0..9 {
        for i in 0..13 {
            let z = 1.15 + 0.01 * f64::from((i * 7 + j * 5) % 11);
            let c = Point3::new(
                -0.25 + 0.5 * f64::from(i) / 12.0,
                -0.15 + 0.3 * f64::from(j) / 8.0,
                z,
            );
            for d in dirs {
                for (m, s) in [1e-3, 3e-3, 1e-2].into_iter().enumerate() {
                    let n = c + d * s;
                    let class = m + 3 * usize::from(d.z != 0.0);
                    pts.push([c.x as f32, c.y as f32, c.z as f32, 0.0]);
                    pts.push([n.x as f32, n.y as f32, n.z as f32, class as f32]);
                }
            }
        }
    }
    let pairs = pts.len() / 2;
    let n = pairs * cams.len();

    // The step count as `patchmatch.wgsl` declares it.
    let pm = include_str!("../src/patchmatch.wgsl");
    let warm = pm
        .lines()
        .find(|l| l.starts_with("const WARM_STEPS"))
        .expect("patchmatch.wgsl declares WARM_STEPS");
    let src = [LENS_WGSL, REFRACT_WGSL, warm, KERNEL].join("\n");
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("projection test"),
        source: wgpu::ShaderSource::Wgsl(src.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("projection test"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let cam_u: Vec<SrcCamU> = cams.iter().map(|c| SrcCamU::new(c, 0)).collect();
    let cams_b = storage_buffer(device, "cams", &cam_u);
    let pts_b = storage_buffer(device, "points", &pts);
    let bytes = (32 * n) as u64;
    let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
    let out_b = empty_buffer(device, "pixels", bytes, usage);
    let out_s = staging_buffer(device, "pixels read-back", bytes);
    let entries: Vec<_> = [&cams_b, &pts_b, &out_b]
        .iter()
        .enumerate()
        .map(|(k, b)| wgpu::BindGroupEntry {
            binding: k as u32,
            resource: b.as_entire_binding(),
        })
        .collect();
    let group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("projection test"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    let mut enc = device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &group, &[]);
        pass.dispatch_workgroups((n as u32).div_ceil(64), 1, 1);
    }
    enc.copy_buffer_to_buffer(&out_b, 0, &out_s, 0, bytes);
    queue.submit([enc.finish()]);
    let out: Vec<[f32; 4]> = read_back(device, &out_s, 2 * n).unwrap();

    // Per class: |warm − cold|, |warm − exact|, |cold − exact|.
    let mut errs = vec![[const { Vec::new() }; 3]; 6];
    for (c, cam) in cams.iter().enumerate() {
        for k in 0..pairs {
            let f64pt = |p: [f32; 4]| Point3::new(p[0], p[1], p[2]).cast::<f64>();
            let (centre, nb) = (f64pt(pts[2 * k]), f64pt(pts[2 * k + 1]));
            let (Some(_), Some(e)) = (exact(cam, &centre), exact(cam, &nb)) else {
                continue;
            };
            let (cold, warm) = (out[2 * (c * pairs + k)], out[2 * (c * pairs + k) + 1]);
            assert!(cold[2] == 1.0 && warm[2] == 1.0, "{} {k}: not ok", cam.name);
            let px = |a: [f32; 4]| (f64::from(a[0]), f64::from(a[1]));
            let dist = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).hypot(a.1 - b.1);
            let e3 = &mut errs[pts[2 * k + 1][3] as usize];
            e3[0].push(dist(px(warm), px(cold)));
            e3[1].push(dist(px(warm), e));
            e3[2].push(dist(px(cold), e));
        }
    }
    println!("px, max / median: warm-cold, warm-exact, cold-exact");
    let mut all = [const { Vec::new() }; 3];
    for (class, e3) in errs.into_iter().enumerate() {
        let size = [1, 3, 10][class % 3];
        let axis = if class < 3 { "xy" } else { "z " };
        let row: Vec<String> = e3
            .iter()
            .map(|e| max_median(e.clone()))
            .map(|(m, d)| format!("{m:.1e} / {d:.1e}"))
            .collect();
        println!(
            "{size:>2} mm {axis} ({:>5}): {}",
            e3[0].len(),
            row.join(", ")
        );
        for (a, e) in all.iter_mut().zip(e3) {
            a.extend(e);
        }
    }
    let measured = all[0].len();
    let [(wc, _), (we, _), ..] = all.map(max_median);
    println!("{measured} of {n} (camera, pair) projections on the images");
    assert!(measured > n / 2, "only {measured} of {n} on the images");
    assert!(wc <= 2e-4, "warm vs cold: {wc:.2e} px");
    assert!(we <= 2e-4, "warm vs exact: {we:.2e} px");
}
