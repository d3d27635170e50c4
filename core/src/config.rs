//! The one configuration type every binary shares.
//!
//! Layers, later wins: built-in defaults, an optional TOML file, environment
//! variables. This module only interprets text and key/value pairs that the
//! caller read; it never touches the file system or the process environment.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::detect::DetectConfig;
use crate::parse::ParseLimits;

/// Invalid configuration, naming the key at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file: {0}")]
    Toml(String),
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
}

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

/// Everything configurable. See `anomalog.example.toml` for every key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub ingest: IngestConfig,
    pub detect: DetectConfig,
    pub alert: AlertConfig,
}

/// Where the all-in-one server listens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub addr: String,
    /// Seconds between detect passes in the all-in-one server.
    pub detect_interval_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: "127.0.0.1:8080".to_owned(),
            detect_interval_secs: 2,
        }
    }
}

/// Embedded storage settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: String,
    /// Days logs are kept before retention deletes them.
    pub retention_days: u32,
    /// Bound of the embedded queue in batches; when full, ingest answers 503.
    pub max_queue_entries: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: "./anomalog-data".to_owned(),
            retention_days: 7,
            max_queue_entries: 100_000,
        }
    }
}

/// Ingest limits and authentication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// Accepted bearer keys; empty means no authentication (local use).
    pub api_keys: Vec<String>,
    /// Largest request body on the wire, compressed or not.
    pub max_body_bytes: usize,
    /// Largest body after decompression.
    pub max_decoded_bytes: usize,
    pub max_events: usize,
    pub max_message_bytes: usize,
    pub max_line_bytes: usize,
    pub max_attrs: usize,
    pub max_attr_value_bytes: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        let limits = ParseLimits::default();
        IngestConfig {
            api_keys: Vec::new(),
            max_body_bytes: 5 * 1024 * 1024,
            max_decoded_bytes: 20 * 1024 * 1024,
            max_events: limits.max_events,
            max_message_bytes: limits.max_message_bytes,
            max_line_bytes: limits.max_line_bytes,
            max_attrs: limits.max_attrs,
            max_attr_value_bytes: limits.max_attr_value_bytes,
        }
    }
}

impl IngestConfig {
    /// The parser limits these settings imply.
    pub fn parse_limits(&self) -> ParseLimits {
        ParseLimits {
            max_events: self.max_events,
            max_message_bytes: self.max_message_bytes,
            max_line_bytes: self.max_line_bytes,
            max_attrs: self.max_attrs,
            max_attr_value_bytes: self.max_attr_value_bytes,
        }
    }
}

/// Alert destinations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// Discord webhook URL; a secret, never logged.
    pub discord_webhook_url: Option<String>,
    /// Public URL of the dashboard, linked from alerts.
    pub dashboard_url: Option<String>,
}

impl Config {
    /// Parses a TOML document over the defaults. Unknown keys are errors.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Applies environment variables: `ANOMALOG_ADDR`, `ANOMALOG_DATA_DIR`,
    /// `ANOMALOG_API_KEYS` (comma-separated), `ANOMALOG_RETENTION_DAYS`,
    /// `ANOMALOG_DETECT_INTERVAL_SECS`, `ANOMALOG_DASHBOARD_URL` and
    /// `DISCORD_WEBHOOK_URL`. Other variables are ignored.
    pub fn apply_env(&mut self, vars: &BTreeMap<String, String>) -> Result<(), ConfigError> {
        let get = |k: &str| vars.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        if let Some(v) = get("ANOMALOG_ADDR") {
            self.server.addr = v.to_owned();
        }
        if let Some(v) = get("ANOMALOG_DATA_DIR") {
            self.storage.data_dir = v.to_owned();
        }
        if let Some(v) = get("ANOMALOG_API_KEYS") {
            self.ingest.api_keys = v
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = get("ANOMALOG_RETENTION_DAYS") {
            self.storage.retention_days = v.parse().map_err(|_| {
                invalid("ANOMALOG_RETENTION_DAYS", format!("'{v}' is not a number"))
            })?;
        }
        if let Some(v) = get("ANOMALOG_DETECT_INTERVAL_SECS") {
            self.server.detect_interval_secs = v.parse().map_err(|_| {
                invalid(
                    "ANOMALOG_DETECT_INTERVAL_SECS",
                    format!("'{v}' is not a number"),
                )
            })?;
        }
        if let Some(v) = get("DISCORD_WEBHOOK_URL") {
            self.alert.discord_webhook_url = Some(v.to_owned());
        }
        if let Some(v) = get("ANOMALOG_DASHBOARD_URL") {
            self.alert.dashboard_url = Some(v.to_owned());
        }
        self.validate()
    }

    /// Checks cross-field rules, naming the key at fault.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server.addr.parse::<std::net::SocketAddr>().is_err() {
            return Err(invalid(
                "server.addr",
                format!("'{}' is not HOST:PORT", self.server.addr),
            ));
        }
        if self.server.detect_interval_secs == 0 {
            return Err(invalid("server.detect_interval_secs", "must be at least 1"));
        }
        if self.storage.max_queue_entries == 0 {
            return Err(invalid("storage.max_queue_entries", "must be at least 1"));
        }
        if self.storage.retention_days == 0 {
            return Err(invalid("storage.retention_days", "must be at least 1"));
        }
        let ingest = &self.ingest;
        for (key, value) in [
            ("ingest.max_body_bytes", ingest.max_body_bytes),
            ("ingest.max_decoded_bytes", ingest.max_decoded_bytes),
            ("ingest.max_events", ingest.max_events),
            ("ingest.max_message_bytes", ingest.max_message_bytes),
            ("ingest.max_line_bytes", ingest.max_line_bytes),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if ingest.max_decoded_bytes < ingest.max_body_bytes {
            return Err(invalid(
                "ingest.max_decoded_bytes",
                "must be at least ingest.max_body_bytes",
            ));
        }
        self.detect.validate()?;
        if let Some(url) = &self.alert.discord_webhook_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            // Never echo the URL: it is a secret.
            return Err(invalid(
                "alert.discord_webhook_url",
                "must be an http(s) URL",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn toml_overrides_defaults_and_rejects_unknown_keys() {
        let c = Config::from_toml(
            "[detect.burst]\nmin_errors = 5\n[server]\naddr = \"0.0.0.0:9000\"\n",
        )
        .unwrap();
        assert_eq!(c.detect.burst.min_errors, 5);
        assert_eq!(c.detect.burst.window_secs, 30);
        assert_eq!(c.server.addr, "0.0.0.0:9000");

        let err = Config::from_toml("[detect.burst]\nmin_error = 5\n").unwrap_err();
        assert!(err.to_string().contains("min_error"), "{err}");
    }

    #[test]
    fn invalid_values_name_their_key() {
        let err = Config::from_toml("[detect.spike]\nk = -1.0\n").unwrap_err();
        assert_eq!(err.to_string(), "detect.spike.k: must be a positive number");
        let err = Config::from_toml("[server]\naddr = \"nowhere\"\n").unwrap_err();
        assert!(err.to_string().starts_with("server.addr:"), "{err}");
    }

    #[test]
    fn env_overrides_file_and_splits_keys() {
        let mut c = Config::default();
        let vars: BTreeMap<String, String> = [
            ("ANOMALOG_API_KEYS", " k1, k2 ,,"),
            ("ANOMALOG_DATA_DIR", "/tmp/x"),
            ("PATH", "/bin"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        c.apply_env(&vars).unwrap();
        assert_eq!(c.ingest.api_keys, vec!["k1", "k2"]);
        assert_eq!(c.storage.data_dir, "/tmp/x");

        let bad: BTreeMap<String, String> =
            [("ANOMALOG_RETENTION_DAYS".to_owned(), "week".to_owned())].into();
        let err = c.apply_env(&bad).unwrap_err();
        assert!(err.to_string().starts_with("ANOMALOG_RETENTION_DAYS"));
    }
}
