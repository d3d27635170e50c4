//! How both stores keep an incident: a record shape of its own, so core's
//! `Incident` can change without changing what is stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use anomalog_core::AnomalyStatus;
use anomalog_core::incident::{Incident, RootGuess, TimelineEntry, TimelineEvent};

use crate::StoreError;
use crate::ports::IncidentNotice;
use crate::records::{severity_from, severity_name};

/// An incident, as stored (a JSON document in SQLite, a sub-document in MongoDB).
#[derive(Serialize, Deserialize)]
pub(crate) struct IncidentRecord {
    id: String,
    status: String,
    opened_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resolved_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    severity: String,
    services: Vec<String>,
    anomaly_ids: Vec<String>,
    root_anomaly_id: String,
    root_service: String,
    root_reason: String,
    #[serde(default)]
    timeline: Vec<TimelineRecord>,
}

#[derive(Serialize, Deserialize)]
struct TimelineRecord {
    at: DateTime<Utc>,
    event: String,
    anomaly_id: String,
    service: String,
    kind: String,
}

impl IncidentRecord {
    pub(crate) fn from_incident(i: &Incident) -> IncidentRecord {
        IncidentRecord {
            id: i.id.clone(),
            status: i.status.as_str().to_owned(),
            opened_at: i.opened_at,
            resolved_at: i.resolved_at,
            updated_at: i.updated_at,
            severity: severity_name(i.severity).to_owned(),
            services: i.services.clone(),
            anomaly_ids: i.anomaly_ids.clone(),
            root_anomaly_id: i.root.anomaly_id.clone(),
            root_service: i.root.service.clone(),
            root_reason: i.root.reason.clone(),
            timeline: i
                .timeline
                .iter()
                .map(|e| TimelineRecord {
                    at: e.at,
                    event: match e.event {
                        TimelineEvent::Opened => "opened",
                        TimelineEvent::Resolved => "resolved",
                    }
                    .to_owned(),
                    anomaly_id: e.anomaly_id.clone(),
                    service: e.service.clone(),
                    kind: e.kind.as_str().to_owned(),
                })
                .collect(),
        }
    }

    pub(crate) fn into_incident(self) -> Result<Incident, StoreError> {
        let id = self.id.clone();
        let corrupt = |e: String| StoreError::Corrupt(format!("incident {id}: {e}"));
        let mut timeline = Vec::with_capacity(self.timeline.len());
        for e in self.timeline {
            let event = match e.event.as_str() {
                "opened" => TimelineEvent::Opened,
                "resolved" => TimelineEvent::Resolved,
                other => return Err(corrupt(format!("unknown timeline event '{other}'"))),
            };
            timeline.push(TimelineEntry {
                at: e.at,
                event,
                anomaly_id: e.anomaly_id,
                service: e.service,
                kind: e.kind.parse().map_err(corrupt)?,
            });
        }
        Ok(Incident {
            status: self.status.parse::<AnomalyStatus>().map_err(corrupt)?,
            severity: severity_from(&self.severity).map_err(corrupt)?,
            opened_at: self.opened_at,
            resolved_at: self.resolved_at,
            updated_at: self.updated_at,
            services: self.services,
            anomaly_ids: self.anomaly_ids,
            root: RootGuess {
                anomaly_id: self.root_anomaly_id,
                service: self.root_service,
                reason: self.root_reason,
            },
            timeline,
            id: self.id,
        })
    }
}

/// The embedded store's document of one incident.
pub(crate) fn encode_incident(i: &Incident) -> Result<String, StoreError> {
    serde_json::to_string(&IncidentRecord::from_incident(i)).map_err(StoreError::from)
}

/// Reads a document written by [`encode_incident`].
pub(crate) fn decode_incident(doc: &str) -> Result<Incident, StoreError> {
    serde_json::from_str::<IncidentRecord>(doc)?.into_incident()
}

/// A notice, as stored.
#[derive(Serialize, Deserialize)]
pub(crate) struct NoticeRecord {
    status: String,
    anomalies: u64,
    at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sending_until: Option<DateTime<Utc>>,
}

impl NoticeRecord {
    pub(crate) fn from_notice(n: &IncidentNotice) -> NoticeRecord {
        NoticeRecord {
            status: n.status.as_str().to_owned(),
            anomalies: n.anomalies as u64,
            at: n.at,
            severity: n.severity.map(|s| severity_name(s).to_owned()),
            message_id: n.message_id.clone(),
            sending_until: n.sending_until,
        }
    }

    pub(crate) fn into_notice(
        self,
        incident_id: &str,
        channel: &str,
    ) -> Result<IncidentNotice, StoreError> {
        let corrupt = |e: String| StoreError::Corrupt(format!("notice of {incident_id}: {e}"));
        Ok(IncidentNotice {
            incident_id: incident_id.to_owned(),
            channel: channel.to_owned(),
            status: self.status.parse().map_err(corrupt)?,
            severity: self
                .severity
                .as_deref()
                .map(severity_from)
                .transpose()
                .map_err(corrupt)?,
            message_id: self.message_id,
            sending_until: self.sending_until,
            anomalies: usize::try_from(self.anomalies).unwrap_or(usize::MAX),
            at: self.at,
        })
    }
}

pub(crate) fn encode_notice(n: &IncidentNotice) -> Result<String, StoreError> {
    serde_json::to_string(&NoticeRecord::from_notice(n)).map_err(StoreError::from)
}

pub(crate) fn decode_notice(
    doc: &str,
    incident_id: &str,
    channel: &str,
) -> Result<IncidentNotice, StoreError> {
    serde_json::from_str::<NoticeRecord>(doc)?.into_notice(incident_id, channel)
}
