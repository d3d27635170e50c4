//! Compressed queue payloads, in Snappy's raw format:
//! - the Redis queue's: the unframed binary payload
//!   ([`super::encode_batch_unframed`]). Redis keeps every queued payload in
//!   memory and writes it to its append-only file: compressed, a queued event
//!   takes about a third of the bytes (docs/benchmarks.md, session 18);
//! - the embedded queue's: the framed payload ([`super::encode_batch`]). Its
//!   writer is one thread, and most of its CPU went to writing a batch's
//!   pages into the WAL and checkpointing them (docs/benchmarks.md, session
//!   21).

use anomalog_core::LogEvent;

use super::{BINARY_BATCH, FRAMED_BATCH, cannot_encode};
use crate::StoreError;

/// First byte of a Redis queue payload of this version: then a
/// [`BINARY_BATCH`] payload in Snappy's raw format.
const SNAPPY_BATCH: u8 = 0xB5;

/// First byte of an embedded queue payload of this version: then a
/// [`FRAMED_BATCH`] payload in Snappy's raw format.
const SNAPPY_FRAMED: u8 = 0xB6;

/// [`encode_batch_unframed`], compressed: [`SNAPPY_BATCH`], then the
/// unframed payload in Snappy's raw format (the Redis queue's payload).
#[cfg(feature = "redis")]
pub(crate) fn encode_batch_compressed(events: &[LogEvent]) -> Result<Vec<u8>, StoreError> {
    compress(SNAPPY_BATCH, &super::encode_batch_unframed(events)?)
}

/// [`encode_batch`], compressed: [`SNAPPY_FRAMED`], then the framed payload
/// in Snappy's raw format (the embedded queue's payload).
#[cfg(feature = "embedded")]
pub(crate) fn encode_framed_compressed(events: &[LogEvent]) -> Result<Vec<u8>, StoreError> {
    compress(SNAPPY_FRAMED, &super::encode_batch(events)?)
}

fn compress(marker: u8, payload: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![0u8; 1 + snap::raw::max_compress_len(payload.len())];
    out[0] = marker;
    let written = snap::raw::Encoder::new()
        .compress(payload, &mut out[1..])
        .map_err(|e| cannot_encode(&e))?;
    out.truncate(1 + written);
    Ok(out)
}

/// The bytes of `payload` once uncompressed (its own length when it is not
/// compressed): what a claim's byte budget counts, so that a batch that
/// compresses well takes its share of the claim's memory all the same.
pub(crate) fn uncompressed_len(payload: &[u8]) -> usize {
    match payload.split_first() {
        Some((&(SNAPPY_BATCH | SNAPPY_FRAMED), compressed)) => {
            snap::raw::decompress_len(compressed).unwrap_or(payload.len())
        }
        _ => payload.len(),
    }
}

/// The payload inside `payload`, if it is a compressed one: an error when
/// it cannot be uncompressed or holds anything but the form its first byte
/// names (a [`BINARY_BATCH`] in a [`SNAPPY_BATCH`], a [`FRAMED_BATCH`] in a
/// [`SNAPPY_FRAMED`]: no nesting).
pub(crate) fn decompress(payload: &[u8]) -> Option<Result<Vec<u8>, String>> {
    let (inner, compressed) = match payload.split_first()? {
        (&SNAPPY_BATCH, compressed) => (BINARY_BATCH, compressed),
        (&SNAPPY_FRAMED, compressed) => (FRAMED_BATCH, compressed),
        _ => return None,
    };
    let uncompressed = match snap::raw::Decoder::new().decompress_vec(compressed) {
        Ok(uncompressed) => uncompressed,
        Err(e) => return Some(Err(e.to_string())),
    };
    if uncompressed.first() != Some(&inner) {
        return Some(Err(format!(
            "a compressed payload holds no {} batch",
            if inner == BINARY_BATCH {
                "binary"
            } else {
                "framed"
            }
        )));
    }
    Some(Ok(uncompressed))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::super::decode_batch;
    use super::*;
    use anomalog_core::Level;

    /// A batch of typical service logs: ids and durations varying, words
    /// repeating.
    fn typical_events() -> Vec<LogEvent> {
        let ts = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        (0..1_000u32)
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
            .collect()
    }

    /// The Redis queue's payload: the unframed payload compressed, which
    /// reads back to the same events, and is smaller on a batch of typical
    /// service logs (ids and durations varying, words repeating); damaged
    /// bytes are an error, not a panic.
    #[test]
    #[cfg(feature = "redis")]
    fn the_compressed_payload_reads_back_and_is_smaller() {
        let events = typical_events();
        let unframed = super::super::encode_batch_unframed(&events).unwrap();
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

    /// The embedded queue's payload: the framed payload compressed, which
    /// reads back to the same events, counts its framed size for claims, and
    /// must hold a framed batch.
    #[test]
    #[cfg(feature = "embedded")]
    fn the_compressed_framed_payload_reads_back_and_is_smaller() {
        let events = typical_events();
        let framed = super::super::encode_batch(&events).unwrap();
        let compressed = encode_framed_compressed(&events).unwrap();
        assert_eq!(compressed[0], SNAPPY_FRAMED);
        assert_eq!(decode_batch(&compressed).unwrap(), events);
        assert_eq!(decompress(&compressed).unwrap().unwrap(), framed);
        assert!(
            compressed.len() * 2 < framed.len(),
            "{} of {}",
            compressed.len(),
            framed.len()
        );
        assert_eq!(uncompressed_len(&compressed), framed.len());
        assert!(decode_batch(&compressed[..compressed.len() / 2]).is_err());
        let binary = super::super::encode_batch_unframed(&events).unwrap();
        let wrong = compress(SNAPPY_FRAMED, &binary).unwrap();
        assert_eq!(
            decompress(&wrong).unwrap().unwrap_err(),
            "a compressed payload holds no framed batch"
        );
    }
}
