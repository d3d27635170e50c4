//! AWS Lambda binary of alert: each invocation (an EventBridge schedule,
//! `rate(1 minute)`, independent of detect so deferred and failed deliveries
//! are retried even while detect fails) is one [`AlertWorker::tick`], as in
//! `anomalog up`: a delivery round to every configured channel.
//!
//! The template reserves a concurrency of 1: two rounds at once could both
//! send the same pending anomaly. Without any channel the worker refuses to
//! start and the init error names `DISCORD_WEBHOOK_URL`, `SLACK_WEBHOOK_URL`
//! and `ANOMALOG_WEBHOOK_URL` (the template only deploys it when one is given).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

use anomalog_alert::AlertWorker;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    let started = anomalog_lambda::start().await?;
    let worker = match AlertWorker::new(started.stores.deliveries, &started.config.alert) {
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
    let report = worker.tick().await?;
    Ok(json!({ "sent": report.sent, "failed": report.failed, "deferred": report.deferred }))
}
