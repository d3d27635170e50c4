//! The CPU hot path of the ingest function, compiled as the Lambda bootstraps
//! are: parse a 1,000-event JSON batch (`parse_body`, as `POST /ingest` does)
//! and encode the accepted events as JSON (the queue payload's shape). It
//! exists to compare the `aws-lambda` profile's opt-level choices on speed
//! (docs/deploy-aws.md):
//!
//! ```sh
//! CARGO_PROFILE_AWS_LAMBDA_OPT_LEVEL=z \
//!   cargo bench -p anomalog-lambda --bench hot_path --profile aws-lambda
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use divan::Bencher;

use anomalog_core::parse::{BodyFormat, ParseDefaults, ParseLimits, parse_body};

const EVENTS: usize = 1_000;

fn main() {
    divan::main();
}

/// A mixed batch: structured fields, attributes, levels, a few timestamps in
/// other shapes.
fn batch() -> Vec<u8> {
    let events: Vec<serde_json::Value> = (0..EVENTS)
        .map(|i| {
            let ts = match i % 3 {
                0 => serde_json::json!("2026-11-23T10:00:00.123Z"),
                1 => serde_json::json!(1_795_000_000_000_i64 + i as i64),
                _ => serde_json::json!("2026-11-23 10:00:01"),
            };
            serde_json::json!({
                "ts": ts,
                "service": if i % 4 == 0 { "checkout" } else { "search" },
                "level": if i % 10 == 0 { "error" } else { "info" },
                "message": format!("order {i} placed for customer {} in 35 ms", i * 7),
                "host": format!("web-{}", i % 8),
                "user_id": i * 31,
                "region": "eu-west-1",
            })
        })
        .collect();
    serde_json::to_vec(&events).unwrap()
}

fn defaults() -> ParseDefaults {
    ParseDefaults {
        service: None,
        host: None,
        source: None,
        received_at: Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 5).unwrap(),
    }
}

#[divan::bench]
fn parse_1000_event_json_batch(bencher: Bencher) {
    let body = batch();
    let (defaults, limits) = (defaults(), ParseLimits::default());
    let parsed = parse_body(BodyFormat::Json, &body, &defaults, &limits).unwrap();
    assert_eq!((parsed.events.len(), parsed.rejections.len()), (EVENTS, 0));
    bencher
        .counter(divan::counter::ItemsCount::new(EVENTS))
        .bench(|| {
            parse_body(
                BodyFormat::Json,
                divan::black_box(&body),
                &defaults,
                &limits,
            )
        });
}

#[divan::bench]
fn parse_and_encode_1000_events(bencher: Bencher) {
    let body = batch();
    let (defaults, limits) = (defaults(), ParseLimits::default());
    bencher
        .counter(divan::counter::ItemsCount::new(EVENTS))
        .bench(|| {
            let parsed = parse_body(
                BodyFormat::Json,
                divan::black_box(&body),
                &defaults,
                &limits,
            )
            .unwrap();
            serde_json::to_vec(&parsed.events).unwrap()
        });
}
