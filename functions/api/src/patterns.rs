//! `/api/patterns`: the log patterns of each service, from the pattern
//! records and the per-minute pattern rollups; and the `pattern` filter of
//! `/api/logs`.

use std::collections::HashMap;

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use anomalog_core::pattern::PatternId;
use anomalog_store::{PATTERN_BUCKET_SECS, PatternQuery, PatternRecord, PatternRollupRow};

use crate::params::{TimeRange, quote};
use crate::{ApiError, ApiResult, ApiState, dto, openapi};

/// Points of a pattern's trend series.
pub const TREND_POINTS: usize = 30;
/// Most points of a pattern's rate series (`/api/patterns/{id}`).
pub const SERIES_POINTS: i64 = 120;
/// Most patterns one listing returns.
pub const MAX_PATTERNS: usize = 1000;
/// Longest `q`, in bytes.
const MAX_TEXT_BYTES: usize = 1024;

/// The pattern ids `/api/logs?pattern=` filters on (empty: no filter).
pub(crate) fn log_filter(pattern: Option<&str>) -> Result<Vec<String>, ApiError> {
    match pattern.filter(|p| !p.is_empty()) {
        None => Ok(Vec::new()),
        Some(p) => p
            .parse::<PatternId>()
            .map(|id| vec![id.to_string()])
            .map_err(|e| ApiError::BadRequest(format!("pattern: {e}"))),
    }
}

/// Query of `GET /api/patterns`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatternsParams {
    /// Only this service.
    pub service: Option<String>,
    /// Start of the counted range (inclusive); default one hour before `to`.
    #[param(example = "now-1h")]
    pub from: Option<String>,
    /// End of the counted range (exclusive); default now.
    pub to: Option<String>,
    /// Case-insensitive text to find in the template.
    pub q: Option<String>,
    /// Most patterns, 1 to 1000 (default 200), most lines first.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// Query of `GET /api/patterns/{id}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PatternRangeParams {
    /// Start of the counted range (inclusive); default one hour before `to`.
    pub from: Option<String>,
    /// End of the counted range (exclusive); default now.
    pub to: Option<String>,
}

/// Lines of one pattern per level within the range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatternLevels {
    pub trace: u64,
    pub debug: u64,
    pub info: u64,
    pub warn: u64,
    pub error: u64,
    pub fatal: u64,
}

/// One log pattern of a service, with its counts in the range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "3f2a9c0d1b7e4a65", "service": "checkout",
    "template": "payment provider <*> timed out after <*> ms", "first_seen": "2026-11-23T10:00:00Z",
    "last_seen": "2026-11-23T10:59:00Z", "total": 1520, "count": 42, "new": false,
    "levels": {"trace": 0, "debug": 0, "info": 0, "warn": 0, "error": 42, "fatal": 0},
    "trend": [1, 0, 3], "trend_step_secs": 120,
    "example": "payment provider acme timed out after 3000 ms"}))]
pub struct PatternSummary {
    /// Stable id within the service (16 hex digits).
    pub id: String,
    pub service: String,
    /// The message with its variable parts as `<*>`.
    pub template: String,
    /// Event time of its first and newest stored line.
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Lines of the pattern counted since it appeared (all time).
    pub total: u64,
    /// Lines within the range.
    pub count: u64,
    /// First seen within the range.
    pub new: bool,
    pub levels: PatternLevels,
    /// Lines per step across the range, oldest first (30 points).
    pub trend: Vec<u64>,
    pub trend_step_secs: i64,
    /// One of its messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// `GET /api/patterns` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PatternsPage {
    /// Most lines in the range first.
    pub items: Vec<PatternSummary>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// Lines of one pattern in one step of its rate series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatternPoint {
    /// Start of the step.
    pub ts: DateTime<Utc>,
    pub count: u64,
}

/// `GET /api/patterns/{id}` body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PatternDetail {
    pub pattern: PatternSummary,
    /// Length of a step of `series`, in seconds: a whole number of minutes,
    /// at least one, so the range fits in at most 120 steps.
    pub step_secs: i64,
    /// Its lines per step across the range, oldest first, dense (steps
    /// without lines are 0); merged patterns count here.
    pub series: Vec<PatternPoint>,
    /// A few of its messages, as first seen.
    pub examples: Vec<String>,
    /// Ids of patterns merged into this one (their lines count here).
    pub merged: Vec<String>,
    /// Its newest lines within the range.
    pub logs: Vec<dto::StoredLog>,
}

/// Counts of each pattern in the range, merged patterns counted as their
/// survivor.
struct Counts {
    by_pattern: HashMap<String, (PatternLevels, Vec<u64>)>,
    step_secs: i64,
}

impl Counts {
    fn of(rows: &[PatternRollupRow], range: &TimeRange, alias: &HashMap<String, String>) -> Counts {
        let span = (range.to - range.from).num_seconds().max(1);
        let step = (span + TREND_POINTS as i64 - 1) / TREND_POINTS as i64;
        let step_secs =
            ((step + PATTERN_BUCKET_SECS - 1) / PATTERN_BUCKET_SECS).max(1) * PATTERN_BUCKET_SECS;
        let mut by_pattern: HashMap<String, (PatternLevels, Vec<u64>)> = HashMap::new();
        for row in rows {
            let id = alias.get(&row.pattern).unwrap_or(&row.pattern).clone();
            let (levels, trend) = by_pattern
                .entry(id)
                .or_insert_with(|| (PatternLevels::default(), vec![0; TREND_POINTS]));
            let slot = match row.level {
                anomalog_core::Level::Trace => &mut levels.trace,
                anomalog_core::Level::Debug => &mut levels.debug,
                anomalog_core::Level::Info => &mut levels.info,
                anomalog_core::Level::Warn => &mut levels.warn,
                anomalog_core::Level::Error => &mut levels.error,
                anomalog_core::Level::Fatal => &mut levels.fatal,
            };
            *slot += row.count;
            let at = (row.bucket - range.from).num_seconds().max(0) / step_secs;
            let at = usize::try_from(at)
                .unwrap_or(usize::MAX)
                .min(TREND_POINTS - 1);
            trend[at] += row.count;
        }
        Counts {
            by_pattern,
            step_secs,
        }
    }

    fn summary(&self, record: PatternRecord, range: &TimeRange) -> PatternSummary {
        let (levels, trend) = self
            .by_pattern
            .get(&record.id)
            .cloned()
            .unwrap_or_else(|| (PatternLevels::default(), vec![0; TREND_POINTS]));
        PatternSummary {
            count: trend.iter().sum(),
            new: record.first_seen >= range.from,
            levels,
            trend,
            trend_step_secs: self.step_secs,
            example: record.examples.first().cloned(),
            id: record.id,
            service: record.service,
            template: record.template,
            first_seen: record.first_seen,
            last_seen: record.last_seen,
            total: record.total,
        }
    }
}

/// The dense per-step counts of `rows` (one pattern and its merged ids)
/// across the range, and the step: whole minutes, at most
/// [`SERIES_POINTS`] steps, starting at the minute of `range.from`.
fn rate_series(rows: &[PatternRollupRow], range: &TimeRange) -> (i64, Vec<PatternPoint>) {
    let span = (range.to - range.from).num_seconds().max(1);
    let minutes = (span + PATTERN_BUCKET_SECS - 1) / PATTERN_BUCKET_SECS;
    let step_secs = ((minutes + SERIES_POINTS - 1) / SERIES_POINTS).max(1) * PATTERN_BUCKET_SECS;
    let first = range.from.timestamp().div_euclid(step_secs) * step_secs;
    let steps =
        ((range.to.timestamp() - first + step_secs - 1) / step_secs).clamp(1, SERIES_POINTS + 1);
    let mut counts = vec![0u64; usize::try_from(steps).unwrap_or(1)];
    for row in rows {
        let at = (row.bucket.timestamp() - first).div_euclid(step_secs);
        if let Some(slot) = usize::try_from(at).ok().and_then(|i| counts.get_mut(i)) {
            *slot += row.count;
        }
    }
    let series = counts
        .into_iter()
        .zip(0..)
        .filter_map(|(count, i)| {
            DateTime::from_timestamp(first + i * step_secs, 0).map(|ts| PatternPoint { ts, count })
        })
        .collect();
    (step_secs, series)
}

/// Merged id -> survivor id, following chains.
fn aliases(records: &[PatternRecord]) -> HashMap<String, String> {
    let direct: HashMap<&str, &str> = records
        .iter()
        .filter_map(|r| r.merged_into.as_deref().map(|to| (r.id.as_str(), to)))
        .collect();
    direct
        .keys()
        .map(|from| {
            let mut to = direct[from];
            for _ in 0..direct.len() {
                match direct.get(to) {
                    Some(next) if *next != to => to = next,
                    _ => break,
                }
            }
            ((*from).to_owned(), to.to_owned())
        })
        .collect()
}

/// Log patterns with their counts, trend and level mix in the range.
#[utoipa::path(get, path = "/api/patterns", tag = "patterns",
    params(PatternsParams),
    responses(
        (status = 200, description = "Patterns, most lines in the range first.", body = PatternsPage),
        (status = 400, description = "A parameter is invalid.", body = openapi::ErrorBody),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
pub(crate) async fn patterns(
    State(state): State<ApiState>,
    query: Result<Query<PatternsParams>, QueryRejection>,
) -> ApiResult<PatternsPage> {
    let Query(p) = query?;
    let range = TimeRange::from_params(p.from.as_deref(), p.to.as_deref(), state.now())?;
    let limit = crate::page_limit("limit", p.limit, 200, MAX_PATTERNS)?;
    if let Some(q) = &p.q
        && q.len() > MAX_TEXT_BYTES
    {
        return Err(ApiError::BadRequest(format!(
            "q: {} bytes is longer than the limit of {MAX_TEXT_BYTES}",
            q.len()
        )));
    }
    let service = p.service.filter(|s| !s.is_empty());
    let records = state
        .stores
        .patterns
        .patterns(&PatternQuery {
            service: service.clone(),
            since: Some(range.from),
            text: p.q.filter(|q| !q.is_empty()),
            include_merged: true,
            limit: 20_000,
        })
        .await?;
    let alias = aliases(&records);
    let rows = state
        .stores
        .patterns
        .pattern_rollups(service.as_deref(), &[], range.from, range.to)
        .await?;
    let counts = Counts::of(&rows, &range, &alias);
    let mut items: Vec<PatternSummary> = records
        .into_iter()
        .filter(|r| r.merged_into.is_none())
        .map(|r| counts.summary(r, &range))
        .collect();
    items.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
    items.truncate(limit);
    Ok(axum::Json(PatternsPage {
        items,
        from: range.from,
        to: range.to,
    }))
}

/// One pattern: its counts and rate series in the range, examples and newest
/// lines.
#[utoipa::path(get, path = "/api/patterns/{id}", tag = "patterns",
    params(("id" = String, Path, description = "The pattern's id (16 hex digits)."),
        PatternRangeParams),
    responses(
        (status = 200, description = "The pattern.", body = PatternDetail),
        (status = 400, description = "A parameter is invalid.", body = openapi::ErrorBody),
        (status = 404, description = "No pattern has this id.", body = openapi::ErrorBody,
            example = json!({"error": "no pattern with id '3f2a9c0d1b7e4a65'"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
pub(crate) async fn pattern_detail(
    State(state): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<PatternRangeParams>, QueryRejection>,
) -> ApiResult<PatternDetail> {
    let Path(id) = id?;
    let Query(p) = query?;
    let range = TimeRange::from_params(p.from.as_deref(), p.to.as_deref(), state.now())?;
    let record = state
        .stores
        .patterns
        .pattern(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no pattern with id {}", quote(&id))))?;
    let service_records = state
        .stores
        .patterns
        .patterns(&PatternQuery {
            service: Some(record.service.clone()),
            include_merged: true,
            limit: 20_000,
            ..PatternQuery::default()
        })
        .await?;
    let alias = aliases(&service_records);
    let merged: Vec<String> = alias
        .iter()
        .filter(|(_, to)| **to == record.id)
        .map(|(from, _)| from.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut ids = merged.clone();
    ids.push(record.id.clone());
    let rows = state
        .stores
        .patterns
        .pattern_rollups(Some(&record.service), &ids, range.from, range.to)
        .await?;
    let counts = Counts::of(&rows, &range, &alias);
    let (step_secs, series) = rate_series(&rows, &range);
    let logs = state
        .stores
        .logs
        .query(&anomalog_store::LogQuery {
            service: Some(record.service.clone()),
            from: Some(range.from),
            to: Some(range.to),
            patterns: ids,
            limit: 20,
            ..anomalog_store::LogQuery::default()
        })
        .await?;
    let examples = record.examples.clone();
    Ok(axum::Json(PatternDetail {
        pattern: counts.summary(record, &range),
        step_secs,
        series,
        examples,
        merged,
        logs: logs.items.into_iter().map(dto::StoredLog::from).collect(),
    }))
}
