//! The pages, and the pieces they share (log rows, anomaly rows, states).

mod anomalies;
mod incidents;
mod overview;
pub(crate) mod patterns;
mod patterns_api;
mod tail;

pub use anomalies::{AnomalyList, AnomalyPage};
pub use incidents::{IncidentList, IncidentPage};
pub use overview::Overview;
pub use patterns::{PatternChanges, PatternList, PatternPage};
pub use tail::Tail;

use std::collections::HashSet;

use leptos::prelude::*;

use crate::api::{Anomaly, LogLine};
use crate::stats;
use crate::time;

#[component]
pub fn Loading(what: &'static str) -> impl IntoView {
    view! { <div class="loading" aria-busy="true"><span class="spinner"></span>{format!("Loading {what}…")}</div> }
}

#[component]
pub fn ErrorBanner(message: String) -> impl IntoView {
    view! {
        <div class="card errorbanner" role="alert">
            <b>"Cannot load data. "</b>{message}
            <div class="muted small">"The dashboard retries on every refresh."</div>
        </div>
    }
}

/// The way back from a detail page to its list.
#[derive(Clone, Copy)]
pub struct Back {
    pub href: &'static str,
    pub label: &'static str,
    /// The page's heading while it has no body (every page has one).
    pub heading: &'static str,
}

impl Back {
    pub fn view(self) -> impl IntoView {
        view! { <a class="back" href=self.href>{self.label}</a> }
    }
}

/// A detail page in one of its three states: loading, failed (with the way
/// back and a heading), or its body.
pub fn detail_state<T>(
    state: Option<Result<T, String>>,
    what: &'static str,
    back: Back,
    body: impl FnOnce(T) -> AnyView,
) -> AnyView {
    match state {
        None => view! { <Loading what=what/> }.into_any(),
        Some(Err(e)) => view! {
            {back.view()}
            <h1 class="visually-hidden">{back.heading}</h1>
            <ErrorBanner message=e/>
        }
        .into_any(),
        Some(Ok(d)) => body(d),
    }
}

/// Stored lines, newest first, with an empty state; `testid` and the count
/// let tests find them.
#[component]
pub fn LogList(
    logs: Vec<LogLine>,
    testid: &'static str,
    empty: &'static str,
    expanded: RwSignal<HashSet<String>>,
) -> impl IntoView {
    if logs.is_empty() {
        return view! { <div class="empty">{empty}</div> }.into_any();
    }
    let count = logs.len();
    view! {
        <div class="loglist" data-testid=testid data-count=count.to_string()>
            {logs.into_iter().map(|l| view! { <LogRow line=l expanded=expanded/> }).collect_view()}
        </div>
    }
    .into_any()
}

/// A level as a coloured badge.
#[component]
pub fn LevelBadge(level: String) -> impl IntoView {
    view! { <span class=format!("lvl bg-{level}")>{level.clone()}</span> }
}

/// `text` with every case-insensitive occurrence of `needle` marked.
pub fn highlight(text: &str, needle: &str) -> AnyView {
    let needle = needle.trim();
    let lower = text.to_lowercase();
    let lower_needle = needle.to_lowercase();
    // Byte offsets only line up when lowercasing kept lengths (ASCII and most text).
    if needle.is_empty() || lower.len() != text.len() || lower_needle.len() != needle.len() {
        return text.to_owned().into_any();
    }
    let mut parts = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(&lower_needle) {
        let start = at + found;
        let end = start + lower_needle.len();
        if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            break;
        }
        parts.push(text[at..start].to_owned().into_any());
        parts.push(view! { <mark>{text[start..end].to_owned()}</mark> }.into_any());
        at = end;
    }
    parts.push(text[at..].to_owned().into_any());
    parts.into_any()
}

/// One log line; click to show its attributes and ids.
#[component]
pub fn LogRow(
    line: LogLine,
    expanded: RwSignal<HashSet<String>>,
    #[prop(into, optional)] needle: Signal<String>,
) -> impl IntoView {
    let id = line.id.clone();
    let toggle_id = id.clone();
    let is_open = {
        let id = id.clone();
        Memo::new(move |_| expanded.with(|e| e.contains(&id)))
    };
    let ts = time::parse_ms(&line.ts);
    let extra_count =
        line.attrs.len() + usize::from(line.host.is_some()) + usize::from(line.trace_id.is_some());
    let details = {
        let line = line.clone();
        move || {
            let mut rows: Vec<(String, String)> = Vec::new();
            rows.push(("time".into(), time::full(ts)));
            if let Some(h) = &line.host {
                rows.push(("host".into(), h.clone()));
            }
            if let Some(s) = &line.source {
                rows.push(("source".into(), s.clone()));
            }
            if let Some(t) = &line.trace_id {
                rows.push(("trace_id".into(), t.clone()));
            }
            if let Some(s) = &line.span_id {
                rows.push(("span_id".into(), s.clone()));
            }
            for (k, v) in &line.attrs {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => serde_json::to_string_pretty(other).unwrap_or_default(),
                };
                rows.push((k.clone(), text));
            }
            if !line.received_at.is_empty() {
                rows.push((
                    "received".into(),
                    time::log_time(time::parse_ms(&line.received_at)),
                ));
            }
            rows.push(("id".into(), line.id.clone()));
            if line.truncated {
                rows.push(("truncated".into(), "message cut to the size limit".into()));
            }
            let items = rows
                .into_iter()
                .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
                .collect_view();
            view! { <dl class="attrs" data-testid="attrs">{items}</dl> }
        }
    };
    view! {
        <div class={move || if is_open.get() { "logrow open" } else { "logrow" }} data-id=id.clone()
            data-level=line.level.clone() data-service=line.service.clone()>
            <button class="logline" aria-expanded=move || is_open.get().to_string()
                on:click=move |_| expanded.update(|e| {
                    if !e.remove(&toggle_id) {
                        e.insert(toggle_id.clone());
                    }
                })>
                <span class="logtime" title=time::full(ts)>{time::log_time(ts)}</span>
                <LevelBadge level=line.level.clone()/>
                <span class="logsvc">{line.service.clone()}</span>
                <span class="logmsg">{
                    let message = line.message.clone();
                    move || highlight(&message, &needle.get())
                }</span>
                {(extra_count > 0).then(|| view! { <span class="logextra" title="attributes">{format!("+{extra_count}")}</span> })}
            </button>
            <Show when=move || is_open.get()>{details.clone()}</Show>
        </div>
    }
}

/// Anomalies as rows linking to their detail.
#[component]
pub fn AnomalyRows(items: Vec<Anomaly>, #[prop(optional)] compact: bool) -> impl IntoView {
    if items.is_empty() {
        return view! { <div class="empty" data-testid="no-anomalies">"No anomalies. All quiet."</div> }
            .into_any();
    }
    let rows = items
        .into_iter()
        .map(|a| {
            let start = a.start_ms();
            let end = a.end_ms();
            let summary = observed_vs_expected(&a);
            view! {
                <a class="arow" href=format!("#/anomalies/{}", a.id) data-anomaly-id=a.id.clone()
                    data-kind=a.kind.clone() data-service=a.service.clone() data-status=a.status.clone()>
                    <span class=format!("status {}", a.status) title=a.status.clone()></span>
                    <span class=format!("pill sev-{}", a.severity)>{a.severity.clone()}</span>
                    <span class="akind">{a.kind.clone()}</span>
                    <span class="asvc">{a.service.clone()}</span>
                    <span class="asummary">{summary}</span>
                    <span class="awhen" title=time::full(start)>
                        {time::ago(start)}
                        {(!compact).then(|| view! { <span class="muted">{format!(" · lasted {}", time::duration(end - start))}</span> })}
                    </span>
                </a>
            }
        })
        .collect_view();
    view! { <div class={if compact { "arows compact" } else { "arows" }} data-testid="anomaly-rows">{rows}</div> }
        .into_any()
}

/// `40 errors in window (threshold 25)`-style summary of what was seen.
pub fn observed_vs_expected(a: &Anomaly) -> String {
    match a.kind.as_str() {
        "burst" => format!("{} errors in a short window", stats::compact(a.observed)),
        "spike" => format!(
            "{} errors/min, expected {} ± {}",
            stats::compact(a.observed),
            stats::compact(a.expected),
            stats::compact(a.stddev)
        ),
        "drop" => format!(
            "{} events/min, expected {}",
            stats::compact(a.observed),
            stats::compact(a.expected)
        ),
        _ => format!(
            "observed {}, expected {}",
            stats::compact(a.observed),
            stats::compact(a.expected)
        ),
    }
}
