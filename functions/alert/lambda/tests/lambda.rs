//! The real Lambda binary of alert (`anomalog-alert-lambda`), run against a
//! local Lambda Runtime API with real Redis and SecantusDB and a local HTTP
//! server standing in for Discord and Slack.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::Utc;
use serde_json::{Value, json};

use anomalog_core::incident::{IncidentConfig, group};
use anomalog_core::{Anomaly, AnomalyKind, AnomalyStatus, Severity};
use anomalog_store::{AnomalyStore, IncidentStore, MongoConfig, MongoStore};
use anomalog_testkit::lambda::{LambdaProcess, LambdaRuntimeApi, Outcome};
use anomalog_testkit::mongo_target;

const BINARY: &str = env!("CARGO_BIN_EXE_anomalog-alert-lambda");
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

type Received = Arc<Mutex<Vec<Value>>>;

async fn receive(State(received): State<Received>, Json(body): Json<Value>) -> StatusCode {
    received.lock().unwrap().push(body);
    StatusCode::NO_CONTENT
}

async fn start_discord(received: Received) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/api/webhooks/1/token", post(receive))
        .with_state(received);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/api/webhooks/1/token")
}

#[tokio::test(flavor = "multi_thread")]
async fn each_invocation_is_one_delivery_round() {
    let mongo = mongo_target();
    let store = MongoStore::connect(
        &mongo.uri,
        &MongoConfig {
            database: mongo.database.clone(),
            ..MongoConfig::default()
        },
    )
    .await
    .unwrap();
    let now = Utc::now();
    let start = now - chrono::Duration::seconds(40);
    let anomaly = Anomaly {
        id: Anomaly::id_for(AnomalyKind::Burst, "payments", start),
        kind: AnomalyKind::Burst,
        service: "payments".into(),
        window_start: start,
        window_end: now - chrono::Duration::seconds(10),
        observed: 40.0,
        expected: 0.0,
        stddev: 0.0,
        score: 0.6,
        severity: Severity::High,
        status: AnomalyStatus::Open,
        first_seen: now,
        last_seen: now,
        message: "40 errors within the burst window (threshold 25)".into(),
        samples: Vec::new(),
        measure: None,
        explanation: Vec::new(),
    };
    store.upsert(std::slice::from_ref(&anomaly)).await.unwrap();
    // Detect groups it into an incident; alerts are per incident.
    let incidents = group(std::slice::from_ref(&anomaly), &IncidentConfig::default());
    store.upsert_incidents(&incidents).await.unwrap();
    let received = Received::default();
    let webhook = start_discord(received.clone()).await;

    let api = LambdaRuntimeApi::start().await;
    // Alert uses MongoDB alone: Redis is never contacted (nothing listens on
    // port 1).
    let env = [
        ("REDIS_URL", "redis://127.0.0.1:1".to_owned()),
        ("MONGODB_URI", mongo.uri.clone()),
        ("ANOMALOG_MONGODB_DATABASE", mongo.database.clone()),
    ];
    let _function = LambdaProcess::spawn(
        BINARY,
        &api,
        env.into_iter().chain([
            ("DISCORD_WEBHOOK_URL", webhook.clone()),
            ("SLACK_WEBHOOK_URL", webhook.clone()),
        ]),
    );
    let tick = json!({ "source": "aws.events", "detail-type": "Scheduled Event", "detail": {} });
    let first = api.invoke(tick.clone(), INVOKE_TIMEOUT).await;
    assert_eq!(
        first,
        Outcome::Response(json!({ "sent": 2, "failed": 0, "deferred": 0 }))
    );
    let second = api.invoke(tick, INVOKE_TIMEOUT).await;
    assert_eq!(
        second,
        Outcome::Response(json!({ "sent": 0, "failed": 0, "deferred": 0 }))
    );
    let received = received.lock().unwrap().clone();
    // One Discord embed and one Slack Block Kit message.
    assert_eq!(received.len(), 2);
    assert!(
        received.iter().any(|m| m.get("embeds").is_some()),
        "{received:?}"
    );
    assert!(
        received.iter().any(|m| m.get("blocks").is_some()),
        "{received:?}"
    );
    assert!(received[0].to_string().contains("payments"), "{received:?}");
}

/// Without any channel the function refuses to start and says why, to a
/// Runtime API addressed as AWS does (`host:port`) or as `cargo lambda
/// watch` does (`http://host:port/.rt`).
#[tokio::test(flavor = "multi_thread")]
async fn without_any_channel_it_reports_an_init_error_with_or_without_a_scheme() {
    let mongo = mongo_target();
    for prefix in ["", "/.rt"] {
        let api = LambdaRuntimeApi::start_at(prefix).await;
        let env = [
            ("REDIS_URL", "redis://127.0.0.1:1".to_owned()),
            ("MONGODB_URI", mongo.uri.clone()),
            ("ANOMALOG_MONGODB_DATABASE", mongo.database.clone()),
        ];
        let mut function = LambdaProcess::spawn(BINARY, &api, env);
        let error = api
            .init_error(Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("an init error at {}", api.runtime_api()));
        let message = error["errorMessage"].as_str().unwrap();
        for variable in [
            "DISCORD_WEBHOOK_URL",
            "SLACK_WEBHOOK_URL",
            "ANOMALOG_WEBHOOK_URL",
        ] {
            assert!(message.contains(variable), "{error}");
        }
        assert!(
            !function
                .wait_exit(Duration::from_secs(10))
                .expect("exits")
                .success()
        );
    }
}
