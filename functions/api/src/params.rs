//! Parsing of the time parameters every read endpoint shares.

use chrono::{DateTime, Duration, Utc};

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
        let to = to
            .map(|v| parse_time("to", v, now))
            .transpose()?
            .unwrap_or(now);
        let from = from
            .map(|v| parse_time("from", v, now))
            .transpose()?
            .unwrap_or(to - DEFAULT_RANGE);
        if from >= to {
            return Err(ApiError::BadRequest("from: must be before to".into()));
        }
        Ok(TimeRange { from, to })
    }
}

/// Reads a time parameter: RFC 3339 (`2026-01-02T03:04:05Z`), Unix epoch
/// seconds or milliseconds (told apart by magnitude), `now`, or `now-<N><unit>`
/// with unit `s`, `m`, `h` or `d`.
pub fn parse_time(name: &str, value: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let v = value.trim();
    let bad = || {
        ApiError::BadRequest(format!(
            "{name}: cannot read '{v}' as a time (use RFC 3339, epoch seconds or milliseconds, or now-15m)"
        ))
    };
    if v == "now" {
        return Ok(now);
    }
    if let Some(rel) = v.strip_prefix("now-") {
        let (digits, unit) = rel.split_at(rel.len().saturating_sub(1));
        let n: i64 = digits.parse().map_err(|_| bad())?;
        let d = match unit {
            "s" => Duration::try_seconds(n),
            "m" => Duration::try_minutes(n),
            "h" => Duration::try_hours(n),
            "d" => Duration::try_days(n),
            _ => None,
        }
        .ok_or_else(bad)?;
        return now.checked_sub_signed(d).ok_or_else(bad);
    }
    if let Ok(n) = v.parse::<i64>() {
        let ts = if n.abs() >= 100_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else {
            DateTime::from_timestamp(n, 0)
        };
        return ts.ok_or_else(bad);
    }
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad())
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
    fn range_defaults_to_the_last_hour_and_must_be_ordered() {
        let r = TimeRange::from_params(None, None, now()).unwrap();
        assert_eq!(r.to - r.from, Duration::hours(1));
        assert!(TimeRange::from_params(Some("now"), Some("now-1h"), now()).is_err());
    }
}
