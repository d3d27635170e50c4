//! Shared helpers of the end-to-end tests: the real `anomalog up` binary on a
//! free port.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub fn start(data_dir: &Path) -> Server {
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

    pub async fn wait_ready(&self, client: &reqwest::Client) {
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

    pub async fn post(&self, client: &reqwest::Client, events: &[Value]) {
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
    pub async fn anomaly(&self, client: &reqwest::Client, kind: &str, service: &str) -> Value {
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

    pub async fn kinds(&self, client: &reqwest::Client, service: &str) -> Vec<String> {
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
