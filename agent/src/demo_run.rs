//! Ships demo traffic: a history backfill, then live ticks until shutdown.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use tokio::time::MissedTickBehavior;

use crate::demo::DemoGenerator;
use crate::shipper::{ShipError, Shipper};

/// Default seed of the demo generator.
pub const DEFAULT_DEMO_SEED: u64 = 42;
/// Default history shipped before live traffic starts.
pub const DEFAULT_BACKFILL: Duration = Duration::from_secs(30 * 60);
/// Default interval between live shipments.
pub const DEFAULT_TICK: Duration = Duration::from_secs(1);
/// Most events in one backfill request.
pub const BACKFILL_CHUNK_EVENTS: usize = 5_000;
/// History is generated this many seconds at a time, then cut into chunks.
const BACKFILL_WINDOW_SECS: i64 = 60;

/// What [`run_demo`] generates and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOptions {
    /// Generator seed: the same seed and start give the same traffic.
    pub seed: u64,
    /// How much history to ship first, ending at `start` (incident-free).
    pub backfill: Duration,
    /// Interval between live shipments.
    pub tick: Duration,
    /// The moment the demo starts; incidents are scheduled relative to it.
    /// Callers pass `Utc::now()`.
    pub start: DateTime<Utc>,
}

impl DemoOptions {
    /// Default seed, backfill and tick, starting at `start`.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        DemoOptions {
            seed: DEFAULT_DEMO_SEED,
            backfill: DEFAULT_BACKFILL,
            tick: DEFAULT_TICK,
            start,
        }
    }
}

/// Counters of one [`run_demo`] run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    /// Events generated for the backfill.
    pub backfill_events: u64,
    /// Live ticks that shipped (or tried to ship) a batch.
    pub ticks: u64,
    /// Events generated in total.
    pub generated: u64,
    /// Events the server accepted.
    pub accepted: u64,
    /// Events the server refused individually.
    pub rejected: u64,
    /// Events dropped because their batch could not be delivered.
    pub dropped: u64,
}

/// Ships `opts.backfill` of history (chunks of at most [`BACKFILL_CHUNK_EVENTS`]),
/// then, every `opts.tick`, the events of the real time elapsed since the last tick,
/// until `shutdown` resolves (a request in flight is abandoned).
///
/// Demo traffic is disposable: a batch the shipper gives up on is logged and
/// dropped, and the run goes on. Only an authentication failure (401/403) ends it
/// with an error, since every later request would fail the same way.
pub async fn run_demo(
    shipper: &Shipper,
    opts: DemoOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<DemoReport, ShipError> {
    let mut report = DemoReport::default();
    tokio::select! {
        result = drive(shipper, &opts, &mut report) => result?,
        () = shutdown => tracing::info!("demo traffic stopped"),
    }
    Ok(report)
}

async fn drive(
    shipper: &Shipper,
    opts: &DemoOptions,
    report: &mut DemoReport,
) -> Result<(), ShipError> {
    let mut generator = DemoGenerator::new(opts.seed, opts.start);
    let backfill = TimeDelta::from_std(opts.backfill).unwrap_or(TimeDelta::zero());
    let mut cursor = opts.start - backfill;
    tracing::info!(seed = opts.seed, from = %cursor, to = %opts.start, "shipping demo history");
    while cursor < opts.start {
        let until = (cursor + TimeDelta::seconds(BACKFILL_WINDOW_SECS)).min(opts.start);
        let events = generator.events_between(cursor, until);
        report.backfill_events += events.len() as u64;
        ship(shipper, &events, report).await?;
        cursor = until;
    }
    tracing::info!(
        events = report.backfill_events,
        "demo history shipped, going live"
    );

    let mut ticker = tokio::time::interval(opts.tick.max(Duration::from_millis(10)));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticker.tick().await; // the first tick completes at once
    loop {
        ticker.tick().await;
        let now = Utc::now();
        // The generator fills [cursor, now): a slow tick only makes the next batch larger.
        let events = generator.events_between(cursor, now);
        cursor = cursor.max(now);
        report.ticks += 1;
        ship(shipper, &events, report).await?;
    }
}

/// Ships `events` in chunks, dropping (and logging) chunks that cannot be delivered.
async fn ship(
    shipper: &Shipper,
    events: &[Value],
    report: &mut DemoReport,
) -> Result<(), ShipError> {
    report.generated += events.len() as u64;
    for chunk in events.chunks(BACKFILL_CHUNK_EVENTS) {
        match shipper.send(chunk).await {
            Ok(receipt) => {
                report.accepted += receipt.accepted;
                report.rejected += receipt.rejected;
                if let Some(first) = receipt.errors.first() {
                    tracing::warn!(
                        rejected = receipt.rejected,
                        first_reason = %first.reason,
                        "ingest rejected some demo events"
                    );
                }
            }
            Err(error) if error.is_auth_failure() => return Err(error),
            Err(error) => {
                tracing::warn!(events = chunk.len(), %error, "dropping a demo batch that could not be shipped");
                report.dropped += chunk.len() as u64;
            }
        }
    }
    Ok(())
}
