//! The `Idempotency-Key` request header: a client that resends a batch after
//! losing the answer (a timeout, a crash before it recorded the 202) sends the
//! same key, and a batch whose key was queued within [`RETENTION`] is answered
//! 202 again without being queued twice.
//!
//! The key is recorded by the queue atomically with the append
//! ([`EventQueue::append_idempotent`]), so a crash of ingest or of the queue
//! keeps both or neither. Keys are scoped by the request's credentials: two
//! clients with different API keys never collide.
//!
//! [`EventQueue::append_idempotent`]: anomalog_store::EventQueue::append_idempotent

use std::time::Duration;

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

use crate::IngestError;

/// The request header carrying the key.
pub const HEADER: &str = "idempotency-key";

/// How long a key is remembered after its batch was queued.
pub const RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

/// Longest key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 256;

/// The queue's key for a request: `None` without the header; a 400 when the
/// header is empty, too long or not visible ASCII.
pub fn scoped_key(headers: &HeaderMap) -> Result<Option<String>, IngestError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value.as_bytes();
    if key.is_empty() || key.len() > MAX_KEY_BYTES || !key.iter().all(|b| b.is_ascii_graphic()) {
        return Err(IngestError::Unparsable(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_BYTES} visible ASCII characters; nothing \
             was stored"
        )));
    }
    // The digest scopes the key by credentials and gives the queue a short,
    // fixed alphabet whatever the client sent.
    let mut digest = Sha256::new();
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        digest.update(auth.as_bytes());
    }
    digest.update(b"\n");
    digest.update(key);
    Ok(Some(hex(&digest.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn no_header_means_no_key() {
        assert_eq!(scoped_key(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn the_same_key_under_other_credentials_is_another_key() {
        let a = scoped_key(&headers(&[(HEADER, "k1"), ("authorization", "Bearer a")])).unwrap();
        let b = scoped_key(&headers(&[(HEADER, "k1"), ("authorization", "Bearer b")])).unwrap();
        let a2 = scoped_key(&headers(&[(HEADER, "k1"), ("authorization", "Bearer a")])).unwrap();
        assert_ne!(a, b);
        assert_eq!(a, a2);
    }

    #[test]
    fn a_blank_or_oversized_key_is_refused() {
        assert!(scoped_key(&headers(&[(HEADER, "")])).is_err());
        assert!(scoped_key(&headers(&[(HEADER, "a b")])).is_err());
        let long = "x".repeat(MAX_KEY_BYTES + 1);
        assert!(scoped_key(&headers(&[(HEADER, &long)])).is_err());
    }
}
