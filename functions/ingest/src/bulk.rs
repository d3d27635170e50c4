//! `POST|PUT /_bulk` and `/{index}/_bulk`: the Elasticsearch bulk API, as
//! Filebeat, Logstash, Fluent Bit, Vector and the official clients send it.
//!
//! The body is NDJSON (`application/x-ndjson`, `application/json`, or
//! `application/vnd.elasticsearch+x-ndjson; compatible-with=N`): action lines
//! (`{"index": {...}}` or `{"create": {...}}`, each followed by its document)
//! and documents, which are ordinary `/ingest` JSON records
//! ([`anomalog_core::parse::parse_json_record`]); the index (of the action, else
//! of the path) is the service of a document that names none. `update` and
//! `delete` items are answered with a per-item error: logs are append-only.
//!
//! Answers are shaped as Elasticsearch's (`took`, `errors`, `items` with a
//! `status` per item: 201 stored, 400 rejected) and carry
//! `X-Elastic-Product: Elasticsearch`, which the official clients require. A
//! request that cannot be read as a whole (a malformed action line, a missing
//! document) is a 400 with Elasticsearch's error shape, and nothing of it is
//! stored; refusals of `/ingest` (401, 413, 415, 429, 503 with `Retry-After`)
//! keep their status in that shape. [`answer_product_check`] answers the
//! `GET /` the Beats and Logstash make before they send.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::Instant;

use axum::body::Body;
use axum::extract::rejection::ExtensionRejection;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use anomalog_core::StoredLog;
use anomalog_core::parse::{ParseDefaults, ParsedBatch, parse_json_record};

use crate::shipper;
use crate::{IngestError, IngestParams, IngestState};

/// The Elasticsearch version announced to clients: the Beats, Logstash and the
/// clients accept 8.x servers and adapt to them.
pub const ANNOUNCED_VERSION: &str = "8.17.0";

const PRODUCT_HEADER: &str = "x-elastic-product";

/// One item of a bulk request, in request order.
pub(crate) enum Item<'a> {
    /// An `index` or `create` action and its document.
    Write {
        action: &'static str,
        index: Option<String>,
        id: Option<String>,
        document: &'a str,
    },
    /// An action anomalog does not perform (`update`, `delete`).
    Unsupported {
        action: &'static str,
        index: Option<String>,
        id: Option<String>,
    },
}

/// Why a bulk request as a whole could not be read.
pub(crate) struct Malformed(pub(crate) String);

/// Why the items of a bulk request were not read.
pub(crate) enum Unread {
    /// Not a bulk body (400 in Elasticsearch's shape).
    Malformed(Malformed),
    /// More items than the limit: how many (counted, not built).
    TooMany(usize),
}

impl From<Malformed> for Unread {
    fn from(malformed: Malformed) -> Self {
        Unread::Malformed(malformed)
    }
}

pub(crate) async fn bulk(
    State(state): State<IngestState>,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    Query(params): Query<IngestParams>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let peer = shipper::peer_ip(peer);
    handle(&state, None, params, &headers, peer, body, Utc::now()).await
}

pub(crate) async fn bulk_into(
    State(state): State<IngestState>,
    Path(index): Path<String>,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    Query(params): Query<IngestParams>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let peer = shipper::peer_ip(peer);
    handle(
        &state,
        Some(index),
        params,
        &headers,
        peer,
        body,
        Utc::now(),
    )
    .await
}

/// The whole bulk flow as a plain function of its inputs; `path_index` is the
/// `{index}` of `/{index}/_bulk`.
pub async fn handle(
    state: &IngestState,
    path_index: Option<String>,
    params: IngestParams,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    body: Body,
    now: DateTime<Utc>,
) -> Response {
    let started = Instant::now();
    let content_type = response_type(headers);
    let result = accept(state, path_index, params, headers, peer, body, now, started).await;
    let mut response = match result {
        Ok(Answer::Items {
            body,
            accepted,
            rejected,
        }) => {
            crate::metrics::request(200);
            crate::metrics::count(crate::metrics::EVENTS_ACCEPTED, accepted);
            crate::metrics::count(crate::metrics::EVENTS_REJECTED, rejected);
            (StatusCode::OK, body).into_response()
        }
        Ok(Answer::Malformed(Malformed(reason))) => {
            crate::metrics::request(400);
            let body = error_body("illegal_argument_exception", &reason, 400);
            (StatusCode::BAD_REQUEST, body.to_string()).into_response()
        }
        Err(e) => {
            shipper::count_error(&e);
            let kind = match e.status() {
                StatusCode::UNAUTHORIZED => "security_exception",
                StatusCode::TOO_MANY_REQUESTS => "es_rejected_execution_exception",
                StatusCode::SERVICE_UNAVAILABLE => "unavailable_shards_exception",
                StatusCode::PAYLOAD_TOO_LARGE => "content_too_long_exception",
                _ => "illegal_argument_exception",
            };
            let message = match &e {
                IngestError::UnsupportedMediaType(content_type) => format!(
                    "Content-Type header [{content_type}] is not supported (use \
                     application/x-ndjson)"
                ),
                other => other.to_string(),
            };
            let (mut parts, _) = e.into_response().into_parts();
            let body = error_body(kind, &message, parts.status.as_u16());
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(body.to_string()))
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(PRODUCT_HEADER, HeaderValue::from_static("Elasticsearch"));
    response
}

enum Answer {
    Items {
        /// The serialized [`BulkResponse`].
        body: String,
        accepted: usize,
        rejected: usize,
    },
    Malformed(Malformed),
}

/// The body of a bulk answer, as Elasticsearch shapes it.
#[derive(Serialize)]
struct BulkResponse<'a> {
    took: u64,
    errors: bool,
    items: Vec<ItemAnswer<'a>>,
}

/// `{"<action>": {...}}`.
struct ItemAnswer<'a> {
    action: &'static str,
    body: ItemBody<'a>,
}

impl Serialize for ItemAnswer<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.action, &self.body)?;
        map.end()
    }
}

#[derive(Serialize)]
struct ItemBody<'a> {
    _index: &'a str,
    _id: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    _version: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    _shards: Option<Shards>,
    #[serde(skip_serializing_if = "Option::is_none")]
    _seq_no: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    _primary_term: Option<u8>,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ItemError>,
}

#[derive(Serialize)]
struct Shards {
    total: u8,
    successful: u8,
    failed: u8,
}

#[derive(Serialize)]
struct ItemError {
    #[serde(rename = "type")]
    kind: &'static str,
    reason: String,
}

#[allow(clippy::too_many_arguments)]
async fn accept(
    state: &IngestState,
    path_index: Option<String>,
    params: IngestParams,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    body: Body,
    now: DateTime<Utc>,
    started: Instant,
) -> Result<Answer, IngestError> {
    check_content_type(headers)?;
    let base = shipper::defaults(headers, params.service, now);
    let limits = state.config.parse_limits();
    let max_line = state.config.max_line_bytes;
    let (max_events, max_stored) = (state.config.max_events, state.config.max_stored_bytes);
    let body_index = path_index.clone();
    let received = shipper::receive(state, headers, body, move |body| {
        let read = read_and_parse(
            &body,
            max_events,
            body_index.as_ref(),
            &base,
            &limits,
            max_line,
        );
        if let Ok(Ok(decoded)) = &read {
            crate::check_stored_size(&decoded.batch, max_stored)?;
        }
        Ok(read)
    })
    .await?;
    let Decoded {
        heads,
        outcomes,
        batch,
    } = match received.decoded {
        Ok(Ok(decoded)) => decoded,
        Ok(Err(malformed)) => return Ok(Answer::Malformed(malformed)),
        Err(count) => return Err(shipper::too_many(count, max_events)),
    };

    // Every item rejected: nothing to store, and Elasticsearch still answers 200.
    let stored = if batch.events.is_empty() {
        shipper::Stored {
            entry: None,
            accepted: 0,
            rejections: batch.rejections,
        }
    } else {
        shipper::store(state, received.key_index, peer, batch).await?
    };

    let entry = stored.entry.unwrap_or_default();
    let mut errors = false;
    let answers = heads
        .iter()
        .zip(outcomes)
        .map(|((action, index, id), outcome)| {
            let action = *action;
            let _index = index
                .as_ref()
                .or(path_index.as_ref())
                .map_or("", String::as_str);
            let body = match outcome {
                Ok(n) => ItemBody {
                    _index,
                    _id: Some(match id {
                        Some(id) => Cow::Borrowed(id.as_str()),
                        None => Cow::Owned(StoredLog::id_for(&entry, n)),
                    }),
                    _version: Some(1),
                    result: Some("created"),
                    _shards: Some(Shards {
                        total: 1,
                        successful: 1,
                        failed: 0,
                    }),
                    _seq_no: Some(n),
                    _primary_term: Some(1),
                    status: 201,
                    error: None,
                },
                Err((status, kind, reason)) => {
                    errors = true;
                    ItemBody {
                        _index,
                        _id: id.as_deref().map(Cow::Borrowed),
                        _version: None,
                        result: None,
                        _shards: None,
                        _seq_no: None,
                        _primary_term: None,
                        status,
                        error: Some(ItemError { kind, reason }),
                    }
                }
            };
            ItemAnswer { action, body }
        })
        .collect();
    let took = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // Plain structs with string keys: serializing cannot fail, and the events
    // are queued by now, so an error status here would only cause a resend.
    let body = serde_json::to_string(&BulkResponse {
        took,
        errors,
        items: answers,
    })
    .unwrap_or_else(|e| {
        tracing::error!(error = %e, "bulk answer not serialized");
        format!(r#"{{"took":{took},"errors":true,"items":[]}}"#)
    });
    Ok(Answer::Items {
        body,
        accepted: stored.accepted,
        rejected: stored.rejections.len(),
    })
}

/// Per item: the index of its event in the batch, or its status, error type
/// and reason.
type Outcome = Result<usize, (u16, &'static str, String)>;

/// A bulk body read and parsed: each item's action, index and id, its
/// outcome, and the batch of its good documents.
struct Decoded {
    heads: Vec<(&'static str, Option<String>, Option<String>)>,
    outcomes: Vec<Outcome>,
    batch: ParsedBatch,
}

/// Reads a bulk body's items and parses their documents; `Err` with the
/// count when there are more than `max_events` (counted, not built).
fn read_and_parse(
    body: &[u8],
    max_events: usize,
    path_index: Option<&String>,
    base: &ParseDefaults,
    limits: &anomalog_core::parse::ParseLimits,
    max_line: usize,
) -> Result<Result<Decoded, Malformed>, usize> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Ok(Err(Malformed("the bulk body is not valid UTF-8".into())));
    };
    let items = match read_items(text, max_events) {
        Ok(items) => items,
        Err(Unread::Malformed(malformed)) => return Ok(Err(malformed)),
        Err(Unread::TooMany(count)) => return Err(count),
    };
    // Per item: the index of its event in the batch, or its error.
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(items.len());
    let mut batch = ParsedBatch::default();
    for (position, item) in items.iter().enumerate() {
        let outcome = match item {
            Item::Unsupported { action, .. } => Err((
                400,
                "illegal_argument_exception",
                format!(
                    "anomalog stores logs append-only: '{action}' is not supported, use index or create"
                ),
            )),
            Item::Write { document, .. } if document.len() > max_line => Err((
                400,
                "document_parsing_exception",
                format!(
                    "document is {} bytes, more than the limit of {max_line}",
                    document.len()
                ),
            )),
            Item::Write {
                index,
                id,
                document,
                ..
            } => {
                // The index names the service of a document that names none.
                let named;
                let defaults = match index.as_ref().or(path_index) {
                    Some(service) if base.service.is_none() => {
                        named = ParseDefaults {
                            service: Some(service.clone()),
                            ..base.clone()
                        };
                        &named
                    }
                    _ => base,
                };
                match serde_json::from_str::<Value>(document) {
                    Err(e) => Err((
                        400,
                        "document_parsing_exception",
                        format!("document is not valid JSON: {e}"),
                    )),
                    Ok(value) => match parse_json_record(&value, defaults, limits) {
                        Err(reason) => Err((400, "document_parsing_exception", reason)),
                        Ok(mut event) => {
                            if let Some(id) = id
                                && event.attrs.len() < limits.max_attrs
                            {
                                event.attrs.insert("_id".into(), Value::String(id.clone()));
                            }
                            batch.push(event);
                            Ok(batch.events.len() - 1)
                        }
                    },
                }
            }
        };
        if let Err((_, _, reason)) = &outcome {
            batch.rejections.push(anomalog_core::parse::Rejection {
                index: position,
                reason: reason.clone(),
            });
        }
        outcomes.push(outcome);
    }
    let heads = items
        .into_iter()
        .map(|item| match item {
            Item::Write {
                action, index, id, ..
            }
            | Item::Unsupported { action, index, id } => (action, index, id),
        })
        .collect();
    Ok(Ok(Decoded {
        heads,
        outcomes,
        batch,
    }))
}

fn check_content_type(headers: &HeaderMap) -> Result<(), IngestError> {
    let (content_type, mime) = shipper::content_type(headers);
    match mime.as_str() {
        ""
        | "application/x-ndjson"
        | "application/json"
        | "application/vnd.elasticsearch+x-ndjson"
        | "application/vnd.elasticsearch+json" => Ok(()),
        _ => Err(IngestError::UnsupportedMediaType(content_type.to_owned())),
    }
}

/// Splits the body into items. Blank lines are skipped, as Elasticsearch does.
/// Past `max` items the rest is only counted (each action line read for its
/// action alone, building nothing) and the body refused with the count; a
/// malformed line there still makes the body [`Unread::Malformed`].
pub(crate) fn read_items(text: &str, max: usize) -> Result<Vec<Item<'_>>, Unread> {
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let mut items = Vec::new();
    while let Some((number, line)) = lines.next() {
        let at = number + 1;
        if items.len() == max {
            let mut count = max;
            let mut next = Some((number, line));
            while let Some((number, line)) = next {
                let at = number + 1;
                let action = action_alone(line, at)?;
                if action != "delete" && lines.next().is_none() {
                    return Err(no_document(at, action).into());
                }
                count = count.saturating_add(1);
                next = lines.next();
            }
            return Err(Unread::TooMany(count));
        }
        let action: Value = serde_json::from_str(line).map_err(|e| not_json(at, &e))?;
        let Some((name, meta)) = action
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
        else {
            return Err(not_one_action(at).into());
        };
        let action = action_named(name, at)?;
        let Some(meta) = meta.as_object() else {
            return Err(meta_not_object(at, action).into());
        };
        let text_field = |key: &str| meta.get(key).and_then(Value::as_str).map(str::to_owned);
        let index = text_field("_index");
        let id = text_field("_id").or_else(|| {
            meta.get("_id")
                .filter(|v| v.is_number())
                .map(Value::to_string)
        });
        if action == "delete" {
            items.push(Item::Unsupported { action, index, id });
            continue;
        }
        let Some((_, document)) = lines.next() else {
            return Err(no_document(at, action).into());
        };
        if action == "update" {
            items.push(Item::Unsupported { action, index, id });
        } else {
            items.push(Item::Write {
                action,
                index,
                id,
                document,
            });
        }
    }
    if items.is_empty() {
        return Err(Malformed("Validation Failed: 1: no requests added;".into()).into());
    }
    Ok(items)
}

fn not_json(at: usize, e: &serde_json::Error) -> Malformed {
    Malformed(format!("line {at}: the action line is not valid JSON: {e}"))
}

fn not_one_action(at: usize) -> Malformed {
    Malformed(format!(
        "line {at}: an action line must be an object with exactly one action \
         (index, create, update or delete)"
    ))
}

fn meta_not_object(at: usize, action: &str) -> Malformed {
    Malformed(format!(
        "line {at}: the metadata of [{action}] must be an object"
    ))
}

fn no_document(at: usize, action: &str) -> Malformed {
    Malformed(format!(
        "line {at}: the [{action}] action has no document line after it"
    ))
}

/// The action an action line names.
fn action_named(name: &str, at: usize) -> Result<&'static str, Malformed> {
    match name {
        "index" => Ok("index"),
        "create" => Ok("create"),
        "update" => Ok("update"),
        "delete" => Ok("delete"),
        other => Err(Malformed(format!(
            "line {at}: unknown action [{other}] (expected index, create, update or delete)"
        ))),
    }
}

/// The action of an action line, checked as [`read_items`] checks it, read
/// without building its metadata.
fn action_alone(line: &str, at: usize) -> Result<&'static str, Malformed> {
    let shape: ActionShape = serde_json::from_str(line).map_err(|e| not_json(at, &e))?;
    let (true, false, Some((name, meta_is_object))) = (shape.object, shape.other_keys, shape.first)
    else {
        return Err(not_one_action(at));
    };
    let action = action_named(&name, at)?;
    if !meta_is_object {
        return Err(meta_not_object(at, action));
    }
    Ok(action)
}

/// Of an action line: whether it is an object, its first key and whether
/// that key's (last) value is an object, and whether it has other keys
/// (a repeated key is one key, as in a parsed `Value`). Nothing else of it
/// is kept.
#[derive(Default)]
struct ActionShape {
    object: bool,
    first: Option<(String, bool)>,
    other_keys: bool,
}

/// Whether a JSON value is an object, read without building it.
struct IsObject(bool);

impl<'de> serde::Deserialize<'de> for ActionShape {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShapeVisitor)
    }
}

impl<'de> serde::Deserialize<'de> for IsObject {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ShapeVisitor)
            .map(|shape| IsObject(shape.object))
    }
}

struct ShapeVisitor;

impl<'de> serde::de::Visitor<'de> for ShapeVisitor {
    type Value = ActionShape;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<ActionShape, E> {
        Ok(ActionShape::default())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<ActionShape, E> {
        Ok(ActionShape::default())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<ActionShape, E> {
        Ok(ActionShape::default())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<ActionShape, E> {
        Ok(ActionShape::default())
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<ActionShape, E> {
        Ok(ActionShape::default())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<ActionShape, E> {
        Ok(ActionShape::default())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ActionShape, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(ActionShape::default())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ActionShape, A::Error> {
        let mut shape = ActionShape {
            object: true,
            ..ActionShape::default()
        };
        while let Some(key) = map.next_key::<String>()? {
            match &mut shape.first {
                None => {
                    let IsObject(is_object) = map.next_value()?;
                    shape.first = Some((key, is_object));
                }
                Some((first, is_object)) if *first == key => {
                    *is_object = map.next_value::<IsObject>()?.0;
                }
                Some(_) => {
                    shape.other_keys = true;
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(shape)
    }
}

/// Elasticsearch's error shape.
fn error_body(kind: &str, reason: &str, status: u16) -> Value {
    json!({
        "error": {
            "root_cause": [{"type": kind, "reason": reason}],
            "type": kind,
            "reason": reason,
        },
        "status": status,
    })
}

/// The response type matching the client's `Accept`: clients that ask for
/// `application/vnd.elasticsearch+json; compatible-with=N` get it back.
fn response_type(headers: &HeaderMap) -> HeaderValue {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.contains("application/vnd.elasticsearch+json"))
        .and_then(|v| HeaderValue::from_str(v.split(',').next().unwrap_or(v).trim()).ok())
        .unwrap_or_else(|| HeaderValue::from_static("application/json"))
}

/// Middleware for the whole server: answers the product check (`GET /` or
/// `HEAD /`) of Elasticsearch clients with a version and
/// `X-Elastic-Product: Elasticsearch`, and passes everything else (a browser
/// asking for the dashboard at `/`) on. A request is an Elasticsearch client's
/// when it sends `X-Elastic-Client-Meta`, asks for
/// `application/vnd.elasticsearch+json`, or its User-Agent names Elastic,
/// Beats, Logstash, Fluent Bit or Vector, and it does not ask for HTML.
pub async fn answer_product_check(request: Request, next: Next) -> Response {
    let is_root = request.uri().path() == "/"
        && (request.method() == Method::GET || request.method() == Method::HEAD);
    if !is_root || !from_elasticsearch_client(request.headers()) {
        return next.run(request).await;
    }
    let body = json!({
        "name": "anomalog",
        "cluster_name": "anomalog",
        "cluster_uuid": "anomalog",
        "version": {
            "number": ANNOUNCED_VERSION,
            "build_flavor": "default",
            "build_type": "anomalog",
            "lucene_version": "9.12.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    });
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, response_type(request.headers()));
    headers.insert(PRODUCT_HEADER, HeaderValue::from_static("Elasticsearch"));
    response
}

fn from_elasticsearch_client(headers: &HeaderMap) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    let agent = text(header::USER_AGENT);
    let accept = text(header::ACCEPT);
    // A browser asking for a page always gets the dashboard.
    if accept.contains("text/html") {
        return false;
    }
    headers.contains_key("x-elastic-client-meta")
        || accept.contains("vnd.elasticsearch")
        || [
            "elastic",
            "beat",
            "logstash",
            "manticore",
            "fluent-bit",
            "vector",
        ]
        .iter()
        .any(|name| agent.contains(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_bodies_split_into_items() {
        let body = "{\"index\":{\"_index\":\"web\",\"_id\":\"a\"}}\n{\"message\":\"m\"}\n\n\
                    {\"delete\":{\"_id\":\"x\"}}\n{\"create\":{}}\n{\"message\":\"n\"}\n";
        let items = read_items(body, 10).ok().unwrap();
        assert_eq!(items.len(), 3);
        assert!(
            matches!(&items[0], Item::Write { action: "index", index: Some(i), id: Some(d), document }
            if i == "web" && d == "a" && *document == "{\"message\":\"m\"}")
        );
        assert!(matches!(
            &items[1],
            Item::Unsupported {
                action: "delete",
                ..
            }
        ));
        assert!(matches!(
            &items[2],
            Item::Write {
                action: "create",
                index: None,
                ..
            }
        ));
    }

    #[test]
    fn malformed_action_lines_and_missing_documents_fail_the_request() {
        for body in [
            "not json\n{}\n",
            "{\"upsert\":{}}\n{}\n",
            "{\"index\":{}}\n",
            "{\"index\":{},\"create\":{}}\n{}\n",
            "\n\n",
        ] {
            assert!(
                matches!(read_items(body, 10), Err(Unread::Malformed(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn past_the_limit_items_are_counted_exactly_and_not_built() {
        let body = "{\"index\":{\"_id\":\"a\"}}\n{}\n{\"delete\":{\"_id\":1}}\n\n\
                    {\"update\":{}}\n{\"doc\":{}}\n{\"create\":{},\"create\":{\"_index\":\"x\"}}\n{}\n";
        assert_eq!(read_items(body, 4).ok().map(|items| items.len()), Some(4));
        for max in 0..4 {
            assert!(
                matches!(read_items(body, max), Err(Unread::TooMany(4))),
                "max {max}"
            );
        }
    }

    #[test]
    fn past_the_limit_malformed_lines_fail_the_body_with_the_same_reason() {
        for bad in [
            "not json\n{}\n",
            "{\"upsert\":{}}\n{}\n",
            "{\"index\":{}}\n",
            "{\"index\":{},\"create\":{}}\n{}\n",
            "{\"index\":[]}\n{}\n",
            "[{\"index\":{}}]\n{}\n",
        ] {
            let body = format!("{{\"delete\":{{}}}}\n{bad}");
            let reason = |max| match read_items(&body, max) {
                Err(Unread::Malformed(Malformed(reason))) => reason,
                _ => panic!("{body:?} read under a limit of {max}"),
            };
            assert_eq!(reason(1), reason(10), "{body:?}");
        }
    }

    #[test]
    fn elasticsearch_clients_are_recognised() {
        let mut headers = HeaderMap::new();
        headers.insert(header::USER_AGENT, HeaderValue::from_static("Mozilla/5.0"));
        assert!(!from_elasticsearch_client(&headers));
        headers.insert("x-elastic-client-meta", HeaderValue::from_static("es=9.0"));
        assert!(from_elasticsearch_client(&headers));
        let mut beats = HeaderMap::new();
        beats.insert(
            header::USER_AGENT,
            HeaderValue::from_static("Elastic-filebeat/8.17.0 (linux; amd64)"),
        );
        assert!(from_elasticsearch_client(&beats));
    }
}
