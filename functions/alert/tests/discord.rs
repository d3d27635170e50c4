//! Alert delivery against a real local HTTP server standing in for Discord.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::post;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;

use anomalog_alert::{Channel, DISCORD_CHANNEL, deliver_pending};
use anomalog_core::{Anomaly, AnomalyKind, AnomalyStatus, Level, LogSample, Severity};
use anomalog_store::{EmbeddedStore, Stores};

#[derive(Clone, Default)]
struct Hook {
    received: Arc<Mutex<Vec<Value>>>,
    /// Status codes to answer with, in order; 204 once exhausted.
    replies: Arc<Mutex<Vec<u16>>>,
}

async fn receive(State(hook): State<Hook>, Json(body): Json<Value>) -> (StatusCode, HeaderMap) {
    hook.received.lock().unwrap().push(body);
    let code = {
        let mut replies = hook.replies.lock().unwrap();
        if replies.is_empty() {
            204
        } else {
            replies.remove(0)
        }
    };
    let mut headers = HeaderMap::new();
    if code == 429 {
        headers.insert("retry-after", HeaderValue::from_static("30"));
    }
    (StatusCode::from_u16(code).unwrap(), headers)
}

async fn start_hook(hook: Hook) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/api/webhooks/1/secret-token", post(receive))
        .with_state(hook);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/api/webhooks/1/secret-token")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

fn anomaly(service: &str, status: AnomalyStatus) -> Anomaly {
    let start = now() - Duration::seconds(40);
    Anomaly {
        id: Anomaly::id_for(AnomalyKind::Burst, service, start),
        kind: AnomalyKind::Burst,
        service: service.into(),
        window_start: start,
        window_end: now() - Duration::seconds(10),
        observed: 120.0,
        expected: 0.0,
        stddev: 0.0,
        score: 0.83,
        severity: Severity::High,
        status,
        first_seen: now(),
        last_seen: now(),
        message: "120 errors within the burst window (threshold 25)".into(),
        samples: vec![LogSample {
            ts: now(),
            level: Level::Error,
            message: "x".repeat(5000),
        }],
    }
}

async fn setup(replies: Vec<u16>) -> (tempfile::TempDir, Stores, Hook, [Channel; 1]) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let hook = Hook {
        replies: Arc::new(Mutex::new(replies)),
        ..Hook::default()
    };
    let url = start_hook(hook.clone()).await;
    let webhook = [Channel::discord(url, Some("http://dash.local".into())).unwrap()];
    (dir, stores, hook, webhook)
}

#[tokio::test]
async fn an_anomaly_is_announced_once_per_status_within_discord_limits() {
    let (_dir, stores, hook, webhook) = setup(vec![]).await;
    let open = anomaly("payments", AnomalyStatus::Open);
    stores
        .anomalies
        .upsert(std::slice::from_ref(&open))
        .await
        .unwrap();

    let report = deliver_pending(&stores, &webhook, now()).await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 0));
    let again = deliver_pending(&stores, &webhook, now()).await.unwrap();
    assert_eq!(again.sent, 0, "nothing new to say");
    {
        let received = hook.received.lock().unwrap();
        assert_eq!(received.len(), 1);
        let embed = &received[0]["embeds"][0];
        assert!(
            embed["title"]
                .as_str()
                .unwrap()
                .contains("burst in payments")
        );
        assert!(embed["description"].as_str().unwrap().chars().count() <= 4096);
        assert!(
            embed["description"]
                .as_str()
                .unwrap()
                .contains("120 errors")
        );
        assert_eq!(
            embed["url"],
            format!("http://dash.local/#/anomalies/{}", open.id)
        );
    }

    let mut resolved = open.clone();
    resolved.status = AnomalyStatus::Resolved;
    stores.anomalies.upsert(&[resolved]).await.unwrap();
    let report = deliver_pending(&stores, &webhook, now()).await.unwrap();
    assert_eq!(report.sent, 1);
    let title = hook.received.lock().unwrap()[1]["embeds"][0]["title"].clone();
    assert!(title.as_str().unwrap().starts_with("Resolved"));
    assert_eq!(stores.deliveries.attempts(&open.id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn failures_are_recorded_without_the_secret_and_retried_after_backoff() {
    let (_dir, stores, hook, webhook) = setup(vec![500]).await;
    let open = anomaly("api", AnomalyStatus::Open);
    stores
        .anomalies
        .upsert(std::slice::from_ref(&open))
        .await
        .unwrap();

    let report = deliver_pending(&stores, &webhook, now()).await.unwrap();
    assert_eq!(report.failed, 1);
    let attempts = stores.deliveries.attempts(&open.id).await.unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].http_status, Some(500));
    assert!(
        !attempts[0]
            .error
            .as_deref()
            .unwrap()
            .contains("secret-token")
    );

    // Within the back-off nothing is sent; after it, the retry succeeds.
    let report = deliver_pending(&stores, &webhook, now() + Duration::seconds(2))
        .await
        .unwrap();
    assert_eq!((report.sent, report.deferred), (0, 1));
    let report = deliver_pending(&stores, &webhook, now() + Duration::seconds(6))
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(hook.received.lock().unwrap().len(), 2);
    assert_eq!(
        stores.deliveries.attempts(&open.id).await.unwrap()[1].attempt,
        2
    );
}

#[tokio::test]
async fn a_rate_limit_pauses_every_delivery_until_retry_after() {
    let (_dir, stores, hook, webhook) = setup(vec![429]).await;
    stores
        .anomalies
        .upsert(&[
            anomaly("a", AnomalyStatus::Open),
            anomaly("b", AnomalyStatus::Open),
        ])
        .await
        .unwrap();
    let report = deliver_pending(&stores, &webhook, now()).await.unwrap();
    assert_eq!((report.sent, report.failed, report.deferred), (0, 1, 1));
    assert_eq!(
        hook.received.lock().unwrap().len(),
        1,
        "stopped after the 429"
    );
    let report = deliver_pending(&stores, &webhook, now() + Duration::seconds(20))
        .await
        .unwrap();
    assert_eq!(report.sent, 0);
    let report = deliver_pending(&stores, &webhook, now() + Duration::seconds(31))
        .await
        .unwrap();
    assert_eq!(report.sent, 2);
    let pending = stores
        .deliveries
        .pending(DISCORD_CHANNEL, now() - Duration::hours(1), 10)
        .await
        .unwrap();
    assert!(pending.is_empty());
}
