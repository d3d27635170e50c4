//! anomalog-store: the storage ports the functions need, and their adapters.
//!
//! [`ports`] defines the traits; `embedded` implements them all on one local
//! SQLite file for the all-in-one server; `redis_queue` (the queue) and
//! `mongo` (everything else) are the production adapters. Handlers only ever
//! see the traits (bundled as [`Stores`]), so the same handler code runs
//! against every adapter. [`connect`](mod@connect) picks the adapters the
//! configuration asks for.
//!
//! Each adapter is behind a cargo feature of its name (`embedded`, `redis`,
//! `mongodb`; all on by default), so a binary links only the backend clients
//! it uses.

mod claimed;
pub mod connect;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(any(feature = "embedded", feature = "mongodb"))]
mod incident_records;
pub mod keys;
#[cfg(feature = "mongodb")]
pub mod mongo;
pub mod ports;
// The record shapes serve three adapters; a build with only some of them
// (the Lambdas: redis and/or mongodb) leaves the others' shapes unused.
#[cfg_attr(
    not(all(feature = "embedded", feature = "redis", feature = "mongodb")),
    allow(dead_code)
)]
mod records;
#[cfg(feature = "redis")]
pub mod redis_key_store;
#[cfg(feature = "redis")]
pub mod redis_keys;
#[cfg(feature = "redis")]
pub mod redis_queue;
pub mod validate;

#[cfg(feature = "embedded")]
pub use connect::connect;
#[cfg(feature = "embedded")]
pub use embedded::EmbeddedStore;
#[cfg(feature = "mongodb")]
pub use mongo::{MongoConfig, MongoStore};
pub use ports::{
    AnomalyQuery, AnomalyStore, Appended, ClaimedBatch, ClaimedEvent, Delivery, DeliveryStore,
    DetectorState, DetectorStateStore, DetectorSummary, EncodedBatch, EventQueue, IncidentNotice,
    IncidentQuery, IncidentStore, LogCursor, LogPage, LogQuery, LogStore, PATTERN_BUCKET_SECS,
    PATTERN_EXAMPLES, PatternQuery, PatternRecord, PatternRollupRow, PatternSighting, PatternStore,
    PersistReport, QueueEntry, RollupStore, ServiceSummary, Stores,
};
pub use ports::{ApiKeyRecord, ClaimLimit, KeyStore, Scope};
#[cfg(feature = "redis")]
pub use redis_queue::{RedisQueue, RedisQueueConfig};

/// A storage failure, classified by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend cannot be reached or cannot take writes now; retry later
    /// (ingest answers 503 with Retry-After).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// The backend refused or failed the operation.
    #[error("storage error: {0}")]
    Backend(String),
    /// Stored data could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The caller passed something the store cannot use.
    #[error("invalid request to storage: {0}")]
    Invalid(String),
}

/// Removes the `user:password@` part of `uri` wherever it appears in `message`.
#[cfg_attr(not(any(feature = "redis", feature = "mongodb")), allow(dead_code))]
fn redact(message: &str, uri: &str) -> String {
    let Some((_, rest)) = uri.split_once("://") else {
        return message.to_owned();
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return message.to_owned();
    };
    let mut out = message.to_owned();
    if !userinfo.is_empty() {
        out = out.replace(userinfo, "***");
    }
    // The password alone, too (a driver may quote it on its own).
    if let Some((_, password)) = userinfo.split_once(':')
        && !password.is_empty()
    {
        out = out.replace(password, "***");
    }
    out
}

#[cfg(feature = "embedded")]
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(
                ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::DiskFull
                | ErrorCode::CannotOpen
                | ErrorCode::ReadOnly
                | ErrorCode::SystemIoFailure,
            ) => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redaction_hides_credentials() {
        let uri = "mongodb://app:s3cret@db.example:27017/?replicaSet=rs0";
        let msg = "auth failed for app:s3cret@db.example";
        assert_eq!(super::redact(msg, uri), "auth failed for ***@db.example");
        assert_eq!(super::redact("x", "mongodb://db:1"), "x");
        assert_eq!(super::redact("pw s3cret", uri), "pw ***");
        assert_eq!(
            super::redact("bad redis://:pw@h", "redis://:pw@h:6379"),
            "bad redis://***@h"
        );
    }
}
