//! Self-observability end to end: the real `anomalog up` binary, real HTTP,
//! a local webhook standing in for Discord; `/metrics` must count exactly what
//! happened. Also the log format switch.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::{Value, json};

use support::Server;

/// The value of one series (`name` or `name{labels}`, labels as rendered) in a
/// Prometheus text exposition, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

fn value(text: &str, series: &str) -> f64 {
    sample(text, series).unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

async fn scrape(client: &reqwest::Client, server: &Server) -> String {
    let res = client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    res.text().await.unwrap()
}

/// Scrapes until `done` holds (at most `limit`); returns that scrape.
async fn scrape_until(
    client: &reqwest::Client,
    server: &Server,
    limit: Duration,
    done: impl Fn(&str) -> bool,
) -> String {
    let started = Instant::now();
    loop {
        let text = scrape(client, server).await;
        if done(&text) {
            return text;
        }
        assert!(started.elapsed() < limit, "not within {limit:?}:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A webhook on a free port that fails its first call with 500 and accepts
/// the others; counts the calls.
async fn flaky_webhook() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

struct Sent {
    status: u16,
    bytes: usize,
}

async fn send(
    client: &reqwest::Client,
    server: &Server,
    key: Option<&str>,
    content_type: &str,
    body: String,
) -> Sent {
    send_keyed(client, server, key, content_type, body, None).await
}

/// [`send`] with an optional `Idempotency-Key`.
async fn send_keyed(
    client: &reqwest::Client,
    server: &Server,
    key: Option<&str>,
    content_type: &str,
    body: String,
    idempotency_key: Option<&str>,
) -> Sent {
    let bytes = body.len();
    let mut req = client
        .post(format!("{}/ingest", server.base))
        .header("content-type", content_type)
        .body(body);
    if let Some(key) = key {
        req = req.bearer_auth(key);
    }
    if let Some(idempotency_key) = idempotency_key {
        req = req.header("Idempotency-Key", idempotency_key);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    if status == 429 {
        assert!(res.headers().contains_key("retry-after"));
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("rate limit"));
    }
    Sent { status, bytes }
}

fn events(n: usize, service: &str, level: &str) -> Vec<Value> {
    let now = chrono::Utc::now();
    (0..n)
        .map(|i| {
            json!({
                "ts": (now + chrono::Duration::milliseconds(i64::try_from(i).unwrap() * 50)).to_rfc3339(),
                "service": service,
                "level": level,
                "message": format!("{service} {level} #{i}"),
            })
        })
        .collect()
}

#[tokio::test]
async fn metrics_count_exactly_what_ingest_detect_and_alert_did() {
    let dir = tempfile::tempdir().unwrap();
    let (webhook, webhook_calls) = flaky_webhook().await;
    let server = Server::start_with(
        dir.path(),
        &[
            ("ANOMALOG_API_KEYS", "key-a,key-b"),
            ("ANOMALOG_INGEST_RATE_LIMIT", "1"),
            ("ANOMALOG_INGEST_RATE_BURST", "100"),
            ("DISCORD_WEBHOOK_URL", webhook.as_str()),
        ],
    );
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;

    let before = scrape(&client, &server).await;
    assert_eq!(value(&before, "anomalog_ingest_events_accepted_total"), 0.0);
    assert_eq!(
        value(
            &before,
            &format!(
                "anomalog_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        1.0
    );

    // 30 errors (a burst) and 2 malformed records.
    let mut burst = events(30, "checkout", "error");
    burst.push(json!({"service": "checkout", "level": "error"}));
    burst.push(json!(42));
    let r1 = send(
        &client,
        &server,
        Some("key-a"),
        "application/json",
        Value::Array(burst).to_string(),
    )
    .await;
    // 10 NDJSON lines and a malformed one.
    let mut ndjson: String = events(10, "web", "info")
        .iter()
        .map(|e| format!("{e}\n"))
        .collect();
    ndjson.push_str("{not json\n");
    let r2 = send(
        &client,
        &server,
        Some("key-a"),
        "application/x-ndjson",
        ndjson,
    )
    .await;
    // Nothing usable: 400.
    let r3 = send(
        &client,
        &server,
        Some("key-a"),
        "application/json",
        json!([{"level": "info"}, 1, "x"]).to_string(),
    )
    .await;
    // No key: 401, the body is never read.
    let r4 = send(
        &client,
        &server,
        None,
        "application/json",
        Value::Array(events(1, "web", "info")).to_string(),
    )
    .await;
    // key-a has about 60 of its 100 events left: 90 more are refused whole.
    let r5 = send(
        &client,
        &server,
        Some("key-a"),
        "application/json",
        Value::Array(events(90, "web", "info")).to_string(),
    )
    .await;
    // key-b has its own bucket. Its batch is sent twice under one
    // Idempotency-Key (a shipper retrying): queued and counted once.
    let api_batch = Value::Array(events(5, "api", "info")).to_string();
    let r6 = send_keyed(
        &client,
        &server,
        Some("key-b"),
        "application/json",
        api_batch.clone(),
        Some("batch-api-1"),
    )
    .await;
    let r7 = send_keyed(
        &client,
        &server,
        Some("key-b"),
        "application/json",
        api_batch,
        Some("batch-api-1"),
    )
    .await;
    let statuses: Vec<u16> = [&r1, &r2, &r3, &r4, &r5, &r6, &r7]
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [202, 202, 400, 401, 429, 202, 202]);

    // Detect persists the 45 accepted events and opens the burst; alert fails
    // once (500), backs off, then delivers.
    let text = scrape_until(&client, &server, Duration::from_secs(30), |t| {
        sample(t, "anomalog_detect_events_persisted_total") == Some(45.0)
            && sample(t, "anomalog_detect_anomalies_opened_total{kind=\"burst\"}") == Some(1.0)
            && sample(
                t,
                "anomalog_alert_deliveries_total{channel=\"discord\",outcome=\"sent\"}",
            ) == Some(1.0)
    })
    .await;

    let exact = [
        ("anomalog_ingest_requests_total{status=\"202\"}", 4.0),
        ("anomalog_ingest_requests_total{status=\"400\"}", 1.0),
        ("anomalog_ingest_requests_total{status=\"401\"}", 1.0),
        ("anomalog_ingest_requests_total{status=\"429\"}", 1.0),
        ("anomalog_ingest_events_accepted_total", 45.0),
        ("anomalog_ingest_events_replayed_total", 5.0),
        ("anomalog_ingest_events_rejected_total", 6.0),
        ("anomalog_ingest_events_rate_limited_total", 90.0),
        (
            "anomalog_ingest_request_body_bytes_total",
            (r1.bytes + r2.bytes + r3.bytes + r5.bytes + r6.bytes + r7.bytes) as f64,
        ),
        ("anomalog_detect_queue_entries_processed_total", 3.0),
        ("anomalog_detect_events_persisted_total", 45.0),
        ("anomalog_detect_events_duplicate_total", 0.0),
        ("anomalog_detect_pass_failures_total", 0.0),
        (
            "anomalog_detect_anomalies_opened_total{kind=\"burst\"}",
            1.0,
        ),
        (
            "anomalog_alert_deliveries_total{channel=\"discord\",outcome=\"failed\"}",
            1.0,
        ),
        (
            "anomalog_alert_deliveries_total{channel=\"discord\",outcome=\"sent\"}",
            1.0,
        ),
        ("anomalog_queue_pending_entries", 0.0),
        ("anomalog_queue_oldest_pending_age_seconds", 0.0),
        ("anomalog_metrics_scrape_errors_total", 0.0),
    ];
    for (series, expected) in exact {
        assert_eq!(value(&text, series), expected, "{series}");
    }
    assert_eq!(webhook_calls.load(Ordering::SeqCst), 2);
    assert!(
        !text.contains("anomalog_detect_anomalies_resolved_total{"),
        "nothing resolved:\n{text}"
    );
    let passes = value(&text, "anomalog_detect_pass_duration_seconds_count");
    assert!(passes >= 1.0, "{passes}");
    assert_eq!(
        value(
            &text,
            "anomalog_detect_pass_duration_seconds_bucket{le=\"+Inf\"}"
        ),
        passes
    );
    assert!(value(&text, "anomalog_detect_pass_duration_seconds_sum") > 0.0);
    // Every 202 went through one queue append (the replay's too, which the
    // queue answered from its idempotency key); the 400, 401 and 429 did not.
    let appends = "anomalog_ingest_queue_append_duration_seconds";
    assert_eq!(value(&text, &format!("{appends}_count")), 4.0);
    assert_eq!(
        value(&text, &format!("{appends}_bucket{{le=\"+Inf\"}}")),
        4.0
    );
    assert!(value(&text, &format!("{appends}_sum")) > 0.0);
    assert_eq!(value(&text, "anomalog_detect_live_states_deferred"), 0.0);
}

#[tokio::test]
async fn queue_lag_shows_batches_waiting_for_detect_until_a_pass_drains_them() {
    let dir = tempfile::tempdir().unwrap();
    // One pass at start, then none for an hour: what is posted stays queued.
    let env = [("ANOMALOG_DETECT_INTERVAL_SECS", "3600")];
    let client = reqwest::Client::new();
    let server = Server::start_with(dir.path(), &env);
    server.wait_ready(&client).await;
    scrape_until(&client, &server, Duration::from_secs(10), |t| {
        sample(t, "anomalog_detect_pass_duration_seconds_count") == Some(1.0)
    })
    .await;

    for service in ["a", "b", "c"] {
        server.post(&client, &events(4, service, "info")).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = scrape(&client, &server).await;
    assert_eq!(value(&text, "anomalog_queue_pending_entries"), 3.0);
    let age = value(&text, "anomalog_queue_oldest_pending_age_seconds");
    assert!((0.3..30.0).contains(&age), "oldest pending age {age}");
    assert_eq!(
        value(&text, "anomalog_detect_queue_entries_processed_total"),
        0.0
    );
    // Killed without a final pass: the batches stay queued (they were durable).
    drop(server);

    // The restarted process drains them in its first pass; its counters start
    // from zero.
    let server = Server::start_with(dir.path(), &env);
    server.wait_ready(&client).await;
    let text = scrape_until(&client, &server, Duration::from_secs(10), |t| {
        sample(t, "anomalog_detect_queue_entries_processed_total") == Some(3.0)
    })
    .await;
    assert_eq!(value(&text, "anomalog_detect_events_persisted_total"), 12.0);
    assert_eq!(value(&text, "anomalog_queue_pending_entries"), 0.0);
    assert_eq!(value(&text, "anomalog_ingest_events_accepted_total"), 0.0);
}

/// The first log line `anomalog up` writes to a piped stderr.
fn first_log_line(log_format: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anomalog"));
    cmd.args(["up", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .current_dir(dir.path())
        .env("RUST_LOG", "info")
        .env_remove("ANOMALOG_LOG_FORMAT")
        .env_remove("ANOMALOG_API_KEYS")
        .env_remove("REDIS_URL")
        .env_remove("MONGODB_URI")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(format) = log_format {
        cmd.env("ANOMALOG_LOG_FORMAT", format);
    }
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    line
}

#[test]
fn logs_are_json_off_a_terminal_and_text_when_asked() {
    let json_line: Value = serde_json::from_str(&first_log_line(None)).unwrap();
    assert_eq!(json_line["level"], "INFO");
    assert!(
        json_line["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("/metrics"),
        "{json_line}"
    );

    let text_line = first_log_line(Some("text"));
    assert!(
        serde_json::from_str::<Value>(&text_line).is_err(),
        "{text_line}"
    );
    assert!(text_line.contains("INFO"), "{text_line}");

    let forced: Value = serde_json::from_str(&first_log_line(Some("json"))).unwrap();
    assert_eq!(forced["level"], "INFO");
}
