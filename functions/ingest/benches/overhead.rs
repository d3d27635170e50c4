//! What self-observability and the rate limit cost on the ingest path: the
//! whole `handle` (read, parse, rate limit, queue append) for a 100-event JSON
//! batch, without a metrics recorder, with the Prometheus recorder
//! `anomalog up` installs, and with that plus a (never exhausted) rate limit.
//! The embedded queue sits on /dev/shm so disk syncs do not drown the
//! difference. Run with `cargo bench -p anomalog-ingest --bench overhead`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use chrono::Utc;
use divan::Bencher;
use metrics_exporter_prometheus::PrometheusBuilder;

use anomalog_core::config::IngestConfig;
use anomalog_ingest::{IngestParams, IngestState, handle};
use anomalog_store::EmbeddedStore;

fn main() {
    divan::main();
}

fn batch() -> String {
    let events: Vec<serde_json::Value> = (0..100)
        .map(|i| {
            serde_json::json!({
                "ts": "2026-11-23T10:00:00Z",
                "service": "checkout",
                "level": if i % 10 == 0 { "error" } else { "info" },
                "message": format!("order {i} placed for customer {}", i * 7),
            })
        })
        .collect();
    serde_json::Value::Array(events).to_string()
}

fn run(bencher: Bencher, config: IngestConfig, prometheus: bool) {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm").unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let store = Arc::new(EmbeddedStore::open_bounded(base.path(), u64::MAX).unwrap());
    let state = IngestState::new(store, config);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let recorder = PrometheusBuilder::new().build_recorder();
    let body = batch();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Bearer bench-key"),
    );
    let once = || {
        let (status, _receipt) = runtime
            .block_on(handle(
                &state,
                IngestParams::default(),
                &headers,
                None,
                Body::from(body.clone()),
                Utc::now(),
            ))
            .unwrap();
        assert_eq!(status, axum::http::StatusCode::ACCEPTED);
    };
    bencher.bench_local(|| {
        if prometheus {
            metrics::with_local_recorder(&recorder, once);
        } else {
            once();
        }
    });
}

fn keyed() -> IngestConfig {
    IngestConfig {
        api_keys: vec!["bench-key".to_owned()],
        ..IngestConfig::default()
    }
}

#[divan::bench(sample_count = 100, sample_size = 10)]
fn without_recorder(bencher: Bencher) {
    run(bencher, keyed(), false);
}

#[divan::bench(sample_count = 100, sample_size = 10)]
fn with_prometheus(bencher: Bencher) {
    run(bencher, keyed(), true);
}

#[divan::bench(sample_count = 100, sample_size = 10)]
fn with_prometheus_and_rate_limit(bencher: Bencher) {
    run(
        bencher,
        IngestConfig {
            rate_limit_events_per_sec: 1e9,
            rate_limit_burst: 1_000_000,
            ..keyed()
        },
        true,
    );
}
