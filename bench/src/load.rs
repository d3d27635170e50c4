//! The HTTP load generator: C connections POSTing batches to `/ingest`, at
//! the maximum rate or a fixed offered rate, for a duration or a number of
//! batches, whichever ends first.
//!
//! Accounting is exact: an event counts as acknowledged only when a 202
//! answer's `accepted` says so; every answer is counted by status, and
//! transport failures (no answer) separately.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::BenchError;
use crate::stats::Latencies;
use crate::workload::Batches;

/// How to load the server.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The ingest URL, e.g. `http://127.0.0.1:8080/ingest`; loopback only.
    pub url: String,
    /// Concurrent connections, each sending one request at a time.
    pub concurrency: usize,
    /// Stop starting requests after this long (always bounded).
    pub duration: Duration,
    /// Stop after this many batches (requests), if given.
    pub max_batches: Option<u64>,
    /// Offered load in events per second; `None` sends as fast as answers come.
    pub rate: Option<f64>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Bearer key, when the server needs one.
    pub api_key: Option<String>,
}

/// What a run did, exactly.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoadReport {
    /// Requests that got an answer or failed in transport.
    pub requests: u64,
    /// Events in every request sent.
    pub events_sent: u64,
    /// Sum of `accepted` over the 202 answers: events durably queued.
    pub events_acknowledged: u64,
    /// Sum of `rejected` over the 202 answers.
    pub events_rejected: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// From the first request to the last answer.
    pub elapsed_secs: f64,
    /// Answers by HTTP status; `transport` counts requests without an answer.
    pub statuses: BTreeMap<String, u64>,
    /// Request latency in ms: p50, p99 and max. With a fixed rate it is
    /// measured from when the request was due, not when it was sent, so a
    /// server that falls behind is not hidden by the client waiting for it.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// The first transport failure's error and its causes, when there was
    /// one: a count alone does not say whether the server reset a
    /// connection or a request timed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_transport_error: Option<String>,
}

impl LoadReport {
    /// Acknowledged events per second.
    pub fn events_per_sec(&self) -> f64 {
        self.events_acknowledged as f64 / self.elapsed_secs.max(1e-9)
    }

    /// Request body MiB per second (all requests sent).
    pub fn mib_per_sec(&self) -> f64 {
        self.bytes_sent as f64 / (1024.0 * 1024.0) / self.elapsed_secs.max(1e-9)
    }

    /// `202:120 429:3` style summary.
    pub fn statuses_line(&self) -> String {
        let line = self
            .statuses
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(" ");
        match &self.first_transport_error {
            Some(error) => format!("{line}; first transport failure: {error}"),
            None => line,
        }
    }
}

/// The part of a 202 answer the accounting reads.
#[derive(Deserialize)]
struct Accepted {
    accepted: u64,
    #[serde(default)]
    rejected: u64,
}

#[derive(Default)]
struct WorkerTally {
    requests: u64,
    events_sent: u64,
    acknowledged: u64,
    rejected: u64,
    bytes: u64,
    statuses: BTreeMap<String, u64>,
    latencies: Latencies,
    first_transport_error: Option<String>,
}

/// An error and its causes, `: `-joined (reqwest's own message names only
/// the request).
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Refuses anything but a loopback address: the load generator is for this
/// machine only.
pub fn check_loopback(url: &str) -> Result<(), BenchError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| BenchError::Usage(format!("{url}: {e}")))?;
    let host = parsed.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(BenchError::Usage(format!(
            "{url}: only loopback addresses (127.0.0.1, ::1, localhost) may be loaded"
        )))
    }
}

/// Runs the load and returns the exact tally.
pub async fn run(options: &LoadOptions, batches: &Batches) -> Result<LoadReport, BenchError> {
    check_loopback(&options.url)?;
    if batches.bodies.is_empty() {
        return Err(BenchError::Usage("no batches to send".into()));
    }
    if options.rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        return Err(BenchError::Usage("rate must be a positive number".into()));
    }
    let concurrency = options.concurrency.max(1);
    let client = reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .pool_max_idle_per_host(concurrency)
        .timeout(options.timeout)
        .build()
        .map_err(|e| BenchError::Http(e.to_string()))?;
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let end = start + options.duration;
    let bodies = Arc::new(batches.bodies.clone());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let next = next.clone();
        let bodies = bodies.clone();
        let options = options.clone();
        let epb = batches.events_per_batch as u64;
        workers.spawn(async move {
            let mut tally = WorkerTally::default();
            loop {
                let ticket = next.fetch_add(1, Ordering::Relaxed);
                if options.max_batches.is_some_and(|max| ticket >= max) {
                    break;
                }
                let due = match options.rate {
                    Some(rate) => start + Duration::from_secs_f64((ticket * epb) as f64 / rate),
                    None => Instant::now(),
                };
                if due >= end || Instant::now() >= end {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                let body = bodies[(ticket % bodies.len() as u64) as usize].clone();
                let len = body.len() as u64;
                let mut request = client
                    .post(&options.url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body);
                if let Some(key) = &options.api_key {
                    request = request.bearer_auth(key);
                }
                let answer = request.send().await;
                let status = match answer {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let text = response.bytes().await.unwrap_or_default();
                        if status == 202
                            && let Ok(a) = serde_json::from_slice::<Accepted>(&text)
                        {
                            tally.acknowledged += a.accepted;
                            tally.rejected += a.rejected;
                        }
                        status.to_string()
                    }
                    Err(e) => {
                        if tally.first_transport_error.is_none() {
                            tally.first_transport_error = Some(error_chain(&e));
                        }
                        "transport".to_owned()
                    }
                };
                tally.latencies.record(due.elapsed());
                tally.requests += 1;
                tally.events_sent += epb;
                tally.bytes += len;
                *tally.statuses.entry(status).or_default() += 1;
            }
            tally
        });
    }
    let mut total = WorkerTally::default();
    while let Some(joined) = workers.join_next().await {
        let t = joined.map_err(|e| BenchError::Http(format!("a sender failed: {e}")))?;
        total.requests += t.requests;
        total.events_sent += t.events_sent;
        total.acknowledged += t.acknowledged;
        total.rejected += t.rejected;
        total.bytes += t.bytes;
        for (k, v) in t.statuses {
            *total.statuses.entry(k).or_default() += v;
        }
        total.latencies.merge(t.latencies);
        if total.first_transport_error.is_none() {
            total.first_transport_error = t.first_transport_error;
        }
    }
    let elapsed = start.elapsed();
    let summary = total.latencies.summary();
    Ok(LoadReport {
        requests: total.requests,
        events_sent: total.events_sent,
        events_acknowledged: total.acknowledged,
        events_rejected: total.rejected,
        bytes_sent: total.bytes,
        elapsed_secs: elapsed.as_secs_f64(),
        statuses: total.statuses,
        p50_ms: summary.p50_ms,
        p99_ms: summary.p99_ms,
        max_ms: summary.max_ms,
        first_transport_error: total.first_transport_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transport failure's cause is in the statuses line, so a table row
    /// says why a request got no answer.
    #[test]
    fn the_first_transport_failure_is_named_with_its_causes() {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset");
        #[derive(Debug)]
        struct Sending(std::io::Error);
        impl std::fmt::Display for Sending {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("error sending request")
            }
        }
        impl std::error::Error for Sending {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let mut report = LoadReport {
            statuses: [("202".to_owned(), 2999), ("transport".to_owned(), 1)].into(),
            ..LoadReport::default()
        };
        assert_eq!(report.statuses_line(), "202:2999 transport:1");
        report.first_transport_error = Some(error_chain(&Sending(cause)));
        assert_eq!(
            report.statuses_line(),
            "202:2999 transport:1; first transport failure: error sending request: connection reset"
        );
    }

    #[test]
    fn only_loopback_urls_are_loaded() {
        assert!(check_loopback("http://127.0.0.1:8080/ingest").is_ok());
        assert!(check_loopback("http://localhost:1/ingest").is_ok());
        assert!(check_loopback("http://[::1]:1/ingest").is_ok());
        assert!(check_loopback("http://10.0.0.1:8080/ingest").is_err());
        assert!(check_loopback("http://example.com/ingest").is_err());
    }
}
