//! The block layout's own cases: merges, straddling retention, paging
//! across many blocks, and the move from the row-per-log table. (The
//! behaviour every store shares is in store/tests/contract.)

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, params};

use anomalog_core::{Level, LogEvent, StoredLog};

use super::*;

fn open() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    migrate(&mut conn).unwrap();
    conn
}

fn at(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(1_700_000_000_000 + ms).unwrap()
}

fn log(entry: &str, i: usize, ms: i64, service: &str, level: Level) -> StoredLog {
    StoredLog {
        id: StoredLog::id_for(entry, i),
        event: LogEvent::new(at(ms), service, level, format!("request {i} of {entry}")),
        pattern: Some(format!("p{}", i % 4)),
    }
}

fn persist(conn: &mut Connection, logs: &[StoredLog]) -> usize {
    let tx = conn.transaction().unwrap();
    let fresh = ids::keep_new(&tx, logs).unwrap();
    let n = fresh.len();
    insert(&tx, &fresh).unwrap();
    tx.commit().unwrap();
    n
}

fn block_count(conn: &Connection) -> i64 {
    conn.query_row("SELECT COUNT(*) FROM log_blocks", [], |r| r.get(0))
        .unwrap()
}

/// Every log matching `query`, page by page.
fn all_pages(conn: &Connection, mut query: LogQuery) -> Vec<StoredLog> {
    let mut out = Vec::new();
    loop {
        let page = super::query(conn, &query).unwrap();
        out.extend(page.items);
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return out,
        }
    }
}

/// A text search reads a block only when its filter may hold the needle,
/// whether the filter is this version's Bloom filter or the fuse filter of
/// an earlier one (a data dir opened again gains the filters' `kind`).
#[test]
fn text_search_skips_blocks_by_their_filter_of_either_kind() {
    let mut conn = open();
    let logs: Vec<StoredLog> = (0..300)
        .map(|i| log("e1", i, i as i64, "a", Level::Info))
        .collect();
    persist(&mut conn, &logs);
    let kinds: Vec<i64> = {
        let mut stmt = conn.prepare("SELECT kind FROM log_block_filters").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(kinds, vec![filter::Kind::Bloom as i64]);
    // A block that cannot be read: reading it is an error, skipping it is not.
    conn.execute("UPDATE log_blocks SET data = x'00'", [])
        .unwrap();
    let search = |conn: &Connection, text: &str| {
        super::query(
            conn,
            &LogQuery {
                text: Some(text.into()),
                limit: 10,
                ..LogQuery::default()
            },
        )
    };
    let check = |conn: &Connection| {
        let page = search(conn, "timeout talking to payments").unwrap();
        assert!(page.items.is_empty());
        assert!(matches!(
            search(conn, "REQUEST 12 of"),
            Err(StoreError::Corrupt(_))
        ));
    };
    check(&conn);

    // The same block as an earlier version left it.
    let messages: Vec<String> = logs.iter().map(|l| l.event.message.clone()).collect();
    conn.execute_batch("ALTER TABLE log_block_filters DROP COLUMN kind")
        .unwrap();
    conn.execute(
        "UPDATE log_block_filters SET filter = ?1",
        params![filter::fuse_of(&messages)],
    )
    .unwrap();
    migrate(&mut conn).unwrap();
    check(&conn);
}

/// Small blocks merge once they fill a block that is not small, so a row
/// is merged once: 100-row blocks stay apart until the sixth.
#[test]
fn small_blocks_merge_once_their_rows_fill_a_block() {
    let mut conn = open();
    let mut all = Vec::new();
    let mut counts = Vec::new();
    for pass in 0..7 {
        let entry = format!("{pass:012}");
        let logs: Vec<StoredLog> = (0..100)
            .map(|i| log(&entry, i, (pass * 100 + i) as i64, "api", Level::Info))
            .collect();
        assert_eq!(persist(&mut conn, &logs), 100);
        all.extend(logs);
        counts.push(block_count(&conn));
    }
    // 5 blocks of 100; the sixth merges them into one of 600 rows (not
    // small: never merged again); the seventh is small beside it.
    assert_eq!(counts, [1, 2, 3, 4, 5, 1, 2]);
    let got = all_pages(
        &conn,
        LogQuery {
            limit: 250,
            ..LogQuery::default()
        },
    );
    all.sort_by(|a, b| (b.event.ts, &b.id).cmp(&(a.event.ts, &a.id)));
    assert_eq!(got, all);
}

#[test]
fn small_persists_merge_into_one_block_and_read_back_in_order() {
    let mut conn = open();
    let mut all = Vec::new();
    for pass in 0..MERGE_AT {
        let entry = format!("{pass:012}");
        let logs: Vec<StoredLog> = (0..5)
            .map(|i| log(&entry, i, (pass * 10 + i) as i64 * 7, "api", Level::Info))
            .collect();
        assert_eq!(persist(&mut conn, &logs), 5);
        all.extend(logs);
    }
    assert_eq!(block_count(&conn), 1, "the small blocks were merged");
    let got = all_pages(
        &conn,
        LogQuery {
            limit: 7,
            ..LogQuery::default()
        },
    );
    all.sort_by(|a, b| (b.event.ts, &b.id).cmp(&(a.event.ts, &a.id)));
    assert_eq!(got, all);
}

#[test]
fn pages_across_many_blocks_see_each_log_once_with_every_filter() {
    let mut conn = open();
    let mut all = Vec::new();
    // Three services over five hours, persisted in interleaved batches so
    // blocks overlap in time.
    for batch in 0..12usize {
        let entry = format!("{batch:012}");
        let logs: Vec<StoredLog> = (0..600)
            .map(|i| {
                let service = ["api", "web", "db"][i % 3];
                let level = if i % 10 == 0 {
                    Level::Error
                } else {
                    Level::Info
                };
                let ms = ((i * 12 + batch) as i64 * 2_503) % (5 * PART_MS);
                log(&entry, i, ms, service, level)
            })
            .collect();
        persist(&mut conn, &logs);
        all.extend(logs);
    }
    let newest_first = |mut v: Vec<StoredLog>| {
        v.sort_by(|a, b| (b.event.ts, &b.id).cmp(&(a.event.ts, &a.id)));
        v
    };
    let queries = [
        LogQuery::default(),
        LogQuery {
            service: Some("web".into()),
            ..LogQuery::default()
        },
        LogQuery {
            min_level: Some(Level::Error),
            ..LogQuery::default()
        },
        LogQuery {
            text: Some("REQUEST 42 ".into()),
            ..LogQuery::default()
        },
        LogQuery {
            from: Some(at(PART_MS)),
            to: Some(at(2 * PART_MS + 17)),
            ..LogQuery::default()
        },
        LogQuery {
            patterns: vec!["p1".into()],
            service: Some("api".into()),
            ..LogQuery::default()
        },
    ];
    for query in queries {
        let expected = newest_first(
            all.iter()
                .filter(|l| query.service.as_ref().is_none_or(|s| &l.event.service == s))
                .filter(|l| query.min_level.is_none_or(|m| l.event.level >= m))
                .filter(|l| {
                    query
                        .text
                        .as_ref()
                        .is_none_or(|t| l.event.message.to_lowercase().contains(&t.to_lowercase()))
                })
                .filter(|l| query.from.is_none_or(|f| l.event.ts >= f))
                .filter(|l| query.to.is_none_or(|t| l.event.ts < t))
                .filter(|l| {
                    query.patterns.is_empty()
                        || l.pattern
                            .as_ref()
                            .is_some_and(|p| query.patterns.contains(p))
                })
                .cloned()
                .collect(),
        );
        assert!(!expected.is_empty(), "{query:?} matches something");
        let got = all_pages(
            &conn,
            LogQuery {
                limit: 97,
                ..query.clone()
            },
        );
        assert_eq!(got.len(), expected.len(), "{query:?}");
        assert!(got == expected, "{query:?}: same logs in the same order");
    }
}

#[test]
fn retention_cuts_through_a_block_and_keeps_its_newer_rows() {
    let mut conn = open();
    let logs: Vec<StoredLog> = (0..100)
        .map(|i| log("000000000001", i, i as i64 * 1_000, "api", Level::Info))
        .collect();
    persist(&mut conn, &logs);
    let tx = conn.transaction().unwrap();
    let cutoff = at(40_000).timestamp_millis();
    assert_eq!(delete_before(&tx, cutoff).unwrap(), 40);
    tx.commit().unwrap();
    let left = all_pages(&conn, LogQuery::default());
    assert_eq!(left.len(), 60);
    assert!(left.iter().all(|l| l.event.ts >= at(40_000)));
    // Persisting the same entry again stores nothing new: its ids are
    // still known, as the entry has logs newer than the cutoff.
    assert_eq!(persist(&mut conn, &logs), 0);
}

#[test]
fn the_row_per_log_table_of_an_earlier_version_moves_into_blocks() {
    let mut conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE logs (id TEXT PRIMARY KEY, ts INTEGER NOT NULL, service TEXT NOT NULL,
                            level INTEGER NOT NULL, message TEXT NOT NULL, doc TEXT NOT NULL,
                            pattern TEXT)",
    )
    .unwrap();
    let old: Vec<StoredLog> = (0..30)
        .map(|i| log("000000000009", i, i as i64, "api", Level::Warn))
        .collect();
    for l in &old {
        // The earlier document: the whole event, message included, and the
        // pattern only in its column.
        let doc = serde_json::json!({
            "id": l.id, "ts": l.event.ts, "received_at": l.event.received_at,
            "service": l.event.service, "level": "WARN", "message": l.event.message,
        });
        conn.execute(
            "INSERT INTO logs (id, ts, service, level, message, doc, pattern)
             VALUES (?1, ?2, 'api', 3, ?3, ?4, ?5)",
            params![
                l.id,
                l.event.ts.timestamp_millis(),
                l.event.message,
                doc.to_string(),
                l.pattern
            ],
        )
        .unwrap();
    }
    migrate(&mut conn).unwrap();
    let gone: bool = conn
        .prepare("SELECT 1 FROM sqlite_master WHERE name = 'logs'")
        .unwrap()
        .exists([])
        .unwrap();
    assert!(!gone, "the old table is dropped");
    let mut expected = old.clone();
    expected.reverse();
    assert_eq!(all_pages(&conn, LogQuery::default()), expected);
    // Their ids are known: a re-delivery of the entry is a duplicate.
    assert_eq!(persist(&mut conn, &old), 0);
}
