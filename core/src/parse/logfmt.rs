//! logfmt: `key=value` pairs (values optionally quoted, with escapes).

use super::json::{LEVEL_ALIASES, MESSAGE_ALIASES, TS_ALIASES, is_alias};

/// Splits a logfmt line into pairs; `None` unless every token is `key=value`.
pub(super) fn parse_logfmt(s: &str) -> Option<Vec<(String, String)>> {
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
pub(super) fn looks_like_logfmt(pairs: &[(String, String)]) -> bool {
    match pairs {
        [] => false,
        [(key, _)] => [TS_ALIASES, LEVEL_ALIASES, MESSAGE_ALIASES]
            .iter()
            .any(|aliases| is_alias(aliases, key)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::test_support::*;
    use serde_json::json;

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
    fn a_single_well_known_key_counts_in_any_case() {
        let event = text("MSG=hello");
        assert_eq!(event.message, "hello");
        assert!(event.attrs.is_empty(), "{:?}", event.attrs);
    }
}
