//! One incident, one alert, end to end through the real `anomalog up` (on
//! the embedded store, and on Redis + MongoDB) with its Discord webhook
//! pointing at a local receiver:
//! payments bursts, then checkout fails while it does (its lines name
//! payments), then both go quiet.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{Method, Uri};
use axum::routing::any;
use chrono::Utc;
use serde_json::{Value, json};

use support::{Backends, Server};

/// What the Discord stand-in received: method, path and query, body.
type Seen = Arc<Mutex<Vec<(Method, String, Value)>>>;

/// Answers like Discord: a post with `wait=true` gets the message and its id.
async fn discord(
    State(seen): State<Seen>,
    method: Method,
    uri: Uri,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut seen = seen.lock().unwrap();
    // An edit answers with the edited message.
    let id = match uri.path().rsplit_once("/messages/") {
        Some((_, id)) => id.to_owned(),
        None => format!("{}", 900 + seen.len() + 1),
    };
    seen.push((method, uri.to_string(), body));
    Json(json!({ "id": id }))
}

async fn start_discord(seen: Seen) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/api/webhooks/7/tok", any(discord))
        .route("/api/webhooks/7/tok/messages/{id}", any(discord))
        .with_state(seen);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/api/webhooks/7/tok")
}

/// `count` ERROR lines of `service` over the last few seconds.
fn errors(service: &str, count: usize, message: &str) -> Vec<Value> {
    let now = Utc::now();
    (0..count)
        .map(|i| {
            let at = now - chrono::Duration::milliseconds(100 * (count - i) as i64);
            json!({
                "ts": at.to_rfc3339(),
                "service": service,
                "level": "error",
                "message": format!("{message} (request {i})"),
            })
        })
        .collect()
}

/// Polls `check` over the received requests until it holds (30 s at most).
async fn wait_for(seen: &Seen, what: &str, check: impl Fn(&[(Method, String, Value)]) -> bool) {
    let started = Instant::now();
    loop {
        if check(&seen.lock().unwrap()) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} within 60 s; received: {:#?}",
            seen.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn title(body: &Value) -> String {
    body["embeds"][0]["title"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cascade_is_one_incident_with_one_opening_alert_and_one_resolution() {
    cascade(&[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cascade_is_one_incident_with_one_opening_alert_on_redis_and_mongodb() {
    let backends = Backends::start();
    cascade(&backends.env()).await;
}

/// The cascade through `anomalog up` on the storage `backends` name
/// (embedded when empty).
async fn cascade(backends: &[(&str, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    // Bursts resolve after 10 quiet seconds, so the test sees the resolution.
    std::fs::write(
        dir.path().join("anomalog.toml"),
        "[detect.burst]\nquiet_secs = 10\n\n[detect.incidents]\njoin_window_secs = 120\n",
    )
    .unwrap();
    let seen = Seen::default();
    let webhook = start_discord(seen.clone()).await;
    let mut env = vec![
        ("DISCORD_WEBHOOK_URL", webhook.as_str()),
        ("ANOMALOG_DASHBOARD_URL", "http://dash.local"),
    ];
    env.extend_from_slice(backends);
    let server = Server::start_with(dir.path(), &env);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;

    // Payments' database fails: a burst, and its incident's opening message.
    server
        .post(
            &client,
            &errors("payments", 40, "db connection pool exhausted"),
        )
        .await;
    wait_for(&seen, "the opening message", |s| !s.is_empty()).await;
    // Checkout fails while it does, naming payments: it joins the incident.
    server
        .post(&client, &errors("checkout", 40, "payments returned 503"))
        .await;
    wait_for(&seen, "the resolution", |s| {
        s.iter()
            .any(|(m, _, b)| m == Method::POST && title(b).starts_with("Resolved"))
    })
    .await;

    let incidents = server.get_json(&client, "/api/incidents").await;
    let items = incidents["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one incident: {incidents:#}");
    let incident = &items[0];
    assert_eq!(incident["root"]["service"], "payments", "{incident:#}");
    let services: Vec<&str> = incident["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(services, ["checkout", "payments"]);
    let members: Vec<&str> = incident["anomaly_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(members.len(), 2, "{members:?}");
    let detail = server
        .get_json(
            &client,
            &format!("/api/incidents/{}", incident["id"].as_str().unwrap()),
        )
        .await;
    let mut anomalies: Vec<String> = detail["anomalies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["service"].as_str().unwrap(),
                a["kind"].as_str().unwrap()
            )
        })
        .collect();
    // Both may start in the same 10 s bucket: their order is not the point.
    anomalies.sort();
    assert_eq!(
        anomalies,
        ["checkout burst", "payments burst"],
        "{detail:#}"
    );
    assert_eq!(incident["status"], "resolved");

    let seen = seen.lock().unwrap().clone();
    let posts: Vec<&(Method, String, Value)> =
        seen.iter().filter(|(m, _, _)| m == Method::POST).collect();
    let opened: Vec<_> = posts
        .iter()
        .filter(|(_, _, b)| {
            title(b).ends_with(" incident in payments") && !title(b).starts_with("Resolved")
        })
        .collect();
    assert_eq!(opened.len(), 1, "exactly one opening message: {seen:#?}");
    let resolved: Vec<_> = posts
        .iter()
        .filter(|(_, _, b)| title(b).starts_with("Resolved"))
        .collect();
    assert_eq!(resolved.len(), 1, "exactly one resolution: {seen:#?}");
    assert_eq!(posts.len(), 2, "nothing else was posted: {seen:#?}");
    assert!(opened[0].1.contains("wait=true"), "{}", opened[0].1);
    let id = incident["id"].as_str().unwrap();
    assert_eq!(
        opened[0].2["embeds"][0]["url"],
        format!("http://dash.local/#/incidents/{id}")
    );
    // Checkout joining was an edit of the opening message, not a new one.
    let edits: Vec<_> = seen.iter().filter(|(m, _, _)| m == Method::PATCH).collect();
    assert!(!edits.is_empty(), "{seen:#?}");
    assert!(
        edits
            .iter()
            .all(|(_, uri, _)| uri.ends_with("/messages/901")),
        "{edits:#?}"
    );
    assert!(
        edits
            .iter()
            .any(|(_, _, b)| b.to_string().contains("+1 more: checkout burst")),
        "{edits:#?}"
    );
    server.interrupt();
}
