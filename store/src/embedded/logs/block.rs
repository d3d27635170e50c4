//! One block of logs: the rows of one service and hour, in columns,
//! serialized with postcard and compressed with zstd.
//!
//! Columns keep what queries filter on (time, level, message, pattern)
//! apart from the rest of each event, so a query decodes the JSON of only
//! the rows it returns.

use serde::{Deserialize, Serialize};

use anomalog_core::StoredLog;

use crate::StoreError;

/// zstd level of new blocks: level 3 (zstd's default) compresses JSON logs
/// about as well as 9 at several times the speed.
const ZSTD_LEVEL: i32 = 3;

/// Largest decompressed block accepted when reading (a corrupt length
/// must not allocate without bound).
const MAX_DECODED: usize = 256 * 1024 * 1024;

/// The rows of one block, oldest first (by time, then id).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Columns {
    /// Event time, milliseconds since the epoch.
    pub ts: Vec<i64>,
    /// [`anomalog_core::Level::rank`].
    pub levels: Vec<u8>,
    pub ids: Vec<String>,
    pub patterns: Vec<Option<String>>,
    pub messages: Vec<String>,
    /// The rest of each stored log: its document without the message.
    pub rest: Vec<String>,
}

impl Columns {
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Appends `log` (callers keep rows in (ts, id) order).
    pub fn push(&mut self, log: &StoredLog) -> Result<(), StoreError> {
        self.ts.push(log.event.ts.timestamp_millis());
        self.levels.push(log.event.level.rank());
        self.ids.push(log.id.clone());
        self.patterns.push(log.pattern.clone());
        self.messages.push(log.event.message.clone());
        self.rest
            .push(crate::records::encode_log_without_message(log)?);
        Ok(())
    }

    /// Moves row `i` of `other` to the end of `self`.
    pub fn take_row(&mut self, other: &mut Columns, i: usize) {
        self.ts.push(other.ts[i]);
        self.levels.push(other.levels[i]);
        self.ids.push(std::mem::take(&mut other.ids[i]));
        self.patterns.push(other.patterns[i].take());
        self.messages.push(std::mem::take(&mut other.messages[i]));
        self.rest.push(std::mem::take(&mut other.rest[i]));
    }

    /// Row `i` as a stored log.
    pub fn log(&self, i: usize) -> Result<StoredLog, StoreError> {
        let mut log = crate::records::decode_log(&self.rest[i])?;
        log.event.message.clone_from(&self.messages[i]);
        Ok(log)
    }

    /// Bit `1 << rank` for each level present.
    pub fn level_mask(&self) -> i64 {
        self.levels.iter().fold(0, |mask, &rank| mask | 1 << rank)
    }

    pub fn encode(&self) -> Result<Vec<u8>, StoreError> {
        let raw = postcard::to_allocvec(self)
            .map_err(|e| StoreError::Invalid(format!("cannot encode a log block: {e}")))?;
        zstd::bulk::compress(&raw, ZSTD_LEVEL)
            .map_err(|e| StoreError::Invalid(format!("cannot compress a log block: {e}")))
    }

    pub fn decode(data: &[u8]) -> Result<Columns, StoreError> {
        let raw = zstd::bulk::decompress(data, MAX_DECODED)
            .map_err(|e| StoreError::Corrupt(format!("log block: {e}")))?;
        let columns: Columns = postcard::from_bytes(&raw)
            .map_err(|e| StoreError::Corrupt(format!("log block: {e}")))?;
        let n = columns.ts.len();
        let consistent = [
            columns.levels.len(),
            columns.ids.len(),
            columns.patterns.len(),
            columns.messages.len(),
            columns.rest.len(),
        ]
        .iter()
        .all(|&len| len == n);
        if !consistent {
            return Err(StoreError::Corrupt(
                "log block: columns of different lengths".into(),
            ));
        }
        Ok(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomalog_core::{Level, LogEvent};
    use chrono::{TimeZone, Utc};

    fn log(i: i64, message: &str) -> StoredLog {
        let ts = Utc.timestamp_millis_opt(1_700_000_000_000 + i).unwrap();
        let mut event = LogEvent::new(ts, "api", Level::Warn, message);
        event.host = Some("h1".into());
        StoredLog {
            id: format!("000000000001-{i:05}"),
            event,
            pattern: (i % 2 == 0).then(|| "p1".to_string()),
        }
    }

    #[test]
    fn rows_survive_encode_and_decode() {
        let logs: Vec<StoredLog> = (0..50).map(|i| log(i, &format!("m {i}"))).collect();
        let mut columns = Columns::default();
        for l in &logs {
            columns.push(l).unwrap();
        }
        let back = Columns::decode(&columns.encode().unwrap()).unwrap();
        assert_eq!(back.len(), 50);
        for (i, l) in logs.iter().enumerate() {
            assert_eq!(&back.log(i).unwrap(), l);
        }
        assert_eq!(back.level_mask(), 1 << Level::Warn.rank());
    }

    #[test]
    fn garbage_is_a_corrupt_block_not_a_panic() {
        assert!(matches!(
            Columns::decode(b"not zstd"),
            Err(StoreError::Corrupt(_))
        ));
        let bogus = zstd::bulk::compress(&[5, 1, 2], 1).unwrap();
        assert!(matches!(
            Columns::decode(&bogus),
            Err(StoreError::Corrupt(_))
        ));
    }
}
