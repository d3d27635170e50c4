//! The incident part of the storage contract.

use anomalog_core::incident::{IncidentConfig, group};
use anomalog_core::{Anomaly, AnomalyStatus, Level, LogSample, Severity};
use anomalog_store::{IncidentNotice, IncidentQuery, Stores};

use super::{anomaly, t};

fn naming(mut a: Anomaly, line: &str) -> Anomaly {
    a.samples.push(LogSample {
        ts: a.window_start,
        level: Level::Error,
        message: line.into(),
    });
    a
}

/// A payments incident joined by checkout (its lines name payments), and a
/// separate, resolved search incident an hour earlier.
fn incidents() -> Vec<anomalog_core::incident::Incident> {
    let anomalies = vec![
        anomaly("payments", 0, AnomalyStatus::Open),
        naming(
            anomaly("checkout", 50, AnomalyStatus::Open),
            "payments returned 503",
        ),
        anomaly("search", -3600, AnomalyStatus::Resolved),
    ];
    group(&anomalies, &IncidentConfig::default())
}

pub async fn incidents_round_trip_and_filter(stores: &Stores) {
    let all = incidents();
    assert_eq!(all.len(), 2);
    stores.incidents.upsert_incidents(&all).await.unwrap();
    // Upserting again keeps one record each.
    stores.incidents.upsert_incidents(&all).await.unwrap();

    let query = |status, service: Option<&str>, since| IncidentQuery {
        status,
        service: service.map(str::to_owned),
        since,
        limit: 10,
    };
    let listed = stores
        .incidents
        .list_incidents(&query(None, None, None))
        .await
        .unwrap();
    assert_eq!(listed, vec![all[1].clone(), all[0].clone()], "newest first");

    let open = stores
        .incidents
        .list_incidents(&query(Some(AnomalyStatus::Open), None, None))
        .await
        .unwrap();
    assert_eq!(open, vec![all[1].clone()]);

    let checkout = stores
        .incidents
        .list_incidents(&query(None, Some("checkout"), None))
        .await
        .unwrap();
    assert_eq!(checkout, vec![all[1].clone()]);
    let partial = stores
        .incidents
        .list_incidents(&query(None, Some("check"), None))
        .await
        .unwrap();
    assert!(partial.is_empty(), "a service filter matches whole names");

    let recent = stores
        .incidents
        .list_incidents(&query(None, None, Some(t(-60))))
        .await
        .unwrap();
    assert_eq!(recent, vec![all[1].clone()], "the resolved one is older");

    let got = stores.incidents.get_incident(&all[1].id).await.unwrap();
    assert_eq!(got.as_ref(), Some(&all[1]));
    assert_eq!(got.unwrap().root.service, "payments");
    assert_eq!(
        stores.incidents.get_incident("inc-none").await.unwrap(),
        None
    );

    stores
        .incidents
        .delete_incidents(&[all[0].id.clone()])
        .await
        .unwrap();
    assert_eq!(
        stores.incidents.get_incident(&all[0].id).await.unwrap(),
        None
    );
    assert!(
        stores
            .incidents
            .get_incident(&all[1].id)
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn incident_notices_track_what_each_channel_was_told(stores: &Stores) {
    let all = incidents();
    stores.incidents.upsert_incidents(&all).await.unwrap();
    let pending = stores
        .incidents
        .incidents_to_notify("webhook", t(-60), 10)
        .await
        .unwrap();
    assert_eq!(pending, vec![(all[1].clone(), None)], "open ones are news");

    let notice = IncidentNotice {
        incident_id: all[1].id.clone(),
        channel: "webhook".into(),
        status: AnomalyStatus::Open,
        anomalies: 2,
        at: t(60),
        severity: Some(Severity::High),
        message_id: Some("1234".into()),
        sending_until: None,
    };
    stores.incidents.record_notice(&notice).await.unwrap();
    let pending = stores
        .incidents
        .incidents_to_notify("webhook", t(-60), 10)
        .await
        .unwrap();
    assert_eq!(pending, vec![(all[1].clone(), Some(notice.clone()))]);
    let other = stores
        .incidents
        .incidents_to_notify("slack", t(-60), 10)
        .await
        .unwrap();
    assert_eq!(other, vec![(all[1].clone(), None)], "per channel");

    // A notice survives the incident's next upsert and is replaced by the next one.
    stores.incidents.upsert_incidents(&all).await.unwrap();
    let resolved = IncidentNotice {
        status: AnomalyStatus::Resolved,
        at: t(120),
        ..notice
    };
    stores.incidents.record_notice(&resolved).await.unwrap();
    let pending = stores
        .incidents
        .incidents_to_notify("webhook", t(-60), 10)
        .await
        .unwrap();
    assert_eq!(pending, vec![(all[1].clone(), Some(resolved))]);
}

pub async fn only_one_worker_claims_an_incident_notice(stores: &Stores) {
    let all = incidents();
    stores.incidents.upsert_incidents(&all).await.unwrap();
    let claim = IncidentNotice {
        incident_id: all[1].id.clone(),
        channel: "discord".into(),
        status: AnomalyStatus::Open,
        anomalies: 0,
        at: t(60),
        severity: None,
        message_id: None,
        sending_until: Some(t(120)),
    };
    let notices = &stores.incidents;
    assert!(
        notices.swap_notice(None, &claim).await.unwrap(),
        "first claim"
    );
    assert!(
        !notices.swap_notice(None, &claim).await.unwrap(),
        "a second first claim loses"
    );
    let told = IncidentNotice {
        anomalies: 2,
        severity: Some(Severity::High),
        message_id: Some("99".into()),
        sending_until: None,
        ..claim.clone()
    };
    assert!(notices.swap_notice(Some(&claim), &told).await.unwrap());
    assert!(
        !notices.swap_notice(Some(&claim), &told).await.unwrap(),
        "a stale previous loses"
    );
    let pending = notices
        .incidents_to_notify("discord", t(-60), 10)
        .await
        .unwrap();
    assert_eq!(pending, vec![(all[1].clone(), Some(told.clone()))]);
    let resolved = IncidentNotice {
        status: AnomalyStatus::Resolved,
        ..told.clone()
    };
    assert!(notices.swap_notice(Some(&told), &resolved).await.unwrap());
}
