//! Ingest as the ingest Lambda serves it (the Redis queue, keys from their
//! Redis mirror), the keys written as `anomalog keys` writes them (MongoDB's
//! `api_keys`, then the mirror): an `ingest` key is needed whenever any key
//! exists, and a revoked key stops writing within the keys' cache time. Real
//! Redis and SecantusDB (testkit).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;

use anomalog_core::Config;
use anomalog_ingest::IngestState;
use anomalog_ingest::auth::{STORED_KEYS_TTL, key_record};
use anomalog_store::{EventQueue, Scope};
use anomalog_testkit::http::call;
use anomalog_testkit::{RedisServer, mongo_target};

async fn post(app: &axum::Router, key: Option<&str>) -> (StatusCode, String) {
    let mut request =
        Request::post("/ingest?service=web").header(header::CONTENT_TYPE, "text/plain");
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("bearer {key}"));
    }
    call(
        app,
        request.body(Body::from("ERROR payment failed\n")).unwrap(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_writes_need_a_stored_key_with_the_ingest_scope() {
    let redis = RedisServer::start();
    let mongo = mongo_target();
    let mut config = Config::default();
    config.backends.redis_url = Some(redis.url());
    config.backends.mongodb_uri = Some(mongo.uri.clone());
    config.backends.mongodb_database = mongo.database.clone();
    // What the Lambda's start-up connects.
    let queue = anomalog_store::connect::connect_queue(&config)
        .await
        .unwrap();
    // What `anomalog keys` opens.
    let keys = anomalog_store::keys::connect_keys(&config).await.unwrap();
    for (name, key, scope) in [
        ("shipper", "alg_shipper", Scope::Ingest),
        ("reader", "alg_reader", Scope::Read),
    ] {
        keys.create(&key_record(name, key, vec![scope], Utc::now()))
            .await
            .unwrap();
    }
    let state = IngestState::new(queue.clone(), config.ingest.clone())
        .with_key_store(Arc::new(queue.key_store()));
    let app = anomalog_ingest::router(state);

    let (code, body) = post(&app, None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
    let (code, body) = post(&app, Some("alg_reader")).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("ingest"), "{body}");
    assert_eq!(
        queue.backlog().await.unwrap(),
        0,
        "a refused batch was queued"
    );
    let (code, body) = post(&app, Some("alg_shipper")).await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    assert_eq!(queue.backlog().await.unwrap(), 1);

    assert!(keys.revoke("shipper").await.unwrap());
    let deadline = Instant::now() + STORED_KEYS_TTL + Duration::from_secs(10);
    loop {
        let (code, body) = post(&app, Some("alg_shipper")).await;
        if code == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(code, StatusCode::ACCEPTED, "{body}");
        assert!(Instant::now() < deadline, "a revoked key still writes");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
