//! A streaming detector for a generic numeric series: one value per bucket, of
//! any scale and sign (machine metrics, traffic counts, latencies, error
//! counts).
//!
//! **Scale.** At the end of the warm-up the detector picks the transform under
//! which the noise is most even across levels: none, square root (counts,
//! whose noise grows like the square root of the level) or logarithm
//! (latencies and other multiplicative noise). Without it, the noise of busy
//! hours would hide anything happening at night.
//!
//! **Views.** Each point is looked at through views that turn the recent
//! values into one statistic, a difference between "now" and a reference
//! level (the median of the points just before):
//!
//! - **point**: the newest value (spikes, dips, sudden level shifts);
//! - **shift**: the mean of the last few values (level shifts too small to
//!   show in one point);
//! - **drift**: the mean of a longer stretch against a longer reference (slow
//!   ramps);
//! - **level**: the mean of that stretch against a day-long reference, with
//!   no trend (leaks: a climb too slow for the others, which follow it). Its
//!   statistics join its history only once a reference length old, so a
//!   ramp does not raise, point by point, the extreme it is judged against.
//!
//! **Judgement.** Every view keeps the history of its statistic over the last
//! `window` normal points and judges the new one with robust statistics
//! (median and MAD, floored by the series' resolution), in both directions. A
//! deviation must clear `k` robust standard deviations *and* the largest
//! deviation of the window plus a margin: heavy-tailed but normal noise
//! (recurring batch jobs, busy hours) stays quiet, a new behaviour stands out.
//! The margin grows with the tail: it is measured in robust standard
//! deviations or in the gap between the window's extreme and its 99th
//! percentile, whichever is wider. Past the largest of 2,000 heavy-tailed
//! points, the next record is usually far past it; past the largest of 2,000
//! Gaussian ones, never by much.
//! A flagged point's statistic stays out of the history, but each flagged
//! episode leaves its peak behind: a deviation seen in two episodes within the
//! window is normal behaviour, not an anomaly, from then on.
//!
//! References include every point, flagged or not, so after a lasting level
//! shift the reference moves to the new level within half a reference length
//! and the shift is reported at its start, not for as long as it lasts.
//!
//! **Regimes.** A series that switches between levels it dwells at (a
//! failover pair, a batch import on and off) is not reported for a move
//! of the averaging views onto a level the window's normal values hold
//! many of, across a gap they only cross (`regimes.rs`).
//!
//! **Confirmation.** In a heavy-tailed series, a new episode that the point
//! view decides by a small margin is reported one point late, and only if
//! that point still deviates: lone outliers just past the window's extreme
//! are such a series' noise (`judge.rs`).

use std::collections::VecDeque;

mod config;
mod history;
mod judge;
mod level;
mod packed;
mod regimes;
mod transform;
mod verdict;

use serde::{Deserialize, Serialize};

use super::stats::{median_in_place, median_spread_in_place, ratio_from_score};
pub use config::SeriesConfig;
use history::History;
pub use transform::Transform;
use transform::choose_transform;
pub use verdict::{Band, PointVerdict, ViewKind};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct View {
    kind: ViewKind,
    /// Values averaged into "now".
    points: usize,
    /// Values in the reference level before them.
    reference: usize,
    /// Period in buckets of the seasonal views (a day, a week), 0 for the
    /// others.
    period: usize,
    /// Earlier periods a seasonal view compares with, and the periods of
    /// history it needs before it speaks.
    cycles: usize,
    min_cycles: usize,
    /// Statistics of normal points, in compact blocks (`history`).
    history: History,
    /// Peak statistic of each flagged episode, with the index of its point.
    peaks: VecDeque<(usize, f64)>,
    /// The view flagged the previous point.
    in_episode: bool,
    /// Spread of the history at the last judgement.
    spread: f64,
    /// Median, spread, lowest and highest of the history, and the steps
    /// since they were computed.
    summary: Option<(f64, f64, f64, f64)>,
    /// The gaps between the window's extremes and its 1st and 99th
    /// percentiles at the last summary (how heavy its tails are).
    tail_gaps: (f64, f64),
    /// The mean absolute deviation of the history from its median at the
    /// last summary (against the spread: how heavy its tails are).
    mean_deviation: f64,
    summary_age: usize,
    /// Statistics of normal points not yet in the history (the level
    /// view's, `f32` like the history's blocks): learned once a reference
    /// length old.
    delayed: VecDeque<(usize, f32)>,
    /// The last judgement's centre and the deviations up and down that
    /// reach its threshold: the verdict's evidence. Not kept across a
    /// snapshot.
    #[serde(skip)]
    band: Option<(f64, f64, f64)>,
    /// The reference level the last statistic was measured from (not for
    /// the variance and seasonal views). Not kept across a snapshot.
    #[serde(skip)]
    reference_level: f64,
    /// The last statistic measured from the reference's plain median,
    /// without the trend extrapolated from it (the same as the statistic
    /// for views without a trend). Not kept across a snapshot.
    #[serde(skip)]
    plain: f64,
}

impl View {
    /// Adds a normal statistic to the history.
    fn learn(&mut self, index: usize, stat: f64) {
        self.history.push(index, stat);
        if let Some((_, _, lowest, highest)) = &mut self.summary {
            *lowest = lowest.min(stat);
            *highest = highest.max(stat);
        }
    }
}

/// Days the daily view looks back.
const SEASONAL_DAYS: usize = 3;
/// Weeks the weekly view looks back, at most and at least.
const SEASONAL_WEEKS: usize = 3;
const MIN_WEEKS: usize = 2;
/// The most periods any seasonal view looks back.
const MAX_CYCLES: usize = if SEASONAL_DAYS > SEASONAL_WEEKS {
    SEASONAL_DAYS
} else {
    SEASONAL_WEEKS
};
/// Longest daily period (in points) the seasonal view supports.
const MAX_PERIOD: usize = 1440;
/// Longest weekly period (in points) the weekly view supports: 5-minute
/// buckets. Finer series would keep weeks of buckets for one view.
const MAX_WEEK_PERIOD: usize = 2016;

/// Points per day for buckets `bucket_secs` wide, when that is a whole number
/// small enough to keep several days of.
pub fn daily_period(bucket_secs: i64) -> Option<usize> {
    if bucket_secs <= 0 || 86_400 % bucket_secs != 0 {
        return None;
    }
    let period = usize::try_from(86_400 / bucket_secs).ok()?;
    (4..=MAX_PERIOD).contains(&period).then_some(period)
}

/// Points per week for buckets `bucket_secs` wide, when the weekly view can
/// keep enough weeks of them.
pub fn weekly_period(bucket_secs: i64) -> Option<usize> {
    let week = daily_period(bucket_secs)? * 7;
    (week <= MAX_WEEK_PERIOD).then_some(week)
}

/// Statistics of the warm-up this many robust standard deviations from the
/// rest are forgotten at its end.
const WARMUP_OUTLIER: f64 = 20.0;

/// Smallest spread of the variance view's statistic (a log): the sampling
/// error of the statistic itself. The median of 24 absolute steps of white
/// noise has a standard error of about 0.24 on the log scale (the median
/// of n half-normal values: 0.16 of their scale against a median of 0.67,
/// at n = 24; more when neighbours are correlated), so a history that
/// happens to vary less says nothing finer. Session 13: 0.15 before.
const VARIANCE_FLOOR: f64 = 0.25;

/// Statistics the variance view needs before it judges: the roughness of a
/// few points varies a lot, and its extremes need a long history to be
/// known.
const VARIANCE_MIN_HISTORY: usize = 250;

/// Statistics the level view needs before it judges: its statistic moves
/// slowly, so a few hundred of them are needed to know its extremes.
const LEVEL_MIN_HISTORY: usize = 250;

/// A view's history is heavy-tailed when its mean absolute deviation from
/// the median exceeds this many robust standard deviations (from the
/// MAD). Measured on the compact histories after 500 to 4,000 points:
/// Gaussian noise 0.83 to 0.94 (0.80 in theory; the blocks' extremes weigh
/// a little more than the values they stand for), Student's t with 3
/// degrees of freedom 0.97 to 1.37, Laplace 0.90 to 1.10.
const HEAVY_DEVIATION: f64 = 0.95;

/// Statistics a view needs in its history before it judges.
const MIN_HISTORY: usize = 20;

/// Appends `value`, first dropping the oldest values past `capacity - 1` (a
/// `capacity` of 0 keeps nothing). Dropping before appending keeps a full
/// queue within the room it has: a restored detector's queues have no
/// spare room, and appending first would double each of them every pass.
pub(crate) fn push_bounded<T>(queue: &mut VecDeque<T>, value: T, capacity: usize) {
    if capacity == 0 {
        queue.clear();
        return;
    }
    while queue.len() >= capacity {
        queue.pop_front();
    }
    queue.push_back(value);
}

/// Streaming detector over one series. Feed points in time order with
/// [`SeriesDetector::push`].
///
/// It is serialisable: the live engine keeps one per series between detect
/// passes (`detect::live`), and a restored detector continues exactly where
/// the saved one stopped.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeriesDetector {
    cfg: SeriesConfig,
    transform: Transform,
    /// Raw values of the warm-up with the buckets elapsed before each,
    /// replayed once the transform is chosen.
    warmup_values: Vec<(f64, u64)>,
    /// Recent transformed values, oldest first, and the time slot (bucket
    /// number) of each.
    #[serde(with = "packed::f64s")]
    values: VecDeque<f64>,
    value_slots: VecDeque<u64>,
    /// Whether each of `values` was flagged.
    flagged: VecDeque<bool>,
    capacity: usize,
    /// Transformed values by time slot for the seasonal views, oldest first,
    /// NaN for buckets without a value (gaps, unreadable rows).
    #[serde(with = "packed::f32s")]
    slots: VecDeque<f32>,
    slot_capacity: usize,
    /// Time slot of the newest value.
    slot: u64,
    /// Buckets passed over by skipped (non-finite) values since the last one.
    pending: u64,
    views: Vec<View>,
    /// Points pushed so far.
    seen: usize,
    /// Points learned so far (the warm-up is learned at its end).
    steps: usize,
    /// Flagged points of the current episode.
    episode: usize,
    /// Unflagged points since the last flagged one.
    quiet: usize,
    /// The latest episode (not itself a return): the index of its first
    /// point and the reference level before it.
    excursion: Option<(usize, f64, f64)>,
    /// The current episode is a return from the last excursion.
    returning: bool,
    /// Smallest non-zero difference between consecutive values: the series'
    /// resolution, a floor for its spread.
    resolution: f64,
    /// The smallest spread worth telling from zero: a tiny share of the
    /// series' typical magnitude, so that values of 1e-9 are judged like
    /// values of 1e9.
    tiny: f64,
    last: Option<f64>,
    #[serde(skip)]
    scratch: Vec<f64>,
    /// The point view's reference level for the newest value (transformed).
    #[serde(skip)]
    point_reference: f64,
    /// The level view's reference, sorted, and the step it was last
    /// brought up to (0: never; rebuilt after a restore).
    #[serde(skip)]
    level_sorted: Vec<f64>,
    #[serde(skip)]
    level_at: usize,
    /// Points since the last reported anomaly, and its score.
    since_report: usize,
    reported_score: f64,
    /// The score of an episode's first point held back for confirmation
    /// (`confirm`): reported at the next point if that one deviates too.
    held: Option<f64>,
    /// The values of normal points over the window (`regimes.rs`): the
    /// levels the series is known to dwell at.
    levels: History,
}

impl SeriesDetector {
    /// A detector for buckets `bucket_secs` wide (0 when unknown; the seasonal
    /// view needs it).
    pub fn new(cfg: &SeriesConfig, bucket_secs: i64) -> SeriesDetector {
        let reference = cfg.reference_points.max(1);
        let shift = cfg.shift_points.max(1);
        let view = |kind, points, reference, period, cycles, min_cycles| View {
            kind,
            points,
            reference,
            period,
            cycles,
            min_cycles,
            history: History::default(),
            peaks: VecDeque::new(),
            in_episode: false,
            spread: f64::INFINITY,
            summary: None,
            tail_gaps: (0.0, 0.0),
            mean_deviation: 0.0,
            summary_age: 0,
            delayed: VecDeque::new(),
            band: None,
            reference_level: 0.0,
            plain: 0.0,
        };
        let mut views = vec![
            view(ViewKind::Point, 1, reference, 0, 0, 0),
            view(ViewKind::Shift, shift, reference, 0, 0, 0),
            view(ViewKind::Drift, 4 * shift, 4 * reference, 0, 0, 0),
        ];
        if cfg.variance {
            views.push(view(ViewKind::Variance, 4 * shift, 1, 0, 0, 0));
        }
        if cfg.level_points > 0 && cfg.level_reference > 0 {
            views.push(view(
                ViewKind::Level,
                cfg.level_points,
                cfg.level_reference,
                0,
                0,
                0,
            ));
        }
        if let Some(period) = daily_period(bucket_secs).filter(|_| cfg.seasonal) {
            views.push(view(
                ViewKind::Seasonal,
                shift.min(3),
                reference,
                period,
                SEASONAL_DAYS,
                SEASONAL_DAYS,
            ));
        }
        if let Some(period) = weekly_period(bucket_secs).filter(|_| cfg.seasonal && cfg.weekly) {
            views.push(view(
                ViewKind::Weekly,
                shift.min(3),
                reference,
                period,
                SEASONAL_WEEKS,
                MIN_WEEKS,
            ));
        }
        let capacity = views
            .iter()
            .map(|v| v.points + v.reference)
            .max()
            .unwrap_or(1)
            + 1;
        let slot_capacity = views
            .iter()
            .filter(|v| v.period > 0)
            .map(|v| v.points + v.reference + v.cycles * v.period + 1)
            .max()
            .unwrap_or(0);
        SeriesDetector {
            cfg: cfg.clone(),
            transform: Transform::Identity,
            warmup_values: Vec::new(),
            values: VecDeque::new(),
            value_slots: VecDeque::new(),
            flagged: VecDeque::new(),
            capacity,
            slots: VecDeque::new(),
            slot_capacity,
            slot: 0,
            pending: 0,
            views,
            seen: 0,
            steps: 0,
            episode: 0,
            quiet: 0,
            excursion: None,
            returning: false,
            resolution: f64::INFINITY,
            tiny: f64::MIN_POSITIVE,
            last: None,
            scratch: Vec::new(),
            point_reference: 0.0,
            level_sorted: Vec::new(),
            level_at: 0,
            since_report: usize::MAX,
            reported_score: 0.0,
            held: None,
            levels: History::default(),
        }
    }

    /// The transform in use (decided at the end of the warm-up).
    pub fn transform(&self) -> Transform {
        self.transform
    }

    /// Judges `value`, the bucket after the previous one, then learns from
    /// it. Non-finite values score 0 and are skipped.
    pub fn push(&mut self, value: f64) -> PointVerdict {
        self.push_after(value, 1)
    }

    /// Judges `value`, `buckets` buckets after the previous row (1 for the
    /// next bucket, more after a gap; 0 counts as 1), then learns from it.
    /// Gaps keep the seasonal views aligned with the time of day and week;
    /// the other views look at the rows as they come. Non-finite values
    /// score 0 and are skipped (their bucket counts as a gap).
    pub fn push_after(&mut self, value: f64, buckets: u64) -> PointVerdict {
        let quiet = PointVerdict::quiet();
        let buckets = buckets.max(1);
        if !value.is_finite() {
            self.pending = self.pending.saturating_add(buckets);
            return quiet;
        }
        let elapsed = if self.seen == 0 {
            1
        } else {
            buckets.saturating_add(self.pending)
        };
        self.pending = 0;
        self.seen += 1;
        if self.seen <= self.cfg.warmup {
            self.warmup_values.push((value, elapsed));
            if self.seen == self.cfg.warmup {
                self.end_warmup();
            }
            return quiet;
        }
        self.step(value, elapsed, true)
    }

    fn end_warmup(&mut self) {
        let raw = std::mem::take(&mut self.warmup_values);
        if self.cfg.transform {
            let values: Vec<f64> = raw.iter().map(|&(v, _)| v).collect();
            self.transform = choose_transform(&values, self.cfg.reference_points.max(2));
        }
        let mut magnitudes: Vec<f64> = raw
            .iter()
            .map(|&(v, _)| self.transform.apply(v).abs())
            .collect();
        let typical = median_in_place(&mut magnitudes);
        self.tiny = (1e-12 * typical).max(f64::MIN_POSITIVE);
        for (v, elapsed) in raw {
            self.step(v, elapsed, false);
        }
        self.forget_warmup_outliers();
    }

    /// The warm-up is learned unjudged, so one wild value in it (a counter
    /// reset, a unit glitch) would make every later deviation smaller than
    /// itself look normal for a whole window. Statistics far beyond anything
    /// else learned (`WARMUP_OUTLIER` robust standard deviations) are dropped
    /// from the histories, and their points count as flagged in the recent
    /// values.
    fn forget_warmup_outliers(&mut self) {
        let floor = self.spread_floor();
        let mut dropped: Vec<usize> = Vec::new();
        for view in &mut self.views {
            if view.history.len() < MIN_HISTORY {
                continue;
            }
            view.history.weighted_values(&mut self.scratch);
            let (center, spread) = median_spread_in_place(&mut self.scratch);
            let limit = WARMUP_OUTLIER * spread.max(floor);
            let before = view.history.len();
            let point_view = view.points == 1 && view.period == 0;
            view.history.retain(|i, s| {
                let keep = (s - center).abs() <= limit;
                if !keep && point_view {
                    dropped.push(i);
                }
                keep
            });
            if view.history.len() != before {
                view.summary = None;
            }
        }
        let n = self.flagged.len();
        for i in dropped {
            if let Some(back) = self.steps.checked_sub(i)
                && back < n
            {
                self.flagged[n - 1 - back] = true;
            }
        }
    }

    /// Spreads are floored at half the series' resolution.
    fn spread_floor(&self) -> f64 {
        let floor = if self.resolution.is_finite() {
            self.resolution / 2.0
        } else {
            0.0
        };
        floor.max(self.tiny)
    }

    /// Moves time on by `elapsed` buckets and stores `value` in the newest.
    fn advance(&mut self, value: f64, elapsed: u64) {
        self.slot = self.slot.saturating_add(elapsed);
        if self.slot_capacity == 0 {
            return;
        }
        let missing = usize::try_from(elapsed - 1)
            .unwrap_or(usize::MAX)
            .min(self.slot_capacity);
        for _ in 0..missing {
            push_bounded(&mut self.slots, f32::NAN, self.slot_capacity);
        }
        // f32: a relative error of 6e-8 is nothing beside any series'
        // noise, and halves the biggest part of a saved state.
        push_bounded(&mut self.slots, value as f32, self.slot_capacity);
    }

    /// The value stored for time slot `slot`, if kept and not missing.
    fn at_slot(&self, slot: u64) -> Option<f64> {
        let back = usize::try_from(self.slot.checked_sub(slot)?).ok()?;
        let len = self.slots.len();
        if back >= len {
            return None;
        }
        let v = self.slots[len - 1 - back];
        (!v.is_nan()).then_some(f64::from(v))
    }

    /// Adds one value; judges it when `judge`, otherwise only learns.
    fn step(&mut self, raw: f64, elapsed: u64, judge: bool) -> PointVerdict {
        let value = self.transform.apply(raw);
        self.advance(value, elapsed.max(1));
        push_bounded(&mut self.values, value, self.capacity);
        push_bounded(&mut self.value_slots, self.slot, self.capacity);
        push_bounded(&mut self.flagged, false, self.capacity);
        self.steps += 1;
        let index = self.steps;

        let mut verdict = PointVerdict::quiet();
        let mut rising = true;
        let mut decider: Option<usize> = None;
        let mut stats: Vec<Option<f64>> = Vec::with_capacity(self.views.len());
        let mut scores: Vec<f64> = Vec::with_capacity(self.views.len());
        // Marginal averaging views, for the fusion: (the share of its
        // threshold reached, deviating upwards, the view's index).
        let mut marginal: Vec<(f64, bool, usize)> = Vec::new();
        for i in 0..self.views.len() {
            let Some((stat, own)) = self.statistic(i) else {
                stats.push(None);
                scores.push(0.0);
                continue;
            };
            stats.push(Some(stat));
            let mut score = if judge { self.judge(i, stat) } else { 0.0 };
            // An averaging view only speaks for the newest point when that
            // point is part of the move; otherwise the points after a flagged
            // spike would be flagged for carrying it in their mean.
            if self.views[i].points > 1 && own * stat <= 0.0 {
                score = score.min(0.49);
            }
            if score >= 0.5 && self.extrapolated_only(i, stat) {
                score = score.min(0.49);
            }
            scores.push(score);
            if judge
                && self.cfg.fusion > 0.0
                && score < 0.49
                && self.fusable(i, stat, own)
                && let Some((center, _, _)) = self.views[i].band
            {
                marginal.push((ratio_from_score(score), stat >= center, i));
            }
            if score > verdict.score {
                verdict.score = score;
                verdict.view = Some(self.views[i].kind);
                decider = Some(i);
                if let Some((center, _, _)) = self.views[i].band {
                    rising = stat >= center;
                }
            }
        }
        if let Some((score, i, up)) = self.fuse(&marginal)
            && score > verdict.score
        {
            verdict.score = score;
            verdict.view = Some(self.views[i].kind);
            decider = Some(i);
            rising = up;
        }
        if judge {
            verdict.band = self.band(rising);
        }
        verdict.anomaly = judge && verdict.score >= 0.5;
        let raw_anomaly = verdict.anomaly;
        verdict.deviating = raw_anomaly;
        if let Some(flag) = self.flagged.back_mut() {
            *flag = raw_anomaly;
        }
        // The resolution is learned after the judgement, so the first change
        // of a perfectly flat series is judged against a flat history.
        if let Some(last) = self.last {
            // Differences within rounding error of the values are none.
            let diff = (value - last).abs();
            if diff > 1e-12 * value.abs().max(last.abs()) && diff > 0.0 {
                self.resolution = self.resolution.min(diff);
            }
        }
        self.last = Some(value);

        // A change after a stretch so flat that the point view learned one
        // value only: the flat stretch says nothing about the noise to come
        // (a sensor coming alive, a counter starting), so the views learn
        // afresh after reporting the change.
        let relearn = raw_anomaly
            && self.views[0]
                .summary
                .is_some_and(|(_, _, lowest, highest)| highest <= lowest);
        let window = self.cfg.window.max(MIN_HISTORY);
        for ((view, stat), score) in self.views.iter_mut().zip(stats).zip(scores) {
            let Some(stat) = stat else {
                view.in_episode = false;
                continue;
            };
            if raw_anomaly && score >= 0.5 {
                // Keep the episode's peak, not its every point.
                match view.peaks.back_mut() {
                    Some(peak) if view.in_episode => {
                        if stat.abs() > peak.1.abs() {
                            *peak = (index, stat);
                        }
                    }
                    _ => view.peaks.push_back((index, stat)),
                }
                view.in_episode = true;
            } else {
                view.in_episode = false;
                if !raw_anomaly {
                    // The level view learns a statistic only once it is a
                    // reference length old: a slow ramp would otherwise
                    // raise the window's extreme a little at every point
                    // and never stand out from it.
                    if view.kind == ViewKind::Level {
                        view.delayed.push_back((index, stat as f32));
                        while let Some(&(i, s)) = view.delayed.front() {
                            if i + view.reference > index {
                                break;
                            }
                            view.delayed.pop_front();
                            view.learn(i, f64::from(s));
                        }
                    } else {
                        view.learn(index, stat);
                    }
                }
            }
            view.history.expire(index, window);
            while view.peaks.front().is_some_and(|&(i, _)| i + window < index) {
                view.peaks.pop_front();
            }
        }
        if relearn {
            for view in &mut self.views {
                view.history.clear();
                view.delayed.clear();
                view.peaks.clear();
                view.summary = None;
                view.in_episode = false;
            }
            self.levels.clear();
        }
        // Returns are about levels: a change of roughness is none.
        if raw_anomaly && self.episode == 0 && verdict.view != Some(ViewKind::Variance) {
            self.returning = self.is_return(index, value) || self.is_known_switch(decider);
            if self.returning {
                self.excursion = None;
            } else {
                let before = self.reference_before_newest();
                // A smaller move soon after an excursion (an averaging view
                // catching up with it) leaves the excursion to return from.
                let smaller = self.excursion.is_some_and(|(start, b, peak)| {
                    index <= start + self.cfg.return_points
                        && (value - before).abs() < 0.5 * (peak - b).abs()
                });
                if !smaller {
                    self.excursion = Some((index, before, value));
                }
            }
        }
        if !raw_anomaly {
            self.levels.push(index, value);
        }
        self.levels.expire(index, window);
        if raw_anomaly {
            self.episode += 1;
            self.quiet = 0;
        } else if self.episode > 0 {
            // An episode ends after a reference length of quiet points: the
            // flags of one change (the reference catching up, the averaging
            // views following) are one episode, not several.
            self.quiet += 1;
            if self.quiet >= self.cfg.shift_points.max(1) {
                self.episode = 0;
                self.returning = false;
            }
        }
        if self.returning {
            // The end of an excursion: the level goes back where it was
            // before it. Its start was the news; it stays out of the
            // histories like any flagged point, but is not reported.
            verdict.score = verdict.score.min(0.49);
            verdict.anomaly = false;
        }
        let cap = self.cfg.episode_rows;
        if cap > 0 && self.episode > cap {
            // Habituation: a condition that persists is less and less
            // surprising; the episode was reported at its start.
            let extra = (self.episode - cap) as i32;
            verdict.score *= 0.6f64.powi(extra);
            verdict.anomaly = verdict.score >= 0.5;
        }
        if judge {
            self.confirm(&mut verdict, raw_anomaly);
            self.since_report = self.since_report.saturating_add(1);
            if verdict.anomaly {
                // Within the cooldown only a verdict twice as far past its
                // threshold as the one reported is news: a marginal flag must not hide the
                // outage that follows it.
                let news =
                    ratio_from_score(verdict.score) >= 2.0 * ratio_from_score(self.reported_score);
                if self.since_report <= self.cfg.cooldown && !news {
                    verdict.score = verdict.score.min(0.49);
                    verdict.anomaly = false;
                } else {
                    self.since_report = 0;
                    self.reported_score = verdict.score;
                }
            }
        }
        verdict
    }

    /// The point view's evidence for the newest value in the series' unit.
    fn band(&self, rising: bool) -> Option<Band> {
        let (center, up, down) = self.views.first()?.band?;
        let t = self.transform;
        let expected_t = self.point_reference + center;
        let threshold_t = if rising {
            expected_t + up
        } else {
            expected_t - down
        };
        let spread_t = self.views[0].spread.max(self.spread_floor());
        let expected = t.invert(expected_t);
        Some(Band {
            expected,
            threshold: t.invert(threshold_t),
            spread: (t.invert(expected_t + spread_t) - expected).abs(),
            rising,
        })
    }

    /// About the bytes of this detector's saved form (its long queues; the
    /// rest is small), to size a buffer for it.
    pub fn saved_size_hint(&self) -> usize {
        self.slots.len() * 4
            + self.values.len() * 8
            + self.value_slots.len() * 5
            + self.flagged.len()
            + 4096
    }

    /// Points pushed so far (skipped non-finite values not counted).
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// Past the warm-up: the next point gets a verdict.
    pub fn warmed_up(&self) -> bool {
        self.seen >= self.cfg.warmup
    }

    /// The median of the reference points before the newest value.
    fn reference_before_newest(&mut self) -> f64 {
        let n = self.values.len();
        let reference = self.cfg.reference_points.max(1).min(n.saturating_sub(1));
        if reference == 0 {
            return self.values.back().copied().unwrap_or(0.0);
        }
        self.scratch.clear();
        self.scratch
            .extend(self.values.range(n - 1 - reference..n - 1));
        median_in_place(&mut self.scratch)
    }

    /// Whether `value`, flagged at point `index`, goes back towards the level
    /// before a recent excursion: it lies nearer that level than half the
    /// way from the level the excursion left the reference at.
    fn is_return(&mut self, index: usize, value: f64) -> bool {
        let Some((start, before, peak)) = self.excursion else {
            return false;
        };
        if self.cfg.return_points == 0 || index > start + self.cfg.return_points {
            return false;
        }
        let now = self.reference_before_newest();
        let jump = peak - before;
        let back = now - value;
        // The reference moved with the excursion (it was a level, not a
        // spike) and the value moves back by about as much.
        (now - before) * jump >= 0.25 * jump * jump
            && back * jump >= 0.5 * jump * jump
            && back.abs() <= 1.5 * jump.abs()
    }

    /// The statistic of view `i` at the newest point, and the newest point's
    /// own deviation from the same reference.
    fn statistic(&mut self, i: usize) -> Option<(f64, f64)> {
        let n = self.values.len();
        let View {
            points,
            reference,
            period,
            cycles,
            min_cycles,
            ..
        } = self.views[i];
        if n < points + reference {
            return None;
        }
        let newest = self.values[n - 1];
        if self.views[i].kind == ViewKind::Variance {
            // The median step: a spike or two in the stretch move it
            // little (they are the point view's), a stuck or erratic
            // signal moves it all.
            let floor = self.spread_floor();
            self.scratch.clear();
            self.scratch
                .extend((n - points..n).map(|j| (self.values[j] - self.values[j - 1]).abs()));
            let rough = median_in_place(&mut self.scratch);
            let stat = (rough + floor).ln();
            return Some((stat, stat));
        }
        if period > 0 {
            // The same view on the difference from the same time of the
            // previous days (or weeks).
            let mut diffs = Vec::with_capacity(points + reference);
            let mut same_time = [0.0; MAX_CYCLES];
            for j in n - points - reference..n {
                let mut found = 0;
                for cycle in 1..=cycles.min(same_time.len()) {
                    let Some(slot) = self.value_slots[j].checked_sub((cycle * period) as u64)
                    else {
                        break;
                    };
                    if let Some(v) = self.at_slot(slot) {
                        same_time[found] = v;
                        found += 1;
                    }
                }
                // `min_cycles` periods of time must have passed; of their
                // values, two suffice when rows are missing.
                let passed = self.value_slots[j].saturating_sub(1) / period as u64;
                if passed < min_cycles as u64 || found < min_cycles.clamp(1, 2) {
                    return None;
                }
                diffs.push(self.values[j] - median_in_place(&mut same_time[..found]));
            }
            let newest_diff = diffs[diffs.len() - 1];
            let level = median_in_place(&mut diffs[..reference]);
            let recent = self.recent_mean(&diffs[reference..], level);
            return Some((recent - level, newest_diff - level));
        }
        let end = n - points;
        if self.views[i].kind == ViewKind::Level {
            let level = self.level_median(end, reference);
            self.views[i].reference_level = level;
            let recent = self.values.range(end..n).sum::<f64>() / points as f64;
            return Some((recent - level, newest - level));
        }
        let half = reference / 2;
        self.scratch.clear();
        self.scratch.extend(self.values.range(end - reference..end));
        let level = median_in_place(&mut self.scratch);
        let trend = self.cfg.trend;
        if trend > 0.0 && half >= 2 {
            // Local trend: the medians of the two halves of the reference,
            // extrapolated to the middle of the recent points.
            self.scratch.clear();
            self.scratch
                .extend(self.values.range(end - reference..end - half));
            let older = median_in_place(&mut self.scratch);
            self.scratch.clear();
            self.scratch.extend(self.values.range(end - half..end));
            let newer = median_in_place(&mut self.scratch);
            let slope = (newer - older) / (reference - half) as f64;
            let distance = (half as f64 + 1.0) / 2.0 + (points as f64 - 1.0) / 2.0;
            let expected = newer + trend * slope * distance;
            if i == 0 {
                self.point_reference = expected;
            }
            self.views[i].reference_level = level;
            let recent = self.recent_values_mean(points, expected);
            self.views[i].plain = recent - level;
            return Some((recent - expected, newest - level));
        }
        if i == 0 {
            self.point_reference = level;
        }
        self.views[i].reference_level = level;
        let recent = self.recent_values_mean(points, level);
        self.views[i].plain = recent - level;
        Some((recent - level, newest - level))
    }

    /// Mean of the newest `points` values, earlier flagged ones counted as
    /// `fill`: an averaging view must not flag the points after a spike for
    /// carrying the spike in their mean.
    fn recent_values_mean(&self, points: usize, fill: f64) -> f64 {
        let n = self.values.len();
        let sum: f64 = (n - points..n)
            .map(|j| {
                if j + 1 < n && self.flagged[j] {
                    fill
                } else {
                    self.values[j]
                }
            })
            .sum();
        sum / points as f64
    }

    /// [`Self::recent_values_mean`] over seasonal differences.
    fn recent_mean(&self, diffs: &[f64], fill: f64) -> f64 {
        let n = self.values.len();
        let points = diffs.len();
        let sum: f64 = diffs
            .iter()
            .enumerate()
            .map(|(k, &d)| {
                let j = n - points + k;
                if j + 1 < n && self.flagged[j] {
                    fill
                } else {
                    d
                }
            })
            .sum();
        sum / points.max(1) as f64
    }
}

/// Scores a whole series at once (the backtest): one verdict per value.
pub fn score_series(values: &[f64], bucket_secs: i64, cfg: &SeriesConfig) -> Vec<PointVerdict> {
    let mut detector = SeriesDetector::new(cfg, bucket_secs);
    values.iter().map(|&v| detector.push(v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bounded_queue_keeps_the_newest_values_in_the_room_it_has() {
        let mut queue: VecDeque<u32> = (0..4).collect();
        queue.shrink_to_fit();
        let room = queue.capacity();
        for v in 4..10 {
            push_bounded(&mut queue, v, 4);
            assert_eq!(queue.capacity(), room, "grew at {v}");
        }
        assert_eq!(queue, VecDeque::from([6, 7, 8, 9]));
        push_bounded(&mut queue, 10, 0);
        assert!(queue.is_empty());
    }
}
