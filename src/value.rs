//! Call arguments as JSON values that keep the caller's key order and numbers' text.
//!
//! `serde_json::Value` sorts object keys (a `BTreeMap`) unless `preserve_order` pulls in
//! `indexmap` and `hashbrown`, which cost bundle size. Bodies are expected to read the way the
//! caller wrote them (`amount=2500&currency=usd`, not alphabetised), and arguments are small, so
//! an object is a `Vec` of entries: order kept, lookups linear, no extra crate. A number is its
//! JSON text, as `JSON.stringify` wrote it, sent on unchanged (see [`crate::parse`]). Values are
//! read by [`crate::parse::parse`] and written by [`Value::push_json`].

/// A JSON value; objects keep insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
    /// Bytes the caller passed (a `Uint8Array`, an `ArrayBuffer`, a `Blob`): they stay in the JS
    /// entry, which reported where they were (`src/js/args.js`); only a multipart file field or
    /// a binary body may carry them, and the request names them by index for the entry to send.
    Binary(Box<Binary>),
}

/// What the entry reported of one binary argument; the bytes themselves never enter the wasm.
#[derive(Debug, Clone, PartialEq)]
pub struct Binary {
    /// Its place in the call's list of binaries, which the request hands back to the entry.
    pub index: u32,
    /// Length in bytes.
    pub size: u64,
    /// A `Blob`'s own `type` (empty for bytes, or a Blob without one).
    pub media_type: String,
    /// A `File`'s `name` (empty otherwise).
    pub name: String,
}

/// A JSON number: its text, valid by the JSON grammar (only the parser makes one).
#[derive(Debug, Clone, PartialEq)]
pub struct Number(String);

impl Number {
    /// A number from text the parser has checked against the grammar.
    pub(crate) fn from_json(text: &str) -> Self {
        Number(text.to_owned())
    }

    /// A whole number.
    pub fn from_u64(n: u64) -> Self {
        Number(n.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
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
            Value::Binary(_) => "binary data",
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

    /// Calls `f` with the scalar's text (see [`Value::scalar_text`]) without allocating;
    /// `None` for containers.
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        match self {
            Value::Null => Some(f("")),
            Value::Bool(true) => Some(f("true")),
            Value::Bool(false) => Some(f("false")),
            Value::String(s) => Some(f(s)),
            Value::Number(n) => Some(f(n.as_str())),
            Value::Array(_) | Value::Object(_) | Value::Binary(_) => None,
        }
    }

    pub fn is_scalar(&self) -> bool {
        !matches!(self, Value::Array(_) | Value::Object(_) | Value::Binary(_))
    }

    /// Whether binary data is anywhere inside.
    pub fn holds_binary(&self) -> bool {
        match self {
            Value::Binary(_) => true,
            Value::Array(items) => items.iter().any(Value::holds_binary),
            Value::Object(entries) => entries.iter().any(|(_, v)| v.holds_binary()),
            _ => false,
        }
    }

    /// Appends the value as JSON: keys in their order, numbers as their text, strings escaped
    /// as serde_json escapes them.
    pub fn push_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Number(n) => out.push_str(n.as_str()),
            Value::String(s) => crate::json::push_str(out, s),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.push_json(out);
                }
                out.push(']');
            }
            Value::Object(entries) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    crate::json::push_str(out, k);
                    out.push(':');
                    v.push_json(out);
                }
                out.push('}');
            }
            // Never written: the request builder refuses binary data anywhere but a multipart
            // file field or a binary body, neither of which is JSON.
            Value::Binary(_) => out.push_str("null"),
        }
    }

    /// The value as JSON text.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.push_json(&mut out);
        out
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    #[test]
    fn keeps_key_order_and_number_text_through_a_round_trip() {
        let text = r#"{"z":1,"a":[true,null,"x"],"m":{"b":2.5,"a":-3,"c":990287651305.0679}}"#;
        assert_eq!(parse(text).unwrap().to_json(), text);
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        for s in ["plain", "quote\"d", "back\\slash", "ctl \u{1}\u{8}\u{c}\n\r\t\u{1f}", "é 😀", "</script>"] {
            assert_eq!(Value::String(s.to_owned()).to_json(), serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn scalar_text_is_what_a_form_carries() {
        let Value::Array(items) = parse(r#"[null,true,2500,1.5,"usd",[],{},1e+21]"#).unwrap() else { panic!() };
        let texts: Vec<_> = items.iter().map(|v| v.scalar_text().map(|c| c.into_owned())).collect();
        let want = [Some(""), Some("true"), Some("2500"), Some("1.5"), Some("usd"), None, None, Some("1e+21")];
        assert_eq!(texts, want.map(|t| t.map(str::to_owned)));
    }
}
