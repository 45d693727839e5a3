//! Turning argument values into URL paths, query strings and form bodies.
//!
//! A form body's fields follow the spec's `encoding` for the media type ([`Pairs::push_form`]),
//! with OpenAPI's defaults where it says nothing (`style: form, explode: true`):
//!
//! | style | array | object |
//! |---|---|---|
//! | `form`, exploded (the default) | the key repeated: `to=a&to=b` | its members as fields of their own: `a=1&b=2` |
//! | `form`, not exploded | `to=a,b` | `o=a,1,b,2` |
//! | `spaceDelimited`, `pipeDelimited` | `to=a%20b`, `to=a\|b` | as `form`, not exploded, with that separator |
//! | `deepObject` | indexed brackets: `to[0]=a&to[1]=b` (stripe-node's form, what Stripe reads) | brackets: `o[a]=1&o[b]=2`, nested to any depth |
//!
//! Query parameters follow the same table but for two things: a `deepObject` array of scalars
//! takes empty brackets (`expand[]=a`, Stripe's query form) and an exploded object is refused
//! (it would let a caller name any query parameter). In every style a scalar is `key=value`,
//! `null` in a body field is the empty string (Stripe's "unset") and in a query sends nothing,
//! and an item or member that is itself a container (where the style has no form for it) is
//! sent as its JSON. A form-exploded body object's members may not take the name of a declared
//! parameter or of another field of the call: they would send it twice, or under a cover.
//!
//! Everything outside RFC 3986's unreserved set (`A-Z a-z 0-9 - . _ ~`) is percent-encoded, in
//! path segments, query keys and values, and form fields alike. That one rule is what keeps an
//! argument inside its slot: a `/`, `?`, `#`, `%` or `\` in a value can never become structure.
//! The only structure characters written unencoded are the brackets of nested keys (`a[b][0]`),
//! as stripe-node writes them; they are in the query's allowed set, so URL parsers leave them be.
//!
//! Dot segments are the one hole left: `.` is unreserved, and URL parsers resolve `..` (and its
//! encoded forms) against the path. Path values `.` and `..` are therefore refused, as is the
//! empty value, which would collapse two segments into one.

use crate::error::CallError;
use crate::table::{CredentialParam, FieldStyles, Param, Style};
use crate::value::Value;

/// Appends `text` percent-encoded: unreserved bytes as they are, every other byte as `%XX`.
pub fn percent_encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !unreserved(b) {
            // Runs of unreserved bytes are copied whole: ASCII, so they start and end on char
            // boundaries (an empty run may not, inside a multi-byte character: skipped).
            if start < i {
                out.push_str(&text[start..i]);
            }
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
            start = i + 1;
        }
    }
    out.push_str(&text[start..]);
}

/// The text of a path parameter: strings and numbers, nothing that could leave its segment.
pub fn path_value<'v>(name: &str, value: &'v Value) -> Result<std::borrow::Cow<'v, str>, CallError> {
    let text = match value {
        Value::String(_) | Value::Number(_) => value.scalar_text().unwrap_or_default(),
        other => {
            return Err(CallError::invalid(format!(
                "path parameter `{name}` must be a string or a number, not {}",
                other.kind()
            )))
        }
    };
    match &*text {
        "" => Err(CallError::invalid(format!("path parameter `{name}` must not be empty"))),
        "." | ".." => Err(CallError::invalid(format!(
            "path parameter `{name}` must not be `.` or `..`: it would change the path"
        ))),
        _ => Ok(text),
    }
}

/// Fills a path template (`/v1/customers/{customer}`) with values already checked by
/// [`path_value`], in order, each confined to its own part of the path:
///
/// - percent-encoded, so nothing in it is structure;
/// - a parameter that shares its segment with template text (`{base}...{head}`,
///   `{id}.json`) may not hold that text, nor make it anew across its edge (`base = "a."`
///   before `...`), either of which would move the boundary a server reads; and the segments it
///   makes may not be `.` or `..`;
/// - a multi-segment parameter (bit `i` of `multi` for the `i`-th; OpenAPI's `x-multi-segment`,
///   GitHub's `{path}`) keeps its `/`s, each sub-segment encoded and none empty, `.` or `..`.
pub fn fill_path(out: &mut String, template: &str, names: &[&str], values: &[std::borrow::Cow<'_, str>], multi: u8) -> Result<(), CallError> {
    let start = out.len();
    let mut rest = template;
    let mut shared = false;
    for (i, value) in values.iter().enumerate() {
        let Some(open) = rest.find('{') else { break };
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        // Template text beside the parameter within its segment.
        let before = &rest[rest[..open].rfind(['/', '}']).map_or(0, |b| b + 1)..open];
        let after = &rest[close..rest[close..].find(['/', '{']).map_or(rest.len(), |a| close + a)];
        out.push_str(&rest[..open]);
        let name = names.get(i).copied().unwrap_or("");
        let value: &str = value;
        if !before.is_empty() || !after.is_empty() || rest[close..].starts_with('{') {
            shared = true;
            // Nor make it anew across its edge: "a." before "..." reads as "a" and "....".
            let moves = |text: &str, edge: bool| {
                let joined = if edge { [value, text].concat() } else { [text, value].concat() };
                if edge { joined.find(text) != Some(value.len()) } else { joined.rfind(text) != Some(0) }
            };
            if !after.is_empty() && moves(after, true) {
                return Err(shares_segment(name, after));
            }
            if !before.is_empty() && moves(before, false) {
                return Err(shares_segment(name, before));
            }
        }
        if multi & (1 << i) != 0 {
            multi_segment(out, name, value)?;
        } else {
            percent_encode_into(out, value);
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    if shared && out[start..].split('/').any(|s| s == "." || s == "..") {
        return Err(CallError::invalid("the path parameters make a `.` or `..` segment, which URL parsers would resolve"));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn shares_segment(name: &str, text: &str) -> CallError {
    CallError::invalid(format!("path parameter `{name}` must not hold `{text}`: it shares its path segment with that text, and a server would split it there"))
}

/// A multi-segment value: its `/`s kept, each sub-segment encoded, none empty, `.` or `..`.
#[inline(never)]
fn multi_segment(out: &mut String, name: &str, value: &str) -> Result<(), CallError> {
    for (k, part) in value.split('/').enumerate() {
        if matches!(part, "" | "." | "..") {
            return Err(CallError::invalid(format!(
                "path parameter `{name}` spans segments, none of which may be empty, `.` or `..`: they would change the path"
            )));
        }
        if k > 0 {
            out.push('/');
        }
        percent_encode_into(out, part);
    }
    Ok(())
}

/// A `key=value&...` string under construction (query or form body).
#[derive(Debug, Default)]
pub struct Pairs {
    text: String,
    /// Scratch for nested keys (`metadata[order_id]`), reused by every parameter of the call.
    prefix: String,
}

impl Pairs {
    /// Room for a typical call's query or form body, so it is written without growing.
    pub fn new() -> Self {
        Pairs { text: String::with_capacity(128), prefix: String::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn into_string(self) -> String {
        self.text
    }

    fn start(&mut self) {
        if !self.text.is_empty() {
            self.text.push('&');
        }
    }

    /// `key=value`, both encoded.
    pub fn push(&mut self, key: &str, value: &str) {
        self.start();
        percent_encode_into(&mut self.text, key);
        self.text.push('=');
        percent_encode_into(&mut self.text, value);
    }

    /// `key` (already encoded, brackets included) `=value`.
    fn push_raw_key(&mut self, key: &str, value: &str) {
        self.start();
        self.text.push_str(key);
        self.text.push('=');
        percent_encode_into(&mut self.text, value);
    }

    /// `key=value` where value is already encoded (delimited styles).
    fn push_raw_value(&mut self, key: &str, value: &str) {
        self.start();
        percent_encode_into(&mut self.text, key);
        self.text.push('=');
        self.text.push_str(value);
    }

    /// Stripe's nested form encoding: `a[b][0]=c`. Arrays take indices, `null` is the empty
    /// string (Stripe's "unset"), empty arrays and objects send nothing.
    pub fn push_nested(&mut self, key: &str, value: &Value) {
        if value.with_text(|text| self.push(key, text)).is_none() {
            self.push_under(key, value, ArrayKeys::Indexed);
        }
    }

    /// A form body's fields, each in its style (the table in the module docs). `declared`: the
    /// operation's parameters, and `credentials` the provider's credential parameters
    /// ([`crate::creds`]), whose names an exploded object's members may not take.
    pub fn push_form(&mut self, fields: &[(String, Value)], styles: &FieldStyles, declared: &[Param], credentials: &[CredentialParam]) -> Result<(), CallError> {
        for (name, value) in fields {
            let style = styles.of(name);
            if style == Style::DeepObject {
                self.push_nested(name, value);
            } else {
                self.push_field(name, style, value, fields, declared, credentials)?;
            }
        }
        Ok(())
    }

    /// One form field in a style other than `deepObject`.
    #[inline(never)]
    fn push_field(&mut self, name: &str, style: Style, value: &Value, fields: &[(String, Value)], declared: &[Param], credentials: &[CredentialParam]) -> Result<(), CallError> {
        if value.with_text(|text| self.push(name, text)).is_some() {
            return Ok(());
        }
        match (style, value) {
            (Style::Form, Value::Object(members)) => {
                for (key, member) in members {
                    if declared.iter().any(|p| p.wire_name() == key) || fields.iter().any(|(f, _)| f == key) || credentials.iter().any(|c| c.name == key) {
                        return Err(CallError::invalid(format!(
                            "form field `{}`: its member `{}` would be sent as a field of its own, and that name is another parameter's",
                            crate::args::printable(name),
                            crate::args::printable(key)
                        )));
                    }
                    match member.with_text(|text| self.push(key, text)) {
                        Some(()) => {}
                        None => self.push_json(key, member),
                    }
                }
            }
            (style, v) => self.push_query(name, style, v),
        }
        Ok(())
    }

    /// The members of a container under `key[...]`.
    fn push_under(&mut self, key: &str, value: &Value, arrays: ArrayKeys) {
        let mut prefix = std::mem::take(&mut self.prefix);
        prefix.clear();
        // Sized once for typical nesting (`metadata[order_id]`), not grown byte by byte.
        prefix.reserve(64);
        percent_encode_into(&mut prefix, key);
        self.nested(&mut prefix, value, arrays);
        self.prefix = prefix;
    }

    /// One query parameter, serialized per its OpenAPI style.
    pub fn push_query(&mut self, name: &str, style: Style, value: &Value) {
        match (style, value) {
            (_, Value::Null) => {}
            (_, v) if v.is_scalar() => {
                v.with_text(|text| self.push(name, text));
            }
            (Style::DeepObject, v) => self.push_under(name, v, ArrayKeys::Empty),
            (Style::Form, Value::Array(items)) => {
                for item in items {
                    match item.scalar_text() {
                        Some(text) => self.push(name, &text),
                        None => self.push_json(name, item),
                    }
                }
            }
            // An exploded object would spread its keys into parameters of their own: the request
            // builder refuses it (`request::exploded_object`); here it stays under its own name.
            (Style::FormCsv | Style::SpaceDelimited | Style::PipeDelimited, v) => {
                let sep = match style {
                    Style::SpaceDelimited => "%20",
                    Style::PipeDelimited => "|",
                    _ => ",",
                };
                let mut joined = String::new();
                let mut first = true;
                let mut part = |text: &str, joined: &mut String| {
                    if !std::mem::take(&mut first) {
                        joined.push_str(sep);
                    }
                    percent_encode_into(joined, text);
                };
                match v {
                    Value::Array(items) => {
                        for item in items {
                            part(&scalar_or_json(item), &mut joined);
                        }
                    }
                    Value::Object(entries) => {
                        for (k, v) in entries {
                            part(k, &mut joined);
                            part(&scalar_or_json(v), &mut joined);
                        }
                    }
                    _ => unreachable!("scalars are handled above"),
                }
                self.push_raw_value(name, &joined);
            }
            (_, v) => self.push_json(name, v),
        }
    }

    fn push_json(&mut self, key: &str, value: &Value) {
        self.push(key, &value.to_json());
    }

    fn nested(&mut self, prefix: &mut String, value: &Value, arrays: ArrayKeys) {
        match value {
            Value::Object(entries) => {
                for (k, v) in entries {
                    let len = prefix.len();
                    prefix.push('[');
                    percent_encode_into(prefix, k);
                    prefix.push(']');
                    self.nested(prefix, v, arrays);
                    prefix.truncate(len);
                }
            }
            Value::Array(items) => {
                let bare = arrays == ArrayKeys::Empty && items.iter().all(Value::is_scalar);
                for (i, item) in items.iter().enumerate() {
                    let len = prefix.len();
                    if bare {
                        prefix.push_str("[]");
                    } else {
                        prefix.push('[');
                        prefix.push_str(crate::json::u64_text(&mut [0; 20], i as u64));
                        prefix.push(']');
                    }
                    self.nested(prefix, item, arrays);
                    prefix.truncate(len);
                }
            }
            scalar => {
                scalar.with_text(|text| self.push_raw_key(prefix, text));
            }
        }
    }
}

/// How arrays of scalars are keyed inside nested encodings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayKeys {
    /// `a[0]=x&a[1]=y`: form bodies, as stripe-node sends them.
    Indexed,
    /// `a[]=x&a[]=y`: deepObject query arrays of scalars (Stripe's `expand[]`). Arrays holding
    /// objects keep indices, or their members' fields could not be told apart.
    Empty,
}

fn scalar_or_json(value: &Value) -> String {
    match value.scalar_text() {
        Some(text) => text.into_owned(),
        None => value.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        crate::parse::parse(json).unwrap()
    }

    fn query(name: &str, style: Style, json: &str) -> String {
        let mut p = Pairs::default();
        p.push_query(name, style, &v(json));
        p.into_string()
    }

    #[test]
    fn percent_encodes_everything_but_unreserved() {
        let mut s = String::new();
        percent_encode_into(&mut s, "a b/c?d#e%f\\g&h=i+j.k_l~m-é");
        assert_eq!(s, "a%20b%2Fc%3Fd%23e%25f%5Cg%26h%3Di%2Bj.k_l~m-%C3%A9");
    }

    #[test]
    fn path_values_stay_in_their_segment() {
        let values: Vec<_> = ["cus/../x", "%2e%2e", "7"].iter().map(|s| std::borrow::Cow::Borrowed(*s)).collect();
        let mut out = String::from("https://api.stripe.com");
        fill_path(&mut out, "/v1/{a}/b/{c}/{d}", &["a", "c", "d"], &values, 0).unwrap();
        assert_eq!(out, "https://api.stripe.com/v1/cus%2F..%2Fx/b/%252e%252e/7");
    }

    fn filled(template: &str, values: &[&str], multi: u8) -> Result<String, CallError> {
        let values: Vec<_> = values.iter().map(|s| std::borrow::Cow::Borrowed(*s)).collect();
        let mut out = String::new();
        fill_path(&mut out, template, &["a", "b"], &values, multi).map(|()| out)
    }

    #[test]
    fn parameters_sharing_a_segment_keep_to_their_part() {
        assert_eq!(filled("/compare/{a}...{b}", &["main", "feature/x"], 0).unwrap(), "/compare/main...feature%2Fx");
        assert_eq!(filled("/items/{a}.json", &["7"], 0).unwrap(), "/items/7.json");
        for bad in [&["a...b", "c"][..], &["a", "b...c"]] {
            assert_eq!(filled("/compare/{a}...{b}", bad, 0).unwrap_err().code(), crate::error::Code::InvalidArgument, "{bad:?}");
        }
        assert!(filled("/items/{a}.json", &["x.json"], 0).is_err());
        // Nor make the text anew across its edge (the security suite's find).
        for bad in [&["a.", "b"][..], &["a..", "b"], &["a", ".b"], &["a", "..b"]] {
            assert!(filled("/compare/{a}...{b}", bad, 0).is_err(), "{bad:?}");
        }
        assert!(filled("/v{a}/x", &["2"], 0).is_ok());
        assert!(filled("/v{a}/x", &["v2"], 0).is_err(), "conservative: whatever a server reads first");
        assert!(filled("/items/{a}.json", &["x.js"], 0).is_ok());
        // Two values that together make a dot segment.
        assert!(filled("/x/{a}{b}", &[".", "."], 0).is_err());
        assert_eq!(filled("/x/{a}{b}", &["a", "b"], 0).unwrap(), "/x/ab");
    }

    #[test]
    fn multi_segment_parameters_keep_their_slashes_and_nothing_else() {
        assert_eq!(filled("/repos/o/r/contents/{a}", &["docs/a b/README.md"], 1).unwrap(), "/repos/o/r/contents/docs/a%20b/README.md");
        assert_eq!(filled("/git/ref/{a}", &["heads/feature/x?y#z"], 1).unwrap(), "/git/ref/heads/feature/x%3Fy%23z");
        for bad in ["a/../b", "./a", "a//b", "/a", "a/", "..", "a/."] {
            assert!(filled("/contents/{a}", &[bad], 1).is_err(), "{bad}");
        }
        // Without the flag, a slash stays inside the segment.
        assert_eq!(filled("/contents/{a}", &["a/b"], 0).unwrap(), "/contents/a%2Fb");
    }

    #[test]
    fn path_values_refuse_dot_segments_empty_and_containers() {
        for bad in [r#"".""#, r#""..""#, r#""""#, "true", "null", "[1]", r#"{"a":1}"#] {
            let err = path_value("id", &v(bad)).unwrap_err();
            assert_eq!(err.code(), crate::error::Code::InvalidArgument, "{bad}");
        }
        assert_eq!(path_value("id", &v("7")).unwrap(), "7");
        assert_eq!(path_value("id", &v(r#""a.b""#)).unwrap(), "a.b");
    }

    #[test]
    fn stripe_form_bodies_nest_with_brackets_and_indices() {
        let mut p = Pairs::default();
        let body = v(r#"{"amount":2500,"metadata":{"order":"A 1","empty":null},"items":[{"price":"p_1","qty":2}],"expand":["customer"],"unset":"","none":[],"zero":{}}"#);
        for (k, val) in body.as_object().unwrap() {
            p.push_nested(k, val);
        }
        assert_eq!(
            p.into_string(),
            "amount=2500&metadata[order]=A%201&metadata[empty]=&items[0][price]=p_1&items[0][qty]=2&expand[0]=customer&unset="
        );
    }

    fn form(styles: &FieldStyles, body: &str) -> Result<String, CallError> {
        let fields: Vec<(String, Value)> = match v(body) {
            Value::Object(entries) => entries,
            _ => unreachable!(),
        };
        let declared = [Param { name: "taken", at: crate::table::At::Body, required: false }];
        let mut p = Pairs::default();
        let credentials = [CredentialParam { op: 0, name: "token", at: crate::table::CredentialAt::Body, handle: "T", required: true }];
        p.push_form(&fields, styles, &declared, &credentials).map(|()| p.into_string())
    }

    #[test]
    fn form_fields_follow_their_encoding() {
        let plain = FieldStyles { default: Style::Form, fields: &[("csv", Style::FormCsv), ("deep", Style::DeepObject), ("pipe", Style::PipeDelimited)] };
        assert_eq!(
            form(&plain, r#"{"To":["a","b c"],"n":1,"unset":null,"o":{"x":1,"y":"z","in":[1]},"csv":["a","b,c"],"deep":{"k":["v","w"]},"pipe":[1,2],"none":[],"objs":[{"a":1}]}"#).unwrap(),
            "To=a&To=b%20c&n=1&unset=&x=1&y=z&in=%5B1%5D&csv=a,b%2Cc&deep[k][0]=v&deep[k][1]=w&pipe=1|2&objs=%7B%22a%22%3A1%7D"
        );
        assert_eq!(form(&plain, r#"{"csv":{"a":1,"b":"x"}}"#).unwrap(), "csv=a,1,b,x");
        // An exploded object's members may not take another parameter's or field's name.
        for bad in [r#"{"o":{"taken":1}}"#, r#"{"o":{"n":1},"n":2}"#, r#"{"o":{"token":"attacker"}}"#] {
            assert_eq!(form(&plain, bad).unwrap_err().code(), crate::error::Code::InvalidArgument, "{bad}");
        }
        // Stripe's: deepObject everywhere, indexed arrays, as push_nested.
        let deep = FieldStyles { default: Style::DeepObject, fields: &[] };
        assert_eq!(form(&deep, r#"{"expand":["a","b"],"metadata":{"k":"v"},"n":null}"#).unwrap(), "expand[0]=a&expand[1]=b&metadata[k]=v&n=");
    }

    #[test]
    fn nested_keys_are_encoded_too() {
        let mut p = Pairs::default();
        p.push_nested("metadata", &v(r#"{"a]b[c&d=":"x"}"#));
        assert_eq!(p.into_string(), "metadata[a%5Db%5Bc%26d%3D]=x");
    }

    #[test]
    fn deep_object_queries_use_empty_brackets_for_scalar_arrays() {
        assert_eq!(query("expand", Style::DeepObject, r#"["data.default_source","x y"]"#), "expand[]=data.default_source&expand[]=x%20y");
        assert_eq!(query("created", Style::DeepObject, r#"{"gte":1,"lt":2}"#), "created[gte]=1&created[lt]=2");
        assert_eq!(query("created", Style::DeepObject, "1690000000"), "created=1690000000");
        assert_eq!(query("f", Style::DeepObject, r#"[{"a":1}]"#), "f[0][a]=1");
    }

    #[test]
    fn form_queries_follow_explode() {
        assert_eq!(query("id", Style::Form, r#"["1","2"]"#), "id=1&id=2");
        assert_eq!(query("id", Style::FormCsv, r#"["1","a,b"]"#), "id=1,a%2Cb");
        assert_eq!(query("id", Style::SpaceDelimited, "[1,2]"), "id=1%202");
        assert_eq!(query("id", Style::PipeDelimited, "[1,2]"), "id=1|2");
        assert_eq!(query("o", Style::Form, r#"{"a":1,"b":"x"}"#), "o=%7B%22a%22%3A1%2C%22b%22%3A%22x%22%7D");
        assert_eq!(query("o", Style::FormCsv, r#"{"a":1,"b":"x"}"#), "o=a,1,b,x");
        assert_eq!(query("flag", Style::Form, "true"), "flag=true");
        assert_eq!(query("skip", Style::Form, "null"), "");
    }
}
