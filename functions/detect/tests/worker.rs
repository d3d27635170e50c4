//! The detect worker both shapes (`anomalog up` and the detect Lambda) call:
//! backlog draining within a deadline, retention cadence, the consumer name.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use chrono::Utc;

use anomalog_core::rollup::RollupRow;
use anomalog_core::{AnomalyKind, Config, Level, LogEvent};
use anomalog_detect::{DetectWorker, UP_CONSUMER};
use anomalog_store::{AnomalyQuery, RollupStore, ServiceSummary, StoreError, Stores};
use support::open;

/// Queues `entries` batches of two recent info lines.
async fn queue(stores: &Stores, entries: usize) {
    for i in 0..entries {
        let at = Utc::now() - chrono::Duration::seconds(30);
        let batch = vec![
            LogEvent::new(at, "web", Level::Info, format!("request {i}a")),
            LogEvent::new(at, "web", Level::Info, format!("request {i}b")),
        ];
        stores.queue.append(&batch).await.unwrap();
    }
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

#[tokio::test]
async fn a_tick_drains_a_backlog_in_full_passes_while_time_allows() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    queue(&stores, 5).await;
    let worker = DetectWorker::new(stores.clone(), &Config::default(), UP_CONSUMER)
        .with_max_entries_per_pass(2);

    let report = worker.tick(later()).await.unwrap();

    // 2 + 2 + 1: the third pass is not full, so the tick ends there.
    assert_eq!((report.passes, report.entries, report.inserted), (3, 5, 10));
    assert_eq!(stores.queue.backlog().await.unwrap(), 0);
}

#[tokio::test]
async fn a_tick_past_its_deadline_runs_one_pass_and_leaves_the_rest_queued() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    queue(&stores, 5).await;
    let worker = DetectWorker::new(stores.clone(), &Config::default(), UP_CONSUMER)
        .with_max_entries_per_pass(2);

    let report = worker.tick(Instant::now()).await.unwrap();

    assert_eq!((report.passes, report.entries), (1, 2));
    assert_eq!(stores.queue.backlog().await.unwrap(), 3);
}

#[tokio::test]
async fn retention_runs_at_the_first_tick_then_not_again_within_the_hour() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    let mut config = Config::default();
    config.storage.retention_days = 7;
    // One log older than the retention period, one recent.
    let old = Utc::now() - chrono::Duration::days(30);
    stores
        .queue
        .append(&[
            LogEvent::new(old, "web", Level::Info, "ancient"),
            LogEvent::new(Utc::now(), "web", Level::Info, "fresh"),
        ])
        .await
        .unwrap();
    let worker = DetectWorker::new(stores.clone(), &config, UP_CONSUMER);

    let first = worker.tick(later()).await.unwrap();
    let second = worker.tick(later()).await.unwrap();

    assert_eq!(first.inserted, 2);
    assert_eq!(first.retention_deleted, Some(1));
    assert_eq!(second.retention_deleted, None);
}

#[tokio::test]
async fn the_worker_claims_as_its_consumer_so_a_restart_resumes_its_pending_entries() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    queue(&stores, 1).await;
    // A previous run of the same consumer claimed the entry and died.
    let claimed = stores.queue.claim(UP_CONSUMER, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let worker = DetectWorker::new(stores.clone(), &Config::default(), UP_CONSUMER);
    assert_eq!(worker.consumer(), UP_CONSUMER);

    let report = worker.tick(later()).await.unwrap();

    assert_eq!(report.entries, 1, "its own pending entry, without waiting");
    assert_eq!(stores.queue.backlog().await.unwrap(), 0);
}

#[tokio::test]
async fn a_tick_advances_live_states_over_more_passes_than_one_budget() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    let services = ["api", "db", "web"];
    let lines = |ago: &[i64]| -> Vec<LogEvent> {
        ago.iter()
            .flat_map(|&secs| {
                let at = Utc::now() - chrono::Duration::seconds(secs);
                services.map(|s| LogEvent::new(at, s, Level::Info, "tick"))
            })
            .collect()
    };
    // Minutes that complete whatever the second: the minute of 400 s ago
    // ends at least 340 s ago, before the newest data less the settle.
    stores.queue.append(&lines(&[400, 330, 260])).await.unwrap();
    let worker = DetectWorker::new(stores.clone(), &Config::default(), UP_CONSUMER)
        .with_live_states_per_pass(1);
    // Fresh states are not budgeted: one pass starts all three.
    assert_eq!(worker.tick(later()).await.unwrap().passes, 1);

    // A minute completes for each (that of 150 s ago, past the newest
    // pushed): one state a pass, three passes.
    stores.queue.append(&lines(&[150, 40])).await.unwrap();
    assert_eq!(worker.tick(later()).await.unwrap().passes, 3);
}

/// A pass with no drain time drains one claim (`CLAIM_BATCH`, 64 entries)
/// and judges it: forty errors in the first entry are a burst after that
/// pass, the rest of the backlog still queued.
#[tokio::test]
async fn a_pass_judges_what_it_drained_when_its_drain_time_is_up() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    stores.queue.append(&late_burst()).await.unwrap();
    queue(&stores, 129).await;
    let worker = DetectWorker::new(stores.clone(), &Config::default(), UP_CONSUMER)
        .with_drain_time(Duration::ZERO);

    let report = worker.tick(Instant::now()).await.unwrap();

    assert_eq!((report.passes, report.entries), (1, 64));
    assert!(
        has_burst(&stores).await,
        "the first claim's burst is judged"
    );
    assert_eq!(stores.queue.backlog().await.unwrap(), 66);
}

#[tokio::test]
async fn a_tick_goes_on_after_a_pass_whose_drain_time_was_up() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    queue(&stores, 130).await;
    let worker = DetectWorker::new(stores.clone(), &Config::default(), UP_CONSUMER)
        .with_drain_time(Duration::ZERO);

    let report = worker.tick(later()).await.unwrap();

    assert!(report.passes >= 2, "{report:?}");
    assert_eq!((report.entries, report.inserted), (130, 260));
    assert_eq!(stores.queue.backlog().await.unwrap(), 0);
}

/// Quiet traffic of "web" over the last ten minutes.
fn quiet_minutes() -> Vec<LogEvent> {
    (0..10)
        .map(|m| LogEvent::new(ago(m * 60 + 5), "web", Level::Info, "ok"))
        .collect()
}

/// Forty errors of "web" stamped three minutes ago: a burst in a minute
/// that a tick before them has read.
fn late_burst() -> Vec<LogEvent> {
    (0..40)
        .map(|i| LogEvent::new(ago(180), "web", Level::Error, format!("db timeout {i}")))
        .collect()
}

fn ago(secs: i64) -> chrono::DateTime<Utc> {
    Utc::now() - chrono::Duration::seconds(secs)
}

async fn has_burst(stores: &Stores) -> bool {
    let anomalies = stores
        .anomalies
        .list(&AnomalyQuery::default())
        .await
        .unwrap();
    anomalies.iter().any(|a| a.kind == AnomalyKind::Burst)
}

#[tokio::test]
async fn a_tick_judges_late_events_in_minutes_an_earlier_tick_already_read() {
    let dir = tempfile::tempdir().unwrap();
    let stores = open(dir.path());
    let worker = DetectWorker::new(stores.clone(), &Config::default(), UP_CONSUMER);
    // The first tick reads the quiet minutes (and the worker keeps them).
    stores.queue.append(&quiet_minutes()).await.unwrap();
    assert_eq!(worker.tick(later()).await.unwrap().opened, 0);

    // The late burst's minute was read by the first tick, so the second
    // must read it again.
    stores.queue.append(&late_burst()).await.unwrap();
    worker.tick(later()).await.unwrap();

    assert!(has_burst(&stores).await, "the late burst is judged");
}

/// Rollups whose reads fail while `fail` is set.
struct FlakyRollups {
    inner: Arc<dyn RollupStore>,
    fail: AtomicBool,
}

#[async_trait]
impl RollupStore for FlakyRollups {
    async fn rollups(
        &self,
        service: Option<&str>,
        from: chrono::DateTime<Utc>,
        to: chrono::DateTime<Utc>,
    ) -> Result<Vec<RollupRow>, StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Backend("rollups unreadable (test)".into()));
        }
        self.inner.rollups(service, from, to).await
    }

    async fn services(
        &self,
        since: chrono::DateTime<Utc>,
    ) -> Result<Vec<ServiceSummary>, StoreError> {
        self.inner.services(since).await
    }
}

#[tokio::test]
async fn late_events_a_failed_pass_persisted_are_judged_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let mut stores = open(dir.path());
    let flaky = Arc::new(FlakyRollups {
        inner: Arc::clone(&stores.rollups),
        fail: AtomicBool::new(false),
    });
    stores.rollups = flaky.clone();
    let worker = DetectWorker::new(stores.clone(), &Config::default(), UP_CONSUMER);
    stores.queue.append(&quiet_minutes()).await.unwrap();
    worker.tick(later()).await.unwrap();

    // A pass persists and acknowledges the late burst, then fails to read.
    stores.queue.append(&late_burst()).await.unwrap();
    flaky.fail.store(true, Ordering::SeqCst);
    assert!(worker.tick(later()).await.is_err());
    assert_eq!(
        stores.queue.backlog().await.unwrap(),
        0,
        "persisted and acknowledged"
    );

    // The next pass reads the burst's minute again: the drain's mark
    // outlives the failed read.
    flaky.fail.store(false, Ordering::SeqCst);
    worker.tick(later()).await.unwrap();
    assert!(has_burst(&stores).await, "the late burst is judged");
}
