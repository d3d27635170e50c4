//! The read API through the real router over the embedded store.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;
use tower::ServiceExt;

use anomalog_api::{ApiState, router};
use anomalog_core::{
    Anomaly, AnomalyKind, AnomalyStatus, Level, LogEvent, LogSample, Severity, StoredLog,
};
use anomalog_store::{EmbeddedStore, Stores};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

fn log(id: usize, ago_secs: i64, service: &str, level: Level, message: &str) -> StoredLog {
    StoredLog {
        pattern: None,
        id: format!("000000000001-{id:05}"),
        event: LogEvent {
            ts: now() - Duration::seconds(ago_secs),
            received_at: now(),
            service: service.into(),
            host: Some("h1".into()),
            level,
            message: message.into(),
            attrs: Default::default(),
            trace_id: None,
            span_id: None,
            source: None,
            truncated: false,
        },
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    stores: Stores,
    app: axum::Router,
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let logs = vec![
        log(0, 30, "api", Level::Info, "GET /users 200"),
        log(1, 25, "api", Level::Error, "db timeout after 5s"),
        log(2, 20, "api", Level::Error, "db timeout after 5s"),
        log(3, 15, "web", Level::Warn, "slow render"),
        log(4, 10, "web", Level::Info, "GET / 200"),
        log(5, 7200, "web", Level::Info, "two hours ago"),
    ];
    stores.logs.persist(&logs).await.unwrap();
    let start = now() - Duration::seconds(30);
    stores
        .anomalies
        .upsert(&[Anomaly {
            id: Anomaly::id_for(AnomalyKind::Burst, "api", start),
            kind: AnomalyKind::Burst,
            service: "api".into(),
            window_start: start,
            window_end: now() - Duration::seconds(10),
            observed: 2.0,
            expected: 0.0,
            stddev: 0.0,
            score: 0.5,
            severity: Severity::Low,
            status: AnomalyStatus::Open,
            first_seen: now(),
            last_seen: now(),
            message: "2 errors".into(),
            samples: vec![LogSample {
                ts: now(),
                level: Level::Error,
                message: "db timeout".into(),
            }],
            measure: None,
            explanation: Vec::new(),
        }])
        .await
        .unwrap();
    let state = ApiState::with_clock(stores.clone(), Arc::new(now));
    Harness {
        _dir: dir,
        stores,
        app: router(state),
    }
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
async fn health_reports_ok_and_queue_backlog() {
    let h = harness().await;
    h.stores
        .queue
        .append(&[log(9, 1, "api", Level::Info, "queued").event])
        .await
        .unwrap();
    let (status, body) = get(&h.app, "/api/health").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["queue_backlog"], 1);
}

#[tokio::test]
async fn logs_filter_by_service_level_text_and_time() {
    let h = harness().await;
    let (status, body) = get(&h.app, "/api/logs?service=api").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        body["items"][0]["message"], "db timeout after 5s",
        "newest first"
    );
    assert_eq!(body["items"][0]["level"], "ERROR");

    let (_, body) = get(&h.app, "/api/logs?level=warning").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    let (_, body) = get(&h.app, "/api/logs?q=TIMEOUT").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    let (_, body) = get(&h.app, "/api/logs?from=now-1h").await;
    assert_eq!(body["items"].as_array().unwrap().len(), 5);

    let (_, first) = get(&h.app, "/api/logs?limit=4").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 4);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let (_, second) = get(&h.app, &format!("/api/logs?limit=4&cursor={cursor}")).await;
    assert_eq!(second["items"].as_array().unwrap().len(), 2);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn logs_reject_bad_parameters_with_reasons() {
    let h = harness().await;
    for (uri, needle) in [
        ("/api/logs?level=loud", "level:"),
        ("/api/logs?from=yesterday", "from:"),
        ("/api/logs?limit=0", "limit:"),
        ("/api/logs?limit=5000", "limit:"),
        ("/api/logs?cursor=zzz", "cursor:"),
    ] {
        let (status, body) = get(&h.app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(
            body["error"].as_str().unwrap().starts_with(needle),
            "{uri}: {body}"
        );
    }
}

#[tokio::test]
async fn volume_is_a_dense_series_by_level() {
    let h = harness().await;
    let (status, body) = get(&h.app, "/api/stats/volume?from=now-2m&step=60").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["step_secs"], 60);
    let buckets = body["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 2);
    let total: u64 = buckets.iter().map(|b| b["total"].as_u64().unwrap()).sum();
    assert_eq!(total, 5);
    let errors: u64 = buckets
        .iter()
        .map(|b| b["counts"]["ERROR"].as_u64().unwrap())
        .sum();
    assert_eq!(errors, 2);

    let (_, only_web) = get(&h.app, "/api/stats/volume?from=now-2m&step=60&service=web").await;
    let total: u64 = only_web["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["total"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 2);

    let (status, body) = get(&h.app, "/api/stats/volume?step=7").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().starts_with("step:"));
    let (status, _) = get(&h.app, "/api/stats/volume?from=now&to=now-1h").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

fn series_totals(body: &Value) -> Vec<(String, u64, u64, u64)> {
    body["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let buckets = s["buckets"].as_array().unwrap();
            let summed: u64 = buckets.iter().map(|b| b["total"].as_u64().unwrap()).sum();
            (
                s["service"].as_str().unwrap().to_owned(),
                s["total"].as_u64().unwrap(),
                s["errors"].as_u64().unwrap(),
                summed,
            )
        })
        .collect()
}

#[tokio::test]
async fn volume_by_service_returns_every_series_in_one_response() {
    let h = harness().await;
    let (status, body) = get(&h.app, "/api/stats/volume?from=now-2m&step=60&by=service").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Busiest first; totals agree with the buckets; same buckets as the total.
    assert_eq!(
        series_totals(&body),
        vec![("api".to_owned(), 3, 2, 3), ("web".to_owned(), 2, 0, 2)]
    );
    for s in body["series"].as_array().unwrap() {
        let ts: Vec<&Value> = s["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| &b["ts"])
            .collect();
        let top: Vec<&Value> = body["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| &b["ts"])
            .collect();
        assert_eq!(ts, top);
    }
    assert_eq!(body["series"][0]["buckets"][1]["counts"]["ERROR"], 2);

    // Named services come in the asked order; an unknown one is all zero.
    let (_, named) = get(
        &h.app,
        "/api/stats/volume?from=now-2m&step=60&by=service&services=web,ghost,api,web",
    )
    .await;
    assert_eq!(
        series_totals(&named),
        vec![
            ("web".to_owned(), 2, 0, 2),
            ("ghost".to_owned(), 0, 0, 0),
            ("api".to_owned(), 3, 2, 3)
        ]
    );
    let (_, top1) = get(
        &h.app,
        "/api/stats/volume?from=now-2m&step=60&by=service&top=1",
    )
    .await;
    assert_eq!(series_totals(&top1), vec![("api".to_owned(), 3, 2, 3)]);
    // The history before `from` is included when asked for (the dashboard's band).
    let (_, long) = get(
        &h.app,
        "/api/stats/volume?from=now-3h&step=600&by=service&services=web",
    )
    .await;
    assert_eq!(series_totals(&long), vec![("web".to_owned(), 3, 0, 3)]);

    // Without by=service there is no `series`.
    let (_, plain) = get(&h.app, "/api/stats/volume?from=now-2m&step=60").await;
    assert!(plain.get("series").is_none(), "{plain}");

    for bad in [
        "by=level",
        "top=0&by=service",
        "top=101&by=service",
        "top=2",
        "services=a",
        "by=service&services=a&top=1",
    ] {
        let (status, body) = get(&h.app, &format!("/api/stats/volume?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        let first = bad.split('=').next().unwrap();
        let message = body["error"].as_str().unwrap();
        assert!(
            ["by:", "top:", "services:"]
                .iter()
                .any(|p| message.starts_with(p)),
            "{bad} ({first}): {message}"
        );
    }
}

#[tokio::test]
async fn breakdown_counts_by_service_and_level() {
    let h = harness().await;
    let (status, body) = get(&h.app, "/api/stats/breakdown?from=now-1h").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total"], 5);
    assert_eq!(body["counts"]["ERROR"], 2);
    let services = body["services"].as_array().unwrap();
    assert_eq!(services[0]["service"], "api");
    assert_eq!(services[0]["errors"], 2);
    assert!((services[0]["error_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(services[1]["total"], 2);
}

#[tokio::test]
async fn anomalies_list_filters_and_detail_has_series_and_logs() {
    let h = harness().await;
    let (status, body) = get(&h.app, "/api/anomalies").await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "burst");
    assert_eq!(items[0]["service"], "api");
    let id = items[0]["id"].as_str().unwrap().to_owned();

    let (_, none) = get(&h.app, "/api/anomalies?status=resolved").await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let (_, none) = get(&h.app, "/api/anomalies?service=web").await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let (status, err) = get(&h.app, "/api/anomalies?kind=weird").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(err["error"].as_str().unwrap().starts_with("kind:"));

    let (status, detail) = get(&h.app, &format!("/api/anomalies/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["anomaly"]["id"], id.as_str());
    let errors: u64 = detail["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["errors"].as_u64().unwrap())
        .sum();
    assert_eq!(errors, 2);
    assert_eq!(detail["logs"].as_array().unwrap().len(), 2);

    let (status, err) = get(&h.app, "/api/anomalies/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(err["error"].as_str().unwrap().contains("nope"));
}

#[tokio::test]
async fn services_lists_every_service_with_totals() {
    let h = harness().await;
    let (status, body) = get(&h.app, "/api/services").await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["service"], "api");
    assert_eq!(items[0]["total"], 3);
    assert_eq!(items[1]["total"], 3);
}

/// Asserts a 400 whose JSON reason starts with `param`.
async fn assert_bad_request(app: &axum::Router, uri: &str, param: &str) {
    let started = std::time::Instant::now();
    let (status, body) = get(app, uri).await;
    let shown: String = body.to_string().chars().take(300).collect();
    assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {shown}");
    let reason = body["error"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with(&format!("{param}:")),
        "{uri}: reason should name {param}: {reason}"
    );
    assert!(reason.len() < 1000, "{uri}: unbounded reason");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{uri}: took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn hostile_time_parameters_are_400s_naming_the_parameter() {
    let h = harness().await;
    let hundred: Vec<String> = (0..100).map(|i| format!("svc{i}")).collect();
    let cases = [
        ("/api/logs?from=now-1%C3%A9".to_owned(), "from"),
        ("/api/logs?to=-8334601228800000".to_owned(), "to"),
        ("/api/stats/volume?to=-8334601228800000".to_owned(), "to"),
        ("/api/stats/volume?from=now-1%C3%A9".to_owned(), "from"),
        (
            "/api/stats/volume?to=-9223372036854775808&from=-9223372036854775807".to_owned(),
            "to",
        ),
        (
            "/api/stats/volume?step=9223372036854775800".to_owned(),
            "step",
        ),
        (
            "/api/stats/volume?step=-9223372036854775800".to_owned(),
            "step",
        ),
        (
            "/api/stats/volume?step=99999999999999999999".to_owned(),
            "step",
        ),
        ("/api/logs?limit=-1".to_owned(), "limit"),
        (
            "/api/anomalies?since=now-99999999999999999d".to_owned(),
            "since",
        ),
        (
            "/api/stats/breakdown?from=now-%F0%9F%92%A5".to_owned(),
            "from",
        ),
        (
            format!(
                "/api/stats/volume?from=0001-01-01T00:00:00Z&by=service&services={}",
                hundred.join(",")
            ),
            "from",
        ),
        ("/api/stats/volume?from=now-1d&step=10".to_owned(), "from"),
        ("/api/stats/volume?from=now-1d&step=30".to_owned(), "step"),
        (
            format!(
                "/api/stats/volume?from=now-4h&step=10&by=service&services={}",
                hundred.join(",")
            ),
            "services",
        ),
        (format!("/api/logs?q={}", "x".repeat(60_000)), "q"),
        ("/api/services?limit=0".to_owned(), "limit"),
        ("/api/stats/breakdown?limit=5000".to_owned(), "limit"),
    ];
    for (uri, param) in &cases {
        assert_bad_request(&h.app, uri, param).await;
    }
}

#[tokio::test]
async fn epochs_of_every_magnitude_read_as_the_same_time() {
    let h = harness().await;
    let from = (now() - Duration::minutes(1)).timestamp();
    for from in [
        from.to_string(),
        format!("{from}000"),
        format!("{from}000000"),
        format!("{from}000000000"),
    ] {
        let (status, body) = get(&h.app, &format!("/api/stats/volume?from={from}")).await;
        assert_eq!(status, StatusCode::OK, "{from}: {body}");
        let total: u64 = body["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["total"].as_u64().unwrap())
            .sum();
        assert_eq!(total, 5, "{from}: the last minute holds 5 events");
    }
}

#[tokio::test]
async fn services_and_breakdown_are_paged() {
    let h = harness().await;
    let (_, first) = get(&h.app, "/api/services?limit=1").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 1);
    assert_eq!(first["items"][0]["service"], "api");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = get(&h.app, &format!("/api/services?limit=1&cursor={cursor}")).await;
    assert_eq!(second["items"][0]["service"], "web");
    assert!(second.get("next_cursor").is_none(), "{second}");

    let (_, page) = get(&h.app, "/api/stats/breakdown?from=now-3h&limit=1&offset=1").await;
    assert_eq!(page["services_total"], 2);
    assert_eq!(page["total"], 6, "totals cover every service");
    let services = page["services"].as_array().unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["service"], "web", "ties go by name");
}

#[tokio::test]
async fn a_panicking_handler_answers_500_with_a_json_reason() {
    let app = axum::Router::new()
        .route(
            "/boom",
            axum::routing::get(|| async {
                let v: Vec<u8> = Vec::new();
                v[1].to_string()
            }),
        )
        .route("/fine", axum::routing::get(|| async { "fine" }))
        .layer(anomalog_api::catch_panics());
    let (status, body) = get(&app, "/boom").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("internal error")
    );
    let res = app
        .oneshot(Request::get("/fine").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
