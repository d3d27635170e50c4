//! The agent always ships to `POST /ingest`, the one endpoint that honours
//! `Idempotency-Key`, and every request carries a key: one per batch, and the
//! halves of a batch split after a 413 carry the batch's key plus `.0` / `.1`.
//! A recording server on 127.0.0.1:0 sees every request the real
//! `anomalog-agent` binary makes, whatever its path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use server::{Agent, agent_config, assert_exactly_once, numbered};

/// The recorder answers 413 to requests of more events than this.
const MAX_EVENTS: usize = 150;
const LINES: usize = 2000;

#[derive(Debug, Clone)]
struct Request {
    path: String,
    key: Option<String>,
    status: StatusCode,
    messages: Vec<String>,
}

type Log = Arc<Mutex<Vec<Request>>>;

async fn record(State(log): State<Log>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let decoded = match text("content-encoding").as_deref() {
        Some("zstd") => zstd::decode_all(&body[..]).unwrap(),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .unwrap();
            out
        }
        _ => body.to_vec(),
    };
    let events: Vec<Value> = serde_json::from_slice(&decoded).unwrap_or_default();
    let status = if uri.path() != "/ingest" {
        StatusCode::NOT_FOUND
    } else if events.len() > MAX_EVENTS {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::ACCEPTED
    };
    log.lock().unwrap().push(Request {
        path: uri.path().to_owned(),
        key: text("idempotency-key"),
        status,
        messages: events
            .iter()
            .filter_map(|e| e["message"].as_str().map(str::to_owned))
            .collect(),
    });
    let answer = if status == StatusCode::ACCEPTED {
        json!({"accepted": events.len(), "rejected": 0, "errors": []})
    } else {
        json!({"error": "refused by the recorder"})
    };
    (status, axum::Json(answer)).into_response()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_goes_to_ingest_with_a_key_per_batch() {
    let log: Log = Arc::default();
    let app = Router::new().fallback(record).with_state(log.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let mut file = std::fs::File::create(&path).unwrap();
    for i in 0..LINES {
        writeln!(file, "{}", numbered(i)).unwrap();
    }
    drop(file);
    let config = agent_config(dir.path(), &base, "keys", &[&path], "");
    let agent = Agent::start(&config);
    let deadline = Instant::now() + Duration::from_secs(30);
    let accepted = || -> Vec<String> {
        log.lock()
            .unwrap()
            .iter()
            .filter(|r| r.status == StatusCode::ACCEPTED)
            .flat_map(|r| r.messages.clone())
            .collect()
    };
    while accepted().len() < LINES {
        assert!(
            Instant::now() < deadline,
            "only {} of {LINES} lines arrived",
            accepted().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent.terminate();
    assert_exactly_once(&accepted(), LINES);

    let requests = log.lock().unwrap().clone();
    let mut keys = HashSet::new();
    let mut statuses: HashMap<String, StatusCode> = HashMap::new();
    for r in &requests {
        assert_eq!(r.path, "/ingest", "the agent posted elsewhere: {r:?}");
        let key = r.key.clone().expect("a request without Idempotency-Key");
        assert!(!key.is_empty() && key.len() <= 256, "bad key {key:?}");
        if r.status == StatusCode::ACCEPTED {
            assert!(keys.insert(key.clone()), "two accepted batches share {key}");
        }
        statuses.insert(key, r.status);
    }
    let split: Vec<&String> = statuses
        .iter()
        .filter(|(_, s)| **s == StatusCode::PAYLOAD_TOO_LARGE)
        .map(|(k, _)| k)
        .collect();
    assert!(
        !split.is_empty(),
        "batches of up to 500 events were never refused: the test split nothing"
    );
    for key in split {
        for half in [format!("{key}.0"), format!("{key}.1")] {
            assert!(
                statuses.contains_key(&half),
                "the half {half} of a refused batch was never sent"
            );
        }
    }
}
