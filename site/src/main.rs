//! anomalog's dashboard: a client-side Leptos app reading the JSON API.
//!
//! Built to wasm by `scripts/build-site` into `site/dist` (static files, no CDN).

mod api;
mod app;
mod charts;
mod key_prompt;
mod pages;
mod stats;
mod time;

fn main() {
    console_error_panic_hook::set_once();
    // The static page shows a loading line until the app takes over.
    if let Some(boot) = leptos::prelude::document().get_element_by_id("boot") {
        boot.remove();
    }
    leptos::mount::mount_to_body(app::App);
}
