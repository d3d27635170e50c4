//! End to end: the real `anomalog up` binary over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use support::{Backends, Server, get_json};

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
    burst_becomes_an_anomaly_and_survives_restart(|| Server::start(dir.path())).await;
}

#[tokio::test]
async fn on_redis_and_mongodb_a_burst_becomes_an_anomaly_and_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let backends = Backends::start();
    let env = backends.env();
    burst_becomes_an_anomaly_and_survives_restart(|| Server::start_with(dir.path(), &env)).await;
    assert!(
        !dir.path().join("anomalog.db").exists(),
        "nothing went to the embedded store"
    );
}

async fn burst_becomes_an_anomaly_and_survives_restart(start: impl Fn() -> Server) {
    let client = reqwest::Client::new();
    let server = start();
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

    let server = start();
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

#[tokio::test]
async fn redis_without_mongodb_fails_at_start_and_keeps_the_password_secret() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anomalog"))
        .args(["up", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("REDIS_URL", "redis://:hunter2@127.0.0.1:1")
        .env_remove("MONGODB_URI")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("MONGODB_URI"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// What one ingest request of the load got.
struct Outcome {
    messages: Vec<String>,
    status: u16,
    retry_after: bool,
    accepted: u64,
    /// 0 before Redis was killed, 1 while it was down, 2 after its restart.
    phase: u8,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_ingest_load_answers_503_and_loses_or_duplicates_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let mut backends = Backends::start();
    let mut env = backends.env();
    // Failing detect passes while Redis is down are expected here.
    env.push(("RUST_LOG", "error"));
    let server = Server::start_with(dir.path(), &env);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    server.wait_ready(&client).await;

    let phase = Arc::new(AtomicU8::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..3)
        .map(|sender| {
            let (client, phase, stop) = (client.clone(), phase.clone(), stop.clone());
            let url = format!("{}/ingest", server.base);
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                let mut batch = 0;
                while !stop.load(Ordering::SeqCst) {
                    let messages: Vec<String> = (0..10)
                        .map(|i| format!("s{sender}-b{batch}-e{i}"))
                        .collect();
                    let events: Vec<Value> = messages
                        .iter()
                        .map(|m| json!({"service": "faulty", "level": "info", "message": m}))
                        .collect();
                    let at = phase.load(Ordering::SeqCst);
                    let res = client.post(&url).json(&events).send().await.unwrap();
                    let status = res.status().as_u16();
                    let retry_after = res.headers().contains_key("retry-after");
                    let body: Value = res.json().await.unwrap();
                    outcomes.push(Outcome {
                        messages,
                        status,
                        retry_after,
                        accepted: body["accepted"].as_u64().unwrap_or(0),
                        phase: at.max(phase.load(Ordering::SeqCst)),
                    });
                    batch += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                outcomes
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(1)).await;
    tokio::task::block_in_place(|| backends.redis.kill());
    phase.store(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tokio::task::block_in_place(|| backends.redis.restart());
    phase.store(2, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::SeqCst);
    let mut outcomes = Vec::new();
    for sender in senders {
        outcomes.extend(sender.await.unwrap());
    }

    for o in &outcomes {
        assert!(
            o.status == 202 || o.status == 503,
            "only 202 or 503, got {}",
            o.status
        );
        if o.status == 503 {
            assert!(o.retry_after, "a 503 carries Retry-After");
        } else {
            assert_eq!(o.accepted, 10);
        }
    }
    let count = |phase: u8, status: u16| {
        outcomes
            .iter()
            .filter(|o| o.phase == phase && o.status == status)
            .count()
    };
    assert!(count(0, 202) > 0, "accepted before the outage");
    assert!(count(1, 503) > 0, "refused during the outage");
    assert!(count(2, 202) > 0, "accepted again after the restart");

    // Everything queued gets processed. A backlog counted now, not the last
    // count read (`backlog_stale`: Redis, just restarted, can take longer
    // than health waits, and the count read last may be from before).
    let health = format!("{}/api/health", server.base);
    poll(&client, &health, Duration::from_secs(60), |b| {
        b["queue_backlog"].as_u64() == Some(0) && b["backlog_stale"].as_bool() != Some(true)
    })
    .await;

    let store = anomalog_store::MongoStore::connect(
        &backends.mongo.uri,
        &anomalog_store::MongoConfig {
            database: backends.mongo.database.clone(),
            ..anomalog_store::MongoConfig::default()
        },
    )
    .await
    .unwrap();
    let page = anomalog_store::LogStore::query(
        &store,
        &anomalog_store::LogQuery {
            service: Some("faulty".into()),
            limit: 1_000_000,
            ..anomalog_store::LogQuery::default()
        },
    )
    .await
    .unwrap();
    let stored: Vec<String> = page.items.into_iter().map(|l| l.event.message).collect();
    let unique: std::collections::BTreeSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "no event stored twice");
    let acknowledged: Vec<&String> = outcomes
        .iter()
        .filter(|o| o.status == 202)
        .flat_map(|o| &o.messages)
        .collect();
    for m in &acknowledged {
        assert!(unique.contains(m), "acknowledged event {m} is stored");
    }
    // A 503 whose XADD reached Redis just before it died may still be stored
    // (the client retries such a batch): only whole refused batches can be.
    let in_doubt: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.status == 503 && o.messages.iter().any(|m| unique.contains(m)))
        .collect();
    for o in &in_doubt {
        assert!(o.messages.iter().all(|m| unique.contains(m)));
    }
    assert_eq!(
        stored.len(),
        acknowledged.len() + 10 * in_doubt.len(),
        "nothing stored but the sent batches"
    );
    let rolled: u64 = anomalog_store::RollupStore::rollups(
        &store,
        Some("faulty"),
        chrono::Utc::now() - chrono::Duration::hours(1),
        chrono::Utc::now() + chrono::Duration::hours(1),
    )
    .await
    .unwrap()
    .iter()
    .map(|r| r.count)
    .sum();
    assert_eq!(rolled, stored.len() as u64, "each event counted once");
    eprintln!(
        "ingest under a Redis outage: {} requests, {} accepted ({} events), {} refused, {} refused but stored",
        outcomes.len(),
        outcomes.iter().filter(|o| o.status == 202).count(),
        acknowledged.len(),
        outcomes.iter().filter(|o| o.status == 503).count(),
        in_doubt.len()
    );
    server.interrupt();
}
