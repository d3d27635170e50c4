//! Incidents, recomputed after each pass's anomalies are written: the
//! anomalies of the lookback are grouped by core's `incident::group`, matched
//! to the stored incidents by `incident::carry_over` (ids stay stable), and
//! only incidents that changed are written.

use chrono::{DateTime, Utc};

use anomalog_core::incident::{IncidentConfig, carry_over, group};
use anomalog_store::{AnomalyQuery, IncidentQuery, StoreError, Stores};

/// Most anomalies and incidents one pass regroups.
const MAX_GROUPED: usize = 10_000;

/// What regrouping changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IncidentReport {
    /// Incidents written (new or changed).
    pub written: usize,
    /// Incidents deleted because another absorbed them.
    pub absorbed: usize,
}

/// Regroups the anomalies whose window ends at or after `from` into incidents.
pub async fn update_incidents(
    stores: &Stores,
    cfg: &IncidentConfig,
    from: DateTime<Utc>,
) -> Result<IncidentReport, StoreError> {
    let anomalies = stores
        .anomalies
        .list(&AnomalyQuery {
            since: Some(from),
            limit: MAX_GROUPED,
            ..AnomalyQuery::default()
        })
        .await?;
    let stored = stores
        .incidents
        .list_incidents(&IncidentQuery {
            since: Some(from),
            limit: MAX_GROUPED,
            ..IncidentQuery::default()
        })
        .await?;
    let (changed, absorbed) = carry_over(group(&anomalies, cfg), &stored);
    if !changed.is_empty() {
        stores.incidents.upsert_incidents(&changed).await?;
    }
    if !absorbed.is_empty() {
        stores.incidents.delete_incidents(&absorbed).await?;
    }
    for incident in &changed {
        tracing::debug!(
            incident = %incident.id,
            status = incident.status.as_str(),
            anomalies = incident.anomaly_ids.len(),
            "incident updated"
        );
    }
    Ok(IncidentReport {
        written: changed.len(),
        absorbed: absorbed.len(),
    })
}
