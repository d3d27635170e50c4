//! Levels: values of JSON level fields (names, pino and syslog numbers, OTLP
//! severity numbers) and level tokens in text lines (`ERROR`, `[warn]`, `level=x`).

use serde_json::Value;

use crate::model::Level;

/// Lower-case level words accepted in text lines without upper case or brackets.
const COMMON_LEVEL_WORDS: &[&str] = &[
    "trace", "debug", "info", "notice", "warn", "warning", "error", "err", "fatal", "crit",
    "critical", "alert", "emerg", "panic",
];
/// A level from a textual level field: a name, a pino number or a syslog number.
pub(super) fn level_from_value(value: &Value) -> Option<Level> {
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
pub(super) fn level_from_otlp_value(value: &Value) -> Option<Level> {
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

/// Finds a level token among the first three words of `rest` and returns the
/// level and the message without it.
pub(super) fn split_level_token(rest: &str, after_timestamp: bool) -> (Option<Level>, String) {
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
        // Most lines have nothing glued to the level: borrow the rest then.
        let rest_after = rest.get(end..).unwrap_or_default();
        let joined;
        let after = if tail.is_empty() {
            rest_after
        } else {
            joined = format!("{tail}{rest_after}");
            joined.as_str()
        };
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

/// Byte spans of the first `max` whitespace-separated tokens of `s`, found
/// lazily: the caller usually stops at the first or second token.
fn token_spans(s: &str, max: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = s.get(at..)?;
        let start = at + rest.find(|c: char| !c.is_whitespace())?;
        let len = s
            .get(start..)?
            .find(char::is_whitespace)
            .unwrap_or(s.len() - start);
        at = start + len;
        Some((start, start + len))
    })
    .take(max)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_support::*;
    use serde_json::json;

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
}
