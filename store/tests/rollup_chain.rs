//! On MongoDB a rollup document lists the groups (queue entry and writer)
//! counted in it, so persist stays idempotent; the list is bounded: past
//! `markers_per_document` groups a key continues in the next document of its
//! chain. Against real SecantusDB (or `MONGODB_URI`): many one-event queue
//! entries to one key, persisted and re-delivered in every order, are
//! counted exactly once, no document lists more than the bound plus one
//! persist's groups, and the readers give one row per key.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_store::{LogStore, MongoConfig, MongoStore, PatternStore, RollupStore};
use anomalog_testkit::mongo_target;
use chrono::{DateTime, Utc};
use mongodb::bson::{Document, doc};

/// Groups a document may list in this test.
const CAP: usize = 4;

/// One queue entry (`<n>`) of one log, all to one service, level, 10 s
/// bucket and pattern minute.
fn entry(n: usize, at: DateTime<Utc>) -> StoredLog {
    let entry = format!("{:013}-0", 1_700_000_000_000u64 + n as u64);
    let mut event = LogEvent::new(at, "hot", Level::Error, format!("request {n} failed"));
    event.received_at = at;
    StoredLog {
        id: StoredLog::id_for(&entry, 0),
        event,
        pattern: Some("p-hot".into()),
    }
}

fn entries(range: std::ops::Range<usize>, at: DateTime<Utc>) -> Vec<StoredLog> {
    range.map(|n| entry(n, at)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hot_rollup_key_spills_into_a_chain_and_every_group_counts_once() {
    let target = mongo_target();
    let now = Utc::now() - chrono::Duration::minutes(2);
    let at = DateTime::from_timestamp(now.timestamp() / 60 * 60 + 5, 0).unwrap();
    let config = MongoConfig {
        database: target.database.clone(),
        ..MongoConfig::default()
    };
    let store = MongoStore::connect(&target.uri, &config)
        .await
        .unwrap()
        .with_markers_per_document(CAP);

    // Six entries at once: the key's first document takes them all (one
    // statement), past the bound by the groups of that one persist.
    store.persist(&entries(0..6, at)).await.unwrap();
    // Then one or two at a time: the first document is full, so they go on
    // into `#1`, `#2`, ...
    for n in (6..20).step_by(2) {
        store.persist(&entries(n..n + 2, at)).await.unwrap();
    }
    store.persist(&entries(20..21, at)).await.unwrap();
    // Re-deliveries: all of it again, then a mix of old and new entries.
    store.persist(&entries(0..21, at)).await.unwrap();
    store.persist(&entries(15..25, at)).await.unwrap();
    store.persist(&entries(3..4, at)).await.unwrap();

    let from = at - chrono::Duration::minutes(1);
    let to = at + chrono::Duration::minutes(1);
    let rows = store.rollups(Some("hot"), from, to).await.unwrap();
    assert_eq!(rows.len(), 1, "one row per key: {rows:?}");
    assert_eq!(rows[0].count, 25, "each entry counted once");
    let patterns = store.pattern_rollups(None, &[], from, to).await.unwrap();
    assert_eq!(patterns.len(), 1, "{patterns:?}");
    assert_eq!(patterns[0].count, 25);

    let client = mongodb::Client::with_uri_str(&target.uri).await.unwrap();
    let db = client.database(&target.database);
    for name in ["rollups", "pattern_rollups"] {
        let mut docs = db.collection::<Document>(name).find(doc! {}).await.unwrap();
        let mut chain = Vec::new();
        while docs.advance().await.unwrap() {
            let d = docs.deserialize_current().unwrap();
            let listed = d.get_array("applied").unwrap().len();
            let count = d.get_i64("count").unwrap();
            chain.push((d.get_str("_id").unwrap().to_owned(), listed, count));
        }
        chain.sort();
        assert!(chain.len() >= 4, "{name}: the key spilled: {chain:?}");
        assert!(
            chain.iter().all(|(_, listed, _)| *listed <= 6),
            "{name}: at most the bound plus one persist's groups: {chain:?}"
        );
        let listed: usize = chain.iter().map(|(_, listed, _)| listed).sum();
        let counted: i64 = chain.iter().map(|(_, _, count)| count).sum();
        assert_eq!((listed, counted), (25, 25), "{name}: {chain:?}");
    }
    let logs = db.collection::<Document>("logs");
    assert_eq!(logs.count_documents(doc! {}).await.unwrap(), 25);
}
