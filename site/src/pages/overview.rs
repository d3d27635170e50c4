//! The overview: headline numbers, volume by level, error rate per service
//! with its expected band and anomalies, distribution by service and level.

use leptos::prelude::*;

use crate::api::{self, Anomaly, AnomalyFilter, Breakdown, Volume};
use crate::app::{Range, use_ctx};
use crate::charts::{Crosshair, LevelBar, RateChart, ServiceBars, VolumeChart, band_history_ms};
use crate::pages::{AnomalyRows, ErrorBanner, Loading};
use crate::stats;
use crate::time;

/// Services that get their own error-rate chart (the busiest ones).
const RATE_CHARTS: usize = 8;

#[derive(Clone)]
struct OverviewData {
    from: f64,
    to: f64,
    volume: Volume,
    breakdown: Breakdown,
    rates: Vec<(String, Volume)>,
    anomalies: Vec<Anomaly>,
}

/// Three requests whatever the number of services: the breakdown and the
/// anomalies of the range, then every chart's series in one volume request.
async fn load(base: String, range: Range) -> Result<OverviewData, String> {
    let (from, to) = range.window();
    let step = time::step_for(to - from);
    let filter = AnomalyFilter {
        since_ms: Some(from),
        ..AnomalyFilter::default()
    };
    let (breakdown, anomalies) = futures::join!(
        api::breakdown(&base, from, to),
        api::anomalies(&base, &filter),
    );
    let breakdown = breakdown?;
    let anomalies: Vec<Anomaly> = anomalies?
        .into_iter()
        .filter(|a| a.start_ms() <= to)
        .collect();
    // Services with anomalies in range first, then the busiest.
    let mut names: Vec<String> = Vec::new();
    for a in &anomalies {
        if !names.contains(&a.service) && breakdown.services.iter().any(|s| s.service == a.service)
        {
            names.push(a.service.clone());
        }
    }
    for s in &breakdown.services {
        if !names.contains(&s.service) {
            names.push(s.service.clone());
        }
    }
    names.truncate(RATE_CHARTS);
    names.sort_by_key(|n| {
        breakdown
            .services
            .iter()
            .position(|s| &s.service == n)
            .unwrap_or(usize::MAX)
    });
    // The rate charts need history before `from` for their band; the volume
    // chart shows only the buckets from `from` on.
    let history = band_history_ms(step);
    let (mut volume, rates) =
        api::volume_by_service(&base, from - history, to, step, &names).await?;
    let first_bucket = (from / (step as f64 * 1000.0)).floor() * step as f64 * 1000.0;
    volume.buckets.retain(|b| b.t >= first_bucket);
    Ok(OverviewData {
        from,
        to,
        volume,
        breakdown,
        rates,
        anomalies,
    })
}

#[component]
pub fn Overview() -> impl IntoView {
    let ctx = use_ctx();
    let crosshair = Crosshair::new();
    let data = LocalResource::new(move || {
        let range = ctx.range.get();
        ctx.tick.track();
        load(ctx.base(), range)
    });
    let body = move || match data.get() {
        None => view! { <Loading what="overview"/> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner message=e/> }.into_any(),
        Some(Ok(d)) => view! { <OverviewBody data=d crosshair=crosshair/> }.into_any(),
    };
    view! {
        <h1 class="visually-hidden">"Overview"</h1>
        {body}
    }
}

#[component]
fn Stat(
    label: &'static str,
    value: String,
    detail: String,
    testid: &'static str,
    #[prop(optional)] raw: String,
    #[prop(optional)] hot: bool,
) -> impl IntoView {
    view! {
        <div class={if hot { "stat hot" } else { "stat" }} data-testid=testid data-value=raw>
            <div class="statlabel">{label}</div>
            <div class="statvalue">{value}</div>
            <div class="statdetail">{detail}</div>
        </div>
    }
}

#[component]
fn OverviewBody(data: OverviewData, crosshair: Crosshair) -> impl IntoView {
    let ctx = use_ctx();
    let OverviewData {
        from,
        to,
        volume,
        breakdown,
        rates,
        anomalies,
    } = data;
    let minutes = ((to - from) / 60_000.0).max(1.0 / 60.0);
    let per_min = breakdown.total as f64 / minutes;
    let errors = api::errors_of(&breakdown.counts);
    let error_rate = errors as f64 / breakdown.total.max(1) as f64;
    let open_total = move || {
        ctx.open_anomalies
            .get()
            .and_then(Result::ok)
            .map_or(0, |v| v.len())
    };
    let in_range = anomalies.len();
    let busiest = breakdown
        .services
        .first()
        .map(|s| format!("busiest: {}", s.service))
        .unwrap_or_else(|| "no events yet".to_owned());
    let range_label = ctx.range.get_untracked().label();
    let step = volume.step_secs;
    let recent: Vec<Anomaly> = anomalies.iter().take(6).cloned().collect();
    let empty = breakdown.total == 0;
    let rate_charts = rates
        .into_iter()
        .map(|(service, v)| {
            let own: Vec<Anomaly> = anomalies
                .iter()
                .filter(|a| a.service == service)
                .cloned()
                .collect();
            view! {
                <RateChart service=service buckets=v.buckets step_secs=v.step_secs from=from to=to anomalies=own crosshair=crosshair/>
            }
        })
        .collect_view();

    view! {
        <div class="overview">
            <section class="stats">
                <Stat label="Events / min" value=stats::compact(per_min) testid="stat-events"
                    raw=breakdown.total.to_string()
                    detail=format!("{} events, {}", stats::thousands(breakdown.total), range_label)/>
                <Stat label="Error rate" value=stats::percent(error_rate) testid="stat-errors"
                    raw=errors.to_string() hot={error_rate >= 0.05}
                    detail=format!("{} errors and fatals", stats::thousands(errors))/>
                <div class={move || if open_total() > 0 { "stat hot" } else { "stat" }} data-testid="stat-open"
                    data-value=move || open_total().to_string()>
                    <div class="statlabel">"Open anomalies"</div>
                    <div class="statvalue">{open_total}</div>
                    <div class="statdetail">{format!("{in_range} detected in range")}</div>
                </div>
                <Stat label="Services" value=breakdown.services.len().to_string() testid="stat-services"
                    raw=breakdown.services.len().to_string() detail=busiest/>
            </section>

            {empty.then(|| view! {
                <div class="card notice">
                    <b>"No events in this range yet."</b>
                    " Send some with "<code>"curl -X POST …/ingest"</code>
                    " or start "<code>"anomalog up --demo"</code>", then watch them arrive here."
                </div>
            })}

            <section class="card">
                <div class="cardhead">
                    <h2>"Log volume"</h2>
                    <span class="muted">{format!("events per {} by level", bucket_words(step))}</span>
                </div>
                <VolumeChart buckets=volume.buckets step_secs=step crosshair=crosshair/>
                <LevelBar counts=breakdown.counts/>
            </section>

            <section class="card">
                <div class="cardhead">
                    <h2>"Error rate by service"</h2>
                    <span class="muted">"errors ÷ events over the last minute; band: average of the previous 10 min ± 3σ; red: anomalies"</span>
                </div>
                <div class="multiples">{rate_charts}</div>
            </section>

            <div class="grid2">
                <section class="card">
                    <div class="cardhead"><h2>"By service"</h2><span class="muted">"click a service for its logs"</span></div>
                    <ServiceBars services=breakdown.services/>
                </section>
                <section class="card">
                    <div class="cardhead"><h2>"Recent anomalies"</h2><a class="more" href="#/anomalies">"all anomalies →"</a></div>
                    <AnomalyRows items=recent compact=true/>
                </section>
            </div>
        </div>
    }
}

fn bucket_words(step: i64) -> String {
    match step {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}
