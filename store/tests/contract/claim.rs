//! Claiming within a byte budget: a queue of big batches is drained a few
//! entries at a time, in order, each entry once.

use anomalog_core::{Level, StoredLog};
use anomalog_store::{ClaimLimit, LogQuery, Stores};

use super::{event, t};

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

/// A claimed batch (read by head where the adapter frames its payloads)
/// shows each event's time, service, level and message, and persists as
/// the events appended, every field and attribute included, with the ids
/// and patterns of a persist of the same logs; claimed again (a crash
/// before the ack), it adds nothing.
pub async fn claimed_batches_persist_as_appended(stores: &Stores) {
    let mut full = event(0, "api", Level::Warn, &"long message ".repeat(20));
    full.host = Some("web-1".into());
    full.trace_id = Some("abc".into());
    full.span_id = Some("def".into());
    full.source = Some("/var/log/app.log".into());
    full.truncated = true;
    full.attrs = serde_json::from_value(serde_json::json!({
        "http.status": 503, "user": {"id": 7, "$tag": "x"}, "tags": ["a", 1.5, null, true]
    }))
    .unwrap();
    let first = vec![
        full,
        event(1, "web", Level::Error, "upstream timed out"),
        event(2, "api", Level::Info, ""),
    ];
    let second = vec![event(3, "api", Level::Debug, "cache hit")];
    stores.queue.append(&first).await.unwrap();
    stores.queue.append(&second).await.unwrap();

    let limit = ClaimLimit::entries(10);
    let mut batches = stores.queue.claim_batches("c1", limit).await.unwrap();
    assert_eq!(batches.iter().map(|b| b.len()).collect::<Vec<_>>(), [3, 1]);
    let mut expected: Vec<StoredLog> = Vec::new();
    for (batch, events) in batches.iter_mut().zip([&first, &second]) {
        for (i, e) in events.iter().enumerate() {
            let seen = batch.event(i);
            assert_eq!(
                (
                    seen.ts,
                    seen.received_at,
                    seen.service,
                    seen.level,
                    seen.message
                ),
                (
                    e.ts,
                    e.received_at,
                    e.service.as_str(),
                    e.level,
                    e.message.as_str()
                )
            );
            let pattern = format!("p{}", e.message.len() % 3);
            batch.set_pattern(i, pattern.clone());
            expected.push(StoredLog {
                id: StoredLog::id_for(batch.id(), i),
                event: e.clone(),
                pattern: Some(pattern),
            });
        }
    }
    let report = stores.logs.persist_claimed(batches).await.unwrap();
    assert_eq!((report.inserted, report.duplicates), (4, 0));

    let mut page = stores
        .logs
        .query(&LogQuery {
            limit: 10,
            ..LogQuery::default()
        })
        .await
        .unwrap()
        .items;
    page.sort_by_key(|log| log.event.ts);
    assert_eq!(page, expected);

    // Not acknowledged: the same consumer claims them again.
    let again = stores.queue.claim_batches("c1", limit).await.unwrap();
    let report = stores.logs.persist_claimed(again).await.unwrap();
    assert_eq!((report.inserted, report.duplicates), (0, 4));
    let rows = stores.rollups.rollups(None, t(-60), t(60)).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 4);
    let patterns = stores
        .patterns
        .pattern_rollups(None, &[], t(-60), t(60))
        .await
        .unwrap();
    assert_eq!(patterns.iter().map(|r| r.count).sum::<u64>(), 4);
}
