//! The event and anomaly model shared by every part of anomalog.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Severity of a log event, normalised from the many spellings shippers use.
///
/// Ordered from least to most severe so `level >= Level::Warn` reads naturally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl Level {
    /// Every level, least severe first.
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// Canonical upper-case name, as stored and served.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
            Level::Fatal => "FATAL",
        }
    }

    /// True for the levels the error detectors count (ERROR and FATAL).
    pub fn is_error(self) -> bool {
        self >= Level::Error
    }

    /// A small integer, stable across versions, used for ordering in storage.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// Inverse of [`Level::rank`].
    pub fn from_rank(rank: u8) -> Option<Level> {
        Level::ALL.get(usize::from(rank)).copied()
    }

    /// Parses the common textual spellings (case-insensitive): `warning`, `err`,
    /// `crit`, `emerg`, `notice`, single letters such as `E`, and numeric strings,
    /// which are read as syslog severities (0-7).
    pub fn parse_name(raw: &str) -> Option<Level> {
        let name = raw.trim();
        if let Ok(n) = name.parse::<i64>() {
            return Level::from_syslog(n);
        }
        let level = match name.to_ascii_lowercase().as_str() {
            "trace" | "trc" | "t" | "verbose" | "finest" | "finer" => Level::Trace,
            "debug" | "dbg" | "d" | "fine" | "config" => Level::Debug,
            "info" | "inf" | "i" | "information" | "informational" | "notice" | "log" => {
                Level::Info
            }
            "warn" | "warning" | "wrn" | "w" => Level::Warn,
            "error" | "err" | "e" | "eror" | "severe" | "fail" | "failure" => Level::Error,
            "fatal" | "ftl" | "f" | "crit" | "critical" | "alert" | "emerg" | "emergency"
            | "panic" => Level::Fatal,
            _ => return None,
        };
        Some(level)
    }

    /// Syslog severity (RFC 5424): 0 emerg .. 7 debug.
    pub fn from_syslog(severity: i64) -> Option<Level> {
        let level = match severity {
            0..=2 => Level::Fatal,
            3 => Level::Error,
            4 => Level::Warn,
            5 | 6 => Level::Info,
            7 => Level::Debug,
            _ => return None,
        };
        Some(level)
    }

    /// OpenTelemetry severity number: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN,
    /// 17-20 ERROR, 21-24 FATAL.
    pub fn from_otlp(number: i64) -> Option<Level> {
        let level = match number {
            1..=4 => Level::Trace,
            5..=8 => Level::Debug,
            9..=12 => Level::Info,
            13..=16 => Level::Warn,
            17..=20 => Level::Error,
            21..=24 => Level::Fatal,
            _ => return None,
        };
        Some(level)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::parse_name(s).ok_or_else(|| UnknownLevel(s.to_owned()))
    }
}

/// A level name that matches none of the known spellings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level '{0}' (expected one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL)")]
pub struct UnknownLevel(pub String);

/// One log record after parsing and normalisation.
///
/// Invariant: `service` is non-empty and `message` is at most the configured
/// maximum length (`truncated` says whether it was cut).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEvent {
    /// Event time, UTC. Receive time when the record carried none.
    pub ts: DateTime<Utc>,
    /// When ingest accepted the record.
    pub received_at: DateTime<Utc>,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub level: Level,
    pub message: String,
    /// Remaining structured fields, bounded in count and size.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// Where the record came from (file path, shipper name...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// True when the message was cut to the size limit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl LogEvent {
    /// An event with just the required fields: received when it happened, no
    /// host, attributes, trace or source.
    pub fn new(
        ts: DateTime<Utc>,
        service: impl Into<String>,
        level: Level,
        message: impl Into<String>,
    ) -> LogEvent {
        LogEvent {
            ts,
            received_at: ts,
            service: service.into(),
            host: None,
            level,
            message: message.into(),
            attrs: BTreeMap::new(),
            trace_id: None,
            span_id: None,
            source: None,
            truncated: false,
        }
    }
}

/// A persisted log event with its storage id.
///
/// The id is derived from the queue entry that carried the event and its index in
/// that entry, so persisting the same entry twice never duplicates a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredLog {
    pub id: String,
    #[serde(flatten)]
    pub event: LogEvent,
    /// The id of the log pattern its message mapped to in its service
    /// ([`crate::pattern::PatternId`] as text), set by detect before persist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

impl StoredLog {
    /// The id of event `index` of queue entry `entry_id`.
    /// `<entry_id>-<index, at least 5 digits>`, written without `format!`
    /// (it runs for every stored event).
    pub fn id_for(entry_id: &str, index: usize) -> String {
        let mut digits = [b'0'; 20];
        let mut at = digits.len();
        let mut rest = index;
        loop {
            at -= 1;
            digits[at] = b'0' + u8::try_from(rest % 10).unwrap_or(0);
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let digits = &digits[at.min(digits.len() - 5)..];
        let mut id = String::with_capacity(entry_id.len() + 1 + digits.len());
        id.push_str(entry_id);
        id.push('-');
        id.push_str(std::str::from_utf8(digits).unwrap_or_default());
        id
    }
}

/// What kind of deviation an anomaly records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// Many errors within a short window.
    Burst,
    /// Error count or ratio far above its trailing baseline.
    Spike,
    /// Volume far below its baseline, or silence.
    Drop,
    /// A log pattern never seen before in the service.
    NewPattern,
}

impl AnomalyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::Burst => "burst",
            AnomalyKind::Spike => "spike",
            AnomalyKind::Drop => "drop",
            AnomalyKind::NewPattern => "new_pattern",
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AnomalyKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "burst" => Ok(AnomalyKind::Burst),
            "spike" => Ok(AnomalyKind::Spike),
            "drop" => Ok(AnomalyKind::Drop),
            "new_pattern" => Ok(AnomalyKind::NewPattern),
            other => Err(format!(
                "unknown anomaly kind '{other}' (expected burst, spike, drop or new_pattern)"
            )),
        }
    }
}

/// Whether an anomaly is still going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyStatus {
    Open,
    Resolved,
}

impl AnomalyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyStatus::Open => "open",
            AnomalyStatus::Resolved => "resolved",
        }
    }
}

impl FromStr for AnomalyStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(AnomalyStatus::Open),
            "resolved" => Ok(AnomalyStatus::Resolved),
            other => Err(format!(
                "unknown status '{other}' (expected open or resolved)"
            )),
        }
    }
}

/// How loud an anomaly is, from its size relative to the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// A short excerpt of a log line kept with an anomaly (users want them in alerts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogSample {
    pub ts: DateTime<Utc>,
    pub level: Level,
    pub message: String,
}

/// The series an anomaly was judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// ERROR and FATAL events per bucket.
    ErrorCount,
    /// Share of events at ERROR or above, in [0, 1].
    ErrorRatio,
    /// All events per bucket.
    EventRate,
    /// Events of one log pattern per bucket.
    PatternRate,
    /// Events of a pattern never seen before.
    NewPattern,
}

/// The unit of `observed`, `expected`, `stddev` and the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A count of events within the anomaly's bucket or window.
    Events,
    /// A fraction in [0, 1] (the dashboard shows it in percent).
    Ratio,
}

/// What an anomaly measured, as typed fields: the dashboard, alerts and API read
/// these, never the message text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    pub metric: Metric,
    pub unit: Unit,
    /// The value `observed` had to cross (above for bursts and spikes, below
    /// for drops), in `unit`.
    pub threshold: f64,
    /// The window of the baseline `expected` and `stddev` come from.
    pub baseline_start: DateTime<Utc>,
    pub baseline_end: DateTime<Utc>,
    /// Length of one bucket of the judged series, in seconds.
    pub bucket_seconds: u32,
}

/// How one log pattern's count changed between an anomaly's baseline and its
/// window: the anomaly's explanation lists the patterns that changed most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternChange {
    /// The pattern's stable id within its service.
    pub pattern: String,
    pub template: String,
    /// Events of the pattern in the baseline, scaled to the window's length.
    pub before: f64,
    /// Events of the pattern within the anomaly's window.
    pub during: u64,
    /// The pattern was first seen within the window.
    pub new: bool,
}

/// A detected deviation for one service.
///
/// Invariant: `id` depends only on `kind`, `service` and the episode's
/// `window_start`, so re-running detection over the same data never duplicates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    pub id: String,
    pub kind: AnomalyKind,
    pub service: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// What was seen (errors in the window for bursts, the bucket count for spikes).
    pub observed: f64,
    /// What the baseline predicted.
    pub expected: f64,
    pub stddev: f64,
    /// Detector score in [0, 1]; 0.5 is the verdict threshold.
    pub score: f64,
    pub severity: Severity,
    pub status: AnomalyStatus,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Human-readable explanation: observed vs expected and the threshold.
    pub message: String,
    #[serde(default)]
    pub samples: Vec<LogSample>,
    /// What was measured (`None` on anomalies stored before it existed).
    #[serde(default)]
    pub measure: Option<Measure>,
    /// The log patterns that changed most, largest change first.
    #[serde(default)]
    pub explanation: Vec<PatternChange>,
}

impl Anomaly {
    /// The deterministic id of the episode of `kind` for `service` that started at
    /// `window_start`: 32 hex digits of a SHA-256 over the three.
    pub fn id_for(kind: AnomalyKind, service: &str, window_start: DateTime<Utc>) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(kind.as_str().as_bytes());
        hasher.update([0]);
        hasher.update(service.as_bytes());
        hasher.update([0]);
        hasher.update(window_start.timestamp_millis().to_be_bytes());
        let digest = hasher.finalize();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_log_id_is_the_entry_and_the_index_in_at_least_five_digits() {
        for index in [
            0,
            7,
            42,
            999,
            12_345,
            99_999,
            100_000,
            1_234_567,
            usize::MAX,
        ] {
            assert_eq!(
                StoredLog::id_for("000000000042", index),
                format!("000000000042-{index:05}")
            );
        }
        assert_eq!(
            StoredLog::id_for("1780000000000-0", 3),
            "1780000000000-0-00003"
        );
    }
    use chrono::TimeZone;

    #[test]
    fn level_names_cover_common_spellings() {
        let cases = [
            ("warning", Level::Warn),
            ("WARN", Level::Warn),
            ("err", Level::Error),
            ("Critical", Level::Fatal),
            ("crit", Level::Fatal),
            ("emerg", Level::Fatal),
            ("alert", Level::Fatal),
            ("notice", Level::Info),
            ("dbg", Level::Debug),
            ("3", Level::Error),
            ("7", Level::Debug),
            ("0", Level::Fatal),
        ];
        for (raw, expected) in cases {
            assert_eq!(Level::parse_name(raw), Some(expected), "{raw}");
        }
        assert_eq!(Level::parse_name("banana"), None);
        assert_eq!(Level::parse_name("8"), None);
    }

    #[test]
    fn otlp_severity_numbers_map_by_range() {
        assert_eq!(Level::from_otlp(1), Some(Level::Trace));
        assert_eq!(Level::from_otlp(9), Some(Level::Info));
        assert_eq!(Level::from_otlp(13), Some(Level::Warn));
        assert_eq!(Level::from_otlp(17), Some(Level::Error));
        assert_eq!(Level::from_otlp(24), Some(Level::Fatal));
        assert_eq!(Level::from_otlp(0), None);
        assert_eq!(Level::from_otlp(25), None);
    }

    #[test]
    fn levels_are_ordered_by_severity() {
        assert!(Level::Fatal > Level::Error);
        assert!(Level::Error.is_error());
        assert!(!Level::Warn.is_error());
        for level in Level::ALL {
            assert_eq!(Level::from_rank(level.rank()), Some(level));
        }
    }

    #[test]
    fn anomaly_ids_are_deterministic_and_distinct() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let a = Anomaly::id_for(AnomalyKind::Burst, "api", t);
        assert_eq!(a, Anomaly::id_for(AnomalyKind::Burst, "api", t));
        assert_eq!(a.len(), 32);
        assert_ne!(a, Anomaly::id_for(AnomalyKind::Spike, "api", t));
        assert_ne!(a, Anomaly::id_for(AnomalyKind::Burst, "web", t));
        assert_ne!(
            a,
            Anomaly::id_for(AnomalyKind::Burst, "api", t + chrono::Duration::seconds(1))
        );
    }
}
