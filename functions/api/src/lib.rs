//! anomalog-api: the JSON read API under `/api`.
//!
//! Every endpoint reads through the storage ports; charts and counts come from
//! rollups, only `/api/logs` and anomaly samples touch raw logs.

pub mod access;
pub mod anomalies;
pub mod dto;
pub mod incidents;
pub mod openapi;
mod params;
mod patterns;

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use anomalog_core::Level;
use anomalog_core::rollup::{
    FINE_BUCKET_SECS, LevelCounts, RollupRow, ServiceSeries as DenseSeries, bucket_count,
    bucket_start, rows_by_service, totals_by_service,
};
use anomalog_ingest::store_status;
use anomalog_store::{LogCursor, LogQuery, StoreError, Stores};

pub use access::guarded_router;
pub use params::{TimeRange, parse_time, quote};

/// Most log lines one page returns.
pub const MAX_LOG_LIMIT: usize = 1000;
/// Most buckets one volume series returns: a longer range needs a wider
/// `step` (a 400 names it), so no request allocates more.
pub const MAX_BUCKETS: u64 = 1440;
/// Most buckets one volume response returns over all its series (the
/// top-level one and each `by=service` one).
pub const MAX_VOLUME_CELLS: u64 = 30_000;
/// Longest `q` of `/api/logs`, in bytes: a search string, not a document.
pub const MAX_QUERY_TEXT_BYTES: usize = 4096;
/// Most services one page of `/api/services` or `/api/stats/breakdown` lists.
pub const MAX_PAGE: usize = 1000;

/// What the API handlers need.
#[derive(Clone)]
pub struct ApiState {
    pub stores: Stores,
    /// Current time; a parameter so tests can pin it.
    pub clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    /// The last queue backlog health read, reported when storage is too
    /// busy to answer within [`HEALTH_STORAGE_DEADLINE`].
    last_backlog: Arc<AtomicU64>,
}

impl ApiState {
    /// State reading the system clock.
    pub fn new(stores: Stores) -> ApiState {
        ApiState::with_clock(stores, Arc::new(Utc::now))
    }

    /// State reading `clock` (tests pin the time).
    pub fn with_clock(
        stores: Stores,
        clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    ) -> ApiState {
        ApiState {
            stores,
            clock,
            last_backlog: Arc::new(AtomicU64::new(0)),
        }
    }

    fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }
}

/// Every API route with its documentation: `routes!` only accepts handlers
/// annotated with `#[utoipa::path]`, so none is served undocumented.
fn documented_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::with_openapi(<openapi::ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(health))
        .routes(routes!(logs))
        .routes(routes!(volume))
        .routes(routes!(breakdown))
        .routes(routes!(anomalies::anomalies))
        .routes(routes!(anomalies::anomaly_detail))
        .routes(routes!(services))
        .routes(routes!(patterns::patterns))
        .routes(routes!(patterns::pattern_detail))
        .routes(routes!(incidents::incidents))
        .routes(routes!(incidents::incident_detail))
}

/// The OpenAPI 3.1 document of the whole HTTP surface: these routes and
/// `POST /ingest`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = documented_routes().split_for_parts();
    document.merge(anomalog_ingest::openapi::document());
    document
}

/// The API routes, all under `/api`, plus the OpenAPI document at
/// `/api/openapi.json` and its docs page at `/api/docs`. A handler that
/// panics answers 500 with a JSON body ([`panic_response`]); the process and
/// the connection's other requests carry on.
pub fn router(state: ApiState) -> Router {
    let (routes, _) = documented_routes().split_for_parts();
    routes
        .with_state(state)
        .merge(openapi::docs_routes(openapi_document()))
        .layer(catch_panics())
}

/// The layer that turns a handler's panic into [`panic_response`].
pub type CatchPanics = tower_http::catch_panic::CatchPanicLayer<PanicHandler>;

/// What [`CatchPanics`] calls with the panic's payload.
pub type PanicHandler = fn(Box<dyn Any + Send + 'static>) -> Response;

/// A [`CatchPanics`] layer answering [`panic_response`].
pub fn catch_panics() -> CatchPanics {
    tower_http::catch_panic::CatchPanicLayer::custom(panic_response as PanicHandler)
}

/// The answer to a request whose handler panicked: 500 with a JSON reason.
/// Nothing is logged here: the process's panic hook has written the one
/// line (message and location) already.
pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    let body = serde_json::json!({
        "error": "internal error: the request could not be handled (this is a bug; it was logged)"
    });
    (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response()
}

/// Why a read failed; each maps to one status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// Mapped to a status by [`store_status::status_of`], the one mapping
    /// ingest uses too.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<QueryRejection> for ApiError {
    /// The reason starts with the parameter's name, like every other 400.
    fn from(e: QueryRejection) -> Self {
        let text = e.body_text();
        let reason = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        ApiError::BadRequest(reason.to_owned())
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        ApiError::BadRequest(e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Store(e) => store_status::status_of(e),
        };
        if let ApiError::Store(e) = &self {
            tracing::warn!(error = %e, status = status.as_u16(), "read failed");
        }
        let body = axum::Json(serde_json::json!({ "error": self.to_string() }));
        let mut response = (status, body).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            store_status::set_retry_after(&mut response);
        }
        response
    }
}

type ApiResult<T> = Result<axum::Json<T>, ApiError>;

/// Longest health waits for storage before answering from what it last read.
pub const HEALTH_STORAGE_DEADLINE: std::time::Duration = std::time::Duration::from_millis(20);

/// `GET /api/health` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"status": "ok", "version": "0.1.0", "queue_backlog": 0}))]
pub struct Health {
    pub status: String,
    pub version: String,
    /// Queued batches not yet processed by detect.
    pub queue_backlog: u64,
    /// Present (true) when storage was too busy to count the backlog within
    /// 20 ms: `queue_backlog` is then the last count read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backlog_stale: bool,
}

/// Liveness and the queue backlog.
///
/// Answers within about 20 ms even while storage is busy (large batches
/// being written): the backlog is then the last one read, marked stale.
#[utoipa::path(get, path = "/api/health", tag = "health",
    responses(
        (status = 200, description = "The server answers; its storage answered or is busy.", body = Health),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
async fn health(State(state): State<ApiState>) -> ApiResult<Health> {
    let (queue_backlog, backlog_stale) =
        match tokio::time::timeout(HEALTH_STORAGE_DEADLINE, state.stores.queue.backlog()).await {
            Ok(counted) => {
                let n = counted?;
                state.last_backlog.store(n, Ordering::Relaxed);
                (n, false)
            }
            Err(_) => (state.last_backlog.load(Ordering::Relaxed), true),
        };
    Ok(axum::Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        queue_backlog,
        backlog_stale,
    }))
}

/// Query of `GET /api/logs`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsParams {
    /// Only this service.
    pub service: Option<String>,
    /// Minimum level, in any common spelling (`warn`, `error`, `3`...).
    #[param(example = "warn")]
    pub level: Option<String>,
    /// Case-insensitive text to find in the message.
    pub q: Option<String>,
    /// Oldest event time (inclusive).
    #[param(example = "now-15m")]
    pub from: Option<String>,
    /// Newest event time (exclusive).
    pub to: Option<String>,
    /// Lines per page, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page, for the next (older) one.
    pub cursor: Option<String>,
    /// Only lines of this log pattern (its 16-hex-digit id).
    #[param(example = "3f2a9c0d1b7e4a65")]
    pub pattern: Option<String>,
}

/// A page of logs, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LogsPage {
    pub items: Vec<dto::StoredLog>,
    /// Pass as `cursor` to get the next (older) page.
    pub next_cursor: Option<String>,
}

/// Logs, newest first, with cursor pagination.
///
/// A page has at most `limit` lines; pass its `next_cursor` as `cursor` (with
/// the same filters) for the next, older page. Pages never overlap, also
/// while new lines arrive.
#[utoipa::path(get, path = "/api/logs", tag = "logs", params(LogsParams),
    responses(
        (status = 200, description = "One page of matching lines.", body = LogsPage),
        (status = 400, description = "A parameter is invalid; the message names it.", body = openapi::ErrorBody,
            example = json!({"error": "level: unknown level 'loud' (expected one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL)"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
async fn logs(
    State(state): State<ApiState>,
    query: Result<Query<LogsParams>, QueryRejection>,
) -> ApiResult<LogsPage> {
    let Query(p) = query?;
    let now = state.now();
    let min_level = p
        .level
        .as_deref()
        .map(|l| l.parse::<Level>())
        .transpose()
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "level: unknown level {} (expected one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL)",
                quote(p.level.as_deref().unwrap_or_default())
            ))
        })?;
    let from = p
        .from
        .as_deref()
        .map(|v| parse_time("from", v, now))
        .transpose()?;
    let to =
        p.to.as_deref()
            .map(|v| parse_time("to", v, now))
            .transpose()?;
    let cursor = p
        .cursor
        .as_deref()
        .map(|c| {
            LogCursor::decode(c).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "cursor: {} is not a cursor from a previous page",
                    quote(c)
                ))
            })
        })
        .transpose()?;
    let limit = page_limit("limit", p.limit, 100, MAX_LOG_LIMIT)?;
    if let Some(q) = &p.q
        && q.len() > MAX_QUERY_TEXT_BYTES
    {
        return Err(ApiError::BadRequest(format!(
            "q: {} bytes is longer than the limit of {MAX_QUERY_TEXT_BYTES}",
            q.len()
        )));
    }
    let page = state
        .stores
        .logs
        .query(&LogQuery {
            service: p.service.filter(|s| !s.is_empty()),
            min_level,
            text: p.q.filter(|q| !q.is_empty()),
            from,
            to,
            limit,
            cursor,
            patterns: patterns::log_filter(p.pattern.as_deref())?,
        })
        .await?;
    Ok(axum::Json(LogsPage {
        items: page.items.into_iter().map(dto::StoredLog::from).collect(),
        next_cursor: page.next_cursor.map(|c| c.encode()),
    }))
}

/// `limit`-style parameter: `default` when absent, else 1 to `max`.
fn page_limit(
    name: &str,
    value: Option<usize>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match value.unwrap_or(default) {
        n @ 1.. if n <= max => Ok(n),
        _ => Err(ApiError::BadRequest(format!(
            "{name}: must be between 1 and {max}"
        ))),
    }
}

/// Query of `GET /api/stats/breakdown`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// Start of the range (inclusive); one hour before `to` by default.
    #[param(example = "now-1h")]
    pub from: Option<String>,
    /// End of the range (exclusive); now by default.
    pub to: Option<String>,
    /// Only this service.
    pub service: Option<String>,
    /// Services per page, busiest first, 1 to 1000 (default 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Services to skip (the busiest ones, listed by earlier pages).
    pub offset: Option<usize>,
}

/// Query of `GET /api/stats/volume`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VolumeParams {
    /// Start of the range (inclusive); one hour before `to` by default.
    #[param(example = "now-1h")]
    pub from: Option<String>,
    /// End of the range (exclusive); now by default.
    pub to: Option<String>,
    /// Only this service.
    pub service: Option<String>,
    /// Bucket width in seconds (a multiple of 10); chosen from the range
    /// (about 120 buckets) if absent. A range may hold at most 1440 buckets,
    /// and a response at most 30000 over all its series.
    #[param(example = 60)]
    pub step: Option<i64>,
    /// `service`: also return one series per service in `series`.
    #[param(example = "service")]
    pub by: Option<String>,
    /// With `by=service`: comma-separated services to return, in this order
    /// (at most 100; unknown ones get an all-zero series).
    #[param(example = "checkout,payments")]
    pub services: Option<String>,
    /// With `by=service` and no `services`: how many of the busiest services
    /// in the range to return, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub top: Option<usize>,
}

/// Most services one `by=service` volume request returns.
pub const MAX_SERIES: usize = 100;
/// Services a `by=service` volume request returns when `top` is absent.
pub const DEFAULT_TOP: usize = 10;

/// One bucket of a volume series.
#[derive(Debug, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct VolumeBucket {
    /// Start of the bucket.
    pub ts: DateTime<Utc>,
    pub total: u64,
    pub counts: dto::LevelCounts,
}

/// One service's volume series (`by=service`).
#[derive(Debug, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct ServiceSeries {
    pub service: String,
    /// Events of the service over the returned buckets.
    pub total: u64,
    /// ERROR and FATAL events over the returned buckets.
    pub errors: u64,
    /// Same buckets as the top-level series.
    pub buckets: Vec<VolumeBucket>,
}

impl From<&DenseSeries> for ServiceSeries {
    fn from(s: &DenseSeries) -> ServiceSeries {
        let all = s.total();
        ServiceSeries {
            service: s.service.clone(),
            total: all.total(),
            errors: all.errors(),
            buckets: volume_buckets(s),
        }
    }
}

/// `GET /api/stats/volume` body: a dense series, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"from": "2026-11-23T10:00:00Z", "to": "2026-11-23T10:01:00Z", "step_secs": 30,
    "buckets": [
        {"ts": "2026-11-23T10:00:00Z", "total": 12, "counts": {"TRACE": 0, "DEBUG": 0, "INFO": 10, "WARN": 1, "ERROR": 1, "FATAL": 0}},
        {"ts": "2026-11-23T10:00:30Z", "total": 9, "counts": {"TRACE": 0, "DEBUG": 0, "INFO": 9, "WARN": 0, "ERROR": 0, "FATAL": 0}}
    ]}))]
pub struct Volume {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub step_secs: i64,
    /// All selected events (every service, or `service`).
    pub buckets: Vec<VolumeBucket>,
    /// Only with `by=service`: one series per service, with the same buckets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Vec<ServiceSeries>>,
}

fn volume_buckets(s: &DenseSeries) -> Vec<VolumeBucket> {
    s.counts
        .iter()
        .enumerate()
        .map(|(i, c)| VolumeBucket {
            ts: s.bucket_time(i),
            total: c.total(),
            counts: c.into(),
        })
        .collect()
}

/// Widest bucket a request may ask for: a year.
pub const MAX_STEP_SECS: i64 = 366 * 86_400;

/// Automatic steps, narrowest first: about 120 buckets per range.
const AUTO_STEPS: [i64; 9] = [10, 30, 60, 300, 600, 1800, 3600, 21_600, 86_400];

/// The bucket width: `step` when given (a positive multiple of 10 s), else
/// the narrowest of [`AUTO_STEPS`] giving at most about 120 buckets (whole
/// days beyond). The range must fit [`MAX_BUCKETS`] buckets of it; the error
/// names `step` when it was given, `from` otherwise.
fn choose_step(range: &TimeRange, step: Option<i64>) -> Result<(i64, u64), ApiError> {
    let step = match step {
        Some(s) => {
            if s <= 0 || s % FINE_BUCKET_SECS != 0 || s > MAX_STEP_SECS {
                return Err(ApiError::BadRequest(format!(
                    "step: must be a positive multiple of 10 seconds, at most {MAX_STEP_SECS}"
                )));
            }
            s
        }
        None => {
            let span = (range.to - range.from).num_seconds();
            let ideal = span / 120;
            AUTO_STEPS
                .into_iter()
                .find(|&s| s >= ideal)
                .unwrap_or_else(|| (ideal / 86_400 + 1).saturating_mul(86_400))
        }
    };
    let buckets = bucket_count(range.from, range.to, step).unwrap_or(u64::MAX);
    if buckets > MAX_BUCKETS {
        let name = if step == FINE_BUCKET_SECS || buckets == u64::MAX {
            "from"
        } else {
            "step"
        };
        return Err(ApiError::BadRequest(format!(
            "{name}: {step} s buckets over this range would make {buckets}, more than the \
             limit of {MAX_BUCKETS}; use a wider step or a shorter range"
        )));
    }
    Ok((step, buckets))
}

/// Which services a `by=service` request wants.
enum SeriesSelection {
    Named(Vec<String>),
    Busiest(usize),
}

impl SeriesSelection {
    /// Most series this selection returns.
    fn len(&self) -> usize {
        match self {
            SeriesSelection::Named(names) => names.len(),
            SeriesSelection::Busiest(top) => *top,
        }
    }
}

fn series_selection(p: &VolumeParams) -> Result<Option<SeriesSelection>, ApiError> {
    match p.by.as_deref().map(str::trim) {
        None | Some("") => {
            if p.services.is_some() || p.top.is_some() {
                return Err(ApiError::BadRequest(
                    "by: 'services' and 'top' need by=service".into(),
                ));
            }
            return Ok(None);
        }
        Some("service") => {}
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "by: {} is not supported (use by=service)",
                quote(other)
            )));
        }
    }
    if let Some(list) = p.services.as_deref() {
        if p.top.is_some() {
            return Err(ApiError::BadRequest(
                "top: give either 'services' or 'top'".into(),
            ));
        }
        let mut names: Vec<String> = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !names.iter().any(|n| n == name) {
                if names.len() == MAX_SERIES {
                    return Err(ApiError::BadRequest(format!(
                        "services: at most {MAX_SERIES} services per request"
                    )));
                }
                names.push(name.to_owned());
            }
        }
        return Ok(Some(SeriesSelection::Named(names)));
    }
    let top = page_limit("top", p.top, DEFAULT_TOP, MAX_SERIES)?;
    Ok(Some(SeriesSelection::Busiest(top)))
}

/// Per-service series of `rows`, in the order `selection` asks for.
fn service_series(
    rows: &[RollupRow],
    range: &TimeRange,
    step: i64,
    selection: SeriesSelection,
) -> Vec<ServiceSeries> {
    let per_service = rows_by_service(rows);
    let names: Vec<String> = match selection {
        SeriesSelection::Named(names) => names,
        SeriesSelection::Busiest(top) => busiest(totals_by_service(rows))
            .into_iter()
            .take(top)
            .map(|(s, _)| s.to_owned())
            .collect(),
    };
    names
        .into_iter()
        .map(|service| {
            let own = per_service
                .get(service.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let dense =
                DenseSeries::summing(&service, own.iter().copied(), step, range.from, range.to);
            ServiceSeries::from(&dense)
        })
        .collect()
}

/// Services with their counts, busiest first (ties by name).
fn busiest(totals: std::collections::BTreeMap<&str, LevelCounts>) -> Vec<(&str, LevelCounts)> {
    let mut out: Vec<(&str, LevelCounts)> = totals.into_iter().collect();
    out.sort_by(|a, b| b.1.total().cmp(&a.1.total()).then(a.0.cmp(b.0)));
    out
}

/// Event counts per time bucket and level.
///
/// With `by=service`, also one series per service (the busiest `top`, or the
/// listed `services`), so a dashboard draws every service's error rate from
/// one request. A response holds at most 1440 buckets per series and 30000
/// in all: a wider `step`, a shorter range or fewer services fit.
#[utoipa::path(get, path = "/api/stats/volume", tag = "stats", params(VolumeParams),
    responses(
        (status = 200, description = "A dense series over the range, oldest first; empty buckets count 0.", body = Volume),
        (status = 400, description = "A parameter is invalid, or the response would be too large; the message names the parameter.", body = openapi::ErrorBody,
            example = json!({"error": "step: must be a positive multiple of 10 seconds"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
async fn volume(
    State(state): State<ApiState>,
    query: Result<Query<VolumeParams>, QueryRejection>,
) -> ApiResult<Volume> {
    let Query(p) = query?;
    let range = TimeRange::from_params(p.from.as_deref(), p.to.as_deref(), state.now())?;
    let (step, buckets) = choose_step(&range, p.step)?;
    let selection = series_selection(&p)?;
    let series_count = 1 + selection.as_ref().map_or(0, SeriesSelection::len) as u64;
    if buckets.saturating_mul(series_count) > MAX_VOLUME_CELLS {
        let name = if p.services.is_some() {
            "services"
        } else if p.top.is_some() {
            "top"
        } else {
            "step"
        };
        return Err(ApiError::BadRequest(format!(
            "{name}: {series_count} series of {buckets} buckets would exceed the limit of \
             {MAX_VOLUME_CELLS} buckets per response; use a wider step, a shorter range or \
             fewer services"
        )));
    }
    let rows = state
        .stores
        .rollups
        .rollups(
            p.service.as_deref().filter(|s| !s.is_empty()),
            bucket_start(range.from, step),
            range.to,
        )
        .await?;
    let all = DenseSeries::summing("", &rows, step, range.from, range.to);
    let series = selection.map(|s| service_series(&rows, &range, step, s));
    Ok(axum::Json(Volume {
        from: range.from,
        to: range.to,
        step_secs: step,
        buckets: volume_buckets(&all),
        series,
    }))
}

/// One service's share in a breakdown.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceBreakdown {
    pub service: String,
    pub total: u64,
    pub errors: u64,
    /// errors / total, 0 when there are no events.
    pub error_rate: f64,
    pub counts: dto::LevelCounts,
}

/// `GET /api/stats/breakdown` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Breakdown {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub total: u64,
    pub counts: dto::LevelCounts,
    /// Busiest first: one page of at most `limit` services from `offset`.
    pub services: Vec<ServiceBreakdown>,
    /// Services in the range, on every page together.
    pub services_total: usize,
}

/// Event counts by service and level over a range.
///
/// `services` is paged (busiest first, `limit` from `offset`); the totals
/// always cover every service.
#[utoipa::path(get, path = "/api/stats/breakdown", tag = "stats", params(RangeParams),
    responses(
        (status = 200, description = "Totals of the range, busiest service first.", body = Breakdown),
        (status = 400, description = "A parameter is invalid; the message names it.", body = openapi::ErrorBody,
            example = json!({"error": "from: must be before to"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
async fn breakdown(
    State(state): State<ApiState>,
    query: Result<Query<RangeParams>, QueryRejection>,
) -> ApiResult<Breakdown> {
    let Query(p) = query?;
    let range = TimeRange::from_params(p.from.as_deref(), p.to.as_deref(), state.now())?;
    let limit = page_limit("limit", p.limit, MAX_PAGE, MAX_PAGE)?;
    let offset = p.offset.unwrap_or(0);
    let rows = state
        .stores
        .rollups
        .rollups(
            p.service.as_deref().filter(|s| !s.is_empty()),
            bucket_start(range.from, FINE_BUCKET_SECS),
            range.to,
        )
        .await?;
    let per_service = busiest(totals_by_service(&rows));
    let mut all = LevelCounts::default();
    for (_, c) in &per_service {
        all.merge(c);
    }
    let services_total = per_service.len();
    let services = per_service
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|(service, c)| ServiceBreakdown {
            service: service.to_owned(),
            total: c.total(),
            errors: c.errors(),
            error_rate: if c.total() > 0 {
                c.errors() as f64 / c.total() as f64
            } else {
                0.0
            },
            counts: (&c).into(),
        })
        .collect();
    Ok(axum::Json(Breakdown {
        from: range.from,
        to: range.to,
        total: all.total(),
        counts: (&all).into(),
        services,
        services_total,
    }))
}

/// Query of `GET /api/services`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServicesParams {
    /// Services per page, by name, 1 to 1000 (default 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page: services after this name.
    pub cursor: Option<String>,
}

/// `GET /api/services` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceList {
    /// Totals cover the last 24 hours; ordered by name.
    pub items: Vec<dto::ServiceSummary>,
    /// Pass as `cursor` to get the next page; absent on the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Services with events in the last 24 hours and their totals, by name,
/// a page at a time.
#[utoipa::path(get, path = "/api/services", tag = "services", params(ServicesParams),
    responses(
        (status = 200, description = "Services, with totals over the last 24 hours.", body = ServiceList),
        (status = 400, description = "A parameter is invalid; the message names it.", body = openapi::ErrorBody,
            example = json!({"error": "limit: must be between 1 and 1000"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
async fn services(
    State(state): State<ApiState>,
    query: Result<Query<ServicesParams>, QueryRejection>,
) -> ApiResult<ServiceList> {
    let Query(p) = query?;
    let limit = page_limit("limit", p.limit, MAX_PAGE, MAX_PAGE)?;
    let since = state
        .now()
        .checked_sub_signed(Duration::hours(24))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut all = state.stores.rollups.services(since).await?;
    all.sort_by(|a, b| a.service.cmp(&b.service));
    let after = p.cursor.as_deref().unwrap_or_default();
    let start = all.partition_point(|s| s.service.as_str() <= after);
    let mut items: Vec<dto::ServiceSummary> = all
        .into_iter()
        .skip(start)
        .take(limit + 1)
        .map(dto::ServiceSummary::from)
        .collect();
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|s| s.service.clone())
    } else {
        None
    };
    Ok(axum::Json(ServiceList { items, next_cursor }))
}
