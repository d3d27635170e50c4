//! anomalog-alert: tells Discord about anomalies that opened or resolved.
//!
//! Each run asks the [`DeliveryStore`](anomalog_store::DeliveryStore) which
//! anomaly states the channel has not been told of, posts one message per state
//! change, and records every attempt. Failed attempts are retried on later runs
//! after an exponential back-off; a 429 stops the run until Discord's
//! `retry_after` has passed. The webhook URL is a secret: it never appears in
//! logs, errors or delivery records. Attempts are counted in the [`metrics`].

pub mod metrics;

use std::sync::Mutex;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use anomalog_core::{Anomaly, AnomalyStatus, Severity};
use anomalog_store::{Delivery, StoreError, Stores};

/// Channel name under which Discord deliveries are recorded.
pub const DISCORD_CHANNEL: &str = "discord";
/// Anomalies whose window ended longer ago than this are history, not news.
pub const MAX_AGE: Duration = Duration::hours(1);
/// Most messages one run sends.
pub const MAX_PER_RUN: usize = 10;

// Discord's documented limits.
const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 4096;
const FIELD_VALUE_MAX: usize = 1024;

/// An alert run failed before it could record its attempts.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot build HTTP client: {0}")]
    Client(String),
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertReport {
    pub sent: usize,
    pub failed: usize,
    /// Pending notifications left for later (back-off or rate limit).
    pub deferred: usize,
}

/// A Discord webhook destination.
pub struct DiscordWebhook {
    client: reqwest::Client,
    url: String,
    dashboard_url: Option<String>,
    /// Discord asked us to wait until then.
    rate_limited_until: Mutex<Option<DateTime<Utc>>>,
}

impl DiscordWebhook {
    /// A webhook posting to `url`; alerts link to `dashboard_url` when given.
    pub fn new(url: String, dashboard_url: Option<String>) -> Result<DiscordWebhook, AlertError> {
        let client = reqwest::Client::builder()
            .timeout(StdDuration::from_secs(10))
            .build()
            .map_err(|e| AlertError::Client(e.without_url().to_string()))?;
        Ok(DiscordWebhook {
            client,
            url,
            dashboard_url,
            rate_limited_until: Mutex::new(None),
        })
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

/// Cuts `text` to at most `max` characters, marking the cut with an ellipsis.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn color(anomaly: &Anomaly) -> u32 {
    if anomaly.status == AnomalyStatus::Resolved {
        return 0x2e_cc_71;
    }
    match anomaly.severity {
        Severity::Low => 0xf1_c4_0f,
        Severity::Medium => 0xe6_7e_22,
        Severity::High => 0xe7_4c_3c,
        Severity::Critical => 0x99_2d_22,
    }
}

/// The Discord message announcing `anomaly`'s current status, within
/// Discord's limits (title 256, description 4096, field value 1024 characters).
pub fn discord_message(anomaly: &Anomaly, dashboard_url: Option<&str>) -> Value {
    let title = match anomaly.status {
        AnomalyStatus::Open => format!(
            "{:?} {} in {}",
            anomaly.severity, anomaly.kind, anomaly.service
        ),
        AnomalyStatus::Resolved => format!("Resolved: {} in {}", anomaly.kind, anomaly.service),
    };
    let mut description = anomaly.message.clone();
    if !anomaly.samples.is_empty() {
        description.push_str("\n```\n");
        for s in &anomaly.samples {
            description.push_str(&format!(
                "{} {} {}\n",
                s.ts.format("%H:%M:%S"),
                s.level,
                truncate_chars(&s.message, 300)
            ));
        }
        description.push_str("```");
    }
    let window = format!(
        "{} → {} UTC",
        anomaly.window_start.format("%Y-%m-%d %H:%M:%S"),
        anomaly.window_end.format("%H:%M:%S")
    );
    let mut embed = json!({
        "title": truncate_chars(&title, TITLE_MAX),
        "description": truncate_chars(&description, DESCRIPTION_MAX),
        "color": color(anomaly),
        "timestamp": anomaly.last_seen.to_rfc3339(),
        "fields": [
            {"name": "Service", "value": truncate_chars(&anomaly.service, FIELD_VALUE_MAX), "inline": true},
            {"name": "Kind", "value": anomaly.kind.as_str(), "inline": true},
            {"name": "Score", "value": format!("{:.2}", anomaly.score), "inline": true},
            {"name": "Window", "value": window, "inline": false},
        ],
        "footer": {"text": format!("anomalog · {}", anomaly.id)},
    });
    if let Some(base) = dashboard_url {
        embed["url"] = json!(format!(
            "{}/#/anomalies/{}",
            base.trim_end_matches('/'),
            anomaly.id
        ));
    }
    json!({ "username": "anomalog", "embeds": [embed] })
}

/// Wait before retrying after `failures` failed attempts: 5 s after the first,
/// doubling with each further failure, at most 10 minutes.
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(8);
    let secs = 5i64.saturating_mul(1i64 << doublings);
    Duration::seconds(secs.min(600))
}

/// Sends what is pending for Discord.
pub async fn deliver_pending(
    stores: &Stores,
    webhook: &DiscordWebhook,
    now: DateTime<Utc>,
) -> Result<AlertReport, AlertError> {
    let mut report = AlertReport::default();
    let pending = stores
        .deliveries
        .pending(DISCORD_CHANNEL, now - MAX_AGE, MAX_PER_RUN)
        .await?;
    for anomaly in pending {
        if webhook.rate_limited(now) {
            report.deferred += 1;
            continue;
        }
        let attempts = stores.deliveries.attempts(&anomaly.id).await?;
        let failures: Vec<&Delivery> = attempts
            .iter()
            .filter(|d| d.channel == DISCORD_CHANNEL && d.status == anomaly.status && !d.ok)
            .collect();
        if let Some(last) = failures.last()
            && now - last.at < backoff(u32::try_from(failures.len()).unwrap_or(u32::MAX))
        {
            report.deferred += 1;
            continue;
        }
        let message = discord_message(&anomaly, webhook.dashboard_url.as_deref());
        let mut delivery = Delivery {
            anomaly_id: anomaly.id.clone(),
            channel: DISCORD_CHANNEL.to_owned(),
            status: anomaly.status,
            attempt: u32::try_from(failures.len() + 1).unwrap_or(u32::MAX),
            at: now,
            ok: false,
            http_status: None,
            error: None,
        };
        match webhook
            .client
            .post(&webhook.url)
            .json(&message)
            .send()
            .await
        {
            Ok(response) => {
                let status = response.status();
                delivery.http_status = Some(status.as_u16());
                if status.is_success() {
                    delivery.ok = true;
                } else {
                    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                        let wait = retry_after(&response).unwrap_or(5.0);
                        webhook
                            .set_rate_limit(now + Duration::milliseconds((wait * 1000.0) as i64));
                    }
                    delivery.error = Some(format!("HTTP {status}"));
                }
            }
            // without_url: the webhook URL embeds its token.
            Err(e) => delivery.error = Some(e.without_url().to_string()),
        }
        if delivery.ok {
            report.sent += 1;
        } else {
            report.failed += 1;
            tracing::warn!(
                anomaly = %delivery.anomaly_id,
                error = delivery.error.as_deref().unwrap_or(""),
                "discord delivery failed"
            );
        }
        metrics::delivery(DISCORD_CHANNEL, delivery.ok);
        stores.deliveries.record(&delivery).await?;
    }
    Ok(report)
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
    fn truncation_respects_char_limits() {
        assert_eq!(truncate_chars("héllo", 10), "héllo");
        let cut = truncate_chars(&"é".repeat(300), 256);
        assert_eq!(cut.chars().count(), 256);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(5));
        assert_eq!(backoff(2), Duration::seconds(10));
        assert_eq!(backoff(4), Duration::seconds(40));
        assert_eq!(backoff(30), Duration::seconds(600));
    }
}
