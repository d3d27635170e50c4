//! Detectors over rollup series, and the reconciliation of their findings with
//! the anomalies already recorded.
//!
//! Log detectors (`burst`, `windowed`: spike and drop) are pure functions of
//! a [`ServiceSeries`] of fine buckets and of what the pass knows ([`Judging`]):
//! running them twice over the same rollups yields the same findings, and
//! findings map to anomalies with deterministic ids ([`reconcile`]). Each
//! scores every window it judges in [0, 1] ([`BucketScore`]); a score of at
//! least 0.5 is a verdict.
//!
//! `series` is the detector of generic value series (`anomalog backtest
//! --series`); the offline tooling that scores it against labelled series
//! lives in the `anomalog-eval` crate (eval/).

pub mod burst;
pub mod episode;
pub mod live;
pub mod pattern_rate;
pub mod reconcile;
pub mod series;
pub mod settings;
pub mod stats;
pub mod windowed;

use chrono::{DateTime, Utc};

pub use burst::{burst_findings, burst_scores};
pub use episode::{BucketScore, Finding, Signal};
pub use live::{LiveState, LiveSummary, SavedState};
pub use reconcile::{explain, reconcile, severity};
pub use settings::{BurstConfig, DetectConfig, DetectorSettings, DropConfig, SpikeConfig};
pub use stats::BaselineMethod;
pub use windowed::{Judging, drop_findings, drop_scores, spike_findings, spike_scores};

use crate::model::{Anomaly, AnomalyKind};
use crate::rollup::ServiceSeries;

/// Every detector's findings for one service.
///
/// `known` holds the service's recorded anomalies: those of the spike and
/// drop kinds are left out of the baselines of their detector (`ctx.excluded`
/// is ignored; it is built here).
pub fn detect_service(
    series: &ServiceSeries,
    settings: &DetectorSettings,
    ctx: &Judging<'_>,
    known: &[Anomaly],
) -> Vec<Finding> {
    let spans = |kind: AnomalyKind| -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        known
            .iter()
            .filter(|a| a.kind == kind)
            .map(|a| (a.window_start, a.window_end))
            .collect()
    };
    let mut findings = burst_findings(series, &settings.burst, ctx.from, ctx.now);
    let spike_spans = spans(AnomalyKind::Spike);
    findings.extend(spike_findings(
        series,
        &settings.spike,
        &Judging {
            excluded: &spike_spans,
            ..*ctx
        },
    ));
    let drop_spans = spans(AnomalyKind::Drop);
    findings.extend(drop_findings(
        series,
        &settings.drop,
        &Judging {
            excluded: &drop_spans,
            ..*ctx
        },
    ));
    findings
}
