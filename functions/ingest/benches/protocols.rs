//! Events per second of each ingest protocol for requests of 1,000 events,
//! next to `/ingest` JSON in the same run: the whole handler (auth, decode,
//! decompress where the protocol does, map, one queue append) over the
//! embedded queue on /dev/shm (so disk syncs do not drown the differences).
//! Syslog is measured as its batcher works: decode and map 1,000 lines, one
//! append. Run with `cargo bench -p anomalog-ingest --bench protocols`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::Utc;
use divan::Bencher;
use divan::counter::ItemsCount;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;

use anomalog_core::config::IngestConfig;
use anomalog_core::parse::ParseDefaults;
use anomalog_ingest::loki::{EntryAdapter, PushRequest, StreamAdapter, Timestamp};
use anomalog_ingest::{IngestParams, IngestState, bulk, handle, loki, otlp, syslog};
use anomalog_store::EmbeddedStore;

const EVENTS: usize = 1000;
const BASE_NS: u64 = 1_767_323_045_000_000_000;

fn main() {
    divan::main();
}

struct Fixture {
    _dir: tempfile::TempDir,
    state: IngestState,
    runtime: tokio::runtime::Runtime,
}

fn fixture() -> Fixture {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        tempfile::tempdir_in("/dev/shm").unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let store = Arc::new(EmbeddedStore::open_bounded(dir.path(), u64::MAX).unwrap());
    Fixture {
        _dir: dir,
        state: IngestState::new(store, IngestConfig::default()),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    }
}

fn message(i: usize) -> String {
    format!("order {i} placed for customer {}", i * 7)
}

fn level(i: usize) -> &'static str {
    if i.is_multiple_of(10) {
        "error"
    } else {
        "info"
    }
}

fn headers(content_type: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers
}

/// Benches one protocol handler: each iteration sends `body` through `send`
/// and expects `want`.
fn bench_requests<B, F, Fut>(bencher: Bencher, f: &Fixture, body: B, want: StatusCode, send: F)
where
    B: Clone + Into<Body>,
    F: Fn(Body) -> Fut,
    Fut: Future<Output = Response>,
{
    bencher.counter(ItemsCount::new(EVENTS)).bench_local(|| {
        let response = f.runtime.block_on(send(body.clone().into()));
        assert_eq!(response.status(), want);
    });
}

#[divan::bench]
fn ingest_json(bencher: Bencher) {
    let f = fixture();
    let body: Vec<serde_json::Value> = (0..EVENTS)
        .map(|i| {
            serde_json::json!({"ts": "2026-01-02T03:04:05Z", "service": "checkout",
                "level": level(i), "message": message(i)})
        })
        .collect();
    let body = serde_json::Value::Array(body).to_string();
    let headers = headers("application/json");
    bencher.counter(ItemsCount::new(EVENTS)).bench_local(|| {
        let (status, _) = f
            .runtime
            .block_on(handle(
                &f.state,
                IngestParams::default(),
                &headers,
                None,
                Body::from(body.clone()),
                Utc::now(),
            ))
            .unwrap();
        assert_eq!(status, StatusCode::ACCEPTED);
    });
}

fn otlp_request() -> ExportLogsServiceRequest {
    let text = |s: String| {
        Some(AnyValue {
            value: Some(any_value::Value::StringValue(s)),
        })
    };
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: text("checkout".into()),
                    ..KeyValue::default()
                }],
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: (0..EVENTS)
                    .map(|i| LogRecord {
                        time_unix_nano: BASE_NS + i as u64,
                        severity_number: if i.is_multiple_of(10) { 17 } else { 9 },
                        body: text(message(i)),
                        trace_id: vec![7; 16],
                        span_id: vec![9; 8],
                        ..LogRecord::default()
                    })
                    .collect(),
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

#[divan::bench]
fn otlp_protobuf(bencher: Bencher) {
    let f = fixture();
    let body = otlp_request().encode_to_vec();
    let headers = headers("application/x-protobuf");
    bench_requests(bencher, &f, body, StatusCode::OK, |body| {
        otlp::handle(&f.state, &headers, None, body, Utc::now())
    });
}

#[divan::bench]
fn otlp_json(bencher: Bencher) {
    let f = fixture();
    let body = serde_json::to_string(&otlp_request()).unwrap();
    let headers = headers("application/json");
    bench_requests(bencher, &f, body, StatusCode::OK, |body| {
        otlp::handle(&f.state, &headers, None, body, Utc::now())
    });
}

#[divan::bench]
fn loki_snappy_protobuf(bencher: Bencher) {
    let f = fixture();
    let push = PushRequest {
        streams: vec![StreamAdapter {
            labels: r#"{service_name="checkout", env="prod"}"#.into(),
            entries: (0..EVENTS)
                .map(|i| EntryAdapter {
                    timestamp: Some(Timestamp {
                        seconds: 1_767_323_045,
                        nanos: i as i32,
                    }),
                    line: format!("level={} msg=\"{}\"", level(i), message(i)),
                    structured_metadata: vec![],
                })
                .collect(),
            hash: 0,
        }],
    };
    let body = snap::raw::Encoder::new()
        .compress_vec(&push.encode_to_vec())
        .unwrap();
    let headers = headers("application/x-protobuf");
    bench_requests(bencher, &f, body, StatusCode::NO_CONTENT, |body| {
        loki::handle(
            &f.state,
            IngestParams::default(),
            &headers,
            None,
            body,
            Utc::now(),
        )
    });
}

#[divan::bench]
fn loki_json(bencher: Bencher) {
    let f = fixture();
    let values: Vec<serde_json::Value> = (0..EVENTS)
        .map(|i| {
            serde_json::json!([
                (BASE_NS + i as u64).to_string(),
                format!("level={} msg=\"{}\"", level(i), message(i))
            ])
        })
        .collect();
    let body = serde_json::json!({"streams": [{"stream": {"service_name": "checkout"}, "values": values}]})
        .to_string();
    let headers = headers("application/json");
    bench_requests(bencher, &f, body, StatusCode::NO_CONTENT, |body| {
        loki::handle(
            &f.state,
            IngestParams::default(),
            &headers,
            None,
            body,
            Utc::now(),
        )
    });
}

#[divan::bench]
fn elasticsearch_bulk(bencher: Bencher) {
    let f = fixture();
    let body: String = (0..EVENTS)
        .map(|i| {
            format!(
                "{{\"index\":{{\"_index\":\"checkout\"}}}}\n{}\n",
                serde_json::json!({"@timestamp": "2026-01-02T03:04:05Z",
                    "log.level": level(i), "message": message(i)})
            )
        })
        .collect();
    let headers = headers("application/x-ndjson");
    bench_requests(bencher, &f, body, StatusCode::OK, |body| {
        bulk::handle(
            &f.state,
            None,
            IngestParams::default(),
            &headers,
            None,
            body,
            Utc::now(),
        )
    });
}

#[divan::bench]
fn syslog_batch(bencher: Bencher) {
    let f = fixture();
    let lines: Vec<String> = (0..EVENTS)
        .map(|i| {
            format!(
                "<{}>1 2026-01-02T03:04:05Z web-1 checkout 812 - - {}",
                if i.is_multiple_of(10) { 11 } else { 14 },
                message(i)
            )
        })
        .collect();
    let limits = f.state.config.parse_limits();
    bencher.counter(ItemsCount::new(EVENTS)).bench_local(|| {
        let now = Utc::now();
        let defaults = ParseDefaults {
            service: Some("syslog".into()),
            host: None,
            source: None,
            received_at: now,
        };
        let events: Vec<_> = lines
            .iter()
            .map(|l| {
                anomalog_core::shippers::syslog::to_event(
                    syslog::decode(l, now),
                    &defaults,
                    &limits,
                )
                .unwrap()
            })
            .collect();
        f.runtime.block_on(f.state.queue.append(&events)).unwrap();
    });
}
