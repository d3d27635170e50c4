//! The pattern part of the storage contract: pattern ids on logs, pattern
//! rollups written by `persist` exactly once, pattern records and miner state.

use anomalog_core::Level;
use anomalog_core::pattern::{Miner, MinerConfig};
use anomalog_core::rollup::bucket_start;
use anomalog_store::{LogQuery, PATTERN_BUCKET_SECS, PatternQuery, PatternSighting, Stores};

use super::{event, t};

fn with_pattern(entry: &str, items: &[(i64, Level, &str, &str)]) -> Vec<anomalog_core::StoredLog> {
    items
        .iter()
        .enumerate()
        .map(
            |(i, (secs, level, message, pattern))| anomalog_core::StoredLog {
                id: anomalog_core::StoredLog::id_for(entry, i),
                event: event(*secs, "api", *level, message),
                pattern: Some((*pattern).to_owned()),
            },
        )
        .collect()
}

pub async fn pattern_rollups_count_each_inserted_log_once(stores: &Stores) {
    let logs = with_pattern(
        "000000000001",
        &[
            (0, Level::Info, "user 1 in", "aaaaaaaaaaaaaaaa"),
            (1, Level::Info, "user 2 in", "aaaaaaaaaaaaaaaa"),
            (2, Level::Error, "db down", "bbbbbbbbbbbbbbbb"),
            (100, Level::Info, "user 3 in", "aaaaaaaaaaaaaaaa"),
        ],
    );
    stores.logs.persist(&logs).await.unwrap();
    // A re-delivery of the same logs adds nothing.
    let again = stores.logs.persist(&logs).await.unwrap();
    assert_eq!(again.inserted, 0);

    let rows = stores
        .patterns
        .pattern_rollups(Some("api"), &[], t(-100), t(200))
        .await
        .unwrap();
    let count = |pattern: &str, minute| -> u64 {
        rows.iter()
            .filter(|r| r.pattern == pattern && r.bucket == minute)
            .map(|r| r.count)
            .sum()
    };
    let first = bucket_start(t(0), PATTERN_BUCKET_SECS);
    let later = bucket_start(t(100), PATTERN_BUCKET_SECS);
    assert_ne!(first, later);
    assert_eq!(count("aaaaaaaaaaaaaaaa", first), 2);
    assert_eq!(count("aaaaaaaaaaaaaaaa", later), 1);
    assert_eq!(count("bbbbbbbbbbbbbbbb", first), 1);
    let error_row = rows
        .iter()
        .find(|r| r.pattern == "bbbbbbbbbbbbbbbb")
        .unwrap();
    assert_eq!(error_row.level, Level::Error);
    assert_eq!(rows.iter().map(|r| r.count).sum::<u64>(), 4);

    let only_b = stores
        .patterns
        .pattern_rollups(None, &["bbbbbbbbbbbbbbbb".to_owned()], t(-100), t(200))
        .await
        .unwrap();
    assert_eq!(only_b.len(), 1);

    // Logs carry their pattern and can be filtered by it.
    let page = stores
        .logs
        .query(&LogQuery {
            patterns: vec!["aaaaaaaaaaaaaaaa".to_owned()],
            limit: 10,
            ..LogQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(
        page.items
            .iter()
            .all(|l| l.pattern.as_deref() == Some("aaaaaaaaaaaaaaaa"))
    );

    // Retention applies to pattern rollups like the others.
    stores.logs.delete_before(t(50)).await.unwrap();
    let left = stores
        .patterns
        .pattern_rollups(None, &[], t(-100), t(200))
        .await
        .unwrap();
    assert_eq!(left.iter().map(|r| r.count).sum::<u64>(), 1);
}

fn sighting(id: &str, first: i64, last: i64, total: u64, examples: &[&str]) -> PatternSighting {
    PatternSighting {
        service: "api".into(),
        id: id.into(),
        template: "user <*> in".into(),
        first_seen: t(first),
        last_seen: t(last),
        total,
        max_level: Level::Info,
        examples: examples.iter().map(|e| (*e).to_owned()).collect(),
        merged_into: None,
    }
}

pub async fn pattern_records_merge_sightings(stores: &Stores) {
    let p = &stores.patterns;
    p.record_patterns(&[sighting(
        "aaaaaaaaaaaaaaaa",
        10,
        20,
        5,
        &["user 1 in", "user 2 in"],
    )])
    .await
    .unwrap();
    let mut later = sighting(
        "aaaaaaaaaaaaaaaa",
        5,
        30,
        9,
        &["user 2 in", "user 3 in", "user 4 in"],
    );
    later.max_level = Level::Warn;
    p.record_patterns(std::slice::from_ref(&later))
        .await
        .unwrap();
    // Repeating a call changes nothing.
    p.record_patterns(&[later]).await.unwrap();
    let mut other = sighting("bbbbbbbbbbbbbbbb", 40, 40, 1, &["disk full"]);
    other.template = "disk full".into();
    p.record_patterns(&[other.clone()]).await.unwrap();

    let a = p.pattern("aaaaaaaaaaaaaaaa").await.unwrap().unwrap();
    assert_eq!(a.first_seen, t(5));
    assert_eq!(a.last_seen, t(30));
    assert_eq!(a.total, 9);
    assert_eq!(a.max_level, Level::Warn);
    assert_eq!(a.examples, vec!["user 1 in", "user 2 in", "user 3 in"]);
    assert_eq!(a.merged_into, None);
    assert!(p.pattern("cccccccccccccccc").await.unwrap().is_none());

    let all = p
        .patterns(&PatternQuery {
            service: Some("api".into()),
            limit: 10,
            ..PatternQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]
    );
    let text = p
        .patterns(&PatternQuery {
            text: Some("DISK".into()),
            limit: 10,
            ..PatternQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(text.len(), 1);
    assert_eq!(text[0].template, "disk full");
    let recent = p
        .patterns(&PatternQuery {
            since: Some(t(35)),
            limit: 10,
            ..PatternQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(recent.len(), 1);

    // A merged pattern leaves the default listing but stays readable.
    other.merged_into = Some("aaaaaaaaaaaaaaaa".into());
    p.record_patterns(&[other]).await.unwrap();
    let live = p
        .patterns(&PatternQuery {
            limit: 10,
            ..PatternQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(live.len(), 1);
    let merged = p.pattern("bbbbbbbbbbbbbbbb").await.unwrap().unwrap();
    assert_eq!(merged.merged_into.as_deref(), Some("aaaaaaaaaaaaaaaa"));
}

pub async fn retention_deletes_patterns_last_seen_before_the_cutoff(stores: &Stores) {
    let p = &stores.patterns;
    p.record_patterns(&[
        sighting("aaaaaaaaaaaaaaaa", 0, 40, 3, &["user 1 in"]),
        sighting("bbbbbbbbbbbbbbbb", 10, 60, 2, &["user 2 in"]),
    ])
    .await
    .unwrap();
    stores.logs.delete_before(t(50)).await.unwrap();
    assert!(
        p.pattern("aaaaaaaaaaaaaaaa").await.unwrap().is_none(),
        "last seen before the cutoff: gone with its lines"
    );
    let kept = p.pattern("bbbbbbbbbbbbbbbb").await.unwrap().unwrap();
    assert_eq!(
        kept.first_seen,
        t(10),
        "a pattern seen since keeps its history"
    );
}

pub async fn miner_state_round_trips(stores: &Stores) {
    assert!(stores.patterns.miner_state("api").await.unwrap().is_none());
    let mut miner = Miner::new("api", MinerConfig::default());
    for n in 0..20 {
        miner.mine(&format!("user {n} logged in from 10.0.0.{n}"));
    }
    miner.mine("disk /var is full");
    let first = miner.snapshot();
    stores
        .patterns
        .save_miner_states(std::slice::from_ref(&first))
        .await
        .unwrap();
    miner.mine("cache warmed in 30 ms");
    let second = miner.snapshot();
    stores
        .patterns
        .save_miner_states(std::slice::from_ref(&second))
        .await
        .unwrap();
    let loaded = stores.patterns.miner_state("api").await.unwrap().unwrap();
    assert_eq!(loaded, second);
    assert!(stores.patterns.miner_state("web").await.unwrap().is_none());
}
