//! Rollups: event counts per service, level and time bucket.
//!
//! Charts and detectors read these instead of raw logs, so their cost depends on
//! the number of services and buckets, never on the number of log lines.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::model::Level;

/// Width of the fine rollup buckets, in seconds.
pub const FINE_BUCKET_SECS: i64 = 10;

/// Start of the bucket of width `bucket_secs` that contains `ts`.
pub fn bucket_start(ts: DateTime<Utc>, bucket_secs: i64) -> DateTime<Utc> {
    let width = bucket_secs.max(1);
    let secs = ts.timestamp().div_euclid(width) * width;
    Utc.timestamp_opt(secs, 0).single().unwrap_or(ts)
}

/// How many buckets of width `bucket_secs`, aligned to multiples of the width,
/// cover the half-open range `[from, to)`; `None` when the width is below one
/// second or the count does not fit. Callers bound it before building a
/// [`ServiceSeries::summing`] of that length.
pub fn bucket_count(from: DateTime<Utc>, to: DateTime<Utc>, bucket_secs: i64) -> Option<u64> {
    if bucket_secs < 1 {
        return None;
    }
    if to <= from {
        return Some(0);
    }
    let start = from
        .timestamp()
        .checked_div_euclid(bucket_secs)?
        .checked_mul(bucket_secs)?;
    let end = to
        .timestamp()
        .checked_add(i64::from(to.timestamp_subsec_nanos() > 0))?;
    let span = end.checked_sub(start)?;
    let n = span / bucket_secs + i64::from(span % bucket_secs != 0);
    u64::try_from(n).ok()
}

/// Rows grouped by service (services in name order, rows in their order).
pub fn rows_by_service(rows: &[RollupRow]) -> BTreeMap<&str, Vec<&RollupRow>> {
    let mut out: BTreeMap<&str, Vec<&RollupRow>> = BTreeMap::new();
    for row in rows {
        out.entry(row.service.as_str()).or_default().push(row);
    }
    out
}

/// Counts per service over all the rows given (services in name order).
pub fn totals_by_service(rows: &[RollupRow]) -> BTreeMap<&str, LevelCounts> {
    let mut out: BTreeMap<&str, LevelCounts> = BTreeMap::new();
    for row in rows {
        out.entry(row.service.as_str())
            .or_default()
            .add(row.level, row.count);
    }
    out
}

/// Counts for one bucket, indexed by [`Level::rank`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelCounts(pub [u64; 6]);

impl LevelCounts {
    /// Adds `n` events of `level`.
    pub fn add(&mut self, level: Level, n: u64) {
        self.0[usize::from(level.rank())] += n;
    }

    /// Count for one level.
    pub fn get(&self, level: Level) -> u64 {
        self.0[usize::from(level.rank())]
    }

    /// All events.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// ERROR and FATAL events.
    pub fn errors(&self) -> u64 {
        self.get(Level::Error) + self.get(Level::Fatal)
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &LevelCounts) {
        for (mine, theirs) in self.0.iter_mut().zip(other.0.iter()) {
            *mine += theirs;
        }
    }
}

/// One stored rollup cell: `count` events of `level` for `service` in the bucket
/// starting at `bucket`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupRow {
    pub service: String,
    pub bucket: DateTime<Utc>,
    pub level: Level,
    pub count: u64,
}

/// A dense series of bucket counts for one service, oldest bucket first.
///
/// Invariant: bucket `i` starts at `start + i * bucket_secs`; buckets without
/// events hold zero counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSeries {
    pub service: String,
    pub bucket_secs: i64,
    pub start: DateTime<Utc>,
    pub counts: Vec<LevelCounts>,
}

impl ServiceSeries {
    /// Builds a dense series over `[from, to)` from sparse rows of one service.
    /// Rows outside the range are ignored.
    pub fn from_rows(
        service: &str,
        rows: &[RollupRow],
        bucket_secs: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ServiceSeries {
        let width = bucket_secs.max(1);
        let start = bucket_start(from, width);
        let end = bucket_start(to, width);
        let len = usize::try_from((end - start).num_seconds() / width + 1).unwrap_or(0);
        let mut counts = vec![LevelCounts::default(); len];
        for row in rows.iter().filter(|r| r.service == service) {
            let offset = (row.bucket - start).num_seconds().div_euclid(width);
            if let Ok(i) = usize::try_from(offset)
                && let Some(cell) = counts.get_mut(i)
            {
                cell.add(row.level, row.count);
            }
        }
        ServiceSeries {
            service: service.to_owned(),
            bucket_secs: width,
            start,
            counts,
        }
    }

    /// A dense series over the half-open range `[from, to)`: every row given
    /// is summed into its bucket whatever its service (the caller chooses the
    /// rows; `service` is the series' label), and rows outside are ignored.
    /// It has [`bucket_count`] buckets, which the caller has bounded.
    pub fn summing<'a>(
        service: &str,
        rows: impl IntoIterator<Item = &'a RollupRow>,
        bucket_secs: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ServiceSeries {
        let width = bucket_secs.max(1);
        let start = bucket_start(from, width);
        let len = bucket_count(from, to, width)
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0);
        let mut counts = vec![LevelCounts::default(); len];
        for row in rows {
            let offset = (row.bucket - start).num_seconds().div_euclid(width);
            if let Ok(i) = usize::try_from(offset)
                && let Some(cell) = counts.get_mut(i)
            {
                cell.add(row.level, row.count);
            }
        }
        ServiceSeries {
            service: service.to_owned(),
            bucket_secs: width,
            start,
            counts,
        }
    }

    /// The counts of every bucket together.
    pub fn total(&self) -> LevelCounts {
        let mut all = LevelCounts::default();
        for cell in &self.counts {
            all.merge(cell);
        }
        all
    }

    /// Start time of bucket `i`.
    pub fn bucket_time(&self, i: usize) -> DateTime<Utc> {
        self.start + chrono::Duration::seconds(self.bucket_secs * i as i64)
    }

    /// Running sums of the errors and of all events: bucket `i`'s count is
    /// the difference between entries `i + 1` and `i`, so the counts of
    /// buckets `a..b` take two subtractions.
    pub fn running_sums(&self) -> (Vec<u64>, Vec<u64>) {
        let mut errors = Vec::with_capacity(self.counts.len() + 1);
        let mut totals = Vec::with_capacity(self.counts.len() + 1);
        let (mut e, mut t) = (0u64, 0u64);
        errors.push(e);
        totals.push(t);
        for c in &self.counts {
            e += c.errors();
            t += c.total();
            errors.push(e);
            totals.push(t);
        }
        (errors, totals)
    }

    /// Index of the first bucket that ends after `t` (0 without `t`), found
    /// in integer seconds rather than bucket by bucket.
    pub fn first_ending_after(&self, t: Option<DateTime<Utc>>) -> usize {
        let Some(t) = t else { return 0 };
        let width = self.bucket_secs.max(1);
        // Bucket `i` ends at start + (i + 1) * width, after `t` when
        // i + 1 > (t - start) / width.
        let since = (t - self.start).num_milliseconds();
        usize::try_from(since.div_euclid(width * 1000)).unwrap_or(0)
    }

    /// Re-buckets into coarser buckets of `bucket_secs` (a multiple of the
    /// current width), aligned to multiples of the new width.
    pub fn coarsen(&self, bucket_secs: i64) -> ServiceSeries {
        let width = bucket_secs.max(self.bucket_secs);
        let start = bucket_start(self.start, width);
        // In whole seconds: a detect pass coarsens every service's series.
        let lead = (self.start - start).num_seconds();
        let fine = self.bucket_secs;
        let coarse = |i: usize| usize::try_from((lead + fine * i as i64) / width).unwrap_or(0);
        // Up to the coarse bucket the last fine bucket starts in.
        let len = self
            .counts
            .len()
            .checked_sub(1)
            .map_or(0, |last| coarse(last) + 1);
        let mut counts = vec![LevelCounts::default(); len];
        for (i, cell) in self.counts.iter().enumerate() {
            if let Some(out) = counts.get_mut(coarse(i)) {
                out.merge(cell);
            }
        }
        ServiceSeries {
            service: self.service.clone(),
            bucket_secs: width,
            start,
            counts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn bucket_start_floors_to_the_width() {
        let ts = Utc.timestamp_opt(1_700_000_017, 500).unwrap();
        assert_eq!(bucket_start(ts, 10).timestamp(), 1_700_000_010);
        assert_eq!(bucket_start(ts, 60).timestamp(), 1_699_999_980);
    }

    #[test]
    fn dense_series_fills_gaps_with_zero() {
        let rows = vec![
            RollupRow {
                service: "api".into(),
                bucket: t(0),
                level: Level::Error,
                count: 3,
            },
            RollupRow {
                service: "api".into(),
                bucket: t(30),
                level: Level::Info,
                count: 5,
            },
            RollupRow {
                service: "web".into(),
                bucket: t(10),
                level: Level::Info,
                count: 9,
            },
        ];
        let s = ServiceSeries::from_rows("api", &rows, 10, t(0), t(30));
        assert_eq!(s.counts.len(), 4);
        assert_eq!(s.counts[0].errors(), 3);
        assert_eq!(s.counts[1].total(), 0);
        assert_eq!(s.counts[3].get(Level::Info), 5);
    }

    #[test]
    fn bucket_count_covers_a_half_open_range_and_never_overflows() {
        assert_eq!(bucket_count(t(0), t(60), 10), Some(6));
        assert_eq!(bucket_count(t(5), t(60), 10), Some(6));
        assert_eq!(bucket_count(t(0), t(61), 10), Some(7));
        assert_eq!(bucket_count(t(60), t(0), 10), Some(0));
        assert_eq!(bucket_count(t(0), t(60), 0), None);
        let all = bucket_count(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, 1);
        assert!(all.is_some_and(|n| n > 10_u64.pow(13)), "{all:?}");
        assert_eq!(bucket_count(t(0), t(60), i64::MAX), Some(1));
    }

    #[test]
    fn summing_sums_every_given_row_over_the_half_open_range() {
        let row = |service: &str, secs: i64, count: u64| RollupRow {
            service: service.into(),
            bucket: t(secs),
            level: Level::Warn,
            count,
        };
        let rows = [row("a", 0, 1), row("b", 10, 2), row("a", 60, 4)];
        let s = ServiceSeries::summing("all", &rows, 20, t(0), t(60));
        assert_eq!(s.counts.len(), 3);
        assert_eq!(s.counts[0].get(Level::Warn), 3);
        assert_eq!(s.total().total(), 3);
        let grouped = rows_by_service(&rows);
        assert_eq!(grouped["a"].len(), 2);
        assert_eq!(totals_by_service(&rows)["a"].total(), 5);
    }

    #[test]
    fn the_first_bucket_ending_after_a_time_is_found_by_arithmetic() {
        let s = ServiceSeries {
            service: "api".into(),
            bucket_secs: 10,
            start: t(0),
            counts: vec![LevelCounts::default(); 6],
        };
        for at in [-15, -1, 0, 5, 9, 10, 25, 30, 59, 60, 100] {
            let expected = (0..s.counts.len())
                .find(|&i| s.bucket_time(i) + chrono::Duration::seconds(10) > t(at))
                .unwrap_or(s.counts.len());
            let found = s.first_ending_after(Some(t(at))).min(s.counts.len());
            assert_eq!(found, expected, "at {at}");
        }
        assert_eq!(s.first_ending_after(None), 0);
    }

    #[test]
    fn coarsen_sums_into_wider_buckets() {
        let rows: Vec<RollupRow> = (0..12)
            .map(|i| RollupRow {
                service: "api".into(),
                bucket: t(-20 + i * 10),
                level: Level::Info,
                count: 1,
            })
            .collect();
        let s = ServiceSeries::from_rows("api", &rows, 10, t(-20), t(90));
        let m = s.coarsen(60);
        let total: u64 = m.counts.iter().map(LevelCounts::total).sum();
        assert_eq!(total, 12);
        assert_eq!(m.start.timestamp() % 60, 0);
    }
}
