//! `cargo xtask bench --compare BASE.json CURRENT.json` flags a doctored result whose stage is
//! 20 % slower, passes identical results, and refuses to compare nothing or impossible values.

use std::path::Path;
use std::process::Command;

fn base() -> serde_json::Value {
    let accuracy = serde_json::json!({
        "mean_error_mm": 0.8, "median_error_mm": 0.6, "std_error_mm": 0.5,
        "raw_completeness_pct": 2.0, "accurate_completeness_pct": 99.0,
        "plane_fit_rmse_mm": 0.9, "plane_fit_max_error_mm": 3.0,
        "by_tolerance": [{"tolerance_mm": 5.0, "precision_pct": 99.0, "recall_pct": 90.0, "fscore_pct": 94.3}]
    });
    serde_json::json!({
        "generated_at": "2000-01-01T00:00:00Z",
        "command": "FIXTURE (test input, not a result)",
        "machine": {"cpu_model": "fixture", "cores": 2, "memory_gb": 1.0, "os": "fixture",
                    "adapter": "fixture", "backend": "cpu"},
        "simulated": [{"name": "RoMa-like (simulated)", "scene": "flat", "n_points": 10,
                       "noise_sigma_mm": 1.0, "drop_fraction": 0.05, "seed": 1, "accuracy": accuracy}],
        "measured": [{"scene": "flat", "method": "refractive", "width": 64, "height": 48,
                      "depths": 8, "window": 5, "batch": 4, "backend": "cpu", "adapter": "fixture",
                      "n_points": 100, "runtime_s": 10.0,
                      "stage_times_s": {"sparse_matching": 2.0, "depth_estimation": 6.0, "fusion": 2.0},
                      "accuracy": accuracy}]
    })
}

fn run(dir: &Path, base: &serde_json::Value, current: &serde_json::Value) -> (bool, String) {
    let b = dir.join("base.json");
    let c = dir.join("current.json");
    std::fs::write(&b, base.to_string()).unwrap();
    std::fs::write(&c, current.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["bench", "--compare"])
        .arg(&b)
        .arg(&c)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("aquamvs-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_stage_twenty_percent_slower_is_a_regression() {
    let dir = temp_dir("compare-slow");
    let base = base();
    let mut current = base.clone();
    current["measured"][0]["stage_times_s"]["depth_estimation"] = serde_json::json!(7.2);
    current["measured"][0]["runtime_s"] = serde_json::json!(11.2);
    let (ok, text) = run(&dir, &base, &current);
    assert!(!ok, "a 20 % slower stage must fail the check:\n{text}");
    assert!(text.contains("depth_estimation"), "{text}");
    assert!(text.contains("REGRESSION"), "{text}");
    assert!(text.contains("+20.0 %"), "{text}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn identical_results_pass_and_a_small_change_is_tolerated() {
    let dir = temp_dir("compare-same");
    let base = base();
    let (ok, text) = run(&dir, &base, &base);
    assert!(ok, "{text}");
    let mut current = base.clone();
    current["measured"][0]["stage_times_s"]["fusion"] = serde_json::json!(2.1); // +5 % < 10 %
    let (ok, text) = run(&dir, &base, &current);
    assert!(ok, "{text}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn worse_accuracy_and_a_missing_row_are_regressions() {
    let dir = temp_dir("compare-acc");
    let base = base();
    let mut current = base.clone();
    current["simulated"][0]["accuracy"]["median_error_mm"] = serde_json::json!(0.7);
    let (ok, text) = run(&dir, &base, &current);
    assert!(!ok && text.contains("median error"), "{text}");
    let mut current = base.clone();
    current["measured"] = serde_json::json!([]);
    let (ok, text) = run(&dir, &base, &current);
    assert!(!ok && text.contains("missing"), "{text}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_malformed_file_is_a_clear_error() {
    let dir = temp_dir("compare-bad");
    let (ok, text) = run(&dir, &base(), &serde_json::json!({"measured": 3}));
    assert!(
        !ok && text.contains("not a valid benchmark results file"),
        "{text}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn comparing_nothing_is_an_error() {
    let dir = temp_dir("compare-nothing");
    let mut empty = base();
    for rows in ["simulated", "measured"] {
        empty[rows] = serde_json::json!([]);
    }
    empty["sweep_throughput"] = serde_json::json!([]);
    let (ok, text) = run(&dir, &empty, &base());
    assert!(!ok && text.contains("nothing to compare"), "{text}");
    assert!(!text.contains("no regression"), "{text}");
    std::fs::remove_dir_all(dir).ok();
}

/// Negative runtimes, stage times or errors in either file are an error naming the file and
/// the field, never a verdict (and never "+573.8 %").
#[test]
fn impossible_values_are_an_error() {
    let dir = temp_dir("compare-impossible");
    type Change = fn(&mut serde_json::Value);
    let cases: [(&str, Change); 3] = [
        ("measured[0].runtime_s", |v| {
            v["measured"][0]["runtime_s"] = serde_json::json!(-10.0);
        }),
        ("measured[0].stage_times_s.fusion", |v| {
            v["measured"][0]["stage_times_s"]["fusion"] = serde_json::json!(-2.0);
        }),
        ("simulated[0].accuracy.median_error_mm", |v| {
            v["simulated"][0]["accuracy"]["median_error_mm"] = serde_json::json!(-0.6);
        }),
    ];
    for (field, change) in cases {
        let mut bad = base();
        change(&mut bad);
        for (b, c, file) in [
            (&base(), &bad, "current.json"),
            (&bad, &base(), "base.json"),
        ] {
            let (ok, text) = run(&dir, b, c);
            assert!(!ok, "{field} in {file} must fail:\n{text}");
            assert!(text.contains(file) && text.contains(field), "{text}");
            assert!(
                !text.contains(" %") && !text.contains("no regression"),
                "{text}"
            );
        }
    }
    std::fs::remove_dir_all(dir).ok();
}
