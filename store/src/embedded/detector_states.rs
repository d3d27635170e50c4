//! The live detectors' state per service in the embedded store: the
//! `detector_states` table, one row per service with the state's bytes.

use async_trait::async_trait;
use rusqlite::{params, params_from_iter};

use super::EmbeddedStore;
use crate::StoreError;
use crate::ports::{DetectorState, DetectorStateStore};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS detector_states (
    service TEXT PRIMARY KEY,
    state BLOB NOT NULL
);
";

/// Services per `IN (...)` list: well under SQLite's variable limit.
const CHUNK: usize = 500;

#[async_trait]
impl DetectorStateStore for EmbeddedStore {
    async fn detector_states(&self, services: &[String]) -> Result<Vec<DetectorState>, StoreError> {
        let services = services.to_vec();
        self.read(move |conn| {
            let mut out = Vec::new();
            for chunk in services.chunks(CHUNK) {
                let marks = vec!["?"; chunk.len()].join(",");
                let mut select = conn.prepare(&format!(
                    "SELECT service, state FROM detector_states WHERE service IN ({marks})"
                ))?;
                let rows = select.query_map(params_from_iter(chunk), |r| {
                    Ok(DetectorState {
                        service: r.get(0)?,
                        state: r.get(1)?,
                    })
                })?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
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
                    "INSERT INTO detector_states (service, state) VALUES (?1, ?2)
                     ON CONFLICT (service) DO UPDATE SET state = excluded.state",
                )?;
                for s in states {
                    upsert.execute(params![s.service, s.state])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}
