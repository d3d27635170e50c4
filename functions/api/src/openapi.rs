//! The OpenAPI document of the whole HTTP surface and its docs page.
//!
//! The API's own bodies and query parameters derive their schemas from the
//! real types in `lib.rs`, and the routes are registered through
//! `utoipa_axum::routes!`, so a route cannot be served without being
//! documented. The types of `anomalog-core` and `anomalog-store` cannot carry
//! utoipa derives (core stays free of transport concerns), so their schemas
//! are written here; the tests in `tests/openapi.rs` validate real responses
//! against them with unknown properties forbidden, so a field added to a core
//! type without its schema fails a test.

use chrono::{DateTime, Utc};
use utoipa::openapi::OpenApi as Document;
use utoipa::{OpenApi, ToSchema};
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Where the document is served.
pub const DOCUMENT_PATH: &str = "/api/openapi.json";
/// Where its self-hosted docs page is served.
pub const DOCS_PATH: &str = "/api/docs";

/// Body of every API error.
#[derive(ToSchema)]
#[schema(example = json!({"error": "limit: must be between 1 and 1000"}))]
pub struct ErrorBody {
    /// What was wrong; for a 400 it starts with the parameter's name.
    pub error: String,
}

/// Severity of a log event, least severe first.
#[derive(ToSchema)]
#[schema(rename_all = "UPPERCASE")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

/// Events per level; every level is present.
#[derive(ToSchema)]
#[schema(rename_all = "UPPERCASE")]
pub struct LevelCounts {
    pub trace: u64,
    pub debug: u64,
    pub info: u64,
    pub warn: u64,
    pub error: u64,
    pub fatal: u64,
}

/// A stored log event.
#[derive(ToSchema)]
#[schema(example = json!({"id": "1763892000000-0-00001", "ts": "2026-11-23T10:00:00Z",
    "received_at": "2026-11-23T10:00:00.120Z", "service": "checkout", "host": "web-1", "level": "ERROR",
    "message": "payment provider timeout", "attrs": {"order": 42}}))]
pub struct StoredLog {
    /// Storage id: `<queue entry id>-<index>`; unique and stable.
    pub id: String,
    /// Event time; the receive time when the record carried none.
    pub ts: DateTime<Utc>,
    /// When ingest accepted the record.
    pub received_at: DateTime<Utc>,
    pub service: String,
    pub host: Option<String>,
    pub level: Level,
    pub message: String,
    /// The record's other fields.
    pub attrs: Option<std::collections::BTreeMap<String, serde_json::Value>>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    /// Where the record came from (file path, shipper name...).
    pub source: Option<String>,
    /// Present (true) only when the message was cut to the size limit.
    pub truncated: Option<bool>,
}

/// What kind of deviation an anomaly records.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// Many errors within a short window.
    Burst,
    /// Error count or ratio far above its trailing baseline.
    Spike,
    /// Volume far below its baseline, or silence.
    Drop,
}

/// Whether an anomaly is still going on.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum AnomalyStatus {
    Open,
    Resolved,
}

/// How loud an anomaly is, from its size relative to the threshold.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// A log line kept with an anomaly.
#[derive(ToSchema)]
pub struct LogSample {
    pub ts: DateTime<Utc>,
    pub level: Level,
    pub message: String,
}

/// A detected deviation of one service.
#[derive(ToSchema)]
pub struct Anomaly {
    /// Deterministic: derived from kind, service and the episode's start.
    pub id: String,
    pub kind: AnomalyKind,
    pub service: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// What was seen (errors in the window for bursts, the bucket count for spikes).
    pub observed: f64,
    /// What the baseline predicted.
    pub expected: f64,
    pub stddev: f64,
    /// Detector score in [0, 1]; 0.5 is the verdict threshold.
    pub score: f64,
    pub severity: Severity,
    pub status: AnomalyStatus,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Explanation: observed vs expected and the threshold.
    pub message: String,
    /// A few matching log lines.
    pub samples: Vec<LogSample>,
}

/// One service over the last 24 hours.
#[derive(ToSchema)]
pub struct ServiceSummary {
    pub service: String,
    pub first_seen: DateTime<Utc>,
    /// Start of the newest 10-second bucket with events.
    pub last_seen: DateTime<Utc>,
    pub total: u64,
    /// ERROR and FATAL events.
    pub errors: u64,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "anomalog",
        description = "Log ingest and the read API of anomalog: logs, volume and breakdown \
            statistics, anomalies, services, health. Times accept RFC 3339, Unix epoch seconds or \
            milliseconds, `now` and `now-15m` style (units s, m, h, d).",
    ),
    components(schemas(ErrorBody, Level, LevelCounts, StoredLog, AnomalyKind, AnomalyStatus,
        Severity, LogSample, Anomaly, ServiceSummary)),
    tags(
        (name = "logs", description = "Stored log lines"),
        (name = "stats", description = "Counts from the rollups"),
        (name = "anomalies", description = "What the detectors found"),
        (name = "services", description = "Services seen"),
        (name = "health", description = "Liveness"),
    ),
)]
pub(crate) struct ApiDoc;

/// The docs page: Swagger UI with its assets compiled into the binary (no
/// CDN), reading the document from [`DOCUMENT_PATH`].
pub(crate) fn docs_routes(document: Document) -> axum::Router {
    let config = Config::new([DOCUMENT_PATH])
        // The default asks validator.swagger.io about the document.
        .validator_url("none")
        .try_it_out_enabled(true)
        .display_request_duration(true);
    SwaggerUi::new(DOCS_PATH)
        .url(DOCUMENT_PATH, document)
        .config(config)
        .into()
}
