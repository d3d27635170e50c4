//! The ingest metrics, recorded through the `metrics` facade. The binary that
//! hosts the handler installs the exporter (Prometheus for `anomalog up`);
//! without one, recording costs next to nothing.

/// Requests answered, by HTTP `status` ("202", "400", "429", ...).
pub const REQUESTS: &str = "anomalog_ingest_requests_total";
/// Events durably queued (counted in 202 responses).
pub const EVENTS_ACCEPTED: &str = "anomalog_ingest_events_accepted_total";
/// Records refused because they were malformed (counted in 202 and 400 responses).
/// Events of batches answered from their `Idempotency-Key` (already queued).
pub const EVENTS_REPLAYED: &str = "anomalog_ingest_events_replayed_total";
pub const EVENTS_REJECTED: &str = "anomalog_ingest_events_rejected_total";
/// Parsed events refused by the per-client rate limit (429 responses).
pub const EVENTS_RATE_LIMITED: &str = "anomalog_ingest_events_rate_limited_total";
/// Request body bytes read, as sent on the wire (compressed or not).
pub const BODY_BYTES: &str = "anomalog_ingest_request_body_bytes_total";

/// Wall time of one queue append (the batch durably queued, or refused):
/// the embedded queue's commit, or Redis's answer (its fsync included with
/// `appendfsync always`).
pub const QUEUE_APPEND_DURATION: &str = "anomalog_ingest_queue_append_duration_seconds";

/// Registers the help text of every ingest metric and makes the unlabelled
/// counters visible at 0 before the first request.
pub fn describe() {
    metrics::describe_counter!(REQUESTS, "Ingest requests answered, by HTTP status.");
    metrics::describe_counter!(EVENTS_ACCEPTED, "Events durably queued by ingest.");
    metrics::describe_counter!(
        EVENTS_REJECTED,
        "Records refused by ingest because they were malformed."
    );
    metrics::describe_counter!(
        EVENTS_RATE_LIMITED,
        "Events refused by the per-client ingest rate limit (429)."
    );
    metrics::describe_counter!(
        BODY_BYTES,
        metrics::Unit::Bytes,
        "Ingest request body bytes read, as sent on the wire."
    );
    metrics::describe_counter!(
        EVENTS_REPLAYED,
        "Events of batches already queued under their Idempotency-Key, answered without queueing them again."
    );
    metrics::describe_histogram!(
        QUEUE_APPEND_DURATION,
        metrics::Unit::Seconds,
        "Duration of one ingest queue append (a batch durably queued, or refused)."
    );
    for name in [
        EVENTS_ACCEPTED,
        EVENTS_REPLAYED,
        EVENTS_REJECTED,
        EVENTS_RATE_LIMITED,
        BODY_BYTES,
    ] {
        metrics::counter!(name).increment(0);
    }
}

pub(crate) fn request(status: u16) {
    metrics::counter!(REQUESTS, "status" => status.to_string()).increment(1);
}

pub(crate) fn count(name: &'static str, n: usize) {
    if n > 0 {
        metrics::counter!(name).increment(u64::try_from(n).unwrap_or(u64::MAX));
    }
}
