//! The example configuration parses and shows the defaults; settings of
//! its own come from the file or the environment.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::BTreeMap;

use anomalog_core::Config;
use anomalog_core::config::IngestConfig;
use anomalog_core::detect::DetectConfig;

#[test]
fn the_example_configuration_shows_the_defaults() {
    let text = include_str!("../../anomalog.example.toml");
    let config = Config::from_toml(text).unwrap();
    assert_eq!(config.detect, DetectConfig::default());
    assert_eq!(config.ingest, IngestConfig::default());
}

#[test]
fn decode_threads_come_from_the_file_or_the_environment() {
    assert_eq!(Config::default().ingest.decode_threads, 0, "one per core");
    let mut config = Config::from_toml("[ingest]\ndecode_threads = 1\n").unwrap();
    assert_eq!(config.ingest.decode_threads, 1);
    let env = |value: &str| -> BTreeMap<String, String> {
        [(
            "ANOMALOG_INGEST_DECODE_THREADS".to_owned(),
            value.to_owned(),
        )]
        .into()
    };
    config.apply_env(&env("3")).unwrap();
    assert_eq!(config.ingest.decode_threads, 3);
    let err = config.apply_env(&env("all")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ANOMALOG_INGEST_DECODE_THREADS:"),
        "{err}"
    );
}
