//! anomalog-ingest: the `POST /ingest` endpoint.
//!
//! Accepts JSON (an object or an array), NDJSON and plain text, optionally gzip
//! or zstd compressed, authenticates bearer keys, parses every record (a bad
//! record is rejected by index, the rest accepted) and appends the batch to the
//! [`EventQueue`] as one entry. The 202 is sent only after that append returned,
//! so a 202 always means the batch is durable.

pub mod openapi;

use std::io::Read;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use anomalog_core::config::IngestConfig;
use anomalog_core::parse::{BodyFormat, ParseDefaults, ParseError, Rejection, parse_body};
use anomalog_store::{EventQueue, StoreError};

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Most rejection reasons returned in one response; the count is always exact.
pub const MAX_ERRORS_REPORTED: usize = 100;

/// What the ingest handler needs.
#[derive(Clone)]
pub struct IngestState {
    pub queue: Arc<dyn EventQueue>,
    pub config: Arc<IngestConfig>,
}

/// The ingest routes: `POST /ingest`.
pub fn router(state: IngestState) -> Router {
    Router::new()
        .route("/ingest", post(ingest))
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
}

/// Why a request was refused. Each maps to exactly one status code.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("missing or invalid API key: send 'Authorization: Bearer <key>'")]
    Unauthorized,
    #[error("request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    TooManyEvents(String),
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
    #[error("internal error, nothing was stored: {0}")]
    Internal(String),
}

impl IngestError {
    fn status(&self) -> StatusCode {
        match self {
            IngestError::Unauthorized => StatusCode::UNAUTHORIZED,
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
            IngestError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            IngestError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for IngestError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(m) | StoreError::Backend(m) => IngestError::Unavailable(m),
            other => IngestError::Internal(other.to_string()),
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
            IngestError::Unavailable(_) => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
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

async fn ingest(
    State(state): State<IngestState>,
    Query(params): Query<IngestParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<IngestReceipt>), IngestError> {
    handle(&state, params, &headers, body, Utc::now()).await
}

/// The whole ingest flow, as a plain function of its inputs.
pub async fn handle(
    state: &IngestState,
    params: IngestParams,
    headers: &HeaderMap,
    body: Body,
    now: DateTime<Utc>,
) -> Result<(StatusCode, axum::Json<IngestReceipt>), IngestError> {
    let config = &state.config;
    authenticate(&config.api_keys, headers)?;
    let raw = read_body(body, config.max_body_bytes).await?;
    let decoded = decode(headers, raw, config.max_decoded_bytes)?;
    let format = body_format(headers, &decoded)?;
    let defaults = ParseDefaults {
        service: params
            .service
            .or_else(|| header_text(headers, "x-anomalog-service")),
        host: params.host,
        source: params.source,
        received_at: now,
    };
    let batch =
        parse_body(format, &decoded, &defaults, &config.parse_limits()).map_err(|e| match e {
            ParseError::TooManyEvents { .. } => IngestError::TooManyEvents(e.to_string()),
            other => IngestError::Unparsable(other.to_string()),
        })?;
    if batch.events.is_empty() {
        return Err(IngestError::NothingUsable(batch.rejections));
    }
    let entry = state.queue.append(&batch.events).await.map_err(|e| {
        tracing::warn!(error = %e, events = batch.events.len(), "queue append failed");
        IngestError::from(e)
    })?;
    tracing::debug!(
        entry,
        accepted = batch.events.len(),
        rejected = batch.rejections.len(),
        "batch queued"
    );
    let rejected = batch.rejections.len();
    let mut errors = batch.rejections;
    errors.truncate(MAX_ERRORS_REPORTED);
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(IngestReceipt {
            accepted: batch.events.len(),
            rejected,
            errors,
        }),
    ))
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn authenticate(keys: &[String], headers: &HeaderMap) -> Result<(), IngestError> {
    if keys.is_empty() {
        return Ok(());
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or(IngestError::Unauthorized)?;
    if keys
        .iter()
        .any(|k| constant_time_eq(k.as_bytes(), presented.as_bytes()))
    {
        Ok(())
    } else {
        Err(IngestError::Unauthorized)
    }
}

/// Compares without an early exit, so response timing does not leak how much of
/// a key matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, IngestError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if too_large {
            IngestError::PayloadTooLarge { limit }
        } else {
            IngestError::BodyRead(e.to_string())
        }
    })
}

fn decode(headers: &HeaderMap, raw: Bytes, limit: usize) -> Result<Bytes, IngestError> {
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
    fn constant_time_eq_compares_whole_keys() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[test]
    fn sniffing_picks_the_framing() {
        assert_eq!(sniff(b"  [{\"a\":1}]"), BodyFormat::Json);
        assert_eq!(sniff(b"{\"a\":1}"), BodyFormat::Json);
        assert_eq!(sniff(b"{\"a\":1}\n{\"a\":2}\n"), BodyFormat::Ndjson);
        assert_eq!(sniff(b"ERROR boom"), BodyFormat::Text);
    }
}
