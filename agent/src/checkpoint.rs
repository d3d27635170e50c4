//! Per-file reading positions that survive restarts.
//!
//! The file holds, per followed file, its device, inode, fingerprint and the
//! offset where its next unshipped event starts. It moves only when a batch is
//! durable (acknowledged with a 2xx by ingest, or written to the disk buffer), and
//! it is replaced atomically (written to a temporary file, renamed over the old
//! one), so after a crash it is either the old or the new version, never a mix.
//!
//! The replacement happens right after every acknowledgement, so a killed agent
//! (even SIGKILL) resumes where the last acknowledged batch ended; only the short
//! moment between ingest's answer and the rename can send a batch twice. The
//! file and its directory are synced to disk at most every [`SYNC_EVERY`] and on
//! shutdown: after a power cut the agent may resume from a position up to that
//! old, sending those events again (never skipping any).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::tail::{FileKey, FilePosition};

const FILE_NAME: &str = "checkpoints.json";
/// Longest time between two synced checkpoint writes.
pub const SYNC_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, Default, Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    files: Vec<FilePosition>,
}

/// The checkpoints of one data directory.
#[derive(Debug)]
pub struct Checkpoints {
    path: PathBuf,
    files: BTreeMap<FileKey, FilePosition>,
    dirty: bool,
    last_sync: Option<std::time::Instant>,
}

impl Checkpoints {
    /// Loads `dir/checkpoints.json` (none yet: empty). A corrupt file is an error
    /// naming it: starting from scratch silently would re-ship or skip data.
    pub fn load(dir: &Path) -> std::io::Result<Checkpoints> {
        let path = dir.join(FILE_NAME);
        let files = match std::fs::read(&path) {
            Ok(bytes) => {
                let on_disk: OnDisk = serde_json::from_slice(&bytes).map_err(|e| {
                    std::io::Error::other(format!("{}: not a checkpoint file: {e}", path.display()))
                })?;
                on_disk.files.into_iter().map(|p| (p.key, p)).collect()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(Checkpoints {
            path,
            files,
            dirty: false,
            last_sync: None,
        })
    }

    /// Every stored position.
    pub fn positions(&self) -> Vec<FilePosition> {
        self.files.values().cloned().collect()
    }

    /// Moves to the positions of a durable batch and forgets released files.
    pub fn apply(&mut self, positions: &[FilePosition], released: &[FileKey]) {
        for key in released {
            self.dirty |= self.files.remove(key).is_some();
        }
        for position in positions {
            self.files.insert(position.key, position.clone());
            self.dirty = true;
        }
    }

    /// Writes the file atomically if anything changed since the last save, synced
    /// when `sync` is set or the last synced write is [`SYNC_EVERY`] old.
    pub fn save(&mut self, sync: bool) -> std::io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let now = std::time::Instant::now();
        let sync = sync
            || self
                .last_sync
                .is_none_or(|at| now.duration_since(at) >= SYNC_EVERY);
        let on_disk = OnDisk {
            version: 1,
            files: self.files.values().cloned().collect(),
        };
        let bytes = serde_json::to_vec_pretty(&on_disk).map_err(std::io::Error::other)?;
        if sync {
            write_atomically(&self.path, &bytes)?;
            self.last_sync = Some(now);
        } else {
            let tmp = self.path.with_extension("tmp");
            std::fs::write(&tmp, &bytes)?;
            std::fs::rename(&tmp, &self.path)?;
        }
        self.dirty = false;
        Ok(())
    }
}

/// Writes `bytes` to `path` through a synced temporary file and a rename, then
/// syncs the directory so the rename itself is durable.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
