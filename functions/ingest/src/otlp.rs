//! `POST /v1/logs`: OpenTelemetry OTLP/HTTP logs, protobuf
//! (`application/x-protobuf`) or the OTLP JSON encoding (`application/json`:
//! hex trace and span ids, 64-bit integers as strings or numbers, enums by
//! number or name), optionally gzip or zstd compressed.
//!
//! Messages are the generated official ones of the `opentelemetry-proto`
//! crate. Records map to events in [`anomalog_core::shippers::otlp`].
//!
//! Answers follow the OTLP/HTTP specification, in the encoding of the request:
//! 200 with an `ExportLogsServiceResponse` (`partial_success` counts and
//! explains rejected records), and for refusals the status `/ingest` would send
//! with a `google.rpc.Status` body: 400 for an undecodable body, 429 and 503
//! with `Retry-After` (which the exporters retry), 401, 413, 415.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::rejection::ExtensionRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use prost::Message;
use serde_json::Value;

use anomalog_core::parse::{ParseDefaults, ParseLimits, ParsedBatch, Rejection};
use anomalog_core::shippers::otlp::{OtlpLogRecord, OtlpResource, to_event};

use crate::shipper::{self, Stored};
use crate::{IngestError, IngestState, record_count};

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

/// The two encodings of OTLP/HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => PROTOBUF,
            Encoding::Json => JSON,
        }
    }
}

/// `google.rpc.Status`, the body of OTLP/HTTP error answers (google/rpc/status.proto;
/// `details` is never sent).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

pub(crate) async fn export_logs(
    State(state): State<IngestState>,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(&state, &headers, shipper::peer_ip(peer), body, Utc::now()).await
}

/// The whole `/v1/logs` flow as a plain function of its inputs.
pub async fn handle(
    state: &IngestState,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    body: Body,
    now: DateTime<Utc>,
) -> Response {
    let Some(encoding) = request_encoding(headers) else {
        let message = format!(
            "unsupported Content-Type '{}' for /v1/logs (supported: {PROTOBUF}, {JSON})",
            text_of(headers.get(header::CONTENT_TYPE))
        );
        shipper::count_outcome(&Err(IngestError::UnsupportedMediaType(String::new())), 200);
        return rpc_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            message,
            Encoding::Json,
            HeaderMap::new(),
        );
    };
    let result = accept(state, headers, peer, body, now, encoding).await;
    shipper::count_outcome(&result, 200);
    match result {
        Ok(stored) => success(&stored, encoding),
        Err(e) => error_response(e, encoding),
    }
}

async fn accept(
    state: &IngestState,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    body: Body,
    now: DateTime<Utc>,
    encoding: Encoding,
) -> Result<Stored, IngestError> {
    let defaults = shipper::defaults(headers, None, now);
    let limits = state.config.parse_limits();
    let (max_events, max_stored) = (state.config.max_events, state.config.max_stored_bytes);
    let received = shipper::receive(state, headers, body, move |body| {
        let request = decode_request(&body, encoding, max_events)?;
        drop(body);
        let batch = to_batch(request, &defaults, &limits);
        crate::check_stored_size(&batch, max_stored)?;
        Ok(batch)
    })
    .await?;
    shipper::store(state, received.key_index, peer, received.decoded).await
}

/// The events (or rejections, by index) of a decoded request's records.
fn to_batch(
    request: ExportLogsServiceRequest,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> ParsedBatch {
    let mut batch = ParsedBatch::default();
    let mut index = 0;
    for resource_logs in request.resource_logs {
        let resource_attributes = resource_logs
            .resource
            .map(|r| attributes(r.attributes))
            .unwrap_or_default();
        for scope_logs in resource_logs.scope_logs {
            let resource = OtlpResource {
                attributes: resource_attributes.clone(),
                scope_name: scope_logs.scope.map(|s| s.name).unwrap_or_default(),
            };
            for record in scope_logs.log_records {
                let record = OtlpLogRecord {
                    time_unix_nano: record.time_unix_nano,
                    observed_time_unix_nano: record.observed_time_unix_nano,
                    severity_number: record.severity_number,
                    severity_text: record.severity_text,
                    body: record.body.map(any_value_to_json),
                    attributes: attributes(record.attributes),
                    trace_id: record.trace_id,
                    span_id: record.span_id,
                    event_name: record.event_name,
                };
                match to_event(&resource, record, defaults, limits) {
                    Ok(event) => batch.push(event),
                    Err(reason) => batch.rejections.push(Rejection { index, reason }),
                }
                index += 1;
            }
        }
    }
    batch
}

fn text_of(value: Option<&HeaderValue>) -> &str {
    value.and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn request_encoding(headers: &HeaderMap) -> Option<Encoding> {
    match shipper::content_type(headers).1.as_str() {
        PROTOBUF | "application/protobuf" => Some(Encoding::Protobuf),
        JSON => Some(Encoding::Json),
        _ => None,
    }
}

/// Where the log records are in an `ExportLogsServiceRequest`: field numbers
/// of `resource_logs`, `scope_logs`, `log_records`.
const RECORDS_IN_PROTOBUF: &[u32] = &[1, 2, 2];

/// The same in OTLP/JSON: keys, and positions for serde's struct-as-array form.
const RECORDS_IN_JSON: &[&[record_count::Field]] = &[
    &[("resourceLogs", 0)],
    &[("scopeLogs", 1)],
    &[("logRecords", 1)],
];

/// Decodes a request of at most `max_events` log records; one with more is
/// refused (413) after counting its records, before building any.
pub(crate) fn decode_request(
    body: &[u8],
    encoding: Encoding,
    max_events: usize,
) -> Result<ExportLogsServiceRequest, IngestError> {
    let count = match encoding {
        Encoding::Protobuf => record_count::protobuf(body, RECORDS_IN_PROTOBUF).map_err(|e| {
            IngestError::Unparsable(format!("body is not an OTLP ExportLogsServiceRequest: {e}"))
        })?,
        Encoding::Json => record_count::json(body, RECORDS_IN_JSON).map_err(|e| {
            IngestError::Unparsable(format!(
                "body is not an OTLP/JSON ExportLogsServiceRequest: {e}"
            ))
        })?,
    };
    shipper::check_count(max_events, count)?;
    match encoding {
        Encoding::Protobuf => ExportLogsServiceRequest::decode(body).map_err(|e| {
            IngestError::Unparsable(format!("body is not an OTLP ExportLogsServiceRequest: {e}"))
        }),
        // Straight into the generated messages unless a severity is named
        // (rare: the SDKs send numbers), which needs a rewrite first.
        Encoding::Json if memchr::memmem::find(body, b"\"SEVERITY_NUMBER_").is_none() => {
            serde_json::from_slice(body).map_err(|e| {
                IngestError::Unparsable(format!(
                    "body is not an OTLP/JSON ExportLogsServiceRequest: {e}"
                ))
            })
        }
        Encoding::Json => {
            let mut value: Value = serde_json::from_slice(body)
                .map_err(|e| IngestError::Unparsable(format!("body is not valid JSON: {e}")))?;
            severity_names_to_numbers(&mut value);
            serde_json::from_value(value).map_err(|e| {
                IngestError::Unparsable(format!(
                    "body is not an OTLP/JSON ExportLogsServiceRequest: {e}"
                ))
            })
        }
    }
}

/// OTLP/JSON allows enum values by name (`"SEVERITY_NUMBER_ERROR"`); the
/// generated serde code reads numbers only, so names are turned into numbers first.
fn severity_names_to_numbers(request: &mut Value) {
    let Some(resources) = request
        .get_mut("resourceLogs")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    let records = resources
        .iter_mut()
        .filter_map(|r| r.get_mut("scopeLogs").and_then(Value::as_array_mut))
        .flatten()
        .filter_map(|s| s.get_mut("logRecords").and_then(Value::as_array_mut))
        .flatten();
    for record in records {
        if let Some(number) = record.get_mut("severityNumber")
            && let Some(name) = number.as_str()
            && let Some(severity) = SeverityNumber::from_str_name(name)
        {
            *number = Value::from(severity as i32);
        }
    }
}

fn attributes(key_values: Vec<KeyValue>) -> Vec<(String, Value)> {
    key_values
        .into_iter()
        .map(|kv| (kv.key, kv.value.map_or(Value::Null, any_value_to_json)))
        .collect()
}

/// An OTLP `AnyValue` as JSON: bytes as lower-case hex, non-finite doubles as text.
fn any_value_to_json(value: AnyValue) -> Value {
    use any_value::Value as V;
    match value.value {
        None | Some(V::StringValueStrindex(_)) => Value::Null,
        Some(V::StringValue(s)) => Value::String(s),
        Some(V::BoolValue(b)) => Value::Bool(b),
        Some(V::IntValue(i)) => Value::from(i),
        Some(V::DoubleValue(d)) => serde_json::Number::from_f64(d)
            .map_or_else(|| Value::String(d.to_string()), Value::Number),
        Some(V::BytesValue(bytes)) => {
            Value::String(bytes.iter().map(|b| format!("{b:02x}")).collect())
        }
        Some(V::ArrayValue(array)) => {
            Value::Array(array.values.into_iter().map(any_value_to_json).collect())
        }
        Some(V::KvlistValue(list)) => Value::Object(
            list.values
                .into_iter()
                .map(|kv| (kv.key, kv.value.map_or(Value::Null, any_value_to_json)))
                .collect(),
        ),
    }
}

fn success(stored: &Stored, encoding: Encoding) -> Response {
    let rejected = stored.rejections.len();
    let partial_success = (rejected > 0).then(|| ExportLogsPartialSuccess {
        rejected_log_records: i64::try_from(rejected).unwrap_or(i64::MAX),
        error_message: shipper::summary(&stored.rejections),
    });
    let body = match encoding {
        Encoding::Protobuf => ExportLogsServiceResponse { partial_success }.encode_to_vec(),
        // Written by hand: proto3 JSON sends int64 as a string.
        Encoding::Json => {
            let value = match partial_success {
                Some(p) => serde_json::json!({"partialSuccess": {
                    "rejectedLogRecords": p.rejected_log_records.to_string(),
                    "errorMessage": p.error_message,
                }}),
                None => serde_json::json!({}),
            };
            value.to_string().into_bytes()
        }
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, encoding.content_type())],
        body,
    )
        .into_response()
}

/// The status and headers `/ingest` would send (Retry-After, WWW-Authenticate),
/// with a `google.rpc.Status` body in the request's encoding.
fn error_response(error: IngestError, encoding: Encoding) -> Response {
    let message = error.to_string();
    let (parts, _) = error.into_response().into_parts();
    rpc_response(parts.status, message, encoding, parts.headers)
}

/// A `google.rpc.Status` answer with `status`, keeping `headers` (such as
/// Retry-After) but not their body's type or length.
fn rpc_response(
    status: StatusCode,
    message: String,
    encoding: Encoding,
    mut headers: HeaderMap,
) -> Response {
    let rpc = RpcStatus {
        code: rpc_code(status),
        message,
    };
    let body = match encoding {
        Encoding::Protobuf => rpc.encode_to_vec(),
        Encoding::Json => serde_json::json!({"code": rpc.code, "message": rpc.message})
            .to_string()
            .into_bytes(),
    };
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(encoding.content_type()),
    );
    let mut response = (status, body).into_response();
    response.headers_mut().extend(headers);
    response
}

/// The gRPC code closest to an HTTP status (as in google/rpc/code.proto).
fn rpc_code(status: StatusCode) -> i32 {
    match status {
        StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => 3, // INVALID_ARGUMENT
        StatusCode::UNAUTHORIZED => 16,                                    // UNAUTHENTICATED
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::TOO_MANY_REQUESTS => 8, // RESOURCE_EXHAUSTED
        StatusCode::SERVICE_UNAVAILABLE => 14,                             // UNAVAILABLE
        _ => 13,                                                           // INTERNAL
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_names_become_numbers_and_numbers_stay() {
        let mut request = serde_json::json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"severityNumber": "SEVERITY_NUMBER_ERROR"},
            {"severityNumber": 13},
            {"severityNumber": "NOT_A_SEVERITY"}
        ]}]}]});
        severity_names_to_numbers(&mut request);
        let records = &request["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
        assert_eq!(records[0]["severityNumber"], 17);
        assert_eq!(records[1]["severityNumber"], 13);
        assert_eq!(records[2]["severityNumber"], "NOT_A_SEVERITY");
    }

    #[test]
    fn any_values_convert_to_json() {
        use any_value::Value as V;
        let list = AnyValue {
            value: Some(V::KvlistValue(
                opentelemetry_proto::tonic::common::v1::KeyValueList {
                    values: vec![KeyValue {
                        key: "n".into(),
                        value: Some(AnyValue {
                            value: Some(V::IntValue(-3)),
                        }),
                        ..KeyValue::default()
                    }],
                },
            )),
        };
        assert_eq!(any_value_to_json(list), serde_json::json!({"n": -3}));
        let bytes = AnyValue {
            value: Some(V::BytesValue(vec![0xde, 0xad])),
        };
        assert_eq!(any_value_to_json(bytes), "dead");
    }
}
