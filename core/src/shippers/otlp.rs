//! OpenTelemetry log records (OTLP) to events.
//!
//! | event     | from |
//! |-----------|------|
//! | `service` | resource attribute `service.name` |
//! | `host`    | resource attribute `host.name` |
//! | `ts`      | `time_unix_nano`, else `observed_time_unix_nano` (0 = unknown) |
//! | `level`   | `severity_number` (1-24), else `severity_text` in any common spelling, else INFO (an unknown text is kept in `attrs["level_raw"]`) |
//! | `message` | the body: a string as is, other values as JSON text; without a body the `event_name` |
//! | `trace_id`, `span_id` | lower-case hex of the ids (absent when all zero or of the wrong length) |
//! | `attrs`   | the other resource attributes, then the record's attributes (which win), `otel.scope.name` and `event.name` |

use serde_json::Value;

use super::{ShippedRecord, finish, time_from_unix_nanos};
use crate::model::{Level, LogEvent};
use crate::parse::{ParseDefaults, ParseLimits};

const SERVICE_HINT: &str = "set the service.name resource attribute (OTEL_SERVICE_NAME)";

/// The resource and scope a batch of log records shares, attributes already
/// converted to JSON values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtlpResource {
    pub attributes: Vec<(String, Value)>,
    pub scope_name: String,
}

/// One OTLP `LogRecord`, its attribute values converted to JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OtlpLogRecord {
    pub time_unix_nano: u64,
    pub observed_time_unix_nano: u64,
    pub severity_number: i32,
    pub severity_text: String,
    /// `None` when the record has no body.
    pub body: Option<Value>,
    pub attributes: Vec<(String, Value)>,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub event_name: String,
}

/// Maps one log record of `resource` to an event.
pub fn to_event(
    resource: &OtlpResource,
    record: OtlpLogRecord,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<LogEvent, String> {
    let mut shipped = ShippedRecord::default();
    for (key, value) in &resource.attributes {
        match (key.as_str(), value) {
            ("service.name", Value::String(s)) => shipped.service = Some(s.clone()),
            ("host.name", Value::String(s)) => shipped.host = Some(s.clone()),
            _ => {
                shipped.attrs.insert(key.clone(), value.clone());
            }
        }
    }
    for (key, value) in record.attributes {
        shipped.attrs.insert(key, value);
    }
    if !resource.scope_name.is_empty() {
        shipped
            .attrs
            .insert("otel.scope.name".into(), resource.scope_name.clone().into());
    }
    if !record.event_name.is_empty() {
        shipped
            .attrs
            .insert("event.name".into(), record.event_name.clone().into());
    }

    shipped.ts = [record.time_unix_nano, record.observed_time_unix_nano]
        .into_iter()
        .find_map(|n| time_from_unix_nanos(i128::from(n)));
    shipped.level = match Level::from_otlp(i64::from(record.severity_number)) {
        Some(level) => level,
        None => match Level::parse_name(&record.severity_text) {
            Some(level) => level,
            None => {
                if !record.severity_text.trim().is_empty() {
                    shipped
                        .attrs
                        .insert("level_raw".into(), record.severity_text.into());
                }
                Level::Info
            }
        },
    };
    shipped.message = match record.body {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None if !record.event_name.is_empty() => record.event_name,
        Some(Value::Null) | None => {
            return Err("log record has neither a body nor an event_name".into());
        }
        Some(other) => other.to_string(),
    };
    shipped.trace_id = hex_id(&record.trace_id, 16);
    shipped.span_id = hex_id(&record.span_id, 8);
    finish(shipped, defaults, limits, SERVICE_HINT)
}

/// Lower-case hex of a trace or span id; `None` when all zero or not `len` bytes
/// (OTLP's "invalid id").
fn hex_id(bytes: &[u8], len: usize) -> Option<String> {
    if bytes.len() != len || bytes.iter().all(|b| *b == 0) {
        return None;
    }
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn defaults() -> ParseDefaults {
        ParseDefaults {
            service: None,
            host: None,
            source: None,
            received_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
        }
    }

    fn resource() -> OtlpResource {
        OtlpResource {
            attributes: vec![
                ("service.name".into(), "checkout".into()),
                ("host.name".into(), "web-1".into()),
                ("service.version".into(), "1.2".into()),
            ],
            scope_name: "app.payments".into(),
        }
    }

    #[test]
    fn resource_and_record_fields_map_to_the_event() {
        let record = OtlpLogRecord {
            time_unix_nano: 1_799_999_999_000_000_000,
            severity_number: 17,
            severity_text: "ERROR".into(),
            body: Some("card declined".into()),
            attributes: vec![("order".into(), 42.into())],
            trace_id: (1..=16).collect(),
            span_id: vec![0xab; 8],
            ..OtlpLogRecord::default()
        };
        let event = to_event(&resource(), record, &defaults(), &ParseLimits::default()).unwrap();
        assert_eq!(event.service, "checkout");
        assert_eq!(event.host.as_deref(), Some("web-1"));
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.message, "card declined");
        assert_eq!(event.ts.timestamp(), 1_799_999_999);
        assert_eq!(
            event.trace_id.as_deref(),
            Some("0102030405060708090a0b0c0d0e0f10")
        );
        assert_eq!(event.span_id.as_deref(), Some("abababababababab"));
        assert_eq!(event.attrs["order"], 42);
        assert_eq!(event.attrs["service.version"], "1.2");
        assert_eq!(event.attrs["otel.scope.name"], "app.payments");
        assert!(!event.attrs.contains_key("service.name"));
    }

    #[test]
    fn severity_text_is_used_without_a_number_and_kept_when_unknown() {
        let warn = OtlpLogRecord {
            severity_text: "warning".into(),
            body: Some("x".into()),
            ..OtlpLogRecord::default()
        };
        let event = to_event(&resource(), warn, &defaults(), &ParseLimits::default()).unwrap();
        assert_eq!(event.level, Level::Warn);
        let odd = OtlpLogRecord {
            severity_text: "LOUD".into(),
            body: Some("x".into()),
            ..OtlpLogRecord::default()
        };
        let event = to_event(&resource(), odd, &defaults(), &ParseLimits::default()).unwrap();
        assert_eq!(event.level, Level::Info);
        assert_eq!(event.attrs["level_raw"], "LOUD");
    }

    #[test]
    fn structured_bodies_become_json_text_and_missing_ones_are_rejected() {
        let structured = OtlpLogRecord {
            body: Some(serde_json::json!({"user": "ann", "ok": false})),
            ..OtlpLogRecord::default()
        };
        let event = to_event(
            &resource(),
            structured,
            &defaults(),
            &ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(event.message, r#"{"ok":false,"user":"ann"}"#);
        assert_eq!(event.ts, defaults().received_at);

        let empty = OtlpLogRecord::default();
        let err = to_event(&resource(), empty, &defaults(), &ParseLimits::default()).unwrap_err();
        assert!(err.contains("body"), "{err}");
    }

    #[test]
    fn zero_or_short_ids_are_not_kept() {
        let record = OtlpLogRecord {
            body: Some("x".into()),
            trace_id: vec![0; 16],
            span_id: vec![1; 4],
            ..OtlpLogRecord::default()
        };
        let event = to_event(&resource(), record, &defaults(), &ParseLimits::default()).unwrap();
        assert_eq!(event.trace_id, None);
        assert_eq!(event.span_id, None);
    }
}
