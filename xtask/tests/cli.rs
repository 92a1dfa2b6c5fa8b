//! The subcommands as a user runs them: the release binary with real arguments, its exit
//! status, stdout and stderr, and the files it leaves. Bad input must give **one line** on
//! stderr, a non-zero exit and nothing written; good input a readable result.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `cargo xtask <args>` (the binary this test was built with).
fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .output()
        .expect("the xtask binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts failure with one line on stderr that mentions `want`, answered before any work
/// (the issue's bound: within 5 s; refusals take milliseconds).
fn fails_with(args: &[&str], want: &str) {
    let t = std::time::Instant::now();
    let o = xtask(args);
    let took = t.elapsed();
    assert!(took.as_secs_f64() < 5.0, "{args:?} took {took:?} to refuse");
    let err = stderr(&o);
    assert!(!o.status.success(), "{args:?} succeeded");
    assert!(
        err.contains(want),
        "{args:?}: {err:?} should mention {want:?}"
    );
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {err}"
    );
}

fn ok(args: &[&str]) -> Output {
    let o = xtask(args);
    assert!(o.status.success(), "{args:?} failed: {}", stderr(&o));
    o
}

/// A fresh scratch folder (removed when dropped).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("aquamvs-xtask-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }

    fn path(&self, rel: &str) -> String {
        self.0.join(rel).to_str().unwrap().to_owned()
    }

    fn is_empty(&self) -> bool {
        std::fs::read_dir(&self.0).unwrap().next().is_none()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A tiny rendered flat scene in `root/scene`.
fn tiny_scene(root: &Scratch) -> String {
    let dir = root.path("scene");
    ok(&[
        "scene",
        "--kind",
        "flat",
        "--width",
        "64",
        "--height",
        "48",
        "--out",
        &dir,
        "--mesh-spacing",
        "0.02",
        "--supersample",
        "2",
    ]);
    dir
}

#[test]
fn scene_bad_input_is_one_line_and_writes_nothing() {
    let root = Scratch::new("scene-bad");
    let out = root.path("s");
    for (flag, value, want) in [
        ("--kind", "bumpy", "unknown scene kind"),
        ("--width", "0", "--width 0"),
        ("--height", "20000", "--height 20000"),
        ("--noise", "NaN", "--noise"),
        ("--noise", "-0.1", "--noise"),
        ("--supersample", "0", "--supersample"),
        ("--mesh-spacing", "inf", "--mesh-spacing"),
        ("--mesh-spacing", "1e-7", "--mesh-spacing"),
        ("--distortion", "0.1,0", "--distortion"),
        ("--distortion", "0,0,0,0,nan", "--distortion"),
        ("--distortion", "1,2,3,4,inf", "--distortion"),
        ("--distortion", "a,b,c,d,e", "--distortion"),
    ] {
        let mut args = vec!["scene".to_owned()];
        for (f, v) in [
            ("--kind", "undulating"),
            ("--width", "24"),
            ("--height", "16"),
            ("--mesh-spacing", "0.02"),
            ("--out", out.as_str()),
        ] {
            if f != flag {
                args.push(format!("{f}={v}"));
            }
        }
        args.push(format!("{flag}={value}"));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_with(&args, want);
        assert!(root.is_empty(), "{flag} {value} wrote something");
    }
}

#[test]
fn scene_writes_a_readable_folder_and_refuses_to_overwrite_it() {
    let root = Scratch::new("scene-good");
    let out = root.path("s");
    let args = |kind: &'static str| {
        vec![
            "scene",
            "--kind",
            kind,
            "--width",
            "24",
            "--height",
            "16",
            "--mesh-spacing",
            "0.02",
            "--supersample",
            "2",
            "--out",
        ]
    };
    let mut first = args("undulating");
    first.extend([
        out.as_str(),
        "--distortion=-0.05,0.01,0,0,0",
        "--noise",
        "0.01",
    ]);
    ok(&first);
    let dir = Path::new(&out);
    let sd = aquamvs_io::scene_dir::read_scene_dir(dir).unwrap();
    assert_eq!(sd.rig.cameras.len(), 13);
    assert!(sd.rig.cameras.iter().all(|c| c.distortion.is_some()));
    assert_eq!(sd.scene, aquamvs_scenes::Scene::undulating());
    assert!(dir.join("mesh.ply").is_file());
    let file = aquamvs_io::scene_dir::read_scene_file(dir).unwrap();
    assert_eq!(file.mesh_spacing, Some(0.02));
    // The depth maps are the ground truth of the distorted cameras.
    for (cam, depth) in sd.rig.cameras.iter().zip(&sd.depths) {
        assert_eq!(depth, &sd.scene.depth_map(cam));
    }
    let before = std::fs::read(dir.join("rig.json")).unwrap();
    let mut again = args("undulating");
    again.push(&out);
    fails_with(&again, "not empty");
    assert_eq!(std::fs::read(dir.join("rig.json")).unwrap(), before);
    let mut forced = args("flat");
    forced.extend([out.as_str(), "--force"]);
    ok(&forced);
    let sd = aquamvs_io::scene_dir::read_scene_dir(dir).unwrap();
    assert_eq!(sd.scene, aquamvs_scenes::Scene::flat());
}

#[test]
fn sweep_bad_input_gives_one_clear_error() {
    let root = Scratch::new("sweep-bad");
    let scene = tiny_scene(&root);
    let o = root.path("out");
    let base = [
        "sweep",
        "--scene",
        &scene,
        "--reference",
        "cam00",
        "--out",
        &o,
    ];
    for (extra, want) in [
        (&["--window", "10"][..], "window must be odd"),
        (&["--window", "33"], "window must be odd"),
        (&["--depths", "1"], "2..=4096"),
        (&["--depths", "100000000"], "2..=4096"),
        (&["--depth-range", "0.3,0.2"], "depth range"),
        (&["--depth-range", "0.2,0.2"], "depth range"),
        (&["--depth-range", "0.2"], "--depth-range"),
        (&["--batch", "0"], "batch"),
        (&["--sources", "0"], "--sources"),
        (&["--sources", "13"], "other cameras"),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        fails_with(&args, want);
    }
    let o2 = xtask(&[
        "sweep",
        "--scene",
        &scene,
        "--reference",
        "cam00",
        "--backend",
        "tpu",
        "--out",
        &o,
    ]);
    assert!(!o2.status.success() && stderr(&o2).contains("--backend"));
    fails_with(
        &[
            "sweep",
            "--scene",
            &scene,
            "--reference",
            "cam99",
            "--out",
            &o,
        ],
        "no camera \"cam99\"",
    );
    let missing = root.path("nowhere");
    fails_with(
        &[
            "sweep",
            "--scene",
            &missing,
            "--reference",
            "cam00",
            "--out",
            &o,
        ],
        "nowhere",
    );
    assert!(!Path::new(&o).join("sweep.json").exists());
}

#[test]
fn cpu_sweep_writes_maps_and_report() {
    let root = Scratch::new("sweep-cpu");
    let scene = tiny_scene(&root);
    let out = root.path("out");
    ok(&[
        "sweep",
        "--scene",
        &scene,
        "--reference",
        "cam00",
        "--backend",
        "cpu",
        "--depths",
        "12",
        "--window",
        "5",
        "--out",
        &out,
    ]);
    let out = Path::new(&out);
    let depth = aquamvs_io::npy::read_f32(&out.join("depth.npy")).unwrap();
    assert_eq!((depth.height, depth.width), (48, 64));
    let conf = aquamvs_io::npy::read_f32(&out.join("confidence.npy")).unwrap();
    assert_eq!(conf.data.len(), 48 * 64);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("sweep.json")).unwrap()).unwrap();
    for key in [
        "seconds",
        "samples_per_s",
        "adapter",
        "backend",
        "depth_range",
        "window",
    ] {
        assert!(report.get(key).is_some(), "sweep.json lacks {key}");
    }
    assert_eq!(report["backend"], "cpu");
    assert_eq!(report["depths"], 12);
    assert!(report["samples_per_s"].as_f64().unwrap() > 0.0);
    let valid = depth.data.iter().filter(|d| d.is_finite()).count();
    assert!(valid > 48 * 64 / 2, "only {valid} valid depths");
    let eval = &report["evaluation"];
    assert!(eval["patch_pixels"].as_u64().unwrap() > 0);
    assert!(eval["errors"]["median_abs_error_mm"].is_f64(), "{eval}");
}

#[test]
fn profile_bad_input_is_one_error_and_writes_nothing() {
    let root = Scratch::new("profile-bad");
    let out = root.path("out");
    for (flags, want) in [
        (&["--cameras", "1"][..], "--cameras"),
        (&["--width", "8"], "--width"),
        (&["--window", "4"], "--depths / --window / --batch"),
        (&["--depths", "1"], "--depths / --window / --batch"),
        (&["--batch", "0"], "--depths / --window / --batch"),
        (&["--scene", "bumpy"], "--scene"),
        (&["--distortion", "0.1,0"], "--distortion"),
        (&["--features", "0"], "--features"),
        (&["--batch-runs", "0"], "--batch-runs"),
        (&["--memory-sample-ms=-1"], "--memory-sample-ms"),
    ] {
        let mut args = vec!["profile"];
        args.extend(flags);
        args.extend(["--out", &out]);
        fails_with(&args, want);
        assert!(root.is_empty(), "{flags:?} wrote something");
    }
}

/// The whole command on a tiny workload: the profile rig (cam00, its two nearest neighbours,
/// the centre), five stages, GPU time exactly for the GPU stages, three sorted bottlenecks, a
/// valid trace; the report parses with the results schema. Fails without an adapter under
/// CI=true.
#[test]
fn tiny_profile_writes_a_valid_report_and_trace() {
    if aquamvs_gpu::GpuContext::for_tests(&Default::default())
        .expect("GPU adapter required (CI=true)")
        .is_none()
    {
        return;
    }
    let root = Scratch::new("profile-tiny");
    let out = root.path("out");
    ok(&[
        "profile",
        "--width",
        "160",
        "--height",
        "120",
        "--depths",
        "16",
        "--features",
        "300",
        "--supersample",
        "1",
        "--no-batch-benchmark",
        "--out",
        &out,
    ]);
    let out = Path::new(&out);
    let text = std::fs::read_to_string(out.join("profile_report.json")).unwrap();
    let report = aquamvs_results::ProfileReport::from_json(&text).unwrap();
    let names: Vec<&str> = report.stages.iter().map(|(k, _)| k).collect();
    assert_eq!(names, aquamvs_pipeline::STAGES);
    let has_timestamps = report.timing_source == aquamvs_results::TimingSource::GpuTimestamps;
    for (name, s) in report.stages.iter() {
        assert_eq!(s.status, "ok", "{name}");
        assert!(s.cpu_time_ms > 0.0, "{name}");
        let gpu_stage = matches!(name, "undistortion" | "depth_estimation");
        assert_eq!(
            s.gpu_time_ms.is_some(),
            gpu_stage && has_timestamps,
            "{name}"
        );
    }
    assert_eq!(report.top_bottlenecks.len(), 3);
    assert!(
        report
            .top_bottlenecks
            .windows(2)
            .all(|w| w[0].time_ms >= w[1].time_ms)
    );
    assert!(report.depth_batching.is_empty());
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v["setup"]["cameras"],
        serde_json::json!(["cam00", "cam01", "cam11", "center"])
    );
    assert!(v["stage_outputs"]["fused_points"].as_u64().unwrap() > 0);
    assert!(v["profiler"]["stages"]["depth_estimation/cam00"].is_object());
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("profile_trace.json")).unwrap())
            .unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    for stage in aquamvs_pipeline::STAGES {
        assert!(
            events
                .iter()
                .any(|e| e["ph"] == "X" && e["tid"] == 1 && e["name"] == stage),
            "{stage} on the CPU track"
        );
    }
}

#[test]
fn evaluate_prints_every_metric_and_says_why_it_refuses() {
    let root = Scratch::new("evaluate");
    let mesh = root.path("mesh.ply");
    let points = root.path("points.ply");
    let v = [
        [0.0, 0.0, 1.0],
        [0.1, 0.0, 1.0],
        [0.1, 0.1, 1.0],
        [0.0, 0.1, 1.0],
    ];
    aquamvs_io::ply::write_mesh(Path::new(&mesh), &v, &[[0, 1, 2], [0, 2, 3]]).unwrap();
    let pts = [
        [0.02, 0.03, 1.0005],
        [0.05, 0.05, 1.003],
        [0.07, 0.01, 0.999],
    ];
    aquamvs_io::ply::write_points(Path::new(&points), &pts).unwrap();
    let base = ["evaluate", "--mesh", &mesh, "--points", &points];
    let o = ok(&base);
    // Every metric's row is checked by the report crate's test; here: the command prints the
    // tables, and the planar mesh keeps the plane-fit rows.
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("plane_fit_rmse_mm") && text.contains("F-score (%)"),
        "{text}"
    );
    let mut json = base.to_vec();
    json.push("--json");
    let o = ok(&json);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for k in [
        "mean_error_mm",
        "median_error_mm",
        "std_error_mm",
        "raw_completeness_pct",
        "accurate_completeness_pct",
        "plane_fit_rmse_mm",
        "plane_fit_max_error_mm",
    ] {
        assert!(v[k].is_number(), "{k}: {}", v[k]);
    }
    let bt = v["by_tolerance"].as_array().unwrap();
    assert_eq!(bt.len(), 3);
    for k in ["tolerance_mm", "precision_pct", "recall_pct", "fscore_pct"] {
        assert!(bt[0][k].is_number(), "{k}");
    }
    let mut bad = base.to_vec();
    bad.extend(["--tolerances-mm", "1,,2"]);
    fails_with(&bad, "--tolerances-mm");
    fails_with(
        &["evaluate", "--mesh", &points, "--points", &points],
        "no faces",
    );
}

/// `evaluate --points /dev/zero` (or `/dev/urandom`, or a big non-PLY file) read the whole
/// file before checking the `ply` magic.
#[test]
fn evaluate_refuses_devices_and_big_non_ply_files_at_once() {
    let root = Scratch::new("evaluate-devices");
    let scene = tiny_scene(&root);
    let mesh = format!("{scene}/mesh.ply");
    let big = root.path("big.bin");
    std::fs::write(&big, vec![7u8; 64 << 20]).unwrap();
    for points in ["/dev/zero", "/dev/urandom", big.as_str()] {
        if !Path::new(points).exists() {
            continue;
        }
        let t = std::time::Instant::now();
        fails_with(
            &["evaluate", "--mesh", &mesh, "--points", points],
            "not a PLY file",
        );
        assert!(
            t.elapsed().as_secs_f64() < 5.0,
            "{points}: {:?}",
            t.elapsed()
        );
    }
}

/// `scene --force` emptied any non-empty folder: DIR/precious.txt was lost.
#[test]
fn scene_force_replaces_only_a_scene_folder() {
    let root = Scratch::new("scene-force");
    let dir = root.path("work");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(root.0.join("work/precious.txt"), b"mine").unwrap();
    let args = [
        "scene",
        "--kind",
        "flat",
        "--width",
        "24",
        "--height",
        "16",
        "--mesh-spacing",
        "0.02",
        "--out",
        &dir,
        "--force",
    ];
    fails_with(&args, "precious.txt");
    assert_eq!(
        std::fs::read(root.0.join("work/precious.txt")).unwrap(),
        b"mine"
    );
    // A scene folder is still replaced, and nothing is left beside it.
    let scene = tiny_scene(&root);
    let mut again = args.to_vec();
    again[10] = &scene;
    ok(&again);
    let mut left: Vec<String> = std::fs::read_dir(&root.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["scene", "work"]);
}

/// `scene --width 16384 --height 16384` was accepted and ate 9 GB: the memory is estimated
/// first. `AQUAMVS_MEMORY_LIMIT` stands for the machine's available memory, so the test does
/// not depend on the machine.
#[test]
fn scene_refuses_what_does_not_fit_in_memory() {
    let root = Scratch::new("scene-memory");
    for (side, limit) in [("16384", "30000000000"), ("4096", "1000000000")] {
        let out = root.path("big");
        let t = std::time::Instant::now();
        let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args([
                "scene", "--kind", "flat", "--width", side, "--height", side, "--out", &out,
            ])
            .env("AQUAMVS_MEMORY_LIMIT", limit)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert!(!o.status.success(), "{side}: accepted");
        assert!(
            err.contains("GB of memory") && err.contains("AQUAMVS_MEMORY_LIMIT"),
            "{err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(t.elapsed().as_secs_f64() < 5.0);
        assert!(root.is_empty(), "{side}: wrote something");
    }
}

/// Physically impossible options, and negative numbers that clap took for flags.
#[test]
fn scene_refuses_impossible_options_and_reads_negative_numbers() {
    let root = Scratch::new("scene-impossible");
    let out = root.path("s");
    for (extra, want) in [
        (
            &["--kind", "undulating", "--mesh-spacing", "100"][..],
            "too coarse",
        ),
        (
            &["--kind", "flat", "--distortion=-50,0,0,0,0"],
            "folds the image",
        ),
        (
            &["--kind", "flat", "--noise", "-0.5"],
            "--noise -0.5 must be",
        ),
        (
            &["--kind", "flat", "--mesh-spacing", "-1"],
            "--mesh-spacing -1",
        ),
    ] {
        let mut args = vec!["scene", "--width", "24", "--height", "16", "--out", &out];
        args.extend(extra);
        fails_with(&args, want);
        assert!(root.is_empty(), "{extra:?} wrote something");
    }
    // A coarse but possible mesh is made, with a loud warning.
    let o = ok(&[
        "scene",
        "--kind",
        "undulating",
        "--width",
        "24",
        "--height",
        "16",
        "--mesh-spacing",
        "0.02",
        "--out",
        &out,
    ]);
    assert!(
        stderr(&o).starts_with("warning: --mesh-spacing"),
        "{}",
        stderr(&o)
    );
}

/// A camera named `../../../x` in rig.json was read from outside the scene folder.
#[test]
fn camera_names_that_leave_the_scene_folder_are_refused() {
    let root = Scratch::new("camera-names");
    let scene = tiny_scene(&root);
    let rig_path = Path::new(&scene).join("rig.json");
    let mut rig: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&rig_path).unwrap()).unwrap();
    rig["cameras"][0]["name"] = "../../../x".into();
    std::fs::write(&rig_path, serde_json::to_vec(&rig).unwrap()).unwrap();
    let out = root.path("out");
    fails_with(
        &[
            "sweep",
            "--scene",
            &scene,
            "--reference",
            "cam01",
            "--out",
            &out,
        ],
        "not a plain name",
    );
}

/// `evaluate --mesh S/mesh.ply --points R/points.ply` reported a 272 mm median error without
/// a word: most points lay beyond the mesh. Now it warns, `--scene S` crops to the bounds,
/// and the plane fit is named for what it is when the ground truth is not planar.
#[test]
fn evaluate_takes_a_scene_warns_about_points_beyond_the_mesh_and_names_the_plane_fit() {
    let root = Scratch::new("evaluate-scene");
    let flat = tiny_scene(&root);
    // A grid twice as wide as the bounds ([-0.25, 0.25] × [-0.15, 0.15]) on the plane.
    let pts: Vec<[f64; 3]> = (0..40)
        .flat_map(|i| {
            (0..40).map(move |j| [-0.5 + i as f64 / 39.0, -0.3 + 0.6 * j as f64 / 39.0, 1.178])
        })
        .collect();
    let points = root.path("points.ply");
    aquamvs_io::ply::write_points(Path::new(&points), &pts).unwrap();
    let mesh = format!("{flat}/mesh.ply");
    let o = ok(&["evaluate", "--mesh", &mesh, "--points", &points]);
    let err = stderr(&o);
    assert!(
        err.starts_with("warning:") && err.contains("outside"),
        "{err}"
    );
    assert!(err.contains("--scene"), "{err}");
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("plane_fit_rmse_mm"),
        "a flat ground truth: {text}"
    );
    let o = ok(&["evaluate", "--scene", &flat, "--points", &points]);
    assert!(stderr(&o).contains("not evaluated"), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("bounds x [-0.25, 0.25]"), "{text}");
    let o = ok(&["evaluate", "--scene", &flat, "--points", &points, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ground_truth_planar"], true);
    assert_eq!(v["n_points"], 400);

    // An undulating ground truth: no "plane fit" row, the points' own flatness instead.
    let wavy = root.path("wavy");
    ok(&[
        "scene",
        "--kind",
        "undulating",
        "--width",
        "24",
        "--height",
        "16",
        "--mesh-spacing",
        "0.01",
        "--supersample",
        "1",
        "--out",
        &wavy,
    ]);
    let o = ok(&["evaluate", "--scene", &wavy, "--points", &points]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(!text.contains("plane_fit_rmse_mm"), "{text}");
    assert!(text.contains("points_own_flatness_rmse_mm"), "{text}");
    assert!(text.contains("not planar"), "{text}");
    let o = ok(&["evaluate", "--scene", &wavy, "--points", &points, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ground_truth_planar"], false);
    // Neither a mesh nor a scene; both.
    assert!(!xtask(&["evaluate", "--points", &points]).status.success());
    assert!(
        !xtask(&[
            "evaluate", "--scene", &flat, "--mesh", &mesh, "--points", &points
        ])
        .status
        .success()
    );
}

/// Options and output places are refused before any work, with nothing written; the bench
/// refuses extra `--compare` values instead of starting a run.
#[test]
fn bad_options_and_outputs_are_refused_before_any_work() {
    let root = Scratch::new("refuse-early");
    let scene = tiny_scene(&root);
    let afile = root.path("afile");
    std::fs::write(&afile, "keep me").unwrap();
    let out = root.path("r");
    for (flag, value, want) in [
        ("--cell", "0", "cell size"),
        ("--cell", "NaN", "cell size"),
        ("--cell", "1e-7", "cell size"),
        ("--cell", "1000", "cell size"),
        ("--window", "4", "window"),
        ("--depths", "100000000", "2..=4096"),
    ] {
        fails_with(
            &["reconstruct", "--scene", &scene, "--out", &out, flag, value],
            want,
        );
    }
    fails_with(
        &["reconstruct", "--scene", &scene, "--out", &afile],
        "afile",
    );
    fails_with(
        &[
            "sweep",
            "--scene",
            &scene,
            "--reference",
            "cam00",
            "--out",
            &afile,
        ],
        "afile",
    );
    fails_with(&["profile", "--out", &afile], "afile");
    assert_eq!(std::fs::read_to_string(&afile).unwrap(), "keep me");
    assert!(!Path::new(&out).exists());
    let bench_out = root.path("bench");
    let o = xtask(&[
        "bench",
        "--compare",
        &afile,
        &afile,
        "--compare",
        &afile,
        "--out-dir",
        &bench_out,
    ]);
    assert!(!o.status.success(), "three --compare values were accepted");
    assert!(stderr(&o).contains("--compare"), "{}", stderr(&o));
    assert!(!Path::new(&bench_out).exists());
    fails_with(&["bench", "--out-dir", &afile], "afile");
}

/// Without a GPU adapter the main job still runs, on the CPU backend, and says so in every
/// row it affects, in the machine block, and in one line on how to get the GPU path.
#[test]
fn bench_without_an_adapter_runs_on_the_cpu_and_says_so() {
    let root = Scratch::new("bench-no-adapter");
    let out = root.path("out");
    let o = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "bench",
            "--width",
            "128",
            "--height",
            "96",
            "--depths",
            "8",
            "--runs",
            "1",
            "--board-poses",
            "2",
            "--no-board-patchmatch",
            "--out-dir",
            &out,
        ])
        .env("WGPU_ADAPTER_NAME", "no adapter has this name")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("mesa-vulkan-drivers"), "{err}");
    let r = aquamvs_results::BenchmarkResults::from_json(
        &std::fs::read_to_string(Path::new(&out).join("benchmark_results.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(r.machine.adapter, "cpu (no GPU adapter)");
    // Flat and undulating, refractive and pinhole, and the undulating bed with PatchMatch.
    assert_eq!(r.measured.len(), 5);
    assert!(
        r.measured
            .iter()
            .all(|m| m.backend == "cpu (no GPU adapter)")
    );
    // 3 scenes × 2 noise levels × (4 sweep windows + PatchMatch).
    assert_eq!(r.depth_methods.len(), 30);
    assert!(
        r.depth_methods
            .iter()
            .all(|m| m.backend == "cpu (no GPU adapter)")
    );
    assert!(!r.sweep_throughput.is_empty());
    assert!(
        r.sweep_throughput
            .iter()
            .all(|t| t.backend == "cpu (no GPU adapter)")
    );
    // The board validation ran for the plane sweep on the CPU; PatchMatch's, not asked for
    // (--no-board-patchmatch), is said to be absent.
    assert_eq!(r.board.len(), 1);
    assert_eq!((r.board[0].method.as_str(), r.board[0].poses), ("sweep", 2));
    assert!(
        r.board[0].settings.contains("backend cpu"),
        "{}",
        r.board[0].settings
    );
    assert!(r.board_skipped.iter().any(|s| s.starts_with("patchmatch")));
    // The summary fits a screen.
    assert!(String::from_utf8_lossy(&o.stdout).lines().count() <= 30);
}

#[test]
fn own_rigs_calibrations_projects_and_image_folders() {
    let root = Scratch::new("own-rig");
    let scene = root.path("scene");
    ok(&[
        "scene",
        "--kind",
        "undulating",
        "--width",
        "128",
        "--height",
        "96",
        "--out",
        &scene,
        "--mesh-spacing",
        "0.01",
        "--supersample",
        "2",
    ]);
    let calibration = root.path("scene/calibration.json");
    assert!(
        Path::new(&calibration).is_file(),
        "a scene folder holds calibration.json"
    );

    // A scene for the rig of a calibration: geometry decides the centre and the bounds.
    let again = root.path("again");
    let o = ok(&[
        "scene",
        "--rig",
        &calibration,
        "--kind",
        "flat",
        "--out",
        &again,
        "--mesh-spacing",
        "0.01",
        "--supersample",
        "1",
    ]);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("scene placed at"), "{said}");
    let placed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.path("again/scene.json")).unwrap())
            .unwrap();
    assert_eq!(placed["depth_z"], 0.978 + 0.2, "water_z + 0.2 m");
    let b: Vec<f64> = serde_json::from_value(placed["bounds"].clone()).unwrap();
    assert!(
        b[0] < 0.0 && b[1] > 0.0 && b[2] < 0.0 && b[3] > 0.0,
        "{b:?}"
    );
    let rig: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.path("again/rig.json")).unwrap())
            .unwrap();
    assert_eq!(rig["cameras"].as_array().unwrap().len(), 13);
    assert_eq!(
        rig["cameras"][12]["auxiliary"], true,
        "the centre camera stays auxiliary"
    );
    // An off-origin centre is recorded and used by the formula.
    let moved = root.path("moved");
    ok(&[
        "scene",
        "--rig",
        &calibration,
        "--kind",
        "undulating",
        "--center=0.01,-0.02",
        "--out",
        &moved,
        "--mesh-spacing",
        "0.01",
        "--supersample",
        "1",
    ]);
    let moved_scene: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.path("moved/scene.json")).unwrap())
            .unwrap();
    assert_eq!(moved_scene["center"], serde_json::json!([0.01, -0.02]));
    assert!(
        moved_scene["surface"]
            .as_str()
            .unwrap()
            .contains("(x - 0.01)")
    );

    // The scene as an AquaMVS project, then a real-image-folder reconstruction of it gives the
    // same fused cloud as the scene folder.
    let project = root.path("project");
    ok(&["export-aquamvs", "--scene", &scene, "--out", &project]);
    for rel in [
        "calibration.json",
        "config.yaml",
        "images/cam00/frame_000000.png",
        "images/center/frame_000000.png",
        "ground_truth/scene.json",
        "ground_truth/mesh.ply",
        "ground_truth/depth/cam07.npy",
    ] {
        assert!(root.0.join("project").join(rel).is_file(), "{rel}");
    }
    let yaml = std::fs::read_to_string(root.path("project/config.yaml")).unwrap();
    assert!(
        yaml.contains("calibration_path: \"calibration.json\""),
        "{yaml}"
    );
    assert!(yaml.contains("\"cam03\": \"images/cam03\""), "{yaml}");
    let (a, b) = (root.path("from-scene"), root.path("from-images"));
    ok(&[
        "reconstruct",
        "--scene",
        &scene,
        "--out",
        &a,
        "--backend",
        "cpu",
    ]);
    let images = root.path("project/images");
    let cal = root.path("project/calibration.json");
    ok(&[
        "reconstruct",
        "--calibration",
        &cal,
        "--images",
        &images,
        "--out",
        &b,
        "--backend",
        "cpu",
    ]);
    let read = |d: &str| std::fs::read(Path::new(d).join("points.ply")).unwrap();
    assert!(read(&a).len() > 1000, "a real cloud");
    assert_eq!(read(&a), read(&b), "same fused cloud from the image folder");

    // Bad rigs and folders: one line naming what is wrong.
    std::fs::remove_file(root.path("project/images/cam05/frame_000000.png")).unwrap();
    fails_with(
        &[
            "reconstruct",
            "--calibration",
            &cal,
            "--images",
            &images,
            "--out",
            &b,
        ],
        "camera \"cam05\"",
    );
    let bad = root.path("bad.json");
    let text = std::fs::read_to_string(&cal).unwrap();
    std::fs::write(
        &bad,
        text.replacen("\"version\": \"1.0\"", "\"version\": \"0.9\"", 1),
    )
    .unwrap();
    fails_with(
        &[
            "scene",
            "--rig",
            &bad,
            "--kind",
            "flat",
            "--out",
            &root.path("x"),
        ],
        "0.9",
    );
    fails_with(
        &[
            "scene",
            "--rig",
            &calibration,
            "--kind",
            "flat",
            "--width",
            "64",
            "--out",
            &root.path("x"),
        ],
        "--width",
    );
    fails_with(
        &[
            "scene",
            "--rig",
            &calibration,
            "--kind",
            "flat",
            "--bounds",
            "1,2",
            "--out",
            &root.path("x"),
        ],
        "--bounds",
    );
}

#[test]
fn a_rig_calibrated_by_aquacal_gets_scenes_the_sweep_reconstructs_as_well_as_ours() {
    // AquaCal wrote this file (tools/peer/make_aquacal_rig.py): untilted 3×2 grid, water at
    // 0.72 m, strong 4/5/8-coefficient lenses, an auxiliary fisheye.
    let root = Scratch::new("aquacal-rig");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/io/tests/fixtures/aquacal_grid_rig.json");
    let scene = root.path("scene");
    ok(&[
        "scene",
        "--rig",
        fixture.to_str().unwrap(),
        "--kind",
        "flat",
        "--out",
        &scene,
        "--mesh-spacing",
        "0.02",
    ]);
    let sweep = root.path("sweep");
    ok(&[
        "sweep",
        "--scene",
        &scene,
        "--reference",
        "cam00",
        "--out",
        &sweep,
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.path("sweep/sweep.json")).unwrap())
            .unwrap();
    let errors = &report["evaluation"]["errors"];
    let median = errors["median_abs_error_mm"].as_f64().unwrap();
    // The reference rig's flat scene at 640×480, 64 depths, window 11: 0.071 mm.
    assert!(median <= 0.075, "median {median} mm on the AquaCal rig");
    assert!(errors["valid_pct"].as_f64().unwrap() > 99.0, "{errors}");
    // The fisheye sees everything but coarsely: the finer grid neighbours come first.
    assert_eq!(report["sources"][0], "cam01", "{}", report["sources"]);
    assert!(
        !report["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "aux00")
    );
}

#[test]
fn sweep_method_patchmatch_writes_normals_and_says_what_ran() {
    let root = Scratch::new("patchmatch");
    let scene = tiny_scene(&root);
    let out = root.path("pm");
    ok(&[
        "sweep",
        "--scene",
        &scene,
        "--reference",
        "cam00",
        "--method",
        "patchmatch",
        "--backend",
        "cpu",
        "--out",
        &out,
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.path("pm/sweep.json")).unwrap())
            .unwrap();
    assert_eq!(
        report["method"]["method"], "patchmatch",
        "{}",
        report["method"]
    );
    assert!(
        report["samples"].is_null(),
        "samples count plane-sweep work only"
    );
    let normals = &report["evaluation"]["normal_errors"];
    assert!(normals["median_deg"].as_f64().is_some(), "{normals}");
    let bytes = std::fs::read(root.path("pm/normal.npy")).unwrap();
    let header = String::from_utf8_lossy(&bytes[..128]);
    assert!(header.contains("'shape': (48, 64, 3)"), "{header}");
    assert_eq!(bytes.len() % 64, (48 * 64 * 3 * 4) % 64);
    fails_with(
        &[
            "sweep",
            "--scene",
            &scene,
            "--reference",
            "cam00",
            "--method",
            "bogus",
            "--out",
            &out,
        ],
        "bogus",
    );
}
