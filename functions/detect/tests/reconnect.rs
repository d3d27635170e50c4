//! Resilient connections: a backend that dropped the worker's idle
//! connection (a restart, an idle timeout, a fail-over) costs a retry inside
//! the next tick, not a failed tick.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::{Duration, Instant};

use chrono::Utc;

use anomalog_core::{Config, Level, LogEvent};
use anomalog_detect::{DetectWorker, LAMBDA_CONSUMER};
use anomalog_testkit::{MongoServer, RedisServer};

fn config(redis: &RedisServer, mongo: &MongoServer) -> Config {
    let mut config = Config::default();
    config.backends.redis_url = Some(redis.url());
    config.backends.mongodb_uri = Some(mongo.uri());
    config.backends.mongodb_database = "anomalog_reconnect".into();
    config
}

async fn queue_one(worker: &DetectWorker, message: &str) {
    let event = LogEvent::new(Utc::now(), "web", Level::Info, message);
    worker.stores().queue.append(&[event]).await.unwrap();
}

fn later() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tick_after_a_backend_restart_succeeds() {
    let mut redis = RedisServer::start();
    let mut mongo = MongoServer::start_persistent();
    let config = config(&redis, &mongo);
    let stores = anomalog_store::connect(&config).await.unwrap();
    let worker = DetectWorker::new(stores, &config, LAMBDA_CONSUMER);
    queue_one(&worker, "before").await;
    assert_eq!(worker.tick(later()).await.unwrap().inserted, 1);

    // Redis drops every connection: the worker's is now dead.
    redis.restart();
    let fresh = anomalog_store::connect(&config).await.unwrap();
    fresh
        .queue
        .append(&[LogEvent::new(Utc::now(), "web", Level::Info, "after redis")])
        .await
        .unwrap();
    let report = worker.tick(later()).await.expect("the tick retries");
    assert_eq!(report.inserted, 1);

    // The same for MongoDB: restarted on the same port and data.
    mongo.restart();
    queue_one(&worker, "after mongo").await;
    let report = worker.tick(later()).await.expect("the tick retries");
    assert_eq!(report.inserted, 1);
}
