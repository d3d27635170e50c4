//! `GET /api/incidents` and `GET /api/incidents/{id}`: anomalies grouped by
//! cause (see `anomalog_core::incident`), with their bodies.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use anomalog_core::incident::{Incident as CoreIncident, TimelineEvent as CoreEvent};
use anomalog_store::IncidentQuery;

use crate::dto::{self, AnomalyKind, AnomalyStatus, Severity};
use crate::params::{parse_opt, parse_opt_time};
use crate::{ApiError, ApiResult, ApiState, MAX_LOG_LIMIT, openapi, page_limit, quote};

/// Query of `GET /api/incidents`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentsParams {
    /// `open` or `resolved`.
    #[param(example = "open")]
    pub status: Option<String>,
    /// Only incidents with an anomaly of this service.
    pub service: Option<String>,
    /// Only incidents still open or resolved at or after this time.
    #[param(example = "now-24h")]
    pub since: Option<String>,
    /// At most this many, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

/// What happened to a member anomaly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimelineEvent {
    Opened,
    Resolved,
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub event: TimelineEvent,
    pub anomaly_id: String,
    pub service: String,
    #[schema(value_type = AnomalyKind)]
    pub kind: String,
}

/// The anomaly most likely to be the cause, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RootGuess {
    pub anomaly_id: String,
    pub service: String,
    pub reason: String,
}

/// Anomalies of one cause.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Incident {
    /// Stable: `inc-` and the id of the anomaly that opened it.
    pub id: String,
    /// Open while any of its anomalies is.
    pub status: AnomalyStatus,
    pub opened_at: DateTime<Utc>,
    /// When its last anomaly's window ended; absent while open.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When its latest anomaly started.
    pub updated_at: DateTime<Utc>,
    /// Its highest anomaly severity.
    pub severity: Severity,
    pub services: Vec<String>,
    /// Its anomalies, oldest first.
    pub anomaly_ids: Vec<String>,
    pub root: RootGuess,
    pub timeline: Vec<TimelineEntry>,
}

impl From<CoreIncident> for Incident {
    fn from(i: CoreIncident) -> Incident {
        Incident {
            id: i.id,
            status: i.status.into(),
            opened_at: i.opened_at,
            resolved_at: i.resolved_at,
            updated_at: i.updated_at,
            severity: i.severity.into(),
            services: i.services,
            anomaly_ids: i.anomaly_ids,
            root: RootGuess {
                anomaly_id: i.root.anomaly_id,
                service: i.root.service,
                reason: i.root.reason,
            },
            timeline: i
                .timeline
                .into_iter()
                .map(|e| TimelineEntry {
                    at: e.at,
                    event: match e.event {
                        CoreEvent::Opened => TimelineEvent::Opened,
                        CoreEvent::Resolved => TimelineEvent::Resolved,
                    },
                    anomaly_id: e.anomaly_id,
                    service: e.service,
                    kind: e.kind.as_str().to_owned(),
                })
                .collect(),
        }
    }
}

/// A list of incidents, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentList {
    pub items: Vec<Incident>,
}

/// `GET /api/incidents/{id}` body: the incident and its anomalies.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentDetail {
    pub incident: Incident,
    /// Its anomalies still stored, oldest first.
    pub anomalies: Vec<dto::Anomaly>,
}

/// Incidents, newest first.
#[utoipa::path(get, path = "/api/incidents", tag = "incidents", params(IncidentsParams),
    responses(
        (status = 200, description = "Matching incidents.", body = IncidentList),
        (status = 400, description = "A parameter is invalid; the message names it.", body = openapi::ErrorBody,
            example = json!({"error": "status: unknown status 'done' (expected open or resolved)"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
pub(crate) async fn incidents(
    State(state): State<ApiState>,
    query: Result<Query<IncidentsParams>, QueryRejection>,
) -> ApiResult<IncidentList> {
    let Query(p) = query?;
    let now = state.now();
    let status = parse_opt("status", p.status.as_deref())?;
    let since = parse_opt_time("since", p.since.as_deref(), now)?;
    let limit = page_limit("limit", p.limit, 100, MAX_LOG_LIMIT)?;
    let items = state
        .stores
        .incidents
        .list_incidents(&IncidentQuery {
            status,
            service: p.service.filter(|s| !s.is_empty()),
            since,
            limit,
        })
        .await?;
    Ok(axum::Json(IncidentList {
        items: items.into_iter().map(Incident::from).collect(),
    }))
}

/// One incident with its anomalies.
#[utoipa::path(get, path = "/api/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "The incident's id.")),
    responses(
        (status = 200, description = "The incident and its anomalies.", body = IncidentDetail),
        (status = 404, description = "No incident has this id.", body = openapi::ErrorBody,
            example = json!({"error": "no incident with id 'inc-abc'"})),
        (status = 503, description = "Storage unavailable.", body = openapi::ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying."))),
    ))]
pub(crate) async fn incident_detail(
    State(state): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<IncidentDetail> {
    let Path(id) = id?;
    let incident = state
        .stores
        .incidents
        .get_incident(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no incident with id {}", quote(&id))))?;
    let mut anomalies = Vec::with_capacity(incident.anomaly_ids.len());
    for anomaly_id in &incident.anomaly_ids {
        if let Some(a) = state.stores.anomalies.get(anomaly_id).await? {
            anomalies.push(dto::Anomaly::from(a));
        }
    }
    Ok(axum::Json(IncidentDetail {
        incident: Incident::from(incident),
        anomalies,
    }))
}
