//! Log patterns end to end through the real `anomalog up` (embedded store)
//! with a short warm-up from its configuration file and a local webhook
//! standing in for Discord: a never-seen ERROR message repeated 30 times is
//! exactly one `new_pattern` anomaly, explained by its template and examples,
//! and the Discord message names the template; then a burst of an existing
//! pattern is a burst whose explanation puts that pattern first.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use support::Server;

const NEW_TEMPLATE: &str = "disk quota exceeded on volume <*> for tenant <*>";
const RESET_TEMPLATE: &str = "db connection reset by peer after <*> ms";

/// A webhook on a free port that accepts every call and keeps its body.
async fn discord_receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let kept = bodies.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(body);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, bodies)
}

/// Every string in a JSON value, joined by newlines, with Markdown's
/// backslash escapes removed (Discord text escapes `*`).
fn text_of(value: &Value) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                out.push_str(&s.replace('\\', ""));
                out.push('\n');
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = String::new();
    walk(value, &mut out);
    out
}

fn event(ts: DateTime<Utc>, level: &str, message: String) -> Value {
    json!({"ts": ts.to_rfc3339(), "service": "billing", "level": level, "message": message})
}

/// Six minutes of normal traffic ending two minutes before `now`: logins,
/// invoices, and now and then a connection reset (ERROR).
fn warm_up(now: DateTime<Utc>) -> Vec<Value> {
    let start = now - chrono::Duration::minutes(8);
    let mut events = Vec::new();
    for i in 0..180i64 {
        let ts = start + chrono::Duration::seconds(2 * i);
        events.push(event(
            ts,
            "INFO",
            format!(
                "user {} logged in from 10.2.{}.{}",
                3000 + i,
                i % 5,
                i % 200
            ),
        ));
        if i % 3 == 0 {
            events.push(event(
                ts,
                "INFO",
                format!("invoice {} issued for {} EUR", 800 + i, 10 + i % 90),
            ));
        }
        if i % 15 == 0 {
            events.push(event(
                ts,
                "ERROR",
                format!("db connection reset by peer after {} ms", 100 + i),
            ));
        }
    }
    events
}

/// The never-seen ERROR message, 30 times, 2 s apart (15 per 30 s: no burst),
/// ending 40 s before `now`.
fn novelty(now: DateTime<Utc>) -> Vec<Value> {
    (0..30i64)
        .map(|i| {
            event(
                now - chrono::Duration::seconds(100 - 2 * i),
                "ERROR",
                format!(
                    "disk quota exceeded on volume vol-{} for tenant {}",
                    i % 4,
                    5000 + i
                ),
            )
        })
        .collect()
}

async fn anomalies(client: &reqwest::Client, server: &Server, kind: &str) -> Vec<Value> {
    let url = format!("{}/api/anomalies?service=billing&kind={kind}", server.base);
    let body: Value = client.get(url).send().await.unwrap().json().await.unwrap();
    body["items"].as_array().unwrap().clone()
}

/// Polls `probe` every 250 ms until it returns `Some`, for at most `limit`.
async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(started.elapsed() < limit, "no {what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn a_new_error_message_is_one_new_pattern_anomaly_and_a_burst_names_its_pattern() {
    let dir = tempfile::tempdir().unwrap();
    // The default warm-up is 15 minutes; the file shortens it to one.
    std::fs::write(
        dir.path().join("anomalog.toml"),
        "[detect.new_pattern]\nwarmup_minutes = 1\n",
    )
    .unwrap();
    let (hook, bodies) = discord_receiver().await;
    let server = Server::start_with(dir.path(), &[("DISCORD_WEBHOOK_URL", hook.as_str())]);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;

    let now = Utc::now();
    let mut events = warm_up(now);
    events.extend(novelty(now));
    server.post(&client, &events).await;

    let found = wait_for("new_pattern anomaly", Duration::from_secs(30), || async {
        let items = anomalies(&client, &server, "new_pattern").await;
        items.into_iter().find(|a| {
            a["explanation"]
                .as_array()
                .is_some_and(|e| e.iter().any(|c| c["template"] == NEW_TEMPLATE))
        })
    })
    .await;
    assert_eq!(found["service"], "billing");
    assert_eq!(found["observed"], 30.0, "all 30 lines counted: {found}");
    let change = found["explanation"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["template"] == NEW_TEMPLATE)
        .unwrap();
    assert_eq!(change["new"], true, "{found}");
    let samples = found["samples"].as_array().unwrap();
    assert!(
        !samples.is_empty()
            && samples.iter().all(|s| s["message"]
                .as_str()
                .unwrap()
                .starts_with("disk quota exceeded on volume vol-")),
        "its examples are the new lines: {found}"
    );

    let told = wait_for(
        "Discord message naming the template",
        Duration::from_secs(30),
        || async {
            let bodies = bodies.lock().unwrap();
            bodies
                .iter()
                .map(text_of)
                .find(|t| t.contains(NEW_TEMPLATE))
        },
    )
    .await;
    assert!(
        told.contains("disk quota exceeded on volume vol-"),
        "the message carries an example line too:\n{told}"
    );

    // A burst of the connection resets that were there all along.
    let now = Utc::now();
    let burst: Vec<Value> = (0..60i64)
        .map(|i| {
            event(
                now - chrono::Duration::milliseconds(12_000 - 200 * i),
                "ERROR",
                format!("db connection reset by peer after {} ms", 3000 + i),
            )
        })
        .collect();
    server.post(&client, &burst).await;
    let burst = wait_for(
        "burst explained by its pattern",
        Duration::from_secs(30),
        || async {
            anomalies(&client, &server, "burst")
                .await
                .into_iter()
                .find(|a| a["explanation"][0]["template"] == RESET_TEMPLATE)
        },
    )
    .await;
    let top = &burst["explanation"][0];
    assert_eq!(top["new"], false, "the pattern existed before: {burst}");
    assert!(
        top["during"].as_u64().unwrap() >= 25,
        "the burst's lines are counted in the window: {burst}"
    );
    assert!(
        top["before"].as_f64().unwrap() < top["during"].as_f64().unwrap(),
        "{burst}"
    );

    // Passes ran since: still one anomaly for the new pattern, not one per line.
    let new_patterns = anomalies(&client, &server, "new_pattern").await;
    assert_eq!(
        new_patterns.len(),
        1,
        "exactly one new_pattern anomaly: {new_patterns:#?}"
    );
    server.interrupt();
}
