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
    pub backends: BackendsConfig,
    pub syslog: SyslogConfig,
}

/// Where the all-in-one server listens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub addr: String,
    /// Seconds between detect passes in the all-in-one server.
    pub detect_interval_secs: u64,
    /// Origins (`https://dashboard.example.com`) whose pages may call the API
    /// and ingest from a browser (CORS). The dashboard this server serves is
    /// same-origin and needs none; `POST`s from any other origin are refused.
    pub cors_origins: Vec<String>,
    /// Serve on a non-loopback address without API keys, on purpose.
    pub allow_open: bool,
    /// Most connections served at once; more are closed on accept.
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers; also how long an
    /// idle keep-alive connection stays open.
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may go without sending a byte.
    pub body_read_timeout_secs: u64,
    /// Seconds a whole request may take, body included (408 beyond).
    pub request_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: "127.0.0.1:8080".to_owned(),
            detect_interval_secs: 2,
            cors_origins: Vec::new(),
            allow_open: false,
            max_connections: 512,
            header_read_timeout_secs: 10,
            body_read_timeout_secs: 10,
            request_timeout_secs: 30,
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
    /// Bound of the queue (embedded or Redis stream) in batches awaiting
    /// detection; when full, ingest answers 503.
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
#[derive(Clone, PartialEq, Serialize, Deserialize)]
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
    /// Sustained events per second each client may send: per API key, or per
    /// client IP address when no keys are configured. 0 turns the limit off.
    pub rate_limit_events_per_sec: f64,
    /// Events a client may send at once above the sustained rate (the bucket
    /// size); a single batch larger than this is refused with 413.
    pub rate_limit_burst: u32,
    /// Largest batch as it will be stored (queue payload JSON, after
    /// escaping: a control character takes 6 bytes), refused with 413 beyond.
    pub max_stored_bytes: usize,
    /// Memory budget of the requests being read, decompressed and parsed at
    /// once, over all clients; a request that does not fit is answered 503
    /// with Retry-After.
    pub max_inflight_bytes: usize,
    /// Requests decompressed and parsed at once, each on a decode thread of
    /// its own at a lower priority: 0 (the default) for one per core, fewer
    /// to keep cores for other work on a shared machine (more than the
    /// cores count as the cores).
    pub decode_threads: usize,
}

/// `Debug` shows how many API keys there are, never the keys.
impl std::fmt::Debug for IngestConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestConfig")
            .field(
                "api_keys",
                &format_args!("[{} {REDACTED}]", self.api_keys.len()),
            )
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_decoded_bytes", &self.max_decoded_bytes)
            .field("max_events", &self.max_events)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("max_line_bytes", &self.max_line_bytes)
            .field("max_attrs", &self.max_attrs)
            .field("max_attr_value_bytes", &self.max_attr_value_bytes)
            .field("rate_limit_events_per_sec", &self.rate_limit_events_per_sec)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("decode_threads", &self.decode_threads)
            .finish()
    }
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
            rate_limit_events_per_sec: 0.0,
            rate_limit_burst: 20_000,
            max_stored_bytes: 20 * 1024 * 1024,
            max_inflight_bytes: 256 * 1024 * 1024,
            decode_threads: 0,
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

    /// True when ingest enforces a per-client rate limit.
    pub fn rate_limited(&self) -> bool {
        self.rate_limit_events_per_sec > 0.0
    }

    fn validate_rate_limit(&self) -> Result<(), ConfigError> {
        let rate = self.rate_limit_events_per_sec;
        if !rate.is_finite() || !(0.0..=1e9).contains(&rate) {
            return Err(invalid(
                "ingest.rate_limit_events_per_sec",
                format!("{rate} must be a number from 0 (off) to 1000000000"),
            ));
        }
        if self.rate_limited() && self.rate_limit_burst == 0 {
            return Err(invalid(
                "ingest.rate_limit_burst",
                "must be at least 1 when ingest.rate_limit_events_per_sec is set",
            ));
        }
        Ok(())
    }
}

/// Alert destinations. `Debug` shows which are set, never the URLs or header
/// values (secrets).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// Discord webhook URL; a secret, never logged.
    pub discord_webhook_url: Option<String>,
    /// Public URL of the dashboard, linked from alerts.
    pub dashboard_url: Option<String>,
    /// Slack incoming webhook URL; a secret, never logged.
    pub slack_webhook_url: Option<String>,
    /// Generic JSON webhook URL; a secret, never logged.
    pub webhook_url: Option<String>,
    /// Extra HTTP headers sent to `webhook_url` (e.g. `Authorization`);
    /// values are secrets, never logged.
    pub webhook_headers: BTreeMap<String, String>,
    /// Least seconds between two messages telling a channel that cannot edit
    /// (Slack) of anomalies that joined an open incident.
    pub update_interval_secs: u64,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            discord_webhook_url: None,
            dashboard_url: None,
            slack_webhook_url: None,
            webhook_url: None,
            webhook_headers: BTreeMap::new(),
            update_interval_secs: 300,
        }
    }
}

impl std::fmt::Debug for AlertConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secret = |value: &Option<String>| value.as_ref().map(|_| REDACTED);
        f.debug_struct("AlertConfig")
            .field("discord_webhook_url", &secret(&self.discord_webhook_url))
            .field("dashboard_url", &self.dashboard_url)
            .field("slack_webhook_url", &secret(&self.slack_webhook_url))
            .field("webhook_url", &secret(&self.webhook_url))
            .field(
                "webhook_headers",
                &self
                    .webhook_headers
                    .keys()
                    .map(|name| (name, REDACTED))
                    .collect::<BTreeMap<_, _>>(),
            )
            .field("update_interval_secs", &self.update_interval_secs)
            .finish()
    }
}

impl AlertConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, url) in [
            ("alert.discord_webhook_url", &self.discord_webhook_url),
            ("alert.slack_webhook_url", &self.slack_webhook_url),
            ("alert.webhook_url", &self.webhook_url),
        ] {
            if let Some(url) = url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                // Never echo the URL: it is a secret.
                return Err(invalid(key, "must be an http(s) URL"));
            }
        }
        if self.update_interval_secs == 0 {
            return Err(invalid("alert.update_interval_secs", "must be at least 1"));
        }
        if !self.webhook_headers.is_empty() && self.webhook_url.is_none() {
            return Err(invalid(
                "alert.webhook_headers",
                "set but alert.webhook_url is not",
            ));
        }
        for (name, value) in &self.webhook_headers {
            // RFC 9110 token characters.
            let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
            if name.is_empty() || !name.chars().all(token) {
                return Err(invalid(
                    &format!("alert.webhook_headers.{name}"),
                    "not a valid HTTP header name",
                ));
            }
            // Never echo the value: it is a secret.
            if !value.chars().all(|c| c == '\t' || (' '..='~').contains(&c)) {
                return Err(invalid(
                    &format!("alert.webhook_headers.{name}"),
                    "value must be printable ASCII",
                ));
            }
        }
        Ok(())
    }
}

/// The syslog listeners of `anomalog up` (RFC 5424 and RFC 3164); each is off
/// unless its address is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyslogConfig {
    /// `HOST:PORT` of the TCP listener (octet-counting or newline framing).
    pub tcp: Option<String>,
    /// `HOST:PORT` of the UDP listener (one message per datagram).
    pub udp: Option<String>,
    /// Service of messages without an APP-NAME or TAG.
    pub service: String,
    /// Most messages in one queue append.
    pub batch_max_events: usize,
    /// Longest a received message waits for its batch to fill before the
    /// batch is appended anyway.
    pub flush_interval_ms: u64,
}

impl Default for SyslogConfig {
    fn default() -> Self {
        SyslogConfig {
            tcp: None,
            udp: None,
            service: "syslog".to_owned(),
            batch_max_events: 1000,
            flush_interval_ms: 200,
        }
    }
}

impl SyslogConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, addr) in [("syslog.tcp", &self.tcp), ("syslog.udp", &self.udp)] {
            if let Some(addr) = addr
                && addr.parse::<std::net::SocketAddr>().is_err()
            {
                return Err(invalid(key, format!("'{addr}' is not HOST:PORT")));
            }
        }
        if self.service.trim().is_empty() {
            return Err(invalid("syslog.service", "must not be empty"));
        }
        if self.batch_max_events == 0 {
            return Err(invalid("syslog.batch_max_events", "must be at least 1"));
        }
        if self.flush_interval_ms == 0 {
            return Err(invalid("syslog.flush_interval_ms", "must be at least 1"));
        }
        Ok(())
    }
}

/// The production backends. When both `redis_url` and `mongodb_uri` are set,
/// the queue is a Redis stream and everything else lives in MongoDB; when
/// neither is, the embedded store in `storage.data_dir` serves every port.
/// `Debug` shows the URLs without their `user:password@` part.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackendsConfig {
    /// `redis://[user:password@]host:port[/db]` or `unix://PATH`; may carry a
    /// password, never logged. TLS (`rediss://`) is not supported yet.
    pub redis_url: Option<String>,
    /// `mongodb://...` or `mongodb+srv://...`; may carry a password, never logged.
    pub mongodb_uri: Option<String>,
    pub mongodb_database: String,
    /// Key of the Redis stream that queues ingest batches.
    pub redis_stream: String,
    /// Seconds a claimed queue entry may stay unacknowledged before another
    /// consumer re-claims it (a consumer that crashed mid-pass).
    pub reclaim_after_secs: u64,
}

impl Default for BackendsConfig {
    fn default() -> Self {
        BackendsConfig {
            redis_url: None,
            mongodb_uri: None,
            mongodb_database: "anomalog".to_owned(),
            redis_stream: "anomalog:events".to_owned(),
            reclaim_after_secs: 60,
        }
    }
}

impl std::fmt::Debug for BackendsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendsConfig")
            .field(
                "redis_url",
                &self.redis_url.as_deref().map(without_credentials),
            )
            .field(
                "mongodb_uri",
                &self.mongodb_uri.as_deref().map(without_credentials),
            )
            .field("mongodb_database", &self.mongodb_database)
            .field("redis_stream", &self.redis_stream)
            .field("reclaim_after_secs", &self.reclaim_after_secs)
            .finish()
    }
}

/// What `Debug` shows instead of a secret.
const REDACTED: &str = "<redacted>";

/// `url` with any `user:password@` replaced by `<redacted>@`, and the query
/// (which may carry credentials too) by `?<redacted>`.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return REDACTED.to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, _)) => (rest, format!("?{REDACTED}")),
        None => (rest, String::new()),
    };
    let end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let host = match authority.rsplit_once('@') {
        Some((_, host)) => format!("{REDACTED}@{host}"),
        None => authority.to_owned(),
    };
    format!("{scheme}://{host}{path}{query}")
}

impl BackendsConfig {
    /// True when Redis and MongoDB replace the embedded store.
    pub fn external(&self) -> bool {
        self.redis_url.is_some() && self.mongodb_uri.is_some()
    }

    /// The rules every deployment shares (both backends or neither). What a
    /// valid Redis URL or MongoDB database name is, only the store knows: it
    /// checks them before connecting (`anomalog_store::validate`), still at start
    /// and still naming the key.
    fn validate(&self) -> Result<(), ConfigError> {
        // URLs may carry passwords: errors name the key, never the value.
        match (&self.redis_url, &self.mongodb_uri) {
            (Some(_), None) => {
                return Err(invalid(
                    "backends.mongodb_uri",
                    "REDIS_URL (backends.redis_url) is set but MONGODB_URI is not; \
                     set both to use Redis and MongoDB, or neither for embedded storage",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "backends.redis_url",
                    "MONGODB_URI (backends.mongodb_uri) is set but REDIS_URL is not; \
                     set both to use Redis and MongoDB, or neither for embedded storage",
                ));
            }
            _ => {}
        }
        if self.redis_stream.trim().is_empty() {
            return Err(invalid("backends.redis_stream", "must not be empty"));
        }
        if self.reclaim_after_secs == 0 {
            return Err(invalid("backends.reclaim_after_secs", "must be at least 1"));
        }
        Ok(())
    }
}

impl Config {
    /// Parses a TOML document over the defaults. Unknown keys are errors.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Applies environment variables: `ANOMALOG_ADDR`, `ANOMALOG_DATA_DIR`,
    /// `ANOMALOG_API_KEYS` (comma-separated), `ANOMALOG_CORS_ORIGINS`
    /// (comma-separated), `ANOMALOG_RETENTION_DAYS`,
    /// `ANOMALOG_DETECT_INTERVAL_SECS`, `ANOMALOG_DASHBOARD_URL`,
    /// `DISCORD_WEBHOOK_URL`, `SLACK_WEBHOOK_URL`, `ANOMALOG_WEBHOOK_URL`,
    /// `REDIS_URL`, `MONGODB_URI`,
    /// `ANOMALOG_MONGODB_DATABASE`, `ANOMALOG_RECLAIM_AFTER_SECS`,
    /// `ANOMALOG_INGEST_RATE_LIMIT` (events per second),
    /// `ANOMALOG_INGEST_RATE_BURST`, `ANOMALOG_INGEST_DECODE_THREADS`,
    /// `ANOMALOG_SYSLOG_TCP` and
    /// `ANOMALOG_SYSLOG_UDP`, `ANOMALOG_ALERT_UPDATE_INTERVAL_SECS` and
    /// `ANOMALOG_INCIDENT_JOIN_WINDOW_SECS`. Other variables are ignored.
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
        if let Some(v) = get("ANOMALOG_CORS_ORIGINS") {
            self.server.cors_origins = v
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
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
        if let Some(v) = get("SLACK_WEBHOOK_URL") {
            self.alert.slack_webhook_url = Some(v.to_owned());
        }
        if let Some(v) = get("ANOMALOG_WEBHOOK_URL") {
            self.alert.webhook_url = Some(v.to_owned());
        }
        if let Some(v) = get("ANOMALOG_SYSLOG_TCP") {
            self.syslog.tcp = Some(v.to_owned());
        }
        if let Some(v) = get("ANOMALOG_SYSLOG_UDP") {
            self.syslog.udp = Some(v.to_owned());
        }
        if let Some(v) = get("ANOMALOG_DASHBOARD_URL") {
            self.alert.dashboard_url = Some(v.to_owned());
        }
        if let Some(v) = get("REDIS_URL") {
            self.backends.redis_url = Some(v.to_owned());
        }
        if let Some(v) = get("MONGODB_URI") {
            self.backends.mongodb_uri = Some(v.to_owned());
        }
        if let Some(v) = get("ANOMALOG_MONGODB_DATABASE") {
            self.backends.mongodb_database = v.to_owned();
        }
        if let Some(v) = get("ANOMALOG_RECLAIM_AFTER_SECS") {
            self.backends.reclaim_after_secs = v.parse().map_err(|_| {
                invalid(
                    "ANOMALOG_RECLAIM_AFTER_SECS",
                    format!("'{v}' is not a number"),
                )
            })?;
        }
        if let Some(v) = get("ANOMALOG_INGEST_RATE_LIMIT") {
            self.ingest.rate_limit_events_per_sec = v.parse().map_err(|_| {
                invalid(
                    "ANOMALOG_INGEST_RATE_LIMIT",
                    format!("'{v}' is not a number"),
                )
            })?;
        }
        for (key, target) in [
            (
                "ANOMALOG_ALERT_UPDATE_INTERVAL_SECS",
                &mut self.alert.update_interval_secs,
            ),
            (
                "ANOMALOG_INCIDENT_JOIN_WINDOW_SECS",
                &mut self.detect.incidents.join_window_secs,
            ),
        ] {
            if let Some(v) = get(key) {
                *target = v
                    .parse()
                    .map_err(|_| invalid(key, format!("'{v}' is not a whole number")))?;
            }
        }
        if let Some(v) = get("ANOMALOG_INGEST_DECODE_THREADS") {
            self.ingest.decode_threads = v.parse().map_err(|_| {
                invalid(
                    "ANOMALOG_INGEST_DECODE_THREADS",
                    format!("'{v}' is not a whole number (0 = one per core)"),
                )
            })?;
        }
        if let Some(v) = get("ANOMALOG_INGEST_RATE_BURST") {
            self.ingest.rate_limit_burst = v.parse().map_err(|_| {
                invalid(
                    "ANOMALOG_INGEST_RATE_BURST",
                    format!("'{v}' is not a whole number"),
                )
            })?;
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
        for (key, value) in [
            ("server.max_connections", self.server.max_connections as u64),
            (
                "server.header_read_timeout_secs",
                self.server.header_read_timeout_secs,
            ),
            (
                "server.body_read_timeout_secs",
                self.server.body_read_timeout_secs,
            ),
            (
                "server.request_timeout_secs",
                self.server.request_timeout_secs,
            ),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        for origin in &self.server.cors_origins {
            let valid = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .is_some_and(|host| !host.is_empty() && !host.contains(['/', '*', ' ']));
            if !valid {
                return Err(invalid(
                    "server.cors_origins",
                    format!(
                        "'{origin}' is not an origin like https://dashboard.example.com (no path, no wildcard)"
                    ),
                ));
            }
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
            ("ingest.max_stored_bytes", ingest.max_stored_bytes),
            ("ingest.max_inflight_bytes", ingest.max_inflight_bytes),
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
        ingest.validate_rate_limit()?;
        self.detect.validate()?;
        self.alert.validate()?;
        self.syslog.validate()?;
        self.backends.validate()
    }
}

/// Environment variable choosing the log format of the binaries: `json`,
/// `text` or `auto` (the default: text on a terminal, JSON otherwise).
pub const LOG_FORMAT_VAR: &str = "ANOMALOG_LOG_FORMAT";

/// How the binaries write their logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (for log collectors).
    Json,
    /// Human-readable lines.
    Text,
}

impl LogFormat {
    /// The format `choice` (the value of [`LOG_FORMAT_VAR`], if set) asks for,
    /// given whether the log stream is a terminal.
    pub fn choose(choice: Option<&str>, terminal: bool) -> Result<LogFormat, ConfigError> {
        match choice.map(|c| c.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "auto") if terminal => Ok(LogFormat::Text),
            None | Some("" | "auto") => Ok(LogFormat::Json),
            Some("json") => Ok(LogFormat::Json),
            Some("text" | "human" | "pretty") => Ok(LogFormat::Text),
            Some(other) => Err(invalid(
                LOG_FORMAT_VAR,
                format!("'{other}' is not json, text or auto"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_listeners_are_off_unless_configured_and_addresses_are_checked() {
        assert_eq!(Config::default().syslog.tcp, None);
        let vars = [
            (
                "ANOMALOG_SYSLOG_TCP".to_owned(),
                "127.0.0.1:5514".to_owned(),
            ),
            (
                "ANOMALOG_SYSLOG_UDP".to_owned(),
                "127.0.0.1:5514".to_owned(),
            ),
        ]
        .into();
        let mut c = Config::default();
        c.apply_env(&vars).unwrap();
        assert_eq!(c.syslog.tcp.as_deref(), Some("127.0.0.1:5514"));
        assert_eq!(c.syslog.udp.as_deref(), Some("127.0.0.1:5514"));
        let vars = [("ANOMALOG_SYSLOG_UDP".to_owned(), "localhost".to_owned())].into();
        let err = Config::default().apply_env(&vars).unwrap_err();
        assert!(err.to_string().starts_with("syslog.udp:"), "{err}");
    }

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

    #[test]
    fn the_example_file_parses_to_the_defaults() {
        let example = Config::from_toml(include_str!("../../anomalog.example.toml")).unwrap();
        assert_eq!(example, Config::default());
    }

    #[test]
    fn the_ingest_rate_limit_is_off_by_default_and_validated_by_key() {
        assert!(!Config::default().ingest.rate_limited());
        let c = Config::from_toml(
            "[ingest]\nrate_limit_events_per_sec = 50.5\nrate_limit_burst = 100\n",
        )
        .unwrap();
        assert!(c.ingest.rate_limited());
        assert_eq!(c.ingest.rate_limit_burst, 100);

        let err = Config::from_toml("[ingest]\nrate_limit_events_per_sec = -1.0\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("ingest.rate_limit_events_per_sec:"),
            "{err}"
        );
        let err =
            Config::from_toml("[ingest]\nrate_limit_events_per_sec = 5.0\nrate_limit_burst = 0\n")
                .unwrap_err();
        assert!(
            err.to_string().starts_with("ingest.rate_limit_burst:"),
            "{err}"
        );

        let mut c = Config::default();
        let vars: BTreeMap<String, String> = [
            ("ANOMALOG_INGEST_RATE_LIMIT", "20"),
            ("ANOMALOG_INGEST_RATE_BURST", "40"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        c.apply_env(&vars).unwrap();
        assert_eq!(c.ingest.rate_limit_events_per_sec, 20.0);
        assert_eq!(c.ingest.rate_limit_burst, 40);
        let bad: BTreeMap<String, String> =
            [("ANOMALOG_INGEST_RATE_BURST".to_owned(), "lots".to_owned())].into();
        let err = c.apply_env(&bad).unwrap_err();
        assert!(
            err.to_string().starts_with("ANOMALOG_INGEST_RATE_BURST:"),
            "{err}"
        );
    }

    #[test]
    fn backends_come_from_the_conventional_variables() {
        let mut c = Config::default();
        assert!(!c.backends.external());
        let vars: BTreeMap<String, String> = [
            ("REDIS_URL", "redis://127.0.0.1:6379"),
            ("MONGODB_URI", "mongodb://127.0.0.1:27017"),
            ("ANOMALOG_MONGODB_DATABASE", "logs_test"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        c.apply_env(&vars).unwrap();
        assert!(c.backends.external());
        assert_eq!(c.backends.mongodb_database, "logs_test");
    }

    #[test]
    fn one_backend_without_the_other_is_an_error_naming_the_missing_key() {
        let mut c = Config::default();
        let only_redis: BTreeMap<String, String> =
            [("REDIS_URL".to_owned(), "redis://127.0.0.1:6379".to_owned())].into();
        let err = c.apply_env(&only_redis).unwrap_err().to_string();
        assert!(err.starts_with("backends.mongodb_uri:"), "{err}");
        assert!(err.contains("MONGODB_URI"), "{err}");
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let secret = "hunter2";
        let mut c = Config::default();
        c.backends.redis_url = Some(format!("redis://:{secret}@cache:6379/0"));
        c.backends.mongodb_uri = Some(format!(
            "mongodb://app:{secret}@db:27017/?authSource=admin&password={secret}"
        ));
        c.ingest.api_keys = vec![secret.to_owned()];
        c.alert.discord_webhook_url = Some(format!("https://discord.test/api/webhooks/1/{secret}"));
        c.alert.slack_webhook_url = Some(format!("https://hooks.slack.test/{secret}"));
        c.alert.webhook_url = Some(format!("https://hook.test/{secret}"));
        c.alert.webhook_headers = [("Authorization".to_owned(), secret.to_owned())].into();
        let debug = format!("{c:?} {c:#?}");
        assert!(!debug.contains(secret), "{debug}");
        assert!(debug.contains("redis://<redacted>@cache:6379/0"), "{debug}");
        assert!(
            debug.contains("mongodb://<redacted>@db:27017/?<redacted>"),
            "{debug}"
        );
        assert!(debug.contains("Authorization"), "{debug}");
    }

    #[test]
    fn urls_lose_only_their_credentials() {
        assert_eq!(
            without_credentials("redis://cache:6379"),
            "redis://cache:6379"
        );
        assert_eq!(
            without_credentials("unix:///run/redis.sock"),
            "unix:///run/redis.sock"
        );
        assert_eq!(without_credentials("u:p@h"), REDACTED);
        assert_eq!(
            without_credentials("mongodb+srv://a:b@c.example/db?x=1"),
            "mongodb+srv://<redacted>@c.example/db?<redacted>"
        );
    }

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

    #[test]
    fn alert_channels_come_from_file_and_env_and_bad_ones_name_the_key() {
        let c = Config::from_toml(
            "[alert]\nslack_webhook_url = \"https://hooks.slack.com/services/T/B/x\"\n\
             webhook_url = \"https://example.com/hook\"\n\
             [alert.webhook_headers]\nAuthorization = \"Bearer s3cret\"\n",
        )
        .unwrap();
        assert_eq!(c.alert.webhook_headers["Authorization"], "Bearer s3cret");
        let mut c = Config::default();
        let vars: BTreeMap<String, String> = [
            (
                "SLACK_WEBHOOK_URL",
                "https://hooks.slack.com/services/T/B/y",
            ),
            ("ANOMALOG_WEBHOOK_URL", "http://127.0.0.1:9/hook"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        c.apply_env(&vars).unwrap();
        assert_eq!(
            c.alert.webhook_url.as_deref(),
            Some("http://127.0.0.1:9/hook")
        );
        assert!(c.alert.slack_webhook_url.is_some());

        for (toml, key) in [
            (
                "slack_webhook_url = \"ftp://s3cret\"",
                "alert.slack_webhook_url:",
            ),
            ("webhook_url = \"s3cret\"", "alert.webhook_url:"),
            (
                "[alert.webhook_headers]\nX-Token = \"s3cret\"",
                "alert.webhook_headers:",
            ),
            (
                "webhook_url = \"https://h\"\n[alert.webhook_headers]\n\"Bad Name\" = \"s3cret\"",
                "alert.webhook_headers.Bad Name:",
            ),
            (
                "webhook_url = \"https://h\"\n[alert.webhook_headers]\nX-Token = \"s3cret\\n\"",
                "alert.webhook_headers.X-Token:",
            ),
        ] {
            let err = Config::from_toml(&format!("[alert]\n{toml}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(key), "{err}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }
}
