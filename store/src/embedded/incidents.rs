//! [`IncidentStore`] on the embedded SQLite file.
//!
//! `incidents` keeps one row per incident with the columns its listing filters
//! on (`services` is `|a|b|`, matched with `instr`, so no name is a pattern);
//! `incident_notices` keeps what each channel was last told.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use anomalog_core::incident::Incident;

use super::{EmbeddedStore, docs, millis};
use crate::StoreError;
use crate::incident_records::{decode_incident, decode_notice, encode_incident, encode_notice};
use crate::ports::{IncidentNotice, IncidentQuery, IncidentStore};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    resolved_at INTEGER,
    services TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_opened ON incidents (opened_at);
CREATE TABLE IF NOT EXISTS incident_notices (
    incident_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (incident_id, channel)
) WITHOUT ROWID;
";

fn services_column(incident: &Incident) -> String {
    format!("|{}|", incident.services.join("|"))
}

#[async_trait]
impl IncidentStore for EmbeddedStore {
    async fn upsert_incidents(&self, incidents: &[Incident]) -> Result<(), StoreError> {
        let incidents = incidents.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            for incident in incidents {
                tx.execute(
                    "INSERT INTO incidents (id, status, opened_at, resolved_at, services, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                        opened_at = excluded.opened_at, resolved_at = excluded.resolved_at,
                        services = excluded.services, doc = excluded.doc",
                    params![
                        incident.id,
                        incident.status.as_str(),
                        millis(incident.opened_at),
                        incident.resolved_at.map(millis),
                        services_column(&incident),
                        encode_incident(&incident)?
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn delete_incidents(&self, ids: &[String]) -> Result<(), StoreError> {
        let ids = ids.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            for id in ids {
                tx.execute("DELETE FROM incidents WHERE id = ?1", params![id])?;
                tx.execute(
                    "DELETE FROM incident_notices WHERE incident_id = ?1",
                    params![id],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn list_incidents(&self, query: &IncidentQuery) -> Result<Vec<Incident>, StoreError> {
        let query = query.clone();
        self.read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT doc FROM incidents
                 WHERE (?1 IS NULL OR status = ?1)
                   AND (?2 IS NULL OR instr(services, '|' || ?2 || '|') > 0)
                   AND (?3 IS NULL OR status = 'open' OR resolved_at >= ?3)
                 ORDER BY opened_at DESC, id LIMIT ?4",
            )?;
            let rows = stmt.query(params![
                query.status.map(|s| s.as_str()),
                query.service,
                query.since.map(millis),
                i64::try_from(query.limit.max(1)).unwrap_or(i64::MAX),
            ])?;
            docs(rows, decode_incident)
        })
        .await
    }

    async fn get_incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT doc FROM incidents WHERE id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            doc.map(|d| decode_incident(&d)).transpose()
        })
        .await
    }

    async fn incidents_to_notify(
        &self,
        channel: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(Incident, Option<IncidentNotice>)>, StoreError> {
        let channel = channel.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT i.doc, n.doc FROM incidents i
                 LEFT JOIN incident_notices n ON n.incident_id = i.id AND n.channel = ?1
                 WHERE i.status = 'open' OR i.resolved_at >= ?2
                 ORDER BY i.opened_at, i.id LIMIT ?3",
            )?;
            let mut rows = stmt.query(params![
                channel,
                millis(since),
                i64::try_from(limit.max(1)).unwrap_or(i64::MAX),
            ])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let incident = decode_incident(&row.get::<_, String>(0)?)?;
                let notice = row
                    .get::<_, Option<String>>(1)?
                    .map(|d| decode_notice(&d, &incident.id, &channel))
                    .transpose()?;
                out.push((incident, notice));
            }
            Ok(out)
        })
        .await
    }

    async fn record_notice(&self, notice: &IncidentNotice) -> Result<(), StoreError> {
        let notice = notice.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO incident_notices (incident_id, channel, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (incident_id, channel) DO UPDATE SET doc = excluded.doc",
                params![notice.incident_id, notice.channel, encode_notice(&notice)?],
            )?;
            Ok(())
        })
        .await
    }

    async fn swap_notice(
        &self,
        previous: Option<&IncidentNotice>,
        next: &IncidentNotice,
    ) -> Result<bool, StoreError> {
        let previous = previous.cloned();
        let next = next.clone();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let stored: Option<String> = tx
                .query_row(
                    "SELECT doc FROM incident_notices WHERE incident_id = ?1 AND channel = ?2",
                    params![next.incident_id, next.channel],
                    |r| r.get(0),
                )
                .optional()?;
            let stored = stored
                .map(|d| decode_notice(&d, &next.incident_id, &next.channel))
                .transpose()?;
            if stored != previous {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO incident_notices (incident_id, channel, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (incident_id, channel) DO UPDATE SET doc = excluded.doc",
                params![next.incident_id, next.channel, encode_notice(&next)?],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }
}
