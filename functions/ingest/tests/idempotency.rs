//! `Idempotency-Key` on `POST /ingest`, through the real router and the
//! embedded store: a resent batch is answered 202 again and queued once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

use anomalog_core::config::IngestConfig;
use anomalog_ingest::{IngestState, router};
use anomalog_store::{EmbeddedStore, EventQueue};

const BODY: &str = "{\"message\":\"one\",\"service\":\"api\"}\n{\"message\":\"two\",\"service\":\"api\"}\nnot json{\n";

fn app(config: IngestConfig) -> (tempfile::TempDir, Arc<EmbeddedStore>, axum::Router) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let app = router(IngestState::new(store.clone(), config));
    (dir, store, app)
}

async fn send(app: &axum::Router, key: Option<&str>, bearer: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::post("/ingest").header(header::CONTENT_TYPE, "application/x-ndjson");
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    if let Some(bearer) = bearer {
        req = req.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(BODY)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn queued_events(store: &EmbeddedStore) -> usize {
    store
        .claim("test", 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.events.len())
        .sum()
}

#[tokio::test]
async fn a_resent_batch_with_the_same_key_gets_the_same_202_and_is_queued_once() {
    let (_dir, store, app) = app(IngestConfig::default());
    let (first_status, first) = send(&app, Some("host-1:inode-7:0-96"), None).await;
    assert_eq!(first_status, StatusCode::ACCEPTED, "{first}");
    assert_eq!(first["accepted"], 2);
    assert_eq!(first["rejected"], 1);
    let (again_status, again) = send(&app, Some("host-1:inode-7:0-96"), None).await;
    assert_eq!(again_status, StatusCode::ACCEPTED);
    assert_eq!(
        again, first,
        "the resend is answered with the original result"
    );
    assert_eq!(queued_events(&store).await, 2, "queued once");
}

#[tokio::test]
async fn other_keys_and_requests_without_a_key_are_queued_each_time() {
    let (_dir, store, app) = app(IngestConfig::default());
    for key in [Some("a"), Some("b"), None, None] {
        let (status, body) = send(&app, key, None).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    assert_eq!(queued_events(&store).await, 8);
}

#[tokio::test]
async fn the_same_key_under_another_api_key_is_another_batch() {
    let config = IngestConfig {
        api_keys: vec!["key-one".into(), "key-two".into()],
        ..IngestConfig::default()
    };
    let (_dir, store, app) = app(config);
    for bearer in ["key-one", "key-two", "key-one"] {
        let (status, body) = send(&app, Some("same"), Some(bearer)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    assert_eq!(queued_events(&store).await, 4);
}

#[tokio::test]
async fn a_malformed_key_gets_400_with_a_reason_and_queues_nothing() {
    let (_dir, store, app) = app(IngestConfig::default());
    let (status, body) = send(&app, Some("has space"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().contains("Idempotency-Key"),
        "{body}"
    );
    assert_eq!(queued_events(&store).await, 0);
}
