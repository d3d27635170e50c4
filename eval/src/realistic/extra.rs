//! Tuning-only families of the realistic corpus (session 12): more kinds of
//! benign behaviour that a detector must not flag, drawn only in the tuning
//! split, so that a change that merely fits the first ten tuning families
//! shows up as a loss here. They never enter the held-out split, which stays
//! byte-identical to the split fixed before any tuning (its fingerprint is
//! checked below).

use super::{Ctx, FIVE_MIN, Family, family, gamma, overdispersed};
use crate::corpus::{Ar1, daily_profile, round};

/// The tuning-only families, drawn after [`super::FAMILIES`] (their random
/// streams follow on from its indices, so no earlier series changes).
pub(super) const TUNE_ONLY: &[Family] = &[
    family(
        "api_latency_spiky",
        "cloud",
        false,
        FIVE_MIN,
        (3500, 4500),
        api_latency_spiky,
    ),
    family(
        "queue_depth_regimes",
        "cloud",
        false,
        FIVE_MIN,
        (3500, 4500),
        queue_depth_regimes,
    ),
    family(
        "bursty_requests",
        "social",
        false,
        FIVE_MIN,
        (3800, 4400),
        bursty_requests,
    ),
    family(
        "regime_switching_no_anomaly",
        "artificial",
        false,
        FIVE_MIN,
        (3500, 4500),
        regime_switching_no_anomaly,
    ),
];

/// A Pareto factor of at least 1 with tail index `alpha` (smaller, heavier).
fn pareto(c: &mut Ctx, alpha: f64) -> f64 {
    let u = c.rng.f64().max(1e-12);
    u.powf(-1.0 / alpha)
}

/// An API's p95 latency in ms: log-normal with a daily rhythm and benign
/// heavy-tailed outliers (garbage collection, a cold cache: one to three
/// points several times the usual); anomalies are a lasting degradation
/// (a slow dependency) or requests timing out.
fn api_latency_spiky(c: &mut Ctx) {
    let median = c.u(40.0, 400.0);
    let sigma = c.u(0.08, 0.25);
    let amp = c.u(0.0, 0.4);
    let alpha = c.u(1.5, 3.0);
    let outlier_chance = c.u(0.003, 0.012);
    let count = c.int(1, 2);
    let at = c.onsets(count, 150);
    let mut plan = Vec::new();
    for &a in &at {
        let timeout = c.chance(0.4);
        let len = if timeout {
            c.int(4, 15)
        } else {
            c.int(40, 150)
        };
        let factor = if timeout {
            c.u(8.0, 20.0)
        } else {
            c.u(1.6, 2.5)
        };
        c.label(a, len, if timeout { "timeouts" } else { "degraded" });
        plan.push((a, len, factor));
    }
    let mut ar = Ar1::new(0.6);
    let mut outlier = 0usize;
    let mut outlier_factor = 1.0;
    for i in 0..c.rows {
        let level = median * (1.0 + amp * daily_profile(c.phase(i)));
        let mut v = level * (sigma * ar.next(&mut c.rng)).exp();
        if outlier == 0 && c.chance(outlier_chance) {
            outlier = c.int(1, 3);
            outlier_factor = 1.0 + 1.5 * pareto(c, alpha);
        }
        if outlier > 0 {
            v *= outlier_factor * (0.2 * c.n()).exp();
            outlier -= 1;
        }
        for &(a, len, factor) in &plan {
            if (a..a + len).contains(&i) {
                v *= factor;
            }
        }
        c.values[i] = round(v, 1);
    }
}

/// Lengths of the regimes of a two-level process: exponential dwell times
/// of mean `mean` points, at least `shortest`.
fn regimes(c: &mut Ctx, mean: f64, shortest: usize) -> Vec<bool> {
    let mut high = c.chance(0.5);
    let mut out = Vec::with_capacity(c.rows);
    while out.len() < c.rows {
        let u = c.rng.f64().max(1e-12);
        let dwell = ((-u.ln() * mean) as usize).max(shortest);
        for _ in 0..dwell {
            out.push(high);
        }
        high = !high;
    }
    out.truncate(c.rows);
    out
}

/// A work queue's depth while its producers switch between two load
/// regimes at irregular times (a batch import on or off, hours at a
/// time; normal); anomalies are the consumers stalling (the queue climbs
/// until they are restarted).
fn queue_depth_regimes(c: &mut Ctx) {
    let low = c.u(20.0, 200.0);
    let high = low * c.u(2.0, 4.0);
    let noise = c.u(0.05, 0.15);
    let mean_dwell = c.u(60.0, 200.0);
    let regime = regimes(c, mean_dwell, 12);
    let count = c.int(1, 2);
    let at = c.onsets(count, 120);
    let mut plan = Vec::new();
    for &a in &at {
        let len = c.int(30, 120);
        let climb = c.u(0.03, 0.1);
        c.label(a, len, "consumers_stall");
        plan.push((a, len, climb));
    }
    let mut ar = Ar1::new(0.8);
    let mut level = if regime[0] { high } else { low };
    for (i, &busy) in regime.iter().enumerate() {
        let target = if busy { high } else { low };
        // The queue follows its load within a few points.
        level += 0.4 * (target - level);
        let mut v = level * (1.0 + noise * ar.next(&mut c.rng));
        for &(a, len, climb) in &plan {
            if (a..a + len).contains(&i) {
                v += high * climb * (i - a + 1) as f64;
            }
        }
        c.values[i] = round(v.max(0.0), 0);
    }
}

/// Requests per five minutes from a few big API clients: overdispersed
/// counts with a daily rhythm and frequent short bursts (a client's batch
/// run; normal); anomalies are a retry storm (a burst that lasts) or a
/// client breaking (its traffic gone).
fn bursty_requests(c: &mut Ctx) {
    let mean = c.u(10.0, 80.0);
    let r = c.u(3.0, 10.0);
    let count = c.int(1, 2);
    let at = c.onsets(count, 80);
    let mut plan = Vec::new();
    for &a in &at {
        let storm = c.chance(0.5);
        let len = c.int(20, 80);
        let factor = if storm {
            c.u(4.0, 10.0)
        } else {
            c.u(0.02, 0.15)
        };
        c.label(
            a,
            len,
            if storm {
                "retry_storm"
            } else {
                "client_broken"
            },
        );
        plan.push((a, len, factor));
    }
    let burst_chance = 1.0 / (0.4 * c.day() as f64);
    let mut burst = 0usize;
    let mut burst_height = 1.0;
    for i in 0..c.rows {
        let mut rate = mean * (0.4 + daily_profile(c.phase(i)));
        if burst == 0 && c.chance(burst_chance) {
            burst = c.int(1, 6);
            burst_height = 1.0 + gamma(&mut c.rng, 1.5) * 1.5;
        }
        if burst > 0 {
            rate *= burst_height;
            burst -= 1;
        }
        for &(a, len, factor) in &plan {
            if (a..a + len).contains(&i) {
                rate *= factor;
            }
        }
        c.values[i] = overdispersed(&mut c.rng, rate, r);
    }
}

/// A service switching between two levels at irregular times (a failover
/// pair, a feature flag, a cache on and off), hours in each, with noise:
/// nothing to find.
fn regime_switching_no_anomaly(c: &mut Ctx) {
    let low = c.u(5.0, 50.0);
    let high = low + c.u(10.0, 60.0);
    let sd = c.u(0.3, 2.0);
    let mean_dwell = c.u(40.0, 300.0);
    let regime = regimes(c, mean_dwell, 6);
    let mut ar = Ar1::new(0.5);
    for (i, &up) in regime.iter().enumerate() {
        let v = if up { high } else { low };
        c.values[i] = round(v + sd * ar.next(&mut c.rng), 2);
    }
}

/// Whether a series (`FAMILY-SEED`) is of a tuning-only family.
pub fn is_tune_only(series_name: &str) -> bool {
    let family = series_name.rsplit_once('-').map_or(series_name, |(f, _)| f);
    TUNE_ONLY.iter().any(|f| f.name == family)
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use super::is_tune_only;

    /// FNV-1a over everything a series holds.
    fn fingerprint(series: &[LabelledSeries]) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |bytes: &[u8]| {
            for &b in bytes {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        for s in series {
            eat(s.name.as_bytes());
            eat(&s.bucket_secs.to_le_bytes());
            eat(&s.start.timestamp().to_le_bytes());
            for v in &s.values {
                eat(&v.to_bits().to_le_bytes());
            }
            for slot in &s.slots {
                eat(&slot.to_le_bytes());
            }
            for a in &s.anomalies {
                eat(&a.onset.to_le_bytes());
                eat(&a.rows.to_le_bytes());
                eat(a.kind.as_bytes());
            }
        }
        h
    }

    /// The held-out split is the one fixed before any tuning: adding tuning
    /// families must not change a byte of it.
    #[test]
    fn the_held_out_split_is_unchanged() {
        let holdout = generate(Split::Holdout);
        assert_eq!(holdout.len(), 44);
        assert_eq!(
            fingerprint(&holdout),
            0x474a_f5ac_d016_25be,
            "{:#x}",
            fingerprint(&holdout)
        );
        // So are the first twenty tuning series, drawn before the families
        // of this module.
        let tune = generate(Split::Tune);
        assert_eq!(
            fingerprint(&tune[..20]),
            0x4cdb_62da_4984_b9f8,
            "{:#x}",
            fingerprint(&tune[..20])
        );
        assert!(tune[20..].iter().all(|s| is_tune_only(&s.name)));
    }
}
