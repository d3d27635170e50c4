//! What the server says it holds: the queue backlog (`/api/health`), the
//! events stored (`/api/stats/breakdown` totals, which count what persist
//! wrote), and query latencies of the read API.

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::BenchError;
use crate::stats::{Latencies, Summary};

/// A read client of one server (`http://127.0.0.1:PORT`, loopback only).
#[derive(Clone)]
pub struct Api {
    base: String,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct Health {
    queue_backlog: u64,
}

#[derive(Deserialize)]
struct AnomalyList {
    items: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Breakdown {
    total: u64,
}

/// Queue and store at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Queue entries appended but not yet acknowledged by detect.
    pub backlog: u64,
    /// Events stored (rollup totals over the last 30 days).
    pub stored: u64,
}

impl Api {
    pub fn new(base: &str) -> Result<Api, BenchError> {
        crate::load::check_loopback(base)?;
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| BenchError::Http(e.to_string()))?;
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            client,
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, BenchError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| BenchError::Http(format!("GET {path}: {e}")))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| BenchError::Http(format!("GET {path}: {e}")))?;
        if !status.is_success() {
            return Err(BenchError::Http(format!(
                "GET {path}: {status}: {}",
                String::from_utf8_lossy(&body)
            )));
        }
        serde_json::from_slice(&body).map_err(|e| BenchError::Http(format!("GET {path}: {e}")))
    }

    /// The backlog and the stored total now.
    pub async fn counts(&self) -> Result<Counts, BenchError> {
        let health: Health = self.get_json("/api/health").await?;
        let breakdown: Breakdown = self
            .get_json("/api/stats/breakdown?from=now-30d&limit=1")
            .await?;
        Ok(Counts {
            backlog: health.queue_backlog,
            stored: breakdown.total,
        })
    }

    /// Polls until the backlog is empty and `stored >= expect`, or until
    /// `deadline` passes; returns the last counts and the time waited.
    pub async fn wait_drained(
        &self,
        expect: u64,
        deadline: Duration,
    ) -> Result<(Counts, Duration), BenchError> {
        let start = Instant::now();
        loop {
            let counts = self.counts().await?;
            if (counts.backlog == 0 && counts.stored >= expect) || start.elapsed() >= deadline {
                return Ok((counts, start.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Whether `/api/anomalies` lists an anomaly of `kind` for `service`
    /// (a name of letters, digits and `-`) in the last hour.
    pub async fn has_anomaly(&self, service: &str, kind: &str) -> Result<bool, BenchError> {
        let list: AnomalyList = self
            .get_json(&format!(
                "/api/anomalies?service={service}&kind={kind}&since=now-1h&limit=1"
            ))
            .await?;
        Ok(!list.items.is_empty())
    }

    /// Polls `/api/health` until the server answers or `deadline` passes.
    pub async fn wait_up(&self, deadline: Duration) -> Result<(), BenchError> {
        let start = Instant::now();
        loop {
            match self.get_json::<Health>("/api/health").await {
                Ok(_) => return Ok(()),
                Err(e) if start.elapsed() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// GETs `path` `runs` times, one after the other; every answer must be a
    /// 200 (a fast error is not a fast query).
    pub async fn time_query(&self, path: &str, runs: usize) -> Result<Summary, BenchError> {
        let mut latencies = Latencies::default();
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            let response = self
                .client
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .map_err(|e| BenchError::Http(format!("GET {path}: {e}")))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .map_err(|e| BenchError::Http(format!("GET {path}: {e}")))?;
            latencies.record(start.elapsed());
            if status.as_u16() != 200 {
                return Err(BenchError::Http(format!(
                    "GET {path}: {status}: {}",
                    String::from_utf8_lossy(&body)
                )));
            }
        }
        Ok(latencies.summary())
    }
}

/// The queries the dashboard makes, by name: the logs page with each filter,
/// text search, volume and breakdown over 24 h, services.
pub const QUERIES: &[(&str, &str)] = &[
    ("logs, newest page", "/api/logs?limit=100"),
    ("logs, service=", "/api/logs?service=svc-07&limit=100"),
    ("logs, level>=error", "/api/logs?level=error&limit=100"),
    ("logs, q= (text)", "/api/logs?q=inventory-db&limit=100"),
    (
        "logs, q= rare (no match)",
        "/api/logs?q=no-such-token-xyz&limit=100",
    ),
    ("volume 24 h", "/api/stats/volume?from=now-24h&step=300"),
    (
        "volume 24 h by service",
        "/api/stats/volume?from=now-24h&step=300&by=service&top=20",
    ),
    ("breakdown 24 h", "/api/stats/breakdown?from=now-24h"),
    ("services", "/api/services"),
];
