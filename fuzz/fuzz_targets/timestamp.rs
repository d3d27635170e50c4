//! Timestamps as strings and as JSON numbers: never panic, never before 1970.
#![no_main]

use anomalog_core::parse::parse_timestamp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for value in [
        serde_json::Value::String(text.to_string()),
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default(),
    ] {
        if let Ok(ts) = parse_timestamp(&value) {
            assert!(ts.timestamp() >= 0);
        }
    }
});
