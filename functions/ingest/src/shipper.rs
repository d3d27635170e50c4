//! What the shipper protocols ([`crate::otlp`], [`crate::loki`],
//! [`crate::bulk`]) share with `/ingest`: the routes, reading an authenticated,
//! size-limited and decompressed body, and storing a mapped batch through the
//! same rate limit and queue append, counted in the same [`crate::metrics`].

use std::net::{IpAddr, SocketAddr};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::extract::rejection::ExtensionRejection;
use axum::http::{HeaderMap, header};
use axum::routing::post;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use anomalog_core::parse::{ParseDefaults, ParsedBatch, Rejection};

use crate::{
    IngestError, IngestState, bulk, commit, decode, header_text, loki, metrics, otlp, read_body,
};

/// `POST /v1/logs`, `POST /loki/api/v1/push`, `POST|PUT /_bulk` and
/// `POST|PUT /{index}/_bulk`.
pub(crate) fn routes() -> Router<IngestState> {
    Router::new()
        .route("/v1/logs", post(otlp::export_logs))
        .route("/loki/api/v1/push", post(loki::push))
        .route("/_bulk", post(bulk::bulk).put(bulk::bulk))
        .route("/{index}/_bulk", post(bulk::bulk_into).put(bulk::bulk_into))
}

/// An authenticated request body, decompressed (gzip or zstd) within the
/// limits and decoded by the protocol.
pub(crate) struct Received<T> {
    /// Index of the API key used, `None` when authentication is off.
    pub key_index: Option<usize>,
    /// What the protocol's decoder made of the body.
    pub decoded: T,
    /// This request's share of the in-flight budget, held while it is
    /// handled.
    pub _reserved: tokio::sync::OwnedSemaphorePermit,
}

/// Authenticates and reads the body under `/ingest`'s limits, then
/// decompresses it and runs the protocol's `decoder` on it, both on a decode
/// thread ([`crate::budget::on_cpu`]), off the async workers.
pub(crate) async fn receive<T, D>(
    state: &IngestState,
    headers: &HeaderMap,
    body: Body,
    decoder: D,
) -> Result<Received<T>, IngestError>
where
    T: Send + 'static,
    D: FnOnce(Bytes) -> Result<T, IngestError> + Send + 'static,
{
    let key_index = state
        .auth
        .authorize(headers, anomalog_store::Scope::Ingest)
        .await?;
    let config = &state.config;
    let Some(reserved) = crate::budget::reserve(&state.inflight, headers, config).await else {
        crate::discard_body(body, config.max_body_bytes).await;
        return Err(IngestError::Busy {
            inflight_limit: config.max_inflight_bytes,
        });
    };
    let raw = read_body(body, config.max_body_bytes).await?;
    metrics::count(metrics::BODY_BYTES, raw.len());
    // Decompression and decoding are CPU work: on a decode thread, one CPU slot.
    let work_headers = headers.clone();
    let limit = config.max_decoded_bytes;
    let decoded = crate::budget::on_cpu(&state.cpu, config, move || {
        decoder(decode(&work_headers, raw, limit)?)
    })
    .await??;
    Ok(Received {
        key_index,
        decoded,
        _reserved: reserved,
    })
}

/// The peer address when the server recorded one.
pub(crate) fn peer_ip(peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>) -> Option<IpAddr> {
    peer.ok().map(|ConnectInfo(addr)| addr.ip())
}

/// Defaults for records of a shipper request: the service from
/// `X-Anomalog-Service` (or `service`), received `now`.
pub(crate) fn defaults(
    headers: &HeaderMap,
    service: Option<String>,
    now: DateTime<Utc>,
) -> ParseDefaults {
    ParseDefaults {
        service: header_text(headers, "x-anomalog-service").or(service),
        host: None,
        source: None,
        received_at: now,
    }
}

/// The request's `Content-Type` as sent, and its media type alone, lower case
/// (`application/x-ndjson` of `application/x-ndjson; charset=utf-8`).
pub(crate) fn content_type(headers: &HeaderMap) -> (&str, String) {
    let sent = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = sent
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    (sent, mime)
}

/// Refuses a request with more records than `max` (`ingest.max_events`).
/// The decoders call it with the count of [`crate::record_count`], before
/// building any record.
pub(crate) fn check_count(max: usize, count: usize) -> Result<(), IngestError> {
    if count > max {
        return Err(too_many(count, max));
    }
    Ok(())
}

/// The refusal of a request of `count` records, more than `max`.
pub(crate) fn too_many(count: usize, max: usize) -> IngestError {
    IngestError::TooManyEvents(format!(
        "batch has {count} events, more than the limit of {max} (ingest.max_events); \
         nothing was stored, send smaller batches"
    ))
}

/// A stored batch: the queue entry (none when the request had no records)
/// and what was not used.
#[derive(Debug)]
pub(crate) struct Stored {
    pub entry: Option<String>,
    pub accepted: usize,
    pub rejections: Vec<Rejection>,
}

/// Stores the usable events of `batch` as one queue entry, as `/ingest` does.
/// A batch whose every record was rejected is [`IngestError::NothingUsable`];
/// an empty one stores nothing and succeeds.
pub(crate) async fn store(
    state: &IngestState,
    key_index: Option<usize>,
    peer: Option<IpAddr>,
    batch: ParsedBatch,
) -> Result<Stored, IngestError> {
    if batch.events.is_empty() {
        if batch.rejections.is_empty() {
            return Ok(Stored {
                entry: None,
                accepted: 0,
                rejections: Vec::new(),
            });
        }
        return Err(IngestError::NothingUsable(batch.rejections));
    }
    let (entry, accepted) = commit(state, key_index, peer, batch.events).await?;
    Ok(Stored {
        entry: Some(entry),
        accepted,
        rejections: batch.rejections,
    })
}

/// Counts a request's outcome in the ingest metrics, with the status sent.
pub(crate) fn count_outcome(result: &Result<Stored, IngestError>, success_status: u16) {
    match result {
        Ok(stored) => {
            metrics::request(success_status);
            metrics::count(metrics::EVENTS_ACCEPTED, stored.accepted);
            metrics::count(metrics::EVENTS_REJECTED, stored.rejections.len());
        }
        Err(e) => count_error(e),
    }
}

/// Counts a refused request in the ingest metrics.
pub(crate) fn count_error(e: &IngestError) {
    metrics::request(e.status().as_u16());
    if let IngestError::NothingUsable(rejections) = e {
        metrics::count(metrics::EVENTS_REJECTED, rejections.len());
    }
}

/// The first few rejection reasons in one line, for protocols whose answer has
/// room for a single message.
pub(crate) fn summary(rejections: &[Rejection]) -> String {
    const SHOWN: usize = 5;
    let mut text = format!("{} records rejected: ", rejections.len());
    let reasons: Vec<String> = rejections
        .iter()
        .take(SHOWN)
        .map(|r| format!("record {}: {}", r.index, r.reason))
        .collect();
    text.push_str(&reasons.join("; "));
    if rejections.len() > SHOWN {
        text.push_str("; ...");
    }
    text
}
