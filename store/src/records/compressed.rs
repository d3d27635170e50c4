//! The Redis queue's payload: the unframed binary payload
//! ([`super::encode_batch_unframed`]) compressed with Snappy (raw format).
//! Redis keeps every queued payload in memory and writes it to its
//! append-only file: compressed, a queued event takes about a third of the
//! bytes (docs/benchmarks.md, session 18).

use anomalog_core::LogEvent;

use super::{BINARY_BATCH, cannot_encode, encode_batch_unframed};
use crate::StoreError;

/// First byte of a Redis queue payload of this version: then a
/// [`BINARY_BATCH`] payload in Snappy's raw format.
const SNAPPY_BATCH: u8 = 0xB5;

/// [`encode_batch_unframed`], compressed: [`SNAPPY_BATCH`], then the
/// unframed payload in Snappy's raw format (the Redis queue's payload).
pub(crate) fn encode_batch_compressed(events: &[LogEvent]) -> Result<Vec<u8>, StoreError> {
    let unframed = encode_batch_unframed(events)?;
    let mut out = vec![0u8; 1 + snap::raw::max_compress_len(unframed.len())];
    out[0] = SNAPPY_BATCH;
    let written = snap::raw::Encoder::new()
        .compress(&unframed, &mut out[1..])
        .map_err(|e| cannot_encode(&e))?;
    out.truncate(1 + written);
    Ok(out)
}

/// The bytes of `payload` once uncompressed (its own length when it is not
/// compressed): what a claim's byte budget counts, so that a batch that
/// compresses well takes its share of the claim's memory all the same.
pub(crate) fn uncompressed_len(payload: &[u8]) -> usize {
    match payload.split_first() {
        Some((&SNAPPY_BATCH, compressed)) => {
            snap::raw::decompress_len(compressed).unwrap_or(payload.len())
        }
        _ => payload.len(),
    }
}

/// The unframed payload inside `payload`, if it is a compressed one: an
/// error when it cannot be uncompressed or holds anything else (only an
/// unframed payload is ever compressed: no nesting).
pub(super) fn decompress(payload: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let (&SNAPPY_BATCH, compressed) = payload.split_first()? else {
        return None;
    };
    let unframed = match snap::raw::Decoder::new().decompress_vec(compressed) {
        Ok(unframed) => unframed,
        Err(e) => return Some(Err(e.to_string())),
    };
    if unframed.first() != Some(&BINARY_BATCH) {
        return Some(Err("a compressed payload holds no binary batch".into()));
    }
    Some(Ok(unframed))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::super::decode_batch;
    use super::*;
    use anomalog_core::Level;

    /// The Redis queue's payload: the unframed payload compressed, which
    /// reads back to the same events, and is smaller on a batch of typical
    /// service logs (ids and durations varying, words repeating); damaged
    /// bytes are an error, not a panic.
    #[test]
    fn the_compressed_payload_reads_back_and_is_smaller() {
        let ts = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let events: Vec<LogEvent> = (0..1_000u32)
            .map(|i| {
                let mut e = LogEvent::new(
                    ts + chrono::Duration::milliseconds(i64::from(i) * 7),
                    format!("svc-{:02}", i % 20),
                    if i % 50 == 0 {
                        Level::Error
                    } else {
                        Level::Info
                    },
                    format!(
                        "GET /api/v1/orders/{} 200 in {} ms user={} region=eu-west-{}",
                        i.wrapping_mul(2_654_435_761) % 1_000_000,
                        i % 97,
                        i.wrapping_mul(40_503) % 10_000,
                        i % 3
                    ),
                );
                e.host = Some(format!("host-{}", i % 8));
                e.attrs = [(
                    "request_id".to_owned(),
                    json!(format!("{:08x}", i.wrapping_mul(2_246_822_519))),
                )]
                .into();
                e
            })
            .collect();
        let unframed = encode_batch_unframed(&events).unwrap();
        let compressed = encode_batch_compressed(&events).unwrap();
        assert_eq!(compressed[0], SNAPPY_BATCH);
        assert_eq!(decode_batch(&compressed).unwrap(), events);
        let ratio = compressed.len() as f64 / unframed.len() as f64;
        eprintln!(
            "{} -> {} bytes ({ratio:.2})",
            unframed.len(),
            compressed.len()
        );
        assert!(ratio < 0.6, "{ratio:.2}");
        assert_eq!(uncompressed_len(&compressed), unframed.len());
        assert_eq!(uncompressed_len(&unframed), unframed.len());
        assert!(decode_batch(&compressed[..compressed.len() / 2]).is_err());
        let mut not_binary = vec![SNAPPY_BATCH];
        let packed = snap::raw::Encoder::new().compress_vec(b"[]").unwrap();
        not_binary.extend(packed);
        assert!(decode_batch(&not_binary).is_err());
    }
}
