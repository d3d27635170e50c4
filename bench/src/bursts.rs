//! Burst -> visible in the API: during a sustained load, error bursts are
//! sent to services of their own and `/api/anomalies` is polled until each
//! shows its burst anomaly; the latency is from the burst's POST to the first
//! answer that lists it.
//!
//! Each burst is [`BURST_ERRORS`] ERROR events in one batch for a service no
//! other event uses (`burst-<run>-<n>`), over the burst detector's default
//! `min_errors` (25): it opens a burst on the first pass that stores it,
//! whatever the rest of the load does.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::BenchError;
use crate::api::Api;
use crate::stats::{Latencies, Summary};

/// ERROR events per burst.
pub const BURST_ERRORS: u64 = 40;
/// How often a burst's service is polled.
const POLL: Duration = Duration::from_millis(100);

/// What the probes measured.
#[derive(Debug, Default, Clone)]
pub struct BurstReport {
    /// Bursts sent (and acknowledged with a 202).
    pub sent: u64,
    /// Bursts seen in `/api/anomalies` within the deadline.
    pub seen: u64,
    /// POST -> listed, of those seen.
    pub latency: Summary,
}

/// Sends `count` bursts spread over `span` (the first after a fifth of it)
/// and waits up to `deadline` after each for its anomaly.
pub async fn probe(
    api: &Api,
    ingest_url: &str,
    api_key: Option<&str>,
    count: u64,
    span: Duration,
    deadline: Duration,
) -> Result<BurstReport, BenchError> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| BenchError::Http(e.to_string()))?;
    let run = chrono::Utc::now().timestamp();
    let start = Instant::now();
    let first = span / 5;
    let step = if count > 1 {
        (span - first) / u32::try_from(count).unwrap_or(u32::MAX)
    } else {
        Duration::ZERO
    };
    let mut probes = Vec::new();
    for n in 0..count {
        let due = first + step * u32::try_from(n).unwrap_or(u32::MAX);
        tokio::time::sleep(due.saturating_sub(start.elapsed())).await;
        let service = format!("burst-{run}-{n}");
        let events: Vec<_> = (0..BURST_ERRORS)
            .map(|i| {
                json!({
                    "service": service,
                    "level": "error",
                    "message": format!("upstream connection refused (burst probe {n}, error {i})"),
                })
            })
            .collect();
        let mut request = client.post(ingest_url).json(&events);
        if let Some(key) = api_key {
            request = request.bearer_auth(key);
        }
        let sent = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|e| BenchError::Http(format!("POST burst {n}: {e}")))?;
        if response.status().as_u16() != 202 {
            return Err(BenchError::Http(format!(
                "POST burst {n}: {}",
                response.status()
            )));
        }
        let api = api.clone();
        probes.push(tokio::spawn(async move {
            wait_listed(&api, &service, sent, deadline).await
        }));
    }
    let mut report = BurstReport {
        sent: count,
        ..BurstReport::default()
    };
    let mut latencies = Latencies::default();
    for p in probes {
        let seen = p
            .await
            .map_err(|e| BenchError::Http(format!("burst probe failed: {e}")))??;
        if let Some(latency) = seen {
            report.seen += 1;
            latencies.record(latency);
        }
    }
    report.latency = latencies.summary();
    Ok(report)
}

/// Polls until `service` has a burst anomaly; its latency from `sent`, or
/// `None` past `deadline`.
async fn wait_listed(
    api: &Api,
    service: &str,
    sent: Instant,
    deadline: Duration,
) -> Result<Option<Duration>, BenchError> {
    loop {
        if api.has_anomaly(service, "burst").await? {
            return Ok(Some(sent.elapsed()));
        }
        if sent.elapsed() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(POLL).await;
    }
}
