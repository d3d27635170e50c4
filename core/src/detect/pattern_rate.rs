//! Per-pattern rate series: the per-minute count of a service's busiest and
//! loudest log patterns, judged by the same [`SeriesDetector`] as its event
//! rate, so that a known pattern whose rate jumps or vanishes is an anomaly
//! even when the service's totals hide it.
//!
//! **Which patterns.** At most [`MAX_PATTERN_SERIES`] per service: the
//! [`TOP_BY_VOLUME`] patterns with the most lines in the pass's lookback,
//! then the patterns with a WARN-or-louder line by volume ([`choose`]).
//! A pattern that drops out of the choice loses its series (it warms up
//! again if it comes back).
//!
//! **Memory bound.** Each series is one detector without the seasonal views
//! (a pattern's daily cycle is its service's; the seasonal slots are most of
//! a detector's state) plus its last [`RECENT_MINUTES`] scores: about 7 KB
//! once its histories are full, so at most about 56 KB per service.
//!
//! A rising verdict is a `spike`, a falling one a `drop`; both carry
//! [`Signal::PatternRate`] (`measure.metric = pattern_rate`), and the caller
//! names the pattern in the anomaly's message.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::episode::{BucketScore, Finding, Signal, episodes};
use super::live::{LIVE_BUCKET_SECS, RECENT_MINUTES};
use super::series::{SeriesConfig, SeriesDetector, push_bounded};
use super::settings::DetectorSettings;
use crate::model::{AnomalyKind, Level};

/// Patterns judged by volume, per service.
pub const TOP_BY_VOLUME: usize = 5;
/// Most pattern series per service (the busiest, then WARN-or-louder ones).
pub const MAX_PATTERN_SERIES: usize = 8;

/// One pattern's lines in one minute of the lookback.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternMinute {
    pub pattern: String,
    /// Start of the minute.
    pub minute: DateTime<Utc>,
    pub level: Level,
    pub count: u64,
}

/// The patterns worth a series: the [`TOP_BY_VOLUME`] busiest, then those
/// with a WARN-or-louder line, by volume, up to [`MAX_PATTERN_SERIES`].
/// Ties go to the smaller id, so the choice is deterministic.
pub fn choose(rows: &[PatternMinute]) -> Vec<String> {
    let mut totals: BTreeMap<&str, (u64, bool)> = BTreeMap::new();
    for r in rows {
        let t = totals.entry(r.pattern.as_str()).or_default();
        t.0 += r.count;
        t.1 |= r.level >= Level::Warn;
    }
    let mut by_volume: Vec<(&str, u64, bool)> = totals
        .into_iter()
        .map(|(p, (n, loud))| (p, n, loud))
        .collect();
    by_volume.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut chosen: Vec<String> = by_volume
        .iter()
        .take(TOP_BY_VOLUME)
        .map(|(p, _, _)| (*p).to_owned())
        .collect();
    for (p, _, loud) in by_volume.iter().skip(TOP_BY_VOLUME) {
        if chosen.len() >= MAX_PATTERN_SERIES {
            break;
        }
        if *loud {
            chosen.push((*p).to_owned());
        }
    }
    chosen
}

/// One judged minute of a pattern series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Judged {
    #[serde(with = "chrono::serde::ts_milliseconds")]
    start: DateTime<Utc>,
    /// After the episode rules (see `live::episode_score`).
    score: f64,
    rising: bool,
    observed: f64,
    expected: f64,
    spread: f64,
    threshold: f64,
    history: i64,
}

/// What a pass judges a pattern series from without advancing it: saved
/// apart from its detector, so a pass with no new minute reads only this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PatternSummary {
    pattern: String,
    #[serde(with = "chrono::serde::ts_milliseconds_option")]
    last_minute: Option<DateTime<Utc>>,
    recent: VecDeque<Judged>,
}

#[derive(Debug, Clone)]
struct PatternSeries {
    summary: PatternSummary,
    detector: SeriesDetector,
}

/// A pattern-rate episode and the pattern it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternFinding {
    pub pattern: String,
    pub finding: Finding,
}

/// The pattern series of one service (part of its saved live state).
#[derive(Debug, Clone, Default)]
pub struct PatternRates {
    series: Vec<PatternSeries>,
}

impl PatternRates {
    /// About the bytes of the saved detectors (see
    /// [`SeriesDetector::saved_size_hint`]).
    pub fn saved_size_hint(&self) -> usize {
        self.series
            .iter()
            .map(|s| s.detector.saved_size_hint())
            .sum()
    }

    /// About the bytes of the saved summaries.
    pub(crate) fn summary_size_hint(&self) -> usize {
        self.series
            .iter()
            .map(|s| s.summary.recent.len() * 80 + s.summary.pattern.len() + 16)
            .sum()
    }

    /// The patterns with a series, in the order chosen.
    pub fn patterns(&self) -> Vec<&str> {
        self.series
            .iter()
            .map(|s| s.summary.pattern.as_str())
            .collect()
    }

    /// Each series' summary, in order (saved apart from the detectors).
    pub(crate) fn summaries(&self) -> Vec<&PatternSummary> {
        self.series.iter().map(|s| &s.summary).collect()
    }

    /// Each series' detector, in the order of [`Self::summaries`].
    pub(crate) fn detectors(&self) -> Vec<&SeriesDetector> {
        self.series.iter().map(|s| &s.detector).collect()
    }

    /// The series of saved summaries and detectors, paired in order; `None`
    /// when their numbers differ.
    pub(crate) fn from_parts(
        summaries: Vec<PatternSummary>,
        detectors: Vec<SeriesDetector>,
    ) -> Option<PatternRates> {
        (summaries.len() == detectors.len()).then(|| PatternRates {
            series: summaries
                .into_iter()
                .zip(detectors)
                .map(|(summary, detector)| PatternSeries { summary, detector })
                .collect(),
        })
    }

    /// Keeps the series of `chosen` patterns, starts fresh ones for those
    /// without, and drops the rest.
    pub fn track(&mut self, chosen: &[String], cfg: &SeriesConfig) {
        let cfg = SeriesConfig {
            seasonal: false,
            weekly: false,
            ..cfg.clone()
        };
        let mut old = std::mem::take(&mut self.series);
        for pattern in chosen.iter().take(MAX_PATTERN_SERIES) {
            let series = match old.iter().position(|s| &s.summary.pattern == pattern) {
                Some(i) => old.swap_remove(i),
                None => PatternSeries {
                    summary: PatternSummary {
                        pattern: pattern.clone(),
                        last_minute: None,
                        recent: VecDeque::new(),
                    },
                    detector: SeriesDetector::new(&cfg, LIVE_BUCKET_SECS),
                },
            };
            self.series.push(series);
        }
    }

    /// Pushes, for every tracked pattern, each minute from `start` that
    /// begins after its newest minute pushed and ends by `complete_until`:
    /// its count in `rows`, 0 when it has none (empty minutes before a
    /// fresh series' first line are skipped). Returns the minutes pushed.
    pub fn advance(
        &mut self,
        rows: &[PatternMinute],
        start: DateTime<Utc>,
        complete_until: DateTime<Utc>,
    ) -> usize {
        let width = Duration::seconds(LIVE_BUCKET_SECS);
        let mut pushed = 0;
        for series in &mut self.series {
            let summary = &mut series.summary;
            let minutes = pushable(
                &summary.pattern,
                summary.last_minute,
                rows,
                start,
                complete_until,
            );
            for (minute, value) in minutes {
                let buckets = summary.last_minute.map_or(1, |last| {
                    u64::try_from((minute - last).num_seconds() / LIVE_BUCKET_SECS).unwrap_or(1)
                });
                let verdict = series.detector.push_after(value, buckets);
                let open = summary
                    .recent
                    .back()
                    .is_some_and(|p| p.start + width == minute && p.score >= 0.5);
                if let Some(band) = verdict.band {
                    // A verdict of another view (the roughness of a series
                    // gone flat) is no rise or fall of the rate itself.
                    let agrees = if band.rising {
                        value > band.expected
                    } else {
                        value < band.expected
                    };
                    let score = if !agrees {
                        verdict.score.min(0.49)
                    } else if verdict.anomaly {
                        verdict.score
                    } else if open && verdict.deviating {
                        verdict.score.max(0.5)
                    } else {
                        verdict.score.min(0.49)
                    };
                    let judged = Judged {
                        start: minute,
                        score,
                        rising: band.rising,
                        observed: value,
                        expected: band.expected,
                        spread: band.spread,
                        threshold: band.threshold,
                        history: i64::try_from(series.detector.seen()).unwrap_or(i64::MAX),
                    };
                    push_bounded(&mut summary.recent, judged, RECENT_MINUTES);
                }
                summary.last_minute = Some(minute);
                pushed += 1;
            }
        }
        pushed
    }

    /// The episodes of each pattern's recent minutes judged after `from`:
    /// rising ones as `spike`s, falling ones as `drop`s.
    pub fn findings(
        &self,
        settings: &DetectorSettings,
        from: Option<DateTime<Utc>>,
    ) -> Vec<PatternFinding> {
        findings(self.series.iter().map(|s| &s.summary), settings, from)
    }
}

/// The minutes, with their values, that [`PatternRates::advance`] pushes
/// to the series of `pattern` whose newest minute is `last`.
fn pushable(
    pattern: &str,
    last: Option<DateTime<Utc>>,
    rows: &[PatternMinute],
    start: DateTime<Utc>,
    complete_until: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, f64)> {
    let width = Duration::seconds(LIVE_BUCKET_SECS);
    let start = crate::rollup::bucket_start(start, LIVE_BUCKET_SECS);
    let mut counts: BTreeMap<DateTime<Utc>, f64> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.pattern == pattern) {
        *counts.entry(r.minute).or_default() += r.count as f64;
    }
    let mut minute = match last {
        Some(last) => (last + width).max(start),
        None => start,
    };
    let mut out = Vec::new();
    while minute + width <= complete_until {
        let value = counts.get(&minute).copied().unwrap_or(0.0);
        if last.is_some() || !out.is_empty() || value != 0.0 {
            out.push((minute, value));
        }
        minute += width;
    }
    out
}

/// Whether [`PatternRates::track`] with the patterns [`choose`]n from
/// `rows`, then [`PatternRates::advance`], would push a minute to the
/// series summarised in `summaries`.
pub(crate) fn pending(
    summaries: &[PatternSummary],
    rows: &[PatternMinute],
    start: DateTime<Utc>,
    complete_until: DateTime<Utc>,
) -> bool {
    choose(rows).iter().take(MAX_PATTERN_SERIES).any(|pattern| {
        let last = summaries
            .iter()
            .find(|s| &s.pattern == pattern)
            .and_then(|s| s.last_minute);
        !pushable(pattern, last, rows, start, complete_until).is_empty()
    })
}

/// The episodes of the recent minutes of each of `summaries` judged after
/// `from`.
pub(crate) fn findings<'a>(
    summaries: impl Iterator<Item = &'a PatternSummary>,
    settings: &DetectorSettings,
    from: Option<DateTime<Utc>>,
) -> Vec<PatternFinding> {
    let width = Duration::seconds(LIVE_BUCKET_SECS);
    let mut out = Vec::new();
    for series in summaries {
        let Some(judged_until) = series.last_minute.map(|m| m + width) else {
            continue;
        };
        for (kind, rising) in [(AnomalyKind::Spike, true), (AnomalyKind::Drop, false)] {
            let scores: Vec<BucketScore> = series
                .recent
                .iter()
                .filter(|j| j.rising == rising && from.is_none_or(|f| j.start + width > f))
                .map(bucket_score)
                .collect();
            for finding in episodes(kind, &scores, settings.quiet(kind), judged_until) {
                out.push(PatternFinding {
                    pattern: series.pattern.clone(),
                    finding,
                });
            }
        }
    }
    out
}

fn bucket_score(j: &Judged) -> BucketScore {
    let z = if j.spread > 0.0 {
        (j.observed - j.expected) / j.spread
    } else {
        0.0
    };
    BucketScore {
        start: j.start,
        end: j.start + Duration::seconds(LIVE_BUCKET_SECS),
        score: j.score,
        signal: Signal::PatternRate,
        observed: j.observed,
        expected: j.expected,
        stddev: j.spread,
        z,
        threshold: j.threshold,
        total: j.observed,
        window_secs: LIVE_BUCKET_SECS,
        baseline_start: j.start - Duration::minutes(j.history.min(2_000)),
        baseline_end: j.start,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(m: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 6, 0, 0, 0).unwrap() + Duration::minutes(m)
    }

    fn row(pattern: &str, m: i64, level: Level, count: u64) -> PatternMinute {
        PatternMinute {
            pattern: pattern.to_owned(),
            minute: at(m),
            level,
            count,
        }
    }

    /// The series' summaries and detectors as the live state saves them.
    fn saved(rates: &PatternRates) -> (Vec<u8>, Vec<u8>) {
        (
            postcard::to_allocvec(&rates.summaries()).unwrap(),
            postcard::to_allocvec(&rates.detectors()).unwrap(),
        )
    }

    #[test]
    fn the_busiest_patterns_then_the_loud_ones_are_chosen_up_to_the_bound() {
        let mut rows = Vec::new();
        for p in 0..12u64 {
            rows.push(row(&format!("p{p:02}"), 0, Level::Info, 100 - p));
        }
        rows.push(row("warn-a", 0, Level::Warn, 3));
        rows.push(row("err-b", 0, Level::Error, 2));
        rows.push(row("quiet-info", 0, Level::Info, 1));
        for p in 0..5 {
            rows.push(row(&format!("w{p}"), 0, Level::Warn, 1));
        }
        let chosen = choose(&rows);
        assert_eq!(chosen.len(), MAX_PATTERN_SERIES);
        assert_eq!(&chosen[..5], ["p00", "p01", "p02", "p03", "p04"]);
        assert_eq!(&chosen[5..7], ["warn-a", "err-b"]);
        assert!(!chosen.contains(&"quiet-info".to_owned()));
    }

    #[test]
    fn a_pattern_that_vanishes_is_a_drop_and_one_that_jumps_a_spike() {
        let cfg = SeriesConfig::default();
        let mut rates = PatternRates::default();
        rates.track(&["steady".to_owned(), "jumpy".to_owned()], &cfg);
        let mut rows = Vec::new();
        for m in 0..200 {
            let steady = if m >= 180 { 0 } else { 40 + (m * 7 % 9) as u64 };
            let jumpy = if m == 170 {
                90
            } else {
                10 + (m * 5 % 4) as u64
            };
            if steady > 0 {
                rows.push(row("steady", m, Level::Info, steady));
            }
            rows.push(row("jumpy", m, Level::Info, jumpy));
        }
        // Two passes: the state carries over between them.
        rates.advance(&rows, at(0), at(150));
        let (summaries, detectors) = saved(&rates);
        let mut rates = PatternRates::from_parts(
            postcard::from_bytes(&summaries).unwrap(),
            postcard::from_bytes(&detectors).unwrap(),
        )
        .unwrap();
        assert_eq!(rates.advance(&rows, at(100), at(185)), 2 * 35);
        let found = rates.findings(&DetectorSettings::default(), None);
        let of = |p: &str| -> Vec<(AnomalyKind, i64)> {
            found
                .iter()
                .filter(|f| f.pattern == p)
                .map(|f| {
                    (
                        f.finding.kind,
                        (f.finding.window_start - at(0)).num_minutes(),
                    )
                })
                .collect()
        };
        assert_eq!(of("jumpy"), vec![(AnomalyKind::Spike, 170)]);
        assert_eq!(of("steady"), vec![(AnomalyKind::Drop, 180)]);
        let drop = &found
            .iter()
            .find(|f| f.pattern == "steady")
            .unwrap()
            .finding;
        assert_eq!(drop.peak.signal, Signal::PatternRate);
        assert_eq!(drop.peak.observed, 0.0);
        let (summaries, detectors) = saved(&rates);
        let bytes = summaries.len() + detectors.len();
        assert!(bytes < 20_000, "{bytes} bytes for two series");
    }
}
