//! `anomalog-agent`: ships files, stdin or demo traffic to an anomalog ingest server.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anomalog_agent::config::{AgentConfig, OutputConfig, SourceConfig, StateConfig};
use anomalog_agent::pipeline;
use anomalog_agent::tail::StartAt;
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
    /// Retries per request before a demo batch is given up.
    #[arg(long, default_value_t = 8)]
    max_retries: u32,
    /// Where checkpoints and the disk buffer live (default: a directory per
    /// file or config under $STATE_DIRECTORY, $XDG_STATE_HOME/anomalog-agent or
    /// ~/.local/state/anomalog-agent).
    #[arg(long, env = "ANOMALOG_AGENT_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Disable joining stack traces into one event.
    #[arg(long)]
    no_multiline: bool,
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
    /// Run the sources of a configuration file.
    Run {
        /// The TOML configuration file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Check a configuration file and print what it would do.
    CheckConfig {
        /// The TOML configuration file.
        config: PathBuf,
    },
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
    let (config, data_dir) = match &cli.command {
        Command::Demo {
            seed,
            backfill_mins,
        } => {
            let mut config = ShipperConfig::from_base_url(&cli.url);
            config.api_key = cli.api_key.clone();
            config.max_retries = cli.max_retries;
            let shipper = Shipper::new(config).context("building the HTTP client")?;
            let mut opts = DemoOptions::starting_at(chrono::Utc::now());
            opts.seed = *seed;
            opts.backfill = Duration::from_secs(backfill_mins.saturating_mul(60));
            let report = run_demo(&shipper, opts, shutdown_signal()).await?;
            tracing::info!(?report, "demo finished");
            return Ok(());
        }
        Command::CheckConfig { config } => {
            let parsed = AgentConfig::load(config)?;
            println!("{}: ok", config.display());
            println!(
                "output: {}/ingest ({:?})",
                parsed.output.url.trim_end_matches('/'),
                parsed.output.compression
            );
            for source in &parsed.sources {
                println!(
                    "source {:?} service={} paths={:?} parser={:?} start_at={:?} multiline={}",
                    source.kind,
                    source.service_name(),
                    source.paths,
                    source.parser,
                    source.start_at,
                    source.multiline_rule()?.is_some()
                );
            }
            let dir = state_dir(
                &cli.data_dir,
                parsed.state.data_dir.as_deref(),
                "config",
                config,
            );
            println!("data_dir: {}", dir.display());
            return Ok(());
        }
        Command::Run { config: path } => {
            let mut config = AgentConfig::load(path)?;
            if let Some(key) = &cli.api_key
                && config.output.api_key.is_none()
            {
                config.output.api_key = Some(key.clone());
            }
            let dir = state_dir(
                &cli.data_dir,
                config.state.data_dir.as_deref(),
                "config",
                path,
            );
            (config, dir)
        }
        Command::File {
            path,
            follow,
            from_start,
        } => {
            let mut source =
                SourceConfig::files(vec![glob::Pattern::escape(&path.to_string_lossy())]);
            source.service = Some(cli.service.clone().unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "file".to_owned())
            }));
            source.follow = *follow;
            source.start_at = if *from_start || !*follow {
                StartAt::Beginning
            } else {
                StartAt::End
            };
            let absolute = std::path::absolute(path).unwrap_or(path.clone());
            let dir = state_dir(&cli.data_dir, None, "file", &absolute);
            (single_source(&cli, source), dir)
        }
        Command::Stdin => {
            let mut source = SourceConfig::stdin();
            source.service = cli.service.clone();
            let name = source.service_name();
            let dir = state_dir(&cli.data_dir, None, "stdin", Path::new(&name));
            (single_source(&cli, source), dir)
        }
    };
    let counters = pipeline::run(config, &data_dir, shutdown_signal()).await?;
    tracing::info!(?counters, "done");
    Ok(())
}

fn single_source(cli: &Cli, mut source: SourceConfig) -> AgentConfig {
    if cli.no_multiline {
        source.multiline = anomalog_agent::config::MultilineConfig::Enabled(false);
    }
    AgentConfig {
        output: OutputConfig {
            url: cli.url.clone(),
            api_key: cli.api_key.clone(),
            ..toml_defaults()
        },
        state: StateConfig::default(),
        sources: vec![source],
    }
}

fn toml_defaults() -> OutputConfig {
    // The defaults of the file format are the one source of defaults.
    let parsed: Result<AgentConfig, _> = toml::from_str("[output]\nurl = \"http://x\"\n");
    match parsed {
        Ok(config) => config.output,
        Err(_) => OutputConfig {
            url: String::new(),
            api_key: None,
            compression: Default::default(),
            batch_max_events: 5_000,
            batch_max_bytes: 2 * 1024 * 1024,
            batch_max_wait_ms: 1_000,
            timeout_secs: 10,
        },
    }
}

/// `--data-dir`, else the config's `state.data_dir`, else a directory of the
/// default state directory named after what is shipped (two agents shipping
/// different files never share checkpoints).
fn state_dir(
    flag: &Option<PathBuf>,
    configured: Option<&Path>,
    kind: &str,
    what: &Path,
) -> PathBuf {
    if let Some(dir) = flag {
        return dir.clone();
    }
    if let Some(dir) = configured {
        return dir.to_owned();
    }
    let absolute = std::path::absolute(what).unwrap_or_else(|_| what.to_owned());
    let crc = crc32fast::hash(absolute.to_string_lossy().as_bytes());
    let stem = what
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    pipeline::default_state_dir().join(format!("{kind}-{stem}-{crc:08x}"))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    () = ctrl_c() => {}
                    _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
                }
            }
            Err(_) => ctrl_c().await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c().await;
}

/// Resolves on Ctrl-C (or never, if the handler cannot be installed).
async fn ctrl_c() {
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::warn!(%error, "cannot listen for Ctrl-C");
        std::future::pending::<()>().await;
    }
    tracing::info!("Ctrl-C received, stopping");
}
