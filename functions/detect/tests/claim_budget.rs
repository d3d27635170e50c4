//! A poisoned queue: a consumer died holding 32 big batches. Its restart
//! drains them within the claim byte budget (a few per claim, not all at
//! once), storing every event exactly once. Real Redis and SecantusDB.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use anomalog_core::{Level, LogEvent};
use anomalog_detect::drain_within;
use anomalog_store::{
    EventQueue, LogQuery, MongoConfig, MongoStore, RedisQueue, RedisQueueConfig, Stores,
};
use anomalog_testkit::{RedisServer, mongo_target};

const BATCHES: usize = 32;
const EVENTS_PER_BATCH: usize = 20;
const MESSAGE_BYTES: usize = 2000;

fn batch(n: usize) -> Vec<LogEvent> {
    let t0 = Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap();
    (0..EVENTS_PER_BATCH)
        .map(|i| {
            let message = format!("batch {n} line {i} {}", "z".repeat(MESSAGE_BYTES));
            LogEvent::new(t0, "big", Level::Info, message)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_drains_a_queue_of_big_batches_within_the_claim_budget() {
    let redis = RedisServer::start();
    let mongo = mongo_target();
    let queue = Arc::new(
        RedisQueue::connect(&redis.url(), RedisQueueConfig::default())
            .await
            .unwrap(),
    );
    let config = MongoConfig {
        database: mongo.database.clone(),
        ..MongoConfig::default()
    };
    let documents = Arc::new(MongoStore::connect(&mongo.uri, &config).await.unwrap());
    let stores = Stores {
        queue: queue.clone(),
        logs: documents.clone(),
        rollups: documents.clone(),
        anomalies: documents.clone(),
        deliveries: documents.clone(),
        patterns: documents.clone(),
        incidents: documents.clone(),
        detector_states: documents,
    };
    for n in 0..BATCHES {
        queue.append(&batch(n)).await.unwrap();
    }
    // The crashed run claimed everything and acknowledged nothing.
    let held = queue.claim("anomalog-up", 64).await.unwrap();
    assert_eq!(held.len(), BATCHES);
    drop(held);

    // Each batch is a little over 40 KB queued: the budget holds two.
    let budget = 2 * EVENTS_PER_BATCH * (MESSAGE_BYTES + 20) + 4096;
    let report = drain_within(&stores, "anomalog-up", 1024, budget, false)
        .await
        .unwrap();
    assert_eq!(report.entries, BATCHES);
    assert!(
        report.claims >= BATCHES / 2,
        "{} claims took {BATCHES} big batches: the byte budget was not applied",
        report.claims
    );
    assert_eq!(report.inserted, (BATCHES * EVENTS_PER_BATCH) as u64);
    assert_eq!(report.duplicates, 0);
    assert_eq!(queue.backlog().await.unwrap(), 0);
    let stored = stores
        .logs
        .query(&LogQuery {
            service: Some("big".into()),
            limit: 1000,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(stored.items.len(), BATCHES * EVENTS_PER_BATCH);
}
