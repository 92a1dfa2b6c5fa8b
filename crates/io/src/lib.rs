//! File formats of the workspace: PLY point clouds and meshes, NumPy `.npy` arrays, PNG images,
//! and the `rig.json` / `scene.json` of a scene folder; output locations checked before the
//! work ([`check_writable_dir`]) and sets of output files written all or nothing
//! ([`OutputSet`]).
//!
//! **Architecture invariant:** this crate and `xtask` are the only ones that touch the file
//! system. Writes are atomic: each file is written to a temporary sibling, then renamed; a set
//! of files writes every temporary before renaming any ([`OutputSet`]); a scene folder is built
//! in a temporary sibling folder and renamed into place ([`scene_dir`]). Reads check a file's
//! header before its body and refuse sizes the file cannot hold before allocating.

pub mod aquacal;
pub mod aquamvs_project;
pub mod atomic;
pub mod frames;
mod host;
pub mod image;
pub mod npy;
mod output;
pub mod ply;
pub mod scene_dir;

pub use atomic::write_atomic;
pub use host::{HostFacts, host_facts, memory_available};
pub use output::{OutputSet, check_writable_dir};

/// Errors from reading and writing files.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The operating system refused.
    #[error("{path}: {source}")]
    Os {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not in the expected format.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl IoError {
    pub(crate) fn os(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Os {
            path: path.to_owned(),
            source,
        }
    }
    pub(crate) fn format(path: &std::path::Path, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}
