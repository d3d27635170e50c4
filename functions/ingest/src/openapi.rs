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
        ("Idempotency-Key" = Option<String>, Header,
            description = "1 to 256 visible ASCII characters naming this batch. A batch whose key                 (under the same credentials) was queued within the last 24 hours is answered 202                 again and not queued twice, so a client may resend a batch whose answer it lost.                 A malformed key is a 400."),
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
        (status = 403, description = "The API key lacks the `ingest` scope, or a page of another origin (an `Origin` header not in `server.cors_origins`) may not write.",
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

/// `ExportLogsServiceResponse` of OTLP/HTTP in its JSON encoding (protobuf
/// clients get the same message in protobuf).
#[derive(ToSchema)]
#[schema(example = json!({"partialSuccess": {"rejectedLogRecords": "1", "errorMessage": "1 records rejected: record 3: log record has neither a body nor an event_name"}}))]
#[schema(rename_all = "camelCase")]
#[allow(dead_code)] // a schema only: the handler encodes the generated message
pub struct OtlpExportResponse {
    /// Present when records were rejected: their count (an int64, as a
    /// string) and the first reasons.
    #[schema(value_type = Option<Object>)]
    pub partial_success: Option<serde_json::Value>,
}

/// `google.rpc.Status`, the body of refused OTLP/HTTP requests (in the
/// request's encoding).
#[derive(ToSchema)]
#[schema(example = json!({"code": 14, "message": "log queue unavailable, nothing was stored: queue full"}))]
#[allow(dead_code)] // a schema only
pub struct RpcStatus {
    /// The gRPC code: 3 invalid argument, 8 resource exhausted, 14 unavailable, 16 unauthenticated.
    pub code: i32,
    pub message: String,
}

/// A Loki push in JSON: streams of labels and `[unix ns, line, metadata?]` values.
#[derive(ToSchema)]
#[schema(example = json!({"streams": [{"stream": {"service_name": "gateway", "level": "warn"}, "values": [["1767323045000000000", "upstream slow", {"trace_id": "abc"}]]}]}))]
#[allow(dead_code)] // a schema only
pub struct LokiPush {
    #[schema(value_type = Vec<Object>)]
    pub streams: Vec<serde_json::Value>,
}

/// The answer to an Elasticsearch bulk request.
#[derive(ToSchema)]
#[schema(example = json!({"took": 3, "errors": false, "items": [{"index": {"_index": "payments", "_id": "1767323045000-0-00000", "_version": 1, "result": "created", "_shards": {"total": 1, "successful": 1, "failed": 0}, "_seq_no": 0, "_primary_term": 1, "status": 201}}]}))]
#[allow(dead_code)] // a schema only
pub struct BulkResponse {
    /// Milliseconds spent.
    pub took: u64,
    /// True when any item failed.
    pub errors: bool,
    /// One `{action: {_index, _id, status, error?}}` per item, in request order.
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
}

/// Elasticsearch's error shape, for bulk requests refused as a whole.
#[derive(ToSchema)]
#[schema(example = json!({"error": {"root_cause": [{"type": "illegal_argument_exception", "reason": "line 1: unknown action [upsert]"}], "type": "illegal_argument_exception", "reason": "line 1: unknown action [upsert]"}, "status": 400}))]
#[allow(dead_code)] // a schema only
pub struct ElasticsearchError {
    #[schema(value_type = Object)]
    pub error: serde_json::Value,
    pub status: u16,
}

#[utoipa::path(
    post,
    path = "/v1/logs",
    tag = "shippers",
    summary = "OpenTelemetry OTLP/HTTP logs",
    description = "`ExportLogsServiceRequest` in protobuf or the OTLP JSON encoding, optionally \
        gzip/zstd. Answers in the request's encoding; same auth, limits and durability as `/ingest` \
        (see docs/shippers.md for the mapping).",
    request_body(content(
        (Vec<u8> = "application/x-protobuf"),
        (Object = "application/json"),
    )),
    responses(
        (status = 200, description = "Stored; `partialSuccess` counts rejected records.", body = OtlpExportResponse),
        (status = 400, description = "Undecodable body, or every record rejected.", body = RpcStatus),
        (status = 401, description = "Missing or invalid API key.", body = RpcStatus),
        (status = 413, description = "Over a size or event limit.", body = RpcStatus),
        (status = 415, description = "Neither protobuf nor JSON.", body = RpcStatus),
        (status = 429, description = "Over the rate limit; retried by exporters.", body = RpcStatus,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
        (status = 503, description = "The queue cannot store the batch; retried by exporters.", body = RpcStatus,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ),
    security((), ("bearer" = [])),
)]
#[allow(dead_code)] // documents the route; `crate::otlp` handles it
fn otlp_doc() {}

#[utoipa::path(
    post,
    path = "/loki/api/v1/push",
    tag = "shippers",
    summary = "Loki push",
    description = "Loki's push API: JSON or snappy-compressed protobuf (`logproto.PushRequest`). \
        Errors are plain text, as Loki's.",
    params(IngestParams),
    request_body(content(
        (LokiPush = "application/json"),
        (Vec<u8> = "application/x-protobuf"),
    )),
    responses(
        (status = 204, description = "Every entry stored."),
        (status = 400, description = "Undecodable body, or some entries rejected (the others were stored); names them.", body = String, content_type = "text/plain"),
        (status = 401, description = "Missing or invalid API key.", body = String, content_type = "text/plain"),
        (status = 413, description = "Over a size or event limit.", body = String, content_type = "text/plain"),
        (status = 415, description = "Neither JSON nor protobuf.", body = String, content_type = "text/plain"),
        (status = 429, description = "Over the rate limit.", body = String, content_type = "text/plain",
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
        (status = 503, description = "The queue cannot store the batch.", body = String, content_type = "text/plain",
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ),
    security((), ("bearer" = [])),
)]
#[allow(dead_code)] // documents the route; `crate::loki` handles it
fn loki_doc() {}

#[utoipa::path(
    post,
    path = "/_bulk",
    tag = "shippers",
    summary = "Elasticsearch bulk",
    description = "NDJSON `index`/`create` actions and their documents (any `/ingest` JSON record; \
        the action's `_index` is the service of documents without one). Per-item status in the answer; \
        `X-Elastic-Product: Elasticsearch` on every answer. `PUT` is the same.",
    params(IngestParams),
    request_body(content((String = "application/x-ndjson",
        example = json!("{\"index\":{\"_index\":\"payments\"}}\n{\"@timestamp\":\"2026-01-02T03:04:05Z\",\"log.level\":\"error\",\"message\":\"gateway timeout\"}\n")))),
    responses(
        (status = 200, description = "Per-item outcome; stored items have status 201.", body = BulkResponse),
        (status = 400, description = "A malformed action line or a missing document; nothing stored.", body = ElasticsearchError),
        (status = 401, description = "Missing or invalid API key.", body = ElasticsearchError),
        (status = 413, description = "Over a size or event limit.", body = ElasticsearchError),
        (status = 415, description = "Not NDJSON.", body = ElasticsearchError),
        (status = 429, description = "Over the rate limit.", body = ElasticsearchError,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
        (status = 503, description = "The queue cannot store the batch.", body = ElasticsearchError,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ),
    security((), ("bearer" = [])),
)]
#[allow(dead_code)] // documents the route; `crate::bulk` handles it
fn bulk_doc() {}

#[utoipa::path(put, path = "/_bulk", tag = "shippers", summary = "Elasticsearch bulk (PUT)",
    description = "As `POST /_bulk`.", params(IngestParams),
    request_body(content((String = "application/x-ndjson"))),
    responses((status = 200, description = "Per-item outcome.", body = BulkResponse),
        (status = 400, description = "Malformed request; nothing stored.", body = ElasticsearchError)),
    security((), ("bearer" = [])),
)]
#[allow(dead_code)] // documents the route; `crate::bulk` handles it
fn bulk_put_doc() {}

#[utoipa::path(post, path = "/{index}/_bulk", tag = "shippers", summary = "Elasticsearch bulk into an index",
    description = "As `POST /_bulk`; `{index}` is the default index of the actions.",
    params(("index" = String, Path, description = "Default index (the service of documents without one)."), IngestParams),
    request_body(content((String = "application/x-ndjson"))),
    responses((status = 200, description = "Per-item outcome.", body = BulkResponse),
        (status = 400, description = "Malformed request; nothing stored.", body = ElasticsearchError)),
    security((), ("bearer" = [])),
)]
#[allow(dead_code)] // documents the route; `crate::bulk` handles it
fn bulk_index_doc() {}

#[utoipa::path(put, path = "/{index}/_bulk", tag = "shippers", summary = "Elasticsearch bulk into an index (PUT)",
    description = "As `POST /{index}/_bulk`.",
    params(("index" = String, Path, description = "Default index (the service of documents without one)."), IngestParams),
    request_body(content((String = "application/x-ndjson"))),
    responses((status = 200, description = "Per-item outcome.", body = BulkResponse),
        (status = 400, description = "Malformed request; nothing stored.", body = ElasticsearchError)),
    security((), ("bearer" = [])),
)]
#[allow(dead_code)] // documents the route; `crate::bulk` handles it
fn bulk_index_put_doc() {}

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
    paths(ingest_doc, otlp_doc, loki_doc, bulk_doc, bulk_put_doc, bulk_index_doc, bulk_index_put_doc),
    components(schemas(Rejection, IngestErrorBody, LogRecord, JsonBody, OtlpExportResponse,
        RpcStatus, LokiPush, BulkResponse, ElasticsearchError)),
    modifiers(&BearerScheme),
    tags((name = "ingest", description = "Receiving logs from agents and shippers"),
        (name = "shippers", description = "The shippers' own protocols: OTLP, Loki, Elasticsearch bulk")),
)]
struct IngestDoc;

/// The OpenAPI document of the ingest routes, to merge into the API's.
pub fn document() -> utoipa::openapi::OpenApi {
    IngestDoc::openapi()
}
