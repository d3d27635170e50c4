//! What the detect integration tests share (each test file uses a part).

#![allow(dead_code, clippy::unwrap_used)] // test support: a failure is a failed test

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use anomalog_core::{Anomaly, Level, LogEvent};
use anomalog_store::{AnomalyQuery, EmbeddedStore, Stores};

/// Every port on an embedded store in `dir`.
pub fn open(dir: &Path) -> Stores {
    Stores::from_adapter(Arc::new(EmbeddedStore::open(dir).unwrap()))
}

/// Every stored anomaly (the tests keep far fewer than the limit).
pub async fn anomalies(stores: &Stores) -> Vec<Anomaly> {
    stores
        .anomalies
        .list(&AnomalyQuery {
            limit: 1000,
            ..AnomalyQuery::default()
        })
        .await
        .unwrap()
}

/// A never-seen error of "shop", 30 times 300 ms apart from `start`: a burst
/// and a new pattern.
pub fn new_error_burst(start: DateTime<Utc>) -> Vec<LogEvent> {
    (0..30)
        .map(|i| {
            LogEvent::new(
                start + Duration::milliseconds(i * 300),
                "shop",
                Level::Error,
                "payment provider refused the charge: gateway unavailable",
            )
        })
        .collect()
}
