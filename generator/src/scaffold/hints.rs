//! What else a spec shows plainly: where its error object sits, which response header carries
//! the upstream's request id, a credential declared as an ordinary parameter, a soft error in a
//! success body, and whether its servers may carry a credential.
//!
//! The error object, the request id header and a soft-error shape are manifest keys
//! (`upstream.error_object`, `upstream.request_id_header`, `[upstream.soft_error]`) and are
//! written. So is `[auth] params` for parameters and body fields named plainly as credentials
//! (`token`, `api_key`…), commented for names that only may be (`key`, `secret`); the scheme's
//! own key parameter declared on most operations is flagged.

use super::Note;
use crate::spec::Spec;
use serde_json::Value;
use std::collections::BTreeMap;

/// Names that are a credential wherever they travel.
const CREDENTIAL_NAMES: &[&str] = &["authorization", "api_key", "apikey", "api-key", "x-api-key", "access_token", "auth_token", "token", "private_token", "key", "secret", "client_secret"];

/// Every operation (resolved), with its path item.
fn operations(spec: &Spec) -> Vec<(&Value, &Value)> {
    let mut out = Vec::new();
    for (_, item) in spec.doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        let item = spec.resolve(item).unwrap_or(item);
        for method in crate::model::METHODS {
            if let Some(op) = item.get(method) {
                out.push((item, op));
            }
        }
    }
    out
}

/// The JSON schema of a response (its first JSON media type), resolved.
fn json_schema<'a>(spec: &'a Spec, response: &'a Value) -> Option<&'a Value> {
    let response = spec.resolve(response).ok()?;
    let content = response.get("content")?.as_object()?;
    let (_, media) = content.iter().find(|(t, _)| t.contains("json"))?;
    spec.resolve(media.get("schema")?).ok()
}

/// The top-level property names of a schema (through `allOf`).
fn properties(spec: &Spec, schema: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Some(p) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in p {
            out.insert(k.clone(), spec.resolve(v).unwrap_or(v).clone());
        }
    }
    for member in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        if let Ok(m) = spec.resolve(member) {
            out.extend(properties(spec, m));
        }
    }
    out
}

/// `upstream.error_object`: the property holding an object in most operations' error bodies.
pub fn error_object(spec: &Spec) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut with_errors = 0;
    for (_, op) in operations(spec) {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else { continue };
        let mut seen: Option<String> = None;
        for (status, response) in responses {
            if status.starts_with('2') || status.starts_with('3') {
                continue;
            }
            let Some(schema) = json_schema(spec, response) else { continue };
            let props = properties(spec, schema);
            if let Some((key, _)) = props.iter().find(|(k, v)| (k.as_str() == "error") && (v.get("type").and_then(Value::as_str) == Some("object") || v.get("properties").is_some())) {
                seen = Some(key.clone());
                break;
            }
        }
        if responses.keys().any(|s| !s.starts_with('2')) {
            with_errors += 1;
        }
        if let Some(k) = seen {
            *counts.entry(k).or_default() += 1;
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n * 2 >= with_errors.max(1)).map(|(k, _)| k)
}

/// `upstream.request_id_header`: a response header named for a request id, the one most
/// operations declare.
pub fn request_id_header(spec: &Spec) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (_, op) in operations(spec) {
        for (_, response) in op.get("responses").and_then(Value::as_object).into_iter().flatten() {
            let Ok(response) = spec.resolve(response) else { continue };
            for (header, _) in response.get("headers").and_then(Value::as_object).into_iter().flatten() {
                let lower = header.to_ascii_lowercase();
                if lower.ends_with("request-id") || lower.ends_with("requestid") || lower == "x-correlation-id" {
                    *counts.entry(header.clone()).or_default() += 1;
                }
            }
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(h, _)| h)
}

/// A parameter that is a credential, declared on most operations: `(in, name, count, of)`.
pub fn credential_parameter(spec: &Spec, key_names: &[(String, String)]) -> Option<(String, String, usize, usize)> {
    let ops = operations(spec);
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (item, op) in &ops {
        let params = item.get("parameters").and_then(Value::as_array).into_iter().flatten().chain(op.get("parameters").and_then(Value::as_array).into_iter().flatten());
        let mut seen = std::collections::BTreeSet::new();
        for p in params {
            let Ok(p) = spec.resolve(p) else { continue };
            let (Some(place), Some(name)) = (p.get("in").and_then(Value::as_str), p.get("name").and_then(Value::as_str)) else { continue };
            if place == "path" {
                continue;
            }
            let lower = name.to_ascii_lowercase();
            let credential = CREDENTIAL_NAMES.contains(&lower.as_str()) || key_names.iter().any(|(pl, n)| pl == place && n.eq_ignore_ascii_case(name));
            if credential && seen.insert((place.to_owned(), name.to_owned())) {
                *counts.entry((place.to_owned(), name.to_owned())).or_default() += 1;
            }
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n * 2 > ops.len()).map(|((place, name), n)| (place, name, n, ops.len()))
}

/// Names that are a credential so plainly that the scaffold writes them into `[auth] params`
/// (others that look like one, `key`, `secret`, are written commented: a `key` may be a cache
/// key).
const SURE_CREDENTIAL_NAMES: &[&str] = &["token", "api_key", "apikey", "api-key", "x-api-key", "access_token", "auth_token", "private_token", "client_secret"];

/// A parameter or top-level body field whose name looks like a credential.
#[derive(Debug, PartialEq, Eq)]
pub struct CredentialField {
    /// Its name as declared.
    pub name: String,
    /// Where operations declare it (`query`, `header`, `cookie`, `body`), first seen first.
    pub places: Vec<String>,
    /// On how many operations.
    pub operations: usize,
    /// Its name leaves no doubt (`token`, `api_key`…), against `key` or `secret`.
    pub sure: bool,
}

/// Every parameter and top-level request body field (form, multipart or JSON) whose name looks
/// like a credential, for `[auth] params`: by name, with its places and count. `Authorization`
/// is the scheme's, never a parameter's.
pub fn credential_fields(spec: &Spec) -> Vec<CredentialField> {
    let mut found: BTreeMap<String, CredentialField> = BTreeMap::new();
    let mut add = |name: &str, place: &str, seen: &mut std::collections::BTreeSet<String>| {
        let lower = name.to_ascii_lowercase();
        if lower == "authorization" || !CREDENTIAL_NAMES.contains(&lower.as_str()) {
            return;
        }
        let f = found.entry(name.to_owned()).or_insert_with(|| CredentialField { name: name.to_owned(), places: Vec::new(), operations: 0, sure: SURE_CREDENTIAL_NAMES.contains(&lower.as_str()) });
        if !f.places.iter().any(|p| p == place) {
            f.places.push(place.to_owned());
        }
        if seen.insert(name.to_owned()) {
            f.operations += 1;
        }
    };
    for (item, op) in operations(spec) {
        let mut seen = std::collections::BTreeSet::new();
        let params = item.get("parameters").and_then(Value::as_array).into_iter().flatten().chain(op.get("parameters").and_then(Value::as_array).into_iter().flatten());
        for p in params {
            let Ok(p) = spec.resolve(p) else { continue };
            if let (Some(place), Some(name)) = (p.get("in").and_then(Value::as_str), p.get("name").and_then(Value::as_str)) {
                if place != "path" {
                    add(name, place, &mut seen);
                }
            }
        }
        let body = op.get("requestBody").and_then(|b| spec.resolve(b).ok()).and_then(|b| b.get("content")).and_then(Value::as_object);
        for (media, content) in body.into_iter().flatten() {
            if !(media.contains("json") || media.starts_with("application/x-www-form-urlencoded") || media.starts_with("multipart/form-data")) {
                continue;
            }
            let Some(schema) = content.get("schema").and_then(|s| spec.resolve(s).ok()) else { continue };
            for name in properties(spec, schema).keys() {
                add(name, "body", &mut seen);
            }
        }
    }
    found.into_values().collect()
}

/// A soft error: success bodies with a boolean `ok`/`success` beside an `error`/`errors`: the
/// flag, the message member, and in how many operations.
pub fn soft_errors(spec: &Spec) -> Option<(String, String, usize)> {
    let mut count = 0;
    let mut shape = (String::new(), String::new());
    for (_, op) in operations(spec) {
        let Some(responses) = op.get("responses").and_then(Value::as_object) else { continue };
        let hit = responses.iter().filter(|(s, _)| s.starts_with('2')).find_map(|(_, r)| {
            let props = properties(spec, json_schema(spec, r)?);
            let flag = ["ok", "success"].into_iter().find(|k| props.get(*k).and_then(|v| v.get("type")).and_then(Value::as_str) == Some("boolean"))?;
            let error = ["error", "errors"].into_iter().find(|k| props.contains_key(*k))?;
            Some((flag.to_owned(), error.to_owned()))
        });
        if let Some(h) = hit {
            count += 1;
            shape = h;
        }
    }
    (count > 0).then_some((shape.0, shape.1, count))
}

/// Every server URL the spec names (document, path items, operations); a relative one as is.
pub fn servers(spec: &Spec) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |v: &Value| {
        for s in v.get("servers").and_then(Value::as_array).into_iter().flatten() {
            if let Some(url) = s.get("url").and_then(Value::as_str) {
                if !out.iter().any(|o| o == url) {
                    out.push(url.to_owned());
                }
            }
        }
    };
    add(&spec.doc);
    for (item, op) in operations(spec) {
        add(item);
        add(op);
    }
    out
}

/// Notes on the flagged settings, for the scaffold's report.
pub fn flags(spec: &Spec, key_names: &[(String, String)]) -> Vec<Note> {
    let mut notes = Vec::new();
    if let Some((place, name, n, of)) = credential_parameter(spec, key_names) {
        notes.push(Note::flag(format!(
            "the credential `{name}` ({place}) is declared as a parameter on {n} of {of} operations: the manifest's scheme sends it, and a caller passing it is refused \
             (unknown_parameter); where operations declare it elsewhere (another place, a body field), name it in [auth] params (`params = {{ {name} = \"<its handle>\" }}`) \
             to have it filled there too"
        )));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn error_object_request_id_credential_parameter_and_soft_errors_are_read() {
        let err = json!({ "description": "no", "content": { "application/json": { "schema": { "type": "object", "properties": { "error": { "type": "object", "properties": { "message": { "type": "string" } } } } } } } });
        let ok = json!({
            "description": "ok",
            "headers": { "X-Request-Id": { "schema": { "type": "string" } } },
            "content": { "application/json": { "schema": { "type": "object", "properties": { "ok": { "type": "boolean" }, "error": { "type": "string" } } } } },
        });
        let key = json!({ "name": "api_key", "in": "query", "schema": { "type": "string" } });
        let s = Spec::from_value(json!({
            "openapi": "3.0.3",
            "servers": [{ "url": "http://api.example.com" }],
            "paths": {
                "/a": { "get": { "parameters": [key], "responses": { "200": ok, "400": err } } },
                "/b": { "get": { "parameters": [key], "responses": { "200": ok, "default": err } } },
                "/c": { "get": { "responses": { "200": { "description": "ok" } } } },
            },
        }))
        .unwrap();
        assert_eq!(error_object(&s).as_deref(), Some("error"));
        assert_eq!(request_id_header(&s).as_deref(), Some("X-Request-Id"));
        assert_eq!(credential_parameter(&s, &[]), Some(("query".into(), "api_key".into(), 2, 3)));
        assert_eq!(soft_errors(&s), Some(("ok".into(), "error".into(), 2)));
        assert_eq!(servers(&s), vec!["http://api.example.com".to_owned()]);
        assert_eq!(flags(&s, &[]).len(), 1);
    }
}
