//! The live engine in detect passes: once a service has its warm-up of
//! minutes, its spikes and drops come from the value-series detector, whose
//! state is saved through the store and survives a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};

use anomalog_core::detect::DetectConfig;
use anomalog_core::detect::live::{LiveState, LiveSummary};
use anomalog_core::{AnomalyKind, Level, LogEvent, Metric};
use anomalog_detect::{PassLimits, run_pass, run_pass_within};
use anomalog_store::Stores;
use support::{anomalies, open};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 10, 0, 0).unwrap()
}

/// Minute `m` of the "api" service: 25 to 35 info lines and one or two
/// errors, spread over the minute; `errors` replaces the error count.
fn minute(m: i64, errors: Option<i64>) -> Vec<LogEvent> {
    let infos = 25 + (m * 7) % 11;
    let errors = errors.unwrap_or(1 + i64::from(m % 3 == 0));
    let start = t0() + Duration::minutes(m);
    let spread = |i: i64, n: i64| start + Duration::milliseconds(i * 60_000 / n);
    let mut out: Vec<LogEvent> = (0..infos)
        .map(|i| LogEvent::new(spread(i, infos), "api", Level::Info, "request served"))
        .collect();
    out.extend(
        (0..errors)
            .map(|i| LogEvent::new(spread(i, errors), "api", Level::Error, "upstream timed out")),
    );
    out
}

#[tokio::test]
async fn after_its_warm_up_a_service_s_spike_comes_from_the_live_engine_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DetectConfig::default();
    let mut stores = open(dir.path());
    for m in 0..180 {
        let errors = (m == 150).then_some(20);
        stores.queue.append(&minute(m, errors)).await.unwrap();
    }
    // Passes every five minutes, as a scheduler would run them late; the
    // process restarts once (a Lambda cold start: nothing but the store).
    let mut now = t0() + Duration::minutes(60);
    while now <= t0() + Duration::minutes(180) {
        if now == t0() + Duration::minutes(120) {
            drop(stores);
            stores = open(dir.path());
        }
        run_pass(&stores, &cfg, "d1", now).await.unwrap();
        if now < t0() + Duration::minutes(150) {
            assert_eq!(anomalies(&stores).await, Vec::new(), "at {now}");
        }
        now += Duration::minutes(5);
    }
    let found = anomalies(&stores).await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let a = &found[0];
    assert_eq!(a.kind, AnomalyKind::Spike);
    assert_eq!(a.window_start, t0() + Duration::minutes(150));
    let m = a.measure.clone().expect("a measure");
    assert!(
        matches!(m.metric, Metric::ErrorCount | Metric::ErrorRatio),
        "{m:?}"
    );
    assert_eq!(m.bucket_seconds, 60);
    // The short-history spike detector's baseline is at most 30 minutes;
    // the live engine learnt from the service's whole warm-up and more.
    assert!(
        m.baseline_end - m.baseline_start >= Duration::minutes(100),
        "{m:?}"
    );
    assert!(a.observed > m.threshold, "{a:#?}");
    let saved = stores
        .detector_states
        .detector_states(&["api".to_owned()])
        .await
        .unwrap();
    assert_eq!(saved.len(), 1);
}

#[tokio::test]
async fn a_pass_over_more_services_than_it_decodes_at_once_saves_every_service_s_state() {
    // More than two of the pass's chunks of live states (256 services).
    let names: Vec<String> = (0..600).map(|s| format!("svc-{s:03}")).collect();
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    let events: Vec<LogEvent> = (0..3)
        .flat_map(|m| {
            names.iter().map(move |name| {
                let at = t0() + Duration::minutes(m) + Duration::seconds(5);
                LogEvent::new(at, name.as_str(), Level::Info, "tick")
            })
        })
        .collect();
    stores.queue.append(&events).await.unwrap();
    let report = run_pass(
        &stores,
        &DetectConfig::default(),
        "d1",
        t0() + Duration::minutes(3),
    )
    .await
    .unwrap();
    assert_eq!(report.services_checked, names.len());
    let saved = stores
        .detector_states
        .detector_states(&names)
        .await
        .unwrap();
    assert_eq!(saved.len(), names.len());
}

#[tokio::test]
async fn a_pass_with_no_new_minute_judges_from_the_summary_without_reading_the_detectors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DetectConfig::default();
    let stores = open(dir.path());
    for m in 0..156 {
        let errors = (m == 150).then_some(20);
        stores.queue.append(&minute(m, errors)).await.unwrap();
    }
    let mut now = t0() + Duration::minutes(60);
    while now <= t0() + Duration::minutes(155) {
        run_pass(&stores, &cfg, "d1", now).await.unwrap();
        now += Duration::minutes(5);
    }
    let now = t0() + Duration::minutes(156) + Duration::seconds(30);
    run_pass(&stores, &cfg, "d1", now).await.unwrap();
    let spiked = anomalies(&stores).await;
    assert_eq!(spiked.len(), 1, "{spiked:#?}");
    assert_eq!(spiked[0].kind, AnomalyKind::Spike);
    let api = ["api".to_owned()];
    let mut saved = stores.detector_states.detector_states(&api).await.unwrap();
    assert_eq!(saved.len(), 1);
    let summary = LiveSummary::from_bytes(&saved[0].summary).unwrap();
    assert!(summary.warmed_up());

    // Detectors no pass can read: a pass with no minute to push never
    // reads them, judges from the summary and saves nothing.
    saved[0].detectors = vec![9, 9, 9];
    stores
        .detector_states
        .save_detector_states(&saved)
        .await
        .unwrap();
    run_pass(&stores, &cfg, "d1", now + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(anomalies(&stores).await, spiked);
    let after = stores.detector_states.detector_states(&api).await.unwrap();
    assert_eq!(after, saved);

    // A new minute: the pass reads the detectors, cannot decode them, and
    // the service warms up again from fresh ones.
    stores.queue.append(&minute(156, None)).await.unwrap();
    stores.queue.append(&minute(157, None)).await.unwrap();
    run_pass(&stores, &cfg, "d1", now + Duration::minutes(2))
        .await
        .unwrap();
    let after = stores.detector_states.detector_states(&api).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_ne!(after[0].detectors, saved[0].detectors);
    let fresh = LiveState::from_parts(&after[0].summary, &after[0].detectors).unwrap();
    assert!(!fresh.warmed_up());
}

#[tokio::test]
async fn a_pass_advances_at_most_its_budget_of_live_states_and_the_next_passes_the_rest() {
    let names: Vec<String> = (0..30).map(|s| format!("svc-{s:02}")).collect();
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    let cfg = DetectConfig::default();
    let minute_of = |m: i64| -> Vec<LogEvent> {
        let at = t0() + Duration::minutes(m) + Duration::seconds(5);
        names
            .iter()
            .map(|name| LogEvent::new(at, name.as_str(), Level::Info, "tick"))
            .collect()
    };
    for m in 0..3 {
        stores.queue.append(&minute_of(m)).await.unwrap();
    }
    let limits = PassLimits {
        live_states: 12,
        ..PassLimits::default()
    };
    // Fresh states are not budgeted.
    let now = t0() + Duration::minutes(3);
    let report = run_pass_within(&stores, &cfg, "d1", now, limits)
        .await
        .unwrap();
    assert_eq!(report.live_deferred, 0);
    let newest = |stores: Stores, names: Vec<String>| async move {
        let mut at: Vec<Option<DateTime<Utc>>> = Vec::new();
        for s in stores
            .detector_states
            .detector_summaries(&names)
            .await
            .unwrap()
        {
            at.push(LiveSummary::from_bytes(&s.summary).unwrap().last_minute());
        }
        at
    };
    let before = newest(stores.clone(), names.clone()).await;
    assert_eq!(before.len(), 30);
    // Minute 1 ends at 10:02, after the newest data (10:02:10) less the
    // 20 s settle.
    assert!(before.iter().all(|&m| m == Some(t0())), "{before:?}");

    // Two more minutes (1 and 2) complete for every service: 12, 12, then 6
    // states advance.
    stores.queue.append(&minute_of(3)).await.unwrap();
    stores.queue.append(&minute_of(4)).await.unwrap();
    let now = t0() + Duration::minutes(5);
    let mut deferred = Vec::new();
    for _ in 0..4 {
        let report = run_pass_within(&stores, &cfg, "d1", now, limits)
            .await
            .unwrap();
        assert_eq!(report.services_checked, 30);
        deferred.push(report.live_deferred);
    }
    assert_eq!(deferred, [18, 6, 0, 0]);
    let after = newest(stores.clone(), names.clone()).await;
    assert!(
        after
            .iter()
            .all(|&m| m == Some(t0() + Duration::minutes(2))),
        "{after:?}"
    );
}
