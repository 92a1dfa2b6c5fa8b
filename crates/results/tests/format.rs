//! Reading the results files: the fixtures parse, unknown fields are ignored, optional ones
//! default, every missing or malformed required field is one clear error, and the committed
//! results still read.

use aquamvs_results::{
    BENCHMARK_RESULTS_FILE, BenchmarkResults, ErrorMap, Method, PROFILE_REPORT_FILE, ProfileReport,
    ResultsError, TimingSource, is_utc_timestamp,
};

const PROFILE: &str = include_str!("fixtures/profile_report.json");
const BENCH: &str = include_str!("fixtures/benchmark_results.json");
const MAP: &str = include_str!("fixtures/error_map.json");

fn edit(json: &str, f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    f(&mut v);
    v.to_string()
}

fn error_text(r: Result<impl std::fmt::Debug, ResultsError>) -> String {
    r.expect_err("should be rejected").to_string()
}

#[test]
fn fixtures_parse() {
    let p = ProfileReport::from_json(PROFILE).unwrap();
    assert_eq!(p.timing_source, TimingSource::GpuTimestamps);
    let names: Vec<&str> = p.stages.iter().map(|(n, _)| n).collect();
    // File order, not alphabetical.
    assert_eq!(
        names,
        [
            "undistortion",
            "sparse_matching",
            "depth_estimation",
            "fusion",
            "surface_reconstruction"
        ]
    );
    let fusion = p.stages.get("fusion").unwrap();
    assert_eq!(fusion.status, "ok", "status defaults to ok");
    assert_eq!(fusion.self_time_ms, None);
    assert_eq!(p.stages.get("sparse_matching").unwrap().gpu_time_ms, None);
    assert_eq!(p.workload.extra["features"], 2000);
    assert_eq!(p.depth_batching.len(), 3);

    let b = BenchmarkResults::from_json(BENCH).unwrap();
    assert_eq!(b.simulated.len(), 4);
    assert_eq!(b.measured[1].method, Method::Pinhole);
    assert_eq!(b.simulated[3].accuracy.plane_fit_rmse_mm, None);
    assert_eq!(
        b.measured[0].accuracy.at_tolerance(2.0).unwrap().fscore_pct,
        95.4
    );
    assert!(b.regression_check.as_ref().unwrap().supported);

    let m = ErrorMap::from_json("map", MAP).unwrap();
    assert_eq!((m.width, m.height, m.values.len()), (8, 6, 48));
    assert_eq!(m.values[0], None);
}

#[test]
fn round_trip() {
    let p = ProfileReport::from_json(PROFILE).unwrap();
    assert_eq!(ProfileReport::from_json(&p.to_json()).unwrap(), p);
    let b = BenchmarkResults::from_json(BENCH).unwrap();
    assert_eq!(BenchmarkResults::from_json(&b.to_json()).unwrap(), b);
    // Stage order survives serialisation.
    assert!(p.to_json().find("undistortion") < p.to_json().find("surface_reconstruction"));
}

#[test]
fn optional_sections_default() {
    let json = edit(BENCH, |v| {
        let o = v.as_object_mut().unwrap();
        o.remove("sweep_throughput");
        o.remove("regression_check");
        o.remove("depth_error_map");
    });
    let b = BenchmarkResults::from_json(&json).unwrap();
    assert!(b.sweep_throughput.is_empty());
    assert!(b.regression_check.is_none() && b.depth_error_map.is_none());
    let json = edit(PROFILE, |v| {
        v.as_object_mut().unwrap().remove("depth_batching");
    });
    assert!(
        ProfileReport::from_json(&json)
            .unwrap()
            .depth_batching
            .is_empty()
    );
}

#[test]
fn missing_required_fields_are_named() {
    for (field, remove) in [
        ("stages", "stages"),
        ("top_bottlenecks", "top_bottlenecks"),
        ("optimised_stage", "optimised_stage"),
        ("machine", "machine"),
        ("timing_source", "timing_source"),
        ("generated_at", "generated_at"),
    ] {
        let json = edit(PROFILE, |v| {
            v.as_object_mut().unwrap().remove(remove);
        });
        let e = error_text(ProfileReport::from_json(&json));
        assert!(e.contains(PROFILE_REPORT_FILE) && e.contains(field), "{e}");
    }
    let json = edit(BENCH, |v| {
        v["measured"][0]["accuracy"]
            .as_object_mut()
            .unwrap()
            .remove("median_error_mm");
    });
    let e = error_text(BenchmarkResults::from_json(&json));
    assert!(e.contains("median_error_mm"), "{e}");
    let json = edit(BENCH, |v| {
        v["machine"].as_object_mut().unwrap().remove("adapter");
    });
    assert!(error_text(BenchmarkResults::from_json(&json)).contains("adapter"));
}

#[test]
fn malformed_values_are_rejected() {
    let cases: Vec<(String, &str)> = vec![
        (
            edit(PROFILE, |v| v["timing_source"] = "sometimes".into()),
            "sometimes",
        ),
        (
            edit(PROFILE, |v| v["generated_at"] = "yesterday".into()),
            "RFC 3339",
        ),
        (
            edit(PROFILE, |v| {
                v["stages"]["fusion"]["total_time_ms"] = serde_json::Value::Null;
            }),
            "total_time_ms",
        ),
        (
            edit(PROFILE, |v| v["stages"] = serde_json::json!({})),
            "stages",
        ),
        (
            edit(PROFILE, |v| v["machine"]["cpu_model"] = " ".into()),
            "cpu_model",
        ),
        ("{".to_owned(), "EOF"),
        ("[]".to_owned(), "profile_report.json"),
    ];
    for (json, needle) in cases {
        let e = error_text(ProfileReport::from_json(&json));
        assert!(e.contains(needle), "{needle}: {e}");
    }
    let e = error_text(BenchmarkResults::from_json(&edit(BENCH, |v| {
        v["measured"][0]["method"] = "magic".into();
    })));
    assert!(e.contains("magic"), "{e}");
}

#[test]
fn duplicate_stage_is_an_error() {
    let json = PROFILE.replacen(
        "\"fusion\": {",
        "\"fusion\": {\"cpu_time_ms\": 1, \"total_time_ms\": 1, \"memory_mb\": 1}, \"fusion\": {",
        1,
    );
    assert!(error_text(ProfileReport::from_json(&json)).contains("duplicate key `fusion`"));
}

#[test]
fn error_map_size_is_checked() {
    let e = error_text(ErrorMap::from_json(
        "m.json",
        r#"{"width": 3, "height": 2, "values": [1, 2, null]}"#,
    ));
    assert!(e.contains("3 values for a 3x2 map"), "{e}");
    let e = error_text(ErrorMap::from_json(
        "m.json",
        r#"{"width": 0, "height": 2, "values": []}"#,
    ));
    assert!(e.contains("invalid"), "{e}");
}

#[test]
fn timestamps() {
    assert!(is_utc_timestamp("2026-03-01T12:00:00Z"));
    assert!(is_utc_timestamp("2026-03-01T12:00:00.123Z"));
    for bad in [
        "2026-03-01 12:00:00Z",
        "2026-03-01T12:00:00+01:00",
        "2026-03-01T12:00:00",
        "2026-03-01T12:00:00.Z",
        "",
        "2026-3-1T12:00:00Z",
    ] {
        assert!(!is_utc_timestamp(bad), "{bad}");
    }
}

/// The committed `.benchmarks/*.json` (written by earlier runs) still parse and validate: the
/// format is the contract.
#[test]
fn committed_results_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.benchmarks");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    if let Some(json) = read(PROFILE_REPORT_FILE) {
        ProfileReport::from_json(&json).unwrap();
    }
    if let Some(json) = read(BENCHMARK_RESULTS_FILE) {
        let b = BenchmarkResults::from_json(&json).unwrap();
        // Nothing of it is lost: it serialises back to the same bytes.
        assert_eq!(b.to_json(), json);
    }
}

/// What JSON can hold but physics cannot: each is refused with the file and the field named.
#[test]
fn impossible_values_are_refused_naming_the_field() {
    use serde_json::json;
    type Change = Box<dyn Fn(&mut serde_json::Value)>;
    let bench_cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|v| v["measured"][0]["runtime_s"] = json!(-1e9)),
            "measured[0].runtime_s",
        ),
        (
            Box::new(|v| v["measured"][1]["runtime_s"] = json!(1e300)),
            "measured[1].runtime_s",
        ),
        (
            Box::new(|v| v["measured"][0]["stage_times_s"]["fusion"] = json!(-0.5)),
            "measured[0].stage_times_s.fusion",
        ),
        (
            Box::new(|v| v["measured"][0]["stage_times_s"]["fusion"] = json!(50.0)),
            "more than runtime_s",
        ),
        (
            Box::new(|v| v["measured"][0]["accuracy"]["median_error_mm"] = json!(-1.0)),
            "measured[0].accuracy.median_error_mm",
        ),
        (
            Box::new(|v| {
                v["measured"][0]["accuracy"]["by_tolerance"][0]["precision_pct"] = json!(140.0);
            }),
            "measured[0].accuracy.by_tolerance[0].precision_pct",
        ),
        (
            Box::new(|v| {
                v["measured"][0]["accuracy"]["by_tolerance"][0]["fscore_pct"] = json!(50.0);
            }),
            "disagrees with 2PR/(P+R)",
        ),
        (
            Box::new(|v| v["measured"][0]["accuracy"]["plane_fit_rmse_mm"] = json!(9.0)),
            "exceeds plane_fit_max_error_mm",
        ),
        (
            Box::new(|v| v["simulated"][0]["drop_fraction"] = json!(1.5)),
            "simulated[0].drop_fraction",
        ),
        (
            Box::new(|v| v["simulated"][0]["n_points"] = json!(5000)),
            "exceeds mesh_samples",
        ),
        (
            Box::new(|v| v["simulated"][0]["noise_sigma_mm"] = json!(-2.0)),
            "simulated[0].noise_sigma_mm",
        ),
        (
            Box::new(|v| v["sweep_throughput"][0]["samples_per_s"] = json!(0.0)),
            "sweep_throughput[0].samples_per_s",
        ),
        (
            Box::new(|v| v["sweep_throughput"][1]["median_ms"] = json!(-3.0)),
            "sweep_throughput[1].median_ms",
        ),
        (
            Box::new(|v| v["measured"][0]["width"] = json!(0)),
            "measured[0].width",
        ),
        (
            Box::new(|v| v["regression_check"]["thresholds"]["time_pct"] = json!(-10.0)),
            "thresholds.time_pct",
        ),
        (
            Box::new(|v| {
                let row = v["measured"][0].clone();
                v["measured"].as_array_mut().unwrap().push(row);
            }),
            "repeats an earlier row",
        ),
        (
            Box::new(|v| v["machine"]["memory_gb"] = json!(-1.0)),
            "machine.memory_gb",
        ),
    ];
    for (change, needle) in bench_cases {
        let e = error_text(BenchmarkResults::from_json(&edit(BENCH, change)));
        assert!(
            e.contains(BENCHMARK_RESULTS_FILE) && e.contains(needle),
            "{needle}: {e}"
        );
    }
    let profile_cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|v| v["stages"]["fusion"]["total_time_ms"] = json!(-1e9)),
            "stages.fusion.total_time_ms",
        ),
        (
            Box::new(|v| v["stages"]["fusion"]["self_time_ms"] = json!(900.0)),
            "exceeds total_time_ms",
        ),
        (
            Box::new(|v| v["stages"]["fusion"]["memory_mb"] = json!(-4.0)),
            "stages.fusion.memory_mb",
        ),
        (
            Box::new(|v| v["stages"]["fusion"]["host_peak_rss_growth_mb"] = json!(-4.0)),
            "stages.fusion.host_peak_rss_growth_mb",
        ),
        (
            Box::new(|v| v["stages"]["undistortion"]["gpu_time_ms"] = json!(-1.0)),
            "stages.undistortion.gpu_time_ms",
        ),
        (
            Box::new(|v| v["top_bottlenecks"][1]["time_ms"] = json!(-5.0)),
            "top_bottlenecks[1].time_ms",
        ),
        (
            Box::new(|v| v["depth_batching"][2]["median_ms"] = json!(500.0)),
            "need min <= median <= max",
        ),
        (
            Box::new(|v| v["depth_batching"][2]["min_ms"] = json!(0.0)),
            "depth_batching[2].min_ms",
        ),
        (
            Box::new(|v| v["depth_batching"][1]["batch_size"] = json!(1)),
            "repeats an earlier row",
        ),
        (
            Box::new(|v| v["depth_batching"][1]["runs"] = json!(0)),
            "depth_batching[1].runs",
        ),
        (Box::new(|v| v["peak_rss_mb"] = json!(-1.0)), "peak_rss_mb"),
        (
            Box::new(|v| v["workload"]["depths"] = json!(0)),
            "workload.depths",
        ),
    ];
    for (change, needle) in profile_cases {
        let e = error_text(ProfileReport::from_json(&edit(PROFILE, change)));
        assert!(
            e.contains(PROFILE_REPORT_FILE) && e.contains(needle),
            "{needle}: {e}"
        );
    }
    // JSON has no NaN or infinity: such a number does not even parse.
    let e = error_text(BenchmarkResults::from_json(&BENCH.replacen(
        "\"runtime_s\": 12.5",
        "\"runtime_s\": 1e400",
        1,
    )));
    assert!(e.contains("runtime_s"), "{e}");
}

/// Host memory per stage is optional: old files parse without it, new ones keep it, and it is
/// not written when absent.
#[test]
fn host_memory_is_optional_and_round_trips() {
    let p = ProfileReport::from_json(PROFILE).unwrap();
    assert!(
        p.stages
            .iter()
            .all(|(_, s)| s.host_peak_rss_growth_mb.is_none())
    );
    assert!(!p.to_json().contains("host_peak_rss_growth_mb"));
    let json = edit(PROFILE, |v| {
        v["stages"]["fusion"]["host_peak_rss_growth_mb"] = 110.5.into();
    });
    let p = ProfileReport::from_json(&json).unwrap();
    assert_eq!(
        p.stages.get("fusion").unwrap().host_peak_rss_growth_mb,
        Some(110.5)
    );
    assert_eq!(ProfileReport::from_json(&p.to_json()).unwrap(), p);
}

#[test]
fn error_map_file_stays_inside_the_results_folder() {
    for bad in [
        "../outside.json",
        "/etc/passwd.json",
        "map.png",
        "a/../../b.npy",
    ] {
        let e = error_text(BenchmarkResults::from_json(&edit(BENCH, |v| {
            v["depth_error_map"]["file"] = bad.into();
        })));
        assert!(
            e.contains("depth_error_map.file") && e.contains("inside the results folder"),
            "{bad}: {e}"
        );
    }
    for good in ["maps/error_map.npy", "./error_map.json"] {
        let json = edit(BENCH, |v| v["depth_error_map"]["file"] = good.into());
        BenchmarkResults::from_json(&json).unwrap();
    }
}

#[test]
fn error_map_from_a_float_image() {
    let m = ErrorMap::from_f32("m.npy", 2, 1, &[f32::NAN, 0.5]).unwrap();
    assert_eq!(m.values, [None, Some(0.5)]);
    let e = error_text(ErrorMap::from_f32("m.npy", 3, 1, &[0.0, 1.0]));
    assert!(
        e.contains("m.npy") && e.contains("2 values for a 3x1 map"),
        "{e}"
    );
    let e = error_text(ErrorMap::from_f32("m.npy", 1 << 40, 1, &[]));
    assert!(e.contains("invalid"), "{e}");
}
