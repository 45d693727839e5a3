//! Stage 1, parse: the spec file as a JSON tree, and `$ref` resolution within it.
//!
//! The generator reads only a small part of OpenAPI (paths, parameters, request bodies, the
//! shape of success responses, servers, security), so it walks the document as a
//! `serde_json::Value` rather than a full typed model: one code path for 3.0 and 3.1, and
//! tolerance for the slightly invalid documents real providers publish.

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
        let version = doc.get("openapi").and_then(Value::as_str).unwrap_or("");
        if !version.starts_with("3.") {
            bail!("not an OpenAPI 3.x document (openapi: {version:?})");
        }
        if !doc.get("paths").is_some_and(Value::is_object) {
            bail!("the document has no `paths` object");
        }
        Ok(Spec { doc })
    }

    /// `value` with `$ref`s followed (local `#/...` references only), up to a sane depth.
    pub fn resolve<'a>(&'a self, mut value: &'a Value) -> Result<&'a Value> {
        for _ in 0..32 {
            let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
                return Ok(value);
            };
            let Some(pointer) = reference.strip_prefix('#') else {
                bail!("external reference {reference:?} is not supported; bundle the spec first");
            };
            value = self.doc.pointer(pointer).with_context(|| format!("dangling reference {reference:?}"))?;
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
