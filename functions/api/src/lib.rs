//! anomalog-api: the JSON read API under `/api`.
//!
//! Every endpoint reads through the storage ports; charts and counts come from
//! rollups, only `/api/logs` and anomaly samples touch raw logs.

pub mod openapi;
mod params;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use anomalog_core::rollup::{FINE_BUCKET_SECS, LevelCounts, RollupRow, bucket_start};
use anomalog_core::{Anomaly, Level, StoredLog};
use anomalog_store::{AnomalyQuery, LogCursor, LogQuery, ServiceSummary, StoreError, Stores};

pub use params::{TimeRange, parse_time};

/// Most log lines one page returns.
pub const MAX_LOG_LIMIT: usize = 1000;
/// Most buckets one volume series returns; the step widens to stay under it.
pub const MAX_BUCKETS: i64 = 1440;

/// What the API handlers need.
#[derive(Clone)]
pub struct ApiState {
    pub stores: Stores,
    /// Current time; a parameter so tests can pin it.
    pub clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
}

impl ApiState {
    /// State reading the system clock.
    pub fn new(stores: Stores) -> ApiState {
        ApiState {
            stores,
            clock: Arc::new(Utc::now),
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
        .routes(routes!(anomalies))
        .routes(routes!(anomaly_detail))
        .routes(routes!(services))
}

/// The OpenAPI 3.1 document of the whole HTTP surface: these routes and
/// `POST /ingest`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut document) = documented_routes().split_for_parts();
    document.merge(anomalog_ingest::openapi::document());
    document
}

/// The API routes, all under `/api`, plus the OpenAPI document at
/// `/api/openapi.json` and its docs page at `/api/docs`.
pub fn router(state: ApiState) -> Router {
    let (routes, _) = documented_routes().split_for_parts();
    routes
        .with_state(state)
        .merge(openapi::docs_routes(openapi_document()))
}

/// Why a read failed; each maps to one status code.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        let body = axum::Json(serde_json::json!({ "error": self.to_string() }));
        let mut response = (status, body).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
        }
        response
    }
}

type ApiResult<T> = Result<axum::Json<T>, ApiError>;

/// `GET /api/health` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"status": "ok", "version": "0.1.0", "queue_backlog": 0}))]
pub struct Health {
    pub status: String,
    pub version: String,
    /// Queued batches not yet processed by detect.
    pub queue_backlog: u64,
}

/// Liveness and the queue backlog.
#[utoipa::path(get, path = "/api/health", tag = "health",
    responses(
        (status = 200, description = "The server and its storage answer.", body = Health),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
async fn health(State(state): State<ApiState>) -> ApiResult<Health> {
    let queue_backlog = state.stores.queue.backlog().await?;
    Ok(axum::Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        queue_backlog,
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
}

/// A page of logs, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LogsPage {
    #[schema(value_type = Vec<openapi::StoredLog>)]
    pub items: Vec<StoredLog>,
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
async fn logs(State(state): State<ApiState>, Query(p): Query<LogsParams>) -> ApiResult<LogsPage> {
    let now = state.now();
    let min_level = p
        .level
        .as_deref()
        .map(|l| l.parse::<Level>())
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("level: {e}")))?;
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
                    "cursor: '{c}' is not a cursor from a previous page"
                ))
            })
        })
        .transpose()?;
    let limit = p.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_LOG_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "limit: must be between 1 and {MAX_LOG_LIMIT}"
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
        })
        .await?;
    Ok(axum::Json(LogsPage {
        items: page.items,
        next_cursor: page.next_cursor.map(|c| c.encode()),
    }))
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
    /// (about 120 buckets) if absent.
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
    #[schema(value_type = openapi::LevelCounts)]
    pub counts: BTreeMap<Level, u64>,
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

fn counts_map(c: &LevelCounts) -> BTreeMap<Level, u64> {
    Level::ALL.iter().map(|&l| (l, c.get(l))).collect()
}

fn choose_step(range: &TimeRange, requested: Option<i64>) -> Result<i64, ApiError> {
    let span = (range.to - range.from).num_seconds().max(1);
    match requested {
        Some(step) if step <= 0 || step % FINE_BUCKET_SECS != 0 => Err(ApiError::BadRequest(
            format!("step: must be a positive multiple of {FINE_BUCKET_SECS} seconds"),
        )),
        Some(step) if span / step > MAX_BUCKETS => Err(ApiError::BadRequest(format!(
            "step: {step}s gives more than {MAX_BUCKETS} buckets over this range"
        ))),
        Some(step) => Ok(step),
        None => {
            // Aim for about 120 buckets, on a round width.
            let ideal = span / 120;
            let steps = [10, 30, 60, 300, 600, 1800, 3600, 21_600, 86_400];
            Ok(steps.into_iter().find(|&s| s >= ideal).unwrap_or(86_400))
        }
    }
}

/// Dense per-step counts over `range`, from fine rollup rows.
fn bucketize(
    rows: &[RollupRow],
    range: &TimeRange,
    step: i64,
) -> Vec<(DateTime<Utc>, LevelCounts)> {
    let start = bucket_start(range.from, step);
    let n = ((range.to - start).num_seconds() + step - 1) / step;
    let mut out: Vec<(DateTime<Utc>, LevelCounts)> = (0..n.max(0))
        .map(|i| (start + Duration::seconds(i * step), LevelCounts::default()))
        .collect();
    for row in rows {
        let i = (row.bucket - start).num_seconds().div_euclid(step);
        if let Some((_, cell)) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
            cell.add(row.level, row.count);
        }
    }
    out
}

/// Which services a `by=service` request wants.
enum SeriesSelection {
    Named(Vec<String>),
    Busiest(usize),
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
                "by: '{other}' is not supported (use by=service)"
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
                names.push(name.to_owned());
            }
        }
        if names.len() > MAX_SERIES {
            return Err(ApiError::BadRequest(format!(
                "services: at most {MAX_SERIES} services per request"
            )));
        }
        return Ok(Some(SeriesSelection::Named(names)));
    }
    let top = p.top.unwrap_or(DEFAULT_TOP);
    if top == 0 || top > MAX_SERIES {
        return Err(ApiError::BadRequest(format!(
            "top: must be between 1 and {MAX_SERIES}"
        )));
    }
    Ok(Some(SeriesSelection::Busiest(top)))
}

/// Per-service series of `rows`, in the order `selection` asks for.
fn service_series(
    rows: &[RollupRow],
    range: &TimeRange,
    step: i64,
    selection: SeriesSelection,
) -> Vec<ServiceSeries> {
    let mut per_service: BTreeMap<&str, Vec<RollupRow>> = BTreeMap::new();
    for row in rows {
        per_service
            .entry(row.service.as_str())
            .or_default()
            .push(row.clone());
    }
    let names: Vec<String> = match selection {
        SeriesSelection::Named(names) => names,
        SeriesSelection::Busiest(top) => {
            let mut totals: Vec<(&str, u64)> = per_service
                .iter()
                .map(|(s, rows)| (*s, rows.iter().map(|r| r.count).sum()))
                .collect();
            totals.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            totals
                .into_iter()
                .take(top)
                .map(|(s, _)| s.to_owned())
                .collect()
        }
    };
    names
        .into_iter()
        .map(|service| {
            let own = per_service
                .get(service.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let cells = bucketize(own, range, step);
            let mut all = LevelCounts::default();
            for (_, c) in &cells {
                for level in Level::ALL {
                    all.add(level, c.get(level));
                }
            }
            ServiceSeries {
                service,
                total: all.total(),
                errors: all.errors(),
                buckets: cells.into_iter().map(volume_bucket).collect(),
            }
        })
        .collect()
}

fn volume_bucket((ts, c): (DateTime<Utc>, LevelCounts)) -> VolumeBucket {
    VolumeBucket {
        ts,
        total: c.total(),
        counts: counts_map(&c),
    }
}

/// Event counts per time bucket and level.
///
/// With `by=service`, also one series per service (the busiest `top`, or the
/// listed `services`), so a dashboard draws every service's error rate from
/// one request.
#[utoipa::path(get, path = "/api/stats/volume", tag = "stats", params(VolumeParams),
    responses(
        (status = 200, description = "A dense series over the range, oldest first; empty buckets count 0.", body = Volume),
        (status = 400, description = "A parameter is invalid; the message names it.", body = openapi::ErrorBody,
            example = json!({"error": "step: must be a positive multiple of 10 seconds"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
async fn volume(State(state): State<ApiState>, Query(p): Query<VolumeParams>) -> ApiResult<Volume> {
    let range = TimeRange::from_params(p.from.as_deref(), p.to.as_deref(), state.now())?;
    let step = choose_step(&range, p.step)?;
    let selection = series_selection(&p)?;
    let rows = state
        .stores
        .rollups
        .rollups(
            p.service.as_deref().filter(|s| !s.is_empty()),
            bucket_start(range.from, step),
            range.to,
        )
        .await?;
    let buckets = bucketize(&rows, &range, step)
        .into_iter()
        .map(volume_bucket)
        .collect();
    let series = selection.map(|s| service_series(&rows, &range, step, s));
    Ok(axum::Json(Volume {
        from: range.from,
        to: range.to,
        step_secs: step,
        buckets,
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
    #[schema(value_type = openapi::LevelCounts)]
    pub counts: BTreeMap<Level, u64>,
}

/// `GET /api/stats/breakdown` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Breakdown {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub total: u64,
    #[schema(value_type = openapi::LevelCounts)]
    pub counts: BTreeMap<Level, u64>,
    /// Busiest first.
    pub services: Vec<ServiceBreakdown>,
}

/// Event counts by service and level over a range.
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
    Query(p): Query<RangeParams>,
) -> ApiResult<Breakdown> {
    let range = TimeRange::from_params(p.from.as_deref(), p.to.as_deref(), state.now())?;
    let rows = state
        .stores
        .rollups
        .rollups(
            p.service.as_deref().filter(|s| !s.is_empty()),
            bucket_start(range.from, FINE_BUCKET_SECS),
            range.to,
        )
        .await?;
    let mut all = LevelCounts::default();
    let mut per_service: BTreeMap<&str, LevelCounts> = BTreeMap::new();
    for row in &rows {
        all.add(row.level, row.count);
        per_service
            .entry(row.service.as_str())
            .or_default()
            .add(row.level, row.count);
    }
    let mut services: Vec<ServiceBreakdown> = per_service
        .into_iter()
        .map(|(service, c)| ServiceBreakdown {
            service: service.to_owned(),
            total: c.total(),
            errors: c.errors(),
            error_rate: if c.total() > 0 {
                c.errors() as f64 / c.total() as f64
            } else {
                0.0
            },
            counts: counts_map(&c),
        })
        .collect();
    services.sort_by(|a, b| b.total.cmp(&a.total).then(a.service.cmp(&b.service)));
    Ok(axum::Json(Breakdown {
        from: range.from,
        to: range.to,
        total: all.total(),
        counts: counts_map(&all),
        services,
    }))
}

/// Query of `GET /api/anomalies`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnomaliesParams {
    /// Only this service.
    pub service: Option<String>,
    /// `burst`, `spike` or `drop`.
    #[param(example = "burst")]
    pub kind: Option<String>,
    /// `open` or `resolved`.
    #[param(example = "open")]
    pub status: Option<String>,
    /// Only anomalies whose window ends at or after this time.
    #[param(example = "now-24h")]
    pub since: Option<String>,
    /// At most this many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// A list of anomalies, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AnomalyList {
    #[schema(value_type = Vec<openapi::Anomaly>)]
    pub items: Vec<Anomaly>,
}

/// Anomalies, newest first.
#[utoipa::path(get, path = "/api/anomalies", tag = "anomalies", params(AnomaliesParams),
    responses(
        (status = 200, description = "Matching anomalies.", body = AnomalyList),
        (status = 400, description = "A parameter is invalid; the message names it.", body = openapi::ErrorBody,
            example = json!({"error": "kind: unknown anomaly kind 'big' (expected burst, spike or drop)"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
async fn anomalies(
    State(state): State<ApiState>,
    Query(p): Query<AnomaliesParams>,
) -> ApiResult<AnomalyList> {
    let now = state.now();
    let kind = p
        .kind
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("kind: {e}")))?;
    let status = p
        .status
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("status: {e}")))?;
    let since = p
        .since
        .as_deref()
        .map(|v| parse_time("since", v, now))
        .transpose()?;
    let limit = p.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_LOG_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "limit: must be between 1 and {MAX_LOG_LIMIT}"
        )));
    }
    let items = state
        .stores
        .anomalies
        .list(&AnomalyQuery {
            service: p.service.filter(|s| !s.is_empty()),
            kind,
            status,
            since,
            limit,
        })
        .await?;
    Ok(axum::Json(AnomalyList { items }))
}

/// One point of the series around an anomaly.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SeriesPoint {
    pub ts: DateTime<Utc>,
    pub total: u64,
    pub errors: u64,
}

/// `GET /api/anomalies/{id}` body: the anomaly, its service's series around the
/// window and error lines from the window.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AnomalyDetail {
    #[schema(value_type = openapi::Anomaly)]
    pub anomaly: Anomaly,
    pub step_secs: i64,
    /// The service's counts from 15 minutes before to 15 minutes after the window.
    pub series: Vec<SeriesPoint>,
    /// Up to 50 error lines of the window, newest first.
    #[schema(value_type = Vec<openapi::StoredLog>)]
    pub logs: Vec<StoredLog>,
}

/// One anomaly with its service's series around it and its error lines.
#[utoipa::path(get, path = "/api/anomalies/{id}", tag = "anomalies",
    params(("id" = String, Path, description = "The anomaly's id.")),
    responses(
        (status = 200, description = "The anomaly and its context.", body = AnomalyDetail),
        (status = 404, description = "No anomaly has this id.", body = openapi::ErrorBody,
            example = json!({"error": "no anomaly with id 'abc'"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
async fn anomaly_detail(
    State(state): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<AnomalyDetail> {
    let anomaly = state
        .stores
        .anomalies
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no anomaly with id '{id}'")))?;
    let margin = Duration::minutes(15);
    let range = TimeRange {
        from: anomaly.window_start - margin,
        to: anomaly.window_end + margin,
    };
    let rows = state
        .stores
        .rollups
        .rollups(Some(&anomaly.service), range.from, range.to)
        .await?;
    let series = bucketize(&rows, &range, FINE_BUCKET_SECS)
        .into_iter()
        .map(|(ts, c)| SeriesPoint {
            ts,
            total: c.total(),
            errors: c.errors(),
        })
        .collect();
    let logs = state
        .stores
        .logs
        .query(&LogQuery::errors_in_window(&anomaly, 50))
        .await?
        .items;
    Ok(axum::Json(AnomalyDetail {
        anomaly,
        step_secs: FINE_BUCKET_SECS,
        series,
        logs,
    }))
}

/// `GET /api/services` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ServiceList {
    /// Totals cover the last 24 hours.
    #[schema(value_type = Vec<openapi::ServiceSummary>)]
    pub items: Vec<ServiceSummary>,
}

/// Services with events in the last 24 hours and their totals.
#[utoipa::path(get, path = "/api/services", tag = "services",
    responses(
        (status = 200, description = "Services, with totals over the last 24 hours.", body = ServiceList),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
async fn services(State(state): State<ApiState>) -> ApiResult<ServiceList> {
    let since = state.now() - Duration::hours(24);
    let items = state.stores.rollups.services(since).await?;
    Ok(axum::Json(ServiceList { items }))
}
