//! Web server lines whose timestamp is not at the start: the access log (the
//! common and combined formats of nginx and Apache) and Apache's error log.
//!
//! - access: `HOST IDENT USER [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326 ...`:
//!   the time in brackets, the level from the status (5xx ERROR, 4xx WARN, else
//!   INFO), the status kept in `attrs["status"]`, the whole line as message;
//! - Apache error: `[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1] message`
//!   (also `[error]` of Apache 2.2): the time (no offset: read as UTC), the level
//!   from the bracket, the rest as message.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use serde_json::Value;

use super::draft::Draft;
use crate::model::Level;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month(name: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| *m == name)
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// A draft for an access or Apache error log line, or `None` for other lines.
pub(super) fn parse_web_line(line: &str) -> Option<Draft> {
    if line.starts_with('[') {
        return apache_error(line);
    }
    access(line)
}

fn access(line: &str) -> Option<Draft> {
    // Three fields (host, ident, user), then the bracketed time.
    let mut rest = line;
    for _ in 0..3 {
        let (field, after) = rest.split_once(' ')?;
        if field.is_empty() || field.contains(['[', '"']) {
            return None;
        }
        rest = after;
    }
    let inner = rest.strip_prefix('[')?;
    let (time, after) = inner.split_once(']')?;
    let ts = access_time(time)?;
    let after = after.strip_prefix(" \"")?;
    let (_request, after) = after.split_once("\" ")?;
    let status_text = after.get(..3)?;
    if !status_text.bytes().all(|b| b.is_ascii_digit())
        || after.as_bytes().get(3).is_some_and(|b| *b != b' ')
    {
        return None;
    }
    let status: u16 = status_text.parse().ok()?;
    let level = match status {
        500.. => Level::Error,
        400..=499 => Level::Warn,
        _ => Level::Info,
    };
    let mut draft = Draft {
        ts: Some(ts),
        level,
        message: line.to_owned(),
        ..Draft::default()
    };
    draft.attrs.insert("status".to_owned(), Value::from(status));
    Some(draft)
}

/// `10/Oct/2000:13:55:36 -0700`.
fn access_time(s: &str) -> Option<DateTime<Utc>> {
    let (date, rest) = s.split_once(':')?;
    let mut parts = date.split('/');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = month(parts.next()?)?;
    let year: i32 = parts.next()?.parse().ok()?;
    let (clock, offset) = rest.split_once(' ')?;
    let (h, m, sec) = hms(clock)?;
    let offset = numeric_offset(offset)?;
    let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(h, m, sec)?;
    let local = offset.from_local_datetime(&naive).single()?;
    Some(local.with_timezone(&Utc))
}

fn hms(s: &str) -> Option<(u32, u32, u32)> {
    let mut parts = s.split(':');
    let h = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let sec = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((h, m, sec))
}

fn numeric_offset(s: &str) -> Option<FixedOffset> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

fn apache_error(line: &str) -> Option<Draft> {
    let inner = line.strip_prefix('[')?;
    let (time, rest) = inner.split_once(']')?;
    let ts = ctime(time)?;
    let rest = rest.trim_start();
    let (level, rest) = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((tag, after)) => {
            let name = tag.rsplit(':').next().unwrap_or(tag);
            let name = name.trim_end_matches(|c: char| c.is_ascii_digit());
            match Level::parse_name(name) {
                Some(level) => (level, after.trim_start()),
                None => (Level::Info, rest),
            }
        }
        None => (Level::Info, rest),
    };
    let message = if rest.is_empty() { line } else { rest };
    Some(Draft {
        ts: Some(ts),
        level,
        message: message.to_owned(),
        ..Draft::default()
    })
}

/// `Wed Oct 11 14:32:52[.123456] 2000` (ctime, as Apache writes it).
fn ctime(s: &str) -> Option<DateTime<Utc>> {
    let mut parts = s.split_whitespace();
    let weekday = parts.next()?;
    if weekday.len() != 3 || !weekday.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let month = month(parts.next()?)?;
    let day: u32 = parts.next()?.parse().ok()?;
    let clock = parts.next()?;
    let year: i32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let (whole, fraction) = match clock.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (clock, ""),
    };
    let (h, m, sec) = hms(whole)?;
    let micros: u32 = if fraction.is_empty() {
        0
    } else if fraction.len() <= 6 && fraction.bytes().all(|b| b.is_ascii_digit()) {
        format!("{fraction:0<6}").parse().ok()?
    } else {
        return None;
    };
    let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_micro_opt(h, m, sec, micros)?;
    Some(Utc.from_utc_datetime(&naive))
}

#[cfg(test)]
mod tests {
    use crate::parse::test_support::*;
    use serde_json::json;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn text(line: &str) -> LogEvent {
        parse_text_line(line, &defaults(), &ParseLimits::default()).unwrap()
    }

    #[test]
    fn access_log_lines_take_their_time_and_a_level_from_the_status() {
        let combined = r#"203.0.113.9 - alice [02/Jan/2026:03:04:05 +0100] "GET /api/orders?id=7 HTTP/1.1" 503 1234 "https://example.com/" "curl/8.5.0""#;
        let event = text(combined);
        assert_eq!(event.ts, utc("2026-01-02T02:04:05Z"));
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.message, combined);
        assert_eq!(event.attrs["status"], json!(503));

        let common = r#"127.0.0.1 - - [02/Jan/2026:03:04:05 -0000] "POST /login HTTP/1.0" 404 -"#;
        let event = text(common);
        assert_eq!(event.ts, utc("2026-01-02T03:04:05Z"));
        assert_eq!(event.level, Level::Warn);

        let ok =
            r#"::1 - - [02/Jan/2026:11:59:59 +0000] "GET / HTTP/2.0" 200 612 "-" "Mozilla/5.0""#;
        assert_eq!(text(ok).level, Level::Info);
    }

    #[test]
    fn apache_error_log_lines_take_their_time_and_level() {
        let event = text(
            "[Fri Jan 02 03:04:05.123456 2026] [proxy:error] [pid 1234:tid 99] [client 10.0.0.1:5555] AH00957: connect to backend failed",
        );
        assert_eq!(event.ts, utc("2026-01-02T03:04:05.123456Z"));
        assert_eq!(event.level, Level::Error);
        assert!(
            event.message.starts_with("[pid 1234:tid 99]"),
            "{}",
            event.message
        );

        let old = text("[Fri Jan 02 03:04:05 2026] [warn] [client 127.0.0.1] File does not exist");
        assert_eq!(old.ts, utc("2026-01-02T03:04:05Z"));
        assert_eq!(old.level, Level::Warn);
        assert_eq!(old.message, "[client 127.0.0.1] File does not exist");
    }

    #[test]
    fn lines_that_only_resemble_web_logs_are_left_alone() {
        // A bracketed ISO timestamp is the generic path's, not Apache's.
        let event = text("[2026-01-02 03:04:05] ERROR boom");
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.message, "boom");
        // Three words and a bracket, but no access-log time.
        let event = text("user logged in [admin] \"x\" 200");
        assert_eq!(event.ts, received_at());
        assert!(event.attrs.is_empty());
    }
}
