//! Per-bucket scores of the log detectors and their grouping into episodes.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::stats::score_from_ratio;
use crate::model::{AnomalyKind, Measure, Metric, Unit};

/// What a log detector measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Signal {
    /// ERROR and FATAL events in the burst window.
    BurstErrors,
    /// ERROR and FATAL events in the spike window.
    ErrorCount,
    /// Share of ERROR and FATAL events in the spike window.
    ErrorRatio,
    /// All events in the drop window.
    Volume,
    /// All events in the window, judged for a rise (the live engine's
    /// event rate above its usual level).
    EventSurge,
    /// Lines of one log pattern in the window, judged both ways (the live
    /// engine's per-pattern rates).
    PatternRate,
}

/// One judged window: the detector's continuous score and what it is made of.
///
/// Invariant: `score >= 0.5` exactly when every condition of the verdict holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketScore {
    /// Start of the judged window.
    pub start: DateTime<Utc>,
    /// End of the judged window (the end of its last fine bucket).
    pub end: DateTime<Utc>,
    /// In [0, 1].
    pub score: f64,
    pub signal: Signal,
    pub observed: f64,
    pub expected: f64,
    /// Standard deviation (or robust estimate) after floors.
    pub stddev: f64,
    /// Deviation of `observed` in standard deviations, as judged (negative
    /// below the expectation; 0 for bursts, judged on their count alone).
    pub z: f64,
    /// The value `observed` has to reach (or fall to, for drops).
    pub threshold: f64,
    /// All events in the window (context for ratios).
    pub total: f64,
    /// Length of the judged window, in seconds.
    pub window_secs: i64,
    /// The span `expected` and `stddev` were learnt over (empty when the
    /// window had no history before it).
    pub baseline_start: DateTime<Utc>,
    pub baseline_end: DateTime<Utc>,
}

impl BucketScore {
    pub fn flagged(&self) -> bool {
        self.score >= 0.5
    }

    /// The typed description of what this window measured: the series, its
    /// unit, the threshold crossed and the baseline's span. `observed`,
    /// `expected` and `stddev` are per judged window (`bucket_seconds`).
    pub fn measure(&self) -> Measure {
        let (metric, unit) = match self.signal {
            Signal::BurstErrors | Signal::ErrorCount => (Metric::ErrorCount, Unit::Events),
            Signal::ErrorRatio => (Metric::ErrorRatio, Unit::Ratio),
            Signal::Volume | Signal::EventSurge => (Metric::EventRate, Unit::Events),
            Signal::PatternRate => (Metric::PatternRate, Unit::Events),
        };
        Measure {
            metric,
            unit,
            threshold: self.threshold,
            baseline_start: self.baseline_start,
            baseline_end: self.baseline_end,
            bucket_seconds: u32::try_from(self.window_secs.max(0)).unwrap_or(u32::MAX),
        }
    }
}

/// One episode a detector found in a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: AnomalyKind,
    pub window_start: DateTime<Utc>,
    /// End of the last flagged window of the episode.
    pub window_end: DateTime<Utc>,
    /// The window with the highest score.
    pub peak: BucketScore,
    /// Still going on at the end of what was judged (not yet quiet for long
    /// enough).
    pub ongoing: bool,
}

impl Finding {
    pub fn score(&self) -> f64 {
        self.peak.score
    }
}

/// Groups flagged windows into episodes: a flagged window starting within
/// `quiet` of the previous episode's end extends it. `judged_until` is the end
/// of the last window judged: an episode whose end is less than `quiet` before
/// it is still going on.
pub fn episodes(
    kind: AnomalyKind,
    scores: &[BucketScore],
    quiet: Duration,
    judged_until: DateTime<Utc>,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    for s in scores.iter().filter(|s| s.flagged()) {
        match out.last_mut() {
            Some(last) if s.start <= last.window_end + quiet => {
                last.window_end = last.window_end.max(s.end);
                if s.score > last.peak.score {
                    last.peak = *s;
                }
            }
            _ => out.push(Finding {
                kind,
                window_start: s.start,
                window_end: s.end,
                peak: *s,
                ongoing: false,
            }),
        }
    }
    for f in &mut out {
        f.ongoing = judged_until - f.window_end < quiet;
    }
    out
}

/// How far a count of `observed` events lies above a Poisson expectation,
/// in standard deviations of the square-root (Anscombe) scale, on which the
/// noise of small counts is close to normal. The plain z-score overstates
/// small counts: 13 errors where 4.8 are usual is z = 3.7 plainly (a
/// one-in-700 minute, not one in 10,000) but 2.8 here.
pub fn poisson_z(observed: f64, expected: f64) -> f64 {
    2.0 * ((observed.max(0.0) + 0.375).sqrt() - (expected.max(0.0) + 0.375).sqrt())
}

/// The count whose [`poisson_z`] against `expected` is `k`.
pub fn poisson_threshold(expected: f64, k: f64) -> f64 {
    ((expected.max(0.0) + 0.375).sqrt() + k / 2.0).powi(2) - 0.375
}

/// The score of a soft condition "`value` reaches `threshold`": 0.5 at the
/// threshold, like every detector score.
pub fn at_least(value: f64, threshold: f64) -> f64 {
    if threshold <= 0.0 {
        return 1.0;
    }
    score_from_ratio(value / threshold)
}
