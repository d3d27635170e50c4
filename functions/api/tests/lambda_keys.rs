//! The read API as the api Lambda serves it (`guarded_router` over Redis and
//! MongoDB, keys from the `api_keys` collection): a `read` key is needed
//! whenever any key exists. Real Redis and SecantusDB (testkit).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;

use anomalog_api::ApiState;
use anomalog_core::Config;
use anomalog_ingest::auth::{Authenticator, STORED_KEYS_TTL, key_record};
use anomalog_store::{KeyStore, Scope};
use anomalog_testkit::http::call;
use anomalog_testkit::{RedisServer, mongo_target};

async fn status(app: &axum::Router, path: &str, key: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(path);
    if let Some(key) = key {
        request = request.header(header::AUTHORIZATION, format!("Bearer {key}"));
    }
    call(app, request.body(Body::empty()).unwrap()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_reads_need_a_stored_key_with_the_read_scope() {
    let redis = RedisServer::start();
    let mongo = mongo_target();
    let mut config = Config::default();
    config.backends.redis_url = Some(redis.url());
    config.backends.mongodb_uri = Some(mongo.uri.clone());
    config.backends.mongodb_database = mongo.database.clone();
    // What the Lambda's start-up connects.
    let stores = anomalog_store::connect::connect_external(&config)
        .await
        .unwrap();
    let keys = Arc::new(
        anomalog_store::keys::connect_mongo_keys(&config)
            .await
            .unwrap(),
    );
    for (name, key, scope) in [
        ("reader", "alg_reader", Scope::Read),
        ("shipper", "alg_shipper", Scope::Ingest),
    ] {
        keys.create(&key_record(name, key, vec![scope], Utc::now()))
            .await
            .unwrap();
    }
    let auth = Authenticator::from_keys(&config.ingest.api_keys).with_store(keys.clone());
    let app = anomalog_api::guarded_router(ApiState::new(stores), Arc::new(auth));

    let (code, body) = status(&app, "/api/logs", None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("\"error\""), "{body}");
    let (code, body) = status(&app, "/api/logs", Some("alg_unknown")).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
    let (code, body) = status(&app, "/api/logs", Some("alg_shipper")).await;
    assert_eq!(code, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("read"), "{body}");
    let (code, body) = status(&app, "/api/logs", Some("alg_reader")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let (code, body) = status(&app, "/api/stats/volume", Some("alg_reader")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    // Liveness stays open.
    let (code, body) = status(&app, "/api/health", None).await;
    assert_eq!(code, StatusCode::OK, "{body}");

    assert!(keys.revoke("reader").await.unwrap());
    let deadline = Instant::now() + STORED_KEYS_TTL + Duration::from_secs(10);
    loop {
        let (code, body) = status(&app, "/api/logs", Some("alg_reader")).await;
        if code == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(code, StatusCode::OK, "{body}");
        assert!(Instant::now() < deadline, "a revoked key still reads");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
