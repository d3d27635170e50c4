//! The value-series detector (`backtest --series`) on synthetic series:
//! single outlier, step, ramp, periodic, noisy, sparse, a long flat zero
//! period, a drop to zero, a dip, the warm-up and the choice of transform.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use anomalog_core::detect::series::{
    PointVerdict, SeriesConfig, SeriesDetector, Transform, ViewKind, score_series,
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

// ---------------------------------------------------------------------------
// Weekly patterns, returns, and shapes of real exports.

/// Verdicts of a whole series, `None` marking a missing value.
fn run_gappy(values: &[Option<f64>], bucket_secs: i64, cfg: &SeriesConfig) -> Vec<PointVerdict> {
    let mut detector = SeriesDetector::new(cfg, bucket_secs);
    values
        .iter()
        .map(|v| detector.push(v.unwrap_or(f64::NAN)))
        .collect()
}

/// Half-hourly counts with a weekday shape (two rush hours) and a weekend
/// shape (one broad hump), six weeks; the Wednesday of week 5 (day 30) is
/// shaped like a Sunday.
fn weekly_counts(holiday: Option<usize>) -> Vec<f64> {
    let day = 48;
    let n = noise(21, 42 * day);
    (0..42 * day)
        .map(|i| {
            let d = i / day;
            let phase = (i % day) as f64 / day as f64;
            let weekend = d % 7 >= 5 || Some(d) == holiday;
            let shape = if weekend {
                0.3 + 0.7 * (std::f64::consts::PI * phase).sin().powi(2)
            } else {
                0.2 + (-((phase - 0.35) * 12.0).powi(2)).exp()
                    + 0.8 * (-((phase - 0.75) * 10.0).powi(2)).exp()
            };
            (1000.0 * shape + 8.0 * n[i]).round()
        })
        .collect()
}

#[test]
fn a_weekday_shaped_like_a_weekend_is_seen_by_the_weekly_view_only() {
    let day = 48;
    let holiday = 30;
    let cfg = SeriesConfig::default();
    let normal = score_series(&weekly_counts(None), 1800, &cfg);
    // The first weekends are new to a streaming detector; from the third
    // week on, ordinary weeks raise nothing.
    assert!(
        flagged(&normal).iter().all(|&i| i < 21 * day),
        "{:?}",
        flagged(&normal)
    );
    let verdicts = score_series(&weekly_counts(Some(holiday)), 1800, &cfg);
    let hits: Vec<usize> = flagged(&verdicts)
        .into_iter()
        .filter(|&i| i >= 21 * day)
        .collect();
    assert_eq!(hits, vec![holiday * day], "the holiday, at its first row");
    let daily_only = SeriesConfig {
        weekly: false,
        ..SeriesConfig::default()
    };
    let without = score_series(&weekly_counts(Some(holiday)), 1800, &daily_only);
    assert!(
        flagged(&without).iter().all(|&i| i < 21 * day),
        "three days of daily history do not tell a holiday from a weekend: {:?}",
        flagged(&without)
    );
}

#[test]
fn the_return_after_a_long_level_shift_is_not_a_second_anomaly() {
    let mut values: Vec<f64> = noise(22, 1500).iter().map(|n| 50.0 + n).collect();
    for v in &mut values[600..900] {
        *v += 15.0;
    }
    // The onset only: the return at 900 is not reported. (Before the tail
    // margin, the drift view (24 points against 48) also flagged the shift
    // once more after the cooldown and saw the return pass: 652, 920, 954.)
    assert_eq!(flagged(&run(&values)), vec![600]);
    let no_returns = SeriesConfig {
        return_points: 0,
        ..SeriesConfig::default()
    };
    assert_eq!(
        flagged(&score_series(&values, FIVE_MIN, &no_returns)),
        vec![600, 900]
    );
    // A spike is no excursion: a dip of its size soon after is news.
    let mut values: Vec<f64> = noise(23, 1000).iter().map(|n| 50.0 + n).collect();
    values[600] += 15.0;
    values[650] -= 15.0;
    assert_eq!(flagged(&run(&values)), vec![600, 650]);
}

#[test]
fn magnitudes_from_1e_minus_9_to_1e12_give_the_same_verdicts() {
    let mut values: Vec<f64> = noise(24, 1200).iter().map(|n| 100.0 + n).collect();
    values[700] += 9.0;
    for v in &mut values[900..1000] {
        *v -= 6.0;
    }
    let expected = flagged(&run(&values));
    // The spike and the dip's start (the drift view following it is within
    // the cooldown); its end (1000) is a return. (Before the level view the
    // drift view saw the return pass, 1015; now the level view still finds
    // the dip's points deviating then, so the episode lasts past it.)
    assert_eq!(expected, vec![700, 900]);
    for scale in [1e-9, 1e-3, 1e6, 1e12] {
        let scaled: Vec<f64> = values.iter().map(|v| v * scale).collect();
        let verdicts = run(&scaled);
        assert_eq!(flagged(&verdicts), expected, "scale {scale}");
    }
}

#[test]
fn negative_values_are_judged_like_any_other() {
    let mut values: Vec<f64> = noise(25, 1000).iter().map(|n| -40.0 + n).collect();
    values[500] -= 9.0;
    values[800] += 9.0;
    let mut detector = SeriesDetector::new(&SeriesConfig::default(), FIVE_MIN);
    let verdicts: Vec<PointVerdict> = values.iter().map(|&v| detector.push(v)).collect();
    assert_eq!(detector.transform(), Transform::Identity);
    assert_eq!(flagged(&verdicts), vec![500, 800]);
}

#[test]
fn a_huge_outlier_in_the_warmup_hides_nothing_afterwards() {
    let mut values: Vec<f64> = noise(26, 1500).iter().map(|n| 50.0 + 2.0 * n).collect();
    values[40] = 5000.0;
    values[1000] += 16.0;
    assert_eq!(flagged(&run(&values)), vec![1000]);
}

#[test]
fn a_flat_sensor_coming_alive_is_reported_once_then_its_noise_is_learned() {
    let n = noise(27, 2000);
    let mut values: Vec<f64> = (0..2000)
        .map(|i| if i < 800 { 12.0 } else { 12.0 + 0.8 * n[i] })
        .collect();
    values[1500] += 6.0;
    assert_eq!(flagged(&run(&values)), vec![800, 1500]);
}

#[test]
fn a_series_shorter_than_the_warmup_scores_zero_everywhere() {
    let values: Vec<f64> = noise(28, 60).iter().map(|n| 5.0 + n).collect();
    let verdicts = run(&values);
    assert_eq!(verdicts.len(), 60);
    assert!(verdicts.iter().all(|v| v.score == 0.0 && !v.anomaly));
    assert!(run(&[]).is_empty());
}

#[test]
fn missing_values_are_gaps_that_keep_the_daily_view_aligned() {
    // A daily cycle with a spike; then the same series with 5% of its
    // values missing (NaN) and, separately, with those rows left out and
    // the gaps told to the detector: both give the same verdicts.
    let day = 288;
    let n = noise(29, 8 * day);
    let mut values: Vec<f64> = (0..8 * day)
        .map(|i| {
            let phase = (i % day) as f64 / day as f64;
            100.0 + 40.0 * (std::f64::consts::TAU * phase).sin() + 2.0 * n[i]
        })
        .collect();
    values[6 * day + 100] += 25.0;
    let mut rng = fastrand::Rng::with_seed(30);
    let gappy: Vec<Option<f64>> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (i == 6 * day + 100 || rng.f64() > 0.05).then_some(v))
        .collect();
    let cfg = SeriesConfig::default();
    let with_nan = run_gappy(&gappy, FIVE_MIN, &cfg);
    assert_eq!(flagged(&with_nan), vec![6 * day + 100]);
    for (v, verdict) in gappy.iter().zip(&with_nan) {
        if v.is_none() {
            assert_eq!(verdict.score, 0.0);
            assert!(!verdict.anomaly);
        }
    }
    let mut detector = SeriesDetector::new(&cfg, FIVE_MIN);
    let mut since = 1;
    for (v, expected) in gappy.iter().zip(&with_nan) {
        match v {
            None => since += 1,
            Some(v) => {
                assert_eq!(detector.push_after(*v, since), *expected);
                since = 1;
            }
        }
    }
}

/// Speeds in whole mph with a daily rush-hour dip, 5-minute rows.
fn speeds(seed: u64, days: usize) -> Vec<f64> {
    let n = noise(seed, days * 288);
    (0..days * 288)
        .map(|i| {
            let phase = (i % 288) as f64 / 288.0;
            let rush = (-((phase - 0.33) * 18.0).powi(2)).exp();
            (62.0 - 20.0 * rush + 3.0 * n[i]).round()
        })
        .collect()
}

#[test]
fn a_sensor_stuck_on_one_value_is_seen_by_the_variance_view() {
    let mut values = speeds(40, 6);
    let stuck = values[1500];
    for v in &mut values[1500..1600] {
        *v = stuck;
    }
    let verdicts = run(&values);
    // Within the 24 steps whose median the variance view takes.
    assert_eq!(flagged(&verdicts), vec![1511]);
    assert_eq!(verdicts[1511].view, Some(ViewKind::Variance));
    let without = SeriesConfig {
        variance: false,
        ..SeriesConfig::default()
    };
    assert!(flagged(&score_series(&values, FIVE_MIN, &without)).is_empty());
}

#[test]
fn a_process_turning_erratic_is_reported_before_it_pins_the_cpu() {
    let n = noise(41, 3000);
    let mut values: Vec<f64> = n.iter().map(|x| 40.0 + 2.0 * x).collect();
    for i in 2000..2150 {
        values[i] = 40.0 + 8.0 * n[i];
    }
    for v in &mut values[2150..2180] {
        *v = 99.0;
    }
    // The erratic stretch at its start, three of its points after the
    // cooldown (its mean wanders four times wider than before: the level
    // view twice) and the pin at its start. (Before the level view: 2054
    // and 2094, by the variance and shift views; before the tail margin,
    // also the drift view seeing the fall back pass, 2237; until session
    // 13 also 2124, by the drift view, whose reference's extrapolated trend
    // alone made it; until session 13, round 2, 2092 instead of 2088: two
    // averaging views marginal at once are fused since.)
    let verdicts = run(&values);
    assert_eq!(flagged(&verdicts), vec![2007, 2052, 2088, 2150]);
    assert_eq!(verdicts[2052].view, Some(ViewKind::Level));
}

#[test]
fn a_cooldown_keeps_one_alarm_per_cause_but_not_a_stronger_one() {
    let mut values: Vec<f64> = noise(42, 1500).iter().map(|n| 50.0 + n).collect();
    values[600] += 8.0;
    values[610] += 8.5;
    values[625] -= 40.0;
    let hits = flagged(&run(&values));
    // 610 is about as strong as 600 and within the cooldown; the fall at
    // 625 is far stronger.
    assert_eq!(hits, vec![600, 625]);
    let off = SeriesConfig {
        cooldown: 0,
        ..SeriesConfig::default()
    };
    assert_eq!(
        flagged(&score_series(&values, FIVE_MIN, &off)),
        vec![600, 610, 625]
    );
}

/// Student's t noise with 3 degrees of freedom around 50: most points near
/// the level, a few far out, as busy machine metrics have.
fn student_t3(seed: u64, len: usize) -> Vec<f64> {
    noise(seed, 4 * len)
        .chunks(4)
        .map(|c| {
            let chi = c[1] * c[1] + c[2] * c[2] + c[3] * c[3];
            50.0 + 2.0 * c[0] / (chi / 3.0).sqrt().max(1e-9)
        })
        .collect()
}

/// Heavy-tailed noise raises a new record every so often. The tail margin
/// keeps some of those records quiet (it only ever widens the threshold);
/// a spike far past the tail is still reported.
#[test]
fn heavy_tailed_noise_stays_quieter_under_the_tail_margin() {
    // Without the confirmation of lone marginal values (session 12), which
    // takes most of these records on its own.
    let with_tail = SeriesConfig {
        confirm: 0.0,
        ..SeriesConfig::default()
    };
    let no_tail = SeriesConfig {
        tail: 0.0,
        ..with_tail.clone()
    };
    let (mut with_total, mut without_total) = (0, 0);
    for seed in 52..56 {
        let values = student_t3(seed, 6000);
        let without = flagged(&score_series(&values, FIVE_MIN, &no_tail));
        let with = flagged(&score_series(&values, FIVE_MIN, &with_tail));
        with_total += with.len();
        without_total += without.len();
    }
    // 40 against 43 when written: on t noise most flags are records of the
    // first weeks, while the history is short. The realistic corpus's
    // heavy-tailed series lose a third of theirs (docs/detection.md).
    assert!(
        with_total < without_total,
        "{with_total} flags with the tail margin, {without_total} without"
    );
    let mut values = student_t3(52, 6000);
    let highest = values.iter().copied().fold(f64::MIN, f64::max);
    values[5000] = 50.0 + 3.0 * (highest - 50.0);
    assert!(flagged(&run(&values)).contains(&5000));
}

/// A memory metric at 5-minute buckets: smooth (AR(1)) noise around 45%
/// with a gentle daily cycle, then a leak from point `leak` climbing 0.03
/// points of percent per bucket (9 an afternoon) for 400 buckets, until a
/// restart puts it back.
fn leaking_memory(leak: Option<usize>) -> Vec<f64> {
    let day = 288.0;
    let mut ar = 0.0;
    noise(61, 4000)
        .iter()
        .enumerate()
        .map(|(i, n)| {
            ar = 0.9 * ar + (1.0f64 - 0.81).sqrt() * n;
            let phase = std::f64::consts::TAU * i as f64 / day;
            let mut v = 45.0 + 0.5 * (1.0 - phase.cos()) + 0.5 * ar;
            if let Some(leak) = leak.filter(|&l| (l..l + 400).contains(&i)) {
                v += 0.03 * (i - leak) as f64;
            }
            (v * 100.0).round() / 100.0
        })
        .collect()
}

/// A slow leak moves each point a hundredth of the noise: the point, shift
/// and drift views follow it (their references move with it, and the drift
/// view's statistic grows no larger as the ramp goes on). The level view
/// sees the mean of 24 points climb away from the 288 before, and as it
/// learns its statistics only once they are 288 points old, the ramp cannot
/// raise the extreme it is judged against as it creeps.
#[test]
fn a_slow_leak_is_seen_by_the_level_view_within_its_first_day() {
    let values = leaking_memory(Some(1800));
    let verdicts = run(&values);
    // 67 points (5.6 hours, 2 points of percent) into the leak; the restart
    // at 2200 is its return, not news.
    assert_eq!(flagged(&verdicts), vec![1867]);
    assert_eq!(verdicts[1867].view, Some(ViewKind::Level));
    // Without the level view only the restart is seen.
    let no_level = SeriesConfig {
        level_points: 0,
        ..SeriesConfig::default()
    };
    assert_eq!(
        flagged(&score_series(&values, FIVE_MIN, &no_level)),
        vec![2200]
    );
    // Without the leak, nothing.
    assert!(flagged(&run(&leaking_memory(None))).is_empty());
}

/// An hourly cost per click: log-normal noise (sigma 0.25) around a daily
/// cycle between 0.7 and 1.3 times its level, too narrow a range of levels
/// to tell multiplicative noise by its growth with the level; a price
/// collapse to a fifth for three hours at `collapse`.
fn cost_per_click(collapse: Option<usize>) -> Vec<f64> {
    noise(61, 1500)
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let phase = std::f64::consts::TAU * (i % 24) as f64 / 24.0;
            let mut v = 0.8 * (1.0 - 0.3 * phase.cos()) * (0.25 * n).exp();
            if collapse.is_some_and(|c| (c..c + 3).contains(&i)) {
                v *= 0.2;
            }
            (v * 1000.0).round() / 1000.0
        })
        .collect()
}

/// Log-normal noise has a long upper tail: on the raw scale a collapse to a
/// fifth is within the spread of the busy hours' highs. The skew of the
/// noise picks the logarithm, where the collapse stands out. (From the
/// 100 points of the warm-up the choice is noisy: of 40 draws of this
/// shape, 34 got the logarithm; of 40 draws of symmetric noise, 30 kept
/// their own scale: a logarithm over levels within a factor of two changes
/// little.)
#[test]
fn skewed_noise_of_close_levels_gets_the_log_and_its_collapse_is_seen() {
    const HOUR: i64 = 3600;
    let values = cost_per_click(Some(1000));
    let mut detector = SeriesDetector::new(&SeriesConfig::default(), HOUR);
    let verdicts: Vec<PointVerdict> = values.iter().map(|&v| detector.push(v)).collect();
    assert_eq!(detector.transform(), Transform::Log);
    // The collapse at its first hour; 950 is the draw's own extreme (it is
    // flagged without the collapse too).
    assert_eq!(flagged(&verdicts), vec![950, 1000]);
    // On the raw scale (what the warm-up chose before the skew was looked
    // at): the collapse two hours late, and one more high of the noise.
    let raw = SeriesConfig {
        transform: false,
        ..SeriesConfig::default()
    };
    assert_eq!(
        flagged(&score_series(&values, HOUR, &raw)),
        vec![610, 950, 1002]
    );
    // Symmetric noise of the same levels stays on its own scale.
    let symmetric: Vec<f64> = noise(61, 300).iter().map(|n| 0.8 + 0.1 * n).collect();
    let mut detector = SeriesDetector::new(&SeriesConfig::default(), HOUR);
    for &v in &symmetric {
        detector.push(v);
    }
    assert_eq!(detector.transform(), Transform::Identity);
}

/// The level view keeps its reference sorted between steps; a detector
/// saved and restored mid-leak (the sorted copy is not saved) rebuilds it
/// and gives the same verdicts, scores and views as one never stopped.
#[test]
fn a_detector_restored_mid_leak_judges_exactly_like_one_never_stopped() {
    let values = leaking_memory(Some(1800));
    let whole = run(&values);
    let mut first = SeriesDetector::new(&SeriesConfig::default(), FIVE_MIN);
    let mut verdicts: Vec<PointVerdict> = values[..1850].iter().map(|&v| first.push(v)).collect();
    let saved = postcard::to_allocvec(&first).unwrap();
    let mut restored: SeriesDetector = postcard::from_bytes(&saved).unwrap();
    verdicts.extend(values[1850..].iter().map(|&v| restored.push(v)));
    assert_eq!(verdicts, whole);
    assert_eq!(flagged(&verdicts), vec![1867]);
}

/// In a heavy-tailed series a lone value just past the window's extreme is
/// the tail's noise: it waits for the next point and is reported only if
/// that one still deviates (a lasting lift: one point late, with its
/// first point's score). Without the confirmation the noise's records
/// are flagged one by one.
#[test]
fn lone_marginal_values_of_a_heavy_tail_wait_for_the_next_point() {
    let mut values = student_t3(55, 6000);
    for v in &mut values[3000..3020] {
        *v += 40.0;
    }
    let off = SeriesConfig {
        confirm: 0.0,
        ..SeriesConfig::default()
    };
    let unconfirmed = score_series(&values, FIVE_MIN, &off);
    assert_eq!(
        flagged(&unconfirmed),
        vec![397, 756, 862, 1016, 1308, 1753, 2592, 3000, 3320, 5563]
    );

    let verdicts = run(&values);
    // (Until session 13 also 3036, here and without the confirmation: the
    // drift view's reference, extrapolated along the trend the lift made in
    // it, ran above the points back at their level. A flag made by the
    // trend alone is no longer reported.)
    assert_eq!(flagged(&verdicts), vec![397, 3001]);
    // Held, not learned: the lift's first point stays out of the histories.
    assert!(!verdicts[3000].anomaly && verdicts[3000].deviating);
    assert_eq!(verdicts[3001].score, unconfirmed[3000].score);
}

/// A failover pair: a service switching between two levels at irregular
/// times (hours in each), with a real move to a third level late on. A
/// switch onto a level the series is known to dwell at, across a gap it
/// only ever crosses, is not news once the window holds both levels; the
/// third level is. Without the rule the averaging views report the
/// switches again and again (`regimes.rs`).
fn failover_pair(seed: u64, outage: Option<usize>) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let noise = noise(seed + 1, 5000);
    let mut high = false;
    let mut left = 0usize;
    let mut values = Vec::with_capacity(5000);
    for (i, n) in noise.iter().enumerate() {
        if left == 0 {
            high = !high;
            left = rng.usize(40..300);
        }
        left -= 1;
        let mut v = if high { 70.0 } else { 40.0 } + 1.5 * n;
        if outage.is_some_and(|at| (at..at + 60).contains(&i)) {
            v = 110.0 + 1.5 * n;
        }
        values.push((v * 100.0).round() / 100.0);
    }
    values
}

#[test]
fn a_switch_between_known_levels_is_not_news_but_a_third_level_is() {
    // Switches at 92, 139, 201, 453, 613, 673, 872, 970, ... (35 in all).
    // The first ones are news (the second level is not known yet: 100 is
    // the first point judged, in the middle of the first switch); from the
    // fifth on, every switch is between known levels. Without the rule:
    // also 676, 974, 1491, 1868, 1962, 3082, 3665 and 4058 (4082 with the
    // outage).
    let verdicts = run(&failover_pair(71, None));
    assert_eq!(flagged(&verdicts), vec![100, 139, 453]);
    // The outage at a third level (4000, which is also a switch's time) is
    // reported at its second point, with the rule as without it.
    let verdicts = run(&failover_pair(71, Some(4000)));
    assert_eq!(flagged(&verdicts), vec![100, 139, 453, 4001]);
}

/// The shift and drift views compare the recent points with their
/// reference extrapolated along its trend. Two points of a failover pair
/// after its first switch (up at 246, reported), the switch lies in the
/// drift view's older reference half: the extrapolated trend runs on past
/// the new level, and the recent points, flat at it, fell below the
/// extrapolation far enough to be flagged at 297 though they sit above the
/// reference's plain median. A flag the trend alone makes is not news.
#[test]
fn a_flag_made_by_the_extrapolated_trend_alone_is_not_news() {
    let values = failover_pair(73, None);
    let off = SeriesConfig {
        untrended: false,
        ..SeriesConfig::default()
    };
    let without = score_series(&values, FIVE_MIN, &off);
    assert_eq!(flagged(&without), vec![246, 297, 756, 1001]);
    assert_eq!(without[297].view, Some(ViewKind::Drift));
    let verdicts = run(&values);
    assert_eq!(flagged(&verdicts), vec![246, 756, 1001]);
    // Kept in the histories like any normal point.
    assert!(!verdicts[297].deviating);
}

/// An API's p95 latency: log-normal noise, correlated from one bucket to
/// the next, with a daily rhythm; nothing happens.
fn p95_latency(seed: u64) -> Vec<f64> {
    let n = noise(seed, 4000);
    let mut ar = 0.0;
    (0..4000)
        .map(|i| {
            ar = 0.6 * ar + 0.8 * n[i];
            let phase = (i % 288) as f64 / 288.0;
            let daily = 1.0 + 0.3 * (std::f64::consts::TAU * phase).sin();
            (120.0 * daily * (0.15 * ar).exp() * 10.0).round() / 10.0
        })
        .collect()
}

/// The variance view's spread is floored at its statistic's own sampling
/// error (0.25 on the log scale; session 13): with the floor at 0.15 the
/// roughness of this latency's 24-point stretches, whose history happened
/// to vary less than that, was flagged at 2295 by the variance view. The
/// stuck sensor and the erratic process above are still reported.
#[test]
fn the_roughness_of_noise_is_judged_no_finer_than_its_sampling_error() {
    let verdicts = run(&p95_latency(1));
    assert_eq!(flagged(&verdicts), vec![3795]);
    assert_eq!(verdicts[3795].view, Some(ViewKind::Point));
}

/// Requests per five minutes from a few big API clients: a daily rhythm,
/// log-normal noise, and a client's batch burst (1 to 6 points, up to 5
/// times the rate) about every 115 points; a retry storm multiplies the
/// rate by `storm` from 3000 to 3039.
fn bursty_requests(seed: u64, storm: f64) -> Vec<f64> {
    let n = noise(seed, 4000);
    let mut rng = fastrand::Rng::with_seed(seed + 1000);
    let mut burst = 0usize;
    let mut height = 1.0;
    (0..4000)
        .map(|i| {
            let phase = (i % 288) as f64 / 288.0;
            let mut rate = 40.0 * (1.0 + 0.5 * (std::f64::consts::TAU * phase).sin());
            if burst == 0 && rng.f64() < 1.0 / 115.0 {
                burst = rng.usize(1..=6);
                height = 1.0 + 4.0 * rng.f64();
            }
            if burst > 0 {
                rate *= height;
                burst -= 1;
            }
            if (3000..3040).contains(&i) {
                rate *= storm;
            }
            (rate * (0.5 * n[i]).exp()).round()
        })
        .collect()
}

/// Fusion (`fusion`, session 13, round 2): the retry storm's first points
/// look like one of the normal batch bursts, and once it outlasts them
/// the shift, drift and level views each fall just short of their
/// thresholds (their histories hold the bursts too). Two of them marginal
/// at once, the same way, with the newest point as far out as their
/// means, are one move: reported at 3022. Without the fusion the storm
/// is missed and nothing is flagged at all.
#[test]
fn two_averaging_views_marginal_at_once_report_a_lasting_storm() {
    let values = bursty_requests(3, 5.0);
    let verdicts = run(&values);
    assert_eq!(flagged(&verdicts), vec![3022]);
    assert!(matches!(
        verdicts[3022].view,
        Some(ViewKind::Shift | ViewKind::Drift | ViewKind::Level)
    ));
    let off = SeriesConfig {
        fusion: 0.0,
        ..SeriesConfig::default()
    };
    assert!(flagged(&score_series(&values, FIVE_MIN, &off)).is_empty());
}
