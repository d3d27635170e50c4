//! Per-pattern rates in detect passes: a known pattern that vanishes while
//! its service's volume stays level is a drop whose measure is the pattern's
//! rate and whose message names the pattern. Embedded store, passes every
//! five minutes across a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};

use anomalog_core::detect::DetectConfig;
use anomalog_core::{Anomaly, AnomalyKind, Level, LogEvent, Metric};
use anomalog_detect::run_pass;
use support::{anomalies, open};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 10, 0, 0).unwrap()
}

/// Minute `m` of "api": requests, six cache refreshes (none from minute
/// `vanish` on, replaced by as many more requests) and an error.
fn minute(m: i64, vanish: i64) -> Vec<LogEvent> {
    let start = t0() + Duration::minutes(m);
    let refreshes = if m >= vanish { 0 } else { 6 };
    let requests = 30 + (m * 7) % 5 + (6 - refreshes);
    let mut lines: Vec<(Level, String)> = (0..requests)
        .map(|i| {
            (
                Level::Info,
                format!("GET /orders/{} served in {} ms", m * 100 + i, 5 + i % 40),
            )
        })
        .collect();
    lines.extend((0..refreshes).map(|i| {
        (
            Level::Info,
            format!(
                "cache refreshed for region r{} with {} keys",
                i % 3,
                100 + i
            ),
        )
    }));
    lines.push((
        Level::Error,
        format!("upstream timed out after {} ms", 900 + m),
    ));
    let n = lines.len() as i64;
    lines
        .into_iter()
        .enumerate()
        .map(|(i, (level, message))| {
            let at = start + Duration::milliseconds(i as i64 * 60_000 / n);
            LogEvent::new(at, "api", level, message)
        })
        .collect()
}

#[tokio::test]
async fn a_vanished_pattern_is_a_pattern_rate_drop_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DetectConfig::default();
    let mut stores = open(dir.path());
    let vanish = 160;
    for m in 0..180 {
        stores.queue.append(&minute(m, vanish)).await.unwrap();
    }
    let mut now = t0() + Duration::minutes(60);
    while now <= t0() + Duration::minutes(180) {
        if now == t0() + Duration::minutes(120) {
            drop(stores);
            stores = open(dir.path());
        }
        run_pass(&stores, &cfg, "d1", now).await.unwrap();
        if now < t0() + Duration::minutes(vanish) {
            let early = anomalies(&stores).await;
            assert!(
                early.iter().all(|a| a.kind == AnomalyKind::NewPattern),
                "nothing but the first patterns' news before the change, at {now}: {early:#?}"
            );
        }
        now += Duration::minutes(5);
    }
    let found = anomalies(&stores).await;
    let rate: Vec<&Anomaly> = found
        .iter()
        .filter(|a| {
            a.measure
                .as_ref()
                .is_some_and(|m| m.metric == Metric::PatternRate)
        })
        .collect();
    assert_eq!(rate.len(), 1, "{found:#?}");
    let a = rate[0];
    assert_eq!(a.kind, AnomalyKind::Drop);
    assert_eq!(a.window_start, t0() + Duration::minutes(vanish));
    assert_eq!(a.observed, 0.0);
    assert!(a.expected >= 4.0, "{a:#?}");
    assert!(
        a.message
            .starts_with("pattern \"cache refreshed for region"),
        "{}",
        a.message
    );
    // The service's own volume did not move: no event-rate drop.
    assert!(
        !found.iter().any(|x| x.kind == AnomalyKind::Drop
            && x.measure
                .as_ref()
                .is_some_and(|m| m.metric == Metric::EventRate)),
        "{found:#?}"
    );
}
