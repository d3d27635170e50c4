//! Configuration loading for the binaries: defaults, then the TOML file, then
//! `.env` and the process environment, then command-line flags.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use tracing_subscriber::EnvFilter;

use anomalog_core::Config;

use crate::up::UpArgs;

/// Default configuration file, read when it exists and no other is named.
pub const DEFAULT_CONFIG_FILE: &str = "anomalog.toml";

/// Environment variable choosing the log format: `json`, `text` or `auto`
/// (the default: text on a terminal, JSON otherwise).
pub const LOG_FORMAT_VAR: &str = "ANOMALOG_LOG_FORMAT";

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (for log collectors).
    Json,
    /// Human-readable lines.
    Text,
}

impl LogFormat {
    /// The format `choice` (the value of [`LOG_FORMAT_VAR`], if set) asks for,
    /// given whether stderr is a terminal.
    pub fn choose(choice: Option<&str>, terminal: bool) -> anyhow::Result<LogFormat> {
        match choice.map(|c| c.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "auto") if terminal => Ok(LogFormat::Text),
            None | Some("" | "auto") => Ok(LogFormat::Json),
            Some("json") => Ok(LogFormat::Json),
            Some("text" | "human" | "pretty") => Ok(LogFormat::Text),
            Some(other) => anyhow::bail!("{LOG_FORMAT_VAR}: '{other}' is not json, text or auto"),
        }
    }
}

/// Logs to stderr: human-readable on a terminal, JSON otherwise, unless
/// `ANOMALOG_LOG_FORMAT` says `json` or `text`. `RUST_LOG` overrides the
/// default `info` filter.
pub fn init_tracing() -> anyhow::Result<()> {
    let choice = std::env::var(LOG_FORMAT_VAR).ok();
    let format = LogFormat::choose(choice.as_deref(), std::io::stderr().is_terminal())?;
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
    let mut config = load_file(file)?;
    // A missing .env is the normal case; a malformed one is reported.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        return Err(e).context("reading .env");
    }
    let vars: BTreeMap<String, String> = std::env::vars().collect();
    config.apply_env(&vars).context("invalid configuration")?;
    if let Some(addr) = &args.addr {
        config.server.addr = addr.clone();
    }
    if let Some(dir) = &args.data_dir {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_log_format_follows_the_terminal_unless_forced() {
        assert_eq!(LogFormat::choose(None, true).unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::choose(None, false).unwrap(), LogFormat::Json);
        assert_eq!(
            LogFormat::choose(Some("auto"), false).unwrap(),
            LogFormat::Json
        );
        assert_eq!(
            LogFormat::choose(Some("JSON"), true).unwrap(),
            LogFormat::Json
        );
        assert_eq!(
            LogFormat::choose(Some("text"), false).unwrap(),
            LogFormat::Text
        );
        let err = LogFormat::choose(Some("xml"), false)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("ANOMALOG_LOG_FORMAT:"), "{err}");
    }
}
