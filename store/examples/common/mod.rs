//! What the store's benchmarks (`backend_bench`, `mongo_bound`) share: the
//! event they store and their statistics.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use anomalog_core::{Level, LogEvent};

/// The start of every benchmark's timeline.
pub fn start() -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000, 0)
        .single()
        .unwrap_or_default()
}

/// A realistic event `i` at `ts`: a host, an 80-odd byte request message and
/// two attributes.
pub fn event(i: usize, ts: DateTime<Utc>, service: String, level: Level) -> LogEvent {
    let mut attrs = std::collections::BTreeMap::new();
    attrs.insert(
        "http.status".to_owned(),
        serde_json::json!(200 + (i % 5) * 100),
    );
    attrs.insert(
        "request_id".to_owned(),
        serde_json::json!(format!("req-{i:08x}")),
    );
    LogEvent {
        host: Some(format!("web-{}", i % 4)),
        attrs,
        ..LogEvent::new(
            ts,
            service,
            level,
            format!(
                "GET /api/orders/{i} completed in {} ms for customer {}",
                i % 900,
                i % 97
            ),
        )
    }
}

/// The `p` quantile (0 to 1) of sorted durations; zero for none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// `n` per second over `elapsed`.
#[allow(clippy::cast_precision_loss)]
pub fn per_sec(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}
