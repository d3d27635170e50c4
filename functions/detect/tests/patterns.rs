//! Pattern mining inside detect passes: every stored log carries a pattern id,
//! the pattern rollups and records follow, and ids stay the same across passes
//! and restarts, on the embedded store and on Redis + MongoDB.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use anomalog_core::detect::DetectConfig;
use anomalog_core::{AnomalyKind, Level, LogEvent};
use anomalog_detect::run_pass;
use anomalog_store::{
    AnomalyQuery, EmbeddedStore, LogQuery, MongoConfig, MongoStore, PatternQuery, RedisQueue,
    RedisQueueConfig, Stores,
};
use anomalog_testkit::{RedisServer, mongo_target};
use support::new_error_burst;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

/// `n` lines of three kinds, 200 ms apart from `start` seconds after t0.
fn traffic(service: &str, start: i64, n: i64) -> Vec<LogEvent> {
    (0..n)
        .map(|i| {
            let at = t0() + Duration::seconds(start) + Duration::milliseconds(i * 200);
            let k = start * 1000 + i;
            let (level, message) = match i % 3 {
                0 => (
                    Level::Info,
                    format!("user u{k} logged in from 10.0.{}.{}", k % 7, k % 250),
                ),
                1 => (
                    Level::Info,
                    format!("GET /api/orders/{k} 200 in {} ms", k % 90),
                ),
                _ => (Level::Warn, format!("cache miss for key session:{k:x}")),
            };
            LogEvent::new(at, service, level, message)
        })
        .collect()
}

/// Message -> pattern id of every stored line.
async fn patterns_of(stores: &Stores) -> BTreeMap<String, String> {
    let page = stores
        .logs
        .query(&LogQuery {
            limit: 10_000,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    page.items
        .into_iter()
        .map(|l| {
            (
                l.event.message,
                l.pattern.expect("every stored line has a pattern"),
            )
        })
        .collect()
}

/// The checks both shapes share. `reopen` gives stores on the same data as
/// a restarted process would.
async fn ids_stay_stable<F, Fut>(stores: Stores, reopen: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Stores>,
{
    let cfg = DetectConfig::default();
    // Two passes in one process.
    stores.queue.append(&traffic("shop", 0, 30)).await.unwrap();
    run_pass(&stores, &cfg, "c", t0() + Duration::seconds(10))
        .await
        .unwrap();
    stores.queue.append(&traffic("shop", 10, 30)).await.unwrap();
    run_pass(&stores, &cfg, "c", t0() + Duration::seconds(20))
        .await
        .unwrap();
    let first = patterns_of(&stores).await;
    assert_eq!(first.len(), 60);
    let ids: BTreeSet<&String> = first.values().collect();
    assert_eq!(
        ids.len(),
        3,
        "three kinds of lines, three patterns: {first:#?}"
    );

    // Records: one per pattern, with all the lines counted.
    let records = stores
        .patterns
        .patterns(&PatternQuery {
            service: Some("shop".into()),
            limit: 100,
            ..PatternQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(records.iter().map(|r| r.total).sum::<u64>(), 60);
    for r in &records {
        assert!(ids.contains(&r.id), "record {} names a stored id", r.id);
        assert!(!r.examples.is_empty());
    }
    let warn = records
        .iter()
        .find(|r| r.template.starts_with("cache miss"))
        .unwrap();
    assert_eq!(warn.max_level, Level::Warn);
    let rollups = stores
        .patterns
        .pattern_rollups(
            Some("shop"),
            &[],
            t0() - Duration::hours(1),
            t0() + Duration::hours(1),
        )
        .await
        .unwrap();
    assert_eq!(rollups.iter().map(|r| r.count).sum::<u64>(), 60);

    // After a restart the same kinds of lines get the same ids.
    drop(stores);
    let stores = reopen().await;
    stores
        .queue
        .append(&traffic("shop", 100, 30))
        .await
        .unwrap();
    run_pass(&stores, &cfg, "c", t0() + Duration::seconds(110))
        .await
        .unwrap();
    let after = patterns_of(&stores).await;
    assert_eq!(after.len(), 90);
    let ids_after: BTreeSet<&String> = after.values().collect();
    assert_eq!(ids_after, ids, "no new pattern after the restart");
}

#[tokio::test]
async fn pattern_ids_are_stable_across_passes_and_restarts_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let open =
        |p: std::path::PathBuf| Stores::from_adapter(Arc::new(EmbeddedStore::open(&p).unwrap()));
    let stores = open(path.clone());
    ids_stay_stable(stores, || async move { open(path) }).await;
}

async fn production(redis: &RedisServer, uri: &str, database: &str) -> Stores {
    let queue = RedisQueue::connect(&redis.url(), RedisQueueConfig::default())
        .await
        .unwrap();
    let mongo = Arc::new(
        MongoStore::connect(
            uri,
            &MongoConfig {
                database: database.to_owned(),
                ..MongoConfig::default()
            },
        )
        .await
        .unwrap(),
    );
    Stores {
        queue: Arc::new(queue),
        logs: mongo.clone(),
        rollups: mongo.clone(),
        anomalies: mongo.clone(),
        deliveries: mongo.clone(),
        patterns: mongo.clone(),
        incidents: mongo.clone(),
        detector_states: mongo,
    }
}

#[tokio::test]
async fn pattern_ids_are_stable_across_passes_and_restarts_on_redis_and_mongodb() {
    let redis = RedisServer::start();
    let target = mongo_target();
    let stores = production(&redis, &target.uri, &target.database).await;
    // A new connection to the same servers, as a new Lambda instance has.
    ids_stay_stable(stores, || production(&redis, &target.uri, &target.database)).await;
}

/// Twenty minutes of ordinary traffic, then a never-seen error 30 times.
async fn normal_then_new_error(stores: &Stores, cfg: &DetectConfig) {
    for minute in 0..20 {
        stores
            .queue
            .append(&traffic("shop", minute * 60, 15))
            .await
            .unwrap();
    }
    run_pass(stores, cfg, "c", t0() + Duration::minutes(20))
        .await
        .unwrap();
    stores
        .queue
        .append(&new_error_burst(t0() + Duration::minutes(20)))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_never_seen_error_is_one_new_pattern_anomaly_named_in_its_explanation() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let cfg = DetectConfig::default();
    normal_then_new_error(&stores, &cfg).await;
    for s in [12, 30, 50] {
        run_pass(
            &stores,
            &cfg,
            "c",
            t0() + Duration::minutes(20) + Duration::seconds(s),
        )
        .await
        .unwrap();
    }
    let all = stores
        .anomalies
        .list(&AnomalyQuery {
            limit: 100,
            ..AnomalyQuery::default()
        })
        .await
        .unwrap();
    let new: Vec<_> = all
        .iter()
        .filter(|a| a.kind == AnomalyKind::NewPattern)
        .collect();
    assert_eq!(new.len(), 1, "exactly one new_pattern anomaly: {all:#?}");
    let a = new[0];
    assert_eq!(a.observed, 30.0);
    assert!(a.message.contains("payment provider refused the charge"));
    assert_eq!(
        a.explanation[0].template,
        "payment provider refused the charge: gateway unavailable"
    );
    assert!(a.explanation[0].new);
    assert_eq!(a.explanation[0].during, 30);
    assert!(!a.samples.is_empty());

    // The burst the same errors make lists that template as grown.
    let burst = all
        .iter()
        .find(|a| a.kind == AnomalyKind::Burst)
        .expect("30 errors in 9 s make a burst");
    let grown = burst
        .explanation
        .iter()
        .find(|c| c.template.starts_with("payment provider refused"))
        .expect("the burst names the new template");
    assert!(grown.during > 0 && grown.before < 1.0, "{grown:?}");
}

/// Queues `events` and runs one detect pass at `at`.
async fn feed(stores: &Stores, events: &[LogEvent], at: DateTime<Utc>) {
    stores.queue.append(events).await.unwrap();
    run_pass(stores, &DetectConfig::default(), "c", at)
        .await
        .unwrap();
}

/// Every `new_pattern` anomaly stored.
async fn new_patterns(stores: &Stores) -> Vec<anomalog_core::Anomaly> {
    stores
        .anomalies
        .list(&AnomalyQuery {
            kind: Some(AnomalyKind::NewPattern),
            limit: 100,
            ..AnomalyQuery::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn patterns_of_a_service_s_first_minutes_are_not_new_pattern_anomalies() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    // Warnings from the very start: the warm-up, not news.
    feed(
        &stores,
        &traffic("fresh", 0, 60),
        t0() + Duration::minutes(1),
    )
    .await;
    let new = new_patterns(&stores).await;
    assert!(new.is_empty(), "{new:#?}");
}

/// `n` warnings whose form changed between miner versions 1 and 2
/// (`Record{a1f3 7`: one `<*>` for version 1, `Record{<*> <*>` now).
fn record_lookups(service: &str, start: i64, n: i64) -> Vec<LogEvent> {
    (0..n)
        .map(|i| {
            let at = t0() + Duration::seconds(start) + Duration::milliseconds(i * 200);
            let k = start * 1000 + i;
            let message = format!("lookup of Record{{{:x} {} failed", 0xa000 + k, k % 9);
            LogEvent::new(at, service, Level::Warn, message)
        })
        .collect()
}

#[tokio::test]
async fn a_miner_upgrade_relearns_without_new_pattern_anomalies() {
    use anomalog_core::pattern::MINER_VERSION;

    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    feed(
        &stores,
        &record_lookups("legacy", 0, 60),
        t0() + Duration::minutes(1),
    )
    .await;

    // The state as the previous miner version saved it.
    let mut state = stores
        .patterns
        .miner_state("legacy")
        .await
        .unwrap()
        .expect("a saved miner");
    assert_eq!(state.version, MINER_VERSION);
    let old_id = state.patterns[0].id;
    state.version = 1;
    for p in &mut state.patterns {
        p.template = p.template.replace("Record{<*> <*>", "<*>");
    }
    assert_eq!(state.patterns[0].template, "lookup of <*> failed");
    stores.patterns.save_miner_states(&[state]).await.unwrap();

    // Long after the warm-up, the same kind of warnings: their new form is
    // a pattern the upgraded miner had not seen, but no news.
    feed(
        &stores,
        &record_lookups("legacy", 1800, 60),
        t0() + Duration::minutes(31),
    )
    .await;
    let found = new_patterns(&stores).await;
    assert!(found.is_empty(), "{found:#?}");
    let state = stores
        .patterns
        .miner_state("legacy")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.version, MINER_VERSION);
    assert_eq!(state.relearning_since, Some(t0() + Duration::seconds(1800)));
    // The stored id of the old form is kept by the upgraded miner.
    assert!(state.patterns.iter().any(|p| p.id == old_id), "{state:#?}");

    // Once the re-learning warm-up is over, a new warning is news again.
    let later: Vec<LogEvent> = (0..5)
        .map(|i| {
            LogEvent::new(
                t0() + Duration::minutes(50) + Duration::seconds(i),
                "legacy",
                Level::Warn,
                "replica lag exceeded the limit".to_owned(),
            )
        })
        .collect();
    feed(&stores, &later, t0() + Duration::minutes(51)).await;
    let found = new_patterns(&stores).await;
    assert_eq!(found.len(), 1, "{found:#?}");
}
