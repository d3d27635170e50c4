//! Time in the browser: epoch milliseconds (f64, as JavaScript has them),
//! parsing the API's RFC 3339 strings and formatting in the viewer's local zone.

use wasm_bindgen::JsValue;

/// Now, in epoch milliseconds.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Epoch milliseconds of an RFC 3339 time (NaN when it does not parse).
pub fn parse_ms(rfc3339: &str) -> f64 {
    js_sys::Date::parse(rfc3339)
}

fn date(ms: f64) -> js_sys::Date {
    js_sys::Date::new(&JsValue::from_f64(ms))
}

fn pad2(n: u32) -> String {
    format!("{n:02}")
}

/// `14:05` (or `14:05:30` when `seconds`), local time.
pub fn clock(ms: f64, seconds: bool) -> String {
    let d = date(ms);
    if seconds {
        format!(
            "{}:{}:{}",
            pad2(d.get_hours()),
            pad2(d.get_minutes()),
            pad2(d.get_seconds())
        )
    } else {
        format!("{}:{}", pad2(d.get_hours()), pad2(d.get_minutes()))
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `23 Nov`, local date.
pub fn day(ms: f64) -> String {
    let d = date(ms);
    let month = MONTHS.get(d.get_month() as usize).copied().unwrap_or("");
    format!("{} {month}", d.get_date())
}

/// `23 Nov 14:05:30`, local time.
pub fn full(ms: f64) -> String {
    format!("{} {}", day(ms), clock(ms, true))
}

/// `14:05:30.123`, local time, for log lines.
pub fn log_time(ms: f64) -> String {
    let d = date(ms);
    format!("{}.{:03}", clock(ms, true), d.get_milliseconds())
}

/// A time axis label fitting a range of `span_ms`.
pub fn axis_label(ms: f64, span_ms: f64) -> String {
    if span_ms > 36.0 * 3_600_000.0 {
        format!("{} {}", day(ms), clock(ms, false))
    } else if span_ms <= 10.0 * 60_000.0 {
        clock(ms, true)
    } else {
        clock(ms, false)
    }
}

/// A duration in words: `45 s`, `3 min`, `2 h 5 min`, `3 d`.
pub fn duration(ms: f64) -> String {
    let s = (ms / 1000.0).max(0.0).round() as i64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min", s / 60)
    } else if s < 86_400 {
        let m = (s % 3600) / 60;
        if m == 0 {
            format!("{} h", s / 3600)
        } else {
            format!("{} h {m} min", s / 3600)
        }
    } else {
        format!("{} d", s / 86_400)
    }
}

/// `3 min ago`, relative to now.
pub fn ago(ms: f64) -> String {
    let d = now_ms() - ms;
    if d < 5_000.0 {
        "just now".to_owned()
    } else {
        format!("{} ago", duration(d))
    }
}

/// The value of a `datetime-local` input for a time (local, minutes).
pub fn to_input(ms: f64) -> String {
    let d = date(ms);
    format!(
        "{}-{}-{}T{}:{}",
        d.get_full_year(),
        pad2(d.get_month() + 1),
        pad2(d.get_date()),
        pad2(d.get_hours()),
        pad2(d.get_minutes())
    )
}

/// Epoch milliseconds of a `datetime-local` input value (local time).
pub fn from_input(value: &str) -> Option<f64> {
    // Without a zone, Date.parse reads "YYYY-MM-DDTHH:MM" as local time.
    let ms = js_sys::Date::parse(value);
    ms.is_finite().then_some(ms)
}

/// Bucket width for a range: at most about 150 buckets, on a round width
/// (10 s for 15 min, 30 s for 1 h, 5 min for 6 h, 10 min for 24 h). Passed to
/// the API explicitly so every series of one view shares the same buckets.
pub fn step_for(span_ms: f64) -> i64 {
    let ideal = (span_ms / 1000.0 / 150.0).floor() as i64;
    [10, 30, 60, 300, 600, 1800, 3600, 21_600, 86_400]
        .into_iter()
        .find(|&s| s >= ideal)
        .unwrap_or(86_400)
}
