//! What every channel shares: deliveries are counted per channel, and the
//! root anomaly's Slack blocks keep Slack's limits. Against real local HTTP
//! servers standing in for each service.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use serde_json::Value;

use anomalog_alert::slack_message;
use anomalog_core::{AnomalyStatus, Level, LogSample};
use common::{DASHBOARD, anomaly, now, open, setup};

fn section_texts(message: &Value) -> Vec<String> {
    message["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "section")
        .filter_map(|b| b["text"]["text"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn slack_messages_stay_within_slack_limits() {
    let mut huge = anomaly(&"s".repeat(5_000), AnomalyStatus::Open);
    huge.message = "<&>".repeat(30_000);
    huge.samples = (0..40)
        .map(|i| LogSample {
            ts: now(),
            level: Level::Error,
            message: format!("{i} {}", "&".repeat(4_000)),
        })
        .collect();
    let message = slack_message(&huge, Some(DASHBOARD));
    assert!(message["text"].as_str().unwrap().chars().count() <= 40_000);
    let blocks = message["blocks"].as_array().unwrap();
    assert!(blocks.len() <= 50);
    assert!(blocks[0]["text"]["text"].as_str().unwrap().chars().count() <= 150);
    for field in blocks[1]["fields"].as_array().unwrap() {
        assert!(field["text"].as_str().unwrap().chars().count() <= 2_000);
    }
    let sections = section_texts(&message);
    for text in &sections {
        assert!(text.chars().count() <= 3_000, "{}", text.chars().count());
    }
    let samples = &sections[1];
    assert!(samples.starts_with("```\n") && samples.ends_with("\n```"));
    let quoted = samples.lines().count() - 2;
    assert!((1..=5).contains(&quoted), "{quoted} sample lines");
    assert!(!samples.contains("&am…"), "escapes are never cut in half");
}

#[tokio::test]
async fn each_channel_counts_its_own_deliveries() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    // Current-thread runtime: every await below stays under this recorder.
    let _guard = metrics::set_default_local_recorder(&recorder);
    let s = setup(vec![500], vec![], vec![429]).await;
    open(&s.ports, "api").await;
    s.round(0).await;

    let text = handle.render();
    let sample = |channel: &str, outcome: &str| {
        let series = format!(
            "anomalog_alert_deliveries_total{{channel=\"{channel}\",outcome=\"{outcome}\"}} "
        );
        text.lines()
            .find_map(|l| l.strip_prefix(&series))
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
            .trim()
            .parse::<f64>()
            .unwrap()
    };
    assert_eq!(sample("discord", "sent"), 0.0);
    assert_eq!(sample("discord", "failed"), 1.0);
    assert_eq!(sample("slack", "sent"), 1.0);
    assert_eq!(sample("slack", "failed"), 0.0);
    assert_eq!(sample("webhook", "sent"), 0.0);
    assert_eq!(sample("webhook", "failed"), 1.0);
}
