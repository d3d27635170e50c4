//! A process killed (SIGKILL) in the middle of a MongoDB persist blocks no
//! one: the re-delivery of its batch by the next process is stored within
//! seconds (not after the server expires a dead transaction), and every log
//! is stored once and counted once in the rollups and pattern rollups.
//!
//! The child is this test binary itself, running the ignored
//! `persist_until_killed` against the parent's SecantusDB (or `MONGODB_URI`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_store::{LogStore, MongoConfig, MongoStore, PatternStore, RollupStore};
use anomalog_testkit::mongo_target;
use chrono::{DateTime, Utc};
use mongodb::bson::{Document, doc};

/// Logs per persist call: 30 queue entries of 100 logs.
const ENTRIES: usize = 30;
const PER_ENTRY: usize = 100;
const BATCH: usize = ENTRIES * PER_ENTRY;
const SERVICES: [&str; 3] = ["api", "web", "db"];
const LEVELS: [Level; 3] = [Level::Info, Level::Warn, Level::Error];

/// Batch `k`: the logs of queue entries `<k>-<j>`, spread over services,
/// levels, 10 s buckets and patterns.
fn batch(k: usize, base: DateTime<Utc>) -> Vec<StoredLog> {
    (0..ENTRIES)
        .flat_map(|j| {
            let entry = format!("{:013}-{j}", 1_700_000_000_000u64 + k as u64);
            (0..PER_ENTRY).map(move |i| {
                let n = j * PER_ENTRY + i;
                let ts = base + chrono::Duration::seconds((n % 40) as i64);
                let mut event = LogEvent::new(
                    ts,
                    SERVICES[n % SERVICES.len()],
                    LEVELS[n % LEVELS.len()],
                    format!("request {n} of batch {k} done"),
                );
                event.received_at = ts;
                StoredLog {
                    id: StoredLog::id_for(&entry, i),
                    event,
                    pattern: Some(format!("p{}", n % 5)),
                }
            })
        })
        .collect()
}

fn config(database: String) -> MongoConfig {
    MongoConfig {
        database,
        ..MongoConfig::default()
    }
}

fn base_time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

#[tokio::test]
#[ignore = "the child process of a_process_killed_mid_persist_blocks_nothing"]
async fn persist_until_killed() {
    let (Ok(uri), Ok(database), Ok(base)) = (
        std::env::var("CRASH_CHILD_URI"),
        std::env::var("CRASH_CHILD_DB"),
        std::env::var("CRASH_CHILD_BASE"),
    ) else {
        panic!("run by a_process_killed_mid_persist_blocks_nothing only");
    };
    let store = MongoStore::connect(&uri, &config(database)).await.unwrap();
    // Bounded: the parent kills it long before the end.
    for k in 0..200 {
        store.persist(&batch(k, base_time(&base))).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_persist_blocks_nothing() {
    let target = mongo_target();
    let base = Utc::now() - chrono::Duration::minutes(5);
    let base = DateTime::from_timestamp(base.timestamp() / 60 * 60, 0).unwrap();
    let store = MongoStore::connect(&target.uri, &config(target.database.clone()))
        .await
        .unwrap();
    let client = mongodb::Client::with_uri_str(&target.uri).await.unwrap();
    let logs = client
        .database(&target.database)
        .collection::<Document>("logs");

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "persist_until_killed",
            "--test-threads=1",
        ])
        .env("CRASH_CHILD_URI", &target.uri)
        .env("CRASH_CHILD_DB", &target.database)
        .env("CRASH_CHILD_BASE", base.to_rfc3339())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once a batch after the first is partly inserted.
    let deadline = Instant::now() + Duration::from_secs(120);
    let at_kill = loop {
        let n = logs.count_documents(doc! {}).await.unwrap() as usize;
        if n > BATCH && !n.is_multiple_of(BATCH) {
            child.kill().unwrap(); // SIGKILL
            break n;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child ended before it was killed ({n} logs)"
        );
        assert!(
            Instant::now() < deadline,
            "no partial batch seen ({n} logs)"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    child.wait().unwrap();
    let in_flight = logs.count_documents(doc! {}).await.unwrap() as usize / BATCH;
    assert!(at_kill > in_flight * BATCH, "{at_kill} logs: not mid-batch");

    // The next process re-delivers the interrupted batch: stored at once.
    let started = Instant::now();
    let report = tokio::time::timeout(
        Duration::from_secs(10),
        store.persist(&batch(in_flight, base)),
    )
    .await
    .expect("the re-delivery waited on the killed process")
    .unwrap();
    let took = started.elapsed();
    assert!(report.duplicates > 0 && report.inserted > 0, "{report:?}");
    assert_eq!(report.inserted + report.duplicates, BATCH as u64);
    eprintln!("re-delivery after kill -9: {took:?}, {report:?}");

    // Every batch delivered again (all duplicates) and one more (all new).
    let mut expected: BTreeMap<(String, DateTime<Utc>, Level), u64> = BTreeMap::new();
    for k in 0..=in_flight + 1 {
        let logs = batch(k, base);
        let report = store.persist(&logs).await.unwrap();
        let new = if k > in_flight { BATCH as u64 } else { 0 };
        assert_eq!(
            (report.inserted, report.duplicates),
            (new, BATCH as u64 - new)
        );
        for log in &logs {
            let bucket = DateTime::from_timestamp(log.event.ts.timestamp() / 10 * 10, 0).unwrap();
            *expected
                .entry((log.event.service.clone(), bucket, log.event.level))
                .or_default() += 1;
        }
    }
    let total = ((in_flight + 2) * BATCH) as u64;
    assert_eq!(logs.count_documents(doc! {}).await.unwrap(), total);
    let from = base - chrono::Duration::minutes(1);
    let to = base + chrono::Duration::minutes(2);
    let rows = store.rollups(None, from, to).await.unwrap();
    let got: BTreeMap<(String, DateTime<Utc>, Level), u64> = rows
        .into_iter()
        .map(|r| ((r.service, r.bucket, r.level), r.count))
        .collect();
    assert_eq!(got, expected, "rollups differ from the stored logs");
    let patterns = store.pattern_rollups(None, &[], from, to).await.unwrap();
    assert_eq!(patterns.iter().map(|r| r.count).sum::<u64>(), total);
    for p in 0..5 {
        let name = format!("p{p}");
        let n: u64 = patterns
            .iter()
            .filter(|r| r.pattern == name)
            .map(|r| r.count)
            .sum();
        assert_eq!(n, total / 5, "pattern {name}");
    }
}
