//! Detection passes over the embedded store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};

use anomalog_core::detect::DetectConfig;
use anomalog_core::{AnomalyKind, AnomalyStatus, Level, LogEvent, Metric, Unit};
use anomalog_detect::run_pass;
use anomalog_store::{AnomalyQuery, LogQuery, Stores};
use support::open;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

fn event(at: DateTime<Utc>, service: &str, level: Level, message: &str) -> LogEvent {
    LogEvent::new(at, service, level, message)
}

async fn count_logs(stores: &Stores) -> usize {
    stores
        .logs
        .query(&LogQuery {
            limit: 1000,
            ..LogQuery::default()
        })
        .await
        .unwrap()
        .items
        .len()
}

#[tokio::test]
async fn a_pass_persists_queued_logs_and_finds_a_burst() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    let cfg = DetectConfig::default();
    let normal: Vec<LogEvent> = (0..20)
        .map(|i| event(t0() + Duration::seconds(i), "web", Level::Info, "ok"))
        .collect();
    stores.queue.append(&normal).await.unwrap();
    let burst: Vec<LogEvent> = (0..30)
        .map(|i| {
            event(
                t0() + Duration::milliseconds(i * 300),
                "api",
                Level::Error,
                "db down",
            )
        })
        .collect();
    stores.queue.append(&burst).await.unwrap();

    let now = t0() + Duration::seconds(12);
    let report = run_pass(&stores, &cfg, "d1", now).await.unwrap();
    assert_eq!(report.entries, 2);
    assert_eq!(report.inserted, 50);
    assert_eq!(report.opened, 1);
    assert_eq!(stores.queue.backlog().await.unwrap(), 0);
    assert_eq!(count_logs(&stores).await, 50);

    let anomalies = stores
        .anomalies
        .list(&AnomalyQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(anomalies.len(), 1);
    let a = &anomalies[0];
    assert_eq!(
        (a.kind, a.service.as_str(), a.status),
        (AnomalyKind::Burst, "api", AnomalyStatus::Open)
    );
    assert_eq!(a.observed, 30.0);
    // What was measured, stored as typed fields.
    let m = a.measure.as_ref().expect("a stored measure");
    assert_eq!(
        (m.metric, m.unit, m.threshold, m.bucket_seconds),
        (Metric::ErrorCount, Unit::Events, 25.0, 30)
    );
    assert_eq!(a.samples.len(), anomalog_detect::SAMPLES_PER_ANOMALY);
    assert_eq!(a.samples[0].message, "db down");

    // Running again changes nothing: same anomaly id, still one.
    let again = run_pass(&stores, &cfg, "d1", now + Duration::seconds(2))
        .await
        .unwrap();
    assert_eq!((again.entries, again.opened), (0, 0));
    let anomalies2 = stores
        .anomalies
        .list(&AnomalyQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(anomalies2.len(), 1);
    assert_eq!(anomalies2[0].id, a.id);

    // Once quiet for longer than the quiet period, the burst is resolved.
    let later = now + Duration::seconds(cfg.burst.quiet_secs + 30);
    let report = run_pass(&stores, &cfg, "d1", later).await.unwrap();
    assert_eq!(report.resolved, 1);
    let resolved = stores.anomalies.get(&a.id).await.unwrap().unwrap();
    assert_eq!(resolved.status, AnomalyStatus::Resolved);
    assert_eq!(resolved.first_seen, a.first_seen);
    assert_eq!(resolved.measure, a.measure);
}

#[tokio::test]
async fn entries_persisted_but_not_acknowledged_are_not_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<LogEvent> = (0..10)
        .map(|i| event(t0() + Duration::seconds(i), "api", Level::Warn, "w"))
        .collect();
    {
        // A pass that persisted and then crashed before its ack.
        let stores = open(dir.path());
        stores.queue.append(&events).await.unwrap();
        let claimed = stores.queue.claim("crashed", 10).await.unwrap();
        let logs: Vec<_> = claimed[0]
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| anomalog_core::StoredLog {
                pattern: None,
                id: anomalog_core::StoredLog::id_for(&claimed[0].id, i),
                event: e.clone(),
            })
            .collect();
        stores.logs.persist(&logs).await.unwrap();
    }
    let stores = open(dir.path());
    let report = run_pass(
        &stores,
        &DetectConfig::default(),
        "d2",
        t0() + Duration::seconds(20),
    )
    .await
    .unwrap();
    assert_eq!(
        (report.entries, report.inserted, report.duplicates),
        (1, 0, 10)
    );
    assert_eq!(count_logs(&stores).await, 10);
    let rows = stores
        .rollups
        .rollups(None, t0(), t0() + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.count).sum::<u64>(),
        10,
        "rollups counted once"
    );
}

#[tokio::test]
async fn a_quiet_service_gets_no_anomaly() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    let events: Vec<LogEvent> = (0..300)
        .map(|i| {
            let level = if i % 50 == 0 {
                Level::Error
            } else {
                Level::Info
            };
            event(t0() + Duration::seconds(i), "api", level, "steady")
        })
        .collect();
    stores.queue.append(&events).await.unwrap();
    let report = run_pass(
        &stores,
        &DetectConfig::default(),
        "d",
        t0() + Duration::seconds(300),
    )
    .await
    .unwrap();
    assert_eq!(report.inserted, 300);
    assert_eq!(report.anomalies_written, 0);
}

async fn all_anomalies(stores: &Stores) -> Vec<anomalog_core::Anomaly> {
    stores
        .anomalies
        .list(&AnomalyQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
}

/// `per_minute` events a minute for `service` over `[from, to)`.
fn steady(service: &str, from: DateTime<Utc>, to: DateTime<Utc>, per_minute: i64) -> Vec<LogEvent> {
    let step = Duration::milliseconds(60_000 / per_minute);
    let mut out = Vec::new();
    let mut at = from;
    while at < to {
        out.push(event(at, service, Level::Info, "ok"));
        at += step;
    }
    out
}

#[tokio::test]
async fn a_service_with_history_but_no_recent_events_is_a_drop_resolved_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    let cfg = DetectConfig::default();
    // search logged for 30 minutes and stopped; web goes on.
    let mut events = steady("search", t0(), t0() + Duration::minutes(30), 120);
    events.extend(steady("web", t0(), t0() + Duration::minutes(33), 60));
    stores.queue.append(&events).await.unwrap();
    let now = t0() + Duration::minutes(33);
    let report = run_pass(&stores, &cfg, "d", now).await.unwrap();
    assert_eq!(report.opened, 1, "{report:?}");
    let all = all_anomalies(&stores).await;
    assert_eq!(all.len(), 1);
    let drop = &all[0];
    assert_eq!(
        (drop.kind, drop.service.as_str()),
        (AnomalyKind::Drop, "search")
    );
    assert_eq!((drop.observed, drop.expected), (0.0, 120.0));
    let m = drop.measure.as_ref().expect("a stored measure");
    // Half the expected events: lower than 4 standard deviations below.
    assert_eq!(
        (m.metric, m.unit, m.threshold),
        (Metric::EventRate, Unit::Events, 60.0)
    );
    assert!(m.baseline_start < m.baseline_end && m.baseline_end <= drop.window_start);
    assert_eq!(drop.samples.len(), anomalog_detect::SAMPLES_PER_ANOMALY);
    assert!(
        drop.samples
            .iter()
            .all(|s| s.ts < t0() + Duration::minutes(30))
    );

    // search comes back: the drop is resolved once quiet for 2 minutes.
    let back = steady("search", now, now + Duration::minutes(4), 120);
    let web = steady("web", now, now + Duration::minutes(4), 60);
    stores.queue.append(&back).await.unwrap();
    stores.queue.append(&web).await.unwrap();
    let later = now + Duration::minutes(4);
    let report = run_pass(&stores, &cfg, "d", later).await.unwrap();
    assert_eq!(report.resolved, 1, "{report:?}");
    let resolved = stores.anomalies.get(&drop.id).await.unwrap().unwrap();
    assert_eq!(resolved.status, AnomalyStatus::Resolved);
}

#[tokio::test]
async fn per_service_settings_apply_to_their_service_only() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    let cfg: DetectConfig = toml::from_str("[services.payments.burst]\nmin_errors = 50\n").unwrap();
    cfg.validate().unwrap();
    for service in ["payments", "api"] {
        let burst: Vec<LogEvent> = (0..30)
            .map(|i| {
                event(
                    t0() + Duration::milliseconds(i * 300),
                    service,
                    Level::Error,
                    "db down",
                )
            })
            .collect();
        stores.queue.append(&burst).await.unwrap();
    }
    let report = run_pass(&stores, &cfg, "d", t0() + Duration::seconds(12))
        .await
        .unwrap();
    assert_eq!(report.opened, 1);
    let all = all_anomalies(&stores).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].service, "api", "30 errors are below payments' 50");
}
