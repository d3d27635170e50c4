//! Detectors over rollup series, and the reconciliation of their findings with
//! the anomalies already recorded.
//!
//! Detectors are pure functions of a [`ServiceSeries`] and `now`: running them
//! twice over the same rollups yields the same findings, and findings map to
//! anomalies with deterministic ids.

pub mod corpus;
pub mod eval;
pub mod series;
pub mod stats;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Anomaly, AnomalyKind, AnomalyStatus, LogSample, Severity};
use crate::rollup::ServiceSeries;

/// Error-burst detector settings.
///
/// Defaults: 25 errors within 30 s. A healthy service at a 1% error ratio would
/// need to log over 80 lines per second to cross this by chance, while a real
/// incident (a dependency down, a crash loop) typically logs an error per request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BurstConfig {
    /// ERROR and FATAL events within `window_secs` that open a burst.
    pub min_errors: u64,
    /// Sliding window, in seconds (rounded up to whole fine buckets).
    pub window_secs: i64,
    /// Seconds without the threshold being met before the episode is resolved.
    pub quiet_secs: i64,
}

impl Default for BurstConfig {
    fn default() -> Self {
        BurstConfig {
            min_errors: 25,
            window_secs: 30,
            quiet_secs: 60,
        }
    }
}

/// Statistical spike detector settings (per-minute error counts against a
/// trailing window, the current minute excluded from the baseline).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpikeConfig {
    /// Trailing window of the baseline, in minutes.
    pub window_minutes: usize,
    /// Minutes of history a service needs before the first verdict.
    pub warmup_minutes: usize,
    /// z-score threshold.
    pub k: f64,
    /// Floor on the standard deviation, so a flat baseline does not turn one
    /// extra error into an infinite z-score.
    pub stddev_floor: f64,
    /// Errors a minute must hold before it can be a spike.
    pub min_count: u64,
    /// Minutes below the threshold before the episode is resolved.
    pub quiet_minutes: i64,
}

impl Default for SpikeConfig {
    fn default() -> Self {
        SpikeConfig {
            window_minutes: 30,
            warmup_minutes: 10,
            k: 4.0,
            stddev_floor: 1.0,
            min_count: 10,
            quiet_minutes: 2,
        }
    }
}

/// All detector settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    pub burst: BurstConfig,
    pub spike: SpikeConfig,
}

impl DetectConfig {
    /// How far back a detect pass must read rollups.
    pub fn lookback(&self) -> Duration {
        let spike = Duration::minutes(self.spike.window_minutes as i64 + 30);
        let burst = Duration::seconds(self.burst.window_secs + self.burst.quiet_secs + 600);
        spike.max(burst)
    }
}

/// One episode a detector found in a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: AnomalyKind,
    pub window_start: DateTime<Utc>,
    /// End of the last bucket with errors (bursts) or over the threshold
    /// (spikes) in the episode.
    pub window_end: DateTime<Utc>,
    /// Peak observed value in the episode.
    pub observed: f64,
    pub expected: f64,
    pub stddev: f64,
    pub threshold: f64,
    /// Peak score in [0, 1].
    pub score: f64,
    /// Still going on at `now` (not yet quiet for long enough).
    pub ongoing: bool,
}

/// Error bursts: sliding sums of errors over fine buckets.
pub fn burst_findings(
    series: &ServiceSeries,
    cfg: &BurstConfig,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let width = series.bucket_secs;
    let span = usize::try_from((cfg.window_secs + width - 1) / width)
        .unwrap_or(1)
        .max(1);
    let threshold = cfg.min_errors.max(1) as f64;
    let errors: Vec<u64> = series.counts.iter().map(|c| c.errors()).collect();
    let mut findings: Vec<Finding> = Vec::new();
    let mut sum = 0u64;
    for i in 0..errors.len() {
        sum += errors[i];
        if i >= span {
            sum -= errors[i - span];
        }
        let observed = sum as f64;
        if observed < threshold {
            continue;
        }
        let first = i.saturating_sub(span - 1);
        let window_start = (first..=i)
            .find(|&j| errors[j] > 0)
            .map_or(series.bucket_time(first), |j| series.bucket_time(j));
        let last_error = (first..=i).rev().find(|&j| errors[j] > 0).unwrap_or(i);
        let window_end = series.bucket_time(last_error) + Duration::seconds(width);
        let score = observed / (observed + threshold);
        match findings.last_mut() {
            Some(last) if (window_start - last.window_end).num_seconds() <= cfg.quiet_secs => {
                last.window_end = window_end;
                if observed > last.observed {
                    last.observed = observed;
                    last.score = score;
                }
            }
            _ => findings.push(Finding {
                kind: AnomalyKind::Burst,
                window_start,
                window_end,
                observed,
                expected: 0.0,
                stddev: 0.0,
                threshold,
                score,
                ongoing: false,
            }),
        }
    }
    for f in &mut findings {
        f.ongoing = (now - f.window_end).num_seconds() < cfg.quiet_secs;
    }
    findings
}

/// Per-bucket spike scores over per-minute error counts: for each minute, the
/// z-score against the trailing window and the logistic score in [0, 1]
/// (0.5 exactly at `z == k`). `None` during warm-up.
pub fn spike_scores(minutes: &[u64], cfg: &SpikeConfig) -> Vec<Option<(f64, f64, f64, f64)>> {
    let first_active = minutes.iter().position(|&c| c > 0);
    minutes
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let first = first_active?;
            if i < first + cfg.warmup_minutes || cfg.window_minutes == 0 {
                return None;
            }
            let from = i.saturating_sub(cfg.window_minutes).max(first);
            let window = &minutes[from..i];
            if window.is_empty() {
                return None;
            }
            let n = window.len() as f64;
            let mean = window.iter().sum::<u64>() as f64 / n;
            let var = window
                .iter()
                .map(|&c| (c as f64 - mean).powi(2))
                .sum::<f64>()
                / n;
            let stddev = var.sqrt().max(cfg.stddev_floor);
            let z = (count as f64 - mean) / stddev;
            let score = 1.0 / (1.0 + (-(z - cfg.k)).exp());
            Some((z, score, mean, stddev))
        })
        .collect()
}

/// Error-count spikes on one-minute buckets.
pub fn spike_findings(
    series: &ServiceSeries,
    cfg: &SpikeConfig,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let minutes = series.coarsen(60);
    let errors: Vec<u64> = minutes.counts.iter().map(|c| c.errors()).collect();
    let scores = spike_scores(&errors, cfg);
    let mut findings: Vec<Finding> = Vec::new();
    for (i, scored) in scores.iter().enumerate() {
        let Some((z, score, mean, stddev)) = *scored else {
            continue;
        };
        if z < cfg.k || errors[i] < cfg.min_count {
            continue;
        }
        let window_start = minutes.bucket_time(i);
        let window_end = window_start + Duration::minutes(1);
        let observed = errors[i] as f64;
        match findings.last_mut() {
            Some(last) if (window_start - last.window_end).num_minutes() <= cfg.quiet_minutes => {
                last.window_end = window_end;
                if score > last.score {
                    last.observed = observed;
                    last.expected = mean;
                    last.stddev = stddev;
                    last.score = score;
                }
            }
            _ => findings.push(Finding {
                kind: AnomalyKind::Spike,
                window_start,
                window_end,
                observed,
                expected: mean,
                stddev,
                threshold: mean + cfg.k * stddev,
                score,
                ongoing: false,
            }),
        }
    }
    for f in &mut findings {
        f.ongoing = (now - f.window_end).num_minutes() < cfg.quiet_minutes;
    }
    findings
}

/// Every detector's findings for one service.
pub fn detect_service(
    series: &ServiceSeries,
    cfg: &DetectConfig,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let mut findings = burst_findings(series, &cfg.burst, now);
    findings.extend(spike_findings(series, &cfg.spike, now));
    findings
}

fn severity_for(observed: f64, threshold: f64) -> Severity {
    let ratio = if threshold > 0.0 {
        observed / threshold
    } else {
        observed
    };
    if ratio >= 8.0 {
        Severity::Critical
    } else if ratio >= 4.0 {
        Severity::High
    } else if ratio >= 2.0 {
        Severity::Medium
    } else {
        Severity::Low
    }
}

fn explain(f: &Finding) -> String {
    match f.kind {
        AnomalyKind::Burst => format!(
            "{} errors within the burst window (threshold {})",
            f.observed, f.threshold
        ),
        AnomalyKind::Spike | AnomalyKind::Drop => format!(
            "{} errors per minute, expected {:.1} +- {:.1} (threshold {:.1})",
            f.observed, f.expected, f.stddev, f.threshold
        ),
    }
}

/// Turns one service's findings into the anomaly records to write.
///
/// `known` holds the service's recent anomalies, open or resolved. A finding that
/// continues one of the same kind (it starts before that anomaly's window end
/// plus the quiet period) updates it and keeps its id; otherwise it becomes a new
/// anomaly whose id derives from its window start. Open anomalies with no
/// finding left are resolved. Records that would not change are not returned.
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
        let mut anomaly = match continued {
            Some(existing) => {
                let mut a = existing.clone();
                a.window_end = a.window_end.max(f.window_end);
                if f.score >= a.score {
                    a.observed = f.observed;
                    a.expected = f.expected;
                    a.stddev = f.stddev;
                    a.score = f.score;
                }
                a
            }
            None => Anomaly {
                id: Anomaly::id_for(f.kind, service, f.window_start),
                kind: f.kind,
                service: service.to_owned(),
                window_start: f.window_start,
                window_end: f.window_end,
                observed: f.observed,
                expected: f.expected,
                stddev: f.stddev,
                score: f.score,
                severity: Severity::Low,
                status,
                first_seen: now,
                last_seen: now,
                message: String::new(),
                samples: Vec::<LogSample>::new(),
            },
        };
        if continued.is_some_and(|a| a.status == AnomalyStatus::Resolved) && !f.ongoing {
            continue;
        }
        anomaly.status = status;
        anomaly.last_seen = now;
        anomaly.severity = severity_for(anomaly.observed, f.threshold);
        anomaly.message = explain(&Finding {
            observed: anomaly.observed,
            expected: anomaly.expected,
            stddev: anomaly.stddev,
            ..f.clone()
        });
        if let Some(pos) = out.iter().position(|a| a.id == anomaly.id) {
            out[pos] = anomaly;
        } else {
            out.push(anomaly);
        }
    }
    for a in known
        .iter()
        .filter(|a| a.service == service && a.status == AnomalyStatus::Open)
    {
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
    use super::*;
    use crate::model::Level;
    use crate::rollup::{LevelCounts, ServiceSeries};
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000, 0).unwrap()
    }

    fn series(errors: &[u64], infos: u64, bucket_secs: i64) -> ServiceSeries {
        let counts = errors
            .iter()
            .map(|&e| {
                let mut c = LevelCounts::default();
                c.add(Level::Error, e);
                c.add(Level::Info, infos);
                c
            })
            .collect();
        ServiceSeries {
            service: "api".into(),
            bucket_secs,
            start: t0(),
            counts,
        }
    }

    #[test]
    fn burst_exactly_at_threshold_is_found_once() {
        let s = series(&[0, 0, 25, 0, 0], 5, 10);
        let now = t0() + Duration::seconds(50);
        let found = burst_findings(&s, &BurstConfig::default(), now);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].window_start, t0() + Duration::seconds(20));
        assert_eq!(found[0].observed, 25.0);
        assert!((found[0].score - 0.5).abs() < 1e-9);
        assert!(found[0].ongoing);
    }

    #[test]
    fn burst_below_threshold_is_not_found() {
        let s = series(&[8, 8, 8, 0, 8, 8, 8], 5, 10);
        assert!(burst_findings(&s, &BurstConfig::default(), t0()).is_empty());
    }

    #[test]
    fn burst_split_across_buckets_is_one_episode() {
        let s = series(&[0, 15, 15, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0], 1, 10);
        let now = t0() + Duration::seconds(130);
        let found = burst_findings(&s, &BurstConfig::default(), now);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].observed, 45.0);
        assert_eq!(found[0].window_end, t0() + Duration::seconds(40));
        assert!(!found[0].ongoing, "quiet for 90 s > 60 s");
    }

    #[test]
    fn spike_needs_warmup_and_fires_on_a_jump() {
        let mut errors = vec![1u64; 20];
        errors.push(30);
        let scores = spike_scores(&errors, &SpikeConfig::default());
        assert!(scores[..10].iter().all(Option::is_none));
        let (z, score, mean, stddev) = scores[20].unwrap();
        assert!((mean - 1.0).abs() < 1e-9);
        assert!((stddev - 1.0).abs() < 1e-9);
        assert!((z - 29.0).abs() < 1e-9);
        assert!(score > 0.99);
        let (z_flat, _, _, _) = scores[15].unwrap();
        assert!(z_flat.abs() < 1e-9);
    }

    #[test]
    fn spike_on_minute_series_yields_one_finding() {
        // 25 minutes of 6 buckets each with 1 error per minute, then 40 errors.
        let mut per_bucket = Vec::new();
        for _ in 0..25 {
            per_bucket.extend([1, 0, 0, 0, 0, 0]);
        }
        per_bucket.extend([10, 10, 10, 10, 0, 0]);
        let s = series(&per_bucket, 3, 10);
        let now = s.bucket_time(per_bucket.len() - 1);
        let found = spike_findings(&s, &SpikeConfig::default(), now);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].observed, 40.0);
        assert!(found[0].ongoing);
    }

    #[test]
    fn reconcile_extends_open_anomaly_and_resolves_cleared_ones() {
        let cfg = DetectConfig::default();
        let quiet = |_| Duration::seconds(60);
        let s = series(&[0, 30, 0], 0, 10);
        let now = t0() + Duration::seconds(30);
        let first = reconcile("api", &burst_findings(&s, &cfg.burst, now), &[], quiet, now);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].status, AnomalyStatus::Open);
        let id = first[0].id.clone();

        // A later pass sees the episode continue: same id, window extended.
        let s2 = series(&[0, 30, 0, 30, 0], 0, 10);
        let later = t0() + Duration::seconds(50);
        let second = reconcile(
            "api",
            &burst_findings(&s2, &cfg.burst, later),
            &first,
            quiet,
            later,
        );
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].id, id);
        assert_eq!(second[0].window_end, t0() + Duration::seconds(40));

        // No finding any more: the open anomaly is resolved.
        let third = reconcile("api", &[], &second, quiet, later + Duration::minutes(5));
        assert_eq!(third.len(), 1);
        assert_eq!(third[0].status, AnomalyStatus::Resolved);

        // The same, finished episode seen again changes nothing.
        let much_later = later + Duration::minutes(10);
        let again = reconcile(
            "api",
            &burst_findings(&s2, &cfg.burst, much_later),
            &third,
            quiet,
            much_later,
        );
        assert!(again.is_empty());
    }
}
