//! The real Lambda binaries of ingest and detect, run against a local Lambda
//! Runtime API with real Redis and SecantusDB: what ingest queued, one
//! scheduled detect invocation persists to MongoDB exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

use anomalog_core::AnomalyKind;
use anomalog_core::parse::{BodyFormat, ParseDefaults, ParseLimits, parse_body};
use anomalog_store::{
    AnomalyQuery, AnomalyStore, EventQueue, LogQuery, LogStore, MongoConfig, MongoStore,
    RedisQueue, RedisQueueConfig, RollupStore,
};
use anomalog_testkit::lambda::{
    LambdaProcess, LambdaRuntimeApi, Outcome, backend_env, function_url_event, http_response,
};
use anomalog_testkit::{RedisServer, mongo_target};

const DETECT: &str = env!("CARGO_BIN_EXE_anomalog-detect-lambda");
/// Built by `cargo test -p anomalog-detect` through the dev-dependency on
/// anomalog-ingest? No: a binary of another package is not built for these
/// tests, so its path is derived from this one's and built on demand below.
/// The ingest Lambda binary: another package's, so `cargo test` builds it
/// only when it tests the workspace (as ./scripts/test does).
const INGEST_BIN: &str = "anomalog-ingest-lambda";
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

/// The event EventBridge sends for a `rate(1 minute)` schedule.
fn scheduled_event() -> Value {
    json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/anomalog-detect"],
        "detail": {}
    })
}

fn ingest_event(body: &str) -> Value {
    let headers = json!({ "authorization": "Bearer k-test", "content-type": "application/json" });
    function_url_event("POST", "/ingest", "", headers, Some(body))
}

fn response(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Response(value) => value,
        Outcome::Error(error) => panic!("the function failed: {error}"),
    }
}

/// `target/debug/anomalog-ingest-lambda`, next to the detect binary, when
/// it was built.
fn ingest_binary() -> Option<String> {
    let path = std::path::Path::new(DETECT).parent()?.join(INGEST_BIN);
    path.exists().then(|| path.display().to_string())
}

/// Queues `body` (a JSON array) through the ingest binary when it is built,
/// else straight into the Redis stream as ingest would (`cargo test -p
/// anomalog-detect` alone does not build the other package's binary).
async fn ingest(ingest: &Option<(LambdaRuntimeApi, LambdaProcess)>, redis_url: &str, body: &str) {
    if let Some((api, _)) = ingest {
        let (status, reply) = http_response(api.invoke(ingest_event(body), INVOKE_TIMEOUT).await);
        assert_eq!(status, 202, "{reply}");
        return;
    }
    let defaults = ParseDefaults {
        service: None,
        host: None,
        source: None,
        received_at: Utc::now(),
    };
    let batch = parse_body(
        BodyFormat::Json,
        body.as_bytes(),
        &defaults,
        &ParseLimits::default(),
    )
    .unwrap();
    assert!(batch.rejections.is_empty());
    let queue = RedisQueue::connect(redis_url, RedisQueueConfig::default())
        .await
        .unwrap();
    queue.append(&batch.events).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_invocation_persists_what_ingest_queued_exactly_once() {
    let redis = RedisServer::start();
    let mongo = mongo_target();
    let mut env = backend_env(&redis, &mongo);
    env.push(("ANOMALOG_API_KEYS", "k-test".to_owned()));
    let ingest_function = match ingest_binary() {
        Some(binary) => {
            let api = LambdaRuntimeApi::start().await;
            let process = LambdaProcess::spawn(&binary, &api, env.clone());
            Some((api, process))
        }
        None => {
            eprintln!("{INGEST_BIN} is not built: queueing without it");
            None
        }
    };
    let detect_api = LambdaRuntimeApi::start().await;
    let detect = LambdaProcess::spawn(DETECT, &detect_api, env);

    // 40 errors of payments within 8 s (a burst), 10 infos of search.
    let start = Utc::now() - chrono::Duration::seconds(20);
    let mut records = Vec::new();
    for i in 0..40 {
        let ts = start + chrono::Duration::milliseconds(i * 200);
        records.push(json!({
            "ts": ts.to_rfc3339_opts(SecondsFormat::Millis, true),
            "service": "payments", "level": "error", "message": format!("gateway timeout #{i}")
        }));
    }
    for i in 0..10 {
        let ts = start + chrono::Duration::milliseconds(i * 500);
        records.push(json!({
            "ts": ts.to_rfc3339_opts(SecondsFormat::Millis, true),
            "service": "search", "level": "info", "message": format!("query #{i}")
        }));
    }
    // Two batches: two queue entries.
    for batch in [&records[..25], &records[25..]] {
        let body = serde_json::to_string(batch).unwrap();
        ingest(&ingest_function, &redis.url(), &body).await;
    }

    let report = response(detect_api.invoke(scheduled_event(), INVOKE_TIMEOUT).await);
    assert_eq!(report["passes"], 1, "{report}");
    assert_eq!(report["entries"], 2, "{report}");
    assert_eq!(report["inserted"], 50, "{report}");
    assert_eq!(report["opened"], 1, "{report}");

    let store = MongoStore::connect(
        &mongo.uri,
        &MongoConfig {
            database: mongo.database.clone(),
            ..MongoConfig::default()
        },
    )
    .await
    .unwrap();
    let count = |service: &'static str| {
        let store = &store;
        async move {
            let query = LogQuery {
                service: Some(service.to_owned()),
                limit: 1000,
                ..LogQuery::default()
            };
            store.query(&query).await.unwrap().items.len()
        }
    };
    assert_eq!((count("payments").await, count("search").await), (40, 10));
    let anomalies = store
        .list(&AnomalyQuery {
            limit: 10,
            ..AnomalyQuery::default()
        })
        .await
        .unwrap();
    let bursts: Vec<&str> = anomalies
        .iter()
        .filter(|a| a.kind == AnomalyKind::Burst)
        .map(|a| a.service.as_str())
        .collect();
    assert_eq!(bursts, ["payments"]);

    // The next tick finds nothing new and changes nothing.
    let report = response(detect_api.invoke(scheduled_event(), INVOKE_TIMEOUT).await);
    assert_eq!(
        (report["entries"].as_u64(), report["inserted"].as_u64()),
        (Some(0), Some(0)),
        "{report}"
    );
    assert_eq!((count("payments").await, count("search").await), (40, 10));
    let services = store
        .services(Utc::now() - chrono::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(services.len(), 2, "{services:?}");

    let output = detect.output();
    assert!(
        output.iter().any(|l| l.contains("\"detect invocation\"")),
        "no JSON invocation log in {output:#?}"
    );
    // The counters of /metrics, as CloudWatch Embedded Metric Format lines.
    let emf: Vec<Value> = output
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["_aws"]["CloudWatchMetrics"].is_array())
        .collect();
    let persisted: f64 = emf
        .iter()
        .filter_map(|doc| doc["anomalog_detect_events_persisted_total"].as_f64())
        .sum();
    assert_eq!(persisted, 50.0, "EMF lines: {emf:#?}");
    assert_eq!(
        emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "anomalog"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_redis_and_mongodb_it_reports_an_init_error_naming_them() {
    let api = LambdaRuntimeApi::start().await;
    let mut function =
        LambdaProcess::spawn(DETECT, &api, [("MONGODB_URI", "mongodb://127.0.0.1:1")]);
    let error = api
        .init_error(Duration::from_secs(30))
        .await
        .expect("an init error");
    let message = error["errorMessage"].as_str().unwrap();
    // Only one of the two is set: the configuration names the missing one.
    assert!(message.contains("REDIS_URL"), "{error}");
    assert!(
        !function
            .wait_exit(Duration::from_secs(10))
            .expect("exits")
            .success()
    );
}
