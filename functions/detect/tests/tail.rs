//! A pass drains what was queued when it began, not what ingest appends
//! while it runs: chasing the tail of a busy queue claimed a few entries at a
//! time and persisted them as small blocks, merged again later. Embedded
//! store; ingest is played by a log store that appends a batch to the real
//! queue each time the real store persists a claim.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};

use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_detect::{drain_within, run_pass};
use anomalog_store::{
    ClaimedBatch, EmbeddedStore, EventQueue, LogPage, LogQuery, LogStore, PersistReport,
    StoreError, Stores,
};

fn batch(n: usize) -> Vec<LogEvent> {
    let t0 = Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap();
    (0..10)
        .map(|i| LogEvent::new(t0, "shop", Level::Info, format!("batch {n} line {i}")))
        .collect()
}

/// The real embedded store, which appends one more batch to its own queue
/// after each persist of a claim, as ingest would meanwhile.
struct IngestMeanwhile {
    inner: Arc<EmbeddedStore>,
}

#[async_trait]
impl LogStore for IngestMeanwhile {
    async fn persist(&self, logs: &[StoredLog]) -> Result<PersistReport, StoreError> {
        self.inner.persist(logs).await
    }

    async fn persist_claimed(
        &self,
        batches: Vec<ClaimedBatch>,
    ) -> Result<PersistReport, StoreError> {
        let report = self.inner.persist_claimed(batches).await?;
        self.inner.append(&batch(1000)).await?;
        Ok(report)
    }

    async fn query(&self, query: &LogQuery) -> Result<LogPage, StoreError> {
        self.inner.query(query).await
    }

    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.inner.delete_before(cutoff).await
    }
}

#[tokio::test]
async fn a_pass_drains_what_was_queued_when_it_began() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
    let mut stores = Stores::from_adapter(store.clone());
    stores.logs = Arc::new(IngestMeanwhile {
        inner: store.clone(),
    });
    for n in 0..3 {
        store.append(&batch(n)).await.unwrap();
    }
    // One entry per claim: each persist appends one, so a pass that chased
    // the tail would claim until its limit of entries.
    let report = drain_within(&stores, "anomalog-up", 1024, 1, false)
        .await
        .unwrap();
    assert_eq!((report.entries, report.claims), (3, 3));
    assert_eq!(report.inserted, 30);
    assert_eq!(store.backlog().await.unwrap(), 3, "appended meanwhile");

    // The next pass takes those three (and the three appended meanwhile wait).
    let cfg = anomalog_core::detect::DetectConfig::default();
    let now = Utc.with_ymd_and_hms(2026, 5, 6, 12, 1, 0).unwrap();
    let next = run_pass(&stores, &cfg, "anomalog-up", now).await.unwrap();
    assert_eq!(next.entries, 3);
    assert_eq!(
        store.backlog().await.unwrap(),
        1,
        "one claim of three, one append"
    );
}
