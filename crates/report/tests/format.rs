//! Formatting the fixture results: tables, regions, plots and the summary.

use aquamvs_report::pages::{self, BENCHMARKS_REGIONS, Links, VERIFICATION_REGIONS};
use aquamvs_report::{svg, tables};
use aquamvs_results::{
    BenchmarkResults, ErrorMap, ProfileReport, QuantityCheck, TruthVerdict, Verification,
};

// The results format's fixtures (invented numbers, see their README).
const PROFILE: &str = include_str!("../../results/tests/fixtures/profile_report.json");
const BENCH: &str = include_str!("../../results/tests/fixtures/benchmark_results.json");
const MAP: &str = include_str!("../../results/tests/fixtures/error_map.json");

const LINKS: Links = Links {
    results_dir: "results",
    benchmarks_page: "pages/bench.rst",
    verification_page: "VERIFY.md",
    plots_from_benchmarks_page: "img",
};

fn inputs() -> (ProfileReport, BenchmarkResults, ErrorMap) {
    (
        ProfileReport::from_json(PROFILE).unwrap(),
        BenchmarkResults::from_json(BENCH).unwrap(),
        ErrorMap::from_json("map", MAP).unwrap(),
    )
}

fn verification(verified: [bool; 4]) -> Verification {
    let score = verified.iter().filter(|v| **v).count();
    Verification {
        phase: "05-performance-and-optimization".into(),
        verified: "2000-01-02T00:00:00Z".into(),
        truths: verified
            .iter()
            .enumerate()
            .map(|(i, v)| TruthVerdict {
                number: i as u32 + 1,
                truth: format!("truth {}", i + 1),
                verified: *v,
                evidence: format!("evidence | {}", i + 1),
            })
            .collect(),
        score,
        status: if score == 4 {
            "gaps_closed"
        } else {
            "gaps_found"
        }
        .into(),
    }
}

fn forbidden_words(text: &str) {
    let lower = text.to_lowercase();
    for word in ["tbd", "pending", "nan"] {
        assert!(
            !lower
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w == word),
            "`{word}` in:\n{text}"
        );
    }
}

#[test]
fn baseline_table_in_rst() {
    let (_, b, _) = inputs();
    let rst = tables::baseline(&b).to_rst();
    assert_eq!(
        rst.lines().take(5).collect::<Vec<_>>(),
        [
            ".. list-table:: Baseline Performance",
            "   :header-rows: 1",
            "",
            "   * - Scene",
            "     - Method",
        ]
    );
    // Header + 2 rows, 10 columns each.
    assert_eq!(rst.matches("   * - ").count(), 3);
    assert_eq!(rst.matches("     - ").count(), 3 * 9);
    assert!(rst.contains("   * - flat\n     - refractive\n     - 640×480\n"));
    assert!(rst.contains("     - 123,456\n     - 12.50\n     - 0.100\n     - 97.2\n"));
    assert!(rst.contains("pinhole (refraction ignored)"));
}

#[test]
fn stage_table_keeps_pipeline_order_and_blanks() {
    let (p, _, _) = inputs();
    let t = tables::stages(&p);
    let names: Vec<&str> = t.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        names,
        [
            "undistortion",
            "sparse_matching",
            "depth_estimation",
            "fusion",
            "surface_reconstruction"
        ]
    );
    // sparse_matching has no GPU time: a dash, not 0 and not NaN.
    assert_eq!(
        t.rows[1],
        [
            "sparse_matching",
            "300.0",
            "—",
            "300.0",
            "120.0",
            "12.0",
            "—",
            "ok"
        ]
    );
    let md = t.to_markdown();
    assert!(
        md.contains("| depth_estimation | 2000.0 | 1900.0 | 2000.0 | 150.0 | 400.0 | — | ok |")
    );
    let term = t.to_terminal();
    assert!(term.contains("depth_estimation") && term.contains('┌'));
}

/// Each memory column says what it measures, in every rendering; host memory is shown where
/// the profile recorded it.
#[test]
fn memory_columns_say_what_they_measure() {
    let (mut p, _, _) = inputs();
    p.stages.0[1].1.host_peak_rss_growth_mb = Some(110.0);
    let t = tables::stages(&p);
    assert_eq!(t.header[5], "GPU memory (MB, allocator growth)");
    assert_eq!(t.header[6], "Host memory (MB, peak RSS growth)");
    assert_eq!(t.rows[1][5..7], ["12.0", "110.0"]);
    for rendering in [t.to_rst(), t.to_markdown()] {
        assert!(
            rendering.contains("GPU memory (MB, allocator growth)"),
            "{rendering}"
        );
        assert!(
            rendering.contains("Host memory (MB, peak RSS growth)"),
            "{rendering}"
        );
    }
    // The terminal may wrap a heading between words.
    let terminal = t.to_terminal();
    for words in [
        "GPU memory (MB,",
        "allocator growth)",
        "Host memory (MB,",
        "peak RSS growth)",
    ] {
        assert!(terminal.contains(words), "{terminal}");
    }
    let b = tables::bottlenecks(&p);
    assert_eq!(b.header[3], "GPU memory (MB, allocator growth)");
}

#[test]
fn top3_and_batching() {
    let (p, _, _) = inputs();
    let t = tables::bottlenecks(&p);
    assert_eq!(t.rows.len(), 3);
    assert_eq!(t.rows[0], ["1", "depth_estimation", "2000.0", "400.0"]);
    let t = tables::batching(&p);
    assert_eq!(
        t.rows[2],
        ["16", "450.0", "440.0", "470.0", "5", "2.00×", "43.7 M"]
    );
}

#[test]
fn simulated_rows_are_labelled() {
    let (_, mut b, _) = inputs();
    // A producer that forgot the label still gets it in the table.
    b.simulated[0].name = "LightGlue-like".into();
    let t = tables::simulated(&b);
    assert!(t.title.contains("not pipeline runs"));
    for row in &t.rows {
        assert!(row[0].contains("(simulated)"), "{row:?}");
    }
    assert_eq!(
        t.rows[0][2..],
        [
            "900", "2.0", "10", "1.600", "1.350", "1.200", "0.60", "2.000", "98.8", "40.0", "56.9"
        ]
    );
    // No plane fit on the undulating scene: a dash.
    assert_eq!(t.rows[2][9], "—");
}

#[test]
fn measured_by_tolerance_rows() {
    let (_, b, _) = inputs();
    let t = tables::measured_by_tolerance(&b);
    assert_eq!(t.rows.len(), 6);
    assert_eq!(
        t.rows[2],
        ["flat", "refractive", "5.0", "99.5", "95.0", "97.2"]
    );
    let t = tables::measured_stage_times(&b);
    assert_eq!(t.header.len(), 2 + 5 + 1);
    assert_eq!(t.rows[1][4], "8.00");
}

#[test]
fn benchmarks_regions_cover_the_page() {
    let (p, b, m) = inputs();
    let plots = pages::plots(&p, &b, Some(&m)).unwrap();
    let names: Vec<&str> = plots.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            pages::STAGE_TIMING_SVG,
            pages::DEPTH_BATCHING_SVG,
            pages::DEPTH_ERROR_MAP_SVG
        ]
    );
    let regions = pages::benchmarks_regions(&p, &b, &plots, &LINKS);
    let region_names: Vec<&str> = regions.iter().map(|(n, _)| *n).collect();
    assert_eq!(region_names, BENCHMARKS_REGIONS);
    let all: String = regions.iter().map(|(_, c)| c.as_str()).collect();
    forbidden_words(&all);
    for needle in [
        "Baseline Performance",
        "Per-stage timing",
        "Top 3 bottlenecks",
        "Depth batching",
        "Simulated comparison",
        "Measured reconstructions",
        "Fixture CPU (test data)",
        "7.8 GB",
        "fixture adapter",
        "Vulkan",
        ".. figure:: img/stage_timing.svg",
        ".. figure:: img/depth_error_map.svg",
        "``results/benchmark_results.json``",
        "``cargo xtask bench --compare BASE.json``",
    ] {
        assert!(all.contains(needle), "missing {needle}");
    }
    // Every list-table is followed by consistent rows (no empty cells).
    assert!(!all.contains("- \n"));
}

#[test]
fn empty_sections_get_notes_not_tables() {
    let (mut p, mut b, _) = inputs();
    p.depth_batching.clear();
    b.measured.clear();
    b.sweep_throughput.clear();
    b.regression_check = None;
    b.depth_error_map = None;
    let plots = pages::plots(&p, &b, None).unwrap();
    assert_eq!(plots.len(), 1);
    let regions = pages::benchmarks_regions(&p, &b, &plots, &LINKS);
    let get = |n: &str| &regions.iter().find(|(k, _)| *k == n).unwrap().1;
    assert!(get("depth-batching").contains("--no-batch-benchmark"));
    assert!(get("baseline-performance").contains("no measured reconstructions"));
    assert!(!get("accuracy-measured").contains("list-table"));
    assert!(get("regression-check").contains("does not describe"));
    forbidden_words(&regions.iter().map(|(_, c)| c.as_str()).collect::<String>());
}

#[test]
fn verification_regions_and_frontmatter() {
    let (p, b, _) = inputs();
    let v = verification([true, true, false, true]);
    let regions = pages::verification_regions(&p, &b, &v, &LINKS);
    assert_eq!(
        regions.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        VERIFICATION_REGIONS
    );
    let truths = &regions[0].1;
    assert!(truths.starts_with("| # | Truth | Status | Evidence |\n|---|---|---|---|\n"));
    assert!(truths.contains("| 3 | truth 3 | FAILED | evidence \\| 3 |"));
    assert!(truths.contains("**Score:** 3/4 success criteria verified"));
    let fm = pages::verification_frontmatter(&v);
    assert_eq!(
        fm,
        [
            ("verified", "2000-01-02T00:00:00Z".to_owned()),
            ("status", "gaps_found".to_owned()),
            ("score", "3/4 success criteria verified".to_owned()),
        ]
    );
    let gap = &regions[1].1;
    for heading in ["### Truth 1", "### Truth 2", "### Truth 3", "### Truth 4"] {
        assert!(gap.contains(heading), "{heading}");
    }
    assert!(gap.contains("Sources: `results/benchmark_results.json`"));
    forbidden_words(gap);
}

#[test]
fn summary_is_complete_and_deterministic() {
    let (p, b, _) = inputs();
    let v = verification([true; 4]);
    let s = pages::summary(&p, &b, &v, &LINKS);
    assert_eq!(s, pages::summary(&p, &b, &v, &LINKS));
    assert!(s.starts_with("---\nphase: 05-performance-and-optimization\nplan: 08\n"));
    assert!(s.contains("status: gaps_closed\nscore: 4/4 success criteria verified\n"));
    assert!(s.contains("completed: 2000-01-02T00:00:00Z\n"));
    assert!(s.ends_with('\n') && !s.ends_with("\n\n"));
    // The caller's links, not hard-coded paths.
    assert!(
        s.contains("from `results/*.json`")
            && s.contains("`pages/bench.rst` and the verdicts in `VERIFY.md`")
    );
    forbidden_words(&s);
}

#[test]
fn svg_plots_are_well_formed() {
    let (p, b, m) = inputs();
    for doc in [
        svg::stage_timing(&p),
        svg::batching(&p),
        svg::error_map(&m, b.depth_error_map.as_ref().unwrap()).unwrap(),
    ] {
        assert!(doc.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(doc.ends_with("</svg>\n"));
        assert!(!doc.contains("NaN") && !doc.contains("inf"));
        // Tags balance (self-closing ones aside).
        assert_eq!(doc.matches("<text").count(), doc.matches("</text>").count());
    }
    let stage = svg::stage_timing(&p);
    for (name, _) in p.stages.iter() {
        assert!(stage.contains(&format!(">{name}</text>")));
    }
    // 2000 ms is the longest bar: the axis ends at 2000 (a "nice" maximum).
    assert!(stage.contains(">2000</text>"));
    let batch = svg::batching(&p);
    assert!(batch.contains("450.0 ms · 2.00×") && batch.contains("batch 16"));
}

#[test]
fn error_map_png_decodes_with_the_right_colours() {
    let (_, _, m) = inputs();
    let bytes = svg::error_map_png(&m, 0.5).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (8, 6));
    let px = |x: usize, y: usize| &buf[(y * 8 + x) * 3..(y * 8 + x) * 3 + 3];
    assert_eq!(px(0, 0), [96, 96, 96], "null is grey");
    assert_eq!(px(5, 0), [247, 247, 247], "zero is white");
    assert_eq!(px(7, 4), [178, 24, 43], "+0.5 mm saturates red");
    assert_eq!(px(1, 0), [33, 102, 172], "-0.6 mm saturates blue");
    assert!(svg::error_map_png(&m, 0.0).is_err());
}

#[test]
fn regression_table_lists_regressions_or_everything() {
    let check = |what: &str, current: f64, worse_pct: f64, regression: bool| QuantityCheck {
        what: what.into(),
        base: 1.0,
        current,
        worse_pct,
        threshold_pct: 10.0,
        regression,
    };
    let checks = [
        check("a: runtime (s)", 1.05, 5.0, false),
        check(
            "b: runtime (s) (missing in CURRENT)",
            f64::NAN,
            f64::INFINITY,
            true,
        ),
    ];
    let t = tables::regressions(&checks, false);
    assert_eq!(
        t.rows,
        [[
            "b: runtime (s) (missing in CURRENT)",
            "1.0000",
            "missing",
            "n/a",
            "10 %",
            "REGRESSION"
        ]]
    );
    let t = tables::regressions(&checks, true);
    assert_eq!(
        t.rows[0],
        ["a: runtime (s)", "1.0000", "1.0500", "+5.0 %", "10 %", "ok"]
    );
}
