//! The HTTP server of `anomalog up`: every connection phase has a deadline
//! and the number of connections a cap, so slow or idle clients cannot hold
//! the server (axum::serve has neither).
//!
//! - headers: [`ServerLimits::header_read`] to send them (hyper's
//!   `header_read_timeout`, which also closes idle keep-alive connections);
//! - body: [`ServerLimits::body_read`] between two chunks, and the whole
//!   request within [`ServerLimits::request`] (408), so a Content-Length
//!   that lies holds a connection no longer than that;
//! - connections: at most [`ServerLimits::max_connections`]; more are closed
//!   as soon as they are accepted, before they cost a file descriptor for
//!   long (the process's limit is usually 1024).
//!
//! Every refusal without a body of its own gets a JSON one, and cross-origin
//! writes are refused unless their origin is configured ([`origin_guard`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use anomalog_core::config::ServerConfig;

/// Longest a shutdown waits for open connections to finish.
const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// The limits of [`serve`], from `[server]` in the configuration.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    pub max_connections: usize,
    pub header_read: Duration,
    pub body_read: Duration,
    pub request: Duration,
}

impl ServerLimits {
    pub fn from_config(c: &ServerConfig) -> ServerLimits {
        ServerLimits {
            max_connections: c.max_connections,
            header_read: Duration::from_secs(c.header_read_timeout_secs),
            body_read: Duration::from_secs(c.body_read_timeout_secs),
            request: Duration::from_secs(c.request_timeout_secs),
        }
    }
}

/// Wraps `app` in the layers every request goes through: panics answer 500,
/// timeouts 408, CORS for `cors_origins` only, cross-origin writes 403, and
/// a JSON body on every error response that has none.
pub fn harden(app: Router, config: &ServerConfig, limits: &ServerLimits) -> Router {
    let origins: Arc<Vec<HeaderValue>> = Arc::new(
        config
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect(),
    );
    let mut app = app;
    if !origins.is_empty() {
        // No credentials: keys travel in the Authorization header, which a
        // page must set itself, never in cookies.
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins.iter().cloned()))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::CONTENT_ENCODING,
                    header::HeaderName::from_static("x-anomalog-service"),
                ])
                .max_age(Duration::from_secs(600)),
        );
    }
    let guard_origins = origins.clone();
    // The last layer added is the outermost: the JSON bodies are added to
    // the timeout layer's 408s too.
    app.layer(axum::middleware::from_fn(move |req, next| {
        origin_guard(guard_origins.clone(), req, next)
    }))
    .layer(RequestBodyTimeoutLayer::new(limits.body_read))
    .layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        limits.request,
    ))
    .layer(axum::middleware::map_response(json_error_body))
    .layer(anomalog_api::catch_panics())
}

/// Refuses a request that changes something (any method but GET, HEAD and
/// OPTIONS) from a page of another origin, unless that origin is configured:
/// a browser sends "simple" cross-origin POSTs (`text/plain`) without asking
/// first, so CORS alone would not stop a page from injecting logs. The
/// dashboard served here is same-origin (its `Origin` names this host).
async fn origin_guard(allowed: Arc<Vec<HeaderValue>>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (false, Some(origin)) = (safe, req.headers().get(header::ORIGIN)) {
        let same_origin = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .zip(origin.to_str().ok())
            .is_some_and(|(host, origin)| {
                origin
                    .strip_prefix("http://")
                    .or_else(|| origin.strip_prefix("https://"))
                    .is_some_and(|o| o.eq_ignore_ascii_case(host))
            });
        if !same_origin && !allowed.iter().any(|a| a == origin) {
            let reason = format!(
                "cross-origin request from {} refused: add the origin to server.cors_origins \
                 (ANOMALOG_CORS_ORIGINS) to allow it",
                anomalog_api::quote(origin.to_str().unwrap_or("(not text)"))
            );
            return (
                StatusCode::FORBIDDEN,
                axum::Json(serde_json::json!({ "error": reason })),
            )
                .into_response();
        }
    }
    next.run(req).await
}

/// Gives an error response without a body (a 404 of an unknown path, a 405,
/// a 408 of the timeout layer) a JSON one naming its status.
async fn json_error_body(response: Response) -> Response {
    let status = response.status();
    let bodiless = !response.headers().contains_key(header::CONTENT_TYPE);
    if !(status.is_client_error() || status.is_server_error()) || !bodiless {
        return response;
    }
    let reason = match status {
        StatusCode::REQUEST_TIMEOUT => {
            "request timed out: the request (or its body) took too long to arrive".to_owned()
        }
        StatusCode::NOT_FOUND => "no such route".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this route".to_owned(),
        other => other
            .canonical_reason()
            .unwrap_or("request refused")
            .to_owned(),
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = serde_json::json!({ "error": reason }).to_string();
    Response::from_parts(parts, Body::from(body))
}

/// Serves `app` on `listener` until `stop` turns true, then lets open
/// requests finish (at most [`DRAIN_LIMIT`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    mut stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors, say: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics::counter!("anomalog_http_connections_refused_total").increment(1);
            tracing::debug!(%peer, "connection cap reached; closing a new connection");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
            // Ingest's rate limit keys anonymous clients by address.
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req.map(Body::new))
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let mut conn_stop = stop.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection closed");
                    }
                }
                () = stopped(&mut conn_stop) => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN_LIMIT, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN_LIMIT:?}; closing them");
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Runs `task` on a thread of its own, on a single-threaded runtime, so that
/// its CPU work (detect decoding and persisting big batches) never holds one
/// of the runtime workers that accept connections and answer requests: on a
/// 2-core machine one busy worker was half of them, and a health check could
/// wait behind a detect pass. The returned future ends when `task` does.
pub fn spawn_off_workers<F>(
    name: &str,
    task: F,
) -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            runtime.block_on(task);
            let _ = done_tx.send(());
        })?;
    Ok(async move {
        let _ = done_rx.await;
    })
}
