//! The bounded on-disk buffer of batches that could not be delivered yet.
//!
//! While ingest is unreachable or answers 503/429, batches are written here (one
//! file per batch, synced, named by sequence number) instead of being retried in
//! memory, and the checkpoints move past them: a buffered batch is durable. They
//! are sent oldest first once ingest answers again, and every new batch goes
//! behind them, so order is kept. Each file starts with a JSON header line naming
//! the file positions the batch covers; at start they are applied, in order, on top
//! of the loaded checkpoints, so a kill between writing a batch here and saving the
//! checkpoints cannot make the agent read those lines again.
//! Every batch is written here before it is sent (a write-ahead log), with its
//! `Idempotency-Key`: a batch whose send was cut by a kill is sent again at the
//! next start under the same key, and ingest does not queue it twice.
//! When the buffer is full, nothing is written and
//! nothing is dropped: the shipper stops taking batches, the readers stop reading
//! (backpressure on the files) and files stay open so their data stays readable.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::batch::{Batch, Compression};
use crate::checkpoint::write_atomically;
use crate::tail::{FileKey, FilePosition};

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    events: u64,
    compression: Compression,
    #[serde(default)]
    positions: Vec<FilePosition>,
    #[serde(default)]
    released: Vec<FileKey>,
    /// The batch's `Idempotency-Key` (absent in files of older agents).
    #[serde(default)]
    key: Option<String>,
}

/// Default size bound of the buffer, in bytes of (compressed) bodies.
pub const DEFAULT_BUFFER_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug)]
struct Entry {
    path: PathBuf,
    bytes: u64,
    events: u64,
}

/// A batch read back from the buffer.
#[derive(Debug)]
pub struct Buffered {
    pub body: bytes::Bytes,
    pub compression: Compression,
    pub events: u64,
    /// Its `Idempotency-Key`, when it was written with one.
    pub key: Option<String>,
}

/// Batches on disk, oldest first.
#[derive(Debug)]
pub struct DiskBuffer {
    dir: PathBuf,
    max_bytes: u64,
    used: u64,
    next_seq: u64,
    entries: VecDeque<Entry>,
}

impl DiskBuffer {
    /// Opens (creating) `dir`, picking up batches left by an earlier run.
    pub fn open(dir: &Path, max_bytes: u64) -> std::io::Result<DiskBuffer> {
        std::fs::create_dir_all(dir)?;
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(seq) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".batch"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let bytes = std::fs::metadata(&path)?.len();
            let events = read_header(&path).map(|(h, _)| h.events).unwrap_or(0);
            found.push((
                seq,
                Entry {
                    path,
                    bytes,
                    events,
                },
            ));
        }
        found.sort_by_key(|(seq, _)| *seq);
        let next_seq = found.last().map_or(0, |(seq, _)| seq + 1);
        let used = found.iter().map(|(_, e)| e.bytes).sum();
        Ok(DiskBuffer {
            dir: dir.to_owned(),
            max_bytes,
            used,
            next_seq,
            entries: found.into_iter().map(|(_, e)| e).collect(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes used.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Events waiting.
    pub fn events(&self) -> u64 {
        self.entries.iter().map(|e| e.events).sum()
    }

    /// Whether a batch of `bytes` fits (an empty buffer takes any one batch).
    pub fn has_room(&self, bytes: u64) -> bool {
        self.entries.is_empty() || self.used + bytes <= self.max_bytes
    }

    /// Appends a batch durably.
    pub fn push(&mut self, batch: &Batch) -> std::io::Result<()> {
        let path = self.dir.join(format!("{:020}.batch", self.next_seq));
        let header = Header {
            events: batch.events,
            compression: batch.compression,
            positions: batch.positions.clone(),
            released: batch.released.clone(),
            key: Some(batch.key.clone()),
        };
        let mut bytes = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        bytes.extend_from_slice(&batch.body);
        write_atomically(&path, &bytes)?;
        self.next_seq += 1;
        self.used += bytes.len() as u64;
        self.entries.push_back(Entry {
            path,
            bytes: bytes.len() as u64,
            events: batch.events,
        });
        Ok(())
    }

    /// Reads the oldest batch.
    pub fn front(&self) -> Option<std::io::Result<Buffered>> {
        let entry = self.entries.front()?;
        Some(read_header(&entry.path).map(|(header, body)| Buffered {
            body: body.into(),
            compression: header.compression,
            events: header.events,
            key: header.key,
        }))
    }

    /// The positions and released files of every buffered batch, oldest first
    /// (unreadable files are skipped), for replay onto the checkpoints at start.
    pub fn covered(&self) -> Vec<(Vec<FilePosition>, Vec<FileKey>)> {
        self.entries
            .iter()
            .filter_map(|e| read_header(&e.path).ok())
            .map(|(h, _)| (h.positions, h.released))
            .collect()
    }

    /// Removes the oldest batch (delivered, or unreadable).
    pub fn pop(&mut self) -> std::io::Result<()> {
        if let Some(entry) = self.entries.pop_front() {
            self.used = self.used.saturating_sub(entry.bytes);
            std::fs::remove_file(&entry.path)?;
        }
        Ok(())
    }
}

fn read_header(path: &Path) -> std::io::Result<(Header, Vec<u8>)> {
    let bytes = std::fs::read(path)?;
    let bad = |why: String| {
        std::io::Error::other(format!("{}: not a buffer file: {why}", path.display()))
    };
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| bad("no header".to_owned()))?;
    let header: Header =
        serde_json::from_slice(&bytes[..newline]).map_err(|e| bad(e.to_string()))?;
    Ok((header, bytes[newline + 1..].to_vec()))
}
