//! Syslog messages of either RFC (and anything else): never panic.
#![no_main]

use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single();
    if let Some(now) = now {
        drop(anomalog_ingest::syslog::decode(text, now));
    }
});
