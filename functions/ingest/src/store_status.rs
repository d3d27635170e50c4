//! The one mapping of storage failures to HTTP statuses, used by ingest and
//! by the read API alike.
//!
//! A failure the client can fix by waiting (the backend is unreachable, full
//! or refused the operation) is a 503 with `Retry-After`; one it cannot
//! (stored data that does not decode, a request the store cannot serve) is a
//! 500. Either way nothing was stored: a 202 is only ever sent after the
//! queue append returned.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use anomalog_store::StoreError;

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_SECS: u64 = 5;

/// The status that answers a request failed by `e`.
pub fn status_of(e: &StoreError) -> StatusCode {
    match e {
        StoreError::Unavailable(_) | StoreError::Backend(_) => StatusCode::SERVICE_UNAVAILABLE,
        StoreError::Corrupt(_) | StoreError::Invalid(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Adds `Retry-After: RETRY_AFTER_SECS` (every 503 carries it).
pub fn set_retry_after(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_failures_are_503_and_the_rest_500() {
        let cases = [
            (StoreError::Unavailable("down".into()), 503),
            (StoreError::Backend("refused".into()), 503),
            (StoreError::Corrupt("bad row".into()), 500),
            (StoreError::Invalid("bad id".into()), 500),
        ];
        for (e, status) in cases {
            assert_eq!(status_of(&e).as_u16(), status, "{e}");
        }
    }
}
