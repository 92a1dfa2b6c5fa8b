//! The AquaMVS peer runner's plumbing (`tools/peer/aquamvs_sweep.py`), with the system Python
//! and without AquaMVS or PyTorch (CI does not install them): a bad job is refused with one
//! line and exit code 2 before anything heavy is imported; a good job on an interpreter without
//! the peer answers `peer unavailable:` with exit code 3 (which `bench --peer` turns into a
//! skipped row); and `bench` names a missing interpreter instead of failing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aquamvs-peer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `python3`, which every machine of this project has; without it the test fails.
fn python() -> &'static str {
    let ok = Command::new("python3").arg("--version").output().is_ok();
    assert!(
        ok,
        "python3 is required for the peer runner's plumbing test"
    );
    "python3"
}

fn run(py: &str, job: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(py)
        .arg(root().join("tools/peer/aquamvs_sweep.py"))
        .arg("--job")
        .arg(job)
        .args(extra)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    (out.status.code().unwrap_or(-1), err)
}

#[test]
fn the_runner_refuses_bad_jobs_and_reports_a_missing_peer() {
    let py = python();
    let dir = scratch("runner");
    let project = dir.join("project");
    for cam in ["cam00", "cam01"] {
        let d = project.join("images").join(cam);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("frame_000000.png"),
            b"not read before the peer loads",
        )
        .unwrap();
    }
    std::fs::write(project.join("calibration.json"), "{}").unwrap();
    let good = serde_json::json!({
        "project": project, "reference": "cam00", "sources": ["cam01"],
        "depth_min": 0.1, "depth_max": 0.3, "num_depths": 8, "window": 5,
        "threads": 1, "repeats": 1,
    });
    let write = |name: &str, v: &serde_json::Value| {
        let p = dir.join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    };
    let mut cases = Vec::new();
    for (edit, says) in [
        ("num_depths", "'num_depths'"),
        ("window", "'window'"),
        ("sources", "also listed as a source"),
        ("project", "'project'"),
    ] {
        let mut bad = good.clone();
        bad[edit] = match edit {
            "num_depths" => serde_json::json!(1),
            "window" => serde_json::json!(4),
            "sources" => serde_json::json!(["cam00"]),
            _ => serde_json::json!("relative/path"),
        };
        cases.push((write(&format!("{edit}.json"), &bad), says));
    }
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("depth_max");
    cases.push((write("missing.json", &missing), "missing field 'depth_max'"));
    cases.push((dir.join("absent.json"), "no such file"));
    for (job, says) in cases {
        let (code, err) = run(py, &job, &["--check"]);
        assert_eq!(code, 2, "{job:?}: {err}");
        assert!(err.starts_with("bad job:") && err.contains(says), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    // A valid job on an interpreter without AquaMVS: one line saying how to install it.
    let has_peer = Command::new(py)
        .args(["-c", "import aquamvs, torch"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_peer {
        let (code, err) = run(py, &write("good.json", &good), &["--out", "unused"]);
        assert_eq!(code, 3, "{err}");
        assert!(
            err.starts_with("peer unavailable:") && err.contains("pip install"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
