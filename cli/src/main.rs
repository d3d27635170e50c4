//! `anomalog`: the all-in-one local server and operator commands.

mod alert_test;
mod backtest;
mod eval;
mod keys;
mod patterns;
mod prometheus;
mod series_csv;
mod server;
mod settings;
mod up;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// mimalloc for blocks under 64 KiB, glibc's malloc for larger ones
/// ([`anomalog_alloc::Split`]). mimalloc alone kept about 70 MiB of freed
/// large buffers at 200k events/s (its purge delay); glibc alone cost more
/// CPU per event for the small ones (docs/benchmarks.md, "Session 16: the
/// allocator").
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: anomalog_alloc::Split = anomalog_alloc::Split;

#[derive(Parser)]
#[command(name = "anomalog", version, about = "Real-time log anomaly detection")]
struct Cli {
    /// Configuration file (default: ./anomalog.toml when it exists).
    #[arg(long, global = true, env = "ANOMALOG_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run ingest, api, detect, alert and the dashboard in one process.
    Up(up::UpArgs),
    /// Run the detectors over a `timestamp,value` CSV or a log file.
    Backtest(backtest::BacktestArgs),
    /// Score the series detector against labelled series (precision, recall,
    /// delay, NAB-style score).
    Eval(eval::EvalArgs),
    /// Mine log templates: prints `<pattern id>\t<template>` per input line.
    Patterns(patterns::PatternsArgs),
    /// Create, list and revoke API keys with scopes (ingest, read, admin).
    Keys(keys::KeysArgs),
    /// Check the alert channels: `anomalog alert test [--channel NAME]`.
    Alert(alert_test::AlertArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    settings::init_tracing()?;
    settings::log_panics();
    match cli.command {
        Command::Up(args) => {
            let config = settings::load(cli.config.as_deref(), &args)?;
            up::run(config, args).await
        }
        Command::Backtest(args) => {
            backtest::run(&settings::load_file(cli.config.as_deref())?, &args)
        }
        Command::Eval(args) => eval::run(&settings::load_file(cli.config.as_deref())?, &args),
        Command::Patterns(args) => patterns::run(&args),
        Command::Keys(args) => keys::run(cli.config.as_deref(), args).await,
        Command::Alert(args) => alert_test::run(cli.config.as_deref(), args).await,
    }
}
