//! The example configuration parses and shows the detector defaults.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use anomalog_core::Config;
use anomalog_core::detect::DetectConfig;

#[test]
fn the_example_configuration_shows_the_detector_defaults() {
    let text = include_str!("../../anomalog.example.toml");
    let config = Config::from_toml(text).unwrap();
    assert_eq!(config.detect, DetectConfig::default());
}
