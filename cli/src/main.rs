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

/// mimalloc instead of glibc's malloc: on a sustained ingest + persist run
/// (docs/benchmarks.md) glibc kept freed memory in its arenas (peak RSS 810
/// MiB, 492 with mimalloc); CPU per event was the same. With ingest alone
/// mimalloc's peak is higher (202 against 88 MiB). Built without transparent
/// huge pages (`no_thp`): a huge page is faulted in whole, so each region
/// mimalloc purged came back as 2 MiB zeroed; without them the sustained
/// peak fell from 316-356 to 244-249 MiB at the same CPU per event.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
