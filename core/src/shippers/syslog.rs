//! Syslog messages (RFC 5424 and RFC 3164) to events.
//!
//! | event     | from |
//! |-----------|------|
//! | `level`   | the PRI's severity (0-2 FATAL, 3 ERROR, 4 WARN, 5-6 INFO, 7 DEBUG); without a PRI inferred from the message as for a text line of `/ingest` |
//! | `service` | APP-NAME (RFC 5424) or TAG (RFC 3164), else the listener's default service |
//! | `host`    | HOSTNAME |
//! | `ts`      | TIMESTAMP, else the receive time |
//! | `message` | MSG |
//! | `attrs`   | `syslog.facility` (its name), `syslog.procid`, `syslog.msgid`, and every STRUCTURED-DATA parameter as `<SD-ID>.<PARAM-NAME>` |

use chrono::{DateTime, Utc};
use serde_json::Value;

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
        service: msg.app_name,
        host: msg.hostname,
        ..ShippedRecord::default()
    };
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
        assert_eq!(event.attrs["syslog.facility"], "auth");
        assert_eq!(event.attrs["syslog.procid"], "812");
        assert_eq!(event.attrs["syslog.msgid"], "ID47");
        assert_eq!(event.attrs["origin@32473.ip"], "10.0.0.1");
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
