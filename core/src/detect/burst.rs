//! Error bursts: sliding sums of ERROR and FATAL events over fine buckets.

use chrono::{DateTime, Duration, Utc};

use super::episode::{BucketScore, Finding, Signal, episodes};
use super::settings::BurstConfig;
use super::stats::score_from_ratio;
use crate::model::AnomalyKind;
use crate::rollup::ServiceSeries;

/// The burst score of every window ending in a bucket of `series` that ends
/// after `from` (all when `None`): errors in the last `window_secs` against
/// `max(min_errors, baseline_factor * usual errors per window)`, the usual
/// count being the mean over the `baseline_minutes` before the window.
///
/// A window's `start`/`end` are those of its first and last bucket holding
/// errors, so an episode spans its errors, not the empty buckets around them.
pub fn burst_scores(
    series: &ServiceSeries,
    cfg: &BurstConfig,
    from: Option<DateTime<Utc>>,
) -> Vec<BucketScore> {
    burst_scores_of(series, cfg, from, false)
}

/// [`burst_scores`]; with `flaggable_only`, a window holding fewer than
/// `min_errors` errors (under every threshold, so scored under 0.5) is left
/// out unscored: most windows of most services hold none.
fn burst_scores_of(
    series: &ServiceSeries,
    cfg: &BurstConfig,
    from: Option<DateTime<Utc>>,
    flaggable_only: bool,
) -> Vec<BucketScore> {
    let width = series.bucket_secs.max(1);
    let span = usize::try_from((cfg.window_secs + width - 1) / width)
        .unwrap_or(1)
        .max(1);
    let baseline_buckets = usize::try_from(cfg.baseline_minutes * 60 / width)
        .unwrap_or(0)
        .max(1);
    let errors: Vec<u64> = series.counts.iter().map(|c| c.errors()).collect();
    let (prefix, totals) = series.running_sums();
    let sum = |a: usize, b: usize| prefix[b] - prefix[a]; // buckets a..b
    let min_errors = cfg.min_errors.max(1) as f64;
    let first_scored = series.first_ending_after(from);
    let mut out = if flaggable_only {
        Vec::new()
    } else {
        Vec::with_capacity(errors.len().saturating_sub(first_scored))
    };
    for i in first_scored..errors.len() {
        let first = (i + 1).saturating_sub(span);
        let observed = sum(first, i + 1) as f64;
        if flaggable_only && observed < min_errors {
            continue;
        }
        let end = series.bucket_time(i) + Duration::seconds(width);
        let base_from = first.saturating_sub(baseline_buckets);
        let usual = if first > base_from {
            sum(base_from, first) as f64 / (first - base_from) as f64 * span as f64
        } else {
            0.0
        };
        let threshold = min_errors.max(cfg.baseline_factor * usual);
        let first_error = (first..=i).find(|&j| errors[j] > 0);
        let last_error = (first..=i).rev().find(|&j| errors[j] > 0);
        let (start, stop) = match (first_error, last_error) {
            (Some(a), Some(b)) => (
                series.bucket_time(a),
                series.bucket_time(b) + Duration::seconds(width),
            ),
            _ => (series.bucket_time(first), end),
        };
        out.push(BucketScore {
            start,
            end: stop,
            score: score_from_ratio(observed / threshold),
            signal: Signal::BurstErrors,
            observed,
            expected: usual,
            stddev: 0.0,
            z: 0.0,
            threshold,
            total: (totals[i + 1] - totals[first]) as f64,
            window_secs: span as i64 * width,
            baseline_start: series.bucket_time(base_from),
            baseline_end: series.bucket_time(first),
        });
    }
    out
}

/// Burst episodes: opened by the first window at the threshold, extended
/// while windows stay at it, over once `quiet_secs` pass without one.
pub fn burst_findings(
    series: &ServiceSeries,
    cfg: &BurstConfig,
    from: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let scores = burst_scores_of(series, cfg, from, true);
    episodes(
        AnomalyKind::Burst,
        &scores,
        Duration::seconds(cfg.quiet_secs),
        now,
    )
}
