//! Delivery to Discord, Slack and a generic JSON webhook at once, against
//! real local HTTP servers standing in for each service.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use serde_json::Value;

use anomalog_alert::{
    AlertReport, Channel, DISCORD_CHANNEL, SLACK_CHANNEL, WEBHOOK_CHANNEL, deliver_pending,
    slack_message,
};
use anomalog_core::{AnomalyStatus, Level, LogSample};
use anomalog_store::{EmbeddedStore, Stores};
use common::{Endpoint, anomaly, now, open};

const DASHBOARD: &str = "http://dash.local";
const HEADER_SECRET: &str = "Bearer header-secret-value";

struct Setup {
    _dir: tempfile::TempDir,
    stores: Stores,
    discord: Endpoint,
    slack: Endpoint,
    webhook: Endpoint,
    channels: Vec<Channel>,
}

/// Three channels; each endpoint answers with its own scripted replies.
async fn setup(discord: Vec<u16>, slack: Vec<u16>, webhook: Vec<u16>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let (discord, slack, webhook) = (
        Endpoint::replying(discord),
        Endpoint::replying(slack),
        Endpoint::replying(webhook),
    );
    let headers: BTreeMap<String, String> = [
        ("Authorization".to_owned(), HEADER_SECRET.to_owned()),
        ("X-Anomalog-Source".to_owned(), "tests".to_owned()),
    ]
    .into();
    let dashboard = Some(DASHBOARD.to_owned());
    let channels = vec![
        Channel::discord(
            discord.start("/api/webhooks/1/discord-secret").await,
            dashboard.clone(),
        )
        .unwrap(),
        Channel::slack(
            slack.start("/services/T0/B0/slack-secret").await,
            dashboard.clone(),
        )
        .unwrap(),
        Channel::webhook(
            webhook.start("/hooks/webhook-secret").await,
            &headers,
            dashboard,
        )
        .unwrap(),
    ];
    Setup {
        _dir: dir,
        stores,
        discord,
        slack,
        webhook,
        channels,
    }
}

impl Setup {
    /// One delivery round to every channel, `after_secs` after [`now`].
    async fn round(&self, after_secs: i64) -> AlertReport {
        deliver_pending(
            self.stores.deliveries.as_ref(),
            &self.channels,
            now() + Duration::seconds(after_secs),
        )
        .await
        .unwrap()
    }
}

fn section_texts(message: &Value) -> Vec<String> {
    message["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "section")
        .filter_map(|b| b["text"]["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn every_channel_hears_once_of_each_status_change_in_its_own_format() {
    let s = setup(vec![], vec![], vec![]).await;
    let open = open(&s.stores, "payments").await;

    let report = s.round(0).await;
    assert_eq!((report.sent, report.failed, report.deferred), (3, 0, 0));
    let again = s.round(0).await;
    assert_eq!(again.sent, 0, "nothing new to say");
    assert_eq!(s.discord.bodies().len(), 1);

    let slack = s.slack.bodies();
    assert_eq!(slack.len(), 1);
    let message = &slack[0];
    assert_eq!(message["blocks"][0]["type"], "header");
    assert_eq!(
        message["blocks"][0]["text"]["text"],
        "High burst in payments"
    );
    let fields: Vec<&str> = message["blocks"][1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "*Service*\npayments",
            "*Kind*\nburst",
            "*Severity*\nHigh",
            "*Observed vs expected*\n120.0 vs 3.5"
        ]
    );
    let sections = section_texts(message);
    assert!(sections[0].contains("120 errors"), "{sections:?}");
    assert!(
        sections[1].starts_with("```\n")
            && sections[1].contains("connection &lt;refused&gt; &amp; retried"),
        "{sections:?}"
    );
    let button = message["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .unwrap();
    assert_eq!(
        button["elements"][0]["url"],
        format!("{DASHBOARD}/#/anomalies/{}", open.id)
    );
    assert!(message["text"].as_str().unwrap().contains("payments"));

    let (headers, body) = s.webhook.received.lock().unwrap()[0].clone();
    assert_eq!(body["event"], "anomaly.opened");
    assert_eq!(body["anomaly"]["id"], open.id.as_str());
    assert_eq!(body["anomaly"]["service"], "payments");
    assert_eq!(body["anomaly"]["observed"], 120.0);
    assert_eq!(body["url"], format!("{DASHBOARD}/#/anomalies/{}", open.id));
    assert_eq!(headers["authorization"], HEADER_SECRET);
    assert_eq!(headers["x-anomalog-source"], "tests");
    assert_eq!(headers["content-type"], "application/json");

    let mut resolved = open.clone();
    resolved.status = AnomalyStatus::Resolved;
    s.stores.anomalies.upsert(&[resolved]).await.unwrap();
    let report = s.round(0).await;
    assert_eq!(report.sent, 3);
    assert_eq!(s.discord.bodies().len(), 2);
    let slack = s.slack.bodies();
    assert_eq!(slack.len(), 2);
    assert_eq!(
        slack[1]["blocks"][0]["text"]["text"],
        "Resolved: burst in payments"
    );
    let hooks = s.webhook.bodies();
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[1]["event"], "anomaly.resolved");
    assert_eq!(hooks[1]["anomaly"]["status"], "resolved");

    let attempts = s.stores.deliveries.attempts(&open.id).await.unwrap();
    for channel in [DISCORD_CHANNEL, SLACK_CHANNEL, WEBHOOK_CHANNEL] {
        let ok: Vec<_> = attempts
            .iter()
            .filter(|d| d.channel == channel && d.ok)
            .map(|d| d.status)
            .collect();
        assert_eq!(
            ok,
            [AnomalyStatus::Open, AnomalyStatus::Resolved],
            "{channel}"
        );
    }
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
async fn a_failing_channel_is_retried_after_its_backoff_while_the_others_deliver_at_once() {
    let s = setup(vec![], vec![], vec![500]).await;
    let open = open(&s.stores, "api").await;

    let report = s.round(0).await;
    assert_eq!((report.sent, report.failed), (2, 1));
    assert_eq!((s.discord.bodies().len(), s.slack.bodies().len()), (1, 1));
    let failed: Vec<_> = s
        .stores
        .deliveries
        .attempts(&open.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| !d.ok)
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].channel, WEBHOOK_CHANNEL);
    assert_eq!(failed[0].http_status, Some(500));

    // The first back-off is 5 s with equal jitter: between 2.5 and 5 s.
    let report = s.round(2).await;
    assert_eq!((report.sent, report.deferred), (0, 1));
    let report = s.round(5).await;
    assert_eq!(report.sent, 1);
    assert_eq!(s.webhook.bodies().len(), 2);
    assert_eq!((s.discord.bodies().len(), s.slack.bodies().len()), (1, 1));
    let retry = s
        .stores
        .deliveries
        .attempts(&open.id)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.channel == WEBHOOK_CHANNEL && d.ok)
        .unwrap();
    assert_eq!(retry.attempt, 2);
}

#[tokio::test]
async fn a_rate_limit_on_slack_defers_only_slack() {
    let s = setup(vec![], vec![429], vec![]).await;
    s.stores
        .anomalies
        .upsert(&[
            anomaly("a", AnomalyStatus::Open),
            anomaly("b", AnomalyStatus::Open),
        ])
        .await
        .unwrap();

    let report = s.round(0).await;
    assert_eq!((report.sent, report.failed, report.deferred), (4, 1, 1));
    assert_eq!(s.slack.bodies().len(), 1, "slack stopped after the 429");
    assert_eq!((s.discord.bodies().len(), s.webhook.bodies().len()), (2, 2));

    let report = s.round(20).await;
    assert_eq!((report.sent, report.deferred), (0, 2));
    let report = s.round(31).await;
    assert_eq!(report.sent, 2);
    assert_eq!(s.slack.bodies().len(), 3);
    let pending = s
        .stores
        .deliveries
        .pending(SLACK_CHANNEL, now() - Duration::hours(1), 10)
        .await
        .unwrap();
    assert!(pending.is_empty());
}

/// Collects everything logged while it is the default subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_logs_errors_or_delivery_records() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = setup(vec![500], vec![500], vec![500]).await;
    // A fourth channel whose server is gone: a connection error, not a status.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}/hooks/gone-secret", closed.local_addr().unwrap());
    drop(closed);
    let headers: BTreeMap<String, String> =
        [("Authorization".to_owned(), HEADER_SECRET.to_owned())].into();
    let unreachable = Channel::webhook(gone, &headers, None).unwrap();
    let open = open(&s.stores, "api").await;

    let report = s.round(0).await;
    assert_eq!(report.failed, 3);
    // After the webhook's back-off, under the same channel name.
    let later = now() + Duration::seconds(10);
    let report = deliver_pending(
        s.stores.deliveries.as_ref(),
        std::slice::from_ref(&unreachable),
        later,
    )
    .await
    .unwrap();
    assert_eq!(report.failed, 1);

    let attempts = s.stores.deliveries.attempts(&open.id).await.unwrap();
    assert_eq!(attempts.len(), 4);
    assert!(attempts.iter().all(|d| d.error.is_some()));
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("alert delivery failed"), "{logged}");
    let recorded = format!("{attempts:?}");
    let debug = format!("{:?} {unreachable:?}", s.channels);
    for text in [&logged, &recorded, &debug] {
        for secret in ["secret", HEADER_SECRET] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    let err = Channel::webhook(
        "http://127.0.0.1:1/".into(),
        &[("X-Token".to_owned(), "s3cret\n".to_owned())].into(),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("alert.webhook_headers.X-Token:"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}

#[tokio::test]
async fn each_channel_counts_its_own_deliveries() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    // Current-thread runtime: every await below stays under this recorder.
    let _guard = metrics::set_default_local_recorder(&recorder);
    let s = setup(vec![500], vec![], vec![429]).await;
    open(&s.stores, "api").await;
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
