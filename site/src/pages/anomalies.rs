//! The anomaly list and one anomaly's detail: what was seen against what was
//! expected, the series around the window, and the lines behind it.

use std::collections::HashSet;

use leptos::prelude::*;

use crate::api::{self, AnomalyDetail, AnomalyFilter};
use crate::app::use_ctx;
use crate::charts::WindowChart;
use crate::pages::{
    AnomalyRows, Back, ErrorBanner, LevelBadge, Loading, LogList, PatternChanges, detail_state,
};
use crate::stats;
use crate::time;

/// The way back to the list, from a detail page.
const BACK: Back = Back {
    href: "#/anomalies",
    label: "← All anomalies",
    heading: "Anomaly",
};

/// Kinds offered in the filter; others seen in the data are added.
const KINDS: [&str; 4] = ["burst", "spike", "drop", "new_pattern"];

#[component]
pub fn AnomalyList() -> impl IntoView {
    let ctx = use_ctx();
    let status = RwSignal::new(String::new());
    let service = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let list = LocalResource::new(move || {
        let filter = AnomalyFilter {
            service: service.get(),
            kind: kind.get(),
            status: status.get(),
            since_ms: Some(ctx.range.get().window().0),
        };
        ctx.tick.track();
        let base = ctx.base();
        async move { api::anomalies(&base, &filter).await }
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
    let service_options = move || {
        ctx.services
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|s| view! { <option value=s.clone() selected=service.get_untracked() == s>{s.clone()}</option> })
            .collect_view()
    };
    let kind_options = KINDS
        .iter()
        .map(|k| view! { <option value=*k>{*k}</option> })
        .collect_view();
    let body = move || match list.get() {
        None => view! { <Loading what="anomalies"/> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner message=e/> }.into_any(),
        Some(Ok(items)) => {
            let open = items.iter().filter(|a| a.is_open()).count();
            let resolved = items.len() - open;
            view! {
                <div class="muted small summaryline">
                    {format!("{} anomalies ({open} open, {resolved} resolved), {}", items.len(), ctx.range.get_untracked().label())}
                </div>
                <AnomalyRows items=items/>
            }
            .into_any()
        }
    };
    view! {
        <h1 class="visually-hidden">"Anomalies"</h1>
        <section class="card">
            <div class="filters">
                <div class="field">
                    <span>"Status"</span>
                    <div class="segmented" role="group" aria-label="Status">{status_buttons}</div>
                </div>
                <label class="field">
                    <span>"Service"</span>
                    <select on:change=move |ev| service.set(event_target_value(&ev))>
                        <option value="">"All services"</option>
                        {service_options}
                    </select>
                </label>
                <label class="field">
                    <span>"Kind"</span>
                    <select on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="">"All kinds"</option>
                        {kind_options}
                    </select>
                </label>
            </div>
            {body}
        </section>
    }
}

#[component]
pub fn AnomalyPage(id: String) -> impl IntoView {
    let ctx = use_ctx();
    let detail = LocalResource::new(move || {
        ctx.tick.track();
        let base = ctx.base();
        let id = id.clone();
        async move { api::anomaly_detail(&base, &id).await }
    });
    move || {
        detail_state(detail.get(), "anomaly", BACK, |d| {
            view! { <DetailBody detail=d/> }.into_any()
        })
    }
}

/// What the numbers mean, in one sentence: from the anomaly's measure when it
/// has one, from its kind for records stored before measures existed.
fn explanation(a: &api::Anomaly) -> String {
    if let Some(m) = &a.measure {
        return measured(a, m);
    }
    match a.kind.as_str() {
        "burst" => match threshold_in(&a.message) {
            Some(t) if t > 0.0 => format!(
                "{} ERROR and FATAL lines arrived within the burst window, {:.1}× the threshold of {}: far more than {} logs when healthy.",
                stats::compact(a.observed),
                a.observed / t,
                stats::compact(t),
                a.service
            ),
            _ => format!(
                "{} ERROR and FATAL lines arrived within the burst window; a healthy {} stays below the burst threshold.",
                stats::compact(a.observed),
                a.service
            ),
        },
        "spike" => {
            let z = if a.stddev > 0.0 {
                (a.observed - a.expected) / a.stddev
            } else {
                0.0
            };
            format!(
                "{} errors in one minute, where the trailing baseline expected {} ± {}: {:.1} standard deviations above normal.",
                stats::compact(a.observed),
                stats::compact(a.expected),
                stats::compact(a.stddev),
                z
            )
        }
        "drop" => format!(
            "{} events per minute, where about {} were expected: the service went quiet.",
            stats::compact(a.observed),
            stats::compact(a.expected)
        ),
        _ => format!(
            "Observed {}, expected {}.",
            stats::compact(a.observed),
            stats::compact(a.expected)
        ),
    }
}

/// The sentence of a measured anomaly, every number in the measure's unit:
/// "Error ratio 20.9% in 60 s, baseline 1.1% ± 0.6%, threshold 4.0%."
fn measured(a: &api::Anomaly, m: &api::Measure) -> String {
    let secs = m.bucket_seconds;
    let baseline = if a.stddev > 0.0 {
        format!("{} ± {}", m.show(a.expected), m.show(a.stddev))
    } else {
        m.show(a.expected)
    };
    let threshold = m.show(m.threshold);
    match (m.metric.as_str(), a.kind.as_str()) {
        ("error_ratio", _) => format!(
            "Error ratio {} in {secs} s, baseline {baseline}, threshold {threshold}.",
            m.show(a.observed)
        ),
        ("error_count", "burst") => format!(
            "{} ERROR and FATAL lines arrived within {secs} s, {:.1}× the threshold of {threshold}; usually {}.",
            m.show(a.observed),
            if m.threshold > 0.0 {
                a.observed / m.threshold
            } else {
                0.0
            },
            m.show(a.expected)
        ),
        ("error_count", _) => format!(
            "{} errors in {secs} s, baseline {baseline}, threshold {threshold}.",
            m.show(a.observed)
        ),
        ("event_rate", _) => format!(
            "{} events in {secs} s, baseline {baseline}, below the threshold of {threshold}: the service went quiet.",
            m.show(a.observed)
        ),
        _ => format!(
            "Observed {}, baseline {baseline}, threshold {threshold}.",
            m.show(a.observed)
        ),
    }
}

/// The numbers of a measured anomaly, in its unit.
#[component]
fn MeasuredNumbers(a: api::Anomaly, m: api::Measure) -> impl IntoView {
    let from = time::parse_ms(&m.baseline_start);
    let to = time::parse_ms(&m.baseline_end);
    let baseline_span = if to > from {
        format!(
            "baseline {} – {}",
            time::clock(from, false),
            time::clock(to, false)
        )
    } else {
        "no history before the window".to_owned()
    };
    let factor = (m.threshold > 0.0 && m.metric != "event_rate").then(|| a.observed / m.threshold);
    let per = if m.unit == "ratio" {
        format!("of events in {} s", m.bucket_seconds)
    } else {
        format!("in {} s", m.bucket_seconds)
    };
    let spread = if a.stddev > 0.0 {
        format!("± {}, {baseline_span}", m.show(a.stddev))
    } else {
        baseline_span
    };
    let crossed = if m.metric == "event_rate" {
        "the level it fell below"
    } else {
        "the level it crossed"
    };
    view! {
        <div class="number"><span>"Observed"</span><b data-testid="observed" data-unit=m.unit.clone()>{m.show(a.observed)}</b>
            <small>{per}</small></div>
        <div class="number"><span>"Expected"</span><b data-testid="expected">{m.show(a.expected)}</b>
            <small data-testid="stddev">{spread}</small></div>
        <div class="number"><span>"Threshold"</span><b data-testid="threshold">{m.show(m.threshold)}</b>
            <small>{crossed}</small></div>
        {factor.map(|r| view! {
            <div class="number"><span>"Factor"</span><b>{format!("{r:.1}×")}</b><small>"the threshold"</small></div>
        })}
    }
}

#[component]
fn DetailBody(detail: AnomalyDetail) -> impl IntoView {
    let AnomalyDetail {
        anomaly: a,
        step_secs,
        series,
        logs,
    } = detail;
    let start = a.start_ms();
    let end = a.end_ms();
    let window_total = crate::pages::patterns::window_total(&series, step_secs, start, end);
    let expanded = RwSignal::new(HashSet::<String>::new());
    // Bursts have no baseline: compare with the threshold the detector names.
    let threshold = (a.kind == "burst" && a.expected == 0.0)
        .then(|| threshold_in(&a.message))
        .flatten();
    let ratio = match threshold {
        Some(t) if t > 0.0 => Some(a.observed / t),
        _ => (a.expected > 0.0).then(|| a.observed / a.expected),
    };
    let tail_link = format!(
        "#/tail?service={}&level=ERROR&from={}&to={}",
        String::from(js_sys::encode_uri_component(&a.service)),
        (start - 60_000.0) as i64,
        (end + 60_000.0) as i64
    );
    let samples = a
        .samples
        .iter()
        .map(|s| {
            let ts = time::parse_ms(&s.ts);
            view! {
                <div class="sample" data-level=s.level.clone()>
                    <span class="logtime" title=time::full(ts)>{time::log_time(ts)}</span>
                    <LevelBadge level=s.level.clone()/>
                    <span class="logmsg">{s.message.clone()}</span>
                </div>
            }
        })
        .collect_view();
    let sample_count = a.samples.len();
    view! {
        <div class="detail" data-testid="anomaly-detail" data-anomaly-id=a.id.clone()>
            {BACK.view()}
            <section class="card detailhead">
                <div class="titlerow">
                    <span class=format!("status {}", a.status)></span>
                    <h1>{format!("{} in ", capitalize(&a.kind))}<span class="svcname">{a.service.clone()}</span></h1>
                    <span class=format!("pill sev-{}", a.severity)>{a.severity.clone()}</span>
                    <span class=format!("pill status-{}", a.status)>{a.status.clone()}</span>
                </div>
                <p class="explain" data-testid="explanation">{explanation(&a)}</p>
                <div class="numbers">
                    {match a.measure.clone() {
                        Some(m) => view! { <MeasuredNumbers a=a.clone() m=m/> }.into_any(),
                        None => view! { <LegacyNumbers a=a.clone() threshold=threshold ratio=ratio/> }.into_any(),
                    }}
                    <div class="number"><span>"Score"</span><b>{format!("{:.2}", a.score)}</b>
                        <span class="scorebar"><span style=format!("width:{:.1}%", (a.score.clamp(0.0, 1.0) * 100.0))></span></span></div>
                    <div class="number"><span>"Window"</span><b>{format!("{} – {}", time::clock(start, true), time::clock(end, true))}</b>
                        <small>{format!("{}, {}", time::day(start), time::duration(end - start))}</small></div>
                    <div class="number"><span>"First seen"</span><b>{time::ago(time::parse_ms(&a.first_seen))}</b>
                        <small>{format!("last seen {}", time::ago(time::parse_ms(&a.last_seen)))}</small></div>
                </div>
                <p class="muted small" data-testid="detector-message">{format!("Detector: {}", a.message)}</p>
            </section>
            <PatternChanges changes=a.explanation.clone() window_total=window_total/>
            <section class="card">
                <div class="cardhead"><h2>"Around the window"</h2>
                    <span class="muted">{format!("events and errors of {} per {} s; shaded: the anomaly", a.service, step_secs)}</span></div>
                <WindowChart points=around(series, start, end) step_secs=step_secs anomaly=a.clone()/>
            </section>
            <section class="card">
                <div class="cardhead"><h2>"Sample lines"</h2><span class="muted">{format!("{sample_count} kept with the anomaly")}</span></div>
                <div class="samples" data-testid="samples">{samples}</div>
            </section>
            <section class="card">
                <div class="cardhead"><h2>"Error lines in the window"</h2>
                    <a class="more" href=tail_link>"open in live tail →"</a></div>
                <LogList logs=logs testid="window-logs" empty="No ERROR or FATAL lines stored for this window." expanded=expanded/>
            </section>
        </div>
    }
}

/// The numbers of an anomaly stored before measures existed.
#[component]
fn LegacyNumbers(a: api::Anomaly, threshold: Option<f64>, ratio: Option<f64>) -> impl IntoView {
    view! {
        <div class="number"><span>"Observed"</span><b data-testid="observed">{stats::compact(a.observed)}</b></div>
        {match threshold {
            Some(t) => view! {
                <div class="number"><span>"Threshold"</span><b data-testid="expected">{stats::compact(t)}</b>
                    <small>"errors within the window"</small></div>
            }.into_any(),
            None => view! {
                <div class="number"><span>"Expected"</span><b data-testid="expected">{stats::compact(a.expected)}</b>
                    {(a.stddev > 0.0).then(|| view! { <small>{format!("± {}", stats::compact(a.stddev))}</small> })}</div>
            }.into_any(),
        }}
        {ratio.map(|r| view! {
            <div class="number"><span>"Factor"</span><b>{format!("{r:.1}×")}</b>
                <small>{if threshold.is_some() { "the threshold" } else { "the expected value" }}</small></div>
        })}
    }
}

/// The part of the series worth looking at: the window with 5 minutes (or
/// twice its length) either side, and nothing after now.
fn around(series: Vec<api::SeriesPoint>, start: f64, end: f64) -> Vec<api::SeriesPoint> {
    let margin = (2.0 * (end - start)).max(5.0 * 60_000.0);
    let now = time::now_ms();
    series
        .into_iter()
        .filter(|p| {
            let t = time::parse_ms(&p.ts);
            t >= start - margin && t <= end + margin && t <= now
        })
        .collect()
}

/// The number after "threshold " in a detector's message, if any.
fn threshold_in(message: &str) -> Option<f64> {
    let at = message.find("threshold ")? + "threshold ".len();
    let digits: String = message[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits.parse().ok()
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
