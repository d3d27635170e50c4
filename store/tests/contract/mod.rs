//! The storage contract: behaviour every adapter must show. Each function takes
//! fresh, empty stores; adapter test files call every one of them.

pub mod keys;

use chrono::{DateTime, TimeZone, Utc};

use anomalog_core::detect::reconcile::merge_stored;
use anomalog_core::{
    Anomaly, AnomalyKind, AnomalyStatus, Level, LogEvent, LogSample, Measure, Metric,
    PatternChange, Severity, StoredLog, Unit,
};
use anomalog_store::{AnomalyQuery, Delivery, LogCursor, LogQuery, Stores};

mod idempotency;
pub use idempotency::{
    queue_appends_each_idempotency_key_once, queue_forgets_idempotency_keys_after_their_retention,
    queue_full_refuses_an_idempotent_append_without_keeping_its_key,
};
mod patterns;
pub use patterns::*;
mod incidents;
pub use incidents::*;
mod claim;
pub use claim::*;
mod detector_states;
pub use detector_states::*;

pub fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + secs, 0).unwrap()
}

pub fn event(secs: i64, service: &str, level: Level, message: &str) -> LogEvent {
    LogEvent::new(t(secs), service, level, message)
}

fn stored(entry: &str, events: &[LogEvent]) -> Vec<StoredLog> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| StoredLog {
            pattern: None,
            id: StoredLog::id_for(entry, i),
            event: e.clone(),
        })
        .collect()
}

pub fn anomaly(service: &str, start: i64, status: AnomalyStatus) -> Anomaly {
    Anomaly {
        id: Anomaly::id_for(AnomalyKind::Burst, service, t(start)),
        kind: AnomalyKind::Burst,
        service: service.into(),
        window_start: t(start),
        window_end: t(start + 30),
        observed: 40.0,
        expected: 0.0,
        stddev: 0.0,
        score: 0.6,
        severity: Severity::Low,
        status,
        first_seen: t(start + 30),
        last_seen: t(start + 30),
        message: "40 errors".into(),
        samples: vec![],
        measure: None,
        explanation: Vec::new(),
    }
}

pub async fn queue_delivers_until_acknowledged(stores: &Stores) {
    let a = stores
        .queue
        .append(&[event(0, "api", Level::Info, "one")])
        .await
        .unwrap();
    let b = stores
        .queue
        .append(&[
            event(1, "api", Level::Error, "two"),
            event(2, "web", Level::Warn, "three"),
        ])
        .await
        .unwrap();
    assert!(a < b, "entry ids increase: {a} < {b}");
    assert_eq!(stores.queue.backlog().await.unwrap(), 2);

    let claimed = stores.queue.claim("c1", 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].id, a);
    assert_eq!(claimed[1].events.len(), 2);
    assert_eq!(claimed[1].events[1].message, "three");

    stores.queue.ack(std::slice::from_ref(&a)).await.unwrap();
    assert_eq!(stores.queue.backlog().await.unwrap(), 1);
    // The unacknowledged entry is still this consumer's to process.
    let again = stores.queue.claim("c1", 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, b);
    // Another consumer does not get an entry claimed moments ago.
    assert!(stores.queue.claim("c2", 10).await.unwrap().is_empty());
    stores.queue.ack(&[b]).await.unwrap();
    assert_eq!(stores.queue.backlog().await.unwrap(), 0);
}

pub async fn persist_is_idempotent_and_rolls_up_once(stores: &Stores) {
    let events = vec![
        event(0, "api", Level::Error, "e1"),
        event(3, "api", Level::Error, "e2"),
        event(12, "api", Level::Info, "i1"),
        event(5, "web", Level::Info, "w1"),
    ];
    let logs = stored("000000000001", &events);
    let first = stores.logs.persist(&logs).await.unwrap();
    assert_eq!((first.inserted, first.duplicates), (4, 0));
    let again = stores.logs.persist(&logs).await.unwrap();
    assert_eq!((again.inserted, again.duplicates), (0, 4));

    let rows = stores.rollups.rollups(None, t(-60), t(60)).await.unwrap();
    let count = |service: &str, bucket: i64, level: Level| {
        rows.iter()
            .filter(|r| r.service == service && r.bucket == t(bucket) && r.level == level)
            .map(|r| r.count)
            .sum::<u64>()
    };
    assert_eq!(count("api", 0, Level::Error), 2);
    assert_eq!(count("api", 10, Level::Info), 1);
    assert_eq!(count("web", 0, Level::Info), 1);
    assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 4);

    let only_api = stores
        .rollups
        .rollups(Some("api"), t(-60), t(60))
        .await
        .unwrap();
    assert_eq!(only_api.iter().map(|r| r.count).sum::<u64>(), 3);

    let services = stores.rollups.services(t(-60)).await.unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(services[0].service, "api");
    assert_eq!((services[0].total, services[0].errors), (3, 2));
}

pub async fn log_queries_filter_and_paginate(stores: &Stores) {
    let mut events = Vec::new();
    for i in 0..25 {
        let level = if i % 5 == 0 {
            Level::Error
        } else {
            Level::Info
        };
        let service = if i % 2 == 0 { "api" } else { "web" };
        events.push(event(i, service, level, &format!("request {i} Timeout_x")));
    }
    stores
        .logs
        .persist(&stored("000000000007", &events))
        .await
        .unwrap();

    let all = stores
        .logs
        .query(&LogQuery {
            limit: 100,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(all.items.len(), 25);
    assert_eq!(
        all.items[0].event.message, "request 24 Timeout_x",
        "newest first"
    );
    assert!(all.next_cursor.is_none());

    let errors = stores
        .logs
        .query(&LogQuery {
            min_level: Some(Level::Error),
            limit: 100,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(errors.items.len(), 5);

    let api = stores
        .logs
        .query(&LogQuery {
            service: Some("api".into()),
            limit: 100,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(api.items.len(), 13);

    let text = stores
        .logs
        .query(&LogQuery {
            text: Some("REQUEST 1".into()),
            limit: 100,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    // "request 1" and "request 10" .. "request 19"; case-insensitive.
    assert_eq!(text.items.len(), 11);
    let literal = stores
        .logs
        .query(&LogQuery {
            text: Some("t_x".into()),
            limit: 100,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        literal.items.len(),
        25,
        "underscore is literal, not a wildcard"
    );
    let none = stores
        .logs
        .query(&LogQuery {
            text: Some("%".into()),
            limit: 100,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert!(none.items.is_empty(), "percent is literal, not a wildcard");

    let range = stores
        .logs
        .query(&LogQuery {
            from: Some(t(10)),
            to: Some(t(20)),
            limit: 100,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(range.items.len(), 10);

    let mut seen = Vec::new();
    let mut cursor: Option<LogCursor> = None;
    loop {
        let page = stores
            .logs
            .query(&LogQuery {
                limit: 7,
                cursor: cursor.clone(),
                ..LogQuery::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|l| l.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(LogCursor::decode(&c.encode()).unwrap()),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(seen.len(), 25);
    assert_eq!(unique.len(), 25, "pages neither overlap nor skip");
}

pub async fn retention_deletes_old_logs_and_rollups(stores: &Stores) {
    let events = vec![
        event(0, "api", Level::Info, "old"),
        event(100, "api", Level::Info, "new"),
    ];
    stores
        .logs
        .persist(&stored("000000000009", &events))
        .await
        .unwrap();
    let deleted = stores.logs.delete_before(t(50)).await.unwrap();
    assert_eq!(deleted, 1);
    let left = stores
        .logs
        .query(&LogQuery {
            limit: 10,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(left.items.len(), 1);
    assert_eq!(left.items[0].event.message, "new");
    let rows = stores.rollups.rollups(None, t(-100), t(200)).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 1);
}

pub async fn anomaly_upserts_keep_identity(stores: &Stores) {
    let mut a = anomaly("api", 0, AnomalyStatus::Open);
    a.samples = vec![LogSample {
        ts: t(1),
        level: Level::Error,
        message: "boom".into(),
    }];
    stores
        .anomalies
        .upsert(&[a.clone(), anomaly("web", 100, AnomalyStatus::Open)])
        .await
        .unwrap();

    // An update as a detect pass writes it: reconcile merges it with the stored
    // record (the one merge rule, in core), the adapter writes what it is given.
    let mut update = a.clone();
    update.status = AnomalyStatus::Resolved;
    update.first_seen = t(500);
    update.samples = vec![];
    update.window_end = t(90);
    let stored = stores.anomalies.get(&a.id).await.unwrap().unwrap();
    let merged = merge_stored(update.clone(), &stored);
    stores.anomalies.upsert(&[merged]).await.unwrap();

    let got = stores.anomalies.get(&a.id).await.unwrap().unwrap();
    assert_eq!(got.status, AnomalyStatus::Resolved);
    assert_eq!(got.window_end, t(90));
    assert_eq!(got.first_seen, a.first_seen, "first_seen is kept");
    assert_eq!(got.samples.len(), 1, "samples are kept");

    // The adapter adds no rule of its own: a record is stored exactly as given.
    stores.anomalies.upsert(&[update.clone()]).await.unwrap();
    let got = stores.anomalies.get(&a.id).await.unwrap().unwrap();
    assert_eq!(got, update, "upsert writes the record as given");
    stores
        .anomalies
        .upsert(&[merge_stored(got, &a)])
        .await
        .unwrap();
    assert!(stores.anomalies.get("nope").await.unwrap().is_none());

    let all = stores
        .anomalies
        .list(&AnomalyQuery {
            limit: 10,
            ..AnomalyQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].service, "web", "newest window first");
    let open = stores
        .anomalies
        .list(&AnomalyQuery {
            status: Some(AnomalyStatus::Open),
            limit: 10,
            ..AnomalyQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    let since = stores
        .anomalies
        .list(&AnomalyQuery {
            since: Some(t(120)),
            limit: 10,
            ..AnomalyQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(since.len(), 1);
    assert_eq!(since[0].service, "web");
}

/// The typed measure and the pattern explanation are stored as given, and a
/// record without them (as stored before they existed) reads back without.
pub async fn anomaly_measure_and_explanation_round_trip(stores: &Stores) {
    let mut a = anomaly("api", 0, AnomalyStatus::Open);
    a.measure = Some(Measure {
        metric: Metric::ErrorRatio,
        unit: Unit::Ratio,
        threshold: 0.125,
        baseline_start: t(-3600),
        baseline_end: t(0),
        bucket_seconds: 60,
    });
    a.explanation = vec![
        PatternChange {
            pattern: "7f3a".into(),
            template: "payments returned <*>".into(),
            before: 0.5,
            during: 41,
            new: false,
        },
        PatternChange {
            pattern: "09bc".into(),
            template: "circuit breaker open for <*>".into(),
            before: 0.0,
            during: 12,
            new: true,
        },
    ];
    let bare = anomaly("web", 0, AnomalyStatus::Open);
    stores
        .anomalies
        .upsert(&[a.clone(), bare.clone()])
        .await
        .unwrap();
    assert_eq!(stores.anomalies.get(&a.id).await.unwrap(), Some(a));
    assert_eq!(stores.anomalies.get(&bare.id).await.unwrap(), Some(bare));
}

pub async fn deliveries_record_every_attempt_in_order(stores: &Stores) {
    let a = anomaly("api", 0, AnomalyStatus::Open);
    let mut attempt = Delivery {
        anomaly_id: a.id.clone(),
        channel: "discord".into(),
        status: AnomalyStatus::Open,
        attempt: 1,
        at: t(40),
        ok: false,
        http_status: Some(500),
        error: Some("HTTP 500".into()),
    };
    stores.deliveries.record(&attempt).await.unwrap();
    let failed = attempt.clone();
    attempt.attempt = 2;
    attempt.at = t(50);
    attempt.ok = true;
    attempt.http_status = Some(204);
    attempt.error = None;
    stores.deliveries.record(&attempt).await.unwrap();
    let other = Delivery {
        anomaly_id: "another".into(),
        ..attempt.clone()
    };
    stores.deliveries.record(&other).await.unwrap();

    let attempts = stores.deliveries.attempts(&a.id).await.unwrap();
    assert_eq!(attempts, vec![failed, attempt]);
}

/// Stores built with a re-claim timeout of [`RECLAIM_AFTER`].
pub const RECLAIM_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

/// Needs stores whose queue re-claims after [`RECLAIM_AFTER`].
pub async fn queue_reclaims_entries_a_consumer_left_pending(stores: &Stores) {
    let id = stores
        .queue
        .append(&[event(0, "api", Level::Error, "left behind")])
        .await
        .unwrap();
    let first = stores.queue.claim("crashed", 10).await.unwrap();
    assert_eq!(first.len(), 1);
    // Claimed moments ago: not another consumer's yet.
    assert!(stores.queue.claim("rescuer", 10).await.unwrap().is_empty());

    tokio::time::sleep(RECLAIM_AFTER + std::time::Duration::from_millis(300)).await;
    let rescued = stores.queue.claim("rescuer", 10).await.unwrap();
    assert_eq!(rescued.len(), 1, "a stale entry is re-claimed");
    assert_eq!(rescued[0].id, id);
    assert_eq!(rescued[0].events[0].message, "left behind");
    // Now the rescuer's: the crashed consumer, back, does not get it again.
    assert!(stores.queue.claim("crashed", 10).await.unwrap().is_empty());
    stores.queue.ack(&[id]).await.unwrap();
    assert_eq!(stores.queue.backlog().await.unwrap(), 0);
    tokio::time::sleep(RECLAIM_AFTER + std::time::Duration::from_millis(300)).await;
    assert!(
        stores.queue.claim("third", 10).await.unwrap().is_empty(),
        "an acknowledged entry is never delivered again"
    );
}

/// Needs stores whose queue holds at most 2 entries.
pub async fn queue_refuses_appends_when_full_and_loses_nothing(stores: &Stores) {
    let a = stores
        .queue
        .append(&[event(0, "api", Level::Info, "a")])
        .await
        .unwrap();
    stores
        .queue
        .append(&[event(1, "api", Level::Info, "b")])
        .await
        .unwrap();
    let refused = stores
        .queue
        .append(&[event(2, "api", Level::Info, "c")])
        .await
        .unwrap_err();
    assert!(
        matches!(refused, anomalog_store::StoreError::Unavailable(_)),
        "{refused}"
    );
    assert!(refused.to_string().contains("queue full"), "{refused}");
    // Nothing queued earlier was trimmed to make room.
    let claimed = stores.queue.claim("c1", 10).await.unwrap();
    let messages: Vec<&str> = claimed
        .iter()
        .map(|e| e.events[0].message.as_str())
        .collect();
    assert_eq!(messages, ["a", "b"]);
    // Processing makes room again.
    stores.queue.ack(&[a]).await.unwrap();
    stores
        .queue
        .append(&[event(3, "api", Level::Info, "d")])
        .await
        .unwrap();
}

pub async fn queue_entry_ids_make_unique_log_ids_and_cursors(stores: &Stores) {
    // Several entries within one millisecond, each with several events at the
    // same timestamp: ids must still be unique and pages must not skip.
    for _ in 0..4 {
        let events: Vec<LogEvent> = (0..3)
            .map(|i| event(0, "api", Level::Info, &format!("e{i}")))
            .collect();
        stores.queue.append(&events).await.unwrap();
    }
    let entries = stores.queue.claim("c1", 10).await.unwrap();
    assert_eq!(entries.len(), 4);
    let logs: Vec<StoredLog> = entries
        .iter()
        .flat_map(|e| stored(&e.id, &e.events))
        .collect();
    let report = stores.logs.persist(&logs).await.unwrap();
    assert_eq!(report.inserted, 12);
    let ids: Vec<String> = entries.into_iter().map(|e| e.id).collect();
    stores.queue.ack(&ids).await.unwrap();

    let mut seen = Vec::new();
    let mut cursor: Option<LogCursor> = None;
    loop {
        let page = stores
            .logs
            .query(&LogQuery {
                limit: 5,
                cursor: cursor.clone(),
                ..LogQuery::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|l| l.id.clone()));
        match page.next_cursor {
            Some(c) => {
                let text = c.encode();
                cursor = Some(LogCursor::decode(&text).unwrap());
                assert_eq!(cursor.as_ref(), Some(&c), "cursor {text} round-trips");
            }
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (12, 12));
}

pub async fn log_fields_round_trip(stores: &Stores) {
    let mut e = event(0, "api", Level::Warn, "with everything");
    e.host = Some("web-1".into());
    e.trace_id = Some("abc".into());
    e.span_id = Some("def".into());
    e.source = Some("/var/log/app.log".into());
    e.truncated = true;
    e.attrs = serde_json::from_value(serde_json::json!({
        "http.status": 503, "user": {"id": 7, "$tag": "x"}, "tags": ["a", 1.5, null, true]
    }))
    .unwrap();
    stores
        .logs
        .persist(&stored("000000000011", std::slice::from_ref(&e)))
        .await
        .unwrap();
    let page = stores
        .logs
        .query(&LogQuery {
            limit: 1,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items[0].event, e);
}

pub async fn persist_of_partly_stored_logs_adds_only_the_new_ones(stores: &Stores) {
    let events: Vec<LogEvent> = (0..20)
        .map(|i| event(i, "api", Level::Info, &format!("e{i}")))
        .collect();
    let logs = stored("000000000013", &events);
    let first = stores.logs.persist(&logs[5..12]).await.unwrap();
    assert_eq!((first.inserted, first.duplicates), (7, 0));
    let all = stores.logs.persist(&logs).await.unwrap();
    assert_eq!((all.inserted, all.duplicates), (13, 7));
    let rows = stores.rollups.rollups(None, t(-60), t(60)).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 20);
}

pub async fn queue_reports_its_oldest_pending_entry(stores: &Stores) {
    assert_eq!(stores.queue.oldest_pending().await.unwrap(), None);
    let before = Utc::now() - chrono::Duration::seconds(1);
    let a = stores
        .queue
        .append(&[event(0, "api", Level::Info, "a")])
        .await
        .unwrap();
    let after_a = Utc::now() + chrono::Duration::seconds(1);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let b = stores
        .queue
        .append(&[event(1, "api", Level::Info, "b")])
        .await
        .unwrap();
    let oldest_a = stores.queue.oldest_pending().await.unwrap().unwrap();
    assert!(before <= oldest_a && oldest_a <= after_a, "{oldest_a}");

    // Claimed but not acknowledged is still pending.
    assert_eq!(stores.queue.claim("c1", 10).await.unwrap().len(), 2);
    assert_eq!(stores.queue.oldest_pending().await.unwrap(), Some(oldest_a));

    stores.queue.ack(&[a]).await.unwrap();
    let oldest_b = stores.queue.oldest_pending().await.unwrap().unwrap();
    assert!(oldest_b > oldest_a, "{oldest_b} after {oldest_a}");
    stores.queue.ack(&[b]).await.unwrap();
    assert_eq!(stores.queue.oldest_pending().await.unwrap(), None);
}
