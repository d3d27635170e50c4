//! The OpenAPI document of the whole HTTP surface and its docs page.
//!
//! The API's bodies and query parameters derive their schemas from the real
//! types in `lib.rs` and `dto.rs` (the API's own body types: core and store
//! types are never serialised as responses), and the routes are registered
//! through `utoipa_axum::routes!`, so a route cannot be served without being
//! documented. The tests in `tests/openapi.rs` validate real responses against
//! the schemas with unknown properties forbidden.

use utoipa::openapi::OpenApi as Document;
use utoipa::{OpenApi, ToSchema};

use crate::dto::{
    Anomaly, AnomalyKind, AnomalyStatus, Level, LevelCounts, LogSample, Measure, Metric,
    PatternChange, ServiceSummary, Severity, StoredLog, Unit,
};

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

#[derive(OpenApi)]
#[openapi(
    info(
        title = "anomalog",
        description = "Log ingest and the read API of anomalog: logs, volume and breakdown \
            statistics, anomalies, services, health. Times accept RFC 3339, Unix epoch seconds, \
            milliseconds, microseconds or nanoseconds (told apart by magnitude), `now` and `now-15m` style (units s, m, h, d).",
    ),
    components(schemas(ErrorBody, Level, LevelCounts, StoredLog, AnomalyKind, AnomalyStatus,
        Severity, LogSample, Metric, Unit, Measure, PatternChange, Anomaly, ServiceSummary)),
    tags(
        (name = "logs", description = "Stored log lines"),
        (name = "stats", description = "Counts from the rollups"),
        (name = "anomalies", description = "What the detectors found"),
        (name = "incidents", description = "Anomalies grouped by cause"),
        (name = "services", description = "Services seen"),
        (name = "patterns", description = "Log patterns mined from the messages"),
        (name = "health", description = "Liveness"),
    ),
)]
pub(crate) struct ApiDoc;

/// The docs page: Swagger UI with its assets compiled into the binary (no
/// CDN), reading the document from [`DOCUMENT_PATH`].
#[cfg(feature = "docs-page")]
pub(crate) fn docs_routes(document: Document) -> axum::Router {
    use utoipa_swagger_ui::{Config, SwaggerUi};
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

/// Without the `docs-page` feature (the api Lambda): the document alone.
#[cfg(not(feature = "docs-page"))]
pub(crate) fn docs_routes(document: Document) -> axum::Router {
    let document = std::sync::Arc::new(document);
    axum::Router::new().route(
        DOCUMENT_PATH,
        axum::routing::get(move || {
            let document = document.clone();
            async move { axum::Json(document.as_ref().clone()) }
        }),
    )
}
