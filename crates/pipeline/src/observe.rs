//! Observers of a run: hooks that the one chain of stages calls around each stage and each
//! view, as criterion's `Report` observes a benchmark. Timing, progress lines and the profiler
//! attach here; the stages themselves are never instrumented.

use aquamvs_profiler::{Profiler, ScopeStatus, ScopeToken};

use crate::{PipelineError, StageReport};

/// Where a stage's work runs: decides whether a profiler brackets it with GPU timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageKind {
    /// Submits GPU work.
    Gpu,
    /// CPU only.
    Cpu,
}

/// Hooks called by [`crate::Pipeline::reconstruct`]. Every method defaults to doing nothing.
///
/// `begin`/`end` bracket each of the five stages (names `undistortion`, `sparse_matching`,
/// `depth_estimation`, `fusion`, `surface_reconstruction`) and, nested inside, each view of
/// the per-view stages (`undistortion/<camera>`, `depth_estimation/<camera>`); `end` gets the
/// stage's error when it failed. `stage_done` follows the `end` of a top-level stage that
/// succeeded, with its wall time and summary.
pub trait Observer {
    /// A stage or view starts.
    fn begin(&mut self, _name: &str, _kind: StageKind) {}
    /// The stage or view opened last ends.
    fn end(&mut self, _name: &str, _error: Option<&PipelineError>) {}
    /// A top-level stage finished.
    fn stage_done(&mut self, _report: &StageReport) {}
}

/// Observes nothing.
impl Observer for () {}

/// Calls a closure with each finished stage (progress lines).
#[derive(Debug)]
pub struct Progress<F>(pub F);

impl<F: FnMut(&StageReport)> Observer for Progress<F> {
    fn stage_done(&mut self, report: &StageReport) {
        (self.0)(report)
    }
}

/// Attaches a [`Profiler`]: each stage and view becomes a profiler scope (GPU stages in GPU
/// scopes, CPU stages in CPU-only scopes), ended with the stage's error when it fails; the
/// finished stages also go to an optional progress closure.
pub struct Profiled<'p> {
    profiler: &'p mut Profiler,
    open: Vec<ScopeToken>,
    progress: Option<ProgressFn<'p>>,
}

/// A progress closure.
type ProgressFn<'p> = Box<dyn FnMut(&StageReport) + 'p>;

impl std::fmt::Debug for Profiled<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profiled")
            .field("open", &self.open.len())
            .finish_non_exhaustive()
    }
}

impl<'p> Profiled<'p> {
    /// Scopes go to `profiler`.
    pub fn new(profiler: &'p mut Profiler) -> Self {
        Self {
            profiler,
            open: Vec::new(),
            progress: None,
        }
    }

    /// Also reports finished stages to `f`.
    pub fn with_progress(mut self, f: impl FnMut(&StageReport) + 'p) -> Self {
        self.progress = Some(Box::new(f));
        self
    }
}

impl Observer for Profiled<'_> {
    fn begin(&mut self, name: &str, kind: StageKind) {
        let token = match kind {
            StageKind::Gpu => self.profiler.begin(name),
            StageKind::Cpu => self.profiler.begin_cpu(name),
        };
        self.open.push(token);
    }

    fn end(&mut self, _name: &str, error: Option<&PipelineError>) {
        if let Some(token) = self.open.pop() {
            let status = match error {
                None => ScopeStatus::Ok,
                Some(e) => ScopeStatus::Error(e.to_string()),
            };
            // The token is this profiler's and still open: `end_with` cannot fail here.
            let _ = self.profiler.end_with(token, status);
        }
    }

    fn stage_done(&mut self, report: &StageReport) {
        if let Some(f) = &mut self.progress {
            f(report)
        }
    }
}

/// Runs `f` between `obs.begin(name)` and `obs.end(name, error)`.
pub(crate) fn observed<T>(
    obs: &mut dyn Observer,
    name: &str,
    kind: StageKind,
    f: impl FnOnce(&mut dyn Observer) -> Result<T, PipelineError>,
) -> Result<T, PipelineError> {
    obs.begin(name, kind);
    let result = f(obs);
    obs.end(name, result.as_ref().err());
    result
}
