//! The OpenAPI description of `POST /ingest`.
//!
//! The 202 body and the query parameters derive their schemas from the real
//! types ([`IngestReceipt`], [`IngestParams`]); the error body and the record
//! shape, which the handler builds from JSON, are described here and checked
//! against real responses by the API crate's OpenAPI tests.

use utoipa::{OpenApi, ToSchema};

use crate::{IngestParams, IngestReceipt};

/// One record the parser could not use, by its position in the body.
#[derive(ToSchema)]
#[schema(example = json!({"index": 1, "reason": "message is required (also accepted: msg, log, text, body)"}))]
pub struct Rejection {
    /// Array index for JSON arrays; 0-based line index for NDJSON and text
    /// (blank lines are skipped but still count).
    pub index: usize,
    /// Why the record was rejected.
    pub reason: String,
}

/// Body of every refused ingest request.
///
/// A 400 because no record was usable also carries the counts and the
/// rejection reasons, as a 202 would.
#[derive(ToSchema)]
#[schema(example = json!({"error": "missing or invalid API key: send 'Authorization: Bearer <key>'"}))]
pub struct IngestErrorBody {
    /// What was wrong, in words a user can act on.
    pub error: String,
    /// 0 (only when no record was usable).
    pub accepted: Option<usize>,
    /// Number of rejected records (only when no record was usable).
    pub rejected: Option<usize>,
    /// Up to 100 rejection reasons (only when no record was usable).
    pub errors: Option<Vec<Rejection>>,
}

/// One log record of a JSON or NDJSON body.
///
/// Common field names of shippers are understood: time from `ts`,
/// `timestamp`, `time`, `@timestamp`, `datetime` or `date`; level from
/// `level`, `severity`, `severity_text`, `lvl`, `loglevel`, `log.level`,
/// `levelname` or the OTLP `severity_number`; message from `message`, `msg`,
/// `log`, `text`, `body` or `@message`; service from `service`,
/// `service.name`, `service_name`, `app`, `application` or `component`; host
/// from `host`, `hostname` or `host.name`. Every other field is kept in the
/// event's `attrs`.
#[derive(ToSchema, serde::Deserialize)]
#[schema(example = json!({"ts": "2026-11-23T10:00:00Z", "service": "checkout", "level": "error", "message": "payment provider timeout", "order": 42}))]
pub struct LogRecord {
    /// Event time: RFC 3339, or Unix epoch seconds or milliseconds. The
    /// receive time when absent.
    pub ts: Option<String>,
    /// Required unless given by `?service=` or `X-Anomalog-Service`.
    pub service: Option<String>,
    /// A level name in any common spelling (`warning`, `err`, `crit`...), a
    /// syslog severity 0-7; INFO when absent.
    pub level: Option<String>,
    pub message: String,
    pub host: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub source: Option<String>,
}

/// A JSON body: one record or an array of records.
#[derive(ToSchema, serde::Deserialize)]
#[serde(untagged)] // for the schema: either shape, no wrapper
#[allow(dead_code)] // a schema only: the parser reads bodies as JSON values
pub enum JsonBody {
    One(LogRecord),
    Many(Vec<LogRecord>),
}

/// Documentation of the ingest handler (the route is in [`crate::router`]).
#[utoipa::path(
    post,
    path = "/ingest",
    tag = "ingest",
    summary = "Send log events",
    description = "Parses every record; a bad record is rejected by its index while the others are \
        accepted. The body may be `Content-Encoding: gzip` or `zstd`. Without `Content-Type`, the \
        framing is guessed. A 202 is sent only once the batch is durably queued.",
    params(
        IngestParams,
        ("X-Anomalog-Service" = Option<String>, Header,
            description = "Service of records that carry none (as `?service=`)."),
        ("Content-Encoding" = Option<String>, Header, description = "`gzip`, `zstd` or `identity`."),
    ),
    request_body(
        description = "Log records: JSON, NDJSON (one JSON object per line) or plain text (one event \
            per line; level and timestamp are inferred).",
        content(
            (JsonBody = "application/json",
                example = json!([
                    {"ts": "2026-11-23T10:00:00Z", "service": "checkout", "level": "error", "message": "payment provider timeout"},
                    {"service": "checkout", "level": "info", "message": "order 42 placed"}
                ])),
            (String = "application/x-ndjson",
                example = json!("{\"service\":\"web\",\"level\":\"warn\",\"msg\":\"slow render\"}\n{\"service\":\"web\",\"message\":\"GET / 200\"}\n")),
            (String = "text/plain",
                example = json!("2026-11-23T10:00:01Z ERROR db timeout after 5s\nINFO request served\n")),
        ),
    ),
    responses(
        (status = 202, description = "Durably queued: the usable records are accepted.", body = IngestReceipt,
            example = json!({"accepted": 2, "rejected": 1, "errors": [{"index": 1, "reason": "message is required (also accepted: msg, log, text, body)"}]})),
        (status = 400, description = "Nothing usable: the body cannot be read, decompressed or parsed, or every record was rejected.",
            body = IngestErrorBody,
            example = json!({"error": "no usable events: all 1 records were rejected", "accepted": 0, "rejected": 1,
                "errors": [{"index": 0, "reason": "message is required (also accepted: msg, log, text, body)"}]})),
        (status = 401, description = "API keys are configured and the request has no valid `Authorization: Bearer <key>`.",
            body = IngestErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer`")),
            example = json!({"error": "missing or invalid API key: send 'Authorization: Bearer <key>'"})),
        (status = 403, description = "A page of another origin (an `Origin` header not in `server.cors_origins`) may not write.",
            body = IngestErrorBody,
            example = json!({"error": "cross-origin request from 'https://elsewhere.example' refused: add the origin to server.cors_origins (ANOMALOG_CORS_ORIGINS) to allow it"})),
        (status = 408, description = "The body stalled longer than the body timeout, or the request took longer than the request timeout.",
            body = IngestErrorBody,
            example = json!({"error": "the request took too long to arrive: data was not received within the designated timeout"})),
        (status = 413, description = "The body (on the wire or decompressed), the number of events or the batch's stored size (JSON, escapes included) is over the limit.",
            body = IngestErrorBody,
            example = json!({"error": "request body is larger than the limit of 5242880 bytes"})),
        (status = 415, description = "Unknown `Content-Type` or `Content-Encoding`.", body = IngestErrorBody,
            example = json!({"error": "unsupported Content-Type 'application/xml' (supported: application/json, application/x-ndjson, text/plain)"})),
        (status = 429, description = "Over the rate limit; nothing was stored. Retry after the given seconds.",
            body = IngestErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying.")),
            example = json!({"error": "rate limit exceeded, nothing was stored: retry later"})),
        (status = 500, description = "Unexpected failure; nothing was stored.", body = IngestErrorBody,
            example = json!({"error": "internal error, nothing was stored: ..."})),
        (status = 503, description = "The queue cannot store the batch, or ingest is busy (its in-flight memory budget is used); nothing was stored. Retry after the given seconds.",
            body = IngestErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying.")),
            example = json!({"error": "log queue unavailable, nothing was stored: connection refused"})),
    ),
    security((), ("bearer" = [])),
)]
#[allow(dead_code)] // documents the route; `crate::ingest` handles it
fn ingest_doc() {}

/// Adds the bearer scheme of `POST /ingest` to the document.
struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(ingest_doc),
    components(schemas(Rejection, IngestErrorBody, LogRecord, JsonBody)),
    modifiers(&BearerScheme),
    tags((name = "ingest", description = "Receiving logs from agents and shippers")),
)]
struct IngestDoc;

/// The OpenAPI document of the ingest routes, to merge into the API's.
pub fn document() -> utoipa::openapi::OpenApi {
    IngestDoc::openapi()
}
