//! The alert worker both shapes (`anomalog up` and the alert Lambda) call.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};

use anomalog_alert::{AlertError, AlertPorts, AlertWorker, CHANNEL_VARS};
use anomalog_core::AnomalyStatus;
use anomalog_core::config::AlertConfig;
use anomalog_store::{EmbeddedStore, Stores};
use common::{Endpoint, anomaly};

#[test]
fn without_any_channel_the_worker_refuses_naming_the_variables() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let error = AlertWorker::new(&stores, &AlertConfig::default())
        .err()
        .expect("no channel is an error");
    assert!(matches!(error, AlertError::NoChannel), "{error}");
    for variable in CHANNEL_VARS {
        assert!(error.to_string().contains(variable), "{error}");
    }
}

#[tokio::test]
async fn each_tick_is_one_delivery_round_over_the_incidents() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let hook = Endpoint::default();
    let url = hook.start("/api/webhooks/1/secret-token").await;
    // The worker judges age against the clock: an anomaly of a minute ago.
    let mut recent = anomaly("payments", AnomalyStatus::Open);
    let shift = Utc::now() - recent.first_seen;
    recent.window_start += shift - Duration::minutes(1);
    recent.window_end += shift - Duration::minutes(1);
    recent.first_seen += shift;
    recent.last_seen += shift;
    common::detect(&AlertPorts::from(&stores), std::slice::from_ref(&recent)).await;
    let config = AlertConfig {
        discord_webhook_url: Some(url),
        ..AlertConfig::default()
    };
    let worker = AlertWorker::new(&stores, &config).unwrap();

    let first = worker.tick().await.unwrap();
    let second = worker.tick().await.unwrap();

    assert_eq!((first.sent, second.sent), (1, 0));
    assert_eq!(hook.bodies().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tick_after_a_mongodb_restart_succeeds() {
    let mut mongo = anomalog_testkit::MongoServer::start_persistent();
    let mut config = anomalog_core::Config::default();
    // Alert connects MongoDB alone; the Redis URL is never used.
    config.backends.redis_url = Some("redis://127.0.0.1:1".into());
    config.backends.mongodb_uri = Some(mongo.uri());
    config.backends.mongodb_database = "anomalog_alert_reconnect".into();
    let documents = anomalog_store::connect::connect_documents(&config)
        .await
        .unwrap();
    let hook = Endpoint::default();
    config.alert.discord_webhook_url = Some(hook.start("/api/webhooks/1/t").await);
    let worker = AlertWorker::new(documents, &config.alert).unwrap();
    assert_eq!(worker.tick().await.unwrap().sent, 0);

    mongo.restart();
    let report = worker.tick().await.expect("the tick retries");

    assert_eq!(report.failed, 0);
}
