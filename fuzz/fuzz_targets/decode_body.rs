//! gzip and zstd request bodies: never panic, never more than the limit.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, header};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let mut headers = HeaderMap::new();
    let encoding = if choice % 2 == 0 { "gzip" } else { "zstd" };
    headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    if let Ok(decoded) = anomalog_ingest::decode(&headers, Bytes::copy_from_slice(body), LIMIT) {
        assert!(decoded.len() <= LIMIT);
    }
});
