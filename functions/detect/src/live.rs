//! The live scoring engine in a pass: each service's [`LiveState`] (the
//! value-series detectors of its per-minute event rate, error count and
//! error ratio) is loaded through the `DetectorStateStore`, advanced over
//! the minutes completed since the previous pass, judged, and saved.
//!
//! A service whose detectors are still in their warm-up (the first
//! `[detect.series] warmup` minutes, 100 by default) is judged by the
//! short-history spike and drop detectors instead; error bursts are always
//! judged by the burst detector, the fast path that answers within seconds.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use anomalog_core::detect::live::LiveState;
use anomalog_core::detect::pattern_rate::{PatternFinding, PatternMinute, choose};
use anomalog_core::detect::series::SeriesConfig;
use anomalog_core::detect::{DetectorSettings, Finding, Judging, burst_findings, detect_service};
use anomalog_core::rollup::ServiceSeries;
use anomalog_core::{Anomaly, Metric};
use anomalog_store::{DetectorState, StoreError, Stores};

/// The live states of one pass's services.
pub(crate) struct LiveStates {
    cfg: SeriesConfig,
    states: BTreeMap<String, LiveState>,
    /// Services whose state advanced and must be saved.
    advanced: BTreeSet<String>,
}

impl LiveStates {
    /// Loads the saved states of `services`; a service without one (or with
    /// one this version cannot read) starts with fresh detectors.
    pub(crate) async fn load(
        stores: &Stores,
        cfg: &SeriesConfig,
        services: &[String],
    ) -> Result<LiveStates, StoreError> {
        let saved = stores.detector_states.detector_states(services).await?;
        let mut states = BTreeMap::new();
        for DetectorState { service, state } in saved {
            match LiveState::from_bytes(&state) {
                Ok(s) => {
                    states.insert(service, s);
                }
                Err(e) => {
                    tracing::warn!(service, error = %e, "live detector state dropped: it warms up again");
                }
            }
        }
        Ok(LiveStates {
            cfg: cfg.clone(),
            states,
            advanced: BTreeSet::new(),
        })
    }

    /// Every finding of one service: its bursts, and its spikes and drops
    /// from the live engine once it is past its warm-up (from the
    /// short-history detectors before); then the rises and falls of its
    /// chosen patterns' rates (`patterns`: the lookback's per-minute
    /// pattern counts), returned apart too so their patterns can be named.
    /// `series` holds the pass's lookback of fine buckets; minutes ending
    /// after `complete_until` wait for a later pass.
    pub(crate) fn judge(
        &mut self,
        series: &ServiceSeries,
        patterns: &[PatternMinute],
        settings: &DetectorSettings,
        ctx: &Judging<'_>,
        known: &[Anomaly],
        complete_until: DateTime<Utc>,
    ) -> (Vec<Finding>, Vec<PatternFinding>) {
        let state = self
            .states
            .entry(series.service.clone())
            .or_insert_with(|| LiveState::new(&self.cfg));
        let mut pushed = state.advance(series, complete_until);
        let rates = state.pattern_rates_mut();
        rates.track(&choose(patterns), &self.cfg);
        pushed += rates.advance(patterns, series.start, complete_until);
        if pushed > 0 {
            self.advanced.insert(series.service.clone());
        }
        let pattern_findings = state.pattern_rates().findings(settings, ctx.from);
        let mut findings = if state.warmed_up() {
            let mut f = burst_findings(series, &settings.burst, ctx.from, ctx.now);
            f.extend(state.findings(settings, ctx.from));
            f
        } else {
            detect_service(series, settings, ctx, known)
        };
        findings.extend(pattern_findings.iter().map(|p| p.finding.clone()));
        (findings, pattern_findings)
    }

    /// Saves the states that advanced in this pass.
    pub(crate) async fn save(self, stores: &Stores) -> Result<(), StoreError> {
        let states: Vec<DetectorState> = self
            .advanced
            .into_iter()
            .filter_map(|service| {
                let state = self.states.get(&service)?.to_bytes();
                Some(DetectorState { service, state })
            })
            .collect();
        stores.detector_states.save_detector_states(&states).await
    }
}

/// The end of the newest minute whose counts the pass trusts: minutes
/// ending within `settle_secs` of the newest data (of any service) may
/// still receive late events.
pub(crate) fn complete_until(data_until: DateTime<Utc>, settle_secs: i64) -> DateTime<Utc> {
    data_until - Duration::seconds(settle_secs.max(0))
}

/// Names the pattern in the message of every pattern-rate anomaly whose
/// peak is one of `found` (those whose peak an earlier pass found keep the
/// message it wrote).
pub(crate) async fn name_patterns(
    stores: &Stores,
    anomalies: &mut [Anomaly],
    found: &[PatternFinding],
) -> Result<(), StoreError> {
    for a in anomalies.iter_mut() {
        let pattern_rate = a
            .measure
            .as_ref()
            .is_some_and(|m| m.metric == Metric::PatternRate);
        if !pattern_rate || a.message.starts_with(PATTERN_PREFIX) {
            continue;
        }
        let Some(peak) = found.iter().find(|p| {
            let f = &p.finding;
            f.kind == a.kind
                && f.peak.observed == a.observed
                && f.peak.start >= a.window_start
                && f.peak.start < a.window_end
        }) else {
            continue;
        };
        let template = match stores.patterns.pattern(&peak.pattern).await? {
            Some(record) => record.template,
            None => peak.pattern.clone(),
        };
        a.message = format!("{PATTERN_PREFIX}\"{template}\": {}", a.message);
    }
    Ok(())
}

/// How a pattern-rate anomaly's message starts.
const PATTERN_PREFIX: &str = "pattern ";

/// The per-minute pattern counts of every service in `from..to`, by
/// service.
pub(crate) async fn pattern_minutes(
    stores: &Stores,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<BTreeMap<String, Vec<PatternMinute>>, StoreError> {
    let rows = stores.patterns.pattern_rollups(None, &[], from, to).await?;
    let mut by_service: BTreeMap<String, Vec<PatternMinute>> = BTreeMap::new();
    for r in rows {
        by_service
            .entry(r.service)
            .or_default()
            .push(PatternMinute {
                pattern: r.pattern,
                minute: r.bucket,
                level: r.level,
                count: r.count,
            });
    }
    Ok(by_service)
}
