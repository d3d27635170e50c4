//! `soakgen`: the load and the exact count of `scripts/soak --backends`.
//!
//! `load` posts numbered events (`soak seq=N`) to `/ingest` at a steady rate,
//! one batch in flight, never retrying, through server crashes and restarts,
//! and writes which sequence numbers were acknowledged (202) to a file.
//! `verify` reads the stored logs back from MongoDB and checks that every
//! acknowledged event is stored exactly once and that no event is stored
//! twice (an event whose request failed may be stored once or not at all).

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use mongodb::bson::{Document, doc};
use serde_json::json;

#[derive(Parser)]
#[command(about = "Load and exact count of scripts/soak --backends (loopback only)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Post numbered events at a steady rate; write the acknowledged ranges.
    Load(LoadArgs),
    /// Count the stored events in MongoDB against the acknowledged ranges.
    Verify(VerifyArgs),
}

#[derive(Args)]
struct LoadArgs {
    /// Server base URL (loopback).
    #[arg(long)]
    url: String,
    /// Offered events per second.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Events per request.
    #[arg(long, default_value_t = 50)]
    batch: u64,
    /// Seconds of load (the run always stops by itself).
    #[arg(long)]
    seconds: f64,
    /// Service name of the events.
    #[arg(long, default_value = "soak")]
    service: String,
    /// Where the acknowledged ranges go: one `FIRST COUNT` line per batch.
    #[arg(long)]
    acked: PathBuf,
    /// API key sent as `Authorization: Bearer`, if any.
    #[arg(long, env = "SOAK_API_KEY")]
    key: Option<String>,
}

#[derive(Args)]
struct VerifyArgs {
    #[arg(long, env = "MONGODB_URI")]
    mongodb: String,
    #[arg(long, env = "ANOMALOG_MONGODB_DATABASE", default_value = "anomalog")]
    database: String,
    #[arg(long, default_value = "soak")]
    service: String,
    /// The file `load` wrote.
    #[arg(long)]
    acked: PathBuf,
    /// Keep reading while acknowledged events are missing, for at most this
    /// many seconds (the last batches may still be persisting).
    #[arg(long, default_value_t = 120.0)]
    deadline: f64,
}

#[derive(Default)]
struct Tally {
    requests: u64,
    acked_events: u64,
    refused_busy: u64,
    transport: u64,
    other: HashMap<u16, u64>,
}

async fn load(a: LoadArgs) -> anyhow::Result<()> {
    let url = format!("{}/ingest", a.url.trim_end_matches('/'));
    anomalog_bench::load::check_loopback(&url)?;
    if !(a.rate > 0.0 && a.batch > 0 && a.seconds > 0.0) {
        bail!("--rate, --batch and --seconds must be positive");
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&a.acked).with_context(|| a.acked.display().to_string())?,
    );
    let every = Duration::from_secs_f64(a.batch as f64 / a.rate);
    let started = Instant::now();
    let end = started + Duration::from_secs_f64(a.seconds);
    let mut next = started;
    let mut seq: u64 = 0;
    let mut t = Tally::default();
    let levels = ["INFO", "INFO", "INFO", "WARN", "ERROR"];
    while Instant::now() < end {
        let body: Vec<_> = (seq..seq + a.batch)
            .map(|n| {
                json!({
                    "service": a.service,
                    "level": levels[(n % 5) as usize],
                    "message": format!("soak seq={n} user {} took {} ms", n * 7919 % 1000, n % 97),
                })
            })
            .collect();
        let mut req = client.post(&url).json(&body);
        if let Some(key) = &a.key {
            req = req.bearer_auth(key);
        }
        t.requests += 1;
        match req.send().await {
            Ok(r) if r.status().as_u16() == 202 => {
                writeln!(out, "{seq} {}", a.batch)?;
                t.acked_events += a.batch;
            }
            Ok(r) if r.status().as_u16() == 503 || r.status().as_u16() == 429 => {
                t.refused_busy += 1;
            }
            Ok(r) => *t.other.entry(r.status().as_u16()).or_default() += 1,
            Err(_) => t.transport += 1,
        }
        seq += a.batch;
        next += every;
        let now = Instant::now();
        if next > now {
            tokio::time::sleep(next - now).await;
        } else {
            // Behind (a restart, a slow answer): do not burst to catch up.
            next = now;
        }
    }
    out.flush()?;
    let summary = json!({
        "seconds": started.elapsed().as_secs_f64(),
        "requests": t.requests,
        "events_sent": seq,
        "events_acked": t.acked_events,
        "refused_503_429": t.refused_busy,
        "transport_errors": t.transport,
        "other_statuses": t.other.iter().map(|(k, v)| (k.to_string(), *v)).collect::<HashMap<_, _>>(),
    });
    println!("{summary}");
    if !t.other.is_empty() {
        bail!("unexpected statuses: {:?}", t.other);
    }
    Ok(())
}

/// The sequence number in a stored message `soak seq=N ...`.
fn seq_of(message: &str) -> Option<u64> {
    message
        .strip_prefix("soak seq=")?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

async fn stored_counts(
    logs: &mongodb::Collection<Document>,
    service: &str,
) -> anyhow::Result<(HashMap<u64, u32>, u64)> {
    // Every log, filtered here: SecantusDB scans a filtered find far slower.
    let mut cursor = logs
        .find(doc! {})
        .projection(doc! { "message": 1, "service": 1, "_id": 0 })
        .batch_size(2_000)
        .await?;
    let mut counts: HashMap<u64, u32> = HashMap::new();
    let mut unparsable = 0;
    while cursor.advance().await? {
        if cursor.current().get_str("service").ok() != Some(service) {
            continue;
        }
        match cursor.current().get_str("message").ok().and_then(seq_of) {
            Some(n) => *counts.entry(n).or_default() += 1,
            None => unparsable += 1,
        }
    }
    Ok((counts, unparsable))
}

async fn verify(a: VerifyArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&a.acked).with_context(|| a.acked.display().to_string())?;
    let mut acked: Vec<u64> = Vec::new();
    for line in text.lines() {
        let mut parts = line.split(' ').map(str::parse::<u64>);
        let (Some(Ok(first)), Some(Ok(count))) = (parts.next(), parts.next()) else {
            bail!("bad line in {}: {line:?}", a.acked.display());
        };
        acked.extend(first..first + count);
    }
    let client = mongodb::Client::with_uri_str(&a.mongodb).await?;
    let logs = client.database(&a.database).collection::<Document>("logs");
    let deadline = Instant::now() + Duration::from_secs_f64(a.deadline);
    loop {
        let read_started = Instant::now();
        let (counts, unparsable) = stored_counts(&logs, &a.service).await?;
        let missing = acked.iter().filter(|n| !counts.contains_key(n)).count();
        let duplicated = counts.values().filter(|&&c| c > 1).count();
        let stored: u64 = counts.values().map(|&c| u64::from(c)).sum();
        let acked_set: std::collections::HashSet<u64> = acked.iter().copied().collect();
        let unacked_stored = counts.keys().filter(|n| !acked_set.contains(n)).count();
        let summary = json!({
            "acked": acked.len(),
            "stored_rows": stored,
            "distinct_stored": counts.len(),
            "acked_missing": missing,
            "duplicated": duplicated,
            "stored_but_not_acked": unacked_stored,
            "unparsable": unparsable,
            "read_secs": read_started.elapsed().as_secs_f64(),
        });
        if missing == 0 || Instant::now() >= deadline || duplicated > 0 {
            println!("{summary}");
            if missing > 0 || duplicated > 0 || unparsable > 0 {
                bail!("exact count failed: {summary}");
            }
            return Ok(());
        }
        eprintln!("soakgen verify: waiting, {missing} acknowledged events not stored yet");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Load(a) => load(a).await,
        Command::Verify(a) => verify(a).await,
    }
}

#[cfg(test)]
mod tests {
    use super::seq_of;

    #[test]
    fn the_sequence_number_is_read_back_from_the_message() {
        assert_eq!(seq_of("soak seq=42 user 1 took 2 ms"), Some(42));
        assert_eq!(seq_of("soak seq=x user"), None);
        assert_eq!(seq_of("other seq=1"), None);
    }
}
