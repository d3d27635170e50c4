//! AWS Lambda binary of alert: each invocation (an EventBridge schedule,
//! `rate(1 minute)`, independent of detect so deferred and failed deliveries
//! are retried even while detect fails) runs one delivery round of
//! [`anomalog_alert::deliver_pending`] to every configured channel (Discord,
//! Slack, generic webhook).
//!
//! The template reserves a concurrency of 1: two rounds at once could both
//! send the same pending anomaly. Without any of `DISCORD_WEBHOOK_URL`,
//! `SLACK_WEBHOOK_URL` or `ANOMALOG_WEBHOOK_URL` it refuses to start (the
//! template only deploys it when a webhook is given).

use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

use anomalog_alert::Channel;
use anomalog_store::Stores;

struct Alert {
    stores: Stores,
    channels: Vec<Channel>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    let started = anomalog_lambda::start().await?;
    let alert = Alert {
        channels: channels(&started.config).await?,
        stores: started.stores,
    };
    let alert = &alert;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        alert.invoke().await
    }))
    .await
    .map_err(anyhow::Error::from_boxed)
}

async fn channels(config: &anomalog_core::Config) -> anyhow::Result<Vec<Channel>> {
    match Channel::from_config(&config.alert) {
        Ok(channels) if channels.is_empty() => {
            let missing = anyhow::anyhow!(
                "none of DISCORD_WEBHOOK_URL, SLACK_WEBHOOK_URL, ANOMALOG_WEBHOOK_URL is set: \
                 the alert function has nothing to deliver to"
            );
            Err(anomalog_lambda::report_init_error(missing).await)
        }
        Ok(channels) => Ok(channels),
        Err(e) => Err(anomalog_lambda::report_init_error(anyhow::Error::from(e)).await),
    }
}

impl Alert {
    async fn invoke(&self) -> Result<Value, Error> {
        let report =
            anomalog_alert::deliver_pending(&self.stores, &self.channels, Utc::now()).await?;
        tracing::info!(
            sent = report.sent,
            failed = report.failed,
            deferred = report.deferred,
            "alert round"
        );
        Ok(json!({ "sent": report.sent, "failed": report.failed, "deferred": report.deferred }))
    }
}
