//! The explanation (patterns that changed) in every alert message, within
//! each channel's size limits.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use chrono::{TimeZone, Utc};
use serde_json::Value;

use anomalog_alert::{discord_message, slack_message};
use anomalog_core::{Anomaly, AnomalyKind, AnomalyStatus, PatternChange, Severity};

fn anomaly(changes: Vec<PatternChange>) -> Anomaly {
    let t = Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap();
    Anomaly {
        id: Anomaly::id_for(AnomalyKind::Burst, "shop", t),
        kind: AnomalyKind::Burst,
        service: "shop".into(),
        window_start: t,
        window_end: t + chrono::Duration::seconds(30),
        observed: 80.0,
        expected: 2.0,
        stddev: 1.0,
        score: 0.9,
        severity: Severity::High,
        status: AnomalyStatus::Open,
        first_seen: t,
        last_seen: t,
        message: "80 errors in 30 s".into(),
        samples: Vec::new(),
        measure: None,
        explanation: changes,
    }
}

fn change(template: &str, before: f64, during: u64, new: bool) -> PatternChange {
    PatternChange {
        pattern: "00000000000000a1".into(),
        template: template.into(),
        before,
        during,
        new,
    }
}

fn discord_field(message: &Value) -> Option<String> {
    message["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Patterns that changed")
        .map(|f| f["value"].as_str().unwrap().to_owned())
}

#[test]
fn every_channel_names_the_templates_that_changed() {
    let a = anomaly(vec![
        change("payment provider <*> refused", 0.0, 30, true),
        change("db timeout after <*> ms", 2.0, 50, false),
    ]);
    let discord = discord_field(&discord_message(&a, None)).unwrap();
    assert!(
        discord.contains("payment provider <*> refused: 0.0 → 30 (new)"),
        "{discord}"
    );
    assert!(
        discord.contains("db timeout after <*> ms: 2.0 → 50"),
        "{discord}"
    );

    let slack = slack_message(&a, None).to_string();
    assert!(slack.contains("Patterns that changed"), "{slack}");
    assert!(
        slack.contains("payment provider &lt;*&gt; refused"),
        "{slack}"
    );
}

#[test]
fn a_huge_explanation_stays_within_the_limits() {
    let long = "x".repeat(2000);
    let a = anomaly(
        (0..50)
            .map(|i| change(&format!("{long} {i}"), 1.0, i, false))
            .collect(),
    );
    let discord = discord_field(&discord_message(&a, None)).unwrap();
    assert!(
        discord.chars().count() <= 1024,
        "{}",
        discord.chars().count()
    );
    let slack = slack_message(&a, None);
    for block in slack["blocks"].as_array().unwrap() {
        if let Some(text) = block["text"]["text"].as_str() {
            assert!(text.chars().count() <= 3000);
        }
    }
}

#[test]
fn no_explanation_no_field() {
    let a = anomaly(Vec::new());
    assert!(discord_field(&discord_message(&a, None)).is_none());
    assert!(
        !slack_message(&a, None)
            .to_string()
            .contains("Patterns that changed")
    );
}
