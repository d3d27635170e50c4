//! anomalog-detect: one detection pass.
//!
//! A pass drains the queue (claim, persist, then ack: a crash between persist
//! and ack re-delivers entries whose logs are then skipped as duplicates), then
//! runs the detectors of `anomalog-core` over the rollups of every recently
//! active service and writes the anomalies that changed. Each pass is counted
//! in the [`metrics`].

mod incidents;
mod live;
pub mod metrics;
mod patterns;
mod recent;
mod worker;

pub use recent::RecentRollups;
pub use worker::{DetectWorker, LAMBDA_CONSUMER, RETENTION_EVERY, TickReport, UP_CONSUMER};

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

use anomalog_core::detect::{DetectConfig, Judging, reconcile};
use anomalog_core::rollup::{FINE_BUCKET_SECS, ServiceSeries};
use anomalog_core::{Anomaly, AnomalyKind, AnomalyStatus, LogSample};
use anomalog_store::{AnomalyQuery, ClaimLimit, LogQuery, StoreError, Stores};

/// Queue entries claimed per read.
pub const CLAIM_BATCH: usize = 64;
/// Most queue entries one pass drains, so a pass stays short under a backlog
/// (the next pass continues).
pub const MAX_ENTRIES_PER_PASS: usize = 1024;
/// Services whose live states a pass holds decoded at once.
const STATES_PER_CHUNK: usize = 256;
/// Most live states one pass advances (reads, advances over their new
/// minutes and saves, about 0.8 ms each at 10,000 warm services); services
/// past the budget are judged from their summaries, and the next pass of
/// the tick advances them. This bounds a pass at 10,000 services to about
/// a second, so the error-burst path it also runs is never held up by
/// the minute's series.
pub const LIVE_STATES_PER_PASS: usize = 512;
/// Least time a pass drains the queue before it judges what it persisted
/// (at least one claim is drained). A backlog is judged a second's drain
/// at a time, not after a whole pass's [`MAX_ENTRIES_PER_PASS`] (several
/// seconds under load): a burst early in a backlog is seen once its own
/// claim is persisted, and the tick's next pass goes on draining. The
/// worker lengthens it to [`JUDGE_SHARE`] times its last judging, so
/// judging never takes more than a fifth of a backlog's drain.
pub const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(1);
/// A pass drains for at least this many times as long as the worker's last
/// pass spent judging (see [`DRAIN_TIME`]).
pub const JUDGE_SHARE: u32 = 4;
/// Most bytes of queued payload one claim takes (past its first entry), so a
/// backlog of huge batches is drained a few at a time within a memory budget.
pub const MAX_CLAIM_BYTES: usize = 8 << 20;
/// Sample log lines kept with an anomaly.
pub const SAMPLES_PER_ANOMALY: usize = 5;

/// A pass failed; nothing acknowledged was lost, entries not acknowledged stay
/// pending for the next pass.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Queue entries persisted and acknowledged.
    pub entries: usize,
    /// Claims it made (each within [`MAX_CLAIM_BYTES`]).
    pub claims: usize,
    /// Logs stored for the first time.
    pub inserted: u64,
    /// Logs skipped because an earlier, unacknowledged run stored them.
    pub duplicates: u64,
    pub services_checked: usize,
    /// Services with a minute to push that this pass judged from their
    /// summary, its budget of live states ([`PassLimits::live_states`])
    /// spent: the next pass advances them.
    pub live_deferred: usize,
    /// Anomalies written (new, extended or resolved).
    pub anomalies_written: usize,
    pub opened: usize,
    pub resolved: usize,
    /// Incidents written (new or changed) after regrouping.
    pub incidents_written: usize,
    /// The drain stopped at its time ([`PassLimits::drain_time`]) with
    /// entries left of those queued when it began: the next pass goes on.
    pub drain_cut: bool,
    /// Time the pass spent after its drain: judging, new patterns,
    /// incidents.
    pub judge_time: std::time::Duration,
}

/// What one pass does at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassLimits {
    /// Queue entries drained (at least one claim batch is read even when
    /// it is smaller).
    pub entries: usize,
    /// Live states advanced.
    pub live_states: usize,
    /// Time past which the drain claims no more (checked after each
    /// claim, so at least one claim is drained).
    pub drain_time: std::time::Duration,
}

impl Default for PassLimits {
    fn default() -> Self {
        PassLimits {
            entries: MAX_ENTRIES_PER_PASS,
            live_states: LIVE_STATES_PER_PASS,
            drain_time: DRAIN_TIME,
        }
    }
}

/// Runs one pass at time `now` as queue consumer `consumer`, within the
/// default [`PassLimits`].
pub async fn run_pass(
    stores: &Stores,
    cfg: &DetectConfig,
    consumer: &str,
    now: DateTime<Utc>,
) -> Result<PassReport, DetectError> {
    run_pass_within(stores, cfg, consumer, now, PassLimits::default()).await
}

/// [`run_pass`] within `limits`.
pub async fn run_pass_within(
    stores: &Stores,
    cfg: &DetectConfig,
    consumer: &str,
    now: DateTime<Utc>,
    limits: PassLimits,
) -> Result<PassReport, DetectError> {
    let mut recent = RecentRollups::default();
    run_pass_with(stores, cfg, consumer, now, limits, &mut recent).await
}

/// [`run_pass_within`] reading through `recent`, what the previous passes of
/// the same consumer read of the rollups: only what may have changed since
/// is read again (see [`RecentRollups`]). Only the consumer that persists
/// the queue's events may keep one: rollups written by anything else are not
/// seen until the lookback leaves them behind.
pub async fn run_pass_with(
    stores: &Stores,
    cfg: &DetectConfig,
    consumer: &str,
    now: DateTime<Utc>,
    limits: PassLimits,
    recent: &mut RecentRollups,
) -> Result<PassReport, DetectError> {
    let started = Instant::now();
    let mut report = PassReport::default();
    let result = pass(stores, cfg, consumer, now, limits, recent, &mut report).await;
    ::metrics::histogram!(metrics::PASS_DURATION).record(started.elapsed().as_secs_f64());
    // What was persisted before a failure stays persisted: count it either way.
    metrics::count(metrics::ENTRIES_PROCESSED, report.entries as u64);
    metrics::count(metrics::EVENTS_PERSISTED, report.inserted);
    metrics::count(metrics::EVENTS_DUPLICATE, report.duplicates);
    if let Err(e) = result {
        ::metrics::counter!(metrics::PASS_FAILURES).increment(1);
        return Err(e);
    }
    ::metrics::gauge!(metrics::LIVE_DEFERRED).set(report.live_deferred as f64);
    if report.opened > 0 || report.resolved > 0 {
        tracing::info!(
            entries = report.entries,
            inserted = report.inserted,
            duplicates = report.duplicates,
            services = report.services_checked,
            opened = report.opened,
            resolved = report.resolved,
            "detect pass"
        );
    } else if report.entries > 0 {
        tracing::debug!(
            entries = report.entries,
            inserted = report.inserted,
            duplicates = report.duplicates,
            services = report.services_checked,
            opened = report.opened,
            resolved = report.resolved,
            "detect pass"
        );
    }
    Ok(report)
}

async fn pass(
    stores: &Stores,
    cfg: &DetectConfig,
    consumer: &str,
    now: DateTime<Utc>,
    limits: PassLimits,
    recent: &mut RecentRollups,
    report: &mut PassReport,
) -> Result<(), DetectError> {
    let drain = Drain {
        max_entries: limits.entries,
        claim_bytes: MAX_CLAIM_BYTES,
        mine_patterns: true,
        time: limits.drain_time,
    };
    let started = Instant::now();
    drain_queue(stores, consumer, drain, recent, report).await?;
    let drained = Instant::now();
    detect_anomalies(stores, cfg, now, limits.live_states, recent, report).await?;
    let judged = Instant::now();
    patterns::detect_new_patterns(stores, cfg, now, report).await?;
    let patterns_done = Instant::now();
    // Grouped once every kind of anomaly of the pass is written, so an
    // incident takes its new_pattern members in the pass that found them.
    let from = now - cfg.lookback();
    let grouped = incidents::update_incidents(stores, &cfg.incidents.config(), from).await?;
    report.incidents_written = grouped.written;
    report.judge_time = drained.elapsed();
    tracing::debug!(
        entries = report.entries,
        drain_ms = (drained - started).as_millis() as u64,
        judge_ms = (judged - drained).as_millis() as u64,
        patterns_ms = (patterns_done - judged).as_millis() as u64,
        incidents_ms = patterns_done.elapsed().as_millis() as u64,
        "detect pass phases"
    );
    Ok(())
}

/// The first half of a pass alone: drains at most `max_entries` queue
/// entries (persist, then ack) without judging, mining patterns or not. For
/// benchmarks that compare the cost of mining.
pub async fn drain_only(
    stores: &Stores,
    consumer: &str,
    max_entries: usize,
    mine_patterns: bool,
) -> Result<PassReport, DetectError> {
    drain_within(
        stores,
        consumer,
        max_entries,
        MAX_CLAIM_BYTES,
        mine_patterns,
    )
    .await
}

/// [`drain_only`] claiming at most `claim_bytes` of payload at a time
/// (tests use small budgets).
pub async fn drain_within(
    stores: &Stores,
    consumer: &str,
    max_entries: usize,
    claim_bytes: usize,
    mine_patterns: bool,
) -> Result<PassReport, DetectError> {
    let mut report = PassReport::default();
    let drain = Drain {
        max_entries,
        claim_bytes,
        mine_patterns,
        time: std::time::Duration::MAX,
    };
    let mut recent = RecentRollups::default();
    drain_queue(stores, consumer, drain, &mut recent, &mut report).await?;
    Ok(report)
}

/// What a drain takes at most, and whether it mines patterns.
#[derive(Debug, Clone, Copy)]
struct Drain {
    max_entries: usize,
    claim_bytes: usize,
    mine_patterns: bool,
    /// No claim starts past this time since the drain began.
    time: std::time::Duration,
}

/// Persists claimed entries, then acknowledges them; `recent` is marked
/// with the oldest event's time before they are persisted.
async fn drain_queue(
    stores: &Stores,
    consumer: &str,
    drain: Drain,
    recent: &mut RecentRollups,
    report: &mut PassReport,
) -> Result<(), DetectError> {
    let Drain {
        max_entries,
        claim_bytes,
        mine_patterns,
        time,
    } = drain;
    let started = Instant::now();
    // A pass drains what was queued when it began: chasing the tail of a
    // queue that ingest keeps appending to claimed a few entries at a time,
    // persisted as small blocks that were merged again later (a sustained
    // run rewrote most rows twice). What arrives meanwhile waits for the
    // next pass.
    let queued = usize::try_from(stores.queue.backlog().await?).unwrap_or(usize::MAX);
    let max_entries = report.entries.saturating_add(queued).min(max_entries);
    let mut miners = patterns::PassMiners::default();
    while report.entries < max_entries {
        if report.claims > 0 && started.elapsed() >= time {
            report.drain_cut = true;
            break;
        }
        let limit = ClaimLimit {
            entries: CLAIM_BATCH.min(max_entries - report.entries),
            bytes: claim_bytes,
        };
        let mut batches = stores.queue.claim_batches(consumer, limit).await?;
        if batches.is_empty() {
            break;
        }
        report.claims += 1;
        let ids: Vec<String> = batches.iter().map(|b| b.id().to_owned()).collect();
        if mine_patterns {
            miners.assign(stores, &mut batches).await?;
        }
        let oldest = batches
            .iter()
            .flat_map(|b| (0..b.len()).map(|i| b.event(i).ts))
            .min();
        if let Some(ts) = oldest {
            recent.mark(ts);
        }
        let persisted = stores.logs.persist_claimed(batches).await?;
        miners.save(stores).await?;
        stores.queue.ack(&ids).await?;
        report.entries += ids.len();
        report.inserted += persisted.inserted;
        report.duplicates += persisted.duplicates;
    }
    Ok(())
}

async fn detect_anomalies(
    stores: &Stores,
    cfg: &DetectConfig,
    now: DateTime<Utc>,
    mut live_budget: usize,
    recent: &mut RecentRollups,
    report: &mut PassReport,
) -> Result<(), DetectError> {
    let from = now - cfg.lookback();
    let to = now + Duration::seconds(FINE_BUCKET_SECS);
    recent.refresh(stores, from, to).await?;
    let rows_by_service = recent.rollups();
    let pattern_rows = recent.pattern_minutes();
    let known = stores
        .anomalies
        .list(&AnomalyQuery {
            since: Some(from),
            limit: 100_000,
            ..AnomalyQuery::default()
        })
        .await?;

    // Newest data of any service: a service is only judged silent up to the
    // point where the others show that data has arrived.
    let data_until = rows_by_service
        .values()
        .flatten()
        .map(|r| r.bucket + Duration::seconds(FINE_BUCKET_SECS))
        .max()
        .unwrap_or(from);
    let mut known_by_service: BTreeMap<&str, Vec<Anomaly>> = BTreeMap::new();
    for a in &known {
        known_by_service
            .entry(a.service.as_str())
            .or_default()
            .push(a.clone());
    }
    let mut services: BTreeSet<&str> = rows_by_service.keys().map(String::as_str).collect();
    services.extend(
        known
            .iter()
            .filter(|a| a.status == AnomalyStatus::Open)
            .map(|a| a.service.as_str()),
    );

    let judge_from = now - Duration::minutes(cfg.horizon_minutes);
    let complete_until = live::complete_until(data_until, cfg.drop.settle_secs);
    let empty = Vec::new();
    let mut writes: Vec<Anomaly> = Vec::new();
    // The status each write moves its anomaly to, when it changes.
    let mut changes: Vec<Option<AnomalyStatus>> = Vec::new();
    let services: Vec<&str> = services.into_iter().collect();
    // The live states are loaded, judged and saved a chunk of services at a
    // time: a warm state is about 100 KB, so holding every service's at once
    // would take a gigabyte at 10,000 services. A state saved before the
    // pass writes its anomalies loses nothing if that write fails: every
    // pass rebuilds its episodes from the state's recent judged minutes.
    // A service with no minute to push is judged from its summary alone.
    let ctx = Judging {
        now,
        from: Some(judge_from),
        data_until,
        excluded: &[],
    };
    let mut saving: Option<live::Saving> = None;
    for chunk in services.chunks(STATES_PER_CHUNK) {
        let inputs: Vec<live::ServiceInput<'_>> = chunk
            .iter()
            .map(|&service| {
                let service_rows = rows_by_service.get(service).unwrap_or(&empty);
                live::ServiceInput {
                    series: ServiceSeries::from_rows(
                        service,
                        service_rows,
                        FINE_BUCKET_SECS,
                        from,
                        now,
                    ),
                    patterns: pattern_rows.get(service).map_or(&[][..], Vec::as_slice),
                }
            })
            .collect();
        let mut live = live::LiveStates::load(
            stores,
            &cfg.series,
            &inputs,
            complete_until,
            &mut live_budget,
            &mut report.live_deferred,
        )
        .await?;
        for input in &inputs {
            let service = input.series.service.as_str();
            let settings = cfg.settings_for(service);
            let service_known = known_by_service.get(service).map_or(&[][..], Vec::as_slice);
            let (findings, pattern_findings) =
                live.judge(input, &settings, &ctx, service_known, complete_until);
            let quiet = |kind: AnomalyKind| settings.quiet(kind);
            let mut records = reconcile(service, &findings, service_known, quiet, now);
            live::name_patterns(stores, &mut records, &pattern_findings).await?;
            for mut anomaly in records {
                let before = service_known.iter().find(|k| k.id == anomaly.id);
                let change = match (before.map(|b| b.status), anomaly.status) {
                    (None | Some(AnomalyStatus::Resolved), AnomalyStatus::Open) => {
                        report.opened += 1;
                        Some(AnomalyStatus::Open)
                    }
                    (Some(AnomalyStatus::Open), AnomalyStatus::Resolved) => {
                        report.resolved += 1;
                        Some(AnomalyStatus::Resolved)
                    }
                    _ => None,
                };
                if anomaly.samples.is_empty() {
                    anomaly.samples = samples(stores, &anomaly).await?;
                }
                writes.push(anomaly);
                changes.push(change);
            }
            report.services_checked += 1;
        }
        // One save at a time, each overlapping the next chunk's work.
        if let Some(previous) = saving.take() {
            previous.finish().await?;
        }
        saving = live.save(stores);
    }
    if let Some(last) = saving.take() {
        last.finish().await?;
    }
    patterns::explain_all(stores, &mut writes).await?;
    if !writes.is_empty() {
        stores.anomalies.upsert(&writes).await?;
    }
    // Counted once written: a failed upsert is re-judged by the next pass.
    for (anomaly, change) in writes.iter().zip(&changes) {
        let name = match change {
            Some(AnomalyStatus::Open) => metrics::ANOMALIES_OPENED,
            Some(AnomalyStatus::Resolved) => metrics::ANOMALIES_RESOLVED,
            None => continue,
        };
        ::metrics::counter!(name, "kind" => anomaly.kind.as_str()).increment(1);
    }
    report.anomalies_written = writes.len();
    Ok(())
}

/// A few log lines for the anomaly: the newest error lines of its window, or
/// for a drop the last lines the service wrote before it went quiet.
async fn samples(stores: &Stores, anomaly: &Anomaly) -> Result<Vec<LogSample>, StoreError> {
    let query = if anomaly.kind == AnomalyKind::Drop {
        LogQuery {
            service: Some(anomaly.service.clone()),
            to: Some(anomaly.window_start),
            limit: SAMPLES_PER_ANOMALY,
            ..LogQuery::default()
        }
    } else {
        LogQuery::errors_in_window(anomaly, SAMPLES_PER_ANOMALY)
    };
    let page = stores.logs.query(&query).await?;
    Ok(page
        .items
        .into_iter()
        .map(|log| LogSample {
            ts: log.event.ts,
            level: log.event.level,
            message: log.event.message.chars().take(500).collect(),
        })
        .collect())
}

/// Deletes logs and rollups older than the retention period.
pub async fn apply_retention(
    stores: &Stores,
    retention_days: u32,
    now: DateTime<Utc>,
) -> Result<u64, DetectError> {
    let cutoff = now - Duration::days(i64::from(retention_days));
    let deleted = stores.logs.delete_before(cutoff).await?;
    if deleted > 0 {
        tracing::info!(deleted, %cutoff, "retention removed old logs");
    }
    Ok(deleted)
}
