//! The log detectors (burst, spike, drop) on synthetic series with exact
//! expectations, and the reconciliation of their findings.
//!
//! Per-minute series put all of a minute's events in its first 10-second
//! bucket: every 60-second window then holds exactly one minute's events,
//! which keeps expected values easy to derive by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use chrono::{DateTime, Duration, TimeZone, Utc};

use anomalog_core::detect::{
    BaselineMethod, BurstConfig, DetectorSettings, DropConfig, Finding, Judging, Signal,
    SpikeConfig, burst_findings, burst_scores, detect_service, drop_findings, drop_scores,
    reconcile, spike_findings, spike_scores,
};
use anomalog_core::rollup::{LevelCounts, ServiceSeries};
use anomalog_core::{Anomaly, AnomalyKind, AnomalyStatus, Level, Severity};

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

fn cell(errors: u64, others: u64) -> LevelCounts {
    let mut c = LevelCounts::default();
    c.add(Level::Error, errors);
    c.add(Level::Info, others);
    c
}

/// 10-second buckets from `(errors, others)` per bucket.
fn buckets(cells: &[(u64, u64)]) -> ServiceSeries {
    ServiceSeries {
        service: "api".into(),
        bucket_secs: 10,
        start: t0(),
        counts: cells.iter().map(|&(e, o)| cell(e, o)).collect(),
    }
}

/// 10-second buckets from `(errors, others)` per minute, each minute's events
/// in its first bucket, plus `tail` empty minutes.
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
    assert!((a - b).abs() < 1e-3, "{a} != {b}");
}

// ---------------------------------------------------------------------------
// Burst

#[test]
fn a_burst_exactly_at_the_threshold_opens_one_episode() {
    let s = buckets(&[(0, 5), (0, 5), (25, 5), (0, 5), (0, 5)]);
    let found = burst_findings(&s, &BurstConfig::default(), None, secs(50));
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!((f.window_start, f.window_end), (secs(20), secs(30)));
    assert_eq!((f.peak.observed, f.peak.threshold), (25.0, 25.0));
    assert!((f.score() - 0.5).abs() < 1e-12, "{}", f.score());
    assert!(f.ongoing, "quiet for 20 s of the 60 s quiet period");
}

#[test]
fn one_error_below_the_threshold_is_no_burst_but_scores_just_under_half() {
    let s = buckets(&[(0, 5), (24, 5), (0, 5)]);
    assert!(burst_findings(&s, &BurstConfig::default(), None, secs(30)).is_empty());
    let peak = burst_scores(&s, &BurstConfig::default(), None)
        .iter()
        .map(|b| b.score)
        .fold(0.0, f64::max);
    // 1 - 2^-(24/25)^2
    approx(peak, 1.0 - 2f64.powf(-(0.96f64 * 0.96)));
}

#[test]
fn a_burst_split_across_buckets_is_one_episode_resolved_after_the_quiet_period() {
    let mut cells = vec![(0, 1), (15, 1), (15, 1), (15, 1)];
    cells.extend(vec![(0, 1); 9]);
    let s = buckets(&cells);
    let found = burst_findings(&s, &BurstConfig::default(), None, secs(130));
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(f.peak.observed, 45.0);
    assert_eq!((f.window_start, f.window_end), (secs(10), secs(40)));
    assert!(!f.ongoing, "quiet for 90 s > 60 s");
}

#[test]
fn burst_severity_grows_with_its_size() {
    let severity = |errors: u64| {
        let s = buckets(&[(0, 1), (errors, 1), (0, 1)]);
        let found = burst_findings(&s, &BurstConfig::default(), None, secs(30));
        let records = reconcile("api", &found, &[], |_| Duration::seconds(60), secs(30));
        records[0].severity
    };
    assert_eq!(severity(25), Severity::Low);
    assert_eq!(severity(50), Severity::Medium);
    assert_eq!(severity(100), Severity::High);
    assert_eq!(severity(200), Severity::Critical);
}

#[test]
fn a_service_that_always_logs_errors_needs_three_times_its_usual_count() {
    // 30 min of 10 errors per bucket: usually 30 per 30-s window.
    let mut cells = vec![(10, 0); 180];
    cells.extend([(10, 0), (10, 0), (60, 0)]); // 80 in the window: below 90
    cells.extend(vec![(10, 0); 6]);
    cells.extend([(10, 0), (10, 0), (80, 0)]); // 100: a burst
    let s = buckets(&cells);
    let from = Some(mins(30));
    let found = burst_findings(&s, &BurstConfig::default(), from, secs(1920));
    assert_eq!(found.len(), 1, "{found:?}");
    // Usually 30 per window (the 60 errors earlier lift it a little):
    // 3 x (1850 errors / 180 buckets) x 3 buckets.
    approx(found[0].peak.threshold, 92.5);
    assert_eq!(found[0].peak.observed, 100.0);
    assert_eq!(found[0].window_start, secs(1890));
}

// ---------------------------------------------------------------------------
// Spike

/// 40 normal minutes of 2 errors in 100 events, then one of 30 in 100.
fn step_in_errors() -> ServiceSeries {
    let mut per_minute = vec![(2, 98); 40];
    per_minute.push((30, 70));
    per_minute.extend(vec![(2, 98); 4]);
    minutes(&per_minute, 0)
}

#[test]
fn a_step_in_the_error_count_is_one_spike_with_its_explanation() {
    let s = step_in_errors();
    let found = spike_findings(&s, &SpikeConfig::default(), &judging(mins(45)));
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    // The first window holding minute 40 starts 50 s before it.
    assert_eq!(f.window_start, mins(40) - Duration::seconds(50));
    assert_eq!(f.window_end, mins(41));
    assert!(!f.ongoing, "4 minutes quiet > 2");
    let p = &f.peak;
    assert_eq!(p.signal, Signal::ErrorCount);
    assert_eq!((p.observed, p.expected), (30.0, 2.0));
    approx(p.stddev, 2f64.sqrt()); // Poisson floor above the 1.0 floor
    // The plain z is 28 / 1.41 = 19.8; on the square-root scale of counts it
    // is 2 (sqrt(30.375) - sqrt(2.375)) = 7.9, and the lower one counts.
    let z = 2.0 * (30.375f64.sqrt() - 2.375f64.sqrt());
    approx(p.z, z);
    approx(p.score, 1.0 - 2f64.powf(-(z / 4.0) * (z / 4.0)));
    // 2 + 4 x 1.41 = 7.7 plainly; (sqrt(2.375) + 2)^2 - 0.375 = 12.2 on the
    // square-root scale; the window must also hold 10 errors.
    approx(p.threshold, (2.375f64.sqrt() + 2.0).powi(2) - 0.375);
    let records = reconcile("api", &found, &[], |_| Duration::minutes(2), mins(45));
    assert_eq!(
        records[0].message,
        "30 errors in 60 s, expected 2.0 ± 1.4 (z = 7.9, threshold 12.2)"
    );
    assert_eq!(records[0].status, AnomalyStatus::Resolved);
}

#[test]
fn normal_minutes_score_zero_and_nothing_is_judged_during_warmup() {
    let s = step_in_errors();
    let scores = spike_scores(&s, &SpikeConfig::default(), &judging(mins(45)));
    // Warm-up: windows starting before minute 10 are not judged.
    assert_eq!(scores[0].start, mins(10));
    assert!(
        scores
            .iter()
            .filter(|b| b.end <= mins(40) || b.start > mins(40))
            .all(|b| b.score == 0.0)
    );
    let mut early = vec![(2, 98); 5];
    early.push((30, 70));
    early.extend(vec![(2, 98); 3]);
    let s = minutes(&early, 0);
    assert!(spike_findings(&s, &SpikeConfig::default(), &judging(mins(9))).is_empty());
}

#[test]
fn fewer_errors_than_the_minimum_count_are_no_spike() {
    let mut per_minute = vec![(0, 100); 30];
    per_minute.push((8, 92));
    per_minute.push((0, 100));
    per_minute.push((12, 88));
    let s = minutes(&per_minute, 0);
    let found = spike_findings(&s, &SpikeConfig::default(), &judging(mins(33)));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].peak.observed, 12.0);
    let scores = spike_scores(&s, &SpikeConfig::default(), &judging(mins(33)));
    let eight = scores
        .iter()
        .find(|b| b.observed == 8.0)
        .expect("the 8-error window");
    approx(eight.score, 1.0 - 2f64.powf(-0.64)); // the min-count gate, 8/10
}

#[test]
fn more_traffic_with_the_same_error_ratio_is_no_spike_but_a_higher_ratio_is() {
    let mut per_minute = vec![(5, 495); 30];
    per_minute.push((10, 990)); // twice the traffic, same 1%
    per_minute.push((5, 495));
    per_minute.push((15, 235)); // half the traffic, 6% errors
    let s = minutes(&per_minute, 0);
    let found = spike_findings(&s, &SpikeConfig::default(), &judging(mins(33)));
    assert_eq!(found.len(), 1, "{found:?}");
    let p = &found[0].peak;
    assert_eq!(p.signal, Signal::ErrorRatio);
    approx(p.observed, 0.06);
    approx(p.expected, 0.01);
    approx(p.stddev, (0.01f64 * 0.99 / 250.0).sqrt()); // binomial, above the floor
    assert_eq!(found[0].window_start, mins(32) - Duration::seconds(50));
    let records = reconcile("api", &found, &[], |_| Duration::minutes(2), mins(33));
    assert!(
        records[0].message
            == "error ratio 6.0% (15 of 250 events in 60 s), expected 1.0% ± 0.6% (z = 4.5, threshold 5.3%)",
        "{}",
        records[0].message
    );
}

#[test]
fn the_robust_baseline_is_not_fooled_by_an_old_outlier_but_the_mean_is() {
    // Alternating 1 and 3 errors; minute 3 (before the first verdict) had 40.
    let mut per_minute: Vec<(u64, u64)> = (0..20)
        .map(|m| if m % 2 == 0 { (1, 200) } else { (3, 200) })
        .collect();
    per_minute[3] = (40, 200);
    per_minute.push((12, 200));
    let s = minutes(&per_minute, 1);
    let median = spike_findings(&s, &SpikeConfig::default(), &judging(mins(21)));
    assert_eq!(median.len(), 1);
    assert!(median[0].peak.expected <= 3.0);
    let mean_cfg = SpikeConfig {
        method: BaselineMethod::Mean,
        ..SpikeConfig::default()
    };
    // Mean 74/19 = 3.9 errors, standard deviation 8.6: 12 is within 1 sigma.
    assert!(spike_findings(&s, &mean_cfg, &judging(mins(21))).is_empty());
}

#[test]
fn a_periodic_or_noisy_error_count_raises_nothing() {
    let periodic: Vec<(u64, u64)> = (0..120)
        .map(|m| {
            let e = 5.0 + 3.0 * (std::f64::consts::TAU * m as f64 / 20.0).sin();
            (e.round() as u64, 500)
        })
        .collect();
    let s = minutes(&periodic, 0);
    assert!(spike_findings(&s, &SpikeConfig::default(), &judging(mins(120))).is_empty());

    let mut rng = fastrand::Rng::with_seed(7);
    let noisy: Vec<(u64, u64)> = (0..120)
        .map(|_| (rng.u64(2..=9), rng.u64(400..600)))
        .collect();
    let s = minutes(&noisy, 0);
    assert!(spike_findings(&s, &SpikeConfig::default(), &judging(mins(120))).is_empty());
}

#[test]
fn a_long_incident_stays_flagged_when_its_earlier_part_is_a_known_anomaly() {
    // 30 normal minutes, then 25 minutes of 30 errors per minute. A pass that
    // judges only the last 5 minutes would take the incident for the
    // baseline, unless the anomaly recorded earlier is left out.
    let mut per_minute = vec![(2, 98); 30];
    per_minute.extend(vec![(30, 70); 25]);
    let s = minutes(&per_minute, 0);
    let now = mins(55);
    let ctx = Judging {
        from: Some(mins(50)),
        ..judging(now)
    };
    let blind = spike_findings(&s, &SpikeConfig::default(), &ctx);
    assert!(blind.is_empty(), "{blind:?}");
    let known = vec![(mins(30) - Duration::seconds(50), mins(50))];
    let ctx = Judging {
        excluded: &known,
        ..ctx
    };
    let found = spike_findings(&s, &SpikeConfig::default(), &ctx);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].peak.expected, 2.0);
    assert!(found[0].ongoing);
}

// ---------------------------------------------------------------------------
// Drop

fn busy_then_silent() -> ServiceSeries {
    minutes(&vec![(3, 297); 40], 6)
}

#[test]
fn a_service_that_goes_silent_is_a_drop_once_its_window_has_settled() {
    let s = busy_then_silent();
    let found = drop_findings(&s, &DropConfig::default(), &judging(mins(46)));
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f.window_start, mins(40) - Duration::seconds(50));
    assert!(f.ongoing);
    let p = &f.peak;
    assert_eq!(
        (p.signal, p.observed, p.expected),
        (Signal::Volume, 0.0, 300.0)
    );
    approx(p.stddev, 300f64.sqrt());
    assert_eq!(p.threshold, 150.0);
    approx(p.score, 0.9375); // 1 - 2^-4: all the traffic missing
    let records = reconcile("api", &found, &[], |_| Duration::minutes(2), mins(46));
    assert_eq!(records[0].severity, Severity::High);
    assert_eq!(
        records[0].message,
        "silent: 0 events in 60 s, expected 300.0 ± 17.3 (z = -17.3, threshold 150.0)"
    );
}

#[test]
fn buckets_after_the_newest_data_of_any_service_are_not_judged() {
    let s = busy_then_silent();
    let ctx = Judging {
        data_until: mins(40),
        ..judging(mins(46))
    };
    assert!(drop_findings(&s, &DropConfig::default(), &ctx).is_empty());
    // Twenty seconds after the newest data the first empty window is judged.
    let ctx = Judging {
        data_until: mins(40) + Duration::seconds(30),
        ..judging(mins(46))
    };
    assert_eq!(drop_findings(&s, &DropConfig::default(), &ctx).len(), 1);
}

#[test]
fn a_drop_must_lose_half_the_traffic_of_a_busy_enough_service() {
    let drop_to = |during: u64| {
        let mut per_minute = vec![(0, 300); 30];
        per_minute.extend(vec![(0, during); 3]);
        per_minute.extend(vec![(0, 300); 2]);
        let s = minutes(&per_minute, 0);
        drop_findings(&s, &DropConfig::default(), &judging(mins(35)))
    };
    assert!(
        drop_to(200).is_empty(),
        "two thirds of the traffic is no drop"
    );
    let found = drop_to(120);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].peak.observed, 120.0);
    approx(found[0].peak.score, 1.0 - 2f64.powf(-1.44)); // 60% missing of the 50% allowed

    let mut quiet = vec![(0, 5); 30];
    quiet.extend(vec![(0, 0); 10]);
    let s = minutes(&quiet, 0);
    let scores = drop_scores(&s, &DropConfig::default(), &judging(mins(40)));
    assert!(
        scores.iter().all(|b| b.score < 0.5),
        "5 events a minute is too sparse"
    );
}

// ---------------------------------------------------------------------------
// Every detector at once

#[test]
fn a_long_flat_zero_period_raises_nothing() {
    let s = buckets(&vec![(0, 0); 6 * 90]);
    let settings = DetectorSettings::default();
    assert!(detect_service(&s, &settings, &judging(mins(90)), &[]).is_empty());
    let scores = spike_scores(&s, &settings.spike, &judging(mins(90)));
    assert!(scores.is_empty(), "never active: no baseline, no score");
}

#[test]
fn a_steady_ramp_is_no_spike_but_becomes_a_burst_once_it_outgrows_the_usual_count() {
    // The trailing baseline grows with any steady ramp: the z-score of a
    // linear ramp against its own past is about 1.4 whatever its slope.
    let slow: Vec<(u64, u64)> = (0..60).map(|m| (10 + m / 5, 500)).collect();
    let s = minutes(&slow, 0);
    assert!(spike_findings(&s, &SpikeConfig::default(), &judging(mins(60))).is_empty());
    let fast: Vec<(u64, u64)> = (0..30).map(|m| (10 + 5 * m, 500)).collect();
    let s = minutes(&fast, 0);
    assert!(spike_findings(&s, &SpikeConfig::default(), &judging(mins(30))).is_empty());
    // Minute 3 holds 25 errors: the window ending with its bucket has a
    // threshold of 3 x 3 x 45/16 = 25.3, the next one 3 x 3 x 45/17 = 23.8,
    // so the minimum of 25 decides.
    let found = burst_findings(&s, &BurstConfig::default(), None, mins(30));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].window_start, mins(3));
    assert!(found[0].ongoing);
}

fn findings_at(s: &ServiceSeries, now: DateTime<Utc>) -> Vec<Finding> {
    detect_service(s, &DetectorSettings::default(), &judging(now), &[])
}

#[test]
fn reconcile_extends_an_open_anomaly_and_resolves_it_when_it_clears() {
    let quiet = |_| Duration::seconds(60);
    let s = buckets(&[(0, 0), (30, 0), (0, 0)]);
    let first = reconcile("api", &findings_at(&s, secs(30)), &[], quiet, secs(30));
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].kind, first[0].status),
        (AnomalyKind::Burst, AnomalyStatus::Open)
    );
    let id = first[0].id.clone();
    assert_eq!(id, Anomaly::id_for(AnomalyKind::Burst, "api", secs(10)));

    // A later pass sees the episode go on: same id, window extended.
    let s2 = buckets(&[(0, 0), (30, 0), (0, 0), (30, 0), (0, 0)]);
    let second = reconcile("api", &findings_at(&s2, secs(50)), &first, quiet, secs(50));
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, id);
    assert_eq!(second[0].window_end, secs(40));
    assert_eq!(second[0].first_seen, secs(30));

    // No finding any more: resolved.
    let third = reconcile("api", &[], &second, quiet, secs(350));
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].status, AnomalyStatus::Resolved);

    // The same finished episode seen again changes nothing.
    let again = reconcile(
        "api",
        &findings_at(&s2, secs(400)),
        &third,
        quiet,
        secs(400),
    );
    assert!(again.is_empty(), "{again:?}");
}
