//! Hand-rolled SVG charts.
//!
//! The plot is an SVG whose user space is (bucket index, 0..100) stretched to
//! its box (`preserveAspectRatio="none"`, strokes that do not scale), while axis
//! labels, markers and tooltips are HTML positioned in percent: text stays
//! crisp and readable at any width, from a phone to a wide screen. Every drawn
//! element carries `data-*` attributes with the numbers behind it (the browser
//! tests read them).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api::{Anomaly, Bucket, LEVELS, SeriesPoint};
use crate::stats::{self, Band, BandConfig};
use crate::time;

/// Vertical position (0 at the top, 100 at the bottom) of `v` on an axis to `top`.
pub(crate) fn y_of(v: f64, top: f64) -> f64 {
    if top <= 0.0 {
        100.0
    } else {
        100.0 - (v / top * 100.0).clamp(0.0, 100.0)
    }
}

/// Left offset in percent of a time on a range.
fn pct_of(t: f64, from: f64, to: f64) -> f64 {
    if to <= from {
        0.0
    } else {
        ((t - from) / (to - from) * 100.0).clamp(0.0, 100.0)
    }
}

/// Horizontal anchoring of a tooltip at `pct` so it stays inside the chart.
fn tooltip_style(pct: f64) -> String {
    let shift = if pct < 25.0 {
        "0%"
    } else if pct > 75.0 {
        "-100%"
    } else {
        "-50%"
    };
    format!("left:{pct:.2}%;transform:translateX({shift})")
}

/// Where the pointer is over charts that share a time axis: which chart, and
/// how far across it (0..1). Owned by the page, so a refresh that redraws the
/// charts keeps the tooltip in place, and every chart of the family shows the
/// hovered bucket (a crosshair synced across the small multiples).
#[derive(Clone, Copy)]
pub struct Crosshair(RwSignal<Option<(String, f64)>>);

impl Crosshair {
    pub fn new() -> Crosshair {
        Crosshair(RwSignal::new(None))
    }

    /// The hovered bucket of a chart of `n` buckets, in whichever chart.
    fn bucket(self, n: usize) -> Option<usize> {
        self.0.with(|h| {
            h.as_ref()
                .map(|(_, f)| ((f * n as f64) as usize).min(n.saturating_sub(1)))
        })
    }

    /// The hovered bucket when the pointer is over the chart named `key`.
    fn bucket_in(self, key: &str, n: usize) -> Option<usize> {
        let here = self.0.with(|h| h.as_ref().is_some_and(|(k, _)| k == key));
        if here { self.bucket(n) } else { None }
    }

    /// Handlers for the plot area of the chart named `key`.
    fn handlers(
        self,
        key: String,
    ) -> (
        impl Fn(web_sys::MouseEvent) + 'static,
        impl Fn(web_sys::MouseEvent) + 'static,
    ) {
        let signal = self.0;
        let moved = move |ev: web_sys::MouseEvent| {
            // Events are delegated, so find the plot area from the target.
            let Some(el) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|t| t.closest(".plotarea").ok().flatten())
            else {
                return;
            };
            let r = el.get_bounding_client_rect();
            if r.width() > 0.0 {
                let f = ((f64::from(ev.client_x()) - r.left()) / r.width()).clamp(0.0, 0.9999);
                signal.set(Some((key.clone(), f)));
            }
        };
        let left = move |_| signal.set(None);
        (moved, left)
    }
}

impl Default for Crosshair {
    fn default() -> Self {
        Crosshair::new()
    }
}

/// Gridlines and their labels for a value axis.
pub(crate) fn grid(
    ticks: &[f64],
    top: f64,
    n: usize,
    label: impl Fn(f64) -> String,
) -> (AnyView, AnyView) {
    let lines = ticks
        .iter()
        .map(|&v| {
            let y = y_of(v, top);
            view! {
                <line class="grid" x1="0" x2=n.to_string() y1=format!("{y:.3}") y2=format!("{y:.3}")
                    vector-effect="non-scaling-stroke"></line>
            }
        })
        .collect_view()
        .into_any();
    let labels = ticks
        .iter()
        .map(|&v| {
            let y = y_of(v, top);
            view! { <span class="ylabel" style=format!("top:{y:.2}%")>{label(v)}</span> }
        })
        .collect_view()
        .into_any();
    (lines, labels)
}

/// Time labels under a chart: about `count` of them, on bucket boundaries.
pub(crate) fn time_axis(times: &[f64], step_ms: f64, count: usize) -> AnyView {
    let n = times.len();
    if n == 0 {
        return view! { <div class="xaxis"></div> }.into_any();
    }
    let span = step_ms * n as f64;
    let every = n.div_ceil(count.max(1)).max(1);
    let labels = (0..n)
        .step_by(every)
        .skip(1)
        .map(|i| {
            let pct = i as f64 / n as f64 * 100.0;
            view! {
                <span class="xlabel" style=format!("left:{pct:.2}%")>{time::axis_label(times[i], span)}</span>
            }
        })
        .collect_view();
    view! { <div class="xaxis">{labels}</div> }.into_any()
}

/// Log volume over time, stacked by level, with a tooltip per bucket.
#[component]
pub fn VolumeChart(
    buckets: Vec<Bucket>,
    step_secs: i64,
    #[prop(optional)] crosshair: Option<Crosshair>,
) -> impl IntoView {
    let n = buckets.len().max(1);
    let max = buckets.iter().map(|b| b.total).max().unwrap_or(0) as f64;
    let (top, ticks) = stats::axis(max.max(4.0));
    let (grid_lines, grid_labels) = grid(&ticks, top, n, stats::compact);
    let step_ms = step_secs as f64 * 1000.0;
    let times: Vec<f64> = buckets.iter().map(|b| b.t).collect();
    let cross = crosshair.unwrap_or_default();

    let bars = buckets
        .iter()
        .enumerate()
        .flat_map(|(i, b)| {
            let mut base = 0u64;
            let mut rects = Vec::new();
            for (level, &count) in LEVELS.iter().zip(b.counts.iter()) {
                if count == 0 {
                    continue;
                }
                let y_top = y_of((base + count) as f64, top);
                let y_bottom = y_of(base as f64, top);
                base += count;
                rects.push(view! {
                    <rect class=format!("bar fill-{level}") x=format!("{:.3}", i as f64 + 0.1) width="0.8"
                        y=format!("{y_top:.3}") height=format!("{:.3}", (y_bottom - y_top).max(0.0))
                        data-level=*level data-count=count.to_string() data-ts=format!("{}", b.t as i64)></rect>
                });
            }
            rects
        })
        .collect_view();

    let tip_buckets = buckets.clone();
    let tooltip = move || {
        let i = cross.bucket_in("volume", n)?;
        let b = tip_buckets.get(i)?;
        let pct = (i as f64 + 0.5) / n as f64 * 100.0;
        let rows = LEVELS
            .iter()
            .zip(b.counts.iter())
            .rev()
            .filter(|(_, c)| **c > 0)
            .map(|(level, c)| {
                view! {
                    <div class="tiprow"><span class=format!("dot bg-{level}")></span>
                    <span>{*level}</span><b>{stats::thousands(*c)}</b></div>
                }
            })
            .collect_view();
        Some(view! {
            <div class="tooltip" style=tooltip_style(pct)>
                <div class="tiptitle">{time::clock(b.t, true)}" – "{time::clock(b.t + step_ms, true)}</div>
                <div class="tiprow"><span></span><span>"Total"</span><b>{stats::thousands(b.total)}</b></div>
                {rows}
            </div>
        })
    };
    let highlight = move || {
        cross.bucket(n).map(|i| {
            view! { <rect class="hoverband" x=i.to_string() y="0" width="1" height="100"></rect> }
        })
    };

    let (on_move, on_leave) = cross.handlers("volume".to_owned());
    view! {
        <div class="chart" data-chart="volume" data-buckets=buckets.len().to_string()>
            <div class="plot tall">
                <div class="yaxis">{grid_labels}</div>
                <div class="plotarea" on:mousemove=on_move on:mouseleave=on_leave>
                    <svg viewBox=format!("0 0 {n} 100") preserveAspectRatio="none" role="img"
                        aria-label="Log volume over time, stacked by level">
                        {grid_lines}
                        {highlight}
                        {bars}
                    </svg>
                    {tooltip}
                </div>
            </div>
            {time_axis(&times, step_ms, 6)}
        </div>
    }
}

/// An anomaly drawn on a time chart: a shaded span plus a flag linking to it.
fn anomaly_marks(anomalies: &[Anomaly], from: f64, to: f64, n: usize) -> (AnyView, AnyView) {
    let visible: Vec<&Anomaly> = anomalies
        .iter()
        .filter(|a| a.end_ms() >= from && a.start_ms() <= to)
        .collect();
    let spans = visible
        .iter()
        .map(|a| {
            let x0 = pct_of(a.start_ms(), from, to) / 100.0 * n as f64;
            let x1 = (pct_of(a.end_ms(), from, to) / 100.0 * n as f64).max(x0 + 0.6);
            view! {
                <rect class=format!("anomalyspan sev-{}", a.severity) x=format!("{x0:.3}") y="0"
                    width=format!("{:.3}", x1 - x0) height="100" data-anomaly-id=a.id.clone()></rect>
            }
        })
        .collect_view()
        .into_any();
    let mut placed: Vec<f64> = Vec::new();
    let flags = visible
        .iter()
        .map(|a| {
            let pct = pct_of(a.start_ms(), from, to);
            // Markers close to one another stack downwards instead of overlapping.
            let row = placed.iter().filter(|p| (pct - **p).abs() < 9.0).count();
            placed.push(pct);
            let anchor = if pct > 88.0 { "right" } else { "left" };
            let title = format!("{} {} ({}): {}", a.kind, a.service, a.severity, a.message);
            view! {
                <a class=format!("marker {anchor} sev-{}", a.severity) href=format!("#/anomalies/{}", a.id)
                    style=format!("left:{pct:.2}%;top:{}px", row * 19) title=title data-anomaly-id=a.id.clone()>
                    <span class="markerlabel">{a.kind.clone()}</span>
                </a>
            }
        })
        .collect_view()
        .into_any();
    (spans, flags)
}

/// Events a rate point needs (over its trailing minute) to be drawn.
const MIN_RATE_EVENTS: u64 = 3;

/// One service's error rate over time with its expected band (moving average
/// of the previous buckets +- k deviations) and its anomalies. `buckets` may
/// start before `from` (see [`band_history_ms`]): those only feed the band.
#[component]
pub fn RateChart(
    service: String,
    buckets: Vec<Bucket>,
    step_secs: i64,
    from: f64,
    to: f64,
    anomalies: Vec<Anomaly>,
    #[prop(optional)] crosshair: Option<Crosshair>,
) -> impl IntoView {
    let step_ms = step_secs as f64 * 1000.0;
    // The rate over the trailing minute at each bucket: ratios of a handful of
    // events per 10 s would jump between 0% and 100%.
    let smooth = usize::try_from((60 + step_secs - 1) / step_secs.max(1)).unwrap_or(1);
    let pairs: Vec<(u64, u64)> = buckets.iter().map(|b| (b.errors(), b.total)).collect();
    let sums = stats::trailing_sums(&pairs, smooth);
    // A ratio of one or two events says nothing; leave a gap instead.
    let rates: Vec<Option<f64>> = stats::ratios(sums.iter().copied())
        .into_iter()
        .zip(sums.iter())
        .map(|(r, (_, total))| r.filter(|_| *total >= MIN_RATE_EVENTS))
        .collect();
    let cfg = band_config(step_secs);
    let bands = stats::bands(&rates, &cfg);
    // Buckets before the range only feed the band and the trailing minute.
    let first = (from / step_ms).floor() * step_ms;
    let skip = buckets.iter().position(|b| b.t >= first - 1.0).unwrap_or(0);
    let buckets = buckets[skip..].to_vec();
    let sums = sums[skip..].to_vec();
    let rates = rates[skip..].to_vec();
    let bands = bands[skip..].to_vec();
    let n = buckets.len().max(1);
    let chart_from = buckets.first().map_or(from, |b| b.t);
    let chart_to = chart_from + step_ms * n as f64;
    let peak = rates
        .iter()
        .flatten()
        .copied()
        .chain(bands.iter().flatten().map(|b| b.high))
        .fold(0.0f64, f64::max);
    let (top, ticks) = stats::axis((peak * 1.05).clamp(0.02, 1.0));
    let top = top.min(1.0);
    let ticks: Vec<f64> = ticks.into_iter().filter(|t| *t <= top + 1e-9).collect();
    let (grid_lines, grid_labels) = grid(&ticks, top, n, stats::percent);
    let times: Vec<f64> = buckets.iter().map(|b| b.t).collect();
    let total: u64 = buckets.iter().map(|b| b.total).sum();
    let errors: u64 = buckets.iter().map(Bucket::errors).sum();
    let (spans, flags) = anomaly_marks(&anomalies, chart_from, chart_to, n);
    let cross = crosshair.unwrap_or_default();

    // Band: one closed path per run of buckets that have a band.
    let mut band_paths = Vec::new();
    let mut run: Vec<(usize, Band)> = Vec::new();
    for (i, b) in bands.iter().enumerate() {
        match b {
            Some(b) => run.push((i, *b)),
            None => flush_band(&mut run, &mut band_paths, top),
        }
    }
    flush_band(&mut run, &mut band_paths, top);
    let mean_line = line_path(
        bands.iter().map(|b| b.map(|b| b.mean)).collect::<Vec<_>>(),
        top,
    );
    let rate_line = line_path(rates.clone(), top);
    let breaches = rates
        .iter()
        .zip(bands.iter())
        .enumerate()
        .filter_map(|(i, (r, b))| match (r, b) {
            (Some(r), Some(b)) if *r > b.high => Some(view! {
                <rect class="breach" x=i.to_string() y="0" width="1" height="100"
                    data-ts=format!("{}", buckets[i].t as i64)></rect>
            }),
            _ => None,
        })
        .collect_view();
    let tip = buckets.clone();
    let chart_key = format!("rate:{service}");
    let window_label = if smooth > 1 {
        "Errors / events, last min".to_owned()
    } else {
        "Errors / events".to_owned()
    };
    let tooltip = move || {
        let i = cross.bucket_in(&chart_key, n)?;
        let b = tip.get(i)?;
        let pct = (i as f64 + 0.5) / n as f64 * 100.0;
        let rate = rates.get(i).copied().flatten();
        let band = bands.get(i).copied().flatten();
        Some(view! {
            <div class="tooltip" style=tooltip_style(pct)>
                <div class="tiptitle">{time::clock(b.t, true)}" – "{time::clock(b.t + step_ms, true)}</div>
                <div class="tiprow"><span class="dot bg-ERROR"></span><span>"Error rate"</span>
                    <b>{rate.map_or_else(|| "no events".to_owned(), stats::percent)}</b></div>
                <div class="tiprow"><span></span><span>{window_label.clone()}</span>
                    <b>{format!("{} / {}", stats::thousands(sums[i].0), stats::thousands(sums[i].1))}</b></div>
                <div class="tiprow"><span class="dot band"></span><span>"Expected"</span>
                    <b>{band.map_or_else(|| "warming up".to_owned(), |b| format!("{} – {}", stats::percent(b.low), stats::percent(b.high)))}</b></div>
            </div>
        })
    };
    let highlight = move || {
        cross.bucket(n).map(|i| {
            view! { <rect class="hoverband" x=i.to_string() y="0" width="1" height="100"></rect> }
        })
    };
    let overall = if total > 0 {
        errors as f64 / total as f64
    } else {
        0.0
    };
    let anomaly_count = anomalies
        .iter()
        .filter(|a| a.end_ms() >= from && a.start_ms() <= to)
        .count();

    let (on_move, on_leave) = cross.handlers(format!("rate:{service}"));
    view! {
        <div class="chart ratechart" data-chart="error-rate" data-service=service.clone()
            data-errors=errors.to_string() data-total=total.to_string()>
            <div class="charthead">
                <span class="svcname">{service.clone()}</span>
                <span class="muted">{format!("{} errors", stats::percent(overall))}</span>
                {(anomaly_count > 0).then(|| view! {
                    <span class="pill sev-high">{format!("{anomaly_count} anomal{}", if anomaly_count == 1 { "y" } else { "ies" })}</span>
                })}
            </div>
            <div class="plot short">
                <div class="yaxis">{grid_labels}</div>
                <div class="plotarea" on:mousemove=on_move on:mouseleave=on_leave>
                    <svg viewBox=format!("0 0 {n} 100") preserveAspectRatio="none" role="img"
                        aria-label=format!("Error rate of {service} with its expected band")>
                        {grid_lines}
                        {spans}
                        {breaches}
                        {band_paths}
                        <path class="bandmean" d=mean_line vector-effect="non-scaling-stroke"></path>
                        {highlight}
                        <path class="rateline" d=rate_line vector-effect="non-scaling-stroke"></path>
                    </svg>
                    {flags}
                    {tooltip}
                </div>
            </div>
            {time_axis(&times, step_ms, 4)}
        </div>
    }
}

/// The band of a rate chart: the previous 10 minutes (at least 12 buckets),
/// drawn once a fifth of that history exists.
pub fn band_config(step_secs: i64) -> BandConfig {
    let window = usize::try_from((600 + step_secs - 1) / step_secs.max(1))
        .unwrap_or(12)
        .max(12);
    BandConfig {
        window,
        min_points: (window / 5).max(4),
        ..BandConfig::default()
    }
}

/// How much history before the range a rate chart wants, so its band and its
/// trailing minute are complete from the left edge.
pub fn band_history_ms(step_secs: i64) -> f64 {
    (band_config(step_secs).window as f64 * step_secs as f64 + 60.0) * 1000.0
}

fn flush_band(run: &mut Vec<(usize, Band)>, out: &mut Vec<AnyView>, top: f64) {
    if run.is_empty() {
        return;
    }
    let mut d = String::new();
    for (j, (i, b)) in run.iter().enumerate() {
        let cmd = if j == 0 { 'M' } else { 'L' };
        d.push_str(&format!(
            "{cmd}{:.3} {:.3} ",
            *i as f64 + 0.5,
            y_of(b.high, top)
        ));
    }
    for (i, b) in run.iter().rev() {
        d.push_str(&format!("L{:.3} {:.3} ", *i as f64 + 0.5, y_of(b.low, top)));
    }
    d.push('Z');
    out.push(view! { <path class="band" d=d></path> }.into_any());
    run.clear();
}

/// An SVG path through bucket centres, broken where a value is missing.
fn line_path(values: Vec<Option<f64>>, top: f64) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                let cmd = if pen_down { 'L' } else { 'M' };
                d.push_str(&format!("{cmd}{:.3} {:.3} ", i as f64 + 0.5, y_of(*v, top)));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d
}

/// The series around an anomaly: events per bucket with the errors among
/// them, the anomaly's window shaded.
#[component]
pub fn WindowChart(
    points: Vec<SeriesPoint>,
    step_secs: i64,
    anomaly: Anomaly,
    #[prop(optional)] crosshair: Option<Crosshair>,
) -> impl IntoView {
    let n = points.len().max(1);
    let times: Vec<f64> = points.iter().map(|p| time::parse_ms(&p.ts)).collect();
    let step_ms = step_secs as f64 * 1000.0;
    let from = times.first().copied().unwrap_or(0.0);
    let to = from + step_ms * n as f64;
    let max = points.iter().map(|p| p.total).max().unwrap_or(0) as f64;
    let (top, ticks) = stats::axis(max.max(4.0));
    let (grid_lines, grid_labels) = grid(&ticks, top, n, stats::compact);
    let cross = crosshair.unwrap_or_default();
    let (spans, _) = anomaly_marks(std::slice::from_ref(&anomaly), from, to, n);

    let bars = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let y_total = y_of(p.total as f64, top);
            let y_err = y_of(p.errors as f64, top);
            view! {
                <rect class="bar fill-total" x=format!("{:.3}", i as f64 + 0.1) width="0.8"
                    y=format!("{y_total:.3}") height=format!("{:.3}", 100.0 - y_total)
                    data-total=p.total.to_string() data-ts=format!("{}", times[i] as i64)></rect>
                <rect class="bar fill-ERROR" x=format!("{:.3}", i as f64 + 0.1) width="0.8"
                    y=format!("{y_err:.3}") height=format!("{:.3}", 100.0 - y_err)
                    data-errors=p.errors.to_string()></rect>
            }
        })
        .collect_view();
    let tip_points = points.clone();
    let tip_times = times.clone();
    let tooltip = move || {
        let i = cross.bucket_in("window", n)?;
        let p = tip_points.get(i)?;
        let t = tip_times.get(i).copied()?;
        let pct = (i as f64 + 0.5) / n as f64 * 100.0;
        Some(view! {
            <div class="tooltip" style=tooltip_style(pct)>
                <div class="tiptitle">{time::clock(t, true)}" – "{time::clock(t + step_ms, true)}</div>
                <div class="tiprow"><span class="dot bg-total"></span><span>"Events"</span><b>{stats::thousands(p.total)}</b></div>
                <div class="tiprow"><span class="dot bg-ERROR"></span><span>"Errors"</span><b>{stats::thousands(p.errors)}</b></div>
            </div>
        })
    };
    let highlight = move || {
        cross.bucket(n).map(|i| {
            view! { <rect class="hoverband" x=i.to_string() y="0" width="1" height="100"></rect> }
        })
    };

    let (on_move, on_leave) = cross.handlers("window".to_owned());
    view! {
        <div class="chart" data-chart="window" data-points=points.len().to_string()>
            <div class="plot tall">
                <div class="yaxis">{grid_labels}</div>
                <div class="plotarea" on:mousemove=on_move on:mouseleave=on_leave>
                    <svg viewBox=format!("0 0 {n} 100") preserveAspectRatio="none" role="img"
                        aria-label="Events and errors around the anomaly">
                        {grid_lines}
                        {spans}
                        {highlight}
                        {bars}
                    </svg>
                    {tooltip}
                </div>
            </div>
            {time_axis(&times, step_ms, 6)}
        </div>
    }
}

/// Share of each level in a total, as one stacked bar with a legend.
#[component]
pub fn LevelBar(counts: [u64; 6]) -> impl IntoView {
    let total: u64 = counts.iter().sum();
    let segments = LEVELS
        .iter()
        .zip(counts.iter())
        .filter(|(_, c)| **c > 0)
        .map(|(level, &c)| {
            let pct = c as f64 / total.max(1) as f64 * 100.0;
            view! {
                <span class=format!("part bg-{level}") style=format!("width:{pct:.3}%")
                    title=format!("{level}: {}", stats::thousands(c))
                    data-level=*level data-count=c.to_string()></span>
            }
        })
        .collect_view();
    let legend = LEVELS
        .iter()
        .zip(counts.iter())
        .rev()
        .map(|(level, &c)| {
            view! {
                <div class="legenditem" data-level=*level data-count=c.to_string()>
                    <span class=format!("dot bg-{level}")></span>
                    <span class="legendname">{*level}</span>
                    <b>{stats::thousands(c)}</b>
                    <span class="muted">{stats::percent(c as f64 / total.max(1) as f64)}</span>
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="levelbar" data-chart="levels">
            <div class="stackbar">{segments}</div>
            <div class="legend">{legend}</div>
        </div>
    }
}

/// Events per service, each bar split by level, longest first.
#[component]
pub fn ServiceBars(services: Vec<crate::api::ServiceShare>) -> impl IntoView {
    let max = services.iter().map(|s| s.total).max().unwrap_or(0).max(1);
    let rows = services
        .into_iter()
        .map(|s| {
            let width = s.total as f64 / max as f64 * 100.0;
            let segments = LEVELS
                .iter()
                .zip(s.counts.iter())
                .filter(|(_, c)| **c > 0)
                .map(|(level, &c)| {
                    let pct = c as f64 / s.total.max(1) as f64 * 100.0;
                    view! {
                        <span class=format!("part bg-{level}") style=format!("width:{pct:.3}%")
                            title=format!("{}: {level} {}", s.service, stats::thousands(c))
                            data-level=*level data-count=c.to_string()></span>
                    }
                })
                .collect_view();
            let rate = s.errors as f64 / s.total.max(1) as f64;
            let tail = format!("#/tail?service={}", String::from(js_sys::encode_uri_component(&s.service)));
            view! {
                <a class="svcrow" href=tail data-service=s.service.clone() data-total=s.total.to_string()
                    data-errors=s.errors.to_string()>
                    <span class="svcname">{s.service.clone()}</span>
                    <span class="svcbar"><span class="stackbar" style=format!("width:{width:.3}%")>{segments}</span></span>
                    <span class="svcnum">{stats::compact(s.total as f64)}</span>
                    <span class={if rate >= 0.05 { "svcerr hot" } else { "svcerr" }}>{stats::percent(rate)}</span>
                </a>
            }
        })
        .collect_view();
    view! {
        <div class="svcbars" data-chart="services">
            <div class="svcrow svchead"><span>"Service"</span><span>"Events by level"</span><span>"Events"</span><span>"Errors"</span></div>
            {rows}
        </div>
    }
}
