//! `run_demo` against a real local HTTP server.

// Helpers outside #[test] functions may unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use anomalog_agent::{BACKFILL_CHUNK_EVENTS, DemoOptions, run_demo};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use common::{TestServer, error};

fn options(backfill_secs: u64) -> DemoOptions {
    let mut options = DemoOptions::starting_at(Utc::now());
    options.backfill = Duration::from_secs(backfill_secs);
    options.tick = Duration::from_millis(100);
    options
}

/// Whether the server has received an event stamped at or after `start` (a
/// live tick's, not the backfill's).
fn saw_live_event(server: &TestServer, start: DateTime<Utc>) -> bool {
    server.seen().iter().flat_map(|s| s.events.iter()).any(|e| {
        e["ts"]
            .as_str()
            .and_then(|t| t.parse::<DateTime<Utc>>().ok())
            .is_some_and(|t| t >= start)
    })
}

#[tokio::test]
async fn ships_the_backfill_then_live_ticks_until_shutdown() {
    let server = TestServer::accepting().await;
    let shipper = server.shipper(0);
    let opts = options(180);
    let start = opts.start;

    // Shut down a second after the first live event arrives, however long the
    // backfill took on a busy machine: about ten 100 ms ticks fit in that second.
    let live_then_a_second = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while tokio::time::Instant::now() < deadline && !saw_live_event(&server, start) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(1000)).await;
    };
    let report = run_demo(&shipper, opts, live_then_a_second).await.unwrap();

    let seen = server.seen();
    let events: Vec<_> = seen.iter().flat_map(|s| s.events.iter()).collect();
    // A shutdown abandons the request in flight: the server may have stored the
    // last batch without the demo seeing its answer, but nothing else differs.
    let last_batch = seen.last().map_or(0, |s| s.events.len()) as u64;
    let unacknowledged = events.len() as u64 - report.accepted;
    assert!(
        unacknowledged == 0 || unacknowledged == last_batch,
        "server saw {} events, demo counted {} accepted (last batch {last_batch})",
        events.len(),
        report.accepted
    );
    assert!(report.generated >= report.accepted);
    assert!(report.backfill_events > 5_000, "{report:?}");
    assert!(report.ticks >= 3, "{report:?}");
    assert!(seen.iter().all(|s| s.events.len() <= BACKFILL_CHUNK_EVENTS));
    let times: Vec<DateTime<Utc>> = events
        .iter()
        .map(|e| e["ts"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "shipped in time order"
    );
    assert!(times.iter().any(|t| *t >= start), "live events shipped");
    assert!(
        times
            .first()
            .is_some_and(|t| *t < start - chrono::TimeDelta::minutes(2))
    );
}

#[tokio::test]
async fn failing_batches_are_dropped_without_stopping_the_demo() {
    let server = TestServer::start(|_, _| error(StatusCode::BAD_REQUEST, "nope")).await;
    let shipper = server.shipper(0);

    let report = run_demo(
        &shipper,
        options(60),
        tokio::time::sleep(Duration::from_millis(1000)),
    )
    .await
    .unwrap();

    assert_eq!(report.accepted, 0);
    assert!(report.dropped > 1_000, "{report:?}");
    assert!(report.ticks >= 1, "{report:?}");
}

#[tokio::test]
async fn an_authentication_failure_ends_the_demo_with_an_error() {
    let server = TestServer::start(|_, _| error(StatusCode::UNAUTHORIZED, "bad key")).await;
    let shipper = server.shipper(0);

    let result = run_demo(
        &shipper,
        options(60),
        tokio::time::sleep(Duration::from_secs(5)),
    )
    .await;

    assert!(result.is_err_and(|e| e.is_auth_failure()));
    assert_eq!(server.seen().len(), 1);
}
