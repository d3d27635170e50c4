//! The embedded queue: ingest's batches wait here for detect, in a SQLite
//! database of their own ([`QUEUE_FILE`]) with its own writer, so an append
//! commits while a persist holds the main database's writer. Idempotency
//! keys live in the same file, written in the append's transaction.
//!
//! Persist stays idempotent across the two files: a batch is acknowledged
//! (deleted here) only after its logs are committed in the main database,
//! and a batch claimed again after a crash in between is stored once (the
//! main database knows which ids of each entry it holds).

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use anomalog_core::LogEvent;

use super::{EmbeddedStore, millis, open_connection};
use crate::StoreError;
use crate::ports::{Appended, ClaimLimit, ClaimedBatch, EncodedBatch, EventQueue, QueueEntry};

/// File name of the queue's database inside the data directory.
pub const QUEUE_FILE: &str = "queue.db";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    payload BLOB NOT NULL,
    enqueued_at INTEGER NOT NULL,
    claimed_by TEXT,
    claimed_at INTEGER
);
-- The entries' count and the oldest append read this index instead of the
-- table: a row of the table holds the first kilobytes of its payload, so
-- counting 20,000 queued entries read 400 MB of pages, on every append.
CREATE INDEX IF NOT EXISTS queue_enqueued ON queue (enqueued_at);
-- The claimed entries, few, found without reading the others.
CREATE INDEX IF NOT EXISTS queue_claimed ON queue (claimed_at) WHERE claimed_at IS NOT NULL;
";

/// Queue entries moved per transaction from an earlier version's main
/// database.
const MOVE_ROWS: i64 = 1_000;

/// Opens (creating if needed) the queue's database in `dir`, moves the
/// queue and idempotency keys an earlier version kept in the main database
/// (`main`) into it, and releases every claim (one process owns an embedded
/// store, so a claim left over is from a crash).
pub(super) fn open(dir: &Path, main: &Connection) -> Result<Connection, StoreError> {
    let path = dir.join(QUEUE_FILE);
    // SQLite's default page cache (2 MiB): each transaction appends, claims
    // or acks a few entries, and a larger cache only held payload pages
    // (20 MiB of resident memory at 200k events/s, docs/benchmarks.md).
    let mut conn = open_connection(&path)?;
    incremental_vacuum_on(&conn)?;
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(super::idempotency::SCHEMA)?;
    move_from_main(&mut conn, main)?;
    conn.execute(
        "UPDATE queue SET claimed_by = NULL, claimed_at = NULL WHERE claimed_by IS NOT NULL",
        [],
    )?;
    Ok(conn)
}

/// Free pages past which an acknowledgement that leaves the queue nearly
/// empty gives them back to the file system (16 MiB of 4 KiB pages).
const SHRINK_FREE_PAGES: i64 = 4096;
/// Entries a queue may still hold for that (their pages are moved).
const SHRINK_MAX_ENTRIES: i64 = 64;

/// Makes the queue's file able to shrink (`auto_vacuum = INCREMENTAL`): a
/// backlog's pages go back to the file system once it drains, instead of the
/// file keeping the size of its largest backlog (183 MB after 1M events,
/// docs/benchmarks.md). A file created before needs one `VACUUM` for it,
/// done here at start-up (the queue is then as small as it gets).
fn incremental_vacuum_on(conn: &Connection) -> Result<(), StoreError> {
    let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
    if mode != 2 {
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        conn.execute_batch("VACUUM")?;
    }
    Ok(())
}

/// Gives the free pages of the queue's file back once a backlog has drained
/// (see [`incremental_vacuum_on`]). Checked after each acknowledgement: the
/// free page count is in the file's header, so the check costs nothing
/// while the queue keeps up.
fn shrink_when_drained(conn: &Connection) -> Result<(), StoreError> {
    let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    if free < SHRINK_FREE_PAGES {
        return Ok(());
    }
    let left: i64 = conn.query_row(
        "SELECT COUNT(*) FROM (SELECT 1 FROM queue LIMIT ?1)",
        params![SHRINK_MAX_ENTRIES],
        |r| r.get(0),
    )?;
    if left < SHRINK_MAX_ENTRIES {
        // The pragma frees a page per step: step it to the end.
        let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
        let mut rows = stmt.query([])?;
        while rows.next()?.is_some() {}
    }
    Ok(())
}

fn has_table(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1")?
        .exists(params![name])?)
}

/// Moves an earlier version's `queue` and `idempotency_keys` tables out of
/// the main database. Entries keep their sequence numbers (their ids) and
/// are inserted before they are deleted there, each step idempotent, so a
/// crash halfway loses and doubles nothing.
fn move_from_main(queue: &mut Connection, main: &Connection) -> Result<(), StoreError> {
    if has_table(main, "idempotency_keys")? {
        let keys: Vec<(String, String, i64)> = {
            let mut stmt = main.prepare("SELECT key, entry, expires_at FROM idempotency_keys")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let tx = queue.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO idempotency_keys (key, entry, expires_at) VALUES (?1, ?2, ?3)",
            )?;
            for (key, entry, expires_at) in &keys {
                insert.execute(params![key, entry, expires_at])?;
            }
        }
        tx.commit()?;
        main.execute_batch("DROP TABLE idempotency_keys")?;
    }
    if !has_table(main, "queue")? {
        return Ok(());
    }
    let mut moved = 0u64;
    loop {
        let rows: Vec<(i64, Vec<u8>, i64)> = {
            let mut stmt =
                main.prepare("SELECT seq, payload, enqueued_at FROM queue ORDER BY seq LIMIT ?1")?;
            let rows = stmt.query_map(params![MOVE_ROWS], |r| {
                Ok((r.get(0)?, r.get_ref(1)?.as_bytes()?.to_vec(), r.get(2)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let Some(&(last, _, _)) = rows.last() else {
            break;
        };
        let tx = queue.transaction()?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO queue (seq, payload, enqueued_at) VALUES (?1, ?2, ?3)",
            )?;
            for (seq, payload, enqueued_at) in &rows {
                insert.execute(params![seq, payload, enqueued_at])?;
            }
        }
        tx.commit()?;
        main.execute("DELETE FROM queue WHERE seq <= ?1", params![last])?;
        moved += rows.len() as u64;
    }
    // New entries must never reuse a sequence number the main database gave
    // out (log ids derive from it): carry its counter over.
    let counter: Option<i64> = main
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'queue'",
            [],
            |r| r.get(0),
        )
        .ok();
    if let Some(counter) = counter {
        queue.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'queue', ?1
             WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'queue')",
            params![counter],
        )?;
        queue.execute(
            "UPDATE sqlite_sequence SET seq = MAX(seq, ?1) WHERE name = 'queue'",
            params![counter],
        )?;
    }
    main.execute_batch("DROP TABLE queue")?;
    if moved > 0 {
        tracing::info!(
            entries = moved,
            "moved the queue of an earlier version into {QUEUE_FILE}"
        );
    }
    Ok(())
}

/// The entries queued (claimed or not), counted through `queue_enqueued`.
fn waiting(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COUNT(*) FROM queue", [], |r| r.get(0))?)
}

/// Appends one entry unless `max` entries already wait (then
/// [`StoreError::Unavailable`]: ingest answers 503); returns its id.
pub(super) fn insert_entry(
    conn: &Connection,
    payload: &[u8],
    now_ms: i64,
    max: i64,
) -> Result<String, StoreError> {
    let waiting = waiting(conn)?;
    if waiting >= max {
        tracing::warn!(waiting, max, "queue full; refusing new batches");
        return Err(StoreError::Unavailable(format!(
            "queue full: {waiting} batches wait for detection (limit {max})"
        )));
    }
    conn.prepare_cached("INSERT INTO queue (payload, enqueued_at) VALUES (?1, ?2)")?
        .execute(params![payload, now_ms])?;
    Ok(format!("{:012}", conn.last_insert_rowid()))
}

#[async_trait]
impl EventQueue for EmbeddedStore {
    fn encode(&self, events: &[LogEvent]) -> Result<EncodedBatch, StoreError> {
        EncodedBatch::of(events, true)
    }

    async fn append_encoded(&self, batch: EncodedBatch) -> Result<String, StoreError> {
        let payload = batch.into_payload(true)?;
        let max = i64::try_from(self.max_queue_entries).unwrap_or(i64::MAX);
        self.queue_write(move |conn| insert_entry(conn, &payload, millis(Utc::now()), max))
            .await
    }

    async fn append_idempotent_encoded(
        &self,
        key: &str,
        retain: std::time::Duration,
        batch: EncodedBatch,
    ) -> Result<Appended, StoreError> {
        self.append_with_key(key, retain, batch.into_payload(true)?)
            .await
    }

    async fn claim_within(
        &self,
        consumer: &str,
        limit: ClaimLimit,
    ) -> Result<Vec<QueueEntry>, StoreError> {
        self.claim_payloads(consumer, limit)
            .await?
            .into_iter()
            .map(|(id, payload)| {
                let events = crate::records::decode_batch(&payload)
                    .map_err(|e| StoreError::Corrupt(format!("queue entry {id}: {e}")))?;
                Ok(QueueEntry { id, events })
            })
            .collect()
    }

    async fn claim_batches(
        &self,
        consumer: &str,
        limit: ClaimLimit,
    ) -> Result<Vec<ClaimedBatch>, StoreError> {
        self.claim_payloads(consumer, limit)
            .await?
            .into_iter()
            .map(|(id, payload)| {
                ClaimedBatch::from_payload(id.clone(), payload)
                    .map_err(|e| StoreError::Corrupt(format!("queue entry {id}: {e}")))
            })
            .collect()
    }

    async fn ack(&self, ids: &[String]) -> Result<(), StoreError> {
        let seqs: Vec<i64> = ids
            .iter()
            .map(|id| {
                id.parse::<i64>()
                    .map_err(|_| StoreError::Invalid(format!("not a queue entry id: {id}")))
            })
            .collect::<Result<_, _>>()?;
        self.queue_write(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare("DELETE FROM queue WHERE seq = ?1")?;
                for seq in &seqs {
                    stmt.execute(params![seq])?;
                }
            }
            tx.commit()?;
            shrink_when_drained(conn)?;
            Ok(())
        })
        .await
    }

    async fn backlog(&self) -> Result<u64, StoreError> {
        self.status
            .run(|conn| Ok(u64::try_from(waiting(conn)?).unwrap_or(0)))
            .await
    }

    async fn oldest_pending(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.status
            .run(|conn| {
                let oldest: Option<i64> =
                    conn.query_row("SELECT MIN(enqueued_at) FROM queue", [], |r| r.get(0))?;
                Ok(oldest.and_then(DateTime::from_timestamp_millis))
            })
            .await
    }
}

impl EmbeddedStore {
    /// Claims entries within `limit` (see [`EventQueue::claim_within`]):
    /// their ids and stored payloads, read on the queue's writer and decoded
    /// by the caller after it is released.
    async fn claim_payloads(
        &self,
        consumer: &str,
        limit: ClaimLimit,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let consumer = consumer.to_owned();
        let max = i64::try_from(limit.entries).unwrap_or(i64::MAX);
        let reclaim_after_ms = self.reclaim_after_ms;
        self.queue_write(move |conn| {
            let now = millis(Utc::now());
            let tx = conn.transaction()?;
            // Entries claimed before (by this consumer, or left by another
            // past the re-claim timeout) first, then new ones, each in order:
            // found through an index and from the queue's head, so a long
            // queue is not read to find a few (one query ordering the whole
            // queue read every row's first kilobytes, 50 ms at 20,000).
            let mut seqs: Vec<i64> = tx
                .prepare_cached(
                    "SELECT seq FROM queue INDEXED BY queue_claimed
                     WHERE claimed_at IS NOT NULL AND (claimed_at < ?1 OR claimed_by = ?2)",
                )?
                .query_map(params![now - reclaim_after_ms, consumer], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            seqs.sort_unstable();
            seqs.truncate(limit.entries);
            let room = max.saturating_sub(i64::try_from(seqs.len()).unwrap_or(i64::MAX));
            if room > 0 {
                let fresh = tx
                    .prepare_cached(
                        "SELECT seq FROM queue WHERE claimed_at IS NULL ORDER BY seq LIMIT ?1",
                    )?
                    .query_map(params![room], |r| r.get(0))?
                    .collect::<Result<Vec<i64>, _>>()?;
                seqs.extend(fresh);
            }
            // Payloads are read one at a time: those past the byte budget are
            // never loaded, nor claimed.
            let mut rows: Vec<(i64, Vec<u8>)> = Vec::new();
            {
                let mut payload_of =
                    tx.prepare_cached("SELECT payload FROM queue WHERE seq = ?1")?;
                let mut used = 0usize;
                for seq in seqs {
                    // Binary now; JSON text when an earlier version wrote it.
                    let payload = payload_of.query_row(params![seq], |row| {
                        Ok(row
                            .get_ref(0)?
                            .as_bytes()
                            .map_err(rusqlite::Error::from)?
                            .to_vec())
                    })?;
                    // Counted uncompressed: what the claim takes in memory.
                    let size = crate::records::uncompressed_len(&payload);
                    if !limit.fits(rows.len(), used, size) {
                        break;
                    }
                    used = used.saturating_add(size);
                    rows.push((seq, payload));
                }
            }
            {
                let mut stmt =
                    tx.prepare("UPDATE queue SET claimed_by = ?1, claimed_at = ?2 WHERE seq = ?3")?;
                for (seq, _) in &rows {
                    stmt.execute(params![consumer, now, seq])?;
                }
            }
            tx.commit()?;
            Ok(rows
                .into_iter()
                .map(|(seq, payload)| (format!("{seq:012}"), payload))
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail loudly by design

    use std::time::Duration;

    use chrono::Utc;
    use rusqlite::{Connection, params};

    use anomalog_core::{Level, LogEvent};

    use super::super::{DB_FILE, EmbeddedStore};
    use super::QUEUE_FILE;
    use crate::StoreError;
    use crate::ports::{Appended, EncodedBatch, EventQueue};

    fn batch(message: &str) -> Vec<LogEvent> {
        vec![LogEvent::new(Utc::now(), "api", Level::Error, message)]
    }

    /// A data directory as the version before the queue's own file left it:
    /// the queue (one entry claimed when it crashed, a sequence counter past
    /// the entries still waiting) and the idempotency keys in the main file.
    fn old_data_dir(dir: &std::path::Path) {
        let conn = Connection::open(dir.join(DB_FILE)).unwrap();
        conn.execute_batch(
            "CREATE TABLE queue (
                 seq INTEGER PRIMARY KEY AUTOINCREMENT,
                 payload TEXT NOT NULL,
                 enqueued_at INTEGER NOT NULL,
                 claimed_by TEXT,
                 claimed_at INTEGER
             );
             CREATE TABLE idempotency_keys (
                 key TEXT PRIMARY KEY,
                 entry TEXT NOT NULL,
                 expires_at INTEGER NOT NULL
             ) WITHOUT ROWID;",
        )
        .unwrap();
        let now = Utc::now().timestamp_millis();
        for (seq, message, claimed) in [(7, "seventh", Some("detect")), (9, "ninth", None)] {
            conn.execute(
                "INSERT INTO queue (seq, payload, enqueued_at, claimed_by, claimed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    seq,
                    // The JSON array earlier versions wrote.
                    format!(
                        r#"[{{"ts":"2026-01-02T03:04:05Z","received_at":"2026-01-02T03:04:05Z","service":"api","level":"ERROR","message":"{message}"}}]"#
                    ),
                    now,
                    claimed,
                    claimed.map(|_| now)
                ],
            )
            .unwrap();
        }
        // Entries 10 to 12 were appended and acknowledged before the upgrade.
        conn.execute(
            "UPDATE sqlite_sequence SET seq = 12 WHERE name = 'queue'",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO idempotency_keys (key, entry, expires_at) VALUES ('k1', '000000000009', ?1)",
            params![now + 600_000],
        )
        .unwrap();
    }

    #[tokio::test]
    async fn an_earlier_versions_queue_moves_to_its_own_file_keeping_ids_and_keys() {
        let dir = tempfile::tempdir().unwrap();
        old_data_dir(dir.path());
        let store = EmbeddedStore::open(dir.path()).unwrap();
        assert!(dir.path().join(QUEUE_FILE).exists());

        assert_eq!(store.backlog().await.unwrap(), 2);
        let claimed = store.claim("detect", 10).await.unwrap();
        let ids: Vec<&str> = claimed.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            ["000000000007", "000000000009"],
            "the crashed claim is released"
        );
        assert_eq!(claimed[0].events[0].message, "seventh");

        let replay = store
            .append_idempotent("k1", Duration::from_secs(600), &batch("again"))
            .await
            .unwrap();
        assert_eq!(replay, Appended::Replayed("000000000009".into()));
        let next = store.append(&batch("new")).await.unwrap();
        assert_eq!(next, "000000000013", "no id handed out before is reused");

        // The main file keeps no queue; opening again moves nothing twice.
        drop(store);
        let main = Connection::open(dir.path().join(DB_FILE)).unwrap();
        let tables: i64 = main
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('queue', 'idempotency_keys')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
        let store = EmbeddedStore::open(dir.path()).unwrap();
        assert_eq!(store.backlog().await.unwrap(), 3);
    }

    fn file_bytes(dir: &std::path::Path) -> u64 {
        [QUEUE_FILE, "queue.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
            .map(|m| m.len())
            .sum()
    }

    /// A drained backlog gives its pages back: the queue's file (and its
    /// WAL, once checkpointed) does not keep the size of its largest
    /// backlog. A queue file of an earlier version (no incremental vacuum)
    /// is converted when opened.
    #[tokio::test]
    async fn a_batch_encoded_by_a_queue_of_another_kind_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let unframed = EncodedBatch {
            payload: crate::records::encode_batch_unframed(&batch("redis")).unwrap(),
            events: 1,
            framed: false,
        };
        let refused = store.append_encoded(unframed).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{refused:?}"
        );
        assert_eq!(store.backlog().await.unwrap(), 0);
        let framed = store.encode(&batch("embedded")).unwrap();
        assert_eq!(framed.events(), 1);
        store.append_encoded(framed).await.unwrap();
        let claimed = store.claim("c", 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert_eq!(claimed[0].events[0].message, "embedded");
    }

    /// Entries are stored compressed, and a claim's byte budget counts them
    /// uncompressed (what they take in memory once claimed); an entry an
    /// earlier version stored uncompressed is still read.
    #[tokio::test]
    async fn entries_are_compressed_and_claims_count_them_uncompressed() {
        let dir = tempfile::tempdir().unwrap();
        let events: Vec<LogEvent> = (0..1_000)
            .map(|i| {
                LogEvent::new(
                    Utc::now(),
                    "api",
                    Level::Info,
                    format!("GET /orders/{i} 200"),
                )
            })
            .collect();
        let framed = crate::records::encode_batch(&events).unwrap();
        {
            let store = EmbeddedStore::open(dir.path()).unwrap();
            let encoded = store.encode(&events).unwrap();
            let stored = encoded.into_payload(true).unwrap();
            assert!(
                stored.len() * 2 < framed.len(),
                "{} of {}",
                stored.len(),
                framed.len()
            );
            store.append(&events).await.unwrap();
            store.append(&events).await.unwrap();
        }
        // The form of the version before: framed, not compressed.
        {
            let conn = Connection::open(dir.path().join(QUEUE_FILE)).unwrap();
            super::insert_entry(&conn, &framed, 0, 100).unwrap();
        }
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let limit = crate::ports::ClaimLimit {
            entries: 10,
            bytes: framed.len() * 3 / 2,
        };
        for _ in 0..3 {
            let claimed = store.claim_batches("c", limit).await.unwrap();
            assert_eq!(claimed.len(), 1, "the budget holds one batch uncompressed");
            assert_eq!(claimed[0].len(), 1_000);
            assert_eq!(claimed[0].event(999).message, "GET /orders/999 200");
            store.ack(&[claimed[0].id().to_owned()]).await.unwrap();
        }
        assert_eq!(store.backlog().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_drained_backlog_gives_its_disk_space_back() {
        let dir = tempfile::tempdir().unwrap();
        // The file an earlier version created: no auto_vacuum.
        {
            let conn = Connection::open(dir.path().join(QUEUE_FILE)).unwrap();
            conn.execute_batch(super::SCHEMA).unwrap();
            let mode: i64 = conn
                .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
                .unwrap();
            assert_eq!(mode, 0);
        }
        let store = EmbeddedStore::open(dir.path()).unwrap();
        // About 40 MB of backlog: 400 batches of 100 KB that do not
        // compress (payloads are compressed).
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..400 {
            let big: String = (0..6_250)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    format!("{state:016x}")
                })
                .collect();
            store.append(&batch(&big)).await.unwrap();
        }
        let full = file_bytes(dir.path());
        assert!(full > 30_000_000, "{full} bytes");
        loop {
            let claimed = store.claim("detect", 50).await.unwrap();
            if claimed.is_empty() {
                break;
            }
            let ids: Vec<String> = claimed.into_iter().map(|e| e.id).collect();
            store.ack(&ids).await.unwrap();
        }
        // The next appends checkpoint the WAL as they go.
        for _ in 0..20 {
            store.append(&batch("small")).await.unwrap();
        }
        let conn = Connection::open(dir.path().join(QUEUE_FILE)).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        let drained = file_bytes(dir.path());
        assert!(
            drained < 20_000_000,
            "{drained} bytes left of {full} after the backlog drained"
        );
        assert_eq!(store.backlog().await.unwrap(), 20);
    }

    /// Counting the queue (each append checks its bound) and finding its
    /// oldest entry read the small index, not the table, whose rows hold the
    /// first kilobytes of each payload: also in a queue file made before the
    /// index existed.
    #[tokio::test]
    async fn the_count_and_the_oldest_entry_read_the_index_not_the_payloads() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = EmbeddedStore::open(dir.path()).unwrap();
            store.append(&batch("one")).await.unwrap();
        }
        let plan = |conn: &Connection, sql: &str| -> String {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
        };
        let check = |conn: &Connection| {
            for sql in [
                "SELECT COUNT(*) FROM queue",
                "SELECT MIN(enqueued_at) FROM queue",
            ] {
                let plan = plan(conn, sql);
                assert!(plan.contains("queue_enqueued"), "{sql}: {plan}");
            }
        };
        let conn = Connection::open(dir.path().join(QUEUE_FILE)).unwrap();
        check(&conn);
        // A queue file of an earlier version gains the index when opened.
        conn.execute_batch("DROP INDEX queue_enqueued").unwrap();
        assert!(!plan(&conn, "SELECT COUNT(*) FROM queue").contains("queue_enqueued"));
        drop(conn);
        let store = EmbeddedStore::open(dir.path()).unwrap();
        assert_eq!(store.backlog().await.unwrap(), 1);
        check(&Connection::open(dir.path().join(QUEUE_FILE)).unwrap());
    }
}
