//! Architecture tidy: the invariants of `ARCHITECTURE.md`, enforced (as rust-analyzer's
//! `tidy.rs` does; `tidy.rs` beside this file keeps the cheap per-file conventions). Fails
//! when a crate outside the allowed set depends on wgpu, touches the file system or uses
//! anyhow; when `ARCHITECTURE.md`'s dependency list disagrees with the `Cargo.toml` files;
//! when a non-test source file is over 700 lines; when xtask's sources grow past 3,700 lines;
//! and when a stage function is called from xtask (the pipeline is the one chain of stages).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Crates that may depend on wgpu (normal dependencies).
const WGPU: [&str; 5] = ["gpu", "sweep", "patchmatch", "pipeline", "profiler"];
/// Crates that may touch the file system, with the one exception: reading `/proc` for the
/// process's own memory.
const FILE_SYSTEM: [&str; 1] = ["io"];
const PROC_READERS: [&str; 1] = ["crates/profiler/src/memory.rs"];
/// Stage functions that only `aquamvs_pipeline::Pipeline::reconstruct` chains.
const STAGE_FUNCTIONS: [&str; 8] = [
    "sparse_matching(",
    "depth_estimation(",
    "fuse(",
    "fusion(",
    "height_field_surface(",
    "surface_reconstruction(",
    "undistort_cpu(",
    "GpuUndistort",
];
const MAX_LINES: usize = 700;
// Raised from 3,200 when `bench` gained the depth-method comparison (methods.rs) and the
// `--pm-*` flags: thin glue over the libraries, no algorithm.
// Raised from 3,600 when `board` (the board-validation command) and `--sweep-engine` came:
// the board protocol lives in `aquamvs-board`, the native sweep in `aquamvs-sweep`.
const MAX_XTASK_LINES: usize = 3700;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace root")
        .to_path_buf()
}

/// Every workspace member: short name (`pipeline`, `xtask`) → its folder.
fn members() -> BTreeMap<String, PathBuf> {
    let root = root();
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let dir = entry.unwrap().path();
        if dir.join("Cargo.toml").exists() {
            let name = dir.file_name().unwrap().to_str().unwrap().to_owned();
            out.insert(name, dir);
        }
    }
    out.insert("xtask".into(), root.join("xtask"));
    assert!(out.len() >= 10, "found only {:?}", out.keys());
    out
}

/// The names in a manifest's `[dependencies]` table (not dev or build dependencies).
fn dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut in_deps = false;
    let mut deps = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once(['.', '=']) {
            let name = name.trim();
            if !name.is_empty() && !name.starts_with('#') {
                deps.insert(name.to_owned());
            }
        }
    }
    deps
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The source files of a member's library or binary (`src/`), sorted.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    rust_files(&dir.join("src"), &mut files);
    files.sort();
    files
}

/// The lines of a file before its first `#[cfg(test)]` (its non-test part).
fn non_test(text: &str) -> Vec<&str> {
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .collect()
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap().display().to_string()
}

#[test]
fn only_the_gpu_crates_use_wgpu_and_only_xtask_uses_anyhow() {
    let mut bad = Vec::new();
    for (name, dir) in members() {
        let deps = dependencies(&dir.join("Cargo.toml"));
        if deps.contains("wgpu") && !WGPU.contains(&name.as_str()) && name != "xtask" {
            bad.push(format!(
                "{name} depends on wgpu (allowed: {WGPU:?} and xtask)"
            ));
        }
        if deps.contains("anyhow") && name != "xtask" {
            bad.push(format!("{name} depends on anyhow (only xtask may)"));
        }
        for file in sources(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            if name != "xtask" && text.contains("anyhow") {
                bad.push(format!("{} uses anyhow", rel(&file)));
            }
            if name != "xtask" && !WGPU.contains(&name.as_str()) && text.contains("wgpu::") {
                bad.push(format!("{} uses wgpu", rel(&file)));
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn only_io_and_xtask_touch_the_file_system() {
    let mut bad = Vec::new();
    for (name, dir) in members() {
        if name == "xtask" || FILE_SYSTEM.contains(&name.as_str()) {
            continue;
        }
        for file in sources(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = non_test(&text).join("\n");
            let touches = ["std::fs", "fs::", "File::", "OpenOptions", "read_dir"]
                .iter()
                .any(|pat| code.contains(pat));
            let proc_only = PROC_READERS.contains(&rel(&file).as_str())
                && code
                    .lines()
                    .filter(|l| l.contains("fs::"))
                    .all(|l| l.contains("\"/proc/"));
            if touches && !proc_only {
                bad.push(rel(&file));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "file-system access outside aquamvs-io and xtask: {bad:?}"
    );
}

/// `ARCHITECTURE.md`'s "Dependencies" list (`- \`pipeline\` → camera, gpu, …`) is exactly
/// the workspace dependencies of each member's `[dependencies]`.
#[test]
fn the_architecture_doc_lists_the_real_dependencies() {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let mut listed: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let section = doc
        .split("\n## Dependencies\n")
        .nth(1)
        .expect("ARCHITECTURE.md has a `## Dependencies` section");
    let section = section.split("\n## ").next().unwrap();
    for line in section.lines() {
        let Some(rest) = line.strip_prefix("- `") else {
            continue;
        };
        let (name, deps) = rest.split_once("` →").expect("- `crate` → deps");
        let deps: BTreeSet<String> = deps
            .split(',')
            .map(|d| d.trim().trim_end_matches('.').to_owned())
            .filter(|d| !d.is_empty() && d != "(none)")
            .collect();
        listed.insert(name.to_owned(), deps);
    }
    let mut actual = BTreeMap::new();
    for (name, dir) in members() {
        let deps: BTreeSet<String> = dependencies(&dir.join("Cargo.toml"))
            .into_iter()
            .filter_map(|d| d.strip_prefix("aquamvs-").map(str::to_owned))
            .collect();
        actual.insert(name, deps);
    }
    assert_eq!(
        listed, actual,
        "ARCHITECTURE.md's dependency list (left) disagrees with the Cargo.toml files (right)"
    );
}

#[test]
fn source_files_stay_small() {
    let mut bad = Vec::new();
    let mut xtask_lines = 0;
    for (name, dir) in members() {
        for file in sources(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            let n = non_test(&text).len();
            if n > MAX_LINES {
                bad.push(format!(
                    "{} has {n} non-test lines (> {MAX_LINES}): split it by concern",
                    rel(&file)
                ));
            }
            if name == "xtask" {
                xtask_lines += text.lines().count();
            }
        }
    }
    if xtask_lines > MAX_XTASK_LINES {
        bad.push(format!(
            "xtask/src has {xtask_lines} lines (> {MAX_XTASK_LINES}): move the work into the libraries"
        ));
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn xtask_never_chains_the_stages_itself() {
    let mut bad = Vec::new();
    for file in sources(&root().join("xtask")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for f in STAGE_FUNCTIONS {
                if code.contains(f) && !code.contains(&format!(".{f}")) {
                    bad.push(format!("{}:{}: {}", rel(&file), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "stage functions called from xtask (use aquamvs_pipeline::Pipeline::reconstruct):\n{}",
        bad.join("\n")
    );
}
