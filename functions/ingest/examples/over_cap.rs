//! What one over-cap shipper body costs: builds a body of `RECORDS` empty
//! records (default 1,000,000, far above `ingest.max_events`) in one protocol,
//! sends it once through the real router over an embedded store, and prints
//! the answer, the time it took and the process's peak RSS before and after.
//!
//! ```text
//! cargo run -p anomalog-ingest --example over_cap -- otlp-proto [RECORDS]
//! ```
//!
//! Protocols: `otlp-proto`, `otlp-json`, `loki-proto`, `loki-json`, `bulk`.
//! Run one process per protocol: the peak RSS is the process's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement: fail loudly

use std::io::Write;
use std::time::Instant;

use axum::body::{Body, to_bytes};
use axum::http::{Request, header};
use prost::bytes::BufMut;
use prost::encoding::{WireType, encode_key, encode_varint};
use tower::ServiceExt;

use anomalog_core::config::IngestConfig;
use anomalog_ingest::{IngestState, router};
use anomalog_store::EmbeddedStore;

/// Peak resident set of this process (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A protobuf message field (`tag`, length-delimited) holding `inner`.
fn message_field(tag: u32, inner: &[u8], out: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, out);
    encode_varint(inner.len() as u64, out);
    out.put_slice(inner);
}

/// `n` empty messages in field `tag`, nested in fields `outer` (outermost first).
fn nested_empty_messages(outer: &[u32], tag: u32, n: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(2 * n + 16);
    for _ in 0..n {
        message_field(tag, &[], &mut body);
    }
    for &field in outer.iter().rev() {
        let mut wrapped = Vec::with_capacity(body.len() + 8);
        message_field(field, &body, &mut wrapped);
        body = wrapped;
    }
    body
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn repeated(open: &str, item: &str, close: &str, n: usize) -> Vec<u8> {
    let mut body = String::with_capacity(open.len() + n * (item.len() + 1) + close.len());
    body.push_str(open);
    for i in 0..n {
        if i > 0 {
            body.push(',');
        }
        body.push_str(item);
    }
    body.push_str(close);
    body.into_bytes()
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let protocol = args.next().unwrap_or_else(|| "otlp-proto".into());
    let records: usize = args.next().map_or(1_000_000, |n| n.parse().unwrap());

    let (path, content_type, encoding, decoded) = match protocol.as_str() {
        // ExportLogsServiceRequest.resource_logs(1).scope_logs(2).log_records(2)
        "otlp-proto" => (
            "/v1/logs",
            "application/x-protobuf",
            Some("gzip"),
            nested_empty_messages(&[1, 2], 2, records),
        ),
        "otlp-json" => (
            "/v1/logs",
            "application/json",
            Some("gzip"),
            repeated(
                r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":["#,
                "{}",
                "]}]}]}",
                records,
            ),
        ),
        // PushRequest.streams(1).entries(2), snappy-compressed below.
        "loki-proto" => (
            "/loki/api/v1/push",
            "application/x-protobuf",
            None,
            nested_empty_messages(&[1], 2, records),
        ),
        "loki-json" => (
            "/loki/api/v1/push",
            "application/json",
            Some("gzip"),
            repeated(
                r#"{"streams":[{"stream":{"app":"x"},"values":["#,
                r#"["1","x"]"#,
                "]}]}",
                records,
            ),
        ),
        "bulk" => (
            "/_bulk",
            "application/x-ndjson",
            Some("gzip"),
            "{\"create\":{}}\n{}\n".repeat(records).into_bytes(),
        ),
        other => panic!("unknown protocol {other}"),
    };
    let wire = match (protocol.as_str(), encoding) {
        ("loki-proto", _) => snap::raw::Encoder::new().compress_vec(&decoded).unwrap(),
        (_, Some(_)) => gzip(&decoded),
        (_, None) => decoded.clone(),
    };
    let decoded_len = decoded.len();
    drop(decoded);

    let dir = tempfile::tempdir().unwrap();
    let store = std::sync::Arc::new(EmbeddedStore::open_bounded(dir.path(), 1000).unwrap());
    let app = router(IngestState::new(store, IngestConfig::default()));
    let mut request = Request::post(path).header(header::CONTENT_TYPE, content_type);
    if let Some(encoding) = encoding {
        request = request.header(header::CONTENT_ENCODING, encoding);
    }
    let request = request.body(Body::from(wire.clone())).unwrap();

    let before = peak_rss_mib();
    let started = Instant::now();
    let response = app.oneshot(request).await.unwrap();
    let elapsed = started.elapsed();
    let status = response.status();
    let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let shown: String = String::from_utf8_lossy(&body).chars().take(200).collect();
    println!(
        "{protocol}: {records} records, {decoded_len} bytes decoded, {} on the wire -> {status} \
         in {:.3} s; peak RSS {before:.1} -> {:.1} MiB; answer: {}",
        wire.len(),
        elapsed.as_secs_f64(),
        peak_rss_mib(),
        shown.trim()
    );
}
