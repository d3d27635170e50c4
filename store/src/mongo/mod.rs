//! The production store: logs, rollups, anomalies and deliveries in MongoDB.
//!
//! Collections (documents use native BSON dates so range queries, indexes and
//! TTL retention work on them; timestamps are kept at millisecond precision):
//! - `logs`: `_id` is the log id (`<queue entry id>-<index>`); indexes on `ts`
//!   (TTL, the retention), `ts`+`_id`, `service`+`ts` and `level_rank`+`ts`.
//!   `attrs` is an array of `{k, v}` pairs, so any attribute name (dots, `$`)
//!   is storable and the pairs can still be indexed and queried.
//! - `rollups`: one document per (service, 10 s bucket, level), `count` grown
//!   with `$inc` upserts; TTL on `bucket`.
//! - `anomalies`: `_id` is the deterministic anomaly id.
//! - `deliveries`: one document per attempt, `_id` derived from anomaly,
//!   channel, status and attempt number, so recording twice is harmless.
//!
//! `persist` stores each log once and counts it in the rollups once without
//! a multi-document transaction, so a process killed mid-persist blocks no
//! one (persist.rs). `connect` still requires a replica set (a single node
//! is enough): the majority write concern and other stores rely on it.

mod docs;
mod patterns;
mod persist;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};
use mongodb::error::{ErrorKind, TRANSIENT_TRANSACTION_ERROR};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};

use anomalog_core::rollup::RollupRow;
use anomalog_core::{Anomaly, Level, StoredLog};

use crate::ports::{
    AnomalyQuery, AnomalyStore, Delivery, DeliveryStore, LogCursor, LogPage, LogQuery, LogStore,
    PersistReport, RollupStore, ServiceSummary,
};
mod keys;
pub use docs::log_to_doc;
pub use keys::MongoKeyStore;

use crate::{StoreError, redact};
use docs::*;

mod detector_states;
mod incidents;

/// Settings of the MongoDB store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MongoConfig {
    pub database: String,
    /// Logs and rollups older than this many days expire (TTL indexes).
    pub retention_days: u32,
    /// How long an operation waits for a usable server before failing as
    /// unavailable, unless the URI sets `serverSelectionTimeoutMS`.
    pub server_selection_timeout: Duration,
}

impl Default for MongoConfig {
    fn default() -> Self {
        MongoConfig {
            database: "anomalog".to_owned(),
            retention_days: 7,
            server_selection_timeout: Duration::from_secs(5),
        }
    }
}

/// [`LogStore`], [`RollupStore`], [`AnomalyStore`] and [`DeliveryStore`] on
/// one MongoDB database.
pub struct MongoStore {
    db: Database,
    logs: Collection<Document>,
    rollups: Collection<Document>,
    anomalies: Collection<Document>,
    deliveries: Collection<Document>,
    /// Groups a rollup document lists before its key continues in another
    /// document (`persist::MARKERS_PER_DOCUMENT` unless a test sets it).
    markers_per_document: i64,
}

/// A driver client for `uri` with the store's timeouts. The driver connects
/// in the background and on first use: nothing is contacted here. `uri` may
/// carry a password: it never appears in errors.
async fn client_for(uri: &str, config: &MongoConfig) -> Result<Client, StoreError> {
    let mut options = ClientOptions::parse(uri).await.map_err(|e| {
        StoreError::Invalid(format!(
            "MONGODB_URI is not a valid MongoDB connection string: {}",
            redact(&e.to_string(), uri)
        ))
    })?;
    if options.server_selection_timeout.is_none() {
        options.server_selection_timeout = Some(config.server_selection_timeout);
    }
    if options.connect_timeout.is_none() {
        options.connect_timeout = Some(config.server_selection_timeout);
    }
    options
        .app_name
        .get_or_insert_with(|| "anomalog".to_owned());
    Client::with_options(options)
        .map_err(|e| StoreError::Invalid(format!("MONGODB_URI: {}", redact(&e.to_string(), uri))))
}

impl MongoStore {
    /// Lists at most `n` (at least 1) groups in a rollup document before its
    /// key continues in another one; for tests of that spill, which the
    /// default (10,000 groups, about 400 KB) reaches only under
    /// thousands of requests a second to one service.
    #[doc(hidden)]
    pub fn with_markers_per_document(mut self, n: usize) -> MongoStore {
        self.markers_per_document = i64::try_from(n.max(1)).unwrap_or(i64::MAX);
        self
    }

    /// Connects, checks the server is a replica set member (transactions) and
    /// creates the indexes. `uri` may carry a password: it never appears in
    /// errors.
    pub async fn connect(uri: &str, config: &MongoConfig) -> Result<MongoStore, StoreError> {
        let client = client_for(uri, config).await?;
        let db = client.database(&config.database);
        let hello = db.run_command(doc! { "hello": 1 }).await.map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot reach MongoDB: {}",
                redact(&e.to_string(), uri)
            ))
        })?;
        let replicated =
            hello.get_str("setName").is_ok() || hello.get_str("msg").is_ok_and(|m| m == "isdbgrid");
        if !replicated {
            return Err(StoreError::Invalid(
                "MongoDB must be a replica set member or mongos (a single-node replica set is \
                 enough): writes are acknowledged once a majority has them"
                    .into(),
            ));
        }
        let store = MongoStore {
            logs: db.collection("logs"),
            rollups: db.collection("rollups"),
            anomalies: db.collection("anomalies"),
            deliveries: db.collection("deliveries"),
            db,
            markers_per_document: persist::MARKERS_PER_DOCUMENT,
        };
        store.ensure_indexes(config.retention_days).await?;
        store.ensure_incident_indexes().await?;
        Ok(store)
    }

    async fn ensure_indexes(&self, retention_days: u32) -> Result<(), StoreError> {
        let retention = Duration::from_secs(u64::from(retention_days) * 86_400);
        let named = |keys: Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(IndexOptions::builder().name(name.to_owned()).build())
                .build()
        };
        let ttl = |keys: Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(name.to_owned())
                        .expire_after(retention)
                        .build(),
                )
                .build()
        };
        self.ensure_ttl(
            &self.logs,
            ttl(doc! { "ts": 1 }, "ts_ttl"),
            "ts_ttl",
            retention,
        )
        .await?;
        self.logs
            .create_indexes([
                named(doc! { "ts": -1, "_id": -1 }, "ts_id"),
                named(doc! { "service": 1, "ts": -1, "_id": -1 }, "service_ts"),
                named(doc! { "level_rank": 1, "ts": -1, "_id": -1 }, "level_ts"),
            ])
            .await
            .map_err(classify)?;
        self.ensure_ttl(
            &self.rollups,
            ttl(doc! { "bucket": 1 }, "bucket_ttl"),
            "bucket_ttl",
            retention,
        )
        .await?;
        self.rollups
            .create_index(named(doc! { "service": 1, "bucket": 1 }, "service_bucket"))
            .await
            .map_err(classify)?;
        self.anomalies
            .create_indexes([
                named(doc! { "window_start": -1, "_id": 1 }, "window_start"),
                named(doc! { "window_end": 1 }, "window_end"),
                named(doc! { "service": 1, "window_start": -1 }, "service_window"),
            ])
            .await
            .map_err(classify)?;
        self.deliveries
            .create_index(named(doc! { "anomaly_id": 1, "at": 1 }, "anomaly_at"))
            .await
            .map_err(classify)?;
        self.ensure_pattern_indexes(retention).await?;
        Ok(())
    }

    /// Creates a TTL index, or changes its expiry when retention changed.
    async fn ensure_ttl(
        &self,
        coll: &Collection<Document>,
        model: IndexModel,
        name: &str,
        retention: Duration,
    ) -> Result<(), StoreError> {
        match coll.create_index(model).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(command_code(&e), Some(85 | 86)) => {
                tracing::info!(
                    collection = coll.name(),
                    "retention changed; updating TTL index"
                );
                let secs = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
                self.db
                    .run_command(doc! {
                        "collMod": coll.name(),
                        "index": { "name": name, "expireAfterSeconds": secs },
                    })
                    .await
                    .map(|_| ())
                    .map_err(classify)
            }
            Err(e) => Err(classify(e)),
        }
    }
}

/// Key of one rollup document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RollupKey {
    service: String,
    bucket_secs: i64,
    level: Level,
}

impl RollupKey {
    /// Bucket and level first: they never contain the separator, so the id is
    /// unique whatever the service name holds.
    fn id(&self) -> String {
        format!(
            "{}|{}|{}",
            self.bucket_secs,
            self.level.rank(),
            self.service
        )
    }
}

#[async_trait]
impl LogStore for MongoStore {
    async fn persist(&self, logs: &[StoredLog]) -> Result<PersistReport, StoreError> {
        if logs.is_empty() {
            return Ok(PersistReport::default());
        }
        self.persist_logs(logs).await
    }

    async fn query(&self, query: &LogQuery) -> Result<LogPage, StoreError> {
        let mut filter = Document::new();
        if let Some(service) = &query.service {
            filter.insert("service", service);
        }
        if let Some(level) = query.min_level {
            // An `$in` over the few ranks lets the server merge the index's
            // per-level runs in `ts` order instead of sorting.
            let ranks: Vec<i32> = Level::ALL
                .iter()
                .filter(|l| **l >= level)
                .map(|l| i32::from(l.rank()))
                .collect();
            filter.insert("level_rank", doc! { "$in": ranks });
        }
        if let Some(text) = &query.text {
            filter.insert(
                "message",
                doc! { "$regex": escape_regex(text), "$options": "i" },
            );
        }
        let mut ts = Document::new();
        if let Some(from) = query.from {
            ts.insert("$gte", date(from));
        }
        if let Some(to) = query.to {
            ts.insert("$lt", date(to));
        }
        if !ts.is_empty() {
            filter.insert("ts", ts);
        }
        patterns::filter_logs(&mut filter, &query.patterns);
        if let Some(cursor) = &query.cursor {
            let at = date(cursor.ts);
            filter.insert(
                "$or",
                vec![
                    doc! { "ts": { "$lt": at } },
                    doc! { "ts": at, "_id": { "$lt": &cursor.id } },
                ],
            );
        }
        let limit = query.limit.max(1);
        let mut found = self
            .logs
            .find(filter)
            .sort(doc! { "ts": -1, "_id": -1 })
            .limit(i64::try_from(limit + 1).unwrap_or(i64::MAX))
            .await
            .map_err(classify)?;
        let mut items = Vec::new();
        while found.advance().await.map_err(classify)? {
            let d: Document = found.deserialize_current().map_err(classify)?;
            items.push(log_from_doc(&d)?);
        }
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|last| LogCursor {
                ts: last.event.ts,
                id: last.id.clone(),
            })
        } else {
            None
        };
        Ok(LogPage { items, next_cursor })
    }

    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let deleted = self
            .logs
            .delete_many(doc! { "ts": { "$lt": date(cutoff) } })
            .await
            .map_err(classify)?;
        self.rollups
            .delete_many(doc! { "bucket": { "$lt": date(cutoff) } })
            .await
            .map_err(classify)?;
        self.delete_pattern_rollups_before(cutoff).await?;
        Ok(deleted.deleted_count)
    }
}

#[async_trait]
impl RollupStore for MongoStore {
    async fn rollups(
        &self,
        service: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RollupRow>, StoreError> {
        let mut filter = doc! { "bucket": { "$gte": date(from), "$lt": date(to) } };
        if let Some(service) = service {
            filter.insert("service", service);
        }
        let mut found = self
            .rollups
            .find(filter)
            .projection(doc! { persist::APPLIED: 0 })
            .sort(doc! { "service": 1, "bucket": 1, "level_rank": 1 })
            .await
            .map_err(classify)?;
        let mut out: Vec<RollupRow> = Vec::new();
        while found.advance().await.map_err(classify)? {
            let d: Document = found.deserialize_current().map_err(classify)?;
            let row = RollupRow {
                service: get_string(&d, "service")?,
                bucket: get_date(&d, "bucket")?,
                level: get_level_rank(&d)?,
                count: u64::try_from(get_int(&d, "count")?).unwrap_or(0),
            };
            // A key's chain of documents (persist.rs) is one row; sorted, its
            // documents are adjacent.
            match out.last_mut() {
                Some(last)
                    if last.service == row.service
                        && last.bucket == row.bucket
                        && last.level == row.level =>
                {
                    last.count += row.count;
                }
                _ => out.push(row),
            }
        }
        Ok(out)
    }

    async fn services(&self, since: DateTime<Utc>) -> Result<Vec<ServiceSummary>, StoreError> {
        let since = date(since);
        let recent = doc! { "$gte": ["$bucket", since] };
        let error_rank = i32::from(Level::Error.rank());
        let pipeline = vec![
            doc! { "$group": {
                "_id": "$service",
                "first_seen": { "$min": "$bucket" },
                "last_seen": { "$max": "$bucket" },
                "total": { "$sum": { "$cond": [recent.clone(), "$count", 0] } },
                "errors": { "$sum": { "$cond": [
                    { "$and": [recent, { "$gte": ["$level_rank", error_rank] }] },
                    "$count",
                    0,
                ] } },
            } },
            doc! { "$sort": { "_id": 1 } },
        ];
        let mut found = self.rollups.aggregate(pipeline).await.map_err(classify)?;
        let mut out = Vec::new();
        while found.advance().await.map_err(classify)? {
            let d: Document = found.deserialize_current().map_err(classify)?;
            out.push(ServiceSummary {
                service: get_string(&d, "_id")?,
                first_seen: get_date(&d, "first_seen")?,
                last_seen: get_date(&d, "last_seen")?,
                total: u64::try_from(get_int(&d, "total")?).unwrap_or(0),
                errors: u64::try_from(get_int(&d, "errors")?).unwrap_or(0),
            });
        }
        Ok(out)
    }
}

#[async_trait]
impl AnomalyStore for MongoStore {
    async fn upsert(&self, anomalies: &[Anomaly]) -> Result<(), StoreError> {
        if anomalies.is_empty() {
            return Ok(());
        }
        // Written as given: merging with the stored record is reconcile's, so
        // there is no read-then-write here to race with another pass.
        let updates: Vec<Document> = anomalies
            .iter()
            .map(|a| {
                doc! { "q": { "_id": &a.id }, "u": { "$set": anomaly_fields(a) }, "upsert": true }
            })
            .collect();
        let reply = self
            .db
            .run_command(
                doc! { "update": self.anomalies.name(), "updates": updates, "ordered": false },
            )
            .await
            .map_err(classify)?;
        write_errors(&reply, "anomaly upsert")
    }

    async fn list(&self, query: &AnomalyQuery) -> Result<Vec<Anomaly>, StoreError> {
        let mut filter = Document::new();
        if let Some(service) = &query.service {
            filter.insert("service", service);
        }
        if let Some(kind) = query.kind {
            filter.insert("kind", kind.as_str());
        }
        if let Some(status) = query.status {
            filter.insert("status", status.as_str());
        }
        if let Some(since) = query.since {
            filter.insert("window_end", doc! { "$gte": date(since) });
        }
        let mut found = self
            .anomalies
            .find(filter)
            .sort(doc! { "window_start": -1, "_id": 1 })
            .limit(i64::try_from(query.limit.max(1)).unwrap_or(i64::MAX))
            .await
            .map_err(classify)?;
        let mut out = Vec::new();
        while found.advance().await.map_err(classify)? {
            let d: Document = found.deserialize_current().map_err(classify)?;
            out.push(anomaly_from_doc(&d)?);
        }
        Ok(out)
    }

    async fn get(&self, id: &str) -> Result<Option<Anomaly>, StoreError> {
        let found = self
            .anomalies
            .find_one(doc! { "_id": id })
            .await
            .map_err(classify)?;
        found.map(|d| anomaly_from_doc(&d)).transpose()
    }
}

#[async_trait]
impl DeliveryStore for MongoStore {
    async fn record(&self, delivery: &Delivery) -> Result<(), StoreError> {
        // Zero-padded so ids sort in attempt order.
        let id = format!(
            "{}:{}:{}:{:010}",
            delivery.anomaly_id,
            delivery.channel,
            delivery.status.as_str(),
            delivery.attempt
        );
        let mut d = doc! {
            "anomaly_id": &delivery.anomaly_id,
            "channel": &delivery.channel,
            "status": delivery.status.as_str(),
            "attempt": i64::from(delivery.attempt),
            "at": date(delivery.at),
            "ok": delivery.ok,
        };
        if let Some(status) = delivery.http_status {
            d.insert("http_status", i32::from(status));
        }
        if let Some(error) = &delivery.error {
            d.insert("error", error);
        }
        self.deliveries
            .replace_one(doc! { "_id": &id }, d)
            .upsert(true)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn attempts(&self, anomaly_id: &str) -> Result<Vec<Delivery>, StoreError> {
        let mut found = self
            .deliveries
            .find(doc! { "anomaly_id": anomaly_id })
            .sort(doc! { "at": 1, "_id": 1 })
            .await
            .map_err(classify)?;
        let mut out = Vec::new();
        while found.advance().await.map_err(classify)? {
            let d: Document = found.deserialize_current().map_err(classify)?;
            out.push(Delivery {
                anomaly_id: get_string(&d, "anomaly_id")?,
                channel: get_string(&d, "channel")?,
                status: parse_field(&d, "status")?,
                attempt: u32::try_from(get_int(&d, "attempt")?).unwrap_or(u32::MAX),
                at: get_date(&d, "at")?,
                ok: d.get_bool("ok").map_err(|e| corrupt("ok", e))?,
                http_status: d
                    .get("http_status")
                    .and_then(Bson::as_i32)
                    .and_then(|s| u16::try_from(s).ok()),
                error: d.get_str("error").ok().map(str::to_owned),
            });
        }
        Ok(out)
    }
}

/// Escapes every regex metacharacter so user text matches literally.
fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn write_errors(reply: &Document, what: &str) -> Result<(), StoreError> {
    match reply.get_array("writeErrors") {
        Ok(errors) if !errors.is_empty() => {
            Err(StoreError::Backend(format!("{what} failed: {errors:?}")))
        }
        _ => Ok(()),
    }
}

/// E11000: an insert met a document with the same `_id`.
fn is_duplicate_key(e: &mongodb::error::Error) -> bool {
    match e.kind.as_ref() {
        ErrorKind::Command(c) => c.code == 11000,
        ErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) => w.code == 11000,
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .is_some_and(|errors| errors.iter().any(|w| w.code == 11000)),
        _ => false,
    }
}

fn command_code(e: &mongodb::error::Error) -> Option<i32> {
    match e.kind.as_ref() {
        ErrorKind::Command(c) => Some(c.code),
        _ => None,
    }
}

/// No usable server: selection timed out, the network failed, the pool was
/// cleared, the client shuts down. Retrying at once would only wait again.
fn server_unreachable(e: &mongodb::error::Error) -> bool {
    matches!(
        e.kind.as_ref(),
        ErrorKind::ServerSelection { .. }
            | ErrorKind::Io(_)
            | ErrorKind::ConnectionPoolCleared { .. }
            | ErrorKind::Shutdown
    )
}

/// An unreachable server is [`StoreError::Unavailable`], as are transient
/// transaction failures; anything else is a backend error.
fn classify(e: mongodb::error::Error) -> StoreError {
    let transient = server_unreachable(&e)
        || e.contains_label(TRANSIENT_TRANSACTION_ERROR)
        || e.contains_label("RetryableWriteError");
    // The error's kind says what happened; its full form adds a raw dump of
    // the server response that only bloats logs.
    let text = format!("MongoDB: {}", e.kind);
    if transient {
        StoreError::Unavailable(text)
    } else {
        StoreError::Backend(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_round_trip_through_bson_whatever_their_keys() {
        let v = serde_json::json!({
            "http.status": 503, "$weird": [1.5, "x", null, true],
            "big": 18446744073709551615u64, "nested": {"a.b": {"c": 1}}
        });
        let back = bson_to_json(&json_to_bson(&v));
        assert_eq!(back["http.status"], 503);
        assert_eq!(back["$weird"], serde_json::json!([1.5, "x", null, true]));
        assert_eq!(back["nested"]["a.b"]["c"], 1);
        assert!(back["big"].is_f64());
    }

    #[test]
    fn regex_escaping_makes_text_literal() {
        assert_eq!(escape_regex("a.b*(c)"), "a\\.b\\*\\(c\\)");
        assert_eq!(escape_regex("50% off_x"), "50% off_x");
    }
}
