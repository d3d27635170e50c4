//! Helpers shared by the alert integration tests: a local HTTP endpoint
//! standing in for Discord, Slack or a webhook receiver, and a sample anomaly.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // not every test uses every helper

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::post;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;

use anomalog_core::{Anomaly, AnomalyKind, AnomalyStatus, Level, LogSample, Severity};
use anomalog_store::Stores;

/// A local HTTP endpoint that records what it receives.
#[derive(Clone, Default)]
pub struct Endpoint {
    pub received: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    /// Status codes to answer with, in order; 200 once exhausted.
    pub replies: Arc<Mutex<Vec<u16>>>,
}

impl Endpoint {
    pub fn replying(replies: Vec<u16>) -> Endpoint {
        Endpoint {
            replies: Arc::new(Mutex::new(replies)),
            ..Endpoint::default()
        }
    }

    pub fn bodies(&self) -> Vec<Value> {
        let received = self.received.lock().unwrap();
        received.iter().map(|(_, body)| body.clone()).collect()
    }

    /// Starts serving at `path` (which holds the URL's secret part).
    pub async fn start(&self, path: &str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route(path, post(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}{path}")
    }
}

async fn receive(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, &'static str) {
    let body: Value = serde_json::from_slice(&body).unwrap();
    endpoint.received.lock().unwrap().push((headers, body));
    let code = {
        let mut replies = endpoint.replies.lock().unwrap();
        if replies.is_empty() {
            200
        } else {
            replies.remove(0)
        }
    };
    let mut headers = HeaderMap::new();
    if code == 429 {
        headers.insert("retry-after", HeaderValue::from_static("30"));
    }
    (StatusCode::from_u16(code).unwrap(), headers, "ok")
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

pub fn anomaly(service: &str, status: AnomalyStatus) -> Anomaly {
    let start = now() - Duration::seconds(40);
    Anomaly {
        id: Anomaly::id_for(AnomalyKind::Burst, service, start),
        kind: AnomalyKind::Burst,
        service: service.into(),
        window_start: start,
        window_end: now() - Duration::seconds(10),
        observed: 120.0,
        expected: 3.5,
        stddev: 0.0,
        score: 0.83,
        severity: Severity::High,
        status,
        first_seen: now(),
        last_seen: now(),
        message: "120 errors within the burst window (threshold 25)".into(),
        samples: vec![LogSample {
            ts: now(),
            level: Level::Error,
            message: "connection <refused> & retried".into(),
        }],
        measure: None,
        explanation: Vec::new(),
    }
}

/// Stores `anomaly(service, Open)` and returns it.
pub async fn open(stores: &Stores, service: &str) -> Anomaly {
    let open = anomaly(service, AnomalyStatus::Open);
    stores
        .anomalies
        .upsert(std::slice::from_ref(&open))
        .await
        .unwrap();
    open
}
