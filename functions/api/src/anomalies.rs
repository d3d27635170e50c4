//! `GET /api/anomalies` and `GET /api/anomalies/{id}`: what detect found,
//! and one anomaly with its service's series and error lines around it.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use anomalog_core::rollup::{FINE_BUCKET_SECS, ServiceSeries as DenseSeries, bucket_count};
use anomalog_store::{AnomalyQuery, LogQuery};

use crate::params::{parse_opt, parse_opt_time};
use crate::{
    ApiError, ApiResult, ApiState, MAX_BUCKETS, MAX_LOG_LIMIT, TimeRange, dto, openapi, page_limit,
    quote,
};

/// Query of `GET /api/anomalies`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnomaliesParams {
    /// Only this service.
    pub service: Option<String>,
    /// `burst`, `spike`, `drop` or `new_pattern`.
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
    pub items: Vec<dto::Anomaly>,
}

/// Anomalies, newest first.
#[utoipa::path(get, path = "/api/anomalies", tag = "anomalies", params(AnomaliesParams),
    responses(
        (status = 200, description = "Matching anomalies.", body = AnomalyList),
        (status = 400, description = "A parameter is invalid; the message names it.", body = openapi::ErrorBody,
            example = json!({"error": "kind: unknown anomaly kind 'big' (expected burst, spike, drop or new_pattern)"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
pub(crate) async fn anomalies(
    State(state): State<ApiState>,
    query: Result<Query<AnomaliesParams>, QueryRejection>,
) -> ApiResult<AnomalyList> {
    let Query(p) = query?;
    let now = state.now();
    let kind = parse_opt("kind", p.kind.as_deref())?;
    let status = parse_opt("status", p.status.as_deref())?;
    let since = parse_opt_time("since", p.since.as_deref(), now)?;
    let limit = page_limit("limit", p.limit, 100, MAX_LOG_LIMIT)?;
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
    Ok(axum::Json(AnomalyList {
        items: items.into_iter().map(dto::Anomaly::from).collect(),
    }))
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
    pub anomaly: dto::Anomaly,
    pub step_secs: i64,
    /// The service's counts from 15 minutes before to 15 minutes after the
    /// window (in 10-second buckets, wider for a long window: at most 1440).
    pub series: Vec<SeriesPoint>,
    /// Up to 50 error lines of the window, newest first.
    pub logs: Vec<dto::StoredLog>,
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
pub(crate) async fn anomaly_detail(
    State(state): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<AnomalyDetail> {
    let Path(id) = id?;
    let anomaly = state
        .stores
        .anomalies
        .get(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no anomaly with id {}", quote(&id))))?;
    let margin = Duration::minutes(15);
    let range = TimeRange {
        from: anomaly
            .window_start
            .checked_sub_signed(margin)
            .unwrap_or(anomaly.window_start),
        to: anomaly
            .window_end
            .checked_add_signed(margin)
            .unwrap_or(anomaly.window_end),
    };
    // Fine buckets, or whole multiples of them for a window too long to
    // show that finely.
    let fine = bucket_count(range.from, range.to, FINE_BUCKET_SECS).unwrap_or(u64::MAX);
    let factor = i64::try_from(fine.div_ceil(MAX_BUCKETS).max(1)).unwrap_or(i64::MAX);
    let step = FINE_BUCKET_SECS.saturating_mul(factor);
    let rows = state
        .stores
        .rollups
        .rollups(Some(&anomaly.service), range.from, range.to)
        .await?;
    let dense = DenseSeries::summing(&anomaly.service, &rows, step, range.from, range.to);
    let series = dense
        .counts
        .iter()
        .enumerate()
        .map(|(i, c)| SeriesPoint {
            ts: dense.bucket_time(i),
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
        anomaly: anomaly.into(),
        step_secs: step,
        series,
        logs: logs.into_iter().map(dto::StoredLog::from).collect(),
    }))
}
