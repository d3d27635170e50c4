//! Faults on the production backends (real `redis-server` and SecantusDB):
//! whatever fails, every queued event ends up stored exactly once and counted
//! exactly once, and no anomaly is duplicated.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::Notify;

use anomalog_core::detect::DetectConfig;
use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_detect::{DetectError, run_pass};
use anomalog_store::{
    AnomalyQuery, LogPage, LogQuery, LogStore, MongoConfig, MongoStore, PersistReport, RedisQueue,
    RedisQueueConfig, StoreError, Stores,
};
use anomalog_testkit::{MongoServer, RedisServer, mongo_target};

const RECLAIM_AFTER: Duration = Duration::from_millis(800);

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

/// `n` events of `service`, 100 ms apart from `start_ms` after t0.
fn events(service: &str, level: Level, start_ms: i64, n: i64) -> Vec<LogEvent> {
    (0..n)
        .map(|i| {
            let at = t0() + chrono::Duration::milliseconds(start_ms + i * 100);
            LogEvent::new(at, service, level, format!("{service} {start_ms} #{i}"))
        })
        .collect()
}

async fn queue_on(redis: &RedisServer) -> Arc<RedisQueue> {
    Arc::new(
        RedisQueue::connect(
            &redis.url(),
            RedisQueueConfig {
                reclaim_after: RECLAIM_AFTER,
                ..RedisQueueConfig::default()
            },
        )
        .await
        .unwrap(),
    )
}

async fn mongo_on(uri: &str, database: &str) -> Arc<MongoStore> {
    let config = MongoConfig {
        database: database.to_owned(),
        server_selection_timeout: Duration::from_secs(2),
        ..MongoConfig::default()
    };
    Arc::new(MongoStore::connect(uri, &config).await.unwrap())
}

fn stores(queue: Arc<RedisQueue>, mongo: Arc<MongoStore>, logs: Arc<dyn LogStore>) -> Stores {
    Stores {
        queue,
        logs,
        rollups: mongo.clone(),
        anomalies: mongo.clone(),
        deliveries: mongo.clone(),
        patterns: mongo.clone(),
        incidents: mongo.clone(),
        detector_states: mongo,
    }
}

/// Stored logs (messages, sorted) and the sum of every rollup count.
async fn stored(stores: &Stores) -> (Vec<String>, u64) {
    let page = stores
        .logs
        .query(&LogQuery {
            limit: 100_000,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    let mut messages: Vec<String> = page.items.into_iter().map(|l| l.event.message).collect();
    messages.sort();
    let rolled = stores
        .rollups
        .rollups(
            None,
            t0() - chrono::Duration::hours(1),
            t0() + chrono::Duration::hours(1),
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.count)
        .sum();
    (messages, rolled)
}

fn sorted_messages(batches: &[Vec<LogEvent>]) -> Vec<String> {
    let mut all: Vec<String> = batches
        .iter()
        .flatten()
        .map(|e| e.message.clone())
        .collect();
    all.sort();
    all
}

/// A log store that persists through the real one, then hangs forever: the
/// detect pass running on it is killed (its task aborted) right after
/// persisting and before acknowledging.
struct HangAfterPersist {
    inner: Arc<MongoStore>,
    persisted: Arc<Notify>,
}

#[async_trait]
impl LogStore for HangAfterPersist {
    async fn persist(&self, logs: &[StoredLog]) -> Result<PersistReport, StoreError> {
        self.inner.persist(logs).await?;
        self.persisted.notify_one();
        std::future::pending().await
    }

    async fn query(&self, query: &LogQuery) -> Result<LogPage, StoreError> {
        self.inner.query(query).await
    }

    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.inner.delete_before(cutoff).await
    }
}

#[tokio::test]
async fn detect_killed_between_persist_and_ack_is_redone_by_the_next_pass_exactly_once() {
    let redis = RedisServer::start();
    let target = mongo_target();
    let queue = queue_on(&redis).await;
    let mongo = mongo_on(&target.uri, &target.database).await;
    let real = stores(queue.clone(), mongo.clone(), mongo.clone());
    let cfg = DetectConfig::default();

    let batches = vec![
        events("api", Level::Error, 0, 40), // a burst
        events("web", Level::Info, 0, 25),
        events("web", Level::Warn, 5_000, 10),
    ];
    for batch in &batches {
        real.queue.append(batch).await.unwrap();
    }

    let persisted = Arc::new(Notify::new());
    let crashing = stores(
        queue.clone(),
        mongo.clone(),
        Arc::new(HangAfterPersist {
            inner: mongo.clone(),
            persisted: persisted.clone(),
        }),
    );
    let now = t0() + chrono::Duration::seconds(10);
    let doomed_cfg = cfg.clone();
    let doomed =
        tokio::spawn(async move { run_pass(&crashing, &doomed_cfg, "crashed", now).await });
    tokio::time::timeout(Duration::from_secs(30), persisted.notified())
        .await
        .expect("the doomed pass persisted");
    doomed.abort();
    assert!(doomed.await.unwrap_err().is_cancelled());

    // Persisted but never acknowledged: still queued, and already stored once.
    assert_eq!(real.queue.backlog().await.unwrap(), 3);
    let (messages, rolled) = stored(&real).await;
    assert_eq!(messages, sorted_messages(&batches));
    assert_eq!(rolled, 75);

    // Another consumer leaves them alone until the re-claim timeout...
    let early = run_pass(&real, &cfg, "next", now).await.unwrap();
    assert_eq!(early.entries, 0);
    tokio::time::sleep(RECLAIM_AFTER + Duration::from_millis(200)).await;
    // ...then re-claims them; every log is a duplicate, nothing is added twice.
    let redo = run_pass(&real, &cfg, "next", now).await.unwrap();
    assert_eq!(redo.entries, 3);
    assert_eq!((redo.inserted, redo.duplicates), (0, 75));
    assert_eq!(real.queue.backlog().await.unwrap(), 0);
    let (messages, rolled) = stored(&real).await;
    assert_eq!(
        messages,
        sorted_messages(&batches),
        "each event stored once"
    );
    assert_eq!(rolled, 75, "each event counted once");

    let anomalies = real
        .anomalies
        .list(&AnomalyQuery {
            limit: 100,
            ..AnomalyQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        anomalies.len(),
        1,
        "one burst, not one per pass: {anomalies:?}"
    );
    assert_eq!(anomalies[0].service, "api");
}

#[tokio::test]
async fn mongodb_down_during_a_pass_leaves_entries_pending_until_it_is_back() {
    let redis = RedisServer::start();
    let mut mongo_server = MongoServer::start_persistent();
    let queue = queue_on(&redis).await;
    let mongo = mongo_on(&mongo_server.uri(), "anomalog").await;
    let stores = stores(queue, mongo.clone(), mongo);
    let cfg = DetectConfig::default();
    let now = t0() + chrono::Duration::seconds(10);

    let before = vec![events("api", Level::Info, 0, 20)];
    stores.queue.append(&before[0]).await.unwrap();
    let first = run_pass(&stores, &cfg, "d1", now).await.unwrap();
    assert_eq!((first.entries, first.inserted), (1, 20));

    let during = vec![
        events("api", Level::Error, 2_000, 30),
        events("web", Level::Info, 2_000, 15),
    ];
    for batch in &during {
        stores.queue.append(batch).await.unwrap();
    }
    mongo_server.kill();

    let failed = tokio::time::timeout(Duration::from_secs(60), run_pass(&stores, &cfg, "d1", now))
        .await
        .expect("a pass against a dead MongoDB fails instead of hanging");
    match failed {
        Err(DetectError::Store(StoreError::Unavailable(_))) => {}
        other => panic!("expected the pass to fail as unavailable, got {other:?}"),
    }
    assert_eq!(
        stores.queue.backlog().await.unwrap(),
        2,
        "the entries stay queued"
    );

    mongo_server.restart();
    let mut recovered = None;
    for _ in 0..50 {
        match run_pass(&stores, &cfg, "d1", now).await {
            Ok(report) => {
                recovered = Some(report);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let recovered = recovered.expect("a pass succeeds once MongoDB is back");
    assert_eq!(recovered.entries, 2);
    assert_eq!((recovered.inserted, recovered.duplicates), (45, 0));
    assert_eq!(stores.queue.backlog().await.unwrap(), 0);

    let mut all = before;
    all.extend(during);
    let (messages, rolled) = stored(&stores).await;
    assert_eq!(messages, sorted_messages(&all), "each event stored once");
    assert_eq!(rolled, 65, "each event counted once");
}
