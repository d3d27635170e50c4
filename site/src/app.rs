//! The shell: shared state (time range, refresh, theme), hash routing, header.
//!
//! Routes live in the URL fragment (`#/tail?service=x`), so the static files
//! can be hosted anywhere (S3, a CDN, `anomalog up`) without rewrite rules.

use std::time::Duration;

use leptos::prelude::*;

use crate::api::{self, Anomaly, AnomalyFilter, LogFilter};
use crate::pages::{
    AnomalyList, AnomalyPage, IncidentList, IncidentPage, Overview, PatternList, PatternPage, Tail,
};
use crate::time;

/// Which time range the views show.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    /// The last N minutes up to now, moving with each refresh.
    Last(u32),
    /// A fixed window, epoch milliseconds.
    Custom { from: f64, to: f64 },
}

impl Range {
    /// Epoch milliseconds `(from, to)` as of now.
    pub fn window(self) -> (f64, f64) {
        match self {
            Range::Last(minutes) => {
                let to = time::now_ms();
                (to - f64::from(minutes) * 60_000.0, to)
            }
            Range::Custom { from, to } => (from, to),
        }
    }

    pub fn label(self) -> String {
        match self {
            Range::Last(m) if m % 60 == 0 => format!("last {} h", m / 60),
            Range::Last(m) => format!("last {m} min"),
            Range::Custom { from, to } => format!("{} – {}", time::full(from), time::full(to)),
        }
    }
}

/// The quick choices of the range picker.
const PRESETS: [(&str, u32); 4] = [("15m", 15), ("1h", 60), ("6h", 360), ("24h", 1440)];
/// Refresh choices in seconds (0 = off).
const REFRESH: [(u32, &str); 6] = [
    (0, "Off"),
    (2, "2 s"),
    (5, "5 s"),
    (10, "10 s"),
    (30, "30 s"),
    (60, "1 min"),
];

/// A page of the dashboard.
#[derive(Clone, Debug, PartialEq)]
pub enum Route {
    Overview,
    Tail,
    Anomalies,
    Anomaly(String),
    Incidents,
    Incident(String),
    Patterns,
    Pattern(String),
}

impl Route {
    /// The route of a URL fragment; query pairs come back separately.
    fn parse(hash: &str) -> (Route, Vec<(String, String)>) {
        let hash = hash.trim_start_matches('#').trim_start_matches('/');
        let (path, query) = hash.split_once('?').unwrap_or((hash, ""));
        let pairs = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), decode(v)))
            .collect();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let route = match parts.as_slice() {
            ["tail"] => Route::Tail,
            ["anomalies"] => Route::Anomalies,
            ["anomalies", id] => Route::Anomaly(decode(id)),
            ["incidents"] => Route::Incidents,
            ["incidents", id] => Route::Incident(decode(id)),
            ["patterns"] => Route::Patterns,
            ["patterns", id] => Route::Pattern(decode(id)),
            _ => Route::Overview,
        };
        (route, pairs)
    }
}

fn decode(s: &str) -> String {
    js_sys::decode_uri_component(&s.replace('+', " "))
        .map(String::from)
        .unwrap_or_else(|_| s.to_owned())
}

fn current_hash() -> String {
    window().location().hash().unwrap_or_default()
}

/// Dark or light.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Theme {
    Dark,
    Light,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Dark => "dark",
            Theme::Light => "light",
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn load_pref(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

fn save_pref(key: &str, value: &str) {
    if let Some(s) = storage() {
        // Storage can be full or disabled; preferences are a convenience.
        let _ = s.set_item(key, value);
    }
}

fn initial_theme() -> Theme {
    match load_pref("anomalog.theme").as_deref() {
        Some("light") => Theme::Light,
        Some("dark") => Theme::Dark,
        _ => {
            let prefers_light = window()
                .match_media("(prefers-color-scheme: light)")
                .ok()
                .flatten()
                .is_some_and(|m| m.matches());
            if prefers_light {
                Theme::Light
            } else {
                Theme::Dark
            }
        }
    }
}

/// State every page shares; `Copy`, read with [`use_ctx`].
#[derive(Clone, Copy)]
pub struct Ctx {
    base: StoredValue<String>,
    pub range: RwSignal<Range>,
    /// Seconds between refreshes; 0 is off.
    pub refresh_secs: RwSignal<u32>,
    /// Bumped on every refresh; data loaders read it to reload.
    pub tick: RwSignal<u64>,
    pub route: RwSignal<Route>,
    pub theme: RwSignal<Theme>,
    pub tail_filter: RwSignal<LogFilter>,
    /// Open anomalies, for the header badge and the overview.
    pub open_anomalies: LocalResource<Result<Vec<Anomaly>, String>>,
    /// Known service names, for the filters.
    pub services: LocalResource<Result<Vec<String>, String>>,
}

impl Ctx {
    pub fn base(&self) -> String {
        self.base.get_value()
    }
}

/// The shared state.
pub fn use_ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// Applies `#/tail?service=..&level=..&q=..` to the tail filters.
fn apply_query(ctx: &Ctx, route: &Route, pairs: &[(String, String)]) {
    if *route == Route::Tail && !pairs.is_empty() {
        let mut f = LogFilter::default();
        for (k, v) in pairs {
            match k.as_str() {
                "service" => f.service = v.clone(),
                "level" => f.level = v.to_uppercase(),
                "q" => f.text = v.clone(),
                "pattern" => f.pattern = v.clone(),
                _ => {}
            }
        }
        ctx.tail_filter.set(f);
    }
    for (k, v) in pairs {
        if k == "from" {
            let to = pairs
                .iter()
                .find(|(k, _)| k == "to")
                .and_then(|(_, v)| v.parse::<f64>().ok());
            if let (Ok(from), Some(to)) = (v.parse::<f64>(), to) {
                ctx.range.set(Range::Custom { from, to });
            }
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let range = RwSignal::new(
        match load_pref("anomalog.range").and_then(|r| r.parse().ok()) {
            Some(m) if PRESETS.iter().any(|(_, p)| *p == m) => Range::Last(m),
            _ => Range::Last(15),
        },
    );
    let refresh_secs = RwSignal::new(
        load_pref("anomalog.refresh")
            .and_then(|r| r.parse().ok())
            .filter(|r| REFRESH.iter().any(|(s, _)| s == r))
            .unwrap_or(5u32),
    );
    let tick = RwSignal::new(0u64);
    let (route0, pairs0) = Route::parse(&current_hash());
    let route = RwSignal::new(route0.clone());
    let theme = RwSignal::new(initial_theme());
    let base = StoredValue::new(api::api_base());
    let open_anomalies = LocalResource::new(move || {
        tick.track();
        let base = base.get_value();
        async move {
            api::anomalies(
                &base,
                &AnomalyFilter {
                    status: "open".to_owned(),
                    ..AnomalyFilter::default()
                },
            )
            .await
        }
    });
    let services = LocalResource::new(move || {
        tick.track();
        let base = base.get_value();
        async move { api::services(&base).await }
    });
    let ctx = Ctx {
        base,
        range,
        refresh_secs,
        tick,
        route,
        theme,
        tail_filter: RwSignal::new(LogFilter::default()),
        open_anomalies,
        services,
    };
    provide_context(ctx);
    apply_query(&ctx, &route0, &pairs0);

    let hash_listener = window_event_listener(leptos::ev::hashchange, move |_| {
        let (r, pairs) = Route::parse(&current_hash());
        apply_query(&ctx, &r, &pairs);
        route.set(r);
        window().scroll_to_with_x_and_y(0.0, 0.0);
    });
    on_cleanup(move || hash_listener.remove());

    // Theme on <html>, remembered.
    Effect::new(move |_| {
        let t = theme.get();
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-theme", t.as_str());
        }
        save_pref("anomalog.theme", t.as_str());
    });

    // The refresh timer, restarted when the interval changes.
    let timer = StoredValue::new(None::<IntervalHandle>);
    Effect::new(move |_| {
        let secs = refresh_secs.get();
        save_pref("anomalog.refresh", &secs.to_string());
        if let Some(handle) = timer.get_value() {
            handle.clear();
        }
        timer.set_value(None);
        if secs > 0 {
            let handle = set_interval_with_handle(
                move || tick.update(|t| *t += 1),
                Duration::from_secs(u64::from(secs)),
            );
            timer.set_value(handle.ok());
        }
    });

    let page = move || match route.get() {
        Route::Overview => view! { <Overview/> }.into_any(),
        Route::Tail => view! { <Tail/> }.into_any(),
        Route::Anomalies => view! { <AnomalyList/> }.into_any(),
        Route::Anomaly(id) => view! { <AnomalyPage id=id/> }.into_any(),
        Route::Incidents => view! { <IncidentList/> }.into_any(),
        Route::Incident(id) => view! { <IncidentPage id=id/> }.into_any(),
        Route::Patterns => view! { <PatternList/> }.into_any(),
        Route::Pattern(id) => view! { <PatternPage id=id/> }.into_any(),
    };

    view! {
        <Header/>
        <crate::key_prompt::KeyPrompt/>
        <main class="page">{page}</main>
        <footer class="footer">
            <span>"anomalog"</span>
            <span class="muted">{move || format!("showing {}", range.get().label())}</span>
        </footer>
    }
}

#[component]
fn Header() -> impl IntoView {
    let ctx = use_ctx();
    let open_count = move || {
        ctx.open_anomalies
            .get()
            .and_then(Result::ok)
            .map_or(0, |v| v.len())
    };
    let nav = move |href: &'static str, label: &'static str, is: fn(&Route) -> bool| {
        view! {
            <a href=href class={move || if is(&ctx.route.get()) { "navlink active" } else { "navlink" }}>
                {label}
                {(label == "Anomalies").then(|| view! {
                    <span class={move || if open_count() > 0 { "badge hot" } else { "badge" }}
                        data-testid="open-count">{open_count}</span>
                })}
            </a>
        }
    };
    view! {
        <header class="header">
            <a class="brand" href="#/">
                <svg class="logo" viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M2 15 L6 15 L8 10 L11 19 L14 5 L17 15 L22 15" fill="none"
                        stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"></path>
                </svg>
                <span>"anomalog"</span>
            </a>
            <nav class="nav">
                {nav("#/", "Overview", |r| *r == Route::Overview)}
                {nav("#/tail", "Live tail", |r| *r == Route::Tail)}
                {nav("#/anomalies", "Anomalies", |r| matches!(r, Route::Anomalies | Route::Anomaly(_)))}
                {nav("#/incidents", "Incidents", |r| matches!(r, Route::Incidents | Route::Incident(_)))}
                {nav("#/patterns", "Patterns", |r| matches!(r, Route::Patterns | Route::Pattern(_)))}
            </nav>
            <div class="controls">
                <RangePicker/>
                <RefreshPicker/>
                <button class="iconbtn" title="Switch between dark and light"
                    aria-label="Switch theme" data-testid="theme-toggle"
                    on:click=move |_| ctx.theme.update(|t| *t = if *t == Theme::Dark { Theme::Light } else { Theme::Dark })>
                    {move || if ctx.theme.get() == Theme::Dark { "☀" } else { "☾" }}
                </button>
            </div>
        </header>
    }
}

#[component]
fn RangePicker() -> impl IntoView {
    let ctx = use_ctx();
    let custom_open = RwSignal::new(false);
    let (from0, to0) = ctx.range.get_untracked().window();
    let from_input = RwSignal::new(time::to_input(from0));
    let to_input = RwSignal::new(time::to_input(to0));
    let error = RwSignal::new(None::<String>);
    let presets = PRESETS
        .iter()
        .map(|&(label, minutes)| {
            view! {
                <button class={move || if ctx.range.get() == Range::Last(minutes) { "seg active" } else { "seg" }}
                    data-range=label
                    on:click=move |_| {
                        ctx.range.set(Range::Last(minutes));
                        save_pref("anomalog.range", &minutes.to_string());
                        custom_open.set(false);
                    }>{label}</button>
            }
        })
        .collect_view();
    let apply = move |_| match (
        time::from_input(&from_input.get()),
        time::from_input(&to_input.get()),
    ) {
        (Some(from), Some(to)) if from < to => {
            ctx.range.set(Range::Custom { from, to });
            error.set(None);
            custom_open.set(false);
        }
        (Some(_), Some(_)) => error.set(Some("The start must be before the end.".to_owned())),
        _ => error.set(Some("Enter both times.".to_owned())),
    };
    view! {
        <div class="rangepicker">
            <div class="segmented" role="group" aria-label="Time range">
                {presets}
                <button class={move || if matches!(ctx.range.get(), Range::Custom { .. }) { "seg active" } else { "seg" }}
                    data-range="custom"
                    on:click=move |_| {
                        let (f, t) = ctx.range.get_untracked().window();
                        from_input.set(time::to_input(f));
                        to_input.set(time::to_input(t));
                        custom_open.update(|o| *o = !*o);
                    }>"Custom"</button>
            </div>
            <Show when=move || custom_open.get()>
                <div class="popover">
                    <label>"From"<input type="datetime-local" prop:value=move || from_input.get()
                        on:input=move |ev| from_input.set(event_target_value(&ev))/></label>
                    <label>"To"<input type="datetime-local" prop:value=move || to_input.get()
                        on:input=move |ev| to_input.set(event_target_value(&ev))/></label>
                    {move || error.get().map(|e| view! { <div class="error small">{e}</div> })}
                    <div class="row">
                        <button class="btn" on:click=move |_| custom_open.set(false)>"Cancel"</button>
                        <button class="btn primary" on:click=apply>"Apply"</button>
                    </div>
                </div>
            </Show>
        </div>
    }
}

#[component]
fn RefreshPicker() -> impl IntoView {
    let ctx = use_ctx();
    let options = REFRESH
        .iter()
        .map(|&(secs, label)| {
            view! { <option value=secs.to_string() selected=move || ctx.refresh_secs.get() == secs>{label}</option> }
        })
        .collect_view();
    view! {
        <label class="refresh" title="Auto refresh interval">
            <span class={move || if ctx.refresh_secs.get() > 0 { "livedot on" } else { "livedot" }}></span>
            <select aria-label="Auto refresh" data-testid="refresh"
                on:change=move |ev| {
                    if let Ok(secs) = event_target_value(&ev).parse::<u32>() {
                        ctx.refresh_secs.set(secs);
                    }
                }>
                {options}
            </select>
            <button class="iconbtn" title="Refresh now" aria-label="Refresh now"
                on:click=move |_| ctx.tick.update(|t| *t += 1)>"↻"</button>
        </label>
    }
}
