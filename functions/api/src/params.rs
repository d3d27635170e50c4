//! Parsing of the time parameters every read endpoint shares.

use std::fmt::Display;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use anomalog_core::parse::parse_timestamp;

use crate::ApiError;

/// Default range of the stats endpoints when `from` is absent.
pub const DEFAULT_RANGE: Duration = Duration::hours(1);

/// A half-open time range `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl TimeRange {
    /// `to` defaults to now, `from` to one hour before `to`.
    pub fn from_params(
        from: Option<&str>,
        to: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<TimeRange, ApiError> {
        let to = parse_opt_time("to", to, now)?.unwrap_or(now);
        let from = match from {
            Some(v) => parse_time("from", v, now)?,
            None => to.checked_sub_signed(DEFAULT_RANGE).ok_or_else(|| {
                ApiError::BadRequest("to: too early to default from to an hour before".into())
            })?,
        };
        if from >= to {
            return Err(ApiError::BadRequest("from: must be before to".into()));
        }
        Ok(TimeRange { from, to })
    }
}

/// Reads an optional parameter through its `FromStr`; a bad value is a 400
/// whose message names the parameter.
pub fn parse_opt<T>(name: &str, value: Option<&str>) -> Result<Option<T>, ApiError>
where
    T: FromStr,
    T::Err: Display,
{
    value
        .map(str::parse)
        .transpose()
        .map_err(|e| ApiError::BadRequest(format!("{name}: {e}")))
}

/// Reads an optional time parameter with [`parse_time`].
pub fn parse_opt_time(
    name: &str,
    value: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    value.map(|v| parse_time(name, v, now)).transpose()
}

/// Longest part of a parameter value quoted back in an error message, so an
/// error body stays small whatever the request carried.
const QUOTE_LIMIT: usize = 64;

/// `value` for an error message: at most [`QUOTE_LIMIT`] characters.
pub fn quote(value: &str) -> String {
    match value.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("'{}...'", &value[..cut]),
        None => format!("'{value}'"),
    }
}

/// Reads a time parameter: `now`, `now-<N><unit>` with unit `s`, `m`, `h` or
/// `d`, or anything an ingested `ts` may be (core's one rule: RFC 3339, and
/// Unix epoch seconds, milliseconds, microseconds or nanoseconds told apart
/// by magnitude; see [`anomalog_core::parse::parse_timestamp`]). Never
/// panics: every arithmetic step is checked.
pub fn parse_time(name: &str, value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let v = value.trim();
    let bad = |why: &str| {
        ApiError::BadRequest(format!(
            "{name}: cannot read {} as a time: {why} (use RFC 3339, Unix epoch seconds or \
             milliseconds, now or now-15m)",
            quote(v)
        ))
    };
    if v == "now" {
        return Ok(now);
    }
    if let Some(rel) = v.strip_prefix("now-") {
        // The unit is the last character, whatever its width in bytes.
        let Some(unit) = rel.chars().next_back() else {
            return Err(bad("no amount"));
        };
        let digits = &rel[..rel.len() - unit.len_utf8()];
        let n: i64 = digits
            .parse()
            .map_err(|_| bad("the amount is not a whole number"))?;
        let d = match unit {
            's' => Duration::try_seconds(n),
            'm' => Duration::try_minutes(n),
            'h' => Duration::try_hours(n),
            'd' => Duration::try_days(n),
            _ => return Err(bad("the unit is not s, m, h or d")),
        }
        .ok_or_else(|| bad("out of range"))?;
        return now.checked_sub_signed(d).ok_or_else(|| bad("out of range"));
    }
    parse_timestamp(&serde_json::Value::String(v.to_owned())).map_err(|e| bad(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap()
    }

    #[test]
    fn reads_every_supported_form() {
        assert_eq!(parse_time("from", "now", now()).unwrap(), now());
        assert_eq!(
            parse_time("from", "now-15m", now()).unwrap(),
            now() - Duration::minutes(15)
        );
        assert_eq!(
            parse_time("from", "now-2d", now()).unwrap(),
            now() - Duration::days(2)
        );
        assert_eq!(
            parse_time("from", "1772625600", now()).unwrap(),
            Utc.timestamp_opt(1_772_625_600, 0).unwrap()
        );
        assert_eq!(
            parse_time("from", "1772625600123", now()).unwrap(),
            Utc.timestamp_millis_opt(1_772_625_600_123).unwrap()
        );
        assert_eq!(
            parse_time("from", "2026-03-04T13:00:00+01:00", now()).unwrap(),
            now()
        );
    }

    #[test]
    fn rejects_garbage_naming_the_parameter() {
        for bad in ["yesterday", "now-15x", "now-m", "2026-13-01T00:00:00Z"] {
            let err = parse_time("from", bad, now()).unwrap_err();
            assert!(
                err.to_string().starts_with("from: cannot read"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn hostile_values_are_errors_not_panics() {
        let long = "9".repeat(10_000);
        for bad in [
            "now-1\u{e9}",
            "now-\u{e9}",
            "now-",
            "now-9223372036854775807d",
            "now--9223372036854775808s",
            "-8334601228800000",
            "-9223372036854775808",
            "0001-01-01T00:00:00Z",
            "+262143-12-31T23:59:59Z",
            long.as_str(),
        ] {
            let err = parse_time("to", bad, now()).unwrap_err();
            assert!(
                err.to_string().starts_with("to: cannot read"),
                "{bad}: {err}"
            );
            assert!(err.to_string().len() < 600, "{bad}: error is not bounded");
        }
    }

    #[test]
    fn epochs_follow_cores_magnitude_rule() {
        let t = Utc.timestamp_opt(1_772_625_600, 0).unwrap();
        for v in [
            "1772625600",
            "1772625600000",
            "1772625600000000",
            "1772625600000000000",
        ] {
            assert_eq!(parse_time("from", v, now()).unwrap(), t, "{v}");
        }
    }

    #[test]
    fn the_default_from_is_an_hour_before_an_early_to() {
        let r = TimeRange::from_params(None, Some("1970-01-01T00:10:00Z"), now()).unwrap();
        assert_eq!(r.to - r.from, Duration::hours(1));
    }

    #[test]
    fn range_defaults_to_the_last_hour_and_must_be_ordered() {
        let r = TimeRange::from_params(None, None, now()).unwrap();
        assert_eq!(r.to - r.from, Duration::hours(1));
        assert!(TimeRange::from_params(Some("now"), Some("now-1h"), now()).is_err());
    }
}
