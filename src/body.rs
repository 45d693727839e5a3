//! Request bodies that are not one string: binary bodies and `multipart/form-data`.
//!
//! Bytes a caller passes (a `Uint8Array`, an `ArrayBuffer`, a `Blob`) never enter the wasm: the
//! JS entry keeps them and reports where each was ([`Value::Binary`], `src/js/args.js`). The
//! request therefore describes such a body by reference, and the entry assembles it for `fetch`:
//!
//! - a binary body is the index of the bytes to send (`Content-Type` set here, from the
//!   operation's media type or, when that is a range such as `image/*` or `*/*`, the Blob's own
//!   type if it falls in the range, else `application/octet-stream`);
//! - a multipart body is the list of its parts, text parts by value and file parts by index,
//!   from which the entry builds a `FormData` (which writes the boundary and `Content-Type`
//!   itself, so none is set here).
//!
//! On the wire to the entry ([`crate::http::HttpRequest::push_fetch_json`]) the body slot is
//! therefore a string, `null`, a number (binary) or an array of parts (`[name, text]` and
//! `[name, index, filename, type]`): the plain path's string is the only case it reads first.
//!
//! Where each field goes in a multipart body follows OpenAPI's defaults for `multipart`:
//! binary data is a file part, and so is `{ data, name?, type? }` with binary `data` (a `File`
//! cannot cross RPC, a `Blob` can, but without a name; nowhere else may an object hold binary
//! data, so the shape is unambiguous); scalars are text parts (`null` the empty string, as in form bodies), arrays repeated parts
//! under one name, objects a part holding their JSON, except those whose `encoding` says
//! `deepObject`, which spread into bracketed text parts (`file_link_data[create]=true`: Stripe
//! reads multipart fields as it reads form fields).

use crate::encode::Pairs;
use crate::error::CallError;
use crate::media::{concrete, in_range};
use crate::table::Operation;
use crate::value::Value;

/// A request body.
#[derive(Debug, PartialEq)]
pub enum RequestBody {
    Text(String),
    /// A text body that is a credential (a session's login fields): redacted under `Debug`.
    Secret(crate::secret::Secret),
    /// The caller's binary argument of this index.
    Binary(u32),
    Multipart(Vec<Part>),
}

/// One part of a multipart body.
#[derive(Debug, PartialEq)]
pub struct Part {
    pub name: String,
    pub value: PartValue,
}

#[derive(Debug, PartialEq)]
pub enum PartValue {
    Text(String),
    /// A text part with its own `Content-Type` (the spec's `encoding`), which only a body the
    /// entry frames itself can carry (`capa_typed_parts` builds only).
    #[cfg(capa_typed_parts)]
    TypedText(String, &'static str),
    /// The caller's binary argument `index`, sent as a file named `filename` of `media_type`.
    File { index: u32, filename: String, media_type: String },
}

impl RequestBody {
    /// The text, for bodies that are one.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            RequestBody::Text(text) => Some(text),
            _ => None,
        }
    }

    /// Bytes of the wire JSON this takes beyond its text, for sizing the buffer.
    pub fn text_len(&self) -> usize {
        match self {
            RequestBody::Secret(text) => text.expose().len(),
            other => other.as_text().map_or(32, str::len),
        }
    }

    /// Appends the body's slot of the fetch description (see the module docs).
    pub fn push_json(&self, out: &mut String) {
        match self {
            RequestBody::Text(text) => crate::json::push_str(out, text),
            RequestBody::Secret(text) => crate::json::push_str(out, text.expose()),
            RequestBody::Binary(index) => crate::json::push_u64(out, u64::from(*index), 0),
            RequestBody::Multipart(parts) => push_parts(out, parts),
        }
    }
}

/// One out-of-line copy of the string writer for the cold code here (each inlined copy of its
/// fast check costs bundle size).
#[inline(never)]
fn push_text(out: &mut String, text: &str) {
    crate::json::push_str(out, text);
}

#[inline(never)]
fn push_parts(out: &mut String, parts: &[Part]) {
    out.push('[');
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        push_text(out, &part.name);
        out.push(',');
        match &part.value {
            PartValue::Text(text) => push_text(out, text),
            #[cfg(capa_typed_parts)]
            PartValue::TypedText(text, media_type) => {
                push_text(out, text);
                out.push_str(",null,");
                push_text(out, media_type);
            }
            PartValue::File { index, filename, media_type } => {
                crate::json::push_u64(out, u64::from(*index), 0);
                out.push(',');
                push_text(out, filename);
                out.push(',');
                push_text(out, media_type);
            }
        }
        out.push(']');
    }
    out.push(']');
}

/// A multipart body's `(deep, types)`: its fields encoded deep, and its text parts' media types.
pub type TypedParts = (&'static [&'static str], &'static [(&'static str, &'static str)]);

/// The `(deep, types)` of `op`'s body when it is a multipart body with typed parts.
#[cfg(capa_typed_parts)]
pub fn typed(op: &Operation) -> Option<TypedParts> {
    match op.body {
        crate::table::Body::TypedMultipart { deep, types, .. } => Some((deep, types)),
        _ => None,
    }
}

/// None: this build has no multipart body with typed parts.
#[cfg(not(capa_typed_parts))]
pub fn typed(_: &Operation) -> Option<TypedParts> {
    None
}

/// The multipart body of `fields`, the call's body fields in the caller's order; `deep` names
/// the fields encoded as `deepObject`, `types` those whose text parts have a `Content-Type` of
/// their own.
#[inline(never)]
pub fn multipart(op: &Operation, fields: Vec<(String, Value)>, deep: &[&str], types: &[(&str, &'static str)]) -> Result<RequestBody, CallError> {
    let mut parts = Vec::with_capacity(fields.len());
    for (name, value) in fields {
        let typed = types.iter().find(|(n, _)| *n == name).map(|(_, t)| *t).filter(|_| cfg!(capa_typed_parts));
        if let Some(part) = file(&name, &value, typed) {
            parts.push(part?);
            continue;
        }
        match value {
            Value::Array(items) if !deep.contains(&name.as_str()) => {
                for item in items {
                    match file(&name, &item, typed) {
                        Some(part) => parts.push(part?),
                        None => parts.push(text_part(op, name.clone(), &item, typed)?),
                    }
                }
            }
            Value::Object(_) | Value::Array(_) if deep.contains(&name.as_str()) => {
                if value.holds_binary() {
                    return Err(misplaced(op, &name));
                }
                // Bracketed keys exactly as a form body writes them, one text part per pair.
                let mut pairs = Pairs::new();
                pairs.push_nested(&name, &value);
                for pair in pairs.into_string().split('&').filter(|p| !p.is_empty()) {
                    let (key, text) = pair.split_once('=').unwrap_or((pair, ""));
                    parts.push(Part { name: percent_decode(key), value: PartValue::Text(percent_decode(text)) });
                }
            }
            other => parts.push(text_part(op, name, &other, typed)?),
        }
    }
    Ok(RequestBody::Multipart(parts))
}

/// A text part: a scalar's text, or a container's JSON; typed when its field's `encoding` says.
fn text_part(op: &Operation, name: String, value: &Value, typed: Option<&'static str>) -> Result<Part, CallError> {
    if value.holds_binary() {
        return Err(misplaced(op, &name));
    }
    let text = match value.scalar_text() {
        Some(text) => text.into_owned(),
        None => value.to_json(),
    };
    #[cfg(capa_typed_parts)]
    if let Some(media_type) = typed {
        return Ok(Part { name, value: PartValue::TypedText(text, media_type) });
    }
    #[cfg(not(capa_typed_parts))]
    let _ = typed;
    Ok(Part { name, value: PartValue::Text(text) })
}

/// The file part `value` makes, if it is one: binary data, or `{ data, name?, type? }`. Named
/// as given, else as the caller's `File` is, else after its field; typed as given, else as its
/// `Blob` is, else as the field's `encoding` says (`spec`), else `application/octet-stream`.
fn file(field: &str, value: &Value, spec: Option<&'static str>) -> Option<Result<Part, CallError>> {
    let (binary, name, media_type) = match value {
        Value::Binary(binary) => (binary, None, None),
        Value::Object(entries) => {
            let Some(Value::Binary(binary)) = value.get("data") else { return None };
            let text = |key: &'static str| value.get(key).map(move |v| v.as_str().ok_or(key));
            let fault = |key: &'static str| Some(Err(CallError::invalid(format!("file `{}`: `{key}` must be a string", crate::args::printable(field)))));
            if let Some((key, _)) = entries.iter().find(|(k, _)| !matches!(k.as_str(), "data" | "name" | "type")) {
                return Some(Err(CallError::invalid(format!(
                    "file `{}` takes `data`, `name` and `type`; not `{}`",
                    crate::args::printable(field),
                    crate::args::printable(key)
                ))));
            }
            let (name, media_type) = match (text("name").transpose(), text("type").transpose()) {
                (Ok(name), Ok(media_type)) => (name, media_type),
                (Err(key), _) | (_, Err(key)) => return fault(key),
            };
            (binary, name, media_type)
        }
        _ => return None,
    };
    let pick = |given: Option<&str>, own: &str| given.filter(|g| !g.is_empty()).map(str::to_owned).or_else(|| (!own.is_empty()).then(|| own.to_owned()));
    let filename = pick(name, &binary.name).unwrap_or_else(|| field.to_owned());
    let media_type = pick(media_type, &binary.media_type)
        .filter(|t| concrete(t))
        .or_else(|| spec.map(str::to_owned))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    Some(Ok(Part { name: field.to_owned(), value: PartValue::File { index: binary.index, filename, media_type } }))
}

/// A binary body for an operation whose body is of `media` (a type or a range such as `image/*`),
/// with its `Content-Type`.
#[inline(never)]
pub fn binary(op: &Operation, media: &'static str, value: Value) -> Result<(RequestBody, String), CallError> {
    match value {
        Value::Binary(binary) => {
            let own = &binary.media_type;
            let media_type = if concrete(media) {
                media.to_owned()
            } else if concrete(own) && in_range(own, media) {
                own.clone()
            } else {
                "application/octet-stream".to_owned()
            };
            Ok((RequestBody::Binary(binary.index), media_type))
        }
        Value::String(text) => {
            let media_type = if concrete(media) { media.to_owned() } else { "text/plain; charset=utf-8".to_owned() };
            Ok((RequestBody::Text(text), media_type))
        }
        other => Err(CallError::invalid(format!(
            "{}: the body is binary ({media}): a Uint8Array, an ArrayBuffer or a Blob, or a string sent as UTF-8; got {}",
            op.call,
            other.kind()
        ))),
    }
}

/// Binary data where neither a multipart file field nor a binary body takes it.
#[cold]
#[inline(never)]
pub fn misplaced(op: &Operation, name: &str) -> CallError {
    CallError::invalid(format!(
        "{}: `{}` holds binary data, which only a binary body or a multipart file field can carry",
        op.call,
        crate::args::printable(name)
    ))
}

/// `%XX` back to bytes: the form encoder wrote only those and unreserved bytes.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3).and_then(crate::views::hex_byte)) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    // What the encoder wrote came from a string: its bytes are UTF-8 again.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{AuthUse, Body, Method};
    use crate::value::Binary;

    static OP: Operation = Operation {
        id: "PostFiles",
        call: "files.create",
        method: Method::Post,
        path: "/v1/files",
        server: 0,
        path_params: &[],
        multi: 0,
        params: &[],
        body: Body::Multipart { open: false, deep: &["file_link_data", "expand"] },
        auth: AuthUse::Required,
        scheme: 0,
        classes: 1,
    };

    fn bin(index: u32, media_type: &str, name: &str) -> Value {
        Value::Binary(Box::new(Binary { index, size: 3, media_type: media_type.into(), name: name.into() }))
    }

    fn json(text: &str) -> Value {
        crate::parse::parse(text).unwrap()
    }

    fn wire(body: &RequestBody) -> String {
        let mut out = String::new();
        body.push_json(&mut out);
        out
    }

    #[test]
    fn multipart_fields_become_parts_by_openapi_defaults() {
        let fields = vec![
            ("file".to_owned(), bin(0, "", "scan.pdf")),
            ("purpose".to_owned(), json(r#""dispute_evidence""#)),
            ("file_link_data".to_owned(), json(r#"{"create":true,"metadata":{"k y":"v&w"}}"#)),
            ("expand".to_owned(), json(r#"["links"]"#)),
            ("tags".to_owned(), json(r#"["a",2,null]"#)),
            ("meta".to_owned(), json(r#"{"a":[1]}"#)),
            ("more".to_owned(), Value::Array(vec![bin(1, "image/png", ""), bin(2, "bad\ntype", "")])),
            ("named".to_owned(), Value::Object(vec![("data".into(), bin(3, "", "")), ("name".into(), json(r#""a.csv""#)), ("type".into(), json(r#""text/csv""#))])),
        ];
        let body = multipart(&OP, fields, &["file_link_data", "expand"], &[]).unwrap();
        assert_eq!(
            wire(&body),
            concat!(
                r#"[["file",0,"scan.pdf","application/octet-stream"],["purpose","dispute_evidence"],"#,
                r#"["file_link_data[create]","true"],["file_link_data[metadata][k y]","v&w"],["expand[0]","links"],"#,
                r#"["tags","a"],["tags","2"],["tags",""],["meta","{\"a\":[1]}"],"#,
                r#"["more",1,"more","image/png"],["more",2,"more","application/octet-stream"],["named",3,"a.csv","text/csv"]]"#
            )
        );
    }

    #[test]
    fn a_typed_field_is_a_typed_text_part_every_time_it_repeats_and_a_file_stays_a_file() {
        let fields = vec![
            ("meta".into(), json(r#"{"a":1}"#)),
            ("rows".into(), json(r#"["x","y"]"#)),
            ("rows2".into(), bin(0, "image/png", "")),
            ("plain".into(), json(r#""p""#)),
            ("doc".into(), bin(1, "", "")),
        ];
        let types = [("meta", "application/json"), ("rows", "text/csv"), ("rows2", "text/csv"), ("doc", "application/pdf")];
        let body = multipart(&OP, fields, &[], &types).unwrap();
        // A file is typed by the caller first (its own type, its Blob's), by the spec's
        // `contentType` when the caller's says nothing.
        assert_eq!(
            wire(&body),
            r#"[["meta","{\"a\":1}",null,"application/json"],["rows","x",null,"text/csv"],["rows","y",null,"text/csv"],["rows2",0,"rows2","image/png"],["plain","p"],["doc",1,"doc","application/pdf"]]"#
        );
    }

    #[test]
    fn binary_data_deeper_than_a_field_is_refused() {
        for (name, value) in [
            ("file_link_data", Value::Object(vec![("x".into(), bin(0, "", ""))])),
            ("meta", Value::Object(vec![("x".into(), bin(0, "", ""))])),
            ("tags", Value::Array(vec![Value::Array(vec![bin(0, "", "")])])),
            ("named", Value::Object(vec![("data".into(), bin(0, "", "")), ("size".into(), json("1"))])),
            ("named", Value::Object(vec![("data".into(), bin(0, "", "")), ("name".into(), json("1"))])),
        ] {
            let e = multipart(&OP, vec![(name.into(), value)], &["file_link_data"], &[]).unwrap_err();
            assert!(["holds binary data", "takes `data`", "must be a string"].iter().any(|m| e.to_string().contains(m)), "{name}: {e}");
        }
    }

    #[test]
    fn binary_bodies_take_the_declared_type_or_the_blobs_own_within_its_range() {
        let ty = |media: &'static str, value: Value| binary(&OP, media, value).map(|(_, t)| t).unwrap();
        assert_eq!(ty("application/octet-stream", bin(0, "image/png", "")), "application/octet-stream");
        assert_eq!(ty("image/*", bin(0, "image/png", "")), "image/png");
        assert_eq!(ty("image/*", bin(0, "text/plain", "")), "application/octet-stream");
        assert_eq!(ty("*/*", bin(0, "application/zip", "")), "application/zip");
        assert_eq!(ty("*/*", bin(0, "", "")), "application/octet-stream");
        assert_eq!(ty("*/*", bin(0, "x/y\r\nEvil: 1", "")), "application/octet-stream");
        assert_eq!(ty("*/*", json(r#""text""#)), "text/plain; charset=utf-8");
        let (body, _) = binary(&OP, "application/octet-stream", bin(7, "", "")).unwrap();
        assert_eq!(wire(&body), "7");
        assert!(binary(&OP, "application/octet-stream", json("{}")).unwrap_err().to_string().contains("got object"));
    }
}
