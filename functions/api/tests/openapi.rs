//! The OpenAPI document: it parses, describes exactly the routes the routers
//! serve, its examples validate against its schemas, and real responses of
//! every endpoint (success and error) validate against the documented schema
//! of their status, with unknown properties forbidden so the hand-written
//! schemas of core types cannot fall behind those types.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::http::{Method, Request, StatusCode, header};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use tower::ServiceExt;

use anomalog_api::{ApiState, openapi_document, router};
use anomalog_core::config::IngestConfig;
use anomalog_core::{
    Anomaly, AnomalyKind, AnomalyStatus, Level, LogEvent, LogSample, Severity, StoredLog,
};
use anomalog_ingest::IngestState;
use anomalog_store::{EmbeddedStore, Stores};

/// Routes that serve the document and its page rather than the API.
const DOCS_ROUTES: &[&str] = &[
    "/api/openapi.json",
    "/api/docs",
    "/api/docs/",
    "/api/docs/{*rest}",
];

/// Schemas that allow properties they do not name (a log record's other
/// fields become its attributes).
const OPEN_SCHEMAS: &[&str] = &["LogRecord"];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 6, 12, 0, 0).unwrap()
}

fn document() -> Value {
    serde_json::to_value(openapi_document()).unwrap()
}

/// Every field of a stored log set, so each one meets the schema.
fn full_log(id: usize, ago_secs: i64, service: &str, level: Level) -> StoredLog {
    StoredLog {
        pattern: Some(PATTERN_ID.to_owned()),
        id: format!("000000000001-{id:05}"),
        event: LogEvent {
            ts: now() - Duration::seconds(ago_secs),
            received_at: now(),
            service: service.into(),
            host: Some("h1".into()),
            level,
            message: format!("line {id}"),
            attrs: [
                ("order".to_owned(), json!(42)),
                ("tags".into(), json!(["a"])),
            ]
            .into_iter()
            .collect(),
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            span_id: Some("00f067aa0ba902b7".into()),
            source: Some("/var/log/app.log".into()),
            truncated: true,
        },
    }
}

/// The one pattern of the harness; every log line has it.
const PATTERN_ID: &str = "0123456789abcdef";

struct Harness {
    _dir: tempfile::TempDir,
    app: axum::Router,
    anomaly_id: String,
    incident_id: String,
}

/// The API and ingest routers merged, as `anomalog up` serves them, over one
/// embedded store holding a few logs and one anomaly.
async fn harness(queue_capacity: u64) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(EmbeddedStore::open_bounded(dir.path(), queue_capacity).unwrap());
    let stores = Stores::from_adapter(store.clone());
    let logs = vec![
        full_log(0, 40, "api", Level::Info),
        full_log(1, 30, "api", Level::Error),
        full_log(2, 20, "web", Level::Warn),
        full_log(3, 10, "web", Level::Fatal),
    ];
    stores.logs.persist(&logs).await.unwrap();
    stores
        .patterns
        .record_patterns(&[anomalog_store::PatternSighting {
            service: "api".into(),
            id: PATTERN_ID.into(),
            template: "order <*> failed".into(),
            first_seen: now() - Duration::seconds(40),
            last_seen: now() - Duration::seconds(10),
            total: 4,
            max_level: Level::Fatal,
            examples: vec!["order 7 failed".into()],
            merged_into: None,
        }])
        .await
        .unwrap();
    let start = now() - Duration::seconds(35);
    let anomaly_id = Anomaly::id_for(AnomalyKind::Burst, "api", start);
    stores
        .anomalies
        .upsert(&[Anomaly {
            id: anomaly_id.clone(),
            kind: AnomalyKind::Burst,
            service: "api".into(),
            window_start: start,
            window_end: now() - Duration::seconds(25),
            observed: 1.0,
            expected: 0.0,
            stddev: 0.0,
            score: 0.5,
            severity: Severity::Low,
            status: AnomalyStatus::Open,
            first_seen: now(),
            last_seen: now(),
            message: "1 error".into(),
            samples: vec![LogSample {
                ts: now(),
                level: Level::Error,
                message: "line 1".into(),
            }],
            measure: None,
            explanation: Vec::new(),
        }])
        .await
        .unwrap();
    let stored = stores.anomalies.list(&Default::default()).await.unwrap();
    let incidents = anomalog_core::incident::group(&stored, &Default::default());
    stores.incidents.upsert_incidents(&incidents).await.unwrap();
    let incident_id = incidents[0].id.clone();
    let api = router(ApiState::with_clock(stores, Arc::new(now)));
    let ingest = anomalog_ingest::router(IngestState::new(
        store,
        IngestConfig {
            api_keys: vec!["k1".into()],
            max_body_bytes: 4096,
            ..IngestConfig::default()
        },
    ));
    Harness {
        _dir: dir,
        app: api.merge(ingest),
        anomaly_id,
        incident_id,
    }
}

async fn send(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = to_bytes(res.into_body(), 1 << 24).await.unwrap();
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The document's component schemas as `$defs` of one JSON Schema, with
/// `additionalProperties: false` added to every closed object schema.
fn defs(doc: &Value, strict: bool) -> Value {
    let mut schemas = doc["components"]["schemas"].clone();
    if strict {
        for (name, schema) in schemas.as_object_mut().unwrap() {
            if !OPEN_SCHEMAS.contains(&name.as_str()) {
                close_objects(schema);
            }
        }
    }
    let text = schemas
        .to_string()
        .replace("#/components/schemas/", "#/$defs/");
    serde_json::from_str(&text).unwrap()
}

fn close_objects(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for v in map.values_mut() {
                close_objects(v);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// Validates `value` against `schema` (which may `$ref` the document's components).
fn check(doc: &Value, schema: &Value, value: &Value, strict: bool, what: &str) {
    let mut root = schema.clone();
    let text = root
        .to_string()
        .replace("#/components/schemas/", "#/$defs/");
    root = serde_json::from_str(&text).unwrap();
    if strict {
        close_objects(&mut root);
    }
    let root = json!({ "allOf": [root], "$defs": defs(doc, strict) });
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("{what}: the schema does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: {value} does not match its documented schema: {errors:#?}"
    );
}

/// Asserts a real response matches what the document says for its operation
/// and status: the status is documented, the body matches its schema, and the
/// documented headers are present.
fn conforms(
    doc: &Value,
    method: &str,
    path: &str,
    status: StatusCode,
    headers: &axum::http::HeaderMap,
    body: &Value,
) {
    let what = format!("{} {path} -> {status}", method.to_uppercase());
    let response = &doc["paths"][path][method]["responses"][status.as_str()];
    assert!(response.is_object(), "{what}: status not documented");
    let schema = &response["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{what}: no JSON schema documented");
    check(doc, schema, body, true, &what);
    if let Some(documented) = response["headers"].as_object() {
        for name in documented.keys() {
            assert!(
                headers.contains_key(name.as_str()),
                "{what}: documented header {name} missing"
            );
        }
    }
}

/// Paths the router serves, read from its debug form (axum has no public
/// route listing; a format change makes this fail loudly, not pass).
fn served_paths(app: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{app:?}");
    let start = debug.find("path_router:").unwrap();
    let end = debug.find("fallback_router:").unwrap();
    let mut paths = BTreeSet::new();
    let mut rest = &debug[start..end];
    while let Some(at) = rest.find("): \"/") {
        let after = &rest[at + 4..];
        let close = after.find('"').unwrap();
        paths.insert(after[..close].to_owned());
        rest = &after[close..];
    }
    assert!(
        paths.contains("/api/logs"),
        "cannot read routes from the router's debug form: {debug}"
    );
    paths
}

#[test]
fn document_is_openapi_3_1_and_round_trips() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "anomalog");
    // An independent OpenAPI 3.1 parser reads it, including every operation.
    let spec = oas3::from_json(doc.to_string()).unwrap();
    let operations = spec.operations().count();
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(operations, documented);
    assert!(operations >= 8, "{operations} operations");
}

/// Compiles one component schema as JSON Schema 2020-12 (every `$ref` must resolve).
fn compiles(doc: &Value, name: &str) {
    let root = json!({ "$ref": format!("#/$defs/{name}"), "$defs": defs(doc, false) });
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{name}: {e}"));
}

#[tokio::test]
async fn every_served_route_is_documented_and_every_documented_one_is_served() {
    let h = harness(100).await;
    let doc = document();
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let served: BTreeSet<String> = served_paths(&h.app)
        .into_iter()
        .filter(|p| !DOCS_ROUTES.contains(&p.as_str()))
        .collect();
    assert_eq!(served, documented, "served routes vs documented routes");

    // Each documented operation answers its method (no 404/405 from routing).
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let id = if path.starts_with("/api/patterns/") {
                PATTERN_ID
            } else if path.starts_with("/api/incidents") {
                h.incident_id.as_str()
            } else {
                h.anomaly_id.as_str()
            };
            let uri = path.replace("{id}", id);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, _, _) = send(
                &h.app,
                Request::builder()
                    .method(method.clone())
                    .uri(&uri)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}: {status}"
            );
        }
    }
}

#[test]
fn every_schema_compiles() {
    let doc = document();
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        compiles(&doc, name);
    }
}

/// Every `example` in the document, with the schema it illustrates.
fn examples(doc: &Value) -> Vec<(String, Value, Value)> {
    let mut out = Vec::new();
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if let Some(example) = schema.get("example") {
            out.push((
                format!("schema {name}"),
                json!({"$ref": format!("#/components/schemas/{name}")}),
                example.clone(),
            ));
        }
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if let Some(example) = p.get("example") {
                    out.push((
                        format!("{method} {path} parameter {}", p["name"]),
                        p["schema"].clone(),
                        example.clone(),
                    ));
                }
            }
            let mut media = Vec::new();
            if let Some(content) = op["requestBody"]["content"].as_object() {
                media.extend(content.iter().map(|(m, c)| (format!("request {m}"), c)));
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                if let Some(content) = response["content"].as_object() {
                    media.extend(content.iter().map(|(m, c)| (format!("{status} {m}"), c)));
                }
            }
            for (what, content) in media {
                if let Some(example) = content.get("example") {
                    out.push((
                        format!("{method} {path} {what}"),
                        content["schema"].clone(),
                        example.clone(),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn every_example_validates_against_its_schema() {
    let doc = document();
    let all = examples(&doc);
    assert!(all.len() >= 20, "only {} examples", all.len());
    for (what, schema, example) in all {
        check(&doc, &schema, &example, true, &what);
    }
}

#[tokio::test]
async fn the_documented_request_examples_are_accepted_by_ingest() {
    let h = harness(100).await;
    let doc = document();
    let content = doc["paths"]["/ingest"]["post"]["requestBody"]["content"]
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(content.len(), 3, "JSON, NDJSON and text are documented");
    for (media, c) in content {
        let body = match &c["example"] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        // Plain text lines carry no service: it comes from the query.
        let uri = if media == "text/plain" {
            "/ingest?service=web"
        } else {
            "/ingest"
        };
        let (status, headers, receipt) = send(
            &h.app,
            Request::post(uri)
                .header(header::CONTENT_TYPE, &media)
                .header(header::AUTHORIZATION, "Bearer k1")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{media}: {receipt}");
        assert_eq!(receipt["rejected"], 0, "{media}: {receipt}");
        conforms(&doc, "post", "/ingest", status, &headers, &receipt);
    }
}

#[tokio::test]
async fn ingest_refusals_match_their_documented_status_and_body() {
    let doc = document();
    let h = harness(1).await;
    let post = |auth: Option<&str>, content_type: &str, body: String| {
        let mut req = Request::post("/ingest").header(header::CONTENT_TYPE, content_type);
        if let Some(auth) = auth {
            req = req.header(header::AUTHORIZATION, format!("Bearer {auth}"));
        }
        req.body(Body::from(body)).unwrap()
    };
    let ok = || json!([{"service": "api", "message": "m"}]).to_string();
    let cases = [
        (
            post(None, "application/json", ok()),
            StatusCode::UNAUTHORIZED,
        ),
        (
            post(Some("k1"), "application/json", "x".repeat(5000)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            post(Some("k1"), "application/xml", ok()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            post(
                Some("k1"),
                "application/json",
                json!([{"level": "info"}]).to_string(),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            post(Some("k1"), "application/json", ok()),
            StatusCode::ACCEPTED,
        ),
        // The queue holds one batch: the next is refused with 503 + Retry-After.
        (
            post(Some("k1"), "application/json", ok()),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    ];
    let mut seen = BTreeMap::new();
    for (req, expected) in cases {
        let (status, headers, body) = send(&h.app, req).await;
        assert_eq!(status, expected, "{body}");
        conforms(&doc, "post", "/ingest", status, &headers, &body);
        seen.insert(status.as_u16(), body);
    }
    assert!(
        seen[&400]["errors"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );
}

#[tokio::test]
async fn every_api_response_matches_its_documented_schema() {
    let doc = document();
    let h = harness(100).await;
    let cursor_page = {
        let (_, _, body) = send(
            &h.app,
            Request::get("/api/logs?limit=1")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        body["next_cursor"].as_str().unwrap().to_owned()
    };
    let cases: Vec<(&str, String, StatusCode)> = vec![
        ("/api/health", "/api/health".into(), StatusCode::OK),
        ("/api/logs", "/api/logs".into(), StatusCode::OK),
        ("/api/logs", "/api/logs?limit=1".into(), StatusCode::OK),
        (
            "/api/logs",
            format!("/api/logs?limit=1&cursor={cursor_page}"),
            StatusCode::OK,
        ),
        (
            "/api/logs",
            "/api/logs?level=loud".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/logs",
            "/api/logs?cursor=zz".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/stats/volume",
            "/api/stats/volume?from=now-2m&step=10".into(),
            StatusCode::OK,
        ),
        (
            "/api/stats/volume",
            "/api/stats/volume?from=now-2m&step=10&by=service".into(),
            StatusCode::OK,
        ),
        (
            "/api/stats/volume",
            "/api/stats/volume?step=7".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/stats/breakdown",
            "/api/stats/breakdown".into(),
            StatusCode::OK,
        ),
        (
            "/api/stats/breakdown",
            "/api/stats/breakdown?from=now&to=now-1h".into(),
            StatusCode::BAD_REQUEST,
        ),
        ("/api/anomalies", "/api/anomalies".into(), StatusCode::OK),
        (
            "/api/anomalies",
            "/api/anomalies?kind=big".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/anomalies/{id}",
            format!("/api/anomalies/{}", h.anomaly_id),
            StatusCode::OK,
        ),
        (
            "/api/anomalies/{id}",
            "/api/anomalies/nope".into(),
            StatusCode::NOT_FOUND,
        ),
        ("/api/services", "/api/services".into(), StatusCode::OK),
        (
            "/api/incidents",
            "/api/incidents?status=open&service=api&since=now-1h".into(),
            StatusCode::OK,
        ),
        (
            "/api/incidents",
            "/api/incidents?status=done".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/incidents/{id}",
            format!("/api/incidents/{}", h.incident_id),
            StatusCode::OK,
        ),
        (
            "/api/incidents/{id}",
            "/api/incidents/nope".into(),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (path, uri, expected) in cases {
        let (status, headers, body) =
            send(&h.app, Request::get(&uri).body(Body::empty()).unwrap()).await;
        assert_eq!(status, expected, "{uri}: {body}");
        conforms(&doc, "get", path, status, &headers, &body);
    }
}

#[tokio::test]
async fn the_document_and_its_docs_page_are_served() {
    let h = harness(100).await;
    let (status, _, served) = send(
        &h.app,
        Request::get("/api/openapi.json")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served, document());

    let res = h
        .app
        .clone()
        .oneshot(Request::get("/api/docs/").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html =
        String::from_utf8(to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page loads nothing from other hosts: {html}"
    );
}
