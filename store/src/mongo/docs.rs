//! Mapping of logs and anomalies to and from their MongoDB documents, and the
//! typed field readers the adapters share.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use mongodb::bson::{self, Bson, Document, doc};

use anomalog_core::{
    Anomaly, AnomalyKind, AnomalyStatus, Level, LogEvent, LogSample, Severity, StoredLog,
};

use crate::StoreError;
use crate::records::{MeasureRecord, PatternChangeRecord};

pub(super) fn date(ts: DateTime<Utc>) -> bson::DateTime {
    bson::DateTime::from_millis(ts.timestamp_millis())
}

pub(super) fn corrupt(field: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("field {field}: {e}"))
}

pub(super) fn get_string(d: &Document, field: &str) -> Result<String, StoreError> {
    d.get_str(field)
        .map(str::to_owned)
        .map_err(|e| corrupt(field, e))
}

pub(super) fn get_date(d: &Document, field: &str) -> Result<DateTime<Utc>, StoreError> {
    let millis = d
        .get_datetime(field)
        .map_err(|e| corrupt(field, e))?
        .timestamp_millis();
    DateTime::from_timestamp_millis(millis).ok_or_else(|| corrupt(field, "date out of range"))
}

/// Integers may come back as 32 or 64 bits (or a double from `$sum`).
pub(super) fn get_int(d: &Document, field: &str) -> Result<i64, StoreError> {
    match d.get(field) {
        Some(Bson::Int32(n)) => Ok(i64::from(*n)),
        Some(Bson::Int64(n)) => Ok(*n),
        #[allow(clippy::cast_possible_truncation)]
        Some(Bson::Double(f)) if f.fract() == 0.0 => Ok(*f as i64),
        other => Err(corrupt(
            field,
            format!("expected an integer, found {other:?}"),
        )),
    }
}

pub(super) fn get_f64(d: &Document, field: &str) -> Result<f64, StoreError> {
    match d.get(field) {
        Some(Bson::Double(f)) => Ok(*f),
        #[allow(clippy::cast_precision_loss)]
        Some(Bson::Int64(n)) => Ok(*n as f64),
        Some(Bson::Int32(n)) => Ok(f64::from(*n)),
        other => Err(corrupt(
            field,
            format!("expected a number, found {other:?}"),
        )),
    }
}

pub(super) fn get_level_rank(d: &Document) -> Result<Level, StoreError> {
    let rank = get_int(d, "level_rank")?;
    u8::try_from(rank)
        .ok()
        .and_then(Level::from_rank)
        .ok_or_else(|| corrupt("level_rank", format!("unknown level rank {rank}")))
}

/// A string field holding a serde (snake/upper case) enum name.
pub(super) fn parse_field<T: serde::de::DeserializeOwned>(
    d: &Document,
    field: &str,
) -> Result<T, StoreError> {
    let text = d.get_str(field).map_err(|e| corrupt(field, e))?;
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|e| corrupt(field, e))
}

/// The document a log is stored as in `logs` (without the `writer` persist
/// adds): public for the benchmarks that insert the same shape.
pub fn log_to_doc(log: &StoredLog) -> Document {
    let e = &log.event;
    let mut d = doc! {
        "_id": &log.id,
        "ts": date(e.ts),
        "received_at": date(e.received_at),
        "service": &e.service,
        "level": e.level.as_str(),
        "level_rank": i32::from(e.level.rank()),
        "message": &e.message,
    };
    if let Some(host) = &e.host {
        d.insert("host", host);
    }
    if !e.attrs.is_empty() {
        let pairs: Vec<Bson> = e
            .attrs
            .iter()
            .map(|(k, v)| Bson::Document(doc! { "k": k, "v": json_to_bson(v) }))
            .collect();
        d.insert("attrs", pairs);
    }
    for (field, value) in [
        ("trace_id", &e.trace_id),
        ("span_id", &e.span_id),
        ("source", &e.source),
        ("pattern", &log.pattern),
    ] {
        if let Some(v) = value {
            d.insert(field, v);
        }
    }
    if e.truncated {
        d.insert("truncated", true);
    }
    d
}

pub(super) fn log_from_doc(d: &Document) -> Result<StoredLog, StoreError> {
    let mut attrs = BTreeMap::new();
    if let Ok(pairs) = d.get_array("attrs") {
        for pair in pairs {
            let Bson::Document(pair) = pair else {
                return Err(corrupt("attrs", "expected {k, v} documents"));
            };
            let key = get_string(pair, "k")?;
            attrs.insert(key, bson_to_json(pair.get("v").unwrap_or(&Bson::Null)));
        }
    }
    let optional = |field: &str| d.get_str(field).ok().map(str::to_owned);
    Ok(StoredLog {
        pattern: optional("pattern"),
        id: get_string(d, "_id")?,
        event: LogEvent {
            ts: get_date(d, "ts")?,
            received_at: get_date(d, "received_at")?,
            service: get_string(d, "service")?,
            host: optional("host"),
            level: get_level_rank(d)?,
            message: get_string(d, "message")?,
            attrs,
            trace_id: optional("trace_id"),
            span_id: optional("span_id"),
            source: optional("source"),
            truncated: d.get_bool("truncated").unwrap_or(false),
        },
    })
}

/// Every field of an anomaly but its id, as stored.
pub(super) fn anomaly_fields(a: &Anomaly) -> Document {
    let samples: Vec<Bson> = a
        .samples
        .iter()
        .map(|s| {
            Bson::Document(doc! {
                "ts": date(s.ts),
                "level": s.level.as_str(),
                "message": &s.message,
            })
        })
        .collect();
    doc! {
        "kind": a.kind.as_str(),
        "service": &a.service,
        "window_start": date(a.window_start),
        "window_end": date(a.window_end),
        "observed": a.observed,
        "expected": a.expected,
        "stddev": a.stddev,
        "score": a.score,
        "severity": severity_name(a.severity),
        "status": a.status.as_str(),
        "first_seen": date(a.first_seen),
        "last_seen": date(a.last_seen),
        "message": &a.message,
        "samples": samples,
        // The record shapes the embedded store writes (records.rs).
        "measure": a
            .measure
            .as_ref()
            .and_then(|m| bson::serialize_to_bson(&MeasureRecord::from_measure(m)).ok()),
        "explanation": a
            .explanation
            .iter()
            .filter_map(|c| bson::serialize_to_bson(&PatternChangeRecord::from_change(c)).ok())
            .collect::<Vec<Bson>>(),
    }
}

pub(super) fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Low => "low",
        Severity::Medium => "medium",
        Severity::High => "high",
        Severity::Critical => "critical",
    }
}

pub(super) fn anomaly_from_doc(d: &Document) -> Result<Anomaly, StoreError> {
    let mut samples = Vec::new();
    if let Ok(stored) = d.get_array("samples") {
        for s in stored {
            let Bson::Document(s) = s else {
                return Err(corrupt("samples", "expected documents"));
            };
            samples.push(LogSample {
                ts: get_date(s, "ts")?,
                level: parse_field(s, "level")?,
                message: get_string(s, "message")?,
            });
        }
    }
    let kind: AnomalyKind = d
        .get_str("kind")
        .map_err(|e| corrupt("kind", e))?
        .parse()
        .map_err(|e: String| corrupt("kind", e))?;
    let status: AnomalyStatus = d
        .get_str("status")
        .map_err(|e| corrupt("status", e))?
        .parse()
        .map_err(|e: String| corrupt("status", e))?;
    Ok(Anomaly {
        id: get_string(d, "_id")?,
        kind,
        service: get_string(d, "service")?,
        window_start: get_date(d, "window_start")?,
        window_end: get_date(d, "window_end")?,
        observed: get_f64(d, "observed")?,
        expected: get_f64(d, "expected")?,
        stddev: get_f64(d, "stddev")?,
        score: get_f64(d, "score")?,
        severity: parse_field(d, "severity")?,
        status,
        first_seen: get_date(d, "first_seen")?,
        last_seen: get_date(d, "last_seen")?,
        message: get_string(d, "message")?,
        samples,
        measure: match d.get("measure") {
            None | Some(Bson::Null) => None,
            Some(m) => {
                Some(bson::deserialize_from_bson(m.clone()).map_err(|e| corrupt("measure", e))?)
            }
        },
        explanation: match d.get("explanation") {
            None | Some(Bson::Null) => Vec::new(),
            Some(e) => {
                bson::deserialize_from_bson(e.clone()).map_err(|e| corrupt("explanation", e))?
            }
        },
    })
}

/// JSON to BSON without failing: integers beyond i64 become doubles.
pub(super) fn json_to_bson(v: &serde_json::Value) -> Bson {
    use serde_json::Value as J;
    match v {
        J::Null => Bson::Null,
        J::Bool(b) => Bson::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Bson::Int64(i),
            None => Bson::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Bson::String(s.clone()),
        J::Array(items) => Bson::Array(items.iter().map(json_to_bson).collect()),
        J::Object(map) => {
            // Nested objects become {k, v} pairs too, for the same reason as attrs.
            let pairs: Vec<Bson> = map
                .iter()
                .map(|(k, v)| Bson::Document(doc! { "k": k, "v": json_to_bson(v) }))
                .collect();
            Bson::Document(doc! { "kv": pairs })
        }
    }
}

/// Inverse of [`json_to_bson`].
pub(super) fn bson_to_json(v: &Bson) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Bson::Null => J::Null,
        Bson::Boolean(b) => J::Bool(*b),
        Bson::Int32(n) => J::from(*n),
        Bson::Int64(n) => J::from(*n),
        Bson::Double(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Bson::String(s) => J::String(s.clone()),
        Bson::Array(items) => J::Array(items.iter().map(bson_to_json).collect()),
        Bson::Document(d) => match d.get_array("kv") {
            Ok(pairs) => {
                let mut map = serde_json::Map::new();
                for pair in pairs {
                    if let Bson::Document(pair) = pair
                        && let Ok(k) = pair.get_str("k")
                    {
                        map.insert(
                            k.to_owned(),
                            bson_to_json(pair.get("v").unwrap_or(&Bson::Null)),
                        );
                    }
                }
                J::Object(map)
            }
            Err(_) => J::String(v.to_string()),
        },
        // Never written by `json_to_bson`; shown rather than dropped.
        other => J::String(other.to_string()),
    }
}
