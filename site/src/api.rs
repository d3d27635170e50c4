//! The JSON API the dashboard reads (functions/api), and where it lives.
//!
//! Types mirror the API's JSON but are lenient: unknown fields are ignored and
//! enum-like values (levels, kinds, severities) stay strings, so a newer server
//! (a new anomaly kind, say) never breaks an older dashboard.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

use crate::time::parse_ms;

/// The levels, least severe first, as the API spells them.
pub const LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/// Index of a level name in [`LEVELS`] (unknown names count as INFO).
pub fn level_index(level: &str) -> usize {
    LEVELS.iter().position(|l| *l == level).unwrap_or(2)
}

/// Base URL of the API without a trailing slash; empty means same origin.
///
/// Read once at start from `window.ANOMALOG_CONFIG.apiBase`, which `config.js`
/// (served next to index.html) sets, so the same static files can be pointed at
/// another API by replacing that one file.
pub fn api_base() -> String {
    let Some(window) = web_sys::window() else {
        return String::new();
    };
    let config = js_sys::Reflect::get(&window, &JsValue::from_str("ANOMALOG_CONFIG"))
        .unwrap_or(JsValue::UNDEFINED);
    if config.is_undefined() || config.is_null() {
        return String::new();
    }
    js_sys::Reflect::get(&config, &JsValue::from_str("apiBase"))
        .ok()
        .and_then(|v| v.as_string())
        .map(|s| s.trim().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

/// A query string from key/value pairs, skipping empty values.
pub fn query(pairs: &[(&str, String)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// GETs `path` (starting with `/api/`) and decodes the JSON body. Errors are
/// sentences for the page: the API's own `error` message when it sent one.
pub async fn get<T: DeserializeOwned>(base: &str, path: &str) -> Result<T, String> {
    let response = request(base, path, crate::key_prompt::stored_key().as_deref()).await?;
    if !response.ok() {
        let status = response.status();
        if status == 401 {
            crate::key_prompt::unauthorized();
        }
        let detail = response
            .json::<ApiErrorBody>()
            .await
            .map(|b| b.error)
            .unwrap_or_else(|_| response.status_text());
        return Err(format!("API answered {status}: {detail}"));
    }
    response
        .json::<T>()
        .await
        .map_err(|e| format!("unexpected answer from {path}: {e}"))
}

/// GETs `path` with `key` (if any) as a bearer key.
async fn request(
    base: &str,
    path: &str,
    key: Option<&str>,
) -> Result<gloo_net::http::Response, String> {
    let url = format!("{base}{path}");
    let mut request = gloo_net::http::Request::get(&url);
    if let Some(key) = key {
        request = request.header("Authorization", &format!("Bearer {key}"));
    }
    request
        .send()
        .await
        .map_err(|e| format!("cannot reach the API at {}: {e}", display_base(base)))
}

/// Whether `key` may read: `Err` says why not, in a sentence for the page.
pub async fn check_key(base: &str, key: &str) -> Result<(), String> {
    let response = request(base, "/api/services?limit=1", Some(key)).await?;
    match response.status() {
        200..=299 => Ok(()),
        401 => Err("That key was refused: it is not a valid key.".to_owned()),
        403 => Err("That key was refused: it lacks the read scope.".to_owned()),
        status => Err(format!("The API answered {status}; try again.")),
    }
}

fn display_base(base: &str) -> &str {
    if base.is_empty() { "this origin" } else { base }
}

#[derive(Deserialize)]
struct ApiErrorBody {
    error: String,
}

/// Counts per level, in [`LEVELS`] order.
pub type LevelCounts = [u64; 6];

fn level_counts(map: &BTreeMap<String, u64>) -> LevelCounts {
    let mut out = [0; 6];
    for (level, count) in map {
        out[level_index(level)] += count;
    }
    out
}

/// Errors (ERROR + FATAL) in a count array.
pub fn errors_of(counts: &LevelCounts) -> u64 {
    counts[4] + counts[5]
}

#[derive(Deserialize)]
struct VolumeJson {
    step_secs: i64,
    buckets: Vec<BucketJson>,
    #[serde(default)]
    series: Vec<SeriesJson>,
}

#[derive(Deserialize)]
struct SeriesJson {
    service: String,
    buckets: Vec<BucketJson>,
}

fn buckets_of(json: Vec<BucketJson>) -> Vec<Bucket> {
    json.into_iter()
        .map(|b| Bucket {
            t: parse_ms(&b.ts),
            total: b.total,
            counts: level_counts(&b.counts),
        })
        .collect()
}

#[derive(Deserialize)]
struct BucketJson {
    ts: String,
    total: u64,
    #[serde(default)]
    counts: BTreeMap<String, u64>,
}

/// One bucket of a volume series, times in epoch milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    pub t: f64,
    pub total: u64,
    pub counts: LevelCounts,
}

impl Bucket {
    pub fn errors(&self) -> u64 {
        errors_of(&self.counts)
    }
}

/// A dense volume series, oldest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Volume {
    pub step_secs: i64,
    pub buckets: Vec<Bucket>,
}

/// `GET /api/stats/volume?by=service`: the volume of every service together
/// and one series per service of `services` (in that order), in one request.
pub async fn volume_by_service(
    base: &str,
    from_ms: f64,
    to_ms: f64,
    step_secs: i64,
    services: &[String],
) -> Result<(Volume, Vec<(String, Volume)>), String> {
    let q = query(&[
        ("from", format!("{}", from_ms.round() as i64)),
        ("to", format!("{}", to_ms.round() as i64)),
        ("step", step_secs.to_string()),
        ("by", "service".to_owned()),
        ("services", services.join(",")),
    ]);
    let v: VolumeJson = get(base, &format!("/api/stats/volume{q}")).await?;
    let step_secs = v.step_secs;
    let series = v
        .series
        .into_iter()
        .map(|s| {
            let volume = Volume {
                step_secs,
                buckets: buckets_of(s.buckets),
            };
            (s.service, volume)
        })
        .collect();
    Ok((
        Volume {
            step_secs,
            buckets: buckets_of(v.buckets),
        },
        series,
    ))
}

#[derive(Deserialize)]
struct BreakdownJson {
    total: u64,
    #[serde(default)]
    counts: BTreeMap<String, u64>,
    services: Vec<ServiceJson>,
}

#[derive(Deserialize)]
struct ServiceJson {
    service: String,
    total: u64,
    errors: u64,
    #[serde(default)]
    counts: BTreeMap<String, u64>,
}

/// One service's share of a breakdown.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceShare {
    pub service: String,
    pub total: u64,
    pub errors: u64,
    pub counts: LevelCounts,
}

/// Counts by service and level over a range; services busiest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Breakdown {
    pub total: u64,
    pub counts: LevelCounts,
    pub services: Vec<ServiceShare>,
}

/// `GET /api/stats/breakdown`.
pub async fn breakdown(base: &str, from_ms: f64, to_ms: f64) -> Result<Breakdown, String> {
    let q = query(&[
        ("from", format!("{}", from_ms.round() as i64)),
        ("to", format!("{}", to_ms.round() as i64)),
    ]);
    let b: BreakdownJson = get(base, &format!("/api/stats/breakdown{q}")).await?;
    Ok(Breakdown {
        total: b.total,
        counts: level_counts(&b.counts),
        services: b
            .services
            .into_iter()
            .map(|s| ServiceShare {
                counts: level_counts(&s.counts),
                service: s.service,
                total: s.total,
                errors: s.errors,
            })
            .collect(),
    })
}

/// A stored log line.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct LogLine {
    pub id: String,
    pub ts: String,
    #[serde(default)]
    pub received_at: String,
    pub service: String,
    #[serde(default)]
    pub host: Option<String>,
    pub level: String,
    pub message: String,
    #[serde(default)]
    pub attrs: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub trace_id: Option<String>,
    #[serde(default)]
    pub span_id: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub truncated: bool,
}

/// One page of `GET /api/logs`, newest first.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct LogsPage {
    pub items: Vec<LogLine>,
    /// Cursor of the next (older) page; none when this is the last.
    #[serde(default)]
    pub next_cursor: Option<String>,
}

/// Filters of the log tail.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogFilter {
    pub service: String,
    /// Minimum level; empty for all.
    pub level: String,
    pub text: String,
    /// A pattern id; empty for all.
    pub pattern: String,
}

/// `GET /api/logs`: the newest `limit` lines matching `filter` in the range,
/// or with `cursor` the page after the one that returned it.
pub async fn logs(
    base: &str,
    filter: &LogFilter,
    from_ms: f64,
    to_ms: f64,
    limit: usize,
    cursor: Option<&str>,
) -> Result<LogsPage, String> {
    let q = query(&[
        ("service", filter.service.clone()),
        ("level", filter.level.clone()),
        ("q", filter.text.trim().to_owned()),
        ("pattern", filter.pattern.clone()),
        ("from", format!("{}", from_ms.round() as i64)),
        ("to", format!("{}", to_ms.round() as i64)),
        ("limit", limit.to_string()),
        ("cursor", cursor.unwrap_or_default().to_owned()),
    ]);
    get(base, &format!("/api/logs{q}")).await
}

/// A few lines kept with an anomaly.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Sample {
    pub ts: String,
    pub level: String,
    pub message: String,
}

/// A detected anomaly.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Anomaly {
    pub id: String,
    pub kind: String,
    pub service: String,
    pub window_start: String,
    pub window_end: String,
    #[serde(default)]
    pub observed: f64,
    #[serde(default)]
    pub expected: f64,
    #[serde(default)]
    pub stddev: f64,
    #[serde(default)]
    pub score: f64,
    pub severity: String,
    pub status: String,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub samples: Vec<Sample>,
    /// What was measured; absent on anomalies stored before it existed.
    #[serde(default)]
    pub measure: Option<Measure>,
    /// The patterns that changed most between the baseline and the window.
    #[serde(default)]
    pub explanation: Vec<PatternChange>,
}

/// One pattern's change between an anomaly's baseline and its window.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PatternChange {
    /// The pattern's id within the service.
    pub pattern: String,
    pub template: String,
    /// Lines in the baseline, scaled to the window's length.
    #[serde(default)]
    pub before: f64,
    /// Lines within the window.
    #[serde(default)]
    pub during: u64,
    /// First seen within the window.
    #[serde(default)]
    pub new: bool,
}

/// What an anomaly measured: its series, the unit of `observed`, `expected`,
/// `stddev` and `threshold`, and the span of the baseline.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Measure {
    /// `error_count`, `error_ratio`, `event_rate`, `pattern_rate` or
    /// `new_pattern`.
    pub metric: String,
    /// `events` or `ratio` (a fraction in [0, 1]).
    pub unit: String,
    pub threshold: f64,
    pub baseline_start: String,
    pub baseline_end: String,
    /// Length of the window `observed` counts over, in seconds.
    pub bucket_seconds: u32,
}

impl Measure {
    /// `value` in this measure's unit: a ratio in percent, a count compactly.
    pub fn show(&self, value: f64) -> String {
        if self.unit == "ratio" {
            format!("{:.1}%", 100.0 * value)
        } else {
            crate::stats::compact(value)
        }
    }
}

impl Anomaly {
    pub fn start_ms(&self) -> f64 {
        parse_ms(&self.window_start)
    }
    pub fn end_ms(&self) -> f64 {
        parse_ms(&self.window_end)
    }
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
}

#[derive(Deserialize)]
struct AnomaliesJson {
    items: Vec<Anomaly>,
}

/// Filters of the anomaly list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnomalyFilter {
    pub service: String,
    pub kind: String,
    pub status: String,
    /// Epoch milliseconds; anomalies whose window ends at or after it.
    pub since_ms: Option<f64>,
}

/// `GET /api/anomalies`, newest first.
pub async fn anomalies(base: &str, filter: &AnomalyFilter) -> Result<Vec<Anomaly>, String> {
    let q = query(&[
        ("service", filter.service.clone()),
        ("kind", filter.kind.clone()),
        ("status", filter.status.clone()),
        (
            "since",
            filter
                .since_ms
                .map(|ms| format!("{}", ms.round() as i64))
                .unwrap_or_default(),
        ),
        ("limit", "500".to_owned()),
    ]);
    let list: AnomaliesJson = get(base, &format!("/api/anomalies{q}")).await?;
    Ok(list.items)
}

/// One point of the series around an anomaly.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SeriesPoint {
    pub ts: String,
    pub total: u64,
    pub errors: u64,
}

/// An anomaly with its service's series around the window and its error lines.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AnomalyDetail {
    pub anomaly: Anomaly,
    pub step_secs: i64,
    pub series: Vec<SeriesPoint>,
    #[serde(default)]
    pub logs: Vec<LogLine>,
}

/// `GET /api/anomalies/{id}`.
pub async fn anomaly_detail(base: &str, id: &str) -> Result<AnomalyDetail, String> {
    let path = format!(
        "/api/anomalies/{}",
        String::from(js_sys::encode_uri_component(id))
    );
    get(base, &path).await
}

/// A service known to the store.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ServiceInfo {
    pub service: String,
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub errors: u64,
}

#[derive(Deserialize)]
struct ServicesJson {
    items: Vec<ServiceInfo>,
}

/// `GET /api/services` (totals over 24 h), names sorted.
pub async fn services(base: &str) -> Result<Vec<String>, String> {
    let list: ServicesJson = get(base, "/api/services").await?;
    let mut names: Vec<String> = list.items.into_iter().map(|s| s.service).collect();
    names.sort();
    Ok(names)
}

/// The anomaly most likely to be an incident's cause, and why.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct RootGuess {
    pub anomaly_id: String,
    pub service: String,
    pub reason: String,
}

/// One opening or resolution on an incident's timeline.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct TimelineEntry {
    pub at: String,
    pub event: String,
    pub anomaly_id: String,
    pub service: String,
    pub kind: String,
}

/// Anomalies of one cause.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Incident {
    pub id: String,
    pub status: String,
    pub opened_at: String,
    #[serde(default)]
    pub resolved_at: Option<String>,
    pub severity: String,
    pub services: Vec<String>,
    pub anomaly_ids: Vec<String>,
    pub root: RootGuess,
    #[serde(default)]
    pub timeline: Vec<TimelineEntry>,
}

impl Incident {
    pub fn is_open(&self) -> bool {
        self.status == "open"
    }
}

#[derive(Deserialize)]
struct IncidentsJson {
    items: Vec<Incident>,
}

/// `GET /api/incidents`, newest first: open ones or those resolved since `since_ms`.
pub async fn incidents(
    base: &str,
    status: &str,
    since_ms: Option<f64>,
) -> Result<Vec<Incident>, String> {
    let q = query(&[
        ("status", status.to_owned()),
        (
            "since",
            since_ms
                .map(|ms| format!("{}", ms.round() as i64))
                .unwrap_or_default(),
        ),
        ("limit", "200".to_owned()),
    ]);
    let json: IncidentsJson = get(base, &format!("/api/incidents{q}")).await?;
    Ok(json.items)
}

/// `GET /api/incidents/{id}` body.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct IncidentDetail {
    pub incident: Incident,
    pub anomalies: Vec<Anomaly>,
}

/// `GET /api/incidents/{id}`.
pub async fn incident_detail(base: &str, id: &str) -> Result<IncidentDetail, String> {
    let path = format!(
        "/api/incidents/{}",
        String::from(js_sys::encode_uri_component(id))
    );
    get(base, &path).await
}
