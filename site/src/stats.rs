//! Plain arithmetic behind the charts: scales, the expected band, number
//! formatting. No DOM here, so it is unit-tested on the host.

/// The smallest "nice" number (1, 2, 2.5 or 5 times a power of ten) at least `v`.
pub fn nice_ceil(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        let candidate = m * power;
        if candidate >= v * (1.0 - 1e-9) {
            return candidate;
        }
    }
    10.0 * power
}

/// The top of an axis holding values up to `max`, and its gridlines: the
/// smallest nice step that covers `max` in at most 5 steps, so the top stays
/// close to the data (45 -> 0..50 by 10, 37 -> 0..40 by 10, 3 -> 0..3 by 1).
pub fn axis(max: f64) -> (f64, Vec<f64>) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let step = nice_ceil(max / 5.0);
    let steps = (max / step - 1e-9).ceil().max(1.0) as u32;
    let ticks: Vec<f64> = (0..=steps).map(|i| step * f64::from(i)).collect();
    (step * f64::from(steps), ticks)
}

/// `987`, `12.3k`, `4.5M`.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        trim(format!("{:.1}", v / 1e6)) + "M"
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        trim(format!("{:.1}", v / 1e3)) + "k"
    } else if a >= 10.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        trim(format!("{v:.1}"))
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A ratio as a percentage: `0%`, `0.4%`, `12%`.
pub fn percent(ratio: f64) -> String {
    let p = ratio * 100.0;
    if p == 0.0 {
        "0%".to_owned()
    } else if p < 10.0 {
        format!("{}%", trim(format!("{p:.1}")))
    } else {
        format!("{p:.0}%")
    }
}

/// Parameters of the expected band of a rate series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BandConfig {
    /// Trailing buckets the moving average covers (the current one excluded).
    pub window: usize,
    /// Buckets with data needed before a band is drawn.
    pub min_points: usize,
    /// Width of the band in standard deviations.
    pub k: f64,
    /// Floor on the deviation, so a flat history still has a visible band.
    pub floor: f64,
}

impl Default for BandConfig {
    fn default() -> Self {
        BandConfig {
            window: 12,
            min_points: 4,
            k: 3.0,
            floor: 0.005,
        }
    }
}

/// The expected band at one bucket: moving average and its `k`-deviation limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

/// The expected band of each bucket of `values` (`None` where a bucket had no
/// events): mean and deviation of the previous `window` buckets that had data,
/// the bucket itself excluded, so a spike stands out against its own past.
/// `None` until `min_points` buckets of history exist. Low is clamped at 0.
pub fn bands(values: &[Option<f64>], cfg: &BandConfig) -> Vec<Option<Band>> {
    (0..values.len())
        .map(|i| {
            let history: Vec<f64> = values[..i]
                .iter()
                .rev()
                .flatten()
                .take(cfg.window)
                .copied()
                .collect();
            if history.len() < cfg.min_points.max(1) {
                return None;
            }
            let n = history.len() as f64;
            let mean = history.iter().sum::<f64>() / n;
            let var = history.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            let dev = var.sqrt().max(cfg.floor);
            Some(Band {
                mean,
                low: (mean - cfg.k * dev).max(0.0),
                high: mean + cfg.k * dev,
            })
        })
        .collect()
}

/// Error ratio per bucket: `errors / total`, `None` for empty buckets.
pub fn ratios(errors_and_totals: impl IntoIterator<Item = (u64, u64)>) -> Vec<Option<f64>> {
    errors_and_totals
        .into_iter()
        .map(|(e, t)| (t > 0).then(|| e as f64 / t as f64))
        .collect()
}

/// Sums over a trailing window of `width` buckets, the bucket itself included
/// (fewer at the start): smooths a ratio of small counts.
pub fn trailing_sums(pairs: &[(u64, u64)], width: usize) -> Vec<(u64, u64)> {
    let width = width.max(1);
    let mut out = Vec::with_capacity(pairs.len());
    let (mut a, mut b) = (0u64, 0u64);
    for (i, &(x, y)) in pairs.iter().enumerate() {
        a += x;
        b += y;
        if i >= width {
            a -= pairs[i - width].0;
            b -= pairs[i - width].1;
        }
        out.push((a, b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceil_rounds_up_to_1_2_2_5_5() {
        assert_eq!(nice_ceil(0.7), 1.0);
        assert_eq!(nice_ceil(1.0), 1.0);
        assert_eq!(nice_ceil(1.2), 2.0);
        assert_eq!(nice_ceil(2.2), 2.5);
        assert_eq!(nice_ceil(3.0), 5.0);
        assert_eq!(nice_ceil(7.0), 10.0);
        assert_eq!(nice_ceil(120.0), 200.0);
        assert_eq!(nice_ceil(0.0), 1.0);
    }

    #[test]
    fn axis_covers_the_maximum_closely_in_nice_steps() {
        assert_eq!(axis(45.0), (50.0, vec![0.0, 10.0, 20.0, 30.0, 40.0, 50.0]));
        assert_eq!(axis(37.0), (40.0, vec![0.0, 10.0, 20.0, 30.0, 40.0]));
        assert_eq!(axis(80.0), (80.0, vec![0.0, 20.0, 40.0, 60.0, 80.0]));
        assert_eq!(axis(3.0), (3.0, vec![0.0, 1.0, 2.0, 3.0]));
        assert!((axis(0.3).0 - 0.3).abs() < 1e-9);
        let (top, ticks) = axis(0.0);
        assert!(top > 0.0 && ticks.len() >= 2);
    }

    #[test]
    fn numbers_read_like_a_person_writes_them() {
        assert_eq!(compact(987.0), "987");
        assert_eq!(compact(1234.0), "1.2k");
        assert_eq!(compact(12_345.0), "12k");
        assert_eq!(compact(2_500_000.0), "2.5M");
        assert_eq!(compact(0.5), "0.5");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.0042), "0.4%");
        assert_eq!(percent(0.5), "50%");
    }

    #[test]
    fn the_band_follows_the_trailing_mean_and_excludes_the_current_bucket() {
        let cfg = BandConfig {
            window: 3,
            min_points: 3,
            k: 2.0,
            floor: 0.0,
        };
        let values = [Some(0.1), Some(0.1), Some(0.1), Some(0.9), Some(0.1)];
        let b = bands(&values, &cfg);
        assert_eq!(b[..3], [None, None, None]);
        let at_spike = b[3].expect("band after three points");
        assert!((at_spike.mean - 0.1).abs() < 1e-12);
        assert!(
            (at_spike.high - 0.1).abs() < 1e-12,
            "flat history, no floor"
        );
        assert!(values[3].expect("value") > at_spike.high);
        let after = b[4].expect("band");
        assert!(
            after.mean > 0.3 && after.high > 0.9,
            "the spike widens the band"
        );
    }

    #[test]
    fn empty_buckets_are_skipped_not_counted_as_zero() {
        let cfg = BandConfig {
            window: 2,
            min_points: 2,
            k: 1.0,
            floor: 0.01,
        };
        let values = [Some(0.5), None, None, Some(0.5), Some(0.5)];
        let b = bands(&values, &cfg);
        assert_eq!(b[3], None, "only one bucket with data before index 3");
        let band = b[4].expect("two points of history");
        assert!((band.mean - 0.5).abs() < 1e-12);
        assert!((band.high - 0.51).abs() < 1e-12, "deviation floor applies");
        assert!((band.low - 0.49).abs() < 1e-12);
    }

    #[test]
    fn trailing_sums_cover_the_window_and_the_bucket_itself() {
        let pairs = [(1, 2), (0, 3), (2, 2), (0, 0)];
        assert_eq!(
            trailing_sums(&pairs, 2),
            vec![(1, 2), (1, 5), (2, 5), (2, 2)]
        );
        assert_eq!(trailing_sums(&pairs, 1), pairs.to_vec());
        assert_eq!(trailing_sums(&pairs, 0), pairs.to_vec());
    }

    #[test]
    fn ratios_are_none_for_empty_buckets() {
        assert_eq!(
            ratios([(1, 4), (0, 0), (0, 5)]),
            vec![Some(0.25), None, Some(0.0)]
        );
    }
}
