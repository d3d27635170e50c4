//! Turning events into compressed request bodies, with the file positions they cover.
//!
//! Each event is parsed at the edge with core's parser
//! ([`anomalog_core::parse::parse_text_line`]: JSON lines, logfmt, syslog
//! priorities, leading timestamps and level tokens), so the event keeps the time
//! written in the line; the read time is used only when the line carries none (or
//! cannot be parsed, in which case the line is shipped as it is).
//! A [`Batch`] is a JSON array of ingest events, compressed, plus the
//! [`FilePosition`]s just past its last event in each file: a checkpoint may move
//! there once the batch is acknowledged.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use anomalog_core::parse::{ParseDefaults, ParseLimits, parse_json_record, parse_text_line};
use anomalog_core::shippers::syslog;
use anomalog_core::{Level, LogEvent};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::source::infer_level;
use crate::tail::{EventSink, FileKey, FilePosition};

/// How each line is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parser {
    /// JSON objects as records, other lines with timestamp, level and logfmt inferred.
    #[default]
    Auto,
    /// JSON objects only; other lines are shipped as they are.
    Json,
    /// Syslog messages (RFC 5424 or 3164), mapped as ingest's syslog
    /// listener maps them (host, program, facility...); other lines are
    /// shipped as they are.
    Syslog,
    /// No parsing: read time, level from a conventional marker, the line as message.
    Raw,
}

/// Content encoding of request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Zstd,
    Gzip,
    None,
}

impl Compression {
    /// The `Content-Encoding` header value, if any.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Compression::Zstd => Some("zstd"),
            Compression::Gzip => Some("gzip"),
            Compression::None => None,
        }
    }

    /// The body before compression.
    pub fn decompress(self, body: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            Compression::Zstd => zstd::decode_all(body),
            Compression::Gzip => {
                let mut out = Vec::with_capacity(body.len() * 4);
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut out)?;
                Ok(out)
            }
            Compression::None => Ok(body.to_vec()),
        }
    }

    /// Compresses a request body.
    pub fn compress(self, body: &[u8]) -> std::io::Result<Vec<u8>> {
        match self {
            Compression::Zstd => zstd::bulk::compress(body, 1),
            Compression::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 4),
                    flate2::Compression::fast(),
                );
                encoder.write_all(body)?;
                encoder.finish()
            }
            Compression::None => Ok(body.to_vec()),
        }
    }
}

/// What every event of one source carries.
#[derive(Debug, Clone)]
pub struct SourceContext {
    /// Service of lines that name none.
    pub service: String,
    pub host: Option<String>,
    /// Extra fields of every event (kept in its attrs by ingest).
    pub labels: Vec<(String, String)>,
    pub parser: Parser,
    /// `source` of stdin events (file events carry their path).
    pub name: Option<String>,
}

/// When a batch is complete.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub max_events: usize,
    /// Uncompressed JSON bytes.
    pub max_bytes: usize,
    /// Longest wait of the first event of a batch.
    pub max_wait: Duration,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_events: 5_000,
            max_bytes: 2 * 1024 * 1024,
            max_wait: Duration::from_secs(1),
        }
    }
}

/// One request body and what it covers.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The compressed JSON array (empty when only positions changed).
    pub body: bytes::Bytes,
    pub compression: Compression,
    pub events: u64,
    /// Bytes of the lines, before parsing.
    pub raw_bytes: u64,
    /// Where each file's next unshipped event starts after this batch.
    pub positions: Vec<FilePosition>,
    /// Files done with: their checkpoints go once this batch is durable.
    pub released: Vec<FileKey>,
    /// Sent as `Idempotency-Key`: ingest queues a batch once per key (see
    /// [`idempotency_key`]).
    pub key: String,
}

/// The `Idempotency-Key` of a batch: a digest of the host and of where the
/// batch ends in each file it covers (device, inode, fingerprint, offset,
/// path), so the same lines carry the same key, in this run or the next; a
/// random key for a batch without file positions (stdin).
pub fn idempotency_key(host: Option<&str>, positions: &[FilePosition], events: u64) -> String {
    use sha2::{Digest, Sha256};
    if positions.is_empty() {
        return format!("agent-r-{:032x}", fastrand::u128(..));
    }
    let mut sorted: Vec<&FilePosition> = positions.iter().collect();
    sorted.sort_by_key(|p| (p.key.dev, p.key.ino, p.offset));
    let mut digest = Sha256::new();
    digest.update(host.unwrap_or("").as_bytes());
    digest.update(events.to_le_bytes());
    for p in sorted {
        digest.update(p.key.dev.to_le_bytes());
        digest.update(p.key.ino.to_le_bytes());
        if let Some(f) = p.fingerprint {
            digest.update(f.len.to_le_bytes());
            digest.update(f.crc.to_le_bytes());
        }
        digest.update(p.offset.to_le_bytes());
        digest.update(p.path.to_string_lossy().as_bytes());
        digest.update([0]);
    }
    let hash = digest.finalize();
    let mut key = String::with_capacity(8 + 32);
    key.push_str("agent-f-");
    for b in &hash[..16] {
        key.push_str(&format!("{b:02x}"));
    }
    key
}

/// Collects events into [`Batch`]es; an [`EventSink`] for the tailer.
pub struct BatchBuilder {
    sources: Vec<SourceContext>,
    limits: BatchLimits,
    compression: Compression,
    parse_limits: ParseLimits,
    defaults: Vec<ParseDefaults>,
    now: DateTime<Utc>,
    body: Vec<u8>,
    events: u64,
    raw_bytes: u64,
    positions: HashMap<FileKey, FilePosition>,
    released: Vec<FileKey>,
    started: Option<Instant>,
    ready: Vec<Batch>,
    /// Encoding errors (compression of a batch failed): the batch is dropped and counted.
    pub failed_events: u64,
}

impl BatchBuilder {
    pub fn new(sources: Vec<SourceContext>, limits: BatchLimits, compression: Compression) -> Self {
        let now = Utc::now();
        let defaults = sources
            .iter()
            .map(|s| ParseDefaults {
                service: Some(s.service.clone()),
                host: None,
                source: None,
                received_at: now,
            })
            .collect();
        BatchBuilder {
            sources,
            limits,
            compression,
            parse_limits: ParseLimits::default(),
            defaults,
            now,
            body: Vec::with_capacity(limits.max_bytes + 64 * 1024),
            events: 0,
            raw_bytes: 0,
            positions: HashMap::new(),
            released: Vec::new(),
            started: None,
            ready: Vec::new(),
            failed_events: 0,
        }
    }

    /// Sets the read time given to lines without a timestamp (callers pass now).
    pub fn set_now(&mut self, now: DateTime<Utc>) {
        self.now = now;
        for d in &mut self.defaults {
            d.received_at = now;
        }
    }

    /// Completed batches, oldest first.
    pub fn take_ready(&mut self) -> Vec<Batch> {
        std::mem::take(&mut self.ready)
    }

    /// Whether completed batches wait to be taken.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Whether the open batch is older than `max_wait` (it should be finished).
    pub fn due(&self, now: Instant) -> bool {
        self.started
            .is_some_and(|at| now.duration_since(at) >= self.limits.max_wait)
    }

    /// When the open batch will be due.
    pub fn due_at(&self) -> Option<Instant> {
        self.started.map(|at| at + self.limits.max_wait)
    }

    /// Finishes the open batch (if it holds events or positions) into the ready list.
    pub fn finish(&mut self) {
        if self.events == 0 && self.positions.is_empty() && self.released.is_empty() {
            self.started = None;
            return;
        }
        let body = if self.events == 0 {
            Vec::new()
        } else {
            self.body.push(b']');
            match self.compression.compress(&self.body) {
                Ok(body) => body,
                Err(error) => {
                    tracing::error!(%error, events = self.events, "cannot compress a batch; dropping it");
                    self.failed_events += self.events;
                    Vec::new()
                }
            }
        };
        let events = if body.is_empty() { 0 } else { self.events };
        let positions: Vec<FilePosition> = self.positions.drain().map(|(_, p)| p).collect();
        let host = self.sources.first().and_then(|s| s.host.as_deref());
        self.ready.push(Batch {
            key: idempotency_key(host, &positions, events),
            body: body.into(),
            compression: self.compression,
            events,
            raw_bytes: self.raw_bytes,
            positions,
            released: std::mem::take(&mut self.released),
        });
        self.body.clear();
        self.events = 0;
        self.raw_bytes = 0;
        self.started = None;
    }

    fn begin_event(&mut self) {
        if self.events == 0 {
            self.body.push(b'[');
            if self.started.is_none() {
                self.started = Some(Instant::now());
            }
        } else {
            self.body.push(b',');
        }
        self.events += 1;
    }

    /// Adds one event of `source` (read without a file position, e.g. stdin).
    pub fn push(&mut self, source: usize, text: &[u8], path: Option<&str>) {
        if text.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.raw_bytes += text.len() as u64;
        // Valid UTF-8 (the usual case) is borrowed as is; only invalid bytes
        // pay for a lossy copy.
        let lossy;
        let line = match std::str::from_utf8(text) {
            Ok(line) => line,
            Err(_) => {
                lossy = String::from_utf8_lossy(text).into_owned();
                lossy.as_str()
            }
        };
        self.begin_event();
        self.encode(source, line, path);
        if self.events as usize >= self.limits.max_events
            || self.body.len() >= self.limits.max_bytes
        {
            self.finish();
        }
    }

    fn encode(&mut self, source: usize, line: &str, path: Option<&str>) {
        let ctx = &self.sources[source];
        let defaults = &self.defaults[source];
        let parsed = match ctx.parser {
            // Syslog file lines (e.g. /var/log/syslog) keep their host and
            // program; the mapping is core's, shared with ingest's listener.
            Parser::Auto => match syslog::decode_line(line, defaults.received_at) {
                Some(msg) => syslog::to_event(msg, defaults, &self.parse_limits).ok(),
                None => parse_text_line(line, defaults, &self.parse_limits).ok(),
            },
            Parser::Syslog => syslog::to_event(
                syslog::decode(line, defaults.received_at),
                defaults,
                &self.parse_limits,
            )
            .ok(),
            Parser::Json if line.trim_start().starts_with('{') => {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| parse_json_record(&v, defaults, &self.parse_limits).ok())
            }
            Parser::Json | Parser::Raw => None,
        };
        let out = &mut self.body;
        match parsed {
            Some(event) => write_event(out, &event, ctx, path),
            None => {
                let level = infer_level(line).unwrap_or(Level::Info);
                let event = LogEvent::new(self.now, ctx.service.clone(), level, line);
                write_event(out, &event, ctx, path);
            }
        }
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    // Most strings need no JSON escape: one pass the compiler vectorises (no
    // early exit), then one copy. Otherwise serde_json escapes it.
    let plain = s.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    });
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

fn write_field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.push(b',');
    write_str(out, key);
    out.push(b':');
    write_str(out, value);
}

/// One ingest record: the event's fields, its attrs and the source's labels
/// flattened beside them.
fn write_event(out: &mut Vec<u8>, event: &LogEvent, ctx: &SourceContext, path: Option<&str>) {
    out.extend_from_slice(b"{\"ts\":");
    write_str(out, &event.ts.to_rfc3339_opts(SecondsFormat::Millis, true));
    write_field(out, "service", &event.service);
    write_field(out, "level", event.level.as_str());
    write_field(out, "message", &event.message);
    if let Some(host) = event.host.as_deref().or(ctx.host.as_deref()) {
        write_field(out, "host", host);
    }
    if let Some(source) = event.source.as_deref().or(path).or(ctx.name.as_deref()) {
        write_field(out, "source", source);
    }
    if let Some(id) = &event.trace_id {
        write_field(out, "trace_id", id);
    }
    if let Some(id) = &event.span_id {
        write_field(out, "span_id", id);
    }
    for (key, value) in &event.attrs {
        out.push(b',');
        write_str(out, key);
        out.push(b':');
        let _ = serde_json::to_writer(&mut *out, value);
    }
    for (key, value) in &ctx.labels {
        if !event.attrs.contains_key(key) {
            write_field(out, key, value);
        }
    }
    out.push(b'}');
}

impl EventSink for BatchBuilder {
    fn event(&mut self, source: usize, text: &[u8], position: &FilePosition) {
        match self.positions.get_mut(&position.key) {
            Some(p) if p.fingerprint == position.fingerprint && p.path == position.path => {
                p.offset = position.offset;
            }
            _ => {
                self.positions.insert(position.key, position.clone());
            }
        }
        if self.started.is_none() {
            self.started = Some(Instant::now());
        }
        let path = position.path.to_string_lossy();
        self.push(source, text, Some(&path));
    }

    fn released(&mut self, key: FileKey) {
        self.positions.remove(&key);
        self.released.push(key);
        if self.started.is_none() {
            self.started = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn write_str_matches_serde_json() {
        for s in [
            "",
            "plain text",
            "quote \" inside",
            "back\\slash",
            "tab\there",
            "nul\u{0}",
            "\u{1f}unit separator",
            "del\u{7f} kept",
            "ünïcödé ✓ 日本",
        ] {
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
    }

    #[test]
    fn invalid_utf8_is_shipped_with_replacement_characters() {
        let source = SourceContext {
            service: "web".to_owned(),
            host: None,
            labels: Vec::new(),
            parser: Parser::Raw,
            name: None,
        };
        let mut b = BatchBuilder::new(vec![source], BatchLimits::default(), Compression::Zstd);
        b.push(0, b"bad \xff byte", None);
        b.finish();
        let batch = b.take_ready().pop().unwrap();
        assert_eq!(body(&batch)[0]["message"], "bad \u{fffd} byte");
    }

    fn body(batch: &Batch) -> Vec<serde_json::Value> {
        let json = zstd::decode_all(&batch.body[..]).unwrap();
        serde_json::from_slice(&json).unwrap()
    }

    #[test]
    fn events_keep_the_time_level_and_fields_of_their_line_plus_labels() {
        let source = SourceContext {
            service: "web".to_owned(),
            host: Some("h1".to_owned()),
            labels: vec![("env".to_owned(), "prod".to_owned())],
            parser: Parser::Auto,
            name: None,
        };
        let mut builder =
            BatchBuilder::new(vec![source], BatchLimits::default(), Compression::Zstd);
        builder.set_now("2026-03-01T00:00:00Z".parse().unwrap());
        builder.push(
            0,
            b"2026-01-02T03:04:05.678Z ERROR payment failed",
            Some("/var/log/web.log"),
        );
        builder.push(0, b"{\"time\":\"2026-01-02T03:04:06Z\",\"level\":\"warn\",\"msg\":\"slow\",\"service\":\"pay\",\"user\":7}", None);
        builder.push(0, b"no time here", None);
        builder.push(0, b"   ", None);
        builder.finish();
        let batches = builder.take_ready();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].events, 3);
        let events = body(&batches[0]);
        assert_eq!(events[0]["ts"], "2026-01-02T03:04:05.678Z");
        assert_eq!(events[0]["level"], "ERROR");
        assert_eq!(events[0]["message"], "payment failed");
        assert_eq!(events[0]["source"], "/var/log/web.log");
        assert_eq!(events[0]["host"], "h1");
        assert_eq!(events[0]["env"], "prod");
        assert_eq!(events[1]["service"], "pay");
        assert_eq!(events[1]["level"], "WARN");
        assert_eq!(events[1]["user"], 7);
        assert_eq!(
            events[2]["ts"], "2026-03-01T00:00:00.000Z",
            "read time without a time in the line"
        );
        assert_eq!(events[2]["service"], "web");
    }

    #[test]
    fn syslog_lines_keep_their_host_and_program() {
        let source = SourceContext {
            service: "system".to_owned(),
            host: Some("agent-host".to_owned()),
            labels: Vec::new(),
            parser: Parser::Auto,
            name: None,
        };
        let mut builder =
            BatchBuilder::new(vec![source], BatchLimits::default(), Compression::Zstd);
        builder.set_now("2026-03-01T00:00:00Z".parse().unwrap());
        builder.push(
            0,
            b"Feb 28 23:10:05 db-7 sshd[812]: Failed password for root",
            None,
        );
        builder.push(
            0,
            b"<131>1 2026-02-28T23:10:06.250Z web-3 nginx 99 - - upstream timed out",
            None,
        );
        builder.push(0, b"2026-02-28T23:10:07Z INFO not syslog", None);
        builder.finish();
        let events = body(&builder.take_ready()[0]);
        assert_eq!(events[0]["host"], "db-7");
        assert_eq!(events[0]["program"], "sshd");
        assert_eq!(events[0]["service"], "sshd");
        assert_eq!(events[0]["syslog.procid"], "812");
        assert_eq!(events[0]["message"], "Failed password for root");
        assert_eq!(events[0]["ts"], "2026-02-28T23:10:05.000Z");
        assert_eq!(events[1]["host"], "web-3");
        assert_eq!(events[1]["program"], "nginx");
        assert_eq!(events[1]["level"], "ERROR");
        assert_eq!(events[1]["ts"], "2026-02-28T23:10:06.250Z");
        assert_eq!(
            events[2]["host"], "agent-host",
            "the agent's host otherwise"
        );
        assert_eq!(events[2]["service"], "system");
        assert!(events[2].get("program").is_none());
    }

    #[test]
    fn a_batch_is_cut_at_its_event_limit() {
        let source = SourceContext {
            service: "s".to_owned(),
            host: None,
            labels: Vec::new(),
            parser: Parser::Raw,
            name: None,
        };
        let limits = BatchLimits {
            max_events: 2,
            ..BatchLimits::default()
        };
        let mut builder = BatchBuilder::new(vec![source], limits, Compression::Zstd);
        for i in 0..5 {
            builder.push(0, format!("line {i}").as_bytes(), None);
        }
        builder.finish();
        let sizes: Vec<u64> = builder.take_ready().iter().map(|b| b.events).collect();
        assert_eq!(sizes, [2, 2, 1]);
    }
}
