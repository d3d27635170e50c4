//! The messages announcing an incident: what each channel kind posts when
//! it opens, grows, escalates or resolves. An incident's message is its root
//! anomaly's message (measure, samples, patterns; built by [`crate::messages`]
//! within the service's limits) under the incident's title, with its
//! services, member count, likely cause and "+N more: checkout spike, …".

use serde_json::{Value, json};

use anomalog_core::Anomaly;
use anomalog_core::incident::{Incident, TimelineEntry, TimelineEvent};

use crate::messages::{discord_message, embed_color, measured_line, slack_message, truncate_chars};

// Discord's documented limits.
const DISCORD_TITLE_MAX: usize = 256;
const DISCORD_DESCRIPTION_MAX: usize = 4096;
const DISCORD_FIELD_VALUE_MAX: usize = 1024;
const DISCORD_FIELDS_MAX: usize = 25;
/// Characters of title, description, fields and footer of all embeds together.
pub const DISCORD_TOTAL_MAX: usize = 6000;
const SLACK_HEADER_MAX: usize = 150;
const SLACK_SECTION_TEXT_MAX: usize = 3000;

/// Member anomalies named in a "+N more" line before it ends with "…".
const MORE_NAMED_MAX: usize = 5;

/// Generic webhook event of an incident that opened (or opened again).
pub const INCIDENT_OPENED: &str = "incident.opened";
/// Generic webhook event of an incident that grew or escalated.
pub const INCIDENT_UPDATED: &str = "incident.updated";
/// Generic webhook event of an incident whose every anomaly resolved.
pub const INCIDENT_RESOLVED: &str = "incident.resolved";

/// What changed since a channel was last told of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentChange {
    /// First message: the incident opened.
    Opened,
    /// It had resolved and an anomaly opened again.
    Reopened,
    /// More anomalies joined it.
    Grew,
    /// Its severity rose above what was told: a new message, so people are
    /// notified again.
    Escalated,
    /// Every member resolved.
    Resolved,
}

impl IncidentChange {
    /// The generic webhook's event name.
    pub fn event(self) -> &'static str {
        match self {
            IncidentChange::Opened | IncidentChange::Reopened => INCIDENT_OPENED,
            IncidentChange::Grew | IncidentChange::Escalated => INCIDENT_UPDATED,
            IncidentChange::Resolved => INCIDENT_RESOLVED,
        }
    }

    /// Its name in the generic webhook's `change` field and dedupe keys.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentChange::Opened => "opened",
            IncidentChange::Reopened => "reopened",
            IncidentChange::Grew => "grew",
            IncidentChange::Escalated => "escalated",
            IncidentChange::Resolved => "resolved",
        }
    }
}

/// Everything a message about an incident says.
#[derive(Debug, Clone, Copy)]
pub struct IncidentMessage<'a> {
    pub incident: &'a Incident,
    /// The root guess's anomaly record, when it could be read.
    pub root: Option<&'a Anomaly>,
    pub change: IncidentChange,
    /// Member anomalies the channel was told of before (0: none).
    pub told_anomalies: usize,
    /// Public URL of the dashboard, when configured.
    pub dashboard_url: Option<&'a str>,
}

/// The dashboard page of `incident`, when the dashboard's URL is known.
pub fn incident_link(incident: &Incident, dashboard_url: Option<&str>) -> Option<String> {
    dashboard_url.map(|base| format!("{}/#/incidents/{}", base.trim_end_matches('/'), incident.id))
}

/// "High incident in payments", "Resolved: incident in payments", ...
pub fn incident_title(m: &IncidentMessage<'_>) -> String {
    let i = m.incident;
    let service = &i.root.service;
    match m.change {
        IncidentChange::Opened | IncidentChange::Grew => {
            format!("{:?} incident in {service}", i.severity)
        }
        IncidentChange::Reopened => format!("Reopened: {:?} incident in {service}", i.severity),
        IncidentChange::Escalated => {
            format!("Escalated to {:?}: incident in {service}", i.severity)
        }
        IncidentChange::Resolved => format!("Resolved: incident in {service}"),
    }
}

/// The members in `entries` as "checkout spike", repeats counted
/// ("payments new_pattern ×3"), other services than the root's first (the
/// cascade is the news), each group in the order it opened.
fn describe(incident: &Incident, entries: &[&TimelineEntry]) -> Vec<String> {
    let mut groups: Vec<(&str, String, usize)> = Vec::new();
    for e in entries {
        let name = format!("{} {}", e.service, e.kind);
        match groups.iter_mut().find(|(_, n, _)| *n == name) {
            Some(group) => group.2 += 1,
            None => groups.push((e.service.as_str(), name, 1)),
        }
    }
    // Stable: the order of opening stays within each part.
    groups.sort_by_key(|(service, _, _)| *service == incident.root.service);
    groups
        .into_iter()
        .map(|(_, name, count)| match count {
            1 => name,
            n => format!("{name} ×{n}"),
        })
        .collect()
}

/// The openings on `incident`'s timeline, oldest first.
fn openings(incident: &Incident) -> Vec<&TimelineEntry> {
    incident
        .timeline
        .iter()
        .filter(|e| e.event == TimelineEvent::Opened)
        .collect()
}

fn named_list(names: &[String]) -> String {
    let mut out = names
        .iter()
        .take(MORE_NAMED_MAX)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MORE_NAMED_MAX {
        out.push_str(", …");
    }
    out
}

/// The members other than the root, described.
fn others(incident: &Incident) -> Vec<String> {
    let entries: Vec<&TimelineEntry> = openings(incident)
        .into_iter()
        .filter(|e| e.anomaly_id != incident.root.anomaly_id)
        .collect();
    describe(incident, &entries)
}

/// "+4 more: checkout spike, checkout burst, payments new_pattern ×2" (the
/// members besides the root); `None` for a single-anomaly incident.
pub fn more_line(incident: &Incident) -> Option<String> {
    let others = others(incident);
    let count = incident.anomaly_ids.len().saturating_sub(1);
    (count > 0).then(|| format!("+{count} more: {}", named_list(&others)))
}

/// "+2 more since the last message: checkout spike, checkout burst": the
/// members that joined after the first `told` ones.
pub fn joined_line(incident: &Incident, told: usize) -> Option<String> {
    let opened = openings(incident);
    let joined = opened.get(told..).unwrap_or_default();
    (!joined.is_empty()).then(|| {
        format!(
            "+{} more since the last message: {}",
            joined.len(),
            named_list(&describe(incident, joined))
        )
    })
}

/// The root anomaly's measure in words, else its message.
fn measure_words(m: &IncidentMessage<'_>) -> Option<String> {
    m.root
        .map(|a| measured_line(a).unwrap_or_else(|| a.message.clone()))
}

fn color(incident: &Incident) -> u32 {
    embed_color(incident.status, incident.severity)
}

fn services(incident: &Incident) -> String {
    incident.services.join(", ")
}

fn period(incident: &Incident) -> String {
    match incident.resolved_at {
        Some(end) => format!(
            "{} → {} UTC",
            incident.opened_at.format("%Y-%m-%d %H:%M:%S"),
            end.format("%H:%M:%S")
        ),
        None => format!(
            "since {} UTC",
            incident.opened_at.format("%Y-%m-%d %H:%M:%S")
        ),
    }
}

/// Characters Discord counts toward [`DISCORD_TOTAL_MAX`] in one embed.
pub fn discord_embed_chars(embed: &Value) -> usize {
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let fields: usize = embed["fields"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .map(|f| len(&f["name"]) + len(&f["value"]))
                .sum()
        })
        .unwrap_or(0);
    len(&embed["title"]) + len(&embed["description"]) + len(&embed["footer"]["text"]) + fields
}

/// The Discord message about an incident: the root anomaly's embed under the
/// incident's title, colour, link and footer, with Services, Anomalies and
/// "+N more" fields; within every Discord limit (the 6000-character total
/// by cutting the description).
pub fn discord_incident(m: &IncidentMessage<'_>) -> Value {
    let i = m.incident;
    let mut message = match m.root {
        Some(root) => discord_message(root, None),
        None => json!({ "username": "anomalog", "embeds": [{ "fields": [] }] }),
    };
    let embed = &mut message["embeds"][0];
    let mut description = format!("**Likely cause:** {}", i.root.reason);
    if let Some(words) = measure_words(m) {
        description = format!("{words}\n{description}");
    }
    // The root's own description (its message and sample lines) follows.
    if let Some(rest) = embed["description"].as_str() {
        description.push('\n');
        description.push_str(rest);
    }
    let mut fields = vec![
        json!({"name": "Services", "value": truncate_chars(&services(i), DISCORD_FIELD_VALUE_MAX), "inline": true}),
        json!({"name": "Anomalies", "value": i.anomaly_ids.len().to_string(), "inline": true}),
        json!({"name": "Severity", "value": format!("{:?}", i.severity), "inline": true}),
    ];
    if let Some(more) = more_line(i) {
        fields.push(json!({"name": "Also in this incident", "value": truncate_chars(&more, DISCORD_FIELD_VALUE_MAX), "inline": false}));
    }
    // The root anomaly's own fields, less what the incident's repeat.
    if let Some(root_fields) = embed["fields"].as_array() {
        fields.extend(
            root_fields
                .iter()
                .filter(|f| !matches!(f["name"].as_str(), Some("Service" | "Score")))
                .cloned(),
        );
    }
    fields.push(json!({"name": "Incident", "value": period(i), "inline": false}));
    fields.truncate(DISCORD_FIELDS_MAX);
    embed["title"] = json!(truncate_chars(&incident_title(m), DISCORD_TITLE_MAX));
    embed["color"] = json!(color(i));
    embed["fields"] = json!(fields);
    embed["footer"] = json!({ "text": format!("anomalog · {}", i.id) });
    embed["timestamp"] = json!(i.updated_at.to_rfc3339());
    match incident_link(i, m.dashboard_url) {
        Some(link) => embed["url"] = json!(link),
        None => {
            if let Some(e) = embed.as_object_mut() {
                e.remove("url");
            }
        }
    }
    embed["description"] = json!("");
    let budget = DISCORD_TOTAL_MAX
        .saturating_sub(discord_embed_chars(embed))
        .min(DISCORD_DESCRIPTION_MAX);
    if budget > 1 {
        embed["description"] = json!(truncate_chars(&description, budget));
    }
    message
}

/// The body of a Discord message edit (`PATCH .../messages/{id}`): the
/// embeds alone (an edit cannot change the sender's name).
pub fn discord_edit(m: &IncidentMessage<'_>) -> Value {
    json!({ "embeds": discord_incident(m)["embeds"] })
}

/// The Slack message (Block Kit) about an incident: the root anomaly's
/// blocks under the incident's header, with a section of its services,
/// member count, severity and likely cause, "+N more", and a button to the
/// incident's page.
pub fn slack_incident(m: &IncidentMessage<'_>) -> Value {
    let i = m.incident;
    let title = incident_title(m);
    let mut blocks = match m.root {
        Some(root) => slack_message(root, None)["blocks"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        None => Vec::new(),
    };
    // The root's header and its own context line give way to the incident's.
    blocks.retain(|b| !matches!(b["type"].as_str(), Some("header" | "actions")));
    let mut head = vec![
        json!({
            "type": "header",
            "text": {"type": "plain_text", "text": truncate_chars(&title, SLACK_HEADER_MAX)},
        }),
        json!({
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": format!("*Services*\n{}", slack_text(&services(i), 1000))},
                {"type": "mrkdwn", "text": format!("*Anomalies*\n{}", i.anomaly_ids.len())},
                {"type": "mrkdwn", "text": format!("*Severity*\n{:?}", i.severity)},
                {"type": "mrkdwn", "text": format!("*Incident*\n{}", period(i))},
            ],
        }),
        json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": slack_text(&format!("*Likely cause:* {}", i.root.reason), SLACK_SECTION_TEXT_MAX)},
        }),
    ];
    if let Some(more) = more_line(i) {
        head.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": slack_text(&more, SLACK_SECTION_TEXT_MAX)},
        }));
    }
    head.append(&mut blocks);
    if let Some(link) = incident_link(i, m.dashboard_url) {
        head.push(json!({
            "type": "actions",
            "elements": [{
                "type": "button",
                "text": {"type": "plain_text", "text": "Open the incident"},
                "url": link,
            }],
        }));
    }
    head.truncate(crate::messages::SLACK_BLOCKS_MAX);
    let summary = measure_words(m).unwrap_or_else(|| i.root.reason.clone());
    json!({
        "text": slack_text(&format!("{title}: {summary}"), SLACK_SECTION_TEXT_MAX),
        "blocks": head,
    })
}

/// The short Slack follow-up when anomalies joined an incident (Slack's
/// incoming webhooks cannot edit a message): "+2 more since the last
/// message: checkout spike, checkout burst".
pub fn slack_followup(m: &IncidentMessage<'_>) -> Value {
    let i = m.incident;
    let joined = joined_line(i, m.told_anomalies).unwrap_or_default();
    let mut text = slack_text(
        &format!("{} ({}): {joined}", incident_title(m), i.id),
        SLACK_SECTION_TEXT_MAX,
    );
    // After escaping: the link is markup.
    if let Some(link) = incident_link(i, m.dashboard_url) {
        text.push_str(&format!(" <{link}|open>"));
    }
    json!({ "text": text })
}

/// Escapes Slack mrkdwn's `&`, `<`, `>` and cuts to `max` characters.
fn slack_text(text: &str, max: usize) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    if escaped.chars().count() <= max {
        return escaped;
    }
    // Cut before any entity the limit would split.
    let mut cut: String = escaped.chars().take(max.saturating_sub(1)).collect();
    if let Some(amp) = cut.rfind('&')
        && !cut[amp..].contains(';')
    {
        cut.truncate(amp);
    }
    cut.push('…');
    cut
}

/// The generic webhook's body: `{"event", "change", "dedupe_key", "incident",
/// "root_anomaly", "new_anomalies", "url"}`; `incident` and `root_anomaly`
/// as core's types serialize, `url` null without a dashboard URL.
pub fn webhook_incident(m: &IncidentMessage<'_>, dedupe_key: &str) -> Value {
    json!({
        "event": m.change.event(),
        "change": m.change.as_str(),
        "dedupe_key": dedupe_key,
        "incident": m.incident,
        "root_anomaly": m.root,
        "new_anomalies": m.incident.anomaly_ids.len().saturating_sub(m.told_anomalies),
        "url": incident_link(m.incident, m.dashboard_url),
    })
}

#[cfg(test)]
#[path = "incident_messages_tests.rs"]
mod tests;
