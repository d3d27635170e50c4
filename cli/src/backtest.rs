//! `anomalog backtest`: the detectors over history, for tuning.
//!
//! `--series FILE.csv` scores a `timestamp,value` series with the value-series
//! detector and writes `timestamp,value,score,anomaly` to stdout, one row per
//! input row, in order. `--logs FILE` replays a log file through the log
//! detectors (burst, spike, drop) and prints the anomalies found.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use anomalog_core::detect::series::SeriesDetector;
use anomalog_core::detect::{DetectConfig, Judging, detect_service, reconcile};
use anomalog_core::parse::{BodyFormat, ParseDefaults, ParseLimits, parse_body};
use anomalog_core::rollup::{FINE_BUCKET_SECS, LevelCounts, ServiceSeries, bucket_start};
use anomalog_core::{Anomaly, Config, LogEvent, LogSample};
use anomalog_eval::harness::buckets_between;

use crate::series_csv::read_series;

/// Arguments of `anomalog backtest`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["series", "logs"])))]
pub struct BacktestArgs {
    /// A CSV with a `timestamp,value` header, one row per bucket (`-` for
    /// stdin). Writes `timestamp,value,score,anomaly` to stdout.
    #[arg(long, value_name = "FILE.csv")]
    pub series: Option<PathBuf>,
    /// A log file in a format ingest accepts (JSON array, NDJSON or text
    /// lines). Prints the anomalies the detectors find.
    #[arg(long, value_name = "FILE")]
    pub logs: Option<PathBuf>,
    /// Service of log lines that name none.
    #[arg(long, default_value = "default")]
    pub service: String,
    /// Print the anomalies as JSON (one array) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Points before the first verdict (series only; default from the
    /// configuration, `detect.series.warmup`).
    #[arg(long)]
    pub warmup: Option<usize>,
}

pub fn run(config: &Config, args: &BacktestArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.series {
        let mut series = config.detect.series.clone();
        if let Some(w) = args.warmup {
            series.warmup = w;
        }
        return backtest_series(
            path,
            &DetectConfig {
                series,
                ..config.detect.clone()
            },
        );
    }
    if let Some(path) = &args.logs {
        return backtest_logs(path, &config.detect, args);
    }
    Ok(())
}

fn open(path: &Path) -> anyhow::Result<Box<dyn Read>> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::stdin().lock()));
    }
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(Box::new(std::io::BufReader::new(file)))
}

/// A progress bar on stderr when it is a terminal, hidden otherwise.
fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let template = format!("{what} {{bar:40}} {{pos}}/{{len}} {{elapsed}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

fn backtest_series(path: &Path, cfg: &DetectConfig) -> anyhow::Result<()> {
    let file = read_series(open(path)?).with_context(|| format!("in {}", path.display()))?;
    for warning in file.warnings.iter().take(20) {
        eprintln!("warning: {warning}");
    }
    if file.warnings.len() > 20 {
        eprintln!(
            "warning: {} more rows with problems",
            file.warnings.len() - 20
        );
    }
    let bar = progress(file.rows.len() as u64, "scoring");
    let mut detector = SeriesDetector::new(&cfg.series, file.bucket_secs);
    let stdout = std::io::stdout().lock();
    let mut out = csv::Writer::from_writer(std::io::BufWriter::new(stdout));
    out.write_record(["timestamp", "value", "score", "anomaly"])?;
    let mut previous: Option<DateTime<Utc>> = None;
    for row in &file.rows {
        let buckets = buckets_between(previous, row.ts, file.bucket_secs);
        if row.ts.is_some() {
            previous = row.ts;
        }
        let verdict = detector.push_after(row.number, buckets);
        let score = format!("{:.6}", verdict.score);
        let anomaly = if verdict.anomaly { "1" } else { "0" };
        out.write_record([row.timestamp.as_str(), row.value.as_str(), &score, anomaly])?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    out.flush()?;
    Ok(())
}

/// How a log file is framed, from its first non-blank character.
fn sniff(text: &str) -> BodyFormat {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') {
        BodyFormat::Json
    } else if trimmed.starts_with('{') {
        BodyFormat::Ndjson
    } else {
        BodyFormat::Text
    }
}

/// Lines per parse call when replaying line-based files.
const LINES_PER_CHUNK: usize = 20_000;

fn read_events(path: &Path, service: &str) -> anyhow::Result<(Vec<LogEvent>, usize)> {
    let mut text = String::new();
    open(path)?
        .read_to_string(&mut text)
        .with_context(|| format!("reading {} (UTF-8 expected)", path.display()))?;
    let defaults = ParseDefaults {
        service: Some(service.to_owned()),
        host: None,
        source: Some(path.display().to_string()),
        received_at: Utc::now(),
    };
    let limits = ParseLimits {
        max_events: usize::MAX,
        ..ParseLimits::default()
    };
    let format = sniff(&text);
    let mut events = Vec::new();
    let mut rejected = 0usize;
    if format == BodyFormat::Json {
        let batch = parse_body(format, text.as_bytes(), &defaults, &limits)
            .with_context(|| format!("parsing {}", path.display()))?;
        for r in batch.rejections.iter().take(5) {
            eprintln!("warning: record {}: {}", r.index, r.reason);
        }
        rejected += batch.rejections.len();
        events = batch.events;
    } else {
        let lines: Vec<&str> = text.lines().collect();
        let bar = progress(lines.len() as u64, "parsing");
        for (chunk_index, chunk) in lines.chunks(LINES_PER_CHUNK).enumerate() {
            let body = chunk.join("\n");
            let batch = match parse_body(format, body.as_bytes(), &defaults, &limits) {
                Ok(batch) => batch,
                Err(anomalog_core::parse::ParseError::Empty) => continue,
                Err(e) => return Err(e).with_context(|| format!("parsing {}", path.display())),
            };
            for r in batch
                .rejections
                .iter()
                .take(5usize.saturating_sub(rejected))
            {
                // Report line numbers of the whole file.
                let line = chunk_index * LINES_PER_CHUNK + r.index + 1;
                let reason = r
                    .reason
                    .split_once(": ")
                    .map_or(r.reason.as_str(), |(_, why)| why);
                eprintln!("warning: line {line}: {reason}");
            }
            rejected += batch.rejections.len();
            events.extend(batch.events);
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
    }
    Ok((events, rejected))
}

fn backtest_logs(path: &Path, cfg: &DetectConfig, args: &BacktestArgs) -> anyhow::Result<()> {
    let (events, rejected) = read_events(path, &args.service)?;
    let anomalies = replay(&events, cfg, |n| progress(n, "detecting"));
    let services = events
        .iter()
        .map(|e| e.service.as_str())
        .collect::<std::collections::BTreeSet<_>>();
    eprintln!(
        "{} events from {} services ({} lines rejected): {} anomalies",
        events.len(),
        services.len(),
        rejected,
        anomalies.len()
    );
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut stdout, &anomalies)?;
        writeln!(stdout)?;
    } else {
        print_table(&mut stdout, &anomalies)?;
    }
    Ok(())
}

/// Runs the log detectors over `events` as one detect pass at the end of the
/// data would: every window judged, every episode reported (open when still
/// going on at the end), with up to five sample lines each.
pub fn replay(
    events: &[LogEvent],
    cfg: &DetectConfig,
    bar: impl Fn(u64) -> ProgressBar,
) -> Vec<Anomaly> {
    let Some(first) = events.iter().map(|e| e.ts).min() else {
        return Vec::new();
    };
    let last = events.iter().map(|e| e.ts).max().unwrap_or(first);
    let start = bucket_start(first, FINE_BUCKET_SECS);
    let end = bucket_start(last, FINE_BUCKET_SECS) + Duration::seconds(FINE_BUCKET_SECS);
    let buckets = usize::try_from((end - start).num_seconds() / FINE_BUCKET_SECS).unwrap_or(0);
    let mut per_service: BTreeMap<&str, Vec<LevelCounts>> = BTreeMap::new();
    for e in events {
        let counts = per_service
            .entry(e.service.as_str())
            .or_insert_with(|| vec![LevelCounts::default(); buckets]);
        let i =
            usize::try_from((e.ts - start).num_seconds().div_euclid(FINE_BUCKET_SECS)).unwrap_or(0);
        if let Some(cell) = counts.get_mut(i) {
            cell.add(e.level, 1);
        }
    }
    let bar = bar(per_service.len() as u64);
    let mut anomalies = Vec::new();
    for (service, counts) in per_service {
        let series = ServiceSeries {
            service: service.to_owned(),
            bucket_secs: FINE_BUCKET_SECS,
            start,
            counts,
        };
        let settings = cfg.settings_for(service);
        let ctx = Judging {
            now: end,
            from: None,
            data_until: end,
            excluded: &[],
        };
        let findings = detect_service(&series, &settings, &ctx, &[]);
        for mut a in reconcile(service, &findings, &[], |k| settings.quiet(k), end) {
            a.first_seen = a.window_start;
            a.last_seen = a.window_end;
            a.samples = samples(events, &a);
            anomalies.push(a);
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    anomalies.sort_by(|a, b| (a.window_start, &a.service).cmp(&(b.window_start, &b.service)));
    anomalies
}

fn samples(events: &[LogEvent], a: &Anomaly) -> Vec<LogSample> {
    let in_window =
        |e: &&LogEvent| e.service == a.service && e.ts >= a.window_start && e.ts < a.window_end;
    let picked: Vec<&LogEvent> = match a.kind {
        anomalog_core::AnomalyKind::Drop => {
            let mut before: Vec<&LogEvent> = events
                .iter()
                .filter(|e| e.service == a.service && e.ts < a.window_start)
                .collect();
            before.sort_by_key(|e| std::cmp::Reverse(e.ts));
            before.into_iter().take(5).collect()
        }
        _ => events
            .iter()
            .filter(in_window)
            .filter(|e| e.level.is_error())
            .take(5)
            .collect(),
    };
    picked
        .into_iter()
        .map(|e| LogSample {
            ts: e.ts,
            level: e.level,
            message: e.message.chars().take(500).collect(),
        })
        .collect()
}

fn short(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn print_table(out: &mut impl Write, anomalies: &[Anomaly]) -> std::io::Result<()> {
    if anomalies.is_empty() {
        return writeln!(out, "no anomalies");
    }
    writeln!(
        out,
        "{:<6} {:<20} {:<19} {:<19} {:<8} {:>5}  explanation",
        "kind", "service", "start (UTC)", "end (UTC)", "severity", "score"
    )?;
    for a in anomalies {
        writeln!(
            out,
            "{:<6} {:<20} {:<19} {:<19} {:<8} {:>5.3}  {}",
            a.kind.as_str(),
            a.service,
            short(a.window_start),
            short(a.window_end),
            format!("{:?}", a.severity).to_lowercase(),
            a.score,
            a.message
        )?;
        if let Some(sample) = a.samples.first() {
            writeln!(
                out,
                "       e.g. {} {}",
                sample.level.as_str(),
                sample.message
            )?;
        }
    }
    Ok(())
}
