//! anomalog-ingest: the `POST /ingest` endpoint.
//!
//! Accepts JSON (an object or an array), NDJSON and plain text, optionally gzip
//! or zstd compressed, authenticates bearer keys, parses every record (a bad
//! record is rejected by index, the rest accepted) and appends the batch to the
//! [`EventQueue`] as one entry. The 202 is sent only after that append returned,
//! so a 202 always means the batch is durable. An optional per-client rate
//! limit ([`rate_limit`]) answers 429 before anything is stored. Every answer is
//! counted in the [`metrics`] (names and meaning there).

pub mod auth;
pub mod budget;
pub mod bulk;
#[doc(hidden)]
pub mod fuzzing;
pub mod idempotency;
pub mod loki;
pub mod metrics;
pub mod otlp;
pub mod rate_limit;
mod record_count;
mod shipper;
pub mod syslog;

pub mod openapi;
pub mod store_status;

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::ExtensionRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use anomalog_core::config::IngestConfig;
use anomalog_core::parse::{BodyFormat, ParseDefaults, ParseError, Rejection, parse_body};
use anomalog_store::{EventQueue, StoreError};

use crate::rate_limit::{ClientKey, IngestRateLimit, Refusal};

/// Seconds a client should wait before retrying after a 503.
pub use store_status::RETRY_AFTER_SECS;

/// Longest a request waits for room in the in-flight budget before a 503.
pub const INFLIGHT_WAIT: Duration = Duration::from_secs(1);

/// Most rejection reasons returned in one response; the count is always exact.
pub const MAX_ERRORS_REPORTED: usize = 100;

/// What the ingest handler needs.
#[derive(Clone)]
pub struct IngestState {
    pub queue: Arc<dyn EventQueue>,
    pub config: Arc<IngestConfig>,
    /// The per-client rate limit, when the configuration asks for one.
    pub rate_limit: Option<Arc<IngestRateLimit>>,
    /// Bytes of requests being read, decoded and parsed, over all requests
    /// (`ingest.max_inflight_bytes` permits).
    pub inflight: Arc<tokio::sync::Semaphore>,
    /// Who may write: [`auth`].
    pub auth: Arc<auth::Authenticator>,
    /// Requests decoding or parsing at once ([`budget::cpu_slots_for`]).
    pub cpu: Arc<tokio::sync::Semaphore>,
}

impl IngestState {
    /// State for `config`, with the rate limit it configures.
    pub fn new(queue: Arc<dyn EventQueue>, config: IngestConfig) -> IngestState {
        IngestState {
            queue,
            rate_limit: IngestRateLimit::from_config(&config).map(Arc::new),
            inflight: Arc::new(tokio::sync::Semaphore::new(
                config
                    .max_inflight_bytes
                    .min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
            auth: Arc::new(auth::Authenticator::from_keys(&config.api_keys)),
            cpu: Arc::new(tokio::sync::Semaphore::new(budget::cpu_slots_for(
                config.decode_threads,
            ))),
            config: Arc::new(config),
        }
    }

    /// Also accepts the keys of `keys` (`anomalog keys`), with their scopes.
    pub fn with_key_store(mut self, keys: Arc<dyn anomalog_store::KeyStore>) -> IngestState {
        self.auth =
            Arc::new(auth::Authenticator::from_keys(&self.config.api_keys).with_store(keys));
        self
    }
}

/// The ingest routes: `POST /ingest` and the shipper protocols ([`otlp`],
/// [`loki`], [`bulk`]).
pub fn router(state: IngestState) -> Router {
    Router::new()
        .route("/ingest", post(ingest))
        .merge(shipper::routes())
        .with_state(state)
}

/// Query parameters of `POST /ingest`: defaults for records that lack them.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestParams {
    /// Service of records that carry none.
    pub service: Option<String>,
    /// Host of records that carry none.
    pub host: Option<String>,
    /// Source of records that carry none (file path, shipper name...).
    pub source: Option<String>,
}

/// Body of a 202 response.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IngestReceipt {
    pub accepted: usize,
    pub rejected: usize,
    #[schema(value_type = Vec<openapi::Rejection>)]
    pub errors: Vec<Rejection>,
    /// The batch was already queued under its `Idempotency-Key`: it is
    /// answered as before but not counted as accepted again.
    #[serde(skip)]
    pub replayed: bool,
}

/// Why a request was refused. Each maps to exactly one status code.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("missing or invalid API key: send 'Authorization: Bearer <key>'")]
    Unauthorized,
    #[error("this API key lacks the '{scope}' scope")]
    Forbidden { scope: &'static str },
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    TooManyEvents(String),
    #[error(
        "rate limit exceeded: {per_sec} events/s with bursts of {burst} per client; \
         nothing was stored, retry after {} s", retry_after_secs(*.retry_after)
    )]
    RateLimited {
        per_sec: f64,
        burst: u32,
        retry_after: Duration,
    },
    #[error("unsupported Content-Encoding '{0}' (supported: gzip, zstd, identity)")]
    UnsupportedEncoding(String),
    #[error(
        "unsupported Content-Type '{0}' (supported: application/json, application/x-ndjson, text/plain)"
    )]
    UnsupportedMediaType(String),
    #[error("cannot decompress body: {0}")]
    BadEncoding(String),
    #[error("cannot read request body: {0}")]
    BodyRead(String),
    #[error("{0}")]
    Unparsable(String),
    #[error("no usable events: all {} records were rejected", .0.len())]
    NothingUsable(Vec<Rejection>),
    #[error("log queue unavailable, nothing was stored: {0}")]
    Unavailable(String),
    #[error(
        "ingest is busy: {inflight_limit} bytes of requests are being processed; nothing was \
         stored, retry shortly"
    )]
    Busy { inflight_limit: usize },
    #[error("the request took too long to arrive: {0}")]
    BodyTimeout(String),
    #[error("internal error, nothing was stored: {0}")]
    Internal(String),
}

impl IngestError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            IngestError::Unauthorized => StatusCode::UNAUTHORIZED,
            IngestError::Forbidden { .. } => StatusCode::FORBIDDEN,
            IngestError::PayloadTooLarge { .. } | IngestError::TooManyEvents(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            IngestError::UnsupportedEncoding(_) | IngestError::UnsupportedMediaType(_) => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            IngestError::BadEncoding(_)
            | IngestError::BodyRead(_)
            | IngestError::Unparsable(_)
            | IngestError::NothingUsable(_) => StatusCode::BAD_REQUEST,
            IngestError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            IngestError::Unavailable(_) | IngestError::Busy { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            IngestError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            IngestError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for IngestError {
    /// By [`store_status::status_of`], the mapping the read API uses too.
    fn from(e: StoreError) -> Self {
        if store_status::status_of(&e) == StatusCode::SERVICE_UNAVAILABLE {
            IngestError::Unavailable(e.to_string())
        } else {
            IngestError::Internal(e.to_string())
        }
    }
}

impl IntoResponse for IngestError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = serde_json::json!({ "error": self.to_string() });
        if let IngestError::NothingUsable(errors) = &self {
            body["accepted"] = 0.into();
            body["rejected"] = errors.len().into();
            body["errors"] =
                serde_json::to_value(errors.iter().take(MAX_ERRORS_REPORTED).collect::<Vec<_>>())
                    .unwrap_or_default();
        }
        let mut response = (status, axum::Json(body)).into_response();
        match self {
            IngestError::Unavailable(_) => store_status::set_retry_after(&mut response),
            IngestError::Busy { .. } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(1));
            }
            IngestError::RateLimited { retry_after, .. } => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_secs(retry_after)),
                );
            }
            IngestError::Unauthorized => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

/// Whole seconds to announce in `Retry-After` for a wait: rounded up, at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

async fn ingest(
    State(state): State<IngestState>,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    Query(params): Query<IngestParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<IngestReceipt>), IngestError> {
    // No connection info (a Lambda event, a test without it): no peer.
    let peer = peer.ok().map(|ConnectInfo(addr)| addr.ip());
    handle(&state, params, &headers, peer, body, Utc::now()).await
}

/// The whole ingest flow, as a plain function of its inputs. `peer` is the
/// client's address, the rate-limit key when authentication is off. Every
/// outcome is counted in the [`metrics`].
pub async fn handle(
    state: &IngestState,
    params: IngestParams,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    body: Body,
    now: DateTime<Utc>,
) -> Result<(StatusCode, axum::Json<IngestReceipt>), IngestError> {
    let result = accept(state, params, headers, peer, body, now).await;
    match &result {
        Ok((status, receipt)) => {
            metrics::request(status.as_u16());
            if receipt.replayed {
                metrics::count(metrics::EVENTS_REPLAYED, receipt.accepted);
            } else {
                metrics::count(metrics::EVENTS_ACCEPTED, receipt.accepted);
            }
            metrics::count(metrics::EVENTS_REJECTED, receipt.rejected);
        }
        Err(e) => {
            metrics::request(e.status().as_u16());
            if let IngestError::NothingUsable(rejections) = e {
                metrics::count(metrics::EVENTS_REJECTED, rejections.len());
            }
        }
    }
    result
}

async fn accept(
    state: &IngestState,
    params: IngestParams,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    body: Body,
    now: DateTime<Utc>,
) -> Result<(StatusCode, axum::Json<IngestReceipt>), IngestError> {
    let config = &state.config;
    let key_index = state
        .auth
        .authorize(headers, anomalog_store::Scope::Ingest)
        .await?;
    let idempotency_key = idempotency::scoped_key(headers)?;
    // Reserve the memory this request may take before reading it.
    let Some(_reserved) = budget::reserve(&state.inflight, headers, config).await else {
        // Read the body to the end without keeping it, so the client gets
        // to read this answer instead of a reset in mid-upload.
        discard_body(body, config.max_body_bytes).await;
        return Err(IngestError::Busy {
            inflight_limit: config.max_inflight_bytes,
        });
    };
    let raw = read_body(body, config.max_body_bytes).await?;
    metrics::count(metrics::BODY_BYTES, raw.len());
    let defaults = ParseDefaults {
        service: params
            .service
            .or_else(|| header_text(headers, "x-anomalog-service")),
        host: params.host,
        source: params.source,
        received_at: now,
    };
    // Decompressing and parsing are CPU work: off the async workers, so a
    // few large bodies never stall health checks and other requests.
    let work_headers = headers.clone();
    let work_config = Arc::clone(config);
    let queue = Arc::clone(&state.queue);
    let (encoded, rejections) = budget::on_cpu(&state.cpu, config, move || {
        let batch = decode_and_parse(&work_headers, raw, &defaults, &work_config)?;
        if batch.events.is_empty() {
            return Err(IngestError::NothingUsable(batch.rejections));
        }
        // Encoded for the queue here too, and the events freed on the thread
        // that built them.
        let encoded = queue.encode(&batch.events).map_err(IngestError::from)?;
        Ok((encoded, batch.rejections))
    })
    .await??;
    let (_entry, accepted, replayed) =
        commit_keyed(state, key_index, peer, encoded, idempotency_key.as_deref()).await?;
    let rejected = rejections.len();
    let mut errors = rejections;
    errors.truncate(MAX_ERRORS_REPORTED);
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(IngestReceipt {
            accepted,
            rejected,
            errors,
            replayed,
        }),
    ))
}

/// Decodes, frames and parses a body, and checks the batch's stored size.
fn decode_and_parse(
    headers: &HeaderMap,
    raw: Bytes,
    defaults: &ParseDefaults,
    config: &IngestConfig,
) -> Result<anomalog_core::parse::ParsedBatch, IngestError> {
    let decoded = decode(headers, raw, config.max_decoded_bytes)?;
    let format = body_format(headers, &decoded)?;
    let batch =
        parse_body(format, &decoded, defaults, &config.parse_limits()).map_err(|e| match e {
            ParseError::TooManyEvents { .. } => IngestError::TooManyEvents(e.to_string()),
            other => IngestError::Unparsable(other.to_string()),
        })?;
    drop(decoded);
    check_stored_size(&batch, config.max_stored_bytes)?;
    Ok(batch)
}

/// Refuses a batch that would take more than `max` bytes stored
/// (`ingest.max_stored_bytes`, JSON escapes included). Every protocol
/// checks it, on the decode thread.
pub(crate) fn check_stored_size(
    batch: &anomalog_core::parse::ParsedBatch,
    max: usize,
) -> Result<(), IngestError> {
    // The exact count serialises every event (a tenth of ingest's CPU); a
    // batch whose bound (counted as it was parsed) is within the limit needs
    // no exact count.
    if batch_bound(batch) <= max {
        return Ok(());
    }
    let stored = stored_bytes(&batch.events);
    if stored > max {
        return Err(IngestError::TooManyEvents(format!(
            "the batch would take {stored} bytes stored (as JSON: a control character takes 6 \
             bytes), more than the limit of {max} (ingest.max_stored_bytes); nothing was stored, \
             send smaller batches"
        )));
    }
    Ok(())
}

/// At least the bytes [`stored_bytes`] counts for the batch's events, from
/// lengths alone: their bound (mostly summed as they were parsed) and the
/// array's brackets and commas.
fn batch_bound(batch: &anomalog_core::parse::ParsedBatch) -> usize {
    batch
        .stored_bound()
        .saturating_add(batch.events.len())
        .saturating_add(2)
}

/// Bytes `events` take as JSON, escapes included: what the queue and the log
/// store will hold, counted without building it.
fn stored_bytes(events: &[anomalog_core::LogEvent]) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, events) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// Encodes `events` for the queue on a decode thread (where they are also
/// freed), then admits and appends them as [`commit_keyed`] does; returns
/// the entry id and the events stored. Shared by every protocol but
/// `/ingest`, which encodes on the thread that parsed.
pub(crate) async fn commit(
    state: &IngestState,
    key_index: Option<usize>,
    peer: Option<IpAddr>,
    events: Vec<anomalog_core::LogEvent>,
) -> Result<(String, usize), IngestError> {
    let queue = Arc::clone(&state.queue);
    let encoded = budget::on_cpu(&state.cpu, &state.config, move || queue.encode(&events))
        .await?
        .map_err(IngestError::from)?;
    commit_keyed(state, key_index, peer, encoded, None)
        .await
        .map(|(entry, accepted, _)| (entry, accepted))
}

/// Admits an encoded batch through the rate limit and appends it to the
/// queue as one entry, under an optional idempotency key ([`idempotency`]): a
/// batch whose key was queued within the retention is not queued again, and
/// the earlier entry's id is returned. Returns the entry id, the events and
/// whether it was a replay.
pub(crate) async fn commit_keyed(
    state: &IngestState,
    key_index: Option<usize>,
    peer: Option<IpAddr>,
    batch: anomalog_store::EncodedBatch,
    idempotency_key: Option<&str>,
) -> Result<(String, usize, bool), IngestError> {
    let events = batch.events();
    if let Some(limit) = &state.rate_limit {
        let client = match (key_index, peer) {
            (Some(i), _) => ClientKey::ApiKey(i),
            (None, Some(ip)) => ClientKey::Peer(ip),
            (None, None) => ClientKey::Anonymous,
        };
        match limit.admit(&client, events) {
            Ok(()) => {}
            Err(Refusal::Wait { retry_after }) => {
                metrics::count(metrics::EVENTS_RATE_LIMITED, events);
                return Err(IngestError::RateLimited {
                    per_sec: limit.per_sec(),
                    burst: limit.burst(),
                    retry_after,
                });
            }
            Err(Refusal::LargerThanBurst { burst }) => {
                return Err(IngestError::TooManyEvents(format!(
                    "batch of {events} events is larger than the rate limit burst of {burst} \
                     events (ingest.rate_limit_burst); send smaller batches"
                )));
            }
        }
    }
    // The batch is encoded already: the append is I/O only (the embedded
    // queue's writer thread, or Redis), awaited here.
    let started = std::time::Instant::now();
    let appended = match idempotency_key {
        None => state
            .queue
            .append_encoded(batch)
            .await
            .map(|entry| (entry, false)),
        Some(key) => state
            .queue
            .append_idempotent_encoded(key, idempotency::RETENTION, batch)
            .await
            .map(|appended| match appended {
                anomalog_store::Appended::New(entry) => (entry, false),
                anomalog_store::Appended::Replayed(entry) => {
                    tracing::info!(
                        entry,
                        events,
                        "batch already queued under its Idempotency-Key; not queued again"
                    );
                    (entry, true)
                }
            }),
    };
    ::metrics::histogram!(metrics::QUEUE_APPEND_DURATION).record(started.elapsed().as_secs_f64());
    let (entry, replayed) = appended.map_err(|e| {
        tracing::warn!(error = %e, events, "queue append failed");
        IngestError::from(e)
    })?;
    tracing::debug!(entry, accepted = events, replayed, "batch queued");
    Ok((entry, events, replayed))
}

pub(crate) fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Reads and drops up to `limit` bytes of `body`, holding one chunk at a time.
pub(crate) async fn discard_body(body: Body, limit: usize) {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut seen = 0usize;
    while seen <= limit {
        match body.frame().await {
            Some(Ok(frame)) => seen += frame.data_ref().map_or(0, |d| d.len()),
            _ => return,
        }
    }
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, IngestError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        let timed_out = std::iter::successors(std::error::Error::source(&e), |s| s.source())
            .any(|s| s.is::<tower_http::timeout::TimeoutError>());
        if too_large {
            IngestError::PayloadTooLarge { limit }
        } else if timed_out {
            IngestError::BodyTimeout(e.to_string())
        } else {
            IngestError::BodyRead(e.to_string())
        }
    })
}

/// Decodes `raw` by its `Content-Encoding` (gzip, zstd or none), refusing
/// more than `limit` decoded bytes. Public for the fuzz targets (fuzz/).
pub fn decode(headers: &HeaderMap, raw: Bytes, limit: usize) -> Result<Bytes, IngestError> {
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let reader: Box<dyn Read + '_> = match encoding.as_str() {
        "" | "identity" => return Ok(raw),
        "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(raw.as_ref())),
        "zstd" => Box::new(
            zstd::stream::read::Decoder::new(raw.as_ref())
                .map_err(|e| IngestError::BadEncoding(e.to_string()))?,
        ),
        other => return Err(IngestError::UnsupportedEncoding(other.to_owned())),
    };
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| IngestError::BadEncoding(e.to_string()))?;
    if out.len() > limit {
        return Err(IngestError::PayloadTooLarge { limit });
    }
    Ok(Bytes::from(out))
}

fn body_format(headers: &HeaderMap, body: &[u8]) -> Result<BodyFormat, IngestError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "application/json" => Ok(BodyFormat::Json),
        "application/x-ndjson"
        | "application/ndjson"
        | "application/jsonl"
        | "application/x-jsonlines"
        | "application/jsonlines" => Ok(BodyFormat::Ndjson),
        "text/plain" => Ok(BodyFormat::Text),
        "" => Ok(sniff(body)),
        _ => Err(IngestError::UnsupportedMediaType(content_type.to_owned())),
    }
}

/// Guesses the framing of a body sent without a Content-Type.
fn sniff(body: &[u8]) -> BodyFormat {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => BodyFormat::Json,
        Some(b'{') => {
            if serde_json::from_slice::<serde_json::Value>(body).is_ok() {
                BodyFormat::Json
            } else {
                BodyFormat::Ndjson
            }
        }
        _ => BodyFormat::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bytes_count_escapes() {
        let ts = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let plain =
            anomalog_core::LogEvent::new(ts, "s", anomalog_core::Level::Info, "a".repeat(60));
        let control =
            anomalog_core::LogEvent::new(ts, "s", anomalog_core::Level::Info, "\u{1}".repeat(60));
        assert_eq!(
            stored_bytes(std::slice::from_ref(&control))
                - stored_bytes(std::slice::from_ref(&plain)),
            60 * 5
        );
    }

    /// The batch's bound covers the JSON array's brackets and commas on top
    /// of each event's (core tests the events' bounds field by field): here
    /// on events parsed from a body, escapes, extreme numbers, nested values
    /// and the smallest record included.
    #[test]
    fn batch_bound_is_never_below_the_count() {
        let nasty = r#"\u0001\"\\\u007fé😀\n"#;
        let record = |s: &str| {
            format!(
                r#"{{"ts": "9999-12-31T23:59:59.999999999Z", "service": "svc", "level": "fatal",
                    "message": "{s}", "host": "{s}", "trace_id": "{s}", "span_id": "{s}",
                    "source": "{s}", "{s}": "{s}", "n": -1.7976931348623157e308,
                    "i": -9223372036854775808, "u": 18446744073709551615, "e": 5e-324,
                    "{s}nested": [null, true, ["{s}", {{"{s}": [false, 1, "{s}"]}}], {{}}, []]}}"#
            )
        };
        let body = format!(
            "[{}, {}, {}, {}, {{\"message\": \"m\", \"service\": \"s\"}}]",
            record(""),
            record("a"),
            record(nasty),
            record(&nasty.repeat(40))
        );
        let defaults = anomalog_core::parse::ParseDefaults {
            service: None,
            host: None,
            source: None,
            received_at: DateTime::from_timestamp(253_402_300_799, 999_999_999).unwrap(),
        };
        let parsed = anomalog_core::parse::parse_body(
            anomalog_core::parse::BodyFormat::Json,
            body.as_bytes(),
            &defaults,
            &IngestConfig::default().parse_limits(),
        )
        .unwrap();
        assert!(parsed.rejections.is_empty(), "{:?}", parsed.rejections);
        let events = parsed.events;
        assert_eq!(events.len(), 5);
        // Pushed (bounded as parsed) and added around `push` (bounded after).
        let mut pushed = anomalog_core::parse::ParsedBatch::default();
        let mut added = anomalog_core::parse::ParsedBatch::default();
        for k in 0..=events.len() {
            let exact = stored_bytes(&pushed.events);
            for (name, batch) in [("pushed", &pushed), ("added", &added)] {
                let bound = batch_bound(batch);
                assert!(
                    bound >= exact,
                    "{name}, {k} events: bound {bound} < {exact}"
                );
            }
            if let Some(e) = events.get(k) {
                pushed.push(e.clone());
                added.events.push(e.clone());
            }
        }
        // Each event alone, too: the fixed share must cover the smallest.
        for e in &events {
            let mut one = anomalog_core::parse::ParsedBatch::default();
            one.push(e.clone());
            assert!(batch_bound(&one) >= stored_bytes(&one.events));
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(100)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
    }

    #[test]
    fn sniffing_picks_the_framing() {
        assert_eq!(sniff(b"  [{\"a\":1}]"), BodyFormat::Json);
        assert_eq!(sniff(b"{\"a\":1}"), BodyFormat::Json);
        assert_eq!(sniff(b"{\"a\":1}\n{\"a\":2}\n"), BodyFormat::Ndjson);
        assert_eq!(sniff(b"ERROR boom"), BodyFormat::Text);
    }
}
