//! Pattern mining inside a detect pass.
//!
//! Every drained event is mined by its service's [`Miner`] before persist, so
//! each stored log carries its pattern id and `persist` counts it in the
//! pattern rollups. A miner is loaded from the [`PatternStore`] the first time
//! a pass meets its service and saved (with the pattern records it touched)
//! after persist and before the queue entries are acknowledged: a crash in
//! between re-delivers entries that the saved state mines to the same ids.
//!
//! One consumer mines a service at a time (the local worker is alone; the
//! detect Lambda runs with a reserved concurrency of one).
//!
//! [`PatternStore`]: anomalog_store::PatternStore

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use anomalog_core::detect::DetectConfig;
use anomalog_core::pattern::judge::{self, PatternCount, PatternFacts, ServicePatterns};
use anomalog_core::pattern::{MINER_VERSION, Miner, MinerConfig, MinerSnapshot, PatternId};
use anomalog_core::{Anomaly, AnomalyStatus, Level};
use anomalog_store::{
    ClaimedBatch, ClaimedEvent, PATTERN_EXAMPLES, PatternQuery, PatternSighting, StoreError, Stores,
};

use crate::PassReport;

/// Most pattern records read for one service or one listing (a miner keeps
/// at most 2,000 live patterns; merged ones add to that).
const MAX_PATTERNS_READ: usize = 20_000;

/// Longest example message kept with a pattern record, in characters.
const EXAMPLE_CHARS: usize = 500;

/// The miners of the services one pass met, and what they saw since the last
/// [`PassMiners::save`].
#[derive(Default)]
pub(crate) struct PassMiners {
    miners: HashMap<String, Miner>,
    /// By service, then pattern id as handed out.
    seen: BTreeMap<String, BTreeMap<PatternId, Seen>>,
    /// Each miner's merge counter when last saved (or loaded): the merges
    /// after it are the aliases whose records must be marked merged.
    merged_when_saved: HashMap<String, u64>,
}

struct Seen {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    max_level: Level,
    examples: Vec<String>,
}

impl PassMiners {
    /// Mines every claimed event's message with its service's miner and
    /// sets its pattern.
    pub(crate) async fn assign(
        &mut self,
        stores: &Stores,
        batches: &mut [ClaimedBatch],
    ) -> Result<(), StoreError> {
        for batch in batches.iter_mut() {
            for i in 0..batch.len() {
                let pattern = self.mine(stores, batch.event(i)).await?;
                if let Some(pattern) = pattern {
                    batch.set_pattern(i, pattern.to_string());
                }
            }
        }
        Ok(())
    }

    /// Mines one event's message with its service's miner (loaded the first
    /// time a pass meets the service) and records the sighting.
    async fn mine(
        &mut self,
        stores: &Stores,
        event: ClaimedEvent<'_>,
    ) -> Result<Option<PatternId>, StoreError> {
        let service = event.service;
        if !self.miners.contains_key(service) {
            let miner = match stores.patterns.miner_state(service).await? {
                Some(snapshot) if snapshot.service == service => {
                    let upgraded = snapshot.version != MINER_VERSION;
                    let mut miner = Miner::restore(snapshot, MinerConfig::default());
                    if upgraded {
                        // New rules give some known messages new forms: not
                        // new messages, so new-pattern detection warms up
                        // again.
                        tracing::info!(service = %service, "pattern miner upgraded to version {MINER_VERSION}");
                        // Event time, the axis first sightings are on; never
                        // later than when it arrived (a clock in the future
                        // must not silence the service).
                        miner.set_relearning_since(event.ts.min(event.received_at));
                    }
                    miner
                }
                _ => Miner::new(service, MinerConfig::default()),
            };
            self.merged_when_saved
                .insert(service.to_owned(), miner.stats().merged);
            self.miners.insert(service.to_owned(), miner);
        }
        let Some(miner) = self.miners.get_mut(service) else {
            return Ok(None);
        };
        let mined = miner.mine(event.message);
        let (ts, level, message) = (event.ts, event.level, event.message);
        if !self.seen.contains_key(service) {
            self.seen.insert(service.to_owned(), BTreeMap::new());
        }
        let Some(sightings) = self.seen.get_mut(service) else {
            return Ok(Some(mined.id));
        };
        match sightings.get_mut(&mined.id) {
            Some(seen) => {
                seen.first = seen.first.min(ts);
                seen.last = seen.last.max(ts);
                seen.max_level = seen.max_level.max(level);
                if seen.examples.len() < PATTERN_EXAMPLES
                    && !seen.examples.iter().any(|e| e == message)
                {
                    seen.examples.push(example(message));
                }
            }
            None => {
                sightings.insert(
                    mined.id,
                    Seen {
                        first: ts,
                        last: ts,
                        max_level: level,
                        examples: vec![example(message)],
                    },
                );
            }
        }
        Ok(Some(mined.id))
    }

    /// Saves the miners and the pattern records of what was mined since the
    /// last call.
    pub(crate) async fn save(&mut self, stores: &Stores) -> Result<(), StoreError> {
        if self.seen.is_empty() {
            return Ok(());
        }
        let seen = std::mem::take(&mut self.seen);
        let services: Vec<String> = seen.keys().cloned().collect();
        let states: Vec<_> = services
            .iter()
            .filter_map(|s| self.miners.get(s).map(Miner::snapshot))
            .collect();
        let mut sightings: BTreeMap<(String, PatternId), PatternSighting> = BTreeMap::new();
        let seen = seen.into_iter().flat_map(|(service, ids)| {
            ids.into_iter()
                .map(move |(id, s)| ((service.clone(), id), s))
        });
        for ((service, id), seen) in seen {
            let Some(miner) = self.miners.get(&service) else {
                continue;
            };
            // An evicted pattern keeps its stored record as it was.
            let (Some(current), Some(template)) = (miner.resolve(id), miner.template(id)) else {
                continue;
            };
            let total = miner.count(id).unwrap_or(0);
            let mut sighting = PatternSighting {
                service: service.clone(),
                id: current.to_string(),
                template: template.clone(),
                first_seen: seen.first,
                last_seen: seen.last,
                total,
                max_level: seen.max_level,
                examples: seen.examples,
                merged_into: None,
            };
            if current != id {
                // Merged since it was handed out: its record points at the
                // survivor, which takes the sighting.
                sightings.insert(
                    (service.clone(), id),
                    PatternSighting {
                        id: id.to_string(),
                        merged_into: Some(current.to_string()),
                        total: 0,
                        examples: Vec::new(),
                        ..sighting.clone()
                    },
                );
            }
            match sightings.get_mut(&(service.clone(), current)) {
                Some(existing) if existing.merged_into.is_none() => {
                    existing.first_seen = existing.first_seen.min(sighting.first_seen);
                    existing.last_seen = existing.last_seen.max(sighting.last_seen);
                    existing.max_level = existing.max_level.max(sighting.max_level);
                    for e in sighting.examples.drain(..) {
                        if existing.examples.len() < PATTERN_EXAMPLES
                            && !existing.examples.contains(&e)
                        {
                            existing.examples.push(e);
                        }
                    }
                }
                _ => {
                    sightings.insert((service, current), sighting);
                }
            }
        }
        for state in &states {
            self.mark_merged(state, &mut sightings);
        }
        let sightings: Vec<PatternSighting> = sightings.into_values().collect();
        stores.patterns.record_patterns(&sightings).await?;
        stores.patterns.save_miner_states(&states).await?;
        Ok(())
    }
}

impl PassMiners {
    /// Adds a record update for every pattern `service`'s miner merged into
    /// another since the last save (the survivor was mined in this window,
    /// so it has a sighting to copy from).
    fn mark_merged(
        &mut self,
        snapshot: &MinerSnapshot,
        sightings: &mut BTreeMap<(String, PatternId), PatternSighting>,
    ) {
        let service = snapshot.service.as_str();
        let Some(miner) = self.miners.get(service) else {
            return;
        };
        let merged = miner.stats().merged;
        let before = self
            .merged_when_saved
            .insert(service.to_owned(), merged)
            .unwrap_or(merged);
        let new = usize::try_from(merged.saturating_sub(before)).unwrap_or(usize::MAX);
        if new == 0 {
            return;
        }
        for (from, _) in snapshot.aliases.iter().rev().take(new) {
            let key = (service.to_owned(), *from);
            let Some(to) = miner.resolve(*from) else {
                continue;
            };
            if sightings.contains_key(&key) {
                continue;
            }
            if let Some(survivor) = sightings.get(&(service.to_owned(), to)) {
                let record = PatternSighting {
                    id: from.to_string(),
                    merged_into: Some(to.to_string()),
                    total: 0,
                    examples: Vec::new(),
                    ..survivor.clone()
                };
                sightings.insert(key, record);
            }
        }
    }
}

fn example(message: &str) -> String {
    message.chars().take(EXAMPLE_CHARS).collect()
}

/// The pattern facts of one service, merged ones included.
async fn service_patterns(stores: &Stores, service: &str) -> Result<ServicePatterns, StoreError> {
    let records = stores
        .patterns
        .patterns(&PatternQuery {
            service: Some(service.to_owned()),
            include_merged: true,
            limit: MAX_PATTERNS_READ,
            ..PatternQuery::default()
        })
        .await?;
    Ok(ServicePatterns::new(
        records
            .into_iter()
            .map(|r| PatternFacts {
                id: r.id,
                template: r.template,
                first_seen: r.first_seen,
                last_seen: r.last_seen,
                total: r.total,
                max_level: r.max_level,
                examples: r.examples,
                merged_into: r.merged_into,
            })
            .collect(),
    ))
}

async fn counts(
    stores: &Stores,
    service: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<PatternCount>, StoreError> {
    Ok(stores
        .patterns
        .pattern_rollups(Some(service), &[], from, to)
        .await?
        .into_iter()
        .map(|r| PatternCount {
            pattern: r.pattern,
            bucket: r.bucket,
            count: r.count,
        })
        .collect())
}

/// Sets the explanation of every anomaly about to be written: the patterns
/// that changed most between its baseline and its window.
pub(crate) async fn explain_all(
    stores: &Stores,
    anomalies: &mut [Anomaly],
) -> Result<(), StoreError> {
    let mut by_service: HashMap<String, ServicePatterns> = HashMap::new();
    for anomaly in anomalies.iter_mut() {
        if !by_service.contains_key(&anomaly.service) {
            let patterns = service_patterns(stores, &anomaly.service).await?;
            by_service.insert(anomaly.service.clone(), patterns);
        }
        let Some(patterns) = by_service.get(&anomaly.service) else {
            continue;
        };
        let (from, _) = judge::baseline_of(anomaly);
        let to = anomaly.window_end + Duration::seconds(judge::PATTERN_BUCKET_SECS);
        let rows = counts(stores, &anomaly.service, from, to).await?;
        anomaly.explanation = judge::explain(anomaly, &rows, patterns);
    }
    Ok(())
}

/// Finds `new_pattern` anomalies among the patterns first seen within the
/// lookback and writes those that are new or changed status.
pub(crate) async fn detect_new_patterns(
    stores: &Stores,
    cfg: &DetectConfig,
    now: DateTime<Utc>,
    report: &mut PassReport,
) -> Result<(), StoreError> {
    let since = now - cfg.lookback();
    let recent = stores
        .patterns
        .patterns(&PatternQuery {
            since: Some(since),
            limit: MAX_PATTERNS_READ,
            ..PatternQuery::default()
        })
        .await?;
    let mut services: Vec<String> = recent
        .into_iter()
        .filter(|r| r.first_seen >= since)
        .map(|r| r.service)
        .collect();
    services.sort();
    services.dedup();
    let settings = cfg.new_pattern.settings();
    let mut writes = Vec::new();
    for service in services {
        let mut patterns = service_patterns(stores, &service).await?;
        let rows = counts(
            stores,
            &service,
            since,
            now + Duration::seconds(judge::PATTERN_BUCKET_SECS),
        )
        .await?;
        let mut found =
            judge::new_pattern_anomalies(&service, &patterns, &rows, &settings, since, now);
        // Only a miner upgrade's re-learning can silence them: the miner's
        // snapshot (all its patterns) is read only when there is something
        // to silence.
        if !found.is_empty()
            && let Some(since_upgrade) = stores
                .patterns
                .miner_state(&service)
                .await?
                .and_then(|s| s.relearning_since)
        {
            patterns = patterns.relearning_since(Some(since_upgrade));
            found = judge::new_pattern_anomalies(&service, &patterns, &rows, &settings, since, now);
        }
        for mut anomaly in found {
            let stored = stores.anomalies.get(&anomaly.id).await?;
            if let Some(stored) = &stored {
                if stored.status == anomaly.status && stored.observed == anomaly.observed {
                    continue;
                }
                anomaly.first_seen = stored.first_seen;
            }
            match (stored.map(|s| s.status), anomaly.status) {
                (None | Some(AnomalyStatus::Resolved), AnomalyStatus::Open) => report.opened += 1,
                (Some(AnomalyStatus::Open), AnomalyStatus::Resolved) => report.resolved += 1,
                _ => {}
            }
            let (from, _) = judge::baseline_of(&anomaly);
            let to = anomaly.window_end + Duration::seconds(judge::PATTERN_BUCKET_SECS);
            let around = counts(stores, &service, from, to).await?;
            anomaly.explanation = judge::explain(&anomaly, &around, &patterns);
            writes.push(anomaly);
        }
    }
    if !writes.is_empty() {
        stores.anomalies.upsert(&writes).await?;
        report.anomalies_written += writes.len();
    }
    Ok(())
}
