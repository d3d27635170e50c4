//! The incident list and one incident's page: its root guess, its timeline
//! and its anomalies, each linking to its detail.

use leptos::prelude::*;

use crate::api::{self, Incident, IncidentDetail};
use crate::app::use_ctx;
use crate::pages::{AnomalyRows, Back, ErrorBanner, Loading, detail_state};
use crate::time;

/// The way back to the list, from a detail page.
const BACK: Back = Back {
    href: "#/incidents",
    label: "← All incidents",
    heading: "Incident",
};

#[component]
pub fn IncidentList() -> impl IntoView {
    let ctx = use_ctx();
    let status = RwSignal::new(String::new());
    let list = LocalResource::new(move || {
        let status = status.get();
        let since = ctx.range.get().window().0;
        ctx.tick.track();
        let base = ctx.base();
        async move { api::incidents(&base, &status, Some(since)).await }
    });
    let status_buttons = [("", "All"), ("open", "Open"), ("resolved", "Resolved")]
        .into_iter()
        .map(|(value, label)| {
            view! {
                <button class={move || if status.get() == value { "seg active" } else { "seg" }}
                    data-status=value on:click=move |_| status.set(value.to_owned())>{label}</button>
            }
        })
        .collect_view();
    let body = move || match list.get() {
        None => view! { <Loading what="incidents"/> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner message=e/> }.into_any(),
        Some(Ok(items)) => {
            let open = items.iter().filter(|i| i.is_open()).count();
            view! {
                <div class="muted small summaryline">
                    {format!("{} incidents ({open} open), {}", items.len(), ctx.range.get_untracked().label())}
                </div>
                <IncidentRows items=items/>
            }
            .into_any()
        }
    };
    view! {
        <section class="card">
            <h1>"Incidents"</h1>
            <div class="filters">
                <div class="field">
                    <span>"Status"</span>
                    <div class="segmented" role="group" aria-label="Status">{status_buttons}</div>
                </div>
            </div>
            {body}
        </section>
    }
}

/// One row per incident, linking to its page.
#[component]
fn IncidentRows(items: Vec<Incident>) -> impl IntoView {
    if items.is_empty() {
        return view! { <div class="empty" data-testid="no-incidents">"No incidents. All quiet."</div> }
            .into_any();
    }
    items
        .into_iter()
        .map(|i| {
            let opened = time::parse_ms(&i.opened_at);
            let state = if i.is_open() { "open" } else { "resolved" };
            view! {
                <a class="arow" href=format!("#/incidents/{}", i.id) data-incident-id=i.id.clone()>
                    <span class=format!("sev sev-{}", i.severity)>{i.severity.clone()}</span>
                    <span class="svc">{i.services.join(", ")}</span>
                    <span class="muted">{format!("{} anomalies, root: {}", i.anomaly_ids.len(), i.root.service)}</span>
                    <span class=format!("pill status-{state}")>{state}</span>
                    <span class="muted small">{time::full(opened)}</span>
                </a>
            }
        })
        .collect_view()
        .into_any()
}

#[component]
pub fn IncidentPage(id: String) -> impl IntoView {
    let ctx = use_ctx();
    let detail = LocalResource::new(move || {
        ctx.tick.track();
        let base = ctx.base();
        let id = id.clone();
        async move { api::incident_detail(&base, &id).await }
    });
    move || {
        detail_state(detail.get(), "incident", BACK, |d| {
            view! { <IncidentBody detail=d/> }.into_any()
        })
    }
}

#[component]
fn IncidentBody(detail: IncidentDetail) -> impl IntoView {
    let i = detail.incident;
    let opened = time::parse_ms(&i.opened_at);
    let span = match &i.resolved_at {
        Some(end) => format!(
            "{} → {} ({})",
            time::full(opened),
            time::full(time::parse_ms(end)),
            time::duration(time::parse_ms(end) - opened)
        ),
        None => format!("open since {} ({})", time::full(opened), time::ago(opened)),
    };
    let timeline = i
        .timeline
        .iter()
        .map(|e| {
            let at = time::full(time::parse_ms(&e.at));
            view! {
                <li data-timeline-anomaly=e.anomaly_id.clone()>
                    <span class="muted small">{at}</span>" "
                    <a href=format!("#/anomalies/{}", e.anomaly_id)>{format!("{} in {}", e.kind, e.service)}</a>
                    {format!(" {}", e.event)}
                </li>
            }
        })
        .collect_view();
    let title = format!("Incident in {}", i.services.join(", "));
    view! {
        {BACK.view()}
        <section class="card" data-testid="incident">
            <h1>{title}</h1>
            <div class="muted">{format!("{}: {span}", i.status)}</div>
            <h2>"Root guess"</h2>
            <p data-testid="root-guess">
                <a href=format!("#/anomalies/{}", i.root.anomaly_id)>{i.root.service.clone()}</a>
                {format!(": {}", i.root.reason)}
            </p>
            <h2>"Timeline"</h2>
            <ol class="timeline" data-testid="timeline">{timeline}</ol>
            <h2>{format!("Anomalies ({})", detail.anomalies.len())}</h2>
            <AnomalyRows items=detail.anomalies/>
        </section>
    }
}
