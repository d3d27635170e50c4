//! The value-series detector (`backtest --series`) on synthetic series:
//! single outlier, step, ramp, periodic, noisy, sparse, a long flat zero
//! period, a drop to zero, a dip, the warm-up and the choice of transform.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use anomalog_core::detect::series::{
    PointVerdict, SeriesConfig, SeriesDetector, Transform, score_series,
};

const FIVE_MIN: i64 = 300;

/// Deterministic standard normal noise.
fn noise(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..n)
        .map(|_| {
            let u1 = rng.f64().max(f64::MIN_POSITIVE);
            let u2 = rng.f64();
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect()
}

fn flagged(verdicts: &[PointVerdict]) -> Vec<usize> {
    verdicts
        .iter()
        .enumerate()
        .filter(|(_, v)| v.anomaly)
        .map(|(i, _)| i)
        .collect()
}

fn run(values: &[f64]) -> Vec<PointVerdict> {
    score_series(values, FIVE_MIN, &SeriesConfig::default())
}

#[test]
fn a_single_outlier_is_flagged_alone() {
    let mut values: Vec<f64> = noise(1, 1000).iter().map(|n| 100.0 + n).collect();
    values[600] = 130.0;
    let verdicts = run(&values);
    assert_eq!(flagged(&verdicts), vec![600]);
    assert!(verdicts[600].score > 0.99, "{:?}", verdicts[600]);
    assert!(verdicts.iter().all(|v| (0.0..=1.0).contains(&v.score)));
}

#[test]
fn nothing_is_judged_during_the_warmup() {
    let mut values: Vec<f64> = noise(2, 300).iter().map(|n| 10.0 + n).collect();
    values[50] = 1000.0;
    let verdicts = run(&values);
    let warmup = SeriesConfig::default().warmup;
    assert!(
        verdicts[..warmup]
            .iter()
            .all(|v| v.score == 0.0 && !v.anomaly)
    );
    assert!(flagged(&verdicts).is_empty());
}

#[test]
fn a_step_is_reported_at_its_start_and_then_becomes_the_new_level() {
    let values: Vec<f64> = noise(3, 1500)
        .iter()
        .enumerate()
        .map(|(i, n)| if i < 500 { 50.0 } else { 70.0 } + 2.0 * n)
        .collect();
    let verdicts = run(&values);
    let hits = flagged(&verdicts);
    assert_eq!(hits.first(), Some(&500), "{hits:?}");
    assert!(hits.iter().all(|&i| (500..520).contains(&i)), "{hits:?}");
}

#[test]
fn a_drop_to_zero_and_a_dip_are_flagged_too() {
    let mut values: Vec<f64> = noise(4, 1000).iter().map(|n| 100.0 + 3.0 * n).collect();
    values[500] = 70.0;
    for v in &mut values[700..720] {
        *v = 0.0;
    }
    let hits = flagged(&run(&values));
    assert_eq!(hits.first(), Some(&500), "{hits:?}");
    assert!(hits.contains(&700), "{hits:?}");
    assert!(!hits.iter().any(|&i| (501..700).contains(&i)), "{hits:?}");
}

#[test]
fn a_ramp_is_flagged_soon_after_it_starts_and_not_before() {
    let values: Vec<f64> = noise(5, 1200)
        .iter()
        .enumerate()
        .map(|(i, n)| {
            40.0 + n
                + if i >= 500 {
                    0.2 * (i - 500) as f64
                } else {
                    0.0
                }
        })
        .collect();
    let hits = flagged(&run(&values));
    let first = *hits.first().expect("the ramp is found");
    assert!((500..=560).contains(&first), "{hits:?}");
}

#[test]
fn a_daily_cycle_raises_nothing() {
    let values: Vec<f64> = noise(6, 3000)
        .iter()
        .enumerate()
        .map(|(i, n)| 50.0 + 20.0 * (std::f64::consts::TAU * i as f64 / 288.0).sin() + n)
        .collect();
    assert!(flagged(&run(&values)).is_empty());
}

#[test]
fn gaussian_noise_raises_nothing() {
    let values: Vec<f64> = noise(7, 4000).iter().map(|n| 40.0 + 5.0 * n).collect();
    assert!(flagged(&run(&values)).is_empty());
}

#[test]
fn a_sparse_count_is_quiet_until_a_real_burst() {
    let mut values: Vec<f64> = (0..3000)
        .map(|i| if i % 37 == 0 { 1.0 } else { 0.0 })
        .collect();
    values[2000] = 20.0;
    assert_eq!(flagged(&run(&values)), vec![2000]);
}

#[test]
fn a_long_flat_zero_period_scores_zero_until_something_happens() {
    let mut values = vec![0.0; 1000];
    values.push(5.0);
    let verdicts = run(&values);
    assert!(verdicts[..1000].iter().all(|v| v.score == 0.0));
    assert!(verdicts[1000].anomaly);
}

#[test]
fn non_numbers_score_zero_and_are_skipped() {
    let mut values: Vec<f64> = noise(8, 400).iter().map(|n| 10.0 + n).collect();
    values[300] = f64::NAN;
    values[301] = 40.0;
    let verdicts = run(&values);
    assert_eq!(verdicts[300].score, 0.0);
    assert_eq!(flagged(&verdicts), vec![301]);
}

#[test]
fn counts_get_the_square_root_and_metrics_stay_as_they_are() {
    let cfg = SeriesConfig::default();
    let pick = |values: &[f64]| {
        let mut d = SeriesDetector::new(&cfg, FIVE_MIN);
        for &v in values {
            d.push(v);
        }
        d.transform()
    };
    // Poisson-like counts whose level climbs from 20 to 400 in the warm-up.
    let mut rng = fastrand::Rng::with_seed(9);
    let counts: Vec<f64> = (0..200)
        .map(|i| {
            let level = 20.0 + 2.0 * i as f64;
            (level + level.sqrt() * noise(rng.u64(..), 1)[0])
                .round()
                .max(0.0)
        })
        .collect();
    assert_eq!(pick(&counts), Transform::Sqrt);
    let cpu: Vec<f64> = noise(10, 200).iter().map(|n| 35.0 + 4.0 * n).collect();
    assert_eq!(pick(&cpu), Transform::Identity);
}
