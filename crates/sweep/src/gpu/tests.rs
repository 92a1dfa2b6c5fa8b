//! The GPU unit tests (shader projections, selection over a given cost volume) and the checks
//! that the shaders and their Rust mirrors agree: struct layouts, shared constants, and naga
//! validation of the sources exactly as compiled.

use aquamvs_camera::Rig;

use super::GpuSweep;
use super::abi::{BatchU, Field, PAD_LEFT, ParamsU, SEG, STATE_BYTES, STRIP, Scalar, SrcCamU};
use super::pipelines::{COST_WGSL, WARP_WGSL, ncc_source};
use super::testing::TestKernels;
use crate::SweepSettings;
use crate::select::{CostVolume, select_from_costs_cpu};

const PRELUDE: &str = include_str!("params.wgsl");

/// The GPU, or `None` (a skipped test) where there is none outside CI.
fn gpu() -> Option<aquamvs_gpu::GpuContext> {
    aquamvs_gpu::GpuContext::for_tests(&Default::default())
        .expect("no GPU adapter (CI=true: GPU tests must not be skipped)")
}

fn parse(what: &str, src: &str) -> naga::Module {
    naga::front::wgsl::parse_str(src)
        .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(src)))
}

fn validate(what: &str, src: &str) {
    let module = parse(what, src);
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::all(),
    )
    .validate(&module)
    .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(src)));
}

/// The fields of WGSL struct `name` as [`Field`]s, and its size.
fn wgsl_struct(module: &naga::Module, name: &str) -> (Vec<Field>, usize) {
    let ty = module
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no struct {name} in the WGSL"))
        .1;
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("{name} is not a struct");
    };
    let scalar_of = |inner: &naga::TypeInner| {
        let s = match inner {
            naga::TypeInner::Scalar(s) | naga::TypeInner::Vector { scalar: s, .. } => *s,
            naga::TypeInner::Array { base, .. } => match module.types[*base].inner {
                naga::TypeInner::Scalar(s) | naga::TypeInner::Vector { scalar: s, .. } => s,
                ref other => panic!("{name}: array of {other:?}"),
            },
            other => panic!("{name}: field of type {other:?}"),
        };
        match (s.kind, s.width) {
            (naga::ScalarKind::Uint, 4) => Scalar::U32,
            (naga::ScalarKind::Float, 4) => Scalar::F32,
            other => panic!("{name}: scalar {other:?} has no Rust mirror here"),
        }
    };
    let fields = members
        .iter()
        .map(|m| {
            let inner = &module.types[m.ty].inner;
            Field {
                name: Box::leak(m.name.clone().unwrap_or_default().into_boxed_str()),
                offset: m.offset as usize,
                size: inner.size(module.to_ctx()) as usize,
                scalar: scalar_of(inner),
            }
        })
        .collect();
    (fields, *span as usize)
}

/// The value of the WGSL constant `name`.
fn wgsl_const(module: &naga::Module, name: &str) -> naga::Literal {
    let c = module
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no constant {name} in the WGSL"))
        .1;
    match module.global_expressions[c.init] {
        naga::Expression::Literal(l) => l,
        ref e => panic!("{name} = {e:?} is not a literal"),
    }
}

/// Compares a Rust mirror with its WGSL struct: the same fields in the same order, at the same
/// offsets, with the same sizes and scalar types, and the same total size.
fn compare(
    module: &naga::Module,
    wgsl_name: &str,
    rust: &[Field],
    rust_size: usize,
) -> Result<(), String> {
    let (wgsl, span) = wgsl_struct(module, wgsl_name);
    let n = rust.len().max(wgsl.len());
    if let Some(i) = (0..n).find(|&i| rust.get(i) != wgsl.get(i)) {
        return Err(format!(
            "field {i} of WGSL struct {wgsl_name} differs from its Rust mirror: Rust {:?}, WGSL \
             {:?}",
            rust.get(i),
            wgsl.get(i)
        ));
    }
    if rust_size != span {
        return Err(format!(
            "{wgsl_name} takes {rust_size} bytes in Rust, {span} in WGSL"
        ));
    }
    Ok(())
}

#[test]
fn shader_structs_match_their_rust_mirrors() {
    let prelude = parse("params.wgsl", PRELUDE);
    let params = (ParamsU::FIELDS, size_of::<ParamsU>());
    compare(&prelude, ParamsU::WGSL_NAME, params.0, params.1).unwrap();
    let batch = (BatchU::FIELDS, size_of::<BatchU>());
    compare(&prelude, BatchU::WGSL_NAME, batch.0, batch.1).unwrap();
    let warp = parse("warp.wgsl", &WARP_WGSL);
    let cam = (SrcCamU::FIELDS, size_of::<SrcCamU>());
    compare(&warp, SrcCamU::WGSL_NAME, cam.0, cam.1).unwrap();
    let (_, state) = wgsl_struct(&parse("cost.wgsl", COST_WGSL), "WtaState");
    assert_eq!(state as u64, STATE_BYTES);
}

/// The comparison catches a divergence: a scalar type changed, a field renamed, one dropped,
/// two swapped.
#[test]
fn diverging_structs_are_caught() {
    for (from, to) in [
        ("    lo: f32, ", "    lo: u32, "),
        ("    width: u32, ", "    wide: u32, "),
        ("    _pad2: u32,\n", ""),
        (
            "    lo: f32,          // ray depth of hypothesis 0, metres\n    step: f32, ",
            "    step: f32,\n    lo: f32, ",
        ),
    ] {
        assert!(PRELUDE.contains(from), "{from:?}");
        let changed = parse("changed params.wgsl", &PRELUDE.replace(from, to));
        let result = compare(&changed, "Params", ParamsU::FIELDS, size_of::<ParamsU>());
        assert!(result.is_err(), "{from:?} -> {to:?} was not caught");
    }
}

#[test]
fn shared_constants_match() {
    use naga::Literal::{F32, U32};
    let prelude = parse("params.wgsl", PRELUDE);
    assert_eq!(wgsl_const(&prelude, "PAD_LEFT"), U32(PAD_LEFT));
    let ncc = parse("ncc.wgsl", &ncc_source(11).unwrap());
    assert_eq!(wgsl_const(&ncc, "K"), U32(STRIP));
    assert_eq!(wgsl_const(&ncc, "SEG"), U32(SEG));
    assert_eq!(
        wgsl_const(&ncc, "MAX_TAPS"),
        U32(STRIP + SweepSettings::MAX_WINDOW - 1)
    );
    let warp = parse("warp.wgsl", &WARP_WGSL);
    assert_eq!(wgsl_const(&warp, "INVALID"), F32(crate::INVALID));
}

/// The shaders as compiled (prelude joined; the NCC shader unrolled for every window size)
/// validate with naga.
#[test]
fn compiled_shaders_validate() {
    validate("warp.wgsl", &WARP_WGSL);
    validate("cost.wgsl", COST_WGSL);
    for window in (3..=SweepSettings::MAX_WINDOW).step_by(2) {
        let src = ncc_source(window).unwrap();
        assert!(
            !src.contains("{ // unroll"),
            "window {window}: a loop was left rolled"
        );
        validate(&format!("ncc.wgsl, window {window}"), &src);
    }
}

/// The shader's refractive projection (f32, fixed Newton steps) agrees with the f64 camera
/// model to < 1e-3 px, from the pinhole guess (cold) and from a neighbouring hypothesis's
/// crossing (warm).
#[test]
fn shader_projection_matches_f64_camera() {
    let Some(ctx) = gpu() else { return };
    let kernels = TestKernels::new(&ctx.device).unwrap();
    let rig = Rig::reference(640, 480).unwrap();
    let reference = &rig.cameras[0];
    for &src in &[1usize, 6, 12] {
        let cam = &rig.cameras[src];
        let mut pts = Vec::new();
        let mut want = Vec::new();
        for v in (0..480).step_by(37) {
            for u in (0..640).step_by(41) {
                let ray = reference.cast_ray(u as f64, v as f64).unwrap();
                for &d in &[0.12, 0.2, 0.26, 0.33, 0.5] {
                    let p = ray.at(d);
                    let Some(exact) = cam.project(&p) else {
                        continue;
                    };
                    // Warm start: the crossing of the hypothesis 3 mm shallower.
                    let warm = cam.project(&ray.at(d - 0.003)).unwrap().crossing_r;
                    for guess in [-1.0, warm as f32] {
                        pts.push([p.x as f32, p.y as f32, p.z as f32, guess]);
                        want.push(exact.pixel);
                    }
                }
            }
        }
        let got = kernels
            .points(
                &ctx.device,
                &ctx.queue,
                "project_points",
                cam,
                &pts,
                (1, 0.0, 0.0),
            )
            .unwrap();
        let mut worst = 0.0f64;
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g[3], 1.0);
            let e = (g[0] as f64 - w.x).hypot(g[1] as f64 - w.y);
            worst = worst.max(e);
        }
        eprintln!(
            "source {src}: worst projection error {worst:.2e} px over {} points",
            pts.len()
        );
        assert!(worst < 1e-3, "source {src}: {worst} px");
    }
}

/// The warp's segment interpolation (anchors + quadratic) agrees with exact `f64`
/// projections to < 1e-3 px at every hypothesis, for the span `warp_span` picks.
#[test]
fn interpolated_warp_matches_f64_camera() {
    let Some(ctx) = gpu() else { return };
    let kernels = TestKernels::new(&ctx.device).unwrap();
    let rig = Rig::reference(640, 480).unwrap();
    let reference = &rig.cameras[0];
    let range = crate::depth_range_from_z(reference, 1.168, 1.188, 0.03).unwrap();
    for depths in [32u32, 64, 128] {
        let step = (range.1 as f64 - range.0 as f64) / (depths as f64 - 1.0);
        let srcs: Vec<_> = rig.sources(0, 5).iter().map(|&i| &rig.cameras[i]).collect();
        let span = crate::warp_span(reference, &srcs, depths, range);
        assert!(span >= 4, "{depths} depths: span {span}");
        for cam in &srcs {
            let mut pts = Vec::new();
            let mut want = Vec::new();
            for v in (0..480).step_by(53) {
                for u in (0..640).step_by(71) {
                    let ray = reference.cast_ray(u as f64, v as f64).unwrap();
                    for k in 0..depths {
                        let d = range.0 as f64 + k as f64 * step;
                        let Some(exact) = cam.project(&ray.at(d)) else {
                            continue;
                        };
                        let (o, dir) = (ray.origin, ray.direction);
                        pts.push([o.x as f32, o.y as f32, o.z as f32, k as f32]);
                        pts.push([dir.x as f32, dir.y as f32, dir.z as f32, 0.0]);
                        want.push(exact.pixel);
                    }
                }
            }
            let got = kernels
                .points(
                    &ctx.device,
                    &ctx.queue,
                    "warp_points",
                    cam,
                    &pts,
                    (span, range.0, step as f32),
                )
                .unwrap();
            let mut worst = 0.0f64;
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g[3], 1.0);
                worst = worst.max((g[0] as f64 - w.x).hypot(g[1] as f64 - w.y));
            }
            eprintln!(
                "{depths} depths, span {span}, {}: worst {worst:.2e} px",
                cam.name
            );
            assert!(worst < 1e-3, "{}: {worst} px", cam.name);
        }
    }
}

/// Costs `a (k − t)² + c` for a few true minima `t`, one pixel each, plus boundary winners.
fn profile_volume(depths: u32) -> (Vec<f32>, Vec<f64>, usize) {
    let truths = [3.0, 3.17, 4.5 - 1e-3, 2.6, 6.42, 1.0 + 1e-3];
    let pixels = truths.len() + 3;
    let mut costs = vec![0.0f32; depths as usize * pixels];
    for k in 0..depths as usize {
        for (p, t) in truths.iter().enumerate() {
            costs[k * pixels + p] = (0.04 * (k as f64 - t).powi(2) + 0.2) as f32;
        }
        // Winner first, winner last, constant (tie: first index wins).
        costs[k * pixels + truths.len()] = 0.1 + 0.05 * k as f32;
        costs[k * pixels + truths.len() + 1] = 0.9 - 0.05 * k as f32;
        costs[k * pixels + truths.len() + 2] = 0.5;
    }
    (costs, truths.to_vec(), pixels)
}

#[test]
fn quadratic_profile_refined_and_boundaries_nan_cpu_and_gpu() {
    let depths = 9;
    let (costs, truths, pixels) = profile_volume(depths);
    let range = (0.2f32, 0.2 + 0.008 * 8.0);
    let step = (range.1 as f64 - range.0 as f64) / 8.0;
    let check = |(d, c): (Vec<f32>, Vec<f32>), what: &str| {
        for (p, t) in truths.iter().enumerate() {
            let got_steps = (d[p] as f64 - range.0 as f64) / step;
            assert!(
                (got_steps - t).abs() < 1e-4,
                "{what}: pixel {p}: {got_steps} vs {t}"
            );
            assert!(c[p] > 0.0 && c[p] <= 1.0);
        }
        for p in truths.len()..pixels {
            assert!(d[p].is_nan(), "{what}: boundary pixel {p} gave {}", d[p]);
            assert_eq!(c[p], 0.0);
        }
    };
    let volume = CostVolume {
        costs: &costs,
        pixels,
        depths,
        depth_range: range,
    };
    check(select_from_costs_cpu(&volume).unwrap(), "CPU");
    let Some(ctx) = gpu() else { return };
    let sweep = GpuSweep::new(&ctx.device).unwrap();
    let kernels = TestKernels::new(&ctx.device).unwrap();
    for batch in [1, 4, 9] {
        let r = kernels
            .select_from_costs(&sweep, &ctx.device, &ctx.queue, &volume, batch)
            .unwrap();
        check(r, &format!("GPU batch {batch}"));
    }
}
