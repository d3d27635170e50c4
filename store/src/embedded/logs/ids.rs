//! Which logs are stored, for `persist`'s "each id once".
//!
//! A log's id is its queue entry's id and its index in that entry
//! ([`StoredLog::id_for`]), so one row per entry with a bitmap of the stored
//! indexes answers "is it stored" for a thousand logs in ~130 bytes. An id of
//! another shape is its own entry with index 0. Keys are `e:ENTRY` and
//! `i:ID`, so the two kinds never collide.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};

use anomalog_core::StoredLog;

use crate::StoreError;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log_ids (
    entry TEXT PRIMARY KEY,
    ts_max INTEGER NOT NULL,
    bits BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_ids_ts ON log_ids (ts_max);
";

/// Largest index kept in a bitmap (a larger one is an id of its own).
const MAX_INDEX: usize = 1 << 20;

/// Splits `id` into (key, index).
fn split(id: &str) -> (String, usize) {
    if let Some((entry, index)) = id.rsplit_once('-')
        && !entry.is_empty()
        && !index.is_empty()
        && index.bytes().all(|b| b.is_ascii_digit())
        && let Ok(n) = index.parse::<usize>()
        && n < MAX_INDEX
        && StoredLog::id_for(entry, n) == id
    {
        return (format!("e:{entry}"), n);
    }
    (format!("i:{id}"), 0)
}

struct Entry {
    ts_max: i64,
    bits: Vec<u8>,
    changed: bool,
}

/// Keeps the logs of `logs` whose ids are not stored yet (nor earlier in
/// `logs`), and records them as stored, inside `tx`.
pub(in crate::embedded) fn keep_new<'a>(
    tx: &Transaction<'_>,
    logs: &'a [StoredLog],
) -> Result<Vec<&'a StoredLog>, StoreError> {
    let fresh = fresh_indexes(
        tx,
        logs.iter()
            .map(|log| (log.id.as_str(), log.event.ts.timestamp_millis())),
    )?;
    Ok(fresh.into_iter().map(|i| &logs[i]).collect())
}

/// [`keep_new`] over (id, time in ms) pairs: the indexes of the new ones.
pub(in crate::embedded) fn fresh_indexes<'a>(
    tx: &Transaction<'_>,
    logs: impl IntoIterator<Item = (&'a str, i64)>,
) -> Result<Vec<usize>, StoreError> {
    let mut entries: HashMap<String, Entry> = HashMap::new();
    let mut select = tx.prepare_cached("SELECT ts_max, bits FROM log_ids WHERE entry = ?1")?;
    let mut fresh = Vec::new();
    for (n, (id, ts_ms)) in logs.into_iter().enumerate() {
        let (key, index) = split(id);
        let entry = match entries.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let stored: Option<(i64, Vec<u8>)> = select
                    .query_row(params![v.key()], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?;
                let (ts_max, bits) = stored.unwrap_or((i64::MIN, Vec::new()));
                v.insert(Entry {
                    ts_max,
                    bits,
                    changed: false,
                })
            }
        };
        let (byte, bit) = (index / 8, 1u8 << (index % 8));
        if entry.bits.get(byte).is_some_and(|b| b & bit != 0) {
            continue;
        }
        if entry.bits.len() <= byte {
            entry.bits.resize(byte + 1, 0);
        }
        entry.bits[byte] |= bit;
        entry.ts_max = entry.ts_max.max(ts_ms);
        entry.changed = true;
        fresh.push(n);
    }
    let mut upsert = tx.prepare_cached(
        "INSERT INTO log_ids (entry, ts_max, bits) VALUES (?1, ?2, ?3)
         ON CONFLICT (entry) DO UPDATE SET ts_max = excluded.ts_max, bits = excluded.bits",
    )?;
    for (key, entry) in entries.into_iter().filter(|(_, e)| e.changed) {
        upsert.execute(params![key, entry.ts_max, entry.bits])?;
    }
    Ok(fresh)
}

/// Forgets the entries whose logs are all older than `cutoff_ms`.
pub(super) fn delete_before(tx: &Transaction<'_>, cutoff_ms: i64) -> Result<(), StoreError> {
    tx.execute("DELETE FROM log_ids WHERE ts_max < ?1", params![cutoff_ms])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn ids_split_into_entry_and_index() {
        let s = |key: &str, n| (key.to_string(), n);
        assert_eq!(split("1700000000000-0-00042"), s("e:1700000000000-0", 42));
        assert_eq!(split("000000000001-00000"), s("e:000000000001", 0));
        // Not the shape `id_for` writes: an id of its own.
        assert_eq!(split("abc-42"), s("i:abc-42", 0));
        assert_eq!(split("abc"), s("i:abc", 0));
        assert_eq!(split("-00001"), s("i:-00001", 0));
        let long = "e-99999999999999999999";
        assert_eq!(split(long), (format!("i:{long}"), 0));
    }
}
