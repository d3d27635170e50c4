//! The detect worker: what one scheduled tick does, in `anomalog up` (every
//! `server.detect_interval_secs`) and in the Lambda (every minute) alike.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;

use anomalog_core::Config;
use anomalog_core::detect::DetectConfig;
use anomalog_store::{StoreError, Stores};

use crate::{
    DetectError, JUDGE_SHARE, PassLimits, PassReport, RecentRollups, apply_retention, run_pass_with,
};

/// Queue consumer name of `anomalog up`: fixed, so a restarted process
/// resumes its own pending entries at once.
pub const UP_CONSUMER: &str = "anomalog-up";
/// Queue consumer name of the detect Lambda: one instance at a time (reserved
/// concurrency 1), so a pass that died is retried from its own pending
/// entries at the next invocation.
pub const LAMBDA_CONSUMER: &str = "lambda-detect";
/// How often retention runs: at the first tick of a worker, then hourly.
pub const RETENTION_EVERY: Duration = Duration::from_secs(3600);
/// Waits before retrying a pass that failed on a transient backend error
/// (broken pipe, reset, fail-over: [`StoreError::Unavailable`]). A pass is
/// safe to repeat: entries it did not acknowledge are claimed again by the
/// same consumer, and persisting a log twice stores it once.
const RETRY_BACKOFF: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(500),
    Duration::from_secs(2),
];

/// What one tick did, summed over its passes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    pub passes: usize,
    pub entries: usize,
    pub inserted: u64,
    pub duplicates: u64,
    pub opened: usize,
    pub resolved: usize,
    /// Logs deleted by retention, when it ran in this tick.
    pub retention_deleted: Option<u64>,
}

/// Drains the queue and runs the detectors, one tick at a time: repeated
/// passes while a pass comes back full (a backlog) and the deadline allows,
/// then retention when it is due. Both `anomalog up` and the detect Lambda
/// call [`DetectWorker::tick`], so their behaviour cannot drift.
pub struct DetectWorker {
    stores: Stores,
    detect: DetectConfig,
    retention_days: u32,
    consumer: String,
    limits: PassLimits,
    last_retention: Mutex<Option<Instant>>,
    /// How long the last pass judged: the next drains [`JUDGE_SHARE`]
    /// times as long at least.
    last_judge: Mutex<Duration>,
    /// What the passes read of the rollups, kept for the next: the worker
    /// is its queue's only consumer (see [`RecentRollups`]).
    recent: tokio::sync::Mutex<RecentRollups>,
}

impl DetectWorker {
    /// A worker reading the queue as `consumer` (see [`UP_CONSUMER`] and
    /// [`LAMBDA_CONSUMER`]) with the detect and retention settings of `config`.
    pub fn new(stores: Stores, config: &Config, consumer: impl Into<String>) -> DetectWorker {
        DetectWorker {
            stores,
            detect: config.detect.clone(),
            retention_days: config.storage.retention_days,
            consumer: consumer.into(),
            limits: PassLimits::default(),
            last_retention: Mutex::new(None),
            last_judge: Mutex::new(Duration::ZERO),
            recent: tokio::sync::Mutex::new(RecentRollups::default()),
        }
    }

    /// Bounds each pass to `max` queue entries instead of
    /// [`crate::MAX_ENTRIES_PER_PASS`] (at least 1).
    pub fn with_max_entries_per_pass(mut self, max: usize) -> DetectWorker {
        self.limits.entries = max.max(1);
        self
    }

    /// Bounds each pass to advancing `max` live states instead of
    /// [`crate::LIVE_STATES_PER_PASS`] (at least 1).
    pub fn with_live_states_per_pass(mut self, max: usize) -> DetectWorker {
        self.limits.live_states = max.max(1);
        self
    }

    /// Drains for at least `time` before judging instead of
    /// [`crate::DRAIN_TIME`] (zero: one claim, then the judging).
    pub fn with_drain_time(mut self, time: Duration) -> DetectWorker {
        self.limits.drain_time = time;
        self
    }

    /// The queue consumer name this worker claims entries as.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The stores the worker reads and writes.
    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// One tick: a pass, then more passes while the last one drained a full
    /// pass's worth of entries, stopped draining at its time with entries
    /// left, or left live states to advance (its budget spent), and the
    /// time left before `deadline` is at least twice the longest pass so
    /// far; then retention when it is due (first tick, then every
    /// [`RETENTION_EVERY`]).
    ///
    /// A failed pass ends the tick with its error; what it did not
    /// acknowledge stays queued for the next tick. A failed retention is
    /// logged and retried at the next tick (the passes did their work).
    pub async fn tick(&self, deadline: Instant) -> Result<TickReport, DetectError> {
        let mut report = TickReport::default();
        let mut longest = Duration::ZERO;
        loop {
            let started = Instant::now();
            let pass = self.pass_with_retries(deadline).await?;
            longest = longest.max(started.elapsed());
            report.passes += 1;
            report.entries += pass.entries;
            report.inserted += pass.inserted;
            report.duplicates += pass.duplicates;
            report.opened += pass.opened;
            report.resolved += pass.resolved;
            let time_left = deadline.saturating_duration_since(Instant::now());
            let more =
                pass.entries >= self.limits.entries || pass.drain_cut || pass.live_deferred > 0;
            if !more || time_left < longest * 2 {
                break;
            }
        }
        if self.retention_due() {
            match apply_retention(&self.stores, self.retention_days, Utc::now()).await {
                Ok(deleted) => {
                    report.retention_deleted = Some(deleted);
                    if let Ok(mut last) = self.last_retention.lock() {
                        *last = Some(Instant::now());
                    }
                }
                Err(e) => tracing::warn!(error = %e, "retention failed; will retry next tick"),
            }
        }
        Ok(report)
    }

    /// One pass, repeated after a back-off while it fails on a transient
    /// backend error and the back-off ends before `deadline` (the adapters
    /// reconnect meanwhile).
    async fn pass_with_retries(&self, deadline: Instant) -> Result<PassReport, DetectError> {
        let mut waits = RETRY_BACKOFF.iter();
        let mut recent = self.recent.lock().await;
        let last_judge = self.last_judge.lock().map(|t| *t).unwrap_or_default();
        let limits = PassLimits {
            drain_time: self.limits.drain_time.max(last_judge * JUDGE_SHARE),
            ..self.limits
        };
        loop {
            let result = run_pass_with(
                &self.stores,
                &self.detect,
                &self.consumer,
                Utc::now(),
                limits,
                &mut recent,
            )
            .await;
            if let (Ok(pass), Ok(mut last)) = (&result, self.last_judge.lock()) {
                *last = pass.judge_time;
            }
            let wait = match &result {
                Err(DetectError::Store(StoreError::Unavailable(_))) => waits.next(),
                _ => None,
            };
            match wait {
                Some(wait) if Instant::now() + *wait < deadline => {
                    if let Err(e) = &result {
                        tracing::warn!(error = %e, retry_in = ?wait, "detect pass failed; retrying");
                    }
                    tokio::time::sleep(*wait).await;
                }
                _ => return result,
            }
        }
    }

    fn retention_due(&self) -> bool {
        self.last_retention
            .lock()
            .map(|last| last.is_none_or(|at| at.elapsed() >= RETENTION_EVERY))
            .unwrap_or(true)
    }
}
