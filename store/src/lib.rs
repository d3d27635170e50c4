//! anomalog-store: the storage ports the functions need, and their adapters.
//!
//! [`ports`] defines the traits; [`embedded`] implements them all on one local
//! SQLite file for the all-in-one server. Handlers only ever see the traits
//! (bundled as [`Stores`]), so the same handler code runs against every adapter.

pub mod embedded;
pub mod ports;

pub use embedded::EmbeddedStore;
pub use ports::{
    AnomalyQuery, AnomalyStore, Delivery, DeliveryStore, EventQueue, LogCursor, LogPage, LogQuery,
    LogStore, PersistReport, QueueEntry, RollupStore, ServiceSummary, Stores,
};

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
