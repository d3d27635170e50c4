//! One JSON record of a body, read straight into its fields, with no `Value`
//! tree of the record built first and copied after; and the fields
//! themselves: those under a well-known alias apart from the attributes, so
//! taking them out costs no map lookups and removals (together a fifth to a
//! quarter of a 1,000-event body's parse, docs/benchmarks.md). Nested values
//! are still `Value`s: they become the event's attributes as they are.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::json::{exact_alias, may_be_case_variant};

/// A record's fields, and whether a key may be a case variant of an alias
/// (found while the fields are collected, so a record with lower-case keys
/// costs no pass of its own).
pub(super) struct RecordFields {
    /// Fields whose key is spelled exactly as an alias: a few at most.
    known: Vec<(&'static str, Value)>,
    /// Every other field: the attributes to be.
    others: BTreeMap<String, Value>,
    maybe_case_variants: bool,
}

impl RecordFields {
    fn new() -> Self {
        RecordFields {
            known: Vec::new(),
            others: BTreeMap::new(),
            maybe_case_variants: false,
        }
    }

    /// Adds a field; a key already present gets the new value (as in a JSON
    /// object, the last of repeated keys wins).
    pub(super) fn insert(&mut self, key: String, value: Value) {
        self.insert_key(Cow::Owned(key), value);
    }

    /// [`RecordFields::insert`] of a key that may be borrowed from the body:
    /// one spelled as an alias is never copied.
    fn insert_key(&mut self, key: Cow<'_, str>, value: Value) {
        self.maybe_case_variants |= may_be_case_variant(&key);
        match exact_alias(&key) {
            Some(alias) => match self.known.iter_mut().find(|(k, _)| *k == alias) {
                Some(slot) => slot.1 = value,
                None => self.known.push((alias, value)),
            },
            None => {
                self.others.insert(key.into_owned(), value);
            }
        }
    }

    /// The value under `alias`, a key spelled exactly as an alias: such a
    /// key is only ever among the known fields, so the others are not
    /// searched (most aliases a record is asked for are absent).
    pub(super) fn get_alias(&self, alias: &'static str) -> Option<&Value> {
        debug_assert!(exact_alias(alias).is_some(), "{alias} is no alias");
        self.known
            .iter()
            .find(|(k, _)| *k == alias)
            .map(|(_, value)| value)
    }

    /// Removes the value under `alias` (see [`RecordFields::get_alias`]).
    pub(super) fn remove_alias(&mut self, alias: &'static str) -> Option<Value> {
        debug_assert!(exact_alias(alias).is_some(), "{alias} is no alias");
        let i = self.known.iter().position(|(k, _)| *k == alias)?;
        Some(self.known.swap_remove(i).1)
    }

    /// Removes the value under `key`, a key not spelled as an alias (one of
    /// [`RecordFields::other_keys`]).
    pub(super) fn remove_other(&mut self, key: &str) -> Option<Value> {
        self.others.remove(key)
    }

    /// The keys not spelled as an alias (where case variants are).
    pub(super) fn other_keys(&self) -> impl Iterator<Item = &String> {
        self.others.keys()
    }

    pub(super) fn maybe_case_variants(&self) -> bool {
        self.maybe_case_variants
    }

    /// Every field left: the event's attributes.
    pub(super) fn into_attrs(self) -> BTreeMap<String, Value> {
        let mut attrs = self.others;
        for (key, value) in self.known {
            attrs.insert(key.to_owned(), value);
        }
        attrs
    }
}

impl FromIterator<(String, Value)> for RecordFields {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut fields = RecordFields::new();
        for (key, value) in iter {
            fields.insert(key, value);
        }
        fields
    }
}

/// A record as read: an object's fields, or the JSON type it was instead.
pub(super) enum Record {
    Object(RecordFields),
    /// Not an object: its type, as [`super::json_type`] names it.
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Record;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Record, A::Error> {
        let mut fields = RecordFields::new();
        while let Some(key) = access.next_key_seed(KeySeed)? {
            let value: Value = access.next_value()?;
            fields.insert_key(key, value);
        }
        Ok(Record::Object(fields))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Record, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Record::Other("an array"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Record, E> {
        Ok(Record::Other("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Record, E> {
        Ok(Record::Other("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Record, E> {
        Ok(Record::Other("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Record, E> {
        Ok(Record::Other("a number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Record, E> {
        Ok(Record::Other("a string"))
    }

    fn visit_unit<E>(self) -> Result<Record, E> {
        Ok(Record::Other("null"))
    }
}

/// A key, borrowed from the body when it holds no escape.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_owned()))
    }

    fn visit_string<E>(self, key: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::json_type;

    #[test]
    fn a_record_reads_as_a_value_object_would() {
        for text in [
            r#"{"msg":"a","n":1,"msg":"b","Level":"warn","x":{"y":[1,2]}}"#,
            r#"{"ts":1,"level":null,"severityNumber":9,"traceid":"t","user":"u","ts":2}"#,
            r#"{"m\u0073g":"escaped key","us\ner":"x","\u00e9t\u00e9":1}"#,
            r#"{}"#,
            r#"[1,{"a":2}]"#,
            r#""text""#,
            "12",
            "-1.5e3",
            "18446744073709551615",
            "true",
            "null",
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            let record: Record = serde_json::from_str(text).unwrap();
            match (&value, record) {
                (Value::Object(object), Record::Object(fields)) => {
                    let expected: BTreeMap<String, Value> = object.clone().into_iter().collect();
                    let mixed = ["Level", "severityNumber", "traceid"];
                    let expect_variants = mixed.iter().any(|k| text.contains(k));
                    assert_eq!(fields.maybe_case_variants(), expect_variants, "{text}");
                    assert_eq!(fields.into_attrs(), expected, "{text}");
                }
                (other, Record::Other(kind)) => assert_eq!(kind, json_type(other), "{text}"),
                (_, Record::Object(_)) => panic!("{text}: read as an object"),
            }
        }
    }

    #[test]
    fn a_malformed_record_fails_as_a_value_would() {
        for text in [r#"{"msg":}"#, r#"{"msg":"a""#, "[1,", r#"{"a":1} x"#] {
            let value = serde_json::from_str::<Value>(text).unwrap_err();
            let record = serde_json::from_str::<Record>(text).err().unwrap();
            assert_eq!(value.to_string(), record.to_string(), "{text}");
        }
    }
}
