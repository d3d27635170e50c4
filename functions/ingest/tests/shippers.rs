//! The shipper protocols driven by real clients nobody here wrote: the
//! OpenTelemetry Python SDK's OTLP/HTTP exporter, python-logging-loki, the
//! official `elasticsearch` Python client, Node.js winston-loki (Loki's
//! snappy protobuf and JSON) and the OpenTelemetry JS SDK (OTLP JSON), against the ingest router served on a loopback
//! port over the embedded store.
//!
//! Needs the pinned Python packages of `ensure_protocol_clients`
//! (scripts/lib.sh) in `$ANOMALOG_TEST_PYTHON` (default `python3`), and the
//! npm packages of tests/clients/package.json installed there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::net::SocketAddr;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anomalog_core::config::IngestConfig;
use anomalog_core::{Level, LogEvent};
use anomalog_ingest::{IngestState, bulk, router};
use anomalog_store::{EmbeddedStore, EventQueue};

struct Server {
    url: String,
    store: Arc<EmbeddedStore>,
    /// Responses answered 503 so far.
    unavailable: Arc<AtomicUsize>,
    /// The `Content-Type` of every request so far.
    content_types: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(max_queue_entries: u64) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open_bounded(dir.path(), max_queue_entries).unwrap());
    let unavailable = Arc::new(AtomicUsize::new(0));
    let content_types = Arc::new(Mutex::new(Vec::new()));
    let app = router(IngestState::new(store.clone(), IngestConfig::default()))
        .layer(axum::middleware::from_fn(bulk::answer_product_check))
        .layer(axum::middleware::from_fn_with_state(
            unavailable.clone(),
            count_unavailable,
        ))
        .layer(axum::middleware::from_fn_with_state(
            content_types.clone(),
            record_content_type,
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Server {
        url: format!("http://{addr}"),
        store,
        unavailable,
        content_types,
        _dir: dir,
        task,
    }
}

/// Counts the responses answered 503, so a test can wait for one.
async fn count_unavailable(
    axum::extract::State(unavailable): axum::extract::State<Arc<AtomicUsize>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let response = next.run(request).await;
    if response.status() == axum::http::StatusCode::SERVICE_UNAVAILABLE {
        unavailable.fetch_add(1, Ordering::SeqCst);
    }
    response
}

/// Keeps each request's `Content-Type`, so a test can tell the encoding a
/// client chose.
async fn record_content_type(
    axum::extract::State(seen): axum::extract::State<Arc<Mutex<Vec<String>>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let content_type = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    seen.lock().unwrap().push(content_type);
    next.run(request).await
}

/// Runs a Python script with `args`; fails the test when it fails or hangs.
async fn python(script: &str, args: &[&str]) -> Output {
    let python = std::env::var("ANOMALOG_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let child = tokio::process::Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), child)
        .await
        .expect("the client script took more than 60 s")
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        output.status.success(),
        "client script failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Every queued event, in queue order, acknowledged.
async fn drain(store: &EmbeddedStore) -> Vec<LogEvent> {
    let entries = store.claim("test", 1000).await.unwrap();
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    store.ack(&ids).await.unwrap();
    entries.into_iter().flat_map(|e| e.events).collect()
}

const OTEL_SCRIPT: &str = r#"
import logging, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

url = sys.argv[1]
provider = LoggerProvider(resource=Resource.create({"service.name": "checkout", "host.name": "web-1"}))
provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=url + "/v1/logs")))
log = logging.getLogger("shop")
log.propagate = False
log.setLevel(logging.DEBUG)
log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))
tracer_provider = TracerProvider()
with tracer_provider.get_tracer("shop").start_as_current_span("pay") as span:
    log.error("card declined for order %s", 42, extra={"order_id": 42, "customer": "ann"})
    print(format(span.get_span_context().trace_id, "032x"))
for i in range(int(sys.argv[2])):
    log.warning("slow checkout %d", i)
provider.shutdown()
"#;

#[tokio::test]
async fn otel_python_sdk_logs_arrive_with_service_level_message_attributes_and_trace_id() {
    let server = serve(100).await;
    let out = python(OTEL_SCRIPT, &[&server.url, "2"]).await;
    let trace_id = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let events = drain(&server.store).await;
    assert_eq!(events.len(), 3, "{events:#?}");
    let error = &events[0];
    assert_eq!(error.service, "checkout");
    assert_eq!(error.host.as_deref(), Some("web-1"));
    assert_eq!(error.level, Level::Error);
    assert_eq!(error.message, "card declined for order 42");
    assert_eq!(error.attrs["order_id"], 42);
    assert_eq!(error.attrs["customer"], "ann");
    assert_eq!(error.attrs["otel.scope.name"], "shop");
    assert_eq!(error.trace_id.as_deref(), Some(trace_id.as_str()));
    assert_eq!(error.trace_id.as_ref().map(String::len), Some(32));
    assert!(error.span_id.is_some());
    let warnings: Vec<&str> = events[1..].iter().map(|e| e.message.as_str()).collect();
    assert_eq!(warnings, ["slow checkout 0", "slow checkout 1"]);
    assert!(events[1..].iter().all(|e| e.level == Level::Warn));
}

#[tokio::test]
async fn a_503_makes_the_otel_exporter_retry_and_nothing_is_lost_or_doubled() {
    // A queue of one entry, already full: the first export gets 503 + Retry-After.
    let server = serve(1).await;
    server
        .store
        .append(&[LogEvent::new(
            chrono::Utc::now(),
            "filler",
            Level::Info,
            "fills the queue",
        )])
        .await
        .unwrap();
    let url = server.url.clone();
    let client = tokio::spawn(async move { python(OTEL_SCRIPT, &[&url, "0"]).await });

    // Once the exporter has been refused, make room while it waits out the
    // Retry-After.
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.unavailable.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the exporter was never refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let filler = drain(&server.store).await;
    assert_eq!(filler.len(), 1);
    assert_eq!(filler[0].service, "filler");

    let out = client.await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("503") || stderr.contains("Transient error"),
        "the exporter saw no 503: {stderr}"
    );
    let events = drain(&server.store).await;
    assert_eq!(events.len(), 1, "stored exactly once: {events:#?}");
    assert_eq!(events[0].message, "card declined for order 42");
}

#[tokio::test]
async fn python_logging_loki_pushes_are_stored_with_labels_and_levels() {
    let server = serve(100).await;
    let script = r#"
import logging, sys, logging_loki
handler = logging_loki.LokiHandler(url=sys.argv[1] + "/loki/api/v1/push",
                                   tags={"app": "billing", "env": "prod"}, version="1")
log = logging.getLogger("billing")
log.propagate = False
log.setLevel(logging.DEBUG)
log.addHandler(handler)
log.error("invoice 7 failed", extra={"tags": {"region": "eu"}})
log.info("invoice 8 sent")
"#;
    python(script, &[&server.url]).await;
    let events = drain(&server.store).await;
    assert_eq!(events.len(), 2, "{events:#?}");
    assert_eq!(events[0].service, "billing");
    assert_eq!(events[0].level, Level::Error);
    assert_eq!(events[0].message, "invoice 7 failed");
    assert_eq!(events[0].attrs["env"], "prod");
    assert_eq!(events[0].attrs["region"], "eu");
    assert_eq!(events[0].attrs["logger"], "billing");
    assert_eq!(events[1].level, Level::Info);
    assert_eq!(events[1].message, "invoice 8 sent");
}

/// Each event's level and message, in queue order.
fn levels_and_messages(events: &[LogEvent]) -> Vec<(Level, &str)> {
    events
        .iter()
        .map(|e| (e.level, e.message.as_str()))
        .collect()
}

/// Runs the Node.js client script tests/clients/`script` with `args`; fails
/// the test when it fails or hangs.
async fn node(script: &str, args: &[&str]) {
    let path = format!("{}/tests/clients/{script}", env!("CARGO_MANIFEST_DIR"));
    let child = tokio::process::Command::new("node")
        .arg(&path)
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), child)
        .await
        .unwrap_or_else(|_| panic!("{script} took more than 60 s"))
        .unwrap_or_else(|e| panic!("cannot run node: {e}"));
    assert!(
        output.status.success(),
        "{script} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn otel_js_sdk_exports_otlp_json_with_resource_severity_and_typed_attributes() {
    let server = serve(100).await;
    node("otel_logs.js", &[&server.url]).await;
    assert_eq!(
        server.content_types.lock().unwrap().as_slice(),
        ["application/json"],
        "one export, in OTLP JSON"
    );
    let events = drain(&server.store).await;
    assert_eq!(
        levels_and_messages(&events),
        [
            (Level::Error, "cart 9 failed to save"),
            (Level::Info, "cart 10 saved"),
        ]
    );
    for e in &events {
        assert_eq!(e.service, "cart");
        assert_eq!(e.host.as_deref(), Some("node-1"));
        assert_eq!(e.attrs["otel.scope.name"], "shop");
    }
    // OTLP JSON carries an int64 as a string: it is stored as a number.
    assert_eq!(events[0].attrs["cart.id"], 9);
    assert_eq!(events[0].attrs["retry"], true);
    assert_eq!(events[0].attrs["ratio"], 0.5);
}

#[tokio::test]
async fn winston_loki_pushes_snappy_protobuf_and_json_with_labels_and_levels() {
    for (encoding, content_type) in [
        ("protobuf", "application/x-protobuf"),
        ("json", "application/json"),
    ] {
        let server = serve(100).await;
        node("winston_loki.js", &[&server.url, encoding]).await;
        assert_eq!(
            server.content_types.lock().unwrap().as_slice(),
            [content_type],
            "{encoding}: one push in the client's encoding"
        );
        let events = drain(&server.store).await;
        assert_eq!(
            levels_and_messages(&events),
            [
                (Level::Error, "payment failed for order 42"),
                (Level::Info, "order 43 placed"),
                (Level::Warn, "slow response 2300 ms"),
            ],
            "{encoding}"
        );
        for e in &events {
            assert_eq!(e.service, "checkout", "{encoding}");
            assert_eq!(e.host.as_deref(), Some("web-1"), "{encoding}");
        }
        assert_eq!(events[0].attrs["region"], "eu", "{encoding}");
    }
}

#[tokio::test]
async fn elasticsearch_python_helpers_bulk_sees_no_errors() {
    let server = serve(100).await;
    let script = r#"
import json, sys
from elasticsearch import Elasticsearch, helpers
es = Elasticsearch(sys.argv[1])
docs = [
    {"_index": "payments", "_source": {"@timestamp": "2026-01-02T03:04:05Z", "log.level": "error", "message": "gateway timeout"}},
    {"_index": "payments", "_op_type": "create", "_source": {"message": "retry ok", "level": "info", "service": "payments-worker"}},
]
ok, errors = helpers.bulk(es, docs)
print(json.dumps({"ok": ok, "errors": errors}))
"#;
    let out = python(script, &[&server.url]).await;
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer, serde_json::json!({"ok": 2, "errors": []}));
    let events = drain(&server.store).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].service, "payments", "the index names the service");
    assert_eq!(events[0].level, Level::Error);
    assert_eq!(events[0].message, "gateway timeout");
    assert_eq!(events[0].ts.to_rfc3339(), "2026-01-02T03:04:05+00:00");
    assert_eq!(
        events[1].service, "payments-worker",
        "the document's own wins"
    );
}
