//! [`IncidentStore`] on MongoDB.
//!
//! - `incidents`: `_id` is the incident id; `status`, `opened_at`,
//!   `resolved_at` (BSON dates) and `services` are top-level for the listing's
//!   filters; `record` is the whole record as JSON (store/src/incident_records.rs).
//! - `incident_notices`: `_id` is `<incident id>:<channel>`, one per channel
//!   told, replaced by each new notice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};
use mongodb::{Collection, IndexModel};

use anomalog_core::incident::Incident;

use super::{MongoStore, classify, date, is_duplicate_key};
use crate::StoreError;
use crate::incident_records::{decode_incident, decode_notice, encode_incident, encode_notice};
use crate::ports::{IncidentNotice, IncidentQuery, IncidentStore};

impl MongoStore {
    fn incidents(&self) -> Collection<Document> {
        self.db.collection("incidents")
    }

    fn incident_notices(&self) -> Collection<Document> {
        self.db.collection("incident_notices")
    }

    /// The indexes of the incident listing.
    pub(super) async fn ensure_incident_indexes(&self) -> Result<(), StoreError> {
        self.incidents()
            .create_indexes([
                IndexModel::builder()
                    .keys(doc! { "opened_at": -1, "_id": 1 })
                    .build(),
                IndexModel::builder().keys(doc! { "services": 1 }).build(),
            ])
            .await
            .map_err(classify)?;
        Ok(())
    }
}

fn incident_doc(incident: &Incident) -> Result<Document, StoreError> {
    let record = encode_incident(incident)?;
    Ok(doc! {
        "_id": &incident.id,
        "status": incident.status.as_str(),
        "opened_at": date(incident.opened_at),
        "resolved_at": incident.resolved_at.map_or(Bson::Null, |t| Bson::DateTime(date(t))),
        "services": &incident.services,
        "record": record,
    })
}

fn incident_from_doc(d: &Document) -> Result<Incident, StoreError> {
    let record = d
        .get_str("record")
        .map_err(|e| StoreError::Corrupt(format!("incident record: {e}")))?;
    decode_incident(record)
}

fn notice_id(incident_id: &str, channel: &str) -> String {
    format!("{incident_id}:{channel}")
}

/// Open, or resolved at or after `since`.
fn still_news(since: DateTime<Utc>) -> Document {
    doc! { "$or": [ { "status": "open" }, { "resolved_at": { "$gte": date(since) } } ] }
}

async fn collect(mut found: mongodb::Cursor<Document>) -> Result<Vec<Incident>, StoreError> {
    let mut out = Vec::new();
    while found.advance().await.map_err(classify)? {
        let d: Document = found.deserialize_current().map_err(classify)?;
        out.push(incident_from_doc(&d)?);
    }
    Ok(out)
}

#[async_trait]
impl IncidentStore for MongoStore {
    async fn upsert_incidents(&self, incidents: &[Incident]) -> Result<(), StoreError> {
        for incident in incidents {
            self.incidents()
                .replace_one(doc! { "_id": &incident.id }, incident_doc(incident)?)
                .upsert(true)
                .await
                .map_err(classify)?;
        }
        Ok(())
    }

    async fn delete_incidents(&self, ids: &[String]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.incidents()
            .delete_many(doc! { "_id": { "$in": ids } })
            .await
            .map_err(classify)?;
        self.incident_notices()
            .delete_many(doc! { "incident_id": { "$in": ids } })
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn list_incidents(&self, query: &IncidentQuery) -> Result<Vec<Incident>, StoreError> {
        let mut filter = match query.since {
            Some(since) => still_news(since),
            None => Document::new(),
        };
        if let Some(status) = query.status {
            filter.insert("status", status.as_str());
        }
        if let Some(service) = &query.service {
            filter.insert("services", service);
        }
        let found = self
            .incidents()
            .find(filter)
            .sort(doc! { "opened_at": -1, "_id": 1 })
            .limit(i64::try_from(query.limit.max(1)).unwrap_or(i64::MAX))
            .await
            .map_err(classify)?;
        collect(found).await
    }

    async fn get_incident(&self, id: &str) -> Result<Option<Incident>, StoreError> {
        let found = self
            .incidents()
            .find_one(doc! { "_id": id })
            .await
            .map_err(classify)?;
        found.map(|d| incident_from_doc(&d)).transpose()
    }

    async fn incidents_to_notify(
        &self,
        channel: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<(Incident, Option<IncidentNotice>)>, StoreError> {
        let found = self
            .incidents()
            .find(still_news(since))
            .sort(doc! { "opened_at": 1, "_id": 1 })
            .limit(i64::try_from(limit.max(1)).unwrap_or(i64::MAX))
            .await
            .map_err(classify)?;
        let incidents = collect(found).await?;
        let ids: Vec<String> = incidents
            .iter()
            .map(|i| notice_id(&i.id, channel))
            .collect();
        let mut notices = self
            .incident_notices()
            .find(doc! { "_id": { "$in": &ids } })
            .await
            .map_err(classify)?;
        let mut told = std::collections::BTreeMap::new();
        while notices.advance().await.map_err(classify)? {
            let d: Document = notices.deserialize_current().map_err(classify)?;
            let incident_id = d.get_str("incident_id").unwrap_or_default().to_owned();
            let body = d
                .get_str("notice")
                .map_err(|e| StoreError::Corrupt(format!("notice of {incident_id}: {e}")))?;
            let notice = decode_notice(body, &incident_id, channel)?;
            told.insert(incident_id, notice);
        }
        Ok(incidents
            .into_iter()
            .map(|i| {
                let notice = told.remove(&i.id);
                (i, notice)
            })
            .collect())
    }

    async fn record_notice(&self, notice: &IncidentNotice) -> Result<(), StoreError> {
        let body = encode_notice(notice)?;
        self.incident_notices()
            .replace_one(
                doc! { "_id": notice_id(&notice.incident_id, &notice.channel) },
                doc! {
                    "incident_id": &notice.incident_id,
                    "channel": &notice.channel,
                    "notice": body,
                },
            )
            .upsert(true)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn swap_notice(
        &self,
        previous: Option<&IncidentNotice>,
        next: &IncidentNotice,
    ) -> Result<bool, StoreError> {
        let id = notice_id(&next.incident_id, &next.channel);
        let replacement = doc! {
            "_id": &id,
            "incident_id": &next.incident_id,
            "channel": &next.channel,
            "notice": encode_notice(next)?,
        };
        match previous {
            None => match self.incident_notices().insert_one(replacement).await {
                Ok(_) => Ok(true),
                Err(e) if is_duplicate_key(&e) => Ok(false),
                Err(e) => Err(classify(e)),
            },
            // The encoding is deterministic: the stored body equals the
            // encoding of the notice it decodes to.
            Some(previous) => {
                let replaced = self
                    .incident_notices()
                    .replace_one(
                        doc! { "_id": &id, "notice": encode_notice(previous)? },
                        replacement,
                    )
                    .await
                    .map_err(classify)?;
                Ok(replaced.matched_count == 1)
            }
        }
    }
}
