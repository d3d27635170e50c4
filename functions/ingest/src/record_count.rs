//! Counting a shipper body's records before any of them is built, so a body
//! of millions of tiny records (two bytes each in protobuf) is refused for
//! `ingest.max_events` without first becoming millions of values.
//!
//! Both walks are no stricter than the decoders that follow them: a body the
//! decoder would read is never refused here for its shape, only for its
//! count (and a body these walks cannot read is one the decoder refuses too).

use std::fmt;

use prost::bytes::Buf;
use prost::encoding::{
    DecodeContext, WireType, check_wire_type, decode_key, decode_varint, skip_field,
};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Why a protobuf body could not be walked: what the decoder would say.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error(transparent)]
    Decode(#[from] prost::DecodeError),
    #[error("buffer underflow: a field is longer than the rest of its message")]
    Underflow,
}

/// Occurrences of the length-delimited field at the end of `path` (field
/// numbers, outermost first) in the protobuf message `body`, descending
/// through the repeated message fields of the path, building nothing. The
/// count of a repeated message field is exactly the number of elements a
/// decoder makes of it.
pub(crate) fn protobuf(body: &[u8], path: &[u32]) -> Result<usize, WireError> {
    let Some((&wanted, rest)) = path.split_first() else {
        return Ok(0);
    };
    let mut buf = body;
    let mut count = 0usize;
    while buf.has_remaining() {
        let (tag, wire_type) = decode_key(&mut buf)?;
        if tag != wanted {
            skip_field(wire_type, tag, &mut buf, DecodeContext::default())?;
            continue;
        }
        // The decoder refuses a message field of another wire type.
        check_wire_type(WireType::LengthDelimited, wire_type)?;
        let len = decode_varint(&mut buf)?;
        let Some(len) = usize::try_from(len)
            .ok()
            .filter(|len| *len <= buf.remaining())
        else {
            return Err(WireError::Underflow);
        };
        let (inner, after) = buf.split_at(len);
        count = count.saturating_add(if rest.is_empty() {
            1
        } else {
            protobuf(inner, rest)?
        });
        buf = after;
    }
    Ok(count)
}

/// A field of a struct decoded by serde: its JSON key, and its position
/// (serde's derived decoders also read a struct from an array of its fields
/// in order).
pub(crate) type Field = (&'static str, usize);

/// Elements of the arrays reached through `path` in the JSON document
/// `body`, building nothing: each level of `path` names the fields to descend
/// into (arrays of objects), the last level the fields whose arrays are
/// counted. `[[("streams", 0)], [("values", 1), ("entries", 3)]]` counts the
/// elements of every `values` and `entries` array of every object of
/// `streams`. A value of another shape than the path expects counts 0 (the
/// decoder says what is wrong with it); the document must be JSON.
pub(crate) fn json(body: &[u8], path: &[&[Field]]) -> Result<usize, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let count = Object { path }.deserialize(&mut de)?;
    de.end()?;
    Ok(count)
}

/// An object at `path[0]`'s level: the count below it.
struct Object<'p> {
    path: &'p [&'p [Field]],
}

/// An array under a key of the path: its length at the last level, else the
/// counts of its objects.
struct Array<'p> {
    path: &'p [&'p [Field]],
}

/// Any value that is not of the shape the path expects: skipped, counts 0.
macro_rules! count_nothing_for_scalars {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_unit<E: de::Error>(self) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_none<E: de::Error>(self) -> Result<usize, E> {
            Ok(0)
        }
    };
}

impl<'de> DeserializeSeed<'de> for Object<'_> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Object<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    count_nothing_for_scalars!();

    /// A struct as the array of its fields.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let fields = self.path.first().copied().unwrap_or_default();
        let mut count = 0usize;
        for position in 0.. {
            let counted = if fields.iter().any(|(_, p)| *p == position) {
                seq.next_element_seed(Array { path: self.path })?
            } else {
                seq.next_element::<IgnoredAny>()?.map(|_| 0)
            };
            let Some(n) = counted else { break };
            count = count.saturating_add(n);
        }
        Ok(count)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut count = 0usize;
        let fields = self.path.first().copied().unwrap_or_default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if fields.iter().any(|(name, _)| *name == key.as_ref()) {
                count = count.saturating_add(map.next_value_seed(Array { path: self.path })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(count)
    }
}

impl<'de> DeserializeSeed<'de> for Array<'_> {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<usize, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Array<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    count_nothing_for_scalars!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut count = 0usize;
        match self.path.get(1..).filter(|rest| !rest.is_empty()) {
            None => {
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    count = count.saturating_add(1);
                }
            }
            Some(rest) => {
                while let Some(n) = seq.next_element_seed(Object { path: rest })? {
                    count = count.saturating_add(n);
                }
            }
        }
        Ok(count)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    use crate::loki::{EntryAdapter, PushRequest, StreamAdapter};
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};

    fn otlp(shape: &[&[usize]]) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: shape
                .iter()
                .map(|scopes| ResourceLogs {
                    scope_logs: scopes
                        .iter()
                        .map(|&n| ScopeLogs {
                            log_records: vec![LogRecord::default(); n],
                            schema_url: "https://example.com/1".into(),
                            ..ScopeLogs::default()
                        })
                        .collect(),
                    schema_url: "s".into(),
                    ..ResourceLogs::default()
                })
                .collect(),
        }
    }

    #[test]
    fn protobuf_walk_counts_otlp_records_as_the_decoder_does() {
        for shape in [
            &[][..],
            &[&[][..]][..],
            &[&[0][..]][..],
            &[&[3, 0, 2][..], &[5][..]][..],
        ] {
            let body = otlp(shape).encode_to_vec();
            let decoded = ExportLogsServiceRequest::decode(body.as_slice()).unwrap();
            let expected: usize = decoded
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .map(|s| s.log_records.len())
                .sum();
            assert_eq!(protobuf(&body, &[1, 2, 2]).unwrap(), expected, "{shape:?}");
        }
    }

    #[test]
    fn protobuf_walk_counts_loki_entries_and_skips_other_fields() {
        let push = PushRequest {
            streams: vec![
                StreamAdapter {
                    labels: "{a=\"b\"}".into(),
                    entries: vec![EntryAdapter::default(); 4],
                    hash: 7,
                },
                StreamAdapter {
                    labels: String::new(),
                    entries: vec![EntryAdapter::default(); 2],
                    hash: u64::MAX,
                },
            ],
        };
        let mut body = push.encode_to_vec();
        assert_eq!(protobuf(&body, &[1, 2]).unwrap(), 6);
        // An unknown group (field 5, holding a varint) is skipped as the decoder skips it.
        body.extend_from_slice(&[0x2b, 0x08, 0x01, 0x2c]);
        assert_eq!(
            PushRequest::decode(body.as_slice()).unwrap().streams.len(),
            2
        );
        assert_eq!(protobuf(&body, &[1, 2]).unwrap(), 6);
    }

    #[test]
    fn protobuf_walk_refuses_what_the_decoder_refuses() {
        let body = otlp(&[&[3]]).encode_to_vec();
        for bad in [
            &body[..body.len() - 1],             // cut short
            &[0x0a, 0x05, 0x12][..],             // a length past the end
            &[0x00][..],                         // field number 0
            &[0x0f][..],                         // wire type 7
            &[0x08, 0x80][..],                   // an unterminated varint
            &[0x2b, 0x34][..],                   // a group ended by another field
            &[0x09, 0, 0, 0, 0, 0, 0, 0, 0][..], // resource_logs as a fixed64
        ] {
            assert!(
                ExportLogsServiceRequest::decode(bad).is_err(),
                "the decoder accepts {bad:?}"
            );
            assert!(protobuf(bad, &[1, 2, 2]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_walk_counts_nested_arrays_and_ignores_other_shapes() {
        let otlp = br#"{"resourceLogs":[
            {"resource":{"attributes":[{"key":"logRecords","value":{"arrayValue":{"values":[1,2]}}}]},
             "scopeLogs":[{"logRecords":[{},{"body":{"stringValue":"x"}},{}]},{"logRecords":[]}]},
            {"scopeLogs":[{"scope":{"name":"n"},"logRecords":[{"attributes":[]}]}]},
            {"scopeLogs":"not an array"},
            {"scopeLogs":[7,null,{"logRecords":{"a":1}}]}
        ]}"#;
        let path: &[&[Field]] = &[
            &[("resourceLogs", 0)],
            &[("scopeLogs", 1)],
            &[("logRecords", 1)],
        ];
        assert_eq!(json(otlp, path).unwrap(), 4);
        // serde's decoders read a struct from the array of its fields too.
        let positional = br#"[[[null, [[null, [{}, {}]], {"logRecords": [{}]}]]]]"#;
        let decoded: ExportLogsServiceRequest = serde_json::from_slice(positional).unwrap();
        assert_eq!(decoded.resource_logs[0].scope_logs[0].log_records.len(), 2);
        assert_eq!(json(positional, path).unwrap(), 3);

        let loki = br#"{"streams":[
            {"stream":{"a":"b"},"values":[["1","x"],["2","y",{"k":"v"}]]},
            {"labels":"{a=\"b\"}","entries":[{"ts":"2024-01-01T00:00:00Z","line":"z"}],"values":[]}
        ]}"#;
        let streams: &[&[Field]] = &[&[("streams", 0)], &[("values", 1), ("entries", 3)]];
        assert_eq!(json(loki, streams).unwrap(), 3);
        assert_eq!(json(b"[1,2]", path).unwrap(), 0);
        assert_eq!(json(b"\"x\"", path).unwrap(), 0);
    }

    #[test]
    fn json_walk_refuses_what_is_not_json() {
        let path: &[&[Field]] = &[&[("streams", 0)], &[("values", 1)]];
        for bad in [
            &b"{\"streams\":[{\"values\":[[1],"[..],
            b"{\"streams\":[]} trailing",
            b"",
            b"{\"streams\":[{\"values\":[[1,]]}]}",
        ] {
            assert!(
                json(bad, path).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
