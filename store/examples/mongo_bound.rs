//! Where the time of a MongoDB persist goes: a benchmark, not a test.
//!
//! ```sh
//! MONGODB_URI=mongodb://127.0.0.1:PORT/?directConnection=true \
//!   cargo run --release -p anomalog-store --example mongo_bound -- --events 64000 --reps 3
//! # --section adapter|insert|indexes (default: all three); --claim N logs per persist
//! ```
//!
//! - **adapter**: `LogStore::persist` through [`MongoStore`] of detect-sized
//!   claims (`--claim`, default 32,000 logs: 32 queue entries of 1,000 events,
//!   what an 8 MiB claim holds), events stamped 5 us apart (200k events/s of
//!   real time) over 20 services, with and without a pattern on each log (the
//!   pattern rollups), then re-persisting the last claim (all duplicates: the
//!   id read-back of the crash-recovery path).
//! - **insert**: the logs collection alone, through the driver: unordered
//!   `insert_many` of documents shaped as the adapter's, in chunks of 500,
//!   1,000 and 5,000, with the adapter's write concern (`w: majority, j:
//!   true`) and with `w: 1, j: false` (a comparison only: the adapter keeps
//!   the durable one).
//! - **indexes**: the same inserts (chunks of 1,000, durable) with every index
//!   the store creates, without each secondary index in turn, and with `_id`
//!   only.
//!
//! Every row runs in a fresh scratch database (dropped after), `--reps`
//! times; the table gives each run. docs/benchmarks.md has the numbers.

use std::error::Error;
use std::time::{Duration, Instant};

use mongodb::bson::{Document, oid::ObjectId};
use mongodb::options::{Acknowledgment, WriteConcern};

use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_store::mongo::log_to_doc;
use anomalog_store::{LogStore, MongoConfig, MongoStore};
use anomalog_testkit::mongo_target;

mod common;
use common::{per_sec, percentile};

type BenchResult<T> = Result<T, Box<dyn Error>>;

const SERVICES: usize = 20;
/// Events per queue entry (what loadgen sends per request).
const ENTRY: usize = 1000;
/// The secondary indexes of `logs` (mongo/mod.rs `ensure_indexes`).
const SECONDARY: [&str; 4] = ["ts_ttl", "ts_id", "service_ts", "level_ts"];

/// Event `i`: 5 us after event `i - 1`, one in 50 an error.
fn event(i: usize) -> LogEvent {
    let ts = common::start() + chrono::Duration::microseconds(i64::try_from(i).unwrap_or(0) * 5);
    let level = if i.is_multiple_of(50) {
        Level::Error
    } else {
        Level::Info
    };
    common::event(i, ts, format!("svc-{:02}", i % SERVICES), level)
}

/// Log `i` as detect hands it to persist: id `<entry>-<index>`, a pattern
/// (one of 8 per service) when `patterns`.
fn log(i: usize, patterns: bool) -> StoredLog {
    StoredLog {
        pattern: patterns.then(|| format!("p{:016x}", (i / SERVICES) % 8)),
        id: StoredLog::id_for(&format!("1780000000000-{}", i / ENTRY), i % ENTRY),
        event: event(i),
    }
}

/// The document the adapter writes for log `i`, with its `writer`.
fn log_doc(i: usize, writer: ObjectId) -> Document {
    let mut d = log_to_doc(&log(i, true));
    d.insert("writer", writer);
    d
}

fn rate(n: usize, elapsed: Duration) -> String {
    format!("{:.0}", per_sec(n, elapsed))
}

#[allow(clippy::cast_precision_loss)]
fn micros_each(n: usize, elapsed: Duration) -> String {
    format!("{:.1}", elapsed.as_secs_f64() * 1e6 / n.max(1) as f64)
}

fn ms(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1000.0)
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn number(name: &str, default: usize) -> BenchResult<usize> {
    Ok(match arg(name) {
        Some(v) => v.parse()?,
        None => default,
    })
}

struct Scratch {
    uri: String,
    database: String,
    n: usize,
}

impl Scratch {
    /// A fresh database with the store's indexes.
    async fn store(&mut self) -> BenchResult<(MongoStore, mongodb::Database)> {
        self.n += 1;
        let name = format!("{}_{}", self.database, self.n);
        let store = MongoStore::connect(
            &self.uri,
            &MongoConfig {
                database: name.clone(),
                ..MongoConfig::default()
            },
        )
        .await?;
        let client = mongodb::Client::with_uri_str(&self.uri).await?;
        Ok((store, client.database(&name)))
    }
}

async fn adapter(
    scratch: &mut Scratch,
    events: usize,
    claim: usize,
    reps: usize,
) -> BenchResult<()> {
    println!("## adapter: LogStore::persist, {events} events, {claim} logs per persist\n");
    println!(
        "| patterns | run | events/s | us/event | p50 persist | max persist | re-persist (duplicates) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for rep in 1..=reps {
        for patterns in [true, false] {
            let (store, db) = scratch.store().await?;
            let mut latencies = Vec::new();
            let mut last = Vec::new();
            let started = Instant::now();
            for first in (0..events).step_by(claim) {
                let logs: Vec<StoredLog> = (first..(first + claim).min(events))
                    .map(|i| log(i, patterns))
                    .collect();
                let t = Instant::now();
                let report = store.persist(&logs).await?;
                latencies.push(t.elapsed());
                if report.inserted != logs.len() as u64 {
                    return Err(format!("expected {} new, got {report:?}", logs.len()).into());
                }
                last = logs;
            }
            let elapsed = started.elapsed();
            let t = Instant::now();
            let again = store.persist(&last).await?;
            let repersist = t.elapsed();
            if again.inserted != 0 {
                return Err(format!("re-persist inserted {again:?}").into());
            }
            latencies.sort();
            println!(
                "| {} | {rep} | {} | {} | {} ms | {} ms | {} ms ({} us/log) |",
                if patterns { "yes" } else { "no" },
                rate(events, elapsed),
                micros_each(events, elapsed),
                ms(percentile(&latencies, 0.5)),
                ms(latencies.last().copied().unwrap_or_default()),
                ms(repersist),
                micros_each(last.len(), repersist),
            );
            db.drop().await?;
        }
    }
    println!();
    Ok(())
}

/// Inserts `events` adapter-shaped documents in unordered `chunk`s.
async fn insert_run(
    db: &mongodb::Database,
    events: usize,
    chunk: usize,
    durable: bool,
) -> BenchResult<Duration> {
    let concern = if durable {
        WriteConcern::builder()
            .w(Acknowledgment::Majority)
            .journal(true)
            .build()
    } else {
        WriteConcern::builder()
            .w(Acknowledgment::Nodes(1))
            .journal(false)
            .build()
    };
    let logs = db.collection::<Document>("logs");
    let writer = ObjectId::new();
    let started = Instant::now();
    for first in (0..events).step_by(chunk) {
        let docs: Vec<Document> = (first..(first + chunk).min(events))
            .map(|i| log_doc(i, writer))
            .collect();
        logs.insert_many(docs)
            .ordered(false)
            .write_concern(concern.clone())
            .await?;
    }
    Ok(started.elapsed())
}

async fn inserts(scratch: &mut Scratch, events: usize, reps: usize) -> BenchResult<()> {
    println!("## insert: logs only, every index, {events} events\n");
    println!("| write concern | logs/insert_many | run | events/s | us/event |");
    println!("|---|---:|---:|---:|---:|");
    for rep in 1..=reps {
        for durable in [true, false] {
            for chunk in [500, 1000, 5000] {
                let (_store, db) = scratch.store().await?;
                let elapsed = insert_run(&db, events, chunk, durable).await?;
                println!(
                    "| {} | {chunk} | {rep} | {} | {} |",
                    if durable {
                        "majority, j"
                    } else {
                        "w:1, j:false"
                    },
                    rate(events, elapsed),
                    micros_each(events, elapsed),
                );
                db.drop().await?;
            }
        }
    }
    println!();
    Ok(())
}

async fn indexes(scratch: &mut Scratch, events: usize, reps: usize) -> BenchResult<()> {
    println!("## indexes: logs only, 1000 per insert_many, majority+j, {events} events\n");
    println!("| indexes on logs | run | events/s | us/event |");
    println!("|---|---:|---:|---:|");
    let mut variants: Vec<(String, Vec<&str>)> = vec![("all (_id + 4)".to_owned(), Vec::new())];
    for name in SECONDARY {
        variants.push((format!("all but {name}"), vec![name]));
    }
    variants.push(("_id only".to_owned(), SECONDARY.to_vec()));
    for rep in 1..=reps {
        for (label, dropped) in &variants {
            let (_store, db) = scratch.store().await?;
            let logs = db.collection::<Document>("logs");
            for name in dropped {
                logs.drop_index(*name).await?;
            }
            let elapsed = insert_run(&db, events, 1000, true).await?;
            println!(
                "| {label} | {rep} | {} | {} |",
                rate(events, elapsed),
                micros_each(events, elapsed)
            );
            db.drop().await?;
        }
    }
    println!();
    Ok(())
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let events = number("--events", 64_000)?;
    let reps = number("--reps", 3)?;
    let claim = number("--claim", 32_000)?;
    let section = arg("--section");
    let target = mongo_target();
    let mut scratch = Scratch {
        uri: target.uri,
        database: target.database,
        n: 0,
    };
    let wanted = |name: &str| section.as_deref().is_none_or(|s| s == name);
    if wanted("adapter") {
        adapter(&mut scratch, events, claim, reps).await?;
    }
    if wanted("insert") {
        inserts(&mut scratch, events, reps).await?;
    }
    if wanted("indexes") {
        indexes(&mut scratch, events, reps).await?;
    }
    Ok(())
}
