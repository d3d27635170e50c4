//! `POST /loki/api/v1/push`: Grafana Loki's push API, as Promtail, Grafana
//! Alloy (`loki.write`), Fluent Bit, Vector and the logging libraries send it.
//!
//! Bodies: JSON (`{"streams": [{"stream": {labels}, "values": [["<unix ns>",
//! "<line>", {structured metadata}]]}]}`, also the legacy `{"labels":
//! "{a=\"b\"}", "entries": [{"ts", "line"}]}` streams) or snappy-compressed
//! protobuf (`application/x-protobuf`, `logproto.PushRequest` of Loki's
//! push.proto, whose messages are written below with its field numbers).
//! Entries map to events in [`anomalog_core::shippers::loki`].
//!
//! Answers as Loki does: 204 with no body when every entry was stored; a
//! `text/plain` error otherwise: 400 naming the rejected entries (the others
//! were stored), and `/ingest`'s 401, 413, 415, 429 and 503 with `Retry-After`.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::rejection::ExtensionRejection;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use prost::Message;
use serde::Deserialize;
use serde_json::Value;

use anomalog_core::parse::{ParseDefaults, ParseLimits, ParsedBatch, Rejection};
use anomalog_core::shippers::loki::{LokiEntry, to_event};
use anomalog_core::shippers::time_from_unix_nanos;

use crate::shipper::{self, Stored};
use crate::{IngestError, IngestParams, IngestState, record_count};

/// `logproto.PushRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PushRequest {
    #[prost(message, repeated, tag = "1")]
    pub streams: Vec<StreamAdapter>,
}

/// `logproto.StreamAdapter`: labels in selector syntax (`{app="api"}`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct StreamAdapter {
    #[prost(string, tag = "1")]
    pub labels: String,
    #[prost(message, repeated, tag = "2")]
    pub entries: Vec<EntryAdapter>,
    #[prost(uint64, tag = "3")]
    pub hash: u64,
}

/// `logproto.EntryAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EntryAdapter {
    #[prost(message, optional, tag = "1")]
    pub timestamp: Option<Timestamp>,
    #[prost(string, tag = "2")]
    pub line: String,
    #[prost(message, repeated, tag = "3")]
    pub structured_metadata: Vec<LabelPairAdapter>,
}

/// `logproto.LabelPairAdapter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LabelPairAdapter {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `google.protobuf.Timestamp`.
#[derive(Clone, Copy, PartialEq, prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// One stream of a JSON push, either shape.
#[derive(Debug, Deserialize)]
struct JsonStream {
    #[serde(default)]
    stream: Option<BTreeMap<String, String>>,
    #[serde(default)]
    values: Vec<Vec<Value>>,
    /// Legacy shape: labels in selector syntax and `{ts, line}` entries.
    #[serde(default)]
    labels: Option<String>,
    #[serde(default)]
    entries: Vec<LegacyEntry>,
}

#[derive(Debug, Deserialize)]
struct LegacyEntry {
    #[serde(default)]
    ts: Value,
    #[serde(default)]
    line: Value,
}

#[derive(Debug, Deserialize)]
struct JsonPush {
    streams: Vec<JsonStream>,
}

/// A stream after decoding: its labels (or why they are unusable) and entries.
pub(crate) struct Stream {
    pub(crate) labels: Result<BTreeMap<String, String>, String>,
    pub(crate) entries: Vec<Result<LokiEntry, String>>,
}

pub(crate) async fn push(
    State(state): State<IngestState>,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    Query(params): Query<IngestParams>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(
        &state,
        params,
        &headers,
        shipper::peer_ip(peer),
        body,
        Utc::now(),
    )
    .await
}

/// The whole push flow as a plain function of its inputs.
pub async fn handle(
    state: &IngestState,
    params: IngestParams,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    body: Body,
    now: DateTime<Utc>,
) -> Response {
    let result = accept(state, params, headers, peer, body, now).await;
    shipper::count_outcome(&result, StatusCode::NO_CONTENT.as_u16());
    match result {
        Ok(stored) if stored.rejections.is_empty() => StatusCode::NO_CONTENT.into_response(),
        Ok(stored) => text(
            StatusCode::BAD_REQUEST,
            format!(
                "{} (the other {} entries were stored)",
                shipper::summary(&stored.rejections),
                stored.accepted
            ),
        ),
        Err(e) => {
            let message = match &e {
                IngestError::UnsupportedMediaType(content_type) => format!(
                    "unsupported Content-Type '{content_type}' for /loki/api/v1/push \
                     (supported: application/json, snappy-compressed application/x-protobuf)"
                ),
                other => other.to_string(),
            };
            let (mut parts, _) = e.into_response().into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            Response::from_parts(parts, Body::from(message + "\n"))
        }
    }
}

fn text(status: StatusCode, message: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message + "\n",
    )
        .into_response()
}

async fn accept(
    state: &IngestState,
    params: IngestParams,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    body: Body,
    now: DateTime<Utc>,
) -> Result<Stored, IngestError> {
    let (content_type, mime) = shipper::content_type(headers);
    let content_type = content_type.to_owned();
    let defaults = shipper::defaults(headers, params.service, now);
    let limits = state.config.parse_limits();
    let max_line = state.config.max_line_bytes;
    let (max_decoded, max_events) = (state.config.max_decoded_bytes, state.config.max_events);
    let max_stored = state.config.max_stored_bytes;
    let received = shipper::receive(state, headers, body, move |body| {
        let streams = decode_streams(&body, &mime, &content_type, max_decoded, max_events)?;
        drop(body);
        let batch = to_batch(streams, &defaults, &limits, max_line);
        crate::check_stored_size(&batch, max_stored)?;
        Ok(batch)
    })
    .await?;
    shipper::store(state, received.key_index, peer, received.decoded).await
}

/// The events (or rejections, by index) of the decoded streams' entries.
fn to_batch(
    streams: Vec<Stream>,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
    max_line: usize,
) -> ParsedBatch {
    let mut batch = ParsedBatch::default();
    let mut index = 0;
    for stream in streams {
        for entry in stream.entries {
            let result = match (&stream.labels, entry) {
                (Err(reason), _) => Err(reason.clone()),
                (_, Err(reason)) => Err(reason),
                (Ok(_), Ok(entry)) if entry.line.len() > max_line => Err(format!(
                    "line is {} bytes, more than the limit of {max_line}",
                    entry.line.len()
                )),
                (Ok(labels), Ok(entry)) => to_event(labels, entry, defaults, limits),
            };
            match result {
                Ok(event) => batch.push(event),
                Err(reason) => batch.rejections.push(Rejection { index, reason }),
            }
            index += 1;
        }
    }
    batch
}

/// Where the entries are in a `PushRequest`: field numbers of `streams`, `entries`.
const ENTRIES_IN_PROTOBUF: &[u32] = &[1, 2];

/// The same in a JSON push: `values` and legacy `entries` of each stream
/// (keys, and positions for serde's struct-as-array form).
const ENTRIES_IN_JSON: &[&[record_count::Field]] =
    &[&[("streams", 0)], &[("values", 1), ("entries", 3)]];

/// The streams of a push body of media type `mime` (snappy protobuf or JSON),
/// decompressed within `limit` bytes, of at most `max_events` entries: one
/// with more is refused (413) after counting its entries, before building any.
pub(crate) fn decode_streams(
    body: &[u8],
    mime: &str,
    content_type: &str,
    limit: usize,
    max_events: usize,
) -> Result<Vec<Stream>, IngestError> {
    match mime {
        "application/x-protobuf" | "application/protobuf" => {
            let raw = snappy(body, limit)?;
            let count = record_count::protobuf(&raw, ENTRIES_IN_PROTOBUF).map_err(|e| {
                IngestError::Unparsable(format!("body is not a Loki PushRequest: {e}"))
            })?;
            shipper::check_count(max_events, count)?;
            let request = PushRequest::decode(raw.as_slice()).map_err(|e| {
                IngestError::Unparsable(format!("body is not a Loki PushRequest: {e}"))
            })?;
            Ok(request.streams.into_iter().map(stream_from_proto).collect())
        }
        "application/json" | "" => {
            let count = record_count::json(body, ENTRIES_IN_JSON).map_err(|e| {
                IngestError::Unparsable(format!("body is not a Loki JSON push: {e}"))
            })?;
            shipper::check_count(max_events, count)?;
            let push: JsonPush = serde_json::from_slice(body).map_err(|e| {
                IngestError::Unparsable(format!("body is not a Loki JSON push: {e}"))
            })?;
            Ok(push.streams.into_iter().map(stream_from_json).collect())
        }
        _ => Err(IngestError::UnsupportedMediaType(content_type.to_owned())),
    }
}

/// Decompresses a snappy block (Loki's framing of protobuf pushes) of at most `limit` bytes.
fn snappy(body: &[u8], limit: usize) -> Result<Vec<u8>, IngestError> {
    let len = snap::raw::decompress_len(body)
        .map_err(|e| IngestError::BadEncoding(format!("body is not snappy-compressed: {e}")))?;
    if len > limit {
        return Err(IngestError::PayloadTooLarge { limit });
    }
    snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| IngestError::BadEncoding(format!("body is not snappy-compressed: {e}")))
}

fn stream_from_proto(stream: StreamAdapter) -> Stream {
    Stream {
        labels: parse_labels(&stream.labels),
        entries: stream
            .entries
            .into_iter()
            .map(|e| {
                let ts = e.timestamp.and_then(|t| {
                    time_from_unix_nanos(
                        i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos),
                    )
                });
                Ok(LokiEntry {
                    ts,
                    line: e.line,
                    structured_metadata: e
                        .structured_metadata
                        .into_iter()
                        .map(|p| (p.name, p.value))
                        .collect(),
                })
            })
            .collect(),
    }
}

fn stream_from_json(stream: JsonStream) -> Stream {
    let labels = match (stream.stream, stream.labels) {
        (Some(labels), _) => Ok(labels),
        (None, Some(selector)) => parse_labels(&selector),
        (None, None) => Ok(BTreeMap::new()),
    };
    let mut entries: Vec<Result<LokiEntry, String>> =
        stream.values.into_iter().map(entry_from_values).collect();
    entries.extend(stream.entries.into_iter().map(|e| {
        let line = match e.line {
            Value::String(line) => line,
            other => return Err(format!("line must be a string, got {other}")),
        };
        let ts = match &e.ts {
            Value::Null => None,
            value => {
                Some(anomalog_core::parse::parse_timestamp(value).map_err(|e| format!("ts: {e}"))?)
            }
        };
        Ok(LokiEntry {
            ts,
            line,
            structured_metadata: Vec::new(),
        })
    }));
    Stream { labels, entries }
}

/// `["<unix ns>", "<line>"]` or `["<unix ns>", "<line>", {metadata}]`.
fn entry_from_values(values: Vec<Value>) -> Result<LokiEntry, String> {
    let mut values = values.into_iter();
    let (Some(ts), Some(line)) = (values.next(), values.next()) else {
        return Err("an entry must be [\"<unix epoch ns>\", \"<line>\"]".into());
    };
    let nanos: i128 = match &ts {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64().map(i128::from),
        _ => None,
    }
    .ok_or_else(|| format!("timestamp {ts} is not Unix epoch nanoseconds"))?;
    let Value::String(line) = line else {
        return Err(format!("line must be a string, got {line}"));
    };
    let structured_metadata = match values.next() {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k, s),
                other => (k, other.to_string()),
            })
            .collect(),
        Some(other) => {
            return Err(format!(
                "structured metadata must be an object, got {other}"
            ));
        }
    };
    Ok(LokiEntry {
        ts: time_from_unix_nanos(nanos),
        line,
        structured_metadata,
    })
}

/// Parses Loki's label selector syntax: `{name="value", other="a \"quoted\" value"}`.
pub(crate) fn parse_labels(selector: &str) -> Result<BTreeMap<String, String>, String> {
    let bad = |why: &str| format!("labels {selector:?}: {why}");
    let inner = selector
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| bad("must be enclosed in { }"))?;
    let mut labels = BTreeMap::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        if chars.peek().is_none() {
            return Ok(labels);
        }
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
            name.push(c);
        }
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(bad("expected a label name"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') || chars.next() != Some('"') {
            return Err(bad(&format!("expected =\"...\" after {name}")));
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                None => return Err(bad("unterminated value")),
                Some('"') => break,
                Some('\\') => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some(c) => value.push(c),
                    None => return Err(bad("unterminated value")),
                },
                Some(c) => value.push(c),
            }
        }
        labels.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors_parse_with_escapes() {
        let labels = parse_labels(r#"{app="api", msg="say \"hi\"",level="error"}"#).unwrap();
        assert_eq!(labels["app"], "api");
        assert_eq!(labels["msg"], "say \"hi\"");
        assert_eq!(labels["level"], "error");
        assert!(parse_labels("{}").unwrap().is_empty());
        assert!(parse_labels(r#"app="api""#).is_err());
        assert!(parse_labels(r#"{app="api}"#).is_err());
        assert!(parse_labels(r#"{="x"}"#).is_err());
    }

    #[test]
    fn value_entries_need_a_nanosecond_timestamp_and_a_line() {
        let ok = entry_from_values(vec![
            "1700000000000000000".into(),
            "hello".into(),
            serde_json::json!({"user": "ann"}),
        ])
        .unwrap();
        assert_eq!(ok.ts.map(|t| t.timestamp()), Some(1_700_000_000));
        assert_eq!(ok.structured_metadata, vec![("user".into(), "ann".into())]);
        assert!(entry_from_values(vec!["yesterday".into(), "x".into()]).is_err());
        assert!(entry_from_values(vec!["1".into()]).is_err());
    }
}
