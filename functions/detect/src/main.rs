//! AWS Lambda binary of detect: each invocation (an EventBridge schedule,
//! `rate(1 minute)`, or a manual invoke with any payload) is one
//! [`DetectWorker::tick`], as in `anomalog up`: passes while a backlog fills
//! them and the invocation's time allows, and retention when due.
//!
//! It reads the queue as [`LAMBDA_CONSUMER`]: the template reserves a
//! concurrency of 1, so one instance at a time holds that name and a pass
//! that died (timeout, crash) is retried from its own pending entries at the
//! next invocation, without waiting for the re-claim timeout.

use std::time::{Duration, Instant, SystemTime};

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

use anomalog_detect::{DetectWorker, LAMBDA_CONSUMER};

/// Time kept free before the invocation deadline for retention and the reply.
const RESERVE: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    let started = anomalog_lambda::start().await?;
    let worker = DetectWorker::new(started.stores, &started.config, LAMBDA_CONSUMER);
    let worker = &worker;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        invoke(worker, event).await
    }))
    .await
    .map_err(anyhow::Error::from_boxed)
}

async fn invoke(worker: &DetectWorker, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let left = event
        .context
        .deadline()
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let deadline = Instant::now() + left.saturating_sub(RESERVE);
    let report = worker.tick(deadline).await?;
    tracing::info!(
        passes = report.passes,
        entries = report.entries,
        inserted = report.inserted,
        opened = report.opened,
        resolved = report.resolved,
        retention_deleted = report.retention_deleted,
        "detect invocation"
    );
    Ok(json!({
        "passes": report.passes,
        "entries": report.entries,
        "inserted": report.inserted,
        "opened": report.opened,
        "resolved": report.resolved,
        "retention_deleted": report.retention_deleted,
    }))
}
