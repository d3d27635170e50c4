//! Passes over unchanged data change nothing: once an anomaly is open, the
//! next passes neither resolve nor reopen it and leave its incident as it is.
//! (The demo once logged "opened 4 resolved 4" on every pass: each pass
//! resolved the open `new_pattern` anomalies for want of a rollup finding,
//! then the pattern pass reopened them.) Embedded store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};

use anomalog_core::detect::DetectConfig;
use anomalog_core::{AnomalyKind, AnomalyStatus, Level, LogEvent};
use anomalog_detect::run_pass;
use anomalog_store::IncidentQuery;
use support::{anomalies, new_error_burst, open};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

/// Minute `m` of ordinary "shop" traffic: 15 lines of three kinds.
fn minute(m: i64) -> Vec<LogEvent> {
    (0..15)
        .map(|i| {
            let at = t0() + Duration::minutes(m) + Duration::seconds(i * 4);
            let k = m * 100 + i;
            let (level, message) = match i % 3 {
                0 => (Level::Info, format!("user u{k} logged in")),
                1 => (
                    Level::Info,
                    format!("GET /api/orders/{k} 200 in {} ms", k % 90),
                ),
                _ => (Level::Warn, format!("cache miss for key session:{k:x}")),
            };
            LogEvent::new(at, "shop", level, message)
        })
        .collect()
}

#[tokio::test]
async fn passes_over_unchanged_data_neither_resolve_nor_reopen_anything() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    let cfg = DetectConfig::default();
    for m in 0..20 {
        stores.queue.append(&minute(m)).await.unwrap();
    }
    run_pass(&stores, &cfg, "c", t0() + Duration::minutes(20))
        .await
        .unwrap();
    // A never-seen error, 30 times in 9 s: a burst and a new pattern.
    stores
        .queue
        .append(&new_error_burst(t0() + Duration::minutes(20)))
        .await
        .unwrap();
    let first = run_pass(
        &stores,
        &cfg,
        "c",
        t0() + Duration::minutes(20) + Duration::seconds(12),
    )
    .await
    .unwrap();
    assert!(
        first.opened >= 2,
        "a burst and a new pattern open: {first:?}"
    );
    let opened = anomalies(&stores).await;
    let kinds: Vec<AnomalyKind> = opened.iter().map(|a| a.kind).collect();
    assert!(kinds.contains(&AnomalyKind::NewPattern), "{opened:#?}");
    assert!(kinds.contains(&AnomalyKind::Burst), "{opened:#?}");
    assert!(opened.iter().all(|a| a.status == AnomalyStatus::Open));
    let incidents = || async {
        stores
            .incidents
            .list_incidents(&IncidentQuery {
                limit: 100,
                ..IncidentQuery::default()
            })
            .await
            .unwrap()
    };
    let grouped = incidents().await;
    assert_eq!(grouped.len(), 1, "{grouped:#?}");

    // Four more passes, two seconds apart, with no new data: well within
    // every quiet period, so nothing may open, resolve or regroup.
    for s in [14, 16, 18, 20] {
        let report = run_pass(
            &stores,
            &cfg,
            "c",
            t0() + Duration::minutes(20) + Duration::seconds(s),
        )
        .await
        .unwrap();
        assert_eq!(
            (report.opened, report.resolved, report.incidents_written),
            (0, 0, 0),
            "pass at +{s} s changed what the data did not: {report:?}"
        );
        let now = anomalies(&stores).await;
        for a in &opened {
            let same = now.iter().find(|n| n.id == a.id).expect("still stored");
            assert_eq!(same.status, AnomalyStatus::Open, "{} at +{s} s", a.id);
        }
        assert_eq!(incidents().await, grouped, "the incident at +{s} s");
    }
}
