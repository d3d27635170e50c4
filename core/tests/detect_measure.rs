//! Every anomaly the log detectors produce says, in typed fields, what it
//! measured: the series, its unit, the threshold crossed and the span of the
//! baseline. Exact rows on the shapes of `detect_logs.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use chrono::{DateTime, Duration, TimeZone, Utc};

use anomalog_core::detect::{
    BurstConfig, DropConfig, Judging, SpikeConfig, burst_findings, drop_findings, reconcile,
    spike_findings,
};
use anomalog_core::rollup::{LevelCounts, ServiceSeries};
use anomalog_core::{Level, Measure, Metric, Unit};

/// A whole minute.
fn t0() -> DateTime<Utc> {
    Utc.timestamp_opt(1_699_999_980, 0).unwrap()
}

fn secs(s: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(s)
}

fn mins(m: i64) -> DateTime<Utc> {
    t0() + Duration::minutes(m)
}

/// 10-second buckets from `(errors, others)` per bucket.
fn buckets(cells: &[(u64, u64)]) -> ServiceSeries {
    ServiceSeries {
        service: "api".into(),
        bucket_secs: 10,
        start: t0(),
        counts: cells
            .iter()
            .map(|&(e, o)| {
                let mut c = LevelCounts::default();
                c.add(Level::Error, e);
                c.add(Level::Info, o);
                c
            })
            .collect(),
    }
}

/// Each minute's events in its first 10-second bucket.
fn minutes(per_minute: &[(u64, u64)], tail: usize) -> ServiceSeries {
    let mut cells = Vec::new();
    for &(e, o) in per_minute {
        cells.push((e, o));
        cells.extend([(0, 0); 5]);
    }
    cells.extend(vec![(0, 0); tail * 6]);
    buckets(&cells)
}

fn judging(now: DateTime<Utc>) -> Judging<'static> {
    Judging {
        now,
        from: None,
        data_until: now,
        excluded: &[],
    }
}

fn approx(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-4, "{a} != {b}");
}

#[test]
fn a_burst_measures_the_error_count_of_its_window_against_the_thirty_minutes_before() {
    let mut cells = vec![(10, 0); 180];
    cells.extend([(10, 0), (10, 0), (60, 0)]);
    cells.extend(vec![(10, 0); 6]);
    cells.extend([(10, 0), (10, 0), (80, 0)]);
    let s = buckets(&cells);
    let found = burst_findings(&s, &BurstConfig::default(), Some(mins(30)), secs(1920));
    let records = reconcile("api", &found, &[], |_| Duration::seconds(60), secs(1920));
    let m = records[0].measure.clone().expect("a measure");
    approx(m.threshold, 92.5);
    assert_eq!(
        m,
        Measure {
            metric: Metric::ErrorCount,
            unit: Unit::Events,
            threshold: m.threshold,
            // The window is buckets 189..=191; the baseline the 180 before.
            baseline_start: secs(90),
            baseline_end: secs(1890),
            bucket_seconds: 30,
        }
    );
    assert_eq!(records[0].observed, 100.0);
}

#[test]
fn a_count_spike_measures_errors_per_minute_against_its_thirty_baseline_minutes() {
    let mut per_minute = vec![(2, 98); 40];
    per_minute.push((30, 70));
    per_minute.extend(vec![(2, 98); 4]);
    let s = minutes(&per_minute, 0);
    let found = spike_findings(&s, &SpikeConfig::default(), &judging(mins(45)));
    let records = reconcile("api", &found, &[], |_| Duration::minutes(2), mins(45));
    assert_eq!(records.len(), 1, "{records:?}");
    // The peak window starts at 39:10: its baseline is minutes 9..=38.
    assert_eq!(
        records[0].measure,
        Some(Measure {
            metric: Metric::ErrorCount,
            unit: Unit::Events,
            threshold: (2.375f64.sqrt() + 2.0).powi(2) - 0.375,
            baseline_start: mins(9),
            baseline_end: mins(39),
            bucket_seconds: 60,
        })
    );
}

#[test]
fn a_ratio_spike_measures_the_error_ratio_in_its_unit() {
    let mut per_minute = vec![(5, 495); 30];
    per_minute.push((10, 990));
    per_minute.push((5, 495));
    per_minute.push((15, 235));
    let s = minutes(&per_minute, 0);
    let found = spike_findings(&s, &SpikeConfig::default(), &judging(mins(33)));
    let records = reconcile("api", &found, &[], |_| Duration::minutes(2), mins(33));
    let a = &records[0];
    let m = a.measure.clone().expect("a measure");
    assert_eq!((m.metric, m.unit), (Metric::ErrorRatio, Unit::Ratio));
    // 4 standard deviations on the square-root scale of 2.5 expected errors
    // in 250 events, as a share of them: 5.3%.
    approx(
        m.threshold,
        ((2.875f64.sqrt() + 2.0).powi(2) - 0.375) / 250.0,
    );
    assert_eq!((m.baseline_start, m.baseline_end), (mins(1), mins(31)));
    assert_eq!(m.bucket_seconds, 60);
    approx(a.observed, 0.06);
    approx(a.expected, 0.01);
    assert!(a.observed > m.threshold);
}

#[test]
fn a_drop_measures_the_event_rate_and_the_level_it_fell_below() {
    let s = minutes(&vec![(3, 297); 40], 6);
    let found = drop_findings(&s, &DropConfig::default(), &judging(mins(46)));
    let records = reconcile("api", &found, &[], |_| Duration::minutes(2), mins(46));
    assert_eq!(
        records[0].measure,
        Some(Measure {
            metric: Metric::EventRate,
            unit: Unit::Events,
            threshold: 150.0,
            baseline_start: mins(9),
            baseline_end: mins(39),
            bucket_seconds: 60,
        })
    );
    assert_eq!((records[0].observed, records[0].expected), (0.0, 300.0));
}

#[test]
fn a_stored_anomaly_without_a_measure_gets_one_when_its_episode_continues() {
    let quiet = |_| Duration::seconds(60);
    let s = buckets(&[(0, 0), (30, 0), (0, 0)]);
    let found = burst_findings(&s, &BurstConfig::default(), None, secs(30));
    let mut old = reconcile("api", &found, &[], quiet, secs(30));
    old[0].measure = None; // written before measures existed
    let s2 = buckets(&[(0, 0), (30, 0), (0, 0), (20, 0), (0, 0)]);
    let found = burst_findings(&s2, &BurstConfig::default(), None, secs(50));
    let again = reconcile("api", &found, &old, quiet, secs(50));
    assert_eq!(again[0].id, old[0].id);
    let m = again[0].measure.clone().expect("filled in");
    assert_eq!((m.metric, m.threshold), (Metric::ErrorCount, 25.0));
    assert_eq!((m.baseline_start, m.baseline_end), (secs(0), secs(10)));
}
