//! Call arguments as JSON values that keep the caller's key order.
//!
//! `serde_json::Value` sorts object keys (a `BTreeMap`) unless `preserve_order` pulls in
//! `indexmap` and `hashbrown`, which cost bundle size. Bodies are expected to read the way the
//! caller wrote them (`amount=2500&currency=usd`, not alphabetised), and arguments are small, so
//! an object is a `Vec` of entries: order kept, lookups linear, no extra crate.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::fmt;

/// A JSON value; objects keep insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The entry named `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_object()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// JSON type name, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// The text a scalar has in a URL or form: `true`, `2500`, `usd`; `None` for containers.
    /// `null` is the empty string, which Stripe reads as "unset this field".
    pub fn scalar_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        use std::borrow::Cow;
        match self {
            Value::String(s) => Some(Cow::Borrowed(s)),
            other => other.with_text(|text| Cow::Owned(text.to_owned())),
        }
    }

    /// Calls `f` with the scalar's text (see [`Value::scalar_text`]) without allocating for
    /// integers; `None` for containers.
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        let mut buf = [0u8; 20];
        match self {
            Value::Null => Some(f("")),
            Value::Bool(true) => Some(f("true")),
            Value::Bool(false) => Some(f("false")),
            Value::String(s) => Some(f(s)),
            Value::Number(n) => Some(match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => f(crate::json::u64_text(&mut buf, u)),
                (None, Some(i)) => f(&format!("-{}", crate::json::u64_text(&mut buf, i.unsigned_abs()))),
                // serde_json's writer, not `Display`: the latter drags in core's float
                // formatting (~15 KiB of wasm) for the same digits.
                _ => f(&serde_json::to_string(n).unwrap_or_default()),
            }),
            Value::Array(_) | Value::Object(_) => None,
        }
    }

    pub fn is_scalar(&self) -> bool {
        !matches!(self, Value::Array(_) | Value::Object(_))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(key) = map.next_key_seed(Key)? {
            let value: Value = map.next_value()?;
            // JSON.stringify never repeats a key; a hand-written duplicate keeps the last, as JS does.
            if let Some(slot) = entries.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value;
            } else {
                entries.push((key, value));
            }
        }
        Ok(Value::Object(entries))
    }
}

/// Object keys. `String`'s own visitor would do, but its refusal of a non-string formats the
/// value it got, floats included, and that alone links core's float formatting (~15 KiB of
/// wasm). JSON keys are always strings; this visitor refuses anything else without formatting.
struct Key;

impl<'de> de::DeserializeSeed<'de> for Key {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_string(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<String, E> {
        Err(E::custom("object keys must be strings"))
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_through_a_round_trip() {
        let text = r#"{"z":1,"a":[true,null,"x"],"m":{"b":2.5,"a":-3}}"#;
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), text);
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_in_the_first_place() {
        let v: Value = serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn scalar_text_is_what_a_form_carries() {
        let v: Value = serde_json::from_str(r#"[null,true,2500,1.5,"usd",[],{}]"#).unwrap();
        let Value::Array(items) = v else { panic!() };
        let texts: Vec<_> = items.iter().map(|v| v.scalar_text().map(|c| c.into_owned())).collect();
        assert_eq!(
            texts,
            [
                Some("".into()),
                Some("true".into()),
                Some("2500".into()),
                Some("1.5".into()),
                Some("usd".into()),
                None,
                None
            ]
        );
    }
}
