//! `anomalog`: the all-in-one local server and operator commands.

mod settings;
mod up;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    settings::init_tracing();
    match cli.command {
        Command::Up(args) => {
            let config = settings::load(cli.config.as_deref(), &args)?;
            up::run(config, args).await
        }
    }
}
