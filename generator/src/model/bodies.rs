//! What an operation sends and answers, as the spec says it: the request body's encoding and
//! its top-level fields (which join the params object's keys), what each 2xx response answers,
//! the error responses' schema, whether a GET returns a list. Media types are read here as the
//! spec writes them, lowercased to their essence; which one a body *has* is for the runtime to
//! judge by the answer's `Content-Type` (`src/media.rs`).
//!
//! This part of the model reads the spec alone: where parameters travel, the credential and the
//! server are the parent module's.

use super::{Answer, At, Body, FieldStyles, Param, Style};
use crate::fit::unfit_for_raw_json;
use crate::spec::Spec;
use anyhow::{bail, Context, Result};
use serde_json::Value;

/// A media type's essence, lowercase: `application/json` of `Application/JSON; charset=utf-8`.
pub(super) fn essence(media: &str) -> String {
    media.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// The body encoding, and the body's top-level fields added to `params`: a field the body's
/// schema requires is required (`required: true`) whether or not the body itself is, and
/// [`body_optional`] says when the body may be left out, those fields with it.
pub(super) fn request_body(spec: &Spec, rb: &Value, method: &str, params: &mut Vec<Param>, id: &str) -> Result<Body> {
    let rb = spec.resolve(rb)?;
    let required = rb.get("required").and_then(Value::as_bool).unwrap_or(false);
    let content = rb.get("content").and_then(Value::as_object).context("requestBody without content")?;
    // The most structured encoding the operation offers: JSON, then forms, then text, then bytes.
    let pick = content
        .keys()
        .find(|k| is_json(&essence(k)))
        .or_else(|| content.keys().find(|k| essence(k) == "application/x-www-form-urlencoded"))
        .or_else(|| content.keys().find(|k| essence(k) == "multipart/form-data"))
        .or_else(|| content.keys().find(|k| is_text(&essence(k))))
        .or_else(|| content.keys().next());
    let Some(media) = pick else { bail!("{id}: a requestBody whose content names no media type") };
    let schema = content[media].get("schema").cloned().unwrap_or(Value::Null);
    let media = &essence(media);
    if media == "multipart/form-data" {
        let Some(shape) = spec.object_shape(&schema)? else { bail!("{id}: a multipart body whose schema is not an object") };
        for (name, schema) in &shape.properties {
            params.push(Param { name: name.clone(), at: At::Body, required: shape.required.contains(name), schema: spec.resolve(schema)?.clone() });
        }
        let encoding = content.iter().find(|(k, _)| essence(k) == *media).and_then(|(_, m)| m.get("encoding")).and_then(Value::as_object);
        let deep = encoding
            .into_iter()
            .flatten()
            .filter(|(_, e)| e.get("style").and_then(Value::as_str) == Some("deepObject"))
            .map(|(name, _)| name.clone())
            .collect::<Vec<_>>();
        let types = part_types(encoding, &deep, id)?;
        return Ok(Body::Multipart { open: shape.open, deep, types });
    }
    let form = media == "application/x-www-form-urlencoded";
    if form || is_json(media) {
        if let Some(shape) = spec.object_shape(&schema)? {
            // GET/DELETE operations declaring an empty form body (246 in Stripe's spec) send none.
            if shape.properties.is_empty() && !shape.open {
                return Ok(Body::None);
            }
            for (name, schema) in &shape.properties {
                params.push(Param {
                    name: name.clone(),
                    at: At::Body,
                    required: shape.required.contains(name),
                    schema: spec.resolve(schema)?.clone(),
                });
            }
            if form {
                let encoding = content.iter().find(|(k, _)| essence(k) == *media).and_then(|(_, m)| m.get("encoding"));
                return Ok(Body::Form { open: shape.open, styles: field_styles(spec, &shape.properties, encoding, id)? });
            }
            return Ok(Body::Json { open: shape.open });
        }
        if form {
            bail!("{id}: a form body whose schema is not an object");
        }
        if method == "GET" {
            bail!("{id}: a JSON body on GET, which fetch cannot send");
        }
    }
    // The body is the params argument itself, or its `body` key when there are other params.
    if !params.is_empty() {
        params.push(Param { name: "body".into(), at: At::Body, required, schema: spec.resolve(&schema)?.clone() });
    }
    if unfit_for_raw_json(media) {
        // The runtime sends it as a static header value, unescaped (src/http.rs).
        bail!("{id}: media type {media:?} has a quote, backslash or control character");
    }
    Ok(if is_json(media) {
        Body::JsonValue
    } else if is_text(media) {
        Body::Text(media.clone())
    } else {
        Body::Binary(media.clone())
    })
}

/// The `contentType` a multipart body's `encoding` gives a field's text parts, and its files
/// when the caller's bytes carry no type (a `deepObject` field's bracketed parts take none). A
/// list of types (`image/png, image/jpeg`, which OpenAPI allows for files) or a range
/// (`image/*`) names no one type a part could say it is, and is left to the part (text as ever,
/// files as the caller's bytes are typed).
fn part_types(encoding: Option<&serde_json::Map<String, Value>>, deep: &[String], id: &str) -> Result<Vec<(String, String)>> {
    let mut types = Vec::new();
    for (name, e) in encoding.into_iter().flatten() {
        let Some(media) = e.get("contentType").and_then(Value::as_str) else { continue };
        let media = media.trim();
        if deep.contains(name) || media.contains(',') || media.contains('*') {
            continue;
        }
        // Written into a part's header as it is: a media type, its parameters, nothing else.
        let fits = media.split_once('/').is_some_and(|(t, s)| !t.is_empty() && !s.is_empty())
            && media.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-/;= ".contains(&b));
        if !fits {
            bail!("{id}: multipart field `{name}`: contentType {media:?} is not a media type a part's header can carry");
        }
        types.push((name.clone(), media.to_owned()));
    }
    Ok(types)
}

/// How each field of a form body is serialized: its `encoding`'s `style` and `explode`, read as
/// a query parameter's are (`form`, exploded, where it says nothing), for the fields that can
/// hold an array or an object (a scalar is `name=value` in every style).
fn field_styles(spec: &Spec, properties: &[(String, Value)], encoding: Option<&Value>, id: &str) -> Result<FieldStyles> {
    let mut styled: Vec<(String, Style)> = Vec::new();
    for (name, schema) in properties {
        let schema = spec.resolve(schema)?;
        let scalar = matches!(schema.get("type").and_then(Value::as_str), Some("string" | "integer" | "number" | "boolean" | "null"));
        if scalar {
            continue;
        }
        let of = encoding.and_then(|e| e.get(name)).unwrap_or(&Value::Null);
        styled.push((name.clone(), super::style(of, name, id)?));
    }
    // The most common style is the default (the first of the most common, in field order: a
    // stable choice); with no container fields, whatever the encoding declares for any field,
    // else `form`.
    let count = |s: Style| styled.iter().filter(|(_, t)| *t == s).count();
    let declared = encoding.and_then(Value::as_object).and_then(|e| e.iter().map(|(n, v)| super::style(v, n, id)).find_map(Result::ok));
    let default = styled.iter().map(|(_, s)| *s).max_by_key(|s| (count(*s), std::cmp::Reverse(styled.iter().position(|(_, t)| t == s)))).or(declared).unwrap_or(Style::Form);
    styled.retain(|(_, s)| *s != default);
    Ok(FieldStyles { default, fields: styled })
}

/// Whether the operation's request body may be left out (`requestBody.required` unset or false):
/// then its required fields are required only when a body is sent.
pub(super) fn body_optional(spec: &Spec, rb: &Value) -> Result<bool> {
    Ok(!spec.resolve(rb)?.get("required").and_then(Value::as_bool).unwrap_or(false))
}

/// Media types whose bodies are text: `text/*`, and XML (which, unlike bytes, a string holds).
fn is_text(media: &str) -> bool {
    media.starts_with("text/") || media == "application/xml" || media.ends_with("+xml")
}

pub(super) fn is_json(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// What each 2xx response answers, distinct, in status order.
pub(super) fn answers(spec: &Spec, op: &Value) -> Result<Vec<Answer>> {
    let Some(responses) = op.get("responses").and_then(Value::as_object) else { return Ok(vec![Answer::None]) };
    let mut codes: Vec<&String> = responses.keys().filter(|c| c.starts_with('2')).collect();
    codes.sort();
    let mut out = Vec::new();
    for code in codes {
        let answer = response_answer(spec, &responses[code])?;
        if !out.contains(&answer) {
            out.push(answer);
        }
    }
    if out.is_empty() {
        out.push(Answer::None);
    }
    Ok(out)
}

/// The JSON schema of the error responses: the first 4xx or 5xx declaring one, else `default`'s.
pub(super) fn error_schema(spec: &Spec, op: &Value) -> Result<Option<Value>> {
    let Some(responses) = op.get("responses").and_then(Value::as_object) else { return Ok(None) };
    let mut codes: Vec<&String> = responses.keys().filter(|c| c.starts_with('4') || c.starts_with('5')).collect();
    codes.sort();
    codes.extend(responses.keys().filter(|c| *c == "default"));
    for code in codes {
        if let Answer::Json(schema) = response_answer(spec, &responses[code])? {
            if !schema.is_null() {
                return Ok(Some(schema));
            }
        }
    }
    Ok(None)
}

/// What one response answers.
fn response_answer(spec: &Spec, response: &Value) -> Result<Answer> {
    let response = spec.resolve(response)?;
    let Some(content) = response.get("content").and_then(Value::as_object).filter(|c| !c.is_empty()) else { return Ok(Answer::None) };
    if let Some((_, media)) = content.iter().find(|(k, _)| is_json(&essence(k))) {
        return Ok(Answer::Json(media.get("schema").cloned().unwrap_or(Value::Null)));
    }
    if content.keys().any(|k| is_text(&essence(k))) {
        return Ok(Answer::Text);
    }
    Ok(Answer::Binary)
}

/// Whether the success response is a list: a JSON array, or an object whose `data` is one (the
/// common envelope: Stripe's `{object: "list", data, has_more}`, Twitch's `{data, pagination}`),
/// or whose member named as the path's last segment is one (Twilio's `Messages.json` answering
/// `{ messages: [...], next_page_uri }`).
pub(super) fn returns_list(spec: &Spec, op: &Value, path: &str) -> Result<bool> {
    let Some(responses) = op.get("responses").and_then(Value::as_object) else { return Ok(false) };
    let Some((_, ok)) = responses.iter().find(|(code, _)| code.starts_with('2')) else { return Ok(false) };
    let ok = spec.resolve(ok)?;
    let Some(schema) = ok.get("content").and_then(Value::as_object).and_then(|c| c.iter().find(|(k, _)| is_json(k))).and_then(|(_, m)| m.get("schema")) else {
        return Ok(false);
    };
    let schema = spec.resolve(schema)?;
    if schema.get("type").and_then(Value::as_str) == Some("array") {
        return Ok(true);
    }
    let Some(Value::Object(props)) = schema.get("properties") else { return Ok(false) };
    let last = path.rsplit('/').find(|s| !s.is_empty() && !s.contains('{')).unwrap_or("");
    let resource = last.split('.').next().unwrap_or("").replace(['-', '_'], "").to_ascii_lowercase();
    for (name, member) in props {
        let named = name == "data" || (!resource.is_empty() && name.replace(['-', '_'], "").to_ascii_lowercase() == resource);
        if named && spec.resolve(member)?.get("type").and_then(Value::as_str) == Some("array") {
            return Ok(true);
        }
    }
    Ok(false)
}
