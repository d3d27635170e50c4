//! `loadgen`: the load generator and the measurements of `scripts/bench`.
//! Each measuring subcommand prints its result and, with `--record FILE`,
//! appends it as a row of the results table; `table` renders that table.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Parser, Subcommand};

use anomalog_bench::api::{Api, QUERIES};
use anomalog_bench::load::{self, LoadOptions};
use anomalog_bench::report::{self, Row, group_thousands};
use anomalog_bench::workload::Workload;
use anomalog_bench::{bursts, limits, naive};

/// The `anomalog` binary's allocator: the in-process parse rate, the
/// reference ingest is measured against, is then the rate the server's
/// decode threads could reach (with glibc's malloc alone, a third of the
/// parse's time went to the allocator).
#[global_allocator]
static ALLOCATOR: anomalog_alloc::Split = anomalog_alloc::Split;

#[derive(Parser)]
#[command(about = "Load generator and measurements of scripts/bench (loopback only)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// POST batches to /ingest and report events/s, MiB/s, latency, statuses.
    Http(HttpArgs),
    /// Fixed-rate real-time load, then the exact counts: acknowledged,
    /// stored, backlog at the end of the load and after draining.
    Sustained(SustainedArgs),
    /// In-process rate of anomalog_core::parse on the same payload.
    Parse(ParseArgs),
    /// The seed's path: one Redis PUBLISH + one MongoDB insert_one per event.
    Naive(NaiveArgs),
    /// Wait until the server's queue is empty and it stores `expect` events.
    Drain(DrainArgs),
    /// Wait until the server answers /api/health.
    WaitUp(WaitUpArgs),
    /// p50/p95 of the dashboard's queries.
    Queries(QueriesArgs),
    /// Append a row measured elsewhere (redis-benchmark, du, RSS).
    Row(RowArgs),
    /// Print the results table; with --doc, write it into that file's section.
    Table(TableArgs),
}

#[derive(Args, Clone)]
struct WorkloadArgs {
    /// Events per batch (request).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Services the events are spread over.
    #[arg(long, default_value_t = 20)]
    services: usize,
    /// One event in this many is an ERROR.
    #[arg(long, default_value_t = 50)]
    error_every: usize,
    /// Stamp events over the last N hours (default: no timestamp, the server
    /// stamps them on receipt).
    #[arg(long)]
    spread_hours: Option<i64>,
    /// Distinct batches generated and cycled.
    #[arg(long, default_value_t = 32)]
    pool: usize,
}

impl WorkloadArgs {
    fn workload(&self) -> Workload {
        Workload {
            events_per_batch: self.batch,
            services: self.services,
            error_every: self.error_every,
            spread: self.spread_hours.map(chrono::Duration::hours),
            pool: self.pool,
            ..Workload::default()
        }
    }
}

#[derive(Args, Clone)]
struct RecordArgs {
    /// Append the result as a table row to this JSON-lines file.
    #[arg(long)]
    record: Option<PathBuf>,
    /// Row group.
    #[arg(long, default_value = "ingest")]
    group: String,
    /// Row name.
    #[arg(long, default_value = "HTTP /ingest")]
    name: String,
}

impl RecordArgs {
    fn save(&self, mut row: Row) -> anyhow::Result<()> {
        row.group.clone_from(&self.group);
        row.name.clone_from(&self.name);
        eprintln!(
            "{}",
            report::table(std::slice::from_ref(&row))
                .lines()
                .last()
                .unwrap_or_default()
        );
        if let Some(path) = &self.record {
            report::append(path, &row)?;
        }
        Ok(())
    }
}

#[derive(Args)]
struct HttpArgs {
    /// Server base URL (loopback).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Concurrent connections.
    #[arg(long, short = 'c', default_value_t = 8)]
    concurrency: usize,
    /// Seconds to send for (the run always stops by itself).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Stop after this many events (rounded up to whole batches).
    #[arg(long)]
    events: Option<u64>,
    /// Offered events per second (default: as fast as the server answers).
    #[arg(long)]
    rate: Option<f64>,
    #[command(flatten)]
    workload: WorkloadArgs,
    #[command(flatten)]
    record: RecordArgs,
}

#[derive(Args)]
struct SustainedArgs {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long, short = 'c', default_value_t = 4)]
    concurrency: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
    /// Offered events per second.
    #[arg(long, default_value_t = 200_000.0)]
    rate: f64,
    /// Longest wait for the queue to drain after the load, in seconds.
    #[arg(long, default_value_t = 60.0)]
    drain_deadline: f64,
    /// Error bursts sent during the load, each to a service of its own, and
    /// timed until `/api/anomalies` lists them (burst -> visible).
    #[arg(long, default_value_t = 0)]
    bursts: u64,
    /// Longest wait for one burst to be listed, in seconds.
    #[arg(long, default_value_t = 60.0)]
    burst_deadline: f64,
    #[command(flatten)]
    workload: WorkloadArgs,
    #[command(flatten)]
    record: RecordArgs,
}

#[derive(Args)]
struct ParseArgs {
    #[arg(long, default_value_t = 3.0)]
    duration: f64,
    #[command(flatten)]
    workload: WorkloadArgs,
    #[command(flatten)]
    record: RecordArgs,
}

#[derive(Args)]
struct NaiveArgs {
    #[arg(long, env = "REDIS_URL")]
    redis: String,
    #[arg(long, env = "MONGODB_URI")]
    mongodb: String,
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    #[command(flatten)]
    workload: WorkloadArgs,
    #[command(flatten)]
    record: RecordArgs,
}

#[derive(Args)]
struct DrainArgs {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Events the server should end up storing.
    #[arg(long)]
    expect: u64,
    /// Longest wait, in seconds.
    #[arg(long, default_value_t = 300.0)]
    deadline: f64,
}

#[derive(Args)]
struct WaitUpArgs {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Longest wait, in seconds.
    #[arg(long, default_value_t = 60.0)]
    deadline: f64,
}

#[derive(Args)]
struct QueriesArgs {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Runs of each query.
    #[arg(long, default_value_t = 15)]
    runs: usize,
    /// Appended to each row's name (e.g. `at 1M events`).
    #[arg(long, default_value = "")]
    suffix: String,
    #[arg(long)]
    record: Option<PathBuf>,
}

#[derive(Args)]
struct RowArgs {
    #[arg(long)]
    record: PathBuf,
    #[arg(long)]
    group: String,
    #[arg(long)]
    name: String,
    #[arg(long)]
    events_per_sec: Option<f64>,
    #[arg(long)]
    mib_per_sec: Option<f64>,
    #[arg(long)]
    p50_ms: Option<f64>,
    #[arg(long)]
    tail_ms: Option<f64>,
    #[arg(long)]
    tail_label: Option<String>,
    #[arg(long, default_value = "")]
    detail: String,
}

#[derive(Args)]
struct TableArgs {
    #[arg(long)]
    results: PathBuf,
    /// Markdown file whose generated section receives the table.
    #[arg(long)]
    doc: Option<PathBuf>,
    /// Text printed above the table in the doc (setup, date, commit).
    #[arg(long, default_value = "")]
    preamble: String,
}

fn secs(s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).context("a duration must be a non-negative number of seconds")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Http(a) => http(a).await,
        Command::Sustained(a) => sustained(a).await,
        Command::Parse(a) => {
            let batches = a.workload.workload().generate(Utc::now());
            let r = limits::parse_rate(&batches, secs(a.duration)?)?;
            a.record.save(Row {
                events_per_sec: Some(r.events_per_sec),
                mib_per_sec: Some(r.mib_per_sec),
                detail: format!(
                    "one thread, {} batches of {} events, {:.0} B/event",
                    r.batches,
                    batches.events_per_batch,
                    batches.mean_event_bytes()
                ),
                ..Row::default()
            })
        }
        Command::Naive(a) => {
            let batches = a.workload.workload().generate(Utc::now());
            let r = naive::run(
                &a.redis,
                &a.mongodb,
                "anomalog_bench_naive",
                &batches,
                secs(a.duration)?,
            )
            .await?;
            a.record.save(Row {
                events_per_sec: Some(r.events_per_sec),
                p50_ms: Some(r.latency.p50_ms),
                tail_ms: Some(r.latency.p99_ms),
                tail_label: Some("p99".into()),
                detail: format!(
                    "{} events, one client, PUBLISH + insert_one each (latency per event)",
                    group_thousands(r.events)
                ),
                ..Row::default()
            })
        }
        Command::Drain(a) => {
            let api = Api::new(&a.url)?;
            let (counts, waited) = api.wait_drained(a.expect, secs(a.deadline)?).await?;
            println!(
                "{{\"stored\":{},\"backlog\":{},\"waited_secs\":{:.3}}}",
                counts.stored,
                counts.backlog,
                waited.as_secs_f64()
            );
            if counts.backlog != 0 || counts.stored < a.expect {
                eprintln!(
                    "not drained after {:.0} s: stored {} of {}, backlog {} entries",
                    waited.as_secs_f64(),
                    counts.stored,
                    a.expect,
                    counts.backlog
                );
            }
            Ok(())
        }
        Command::WaitUp(a) => Ok(Api::new(&a.url)?.wait_up(secs(a.deadline)?).await?),
        Command::Queries(a) => {
            let api = Api::new(&a.url)?;
            for (name, path) in QUERIES {
                let s = api.time_query(path, a.runs).await?;
                let row = Row {
                    group: "query".into(),
                    name: format!("{name}{}", a.suffix),
                    p50_ms: Some(s.p50_ms),
                    tail_ms: Some(s.p95_ms),
                    tail_label: Some("p95".into()),
                    detail: format!("{} runs, max {:.1} ms: `{path}`", s.count, s.max_ms),
                    ..Row::default()
                };
                eprintln!(
                    "{}",
                    report::table(std::slice::from_ref(&row))
                        .lines()
                        .last()
                        .unwrap_or_default()
                );
                if let Some(path) = &a.record {
                    report::append(path, &row)?;
                }
            }
            Ok(())
        }
        Command::Row(a) => report::append(
            &a.record,
            &Row {
                group: a.group,
                name: a.name,
                events_per_sec: a.events_per_sec,
                mib_per_sec: a.mib_per_sec,
                p50_ms: a.p50_ms,
                tail_ms: a.tail_ms,
                tail_label: a.tail_label,
                detail: a.detail,
            },
        )
        .map_err(Into::into),
        Command::Table(a) => {
            let rows = report::read(&a.results)?;
            let table = report::table(&rows);
            println!("{table}");
            if let Some(doc) = &a.doc {
                let text = std::fs::read_to_string(doc)
                    .with_context(|| format!("reading {}", doc.display()))?;
                let section = if a.preamble.is_empty() {
                    table
                } else {
                    format!("{}\n\n{table}", a.preamble.trim_end())
                };
                std::fs::write(doc, report::replace_section(&text, &section))
                    .with_context(|| format!("writing {}", doc.display()))?;
                eprintln!("table written to {}", doc.display());
            }
            Ok(())
        }
    }
}

fn ingest_url(base: &str) -> String {
    format!("{}/ingest", base.trim_end_matches('/'))
}

async fn http(a: HttpArgs) -> anyhow::Result<()> {
    let batches = a.workload.workload().generate(Utc::now());
    let epb = batches.events_per_batch as u64;
    let options = LoadOptions {
        url: ingest_url(&a.url),
        concurrency: a.concurrency,
        duration: secs(a.duration)?,
        max_batches: a.events.map(|e| e.div_ceil(epb)),
        rate: a.rate,
        timeout: Duration::from_secs(30),
        api_key: std::env::var("ANOMALOG_BENCH_KEY").ok(),
    };
    let r = load::run(&options, &batches).await?;
    println!("{}", serde_json::to_string(&r)?);
    let offered = a
        .rate
        .map_or_else(|| "max rate".to_owned(), |r| format!("{r:.0}/s offered"));
    a.record.save(Row {
        events_per_sec: Some(r.events_per_sec()),
        mib_per_sec: Some(r.mib_per_sec()),
        p50_ms: Some(r.p50_ms),
        tail_ms: Some(r.p99_ms),
        tail_label: Some("p99".into()),
        detail: format!(
            "{} acknowledged of {} sent in {:.1} s; {} requests ({}); c={}, {offered}, {} events/batch, {:.0} B/event",
            group_thousands(r.events_acknowledged),
            group_thousands(r.events_sent),
            r.elapsed_secs,
            r.requests,
            r.statuses_line(),
            a.concurrency,
            epb,
            batches.mean_event_bytes()
        ),
        ..Row::default()
    })
}

async fn sustained(a: SustainedArgs) -> anyhow::Result<()> {
    let api = Api::new(&a.url)?;
    // What an earlier load left queued would be counted as this run's.
    let (before, _) = api.wait_drained(0, secs(a.drain_deadline)?).await?;
    if before.backlog != 0 {
        anyhow::bail!(
            "the queue still holds {} entries from before; the counts would be wrong",
            before.backlog
        );
    }
    let batches = a.workload.workload().generate(Utc::now());
    let options = LoadOptions {
        url: ingest_url(&a.url),
        concurrency: a.concurrency,
        duration: secs(a.duration)?,
        max_batches: None,
        rate: Some(a.rate),
        timeout: Duration::from_secs(30),
        api_key: std::env::var("ANOMALOG_BENCH_KEY").ok(),
    };
    let burst_deadline = secs(a.burst_deadline)?;
    let probes = async {
        if a.bursts == 0 {
            return Ok(None);
        }
        bursts::probe(
            &api,
            &options.url,
            options.api_key.as_deref(),
            a.bursts,
            options.duration,
            burst_deadline,
        )
        .await
        .map(Some)
    };
    let (r, bursts) = tokio::join!(load::run(&options, &batches), probes);
    let (r, bursts) = (r?, bursts?);
    // The bursts' events are stored too, but are not the load's.
    let burst_events = bursts.as_ref().map_or(0, |b| b.sent * bursts::BURST_ERRORS);
    let at_end = api.counts().await?;
    let expect = before.stored + r.events_acknowledged + burst_events;
    let (drained, waited) = api.wait_drained(expect, secs(a.drain_deadline)?).await?;
    let stored = drained
        .stored
        .saturating_sub(before.stored)
        .saturating_sub(burst_events);
    let total_secs = r.elapsed_secs + waited.as_secs_f64();
    let bursts_json = bursts.as_ref().map_or(String::new(), |b| {
        format!(
            ",\"bursts\":{{\"sent\":{},\"seen\":{},\"p50_ms\":{:.0},\"p99_ms\":{:.0},\"max_ms\":{:.0}}}",
            b.sent, b.seen, b.latency.p50_ms, b.latency.p99_ms, b.latency.max_ms
        )
    });
    println!(
        "{{\"acknowledged\":{},\"stored_at_end_of_load\":{},\"backlog_at_end_of_load\":{},\"stored\":{},\"backlog\":{},\"drain_secs\":{:.3}{bursts_json},\"load\":{}}}",
        r.events_acknowledged,
        at_end
            .stored
            .saturating_sub(before.stored)
            .saturating_sub(burst_events),
        at_end.backlog,
        stored,
        drained.backlog,
        waited.as_secs_f64(),
        serde_json::to_string(&r)?
    );
    let verdict = if stored == r.events_acknowledged && drained.backlog == 0 {
        "all stored".to_owned()
    } else {
        format!(
            "NOT all stored within the {:.0} s drain deadline",
            a.drain_deadline
        )
    };
    a.record.save(Row {
        events_per_sec: Some(stored as f64 / total_secs.max(1e-9)),
        mib_per_sec: None,
        p50_ms: Some(r.p50_ms),
        tail_ms: Some(r.p99_ms),
        tail_label: Some("p99".into()),
        detail: format!(
            "{:.0}/s offered for {:.0} s, c={}: {} acknowledged ({}); at the end of the load {} stored, backlog {} queue entries; \
             {} stored {:.1} s later, backlog {} ({verdict}); events/s = stored / (load + drain time)",
            a.rate,
            r.elapsed_secs,
            a.concurrency,
            group_thousands(r.events_acknowledged),
            r.statuses_line(),
            group_thousands(at_end.stored.saturating_sub(before.stored)),
            at_end.backlog,
            group_thousands(stored),
            waited.as_secs_f64(),
            drained.backlog,
        ) + &bursts.map_or(String::new(), |b| {
            format!(
                "; {} of {} error bursts listed in /api/anomalies, POST -> listed p50 {:.1} s, p99 {:.1} s, max {:.1} s",
                b.seen,
                b.sent,
                b.latency.p50_ms / 1000.0,
                b.latency.p99_ms / 1000.0,
                b.latency.max_ms / 1000.0
            )
        }),
        ..Row::default()
    })
}
