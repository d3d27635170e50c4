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

use anomalog_core::Anomaly;
use anomalog_core::detect::live::LiveState;
use anomalog_core::detect::series::SeriesConfig;
use anomalog_core::detect::{DetectorSettings, Finding, Judging, burst_findings, detect_service};
use anomalog_core::rollup::ServiceSeries;
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
    /// short-history detectors before). `series` holds the pass's lookback
    /// of fine buckets; minutes ending after `complete_until` wait for a
    /// later pass.
    pub(crate) fn judge(
        &mut self,
        series: &ServiceSeries,
        settings: &DetectorSettings,
        ctx: &Judging<'_>,
        known: &[Anomaly],
        complete_until: DateTime<Utc>,
    ) -> Vec<Finding> {
        let state = self
            .states
            .entry(series.service.clone())
            .or_insert_with(|| LiveState::new(&self.cfg));
        if state.advance(series, complete_until) > 0 {
            self.advanced.insert(series.service.clone());
        }
        if !state.warmed_up() {
            return detect_service(series, settings, ctx, known);
        }
        let mut findings = burst_findings(series, &settings.burst, ctx.from, ctx.now);
        findings.extend(state.findings(settings, ctx.from));
        findings
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
