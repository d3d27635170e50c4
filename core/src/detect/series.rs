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
//!   ramps and leaks).
//!
//! **Judgement.** Every view keeps the history of its statistic over the last
//! `window` normal points and judges the new one with robust statistics
//! (median and MAD, floored by the series' resolution), in both directions. A
//! deviation must clear `k` robust standard deviations *and* the largest
//! deviation of the window plus a margin: heavy-tailed but normal noise
//! (recurring batch jobs, busy hours) stays quiet, a new behaviour stands out.
//! A flagged point's statistic stays out of the history, but each flagged
//! episode leaves its peak behind: a deviation seen in two episodes within the
//! window is normal behaviour, not an anomaly, from then on.
//!
//! References include every point, flagged or not, so after a lasting level
//! shift the reference moves to the new level within half a reference length
//! and the shift is reported at its start, not for as long as it lasts.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::stats::{median_in_place, median_spread_in_place, score_from_ratio};

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
}

impl Default for SeriesConfig {
    fn default() -> Self {
        SeriesConfig {
            warmup: 100,
            window: 2000,
            k: 4.5,
            margin: 1.0,
            reference_points: 12,
            shift_points: 6,
            transform: true,
            trend: 0.5,
            seasonal: true,
            episode_rows: 1,
            seasonal_gain: 0.6,
        }
    }
}

/// What the detector says about one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointVerdict {
    /// In [0, 1]; 0.5 is the verdict threshold.
    pub score: f64,
    /// Past the warm-up and `score >= 0.5`.
    pub anomaly: bool,
    /// The view with the highest score, when any judged.
    pub view: Option<ViewKind>,
}

/// Which view judged a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    Point,
    Shift,
    Drift,
    Seasonal,
}

/// Value transform chosen at the end of the warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    Identity,
    Sqrt,
    Log,
}

impl Transform {
    fn apply(self, v: f64) -> f64 {
        match self {
            Transform::Identity => v,
            Transform::Sqrt => v.max(0.0).sqrt(),
            Transform::Log => v.max(f64::MIN_POSITIVE).ln(),
        }
    }
}

#[derive(Debug, Clone)]
struct View {
    kind: ViewKind,
    /// Values averaged into "now".
    points: usize,
    /// Values in the reference level before them.
    reference: usize,
    /// Daily period in points for the seasonal view, 0 for the others.
    period: usize,
    /// Statistics of normal points, oldest first, with the index of the point.
    history: VecDeque<(usize, f64)>,
    /// Peak statistic of each flagged episode, with the index of its point.
    peaks: VecDeque<(usize, f64)>,
    /// The view flagged the previous point.
    in_episode: bool,
    /// Spread of the history at the last judgement.
    spread: f64,
    /// Median, spread, lowest and highest of the history, and the steps
    /// since they were computed.
    summary: Option<(f64, f64, f64, f64)>,
    summary_age: usize,
}

/// Days the seasonal view looks back.
const SEASONAL_DAYS: usize = 3;
/// Longest daily period (in points) the seasonal view supports.
const MAX_PERIOD: usize = 1440;

/// Points per day for buckets `bucket_secs` wide, when that is a whole number
/// small enough to keep several days of.
pub fn daily_period(bucket_secs: i64) -> Option<usize> {
    if bucket_secs <= 0 || 86_400 % bucket_secs != 0 {
        return None;
    }
    let period = usize::try_from(86_400 / bucket_secs).ok()?;
    (4..=MAX_PERIOD).contains(&period).then_some(period)
}

/// Statistics a view needs in its history before it judges.
const MIN_HISTORY: usize = 20;

/// Streaming detector over one series. Feed points in time order with
/// [`SeriesDetector::push`].
#[derive(Debug, Clone)]
pub struct SeriesDetector {
    cfg: SeriesConfig,
    transform: Transform,
    /// Raw values of the warm-up, replayed once the transform is chosen.
    warmup_values: Vec<f64>,
    /// Recent transformed values, oldest first.
    values: VecDeque<f64>,
    /// Whether each of `values` was flagged.
    flagged: VecDeque<bool>,
    capacity: usize,
    views: Vec<View>,
    /// Points pushed so far.
    seen: usize,
    /// Points learned so far (the warm-up is learned at its end).
    steps: usize,
    /// Consecutive flagged points up to the newest.
    episode: usize,
    /// Smallest non-zero difference between consecutive values: the series'
    /// resolution, a floor for its spread.
    resolution: f64,
    last: Option<f64>,
    scratch: Vec<f64>,
}

impl SeriesDetector {
    /// A detector for buckets `bucket_secs` wide (0 when unknown; the seasonal
    /// view needs it).
    pub fn new(cfg: &SeriesConfig, bucket_secs: i64) -> SeriesDetector {
        let reference = cfg.reference_points.max(1);
        let shift = cfg.shift_points.max(1);
        let view = |kind, points, reference, period| View {
            kind,
            points,
            reference,
            period,
            history: VecDeque::new(),
            peaks: VecDeque::new(),
            in_episode: false,
            spread: f64::INFINITY,
            summary: None,
            summary_age: 0,
        };
        let mut views = vec![
            view(ViewKind::Point, 1, reference, 0),
            view(ViewKind::Shift, shift, reference, 0),
            view(ViewKind::Drift, 4 * shift, 4 * reference, 0),
        ];
        if let Some(period) = daily_period(bucket_secs).filter(|_| cfg.seasonal) {
            views.push(view(ViewKind::Seasonal, shift.min(3), reference, period));
        }
        let capacity = views
            .iter()
            .map(|v| v.points + v.reference + SEASONAL_DAYS * v.period)
            .max()
            .unwrap_or(1)
            + 1;
        SeriesDetector {
            cfg: cfg.clone(),
            transform: Transform::Identity,
            warmup_values: Vec::new(),
            values: VecDeque::new(),
            flagged: VecDeque::new(),
            capacity,
            views,
            seen: 0,
            steps: 0,
            episode: 0,
            resolution: f64::INFINITY,
            last: None,
            scratch: Vec::new(),
        }
    }

    /// The transform in use (decided at the end of the warm-up).
    pub fn transform(&self) -> Transform {
        self.transform
    }

    /// Judges `value`, then learns from it. Non-finite values score 0 and are
    /// skipped.
    pub fn push(&mut self, value: f64) -> PointVerdict {
        let quiet = PointVerdict {
            score: 0.0,
            anomaly: false,
            view: None,
        };
        if !value.is_finite() {
            return quiet;
        }
        self.seen += 1;
        if self.seen <= self.cfg.warmup {
            self.warmup_values.push(value);
            if self.seen == self.cfg.warmup {
                self.end_warmup();
            }
            return quiet;
        }
        self.step(value, true)
    }

    fn end_warmup(&mut self) {
        let raw = std::mem::take(&mut self.warmup_values);
        if self.cfg.transform {
            self.transform = choose_transform(&raw, self.cfg.reference_points.max(2));
        }
        for v in raw {
            self.step(v, false);
        }
    }

    /// Adds one value; judges it when `judge`, otherwise only learns.
    fn step(&mut self, raw: f64, judge: bool) -> PointVerdict {
        let value = self.transform.apply(raw);
        self.values.push_back(value);
        self.flagged.push_back(false);
        if self.values.len() > self.capacity {
            self.values.pop_front();
            self.flagged.pop_front();
        }
        self.steps += 1;
        let index = self.steps;

        let mut verdict = PointVerdict {
            score: 0.0,
            anomaly: false,
            view: None,
        };
        let mut stats: Vec<Option<f64>> = Vec::with_capacity(self.views.len());
        let mut scores: Vec<f64> = Vec::with_capacity(self.views.len());
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
            scores.push(score);
            if score > verdict.score {
                verdict.score = score;
                verdict.view = Some(self.views[i].kind);
            }
        }
        verdict.anomaly = judge && verdict.score >= 0.5;
        let raw_anomaly = verdict.anomaly;
        if let Some(flag) = self.flagged.back_mut() {
            *flag = raw_anomaly;
        }
        // The resolution is learned after the judgement, so the first change
        // of a perfectly flat series is judged against a flat history.
        if let Some(last) = self.last {
            let diff = (value - last).abs();
            if diff > 1e-12 {
                self.resolution = self.resolution.min(diff);
            }
        }
        self.last = Some(value);

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
                    view.history.push_back((index, stat));
                    if let Some((_, _, lowest, highest)) = &mut view.summary {
                        *lowest = lowest.min(stat);
                        *highest = highest.max(stat);
                    }
                }
            }
            while view
                .history
                .front()
                .is_some_and(|&(i, _)| i + window < index)
            {
                view.history.pop_front();
            }
            while view.peaks.front().is_some_and(|&(i, _)| i + window < index) {
                view.peaks.pop_front();
            }
        }
        if raw_anomaly {
            self.episode += 1;
        } else {
            self.episode = 0;
        }
        let cap = self.cfg.episode_rows;
        if cap > 0 && self.episode > cap {
            // Habituation: a condition that persists is less and less
            // surprising; the episode was reported at its start.
            let extra = (self.episode - cap) as i32;
            verdict.score *= 0.6f64.powi(extra);
            verdict.anomaly = verdict.score >= 0.5;
        }
        verdict
    }

    /// The statistic of view `i` at the newest point, and the newest point's
    /// own deviation from the same reference.
    fn statistic(&mut self, i: usize) -> Option<(f64, f64)> {
        let n = self.values.len();
        let View {
            points,
            reference,
            period,
            ..
        } = self.views[i];
        if n < points + reference + SEASONAL_DAYS * period {
            return None;
        }
        let newest = self.values[n - 1];
        if period > 0 {
            // The same view on the difference from the same time of the
            // previous days.
            let mut diffs = Vec::with_capacity(points + reference);
            let mut same_time = [0.0; SEASONAL_DAYS];
            for j in n - points - reference..n {
                let mut days = 0;
                for day in 1..=SEASONAL_DAYS {
                    if j >= day * period {
                        same_time[days] = self.values[j - day * period];
                        days += 1;
                    }
                }
                diffs.push(self.values[j] - median_in_place(&mut same_time[..days]));
            }
            let newest_diff = diffs[diffs.len() - 1];
            let level = median_in_place(&mut diffs[..reference]);
            let recent = self.recent_mean(&diffs[reference..], level);
            return Some((recent - level, newest_diff - level));
        }
        let end = n - points;
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
            let recent = self.recent_values_mean(points, expected);
            return Some((recent - expected, newest - level));
        }
        let recent = self.recent_values_mean(points, level);
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

    /// Score of view `i` for statistic `stat` at point `index`.
    fn judge(&mut self, i: usize, stat: f64) -> f64 {
        let view = &self.views[i];
        if view.history.len() < MIN_HISTORY {
            return 0.0;
        }
        // The history moves by one point per step: its median, spread and
        // extremes are recomputed every few steps (every step while short),
        // which changes verdicts by nothing measurable and saves most of
        // the cost.
        let refresh = (view.history.len() / 64).clamp(1, 16);
        if view.summary_age >= refresh || view.summary.is_none() {
            self.scratch.clear();
            self.scratch.extend(view.history.iter().map(|&(_, s)| s));
            let (center, spread) = median_spread_in_place(&mut self.scratch);
            let (lowest, highest) = view
                .history
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(_, v)| {
                    (lo.min(v), hi.max(v))
                });
            let view = &mut self.views[i];
            view.summary = Some((center, spread, lowest, highest));
            view.summary_age = 0;
        }
        let view = &mut self.views[i];
        view.summary_age += 1;
        let Some((center, spread, mut lowest, mut highest)) = view.summary else {
            return 0.0;
        };
        view.spread = spread;
        let view = &self.views[i];
        if view.kind == ViewKind::Seasonal && spread > self.cfg.seasonal_gain * self.views[0].spread
        {
            // The same time of the previous days predicts no better than the
            // points just before: the series has no useful daily cycle.
            return 0.0;
        }
        // A deviation already seen in two earlier episodes is a recurring
        // behaviour of the series.
        if let Some(up) = second_largest(view.peaks.iter().map(|&(_, s)| s)) {
            highest = highest.max(up);
        }
        if let Some(down) = second_largest(view.peaks.iter().map(|&(_, s)| -s)) {
            lowest = lowest.min(-down);
        }
        let floor = if self.resolution.is_finite() {
            self.resolution / 2.0
        } else {
            0.0
        };
        let spread = spread.max(floor).max(1e-9);
        let deviation = stat - center;
        let ratio = if deviation >= 0.0 {
            let threshold = (self.cfg.k * spread).max(highest - center + self.cfg.margin * spread);
            deviation / threshold
        } else {
            let threshold = (self.cfg.k * spread).max(center - lowest + self.cfg.margin * spread);
            -deviation / threshold
        };
        score_from_ratio(ratio)
    }
}

fn second_largest(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut first = f64::NEG_INFINITY;
    let mut second = f64::NEG_INFINITY;
    for v in values {
        if v > first {
            second = first;
            first = v;
        } else if v > second {
            second = v;
        }
    }
    second.is_finite().then_some(second)
}

/// The transform under which the noise around the local level is most even
/// between the low and the high half of the levels seen. When the levels seen
/// are too close to tell, counts (non-negative integers) get the square root,
/// as their noise grows like it, and anything else stays as it is.
fn choose_transform(raw: &[f64], reference: usize) -> Transform {
    if raw.len() < 4 * reference || raw.iter().any(|&v| v < 0.0) {
        return Transform::Identity;
    }
    let counts = raw.iter().all(|&v| v.fract() == 0.0);
    let prior = if counts {
        Transform::Sqrt
    } else {
        Transform::Identity
    };
    let positive = raw.iter().all(|&v| v > 0.0);
    let candidates: &[Transform] = if positive {
        &[Transform::Identity, Transform::Sqrt, Transform::Log]
    } else {
        &[Transform::Identity, Transform::Sqrt]
    };
    let mut best: Option<(Transform, f64)> = None;
    for &t in candidates {
        let Some(u) = unevenness(raw, t) else {
            return prior;
        };
        // The prior wins ties.
        let u = if t == prior { u - 0.1 } else { u };
        if best.is_none_or(|(_, b)| u < b) {
            best = Some((t, u));
        }
    }
    best.map_or(prior, |(t, _)| t)
}

/// |ln(spread in the high quarter / spread in the low quarter)| of the
/// noise (each value against the mean of its two neighbours, which cancels
/// local trends such as a daily ramp), under transform `t`; `None` when the
/// levels of the two quarters are too close to tell transforms apart.
fn unevenness(raw: &[f64], t: Transform) -> Option<f64> {
    let values: Vec<f64> = raw.iter().map(|&v| t.apply(v)).collect();
    let mut pairs: Vec<(f64, f64)> = (1..values.len().saturating_sub(1))
        .map(|i| {
            let level_raw = (raw[i - 1] + raw[i] + raw[i + 1]) / 3.0;
            (level_raw, values[i] - (values[i - 1] + values[i + 1]) / 2.0)
        })
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let quarter = pairs.len() / 4;
    let low = &pairs[..quarter];
    let high = &pairs[pairs.len() - quarter..];
    let level = |part: &[(f64, f64)]| {
        let mut l: Vec<f64> = part.iter().map(|p| p.0).collect();
        median_in_place(&mut l)
    };
    let (low_level, high_level) = (level(low), level(high));
    if !(low_level > 0.0 && high_level >= 2.0 * low_level) {
        return None;
    }
    let spread = |part: &[(f64, f64)]| {
        let mut r: Vec<f64> = part.iter().map(|p| p.1).collect();
        median_spread_in_place(&mut r).1
    };
    let (lo, hi) = (spread(low), spread(high));
    if lo <= 0.0 || hi <= 0.0 {
        return Some(if lo == hi { 0.0 } else { f64::INFINITY });
    }
    Some((hi / lo).ln().abs())
}

/// Scores a whole series at once (the backtest): one verdict per value.
pub fn score_series(values: &[f64], bucket_secs: i64, cfg: &SeriesConfig) -> Vec<PointVerdict> {
    let mut detector = SeriesDetector::new(cfg, bucket_secs);
    values.iter().map(|&v| detector.push(v)).collect()
}
