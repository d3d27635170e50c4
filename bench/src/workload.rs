//! The payload: realistic JSON batches of ~250-byte events over N services.
//!
//! Batches are generated once, before the clock starts, and cycled: the load
//! generator must spend its CPU on sending, not on formatting (the server
//! shares the machine's cores with it).

use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// What the batches look like.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Events per batch (one request carries one batch).
    pub events_per_batch: usize,
    /// Distinct services the events are spread over (`svc-00`, `svc-01`...).
    pub services: usize,
    /// One event in this many is an ERROR (0: none).
    pub error_every: usize,
    /// `None`: events carry no timestamp, so the server stamps them with the
    /// time it receives them (real-time traffic). `Some(span)`: events carry
    /// timestamps spread evenly over the `span` before `now`.
    pub spread: Option<Duration>,
    /// Distinct batches generated and cycled.
    pub pool: usize,
    /// Seed of the generator (same seed, same batches).
    pub seed: u64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            events_per_batch: 1000,
            services: 20,
            error_every: 50,
            spread: None,
            pool: 32,
            seed: 7,
        }
    }
}

/// Pre-serialized request bodies and their sizes.
#[derive(Debug, Clone)]
pub struct Batches {
    /// JSON array bodies, each of `events_per_batch` events.
    pub bodies: Vec<Body>,
    pub events_per_batch: usize,
}

/// A shared, immutable request body (cheap to hand to concurrent senders).
pub type Body = bytes::Bytes;

impl Batches {
    /// Mean body size in bytes.
    pub fn mean_body_bytes(&self) -> f64 {
        if self.bodies.is_empty() {
            return 0.0;
        }
        self.bodies.iter().map(|b| b.len() as f64).sum::<f64>() / self.bodies.len() as f64
    }

    /// Mean serialized event size in bytes (commas and brackets included).
    pub fn mean_event_bytes(&self) -> f64 {
        self.mean_body_bytes() / self.events_per_batch.max(1) as f64
    }
}

const PATHS: &[&str] = &[
    "/api/v1/orders",
    "/api/v1/cart/items",
    "/api/v1/users/profile",
    "/api/v1/payments/authorize",
    "/api/v1/search",
    "/healthz",
];
const METHODS: &[&str] = &["GET", "GET", "GET", "POST", "PUT"];
const REGIONS: &[&str] = &["eu-west-1", "us-east-1", "ap-south-1"];
const ERRORS: &[&str] = &[
    "timeout calling payments-gateway after 5000ms",
    "connection refused by inventory-db:5432",
    "upstream returned 503 Service Unavailable",
    "failed to decode response body: unexpected end of JSON input",
];

impl Workload {
    /// Generates the pool of batches; timestamps (when spread) end at `now`.
    pub fn generate(&self, now: DateTime<Utc>) -> Batches {
        let mut rng = fastrand::Rng::with_seed(self.seed);
        let total = self.pool.max(1) * self.events_per_batch.max(1);
        let mut bodies = Vec::with_capacity(self.pool.max(1));
        let mut n = 0usize;
        for _ in 0..self.pool.max(1) {
            let mut body = String::with_capacity(self.events_per_batch * 260 + 2);
            body.push('[');
            for i in 0..self.events_per_batch.max(1) {
                if i > 0 {
                    body.push(',');
                }
                let ts = self.spread.map(|span| {
                    // Evenly over the span, oldest first, so every bucket of
                    // the range gets events.
                    let back = span.num_milliseconds() * (total - n) as i64 / total as i64;
                    now - Duration::milliseconds(back)
                });
                self.event(&mut rng, n, ts, &mut body);
                n += 1;
            }
            body.push(']');
            bodies.push(Body::from(body.into_bytes()));
        }
        Batches {
            bodies,
            events_per_batch: self.events_per_batch.max(1),
        }
    }

    fn event(
        &self,
        rng: &mut fastrand::Rng,
        n: usize,
        ts: Option<DateTime<Utc>>,
        out: &mut String,
    ) {
        use std::fmt::Write as _;
        let service = rng.usize(..self.services.max(1));
        let host = rng.u8(1..40);
        let error = self.error_every > 0 && n % self.error_every == self.error_every - 1;
        out.push('{');
        if let Some(ts) = ts {
            let _ = write!(
                out,
                "\"ts\":\"{}\",",
                ts.to_rfc3339_opts(SecondsFormat::Millis, true)
            );
        }
        let _ = write!(
            out,
            "\"service\":\"svc-{service:02}\",\"host\":\"ip-10-0-{}-{host}\",",
            service % 8
        );
        let path = PATHS[rng.usize(..PATHS.len())];
        let trace = rng.u64(..);
        if error {
            let what = ERRORS[rng.usize(..ERRORS.len())];
            let _ = write!(
                out,
                "\"level\":\"ERROR\",\"message\":\"{what} path={path} order={} attempt={} trace={trace:016x}\",",
                rng.u32(10_000..99_999),
                rng.u8(1..4)
            );
        } else {
            let method = METHODS[rng.usize(..METHODS.len())];
            let _ = write!(
                out,
                "\"level\":\"INFO\",\"message\":\"{method} {path}/{} 200 in {}ms user=u-{} trace={trace:016x}\",",
                rng.u32(1000..99_999),
                rng.u16(1..900),
                rng.u32(1000..9999)
            );
        }
        let _ = write!(
            out,
            "\"attrs\":{{\"region\":\"{}\",\"version\":\"1.{}.{}\",\"pod\":\"svc-{service:02}-{:08x}-{:05x}\",\"env\":\"prod\"}}}}",
            REGIONS[service % REGIONS.len()],
            service % 5,
            rng.u8(0..10),
            rng.u32(..),
            rng.u32(..0xfffff)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_about_250_bytes_and_parse_without_rejections() {
        let stamped = Workload {
            events_per_batch: 200,
            pool: 2,
            spread: Some(Duration::hours(24)),
            ..Workload::default()
        };
        let unstamped = Workload {
            spread: None,
            ..stamped.clone()
        };
        let size = unstamped.generate(Utc::now()).mean_event_bytes();
        assert!((230.0..260.0).contains(&size), "mean event size {size}");
        let w = stamped;
        let batches = w.generate(Utc::now());
        let size = batches.mean_event_bytes();
        assert!(
            (260.0..300.0).contains(&size),
            "mean stamped event size {size}"
        );
        for body in &batches.bodies {
            let parsed = anomalog_core::parse::parse_body(
                anomalog_core::parse::BodyFormat::Json,
                body,
                &crate::limits::parse_defaults(Utc::now()),
                &anomalog_core::parse::ParseLimits::default(),
            )
            .expect("a generated batch parses");
            assert_eq!(parsed.events.len(), 200);
            assert!(parsed.rejections.is_empty());
            let errors = parsed
                .events
                .iter()
                .filter(|e| e.level == anomalog_core::Level::Error)
                .count();
            assert_eq!(errors, 200 / w.error_every);
        }
    }
}
