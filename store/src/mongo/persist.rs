//! `persist` on MongoDB without a multi-document transaction.
//!
//! A transaction left open by a process killed mid-persist keeps its writes
//! locked until the server expires it (60 s by default): every later persist
//! touching the same logs or rollup documents failed with `WriteConflict`
//! meanwhile, stalling detect for up to a minute per crash. So each step is
//! idempotent on its own instead, and a crash between steps is repaired by
//! the re-delivery:
//!
//! 1. The logs are inserted unordered; a duplicate key means the log is
//!    stored already and is skipped. Each log records the `writer` (a fresh
//!    ObjectId per call) that inserted it.
//! 2. Rollups and pattern rollups are `$inc`ed per group of logs: the logs of
//!    one queue entry inserted by one writer with one rollup key. That group
//!    is fixed once its logs are inserted, so its count is too; the rollup
//!    document keeps the group's marker (`applied`) and an update whose
//!    marker is already there changes nothing. Logs found stored already
//!    count under the writer that stored them (read back with their pattern),
//!    so a re-delivery after a crash applies exactly the groups that were
//!    missing.
//!
//! The queue entries are acknowledged by the caller only after this returns.
//! Logs stored before writers were recorded have no `writer`: the
//! transaction that stored them counted them, so they are skipped.

use std::collections::{BTreeMap, HashMap, HashSet};

use mongodb::Collection;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::error::ErrorKind;
use mongodb::options::{Acknowledgment, WriteConcern};

use anomalog_core::StoredLog;
use anomalog_core::rollup::{FINE_BUCKET_SECS, bucket_start};

use super::docs::log_to_doc;
use super::{MongoStore, RollupKey, classify};
use crate::StoreError;
use crate::ports::{PATTERN_BUCKET_SECS, PersistReport};

/// Logs per insert and statements per update command: far below MongoDB's
/// 16 MiB command and 100,000-statement batch limits.
const CHUNK: usize = 1000;
/// Field of a rollup document listing the groups counted in it.
pub(super) const APPLIED: &str = "applied";
/// E11000.
const DUPLICATE_KEY: i32 = 11000;

/// Journaled on a majority before returning: the queue entries are
/// acknowledged (deleted) right after.
fn durable() -> WriteConcern {
    WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .journal(true)
        .build()
}

/// One rollup document's share of a persist: its id, the fields it is
/// created with, and the count of each group (marker) of logs it gets.
struct Target {
    id: String,
    fields: Document,
    groups: BTreeMap<String, i64>,
}

/// The queue entry a log id (`<entry>-<index>`) belongs to.
fn entry_of(id: &str) -> &str {
    id.rsplit_once('-').map_or(id, |(entry, _)| entry)
}

impl MongoStore {
    pub(super) async fn persist_logs(
        &self,
        logs: &[StoredLog],
    ) -> Result<PersistReport, StoreError> {
        let started = std::time::Instant::now();
        let writer = ObjectId::new();
        let mut seen = HashSet::new();
        let unique: Vec<&StoredLog> = logs.iter().filter(|l| seen.insert(&l.id)).collect();
        let mut report = PersistReport {
            inserted: 0,
            duplicates: (logs.len() - unique.len()) as u64,
        };
        // Who stored each log, and with which pattern.
        let mut stored_by: Vec<Option<(ObjectId, Option<String>)>> = Vec::new();
        let mut earlier: Vec<&str> = Vec::new();
        for chunk in unique.chunks(CHUNK) {
            let docs = chunk.iter().map(|log| {
                let mut d = log_to_doc(log);
                d.insert("writer", writer);
                d
            });
            let duplicates = self.insert_new(docs).await?;
            for (i, log) in chunk.iter().enumerate() {
                if duplicates.contains(&i) {
                    report.duplicates += 1;
                    earlier.push(&log.id);
                    stored_by.push(None);
                } else {
                    report.inserted += 1;
                    stored_by.push(Some((writer, log.pattern.clone())));
                }
            }
        }
        let inserted_in = started.elapsed();
        let found = self.writers_of(&earlier).await?;
        let mut rollups: BTreeMap<RollupKey, Target> = BTreeMap::new();
        let mut patterns: BTreeMap<String, Target> = BTreeMap::new();
        for (log, by) in unique.iter().zip(stored_by) {
            let Some((writer, pattern)) = by.or_else(|| found.get(log.id.as_str()).cloned()) else {
                continue; // stored before writers were recorded: counted then
            };
            let marker = format!("{writer}/{}", entry_of(&log.id));
            let e = &log.event;
            let key = RollupKey {
                service: e.service.clone(),
                bucket_secs: bucket_start(e.ts, FINE_BUCKET_SECS).timestamp(),
                level: e.level,
            };
            let rank = i32::from(e.level.rank());
            if let Some(pattern) = pattern {
                let minute = bucket_start(e.ts, PATTERN_BUCKET_SECS).timestamp();
                let id = format!("{minute}|{rank}|{pattern}|{}", e.service);
                let target = patterns.entry(id.clone()).or_insert_with(|| Target {
                    id,
                    fields: doc! {
                        "service": &e.service,
                        "pattern": &pattern,
                        "bucket": bson::DateTime::from_millis(minute.saturating_mul(1000)),
                        "level": e.level.as_str(),
                        "level_rank": rank,
                    },
                    groups: BTreeMap::new(),
                });
                *target.groups.entry(marker.clone()).or_default() += 1;
            }
            let target = rollups.entry(key).or_insert_with_key(|key| Target {
                id: key.id(),
                fields: doc! {
                    "service": &key.service,
                    "bucket": bson::DateTime::from_millis(key.bucket_secs.saturating_mul(1000)),
                    "level": key.level.as_str(),
                    "level_rank": rank,
                },
                groups: BTreeMap::new(),
            });
            *target.groups.entry(marker).or_default() += 1;
        }
        let rollups: Vec<Target> = rollups.into_values().collect();
        let patterns: Vec<Target> = patterns.into_values().collect();
        add_counts(&self.db, &self.rollups, &rollups).await?;
        add_counts(&self.db, &self.pattern_rollups_coll(), &patterns).await?;
        tracing::debug!(
            logs = logs.len(),
            inserted = report.inserted,
            duplicates = report.duplicates,
            rollup_docs = rollups.len() + patterns.len(),
            insert_ms = inserted_in.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "persisted"
        );
        Ok(report)
    }

    /// Inserts `docs` unordered; returns the positions of those already
    /// stored (duplicate `_id`). Any other failure fails the call.
    async fn insert_new(
        &self,
        docs: impl IntoIterator<Item = Document>,
    ) -> Result<HashSet<usize>, StoreError> {
        let result = self
            .logs
            .insert_many(docs)
            .ordered(false)
            .write_concern(durable())
            .await;
        let Err(e) = result else {
            return Ok(HashSet::new());
        };
        if let ErrorKind::InsertMany(failure) = e.kind.as_ref()
            && failure.write_concern_error.is_none()
            && let Some(errors) = &failure.write_errors
            && errors.iter().all(|w| w.code == DUPLICATE_KEY)
        {
            return Ok(errors.iter().map(|w| w.index).collect());
        }
        Err(classify(e))
    }

    /// The writer and pattern of each of these stored logs that has a writer.
    async fn writers_of(
        &self,
        ids: &[&str],
    ) -> Result<HashMap<String, (ObjectId, Option<String>)>, StoreError> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let mut found = self
                .logs
                .find(doc! { "_id": { "$in": chunk }, "writer": { "$exists": true } })
                .projection(doc! { "writer": 1, "pattern": 1 })
                .await
                .map_err(classify)?;
            while found.advance().await.map_err(classify)? {
                let d = found.current();
                if let (Ok(id), Ok(writer)) = (d.get_str("_id"), d.get_object_id("writer")) {
                    let pattern = d.get_str("pattern").ok().map(str::to_owned);
                    out.insert(id.to_owned(), (writer, pattern));
                }
            }
        }
        Ok(out)
    }
}

/// Adds each target's groups to its rollup document, each group once.
///
/// First one statement per document, applied only if none of its groups is
/// there yet (the common case). A document that has some already (a
/// re-delivery) fails that statement's upsert with a duplicate key; its
/// groups are then applied one by one, where a duplicate key means the group
/// is counted already (the document exists by then, so it cannot be a race
/// of two first inserts).
async fn add_counts(
    db: &mongodb::Database,
    coll: &Collection<Document>,
    targets: &[Target],
) -> Result<(), StoreError> {
    let whole: Vec<Document> = targets
        .iter()
        .map(|t| {
            let markers: Vec<&String> = t.groups.keys().collect();
            let n: i64 = t.groups.values().sum();
            statement(
                t,
                doc! { "$nin": &markers },
                n,
                Bson::Document(doc! { "$each": &markers }),
            )
        })
        .collect();
    let failed = update(db, coll, whole).await?;
    let one_by_one: Vec<Document> = failed
        .into_iter()
        .filter_map(|i| targets.get(i))
        .flat_map(|t| {
            t.groups.iter().map(move |(marker, &n)| {
                statement(t, doc! { "$ne": marker }, n, Bson::String(marker.clone()))
            })
        })
        .collect();
    update(db, coll, one_by_one).await?;
    Ok(())
}

fn statement(target: &Target, unless: Document, n: i64, push: Bson) -> Document {
    doc! {
        "q": { "_id": &target.id, APPLIED: unless },
        "u": {
            "$inc": { "count": n },
            "$push": { APPLIED: push },
            "$setOnInsert": target.fields.clone(),
        },
        "upsert": true,
    }
}

/// Runs `statements` unordered, in chunks; returns the indexes of those that
/// failed with a duplicate key. Any other write error fails the call.
async fn update(
    db: &mongodb::Database,
    coll: &Collection<Document>,
    statements: Vec<Document>,
) -> Result<Vec<usize>, StoreError> {
    let mut duplicates = Vec::new();
    for (n, chunk) in statements.chunks(CHUNK).enumerate() {
        let reply = db
            .run_command(doc! {
                "update": coll.name(),
                "updates": chunk,
                "ordered": false,
                "writeConcern": { "w": "majority", "j": true },
            })
            .await
            .map_err(classify)?;
        if let Ok(error) = reply.get_document("writeConcernError") {
            return Err(StoreError::Unavailable(format!(
                "MongoDB: {} write concern failed: {error}",
                coll.name()
            )));
        }
        for error in reply.get_array("writeErrors").into_iter().flatten() {
            let Bson::Document(error) = error else {
                continue;
            };
            let code = error.get_i32("code").unwrap_or(0);
            let index = error
                .get_i32("index")
                .ok()
                .and_then(|i| usize::try_from(i).ok());
            match index {
                Some(i) if code == DUPLICATE_KEY => duplicates.push(n * CHUNK + i),
                _ => {
                    return Err(StoreError::Backend(format!(
                        "MongoDB: {} update failed: {error}",
                        coll.name()
                    )));
                }
            }
        }
    }
    Ok(duplicates)
}
