//! `POST /ingest` through the real router and the embedded store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::Write;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use anomalog_core::Level;
use anomalog_core::config::IngestConfig;
use anomalog_ingest::{IngestState, router};
use anomalog_store::{EmbeddedStore, EventQueue};

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<EmbeddedStore>,
    app: axum::Router,
}

fn harness(config: IngestConfig) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let app = router(IngestState::new(store.clone(), config));
    Harness {
        _dir: dir,
        store,
        app,
    }
}

async fn post(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = to_bytes(res.into_body(), 1 << 20).await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

fn request(content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post("/ingest")
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

async fn queued(store: &EmbeddedStore) -> Vec<anomalog_core::LogEvent> {
    store
        .claim("test", 100)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|e| e.events)
        .collect()
}

#[tokio::test]
async fn json_array_accepts_good_records_and_rejects_bad_ones_by_index() {
    let h = harness(IngestConfig::default());
    let body = json!([
        {"ts": "2026-01-02T03:04:05Z", "service": "api", "level": "error", "message": "db down"},
        {"service": "api", "level": "info"},
        {"ts": "2026-01-02T03:04:06Z", "service": "web", "level": "warning", "message": "slow"}
    ]);
    let (status, _, receipt) = post(&h.app, request("application/json", body.to_string())).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(receipt["accepted"], 2);
    assert_eq!(receipt["rejected"], 1);
    assert_eq!(receipt["errors"][0]["index"], 1);
    assert!(
        receipt["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("message")
    );

    let events = queued(&h.store).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].level, Level::Error);
    assert_eq!(events[1].level, Level::Warn);
    assert_eq!(events[1].service, "web");
}

#[tokio::test]
async fn ndjson_and_text_bodies_take_the_service_from_the_query_or_header() {
    let h = harness(IngestConfig::default());
    let ndjson = "{\"level\":\"info\",\"message\":\"a\"}\nnot json\n{\"level\":\"error\",\"message\":\"b\"}\n";
    let req = Request::post("/ingest?service=billing")
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(ndjson))
        .unwrap();
    let (status, _, receipt) = post(&h.app, req).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        (receipt["accepted"].as_u64(), receipt["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(receipt["errors"][0]["index"], 1);

    let text = "2026-01-02T03:04:05Z ERROR payment failed\nplain line\n";
    let req = Request::post("/ingest")
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header("X-Anomalog-Service", "payments")
        .body(Body::from(text))
        .unwrap();
    let (status, _, receipt) = post(&h.app, req).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{receipt}");
    assert_eq!(receipt["accepted"], 2);

    let events = queued(&h.store).await;
    assert_eq!(events.len(), 4);
    assert!(events[..2].iter().all(|e| e.service == "billing"));
    assert_eq!(events[2].service, "payments");
    assert_eq!(events[2].level, Level::Error);
    assert_eq!(events[2].message, "payment failed");
    assert_eq!(events[3].level, Level::Info);
}

#[tokio::test]
async fn gzip_and_zstd_bodies_are_decoded() {
    let h = harness(IngestConfig::default());
    let body = json!([{"service": "api", "message": "compressed"}]).to_string();

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).unwrap();
    let req = Request::post("/ingest")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(gz.finish().unwrap()))
        .unwrap();
    let (status, _, _) = post(&h.app, req).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let zst = zstd::encode_all(body.as_bytes(), 3).unwrap();
    let req = Request::post("/ingest")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "zstd")
        .body(Body::from(zst))
        .unwrap();
    let (status, _, _) = post(&h.app, req).await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let req = Request::post("/ingest")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from("definitely not gzip"))
        .unwrap();
    let (status, _, err) = post(&h.app, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"].as_str().unwrap().contains("decompress"));

    let events = queued(&h.store).await;
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.message == "compressed"));
}

#[tokio::test]
async fn api_keys_are_required_when_configured() {
    let h = harness(IngestConfig {
        api_keys: vec!["s3cret".into()],
        ..IngestConfig::default()
    });
    let body = json!({"service": "api", "message": "hi"}).to_string();
    let (status, headers, err) = post(&h.app, request("application/json", body.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    assert!(err["error"].as_str().unwrap().contains("API key"));

    let wrong = Request::post("/ingest")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, "Bearer s3creT")
        .body(Body::from(body.clone()))
        .unwrap();
    assert_eq!(post(&h.app, wrong).await.0, StatusCode::UNAUTHORIZED);

    let right = Request::post("/ingest")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, "Bearer s3cret")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(post(&h.app, right).await.0, StatusCode::ACCEPTED);
    assert_eq!(
        queued(&h.store).await.len(),
        1,
        "only the authorised batch was queued"
    );
}

#[tokio::test]
async fn oversized_bodies_and_batches_get_413_and_queue_nothing() {
    let h = harness(IngestConfig {
        max_body_bytes: 1024,
        max_decoded_bytes: 4096,
        max_events: 3,
        ..IngestConfig::default()
    });
    let big = json!([{"service": "api", "message": "x".repeat(2000)}]).to_string();
    let (status, _, err) = post(&h.app, request("application/json", big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(err["error"].as_str().unwrap().contains("1024"));

    // Small on the wire, too large once decompressed.
    let bomb = json!([{"service": "api", "message": "y".repeat(10_000)}]).to_string();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bomb.as_bytes()).unwrap();
    let req = Request::post("/ingest")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(gz.finish().unwrap()))
        .unwrap();
    assert_eq!(post(&h.app, req).await.0, StatusCode::PAYLOAD_TOO_LARGE);

    let many: Vec<Value> = (0..4)
        .map(|i| json!({"service": "api", "message": i.to_string()}))
        .collect();
    let (status, _, err) = post(
        &h.app,
        request("application/json", Value::from(many).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        err["error"].as_str().unwrap().contains("limit of 3"),
        "{err}"
    );

    assert!(queued(&h.store).await.is_empty());
}

#[tokio::test]
async fn unsupported_media_and_encodings_get_415() {
    let h = harness(IngestConfig::default());
    let (status, _, err) = post(&h.app, request("application/x-www-form-urlencoded", "a=b")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("application/x-ndjson")
    );

    let req = Request::post("/ingest")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "br")
        .body(Body::from("{}"))
        .unwrap();
    let (status, _, err) = post(&h.app, req).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(err["error"].as_str().unwrap().contains("'br'"));
}

#[tokio::test]
async fn unusable_bodies_get_400_with_reasons() {
    let h = harness(IngestConfig::default());
    let (status, _, err) = post(&h.app, request("application/json", "[{\"service\": ")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"].as_str().unwrap().contains("JSON"));

    let (status, _, err) = post(&h.app, request("application/json", "")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"].as_str().unwrap().contains("empty"));

    let (status, _, err) = post(
        &h.app,
        request(
            "application/json",
            json!([{"message": "no service"}, 7]).to_string(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["accepted"], 0);
    assert_eq!(err["rejected"], 2);
    assert!(
        err["errors"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("service")
    );
    assert_eq!(err["errors"][1]["index"], 1);

    assert!(queued(&h.store).await.is_empty());
}

#[tokio::test]
async fn a_full_queue_gets_503_with_retry_after_and_stores_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open_bounded(dir.path(), 2).unwrap());
    let app = router(IngestState::new(store.clone(), IngestConfig::default()));
    let batch = || {
        request(
            "application/json",
            json!([{"service": "api", "message": "m"}]).to_string(),
        )
    };
    assert_eq!(post(&app, batch()).await.0, StatusCode::ACCEPTED);
    assert_eq!(post(&app, batch()).await.0, StatusCode::ACCEPTED);

    let (status, headers, err) = post(&app, batch()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers[header::RETRY_AFTER], "5");
    assert!(
        err["error"].as_str().unwrap().contains("queue full"),
        "{err}"
    );
    assert_eq!(
        store.backlog().await.unwrap(),
        2,
        "the refused batch was not queued"
    );

    // Once detection catches up, batches are accepted again.
    let entries = store.claim("detect", 10).await.unwrap();
    let ids: Vec<String> = entries.into_iter().map(|e| e.id).collect();
    store.ack(&ids).await.unwrap();
    assert_eq!(post(&app, batch()).await.0, StatusCode::ACCEPTED);
}

/// `ingest.decode_threads` sets the requests decoded at once: 0 for one per
/// core, fewer when asked, never more than the cores.
#[test]
fn decode_threads_set_the_cpu_slots() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let cores = std::thread::available_parallelism().unwrap().get();
    for (decode_threads, slots) in [(0, cores), (1, 1), (cores + 3, cores)] {
        let config = IngestConfig {
            decode_threads,
            ..IngestConfig::default()
        };
        let state = IngestState::new(store.clone(), config);
        assert_eq!(state.cpu.available_permits(), slots, "{decode_threads}");
    }
}
