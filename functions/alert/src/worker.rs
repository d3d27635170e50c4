//! The alert worker: what one scheduled tick does, in `anomalog up` (every
//! few seconds) and in the Lambda (every minute) alike.

use std::time::Duration;

use chrono::Utc;

use anomalog_core::config::AlertConfig;
use anomalog_store::StoreError;

use crate::{AlertError, AlertPorts, AlertReport, Channel, deliver_incidents};

/// The environment variables that configure a channel, in the order
/// Discord, Slack, generic webhook.
pub const CHANNEL_VARS: [&str; 3] = [
    "DISCORD_WEBHOOK_URL",
    "SLACK_WEBHOOK_URL",
    "ANOMALOG_WEBHOOK_URL",
];

/// Least time between two messages telling Slack of growth, by default.
const DEFAULT_UPDATE_INTERVAL: chrono::Duration = chrono::Duration::minutes(5);

/// Waits before retrying a round that failed on a transient store error
/// (broken pipe, reset, fail-over): the adapters reconnect meanwhile.
const RETRY_BACKOFF: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(2),
];

/// Tells every configured channel of the incidents it has not been told of,
/// one round per [`AlertWorker::tick`] (see [`crate::incidents`]). It needs
/// the incidents, anomalies and deliveries ([`AlertPorts`]). Both
/// `anomalog up` and the alert Lambda build it with [`AlertWorker::new`],
/// which refuses a configuration without any channel
/// ([`AlertError::NoChannel`], naming [`CHANNEL_VARS`]): `up` logs that
/// alerting is off, the Lambda reports it as its init error.
pub struct AlertWorker {
    ports: AlertPorts,
    channels: Vec<Channel>,
    update_interval: chrono::Duration,
}

impl AlertWorker {
    /// A worker for every channel `config` names.
    /// `ports` is one adapter serving every port (`Arc<MongoStore>`) or the
    /// process's `&Stores`.
    pub fn new(
        ports: impl Into<AlertPorts>,
        config: &AlertConfig,
    ) -> Result<AlertWorker, AlertError> {
        let worker = AlertWorker::with_channels(ports, Channel::from_config(config)?)?;
        Ok(worker.with_update_interval(chrono::Duration::seconds(
            // At most a year, so no value can overflow a duration.
            i64::try_from(config.update_interval_secs.min(31_536_000)).unwrap_or(300),
        )))
    }

    /// A worker for the given channels (at least one), telling Slack of
    /// growth at most every 5 minutes.
    pub fn with_channels(
        ports: impl Into<AlertPorts>,
        channels: Vec<Channel>,
    ) -> Result<AlertWorker, AlertError> {
        if channels.is_empty() {
            return Err(AlertError::NoChannel);
        }
        Ok(AlertWorker {
            ports: ports.into(),
            channels,
            update_interval: DEFAULT_UPDATE_INTERVAL,
        })
    }

    /// Tells channels that cannot edit (Slack) of growth at most this often.
    pub fn with_update_interval(mut self, every: chrono::Duration) -> AlertWorker {
        self.update_interval = every;
        self
    }

    /// The channels it delivers to.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// One delivery round to every channel, side by side (see
    /// [`deliver_incidents`]); deferred and failed deliveries are retried by a
    /// later tick. A round that fails on a transient store error is retried
    /// after a back-off (a message sent but not recorded may be sent again:
    /// notifications are at least once).
    pub async fn tick(&self) -> Result<AlertReport, AlertError> {
        let mut waits = RETRY_BACKOFF.iter();
        let report = loop {
            let round = deliver_incidents(
                &self.ports,
                &self.channels,
                self.update_interval,
                Utc::now(),
            );
            match round.await {
                Err(AlertError::Store(StoreError::Unavailable(e))) => match waits.next() {
                    Some(wait) => {
                        tracing::warn!(error = %e, retry_in = ?wait, "alert round failed; retrying");
                        tokio::time::sleep(*wait).await;
                    }
                    None => return Err(AlertError::Store(StoreError::Unavailable(e))),
                },
                result => break result?,
            }
        };
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
