//! Detection passes group their anomalies into incidents.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use anomalog_core::detect::DetectConfig;
use anomalog_core::{AnomalyStatus, Level, LogEvent};
use anomalog_detect::run_pass;
use anomalog_store::{EmbeddedStore, IncidentQuery, Stores};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

fn errors(service: &str, from_secs: i64, message: &str) -> Vec<LogEvent> {
    (0..30)
        .map(|i| {
            LogEvent::new(
                t0() + Duration::seconds(from_secs) + Duration::milliseconds(i * 300),
                service,
                Level::Error,
                message,
            )
        })
        .collect()
}

async fn incidents(stores: &Stores) -> Vec<anomalog_core::incident::Incident> {
    stores
        .incidents
        .list_incidents(&IncidentQuery {
            limit: 10,
            ..IncidentQuery::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_caller_failing_on_its_dependency_joins_the_dependencys_incident() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let cfg = DetectConfig::default();

    stores
        .queue
        .append(&errors("payments", 0, "card processor timeout"))
        .await
        .unwrap();
    let first = run_pass(&stores, &cfg, "d1", t0() + Duration::seconds(12))
        .await
        .unwrap();
    assert_eq!((first.opened, first.incidents_written), (1, 1));
    let opened = incidents(&stores).await;
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].services, vec!["payments"]);

    stores
        .queue
        .append(&errors("checkout", 20, "payments returned 503"))
        .await
        .unwrap();
    let second = run_pass(&stores, &cfg, "d1", t0() + Duration::seconds(32))
        .await
        .unwrap();
    assert_eq!((second.opened, second.incidents_written), (1, 1));
    let joined = incidents(&stores).await;
    assert_eq!(joined.len(), 1, "{joined:#?}");
    assert_eq!(joined[0].id, opened[0].id);
    assert_eq!(joined[0].services, vec!["checkout", "payments"]);
    assert_eq!(joined[0].anomaly_ids.len(), 2);
    assert_eq!(joined[0].root.service, "payments");
    assert_eq!(joined[0].status, AnomalyStatus::Open);

    // Nothing new: nothing rewritten.
    let idle = run_pass(&stores, &cfg, "d1", t0() + Duration::seconds(34))
        .await
        .unwrap();
    assert_eq!(idle.incidents_written, 0);

    let later = t0() + Duration::seconds(32 + cfg.burst.quiet_secs + 30);
    let last = run_pass(&stores, &cfg, "d1", later).await.unwrap();
    assert_eq!(last.resolved, 2);
    let done = incidents(&stores).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].id, opened[0].id);
    assert_eq!(done[0].status, AnomalyStatus::Resolved);
    assert!(done[0].resolved_at.is_some());
}
