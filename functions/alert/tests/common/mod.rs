//! Helpers shared by the alert integration tests: a local HTTP endpoint
//! standing in for Discord, Slack or a webhook receiver, sample anomalies,
//! and the regrouping detect does after each pass.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // not every test uses every helper

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::routing::any;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};

use std::collections::BTreeMap;

use anomalog_alert::{AlertPorts, AlertReport, Channel, deliver_incidents};
use anomalog_core::incident::{Incident, IncidentConfig, carry_over, group};
use anomalog_core::{Anomaly, AnomalyKind, AnomalyStatus, Level, LogSample, Severity};
use anomalog_store::IncidentQuery;
use anomalog_store::{EmbeddedStore, Stores};

/// One request an [`Endpoint`] received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    /// Path and query.
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Value,
}

/// A local HTTP endpoint that records what it receives. Like Discord, it
/// answers a request with `wait=true` with the created message and its id.
#[derive(Clone, Default)]
pub struct Endpoint {
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Status codes to answer with, in order; 200 once exhausted.
    pub replies: Arc<Mutex<Vec<u16>>>,
}

impl Endpoint {
    pub fn replying(replies: Vec<u16>) -> Endpoint {
        Endpoint {
            replies: Arc::new(Mutex::new(replies)),
            ..Endpoint::default()
        }
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn bodies(&self) -> Vec<Value> {
        self.requests().into_iter().map(|r| r.body).collect()
    }

    /// Starts serving at `path` (which holds the URL's secret part) and
    /// below it (`/messages/{id}` edits).
    pub async fn start(&self, path: &str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route(path, any(receive))
            .route(&format!("{path}/{{*rest}}"), any(receive))
            .with_state(self.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}{path}")
    }
}

async fn receive(
    State(endpoint): State<Endpoint>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap, String) {
    let body: Value = serde_json::from_slice(&body).unwrap();
    let wait = uri.query().is_some_and(|q| q.contains("wait=true"));
    let count = {
        let mut received = endpoint.received.lock().unwrap();
        received.push(Received {
            method,
            uri: uri.to_string(),
            headers,
            body,
        });
        received.len()
    };
    let code = {
        let mut replies = endpoint.replies.lock().unwrap();
        if replies.is_empty() {
            200
        } else {
            replies.remove(0)
        }
    };
    let mut headers = HeaderMap::new();
    if code == 429 {
        headers.insert("retry-after", HeaderValue::from_static("30"));
    }
    let answer = if wait && code < 300 {
        json!({ "id": format!("{}", 1000 + count) }).to_string()
    } else {
        "ok".to_owned()
    };
    (StatusCode::from_u16(code).unwrap(), headers, answer)
}

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

/// A burst in `service` that started 40 s before [`now`].
pub fn anomaly(service: &str, status: AnomalyStatus) -> Anomaly {
    anomaly_at(AnomalyKind::Burst, service, -40, status)
}

/// An anomaly of `kind` in `service` starting `start` seconds after [`now`]
/// and lasting 30 s, with one sample line.
pub fn anomaly_at(kind: AnomalyKind, service: &str, start: i64, status: AnomalyStatus) -> Anomaly {
    let start = now() + Duration::seconds(start);
    Anomaly {
        id: Anomaly::id_for(kind, service, start),
        kind,
        service: service.into(),
        window_start: start,
        window_end: start + Duration::seconds(30),
        observed: 120.0,
        expected: 3.5,
        stddev: 0.0,
        score: 0.83,
        severity: Severity::High,
        status,
        first_seen: now(),
        last_seen: now(),
        message: "120 errors within the burst window (threshold 25)".into(),
        samples: vec![LogSample {
            ts: start,
            level: Level::Error,
            message: "connection <refused> & retried".into(),
        }],
        measure: None,
        explanation: Vec::new(),
    }
}

/// `a` with a sample line naming `dependency` (so it joins its incident).
pub fn naming(mut a: Anomaly, dependency: &str) -> Anomaly {
    a.samples = vec![LogSample {
        ts: a.window_start,
        level: Level::Error,
        message: format!("{dependency} returned 503"),
    }];
    a
}

/// Stores `anomalies` and regroups incidents as a detect pass does; returns
/// the stored incidents, newest first.
pub async fn detect(stores: &AlertPorts, anomalies: &[Anomaly]) -> Vec<Incident> {
    stores.anomalies.upsert(anomalies).await.unwrap();
    let all = stores
        .anomalies
        .list(&anomalog_store::AnomalyQuery {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    let query = IncidentQuery {
        limit: 1000,
        ..IncidentQuery::default()
    };
    let stored = stores.incidents.list_incidents(&query).await.unwrap();
    let (changed, absorbed) = carry_over(group(&all, &IncidentConfig::default()), &stored);
    stores.incidents.upsert_incidents(&changed).await.unwrap();
    stores.incidents.delete_incidents(&absorbed).await.unwrap();
    stores.incidents.list_incidents(&query).await.unwrap()
}

/// Stores `anomaly(service, Open)` as a new incident and returns it.
pub async fn open(stores: &AlertPorts, service: &str) -> Anomaly {
    let open = anomaly(service, AnomalyStatus::Open);
    detect(stores, std::slice::from_ref(&open)).await;
    open
}

pub const DASHBOARD: &str = "http://dash.local";
pub const HEADER_SECRET: &str = "Bearer header-secret-value";

pub struct Setup {
    pub _dir: tempfile::TempDir,
    pub ports: AlertPorts,
    pub channels: Vec<Channel>,
}

/// Three channels; each endpoint answers with its own scripted replies.
pub async fn setup(discord: Vec<u16>, slack: Vec<u16>, webhook: Vec<u16>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let (discord, slack, webhook) = (
        Endpoint::replying(discord),
        Endpoint::replying(slack),
        Endpoint::replying(webhook),
    );
    let headers: BTreeMap<String, String> = [
        ("Authorization".to_owned(), HEADER_SECRET.to_owned()),
        ("X-Anomalog-Source".to_owned(), "tests".to_owned()),
    ]
    .into();
    let dashboard = Some(DASHBOARD.to_owned());
    let channels = vec![
        Channel::discord(
            discord.start("/api/webhooks/1/discord-secret").await,
            dashboard.clone(),
        )
        .unwrap(),
        Channel::slack(
            slack.start("/services/T0/B0/slack-secret").await,
            dashboard.clone(),
        )
        .unwrap(),
        Channel::webhook(
            webhook.start("/hooks/webhook-secret").await,
            &headers,
            dashboard,
        )
        .unwrap(),
    ];
    Setup {
        _dir: dir,
        ports: AlertPorts::from(&stores),
        channels,
    }
}

impl Setup {
    /// One delivery round to every channel, `after_secs` after [`now`].
    pub async fn round(&self, after_secs: i64) -> AlertReport {
        deliver_incidents(
            &self.ports,
            &self.channels,
            Duration::minutes(5),
            now() + Duration::seconds(after_secs),
        )
        .await
        .unwrap()
    }
}
