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
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use anomalog_core::detect::live::{LiveState, LiveSummary};
use anomalog_core::detect::pattern_rate::{PatternFinding, PatternMinute};
use anomalog_core::detect::series::SeriesConfig;
use anomalog_core::detect::{DetectorSettings, Finding, Judging, burst_findings, detect_service};
use anomalog_core::rollup::ServiceSeries;
use anomalog_core::{Anomaly, Metric};
use anomalog_store::{DetectorState, DetectorSummary, StoreError, Stores};

/// One service's live engine in a pass: its whole state when the pass has
/// minutes to push to it (or it has none saved), its summary otherwise.
enum Live {
    Summary(LiveSummary),
    State(Box<LiveState>),
}

/// The live states of one pass's services.
pub(crate) struct LiveStates {
    cfg: SeriesConfig,
    live: BTreeMap<String, Live>,
    /// Services whose state advanced and must be saved.
    advanced: BTreeSet<String>,
}

/// A service of the pass: its lookback of fine buckets (which names it) and
/// its per-minute pattern counts.
pub(crate) struct ServiceInput<'a> {
    pub(crate) series: ServiceSeries,
    pub(crate) patterns: &'a [PatternMinute],
}

impl LiveStates {
    /// Loads the saved summaries of `services`, then the whole states of
    /// those with minutes to push before `complete_until`, at most `budget`
    /// of them (it is lowered by those loaded; the others are judged from
    /// their summary and counted in `deferred`, for a later pass); a service
    /// without a state (or with one this version cannot read) starts with
    /// fresh detectors.
    pub(crate) async fn load(
        stores: &Stores,
        cfg: &SeriesConfig,
        services: &[ServiceInput<'_>],
        complete_until: DateTime<Utc>,
        budget: &mut usize,
        deferred: &mut usize,
    ) -> Result<LiveStates, StoreError> {
        let names: Vec<String> = services.iter().map(|s| s.series.service.clone()).collect();
        let inputs: BTreeMap<&str, &ServiceInput<'_>> = services
            .iter()
            .map(|s| (s.series.service.as_str(), s))
            .collect();
        let mut live = BTreeMap::new();
        let mut pending = Vec::new();
        for DetectorSummary { service, summary } in
            stores.detector_states.detector_summaries(&names).await?
        {
            let Some(input) = inputs.get(service.as_str()) else {
                continue;
            };
            match LiveSummary::from_bytes(&summary) {
                Ok(s) => {
                    if s.pending(&input.series, input.patterns, complete_until) {
                        if *budget > 0 {
                            *budget -= 1;
                            pending.push(service);
                            continue;
                        }
                        *deferred += 1;
                    }
                    live.insert(service, Live::Summary(s));
                }
                Err(e) => {
                    tracing::warn!(service, error = %e, "live detector state dropped: it warms up again");
                }
            }
        }
        let mut advanced = BTreeSet::new();
        if !pending.is_empty() {
            let read = stores.detector_states.detector_states(&pending).await?;
            // Decoded and advanced over their new minutes here, the chunk's
            // states spread over the cores (the pass's heaviest CPU work);
            // `judge` then finds nothing left to push.
            let decoded = par_map(read, |saved| {
                let state = LiveState::from_parts(&saved.summary, &saved.detectors).map(|mut s| {
                    let pushed = inputs.get(saved.service.as_str()).map_or(0, |input| {
                        s.advance_all(&input.series, input.patterns, cfg, complete_until)
                    });
                    (Box::new(s), pushed)
                });
                (saved.service, state)
            });
            for (service, state) in decoded {
                match state {
                    Ok((state, pushed)) => {
                        if pushed > 0 {
                            advanced.insert(service.clone());
                        }
                        live.insert(service, Live::State(state));
                    }
                    Err(e) => {
                        tracing::warn!(service, error = %e, "live detector state dropped: it warms up again");
                    }
                }
            }
        }
        Ok(LiveStates {
            cfg: cfg.clone(),
            live,
            advanced,
        })
    }

    /// Every finding of one service: its bursts, and its spikes and drops
    /// from the live engine once it is past its warm-up (from the
    /// short-history detectors before); then the rises and falls of its
    /// chosen patterns' rates (`input.patterns`: the lookback's per-minute
    /// pattern counts), returned apart too so their patterns can be named.
    /// `input.series` holds the pass's lookback of fine buckets; minutes
    /// ending after `complete_until` wait for a later pass.
    pub(crate) fn judge(
        &mut self,
        input: &ServiceInput<'_>,
        settings: &DetectorSettings,
        ctx: &Judging<'_>,
        known: &[Anomaly],
        complete_until: DateTime<Utc>,
    ) -> (Vec<Finding>, Vec<PatternFinding>) {
        let series = &input.series;
        let live = self
            .live
            .entry(series.service.clone())
            .or_insert_with(|| Live::State(Box::new(LiveState::new(&self.cfg))));
        let (warmed_up, live_findings, pattern_findings) = match live {
            Live::Summary(summary) => (
                summary.warmed_up(),
                summary.findings(settings, ctx.from),
                summary.pattern_findings(settings, ctx.from),
            ),
            Live::State(state) => {
                let pushed = state.advance_all(series, input.patterns, &self.cfg, complete_until);
                if pushed > 0 {
                    self.advanced.insert(series.service.clone());
                }
                (
                    state.warmed_up(),
                    state.findings(settings, ctx.from),
                    state.pattern_rates().findings(settings, ctx.from),
                )
            }
        };
        let mut findings = if warmed_up {
            let mut f = burst_findings(series, &settings.burst, ctx.from, ctx.now);
            f.extend(live_findings);
            f
        } else {
            detect_service(series, settings, ctx, known)
        };
        findings.extend(pattern_findings.iter().map(|p| p.finding.clone()));
        (findings, pattern_findings)
    }

    /// Encodes the states that advanced in this pass (on every core) and
    /// starts saving them: the write goes on while the pass reads and
    /// judges its next services, and [`Saving::finish`] waits for it.
    pub(crate) fn save(self, stores: &Stores) -> Option<Saving> {
        let advanced: Vec<(String, &LiveState)> = self
            .advanced
            .into_iter()
            .filter_map(|service| match self.live.get(&service) {
                Some(Live::State(state)) => Some((service, &**state)),
                _ => None,
            })
            .collect();
        if advanced.is_empty() {
            return None;
        }
        let states = par_map(advanced, |(service, state)| {
            let parts = state.to_parts();
            DetectorState {
                service,
                summary: parts.summary,
                detectors: parts.detectors,
            }
        });
        let stores = stores.clone();
        Some(Saving(tokio::spawn(async move {
            stores.detector_states.save_detector_states(&states).await
        })))
    }
}

/// A save of live states under way ([`LiveStates::save`]).
pub(crate) struct Saving(tokio::task::JoinHandle<Result<(), StoreError>>);

impl Saving {
    /// Waits for the save to end.
    pub(crate) async fn finish(self) -> Result<(), StoreError> {
        self.0
            .await
            .map_err(|e| StoreError::Backend(format!("saving live states stopped: {e}")))?
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

/// Most threads [`par_map`] uses (the calling one among them).
const MAX_THREADS: usize = 4;

/// `f` of every item, in order, the items split over up to [`MAX_THREADS`]
/// threads (no more than the cores): decoding, advancing and encoding a
/// chunk's live states is about 0.4 ms of CPU per state, and a pass
/// advances hundreds. A part whose thread cannot be started runs on the
/// calling thread; a panic in `f` is resumed on the calling thread.
fn par_map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(MAX_THREADS)
        .min(items.len());
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    let mut rest = items;
    while !rest.is_empty() {
        let tail = rest.split_off(per.min(rest.len()));
        parts.push(Mutex::new(Some(rest)));
        rest = tail;
    }
    // A part is taken by whoever runs it: its thread, or the caller when
    // the thread could not start.
    let run = |part: &Mutex<Option<Vec<T>>>| -> Vec<R> {
        let items = part
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .unwrap_or_default();
        items.into_iter().map(&f).collect()
    };
    std::thread::scope(|scope| {
        let (first, others) = parts.split_at(1);
        let handles: Vec<_> = others
            .iter()
            .map(|part| {
                std::thread::Builder::new()
                    .name("detect-live".into())
                    .spawn_scoped(scope, || run(part))
            })
            .collect();
        let mut out: Vec<R> = first.iter().flat_map(run).collect();
        for (part, handle) in others.iter().zip(handles) {
            let results = match handle {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => run(part),
            };
            out.extend(results);
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn par_map_keeps_the_order_of_its_items() {
        for n in [0, 1, 2, 3, 7, 100, 1001] {
            let items: Vec<usize> = (0..n).collect();
            let doubled = par_map(items, |i| i * 2);
            assert_eq!(doubled, (0..n).map(|i| i * 2).collect::<Vec<_>>());
        }
    }

    #[test]
    fn par_map_spreads_its_items_over_threads() {
        if std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get) < 2 {
            return;
        }
        let names = par_map((0..64).collect(), |_: usize| {
            std::thread::current().name().map(str::to_owned)
        });
        assert!(names.iter().any(|n| n.as_deref() == Some("detect-live")));
        assert!(names.iter().any(|n| n.as_deref() != Some("detect-live")));
    }
}
