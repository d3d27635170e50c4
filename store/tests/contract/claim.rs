//! Claiming within a byte budget: a queue of big batches is drained a few
//! entries at a time, in order, each entry once.

use anomalog_core::Level;
use anomalog_store::{ClaimLimit, Stores};

use super::event;

/// Each queued batch holds one event with a message of this many bytes.
const MESSAGE_BYTES: usize = 4000;

pub async fn queue_claims_within_a_byte_budget(stores: &Stores) {
    for n in 0..10 {
        let message = format!("{n:02}{}", "x".repeat(MESSAGE_BYTES - 2));
        stores
            .queue
            .append(&[event(n, "api", Level::Info, &message)])
            .await
            .unwrap();
    }
    // Three payloads fit (each a little over MESSAGE_BYTES), four do not.
    let limit = ClaimLimit {
        entries: 100,
        bytes: 3 * MESSAGE_BYTES + 1000,
    };
    let first = stores.queue.claim_within("c1", limit).await.unwrap();
    assert_eq!(first.len(), 3, "a claim stops at its byte budget");

    // One entry bigger than the budget is still claimed, alone.
    let tiny = ClaimLimit {
        entries: 100,
        bytes: 10,
    };
    let ids: Vec<String> = first.iter().map(|e| e.id.clone()).collect();
    stores.queue.ack(&ids).await.unwrap();
    let mut drained: Vec<String> = first
        .iter()
        .map(|e| e.events[0].message[..2].to_owned())
        .collect();
    let alone = stores.queue.claim_within("c1", tiny).await.unwrap();
    assert_eq!(alone.len(), 1, "the first entry is taken whatever its size");
    let ids: Vec<String> = alone.iter().map(|e| e.id.clone()).collect();
    stores.queue.ack(&ids).await.unwrap();
    drained.extend(alone.iter().map(|e| e.events[0].message[..2].to_owned()));

    // What was left out comes next, in order, each entry once.
    loop {
        let claimed = stores.queue.claim_within("c1", limit).await.unwrap();
        if claimed.is_empty() {
            break;
        }
        assert!(
            claimed.len() <= 3,
            "{} entries over the budget",
            claimed.len()
        );
        let ids: Vec<String> = claimed.iter().map(|e| e.id.clone()).collect();
        stores.queue.ack(&ids).await.unwrap();
        drained.extend(claimed.iter().map(|e| e.events[0].message[..2].to_owned()));
    }
    let expected: Vec<String> = (0..10).map(|n| format!("{n:02}")).collect();
    assert_eq!(drained, expected);
    assert_eq!(stores.queue.backlog().await.unwrap(), 0);
}
