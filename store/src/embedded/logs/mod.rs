//! The embedded store's logs: compressed blocks, not a row per log.
//!
//! Each block holds the logs of one service and one hour, oldest first (the
//! WARN-and-above ones of an hour apart from the others), in
//! columns ([`block::Columns`]) compressed with zstd. A block row carries what
//! lets a query skip it unread: its service, time span and a bitmap of the
//! levels in it, plus its patterns in `log_block_patterns`. A persist writes
//! one block per service and hour it touches (up to [`BLOCK_ROWS`] rows);
//! small blocks of one service and hour (real-time traffic writes one every
//! pass) are merged once they fill a block that is not small (or
//! [`MERGE_AT`] of them have gathered). Which logs are
//! stored is kept apart, per queue entry ([`ids`]), so persist stays
//! idempotent by id.
//!
//! A query reads blocks newest first (by their last time) and stops as soon
//! as no unread block can hold a log newer than the page it has.

mod block;
mod filter;
pub(super) mod ids;

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, Transaction, params, params_from_iter, types::Value};

use anomalog_core::{Level, StoredLog};

use self::block::Columns;
use crate::StoreError;
use crate::claimed::{ClaimedEvent, ClaimedRow};
use crate::ports::{LogCursor, LogPage, LogQuery};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log_blocks (
    id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    part INTEGER NOT NULL,
    ts_min INTEGER NOT NULL,
    ts_max INTEGER NOT NULL,
    levels INTEGER NOT NULL,
    rows INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS log_blocks_ts ON log_blocks (ts_max);
CREATE INDEX IF NOT EXISTS log_blocks_service_ts ON log_blocks (service, ts_max);
CREATE INDEX IF NOT EXISTS log_blocks_part ON log_blocks (service, part, rows);
CREATE TABLE IF NOT EXISTS log_block_patterns (
    pattern TEXT NOT NULL,
    block INTEGER NOT NULL,
    PRIMARY KEY (pattern, block)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_block_patterns_block ON log_block_patterns (block);
CREATE TABLE IF NOT EXISTS log_block_filters (
    block INTEGER PRIMARY KEY,
    filter BLOB NOT NULL,
    kind INTEGER NOT NULL DEFAULT 0
);
";

/// Most rows in one block.
const BLOCK_ROWS: usize = 4096;
/// A block with fewer rows is small: it is merged with the other small
/// blocks of its service and hour once they hold this many rows together
/// (the merged block is then not small, so a row is merged about once:
/// merging every eight small blocks rewrote the rows of a rare level's
/// part two or three times, 14% of the CPU of a sustained run).
const SMALL_BLOCK: i64 = 512;
/// Small blocks of one service and hour merged whatever their rows (a
/// trickle of one log per pass must not leave thousands of blocks).
const MERGE_AT: usize = 32;
/// The span of time one block may cover (an hour, in milliseconds).
const PART_MS: i64 = 3_600_000;

/// Rows of the old row-per-log table moved per transaction when an older
/// data directory is opened.
const MIGRATE_ROWS: i64 = 20_000;

/// The part of a log: its hour, and whether it is WARN or above, so the
/// few severe logs of an hour share blocks of their own and a query for them
/// does not read the rest.
fn part_of(event: &ClaimedEvent<'_>) -> i64 {
    let hour = event.ts.timestamp_millis().div_euclid(PART_MS);
    hour * 2 + i64::from(event.level >= Level::Warn)
}

/// Creates the tables, and moves the logs of an earlier version's `logs`
/// table (a row per log) into blocks.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    conn.execute_batch(SCHEMA)?;
    conn.execute_batch(ids::SCHEMA)?;
    let has = |conn: &Connection, sql: &str| -> Result<bool, StoreError> {
        Ok(conn.prepare(sql)?.exists([])?)
    };
    // Filters of earlier versions are all fuse filters (kind 0).
    if !has(
        conn,
        "SELECT 1 FROM pragma_table_info('log_block_filters') WHERE name = 'kind'",
    )? {
        conn.execute_batch(
            "ALTER TABLE log_block_filters ADD COLUMN kind INTEGER NOT NULL DEFAULT 0",
        )?;
    }
    if !has(
        conn,
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'logs'",
    )? {
        return Ok(());
    }
    let with_pattern = has(
        conn,
        "SELECT 1 FROM pragma_table_info('logs') WHERE name = 'pattern'",
    )?;
    let select = if with_pattern {
        "SELECT rowid, doc, pattern FROM logs ORDER BY rowid LIMIT ?1"
    } else {
        "SELECT rowid, doc, NULL FROM logs ORDER BY rowid LIMIT ?1"
    };
    let mut moved = 0u64;
    loop {
        let tx = conn.transaction()?;
        let mut last = None;
        let mut logs = Vec::new();
        {
            let mut stmt = tx.prepare(select)?;
            let mut rows = stmt.query(params![MIGRATE_ROWS])?;
            while let Some(row) = rows.next()? {
                last = Some(row.get::<_, i64>(0)?);
                let mut log = crate::records::decode_log(
                    row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?,
                )?;
                if log.pattern.is_none() {
                    log.pattern = row.get(2)?;
                }
                logs.push(log);
            }
        }
        let Some(last) = last else {
            tx.execute_batch("DROP TABLE logs")?;
            tx.commit()?;
            break;
        };
        let fresh = ids::keep_new(&tx, &logs)?;
        moved += fresh.len() as u64;
        insert(&tx, &fresh)?;
        tx.execute("DELETE FROM logs WHERE rowid <= ?1", params![last])?;
        tx.commit()?;
    }
    tracing::info!(
        logs = moved,
        "moved the logs of an earlier version into blocks"
    );
    Ok(())
}

/// The blocks of a set of logs, encoded and compressed (which can happen
/// before the writer's lock is taken), ready for [`write`].
pub(super) struct Prepared {
    blocks: Vec<Encoded>,
}

struct Encoded {
    service: String,
    part: i64,
    ts_min: i64,
    ts_max: i64,
    levels: i64,
    rows: i64,
    patterns: BTreeSet<String>,
    filter: Option<Vec<u8>>,
    data: Vec<u8>,
}

impl Encoded {
    fn new(service: &str, part: i64, columns: &Columns) -> Result<Option<Encoded>, StoreError> {
        let (Some(&ts_min), Some(&ts_max)) = (columns.ts.first(), columns.ts.last()) else {
            return Ok(None);
        };
        Ok(Some(Encoded {
            service: service.to_owned(),
            part,
            ts_min,
            ts_max,
            levels: columns.level_mask(),
            rows: i64::try_from(columns.len()).unwrap_or(i64::MAX),
            patterns: columns.patterns.iter().flatten().cloned().collect(),
            filter: columns.text_filter(),
            data: columns.encode()?,
        }))
    }
}

/// Encodes `rows` as blocks: one or more per service and hour.
pub(super) fn prepare(rows: Vec<ClaimedRow<'_>>) -> Result<Prepared, StoreError> {
    let mut groups: BTreeMap<(&str, i64), Vec<ClaimedRow<'_>>> = BTreeMap::new();
    for row in rows {
        let part = part_of(&row.event);
        groups
            .entry((row.event.service, part))
            .or_default()
            .push(row);
    }
    let mut blocks = Vec::new();
    for ((service, part), mut group) in groups {
        group.sort_by(|a, b| (a.event.ts, &a.id).cmp(&(b.event.ts, &b.id)));
        for chunk in group.chunks(BLOCK_ROWS) {
            let mut columns = Columns::default();
            for row in chunk {
                columns.push_row(row)?;
            }
            blocks.extend(Encoded::new(service, part, &columns)?);
        }
    }
    Ok(Prepared { blocks })
}

/// Writes prepared blocks, then merges the small blocks of each service and
/// hour written to.
pub(super) fn write(tx: &Transaction<'_>, prepared: Prepared) -> Result<(), StoreError> {
    let mut touched = BTreeSet::new();
    for block in prepared.blocks {
        write_encoded(tx, &block)?;
        touched.insert((block.service, block.part));
    }
    for (service, part) in touched {
        merge_small(tx, &service, part)?;
    }
    Ok(())
}

/// Writes `logs` as blocks (see [`prepare`] and [`write`]).
pub(super) fn insert(tx: &Transaction<'_>, logs: &[&StoredLog]) -> Result<(), StoreError> {
    write(
        tx,
        prepare(logs.iter().copied().map(ClaimedRow::of).collect())?,
    )
}

fn write_block(
    tx: &Transaction<'_>,
    service: &str,
    part: i64,
    columns: &Columns,
) -> Result<(), StoreError> {
    match Encoded::new(service, part, columns)? {
        Some(block) => write_encoded(tx, &block),
        None => Ok(()),
    }
}

fn write_encoded(tx: &Transaction<'_>, block: &Encoded) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO log_blocks (service, part, ts_min, ts_max, levels, rows, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        block.service,
        block.part,
        block.ts_min,
        block.ts_max,
        block.levels,
        block.rows,
        block.data
    ])?;
    let id = tx.last_insert_rowid();
    let mut add = tx.prepare_cached(
        "INSERT OR IGNORE INTO log_block_patterns (pattern, block) VALUES (?1, ?2)",
    )?;
    for pattern in &block.patterns {
        add.execute(params![pattern, id])?;
    }
    if let Some(filter) = &block.filter {
        tx.prepare_cached(
            "INSERT INTO log_block_filters (block, filter, kind) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![id, filter, filter::Kind::Bloom as i64])?;
    }
    Ok(())
}

fn delete_block(tx: &Transaction<'_>, block: i64) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM log_block_patterns WHERE block = ?1")?
        .execute(params![block])?;
    tx.prepare_cached("DELETE FROM log_block_filters WHERE block = ?1")?
        .execute(params![block])?;
    tx.prepare_cached("DELETE FROM log_blocks WHERE id = ?1")?
        .execute(params![block])?;
    Ok(())
}

/// Merges the small blocks of one service and hour once they hold
/// [`SMALL_BLOCK`] rows together or [`MERGE_AT`] of them have gathered.
/// Their sizes are read first; their data only for a merge.
fn merge_small(tx: &Transaction<'_>, service: &str, part: i64) -> Result<(), StoreError> {
    let small: Vec<(i64, i64)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, rows FROM log_blocks WHERE service = ?1 AND part = ?2 AND rows < ?3",
        )?;
        let rows = stmt.query_map(params![service, part, SMALL_BLOCK], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let rows: i64 = small.iter().map(|(_, rows)| rows).sum();
    if small.len() < 2 || (rows < SMALL_BLOCK && small.len() < MERGE_AT) {
        return Ok(());
    }
    let mut blocks = Vec::with_capacity(small.len());
    for (id, _) in &small {
        let data: Vec<u8> = tx
            .prepare_cached("SELECT data FROM log_blocks WHERE id = ?1")?
            .query_row(params![id], |row| row.get(0))?;
        blocks.push(Columns::decode(&data)?);
        delete_block(tx, *id)?;
    }
    let merged = merge(blocks)?;
    for columns in split(merged)? {
        write_block(tx, service, part, &columns)?;
    }
    Ok(())
}

/// The rows of `blocks` in one block, in (ts, id) order.
fn merge(mut blocks: Vec<Columns>) -> Result<Columns, StoreError> {
    let mut order: Vec<(usize, usize)> = blocks
        .iter()
        .enumerate()
        .flat_map(|(b, columns)| (0..columns.len()).map(move |i| (b, i)))
        .collect();
    order.sort_by(|&(b1, i1), &(b2, i2)| {
        (blocks[b1].ts[i1], &blocks[b1].ids[i1]).cmp(&(blocks[b2].ts[i2], &blocks[b2].ids[i2]))
    });
    let mut out = Columns::default();
    for (b, i) in order {
        out.take_row(&mut blocks[b], i)?;
    }
    Ok(out)
}

/// `columns` cut into blocks of at most [`BLOCK_ROWS`] rows.
fn split(mut columns: Columns) -> Result<Vec<Columns>, StoreError> {
    if columns.len() <= BLOCK_ROWS {
        return Ok(vec![columns]);
    }
    let mut out = Vec::new();
    let mut current = Columns::default();
    for i in 0..columns.len() {
        current.take_row(&mut columns, i)?;
        if current.len() == BLOCK_ROWS {
            out.push(std::mem::take(&mut current));
        }
    }
    if current.len() > 0 {
        out.push(current);
    }
    Ok(out)
}

/// Bits of every level at least `min` (the `levels` column's encoding).
fn levels_from(min: Level) -> i64 {
    Level::ALL
        .iter()
        .filter(|l| **l >= min)
        .fold(0, |mask, l| mask | 1 << l.rank())
}

/// Logs matching `query`, newest first.
pub(super) fn query(conn: &Connection, query: &LogQuery) -> Result<LogPage, StoreError> {
    let needle = query.text.as_ref().map(|t| t.to_ascii_lowercase());
    let needle_keys = needle
        .as_deref()
        .map(filter::needle_trigrams)
        .unwrap_or_default();
    // The scan reads what decides whether a block is read (its filter only
    // when there is a needle), never the block itself: SQLite reads every
    // selected column of each row it steps over.
    let mut sql = if needle_keys.is_empty() {
        String::from("SELECT b.ts_max, b.id, NULL, NULL FROM log_blocks AS b WHERE 1=1")
    } else {
        String::from(
            "SELECT b.ts_max, b.id, f.filter, f.kind FROM log_blocks AS b
             LEFT JOIN log_block_filters AS f ON f.block = b.id WHERE 1=1",
        )
    };
    let mut args: Vec<Value> = Vec::new();
    if let Some(service) = &query.service {
        sql.push_str(" AND b.service = ?");
        args.push(Value::Text(service.clone()));
    }
    if let Some(level) = query.min_level {
        sql.push_str(" AND (b.levels & ?) != 0");
        args.push(Value::Integer(levels_from(level)));
    }
    let from = query.from.map(|t| t.timestamp_millis());
    let to = query.to.map(|t| t.timestamp_millis());
    if let Some(from) = from {
        sql.push_str(" AND b.ts_max >= ?");
        args.push(Value::Integer(from));
    }
    if let Some(to) = to {
        sql.push_str(" AND b.ts_min < ?");
        args.push(Value::Integer(to));
    }
    let cursor = query
        .cursor
        .as_ref()
        .map(|c| (c.ts.timestamp_millis(), c.id.as_str()));
    if let Some((ts, _)) = cursor {
        sql.push_str(" AND b.ts_min <= ?");
        args.push(Value::Integer(ts));
    }
    if !query.patterns.is_empty() {
        sql.push_str(" AND b.id IN (SELECT block FROM log_block_patterns WHERE pattern IN (");
        sql.push_str(&vec!["?"; query.patterns.len()].join(", "));
        sql.push_str("))");
        args.extend(query.patterns.iter().cloned().map(Value::Text));
    }
    sql.push_str(" ORDER BY b.ts_max DESC");

    let min_rank = query.min_level.map(Level::rank);
    let mut data_of = conn.prepare_cached("SELECT data FROM log_blocks WHERE id = ?1")?;
    let patterns: BTreeSet<&str> = query.patterns.iter().map(String::as_str).collect();
    let want = query.limit.max(1) + 1;
    // Every block read that still holds a row of the page, and the page's
    // rows as (block slot, row index), newest first after each `trim`; a row
    // is decoded only once it is known to be on the page. `floor` is the
    // `want`-th newest row once there are that many: nothing older can make
    // the page.
    let mut blocks: Vec<Option<Columns>> = Vec::new();
    let mut page: Vec<(usize, usize)> = Vec::new();
    let mut floor: Option<(i64, String)> = None;

    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    while let Some(row) = rows.next()? {
        let ts_max: i64 = row.get(0)?;
        if floor.as_ref().is_some_and(|(fts, _)| ts_max < *fts) {
            break;
        }
        if !needle_keys.is_empty()
            && let Some(filter) = row
                .get_ref(2)?
                .as_blob_or_null()
                .map_err(rusqlite::Error::from)?
            && !filter::may_contain(filter::Kind::of(row.get(3)?)?, filter, &needle_keys)?
        {
            continue;
        }
        let id: i64 = row.get(1)?;
        let columns = data_of.query_row(params![id], |data| {
            Ok(Columns::decode(data.get_ref(0)?.as_blob()?))
        })??;
        let slot = blocks.len();
        let mut taken = 0;
        // A block's rows are in (ts, id) order: read them newest first and
        // stop at the first one that cannot make the page.
        for i in (0..columns.len()).rev() {
            let ts = columns.ts[i];
            let id = columns.ids[i].as_str();
            if from.is_some_and(|from| ts < from)
                || floor
                    .as_ref()
                    .is_some_and(|(fts, fid)| (ts, id) <= (*fts, fid.as_str()))
            {
                break;
            }
            let keep = min_rank.is_none_or(|min| columns.levels[i] >= min)
                && to.is_none_or(|to| ts < to)
                && cursor.is_none_or(|(cts, cid)| ts < cts || (ts == cts && id < cid))
                && (patterns.is_empty()
                    || columns.patterns[i]
                        .as_deref()
                        .is_some_and(|p| patterns.contains(p)))
                && needle
                    .as_deref()
                    .is_none_or(|n| columns.messages[i].to_ascii_lowercase().contains(n));
            if keep {
                page.push((slot, i));
                taken += 1;
                if taken == want {
                    break;
                }
            }
        }
        // Only a block with rows on the page is kept (at `slot`, the index
        // its rows were recorded under).
        if taken > 0 {
            blocks.push(Some(columns));
            floor = trim(&mut page, &mut blocks, want);
        }
    }
    let limit = want - 1;
    let more = page.len() > limit;
    page.truncate(limit);
    let mut items = Vec::with_capacity(page.len());
    for (slot, i) in page {
        if let Some(columns) = &blocks[slot] {
            items.push(columns.log(i)?);
        }
    }
    let next_cursor = more
        .then(|| {
            items.last().map(|log| LogCursor {
                ts: log.event.ts,
                id: log.id.clone(),
            })
        })
        .flatten();
    Ok(LogPage { items, next_cursor })
}

/// Sorts `page` newest first (by time, then id), keeps the first `want` and
/// drops the blocks none of them is in; returns the last kept once there are
/// `want`.
fn trim(
    page: &mut Vec<(usize, usize)>,
    blocks: &mut [Option<Columns>],
    want: usize,
) -> Option<(i64, String)> {
    let key =
        |&(slot, i): &(usize, usize)| blocks[slot].as_ref().map(|c| (c.ts[i], c.ids[i].as_str()));
    page.sort_by(|a, b| key(b).cmp(&key(a)));
    page.truncate(want);
    let floor = (page.len() == want)
        .then(|| {
            page.last()
                .and_then(key)
                .map(|(ts, id)| (ts, id.to_owned()))
        })
        .flatten();
    let kept: BTreeSet<usize> = page.iter().map(|&(slot, _)| slot).collect();
    for (slot, block) in blocks.iter_mut().enumerate() {
        if !kept.contains(&slot) {
            *block = None;
        }
    }
    floor
}

/// Deletes the logs older than `cutoff_ms`; returns how many.
pub(super) fn delete_before(tx: &Transaction<'_>, cutoff_ms: i64) -> Result<u64, StoreError> {
    let whole: i64 = tx.query_row(
        "SELECT COALESCE(SUM(rows), 0) FROM log_blocks WHERE ts_max < ?1",
        params![cutoff_ms],
        |row| row.get(0),
    )?;
    tx.execute(
        "DELETE FROM log_block_patterns
         WHERE block IN (SELECT id FROM log_blocks WHERE ts_max < ?1)",
        params![cutoff_ms],
    )?;
    tx.execute(
        "DELETE FROM log_block_filters
         WHERE block IN (SELECT id FROM log_blocks WHERE ts_max < ?1)",
        params![cutoff_ms],
    )?;
    tx.execute(
        "DELETE FROM log_blocks WHERE ts_max < ?1",
        params![cutoff_ms],
    )?;
    let mut deleted = u64::try_from(whole).unwrap_or(0);
    // Blocks that straddle the cutoff keep their newer rows.
    let straddling: Vec<(i64, String, i64, Vec<u8>)> = {
        let mut stmt =
            tx.prepare("SELECT id, service, part, data FROM log_blocks WHERE ts_min < ?1")?;
        let rows = stmt.query_map(params![cutoff_ms], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?;
        rows.collect::<Result<_, _>>()?
    };
    for (id, service, part, data) in straddling {
        let mut old = Columns::decode(&data)?;
        let mut kept = Columns::default();
        for i in 0..old.len() {
            if old.ts[i] >= cutoff_ms {
                kept.take_row(&mut old, i)?;
            } else {
                deleted += 1;
            }
        }
        delete_block(tx, id)?;
        write_block(tx, &service, part, &kept)?;
    }
    ids::delete_before(tx, cutoff_ms)?;
    Ok(deleted)
}

#[cfg(test)]
mod tests;
