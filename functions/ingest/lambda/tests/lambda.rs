//! The real Lambda binary of ingest (`anomalog-ingest-lambda`), run against a
//! local Lambda Runtime API with real Redis and SecantusDB: function URL
//! events in, HTTP responses out, batches in the Redis stream.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use serde_json::{Value, json};

use anomalog_store::{EventQueue, RedisQueue, RedisQueueConfig};
use anomalog_testkit::lambda::{
    LambdaProcess, LambdaRuntimeApi, backend_env, function_url_event, http_response,
};
use anomalog_testkit::{RedisServer, mongo_target};

const BINARY: &str = env!("CARGO_BIN_EXE_anomalog-ingest-lambda");
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

fn ingest_event(query: &str, headers: Value, body: &str) -> Value {
    function_url_event("POST", "/ingest", query, headers, Some(body))
}

#[tokio::test(flavor = "multi_thread")]
async fn function_url_batches_are_queued_and_bad_lines_rejected_by_index() {
    let redis = RedisServer::start();
    let mongo = mongo_target();
    let api = LambdaRuntimeApi::start().await;
    let function = LambdaProcess::spawn(
        BINARY,
        &api,
        backend_env(&redis, &mongo)
            .into_iter()
            .chain([("ANOMALOG_API_KEYS", "k-test".to_owned())]),
    );

    let ndjson = concat!(
        "{\"ts\":\"2026-11-24T10:00:00Z\",\"level\":\"info\",\"message\":\"order placed\"}\n",
        "{\"ts\":\"2026-11-24T10:00:01Z\",\"level\":\"error\",\"message\":\"card declined\"}\n",
        "{\"ts\":\"2026-11-24T10:00:02Z\",\"level\":\n",
        "{\"ts\":\"2026-11-24T10:00:03Z\",\"level\":\"warn\",\"message\":\"slow bank\"}\n",
    );
    let event = ingest_event(
        "service=checkout",
        json!({
            "authorization": "Bearer k-test",
            "content-type": "application/x-ndjson",
            "host": "abcdefgh.lambda-url.eu-west-1.on.aws"
        }),
        ndjson,
    );
    let (status, receipt) = http_response(api.invoke(event, INVOKE_TIMEOUT).await);
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(receipt["accepted"], 3, "{receipt}");
    assert_eq!(receipt["rejected"], 1, "{receipt}");
    assert_eq!(receipt["errors"][0]["index"], 2, "{receipt}");

    // The batch is one entry of the Redis stream, with the three good events.
    let queue = RedisQueue::connect(&redis.url(), RedisQueueConfig::default())
        .await
        .unwrap();
    assert_eq!(queue.backlog().await.unwrap(), 1);
    let entries = queue.claim("test-reader", 10).await.unwrap();
    assert_eq!(entries.len(), 1);
    let messages: Vec<(&str, &str)> = entries[0]
        .events
        .iter()
        .map(|e| (e.service.as_str(), e.message.as_str()))
        .collect();
    assert_eq!(
        messages,
        [
            ("checkout", "order placed"),
            ("checkout", "card declined"),
            ("checkout", "slow bank")
        ]
    );

    // Logs go to stdout as JSON lines (CloudWatch).
    let output = function.output();
    let started = output
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .any(|line| line["fields"]["message"] == "started");
    assert!(started, "no JSON start-up log line in {output:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_connects_only_the_queue_so_an_unreachable_mongodb_does_not_matter() {
    let redis = RedisServer::start();
    // Addressed as `cargo lambda watch` does: `http://127.0.0.1:PORT/.rt`.
    let api = LambdaRuntimeApi::start_at("/.rt").await;
    // Nothing listens on port 1: connecting MongoDB at start would fail.
    let _function = LambdaProcess::spawn(
        BINARY,
        &api,
        [
            ("REDIS_URL", redis.url()),
            ("MONGODB_URI", "mongodb://127.0.0.1:1/".to_owned()),
            ("ANOMALOG_API_KEYS", "k-test".to_owned()),
        ],
    );
    let body = r#"[{"service":"checkout","level":"info","message":"hello"}]"#;
    let headers = json!({ "authorization": "Bearer k-test", "content-type": "application/json" });
    let (status, receipt) = http_response(
        api.invoke(ingest_event("", headers, body), INVOKE_TIMEOUT)
            .await,
    );
    assert_eq!(status, 202, "{receipt}");
    let queue = RedisQueue::connect(&redis.url(), RedisQueueConfig::default())
        .await
        .unwrap();
    assert_eq!(queue.backlog().await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_without_the_key_gets_401_and_queues_nothing() {
    let redis = RedisServer::start();
    let mongo = mongo_target();
    let api = LambdaRuntimeApi::start().await;
    let _function = LambdaProcess::spawn(
        BINARY,
        &api,
        backend_env(&redis, &mongo)
            .into_iter()
            .chain([("ANOMALOG_API_KEYS", "k-test".to_owned())]),
    );
    let body = r#"[{"service":"checkout","level":"info","message":"hello"}]"#;
    for headers in [
        json!({ "content-type": "application/json" }),
        json!({ "content-type": "application/json", "authorization": "Bearer wrong" }),
    ] {
        let event = ingest_event("", headers, body);
        let (status, error) = http_response(api.invoke(event, INVOKE_TIMEOUT).await);
        assert_eq!(status, 401, "{error}");
        assert!(
            error["error"].as_str().unwrap().contains("API key"),
            "{error}"
        );
    }
    let queue = RedisQueue::connect(&redis.url(), RedisQueueConfig::default())
        .await
        .unwrap();
    assert_eq!(queue.backlog().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_redis_and_mongodb_it_reports_an_init_error_naming_them() {
    let api = LambdaRuntimeApi::start().await;
    let mut function = LambdaProcess::spawn(BINARY, &api, [("ANOMALOG_API_KEYS", "k-test")]);
    let error = api
        .init_error(Duration::from_secs(30))
        .await
        .expect("an init error");
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("REDIS_URL") && message.contains("MONGODB_URI"),
        "{error}"
    );
    assert_eq!(error["errorType"], "Runtime.InitError");
    let status = function
        .wait_exit(Duration::from_secs(10))
        .expect("the binary exits");
    assert!(!status.success());
}
