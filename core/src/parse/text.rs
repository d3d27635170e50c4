//! Plain-text lines: syslog priority, leading timestamp, logfmt fields or a level
//! token, in the order the module documentation of [`crate::parse`] gives.

use serde_json::Value;

use super::draft::{Draft, finish};
use super::json::{Fallback, event_from_fields};
use super::level::split_level_token;
use super::logfmt::{looks_like_logfmt, parse_logfmt};
use super::record::Record;
use super::timestamp::strip_leading_timestamp;
use super::{ParseDefaults, ParseLimits};
use crate::model::{Level, LogEvent};

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
        && let Ok(Record::Object(fields)) = serde_json::from_str::<Record>(line)
    {
        return event_from_fields(fields, defaults, limits, Fallback::default());
    }

    if let Some(draft) = super::web::parse_web_line(line) {
        return finish(draft, defaults, limits);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_support::*;
    use serde_json::json;

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
}
