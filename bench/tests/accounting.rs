//! The load generator's accounting against the real ingest router on the
//! embedded store: every event it counts as acknowledged is stored after
//! detect drains the queue, and refused requests (429 from the rate limit)
//! are counted, not acknowledged.

mod common;

use std::time::{Duration, Instant};

use anomalog_bench::load::{self, LoadOptions};
use anomalog_bench::workload::Workload;
use anomalog_detect::DetectWorker;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_are_exactly_the_stored_events() {
    // A burst of 2,000 events per client and almost no refill: of twelve
    // 300-event batches some are refused with 429, so acknowledged differs
    // from sent and only exact accounting matches the store.
    let (_dir, config, stores) = common::embedded(|config| {
        config.ingest.rate_limit_events_per_sec = 1.0;
        config.ingest.rate_limit_burst = 2000;
    })
    .await;
    let app = common::ingest(&stores, &config);
    let (addr, server) = common::serve(app).await;

    let batches = Workload {
        events_per_batch: 300,
        pool: 3,
        ..Workload::default()
    }
    .generate(chrono::Utc::now());
    let report = load::run(
        &LoadOptions {
            url: format!("http://{addr}/ingest"),
            concurrency: 3,
            duration: Duration::from_secs(30),
            max_batches: Some(12),
            rate: None,
            timeout: Duration::from_secs(10),
            api_key: None,
        },
        &batches,
    )
    .await
    .expect("load run");

    assert_eq!(report.requests, 12);
    assert_eq!(report.events_sent, 12 * 300);
    let accepted_requests = report.statuses.get("202").copied().unwrap_or(0);
    let refused = report.statuses.get("429").copied().unwrap_or(0);
    assert!(refused > 0, "the rate limit refused nothing: {report:?}");
    assert_eq!(accepted_requests + refused, 12, "{report:?}");
    assert_eq!(report.events_acknowledged, accepted_requests * 300);

    let worker = DetectWorker::new(stores.clone(), &config, "bench-test");
    let deadline = Instant::now() + Duration::from_secs(60);
    while stores.queue.backlog().await.expect("backlog") > 0 {
        assert!(Instant::now() < deadline, "the queue did not drain");
        worker
            .tick(Instant::now() + Duration::from_secs(10))
            .await
            .expect("detect tick");
    }
    let stored: u64 = stores
        .rollups
        .services(chrono::Utc::now() - chrono::Duration::days(1))
        .await
        .expect("services")
        .iter()
        .map(|s| s.total)
        .sum();
    assert_eq!(stored, report.events_acknowledged);
    server.abort();
}
