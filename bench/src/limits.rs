//! The limits the ingest numbers are judged against: the in-process parse
//! rate of the very payload the load generator sends.

use std::time::{Duration, Instant};

use anomalog_core::parse::{BodyFormat, ParseDefaults, ParseLimits, parse_body};
use chrono::{DateTime, Utc};

use crate::BenchError;
use crate::workload::Batches;

/// The defaults a request without `?service=` gets, received at `now`.
pub fn parse_defaults(now: DateTime<Utc>) -> ParseDefaults {
    ParseDefaults {
        service: None,
        host: None,
        source: None,
        received_at: now,
    }
}

/// Rate of `anomalog_core::parse::parse_body` on one thread.
#[derive(Debug, Clone, Copy)]
pub struct ParseRate {
    pub events_per_sec: f64,
    pub mib_per_sec: f64,
    pub batches: u64,
}

/// Parses the batches round-robin on this thread for at least `for_at_least`;
/// every event must parse (a rejection means the payload is not what the
/// server gets, and the number would be meaningless).
pub fn parse_rate(batches: &Batches, for_at_least: Duration) -> Result<ParseRate, BenchError> {
    let limits = ParseLimits::default();
    let defaults = parse_defaults(Utc::now());
    let start = Instant::now();
    let (mut events, mut bytes, mut n) = (0u64, 0u64, 0u64);
    while start.elapsed() < for_at_least {
        let body = &batches.bodies[(n % batches.bodies.len().max(1) as u64) as usize];
        let parsed = parse_body(BodyFormat::Json, body, &defaults, &limits)
            .map_err(|e| BenchError::Usage(format!("the payload does not parse: {e}")))?;
        if let Some(r) = parsed.rejections.first() {
            return Err(BenchError::Usage(format!(
                "the payload has a rejected record: {}",
                r.reason
            )));
        }
        events += parsed.events.len() as u64;
        bytes += body.len() as u64;
        n += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(ParseRate {
        events_per_sec: events as f64 / secs,
        mib_per_sec: bytes as f64 / (1024.0 * 1024.0) / secs,
        batches: n,
    })
}
