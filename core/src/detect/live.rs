//! The live scoring engine: the value-series detector of `anomalog backtest
//! --series` judging each service's per-minute series in every detect pass.
//!
//! A service has three series, one point per whole minute: its event rate
//! (all events), its error count (ERROR and FATAL) and its error ratio
//! (undefined, so skipped, in a minute without events). Each is judged by a
//! [`SeriesDetector`] with the configured `[detect.series]` settings, the
//! same code and defaults `backtest --series` and `anomalog eval` run. A
//! [`LiveState`] holds the three detectors and the scores of the last
//! minutes; callers persist it between passes (it is serialisable), so a
//! pass pushes only the minutes completed since the previous one.
//!
//! Verdicts become episodes as every detector's do ([`episodes`]): a minute
//! the detector reports opens one, the minutes after it extend it while the
//! detector still finds them deviating (it keeps them out of its histories),
//! and it ends after the kind's quiet period. An upward verdict of any series
//! is a `spike` (its `measure` says which metric); a downward verdict of the
//! event rate is a `drop`. Fewer errors than usual is no anomaly.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::episode::{BucketScore, Finding, Signal, episodes};
use super::pattern_rate::{
    self, PatternFinding, PatternMinute, PatternRates, PatternSummary, choose,
};
use super::series::{PointVerdict, SeriesConfig, SeriesDetector, push_bounded};
use super::settings::DetectorSettings;
use crate::model::AnomalyKind;
use crate::rollup::ServiceSeries;

/// Width of the live series' buckets, in seconds.
pub const LIVE_BUCKET_SECS: i64 = 60;

/// Judged minutes whose scores a state keeps: episodes are rebuilt from
/// them in every pass, so this bounds how far back an episode can still be
/// extended (far beyond any quiet period).
pub const RECENT_MINUTES: usize = 60;

/// One judged minute of one kind: the score after the episode rules and the
/// evidence of the series that gave it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct MinuteScore {
    score: f64,
    signal: Signal,
    observed: f64,
    expected: f64,
    spread: f64,
    threshold: f64,
    /// All events of the minute (context for the ratio).
    total: f64,
    /// Minutes of history the detector had learnt from.
    history: i64,
}

/// The scores of one judged minute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct JudgedMinute {
    #[serde(with = "chrono::serde::ts_milliseconds")]
    start: DateTime<Utc>,
    spike: Option<MinuteScore>,
    drop: Option<MinuteScore>,
}

/// What a pass judges a service from without advancing its detectors: the
/// newest minute pushed and the scores of the recent ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ServiceSummary {
    /// Start of the newest minute pushed.
    #[serde(with = "chrono::serde::ts_milliseconds_option")]
    last_minute: Option<DateTime<Utc>>,
    recent: VecDeque<JudgedMinute>,
}

/// One service's live detectors and recent scores. A pass loads it, advances
/// it over the newly completed minutes and saves it, in two parts
/// ([`LiveState::to_parts`]): the summary (the recent scores, a few KB) and
/// the detectors (about 100 KB). A pass with no new minute for a service
/// reads only its [`LiveSummary`].
#[derive(Debug, Clone)]
pub struct LiveState {
    summary: ServiceSummary,
    event_rate: SeriesDetector,
    error_count: SeriesDetector,
    error_ratio: SeriesDetector,
    /// The service's busiest and loudest patterns' rates.
    patterns: PatternRates,
}

/// The saved summary of a [`LiveState`]: enough to judge the service (its
/// episodes are rebuilt from the recent scores) and to tell whether a pass
/// has minutes to push to it ([`LiveSummary::pending`]), without the
/// detectors.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LiveSummary {
    service: ServiceSummary,
    warmed_up: bool,
    patterns: Vec<PatternSummary>,
}

/// [`LiveSummary`] as saved, borrowing from the state.
#[derive(Serialize)]
struct SummaryOut<'a> {
    service: &'a ServiceSummary,
    warmed_up: bool,
    patterns: Vec<&'a PatternSummary>,
}

/// The detectors of a [`LiveState`] as saved, borrowed.
#[derive(Serialize)]
struct DetectorsOut<'a> {
    event_rate: &'a SeriesDetector,
    error_count: &'a SeriesDetector,
    error_ratio: &'a SeriesDetector,
    patterns: Vec<&'a SeriesDetector>,
}

/// The detectors of a [`LiveState`] as read back.
#[derive(Deserialize)]
struct DetectorsIn {
    event_rate: SeriesDetector,
    error_count: SeriesDetector,
    error_ratio: SeriesDetector,
    patterns: Vec<SeriesDetector>,
}

/// A saved [`LiveState`] in its two parts, each opaque bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedState {
    /// The [`LiveSummary`]: a few KB.
    pub summary: Vec<u8>,
    /// The detectors: about 100 KB once warm.
    pub detectors: Vec<u8>,
}

/// A saved [`LiveState`] could not be read back (another format version, or
/// damaged bytes). The caller starts afresh: the state is a cache of what the
/// rollups taught the detectors, not a record.
#[derive(Debug, thiserror::Error)]
#[error("live detector state unreadable: {0}")]
pub struct StateFormatError(String);

/// First byte of both parts of every saved state; bumped when their shape
/// changes. Format 2 (compact histories, `f32` seasonal slots) replaced
/// format 1, format 3 (each view's tail gaps) format 2, format 4 (the level
/// view and its delayed statistics) format 3, format 5 (`confirm` and the
/// held onset) format 4, format 6 (the window's normal values, the levels
/// of `regimes.rs`) format 5, format 7 (the series settings' `fusion`, and
/// `untrended` before it: the settings are saved with each detector, and
/// postcard reads fields by position, so a new key is a new shape) format
/// 6, format 8 (times as milliseconds since the epoch, not RFC 3339 text:
/// parsing the text was a tenth of a detect pass) format 7, format 9 (the
/// state in two parts, summary and detectors) format 8; states of an
/// earlier format are dropped when read: the service warms up again.
const STATE_FORMAT: u8 = 9;

/// `value` in postcard after the format byte, in a buffer of `size` bytes.
fn encode<T: Serialize>(value: &T, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    out.push(STATE_FORMAT);
    // Serialising plain data into a Vec cannot fail.
    match postcard::to_extend(value, out) {
        Ok(bytes) => bytes,
        Err(_) => vec![STATE_FORMAT],
    }
}

/// A value saved by [`encode`].
fn decode<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, StateFormatError> {
    match bytes.split_first() {
        Some((&STATE_FORMAT, rest)) => {
            postcard::from_bytes(rest).map_err(|e| StateFormatError(e.to_string()))
        }
        Some((v, _)) => Err(StateFormatError(format!(
            "format {v}, expected {STATE_FORMAT}"
        ))),
        None => Err(StateFormatError("empty".into())),
    }
}

impl LiveState {
    /// The state as its two saved parts (each a format byte, then postcard,
    /// a compact binary serde format).
    pub fn to_parts(&self) -> SavedState {
        let summary = SummaryOut {
            service: &self.summary,
            warmed_up: self.warmed_up(),
            patterns: self.patterns.summaries(),
        };
        let summary_size = self.summary.recent.len() * 160 + self.patterns.summary_size_hint() + 64;
        // Sized up front: grown from empty, a 100 KB state would be copied
        // into a dozen ever larger buffers.
        let detectors_size = self.event_rate.saved_size_hint()
            + self.error_count.saved_size_hint()
            + self.error_ratio.saved_size_hint()
            + self.patterns.saved_size_hint();
        let detectors = DetectorsOut {
            event_rate: &self.event_rate,
            error_count: &self.error_count,
            error_ratio: &self.error_ratio,
            patterns: self.patterns.detectors(),
        };
        SavedState {
            summary: encode(&summary, summary_size),
            detectors: encode(&detectors, detectors_size),
        }
    }

    /// A state saved by [`LiveState::to_parts`].
    pub fn from_parts(summary: &[u8], detectors: &[u8]) -> Result<LiveState, StateFormatError> {
        let summary: LiveSummary = decode(summary)?;
        let detectors: DetectorsIn = decode(detectors)?;
        let patterns = PatternRates::from_parts(summary.patterns, detectors.patterns)
            .ok_or_else(|| StateFormatError("pattern series and detectors differ".into()))?;
        Ok(LiveState {
            summary: summary.service,
            event_rate: detectors.event_rate,
            error_count: detectors.error_count,
            error_ratio: detectors.error_ratio,
            patterns,
        })
    }

    /// Fresh detectors with settings `cfg` (`[detect.series]`).
    pub fn new(cfg: &SeriesConfig) -> LiveState {
        LiveState {
            summary: ServiceSummary {
                last_minute: None,
                recent: VecDeque::new(),
            },
            event_rate: SeriesDetector::new(cfg, LIVE_BUCKET_SECS),
            error_count: SeriesDetector::new(cfg, LIVE_BUCKET_SECS),
            error_ratio: SeriesDetector::new(cfg, LIVE_BUCKET_SECS),
            patterns: PatternRates::default(),
        }
    }

    /// The per-pattern rate series ([`PatternRates`]).
    pub fn pattern_rates(&self) -> &PatternRates {
        &self.patterns
    }

    /// The per-pattern rate series, to track and advance.
    pub fn pattern_rates_mut(&mut self) -> &mut PatternRates {
        &mut self.patterns
    }

    /// Start of the newest minute pushed, if any.
    pub fn last_minute(&self) -> Option<DateTime<Utc>> {
        self.summary.last_minute
    }

    /// The event-rate detector is past its warm-up: the engine gives
    /// verdicts for this service (before that, the caller's short-history
    /// detectors judge it).
    pub fn warmed_up(&self) -> bool {
        self.event_rate.warmed_up()
    }

    /// Advances the service's series ([`LiveState::advance`]) and its
    /// pattern series: tracks the patterns [`choose`]n from `patterns` (the
    /// lookback's per-minute pattern counts) with settings `cfg`, and pushes
    /// their complete minutes. Returns the minutes pushed in all.
    /// [`LiveSummary::pending`] tells, from the summary alone, whether this
    /// pushes anything.
    pub fn advance_all(
        &mut self,
        series: &ServiceSeries,
        patterns: &[PatternMinute],
        cfg: &SeriesConfig,
        complete_until: DateTime<Utc>,
    ) -> usize {
        let pushed = self.advance(series, complete_until);
        self.patterns.track(&choose(patterns), cfg);
        pushed
            + self
                .patterns
                .advance(patterns, series.start, complete_until)
    }

    /// Pushes every whole minute of `series` (fine buckets of one service)
    /// that starts after the newest minute pushed and ends no later than
    /// `complete_until` (minutes whose data may still arrive wait for a
    /// later pass). A minute only partly inside `series` is skipped, and so
    /// are the empty minutes before a fresh state's first event. Minutes
    /// between the newest pushed and the first of `series` count as missing.
    /// Returns the number of minutes pushed.
    pub fn advance(&mut self, series: &ServiceSeries, complete_until: DateTime<Utc>) -> usize {
        let width = Duration::seconds(LIVE_BUCKET_SECS);
        let mut pushed = 0;
        for (start, total, errors) in pushable(self.summary.last_minute, series, complete_until) {
            let buckets = self.summary.last_minute.map_or(1, |last| {
                u64::try_from((start - last).num_seconds() / LIVE_BUCKET_SECS).unwrap_or(1)
            });
            let ratio = if total > 0.0 {
                errors / total
            } else {
                f64::NAN
            };
            let judged = [
                (
                    self.event_rate.push_after(total, buckets),
                    Signal::Volume,
                    total,
                    self.event_rate.seen(),
                ),
                (
                    self.error_count.push_after(errors, buckets),
                    Signal::ErrorCount,
                    errors,
                    self.error_count.seen(),
                ),
                (
                    self.error_ratio.push_after(ratio, buckets),
                    Signal::ErrorRatio,
                    ratio,
                    self.error_ratio.seen(),
                ),
            ];
            let previous = self
                .summary
                .recent
                .back()
                .filter(|p| p.start + width == start);
            let was = |pick: fn(&JudgedMinute) -> Option<MinuteScore>| {
                previous
                    .and_then(pick)
                    .is_some_and(|s: MinuteScore| s.score >= 0.5)
            };
            let (spike_open, drop_open) = (was(|j| j.spike), was(|j| j.drop));
            let mut minute = JudgedMinute {
                start,
                spike: None,
                drop: None,
            };
            for (verdict, signal, observed, seen) in judged {
                let Some(band) = verdict.band else { continue };
                let score = MinuteScore {
                    score: 0.0,
                    signal,
                    observed,
                    expected: band.expected,
                    spread: band.spread,
                    threshold: band.threshold,
                    total,
                    history: i64::try_from(seen).unwrap_or(i64::MAX),
                };
                if band.rising {
                    let score = MinuteScore {
                        score: episode_score(&verdict, spike_open),
                        signal: if signal == Signal::Volume {
                            Signal::EventSurge
                        } else {
                            signal
                        },
                        ..score
                    };
                    if minute.spike.is_none_or(|s| score.score > s.score) {
                        minute.spike = Some(score);
                    }
                } else if signal == Signal::Volume {
                    minute.drop = Some(MinuteScore {
                        score: episode_score(&verdict, drop_open),
                        ..score
                    });
                }
            }
            self.summary.last_minute = Some(start);
            push_bounded(&mut self.summary.recent, minute, RECENT_MINUTES);
            pushed += 1;
        }
        pushed
    }

    /// The episodes of the recent minutes judged after `from` (all when
    /// `None`), as findings of the `spike` and `drop` kinds with the quiet
    /// periods of `settings`. An episode is ongoing while its end is within
    /// the quiet period of the newest minute judged.
    pub fn findings(
        &self,
        settings: &DetectorSettings,
        from: Option<DateTime<Utc>>,
    ) -> Vec<Finding> {
        self.summary.findings(settings, from)
    }
}

impl ServiceSummary {
    /// See [`LiveState::findings`].
    fn findings(&self, settings: &DetectorSettings, from: Option<DateTime<Utc>>) -> Vec<Finding> {
        let width = Duration::seconds(LIVE_BUCKET_SECS);
        let Some(judged_until) = self.last_minute.map(|m| m + width) else {
            return Vec::new();
        };
        let recent = || {
            self.recent
                .iter()
                .filter(move |j| from.is_none_or(|f| j.start + width > f))
        };
        let scores = |pick: fn(&JudgedMinute) -> Option<MinuteScore>| -> Vec<BucketScore> {
            recent()
                .filter_map(|j| pick(j).map(|s| bucket_score(j.start, &s)))
                .collect()
        };
        let mut out = episodes(
            AnomalyKind::Spike,
            &scores(|j| j.spike),
            settings.quiet(AnomalyKind::Spike),
            judged_until,
        );
        out.extend(episodes(
            AnomalyKind::Drop,
            &scores(|j| j.drop),
            settings.quiet(AnomalyKind::Drop),
            judged_until,
        ));
        out
    }
}

impl LiveSummary {
    /// The summary part of a state saved by [`LiveState::to_parts`].
    pub fn from_bytes(bytes: &[u8]) -> Result<LiveSummary, StateFormatError> {
        decode(bytes)
    }

    /// See [`LiveState::warmed_up`].
    pub fn warmed_up(&self) -> bool {
        self.warmed_up
    }

    /// See [`LiveState::last_minute`].
    pub fn last_minute(&self) -> Option<DateTime<Utc>> {
        self.service.last_minute
    }

    /// See [`LiveState::findings`]: the same findings as the whole state's.
    pub fn findings(
        &self,
        settings: &DetectorSettings,
        from: Option<DateTime<Utc>>,
    ) -> Vec<Finding> {
        self.service.findings(settings, from)
    }

    /// See [`PatternRates::findings`]: the same findings as the whole
    /// state's.
    pub fn pattern_findings(
        &self,
        settings: &DetectorSettings,
        from: Option<DateTime<Utc>>,
    ) -> Vec<PatternFinding> {
        pattern_rate::findings(self.patterns.iter(), settings, from)
    }

    /// Whether [`LiveState::advance_all`] with these arguments would push a
    /// minute to the state this summarises: when it would not, the pass
    /// judges the service from the summary alone and saves nothing.
    pub fn pending(
        &self,
        series: &ServiceSeries,
        patterns: &[PatternMinute],
        complete_until: DateTime<Utc>,
    ) -> bool {
        !pushable(self.service.last_minute, series, complete_until).is_empty()
            || pattern_rate::pending(&self.patterns, patterns, series.start, complete_until)
    }
}

/// The whole minutes of `series` that [`LiveState::advance`] pushes to a
/// state whose newest minute is `last`, with their events and errors: those
/// that start after `last` and end by `complete_until`, not only partly
/// inside `series`, and not the empty minutes before a fresh state's first
/// event.
fn pushable(
    last: Option<DateTime<Utc>>,
    series: &ServiceSeries,
    complete_until: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, f64, f64)> {
    let minutes = series.coarsen(LIVE_BUCKET_SECS);
    let width = Duration::seconds(LIVE_BUCKET_SECS);
    let mut out = Vec::new();
    for (m, counts) in minutes.counts.iter().enumerate() {
        let start = minutes.start + width * i32::try_from(m).unwrap_or(i32::MAX);
        if start < series.start || last.is_some_and(|last| start <= last) {
            continue;
        }
        if start + width > complete_until {
            break;
        }
        let total = counts.total() as f64;
        if last.is_none() && out.is_empty() && total == 0.0 {
            // A service's series starts at its first event: the empty
            // minutes before it are not a level it ever had.
            continue;
        }
        out.push((start, total, counts.errors() as f64));
    }
    out
}

/// A reported verdict opens an episode; while one is open, a point the
/// detector still finds deviating extends it; anything else stays below
/// the verdict threshold (its score still says how close it came).
fn episode_score(verdict: &PointVerdict, open: bool) -> f64 {
    if verdict.anomaly {
        verdict.score
    } else if open && verdict.deviating {
        verdict.score.max(0.5)
    } else {
        verdict.score.min(0.49)
    }
}

fn bucket_score(start: DateTime<Utc>, s: &MinuteScore) -> BucketScore {
    let z = if s.spread > 0.0 {
        (s.observed - s.expected) / s.spread
    } else {
        0.0
    };
    BucketScore {
        start,
        end: start + Duration::seconds(LIVE_BUCKET_SECS),
        score: s.score,
        signal: s.signal,
        observed: s.observed,
        expected: s.expected,
        stddev: s.spread,
        z,
        threshold: s.threshold,
        total: s.total,
        window_secs: LIVE_BUCKET_SECS,
        baseline_start: start - Duration::minutes(s.history.min(MAX_BASELINE_MINUTES)),
        baseline_end: start,
    }
}

/// The longest baseline span a measure names (the detector's history is
/// bounded by its window; older points only shaped its transform).
const MAX_BASELINE_MINUTES: i64 = 2_000;
