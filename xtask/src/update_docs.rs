//! `cargo xtask update-docs [--check]`: writes `.benchmarks/*.json` into the docs.
//!
//! Reads `.benchmarks/profile_report.json` and `.benchmarks/benchmark_results.json` (it runs no
//! benchmark), judges the phase-05 truths from them (`aquamvs_verdicts::verify`), and rewrites
//! with `aquamvs_report::pages`:
//! - [`BENCHMARKS_RST`], only between its `.. BEGIN/END GENERATED: <name>` markers;
//! - [`PLOT_DIR`]`/*.svg`, the plots;
//! - [`VERIFICATION_MD`]: frontmatter `verified`, `status`, `score`, and its
//!   `<!-- BEGIN/END GENERATED -->` regions;
//! - [`SUMMARY_MD`] beside it (fully generated).
//!
//! **Everything is read, checked and rendered before the first file is written**: a missing
//! or malformed results file (impossible values included), or a page whose markers are
//! missing, duplicated or out of order, fails the command with every file untouched. **Writing
//! is all or nothing**: every changed file goes to a temporary sibling first, and only when all
//! are written are they renamed into place. Only files whose bytes change are written, so a
//! second run changes nothing. `--check` writes nothing and fails if any file would change.
//! The root is the workspace around the current directory (or `--root`), and is printed.

use std::io::ErrorKind::{NotADirectory, NotFound};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use aquamvs_report::pages::{self, Links};
use aquamvs_report::tables;
use aquamvs_results::{
    BENCHMARK_RESULTS_FILE, BenchmarkResults, ErrorMap, PROFILE_REPORT_FILE, ProfileReport,
};

/// The results folder, relative to the workspace root.
const RESULTS_DIR: &str = ".benchmarks";
/// The benchmarks page, relative to the workspace root.
const BENCHMARKS_RST: &str = "docs/benchmarks.rst";
/// The phase's verification file, relative to the workspace root.
const VERIFICATION_MD: &str = ".planning/phases/05-performance-and-optimization/05-VERIFICATION.md";
/// The plan's summary (fully generated), relative to the workspace root.
const SUMMARY_MD: &str = ".planning/phases/05-performance-and-optimization/05-08-SUMMARY.md";
/// Where the plots go, relative to the workspace root.
const PLOT_DIR: &str = "docs/_static/benchmark";
/// How the pages name those files.
const LINKS: Links = Links {
    results_dir: RESULTS_DIR,
    benchmarks_page: BENCHMARKS_RST,
    verification_page: "05-VERIFICATION.md",
    plots_from_benchmarks_page: "_static/benchmark",
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write nothing: list the files that would change, and fail if any would.
    #[arg(long)]
    pub check: bool,
    /// Folder holding the results files (default: `<root>/.benchmarks`).
    #[arg(long, hide = true)]
    pub results_dir: Option<PathBuf>,
    /// Workspace root whose docs are rewritten (default: the workspace around the current
    /// directory).
    #[arg(long, hide = true)]
    pub root: Option<PathBuf>,
}

/// The nearest folder at or above `start` whose `Cargo.toml` has a `[workspace]` table.
fn find_root(start: &Path) -> Result<PathBuf> {
    let is_root = |dir: &Path| {
        std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
    };
    let found = start
        .ancestors()
        .find(|d| is_root(d))
        .map(Path::to_path_buf);
    found.with_context(|| {
        let at = start.display();
        format!(
            "no workspace Cargo.toml (with `[workspace]`) at or above {at}: run from the repository"
        )
    })
}

pub fn run(args: Args) -> Result<()> {
    let root = match args.root {
        Some(root) => root,
        None => find_root(&std::env::current_dir().context("reading the current directory")?)?,
    };
    let results_dir = args.results_dir.unwrap_or_else(|| root.join(RESULTS_DIR));
    let outputs = plan(&root, &results_dir)?;
    let changed: Vec<&Output> = outputs.iter().filter(|o| o.changes()).collect();
    let under = root.display();

    if args.check {
        for o in &changed {
            println!("would change: {}", o.relative);
        }
        if !changed.is_empty() {
            bail!(
                "{} file(s) out of date with {}; run `cargo xtask update-docs`",
                changed.len(),
                results_dir.display()
            );
        }
        println!("up to date: {} files under {under}", outputs.len());
        return Ok(());
    }

    // All or nothing (`OutputSet`): every temporary first, then the renames; undone on failure.
    let mut set = aquamvs_io::OutputSet::new(&root);
    for o in &changed {
        set.add(&o.relative, o.bytes.clone());
    }
    set.commit().context("nothing was changed")?;
    for o in &changed {
        println!("wrote {}", o.relative);
    }
    let (written, unchanged) = (changed.len(), outputs.len() - changed.len());
    println!("{written} file(s) written, {unchanged} unchanged under {under}");
    Ok(())
}

/// One file `update-docs` produces: where, what, and what is there now.
#[derive(Debug)]
struct Output {
    /// Path relative to the root.
    relative: String,
    /// New contents.
    bytes: Vec<u8>,
    /// Current contents, if the file exists.
    current: Option<Vec<u8>>,
}

impl Output {
    fn new(root: &Path, relative: &str, bytes: Vec<u8>) -> Result<Self> {
        let path = root.join(relative);
        let current = match std::fs::read(&path) {
            Ok(b) => Some(b),
            // Absent, or a file stands where its folder should be (writing will say so).
            Err(e) if matches!(e.kind(), NotFound | NotADirectory) => None,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let relative = relative.to_owned();
        Ok(Self {
            relative,
            bytes,
            current,
        })
    }

    fn changes(&self) -> bool {
        self.current.as_deref() != Some(self.bytes.as_slice())
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Reads the optional depth-error map named by the benchmark results.
fn read_error_map(results_dir: &Path, bench: &BenchmarkResults) -> Result<Option<ErrorMap>> {
    let Some(about) = &bench.depth_error_map else {
        return Ok(None);
    };
    // `validate` checked the name: inside the results folder, ending in .json or .npy.
    let path = results_dir.join(&about.file);
    let what = path.display().to_string();
    let map = if about.file.ends_with(".json") {
        ErrorMap::from_json(&what, &read_text(&path)?)?
    } else {
        let a = aquamvs_io::npy::read_f32(&path)?;
        ErrorMap::from_f32(&what, a.width, a.height, &a.data)?
    };
    Ok(Some(map))
}

/// Reads every input, computes every output; writes nothing.
fn plan(root: &Path, results_dir: &Path) -> Result<Vec<Output>> {
    let profile_path = results_dir.join(PROFILE_REPORT_FILE);
    let bench_path = results_dir.join(BENCHMARK_RESULTS_FILE);
    let profile = ProfileReport::from_json(&read_text(&profile_path)?)
        .with_context(|| format!("{} is not a valid profile report", profile_path.display()))?;
    let bench = BenchmarkResults::from_json(&read_text(&bench_path)?)
        .with_context(|| format!("{} is not valid benchmark results", bench_path.display()))?;
    let error_map = read_error_map(results_dir, &bench)?;
    let plots = pages::plots(&profile, &bench, error_map.as_ref())?;

    let rst_path = root.join(BENCHMARKS_RST);
    let rst =
        pages::patch_benchmarks_page(&read_text(&rst_path)?, &profile, &bench, &plots, &LINKS)
            .with_context(|| format!("{}: generated regions", rst_path.display()))?;
    // Truth 4 reads the page as it will be written.
    let verification = aquamvs_verdicts::verify(&profile, &bench, &rst);
    print!("{}", tables::truths(&verification).to_terminal());
    println!(
        "score: {} — status {}",
        pages::score_line(&verification),
        verification.status
    );
    let ver_path = root.join(VERIFICATION_MD);
    let ver = read_text(&ver_path)?;
    let ver = pages::patch_verification_file(&ver, &profile, &bench, &verification, &LINKS)
        .with_context(|| format!("{}: frontmatter and generated regions", ver_path.display()))?;
    let summary = pages::summary(&profile, &bench, &verification, &LINKS);

    let mut outputs = vec![
        Output::new(root, BENCHMARKS_RST, rst.into_bytes())?,
        Output::new(root, VERIFICATION_MD, ver.into_bytes())?,
        Output::new(root, SUMMARY_MD, summary.into_bytes())?,
    ];
    for p in plots {
        outputs.push(Output::new(
            root,
            &format!("{PLOT_DIR}/{}", p.name),
            p.svg.into_bytes(),
        )?);
    }
    Ok(outputs)
}

#[cfg(test)]
mod tests {
    use aquamvs_report::docs::{self, MarkerStyle};

    use super::*;

    const FIXTURES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/results/tests/fixtures"
    );

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()
    }

    fn workspace_root() -> PathBuf {
        find_root(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn root_is_the_workspace_around_a_directory() {
        let root = workspace_root();
        assert!(root.join("xtask").is_dir() && root.join("crates").is_dir());
        assert_eq!(find_root(&root.join("crates/results/src")).unwrap(), root);
        let e = find_root(Path::new("/proc/self")).unwrap_err().to_string();
        assert!(e.contains("no workspace Cargo.toml"), "{e}");
    }

    /// A write that fails after the benchmarks page's (here: a file stands where the plots'
    /// folder should be) leaves every file as it was, temporaries included. (CRLF pages:
    /// `aquamvs-report`'s `crlf_page_stays_crlf_throughout`.)
    #[test]
    fn a_failed_write_changes_nothing() {
        let s = Scratch::new("atomic");
        std::fs::write(s.root.join("docs/_static"), "a file, not a folder").unwrap();
        let snap = s.snapshot();
        let e = format!("{:#}", run(s.args(false)).unwrap_err());
        assert!(e.contains("nothing was changed"), "{e}");
        assert_eq!(s.snapshot(), snap, "no page rewritten, no temporary left");
    }

    /// A scratch copy of the pages and fixture results.
    struct Scratch {
        root: PathBuf,
        results: PathBuf,
    }

    impl Scratch {
        fn new(name: &str) -> Self {
            let root = std::env::temp_dir()
                .join(format!("aquamvs-update-docs-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&root);
            let results = root.join("results");
            std::fs::create_dir_all(&results).unwrap();
            let ws = workspace_root();
            for rel in [BENCHMARKS_RST, VERIFICATION_MD] {
                let dst = root.join(rel);
                std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
                std::fs::copy(ws.join(rel), dst).unwrap();
            }
            for f in [
                PROFILE_REPORT_FILE,
                BENCHMARK_RESULTS_FILE,
                "error_map.json",
            ] {
                std::fs::write(results.join(f), fixture(f)).unwrap();
            }
            Self { root, results }
        }

        fn args(&self, check: bool) -> Args {
            Args {
                check,
                results_dir: Some(self.results.clone()),
                root: Some(self.root.clone()),
            }
        }

        fn read(&self, rel: &str) -> Vec<u8> {
            std::fs::read(self.root.join(rel)).unwrap()
        }

        /// Every file under the root, with its bytes.
        fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
            fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
                let mut entries: Vec<_> = std::fs::read_dir(dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                entries.sort();
                for p in entries {
                    if p.is_dir() {
                        walk(&p, out);
                    } else {
                        let bytes = std::fs::read(&p).unwrap();
                        out.push((p, bytes));
                    }
                }
            }
            let mut out = Vec::new();
            walk(&self.root, &mut out);
            out
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    #[test]
    fn end_to_end_on_fixtures() {
        let s = Scratch::new("e2e");
        assert!(run(s.args(true)).is_err(), "--check on stale docs fails");
        let before_check = s.snapshot();
        let _ = run(s.args(true));
        assert_eq!(s.snapshot(), before_check, "--check writes nothing");

        run(s.args(false)).unwrap();
        let first = s.snapshot();
        let rst = String::from_utf8(s.read(BENCHMARKS_RST)).unwrap();
        assert!(rst.contains(".. list-table:: Baseline Performance"));
        assert!(rst.contains("Fixture CPU (test data)"));
        let ver = String::from_utf8(s.read(VERIFICATION_MD)).unwrap();
        assert!(ver.starts_with(
            "---\nphase: 05-performance-and-optimization\nverified: 2000-01-02T00:00:00Z\nstatus: gaps_closed\nscore: 4/4 success criteria verified\n---\n"
        ));
        assert!(ver.contains("| # | Truth | Status | Evidence |"));
        assert!(ver.contains("## Gap Closure Results"));
        // Hand-written text survives.
        assert!(ver.contains("### How the verdicts are computed"));
        assert!(ver.contains("_Initial verification: 2026-02-15T17:30:00Z"));
        let summary = String::from_utf8(s.read(SUMMARY_MD)).unwrap();
        assert!(summary.contains("status: gaps_closed"));
        for plot in [
            pages::STAGE_TIMING_SVG,
            pages::DEPTH_BATCHING_SVG,
            pages::DEPTH_ERROR_MAP_SVG,
        ] {
            assert!(s.read(&format!("{PLOT_DIR}/{plot}")).starts_with(b"<svg"));
        }

        // Idempotent: a second run and --check change nothing.
        run(s.args(false)).unwrap();
        assert_eq!(s.snapshot(), first);
        run(s.args(true)).unwrap();

        // A regression in the results turns the verdict back.
        let mut p = ProfileReport::from_json(&fixture(PROFILE_REPORT_FILE)).unwrap();
        let row = p
            .depth_batching
            .iter_mut()
            .find(|r| r.batch_size == 16)
            .unwrap();
        (row.min_ms, row.median_ms, row.max_ms) = (990.0, 1000.0, 1010.0);
        row.speedup = 0.9;
        p.generated_at = "2000-01-03T00:00:00Z".into();
        std::fs::write(s.results.join(PROFILE_REPORT_FILE), p.to_json()).unwrap();
        run(s.args(false)).unwrap();
        let ver = String::from_utf8(s.read(VERIFICATION_MD)).unwrap();
        assert!(ver.contains("verified: 2000-01-03T00:00:00Z\nstatus: gaps_found\nscore: 3/4 success criteria verified\n"));
        assert!(ver.contains("| 3 | At least one optimization"));
        assert!(ver.contains("| FAILED | Depth batching does not speed the sweep up"));
    }

    #[test]
    fn refuses_and_leaves_files_untouched() {
        let s = Scratch::new("refuse");
        let rst = String::from_utf8(s.read(BENCHMARKS_RST)).unwrap();
        let ver = String::from_utf8(s.read(VERIFICATION_MD)).unwrap();
        let stripped: String = rst
            .lines()
            .filter(|l| !l.starts_with(".. BEGIN GENERATED") && !l.starts_with(".. END GENERATED"))
            .map(|l| format!("{l}\n"))
            .collect();
        let swapped = rst
            .replace("GENERATED: hardware", "GENERATED: tmp")
            .replace("GENERATED: provenance", "GENERATED: hardware")
            .replace("GENERATED: tmp", "GENERATED: provenance");
        let twice = "<!-- BEGIN GENERATED: gap-closure -->\n<!-- END GENERATED: gap-closure -->";
        let mut outside = BenchmarkResults::from_json(&fixture(BENCHMARK_RESULTS_FILE)).unwrap();
        outside.depth_error_map.as_mut().unwrap().file = "../outside.json".into();
        let mut negative = outside.clone();
        negative.depth_error_map = None;
        negative.measured[0].runtime_s = -1e9;
        let bench = format!("results/{BENCHMARK_RESULTS_FILE}");
        let cases = [
            (BENCHMARKS_RST, stripped, "is missing"),
            (BENCHMARKS_RST, swapped, "out of order"),
            (
                VERIFICATION_MD,
                format!("{ver}\n{twice}\n"),
                "appears twice",
            ),
            (
                &bench,
                "{\"generated_at\": 3".into(),
                "not valid benchmark results",
            ),
            (&bench, outside.to_json(), "inside the results folder"),
            (
                &bench,
                negative.to_json(),
                "`measured[0].runtime_s` = -1000000000",
            ),
        ];
        for (rel, text, expected) in cases {
            let original = s.read(rel);
            std::fs::write(s.root.join(rel), text).unwrap();
            let snap = s.snapshot();
            let e = format!("{:#}", run(s.args(false)).unwrap_err());
            assert!(e.contains(expected), "{e}");
            assert_eq!(s.snapshot(), snap, "nothing written when {expected}");
            std::fs::write(s.root.join(rel), original).unwrap();
        }
        std::fs::remove_file(s.results.join(BENCHMARK_RESULTS_FILE)).unwrap();
        let e = format!("{:#}", run(s.args(false)).unwrap_err());
        assert!(e.contains(BENCHMARK_RESULTS_FILE), "{e}");
    }

    /// The committed pages keep their structure: the generated regions once each, in order,
    /// the hand-written headings around them, the frontmatter `update-docs` sets. Structure
    /// only — never timings or other results.
    #[test]
    fn committed_pages_keep_their_structure() {
        let read = |rel: &str| std::fs::read_to_string(workspace_root().join(rel)).unwrap();
        let rst = read(BENCHMARKS_RST);
        let regions = docs::check_regions(&rst, MarkerStyle::Rst, &pages::BENCHMARKS_REGIONS);
        let regions = regions.unwrap_or_else(|e| panic!("{BENCHMARKS_RST}: {e}"));
        for (heading, region) in [
            ("\nBaseline Results (Synthetic Data)\n---", "provenance"),
            ("\nHardware\n~~~", "hardware"),
            ("\nPer-stage timing\n~~~", "stage-timing"),
            ("\nTop 3 bottlenecks\n~~~", "bottlenecks"),
            ("\nDepth batching\n~~~", "depth-batching"),
            ("\nGround-truth board validation\n~~~", "board-validation"),
        ] {
            let at = rst
                .find(heading)
                .unwrap_or_else(|| panic!("no {heading:?}"));
            assert!(
                at < regions
                    .iter()
                    .find(|r| r.name == region)
                    .unwrap()
                    .body
                    .start
            );
        }
        let lower = rst.to_lowercase();
        let mut words = lower.split(|c: char| !c.is_alphanumeric());
        assert!(!words.any(|w| ["tbd", "pending", "todo", "placeholder"].contains(&w)));

        let ver = read(VERIFICATION_MD);
        let regions =
            docs::check_regions(&ver, MarkerStyle::Markdown, &pages::VERIFICATION_REGIONS);
        regions.unwrap_or_else(|e| panic!("{VERIFICATION_MD}: {e}"));
        let key = |k: &str| {
            docs::frontmatter_value(&ver, k)
                .unwrap()
                .unwrap_or_default()
        };
        assert_eq!(key("phase"), aquamvs_verdicts::PHASE);
        assert!(pages::VERIFICATION_KEYS.iter().all(|k| !key(k).is_empty()));
        assert!(["gaps_found", "gaps_closed"].contains(&key("status").as_str()));
        assert!(key("score").ends_with("/4 success criteria verified"));
        for text in [
            "\n### Observable Truths\n",
            "\n## Gap Closure Results\n",
            "| # | Truth | Status | Evidence |",
        ] {
            assert!(ver.contains(text), "{text:?} in {VERIFICATION_MD}");
        }
    }

    /// rust-analyzer style: the committed pages agree with the committed results. Only
    /// deterministic output is compared; timings are never asserted.
    #[test]
    fn committed_docs_match_committed_results() {
        let root = workspace_root();
        let results = root.join(".benchmarks");
        let have_results = results.join(PROFILE_REPORT_FILE).exists()
            && results.join(BENCHMARK_RESULTS_FILE).exists();
        if have_results {
            let stale: Vec<String> = plan(&root, &results)
                .unwrap()
                .into_iter()
                .filter(Output::changes)
                .map(|o| o.relative)
                .collect();
            assert!(
                stale.is_empty(),
                "out of date: {stale:?}; run `cargo xtask update-docs`"
            );
        } else {
            // No results committed: the pages must not claim any.
            let ver = std::fs::read_to_string(root.join(VERIFICATION_MD)).unwrap();
            assert_eq!(
                docs::frontmatter_value(&ver, "status").unwrap().as_deref(),
                Some("gaps_found")
            );
            let rst = std::fs::read_to_string(root.join(BENCHMARKS_RST)).unwrap();
            let regions = docs::find_regions(&rst, MarkerStyle::Rst).unwrap();
            for r in regions {
                assert!(
                    !rst[r.body.clone()].contains("list-table"),
                    "region `{}` holds a table but no results are committed",
                    r.name
                );
            }
        }
    }
}
