//! One alert per incident: the delivery loop every channel kind shares.
//!
//! For each incident still news (open, or resolved within [`MAX_AGE`]) the
//! channel's [`IncidentNotice`] says what it was last told; [`plan`] decides
//! what to send now:
//!
//! - nothing told and the incident open: the opening message;
//! - more members than told: Discord edits its opening message (`PATCH
//!   /webhooks/{id}/{token}/messages/{message_id}`, the id from posting with
//!   `?wait=true`), the generic webhook gets `incident.updated`, Slack (whose
//!   incoming webhooks cannot edit) a short follow-up at most once per
//!   `alert.update_interval_secs`;
//! - a higher severity than told: a new message (an edit notifies nobody);
//! - resolved: the resolution (Discord also edits the opening message).
//!
//! Each message is claimed first ([`IncidentStore::swap_notice`] with a lease
//! of [`LEASE`]), so a second worker or a restarted one never sends what
//! another is sending or has sent; the told state is written after the
//! receiver answered 2xx. A crash between the two sends that message again
//! once the lease expires: delivery is at least once, and every message
//! carries a dedupe key (`<incident>:<channel>:<change>:<members>:<severity>`;
//! the generic webhook's `Idempotency-Key` header and `dedupe_key` field) by
//! which a receiver drops the repeat.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use reqwest::Method;
use serde_json::Value;

use anomalog_core::AnomalyStatus;
use anomalog_core::incident::Incident;
use anomalog_store::{AnomalyStore, Delivery, DeliveryStore, IncidentNotice, IncidentStore};

use crate::incident_messages::{
    IncidentChange, IncidentMessage, discord_edit, discord_incident, slack_followup,
    slack_incident, webhook_incident,
};
use crate::{
    AlertError, AlertReport, Channel, ChannelKind, MAX_AGE, MAX_PER_RUN, jittered_backoff, metrics,
    retry_rng,
};

/// How long a claimed message is left to the worker that claimed it.
pub const LEASE: Duration = Duration::seconds(60);
/// Most incidents one run looks at per channel.
const MAX_SCANNED: usize = 1000;

/// The ports alerting reads and writes: incidents and their notices, the
/// anomalies they name, and a delivery record per attempt.
#[derive(Clone)]
pub struct AlertPorts {
    pub incidents: Arc<dyn IncidentStore>,
    pub anomalies: Arc<dyn AnomalyStore>,
    pub deliveries: Arc<dyn DeliveryStore>,
}

impl<A> From<Arc<A>> for AlertPorts
where
    A: IncidentStore + AnomalyStore + DeliveryStore + 'static,
{
    fn from(adapter: Arc<A>) -> AlertPorts {
        AlertPorts {
            incidents: adapter.clone(),
            anomalies: adapter.clone(),
            deliveries: adapter,
        }
    }
}

impl From<&anomalog_store::Stores> for AlertPorts {
    fn from(stores: &anomalog_store::Stores) -> AlertPorts {
        AlertPorts {
            incidents: stores.incidents.clone(),
            anomalies: stores.anomalies.clone(),
            deliveries: stores.deliveries.clone(),
        }
    }
}

/// What to send a channel about an incident now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub change: IncidentChange,
    /// Edit the opening message instead of posting (Discord, when its id is known).
    pub edit: bool,
}

/// What `kind` should be sent about `incident` given what it was told
/// (`notice`), at `now`; `None`: nothing (yet). Slack hears of growth at most
/// once per `update_interval` after its last message, and so does Discord
/// when it cannot edit. A severity rise is a new message once
/// `update_interval` has passed since the last one, and folded in like
/// growth before.
pub fn plan(
    incident: &Incident,
    notice: Option<&IncidentNotice>,
    kind: ChannelKind,
    now: DateTime<Utc>,
    update_interval: Duration,
) -> Option<Plan> {
    let post = |change| {
        Some(Plan {
            change,
            edit: false,
        })
    };
    let told = notice.filter(|n| n.anomalies > 0);
    let Some(told) = told else {
        return match incident.status {
            AnomalyStatus::Open => post(IncidentChange::Opened),
            // Over before any message went out: one message says it all.
            AnomalyStatus::Resolved => post(IncidentChange::Resolved),
        };
    };
    match (told.status, incident.status) {
        (AnomalyStatus::Open, AnomalyStatus::Resolved) => post(IncidentChange::Resolved),
        (AnomalyStatus::Resolved, AnomalyStatus::Open) => post(IncidentChange::Reopened),
        (AnomalyStatus::Resolved, AnomalyStatus::Resolved) => None,
        (AnomalyStatus::Open, AnomalyStatus::Open) => {
            let escalated = told.severity.is_some_and(|s| incident.severity > s);
            let grew = incident.anomaly_ids.len() > told.anomalies;
            if !escalated && !grew {
                return None;
            }
            // A young incident's severity often rises as its members arrive:
            // that is folded in like growth. Later, a rise is news again.
            let settled = now - told.at >= update_interval;
            if escalated && settled {
                return post(IncidentChange::Escalated);
            }
            let can_edit = kind == ChannelKind::Discord && told.message_id.is_some();
            let immediate = can_edit || kind == ChannelKind::Webhook;
            (immediate || settled).then_some(Plan {
                change: if escalated {
                    IncidentChange::Escalated
                } else {
                    IncidentChange::Grew
                },
                edit: can_edit,
            })
        }
    }
}

/// The key a receiver can drop a repeated message by.
pub fn dedupe_key(incident: &Incident, channel: &str, change: IncidentChange) -> String {
    format!(
        "{}:{channel}:{}:{}:{}",
        incident.id,
        change.as_str(),
        incident.anomaly_ids.len(),
        format!("{:?}", incident.severity).to_lowercase()
    )
}

/// Sends every channel what it has not been told of the incidents, side by
/// side; a store error in one channel is returned after every channel ran.
pub async fn deliver_incidents(
    ports: &AlertPorts,
    channels: &[Channel],
    update_interval: Duration,
    now: DateTime<Utc>,
) -> Result<AlertReport, AlertError> {
    let results = futures_util::future::join_all(
        channels
            .iter()
            .map(|channel| deliver_channel(ports, channel, update_interval, now)),
    )
    .await;
    let mut report = AlertReport::default();
    let mut first_error = None;
    for (channel, result) in channels.iter().zip(results) {
        match result {
            Ok(r) => report.add(&r),
            Err(e) => {
                tracing::warn!(channel = channel.name(), error = %e, "alert run failed");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(report),
    }
}

/// One channel's round over the incidents.
pub async fn deliver_channel(
    ports: &AlertPorts,
    channel: &Channel,
    update_interval: Duration,
    now: DateTime<Utc>,
) -> Result<AlertReport, AlertError> {
    let name = channel.name();
    let mut report = AlertReport::default();
    let news = ports
        .incidents
        .incidents_to_notify(name, now - MAX_AGE, MAX_SCANNED)
        .await?;
    for (incident, notice) in news {
        let Some(plan) = plan(
            &incident,
            notice.as_ref(),
            channel.kind,
            now,
            update_interval,
        ) else {
            continue;
        };
        if report.sent + report.failed >= MAX_PER_RUN
            || channel.rate_limited(now)
            || notice
                .as_ref()
                .and_then(|n| n.sending_until)
                .is_some_and(|until| until > now)
        {
            report.deferred += 1;
            continue;
        }
        let attempts: Vec<Delivery> = ports
            .deliveries
            .attempts(&incident.id)
            .await?
            .into_iter()
            .filter(|d| d.channel == name)
            .collect();
        let failures = attempts.iter().rev().take_while(|d| !d.ok).count();
        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
        if let Some(last) = attempts.last().filter(|_| failures > 0) {
            let mut rng = retry_rng(&incident.id, name, incident.status, failures);
            if now - last.at < jittered_backoff(failures, &mut rng) {
                report.deferred += 1;
                continue;
            }
        }
        let claim = claimed(&incident, notice.as_ref(), name, now);
        if !ports.incidents.swap_notice(notice.as_ref(), &claim).await? {
            // Another worker is on it.
            report.deferred += 1;
            continue;
        }
        let root = ports.anomalies.get(&incident.root.anomaly_id).await?;
        let told_anomalies = notice.as_ref().map_or(0, |n| n.anomalies);
        let message = IncidentMessage {
            incident: &incident,
            root: root.as_ref(),
            change: plan.change,
            told_anomalies,
            dashboard_url: channel.dashboard_url.as_deref(),
        };
        let key = dedupe_key(&incident, name, plan.change);
        let message_id = notice.as_ref().and_then(|n| n.message_id.clone());
        let outcome = send(channel, &message, plan, message_id.as_deref(), &key, now).await;
        let attempt = u32::try_from(attempts.len() + 1).unwrap_or(u32::MAX);
        let delivery = Delivery {
            anomaly_id: incident.id.clone(),
            channel: name.to_owned(),
            status: incident.status,
            attempt,
            at: now,
            ok: outcome.ok,
            http_status: outcome.http_status,
            error: outcome.error.clone(),
        };
        metrics::delivery(name, outcome.ok);
        let next = if outcome.ok {
            report.sent += 1;
            IncidentNotice {
                incident_id: incident.id.clone(),
                channel: name.to_owned(),
                status: incident.status,
                anomalies: incident.anomaly_ids.len(),
                // The time of the last message posted: an edit is not one.
                at: match (&notice, plan.edit) {
                    (Some(told), true) => told.at,
                    _ => now,
                },
                severity: Some(incident.severity),
                // A new post's id replaces the old; an edit keeps it.
                message_id: outcome.message_id.or(message_id),
                sending_until: None,
            }
        } else {
            report.failed += 1;
            tracing::warn!(
                channel = name,
                incident = %incident.id,
                change = plan.change.as_str(),
                error = outcome.error.as_deref().unwrap_or(""),
                "incident alert failed"
            );
            // Back to what was told, lease released; a message that is gone
            // (its edit answered 404) is forgotten: growth is posted instead.
            let told = notice.clone().unwrap_or_else(|| claim.clone());
            IncidentNotice {
                sending_until: None,
                message_id: told.message_id.filter(|_| !outcome.message_gone),
                ..told
            }
        };
        ports.deliveries.record(&delivery).await?;
        if !ports.incidents.swap_notice(Some(&claim), &next).await? {
            tracing::warn!(
                channel = name,
                incident = %incident.id,
                "the claim of this message expired before it was recorded"
            );
            ports.incidents.record_notice(&next).await?;
        }
    }
    Ok(report)
}

/// The notice that claims the next message: what was told, plus a lease.
fn claimed(
    incident: &Incident,
    notice: Option<&IncidentNotice>,
    channel: &str,
    now: DateTime<Utc>,
) -> IncidentNotice {
    let base = notice.cloned().unwrap_or_else(|| IncidentNotice {
        incident_id: incident.id.clone(),
        channel: channel.to_owned(),
        status: AnomalyStatus::Open,
        // Nothing told yet (see the notice's invariant).
        anomalies: 0,
        at: now,
        severity: None,
        message_id: None,
        sending_until: None,
    });
    IncidentNotice {
        sending_until: Some(now + LEASE),
        ..base
    }
}

/// What one message's delivery came to.
#[derive(Debug, Default)]
struct Outcome {
    ok: bool,
    http_status: Option<u16>,
    error: Option<String>,
    /// The id of a message Discord created.
    message_id: Option<String>,
    /// The message an edit was for no longer exists.
    message_gone: bool,
}

async fn send(
    channel: &Channel,
    message: &IncidentMessage<'_>,
    plan: Plan,
    message_id: Option<&str>,
    dedupe_key: &str,
    now: DateTime<Utc>,
) -> Outcome {
    match channel.kind {
        ChannelKind::Discord => {
            // An edit for growth; for the resolution, the opening message is
            // marked resolved too.
            let resolved = message.change == IncidentChange::Resolved;
            if let Some(id) = message_id.filter(|_| plan.edit || resolved) {
                let edit = request(
                    channel,
                    Method::PATCH,
                    &discord_message_url(&channel.url, id),
                )
                .json(&discord_edit(message));
                let mut edited = finish(channel, edit, now).await;
                edited.message_gone = edited.http_status == Some(404);
                if plan.edit {
                    return edited;
                }
                if !edited.ok {
                    // The resolution below is what counts; the edit is a courtesy.
                    tracing::info!(
                        error = edited.error.as_deref().unwrap_or(""),
                        "could not mark the opening message resolved"
                    );
                }
            }
            let body = discord_incident(message);
            let post = request(channel, Method::POST, &discord_wait_url(&channel.url)).json(&body);
            finish(channel, post, now).await
        }
        ChannelKind::Slack => {
            let body = if message.change == IncidentChange::Grew {
                slack_followup(message)
            } else {
                slack_incident(message)
            };
            finish(
                channel,
                request(channel, Method::POST, &channel.url).json(&body),
                now,
            )
            .await
        }
        ChannelKind::Webhook => {
            let post = request(channel, Method::POST, &channel.url)
                .header("Idempotency-Key", dedupe_key)
                .json(&webhook_incident(message, dedupe_key));
            finish(channel, post, now).await
        }
    }
}

fn request(channel: &Channel, method: Method, url: &str) -> reqwest::RequestBuilder {
    channel
        .client
        .request(method, url)
        .headers(channel.headers.clone())
}

/// `url` with `wait=true`, so Discord answers with the message (and its id).
fn discord_wait_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.query_pairs_mut().append_pair("wait", "true");
            parsed.into()
        }
        Err(_) => url.to_owned(),
    }
}

/// `{url}/messages/{id}`, keeping the webhook URL's query (a `thread_id`).
fn discord_message_url(url: &str, id: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if let Ok(mut path) = parsed.path_segments_mut() {
                path.pop_if_empty().push("messages").push(id);
            }
            parsed.into()
        }
        Err(_) => url.to_owned(),
    }
}

/// Sends `request` and reads the outcome: 2xx is sent (with the id of a
/// message Discord created), a 429, or a 5xx with `Retry-After`, pauses the
/// channel for that long.
async fn finish(
    channel: &Channel,
    request: reqwest::RequestBuilder,
    now: DateTime<Utc>,
) -> Outcome {
    let mut outcome = Outcome::default();
    match request.send().await {
        Ok(response) => {
            let status = response.status();
            outcome.http_status = Some(status.as_u16());
            if status.is_success() {
                outcome.ok = true;
                if channel.kind == ChannelKind::Discord {
                    outcome.message_id = response
                        .json::<Value>()
                        .await
                        .ok()
                        .and_then(|body| body["id"].as_str().map(str::to_owned));
                }
            } else {
                let wait = crate::retry_after(&response);
                if status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || (status.is_server_error() && wait.is_some())
                {
                    let wait = wait.unwrap_or(5.0);
                    channel.set_rate_limit(now + Duration::milliseconds((wait * 1000.0) as i64));
                }
                outcome.error = Some(format!("HTTP {status}"));
            }
        }
        // without_url: webhook URLs embed their token.
        Err(e) => outcome.error = Some(e.without_url().to_string()),
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use anomalog_core::Severity;
    use anomalog_core::incident::RootGuess;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_780_000_000 + s, 0).unwrap()
    }

    fn incident(members: usize, severity: Severity, status: AnomalyStatus) -> Incident {
        Incident {
            id: "inc-a0".into(),
            status,
            opened_at: t(0),
            resolved_at: None,
            updated_at: t(0),
            severity,
            services: vec!["payments".into()],
            anomaly_ids: (0..members).map(|i| format!("a{i}")).collect(),
            root: RootGuess {
                anomaly_id: "a0".into(),
                service: "payments".into(),
                reason: "the only anomaly".into(),
            },
            timeline: Vec::new(),
        }
    }

    fn told(members: usize, severity: Severity, message_id: Option<&str>) -> IncidentNotice {
        IncidentNotice {
            incident_id: "inc-a0".into(),
            channel: "x".into(),
            status: AnomalyStatus::Open,
            anomalies: members,
            at: t(0),
            severity: Some(severity),
            message_id: message_id.map(str::to_owned),
            sending_until: None,
        }
    }

    fn change(p: Option<Plan>) -> Option<(IncidentChange, bool)> {
        p.map(|p| (p.change, p.edit))
    }

    #[test]
    fn each_state_change_is_planned_once_and_growth_waits_where_it_cannot_edit() {
        use ChannelKind::{Discord, Slack, Webhook};
        use IncidentChange::*;
        let every = Duration::minutes(5);
        let open = |n, sev| incident(n, sev, AnomalyStatus::Open);
        let high = Severity::High;
        let plan_at =
            |i: &Incident, n: Option<&IncidentNotice>, k, s| change(plan(i, n, k, t(s), every));

        assert_eq!(
            plan_at(&open(1, high), None, Slack, 10),
            Some((Opened, false))
        );
        let claim = IncidentNotice {
            anomalies: 0,
            ..told(0, high, None)
        };
        assert_eq!(
            plan_at(&open(1, high), Some(&claim), Discord, 10),
            Some((Opened, false)),
            "a claim that was never sent is not a told message"
        );
        let one = told(1, high, Some("m1"));
        assert_eq!(plan_at(&open(1, high), Some(&one), Discord, 10), None);
        assert_eq!(
            plan_at(&open(3, high), Some(&one), Discord, 10),
            Some((Grew, true))
        );
        assert_eq!(
            plan_at(&open(3, high), Some(&one), Webhook, 10),
            Some((Grew, false))
        );
        assert_eq!(
            plan_at(&open(3, high), Some(&one), Slack, 10),
            None,
            "within the interval"
        );
        assert_eq!(
            plan_at(&open(3, high), Some(&one), Slack, 300),
            Some((Grew, false))
        );
        let no_id = told(1, high, None);
        assert_eq!(plan_at(&open(3, high), Some(&no_id), Discord, 10), None);
        assert_eq!(
            plan_at(&open(3, high), Some(&no_id), Discord, 300),
            Some((Grew, false))
        );
        let critical = open(1, Severity::Critical);
        assert_eq!(
            plan_at(&critical, Some(&one), Slack, 10),
            None,
            "a young incident"
        );
        assert_eq!(
            plan_at(&critical, Some(&one), Discord, 10),
            Some((Escalated, true))
        );
        assert_eq!(
            plan_at(&critical, Some(&one), Webhook, 10),
            Some((Escalated, false))
        );
        assert_eq!(
            plan_at(&critical, Some(&one), Slack, 300),
            Some((Escalated, false))
        );
        assert_eq!(
            plan_at(&critical, Some(&one), Discord, 300),
            Some((Escalated, false))
        );
        assert_eq!(
            plan_at(&open(1, Severity::Medium), Some(&one), Slack, 10),
            None
        );

        let resolved = incident(2, high, AnomalyStatus::Resolved);
        assert_eq!(
            plan_at(&resolved, Some(&one), Discord, 10),
            Some((Resolved, false))
        );
        assert_eq!(
            plan_at(&resolved, None, Discord, 10),
            Some((Resolved, false))
        );
        let told_resolved = IncidentNotice {
            status: AnomalyStatus::Resolved,
            ..one.clone()
        };
        assert_eq!(plan_at(&resolved, Some(&told_resolved), Discord, 10), None);
        assert_eq!(
            plan_at(&open(3, high), Some(&told_resolved), Slack, 10),
            Some((Reopened, false))
        );
    }

    #[test]
    fn the_dedupe_key_changes_with_every_message_and_only_then() {
        let i = incident(2, Severity::High, AnomalyStatus::Open);
        let key = dedupe_key(&i, "webhook", IncidentChange::Grew);
        assert_eq!(key, "inc-a0:webhook:grew:2:high");
        assert_eq!(key, dedupe_key(&i, "webhook", IncidentChange::Grew));
        assert_ne!(
            key,
            dedupe_key(
                &incident(3, Severity::High, AnomalyStatus::Open),
                "webhook",
                IncidentChange::Grew
            )
        );
    }

    #[test]
    fn discord_urls_keep_the_query_and_never_double_a_slash() {
        assert_eq!(
            discord_wait_url("https://discord.com/api/webhooks/1/tok"),
            "https://discord.com/api/webhooks/1/tok?wait=true"
        );
        assert_eq!(
            discord_message_url("https://discord.com/api/webhooks/1/tok/?thread_id=7", "42"),
            "https://discord.com/api/webhooks/1/tok/messages/42?thread_id=7"
        );
    }
}
