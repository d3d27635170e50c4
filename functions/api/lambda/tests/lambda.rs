//! The real Lambda binary of the read API (`anomalog-api-lambda`), run
//! against a local Lambda Runtime API with real Redis and SecantusDB.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_store::{LogStore, MongoConfig, MongoStore};
use anomalog_testkit::lambda::{
    LambdaProcess, LambdaRuntimeApi, backend_env, function_url_event, http_response,
};
use anomalog_testkit::{RedisServer, mongo_target};

const BINARY: &str = env!("CARGO_BIN_EXE_anomalog-api-lambda");
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);

fn log(n: usize, service: &str, level: Level) -> StoredLog {
    let ts = Utc::now() - chrono::Duration::seconds(60 - n as i64);
    StoredLog {
        pattern: None,
        id: format!("000000000001-{n:05}"),
        event: LogEvent {
            ts,
            received_at: ts,
            service: service.into(),
            host: None,
            level,
            message: format!("{service} line {n}"),
            attrs: Default::default(),
            trace_id: None,
            span_id: None,
            source: None,
            truncated: false,
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn function_url_reads_answer_from_mongodb() {
    let redis = RedisServer::start();
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
    let logs: Vec<StoredLog> = (0..7)
        .map(|n| log(n, if n < 4 { "payments" } else { "search" }, Level::Error))
        .collect();
    store.persist(&logs).await.unwrap();

    let api = LambdaRuntimeApi::start().await;
    let _function = LambdaProcess::spawn(BINARY, &api, backend_env(&redis, &mongo));
    let get = |path: &str, query: &str| {
        function_url_event(
            "GET",
            path,
            query,
            json!({ "accept": "application/json" }),
            None,
        )
    };

    let (status, page) = http_response(
        api.invoke(
            get("/api/logs", "service=payments&limit=50"),
            INVOKE_TIMEOUT,
        )
        .await,
    );
    assert_eq!(status, 200, "{page}");
    let services: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["service"].as_str().unwrap())
        .collect();
    assert_eq!(services, ["payments"; 4]);

    let (status, health) = http_response(api.invoke(get("/api/health", ""), INVOKE_TIMEOUT).await);
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["queue_backlog"], 0, "{health}");

    let (status, error) = http_response(
        api.invoke(get("/api/logs", "level=loud"), INVOKE_TIMEOUT)
            .await,
    );
    assert_eq!(status, 400, "{error}");

    // The OpenAPI document is public and whole, with or without the docs page.
    let (status, document) = http_response(
        api.invoke(get("/api/openapi.json", ""), INVOKE_TIMEOUT)
            .await,
    );
    assert_eq!(status, 200, "{document}");
    assert_eq!(
        document,
        serde_json::to_value(anomalog_api::openapi_document()).unwrap()
    );
}
