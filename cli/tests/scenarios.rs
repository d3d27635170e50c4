//! Detection scenarios end to end: history posted with past timestamps so
//! baselines exist, then an incident, through the real `anomalog up` binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_anomalog"))
            .args(["up", "--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(data_dir)
            .env("ANOMALOG_DETECT_INTERVAL_SECS", "1")
            .env("RUST_LOG", "warn")
            .env_remove("ANOMALOG_API_KEYS")
            .env_remove("DISCORD_WEBHOOK_URL")
            .current_dir(data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn wait_ready(&self, client: &reqwest::Client) {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(r) = client.get(format!("{}/api/health", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not become healthy within 10 s");
    }

    async fn post(&self, client: &reqwest::Client, events: &[Value]) {
        for chunk in events.chunks(5_000) {
            let res = client
                .post(format!("{}/ingest", self.base))
                .json(&chunk)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 202);
        }
    }

    /// Polls the anomaly list until one of `kind` for `service` shows up.
    async fn anomaly(&self, client: &reqwest::Client, kind: &str, service: &str) -> Value {
        let url = format!("{}/api/anomalies?service={service}", self.base);
        let started = Instant::now();
        loop {
            let body: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
            if let Some(found) = body["items"]
                .as_array()
                .and_then(|items| items.iter().find(|a| a["kind"] == kind))
            {
                return found.clone();
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "no {kind} anomaly for {service} within 15 s: {body}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn kinds(&self, client: &reqwest::Client, service: &str) -> Vec<String> {
        let url = format!("{}/api/anomalies?service={service}", self.base);
        let body: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
    let detail: Value = client
        .get(format!(
            "{}/api/anomalies/{}",
            server.base,
            a["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let samples = detail["anomaly"]["samples"].as_array().unwrap();
    assert!(
        !samples.is_empty(),
        "the last lines before the silence: {detail}"
    );
    assert!(server.kinds(&client, "web").await.is_empty());
}
