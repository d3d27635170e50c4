//! The message each channel kind posts for an anomaly's current status, each
//! within its service's documented limits.

use serde_json::{Value, json};

use anomalog_core::{Anomaly, AnomalyStatus, Severity};

// Discord's documented limits.
const DISCORD_TITLE_MAX: usize = 256;
const DISCORD_DESCRIPTION_MAX: usize = 4096;
const DISCORD_FIELD_VALUE_MAX: usize = 1024;

// Slack's documented limits (Block Kit).
/// Top-level `text` of a Slack message.
pub const SLACK_TEXT_MAX: usize = 40_000;
/// Blocks in one Slack message.
pub const SLACK_BLOCKS_MAX: usize = 50;
/// `text` of a section block.
pub const SLACK_SECTION_TEXT_MAX: usize = 3_000;
const SLACK_HEADER_MAX: usize = 150;
const SLACK_FIELD_MAX: usize = 2_000;

/// Sample lines quoted in a Slack message, each cut to [`SAMPLE_LINE_MAX`].
const SLACK_SAMPLES_MAX: usize = 5;
const SAMPLE_LINE_MAX: usize = 300;

/// Event names of the generic webhook.
pub const EVENT_OPENED: &str = "anomaly.opened";
pub const EVENT_RESOLVED: &str = "anomaly.resolved";

/// Cuts `text` to at most `max` characters, marking the cut with an ellipsis.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn title(anomaly: &Anomaly) -> String {
    match anomaly.status {
        AnomalyStatus::Open => format!(
            "{:?} {} in {}",
            anomaly.severity, anomaly.kind, anomaly.service
        ),
        AnomalyStatus::Resolved => format!("Resolved: {} in {}", anomaly.kind, anomaly.service),
    }
}

fn window(anomaly: &Anomaly) -> String {
    format!(
        "{} → {} UTC",
        anomaly.window_start.format("%Y-%m-%d %H:%M:%S"),
        anomaly.window_end.format("%H:%M:%S")
    )
}

fn sample_line(sample: &anomalog_core::LogSample) -> String {
    format!(
        "{} {} {}",
        sample.ts.format("%H:%M:%S"),
        sample.level,
        truncate_chars(&sample.message, SAMPLE_LINE_MAX)
    )
}

/// The dashboard page of `anomaly`, when the dashboard's URL is known.
pub fn dashboard_link(anomaly: &Anomaly, dashboard_url: Option<&str>) -> Option<String> {
    dashboard_url.map(|base| format!("{}/#/anomalies/{}", base.trim_end_matches('/'), anomaly.id))
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

/// The explanation as lines (`template: before -> during`, `(new)` for a
/// new pattern), whole lines only, within `max` characters; `None` when
/// there is none. `escape` is applied to each template.
fn explanation_text(anomaly: &Anomaly, max: usize, escape: fn(&str) -> String) -> Option<String> {
    let mut out = String::new();
    for c in &anomaly.explanation {
        let line = format!(
            "• {}: {:.1} → {}{}\n",
            escape(&truncate_chars(&c.template, SAMPLE_LINE_MAX)),
            c.before,
            c.during,
            if c.new { " (new)" } else { "" }
        );
        if out.chars().count() + line.chars().count() > max {
            break;
        }
        out.push_str(&line);
    }
    let out = out.trim_end().to_owned();
    (!out.is_empty()).then_some(out)
}

/// The Discord message announcing `anomaly`'s current status, within
/// Discord's limits (title 256, description 4096, field value 1024 characters).
pub fn discord_message(anomaly: &Anomaly, dashboard_url: Option<&str>) -> Value {
    let mut description = anomaly.message.clone();
    if !anomaly.samples.is_empty() {
        description.push_str("\n```\n");
        for s in &anomaly.samples {
            description.push_str(&sample_line(s));
            description.push('\n');
        }
        description.push_str("```");
    }
    let mut embed = json!({
        "title": truncate_chars(&title(anomaly), DISCORD_TITLE_MAX),
        "description": truncate_chars(&description, DISCORD_DESCRIPTION_MAX),
        "color": color(anomaly),
        "timestamp": anomaly.last_seen.to_rfc3339(),
        "fields": [
            {"name": "Service", "value": truncate_chars(&anomaly.service, DISCORD_FIELD_VALUE_MAX), "inline": true},
            {"name": "Kind", "value": anomaly.kind.as_str(), "inline": true},
            {"name": "Score", "value": format!("{:.2}", anomaly.score), "inline": true},
            {"name": "Window", "value": window(anomaly), "inline": false},
        ],
        "footer": {"text": format!("anomalog · {}", anomaly.id)},
    });
    if let Some(changes) =
        explanation_text(anomaly, DISCORD_FIELD_VALUE_MAX, |t| t.replace('`', "'"))
        && let Some(fields) = embed["fields"].as_array_mut()
    {
        fields.push(json!({"name": "Patterns that changed", "value": changes, "inline": false}));
    }
    if let Some(link) = dashboard_link(anomaly, dashboard_url) {
        embed["url"] = json!(link);
    }
    json!({ "username": "anomalog", "embeds": [embed] })
}

/// Escapes `text` for Slack mrkdwn (`&`, `<`, `>`) and cuts the result to at
/// most `max` characters without splitting an escape.
fn slack_escaped(text: &str, max: usize) -> String {
    let mut out = String::new();
    let mut len = 0;
    let total: usize = text
        .chars()
        .map(|c| match c {
            '&' => 5,
            '<' | '>' => 4,
            _ => 1,
        })
        .sum();
    let budget = if total <= max {
        max
    } else {
        max.saturating_sub(1)
    };
    for c in text.chars() {
        let piece = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            _ => "",
        };
        let width = if piece.is_empty() { 1 } else { piece.len() };
        if len + width > budget {
            out.push('…');
            return out;
        }
        if piece.is_empty() {
            out.push(c);
        } else {
            out.push_str(piece);
        }
        len += width;
    }
    out
}

fn mrkdwn(text: String) -> Value {
    json!({ "type": "mrkdwn", "text": text })
}

/// The Slack message (Block Kit) announcing `anomaly`'s current status:
/// a header, the service, kind, severity and observed vs expected values,
/// the detector's message, up to five sample lines, the window and id, and a
/// button to the dashboard when its URL is known. Within Slack's limits:
/// text 40,000 characters, 50 blocks, section text 3,000, header 150,
/// field 2,000.
pub fn slack_message(anomaly: &Anomaly, dashboard_url: Option<&str>) -> Value {
    let title = title(anomaly);
    let mut blocks = vec![
        json!({
            "type": "header",
            "text": {"type": "plain_text", "text": truncate_chars(&title, SLACK_HEADER_MAX)},
        }),
        json!({
            "type": "section",
            "fields": [
                mrkdwn(format!("*Service*\n{}", slack_escaped(&anomaly.service, SLACK_FIELD_MAX - 12))),
                mrkdwn(format!("*Kind*\n{}", anomaly.kind)),
                mrkdwn(format!("*Severity*\n{:?}", anomaly.severity)),
                mrkdwn(format!(
                    "*Observed vs expected*\n{:.1} vs {:.1}",
                    anomaly.observed, anomaly.expected
                )),
            ],
        }),
        json!({
            "type": "section",
            "text": mrkdwn(slack_escaped(&anomaly.message, SLACK_SECTION_TEXT_MAX)),
        }),
    ];
    if !anomaly.samples.is_empty() {
        // The fences must survive the cut: budget the lines inside them.
        let lines: Vec<String> = anomaly
            .samples
            .iter()
            .take(SLACK_SAMPLES_MAX)
            .map(sample_line)
            .collect();
        let inner = slack_escaped(&lines.join("\n"), SLACK_SECTION_TEXT_MAX - 8);
        blocks.push(json!({
            "type": "section",
            "text": mrkdwn(format!("```\n{inner}\n```")),
        }));
    }
    if let Some(changes) = explanation_text(anomaly, SLACK_SECTION_TEXT_MAX - 40, |t| {
        slack_escaped(t, SAMPLE_LINE_MAX * 2)
    }) {
        blocks.push(json!({
            "type": "section",
            "text": mrkdwn(format!("*Patterns that changed*\n{changes}")),
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [mrkdwn(slack_escaped(
            &format!("{} · anomalog {}", window(anomaly), anomaly.id),
            SLACK_SECTION_TEXT_MAX,
        ))],
    }));
    if let Some(link) = dashboard_link(anomaly, dashboard_url) {
        blocks.push(json!({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": "Open in anomalog"},
                "url": link,
            }],
        }));
    }
    blocks.truncate(SLACK_BLOCKS_MAX);
    // The fallback text shows in notifications and where blocks cannot.
    let text = format!(
        "{}: {}",
        slack_escaped(&title, SLACK_TEXT_MAX / 2),
        slack_escaped(&anomaly.message, SLACK_TEXT_MAX / 2 - 2)
    );
    json!({ "text": text, "blocks": blocks })
}

/// The generic webhook's event name for `anomaly`'s status.
pub fn event_name(status: AnomalyStatus) -> &'static str {
    match status {
        AnomalyStatus::Open => EVENT_OPENED,
        AnomalyStatus::Resolved => EVENT_RESOLVED,
    }
}

/// The generic webhook's body: `{"event", "anomaly", "url"}` where `anomaly`
/// is the anomaly as the read API serves it and `url` its dashboard page
/// (null when the dashboard's URL is not configured).
pub fn webhook_message(anomaly: &Anomaly, dashboard_url: Option<&str>) -> Value {
    json!({
        "event": event_name(anomaly.status),
        "anomaly": anomaly,
        "url": dashboard_link(anomaly, dashboard_url),
    })
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
    fn slack_escaping_never_splits_an_entity() {
        assert_eq!(slack_escaped("a<b>&c", 100), "a&lt;b&gt;&amp;c");
        let cut = slack_escaped(&"&".repeat(100), 12);
        assert_eq!(cut, "&amp;&amp;…");
        assert!(slack_escaped(&"x".repeat(50), 10).chars().count() <= 10);
    }
}
