//! Entry points for the fuzz targets (fuzz/): the shipper protocols'
//! decoders without the HTTP and queue around them. Not a stable API.

/// OTLP/HTTP logs (`json`: OTLP/JSON, else protobuf): the number of log
/// records, or the refusal.
pub fn otlp(body: &[u8], json: bool) -> Result<usize, String> {
    let encoding = if json {
        crate::otlp::Encoding::Json
    } else {
        crate::otlp::Encoding::Protobuf
    };
    let request = crate::otlp::decode_request(body, encoding).map_err(|e| e.to_string())?;
    Ok(request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum())
}

/// A Loki push (`protobuf`: snappy protobuf, else JSON) decoded within
/// `limit` bytes: the number of entries, or the refusal.
pub fn loki(body: &[u8], protobuf: bool, limit: usize) -> Result<usize, String> {
    let mime = if protobuf {
        "application/x-protobuf"
    } else {
        "application/json"
    };
    let streams =
        crate::loki::decode_streams(body, mime, mime, limit).map_err(|e| e.to_string())?;
    Ok(streams.iter().map(|s| s.entries.len()).sum())
}

/// An Elasticsearch bulk body: the number of items, or the refusal.
pub fn bulk(text: &str) -> Result<usize, String> {
    crate::bulk::read_items(text)
        .map(|items| items.len())
        .map_err(|e| e.0)
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
