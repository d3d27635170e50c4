//! The read-key prompt: when the API answers 401 (keys are configured), the
//! dashboard asks for a key with the `read` scope, checks it against the API,
//! keeps it in sessionStorage (gone when the tab closes) and sends it as
//! `Authorization: Bearer <key>` on every request ([`crate::api::get`]).

use std::cell::Cell;

use leptos::prelude::*;

use crate::app::use_ctx;

/// sessionStorage entry holding the key.
const KEY_ITEM: &str = "anomalog.key";

thread_local! {
    /// Set while the prompt is mounted; [`unauthorized`] raises it.
    static NEEDED: Cell<Option<RwSignal<bool>>> = const { Cell::new(None) };
}

fn session() -> Option<web_sys::Storage> {
    window().session_storage().ok().flatten()
}

/// The key of this tab, if one was entered.
pub fn stored_key() -> Option<String> {
    session()?
        .get_item(KEY_ITEM)
        .ok()
        .flatten()
        .filter(|k| !k.is_empty())
}

/// The API refused the request for want of a (valid) key: show the prompt.
pub fn unauthorized() {
    if let Some(needed) = NEEDED.with(Cell::get) {
        needed.set(true);
    }
}

/// The prompt, shown over the page while a key is needed.
#[component]
pub fn KeyPrompt() -> impl IntoView {
    let ctx = use_ctx();
    let needed = RwSignal::new(false);
    NEEDED.with(|n| n.set(Some(needed)));
    on_cleanup(|| NEEDED.with(|n| n.set(None)));
    let input = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let checking = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let key = input.get_untracked().trim().to_owned();
        if key.is_empty() {
            message.set(Some("Enter a key.".to_owned()));
            return;
        }
        checking.set(true);
        let base = ctx.base();
        leptos::task::spawn_local(async move {
            let verdict = crate::api::check_key(&base, &key).await;
            checking.set(false);
            match verdict {
                Ok(()) => {
                    if let Some(s) = session() {
                        // A full or disabled storage only costs asking again.
                        let _ = s.set_item(KEY_ITEM, &key);
                    }
                    input.set(String::new());
                    message.set(None);
                    needed.set(false);
                    ctx.tick.update(|t| *t += 1);
                }
                Err(reason) => message.set(Some(reason)),
            }
        });
    };
    view! {
        <Show when=move || needed.get()>
            <div class="keyprompt" role="dialog" aria-modal="true" aria-labelledby="keyprompt-title">
                <form class="card" on:submit=submit data-testid="key-form">
                    <h2 id="keyprompt-title">"API key required"</h2>
                    <p class="muted">
                        "This server needs a key with the read scope ("
                        <code>"anomalog keys create --scope read"</code>
                        "). It is kept for this tab only."
                    </p>
                    <label for="keyprompt-key">"Read key"</label>
                    <input id="keyprompt-key" type="password" autocomplete="off" required
                        prop:value=move || input.get()
                        on:input=move |ev| input.set(event_target_value(&ev))/>
                    {move || message.get().map(|m| view! {
                        <p class="error" role="alert" data-testid="key-error">{m}</p>
                    })}
                    <button class="btn primary" type="submit" disabled=move || checking.get()>
                        "Use this key"
                    </button>
                </form>
            </div>
        </Show>
    }
}
