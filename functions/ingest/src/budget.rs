//! What one request may take of the process while it is read, decoded and
//! parsed: bytes from the in-flight budget (`ingest.max_inflight_bytes`),
//! and a CPU slot for the decompression and parsing themselves.
//!
//! Decoding runs on the blocking pool, but the operating system shares the
//! cores between every thread: sixteen bodies decoding at once on two cores
//! would leave the async workers (health checks, small requests) a sliver of
//! CPU. So at most [`cpu_slots`] requests decode or parse at once, one core
//! fewer than the machine has; the others wait (at most [`CPU_WAIT`], then
//! 503 with Retry-After) holding only their reservation.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use anomalog_core::config::IngestConfig;

use crate::{INFLIGHT_WAIT, IngestError};

/// Longest a request waits for a CPU slot before it is answered busy.
pub const CPU_WAIT: Duration = Duration::from_secs(5);

/// Requests decoding or parsing at once: the cores less one, at least one.
pub fn cpu_slots() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get().saturating_sub(1))
        .max(1)
}

/// Reserves what a request with `headers` may take in memory: the body on
/// the wire, plus what decoding and parsing make of it (the decoded limit
/// when compressed, about the body again when not). `None` when the budget
/// did not free up within [`INFLIGHT_WAIT`].
pub(crate) async fn reserve(
    inflight: &Arc<Semaphore>,
    headers: &HeaderMap,
    config: &IngestConfig,
) -> Option<OwnedSemaphorePermit> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(config.max_body_bytes, |n| n.min(config.max_body_bytes));
    let compressed = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().is_empty() && !v.trim().eq_ignore_ascii_case("identity"));
    let expansion = if compressed {
        config.max_decoded_bytes.saturating_mul(2)
    } else {
        declared.saturating_mul(2)
    };
    let budget = config.max_inflight_bytes.min(Semaphore::MAX_PERMITS);
    let weight = declared.saturating_add(expansion).clamp(1, budget);
    let permits = u32::try_from(weight).unwrap_or(u32::MAX);
    let reserve = Arc::clone(inflight).acquire_many_owned(permits);
    match tokio::time::timeout(INFLIGHT_WAIT, reserve).await {
        Ok(Ok(permit)) => Some(permit),
        _ => None,
    }
}

/// Runs `work` on the blocking pool once a CPU slot is free.
pub(crate) async fn on_cpu<T, F>(
    slots: &Arc<Semaphore>,
    config: &IngestConfig,
    work: F,
) -> Result<T, IngestError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let slot = Arc::clone(slots).acquire_owned();
    let Ok(Ok(slot)) = tokio::time::timeout(CPU_WAIT, slot).await else {
        return Err(IngestError::Busy {
            inflight_limit: config.max_inflight_bytes,
        });
    };
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .map_err(|e| IngestError::Internal(format!("decoding failed: {e}")))
}
