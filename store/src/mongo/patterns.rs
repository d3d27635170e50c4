//! Log patterns in MongoDB.
//!
//! - `patterns`: one document per service and pattern, `_id` is
//!   `<pattern id>|<service>`; indexed on `id` and `service`+`first_seen`.
//! - `pattern_rollups`: one document per (service, pattern, minute, level),
//!   `count` grown with `$inc` upserts by `persist` (persist.rs: each group
//!   of logs once, its marker in `applied`); TTL on `bucket` (the retention).
//! - `miner_states`: `_id` is the service, `doc` the miner snapshot as JSON
//!   text (its keys are not all field names MongoDB accepts).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use anomalog_core::Level;
use anomalog_core::pattern::MinerSnapshot;

use super::{MongoStore, classify, corrupt, date, escape_regex, get_date, get_int, get_string};
use crate::StoreError;
use crate::ports::{
    PATTERN_EXAMPLES, PatternQuery, PatternRecord, PatternRollupRow, PatternSighting, PatternStore,
};

impl MongoStore {
    fn patterns_coll(&self) -> Collection<Document> {
        self.db.collection("patterns")
    }

    pub(super) fn pattern_rollups_coll(&self) -> Collection<Document> {
        self.db.collection("pattern_rollups")
    }

    fn miner_states_coll(&self) -> Collection<Document> {
        self.db.collection("miner_states")
    }

    /// Indexes of the pattern collections, with the retention (TTL) of the
    /// pattern rollups.
    pub(super) async fn ensure_pattern_indexes(
        &self,
        retention: Duration,
    ) -> Result<(), StoreError> {
        let ttl = IndexModel::builder()
            .keys(doc! { "bucket": 1 })
            .options(
                IndexOptions::builder()
                    .name("bucket_ttl".to_owned())
                    .expire_after(retention)
                    .build(),
            )
            .build();
        let named = |keys: Document, name: &str| {
            IndexModel::builder()
                .keys(keys)
                .options(IndexOptions::builder().name(name.to_owned()).build())
                .build()
        };
        let rollups = self.pattern_rollups_coll();
        self.ensure_ttl(&rollups, ttl, "bucket_ttl", retention)
            .await?;
        rollups
            .create_index(named(doc! { "service": 1, "bucket": 1 }, "service_bucket"))
            .await
            .map_err(classify)?;
        self.patterns_coll()
            .create_indexes([
                named(doc! { "id": 1 }, "id"),
                named(doc! { "service": 1, "first_seen": 1 }, "service_first_seen"),
            ])
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Retention of the pattern rollups (the TTL index does it too, lazily)
    /// and of the records of patterns last seen before the cutoff.
    pub(super) async fn delete_pattern_rollups_before(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.pattern_rollups_coll()
            .delete_many(doc! { "bucket": { "$lt": date(cutoff) } })
            .await
            .map_err(classify)?;
        // Patterns last seen before the cutoff: their lines and counts are
        // gone too.
        self.patterns_coll()
            .delete_many(doc! { "last_seen": { "$lt": date(cutoff) } })
            .await
            .map_err(classify)?;
        Ok(())
    }
}

/// Restricts a log query to lines of these patterns (none: no restriction).
pub(super) fn filter_logs(filter: &mut Document, patterns: &[String]) {
    if !patterns.is_empty() {
        filter.insert("pattern", doc! { "$in": patterns });
    }
}

fn record_id(service: &str, id: &str) -> String {
    format!("{id}|{service}")
}

fn record_from(d: &Document) -> Result<PatternRecord, StoreError> {
    let rank = get_int(d, "max_level")?;
    let examples = match d.get_array("examples") {
        Ok(items) => items
            .iter()
            .filter_map(|b| b.as_str().map(str::to_owned))
            .collect(),
        Err(_) => Vec::new(),
    };
    Ok(PatternRecord {
        service: get_string(d, "service")?,
        id: get_string(d, "id")?,
        template: get_string(d, "template")?,
        first_seen: get_date(d, "first_seen")?,
        last_seen: get_date(d, "last_seen")?,
        total: u64::try_from(get_int(d, "total")?).unwrap_or(0),
        max_level: u8::try_from(rank)
            .ok()
            .and_then(Level::from_rank)
            .ok_or_else(|| corrupt("max_level", format!("unknown level rank {rank}")))?,
        examples,
        merged_into: d.get_str("merged_into").ok().map(str::to_owned),
    })
}

#[async_trait]
impl PatternStore for MongoStore {
    async fn miner_state(&self, service: &str) -> Result<Option<MinerSnapshot>, StoreError> {
        let found = self
            .miner_states_coll()
            .find_one(doc! { "_id": service })
            .await
            .map_err(classify)?;
        found
            .map(|d| {
                let text = get_string(&d, "doc")?;
                serde_json::from_str(&text).map_err(StoreError::from)
            })
            .transpose()
    }

    async fn save_miner_states(&self, states: &[MinerSnapshot]) -> Result<(), StoreError> {
        let coll = self.miner_states_coll();
        for state in states {
            let text = serde_json::to_string(state)?;
            coll.replace_one(
                doc! { "_id": &state.service },
                doc! { "_id": &state.service, "doc": text },
            )
            .upsert(true)
            .await
            .map_err(classify)?;
        }
        Ok(())
    }

    async fn record_patterns(&self, sightings: &[PatternSighting]) -> Result<(), StoreError> {
        if sightings.is_empty() {
            return Ok(());
        }
        let coll = self.patterns_coll();
        // Examples are merged here (first ones kept, no repeats): one
        // consumer writes a service's patterns at a time.
        let ids: Vec<String> = sightings
            .iter()
            .map(|s| record_id(&s.service, &s.id))
            .collect();
        let mut stored: HashMap<String, Vec<String>> = HashMap::new();
        let mut found = coll
            .find(doc! { "_id": { "$in": &ids } })
            .projection(doc! { "examples": 1 })
            .await
            .map_err(classify)?;
        while found.advance().await.map_err(classify)? {
            let d: Document = found.deserialize_current().map_err(classify)?;
            let examples = d
                .get_array("examples")
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|b| b.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            stored.insert(get_string(&d, "_id")?, examples);
        }
        let mut updates = Vec::with_capacity(sightings.len());
        for (s, id) in sightings.iter().zip(ids) {
            let mut examples = stored.remove(&id).unwrap_or_default();
            for example in &s.examples {
                if examples.len() >= PATTERN_EXAMPLES {
                    break;
                }
                if !examples.contains(example) {
                    examples.push(example.clone());
                }
            }
            let mut set = doc! {
                "service": &s.service,
                "id": &s.id,
                "template": &s.template,
                "examples": examples,
            };
            if let Some(into) = &s.merged_into {
                set.insert("merged_into", into);
            }
            let update = doc! {
                "$set": set,
                "$min": { "first_seen": date(s.first_seen) },
                "$max": {
                    "last_seen": date(s.last_seen),
                    "total": i64::try_from(s.total).unwrap_or(i64::MAX),
                    "max_level": i32::from(s.max_level.rank()),
                },
            };
            updates.push(doc! { "q": { "_id": id }, "u": update, "upsert": true });
        }
        let reply = self
            .db
            .run_command(doc! { "update": coll.name(), "updates": updates, "ordered": true })
            .await
            .map_err(classify)?;
        super::write_errors(&reply, "pattern records")?;
        Ok(())
    }

    async fn patterns(&self, query: &PatternQuery) -> Result<Vec<PatternRecord>, StoreError> {
        let mut filter = Document::new();
        if let Some(service) = &query.service {
            filter.insert("service", service);
        }
        if let Some(since) = query.since {
            filter.insert("last_seen", doc! { "$gte": date(since) });
        }
        if let Some(text) = &query.text {
            filter.insert(
                "template",
                doc! { "$regex": escape_regex(text), "$options": "i" },
            );
        }
        if !query.include_merged {
            filter.insert("merged_into", doc! { "$exists": false });
        }
        let mut found = self
            .patterns_coll()
            .find(filter)
            .sort(doc! { "first_seen": 1, "service": 1, "id": 1 })
            .limit(i64::try_from(query.limit.max(1)).unwrap_or(i64::MAX))
            .await
            .map_err(classify)?;
        let mut out = Vec::new();
        while found.advance().await.map_err(classify)? {
            let d: Document = found.deserialize_current().map_err(classify)?;
            out.push(record_from(&d)?);
        }
        Ok(out)
    }

    async fn pattern(&self, id: &str) -> Result<Option<PatternRecord>, StoreError> {
        let found = self
            .patterns_coll()
            .find_one(doc! { "id": id })
            .sort(doc! { "service": 1 })
            .await
            .map_err(classify)?;
        found.map(|d| record_from(&d)).transpose()
    }

    async fn pattern_rollups(
        &self,
        service: Option<&str>,
        patterns: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PatternRollupRow>, StoreError> {
        let mut filter = doc! { "bucket": { "$gte": date(from), "$lt": date(to) } };
        if let Some(service) = service {
            filter.insert("service", service);
        }
        if !patterns.is_empty() {
            filter.insert(
                "pattern",
                doc! { "$in": patterns.iter().map(|p| Bson::String(p.clone())).collect::<Vec<_>>() },
            );
        }
        let mut found = self
            .pattern_rollups_coll()
            .find(filter)
            .projection(doc! { super::persist::APPLIED: 0 })
            .sort(doc! { "service": 1, "bucket": 1, "pattern": 1, "level_rank": 1 })
            .await
            .map_err(classify)?;
        let mut out: Vec<PatternRollupRow> = Vec::new();
        while found.advance().await.map_err(classify)? {
            let d: Document = found.deserialize_current().map_err(classify)?;
            let rank = get_int(&d, "level_rank")?;
            let row = PatternRollupRow {
                service: get_string(&d, "service")?,
                pattern: get_string(&d, "pattern")?,
                bucket: get_date(&d, "bucket")?,
                level: u8::try_from(rank)
                    .ok()
                    .and_then(Level::from_rank)
                    .ok_or_else(|| corrupt("level_rank", format!("unknown level rank {rank}")))?,
                count: u64::try_from(get_int(&d, "count")?).unwrap_or(0),
            };
            // A key's chain of documents (persist.rs) is one row; sorted, its
            // documents are adjacent.
            match out.last_mut() {
                Some(last)
                    if last.service == row.service
                        && last.pattern == row.pattern
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
}
