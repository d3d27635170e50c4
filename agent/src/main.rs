//! `anomalog-agent`: ships files, stdin or demo traffic to an anomalog ingest server.

use std::path::PathBuf;
use std::time::Duration;

use anomalog_agent::source::{self, BatchOptions, FileSourceOptions};
use anomalog_agent::{DemoOptions, Shipper, ShipperConfig, run_demo};
use anyhow::Context;
use clap::{Parser, Subcommand};

/// Ships logs to anomalog.
#[derive(Debug, Parser)]
#[command(name = "anomalog-agent", version, about)]
struct Cli {
    /// Base URL of the anomalog ingest server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// API key, sent as a bearer token.
    #[arg(long, env = "ANOMALOG_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Service name of shipped lines (default: the file name, or "stdin").
    #[arg(long)]
    service: Option<String>,
    /// Retries per request before a batch is given up.
    #[arg(long, default_value_t = 8)]
    max_retries: u32,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate realistic traffic with scheduled incidents.
    Demo {
        /// Generator seed.
        #[arg(long, default_value_t = anomalog_agent::DEFAULT_DEMO_SEED)]
        seed: u64,
        /// Minutes of history to ship first.
        #[arg(long, default_value_t = 30)]
        backfill_mins: u64,
    },
    /// Ship the lines of a file.
    File {
        /// The file to read.
        path: PathBuf,
        /// Keep reading appended lines (follows truncation and rotation).
        #[arg(long)]
        follow: bool,
        /// With --follow, ship the existing content too (default: only new lines).
        #[arg(long)]
        from_start: bool,
    },
    /// Ship the lines of standard input.
    Stdin,
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let result = runtime.block_on(run());
    // A blocked stdin read must not keep the process alive after Ctrl-C.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// Logs to stderr like `anomalog`: human-readable on a terminal, JSON
/// otherwise; `ANOMALOG_LOG_FORMAT=json|text|auto` forces one.
fn init_tracing() -> anyhow::Result<()> {
    use anomalog_core::config::{LOG_FORMAT_VAR, LogFormat};
    use std::io::IsTerminal;
    let choice = std::env::var(LOG_FORMAT_VAR).ok();
    let format = LogFormat::choose(choice.as_deref(), std::io::stderr().is_terminal())?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    init_tracing()?;
    let cli = Cli::parse();
    let mut config = ShipperConfig::from_base_url(&cli.url);
    config.api_key = cli.api_key.clone();
    config.max_retries = cli.max_retries;
    let shipper = Shipper::new(config).context("building the HTTP client")?;

    match cli.command {
        Command::Demo {
            seed,
            backfill_mins,
        } => {
            let mut opts = DemoOptions::starting_at(chrono::Utc::now());
            opts.seed = seed;
            opts.backfill = Duration::from_secs(backfill_mins.saturating_mul(60));
            let report = run_demo(&shipper, opts, ctrl_c()).await?;
            tracing::info!(?report, "demo finished");
        }
        Command::File {
            path,
            follow,
            from_start,
        } => {
            let service = cli.service.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "file".to_owned())
            });
            let mut batch = BatchOptions::new(service);
            batch.source = Some(path.display().to_string());
            batch.host = hostname();
            let mut file = FileSourceOptions::new(path);
            file.follow = follow;
            file.from_start = from_start || !follow;
            let (tx, rx) = source::line_channel();
            let shipping =
                tokio::spawn(async move { source::ship_lines(rx, &shipper, &batch).await });
            tokio::select! {
                read = source::read_file(&file, tx) => { read?; }
                () = ctrl_c() => {}
            }
            // The sender is dropped: the batcher ships what it holds and stops.
            let report = shipping.await??;
            tracing::info!(?report, "done");
        }
        Command::Stdin => {
            let mut batch = BatchOptions::new(cli.service.unwrap_or_else(|| "stdin".to_owned()));
            batch.source = Some("stdin".to_owned());
            batch.host = hostname();
            let (tx, rx) = source::line_channel();
            let shipping =
                tokio::spawn(async move { source::ship_lines(rx, &shipper, &batch).await });
            tokio::select! {
                read = source::read_stdin(tx) => { read?; }
                () = ctrl_c() => {}
            }
            let report = shipping.await??;
            tracing::info!(?report, "done");
        }
    }
    Ok(())
}

/// Resolves on Ctrl-C (or never, if the handler cannot be installed).
async fn ctrl_c() {
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::warn!(%error, "cannot listen for Ctrl-C");
        std::future::pending::<()>().await;
    }
    tracing::info!("Ctrl-C received, stopping");
}

fn hostname() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
}
