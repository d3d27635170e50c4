//! The burst probe against the real ingest and API routers and detect worker
//! on the embedded store: every burst it sends is listed, and its latency is
//! the time detect took to store and judge it.

mod common;

use std::time::{Duration, Instant};

use anomalog_bench::api::Api;
use anomalog_bench::bursts;
use anomalog_detect::DetectWorker;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_burst_sent_is_listed_once_detect_has_run() {
    let (_dir, config, stores) = common::embedded(|_| {}).await;
    let app = common::ingest(&stores, &config).merge(anomalog_api::router(
        anomalog_api::ApiState::new(stores.clone()),
    ));
    let (addr, server) = common::serve(app).await;

    let api = Api::new(&format!("http://{addr}")).expect("api client");
    // Detect is held back for a second: a burst can only be listed once a
    // pass has stored it, so the latency cannot be below that.
    let hold = Duration::from_secs(1);
    let worker = DetectWorker::new(stores.clone(), &config, "bursts-test");
    let detect = tokio::spawn(async move {
        tokio::time::sleep(hold).await;
        loop {
            let _ = worker.tick(Instant::now() + Duration::from_secs(5)).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });

    let report = bursts::probe(
        &api,
        &format!("http://{addr}/ingest"),
        None,
        2,
        Duration::from_millis(500),
        Duration::from_secs(30),
    )
    .await
    .expect("probe");
    assert_eq!(report.sent, 2);
    assert_eq!(report.seen, 2, "{report:?}");
    assert_eq!(report.latency.count, 2);
    assert!(
        report.latency.max_ms >= 500.0 && report.latency.max_ms < 30_000.0,
        "{report:?}"
    );
    detect.abort();
    server.abort();
}
