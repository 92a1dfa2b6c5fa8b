//! The profiler's error type.

/// What can go wrong when using a [`crate::Profiler`].
///
/// GPU read-back failures are not errors: they become `warnings` in the report and the affected
/// stages keep their CPU times (`gpu_time_ms` is then `null`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfilerError {
    /// A [`crate::ScopeToken`] from another profiler was passed to [`crate::Profiler::end`].
    #[error("scope {name:?} belongs to another profiler")]
    ForeignScope {
        /// The scope's name.
        name: String,
    },
    /// The scope was already ended (for example by its parent, which ends every scope left
    /// open inside it).
    #[error("scope {name:?} was already ended (status: {status})")]
    AlreadyEnded {
        /// The scope's name.
        name: String,
        /// The status it was ended with.
        status: String,
    },
}
