//! A JSON array body, streamed: each item is built, turned into an event (or a
//! rejection) and dropped before the next is read, and once there are more
//! than the limit the rest is only counted (never built). A 20 MB array of
//! tiny objects so never becomes a tree of millions of values.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};

use super::record::Record;
use super::{ParseDefaults, ParseError, ParseLimits, ParsedBatch, Rejection, record_from_value};

/// Parses `text`, a JSON array (leading whitespace allowed).
pub(super) fn parse_array(
    text: &str,
    defaults: &ParseDefaults,
    limits: &ParseLimits,
) -> Result<ParsedBatch, ParseError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let items = de
        .deserialize_seq(Items { defaults, limits })
        .and_then(|items| de.end().map(|()| items))
        .map_err(|e| ParseError::InvalidJson(e.to_string()))?;
    match items {
        Streamed::Batch(batch) => Ok(batch),
        Streamed::TooMany(count) => Err(ParseError::TooManyEvents {
            count,
            max: limits.max_events,
        }),
    }
}

struct Items<'a> {
    defaults: &'a ParseDefaults,
    limits: &'a ParseLimits,
}

enum Streamed {
    Batch(ParsedBatch),
    /// More items than the limit: how many.
    TooMany(usize),
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = Streamed;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Streamed, A::Error> {
        let mut batch = ParsedBatch::default();
        let mut index = 0;
        while index < self.limits.max_events {
            let Some(item) = seq.next_element::<Record>()? else {
                return Ok(Streamed::Batch(batch));
            };
            match record_from_value(item, self.defaults, self.limits) {
                Ok(event) => batch.push(event),
                Err(reason) => batch.rejections.push(Rejection { index, reason }),
            }
            index += 1;
        }
        // At the limit: the rest is read (it must still be JSON) and counted.
        let mut count = index;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        if count > self.limits.max_events {
            return Ok(Streamed::TooMany(count));
        }
        Ok(Streamed::Batch(batch))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::defaults;
    use super::super::{BodyFormat, parse_body};
    use super::*;

    fn limits(max_events: usize) -> ParseLimits {
        ParseLimits {
            max_events,
            ..ParseLimits::default()
        }
    }

    #[test]
    fn a_huge_array_is_counted_exactly_past_the_limit() {
        let items = vec![r#"{"msg":"x","n":[1,{"a":2}]}"#; 100_000].join(",");
        let json = format!(" \n[{items}]\n ");
        assert_eq!(
            parse_body(BodyFormat::Json, json.as_bytes(), &defaults(), &limits(10)),
            Err(ParseError::TooManyEvents {
                count: 100_000,
                max: 10
            })
        );
    }

    #[test]
    fn bad_json_past_the_limit_still_fails_the_body_as_json() {
        for json in [
            r#"[{"msg":"a"},{"msg":"b"},{"msg":}]"#,
            r#"[{"msg":"a"},{"msg":"b"},{"msg":"c"}"#,
            r#"[{"msg":"a"},{"msg":"b"}] trailing"#,
        ] {
            let err = parse_body(BodyFormat::Json, json.as_bytes(), &defaults(), &limits(1));
            assert!(
                matches!(err, Err(ParseError::InvalidJson(_))),
                "{json}: {err:?}"
            );
        }
    }

    #[test]
    fn an_array_at_the_limit_is_parsed_whole_with_rejections_by_index() {
        let json = br#"[{"msg":"a"}, [], {"msg":"c"}]"#;
        let batch = parse_body(BodyFormat::Json, json, &defaults(), &limits(3)).unwrap();
        let messages: Vec<_> = batch.events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages, ["a", "c"]);
        assert_eq!(batch.rejections.len(), 1);
        assert_eq!(batch.rejections[0].index, 1);
    }
}
