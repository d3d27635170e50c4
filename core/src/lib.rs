//! anomalog-core: the pure domain of anomalog.
//!
//! Log events and their parsing, rollup buckets, detectors and anomalies, and the
//! configuration type every binary shares. This crate performs no I/O: no files,
//! no network, no clocks (callers pass `now`), no async runtime.

pub mod config;
pub mod detect;
pub mod incident;
pub mod model;
pub mod parse;
pub mod pattern;
pub mod rollup;
pub mod shippers;

pub use config::Config;
pub use model::{
    Anomaly, AnomalyKind, AnomalyStatus, Level, LogEvent, LogSample, Measure, Metric,
    PatternChange, Severity, StoredLog, Unit,
};
