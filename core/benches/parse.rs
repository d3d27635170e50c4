//! Cost of parsing ingest bodies: 1,000-event JSON bodies with the usual
//! lower-case keys (the common case, which case-insensitive key matching must not
//! slow down), with camelCase keys, and with the upper-case keys syslog-ng's
//! `format-json --scope rfc5424` sends; and 1,000 plain-text lines. Run with
//! `cargo bench -p anomalog-core --bench parse`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use divan::{Bencher, black_box};

use anomalog_core::parse::{BodyFormat, ParseDefaults, ParseLimits, parse_body};

fn main() {
    divan::main();
}

const EVENTS: usize = 1_000;

fn defaults() -> ParseDefaults {
    ParseDefaults {
        service: None,
        host: None,
        source: None,
        received_at: Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap(),
    }
}

fn json_body(record: impl Fn(usize) -> serde_json::Value) -> String {
    serde_json::Value::Array((0..EVENTS).map(record).collect()).to_string()
}

fn run(bencher: Bencher, format: BodyFormat, body: String) {
    let defaults = defaults();
    let limits = ParseLimits::default();
    bencher
        .counter(divan::counter::ItemsCount::new(EVENTS))
        .bench_local(|| {
            let batch = parse_body(format, black_box(body.as_bytes()), &defaults, &limits).unwrap();
            assert_eq!(batch.events.len(), EVENTS, "{:?}", batch.rejections.first());
            batch
        });
}

#[divan::bench]
fn json_lower_case_keys(bencher: Bencher) {
    let body = json_body(|i| {
        serde_json::json!({
            "ts": "2026-12-04T08:00:00.123Z",
            "service": "checkout",
            "level": if i % 10 == 0 { "error" } else { "info" },
            "message": format!("order {i} placed for customer {}", i * 7),
            "host": "web-1",
            "order_id": i,
        })
    });
    run(bencher, BodyFormat::Json, body);
}

#[divan::bench]
fn json_camel_case_keys(bencher: Bencher) {
    let body = json_body(|i| {
        serde_json::json!({
            "timestamp": "2026-12-04T08:00:00.123Z",
            "service": "checkout",
            "level": "info",
            "message": format!("order {i} placed"),
            "traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
            "spanId": "00f067aa0ba902b7",
            "orderId": i,
            "customerId": i * 7,
        })
    });
    run(bencher, BodyFormat::Json, body);
}

#[divan::bench]
fn json_syslog_ng_rfc5424_keys(bencher: Bencher) {
    let body = json_body(|i| {
        serde_json::json!({
            "SOURCE": "s_net",
            "PROGRAM": "checkout",
            "PRIORITY": if i % 10 == 0 { "err" } else { "info" },
            "PID": "4242",
            "MESSAGE": format!("order {i} placed for customer {}", i * 7),
            "ISODATE": "2026-12-04T08:00:00+00:00",
            "HOST": "web-1",
            "FACILITY": "user",
        })
    });
    run(bencher, BodyFormat::Json, body);
}

#[divan::bench]
fn text_lines(bencher: Bencher) {
    let body: String = (0..EVENTS)
        .map(|i| format!("2026-12-04T08:00:00.123Z ERROR order {i} failed: card declined\n"))
        .collect();
    let defaults = ParseDefaults {
        service: Some("checkout".to_owned()),
        ..defaults()
    };
    let limits = ParseLimits::default();
    bencher
        .counter(divan::counter::ItemsCount::new(EVENTS))
        .bench_local(|| {
            parse_body(
                BodyFormat::Text,
                black_box(body.as_bytes()),
                &defaults,
                &limits,
            )
            .unwrap()
        });
}
