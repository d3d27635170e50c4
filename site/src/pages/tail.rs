//! The live tail: newest lines first, refreshed with the dashboard, filtered by
//! service, minimum level, text and the time range; pause keeps the screen still;
//! "Load older" pages back with the API's cursor.

use std::collections::HashSet;
use std::time::Duration;

use leptos::prelude::*;

use crate::api::{self, LEVELS, LogFilter, LogLine, LogsPage};
use crate::app::{Range, use_ctx};
use crate::pages::{ErrorBanner, Loading, LogRow};
use crate::time;

/// Lines one refresh shows, and lines one "Load older" adds.
const TAIL_LINES: usize = 300;

/// One answer of the logs API with the query that produced it.
#[derive(Clone, Debug, PartialEq)]
struct Snapshot {
    filter: LogFilter,
    range: Range,
    page: LogsPage,
}

/// Lines below the live page, loaded with "Load older"; dropped when the
/// filters or the range change.
///
/// The first load keeps the live page it continued from, so lines that later
/// slide out of the live page (as new ones arrive) stay on screen: live page,
/// then these lines minus the live ones, is gapless and free of duplicates.
#[derive(Clone, Debug, Default, PartialEq)]
struct Older {
    lines: Vec<LogLine>,
    /// Cursor of the next older page; `None` once the oldest line is shown.
    cursor: Option<String>,
    loading: bool,
    error: Option<String>,
}

impl Older {
    fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Adds a page, skipping lines already held.
    fn extend(&mut self, page: LogsPage) {
        let held: HashSet<String> = self.lines.iter().map(|l| l.id.clone()).collect();
        self.lines
            .extend(page.items.into_iter().filter(|l| !held.contains(&l.id)));
        self.cursor = page.next_cursor;
    }
}

/// The live (or frozen) page followed by the older lines it does not hold.
fn merged(head: &[LogLine], older: &Older) -> Vec<LogLine> {
    let shown: HashSet<&str> = head.iter().map(|l| l.id.as_str()).collect();
    let mut out = head.to_vec();
    out.extend(
        older
            .lines
            .iter()
            .filter(|l| !shown.contains(l.id.as_str()))
            .cloned(),
    );
    out
}

#[component]
pub fn Tail() -> impl IntoView {
    let ctx = use_ctx();
    let expanded = RwSignal::new(HashSet::<String>::new());
    let text = RwSignal::new(ctx.tail_filter.get_untracked().text);
    let loaded_at = RwSignal::new(None::<f64>);

    // Always live; while paused the screen shows a snapshot instead, and the
    // live result only tells how many lines are waiting.
    let lines = LocalResource::new(move || {
        let filter = ctx.tail_filter.get();
        let range = ctx.range.get();
        ctx.tick.track();
        let base = ctx.base();
        async move {
            let (from, to) = range.window();
            let result = api::logs(&base, &filter, from, to, TAIL_LINES, None).await;
            if result.is_ok() {
                loaded_at.set(Some(time::now_ms()));
            }
            result.map(|page| Snapshot {
                filter,
                range,
                page,
            })
        }
    });
    let frozen = RwSignal::new(None::<Snapshot>);
    let paused = Memo::new(move |_| frozen.with(Option::is_some));
    // A filter or range changed while paused: show its first result, still paused.
    Effect::new(move |_| {
        let Some(Ok(live)) = lines.get() else { return };
        let stale = frozen.with_untracked(|f| {
            f.as_ref()
                .is_some_and(|f| f.filter != live.filter || f.range != live.range)
        });
        if stale
            && live.filter == ctx.tail_filter.get_untracked()
            && live.range == ctx.range.get_untracked()
        {
            frozen.set(Some(live));
        }
    });
    let toggle_pause = move |_| {
        if paused.get_untracked() {
            frozen.set(None);
        } else {
            let now = lines
                .get_untracked()
                .and_then(Result::ok)
                .unwrap_or_else(|| Snapshot {
                    filter: ctx.tail_filter.get_untracked(),
                    range: ctx.range.get_untracked(),
                    page: LogsPage::default(),
                });
            frozen.set(Some(now));
        }
    };
    let waiting = move || {
        let shown = frozen.with(|f| {
            f.as_ref().map(|f| {
                f.page
                    .items
                    .iter()
                    .map(|l| l.id.clone())
                    .collect::<HashSet<_>>()
            })
        })?;
        let live = lines.get()?.ok()?;
        Some(
            live.page
                .items
                .iter()
                .filter(|l| !shown.contains(&l.id))
                .count(),
        )
    };
    // The page on top: the snapshot while paused, else the live result.
    let head = Memo::new(move |_| match frozen.get() {
        Some(f) => Some(Ok(f.page)),
        None => lines.get().map(|r| r.map(|s| s.page)),
    });
    // Older pages belong to one filter and range.
    let older = RwSignal::new(Older::default());
    Effect::new(move |_| {
        ctx.tail_filter.track();
        ctx.range.track();
        older.set(Older::default());
    });
    // What the list shows: the head page, then the older lines.
    let state = Memo::new(move |_| {
        head.with(|h| match h {
            Some(Ok(page)) => Some(Ok(older.with(|o| merged(&page.items, o)))),
            Some(Err(e)) => Some(Err(e.clone())),
            None => None,
        })
    });
    let items = move || {
        state.with(|s| match s {
            Some(Ok(items)) => items.clone(),
            _ => Vec::new(),
        })
    };
    // Where the next older page starts: after the older lines once there are
    // some, else after the head page.
    let next_cursor = move || {
        if older.with(Older::is_empty) {
            head.with(|h| match h {
                Some(Ok(page)) => page.next_cursor.clone(),
                _ => None,
            })
        } else {
            older.with(|o| o.cursor.clone())
        }
    };
    let load_older = move |_| {
        let Some(cursor) = next_cursor() else { return };
        if older.with_untracked(|o| o.loading) {
            return;
        }
        if older.with_untracked(Older::is_empty) {
            let kept = head.with_untracked(|h| match h {
                Some(Ok(page)) => page.items.clone(),
                _ => Vec::new(),
            });
            older.update(|o| o.lines = kept);
        }
        older.update(|o| {
            o.loading = true;
            o.error = None;
        });
        let filter = ctx.tail_filter.get_untracked();
        let range = ctx.range.get_untracked();
        let base = ctx.base();
        leptos::task::spawn_local(async move {
            let (from, to) = range.window();
            let result = api::logs(&base, &filter, from, to, TAIL_LINES, Some(&cursor)).await;
            // The filters or range changed meanwhile: this page is of no use.
            if ctx.tail_filter.get_untracked() != filter || ctx.range.get_untracked() != range {
                return;
            }
            older.update(|o| {
                o.loading = false;
                match result {
                    Ok(page) => o.extend(page),
                    Err(e) => o.error = Some(e),
                }
            });
        });
    };

    // Typing filters after a short pause, not on every key.
    let debounce = StoredValue::new(None::<TimeoutHandle>);
    let on_text = move |value: String| {
        text.set(value.clone());
        if let Some(h) = debounce.get_value() {
            h.clear();
        }
        let handle = set_timeout_with_handle(
            move || ctx.tail_filter.update(|f| f.text = value.clone()),
            Duration::from_millis(300),
        );
        debounce.set_value(handle.ok());
    };

    let service_options = move || {
        let mut names = ctx.services.get().and_then(Result::ok).unwrap_or_default();
        let current = ctx.tail_filter.with(|f| f.service.clone());
        if !current.is_empty() && !names.contains(&current) {
            names.push(current.clone());
        }
        names
            .into_iter()
            .map(|s| {
                let selected = s == current;
                view! { <option value=s.clone() selected=selected>{s.clone()}</option> }
            })
            .collect_view()
    };
    let level_options = LEVELS
        .iter()
        .map(|l| {
            view! {
                <option value=*l selected=move || ctx.tail_filter.with(|f| f.level == *l)>
                    {format!("{l} and above")}
                </option>
            }
        })
        .collect_view();

    let status = move || {
        state.with(|s| match s {
            None => Some(view! { <Loading what="logs"/> }.into_any()),
            Some(Err(e)) => Some(view! { <ErrorBanner message=e.clone()/> }.into_any()),
            Some(Ok(items)) if items.is_empty() => Some(
                view! {
                    <div class="empty" data-testid="tail-empty">"No lines match these filters in this time range."</div>
                }
                .into_any(),
            ),
            Some(Ok(_)) => None,
        })
    };
    let paging = move || {
        let has_items = state.with(|s| matches!(s, Some(Ok(items)) if !items.is_empty()));
        if !has_items {
            return None;
        }
        let (loading, error, paged) = older.with(|o| (o.loading, o.error.clone(), !o.is_empty()));
        let view = if next_cursor().is_some() {
            view! {
                {error.map(|e| view! { <ErrorBanner message=e/> })}
                <div class="center">
                    <button class="btn" data-testid="load-older" disabled=loading on:click=load_older>
                        {if loading { "Loading…" } else { "Load older lines" }}
                    </button>
                </div>
            }
            .into_any()
        } else if paged {
            view! { <div class="muted small center" data-testid="no-older">"No older lines in this range."</div> }.into_any()
        } else {
            return None;
        };
        Some(view)
    };
    let count =
        move || state.with(|s| s.as_ref().and_then(|r| r.as_ref().ok()).map_or(0, Vec::len));
    let needle = Memo::new(move |_| ctx.tail_filter.with(|f| f.text.clone()));

    view! {
        <h1 class="visually-hidden">"Live tail"</h1>
        <section class="card tail">
            <div class="filters">
                <label class="field">
                    <span>"Service"</span>
                    <select data-testid="filter-service" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        ctx.tail_filter.update(|f| f.service = v);
                    }>
                        <option value="" selected=move || ctx.tail_filter.with(|f| f.service.is_empty())>"All services"</option>
                        {service_options}
                    </select>
                </label>
                <label class="field">
                    <span>"Level"</span>
                    <select data-testid="filter-level" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        ctx.tail_filter.update(|f| f.level = v);
                    }>
                        <option value="" selected=move || ctx.tail_filter.with(|f| f.level.is_empty())>"All levels"</option>
                        {level_options}
                    </select>
                </label>
                <label class="field grow">
                    <span>"Search"</span>
                    <input type="search" placeholder="text in the message" data-testid="filter-text"
                        prop:value=move || text.get()
                        on:input=move |ev| on_text(event_target_value(&ev))/>
                </label>
                {move || {
                    let pattern = ctx.tail_filter.with(|f| f.pattern.clone());
                    (!pattern.is_empty()).then(|| view! {
                        <div class="field">
                            <span>"Pattern"</span>
                            <span class="chip" data-testid="filter-pattern">
                                <a href=format!("#/patterns/{pattern}")>{pattern.clone()}</a>
                                <button class="iconbtn small" aria-label="Stop filtering by pattern"
                                    on:click=move |_| ctx.tail_filter.update(|f| f.pattern.clear())>"✕"</button>
                            </span>
                        </div>
                    })
                }}
                <div class="field actions">
                    <button class={move || if paused.get() { "btn primary" } else { "btn" }} data-testid="pause"
                        on:click=toggle_pause>
                        {move || if paused.get() { "▶ Resume" } else { "❚❚ Pause" }}
                    </button>
                    {move || {
                        let f = ctx.tail_filter.get();
                        (f != LogFilter::default()).then(|| view! {
                            <button class="btn ghost" on:click=move |_| {
                                text.set(String::new());
                                ctx.tail_filter.set(LogFilter::default());
                            }>"Clear"</button>
                        })
                    }}
                </div>
            </div>
            <div class="tailstatus">
                <span class={move || if paused.get() { "livedot" } else if ctx.refresh_secs.get() > 0 { "livedot on" } else { "livedot" }}></span>
                {move || if paused.get() {
                    match waiting() {
                        Some(0) | None => "Paused: new lines are held back until you resume.".to_owned(),
                        Some(1) => "Paused: 1 new line is waiting.".to_owned(),
                        Some(n) => format!("Paused: {n} new lines are waiting."),
                    }
                } else if ctx.refresh_secs.get() == 0 {
                    "Auto refresh is off.".to_owned()
                } else {
                    format!("Live, every {} s.", ctx.refresh_secs.get())
                }}
                <span class="muted">{move || loaded_at.get().map(|t| format!(" Updated {}.", time::clock(t, true)))}</span>
                <span class="muted">" Click a line for its attributes."</span>
            </div>
            <div class="loglist" data-testid="tail" data-count=move || count().to_string()>
                <For each=items key=|l| l.id.clone() let:line>
                    <LogRow line=line expanded=expanded needle=needle/>
                </For>
            </div>
            {status}
            {paging}
        </section>
    }
}
