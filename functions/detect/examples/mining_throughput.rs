//! End-to-end ingest -> persist throughput with pattern mining on and off, in
//! the same run: batches are appended to the queue (what ingest does) and
//! drained by detect (claim, mine or not, persist, ack), on the embedded
//! store, then on Redis + MongoDB (SecantusDB, or `MONGODB_URI`) unless
//! `--embedded-only` is given. Also prints the storage bytes per event of the
//! embedded database in both modes.
//!
//! `cargo run --release -p anomalog-detect --example mining_throughput [EVENTS]`

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement, not a library

use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};

use anomalog_core::{Level, LogEvent};
use anomalog_detect::drain_only;
use anomalog_store::{
    EmbeddedStore, MongoConfig, MongoStore, RedisQueue, RedisQueueConfig, Stores,
};
use anomalog_testkit::{RedisServer, mongo_target};

const BATCH: usize = 500;

/// Lines of twelve kinds across four services, with varying values.
fn events(n: usize) -> Vec<LogEvent> {
    let t0 = Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap();
    (0..n)
        .map(|i| {
            let at = t0 + Duration::milliseconds(i as i64);
            let service = ["api", "web", "db", "auth"][i % 4];
            let (level, message) = match (i / 4) % 12 {
                0 => (
                    Level::Info,
                    format!("GET /api/orders/{i} 200 in {} ms", i % 97),
                ),
                1 => (
                    Level::Info,
                    format!("user u{i} logged in from 10.1.{}.{}", i % 9, i % 250),
                ),
                2 => (Level::Warn, format!("cache miss for key session:{i:x}")),
                3 => (
                    Level::Info,
                    format!("POST /api/cart/{i}/items 201 in {} ms", i % 50),
                ),
                4 => (
                    Level::Debug,
                    format!("pool stats active={} idle={}", i % 10, i % 7),
                ),
                5 => (
                    Level::Info,
                    format!("order {i} paid with card ending {}", i % 10_000),
                ),
                6 => (
                    Level::Error,
                    format!("timeout after {} ms calling payments", 1000 + i % 500),
                ),
                7 => (
                    Level::Info,
                    format!("worker {} picked job {i} from queue emails", i % 16),
                ),
                8 => (
                    Level::Warn,
                    format!("slow query took {} ms: SELECT * FROM orders", i % 900),
                ),
                9 => (
                    Level::Info,
                    format!("session {i:x} expired after 30 minutes"),
                ),
                10 => (Level::Info, format!("health check ok (uptime {i} s)")),
                _ => (
                    Level::Error,
                    format!("connection reset by peer 10.2.0.{}:5432", i % 250),
                ),
            };
            LogEvent::new(at, service, level, message)
        })
        .collect()
}

async fn run(stores: &Stores, events: &[LogEvent], mine: bool) -> f64 {
    let started = Instant::now();
    for batch in events.chunks(BATCH) {
        stores.queue.append(batch).await.unwrap();
    }
    let mut stored = 0;
    while stored < events.len() as u64 {
        let report = drain_only(stores, "bench", 1024, mine).await.unwrap();
        assert!(report.entries > 0, "queue drained early");
        stored += report.inserted;
    }
    events.len() as f64 / started.elapsed().as_secs_f64()
}

fn db_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

async fn embedded(events: &[LogEvent]) {
    for mine in [false, true, false, true] {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        let stores = Stores::from_adapter(store);
        let rate = run(&stores, events, mine).await;
        drop(stores);
        let bytes = db_bytes(dir.path());
        println!(
            "embedded  mining {:>3}: {:>9.0} events/s  {:>6.1} bytes/event on disk",
            if mine { "on" } else { "off" },
            rate,
            bytes as f64 / events.len() as f64
        );
    }
}

async fn production(events: &[LogEvent]) {
    let redis = RedisServer::start();
    for mine in [false, true] {
        let target = mongo_target();
        let queue = RedisQueue::connect(&redis.url(), RedisQueueConfig::default())
            .await
            .unwrap();
        let mongo = Arc::new(
            MongoStore::connect(
                &target.uri,
                &MongoConfig {
                    database: target.database.clone(),
                    ..MongoConfig::default()
                },
            )
            .await
            .unwrap(),
        );
        let stores = Stores {
            queue: Arc::new(queue),
            logs: mongo.clone(),
            rollups: mongo.clone(),
            anomalies: mongo.clone(),
            deliveries: mongo.clone(),
            patterns: mongo.clone(),
            incidents: mongo.clone(),
            detector_states: mongo,
        };
        let rate = run(&stores, events, mine).await;
        println!(
            "redis+mongo mining {:>3}: {:>9.0} events/s",
            if mine { "on" } else { "off" },
            rate
        );
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50_000);
    let events = events(n);
    println!("{n} events, batches of {BATCH}");
    embedded(&events).await;
    if !args.iter().any(|a| a == "--embedded-only") {
        production(&events[..n.min(10_000)]).await;
    }
}
