//! The live engine judges a service's per-minute series with the detector
//! `backtest --series` runs: same verdicts on the same values, episodes in
//! the log detectors' model, a state that survives being saved and restored.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use chrono::{DateTime, Duration, TimeZone, Utc};

use anomalog_core::detect::live::{LIVE_BUCKET_SECS, LiveState, LiveSummary};
use anomalog_core::detect::pattern_rate::PatternMinute;
use anomalog_core::detect::series::{SeriesConfig, score_series};
use anomalog_core::detect::{DetectorSettings, Signal};
use anomalog_core::model::AnomalyKind;
use anomalog_core::rollup::{LevelCounts, ServiceSeries};
use anomalog_core::{Level, Metric, Unit};

/// A whole minute.
fn t0() -> DateTime<Utc> {
    Utc.timestamp_opt(1_699_999_980, 0).unwrap()
}

fn mins(m: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(m)
}

/// Deterministic per-minute `(errors, others)`: about 600 events a minute
/// with Poisson-like noise and a handful of errors.
fn normal_minute(m: u64) -> (u64, u64) {
    let mut x = m
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    x ^= x >> 29;
    let noise = x % 49; // 0..48
    let errors = 3 + (x >> 8) % 4; // 3..6
    (errors, 576 + noise - errors)
}

/// 10-second buckets of one service from per-minute `(errors, others)`,
/// spread evenly over each minute's six buckets.
fn series(minutes: &[(u64, u64)], first_minute: i64) -> ServiceSeries {
    let mut counts = Vec::new();
    for &(e, o) in minutes {
        for b in 0..6u64 {
            let share = |n: u64| n / 6 + u64::from(b < n % 6);
            let mut c = LevelCounts::default();
            c.add(Level::Error, share(e));
            c.add(Level::Info, share(o));
            counts.push(c);
        }
    }
    ServiceSeries {
        service: "api".into(),
        bucket_secs: 10,
        start: mins(first_minute),
        counts,
    }
}

fn history(n: u64) -> Vec<(u64, u64)> {
    (0..n).map(normal_minute).collect()
}

#[test]
fn no_verdict_before_the_warm_up_and_none_on_normal_traffic() {
    let cfg = SeriesConfig::default();
    let mut state = LiveState::new(&cfg);
    let minutes = history(400);
    state.advance(&series(&minutes[..50], 0), mins(50));
    assert!(!state.warmed_up());
    state.advance(&series(&minutes, 0), mins(400));
    assert!(state.warmed_up());
    assert_eq!(state.last_minute(), Some(mins(399)));
    let findings = state.findings(&DetectorSettings::default(), None);
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn an_error_spike_is_one_spike_finding_with_its_measure() {
    let mut minutes = history(300);
    minutes[250] = (120, 480);
    let mut state = LiveState::new(&SeriesConfig::default());
    state.advance(&series(&minutes, 0), mins(300));
    let findings = state.findings(&DetectorSettings::default(), None);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.kind, AnomalyKind::Spike);
    assert_eq!(f.window_start, mins(250));
    assert!(!f.ongoing);
    // The error count and the error ratio both rose; the peak is the one
    // further past its threshold.
    let m = f.peak.measure();
    match m.metric {
        Metric::ErrorCount => assert_eq!(f.peak.observed, 120.0),
        Metric::ErrorRatio => assert_eq!(f.peak.observed, 0.2),
        other => panic!("{other:?}"),
    }
    assert!(m.threshold > f.peak.expected && m.threshold < f.peak.observed);
    assert_eq!(m.bucket_seconds, 60);
    assert_eq!(m.baseline_end, mins(250));
}

#[test]
fn a_silence_is_a_drop_that_stays_open_while_it_is_judged_deviating() {
    let mut minutes = history(200);
    minutes.extend(std::iter::repeat_n((0, 0), 3));
    let mut state = LiveState::new(&SeriesConfig::default());
    state.advance(&series(&minutes, 0), mins(203));
    let findings = state.findings(&DetectorSettings::default(), None);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.kind, AnomalyKind::Drop);
    assert_eq!(f.window_start, mins(200));
    assert!(f.ongoing, "the newest minute is still silent");
    assert_eq!(f.peak.signal, Signal::Volume);
    assert_eq!(f.peak.observed, 0.0);
    let m = f.peak.measure();
    assert_eq!((m.metric, m.unit), (Metric::EventRate, Unit::Events));
    assert!(m.threshold < f.peak.expected, "{m:?}");
}

#[test]
fn the_engine_gives_the_verdicts_of_backtest_on_the_same_values() {
    // The event rate of a service with an outage and a surge: the minutes
    // the live engine opens episodes at are the rows `backtest --series`
    // (score_series at 60-s buckets) flags (within the last
    // `RECENT_MINUTES`, whose scores a state keeps).
    let mut minutes = history(400);
    minutes[350] = (4, 1_400);
    for m in &mut minutes[370..376] {
        *m = (0, 40);
    }
    let totals: Vec<f64> = minutes.iter().map(|&(e, o)| (e + o) as f64).collect();
    let cfg = SeriesConfig::default();
    let backtest: Vec<usize> = score_series(&totals, LIVE_BUCKET_SECS, &cfg)
        .iter()
        .enumerate()
        .filter(|(_, v)| v.anomaly)
        .map(|(i, _)| i)
        .collect();
    assert!(!backtest.is_empty());
    let mut state = LiveState::new(&cfg);
    state.advance(&series(&minutes, 0), mins(400));
    let mut starts: Vec<i64> = state
        .findings(&DetectorSettings::default(), None)
        .iter()
        .filter(|f| matches!(f.peak.signal, Signal::Volume | Signal::EventSurge))
        .map(|f| (f.window_start - mins(0)).num_minutes())
        .collect();
    starts.sort_unstable();
    let expected: Vec<i64> = backtest.iter().map(|&i| i as i64).collect();
    assert_eq!(starts, expected);
}

/// Per-minute counts of two patterns over `minutes` minutes from `first`:
/// a steady one, and one that only starts at minute `late_from`.
fn pattern_rows(first: i64, minutes: i64, late_from: i64) -> Vec<PatternMinute> {
    let mut rows = Vec::new();
    for m in first..first + minutes {
        rows.push(PatternMinute {
            pattern: "steady".into(),
            minute: mins(m),
            level: Level::Info,
            count: 40 + (m as u64 * 7) % 9,
        });
        if m >= late_from {
            rows.push(PatternMinute {
                pattern: "late".into(),
                minute: mins(m),
                level: Level::Warn,
                count: 3,
            });
        }
    }
    rows
}

#[test]
fn a_restored_state_continues_exactly_where_the_saved_one_stopped() {
    let mut minutes = history(320);
    minutes[300] = (150, 450);
    let cfg = SeriesConfig::default();
    let rows = pattern_rows(0, 320, 200);
    let mut whole = LiveState::new(&cfg);
    whole.advance_all(&series(&minutes, 0), &rows, &cfg, mins(320));

    let mut first = LiveState::new(&cfg);
    first.advance_all(&series(&minutes[..290], 0), &rows[..], &cfg, mins(290));
    let saved = first.to_parts();
    let mut restored = LiveState::from_parts(&saved.summary, &saved.detectors).unwrap();
    assert_eq!(restored.pattern_rates().patterns(), ["steady", "late"]);
    // The next pass reads an overlapping lookback: minutes already pushed
    // are not pushed twice.
    let pushed = restored.advance(&series(&minutes[260..], 260), mins(320));
    assert_eq!(pushed, 30);
    let pushed = restored
        .pattern_rates_mut()
        .advance(&rows, mins(260), mins(320));
    assert_eq!(pushed, 60, "30 minutes of each of two patterns");
    let settings = DetectorSettings::default();
    assert_eq!(
        restored.findings(&settings, None),
        whole.findings(&settings, None)
    );
    assert_eq!(whole.findings(&settings, None).len(), 1);
    assert_eq!(
        restored.pattern_rates().findings(&settings, None),
        whole.pattern_rates().findings(&settings, None)
    );
    assert_eq!(restored.to_parts(), whole.to_parts());
}

/// A pass reads a state's summary, and the whole state only when
/// [`LiveSummary::pending`] says it has a minute to push: which must be
/// exactly when advancing the whole state pushes one.
fn assert_pending_as_advance(
    state: &LiveState,
    series: &ServiceSeries,
    rows: &[PatternMinute],
    until: DateTime<Utc>,
) -> bool {
    let summary = LiveSummary::from_bytes(&state.to_parts().summary).unwrap();
    let pending = summary.pending(series, rows, until);
    let pushed = state
        .clone()
        .advance_all(series, rows, &SeriesConfig::default(), until);
    assert_eq!(pending, pushed > 0, "pending {pending}, pushed {pushed}");
    pending
}

#[test]
fn a_summary_judges_as_its_state_and_knows_when_a_pass_has_minutes_to_push() {
    let mut minutes = history(300);
    minutes[280] = (150, 450);
    let cfg = SeriesConfig::default();
    let rows = pattern_rows(0, 290, 1_000);
    let mut state = LiveState::new(&cfg);
    state.advance_all(&series(&minutes[..290], 0), &rows, &cfg, mins(290));
    let summary = LiveSummary::from_bytes(&state.to_parts().summary).unwrap();
    let settings = DetectorSettings::default();
    for from in [None, Some(mins(250)), Some(mins(285))] {
        assert_eq!(
            summary.findings(&settings, from),
            state.findings(&settings, from)
        );
        assert_eq!(
            summary.pattern_findings(&settings, from),
            state.pattern_rates().findings(&settings, from)
        );
    }
    assert_eq!(state.findings(&settings, None).len(), 1);
    assert!(summary.warmed_up() && state.warmed_up());
    assert_eq!(summary.last_minute(), Some(mins(289)));
    // A summary is a small part of the state (here a third at most, with
    // five hours of history; a warm state's detectors hold three days).
    let parts = state.to_parts();
    assert!(
        parts.summary.len() * 3 < parts.detectors.len(),
        "{} vs {}",
        parts.summary.len(),
        parts.detectors.len()
    );

    // The lookback of the next passes: 57 minutes ending at minute 300.
    let lookback = series(&minutes[243..], 243);
    let rows_later = pattern_rows(243, 57, 1_000);
    // No minute completed since: nothing to push.
    assert!(!assert_pending_as_advance(
        &state,
        &lookback,
        &rows_later,
        mins(290)
    ));
    assert!(!assert_pending_as_advance(
        &state,
        &lookback,
        &rows_later,
        mins(290) + Duration::seconds(59)
    ));
    // A minute completed: pushed, to the service's series and the pattern's.
    assert!(assert_pending_as_advance(
        &state,
        &lookback,
        &rows_later,
        mins(291)
    ));
    // A new pattern worth a series, with no new minute of the service: its
    // series takes the lookback's minutes.
    let rows_new = pattern_rows(243, 47, 280);
    assert!(assert_pending_as_advance(
        &state,
        &lookback,
        &rows_new,
        mins(290)
    ));
    // A tracked pattern without lines in the lookback is still pushed zeros
    // once a minute completes.
    assert!(assert_pending_as_advance(&state, &lookback, &[], mins(292)));
    assert!(!assert_pending_as_advance(
        &state,
        &lookback,
        &[],
        mins(290)
    ));

    // A fresh state: nothing to push before the service's first event.
    let fresh = LiveState::new(&cfg);
    let silent = series(&vec![(0, 0); 30], 0);
    assert!(!assert_pending_as_advance(&fresh, &silent, &[], mins(30)));
    assert!(assert_pending_as_advance(&fresh, &lookback, &[], mins(300)));
}

#[test]
fn minutes_not_yet_complete_wait_for_a_later_pass() {
    let minutes = history(130);
    let mut state = LiveState::new(&SeriesConfig::default());
    let pushed = state.advance(&series(&minutes, 0), mins(129) + Duration::seconds(59));
    assert_eq!(pushed, 129);
    assert_eq!(state.last_minute(), Some(mins(128)));
    assert_eq!(state.advance(&series(&minutes, 0), mins(130)), 1);
}

#[test]
fn unreadable_state_bytes_are_an_error_not_a_panic() {
    let cfg = SeriesConfig::default();
    let fresh = LiveState::new(&cfg).to_parts();
    assert!(LiveState::from_parts(&[], &fresh.detectors).is_err());
    assert!(LiveState::from_parts(&fresh.summary, &[99, 1, 2]).is_err());
    assert!(
        LiveState::from_parts(
            &fresh.summary,
            &fresh.detectors[..fresh.detectors.len() / 2]
        )
        .is_err()
    );
    assert!(LiveSummary::from_bytes(&[]).is_err());
    assert!(LiveSummary::from_bytes(&[99]).is_err());
    assert!(LiveState::from_parts(&fresh.summary, &fresh.detectors).is_ok());
    // The summary of a state with pattern series and the detectors of one
    // without do not make a state.
    let mut tracked = LiveState::new(&cfg);
    tracked.advance_all(
        &series(&history(5), 0),
        &pattern_rows(0, 5, 0),
        &cfg,
        mins(5),
    );
    let tracked = tracked.to_parts();
    assert!(LiveState::from_parts(&tracked.summary, &fresh.detectors).is_err());
    assert!(LiveState::from_parts(&tracked.summary, &tracked.detectors).is_ok());
}
