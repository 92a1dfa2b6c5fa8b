//! The `board-validation` region: a results file with board reports renders the table beside
//! the external real-rig figures with their source; one without says the validation was not
//! run.

use aquamvs_report::pages;
use aquamvs_results::{
    BenchmarkResults, BoardMetrics, BoardReport, BoardTimings, DetectorError, PoseMetrics,
};

// The results format's fixture (invented numbers, see its README).
const BENCH: &str = include_str!("../../results/tests/fixtures/benchmark_results.json");

fn report(method: &str, flatness: f64) -> BoardReport {
    let pose = PoseMetrics {
        pose: 0,
        transferred: 900,
        flatness_rms_mm: flatness,
        cross_camera_rms_mm: Some(0.4),
        range_rms_mm: 0.3,
        lateral_rms_mm: 0.2,
        scale: 1.0001,
        scale_error_pct: 0.01,
        square_size_mm: 60.006,
        absolute_rms_mm: 0.5,
        absolute_range_rms_mm: 0.4,
        absolute_lateral_rms_mm: 0.3,
    };
    BoardReport {
        method: method.to_owned(),
        settings: "invented settings".to_owned(),
        width: 320,
        height: 240,
        poses: 1,
        cameras: 6,
        metrics: BoardMetrics {
            flatness_rms_mm: flatness,
            cross_camera_rms_mm: Some(0.4321),
            range_rms_mm: 0.3,
            lateral_rms_mm: 0.2,
            range_lateral_ratio: Some(1.5),
            scale_error_pct: 0.0123,
            square_size_mm: 60.0074,
            board_size_cv: None,
            absolute_rms_mm: 0.5678,
            absolute_range_rms_mm: 0.4,
            absolute_lateral_rms_mm: 0.3,
            per_pose: vec![pose],
        },
        detector: DetectorError {
            method: "invented detector".to_owned(),
            detected: 950,
            missed: 3,
            median_px: 0.061,
            max_px: 0.42,
        },
        dropouts: 1,
        dropout_pct: 0.105,
        timings: BoardTimings {
            render_s: 10.0,
            depth_s: 20.0,
            total_s: 31.5,
        },
    }
}

#[test]
fn results_without_a_board_report_say_it_was_not_run() {
    let bench = BenchmarkResults::from_json(BENCH).unwrap();
    assert!(
        bench.board.is_empty(),
        "the fixture predates the board validation"
    );
    let region = pages::board_region(&bench);
    assert!(region.contains("was not run"), "{region}");
    assert!(!region.contains("list-table"), "{region}");
    let mut skipped = bench.clone();
    skipped.board_skipped = vec!["patchmatch: over the time budget".to_owned()];
    assert!(pages::board_region(&skipped).contains("Not run: patchmatch: over the time budget."));
}

#[test]
fn board_reports_render_beside_the_external_figures() {
    let mut bench = BenchmarkResults::from_json(BENCH).unwrap();
    bench.board = vec![report("sweep", 0.1234), report("patchmatch", 0.0567)];
    // The results still validate and round-trip with the board field.
    let again = BenchmarkResults::from_json(&bench.to_json()).unwrap();
    assert_eq!(again.board, bench.board);
    let region = pages::board_region(&bench);
    for want in [
        "list-table:: Ground-truth board validation",
        "AquaMVS, real rig (external)",
        "sweep (synthetic, exact truth)",
        "patchmatch (synthetic, exact truth)",
        // External figures, as published.
        "1.11",
        "1.82",
        "3.39",
        "+0.064",
        "60.018",
        "0.0016",
        // Ours, copied from the reports.
        "0.123",
        "0.057",
        "0.432",
        "0.568",
        "60.007",
        "+0.0123",
        "0.061 / 0.420",
        "1 × 6",
        // Provenance of the external column.
        "McGrathLab/AquaMVS_gtanalysis",
        "14a8a9ce5de75c18a36b832098b5350811992abd",
        "AquaMVS 1.7.2",
        "AquaCal 2.1.0",
        "**external**",
        "invented settings",
    ] {
        assert!(region.contains(want), "{want:?} missing from:\n{region}");
    }
}
