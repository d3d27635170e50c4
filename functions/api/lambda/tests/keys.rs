//! The real api Lambda binary checks stored keys: with a `read` key in
//! MongoDB's `api_keys`, a read without a key is 401 and with it 200 (the
//! scope and revocation cases are `functions/api/tests/lambda_keys.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use anomalog_store::{KeyStore, MongoConfig, MongoStore, Scope};
use anomalog_testkit::lambda::{
    LambdaProcess, LambdaRuntimeApi, backend_env, function_url_event, http_response,
};
use anomalog_testkit::{RedisServer, mongo_target};

const BINARY: &str = env!("CARGO_BIN_EXE_anomalog-api-lambda");
const INVOKE_TIMEOUT: Duration = Duration::from_secs(60);
const READER: &str = "alg_lambda_reader";

#[tokio::test(flavor = "multi_thread")]
async fn function_url_reads_need_a_stored_read_key() {
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
    store
        .create(&anomalog_ingest::auth::key_record(
            "reader",
            READER,
            vec![Scope::Read],
            Utc::now(),
        ))
        .await
        .unwrap();

    let api = LambdaRuntimeApi::start().await;
    let _function = LambdaProcess::spawn(BINARY, &api, backend_env(&redis, &mongo));
    let get = |key: Option<&str>| {
        let headers = match key {
            Some(key) => json!({ "authorization": format!("Bearer {key}") }),
            None => json!({}),
        };
        function_url_event("GET", "/api/logs", "limit=5", headers, None)
    };
    let (status, body) = http_response(api.invoke(get(None), INVOKE_TIMEOUT).await);
    assert_eq!(status, 401, "{body}");
    let (status, body) = http_response(api.invoke(get(Some(READER)), INVOKE_TIMEOUT).await);
    assert_eq!(status, 200, "{body}");
}
