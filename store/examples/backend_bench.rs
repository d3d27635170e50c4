//! Throughput of the production adapters: a benchmark, not a test.
//!
//! ```sh
//! cargo run --release -p anomalog-store --example backend_bench
//! cargo run --release -p anomalog-store --example backend_bench -- --redis-events 100000 --mongo-events 10000
//! ```
//!
//! Measures, through the adapters (so serialisation and the round trips count):
//! - Redis: `EventQueue::append` of ingest-sized batches, one and eight
//!   appenders at once, with `appendfsync always` and `everysec`; then
//!   draining the queue with `claim` + `ack` as detect does.
//! - MongoDB: `LogStore::persist` (unordered insert, rollup `$inc`s each
//!   counted once) of detect-sized batches, and re-persisting an already stored
//!   batch (the crash-recovery path).
//!
//! Servers: a local `redis-server` and SecantusDB started on free ports (as in
//! the tests); `MONGODB_URI` points the MongoDB part at another server, and
//! `ANOMALOG_TEST_PYTHON` picks the Python that runs SecantusDB.
//! docs/benchmarks.md has the numbers and the machine they were taken on.

use std::error::Error;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_store::{EventQueue, LogStore, MongoConfig, MongoStore, RedisQueue, RedisQueueConfig};
use anomalog_testkit::{RedisServer, mongo_target};

mod common;
use common::{per_sec, percentile};

type BenchResult<T> = Result<T, Box<dyn Error>>;

/// Event `i`: 7 ms after event `i - 1`, one of five services and levels.
fn event(i: usize) -> LogEvent {
    let services = ["checkout", "payments", "search", "auth", "inventory"];
    let levels = [
        Level::Info,
        Level::Info,
        Level::Info,
        Level::Warn,
        Level::Error,
    ];
    let ts = common::start() + chrono::Duration::milliseconds(i64::try_from(i).unwrap_or(0) * 7);
    common::event(
        i,
        ts,
        services[i % services.len()].to_owned(),
        levels[i % levels.len()],
    )
}

fn arg(name: &str, default: usize) -> BenchResult<usize> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => Ok(args
            .get(i + 1)
            .ok_or_else(|| format!("{name} needs a value"))?
            .parse()?),
        None => Ok(default),
    }
}

/// Appends `total` events in `batch`-sized entries from `appenders` tasks.
async fn append_run(
    queue: Arc<RedisQueue>,
    total: usize,
    batch: usize,
    appenders: usize,
) -> BenchResult<(Duration, Vec<Duration>)> {
    let template: Arc<Vec<LogEvent>> = Arc::new((0..batch).map(event).collect());
    let batches = total / batch;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..appenders {
        let queue = queue.clone();
        let template = template.clone();
        let mine = batches / appenders + usize::from(worker < batches % appenders);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(mine);
            for _ in 0..mine {
                let t = Instant::now();
                queue.append(&template).await?;
                latencies.push(t.elapsed());
            }
            Ok::<_, anomalog_store::StoreError>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok((elapsed, latencies))
}

async fn bench_redis(total: usize) -> BenchResult<()> {
    println!("## Redis: EventQueue::append ({total} events per row)\n");
    println!(
        "| appendfsync | events/batch | appenders | events/s | batches/s | p50 append | p99 append |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for fsync in ["always", "everysec"] {
        for batch in [100, 1000] {
            for appenders in [1, 8] {
                let server = RedisServer::start_with_fsync(fsync);
                let queue = Arc::new(
                    RedisQueue::connect(
                        &server.url(),
                        RedisQueueConfig {
                            max_len: u64::MAX,
                            ..RedisQueueConfig::default()
                        },
                    )
                    .await?,
                );
                let (elapsed, latencies) = append_run(queue, total, batch, appenders).await?;
                println!(
                    "| {fsync} | {batch} | {appenders} | {:.0} | {:.0} | {:.2} ms | {:.2} ms |",
                    per_sec(total, elapsed),
                    per_sec(latencies.len(), elapsed),
                    percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
                    percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
                );
            }
        }
    }

    // Draining, as detect does: claim 64 entries, ack them.
    let server = RedisServer::start();
    let queue = Arc::new(
        RedisQueue::connect(
            &server.url(),
            RedisQueueConfig {
                max_len: u64::MAX,
                ..RedisQueueConfig::default()
            },
        )
        .await?,
    );
    append_run(queue.clone(), total, 100, 8).await?;
    let started = Instant::now();
    let mut drained = 0;
    loop {
        let entries = queue.claim("bench", 64).await?;
        if entries.is_empty() {
            break;
        }
        drained += entries.iter().map(|e| e.events.len()).sum::<usize>();
        let ids: Vec<String> = entries.into_iter().map(|e| e.id).collect();
        queue.ack(&ids).await?;
    }
    let elapsed = started.elapsed();
    println!(
        "\nDrain (claim 64 + ack, appendfsync always, 100-event entries): {drained} events in {:.2} s = {:.0} events/s\n",
        elapsed.as_secs_f64(),
        per_sec(drained, elapsed)
    );
    Ok(())
}

async fn bench_mongo(total: usize) -> BenchResult<()> {
    let target = mongo_target();
    let server = if std::env::var("MONGODB_URI").is_ok() {
        "MONGODB_URI"
    } else {
        "SecantusDB (Python), in memory"
    };
    println!("## MongoDB: LogStore::persist on {server} ({total} events per row)\n");
    println!(
        "| logs/persist | persists | events/s | p50 persist | p99 persist | re-persist (all duplicates) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|");
    for (round, batch) in [500usize, 2000].into_iter().enumerate() {
        let store = MongoStore::connect(
            &target.uri,
            &MongoConfig {
                database: format!("{}_{round}", target.database),
                ..MongoConfig::default()
            },
        )
        .await?;
        let calls = total / batch;
        let mut latencies = Vec::with_capacity(calls);
        let mut last = Vec::new();
        let started = Instant::now();
        for call in 0..calls {
            // One detect claim: entries of 100 events each.
            let logs: Vec<StoredLog> = (0..batch)
                .map(|i| StoredLog {
                    pattern: None,
                    id: StoredLog::id_for(
                        &format!("1780000000000-{}", call * batch + i / 100),
                        i % 100,
                    ),
                    event: event(call * batch + i),
                })
                .collect();
            let t = Instant::now();
            let report = store.persist(&logs).await?;
            latencies.push(t.elapsed());
            if report.inserted != logs.len() as u64 {
                return Err(format!("expected {} new logs, got {report:?}", logs.len()).into());
            }
            last = logs;
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let t = Instant::now();
        let again = store.persist(&last).await?;
        let repersist = t.elapsed();
        if again.inserted != 0 {
            return Err(format!("re-persist inserted {again:?}").into());
        }
        println!(
            "| {batch} | {calls} | {:.0} | {:.0} ms | {:.0} ms | {:.0} ms |",
            per_sec(calls * batch, elapsed),
            percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            repersist.as_secs_f64() * 1000.0,
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let redis_events = arg("--redis-events", 200_000)?;
    let mongo_events = arg("--mongo-events", 20_000)?;
    bench_redis(redis_events).await?;
    bench_mongo(mongo_events).await?;
    Ok(())
}
