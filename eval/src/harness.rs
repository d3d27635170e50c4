//! Runs detectors over labelled series: the product's detector with a given
//! configuration, and a classic rolling z-score as a yardstick.

use anomalog_core::detect::series::{SeriesConfig, SeriesDetector};

/// One row's continuous score in [0, 1] and verdict.
pub type Scored = (f64, bool);

/// The value-series detector over `values` (one per bucket, `bucket_secs`
/// wide; NaN for a missing bucket), exactly as `anomalog backtest --series`
/// runs it.
pub fn score_series(cfg: &SeriesConfig, bucket_secs: i64, values: &[f64]) -> Vec<Scored> {
    let mut detector = SeriesDetector::new(cfg, bucket_secs);
    values
        .iter()
        .map(|&v| {
            let verdict = detector.push(v);
            (verdict.score, verdict.anomaly)
        })
        .collect()
}

/// The textbook detector, as a yardstick: |z| against the mean and standard
/// deviation of the previous 300 points, no verdict during the warm-up.
pub fn rolling_z(warmup: usize, values: &[f64]) -> Vec<Scored> {
    const WINDOW: usize = 300;
    const K: f64 = 4.0;
    (0..values.len())
        .map(|i| {
            let window: Vec<f64> = values[i.saturating_sub(WINDOW)..i]
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            if i < warmup.max(2) || window.len() < 2 || !values[i].is_finite() {
                return (0.0, false);
            }
            let n = window.len() as f64;
            let mean = window.iter().sum::<f64>() / n;
            let sd = (window.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n)
                .sqrt()
                .max(1e-9);
            let r = (values[i] - mean).abs() / sd / K;
            let score = 1.0 - 2f64.powf(-(r * r));
            (score, score >= 0.5)
        })
        .collect()
}
