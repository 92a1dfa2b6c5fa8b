//! The report writer: formats benchmark and profiling results as terminal tables,
//! reStructuredText `list-table`s, Markdown tables and SVG plots, and patches generated regions
//! of hand-written pages.
//!
//! Main types: [`schema::ProfileReport`] and [`schema::BenchmarkResults`] (the two files in
//! `.benchmarks/`, serde), [`Table`] (one table, three renderings), [`tables`] (one function
//! per table), [`svg`] (stage timing, batch sizes, depth-error map), [`docs`] (generated
//! regions between marker lines, YAML frontmatter keys) and [`pages`] (what goes into each
//! region of `docs/benchmarks.rst` and the phase's verification file).
//!
//! **Architecture invariant: the report writer computes nothing.** It copies fields into
//! formatted cells and plots; sums, ratios, sorting, statistics and the verification verdicts
//! are computed by their producers (`cargo xtask bench`, `cargo xtask profile`,
//! `cargo xtask update-docs`). **It does no I/O either:** every function takes and returns
//! values; `xtask` reads and writes the files (atomically, through `aquamvs-io`).
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

pub mod docs;
pub mod pages;
pub mod schema;
pub mod svg;
pub mod table;
pub mod tables;

pub use docs::{DocsError, MarkerStyle};
pub use schema::{BenchmarkResults, ErrorMap, ProfileReport, Verification};
pub use table::Table;

/// Errors from reading results and rendering them.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A results file is not valid JSON or does not match the schema.
    #[error("{what}: {source}")]
    Json {
        /// Which file or value.
        what: String,
        /// What serde said (names the field, line and column).
        #[source]
        source: serde_json::Error,
    },
    /// A results file parses but breaks a rule the docs rely on.
    #[error("{what}: {message}")]
    Invalid {
        /// Which file or value.
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
