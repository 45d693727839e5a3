//! Building the upstream request from an operation and a call's arguments.
//!
//! Everything here is decided by the table: which key goes to the query, the body or a header,
//! how it is encoded, where the request goes. A key the operation does not declare is refused
//! (`unknown_parameter`) unless the body schema itself is open: a capability does only what its
//! spec declares.
//!
//! What it makes is an [`HttpRequest`] ([`crate::http`], which writes it for `fetch`) and the
//! receipt's word for the credential it carries ([`CredentialUse`]). How each scheme's credential
//! looks on the wire is [`crate::auth`]'s; a token the scheme obtains first arrives ready in
//! [`Config::token`] ([`crate::token`]); the origin a loopback override brings is vetted before
//! it gets here ([`crate::origin`]).

use crate::args::Args;
use crate::auth::{Place, WorkerSecrets};
use crate::body::RequestBody;
use crate::encode::{fill_path, path_value, Pairs};
use crate::error::CallError;
use crate::http::{HeaderValue, HttpRequest};
use crate::origin::server_path;
use crate::receipt::CredentialUse;
use crate::secret::Secret;
use crate::table::{At, AuthScheme, AuthUse, Body, Method, Operation, Provider, Style};
use crate::value::Value;
use std::borrow::Cow;
use std::rc::Rc;

/// The Worker's configuration, as far as a call reads it.
pub struct Config<'a> {
    /// The deployment's credentials, every scheme's.
    pub secrets: Rc<WorkerSecrets>,
    /// A loopback origin replacing the spec's servers (dev and tests), already vetted by
    /// [`crate::origin::loopback_origin`].
    pub origin_override: Option<String>,
    /// The values of [`Provider::bound_headers`] the Worker has set: `(header, value)`.
    pub bound_headers: Vec<(&'static str, &'a str)>,
    /// The credential handles bound to Secrets Store secrets ([`crate::store`]).
    pub store_backed: Vec<&'static str>,
    /// The access token to send, for an operation whose scheme exchanges the deployment's
    /// credentials for one (the call found it cached: [`crate::token::Need::Ready`]).
    pub token: Option<Rc<Secret>>,
    /// The idempotency key a POST or PATCH carries in [`crate::table::Upstream::idempotency_header`]
    /// ([`crate::retry`]).
    pub idempotency_key: Option<String>,
}


/// Builds the request for `op`.
#[inline(never)]
pub fn build(provider: &'static Provider, op: &'static Operation, args: Args, config: Config<'_>) -> Result<(HttpRequest, CredentialUse), CallError> {
    // Path first: nothing else matters if an argument would leave its segment.
    let path_values = args
        .path
        .iter()
        .zip(op.path_params)
        .map(|(v, name)| path_value(name, v))
        .collect::<Result<Vec<Cow<'_, str>>, _>>()?;

    // Required parameters are checked against the params object before it is taken apart (and
    // reported after the checks of its entries): no bookkeeping per entry, nothing allocated
    // unless one is missing.
    let given = |name: &str| match &args.params {
        Some(Value::Object(entries)) => entries.iter().any(|(k, v)| k == name && *v != Value::Null),
        _ => false,
    };
    let missing: Vec<String> = op
        .params
        .iter()
        .filter(|p| p.required && !given(p.name))
        .map(|p| format!("`{}`", p.name))
        .collect();

    let mut query = Pairs::new();
    // Header parameters are rare: nothing allocated unless one is given.
    let mut headers: Vec<(&'static str, HeaderValue)> = Vec::new();
    let mut body_fields: Vec<(String, Value)> = Vec::new();
    let mut whole_body: Option<Value> = None;

    match (op.body, args.params) {
        (_, None) => {}
        (Body::JsonValue | Body::Text(_) | Body::Binary(_), Some(params)) if op.params.is_empty() => whole_body = Some(params),
        (_, Some(Value::Object(entries))) => {
            let mut placed = Placed { query: &mut query, headers: &mut headers, body: &mut body_fields, whole: &mut whole_body };
            // A key naming a credential parameter is the capability's, even where an open body
            // would take any key.
            #[cfg(capa_creds)]
            crate::creds::refuse_named(provider, op, &entries)?;
            place(op, entries, &mut placed, args.binaries)?
        }
        (_, Some(other)) => {
            return Err(CallError::invalid(format!(
                "{}: params must be an object of parameter names to values, not {}",
                op.call,
                other.kind()
            )))
        }
    }

    if !missing.is_empty() {
        missing_parameters(provider, op, missing, body_fields.is_empty() && whole_body.is_none())?;
    }
    if args.binaries && !matches!(op.body, Body::Binary(_)) && whole_body.as_ref().is_some_and(Value::holds_binary) {
        return Err(crate::body::misplaced(op, "body"));
    }

    // A user name comes with its password: never the deployment's password for the call's user.
    if args.options.username.is_some() && args.options.api_key.is_none() {
        return Err(CallError::invalid("options.auth.username comes with its password: give username and password together, or neither"));
    }
    // Credential: the call's key, else the deployment's, in the scheme the operation uses.
    let scheme = provider.scheme(op);
    let call_key = args.options.api_key.is_some();
    if !scheme.headers.is_empty() && op.auth != AuthUse::Never {
        crate::auth::together(scheme, call_key, |h| args.options.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(h)))?;
    }
    let deployment = config.secrets.scheme(op.scheme);
    let (credential, used) = match (op.auth, args.options.api_key, deployment) {
        (AuthUse::Never, _, _) => (None, CredentialUse::None),
        (_, Some(key), _) => (Some(HeaderValue::Secret(crate::auth::call_credential(scheme, key, args.options.username)?)), CredentialUse::Call),
        (_, None, Some(secret)) => match secret.refusal(provider, scheme) {
            None => match (scheme.auth, config.token) {
                (AuthScheme::ClientCredentials(_) | AuthScheme::ServiceAccount(_) | AuthScheme::Session(_), Some(token)) => {
                    (Some(HeaderValue::Token(token)), CredentialUse::Secret)
                }
                (AuthScheme::ClientCredentials(_) | AuthScheme::ServiceAccount(_) | AuthScheme::Session(_), None) => {
                    return Err(CallError::Internal("no access token was obtained for the call"))
                }
                _ => (Some(HeaderValue::WorkerKey(Rc::clone(&config.secrets), op.scheme)), CredentialUse::Secret),
            },
            // A pair's user name (a credential header) missing from the store says so.
            Some(CallError::MissingCredential { capability, secret }) if config.store_backed.contains(&secret) => {
                return Err(CallError::MissingStoreSecret { capability, binding: secret })
            }
            Some(refusal) => return Err(refusal),
        },
        (AuthUse::Optional, None, None) => (None, CredentialUse::None),
        (AuthUse::Required, None, None) if config.store_backed.contains(&scheme.secret) => {
            return Err(CallError::MissingStoreSecret { capability: provider.capability, binding: scheme.secret })
        }
        (AuthUse::Required, None, None) => {
            return Err(CallError::MissingCredential { capability: provider.capability, secret: scheme.secret })
        }
    };

    let mut request_headers: Vec<(&'static str, HeaderValue)> = Vec::with_capacity(headers.len() + 8);
    if !provider.static_headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("accept")) {
        request_headers.push(("accept", HeaderValue::Static("application/json")));
    }
    for (name, value) in provider.static_headers {
        request_headers.push((name, HeaderValue::Static(value)));
    }
    if let (Some(name), Some(key)) = (provider.upstream.idempotency_header, config.idempotency_key) {
        request_headers.push((name, HeaderValue::Plain(key)));
    }
    // A bound header's deployment value, unless the call brings its own.
    for &(name, value) in &config.bound_headers {
        if !args.options.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            bound_header(provider, name, value, &mut request_headers)?;
        }
    }
    let mut query_credentials = Vec::new();
    if let Some(value) = credential {
        match crate::auth::place(scheme) {
            Place::Header(name) => request_headers.push((name, value)),
            Place::Query(name) => query_credentials.push((name, value)),
        }
        if used == CredentialUse::Secret {
            for (i, &(name, _)) in scheme.headers.iter().enumerate() {
                request_headers.push((name, HeaderValue::WorkerHeader(Rc::clone(&config.secrets), op.scheme, i)));
            }
        }
    }

    // Credentials the spec declares as parameters, each where this operation declares it.
    // (Only builds whose table has them carry the code: `capa_creds`.)
    #[cfg(capa_creds)]
    let body_credential = (!provider.credential_params.is_empty() || !args.options.params.is_empty())
        && crate::creds::fill(provider, op, &config.secrets, used, &args.options.params, crate::creds::Places { query: &mut query_credentials, headers: &mut request_headers, body: &mut body_fields })?;
    // (Without them, options.auth.params was refused as it was read: src/args.rs.)
    #[cfg(not(capa_creds))]
    let body_credential = false;

    // Form bodies of reads go to the query, as stripe-node sends them: fetch refuses a GET body.
    let form_in_query = matches!(op.method, Method::Get | Method::Head | Method::Delete);
    let body = match op.body {
        Body::None => None,
        Body::Form { styles, .. } if form_in_query => {
            query.push_form(&body_fields, &styles, op.params, provider.credential_params)?;
            None
        }
        Body::Form { styles, .. } => {
            let mut form = Pairs::new();
            form.push_form(&body_fields, &styles, op.params, provider.credential_params)?;
            request_headers.push(("content-type", HeaderValue::Static("application/x-www-form-urlencoded")));
            Some(RequestBody::Text(form.into_string()))
        }
        Body::Json { .. } if body_fields.is_empty() => None,
        Body::Json { .. } => {
            request_headers.push(("content-type", HeaderValue::Static("application/json")));
            Some(RequestBody::Text(json_text(&Value::Object(body_fields))))
        }
        Body::JsonValue => whole_body.map(|v| {
            request_headers.push(("content-type", HeaderValue::Static("application/json")));
            RequestBody::Text(json_text(&v))
        }),
        Body::Text(media_type) => match whole_body {
            None => None,
            Some(Value::String(text)) => {
                request_headers.push(("content-type", HeaderValue::Static(media_type)));
                Some(RequestBody::Text(text))
            }
            Some(other) => {
                return Err(CallError::invalid(format!("{}: the body is {media_type} text, a string; got {}", op.call, other.kind())))
            }
        },
        // No Content-Type: the entry's FormData writes it, with its boundary.
        Body::Multipart { .. } if body_fields.is_empty() => None,
        Body::Multipart { deep, .. } => Some(crate::body::multipart(op, body_fields, deep, &[])?),
        #[cfg(capa_typed_parts)]
        Body::TypedMultipart { .. } if body_fields.is_empty() => None,
        #[cfg(capa_typed_parts)]
        Body::TypedMultipart { deep, types, .. } => Some(crate::body::multipart(op, body_fields, deep, types)?),
        Body::Binary(media) => match whole_body {
            None => None,
            Some(value) => {
                let (body, media_type) = crate::body::binary(op, media, value)?;
                request_headers.push(("content-type", HeaderValue::Plain(media_type)));
                Some(body)
            }
        },
    };

    // A body holding a credential parameter is a secret of its own (never printed).
    let body = match body {
        Some(RequestBody::Text(text)) if body_credential => Some(RequestBody::Secret(Secret::new(text))),
        other => other,
    };

    for (name, value) in args.options.headers {
        // A scheme's credential header travels only with a credential.
        if used == CredentialUse::None && scheme.headers.iter().any(|(h, _)| *h == name) {
            continue;
        }
        request_headers.push((name, HeaderValue::Secret(value)));
    }
    request_headers.extend(headers);

    let server = provider.servers.get(usize::from(op.server)).copied().unwrap_or_default();
    let query = query.into_string();
    let mut url = String::with_capacity(server.len() + op.path.len() + 64 + query.len());
    match &config.origin_override {
        Some(origin) => {
            url.push_str(origin);
            url.push_str(server_path(server));
        }
        None => url.push_str(server),
    }
    fill_path(&mut url, op.path, op.path_params, &path_values, op.multi)?;
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }

    // The query credentials count, percent-encoded, though they are added only on the way out.
    let credential_len: usize = query_credentials.iter().map(|(name, value): &(&str, HeaderValue)| name.len() + value.wire_len() * 3 + 2).sum();
    if url.len() + credential_len > MAX_URL {
        return Err(too_long(op, url.len() + credential_len));
    }
    Ok((HttpRequest { method: op.method, url, headers: request_headers, body, query_credentials }, used))
}

/// Where the params object's entries went.
struct Placed<'a> {
    query: &'a mut Pairs,
    headers: &'a mut Vec<(&'static str, HeaderValue)>,
    body: &'a mut Vec<(String, Value)>,
    whole: &'a mut Option<Value>,
}

/// Sorts the params object's entries into query, headers and body.
///
/// `binaries`: the values may hold binary data, which only a multipart body's fields and a
/// binary body may carry (the multipart encoder refuses it deeper than a field).
fn place(op: &'static Operation, entries: Vec<(String, Value)>, out: &mut Placed<'_>, binaries: bool) -> Result<(), CallError> {
    let open = op.body.open();
    let mut unknown = Vec::new();
    for (key, value) in entries {
        let param = op.params.iter().find(|p| p.name == key);
        if binaries && value.holds_binary() {
            let carried = match param.map(|p| p.at) {
                Some(At::Body) | None => matches!(op.body, Body::Multipart { .. } | Body::Binary(_)) || crate::body::typed(op).is_some(),
                Some(_) => false,
            };
            if !carried && (param.is_some() || open) {
                return Err(crate::body::misplaced(op, &key));
            }
        }
        let Some(param) = param else {
            if open && !op.path_params.contains(&key.as_str()) {
                out.body.push((key, value));
            } else {
                unknown.push(key);
            }
            continue;
        };
        match param.at {
            At::Query(Style::Form) | At::QueryAlias(Style::Form) if matches!(value, Value::Object(_)) => return Err(exploded_object(op, param.name)),
            At::Query(style) => out.query.push_query(param.name, style, &value),
            At::QueryAlias(style) => out.query.push_query(param.wire_name(), style, &value),
            At::Header => header_param(param.name, &key, value, out.headers)?,
            At::HeaderAlias => header_param(param.wire_name(), &key, value, out.headers)?,
            At::Body if matches!(op.body, Body::JsonValue | Body::Text(_) | Body::Binary(_)) => *out.whole = Some(value),
            At::Body => out.body.push((key, value)),
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    let positional = unknown.iter().any(|k| op.path_params.contains(&k.as_str()));
    Err(CallError::UnknownParameter {
        call: op.call,
        names: unknown.into_iter().map(|k| crate::args::printable(&k)).collect(),
        hint: if positional { " (path parameters are positional arguments)" } else { "" },
    })
}

/// Required parameters a call left out: `invalid_argument` naming them, but for the required
/// fields of a body the operation may leave out ([`Provider::optional_bodies`]) when the call
/// sends none (`no_body`). Only a call missing something comes here.
#[cold]
#[inline(never)]
fn missing_parameters(provider: &Provider, op: &'static Operation, mut missing: Vec<String>, no_body: bool) -> Result<(), CallError> {
    let index = provider.operations.iter().position(|o| std::ptr::eq(o, op));
    if no_body && index.is_some_and(|i| provider.optional_bodies.binary_search(&(i as u16)).is_ok()) {
        missing.retain(|m| !op.params.iter().any(|p| p.at == At::Body && m.trim_matches('`') == p.name));
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(CallError::invalid(format!("{} requires parameter(s) {}", op.call, missing.join(", "))))
}

/// A header whose deployment value comes from a binding, checked like any header value.
#[inline(never)]
fn bound_header(provider: &Provider, name: &'static str, value: &str, headers: &mut Vec<(&'static str, HeaderValue)>) -> Result<(), CallError> {
    if let Some(fault) = crate::header::value_fault(value) {
        let binding = provider.bound_headers.iter().find(|(h, _)| *h == name).map_or("", |(_, b)| b);
        return Err(CallError::UnsendableBinding { capability: provider.capability, binding, header: name, fault });
    }
    headers.push((name, HeaderValue::Plain(value.to_owned())));
    Ok(())
}

/// The longest upstream URL a call may make: 16 KiB, what Cloudflare accepts (its fetch fails on
/// longer ones with an opaque internal error, which would read as `upstream_unreachable`).
pub const MAX_URL: usize = 16 * 1024;

#[cold]
#[inline(never)]
fn too_long(op: &Operation, len: usize) -> CallError {
    CallError::invalid(format!(
        "{}: the request URL would be {len} bytes, over the 16 KiB Cloudflare allows; a path or query value is too long",
        op.call
    ))
}

/// An object for an exploded `form` query parameter: OpenAPI spreads its keys into query
/// parameters of their own (`?R=100&G=200`), which would let a caller send any query parameter,
/// declared or not, under the cover of one. Refused.
#[cold]
#[inline(never)]
fn exploded_object(op: &Operation, name: &str) -> CallError {
    CallError::invalid(format!(
        "{}: `{name}` takes a scalar or an array; an object's keys would become query parameters of their own",
        op.call
    ))
}

/// A JSON request body, out of line: only calls that send one compile serde_json's serializer.
#[inline(never)]
fn json_text(value: &Value) -> String {
    value.to_json()
}

/// A header parameter's value: a scalar that can travel in a header (see [`crate::header`]);
/// `null` sends none.
#[inline(never)]
fn header_param(name: &'static str, key: &str, value: Value, headers: &mut Vec<(&'static str, HeaderValue)>) -> Result<(), CallError> {
    match value {
        Value::Null => Ok(()),
        v if v.is_scalar() => {
            let text = v.scalar_text().unwrap_or_default().into_owned();
            if let Some(fault) = crate::header::value_fault(&text) {
                return Err(CallError::invalid(format!("header parameter `{key}` {fault}")));
            }
            headers.push((name, HeaderValue::Plain(text)));
            Ok(())
        }
        other => Err(CallError::invalid(format!("header parameter `{key}` must be a scalar, not {}", other.kind()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{Param, Scheme};

    static OP: Operation = Operation {
        id: "PostThings",
        call: "things.create",
        method: Method::Post,
        path: "/things",
        server: 0,
        path_params: &[],
        multi: 0,
        params: &[
            Param { name: "limit", at: At::Body, required: false },
            Param { name: "query.limit", at: At::QueryAlias(Style::Form), required: false },
            Param { name: "header.limit", at: At::HeaderAlias, required: false },
        ],
        body: Body::Json { open: false },
        auth: AuthUse::Never,
        scheme: 0,
        classes: 1,
    };
    static PROVIDER: Provider = Provider {
        capability: "things",
        schemes: &[Scheme { secret: "THINGS_KEY", auth: AuthScheme::Bearer, headers: &[] }],
        call_headers: &[],
        secret_call_headers: &[],
        static_headers: &[],
        bound_headers: &[],
        request_id_header: None,
        error_object: None,
        servers: &["https://api.example.com"],
        classes: &["read", "write", "destructive"],
        upstream: crate::table::Upstream::DEFAULT,
        operations: &[],
        paging: &[],
        optional_bodies: &[],
        credential_params: &[],
    };

    #[test]
    fn a_name_in_two_places_is_addressed_by_where_it_goes() {
        let values = crate::args::parse(r#"[{"limit":5,"query.limit":10,"header.limit":"3"}]"#).unwrap();
        let args = crate::args::split(&OP, &[], values).unwrap();
        let config = Config { secrets: Rc::new(WorkerSecrets::new(&PROVIDER, |_| None)), origin_override: None, bound_headers: Vec::new(), store_backed: Vec::new(), token: None, idempotency_key: None };
        let (req, _) = build(&PROVIDER, &OP, args, config).unwrap();
        assert_eq!(req.url, "https://api.example.com/things?limit=10");
        assert_eq!(req.body.as_ref().and_then(RequestBody::as_text), Some(r#"{"limit":5}"#));
        assert_eq!(req.header("limit"), Some("3"));
    }
}
