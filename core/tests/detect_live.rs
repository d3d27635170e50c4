//! The live engine judges a service's per-minute series with the detector
//! `backtest --series` runs: same verdicts on the same values, episodes in
//! the log detectors' model, a state that survives being saved and restored.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use chrono::{DateTime, Duration, TimeZone, Utc};

use anomalog_core::detect::live::{LIVE_BUCKET_SECS, LiveState};
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

#[test]
fn a_restored_state_continues_exactly_where_the_saved_one_stopped() {
    let mut minutes = history(320);
    minutes[300] = (150, 450);
    let cfg = SeriesConfig::default();
    let mut whole = LiveState::new(&cfg);
    whole.advance(&series(&minutes, 0), mins(320));

    let mut first = LiveState::new(&cfg);
    first.advance(&series(&minutes[..290], 0), mins(290));
    let saved = first.to_bytes();
    let mut restored = LiveState::from_bytes(&saved).unwrap();
    // The next pass reads an overlapping lookback: minutes already pushed
    // are not pushed twice.
    let pushed = restored.advance(&series(&minutes[260..], 260), mins(320));
    assert_eq!(pushed, 30);
    let settings = DetectorSettings::default();
    assert_eq!(
        restored.findings(&settings, None),
        whole.findings(&settings, None)
    );
    assert_eq!(whole.findings(&settings, None).len(), 1);
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
    assert!(LiveState::from_bytes(&[]).is_err());
    assert!(LiveState::from_bytes(&[99, 1, 2]).is_err());
    let bytes = LiveState::new(&SeriesConfig::default()).to_bytes();
    assert!(LiveState::from_bytes(&bytes[..bytes.len() / 2]).is_err());
}
