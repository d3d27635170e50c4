//! One alert per incident, to Discord, Slack and a generic webhook at once,
//! against real local HTTP servers standing in for each service, on the
//! embedded store and on MongoDB (what the alert Lambda connects).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Duration;

use anomalog_alert::{AlertPorts, AlertReport, Channel, deliver_incidents};
use anomalog_core::{AnomalyKind, AnomalyStatus, Severity};
use anomalog_store::{EmbeddedStore, MongoConfig, MongoStore, Stores};
use common::{Endpoint, Received, anomaly_at, detect, naming, now};

const DASHBOARD: &str = "http://dash.local";
const UPDATE_INTERVAL: Duration = Duration::minutes(5);

struct Receivers {
    discord: Endpoint,
    slack: Endpoint,
    webhook: Endpoint,
    urls: [String; 3],
    channels: Vec<Channel>,
}

async fn receivers() -> Receivers {
    let (discord, slack, webhook) = (
        Endpoint::default(),
        Endpoint::default(),
        Endpoint::default(),
    );
    let urls = [
        discord.start("/api/webhooks/1/discord-secret").await,
        slack.start("/services/T0/B0/slack-secret").await,
        webhook.start("/hooks/webhook-secret").await,
    ];
    let channels = channels(&urls);
    Receivers {
        discord,
        slack,
        webhook,
        urls,
        channels,
    }
}

/// Channels posting to `urls` (Discord, Slack, webhook), as a worker builds
/// them: a new set is another worker (a restart, a second process).
fn channels(urls: &[String; 3]) -> Vec<Channel> {
    let headers: BTreeMap<String, String> =
        [("Authorization".to_owned(), "Bearer hook-secret".to_owned())].into();
    let dashboard = Some(DASHBOARD.to_owned());
    vec![
        Channel::discord(urls[0].clone(), dashboard.clone()).unwrap(),
        Channel::slack(urls[1].clone(), dashboard.clone()).unwrap(),
        Channel::webhook(urls[2].clone(), &headers, dashboard).unwrap(),
    ]
}

async fn round(ports: &AlertPorts, channels: &[Channel], after_secs: i64) -> AlertReport {
    deliver_incidents(
        ports,
        channels,
        UPDATE_INTERVAL,
        now() + Duration::seconds(after_secs),
    )
    .await
    .unwrap()
}

fn embedded() -> (tempfile::TempDir, AlertPorts) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    (dir, AlertPorts::from(&stores))
}

async fn mongo() -> AlertPorts {
    let target = anomalog_testkit::mongo_target();
    let config = MongoConfig {
        database: target.database,
        ..MongoConfig::default()
    };
    AlertPorts::from(Arc::new(
        MongoStore::connect(&target.uri, &config).await.unwrap(),
    ))
}

fn methods(requests: &[Received]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.method,
                r.uri.split_once("-secret").map_or("", |(_, rest)| rest)
            )
        })
        .collect()
}

fn events(requests: &[Received]) -> Vec<(String, String)> {
    requests
        .iter()
        .map(|r| {
            (
                r.body["event"].as_str().unwrap().to_owned(),
                r.body["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn discord_title(r: &Received) -> String {
    r.body["embeds"][0]["title"].as_str().unwrap().to_owned()
}

/// The whole life of the demo's cascade: payments bursts, checkout joins
/// (its lines name payments), checkout turns critical, everything resolves.
async fn an_incident_is_told_once_per_change(ports: AlertPorts) {
    let r = receivers().await;
    let payments = anomaly_at(AnomalyKind::Burst, "payments", -40, AnomalyStatus::Open);
    let incidents = detect(&ports, std::slice::from_ref(&payments)).await;
    assert_eq!(incidents.len(), 1);
    let id = incidents[0].id.clone();

    // Opened: one message per channel, and nothing more on the next round.
    assert_eq!(round(&ports, &r.channels, 0).await.sent, 3);
    assert_eq!(round(&ports, &r.channels, 1).await, AlertReport::default());
    let discord = r.discord.requests();
    assert_eq!(methods(&discord), ["POST ?wait=true"]);
    assert_eq!(discord_title(&discord[0]), "High incident in payments");
    assert_eq!(
        discord[0].body["embeds"][0]["url"],
        format!("{DASHBOARD}/#/incidents/{id}")
    );
    assert_eq!(
        r.slack.bodies()[0]["blocks"][0]["text"]["text"],
        "High incident in payments"
    );
    let hook = r.webhook.requests();
    assert_eq!(events(&hook), [("incident.opened".into(), "opened".into())]);
    let key = format!("{id}:webhook:opened:1:high");
    assert_eq!(hook[0].headers["idempotency-key"], key.as_str());
    assert_eq!(hook[0].body["dedupe_key"], key.as_str());
    assert_eq!(hook[0].body["incident"]["root"]["service"], "payments");

    // Checkout joins: Discord edits its message, the webhook hears of it,
    // Slack waits for its interval.
    let spike = naming(
        anomaly_at(AnomalyKind::Spike, "checkout", 10, AnomalyStatus::Open),
        "payments",
    );
    let burst = naming(
        anomaly_at(AnomalyKind::Burst, "checkout", 15, AnomalyStatus::Open),
        "payments",
    );
    let incidents = detect(&ports, &[spike.clone(), burst.clone()]).await;
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0].id, id);
    assert_eq!(round(&ports, &r.channels, 20).await.sent, 2);
    let discord = r.discord.requests();
    assert_eq!(
        methods(&discord),
        ["POST ?wait=true", "PATCH /messages/1001"]
    );
    let fields = discord[1].body["embeds"][0]["fields"].to_string();
    assert!(
        fields.contains("+2 more: checkout spike, checkout burst"),
        "{fields}"
    );
    assert_eq!(r.slack.requests().len(), 1, "Slack cannot edit: it waits");
    assert_eq!(
        events(&r.webhook.requests())[1],
        ("incident.updated".into(), "grew".into())
    );
    assert_eq!(r.webhook.bodies()[1]["new_anomalies"], 2);
    // Five minutes after its last message, Slack gets one short follow-up.
    assert_eq!(round(&ports, &r.channels, 301).await.sent, 1);
    let followup = r.slack.bodies()[1]["text"].as_str().unwrap().to_owned();
    assert!(
        followup.contains("+2 more since the last message: checkout spike, checkout burst"),
        "{followup}"
    );

    // Checkout turns critical once the incident has settled (an interval
    // after each channel's last message): every channel is told again, in a
    // new message.
    let mut critical = burst.clone();
    critical.severity = Severity::Critical;
    detect(&ports, std::slice::from_ref(&critical)).await;
    assert_eq!(round(&ports, &r.channels, 610).await.sent, 3);
    let discord = r.discord.requests();
    assert_eq!(methods(&discord)[2], "POST ?wait=true");
    assert_eq!(
        discord_title(&discord[2]),
        "Escalated to Critical: incident in payments"
    );
    assert_eq!(
        events(&r.webhook.requests())[2],
        ("incident.updated".into(), "escalated".into())
    );

    // Everything resolves: one resolution per channel; Discord also marks
    // the latest message resolved.
    let resolved: Vec<_> = [payments, spike, critical]
        .into_iter()
        .map(|mut a| {
            a.status = AnomalyStatus::Resolved;
            a
        })
        .collect();
    detect(&ports, &resolved).await;
    assert_eq!(round(&ports, &r.channels, 700).await.sent, 3);
    assert_eq!(
        round(&ports, &r.channels, 701).await,
        AlertReport::default()
    );
    let discord = r.discord.requests();
    assert_eq!(
        methods(&discord)[3..],
        ["PATCH /messages/1003", "POST ?wait=true"]
    );
    assert_eq!(discord_title(&discord[4]), "Resolved: incident in payments");
    assert_eq!(discord_title(&discord[3]), "Resolved: incident in payments");
    assert_eq!(r.slack.requests().len(), 4);
    assert_eq!(
        r.slack.bodies()[3]["blocks"][0]["text"]["text"],
        "Resolved: incident in payments"
    );
    assert_eq!(
        events(&r.webhook.requests())[3],
        ("incident.resolved".into(), "resolved".into())
    );

    // Another worker (a restart) sends nothing already told.
    let restarted = channels(&r.urls);
    assert_eq!(round(&ports, &restarted, 702).await, AlertReport::default());

    // One delivery record per attempt, under the incident's id.
    let attempts = ports.deliveries.attempts(&id).await.unwrap();
    assert_eq!(
        attempts.iter().filter(|d| d.channel == "discord").count(),
        4
    );
    assert!(attempts.iter().all(|d| d.ok));
}

#[tokio::test]
async fn an_incident_is_told_once_per_change_on_the_embedded_store() {
    let (_dir, ports) = embedded();
    an_incident_is_told_once_per_change(ports).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_incident_is_told_once_per_change_on_mongodb() {
    an_incident_is_told_once_per_change(mongo().await).await;
}

/// Two workers on one store in the same round: each message goes out once.
async fn two_workers_never_send_twice(ports: AlertPorts) {
    let r = receivers().await;
    let second = channels(&r.urls);
    common::open(&ports, "payments").await;
    let (a, b) = tokio::join!(round(&ports, &r.channels, 0), round(&ports, &second, 0));
    assert_eq!(a.sent + b.sent, 3, "{a:?} {b:?}");
    assert_eq!(r.discord.requests().len(), 1);
    assert_eq!(r.slack.requests().len(), 1);
    assert_eq!(r.webhook.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_never_send_twice_on_the_embedded_store() {
    let (_dir, ports) = embedded();
    two_workers_never_send_twice(ports).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_never_send_twice_on_mongodb() {
    two_workers_never_send_twice(mongo().await).await;
}

#[tokio::test]
async fn a_failed_message_is_retried_after_its_backoff_and_a_rate_limit_waits_for_retry_after() {
    let (_dir, ports) = embedded();
    let discord = Endpoint::replying(vec![500]);
    let slack = Endpoint::replying(vec![429]);
    let channels = vec![
        Channel::discord(discord.start("/api/webhooks/1/d-secret").await, None).unwrap(),
        Channel::slack(slack.start("/services/s-secret").await, None).unwrap(),
    ];
    common::open(&ports, "payments").await;

    let first = round(&ports, &channels, 0).await;
    assert_eq!((first.sent, first.failed), (0, 2));
    // Within the back-off (at most 5 s after one failure) and Slack's
    // Retry-After (30 s): nothing is sent.
    let early = round(&ports, &channels, 1).await;
    assert_eq!((early.sent, early.deferred), (0, 2));
    let later = round(&ports, &channels, 6).await;
    assert_eq!(
        (later.sent, later.deferred),
        (1, 1),
        "Discord after its back-off"
    );
    let last = round(&ports, &channels, 31).await;
    assert_eq!(last.sent, 1, "Slack after Retry-After");
    assert_eq!(discord.requests().len(), 2);
    assert_eq!(slack.requests().len(), 2);
    // The retried message is the opening one, not an update.
    assert_eq!(
        discord_title(&discord.requests()[1]),
        "High incident in payments"
    );
    assert_eq!(methods(&discord.requests())[1], "POST ?wait=true");
}

#[tokio::test]
async fn when_the_discord_message_is_gone_growth_is_posted_after_the_interval() {
    let (_dir, ports) = embedded();
    // The opening post succeeds, the edit finds the message deleted.
    let discord = Endpoint::replying(vec![200, 404]);
    let channels =
        vec![Channel::discord(discord.start("/api/webhooks/1/d-secret").await, None).unwrap()];
    let payments = anomaly_at(AnomalyKind::Burst, "payments", -40, AnomalyStatus::Open);
    detect(&ports, std::slice::from_ref(&payments)).await;
    assert_eq!(round(&ports, &channels, 0).await.sent, 1);
    let checkout = naming(
        anomaly_at(AnomalyKind::Spike, "checkout", 10, AnomalyStatus::Open),
        "payments",
    );
    detect(&ports, std::slice::from_ref(&checkout)).await;

    assert_eq!(round(&ports, &channels, 20).await.failed, 1);
    assert_eq!(round(&ports, &channels, 60).await, AlertReport::default());
    assert_eq!(round(&ports, &channels, 301).await.sent, 1);
    assert_eq!(
        methods(&discord.requests()),
        ["POST ?wait=true", "PATCH /messages/1001", "POST ?wait=true"]
    );
    let fields = discord.bodies()[2]["embeds"][0]["fields"].to_string();
    assert!(fields.contains("+1 more: checkout spike"), "{fields}");
}
