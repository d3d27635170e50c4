//! Entry points for the fuzz targets (fuzz/): the shipper protocols'
//! decoders without the HTTP and queue around them. Not a stable API.

/// Below this many records the decoders build them; at and above, they are
/// only counted. Small, so the fuzzer reaches both sides.
const MAX_EVENTS: usize = 3;

/// OTLP/HTTP logs (`json`: OTLP/JSON, else protobuf): the number of log
/// records, or the refusal. Panics when the count taken before decoding is
/// below what the decoder built, or the limit ([`MAX_EVENTS`]) is not kept.
pub fn otlp(body: &[u8], json: bool) -> Result<usize, String> {
    let encoding = if json {
        crate::otlp::Encoding::Json
    } else {
        crate::otlp::Encoding::Protobuf
    };
    let capped = crate::otlp::decode_request(body, encoding, MAX_EVENTS);
    let request =
        crate::otlp::decode_request(body, encoding, usize::MAX).map_err(|e| e.to_string())?;
    let count = request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum();
    check_cap(count, capped.map(|_| ()), !json);
    Ok(count)
}

/// A body the uncapped decoder read with `count` records is read under the
/// cap when `count` is within it, and refused as too many (413) otherwise:
/// the count taken before decoding is never below what the decoder builds.
/// It is `exact` for protobuf; in JSON a repeated key may be counted twice
/// where the decoder keeps one, which only refuses early.
fn check_cap(count: usize, capped: Result<(), crate::IngestError>, exact: bool) {
    match capped {
        Ok(()) => assert!(count <= MAX_EVENTS, "{count} records read under the cap"),
        Err(crate::IngestError::TooManyEvents(reason)) => {
            assert!(count > MAX_EVENTS || !exact, "{count} records: {reason}");
        }
        Err(e) => panic!("{count} records decode, but not under the cap: {e}"),
    }
}

/// A Loki push (`protobuf`: snappy protobuf, else JSON) decoded within
/// `limit` bytes: the number of entries, or the refusal.
pub fn loki(body: &[u8], protobuf: bool, limit: usize) -> Result<usize, String> {
    let mime = if protobuf {
        "application/x-protobuf"
    } else {
        "application/json"
    };
    let capped = crate::loki::decode_streams(body, mime, mime, limit, MAX_EVENTS);
    let streams = crate::loki::decode_streams(body, mime, mime, limit, usize::MAX)
        .map_err(|e| e.to_string())?;
    let count = streams.iter().map(|s| s.entries.len()).sum();
    check_cap(count, capped.map(|_| ()), protobuf);
    Ok(count)
}

/// An Elasticsearch bulk body: the number of items, or the refusal. Panics
/// when reading under a cap ([`MAX_EVENTS`]) does not give the same answer
/// (the same items, or the exact count beyond the cap, or the same refusal).
pub fn bulk(text: &str) -> Result<usize, String> {
    use crate::bulk::{Unread, read_items};
    let whole = read_items(text, usize::MAX);
    let capped = read_items(text, MAX_EVENTS);
    match (&whole, capped) {
        (Ok(items), Ok(capped)) => {
            assert!(items.len() == capped.len() && items.len() <= MAX_EVENTS)
        }
        (Ok(items), Err(Unread::TooMany(count))) => assert_eq!(items.len(), count),
        (Err(Unread::Malformed(a)), Err(Unread::Malformed(b))) => assert_eq!(a.0, b.0),
        _ => panic!("a bulk body read differently under a cap of {MAX_EVENTS}"),
    }
    match whole {
        Ok(items) => Ok(items.len()),
        Err(Unread::Malformed(e)) => Err(e.0),
        Err(Unread::TooMany(count)) => Err(format!("{count} items")),
    }
}

/// What syslog's TCP framing reads from `stream` (octet-counting or
/// newline-separated, detected per message) with `max_line` bytes per
/// message: per frame, the message's length, or `Err(n)` for a message of
/// `n` bytes skipped as too long. Ends at the end of the stream or at the
/// first framing error (which closes a real connection).
pub async fn syslog_frames(stream: &[u8], max_line: usize) -> Vec<Result<usize, usize>> {
    let mut reader = stream;
    let mut frames = Vec::new();
    while let Ok(Some(frame)) = crate::syslog::read_frame(&mut reader, max_line).await {
        frames.push(match frame {
            crate::syslog::Frame::Message(m) => Ok(m.len()),
            crate::syslog::Frame::TooLong(n) => Err(n),
        });
    }
    frames
}
