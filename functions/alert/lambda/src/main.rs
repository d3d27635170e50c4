//! AWS Lambda binary of alert: each invocation (an EventBridge schedule,
//! `rate(1 minute)`, independent of detect so deferred and failed deliveries
//! are retried even while detect fails) is one [`AlertWorker::tick`], as in
//! `anomalog up`: a delivery round to every configured channel.
//!
//! The template reserves a concurrency of 1: two rounds at once could both
//! send the same pending anomaly. Without any channel the worker refuses to
//! start and the init error names `DISCORD_WEBHOOK_URL`, `SLACK_WEBHOOK_URL`
//! and `ANOMALOG_WEBHOOK_URL` (the template only deploys it when one is given).
//! Only MongoDB is connected (incidents, anomalies, deliveries); Redis is not contacted.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

use anomalog_alert::AlertWorker;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    // Incidents, anomalies and deliveries are all it uses: MongoDB alone, no Redis.
    let started = anomalog_lambda::start(anomalog_store::connect::connect_documents).await?;
    let worker = match AlertWorker::new(started.ports, &started.config.alert) {
        Ok(worker) => worker,
        Err(e) => return Err(anomalog_lambda::report_init_error(anyhow::Error::from(e)).await),
    };
    let worker = &worker;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        invoke(worker).await
    }))
    .await
    .map_err(anyhow::Error::from_boxed)
}

async fn invoke(worker: &AlertWorker) -> Result<Value, Error> {
    let result = worker.tick().await;
    anomalog_lambda::flush_metrics();
    let report = result?;
    Ok(json!({ "sent": report.sent, "failed": report.failed, "deferred": report.deferred }))
}
