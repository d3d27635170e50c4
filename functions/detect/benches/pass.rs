//! A whole detect pass over 10,000 services on the embedded store: reading
//! the rollups of the lookback, running the detectors, reconciling. Run with
//! `cargo bench -p anomalog-detect --bench pass` (the set-up stores 570,000
//! logs first, which takes a while).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use divan::Bencher;

use anomalog_core::detect::DetectConfig;
use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_detect::run_pass;
use anomalog_store::{EmbeddedStore, Stores};

const SERVICES: usize = 10_000;

fn main() {
    divan::main();
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

/// One log a minute per service over the lookback: one rollup row per
/// service and minute, 570,000 rows in all.
async fn populated(dir: &std::path::Path) -> Stores {
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir).unwrap()));
    let minutes = DetectConfig::default().lookback().num_minutes();
    for minute in 0..minutes {
        let at = now() - Duration::minutes(minutes - minute);
        let logs: Vec<StoredLog> = (0..SERVICES)
            .map(|s| StoredLog {
                pattern: None,
                id: format!("m{minute}-s{s}"),
                event: LogEvent::new(
                    at,
                    format!("service-{s:05}"),
                    if minute % 20 == 0 {
                        Level::Error
                    } else {
                        Level::Info
                    },
                    "ok",
                ),
            })
            .collect();
        stores.logs.persist(&logs).await.unwrap();
    }
    stores
}

#[divan::bench(sample_count = 3)]
fn detect_pass_10k_services_embedded(bencher: Bencher) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stores = runtime.block_on(populated(dir.path()));
    let cfg = DetectConfig::default();
    bencher
        .counter(divan::counter::ItemsCount::new(SERVICES))
        .bench(|| {
            let report = runtime
                .block_on(run_pass(&stores, &cfg, "bench", now()))
                .unwrap();
            assert_eq!(report.services_checked, SERVICES);
        });
}
