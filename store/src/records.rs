//! The shapes the store writes, separate from core's types: the queue payload
//! (an ingest batch, in the embedded queue and the Redis stream) and the
//! embedded store's log documents. Renaming a field of [`LogEvent`] (or of an
//! API body) is therefore not a migration: these field names are the stored
//! format, pinned by a golden test, and data written before still reads.
//!
//! MongoDB documents are written field by field in `mongo.rs` and never used a
//! derive.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use anomalog_core::{Level, LogEvent, StoredLog};

use crate::StoreError;

/// One event as stored, for writing (borrowed: no copy of the batch).
#[derive(Serialize)]
struct EventOut<'a> {
    ts: &'a DateTime<Utc>,
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

/// The queue payload of one ingest batch: a JSON array of events.
pub(crate) fn encode_batch(events: &[LogEvent]) -> Result<String, StoreError> {
    let records: Vec<EventOut<'_>> = events.iter().map(EventOut::from).collect();
    serde_json::to_string(&records)
        .map_err(|e| StoreError::Invalid(format!("cannot encode events: {e}")))
}

/// Reads a queue payload written by [`encode_batch`] (or by any earlier version).
pub(crate) fn decode_batch(payload: &[u8]) -> Result<Vec<LogEvent>, String> {
    let records: Vec<EventIn> = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
    records.into_iter().map(EventIn::into_event).collect()
}

/// A log of the embedded store, as stored: its id beside the event's fields.
#[derive(Serialize)]
struct StoredLogOut<'a> {
    id: &'a str,
    #[serde(flatten)]
    event: EventOut<'a>,
}

#[derive(Deserialize)]
struct StoredLogIn {
    id: String,
    #[serde(flatten)]
    event: EventIn,
}

/// The embedded store's document of one log.
pub(crate) fn encode_log(log: &StoredLog) -> Result<String, StoreError> {
    let record = StoredLogOut {
        id: &log.id,
        event: EventOut::from(&log.event),
    };
    serde_json::to_string(&record).map_err(StoreError::from)
}

/// Reads a document written by [`encode_log`] (or by any earlier version).
pub(crate) fn decode_log(doc: &str) -> Result<StoredLog, StoreError> {
    let record: StoredLogIn = serde_json::from_str(doc)?;
    let event = record
        .event
        .into_event()
        .map_err(|e| StoreError::Corrupt(format!("log {}: {e}", record.id)))?;
    Ok(StoredLog {
        id: record.id,
        event,
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
        let payload = encode_batch(&[full_event(), minimal]).unwrap();
        let value: serde_json::Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(
            value,
            json!([
                {
                    "ts": "2026-01-02T03:04:05Z",
                    "received_at": "2026-01-02T03:04:05.250Z",
                    "service": "checkout",
                    "host": "web-1",
                    "level": "ERROR",
                    "message": "payment failed",
                    "attrs": {"order": 7},
                    "trace_id": "t1",
                    "span_id": "s1",
                    "source": "/var/log/app.log",
                    "truncated": true
                },
                {
                    "ts": "2026-01-02T03:04:05Z",
                    "received_at": "2026-01-02T03:04:05Z",
                    "service": "api",
                    "level": "INFO",
                    "message": "hello"
                }
            ])
        );
        assert_eq!(
            decode_batch(payload.as_bytes()).unwrap(),
            vec![
                full_event(),
                LogEvent::new(
                    Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
                    "api",
                    Level::Info,
                    "hello"
                )
            ]
        );
    }

    #[test]
    fn the_embedded_log_document_has_a_fixed_shape() {
        let log = StoredLog {
            id: "000000000001-00000".to_owned(),
            event: full_event(),
        };
        let doc = encode_log(&log).unwrap();
        let value: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(value["id"], "000000000001-00000");
        assert_eq!(value["level"], "ERROR");
        assert_eq!(value["attrs"], json!({"order": 7}));
        assert_eq!(value.as_object().unwrap().len(), 12);
        assert_eq!(decode_log(&doc).unwrap(), log);
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
    fn an_unknown_level_is_corrupt_data_not_a_panic() {
        let payload = br#"[{"ts":"2026-01-02T03:04:05Z","received_at":"2026-01-02T03:04:05Z","service":"a","level":"LOUD","message":"m"}]"#;
        assert!(decode_batch(payload).unwrap_err().contains("LOUD"));
    }
}
