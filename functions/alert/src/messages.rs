//! The message each channel kind posts for an anomaly's current status, each
//! within its service's documented limits.

use serde_json::{Value, json};

use anomalog_core::{Anomaly, AnomalyStatus, Measure, Severity, Unit};

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

/// `value` in the unit of `measure`: a ratio in percent, a count of events
/// with one decimal at most.
fn in_unit(measure: &Measure, value: f64) -> String {
    match measure.unit {
        Unit::Ratio => format!("{:.1}%", 100.0 * value),
        Unit::Events if value == value.trunc() => format!("{value:.0}"),
        Unit::Events => format!("{value:.1}"),
    }
}

/// What the anomaly measured, from its typed fields (never its message):
/// "error ratio 20.9% in 60 s, baseline 1.1% ± 0.6%, threshold 5.3%".
/// `None` for anomalies stored before measures existed.
pub fn measured_line(anomaly: &Anomaly) -> Option<String> {
    let m = anomaly.measure.as_ref()?;
    let what = match m.metric {
        anomalog_core::Metric::ErrorCount => "errors",
        anomalog_core::Metric::ErrorRatio => "error ratio",
        anomalog_core::Metric::EventRate => "events",
        anomalog_core::Metric::PatternRate => "pattern events",
        anomalog_core::Metric::NewPattern => "new pattern events",
    };
    let observed = in_unit(m, anomaly.observed);
    let head = match m.unit {
        Unit::Ratio => format!("{what} {observed}"),
        Unit::Events => format!("{observed} {what}"),
    };
    let baseline = if anomaly.stddev > 0.0 {
        format!(
            "{} ± {}",
            in_unit(m, anomaly.expected),
            in_unit(m, anomaly.stddev)
        )
    } else {
        in_unit(m, anomaly.expected)
    };
    Some(format!(
        "{head} in {} s, baseline {baseline}, threshold {}",
        m.bucket_seconds,
        in_unit(m, m.threshold)
    ))
}

/// Observed against expected: in the measure's unit when there is one.
fn observed_vs_expected(anomaly: &Anomaly) -> String {
    match &anomaly.measure {
        Some(m) => format!(
            "{} vs {} (threshold {})",
            in_unit(m, anomaly.observed),
            in_unit(m, anomaly.expected),
            in_unit(m, m.threshold)
        ),
        None => format!("{:.1} vs {:.1}", anomaly.observed, anomaly.expected),
    }
}

fn color(anomaly: &Anomaly) -> u32 {
    embed_color(anomaly.status, anomaly.severity)
}

/// A Discord embed's colour: green once resolved, else by severity.
pub(crate) fn embed_color(status: AnomalyStatus, severity: Severity) -> u32 {
    if status == AnomalyStatus::Resolved {
        return 0x2e_cc_71;
    }
    match severity {
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
            {"name": "Observed vs expected", "value": observed_vs_expected(anomaly), "inline": false},
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
                    "*Observed vs expected*\n{}",
                    observed_vs_expected(anomaly)
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
    let summary = measured_line(anomaly).unwrap_or_else(|| anomaly.message.clone());
    let text = format!(
        "{}: {}",
        slack_escaped(&title, SLACK_TEXT_MAX / 2),
        slack_escaped(&summary, SLACK_TEXT_MAX / 2 - 2)
    );
    json!({ "text": text, "blocks": blocks })
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

    fn ratio_spike() -> Anomaly {
        use chrono::TimeZone;
        let at = |s: i64| chrono::Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap();
        Anomaly {
            id: "a1".into(),
            kind: anomalog_core::AnomalyKind::Spike,
            service: "checkout".into(),
            window_start: at(0),
            window_end: at(60),
            observed: 56.0 / 268.0,
            expected: 0.011,
            stddev: 0.006,
            score: 0.9,
            severity: Severity::High,
            status: AnomalyStatus::Open,
            first_seen: at(60),
            last_seen: at(60),
            message: "prose for people".into(),
            samples: Vec::new(),
            measure: Some(Measure {
                metric: anomalog_core::Metric::ErrorRatio,
                unit: Unit::Ratio,
                threshold: 0.04,
                baseline_start: at(-1800),
                baseline_end: at(0),
                bucket_seconds: 60,
            }),
            explanation: Vec::new(),
        }
    }

    #[test]
    fn a_ratio_spike_is_worded_in_percent_from_its_measure() {
        let a = ratio_spike();
        assert_eq!(
            measured_line(&a).as_deref(),
            Some("error ratio 20.9% in 60 s, baseline 1.1% ± 0.6%, threshold 4.0%")
        );
        assert_eq!(observed_vs_expected(&a), "20.9% vs 1.1% (threshold 4.0%)");
        let slack = slack_message(&a, None);
        assert_eq!(
            slack["text"],
            "High spike in checkout: error ratio 20.9% in 60 s, baseline 1.1% ± 0.6%, threshold 4.0%"
        );
        let discord = discord_message(&a, None);
        assert_eq!(
            discord["embeds"][0]["fields"][3]["value"],
            "20.9% vs 1.1% (threshold 4.0%)"
        );
    }

    #[test]
    fn a_count_is_worded_in_events_and_an_old_record_falls_back() {
        let mut a = ratio_spike();
        a.observed = 30.0;
        a.expected = 2.0;
        a.stddev = 1.4;
        if let Some(m) = a.measure.as_mut() {
            m.metric = anomalog_core::Metric::ErrorCount;
            m.unit = Unit::Events;
            m.threshold = 12.2;
        }
        assert_eq!(
            measured_line(&a).as_deref(),
            Some("30 errors in 60 s, baseline 2 ± 1.4, threshold 12.2")
        );
        a.measure = None;
        assert_eq!(measured_line(&a), None);
        assert_eq!(observed_vs_expected(&a), "30.0 vs 2.0");
        assert_eq!(
            slack_message(&a, None)["text"],
            "High spike in checkout: prose for people"
        );
    }

    #[test]
    fn slack_escaping_never_splits_an_entity() {
        assert_eq!(slack_escaped("a<b>&c", 100), "a&lt;b&gt;&amp;c");
        let cut = slack_escaped(&"&".repeat(100), 12);
        assert_eq!(cut, "&amp;&amp;…");
        assert!(slack_escaped(&"x".repeat(50), 10).chars().count() <= 10);
    }
}
