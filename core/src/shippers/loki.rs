//! Loki push entries to events.
//!
//! | event     | from |
//! |-----------|------|
//! | `service` | the first stream label of `service_name`, `service`, `app`, `job` |
//! | `level`   | label `level`, else `detected_level`, else `severity` (python-logging-loki's), else inferred from the line as for a text line of `/ingest` (`ERROR ...`, `level=warn`, a JSON `level`...) |
//! | `host`    | label `host`, else `hostname` |
//! | `ts`      | the entry's timestamp |
//! | `message` | the line, whole |
//! | `trace_id`, `span_id` | structured metadata `trace_id` / `traceID`, `span_id` / `spanID` |
//! | `attrs`   | the other labels, then the structured metadata (which wins) |
//!
//! The labels that became `service`, `level` and `host` are not repeated in `attrs`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{ShippedRecord, finish, infer_level};
use crate::model::{Level, LogEvent};
use crate::parse::{ParseDefaults, ParseLimits};

const SERVICE_LABELS: &[&str] = &["service_name", "service", "app", "job"];
const LEVEL_LABELS: &[&str] = &["level", "detected_level", "severity"];
const HOST_LABELS: &[&str] = &["host", "hostname"];
const TRACE_ID_KEYS: &[&str] = &["trace_id", "traceID", "traceId"];
const SPAN_ID_KEYS: &[&str] = &["span_id", "spanID", "spanId"];
const SERVICE_HINT: &str =
    "add a service_name, service, app or job stream label, or ?service= / X-Anomalog-Service";

/// One entry of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct LokiEntry {
    /// `None` when the sender gave 0.
    pub ts: Option<DateTime<Utc>>,
    pub line: String,
    pub structured_metadata: Vec<(String, String)>,
}

/// Maps one entry of the stream with `labels` to an event.
pub fn to_event(
    labels: &BTreeMap<String, String>,
    entry: LokiEntry,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<LogEvent, String> {
    let mut rest = labels.clone();
    let service = take_first(&mut rest, SERVICE_LABELS);
    let host = take_first(&mut rest, HOST_LABELS);
    let level_label = take_first(&mut rest, LEVEL_LABELS);
    let mut metadata: BTreeMap<String, String> = entry.structured_metadata.into_iter().collect();
    let trace_id = take_first(&mut metadata, TRACE_ID_KEYS);
    let span_id = take_first(&mut metadata, SPAN_ID_KEYS);

    let mut attrs: BTreeMap<String, Value> = rest
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    attrs.extend(metadata.into_iter().map(|(k, v)| (k, Value::String(v))));

    let level = match level_label.as_deref().and_then(Level::parse_name) {
        Some(level) => level,
        None => {
            if let Some(raw) = level_label {
                attrs.insert("level_raw".into(), raw.into());
            }
            infer_level(&entry.line, defaults.received_at)
        }
    };

    let record = ShippedRecord {
        ts: entry.ts,
        level,
        message: entry.line,
        service,
        host,
        trace_id,
        span_id,
        source: None,
        attrs,
    };
    finish(record, defaults, limits, SERVICE_HINT)
}

/// Removes and returns the first of `keys` with a non-blank value.
fn take_first(map: &mut BTreeMap<String, String>, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find(|k| map.get(**k).is_some_and(|v| !v.trim().is_empty()))
        .and_then(|k| map.remove(*k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ParseDefaults {
        ParseDefaults {
            service: Some("fallback".into()),
            host: None,
            source: None,
            received_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
        }
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn entry(line: &str) -> LokiEntry {
        LokiEntry {
            ts: DateTime::from_timestamp(1_799_999_000, 0),
            line: line.into(),
            structured_metadata: vec![],
        }
    }

    #[test]
    fn service_label_precedence_is_service_name_service_app_job() {
        let l = labels(&[("job", "j"), ("app", "a"), ("service", "s")]);
        let event = to_event(&l, entry("hi"), &defaults(), &ParseLimits::default()).unwrap();
        assert_eq!(event.service, "s");
        assert_eq!(event.attrs["app"], "a");
        assert_eq!(event.attrs["job"], "j");
        let l = labels(&[("job", "j")]);
        let event = to_event(&l, entry("hi"), &defaults(), &ParseLimits::default()).unwrap();
        assert_eq!(event.service, "j");
        let event = to_event(
            &labels(&[]),
            entry("hi"),
            &defaults(),
            &ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(event.service, "fallback");
    }

    #[test]
    fn level_comes_from_labels_then_the_line() {
        let l = labels(&[("app", "a"), ("level", "warning")]);
        let event = to_event(
            &l,
            entry("ERROR in line"),
            &defaults(),
            &ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(event.level, Level::Warn);
        assert!(!event.attrs.contains_key("level"));
        let l = labels(&[("app", "a")]);
        let no_default_service = ParseDefaults {
            service: None,
            ..defaults()
        };
        let event = to_event(
            &l,
            entry("ERROR payment failed"),
            &no_default_service,
            &ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(event.level, Level::Error);
        assert_eq!(
            event.message, "ERROR payment failed",
            "the line is kept whole"
        );
        let event = to_event(
            &l,
            entry("ts=1 level=debug msg=x"),
            &defaults(),
            &ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(event.level, Level::Debug);
    }

    #[test]
    fn structured_metadata_is_kept_and_trace_ids_are_lifted() {
        let l = labels(&[("app", "a"), ("env", "prod"), ("host", "h1")]);
        let mut e = entry("hi");
        e.structured_metadata = vec![
            ("traceID".into(), "abc".into()),
            ("user".into(), "ann".into()),
            ("env".into(), "canary".into()),
        ];
        let event = to_event(&l, e, &defaults(), &ParseLimits::default()).unwrap();
        assert_eq!(event.trace_id.as_deref(), Some("abc"));
        assert_eq!(event.host.as_deref(), Some("h1"));
        assert_eq!(event.attrs["user"], "ann");
        assert_eq!(event.attrs["env"], "canary", "metadata wins over labels");
        assert_eq!(event.ts.timestamp(), 1_799_999_000);
    }
}
