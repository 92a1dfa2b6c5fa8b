//! Output sets (all or nothing) and output locations checked before the work.

use std::path::{Path, PathBuf};

use aquamvs_io::{OutputSet, check_writable_dir};

fn scratch(test: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("aquamvs-io-out-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// Every file and folder under `dir`, relative, sorted (hidden temporaries included).
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(base).unwrap().display().to_string());
            if p.is_dir() {
                walk(base, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn a_set_writes_every_file_and_leaves_the_rest_alone() {
    let root = scratch("set");
    let dir = root.join("out");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("mine.txt"), b"keep").unwrap();
    std::fs::write(dir.join("depth.npy"), b"old").unwrap();
    let mut set = OutputSet::new(&dir);
    set.add("depth.npy", b"new depth".to_vec())
        .add("sweep.json", b"{}".to_vec())
        .add("depth/cam00.npy", b"cam".to_vec());
    assert_eq!(set.len(), 3);
    assert_eq!(set.paths()[2], dir.join("depth/cam00.npy"));
    set.commit().unwrap();
    assert_eq!(
        tree(&dir),
        [
            "depth",
            "depth.npy",
            "depth/cam00.npy",
            "mine.txt",
            "sweep.json"
        ]
    );
    assert_eq!(std::fs::read(dir.join("depth.npy")).unwrap(), b"new depth");
    assert_eq!(std::fs::read(dir.join("mine.txt")).unwrap(), b"keep");
    // A missing folder (and its parents) is made.
    let deep = root.join("a/b/c");
    let mut set = OutputSet::new(&deep);
    set.add("x.json", b"1".to_vec());
    set.commit().unwrap();
    assert_eq!(std::fs::read(deep.join("x.json")).unwrap(), b"1");
    std::fs::remove_dir_all(&root).unwrap();
}

/// `sweep` wrote depth.npy, confidence.npy and sweep.json one by one: a failure in the middle
/// left a new depth.npy beside an old sweep.json. Here the third temporary cannot be made
/// (its name is too long for the file system): the previous files stay, exactly, and nothing
/// is left behind — no temporaries, no new folders.
#[test]
fn a_failure_in_the_middle_leaves_the_previous_files_intact() {
    let root = scratch("middle");
    let dir = root.join("out");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in [("depth.npy", "old depth"), ("confidence.npy", "old conf")] {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let before = tree(&dir);
    let too_long = "s".repeat(250); // fine as a name, too long with a temporary's suffix
    let mut set = OutputSet::new(&dir);
    set.add("depth.npy", b"new depth".to_vec())
        .add("sub/confidence.npy", b"new conf".to_vec())
        .add("confidence.npy", b"new conf".to_vec())
        .add(too_long.as_str(), b"{}".to_vec());
    let e = set.commit().unwrap_err().to_string();
    assert!(e.contains(&too_long), "{e}");
    assert_eq!(tree(&dir), before, "something was left behind or removed");
    assert_eq!(std::fs::read(dir.join("depth.npy")).unwrap(), b"old depth");
    assert_eq!(
        std::fs::read(dir.join("confidence.npy")).unwrap(),
        b"old conf"
    );
    // The same into a folder that does not exist yet: not made.
    let fresh = root.join("fresh/out");
    let mut set = OutputSet::new(&fresh);
    set.add("a.npy", b"a".to_vec())
        .add(too_long.as_str(), b"b".to_vec());
    assert!(set.commit().is_err());
    assert_eq!(tree(&root), ["out", "out/confidence.npy", "out/depth.npy"]);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_names_and_things_in_the_way_are_refused_before_writing() {
    let root = scratch("names");
    let dir = root.join("out");
    std::fs::create_dir_all(dir.join("taken")).unwrap();
    std::fs::write(dir.join("afile"), b"x").unwrap();
    let before = tree(&root);
    for (name, want) in [
        ("../escape.txt", "relative path"),
        ("/abs.txt", "relative path"),
        ("", "relative path"),
        ("./a/../b", "relative path"),
        ("taken", "is a folder"),
        ("afile/inner.txt", "not a folder"),
    ] {
        let mut set = OutputSet::new(&dir);
        set.add("good.txt", b"1".to_vec()).add(name, b"2".to_vec());
        let e = set.commit().unwrap_err().to_string();
        assert!(e.contains(want), "{name:?}: {e}");
        assert_eq!(tree(&root), before, "{name:?} changed something");
    }
    let mut set = OutputSet::new(&dir);
    set.add("twice.txt", b"1".to_vec())
        .add("twice.txt", b"2".to_vec());
    assert!(set.commit().unwrap_err().to_string().contains("twice"));
    // The folder itself is a file.
    let mut set = OutputSet::new(dir.join("afile"));
    set.add("x.txt", b"1".to_vec());
    assert!(set.commit().is_err());
    assert_eq!(tree(&root), before);
    std::fs::remove_dir_all(&root).unwrap();
}

/// `sweep --out afile` failed only after the whole sweep; `reconstruct --out` a read-only
/// place after four stages. The location is checked first.
#[test]
fn output_locations_are_checked_before_the_work() {
    let root = scratch("writable");
    check_writable_dir(&root).unwrap();
    // Missing folders are fine when their nearest existing ancestor is writable, and are
    // not made by the check.
    check_writable_dir(&root.join("new/deeper")).unwrap();
    assert!(tree(&root).is_empty(), "the check left {:?}", tree(&root));
    let file = root.join("afile");
    std::fs::write(&file, b"x").unwrap();
    let e = check_writable_dir(&file).unwrap_err().to_string();
    assert!(e.contains("not a folder"), "{e}");
    let e = check_writable_dir(&file.join("sub"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a file"), "{e}");
    // Nobody, root included, may create files in /proc.
    if Path::new("/proc/self").exists() {
        let e = check_writable_dir(Path::new("/proc/aquamvs-out"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot write in /proc"), "{e}");
    }
    // A folder without write permission (where permissions apply: not to root).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ro = root.join("ro");
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
        let root_user = std::fs::write(ro.join("probe"), b"").is_ok();
        if !root_user {
            assert!(check_writable_dir(&ro.join("out")).is_err());
        }
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::remove_dir_all(&root).unwrap();
}
