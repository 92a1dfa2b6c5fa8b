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
