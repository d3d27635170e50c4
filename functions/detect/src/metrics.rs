//! The detect metrics, recorded through the `metrics` facade (the hosting
//! binary installs the exporter).

/// Wall time of one pass (drain the queue, then detect), successful or not.
pub const PASS_DURATION: &str = "anomalog_detect_pass_duration_seconds";
/// Passes that failed (a storage error); unacknowledged entries stay queued.
pub const PASS_FAILURES: &str = "anomalog_detect_pass_failures_total";
/// Queue entries (ingest batches) persisted and acknowledged.
pub const ENTRIES_PROCESSED: &str = "anomalog_detect_queue_entries_processed_total";
/// Logs stored for the first time.
pub const EVENTS_PERSISTED: &str = "anomalog_detect_events_persisted_total";
/// Logs skipped as already stored (a re-delivered queue entry).
pub const EVENTS_DUPLICATE: &str = "anomalog_detect_events_duplicate_total";
/// Anomalies that opened (new, or open again after being resolved), by `kind`.
pub const ANOMALIES_OPENED: &str = "anomalog_detect_anomalies_opened_total";
/// Anomalies that resolved, by `kind`.
pub const ANOMALIES_RESOLVED: &str = "anomalog_detect_anomalies_resolved_total";

/// Services the last pass left for a later pass: each had a minute to push,
/// but the pass's budget of live states was spent (`PassLimits`). Above 0
/// for more than a few passes, a minute's spike and drop verdicts lag.
pub const LIVE_DEFERRED: &str = "anomalog_detect_live_states_deferred";

/// Registers the help text of every detect metric and makes the unlabelled
/// ones visible at 0 before the first pass.
pub fn describe() {
    metrics::describe_histogram!(
        PASS_DURATION,
        metrics::Unit::Seconds,
        "Duration of one detect pass (drain the queue, run the detectors)."
    );
    metrics::describe_counter!(PASS_FAILURES, "Detect passes that failed.");
    metrics::describe_gauge!(
        LIVE_DEFERRED,
        "Services whose minute the last detect pass left to a later pass (its budget of live states spent)."
    );
    metrics::describe_counter!(
        ENTRIES_PROCESSED,
        "Queue entries (ingest batches) persisted and acknowledged by detect."
    );
    metrics::describe_counter!(EVENTS_PERSISTED, "Log events stored by detect.");
    metrics::describe_counter!(
        EVENTS_DUPLICATE,
        "Log events skipped by detect because a re-delivered entry had stored them."
    );
    metrics::describe_counter!(ANOMALIES_OPENED, "Anomalies opened, by kind.");
    metrics::describe_counter!(ANOMALIES_RESOLVED, "Anomalies resolved, by kind.");
    for name in [
        PASS_FAILURES,
        ENTRIES_PROCESSED,
        EVENTS_PERSISTED,
        EVENTS_DUPLICATE,
    ] {
        metrics::counter!(name).increment(0);
    }
}

pub(crate) fn count(name: &'static str, n: u64) {
    if n > 0 {
        metrics::counter!(name).increment(n);
    }
}
