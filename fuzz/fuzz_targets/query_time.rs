//! The API's time parameters (`from`, `to`, `since`): never panic, and a
//! range that parses is ordered.
#![no_main]

use anomalog_api::{TimeRange, parse_time};
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let now = DateTime::from_timestamp(1_772_625_600, 0).unwrap_or_default();
    let _ = parse_time("from", &text, now);
    let (from, to) = text.split_once('&').unwrap_or((&text, "now"));
    if let Ok(range) = TimeRange::from_params(Some(from), Some(to), now) {
        assert!(range.from < range.to);
    }
});
