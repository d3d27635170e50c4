//! What the backends accept in the configuration: Redis URL schemes and MongoDB
//! database names. These rules belong to the adapters, not to core's
//! configuration type; [`connect`](crate::connect()) checks them before it
//! connects, so invalid configuration still fails at start with a message
//! naming the key (and never quoting a URL, which may carry a password).

use anomalog_core::config::{BackendsConfig, ConfigError};

/// Checks the backend settings that only the store can judge.
pub fn backends(config: &BackendsConfig) -> Result<(), ConfigError> {
    if let Some(url) = &config.redis_url {
        redis_url(url)?;
    }
    if let Some(uri) = &config.mongodb_uri {
        mongodb_uri(uri)?;
    }
    mongodb_database(&config.mongodb_database)
}

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

fn redis_url(url: &str) -> Result<(), ConfigError> {
    if url.starts_with("rediss://") {
        return Err(invalid(
            "backends.redis_url",
            "rediss:// (Redis over TLS) is not supported yet; use redis:// or unix://",
        ));
    }
    if !["redis://", "redis+unix://", "unix://"]
        .iter()
        .any(|scheme| url.starts_with(scheme))
    {
        return Err(invalid(
            "backends.redis_url",
            "must start with redis:// or unix://",
        ));
    }
    Ok(())
}

fn mongodb_uri(uri: &str) -> Result<(), ConfigError> {
    if uri.starts_with("mongodb://") || uri.starts_with("mongodb+srv://") {
        Ok(())
    } else {
        Err(invalid(
            "backends.mongodb_uri",
            "must start with mongodb:// or mongodb+srv://",
        ))
    }
}

/// MongoDB's naming restrictions for databases (on any platform).
fn mongodb_database(db: &str) -> Result<(), ConfigError> {
    if db.is_empty()
        || db.len() > 63
        || db
            .chars()
            .any(|c| "/\\. \"$*<>:|?".contains(c) || c.is_control())
    {
        return Err(invalid(
            "backends.mongodb_database",
            format!("'{db}' is not a valid MongoDB database name"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn external(redis: &str, mongo: &str) -> BackendsConfig {
        BackendsConfig {
            redis_url: Some(redis.to_owned()),
            mongodb_uri: Some(mongo.to_owned()),
            ..BackendsConfig::default()
        }
    }

    fn key_of(result: Result<(), ConfigError>) -> String {
        match result {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("expected an invalid key, got {other:?}"),
        }
    }

    #[test]
    fn supported_urls_and_the_default_database_pass() {
        for redis in ["redis://h:6379", "redis://:pw@h/2", "unix:///run/r.sock"] {
            backends(&external(redis, "mongodb://h:27017")).unwrap();
        }
        backends(&external(
            "redis://h",
            "mongodb+srv://u:p@cluster.example/x",
        ))
        .unwrap();
        backends(&BackendsConfig::default()).unwrap();
    }

    #[test]
    fn errors_name_the_key_and_never_echo_secrets() {
        let secret = "hunter2";
        let cases = [
            (
                external(&format!("http://u:{secret}@h:1"), "mongodb://h"),
                "backends.redis_url",
            ),
            (
                external(&format!("rediss://u:{secret}@h"), "mongodb://h"),
                "backends.redis_url",
            ),
            (
                external("redis://h", &format!("postgres://u:{secret}@h")),
                "backends.mongodb_uri",
            ),
        ];
        for (config, key) in cases {
            let err = backends(&config).unwrap_err();
            assert!(!err.to_string().contains(secret), "{err}");
            assert_eq!(key_of(Err(err)), key);
        }
    }

    #[test]
    fn invalid_database_names_are_refused() {
        for db in ["", "a.b", "a/b", "a b", "a$b", &"x".repeat(64)] {
            let config = BackendsConfig {
                mongodb_database: db.to_owned(),
                ..BackendsConfig::default()
            };
            assert_eq!(
                key_of(backends(&config)),
                "backends.mongodb_database",
                "{db:?}"
            );
        }
    }
}
