//! Runs detectors over labelled series: the product's detector with a given
//! configuration, and a classic rolling z-score as a yardstick.

use anomalog_core::detect::series::{SeriesConfig, SeriesDetector};
use chrono::{DateTime, Utc};

use crate::corpus::LabelledSeries;

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

/// The value-series detector over a labelled series, rows missing from it
/// passed over as gaps (what `anomalog backtest --series` does with the
/// timestamps of a file).
pub fn score_labelled(cfg: &SeriesConfig, series: &LabelledSeries) -> Vec<Scored> {
    let mut detector = SeriesDetector::new(cfg, series.bucket_secs);
    series
        .values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let verdict = detector.push_after(v, series.elapsed(i));
            (verdict.score, verdict.anomaly)
        })
        .collect()
}

/// Buckets from the previous timestamp to this one: 1 for consecutive rows,
/// more across missing rows (so that the seasonal views stay aligned with the
/// time of day). Unreadable, repeated or out-of-order timestamps count as the
/// next bucket.
pub fn buckets_between(
    previous: Option<DateTime<Utc>>,
    ts: Option<DateTime<Utc>>,
    bucket_secs: i64,
) -> u64 {
    let (Some(previous), Some(ts)) = (previous, ts) else {
        return 1;
    };
    if bucket_secs <= 0 {
        return 1;
    }
    let gap = (ts - previous).num_seconds();
    // Rounded: timestamps jitter by a few seconds around their bucket.
    let buckets = (gap + bucket_secs / 2).div_euclid(bucket_secs);
    u64::try_from(buckets).unwrap_or(0).max(1)
}

/// The value-series detector over the rows of a file (timestamp when
/// readable, value or NaN), gaps from the timestamps: exactly
/// `anomalog backtest --series`.
pub fn score_rows(
    cfg: &SeriesConfig,
    bucket_secs: i64,
    rows: &[(Option<DateTime<Utc>>, f64)],
) -> Vec<Scored> {
    let mut detector = SeriesDetector::new(cfg, bucket_secs);
    let mut previous = None;
    rows.iter()
        .map(|&(ts, v)| {
            let buckets = buckets_between(previous, ts, bucket_secs);
            if ts.is_some() {
                previous = ts;
            }
            let verdict = detector.push_after(v, buckets);
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
