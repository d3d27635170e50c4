//! [`KeyStore`] on Redis: a mirror of the stored API keys for the ingest
//! Lambda, so that it checks keys on the connection of its queue and links no
//! MongoDB driver.
//!
//! The keys live in one Redis hash next to the queue (`{anomalog:events}:api_keys`
//! for the default stream: same hash slot), field = the key's name, value = a
//! small JSON record holding the SHA-256 digest (never the key), the scopes and
//! the creation time. MongoDB's `api_keys` stays the record of keys:
//! [`MirroredKeyStore`] (what `anomalog keys` opens on external backends) writes
//! MongoDB first, then the mirror, and every listing brings the mirror back in
//! line with MongoDB (so `anomalog keys list` repairs a mirror that lost a write,
//! or keys created before the mirror existed).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::ports::{ApiKeyRecord, KeyStore, Scope};
use crate::redis_keys::hashed_part;
use crate::redis_queue::classify;

/// The stored form of one key (the hash field is its name).
#[derive(Serialize, Deserialize)]
struct Stored {
    digest: String,
    scopes: Vec<Scope>,
    created_at: DateTime<Utc>,
}

/// The API keys mirrored in one Redis hash.
#[derive(Clone)]
pub struct RedisKeyStore {
    conn: ConnectionManager,
    hash: String,
}

impl RedisKeyStore {
    /// The keys of the queue on `stream`, on `conn`.
    pub(crate) fn new(conn: ConnectionManager, stream: &str) -> RedisKeyStore {
        let base = if hashed_part(stream) == stream {
            format!("{{{stream}}}")
        } else {
            stream.to_owned()
        };
        RedisKeyStore {
            conn,
            hash: format!("{base}:api_keys"),
        }
    }

    /// The name of the Redis hash that holds the keys.
    pub fn hash_key(&self) -> &str {
        &self.hash
    }

    /// Makes the mirror hold exactly `keys` (one MULTI: readers never see
    /// it empty half-way).
    pub async fn replace_all(&self, keys: &[ApiKeyRecord]) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.atomic().del(&self.hash).ignore();
        for key in keys {
            pipe.hset(&self.hash, &key.name, encode(key)?).ignore();
        }
        pipe.query_async::<()>(&mut self.conn.clone())
            .await
            .map_err(classify)
    }

    /// Writes `key`, replacing a key of the same name.
    pub async fn put(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        redis::cmd("HSET")
            .arg(&self.hash)
            .arg(&key.name)
            .arg(encode(key)?)
            .query_async::<i64>(&mut self.conn.clone())
            .await
            .map(drop)
            .map_err(classify)
    }
}

fn encode(key: &ApiKeyRecord) -> Result<String, StoreError> {
    serde_json::to_string(&Stored {
        digest: key.digest.clone(),
        scopes: key.scopes.clone(),
        created_at: key.created_at,
    })
    .map_err(|e| StoreError::Backend(format!("cannot encode an API key record: {e}")))
}

#[async_trait]
impl KeyStore for RedisKeyStore {
    async fn create(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let created: i64 = redis::cmd("HSETNX")
            .arg(&self.hash)
            .arg(&key.name)
            .arg(encode(key)?)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(classify)?;
        if created == 0 {
            return Err(StoreError::Invalid(format!(
                "an API key named {:?} exists already",
                key.name
            )));
        }
        Ok(())
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let fields: Vec<(String, String)> = redis::cmd("HGETALL")
            .arg(&self.hash)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(classify)?;
        let mut keys = fields
            .into_iter()
            .map(|(name, value)| {
                let stored: Stored = serde_json::from_str(&value)
                    .map_err(|e| StoreError::Corrupt(format!("API key {name:?} in Redis: {e}")))?;
                Ok(ApiKeyRecord {
                    name,
                    digest: stored.digest,
                    scopes: stored.scopes,
                    created_at: stored.created_at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(keys)
    }

    async fn revoke(&self, name: &str) -> Result<bool, StoreError> {
        let removed: i64 = redis::cmd("HDEL")
            .arg(&self.hash)
            .arg(name)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(classify)?;
        Ok(removed > 0)
    }
}

/// The keys of a deployment on external backends: `primary` (MongoDB) is the
/// record, `mirror` (Redis) what the ingest Lambda reads. Writes go to the
/// primary first, then the mirror; a failed mirror write fails the call
/// (re-running `anomalog keys list` repairs the mirror). Listing reads the
/// primary and rewrites the mirror when it differs.
pub struct MirroredKeyStore<P> {
    primary: P,
    mirror: RedisKeyStore,
}

impl<P: KeyStore> MirroredKeyStore<P> {
    pub fn new(primary: P, mirror: RedisKeyStore) -> MirroredKeyStore<P> {
        MirroredKeyStore { primary, mirror }
    }
}

#[async_trait]
impl<P: KeyStore> KeyStore for MirroredKeyStore<P> {
    async fn create(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.primary.create(key).await?;
        self.mirror.put(key).await.map_err(mirror_failed)
    }

    async fn list(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let keys = self.primary.list().await?;
        if self.mirror.list().await.ok().as_ref() != Some(&keys) {
            tracing::info!(
                keys = keys.len(),
                "bringing the Redis mirror of the API keys in line"
            );
            self.mirror.replace_all(&keys).await?;
        }
        Ok(keys)
    }

    async fn revoke(&self, name: &str) -> Result<bool, StoreError> {
        let revoked = self.primary.revoke(name).await?;
        self.mirror.revoke(name).await.map_err(mirror_failed)?;
        Ok(revoked)
    }
}

/// A mirror write that failed after MongoDB's: the same kind of error, saying
/// what was written and how to repair.
fn mirror_failed(e: StoreError) -> StoreError {
    let say = |m: String| {
        format!(
            "MongoDB was written but the keys' Redis copy was not ({m}); \
             `anomalog keys list` brings it in line"
        )
    };
    match e {
        StoreError::Unavailable(m) => StoreError::Unavailable(say(m)),
        StoreError::Invalid(m) => StoreError::Invalid(say(m)),
        StoreError::Corrupt(m) => StoreError::Corrupt(say(m)),
        StoreError::Backend(m) => StoreError::Backend(say(m)),
    }
}
