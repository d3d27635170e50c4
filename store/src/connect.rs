//! Adapter selection: the functions binaries call to get the ports they use.
//!
//! `anomalog up` calls [`connect`] (every port; embedded or Redis + MongoDB).
//! A stateless deployment (AWS Lambda) connects only what its function uses:
//! [`connect_queue`] (ingest), [`connect_documents`] (alert), or
//! [`connect_external`] (every port: detect and api). Each checks
//! [`require_external`] first, so a function without `REDIS_URL` and
//! `MONGODB_URI` refuses to start with an error naming them.

#[cfg(any(feature = "redis", feature = "mongodb"))]
use std::sync::Arc;
#[cfg(any(feature = "redis", feature = "embedded"))]
use std::time::Duration;

use anomalog_core::Config;

use crate::StoreError;
#[cfg(any(all(feature = "redis", feature = "mongodb"), feature = "embedded"))]
use crate::Stores;
#[cfg(feature = "mongodb")]
use crate::{MongoConfig, MongoStore};
#[cfg(feature = "redis")]
use crate::{RedisQueue, RedisQueueConfig};

/// Consumer group of the detect function on the Redis stream.
pub const CONSUMER_GROUP: &str = "anomalog-detect";

/// Environment variables a stateless deployment (AWS Lambda) must set.
pub const EXTERNAL_BACKEND_VARS: [&str; 2] = ["REDIS_URL", "MONGODB_URI"];

/// Refuses the embedded store (each Lambda instance would get its own empty,
/// short-lived copy) with an error naming the variables to set.
pub fn require_external(config: &Config) -> Result<(), StoreError> {
    if config.backends.external() {
        return Ok(());
    }
    Err(StoreError::Invalid(format!(
        "{} and {} must both be set: a serverless function keeps no state of its own, \
         the queue lives in Redis and everything else in MongoDB",
        EXTERNAL_BACKEND_VARS[0], EXTERNAL_BACKEND_VARS[1]
    )))
}

/// The Redis stream queue alone (what ingest uses), for a stateless
/// deployment: connects, prepares the consumer group, warns when Redis does
/// not persist. MongoDB is not contacted.
#[cfg(feature = "redis")]
pub async fn connect_queue(config: &Config) -> Result<Arc<RedisQueue>, StoreError> {
    crate::validate::backends(&config.backends).map_err(|e| StoreError::Invalid(e.to_string()))?;
    require_external(config)?;
    let backends = &config.backends;
    let Some(redis_url) = &backends.redis_url else {
        return Err(missing(EXTERNAL_BACKEND_VARS[0]));
    };
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
    Ok(Arc::new(queue))
}

/// The MongoDB store alone (logs, rollups, anomalies, deliveries: what alert
/// uses), for a stateless deployment: connects and prepares the indexes.
/// Redis is not contacted.
#[cfg(feature = "mongodb")]
pub async fn connect_documents(config: &Config) -> Result<Arc<MongoStore>, StoreError> {
    crate::validate::backends(&config.backends).map_err(|e| StoreError::Invalid(e.to_string()))?;
    require_external(config)?;
    let backends = &config.backends;
    let Some(mongodb_uri) = &backends.mongodb_uri else {
        return Err(missing(EXTERNAL_BACKEND_VARS[1]));
    };
    let mongo = MongoStore::connect(
        mongodb_uri,
        &MongoConfig {
            database: backends.mongodb_database.clone(),
            retention_days: config.storage.retention_days,
            ..MongoConfig::default()
        },
    )
    .await?;
    Ok(Arc::new(mongo))
}

/// Every port on Redis and MongoDB, for a stateless deployment: refuses the
/// embedded store with an error naming `REDIS_URL` and `MONGODB_URI`.
#[cfg(all(feature = "redis", feature = "mongodb"))]
pub async fn connect_external(config: &Config) -> Result<Stores, StoreError> {
    let queue = connect_queue(config).await?;
    let mongo = connect_documents(config).await?;
    Ok(Stores {
        queue,
        logs: mongo.clone(),
        rollups: mongo.clone(),
        anomalies: mongo.clone(),
        deliveries: mongo.clone(),
        patterns: mongo.clone(),
        incidents: mongo.clone(),
        detector_states: mongo,
    })
}

/// Builds the stores `config` asks for: a Redis stream queue and MongoDB for
/// the rest when `backends.redis_url` and `backends.mongodb_uri` are both set
/// (which needs the `redis` and `mongodb` features), otherwise the embedded
/// store in `storage.data_dir`.
///
/// Connects and prepares the backends (consumer group, indexes), so a wrong
/// URL or an unreachable server fails here, at start. Errors never contain the
/// URLs (they may carry passwords).
#[cfg(feature = "embedded")]
pub async fn connect(config: &Config) -> Result<Stores, StoreError> {
    crate::validate::backends(&config.backends).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let backends = &config.backends;
    match (&backends.redis_url, &backends.mongodb_uri) {
        (Some(_), Some(_)) => {
            #[cfg(all(feature = "redis", feature = "mongodb"))]
            return connect_external(config).await;
            #[cfg(not(all(feature = "redis", feature = "mongodb")))]
            return Err(StoreError::Invalid(
                "this build has no Redis or MongoDB adapter (cargo features `redis`, `mongodb`)"
                    .into(),
            ));
        }
        (None, None) => {
            let dir = std::path::PathBuf::from(&config.storage.data_dir);
            let store = crate::EmbeddedStore::open_bounded(&dir, config.storage.max_queue_entries)?
                .reclaim_after(Duration::from_secs(backends.reclaim_after_secs));
            Ok(Stores::from_adapter(std::sync::Arc::new(store)))
        }
        // `Config::validate` rejects this already; kept for callers that skip it.
        _ => Err(StoreError::Invalid(
            "set both REDIS_URL and MONGODB_URI, or neither for embedded storage".into(),
        )),
    }
}

#[cfg(any(feature = "redis", feature = "mongodb"))]
fn missing(variable: &str) -> StoreError {
    StoreError::Invalid(format!("{variable} is not set"))
}
