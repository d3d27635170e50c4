//! Cost of the detectors: per point of a value series, per service of a detect
//! pass, and a whole pass over 10,000 services (the CPU part: rollups already
//! read). Run with `cargo bench -p anomalog-core --bench detect`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use divan::{Bencher, black_box};

use anomalog_core::detect::series::{SeriesConfig, SeriesDetector};
use anomalog_core::detect::{DetectConfig, DetectorSettings, Judging, detect_service};
use anomalog_core::model::Level;
use anomalog_core::rollup::{FINE_BUCKET_SECS, LevelCounts, ServiceSeries};

fn main() {
    divan::main();
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

/// A value series with a daily cycle and noise, 5-minute buckets.
fn value_series(n: usize) -> Vec<f64> {
    let mut rng = fastrand::Rng::with_seed(1);
    (0..n)
        .map(|i| {
            let cycle = (std::f64::consts::TAU * i as f64 / 288.0).sin();
            50.0 + 20.0 * cycle + 4.0 * (rng.f64() - 0.5)
        })
        .collect()
}

/// The rollups a detect pass reads for one service: the lookback in 10-s
/// buckets, a few hundred events a minute, 1% errors.
fn service_series(seed: u64, cfg: &DetectConfig) -> ServiceSeries {
    let mut rng = fastrand::Rng::with_seed(seed);
    let from = now() - cfg.lookback();
    let buckets = (cfg.lookback().num_seconds() / FINE_BUCKET_SECS) as usize + 1;
    let rate = rng.u64(5..60);
    let counts = (0..buckets)
        .map(|_| {
            let mut c = LevelCounts::default();
            let total = rate + rng.u64(0..=rate / 2);
            let errors = u64::from(rng.u32(0..100) == 0) + total / 100;
            c.add(Level::Info, total - errors);
            c.add(Level::Error, errors);
            c
        })
        .collect();
    ServiceSeries {
        service: format!("svc-{seed}"),
        bucket_secs: FINE_BUCKET_SECS,
        start: from,
        counts,
    }
}

/// Cost per point of the value-series detector (`backtest --series`).
#[divan::bench]
fn series_detector_per_point(bencher: Bencher) {
    let values = value_series(10_000);
    let cfg = SeriesConfig::default();
    bencher
        .counter(divan::counter::ItemsCount::new(values.len()))
        .bench(|| {
            let mut d = SeriesDetector::new(&cfg, 300);
            for &v in &values {
                black_box(d.push(v));
            }
        });
}

fn judging() -> Judging<'static> {
    Judging {
        now: now(),
        from: Some(now() - Duration::minutes(DetectConfig::default().horizon_minutes)),
        data_until: now(),
        excluded: &[],
    }
}

/// Burst, spike and drop for one service, as one detect pass runs them.
#[divan::bench]
fn log_detectors_per_service(bencher: Bencher) {
    let cfg = DetectConfig::default();
    let series = service_series(7, &cfg);
    let settings = DetectorSettings::default();
    let ctx = judging();
    bencher.bench(|| black_box(detect_service(&series, &settings, &ctx, &[])));
}

/// The detectors of one pass over 10,000 services (100 distinct series,
/// each judged 100 times: the cost does not depend on which service it is).
#[divan::bench(sample_count = 5)]
fn log_detectors_pass_10k_services(bencher: Bencher) {
    let cfg = DetectConfig::default();
    let series: Vec<ServiceSeries> = (0..100).map(|s| service_series(s, &cfg)).collect();
    let settings = cfg.defaults();
    let ctx = judging();
    bencher
        .counter(divan::counter::ItemsCount::new(10_000usize))
        .bench(|| {
            let mut findings = 0;
            for _ in 0..100 {
                for s in &series {
                    findings += detect_service(s, &settings, &ctx, &[]).len();
                }
            }
            black_box(findings)
        });
}

/// What judging one service live with the value-series detector would cost if
/// each stateless pass replayed it: three fresh detectors (event rate, error
/// count, error ratio) over the 115 one-minute points a first verdict needs
/// (warm-up of 100 plus the 15-minute horizon). docs/detection.md weighs this
/// against persisting the detectors' state.
#[divan::bench]
fn series_detector_replay_per_service(bencher: Bencher) {
    let mut rng = fastrand::Rng::with_seed(3);
    let minutes: Vec<(f64, f64)> = (0..115)
        .map(|_| {
            let total = 300.0 + rng.f64() * 60.0;
            (
                total,
                (total / 100.0).floor() + f64::from(u8::from(rng.bool())),
            )
        })
        .collect();
    let cfg = SeriesConfig::default();
    bencher
        .counter(divan::counter::ItemsCount::new(3 * minutes.len()))
        .bench(|| {
            let mut rate = SeriesDetector::new(&cfg, 60);
            let mut errors = SeriesDetector::new(&cfg, 60);
            let mut ratio = SeriesDetector::new(&cfg, 60);
            let mut flagged = 0;
            for &(total, errs) in &minutes {
                flagged += usize::from(rate.push(total).anomaly);
                flagged += usize::from(errors.push(errs).anomaly);
                flagged += usize::from(ratio.push(errs / total).anomaly);
            }
            black_box(flagged)
        });
}
