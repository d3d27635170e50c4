//! The pattern part of the JSON API (`/api/patterns`, `/api/patterns/{id}`),
//! as lenient as `crate::api`: unknown fields are ignored, levels stay
//! strings.

use serde::Deserialize;

use crate::api::{LevelCounts, LogLine, get, query};

/// Lines of a pattern per level within the range.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PatternLevels {
    #[serde(default)]
    pub trace: u64,
    #[serde(default)]
    pub debug: u64,
    #[serde(default)]
    pub info: u64,
    #[serde(default)]
    pub warn: u64,
    #[serde(default)]
    pub error: u64,
    #[serde(default)]
    pub fatal: u64,
}

impl PatternLevels {
    /// In `crate::api::LEVELS` order, as the level charts take them.
    pub fn counts(&self) -> LevelCounts {
        [
            self.trace, self.debug, self.info, self.warn, self.error, self.fatal,
        ]
    }

    /// The most severe level with lines, if any.
    pub fn highest(&self) -> Option<&'static str> {
        let counts = self.counts();
        crate::api::LEVELS
            .iter()
            .zip(counts)
            .rev()
            .find(|(_, c)| *c > 0)
            .map(|(l, _)| *l)
    }
}

/// One log pattern of a service with its counts in the range.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Pattern {
    pub id: String,
    pub service: String,
    pub template: String,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(default)]
    pub total: u64,
    /// Lines within the range.
    #[serde(default)]
    pub count: u64,
    /// First seen within the range.
    #[serde(default)]
    pub new: bool,
    #[serde(default)]
    pub levels: PatternLevels,
    /// Lines per step across the range, oldest first.
    #[serde(default)]
    pub trend: Vec<u64>,
    #[serde(default)]
    pub trend_step_secs: i64,
    #[serde(default)]
    pub example: Option<String>,
}

#[derive(Deserialize)]
struct PatternsJson {
    items: Vec<Pattern>,
}

/// `GET /api/patterns`: the patterns seen in the range, most lines first.
pub async fn patterns(
    base: &str,
    service: &str,
    text: &str,
    from_ms: f64,
    to_ms: f64,
) -> Result<Vec<Pattern>, String> {
    let q = query(&[
        ("service", service.to_owned()),
        ("q", text.trim().to_owned()),
        ("from", format!("{}", from_ms.round() as i64)),
        ("to", format!("{}", to_ms.round() as i64)),
        ("limit", "500".to_owned()),
    ]);
    let list: PatternsJson = get(base, &format!("/api/patterns{q}")).await?;
    Ok(list.items)
}

/// One step of a pattern's rate series.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PatternPoint {
    pub ts: String,
    pub count: u64,
}

/// `GET /api/patterns/{id}` body.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PatternDetail {
    pub pattern: Pattern,
    #[serde(default)]
    pub step_secs: i64,
    #[serde(default)]
    pub series: Vec<PatternPoint>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub merged: Vec<String>,
    #[serde(default)]
    pub logs: Vec<LogLine>,
}

/// `GET /api/patterns/{id}` over the range.
pub async fn pattern_detail(
    base: &str,
    id: &str,
    from_ms: f64,
    to_ms: f64,
) -> Result<PatternDetail, String> {
    let q = query(&[
        ("from", format!("{}", from_ms.round() as i64)),
        ("to", format!("{}", to_ms.round() as i64)),
    ]);
    let path = format!(
        "/api/patterns/{}{q}",
        String::from(js_sys::encode_uri_component(id))
    );
    get(base, &path).await
}
