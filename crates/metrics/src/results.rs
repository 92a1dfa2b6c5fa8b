//! The metrics in the results format: an [`AccuracyReport`] as the `accuracy` block of
//! `.benchmarks/benchmark_results.json` ([`aquamvs_results::Accuracy`]).

use crate::AccuracyReport;

impl AccuracyReport {
    /// The results format's accuracy block: the AquaMVS numbers and the scores per tolerance,
    /// in the order evaluated. **The plane fit is kept only when `planar_truth`** (the ground
    /// truth is a plane, so the fit's RMSE is an error); on a curved surface it measures the
    /// surface, not the reconstruction, and is left out.
    pub fn to_results(&self, planar_truth: bool) -> aquamvs_results::Accuracy {
        aquamvs_results::Accuracy {
            mean_error_mm: self.mean_error_mm,
            median_error_mm: self.median_error_mm,
            std_error_mm: self.std_error_mm,
            raw_completeness_pct: self.raw_completeness_pct,
            accurate_completeness_pct: self.accurate_completeness_pct,
            plane_fit_rmse_mm: self.plane_fit_rmse_mm.filter(|_| planar_truth),
            plane_fit_max_error_mm: self.plane_fit_max_error_mm.filter(|_| planar_truth),
            by_tolerance: self.by_tolerance.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{EvalOptions, evaluate};

    #[test]
    fn accuracy_block_copies_the_report_and_drops_the_plane_fit_off_planes() {
        // A 1 m square at z = 1 and points 2 mm above and below it.
        let v = [
            [0.0, 0.0, 1.0],
            [1.0, 0.0, 1.0],
            [1.0, 1.0, 1.0],
            [0.0, 1.0, 1.0],
        ];
        let f = [[0, 1, 2], [0, 2, 3]];
        let pts = [[0.3, 0.4, 1.002], [0.6, 0.5, 0.998], [0.2, 0.7, 1.002]];
        let r = evaluate(&pts, &v, &f, &EvalOptions::default()).unwrap();
        let a = r.to_results(true);
        assert_eq!(a.mean_error_mm, r.mean_error_mm);
        assert_eq!(a.median_error_mm, r.median_error_mm);
        assert_eq!(a.std_error_mm, r.std_error_mm);
        assert_eq!(a.raw_completeness_pct, r.raw_completeness_pct);
        assert_eq!(a.accurate_completeness_pct, r.accurate_completeness_pct);
        assert!(a.plane_fit_rmse_mm.is_some());
        assert_eq!(
            (a.plane_fit_rmse_mm, a.plane_fit_max_error_mm),
            (r.plane_fit_rmse_mm, r.plane_fit_max_error_mm)
        );
        let tolerances: Vec<f64> = a.by_tolerance.iter().map(|t| t.tolerance_mm).collect();
        assert_eq!(tolerances, [1.0, 2.0, 5.0]);
        assert_eq!(a.at_tolerance(2.0).unwrap().precision_pct, 100.0);
        assert_eq!(a.by_tolerance[1].fscore_pct, r.by_tolerance[1].fscore_pct);

        let curved = r.to_results(false);
        assert_eq!(
            (curved.plane_fit_rmse_mm, curved.plane_fit_max_error_mm),
            (None, None)
        );
        assert_eq!(curved.by_tolerance, a.by_tolerance);
    }
}
