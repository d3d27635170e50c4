//! The API's own body types.
//!
//! Responses are built from these, never by serialising core or store types:
//! the storage record, the queue payload and the API body are three types even
//! when they look alike, so renaming a field of a core type is neither a
//! migration nor a breaking API change (and the reverse). Their schemas are
//! derived here, so the OpenAPI document describes exactly what is sent; the
//! tests in `tests/openapi.rs` validate real responses against them with
//! unknown properties forbidden.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use anomalog_core::rollup::LevelCounts as CoreLevelCounts;
use anomalog_core::{AnomalyStatus as CoreStatus, Severity as CoreSeverity};

/// Severity of a log event, least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

impl From<anomalog_core::Level> for Level {
    fn from(l: anomalog_core::Level) -> Level {
        use anomalog_core::Level as L;
        match l {
            L::Trace => Level::Trace,
            L::Debug => Level::Debug,
            L::Info => Level::Info,
            L::Warn => Level::Warn,
            L::Error => Level::Error,
            L::Fatal => Level::Fatal,
        }
    }
}

/// Events per level; every level is present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub struct LevelCounts {
    pub trace: u64,
    pub debug: u64,
    pub info: u64,
    pub warn: u64,
    pub error: u64,
    pub fatal: u64,
}

impl From<&CoreLevelCounts> for LevelCounts {
    fn from(c: &CoreLevelCounts) -> LevelCounts {
        use anomalog_core::Level as L;
        LevelCounts {
            trace: c.get(L::Trace),
            debug: c.get(L::Debug),
            info: c.get(L::Info),
            warn: c.get(L::Warn),
            error: c.get(L::Error),
            fatal: c.get(L::Fatal),
        }
    }
}

/// A stored log event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "1763892000000-0-00001", "ts": "2026-11-23T10:00:00Z",
    "received_at": "2026-11-23T10:00:00.120Z", "service": "checkout", "host": "web-1", "level": "ERROR",
    "message": "payment provider timeout", "attrs": {"order": 42}}))]
pub struct StoredLog {
    /// Storage id: `<queue entry id>-<index>`; unique and stable.
    pub id: String,
    /// Event time; the receive time when the record carried none.
    pub ts: DateTime<Utc>,
    /// When ingest accepted the record.
    pub received_at: DateTime<Utc>,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub level: Level,
    pub message: String,
    /// The record's other fields.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    /// Where the record came from (file path, shipper name...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Present (true) only when the message was cut to the size limit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    /// Id of the log pattern the message belongs to (see `/api/patterns`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

impl From<anomalog_core::StoredLog> for StoredLog {
    fn from(log: anomalog_core::StoredLog) -> StoredLog {
        let e = log.event;
        StoredLog {
            id: log.id,
            ts: e.ts,
            received_at: e.received_at,
            service: e.service,
            host: e.host,
            level: e.level.into(),
            message: e.message,
            attrs: e.attrs,
            trace_id: e.trace_id,
            span_id: e.span_id,
            source: e.source,
            truncated: e.truncated,
            pattern: log.pattern,
        }
    }
}

/// What kind of deviation an anomaly records (schema only: the body carries
/// the kind's name, so a detector added later needs no API change to show).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
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

/// Whether an anomaly is still going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnomalyStatus {
    Open,
    Resolved,
}

impl From<CoreStatus> for AnomalyStatus {
    fn from(s: CoreStatus) -> AnomalyStatus {
        match s {
            CoreStatus::Open => AnomalyStatus::Open,
            CoreStatus::Resolved => AnomalyStatus::Resolved,
        }
    }
}

/// How loud an anomaly is, from its size relative to the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl From<CoreSeverity> for Severity {
    fn from(s: CoreSeverity) -> Severity {
        match s {
            CoreSeverity::Low => Severity::Low,
            CoreSeverity::Medium => Severity::Medium,
            CoreSeverity::High => Severity::High,
            CoreSeverity::Critical => Severity::Critical,
        }
    }
}

/// A log line kept with an anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogSample {
    pub ts: DateTime<Utc>,
    pub level: Level,
    pub message: String,
}

impl From<anomalog_core::LogSample> for LogSample {
    fn from(s: anomalog_core::LogSample) -> LogSample {
        LogSample {
            ts: s.ts,
            level: s.level.into(),
            message: s.message,
        }
    }
}

/// The series an anomaly was judged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    ErrorCount,
    ErrorRatio,
    EventRate,
    PatternRate,
    NewPattern,
}

/// The unit of `observed`, `expected`, `stddev` and `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Events within the bucket or window.
    Events,
    /// A fraction in [0, 1].
    Ratio,
}

/// What an anomaly measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Measure {
    pub metric: Metric,
    pub unit: Unit,
    /// The value `observed` had to cross, in `unit`.
    pub threshold: f64,
    /// The window the baseline was learnt over.
    pub baseline_start: DateTime<Utc>,
    pub baseline_end: DateTime<Utc>,
    /// Length of one bucket of the judged series, in seconds.
    pub bucket_seconds: u32,
}

impl From<anomalog_core::Measure> for Measure {
    fn from(m: anomalog_core::Measure) -> Measure {
        use anomalog_core::{Metric as M, Unit as U};
        Measure {
            metric: match m.metric {
                M::ErrorCount => Metric::ErrorCount,
                M::ErrorRatio => Metric::ErrorRatio,
                M::EventRate => Metric::EventRate,
                M::PatternRate => Metric::PatternRate,
                M::NewPattern => Metric::NewPattern,
            },
            unit: match m.unit {
                U::Events => Unit::Events,
                U::Ratio => Unit::Ratio,
            },
            threshold: m.threshold,
            baseline_start: m.baseline_start,
            baseline_end: m.baseline_end,
            bucket_seconds: m.bucket_seconds,
        }
    }
}

/// How one log pattern's count changed between the baseline and the anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PatternChange {
    /// The pattern's stable id within its service.
    pub pattern: String,
    pub template: String,
    /// Events of the pattern in the baseline, scaled to the window's length.
    pub before: f64,
    /// Events of the pattern within the anomaly's window.
    pub during: u64,
    /// First seen within the window.
    pub new: bool,
}

impl From<anomalog_core::PatternChange> for PatternChange {
    fn from(p: anomalog_core::PatternChange) -> PatternChange {
        PatternChange {
            pattern: p.pattern,
            template: p.template,
            before: p.before,
            during: p.during,
            new: p.new,
        }
    }
}

/// A detected deviation of one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Anomaly {
    /// Deterministic: derived from kind, service and the episode's start.
    pub id: String,
    #[schema(value_type = AnomalyKind)]
    pub kind: String,
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
    /// Explanation: observed vs expected and the threshold.
    pub message: String,
    /// A few matching log lines.
    pub samples: Vec<LogSample>,
    /// What was measured; absent on anomalies stored before it existed.
    pub measure: Option<Measure>,
    /// The log patterns that changed most, largest change first.
    pub explanation: Vec<PatternChange>,
}

impl From<anomalog_core::Anomaly> for Anomaly {
    fn from(a: anomalog_core::Anomaly) -> Anomaly {
        Anomaly {
            id: a.id,
            kind: a.kind.as_str().to_owned(),
            service: a.service,
            window_start: a.window_start,
            window_end: a.window_end,
            observed: a.observed,
            expected: a.expected,
            stddev: a.stddev,
            score: a.score,
            severity: a.severity.into(),
            status: a.status.into(),
            first_seen: a.first_seen,
            last_seen: a.last_seen,
            message: a.message,
            samples: a.samples.into_iter().map(LogSample::from).collect(),
            measure: a.measure.map(Measure::from),
            explanation: a.explanation.into_iter().map(PatternChange::from).collect(),
        }
    }
}

/// One service over the last 24 hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceSummary {
    pub service: String,
    pub first_seen: DateTime<Utc>,
    /// Start of the newest 10-second bucket with events.
    pub last_seen: DateTime<Utc>,
    pub total: u64,
    /// ERROR and FATAL events.
    pub errors: u64,
}

impl From<anomalog_store::ServiceSummary> for ServiceSummary {
    fn from(s: anomalog_store::ServiceSummary) -> ServiceSummary {
        ServiceSummary {
            service: s.service,
            first_seen: s.first_seen,
            last_seen: s.last_seen,
            total: s.total,
            errors: s.errors,
        }
    }
}
