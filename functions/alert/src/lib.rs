//! anomalog-alert: tells Discord, Slack and generic JSON webhooks about
//! incidents (the anomalies of one cause, grouped by detect): one message when
//! an incident opens, its growth folded in, a new message when its severity
//! rises, one when it resolves ([`incidents`]).
//!
//! Each configured [`Channel`] runs the same delivery loop over the
//! [`IncidentStore`](anomalog_store::IncidentStore)'s notices: what the
//! channel was last told of each incident. Every attempt is recorded as a
//! [`Delivery`](anomalog_store::Delivery) under the channel's name (its `anomaly_id` holds the incident
//! id). Failed attempts are retried on later runs after an exponential
//! back-off with jitter; a 429 (or a 5xx with `Retry-After`) stops that
//! channel until its `Retry-After` has passed. Channels run side by side and
//! keep their own back-off and rate-limit state, so a failing channel never
//! holds the others back. Webhook URLs and custom header values are secrets:
//! they never appear in logs, errors or delivery records. Attempts are counted
//! in the [`metrics`] by channel. [`test_channels`] sends each channel a
//! labelled test message (`anomalog alert test`).

pub mod incident_messages;
pub mod incidents;
pub mod messages;
pub mod metrics;
pub mod test_message;
mod worker;

pub use incidents::{AlertPorts, deliver_incidents};
pub use test_message::{ChannelCheck, test_channels};
pub use worker::{AlertWorker, CHANNEL_VARS};

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use anomalog_core::AnomalyStatus;
use anomalog_core::config::AlertConfig;
use anomalog_store::StoreError;

pub use messages::{discord_message, slack_message, truncate_chars};

/// Channel name under which Discord deliveries are recorded.
pub const DISCORD_CHANNEL: &str = "discord";
/// Channel name under which Slack deliveries are recorded.
pub const SLACK_CHANNEL: &str = "slack";
/// Channel name under which generic webhook deliveries are recorded.
pub const WEBHOOK_CHANNEL: &str = "webhook";
/// Anomalies whose window ended longer ago than this are history, not news.
pub const MAX_AGE: Duration = Duration::hours(1);
/// Most messages one run sends per channel.
pub const MAX_PER_RUN: usize = 10;

/// An alert run failed before it could record its attempts, or a channel
/// could not be built. Never carries a URL or header value.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build HTTP client: {0}")]
    Client(String),
    /// A custom header of the generic webhook is not a valid HTTP header.
    #[error("alert.webhook_headers.{name}: not a valid HTTP header name or value")]
    Header { name: String },
    /// No channel is configured: there is nothing to deliver to.
    #[error(
        "no alert channel: none of DISCORD_WEBHOOK_URL, SLACK_WEBHOOK_URL, ANOMALOG_WEBHOOK_URL \
         is set (or alert.discord_webhook_url, alert.slack_webhook_url, alert.webhook_url)"
    )]
    NoChannel,
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertReport {
    pub sent: usize,
    pub failed: usize,
    /// Pending notifications left for later (back-off or rate limit).
    pub deferred: usize,
}

impl AlertReport {
    fn add(&mut self, other: &AlertReport) {
        self.sent += other.sent;
        self.failed += other.failed;
        self.deferred += other.deferred;
    }
}

/// Which service a channel posts to; decides the message format and the
/// name its deliveries are recorded under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// Discord webhook embeds.
    Discord,
    /// Slack incoming webhook, Block Kit.
    Slack,
    /// Any HTTP endpoint taking the incident as JSON.
    Webhook,
}

impl ChannelKind {
    /// The name deliveries and metrics of this kind are recorded under.
    pub fn name(self) -> &'static str {
        match self {
            ChannelKind::Discord => DISCORD_CHANNEL,
            ChannelKind::Slack => SLACK_CHANNEL,
            ChannelKind::Webhook => WEBHOOK_CHANNEL,
        }
    }
}

/// One alert destination with its own rate-limit state.
pub struct Channel {
    kind: ChannelKind,
    client: reqwest::Client,
    url: String,
    headers: HeaderMap,
    dashboard_url: Option<String>,
    /// The destination asked us to wait until then.
    rate_limited_until: Mutex<Option<DateTime<Utc>>>,
}

impl std::fmt::Debug for Channel {
    // The URL and header values are secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Channel {
    /// A Discord webhook posting to `url`; alerts link to `dashboard_url`.
    pub fn discord(url: String, dashboard_url: Option<String>) -> Result<Channel, AlertError> {
        Channel::new(ChannelKind::Discord, url, HeaderMap::new(), dashboard_url)
    }

    /// A Slack incoming webhook posting to `url`.
    pub fn slack(url: String, dashboard_url: Option<String>) -> Result<Channel, AlertError> {
        Channel::new(ChannelKind::Slack, url, HeaderMap::new(), dashboard_url)
    }

    /// A generic JSON webhook posting to `url` with the extra `headers`
    /// (e.g. `Authorization`) on every request.
    pub fn webhook(
        url: String,
        headers: &BTreeMap<String, String>,
        dashboard_url: Option<String>,
    ) -> Result<Channel, AlertError> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let invalid = || AlertError::Header { name: name.clone() };
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let mut value = HeaderValue::from_str(value).map_err(|_| invalid())?;
            value.set_sensitive(true);
            map.insert(header, value);
        }
        Channel::new(ChannelKind::Webhook, url, map, dashboard_url)
    }

    /// Every channel `config` names, in the order Discord, Slack, webhook.
    pub fn from_config(config: &AlertConfig) -> Result<Vec<Channel>, AlertError> {
        let dashboard = &config.dashboard_url;
        let mut channels = Vec::new();
        if let Some(url) = &config.discord_webhook_url {
            channels.push(Channel::discord(url.clone(), dashboard.clone())?);
        }
        if let Some(url) = &config.slack_webhook_url {
            channels.push(Channel::slack(url.clone(), dashboard.clone())?);
        }
        if let Some(url) = &config.webhook_url {
            channels.push(Channel::webhook(
                url.clone(),
                &config.webhook_headers,
                dashboard.clone(),
            )?);
        }
        Ok(channels)
    }

    fn new(
        kind: ChannelKind,
        url: String,
        headers: HeaderMap,
        dashboard_url: Option<String>,
    ) -> Result<Channel, AlertError> {
        let client = reqwest::Client::builder()
            .timeout(StdDuration::from_secs(10))
            .build()
            .map_err(|e| AlertError::Client(e.without_url().to_string()))?;
        metrics::channel_configured(kind.name());
        Ok(Channel {
            kind,
            client,
            url,
            headers,
            dashboard_url,
            rate_limited_until: Mutex::new(None),
        })
    }

    /// What this channel posts to.
    pub fn kind(&self) -> ChannelKind {
        self.kind
    }

    /// The name its deliveries are recorded under.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn rate_limited(&self, now: DateTime<Utc>) -> bool {
        self.rate_limited_until
            .lock()
            .map(|until| until.is_some_and(|t| t > now))
            .unwrap_or(false)
    }

    fn set_rate_limit(&self, until: DateTime<Utc>) {
        if let Ok(mut guard) = self.rate_limited_until.lock() {
            *guard = Some(until);
        }
    }
}

/// Longest wait before retrying after `failures` failed attempts: 5 s after
/// the first, doubling with each further failure, at most 10 minutes.
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(8);
    let secs = 5i64.saturating_mul(1i64 << doublings);
    Duration::seconds(secs.min(600))
}

/// The wait actually used ("equal jitter"): half of [`backoff`] plus a part
/// drawn from `rng` up to the other half, so it lies within
/// `[backoff / 2, backoff]`. Keeping half avoids an instant retry; the random
/// half spreads retries of many anomalies and channels apart.
pub fn jittered_backoff(failures: u32, rng: &mut fastrand::Rng) -> Duration {
    let cap = backoff(failures).num_milliseconds();
    let half = cap / 2;
    Duration::milliseconds(half + rng.i64(0..=cap - half))
}

/// The random source for one retry: seeded by what the retry is about, so
/// every run (and every Lambda instance) agrees on when it is due.
fn retry_rng(
    anomaly_id: &str,
    channel: &str,
    status: AnomalyStatus,
    failures: u32,
) -> fastrand::Rng {
    let mut hasher = std::hash::DefaultHasher::new();
    (anomaly_id, channel, status == AnomalyStatus::Open, failures).hash(&mut hasher);
    fastrand::Rng::with_seed(hasher.finish())
}

fn retry_after(response: &reqwest::Response) -> Option<f64> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(5));
        assert_eq!(backoff(2), Duration::seconds(10));
        assert_eq!(backoff(4), Duration::seconds(40));
        assert_eq!(backoff(30), Duration::seconds(600));
    }

    #[test]
    fn jitter_stays_within_half_and_full_backoff_and_spreads() {
        for failures in [1, 2, 5, 30] {
            let cap = backoff(failures);
            let mut seen = std::collections::BTreeSet::new();
            for seed in 0..200 {
                let wait = jittered_backoff(failures, &mut fastrand::Rng::with_seed(seed));
                assert!(wait >= cap / 2 && wait <= cap, "{wait} for {failures}");
                seen.insert(wait);
            }
            assert!(seen.len() > 100, "jitter spreads: {} values", seen.len());
        }
    }

    #[test]
    fn the_retry_wait_is_the_same_on_every_run_and_differs_between_channels() {
        let wait = |channel| {
            jittered_backoff(
                3,
                &mut retry_rng("burst:api:1", channel, AnomalyStatus::Open, 3),
            )
        };
        assert_eq!(wait(SLACK_CHANNEL), wait(SLACK_CHANNEL));
        let waits: std::collections::BTreeSet<_> =
            [DISCORD_CHANNEL, SLACK_CHANNEL, WEBHOOK_CHANNEL]
                .map(wait)
                .into();
        assert!(waits.len() > 1, "{waits:?}");
    }
}
