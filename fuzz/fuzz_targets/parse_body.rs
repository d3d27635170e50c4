//! Body parsing (JSON, NDJSON, plain text with its logfmt and timestamp
//! inference): never panics, and every record is either an event or a
//! rejection.
#![no_main]

use anomalog_core::parse::{BodyFormat, ParseDefaults, ParseLimits, parse_body};
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let format = match choice % 3 {
        0 => BodyFormat::Json,
        1 => BodyFormat::Ndjson,
        _ => BodyFormat::Text,
    };
    let defaults = ParseDefaults {
        service: Some("fuzz".into()),
        host: None,
        source: None,
        received_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
    };
    let limits = ParseLimits {
        max_events: 200,
        ..ParseLimits::default()
    };
    if let Ok(batch) = parse_body(format, body, &defaults, &limits) {
        assert!(batch.events.len() <= limits.max_events);
    }
});
