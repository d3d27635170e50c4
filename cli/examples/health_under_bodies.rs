//! Measures `/api/health` latency while 16 clients post gzip bodies of about
//! 25 KB that decode to about 19 MB (the hardening issue's attack), against
//! the real `anomalog up` on loopback with a fresh data directory.
//!
//! ```text
//! cargo build -p anomalog-cli [--release]
//! [HEALTH_CLIENTS=16] ANOMALOG_BIN=target/debug/anomalog cargo run -p anomalog-cli --example health_under_bodies -- [SECONDS]
//! ```
//!
//! `HEALTH_BODY=loki` posts Loki JSON pushes instead: 10,000 entries of
//! 1,900-byte lines (19 MB decoded), each rejected for its timestamp, so
//! the cost is the shipper protocol's decoding and nothing is stored.
//!
//! Prints the health checks' p50, p90, p99 and worst latency, the answers
//! to the big bodies by status, and the server's peak RSS. Bounded: it runs
//! SECONDS (default 20), then stops the server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measuring tool fails loudly

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Posting clients; `HEALTH_CLIENTS=0` measures health alone (the baseline).
const CLIENTS: usize = 16;
const DECODED_BYTES: usize = 19 << 20;

fn big_body() -> Vec<u8> {
    let line = format!("INFO filler {}\n", "a".repeat(1000));
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut written = 0;
    while written + line.len() <= DECODED_BYTES {
        encoder.write_all(line.as_bytes()).unwrap();
        written += line.len();
    }
    encoder.finish().unwrap()
}

/// A Loki JSON push of 10,000 entries whose timestamp is not a number:
/// decoded whole, every entry rejected (400), nothing stored.
fn loki_body() -> Vec<u8> {
    let line = "a".repeat(1900);
    let values: Vec<String> = (0..10_000)
        .map(|_| format!("[\"yesterday\",\"{line}\"]"))
        .collect();
    let push = format!(
        "{{\"streams\":[{{\"stream\":{{\"app\":\"big\"}},\"values\":[{}]}}]}}",
        values.join(",")
    );
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(push.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("SECONDS is a number"))
        .unwrap_or(20);
    let clients: usize = std::env::var("HEALTH_CLIENTS")
        .map(|s| s.parse().expect("HEALTH_CLIENTS is a number"))
        .unwrap_or(CLIENTS);
    let bin = std::env::var("ANOMALOG_BIN").unwrap_or_else(|_| "target/debug/anomalog".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = tempfile::tempdir().unwrap();
    let mut server = Command::new(&bin)
        .args(["up", "--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client
        .get(format!("{base}/api/health"))
        .send()
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true)
    {
        assert!(
            Instant::now() < deadline,
            "the server did not become healthy"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let loki = std::env::var("HEALTH_BODY").is_ok_and(|b| b == "loki");
    let (body, path, content_type) = if loki {
        (loki_body(), "/loki/api/v1/push", "application/json")
    } else {
        (big_body(), "/ingest?service=big", "text/plain")
    };
    println!(
        "{clients} clients posting {} KB gzip bodies that decode to {} MB, for {seconds} s",
        body.len() / 1000,
        DECODED_BYTES / 1_000_000
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mut posters = Vec::new();
    for _ in 0..clients {
        let (client, body, stop) = (client.clone(), body.clone(), stop.clone());
        let url = format!("{base}{path}");
        posters.push(tokio::spawn(async move {
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            while !stop.load(Ordering::Relaxed) {
                let sent = client
                    .post(&url)
                    .header("content-type", content_type)
                    .header("content-encoding", "gzip")
                    .body(body.clone())
                    .send()
                    .await;
                let status = match sent {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let _ = r.bytes().await;
                        status
                    }
                    Err(_) => 0,
                };
                *statuses.entry(status).or_default() += 1;
            }
            statuses
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0u64;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        let at = Instant::now();
        match client.get(format!("{base}/api/health")).send().await {
            Ok(r) if r.status().is_success() => latencies.push(at.elapsed()),
            _ => failures += 1,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for poster in posters {
        for (status, n) in poster.await.unwrap() {
            *statuses.entry(status).or_default() += n;
        }
    }
    let rss = peak_rss_mib(server.id());
    let _ = server.kill();
    let _ = server.wait();

    latencies.sort();
    println!(
        "health: {} checks, {failures} failed; p50 {:?}, p90 {:?}, p99 {:?}, worst {:?}",
        latencies.len(),
        percentile(&latencies, 50),
        percentile(&latencies, 90),
        percentile(&latencies, 99),
        latencies.last().copied().unwrap_or_default()
    );
    println!("big bodies answered (status: count, 0 = no answer): {statuses:?}");
    if let Some(rss) = rss {
        println!("server peak RSS: {rss:.0} MiB");
    }
}
