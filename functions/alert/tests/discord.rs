//! Alert delivery against a real local HTTP server standing in for Discord.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::sync::Arc;

use chrono::Duration;

use anomalog_alert::{Channel, DISCORD_CHANNEL, deliver_pending};
use anomalog_core::AnomalyStatus;
use anomalog_store::{EmbeddedStore, Stores};
use common::{Endpoint, anomaly, now, open};

async fn setup(replies: Vec<u16>) -> (tempfile::TempDir, Stores, Endpoint, [Channel; 1]) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::from_adapter(Arc::new(EmbeddedStore::open(dir.path()).unwrap()));
    let hook = Endpoint::replying(replies);
    let url = hook.start("/api/webhooks/1/secret-token").await;
    let webhook = [Channel::discord(url, Some("http://dash.local".into())).unwrap()];
    (dir, stores, hook, webhook)
}

#[tokio::test]
async fn an_anomaly_is_announced_once_per_status_within_discord_limits() {
    let (_dir, stores, hook, webhook) = setup(vec![]).await;
    let open = open(&stores, "payments").await;

    let report = deliver_pending(stores.deliveries.as_ref(), &webhook, now())
        .await
        .unwrap();
    assert_eq!((report.sent, report.failed), (1, 0));
    let again = deliver_pending(stores.deliveries.as_ref(), &webhook, now())
        .await
        .unwrap();
    assert_eq!(again.sent, 0, "nothing new to say");
    {
        let received = hook.bodies();
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
    let report = deliver_pending(stores.deliveries.as_ref(), &webhook, now())
        .await
        .unwrap();
    assert_eq!(report.sent, 1);
    let title = hook.bodies()[1]["embeds"][0]["title"].clone();
    assert!(title.as_str().unwrap().starts_with("Resolved"));
    assert_eq!(stores.deliveries.attempts(&open.id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn failures_are_recorded_without_the_secret_and_retried_after_backoff() {
    let (_dir, stores, hook, webhook) = setup(vec![500]).await;
    let open = open(&stores, "api").await;

    let report = deliver_pending(stores.deliveries.as_ref(), &webhook, now())
        .await
        .unwrap();
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
    let report = deliver_pending(
        stores.deliveries.as_ref(),
        &webhook,
        now() + Duration::seconds(2),
    )
    .await
    .unwrap();
    assert_eq!((report.sent, report.deferred), (0, 1));
    let report = deliver_pending(
        stores.deliveries.as_ref(),
        &webhook,
        now() + Duration::seconds(6),
    )
    .await
    .unwrap();
    assert_eq!(report.sent, 1);
    assert_eq!(hook.bodies().len(), 2);
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
    let report = deliver_pending(stores.deliveries.as_ref(), &webhook, now())
        .await
        .unwrap();
    assert_eq!((report.sent, report.failed, report.deferred), (0, 1, 1));
    assert_eq!(hook.bodies().len(), 1, "stopped after the 429");
    let report = deliver_pending(
        stores.deliveries.as_ref(),
        &webhook,
        now() + Duration::seconds(20),
    )
    .await
    .unwrap();
    assert_eq!(report.sent, 0);
    let report = deliver_pending(
        stores.deliveries.as_ref(),
        &webhook,
        now() + Duration::seconds(31),
    )
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
