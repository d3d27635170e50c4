//! End to end: the real `anomalog up` binary over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

    async fn wait_ready(&self, client: &reqwest::Client) -> Duration {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(r) = client.get(format!("{}/api/health", self.base)).send().await
                && r.status().is_success()
            {
                return started.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not become healthy within 10 s");
    }

    /// Sends SIGINT (Ctrl-C) and waits for a clean exit.
    fn interrupt(mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                assert!(exit.success(), "exit status {exit}");
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "no clean exit within 15 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// Polls `url` until `done` holds, for at most `limit`; returns the last body.
async fn poll(
    client: &reqwest::Client,
    url: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let body = get_json(client, url).await;
        if done(&body) {
            return body;
        }
        assert!(
            started.elapsed() < limit,
            "not within {limit:?}: {url} -> {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn items(body: &Value) -> usize {
    body["items"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_burst_posted_over_http_becomes_an_anomaly_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let server = Server::start(dir.path());
    let startup = server.wait_ready(&client).await;
    assert!(startup < Duration::from_secs(5), "started in {startup:?}");

    let now = chrono::Utc::now();
    let batch: Vec<Value> = (0..30)
        .map(|i| {
            json!({
                "ts": (now + chrono::Duration::milliseconds(i * 100)).to_rfc3339(),
                "service": "checkout",
                "level": "ERROR",
                "message": format!("payment provider timeout #{i}"),
            })
        })
        .chain([json!({"service": "checkout", "level": "info"})])
        .collect();
    let res = client
        .post(format!("{}/ingest", server.base))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let receipt: Value = res.json().await.unwrap();
    assert_eq!(receipt["accepted"], 30);
    assert_eq!(receipt["rejected"], 1);
    assert_eq!(receipt["errors"][0]["index"], 30);

    let logs_url = format!("{}/api/logs?service=checkout&limit=100", server.base);
    poll(&client, &logs_url, Duration::from_secs(5), |b| {
        items(b) == 30
    })
    .await;

    let anomalies_url = format!("{}/api/anomalies", server.base);
    let body = poll(&client, &anomalies_url, Duration::from_secs(10), |b| {
        b["items"].as_array().is_some_and(|a| {
            a.iter()
                .any(|x| x["kind"] == "burst" && x["service"] == "checkout")
        })
    })
    .await;
    let burst_id = body["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["items"][0]["status"], "open");

    let detail = get_json(
        &client,
        &format!("{}/api/anomalies/{burst_id}", server.base),
    )
    .await;
    assert!(!detail["anomaly"]["samples"].as_array().unwrap().is_empty());

    server.interrupt();

    let server = Server::start(dir.path());
    server.wait_ready(&client).await;
    let logs_url = format!("{}/api/logs?service=checkout&limit=100", server.base);
    let anomalies_url = format!("{}/api/anomalies", server.base);
    let logs = get_json(&client, &logs_url).await;
    assert_eq!(items(&logs), 30, "logs survive a restart");
    let anomalies = get_json(&client, &anomalies_url).await;
    assert_eq!(
        anomalies["items"][0]["id"],
        burst_id.as_str(),
        "the same anomaly, not a duplicate"
    );
    assert_eq!(items(&anomalies), 1);
    server.interrupt();
}

#[tokio::test]
async fn acknowledged_events_are_kept_when_interrupted_right_after() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let server = Server::start(dir.path());
    server.wait_ready(&client).await;

    let mut acknowledged = 0u64;
    for batch in 0..5 {
        let events: Vec<Value> = (0..200)
            .map(|i| json!({"service": "ledger", "level": "info", "message": format!("b{batch} e{i}")}))
            .collect();
        let res = client
            .post(format!("{}/ingest", server.base))
            .json(&events)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        acknowledged += res.json::<Value>().await.unwrap()["accepted"]
            .as_u64()
            .unwrap();
    }
    server.interrupt();

    let server = Server::start(dir.path());
    server.wait_ready(&client).await;
    let url = format!(
        "{}/api/stats/breakdown?from=now-1h&service=ledger",
        server.base
    );
    let body = poll(&client, &url, Duration::from_secs(5), |b| {
        b["total"].as_u64() == Some(acknowledged)
    })
    .await;
    assert_eq!(body["total"].as_u64(), Some(1000));
    server.interrupt();
}

#[tokio::test]
async fn invalid_configuration_fails_at_start_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("anomalog.toml"),
        "[detect.burst]\nmin_errors = 0\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anomalog"))
        .args(["up", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("detect.burst.min_errors"), "{stderr}");
}
