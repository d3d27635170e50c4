//! Detectors that judge a sliding window against the per-minute history
//! before it: error spikes (count and ratio) and volume drops.
//!
//! A window of `window_secs` ends at every fine bucket. Its baseline is made
//! of the aligned whole minutes that end before the window starts (so the
//! window is never part of its own baseline), at most `window_minutes` of
//! them, leaving out minutes that belong to an episode of the same kind:
//! those of anomalies recorded by earlier passes and those flagged earlier in
//! this run. An incident therefore does not become the baseline while it
//! lasts. No verdict before the service has been logging for
//! `warmup_minutes`.

use chrono::{DateTime, Duration, Utc};

use super::episode::{
    BucketScore, Finding, Signal, at_least, episodes, poisson_threshold, poisson_z,
};
use super::settings::{DropConfig, SpikeConfig};
use super::stats::{Baseline, BaselineMethod, score_from_ratio};
use crate::model::AnomalyKind;
use crate::rollup::ServiceSeries;

/// What a detector is told about the pass it runs in.
#[derive(Debug, Clone, Copy)]
pub struct Judging<'a> {
    pub now: DateTime<Utc>,
    /// Only windows ending after this are judged (`None`: all).
    pub from: Option<DateTime<Utc>>,
    /// End of the newest bucket with data of any service: later buckets may
    /// only be empty because their data has not arrived yet.
    pub data_until: DateTime<Utc>,
    /// Windows of recorded episodes of the detector's kind, left out of
    /// baselines.
    pub excluded: &'a [(DateTime<Utc>, DateTime<Utc>)],
}

/// Per-minute counts of one service, aligned to whole minutes.
struct Minutes {
    start: DateTime<Utc>,
    errors: Vec<f64>,
    totals: Vec<f64>,
    /// Left out of baselines (partial, or part of an episode).
    excluded: Vec<bool>,
    /// First whole minute with any event.
    first_active: Option<usize>,
}

impl Minutes {
    fn of(series: &ServiceSeries, excluded_spans: &[(DateTime<Utc>, DateTime<Utc>)]) -> Minutes {
        let minutes = series.coarsen(60);
        let errors: Vec<f64> = minutes.counts.iter().map(|c| c.errors() as f64).collect();
        let totals: Vec<f64> = minutes.counts.iter().map(|c| c.total() as f64).collect();
        let mut out = Minutes {
            start: minutes.start,
            excluded: vec![false; errors.len()],
            errors,
            totals,
            first_active: None,
        };
        // The first minute is partial when the series starts inside it.
        if minutes.start < series.start
            && let Some(first) = out.excluded.first_mut()
        {
            *first = true;
        }
        for &(a, b) in excluded_spans {
            out.exclude(a, b);
        }
        out.first_active = (0..out.totals.len()).find(|&m| !out.excluded[m] && out.totals[m] > 0.0);
        out
    }

    /// Leaves the minutes overlapping `[a, b)` out of baselines.
    fn exclude(&mut self, a: DateTime<Utc>, b: DateTime<Utc>) {
        if b <= a {
            return;
        }
        let first = (a - self.start).num_seconds().div_euclid(60).max(0);
        // The minute holding the last instant before `b`.
        let last = ((b - self.start).num_seconds() - 1).div_euclid(60);
        let len = self.excluded.len() as i64;
        for m in first..=last.min(len - 1) {
            if let Ok(m) = usize::try_from(m) {
                self.excluded[m] = true;
            }
        }
    }

    /// Indices of the baseline minutes of a window starting at `window_start`,
    /// newest first; `None` during the warm-up.
    fn baseline(
        &self,
        window_start: DateTime<Utc>,
        window_minutes: usize,
        warmup_minutes: usize,
    ) -> Option<Vec<usize>> {
        let first = self.first_active?;
        let before =
            usize::try_from((window_start - self.start).num_seconds().div_euclid(60)).ok()?;
        if before < first + warmup_minutes.max(1) {
            return None;
        }
        let picked: Vec<usize> = (first..before.min(self.totals.len()))
            .rev()
            .filter(|&m| !self.excluded[m])
            .take(window_minutes)
            .collect();
        (picked.len() >= 2).then_some(picked)
    }
}

impl Minutes {
    /// From the start of the oldest to the end of the newest of `picked`
    /// (minutes left out in between stay inside the span).
    fn span(&self, picked: &[usize]) -> (DateTime<Utc>, DateTime<Utc>) {
        let at = |m: usize| self.start + Duration::minutes(i64::try_from(m).unwrap_or(0));
        let oldest = picked.iter().copied().min().unwrap_or(0);
        let newest = picked.iter().copied().max().unwrap_or(0);
        (at(oldest), at(newest) + Duration::minutes(1))
    }
}

/// The summary of one baseline and the span of its minutes.
type Summary<B> = (B, DateTime<Utc>, DateTime<Utc>);

/// One judged window of fine buckets.
struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    errors: f64,
    total: f64,
}

/// The windows [`slide`] judged.
struct Slid {
    /// Their scores (only the flagged ones when asked so).
    scores: Vec<BucketScore>,
    /// The end of the last window judged, kept or not.
    judged_until: Option<DateTime<Utc>>,
}

/// Slides a window over `series`, judging windows that end after `from` and
/// no later than `until` and that `worth` accepts (the others cannot be
/// flagged and are left out unjudged). `summarize` turns baseline minutes
/// into a summary (once per distinct baseline, when a window needs it),
/// `judge` scores a window against it. With `flagged_only`, only the flagged
/// windows' scores are kept (all an episode is made of).
#[allow(clippy::too_many_arguments)]
fn slide<B>(
    series: &ServiceSeries,
    window_secs: i64,
    window_minutes: usize,
    warmup_minutes: usize,
    ctx: &Judging<'_>,
    until: DateTime<Utc>,
    flagged_only: bool,
    worth: impl Fn(&Window) -> bool,
    mut summarize: impl FnMut(&Minutes, &[usize]) -> Option<B>,
    mut judge: impl FnMut(&Window, &B) -> BucketScore,
) -> Slid {
    let width = series.bucket_secs.max(1);
    let span = usize::try_from((window_secs + width - 1) / width)
        .unwrap_or(1)
        .max(1);
    let mut minutes = Minutes::of(series, ctx.excluded);
    let mut cached: Option<(usize, Option<Summary<B>>)> = None;
    let mut out = Vec::new();
    let mut judged_until = None;
    let (errors, totals) = series.running_sums();
    let first_judged = span
        .saturating_sub(1)
        .max(series.first_ending_after(ctx.from));
    for i in first_judged..series.counts.len() {
        let end = series.bucket_time(i) + Duration::seconds(width);
        if end > until {
            break;
        }
        let first = i + 1 - span;
        let start = series.bucket_time(first);
        let window = Window {
            start,
            end,
            errors: (errors[i + 1] - errors[first]) as f64,
            total: (totals[i + 1] - totals[first]) as f64,
        };
        if !worth(&window) {
            continue;
        }
        // A baseline ends before its window's first minute, so the minutes
        // a flagged window of the same first minute leaves out never change
        // it: computing it at the first window that needs it is the same as
        // at the first window of the minute.
        let key =
            usize::try_from((start - minutes.start).num_seconds().div_euclid(60)).unwrap_or(0);
        if cached.as_ref().is_none_or(|(k, _)| *k != key) {
            let summary = minutes
                .baseline(start, window_minutes, warmup_minutes)
                .and_then(|picked| {
                    let bounds = minutes.span(&picked);
                    summarize(&minutes, &picked).map(|b| (b, bounds.0, bounds.1))
                });
            cached = Some((key, summary));
        }
        let Some((_, Some((summary, baseline_start, baseline_end)))) = &cached else {
            continue;
        };
        let scored = BucketScore {
            baseline_start: *baseline_start,
            baseline_end: *baseline_end,
            ..judge(&window, summary)
        };
        judged_until = Some(end);
        if scored.flagged() {
            minutes.exclude(start, end);
        } else if flagged_only {
            continue;
        }
        out.push(scored);
    }
    Slid {
        scores: out,
        judged_until,
    }
}

fn minute_baseline(values: impl Iterator<Item = f64>, method: BaselineMethod) -> Option<Baseline> {
    let values: Vec<f64> = values.collect();
    Baseline::of(&values, method, &mut Vec::new())
}

/// Error-spike baselines of one set of minutes.
struct SpikeBaseline {
    errors: Baseline,
    /// Error ratio per minute (minutes with events only); `None` without any.
    ratio: Option<Baseline>,
}

/// Spike scores: the errors of each window and their share of its events,
/// each against its per-minute baseline; a window's score is the higher of
/// the two. Windows end up to the bucket holding `ctx.now`.
pub fn spike_scores(
    series: &ServiceSeries,
    cfg: &SpikeConfig,
    ctx: &Judging<'_>,
) -> Vec<BucketScore> {
    spike_scores_of(series, cfg, ctx, false).scores
}

/// [`spike_scores`]; with `flaggable_only`, a window under `min_count`
/// errors (a gate that caps its score below 0.5) is left out unjudged,
/// without computing its baseline, and only flagged windows are kept.
fn spike_scores_of(
    series: &ServiceSeries,
    cfg: &SpikeConfig,
    ctx: &Judging<'_>,
    flaggable_only: bool,
) -> Slid {
    let min_count = cfg.min_count as f64;
    let worth = |w: &Window| !flaggable_only || w.errors >= min_count;
    let scale = cfg.window_secs as f64 / 60.0;
    let until = ctx.now + Duration::seconds(series.bucket_secs);
    slide(
        series,
        cfg.window_secs,
        cfg.window_minutes,
        cfg.warmup_minutes,
        ctx,
        until,
        flaggable_only,
        worth,
        |minutes, picked| {
            let errors = minute_baseline(picked.iter().map(|&m| minutes.errors[m]), cfg.method)?;
            let active: Vec<usize> = picked
                .iter()
                .copied()
                .filter(|&m| minutes.totals[m] > 0.0)
                .collect();
            let ratio = match cfg.method {
                // Pooled: minutes weigh by their events, as the mean ratio of
                // all the events would.
                BaselineMethod::Mean if !active.is_empty() => {
                    let e: f64 = active.iter().map(|&m| minutes.errors[m]).sum();
                    let t: f64 = active.iter().map(|&m| minutes.totals[m]).sum();
                    minute_baseline(
                        active
                            .iter()
                            .map(|&m| minutes.errors[m] / minutes.totals[m]),
                        cfg.method,
                    )
                    .map(|b| Baseline {
                        expected: e / t,
                        ..b
                    })
                }
                _ => minute_baseline(
                    active
                        .iter()
                        .map(|&m| minutes.errors[m] / minutes.totals[m]),
                    cfg.method,
                ),
            };
            Some(SpikeBaseline { errors, ratio })
        },
        |w, b| {
            let gate = at_least(w.errors, cfg.min_count as f64);
            let expected = b.errors.expected * scale;
            let stddev = (b.errors.spread * scale.sqrt())
                .max(cfg.stddev_floor)
                .max(expected.sqrt());
            // Both the plain z-score (which knows the baseline's own spread)
            // and the Poisson one (which knows small counts) must clear k.
            let z = ((w.errors - expected) / stddev).min(poisson_z(w.errors, expected));
            let count = BucketScore {
                start: w.start,
                end: w.end,
                score: score_from_ratio(z / cfg.k).min(gate),
                signal: Signal::ErrorCount,
                observed: w.errors,
                expected,
                stddev,
                z,
                threshold: (expected + cfg.k * stddev)
                    .max(poisson_threshold(expected, cfg.k))
                    .max(cfg.min_count as f64),
                total: w.total,
                window_secs: cfg.window_secs,
                // Set by `slide`.
                baseline_start: w.start,
                baseline_end: w.start,
            };
            let Some(ratio) = b.ratio.filter(|_| w.total > 0.0) else {
                return count;
            };
            let p = ratio.expected.clamp(0.0, 1.0);
            let binomial = (p * (1.0 - p) / w.total).sqrt();
            let stddev = ratio.spread.max(binomial).max(cfg.ratio_floor);
            let observed = w.errors / w.total;
            // Errors at a small ratio are close to Poisson with mean p * n.
            let z = ((observed - p) / stddev).min(poisson_z(w.errors, p * w.total));
            let by_ratio = BucketScore {
                score: score_from_ratio(z / cfg.k).min(gate),
                signal: Signal::ErrorRatio,
                observed,
                expected: p,
                stddev,
                z,
                threshold: (p + cfg.k * stddev)
                    .max(poisson_threshold(p * w.total, cfg.k) / w.total),
                ..count
            };
            if by_ratio.score > count.score {
                by_ratio
            } else {
                count
            }
        },
    )
}

/// Drop scores: the events of each window against the per-minute baseline,
/// for windows that ended at least `settle_secs` before the newest data of
/// any service (and before `ctx.now`).
pub fn drop_scores(
    series: &ServiceSeries,
    cfg: &DropConfig,
    ctx: &Judging<'_>,
) -> Vec<BucketScore> {
    drop_scores_of(series, cfg, ctx, false).scores
}

/// [`drop_scores`]; with `flaggable_only`, a baseline whose busiest minute
/// is under `min_expected` (a gate that caps the score of its windows below
/// 0.5) is not computed: its windows score 0, and still count as judged;
/// only flagged windows are kept.
fn drop_scores_of(
    series: &ServiceSeries,
    cfg: &DropConfig,
    ctx: &Judging<'_>,
    flaggable_only: bool,
) -> Slid {
    let scale = cfg.window_secs as f64 / 60.0;
    let until = ctx.now.min(ctx.data_until) - Duration::seconds(cfg.settle_secs);
    slide(
        series,
        cfg.window_secs,
        cfg.window_minutes,
        cfg.warmup_minutes,
        ctx,
        until,
        flaggable_only,
        |_| true,
        |minutes, picked| {
            // The expectation (a median or a mean of the minutes) is at
            // most their busiest minute.
            let busiest = || {
                picked
                    .iter()
                    .map(|&m| minutes.totals[m])
                    .fold(0.0, f64::max)
            };
            if flaggable_only && busiest() * scale < cfg.min_expected {
                return Some(Baseline {
                    expected: 0.0,
                    spread: 0.0,
                    n: picked.len(),
                });
            }
            minute_baseline(picked.iter().map(|&m| minutes.totals[m]), cfg.method)
        },
        |w, b| {
            let expected = b.expected * scale;
            let stddev = (b.spread * scale.sqrt())
                .max(cfg.stddev_floor)
                .max(expected.sqrt());
            let below = (expected - w.total) / stddev;
            let z = -below;
            let missing = if expected > 0.0 {
                1.0 - w.total / expected
            } else {
                0.0
            };
            let score = score_from_ratio(below / cfg.k)
                .min(score_from_ratio(missing / (1.0 - cfg.max_ratio)))
                .min(at_least(expected, cfg.min_expected));
            BucketScore {
                start: w.start,
                end: w.end,
                score,
                signal: Signal::Volume,
                observed: w.total,
                expected,
                stddev,
                z,
                threshold: (expected - cfg.k * stddev)
                    .min(cfg.max_ratio * expected)
                    .max(0.0),
                total: w.total,
                window_secs: cfg.window_secs,
                // Set by `slide`.
                baseline_start: w.start,
                baseline_end: w.start,
            }
        },
    )
}

/// Spike episodes.
pub fn spike_findings(
    series: &ServiceSeries,
    cfg: &SpikeConfig,
    ctx: &Judging<'_>,
) -> Vec<Finding> {
    // Most windows of most services are under `min_count` errors.
    let scores = spike_scores_of(series, cfg, ctx, true).scores;
    episodes(
        AnomalyKind::Spike,
        &scores,
        Duration::minutes(cfg.quiet_minutes),
        ctx.now,
    )
}

/// Drop episodes; "still going on" is judged against the last window that
/// could be judged.
pub fn drop_findings(series: &ServiceSeries, cfg: &DropConfig, ctx: &Judging<'_>) -> Vec<Finding> {
    let slid = drop_scores_of(series, cfg, ctx, true);
    let judged_until = slid.judged_until.unwrap_or(ctx.now);
    episodes(
        AnomalyKind::Drop,
        &slid.scores,
        Duration::minutes(cfg.quiet_minutes),
        judged_until,
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::detect::burst::{burst_findings, burst_scores};
    use crate::detect::settings::BurstConfig;
    use crate::model::Level;
    use crate::rollup::LevelCounts;

    /// A service of 57 minutes of 10-second buckets with a steady rate, a
    /// few error bursts and a silence, drawn from `seed`.
    fn series(seed: u64) -> ServiceSeries {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move |n: u64| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n.max(1)
        };
        let rate = [0, 1, 3, 20, 200][next(5) as usize];
        let counts = (0..57 * 6)
            .map(|i| {
                let mut c = LevelCounts::default();
                let silent = (200..230).contains(&i) && seed.is_multiple_of(3);
                if !silent {
                    c.add(Level::Info, rate + next(rate + 1));
                    c.add(Level::Error, next(3) / 2);
                }
                if next(40) == 0 {
                    c.add(Level::Error, 5 + next(40));
                }
                c
            })
            .collect();
        ServiceSeries {
            service: "svc".into(),
            bucket_secs: 10,
            start: Utc.with_ymd_and_hms(2026, 5, 6, 11, 3, 0).unwrap(),
            counts,
        }
    }

    #[test]
    fn findings_skip_no_flaggable_window() {
        let (mut spikes, mut drops, mut bursts) = (0, 0, 0);
        for seed in 0..300 {
            let s = series(seed);
            let now = s.bucket_time(s.counts.len());
            let ctx = Judging {
                now,
                from: Some(now - Duration::minutes(15 + (seed % 30) as i64)),
                data_until: now,
                excluded: &[],
            };
            let spike = SpikeConfig::default();
            let all = episodes(
                AnomalyKind::Spike,
                &spike_scores(&s, &spike, &ctx),
                Duration::minutes(spike.quiet_minutes),
                ctx.now,
            );
            assert_eq!(spike_findings(&s, &spike, &ctx), all, "spikes, seed {seed}");
            spikes += all.len();
            let drop = DropConfig::default();
            let scores = drop_scores(&s, &drop, &ctx);
            let until = scores.last().map_or(ctx.now, |s| s.end);
            let all = episodes(
                AnomalyKind::Drop,
                &scores,
                Duration::minutes(drop.quiet_minutes),
                until,
            );
            assert_eq!(drop_findings(&s, &drop, &ctx), all, "drops, seed {seed}");
            drops += all.len();
            let burst = BurstConfig::default();
            let all = episodes(
                AnomalyKind::Burst,
                &burst_scores(&s, &burst, ctx.from),
                Duration::seconds(burst.quiet_secs),
                ctx.now,
            );
            let found = burst_findings(&s, &burst, ctx.from, ctx.now);
            assert_eq!(found, all, "bursts, seed {seed}");
            bursts += all.len();
        }
        // The series hold episodes of every kind to compare.
        assert!(
            spikes > 20 && drops > 20 && bursts > 20,
            "{spikes} spikes, {drops} drops, {bursts} bursts"
        );
    }
}
