//! Stage 1, parse: the spec file as a JSON tree, and `$ref` resolution within it.
//!
//! The generator reads only a small part of OpenAPI (paths, parameters, request bodies, the
//! shape of success responses, servers, security), so it walks the document as a
//! `serde_json::Value` rather than a full typed model: one code path for 3.0 and 3.1, and
//! tolerance for the slightly invalid documents real providers publish.
//!
//! References are resolved inside the document only (bundle a multi-file spec first):
//!
//! - `#/a/b~1c`: a JSON pointer as a URI fragment (RFC 6901 §6), so percent-decoded first
//!   (`%7B` is `{`), then `~1` is `/` and `~0` is `~`;
//! - 3.1's `$id` and `$anchor`: when the document is loaded, every schema's `$id` is resolved
//!   against the `$id` above it (RFC 3986), and every `$ref` that names a URI rather than a local
//!   pointer (`/api/v31/components/schemas/petdetails#pet_details_id`, `tag`, `#anchor`) is
//!   resolved the same way and rewritten to the local pointer of what it names. A reference
//!   naming nothing in the document stays as it is, and fails where it is followed.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::path::Path;

/// A parsed OpenAPI document.
pub struct Spec {
    /// The whole document.
    pub doc: Value,
}

impl Spec {
    /// Reads a `.json`, `.yaml` or `.yml` spec.
    pub fn load(path: &Path) -> Result<Spec> {
        let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let doc: Value = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))?,
            Some("yaml" | "yml") => serde_norway::from_slice(&text).with_context(|| format!("parsing {}", path.display()))?,
            _ => bail!("{}: a spec must be .json, .yaml or .yml", path.display()),
        };
        Spec::from_value(doc).with_context(|| format!("in {}", path.display()))
    }

    /// Wraps an already parsed document, checking it is OpenAPI 3.
    pub fn from_value(doc: Value) -> Result<Spec> {
        let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("").to_owned();
        if !version.starts_with("3.") {
            bail!("not an OpenAPI 3.x document (openapi: {version:?})");
        }
        let mut doc = doc;
        match doc.get("paths") {
            Some(Value::Object(_)) => {}
            // 3.1 makes `paths` optional (a document of webhooks or components alone).
            None if version.starts_with("3.1") => {
                if let Some(map) = doc.as_object_mut() {
                    map.insert("paths".into(), Value::Object(Default::default()));
                }
            }
            _ => bail!("the document has no `paths` object"),
        }
        if version.starts_with("3.1") {
            rewrite_uri_refs(&mut doc);
        }
        Ok(Spec { doc })
    }

    /// `value` with `$ref`s followed (local `#/...` references only), up to a sane depth.
    pub fn resolve<'a>(&'a self, mut value: &'a Value) -> Result<&'a Value> {
        for _ in 0..32 {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                return Ok(value);
            };
            let Some(fragment) = reference.strip_prefix('#') else {
                bail!("reference {reference:?} names nothing in this document (external references are not supported; bundle the spec first)");
            };
            let pointer = percent_decode(fragment);
            value = self.doc.pointer(&pointer).with_context(|| format!("dangling reference {reference:?}"))?;
        }
        bail!("reference chain too deep (a cycle of $refs?)")
    }

    /// The object's properties and required names, merging `allOf` members; `None` when the
    /// schema is not an object schema. `open`: whether properties it does not name are allowed.
    pub fn object_shape(&self, schema: &Value) -> Result<Option<ObjectShape>> {
        let schema = self.resolve(schema)?;
        let mut shape = ObjectShape::default();
        let mut is_object = schema.get("type").and_then(Value::as_str) == Some("object") || schema.get("properties").is_some();
        if let Some(Value::Object(props)) = schema.get("properties") {
            for (name, prop) in props {
                shape.properties.push((name.clone(), prop.clone()));
            }
        }
        if let Some(Value::Array(req)) = schema.get("required") {
            shape.required.extend(req.iter().filter_map(Value::as_str).map(str::to_owned));
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(false)) | None => {}
            Some(_) => shape.open = true,
        }
        if let Some(Value::Array(members)) = schema.get("allOf") {
            for member in members {
                if let Some(inner) = self.object_shape(member)? {
                    is_object = true;
                    shape.properties.extend(inner.properties);
                    shape.required.extend(inner.required);
                    shape.open |= inner.open;
                }
            }
        }
        if !is_object {
            return Ok(None);
        }
        // An object schema that names nothing is free-form.
        if shape.properties.is_empty() && schema.get("additionalProperties") != Some(&Value::Bool(false)) {
            shape.open = true;
        }
        shape.properties.sort_by(|a, b| a.0.cmp(&b.0));
        shape.properties.dedup_by(|a, b| a.0 == b.0);
        shape.required.sort();
        shape.required.dedup();
        Ok(Some(shape))
    }
}

/// `%XX` decoded (a URI fragment's escapes); anything else as it is.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// A JSON pointer token, escaped (RFC 6901).
fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `reference` resolved against `base` (RFC 3986 §5.2, for the forms specs use: absolute URIs,
/// absolute paths, relative paths, fragments alone).
fn resolve_uri(base: &str, reference: &str) -> String {
    if reference.contains("://") || reference.starts_with("urn:") {
        return reference.to_owned();
    }
    let base = base.split('#').next().unwrap_or("");
    if reference.is_empty() || reference.starts_with('#') {
        return format!("{base}{reference}");
    }
    // scheme://authority of the base, if it has one.
    let (origin, path) = match base.find("://") {
        Some(i) => {
            let rest = &base[i + 3..];
            let end = rest.find('/').map_or(base.len(), |j| i + 3 + j);
            (&base[..end], &base[end..])
        }
        None => ("", base),
    };
    if reference.starts_with('/') {
        return format!("{origin}{reference}");
    }
    let dir = path.rfind('/').map_or("", |i| &path[..=i]);
    format!("{origin}{dir}{reference}")
}

/// The base URI a schema's `$id` sets, resolved against the enclosing `base`, if it has one.
fn own_base(schema: &serde_json::Map<String, Value>, base: &str) -> Option<String> {
    let id = schema.get("$id")?.as_str()?;
    Some(resolve_uri(base, id).split('#').next().unwrap_or("").to_owned())
}

/// 3.1: `$ref`s naming a URI (through `$id`s and `$anchor`s) rewritten to local pointers; see
/// the module docs.
fn rewrite_uri_refs(doc: &mut Value) {
    // Every `$id` (its resolved URI → pointer) and `$anchor` (URI#anchor → pointer).
    fn index(value: &Value, base: &str, pointer: &mut String, ids: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                let own = own_base(map, base);
                if let Some(own) = &own {
                    ids.push((own.clone(), pointer.clone()));
                }
                let base = own.as_deref().unwrap_or(base);
                if let Some(anchor) = map.get("$anchor").and_then(Value::as_str) {
                    ids.push((format!("{base}#{anchor}"), pointer.clone()));
                }
                for (key, inner) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&pointer_token(key));
                    index(inner, base, pointer, ids);
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, inner) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    index(inner, base, pointer, ids);
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
    }
    fn rewrite(value: &mut Value, base: &str, ids: &[(String, String)]) {
        match value {
            Value::Object(map) => {
                let own = own_base(map, base);
                let base = own.as_deref().unwrap_or(base);
                if let Some(Value::String(reference)) = map.get_mut("$ref") {
                    let local_pointer = reference.strip_prefix('#').is_some_and(|f| f.is_empty() || f.starts_with('/'));
                    if !local_pointer {
                        let uri = resolve_uri(base, reference);
                        let (resource, fragment) = uri.split_once('#').map_or((uri.as_str(), None), |(r, f)| (r, Some(f)));
                        let target = match fragment {
                            // A pointer inside the resource `$id` names.
                            Some(f) if f.starts_with('/') => ids.iter().find(|(id, _)| id == resource).map(|(_, p)| format!("{p}{}", percent_decode(f))),
                            Some(f) if !f.is_empty() => ids.iter().find(|(id, _)| *id == uri).map(|(_, p)| p.clone()),
                            _ => ids.iter().find(|(id, _)| id == resource).map(|(_, p)| p.clone()),
                        };
                        if let Some(pointer) = target {
                            *reference = format!("#{pointer}");
                        }
                    }
                }
                for (_, inner) in map.iter_mut() {
                    rewrite(inner, base, ids);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|inner| rewrite(inner, base, ids)),
            _ => {}
        }
    }
    let base = doc.get("$self").and_then(Value::as_str).unwrap_or("").to_owned();
    let mut ids = Vec::new();
    index(doc, &base, &mut String::new(), &mut ids);
    rewrite(doc, &base, &ids);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_are_uri_fragments_percent_decoded_then_unescaped() {
        let spec = Spec::from_value(json!({
            "openapi": "3.0.3",
            "paths": {},
            "components": { "schemas": { "a/b": { "type": "string" }, "c~d": { "type": "integer" }, "{id} x": { "type": "boolean" } } },
        }))
        .unwrap();
        let get = |r: &str| spec.resolve(&json!({ "$ref": r })).map(|v| v["type"].clone()).map_err(|e| e.to_string());
        assert_eq!(get("#/components/schemas/a~1b").unwrap(), "string");
        assert_eq!(get("#/components/schemas/c~0d").unwrap(), "integer");
        assert_eq!(get("#/components/schemas/%7Bid%7D%20x").unwrap(), "boolean");
        assert!(get("#/components/schemas/nope").unwrap_err().contains("dangling"));
        assert!(get("other.yaml#/x").unwrap_err().contains("bundle the spec first"));
    }

    #[test]
    fn ids_and_anchors_resolve_inside_the_document() {
        let spec = Spec::from_value(json!({
            "openapi": "3.1.0",
            "paths": {},
            "components": { "schemas": {
                "Pet": { "$id": "/api/v31/components/schemas/pet", "properties": {
                    "details": { "$ref": "/api/v31/components/schemas/petdetails#pet_details_id" },
                    "whole": { "$ref": "petdetails" },
                    "tag": { "$ref": "https://example.com/schemas/tag" },
                    "inner": { "$ref": "/api/v31/components/schemas/petdetails#/properties/id" },
                } },
                "PetDetails": { "$id": "/api/v31/components/schemas/petdetails", "properties": {
                    "id": { "$anchor": "pet_details_id", "type": "integer" },
                } },
                "Tag": { "$id": "https://example.com/schemas/tag", "type": "string" },
                "Local": { "$anchor": "local", "type": "boolean" },
                "UsesLocal": { "$ref": "#local" },
            } },
        }))
        .unwrap();
        let prop = |name: &str| spec.resolve(&spec.doc["components"]["schemas"]["Pet"]["properties"][name]).unwrap().clone();
        assert_eq!(prop("details")["type"], "integer");
        assert!(prop("whole")["properties"]["id"].is_object());
        assert_eq!(prop("tag")["type"], "string");
        assert_eq!(prop("inner")["type"], "integer");
        assert_eq!(spec.resolve(&spec.doc["components"]["schemas"]["UsesLocal"]).unwrap()["type"], "boolean");
    }
}

/// The top level of an object schema.
#[derive(Debug, Default)]
pub struct ObjectShape {
    /// Named properties, sorted.
    pub properties: Vec<(String, Value)>,
    /// Required property names.
    pub required: Vec<String>,
    /// Whether other properties are allowed.
    pub open: bool,
}
