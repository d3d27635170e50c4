//! One block of logs: the rows of one service and hour, in columns,
//! serialized with postcard and compressed with zstd.
//!
//! Columns keep what queries filter on (time, level, message, pattern)
//! apart from the rest of each event, so a query decodes the JSON of only
//! the rows it returns.

use serde::{Deserialize, Serialize};
use xorf::{BinaryFuse8, BinaryFuse8Ref, DmaSerializable, Filter, FilterRef};

use anomalog_core::StoredLog;

use crate::StoreError;

/// zstd level of new blocks: level 3 (zstd's default) compresses JSON logs
/// about as well as 9 at several times the speed.
const ZSTD_LEVEL: i32 = 3;

/// Largest decompressed block accepted when reading (a corrupt length
/// must not allocate without bound).
const MAX_DECODED: usize = 256 * 1024 * 1024;

/// Fewer distinct trigrams than this get no filter (reading the block is as
/// cheap as reading a filter).
const MIN_FILTER_KEYS: usize = 64;

/// The byte trigrams of a text, ASCII-lowercased, as filter keys.
fn trigram(w: &[u8]) -> u32 {
    u32::from(w[0].to_ascii_lowercase()) << 16
        | u32::from(w[1].to_ascii_lowercase()) << 8
        | u32::from(w[2].to_ascii_lowercase())
}

/// The distinct trigrams of texts, collected in a bitmap of every possible
/// trigram (2 MiB, reused from block to block).
pub(super) struct Trigrams {
    bits: Vec<u64>,
    touched: Vec<u32>,
}

impl Default for Trigrams {
    fn default() -> Self {
        Trigrams {
            bits: vec![0; (1 << 24) / 64],
            touched: Vec::new(),
        }
    }
}

impl Trigrams {
    pub fn add(&mut self, text: &[u8]) {
        for w in text.windows(3) {
            let t = trigram(w);
            let (word, bit) = ((t / 64) as usize, t % 64);
            if self.bits[word] == 0 {
                self.touched.push(t / 64);
            }
            self.bits[word] |= 1 << bit;
        }
    }

    /// The distinct trigrams added since the last `take`, as filter keys;
    /// leaves the set empty.
    pub fn take(&mut self) -> Vec<u64> {
        let mut keys = Vec::new();
        for &word in &self.touched {
            let mut bits = std::mem::take(&mut self.bits[word as usize]);
            while bits != 0 {
                let bit = bits.trailing_zeros();
                keys.push(u64::from(word) * 64 + u64::from(bit));
                bits &= bits - 1;
            }
        }
        self.touched.clear();
        keys
    }
}

/// Whether a block whose filter is `filter` may hold `needle` (the trigrams
/// of an already lowercased needle of at least 3 bytes).
pub(super) fn may_contain(filter: &[u8], needle: &[u64]) -> Result<bool, StoreError> {
    let corrupt = || StoreError::Corrupt("block filter: inconsistent lengths".into());
    let d = BinaryFuse8::DESCRIPTOR_LEN;
    if filter.len() < d || d < 20 {
        return Err(corrupt());
    }
    let (descriptor, fingerprints) = filter.split_at(d);
    // A lookup indexes below segment_count_length + 2 * segment_length
    // (descriptor bytes 16..20 and 8..12; the count is a multiple of the
    // length): a corrupt descriptor must not index past the fingerprints.
    let word = |at: usize| {
        u64::from(u32::from_le_bytes([
            descriptor[at],
            descriptor[at + 1],
            descriptor[at + 2],
            descriptor[at + 3],
        ]))
    };
    let (length, mask, count) = (word(8), word(12), word(16));
    let consistent = length.is_power_of_two()
        && mask == length - 1
        && count % length == 0
        && count + 2 * length <= fingerprints.len() as u64;
    if !consistent {
        return Err(corrupt());
    }
    let filter = BinaryFuse8Ref::from_dma(descriptor, fingerprints);
    Ok(needle.iter().all(|key| filter.contains(key)))
}

/// The distinct trigram keys of `needle` (empty when shorter than 3 bytes).
pub(super) fn needle_trigrams(needle: &str) -> Vec<u64> {
    let mut keys: Vec<u64> = needle
        .as_bytes()
        .windows(3)
        .map(|w| u64::from(trigram(w)))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

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

    /// A filter of the distinct byte trigrams of the ASCII-lowercased
    /// messages (`None` for too few to build one): a text search skips the
    /// block when one of its needle's trigrams is missing.
    pub fn trigram_filter(&self, scratch: &mut Trigrams) -> Result<Option<Vec<u8>>, StoreError> {
        for message in &self.messages {
            scratch.add(message.as_bytes());
        }
        let keys = scratch.take();
        if keys.len() < MIN_FILTER_KEYS {
            return Ok(None);
        }
        let Ok(filter) = BinaryFuse8::try_from(&keys) else {
            return Ok(None);
        };
        // xorf's own layout: a fixed-length descriptor, then the fingerprints.
        let mut out = vec![0; BinaryFuse8::DESCRIPTOR_LEN];
        filter.dma_copy_descriptor_to(&mut out);
        out.extend_from_slice(filter.dma_fingerprints());
        Ok(Some(out))
    }

    pub fn encode(&self) -> Result<Vec<u8>, StoreError> {
        let raw = postcard::to_allocvec(self)
            .map_err(|e| StoreError::Invalid(format!("cannot encode a log block: {e}")))?;
        zstd::bulk::compress(&raw, ZSTD_LEVEL)
            .map_err(|e| StoreError::Invalid(format!("cannot compress a log block: {e}")))
    }

    pub fn decode(data: &[u8]) -> Result<Columns, StoreError> {
        // The frame says its size (`encode` writes it): allocate that, not
        // the bound; a buffer of the bound per decoded block held hundreds of
        // MiB under load (heaptrack).
        let size = zstd::zstd_safe::get_frame_content_size(data)
            .ok()
            .flatten()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= MAX_DECODED)
            .ok_or_else(|| StoreError::Corrupt("log block: no valid content size".into()))?;
        let raw = zstd::bulk::decompress(data, size)
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
    fn the_trigram_filter_keeps_every_substring_and_skips_most_others() {
        let logs: Vec<StoredLog> = (0..200)
            .map(|i| {
                log(
                    i,
                    &format!("GET /api/v1/orders/{i} answered 200 in {}ms", i * 7),
                )
            })
            .collect();
        let mut columns = Columns::default();
        for l in &logs {
            columns.push(l).unwrap();
        }
        let filter = columns
            .trigram_filter(&mut Trigrams::default())
            .unwrap()
            .expect("enough trigrams for a filter");
        for present in ["get /API", "orders/199 ans", "1393ms", "in 7ms"] {
            let keys = needle_trigrams(&present.to_ascii_lowercase());
            assert!(may_contain(&filter, &keys).unwrap(), "{present}");
        }
        let absent = ["timeout", "payments-gateway", "connection refused", "zzz"];
        let skipped = absent
            .iter()
            .filter(|n| !may_contain(&filter, &needle_trigrams(n)).unwrap())
            .count();
        assert!(
            skipped >= 3,
            "only {skipped} of {} absent needles skipped",
            absent.len()
        );
        assert!(matches!(
            may_contain(b"junk", &[1]),
            Err(StoreError::Corrupt(_))
        ));
        // A descriptor promising more fingerprints than there are.
        let mut short = filter.clone();
        short.truncate(filter.len() - 1);
        assert!(matches!(
            may_contain(&short, &[1]),
            Err(StoreError::Corrupt(_))
        ));
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
