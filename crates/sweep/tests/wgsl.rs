//! Every `.wgsl` file under `crates/` parses and validates with naga (no GPU needed).

use std::path::{Path, PathBuf};

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

#[test]
fn every_wgsl_file_validates() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    wgsl_files(crates, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("sweep/src/warp.wgsl"))
            && files.iter().any(|f| f.ends_with("sweep/src/cost.wgsl")),
        "the sweep's shaders were not found under {}: {files:?}",
        crates.display()
    );
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
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
