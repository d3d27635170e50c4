//! Detection scenarios end to end: history posted with past timestamps so
//! baselines exist, then an incident, through the real `anomalog up` binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use support::Server;

/// `per_minute` events a minute for `service` over `[from, to)`, evenly
/// spaced; every `error_every`-th is an ERROR.
fn traffic(
    service: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    per_minute: i64,
    error_every: i64,
) -> Vec<Value> {
    let step = chrono::Duration::milliseconds(60_000 / per_minute);
    let mut events = Vec::new();
    let mut at = from;
    let mut i = 0;
    while at < to {
        let error = i % error_every == error_every - 1;
        events.push(json!({
            "ts": at.to_rfc3339(),
            "service": service,
            "level": if error { "error" } else { "info" },
            "message": if error { format!("upstream timeout #{i}") } else { format!("request {i} ok") },
        }));
        at += step;
        i += 1;
    }
    events
}

fn minutes(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

#[tokio::test]
async fn an_error_burst_after_quiet_history_is_one_burst_anomaly() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let server = Server::start(dir.path());
    server.wait_ready(&client).await;
    let now = Utc::now();
    server
        .post(
            &client,
            &traffic(
                "billing",
                now - minutes(30),
                now - chrono::Duration::seconds(10),
                60,
                100,
            ),
        )
        .await;
    let burst: Vec<Value> = (0..40)
        .map(|i| {
            json!({
                "ts": (now - chrono::Duration::seconds(10) + chrono::Duration::milliseconds(i * 200)).to_rfc3339(),
                "service": "billing",
                "level": "error",
                "message": format!("db connection refused #{i}"),
            })
        })
        .collect();
    server.post(&client, &burst).await;

    let a = server.anomaly(&client, "burst", "billing").await;
    assert_eq!(a["status"], "open");
    assert_eq!(a["observed"], 40.0);
    assert_eq!(a["severity"], "low");
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .starts_with("40 errors within 30 s"),
        "{a}"
    );
    assert!(
        !server
            .kinds(&client, "billing")
            .await
            .contains(&"drop".to_owned())
    );
}

#[tokio::test]
async fn an_error_ratio_jump_against_a_history_is_a_spike() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let server = Server::start(dir.path());
    server.wait_ready(&client).await;
    let now = Utc::now();
    // 30 minutes at 1% errors, then the last minute at 25% (too few errors
    // for a burst: 25 spread over a minute).
    let mut events = traffic("checkout", now - minutes(31), now - minutes(1), 100, 100);
    events.extend(traffic("checkout", now - minutes(1), now, 100, 4));
    server.post(&client, &events).await;

    let a = server.anomaly(&client, "spike", "checkout").await;
    let message = a["message"].as_str().unwrap();
    assert!(
        message.starts_with("error ratio") || message.contains("errors in 60 s, expected 1.0"),
        "{a}"
    );
    assert!(a["score"].as_f64().unwrap() >= 0.5);
    assert!(
        (a["expected"].as_f64().unwrap() - 0.01).abs() < 0.005 || a["expected"] == 1.0,
        "{a}"
    );
    let kinds = server.kinds(&client, "checkout").await;
    assert!(!kinds.contains(&"burst".to_owned()), "{kinds:?}");
    assert!(!kinds.contains(&"drop".to_owned()), "{kinds:?}");
}

#[tokio::test]
async fn a_service_that_stops_logging_while_others_go_on_is_a_drop() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let server = Server::start(dir.path());
    server.wait_ready(&client).await;
    let now = Utc::now();
    // search stopped 90 s ago; web goes on, showing that data still arrives.
    let mut events = traffic(
        "search",
        now - minutes(31),
        now - chrono::Duration::seconds(90),
        100,
        1000,
    );
    events.extend(traffic("web", now - minutes(31), now, 60, 1000));
    server.post(&client, &events).await;

    let a = server.anomaly(&client, "drop", "search").await;
    assert_eq!(a["status"], "open");
    assert_eq!(a["observed"], 0.0);
    assert_eq!(a["expected"], 100.0);
    assert_eq!(a["severity"], "high");
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .starts_with("silent: 0 events in 60 s"),
        "{a}"
    );
    let detail = server
        .get_json(
            &client,
            &format!("/api/anomalies/{}", a["id"].as_str().unwrap()),
        )
        .await;
    let samples = detail["anomaly"]["samples"].as_array().unwrap();
    assert!(
        !samples.is_empty(),
        "the last lines before the silence: {detail}"
    );
    // web goes on: no drop, burst or spike. Its only error line (#999, 16.6
    // minutes in, past the 15-minute pattern warm-up) is a never-seen ERROR
    // pattern, which is news of its own kind.
    let web = server.kinds(&client, "web").await;
    assert!(web.iter().all(|k| k == "new_pattern"), "{web:?}");
}
