//! Shared helpers of the end-to-end tests: the real `anomalog up` binary on a
//! free port.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A real redis-server and a database of its own on the MongoDB-compatible
/// server, for `anomalog` on external backends.
pub struct Backends {
    pub redis: anomalog_testkit::RedisServer,
    pub mongo: anomalog_testkit::MongoTarget,
    redis_url: String,
}

impl Backends {
    pub fn start() -> Backends {
        let redis = anomalog_testkit::RedisServer::start();
        Backends {
            redis_url: redis.url(),
            redis,
            mongo: anomalog_testkit::mongo_target(),
        }
    }

    pub fn redis_url(&self) -> &str {
        &self.redis_url
    }

    /// `REDIS_URL`, `MONGODB_URI` and `ANOMALOG_MONGODB_DATABASE` naming them.
    pub fn env(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("REDIS_URL", self.redis_url.as_str()),
            ("MONGODB_URI", self.mongo.uri.as_str()),
            ("ANOMALOG_MONGODB_DATABASE", self.mongo.database.as_str()),
        ]
    }
}

/// The JSON body of `GET url`.
pub async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// `anomalog up` on embedded storage in `data_dir`.
    pub fn start(data_dir: &Path) -> Server {
        Server::start_with(data_dir, &[])
    }

    /// `anomalog up` with extra environment variables (backend URLs, say).
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Server {
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
            .env_remove("REDIS_URL")
            .env_remove("MONGODB_URI")
            .envs(env.iter().copied())
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

    /// Waits until `/api/health` answers; returns how long that took.
    pub async fn wait_ready(&self, client: &reqwest::Client) -> Duration {
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

    /// The JSON body of `GET {base}{path}`.
    pub async fn get_json(&self, client: &reqwest::Client, path: &str) -> Value {
        get_json(client, &format!("{}{path}", self.base)).await
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
            let body = get_json(client, &url).await;
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
        let body = get_json(client, &url).await;
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_owned())
            .collect()
    }
}

impl Server {
    /// Sends SIGINT (Ctrl-C) and waits for a clean exit.
    pub fn interrupt(mut self) {
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
