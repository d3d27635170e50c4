//! Findings against the anomalies already recorded: which records to write.

use chrono::{DateTime, Duration, Utc};

use super::episode::{BucketScore, Finding, Signal};
use crate::model::{Anomaly, AnomalyKind, AnomalyStatus, LogSample, Severity};

fn by_multiple(multiple: f64) -> Severity {
    if multiple >= 8.0 {
        Severity::Critical
    } else if multiple >= 4.0 {
        Severity::High
    } else if multiple >= 2.0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

/// How loud a finding is: how many times its threshold it reached (bursts),
/// how many times the threshold's deviation it deviated (spikes), how much of
/// the traffic went missing and for how long (drops).
pub fn severity(f: &Finding) -> Severity {
    let p = &f.peak;
    match p.signal {
        Signal::BurstErrors => by_multiple(p.observed / p.threshold.max(1.0)),
        Signal::ErrorCount | Signal::ErrorRatio | Signal::EventSurge => {
            let needed = p.threshold - p.expected;
            by_multiple(if needed > 0.0 {
                (p.observed - p.expected) / needed
            } else {
                1.0
            })
        }
        Signal::PatternRate if p.observed >= p.expected => {
            let needed = p.threshold - p.expected;
            by_multiple(if needed > 0.0 {
                (p.observed - p.expected) / needed
            } else {
                1.0
            })
        }
        Signal::Volume | Signal::PatternRate => {
            let missing = if p.expected > 0.0 {
                1.0 - p.observed / p.expected
            } else {
                0.0
            };
            if p.observed == 0.0 && f.window_end - f.window_start >= Duration::minutes(10) {
                Severity::Critical
            } else if p.observed == 0.0 {
                Severity::High
            } else if missing >= 0.9 {
                Severity::Medium
            } else {
                Severity::Low
            }
        }
    }
}

/// The explanation of a verdict: what was observed, what was expected, how
/// far off that is and what the threshold was.
pub fn explain(p: &BucketScore) -> String {
    let secs = p.window_secs;
    match p.signal {
        Signal::BurstErrors => format!(
            "{} errors within {secs} s, usually {:.1} (threshold {})",
            p.observed, p.expected, p.threshold
        ),
        Signal::ErrorCount => format!(
            "{} errors in {secs} s, expected {:.1} ± {:.1} (z = {:.1}, threshold {:.1})",
            p.observed, p.expected, p.stddev, p.z, p.threshold
        ),
        Signal::ErrorRatio => format!(
            "error ratio {:.1}% ({} of {} events in {secs} s), expected {:.1}% ± {:.1}% (z = {:.1}, threshold {:.1}%)",
            100.0 * p.observed,
            (p.observed * p.total).round(),
            p.total,
            100.0 * p.expected,
            100.0 * p.stddev,
            p.z,
            100.0 * p.threshold
        ),
        Signal::EventSurge => format!(
            "{} events in {secs} s, expected {:.1} ± {:.1} (z = {:.1}, threshold {:.1})",
            p.observed, p.expected, p.stddev, p.z, p.threshold
        ),
        Signal::PatternRate => format!(
            "{} lines of one pattern in {secs} s, expected {:.1} ± {:.1} (z = {:.1}, threshold {:.1})",
            p.observed, p.expected, p.stddev, p.z, p.threshold
        ),
        Signal::Volume => {
            let what = if p.observed == 0.0 {
                "silent".to_owned()
            } else if p.expected > 0.0 {
                format!(
                    "{:.0}% of the usual volume",
                    100.0 * p.observed / p.expected
                )
            } else {
                "below the usual volume".to_owned()
            };
            format!(
                "{what}: {} events in {secs} s, expected {:.1} ± {:.1} (z = {:.1}, threshold {:.1})",
                p.observed, p.expected, p.stddev, p.z, p.threshold
            )
        }
    }
}

/// The one rule for writing over a stored anomaly with the same id: the first
/// sighting stays the first (`first_seen` is the earlier of the two) and the
/// sample lines already recorded stay when the update has none. [`reconcile`]
/// applies it to every record it returns, so the adapters write what they are
/// given and re-running detection is harmless.
pub fn merge_stored(mut update: Anomaly, stored: &Anomaly) -> Anomaly {
    update.first_seen = update.first_seen.min(stored.first_seen);
    if update.samples.is_empty() {
        update.samples = stored.samples.clone();
    }
    update
}

/// The kinds whose open records [`reconcile`] resolves when no finding
/// continues them: those of the rollup detectors (burst, spike, drop, and
/// the live engine's). A `new_pattern` anomaly is judged by the pattern
/// pass, which opens and resolves its own records: resolving it here made
/// every pass resolve it and the pattern pass reopen it (the demo's "opened
/// 4 resolved 4" on every pass, an incident flapping with it).
pub fn judged_by_findings(kind: AnomalyKind) -> bool {
    match kind {
        AnomalyKind::Burst | AnomalyKind::Spike | AnomalyKind::Drop => true,
        AnomalyKind::NewPattern => false,
    }
}

/// Turns one service's findings into the anomaly records to write.
///
/// `known` holds the service's recent anomalies, open or resolved. A finding
/// that continues one of the same kind (it starts before that anomaly's window
/// end plus the quiet period of the kind) updates it and keeps its id;
/// otherwise it becomes a new anomaly whose id derives from its window start.
/// Observed, expected, score and explanation are those of the episode's
/// highest-scoring window; severity only grows. Open anomalies with no
/// finding left are resolved (of the kinds [`judged_by_findings`]); those of
/// other kinds are left to their own detector. A finished episode seen again
/// is not returned.
/// Every record that has a stored counterpart in `known` (same id) is merged
/// with it by [`merge_stored`]: `known` must hold every stored anomaly a
/// finding can collide with (the caller reads those of the lookback window).
pub fn reconcile(
    service: &str,
    findings: &[Finding],
    known: &[Anomaly],
    quiet: impl Fn(AnomalyKind) -> Duration,
    now: DateTime<Utc>,
) -> Vec<Anomaly> {
    let mut out: Vec<Anomaly> = Vec::new();
    for f in findings {
        let status = if f.ongoing {
            AnomalyStatus::Open
        } else {
            AnomalyStatus::Resolved
        };
        let continued = out.iter().rev().chain(known.iter()).find(|a| {
            a.kind == f.kind
                && a.service == service
                && f.window_start <= a.window_end + quiet(f.kind)
                && f.window_end >= a.window_start
        });
        if continued
            .is_some_and(|a| a.status == AnomalyStatus::Resolved && a.window_end >= f.window_end)
            && !f.ongoing
        {
            // The same finished episode, seen again.
            continue;
        }
        let peak = &f.peak;
        let mut anomaly = match continued {
            Some(existing) => {
                let mut a = existing.clone();
                a.window_end = a.window_end.max(f.window_end);
                if peak.score > a.score {
                    a.observed = peak.observed;
                    a.expected = peak.expected;
                    a.stddev = peak.stddev;
                    a.score = peak.score;
                    a.message = explain(peak);
                    a.measure = Some(peak.measure());
                }
                // Records written before measures existed get one.
                if a.measure.is_none() {
                    a.measure = Some(peak.measure());
                }
                a.severity = a.severity.max(severity(f));
                a
            }
            None => Anomaly {
                id: Anomaly::id_for(f.kind, service, f.window_start),
                kind: f.kind,
                service: service.to_owned(),
                window_start: f.window_start,
                window_end: f.window_end,
                observed: peak.observed,
                expected: peak.expected,
                stddev: peak.stddev,
                score: peak.score,
                severity: severity(f),
                status,
                first_seen: now,
                last_seen: now,
                message: explain(peak),
                samples: Vec::<LogSample>::new(),
                measure: Some(peak.measure()),
                explanation: Vec::new(),
            },
        };
        anomaly.status = status;
        anomaly.last_seen = now;
        if let Some(stored) = known.iter().find(|k| k.id == anomaly.id) {
            anomaly = merge_stored(anomaly, stored);
        }
        if let Some(pos) = out.iter().position(|a| a.id == anomaly.id) {
            out[pos] = anomaly;
        } else {
            out.push(anomaly);
        }
    }
    for a in known.iter().filter(|a| {
        a.service == service && a.status == AnomalyStatus::Open && judged_by_findings(a.kind)
    }) {
        if !out.iter().any(|o| o.id == a.id) {
            let mut resolved = a.clone();
            resolved.status = AnomalyStatus::Resolved;
            resolved.last_seen = now;
            out.push(resolved);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::detect::episode::{BucketScore, Finding, Signal};
    use crate::model::Level;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap()
    }

    fn finding(start: i64, end: i64, ongoing: bool) -> Finding {
        Finding {
            kind: AnomalyKind::Burst,
            window_start: at(start),
            window_end: at(end),
            ongoing,
            peak: BucketScore {
                start: at(start),
                end: at(end),
                signal: Signal::BurstErrors,
                observed: 30.0,
                expected: 0.0,
                stddev: 0.0,
                z: 0.0,
                threshold: 10.0,
                total: 30.0,
                score: 0.9,
                window_secs: 60,
                baseline_start: at(start - 1_800),
                baseline_end: at(start),
            },
        }
    }

    fn sample() -> LogSample {
        LogSample {
            ts: at(1),
            level: Level::Error,
            message: "boom".to_owned(),
        }
    }

    #[test]
    fn merge_keeps_the_first_sighting_and_the_recorded_samples() {
        let stored = reconcile(
            "api",
            &[finding(0, 60, true)],
            &[],
            |_| Duration::zero(),
            at(10),
        );
        let mut stored = stored.into_iter().next().unwrap();
        stored.samples = vec![sample()];
        let mut update = stored.clone();
        update.first_seen = at(500);
        update.samples.clear();
        let merged = merge_stored(update.clone(), &stored);
        assert_eq!(merged.first_seen, at(10));
        assert_eq!(merged.samples, vec![sample()]);
        // Samples of the update win when it has some.
        update.samples = vec![LogSample {
            message: "new".to_owned(),
            ..sample()
        }];
        assert_eq!(merge_stored(update, &stored).samples[0].message, "new");
    }

    #[test]
    fn an_open_new_pattern_anomaly_is_left_to_its_own_detector() {
        let mut pattern = reconcile(
            "api",
            &[finding(0, 60, true)],
            &[],
            |_| Duration::zero(),
            at(10),
        )
        .remove(0);
        pattern.kind = AnomalyKind::NewPattern;
        pattern.id = "p1".to_owned();
        let open_burst = reconcile(
            "api",
            &[finding(100, 160, true)],
            &[],
            |_| Duration::zero(),
            at(160),
        );
        let mut known = open_burst.clone();
        known.push(pattern);
        // No finding left: the burst resolves, the new_pattern record is
        // not touched (its pass judges it).
        let out = reconcile("api", &[], &known, |_| Duration::zero(), at(400));
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].id, open_burst[0].id);
        assert_eq!(out[0].status, AnomalyStatus::Resolved);
    }

    #[test]
    fn a_finding_colliding_with_a_stored_record_is_merged_with_it() {
        // A stored record of the same id that no finding continues (another
        // kind of quiet period): the new record still keeps its first sighting.
        let mut stored = reconcile(
            "api",
            &[finding(0, 60, false)],
            &[],
            |_| Duration::zero(),
            at(100),
        )
        .remove(0);
        stored.samples = vec![sample()];
        stored.window_end = at(-1_000);
        let again = reconcile(
            "api",
            &[finding(0, 60, true)],
            std::slice::from_ref(&stored),
            |_| Duration::zero(),
            at(900),
        );
        let record = again.iter().find(|a| a.id == stored.id).unwrap();
        assert_eq!(record.first_seen, at(100));
        assert_eq!(record.samples, vec![sample()]);
        assert_eq!(record.last_seen, at(900));
    }
}
