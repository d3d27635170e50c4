//! Configuration loading for the binaries: defaults, then the TOML file, then
//! `.env` and the process environment, then command-line flags.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use anomalog_core::Config;
use anomalog_core::config::{LOG_FORMAT_VAR, LogFormat};

use crate::up::UpArgs;

/// Default configuration file, read when it exists and no other is named.
pub const DEFAULT_CONFIG_FILE: &str = "anomalog.toml";

/// Logs to stderr: human-readable on a terminal, JSON otherwise, unless
/// `ANOMALOG_LOG_FORMAT` says `json` or `text`. `RUST_LOG` overrides the
/// default `info` filter.
pub fn init_tracing() -> anyhow::Result<()> {
    let choice = std::env::var(LOG_FORMAT_VAR).ok();
    let format = LogFormat::choose(choice.as_deref(), std::io::stderr().is_terminal())
        .context("invalid configuration")?;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

/// Builds the configuration of `anomalog up`.
pub fn load(file: Option<&Path>, args: &UpArgs) -> anyhow::Result<Config> {
    load_with(file, args.addr.as_deref(), args.data_dir.as_deref())
}

/// Like [`load`], for commands other than `up`: the address and data
/// directory given on their command line, if any.
pub fn load_with(
    file: Option<&Path>,
    addr: Option<&str>,
    data_dir: Option<&Path>,
) -> anyhow::Result<Config> {
    let mut config = load_file(file)?;
    // A missing .env is the normal case; a malformed one is reported.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        return Err(e).context("reading .env");
    }
    let vars: BTreeMap<String, String> = std::env::vars().collect();
    config.apply_env(&vars).context("invalid configuration")?;
    if let Some(addr) = addr {
        config.server.addr = addr.to_owned();
    }
    if let Some(dir) = data_dir {
        config.storage.data_dir = dir.display().to_string();
    }
    config.validate().context("invalid configuration")?;
    Ok(config)
}

/// The configuration file alone (or the defaults when there is none).
pub fn load_file(file: Option<&Path>) -> anyhow::Result<Config> {
    match file {
        Some(path) => read_file(path),
        None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
            read_file(Path::new(DEFAULT_CONFIG_FILE))
        }
        None => Ok(Config::default()),
    }
}

fn read_file(path: &Path) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading configuration file {}", path.display()))?;
    Config::from_toml(&text).with_context(|| format!("in {}", path.display()))
}

/// Reports a panic as one error log line (message and location, no
/// backtrace) instead of the default multi-line stderr text. A request
/// handler's panic is then answered 500 by the server's catch-panic layer.
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(panic = %message, %location, "panicked");
    }));
}
