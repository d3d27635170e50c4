//! `/api/incidents` through the real router over the embedded store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;
use tower::ServiceExt;

use anomalog_api::{ApiState, router};
use anomalog_core::incident::{IncidentConfig, group};
use anomalog_core::{Anomaly, AnomalyKind, AnomalyStatus, Level, LogSample, Severity};
use anomalog_store::{EmbeddedStore, Stores};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

fn anomaly(service: &str, ago: i64, status: AnomalyStatus, line: &str) -> Anomaly {
    let start = now() - Duration::seconds(ago);
    Anomaly {
        id: Anomaly::id_for(AnomalyKind::Burst, service, start),
        kind: AnomalyKind::Burst,
        service: service.into(),
        window_start: start,
        window_end: start + Duration::seconds(30),
        observed: 30.0,
        expected: 1.0,
        stddev: 1.0,
        score: 0.7,
        severity: Severity::High,
        status,
        first_seen: start,
        last_seen: start,
        message: "30 errors".into(),
        samples: vec![LogSample {
            ts: start,
            level: Level::Error,
            message: line.into(),
        }],
        measure: None,
        explanation: Vec::new(),
    }
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap())
}

async fn app() -> (tempfile::TempDir, axum::Router, Vec<Anomaly>) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let anomalies = vec![
        anomaly(
            "payments",
            120,
            AnomalyStatus::Open,
            "card processor timeout",
        ),
        anomaly("checkout", 90, AnomalyStatus::Open, "payments returned 503"),
        anomaly("search", 7200, AnomalyStatus::Resolved, "index missing"),
    ];
    stores.anomalies.upsert(&anomalies).await.unwrap();
    let incidents = group(&anomalies, &IncidentConfig::default());
    stores.incidents.upsert_incidents(&incidents).await.unwrap();
    let app = router(ApiState::with_clock(stores, Arc::new(now)));
    (dir, app, anomalies)
}

#[tokio::test]
async fn incidents_are_listed_newest_first_and_filtered() {
    let (_dir, app, _) = app().await;
    let (status, body) = get(&app, "/api/incidents").await;
    assert_eq!(status, StatusCode::OK);
    let services: Vec<&Value> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["services"])
        .collect();
    assert_eq!(
        services,
        vec![
            &serde_json::json!(["checkout", "payments"]),
            &serde_json::json!(["search"])
        ]
    );

    let (_, open) = get(&app, "/api/incidents?status=open").await;
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let (_, search) = get(&app, "/api/incidents?service=search").await;
    assert_eq!(search["items"][0]["status"], "resolved");
    let (_, recent) = get(&app, "/api/incidents?since=now-1h").await;
    assert_eq!(recent["items"].as_array().unwrap().len(), 1);
    let (_, one) = get(&app, "/api/incidents?limit=1").await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);

    let (status, bad) = get(&app, "/api/incidents?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"], "limit: must be between 1 and 1000");
    let (status, bad) = get(&app, "/api/incidents?status=done").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad["error"].as_str().unwrap().starts_with("status:"));
}

#[tokio::test]
async fn an_incident_comes_with_its_anomalies_and_root_guess() {
    let (_dir, app, anomalies) = app().await;
    let (_, list) = get(&app, "/api/incidents?status=open").await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(id, format!("inc-{}", anomalies[0].id));

    let (status, body) = get(&app, &format!("/api/incidents/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["incident"]["root"]["service"], "payments");
    assert_eq!(
        body["incident"]["root"]["reason"],
        "burst in payments started first (11:58:00 UTC, score 0.70); checkout errors name payments"
    );
    let ids: Vec<&str> = body["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![anomalies[0].id.as_str(), anomalies[1].id.as_str()]
    );
    assert_eq!(body["incident"]["timeline"].as_array().unwrap().len(), 2);

    let (status, missing) = get(&app, "/api/incidents/inc-nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"], "no incident with id 'inc-nope'");
}
