//! JSON records: well-known fields under their aliases (see the table in the
//! module documentation of [`crate::parse`]), the rest kept as attrs.
//!
//! Keys match their aliases without regard to ASCII case (`MESSAGE`, `Level`,
//! `@Timestamp`), so upper-case shippers such as syslog-ng's
//! `format-json --scope rfc5424` work unchanged. A key spelled exactly as the alias
//! wins over its case variants.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::draft::{Draft, finish};
use super::level::{level_from_otlp_value, level_from_value};
use super::record::{Record, RecordFields};
use super::timestamp::parse_record_timestamp;
use super::{ParseDefaults, ParseLimits, json_type};
use crate::model::{Level, LogEvent};

// syslog-ng sends `ISODATE` (with `--key ISODATE`) and `DATE` (classic syslog,
// no year): the first is preferred when both are present.
pub(super) const TS_ALIASES: &[&str] = &[
    "ts",
    "timestamp",
    "time",
    "@timestamp",
    "datetime",
    "isodate",
    "date",
];
pub(super) const LEVEL_ALIASES: &[&str] = &[
    "level",
    "severity",
    "severity_text",
    "lvl",
    "loglevel",
    "log.level",
    "levelname",
    // syslog-ng's and journald's PRIORITY: a severity name or number.
    "priority",
];
const SEVERITY_NUMBER_ALIASES: &[&str] = &["severity_number", "severityNumber"];
pub(super) const MESSAGE_ALIASES: &[&str] = &["message", "msg", "log", "text", "body", "@message"];
const SERVICE_ALIASES: &[&str] = &[
    "service",
    "service.name",
    "service_name",
    "app",
    "application",
    "component",
    // syslog's PROGRAM (APP-NAME / TAG).
    "program",
];
const HOST_ALIASES: &[&str] = &["host", "hostname", "host.name"];
const TRACE_ID_ALIASES: &[&str] = &["trace_id", "traceId", "trace.id"];
const SPAN_ID_ALIASES: &[&str] = &["span_id", "spanId"];
/// The lower-case spellings of the aliases that are not lower case: the only
/// lower-case keys that are case variants of an alias.
const LOWER_CASED_MIXED_ALIASES: &[&str] = &["severitynumber", "traceid", "spanid"];
const SOURCE_ALIASES: &[&str] = &["source"];

/// Every alias table, for finding the alias a key that is not in lower case
/// stands for.
const ALIAS_TABLES: &[&[&str]] = &[
    TS_ALIASES,
    LEVEL_ALIASES,
    SEVERITY_NUMBER_ALIASES,
    MESSAGE_ALIASES,
    SERVICE_ALIASES,
    HOST_ALIASES,
    TRACE_ID_ALIASES,
    SPAN_ID_ALIASES,
    SOURCE_ALIASES,
];

/// The alias `key` is a case variant of (`None` when it is spelled as the alias, or
/// is no alias). The first letter and the length turn most other keys away before
/// any comparison.
fn alias_of(key: &str) -> Option<&'static str> {
    let first = key.as_bytes().first()?.to_ascii_lowercase();
    if key.len() > ALIAS_SHAPE.max_len || ALIAS_SHAPE.first_letters & (1 << (first & 63)) == 0 {
        return None;
    }
    ALIAS_TABLES
        .iter()
        .flat_map(|aliases| aliases.iter())
        .find(|alias| alias.eq_ignore_ascii_case(key))
        .filter(|&&alias| alias != key)
        .copied()
}

/// The alias `key` is spelled exactly as, if any.
pub(super) fn exact_alias(key: &str) -> Option<&'static str> {
    let first = *key.as_bytes().first()?;
    if key.len() > ALIAS_SHAPE.max_len || ALIAS_SHAPE.first_letters & (1 << (first & 63)) == 0 {
        return None;
    }
    ALIAS_TABLES
        .iter()
        .flat_map(|aliases| aliases.iter())
        .find(|alias| alias.len() == key.len() && **alias == key)
        .copied()
}

/// What every alias looks like, for turning keys away early.
struct AliasShape {
    /// Bit `b & 63` for each lower-cased first byte `b`.
    first_letters: u64,
    max_len: usize,
}

const ALIAS_SHAPE: AliasShape = {
    let mut shape = AliasShape {
        first_letters: 0,
        max_len: 0,
    };
    let mut table = 0;
    while table < ALIAS_TABLES.len() {
        let aliases = ALIAS_TABLES[table];
        let mut i = 0;
        while i < aliases.len() {
            let alias = aliases[i].as_bytes();
            shape.first_letters |= 1 << (alias[0].to_ascii_lowercase() & 63);
            if alias.len() > shape.max_len {
                shape.max_len = alias.len();
            }
            i += 1;
        }
        table += 1;
    }
    shape
};

/// Whether `key` is one of `aliases`, ignoring ASCII case.
pub(super) fn is_alias(aliases: &[&str], key: &str) -> bool {
    aliases.iter().any(|alias| alias.eq_ignore_ascii_case(key))
}

/// A key with an upper-case letter, or the lower-case spelling of an alias that
/// is not lower case.
pub(super) fn may_be_case_variant(key: &str) -> bool {
    key.bytes().any(|b| b.is_ascii_uppercase()) || LOWER_CASED_MIXED_ALIASES.contains(&key)
}

/// The keys of a record that were renamed to the alias they match ignoring case
/// (`MESSAGE` -> `message`), so every alias lookup stays one exact map lookup:
/// `(alias, key as sent)`.
struct CaseVariants(Vec<(&'static str, String)>);

impl CaseVariants {
    /// Renames each key that matches an alias only when ASCII case is ignored to
    /// that alias, unless the alias itself is present with a value (the exact
    /// spelling wins; the variant stays as sent). Records with lower-case keys,
    /// the common case, cost one scan of their keys.
    fn rename(fields: &mut RecordFields) -> CaseVariants {
        if !fields.maybe_case_variants() {
            return CaseVariants(Vec::new());
        }
        let found: Vec<(&'static str, String)> = fields
            .other_keys()
            .filter(|key| may_be_case_variant(key))
            .filter_map(|key| Some((alias_of(key)?, key.clone())))
            .collect();
        let mut renamed = Vec::new();
        for (alias, key) in found {
            if fields
                .get_alias(alias)
                .is_some_and(|value| !value.is_null())
            {
                continue;
            }
            if let Some(value) = fields.remove_other(&key) {
                fields.insert(alias.to_owned(), value);
                renamed.push((alias, key));
            }
        }
        CaseVariants(renamed)
    }

    /// The key as the sender wrote it.
    fn as_sent(&self, alias: &'static str) -> Cow<'static, str> {
        match self.0.iter().find(|(a, _)| *a == alias) {
            Some((_, key)) => Cow::Owned(key.clone()),
            None => Cow::Borrowed(alias),
        }
    }

    /// Puts the renamed keys that are left (losing aliases, the rest of an ECS
    /// object) back under the key as sent.
    fn restore(self, attrs: &mut RecordFields) {
        for (alias, key) in self.0 {
            if let Some(value) = attrs.remove_alias(alias) {
                attrs.insert(key, value);
            }
        }
    }
}

const MESSAGE_REQUIRED: &str = "message is required (also accepted: msg, log, text, body)";

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
        other => Err(not_an_object(json_type(other))),
    }
}

pub(super) fn record_from_value(
    record: Record,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<LogEvent, String> {
    match record {
        Record::Object(fields) => event_from_fields(fields, defaults, limits, Fallback::default()),
        Record::Other(kind) => Err(not_an_object(kind)),
    }
}

fn not_an_object(kind: &str) -> String {
    format!("record must be a JSON object, got {kind}")
}

// ---------------------------------------------------------------------------
// Records

/// What a record gets when it has no field of its own (used for text lines, where
/// part of the line was already read before the logfmt fields).
#[derive(Default)]
pub(super) struct Fallback {
    pub(super) ts: Option<DateTime<Utc>>,
    pub(super) level: Option<Level>,
    pub(super) message: Option<String>,
}

pub(super) fn event_from_fields(
    mut fields: RecordFields,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
    fallback: Fallback,
) -> Result<LogEvent, String> {
    let variants = CaseVariants::rename(&mut fields);
    let message = match take_field(&mut fields, MESSAGE_ALIASES, is_message_value) {
        Some((_, value)) => message_text(value),
        None => {
            if let Some((key, value)) = first_present(&fields, MESSAGE_ALIASES) {
                let key = variants.as_sent(key);
                return Err(format!("{key}: must be a string, got {}", json_type(value)));
            }
            fallback
                .message
                .ok_or_else(|| MESSAGE_REQUIRED.to_owned())?
        }
    };

    let (ts, ts_key) = match take_field(&mut fields, TS_ALIASES, is_scalar_text) {
        Some((key, value)) => {
            let key = variants.as_sent(key);
            let ts = parse_record_timestamp(&value, defaults.received_at)
                .map_err(|e| format!("{key}: {e}"))?;
            (Some(ts), key)
        }
        None => {
            if let Some((key, value)) = first_present(&fields, TS_ALIASES) {
                return Err(format!(
                    "{}: must be a string or number, got {}",
                    variants.as_sent(key),
                    json_type(value)
                ));
            }
            (fallback.ts, Cow::Borrowed("ts"))
        }
    };

    let (level, level_raw) = read_level(&mut fields, fallback.level, &variants)?;

    let service = take_name(&mut fields, SERVICE_ALIASES);
    let default_service = defaults
        .service
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty());
    if service.as_deref().is_none_or(|s| s.trim().is_empty())
        && !default_service
        && let Some((key, value)) = first_present(&fields, SERVICE_ALIASES)
    {
        let key = variants.as_sent(key);
        return Err(format!("{key}: must be a string, got {}", json_type(value)));
    }

    let host = take_name(&mut fields, HOST_ALIASES);
    let trace_id = take_string(&mut fields, TRACE_ID_ALIASES);
    let span_id = take_string(&mut fields, SPAN_ID_ALIASES);
    let source = take_string(&mut fields, SOURCE_ALIASES);
    variants.restore(&mut fields);

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
        attrs: fields.into_attrs(),
    };
    finish(draft, defaults, limits)
}

/// Reads the level fields: the textual aliases first, then the OTLP number, then
/// the fallback. Returns the level and the raw value to keep when it was unknown.
fn read_level(
    fields: &mut RecordFields,
    fallback: Option<Level>,
    variants: &CaseVariants,
) -> Result<(Level, Option<Value>), String> {
    let name = take_field(fields, LEVEL_ALIASES, is_scalar_text);
    if name.is_none()
        && let Some((key, value)) = first_present(fields, LEVEL_ALIASES)
    {
        return Err(format!(
            "{}: must be a string or number, got {}",
            variants.as_sent(key),
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

/// Removes and returns the first alias whose value `accept`s; `null` aliases are
/// dropped on the way.
fn take_field(
    fields: &mut RecordFields,
    aliases: &[&'static str],
    accept: impl Fn(&Value) -> bool,
) -> Option<(&'static str, Value)> {
    for &key in aliases {
        match fields.get_alias(key) {
            Some(Value::Null) => {
                fields.remove_alias(key);
            }
            Some(value) if accept(value) => {
                return fields.remove_alias(key).map(|value| (key, value));
            }
            _ => {}
        }
    }
    None
}

/// The first alias present with a non-null value.
fn first_present<'a>(
    fields: &'a RecordFields,
    aliases: &[&'static str],
) -> Option<(&'static str, &'a Value)> {
    aliases.iter().find_map(|&key| {
        fields
            .get_alias(key)
            .filter(|v| !v.is_null())
            .map(|value| (key, value))
    })
}

fn take_string(fields: &mut RecordFields, aliases: &[&'static str]) -> Option<String> {
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
fn take_name(fields: &mut RecordFields, aliases: &[&'static str]) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::parse::test_support::*;
    use serde_json::json;

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

    // --- key case --------------------------------------------------------

    #[test]
    fn every_alias_is_read_in_upper_case() {
        for (aliases, value, check) in [
            (TS_ALIASES, json!("2026-01-02T03:04:05Z"), "ts"),
            (LEVEL_ALIASES, json!("warning"), "level"),
            (SERVICE_ALIASES, json!("billing"), "service"),
            (HOST_ALIASES, json!("web-1"), "host"),
            (TRACE_ID_ALIASES, json!("abc"), "trace_id"),
            (SPAN_ID_ALIASES, json!("def"), "span_id"),
            (SOURCE_ALIASES, json!("file"), "source"),
        ] {
            for alias in aliases {
                let key = alias.to_ascii_uppercase();
                let event = record(json!({"MESSAGE": "m", key.as_str(): value})).unwrap();
                let read = match check {
                    "ts" => event.ts == utc("2026-01-02T03:04:05Z"),
                    "level" => event.level == Level::Warn,
                    "service" => event.service == "billing",
                    "host" => event.host.as_deref() == Some("web-1"),
                    "trace_id" => event.trace_id.as_deref() == Some("abc"),
                    "span_id" => event.span_id.as_deref() == Some("def"),
                    _ => event.source.as_deref() == Some("file"),
                };
                assert!(read, "{key} was not read as {check}: {event:?}");
                assert!(event.attrs.is_empty(), "{key}: {:?}", event.attrs);
            }
        }
        for alias in MESSAGE_ALIASES {
            let key = alias.to_ascii_uppercase();
            let event = record(json!({key.as_str(): "hello"})).unwrap();
            assert_eq!(event.message, "hello", "{key}");
        }
    }

    #[test]
    fn camel_and_title_case_keys_are_read() {
        let event = record(json!({
            "Message": "m",
            "Level": "Error",
            "@Timestamp": "2026-01-02T03:04:05Z",
            "traceId": "t",
            "spanId": "s",
            "Service": {"Name": "not a name member", "name": "billing"},
        }))
        .unwrap();
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.ts, utc("2026-01-02T03:04:05Z"));
        assert_eq!(event.service, "billing");
        assert_eq!(
            (event.trace_id.as_deref(), event.span_id.as_deref()),
            (Some("t"), Some("s"))
        );
        // The other members of an ECS-style object go back under the key as sent.
        assert_eq!(
            event.attrs,
            BTreeMap::from([("Service".to_owned(), json!({"Name": "not a name member"}))])
        );
        for severity_number in ["severityNumber", "severitynumber", "SEVERITY_NUMBER"] {
            let event = record(json!({"msg": "m", severity_number: 17})).unwrap();
            assert_eq!(event.level, Level::Error, "{severity_number}");
        }
        for trace_id in ["traceid", "TRACEID", "Trace.Id"] {
            let event = record(json!({"msg": "m", trace_id: "t"})).unwrap();
            assert_eq!(event.trace_id.as_deref(), Some("t"), "{trace_id}");
        }
    }

    #[test]
    fn the_exact_key_wins_over_its_case_variants() {
        let event = record(json!({"msg": "m", "LEVEL": "debug", "level": "error"})).unwrap();
        assert_eq!(event.level, Level::Error);
        assert_eq!(
            event.attrs,
            BTreeMap::from([("LEVEL".to_owned(), json!("debug"))])
        );
    }

    #[test]
    fn alias_order_holds_across_cases() {
        // `message` comes before `msg` in the alias table, whatever the case.
        let event = record(json!({"msg": "second", "MESSAGE": "first"})).unwrap();
        assert_eq!(event.message, "first");
        assert_eq!(
            event.attrs,
            BTreeMap::from([("msg".to_owned(), json!("second"))])
        );
    }

    #[test]
    fn null_and_unusable_case_variants_do_not_hide_other_aliases() {
        let event = record(json!({"MESSAGE": null, "Msg": ["x"], "log": "used"})).unwrap();
        assert_eq!(event.message, "used");
        assert_eq!(
            event.attrs,
            BTreeMap::from([("Msg".to_owned(), json!(["x"]))])
        );
    }

    #[test]
    fn reasons_name_the_key_as_sent() {
        assert_eq!(
            record(json!({"MESSAGE": {"a": 1}})),
            Err("MESSAGE: must be a string, got an object".to_owned())
        );
        let err = record(json!({"msg": "m", "Timestamp": "yesterday"})).unwrap_err();
        assert!(
            err.starts_with("Timestamp: cannot parse 'yesterday'"),
            "{err}"
        );
        let err = record(json!({"msg": "m", "TS": "2027-01-02T00:00:00Z"})).unwrap_err();
        assert!(
            err.starts_with("TS: 2027-01-02T00:00:00Z is more than 24h"),
            "{err}"
        );
    }

    #[test]
    fn syslog_ng_rfc5424_records_are_read() {
        // As `$(format-json --scope rfc5424)` of syslog-ng 3.38 writes them.
        let event = record(json!({
            "PROGRAM": "checkout",
            "PRIORITY": "err",
            "PID": "4242",
            "MESSAGE": "payment failed",
            "HOST": "web01",
            "FACILITY": "user",
            "DATE": "Jan  2 11:59:00",
        }))
        .unwrap();
        assert_eq!(event.service, "checkout");
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.message, "payment failed");
        assert_eq!(event.host.as_deref(), Some("web01"));
        assert_eq!(event.ts, utc("2026-01-02T11:59:00Z"));
        assert_eq!(
            event.attrs,
            BTreeMap::from([
                ("FACILITY".to_owned(), json!("user")),
                ("PID".to_owned(), json!("4242")),
            ])
        );
    }

    #[test]
    fn isodate_wins_over_the_yearless_date() {
        let event = record(json!({
            "MESSAGE": "m",
            "DATE": "Jan  2 11:00:00",
            "ISODATE": "2026-01-02T11:00:00.250+00:00",
        }))
        .unwrap();
        assert_eq!(event.ts, utc("2026-01-02T11:00:00.250Z"));
        assert_eq!(
            event.attrs,
            BTreeMap::from([("DATE".to_owned(), json!("Jan  2 11:00:00"))])
        );
    }

    #[test]
    fn priority_names_and_numbers_are_levels() {
        for (priority, level) in [
            (json!("emerg"), Level::Fatal),
            (json!("crit"), Level::Fatal),
            (json!("warning"), Level::Warn),
            (json!("notice"), Level::Info),
            (json!("debug"), Level::Debug),
            // journald's PRIORITY is the syslog severity as a string.
            (json!("3"), Level::Error),
        ] {
            let event = record(json!({"MESSAGE": "m", "PRIORITY": priority})).unwrap();
            assert_eq!(event.level, level, "{priority}");
        }
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

    #[test]
    fn parse_json_record_rejects_non_objects() {
        assert_eq!(
            record(json!("just text")),
            Err("record must be a JSON object, got a string".to_owned())
        );
    }
}
