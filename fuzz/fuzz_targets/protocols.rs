//! The shipper protocols' decoders (OTLP protobuf and JSON, Loki snappy
//! protobuf and JSON, Elasticsearch bulk): never panic, and a Loki push
//! never decodes past its limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    match choice % 5 {
        0 => drop(anomalog_ingest::fuzzing::otlp(body, false)),
        1 => drop(anomalog_ingest::fuzzing::otlp(body, true)),
        2 | 3 => {
            let entries = anomalog_ingest::fuzzing::loki(body, choice % 5 == 2, LIMIT);
            if let Ok(n) = entries {
                // Each entry takes at least one byte of the decoded body.
                assert!(n <= LIMIT, "{n} entries from at most {LIMIT} bytes");
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(body) {
                let _ = anomalog_ingest::fuzzing::bulk(text);
            }
        }
    }
});
