//! Stage 2, model: the operations as the runtime will see them.
//!
//! Each operation gets its server, path parameters (in template order), the params object's
//! keys with where each travels (query with its style, header, body field), the body encoding,
//! whether it needs the credential, and whether its success response is a list (names use it).
//! Anything the runtime cannot do faithfully is left out with a note, never half-supported.
//!
//! Here: the operations' shape and where each parameter travels, the credential they need, and
//! the checks that span them. What an operation sends and answers (bodies, responses, media
//! types) is `model/bodies.rs`'s; where it goes (servers, token endpoints) `model/servers.rs`'s.

use crate::fit::{is_loopback, unfit_for_raw_json};
use crate::manifest::Manifest;
use crate::schemes::Unspecified;
use crate::spec::Spec;
use anyhow::{bail, Context, Result};
use serde_json::Value;

mod bodies;
pub mod paging;
mod servers;

use bodies::{answers, body_optional, error_schema, request_body, returns_list};
use servers::{server, token_urls};

/// The HTTP methods a path item can hold, lowercase as in the spec.
pub const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// The provider's operations, ready to name and emit.
#[derive(Debug)]
pub struct Model {
    /// Distinct absolute server base URLs; operations refer to them by index.
    pub servers: Vec<String>,
    /// Every supported operation, sorted by path then method.
    pub operations: Vec<Operation>,
    /// Operations left out, with why.
    pub skipped: Vec<(String, String)>,
    /// Notes on tolerated spec defects.
    pub warnings: Vec<String>,
    /// By [`Manifest::schemes`] index: the token endpoint of an `oauth2` scheme.
    pub token_urls: Vec<Option<String>>,
}

/// One operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `operationId`, or `METHOD /path` when the spec has none.
    pub id: String,
    /// Uppercase.
    pub method: String,
    /// The path template.
    pub path: String,
    /// Index into [`Model::servers`].
    pub server: usize,
    /// Template parameters in order.
    pub path_params: Vec<String>,
    /// Bit `i`: the `i`-th path parameter spans segments (`x-multi-segment`).
    pub multi: u8,
    /// Query, header and body parameters: the params object's keys.
    pub params: Vec<Param>,
    /// Body encoding.
    pub body: Body,
    /// The body may be left out, though some of its fields are required: they are required
    /// only when a body is sent (the runtime's `Provider::optional_bodies`).
    pub optional_body: bool,
    /// The credential parameters it declares (`[auth] params`), each where it declares it: not
    /// among [`Operation::params`], the caller's keys.
    pub credentials: Vec<CredentialParam>,
    /// Whether the credential is sent.
    pub auth: AuthUse,
    /// Index into [`Manifest::schemes`]: how it authenticates ([`crate::security::choose`]).
    pub scheme: usize,
    /// A GET whose success response is a list.
    pub returns_list: bool,
    /// How its answers continue on a next page, when they do (`options.pages`).
    pub paging: Option<paging::Paging>,
    /// What every 2xx response answers, distinct, in status order; never empty (no 2xx
    /// response: [`Answer::None`]).
    pub results: Vec<Answer>,
    /// The JSON schema of the spec's error responses (its first 4xx or 5xx, else `default`),
    /// when it declares one: the provider's error body.
    pub error: Option<Value>,
    /// The spec's summary, for the TypeScript doc comment.
    pub summary: Option<String>,
    /// Marked deprecated in the spec.
    pub deprecated: bool,
}

/// A key of the params object.
#[derive(Debug, Clone)]
pub struct Param {
    /// The key.
    pub name: String,
    /// Where it travels.
    pub at: At,
    /// Must be given (and not null).
    pub required: bool,
    /// The parameter's schema, for the TypeScript declaration.
    pub schema: Value,
}

/// A credential the spec declares as a parameter of an operation (`[auth] params`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialParam {
    /// Its name on the wire.
    pub name: String,
    /// Where this operation declares it.
    pub at: CredentialAt,
    /// The handle its value comes from.
    pub handle: String,
    /// The spec requires it: an unset handle is `missing_credential` (else it is left out).
    pub required: bool,
}

/// Where a credential parameter travels (see `src/table.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum CredentialAt {
    Query,
    Header,
    Cookie,
    /// A top-level field of a form, multipart or JSON object body.
    Body,
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// The query string, serialized per the style.
    Query(Style),
    /// A request header.
    Header,
    /// A top-level field of the body (or, named `body`, the whole body).
    Body,
    /// A query parameter another parameter shares the name of: key `query.<name>`.
    QueryAlias(Style),
    /// A header parameter another parameter shares the name of: key `header.<name>`.
    HeaderAlias,
}

/// Query serialization styles (see `src/table.rs` for their wire forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `form`, exploded.
    Form,
    /// `form`, not exploded.
    FormCsv,
    /// `deepObject`.
    DeepObject,
    /// `spaceDelimited`.
    SpaceDelimited,
    /// `pipeDelimited`.
    PipeDelimited,
}

/// Request body encodings (see `src/table.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Body {
    None,
    /// `application/x-www-form-urlencoded`; `styles`: how each field is serialized, from the
    /// media type's `encoding`.
    Form { open: bool, styles: FieldStyles },
    Json { open: bool },
    JsonValue,
    Text(String),
    /// `multipart/form-data`; `deep`: the fields its `encoding` makes `deepObject`; `types`:
    /// those whose text parts it gives a `contentType` (one concrete media type).
    Multipart { open: bool, deep: Vec<String>, types: Vec<(String, String)> },
    /// Bytes of this media type (or range: `image/*`, `*/*`).
    Binary(String),
}

/// How a form body's fields are serialized (OpenAPI's `encoding`, each property's `style` and
/// `explode`; `form`, exploded, where it says nothing): `default` for every field not in
/// `fields`. `default` is the style most of the body's container fields have (Stripe's
/// `deepObject` everywhere), so that a body whose fields agree lists none; scalar fields are
/// sent alike in every style and are never listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldStyles {
    /// The style of every field not in `fields`.
    pub default: Style,
    /// The fields of another style, by name.
    pub fields: Vec<(String, Style)>,
}

/// What an operation's success answers, from the first 2xx response the spec declares (the
/// runtime decides by the actual `Content-Type`; this is what the spec promises).
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// No body (204, or no content declared).
    None,
    /// JSON of this schema (unresolved: a `$ref` keeps its name).
    Json(Value),
    /// Text (`text/*`, XML).
    Text,
    /// Bytes.
    Binary,
}

/// Whether an operation sends the credential (see `src/table.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum AuthUse {
    Required,
    Optional,
    Never,
}

/// Headers OpenAPI says to ignore when declared as parameters, plus those the runtime or
/// `fetch` owns (a caller setting them could confuse the upstream about the request itself).
const IGNORED_HEADER_PARAMS: &[&str] = &["accept", "content-type", "authorization", "content-length", "host", "cookie", "transfer-encoding", "connection"];

/// Builds the model of `spec` under `manifest`.
pub fn build(spec: &Spec, manifest: &Manifest) -> Result<Model> {
    let mut model = Model { servers: Vec::new(), operations: Vec::new(), skipped: Vec::new(), warnings: Vec::new(), token_urls: token_urls(spec, manifest)? };
    let doc = &spec.doc;
    let paths = doc.get("paths").and_then(Value::as_object).context("no paths")?;
    if let Some(Value::Object(webhooks)) = doc.get("webhooks") {
        if !webhooks.is_empty() {
            model.warnings.push(format!(
                "{} webhook(s) ignored: they are the provider's calls to you, not operations a capability makes",
                webhooks.len()
            ));
        }
    }
    for (path, item) in paths {
        let item = spec.resolve(item)?;
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{} {path}", method.to_uppercase()));
            match operation(spec, manifest, &mut model, path, item, method, op, &id) {
                Ok(Some(operation)) => model.operations.push(operation),
                Ok(None) => {}
                Err(e) => model.skipped.push((id, format!("{e:#}"))),
            }
        }
    }
    for (id, rule) in &manifest.pages {
        let op = model.operations.iter_mut().find(|o| o.id == *id).with_context(|| format!("[pages.{id}] names no operation of the spec (an operationId)"))?;
        op.paging = paging::overridden(rule, op.paging.take(), &op.method, &op.params).with_context(|| format!("[pages.{id}]"))?;
    }
    model.operations.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    lint(&spec.doc, &mut Vec::new(), &mut model.warnings);
    Ok(model)
}

/// A step of [`lint`]'s walk.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Defects real specs carry that the generator tolerates, each noted (`methods.txt`, "spec
/// warnings"): never accepted in silence. `at` is the walk's path, made a JSON pointer only for
/// a warning (the walk visits every node of a 13 MB spec).
fn lint<'a>(value: &'a Value, at: &mut Vec<Step<'a>>, warnings: &mut Vec<String>) {
    let pointer = |at: &[Step<'_>]| {
        at.iter()
            .map(|step| match step {
                Step::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
                Step::Index(i) => format!("/{i}"),
            })
            .collect::<String>()
    };
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(required)) = map.get("required") {
                let mut seen: Vec<&str> = Vec::new();
                for name in required.iter().filter_map(Value::as_str) {
                    if seen.contains(&name) {
                        warnings.push(format!("#{}: `required` lists `{name}` twice", pointer(at)));
                    }
                    seen.push(name);
                }
            }
            if let (Some(Value::Object(responses)), Some(Step::Key("paths"))) = (map.get("responses"), at.first()) {
                for code in responses.keys() {
                    let status = code.len() == 3 && matches!(code.as_bytes()[0], b'1'..=b'5') && code[1..].bytes().all(|b| b.is_ascii_digit() || b == b'X' || b == b'x');
                    if !status && code != "default" {
                        warnings.push(format!("#{}/responses: `{code}` is not a status code; ignored", pointer(at)));
                    }
                }
            }
            for (key, inner) in map {
                at.push(Step::Key(key));
                lint(inner, at, warnings);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                at.push(Step::Index(i));
                lint(inner, at, warnings);
                at.pop();
            }
        }
        _ => {}
    }
}

#[allow(clippy::too_many_arguments)]
fn operation(
    spec: &Spec,
    manifest: &Manifest,
    model: &mut Model,
    path: &str,
    item: &Value,
    method: &str,
    op: &Value,
    id: &str,
) -> Result<Option<Operation>> {
    // The runtime writes these into every receipt as they are, unescaped (src/receipt.rs).
    for (what, text) in [("operationId", id), ("path", path)] {
        if unfit_for_raw_json(text) {
            anyhow::bail!("its {what} has a quote, backslash or control character");
        }
    }
    let server_url = server(manifest, [op, item, &spec.doc])?;

    let path_params = template_params(path)?;
    // Every scheme's key place: a parameter there is the credential.
    let schemes = manifest.schemes();
    let key_header = |lower: &str| schemes.iter().any(|a| !a.key_header().is_empty() && a.key_header().eq_ignore_ascii_case(lower) || a.headers.keys().any(|h| h.eq_ignore_ascii_case(lower)));

    // Path-level parameters, overridden by the operation's own of the same name and place.
    let mut declared: Vec<(String, String, Value)> = Vec::new();
    for source in [item.get("parameters"), op.get("parameters")].into_iter().flatten() {
        for p in source.as_array().into_iter().flatten() {
            let p = spec.resolve(p)?;
            let name = p.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
            let place = p.get("in").and_then(Value::as_str).context("a parameter without `in`")?.to_owned();
            if name.is_empty() {
                model.warnings.push(format!("{id}: a {place} parameter without a name; ignored"));
                continue;
            }
            declared.retain(|(n, i, _)| !(*n == name && *i == place));
            declared.push((name, place, p.clone()));
        }
    }

    let mut params = Vec::new();
    // Credentials the spec declares as parameters (`[auth] params`): filled from their handles
    // wherever this operation declares them, never the caller's.
    // The operation's own scheme's first (a named scheme's `params` on its operations), then
    // `[auth]`'s, then any other scheme's: a parameter some scheme names is never the caller's.
    let scheme = match security(spec, manifest, op).and_then(Value::as_array) {
        Some(alternatives) => crate::security::choose(spec, manifest, alternatives),
        None => 0,
    };
    let credential_handle = |name: &str| {
        let own = [scheme, 0].into_iter().filter_map(|i| schemes.get(i));
        own.chain(schemes.iter()).find_map(|a| a.params.get(name).cloned())
    };
    let mut credentials: Vec<CredentialParam> = Vec::new();
    for (name, place, p) in &declared {
        let required = p.get("required").and_then(Value::as_bool).unwrap_or(false);
        let schema = p.get("schema").cloned().unwrap_or(Value::Null);
        if let Some(handle) = credential_handle(name) {
            let at = match place.as_str() {
                "query" => CredentialAt::Query,
                "header" => CredentialAt::Header,
                "cookie" => CredentialAt::Cookie,
                _ => bail!("credential parameter `{name}` in {place}, where a credential cannot travel"),
            };
            credentials.push(CredentialParam { name: name.clone(), at, handle, required });
            continue;
        }
        let at = match place.as_str() {
            "path" => {
                if !path_params.contains(name) {
                    model.warnings.push(format!("{id}: path parameter `{name}` is not in the template {path}; ignored"));
                }
                continue;
            }
            // A parameter that is the credential is the capability's to fill (see `src/auth.rs`):
            // not the caller's.
            "query" if schemes.iter().any(|a| a.key_query() == Some(name.as_str())) => continue,
            "cookie" if schemes.iter().any(|a| a.key_cookie() == Some(name.as_str())) => continue,
            "query" => At::Query(style(p, &name.clone(), id)?),
            "header" => {
                let lower = name.to_ascii_lowercase();
                if IGNORED_HEADER_PARAMS.contains(&lower.as_str()) || key_header(&lower) {
                    continue;
                }
                // Pinned headers are the manifest's; per-call ones travel in options.auth.headers,
                // checked against the allow-list. Neither may also arrive as a parameter: two
                // values of one header would reach the upstream joined by a comma.
                if manifest.upstream.headers.keys().chain(manifest.call.allowed()).any(|h| h.eq_ignore_ascii_case(name)) {
                    continue;
                }
                At::Header
            }
            "cookie" => bail!("cookie parameter `{name}`: cookies are not supported"),
            other => bail!("parameter `{name}` in unknown place {other:?}"),
        };
        params.push(Param { name: name.clone(), at, required, schema: spec.resolve(&schema)?.clone() });
    }
    let mut multi = 0u8;
    for (i, name) in path_params.iter().enumerate() {
        match declared.iter().find(|(n, place, _)| n == name && place == "path") {
            None => model.warnings.push(format!("{id}: template parameter `{name}` of {path} is not declared; taken as a string")),
            Some((_, _, p)) if p.get("x-multi-segment").and_then(Value::as_bool) == Some(true) => multi |= 1 << i,
            Some(_) => {}
        }
    }

    let upper = method.to_ascii_uppercase();
    let body = match op.get("requestBody") {
        None => Body::None,
        Some(rb) => request_body(spec, rb, &upper, &mut params, id)?,
    };
    // A body field that is a credential parameter is the capability's too.
    params.retain(|p| match (p.at, credential_handle(&p.name)) {
        (At::Body, Some(handle)) if p.name != "body" || !matches!(body, Body::JsonValue | Body::Text(_) | Body::Binary(_)) => {
            credentials.push(CredentialParam { name: p.name.clone(), at: CredentialAt::Body, handle, required: p.required });
            false
        }
        _ => true,
    });
    // Required fields of a body that may be left out are required only when a body is sent.
    let optional_body = match op.get("requestBody") {
        Some(rb) => body_optional(spec, rb)? && params.iter().any(|p| p.at == At::Body && p.required) && !matches!(body, Body::None),
        None => false,
    };

    // A name declared in two places (a query parameter and a body field, say): the body field
    // keeps the plain key, else the query parameter; the others are `query.<name>` and
    // `header.<name>`.
    let rank = |at: At| match at {
        At::Body => 0,
        At::Query(_) | At::QueryAlias(_) => 1,
        At::Header | At::HeaderAlias => 2,
    };
    let shared: Vec<String> = {
        let mut names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        names.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0].to_owned()).collect()
    };
    for name in shared {
        let keeper = params.iter().enumerate().filter(|(_, p)| p.name == name).min_by_key(|(_, p)| rank(p.at)).map(|(i, _)| i);
        for (i, p) in params.iter_mut().enumerate() {
            if p.name != name || Some(i) == keeper {
                continue;
            }
            let (prefix, at) = match p.at {
                At::Query(style) => ("query", At::QueryAlias(style)),
                At::Header => ("header", At::HeaderAlias),
                _ => bail!("body field `{name}` is declared twice"),
            };
            p.name = format!("{prefix}.{name}");
            p.at = at;
        }
    }
    let mut names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!("parameter `{}` is declared twice, also as `query.`/`header.` of another; the params object cannot hold both", w[0]);
    }

    let auth = match security(spec, manifest, op).and_then(Value::as_array) {
        None => match manifest.auth.unspecified {
            None | Some(Unspecified::Never) => AuthUse::Never,
            Some(Unspecified::Optional) => AuthUse::Optional,
            Some(Unspecified::Required) => AuthUse::Required,
        },
        Some(reqs) if reqs.is_empty() => AuthUse::Never,
        Some(reqs) if reqs.iter().any(|r| r.as_object().is_some_and(|o| o.is_empty())) => AuthUse::Optional,
        Some(_) => AuthUse::Required,
    };

    // A credential never travels in the clear: a plain http:// server (not loopback) takes only
    // operations that send none, unless the manifest opts in.
    if auth != AuthUse::Never && server_url.starts_with("http://") && !is_loopback(&server_url) {
        if !manifest.upstream.allow_http {
            bail!("its server {server_url} is plain http, and it sends a credential, which would travel in the clear; use an https:// server, or set upstream.allow_http = true in the manifest");
        }
        let warning = format!("server {server_url} is plain http: upstream.allow_http sends credentials there in the clear");
        if !model.warnings.contains(&warning) {
            model.warnings.push(warning);
        }
    }
    let server = match model.servers.iter().position(|s| *s == server_url) {
        Some(i) => i,
        None => {
            model.servers.push(server_url);
            model.servers.len() - 1
        }
    };

    let paging = paging::detect(spec, op, &upper, path, &params)?;
    Ok(Some(Operation {
        id: id.to_owned(),
        method: upper.clone(),
        path: path.to_owned(),
        server,
        path_params,
        multi,
        params,
        body,
        optional_body,
        credentials,
        auth,
        scheme,
        returns_list: upper == "GET" && returns_list(spec, op, path)?,
        paging,
        results: answers(spec, op)?,
        error: error_schema(spec, op)?,
        summary: op.get("summary").and_then(Value::as_str).map(str::to_owned),
        deprecated: op.get("deprecated").and_then(Value::as_bool).unwrap_or(false),
    }))
}

/// The `security` an operation states, else the document's — unless the manifest's
/// `auth.unspecified` decides for operations stating none.
pub fn security<'a>(spec: &'a Spec, manifest: &Manifest, op: &'a Value) -> Option<&'a Value> {
    match (op.get("security"), manifest.auth.unspecified) {
        (Some(own), _) => Some(own),
        (None, Some(_)) => None,
        (None, None) => spec.doc.get("security"),
    }
}

/// `{name}`s of a path template, in order. A parameter may share its segment with text or other
/// parameters (`/compare/{base}...{head}`); the runtime keeps each value to its own part.
fn template_params(path: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').context("unclosed `{` in the path")? + open;
        let name = &rest[open + 1..close];
        if name.is_empty() || name.contains(['{', '/']) {
            bail!("path parameter `{name}` in {path} is not a name");
        }
        if out.iter().any(|n| n == name) {
            bail!("path parameter `{name}` appears twice in {path}");
        }
        out.push(name.to_owned());
        rest = &rest[close + 1..];
    }
    if out.len() > 8 {
        bail!("{path} has more than 8 path parameters");
    }
    Ok(out)
}

fn style(p: &Value, name: &str, id: &str) -> Result<Style> {
    let style = p.get("style").and_then(Value::as_str).unwrap_or("form");
    let explode = p.get("explode").and_then(Value::as_bool).unwrap_or(style == "form");
    Ok(match (style, explode) {
        ("form", true) => Style::Form,
        ("form", false) => Style::FormCsv,
        ("deepObject", _) => Style::DeepObject,
        ("spaceDelimited", _) => Style::SpaceDelimited,
        ("pipeDelimited", _) => Style::PipeDelimited,
        (other, _) => bail!("{id}: query parameter `{name}` has style {other:?}, which query parameters cannot have"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn header_parameters_the_runtime_or_the_manifest_owns_are_not_offered() {
        let spec = Spec::from_value(json!({
            "openapi": "3.0.0",
            "servers": [{ "url": "https://api.example.com" }],
            "paths": { "/things": { "get": {
                "operationId": "ListThings",
                "parameters": [
                    { "name": "X-Trace", "in": "header" },
                    { "name": "stripe-account", "in": "header" },
                    { "name": "Stripe-Version", "in": "header" },
                    { "name": "Cookie", "in": "header" },
                    { "name": "Authorization", "in": "header" },
                    { "name": "Transfer-Encoding", "in": "header" },
                ],
                "responses": { "200": { "description": "ok" } },
            } } },
        }))
        .unwrap();
        let mut manifest = Manifest::stand_in(std::path::Path::new("spec.json"));
        manifest.call.headers = vec!["Stripe-Account".into()];
        manifest.upstream.headers.insert("Stripe-Version".into(), "2024-04-10".into());
        let model = build(&spec, &manifest).unwrap();
        let names: Vec<&str> = model.operations[0].params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["X-Trace"]);
    }

    #[test]
    fn a_name_in_the_query_and_the_body_keeps_both_the_body_field_plain() {
        let spec = Spec::from_value(json!({
            "openapi": "3.0.0",
            "servers": [{ "url": "https://api.example.com" }],
            "paths": { "/things": { "post": {
                "operationId": "CreateThing",
                "parameters": [{ "name": "limit", "in": "query" }, { "name": "limit", "in": "header" }, { "name": "q", "in": "query" }],
                "requestBody": { "content": { "application/json": { "schema": { "type": "object", "properties": { "limit": { "type": "integer" } } } } } },
                "responses": { "200": { "description": "ok" } },
            } } },
        }))
        .unwrap();
        let model = build(&spec, &Manifest::stand_in(std::path::Path::new("spec.json"))).unwrap();
        assert!(model.skipped.is_empty(), "{:?}", model.skipped);
        let params: Vec<(&str, At)> = model.operations[0].params.iter().map(|p| (p.name.as_str(), p.at)).collect();
        assert_eq!(params, [("query.limit", At::QueryAlias(Style::Form)), ("header.limit", At::HeaderAlias), ("q", At::Query(Style::Form)), ("limit", At::Body)]);
    }

    #[test]
    fn a_document_of_webhooks_alone_generates_nothing_and_says_why() {
        let spec = Spec::from_value(json!({
            "openapi": "3.1.0",
            "webhooks": { "newPet": { "post": { "responses": { "200": { "description": "ok" } } } } },
        }))
        .unwrap();
        let model = build(&spec, &Manifest::stand_in(std::path::Path::new("spec.json"))).unwrap();
        assert!(model.operations.is_empty() && model.skipped.is_empty());
        assert_eq!(model.warnings, ["1 webhook(s) ignored: they are the provider's calls to you, not operations a capability makes"]);
        // 3.0 requires `paths`.
        assert!(Spec::from_value(json!({ "openapi": "3.0.3" })).is_err());
    }

    #[test]
    fn servers_none_means_slash_variables_come_from_the_manifest_and_http_carries_no_credential() {
        let doc = |servers: serde_json::Value, security: serde_json::Value| {
            let mut doc = json!({
                "openapi": "3.0.0",
                "paths": { "/things": { "get": { "operationId": "ListThings", "security": security, "responses": { "200": { "description": "ok" } } } } },
            });
            if !servers.is_null() {
                doc["servers"] = servers;
            }
            Spec::from_value(doc).unwrap()
        };
        let mut manifest = Manifest::stand_in(std::path::Path::new("spec.json"));
        manifest.upstream.origin = Some("https://api.example.com".into());
        let model = build(&doc(serde_json::Value::Null, json!([])), &manifest).unwrap();
        assert_eq!(model.servers, ["https://api.example.com"]);

        let regional = json!([{ "url": "https://{region}.api.example.com/{version}", "variables": {
            "region": { "default": "us", "enum": ["us", "eu"] }, "version": { "default": "v2" } } }]);
        assert_eq!(build(&doc(regional.clone(), json!([])), &manifest).unwrap().servers, ["https://us.api.example.com/v2"]);
        manifest.upstream.server_variables.insert("region".into(), "eu".into());
        assert_eq!(build(&doc(regional.clone(), json!([])), &manifest).unwrap().servers, ["https://eu.api.example.com/v2"]);
        manifest.upstream.server_variables.insert("region".into(), "mars".into());
        let model = build(&doc(regional, json!([])), &manifest).unwrap();
        assert!(model.skipped[0].1.contains("`region` = \"mars\" is not one the spec allows"), "{:?}", model.skipped);

        let plain = json!([{ "url": "http://api.example.com" }]);
        // No credential: plain http is allowed. A credential: refused, unless opted in (warned).
        assert_eq!(build(&doc(plain.clone(), json!([])), &manifest).unwrap().operations.len(), 1);
        let model = build(&doc(plain.clone(), json!([{ "key": [] }])), &manifest).unwrap();
        assert!(model.operations.is_empty() && model.skipped[0].1.contains("plain http"), "{:?}", model.skipped);
        manifest.upstream.allow_http = true;
        let model = build(&doc(plain, json!([{ "key": [] }])), &manifest).unwrap();
        assert_eq!(model.operations.len(), 1);
        assert!(model.warnings[0].contains("in the clear"), "{:?}", model.warnings);
        manifest.upstream.allow_http = false;
        let loopback = json!([{ "url": "http://127.0.0.1:8080" }]);
        assert_eq!(build(&doc(loopback, json!([{ "key": [] }])), &manifest).unwrap().operations.len(), 1);
    }

    #[test]
    fn tolerated_defects_are_warned_never_accepted_in_silence() {
        let spec = Spec::from_value(json!({
            "openapi": "3.0.0",
            "servers": [{ "url": "https://api.example.com" }],
            "paths": { "/things": { "post": {
                "operationId": "CreateThing",
                "parameters": [{ "name": "", "in": "query" }],
                "requestBody": { "content": { "application/json": { "schema": {
                    "type": "object", "required": ["a", "a"], "properties": { "a": { "type": "string" } },
                } } } },
                "responses": { "200": { "description": "ok" }, "2xx ": { "description": "odd" } },
            } } },
        }))
        .unwrap();
        let model = build(&spec, &Manifest::stand_in(std::path::Path::new("spec.json"))).unwrap();
        assert_eq!(model.operations.len(), 1, "the operation is generated");
        assert_eq!(
            model.warnings,
            [
                "CreateThing: a query parameter without a name; ignored",
                "#/paths/~1things/post/responses: `2xx ` is not a status code; ignored",
                "#/paths/~1things/post/requestBody/content/application~1json/schema: `required` lists `a` twice",
            ]
        );
    }
}
