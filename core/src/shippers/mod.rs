//! The shippers' own protocols mapped to [`LogEvent`]s: OpenTelemetry logs
//! ([`otlp`]), Loki push ([`loki`]) and syslog ([`syslog`]).
//!
//! Ingest decodes the wire formats (protobuf, snappy, syslog framing) into the
//! plain Rust values these modules take; the mapping to events lives here so
//! every entry point applies the same rules as `/ingest`: the receive time as
//! the default timestamp, no timestamp more than 24 h ahead, a required
//! service of at most [`crate::parse::MAX_SERVICE_BYTES`], messages cut to
//! [`ParseLimits::max_message_bytes`] and attrs bounded like parsed records
//! (flagged `truncated`). Elasticsearch bulk documents are ordinary JSON
//! records and go through [`crate::parse::parse_json_record`].
//!
//! Every function returns `Err(reason)` for a record that cannot be used; the
//! caller turns it into a rejection by index, as for `/ingest`.

pub mod loki;
pub mod otlp;
pub mod syslog;

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{Level, LogEvent};
use crate::parse::draft::{Draft, finish_with_hint};
use crate::parse::{ParseDefaults, ParseLimits, parse_text_line};

/// A record of any protocol after its own mapping, before defaults and limits.
#[derive(Debug, Clone, PartialEq)]
pub struct ShippedRecord {
    /// Event time; `None` means the receive time.
    pub ts: Option<DateTime<Utc>>,
    pub level: Level,
    pub message: String,
    pub service: Option<String>,
    pub host: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub source: Option<String>,
    pub attrs: BTreeMap<String, Value>,
}

impl Default for ShippedRecord {
    fn default() -> Self {
        ShippedRecord {
            ts: None,
            level: Level::Info,
            message: String::new(),
            service: None,
            host: None,
            trace_id: None,
            span_id: None,
            source: None,
            attrs: BTreeMap::new(),
        }
    }
}

/// Applies `defaults` and `limits` to a mapped record, by the parser's own
/// rules (one place for them). `service_hint` tells a sender of this protocol
/// where a service comes from when there is none.
pub fn finish(
    record: ShippedRecord,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
    service_hint: &str,
) -> Result<LogEvent, String> {
    let draft = Draft {
        ts: record.ts,
        ts_key: Cow::Borrowed("timestamp"),
        level: record.level,
        level_raw: None,
        message: record.message,
        service: record.service,
        host: record.host,
        source: record.source,
        trace_id: record.trace_id,
        span_id: record.span_id,
        attrs: record.attrs,
    };
    finish_with_hint(draft, defaults, limits, service_hint)
}

/// A time from Unix epoch nanoseconds; `None` for 0 (OTLP's "unknown") and
/// values beyond chrono's range.
pub fn time_from_unix_nanos(nanos: i128) -> Option<DateTime<Utc>> {
    if nanos <= 0 {
        return None;
    }
    let secs = i64::try_from(nanos / 1_000_000_000).ok()?;
    let sub = u32::try_from(nanos % 1_000_000_000).ok()?;
    DateTime::from_timestamp(secs, sub)
}

/// The level `/ingest` infers for a text line (`ERROR ...`, `level=warn`, a
/// JSON `level`...), INFO when it names none.
pub fn infer_level(line: &str, received_at: DateTime<Utc>) -> Level {
    // Only the level is used: a placeholder service keeps the parse from
    // failing on what the line lacks.
    let defaults = ParseDefaults {
        service: Some("-".to_owned()),
        host: None,
        source: None,
        received_at,
    };
    parse_text_line(line, &defaults, &ParseLimits::default()).map_or(Level::Info, |e| e.level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ParseDefaults {
        ParseDefaults {
            service: None,
            host: Some("default-host".into()),
            source: None,
            received_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn a_record_without_any_service_is_rejected_with_the_protocols_hint() {
        let err = finish(
            ShippedRecord {
                message: "m".into(),
                ..ShippedRecord::default()
            },
            &defaults(),
            &ParseLimits::default(),
            "set the service.name resource attribute",
        )
        .unwrap_err();
        assert!(err.contains("service.name"), "{err}");
    }

    #[test]
    fn limits_cut_messages_and_attrs_and_flag_the_event() {
        let limits = ParseLimits {
            max_message_bytes: 3,
            max_attrs: 1,
            max_attr_value_bytes: 2,
            ..ParseLimits::default()
        };
        let mut attrs = BTreeMap::new();
        attrs.insert("a".to_owned(), Value::from("long"));
        attrs.insert("b".to_owned(), Value::from(1));
        let event = finish(
            ShippedRecord {
                message: "héllo".into(),
                service: Some("api".into()),
                attrs,
                ..ShippedRecord::default()
            },
            &defaults(),
            &limits,
            "",
        )
        .unwrap();
        assert_eq!(event.message, "hé");
        assert_eq!(event.attrs.len(), 1);
        assert_eq!(event.attrs["a"], "lo");
        assert!(event.truncated);
        assert_eq!(event.host.as_deref(), Some("default-host"));
    }

    #[test]
    fn far_future_timestamps_are_rejected() {
        let d = defaults();
        let err = finish(
            ShippedRecord {
                ts: d
                    .received_at
                    .checked_add_signed(chrono::TimeDelta::hours(25)),
                service: Some("api".into()),
                ..ShippedRecord::default()
            },
            &d,
            &ParseLimits::default(),
            "",
        )
        .unwrap_err();
        assert!(err.contains("future"), "{err}");
    }

    #[test]
    fn zero_nanos_mean_no_time() {
        assert_eq!(time_from_unix_nanos(0), None);
        assert_eq!(
            time_from_unix_nanos(1_700_000_000_123_000_000).map(|t| t.timestamp_millis()),
            Some(1_700_000_000_123)
        );
    }
}
