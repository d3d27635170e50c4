//! A scriptable ingest server on 127.0.0.1:0 for the agent's tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anomalog_agent::{Shipper, ShipperConfig};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub events: Vec<Value>,
}

type Responder = dyn Fn(usize, &[Value]) -> Response + Send + Sync;

struct Inner {
    seen: Mutex<Vec<Seen>>,
    respond: Box<Responder>,
}

/// A running test server; dropped with the test's runtime.
pub struct TestServer {
    pub base_url: String,
    inner: Arc<Inner>,
}

impl TestServer {
    /// Starts a server answering each `POST /ingest` with `respond(request_index, events)`.
    pub async fn start(
        respond: impl Fn(usize, &[Value]) -> Response + Send + Sync + 'static,
    ) -> TestServer {
        let inner = Arc::new(Inner {
            seen: Mutex::new(Vec::new()),
            respond: Box::new(respond),
        });
        let app = Router::new()
            .route("/ingest", post(ingest))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        TestServer {
            base_url: format!("http://{addr}"),
            inner,
        }
    }

    /// A server accepting everything.
    pub async fn accepting() -> TestServer {
        TestServer::start(|_, events| accepted(events.len())).await
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().clone()
    }

    /// Sizes of the requests seen so far, in order.
    pub fn sizes(&self) -> Vec<usize> {
        self.seen().iter().map(|s| s.events.len()).collect()
    }

    /// A shipper for this server with fast backoff.
    pub fn shipper(&self, max_retries: u32) -> Shipper {
        shipper_for(&self.base_url, max_retries)
    }
}

/// A shipper with fast backoff for `base_url`.
pub fn shipper_for(base_url: &str, max_retries: u32) -> Shipper {
    let mut config = ShipperConfig::from_base_url(base_url);
    config.max_retries = max_retries;
    config.backoff_base = Duration::from_millis(5);
    config.backoff_cap = Duration::from_millis(20);
    config.timeout = Duration::from_secs(5);
    Shipper::new(config).unwrap()
}

async fn ingest(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let events: Vec<Value> = serde_json::from_slice(&body).unwrap_or_default();
    let index = {
        let mut seen = inner.seen.lock().unwrap();
        seen.push(Seen {
            authorization: header_text(&headers, header::AUTHORIZATION),
            content_type: header_text(&headers, header::CONTENT_TYPE),
            events: events.clone(),
        });
        seen.len() - 1
    };
    (inner.respond)(index, &events)
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A 202 receipt accepting `n` events.
pub fn accepted(n: usize) -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"accepted": n, "rejected": 0, "errors": []})),
    )
        .into_response()
}

/// An error response in the ingest format.
pub fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"error": message}))).into_response()
}

/// An error response with a `Retry-After` header, in seconds.
pub fn retry_after(status: StatusCode, seconds: u64) -> Response {
    (
        status,
        [(header::RETRY_AFTER, seconds.to_string())],
        axum::Json(json!({"error": "busy"})),
    )
        .into_response()
}

/// `n` small events numbered by their `message`.
pub fn numbered_events(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "ts": "2025-01-01T00:00:00.000Z",
                "service": "test",
                "level": "INFO",
                "message": format!("event {i}"),
                "host": "h"
            })
        })
        .collect()
}
