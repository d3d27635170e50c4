//! The live detectors' state per service in the embedded store, in a
//! database of its own ([`LIVE_FILE`]): the state's two parts in two tables
//! keyed by service, `live_summaries` (a few KB a row, read by every pass)
//! and `live_detectors` (about 100 KB, read only for a service with a new
//! minute), so a pass that reads summaries reads their pages only.
//!
//! Its own file, because the states are a cache of a shape of their own: a
//! pass rewrites about 100 KB per service it advances, which in the main
//! database took its writer from persist and spanned 26 pages of 4 KiB per
//! state. Here pages are 64 KiB, and commits are not synced (`synchronous =
//! NORMAL` in WAL mode: a power cut may lose the last passes' states, which
//! costs those services their new minutes or a warm-up, never data; the
//! file is never left corrupt). Two connections serve it, so that a pass's
//! write of one chunk's states does not hold up its reads of the next.

use std::path::Path;

use async_trait::async_trait;
use rusqlite::{Connection, Row, TransactionBehavior, params, params_from_iter};

use super::{EmbeddedStore, FileTuning, open_tuned};
use crate::StoreError;
use crate::ports::{DetectorState, DetectorStateStore, DetectorSummary};

/// The live states' database, in the store's directory.
pub const LIVE_FILE: &str = "live.db";

/// `detector_states` in the main database held format-8 states in one blob,
/// which no pass can read any more: dropped, its services warm up again.
pub(super) const MAIN_SCHEMA: &str = "DROP TABLE IF EXISTS detector_states;";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS live_summaries (
    service TEXT PRIMARY KEY,
    summary BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS live_detectors (
    service TEXT PRIMARY KEY,
    detectors BLOB NOT NULL
);
";

/// The live states' file: pages of 64 KiB (a warm state's detectors span
/// two), commits not synced, and a WAL truncated to more than a pass writes
/// (512 states of about 100 KB), so that the file is reused rather than cut
/// and grown again at every checkpoint.
const LIVE_TUNING: FileTuning = FileTuning {
    page_size: Some(64 * 1024),
    synchronous: "NORMAL",
    wal_size_limit: 128 << 20,
};

/// Opens (creating if needed) the live states' database in `dir`.
pub(super) fn open(dir: &Path) -> Result<Connection, StoreError> {
    let conn = open_tuned(&dir.join(LIVE_FILE), &LIVE_TUNING)?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// Services per `IN (...)` list: well under SQLite's variable limit.
const CHUNK: usize = 500;

impl EmbeddedStore {
    /// The rows `select` (a query ending in `service IN`) gives for those
    /// of `services` that have a state, each mapped by `map`.
    async fn live_state_rows<T: Send + 'static>(
        &self,
        services: &[String],
        select: &'static str,
        map: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let services = services.to_vec();
        self.live
            .run(move |conn| {
                let mut out = Vec::new();
                for chunk in services.chunks(CHUNK) {
                    let marks = vec!["?"; chunk.len()].join(",");
                    let mut query = conn.prepare(&format!("{select} ({marks})"))?;
                    let rows = query.query_map(params_from_iter(chunk), map)?;
                    for row in rows {
                        out.push(row?);
                    }
                }
                Ok(out)
            })
            .await
    }
}

#[async_trait]
impl DetectorStateStore for EmbeddedStore {
    async fn detector_summaries(
        &self,
        services: &[String],
    ) -> Result<Vec<DetectorSummary>, StoreError> {
        let select = "SELECT service, summary FROM live_summaries WHERE service IN";
        self.live_state_rows(services, select, |r| {
            Ok(DetectorSummary {
                service: r.get(0)?,
                summary: r.get(1)?,
            })
        })
        .await
    }

    async fn detector_states(&self, services: &[String]) -> Result<Vec<DetectorState>, StoreError> {
        let select = "SELECT s.service, s.summary, d.detectors
            FROM live_summaries s JOIN live_detectors d ON d.service = s.service
            WHERE s.service IN";
        self.live_state_rows(services, select, |r| {
            Ok(DetectorState {
                service: r.get(0)?,
                summary: r.get(1)?,
                detectors: r.get(2)?,
            })
        })
        .await
    }

    async fn save_detector_states(&self, states: &[DetectorState]) -> Result<(), StoreError> {
        if states.is_empty() {
            return Ok(());
        }
        let states = states.to_vec();
        self.live
            .run(move |conn| {
                // Immediate: the write lock is taken (or waited for) before
                // anything is read, so a save never fails on a snapshot
                // that the other connection's save made stale.
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                {
                    let mut summary = tx.prepare(
                        "INSERT INTO live_summaries (service, summary) VALUES (?1, ?2)
                     ON CONFLICT (service) DO UPDATE SET summary = excluded.summary",
                    )?;
                    let mut detectors = tx.prepare(
                        "INSERT INTO live_detectors (service, detectors) VALUES (?1, ?2)
                     ON CONFLICT (service) DO UPDATE SET detectors = excluded.detectors",
                    )?;
                    for s in states {
                        summary.execute(params![s.service, s.summary])?;
                        detectors.execute(params![s.service, s.detectors])?;
                    }
                }
                tx.commit()?;
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_live_states_file_has_its_own_tuning() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open(dir.path()).unwrap();
        let pragma = |name: &str| -> i64 {
            conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(pragma("page_size"), 64 * 1024);
        // NORMAL is 1, FULL 2.
        assert_eq!(pragma("synchronous"), 1);
        assert_eq!(pragma("journal_size_limit"), 128 << 20);
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
