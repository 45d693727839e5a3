//! `door.json`: the documents the MCP door (`door/`) indexes and serves, one per operation.
//!
//! The door finds operations for agents (`search`), shows them how to call one (a compact
//! TypeScript signature) and, for small grants, offers each as a tool of its own with a JSON
//! Schema input. It must not parse specs at run time, nor carry `index.d.ts` (over a megabyte for
//! Stripe): everything it needs per operation is here, small and flat.
//!
//! Per operation, sorted by name:
//! - `name`: the call as the capability answers it (`customers.list`); the door qualifies it by
//!   capability (`stripe.customers.list`).
//! - `method`, `path`: the HTTP method and the path *template*.
//! - `classes`: its classes by name (a list: an operation can be `write` and `money`), which the
//!   door's rights rules read (`door/rights.js`).
//! - `summary`: one line, the spec's `summary`, else the first sentence of its `description`
//!   with markup stripped (Stripe has no summaries), at most [`SUMMARY_MAX`] bytes.
//! - `signature`: `(customer: string, params?: { expand?: string[]; … }) => Customer`, path
//!   parameters in order then the params object, named types kept by name; an inline type
//!   longer than [`TYPE_MAX`] bytes is abbreviated (`{…}`), the whole at most [`SIGNATURE_MAX`].
//! - `path_params`: the positional path arguments' names, in order.
//! - `params`: the params object's keys as `[key, JSON Schema type or null, required]`, what the
//!   door's per-operation tools build their `inputSchema` from and `search` reads names in.

use crate::classes::Classes;
use crate::emit::types::{Types, Way};
use crate::manifest::Manifest;
use crate::model::{Body, Model, Operation};
use crate::names::Name;
use crate::spec::Spec;
use serde_json::{json, Value};

/// The longest summary, in bytes.
pub const SUMMARY_MAX: usize = 160;
/// The longest inline type shown in a signature before it is abbreviated, in bytes.
pub const TYPE_MAX: usize = 60;
/// The longest signature, in bytes.
pub const SIGNATURE_MAX: usize = 600;

/// The documents, as pretty JSON (one operation per line, for readable diffs).
pub fn emit(spec: &Spec, manifest: &Manifest, model: &Model, names: &[Name], classes: &Classes) -> String {
    let types = Types::new(spec, &[]);
    let mut ops: Vec<(String, Value)> = model
        .operations
        .iter()
        .zip(names)
        .zip(&classes.of)
        .map(|((op, name), bits)| {
            let call = name.call();
            let params: Vec<Value> = op.params.iter().map(|p| json!([p.name, json_type(&types, &p.schema), p.required])).collect();
            let doc = json!({
                "name": call,
                "method": op.method,
                "path": op.path,
                "classes": crate::classes::named(classes, *bits),
                "summary": summary(spec, op),
                "signature": signature(&types, op),
                "path_params": op.path_params,
                "params": params,
            });
            (call, doc)
        })
        .collect();
    ops.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    out.push_str(&format!(
        "{{\"capability\":{},\"binding\":{},\"classes\":{},\"operations\":[\n",
        json!(manifest.capability),
        json!(manifest.binding),
        json!(classes.names)
    ));
    let lines: Vec<String> = ops.iter().map(|(_, d)| d.to_string()).collect();
    out.push_str(&lines.join(",\n"));
    out.push_str("\n]}\n");
    out
}

/// The operation's one line: its summary, else its description's first sentence.
fn summary(spec: &Spec, op: &Operation) -> String {
    let text = match &op.summary {
        Some(s) if !s.trim().is_empty() => plain(s),
        _ => first_sentence(&plain(spec_op(spec, op).and_then(|o| o.get("description")).and_then(Value::as_str).unwrap_or(""))),
    };
    cap(&text, SUMMARY_MAX)
}

/// The spec's operation object.
fn spec_op<'a>(spec: &'a Spec, op: &Operation) -> Option<&'a Value> {
    spec.doc.get("paths")?.get(&op.path)?.get(op.method.to_ascii_lowercase())
}

/// `text` without HTML tags, Markdown links, emphasis and code marks, on one line.
pub fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' => {
                // A tag: skipped up to its `>`; a block tag's end is a space.
                for t in chars.by_ref() {
                    if t == '>' {
                        break;
                    }
                }
                out.push(' ');
            }
            '[' => {
                // `[text](url)`: the text alone.
                let mut inner = String::new();
                let mut closed = false;
                for t in chars.by_ref() {
                    if t == ']' {
                        closed = true;
                        break;
                    }
                    inner.push(t);
                }
                out.push_str(&inner);
                if closed && chars.peek() == Some(&'(') {
                    for t in chars.by_ref() {
                        if t == ')' {
                            break;
                        }
                    }
                }
            }
            '`' | '*' => {}
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
    let out = out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'");
    // A tag's space before punctuation (`<a>customers</a>.`) is no space of the text.
    out.split_whitespace().collect::<Vec<_>>().join(" ").replace(" .", ".").replace(" ,", ",").replace(" )", ")")
}

/// Up to the first full stop that ends a sentence (a `.` followed by a space and a capital, or
/// the end).
pub fn first_sentence(text: &str) -> String {
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'.' {
            continue;
        }
        match bytes.get(i + 1) {
            None => return text.to_owned(),
            Some(b' ') if bytes.get(i + 2).is_none_or(|c| c.is_ascii_uppercase()) => return text[..=i].to_owned(),
            _ => {}
        }
    }
    text.to_owned()
}

/// `text` cut to at most `max` bytes at a character boundary, with `…` when cut.
fn cap(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A type as a signature shows it: abbreviated past [`TYPE_MAX`].
fn short(ty: String) -> String {
    if ty.len() <= TYPE_MAX {
        return ty;
    }
    if ty.starts_with('{') {
        // A list keeps what it lists: `{ data: Customer[]; … }`.
        if let Some(data) = ty.find("data: ").map(|i| &ty[i..]).and_then(|d| d.split(';').next()).filter(|d| d.len() <= TYPE_MAX && !ty.ends_with("[]")) {
            return format!("{{ {data}; … }}");
        }
        return if ty.ends_with("[]") { "{…}[]".into() } else { "{…}".into() };
    }
    cap(&ty, TYPE_MAX)
}

/// `(path…, params?) => Result`, compact.
fn signature(types: &Types<'_>, op: &Operation) -> String {
    let mut args: Vec<String> = op.path_params.iter().map(|p| format!("{p}: string")).collect();
    let whole = matches!(op.body, Body::JsonValue | Body::Text(_) | Body::Binary(_)) && op.params.is_empty();
    let open = matches!(op.body, Body::Form { open: true, .. } | Body::Json { open: true } | Body::Multipart { open: true, .. });
    if whole {
        args.push("body?: unknown".into());
    } else if !op.params.is_empty() || open {
        let mut fields: Vec<String> = op
            .params
            .iter()
            .map(|p| {
                let key = if crate::emit::types::member(&p.name) == p.name { p.name.clone() } else { format!("{:?}", p.name) };
                format!("{key}{}: {}", if p.required { "" } else { "?" }, short(types.ty(&p.schema, Way::In)))
            })
            .collect();
        if open {
            fields.push("[key: string]: unknown".into());
        }
        let q = if op.params.iter().any(|p| p.required) { "" } else { "?" };
        args.push(format!("params{q}: {{ {} }}", fields.join("; ")));
    }
    let results = super::ts::answer_types(types, op, short);
    cap(&format!("({}) => {}", args.join(", "), results.join(" | ")), SIGNATURE_MAX)
}

/// The JSON Schema type of a parameter's schema, when it states one (`$ref`s followed).
fn json_type(types: &Types<'_>, schema: &Value) -> Value {
    let resolved = types.resolve(schema).unwrap_or(schema);
    match resolved.get("type") {
        Some(Value::String(t)) => Value::String(t.clone()),
        Some(Value::Array(ts)) => ts.iter().find(|t| t.as_str() != Some("null")).cloned().unwrap_or(Value::Null),
        _ if resolved.get("properties").is_some() => Value::String("object".into()),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_stripped_and_the_first_sentence_kept() {
        let d = "<p>Returns a list of your <a href=\"/x\">customers</a>. The customers are returned sorted.</p>";
        assert_eq!(first_sentence(&plain(d)), "Returns a list of your customers.");
        assert_eq!(plain("Use [the API](https://x.y) with `code` and **bold**"), "Use the API with code and bold");
        assert_eq!(first_sentence("Lists e.g. things. Then more"), "Lists e.g. things.");
    }

    #[test]
    fn long_text_is_capped_at_a_character_boundary() {
        let s = "é".repeat(200);
        let c = cap(&s, 11);
        assert!(c.len() <= 11 && c.ends_with('…'), "{c}");
    }
}
