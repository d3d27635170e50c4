//! The real anomalog (ingest and API routers, detect passes) on embedded storage,
//! in the test process, on a port that survives a stop and restart of its HTTP
//! side; and the real `anomalog-agent` binary.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anomalog_core::Config;
use anomalog_store::{LogQuery, Stores};
use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Anomalog {
    pub base: String,
    addr: SocketAddr,
    stores: Stores,
    config: Config,
    http: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    detect: JoinHandle<()>,
}

impl Anomalog {
    /// Starts on embedded storage in `dir`, a detect pass every 200 ms.
    pub async fn start(dir: &Path) -> Anomalog {
        Anomalog::start_with(dir, Config::default()).await
    }

    /// Like [`Anomalog::start`], with `config` (its data dir is set to `dir`).
    pub async fn start_with(dir: &Path, mut config: Config) -> Anomalog {
        config.storage.data_dir = dir.display().to_string();
        let stores = anomalog_store::connect(&config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let detect = {
            let stores = stores.clone();
            let cfg = config.detect.clone();
            tokio::spawn(async move {
                loop {
                    let _ =
                        anomalog_detect::run_pass(&stores, &cfg, "test", chrono::Utc::now()).await;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            })
        };
        let mut server = Anomalog {
            base: format!("http://{addr}"),
            addr,
            stores,
            config,
            http: None,
            detect,
        };
        server.serve(listener);
        server
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .merge(anomalog_ingest::router(anomalog_ingest::IngestState::new(
                self.stores.queue.clone(),
                self.config.ingest.clone(),
            )))
            .merge(anomalog_api::router(anomalog_api::ApiState::new(
                self.stores.clone(),
            )))
            .into_make_service_with_connect_info::<SocketAddr>();
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.wait_for(|s| *s).await;
                })
                .await;
        });
        self.http = Some((stop_tx, task));
    }

    /// Stops answering: the port refuses connections until [`Anomalog::resume`].
    pub async fn stop_http(&mut self) {
        if let Some((stop, task)) = self.http.take() {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    /// Answers again on the same port.
    pub async fn resume(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }

    /// Every stored message of `service`, oldest first.
    pub async fn messages(&self, service: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .stores
                .logs
                .query(&LogQuery {
                    service: Some(service.to_owned()),
                    limit: 1000,
                    cursor,
                    ..LogQuery::default()
                })
                .await
                .unwrap();
            out.extend(page.items.into_iter().map(|l| l.event.message));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        out.reverse();
        out
    }

    /// Waits until `service` has `count` stored messages (or `within` passes),
    /// then a little more so late duplicates show; returns the messages.
    pub async fn wait_for(&self, service: &str, count: usize, within: Duration) -> Vec<String> {
        let started = Instant::now();
        loop {
            let got = self.messages(service).await;
            if got.len() >= count || started.elapsed() > within {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        tokio::time::sleep(Duration::from_millis(1200)).await;
        self.messages(service).await
    }
}

impl Drop for Anomalog {
    fn drop(&mut self) {
        self.detect.abort();
        if let Some((stop, task)) = self.http.take() {
            let _ = stop.send(true);
            task.abort();
        }
    }
}

/// The real agent binary, run with a config file.
pub struct Agent {
    child: Child,
    pub config: PathBuf,
}

impl Agent {
    pub fn start(config: &Path) -> Agent {
        let child = Command::new(env!("CARGO_BIN_EXE_anomalog-agent"))
            .arg("run")
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "warn")
            .env("ANOMALOG_LOG_FORMAT", "text")
            .env_remove("ANOMALOG_API_KEY")
            .env_remove("ANOMALOG_AGENT_DATA_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        Agent {
            child,
            config: config.to_owned(),
        }
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "agent exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("agent did not stop within 15 s of SIGTERM");
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes an agent config following `paths` into `dir/agent.toml`.
pub fn agent_config(dir: &Path, url: &str, service: &str, paths: &[&Path], extra: &str) -> PathBuf {
    let paths: Vec<String> = paths
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    let text = format!(
        "[output]\nurl = {url:?}\nbatch_max_wait_ms = 100\nbatch_max_events = 500\n\n[state]\ndata_dir = {:?}\n\n[[sources]]\npaths = [{}]\nservice = {service:?}\npoll_interval_ms = 25\nrotate_wait_ms = 2000\nmultiline = false\n{extra}\n",
        dir.join("agent-state").display().to_string(),
        paths.join(", ")
    );
    let path = dir.join("agent.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The line numbered `i`: a fixed width, so a cut line cannot pass for another.
pub fn numbered(i: usize) -> String {
    format!("line {i:07} the quick brown fox jumps over the lazy dog {i:07} end")
}

/// Asserts `messages` are exactly `numbered(0..n)`, each once and whole.
pub fn assert_exactly_once(messages: &[String], n: usize) {
    let mut seen = vec![0u32; n];
    let mut bad = Vec::new();
    for m in messages {
        let parsed = m
            .strip_prefix("line ")
            .and_then(|r| r.get(..7))
            .and_then(|d| d.parse::<usize>().ok());
        match parsed {
            Some(i) if i < n && *m == numbered(i) => seen[i] += 1,
            _ => bad.push(m.clone()),
        }
    }
    let lost: Vec<usize> = (0..n).filter(|&i| seen[i] == 0).collect();
    let duplicated: Vec<usize> = (0..n).filter(|&i| seen[i] > 1).collect();
    assert!(
        lost.is_empty() && duplicated.is_empty() && bad.is_empty(),
        "{} lost (first {:?}), {} duplicated (first {:?}), {} partial or foreign (first {:?}) of {n}",
        lost.len(),
        lost.iter().take(5).collect::<Vec<_>>(),
        duplicated.len(),
        duplicated.iter().take(5).collect::<Vec<_>>(),
        bad.len(),
        bad.iter().take(3).collect::<Vec<_>>()
    );
}

/// Kills a child process when dropped (a failing test leaves nothing running).
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
