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
//! Keys match aliases without regard to ASCII case (`MESSAGE`, `Level`,
//! `@Timestamp`, `traceId`), a key spelled exactly as the alias first.
//! Everything else (including the losing aliases) is kept in `attrs`, under the
//! key as sent. `null` values of alias keys count as absent.
//!
//! | field      | aliases |
//! |------------|---------|
//! | `ts`       | `ts`, `timestamp`, `time`, `@timestamp`, `datetime`, `isodate`, `date` |
//! | `level`    | `level`, `severity`, `severity_text`, `lvl`, `loglevel`, `log.level`, `levelname`, `priority`, then the OTLP `severity_number` / `severityNumber` |
//! | `message`  | `message`, `msg`, `log`, `text`, `body`, `@message` |
//! | `service`  | `service`, `service.name`, `service_name`, `app`, `application`, `component`, `program` |
//! | `host`     | `host`, `hostname`, `host.name` |
//! | `trace_id` | `trace_id`, `traceId`, `trace.id` |
//! | `span_id`  | `span_id`, `spanId` |
//! | `source`   | `source` |
//!
//! So syslog-ng's `format-json --scope rfc5424` records (`PROGRAM`, `PRIORITY`,
//! `MESSAGE`, `HOST`, `DATE` or `ISODATE`) are read without configuration.
//!
//! Field rules:
//! - `ts`: see [`parse_timestamp`], and also classic syslog `Mmm dd HH:MM:SS`
//!   in the year of the receive time (as for text lines); missing means the
//!   receive time; more than 24 h after the receive time, or before 1970, is
//!   rejected.
//! - `level`: names as understood by [`Level::parse_name`](crate::model::Level::parse_name); numbers (and numeric
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
//! A web server line is read by `web`: the access log (nginx/Apache common and
//! combined formats: time in brackets, level from the status, `attrs.status`) and
//! Apache's error log (`[Wed Oct 11 14:32:52 2000] [core:error] ...`).
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
//!
//! # Layout
//!
//! This module frames bodies (JSON, NDJSON, lines); `json` reads a record's
//! fields, `text` a plain line, with `timestamp`, `level`, `logfmt` and `web`
//! (access and Apache error logs) for those concerns; `draft` applies defaults and limits to every record in one place.

pub(crate) mod draft;
mod json;
mod json_array;
mod level;
mod logfmt;
mod record;
#[cfg(test)]
mod test_support;
mod text;
mod timestamp;
mod web;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::LogEvent;
use json::record_from_value;
use record::Record;

pub use draft::{stored_bound, written_bound};
pub use json::parse_json_record;
pub use text::parse_text_line;
pub use timestamp::parse_timestamp;

/// Longest accepted service name, in bytes.
pub const MAX_SERVICE_BYTES: usize = 128;

/// How much of an offending value a rejection reason quotes.
const MAX_QUOTED_BYTES: usize = 64;

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
    /// Events, best added with [`ParsedBatch::push`] (so their stored size
    /// is bounded as they come).
    pub events: Vec<LogEvent>,
    pub rejections: Vec<Rejection>,
    /// [`stored_bound`] summed over the first `bounded` events.
    stored_bound: usize,
    bounded: usize,
}

impl ParsedBatch {
    /// Adds an event, and its [`stored_bound`] to the batch's while its
    /// fields are still in the cache: one pass over a parsed 1,000-event
    /// batch after, to bound it, was about 5% of a decode thread's CPU.
    pub fn push(&mut self, event: LogEvent) {
        if self.bounded == self.events.len() {
            self.stored_bound = self.stored_bound.saturating_add(stored_bound(&event));
            self.bounded += 1;
        }
        self.events.push(event);
    }

    /// At least the bytes [`ParsedBatch::events`] take stored as JSON: the
    /// sum of their [`stored_bound`]s, counted as they were pushed; events
    /// added otherwise are counted now.
    pub fn stored_bound(&self) -> usize {
        self.events
            .get(self.bounded..)
            .unwrap_or_default()
            .iter()
            .fold(self.stored_bound, |n, e| n.saturating_add(stored_bound(e)))
    }
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
            let record: Record = serde_json::from_str(line).map_err(|e| invalid_json_line(&e))?;
            record_from_value(record, defaults, limits)
        }),
        BodyFormat::Text => {
            parse_lines(text, limits, |line| parse_text_line(line, defaults, limits))
        }
    }
}

// ---------------------------------------------------------------------------
// Bodies

fn parse_json_body(
    text: &str,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<ParsedBatch, ParseError> {
    if text.trim_start().starts_with('[') {
        return json_array::parse_array(text, defaults, limits);
    }
    // One record.
    let record: Record =
        serde_json::from_str(text).map_err(|e| ParseError::InvalidJson(e.to_string()))?;
    let mut batch = ParsedBatch::default();
    match record_from_value(record, defaults, limits) {
        Ok(event) => batch.push(event),
        Err(reason) => batch.rejections.push(Rejection { index: 0, reason }),
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
            Ok(event) => batch.push(event),
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
    use crate::parse::test_support::*;
    use serde_json::json;

    // --- stored size ---------------------------------------------------------

    /// The bound ingest skips its exact count with is never below the bytes
    /// an event takes written as JSON, however its strings escape, with
    /// every optional field present or absent.
    #[test]
    fn stored_bound_is_never_below_the_written_length() {
        let ts = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        let far = DateTime::from_timestamp(253_402_300_799, 999_999_999).unwrap();
        let nasty = "\u{1}\"\\\u{7f}é\u{1F600}\n";
        let mut events = Vec::new();
        for (i, s) in ["", "a", nasty, &nasty.repeat(40)].into_iter().enumerate() {
            let mut e = LogEvent::new(far, s, crate::Level::Fatal, s);
            e.received_at = ts;
            e.host = Some(s.to_owned());
            e.trace_id = Some(s.to_owned());
            e.span_id = Some(s.to_owned());
            e.source = Some(s.to_owned());
            e.truncated = true;
            e.attrs.insert(s.to_owned(), json!(s));
            e.attrs
                .insert(format!("n{i}"), json!(-1.797_693_134_862_315_7e308));
            e.attrs.insert(format!("i{i}"), json!(i64::MIN));
            e.attrs.insert(format!("u{i}"), json!(u64::MAX));
            e.attrs.insert(format!("e{i}"), json!(5e-324));
            e.attrs.insert(
                format!("{s}nested"),
                json!([null, true, [s, {s: [false, 1, s]}], {}, []]),
            );
            events.push(e);
        }
        // Every field present and empty, no attributes: the fixed share alone.
        let mut bare = LogEvent::new(far, "", crate::Level::Fatal, "");
        bare.received_at = far;
        bare.host = Some(String::new());
        bare.trace_id = Some(String::new());
        bare.span_id = Some(String::new());
        bare.source = Some(String::new());
        bare.truncated = true;
        events.push(bare);
        events.push(LogEvent::new(ts, "s", crate::Level::Info, "m"));
        for e in &events {
            let written = serde_json::to_string(e).unwrap().len();
            assert!(
                stored_bound(e) >= written,
                "{e:?}: bound {} < {written}",
                stored_bound(e)
            );
        }
    }

    #[test]
    fn a_batch_bounds_its_events_as_they_are_pushed_and_the_others_when_asked() {
        let mut batch = body(
            BodyFormat::Ndjson,
            "{\"msg\": \"a\", \"k\": [1, \"x\"]}\n5\n{\"msg\": \"b\\u0001\"}",
        )
        .unwrap();
        assert_eq!(batch.events.len(), 2);
        let sum = |batch: &ParsedBatch| batch.events.iter().map(stored_bound).sum::<usize>();
        assert_eq!(batch.stored_bound(), sum(&batch));
        assert_eq!(batch.bounded, 2);
        assert_eq!(ParsedBatch::default().stored_bound(), 0);
        // An event added around `push`, and every event pushed after it,
        // is counted when the bound is asked for.
        let extra = batch.events[0].clone();
        batch.events.push(extra.clone());
        assert_eq!(batch.stored_bound(), sum(&batch));
        batch.push(extra);
        assert_eq!(batch.bounded, 2);
        assert_eq!(batch.stored_bound(), sum(&batch));
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
