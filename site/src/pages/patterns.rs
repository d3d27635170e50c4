//! The Patterns pages: the log patterns of every service (template, lines in
//! the range with a per-step sparkline, level mix, first and last seen, new
//! ones marked), sortable by count and by recency; one pattern's page (its
//! rate over time, examples, newest lines, a link to the tail filtered by
//! it); and the anomaly page's list of the patterns that changed.

use std::collections::HashSet;
use std::time::Duration;

use leptos::prelude::*;

use crate::api::{PatternChange, SeriesPoint};
use crate::app::use_ctx;
use crate::charts::{LevelBar, grid, time_axis, y_of};
use crate::pages::patterns_api::{self, Pattern, PatternDetail, PatternLevels, PatternPoint};
use crate::pages::{Back, ErrorBanner, Loading, LogList, detail_state};
use crate::stats;
use crate::time;

/// The way back to the list, from a detail page.
const BACK: Back = Back {
    href: "#/patterns",
    label: "← All patterns",
    heading: "Pattern",
};

/// The order of the pattern table.
#[derive(Clone, Copy, Debug, PartialEq)]
enum SortBy {
    /// Most lines in the range first.
    Count,
    /// Most recently first seen first.
    FirstSeen,
    /// Most recently seen first.
    LastSeen,
}

impl SortBy {
    const ALL: [(SortBy, &'static str, &'static str); 3] = [
        (SortBy::Count, "count", "Most lines"),
        (SortBy::FirstSeen, "first_seen", "Newest"),
        (SortBy::LastSeen, "last_seen", "Latest"),
    ];
}

/// `items` in the chosen order; ties by count, then id, so the order is stable.
fn sorted(mut items: Vec<Pattern>, by: SortBy) -> Vec<Pattern> {
    let key = |p: &Pattern| match by {
        SortBy::Count => 0.0,
        SortBy::FirstSeen => time::parse_ms(&p.first_seen),
        SortBy::LastSeen => time::parse_ms(&p.last_seen),
    };
    items.sort_by(|a, b| {
        key(b)
            .total_cmp(&key(a))
            .then(b.count.cmp(&a.count))
            .then(a.id.cmp(&b.id))
    });
    items
}

fn pattern_href(id: &str) -> String {
    format!(
        "#/patterns/{}",
        String::from(js_sys::encode_uri_component(id))
    )
}

/// A template with its variable parts (`<*>`) set apart.
fn template_view(template: &str) -> AnyView {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find("<*>") {
        parts.push(rest[..at].to_owned().into_any());
        parts.push(view! { <span class="pvar">"<*>"</span> }.into_any());
        rest = &rest[at + 3..];
    }
    parts.push(rest.to_owned().into_any());
    view! { <code class="ptemplate" data-testid="template">{parts}</code> }.into_any()
}

#[component]
pub fn PatternList() -> impl IntoView {
    let ctx = use_ctx();
    let service = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let typed = RwSignal::new(String::new());
    let sort = RwSignal::new(SortBy::Count);
    let list = LocalResource::new(move || {
        let service = service.get();
        let text = text.get();
        let (from, to) = ctx.range.get().window();
        ctx.tick.track();
        let base = ctx.base();
        async move { patterns_api::patterns(&base, &service, &text, from, to).await }
    });
    // Typing filters after a short pause, not on every key.
    let debounce = StoredValue::new(None::<TimeoutHandle>);
    let on_text = move |value: String| {
        typed.set(value.clone());
        if let Some(h) = debounce.get_value() {
            h.clear();
        }
        let handle =
            set_timeout_with_handle(move || text.set(value.clone()), Duration::from_millis(300));
        debounce.set_value(handle.ok());
    };
    let service_options = move || {
        ctx.services
            .get()
            .and_then(Result::ok)
            .unwrap_or_default()
            .into_iter()
            .map(|s| view! { <option value=s.clone() selected=service.get_untracked() == s>{s.clone()}</option> })
            .collect_view()
    };
    let sort_buttons = SortBy::ALL
        .into_iter()
        .map(|(by, key, label)| {
            view! {
                <button class={move || if sort.get() == by { "seg active" } else { "seg" }}
                    aria-pressed=move || (sort.get() == by).to_string()
                    data-sort=key on:click=move |_| sort.set(by)>{label}</button>
            }
        })
        .collect_view();
    let body = move || match list.get() {
        None => view! { <Loading what="patterns"/> }.into_any(),
        Some(Err(e)) => view! { <ErrorBanner message=e/> }.into_any(),
        Some(Ok(items)) => {
            let lines: u64 = items.iter().map(|p| p.count).sum();
            let new = items.iter().filter(|p| p.new).count();
            let summary = format!(
                "{} patterns ({new} new), {} lines, {}",
                items.len(),
                stats::thousands(lines),
                ctx.range.get_untracked().label()
            );
            view! {
                <div class="muted small summaryline" data-testid="patterns-summary">{summary}</div>
                <PatternTable items=sorted(items, sort.get())/>
            }
            .into_any()
        }
    };
    view! {
        <section class="card">
            <h1>"Patterns"</h1>
            <p class="muted small">"Log lines grouped by message template; variable parts shown as "
                <code>"<*>"</code>". New: first seen in the chosen range."</p>
            <div class="filters">
                <label class="field">
                    <span>"Service"</span>
                    <select data-testid="pattern-service" on:change=move |ev| service.set(event_target_value(&ev))>
                        <option value="">"All services"</option>
                        {service_options}
                    </select>
                </label>
                <label class="field grow">
                    <span>"Search"</span>
                    <input type="search" placeholder="text in the template" data-testid="pattern-text"
                        prop:value=move || typed.get()
                        on:input=move |ev| on_text(event_target_value(&ev))/>
                </label>
                <div class="field">
                    <span id="pattern-sort-label">"Sort"</span>
                    <div class="segmented" role="group" aria-labelledby="pattern-sort-label">{sort_buttons}</div>
                </div>
            </div>
            {body}
        </section>
    }
}

/// The pattern table, one row per pattern.
#[component]
fn PatternTable(items: Vec<Pattern>) -> impl IntoView {
    if items.is_empty() {
        return view! {
            <div class="empty" data-testid="no-patterns">"No patterns in this range: no lines were mined yet."</div>
        }
        .into_any();
    }
    let rows = items
        .into_iter()
        .map(|p| {
            let first = time::parse_ms(&p.first_seen);
            let last = time::parse_ms(&p.last_seen);
            view! {
                <tr class="prow" data-pattern-id=p.id.clone() data-count=p.count.to_string()
                    data-new=p.new.to_string() data-service=p.service.clone()>
                    <td class="pcell">
                        <a href=pattern_href(&p.id) class="plink">{template_view(&p.template)}</a>
                        {p.new.then(|| view! { <span class="pill newpill" data-testid="new">"new"</span> })}
                        {p.example.clone().map(|e| view! { <div class="pexample">{e}</div> })}
                    </td>
                    <td class="psvc" data-label="Service">{p.service.clone()}</td>
                    <td class="pnum" data-label="Lines">
                        <b data-testid="count">{stats::thousands(p.count)}</b>
                        <small>{format!("{} in all", stats::compact(p.total as f64))}</small>
                    </td>
                    <td class="pspark" data-label="Rate"><Sparkline values=p.trend.clone() step_secs=p.trend_step_secs/></td>
                    <td class="plevels" data-label="Levels"><LevelMix levels=p.levels.clone()/></td>
                    <td class="pwhen" data-label="First seen" title=time::full(first)>{time::ago(first)}</td>
                    <td class="pwhen" data-label="Last seen" title=time::full(last)>{time::ago(last)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="ptable" data-testid="patterns">
            <thead>
                <tr>
                    <th scope="col">"Pattern"</th>
                    <th scope="col">"Service"</th>
                    <th scope="col" class="pnum">"Lines"</th>
                    <th scope="col">"Rate"</th>
                    <th scope="col">"Levels"</th>
                    <th scope="col">"First seen"</th>
                    <th scope="col">"Last seen"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// Lines per step as small bars, for a table cell.
#[component]
fn Sparkline(values: Vec<u64>, step_secs: i64) -> impl IntoView {
    let n = values.len().max(1);
    let peak = values.iter().copied().max().unwrap_or(0);
    let top = peak.max(1) as f64;
    let bars = values
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0)
        .map(|(i, &v)| {
            // At least a sliver, so one line in a long range still shows.
            let h = (v as f64 / top * 100.0).max(8.0);
            view! {
                <rect class="sparkbar" x=format!("{:.2}", i as f64 + 0.1) width="0.8"
                    y=format!("{:.2}", 100.0 - h) height=format!("{h:.2}") data-count=v.to_string()></rect>
            }
        })
        .collect_view();
    let label = format!(
        "{} lines per {}, peak {}",
        stats::thousands(values.iter().sum()),
        time::duration(step_secs as f64 * 1000.0),
        stats::thousands(peak)
    );
    view! {
        <svg class="sparkline" viewBox=format!("0 0 {n} 100") preserveAspectRatio="none" role="img"
            aria-label=label data-chart="sparkline">
            <line class="sparkbase" x1="0" x2=n.to_string() y1="100" y2="100" vector-effect="non-scaling-stroke"></line>
            {bars}
        </svg>
    }
}

/// The level mix of a pattern as one small stacked bar with its numbers for
/// screen readers.
#[component]
fn LevelMix(levels: PatternLevels) -> impl IntoView {
    let counts = levels.counts();
    let total: u64 = counts.iter().sum();
    let described: Vec<String> = crate::api::LEVELS
        .iter()
        .zip(counts)
        .rev()
        .filter(|(_, c)| *c > 0)
        .map(|(l, c)| format!("{l} {}", stats::thousands(c)))
        .collect();
    let segments = crate::api::LEVELS
        .iter()
        .zip(counts)
        .filter(|(_, c)| *c > 0)
        .map(|(level, c)| {
            let pct = c as f64 / total.max(1) as f64 * 100.0;
            view! {
                <span class=format!("part bg-{level}") style=format!("width:{pct:.3}%")
                    data-level=*level data-count=c.to_string()></span>
            }
        })
        .collect_view();
    let top = levels.highest().unwrap_or("INFO");
    view! {
        <span class="levelmix" title=described.join(", ")>
            <span class="stackbar" aria-hidden="true">{segments}</span>
            <span class=format!("lvltext lvl-{top}")>{if described.is_empty() { "–".to_owned() } else { described.join(", ") }}</span>
        </span>
    }
}

#[component]
pub fn PatternPage(id: String) -> impl IntoView {
    let ctx = use_ctx();
    let detail = LocalResource::new(move || {
        let (from, to) = ctx.range.get().window();
        ctx.tick.track();
        let base = ctx.base();
        let id = id.clone();
        async move { patterns_api::pattern_detail(&base, &id, from, to).await }
    });
    move || {
        detail_state(detail.get(), "pattern", BACK, |d| {
            view! { <PatternBody detail=d/> }.into_any()
        })
    }
}

#[component]
fn PatternBody(detail: PatternDetail) -> impl IntoView {
    let ctx = use_ctx();
    let PatternDetail {
        pattern: p,
        step_secs,
        series,
        examples,
        merged,
        logs,
    } = detail;
    let expanded = RwSignal::new(HashSet::<String>::new());
    let first = time::parse_ms(&p.first_seen);
    let last = time::parse_ms(&p.last_seen);
    let tail_link = format!(
        "#/tail?service={}&pattern={}",
        String::from(js_sys::encode_uri_component(&p.service)),
        String::from(js_sys::encode_uri_component(&p.id)),
    );
    let example_rows = examples
        .into_iter()
        .map(|e| view! { <li class="logmsg">{e}</li> })
        .collect_view();
    view! {
        <div class="detail" data-testid="pattern-detail" data-pattern-id=p.id.clone()>
            {BACK.view()}
            <section class="card detailhead">
                <div class="titlerow">
                    <h1 class="ptitle">{template_view(&p.template)}</h1>
                    {p.new.then(|| view! { <span class="pill newpill" data-testid="new">"new"</span> })}
                </div>
                <p class="muted small">{format!("Pattern {} of ", p.id)}<span class="svcname">{p.service.clone()}</span></p>
                <div class="numbers">
                    <div class="number"><span>"Lines"</span><b data-testid="pattern-count">{stats::thousands(p.count)}</b>
                        <small>{ctx.range.get_untracked().label()}</small></div>
                    <div class="number"><span>"In all"</span><b data-testid="pattern-total">{stats::thousands(p.total)}</b>
                        <small>"since first seen"</small></div>
                    <div class="number"><span>"First seen"</span><b>{time::ago(first)}</b><small>{time::full(first)}</small></div>
                    <div class="number"><span>"Last seen"</span><b>{time::ago(last)}</b><small>{time::full(last)}</small></div>
                </div>
                <LevelBar counts=p.levels.counts()/>
            </section>
            <section class="card">
                <div class="cardhead"><h2>"Rate over time"</h2>
                    <span class="muted">{format!("lines per {}", time::duration(step_secs as f64 * 1000.0))}</span></div>
                <PatternRateChart points=series step_secs=step_secs/>
            </section>
            <section class="card">
                <div class="cardhead"><h2>"Examples"</h2><span class="muted">"as first seen"</span></div>
                <ul class="pexamples" data-testid="examples">{example_rows}</ul>
                {(!merged.is_empty()).then(|| view! {
                    <p class="muted small" data-testid="merged">{format!("Merged into this pattern: {}", merged.join(", "))}</p>
                })}
            </section>
            <section class="card">
                <div class="cardhead"><h2>"Newest lines"</h2>
                    <a class="more" href=tail_link data-testid="tail-link">"all its lines in the live tail →"</a></div>
                <LogList logs=logs testid="pattern-logs" empty="No lines of this pattern in this range." expanded=expanded/>
            </section>
        </div>
    }
}

/// A pattern's lines per step as bars with a count axis.
#[component]
fn PatternRateChart(points: Vec<PatternPoint>, step_secs: i64) -> impl IntoView {
    let n = points.len().max(1);
    let times: Vec<f64> = points.iter().map(|p| time::parse_ms(&p.ts)).collect();
    let step_ms = step_secs as f64 * 1000.0;
    let max = points.iter().map(|p| p.count).max().unwrap_or(0) as f64;
    let (top, ticks) = stats::axis(max.max(4.0));
    let (grid_lines, grid_labels) = grid(&ticks, top, n, stats::compact);
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let y = y_of(p.count as f64, top);
            view! {
                <rect class="bar fill-accent" x=format!("{:.3}", i as f64 + 0.1) width="0.8"
                    y=format!("{y:.3}") height=format!("{:.3}", 100.0 - y)
                    data-count=p.count.to_string() data-ts=format!("{}", times[i] as i64)>
                    <title>{format!("{}: {}", time::clock(times[i], false), stats::thousands(p.count))}</title>
                </rect>
            }
        })
        .collect_view();
    let total: u64 = points.iter().map(|p| p.count).sum();
    view! {
        <div class="chart" data-chart="pattern-rate" data-points=points.len().to_string()
            data-total=total.to_string()>
            <div class="plot short">
                <div class="yaxis">{grid_labels}</div>
                <div class="plotarea">
                    <svg viewBox=format!("0 0 {n} 100") preserveAspectRatio="none" role="img"
                        aria-label=format!("{} lines of the pattern over the range", stats::thousands(total))>
                        {grid_lines}
                        {bars}
                    </svg>
                </div>
            </div>
            {time_axis(&times, step_ms, 6)}
        </div>
    }
}

/// Events of the service in an anomaly's window widened to whole minutes (as
/// its explanation counts pattern lines per minute), from the series around
/// it; `None` when the series has none there.
pub fn window_total(series: &[SeriesPoint], step_secs: i64, start: f64, end: f64) -> Option<u64> {
    const MINUTE_MS: f64 = 60_000.0;
    let start = (start / MINUTE_MS).floor() * MINUTE_MS;
    let end = ((end / MINUTE_MS).ceil() * MINUTE_MS).max(start + MINUTE_MS);
    let step_ms = step_secs.max(1) as f64 * 1000.0;
    let total: u64 = series
        .iter()
        .filter(|p| {
            let t = time::parse_ms(&p.ts);
            t < end && t + step_ms > start
        })
        .map(|p| p.total)
        .sum();
    (total > 0).then_some(total)
}

/// The patterns whose counts changed most between an anomaly's baseline and
/// its window: before (scaled to the window) → during, share of the service's
/// lines in the window's minutes, new or gone; each links to its pattern.
#[component]
pub fn PatternChanges(changes: Vec<PatternChange>, window_total: Option<u64>) -> impl IntoView {
    let body = if changes.is_empty() {
        view! { <div class="empty" data-testid="no-pattern-changes">"No pattern changed notably in this window."</div> }
            .into_any()
    } else {
        let rows = changes
            .into_iter()
            .map(|c| {
                let gone = c.during == 0 && c.before > 0.0;
                let change = if c.new {
                    view! { <span class="pill newpill">"new"</span> }.into_any()
                } else if gone {
                    view! { <span class="pill gonepill">"gone"</span> }.into_any()
                } else if c.before > 0.0 {
                    format!("{:.1}×", c.during as f64 / c.before).into_any()
                } else {
                    "from none".into_any()
                };
                let share = window_total.map_or_else(
                    || "–".to_owned(),
                    |t| stats::percent((c.during as f64 / t as f64).min(1.0)),
                );
                view! {
                    <tr class="pchange" data-pattern-id=c.pattern.clone() data-before=format!("{:.2}", c.before)
                        data-during=c.during.to_string() data-new=c.new.to_string()>
                        <td class="pcell"><a href=pattern_href(&c.pattern) class="plink">{template_view(&c.template)}</a></td>
                        <td class="pnum" data-label="Before → during">
                            <span data-testid="before">{stats::compact(c.before)}</span>" → "
                            <b data-testid="during">{stats::thousands(c.during)}</b>
                        </td>
                        <td class="pnum" data-label="Share" data-testid="share">{share}</td>
                        <td data-label="Change">{change}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="ptable changes">
                <thead>
                    <tr>
                        <th scope="col">"Pattern"</th>
                        <th scope="col" class="pnum">"Before → during"</th>
                        <th scope="col" class="pnum">"Share of window"</th>
                        <th scope="col">"Change"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="card" data-testid="pattern-changes">
            <div class="cardhead"><h2>"Patterns that changed"</h2>
                <span class="muted">"lines in the baseline (scaled to the window's length) → lines in the window"</span></div>
            {body}
        </section>
    }
}
