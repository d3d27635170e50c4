//! Timestamps: RFC 3339 and its common relatives, Unix epochs of any unit, and
//! the leading timestamps of text lines (including classic syslog).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, SecondsFormat, TimeDelta, TimeZone, Utc};
use serde_json::Value;

use super::{json_type, quote};

pub(super) const TIMESTAMP_FORMATS: &str =
    "expected RFC 3339 such as 2026-01-02T03:04:05Z, or Unix epoch seconds or milliseconds";

/// Parses a timestamp from JSON.
///
/// Accepted: RFC 3339 strings (any offset, converted to UTC; also with `+hhmm`
/// offsets or a space before the time), `YYYY-MM-DD HH:MM:SS[.fff]` and
/// `YYYY-MM-DDTHH:MM:SS[.fff]` without offset (read as UTC; `,` also separates
/// fractions, `/` also separates the date), a bare date `YYYY-MM-DD` (midnight
/// UTC), RFC 2822, and numbers or numeric strings as Unix epoch seconds,
/// milliseconds, microseconds or nanoseconds chosen by magnitude (below 1e11
/// seconds, below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds;
/// fractions allowed). Times before 1970 are an error.
pub fn parse_timestamp(value: &Value) -> Result<DateTime<Utc>, String> {
    let ts = match value {
        Value::Number(n) => epoch_from_number(n).ok_or_else(|| {
            format!(
                "{} is out of range as a Unix timestamp",
                quote(&n.to_string())
            )
        })?,
        Value::String(s) => timestamp_from_str(s)?,
        other => {
            return Err(format!(
                "must be a string or number, got {}",
                json_type(other)
            ));
        }
    };
    not_before_epoch(ts)
}

/// The timestamp of a record field: what [`parse_timestamp`] accepts, and also a
/// classic syslog `Mmm dd HH:MM:SS[.fff]` (as syslog-ng's `DATE` is), which takes
/// the year of `received_at` as in text lines.
pub(super) fn parse_record_timestamp(
    value: &Value,
    received_at: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    parse_timestamp(value).or_else(|error| {
        let Value::String(s) = value else {
            return Err(error);
        };
        let s = s.trim();
        match scan_syslog_timestamp(s, received_at) {
            Some((ts, used)) if used == s.len() => Ok(ts),
            _ => Err(error),
        }
    })
}

fn timestamp_from_str(raw: &str) -> Result<DateTime<Utc>, String> {
    let s = raw.trim();
    if is_numeric(s) {
        return epoch_from_str(s)
            .ok_or_else(|| format!("{} is out of range as a Unix timestamp", quote(s)));
    }
    if let Ok(ts) = DateTime::parse_from_rfc3339(s) {
        return Ok(ts.with_timezone(&Utc));
    }
    if let Some((ts, used)) = scan_datetime(s, true)
        && used == s.len()
    {
        return Ok(ts);
    }
    if let Ok(ts) = DateTime::parse_from_rfc2822(s) {
        return Ok(ts.with_timezone(&Utc));
    }
    Err(format!(
        "cannot parse {} as a timestamp ({TIMESTAMP_FORMATS})",
        quote(s)
    ))
}

/// `-?\d+(\.\d+)?`
fn is_numeric(s: &str) -> bool {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && fraction.is_none_or(all_digits)
}

fn epoch_from_str(s: &str) -> Option<DateTime<Utc>> {
    if s.contains('.') {
        epoch_from_f64(s.parse().ok()?)
    } else {
        epoch_from_int(s.parse().ok()?)
    }
}

fn epoch_from_number(n: &serde_json::Number) -> Option<DateTime<Utc>> {
    if let Some(i) = n.as_i64() {
        epoch_from_int(i128::from(i))
    } else if let Some(u) = n.as_u64() {
        epoch_from_int(i128::from(u))
    } else {
        epoch_from_f64(n.as_f64()?)
    }
}

/// Units per second of an epoch value of this magnitude.
fn epoch_units_per_second(magnitude: f64) -> i64 {
    if magnitude < 1e11 {
        1
    } else if magnitude < 1e14 {
        1_000
    } else if magnitude < 1e17 {
        1_000_000
    } else {
        1_000_000_000
    }
}

fn epoch_from_int(n: i128) -> Option<DateTime<Utc>> {
    let per_second = i128::from(epoch_units_per_second(n.unsigned_abs() as f64));
    let secs = i64::try_from(n.div_euclid(per_second)).ok()?;
    let nanos = u32::try_from(n.rem_euclid(per_second) * (1_000_000_000 / per_second)).ok()?;
    DateTime::from_timestamp(secs, nanos)
}

/// Fractional epochs are kept to the microsecond (f64 holds no more for
/// present-day seconds).
fn epoch_from_f64(f: f64) -> Option<DateTime<Utc>> {
    if !f.is_finite() {
        return None;
    }
    let secs_f = f / epoch_units_per_second(f.abs()) as f64;
    let whole = secs_f.floor();
    if whole.abs() > 1e15 {
        return None;
    }
    let mut micros = ((secs_f - whole) * 1e6).round() as i64;
    let mut secs = whole as i64;
    if micros >= 1_000_000 {
        secs += 1;
        micros = 0;
    }
    DateTime::from_timestamp(secs, u32::try_from(micros * 1000).ok()?)
}

pub(super) fn not_before_epoch(ts: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if ts < DateTime::UNIX_EPOCH {
        Err(format!("{} is before 1970-01-01", format_ts(ts)))
    } else {
        Ok(ts)
    }
}

pub(super) fn format_ts(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Scans `YYYY-MM-DD[T ]HH:MM:SS[.,fff][Z|±hh:mm|±hhmm|±hh| ±hhmm| UTC]` (date
/// separator `-` or `/`) at the start of `s`; with `allow_date_only` a bare date is
/// midnight UTC. Returns the time and the bytes used.
fn scan_datetime(s: &str, allow_date_only: bool) -> Option<(DateTime<Utc>, usize)> {
    let b = s.as_bytes();
    let year = digits(b, 0, 4)?;
    let sep = *b.get(4)?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    let month = digits(b, 5, 2)?;
    if b.get(7) != Some(&sep) {
        return None;
    }
    let day = digits(b, 8, 2)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;

    let has_time = matches!(b.get(10), Some(b'T' | b't' | b' '))
        && digits(b, 11, 2).is_some()
        && b.get(13) == Some(&b':');
    if !has_time {
        if allow_date_only && !b.get(10).is_some_and(u8::is_ascii_alphanumeric) {
            let midnight = date.and_hms_opt(0, 0, 0)?;
            return Some((Utc.from_utc_datetime(&midnight), 10));
        }
        return None;
    }
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    if b.get(16) != Some(&b':') {
        return None;
    }
    let second = digits(b, 17, 2)?;
    let (nanos, mut pos) = scan_fraction(b, 19);
    let naive = time_of_day(date, hour, minute, second, nanos)?;
    let (offset_secs, used) = scan_offset(b, pos).unwrap_or((0, 0));
    pos += used;
    let offset = FixedOffset::east_opt(offset_secs)?;
    let ts = offset
        .from_local_datetime(&naive)
        .single()?
        .with_timezone(&Utc);
    Some((ts, pos))
}

/// A date and time of day; second 60 is read as a leap second.
fn time_of_day(
    date: NaiveDate,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
) -> Option<chrono::NaiveDateTime> {
    if second == 60 {
        date.and_hms_nano_opt(hour, minute, 59, nanos.checked_add(1_000_000_000)?)
    } else {
        date.and_hms_nano_opt(hour, minute, second, nanos)
    }
}

/// An optional `.fff` / `,fff` at `pos`: the nanoseconds and the position after it.
fn scan_fraction(b: &[u8], pos: usize) -> (u32, usize) {
    if !matches!(b.get(pos), Some(b'.' | b',')) || !b.get(pos + 1).is_some_and(u8::is_ascii_digit) {
        return (0, pos);
    }
    let start = pos + 1;
    let mut end = start;
    while b.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    let mut nanos = 0u32;
    for i in 0..9 {
        let digit = b
            .get(start + i)
            .filter(|_| start + i < end)
            .map_or(0, |d| d - b'0');
        nanos = nanos * 10 + u32::from(digit);
    }
    (nanos, end)
}

/// An optional UTC offset at `pos`: seconds east and bytes used.
fn scan_offset(b: &[u8], pos: usize) -> Option<(i32, usize)> {
    match b.get(pos)? {
        b'Z' | b'z' => Some((0, 1)),
        b'+' | b'-' => numeric_offset(b, pos, false),
        b' ' => {
            if matches!(b.get(pos + 1), Some(b'+' | b'-')) {
                // After a space only the four-digit forms count: "12:00:00 -12 items"
                // is not an offset.
                numeric_offset(b, pos + 1, true).map(|(secs, used)| (secs, used + 1))
            } else if matches!(b.get(pos + 1..pos + 4), Some(b"UTC" | b"GMT"))
                && !b.get(pos + 4).is_some_and(u8::is_ascii_alphanumeric)
            {
                Some((0, 4))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `±hh:mm`, `±hhmm` or (unless `full`) `±hh` at `pos`.
fn numeric_offset(b: &[u8], pos: usize, full: bool) -> Option<(i32, usize)> {
    let sign = if *b.get(pos)? == b'-' { -1 } else { 1 };
    let hours = digits(b, pos + 1, 2)?;
    let (minutes, used) = if b.get(pos + 3) == Some(&b':') {
        (digits(b, pos + 4, 2)?, 6)
    } else if let Some(minutes) = digits(b, pos + 3, 2) {
        (minutes, 5)
    } else if full {
        return None;
    } else {
        (0, 3)
    };
    if b.get(pos + used).is_some_and(u8::is_ascii_digit) || hours > 23 || minutes > 59 {
        return None;
    }
    let secs = i32::try_from(hours * 3600 + minutes * 60).ok()?;
    Some((sign * secs, used))
}

/// `len` ASCII digits at `start`, as a number.
fn digits(b: &[u8], start: usize, len: usize) -> Option<u32> {
    let slice = b.get(start..start.checked_add(len)?)?;
    if !slice.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        slice
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')),
    )
}

/// Classic syslog `Mmm dd HH:MM:SS[.fff]` (day space- or zero-padded). The year is
/// that of `received_at`, or the one before when that would put the time more than
/// a day after `received_at` (a December line received in January).
fn scan_syslog_timestamp(s: &str, received_at: DateTime<Utc>) -> Option<(DateTime<Utc>, usize)> {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let b = s.as_bytes();
    let month_index = MONTHS.iter().position(|m| b.get(0..3) == Some(*m))?;
    let month = u32::try_from(month_index + 1).ok()?;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let (day, pos) = if b.get(4) == Some(&b' ') {
        (digits(b, 5, 1)?, 6)
    } else if let Some(day) = digits(b, 4, 2) {
        (day, 6)
    } else {
        (digits(b, 4, 1)?, 5)
    };
    if b.get(pos) != Some(&b' ') || b.get(pos + 3) != Some(&b':') || b.get(pos + 6) != Some(&b':') {
        return None;
    }
    let hour = digits(b, pos + 1, 2)?;
    let minute = digits(b, pos + 4, 2)?;
    let second = digits(b, pos + 7, 2)?;
    let (nanos, end) = scan_fraction(b, pos + 9);
    let at_year = |year: i32| {
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        time_of_day(date, hour, minute, second, nanos).map(|t| Utc.from_utc_datetime(&t))
    };
    let year = received_at.year();
    let mut ts = at_year(year)?;
    if let Some(latest) = received_at.checked_add_signed(TimeDelta::days(1))
        && ts > latest
    {
        ts = at_year(year - 1)?;
    }
    Some((ts, end))
}

/// A timestamp at the start of `s`, optionally in brackets, followed by
/// whitespace or the end: the time and the rest with leading whitespace removed.
pub(super) fn strip_leading_timestamp(
    s: &str,
    received_at: DateTime<Utc>,
) -> Option<(DateTime<Utc>, &str)> {
    let (inner, bracketed) = match s.strip_prefix('[') {
        Some(inner) => (inner, true),
        None => (s, false),
    };
    let (ts, used) =
        scan_datetime(inner, false).or_else(|| scan_syslog_timestamp(inner, received_at))?;
    let rest = inner.get(used..)?;
    let rest = if bracketed {
        rest.strip_prefix(']')?
    } else {
        rest
    };
    if !bracketed && !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some((ts, rest.trim_start()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::test_support::*;
    use serde_json::json;

    // --- timestamps ---------------------------------------------------------

    #[test]
    fn epoch_seconds_milliseconds_microseconds_and_nanoseconds_are_told_apart() {
        let expected = utc("2026-01-02T03:04:05Z");
        assert_eq!(ts(json!(1_767_323_045)), Ok(expected));
        assert_eq!(ts(json!(1_767_323_045_000_i64)), Ok(expected));
        assert_eq!(ts(json!(1_767_323_045_000_000_i64)), Ok(expected));
        assert_eq!(ts(json!(1_767_323_045_000_000_000_i64)), Ok(expected));
    }

    #[test]
    fn epoch_sub_second_parts_are_kept() {
        assert_eq!(
            ts(json!(1_767_323_045_123_i64)),
            Ok(utc("2026-01-02T03:04:05.123Z"))
        );
        assert_eq!(
            ts(json!(1_767_323_045_123_456_789_i64)),
            Ok(utc("2026-01-02T03:04:05.123456789Z"))
        );
        assert_eq!(
            ts(json!(1_767_323_045.5)),
            Ok(utc("2026-01-02T03:04:05.5Z"))
        );
        assert_eq!(
            ts(json!(1_767_323_045.123_456)),
            Ok(utc("2026-01-02T03:04:05.123456Z"))
        );
        assert_eq!(
            ts(json!(1_767_323_045_123.5)),
            Ok(utc("2026-01-02T03:04:05.1235Z"))
        );
    }

    #[test]
    fn numeric_strings_are_epochs() {
        assert_eq!(ts(json!("1767323045")), Ok(utc("2026-01-02T03:04:05Z")));
        assert_eq!(
            ts(json!(" 1767323045123 ")),
            Ok(utc("2026-01-02T03:04:05.123Z"))
        );
        assert_eq!(
            ts(json!("1767323045.25")),
            Ok(utc("2026-01-02T03:04:05.25Z"))
        );
        assert_eq!(ts(json!("0")), Ok(DateTime::UNIX_EPOCH));
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let expected = utc("2026-01-02T03:04:05Z");
        for raw in [
            "2026-01-02T03:04:05Z",
            "2026-01-02T05:04:05+02:00",
            "2026-01-01T21:34:05-05:30",
            "2026-01-02T05:04:05+0200",
            "2026-01-02T05:04:05+02",
            "2026-01-02 05:04:05 +0200",
            "2026-01-02 03:04:05 UTC",
            "2026-01-02t03:04:05z",
            "Fri, 02 Jan 2026 04:04:05 +0100",
        ] {
            assert_eq!(ts(json!(raw)), Ok(expected), "{raw}");
        }
    }

    #[test]
    fn naive_datetimes_are_read_as_utc() {
        assert_eq!(
            ts(json!("2026-01-02 03:04:05")),
            Ok(utc("2026-01-02T03:04:05Z"))
        );
        assert_eq!(
            ts(json!("2026-01-02T03:04:05")),
            Ok(utc("2026-01-02T03:04:05Z"))
        );
        assert_eq!(
            ts(json!("2026-01-02 03:04:05.123")),
            Ok(utc("2026-01-02T03:04:05.123Z"))
        );
        assert_eq!(
            ts(json!("2026-01-02T03:04:05,5")),
            Ok(utc("2026-01-02T03:04:05.5Z"))
        );
        assert_eq!(
            ts(json!("2026-01-02T03:04:05.123456789123")),
            Ok(utc("2026-01-02T03:04:05.123456789Z"))
        );
        assert_eq!(
            ts(json!("2026/01/02 03:04:05")),
            Ok(utc("2026-01-02T03:04:05Z"))
        );
        assert_eq!(ts(json!("2026-01-02")), Ok(utc("2026-01-02T00:00:00Z")));
    }

    #[test]
    fn unparsable_timestamps_are_errors_that_quote_the_value() {
        assert_eq!(
            ts(json!("yesterday")),
            Err(format!(
                "cannot parse 'yesterday' as a timestamp ({TIMESTAMP_FORMATS})"
            ))
        );
        for raw in [
            "2026-13-02T03:04:05Z",
            "2026-01-02T25:00:00Z",
            "2026-01-02T03:04:05+2500",
            "",
        ] {
            assert!(ts(json!(raw)).is_err(), "{raw}");
        }
        assert_eq!(
            ts(json!(true)),
            Err("must be a string or number, got a boolean".to_owned())
        );
        assert_eq!(
            ts(json!({"s": 1})),
            Err("must be a string or number, got an object".to_owned())
        );
    }

    #[test]
    fn quoted_values_are_bounded() {
        let long = "x".repeat(1000);
        let reason = ts(json!(long)).unwrap_err();
        assert!(reason.len() < 200, "{reason}");
        assert!(
            reason.starts_with(&format!("cannot parse '{}…'", "x".repeat(64))),
            "{reason}"
        );
    }

    #[test]
    fn timestamps_before_1970_are_rejected() {
        assert_eq!(
            ts(json!("1969-12-31T23:59:59Z")),
            Err("1969-12-31T23:59:59Z is before 1970-01-01".to_owned())
        );
        assert!(ts(json!(-5)).is_err());
        assert!(ts(json!("-1767323045")).is_err());
    }

    #[test]
    fn absurd_epochs_are_out_of_range_not_panics() {
        // u64::MAX nanoseconds is still a date (in 2554); the record-level future
        // check is what rejects it.
        assert_eq!(
            ts(json!(u64::MAX)),
            Ok(utc("2554-07-21T23:34:33.709551615Z"))
        );
        assert!(ts(json!(-1e300)).is_err());
        assert!(ts(json!(1e300)).is_err());
        assert!(ts(json!("99999999999999999999999999999999999999999999")).is_err());
    }

    #[test]
    fn a_missing_ts_is_the_receive_time() {
        assert_eq!(record(json!({"msg": "m"})).unwrap().ts, received_at());
    }

    #[test]
    fn an_unparsable_ts_rejects_the_record_naming_the_field() {
        assert_eq!(
            record(json!({"msg": "m", "time": "yesterday"})),
            Err(format!(
                "time: cannot parse 'yesterday' as a timestamp ({TIMESTAMP_FORMATS})"
            ))
        );
        assert_eq!(
            record(json!({"msg": "m", "ts": [1]})),
            Err("ts: must be a string or number, got an array".to_owned())
        );
    }

    #[test]
    fn a_ts_more_than_24h_in_the_future_is_rejected() {
        assert_eq!(
            record(json!({"msg": "m", "ts": "2026-01-03T12:00:01Z"})),
            Err("ts: 2026-01-03T12:00:01Z is more than 24h in the future (received at 2026-01-02T12:00:00Z)".to_owned())
        );
        let event = record(json!({"msg": "m", "ts": "2026-01-03T12:00:00Z"})).unwrap();
        assert_eq!(event.ts, utc("2026-01-03T12:00:00Z"));
    }

    #[test]
    fn record_timestamps_also_accept_classic_syslog_in_the_receive_year() {
        let received = received_at();
        assert_eq!(
            parse_record_timestamp(&json!("Jan  2 11:59:00"), received),
            Ok(utc("2026-01-02T11:59:00Z"))
        );
        // A December time received in January is from the year before.
        assert_eq!(
            parse_record_timestamp(&json!("Dec 31 23:59:59"), received),
            Ok(utc("2025-12-31T23:59:59Z"))
        );
        // The error is the one of the formats proper, and trailing text is refused.
        assert_eq!(
            parse_record_timestamp(&json!("Jan  2 11:59:00 x"), received),
            ts(json!("Jan  2 11:59:00 x"))
        );
        assert!(ts(json!("Jan  2 11:59:00")).is_err());
    }
}
