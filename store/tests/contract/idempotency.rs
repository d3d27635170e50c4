//! Contract of idempotent appends: a key is appended once within its
//! retention, and a refused append records no key.

use std::time::Duration;

use anomalog_core::Level;
use anomalog_store::{Appended, Stores};

use super::event;

pub async fn queue_appends_each_idempotency_key_once(stores: &Stores) {
    let day = Duration::from_secs(86_400);
    let batch = [
        event(0, "api", Level::Info, "one"),
        event(1, "api", Level::Error, "two"),
    ];
    let first = stores
        .queue
        .append_idempotent("file-a:0-120", day, &batch)
        .await
        .unwrap();
    let Appended::New(entry) = first.clone() else {
        panic!("a new key appends: {first:?}");
    };
    let again = stores
        .queue
        .append_idempotent("file-a:0-120", day, &batch)
        .await
        .unwrap();
    assert_eq!(again, Appended::Replayed(entry.clone()));
    assert_eq!(stores.queue.backlog().await.unwrap(), 1, "appended once");

    let other = stores
        .queue
        .append_idempotent("file-a:120-240", day, &batch[..1])
        .await
        .unwrap();
    assert!(
        matches!(other, Appended::New(ref id) if *id != entry),
        "{other:?}"
    );
    assert_eq!(stores.queue.backlog().await.unwrap(), 2);

    // The key outlives the entry: a resend after detection processed the
    // batch is still recognised.
    let claimed = stores.queue.claim("c1", 10).await.unwrap();
    let ids: Vec<String> = claimed.iter().map(|e| e.id.clone()).collect();
    assert_eq!(claimed[0].events, batch.to_vec());
    stores.queue.ack(&ids).await.unwrap();
    let late = stores
        .queue
        .append_idempotent("file-a:0-120", day, &batch)
        .await
        .unwrap();
    assert_eq!(late, Appended::Replayed(entry));
    assert_eq!(stores.queue.backlog().await.unwrap(), 0);
}

pub async fn queue_forgets_idempotency_keys_after_their_retention(stores: &Stores) {
    let short = Duration::from_millis(200);
    let batch = [event(0, "api", Level::Info, "one")];
    let first = stores
        .queue
        .append_idempotent("k", short, &batch)
        .await
        .unwrap();
    assert!(matches!(first, Appended::New(_)), "{first:?}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let next = stores
            .queue
            .append_idempotent("k", short, &batch)
            .await
            .unwrap();
        if matches!(next, Appended::New(_)) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the key is still known long after its retention"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(stores.queue.backlog().await.unwrap(), 2);
}

/// With a queue bounded to 2 entries: a refused append stores no key, so the
/// resend after the queue drained is appended.
pub async fn queue_full_refuses_an_idempotent_append_without_keeping_its_key(stores: &Stores) {
    let day = Duration::from_secs(86_400);
    let batch = [event(0, "api", Level::Info, "one")];
    for key in ["a", "b"] {
        stores
            .queue
            .append_idempotent(key, day, &batch)
            .await
            .unwrap();
    }
    let refused = stores.queue.append_idempotent("c", day, &batch).await;
    assert!(
        matches!(refused, Err(anomalog_store::StoreError::Unavailable(_))),
        "{refused:?}"
    );
    // A replay of a stored key is answered even when the queue is full.
    let replay = stores
        .queue
        .append_idempotent("a", day, &batch)
        .await
        .unwrap();
    assert!(matches!(replay, Appended::Replayed(_)), "{replay:?}");

    let claimed = stores.queue.claim("c1", 10).await.unwrap();
    let ids: Vec<String> = claimed.iter().map(|e| e.id.clone()).collect();
    stores.queue.ack(&ids).await.unwrap();
    let resent = stores
        .queue
        .append_idempotent("c", day, &batch)
        .await
        .unwrap();
    assert!(matches!(resent, Appended::New(_)), "{resent:?}");
}
