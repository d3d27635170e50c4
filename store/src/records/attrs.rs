//! An event's attributes in the binary records (queue payload, a log block's
//! rest): a sequence of `(key, value)` pairs, each value an enum of the JSON
//! types. Written from and read into `serde_json` values directly, with no
//! intermediate copy of the map (building one was a tenth of the CPU of a
//! sustained load, docs/benchmarks.md).
//!
//! The wire format is postcard's for this enum (variant index, then the
//! content), pinned by the tests against a derived copy of it:
//!
//! ```text
//! enum Attr { Null, Bool(bool), I64(i64), U64(u64), F64(f64), Str(String),
//!             Json(String), List(Vec<Attr>), Map(Vec<(String, Attr)>) }
//! ```
//!
//! `Json` (a value as its JSON text) is how earlier versions wrote arrays and
//! objects; it still reads, and is still written for a value nested deeper than
//! [`MAX_BINARY_DEPTH`].

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, EnumAccess, SeqAccess, VariantAccess, Visitor};
use serde::ser::{self, SerializeTuple};
use serde::{Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Nesting past which a value is written as its JSON text, whose reader
/// bounds its recursion.
const MAX_BINARY_DEPTH: usize = 32;
/// Nesting past which a binary value is refused when read (a corrupt record
/// must not recurse without bound).
const MAX_READ_DEPTH: usize = MAX_BINARY_DEPTH + 1;

const ENUM: &str = "Attr";
const VARIANTS: &[&str] = &[
    "Null", "Bool", "I64", "U64", "F64", "Str", "Json", "List", "Map",
];

/// An event's attributes, for writing: the entries of a map at depth 0.
pub(super) type AttrsOut<'a> = Fields<'a, BTreeMap<String, Value>>;

impl<'a> AttrsOut<'a> {
    pub(super) fn new(attrs: &'a BTreeMap<String, Value>) -> AttrsOut<'a> {
        Fields(attrs, 0)
    }
}

struct Entry<'a>(&'a str, ValueOut<'a>);

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(2)?;
        t.serialize_element(self.0)?;
        t.serialize_element(&self.1)?;
        t.end()
    }
}

/// A value at a nesting depth.
struct ValueOut<'a>(&'a Value, usize);

impl Serialize for ValueOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ValueOut(value, depth) = *self;
        let json = |s: S| {
            let text = serde_json::to_string(value).map_err(ser::Error::custom)?;
            s.serialize_newtype_variant(ENUM, 6, "Json", &text)
        };
        match value {
            Value::Null => s.serialize_unit_variant(ENUM, 0, "Null"),
            Value::Bool(b) => s.serialize_newtype_variant(ENUM, 1, "Bool", b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    s.serialize_newtype_variant(ENUM, 2, "I64", &i)
                } else if let Some(u) = n.as_u64() {
                    s.serialize_newtype_variant(ENUM, 3, "U64", &u)
                } else if let Some(f) = n.as_f64() {
                    s.serialize_newtype_variant(ENUM, 4, "F64", &f)
                } else {
                    json(s)
                }
            }
            Value::String(text) => s.serialize_newtype_variant(ENUM, 5, "Str", text),
            Value::Array(_) | Value::Object(_) if depth >= MAX_BINARY_DEPTH => json(s),
            Value::Array(items) => {
                s.serialize_newtype_variant(ENUM, 7, "List", &Items(items, depth + 1))
            }
            Value::Object(map) => {
                s.serialize_newtype_variant(ENUM, 8, "Map", &Fields(map, depth + 1))
            }
        }
    }
}

struct Items<'a>(&'a [Value], usize);

impl Serialize for Items<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|v| ValueOut(v, self.1)))
    }
}

/// The `(key, value)` entries of a map (an event's attributes, or an object
/// value) whose values are at a nesting depth.
pub(super) struct Fields<'a, M>(&'a M, usize);

impl<'a, M> Serialize for Fields<'a, M>
where
    &'a M: IntoIterator<Item = (&'a String, &'a Value)>,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let depth = self.1;
        s.collect_seq(
            self.0
                .into_iter()
                .map(|(k, v)| Entry(k, ValueOut(v, depth))),
        )
    }
}

/// Reads an attribute map written by [`AttrsOut`] (or by earlier versions).
pub(super) fn deserialize<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Value>, D::Error> {
    FieldsVisitor::<BTreeMap<String, Value>>(0, std::marker::PhantomData).deserialize(d)
}

/// Reads a sequence of `(key, value)` into a map of either kind.
struct FieldsVisitor<M>(usize, std::marker::PhantomData<M>);

impl<'de, M: Default + Extend<(String, Value)>> Visitor<'de> for FieldsVisitor<M> {
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence of (key, value) pairs")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<M, A::Error> {
        let mut out = M::default();
        while let Some(entry) = seq.next_element_seed(EntrySeed(self.0))? {
            out.extend([entry]);
        }
        Ok(out)
    }
}

impl<'de, M: Default + Extend<(String, Value)>> DeserializeSeed<'de> for FieldsVisitor<M> {
    type Value = M;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<M, D::Error> {
        d.deserialize_seq(self)
    }
}

struct EntrySeed(usize);

impl<'de> DeserializeSeed<'de> for EntrySeed {
    type Value = (String, Value);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(String, Value), D::Error> {
        d.deserialize_tuple(2, self)
    }
}

impl<'de> Visitor<'de> for EntrySeed {
    type Value = (String, Value);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a (key, value) pair")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(String, Value), A::Error> {
        let key: String = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let value = seq
            .next_element_seed(ValueSeed(self.0))?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        Ok((key, value))
    }
}

struct ValueSeed(usize);

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_enum(ENUM, VARIANTS, self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (index, variant): (u32, _) = data.variant()?;
        let depth = self.0 + 1;
        if matches!(index, 7 | 8) && depth > MAX_READ_DEPTH {
            return Err(de::Error::custom("attribute value nested too deep"));
        }
        Ok(match index {
            0 => {
                variant.unit_variant()?;
                Value::Null
            }
            1 => Value::Bool(variant.newtype_variant()?),
            2 => Value::from(variant.newtype_variant::<i64>()?),
            3 => Value::from(variant.newtype_variant::<u64>()?),
            4 => serde_json::Number::from_f64(variant.newtype_variant()?)
                .map_or(Value::Null, Value::Number),
            5 => Value::String(variant.newtype_variant()?),
            6 => {
                let text: String = variant.newtype_variant()?;
                serde_json::from_str(&text).map_err(de::Error::custom)?
            }
            7 => Value::Array(variant.newtype_variant_seed(ItemsSeed(depth))?),
            8 => Value::Object(
                variant.newtype_variant_seed(FieldsVisitor(depth, std::marker::PhantomData))?,
            ),
            other => {
                return Err(de::Error::custom(format!(
                    "unknown attribute value type {other}"
                )));
            }
        })
    }
}

struct ItemsSeed(usize);

impl<'de> DeserializeSeed<'de> for ItemsSeed {
    type Value = Vec<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Value>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsSeed {
    type Value = Vec<Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence of attribute values")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Value>, A::Error> {
        // A corrupt length must not allocate: grow as items arrive.
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(ValueSeed(self.0))? {
            out.push(v);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    /// The format written by hand above, as a derive would write it.
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    enum Attr {
        Null,
        Bool(bool),
        I64(i64),
        U64(u64),
        F64(f64),
        Str(String),
        Json(String),
        List(Vec<Attr>),
        Map(Vec<(String, Attr)>),
    }

    fn derived(v: &Value, depth: usize) -> Attr {
        match v {
            Value::Null => Attr::Null,
            Value::Bool(b) => Attr::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => Attr::I64(i),
                (None, Some(u), _) => Attr::U64(u),
                (None, None, Some(f)) => Attr::F64(f),
                _ => Attr::Json(n.to_string()),
            },
            Value::String(s) => Attr::Str(s.clone()),
            Value::Array(_) | Value::Object(_) if depth >= MAX_BINARY_DEPTH => {
                Attr::Json(v.to_string())
            }
            Value::Array(items) => {
                Attr::List(items.iter().map(|i| derived(i, depth + 1)).collect())
            }
            Value::Object(map) => Attr::Map(
                map.iter()
                    .map(|(k, i)| (k.clone(), derived(i, depth + 1)))
                    .collect(),
            ),
        }
    }

    fn sample() -> BTreeMap<String, Value> {
        let mut deep = json!("leaf");
        for _ in 0..40 {
            deep = json!([deep]);
        }
        [
            ("null", json!(null)),
            ("yes", json!(false)),
            ("neg", json!(i64::MIN)),
            ("big", json!(u64::MAX)),
            ("ratio", json!(-0.125)),
            ("name", json!("ünïcode \"quoted\" \u{1}")),
            ("list", json!([1, "two", {"three": [3, null]}, []])),
            ("obj", json!({"a": {"b": [null, true]}, "": {}})),
            ("deep", deep),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    #[derive(Deserialize)]
    struct Wrapped(#[serde(deserialize_with = "deserialize")] BTreeMap<String, Value>);

    #[test]
    fn the_hand_written_codec_writes_and_reads_the_derived_format() {
        let attrs = sample();
        let ours = postcard::to_allocvec(&AttrsOut::new(&attrs)).unwrap();
        let theirs: Vec<(String, Attr)> = attrs
            .iter()
            .map(|(k, v)| (k.clone(), derived(v, 0)))
            .collect();
        assert_eq!(ours, postcard::to_allocvec(&theirs).unwrap());
        let back: Wrapped = postcard::from_bytes(&ours).unwrap();
        assert_eq!(back.0, attrs);
    }

    #[test]
    fn json_text_of_earlier_versions_still_reads() {
        let old = vec![(
            "o".to_owned(),
            Attr::Json(r#"{"a":[1,"x"],"b":null}"#.to_owned()),
        )];
        let back: Wrapped = postcard::from_bytes(&postcard::to_allocvec(&old).unwrap()).unwrap();
        assert_eq!(back.0["o"], json!({"a": [1, "x"], "b": null}));
    }

    #[test]
    fn corrupt_records_are_errors_not_crashes() {
        // A million nested lists: refused at MAX_READ_DEPTH, no stack overflow.
        let mut bytes = vec![1, 1, b'k'];
        for _ in 0..1_000_000 {
            bytes.extend([7, 1]);
        }
        bytes.push(0);
        assert!(postcard::from_bytes::<Wrapped>(&bytes).is_err());
        // An unknown type, a huge stated length, a cut record.
        assert!(postcard::from_bytes::<Wrapped>(&[1, 1, b'k', 9]).is_err());
        assert!(postcard::from_bytes::<Wrapped>(&[1, 1, b'k', 7, 0xff, 0xff, 0xff, 0x7f]).is_err());
        let whole = postcard::to_allocvec(&AttrsOut::new(&sample())).unwrap();
        for cut in 0..whole.len() {
            assert!(
                postcard::from_bytes::<Wrapped>(&whole[..cut]).is_err(),
                "{cut}"
            );
        }
    }
}
