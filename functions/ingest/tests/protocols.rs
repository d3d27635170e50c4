//! The shipper protocols through the real router and the embedded store: each
//! encoding, each protocol's own error answer for malformed input, and the good
//! requests around a bad one stored exactly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::Write;
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode, header};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use serde_json::{Value, json};
use tower::ServiceExt;

use anomalog_core::config::IngestConfig;
use anomalog_core::{Level, LogEvent};
use anomalog_ingest::loki::{
    EntryAdapter, LabelPairAdapter, PushRequest, StreamAdapter, Timestamp,
};
use anomalog_ingest::{IngestState, bulk, router};
use anomalog_store::{EmbeddedStore, EventQueue};

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<EmbeddedStore>,
    app: axum::Router,
}

fn harness_with(config: IngestConfig, max_queue_entries: u64) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open_bounded(dir.path(), max_queue_entries).unwrap());
    let app = router(IngestState::new(store.clone(), config))
        .layer(axum::middleware::from_fn(bulk::answer_product_check));
    Harness {
        _dir: dir,
        store,
        app,
    }
}

fn harness() -> Harness {
    harness_with(IngestConfig::default(), 1000)
}

async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, headers, bytes.to_vec())
}

fn post(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap()
}

async fn drain(store: &EmbeddedStore) -> Vec<LogEvent> {
    let entries = store.claim("test", 1000).await.unwrap();
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    store.ack(&ids).await.unwrap();
    entries.into_iter().flat_map(|e| e.events).collect()
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// `google.rpc.Status` as a test reads it.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

// ---------------------------------------------------------------------------
// OTLP

fn text(s: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s.into())),
    })
}

fn otlp_request(bodies: &[Option<&str>]) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![KeyValue {
                    key: "service.name".into(),
                    value: text("api"),
                    ..KeyValue::default()
                }],
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: bodies
                    .iter()
                    .map(|b| LogRecord {
                        severity_number: 13,
                        body: b.and_then(text),
                        ..LogRecord::default()
                    })
                    .collect(),
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

#[tokio::test]
async fn otlp_json_reads_hex_ids_string_int64s_and_severity_names() {
    let h = harness();
    let body = json!({"resourceLogs": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "cart"}},
            {"key": "host.name", "value": {"stringValue": "node-3"}}
        ]},
        "scopeLogs": [{"scope": {"name": "cart.http"}, "logRecords": [{
            "timeUnixNano": "1767323045000000000",
            "severityNumber": "SEVERITY_NUMBER_FATAL",
            "body": {"stringValue": "out of memory"},
            "attributes": [{"key": "retries", "value": {"intValue": "3"}}],
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": "eee19b7ec3c1b174"
        }, {
            "timeUnixNano": 1767323046000000000u64,
            "severityNumber": 9,
            "body": {"kvlistValue": {"values": [{"key": "user", "value": {"stringValue": "ann"}}]}}
        }]}]
    }]});
    let (status, headers, bytes) = send(
        &h.app,
        post("/v1/logs", "application/json", body.to_string()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(json_of(&bytes), json!({}));

    let events = drain(&h.store).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].service, "cart");
    assert_eq!(events[0].host.as_deref(), Some("node-3"));
    assert_eq!(events[0].level, Level::Fatal);
    assert_eq!(events[0].message, "out of memory");
    assert_eq!(events[0].attrs["retries"], 3);
    assert_eq!(events[0].ts.to_rfc3339(), "2026-01-02T03:04:05+00:00");
    assert_eq!(
        events[0].trace_id.as_deref(),
        Some("5b8efff798038103d269b633813fc60c")
    );
    assert_eq!(events[0].span_id.as_deref(), Some("eee19b7ec3c1b174"));
    assert_eq!(events[1].level, Level::Info);
    assert_eq!(events[1].message, r#"{"user":"ann"}"#);
}

#[tokio::test]
async fn otlp_protobuf_partial_success_counts_and_explains_rejected_records() {
    let h = harness();
    let request = otlp_request(&[Some("first"), None, Some("third")]);
    let (status, headers, bytes) = send(
        &h.app,
        post(
            "/v1/logs",
            "application/x-protobuf",
            request.encode_to_vec(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/x-protobuf");
    let response = ExportLogsServiceResponse::decode(bytes.as_slice()).unwrap();
    let partial = response.partial_success.unwrap();
    assert_eq!(partial.rejected_log_records, 1);
    assert!(partial.error_message.contains("record 1"), "{partial:?}");

    let messages: Vec<String> = drain(&h.store)
        .await
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(messages, ["first", "third"]);
}

#[tokio::test]
async fn otlp_gzip_bodies_are_decoded_and_json_partial_success_uses_string_counts() {
    let h = harness();
    let body = json!({"resourceLogs": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "api"}}]},
        "scopeLogs": [{"logRecords": [{"body": {"stringValue": "ok"}}, {}]}]}]});
    let req = Request::post("/v1/logs")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(gzip(body.to_string().as_bytes())))
        .unwrap();
    let (status, _, bytes) = send(&h.app, req).await;
    assert_eq!(status, StatusCode::OK);
    let answer = json_of(&bytes);
    assert_eq!(answer["partialSuccess"]["rejectedLogRecords"], "1");
    assert_eq!(drain(&h.store).await.len(), 1);
}

#[tokio::test]
async fn otlp_malformed_bodies_get_400_with_a_status_in_the_request_encoding() {
    let h = harness();
    let good = otlp_request(&[Some("before")]).encode_to_vec();
    assert_eq!(
        send(
            &h.app,
            post("/v1/logs", "application/x-protobuf", good.clone())
        )
        .await
        .0,
        StatusCode::OK
    );

    let (status, headers, bytes) = send(
        &h.app,
        post(
            "/v1/logs",
            "application/x-protobuf",
            vec![0xff_u8, 0xff, 0xff, 0x0f],
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers[header::CONTENT_TYPE], "application/x-protobuf");
    let rpc = RpcStatus::decode(bytes.as_slice()).unwrap();
    assert_eq!(rpc.code, 3);
    assert!(rpc.message.contains("ExportLogsServiceRequest"), "{rpc:?}");

    let (status, headers, bytes) = send(
        &h.app,
        post("/v1/logs", "application/json", "{\"resourceLogs\": 7}"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(json_of(&bytes)["code"], 3);

    let (status, _, bytes) = send(&h.app, post("/v1/logs", "text/plain", "hello")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        json_of(&bytes)["message"]
            .as_str()
            .unwrap()
            .contains("/v1/logs")
    );

    let after = otlp_request(&[Some("after")]).encode_to_vec();
    assert_eq!(
        send(&h.app, post("/v1/logs", "application/x-protobuf", after))
            .await
            .0,
        StatusCode::OK
    );
    let messages: Vec<String> = drain(&h.store)
        .await
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(messages, ["before", "after"]);
}

#[tokio::test]
async fn otlp_refusals_keep_ingests_status_and_retry_after() {
    let keyed = harness_with(
        IngestConfig {
            api_keys: vec!["secret".into()],
            ..IngestConfig::default()
        },
        10,
    );
    let body = otlp_request(&[Some("x")]).encode_to_vec();
    let (status, headers, _) = send(
        &keyed.app,
        post("/v1/logs", "application/x-protobuf", body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");

    let full = harness_with(IngestConfig::default(), 1);
    full.store
        .append(&[LogEvent::new(chrono::Utc::now(), "x", Level::Info, "x")])
        .await
        .unwrap();
    let (status, headers, bytes) =
        send(&full.app, post("/v1/logs", "application/x-protobuf", body)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers[header::RETRY_AFTER], "5");
    assert_eq!(RpcStatus::decode(bytes.as_slice()).unwrap().code, 14);
    assert_eq!(
        full.store.backlog().await.unwrap(),
        1,
        "nothing more queued"
    );

    let small = harness_with(
        IngestConfig {
            max_events: 2,
            ..IngestConfig::default()
        },
        10,
    );
    let three = otlp_request(&[Some("a"), Some("b"), Some("c")]).encode_to_vec();
    let (status, _, _) = send(
        &small.app,
        post("/v1/logs", "application/x-protobuf", three),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(drain(&small.store).await.is_empty());
}

// ---------------------------------------------------------------------------
// Loki

fn loki_protobuf() -> Vec<u8> {
    let push = PushRequest {
        streams: vec![StreamAdapter {
            labels: r#"{service_name="gateway", level="warn", env="prod"}"#.into(),
            entries: vec![
                EntryAdapter {
                    timestamp: Some(Timestamp {
                        seconds: 1_767_323_045,
                        nanos: 500_000_000,
                    }),
                    line: "upstream slow".into(),
                    structured_metadata: vec![LabelPairAdapter {
                        name: "trace_id".into(),
                        value: "abc123".into(),
                    }],
                },
                EntryAdapter {
                    timestamp: None,
                    line: "second".into(),
                    structured_metadata: vec![],
                },
            ],
            hash: 0,
        }],
    };
    snap::raw::Encoder::new()
        .compress_vec(&push.encode_to_vec())
        .unwrap()
}

#[tokio::test]
async fn loki_snappy_protobuf_pushes_get_204_and_are_stored() {
    let h = harness();
    let (status, _, bytes) = send(
        &h.app,
        post(
            "/loki/api/v1/push",
            "application/x-protobuf",
            loki_protobuf(),
        ),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(bytes.is_empty());
    let events = drain(&h.store).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].service, "gateway");
    assert_eq!(events[0].level, Level::Warn);
    assert_eq!(events[0].message, "upstream slow");
    assert_eq!(events[0].ts.timestamp_millis(), 1_767_323_045_500);
    assert_eq!(events[0].trace_id.as_deref(), Some("abc123"));
    assert_eq!(events[0].attrs["env"], "prod");
    assert_eq!(
        events[1].ts, events[1].received_at,
        "no timestamp: receive time"
    );
}

#[tokio::test]
async fn loki_json_rejects_bad_entries_with_400_naming_them_and_stores_the_rest() {
    let h = harness();
    let body = json!({"streams": [
        {"stream": {"app": "web"}, "values": [
            ["1767323045000000000", "ERROR db down"],
            ["yesterday", "bad time"],
            ["1767323046000000000", "level=info msg=ok", {"user": "ann"}]
        ]},
        {"stream": {"env": "dev"}, "values": [["1767323047000000000", "no service"]]}
    ]});
    let (status, headers, bytes) = send(
        &h.app,
        post("/loki/api/v1/push", "application/json", body.to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(bytes).unwrap();
    assert!(
        text.contains("record 1") && text.contains("record 3"),
        "{text}"
    );
    assert!(text.contains("2 entries were stored"), "{text}");
    let events = drain(&h.store).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].level, Level::Error);
    assert_eq!(events[1].level, Level::Info);
    assert_eq!(events[1].attrs["user"], "ann");
}

#[tokio::test]
async fn loki_malformed_bodies_get_a_plain_text_error_and_nothing_else_is_lost() {
    let h = harness();
    let good = |line: &str| {
        post(
            "/loki/api/v1/push",
            "application/json",
            json!({"streams": [{"stream": {"app": "web"}, "values": [["1767323045000000000", line]]}]})
                .to_string(),
        )
    };
    assert_eq!(send(&h.app, good("before")).await.0, StatusCode::NO_CONTENT);
    for (content_type, body) in [
        ("application/json", b"{\"streams\": 3}".to_vec()),
        ("application/json", b"not json".to_vec()),
        ("application/x-protobuf", b"not snappy at all".to_vec()),
        (
            "application/x-protobuf",
            snap::raw::Encoder::new()
                .compress_vec(b"\xff\xff\xff")
                .unwrap(),
        ),
    ] {
        let (status, headers, bytes) =
            send(&h.app, post("/loki/api/v1/push", content_type, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{content_type}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        assert!(!bytes.is_empty());
    }
    let (status, _, _) = send(&h.app, post("/loki/api/v1/push", "text/xml", "<x/>")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(send(&h.app, good("after")).await.0, StatusCode::NO_CONTENT);
    let messages: Vec<String> = drain(&h.store)
        .await
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(messages, ["before", "after"]);
}

// ---------------------------------------------------------------------------
// Elasticsearch bulk

fn ndjson(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[tokio::test]
async fn bulk_answers_per_item_statuses_and_stores_the_good_documents() {
    let h = harness();
    let body = ndjson(&[
        json!({"index": {"_index": "orders", "_id": "o-1"}}),
        json!({"message": "order placed", "level": "info"}),
        json!({"create": {}}),
        json!({"level": "error"}),
        json!({"delete": {"_index": "orders", "_id": "o-1"}}),
        json!({"update": {"_id": "o-1"}}),
        json!({"doc": {"message": "x"}}),
        json!({"create": {"_index": "ignored-index"}}),
        json!({"message": "refund", "service": "refunds", "log.level": "warn"}),
    ]);
    let req = Request::put("/shop/_bulk")
        .header(
            header::CONTENT_TYPE,
            "application/vnd.elasticsearch+x-ndjson; compatible-with=8",
        )
        .header(
            header::ACCEPT,
            "application/vnd.elasticsearch+json; compatible-with=8",
        )
        .body(Body::from(body))
        .unwrap();
    let (status, headers, bytes) = send(&h.app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-elastic-product"], "Elasticsearch");
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/vnd.elasticsearch+json; compatible-with=8"
    );
    let answer = json_of(&bytes);
    assert_eq!(answer["errors"], true);
    let items = answer["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert_eq!(items[0]["index"]["status"], 201);
    assert_eq!(items[0]["index"]["_id"], "o-1");
    assert_eq!(items[0]["index"]["_index"], "orders");
    assert_eq!(items[1]["create"]["status"], 400);
    assert_eq!(items[1]["create"]["_index"], "shop");
    assert_eq!(
        items[1]["create"]["error"]["type"],
        "document_parsing_exception"
    );
    assert_eq!(items[2]["delete"]["status"], 400);
    assert_eq!(items[3]["update"]["status"], 400);
    assert_eq!(items[4]["create"]["status"], 201);
    assert!(answer["took"].is_u64());

    let events = drain(&h.store).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].service, "orders");
    assert_eq!(events[0].attrs["_id"], "o-1");
    assert_eq!(events[1].service, "refunds");
    assert_eq!(events[1].level, Level::Warn);
}

#[tokio::test]
async fn bulk_malformed_requests_get_elasticsearchs_error_and_store_nothing() {
    let h = harness();
    let good = || {
        post(
            "/_bulk",
            "application/x-ndjson",
            ndjson(&[
                json!({"index": {"_index": "web"}}),
                json!({"message": "ok"}),
            ]),
        )
    };
    assert_eq!(send(&h.app, good()).await.0, StatusCode::OK);
    for body in [
        "{\"index\": {}}\n{\"message\": \"orphan\"}\nnot json\n",
        "{\"index\": {}}\n",
        "{\"frobnicate\": {}}\n{}\n",
        "",
    ] {
        let (status, headers, bytes) =
            send(&h.app, post("/_bulk", "application/x-ndjson", body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(headers["x-elastic-product"], "Elasticsearch");
        let error = json_of(&bytes);
        assert_eq!(error["status"], 400);
        assert_eq!(error["error"]["type"], "illegal_argument_exception");
    }
    let (status, headers, _) = send(&h.app, post("/_bulk", "text/csv", "a,b")).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(headers["x-elastic-product"], "Elasticsearch");
    assert_eq!(send(&h.app, good()).await.0, StatusCode::OK);
    assert_eq!(drain(&h.store).await.len(), 2, "only the two good requests");
}

#[tokio::test]
async fn elasticsearch_clients_get_product_info_at_the_root_and_browsers_do_not() {
    let h = harness();
    let req = Request::get("/")
        .header("x-elastic-client-meta", "es=9.5.1,py=3.11")
        .body(Body::empty())
        .unwrap();
    let (status, headers, bytes) = send(&h.app, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["x-elastic-product"], "Elasticsearch");
    assert_eq!(
        json_of(&bytes)["version"]["number"],
        bulk::ANNOUNCED_VERSION
    );

    let browser = Request::get("/")
        .header(header::ACCEPT, "text/html")
        .header(header::USER_AGENT, "Mozilla/5.0")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = send(&h.app, browser).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "passed on to the router");
    assert!(!headers.contains_key("x-elastic-product"));
}

// ---------------------------------------------------------------------------
// The event cap, counted before decoding

/// Each protocol's body of `n` records, two of them (the 1st and the last)
/// malformed where the protocol rejects a record by index.
fn bodies_of(n: usize) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let otlp = {
        let mut bodies: Vec<Option<&str>> = vec![Some("ok"); n];
        bodies[0] = None; // no body, no event name: rejected
        otlp_request(&bodies)
    };
    let loki_values: Vec<Value> = (0..n)
        .map(|i| {
            if i == 0 {
                json!(["yesterday", "bad time"])
            } else {
                json!(["1767323045000000000", format!("line {i}")])
            }
        })
        .collect();
    let loki_push = PushRequest {
        streams: vec![StreamAdapter {
            labels: r#"{app="web"}"#.into(),
            entries: (0..n)
                .map(|i| EntryAdapter {
                    timestamp: None,
                    line: format!("line {i}"),
                    structured_metadata: vec![],
                })
                .collect(),
            hash: 0,
        }],
    };
    let bulk: String = (0..n)
        .map(|i| {
            let document = if i == 0 {
                "{\"message\": not json}".to_owned()
            } else {
                json!({"message": format!("doc {i}")}).to_string()
            };
            format!("{{\"index\":{{\"_index\":\"web\"}}}}\n{document}\n")
        })
        .collect();
    vec![
        ("/v1/logs", "application/x-protobuf", otlp.encode_to_vec()),
        (
            "/v1/logs",
            "application/json",
            serde_json::to_vec(&otlp).unwrap(),
        ),
        (
            "/loki/api/v1/push",
            "application/json",
            json!({"streams": [{"stream": {"app": "web"}, "values": loki_values}]})
                .to_string()
                .into_bytes(),
        ),
        (
            "/loki/api/v1/push",
            "application/x-protobuf",
            snap::raw::Encoder::new()
                .compress_vec(&loki_push.encode_to_vec())
                .unwrap(),
        ),
        ("/_bulk", "application/x-ndjson", bulk.into_bytes()),
    ]
}

/// The refusal's reason in each protocol's error shape.
fn reason_of(content_type: &str, path: &str, bytes: &[u8]) -> String {
    match (path, content_type) {
        ("/v1/logs", "application/x-protobuf") => RpcStatus::decode(bytes).unwrap().message,
        ("/v1/logs", _) => json_of(bytes)["message"].as_str().unwrap().to_owned(),
        (_, "application/x-ndjson") => json_of(bytes)["error"]["reason"]
            .as_str()
            .unwrap()
            .to_owned(),
        _ => String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

#[tokio::test]
async fn over_the_event_cap_every_protocol_answers_413_naming_the_limit_and_stores_nothing() {
    let h = harness_with(
        IngestConfig {
            max_events: 3,
            ..IngestConfig::default()
        },
        10,
    );
    for (path, content_type, body) in bodies_of(4) {
        let (status, _, bytes) = send(&h.app, post(path, content_type, body.clone())).await;
        assert_eq!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path} {content_type}"
        );
        let reason = reason_of(content_type, path, &bytes);
        assert!(
            reason.contains("batch has 4 events, more than the limit of 3 (ingest.max_events)"),
            "{path} {content_type}: {reason}"
        );
        // Gzip-compressed: the same count from the decoded bytes.
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::CONTENT_ENCODING, "gzip")
            .body(Body::from(gzip(&body)))
            .unwrap();
        let (status, _, _) = send(&h.app, request).await;
        assert_eq!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path} {content_type} gzip"
        );
    }
    assert_eq!(h.store.backlog().await.unwrap(), 0, "nothing queued");
}

#[tokio::test]
async fn at_the_event_cap_malformed_records_are_still_rejected_by_index() {
    let h = harness_with(
        IngestConfig {
            max_events: 3,
            ..IngestConfig::default()
        },
        100,
    );
    let mut stored = 0;
    for (path, content_type, body) in bodies_of(3) {
        let (status, _, bytes) = send(&h.app, post(path, content_type, body)).await;
        let events = drain(&h.store).await;
        match (path, content_type) {
            // Loki's protobuf entries have no field to get wrong.
            ("/loki/api/v1/push", "application/x-protobuf") => {
                assert_eq!(status, StatusCode::NO_CONTENT);
                assert_eq!(events.len(), 3);
            }
            ("/v1/logs", _) => {
                assert_eq!(status, StatusCode::OK, "{content_type}");
                let reason = match content_type {
                    "application/json" => json_of(&bytes)["partialSuccess"]["errorMessage"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    _ => {
                        ExportLogsServiceResponse::decode(bytes.as_slice())
                            .unwrap()
                            .partial_success
                            .unwrap()
                            .error_message
                    }
                };
                assert!(reason.contains("record 0"), "{content_type}: {reason}");
                assert_eq!(events.len(), 2);
            }
            ("/loki/api/v1/push", _) => {
                assert_eq!(status, StatusCode::BAD_REQUEST);
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.contains("record 0"), "{text}");
                assert_eq!(events.len(), 2);
            }
            _ => {
                assert_eq!(status, StatusCode::OK);
                let answer = json_of(&bytes);
                assert_eq!(answer["errors"], true);
                assert_eq!(answer["items"][0]["index"]["status"], 400);
                assert_eq!(answer["items"][1]["index"]["status"], 201);
                assert_eq!(events.len(), 2);
            }
        }
        stored += events.len();
    }
    assert_eq!(stored, 11);
}

#[tokio::test]
async fn every_protocol_refuses_a_batch_over_the_stored_size_with_413_and_stores_nothing() {
    // Control characters are stored as \u0001 (6 bytes each): 10 records of
    // 300 raw bytes decode to 3 KB but would take about 18 KB stored.
    let h = harness_with(
        IngestConfig {
            max_stored_bytes: 10_000,
            ..IngestConfig::default()
        },
        10,
    );
    let line = "\u{1}".repeat(300);
    let otlp = otlp_request(&[Some(line.as_str()); 10]);
    let loki = PushRequest {
        streams: vec![StreamAdapter {
            labels: r#"{app="web"}"#.into(),
            entries: (0..10)
                .map(|_| EntryAdapter {
                    timestamp: None,
                    line: line.clone(),
                    structured_metadata: vec![],
                })
                .collect(),
            hash: 0,
        }],
    };
    let bulk: String = (0..10)
        .map(|_| format!("{{\"index\":{{}}}}\n{}\n", json!({"message": line})))
        .collect();
    for (path, content_type, body) in [
        ("/v1/logs", "application/x-protobuf", otlp.encode_to_vec()),
        (
            "/loki/api/v1/push",
            "application/x-protobuf",
            snap::raw::Encoder::new()
                .compress_vec(&loki.encode_to_vec())
                .unwrap(),
        ),
        ("/web/_bulk", "application/x-ndjson", bulk.into_bytes()),
    ] {
        let (status, _, bytes) = send(&h.app, post(path, content_type, body)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        let reason = reason_of(content_type, path, &bytes);
        assert!(
            reason.contains("ingest.max_stored_bytes"),
            "{path}: {reason}"
        );
    }
    assert_eq!(h.store.backlog().await.unwrap(), 0, "nothing queued");
}
