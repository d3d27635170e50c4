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
//! 3. A rollup key's groups are spread over a chain of documents so none
//!    nears MongoDB's 16 MiB limit: the key's own id, then `<id>#1`,
//!    `<id>#2`... A group goes to the first document of the chain that lists
//!    it already (then nothing changes) or that lists fewer than
//!    [`MARKERS_PER_DOCUMENT`] groups (`groups`, counted with them). A full
//!    document never lists another group, so a group is in at most one
//!    document of its chain and a re-delivery, walking the chain in order,
//!    finds it before finding room. Readers add up a key's documents.
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
/// Field of a rollup document counting the groups listed in it.
const GROUPS: &str = "groups";
/// Groups a rollup document lists before its key continues in the next
/// document of its chain: about 400 KB of markers (~40 bytes each), far
/// below 16 MiB even with the groups of one persist added at once past it.
pub(super) const MARKERS_PER_DOCUMENT: i64 = 10_000;
/// Most documents of one chain a persist walks through (a bound against a
/// bug looping, not a limit met in use: 1,000 documents are 10M groups).
const MAX_CHAIN: usize = 1000;
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
        let cap = self.markers_per_document;
        add_counts(&self.db, &self.rollups, &rollups, cap).await?;
        add_counts(&self.db, &self.pattern_rollups_coll(), &patterns, cap).await?;
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

/// Groups of a target still to place (marker, count), and the document of
/// its chain they are tried in next.
type Placing<'a> = (&'a Target, usize, Vec<(&'a String, i64)>);

/// Adds each target's groups to its rollup key's documents, each group once.
///
/// Per document of the chain (the key's own first): one statement per
/// target, applied only if none of its groups is there yet and the document
/// has room (the common case: one statement per key). A document that has
/// some of them already (a re-delivery) or no room fails that statement's
/// upsert with a duplicate key; its groups are then tried one by one, and
/// each that fails is looked up: listed there (counted already: done), or
/// not listed in a full document (on to the next document of the chain), or
/// not listed in a document with room (a concurrent first insert of the
/// document: tried there again).
async fn add_counts(
    db: &mongodb::Database,
    coll: &Collection<Document>,
    targets: &[Target],
    cap: i64,
) -> Result<(), StoreError> {
    // Per target: the groups still to place, and the link of the chain.
    let mut pending: Vec<Placing> = targets
        .iter()
        .map(|t| (t, 0, t.groups.iter().map(|(m, &n)| (m, n)).collect()))
        .collect();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        if rounds > MAX_CHAIN * 2 {
            return Err(StoreError::Backend(format!(
                "MongoDB: {} groups not placed after {MAX_CHAIN} documents",
                coll.name()
            )));
        }
        let whole: Vec<Document> = pending
            .iter()
            .map(|(t, link, groups)| {
                let markers: Vec<&String> = groups.iter().map(|(m, _)| *m).collect();
                let n: i64 = groups.iter().map(|(_, n)| n).sum();
                statement(
                    t,
                    *link,
                    cap,
                    doc! { "$nin": &markers },
                    n,
                    Bson::Document(doc! { "$each": &markers }),
                )
            })
            .collect();
        let failed = update(db, coll, whole).await?;
        let one_by_one: Vec<(&Target, usize, &String, i64)> = failed
            .into_iter()
            .filter_map(|i| pending.get(i))
            .flat_map(|(t, link, groups)| groups.iter().map(move |(m, n)| (*t, *link, *m, *n)))
            .collect();
        let statements = one_by_one
            .iter()
            .map(|(t, link, marker, n)| {
                statement(
                    t,
                    *link,
                    cap,
                    doc! { "$ne": *marker },
                    *n,
                    Bson::String((*marker).clone()),
                )
            })
            .collect();
        let failed = update(db, coll, statements).await?;
        // The documents those groups failed in, read once each.
        let mut looked_up: HashMap<String, (HashSet<String>, bool)> = HashMap::new();
        let mut next: Vec<Placing> = Vec::new();
        for (t, link, marker, n) in failed.into_iter().filter_map(|i| one_by_one.get(i)) {
            let id = link_id(t, *link);
            if !looked_up.contains_key(&id) {
                let found = look_up(coll, &id, cap).await?;
                looked_up.insert(id.clone(), found);
            }
            let Some((listed, full)) = looked_up.get(&id) else {
                continue;
            };
            if listed.contains(marker.as_str()) {
                continue; // counted already
            }
            let link = if *full { link + 1 } else { *link };
            match next
                .iter_mut()
                .find(|(nt, nl, _)| nt.id == t.id && *nl == link)
            {
                Some((_, _, groups)) => groups.push((marker, *n)),
                None => next.push((t, link, vec![(marker, *n)])),
            }
        }
        pending = next;
    }
    Ok(())
}

/// The groups listed in document `id` and whether it is full (none listed
/// and not full when it does not exist).
async fn look_up(
    coll: &Collection<Document>,
    id: &str,
    cap: i64,
) -> Result<(HashSet<String>, bool), StoreError> {
    let found = coll
        .find_one(doc! { "_id": id })
        .projection(doc! { APPLIED: 1, GROUPS: 1 })
        .await
        .map_err(classify)?;
    let Some(found) = found else {
        return Ok((HashSet::new(), false));
    };
    let listed = found
        .get_array(APPLIED)
        .map(|a| {
            a.iter()
                .filter_map(Bson::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let groups = match found.get(GROUPS) {
        Some(Bson::Int32(n)) => i64::from(*n),
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Double(n)) => *n as i64,
        _ => 0,
    };
    Ok((listed, groups >= cap))
}

/// The id of a rollup key's document `link` of its chain.
fn link_id(target: &Target, link: usize) -> String {
    match link {
        0 => target.id.clone(),
        n => format!("{}#{n}", target.id),
    }
}

fn statement(
    target: &Target,
    link: usize,
    cap: i64,
    unless: Document,
    n: i64,
    push: Bson,
) -> Document {
    let added = match &push {
        Bson::Document(each) => each
            .get_array("$each")
            .map_or(1, |a| i64::try_from(a.len()).unwrap_or(i64::MAX)),
        _ => 1,
    };
    doc! {
        "q": { "_id": link_id(target, link), APPLIED: unless, GROUPS: { "$not": { "$gte": cap } } },
        "u": {
            "$inc": { "count": n, GROUPS: added },
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
