//! AWS Lambda binary of alert: each invocation (an EventBridge schedule,
//! `rate(1 minute)`, independent of detect so deferred and failed deliveries
//! are retried even while detect fails) runs one delivery round of
//! [`anomalog_alert::deliver_pending`] to the Discord webhook.
//!
//! The template reserves a concurrency of 1: two rounds at once could both
//! send the same pending anomaly. Without `DISCORD_WEBHOOK_URL` it refuses to
//! start (the template only deploys it when a webhook is given).

use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

use anomalog_alert::DiscordWebhook;
use anomalog_store::Stores;

struct Alert {
    stores: Stores,
    webhook: DiscordWebhook,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    anomalog_lambda::init_tracing();
    let started = anomalog_lambda::start().await?;
    let alert = Alert {
        webhook: webhook(&started.config).await?,
        stores: started.stores,
    };
    let alert = &alert;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        alert.invoke().await
    }))
    .await
    .map_err(anyhow::Error::from_boxed)
}

async fn webhook(config: &anomalog_core::Config) -> anyhow::Result<DiscordWebhook> {
    let alert = &config.alert;
    let Some(url) = alert.discord_webhook_url.clone() else {
        let missing = anyhow::anyhow!(
            "DISCORD_WEBHOOK_URL is not set: the alert function has nothing to deliver to"
        );
        return Err(anomalog_lambda::report_init_error(missing).await);
    };
    match DiscordWebhook::new(url, alert.dashboard_url.clone()) {
        Ok(webhook) => Ok(webhook),
        Err(e) => Err(anomalog_lambda::report_init_error(anyhow::Error::from(e)).await),
    }
}

impl Alert {
    async fn invoke(&self) -> Result<Value, Error> {
        let report =
            anomalog_alert::deliver_pending(&self.stores, &self.webhook, Utc::now()).await?;
        tracing::info!(
            sent = report.sent,
            failed = report.failed,
            deferred = report.deferred,
            "alert round"
        );
        Ok(json!({ "sent": report.sent, "failed": report.failed, "deferred": report.deferred }))
    }
}
