//! Cheap conventions checked on every file of the repository, in the style of rust-analyzer's
//! tidy test: every Rust file opens with a `//!` doc line, no trailing whitespace or tabs in
//! sources and docs, every WGSL file sits beside Rust code that binds it, and the README keeps
//! exactly its two commands.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable directory") {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') && name != ".benchmarks" || name == "target" {
            continue;
        }
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn all_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["crates", "xtask", "docs"] {
        files(&root().join(sub), &mut out);
    }
    out
}

fn ext(p: &Path) -> &str {
    p.extension().and_then(|e| e.to_str()).unwrap_or("")
}

#[test]
fn rust_files_open_with_a_module_doc() {
    let rs: Vec<PathBuf> = all_files().into_iter().filter(|p| ext(p) == "rs").collect();
    assert!(rs.len() > 20, "found only {} Rust files", rs.len());
    let bad: Vec<_> = rs
        .iter()
        .filter(|p| {
            !std::fs::read_to_string(p)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .collect();
    assert!(bad.is_empty(), "files without a `//!` first line: {bad:?}");
}

#[test]
fn no_trailing_whitespace_or_tabs() {
    let mut bad = Vec::new();
    for p in all_files()
        .into_iter()
        .filter(|p| matches!(ext(p), "rs" | "wgsl" | "toml" | "md" | "rst"))
    {
        let text = std::fs::read_to_string(&p).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.ends_with(' ') || (line.contains('\t') && ext(&p) != "md") {
                bad.push(format!("{}:{}", p.display(), i + 1));
            }
        }
    }
    assert!(bad.is_empty(), "trailing whitespace or tabs at {bad:?}");
}

#[test]
fn every_wgsl_file_is_bound_by_rust_beside_it() {
    let files = all_files();
    let wgsl: Vec<&PathBuf> = files.iter().filter(|p| ext(p) == "wgsl").collect();
    assert!(
        !wgsl.is_empty(),
        "no .wgsl file found: did the shaders move?"
    );
    for shader in wgsl {
        let name = shader.file_name().unwrap().to_str().unwrap();
        let dir = shader.parent().unwrap();
        let bound = std::fs::read_dir(dir).unwrap().any(|e| {
            let p = e.unwrap().path();
            ext(&p) == "rs" && std::fs::read_to_string(&p).unwrap().contains(name)
        });
        assert!(
            bound,
            "{} is not loaded by any Rust file beside it",
            shader.display()
        );
    }
}

#[test]
fn readme_has_its_two_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("cargo xtask bench"));
    assert!(readme.contains("cargo test --workspace --release"));
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let (bench, test) = (
        ci.find("\ncargo xtask bench\n"),
        ci.find("\ncargo test --workspace --release"),
    );
    assert!(
        matches!((bench, test), (Some(b), Some(t)) if b < t),
        ".ci/run must run the README's main job, then its test command"
    );
}
