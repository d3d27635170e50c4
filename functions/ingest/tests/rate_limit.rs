//! The per-client ingest rate limit through the real router and the embedded
//! store: 429 with Retry-After stores nothing; buckets are per key or per IP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use anomalog_core::config::IngestConfig;
use anomalog_ingest::{IngestState, router};
use anomalog_store::{EmbeddedStore, EventQueue};

const PER_SEC: f64 = 20.0;
const BURST: u32 = 5;

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<EmbeddedStore>,
    state: IngestState,
}

fn harness(api_keys: &[&str]) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let state = IngestState::new(
        store.clone(),
        IngestConfig {
            api_keys: api_keys.iter().map(|k| (*k).to_owned()).collect(),
            rate_limit_events_per_sec: PER_SEC,
            rate_limit_burst: BURST,
            ..IngestConfig::default()
        },
    );
    Harness {
        _dir: dir,
        store,
        state,
    }
}

fn batch(n: usize, tag: &str) -> String {
    let events: Vec<Value> = (0..n)
        .map(|i| json!({"service": "api", "level": "info", "message": format!("{tag} {i}")}))
        .collect();
    Value::Array(events).to_string()
}

async fn send(
    app: &axum::Router,
    key: Option<&str>,
    body: String,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut req = Request::post("/ingest").header(header::CONTENT_TYPE, "application/json");
    if let Some(key) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap())
}

/// Messages of every queued event, in order.
async fn queued(store: &EmbeddedStore) -> Vec<String> {
    store
        .claim("test", 100)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|e| e.events)
        .map(|e| e.message)
        .collect()
}

/// The time the bucket needs to refill `n` events, with a margin for the
/// scheduler.
fn refill(n: u32) -> Duration {
    Duration::from_secs_f64(f64::from(n) / PER_SEC) + Duration::from_millis(30)
}

#[tokio::test]
async fn an_exhausted_key_gets_429_with_retry_after_and_nothing_is_stored() {
    let h = harness(&["key-a", "key-b"]);
    let app = router(h.state.clone());

    let (status, _, receipt) = send(&app, Some("key-a"), batch(5, "first")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{receipt}");

    let (status, headers, body) = send(&app, Some("key-a"), batch(2, "over")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers[header::RETRY_AFTER], "1");
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("rate limit"), "{error}");
    assert!(error.contains("nothing was stored"), "{error}");

    let stored = queued(&h.store).await;
    assert_eq!(stored.len(), 5);
    assert!(stored.iter().all(|m| m.starts_with("first")), "{stored:?}");
}

#[tokio::test]
async fn another_key_has_its_own_bucket() {
    let h = harness(&["key-a", "key-b"]);
    let app = router(h.state.clone());
    assert_eq!(
        send(&app, Some("key-a"), batch(5, "a")).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(&app, Some("key-a"), batch(1, "a")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    let (status, _, receipt) = send(&app, Some("key-b"), batch(5, "b")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(receipt["accepted"], 5);
    assert_eq!(queued(&h.store).await.len(), 10);
}

#[tokio::test]
async fn a_refilled_bucket_accepts_again() {
    let h = harness(&["key-a"]);
    let app = router(h.state.clone());
    assert_eq!(
        send(&app, Some("key-a"), batch(5, "a")).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(&app, Some("key-a"), batch(2, "b")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(refill(2)).await;
    let (status, _, receipt) = send(&app, Some("key-a"), batch(2, "c")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{receipt}");
    let stored = queued(&h.store).await;
    assert_eq!(stored.len(), 7);
    assert!(!stored.iter().any(|m| m.starts_with('b')), "{stored:?}");
}

#[tokio::test]
async fn without_keys_each_client_address_has_its_own_bucket() {
    let h = harness(&[]);
    let one: SocketAddr = "10.0.0.1:40000".parse().unwrap();
    let same_ip_other_port: SocketAddr = "10.0.0.1:40001".parse().unwrap();
    let two: SocketAddr = "10.0.0.2:40000".parse().unwrap();
    let from = |addr| router(h.state.clone()).layer(MockConnectInfo(addr));

    assert_eq!(
        send(&from(one), None, batch(5, "one")).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        send(&from(same_ip_other_port), None, batch(1, "one"))
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS,
        "the bucket is per address, not per connection"
    );
    assert_eq!(
        send(&from(two), None, batch(5, "two")).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(queued(&h.store).await.len(), 10);
}

#[tokio::test]
async fn only_parsed_events_count_and_a_batch_over_the_burst_is_413() {
    let h = harness(&["key-a"]);
    let app = router(h.state.clone());

    let (status, _, body) = send(&app, Some("key-a"), batch(6, "big")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("ingest.rate_limit_burst"),
        "{body}"
    );

    // Five good records and two malformed ones fill the bucket exactly.
    let mixed = json!([
        {"service": "api", "message": "m0"}, {"service": "api"}, {"service": "api", "message": "m1"},
        {"service": "api", "message": "m2"}, {"service": "api", "message": "m3"}, 7,
        {"service": "api", "message": "m4"}
    ]);
    let (status, _, receipt) = send(&app, Some("key-a"), mixed.to_string()).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "the 413 took no tokens: {receipt}"
    );
    assert_eq!(
        (receipt["accepted"].as_u64(), receipt["rejected"].as_u64()),
        (Some(5), Some(2))
    );
    assert_eq!(
        send(&app, Some("key-a"), batch(1, "x")).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(queued(&h.store).await.len(), 5);
}

#[tokio::test]
async fn without_a_limit_nothing_is_throttled() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let app = router(IngestState::new(store.clone(), IngestConfig::default()));
    for _ in 0..20 {
        assert_eq!(
            send(&app, None, batch(50, "x")).await.0,
            StatusCode::ACCEPTED
        );
    }
}
