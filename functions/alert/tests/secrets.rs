//! Webhook URLs and header values are secrets: they never reach logs,
//! errors or delivery records. Its own test binary: the log capture is a
//! thread-local subscriber, which a test running beside it could race for
//! tracing's shared callsite cache.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::Duration;

use anomalog_alert::{Channel, deliver_incidents};
use common::{HEADER_SECRET, now, open, setup};

/// Collects everything logged while it is the default subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_never_reach_logs_errors_or_delivery_records() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let s = setup(vec![500], vec![500], vec![500]).await;
    // A fourth channel whose server is gone: a connection error, not a status.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gone = format!("http://{}/hooks/gone-secret", closed.local_addr().unwrap());
    drop(closed);
    let headers: BTreeMap<String, String> =
        [("Authorization".to_owned(), HEADER_SECRET.to_owned())].into();
    let unreachable = Channel::webhook(gone, &headers, None).unwrap();
    open(&s.ports, "api").await;
    let incident = s
        .ports
        .incidents
        .list_incidents(&anomalog_store::IncidentQuery {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);

    let report = s.round(0).await;
    assert_eq!(report.failed, 3);
    // After the webhook's back-off, under the same channel name.
    let later = now() + Duration::seconds(10);
    let report = deliver_incidents(
        &s.ports,
        std::slice::from_ref(&unreachable),
        Duration::minutes(5),
        later,
    )
    .await
    .unwrap();
    assert_eq!(report.failed, 1);

    let attempts = s.ports.deliveries.attempts(&incident.id).await.unwrap();
    assert_eq!(attempts.len(), 4);
    assert!(attempts.iter().all(|d| d.error.is_some()));
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("incident alert failed"), "{logged}");
    let recorded = format!("{attempts:?}");
    let debug = format!("{:?} {unreachable:?}", s.channels);
    for text in [&logged, &recorded, &debug] {
        for secret in ["secret", HEADER_SECRET] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    let err = Channel::webhook(
        "http://127.0.0.1:1/".into(),
        &[("X-Token".to_owned(), "s3cret\n".to_owned())].into(),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("alert.webhook_headers.X-Token:"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}
