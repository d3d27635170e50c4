//! The live detectors' state per service in the embedded store: the
//! `live_states` table, one row per service with the state's two parts. The
//! summary is the row's first column, so reading it alone leaves the
//! detectors' overflow pages unread.

use async_trait::async_trait;
use rusqlite::{Row, params, params_from_iter};

use super::EmbeddedStore;
use crate::StoreError;
use crate::ports::{DetectorState, DetectorStateStore, DetectorSummary};

/// `detector_states` held format-8 states in one blob, which no pass can
/// read any more: dropped, its services warm up again.
pub(super) const SCHEMA: &str = "
DROP TABLE IF EXISTS detector_states;
CREATE TABLE IF NOT EXISTS live_states (
    service TEXT PRIMARY KEY,
    summary BLOB NOT NULL,
    detectors BLOB NOT NULL
);
";

/// Services per `IN (...)` list: well under SQLite's variable limit.
const CHUNK: usize = 500;

impl EmbeddedStore {
    /// The rows of `columns` (after `service`) of those of `services` that
    /// have a state, each mapped by `map`.
    async fn live_state_rows<T: Send + 'static>(
        &self,
        services: &[String],
        columns: &'static str,
        map: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let services = services.to_vec();
        self.read(move |conn| {
            let mut out = Vec::new();
            for chunk in services.chunks(CHUNK) {
                let marks = vec!["?"; chunk.len()].join(",");
                let mut select = conn.prepare(&format!(
                    "SELECT service, {columns} FROM live_states WHERE service IN ({marks})"
                ))?;
                let rows = select.query_map(params_from_iter(chunk), map)?;
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
        self.live_state_rows(services, "summary", |r| {
            Ok(DetectorSummary {
                service: r.get(0)?,
                summary: r.get(1)?,
            })
        })
        .await
    }

    async fn detector_states(&self, services: &[String]) -> Result<Vec<DetectorState>, StoreError> {
        self.live_state_rows(services, "summary, detectors", |r| {
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
        self.write(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut upsert = tx.prepare(
                    "INSERT INTO live_states (service, summary, detectors) VALUES (?1, ?2, ?3)
                     ON CONFLICT (service) DO UPDATE
                     SET summary = excluded.summary, detectors = excluded.detectors",
                )?;
                for s in states {
                    upsert.execute(params![s.service, s.summary, s.detectors])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}
