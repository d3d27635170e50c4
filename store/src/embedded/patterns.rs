//! Log patterns in the embedded store: the `patterns` table (one row per
//! service and pattern id), the `pattern_rollups` table (per-minute counts
//! per service, pattern and level, written by `persist` in the same
//! transaction as the logs) and `miner_states` (each service's miner
//! snapshot, as JSON).

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{
    Connection, OptionalExtension, Transaction, params, params_from_iter, types::Value,
};

use anomalog_core::pattern::MinerSnapshot;

use super::{EmbeddedStore, from_secs, level_from, millis};
use crate::StoreError;
use crate::ports::{
    PATTERN_EXAMPLES, PatternQuery, PatternRecord, PatternRollupRow, PatternSighting, PatternStore,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS patterns (
    service TEXT NOT NULL,
    id TEXT NOT NULL,
    template TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    total INTEGER NOT NULL,
    max_level INTEGER NOT NULL,
    examples TEXT NOT NULL,
    merged_into TEXT,
    PRIMARY KEY (service, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS patterns_id ON patterns (id);
CREATE TABLE IF NOT EXISTS pattern_rollups (
    service TEXT NOT NULL,
    pattern TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    level INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (service, bucket, pattern, level)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pattern_rollups_bucket ON pattern_rollups (bucket);
CREATE TABLE IF NOT EXISTS miner_states (
    service TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
";

/// Creates the pattern tables.
pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

/// Per-minute pattern counts to add: (service, pattern, minute, level rank).
pub(super) type PatternDeltas = BTreeMap<(String, String, i64, i64), i64>;

/// Adds `deltas` to the pattern rollups, inside `persist`'s transaction.
pub(super) fn add_rollups(tx: &Transaction<'_>, deltas: PatternDeltas) -> Result<(), StoreError> {
    let mut upsert = tx.prepare(
        "INSERT INTO pattern_rollups (service, pattern, bucket, level, count)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (service, bucket, pattern, level) DO UPDATE SET count = count + excluded.count",
    )?;
    for ((service, pattern, bucket, level), n) in deltas {
        upsert.execute(params![service, pattern, bucket, level, n])?;
    }
    Ok(())
}

/// Retention of the pattern rollups, inside `delete_before`'s transaction.
pub(super) fn delete_rollups_before(
    tx: &Transaction<'_>,
    cutoff: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM pattern_rollups WHERE bucket < ?1",
        params![cutoff.timestamp()],
    )?;
    Ok(())
}

fn record_from(row: &rusqlite::Row<'_>) -> Result<PatternRecord, StoreError> {
    let examples: String = row.get(7)?;
    Ok(PatternRecord {
        service: row.get(0)?,
        id: row.get(1)?,
        template: row.get(2)?,
        first_seen: DateTime::from_timestamp_millis(row.get(3)?).unwrap_or_default(),
        last_seen: DateTime::from_timestamp_millis(row.get(4)?).unwrap_or_default(),
        total: u64::try_from(row.get::<_, i64>(5)?).unwrap_or(0),
        max_level: level_from(row.get(6)?)?,
        examples: serde_json::from_str(&examples)?,
        merged_into: row.get(8)?,
    })
}

const RECORD_COLUMNS: &str =
    "service, id, template, first_seen, last_seen, total, max_level, examples, merged_into";

#[async_trait]
impl PatternStore for EmbeddedStore {
    async fn miner_state(&self, service: &str) -> Result<Option<MinerSnapshot>, StoreError> {
        let service = service.to_owned();
        self.read(move |conn| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT doc FROM miner_states WHERE service = ?1",
                    params![service],
                    |r| r.get(0),
                )
                .optional()?;
            doc.map(|d| serde_json::from_str(&d).map_err(StoreError::from))
                .transpose()
        })
        .await
    }

    async fn save_miner_states(&self, states: &[MinerSnapshot]) -> Result<(), StoreError> {
        let docs: Vec<(String, String)> = states
            .iter()
            .map(|s| Ok((s.service.clone(), serde_json::to_string(s)?)))
            .collect::<Result<_, StoreError>>()?;
        self.write(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut upsert = tx.prepare(
                    "INSERT INTO miner_states (service, doc) VALUES (?1, ?2)
                     ON CONFLICT (service) DO UPDATE SET doc = excluded.doc",
                )?;
                for (service, doc) in docs {
                    upsert.execute(params![service, doc])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn record_patterns(&self, sightings: &[PatternSighting]) -> Result<(), StoreError> {
        let sightings = sightings.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            for s in sightings {
                let stored: Option<String> = tx
                    .query_row(
                        "SELECT examples FROM patterns WHERE service = ?1 AND id = ?2",
                        params![s.service, s.id],
                        |r| r.get(0),
                    )
                    .optional()?;
                let mut examples: Vec<String> = match stored {
                    Some(doc) => serde_json::from_str(&doc)?,
                    None => Vec::new(),
                };
                for example in s.examples {
                    if examples.len() >= PATTERN_EXAMPLES {
                        break;
                    }
                    if !examples.contains(&example) {
                        examples.push(example);
                    }
                }
                tx.execute(
                    "INSERT INTO patterns (service, id, template, first_seen, last_seen, total,
                        max_level, examples, merged_into)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (service, id) DO UPDATE SET
                        template = excluded.template,
                        first_seen = MIN(first_seen, excluded.first_seen),
                        last_seen = MAX(last_seen, excluded.last_seen),
                        total = MAX(total, excluded.total),
                        max_level = MAX(max_level, excluded.max_level),
                        examples = excluded.examples,
                        merged_into = COALESCE(excluded.merged_into, merged_into)",
                    params![
                        s.service,
                        s.id,
                        s.template,
                        millis(s.first_seen),
                        millis(s.last_seen),
                        i64::try_from(s.total).unwrap_or(i64::MAX),
                        i64::from(s.max_level.rank()),
                        serde_json::to_string(&examples)?,
                        s.merged_into,
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn patterns(&self, query: &PatternQuery) -> Result<Vec<PatternRecord>, StoreError> {
        let query = query.clone();
        self.read(move |conn| {
            let mut sql = format!("SELECT {RECORD_COLUMNS} FROM patterns WHERE 1=1");
            let mut args: Vec<Value> = Vec::new();
            if let Some(service) = &query.service {
                sql.push_str(" AND service = ?");
                args.push(Value::Text(service.clone()));
            }
            if let Some(since) = query.since {
                sql.push_str(" AND last_seen >= ?");
                args.push(Value::Integer(millis(since)));
            }
            if let Some(text) = &query.text {
                sql.push_str(" AND template LIKE ? ESCAPE '\\'");
                let escaped = text
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                args.push(Value::Text(format!("%{escaped}%")));
            }
            if !query.include_merged {
                sql.push_str(" AND merged_into IS NULL");
            }
            sql.push_str(" ORDER BY first_seen, service, id LIMIT ?");
            args.push(Value::Integer(
                i64::try_from(query.limit.max(1)).unwrap_or(i64::MAX),
            ));
            let mut stmt = conn.prepare(&sql)?;
            let mut rows = stmt.query(params_from_iter(args))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(record_from(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn pattern(&self, id: &str) -> Result<Option<PatternRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {RECORD_COLUMNS} FROM patterns WHERE id = ?1 ORDER BY service LIMIT 1"
            ))?;
            let mut rows = stmt.query(params![id])?;
            match rows.next()? {
                Some(row) => Ok(Some(record_from(row)?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn pattern_rollups(
        &self,
        service: Option<&str>,
        patterns: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<PatternRollupRow>, StoreError> {
        let service = service.map(str::to_owned);
        let patterns = patterns.to_vec();
        self.read(move |conn| {
            let mut sql = String::from(
                "SELECT service, pattern, bucket, level, count FROM pattern_rollups
                 WHERE bucket >= ? AND bucket < ?",
            );
            let mut args = vec![
                Value::Integer(from.timestamp()),
                Value::Integer(to.timestamp()),
            ];
            if let Some(service) = service {
                sql.push_str(" AND service = ?");
                args.push(Value::Text(service));
            }
            if !patterns.is_empty() {
                sql.push_str(" AND pattern IN (");
                sql.push_str(&vec!["?"; patterns.len()].join(", "));
                sql.push(')');
                args.extend(patterns.into_iter().map(Value::Text));
            }
            sql.push_str(" ORDER BY service, bucket, pattern, level");
            let mut stmt = conn.prepare(&sql)?;
            let mut rows = stmt.query(params_from_iter(args))?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(PatternRollupRow {
                    service: row.get(0)?,
                    pattern: row.get(1)?,
                    bucket: from_secs(row.get(2)?),
                    level: level_from(row.get(3)?)?,
                    count: u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
                });
            }
            Ok(out)
        })
        .await
    }
}
