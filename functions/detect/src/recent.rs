//! The rollups of the lookback, kept by a worker from one pass to the next.
//!
//! Every pass judges the lookback's rollups (and per-minute pattern counts)
//! of every service. Read whole, that is hundreds of thousands of rows a
//! pass at 10,000 services, most of them unchanged since the previous pass
//! a second earlier: the read and the grouping were half of a pass with no
//! new minute. Rollups change only when a drain persists events (and when
//! retention deletes days-old rows, far behind any lookback), and a
//! worker's drain is the only one of its queue (`anomalog up` is one
//! process; the detect Lambda runs one instance at a time). So a
//! [`RecentRollups`] keeps what the last pass read, and the next reads only
//! the buckets from the oldest event persisted since (or from the end of
//! what it holds, whichever is earlier) and the new ones.
//!
//! A drain marks the cache before it writes ([`RecentRollups::mark`]); the
//! mark is cleared only once both reads succeed, so rows written by a pass
//! that failed after its drain are read again. A cache that is empty, whose
//! range the lookback has moved before, or whose last read failed reads the
//! whole lookback, as a pass without one does.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use anomalog_core::detect::pattern_rate::PatternMinute;
use anomalog_core::rollup::{RollupRow, bucket_start};
use anomalog_store::{PatternRollupRow, StoreError, Stores};

/// Width the mark is rounded down to: a minute, the pattern rollups'
/// bucket (a multiple of the fine rollups' ten seconds).
const MARK_SECS: i64 = 60;

/// What a worker's passes keep of the lookback's rollups; empty, it reads
/// the whole lookback at its first pass.
#[derive(Debug, Default)]
pub struct RecentRollups {
    rollups: Recent<RollupRow>,
    patterns: Recent<PatternMinute>,
    /// Start of the minute of the oldest event persisted since the last
    /// successful read.
    dirty_from: Option<DateTime<Utc>>,
}

/// Rows by service over `covered` (`from <= bucket < to`).
#[derive(Debug)]
struct Recent<T> {
    by_service: BTreeMap<String, Vec<T>>,
    covered: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl<T> Default for Recent<T> {
    fn default() -> Self {
        Recent {
            by_service: BTreeMap::new(),
            covered: None,
        }
    }
}

impl RecentRollups {
    /// Marks the buckets from event time `ts` on as changed: call it before
    /// persisting events of that time.
    pub(crate) fn mark(&mut self, ts: DateTime<Utc>) {
        let minute = bucket_start(ts, MARK_SECS);
        self.dirty_from = Some(self.dirty_from.map_or(minute, |d| d.min(minute)));
    }

    /// Brings both caches to `from..to`, reading what may have changed.
    pub(crate) async fn refresh(
        &mut self,
        stores: &Stores,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let dirty = self.dirty_from;
        let start = self.rollups.read_from(from, to, dirty);
        self.rollups.covered = None;
        let rows = stores.rollups.rollups(None, start, to).await?;
        self.rollups.replace(from, start, to, rows);

        let start = self.patterns.read_from(from, to, dirty);
        self.patterns.covered = None;
        let rows = stores
            .patterns
            .pattern_rollups(None, &[], start, to)
            .await?;
        self.patterns.replace(from, start, to, rows);
        self.dirty_from = None;
        Ok(())
    }

    /// The lookback's rollup rows, by service.
    pub(crate) fn rollups(&self) -> &BTreeMap<String, Vec<RollupRow>> {
        &self.rollups.by_service
    }

    /// The lookback's per-minute pattern counts, by service.
    pub(crate) fn pattern_minutes(&self) -> &BTreeMap<String, Vec<PatternMinute>> {
        &self.patterns.by_service
    }
}

/// A row a cache holds: its bucket's start.
trait Held {
    fn bucket(&self) -> DateTime<Utc>;
}

impl Held for RollupRow {
    fn bucket(&self) -> DateTime<Utc> {
        self.bucket
    }
}

impl Held for PatternMinute {
    fn bucket(&self) -> DateTime<Utc> {
        self.minute
    }
}

/// A row as the store reads it: its service, and the row held of it.
trait Read<T> {
    fn service(&self) -> &str;
    fn into_held(self) -> T;
}

impl Read<RollupRow> for RollupRow {
    fn service(&self) -> &str {
        &self.service
    }

    fn into_held(self) -> RollupRow {
        self
    }
}

impl Read<PatternMinute> for PatternRollupRow {
    fn service(&self) -> &str {
        &self.service
    }

    fn into_held(self) -> PatternMinute {
        PatternMinute {
            pattern: self.pattern,
            minute: self.bucket,
            level: self.level,
            count: self.count,
        }
    }
}

impl<T: Held> Recent<T> {
    /// Where the read for `from..to` starts: the end of what is held, or the
    /// oldest changed bucket before it; `from` when nothing usable is held.
    fn read_from(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        dirty: Option<DateTime<Utc>>,
    ) -> DateTime<Utc> {
        match self.covered {
            Some((held_from, held_to)) if held_from <= from && from <= held_to => {
                let start = dirty.map_or(held_to, |d| d.min(held_to));
                start.max(from).min(to.max(from))
            }
            _ => from,
        }
    }

    /// Keeps the held rows of `from..start` (and before `to`), adds the
    /// `fresh` rows read over `start..to`, and holds `from..to`. A service's
    /// name is copied once, when it first appears, not for every row.
    fn replace<R: Read<T>>(
        &mut self,
        from: DateTime<Utc>,
        start: DateTime<Utc>,
        to: DateTime<Utc>,
        fresh: Vec<R>,
    ) {
        let keep_until = start.min(to);
        self.by_service.retain(|_, rows| {
            rows.retain(|r| {
                let b = r.bucket();
                b >= from && b < keep_until
            });
            !rows.is_empty()
        });
        for row in fresh {
            match self.by_service.get_mut(row.service()) {
                Some(rows) => rows.push(row.into_held()),
                None => {
                    let name = row.service().to_owned();
                    self.by_service.insert(name, vec![row.into_held()]);
                }
            }
        }
        self.covered = Some((from, to));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap() + Duration::minutes(min)
    }

    #[test]
    fn an_empty_cache_reads_the_whole_range() {
        let cache: Recent<RollupRow> = Recent::default();
        assert_eq!(cache.read_from(at(0), at(60), None), at(0));
    }

    #[test]
    fn a_held_range_reads_from_its_end_or_the_oldest_change() {
        let cache: Recent<RollupRow> = Recent {
            by_service: BTreeMap::new(),
            covered: Some((at(0), at(60))),
        };
        assert_eq!(cache.read_from(at(1), at(61), None), at(60));
        assert_eq!(cache.read_from(at(1), at(61), Some(at(55))), at(55));
        // A change before the range is read from the range's start.
        assert_eq!(cache.read_from(at(1), at(61), Some(at(-30))), at(1));
        // Moved before what is held, or past it: read whole.
        assert_eq!(cache.read_from(at(-1), at(59), None), at(-1));
        assert_eq!(cache.read_from(at(70), at(130), None), at(70));
        // The clock went back: nothing past `to` is read.
        assert_eq!(cache.read_from(at(1), at(50), None), at(50));
    }

    #[test]
    fn replacing_keeps_the_held_rows_before_the_read_and_adds_the_fresh() {
        let row = |service: &str, min: i64, count: u64| RollupRow {
            service: service.into(),
            bucket: at(min),
            level: anomalog_core::Level::Info,
            count,
        };
        let mut cache: Recent<RollupRow> = Recent::default();
        let first = vec![row("a", 0, 1), row("a", 30, 2), row("b", 59, 3)];
        cache.replace(at(0), at(0), at(60), first);
        // The next read: `a`'s minute 0 left the range, `b`'s minute 59
        // changed, `a` has a new minute.
        let fresh = vec![row("b", 59, 4), row("a", 60, 5)];
        cache.replace(at(1), at(59), at(61), fresh);
        let counts = |s: &str| -> Vec<(i64, u64)> {
            cache.by_service[s]
                .iter()
                .map(|r| ((r.bucket - at(0)).num_minutes(), r.count))
                .collect()
        };
        assert_eq!(counts("a"), vec![(30, 2), (60, 5)]);
        assert_eq!(counts("b"), vec![(59, 4)]);
        assert_eq!(cache.covered, Some((at(1), at(61))));
    }
}
