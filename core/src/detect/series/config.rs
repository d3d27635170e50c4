//! The detector's settings (`[detect.series]` in the configuration), with
//! the defaults chosen on the realistic corpus's tuning split
//! (docs/detection.md).

use serde::{Deserialize, Serialize};

/// Settings of the value-series detector (`[detect.series]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeriesConfig {
    /// Points seen before the first verdict.
    pub warmup: usize,
    /// Points of history each view judges a new point against.
    pub window: usize,
    /// Robust z threshold (deviations in robust standard deviations).
    pub k: f64,
    /// A deviation must also exceed the largest one in the window by this many
    /// robust standard deviations.
    pub margin: f64,
    /// Points in the reference level of the point and shift views.
    pub reference_points: usize,
    /// Points averaged by the shift view (the drift view averages four times
    /// as many against a four times longer reference).
    pub shift_points: usize,
    /// Pick a square-root or log transform when it evens out the noise.
    pub transform: bool,
    /// Weight of the local trend in the reference (0 = flat reference).
    pub trend: f64,
    /// Also compare with the same time of the previous days, when the bucket
    /// width divides a day.
    pub seasonal: bool,
    /// Points of an episode reported at full score; later ones fade (0 = no
    /// fading).
    pub episode_rows: usize,
    /// The seasonal view judges only while its spread is below this share of
    /// the point view's.
    pub seasonal_gain: f64,
    /// Also compare with the same time of the previous weeks, when the bucket
    /// width divides a day and is at least 5 minutes.
    pub weekly: bool,
    /// A return towards the level before an episode, within this many
    /// points of the episode's start, is the end of that episode, not news
    /// (0 = off).
    pub return_points: usize,
    /// Points after a reported anomaly during which a new episode is not
    /// reported (it is still kept out of the histories): one cause, one
    /// alarm (0 = off).
    pub cooldown: usize,
    /// Also judge the roughness of the recent points (median absolute
    /// difference between neighbours, on a log scale): stuck sensors,
    /// erratic processes.
    pub variance: bool,
    /// Heavy tails: the margin over the window's extreme is at least this
    /// many times the gap between that extreme and the window's 99th (1st)
    /// percentile, when that gap is wider than a robust standard deviation
    /// (0 = the margin counts robust standard deviations only).
    pub tail: f64,
    /// Points averaged by the level view (0 = off): their mean against the
    /// median of the `level_reference` points before them, with no trend,
    /// so a slow ramp adds up instead of being followed.
    pub level_points: usize,
    /// Points in the level view's reference (0 = off). The view's
    /// statistics join its history only once this many points old, so a
    /// ramp cannot raise the extremes it is judged against as it creeps.
    pub level_reference: usize,
    /// In a heavy-tailed series, an episode that the point view decides, by
    /// less than this many times its threshold, is reported one point
    /// late, and only if the next point still deviates: a lone marginal
    /// value is the heavy tail's, not news (0 = off).
    pub confirm: f64,
    /// A shift or drift view's flag stands only if the recent points also
    /// deviate, in the same direction, from the reference's plain median
    /// (without the trend extrapolated from it): a flag the trend alone
    /// makes is not news.
    pub untrended: bool,
    /// Fusion (session 13, round 2): when two of the averaging views
    /// (shift, drift, level) deviate the same way at once, each by at
    /// least `1 / fusion` of its threshold, and the newest point deviates
    /// from each view's reference at least as far as the view's mean, the
    /// point scores as if the weaker of the two had been `fusion` times as
    /// far (0 = off): two scales of one move each almost past their
    /// thresholds are one move past them.
    pub fusion: f64,
}

impl Default for SeriesConfig {
    fn default() -> Self {
        SeriesConfig {
            warmup: 100,
            window: 2000,
            k: 4.5,
            margin: 0.6,
            reference_points: 12,
            shift_points: 6,
            transform: true,
            trend: 0.5,
            seasonal: true,
            episode_rows: 1,
            seasonal_gain: 0.6,
            weekly: true,
            return_points: 1000,
            cooldown: 30,
            variance: true,
            tail: 1.2,
            level_points: 24,
            level_reference: 288,
            confirm: 2.0,
            untrended: true,
            fusion: 1.3,
        }
    }
}
