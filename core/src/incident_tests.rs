use chrono::TimeZone;

use super::*;
use crate::model::{Level, LogSample, PatternChange};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + Duration::seconds(secs)
}

fn anomaly(kind: AnomalyKind, service: &str, start: i64, end: i64, lines: &[&str]) -> Anomaly {
    Anomaly {
        id: Anomaly::id_for(kind, service, t(start)),
        kind,
        service: service.to_owned(),
        window_start: t(start),
        window_end: t(end),
        observed: 40.0,
        expected: 1.0,
        stddev: 1.0,
        score: 0.8,
        severity: Severity::High,
        status: AnomalyStatus::Open,
        first_seen: t(end),
        last_seen: t(end),
        message: String::new(),
        samples: lines
            .iter()
            .map(|m| LogSample {
                ts: t(start),
                level: Level::Error,
                message: (*m).to_owned(),
            })
            .collect(),
        measure: None,
        explanation: Vec::new(),
    }
}

fn resolved(mut a: Anomaly) -> Anomaly {
    a.status = AnomalyStatus::Resolved;
    a
}

/// The demo's cascade: payments errs at +40 s (a burst and a spike), checkout
/// fails from +90 s with lines naming payments (a burst and a spike).
fn cascade() -> Vec<Anomaly> {
    let payments = ["charge failed: card processor timeout after 5000ms"];
    let checkout = [
        "payments returned 503 for order 1234",
        "circuit breaker open for payments",
    ];
    let mut spike = anomaly(AnomalyKind::Spike, "payments", 0, 120, &payments);
    spike.score = 0.95;
    vec![
        anomaly(AnomalyKind::Burst, "payments", 40, 70, &payments),
        spike,
        anomaly(AnomalyKind::Burst, "checkout", 90, 120, &checkout),
        anomaly(AnomalyKind::Spike, "checkout", 60, 180, &checkout),
    ]
}

#[test]
fn the_demo_cascade_is_one_incident_rooted_in_payments() {
    let anomalies = cascade();
    let incidents = group(&anomalies, &IncidentConfig::default());
    assert_eq!(incidents.len(), 1, "{incidents:#?}");
    let incident = &incidents[0];
    let ids = |service: &str, kind| Anomaly::id_for(kind, service, t(0));
    assert_eq!(
        incident.id,
        Incident::id_for(&ids("payments", AnomalyKind::Spike))
    );
    assert_eq!(incident.services, vec!["checkout", "payments"]);
    assert_eq!(
        incident.anomaly_ids,
        vec![
            anomalies[1].id.clone(),
            anomalies[0].id.clone(),
            anomalies[3].id.clone(),
            anomalies[2].id.clone(),
        ]
    );
    assert_eq!(incident.status, AnomalyStatus::Open);
    assert_eq!(incident.opened_at, t(0));
    assert_eq!(incident.updated_at, t(90));
    assert_eq!(incident.resolved_at, None);
    assert_eq!(incident.root.anomaly_id, anomalies[1].id);
    assert_eq!(incident.root.service, "payments");
    assert_eq!(
        incident.root.reason,
        "spike in payments started first (12:00:00 UTC, score 0.95); checkout errors name payments"
    );
    let timeline: Vec<(i64, &str)> = incident
        .timeline
        .iter()
        .map(|e| ((e.at - t(0)).num_seconds(), e.service.as_str()))
        .collect();
    assert_eq!(
        timeline,
        vec![
            (0, "payments"),
            (40, "payments"),
            (60, "checkout"),
            (90, "checkout")
        ]
    );
}

#[test]
fn the_named_dependency_is_the_root_even_when_its_caller_started_first() {
    let caller = anomaly(
        AnomalyKind::Spike,
        "checkout",
        0,
        60,
        &["payments returned 503"],
    );
    let dependency = anomaly(AnomalyKind::Burst, "payments", 30, 60, &["db timeout"]);
    let incidents = group(&[caller, dependency.clone()], &IncidentConfig::default());
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].root.anomaly_id, dependency.id);
}

#[test]
fn services_starting_together_without_a_shared_cause_stay_apart() {
    let a = anomaly(AnomalyKind::Burst, "payments", 0, 30, &["db timeout"]);
    let b = anomaly(
        AnomalyKind::Burst,
        "search",
        10,
        40,
        &["index shard missing"],
    );
    let incidents = group(&[a, b], &IncidentConfig::default());
    assert_eq!(incidents.len(), 2);
    assert_eq!(incidents[0].services, vec!["payments"]);
    assert_eq!(incidents[1].services, vec!["search"]);
    assert_eq!(
        incidents[1].root.reason,
        "the only anomaly: burst in search from 12:00:10 UTC"
    );
}

#[test]
fn a_named_service_outside_the_join_window_is_another_incident() {
    let a = anomaly(AnomalyKind::Burst, "payments", 0, 30, &["db timeout"]);
    let b = anomaly(
        AnomalyKind::Burst,
        "checkout",
        181,
        200,
        &["payments returned 503"],
    );
    assert_eq!(
        group(&[a.clone(), b.clone()], &IncidentConfig::default()).len(),
        2
    );
    let wide = IncidentConfig {
        join_window: Duration::minutes(5),
    };
    assert_eq!(group(&[a, b], &wide).len(), 1);
}

#[test]
fn a_service_name_counts_only_as_a_whole_word() {
    let a = anomaly(AnomalyKind::Burst, "pay", 0, 30, &["db timeout"]);
    let b = anomaly(
        AnomalyKind::Burst,
        "checkout",
        10,
        40,
        &[
            "payments returned 503",
            "pay-gateway refused",
            "Prepay failed",
        ],
    );
    assert_eq!(
        group(&[a.clone(), b.clone()], &IncidentConfig::default()).len(),
        2
    );
    assert!(mentions("call to PAY: refused", "pay"));
    assert!(!mentions("payment", "pay"));
}

#[test]
fn anomalies_of_one_service_join_only_when_their_windows_overlap() {
    let a = anomaly(AnomalyKind::Burst, "payments", 0, 30, &[]);
    let b = anomaly(AnomalyKind::Spike, "payments", 30, 90, &[]);
    let c = anomaly(AnomalyKind::Burst, "payments", 91, 120, &[]);
    let incidents = group(&[c, b, a], &IncidentConfig::default());
    let sizes: Vec<usize> = incidents.iter().map(|i| i.anomaly_ids.len()).collect();
    assert_eq!(sizes, vec![2, 1]);
}

#[test]
fn a_shared_error_pattern_joins_services() {
    let change = PatternChange {
        pattern: "p1".into(),
        template: "connection refused to <*>".into(),
        before: 0.0,
        during: 30,
        new: true,
    };
    let mut a = anomaly(AnomalyKind::Burst, "orders", 0, 30, &[]);
    let mut b = anomaly(AnomalyKind::Burst, "billing", 20, 50, &[]);
    assert_eq!(
        group(&[a.clone(), b.clone()], &IncidentConfig::default()).len(),
        2
    );
    a.explanation.push(change.clone());
    b.explanation.push(change);
    assert_eq!(group(&[a, b], &IncidentConfig::default()).len(), 1);
}

#[test]
fn an_incident_resolves_when_its_last_member_does() {
    let mut anomalies = cascade();
    anomalies[0] = resolved(anomalies[0].clone());
    anomalies[1] = resolved(anomalies[1].clone());
    anomalies[2] = resolved(anomalies[2].clone());
    let open = group(&anomalies, &IncidentConfig::default());
    assert_eq!(open[0].status, AnomalyStatus::Open);
    assert_eq!(open[0].resolved_at, None);

    anomalies[3] = resolved(anomalies[3].clone());
    let done = group(&anomalies, &IncidentConfig::default());
    assert_eq!(done[0].status, AnomalyStatus::Resolved);
    assert_eq!(done[0].resolved_at, Some(t(180)));
    assert_eq!(done[0].id, open[0].id);
    let resolutions = done[0]
        .timeline
        .iter()
        .filter(|e| e.event == TimelineEvent::Resolved)
        .count();
    assert_eq!(resolutions, 4);
    assert_eq!(done[0].timeline.last().map(|e| e.at), Some(t(180)));
}

#[test]
fn carry_over_keeps_the_stored_id_when_the_first_member_is_no_longer_seen() {
    let anomalies = cascade();
    let cfg = IncidentConfig::default();
    let stored = group(&anomalies, &cfg);
    // Unchanged: nothing to write.
    let (changed, absorbed) = carry_over(group(&anomalies, &cfg), &stored);
    assert!(changed.is_empty() && absorbed.is_empty());

    // The payments spike fell out of the pass's lookback; a new checkout
    // anomaly arrived.
    let mut later: Vec<Anomaly> = anomalies[2..].to_vec();
    later.push(anomaly(
        AnomalyKind::Burst,
        "checkout",
        170,
        200,
        &["payments returned 503"],
    ));
    let (changed, absorbed) = carry_over(group(&later, &cfg), &stored);
    assert!(absorbed.is_empty());
    assert_eq!(changed.len(), 1);
    let incident = &changed[0];
    assert_eq!(incident.id, stored[0].id);
    assert_eq!(incident.anomaly_ids.len(), 5);
    assert_eq!(incident.anomaly_ids[0], anomalies[1].id);
    assert_eq!(incident.opened_at, t(0));
    assert_eq!(incident.root.anomaly_id, anomalies[1].id);
    assert_eq!(incident.services, vec!["checkout", "payments"]);
}

#[test]
fn carry_over_merges_two_stored_incidents_into_the_older() {
    let cfg = IncidentConfig::default();
    let a = anomaly(AnomalyKind::Burst, "payments", 0, 30, &["db timeout"]);
    let b = anomaly(AnomalyKind::Burst, "payments", 100, 130, &["db timeout"]);
    let stored = group(&[a.clone(), b.clone()], &cfg);
    assert_eq!(stored.len(), 2);
    // A long spike bridges both.
    let bridge = anomaly(AnomalyKind::Spike, "payments", 20, 110, &[]);
    let (changed, absorbed) = carry_over(group(&[a, b, bridge], &cfg), &stored);
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].id, stored[0].id);
    assert_eq!(absorbed, vec![stored[1].id.clone()]);
}

#[test]
fn the_join_window_is_configurable_validated_and_named_in_errors() {
    use crate::Config;
    let c = Config::from_toml("[detect.incidents]\njoin_window_secs = 60\n").unwrap();
    assert_eq!(
        c.detect.incidents.config().join_window,
        Duration::seconds(60)
    );
    assert_eq!(
        Config::default().detect.incidents.config(),
        IncidentConfig::default()
    );
    let err = Config::from_toml("[detect.incidents]\njoin_window_secs = 100000\n").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("detect.incidents.join_window_secs:"),
        "{err}"
    );
    let mut c = Config::default();
    let vars = [(
        "ANOMALOG_INCIDENT_JOIN_WINDOW_SECS".to_owned(),
        "300".to_owned(),
    )]
    .into();
    c.apply_env(&vars).unwrap();
    assert_eq!(c.detect.incidents.join_window_secs, 300);
    let vars = [(
        "ANOMALOG_INCIDENT_JOIN_WINDOW_SECS".to_owned(),
        "soon".to_owned(),
    )]
    .into();
    let err = Config::default().apply_env(&vars).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("ANOMALOG_INCIDENT_JOIN_WINDOW_SECS:"),
        "{err}"
    );
    let err = Config::from_toml("[alert]\nupdate_interval_secs = 0\n").unwrap_err();
    assert!(
        err.to_string().starts_with("alert.update_interval_secs:"),
        "{err}"
    );
}
