//! TypeScript types from the spec's schemas, for `index.d.ts`.
//!
//! Every schema under `components.schemas` that a method reaches (through its parameters, its
//! result or its error, and then through the types those name) is declared once, by name, with
//! its description as a doc comment; everything else refers to it by that name. Named types are
//! what keep the declaration small and the checker fast on real specs: Stripe's expandable
//! fields (`anyOf [string, customer]`) and recursive schemas are plain references between
//! interfaces, which TypeScript resolves lazily, never an inline type that would repeat (or
//! recurse) without end.
//!
//! Inline schemas print inline: objects as `{ field?: T }`, `additionalProperties` as an index
//! signature, `nullable` and 3.1 type arrays (`["string", "null"]`) as `T | null`, `enum` and
//! `const` as literal unions, `oneOf`/`anyOf` as unions, `allOf` as intersections, arrays as
//! `T[]`. Bytes (`format: binary`, `contentMediaType`) are `FilePart` in what a caller sends and
//! `Uint8Array` in what comes back.
//!
//! What comes back crosses RPC, and workers-types' `Service<T>` checks that every result type is
//! serializable: `unknown` is not, so a value the spec leaves open is `JsonValue` there (what it
//! is: parsed JSON), and declared objects carry no `[key: string]` signature (their named fields
//! are what a caller reads; the rest is still there at run time).

use crate::spec::Spec;
use heck::ToUpperCamelCase;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Which way a value travels: binary data is typed differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// A parameter or body the caller sends.
    In,
    /// A result or error the caller receives.
    Out,
}

/// The named types of one spec, and which of them the declaration uses.
pub struct Types<'a> {
    spec: &'a Spec,
    /// Schema key (as in `#/components/schemas/<key>`) → TypeScript name.
    names: BTreeMap<String, String>,
    used: RefCell<BTreeSet<String>>,
}

/// How deep inline objects are written before they become `Record<string, unknown>`: inline
/// schemas (Stripe's request bodies) nest up to seven levels, and writing all of them out for
/// every method is what would bloat the file; named types have no such limit.
const INLINE_DEPTH: usize = 3;

impl<'a> Types<'a> {
    /// Names every schema of `spec`: PascalCase of its key (`payment_intent` → `PaymentIntent`,
    /// `issue-comment` → `IssueComment`), `_`-suffixed when it would be one of `reserved` (the
    /// declaration's own names) or a name already taken.
    pub fn new(spec: &'a Spec, reserved: &[String]) -> Types<'a> {
        let mut names = BTreeMap::new();
        let mut taken: BTreeSet<String> = reserved.iter().cloned().collect();
        for global in GLOBALS {
            taken.insert((*global).to_owned());
        }
        if let Some(schemas) = spec.doc.pointer("/components/schemas").and_then(Value::as_object) {
            for key in schemas.keys() {
                let mut name = key.to_upper_camel_case();
                if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
                    name = format!("T{name}");
                }
                while taken.contains(&name) {
                    name.push('_');
                }
                taken.insert(name.clone());
                names.insert(key.clone(), name);
            }
        }
        Types { spec, names, used: RefCell::new(BTreeSet::new()) }
    }

    /// `schema` with `$ref`s followed.
    pub fn resolve<'v>(&'v self, schema: &'v Value) -> Option<&'v Value> {
        self.spec.resolve(schema).ok()
    }

    /// The type of `schema`, travelling `way`.
    pub fn ty(&self, schema: &Value, way: Way) -> String {
        self.at(schema, way, 0, &mut Vec::new())
    }

    /// What a schema that says nothing is: anything in, parsed JSON out.
    fn open(way: Way) -> &'static str {
        match way {
            Way::In => "unknown",
            Way::Out => "JsonValue",
        }
    }

    fn at(&self, schema: &Value, way: Way, depth: usize, seen: &mut Vec<String>) -> String {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            if let Some(key) = reference.strip_prefix("#/components/schemas/") {
                let key = key.replace("~1", "/").replace("~0", "~");
                if let Some(name) = self.names.get(&key) {
                    self.used.borrow_mut().insert(key);
                    return name.clone();
                }
            }
            // A reference to anything else (a parameter's schema, say) prints what it names,
            // once per path: a cycle through such references is `unknown`.
            if seen.iter().any(|r| r == reference) || seen.len() > 16 {
                return Self::open(way).into();
            }
            seen.push(reference.to_owned());
            let out = match self.spec.resolve(schema) {
                Ok(resolved) => self.at(resolved, way, depth, seen),
                Err(_) => Self::open(way).into(),
            };
            seen.pop();
            return out;
        }
        let mut members: Vec<String> = Vec::new();
        let mut nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
        for (key, join) in [("oneOf", " | "), ("anyOf", " | "), ("allOf", " & ")] {
            if let Some(Value::Array(parts)) = schema.get(key) {
                let mut texts: Vec<String> = parts.iter().map(|p| paren(self.at(p, way, depth, seen))).collect();
                texts.dedup();
                if texts.iter().any(|t| t == Self::open(way)) && join == " | " {
                    return Self::open(way).into();
                }
                texts.retain(|t| !(join == " & " && t == Self::open(way)));
                if !texts.is_empty() {
                    members.push(texts.join(join));
                }
            }
        }
        if let Some(value) = schema.get("const") {
            members.push(literal(value));
        } else if let Some(Value::Array(values)) = schema.get("enum") {
            if !values.is_empty() {
                if values.iter().any(Value::is_null) {
                    nullable = true;
                }
                let literals: Vec<String> = values.iter().filter(|v| !v.is_null()).map(literal).collect();
                if !literals.is_empty() {
                    members.push(literals.join(" | "));
                }
            }
        } else if members.is_empty() {
            let declared: Vec<&str> = match schema.get("type") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                _ if schema.get("properties").is_some() || schema.get("additionalProperties").is_some() => vec!["object"],
                _ if schema.get("items").is_some() => vec!["array"],
                _ => vec![],
            };
            for t in declared {
                match t {
                    "null" => nullable = true,
                    "string" if is_binary(schema) => members.push(if way == Way::In { "FilePart".into() } else { "Uint8Array".into() }),
                    "string" => members.push("string".into()),
                    "integer" | "number" => members.push("number".into()),
                    "boolean" => members.push("boolean".into()),
                    "array" => {
                        let item = schema.get("items").map_or_else(|| Self::open(way).to_owned(), |i| self.at(i, way, depth + 1, seen));
                        members.push(format!("{}[]", paren(item)));
                    }
                    "object" => members.push(self.object(schema, way, depth, seen)),
                    _ => members.push(Self::open(way).into()),
                }
            }
        }
        if members.is_empty() {
            return Self::open(way).into();
        }
        let mut text = if members.len() == 1 { members.remove(0) } else { members.into_iter().map(paren).collect::<Vec<_>>().join(" | ") };
        if nullable && text != Self::open(way) && !text.ends_with(" | null") && text != "null" {
            text.push_str(" | null");
        }
        text
    }

    /// An inline object.
    fn object(&self, schema: &Value, way: Way, depth: usize, seen: &mut Vec<String>) -> String {
        let props = schema.get("properties").and_then(Value::as_object);
        let extra = match schema.get("additionalProperties") {
            Some(Value::Bool(false)) => None,
            Some(Value::Object(s)) if !s.is_empty() => Some(schema["additionalProperties"].clone()),
            _ if props.is_none_or(|p| p.is_empty()) => Some(Value::Object(Default::default())),
            _ => None,
        };
        if depth >= INLINE_DEPTH {
            return format!("Record<string, {}>", Self::open(way));
        }
        let required: Vec<&str> = schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let mut fields: Vec<String> = props
            .into_iter()
            .flatten()
            .map(|(k, v)| format!("{}{}: {}", member(k), if required.contains(&k.as_str()) { "" } else { "?" }, self.at(v, way, depth + 1, seen)))
            .collect();
        match extra {
            Some(s) if fields.is_empty() => {
                let value = self.at(&s, way, depth + 1, seen);
                return format!("Record<string, {value}>");
            }
            // An index signature must admit every named field's type too; results carry none.
            Some(_) if way == Way::In => fields.push("[key: string]: unknown".into()),
            Some(_) => {}
            None => {}
        }
        if fields.is_empty() {
            return "Record<string, never>".into();
        }
        format!("{{ {} }}", fields.join("; "))
    }

    /// The declarations of every named type used so far, and of every type those use: one
    /// `export interface` (objects) or `export type` each, sorted by name.
    pub fn declarations(&self) -> String {
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        loop {
            let pending: Vec<String> = self.used.borrow().iter().filter(|k| !done.contains(*k)).cloned().collect();
            if pending.is_empty() {
                break;
            }
            for key in pending {
                done.insert(key.clone());
                let schema = self.spec.doc.pointer(&format!("/components/schemas/{}", key.replace('~', "~0").replace('/', "~1"))).cloned().unwrap_or(Value::Null);
                let name = self.names[&key].clone();
                out.insert(name.clone(), self.declaration(&name, &schema));
            }
        }
        out.into_values().collect::<Vec<_>>().join("\n")
    }

    fn declaration(&self, name: &str, schema: &Value) -> String {
        let mut out = String::new();
        out.push_str(&doc(schema, ""));
        let plain_object = schema.get("properties").and_then(Value::as_object).is_some()
            && !["oneOf", "anyOf", "allOf", "enum", "$ref"].iter().any(|k| schema.get(*k).is_some())
            && !matches!(schema.get("type"), Some(Value::Array(_)))
            && schema.get("nullable") != Some(&Value::Bool(true));
        if !plain_object {
            // Both ways use the same name: a binary field reads as received.
            let _ = writeln!(out, "export type {name} = {};", self.at(schema, Way::Out, 0, &mut Vec::new()));
            return out;
        }
        let required: Vec<&str> = schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let _ = writeln!(out, "export interface {name} {{");
        for (key, sub) in schema.get("properties").and_then(Value::as_object).into_iter().flatten() {
            out.push_str(&doc(sub, "  "));
            let ty = self.at(sub, Way::Out, 1, &mut Vec::new());
            let _ = writeln!(out, "  {}{}: {ty};", member(key), if required.contains(&key.as_str()) { "" } else { "?" });
        }
        // No `[key: string]` signature: see the module docs.
        out.push_str("}\n");
        out
    }
}

/// Names the declaration's own scope uses, which a schema's name may not shadow.
const GLOBALS: &[&str] = &[
    "Promise", "Record", "Uint8Array", "ArrayBuffer", "ArrayBufferView", "Blob", "Array", "Object", "String", "Number", "Boolean", "Date", "Error", "Function",
    "Symbol", "Map", "Set", "Partial", "Required", "Readonly", "Pick", "Omit", "Exclude", "Extract", "NonNullable", "Response", "Request", "Headers", "File",
    "Service", "Rpc", "Result", "Receipt", "ErrorCode", "CapabilityError", "CallOptions", "Auth", "SessionOptions", "Binary", "FilePart", "JsonValue", "JsonObject", "JsonArray",
    "Try", "Pages", "Page", "ItemOf", "Paged",
];

fn is_binary(schema: &Value) -> bool {
    schema.get("format").and_then(Value::as_str) == Some("binary") || schema.get("contentMediaType").is_some()
}

/// A union member inside a larger union or an array: parenthesized when it is itself compound.
fn paren(text: String) -> String {
    if (text.contains(" | ") || text.contains(" & ")) && !text.starts_with('{') && !text.starts_with('(') {
        format!("({text})")
    } else {
        text
    }
}

fn literal(value: &Value) -> String {
    match value {
        Value::String(s) => serde_json::to_string(s).unwrap_or_else(|_| "string".into()),
        Value::Number(_) | Value::Bool(_) | Value::Null => value.to_string(),
        _ => "JsonValue".into(),
    }
}

/// A property name: bare when an identifier, quoted otherwise.
pub fn member(name: &str) -> String {
    if crate::names::is_ident(name) { name.to_owned() } else { serde_json::to_string(name).unwrap_or_default() }
}

/// A doc comment from a schema's description (its first paragraph, at most 240 characters), or
/// nothing; marked `@deprecated` when the schema is.
fn doc(schema: &Value, indent: &str) -> String {
    let description = schema.get("description").and_then(Value::as_str).unwrap_or("");
    let first = description.split("\n\n").next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
    let mut text: String = first.chars().take(240).collect();
    if first.chars().count() > 240 {
        text.push('…');
    }
    let text = text.replace("*/", "* /");
    let deprecated = schema.get("deprecated").and_then(Value::as_bool) == Some(true);
    match (text.is_empty(), deprecated) {
        (true, false) => String::new(),
        (true, true) => format!("{indent}/** @deprecated */\n"),
        (false, d) => format!("{indent}/** {text}{} */\n", if d { " @deprecated" } else { "" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec::from_value(json!({
            "openapi": "3.1.0",
            "paths": {},
            "components": { "schemas": {
                "customer": { "description": "A customer.\n\nMore text.", "type": "object", "required": ["id"], "properties": {
                    "id": { "type": "string" },
                    "email": { "type": ["string", "null"] },
                    "default_source": { "anyOf": [{ "type": "string" }, { "$ref": "#/components/schemas/customer" }], "nullable": true },
                    "metadata": { "type": "object", "additionalProperties": { "type": "string" } },
                    "kind": { "enum": ["a", "b", null] },
                    "file": { "type": "string", "format": "binary" },
                } },
                "Result": { "type": "string" },
                "node": { "type": "object", "properties": { "children": { "type": "array", "items": { "$ref": "#/components/schemas/node" } } } },
            } },
        }))
        .unwrap()
    }

    #[test]
    fn schemas_become_named_types_declared_once() {
        let spec = spec();
        let types = Types::new(&spec, &[]);
        assert_eq!(types.ty(&json!({ "$ref": "#/components/schemas/customer" }), Way::Out), "Customer");
        assert_eq!(types.ty(&json!({ "type": "array", "items": { "$ref": "#/components/schemas/node" } }), Way::Out), "Node[]");
        assert_eq!(types.ty(&json!({ "$ref": "#/components/schemas/Result" }), Way::Out), "Result_", "a name the declaration uses is not shadowed");
        assert_eq!(types.ty(&json!({ "type": "string", "format": "binary" }), Way::In), "FilePart");
        assert_eq!(types.ty(&json!({ "type": ["integer", "null"] }), Way::Out), "number | null");
        assert_eq!(types.ty(&json!({ "oneOf": [{ "type": "string" }, { "type": "integer" }], "nullable": true }), Way::Out), "string | number | null");
        let declared = types.declarations();
        assert_eq!(
            declared,
            concat!(
                "/** A customer. */\n",
                "export interface Customer {\n",
                "  default_source?: string | Customer | null;\n",
                "  email?: string | null;\n",
                "  file?: Uint8Array;\n",
                "  id: string;\n",
                "  kind?: \"a\" | \"b\" | null;\n",
                "  metadata?: Record<string, string>;\n",
                "}\n",
                "\n",
                "export interface Node {\n",
                "  children?: Node[];\n",
                "}\n",
                "\n",
                "export type Result_ = string;\n",
            )
        );
    }
}
