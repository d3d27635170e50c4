//! The Prometheus exporter of `anomalog up`: installs the global `metrics`
//! recorder and serves `GET /metrics` (text exposition format). The function
//! crates record their counters through the `metrics` facade; the gauges that
//! describe storage (queue lag) are read at scrape time.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use anomalog_store::Stores;

/// Backlog of the queue: entries appended and not yet acknowledged.
pub const QUEUE_PENDING: &str = "anomalog_queue_pending_entries";
/// Age of the oldest unacknowledged queue entry (0 when the queue is empty).
pub const QUEUE_OLDEST_AGE: &str = "anomalog_queue_oldest_pending_age_seconds";
/// 1, labelled with the version of the running binary.
pub const BUILD_INFO: &str = "anomalog_build_info";
/// Scrapes that could not read the queue (the other metrics are still served).
pub const SCRAPE_ERRORS: &str = "anomalog_metrics_scrape_errors_total";

/// Upper bounds of the detect pass duration buckets, in seconds.
const PASS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Upper bounds of the ingest queue append duration buckets, in seconds.
const APPEND_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// How often histogram samples are folded into their buckets between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the Prometheus recorder for this process and describes every
/// metric. Call once, before serving.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(anomalog_detect::metrics::PASS_DURATION.to_owned()),
            PASS_BUCKETS,
        )?
        .set_buckets_for_metric(
            Matcher::Full(anomalog_ingest::metrics::QUEUE_APPEND_DURATION.to_owned()),
            APPEND_BUCKETS,
        )?
        .install_recorder()?;
    anomalog_ingest::metrics::describe();
    anomalog_detect::metrics::describe();
    anomalog_alert::metrics::describe();
    metrics::describe_gauge!(
        QUEUE_PENDING,
        "Queue entries (ingest batches) appended and not yet processed by detect."
    );
    metrics::describe_gauge!(
        QUEUE_OLDEST_AGE,
        metrics::Unit::Seconds,
        "Age of the oldest queue entry not yet processed by detect (0 when empty)."
    );
    metrics::describe_gauge!(BUILD_INFO, "Always 1; the version label names the build.");
    metrics::describe_counter!(
        SCRAPE_ERRORS,
        "Scrapes of /metrics that could not read the queue gauges."
    );
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    metrics::counter!(SCRAPE_ERRORS).increment(0);
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            every.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

#[derive(Clone)]
struct MetricsState {
    handle: PrometheusHandle,
    stores: Stores,
}

/// `GET /metrics`.
pub fn router(handle: PrometheusHandle, stores: Stores) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(MetricsState { handle, stores })
}

async fn scrape(State(state): State<MetricsState>) -> Response {
    // Queue gauges are facts of the store, read now rather than tracked.
    match state.stores.queue.backlog().await {
        Ok(n) => metrics::gauge!(QUEUE_PENDING).set(n as f64),
        Err(e) => {
            metrics::counter!(SCRAPE_ERRORS).increment(1);
            tracing::warn!(error = %e, "metrics: cannot read the queue backlog");
        }
    }
    match state.stores.queue.oldest_pending().await {
        Ok(oldest) => {
            let age = oldest.map_or(0.0, |t| {
                (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0
            });
            metrics::gauge!(QUEUE_OLDEST_AGE).set(age);
        }
        Err(e) => {
            metrics::counter!(SCRAPE_ERRORS).increment(1);
            tracing::warn!(error = %e, "metrics: cannot read the oldest queue entry");
        }
    }
    state.handle.run_upkeep();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.handle.render(),
    )
        .into_response()
}
