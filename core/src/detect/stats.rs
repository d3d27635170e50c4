//! Small statistics shared by the detectors: location and spread of a sample
//! (classic or robust) and the mapping of a deviation onto a score in [0, 1].

use serde::{Deserialize, Serialize};

/// Consistency constant that makes the median absolute deviation estimate the
/// standard deviation of normally distributed data.
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// Consistency constant of the mean absolute deviation (sqrt(pi / 2)).
pub const MEAN_AD_TO_SIGMA: f64 = 1.2533;

/// How a baseline summarises its trailing window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineMethod {
    /// Mean and standard deviation: the classic z-score.
    Mean,
    /// Median and median absolute deviation: one wild bucket in the window
    /// moves neither, so an earlier incident does not hide the next one.
    #[default]
    Median,
}

/// Expected value and spread of a trailing window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub expected: f64,
    /// Standard deviation (or its robust estimate), before any floor.
    pub spread: f64,
    /// Values the baseline was computed from.
    pub n: usize,
}

impl Baseline {
    /// Summarises `values` (at least one) with `method`. `scratch` is reused
    /// between calls to avoid allocating.
    pub fn of(values: &[f64], method: BaselineMethod, scratch: &mut Vec<f64>) -> Option<Baseline> {
        if values.is_empty() {
            return None;
        }
        let (expected, spread) = match method {
            BaselineMethod::Mean => mean_std(values),
            BaselineMethod::Median => median_spread(values, scratch),
        };
        Some(Baseline {
            expected,
            spread,
            n: values.len(),
        })
    }
}

/// Mean and (population) standard deviation.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Median of `values`, using `scratch` as working space.
pub fn median(values: &[f64], scratch: &mut Vec<f64>) -> f64 {
    scratch.clear();
    scratch.extend_from_slice(values);
    median_in_place(scratch)
}

/// Median of `buf`, reordering it. 0 for an empty slice.
pub fn median_in_place(buf: &mut [f64]) -> f64 {
    let n = buf.len();
    if n == 0 {
        return 0.0;
    }
    let mid = n / 2;
    let (lower, upper_mid, _) = buf.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper_mid;
    if n % 2 == 1 {
        upper
    } else {
        let lower_max = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lower_max + upper) / 2.0
    }
}

/// Median and a robust spread: the scaled median absolute deviation; when
/// more than half the values sit on the median (sparse or quantised series,
/// where the MAD is zero although the series does vary), the scaled 75th
/// percentile of the absolute deviations, and failing that the scaled mean
/// absolute deviation.
pub fn median_spread(values: &[f64], scratch: &mut Vec<f64>) -> (f64, f64) {
    scratch.clear();
    scratch.extend_from_slice(values);
    median_spread_in_place(scratch)
}

/// Consistency constant of the 75th percentile of absolute deviations.
const Q75_AD_TO_SIGMA: f64 = 1.0 / 1.1503;

/// [`median_spread`] of `buf`, reordering and overwriting it.
pub fn median_spread_in_place(buf: &mut [f64]) -> (f64, f64) {
    let med = median_in_place(buf);
    for v in buf.iter_mut() {
        *v = (*v - med).abs();
    }
    let mean_ad = buf.iter().sum::<f64>() / buf.len().max(1) as f64;
    let mad = median_in_place(buf);
    if mad > 0.0 {
        return (med, MAD_TO_SIGMA * mad);
    }
    let q75 = if buf.is_empty() {
        0.0
    } else {
        let k = (buf.len() * 3 / 4).min(buf.len() - 1);
        *buf.select_nth_unstable_by(k, f64::total_cmp).1
    };
    if q75 > 0.0 {
        (med, Q75_AD_TO_SIGMA * q75)
    } else {
        (med, MEAN_AD_TO_SIGMA * mean_ad)
    }
}

/// Maps a deviation, in units of its verdict threshold, onto [0, 1]:
/// 0 for no deviation (or one in the other direction), exactly 0.5 at the
/// threshold, 0.94 at twice the threshold, approaching 1 beyond.
///
/// `1 - 2^(-r^2)` rises smoothly (a quarter of the threshold already scores
/// 0.04, half of it 0.16), so the score is useful for tuning, and a verdict is
/// always `score >= 0.5`.
pub fn score_from_ratio(ratio: f64) -> f64 {
    if !ratio.is_finite() {
        return if ratio > 0.0 { 1.0 } else { 0.0 };
    }
    if ratio <= 0.0 {
        return 0.0;
    }
    (1.0 - (-(ratio * ratio) * std::f64::consts::LN_2).exp()).clamp(0.0, 1.0)
}

/// The inverse of [`score_from_ratio`] on (0, 1): the ratio with that score.
pub fn ratio_from_score(score: f64) -> f64 {
    if score <= 0.0 {
        return 0.0;
    }
    if score >= 1.0 {
        return f64::INFINITY;
    }
    (-(1.0 - score).ln() / std::f64::consts::LN_2).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_samples() {
        let mut s = Vec::new();
        assert_eq!(median(&[3.0, 1.0, 2.0], &mut s), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0], &mut s), 2.5);
        assert_eq!(median(&[], &mut s), 0.0);
    }

    #[test]
    fn robust_spread_ignores_one_outlier() {
        let mut s = Vec::new();
        let (med, spread) = median_spread(&[10.0, 11.0, 9.0, 10.0, 1000.0], &mut s);
        assert_eq!(med, 10.0);
        assert!((spread - MAD_TO_SIGMA).abs() < 1e-9, "{spread}");
        let (_, std) = mean_std(&[10.0, 11.0, 9.0, 10.0, 1000.0]);
        assert!(std > 300.0);
    }

    #[test]
    fn robust_spread_falls_back_to_the_upper_quartile_then_the_mean() {
        let mut s = Vec::new();
        // 10 on the median, 8 two away, one far outlier: MAD 0, Q75 2.
        let mut values = vec![1.0; 10];
        values.extend([3.0; 8]);
        values.push(40.0);
        let (med, spread) = median_spread(&values, &mut s);
        assert_eq!(med, 1.0);
        assert!((spread - 2.0 / 1.1503).abs() < 1e-9, "{spread}");
    }

    #[test]
    fn robust_spread_of_a_sparse_series_is_not_zero() {
        let mut s = Vec::new();
        let mut values = vec![0.0; 18];
        values.extend([1.0, 1.0]);
        let (med, spread) = median_spread(&values, &mut s);
        assert_eq!(med, 0.0);
        assert!((spread - MEAN_AD_TO_SIGMA * 0.1).abs() < 1e-9);
    }

    #[test]
    fn score_is_half_at_the_threshold_and_monotonic() {
        assert_eq!(score_from_ratio(0.0), 0.0);
        assert_eq!(score_from_ratio(-3.0), 0.0);
        assert!((score_from_ratio(1.0) - 0.5).abs() < 1e-12);
        assert!((score_from_ratio(2.0) - 0.9375).abs() < 1e-12);
        assert_eq!(score_from_ratio(f64::INFINITY), 1.0);
        let mut last = 0.0;
        for i in 1..100 {
            let s = score_from_ratio(i as f64 / 10.0);
            assert!(s >= last && s <= 1.0);
            last = s;
        }
        assert!((ratio_from_score(score_from_ratio(1.7)) - 1.7).abs() < 1e-9);
    }
}
