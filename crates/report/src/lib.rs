//! The report writer: formats benchmark and profiling results as terminal tables,
//! reStructuredText `list-table`s, Markdown tables and SVG plots, and patches generated regions
//! of hand-written pages.
//!
//! Main types: [`Table`] (one table, three renderings), [`tables`] (one function per table),
//! [`svg`] (stage timing, batch sizes, depth-error map), [`docs`] (generated regions between
//! marker lines, YAML frontmatter keys) and [`pages`] (what goes into each region of the
//! benchmarks page and the phase's verification file, and the generated summary). It reads
//! the results format of `aquamvs-results` ([`aquamvs_results::ProfileReport`],
//! [`aquamvs_results::BenchmarkResults`], [`aquamvs_results::Verification`], …).
//!
//! **Architecture invariant: the report writer computes nothing.** It copies fields into
//! formatted cells and plots; sums, ratios, sorting, statistics, the verification verdicts and
//! the regression comparison are computed by their producers (`cargo xtask bench`,
//! `cargo xtask profile`, `aquamvs-verdicts`). **It does no I/O and knows no paths either:**
//! every function takes and returns values, and where a page names another file the caller
//! says how ([`pages::Links`]); `xtask` decides the paths, reads and writes the files
//! (atomically, through `aquamvs-io`).
//!
//! Conventions: **units are in field and column names** (`_ms`, `_mm`, `_pct`, …);
//! **a missing value prints as `—` and a non-finite one as `n/a`**, never as `NaN` or an empty
//! cell; **simulated results are labelled "simulated"** in every title and row that shows them.
//! Output is deterministic (same input, same bytes), so a regenerated page can be compared
//! with the committed one.
//!
//! ```
//! use aquamvs_report::docs::{MarkerStyle, replace_regions};
//! let page = "Intro\n.. BEGIN GENERATED: table\nold\n.. END GENERATED: table\nOutro\n";
//! let new = replace_regions(page, MarkerStyle::Rst, &[("table", "new".to_owned())]).unwrap();
//! assert_eq!(new, "Intro\n.. BEGIN GENERATED: table\n\nnew\n\n.. END GENERATED: table\nOutro\n");
//! // Idempotent:
//! assert_eq!(replace_regions(&new, MarkerStyle::Rst, &[("table", "new".to_owned())]).unwrap(), new);
//! ```

pub mod accuracy;
pub mod docs;
pub mod pages;
pub mod summary;
pub mod svg;
pub mod table;
pub mod tables;

pub use docs::{DocsError, MarkerStyle};
pub use table::Table;

/// Errors from rendering results.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The results themselves are not usable (an error map of the wrong size).
    #[error(transparent)]
    Results(#[from] aquamvs_results::ResultsError),
    /// A value breaks a rule of the rendering.
    #[error("{what}: {message}")]
    Invalid {
        /// Which value.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// A page's markers or frontmatter are not usable.
    #[error(transparent)]
    Docs(#[from] DocsError),
    /// The error-map PNG could not be encoded.
    #[error("PNG encoding: {0}")]
    Png(String),
}
