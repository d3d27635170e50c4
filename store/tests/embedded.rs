//! The storage contract and restart behaviour of the embedded adapter.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod contract;

use std::sync::Arc;

use anomalog_core::Level;
use anomalog_store::{EmbeddedStore, LogQuery, Stores};

fn fresh() -> (tempfile::TempDir, Stores) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open(dir.path()).unwrap();
    (dir, Stores::from_adapter(Arc::new(store)))
}

fn fresh_with(max_queue_entries: u64) -> (tempfile::TempDir, Stores) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedStore::open_bounded(dir.path(), max_queue_entries)
        .unwrap()
        .reclaim_after(contract::RECLAIM_AFTER);
    (dir, Stores::from_adapter(Arc::new(store)))
}

macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_dir, stores) = fresh();
                contract::$name(&stores).await;
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
);

// The live detectors' state (core::detect::live, saved by the detect pass).
contract_tests!(
    detector_states_round_trip_and_replace,
    detector_states_read_and_write_many_services,
);

#[tokio::test]
async fn queue_reclaims_entries_a_consumer_left_pending() {
    let (_dir, stores) = fresh_with(100);
    contract::queue_reclaims_entries_a_consumer_left_pending(&stores).await;
}

#[tokio::test]
async fn queue_refuses_appends_when_full_and_loses_nothing() {
    let (_dir, stores) = fresh_with(2);
    contract::queue_refuses_appends_when_full_and_loses_nothing(&stores).await;
}

#[tokio::test]
async fn queue_appends_each_idempotency_key_once() {
    let (_dir, stores) = fresh();
    contract::queue_appends_each_idempotency_key_once(&stores).await;
}

#[tokio::test]
async fn queue_forgets_idempotency_keys_after_their_retention() {
    let (_dir, stores) = fresh();
    contract::queue_forgets_idempotency_keys_after_their_retention(&stores).await;
}

#[tokio::test]
async fn queue_full_refuses_an_idempotent_append_without_keeping_its_key() {
    let (_dir, stores) = fresh_with(2);
    contract::queue_full_refuses_an_idempotent_append_without_keeping_its_key(&stores).await;
}

#[tokio::test]
async fn data_survives_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    {
        let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
        stores
            .queue
            .append(&[contract::event(0, "api", Level::Error, "queued")])
            .await
            .unwrap();
        let claimed = stores.queue.claim("crashed", 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        let logs = vec![anomalog_core::StoredLog {
            pattern: None,
            id: "x-1".into(),
            event: contract::event(1, "api", Level::Info, "stored"),
        }];
        stores.logs.persist(&logs).await.unwrap();
        stores
            .anomalies
            .upsert(&[contract::anomaly(
                "api",
                0,
                anomalog_core::AnomalyStatus::Open,
            )])
            .await
            .unwrap();
    }
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    // The entry claimed by the previous run but never acknowledged is delivered again.
    let claimed = stores.queue.claim("next", 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].events[0].message, "queued");
    let logs = stores
        .logs
        .query(&LogQuery {
            limit: 10,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(logs.items.len(), 1);
    assert_eq!(logs.items[0].event.message, "stored");
    assert_eq!(
        stores
            .anomalies
            .list(&anomalog_store::AnomalyQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn keys_are_created_listed_and_revoked_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let keys = anomalog_store::embedded::keys::EmbeddedKeyStore::open(dir.path()).unwrap();
    contract::keys::keys_are_created_listed_and_revoked_by_name(&keys).await;
}
