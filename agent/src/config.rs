//! The agent's configuration file (TOML) and its validation.
//!
//! ```toml
//! [output]
//! url = "http://127.0.0.1:8080"
//! # api_key = "..."            # or ANOMALOG_API_KEY
//!
//! [[sources]]
//! paths = ["/var/log/app/*.log"]
//! service = "app"
//! ```
//!
//! See docs/agent.md for every key. Unknown keys are errors, and every error
//! names the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::batch::{BatchLimits, Compression, Parser};
use crate::buffer::DEFAULT_BUFFER_BYTES;
use crate::multiline::MultilineRule;
use crate::tail::StartAt;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub output: OutputConfig,
    #[serde(default)]
    pub state: StateConfig,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
}

/// `[output]`: where and how batches are sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Base URL of anomalog (events go to `{url}/ingest`).
    pub url: String,
    #[serde(default)]
    pub api_key: Option<String>,
    #[serde(default)]
    pub compression: Compression,
    #[serde(default = "default_batch_events")]
    pub batch_max_events: usize,
    #[serde(default = "default_batch_bytes")]
    pub batch_max_bytes: usize,
    #[serde(default = "default_batch_wait_ms")]
    pub batch_max_wait_ms: u64,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

/// `[state]`: checkpoints and the disk buffer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// Holds `checkpoints.json` and `buffer/`; one agent per directory.
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    #[serde(default = "default_buffer_bytes")]
    pub buffer_max_bytes: u64,
}

impl Default for StateConfig {
    fn default() -> Self {
        StateConfig {
            data_dir: None,
            buffer_max_bytes: DEFAULT_BUFFER_BYTES,
        }
    }
}

/// What kind of input a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    #[default]
    File,
    Stdin,
}

/// `multiline = false`, `true` (built-in rule) or a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum MultilineConfig {
    Enabled(bool),
    Rule(MultilineTable),
}

impl Default for MultilineConfig {
    fn default() -> Self {
        MultilineConfig::Enabled(true)
    }
}

/// `[sources.multiline]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultilineTable {
    /// A line matching this regex starts an event; others continue it.
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub max_lines: Option<usize>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
}

/// `[[sources]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    #[serde(default, rename = "type")]
    pub kind: SourceKind,
    /// Glob patterns (file sources).
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Service of lines that name none (default: the file stem, or "stdin").
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub parser: Parser,
    #[serde(default)]
    pub start_at: StartAt,
    #[serde(default = "yes")]
    pub follow: bool,
    #[serde(default)]
    pub multiline: MultilineConfig,
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    #[serde(default = "default_rotate_wait_ms")]
    pub rotate_wait_ms: u64,
    #[serde(default = "default_partial_ms")]
    pub partial_line_timeout_ms: u64,
}

impl SourceConfig {
    /// A file source following `paths` with every default.
    pub fn files(paths: Vec<String>) -> SourceConfig {
        SourceConfig {
            kind: SourceKind::File,
            paths,
            exclude: Vec::new(),
            service: None,
            labels: BTreeMap::new(),
            parser: Parser::default(),
            start_at: StartAt::default(),
            follow: true,
            multiline: MultilineConfig::default(),
            poll_interval_ms: default_poll_ms(),
            rotate_wait_ms: default_rotate_wait_ms(),
            partial_line_timeout_ms: default_partial_ms(),
        }
    }

    /// The stdin source with every default.
    pub fn stdin() -> SourceConfig {
        SourceConfig {
            kind: SourceKind::Stdin,
            ..SourceConfig::files(Vec::new())
        }
    }

    /// The service name: configured, else the first path's file stem, else "stdin".
    pub fn service_name(&self) -> String {
        if let Some(service) = &self.service {
            return service.clone();
        }
        match self.kind {
            SourceKind::Stdin => "stdin".to_owned(),
            SourceKind::File => self
                .paths
                .first()
                .and_then(|p| Path::new(p).file_stem())
                .map(|s| s.to_string_lossy().replace(['*', '?', '[', ']'], ""))
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "file".to_owned()),
        }
    }

    /// The multi-line rule, if enabled.
    pub fn multiline_rule(&self) -> Result<Option<Arc<MultilineRule>>, ConfigError> {
        match &self.multiline {
            MultilineConfig::Enabled(false) => Ok(None),
            MultilineConfig::Enabled(true) => Ok(Some(Arc::new(MultilineRule::default()))),
            MultilineConfig::Rule(table) => {
                let mut rule = MultilineRule::with_start(table.start.as_deref()).map_err(|e| {
                    ConfigError::Invalid {
                        key: "multiline.start".to_owned(),
                        message: e.to_string(),
                    }
                })?;
                if let Some(n) = table.max_lines {
                    rule.max_lines = n.max(1);
                }
                if let Some(ms) = table.timeout_ms {
                    rule.timeout = Duration::from_millis(ms);
                }
                Ok(Some(Arc::new(rule)))
            }
        }
    }
}

/// A configuration that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{key}: {message}")]
    Invalid { key: String, message: String },
}

impl AgentConfig {
    /// Reads and validates a TOML file.
    pub fn load(path: &Path) -> Result<AgentConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let config: AgentConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: URLs, globs, regexes, names, limits.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: String, message: String| ConfigError::Invalid { key, message };
        let url = self.output.url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(invalid(
                "output.url".into(),
                format!("must start with http:// or https://, got {url:?}"),
            ));
        }
        if self.output.batch_max_events == 0 || self.output.batch_max_events > 10_000 {
            return Err(invalid(
                "output.batch_max_events".into(),
                "must be between 1 and 10000 (the ingest limit)".into(),
            ));
        }
        if self.output.batch_max_bytes < 1024 || self.output.batch_max_bytes > 16 * 1024 * 1024 {
            return Err(invalid(
                "output.batch_max_bytes".into(),
                "must be between 1 KiB and 16 MiB (ingest decodes at most 20 MiB)".into(),
            ));
        }
        if self.sources.is_empty() {
            return Err(invalid(
                "sources".into(),
                "at least one [[sources]] is needed".into(),
            ));
        }
        if self
            .sources
            .iter()
            .filter(|s| s.kind == SourceKind::Stdin)
            .count()
            > 1
        {
            return Err(invalid(
                "sources".into(),
                "stdin can be read by one source only".into(),
            ));
        }
        for (i, source) in self.sources.iter().enumerate() {
            let key = |name: &str| format!("sources[{i}].{name}");
            if source.kind == SourceKind::File && source.paths.is_empty() {
                return Err(invalid(key("paths"), "a file source needs paths".into()));
            }
            for pattern in source.paths.iter().chain(&source.exclude) {
                glob::Pattern::new(pattern)
                    .map_err(|e| invalid(key("paths"), format!("{pattern:?}: {e}")))?;
            }
            let service = source.service_name();
            if service.trim().is_empty() || service.len() > anomalog_core::parse::MAX_SERVICE_BYTES
            {
                return Err(invalid(key("service"), "must be 1 to 128 bytes".into()));
            }
            for label in source.labels.keys() {
                if RESERVED_KEYS.contains(&label.as_str()) {
                    return Err(invalid(
                        format!("sources[{i}].labels.{label}"),
                        "is an event field name; choose another label name".into(),
                    ));
                }
            }
            source.multiline_rule().map_err(|e| match e {
                ConfigError::Invalid { message, .. } => invalid(key("multiline.start"), message),
                other => other,
            })?;
        }
        Ok(())
    }

    /// How batches are cut.
    pub fn batch_limits(&self) -> BatchLimits {
        BatchLimits {
            max_events: self.output.batch_max_events,
            max_bytes: self.output.batch_max_bytes,
            max_wait: Duration::from_millis(self.output.batch_max_wait_ms),
        }
    }
}

/// Event field names (and their ingest aliases) a label may not take.
const RESERVED_KEYS: &[&str] = &[
    "ts",
    "timestamp",
    "time",
    "@timestamp",
    "datetime",
    "date",
    "level",
    "severity",
    "lvl",
    "message",
    "msg",
    "log",
    "text",
    "body",
    "service",
    "app",
    "application",
    "component",
    "host",
    "hostname",
    "trace_id",
    "span_id",
    "source",
];

fn yes() -> bool {
    true
}
fn default_batch_events() -> usize {
    BatchLimits::default().max_events
}
fn default_batch_bytes() -> usize {
    BatchLimits::default().max_bytes
}
fn default_batch_wait_ms() -> u64 {
    BatchLimits::default().max_wait.as_millis() as u64
}
fn default_timeout_secs() -> u64 {
    10
}
fn default_buffer_bytes() -> u64 {
    DEFAULT_BUFFER_BYTES
}
fn default_poll_ms() -> u64 {
    250
}
fn default_rotate_wait_ms() -> u64 {
    5_000
}
fn default_partial_ms() -> u64 {
    5_000
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> Result<AgentConfig, String> {
        let config: AgentConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate().map_err(|e| e.to_string())?;
        Ok(config)
    }

    #[test]
    fn a_minimal_file_is_complete() {
        let config = parse(
            "[output]\nurl = \"http://127.0.0.1:8080\"\n[[sources]]\npaths = [\"/var/log/app/*.log\"]\n",
        )
        .unwrap();
        assert_eq!(config.sources[0].service_name(), "file");
        assert!(config.sources[0].follow);
    }

    #[test]
    fn errors_name_the_key() {
        let bad_regex = parse(
            "[output]\nurl = \"http://x\"\n[[sources]]\npaths = [\"a.log\"]\nmultiline = { start = \"(\" }\n",
        )
        .unwrap_err();
        assert!(
            bad_regex.contains("sources[0].multiline.start"),
            "{bad_regex}"
        );
        let unknown = parse("[output]\nurl = \"http://x\"\nbogus = 1\n").unwrap_err();
        assert!(unknown.contains("bogus"), "{unknown}");
        let label = parse(
            "[output]\nurl = \"http://x\"\n[[sources]]\npaths = [\"a.log\"]\nlabels = { level = \"x\" }\n",
        )
        .unwrap_err();
        assert!(label.contains("sources[0].labels.level"), "{label}");
    }
}
