//! `timestamp,value` CSV files: one row per bucket.

use std::io::Read;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use serde_json::Value;

use anomalog_core::parse::parse_timestamp;

/// One row as read, with its text kept for echoing it back unchanged.
#[derive(Debug, Clone)]
pub struct SeriesRow {
    pub timestamp: String,
    pub value: String,
    /// `None` when the timestamp does not parse.
    pub ts: Option<DateTime<Utc>>,
    /// NaN when the value is not a number.
    pub number: f64,
}

/// A whole series file.
#[derive(Debug, Clone)]
pub struct SeriesFile {
    pub rows: Vec<SeriesRow>,
    /// The usual gap between rows, in seconds (0 when unknown).
    pub bucket_secs: i64,
    /// Rows whose timestamp or value could not be read, with the reason.
    pub warnings: Vec<String>,
}

/// Reads a CSV with a header naming a `timestamp` and a `value` column (other
/// columns are ignored). Timestamps may be RFC 3339, `YYYY-MM-DD HH:MM:SS`,
/// or Unix epoch seconds or milliseconds. A row whose value is not a number
/// or whose timestamp does not parse is kept (and reported in `warnings`).
pub fn read_series(input: impl Read) -> anyhow::Result<SeriesFile> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let headers = reader.headers().context("reading the CSV header")?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let (Some(ts_col), Some(value_col)) = (column("timestamp"), column("value")) else {
        bail!(
            "line 1: the header must name a `timestamp` and a `value` column, found `{}`",
            headers.iter().collect::<Vec<_>>().join(",")
        );
    };
    let mut rows = Vec::new();
    let mut warnings = Vec::new();
    for record in reader.records() {
        let record = record.context("reading the CSV")?;
        let line = record.position().map_or(0, |p| p.line());
        let timestamp = record.get(ts_col).unwrap_or_default().to_owned();
        let value = record.get(value_col).unwrap_or_default().to_owned();
        let ts = match parse_timestamp(&Value::String(timestamp.clone())) {
            Ok(ts) => Some(ts),
            Err(reason) => {
                warnings.push(format!("line {line}: timestamp: {reason}"));
                None
            }
        };
        let number = match value.parse::<f64>() {
            Ok(n) if n.is_finite() => n,
            _ => {
                warnings.push(format!(
                    "line {line}: value '{value}' is not a number; scored 0"
                ));
                f64::NAN
            }
        };
        rows.push(SeriesRow {
            timestamp,
            value,
            ts,
            number,
        });
    }
    let bucket_secs = usual_gap(&rows);
    Ok(SeriesFile {
        rows,
        bucket_secs,
        warnings,
    })
}

/// The median gap between consecutive timestamps, in seconds.
fn usual_gap(rows: &[SeriesRow]) -> i64 {
    let mut gaps: Vec<i64> = rows
        .windows(2)
        .filter_map(|w| Some((w[1].ts? - w[0].ts?).num_seconds()))
        .filter(|&g| g > 0)
        .collect();
    if gaps.is_empty() {
        return 0;
    }
    gaps.sort_unstable();
    snap(gaps[gaps.len() / 2])
}

/// Bucket widths of common exports, in seconds.
const USUAL_WIDTHS: [i64; 18] = [
    1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 14_400, 21_600, 43_200,
    86_400,
];

/// The usual width within 5% of `gap`, if any: timestamps written a few
/// seconds late (jitter) still make 5-minute buckets, which divide a day.
fn snap(gap: i64) -> i64 {
    USUAL_WIDTHS
        .into_iter()
        .find(|&w| (gap - w).abs() * 20 <= w)
        .unwrap_or(gap)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_common_timestamp_formats_and_keeps_bad_rows() {
        let text = "\u{feff}Timestamp, value\n2026-01-01 00:00:00,1.5\n2026-01-01T00:05:00Z,2\n1767226200,x\n1767226500000,4\n";
        let file = read_series(text.as_bytes()).unwrap();
        assert_eq!(file.rows.len(), 4);
        assert_eq!(file.bucket_secs, 300);
        assert_eq!(file.rows[1].number, 2.0);
        assert!(file.rows[2].number.is_nan());
        assert_eq!(file.rows[2].value, "x");
        assert_eq!(file.rows[3].ts.unwrap().timestamp(), 1_767_226_500);
        assert_eq!(file.warnings.len(), 1);
        assert!(
            file.warnings[0].starts_with("line 4: value 'x'"),
            "{:?}",
            file.warnings
        );
    }

    #[test]
    fn jittered_timestamps_snap_to_the_usual_bucket_width() {
        assert_eq!(snap(303), 300);
        assert_eq!(snap(291), 300);
        assert_eq!(snap(3590), 3600);
        assert_eq!(snap(450), 450);
        assert_eq!(snap(61), 60);
        assert_eq!(snap(7), 7);
    }

    #[test]
    fn a_header_without_the_columns_is_an_error() {
        let err = read_series("time,val\n1,2\n".as_bytes()).unwrap_err();
        assert!(
            err.to_string().contains("`timestamp` and a `value`"),
            "{err}"
        );
    }
}
