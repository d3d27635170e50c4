//! anomalog-api: the JSON read API under `/api`.
//!
//! Every endpoint reads through the storage ports; charts and counts come from
//! rollups, only `/api/logs` and anomaly samples touch raw logs.

mod params;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

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

/// The API routes, all under `/api`.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/logs", get(logs))
        .route("/api/stats/volume", get(volume))
        .route("/api/stats/breakdown", get(breakdown))
        .route("/api/anomalies", get(anomalies))
        .route("/api/anomalies/{id}", get(anomaly_detail))
        .route("/api/services", get(services))
        .with_state(state)
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
#[derive(Debug, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    /// Queued batches not yet processed by detect.
    pub queue_backlog: u64,
}

async fn health(State(state): State<ApiState>) -> ApiResult<Health> {
    let queue_backlog = state.stores.queue.backlog().await?;
    Ok(axum::Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        queue_backlog,
    }))
}

/// Query of `GET /api/logs`.
#[derive(Debug, Default, Deserialize)]
pub struct LogsParams {
    pub service: Option<String>,
    /// Minimum level.
    pub level: Option<String>,
    /// Case-insensitive text to find in the message.
    pub q: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// A page of logs, newest first.
#[derive(Debug, Serialize, Deserialize)]
pub struct LogsPage {
    pub items: Vec<StoredLog>,
    /// Pass as `cursor` to get the next (older) page.
    pub next_cursor: Option<String>,
}

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

/// Query of the stats endpoints.
#[derive(Debug, Default, Deserialize)]
pub struct StatsParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub service: Option<String>,
    /// Bucket width in seconds (a multiple of 10); chosen from the range if absent.
    pub step: Option<i64>,
}

/// One bucket of a volume series.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct VolumeBucket {
    pub ts: DateTime<Utc>,
    pub total: u64,
    pub counts: BTreeMap<Level, u64>,
}

/// `GET /api/stats/volume` body: a dense series, oldest first.
#[derive(Debug, Serialize, Deserialize)]
pub struct Volume {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub step_secs: i64,
    pub buckets: Vec<VolumeBucket>,
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

async fn volume(State(state): State<ApiState>, Query(p): Query<StatsParams>) -> ApiResult<Volume> {
    let range = TimeRange::from_params(p.from.as_deref(), p.to.as_deref(), state.now())?;
    let step = choose_step(&range, p.step)?;
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
        .map(|(ts, c)| VolumeBucket {
            ts,
            total: c.total(),
            counts: counts_map(&c),
        })
        .collect();
    Ok(axum::Json(Volume {
        from: range.from,
        to: range.to,
        step_secs: step,
        buckets,
    }))
}

/// One service's share in a breakdown.
#[derive(Debug, Serialize, Deserialize)]
pub struct ServiceBreakdown {
    pub service: String,
    pub total: u64,
    pub errors: u64,
    /// errors / total, 0 when there are no events.
    pub error_rate: f64,
    pub counts: BTreeMap<Level, u64>,
}

/// `GET /api/stats/breakdown` body.
#[derive(Debug, Serialize, Deserialize)]
pub struct Breakdown {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub total: u64,
    pub counts: BTreeMap<Level, u64>,
    /// Busiest first.
    pub services: Vec<ServiceBreakdown>,
}

async fn breakdown(
    State(state): State<ApiState>,
    Query(p): Query<StatsParams>,
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
#[derive(Debug, Default, Deserialize)]
pub struct AnomaliesParams {
    pub service: Option<String>,
    pub kind: Option<String>,
    pub status: Option<String>,
    /// Only anomalies whose window ends at or after this time.
    pub since: Option<String>,
    pub limit: Option<usize>,
}

/// A list of anomalies, newest first.
#[derive(Debug, Serialize, Deserialize)]
pub struct AnomalyList {
    pub items: Vec<Anomaly>,
}

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
#[derive(Debug, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub ts: DateTime<Utc>,
    pub total: u64,
    pub errors: u64,
}

/// `GET /api/anomalies/{id}` body: the anomaly, its service's series around the
/// window and error lines from the window.
#[derive(Debug, Serialize, Deserialize)]
pub struct AnomalyDetail {
    pub anomaly: Anomaly,
    pub step_secs: i64,
    pub series: Vec<SeriesPoint>,
    pub logs: Vec<StoredLog>,
}

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
#[derive(Debug, Serialize, Deserialize)]
pub struct ServiceList {
    /// Totals cover the last 24 hours.
    pub items: Vec<ServiceSummary>,
}

async fn services(State(state): State<ApiState>) -> ApiResult<ServiceList> {
    let since = state.now() - Duration::hours(24);
    let items = state.stores.rollups.services(since).await?;
    Ok(axum::Json(ServiceList { items }))
}
