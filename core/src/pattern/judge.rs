//! What patterns say about anomalies: the explanation of any anomaly (the
//! patterns whose counts changed most between its baseline and its window)
//! and `new_pattern` anomalies (a pattern never seen before in a service).
//!
//! Pure: callers pass the per-minute pattern counts and the pattern records
//! they read from storage, and `now`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ConfigError;

use crate::model::{
    Anomaly, AnomalyKind, AnomalyStatus, Level, LogSample, Measure, Metric, PatternChange,
    Severity, Unit,
};
use crate::rollup::bucket_start;

/// Patterns listed in an explanation.
pub const EXPLANATION_LEN: usize = 5;
/// Baseline of an anomaly without a measured one: this long before its window.
pub const DEFAULT_BASELINE_MINUTES: i64 = 30;
/// Seconds of one pattern count bucket.
pub const PATTERN_BUCKET_SECS: i64 = 60;

/// Events of one pattern in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternCount {
    pub pattern: String,
    /// Start of the minute.
    pub bucket: DateTime<Utc>,
    pub count: u64,
}

/// What is known of one pattern of the service.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternFacts {
    pub id: String,
    pub template: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub total: u64,
    pub max_level: Level,
    pub examples: Vec<String>,
    /// The pattern it merged into, if it did.
    pub merged_into: Option<String>,
}

/// The patterns of one service, with merged ids resolved to their survivor.
#[derive(Debug, Default)]
pub struct ServicePatterns {
    facts: HashMap<String, PatternFacts>,
    /// When the service's miner was upgraded to a new version (its
    /// `MinerSnapshot::relearning_since`): its warm-up starts again there.
    relearning_since: Option<DateTime<Utc>>,
}

impl ServicePatterns {
    pub fn new(facts: Vec<PatternFacts>) -> ServicePatterns {
        ServicePatterns {
            facts: facts.into_iter().map(|f| (f.id.clone(), f)).collect(),
            relearning_since: None,
        }
    }

    /// The same, for a service whose miner re-learns since `since` (a miner
    /// upgrade): patterns first seen in the warm-up after it are the new
    /// miner's forms of known messages, not new messages.
    pub fn relearning_since(mut self, since: Option<DateTime<Utc>>) -> ServicePatterns {
        self.relearning_since = since;
        self
    }

    /// The live pattern `id` stands for now (itself unless it merged).
    pub fn resolve<'a>(&'a self, id: &'a str) -> &'a str {
        let mut current = id;
        // Bounded: a merge chain cannot be longer than the patterns.
        for _ in 0..=self.facts.len() {
            match self
                .facts
                .get(current)
                .and_then(|f| f.merged_into.as_deref())
            {
                Some(next) if next != current => current = next,
                _ => break,
            }
        }
        current
    }

    fn get(&self, id: &str) -> Option<&PatternFacts> {
        self.facts.get(id)
    }

    /// When the service's warm-up started: its first pattern's first
    /// sighting, or the last miner upgrade when later.
    pub fn service_start(&self) -> Option<DateTime<Utc>> {
        let first = self.facts.values().map(|f| f.first_seen).min()?;
        Some(
            self.relearning_since
                .map_or(first, |since| since.max(first)),
        )
    }

    fn live(&self) -> impl Iterator<Item = &PatternFacts> {
        self.facts.values().filter(|f| f.merged_into.is_none())
    }
}

/// The baseline window an explanation compares `anomaly`'s window with.
pub fn baseline_of(anomaly: &Anomaly) -> (DateTime<Utc>, DateTime<Utc>) {
    let window_start = bucket_start(anomaly.window_start, PATTERN_BUCKET_SECS);
    match &anomaly.measure {
        Some(m) if m.baseline_end > m.baseline_start && anomaly.kind != AnomalyKind::NewPattern => {
            (m.baseline_start, m.baseline_end.min(window_start))
        }
        _ => (
            window_start - Duration::minutes(DEFAULT_BASELINE_MINUTES),
            window_start,
        ),
    }
}

/// The patterns whose counts changed most between `anomaly`'s baseline and
/// its window, largest change first (at most [`EXPLANATION_LEN`]). `counts`
/// must cover the baseline and the window; minutes are the unit, so the
/// window is widened to whole minutes.
pub fn explain(
    anomaly: &Anomaly,
    counts: &[PatternCount],
    patterns: &ServicePatterns,
) -> Vec<PatternChange> {
    let (base_start, base_end) = baseline_of(anomaly);
    let win_start = bucket_start(anomaly.window_start, PATTERN_BUCKET_SECS);
    let win_end = anomaly.window_end.max(win_start + Duration::seconds(1));
    let minutes = |from: DateTime<Utc>, to: DateTime<Utc>| {
        ((to - from).num_seconds() as f64 / PATTERN_BUCKET_SECS as f64)
            .ceil()
            .max(1.0)
    };
    let scale = minutes(win_start, win_end) / minutes(base_start, base_end);
    let mut before: BTreeMap<&str, u64> = BTreeMap::new();
    let mut during: BTreeMap<&str, u64> = BTreeMap::new();
    for c in counts {
        let id = patterns.resolve(&c.pattern);
        if c.bucket >= win_start && c.bucket < win_end {
            *during.entry(id).or_default() += c.count;
        } else if c.bucket >= base_start && c.bucket < base_end {
            *before.entry(id).or_default() += c.count;
        }
    }
    let mut changes: Vec<(f64, PatternChange)> = before
        .keys()
        .chain(during.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|id| {
            let b = before.get(id).copied().unwrap_or(0) as f64 * scale;
            let d = during.get(id).copied().unwrap_or(0);
            let change = (d as f64 - b).abs();
            if change < 0.5 {
                return None;
            }
            let facts = patterns.get(id);
            Some((
                change,
                PatternChange {
                    pattern: (*id).to_owned(),
                    template: facts.map_or_else(|| (*id).to_owned(), |f| f.template.clone()),
                    before: (b * 100.0).round() / 100.0,
                    during: d,
                    new: facts.is_some_and(|f| f.first_seen >= win_start),
                },
            ))
        })
        .collect();
    changes.sort_by(|(a, x), (b, y)| {
        b.total_cmp(a)
            .then(y.during.cmp(&x.during))
            .then(x.pattern.cmp(&y.pattern))
    });
    changes
        .into_iter()
        .take(EXPLANATION_LEN)
        .map(|(_, c)| c)
        .collect()
}

/// When a new pattern is an anomaly.
#[derive(Debug, Clone, PartialEq)]
pub struct NoveltySettings {
    /// A service's patterns are all new at first: only patterns first seen
    /// this long after the service's first one count.
    pub warmup: Duration,
    /// A new pattern below WARN counts once it has this many lines.
    pub volume: u64,
    /// The anomaly resolves once the pattern has been quiet this long.
    pub quiet: Duration,
}

impl Default for NoveltySettings {
    fn default() -> Self {
        NoveltySettings {
            warmup: Duration::minutes(15),
            volume: 50,
            quiet: Duration::minutes(10),
        }
    }
}

/// `[detect.new_pattern]`: when a new pattern is an anomaly, in the
/// configuration's units (whole minutes, lines).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewPatternConfig {
    /// Minutes after a service's first pattern during which its new
    /// patterns are learnt, not reported.
    pub warmup_minutes: i64,
    /// Lines a new pattern below WARN needs before it is reported.
    pub min_lines: u64,
    /// Minutes of quiet after which its anomaly resolves.
    pub quiet_minutes: i64,
}

impl Default for NewPatternConfig {
    fn default() -> Self {
        let d = NoveltySettings::default();
        NewPatternConfig {
            warmup_minutes: d.warmup.num_minutes(),
            min_lines: d.volume,
            quiet_minutes: d.quiet.num_minutes(),
        }
    }
}

impl NewPatternConfig {
    /// The settings [`new_pattern_anomalies`] takes.
    pub fn settings(&self) -> NoveltySettings {
        NoveltySettings {
            warmup: Duration::minutes(self.warmup_minutes),
            volume: self.min_lines,
            quiet: Duration::minutes(self.quiet_minutes),
        }
    }

    /// Checks every key, naming the one at fault under `prefix`
    /// (`detect.new_pattern`).
    pub fn validate(&self, prefix: &str) -> Result<(), ConfigError> {
        let invalid = |name: &str, reason: &str| ConfigError::Invalid {
            key: format!("{prefix}.{name}"),
            reason: reason.to_owned(),
        };
        if self.warmup_minutes < 0 {
            return Err(invalid("warmup_minutes", "must not be negative"));
        }
        if self.min_lines == 0 {
            return Err(invalid("min_lines", "must be at least 1"));
        }
        if self.quiet_minutes < 1 {
            return Err(invalid("quiet_minutes", "must be at least 1"));
        }
        Ok(())
    }
}

/// The id of the `new_pattern` anomaly of one pattern: one per pattern, ever.
pub fn new_pattern_anomaly_id(service: &str, pattern: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(AnomalyKind::NewPattern.as_str().as_bytes());
    hasher.update([0]);
    hasher.update(service.as_bytes());
    hasher.update([0]);
    hasher.update(pattern.as_bytes());
    let digest = hasher.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// `new_pattern` anomalies of one service: every live pattern first seen
/// after the service's warm-up and at or after `since`, at WARN or above or
/// with at least `settings.volume` lines. `during` counts each pattern's
/// lines since it appeared (from `counts`, which must cover `since..now`).
/// Detection times (`first_seen`, `last_seen`) are `now`; the caller keeps
/// the stored ones of anomalies it already has.
pub fn new_pattern_anomalies(
    service: &str,
    patterns: &ServicePatterns,
    counts: &[PatternCount],
    settings: &NoveltySettings,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Anomaly> {
    let Some(start) = patterns.service_start() else {
        return Vec::new();
    };
    let mut lines: HashMap<&str, u64> = HashMap::new();
    for c in counts {
        *lines.entry(patterns.resolve(&c.pattern)).or_default() += c.count;
    }
    let mut out: Vec<Anomaly> = patterns
        .live()
        .filter(|f| f.first_seen >= start + settings.warmup && f.first_seen >= since)
        .filter_map(|f| {
            let seen = lines.get(f.id.as_str()).copied().unwrap_or(0).max(1);
            let loud = f.max_level >= Level::Warn;
            if !loud && seen < settings.volume {
                return None;
            }
            let severity = match f.max_level {
                Level::Fatal => Severity::High,
                Level::Error => Severity::Medium,
                _ => Severity::Low,
            };
            let status = if now - f.last_seen > settings.quiet {
                AnomalyStatus::Resolved
            } else {
                AnomalyStatus::Open
            };
            let threshold = if loud { 1.0 } else { settings.volume as f64 };
            let window_end = f.last_seen.max(f.first_seen) + Duration::seconds(1);
            Some(Anomaly {
                id: new_pattern_anomaly_id(service, &f.id),
                kind: AnomalyKind::NewPattern,
                service: service.to_owned(),
                window_start: f.first_seen,
                window_end,
                observed: seen as f64,
                expected: 0.0,
                stddev: 0.0,
                score: 1.0,
                severity,
                status,
                first_seen: now,
                last_seen: now,
                message: format!(
                    "new log pattern at {}: {} ({seen} line{})",
                    f.max_level.as_str(),
                    f.template,
                    if seen == 1 { "" } else { "s" }
                ),
                samples: f
                    .examples
                    .iter()
                    .map(|e| LogSample {
                        ts: f.first_seen,
                        level: f.max_level,
                        message: e.clone(),
                    })
                    .collect(),
                measure: Some(Measure {
                    metric: Metric::NewPattern,
                    unit: Unit::Events,
                    threshold,
                    baseline_start: start,
                    baseline_end: f.first_seen,
                    bucket_seconds: PATTERN_BUCKET_SECS as u32,
                }),
                explanation: Vec::new(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.window_start.cmp(&b.window_start).then(a.id.cmp(&b.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap() + Duration::minutes(min)
    }

    fn facts(id: &str, template: &str, first: i64, level: Level) -> PatternFacts {
        PatternFacts {
            id: id.into(),
            template: template.into(),
            first_seen: t(first),
            last_seen: t(first),
            total: 1,
            max_level: level,
            examples: vec![template.replace("<*>", "7")],
            merged_into: None,
        }
    }

    fn count(pattern: &str, min: i64, n: u64) -> PatternCount {
        PatternCount {
            pattern: pattern.into(),
            bucket: t(min),
            count: n,
        }
    }

    fn burst(start: i64, end: i64) -> Anomaly {
        Anomaly {
            id: Anomaly::id_for(AnomalyKind::Burst, "shop", t(start)),
            kind: AnomalyKind::Burst,
            service: "shop".into(),
            window_start: t(start),
            window_end: t(end),
            observed: 80.0,
            expected: 2.0,
            stddev: 1.0,
            score: 0.9,
            severity: Severity::High,
            status: AnomalyStatus::Open,
            first_seen: t(end),
            last_seen: t(end),
            message: String::new(),
            samples: Vec::new(),
            measure: None,
            explanation: Vec::new(),
        }
    }

    #[test]
    fn the_explanation_lists_the_patterns_that_grew_most_first() {
        let patterns = ServicePatterns::new(vec![
            facts("a", "GET <*> 200", -60, Level::Info),
            facts("b", "db timeout after <*> ms", -60, Level::Error),
            facts("c", "disk full on <*>", 31, Level::Error),
            facts("d", "user <*> in", -60, Level::Info),
        ]);
        let mut counts = Vec::new();
        for m in 0..30 {
            counts.push(count("a", m, 10));
            counts.push(count("b", m, 1));
            counts.push(count("d", m, 2));
        }
        // The window: minutes 30 and 31.
        counts.push(count("a", 30, 10));
        counts.push(count("a", 31, 10));
        counts.push(count("b", 30, 40));
        counts.push(count("b", 31, 40));
        counts.push(count("c", 31, 5));
        let changes = explain(&burst(30, 32), &counts, &patterns);
        let ids: Vec<&str> = changes.iter().map(|c| c.pattern.as_str()).collect();
        // a is steady and d vanished (4 expected, 0 seen).
        assert_eq!(ids, ["b", "c", "d"]);
        assert_eq!(changes[0].during, 80);
        assert!((changes[0].before - 2.0).abs() < 1e-9);
        assert!(changes[1].new);
        assert!(!changes[0].new);
        assert_eq!(changes[1].template, "disk full on <*>");
    }

    #[test]
    fn merged_patterns_count_as_their_survivor() {
        let mut old = facts("x", "user <*> in", -60, Level::Info);
        old.merged_into = Some("y".into());
        let patterns = ServicePatterns::new(vec![old, facts("y", "<*> <*> in", -60, Level::Info)]);
        let counts = vec![count("x", 30, 5), count("y", 30, 5)];
        let changes = explain(&burst(30, 31), &counts, &patterns);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].pattern, "y");
        assert_eq!(changes[0].during, 10);
    }

    #[test]
    fn new_pattern_settings_come_from_the_config_file_and_are_checked() {
        let c =
            crate::config::Config::from_toml("[detect.new_pattern]\nwarmup_minutes = 2\n").unwrap();
        let settings = c.detect.new_pattern.settings();
        assert_eq!(settings.warmup, Duration::minutes(2));
        assert_eq!(settings.volume, NoveltySettings::default().volume);
        let err =
            crate::config::Config::from_toml("[detect.new_pattern]\nmin_lines = 0\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "detect.new_pattern.min_lines: must be at least 1"
        );
    }

    #[test]
    fn a_new_loud_pattern_after_the_warm_up_is_one_anomaly() {
        let mut fresh = facts("n", "payment provider <*> refused", 40, Level::Error);
        fresh.last_seen = t(42);
        let quiet_info = facts("q", "feature flag <*> on", 41, Level::Info);
        let patterns = ServicePatterns::new(vec![
            facts("a", "GET <*> 200", 0, Level::Info),
            fresh,
            quiet_info,
        ]);
        let counts = vec![count("n", 40, 20), count("n", 41, 10), count("q", 41, 3)];
        let found = new_pattern_anomalies(
            "shop",
            &patterns,
            &counts,
            &NoveltySettings::default(),
            t(0),
            t(43),
        );
        assert_eq!(found.len(), 1);
        let a = &found[0];
        assert_eq!(a.kind, AnomalyKind::NewPattern);
        assert_eq!(a.observed, 30.0);
        assert_eq!(a.status, AnomalyStatus::Open);
        assert_eq!(a.id, new_pattern_anomaly_id("shop", "n"));
        assert_eq!(a.measure.as_ref().unwrap().metric, Metric::NewPattern);
        assert!(a.message.contains("payment provider <*> refused"));
        assert_eq!(a.samples.len(), 1);
    }

    #[test]
    fn patterns_of_the_warm_up_and_quiet_info_ones_are_not_anomalies() {
        let patterns = ServicePatterns::new(vec![
            facts("a", "GET <*> 200", 0, Level::Info),
            facts("e", "db down", 5, Level::Error),
            facts("q", "feature flag <*> on", 30, Level::Info),
        ]);
        let counts = vec![count("q", 30, 49)];
        let found = new_pattern_anomalies(
            "shop",
            &patterns,
            &counts,
            &NoveltySettings::default(),
            t(0),
            t(31),
        );
        assert!(found.is_empty(), "{found:?}");
        let counts = vec![count("q", 30, 50)];
        let found = new_pattern_anomalies(
            "shop",
            &patterns,
            &counts,
            &NoveltySettings::default(),
            t(0),
            t(31),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Low);
    }

    #[test]
    fn a_new_pattern_resolves_once_quiet() {
        let patterns = ServicePatterns::new(vec![
            facts("a", "GET <*> 200", 0, Level::Info),
            facts("e", "db down", 30, Level::Error),
        ]);
        let found = new_pattern_anomalies(
            "shop",
            &patterns,
            &[],
            &NoveltySettings::default(),
            t(0),
            t(41),
        );
        assert_eq!(found[0].status, AnomalyStatus::Resolved);
    }
}
