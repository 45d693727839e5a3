//! Spec upgrades a person can review: what a new version of a provider's spec changes in the
//! capability's methods, and the lock that pins the spec a build is made from.
//!
//! Providers publish new specs often (Stripe monthly). Replacing the file and regenerating would
//! change what callers can do without anyone having looked, so:
//!
//! - `openapi/<provider>/capa.lock` records the spec file's SHA-256 and a digest of the method
//!   table it gives (every method's name, parameters and where they travel, body kind, result).
//!   `capa-gen build` refuses a spec whose hash is not the lock's, naming the commands below;
//!   it keeps the table digest current itself (a generator change may change the table: that
//!   shows in the generated files' diff, which are reviewed like code).
//! - `capa-gen diff <provider> <file>` (`npm run spec-diff`) prints methods added, removed and
//!   changed, each change on one line, readable in a minute.
//! - `capa-gen update <provider> <file>` (`npm run spec-update`) installs the file, rewrites the
//!   lock and regenerates.
//!
//! A method is matched across versions by its name, and by its operationId when its name
//! changed (a rename). Types are written with named schemas by name (`customer`,
//! `customer | null`), so a method whose result is `customer` is unchanged when `customer`
//! gains a field: that change is listed once, under the named types, field by field.

use crate::manifest::Manifest;
use crate::model::{Answer, At, Body, Model, Operation, Style};
use crate::names::Name;
use crate::spec::Spec;
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// One method as a caller sees it: what a spec upgrade can change.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// `resource.method`.
    pub call: String,
    /// The spec's operationId.
    pub id: String,
    /// `POST /v1/customers`.
    pub route: String,
    /// Params by key: where each travels, whether required, its type.
    pub params: BTreeMap<String, Param>,
    /// The body kind.
    pub body: String,
    /// The result's type.
    pub result: String,
}

/// One parameter of a [`Method`].
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// `path 1`, `query`, `query (deepObject)`, `header`, `body`.
    pub at: String,
    /// Must be given.
    pub required: bool,
    /// Its type, named schemas by name.
    pub ty: String,
    /// When it is an inline object: its fields, nested ones as `a.b` (see [`fields`]), compared
    /// field by field instead of as one long type.
    pub fields: BTreeMap<String, (bool, String)>,
}

/// The methods of `model`, named by `names`.
pub fn methods(spec: &Spec, model: &Model, names: &[Name]) -> Vec<Method> {
    let mut out: Vec<Method> = model.operations.iter().zip(names).map(|(op, name)| method(spec, op, name)).collect();
    out.sort_by(|a, b| a.call.cmp(&b.call));
    out
}

/// A named schema (`components.schemas`): its fields when it is an object, else its type.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Field → (required, type).
    Object(BTreeMap<String, (bool, String)>),
    /// Any other schema's type.
    Other(String),
}

/// Every named schema's shape.
pub fn types(spec: &Spec) -> BTreeMap<String, Shape> {
    let mut out = BTreeMap::new();
    let Some(schemas) = spec.doc.pointer("/components/schemas").and_then(serde_json::Value::as_object) else { return out };
    for (name, schema) in schemas {
        let resolved = spec.resolve(schema).unwrap_or(schema);
        let found = fields(spec, resolved);
        let shape = if found.is_empty() { Shape::Other(type_text(spec, resolved)) } else { Shape::Object(found) };
        out.insert(name.clone(), shape);
    }
    out
}

/// An inline object's fields, `(required, type)` by path: nested inline objects (and the object
/// alternative of an `anyOf`, Stripe's `anyOf [object, ""]`) are walked, four levels deep, their
/// fields named `a.b`; named schemas are leaves, by name. Empty for anything not an object.
pub fn fields(spec: &Spec, schema: &serde_json::Value) -> BTreeMap<String, (bool, String)> {
    fn walk(spec: &Spec, schema: &serde_json::Value, prefix: &str, depth: usize, out: &mut BTreeMap<String, (bool, String)>) {
        use serde_json::Value;
        let object = inline_object(schema);
        let Some(object) = object else { return };
        let required: Vec<&str> = object.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        for (key, sub) in object.get("properties").and_then(Value::as_object).into_iter().flatten() {
            let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            let is_required = required.contains(&key.as_str());
            if depth < 4 && inline_object(sub).is_some() {
                // The object itself, then its fields: a field added to an optional object reads
                // as what it is.
                out.insert(path.clone(), (is_required, "object".into()));
                walk(spec, sub, &path, depth + 1, out);
            } else {
                out.insert(path, (is_required, type_text(spec, sub)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(spec, spec.resolve(schema).unwrap_or(schema), "", 0, &mut out);
    out
}

/// The inline object schema `schema` is, or holds as an `anyOf`/`oneOf` alternative.
fn inline_object(schema: &serde_json::Value) -> Option<&serde_json::Value> {
    use serde_json::Value;
    if schema.get("$ref").is_some() {
        return None;
    }
    if schema.get("properties").and_then(Value::as_object).is_some_and(|p| !p.is_empty()) {
        return Some(schema);
    }
    ["anyOf", "oneOf"].iter().find_map(|k| schema.get(*k).and_then(Value::as_array)?.iter().find_map(inline_object))
}

/// A schema's type, named schemas by their name: `customer`, `customer[]`, `string | null`,
/// `{ id: string; metadata?: Record<string, string> }`.
pub fn type_text(spec: &Spec, schema: &serde_json::Value) -> String {
    shape_text(spec, schema, 0)
}

fn shape_text(spec: &Spec, schema: &serde_json::Value, depth: usize) -> String {
    use serde_json::Value;
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        if let Some(name) = reference.strip_prefix("#/components/schemas/") {
            return name.replace("~1", "/").replace("~0", "~");
        }
        return match spec.resolve(schema) {
            Ok(resolved) => shape_text(spec, resolved, depth),
            Err(_) => "unknown".into(),
        };
    }
    let nullable = schema.get("nullable").and_then(Value::as_bool) == Some(true);
    let mut types: Vec<String> = Vec::new();
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(members)) = schema.get(key) {
            let joined = members.iter().map(|m| shape_text(spec, m, depth)).collect::<Vec<_>>().join(if key == "allOf" { " & " } else { " | " });
            types.push(joined);
        }
    }
    if types.is_empty() {
        if let Some(Value::Array(values)) = schema.get("enum") {
            types.push(values.iter().map(Value::to_string).collect::<Vec<_>>().join(" | "));
        } else {
            let declared: Vec<&str> = match schema.get("type") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                _ if schema.get("properties").is_some() => vec!["object"],
                _ => vec![],
            };
            for t in declared {
                types.push(match t {
                    "array" => {
                        let item = schema.get("items").map_or_else(|| "unknown".into(), |i| shape_text(spec, i, depth + 1));
                        if item.contains(' ') { format!("({item})[]") } else { format!("{item}[]") }
                    }
                    "object" => match schema.get("properties").and_then(Value::as_object) {
                        Some(props) if depth < 2 => {
                            let required: Vec<&str> = schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
                            let fields: Vec<String> = props
                                .iter()
                                .map(|(k, v)| format!("{k}{}: {}", if required.contains(&k.as_str()) { "" } else { "?" }, shape_text(spec, v, depth + 1)))
                                .collect();
                            format!("{{ {} }}", fields.join("; "))
                        }
                        Some(_) => "object".into(),
                        None => match schema.get("additionalProperties") {
                            Some(Value::Object(_)) => format!("Record<string, {}>", shape_text(spec, &schema["additionalProperties"], depth + 1)),
                            _ => "object".into(),
                        },
                    },
                    "integer" => "number".into(),
                    "string" if schema.get("format").and_then(Value::as_str) == Some("binary") => "bytes".into(),
                    other => other.to_owned(),
                });
            }
        }
    }
    if types.is_empty() {
        types.push("unknown".into());
    }
    let mut text = types.join(" | ");
    if nullable && !text.ends_with("| null") {
        text.push_str(" | null");
    }
    text
}

fn method(spec: &Spec, op: &Operation, name: &Name) -> Method {
    let mut params = BTreeMap::new();
    for (i, p) in op.path_params.iter().enumerate() {
        params.insert(p.clone(), Param { at: format!("path {}", i + 1), required: true, ty: "string | number".into(), fields: BTreeMap::new() });
    }
    for p in &op.params {
        let at = match p.at {
            At::Query(style) | At::QueryAlias(style) => match style {
                Style::Form => "query".to_owned(),
                Style::FormCsv => "query (csv)".to_owned(),
                Style::DeepObject => "query (deepObject)".to_owned(),
                Style::SpaceDelimited => "query (space-delimited)".to_owned(),
                Style::PipeDelimited => "query (pipe-delimited)".to_owned(),
            },
            At::Header | At::HeaderAlias => "header".to_owned(),
            At::Body => "body".to_owned(),
        };
        params.insert(p.name.clone(), Param { at, required: p.required, ty: type_text(spec, &p.schema), fields: fields(spec, &p.schema) });
    }
    let body = match &op.body {
        Body::None => "none".to_owned(),
        Body::Form { open, .. } => format!("form{}", if *open { " (open)" } else { "" }),
        Body::Json { open } => format!("json{}", if *open { " (open)" } else { "" }),
        Body::JsonValue => "json value".to_owned(),
        Body::Text(media) => format!("text ({media})"),
        Body::Multipart { open, .. } => format!("multipart{}", if *open { " (open)" } else { "" }),
        Body::Binary(media) => format!("binary ({media})"),
    };
    let result = match op.results.first().unwrap_or(&Answer::None) {
        Answer::None => "none".to_owned(),
        Answer::Text => "text".to_owned(),
        Answer::Binary => "bytes".to_owned(),
        Answer::Json(schema) => type_text(spec, schema),
    };
    Method { call: name.call(), id: op.id.clone(), route: format!("{} {}", op.method, op.path), params, body, result }
}

/// The methods as canonical text, one block per method: what the lock's digest is taken of.
fn canonical(methods: &[Method], types: &BTreeMap<String, Shape>) -> String {
    let mut out = String::new();
    for (name, shape) in types {
        match shape {
            Shape::Other(ty) => {
                let _ = writeln!(out, "type {name} = {ty}");
            }
            Shape::Object(fields) => {
                let _ = writeln!(out, "type {name}");
                for (field, (required, ty)) in fields {
                    let _ = writeln!(out, "  {field}{} {ty}", if *required { "" } else { "?" });
                }
            }
        }
    }
    for m in methods {
        let _ = writeln!(out, "{} {} {} body={} result={}", m.call, m.id, m.route, m.body, m.result);
        for (key, p) in &m.params {
            let _ = writeln!(out, "  {key} {} {} {}", p.at, if p.required { "required" } else { "optional" }, p.ty);
            for (field, (required, ty)) in &p.fields {
                let _ = writeln!(out, "    {field}{} {ty}", if *required { "" } else { "?" });
            }
        }
    }
    out
}

/// SHA-256, hex.
fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest of the methods and the named types they use.
pub fn digest(methods: &[Method], types: &BTreeMap<String, Shape>) -> String {
    sha256(canonical(methods, types).as_bytes())
}

/// What changed between two versions' methods.
#[derive(Debug, Default)]
pub struct Diff {
    /// Methods only the new version has.
    pub added: Vec<Method>,
    /// Methods only the old version has.
    pub removed: Vec<Method>,
    /// Methods in both that differ: the new method and one line per change.
    pub changed: Vec<(Method, Vec<String>)>,
    /// Named types added, removed, and changed (one line per field change).
    pub types_added: Vec<String>,
    /// Named types the new version lacks.
    pub types_removed: Vec<String>,
    /// Named types in both that differ.
    pub types_changed: Vec<(String, Vec<String>)>,
}

/// Adds the named types' changes between `old` and `new` to `diff`.
pub fn diff_types(diff: &mut Diff, old: &BTreeMap<String, Shape>, new: &BTreeMap<String, Shape>) {
    diff.types_added = new.keys().filter(|k| !old.contains_key(*k)).cloned().collect();
    diff.types_removed = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    for (name, shape) in new {
        let Some(before) = old.get(name) else { continue };
        let changes = match (before, shape) {
            (a, b) if a == b => continue,
            (Shape::Object(a), Shape::Object(b)) => {
                let mut changes = Vec::new();
                field_changes("", a, b, &mut changes);
                changes
            }
            (a, b) => vec![format!("{} → {}", short(&shape_line(a)), short(&shape_line(b)))],
        };
        diff.types_changed.push((name.clone(), changes));
    }
}

/// Field-level changes between two field maps ([`fields`]), their paths under `prefix`. A field
/// inside one added or removed is not listed again.
fn field_changes(prefix: &str, old: &BTreeMap<String, (bool, String)>, new: &BTreeMap<String, (bool, String)>, out: &mut Vec<String>) {
    let inside = |path: &str, set: &[&String]| set.iter().any(|p| path.starts_with(&format!("{p}.")));
    let added: Vec<&String> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    for (field, (required, ty)) in new {
        match old.get(field) {
            None if !inside(field, &added) => out.push(format!("+ `{prefix}{field}`{}: {}", if *required { "" } else { "?" }, short(ty))),
            None => {}
            Some((was_required, was)) => {
                if was_required != required {
                    out.push(format!("`{prefix}{field}` {}", if *required { "now required" } else { "now optional" }));
                }
                if was != ty {
                    out.push(format!("`{prefix}{field}` {}", retyped(was, ty)));
                }
            }
        }
    }
    for field in &removed {
        if !inside(field, &removed) {
            out.push(format!("- `{prefix}{field}`"));
        }
    }
}

fn shape_line(shape: &Shape) -> String {
    match shape {
        Shape::Other(ty) => ty.clone(),
        Shape::Object(fields) => format!("object of {} field(s)", fields.len()),
    }
}

/// Compares `old` with `new`.
pub fn diff(old: &[Method], new: &[Method]) -> Diff {
    let by_call = |ms: &[Method]| ms.iter().map(|m| (m.call.clone(), m.clone())).collect::<BTreeMap<_, _>>();
    let (old_calls, new_calls) = (by_call(old), by_call(new));
    let mut out = Diff::default();
    let mut added: Vec<&Method> = new.iter().filter(|m| !old_calls.contains_key(&m.call)).collect();
    for m in old.iter().filter(|m| !new_calls.contains_key(&m.call)) {
        // Renamed: the same operationId under another name.
        match added.iter().position(|a| a.id == m.id) {
            Some(i) => {
                let renamed = added.remove(i);
                let mut changes = vec![format!("renamed from {}", m.call)];
                changes.extend(changes_between(m, renamed));
                out.changed.push((renamed.clone(), changes));
            }
            None => out.removed.push(m.clone()),
        }
    }
    out.added = added.into_iter().cloned().collect();
    for m in new {
        if let Some(before) = old_calls.get(&m.call) {
            let changes = changes_between(before, m);
            if !changes.is_empty() {
                out.changed.push((m.clone(), changes));
            }
        }
    }
    out.changed.sort_by(|a, b| a.0.call.cmp(&b.0.call));
    out
}

fn changes_between(old: &Method, new: &Method) -> Vec<String> {
    let mut changes = Vec::new();
    if old.route != new.route {
        changes.push(format!("route: {} → {}", old.route, new.route));
    }
    for (key, p) in &new.params {
        match old.params.get(key) {
            None => changes.push(format!("+ `{key}` ({}, {}): {}", p.at, if p.required { "required" } else { "optional" }, short(&p.ty))),
            Some(q) => {
                if q.at != p.at {
                    changes.push(format!("`{key}` moves: {} → {}", q.at, p.at));
                }
                if q.required != p.required {
                    changes.push(format!("`{key}` {}", if p.required { "now required" } else { "now optional" }));
                }
                if !q.fields.is_empty() && !p.fields.is_empty() {
                    field_changes(&format!("{key}."), &q.fields, &p.fields, &mut changes);
                } else if q.ty != p.ty {
                    changes.push(format!("`{key}` {}", retyped(&q.ty, &p.ty)));
                }
            }
        }
    }
    for (key, q) in &old.params {
        if !new.params.contains_key(key) {
            changes.push(format!("- `{key}` ({}, {})", q.at, if q.required { "required" } else { "optional" }));
        }
    }
    if old.body != new.body {
        changes.push(format!("body: {} → {}", old.body, new.body));
    }
    if old.result != new.result {
        changes.push(format!("result: {} → {}", short(&old.result), short(&new.result)));
    }
    changes
}

/// How a type changed: for unions of literals (enums), the values added and removed; else
/// `retyped: old → new`.
fn retyped(old: &str, new: &str) -> String {
    let literals = |t: &str| -> Option<Vec<String>> {
        let parts: Vec<String> = t.split(" | ").map(str::to_owned).collect();
        parts.iter().all(|p| p.starts_with('"') || p == "null").then_some(parts)
    };
    if let (Some(a), Some(b)) = (literals(old), literals(new)) {
        let added: Vec<&str> = b.iter().filter(|v| !a.contains(v)).map(String::as_str).collect();
        let removed: Vec<&str> = a.iter().filter(|v| !b.contains(v)).map(String::as_str).collect();
        let mut out = Vec::new();
        if !added.is_empty() {
            out.push(format!("+ value(s) {}", short(&added.join(", "))));
        }
        if !removed.is_empty() {
            out.push(format!("- value(s) {}", short(&removed.join(", "))));
        }
        return out.join("; ");
    }
    format!("retyped: {} → {}", short(old), short(new))
}

/// A type as one line of a review: long inline object types cut short.
fn short(ty: &str) -> String {
    const MAX: usize = 100;
    if ty.chars().count() <= MAX {
        return ty.to_owned();
    }
    format!("{}…", ty.chars().take(MAX).collect::<String>())
}

/// The review of `diff`, for a person.
pub fn render(provider: &str, from: &str, to: &str, diff: &Diff) -> String {
    let mut out = String::new();
    let params_changed = diff.changed.iter().map(|(_, c)| c.iter().filter(|l| l.starts_with(['+', '-', '`'])).count()).sum::<usize>();
    let _ = writeln!(out, "{provider}: {from} → {to}");
    let _ = writeln!(
        out,
        "{} method(s) added, {} removed, {} changed ({} parameter change(s))",
        diff.added.len(),
        diff.removed.len(),
        diff.changed.len(),
        params_changed
    );
    if !diff.removed.is_empty() {
        let _ = writeln!(out, "\nremoved (callers of these break):");
        for m in &diff.removed {
            let _ = writeln!(out, "  - {}  {}", m.call, m.route);
        }
    }
    if !diff.changed.is_empty() {
        let _ = writeln!(out, "\nchanged:");
        for (m, changes) in &diff.changed {
            let _ = writeln!(out, "  ~ {}  {}", m.call, m.route);
            for c in changes {
                let _ = writeln!(out, "      {c}");
            }
        }
    }
    if !diff.added.is_empty() {
        let _ = writeln!(out, "\nadded:");
        for m in &diff.added {
            let _ = writeln!(out, "  + {}  {}", m.call, m.route);
        }
    }
    if !diff.types_changed.is_empty() || !diff.types_added.is_empty() || !diff.types_removed.is_empty() {
        let fields = diff.types_changed.iter().map(|(_, c)| c.len()).sum::<usize>();
        let _ = writeln!(
            out,
            "\ntypes: {} added, {} removed, {} changed ({fields} field change(s))",
            diff.types_added.len(),
            diff.types_removed.len(),
            diff.types_changed.len()
        );
        for name in &diff.types_removed {
            let _ = writeln!(out, "  - {name}");
        }
        for (name, changes) in &diff.types_changed {
            let _ = writeln!(out, "  ~ {name}");
            for c in changes {
                let _ = writeln!(out, "      {c}");
            }
        }
        if !diff.types_added.is_empty() {
            let _ = writeln!(out, "  + {}", diff.types_added.join(", "));
        }
    }
    out
}

/// `openapi/<provider>/capa.lock`.
#[derive(Debug, PartialEq)]
pub struct Lock {
    /// The spec file's name, beside the manifest.
    pub spec: String,
    /// Its SHA-256.
    pub sha256: String,
    /// How many methods it gives.
    pub methods: usize,
    /// Their digest ([`digest`]).
    pub digest: String,
}

impl Lock {
    /// The lock for `spec_file` (bytes `bytes`) giving `methods` and `types`.
    pub fn new(spec_file: &str, bytes: &[u8], methods: &[Method], types: &BTreeMap<String, Shape>) -> Lock {
        Lock { spec: spec_file.to_owned(), sha256: sha256(bytes), methods: methods.len(), digest: digest(methods, types) }
    }

    /// The lock file's text.
    pub fn text(&self) -> String {
        format!(
            "# What this capability is built from, written by `npm run spec-update`; `capa-gen build`\n\
             # refuses a spec that does not match (review a new one with `npm run spec-diff`).\n\
             spec = {:?}\nsha256 = {:?}\nmethods = {}\ndigest = {:?}\n",
            self.spec, self.sha256, self.methods, self.digest
        )
    }

    /// Reads `path`.
    pub fn read(path: &Path) -> Result<Option<Lock>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        #[derive(serde::Deserialize)]
        struct Raw {
            spec: String,
            sha256: String,
            methods: usize,
            digest: String,
        }
        let raw: Raw = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        Ok(Some(Lock { spec: raw.spec, sha256: raw.sha256, methods: raw.methods, digest: raw.digest }))
    }
}

/// The lock's path for `manifest`.
pub fn lock_path(manifest: &Manifest) -> std::path::PathBuf {
    manifest.dir.join("capa.lock")
}

/// Fails unless `manifest`'s spec is the one its lock names, with the commands that fix it.
pub fn check_lock(manifest: &Manifest, spec_bytes: &[u8]) -> Result<Option<Lock>> {
    let path = lock_path(manifest);
    let spec_file = manifest.spec.display().to_string();
    let dir = manifest.dir.strip_prefix(crate::repo::repo_root()).unwrap_or(&manifest.dir).display().to_string();
    let Some(lock) = Lock::read(&path)? else {
        bail!(
            "{dir}/capa.lock is missing: lock the spec with `npm run spec-update -- {} {dir}/{spec_file}`",
            manifest.capability
        );
    };
    if lock.spec != spec_file || lock.sha256 != sha256(spec_bytes) {
        bail!(
            "{dir}/{spec_file} is not the spec {dir}/capa.lock pins (was it replaced by hand?): review the change with \
             `npm run spec-diff -- {cap} <new spec>` and install it with `npm run spec-update -- {cap} <new spec>`",
            cap = manifest.capability
        );
    }
    Ok(Some(lock))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(call: &str, id: &str, params: &[(&str, &str, bool, &str)], result: &str) -> Method {
        Method {
            call: call.into(),
            id: id.into(),
            route: "POST /v1/x".into(),
            params: params.iter().map(|(k, at, r, ty)| (k.to_string(), Param { at: at.to_string(), required: *r, ty: ty.to_string(), fields: BTreeMap::new() })).collect(),
            body: "form".into(),
            result: result.into(),
        }
    }

    #[test]
    fn a_diff_names_every_kind_of_change() {
        let old = [
            m("a.create", "PostA", &[("name", "body", false, "string"), ("gone", "body", false, "string"), ("n", "body", false, "string")], "a"),
            m("b.list", "GetB", &[], "b[]"),
            m("c.old", "PostC", &[], "c"),
        ];
        let new = [
            m("a.create", "PostA", &[("name", "body", true, "string"), ("n", "query", false, "number"), ("extra", "body", false, "boolean")], "a | null"),
            m("c.renamed", "PostC", &[], "c"),
            m("d.create", "PostD", &[], "d"),
        ];
        let d = diff(&old, &new);
        assert_eq!(d.added.iter().map(|m| m.call.as_str()).collect::<Vec<_>>(), ["d.create"]);
        assert_eq!(d.removed.iter().map(|m| m.call.as_str()).collect::<Vec<_>>(), ["b.list"]);
        let changes: Vec<(&str, &[String])> = d.changed.iter().map(|(m, c)| (m.call.as_str(), c.as_slice())).collect();
        assert_eq!(changes[0].0, "a.create");
        assert_eq!(
            changes[0].1,
            [
                "+ `extra` (body, optional): boolean",
                "`n` moves: body → query",
                "`n` retyped: string → number",
                "`name` now required",
                "- `gone` (body, optional)",
                "result: a → a | null"
            ]
        );
        assert_eq!(changes[1], ("c.renamed", &["renamed from c.old".to_owned()][..]));
        let text = render("x", "1", "2", &d);
        assert!(text.contains("1 method(s) added, 1 removed, 2 changed (5 parameter change(s))"), "{text}");
    }

    #[test]
    fn the_lock_round_trips_and_pins_the_bytes() {
        let methods = [m("a.create", "PostA", &[], "a")];
        let lock = Lock::new("spec.json", b"{}", &methods, &BTreeMap::new());
        let dir = std::env::temp_dir().join(format!("capa-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("capa.lock"), lock.text()).unwrap();
        assert_eq!(Lock::read(&dir.join("capa.lock")).unwrap(), Some(lock));
        let mut manifest = Manifest::stand_in(&dir.join("spec.json"));
        manifest.capability = "probe".into();
        assert!(check_lock(&manifest, b"{}").is_ok());
        let e = check_lock(&manifest, b"{ }").unwrap_err().to_string();
        assert!(e.contains("npm run spec-diff -- probe") && e.contains("npm run spec-update -- probe"), "{e}");
        std::fs::remove_file(dir.join("capa.lock")).unwrap();
        assert!(check_lock(&manifest, b"{}").unwrap_err().to_string().contains("capa.lock is missing"));
    }
}
