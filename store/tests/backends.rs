//! The storage contract on the production adapters: a Redis stream queue on a
//! real `redis-server` and MongoDB (SecantusDB, or `MONGODB_URI` when set) for
//! the rest; plus what only these adapters do.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod contract;

use std::sync::Arc;
use std::time::Duration;

use anomalog_core::{Level, StoredLog};
use anomalog_store::{
    LogQuery, MongoConfig, MongoStore, RedisQueue, RedisQueueConfig, StoreError, Stores,
};
use anomalog_testkit::{MongoServer, RedisServer, mongo_target};

/// Stores on their own Redis server and their own MongoDB database.
struct Backends {
    stores: Stores,
    redis: RedisServer,
}

async fn fresh() -> Backends {
    fresh_with(100_000).await
}

async fn fresh_with(max_len: u64) -> Backends {
    let redis = RedisServer::start();
    let queue = RedisQueue::connect(
        &redis.url(),
        RedisQueueConfig {
            max_len,
            reclaim_after: contract::RECLAIM_AFTER,
            ..RedisQueueConfig::default()
        },
    )
    .await
    .unwrap();
    let mongo = Arc::new(connect_mongo(7).await.1);
    Backends {
        stores: Stores {
            queue: Arc::new(queue),
            logs: mongo.clone(),
            rollups: mongo.clone(),
            anomalies: mongo.clone(),
            deliveries: mongo.clone(),
            patterns: mongo.clone(),
            incidents: mongo.clone(),
            detector_states: mongo,
        },
        redis,
    }
}

async fn connect_mongo(retention_days: u32) -> (MongoConfig, MongoStore) {
    let target = mongo_target();
    let config = MongoConfig {
        database: target.database,
        retention_days,
        ..MongoConfig::default()
    };
    let store = MongoStore::connect(&target.uri, &config).await.unwrap();
    (config, store)
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let backends = fresh().await;
                contract::$name(&backends.stores).await;
            }
        )*
    };
}

contract_tests!(
    queue_delivers_until_acknowledged,
    persist_is_idempotent_and_rolls_up_once,
    log_queries_filter_and_paginate,
    retention_deletes_old_logs_and_rollups,
    anomaly_upserts_keep_identity,
    anomaly_measure_and_explanation_round_trip,
    deliveries_record_every_attempt_in_order,
    queue_entry_ids_make_unique_log_ids_and_cursors,
    log_fields_round_trip,
    persist_of_partly_stored_logs_adds_only_the_new_ones,
    queue_reports_its_oldest_pending_entry,
    pattern_rollups_count_each_inserted_log_once,
    pattern_records_merge_sightings,
    retention_deletes_patterns_last_seen_before_the_cutoff,
    miner_state_round_trips,
    incidents_round_trip_and_filter,
    incident_notices_track_what_each_channel_was_told,
    queue_claims_within_a_byte_budget,
    claimed_batches_persist_as_appended,
    only_one_worker_claims_an_incident_notice,
    queue_reclaims_entries_a_consumer_left_pending,
);

// The live detectors' state (core::detect::live, saved by the detect pass).
contract_tests!(
    detector_states_round_trip_and_replace,
    detector_states_read_and_write_many_services,
);

#[tokio::test]
async fn queue_refuses_appends_when_full_and_loses_nothing() {
    let backends = fresh_with(2).await;
    contract::queue_refuses_appends_when_full_and_loses_nothing(&backends.stores).await;
}

#[tokio::test]
async fn queue_appends_each_idempotency_key_once() {
    let backends = fresh().await;
    contract::queue_appends_each_idempotency_key_once(&backends.stores).await;
}

#[tokio::test]
async fn queue_forgets_idempotency_keys_after_their_retention() {
    let backends = fresh().await;
    contract::queue_forgets_idempotency_keys_after_their_retention(&backends.stores).await;
}

#[tokio::test]
async fn queue_full_refuses_an_idempotent_append_without_keeping_its_key() {
    let backends = fresh_with(2).await;
    contract::queue_full_refuses_an_idempotent_append_without_keeping_its_key(&backends.stores)
        .await;
}

/// Redis Cluster runs a script or a MULTI only when all its keys hash to one
/// slot: every key the queue writes (stream, idempotency keys, dead letters)
/// hashes the stream's name.
#[tokio::test]
async fn every_queue_key_hashes_like_the_stream() {
    let backends = fresh().await;
    let stores = &backends.stores;
    let client = redis::Client::open(backends.redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: String = redis::cmd("XADD")
        .arg("anomalog:events")
        .arg("*")
        .arg("v")
        .arg("1")
        .arg("events")
        .arg("not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    let event = [contract::event(0, "api", Level::Info, "good")];
    stores
        .queue
        .append_idempotent("batch-1", Duration::from_secs(60), &event)
        .await
        .unwrap();
    let claimed = stores.queue.claim("c1", 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        keys.iter().any(|k| k.contains(":idempotency:"))
            && keys.iter().any(|k| k.ends_with(":dead")),
        "the test wrote no idempotency key or dead letter: {keys:?}"
    );
    for key in &keys {
        assert_eq!(
            anomalog_store::redis_keys::hashed_part(key),
            "anomalog:events",
            "{key} would land in another cluster slot than the stream"
        );
    }
}

#[tokio::test]
async fn an_undecodable_entry_goes_to_the_dead_letter_stream_and_the_rest_flows() {
    let backends = fresh().await;
    let stores = &backends.stores;
    let client = redis::Client::open(backends.redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: String = redis::cmd("XADD")
        .arg("anomalog:events")
        .arg("*")
        .arg("v")
        .arg("1")
        .arg("events")
        .arg("not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    stores
        .queue
        .append(&[contract::event(0, "api", Level::Info, "good")])
        .await
        .unwrap();

    let claimed = stores.queue.claim("c1", 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].events[0].message, "good");
    let dead: u64 = redis::cmd("XLEN")
        .arg("{anomalog:events}:dead")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(dead, 1, "the bad entry is kept for inspection");
    assert_eq!(stores.queue.backlog().await.unwrap(), 1);
}

/// The Redis queue writes the unframed binary payload compressed (version
/// "3", first byte 0xB5), and still reads the uncompressed one (version
/// "2", 0xB1) that a previous version queued before a deploy; the framed
/// form (0xB3) is the embedded queue's.
#[tokio::test]
async fn redis_entries_hold_the_compressed_payload_of_version_3_and_version_2_still_reads() {
    let backends = fresh().await;
    let stores = &backends.stores;
    let client = redis::Client::open(backends.redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let event = [contract::event(0, "api", Level::Info, "v3")];
    stores.queue.append(&event).await.unwrap();
    stores
        .queue
        .append_idempotent("k-v3", Duration::from_secs(60), &event)
        .await
        .unwrap();
    type Entry = (String, Vec<(String, Vec<u8>)>);
    let entries: Vec<Entry> = redis::cmd("XRANGE")
        .arg("anomalog:events")
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    for (_, fields) in &entries {
        let field = |name: &str| fields.iter().find(|(k, _)| k == name).unwrap().1.clone();
        assert_eq!(field("v"), b"3");
        assert_eq!(field("events")[0], 0xB5);
    }
    // An entry a previous version queued (the unframed payload, 0xB1) is
    // claimed after the upgrade.
    let hex = "b1 01 cad6b9950d00 cad6b9950d00 03617069 00 02 0568656c6c6f 00 00 00 00 00"
        .replace(' ', "");
    let v2: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let _: String = redis::cmd("XADD")
        .arg("anomalog:events")
        .arg("*")
        .arg("v")
        .arg("2")
        .arg("events")
        .arg(v2)
        .query_async(&mut conn)
        .await
        .unwrap();
    let claimed = stores.queue.claim("d1", 10).await.unwrap();
    let messages: Vec<&str> = claimed
        .iter()
        .flat_map(|e| e.events.iter().map(|ev| ev.message.as_str()))
        .collect();
    assert_eq!(messages, ["v3", "v3", "hello"]);
}

#[tokio::test]
async fn a_lost_stream_and_group_are_recreated_on_use() {
    let backends = fresh().await;
    let stores = &backends.stores;
    let client = redis::Client::open(backends.redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: i64 = redis::cmd("DEL")
        .arg("anomalog:events")
        .query_async(&mut conn)
        .await
        .unwrap();
    stores
        .queue
        .append(&[contract::event(0, "api", Level::Info, "after the loss")])
        .await
        .unwrap();
    let claimed = stores.queue.claim("c1", 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].events[0].message, "after the loss");
}

/// A server that lost its scripts (a restart without persistence, `SCRIPT
/// FLUSH`) is sent them again: both appends still queue their batch.
#[tokio::test]
async fn appends_reload_their_scripts_after_a_script_flush() {
    let backends = fresh().await;
    let stores = &backends.stores;
    let client = redis::Client::open(backends.redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for round in 0..2 {
        let _: String = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut conn)
            .await
            .unwrap();
        stores
            .queue
            .append(&[contract::event(0, "api", Level::Info, "plain")])
            .await
            .unwrap();
        let _: String = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .query_async(&mut conn)
            .await
            .unwrap();
        let appended = stores
            .queue
            .append_idempotent(
                &format!("k-{round}"),
                Duration::from_secs(60),
                &[contract::event(0, "api", Level::Info, "keyed")],
            )
            .await
            .unwrap();
        assert!(matches!(appended, anomalog_store::Appended::New(_)));
    }
    let claimed = stores.queue.claim("c1", 10).await.unwrap();
    let messages: Vec<&str> = claimed
        .iter()
        .flat_map(|e| e.events.iter().map(|ev| ev.message.as_str()))
        .collect();
    assert_eq!(messages, ["plain", "keyed", "plain", "keyed"]);
}

#[tokio::test]
async fn concurrent_persists_of_the_same_logs_store_and_count_them_once() {
    let (_, store) = connect_mongo(7).await;
    let store = Arc::new(store);
    let logs: Vec<StoredLog> = (0..40)
        .map(|i| StoredLog {
            pattern: None,
            id: StoredLog::id_for("1780000000000-0", i),
            event: contract::event(i64::try_from(i).unwrap() % 20, "api", Level::Error, "x"),
        })
        .collect();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            let logs = logs.clone();
            tokio::spawn(
                async move { anomalog_store::LogStore::persist(store.as_ref(), &logs).await },
            )
        })
        .collect();
    let mut inserted = 0;
    for run in runs {
        let report = run.await.unwrap().unwrap();
        inserted += report.inserted;
        assert_eq!(report.inserted + report.duplicates, 40);
    }
    assert_eq!(inserted, 40, "each log inserted by exactly one of the runs");
    let rows = anomalog_store::RollupStore::rollups(
        store.as_ref(),
        None,
        contract::t(-60),
        contract::t(60),
    )
    .await
    .unwrap();
    assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 40);
    let page = anomalog_store::LogStore::query(
        store.as_ref(),
        &LogQuery {
            limit: 100,
            ..LogQuery::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(page.items.len(), 40);
}

/// A persist of several insert chunks (1,000 logs each) some of whose logs
/// are stored already, here and there and one chunk whole: each log is
/// stored once and counted once.
#[tokio::test]
async fn a_persist_of_many_chunks_with_some_logs_stored_counts_each_once() {
    let (_, store) = connect_mongo(7).await;
    let logs: Vec<StoredLog> = (0..5_500)
        .map(|i| StoredLog {
            pattern: None,
            id: StoredLog::id_for(&format!("1780000000000-{}", i / 1000), i % 1000),
            event: contract::event(i64::try_from(i % 40).unwrap(), "api", Level::Info, "x"),
        })
        .collect();
    let earlier: Vec<StoredLog> = logs
        .iter()
        .enumerate()
        .filter(|(i, _)| i.is_multiple_of(7) || (3000..4000).contains(i))
        .map(|(_, l)| l.clone())
        .collect();
    let first = anomalog_store::LogStore::persist(&store, &earlier)
        .await
        .unwrap();
    assert_eq!(first.inserted, earlier.len() as u64);
    let report = anomalog_store::LogStore::persist(&store, &logs)
        .await
        .unwrap();
    assert_eq!(report.inserted, 5_500 - earlier.len() as u64);
    assert_eq!(report.duplicates, earlier.len() as u64);
    let again = anomalog_store::LogStore::persist(&store, &logs)
        .await
        .unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 5_500));
    let rows =
        anomalog_store::RollupStore::rollups(&store, None, contract::t(-60), contract::t(60))
            .await
            .unwrap();
    assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 5_500);
}

#[tokio::test]
async fn retention_is_a_ttl_index_that_follows_the_configuration() {
    let target = mongo_target();
    let ttl_of = |retention_days: u32| {
        let uri = target.uri.clone();
        let database = target.database.clone();
        async move {
            let config = MongoConfig {
                database: database.clone(),
                retention_days,
                ..MongoConfig::default()
            };
            MongoStore::connect(&uri, &config).await.unwrap();
            let client = mongodb::Client::with_uri_str(&uri).await.unwrap();
            let mut indexes = client
                .database(&database)
                .collection::<mongodb::bson::Document>("logs")
                .list_indexes()
                .await
                .unwrap();
            let mut ttl = None;
            while indexes.advance().await.unwrap() {
                let index = indexes.deserialize_current().unwrap();
                if index.keys == mongodb::bson::doc! { "ts": 1 } {
                    ttl = index.options.and_then(|o| o.expire_after);
                }
            }
            ttl
        }
    };
    assert_eq!(ttl_of(7).await, Some(Duration::from_secs(7 * 86_400)));
    assert_eq!(
        ttl_of(30).await,
        Some(Duration::from_secs(30 * 86_400)),
        "a changed retention updates the existing index"
    );
}

#[tokio::test]
async fn a_standalone_mongodb_is_refused_with_a_clear_reason() {
    let server = MongoServer::start_standalone();
    let err = MongoStore::connect(&server.uri(), &MongoConfig::default())
        .await
        .err()
        .expect("standalone servers cannot run the persist transaction");
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert!(err.to_string().contains("replica set"), "{err}");
}

#[tokio::test]
async fn connection_errors_never_show_the_password() {
    let port = anomalog_testkit::free_port();
    let err = RedisQueue::connect(
        &format!("redis://user:hunter2@127.0.0.1:{port}"),
        RedisQueueConfig::default(),
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");

    let err = MongoStore::connect(
        &format!("mongodb://user:hunter2@127.0.0.1:{port}/?serverSelectionTimeoutMS=300"),
        &MongoConfig::default(),
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn keys_are_created_listed_and_revoked_by_name() {
    let (_, mongo) = connect_mongo(7).await;
    contract::keys::keys_are_created_listed_and_revoked_by_name(&mongo).await;
}

#[tokio::test]
async fn redis_key_mirror_keeps_the_key_contract() {
    let redis = RedisServer::start();
    let queue = RedisQueue::connect(&redis.url(), RedisQueueConfig::default())
        .await
        .unwrap();
    contract::keys::keys_are_created_listed_and_revoked_by_name(&queue.key_store()).await;
}

#[tokio::test]
async fn mongodb_keys_mirrored_in_redis_keep_the_key_contract_and_the_mirror_follows() {
    use anomalog_store::KeyStore;
    use anomalog_store::redis_key_store::MirroredKeyStore;

    let redis = RedisServer::start();
    let queue = RedisQueue::connect(&redis.url(), RedisQueueConfig::default())
        .await
        .unwrap();
    let mirror = queue.key_store();
    assert_eq!(
        anomalog_store::redis_keys::hashed_part(mirror.hash_key()),
        anomalog_store::redis_keys::hashed_part(&RedisQueueConfig::default().stream),
        "the mirror shares the queue's hash slot"
    );
    let (_, mongo) = connect_mongo(7).await;
    let mirrored = MirroredKeyStore::new(mongo.key_store(), mirror.clone());
    contract::keys::keys_are_created_listed_and_revoked_by_name(&mirrored).await;
    assert_eq!(
        mirror.list().await.unwrap(),
        mongo.key_store().list().await.unwrap(),
        "every create and revoke reached the mirror"
    );

    // A key written to MongoDB alone (before the mirror existed, or a lost
    // mirror write) reaches the mirror on the next listing; one only in the
    // mirror leaves it.
    let only_mongo = anomalog_store::ApiKeyRecord {
        name: "older".into(),
        digest: "d".repeat(64),
        scopes: vec![anomalog_store::Scope::Ingest],
        created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
    };
    mongo.key_store().create(&only_mongo).await.unwrap();
    let stray = anomalog_store::ApiKeyRecord {
        name: "stray".into(),
        ..only_mongo.clone()
    };
    mirror.create(&stray).await.unwrap();
    let listed = mirrored.list().await.unwrap();
    assert!(listed.contains(&only_mongo), "{listed:?}");
    assert_eq!(mirror.list().await.unwrap(), listed);
}
