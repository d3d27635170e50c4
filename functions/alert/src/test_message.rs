//! `anomalog alert test`: one clearly labelled message to each configured
//! channel, and what each answered.

use serde_json::{Value, json};

use crate::{Channel, ChannelKind};

/// The text every test message carries.
pub const TEST_TEXT: &str = "anomalog test message: alerts reach this channel. \
     Sent by `anomalog alert test`; no incident is open.";

/// Characters of a failed answer's body kept in its error.
const BODY_EXCERPT_MAX: usize = 200;

/// What one channel answered a test message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelCheck {
    /// The channel's name (`discord`, `slack`, `webhook`).
    pub channel: &'static str,
    /// The HTTP status of a 2xx answer, or why it failed: the status and
    /// an excerpt of the body, or the transport error (never the URL).
    pub result: Result<u16, String>,
}

/// The test message in `kind`'s format.
pub fn test_message(kind: ChannelKind) -> Value {
    match kind {
        ChannelKind::Discord => json!({
            "username": "anomalog",
            "embeds": [{ "title": "Test message", "description": TEST_TEXT, "color": 0x34_98_db }],
        }),
        ChannelKind::Slack => json!({
            "text": TEST_TEXT,
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Test message"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": TEST_TEXT}},
            ],
        }),
        ChannelKind::Webhook => json!({ "event": "test", "message": TEST_TEXT }),
    }
}

/// Sends the test message to every channel (or only to the one named
/// `only`), side by side, in the channels' order.
pub async fn test_channels(channels: &[Channel], only: Option<&str>) -> Vec<ChannelCheck> {
    let chosen = channels
        .iter()
        .filter(|c| only.is_none_or(|name| c.name() == name));
    futures_util::future::join_all(chosen.map(check)).await
}

async fn check(channel: &Channel) -> ChannelCheck {
    let sent = channel
        .client
        .post(&channel.url)
        .headers(channel.headers.clone())
        .json(&test_message(channel.kind))
        .send()
        .await;
    let result = match sent {
        Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
        Ok(response) => {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            let excerpt = crate::truncate_chars(body.trim(), BODY_EXCERPT_MAX);
            Err(format!("HTTP {status}: {excerpt}"))
        }
        // without_url: webhook URLs embed their token.
        Err(e) => Err(e.without_url().to_string()),
    };
    crate::metrics::delivery(channel.name(), result.is_ok());
    ChannelCheck {
        channel: channel.name(),
        result,
    }
}
