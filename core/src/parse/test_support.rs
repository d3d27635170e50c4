//! Shared fixtures of the parse tests.
//!
//! Every test module of `parse` imports `test_support::*`, so the common names are
//! re-exported here.

pub(super) use std::collections::BTreeMap;

pub(super) use chrono::{DateTime, TimeZone, Utc};
pub(super) use serde_json::Value;

pub(super) use super::timestamp::TIMESTAMP_FORMATS;
pub(super) use super::{
    BodyFormat, ParseDefaults, ParseError, ParseLimits, ParsedBatch, parse_body, parse_json_record,
    parse_text_line, parse_timestamp,
};
pub(super) use crate::model::{Level, LogEvent};

/// 2026-01-02T12:00:00Z
pub(super) fn received_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 2, 12, 0, 0).unwrap()
}

pub(super) fn defaults() -> ParseDefaults {
    ParseDefaults {
        service: Some("api".to_owned()),
        host: None,
        source: None,
        received_at: received_at(),
    }
}

pub(super) fn no_service() -> ParseDefaults {
    ParseDefaults {
        service: None,
        ..defaults()
    }
}

pub(super) fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub(super) fn record(value: Value) -> Result<LogEvent, String> {
    parse_json_record(&value, &defaults(), &ParseLimits::default())
}

pub(super) fn text(line: &str) -> LogEvent {
    parse_text_line(line, &defaults(), &ParseLimits::default()).unwrap()
}

pub(super) fn ts(value: Value) -> Result<DateTime<Utc>, String> {
    parse_timestamp(&value)
}

pub(super) fn body(format: BodyFormat, body: &str) -> Result<ParsedBatch, ParseError> {
    parse_body(
        format,
        body.as_bytes(),
        &defaults(),
        &ParseLimits::default(),
    )
}
