use chrono::{TimeZone, Utc};

use anomalog_core::incident::{IncidentConfig, group};
use anomalog_core::{
    Anomaly, AnomalyKind, AnomalyStatus, Level, LogSample, Measure, Metric, Severity, Unit,
};

use super::*;

fn at(s: i64) -> chrono::DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + s, 0).unwrap()
}

fn anomaly(kind: AnomalyKind, service: &str, start: i64, line: &str) -> Anomaly {
    Anomaly {
        id: Anomaly::id_for(kind, service, at(start)),
        kind,
        service: service.into(),
        window_start: at(start),
        window_end: at(start + 60),
        observed: 40.0,
        expected: 2.0,
        stddev: 1.0,
        score: 0.8,
        severity: Severity::High,
        status: AnomalyStatus::Open,
        first_seen: at(start + 60),
        last_seen: at(start + 60),
        message: "prose".into(),
        samples: vec![LogSample {
            ts: at(start),
            level: Level::Error,
            message: line.into(),
        }],
        measure: Some(Measure {
            metric: Metric::ErrorCount,
            unit: Unit::Events,
            threshold: 25.0,
            baseline_start: at(start - 1800),
            baseline_end: at(start),
            bucket_seconds: 10,
        }),
        explanation: Vec::new(),
    }
}

/// The demo's cascade: a payments burst, then checkout spike and burst whose
/// lines name payments.
fn cascade() -> (Vec<Anomaly>, anomalog_core::incident::Incident) {
    let anomalies = vec![
        anomaly(AnomalyKind::Burst, "payments", 0, "db pool exhausted"),
        anomaly(AnomalyKind::Spike, "checkout", 50, "payments returned 503"),
        anomaly(AnomalyKind::Burst, "checkout", 55, "payments returned 503"),
    ];
    let mut incidents = group(&anomalies, &IncidentConfig::default());
    assert_eq!(incidents.len(), 1);
    (anomalies, incidents.remove(0))
}

fn message<'a>(
    incident: &'a anomalog_core::incident::Incident,
    root: &'a Anomaly,
    change: IncidentChange,
) -> IncidentMessage<'a> {
    IncidentMessage {
        incident,
        root: Some(root),
        change,
        told_anomalies: 1,
        dashboard_url: Some("https://dash.example.com/"),
    }
}

#[test]
fn the_opening_message_names_the_cause_the_measure_and_the_others() {
    let (anomalies, incident) = cascade();
    let m = message(&incident, &anomalies[0], IncidentChange::Opened);
    let discord = discord_incident(&m);
    let embed = &discord["embeds"][0];
    assert_eq!(embed["title"], "High incident in payments");
    assert_eq!(
        embed["url"],
        format!("https://dash.example.com/#/incidents/{}", incident.id)
    );
    let description = embed["description"].as_str().unwrap();
    assert!(
        description.starts_with("40 errors in 10 s, baseline 2 ± 1, threshold 25\n**Likely cause:** burst in payments started first"),
        "{description}"
    );
    assert!(description.contains("db pool exhausted"), "{description}");
    let field = |name: &str| {
        embed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .map(|f| f["value"].as_str().unwrap().to_owned())
    };
    assert_eq!(field("Services").as_deref(), Some("checkout, payments"));
    assert_eq!(field("Anomalies").as_deref(), Some("3"));
    assert_eq!(
        field("Also in this incident").as_deref(),
        Some("+2 more: checkout spike, checkout burst")
    );
    assert_eq!(field("Service"), None, "the incident's Services replace it");

    let slack = slack_incident(&m);
    assert_eq!(
        slack["text"],
        "High incident in payments: 40 errors in 10 s, baseline 2 ± 1, threshold 25"
    );
    assert_eq!(
        slack["blocks"][0]["text"]["text"],
        "High incident in payments"
    );
    let last = slack["blocks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["elements"][0]["url"],
        format!("https://dash.example.com/#/incidents/{}", incident.id)
    );
}

#[test]
fn growth_escalation_and_resolution_are_worded_apart() {
    let (anomalies, mut incident) = cascade();
    let grew = message(&incident, &anomalies[0], IncidentChange::Grew);
    assert_eq!(
        slack_followup(&grew)["text"],
        format!(
            "High incident in payments ({0}): +2 more since the last message: \
             checkout spike, checkout burst <https://dash.example.com/#/incidents/{0}|open>",
            incident.id
        )
    );
    let hook = webhook_incident(&grew, "k1");
    assert_eq!(hook["event"], INCIDENT_UPDATED);
    assert_eq!(hook["change"], "grew");
    assert_eq!(hook["new_anomalies"], 2);
    assert_eq!(hook["dedupe_key"], "k1");
    assert_eq!(hook["incident"]["id"], incident.id.as_str());
    assert_eq!(hook["root_anomaly"]["service"], "payments");

    incident.severity = Severity::Critical;
    let escalated = message(&incident, &anomalies[0], IncidentChange::Escalated);
    assert_eq!(
        incident_title(&escalated),
        "Escalated to Critical: incident in payments"
    );
    assert_eq!(webhook_incident(&escalated, "k")["event"], INCIDENT_UPDATED);

    incident.status = AnomalyStatus::Resolved;
    incident.resolved_at = Some(at(300));
    let resolved = message(&incident, &anomalies[0], IncidentChange::Resolved);
    let embed = &discord_incident(&resolved)["embeds"][0];
    assert_eq!(embed["title"], "Resolved: incident in payments");
    assert_eq!(embed["color"], 0x2e_cc_71);
    assert_eq!(webhook_incident(&resolved, "k")["event"], INCIDENT_RESOLVED);
    assert!(discord_edit(&resolved).get("username").is_none());
}

#[test]
fn a_huge_incident_stays_within_discord_and_slack_limits() {
    let (mut anomalies, _) = cascade();
    let long = "x".repeat(5000);
    for a in &mut anomalies {
        a.message = long.clone();
        a.samples = (0..20)
            .map(|i| LogSample {
                ts: a.window_start,
                level: Level::Error,
                message: format!("payments {i} {long}"),
            })
            .collect();
    }
    for i in 0..30 {
        let mut extra = anomaly(
            AnomalyKind::Spike,
            &format!("svc-{i}-{long}"),
            20,
            "payments down",
        );
        extra.id = format!("extra-{i}");
        anomalies.push(extra);
    }
    let incident = group(&anomalies, &IncidentConfig::default()).remove(0);
    assert_eq!(incident.anomaly_ids.len(), 33);
    let root = anomalies
        .iter()
        .find(|a| a.id == incident.root.anomaly_id)
        .unwrap();
    let m = message(&incident, root, IncidentChange::Opened);
    let discord = discord_incident(&m);
    let embed = &discord["embeds"][0];
    assert!(discord_embed_chars(embed) <= DISCORD_TOTAL_MAX);
    assert!(embed["title"].as_str().unwrap().chars().count() <= 256);
    assert!(embed["description"].as_str().unwrap().chars().count() <= 4096);
    for f in embed["fields"].as_array().unwrap() {
        assert!(f["value"].as_str().unwrap().chars().count() <= 1024, "{f}");
    }
    assert!(embed["fields"].as_array().unwrap().len() <= 25);
    let more = more_line(&incident).unwrap();
    assert!(
        more.starts_with("+32 more: svc-0-"),
        "other services first: {more}"
    );
    assert!(more.ends_with(", …"), "{more}");

    let slack = slack_incident(&m);
    let blocks = slack["blocks"].as_array().unwrap();
    assert!(blocks.len() <= 50);
    for b in blocks {
        if let Some(text) = b["text"]["text"].as_str() {
            assert!(text.chars().count() <= 3000, "{b}");
        }
    }
    assert!(slack["text"].as_str().unwrap().chars().count() <= 40_000);
}

#[test]
fn without_its_root_record_the_message_still_names_the_cause() {
    let (_, incident) = cascade();
    let m = IncidentMessage {
        incident: &incident,
        root: None,
        change: IncidentChange::Opened,
        told_anomalies: 0,
        dashboard_url: None,
    };
    let embed = &discord_incident(&m)["embeds"][0];
    assert!(
        embed["description"]
            .as_str()
            .unwrap()
            .starts_with("**Likely cause:** burst in payments"),
        "{embed}"
    );
    assert!(embed.get("url").is_none());
    assert_eq!(webhook_incident(&m, "k")["url"], Value::Null);
}

#[test]
fn repeats_are_counted_and_other_services_come_first() {
    let anomalies = vec![
        anomaly(AnomalyKind::Burst, "payments", 0, "db pool exhausted"),
        anomaly(AnomalyKind::NewPattern, "payments", 5, "db pool exhausted"),
        anomaly(AnomalyKind::Spike, "payments", 6, "db pool exhausted"),
        anomaly(AnomalyKind::NewPattern, "payments", 7, "db pool exhausted"),
        anomaly(AnomalyKind::Spike, "checkout", 50, "payments returned 503"),
    ];
    let incident = group(&anomalies, &IncidentConfig::default()).remove(0);
    assert_eq!(incident.root.service, "payments");
    assert_eq!(
        more_line(&incident).as_deref(),
        Some("+4 more: checkout spike, payments new_pattern ×2, payments spike")
    );
    assert_eq!(
        joined_line(&incident, 3).as_deref(),
        Some("+2 more since the last message: checkout spike, payments new_pattern")
    );
}
