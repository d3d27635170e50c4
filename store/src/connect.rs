//! Adapter selection: one function every binary calls to get its [`Stores`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anomalog_core::Config;

use crate::{
    EmbeddedStore, MongoConfig, MongoStore, RedisQueue, RedisQueueConfig, StoreError, Stores,
};

/// Consumer group of the detect function on the Redis stream.
pub const CONSUMER_GROUP: &str = "anomalog-detect";

/// Environment variables a stateless deployment (AWS Lambda) must set.
pub const EXTERNAL_BACKEND_VARS: [&str; 2] = ["REDIS_URL", "MONGODB_URI"];

/// Like [`connect`], for a stateless deployment: refuses the embedded store
/// (each Lambda instance would get its own empty, short-lived copy) with an
/// error naming the variables to set.
pub async fn connect_external(config: &Config) -> Result<Stores, StoreError> {
    if !config.backends.external() {
        return Err(StoreError::Invalid(format!(
            "{} and {} must both be set: a serverless function keeps no state of its own, \
             the queue lives in Redis and everything else in MongoDB",
            EXTERNAL_BACKEND_VARS[0], EXTERNAL_BACKEND_VARS[1]
        )));
    }
    connect(config).await
}

/// Builds the stores `config` asks for: a Redis stream queue and MongoDB for
/// the rest when `backends.redis_url` and `backends.mongodb_uri` are both set,
/// otherwise the embedded store in `storage.data_dir`.
///
/// Connects and prepares the backends (consumer group, indexes), so a wrong
/// URL or an unreachable server fails here, at start. Errors never contain the
/// URLs (they may carry passwords).
pub async fn connect(config: &Config) -> Result<Stores, StoreError> {
    crate::validate::backends(&config.backends).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let backends = &config.backends;
    match (&backends.redis_url, &backends.mongodb_uri) {
        (Some(redis_url), Some(mongodb_uri)) => {
            let queue = RedisQueue::connect(
                redis_url,
                RedisQueueConfig {
                    stream: backends.redis_stream.clone(),
                    group: CONSUMER_GROUP.to_owned(),
                    max_len: config.storage.max_queue_entries,
                    reclaim_after: Duration::from_secs(backends.reclaim_after_secs),
                    ..RedisQueueConfig::default()
                },
            )
            .await?;
            let mongo = Arc::new(
                MongoStore::connect(
                    mongodb_uri,
                    &MongoConfig {
                        database: backends.mongodb_database.clone(),
                        retention_days: config.storage.retention_days,
                        ..MongoConfig::default()
                    },
                )
                .await?,
            );
            Ok(Stores {
                queue: Arc::new(queue),
                logs: mongo.clone(),
                rollups: mongo.clone(),
                anomalies: mongo.clone(),
                deliveries: mongo,
            })
        }
        (None, None) => {
            let dir = PathBuf::from(&config.storage.data_dir);
            let store = EmbeddedStore::open_bounded(&dir, config.storage.max_queue_entries)?
                .reclaim_after(Duration::from_secs(backends.reclaim_after_secs));
            Ok(Stores::from_adapter(Arc::new(store)))
        }
        // `Config::validate` rejects this already; kept for callers that skip it.
        _ => Err(StoreError::Invalid(
            "set both REDIS_URL and MONGODB_URI, or neither for embedded storage".into(),
        )),
    }
}
