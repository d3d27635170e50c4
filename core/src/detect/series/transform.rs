//! The transform under which a series' noise is most even across levels,
//! chosen once at the end of the warm-up.

use serde::{Deserialize, Serialize};

use crate::detect::stats::{median_in_place, median_spread_in_place};

/// Value transform chosen at the end of the warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transform {
    Identity,
    Sqrt,
    Log,
}

impl Transform {
    pub(super) fn apply(self, v: f64) -> f64 {
        match self {
            Transform::Identity => v,
            Transform::Sqrt => v.max(0.0).sqrt(),
            Transform::Log => v.max(f64::MIN_POSITIVE).ln(),
        }
    }

    /// The raw value of transformed value `t` (the inverse of `apply` on its
    /// range): how a level or threshold learnt on the transformed scale reads
    /// in the series' own unit.
    pub fn invert(self, t: f64) -> f64 {
        match self {
            Transform::Identity => t,
            Transform::Sqrt => t.max(0.0).powi(2),
            Transform::Log => t.exp(),
        }
    }
}

/// A series whose levels are too close to tell transforms apart is taken
/// as multiplicative when its noise has a long upper tail (Kelly's
/// skewness, from -1 to 1, at least `SKEW_MIN`; log-normal noise of sigma
/// 0.25 has 0.16) and is more symmetric by `SKEW_GAIN` on a log scale.
const SKEW_MIN: f64 = 0.1;
const SKEW_GAIN: f64 = 0.05;

/// The transform under which the noise around the local level is most even
/// between the low and the high half of the levels seen. When the levels seen
/// are too close to tell, counts (non-negative integers) get the square root,
/// as their noise grows like it; other positive series get the logarithm when
/// their noise is clearly more symmetric under it (log-normal noise has a
/// long upper tail), and anything else stays as it is.
pub(super) fn choose_transform(raw: &[f64], reference: usize) -> Transform {
    if raw.len() < 4 * reference || raw.iter().any(|&v| v < 0.0) {
        return Transform::Identity;
    }
    let counts = raw.iter().all(|&v| v.fract() == 0.0);
    let prior = if counts {
        Transform::Sqrt
    } else {
        Transform::Identity
    };
    let positive = raw.iter().all(|&v| v > 0.0);
    let candidates: &[Transform] = if positive {
        &[Transform::Identity, Transform::Sqrt, Transform::Log]
    } else {
        &[Transform::Identity, Transform::Sqrt]
    };
    let mut best: Option<(Transform, f64)> = None;
    for &t in candidates {
        let Some(u) = unevenness(raw, t) else {
            // Levels too close to tell: multiplicative noise (prices,
            // latencies) still shows in its skew, a long tail upwards
            // that the logarithm makes symmetric.
            if positive && !counts {
                let plain = skewness(raw, Transform::Identity, reference);
                let log = skewness(raw, Transform::Log, reference);
                if plain >= SKEW_MIN && log.abs() + SKEW_GAIN < plain {
                    return Transform::Log;
                }
            }
            return prior;
        };
        // The prior wins ties.
        let u = if t == prior { u - 0.1 } else { u };
        if best.is_none_or(|(_, b)| u < b) {
            best = Some((t, u));
        }
    }
    best.map_or(prior, |(t, _)| t)
}

/// |ln(spread in the high quarter / spread in the low quarter)| of the
/// noise (each value against the mean of its two neighbours, which cancels
/// local trends such as a daily ramp), under transform `t`; `None` when the
/// levels of the two quarters are too close to tell transforms apart.
fn unevenness(raw: &[f64], t: Transform) -> Option<f64> {
    let values: Vec<f64> = raw.iter().map(|&v| t.apply(v)).collect();
    let mut pairs: Vec<(f64, f64)> = (1..values.len().saturating_sub(1))
        .map(|i| {
            let level_raw = (raw[i - 1] + raw[i] + raw[i + 1]) / 3.0;
            (level_raw, values[i] - (values[i - 1] + values[i + 1]) / 2.0)
        })
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let quarter = pairs.len() / 4;
    let low = &pairs[..quarter];
    let high = &pairs[pairs.len() - quarter..];
    let level = |part: &[(f64, f64)]| {
        let mut l: Vec<f64> = part.iter().map(|p| p.0).collect();
        median_in_place(&mut l)
    };
    let (low_level, high_level) = (level(low), level(high));
    if !(low_level > 0.0 && high_level >= 2.0 * low_level) {
        return None;
    }
    let spread = |part: &[(f64, f64)]| {
        let mut r: Vec<f64> = part.iter().map(|p| p.1).collect();
        median_spread_in_place(&mut r).1
    };
    let (lo, hi) = (spread(low), spread(high));
    if lo <= 0.0 || hi <= 0.0 {
        return Some(if lo == hi { 0.0 } else { f64::INFINITY });
    }
    Some((hi / lo).ln().abs())
}

/// Kelly's skewness, (q90 + q10 - 2 q50) / (q90 - q10), of each value
/// against the median of the `reference` values around it, under `t`.
fn skewness(raw: &[f64], t: Transform, reference: usize) -> f64 {
    let values: Vec<f64> = raw.iter().map(|&v| t.apply(v)).collect();
    let half = (reference / 2).max(1);
    let mut residuals: Vec<f64> = Vec::new();
    let mut around: Vec<f64> = Vec::new();
    for i in half..values.len().saturating_sub(half) {
        around.clear();
        around.extend(values[i - half..=i + half].iter().copied());
        residuals.push(values[i] - median_in_place(&mut around));
    }
    if residuals.len() < 20 {
        return 0.0;
    }
    residuals.sort_by(f64::total_cmp);
    let n = residuals.len();
    let q = |p: f64| residuals[((n - 1) as f64 * p).round() as usize];
    let (lo, mid, hi) = (q(0.1), q(0.5), q(0.9));
    if hi <= lo {
        return 0.0;
    }
    (hi + lo - 2.0 * mid) / (hi - lo)
}
