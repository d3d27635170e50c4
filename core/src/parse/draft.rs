//! An event before defaults and limits are applied, and the one place that turns
//! it into a [`LogEvent`] (defaults, limits, the invariants of an event).

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::timestamp::{format_ts, not_before_epoch};
use super::{
    MAX_SERVICE_BYTES, ParseDefaults, ParseLimits, cut_at_char_boundary, non_blank, quote,
};
use crate::model::{Level, LogEvent};

const SERVICE_REQUIRED: &str = "set it in the record or with ?service= / X-Anomalog-Service";

/// An event before defaults and limits are applied (the shippers' mappings
/// build one too, so every entry point applies the same rules).
pub(crate) struct Draft {
    pub(crate) ts: Option<DateTime<Utc>>,
    /// The field `ts` came from, for reasons.
    pub(crate) ts_key: Cow<'static, str>,
    pub(crate) level: Level,
    pub(crate) level_raw: Option<Value>,
    pub(crate) message: String,
    pub(crate) service: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) trace_id: Option<String>,
    pub(crate) span_id: Option<String>,
    pub(crate) attrs: BTreeMap<String, Value>,
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            ts: None,
            ts_key: Cow::Borrowed("ts"),
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
/// Applies defaults and limits and checks the invariants of [`LogEvent`].
pub(super) fn finish(
    draft: Draft,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<LogEvent, String> {
    finish_with_hint(draft, defaults, limits, SERVICE_REQUIRED)
}

/// [`finish`], telling a sender without a service where one comes from
/// (`service is required: {service_hint}`).
pub(crate) fn finish_with_hint(
    draft: Draft,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
    service_hint: &str,
) -> Result<LogEvent, String> {
    let service = non_blank(draft.service)
        .or_else(|| non_blank(defaults.service.clone()))
        .ok_or_else(|| format!("service is required: {service_hint}"))?;
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
/// Attrs within the count are bounded where they are: rebuilding the map
/// cost a tenth of a JSON record's parse.
fn bound_attrs(
    mut attrs: BTreeMap<String, Value>,
    level_raw: Option<Value>,
    limits: &ParseLimits,
) -> (BTreeMap<String, Value>, bool) {
    let reserved = usize::from(level_raw.is_some());
    let keep = limits.max_attrs.saturating_sub(reserved);
    let mut cut = attrs.len() > keep;
    if cut {
        // Past the count: the first `keep` in key order stay.
        attrs = attrs.into_iter().take(keep).collect();
    }
    for value in attrs.values_mut() {
        cut |= bound_value(value, limits.max_attr_value_bytes);
    }
    if let Some(mut raw) = level_raw {
        if limits.max_attrs > 0 {
            cut |= bound_value(&mut raw, limits.max_attr_value_bytes);
            attrs.insert("level_raw".to_owned(), raw);
        } else {
            cut = true;
        }
    }
    (attrs, cut)
}

/// Bounds `value` to `max` bytes written: a string is cut, a nested value
/// written longer becomes its JSON text, cut. Returns whether it was cut.
fn bound_value(value: &mut Value, max: usize) -> bool {
    match value {
        Value::String(s) => cut_at_char_boundary(s, max),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
        // Writing a nested value out only to measure it was 4% of a
        // sustained run's CPU: one that surely fits is kept as it is, first
        // by its lengths alone, then by its bytes.
        other if written_bound(other) <= max || fits_written(other, &mut { max }) => false,
        other => {
            let mut text = other.to_string();
            if cut_at_char_boundary(&mut text, max) {
                *other = Value::String(text);
                true
            } else {
                false
            }
        }
    }
}

/// At least the bytes `value` takes written as compact JSON, from lengths
/// alone: every byte of a string counted as its longest escape (6 bytes),
/// every number as the longest serde_json writes (24).
pub fn written_bound(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 24,
        Value::String(s) => text_bound(s),
        Value::Array(items) => items.iter().fold(2, |n: usize, item| {
            n.saturating_add(written_bound(item)).saturating_add(1)
        }),
        Value::Object(map) => fields_bound(map),
    }
}

/// At least the bytes `event` takes written as JSON (`serde_json`, escapes
/// included), by [`written_bound`]'s rules: UTF-8 is kept as it is, so no
/// character takes more than its escape (`\u0001`), and every time and name
/// counts at its longest. Ingest refuses a batch past its stored-size limit
/// with it, and counts exactly only past the bound.
pub fn stored_bound(event: &LogEvent) -> usize {
    // Field names, punctuation, two times (RFC 3339, nanoseconds, at most
    // 36 bytes each), the level's name and `"truncated":true`.
    const EVENT_FIXED: usize = 256;
    let optional = |s: &Option<String>| s.as_deref().map_or(0, text_bound);
    EVENT_FIXED
        .saturating_add(text_bound(&event.service))
        .saturating_add(text_bound(&event.message))
        .saturating_add(optional(&event.host))
        .saturating_add(optional(&event.trace_id))
        .saturating_add(optional(&event.span_id))
        .saturating_add(optional(&event.source))
        .saturating_add(fields_bound(&event.attrs))
}

/// A string's quotes, and each byte as its longest escape (6 bytes).
fn text_bound(s: &str) -> usize {
    s.len().saturating_mul(6).saturating_add(2)
}

/// An object's braces, and per entry its key, `:`, value and `,`: a nested
/// object's and an event's attrs alike.
fn fields_bound<'a>(entries: impl IntoIterator<Item = (&'a String, &'a Value)>) -> usize {
    entries.into_iter().fold(2, |n: usize, (key, item)| {
        n.saturating_add(text_bound(key))
            .saturating_add(written_bound(item))
            .saturating_add(2)
    })
}

/// Whether `value`, written as compact JSON (as `to_string` writes it),
/// surely takes at most `budget` bytes; spends the budget on the way. An
/// upper bound: a control character counts as its longest escape and a
/// number as the longest number serde_json writes (24 bytes).
fn fits_written(value: &Value, budget: &mut usize) -> bool {
    fn spend(budget: &mut usize, n: usize) -> bool {
        match budget.checked_sub(n) {
            Some(left) => {
                *budget = left;
                true
            }
            None => false,
        }
    }
    fn text(s: &str) -> usize {
        s.bytes().fold(2, |n, b| {
            n + match b {
                b'"' | b'\\' => 2,
                0..=0x1f => 6,
                _ => 1,
            }
        })
    }
    match value {
        Value::Null | Value::Bool(_) => spend(budget, 5),
        Value::Number(_) => spend(budget, 24),
        Value::String(s) => spend(budget, text(s)),
        Value::Array(items) => {
            spend(budget, 2)
                && items
                    .iter()
                    .all(|item| spend(budget, 1) && fits_written(item, budget))
        }
        Value::Object(map) => {
            spend(budget, 2)
                && map
                    .iter()
                    .all(|(key, item)| spend(budget, text(key) + 2) && fits_written(item, budget))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_support::*;
    use serde_json::json;

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

    /// The bound that lets a nested value skip being written out is never
    /// below its written length, however it escapes; a small object fits
    /// a budget a few times its length.
    #[test]
    fn a_nested_value_is_never_taken_for_shorter_than_it_is() {
        let nasty = "\u{1}\"\\\u{7f}\u{e9}\u{1F600}\n\t";
        let values = [
            json!({"k": "value"}),
            json!([null, true, false, [nasty, {nasty: [1, -2.5, nasty]}], {}, []]),
            json!({"n": -1.797_693_134_862_315_7e308, "i": i64::MIN, "u": u64::MAX, "e": 5e-324}),
            json!([[[[[]]]]]),
            json!({nasty: {nasty: nasty}}),
        ];
        for value in &values {
            let len = value.to_string().len();
            assert!(!fits_written(value, &mut (len - 1)), "{value}");
            assert!(written_bound(value) >= len, "{value}");
            let mut kept = value.clone();
            assert!(!bound_value(&mut kept, len));
            assert_eq!(&kept, value);
            let mut cut = value.clone();
            assert!(bound_value(&mut cut, len - 1), "{value}");
            assert!(cut.as_str().is_some_and(|text| text.len() < len), "{cut}");
        }
        assert!(fits_written(&values[0], &mut 40));
    }
}
