//! The embedded adapter: every port on SQLite, for local use: the queue in a
//! database file of its own ([`queue`]), everything else in another.
//!
//! SQLite runs in WAL mode with `synchronous=FULL`, so a committed append
//! survives a crash of the process or the machine. Each connection is owned
//! by a thread of its own ([`pool`]), which runs the blocking SQLite calls
//! sent to it: a writer per file (so an ingest append never waits for a
//! persist to commit), [`pool::READERS`] readers and one connection for the
//! queue status health reads let reads proceed while a write commits.

mod patterns;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use anomalog_core::rollup::{FINE_BUCKET_SECS, RollupRow, bucket_start};
use anomalog_core::{Anomaly, Level, StoredLog};

mod detector_states;
mod idempotency;
mod incidents;
pub mod keys;
mod logs;
mod pool;
mod queue;

use crate::StoreError;
use crate::claimed::ClaimedRow;
use crate::ports::{
    AnomalyQuery, AnomalyStore, ClaimedBatch, Delivery, DeliveryStore, LogPage, LogQuery, LogStore,
    PersistReport, RollupStore, ServiceSummary,
};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "anomalog.db";

/// Default of how long a claimed queue entry may stay unacknowledged before
/// another consumer may claim it.
pub const DEFAULT_RECLAIM_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rollups (
    service TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    level INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (service, bucket, level)
) WITHOUT ROWID;
-- Covering: a detect pass reads every service's rows of its lookback in
-- bucket order without a lookup into the table per row.
DROP INDEX IF EXISTS rollups_bucket;
CREATE INDEX IF NOT EXISTS rollups_by_bucket ON rollups (bucket, service, level, count);
CREATE TABLE IF NOT EXISTS anomalies (
    id TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    window_end INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS anomalies_window ON anomalies (window_start);
-- Per-anomaly delivery bookkeeping of versions that alerted per anomaly.
DROP TABLE IF EXISTS notified;
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    anomaly_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_anomaly ON deliveries (anomaly_id, seq);
";

/// Every port on one SQLite database.
pub struct EmbeddedStore {
    path: PathBuf,
    writer: pool::Connections,
    /// Reads of logs, rollups, anomalies ([`pool::READERS`] at once).
    readers: pool::Connections,
    /// The queue's own database ([`queue::QUEUE_FILE`]): ingest appends
    /// take this writer, never the one persist holds.
    queue: pool::Connections,
    /// The queue status health reports: its own connection, so no long
    /// read ever delays a health check.
    status: pool::Connections,
    /// The live detector states' own database
    /// ([`detector_states::LIVE_FILE`]): read and written by detect only.
    live: pool::Connections,
    max_queue_entries: u64,
    reclaim_after_ms: i64,
}

/// Default bound of the queue, in entries (ingest batches).
pub const DEFAULT_MAX_QUEUE_ENTRIES: u64 = 100_000;

impl EmbeddedStore {
    /// Opens (creating if needed) the store in `dir`.
    ///
    /// Entries claimed by a previous run of this process are released: one
    /// process owns an embedded store, so any claim left over is from a crash.
    pub fn open(dir: &Path) -> Result<EmbeddedStore, StoreError> {
        EmbeddedStore::open_bounded(dir, DEFAULT_MAX_QUEUE_ENTRIES)
    }

    /// Like [`EmbeddedStore::open`], with a queue bounded to `max_queue_entries`
    /// unacknowledged entries. When full, `append` refuses with
    /// [`StoreError::Unavailable`] (ingest answers 503): nothing is ever dropped.
    pub fn open_bounded(dir: &Path, max_queue_entries: u64) -> Result<EmbeddedStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create data dir {}: {e}", dir.display()))
        })?;
        let path = dir.join(DB_FILE);
        let mut writer = open_connection(&path)?;
        set_writer_cache(&writer)?;
        writer.execute_batch(SCHEMA)?;
        let queue = queue::open(dir, &writer)?;
        patterns::migrate(&writer)?;
        logs::migrate(&mut writer)?;
        writer.execute_batch(incidents::SCHEMA)?;
        writer.execute_batch(detector_states::MAIN_SCHEMA)?;
        // Two connections: a pass's write of one chunk's states goes on
        // while the next chunk's summaries and states are read (WAL: the
        // reader does not wait for the writer).
        let live = vec![detector_states::open(dir)?, detector_states::open(dir)?];
        let readers = (0..pool::READERS)
            .map(|_| open_connection(&path))
            .collect::<Result<Vec<_>, _>>()?;
        let status = open_connection(&dir.join(queue::QUEUE_FILE))?;
        Ok(EmbeddedStore {
            path,
            writer: pool::Connections::spawn("store-writer", vec![writer])?,
            readers: pool::Connections::spawn("store-reader", readers)?,
            queue: pool::Connections::spawn("queue-writer", vec![queue])?,
            status: pool::Connections::spawn("queue-status", vec![status])?,
            live: pool::Connections::spawn("live-states", live)?,
            max_queue_entries,
            reclaim_after_ms: i64::try_from(DEFAULT_RECLAIM_AFTER.as_millis()).unwrap_or(i64::MAX),
        })
    }

    /// Sets how long a claimed entry may stay unacknowledged before another
    /// consumer may claim it (default [`DEFAULT_RECLAIM_AFTER`]).
    pub fn reclaim_after(mut self, timeout: std::time::Duration) -> EmbeddedStore {
        self.reclaim_after_ms = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.run(f).await
    }

    /// Runs `f` on the queue's writer.
    async fn queue_write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.queue.run(f).await
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.readers.run(f).await
    }
}

/// Bytes a WAL file is truncated to once checkpointed (see
/// [`open_connection`]).
const WAL_SIZE_LIMIT: i64 = 8 << 20;

/// How a database file is opened: its page size when new, how commits are
/// synced, and the size its WAL is truncated to.
struct FileTuning {
    /// Only a new, empty file takes it (set before WAL mode, its first
    /// write); `None` keeps SQLite's 4 KiB.
    page_size: Option<i64>,
    synchronous: &'static str,
    wal_size_limit: i64,
}

/// The store's own files: every commit synced.
const DURABLE: FileTuning = FileTuning {
    page_size: None,
    synchronous: "FULL",
    wal_size_limit: WAL_SIZE_LIMIT,
};

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    open_tuned(path, &DURABLE)
}

fn open_tuned(path: &Path, tuning: &FileTuning) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)
        .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    if let Some(size) = tuning.page_size {
        conn.pragma_update(None, "page_size", size)?;
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", tuning.synchronous)?;
    // A checkpoint that empties the WAL truncates it to this size: without
    // it, the WAL file keeps the size of its largest burst (47 MB after
    // 1M events, docs/benchmarks.md).
    conn.pragma_update(None, "journal_size_limit", tuning.wal_size_limit)?;
    Ok(conn)
}

/// Page cache of the store's writer, in KiB (SQLite's default is 2 MiB). A
/// persist's transaction writes several MiB of blocks and index entries:
/// within 2 MiB, SQLite spilled dirty pages to the WAL mid-transaction and
/// read index pages back from the file (together a tenth of a sustained load's
/// CPU, docs/benchmarks.md).
const WRITER_CACHE_KIB: i64 = 16 * 1024;

fn set_writer_cache(conn: &Connection) -> Result<(), StoreError> {
    // A negative size is in KiB.
    conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)?;
    Ok(())
}

fn millis(ts: DateTime<Utc>) -> i64 {
    ts.timestamp_millis()
}

fn from_secs(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn level_from(rank: i64) -> Result<Level, StoreError> {
    u8::try_from(rank)
        .ok()
        .and_then(Level::from_rank)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown level rank {rank}")))
}

/// What a persist adds to the rollups and the pattern rollups.
struct Counts {
    rollups: BTreeMap<(String, i64, i64), i64>,
    patterns: patterns::PatternDeltas,
}

impl Counts {
    /// Counted under borrowed keys (most rows add to a key already seen),
    /// owned once per key at the end.
    fn of<'r, 'a: 'r>(rows: impl Iterator<Item = &'r ClaimedRow<'a>>) -> Counts {
        let mut rollups: HashMap<(&'a str, i64, i64), i64> = HashMap::new();
        let mut patterns: HashMap<(&'a str, &'a str, i64, i64), i64> = HashMap::new();
        for row in rows {
            let event = &row.event;
            let level = i64::from(event.level.rank());
            if let Some(pattern) = row.pattern {
                let minute = bucket_start(event.ts, crate::ports::PATTERN_BUCKET_SECS).timestamp();
                *patterns
                    .entry((event.service, pattern, minute, level))
                    .or_default() += 1;
            }
            let bucket = bucket_start(event.ts, FINE_BUCKET_SECS).timestamp();
            *rollups.entry((event.service, bucket, level)).or_default() += 1;
        }
        Counts {
            rollups: rollups
                .into_iter()
                .map(|((service, bucket, level), n)| ((service.to_owned(), bucket, level), n))
                .collect(),
            patterns: patterns
                .into_iter()
                .map(|((service, pattern, minute, level), n)| {
                    ((service.to_owned(), pattern.to_owned(), minute, level), n)
                })
                .collect(),
        }
    }

    fn add(self, tx: &rusqlite::Transaction<'_>) -> Result<(), StoreError> {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO rollups (service, bucket, level, count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (service, bucket, level) DO UPDATE SET count = count + excluded.count",
        )?;
        for ((service, bucket, level), n) in self.rollups {
            upsert.execute(params![service, bucket, level, n])?;
        }
        patterns::add_rollups(tx, self.patterns)
    }
}

#[async_trait]
impl LogStore for EmbeddedStore {
    async fn persist(&self, logs: &[StoredLog]) -> Result<PersistReport, StoreError> {
        if let Some(report) = self
            .persist_new(logs.iter().map(ClaimedRow::of).collect())
            .await?
        {
            return Ok(report);
        }
        self.persist_some(logs.to_vec()).await
    }

    async fn persist_claimed(
        &self,
        batches: Vec<ClaimedBatch>,
    ) -> Result<PersistReport, StoreError> {
        let rows = batches.iter().flat_map(ClaimedBatch::rows).collect();
        if let Some(report) = self.persist_new(rows).await? {
            return Ok(report);
        }
        self.persist_some(ClaimedBatch::logs_of(batches)?).await
    }

    async fn query(&self, query: &LogQuery) -> Result<LogPage, StoreError> {
        let query = query.clone();
        self.read(move |conn| logs::query(conn, &query)).await
    }

    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let n = logs::delete_before(&tx, millis(cutoff))?;
            tx.execute(
                "DELETE FROM rollups WHERE bucket < ?1",
                params![cutoff.timestamp()],
            )?;
            patterns::delete_rollups_before(&tx, cutoff)?;
            tx.commit()?;
            Ok(n)
        })
        .await
    }
}

impl EmbeddedStore {
    /// The fast path of a persist, taken when every log is new (as it nearly
    /// always is): blocks are compressed and counts summed before the writer
    /// is taken, and the writer's closure gets ids and times, not a copy of
    /// the logs. `None` (and nothing written) when some were stored before.
    async fn persist_new(
        &self,
        rows: Vec<ClaimedRow<'_>>,
    ) -> Result<Option<PersistReport>, StoreError> {
        let counts = Counts::of(rows.iter());
        let ids: Vec<(String, i64)> = rows
            .iter()
            .map(|row| (row.id.clone(), row.event.ts.timestamp_millis()))
            .collect();
        let prepared = logs::prepare(rows)?;
        let written = self
            .write(move |conn| {
                let tx = conn.transaction()?;
                let fresh =
                    logs::ids::fresh_indexes(&tx, ids.iter().map(|(id, ts)| (id.as_str(), *ts)))?;
                if fresh.len() < ids.len() {
                    // Dropping `tx` rolls back the ids just recorded.
                    return Ok(None);
                }
                logs::write(&tx, prepared)?;
                counts.add(&tx)?;
                tx.commit()?;
                Ok(Some(ids.len() as u64))
            })
            .await?;
        Ok(written.map(|inserted| PersistReport {
            inserted,
            duplicates: 0,
        }))
    }

    /// A persist of logs some of which were stored before (a batch
    /// delivered again): keeps the new.
    async fn persist_some(&self, logs: Vec<StoredLog>) -> Result<PersistReport, StoreError> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let fresh = logs::ids::keep_new(&tx, &logs)?;
            let report = PersistReport {
                inserted: fresh.len() as u64,
                duplicates: (logs.len() - fresh.len()) as u64,
            };
            let rows: Vec<ClaimedRow<'_>> = fresh.iter().copied().map(ClaimedRow::of).collect();
            let counts = Counts::of(rows.iter());
            logs::write(&tx, logs::prepare(rows)?)?;
            counts.add(&tx)?;
            tx.commit()?;
            Ok(report)
        })
        .await
    }
}

#[async_trait]
impl RollupStore for EmbeddedStore {
    async fn rollups(
        &self,
        service: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<RollupRow>, StoreError> {
        let service = service.map(str::to_owned);
        self.read(move |conn| {
            // One service: a range of the primary key. All of them: a range
            // of the bucket index, unsorted (sorting every service's rows of
            // a detect pass's lookback cost more than reading them).
            let range = (from.timestamp(), to.timestamp());
            let mut stmt;
            let mut rows = match &service {
                Some(service) => {
                    stmt = conn.prepare_cached(
                        "SELECT service, bucket, level, count FROM rollups
                         WHERE service = ?1 AND bucket >= ?2 AND bucket < ?3",
                    )?;
                    stmt.query(params![service, range.0, range.1])?
                }
                None => {
                    stmt = conn.prepare_cached(
                        "SELECT service, bucket, level, count FROM rollups
                         WHERE bucket >= ?1 AND bucket < ?2",
                    )?;
                    stmt.query(params![range.0, range.1])?
                }
            };
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(RollupRow {
                    service: row.get(0)?,
                    bucket: from_secs(row.get(1)?),
                    level: level_from(row.get(2)?)?,
                    count: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn services(&self, since: DateTime<Utc>) -> Result<Vec<ServiceSummary>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT service, MIN(bucket), MAX(bucket),
                        SUM(CASE WHEN bucket >= ?1 THEN count ELSE 0 END),
                        SUM(CASE WHEN bucket >= ?1 AND level >= ?2 THEN count ELSE 0 END)
                 FROM rollups GROUP BY service ORDER BY service",
            )?;
            let mut rows =
                stmt.query(params![since.timestamp(), i64::from(Level::Error.rank())])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(ServiceSummary {
                    service: row.get(0)?,
                    first_seen: from_secs(row.get(1)?),
                    last_seen: from_secs(row.get(2)?),
                    total: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
                    errors: u64::try_from(row.get::<_, i64>(4)?).unwrap_or(0),
                });
            }
            Ok(out)
        })
        .await
    }
}

/// Decodes the document in column 0 of every row with `decode`.
fn docs<T>(
    mut rows: rusqlite::Rows<'_>,
    decode: fn(&str) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(&row.get::<_, String>(0)?)?);
    }
    Ok(out)
}

#[async_trait]
impl AnomalyStore for EmbeddedStore {
    async fn upsert(&self, anomalies: &[Anomaly]) -> Result<(), StoreError> {
        let anomalies = anomalies.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            // Written as given: merging with the stored record is reconcile's.
            for anomaly in anomalies {
                tx.execute(
                    "INSERT INTO anomalies (id, service, kind, status, window_start, window_end, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (id) DO UPDATE SET service = excluded.service,
                        kind = excluded.kind, status = excluded.status,
                        window_start = excluded.window_start,
                        window_end = excluded.window_end, doc = excluded.doc",
                    params![
                        anomaly.id,
                        anomaly.service,
                        anomaly.kind.as_str(),
                        anomaly.status.as_str(),
                        millis(anomaly.window_start),
                        millis(anomaly.window_end),
                        crate::records::encode_anomaly(&anomaly)?
                    ],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn list(&self, query: &AnomalyQuery) -> Result<Vec<Anomaly>, StoreError> {
        let query = query.clone();
        self.read(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT doc FROM anomalies
                 WHERE (?1 IS NULL OR service = ?1) AND (?2 IS NULL OR kind = ?2)
                   AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR window_end >= ?4)
                 ORDER BY window_start DESC, id LIMIT ?5",
            )?;
            let rows = stmt.query(params![
                query.service,
                query.kind.map(|k| k.as_str()),
                query.status.map(|s| s.as_str()),
                query.since.map(millis),
                i64::try_from(query.limit.max(1)).unwrap_or(i64::MAX),
            ])?;
            docs(rows, crate::records::decode_anomaly)
        })
        .await
    }

    async fn get(&self, id: &str) -> Result<Option<Anomaly>, StoreError> {
        let id = id.to_owned();
        self.read(move |conn| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT doc FROM anomalies WHERE id = ?1",
                    params![id],
                    |r| r.get(0),
                )
                .optional()?;
            doc.map(|d| crate::records::decode_anomaly(&d)).transpose()
        })
        .await
    }
}

#[async_trait]
impl DeliveryStore for EmbeddedStore {
    async fn record(&self, delivery: &Delivery) -> Result<(), StoreError> {
        let delivery = delivery.clone();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO deliveries (anomaly_id, doc) VALUES (?1, ?2)",
                params![
                    delivery.anomaly_id,
                    crate::records::encode_delivery(&delivery)?
                ],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn attempts(&self, anomaly_id: &str) -> Result<Vec<Delivery>, StoreError> {
        let anomaly_id = anomaly_id.to_owned();
        self.read(move |conn| {
            let mut stmt =
                conn.prepare("SELECT doc FROM deliveries WHERE anomaly_id = ?1 ORDER BY seq")?;
            docs(
                stmt.query(params![anomaly_id])?,
                crate::records::decode_delivery,
            )
        })
        .await
    }
}
