//! One block of logs: the rows of one service and hour, in columns,
//! serialized with postcard and compressed with zstd.
//!
//! Columns keep what queries filter on (time, level, message, pattern)
//! apart from the rest of each event, so a query decodes the JSON of only
//! the rows it returns.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};

use anomalog_core::{LogEvent, StoredLog};

use crate::StoreError;
use crate::claimed::ClaimedRow;

/// zstd level of new blocks: level 3 (zstd's default) compresses logs about
/// as well as 9 at several times the speed, and level 1 within 4% of 3 (73
/// against 70 bytes per event of the benchmark's payload) with persist 7-13%
/// faster (docs/benchmarks.md, `footprint`).
const ZSTD_LEVEL: i32 = 1;

/// Largest decompressed block accepted when reading (a corrupt length
/// must not allocate without bound).
const MAX_DECODED: usize = 256 * 1024 * 1024;

/// First byte of a block in this version's format: then a zstd frame of
/// [`ColumnsOut`]. Blocks of earlier versions are a bare zstd frame (first
/// byte 0x28, from zstd's magic number) of [`ColumnsV1`].
const BINARY_BLOCK: u8 = 0xB2;

/// The rest of each row: what is not in a column of its own.
#[derive(Debug)]
enum Rest {
    /// Binary records ([`crate::records::encode_log_rest`]), one after the
    /// other, with the end offset of each.
    Binary { data: Vec<u8>, ends: Vec<u32> },
    /// The JSON documents of a block written by an earlier version (read as
    /// they are; rows moved into a new block are converted).
    Json(Vec<String>),
}

impl Default for Rest {
    fn default() -> Self {
        Rest::Binary {
            data: Vec::new(),
            ends: Vec::new(),
        }
    }
}

/// The rows of one block, oldest first (by time, then id).
#[derive(Debug, Default)]
pub(super) struct Columns {
    /// Event time, milliseconds since the epoch.
    pub ts: Vec<i64>,
    /// [`anomalog_core::Level::rank`].
    pub levels: Vec<u8>,
    pub ids: Vec<String>,
    pub patterns: Vec<Option<String>>,
    pub messages: Vec<String>,
    rest: Rest,
}

/// A block as this version writes it.
#[derive(Serialize)]
struct ColumnsOut<'a> {
    ts: &'a [i64],
    levels: &'a [u8],
    ids: &'a [String],
    patterns: &'a [Option<String>],
    messages: &'a [String],
    #[serde(with = "serde_bytes")]
    rest: &'a [u8],
    rest_ends: &'a [u32],
}

#[derive(Deserialize)]
struct ColumnsIn {
    ts: Vec<i64>,
    levels: Vec<u8>,
    ids: Vec<String>,
    patterns: Vec<Option<String>>,
    messages: Vec<String>,
    #[serde(with = "serde_bytes")]
    rest: Vec<u8>,
    rest_ends: Vec<u32>,
}

/// A block as earlier versions wrote it: the rest of each row as JSON.
#[derive(Serialize, Deserialize)]
struct ColumnsV1 {
    ts: Vec<i64>,
    levels: Vec<u8>,
    ids: Vec<String>,
    patterns: Vec<Option<String>>,
    messages: Vec<String>,
    rest: Vec<String>,
}

thread_local! {
    /// This thread's compression context, made once: a context costs about
    /// a megabyte of set-up (allocation and zeroing), more than compressing
    /// a small block itself, and a persist over many services writes one
    /// small block per service.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
    /// This thread's decompression context, made once (as [`COMPRESSOR`]).
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

fn compress(raw: &[u8]) -> Result<Vec<u8>, StoreError> {
    let fail = |e: std::io::Error| StoreError::Invalid(format!("cannot compress a log block: {e}"));
    COMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let compressor = match cell.as_mut() {
            Some(c) => c,
            None => cell.insert(zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(fail)?),
        };
        compressor.compress(raw).map_err(fail)
    })
}

/// Decompresses one zstd frame of `size` bytes with this thread's context.
fn decompress(frame: &[u8], size: usize) -> Result<Vec<u8>, StoreError> {
    DECOMPRESSOR.with(|cell| {
        let mut cell = cell.borrow_mut();
        let decompressor = match cell.as_mut() {
            Some(d) => d,
            None => cell.insert(zstd::bulk::Decompressor::new().map_err(|e| corrupt(&e))?),
        };
        decompressor
            .decompress(frame, size)
            .map_err(|e| corrupt(&e))
    })
}

fn encode_error(e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("cannot encode a log block: {e}"))
}

fn corrupt(e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("log block: {e}"))
}

/// Row `i`'s bytes of a binary rest (`ends` checked by `decode`).
fn rest_row<'a>(data: &'a [u8], ends: &[u32], i: usize) -> &'a [u8] {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &data[start..ends[i] as usize]
}

/// Records the end of the row just appended to a binary rest.
fn end_row(data: &[u8], ends: &mut Vec<u32>) -> Result<(), StoreError> {
    ends.push(u32::try_from(data.len()).map_err(|_| encode_error(&"block over 4 GiB"))?);
    Ok(())
}

impl Columns {
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    /// Appends `log` (callers keep rows in (ts, id) order).
    #[cfg(test)]
    pub fn push(&mut self, log: &StoredLog) -> Result<(), StoreError> {
        self.push_row(&ClaimedRow::of(log))
    }

    /// Appends `row` (callers keep rows in (ts, id) order).
    pub fn push_row(&mut self, row: &ClaimedRow<'_>) -> Result<(), StoreError> {
        let (data, ends) = self.binary_rest()?;
        *data = row.write_rest(std::mem::take(data))?;
        end_row(data, ends)?;
        self.ts.push(row.event.ts.timestamp_millis());
        self.levels.push(row.event.level.rank());
        self.ids.push(row.id.clone());
        self.patterns.push(row.pattern.map(str::to_owned));
        self.messages.push(row.event.message.to_owned());
        Ok(())
    }

    /// Appends the rest of `event` (a row of an earlier version's block).
    fn push_rest(&mut self, event: &LogEvent) -> Result<(), StoreError> {
        let (data, ends) = self.binary_rest()?;
        *data = crate::records::encode_log_rest(event, std::mem::take(data))?;
        end_row(data, ends)
    }

    /// The binary rest, after converting earlier JSON rows to it.
    fn binary_rest(&mut self) -> Result<(&mut Vec<u8>, &mut Vec<u32>), StoreError> {
        self.make_binary()?;
        match &mut self.rest {
            Rest::Binary { data, ends } => Ok((data, ends)),
            Rest::Json(_) => Err(StoreError::Invalid("log block: rest not binary".into())),
        }
    }

    fn make_binary(&mut self) -> Result<(), StoreError> {
        if matches!(self.rest, Rest::Binary { .. }) {
            return Ok(());
        }
        let logs = (0..self.len())
            .map(|i| self.log(i))
            .collect::<Result<Vec<_>, _>>()?;
        self.rest = Rest::default();
        for log in &logs {
            self.push_rest(&log.event)?;
        }
        Ok(())
    }

    /// Moves row `i` of `other` to the end of `self`.
    pub fn take_row(&mut self, other: &mut Columns, i: usize) -> Result<(), StoreError> {
        match &other.rest {
            Rest::Binary { data, ends } => {
                let row = rest_row(data, ends, i);
                let (data, ends) = self.binary_rest()?;
                data.extend_from_slice(row);
                end_row(data, ends)?;
            }
            Rest::Json(_) => {
                let log = other.log(i)?;
                self.push_rest(&log.event)?;
            }
        }
        self.ts.push(other.ts[i]);
        self.levels.push(other.levels[i]);
        self.ids.push(std::mem::take(&mut other.ids[i]));
        self.patterns.push(other.patterns[i].take());
        self.messages.push(std::mem::take(&mut other.messages[i]));
        Ok(())
    }

    /// Row `i` as a stored log.
    pub fn log(&self, i: usize) -> Result<StoredLog, StoreError> {
        match &self.rest {
            Rest::Binary { data, ends } => {
                let row = crate::records::RowColumns {
                    id: &self.ids[i],
                    level: self.levels[i],
                    message: &self.messages[i],
                    pattern: self.patterns[i].as_deref(),
                };
                crate::records::decode_log_rest(row, rest_row(data, ends, i))
            }
            Rest::Json(docs) => {
                let mut log = crate::records::decode_log(&docs[i])?;
                log.event.message.clone_from(&self.messages[i]);
                Ok(log)
            }
        }
    }

    /// Bit `1 << rank` for each level present.
    pub fn level_mask(&self) -> i64 {
        self.levels.iter().fold(0, |mask, &rank| mask | 1 << rank)
    }

    /// The text filter of the messages ([`super::filter`]; `None` for too
    /// few trigrams to build one).
    pub fn text_filter(&self) -> Option<Vec<u8>> {
        super::filter::build(self.messages.iter().map(String::as_str))
    }

    pub fn encode(&self) -> Result<Vec<u8>, StoreError> {
        match &self.rest {
            Rest::Binary { data, ends } => {
                let out = ColumnsOut {
                    ts: &self.ts,
                    levels: &self.levels,
                    ids: &self.ids,
                    patterns: &self.patterns,
                    messages: &self.messages,
                    rest: data,
                    rest_ends: ends,
                };
                let raw = postcard::to_allocvec(&out).map_err(|e| encode_error(&e))?;
                let mut block = vec![BINARY_BLOCK];
                block.extend_from_slice(&compress(&raw)?);
                Ok(block)
            }
            // An earlier version's block written back as it was read.
            Rest::Json(docs) => {
                let v1 = ColumnsV1 {
                    ts: self.ts.clone(),
                    levels: self.levels.clone(),
                    ids: self.ids.clone(),
                    patterns: self.patterns.clone(),
                    messages: self.messages.clone(),
                    rest: docs.clone(),
                };
                compress(&postcard::to_allocvec(&v1).map_err(|e| encode_error(&e))?)
            }
        }
    }

    fn of(
        ts: Vec<i64>,
        levels: Vec<u8>,
        ids: Vec<String>,
        patterns: Vec<Option<String>>,
        messages: Vec<String>,
        rest: Rest,
    ) -> Columns {
        Columns {
            ts,
            levels,
            ids,
            patterns,
            messages,
            rest,
        }
    }

    pub fn decode(data: &[u8]) -> Result<Columns, StoreError> {
        let (binary, frame) = match data.split_first() {
            Some((&BINARY_BLOCK, frame)) => (true, frame),
            _ => (false, data),
        };
        // The frame says its size (`encode` writes it): allocate that, not
        // the bound; a buffer of the bound per decoded block held hundreds of
        // MiB under load (heaptrack).
        let size = zstd::zstd_safe::get_frame_content_size(frame)
            .ok()
            .flatten()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n <= MAX_DECODED)
            .ok_or_else(|| StoreError::Corrupt("log block: no valid content size".into()))?;
        let raw = decompress(frame, size)?;
        let (columns, rest_rows) = if binary {
            let c: ColumnsIn = postcard::from_bytes(&raw).map_err(|e| corrupt(&e))?;
            // Offsets must rise and stay inside the data.
            let mut last = 0;
            for &end in &c.rest_ends {
                if end < last || end as usize > c.rest.len() {
                    return Err(corrupt(&"rest offsets out of order or range"));
                }
                last = end;
            }
            let rows = c.rest_ends.len();
            let rest = Rest::Binary {
                data: c.rest,
                ends: c.rest_ends,
            };
            (
                Columns::of(c.ts, c.levels, c.ids, c.patterns, c.messages, rest),
                rows,
            )
        } else {
            let c: ColumnsV1 = postcard::from_bytes(&raw).map_err(|e| corrupt(&e))?;
            let rows = c.rest.len();
            let rest = Rest::Json(c.rest);
            (
                Columns::of(c.ts, c.levels, c.ids, c.patterns, c.messages, rest),
                rows,
            )
        };
        let n = columns.ts.len();
        let consistent = [
            columns.levels.len(),
            columns.ids.len(),
            columns.patterns.len(),
            columns.messages.len(),
            rest_rows,
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

    /// A log using every field, with times chrono can hold but the
    /// millisecond column cannot say exactly (a leap second, nanoseconds,
    /// year 1 and 9999) and an attribute of every type.
    fn full_log(i: i64) -> StoredLog {
        let times = [
            "2016-12-31T23:59:60.500Z",
            "2026-12-04T20:00:00.000000001Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "1969-12-31T23:59:59.999999999Z",
        ];
        let mut log = log(i, &format!("m {i} ünïcode"));
        let t = times[i as usize % times.len()];
        log.event.ts = t.parse().unwrap();
        log.event.received_at = times[(i as usize + 1) % times.len()].parse().unwrap();
        log.event.attrs = serde_json::from_value(serde_json::json!({
            "n": null, "b": true, "i": -7, "u": u64::MAX, "f": 1.5,
            "s": "text", "a": [1, "x"], "o": {"k": {"deep": 1}}
        }))
        .unwrap();
        log.event.trace_id = Some("t".repeat(32));
        log.event.span_id = Some("s1".into());
        log.event.source = Some("/var/log/app.log".into());
        log.event.truncated = i % 2 == 1;
        log
    }

    #[test]
    fn every_field_survives_the_binary_rest() {
        let logs: Vec<StoredLog> = (0..10).map(full_log).collect();
        let mut columns = Columns::default();
        for l in &logs {
            columns.push(l).unwrap();
        }
        let data = columns.encode().unwrap();
        assert_eq!(data[0], BINARY_BLOCK);
        let back = Columns::decode(&data).unwrap();
        for (i, l) in logs.iter().enumerate() {
            assert_eq!(&back.log(i).unwrap(), l);
        }
    }

    /// Blocks written before the binary rest (JSON documents) still read,
    /// are written back as they were, and rows moved from them into a new
    /// block (a merge, retention) are converted.
    #[test]
    fn blocks_of_the_earlier_json_format_still_read_and_convert_when_merged() {
        let logs: Vec<StoredLog> = (0..10).map(full_log).collect();
        let v1 = ColumnsV1 {
            ts: logs.iter().map(|l| l.event.ts.timestamp_millis()).collect(),
            levels: logs.iter().map(|l| l.event.level.rank()).collect(),
            ids: logs.iter().map(|l| l.id.clone()).collect(),
            patterns: logs.iter().map(|l| l.pattern.clone()).collect(),
            messages: logs.iter().map(|l| l.event.message.clone()).collect(),
            rest: logs
                .iter()
                .map(|l| crate::records::encode_log_without_message(l).unwrap())
                .collect(),
        };
        let old = compress(&postcard::to_allocvec(&v1).unwrap()).unwrap();
        let mut read = Columns::decode(&old).unwrap();
        assert!(matches!(read.rest, Rest::Json(_)));
        for (i, l) in logs.iter().enumerate() {
            assert_eq!(&read.log(i).unwrap(), l);
        }
        assert_eq!(read.encode().unwrap(), old);
        // Half moved into a new block, then a row pushed after them.
        let mut merged = Columns::default();
        for i in (0..10).step_by(2) {
            merged.take_row(&mut read, i).unwrap();
        }
        let extra = full_log(11);
        merged.push(&extra).unwrap();
        let back = Columns::decode(&merged.encode().unwrap()).unwrap();
        assert!(matches!(back.rest, Rest::Binary { .. }));
        let expected: Vec<&StoredLog> = logs.iter().step_by(2).chain([&extra]).collect();
        assert_eq!(back.len(), expected.len());
        for (i, l) in expected.iter().enumerate() {
            assert_eq!(&back.log(i).unwrap(), *l);
        }
        // A JSON block that gets a new row becomes binary as a whole.
        let mut grown = Columns::decode(&old).unwrap();
        grown.push(&extra).unwrap();
        let back = Columns::decode(&grown.encode().unwrap()).unwrap();
        for (i, l) in logs.iter().chain([&extra]).enumerate() {
            assert_eq!(&back.log(i).unwrap(), l);
        }
    }

    #[test]
    fn garbage_is_a_corrupt_block_not_a_panic() {
        assert!(matches!(
            Columns::decode(b"not zstd"),
            Err(StoreError::Corrupt(_))
        ));
        // Rest offsets past the data.
        let mut columns = Columns::default();
        columns.push(&log(1, "m")).unwrap();
        if let Rest::Binary { ends, .. } = &mut columns.rest {
            ends[0] += 1000;
        }
        assert!(matches!(
            Columns::decode(&columns.encode().unwrap()),
            Err(StoreError::Corrupt(_))
        ));
        let bogus = zstd::bulk::compress(&[5, 1, 2], 1).unwrap();
        assert!(matches!(
            Columns::decode(&bogus),
            Err(StoreError::Corrupt(_))
        ));
    }
}
