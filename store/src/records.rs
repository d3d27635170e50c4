//! The shapes the store writes, separate from core's types: the queue payload
//! (an ingest batch, in the embedded queue and the Redis stream) and the
//! embedded store's documents (logs, anomalies, delivery attempts). Renaming a field of [`LogEvent`] (or of an
//! API body) is therefore not a migration: these field names are the stored
//! format, pinned by a golden test, and data written before still reads.
//!
//! MongoDB documents are written field by field in `mongo.rs` and never used a
//! derive.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use anomalog_core::model::UnknownLevel;
use anomalog_core::{
    Anomaly, AnomalyKind, AnomalyStatus, Level, LogEvent, LogSample, Measure, Metric,
    PatternChange, Severity, StoredLog, Unit,
};

use crate::{Delivery, StoreError};

mod attrs;
#[cfg(any(feature = "redis", feature = "embedded"))]
pub(crate) mod compressed;
mod framed;

#[cfg(any(feature = "redis", feature = "embedded"))]
pub(crate) use compressed::{decompress, uncompressed_len};
use framed::frames;
pub(crate) use framed::{FramedHead, decode_framed, framed_heads};

/// A time as RFC 3339 in UTC with as many fraction digits as it needs (3, 6
/// or 9) and a `Z`: what chrono's `Serialize` writes, without its
/// formatter machinery (a sixth of the cost of encoding an event).
#[cfg(test)]
fn rfc3339<S: serde::Serializer>(ts: &&DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&ts.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// One event as stored, for writing (borrowed: no copy of the batch). Only
/// the tests write this JSON shape now, as earlier versions did.
#[cfg(test)]
#[derive(Serialize)]
struct EventOut<'a> {
    #[serde(serialize_with = "rfc3339")]
    ts: &'a DateTime<Utc>,
    #[serde(serialize_with = "rfc3339")]
    received_at: &'a DateTime<Utc>,
    service: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    level: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    attrs: &'a BTreeMap<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    span_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    truncated: bool,
}

#[cfg(test)]
impl<'a> From<&'a LogEvent> for EventOut<'a> {
    fn from(e: &'a LogEvent) -> Self {
        EventOut {
            ts: &e.ts,
            received_at: &e.received_at,
            service: &e.service,
            host: e.host.as_deref(),
            level: e.level.as_str(),
            message: &e.message,
            attrs: &e.attrs,
            trace_id: e.trace_id.as_deref(),
            span_id: e.span_id.as_deref(),
            source: e.source.as_deref(),
            truncated: e.truncated,
        }
    }
}

/// One event as stored, for reading.
#[derive(Deserialize)]
struct EventIn {
    ts: DateTime<Utc>,
    received_at: DateTime<Utc>,
    service: String,
    #[serde(default)]
    host: Option<String>,
    level: String,
    message: String,
    #[serde(default)]
    attrs: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    span_id: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    truncated: bool,
}

impl EventIn {
    fn into_event(self) -> Result<LogEvent, String> {
        let level: Level = self.level.parse().map_err(|e| format!("{e}"))?;
        Ok(LogEvent {
            ts: self.ts,
            received_at: self.received_at,
            service: self.service,
            host: self.host,
            level,
            message: self.message,
            attrs: self.attrs,
            trace_id: self.trace_id,
            span_id: self.span_id,
            source: self.source,
            truncated: self.truncated,
        })
    }
}

/// First byte of a binary queue payload of the previous version: then the
/// events' binary records as one postcard sequence. Earlier versions still
/// wrote a JSON array, whose first byte is `[`: every form still reads.
pub(crate) const BINARY_BATCH: u8 = 0xB1;

/// First byte of a queue payload of this version: then each event's binary
/// record (as in [`BINARY_BATCH`]) after its length in bytes (a LEB128
/// varint), so a claim finds each record, and in it the time, service, level
/// and message, without decoding the rest (the embedded store keeps the
/// rest's bytes as they are: [`FramedHead::rest`]).
pub(crate) const FRAMED_BATCH: u8 = 0xB3;

/// One event of a binary queue payload, for writing: postcard, with times as
/// (seconds, nanoseconds) and each attribute's value typed.
#[derive(Serialize)]
struct EventBinOut<'a> {
    ts: (i64, u32),
    received_at: (i64, u32),
    service: &'a str,
    host: Option<&'a str>,
    level: u8,
    message: &'a str,
    attrs: attrs::AttrsOut<'a>,
    trace_id: Option<&'a str>,
    span_id: Option<&'a str>,
    source: Option<&'a str>,
    truncated: bool,
}

#[derive(Deserialize)]
struct EventBinIn {
    ts: (i64, u32),
    received_at: (i64, u32),
    service: String,
    host: Option<String>,
    level: u8,
    message: String,
    #[serde(deserialize_with = "attrs::deserialize")]
    attrs: BTreeMap<String, serde_json::Value>,
    trace_id: Option<String>,
    span_id: Option<String>,
    source: Option<String>,
    truncated: bool,
}

fn time_parts(ts: &DateTime<Utc>) -> (i64, u32) {
    (ts.timestamp(), ts.timestamp_subsec_nanos())
}

fn time_from(parts: (i64, u32)) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp(parts.0, parts.1)
        .ok_or_else(|| format!("time out of range: {}.{:09}", parts.0, parts.1))
}

/// The level a binary record's rank stands for.
fn level_of(rank: u8) -> Result<Level, String> {
    Level::from_rank(rank).ok_or_else(|| format!("unknown level rank {rank}"))
}

impl EventBinIn {
    fn into_event(self) -> Result<LogEvent, String> {
        let level = level_of(self.level)?;
        Ok(LogEvent {
            ts: time_from(self.ts)?,
            received_at: time_from(self.received_at)?,
            service: self.service,
            host: self.host,
            level,
            message: self.message,
            attrs: self.attrs,
            trace_id: self.trace_id,
            span_id: self.span_id,
            source: self.source,
            truncated: self.truncated,
        })
    }
}

/// The queue payload of one ingest batch: [`FRAMED_BATCH`], then each
/// event's record in postcard after its length (a fifth of the CPU of JSON
/// to write and read back, measured in docs/benchmarks.md).
pub(crate) fn encode_batch(events: &[LogEvent]) -> Result<Vec<u8>, StoreError> {
    let mut out = payload_buffer(FRAMED_BATCH, events.len());
    let mut record = Vec::with_capacity(256);
    for e in events {
        record.clear();
        record = postcard::to_extend(&EventBinOut::of(e, &e.message), record)
            .map_err(|e| cannot_encode(&e))?;
        // postcard writes a u32 as the varint it writes lengths with.
        let len = u32::try_from(record.len()).map_err(|_| cannot_encode(&"an event over 4 GiB"))?;
        out = postcard::to_extend(&len, out).map_err(|e| cannot_encode(&e))?;
        out.extend_from_slice(&record);
    }
    Ok(out)
}

/// The queue payload of one ingest batch in the unframed form,
/// [`BINARY_BATCH`] and one postcard sequence of the events' records: what
/// the Redis queue writes (its entries' version "2"), so that a detect of
/// the previous version reads what a newer ingest queues while a deploy
/// rolls out; framing gains nothing there (detect reads Redis entries
/// whole, for MongoDB).
pub(crate) fn encode_batch_unframed(events: &[LogEvent]) -> Result<Vec<u8>, StoreError> {
    /// The events as a sequence of records, each written as it is made.
    struct Records<'a>(&'a [LogEvent]);
    impl Serialize for Records<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.iter().map(|e| EventBinOut::of(e, &e.message)))
        }
    }
    postcard::to_extend(&Records(events), payload_buffer(BINARY_BATCH, events.len()))
        .map_err(|e| cannot_encode(&e))
}

/// A queue payload's buffer, its first byte `magic`, sized for `events` of
/// about 200 bytes (most payloads are written without regrowing).
fn payload_buffer(magic: u8, events: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(events.saturating_mul(200).saturating_add(1));
    out.push(magic);
    out
}

fn cannot_encode(e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("cannot encode events: {e}"))
}

impl<'a> EventBinOut<'a> {
    /// `e` as a binary record, with `message` in place of its own.
    fn of(e: &'a LogEvent, message: &'a str) -> EventBinOut<'a> {
        EventBinOut {
            ts: time_parts(&e.ts),
            received_at: time_parts(&e.received_at),
            service: &e.service,
            host: e.host.as_deref(),
            level: e.level.rank(),
            message,
            attrs: attrs::AttrsOut::new(&e.attrs),
            trace_id: e.trace_id.as_deref(),
            span_id: e.span_id.as_deref(),
            source: e.source.as_deref(),
            truncated: e.truncated,
        }
    }
}

/// Reads a queue payload written by [`encode_batch`], or by an earlier
/// version (the unframed binary sequence, or a JSON array).
pub(crate) fn decode_batch(payload: &[u8]) -> Result<Vec<LogEvent>, String> {
    #[cfg(any(feature = "redis", feature = "embedded"))]
    if let Some(inner) = compressed::decompress(payload) {
        return decode_batch(&inner?);
    }
    if let Some((&FRAMED_BATCH, framed)) = payload.split_first() {
        return frames(framed)
            .map(|frame| decode_framed(frame?.1))
            .collect();
    }
    if let Some((&BINARY_BATCH, rest)) = payload.split_first() {
        let records: Vec<EventBinIn> = postcard::from_bytes(rest).map_err(|e| e.to_string())?;
        return records.into_iter().map(EventBinIn::into_event).collect();
    }
    let records: Vec<EventIn> = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    records.into_iter().map(EventIn::into_event).collect()
}

/// A log of the embedded store, as stored: its id beside the event's fields.
#[cfg(test)]
#[derive(Serialize)]
struct StoredLogOut<'a> {
    id: &'a str,
    #[serde(flatten)]
    event: EventOut<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<&'a str>,
}

#[derive(Deserialize)]
struct StoredLogIn {
    id: String,
    #[serde(flatten)]
    event: EventIn,
    #[serde(default)]
    pattern: Option<String>,
}

/// What a log block keeps of a log beside its columns (id, level, message
/// and pattern have columns of their own): the queue payload's binary record
/// of its event with an empty message (times as seconds and nanoseconds,
/// attribute values typed). Replaced the JSON document of
/// `encode_log_without_message` (a third of the CPU of encoding a block,
/// docs/benchmarks.md). Appended to `out`.
#[cfg(feature = "embedded")]
pub(crate) fn encode_log_rest(event: &LogEvent, out: Vec<u8>) -> Result<Vec<u8>, StoreError> {
    postcard::to_extend(&EventBinOut::of(event, ""), out)
        .map_err(|e| StoreError::Invalid(format!("cannot encode a log: {e}")))
}

/// The columns of one row of a log block, beside its binary rest.
#[cfg(feature = "embedded")]
pub(crate) struct RowColumns<'a> {
    pub id: &'a str,
    pub level: u8,
    pub message: &'a str,
    pub pattern: Option<&'a str>,
}

/// Reads a log from its block's columns and its rest written by
/// [`encode_log_rest`].
#[cfg(feature = "embedded")]
pub(crate) fn decode_log_rest(row: RowColumns<'_>, rest: &[u8]) -> Result<StoredLog, StoreError> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("log {}: {e}", row.id));
    let mut record: EventBinIn = postcard::from_bytes(rest).map_err(|e| corrupt(&e))?;
    // The columns are the record of id, level, message and pattern.
    record.level = row.level;
    record.message = row.message.to_owned();
    Ok(StoredLog {
        id: row.id.to_owned(),
        event: record.into_event().map_err(|e| corrupt(&e))?,
        pattern: row.pattern.map(str::to_owned),
    })
}

/// The embedded store's document of one log, with an empty message: the
/// store keeps messages in a column of their own. Blocks of earlier versions
/// held these; the tests write them to check they still read.
#[cfg(all(feature = "embedded", test))]
pub(crate) fn encode_log_without_message(log: &StoredLog) -> Result<String, StoreError> {
    let mut event = EventOut::from(&log.event);
    event.message = "";
    let record = StoredLogOut {
        id: &log.id,
        event,
        pattern: log.pattern.as_deref(),
    };
    serde_json::to_string(&record).map_err(StoreError::from)
}

/// Reads a document written by `encode_log_without_message` (or by any
/// earlier version, which kept the message in it).
pub(crate) fn decode_log(doc: &str) -> Result<StoredLog, StoreError> {
    let record: StoredLogIn = serde_json::from_str(doc)?;
    let event = record
        .event
        .into_event()
        .map_err(|e| StoreError::Corrupt(format!("log {}: {e}", record.id)))?;
    Ok(StoredLog {
        pattern: record.pattern,
        id: record.id,
        event,
    })
}

/// An anomaly of the embedded store, as stored.
#[derive(Serialize, Deserialize)]
struct AnomalyRecord {
    id: String,
    kind: String,
    service: String,
    window_start: DateTime<Utc>,
    window_end: DateTime<Utc>,
    observed: f64,
    expected: f64,
    stddev: f64,
    score: f64,
    severity: String,
    status: String,
    first_seen: DateTime<Utc>,
    last_seen: DateTime<Utc>,
    message: String,
    #[serde(default)]
    samples: Vec<SampleRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    measure: Option<MeasureRecord>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    explanation: Vec<PatternChangeRecord>,
}

/// An anomaly's measure, as both stores keep it.
#[derive(Serialize, Deserialize)]
pub(crate) struct MeasureRecord {
    metric: String,
    unit: String,
    threshold: f64,
    baseline_start: DateTime<Utc>,
    baseline_end: DateTime<Utc>,
    bucket_seconds: u32,
}

impl MeasureRecord {
    pub(crate) fn from_measure(m: &Measure) -> MeasureRecord {
        MeasureRecord {
            metric: match m.metric {
                Metric::ErrorCount => "error_count",
                Metric::ErrorRatio => "error_ratio",
                Metric::EventRate => "event_rate",
                Metric::PatternRate => "pattern_rate",
                Metric::NewPattern => "new_pattern",
            }
            .to_owned(),
            unit: match m.unit {
                Unit::Events => "events",
                Unit::Ratio => "ratio",
            }
            .to_owned(),
            threshold: m.threshold,
            baseline_start: m.baseline_start,
            baseline_end: m.baseline_end,
            bucket_seconds: m.bucket_seconds,
        }
    }

    /// `None` for a metric or unit this version does not know: the anomaly
    /// still reads, without its measure.
    pub(crate) fn into_measure(self) -> Option<Measure> {
        let metric = match self.metric.as_str() {
            "error_count" => Metric::ErrorCount,
            "error_ratio" => Metric::ErrorRatio,
            "event_rate" => Metric::EventRate,
            "pattern_rate" => Metric::PatternRate,
            "new_pattern" => Metric::NewPattern,
            _ => return None,
        };
        let unit = match self.unit.as_str() {
            "events" => Unit::Events,
            "ratio" => Unit::Ratio,
            _ => return None,
        };
        Some(Measure {
            metric,
            unit,
            threshold: self.threshold,
            baseline_start: self.baseline_start,
            baseline_end: self.baseline_end,
            bucket_seconds: self.bucket_seconds,
        })
    }
}

/// One line of an anomaly's explanation, as both stores keep it.
#[derive(Serialize, Deserialize)]
pub(crate) struct PatternChangeRecord {
    pattern: String,
    template: String,
    before: f64,
    during: u64,
    #[serde(default)]
    new: bool,
}

impl PatternChangeRecord {
    pub(crate) fn from_change(c: &PatternChange) -> PatternChangeRecord {
        PatternChangeRecord {
            pattern: c.pattern.clone(),
            template: c.template.clone(),
            before: c.before,
            during: c.during,
            new: c.new,
        }
    }

    pub(crate) fn into_change(self) -> PatternChange {
        PatternChange {
            pattern: self.pattern,
            template: self.template,
            before: self.before,
            during: self.during,
            new: self.new,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct SampleRecord {
    ts: DateTime<Utc>,
    level: String,
    message: String,
}

pub(crate) fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

pub(crate) fn severity_from(name: &str) -> Result<Severity, String> {
    match name {
        "low" => Ok(Severity::Low),
        "medium" => Ok(Severity::Medium),
        "high" => Ok(Severity::High),
        "critical" => Ok(Severity::Critical),
        other => Err(format!("unknown severity '{other}'")),
    }
}

/// The embedded store's document of one anomaly.
pub(crate) fn encode_anomaly(a: &Anomaly) -> Result<String, StoreError> {
    let record = AnomalyRecord {
        id: a.id.clone(),
        kind: a.kind.as_str().to_owned(),
        service: a.service.clone(),
        window_start: a.window_start,
        window_end: a.window_end,
        observed: a.observed,
        expected: a.expected,
        stddev: a.stddev,
        score: a.score,
        severity: severity_name(a.severity).to_owned(),
        status: a.status.as_str().to_owned(),
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        message: a.message.clone(),
        samples: a
            .samples
            .iter()
            .map(|s| SampleRecord {
                ts: s.ts,
                level: s.level.as_str().to_owned(),
                message: s.message.clone(),
            })
            .collect(),
        measure: a.measure.as_ref().map(MeasureRecord::from_measure),
        explanation: a
            .explanation
            .iter()
            .map(PatternChangeRecord::from_change)
            .collect(),
    };
    serde_json::to_string(&record).map_err(StoreError::from)
}

/// Reads a document written by [`encode_anomaly`] (or by any earlier version).
pub(crate) fn decode_anomaly(doc: &str) -> Result<Anomaly, StoreError> {
    let r: AnomalyRecord = serde_json::from_str(doc)?;
    let corrupt = |e: String| StoreError::Corrupt(format!("anomaly {}: {e}", r.id));
    let kind: AnomalyKind = r.kind.parse().map_err(corrupt)?;
    let status: AnomalyStatus = r.status.parse().map_err(corrupt)?;
    let severity = severity_from(&r.severity).map_err(corrupt)?;
    let samples = r
        .samples
        .iter()
        .map(|s| {
            Ok(LogSample {
                ts: s.ts,
                level: s
                    .level
                    .parse()
                    .map_err(|e: UnknownLevel| corrupt(e.to_string()))?,
                message: s.message.clone(),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(Anomaly {
        id: r.id.clone(),
        kind,
        service: r.service,
        window_start: r.window_start,
        window_end: r.window_end,
        observed: r.observed,
        expected: r.expected,
        stddev: r.stddev,
        score: r.score,
        severity,
        status,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
        message: r.message,
        samples,
        measure: r.measure.and_then(MeasureRecord::into_measure),
        explanation: r
            .explanation
            .into_iter()
            .map(PatternChangeRecord::into_change)
            .collect(),
    })
}

/// A delivery attempt of the embedded store, as stored.
#[derive(Serialize, Deserialize)]
struct DeliveryRecord {
    anomaly_id: String,
    channel: String,
    status: String,
    attempt: u32,
    at: DateTime<Utc>,
    ok: bool,
    #[serde(default)]
    http_status: Option<u16>,
    #[serde(default)]
    error: Option<String>,
}

/// The embedded store's document of one delivery attempt.
pub(crate) fn encode_delivery(d: &Delivery) -> Result<String, StoreError> {
    let record = DeliveryRecord {
        anomaly_id: d.anomaly_id.clone(),
        channel: d.channel.clone(),
        status: d.status.as_str().to_owned(),
        attempt: d.attempt,
        at: d.at,
        ok: d.ok,
        http_status: d.http_status,
        error: d.error.clone(),
    };
    serde_json::to_string(&record).map_err(StoreError::from)
}

/// Reads a document written by [`encode_delivery`] (or by any earlier version).
pub(crate) fn decode_delivery(doc: &str) -> Result<Delivery, StoreError> {
    let r: DeliveryRecord = serde_json::from_str(doc)?;
    let status: AnomalyStatus = r
        .status
        .parse()
        .map_err(|e: String| StoreError::Corrupt(format!("delivery of {}: {e}", r.anomaly_id)))?;
    Ok(Delivery {
        anomaly_id: r.anomaly_id,
        channel: r.channel,
        status,
        attempt: r.attempt,
        at: r.at,
        ok: r.ok,
        http_status: r.http_status,
        error: r.error,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn full_event() -> LogEvent {
        let ts = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        LogEvent {
            ts,
            received_at: ts + chrono::Duration::milliseconds(250),
            service: "checkout".to_owned(),
            host: Some("web-1".to_owned()),
            level: Level::Error,
            message: "payment failed".to_owned(),
            attrs: [("order".to_owned(), json!(7))].into(),
            trace_id: Some("t1".to_owned()),
            span_id: Some("s1".to_owned()),
            source: Some("/var/log/app.log".to_owned()),
            truncated: true,
        }
    }

    /// The stored format itself: a change here is a migration.
    #[test]
    fn the_queue_payload_has_a_fixed_shape() {
        let minimal = LogEvent::new(
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            "api",
            Level::Info,
            "hello",
        );
        let payload = encode_batch(std::slice::from_ref(&minimal)).unwrap();
        let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            // magic, a record of 29 bytes: ts and received_at (zigzag
            // seconds, nanos), "api", no host, INFO, "hello", no attrs, no
            // trace, span or source, not truncated
            "b3 1d cad6b9950d00 cad6b9950d00 03617069 00 02 0568656c6c6f 00 00 00 00 00"
                .replace(' ', "")
        );
        let payload = encode_batch(&[full_event(), minimal.clone()]).unwrap();
        assert_eq!(payload[0], FRAMED_BATCH);
        assert_eq!(decode_batch(&payload).unwrap(), vec![full_event(), minimal]);
    }

    /// The unframed payload (one postcard sequence, no lengths), which the
    /// Redis queue writes and the embedded queue wrote before, has a fixed
    /// shape and reads: entries queued before an upgrade drain after it.
    #[test]
    fn the_unframed_binary_payload_has_a_fixed_shape_and_reads() {
        let hex = "b1 01 cad6b9950d00 cad6b9950d00 03617069 00 02 0568656c6c6f 00 00 00 00 00"
            .replace(' ', "");
        let payload: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let minimal = LogEvent::new(
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            "api",
            Level::Info,
            "hello",
        );
        assert_eq!(
            encode_batch_unframed(std::slice::from_ref(&minimal)).unwrap(),
            payload
        );
        assert_eq!(decode_batch(&payload).unwrap(), vec![minimal]);
        assert!(framed_heads(&payload).is_none());
        let both = encode_batch_unframed(&[full_event(), full_event()]).unwrap();
        assert_eq!(
            decode_batch(&both).unwrap(),
            vec![full_event(), full_event()]
        );
    }

    /// A claim reads each record's head, and the bytes around its message
    /// are exactly what the block writer would encode for it: the embedded
    /// store copies them instead.
    #[test]
    fn a_framed_head_finds_the_fields_and_the_rest_of_each_record() {
        let mut long = full_event();
        // A message longer than 127 bytes has a two-byte length.
        long.message = "x".repeat(300);
        long.attrs = [
            ("nested".to_owned(), json!({"a": [1, "two"]})),
            ("n".to_owned(), json!(1.5)),
        ]
        .into();
        let events = vec![
            full_event(),
            LogEvent::new(Utc::now(), "api", Level::Debug, ""),
            long,
        ];
        let payload = encode_batch(&events).unwrap();
        let heads = framed_heads(&payload).unwrap().unwrap();
        assert_eq!(heads.len(), events.len());
        for (head, event) in heads.iter().zip(&events) {
            assert_eq!(head.ts, event.ts);
            assert_eq!(head.received_at, event.received_at);
            assert_eq!(head.level, event.level);
            assert_eq!(&payload[head.service.clone()], event.service.as_bytes());
            assert_eq!(&payload[head.message.clone()], event.message.as_bytes());
            let (before, after) = head.rest(&payload);
            let copied = [before, &[0][..], after].concat();
            assert_eq!(copied, encode_log_rest(event, Vec::new()).unwrap());
            assert_eq!(
                decode_framed(&payload[head.record.clone()]).unwrap(),
                *event
            );
        }
    }

    #[test]
    fn attributes_of_every_json_type_survive_the_queue() {
        let mut event = full_event();
        event.attrs = [
            ("null", json!(null)),
            ("yes", json!(true)),
            ("neg", json!(-7)),
            ("big", json!(u64::MAX)),
            ("ratio", json!(0.25)),
            ("name", json!("ünïcode \"quoted\"")),
            ("list", json!([1, "two", {"three": 3}])),
            ("obj", json!({"a": {"b": [null]}})),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let payload = encode_batch(std::slice::from_ref(&event)).unwrap();
        assert_eq!(decode_batch(&payload).unwrap(), vec![event]);
    }

    /// Arrays and objects are written as values, not JSON text (a change
    /// here is a migration; `attrs.rs` tests that JSON text still reads), and
    /// a value nested past 32 levels is still written so.
    #[test]
    fn nested_attributes_are_binary_down_to_32_levels() {
        let mut event = LogEvent::new(
            Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            "api",
            Level::Info,
            "hello",
        );
        event.attrs = [("o".to_owned(), json!({"a": [1, "x"]}))].into();
        let payload = encode_batch(std::slice::from_ref(&event)).unwrap();
        let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
        assert!(
            hex.ends_with(
                // one attribute "o": Map (8) of one entry "a": List (7) of
                // I64 (2) 1 (zigzag 02) and Str (5) "x"; no trace, span or
                // source, not truncated
                &"01 016f 08 01 0161 07 02 02 02 05 0178 00 00 00 00".replace(' ', "")
            ),
            "{hex}"
        );
        assert_eq!(decode_batch(&payload).unwrap(), vec![event.clone()]);

        let mut deep = json!("leaf");
        // 120 levels: as deep as JSON ingest takes (serde_json stops at 128).
        for _ in 0..60 {
            deep = json!({ "d": [deep] });
        }
        event.attrs = [("deep".to_owned(), deep)].into();
        let payload = encode_batch(std::slice::from_ref(&event)).unwrap();
        assert!(
            payload.windows(6).any(|w| w == br#"{"d":["#),
            "deep part as JSON text"
        );
        assert_eq!(decode_batch(&payload).unwrap(), vec![event]);
    }

    #[test]
    fn a_corrupt_binary_payload_is_an_error_not_a_panic() {
        let payload = encode_batch(&[full_event()]).unwrap();
        // The magic byte alone is an empty batch.
        for cut in 2..payload.len() {
            assert!(decode_batch(&payload[..cut]).is_err(), "cut at {cut}");
            assert!(
                framed_heads(&payload[..cut]).unwrap().is_err(),
                "cut at {cut}"
            );
        }
        // Any byte of a record changed: an error or another event, never a
        // panic, read by head or whole.
        for at in 1..payload.len() {
            for byte in [0x00, 0x7f, 0x80, 0xff] {
                let mut bad = payload.clone();
                bad[at] = byte;
                let _ = decode_batch(&bad);
                if let Some(Ok(heads)) = framed_heads(&bad) {
                    for head in heads {
                        let _ = head.rest(&bad);
                        let _ = decode_framed(&bad[head.record.clone()]);
                    }
                }
            }
        }
        let mut bad_level =
            encode_batch(&[LogEvent::new(Utc::now(), "a", Level::Info, "m")]).unwrap();
        // The level rank: before the message ("m") and five empty fields.
        let at = bad_level.len() - 8;
        assert_eq!(bad_level[at], Level::Info.rank());
        bad_level[at] = 200;
        assert!(decode_batch(&bad_level).is_err());
    }

    #[cfg(feature = "embedded")]
    #[test]
    fn the_embedded_log_document_has_a_fixed_shape() {
        let log = StoredLog {
            pattern: None,
            id: "000000000001-00000".to_owned(),
            event: full_event(),
        };
        let doc = encode_log_without_message(&log).unwrap();
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(value["id"], "000000000001-00000");
        assert_eq!(value["level"], "ERROR");
        assert_eq!(value["message"], "");
        assert_eq!(value["attrs"], json!({"order": 7}));
        assert_eq!(value.as_object().unwrap().len(), 12);
        let mut back = decode_log(&doc).unwrap();
        back.event.message.clone_from(&log.event.message);
        assert_eq!(back, log);
    }

    /// Written by the derive on `LogEvent` before the stored shapes had types of
    /// their own (c992f1f): still read.
    #[test]
    fn data_written_by_earlier_versions_still_reads() {
        let old_payload = br#"[{"ts":"2026-01-02T03:04:05Z","received_at":"2026-01-02T03:04:05.250Z","service":"checkout","host":"web-1","level":"ERROR","message":"payment failed","attrs":{"order":7},"trace_id":"t1","span_id":"s1","source":"/var/log/app.log","truncated":true}]"#;
        assert_eq!(decode_batch(old_payload).unwrap(), vec![full_event()]);
        let old_doc = r#"{"id":"000000000001-00000","ts":"2026-01-02T03:04:05Z","received_at":"2026-01-02T03:04:05.250Z","service":"checkout","host":"web-1","level":"ERROR","message":"payment failed","attrs":{"order":7},"trace_id":"t1","span_id":"s1","source":"/var/log/app.log","truncated":true}"#;
        assert_eq!(decode_log(old_doc).unwrap().event, full_event());
    }

    #[test]
    fn times_are_written_as_chronos_serialize_writes_them() {
        let times = [
            "2026-12-04T20:00:00Z",
            "2026-12-04T20:00:00.100Z",
            "2026-12-04T20:00:00.120300Z",
            "2026-12-04T20:00:00.000000001Z",
            "1970-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
        ];
        for t in times {
            let ts: DateTime<Utc> = t.parse().unwrap();
            let mut ours = Vec::new();
            rfc3339(&&ts, &mut serde_json::Serializer::new(&mut ours)).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&ts).unwrap(),
                "{t}"
            );
        }
    }

    #[test]
    fn an_unknown_level_is_corrupt_data_not_a_panic() {
        let payload = br#"[{"ts":"2026-01-02T03:04:05Z","received_at":"2026-01-02T03:04:05Z","service":"a","level":"LOUD","message":"m"}]"#;
        assert!(decode_batch(payload).unwrap_err().contains("LOUD"));
    }

    fn anomaly() -> Anomaly {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        Anomaly {
            id: "a1".to_owned(),
            kind: AnomalyKind::Burst,
            service: "api".to_owned(),
            window_start: at,
            window_end: at,
            observed: 30.0,
            expected: 1.5,
            stddev: 0.5,
            score: 0.9,
            severity: Severity::High,
            status: AnomalyStatus::Open,
            first_seen: at,
            last_seen: at,
            message: "30 errors".to_owned(),
            samples: vec![LogSample {
                ts: at,
                level: Level::Error,
                message: "boom".to_owned(),
            }],
            measure: None,
            explanation: Vec::new(),
        }
    }

    #[test]
    fn the_embedded_anomaly_and_delivery_documents_have_a_fixed_shape() {
        let doc = encode_anomaly(&anomaly()).unwrap();
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            value,
            json!({
                "id": "a1", "kind": "burst", "service": "api",
                "window_start": "2026-01-02T03:04:05Z", "window_end": "2026-01-02T03:04:05Z",
                "observed": 30.0, "expected": 1.5, "stddev": 0.5, "score": 0.9,
                "severity": "high", "status": "open",
                "first_seen": "2026-01-02T03:04:05Z", "last_seen": "2026-01-02T03:04:05Z",
                "message": "30 errors",
                "samples": [{"ts": "2026-01-02T03:04:05Z", "level": "ERROR", "message": "boom"}]
            })
        );
        assert_eq!(decode_anomaly(&doc).unwrap(), anomaly());

        let delivery = Delivery {
            anomaly_id: "a1".to_owned(),
            channel: "discord".to_owned(),
            status: AnomalyStatus::Resolved,
            attempt: 2,
            at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            ok: false,
            http_status: Some(429),
            error: Some("rate limited".to_owned()),
        };
        let doc = encode_delivery(&delivery).unwrap();
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            value,
            json!({
                "anomaly_id": "a1", "channel": "discord", "status": "resolved", "attempt": 2,
                "at": "2026-01-02T03:04:05Z", "ok": false, "http_status": 429,
                "error": "rate limited"
            })
        );
        assert_eq!(decode_delivery(&doc).unwrap(), delivery);
    }

    /// The derive-based documents of c992f1f still read.
    #[test]
    fn earlier_anomaly_and_delivery_documents_still_read() {
        let old = serde_json::to_string(&anomaly()).unwrap();
        assert_eq!(decode_anomaly(&old).unwrap(), anomaly());
        let old = r#"{"anomaly_id":"a1","channel":"slack","status":"open","attempt":1,"at":"2026-01-02T03:04:05Z","ok":true,"http_status":null,"error":null}"#;
        assert_eq!(decode_delivery(old).unwrap().channel, "slack");
    }
}
