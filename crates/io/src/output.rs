//! Output locations checked before the work, and sets of output files written all or nothing.
//!
//! A command that runs for minutes first calls [`check_writable_dir`] on its output folder
//! (refusing a file in the way or a place it cannot write, before any work), computes
//! everything, encodes each output file to bytes, and hands them to one [`OutputSet`]:
//!
//! ```
//! # let dir = std::env::temp_dir().join(format!("aquamvs-io-doc-{}", std::process::id()));
//! use aquamvs_io::{OutputSet, check_writable_dir};
//! check_writable_dir(&dir)?; // before the work
//! // ... minutes of work ...
//! let mut out = OutputSet::new(&dir);
//! out.add("depth.npy", aquamvs_io::npy::encode_f32(1, 2, &[0.5, 0.25]))
//!     .add("sweep.json", b"{}\n".to_vec())
//!     .add("depth/cam00.npy", aquamvs_io::npy::encode_f32(1, 1, &[1.0]));
//! out.commit()?; // every file, or none
//! assert!(dir.join("depth/cam00.npy").is_file());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), aquamvs_io::IoError>(())
//! ```

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::IoError;

/// Checks, **before any work**, that `dir` can receive output files: it is a folder, or does
/// not exist yet and its nearest existing ancestor is a folder; and a file can be created in
/// that folder (tried with a uniquely named empty file, removed at once). Refuses an existing
/// file (or a file where a parent folder should be), a read-only file system and a folder
/// without write permission. Nothing is left behind; missing folders are not created.
pub fn check_writable_dir(dir: &Path) -> Result<(), IoError> {
    let mut at = dir.to_path_buf();
    loop {
        match std::fs::metadata(&at) {
            Ok(m) if m.is_dir() => break,
            Ok(_) if at == dir => {
                return Err(IoError::format(dir, "exists and is not a folder"));
            }
            Ok(_) => {
                return Err(IoError::format(
                    dir,
                    format!("cannot be made: {} is a file, not a folder", at.display()),
                ));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                at = match at.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                    _ => PathBuf::from("."),
                };
            }
            Err(e) => return Err(IoError::os(&at, e)),
        }
    }
    let probe = at.join(format!(".aquamvs-write-test-{}", stamp()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            std::fs::remove_file(&probe).map_err(|e| IoError::os(&probe, e))?;
            Ok(())
        }
        Err(e) => Err(IoError::Format {
            path: dir.to_owned(),
            message: format!("cannot write in {}: {e}", at.display()),
        }),
    }
}

/// Several output files, written **all or nothing** by [`OutputSet::commit`].
///
/// Files are named relative to the set's folder and may lie in subfolders (`depth/cam00.npy`;
/// no `..`, no absolute paths). Files of the folder that are not in the set are left alone,
/// so a set can be written into a folder that holds other things.
///
/// **The commit**: (1) every name is checked and missing folders are made; (2) every file is
/// written to a temporary sibling (`.NAME.tmp-…`) and flushed to disk; (3) each existing
/// target is kept as a hard link (`.NAME.old-…`, a copy where links are not supported);
/// (4) the temporaries are renamed over their targets; (5) the kept old files are removed.
/// A failure at any step removes every temporary and every folder it made, and puts back
/// every target already replaced: the folder holds the previous files, exactly.
/// Readers see each file old or new, never half-written; between the first and the last
/// rename (microseconds) they may see some files new and others old.
#[derive(Debug, Clone, Default)]
pub struct OutputSet {
    dir: PathBuf,
    files: Vec<(PathBuf, Vec<u8>)>,
}

impl OutputSet {
    /// An empty set of files for the folder `dir` (made by the commit if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            files: Vec::new(),
        }
    }

    /// Adds the file `name` (relative to the folder; subfolders allowed) with its contents.
    /// Names are checked by [`OutputSet::commit`].
    pub fn add(&mut self, name: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.files.push((name.into(), bytes.into()));
        self
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The full paths of the files, in the order they were added.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.iter().map(|(n, _)| self.dir.join(n)).collect()
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// `true` when no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Writes every file, or none (see the type's documentation). The error names the file
    /// or folder that failed.
    pub fn commit(self) -> Result<(), IoError> {
        self.commit_with(|from, to| std::fs::rename(from, to))
    }

    /// [`OutputSet::commit`] with the final rename passed in (tests make it fail).
    fn commit_with(
        self,
        mut rename: impl FnMut(&Path, &Path) -> std::io::Result<()>,
    ) -> Result<(), IoError> {
        let mut seen = BTreeSet::new();
        for (name, _) in &self.files {
            let plain = !name.as_os_str().is_empty()
                && name.components().all(|c| matches!(c, Component::Normal(_)));
            if !plain {
                return Err(IoError::format(
                    &self.dir.join(name),
                    "an output name must be a relative path without `.` or `..`",
                ));
            }
            if !seen.insert(name) {
                return Err(IoError::format(
                    &self.dir.join(name),
                    "named twice in one output set",
                ));
            }
        }
        let targets = self.paths();
        let mut undo = Undo::default();
        let result = (|| {
            for t in &targets {
                let parent = t.parent().unwrap_or(&self.dir);
                make_folders(parent, &mut undo.folders)?;
                if std::fs::symlink_metadata(t).is_ok_and(|m| m.is_dir()) {
                    return Err(IoError::format(
                        t,
                        "is a folder, in the way of an output file",
                    ));
                }
            }
            let stamp = stamp();
            for (i, (t, (_, bytes))) in targets.iter().zip(&self.files).enumerate() {
                let tmp = sibling(t, "tmp", &stamp, i);
                undo.temps.push(tmp.clone());
                write_new(&tmp, bytes).map_err(|e| IoError::os(t, e))?;
            }
            for (i, t) in targets.iter().enumerate() {
                let kept = if t.exists() {
                    let old = sibling(t, "old", &stamp, i);
                    std::fs::hard_link(t, &old)
                        .or_else(|_| std::fs::copy(t, &old).map(|_| ()))
                        .map_err(|e| IoError::os(t, e))?;
                    Some(old)
                } else {
                    None
                };
                undo.kept.push(kept);
            }
            for (i, t) in targets.iter().enumerate() {
                rename(&undo.temps[i], t).map_err(|e| IoError::os(t, e))?;
                undo.renamed = i + 1;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                for old in undo.kept.iter().flatten() {
                    let _ = std::fs::remove_file(old);
                }
                Ok(())
            }
            Err(e) => {
                undo.roll_back(&targets);
                Err(e)
            }
        }
    }
}

/// What a failed commit must take back.
#[derive(Debug, Default)]
struct Undo {
    /// Folders made, outermost first.
    folders: Vec<PathBuf>,
    /// Temporaries, one per target, in order.
    temps: Vec<PathBuf>,
    /// The kept old file of each target (`None`: there was none).
    kept: Vec<Option<PathBuf>>,
    /// Targets already replaced.
    renamed: usize,
}

impl Undo {
    fn roll_back(self, targets: &[PathBuf]) {
        for (i, t) in targets.iter().enumerate().take(self.renamed) {
            match self.kept.get(i).cloned().flatten() {
                Some(old) => {
                    let _ = std::fs::rename(old, t);
                }
                None => {
                    let _ = std::fs::remove_file(t);
                }
            }
        }
        for tmp in self.temps.iter().skip(self.renamed) {
            let _ = std::fs::remove_file(tmp);
        }
        for old in self.kept.iter().skip(self.renamed).flatten() {
            let _ = std::fs::remove_file(old);
        }
        for folder in self.folders.iter().rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
}

/// Makes `dir` and its missing ancestors, recording each folder made (outermost first).
fn make_folders(dir: &Path, made: &mut Vec<PathBuf>) -> Result<(), IoError> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(p) = at.filter(|p| !p.as_os_str().is_empty()) {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => break,
            Ok(m) if m.is_symlink() && p.is_dir() => break,
            Ok(_) => return Err(IoError::format(p, "is not a folder")),
            Err(_) => missing.push(p.to_path_buf()),
        }
        at = p.parent();
    }
    for p in missing.into_iter().rev() {
        std::fs::create_dir(&p).map_err(|e| IoError::os(&p, e))?;
        made.push(p);
    }
    Ok(())
}

/// `DIR/.NAME.TAG-STAMP-I` beside `target`.
fn sibling(target: &Path, tag: &str, stamp: &str, i: usize) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{tag}-{stamp}-{i}"))
}

/// Process id and time: unique enough for temporary names.
fn stamp() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    )
}

/// Creates `path` (which must not exist), writes `bytes` and flushes them to disk.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A failure in the middle of the renames puts back every file already replaced and
    /// removes what was new.
    #[test]
    fn a_failed_rename_rolls_back_the_replaced_files() {
        let dir = std::env::temp_dir().join(format!("aquamvs-io-rollback-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.txt"), b"old a").unwrap();
        std::fs::write(dir.join("c.txt"), b"old c").unwrap();
        let mut set = OutputSet::new(&dir);
        set.add("a.txt", b"new a".to_vec())
            .add("sub/b.txt", b"new b".to_vec())
            .add("c.txt", b"new c".to_vec());
        let mut calls = 0;
        let e = set
            .commit_with(|from, to| {
                calls += 1;
                if calls == 3 {
                    return Err(std::io::Error::other("disk on fire"));
                }
                std::fs::rename(from, to)
            })
            .unwrap_err();
        assert!(e.to_string().contains("c.txt") && e.to_string().contains("disk on fire"));
        assert_eq!(std::fs::read(dir.join("a.txt")).unwrap(), b"old a");
        assert_eq!(std::fs::read(dir.join("c.txt")).unwrap(), b"old c");
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["a.txt", "c.txt"],
            "temporaries or new folders left behind"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
