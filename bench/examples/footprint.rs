//! How much disk the embedded store takes per event, and how fast it
//! persists and answers, in process (no HTTP): `loadgen`'s payload spread
//! over 24 h is parsed as ingest parses it, persisted in detect-sized
//! batches, and the data directory measured against the raw JSON.
//!
//! ```text
//! cargo run --release -p anomalog-bench --example footprint -- [EVENTS]
//! ```

use std::path::Path;
use std::time::Instant;

use anomalog_bench::limits::parse_defaults;
use anomalog_bench::workload::Workload;
use anomalog_core::parse::{BodyFormat, ParseLimits, parse_body};
use anomalog_core::{Level, StoredLog};
use anomalog_store::embedded::EmbeddedStore;
use anomalog_store::ports::{LogQuery, LogStore};
use chrono::{Duration, Utc};

/// Events per persist: detect claims 64 entries of 1,000 events at a time.
const PERSIST_BATCH: usize = 64_000;

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let events: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(200_000);
    let now = Utc::now();
    let workload = Workload {
        spread: Some(Duration::hours(24)),
        pool: events.div_ceil(1000),
        ..Workload::default()
    };
    let batches = workload.generate(now);
    let raw: u64 = batches.bodies.iter().map(|b| b.len() as u64).sum();
    let defaults = parse_defaults(now);

    // Parsed and persisted a detect-sized batch at a time, so 10M events fit
    // in memory; only the persist is timed.
    let dir = tempfile::tempdir()?;
    let store = EmbeddedStore::open(dir.path())?;
    let mut persist = std::time::Duration::ZERO;
    let mut stored = 0usize;
    for (c, chunk) in batches.bodies.chunks(PERSIST_BATCH / 1000).enumerate() {
        let mut logs = Vec::with_capacity(PERSIST_BATCH);
        for (i, body) in chunk.iter().enumerate() {
            let parsed = parse_body(BodyFormat::Json, body, &defaults, &ParseLimits::default())?;
            let entry = format!("{:012}", c * (PERSIST_BATCH / 1000) + i);
            logs.extend(
                parsed
                    .events
                    .into_iter()
                    .enumerate()
                    .map(|(i, event)| StoredLog {
                        id: StoredLog::id_for(&entry, i),
                        event,
                        pattern: None,
                    }),
            );
        }
        stored += logs.len();
        let start = Instant::now();
        store.persist(&logs).await?;
        persist += start.elapsed();
    }
    drop(batches);

    let queries = [
        ("newest 100", LogQuery::default()),
        (
            "one service",
            LogQuery {
                service: Some("svc-03".into()),
                ..LogQuery::default()
            },
        ),
        (
            "errors",
            LogQuery {
                min_level: Some(Level::Error),
                ..LogQuery::default()
            },
        ),
        (
            "text (common)",
            LogQuery {
                text: Some("payments".into()),
                ..LogQuery::default()
            },
        ),
        (
            "text (absent)",
            LogQuery {
                text: Some("no such words".into()),
                ..LogQuery::default()
            },
        ),
        (
            "an hour ago",
            LogQuery {
                to: Some(now - Duration::hours(1)),
                ..LogQuery::default()
            },
        ),
    ];
    let mut timings = Vec::new();
    for (name, query) in queries {
        let query = LogQuery {
            limit: 100,
            ..query
        };
        let mut ms = Vec::new();
        for _ in 0..9 {
            let t = Instant::now();
            let page = store.query(&query).await?;
            ms.push(t.elapsed().as_secs_f64() * 1e3);
            anyhow::ensure!(
                !page.items.is_empty() || name == "text (absent)",
                "{name}: empty"
            );
        }
        ms.sort_by(f64::total_cmp);
        timings.push((name, ms[ms.len() / 2], ms[ms.len() - 1]));
    }
    drop(store);
    let disk = dir_bytes(dir.path());

    let n = stored as f64;
    println!("events            {stored}");
    println!(
        "raw JSON          {:.1} MiB ({:.0} B/event)",
        raw as f64 / 1048576.0,
        raw as f64 / n
    );
    println!(
        "data dir          {:.1} MiB ({:.0} B/event, {:.2}x the raw JSON)",
        disk as f64 / 1048576.0,
        disk as f64 / n,
        disk as f64 / raw as f64
    );
    println!(
        "persist           {:.0} events/s ({:.2} s)",
        n / persist.as_secs_f64(),
        persist.as_secs_f64()
    );
    for (name, median, max) in timings {
        println!("query {name:<14} median {median:.1} ms, max {max:.1} ms");
    }
    Ok(())
}
