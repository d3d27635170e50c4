//! Incidents: the anomalies one cause produced, grouped.
//!
//! A dependency going down raises several anomalies (a burst and a spike in
//! the failing service, more in the services calling it); a user sees one
//! outage. [`group`] joins anomalies into [`Incident`]s:
//!
//! - two anomalies of the same service whose windows overlap belong together;
//! - two anomalies of different services that start within
//!   [`IncidentConfig::join_window`] of each other belong together when they
//!   share an error pattern (a template in both explanations) or when one's
//!   sample lines name the other's service ("payments returned 503").
//!
//! The relation is closed transitively. Pure: callers pass the anomalies (and
//! [`carry_over`] the stored incidents); nothing here reads a clock.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Anomaly, AnomalyKind, AnomalyStatus, Severity};

/// How anomalies are joined into incidents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IncidentConfig {
    /// Most time between the starts of two anomalies of different services
    /// for them to join one incident.
    pub join_window: Duration,
}

impl Default for IncidentConfig {
    fn default() -> Self {
        // A cascade reaches the callers of a failing dependency within their
        // request timeouts and retries: a few minutes covers it without
        // joining unrelated trouble later in the day.
        IncidentConfig {
            join_window: Duration::minutes(3),
        }
    }
}

/// The configurable part of [`IncidentConfig`] (`[detect.incidents]` in
/// `anomalog.toml`, `ANOMALOG_INCIDENT_JOIN_WINDOW_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IncidentSettings {
    /// Most seconds between the starts of two anomalies of different
    /// services for them to join one incident.
    pub join_window_secs: u64,
}

/// Longest join window accepted: a day joins unrelated trouble.
const MAX_JOIN_WINDOW_SECS: u64 = 86_400;

impl Default for IncidentSettings {
    fn default() -> Self {
        IncidentSettings {
            join_window_secs: IncidentConfig::default()
                .join_window
                .num_seconds()
                .unsigned_abs(),
        }
    }
}

impl IncidentSettings {
    /// The grouping these settings describe.
    pub fn config(&self) -> IncidentConfig {
        IncidentConfig {
            // Validated to at most a day; capped again so no value can panic.
            join_window: Duration::seconds(
                i64::try_from(self.join_window_secs.min(MAX_JOIN_WINDOW_SECS)).unwrap_or(0),
            ),
        }
    }

    /// Checks the values, naming the key at fault.
    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        if self.join_window_secs > MAX_JOIN_WINDOW_SECS {
            return Err(crate::config::ConfigError::Invalid {
                key: "detect.incidents.join_window_secs".into(),
                reason: format!(
                    "{} is more than {MAX_JOIN_WINDOW_SECS} seconds (a day)",
                    self.join_window_secs
                ),
            });
        }
        Ok(())
    }
}

/// Whether an incident still has an open anomaly.
pub type IncidentStatus = AnomalyStatus;

/// What happened to a member anomaly, on an incident's timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineEvent {
    Opened,
    Resolved,
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub event: TimelineEvent,
    pub anomaly_id: String,
    pub service: String,
    pub kind: AnomalyKind,
}

/// The anomaly most likely to be the cause, and why it was picked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootGuess {
    pub anomaly_id: String,
    pub service: String,
    /// For people: "payments started first (12:00:40 UTC); checkout's errors name payments".
    pub reason: String,
}

/// Anomalies of one cause.
///
/// Invariant: `id` is `inc-` followed by the id of the first anomaly the
/// incident was opened with, and [`carry_over`] keeps it for as long as any
/// stored member is still a member, so passes and restarts never duplicate it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub status: IncidentStatus,
    /// Start of the earliest member's window.
    pub opened_at: DateTime<Utc>,
    /// End of the latest member's window, once every member is resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Start of the latest member's window: when the incident last grew.
    pub updated_at: DateTime<Utc>,
    /// Highest member severity.
    pub severity: Severity,
    /// Member services, sorted.
    pub services: Vec<String>,
    /// Member anomaly ids, oldest window first.
    pub anomaly_ids: Vec<String>,
    pub root: RootGuess,
    /// Member openings and resolutions, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

impl Incident {
    /// The incident id for the incident first opened by `anomaly_id`.
    pub fn id_for(anomaly_id: &str) -> String {
        format!("inc-{anomaly_id}")
    }
}

/// Groups `anomalies` into incidents, oldest first. Every anomaly lands in
/// exactly one incident.
pub fn group(anomalies: &[Anomaly], cfg: &IncidentConfig) -> Vec<Incident> {
    let mut order: Vec<&Anomaly> = anomalies.iter().collect();
    order.sort_by(|a, b| (a.window_start, &a.id).cmp(&(b.window_start, &b.id)));
    order.dedup_by(|a, b| a.id == b.id);

    let mut sets = DisjointSets::new(order.len());
    for i in 0..order.len() {
        for j in (i + 1)..order.len() {
            if related(order[i], order[j], cfg) {
                sets.join(i, j);
            }
        }
    }
    let mut members: BTreeMap<usize, Vec<&Anomaly>> = BTreeMap::new();
    for (i, anomaly) in order.iter().enumerate() {
        members.entry(sets.find(i)).or_default().push(anomaly);
    }
    let mut incidents: Vec<Incident> = members.into_values().map(|m| build(&m)).collect();
    incidents.sort_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)));
    incidents
}

/// Keeps the identity of stored incidents across passes: a computed incident
/// sharing a member with a stored one takes the stored id (the oldest, when
/// it shares members with several) and keeps the stored members that are no
/// longer among the anomalies passed to [`group`] (older, resolved ones), with
/// their timeline entries. Returns the incidents that differ from what is
/// stored, and the ids of stored incidents absorbed into another one.
pub fn carry_over(computed: Vec<Incident>, stored: &[Incident]) -> (Vec<Incident>, Vec<String>) {
    let mut owner: BTreeMap<&str, &Incident> = BTreeMap::new();
    for incident in stored {
        for id in &incident.anomaly_ids {
            owner.entry(id.as_str()).or_insert(incident);
        }
    }
    let computed_members: BTreeSet<String> = computed
        .iter()
        .flat_map(|i| i.anomaly_ids.iter().cloned())
        .collect();
    let mut changed = Vec::new();
    let mut absorbed = BTreeSet::new();
    for mut incident in computed {
        let mut previous: Vec<&Incident> = incident
            .anomaly_ids
            .iter()
            .filter_map(|id| owner.get(id.as_str()).copied())
            .collect();
        previous.sort_by(|a, b| (a.opened_at, &a.id).cmp(&(b.opened_at, &b.id)));
        previous.dedup_by(|a, b| a.id == b.id);
        if let Some(first) = previous.first() {
            incident.id = first.id.clone();
            for old in &previous {
                if old.id != incident.id {
                    absorbed.insert(old.id.clone());
                }
                keep_older_members(&mut incident, old, &computed_members);
            }
        }
        if stored.iter().all(|s| s != &incident) {
            changed.push(incident);
        }
    }
    (changed, absorbed.into_iter().collect())
}

/// Adds `old`'s members that the current pass no longer sees.
fn keep_older_members(incident: &mut Incident, old: &Incident, seen: &BTreeSet<String>) {
    let gone: Vec<&String> = old
        .anomaly_ids
        .iter()
        .filter(|id| !seen.contains(*id))
        .collect();
    if gone.is_empty() {
        return;
    }
    let mut ids: Vec<String> = gone.iter().map(|id| (*id).clone()).collect();
    ids.append(&mut incident.anomaly_ids);
    incident.anomaly_ids = ids;
    incident.timeline.extend(
        old.timeline
            .iter()
            .filter(|e| gone.contains(&&e.anomaly_id))
            .cloned(),
    );
    incident
        .timeline
        .sort_by(|a, b| (a.at, &a.anomaly_id).cmp(&(b.at, &b.anomaly_id)));
    let services: BTreeSet<String> = incident
        .services
        .iter()
        .chain(&old.services)
        .cloned()
        .collect();
    incident.services = services.into_iter().collect();
    incident.opened_at = incident.opened_at.min(old.opened_at);
    incident.severity = incident.severity.max(old.severity);
    if !seen.contains(&old.root.anomaly_id) {
        incident.root = old.root.clone();
    }
}

/// Whether `a` (the earlier-starting) and `b` belong to one incident directly.
fn related(a: &Anomaly, b: &Anomaly, cfg: &IncidentConfig) -> bool {
    if a.service == b.service {
        return a.window_start <= b.window_end && b.window_start <= a.window_end;
    }
    if (b.window_start - a.window_start).abs() > cfg.join_window {
        return false;
    }
    names(a, &b.service) || names(b, &a.service) || share_pattern(a, b)
}

/// Whether a sample line of `anomaly` names `service` as a whole word.
fn names(anomaly: &Anomaly, service: &str) -> bool {
    anomaly
        .samples
        .iter()
        .any(|s| mentions(&s.message, service))
}

/// Whether `text` contains `word` (case-insensitively) with no letter, digit,
/// `-` or `_` right before or after it.
fn mentions(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    let word = word.to_lowercase();
    let part = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    let mut from = 0;
    while let Some(pos) = text[from..].find(&word) {
        let start = from + pos;
        let end = start + word.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        if !before.is_some_and(part) && !after.is_some_and(part) {
            return true;
        }
        from = start + word.chars().next().map_or(1, char::len_utf8);
    }
    false
}

fn share_pattern(a: &Anomaly, b: &Anomaly) -> bool {
    a.explanation
        .iter()
        .any(|x| b.explanation.iter().any(|y| x.template == y.template))
}

/// The incident of `members` (sorted by window start, then id).
fn build(members: &[&Anomaly]) -> Incident {
    let first = members[0];
    let status = if members.iter().any(|a| a.status == AnomalyStatus::Open) {
        AnomalyStatus::Open
    } else {
        AnomalyStatus::Resolved
    };
    let resolved_at = match status {
        AnomalyStatus::Open => None,
        AnomalyStatus::Resolved => members.iter().map(|a| a.window_end).max(),
    };
    let mut timeline = Vec::new();
    for a in members {
        let entry = |at, event| TimelineEntry {
            at,
            event,
            anomaly_id: a.id.clone(),
            service: a.service.clone(),
            kind: a.kind,
        };
        timeline.push(entry(a.window_start, TimelineEvent::Opened));
        if a.status == AnomalyStatus::Resolved {
            timeline.push(entry(a.window_end, TimelineEvent::Resolved));
        }
    }
    timeline.sort_by(|a, b| (a.at, &a.anomaly_id).cmp(&(b.at, &b.anomaly_id)));
    let services: BTreeSet<String> = members.iter().map(|a| a.service.clone()).collect();
    Incident {
        id: Incident::id_for(&first.id),
        status,
        opened_at: first.window_start,
        resolved_at,
        updated_at: members
            .iter()
            .map(|a| a.window_start)
            .max()
            .unwrap_or(first.window_start),
        severity: members
            .iter()
            .map(|a| a.severity)
            .max()
            .unwrap_or(first.severity),
        services: services.into_iter().collect(),
        anomaly_ids: members.iter().map(|a| a.id.clone()).collect(),
        root: root_guess(members),
        timeline,
    }
}

/// Anomalies starting this close to the earliest count as "first" too; the
/// strongest of them is the guess.
const SAME_START: i64 = 60;

/// The earliest and strongest member, preferring a service the other
/// services' lines name (the dependency they call).
fn root_guess(members: &[&Anomaly]) -> RootGuess {
    let services: BTreeSet<&str> = members.iter().map(|a| a.service.as_str()).collect();
    let named: BTreeMap<&str, Vec<&str>> = services
        .iter()
        .map(|s| {
            let by: BTreeSet<&str> = members
                .iter()
                .filter(|a| a.service != *s && names(a, s))
                .map(|a| a.service.as_str())
                .collect();
            (*s, by.into_iter().collect())
        })
        .collect();
    let dependencies: Vec<&&Anomaly> = members
        .iter()
        .filter(|a| {
            named
                .get(a.service.as_str())
                .is_some_and(|by| !by.is_empty())
        })
        .collect();
    let pool: Vec<&Anomaly> = if dependencies.is_empty() {
        members.to_vec()
    } else {
        dependencies.into_iter().copied().collect()
    };
    let earliest = pool
        .iter()
        .map(|a| a.window_start)
        .min()
        .unwrap_or(members[0].window_start);
    let root = pool
        .iter()
        .filter(|a| a.window_start - earliest <= Duration::seconds(SAME_START))
        .max_by(|a, b| {
            a.score
                .total_cmp(&b.score)
                .then(b.window_start.cmp(&a.window_start))
                .then(b.id.cmp(&a.id))
        })
        .copied()
        .unwrap_or(members[0]);
    let mut reason = if members.len() == 1 {
        format!(
            "the only anomaly: {} in {} from {} UTC",
            root.kind,
            root.service,
            root.window_start.format("%H:%M:%S")
        )
    } else {
        format!(
            "{} in {} started first ({} UTC, score {:.2})",
            root.kind,
            root.service,
            root.window_start.format("%H:%M:%S"),
            root.score
        )
    };
    if let Some(by) = named.get(root.service.as_str()).filter(|by| !by.is_empty()) {
        let by = by.join(", ");
        reason.push_str(&format!("; {by} errors name {}", root.service));
    }
    RootGuess {
        anomaly_id: root.id.clone(),
        service: root.service.clone(),
        reason,
    }
}

/// Union-find over indices, path-halving, joined toward the smaller index so
/// a set's representative is its earliest member.
struct DisjointSets {
    parent: Vec<usize>,
}

impl DisjointSets {
    fn new(n: usize) -> DisjointSets {
        DisjointSets {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        let (low, high) = (ra.min(rb), ra.max(rb));
        self.parent[high] = low;
    }
}

#[cfg(test)]
#[path = "incident_tests.rs"]
mod tests;
