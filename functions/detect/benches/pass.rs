//! A whole detect pass over 10,000 services on the embedded store: reading
//! the rollups of the lookback, running the detectors, reconciling; once for
//! services still in their warm-up (the short-history detectors judge them)
//! and once for warm services (each live state is decoded, advanced by one
//! minute, judged, encoded and saved: the steady cost of a pass a minute),
//! and the passes a minute of those takes in all (the worker runs another
//! at once while states are left for later); and one service's share of the live engine with a warm state (decode,
//! push a minute, judge, encode). Run with
//! `cargo bench -p anomalog-detect --bench pass` (the set-up stores 570,000
//! logs first, which takes a while).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use divan::Bencher;

use anomalog_core::detect::DetectConfig;
use anomalog_core::detect::live::LiveState;
use anomalog_core::rollup::{LevelCounts, ServiceSeries};
use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_detect::{PassLimits, RecentRollups, run_pass_with};
use anomalog_store::{DetectorState, EmbeddedStore, Stores};

const SERVICES: usize = 10_000;

fn main() {
    divan::main();
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

/// One log a minute per service over the lookback: one rollup row per
/// service and minute, 570,000 rows in all.
async fn populated(dir: &std::path::Path) -> Stores {
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir).unwrap()));
    let minutes = DetectConfig::default().lookback().num_minutes();
    for minute in 0..minutes {
        let at = now() - Duration::minutes(minutes - minute);
        let logs: Vec<StoredLog> = (0..SERVICES)
            .map(|s| StoredLog {
                pattern: None,
                id: format!("m{minute}-s{s}"),
                event: LogEvent::new(
                    at,
                    format!("service-{s:05}"),
                    if minute % 20 == 0 {
                        Level::Error
                    } else {
                        Level::Info
                    },
                    "ok",
                ),
            })
            .collect();
        stores.logs.persist(&logs).await.unwrap();
    }
    stores
}

/// A current-thread runtime and a store holding the lookback's rollups of
/// every service (its directory is removed on drop).
fn populated_store() -> (tokio::runtime::Runtime, tempfile::TempDir, Stores) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let stores = runtime.block_on(populated(dir.path()));
    (runtime, dir, stores)
}

/// Every service's live state past its warm-up, having learnt the same
/// traffic as the rollups, its newest minute `minutes_ago` before `now()`.
fn warm_states(minutes_ago: i64) -> Vec<DetectorState> {
    let state = warm_state_of(now() - Duration::minutes(minutes_ago - 1), |m| {
        let mut c = LevelCounts::default();
        let level = if m % 20 == 0 {
            Level::Error
        } else {
            Level::Info
        };
        c.add(level, 1);
        c
    })
    .to_parts();
    eprintln!(
        "warm state of the pass: {} bytes of summary, {} of detectors",
        state.summary.len(),
        state.detectors.len()
    );
    (0..SERVICES)
        .map(|s| DetectorState {
            service: format!("service-{s:05}"),
            summary: state.summary.clone(),
            detectors: state.detectors.clone(),
        })
        .collect()
}

/// One pass at `now()` reading through `recent`, which judges every service
/// and opens nothing.
fn pass(runtime: &tokio::runtime::Runtime, stores: &Stores, recent: &RefCell<RecentRollups>) {
    pass_within(runtime, stores, PassLimits::default(), recent);
}

/// [`pass`] within `limits`; the live states it left for later passes.
fn pass_within(
    runtime: &tokio::runtime::Runtime,
    stores: &Stores,
    limits: PassLimits,
    recent: &RefCell<RecentRollups>,
) -> usize {
    let report = runtime
        .block_on(run_pass_with(
            stores,
            &DetectConfig::default(),
            "bench",
            now(),
            limits,
            &mut recent.borrow_mut(),
        ))
        .unwrap();
    assert_eq!(report.services_checked, SERVICES);
    assert_eq!(report.opened, 0, "the traffic is steady");
    report.live_deferred
}

/// The detect worker's cache of the rollups as its previous pass leaves
/// it: primed by a pass at `now()` that advances no live state. The timed
/// passes then read no rollups (the worker's read the last second's new
/// rows: about one row per service).
fn primed(runtime: &tokio::runtime::Runtime, stores: &Stores) -> RefCell<RecentRollups> {
    let recent = RefCell::new(RecentRollups::default());
    let limits = PassLimits {
        live_states: 0,
        ..PassLimits::default()
    };
    pass_within(runtime, stores, limits, &recent);
    recent
}

#[divan::bench(sample_count = 3)]
fn detect_pass_10k_services_embedded(bencher: Bencher) {
    let (runtime, _dir, stores) = populated_store();
    let recent = primed(&runtime, &stores);
    bencher
        .counter(divan::counter::ItemsCount::new(SERVICES))
        .bench_local(|| pass(&runtime, &stores, &recent));
}

/// The rollups' minutes up to 11:57 are complete (20 s settle after the
/// newest bucket, 11:59:10): a state whose newest minute is 11:56 takes one
/// minute, and the states are saved afresh before each pass. A pass
/// advances its budget of them (`LIVE_STATES_PER_PASS`) and judges the
/// others from their summaries.
#[divan::bench(sample_count = 3)]
fn detect_pass_10k_warm_services_embedded(bencher: Bencher) {
    warm_pass(bencher, PassLimits::default());
}

/// As [`detect_pass_10k_warm_services_embedded`], every state advanced in
/// the one pass: what the budget spreads over the passes of a minute.
#[divan::bench(sample_count = 3)]
fn detect_pass_10k_warm_services_all_advanced_embedded(bencher: Bencher) {
    warm_pass(
        bencher,
        PassLimits {
            live_states: usize::MAX,
            ..PassLimits::default()
        },
    );
}

/// The whole minute of the same warm services as the detect worker's tick
/// runs it: a pass, then another at once while the last one left live
/// states for later (`PassReport::live_deferred`), until every state has
/// taken the minute. The time from the first of these passes to the last
/// service's verdict on the minute (the tick's interval before the first
/// pass and the settle before that are not in it).
#[divan::bench(sample_count = 3)]
fn detect_pass_10k_warm_services_minute_every_pass_embedded(bencher: Bencher) {
    let limits = PassLimits::default();
    let expected_passes = SERVICES.div_ceil(limits.live_states);
    warm_passes(bencher, |runtime, stores, recent| {
        let mut passes = 0;
        loop {
            passes += 1;
            if pass_within(runtime, stores, limits, recent) == 0 {
                break;
            }
            assert!(passes < SERVICES, "the passes do not shrink the minute");
        }
        assert_eq!(passes, expected_passes);
    });
}

fn warm_pass(bencher: Bencher, limits: PassLimits) {
    warm_passes(bencher, |runtime, stores, recent| {
        pass_within(runtime, stores, limits, recent);
    });
}

/// Times `passes` over the warm services through the worker's cache of the
/// rollups ([`primed`]), their states saved afresh (each a minute behind)
/// before every sample.
fn warm_passes(
    bencher: Bencher,
    passes: impl Fn(&tokio::runtime::Runtime, &Stores, &RefCell<RecentRollups>),
) {
    let (runtime, _dir, stores) = populated_store();
    let states = warm_states(4);
    let recent = primed(&runtime, &stores);
    bencher
        .counter(divan::counter::ItemsCount::new(SERVICES))
        .with_inputs(|| {
            runtime
                .block_on(stores.detector_states.save_detector_states(&states))
                .unwrap()
        })
        .bench_local_values(|()| passes(&runtime, &stores, &recent));
}

/// The same warm services in a pass with no minute to take (their newest
/// minute, 11:57, is the newest complete one): each state's summary is
/// read to judge its recent minutes, the detectors are not.
/// `anomalog up` passes every second, so this is the cost of most passes.
#[divan::bench(sample_count = 3)]
fn detect_pass_10k_warm_services_nothing_new_embedded(bencher: Bencher) {
    let (runtime, _dir, stores) = populated_store();
    runtime
        .block_on(stores.detector_states.save_detector_states(&warm_states(3)))
        .unwrap();
    let recent = primed(&runtime, &stores);
    bencher
        .counter(divan::counter::ItemsCount::new(SERVICES))
        .bench_local(|| pass(&runtime, &stores, &recent));
}

/// As [`detect_pass_10k_warm_services_nothing_new_embedded`] without the
/// worker's cache: the first pass of a worker (after a restart, or a cold
/// Lambda), which reads the whole lookback's rollups.
#[divan::bench(sample_count = 3)]
fn detect_pass_10k_warm_services_nothing_new_first_embedded(bencher: Bencher) {
    let (runtime, _dir, stores) = populated_store();
    runtime
        .block_on(stores.detector_states.save_detector_states(&warm_states(3)))
        .unwrap();
    bencher
        .counter(divan::counter::ItemsCount::new(SERVICES))
        .bench_local(|| pass(&runtime, &stores, &RefCell::default()));
}

/// A live state past its warm-up, its histories full and its daily view
/// active (4,500 minutes of a daily-cycled service), whose newest minute is
/// the one before `until`.
fn warm_state(until: DateTime<Utc>) -> LiveState {
    warm_state_of(until, |m| {
        let day = (m as f64 / 1_440.0 * std::f64::consts::TAU).sin();
        let mut c = LevelCounts::default();
        c.add(
            Level::Info,
            (300.0 + 120.0 * day) as u64 + (m * 7 % 23) as u64,
        );
        c.add(Level::Error, (m % 5) as u64);
        c
    })
}

/// A live state that learnt 4,500 minutes of `minute`'s counts, whose newest
/// minute is the one before `until`.
fn warm_state_of(until: DateTime<Utc>, minute: impl Fn(usize) -> LevelCounts) -> LiveState {
    const MINUTES: usize = 4_500;
    let counts: Vec<LevelCounts> = (0..MINUTES).map(minute).collect();
    let series = ServiceSeries {
        service: "warm".into(),
        bucket_secs: 60,
        start: until - Duration::minutes(MINUTES as i64),
        counts,
    };
    let mut state = LiveState::new(&DetectConfig::default().series);
    state.advance(&series, until);
    state
}

/// One service's share of a live pass without the store: decode its state,
/// push one minute of three series, judge, encode.
#[divan::bench]
fn live_state_one_minute_per_service(bencher: Bencher) {
    let until = now() - Duration::minutes(1);
    let parts = warm_state(until).to_parts();
    eprintln!(
        "warm live state: {} bytes of summary, {} of detectors",
        parts.summary.len(),
        parts.detectors.len()
    );
    let mut c = LevelCounts::default();
    c.add(Level::Info, 310);
    c.add(Level::Error, 2);
    let minute = ServiceSeries {
        service: "warm".into(),
        bucket_secs: 60,
        start: until,
        counts: vec![c],
    };
    let settings = DetectConfig::default().defaults();
    bencher.bench(|| {
        let mut state = LiveState::from_parts(&parts.summary, &parts.detectors).unwrap();
        assert_eq!(state.advance(&minute, now()), 1);
        divan::black_box(state.findings(&settings, None));
        state.to_parts()
    });
}
