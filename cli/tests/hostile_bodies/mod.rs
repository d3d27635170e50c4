//! Hostile bodies of the hostile suite (cli/tests/hostile.rs) that take
//! some building: millions of tiny records in each shipper protocol.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::Write;

/// A protobuf length-delimited field `field` holding `inner`.
fn protobuf_field(field: u8, inner: &[u8]) -> Vec<u8> {
    let mut out = vec![(field << 3) | 2];
    let mut len = inner.len();
    while len >= 0x80 {
        out.push((len as u8 & 0x7f) | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(inner);
    out
}

/// `n` empty messages in field 2, nested in the length-delimited fields
/// `outer` (outermost first): two bytes a record.
fn empty_records(outer: &[u8], n: usize) -> Vec<u8> {
    let mut body = [2 << 3 | 2, 0].repeat(n);
    for &field in outer.iter().rev() {
        body = protobuf_field(field, &body);
    }
    body
}

/// `n` copies of `item`, comma-separated, between `open` and `close`.
fn json_list(open: &str, item: &str, close: &str, n: usize) -> Vec<u8> {
    format!("{open}{}{close}", vec![item; n].join(",")).into_bytes()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Each shipper protocol's body of millions of empty records (path,
/// content type, content encoding, body): within the decoded size limit,
/// far over `ingest.max_events`.
pub fn tiny_records() -> [(&'static str, &'static str, &'static str, Vec<u8>); 5] {
    [
        (
            "/v1/logs",
            "application/x-protobuf",
            "gzip",
            gzip(&empty_records(&[1, 2], 10_000_000)),
        ),
        (
            "/v1/logs",
            "application/json",
            "gzip",
            gzip(&json_list(
                r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":["#,
                "{}",
                "]}]}]}",
                6_500_000,
            )),
        ),
        (
            "/loki/api/v1/push",
            "application/x-protobuf",
            "",
            snap::raw::Encoder::new()
                .compress_vec(&empty_records(&[1], 10_000_000))
                .unwrap(),
        ),
        (
            "/loki/api/v1/push",
            "application/json",
            "gzip",
            gzip(&json_list(
                r#"{"streams":[{"stream":{"app":"x"},"values":["#,
                r#"["1","x"]"#,
                "]}]}",
                2_000_000,
            )),
        ),
        (
            "/_bulk",
            "application/x-ndjson",
            "gzip",
            gzip("{\"delete\":{}}\n".repeat(1_400_000).as_bytes()),
        ),
    ]
}
