//! Detector settings: global defaults under `[detect]`, per-service overrides
//! under `[detect.services.NAME.DETECTOR]`, and their validation.

use std::collections::BTreeMap;

use chrono::Duration;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::series::SeriesConfig;
use super::stats::BaselineMethod;
use crate::config::ConfigError;
use crate::model::AnomalyKind;

/// Error-burst detector settings (`[detect.burst]`).
///
/// Defaults: 25 errors within 30 s. A healthy service at a 1% error ratio
/// would need to log over 80 lines per second to get there by chance, while a
/// real incident (a dependency down, a crash loop) typically logs an error per
/// request. A service that always logs many errors needs `baseline_factor`
/// times its usual count on top, so it is not in a permanent burst.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BurstConfig {
    /// ERROR and FATAL events within `window_secs` that open a burst.
    pub min_errors: u64,
    /// Sliding window, in seconds (rounded up to whole fine buckets).
    pub window_secs: i64,
    /// Seconds below the threshold before the episode is resolved.
    pub quiet_secs: i64,
    /// The window must also hold this many times the service's usual errors
    /// per window (0 turns the relative condition off).
    pub baseline_factor: f64,
    /// Minutes of history the usual error count is taken from.
    pub baseline_minutes: i64,
}

impl Default for BurstConfig {
    fn default() -> Self {
        BurstConfig {
            min_errors: 25,
            window_secs: 30,
            quiet_secs: 60,
            baseline_factor: 3.0,
            baseline_minutes: 30,
        }
    }
}

/// Statistical spike detector settings (`[detect.spike]`): the errors and the
/// error ratio of the last `window_secs` against the per-minute history of
/// the `window_minutes` before (the window itself excluded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpikeConfig {
    /// Trailing baseline, in minutes.
    pub window_minutes: usize,
    /// Minutes a service must have been logging before its first verdict.
    pub warmup_minutes: usize,
    /// Threshold in (robust) standard deviations.
    pub k: f64,
    /// Floor on the standard deviation of the error count, so a flat baseline
    /// does not turn one extra error into an infinite z-score.
    pub stddev_floor: f64,
    /// Floor on the standard deviation of the error ratio (0.005 = half a
    /// percentage point).
    pub ratio_floor: f64,
    /// Errors the window must hold before it can be a spike.
    pub min_count: u64,
    /// Minutes below the threshold before the episode is resolved.
    pub quiet_minutes: i64,
    /// `median` (robust: median and MAD) or `mean` (mean and standard
    /// deviation).
    pub method: BaselineMethod,
    /// Length of the judged window, in seconds (whole fine buckets).
    pub window_secs: i64,
}

impl Default for SpikeConfig {
    fn default() -> Self {
        SpikeConfig {
            window_minutes: 30,
            warmup_minutes: 10,
            k: 4.0,
            stddev_floor: 1.0,
            ratio_floor: 0.005,
            min_count: 10,
            quiet_minutes: 2,
            method: BaselineMethod::Median,
            window_secs: 60,
        }
    }
}

/// Volume drop and silence detector settings (`[detect.drop]`): the events of
/// the last `window_secs` against the per-minute history before them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DropConfig {
    /// Trailing baseline, in minutes.
    pub window_minutes: usize,
    /// Minutes a service must have been logging before its first verdict.
    pub warmup_minutes: usize,
    /// Threshold in (robust) standard deviations below the baseline.
    pub k: f64,
    /// Floor on the standard deviation of the event count.
    pub stddev_floor: f64,
    /// The window must hold at most this share of the expected events.
    pub max_ratio: f64,
    /// Events a window must be expected to hold before a drop is judged:
    /// quieter services are too sparse to call silent.
    pub min_expected: f64,
    /// Minutes back at the baseline before the episode is resolved.
    pub quiet_minutes: i64,
    pub method: BaselineMethod,
    /// Length of the judged window, in seconds (whole fine buckets).
    pub window_secs: i64,
    /// Seconds a window must have ended before the newest data (of any
    /// service) for its count to be trusted, as shippers deliver late.
    pub settle_secs: i64,
}

impl Default for DropConfig {
    fn default() -> Self {
        DropConfig {
            window_minutes: 30,
            warmup_minutes: 10,
            k: 4.0,
            stddev_floor: 1.0,
            max_ratio: 0.5,
            min_expected: 10.0,
            quiet_minutes: 2,
            method: BaselineMethod::Median,
            window_secs: 60,
            settle_secs: 20,
        }
    }
}

/// The settings of every log detector for one service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorSettings {
    pub burst: BurstConfig,
    pub spike: SpikeConfig,
    pub drop: DropConfig,
}

impl DetectorSettings {
    /// Time without a verdict after which an episode of `kind` is over.
    pub fn quiet(&self, kind: AnomalyKind) -> Duration {
        match kind {
            AnomalyKind::Burst => Duration::seconds(self.burst.quiet_secs),
            AnomalyKind::Spike => Duration::minutes(self.spike.quiet_minutes),
            AnomalyKind::Drop => Duration::minutes(self.drop.quiet_minutes),
            // A new pattern is news once; its episode ends as a spike's does.
            AnomalyKind::NewPattern => Duration::minutes(self.spike.quiet_minutes),
        }
    }
}

/// All detector settings (`[detect]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    pub burst: BurstConfig,
    pub spike: SpikeConfig,
    pub drop: DropConfig,
    /// The value-series detector of `anomalog backtest --series`.
    pub series: SeriesConfig,
    /// Minutes of recent buckets a detect pass judges; earlier ones were
    /// judged by earlier passes and count through the anomalies they left.
    pub horizon_minutes: i64,
    /// Per-service overrides: `[detect.services.NAME.burst]` and so on, with
    /// the keys of the global sections.
    pub services: BTreeMap<String, toml::Table>,
    /// How anomalies join into incidents (`[detect.incidents]`).
    pub incidents: crate::incident::IncidentSettings,
    /// When a never-seen pattern is an anomaly (`[detect.new_pattern]`).
    pub new_pattern: crate::pattern::judge::NewPatternConfig,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            burst: BurstConfig::default(),
            spike: SpikeConfig::default(),
            drop: DropConfig::default(),
            series: SeriesConfig::default(),
            horizon_minutes: 15,
            services: BTreeMap::new(),
            incidents: crate::incident::IncidentSettings::default(),
            new_pattern: crate::pattern::judge::NewPatternConfig::default(),
        }
    }
}

impl DetectConfig {
    /// The global settings, before any per-service override.
    pub fn defaults(&self) -> DetectorSettings {
        DetectorSettings {
            burst: self.burst.clone(),
            spike: self.spike.clone(),
            drop: self.drop.clone(),
        }
    }

    /// The settings of `service`: the global ones with its overrides applied.
    /// Overrides are checked by [`DetectConfig::validate`]; one that fails
    /// anyway leaves the global settings in place.
    pub fn settings_for(&self, service: &str) -> DetectorSettings {
        match self.services.get(service) {
            Some(overrides) => self
                .merged(service, overrides)
                .unwrap_or_else(|_| self.defaults()),
            None => self.defaults(),
        }
    }

    fn merged(
        &self,
        service: &str,
        overrides: &toml::Table,
    ) -> Result<DetectorSettings, ConfigError> {
        let mut settings = self.defaults();
        for (section, table) in overrides {
            let key = format!("detect.services.{service}.{section}");
            let table = table
                .as_table()
                .ok_or_else(|| invalid(&key, "must be a table of detector settings"))?;
            match section.as_str() {
                "burst" => settings.burst = overlay(&settings.burst, table, &key)?,
                "spike" => settings.spike = overlay(&settings.spike, table, &key)?,
                "drop" => settings.drop = overlay(&settings.drop, table, &key)?,
                _ => {
                    return Err(invalid(
                        &key,
                        "unknown detector (expected burst, spike or drop)",
                    ));
                }
            }
        }
        Ok(settings)
    }

    /// How far back a detect pass must read rollups.
    pub fn lookback(&self) -> Duration {
        let mut minutes = 0;
        let mut each = |s: &DetectorSettings| {
            let spike = s.spike.window_minutes as i64 + s.spike.warmup_minutes as i64;
            let drop = s.drop.window_minutes as i64 + s.drop.warmup_minutes as i64;
            let burst = s.burst.baseline_minutes + (s.burst.window_secs + s.burst.quiet_secs) / 60;
            minutes = minutes.max(spike).max(drop).max(burst);
        };
        each(&self.defaults());
        for service in self.services.keys() {
            each(&self.settings_for(service));
        }
        Duration::minutes(minutes + self.horizon_minutes.max(1) + 2)
    }

    /// Checks every setting, the per-service overrides included, naming the
    /// key at fault (e.g. `detect.services.payments.spike.k`).
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_settings(&self.defaults(), "detect")?;
        self.new_pattern.validate("detect.new_pattern")?;
        if self.horizon_minutes < 1 {
            return Err(invalid("detect.horizon_minutes", "must be at least 1"));
        }
        let series = &self.series;
        if !(series.k.is_finite() && series.k > 0.0) {
            return Err(invalid("detect.series.k", "must be a positive number"));
        }
        if series.window < 20 {
            return Err(invalid("detect.series.window", "must be at least 20"));
        }
        for (service, overrides) in &self.services {
            let settings = self.merged(service, overrides)?;
            validate_settings(&settings, &format!("detect.services.{service}"))?;
        }
        self.incidents.validate()
    }
}

fn invalid(key: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

/// `base` with the keys of `table` replaced.
fn overlay<T: Serialize + DeserializeOwned>(
    base: &T,
    table: &toml::Table,
    key: &str,
) -> Result<T, ConfigError> {
    let mut merged = toml::Table::try_from(base).map_err(|e| invalid(key, e.to_string()))?;
    for (k, v) in table {
        merged.insert(k.clone(), v.clone());
    }
    toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| invalid(key, e.message().to_owned()))
}

fn positive(value: f64) -> bool {
    value.is_finite() && value > 0.0
}

fn validate_settings(s: &DetectorSettings, prefix: &str) -> Result<(), ConfigError> {
    let key = |name: &str| format!("{prefix}.{name}");
    let burst = &s.burst;
    if burst.min_errors == 0 {
        return Err(invalid(&key("burst.min_errors"), "must be at least 1"));
    }
    if burst.window_secs <= 0 {
        return Err(invalid(&key("burst.window_secs"), "must be positive"));
    }
    if burst.quiet_secs < 0 {
        return Err(invalid(&key("burst.quiet_secs"), "must not be negative"));
    }
    if !(burst.baseline_factor.is_finite() && burst.baseline_factor >= 0.0) {
        return Err(invalid(&key("burst.baseline_factor"), "must be 0 or more"));
    }
    if burst.baseline_minutes < 1 {
        return Err(invalid(
            &key("burst.baseline_minutes"),
            "must be at least 1",
        ));
    }
    let spike = &s.spike;
    if spike.window_minutes < 2 {
        return Err(invalid(&key("spike.window_minutes"), "must be at least 2"));
    }
    if !positive(spike.k) {
        return Err(invalid(&key("spike.k"), "must be a positive number"));
    }
    if !positive(spike.stddev_floor) {
        return Err(invalid(
            &key("spike.stddev_floor"),
            "must be a positive number",
        ));
    }
    if !positive(spike.ratio_floor) {
        return Err(invalid(
            &key("spike.ratio_floor"),
            "must be a positive number",
        ));
    }
    if spike.quiet_minutes < 0 {
        return Err(invalid(&key("spike.quiet_minutes"), "must not be negative"));
    }
    if spike.window_secs < 10 || spike.window_secs > 3600 {
        return Err(invalid(
            &key("spike.window_secs"),
            "must be between 10 and 3600",
        ));
    }
    let drop = &s.drop;
    if drop.window_minutes < 2 {
        return Err(invalid(&key("drop.window_minutes"), "must be at least 2"));
    }
    if !positive(drop.k) {
        return Err(invalid(&key("drop.k"), "must be a positive number"));
    }
    if !positive(drop.stddev_floor) {
        return Err(invalid(
            &key("drop.stddev_floor"),
            "must be a positive number",
        ));
    }
    if !(drop.max_ratio.is_finite() && (0.0..1.0).contains(&drop.max_ratio)) {
        return Err(invalid(
            &key("drop.max_ratio"),
            "must be at least 0 and below 1",
        ));
    }
    if !positive(drop.min_expected) {
        return Err(invalid(
            &key("drop.min_expected"),
            "must be a positive number",
        ));
    }
    if drop.quiet_minutes < 0 {
        return Err(invalid(&key("drop.quiet_minutes"), "must not be negative"));
    }
    if drop.window_secs < 10 || drop.window_secs > 3600 {
        return Err(invalid(
            &key("drop.window_secs"),
            "must be between 10 and 3600",
        ));
    }
    if drop.settle_secs < 0 {
        return Err(invalid(&key("drop.settle_secs"), "must not be negative"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<DetectConfig, String> {
        let cfg: DetectConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        cfg.validate().map_err(|e| e.to_string())?;
        Ok(cfg)
    }

    #[test]
    fn a_service_override_changes_only_its_keys_for_that_service() {
        let cfg = config(
            "[burst]\nmin_errors = 40\n[services.payments.burst]\nmin_errors = 50\n[services.payments.spike]\nk = 6.0\n",
        )
        .unwrap();
        let payments = cfg.settings_for("payments");
        assert_eq!(payments.burst.min_errors, 50);
        assert_eq!(payments.burst.window_secs, 30);
        assert_eq!(payments.spike.k, 6.0);
        assert_eq!(payments.drop, DropConfig::default());
        let other = cfg.settings_for("search");
        assert_eq!(other.burst.min_errors, 40);
        assert_eq!(other.spike.k, 4.0);
    }

    #[test]
    fn bad_overrides_name_the_service_and_key() {
        let err = config("[services.payments.spike]\nk = -1.0\n").unwrap_err();
        assert_eq!(
            err,
            "detect.services.payments.spike.k: must be a positive number"
        );
        let err = config("[services.payments.burst]\nmin_error = 5\n").unwrap_err();
        assert!(
            err.starts_with("detect.services.payments.burst: unknown field `min_error`"),
            "{err}"
        );
        let err = config("[services.payments.sparkle]\nk = 1.0\n").unwrap_err();
        assert!(
            err.starts_with("detect.services.payments.sparkle: unknown detector"),
            "{err}"
        );
        let err = config("[services.payments.drop]\nmax_ratio = \"half\"\n").unwrap_err();
        assert!(err.starts_with("detect.services.payments.drop:"), "{err}");
    }

    #[test]
    fn the_method_is_selectable_by_name() {
        let cfg = config("[spike]\nmethod = \"mean\"\n").unwrap();
        assert_eq!(cfg.spike.method, BaselineMethod::Mean);
        assert!(config("[spike]\nmethod = \"mode\"\n").is_err());
    }

    #[test]
    fn lookback_covers_baseline_warmup_and_horizon() {
        let cfg = DetectConfig::default();
        assert_eq!(cfg.lookback(), Duration::minutes(30 + 10 + 15 + 2));
        let longer = config("[services.slow.drop]\nwindow_minutes = 120\n").unwrap();
        assert_eq!(longer.lookback(), Duration::minutes(120 + 10 + 15 + 2));
    }
}
