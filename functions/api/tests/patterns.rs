//! `/api/patterns`, `/api/patterns/{id}` and `/api/logs?pattern=` through the
//! real router over the embedded store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;
use tower::ServiceExt;

use anomalog_api::{ApiState, router};
use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_store::{EmbeddedStore, PatternSighting, Stores};

const LOGIN: &str = "00000000000000a1";
const TIMEOUT: &str = "00000000000000b2";
const OLD_LOGIN: &str = "00000000000000c3";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

fn log(i: usize, ago_mins: i64, level: Level, message: &str, pattern: &str) -> StoredLog {
    StoredLog {
        id: format!("000000000001-{i:05}"),
        event: LogEvent::new(now() - Duration::minutes(ago_mins), "shop", level, message),
        pattern: Some(pattern.to_owned()),
    }
}

fn sighting(id: &str, template: &str, ago_mins: i64, level: Level) -> PatternSighting {
    PatternSighting {
        service: "shop".into(),
        id: id.into(),
        template: template.into(),
        first_seen: now() - Duration::minutes(ago_mins),
        last_seen: now() - Duration::minutes(1),
        total: 10,
        max_level: level,
        examples: vec![template.replace("<*>", "42")],
        merged_into: None,
    }
}

async fn app() -> (tempfile::TempDir, axum::Router) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let mut logs = Vec::new();
    for i in 0..6 {
        logs.push(log(
            i,
            50 - i as i64 * 5,
            Level::Info,
            "user 7 logged in",
            LOGIN,
        ));
    }
    logs.push(log(6, 55, Level::Info, "user 8 logged in", OLD_LOGIN));
    for i in 7..10 {
        logs.push(log(i, 3, Level::Error, "timeout after 30 ms", TIMEOUT));
    }
    stores.logs.persist(&logs).await.unwrap();
    let mut old = sighting(OLD_LOGIN, "user <*> logged in", 55, Level::Info);
    old.merged_into = Some(LOGIN.into());
    stores
        .patterns
        .record_patterns(&[
            sighting(LOGIN, "user <*> logged in", 600, Level::Info),
            sighting(TIMEOUT, "timeout after <*> ms", 3, Level::Error),
            old,
        ])
        .await
        .unwrap();
    let state = ApiState::with_clock(stores, Arc::new(now));
    (dir, router(state))
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = to_bytes(res.into_body(), 1 << 22).await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn patterns_list_counts_trend_levels_and_newness_in_the_range() {
    let (_dir, app) = app().await;
    let (status, body) = get(&app, "/api/patterns?service=shop&from=now-1h").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        2,
        "the merged pattern is counted as its survivor: {body}"
    );
    let login = &items[0];
    assert_eq!(login["id"], LOGIN);
    assert_eq!(login["count"], 7);
    assert_eq!(login["levels"]["info"], 7);
    assert_eq!(login["new"], false);
    assert_eq!(login["trend"].as_array().unwrap().len(), 30);
    assert_eq!(
        login["trend"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        7
    );
    let timeout = &items[1];
    assert_eq!(timeout["template"], "timeout after <*> ms");
    assert_eq!(timeout["levels"]["error"], 3);
    assert_eq!(timeout["new"], true);
    assert_eq!(timeout["example"], "timeout after 42 ms");

    let (_, found) = get(&app, "/api/patterns?q=TIMEOUT").await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn one_pattern_has_its_lines_and_merged_ids() {
    let (_dir, app) = app().await;
    let (status, body) = get(&app, &format!("/api/patterns/{LOGIN}?from=now-1h")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["pattern"]["count"], 7);
    assert_eq!(body["merged"], serde_json::json!([OLD_LOGIN]));
    assert_eq!(body["logs"].as_array().unwrap().len(), 7);
    let (status, body) = get(&app, "/api/patterns/00000000000000ff").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"].as_str().unwrap().contains("00000000000000ff"));
}

#[tokio::test]
async fn one_pattern_has_a_dense_per_minute_rate_series_over_the_range() {
    let (_dir, app) = app().await;
    let (status, body) = get(&app, &format!("/api/patterns/{LOGIN}?from=now-1h")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["step_secs"], 60, "an hour fits in minutes: {body}");
    let series = body["series"].as_array().unwrap();
    assert_eq!(series.len(), 60, "one point per minute of the hour");
    assert_eq!(series[0]["ts"], "2026-05-06T11:00:00Z");
    let counts: Vec<u64> = series
        .iter()
        .map(|p| p["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<u64>(), 7, "merged lines count too");
    // Lines 50, 45, ... 25 minutes ago, and the merged one 55 minutes ago.
    for ago in [55, 50, 45, 40, 35, 30, 25] {
        assert_eq!(counts[60 - ago], 1, "the minute {ago} min ago: {counts:?}");
    }

    let (_, day) = get(&app, &format!("/api/patterns/{LOGIN}?from=now-24h")).await;
    assert_eq!(
        day["step_secs"], 720,
        "a day in at most 120 steps of whole minutes"
    );
    let points = day["series"].as_array().unwrap();
    assert!(points.len() <= 121, "{}", points.len());
    let total: u64 = points.iter().map(|p| p["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 7);
}

#[tokio::test]
async fn logs_filter_by_pattern_and_reject_a_bad_id() {
    let (_dir, app) = app().await;
    let (status, body) = get(&app, &format!("/api/logs?pattern={TIMEOUT}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|l| l["pattern"] == TIMEOUT));
    let (status, body) = get(&app, "/api/logs?pattern=nothex").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"].as_str().unwrap().starts_with("pattern:"),
        "{body}"
    );
}
