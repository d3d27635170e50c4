//! Syslog messages (RFC 5424 and RFC 3164) to events.
//!
//! | event     | from |
//! |-----------|------|
//! | `level`   | the PRI's severity (0-2 FATAL, 3 ERROR, 4 WARN, 5-6 INFO, 7 DEBUG); without a PRI inferred from the message as for a text line of `/ingest` |
//! | `service` | APP-NAME (RFC 5424) or TAG (RFC 3164), else the listener's default service |
//! | `host`    | HOSTNAME |
//! | `ts`      | TIMESTAMP, else the receive time |
//! | `message` | MSG |
//! | `attrs`   | `program` (APP-NAME or TAG), `syslog.facility` (its name), `syslog.procid`, `syslog.msgid`, and every STRUCTURED-DATA parameter as `<SD-ID>.<PARAM-NAME>` |
//!
//! [`decode`] reads one message's text (with `syslog_loose`); the ingest
//! listener and the agent's edge parsing both use it and [`to_event`], so a
//! syslog line becomes the same event whichever way it arrives.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde_json::Value;
use syslog_loose::{ProcId, Variant};

use super::{ShippedRecord, finish, infer_level};
use crate::model::{Level, LogEvent};
use crate::parse::{ParseDefaults, ParseLimits};

const SERVICE_HINT: &str = "send an APP-NAME (RFC 5424) or TAG (RFC 3164), or set syslog.service";

/// Facility names of RFC 5424 section 6.2.1, by code.
const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// One syslog message, decoded from either RFC format. `-` (NILVALUE) fields are `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyslogMessage {
    pub facility: Option<u8>,
    pub severity: Option<u8>,
    pub ts: Option<DateTime<Utc>>,
    pub hostname: Option<String>,
    pub app_name: Option<String>,
    pub proc_id: Option<String>,
    pub msg_id: Option<String>,
    /// SD-ID and its parameters, in message order.
    pub structured_data: Vec<(String, Vec<(String, String)>)>,
    pub message: String,
}

/// Decodes one message of either RFC; anything else is kept whole as the
/// message. A 3164 timestamp has no year or zone: it is read as UTC in `now`'s
/// year (the previous year when that would put it more than a day ahead).
pub fn decode(text: &str, now: DateTime<Utc>) -> SyslogMessage {
    let year_of = move |(month, day, hour, minute, second): syslog_loose::IncompleteDate| {
        let year = now.year();
        let this_year = Utc
            .with_ymd_and_hms(year, month, day, hour, minute, second)
            .single();
        match this_year {
            Some(t) if t > now + chrono::TimeDelta::days(1) => year - 1,
            _ => year,
        }
    };
    let Ok(parsed) =
        syslog_loose::parse_message_with_year_exact_tz(text, year_of, Some(Utc), Variant::Either)
    else {
        return SyslogMessage {
            message: text.trim().to_owned(),
            ..SyslogMessage::default()
        };
    };
    let some = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty() && s != "-");
    SyslogMessage {
        facility: parsed.facility.map(|f| f as u8),
        severity: parsed.severity.map(|s| s as u8),
        ts: parsed.timestamp.map(|t| t.with_timezone(&Utc)),
        hostname: parsed.hostname.and_then(some),
        app_name: parsed.appname.and_then(some),
        proc_id: parsed.procid.map(|p| match p {
            ProcId::PID(pid) => pid.to_string(),
            ProcId::Name(name) => name.to_owned(),
        }),
        msg_id: parsed.msgid.and_then(some),
        structured_data: parsed
            .structured_data
            .into_iter()
            .map(|e| {
                (
                    e.id.to_owned(),
                    e.params
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .collect(),
                )
            })
            .collect(),
        message: parsed.msg.trim_end().to_owned(),
    }
}

/// A line from a file, if it is a syslog message: it starts with a PRI
/// (`<N>`) or a classic `Mmm dd HH:MM:SS` timestamp, and decodes with a
/// timestamp and a host. For files of unknown format (the agent's `auto`
/// parser), where any other line is read as a plain text line.
pub fn decode_line(line: &str, now: DateTime<Utc>) -> Option<SyslogMessage> {
    let bytes = line.as_bytes();
    let pri = bytes.first() == Some(&b'<')
        && bytes
            .iter()
            .skip(1)
            .take(4)
            .position(|&b| b == b'>')
            .is_some_and(|end| end > 0 && bytes[1..=end].iter().all(u8::is_ascii_digit));
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let classic = line
        .get(..4)
        .is_some_and(|head| head.ends_with(' ') && MONTHS.contains(&&head[..3]))
        && line.get(6..7) == Some(" ")
        && line.get(9..10) == Some(":");
    if !pri && !classic {
        return None;
    }
    let msg = decode(line, now);
    (msg.ts.is_some() && msg.hostname.is_some()).then_some(msg)
}

/// Maps one syslog message to an event.
pub fn to_event(
    msg: SyslogMessage,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<LogEvent, String> {
    let level = match msg.severity.and_then(|s| Level::from_syslog(i64::from(s))) {
        Some(level) => level,
        None => infer_level(&msg.message, defaults.received_at),
    };
    let mut record = ShippedRecord {
        ts: msg.ts,
        level,
        message: msg.message,
        service: msg.app_name.clone(),
        host: msg.hostname,
        ..ShippedRecord::default()
    };
    if let Some(program) = msg.app_name {
        record
            .attrs
            .insert("program".into(), Value::String(program));
    }
    if let Some(name) = msg
        .facility
        .and_then(|f| FACILITIES.get(usize::from(f)).copied())
    {
        record
            .attrs
            .insert("syslog.facility".into(), Value::from(name));
    }
    for (key, value) in [("syslog.procid", msg.proc_id), ("syslog.msgid", msg.msg_id)] {
        if let Some(value) = value {
            record.attrs.insert(key.into(), Value::String(value));
        }
    }
    for (id, params) in msg.structured_data {
        for (name, value) in params {
            record
                .attrs
                .insert(format!("{id}.{name}"), Value::String(value));
        }
    }
    finish(record, defaults, limits, SERVICE_HINT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> ParseDefaults {
        ParseDefaults {
            service: Some("syslog".into()),
            host: None,
            source: None,
            received_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn header_fields_and_structured_data_map_to_the_event() {
        let msg = SyslogMessage {
            facility: Some(4),
            severity: Some(3),
            ts: DateTime::from_timestamp(1_799_999_000, 0),
            hostname: Some("db-1".into()),
            app_name: Some("sshd".into()),
            proc_id: Some("812".into()),
            msg_id: Some("ID47".into()),
            structured_data: vec![(
                "origin@32473".into(),
                vec![("ip".into(), "10.0.0.1".into())],
            )],
            message: "auth failed".into(),
        };
        let event = to_event(msg, &defaults(), &ParseLimits::default()).unwrap();
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.service, "sshd");
        assert_eq!(event.host.as_deref(), Some("db-1"));
        assert_eq!(event.message, "auth failed");
        assert_eq!(event.attrs["program"], "sshd");
        assert_eq!(event.attrs["syslog.facility"], "auth");
        assert_eq!(event.attrs["syslog.procid"], "812");
        assert_eq!(event.attrs["syslog.msgid"], "ID47");
        assert_eq!(event.attrs["origin@32473.ip"], "10.0.0.1");
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn rfc5424_messages_decode_with_structured_data() {
        let m = decode(
            r#"<165>1 2026-01-02T03:00:00.5Z db-1 sshd 812 ID47 [origin@32473 ip="10.0.0.1"] auth failed"#,
            now(),
        );
        assert_eq!(m.facility, Some(20));
        assert_eq!(m.severity, Some(5));
        assert_eq!(m.hostname.as_deref(), Some("db-1"));
        assert_eq!(m.app_name.as_deref(), Some("sshd"));
        assert_eq!(m.proc_id.as_deref(), Some("812"));
        assert_eq!(m.msg_id.as_deref(), Some("ID47"));
        assert_eq!(
            m.structured_data,
            vec![(
                "origin@32473".to_owned(),
                vec![("ip".to_owned(), "10.0.0.1".to_owned())]
            )]
        );
        assert_eq!(m.message, "auth failed");
    }

    #[test]
    fn rfc3164_timestamps_take_the_year_that_is_not_in_the_future() {
        let m = decode("<11>Dec 31 23:59:00 web-2 nginx[99]: upstream gone", now());
        assert_eq!(m.severity, Some(3));
        assert_eq!(m.app_name.as_deref(), Some("nginx"));
        assert_eq!(m.proc_id.as_deref(), Some("99"));
        assert_eq!(m.hostname.as_deref(), Some("web-2"));
        assert_eq!(m.message, "upstream gone");
        assert_eq!(
            m.ts.map(|t| t.to_rfc3339()),
            Some("2025-12-31T23:59:00+00:00".to_owned())
        );
    }

    #[test]
    fn text_that_is_not_syslog_is_kept_whole() {
        let m = decode("just some words", now());
        assert_eq!(m.severity, None);
        assert_eq!(m.message, "just some words");
    }

    #[test]
    fn file_lines_in_either_rfc_are_recognised_and_others_are_not() {
        let classic = decode_line("Jan  2 03:00:01 web-2 sshd[42]: Accepted publickey", now())
            .expect("a classic syslog file line");
        assert_eq!(classic.hostname.as_deref(), Some("web-2"));
        assert_eq!(classic.app_name.as_deref(), Some("sshd"));
        assert_eq!(classic.message, "Accepted publickey");
        let rfc5424 = decode_line(
            "<134>1 2026-01-02T03:00:00Z api-1 checkout - - - paid",
            now(),
        )
        .expect("an RFC 5424 line");
        assert_eq!(rfc5424.hostname.as_deref(), Some("api-1"));
        assert_eq!(rfc5424.app_name.as_deref(), Some("checkout"));
        for other in [
            "2026-01-02T03:00:00Z ERROR db timeout",
            "level=info msg=hello",
            "{\"message\":\"json\"}",
            "<b>not a priority</b>",
            "Janet said hello",
        ] {
            assert_eq!(decode_line(other, now()), None, "{other}");
        }
    }

    #[test]
    fn without_pri_or_app_name_the_level_is_inferred_and_the_default_service_used() {
        let msg = SyslogMessage {
            message: "WARNING disk almost full".into(),
            ..SyslogMessage::default()
        };
        let event = to_event(msg, &defaults(), &ParseLimits::default()).unwrap();
        assert_eq!(event.level, Level::Warn);
        assert_eq!(event.service, "syslog");
        assert_eq!(event.ts, defaults().received_at);
    }
}
