//! The per-client ingest rate limit: a token bucket of events per client (the
//! API key, or the client IP address when authentication is off), refilled at
//! a steady rate (governor's GCRA, which behaves as a token bucket).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

use anomalog_core::config::IngestConfig;

/// Whose bucket a request draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// The presented key's identity ([`crate::auth::KeyId`], from its digest:
    /// the key itself is a secret and is not kept twice).
    ApiKey(usize),
    /// The peer address, when authentication is off.
    Peer(IpAddr),
    /// Neither is known (no connection info): one shared bucket.
    Anonymous,
}

/// Why a batch was not admitted.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Over the rate now; the batch fits after `retry_after`.
    Wait { retry_after: Duration },
    /// The batch is larger than the burst and can never be admitted whole.
    LargerThanBurst { burst: u32 },
}

/// Forget idle clients every this many checks, so the table of buckets stays
/// bounded by the clients seen recently.
const CLEAN_EVERY: u64 = 4096;

/// Per-client token buckets of events.
pub struct IngestRateLimit {
    limiter: RateLimiter<ClientKey, HashMapStateStore<ClientKey>, DefaultClock>,
    clock: DefaultClock,
    burst: u32,
    per_sec: f64,
    checks: AtomicU64,
}

impl IngestRateLimit {
    /// The limit `config` asks for, or `None` when it is off.
    pub fn from_config(config: &IngestConfig) -> Option<IngestRateLimit> {
        if !config.rate_limited() {
            return None;
        }
        let burst = NonZeroU32::new(config.rate_limit_burst)?;
        let period = Duration::from_secs_f64(1.0 / config.rate_limit_events_per_sec);
        let quota = Quota::with_period(period)?.allow_burst(burst);
        let clock = DefaultClock::default();
        Some(IngestRateLimit {
            limiter: RateLimiter::hashmap_with_clock(quota, clock.clone()),
            clock,
            burst: burst.get(),
            per_sec: config.rate_limit_events_per_sec,
            checks: AtomicU64::new(0),
        })
    }

    /// Sustained events per second per client.
    pub fn per_sec(&self) -> f64 {
        self.per_sec
    }

    /// Bucket size in events.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Takes `events` tokens from `client`'s bucket, or takes none and says why.
    pub fn admit(&self, client: &ClientKey, events: usize) -> Result<(), Refusal> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % CLEAN_EVERY == CLEAN_EVERY - 1 {
            self.limiter.retain_recent();
        }
        let Some(n) = u32::try_from(events).ok().and_then(NonZeroU32::new) else {
            return if events == 0 {
                Ok(())
            } else {
                Err(Refusal::LargerThanBurst { burst: self.burst })
            };
        };
        match self.limiter.check_key_n(client, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(Refusal::Wait {
                retry_after: not_until.wait_time_from(self.clock.now()),
            }),
            Err(_) => Err(Refusal::LargerThanBurst { burst: self.burst }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(per_sec: f64, burst: u32) -> IngestRateLimit {
        IngestRateLimit::from_config(&IngestConfig {
            rate_limit_events_per_sec: per_sec,
            rate_limit_burst: burst,
            ..IngestConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn off_by_default() {
        assert!(IngestRateLimit::from_config(&IngestConfig::default()).is_none());
    }

    #[test]
    fn a_burst_is_admitted_then_refused_with_the_wait_for_the_missing_tokens() {
        let l = limit(1.0, 10);
        let key = ClientKey::ApiKey(0);
        assert_eq!(l.admit(&key, 10), Ok(()));
        let Err(Refusal::Wait { retry_after }) = l.admit(&key, 3) else {
            panic!("expected a wait");
        };
        // Three tokens at one per second: about three seconds.
        assert!(
            retry_after > Duration::from_millis(2500) && retry_after <= Duration::from_secs(3),
            "{retry_after:?}"
        );
        assert_eq!(
            l.admit(&ClientKey::ApiKey(1), 10),
            Ok(()),
            "other keys have their own bucket"
        );
    }

    #[test]
    fn a_batch_larger_than_the_burst_is_never_admitted() {
        let l = limit(100.0, 5);
        assert_eq!(
            l.admit(&ClientKey::Anonymous, 6),
            Err(Refusal::LargerThanBurst { burst: 5 })
        );
        assert_eq!(
            l.admit(&ClientKey::Anonymous, 5),
            Ok(()),
            "and it took no tokens"
        );
    }
}
