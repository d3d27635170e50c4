//! The read API's query strings, through the real router over an embedded
//! store holding a few logs: whatever the parameters, every route answers
//! (never a panic, which the router would turn into a 500), and every
//! refusal is a 4xx.
#![no_main]

use std::sync::{Arc, OnceLock};

use anomalog_api::ApiState;
use anomalog_core::{Level, LogEvent, StoredLog};
use anomalog_store::{EmbeddedStore, LogStore, Stores};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

const ROUTES: [&str; 11] = [
    "/api/logs",
    "/api/stats/volume",
    "/api/stats/breakdown",
    "/api/anomalies",
    "/api/anomalies/x",
    "/api/services",
    "/api/health",
    "/api/patterns",
    "/api/patterns/1",
    "/api/incidents",
    "/api/incidents/x",
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: axum::Router,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime");
        let dir = std::env::temp_dir().join(format!("anomalog-fuzz-api-{}", std::process::id()));
        let store = Arc::new(EmbeddedStore::open(&dir).expect("an embedded store"));
        let now = DateTime::from_timestamp(1_772_625_600, 0).unwrap_or_default();
        let logs: Vec<StoredLog> = (0..20i64)
            .map(|n| {
                let ts = now - chrono::Duration::seconds(30 * n);
                StoredLog {
                    pattern: None,
                    id: format!("000000000001-{n:05}"),
                    event: LogEvent {
                        ts,
                        received_at: ts,
                        service: ["api", "db"][(n % 2) as usize].into(),
                        host: None,
                        level: if n % 3 == 0 { Level::Error } else { Level::Info },
                        message: format!("request {n} failed"),
                        attrs: Default::default(),
                        trace_id: None,
                        span_id: None,
                        source: None,
                        truncated: false,
                    },
                }
            })
            .collect();
        runtime
            .block_on(store.persist(&logs))
            .expect("the fixture's logs are stored");
        let state = ApiState::with_clock(Stores::from_adapter(store), Arc::new(move || now));
        Fixture {
            runtime,
            app: anomalog_api::router(state),
        }
    })
}

/// The bytes as a query string: `&`, `=` and `%` stay (so the fuzzer builds
/// parameters and escapes), anything a URI cannot carry is percent-encoded.
fn query_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"&=%-_.~+:,".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, query)) = data.split_first() else {
        return;
    };
    let route = ROUTES[usize::from(choice) % ROUTES.len()];
    let uri = format!("{route}?{}", query_string(query));
    let Ok(request) = Request::get(uri.as_str()).body(Body::empty()) else {
        return;
    };
    let fixture = fixture();
    let response = fixture
        .runtime
        .block_on(fixture.app.clone().oneshot(request))
        .expect("the router is infallible");
    let status = response.status();
    assert!(
        status.is_success() || status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE,
        "{uri}: {status}"
    );
});
