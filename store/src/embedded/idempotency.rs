//! Idempotent appends of the embedded queue: the key and the queue entry are
//! written in one SQLite transaction (both in the queue's database), so a crash keeps both or neither.

use chrono::Utc;
use rusqlite::{OptionalExtension, params};

use super::{EmbeddedStore, millis};
use crate::StoreError;
use crate::ports::Appended;

/// Keys of batches appended recently, with the entry each became.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    entry TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON idempotency_keys (expires_at);
";

/// Most expired keys deleted per append: keeps each append's cost bounded
/// while the table still shrinks faster than one append can grow it.
const PURGE_PER_APPEND: i64 = 64;

impl EmbeddedStore {
    pub(super) async fn append_with_key(
        &self,
        key: &str,
        retain: std::time::Duration,
        payload: Vec<u8>,
    ) -> Result<Appended, StoreError> {
        let max = i64::try_from(self.max_queue_entries).unwrap_or(i64::MAX);
        let retain_ms = i64::try_from(retain.as_millis()).unwrap_or(i64::MAX);
        let key = key.to_owned();
        self.queue_write(move |conn| {
            let now = millis(Utc::now());
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM idempotency_keys WHERE key IN (
                     SELECT key FROM idempotency_keys WHERE expires_at <= ?1 LIMIT ?2)",
                params![now, PURGE_PER_APPEND],
            )?;
            let earlier: Option<String> = tx
                .query_row(
                    "SELECT entry FROM idempotency_keys WHERE key = ?1 AND expires_at > ?2",
                    params![key, now],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(entry) = earlier {
                // Only the purge of expired keys is written.
                tx.commit()?;
                return Ok(Appended::Replayed(entry));
            }
            let entry = super::queue::insert_entry(&tx, &payload, now, max)?;
            tx.execute(
                "INSERT OR REPLACE INTO idempotency_keys (key, entry, expires_at)
                 VALUES (?1, ?2, ?3)",
                params![key, entry, now.saturating_add(retain_ms)],
            )?;
            tx.commit()?;
            Ok(Appended::New(entry))
        })
        .await
    }
}
