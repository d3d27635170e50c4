//! The alert worker: what one scheduled tick does, in `anomalog up` (every
//! few seconds) and in the Lambda (every minute) alike.

use std::sync::Arc;

use chrono::Utc;

use anomalog_core::config::AlertConfig;
use anomalog_store::DeliveryStore;

use crate::{AlertError, AlertReport, Channel, deliver_pending};

/// The environment variables that configure a channel, in the order
/// Discord, Slack, generic webhook.
pub const CHANNEL_VARS: [&str; 3] = [
    "DISCORD_WEBHOOK_URL",
    "SLACK_WEBHOOK_URL",
    "ANOMALOG_WEBHOOK_URL",
];

/// Delivers pending notifications to every configured channel, one round
/// per [`AlertWorker::tick`]. It only needs the [`DeliveryStore`]. Both
/// `anomalog up` and the alert Lambda build it with [`AlertWorker::new`],
/// which refuses a configuration without any channel
/// ([`AlertError::NoChannel`], naming [`CHANNEL_VARS`]): `up` logs that
/// alerting is off, the Lambda reports it as its init error.
pub struct AlertWorker {
    deliveries: Arc<dyn DeliveryStore>,
    channels: Vec<Channel>,
}

impl AlertWorker {
    /// A worker for every channel `config` names.
    pub fn new(
        deliveries: Arc<dyn DeliveryStore>,
        config: &AlertConfig,
    ) -> Result<AlertWorker, AlertError> {
        AlertWorker::with_channels(deliveries, Channel::from_config(config)?)
    }

    /// A worker for the given channels (at least one).
    pub fn with_channels(
        deliveries: Arc<dyn DeliveryStore>,
        channels: Vec<Channel>,
    ) -> Result<AlertWorker, AlertError> {
        if channels.is_empty() {
            return Err(AlertError::NoChannel);
        }
        Ok(AlertWorker {
            deliveries,
            channels,
        })
    }

    /// The channels it delivers to.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// One delivery round to every channel, side by side (see
    /// [`deliver_pending`]); deferred and failed deliveries are retried by a
    /// later tick.
    pub async fn tick(&self) -> Result<AlertReport, AlertError> {
        let report = deliver_pending(self.deliveries.as_ref(), &self.channels, Utc::now()).await?;
        if report.sent + report.failed > 0 {
            tracing::info!(
                sent = report.sent,
                failed = report.failed,
                deferred = report.deferred,
                "alert round"
            );
        }
        Ok(report)
    }
}
