//! Turning ingest bodies into [`LogEvent`]s.
//!
//! Three framings are accepted (see [`BodyFormat`]): a JSON object or array of
//! objects, NDJSON (one object per line) and plain text (one event per line, with
//! timestamp, level and logfmt fields inferred). Parsing never panics and never
//! fails a whole batch because of one bad record: a record that cannot be used
//! becomes a [`Rejection`] with its index and a reason the sender can act on, and
//! only problems with the body as a whole (not UTF-8, not JSON, empty, too many
//! events) are a [`ParseError`].
//!
//! # JSON records
//!
//! Well-known fields are recognised under the aliases below; for each field the
//! first alias present with a usable value wins and is removed from the record.
//! Everything else (including the losing aliases) is kept in `attrs`. `null`
//! values of alias keys count as absent.
//!
//! | field      | aliases |
//! |------------|---------|
//! | `ts`       | `ts`, `timestamp`, `time`, `@timestamp`, `datetime`, `date` |
//! | `level`    | `level`, `severity`, `severity_text`, `lvl`, `loglevel`, `log.level`, `levelname`, then the OTLP `severity_number` / `severityNumber` |
//! | `message`  | `message`, `msg`, `log`, `text`, `body`, `@message` |
//! | `service`  | `service`, `service.name`, `service_name`, `app`, `application`, `component` |
//! | `host`     | `host`, `hostname`, `host.name` |
//! | `trace_id` | `trace_id`, `traceId`, `trace.id` |
//! | `span_id`  | `span_id`, `spanId` |
//! | `source`   | `source` |
//!
//! Field rules:
//! - `ts`: see [`parse_timestamp`]; missing means the receive time; more than 24 h
//!   after the receive time, or before 1970, is rejected.
//! - `level`: names as understood by [`Level::parse_name`]; numbers (and numeric
//!   strings) are pino levels when they are 10/20/30/40/50/60, else syslog
//!   severities 0-7. When the textual level is unknown the OTLP severity number is
//!   used if present. An unknown level becomes INFO and the raw value is kept in
//!   `attrs["level_raw"]`; a level that is an object, array or boolean is rejected.
//! - `message`: strings; numbers and booleans are turned into text, and an OTLP
//!   `{"stringValue": "..."}` body is unwrapped. Trailing line breaks are removed.
//!   Longer than [`ParseLimits::max_message_bytes`] is cut at a character boundary
//!   and flagged `truncated`.
//! - `service`: a string (or an object with a string `name`, as in ECS); blank
//!   counts as absent. Falls back to [`ParseDefaults::service`]; missing or longer
//!   than [`MAX_SERVICE_BYTES`] is rejected. A non-string value under a generic
//!   alias such as `component` is left in `attrs`.
//! - `host` (a string or an object with a string `name`, as in ECS), `trace_id`,
//!   `span_id`, `source` (strings): other values stay in `attrs`; blank counts as
//!   absent; `host` and `source` fall back to the defaults. They are cut to
//!   [`ParseLimits::max_attr_value_bytes`].
//!
//! # Text lines
//!
//! A line that starts with `{` and parses as a JSON object is a JSON record.
//! Otherwise, in order:
//! 1. an optional syslog priority `<N>` (its severity is the level unless a level
//!    token is found later), optionally followed by the RFC 5424 version `1`;
//! 2. an optional leading timestamp, optionally in `[brackets]`: RFC 3339,
//!    `YYYY-MM-DD HH:MM:SS[.,]fff` with an optional offset, `YYYY/MM/DD HH:MM:SS`,
//!    or classic syslog `Mmm dd HH:MM:SS`, which takes the year of the receive time
//!    (the previous year when that would put it more than a day in the future);
//! 3. if the rest is logfmt (`key=value` pairs only, at least two of them or one
//!    well-known key), its keys are read like a JSON record's fields with string
//!    values; without a `msg` the rest of the line is the message;
//! 4. otherwise a level token among the first three words: `ERROR`, `[warn]`,
//!    `<error>`, `(info)`, `level=error`, `WARNING:`, `error:`; lower-case bare
//!    words (`error`) only right after a timestamp; single letters only in
//!    brackets (`[E]`). The token (and separators such as ` - ` next to it) is
//!    removed and the rest is the message. Without one the level is INFO.
//!
//! The service of a text line comes from a logfmt `service`/`app` key or from
//! [`ParseDefaults::service`].

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, SecondsFormat, TimeDelta, TimeZone, Utc};
use serde_json::Value;

use crate::model::{Level, LogEvent};

/// Longest accepted service name, in bytes.
pub const MAX_SERVICE_BYTES: usize = 128;

/// How much of an offending value a rejection reason quotes.
const MAX_QUOTED_BYTES: usize = 64;

const TS_ALIASES: &[&str] = &["ts", "timestamp", "time", "@timestamp", "datetime", "date"];
const LEVEL_ALIASES: &[&str] = &[
    "level",
    "severity",
    "severity_text",
    "lvl",
    "loglevel",
    "log.level",
    "levelname",
];
const SEVERITY_NUMBER_ALIASES: &[&str] = &["severity_number", "severityNumber"];
const MESSAGE_ALIASES: &[&str] = &["message", "msg", "log", "text", "body", "@message"];
const SERVICE_ALIASES: &[&str] = &[
    "service",
    "service.name",
    "service_name",
    "app",
    "application",
    "component",
];
const HOST_ALIASES: &[&str] = &["host", "hostname", "host.name"];
const TRACE_ID_ALIASES: &[&str] = &["trace_id", "traceId", "trace.id"];
const SPAN_ID_ALIASES: &[&str] = &["span_id", "spanId"];
const SOURCE_ALIASES: &[&str] = &["source"];

const MESSAGE_REQUIRED: &str = "message is required (also accepted: msg, log, text, body)";
const SERVICE_REQUIRED: &str =
    "service is required: set it in the record or with ?service= / X-Anomalog-Service";
const TIMESTAMP_FORMATS: &str =
    "expected RFC 3339 such as 2026-01-02T03:04:05Z, or Unix epoch seconds or milliseconds";

/// Lower-case level words accepted in text lines without upper case or brackets.
const COMMON_LEVEL_WORDS: &[&str] = &[
    "trace", "debug", "info", "notice", "warn", "warning", "error", "err", "fatal", "crit",
    "critical", "alert", "emerg", "panic",
];

/// How a request body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// One JSON object, or an array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// One event per line; timestamp, level and logfmt fields are inferred.
    Text,
}

/// Bounds applied while parsing.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseLimits {
    /// Most events (array elements or non-blank lines) in one body.
    pub max_events: usize,
    /// Longer messages are cut at a character boundary and flagged `truncated`.
    pub max_message_bytes: usize,
    /// A longer NDJSON or text line is rejected.
    pub max_line_bytes: usize,
    /// Only the first `max_attrs` attrs in key order are kept (`truncated` is set).
    pub max_attrs: usize,
    /// A longer string attr is cut; a non-string attr whose JSON text is longer is
    /// replaced by that text, cut, as a string. Also bounds `host`, `source`,
    /// `trace_id` and `span_id`.
    pub max_attr_value_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_events: 10_000,
            max_message_bytes: 16 * 1024,
            max_line_bytes: 64 * 1024,
            max_attrs: 64,
            max_attr_value_bytes: 4096,
        }
    }
}

/// Values applied where a record has none.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseDefaults {
    /// From `?service=` or `X-Anomalog-Service`.
    pub service: Option<String>,
    pub host: Option<String>,
    pub source: Option<String>,
    /// The receive time; also the `ts` of records without one.
    pub received_at: DateTime<Utc>,
}

/// One rejected record: its 0-based index in the batch and a reason a user can act
/// on, e.g. `line 3: ts: cannot parse 'yesterday' as a timestamp (...)`.
///
/// The index is the array index for JSON arrays and the 0-based line index for
/// NDJSON and text (blank lines are skipped but still count).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    pub index: usize,
    pub reason: String,
}

/// The usable events of a body and the records that were not, in body order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedBatch {
    pub events: Vec<LogEvent>,
    pub rejections: Vec<Rejection>,
}

/// Whole-body failures (nothing in the body can be used).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    #[error("body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("body is not valid UTF-8 (at byte {0})")]
    NotUtf8(usize),
    #[error("batch has {count} events, more than the limit of {max}")]
    TooManyEvents { count: usize, max: usize },
    #[error("body is empty")]
    Empty,
}

/// Parses a whole request body.
///
/// A leading UTF-8 byte order mark is ignored. An empty JSON array gives an empty
/// batch (not [`ParseError::Empty`], which is for bodies with no content at all).
pub fn parse_body(
    format: BodyFormat,
    body: &[u8],
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<ParsedBatch, ParseError> {
    let text = std::str::from_utf8(body).map_err(|e| ParseError::NotUtf8(e.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    match format {
        BodyFormat::Json => parse_json_body(text, defaults, limits),
        BodyFormat::Ndjson => parse_lines(text, limits, |line| {
            let value: Value = serde_json::from_str(line).map_err(|e| invalid_json_line(&e))?;
            record_from_value(value, defaults, limits)
        }),
        BodyFormat::Text => {
            parse_lines(text, limits, |line| parse_text_line(line, defaults, limits))
        }
    }
}

/// Parses one JSON value, which must be an object, into an event.
pub fn parse_json_record(
    value: &Value,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<LogEvent, String> {
    match value {
        Value::Object(map) => {
            let fields = map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            event_from_fields(fields, defaults, limits, Fallback::default())
        }
        other => Err(not_an_object(other)),
    }
}

/// Parses one plain-text line (see the module documentation for what is inferred).
pub fn parse_text_line(
    line: &str,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<LogEvent, String> {
    let line = line.trim();
    if line.is_empty() {
        return Err("line is empty".to_owned());
    }
    if line.starts_with('{')
        && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(line)
    {
        return event_from_fields(
            map.into_iter().collect(),
            defaults,
            limits,
            Fallback::default(),
        );
    }

    let (pri_level, rest) = strip_syslog_pri(line);
    let (ts, rest) = match strip_leading_timestamp(rest, defaults.received_at) {
        Some((ts, rest)) => (Some(ts), rest),
        None => (None, rest),
    };

    if let Some(pairs) = parse_logfmt(rest)
        && looks_like_logfmt(&pairs)
    {
        let fields = pairs
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let fallback = Fallback {
            ts,
            level: pri_level,
            message: Some(rest.to_owned()),
        };
        return event_from_fields(fields, defaults, limits, fallback);
    }

    let (token_level, message) = split_level_token(rest, ts.is_some());
    let message = if message.is_empty() {
        line.to_owned()
    } else {
        message
    };
    let draft = Draft {
        ts,
        level: token_level.or(pri_level).unwrap_or(Level::Info),
        message,
        ..Draft::default()
    };
    finish(draft, defaults, limits)
}

/// Parses a timestamp from JSON.
///
/// Accepted: RFC 3339 strings (any offset, converted to UTC; also with `+hhmm`
/// offsets or a space before the time), `YYYY-MM-DD HH:MM:SS[.fff]` and
/// `YYYY-MM-DDTHH:MM:SS[.fff]` without offset (read as UTC; `,` also separates
/// fractions, `/` also separates the date), a bare date `YYYY-MM-DD` (midnight
/// UTC), RFC 2822, and numbers or numeric strings as Unix epoch seconds,
/// milliseconds, microseconds or nanoseconds chosen by magnitude (below 1e11
/// seconds, below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds;
/// fractions allowed). Times before 1970 are an error.
pub fn parse_timestamp(value: &Value) -> Result<DateTime<Utc>, String> {
    let ts = match value {
        Value::Number(n) => epoch_from_number(n).ok_or_else(|| {
            format!(
                "{} is out of range as a Unix timestamp",
                quote(&n.to_string())
            )
        })?,
        Value::String(s) => timestamp_from_str(s)?,
        other => {
            return Err(format!(
                "must be a string or number, got {}",
                json_type(other)
            ));
        }
    };
    not_before_epoch(ts)
}

// ---------------------------------------------------------------------------
// Bodies

fn parse_json_body(
    text: &str,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<ParsedBatch, ParseError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| ParseError::InvalidJson(e.to_string()))?;
    let items = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    if items.len() > limits.max_events {
        return Err(ParseError::TooManyEvents {
            count: items.len(),
            max: limits.max_events,
        });
    }
    let mut batch = ParsedBatch::default();
    for (index, item) in items.into_iter().enumerate() {
        match record_from_value(item, defaults, limits) {
            Ok(event) => batch.events.push(event),
            Err(reason) => batch.rejections.push(Rejection { index, reason }),
        }
    }
    Ok(batch)
}

fn parse_lines(
    text: &str,
    limits: &ParseLimits,
    parse_line: impl Fn(&str) -> Result<LogEvent, String>,
) -> Result<ParsedBatch, ParseError> {
    let count = text.split('\n').filter(|l| !l.trim().is_empty()).count();
    if count > limits.max_events {
        return Err(ParseError::TooManyEvents {
            count,
            max: limits.max_events,
        });
    }
    let mut batch = ParsedBatch::default();
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let result = if line.len() > limits.max_line_bytes {
            Err(format!(
                "line is {} bytes, more than the limit of {}",
                line.len(),
                limits.max_line_bytes
            ))
        } else {
            parse_line(line)
        };
        match result {
            Ok(event) => batch.events.push(event),
            Err(reason) => batch.rejections.push(Rejection {
                index,
                reason: format!("line {}: {reason}", index + 1),
            }),
        }
    }
    Ok(batch)
}

/// serde's "at line 1 column 5" is about the line alone; keep only the column.
fn invalid_json_line(err: &serde_json::Error) -> String {
    let text = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    match text.strip_suffix(&position) {
        Some(what) => format!("invalid JSON: {what} at column {}", err.column()),
        None => format!("invalid JSON: {text}"),
    }
}

fn record_from_value(
    value: Value,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<LogEvent, String> {
    match value {
        Value::Object(map) => event_from_fields(
            map.into_iter().collect(),
            defaults,
            limits,
            Fallback::default(),
        ),
        other => Err(not_an_object(&other)),
    }
}

fn not_an_object(value: &Value) -> String {
    format!("record must be a JSON object, got {}", json_type(value))
}

// ---------------------------------------------------------------------------
// Records

/// What a record gets when it has no field of its own (used for text lines, where
/// part of the line was already read before the logfmt fields).
#[derive(Default)]
struct Fallback {
    ts: Option<DateTime<Utc>>,
    level: Option<Level>,
    message: Option<String>,
}

/// An event before defaults and limits are applied.
struct Draft {
    ts: Option<DateTime<Utc>>,
    /// The field `ts` came from, for reasons.
    ts_key: &'static str,
    level: Level,
    level_raw: Option<Value>,
    message: String,
    service: Option<String>,
    host: Option<String>,
    source: Option<String>,
    trace_id: Option<String>,
    span_id: Option<String>,
    attrs: BTreeMap<String, Value>,
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            ts: None,
            ts_key: "ts",
            level: Level::Info,
            level_raw: None,
            message: String::new(),
            service: None,
            host: None,
            source: None,
            trace_id: None,
            span_id: None,
            attrs: BTreeMap::new(),
        }
    }
}

fn event_from_fields(
    mut fields: BTreeMap<String, Value>,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
    fallback: Fallback,
) -> Result<LogEvent, String> {
    let message = match take_field(&mut fields, MESSAGE_ALIASES, is_message_value) {
        Some((_, value)) => message_text(value),
        None => {
            if let Some((key, value)) = first_present(&fields, MESSAGE_ALIASES) {
                return Err(format!("{key}: must be a string, got {}", json_type(value)));
            }
            fallback
                .message
                .ok_or_else(|| MESSAGE_REQUIRED.to_owned())?
        }
    };

    let (ts, ts_key) = match take_field(&mut fields, TS_ALIASES, is_scalar_text) {
        Some((key, value)) => (
            Some(parse_timestamp(&value).map_err(|e| format!("{key}: {e}"))?),
            key,
        ),
        None => {
            if let Some((key, value)) = first_present(&fields, TS_ALIASES) {
                return Err(format!(
                    "{key}: must be a string or number, got {}",
                    json_type(value)
                ));
            }
            (fallback.ts, "ts")
        }
    };

    let (level, level_raw) = read_level(&mut fields, fallback.level)?;

    let service = take_name(&mut fields, SERVICE_ALIASES);
    let default_service = defaults
        .service
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty());
    if service.as_deref().is_none_or(|s| s.trim().is_empty())
        && !default_service
        && let Some((key, value)) = first_present(&fields, SERVICE_ALIASES)
    {
        return Err(format!("{key}: must be a string, got {}", json_type(value)));
    }

    let host = take_name(&mut fields, HOST_ALIASES);
    let trace_id = take_string(&mut fields, TRACE_ID_ALIASES);
    let span_id = take_string(&mut fields, SPAN_ID_ALIASES);
    let source = take_string(&mut fields, SOURCE_ALIASES);

    let draft = Draft {
        ts,
        ts_key,
        level,
        level_raw,
        message,
        service,
        host,
        source,
        trace_id,
        span_id,
        attrs: fields,
    };
    finish(draft, defaults, limits)
}

/// Reads the level fields: the textual aliases first, then the OTLP number, then
/// the fallback. Returns the level and the raw value to keep when it was unknown.
fn read_level(
    fields: &mut BTreeMap<String, Value>,
    fallback: Option<Level>,
) -> Result<(Level, Option<Value>), String> {
    let name = take_field(fields, LEVEL_ALIASES, is_scalar_text);
    if name.is_none()
        && let Some((key, value)) = first_present(fields, LEVEL_ALIASES)
    {
        return Err(format!(
            "{key}: must be a string or number, got {}",
            json_type(value)
        ));
    }
    let number = take_field(fields, SEVERITY_NUMBER_ALIASES, is_scalar_text);

    let from_name = name.as_ref().and_then(|(_, v)| level_from_value(v));
    let from_number = number.as_ref().and_then(|(_, v)| level_from_otlp_value(v));
    let raw = match (&name, &number) {
        (Some((_, v)), _) if from_name.is_none() => Some(v.clone()),
        (None, Some((_, v))) if from_number.is_none() => Some(v.clone()),
        _ => None,
    };
    let level = from_name
        .or(from_number)
        .or(fallback)
        .unwrap_or(Level::Info);
    Ok((level, raw))
}

/// Applies defaults and limits and checks the invariants of [`LogEvent`].
fn finish(
    draft: Draft,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<LogEvent, String> {
    let service = non_blank(draft.service)
        .or_else(|| non_blank(defaults.service.clone()))
        .ok_or_else(|| SERVICE_REQUIRED.to_owned())?;
    if service.len() > MAX_SERVICE_BYTES {
        return Err(format!(
            "service: {} is {} bytes, more than the limit of {MAX_SERVICE_BYTES}",
            quote(&service),
            service.len()
        ));
    }

    let received_at = defaults.received_at;
    let ts = match draft.ts {
        Some(ts) => {
            let ts = not_before_epoch(ts).map_err(|e| format!("{}: {e}", draft.ts_key))?;
            if let Some(latest) = received_at.checked_add_signed(TimeDelta::hours(24))
                && ts > latest
            {
                return Err(format!(
                    "{}: {} is more than 24h in the future (received at {})",
                    draft.ts_key,
                    format_ts(ts),
                    format_ts(received_at)
                ));
            }
            ts
        }
        None => received_at,
    };

    let mut message = draft.message;
    let mut truncated = cut_at_char_boundary(&mut message, limits.max_message_bytes);

    let (attrs, attrs_cut) = bound_attrs(draft.attrs, draft.level_raw, limits);
    truncated |= attrs_cut;

    let mut bounded = |value: Option<String>| {
        let mut value = non_blank(value)?;
        truncated |= cut_at_char_boundary(&mut value, limits.max_attr_value_bytes);
        Some(value)
    };
    let host = bounded(draft.host);
    let source = bounded(draft.source);
    let trace_id = bounded(draft.trace_id);
    let span_id = bounded(draft.span_id);

    Ok(LogEvent {
        ts,
        received_at,
        service,
        host: host.or_else(|| non_blank(defaults.host.clone())),
        level: draft.level,
        message,
        attrs,
        trace_id,
        span_id,
        source: source.or_else(|| non_blank(defaults.source.clone())),
        truncated,
    })
}

/// Keeps the first `max_attrs` attrs in key order (reserving a place for
/// `level_raw`) and bounds each value. Returns whether anything was cut.
fn bound_attrs(
    attrs: BTreeMap<String, Value>,
    level_raw: Option<Value>,
    limits: &ParseLimits,
) -> (BTreeMap<String, Value>, bool) {
    let reserved = usize::from(level_raw.is_some());
    let keep = limits.max_attrs.saturating_sub(reserved);
    let mut cut = attrs.len() > keep;
    let mut out = BTreeMap::new();
    for (key, value) in attrs.into_iter().take(keep) {
        let (value, value_cut) = bound_value(value, limits.max_attr_value_bytes);
        cut |= value_cut;
        out.insert(key, value);
    }
    if let Some(raw) = level_raw {
        if limits.max_attrs > 0 {
            let (raw, raw_cut) = bound_value(raw, limits.max_attr_value_bytes);
            cut |= raw_cut;
            out.insert("level_raw".to_owned(), raw);
        } else {
            cut = true;
        }
    }
    (out, cut)
}

fn bound_value(value: Value, max: usize) -> (Value, bool) {
    match value {
        Value::String(mut s) => {
            let cut = cut_at_char_boundary(&mut s, max);
            (Value::String(s), cut)
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => (value, false),
        other => {
            let mut text = other.to_string();
            if cut_at_char_boundary(&mut text, max) {
                (Value::String(text), true)
            } else {
                (other, false)
            }
        }
    }
}

/// Removes and returns the first alias whose value `accept`s; `null` aliases are
/// dropped on the way.
fn take_field(
    fields: &mut BTreeMap<String, Value>,
    aliases: &[&'static str],
    accept: impl Fn(&Value) -> bool,
) -> Option<(&'static str, Value)> {
    for &key in aliases {
        match fields.get(key) {
            Some(Value::Null) => {
                fields.remove(key);
            }
            Some(value) if accept(value) => {
                return fields.remove(key).map(|value| (key, value));
            }
            _ => {}
        }
    }
    None
}

/// The first alias present with a non-null value.
fn first_present<'a>(
    fields: &'a BTreeMap<String, Value>,
    aliases: &[&'static str],
) -> Option<(&'static str, &'a Value)> {
    aliases.iter().find_map(|&key| {
        fields
            .get(key)
            .filter(|v| !v.is_null())
            .map(|value| (key, value))
    })
}

fn take_string(fields: &mut BTreeMap<String, Value>, aliases: &[&'static str]) -> Option<String> {
    match take_field(fields, aliases, Value::is_string)? {
        (_, Value::String(s)) => Some(s),
        _ => None,
    }
}

fn is_scalar_text(value: &Value) -> bool {
    value.is_string() || value.is_number()
}

fn is_message_value(value: &Value) -> bool {
    match value {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
        Value::Object(map) => map.get("stringValue").is_some_and(Value::is_string),
        _ => false,
    }
}

fn message_text(value: Value) -> String {
    let text = match value {
        Value::String(s) => s,
        Value::Object(mut map) => match map.remove("stringValue") {
            Some(Value::String(s)) => s,
            _ => String::new(),
        },
        other => other.to_string(),
    };
    match text.trim_end_matches(['\r', '\n']).len() {
        len if len == text.len() => text,
        len => text.get(..len).unwrap_or_default().to_owned(),
    }
}

fn is_name_value(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Object(map) => map.get("name").is_some_and(Value::is_string),
        _ => false,
    }
}

/// Takes a name written as a string or, as in ECS, an object with a string `name`
/// (`"service": {"name": "x", "version": "1"}`). The other members of such an
/// object are put back under the same key, so nothing is lost.
fn take_name(fields: &mut BTreeMap<String, Value>, aliases: &[&'static str]) -> Option<String> {
    let (key, value) = take_field(fields, aliases, is_name_value)?;
    match value {
        Value::String(s) => Some(s),
        Value::Object(mut map) => {
            let name = match map.remove("name") {
                Some(Value::String(s)) => Some(s),
                _ => None,
            };
            if !map.is_empty() {
                fields.insert(key.to_owned(), Value::Object(map));
            }
            name
        }
        _ => None,
    }
}

/// A level from a textual level field: a name, a pino number or a syslog number.
fn level_from_value(value: &Value) -> Option<Level> {
    match value {
        Value::String(s) => level_from_text(s),
        Value::Number(n) => integral(n).and_then(level_from_number),
        _ => None,
    }
}

fn level_from_text(text: &str) -> Option<Level> {
    let text = text.trim();
    match text.parse::<i64>() {
        Ok(n) => level_from_number(n),
        Err(_) => Level::parse_name(text),
    }
}

/// Pino/bunyan numbers first (10..60 in steps of 10), then syslog 0-7.
fn level_from_number(n: i64) -> Option<Level> {
    let pino = match n {
        10 => Level::Trace,
        20 => Level::Debug,
        30 => Level::Info,
        40 => Level::Warn,
        50 => Level::Error,
        60 => Level::Fatal,
        _ => return Level::from_syslog(n),
    };
    Some(pino)
}

/// An OTLP severity number, as a number, a numeric string or an enum name such as
/// `SEVERITY_NUMBER_ERROR2`.
fn level_from_otlp_value(value: &Value) -> Option<Level> {
    match value {
        Value::Number(n) => integral(n).and_then(Level::from_otlp),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<i64>() {
                return Level::from_otlp(n);
            }
            let name = s.strip_prefix("SEVERITY_NUMBER_")?;
            let name = name.trim_end_matches(|c: char| c.is_ascii_digit());
            if name.is_empty() {
                None
            } else {
                Level::parse_name(name)
            }
        }
        _ => None,
    }
}

/// A JSON number that is a whole number (`3` or `3.0`).
fn integral(n: &serde_json::Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

// ---------------------------------------------------------------------------
// Timestamps

fn timestamp_from_str(raw: &str) -> Result<DateTime<Utc>, String> {
    let s = raw.trim();
    if is_numeric(s) {
        return epoch_from_str(s)
            .ok_or_else(|| format!("{} is out of range as a Unix timestamp", quote(s)));
    }
    if let Ok(ts) = DateTime::parse_from_rfc3339(s) {
        return Ok(ts.with_timezone(&Utc));
    }
    if let Some((ts, used)) = scan_datetime(s, true)
        && used == s.len()
    {
        return Ok(ts);
    }
    if let Ok(ts) = DateTime::parse_from_rfc2822(s) {
        return Ok(ts.with_timezone(&Utc));
    }
    Err(format!(
        "cannot parse {} as a timestamp ({TIMESTAMP_FORMATS})",
        quote(s)
    ))
}

/// `-?\d+(\.\d+)?`
fn is_numeric(s: &str) -> bool {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

fn epoch_from_str(s: &str) -> Option<DateTime<Utc>> {
    if s.contains('.') {
        epoch_from_f64(s.parse().ok()?)
    } else {
        epoch_from_int(s.parse().ok()?)
    }
}

fn epoch_from_number(n: &serde_json::Number) -> Option<DateTime<Utc>> {
    if let Some(i) = n.as_i64() {
        epoch_from_int(i128::from(i))
    } else if let Some(u) = n.as_u64() {
        epoch_from_int(i128::from(u))
    } else {
        epoch_from_f64(n.as_f64()?)
    }
}

/// Units per second of an epoch value of this magnitude.
fn epoch_units_per_second(magnitude: f64) -> i64 {
    if magnitude < 1e11 {
        1
    } else if magnitude < 1e14 {
        1_000
    } else if magnitude < 1e17 {
        1_000_000
    } else {
        1_000_000_000
    }
}

fn epoch_from_int(n: i128) -> Option<DateTime<Utc>> {
    let per_second = i128::from(epoch_units_per_second(n.unsigned_abs() as f64));
    let secs = i64::try_from(n.div_euclid(per_second)).ok()?;
    let nanos = u32::try_from(n.rem_euclid(per_second) * (1_000_000_000 / per_second)).ok()?;
    DateTime::from_timestamp(secs, nanos)
}

/// Fractional epochs are kept to the microsecond (f64 holds no more for
/// present-day seconds).
fn epoch_from_f64(f: f64) -> Option<DateTime<Utc>> {
    if !f.is_finite() {
        return None;
    }
    let secs_f = f / epoch_units_per_second(f.abs()) as f64;
    let whole = secs_f.floor();
    if whole.abs() > 1e15 {
        return None;
    }
    let mut micros = ((secs_f - whole) * 1e6).round() as i64;
    let mut secs = whole as i64;
    if micros >= 1_000_000 {
        secs += 1;
        micros = 0;
    }
    DateTime::from_timestamp(secs, u32::try_from(micros * 1000).ok()?)
}

fn not_before_epoch(ts: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if ts < DateTime::UNIX_EPOCH {
        Err(format!("{} is before 1970-01-01", format_ts(ts)))
    } else {
        Ok(ts)
    }
}

fn format_ts(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Scans `YYYY-MM-DD[T ]HH:MM:SS[.,fff][Z|±hh:mm|±hhmm|±hh| ±hhmm| UTC]` (date
/// separator `-` or `/`) at the start of `s`; with `allow_date_only` a bare date is
/// midnight UTC. Returns the time and the bytes used.
fn scan_datetime(s: &str, allow_date_only: bool) -> Option<(DateTime<Utc>, usize)> {
    let b = s.as_bytes();
    let year = digits(b, 0, 4)?;
    let sep = *b.get(4)?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    let month = digits(b, 5, 2)?;
    if b.get(7) != Some(&sep) {
        return None;
    }
    let day = digits(b, 8, 2)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;

    let has_time = matches!(b.get(10), Some(b'T' | b't' | b' '))
        && digits(b, 11, 2).is_some()
        && b.get(13) == Some(&b':');
    if !has_time {
        if allow_date_only && !b.get(10).is_some_and(u8::is_ascii_alphanumeric) {
            let midnight = date.and_hms_opt(0, 0, 0)?;
            return Some((Utc.from_utc_datetime(&midnight), 10));
        }
        return None;
    }
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    if b.get(16) != Some(&b':') {
        return None;
    }
    let second = digits(b, 17, 2)?;
    let (nanos, mut pos) = scan_fraction(b, 19);
    let naive = time_of_day(date, hour, minute, second, nanos)?;
    let (offset_secs, used) = scan_offset(b, pos).unwrap_or((0, 0));
    pos += used;
    let offset = FixedOffset::east_opt(offset_secs)?;
    let ts = offset
        .from_local_datetime(&naive)
        .single()?
        .with_timezone(&Utc);
    Some((ts, pos))
}

/// A date and time of day; second 60 is read as a leap second.
fn time_of_day(
    date: NaiveDate,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
) -> Option<chrono::NaiveDateTime> {
    if second == 60 {
        date.and_hms_nano_opt(hour, minute, 59, nanos.checked_add(1_000_000_000)?)
    } else {
        date.and_hms_nano_opt(hour, minute, second, nanos)
    }
}

/// An optional `.fff` / `,fff` at `pos`: the nanoseconds and the position after it.
fn scan_fraction(b: &[u8], pos: usize) -> (u32, usize) {
    if !matches!(b.get(pos), Some(b'.' | b',')) || !b.get(pos + 1).is_some_and(u8::is_ascii_digit) {
        return (0, pos);
    }
    let start = pos + 1;
    let mut end = start;
    while b.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        let digit = b
            .get(start + i)
            .filter(|_| start + i < end)
            .map_or(0, |d| d - b'0');
        nanos = nanos * 10 + u32::from(digit);
    }
    (nanos, end)
}

/// An optional UTC offset at `pos`: seconds east and bytes used.
fn scan_offset(b: &[u8], pos: usize) -> Option<(i32, usize)> {
    match b.get(pos)? {
        b'Z' | b'z' => Some((0, 1)),
        b'+' | b'-' => numeric_offset(b, pos, false),
        b' ' => {
            if matches!(b.get(pos + 1), Some(b'+' | b'-')) {
                // After a space only the four-digit forms count: "12:00:00 -12 items"
                // is not an offset.
                numeric_offset(b, pos + 1, true).map(|(secs, used)| (secs, used + 1))
            } else if matches!(b.get(pos + 1..pos + 4), Some(b"UTC" | b"GMT"))
                && !b.get(pos + 4).is_some_and(u8::is_ascii_alphanumeric)
            {
                Some((0, 4))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `±hh:mm`, `±hhmm` or (unless `full`) `±hh` at `pos`.
fn numeric_offset(b: &[u8], pos: usize, full: bool) -> Option<(i32, usize)> {
    let sign = if *b.get(pos)? == b'-' { -1 } else { 1 };
    let hours = digits(b, pos + 1, 2)?;
    let (minutes, used) = if b.get(pos + 3) == Some(&b':') {
        (digits(b, pos + 4, 2)?, 6)
    } else if let Some(minutes) = digits(b, pos + 3, 2) {
        (minutes, 5)
    } else if full {
        return None;
    } else {
        (0, 3)
    };
    if b.get(pos + used).is_some_and(u8::is_ascii_digit) || hours > 23 || minutes > 59 {
        return None;
    }
    let secs = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    Some((sign * secs, used))
}

/// `len` ASCII digits at `start`, as a number.
fn digits(b: &[u8], start: usize, len: usize) -> Option<u32> {
    let slice = b.get(start..start.checked_add(len)?)?;
    if !slice.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        slice
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')),
    )
}

/// Classic syslog `Mmm dd HH:MM:SS[.fff]` (day space- or zero-padded). The year is
/// that of `received_at`, or the one before when that would put the time more than
/// a day after `received_at` (a December line received in January).
fn scan_syslog_timestamp(s: &str, received_at: DateTime<Utc>) -> Option<(DateTime<Utc>, usize)> {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let b = s.as_bytes();
    let month_index = MONTHS.iter().position(|m| b.get(0..3) == Some(*m))?;
    let month = u32::try_from(month_index + 1).ok()?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let (day, pos) = if b.get(4) == Some(&b' ') {
        (digits(b, 5, 1)?, 6)
    } else if let Some(day) = digits(b, 4, 2) {
        (day, 6)
    } else {
        (digits(b, 4, 1)?, 5)
    };
    if b.get(pos) != Some(&b' ') || b.get(pos + 3) != Some(&b':') || b.get(pos + 6) != Some(&b':') {
        return None;
    }
    let hour = digits(b, pos + 1, 2)?;
    let minute = digits(b, pos + 4, 2)?;
    let second = digits(b, pos + 7, 2)?;
    let (nanos, end) = scan_fraction(b, pos + 9);
    let at_year = |year: i32| {
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        time_of_day(date, hour, minute, second, nanos).map(|t| Utc.from_utc_datetime(&t))
    };
    let year = received_at.year();
    let mut ts = at_year(year)?;
    if let Some(latest) = received_at.checked_add_signed(TimeDelta::days(1))
        && ts > latest
    {
        ts = at_year(year - 1)?;
    }
    Some((ts, end))
}

// ---------------------------------------------------------------------------
// Text inference

/// A leading syslog priority `<N>` (N <= 191): the severity's level and the rest.
fn strip_syslog_pri(line: &str) -> (Option<Level>, &str) {
    let Some(after_open) = line.strip_prefix('<') else {
        return (None, line);
    };
    let Some((number, rest)) = after_open.split_once('>') else {
        return (None, line);
    };
    if number.is_empty() || number.len() > 3 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return (None, line);
    }
    let Ok(pri) = number.parse::<i64>() else {
        return (None, line);
    };
    if pri > 191 {
        return (None, line);
    }
    // RFC 5424 puts a version before the timestamp: "<34>1 2026-01-02T...".
    let rest = match rest.strip_prefix("1 ") {
        Some(after) if after.starts_with(|c: char| c.is_ascii_digit() || c == '-') => after,
        _ => rest,
    };
    (Level::from_syslog(pri % 8), rest.trim_start())
}

/// A timestamp at the start of `s`, optionally in brackets, followed by
/// whitespace or the end: the time and the rest with leading whitespace removed.
fn strip_leading_timestamp(s: &str, received_at: DateTime<Utc>) -> Option<(DateTime<Utc>, &str)> {
    let (inner, bracketed) = match s.strip_prefix('[') {
        Some(inner) => (inner, true),
        None => (s, false),
    };
    let (ts, used) =
        scan_datetime(inner, false).or_else(|| scan_syslog_timestamp(inner, received_at))?;
    let rest = inner.get(used..)?;
    let rest = if bracketed {
        rest.strip_prefix(']')?
    } else {
        rest
    };
    if !bracketed && !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some((ts, rest.trim_start()))
}

/// Splits a logfmt line into pairs; `None` unless every token is `key=value`.
fn parse_logfmt(s: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut chars = s.char_indices().peekable();
    loop {
        while chars.next_if(|&(_, c)| c.is_whitespace()).is_some() {}
        let Some(&(key_start, _)) = chars.peek() else {
            break;
        };
        let mut key_end = None;
        while let Some((i, c)) = chars.next_if(|&(_, c)| !c.is_whitespace()) {
            if c == '=' {
                key_end = Some(i);
                break;
            }
        }
        let key = s.get(key_start..key_end?)?;
        if !is_logfmt_key(key) {
            return None;
        }
        let value = if chars.next_if(|&(_, c)| c == '"').is_some() {
            let mut value = String::new();
            loop {
                match chars.next()?.1 {
                    '"' => break,
                    '\\' => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        't' => value.push('\t'),
                        'r' => value.push('\r'),
                        other => value.push(other),
                    },
                    c => value.push(c),
                }
            }
            if chars.peek().is_some_and(|&(_, c)| !c.is_whitespace()) {
                return None;
            }
            value
        } else {
            let mut value = String::new();
            while let Some((_, c)) = chars.next_if(|&(_, c)| !c.is_whitespace()) {
                value.push(c);
            }
            value
        };
        pairs.push((key.to_owned(), value));
    }
    Some(pairs)
}

fn is_logfmt_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '@')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@' | '/'))
}

/// Two pairs or more, or a single pair with a well-known key (`msg=hello`).
fn looks_like_logfmt(pairs: &[(String, String)]) -> bool {
    match pairs {
        [] => false,
        [(key, _)] => [TS_ALIASES, LEVEL_ALIASES, MESSAGE_ALIASES]
            .iter()
            .any(|aliases| aliases.contains(&key.as_str())),
        _ => true,
    }
}

/// Finds a level token among the first three words of `rest` and returns the
/// level and the message without it.
fn split_level_token(rest: &str, after_timestamp: bool) -> (Option<Level>, String) {
    let mut words = 0;
    for (start, end) in token_spans(rest, 8) {
        let Some(token) = rest.get(start..end) else {
            break;
        };
        if is_separator(token) {
            continue;
        }
        if words == 3 {
            break;
        }
        let loose = after_timestamp && words == 0;
        words += 1;
        let Some((level, tail)) = level_token(token, loose) else {
            continue;
        };
        let prefix = strip_leading_separators(rest.get(..start).unwrap_or_default().trim());
        let after = format!("{tail}{}", rest.get(end..).unwrap_or_default());
        let after = strip_leading_separators(after.trim_start());
        let message = match (prefix.is_empty(), after.is_empty()) {
            (true, _) => after.trim_end().to_owned(),
            (false, true) => strip_trailing_separators(prefix).to_owned(),
            (false, false) => format!("{prefix} {}", after.trim_end()),
        };
        return (Some(level), message);
    }
    (None, rest.to_owned())
}

/// A level written as `level=x`, `[x]`, `<x>`, `(x)`, `X`, `X:` or `x:`; `loose`
/// also accepts a bare lower-case word. Returns the level and what follows it in
/// the token (`ERROR:root:boom` -> `root:boom`).
fn level_token(token: &str, loose: bool) -> Option<(Level, &str)> {
    if let Some((key, value)) = token.split_once('=') {
        let key = key.to_ascii_lowercase();
        if matches!(
            key.as_str(),
            "level" | "lvl" | "severity" | "loglevel" | "log.level"
        ) {
            return level_from_text(value.trim_matches(['"', '\''])).map(|l| (l, ""));
        }
        return None;
    }
    let close = match token.chars().next()? {
        '[' => Some(']'),
        '<' => Some('>'),
        '(' => Some(')'),
        _ => None,
    };
    if let Some(close) = close {
        let inner_end = token.find(close)?;
        let inner = token.get(1..inner_end)?.trim();
        // "[core:error]" (Apache) names the module first.
        let inner = inner.rsplit(':').next().unwrap_or(inner);
        if inner.is_empty() || !inner.chars().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        let tail = token.get(inner_end + 1..)?.trim_start_matches(':');
        return Level::parse_name(inner).map(|l| (l, tail));
    }
    let (head, tail, colon) = match token.split_once(':') {
        Some((head, tail)) => (head, tail, true),
        None => (token, "", false),
    };
    if head.len() < 2 || !head.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let level = Level::parse_name(head)?;
    let upper = head.chars().all(|c| c.is_ascii_uppercase());
    let common = COMMON_LEVEL_WORDS.contains(&head.to_ascii_lowercase().as_str());
    (upper || ((colon || loose) && common)).then_some((level, tail))
}

/// Byte spans of the first `max` whitespace-separated tokens.
fn token_spans(s: &str, max: usize) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(st) = start.take() {
                spans.push((st, i));
                if spans.len() == max {
                    return spans;
                }
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(st) = start {
        spans.push((st, s.len()));
    }
    spans
}

fn is_separator(token: &str) -> bool {
    !token.is_empty()
        && token
            .chars()
            .all(|c| matches!(c, '-' | '|' | ':' | '–' | '—'))
}

fn strip_leading_separators(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        match s.get(..end) {
            Some(token) if is_separator(token) => s = s.get(end..).unwrap_or_default(),
            _ => return s,
        }
    }
}

fn strip_trailing_separators(mut s: &str) -> &str {
    loop {
        s = s.trim_end();
        let start = s.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        match s.get(start..) {
            Some(token) if is_separator(token) => s = s.get(..start).unwrap_or_default(),
            _ => return s,
        }
    }
}

// ---------------------------------------------------------------------------
// Small helpers

/// Cuts `s` to at most `max` bytes at a character boundary; true when cut.
fn cut_at_char_boundary(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let cut = s.floor_char_boundary(max);
    s.truncate(cut);
    true
}

/// Trimmed, or `None` when blank.
fn non_blank(value: Option<String>) -> Option<String> {
    let value = value?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        None
    } else if trimmed.len() == value.len() {
        Some(value)
    } else {
        Some(trimmed.to_owned())
    }
}

/// `'value'`, cut to a readable length, control characters escaped.
fn quote(value: &str) -> String {
    let cut = value.floor_char_boundary(MAX_QUOTED_BYTES);
    let mut out = String::with_capacity(cut + 8);
    out.push('\'');
    for c in value.get(..cut).unwrap_or_default().chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if cut < value.len() {
        out.push('…');
    }
    out.push('\'');
    out
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// 2026-01-02T12:00:00Z
    fn received_at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 12, 0, 0).unwrap()
    }

    fn defaults() -> ParseDefaults {
        ParseDefaults {
            service: Some("api".to_owned()),
            host: None,
            source: None,
            received_at: received_at(),
        }
    }

    fn no_service() -> ParseDefaults {
        ParseDefaults {
            service: None,
            ..defaults()
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn record(value: Value) -> Result<LogEvent, String> {
        parse_json_record(&value, &defaults(), &ParseLimits::default())
    }

    fn text(line: &str) -> LogEvent {
        parse_text_line(line, &defaults(), &ParseLimits::default()).unwrap()
    }

    fn ts(value: Value) -> Result<DateTime<Utc>, String> {
        parse_timestamp(&value)
    }

    fn body(format: BodyFormat, body: &str) -> Result<ParsedBatch, ParseError> {
        parse_body(
            format,
            body.as_bytes(),
            &defaults(),
            &ParseLimits::default(),
        )
    }

    // --- JSON field aliases -------------------------------------------------

    #[test]
    fn every_ts_alias_is_read_and_removed_from_attrs() {
        for alias in TS_ALIASES {
            let event = record(json!({"msg": "m", *alias: "2026-01-02T03:04:05Z"})).unwrap();
            assert_eq!(event.ts, utc("2026-01-02T03:04:05Z"), "{alias}");
            assert!(event.attrs.is_empty(), "{alias}: {:?}", event.attrs);
        }
    }

    #[test]
    fn every_level_alias_is_read_and_removed_from_attrs() {
        for alias in LEVEL_ALIASES {
            let event = record(json!({"msg": "m", *alias: "warning"})).unwrap();
            assert_eq!(event.level, Level::Warn, "{alias}");
            assert!(event.attrs.is_empty(), "{alias}: {:?}", event.attrs);
        }
    }

    #[test]
    fn every_message_alias_is_read_and_removed_from_attrs() {
        for alias in MESSAGE_ALIASES {
            let event = record(json!({*alias: "hello"})).unwrap();
            assert_eq!(event.message, "hello", "{alias}");
            assert!(event.attrs.is_empty(), "{alias}: {:?}", event.attrs);
        }
    }

    #[test]
    fn every_service_alias_is_read_and_removed_from_attrs() {
        for alias in SERVICE_ALIASES {
            let event = parse_json_record(
                &json!({"msg": "m", *alias: " billing "}),
                &no_service(),
                &ParseLimits::default(),
            )
            .unwrap();
            assert_eq!(event.service, "billing", "{alias}");
            assert!(event.attrs.is_empty(), "{alias}: {:?}", event.attrs);
        }
    }

    #[test]
    fn every_host_trace_span_and_source_alias_is_read() {
        for alias in HOST_ALIASES {
            let event = record(json!({"msg": "m", *alias: "web-1"})).unwrap();
            assert_eq!(event.host.as_deref(), Some("web-1"), "{alias}");
            assert!(event.attrs.is_empty(), "{alias}");
        }
        for alias in TRACE_ID_ALIASES {
            let event = record(json!({"msg": "m", *alias: "abc123"})).unwrap();
            assert_eq!(event.trace_id.as_deref(), Some("abc123"), "{alias}");
            assert!(event.attrs.is_empty(), "{alias}");
        }
        for alias in SPAN_ID_ALIASES {
            let event = record(json!({"msg": "m", *alias: "def456"})).unwrap();
            assert_eq!(event.span_id.as_deref(), Some("def456"), "{alias}");
            assert!(event.attrs.is_empty(), "{alias}");
        }
        let event = record(json!({"msg": "m", "source": "/var/log/app.log"})).unwrap();
        assert_eq!(event.source.as_deref(), Some("/var/log/app.log"));
    }

    #[test]
    fn first_alias_wins_and_the_others_stay_in_attrs() {
        let event = record(json!({"msg": "short", "message": "long", "log": "other"})).unwrap();
        assert_eq!(event.message, "long");
        assert_eq!(event.attrs.get("msg"), Some(&json!("short")));
        assert_eq!(event.attrs.get("log"), Some(&json!("other")));
    }

    #[test]
    fn a_full_record_fills_every_field_and_keeps_the_rest_as_attrs() {
        let event = record(json!({
            "timestamp": "2026-01-02T03:04:05.250+01:00",
            "severity": "ERROR",
            "message": "payment failed\n",
            "service.name": "payments",
            "hostname": "pay-1",
            "traceId": "t1",
            "spanId": "s1",
            "source": "k8s",
            "user_id": 42,
            "nested": {"a": [1, 2]}
        }))
        .unwrap();
        assert_eq!(
            event,
            LogEvent {
                ts: utc("2026-01-02T02:04:05.250Z"),
                received_at: received_at(),
                service: "payments".to_owned(),
                host: Some("pay-1".to_owned()),
                level: Level::Error,
                message: "payment failed".to_owned(),
                attrs: BTreeMap::from([
                    ("nested".to_owned(), json!({"a": [1, 2]})),
                    ("user_id".to_owned(), json!(42)),
                ]),
                trace_id: Some("t1".to_owned()),
                span_id: Some("s1".to_owned()),
                source: Some("k8s".to_owned()),
                truncated: false,
            }
        );
    }

    #[test]
    fn host_and_source_fall_back_to_the_defaults() {
        let defaults = ParseDefaults {
            host: Some("box".to_owned()),
            source: Some("agent".to_owned()),
            ..defaults()
        };
        let event =
            parse_json_record(&json!({"msg": "m"}), &defaults, &ParseLimits::default()).unwrap();
        assert_eq!(event.host.as_deref(), Some("box"));
        assert_eq!(event.source.as_deref(), Some("agent"));
        assert_eq!(event.received_at, received_at());
    }

    #[test]
    fn a_nested_host_name_is_read_and_its_other_members_kept() {
        let event =
            record(json!({"msg": "m", "host": {"name": "co-1", "ip": "10.0.0.1"}})).unwrap();
        assert_eq!(event.host.as_deref(), Some("co-1"));
        assert_eq!(event.attrs.get("host"), Some(&json!({"ip": "10.0.0.1"})));
    }

    #[test]
    fn a_non_string_host_stays_in_attrs() {
        let event = record(json!({"msg": "m", "host": {"ip": "10.0.0.1"}})).unwrap();
        assert_eq!(event.host, None);
        assert_eq!(event.attrs.get("host"), Some(&json!({"ip": "10.0.0.1"})));
    }

    #[test]
    fn a_nested_service_name_is_read_and_its_other_members_kept() {
        let event = parse_json_record(
            &json!({"msg": "m", "service": {"name": "checkout", "version": "1.2"}}),
            &no_service(),
            &ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(event.service, "checkout");
        assert_eq!(event.attrs.get("service"), Some(&json!({"version": "1.2"})));
    }

    #[test]
    fn null_alias_values_count_as_absent() {
        let event =
            record(json!({"message": null, "msg": "m", "ts": null, "level": null})).unwrap();
        assert_eq!(event.message, "m");
        assert_eq!(event.ts, received_at());
        assert_eq!(event.level, Level::Info);
        assert!(event.attrs.is_empty());
    }

    // --- timestamps ---------------------------------------------------------

    #[test]
    fn epoch_seconds_milliseconds_microseconds_and_nanoseconds_are_told_apart() {
        let expected = utc("2026-01-02T03:04:05Z");
        assert_eq!(ts(json!(1_767_323_045)), Ok(expected));
        assert_eq!(ts(json!(1_767_323_045_000_i64)), Ok(expected));
        assert_eq!(ts(json!(1_767_323_045_000_000_i64)), Ok(expected));
        assert_eq!(ts(json!(1_767_323_045_000_000_000_i64)), Ok(expected));
    }

    #[test]
    fn epoch_sub_second_parts_are_kept() {
        assert_eq!(
            ts(json!(1_767_323_045_123_i64)),
            Ok(utc("2026-01-02T03:04:05.123Z"))
        );
        assert_eq!(
            ts(json!(1_767_323_045_123_456_789_i64)),
            Ok(utc("2026-01-02T03:04:05.123456789Z"))
        );
        assert_eq!(
            ts(json!(1_767_323_045.5)),
            Ok(utc("2026-01-02T03:04:05.5Z"))
        );
        assert_eq!(
            ts(json!(1_767_323_045.123_456)),
            Ok(utc("2026-01-02T03:04:05.123456Z"))
        );
        assert_eq!(
            ts(json!(1_767_323_045_123.5)),
            Ok(utc("2026-01-02T03:04:05.1235Z"))
        );
    }

    #[test]
    fn numeric_strings_are_epochs() {
        assert_eq!(ts(json!("1767323045")), Ok(utc("2026-01-02T03:04:05Z")));
        assert_eq!(
            ts(json!(" 1767323045123 ")),
            Ok(utc("2026-01-02T03:04:05.123Z"))
        );
        assert_eq!(
            ts(json!("1767323045.25")),
            Ok(utc("2026-01-02T03:04:05.25Z"))
        );
        assert_eq!(ts(json!("0")), Ok(DateTime::UNIX_EPOCH));
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let expected = utc("2026-01-02T03:04:05Z");
        for raw in [
            "2026-01-02T03:04:05Z",
            "2026-01-02T05:04:05+02:00",
            "2026-01-01T21:34:05-05:30",
            "2026-01-02T05:04:05+0200",
            "2026-01-02T05:04:05+02",
            "2026-01-02 05:04:05 +0200",
            "2026-01-02 03:04:05 UTC",
            "2026-01-02t03:04:05z",
            "Fri, 02 Jan 2026 04:04:05 +0100",
        ] {
            assert_eq!(ts(json!(raw)), Ok(expected), "{raw}");
        }
    }

    #[test]
    fn naive_datetimes_are_read_as_utc() {
        assert_eq!(
            ts(json!("2026-01-02 03:04:05")),
            Ok(utc("2026-01-02T03:04:05Z"))
        );
        assert_eq!(
            ts(json!("2026-01-02T03:04:05")),
            Ok(utc("2026-01-02T03:04:05Z"))
        );
        assert_eq!(
            ts(json!("2026-01-02 03:04:05.123")),
            Ok(utc("2026-01-02T03:04:05.123Z"))
        );
        assert_eq!(
            ts(json!("2026-01-02T03:04:05,5")),
            Ok(utc("2026-01-02T03:04:05.5Z"))
        );
        assert_eq!(
            ts(json!("2026-01-02T03:04:05.123456789123")),
            Ok(utc("2026-01-02T03:04:05.123456789Z"))
        );
        assert_eq!(
            ts(json!("2026/01/02 03:04:05")),
            Ok(utc("2026-01-02T03:04:05Z"))
        );
        assert_eq!(ts(json!("2026-01-02")), Ok(utc("2026-01-02T00:00:00Z")));
    }

    #[test]
    fn unparsable_timestamps_are_errors_that_quote_the_value() {
        assert_eq!(
            ts(json!("yesterday")),
            Err(format!(
                "cannot parse 'yesterday' as a timestamp ({TIMESTAMP_FORMATS})"
            ))
        );
        for raw in [
            "2026-13-02T03:04:05Z",
            "2026-01-02T25:00:00Z",
            "2026-01-02T03:04:05+2500",
            "",
        ] {
            assert!(ts(json!(raw)).is_err(), "{raw}");
        }
        assert_eq!(
            ts(json!(true)),
            Err("must be a string or number, got a boolean".to_owned())
        );
        assert_eq!(
            ts(json!({"s": 1})),
            Err("must be a string or number, got an object".to_owned())
        );
    }

    #[test]
    fn quoted_values_are_bounded() {
        let long = "x".repeat(1000);
        let reason = ts(json!(long)).unwrap_err();
        assert!(reason.len() < 200, "{reason}");
        assert!(
            reason.starts_with(&format!("cannot parse '{}…'", "x".repeat(64))),
            "{reason}"
        );
    }

    #[test]
    fn timestamps_before_1970_are_rejected() {
        assert_eq!(
            ts(json!("1969-12-31T23:59:59Z")),
            Err("1969-12-31T23:59:59Z is before 1970-01-01".to_owned())
        );
        assert!(ts(json!(-5)).is_err());
        assert!(ts(json!("-1767323045")).is_err());
    }

    #[test]
    fn absurd_epochs_are_out_of_range_not_panics() {
        // u64::MAX nanoseconds is still a date (in 2554); the record-level future
        // check is what rejects it.
        assert_eq!(
            ts(json!(u64::MAX)),
            Ok(utc("2554-07-21T23:34:33.709551615Z"))
        );
        assert!(ts(json!(-1e300)).is_err());
        assert!(ts(json!(1e300)).is_err());
        assert!(ts(json!("99999999999999999999999999999999999999999999")).is_err());
    }

    #[test]
    fn a_missing_ts_is_the_receive_time() {
        assert_eq!(record(json!({"msg": "m"})).unwrap().ts, received_at());
    }

    #[test]
    fn an_unparsable_ts_rejects_the_record_naming_the_field() {
        assert_eq!(
            record(json!({"msg": "m", "time": "yesterday"})),
            Err(format!(
                "time: cannot parse 'yesterday' as a timestamp ({TIMESTAMP_FORMATS})"
            ))
        );
        assert_eq!(
            record(json!({"msg": "m", "ts": [1]})),
            Err("ts: must be a string or number, got an array".to_owned())
        );
    }

    #[test]
    fn a_ts_more_than_24h_in_the_future_is_rejected() {
        assert_eq!(
            record(json!({"msg": "m", "ts": "2026-01-03T12:00:01Z"})),
            Err("ts: 2026-01-03T12:00:01Z is more than 24h in the future (received at 2026-01-02T12:00:00Z)".to_owned())
        );
        let event = record(json!({"msg": "m", "ts": "2026-01-03T12:00:00Z"})).unwrap();
        assert_eq!(event.ts, utc("2026-01-03T12:00:00Z"));
    }

    // --- levels -------------------------------------------------------------

    #[test]
    fn pino_numeric_levels_are_read() {
        let cases = [
            (10, Level::Trace),
            (20, Level::Debug),
            (30, Level::Info),
            (40, Level::Warn),
            (50, Level::Error),
            (60, Level::Fatal),
        ];
        for (number, expected) in cases {
            assert_eq!(
                record(json!({"msg": "m", "level": number})).unwrap().level,
                expected
            );
            assert_eq!(
                record(json!({"msg": "m", "level": number.to_string()}))
                    .unwrap()
                    .level,
                expected
            );
        }
    }

    #[test]
    fn small_numeric_levels_are_syslog_severities() {
        let cases = [
            (0, Level::Fatal),
            (2, Level::Fatal),
            (3, Level::Error),
            (4, Level::Warn),
            (5, Level::Info),
            (6, Level::Info),
            (7, Level::Debug),
        ];
        for (number, expected) in cases {
            assert_eq!(
                record(json!({"msg": "m", "level": number})).unwrap().level,
                expected,
                "{number}"
            );
        }
        assert_eq!(
            record(json!({"msg": "m", "severity": 3.0})).unwrap().level,
            Level::Error
        );
    }

    #[test]
    fn otlp_severity_numbers_are_read() {
        let event = record(json!({"body": "m", "severity_number": 17})).unwrap();
        assert_eq!(event.level, Level::Error);
        assert!(event.attrs.is_empty());
        let event = record(json!({"body": "m", "severityNumber": 13})).unwrap();
        assert_eq!(event.level, Level::Warn);
        let event =
            record(json!({"body": "m", "severityNumber": "SEVERITY_NUMBER_FATAL"})).unwrap();
        assert_eq!(event.level, Level::Fatal);
        let event = record(json!({"body": "m", "severity_number": "2"})).unwrap();
        assert_eq!(event.level, Level::Trace);
    }

    #[test]
    fn a_known_text_level_wins_over_the_severity_number() {
        let event =
            record(json!({"msg": "m", "severity_text": "WARN", "severity_number": 17})).unwrap();
        assert_eq!(event.level, Level::Warn);
        assert!(event.attrs.is_empty());
    }

    #[test]
    fn an_unknown_text_level_defers_to_the_severity_number_and_is_kept() {
        let event =
            record(json!({"msg": "m", "severity_text": "Oops", "severity_number": 17})).unwrap();
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.attrs.get("level_raw"), Some(&json!("Oops")));
    }

    #[test]
    fn an_unknown_level_becomes_info_and_is_kept_as_level_raw() {
        let event = record(json!({"msg": "m", "level": "verbose-ish"})).unwrap();
        assert_eq!(event.level, Level::Info);
        assert_eq!(
            event.attrs,
            BTreeMap::from([("level_raw".to_owned(), json!("verbose-ish"))])
        );
        let event = record(json!({"msg": "m", "level": 99})).unwrap();
        assert_eq!(event.level, Level::Info);
        assert_eq!(event.attrs.get("level_raw"), Some(&json!(99)));
    }

    #[test]
    fn a_level_of_the_wrong_type_is_rejected() {
        assert_eq!(
            record(json!({"msg": "m", "level": true})),
            Err("level: must be a string or number, got a boolean".to_owned())
        );
        assert_eq!(
            record(json!({"msg": "m", "lvl": {"name": "error"}})),
            Err("lvl: must be a string or number, got an object".to_owned())
        );
    }

    // --- message ------------------------------------------------------------

    #[test]
    fn a_missing_message_is_rejected() {
        assert_eq!(
            record(json!({"level": "error"})),
            Err("message is required (also accepted: msg, log, text, body)".to_owned())
        );
    }

    #[test]
    fn scalar_messages_are_turned_into_text() {
        assert_eq!(record(json!({"message": 42})).unwrap().message, "42");
        assert_eq!(record(json!({"message": 1.5})).unwrap().message, "1.5");
        assert_eq!(record(json!({"message": false})).unwrap().message, "false");
        assert_eq!(
            record(json!({"body": {"stringValue": "otlp"}}))
                .unwrap()
                .message,
            "otlp"
        );
    }

    #[test]
    fn structured_messages_are_rejected() {
        assert_eq!(
            record(json!({"message": {"a": 1}})),
            Err("message: must be a string, got an object".to_owned())
        );
        assert_eq!(
            record(json!({"log": [1]})),
            Err("log: must be a string, got an array".to_owned())
        );
    }

    #[test]
    fn a_structured_alias_does_not_hide_a_later_string_one() {
        let event = record(json!({"log": {"level": "x"}, "text": "hi"})).unwrap();
        assert_eq!(event.message, "hi");
        assert_eq!(event.attrs.get("log"), Some(&json!({"level": "x"})));
    }

    #[test]
    fn long_messages_are_cut_at_a_char_boundary() {
        let limits = ParseLimits {
            max_message_bytes: 5,
            ..ParseLimits::default()
        };
        // "aaaé" is 5 bytes; "aaaaé" would cut inside the é (bytes 4..6).
        let event = parse_json_record(&json!({"msg": "aaaaé"}), &defaults(), &limits).unwrap();
        assert_eq!(event.message, "aaaa");
        assert!(event.truncated);
        let event = parse_json_record(&json!({"msg": "aaaé"}), &defaults(), &limits).unwrap();
        assert_eq!(event.message, "aaaé");
        assert!(!event.truncated);
        let event = parse_text_line("héllo wörld", &defaults(), &limits).unwrap();
        assert_eq!(event.message, "héll");
        assert!(event.truncated);
    }

    // --- service ------------------------------------------------------------

    #[test]
    fn the_record_service_wins_over_the_default() {
        assert_eq!(
            record(json!({"msg": "m", "app": "web"})).unwrap().service,
            "web"
        );
        assert_eq!(record(json!({"msg": "m"})).unwrap().service, "api");
    }

    #[test]
    fn a_missing_service_without_default_is_rejected() {
        let expected =
            "service is required: set it in the record or with ?service= / X-Anomalog-Service";
        let limits = ParseLimits::default();
        assert_eq!(
            parse_json_record(&json!({"msg": "m"}), &no_service(), &limits),
            Err(expected.to_owned())
        );
        assert_eq!(
            parse_json_record(
                &json!({"msg": "m", "service": "  "}),
                &no_service(),
                &limits
            ),
            Err(expected.to_owned())
        );
        let blank_default = ParseDefaults {
            service: Some(" ".to_owned()),
            ..defaults()
        };
        assert_eq!(
            parse_json_record(&json!({"msg": "m"}), &blank_default, &limits),
            Err(expected.to_owned())
        );
        assert_eq!(
            parse_text_line("hello", &no_service(), &limits),
            Err(expected.to_owned())
        );
    }

    #[test]
    fn a_blank_record_service_falls_back_to_the_default() {
        assert_eq!(
            record(json!({"msg": "m", "service": ""})).unwrap().service,
            "api"
        );
    }

    #[test]
    fn a_non_string_service_is_rejected_only_without_default() {
        assert_eq!(
            parse_json_record(
                &json!({"msg": "m", "service": 7}),
                &no_service(),
                &ParseLimits::default()
            ),
            Err("service: must be a string, got a number".to_owned())
        );
        let event = record(json!({"msg": "m", "component": {"id": 3}})).unwrap();
        assert_eq!(event.service, "api");
        assert_eq!(event.attrs.get("component"), Some(&json!({"id": 3})));
    }

    #[test]
    fn a_service_longer_than_128_bytes_is_rejected() {
        let long = "s".repeat(129);
        let reason = record(json!({"msg": "m", "service": long})).unwrap_err();
        assert!(
            reason.starts_with("service: 's")
                && reason.ends_with("is 129 bytes, more than the limit of 128"),
            "{reason}"
        );
        let ok = "s".repeat(128);
        assert_eq!(
            record(json!({"msg": "m", "service": ok.clone()}))
                .unwrap()
                .service,
            ok
        );
    }

    // --- attrs limits -------------------------------------------------------

    #[test]
    fn attrs_beyond_the_limit_are_dropped_in_key_order() {
        let limits = ParseLimits {
            max_attrs: 2,
            ..ParseLimits::default()
        };
        let event = parse_json_record(
            &json!({"msg": "m", "c": 3, "a": 1, "b": 2}),
            &defaults(),
            &limits,
        )
        .unwrap();
        assert_eq!(
            event.attrs,
            BTreeMap::from([("a".to_owned(), json!(1)), ("b".to_owned(), json!(2))])
        );
        assert!(event.truncated);
    }

    #[test]
    fn level_raw_survives_the_attrs_limit() {
        let limits = ParseLimits {
            max_attrs: 2,
            ..ParseLimits::default()
        };
        let event = parse_json_record(
            &json!({"msg": "m", "level": "odd", "a": 1, "b": 2}),
            &defaults(),
            &limits,
        )
        .unwrap();
        assert_eq!(
            event.attrs,
            BTreeMap::from([
                ("a".to_owned(), json!(1)),
                ("level_raw".to_owned(), json!("odd"))
            ])
        );
        assert!(event.truncated);
    }

    #[test]
    fn long_attr_values_are_cut() {
        let limits = ParseLimits {
            max_attr_value_bytes: 8,
            ..ParseLimits::default()
        };
        let event = parse_json_record(
            &json!({"msg": "m", "s": "0123456789", "o": {"k": "value"}, "n": 12345678901_i64, "short": [1]}),
            &defaults(),
            &limits,
        )
        .unwrap();
        assert_eq!(event.attrs.get("s"), Some(&json!("01234567")));
        assert_eq!(event.attrs.get("o"), Some(&json!("{\"k\":\"va")));
        assert_eq!(event.attrs.get("n"), Some(&json!(12345678901_i64)));
        assert_eq!(event.attrs.get("short"), Some(&json!([1])));
        assert!(event.truncated);
    }

    #[test]
    fn parse_json_record_rejects_non_objects() {
        assert_eq!(
            record(json!("just text")),
            Err("record must be a JSON object, got a string".to_owned())
        );
    }

    // --- bodies -------------------------------------------------------------

    #[test]
    fn a_json_object_body_is_one_event() {
        let batch = body(BodyFormat::Json, r#"{"msg": "one"}"#).unwrap();
        assert_eq!(batch.events.len(), 1);
        assert!(batch.rejections.is_empty());
    }

    #[test]
    fn a_bad_array_element_is_rejected_by_index_and_the_rest_accepted() {
        let batch = body(
            BodyFormat::Json,
            r#"[{"msg": "a"}, 5, {"level": "error"}, {"msg": "d"}]"#,
        )
        .unwrap();
        let messages: Vec<_> = batch.events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["a", "d"]);
        assert_eq!(
            batch.rejections,
            vec![
                Rejection {
                    index: 1,
                    reason: "record must be a JSON object, got a number".to_owned()
                },
                Rejection {
                    index: 2,
                    reason: "message is required (also accepted: msg, log, text, body)".to_owned()
                },
            ]
        );
    }

    #[test]
    fn an_empty_json_array_is_an_empty_batch() {
        assert_eq!(body(BodyFormat::Json, "[]"), Ok(ParsedBatch::default()));
    }

    #[test]
    fn invalid_json_fails_the_body() {
        let err = body(BodyFormat::Json, r#"{"msg": "a""#).unwrap_err();
        assert!(matches!(err, ParseError::InvalidJson(_)), "{err:?}");
        assert!(
            err.to_string().starts_with("body is not valid JSON: "),
            "{err}"
        );
        // NDJSON sent as JSON
        let err = body(BodyFormat::Json, "{\"msg\":\"a\"}\n{\"msg\":\"b\"}").unwrap_err();
        assert!(matches!(err, ParseError::InvalidJson(_)), "{err:?}");
    }

    #[test]
    fn empty_and_blank_bodies_fail() {
        for format in [BodyFormat::Json, BodyFormat::Ndjson, BodyFormat::Text] {
            assert_eq!(body(format, ""), Err(ParseError::Empty));
            assert_eq!(body(format, " \r\n\n\t"), Err(ParseError::Empty));
            assert_eq!(body(format, "\u{feff}"), Err(ParseError::Empty));
        }
        assert_eq!(ParseError::Empty.to_string(), "body is empty");
    }

    #[test]
    fn invalid_utf8_fails_the_body_with_its_position() {
        let bytes = b"{\"msg\": \"ab\xffcd\"}";
        for format in [BodyFormat::Json, BodyFormat::Ndjson, BodyFormat::Text] {
            assert_eq!(
                parse_body(format, bytes, &defaults(), &ParseLimits::default()),
                Err(ParseError::NotUtf8(11))
            );
        }
        assert_eq!(
            ParseError::NotUtf8(11).to_string(),
            "body is not valid UTF-8 (at byte 11)"
        );
    }

    #[test]
    fn too_many_events_fail_the_body() {
        let limits = ParseLimits {
            max_events: 2,
            ..ParseLimits::default()
        };
        let json = br#"[{"msg":"a"},{"msg":"b"},{"msg":"c"}]"#;
        assert_eq!(
            parse_body(BodyFormat::Json, json, &defaults(), &limits),
            Err(ParseError::TooManyEvents { count: 3, max: 2 })
        );
        let lines = b"a\n\nb\nc\n";
        assert_eq!(
            parse_body(BodyFormat::Text, lines, &defaults(), &limits),
            Err(ParseError::TooManyEvents { count: 3, max: 2 })
        );
        // blank lines do not count
        assert!(parse_body(BodyFormat::Text, b"a\n\n\n\nb\n", &defaults(), &limits).is_ok());
        assert_eq!(
            ParseError::TooManyEvents { count: 3, max: 2 }.to_string(),
            "batch has 3 events, more than the limit of 2"
        );
    }

    #[test]
    fn ndjson_rejects_bad_lines_by_index_and_accepts_crlf_and_blank_lines() {
        let input = "{\"msg\":\"a\"}\r\n\r\n{\"msg\":\r\n[1]\r\n{\"msg\":\"e\",\"ts\":\"yesterday\"}\r\n{\"msg\":\"f\"}\r\n";
        let batch = body(BodyFormat::Ndjson, input).unwrap();
        let messages: Vec<_> = batch.events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["a", "f"]);
        let indexes: Vec<_> = batch.rejections.iter().map(|r| r.index).collect();
        assert_eq!(indexes, [2, 3, 4]);
        assert_eq!(
            batch.rejections[0].reason,
            "line 3: invalid JSON: EOF while parsing a value at column 7"
        );
        assert_eq!(
            batch.rejections[1].reason,
            "line 4: record must be a JSON object, got an array"
        );
        assert_eq!(
            batch.rejections[2].reason,
            format!("line 5: ts: cannot parse 'yesterday' as a timestamp ({TIMESTAMP_FORMATS})")
        );
    }

    #[test]
    fn over_long_lines_are_rejected() {
        let limits = ParseLimits {
            max_line_bytes: 10,
            ..ParseLimits::default()
        };
        let input = b"short\nthis line is too long\n";
        let batch = parse_body(BodyFormat::Text, input, &defaults(), &limits).unwrap();
        assert_eq!(batch.events.len(), 1);
        assert_eq!(
            batch.rejections,
            vec![Rejection {
                index: 1,
                reason: "line 2: line is 21 bytes, more than the limit of 10".to_owned()
            }]
        );
    }

    #[test]
    fn a_leading_byte_order_mark_is_ignored() {
        let batch = body(BodyFormat::Ndjson, "\u{feff}{\"msg\":\"a\"}").unwrap();
        assert_eq!(batch.events.len(), 1);
    }

    #[test]
    fn text_bodies_reject_lines_without_service_by_line() {
        let batch = parse_body(
            BodyFormat::Text,
            b"hello\nservice=web msg=hi\n",
            &no_service(),
            &ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(batch.events.len(), 1);
        assert_eq!(batch.events[0].service, "web");
        assert_eq!(batch.rejections.len(), 1);
        assert!(
            batch.rejections[0]
                .reason
                .starts_with("line 1: service is required")
        );
    }

    // --- text lines ---------------------------------------------------------

    #[test]
    fn text_rfc3339_timestamp_and_level() {
        let event = text("2026-01-02T03:04:05.123Z ERROR payment failed");
        assert_eq!(event.ts, utc("2026-01-02T03:04:05.123Z"));
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.message, "payment failed");
        assert_eq!(event.service, "api");
        assert!(event.attrs.is_empty());
    }

    #[test]
    fn text_bracketed_timestamp_with_comma_fraction() {
        let event = text("[2026-01-02 03:04:05,123] WARN [worker] slow");
        assert_eq!(event.ts, utc("2026-01-02T03:04:05.123Z"));
        assert_eq!(event.level, Level::Warn);
        assert_eq!(event.message, "[worker] slow");
    }

    #[test]
    fn text_logfmt() {
        let event = text(r#"level=error msg="db down" service=billing user=42"#);
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.message, "db down");
        assert_eq!(event.service, "billing");
        assert_eq!(event.ts, received_at());
        assert_eq!(
            event.attrs,
            BTreeMap::from([("user".to_owned(), json!("42"))])
        );
    }

    #[test]
    fn text_logfmt_with_ts_and_escapes() {
        let event =
            text(r#"ts=2026-01-02T03:04:05Z lvl=warn msg="say \"hi\"\n" app=web path=/a=b"#);
        assert_eq!(event.ts, utc("2026-01-02T03:04:05Z"));
        assert_eq!(event.level, Level::Warn);
        assert_eq!(event.message, "say \"hi\"");
        assert_eq!(event.service, "web");
        assert_eq!(event.attrs.get("path"), Some(&json!("/a=b")));
    }

    #[test]
    fn text_logfmt_after_a_timestamp_without_msg_keeps_the_line() {
        let event = text("2026-01-02T03:04:05Z method=GET path=/ status=500");
        assert_eq!(event.ts, utc("2026-01-02T03:04:05Z"));
        assert_eq!(event.level, Level::Info);
        assert_eq!(event.message, "method=GET path=/ status=500");
        assert_eq!(event.attrs.get("status"), Some(&json!("500")));
    }

    #[test]
    fn text_plain_line_is_info_at_receive_time() {
        let event = text("  something happened a=b  ");
        assert_eq!(event.level, Level::Info);
        assert_eq!(event.ts, received_at());
        assert_eq!(event.message, "something happened a=b");
        assert!(event.attrs.is_empty());
        assert!(!event.truncated);
    }

    #[test]
    fn text_common_formats() {
        let cases = [
            // python logging (cookbook format)
            (
                "2026-01-02 03:04:05,123 - app.db - ERROR - connection lost",
                Some("2026-01-02T03:04:05.123Z"),
                Level::Error,
                "app.db - connection lost",
            ),
            // python basicConfig
            (
                "WARNING:root:disk almost full",
                None,
                Level::Warn,
                "root:disk almost full",
            ),
            // logback
            (
                "2026-01-02 03:04:05.123 [main] ERROR com.acme.Pay - declined",
                Some("2026-01-02T03:04:05.123Z"),
                Level::Error,
                "[main] com.acme.Pay - declined",
            ),
            // nginx error log
            (
                "2026/01/02 03:04:05 [error] 12#0: *3 upstream timed out",
                Some("2026-01-02T03:04:05Z"),
                Level::Error,
                "12#0: *3 upstream timed out",
            ),
            // zap production console (lower case after the timestamp, tabs)
            (
                "2026-01-02T03:04:05.000+0100\twarn\tcache miss",
                Some("2026-01-02T02:04:05Z"),
                Level::Warn,
                "cache miss",
            ),
            ("<error> boom", None, Level::Error, "boom"),
            ("[E] boom", None, Level::Error, "boom"),
            ("(debug) tick", None, Level::Debug, "tick"),
            (
                "level=warn something odd here",
                None,
                Level::Warn,
                "something odd here",
            ),
            (
                "error: could not open file",
                None,
                Level::Error,
                "could not open file",
            ),
            ("[INFO]: started", None, Level::Info, "started"),
            ("FATAL", None, Level::Fatal, "FATAL"),
        ];
        for (line, ts, level, message) in cases {
            let event = text(line);
            assert_eq!(event.ts, ts.map_or(received_at(), utc), "{line}");
            assert_eq!(event.level, level, "{line}");
            assert_eq!(event.message, message, "{line}");
        }
    }

    #[test]
    fn text_words_that_are_not_level_fields_are_not_levels() {
        for line in [
            "Error connecting to db",
            "E is a letter",
            "I think so",
            "processed 3 items",
            "[123] started",
            "user failed to log in",
        ] {
            let event = text(line);
            assert_eq!(event.level, Level::Info, "{line}");
            assert_eq!(event.message, line, "{line}");
        }
    }

    #[test]
    fn text_classic_syslog_takes_the_year_of_the_receive_time() {
        let event = text("Jan  2 03:04:05 web-1 sshd[42]: Accepted publickey");
        assert_eq!(event.ts, utc("2026-01-02T03:04:05Z"));
        assert_eq!(event.message, "web-1 sshd[42]: Accepted publickey");
        // A December line received on January 2nd is from last year.
        let event = text("Dec 31 23:59:59 web-1 cron[1]: done");
        assert_eq!(event.ts, utc("2025-12-31T23:59:59Z"));
    }

    #[test]
    fn text_syslog_priority_gives_the_level() {
        let event = text("<11>Jan 02 03:04:05 web-1 app: disk failure");
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.ts, utc("2026-01-02T03:04:05Z"));
        let event = text("<14>1 2026-01-02T03:04:05Z web-1 app - - - all good");
        assert_eq!(event.level, Level::Info);
        assert_eq!(event.ts, utc("2026-01-02T03:04:05Z"));
        // a level token is more specific than the facility-wide priority
        let event = text("<14>Jan 02 03:04:05 web-1 app: ERROR boom");
        assert_eq!(event.level, Level::Error);
    }

    #[test]
    fn text_json_lines_are_json_records() {
        let event = text(r#"{"level":"warn","msg":"from json","app":"web","k":1}"#);
        assert_eq!(event.level, Level::Warn);
        assert_eq!(event.message, "from json");
        assert_eq!(event.service, "web");
        assert_eq!(event.attrs.get("k"), Some(&json!(1)));
        // a brace that is not JSON is just text
        let event = text("{not json} ERROR x");
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.message, "{not json} x");
    }

    #[test]
    fn text_future_and_pre_1970_timestamps_are_rejected() {
        let limits = ParseLimits::default();
        assert_eq!(
            parse_text_line("2026-01-04T00:00:00Z ERROR x", &defaults(), &limits),
            Err("ts: 2026-01-04T00:00:00Z is more than 24h in the future (received at 2026-01-02T12:00:00Z)".to_owned())
        );
        assert_eq!(
            parse_text_line("1969-07-20 20:17:40 landed", &defaults(), &limits),
            Err("ts: 1969-07-20T20:17:40Z is before 1970-01-01".to_owned())
        );
    }

    #[test]
    fn text_timestamp_must_be_a_whole_word() {
        let event = text("2026-01-02T03:04:05Zfoo bar");
        assert_eq!(event.ts, received_at());
        assert_eq!(event.message, "2026-01-02T03:04:05Zfoo bar");
    }

    #[test]
    fn an_empty_text_line_is_an_error() {
        assert_eq!(
            parse_text_line("   ", &defaults(), &ParseLimits::default()),
            Err("line is empty".to_owned())
        );
    }

    // --- robustness ---------------------------------------------------------

    /// Every prefix and a stream of pseudo-random mixes of tricky fragments go
    /// through every entry point without panicking.
    #[test]
    fn odd_inputs_never_panic() {
        let fragments = [
            "2026-01-02T03:04:05",
            ".123",
            ",5",
            "Z",
            "+02:00",
            "-0530",
            " +",
            "[",
            "]",
            "<",
            ">",
            "(",
            ")",
            "ERROR",
            "warn:",
            "level=",
            "=",
            "\"",
            "\\",
            "msg=\"",
            "{",
            "}",
            "[1,",
            "é",
            "日本",
            "\u{feff}",
            "\r\n",
            "\n",
            " ",
            "\t",
            "Jan",
            " 2 ",
            "03:04:05",
            "<191>",
            "<999>",
            "1 ",
            "-",
            "|",
            "—",
            "9999999999999999999999",
            "1e400",
            "null",
            "\"level\":",
            "60",
            "\0",
            "Dec 31 23:59:60",
        ];
        let limits = ParseLimits {
            max_message_bytes: 7,
            max_attr_value_bytes: 3,
            max_attrs: 1,
            ..ParseLimits::default()
        };
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut inputs: Vec<String> = Vec::new();
        for _ in 0..3000 {
            let mut s = String::new();
            for _ in 0..(state % 9) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                s.push_str(fragments[(state % fragments.len() as u64) as usize]);
            }
            inputs.push(s);
        }
        for fragment in fragments {
            let joined = format!("[{fragment} {fragment}] {fragment}=x msg={fragment}");
            let mut end = 0;
            while end <= joined.len() {
                if joined.is_char_boundary(end) {
                    inputs.push(joined[..end].to_owned());
                }
                end += 1;
            }
        }
        for input in &inputs {
            let _ = parse_text_line(input, &defaults(), &limits);
            let _ = parse_timestamp(&json!(input));
            for format in [BodyFormat::Json, BodyFormat::Ndjson, BodyFormat::Text] {
                let _ = parse_body(format, input.as_bytes(), &defaults(), &limits);
            }
            if let Ok(value) = serde_json::from_str::<Value>(input) {
                let _ = parse_json_record(&value, &defaults(), &limits);
            }
        }
    }
}
