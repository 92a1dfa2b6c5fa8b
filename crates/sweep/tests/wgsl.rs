//! Every `.wgsl` file under `crates/` parses and validates with naga (no GPU needed).
//!
//! A folder holding a prelude `params.wgsl` (the sweep's shaders) is loaded as the sweep loads
//! it: the prelude alone, and every other shader of the folder joined after it. The camera
//! crate's lens models and refractive projection (`lens.wgsl`, `refract.wgsl`) come first in
//! every shader but their own files, as the shaders join them.

use std::path::{Path, PathBuf};

/// The prelude joined before every other shader of its folder.
const PRELUDE: &str = "params.wgsl";

fn wgsl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            wgsl_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "wgsl") {
            out.push(path);
        }
    }
}

/// The source of `file` as compiled: after the lens models and its folder's prelude, if it
/// has one.
fn joined_source(file: &Path) -> String {
    let source = std::fs::read_to_string(file).unwrap();
    if file.file_name().is_some_and(|n| n == "lens.wgsl") {
        return source;
    }
    let mut lens = aquamvs_camera::LENS_WGSL.to_owned() + "\n";
    if file.file_name().is_none_or(|n| n != "refract.wgsl") {
        lens = lens + aquamvs_camera::REFRACT_WGSL + "\n";
    }
    let prelude = file.with_file_name(PRELUDE);
    if file.file_name().is_some_and(|n| n == PRELUDE) || !prelude.exists() {
        return lens + &source;
    }
    lens + &std::fs::read_to_string(prelude).unwrap() + "\n" + &source
}

#[test]
fn every_wgsl_file_validates() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    wgsl_files(crates, &mut files);
    for wanted in ["warp", "ncc", "cost", "params"] {
        assert!(
            files
                .iter()
                .any(|f| f.ends_with(format!("sweep/src/gpu/{wanted}.wgsl"))),
            "the sweep's {wanted}.wgsl was not found under {}: {files:?}",
            crates.display()
        );
    }
    for file in &files {
        let source = joined_source(file);
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{}: {}", file.display(), e.emit_to_string(&source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::all(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {}", file.display(), e.emit_to_string(&source)));
    }
    eprintln!("validated {} WGSL files", files.len());
}
