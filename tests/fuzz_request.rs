//! Fuzz target: the request builder, and the call around it. Random operations (of the Stripe
//! table and of synthetic providers covering every query style, header parameters, every body
//! kind, every auth scheme and use), random arguments (hostile path values, random params and
//! keys, random per-call keys and headers, values of any JSON type), random Worker
//! configuration; then a random upstream answer echoing the call's credentials in random forms.
//!
//! Must hold, for every input: no panic; a refusal is a typed envelope with no upstream attempt;
//! a request goes to the table's origin (or the loopback override), its path is the template with
//! each value inside its own segment, every query and form key belongs to a declared parameter
//! (`name` or `name[...]`), every header is one the table allows with a value a header can carry,
//! the credential is the one the call chose; and no envelope — complete, or a body the entry
//! attaches as it came — holds a credential in any decoding.
//!
//! `CAPA_FUZZ_SECONDS=600 cargo test --release --test fuzz_request` runs it for ten minutes
//! (`npm run fuzz`); `npm test` runs a short round.

#[path = "security/corpus.rs"]
mod corpus;
#[path = "security/echo.rs"]
mod echo;
#[path = "security/fuzz.rs"]
mod fuzz;

use capa_rs::call::{begin, Bindings, Call, Step, ORIGIN_OVERRIDE_VAR};
use capa_rs::receipt::Envelope;
use capa_rs::http::HttpResponse;
use capa_rs::table::{At, AuthScheme, AuthUse, Body, FieldStyles, Method, Operation, Param, Provider, Scheme, Style};
use echo::{contains, decodings, form, render, Form};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------------------------
// Synthetic providers: every query style, header parameters, every body kind and auth use.

const fn p(name: &'static str, at: At, required: bool) -> Param {
    Param { name, at, required }
}

static OPS: [Operation; 10] = [
    Operation {
        id: "ListThings",
        call: "things.list",
        method: Method::Get,
        path: "/v1/things",
        server: 0,
        path_params: &[],
        multi: 0,
        params: &[
            p("form", At::Query(Style::Form), false),
            p("csv", At::Query(Style::FormCsv), false),
            p("deep", At::Query(Style::DeepObject), false),
            p("space", At::Query(Style::SpaceDelimited), false),
            p("pipe", At::Query(Style::PipeDelimited), false),
            p("X-Trace", At::Header, false),
        ],
        body: Body::None,
        auth: AuthUse::Required,
        scheme: 0,
        classes: 1,
    },
    Operation {
        id: "CreatePart",
        call: "things.parts.create",
        method: Method::Post,
        path: "/v1/things/{thing}/parts/{part}",
        server: 0,
        path_params: &["thing", "part"],
        multi: 0,
        params: &[p("expand", At::Query(Style::DeepObject), false), p("name", At::Body, true), p("meta", At::Body, false), p("items", At::Body, false)],
        body: Body::Form { open: false, styles: FieldStyles { default: Style::DeepObject, fields: &[] } },
        auth: AuthUse::Required,
        scheme: 0,
        classes: 1,
    },
    Operation {
        id: "PutThing",
        call: "things.update",
        method: Method::Put,
        path: "/v1/things/{id}",
        server: 1,
        path_params: &["id"],
        multi: 0,
        params: &[p("title", At::Body, false), p("If-Match", At::Header, false)],
        body: Body::Json { open: true },
        auth: AuthUse::Required,
        scheme: 0,
        classes: 1,
    },
    Operation {
        id: "PostDoc",
        call: "docs.create",
        method: Method::Post,
        path: "/v1/docs/{id}",
        server: 0,
        path_params: &["id"],
        multi: 0,
        params: &[],
        body: Body::JsonValue,
        auth: AuthUse::Optional,
        scheme: 0,
        classes: 1,
    },
    Operation {
        id: "PostText",
        call: "text.create",
        method: Method::Post,
        path: "/v1/text",
        server: 0,
        path_params: &[],
        multi: 0,
        params: &[p("lang", At::Query(Style::Form), false), p("body", At::Body, true)],
        body: Body::Text("text/plain"),
        auth: AuthUse::Required,
        scheme: 0,
        classes: 1,
    },
    Operation {
        id: "Public",
        call: "public.retrieve",
        method: Method::Get,
        path: "/v1/public",
        server: 0,
        path_params: &[],
        multi: 0,
        params: &[p("q", At::Query(Style::Form), false)],
        body: Body::None,
        auth: AuthUse::Never,
        scheme: 0,
        classes: 1,
    },
    Operation {
        id: "DeleteThing",
        call: "things.del",
        method: Method::Delete,
        path: "/v1/things/{id}",
        server: 0,
        path_params: &["id"],
        multi: 0,
        params: &[p("expand", At::Body, false)],
        body: Body::Form { open: true, styles: FieldStyles { default: Style::DeepObject, fields: &[] } },
        auth: AuthUse::Required,
        scheme: 0,
        classes: 1,
    },
    Operation {
        id: "Compare",
        call: "things.compare",
        method: Method::Get,
        path: "/v1/things/{base}...{head}.json",
        server: 0,
        path_params: &["base", "head"],
        multi: 0,
        params: &[],
        body: Body::None,
        auth: AuthUse::Required,
        scheme: 0,
        classes: 1,
    },
    Operation {
        id: "GetContent",
        call: "things.content",
        method: Method::Get,
        path: "/v1/things/{id}/contents/{path}",
        server: 0,
        path_params: &["id", "path"],
        multi: 0b10,
        params: &[p("ref", At::Query(Style::Form), false)],
        body: Body::None,
        auth: AuthUse::Optional,
        scheme: 0,
        classes: 1,
    },
    Operation {
        id: "PatchOpen",
        call: "things.patch",
        method: Method::Patch,
        path: "/v1/things/{id}/{sub}",
        server: 1,
        path_params: &["id", "sub"],
        multi: 0,
        params: &[],
        body: Body::Form { open: true, styles: FieldStyles { default: Style::DeepObject, fields: &[] } },
        auth: AuthUse::Optional,
        scheme: 0,
        classes: 1,
    },
];

macro_rules! synthetic {
    ($name:ident, $auth:expr) => {
        static $name: Provider = Provider {
            capability: "fuzz",
            schemes: &[Scheme { secret: "FUZZ_KEY", auth: $auth, headers: &[] }],
            call_headers: &["X-Account", "X-Tenant-Secret", "X-Client"],
            secret_call_headers: &["X-Tenant-Secret"],
            static_headers: &[("X-Version", "1")],
            bound_headers: &[("X-Client", "FUZZ_CLIENT")],
            request_id_header: Some("Request-Id"),
            error_object: Some("error"),
            servers: &["https://api.example.com/base", "https://uploads.example.com"],
            classes: &["read", "write", "destructive"],
            upstream: capa_rs::table::Upstream::DEFAULT,
            operations: &OPS,
            paging: &[],
            optional_bodies: &[],
            credential_params: &[],
        };
    };
}
synthetic!(BEARER, AuthScheme::Bearer);
synthetic!(BASIC, AuthScheme::Basic);
synthetic!(HEADER, AuthScheme::Header("X-Api-Key"));
synthetic!(QUERY, AuthScheme::Query("private_token"));
synthetic!(COOKIE, AuthScheme::Cookie("session"));

fn providers() -> [&'static Provider; 6] {
    [&capa_rs::provider::PROVIDER, &BEARER, &BASIC, &HEADER, &QUERY, &COOKIE]
}

// ---------------------------------------------------------------------------------------------
// Inputs.

fn corpus() -> &'static corpus::Corpus {
    static CORPUS: OnceLock<corpus::Corpus> = OnceLock::new();
    CORPUS.get_or_init(corpus::load)
}

fn pick(list: fn(&'static corpus::Corpus) -> &'static Vec<String>) -> BoxedStrategy<String> {
    let list = list(corpus());
    (0..list.len()).prop_map(move |i| list[i].clone()).boxed()
}

fn text() -> BoxedStrategy<String> {
    prop_oneof![3 => "[a-z0-9_ .-]{0,12}", 1 => "[ -~]{0,16}", 1 => "\\PC{0,8}", 1 => pick(|c| &c.query_values), 1 => pick(|c| &c.paths)].boxed()
}

fn key() -> BoxedStrategy<String> {
    prop_oneof![3 => "[a-z_]{1,8}", 1 => pick(|c| &c.query_keys), 1 => "\\PC{0,6}"].boxed()
}

fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..4).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A credential canary: the marker, then characters of every kind a header value may hold
/// (and now and then one it may not, which must be refused).
fn canary(prefix: &'static str) -> BoxedStrategy<String> {
    let alphabet = corpus().call_key_alphabet.clone();
    (prop::collection::vec(0..alphabet.len(), 1..24), prop::option::weighted(0.05, pick(|c| &c.header_values_refused)))
        .prop_map(move |(chars, bad)| {
            let mut s: String = format!("{prefix}{}x", chars.iter().map(|&i| alphabet[i]).collect::<String>());
            if let Some(bad) = bad {
                s.push_str(&bad);
            }
            s
        })
        .boxed()
}

fn header_name(provider: &'static Provider) -> BoxedStrategy<String> {
    let allowed: Vec<&'static str> = provider.call_headers.to_vec();
    prop_oneof![
        4 => (0..allowed.len().max(1), any::<bool>()).prop_map(move |(i, lower)| {
            let name = allowed.get(i).copied().unwrap_or("X-None");
            if lower { name.to_ascii_lowercase() } else { name.to_owned() }
        }),
        1 => pick(|c| &c.header_names_refused),
        1 => "[A-Za-z-]{0,12}",
    ]
    .boxed()
}

fn options(provider: &'static Provider) -> BoxedStrategy<Option<Value>> {
    let value = prop_oneof![
        4 => canary("acct_CONTEXT").prop_map(Value::String),
        2 => canary("shv_CANARY").prop_map(Value::String),
        1 => json_value(),
    ];
    // A secret header's value is a credential canary; any other's a context one (the upstream may
    // echo those into results, by design).
    let headers = prop::collection::vec((header_name(provider), value), 0..3).prop_map(move |kv| {
        let kv = kv.into_iter().map(|(name, value)| {
            let secret = provider.secret_call_headers.iter().any(|h| h.eq_ignore_ascii_case(&name));
            let value = match value {
                Value::String(s) if s.starts_with("shv_CANARY") || s.starts_with("acct_CONTEXT") => {
                    let tail = s.trim_start_matches("shv_CANARY").trim_start_matches("acct_CONTEXT");
                    Value::String(format!("{}{tail}", if secret { "shv_CANARY" } else { "acct_CONTEXT" }))
                }
                other => other,
            };
            (name, value)
        });
        Value::Object(kv.collect())
    });
    let api_key = prop_oneof![8 => canary("sk_test_CANARY").prop_map(Value::String), 1 => json_value()];
    prop::option::weighted(0.6, (prop::option::of(api_key), prop::option::of(headers)))
        .prop_map(|o| {
            o.map(|(key, headers)| {
                let mut auth = serde_json::Map::new();
                if let Some(k) = key {
                    auth.insert("apiKey".into(), k);
                }
                if let Some(h) = headers {
                    auth.insert("headers".into(), h);
                }
                json!({ "auth": auth })
            })
        })
        .boxed()
}

fn params(op: &'static Operation) -> BoxedStrategy<Option<Value>> {
    let declared: Vec<&'static str> = op.params.iter().map(|p| p.name).collect();
    let whole = matches!(op.body, Body::JsonValue | Body::Text(_) | Body::Binary(_)) && op.params.is_empty();
    if whole {
        return prop::option::weighted(0.9, prop_oneof![text().prop_map(Value::String), json_value()]).boxed();
    }
    let entries = prop::collection::vec(
        (
            prop_oneof![8 => (0..declared.len().max(1)).prop_map(move |i| declared.get(i).copied().unwrap_or("x").to_owned()), 1 => key()],
            json_value(),
        ),
        0..6,
    );
    prop::option::weighted(0.85, prop_oneof![9 => entries.prop_map(|kv| Value::Object(kv.into_iter().collect())), 1 => json_value()]).boxed()
}

fn path_value() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => "[a-z0-9_]{1,12}".prop_map(Value::String),
        3 => pick(|c| &c.paths).prop_map(Value::String),
        1 => any::<i32>().prop_map(Value::from),
        1 => json_value(),
    ]
    .boxed()
}

/// What the upstream answers, and in which forms it echoes the call's credentials.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    json: bool,
    forms: Vec<Form>,
    location: Option<String>,
    request_id: bool,
    /// A 2xx the entry read as bytes (its media type not text).
    binary: bool,
}

fn answer() -> impl Strategy<Value = Answer> {
    (
        prop::sample::select(vec![200u16, 200, 201, 204, 302, 303, 307, 400, 401, 402, 404, 500, 503]),
        any::<bool>(),
        prop::collection::vec(form(64), 0..4),
        prop::option::of(prop::sample::select(vec!["/moved", "https://evil.example/x", "//evil.example/x", "/moved?k=KEY"])),
        any::<bool>(),
        prop::sample::select(vec![false, false, false, true]),
    )
        .prop_map(|(status, json, forms, location, request_id, binary)| Answer {
            status,
            json: json && !binary,
            forms,
            location: location.map(str::to_owned),
            request_id,
            binary: binary && (200..300).contains(&status),
        })
}

#[derive(Debug, Clone)]
struct Input {
    provider: usize,
    op: usize,
    args: Value,
    secret: Option<String>,
    /// The deployment's value of the bound header `X-Client` (synthetic providers).
    client: Option<String>,
    loopback: bool,
    answer: Answer,
}

fn input() -> impl Strategy<Value = Input> {
    (0..providers().len())
        .prop_flat_map(|pi| (Just(pi), 0..providers()[pi].operations.len()))
        .prop_flat_map(|(pi, oi)| {
            let provider = providers()[pi];
            let op = &provider.operations[oi];
            let n = op.path_params.len();
            let path = prop::collection::vec(path_value(), if n == 0 { 0..1 } else { n - 1..n + 2 });
            (
                Just(pi),
                Just(oi),
                path,
                params(op),
                options(provider),
                (prop::option::weighted(0.85, canary("sk_test_CANARYsecret")), prop::option::of(canary("acct_CONTEXTclient"))),
                any::<bool>(),
                answer(),
                0..4u8,
            )
        })
        .prop_map(|(provider, op, path, params, options, (secret, client), loopback, answer, shape)| {
            let mut args: Vec<Value> = path;
            match (params, options, shape) {
                (p, Some(o), 0) => {
                    args.push(p.unwrap_or(Value::Null));
                    args.push(o);
                }
                (None, Some(o), _) => args.push(o),
                (Some(p), Some(o), _) => {
                    args.push(p);
                    args.push(o);
                }
                (Some(p), None, _) => args.push(p),
                (None, None, _) => {}
            }
            if shape == 3 && args.len().is_multiple_of(5) {
                args.push(json!("one too many"));
            }
            Input { provider, op, args: Value::Array(args), secret, client, loopback, answer }
        })
}

// ---------------------------------------------------------------------------------------------
// Checks.

struct Env(HashMap<&'static str, String>);

impl Bindings for Env {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}


/// No credential marker in any decoding of any string of `text`.
fn clean(what: &str, text: &str) -> Result<(), TestCaseError> {
    for decoded in decodings(text) {
        prop_assert!(!contains(&decoded, corpus::CREDENTIAL_MARKER.as_bytes()), "{what} holds a credential: {text}");
    }
    Ok(())
}

fn strings_of(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings_of(i, out)),
        Value::Object(o) => o.iter().for_each(|(k, v)| {
            out.push(k.clone());
            strings_of(v, out)
        }),
        _ => {}
    }
}

fn check_envelope(text: &str, refused: bool) -> Result<Value, TestCaseError> {
    let v: Value = serde_json::from_str(text).map_err(|e| TestCaseError::fail(format!("envelope is not JSON ({e}): {text}")))?;
    let mut all = Vec::new();
    strings_of(&v, &mut all);
    for s in &all {
        clean("an envelope", s)?;
    }
    if v["ok"] == false {
        let code = v["error"]["code"].as_str().unwrap_or("");
        prop_assert!(capa_rs::error::Code::ALL.iter().any(|c| c.as_str() == code), "unknown code in {text}");
    }
    if refused {
        prop_assert_eq!(&v["ok"], &Value::Bool(false));
        prop_assert_eq!(&v["receipt"]["attempts"], &json!(0));
        prop_assert_eq!(&v["receipt"]["status"], &Value::Null);
        let mut receipt = Vec::new();
        strings_of(&v["receipt"], &mut receipt);
        strings_of(&v["error"], &mut receipt);
        for s in receipt {
            prop_assert!(!s.contains("CONTEXT"), "a refusal names a context value: {text}");
        }
    }
    Ok(v)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Every `key=value` of a query or form body keeps its key under a declared name.
fn check_pairs(what: &str, text: &str, allowed: &dyn Fn(&str) -> bool) -> Result<(), TestCaseError> {
    if text.is_empty() {
        return Ok(());
    }
    for pair in text.split('&') {
        let (key, value) = pair.split_once('=').ok_or_else(|| TestCaseError::fail(format!("{what}: `{pair}` has no `=`")))?;
        prop_assert!(!value.contains('=') && !value.contains('[') && !value.contains(']'), "{what}: a value holds structure: {pair}");
        // `base` then `[...]` groups with nothing but encoded text inside.
        let base_end = key.find('[').unwrap_or(key.len());
        let mut rest = &key[base_end..];
        while !rest.is_empty() {
            prop_assert!(rest.starts_with('['), "{what}: key {key} is not name[...]...");
            let close = rest.find(']').ok_or_else(|| TestCaseError::fail(format!("{what}: unclosed bracket in {key}")))?;
            prop_assert!(!rest[1..close].contains('['), "{what}: nested bracket in {key}");
            rest = &rest[close + 1..];
        }
        let base = percent_decode(&key[..base_end]).ok_or_else(|| TestCaseError::fail(format!("{what}: key {key} does not decode")))?;
        prop_assert!(allowed(&base), "{what}: key {key} ({base:?}) is no declared parameter");
        prop_assert!(percent_decode(value).is_some() || value.contains('|') || value.contains(','), "{what}: value of {key} does not decode");
    }
    Ok(())
}

fn expected_auth(provider: &Provider, key: &str) -> String {
    match provider.schemes[0].auth {
        AuthScheme::Bearer => format!("Bearer {key}"),
        AuthScheme::Basic => format!("Basic {}", capa_rs::forms::base64(format!("{key}:").as_bytes())),
        AuthScheme::Header(_) | AuthScheme::Query(_) => key.to_owned(),
        AuthScheme::Cookie(name) => format!("{name}={key}"),
        AuthScheme::BasicPair { .. } | AuthScheme::ClientCredentials(_) | AuthScheme::ServiceAccount(_) | AuthScheme::Session(_) => {
            unreachable!("no synthetic provider has a basic pair or a token scheme")
        }
    }
}

fn check_request(provider: &'static Provider, op: &'static Operation, input: &Input, call: &Call) -> Result<(), TestCaseError> {
    let req = call.request();
    let server = provider.servers[usize::from(op.server)];
    let base = if input.loopback {
        let after = server.find("://").map_or(0, |i| i + 3);
        format!("http://127.0.0.1:8787{}", server[after..].find('/').map_or("", |i| &server[after + i..]))
    } else {
        server.to_owned()
    };
    prop_assert!(req.url.starts_with(&format!("{base}/")), "{} does not start at {base}", req.url);
    prop_assert!(!req.url.contains('#'), "a fragment in {}", req.url);
    let rest = &req.url[base.len()..];
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    prop_assert!(!query.contains('?'), "two queries in {}", req.url);
    clean("the URL", &req.url)?;

    // The path: the template, each value percent-encoded in its own part (a multi-segment one
    // keeping its slashes), as an independent encoder writes it; no dot segment anywhere.
    let args = input.args.as_array().unwrap();
    let encode = |text: &str| -> String {
        text.bytes().map(|b| if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
    };
    let mut want = String::new();
    let mut rest = op.path;
    for (k, arg) in args.iter().take(op.path_params.len()).enumerate() {
        let open = rest.find('{').unwrap();
        let close = rest[open..].find('}').unwrap() + open;
        want.push_str(&rest[..open]);
        let text = match arg {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if op.multi & (1 << k) != 0 {
            want.push_str(&text.split('/').map(encode).collect::<Vec<_>>().join("/"));
        } else {
            want.push_str(&encode(&text));
        }
        rest = &rest[close + 1..];
    }
    want.push_str(rest);
    prop_assert_eq!(path, want.as_str(), "the path");
    prop_assert!(!path.split('/').any(|s| matches!(s, "." | "..")), "a dot segment was sent: {path}");
    let segments = path.split('/').count();
    prop_assert!(op.multi != 0 || segments == op.path.split('/').count(), "a value left its segment: {path}");

    // Query and body keys: declared parameters only (any key of an open body but a path name).
    let query_names: Vec<&str> = op.params.iter().filter(|p| matches!(p.at, At::Query(_))).map(|p| p.name).collect();
    let body_names: Vec<&str> = op.params.iter().filter(|p| p.at == At::Body).map(|p| p.name).collect();
    let open = matches!(op.body, Body::Form { open: true, .. } | Body::Json { open: true } | Body::Multipart { open: true, .. });
    let form_in_query = matches!(op.method, Method::Get | Method::Head | Method::Delete) && matches!(op.body, Body::Form { .. });
    // An object given for a field in OpenAPI's default style (`form`, exploded) spreads into its
    // members, each a key of its own (`{a: 1}` is `a=1`): those keys are the caller's object's,
    // which the table does not name.
    let spread_from = |name: &str| match (&op.body, op.params.iter().find(|p| p.name == name).map(|p| p.at)) {
        (_, Some(At::Query(Style::Form))) => true,
        (Body::Form { styles, .. }, Some(At::Body)) => styles.of(name) == Style::Form,
        _ => false,
    };
    let spread: Vec<&str> = args
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|o| o.iter())
        .filter(|(name, _)| spread_from(name))
        .filter_map(|(_, v)| v.as_object())
        .flat_map(|o| o.keys().map(String::as_str))
        .collect();
    let in_body = |name: &str| body_names.contains(&name) || spread.contains(&name) || (open && !op.path_params.contains(&name) && !op.params.iter().any(|p| p.name == name && p.at != At::Body));
    check_pairs("the query", query, &|name| query_names.contains(&name) || spread.contains(&name) || (form_in_query && in_body(name)))?;
    let text_body = req.body.as_ref().and_then(|b| b.as_text());
    match (&op.body, text_body) {
        (Body::Form { .. }, Some(body)) => check_pairs("the form body", body, &|name| in_body(name))?,
        (Body::Json { open: false }, Some(body)) => {
            let v: Value = serde_json::from_str(body).map_err(|e| TestCaseError::fail(format!("JSON body: {e}")))?;
            for key in v.as_object().into_iter().flatten().map(|(k, _)| k) {
                prop_assert!(body_names.contains(&key.as_str()), "JSON body key {key} is not declared");
            }
        }
        (Body::Json { .. } | Body::JsonValue, Some(body)) => prop_assert!(serde_json::from_str::<Value>(body).is_ok(), "JSON body does not parse"),
        (Body::None, Some(_)) => prop_assert!(false, "a body for an operation without one"),
        _ => {}
    }
    if let Some(body) = text_body {
        clean("the body", body)?;
    }

    // Headers: only those the table allows, each fit for a header.
    let auth_name = match provider.schemes[0].auth {
        AuthScheme::Header(name) => name,
        AuthScheme::Cookie(_) => "cookie",
        _ => "authorization",
    };
    // The URL anything but `fetch` sees holds no credential; the query credential is added on
    // the way out, encoded, as the query's last parameter.
    clean("the request URL", &req.url)?;
    for (name, _) in &req.headers {
        let ok = ["accept", "content-type", auth_name].iter().any(|n| n.eq_ignore_ascii_case(name))
            || provider.static_headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
            || provider.call_headers.iter().any(|n| n.eq_ignore_ascii_case(name))
            || provider.bound_headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
            || op.params.iter().any(|p| p.at == At::Header && p.name.eq_ignore_ascii_case(name));
        // The idempotency key, on a POST or PATCH to a provider that takes one (src/retry.rs).
        let keyed = provider.upstream.idempotency_header.is_some_and(|h| h == *name) && matches!(req.method, Method::Post | Method::Patch);
        prop_assert!(ok || keyed, "header {name} is not one the table allows");
        let value = req.header(name).unwrap_or_default();
        prop_assert!(capa_rs::header::value_fault(value).is_none(), "header {name} cannot carry {value:?}");
    }
    // A multipart body's Content-Type is the entry's FormData's (it holds the boundary).
    let multipart = matches!(req.body, Some(capa_rs::body::RequestBody::Multipart(_)));
    prop_assert_eq!(req.header("content-type").is_some(), req.body.is_some() && !multipart, "content-type without a body, or a body without one");

    // The credential is the call's key, else the Worker secret, as the operation uses one.
    let key = args.iter().rev().take(2).find_map(|a| a.get("auth")).and_then(|a| a.get("apiKey")).and_then(Value::as_str);
    let want = match (op.auth, key, &input.secret) {
        (AuthUse::Never, _, _) => None,
        (_, Some(key), _) => Some(expected_auth(provider, key)),
        (_, None, Some(secret)) => Some(expected_auth(provider, secret)),
        (_, None, None) => None,
    };
    match provider.schemes[0].auth {
        AuthScheme::Query(name) => {
            let wire = req.wire_url();
            let mut encoded = String::new();
            if let Some(key) = &want {
                capa_rs::encode::percent_encode_into(&mut encoded, key);
            }
            let sent = wire.rsplit_once(&format!("{name}=")).map(|(_, v)| v.to_owned());
            prop_assert_eq!(sent, want.map(|_| encoded), "the credential sent in the query");
            prop_assert!(req.header("authorization").is_none(), "a query credential also sent as a header");
        }
        _ => prop_assert_eq!(req.header(auth_name).map(str::to_owned), want, "the credential sent"),
    }

    // A bound header: the call's own value, else the deployment's.
    for &(name, _) in provider.bound_headers {
        let own = args.iter().rev().take(2).find_map(|a| a.get("auth")).and_then(|a| a.get("headers")).and_then(Value::as_object).and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))).and_then(|(_, v)| v.as_str());
        let want = own.or(input.client.as_deref()).map(str::to_owned);
        prop_assert_eq!(req.header(name).map(str::to_owned), want, "bound header {}", name);
    }
    Ok(())
}

/// The credentials of the call, as the upstream saw them: what it may echo.
fn credentials(req: &capa_rs::http::HttpRequest) -> Vec<String> {
    let mut out = Vec::new();
    for (name, _) in &req.headers {
        let value = req.header(name).unwrap_or_default();
        if value.contains("CANARY") || value.starts_with("Basic ") || value.contains("CONTEXT") {
            out.push(value.strip_prefix("Bearer ").unwrap_or(value).to_owned());
        }
    }
    out
}

fn respond(call: Call, answer: &Answer) -> Result<(), TestCaseError> {
    let creds = credentials(call.request());
    let mut body = String::from(if answer.json { "{\"echo\":\"" } else { "echo: " });
    for (i, form) in answer.forms.iter().enumerate() {
        if let Some(c) = creds.get(i % creds.len().max(1)) {
            body.push_str(&render(c, form));
            body.push(' ');
        }
    }
    if answer.json {
        body.push_str("\"}");
    }
    let location = answer.location.as_ref().map(|l| l.replace("KEY", creds.first().map_or("k", String::as_str)));
    let request_id = creds.first().filter(|_| answer.request_id).cloned();
    let response = HttpResponse {
        status: answer.status,
        content_type: Some(if answer.json { "application/json" } else if answer.binary { "application/pdf" } else { "text/plain" }),
        request_id: request_id.as_deref(),
        location: location.as_deref(),
        hints: Default::default(),
        link: None,
        binary: answer.binary,
        body: &body.as_str(),
    };
    let origin = capa_rs::origin::origin_of(&call.request().url).to_owned();
    let sent_url = call.request().url.clone();
    match call.finish(&response, 1.0) {
        Step::Fetch(next) => {
            prop_assert!(next.request().url.starts_with(&origin), "a redirect left the origin: {}", next.request().url);
            let ok = Answer { status: 200, json: true, forms: answer.forms.clone(), location: None, request_id: false, binary: false };
            respond(next, &ok)
        }
        // A retry (src/retry.rs): after its wait, the same request again, answered as before.
        Step::Pause { call, .. } => match call.resume(2.0) {
            Step::Fetch(again) => {
                prop_assert_eq!(&again.request().url, &sent_url, "a retry changed the request's URL");
                respond(again, answer)
            }
            Step::Done(Envelope::Complete(text)) => check_envelope(&text, false).map(|_| ()),
            other => Err(TestCaseError::fail(format!("a retry's resume: {other:?}"))),
        },
        Step::Done(Envelope::Complete(text)) => check_envelope(&text, false).map(|_| ()),
        Step::Done(Envelope::AttachBody { receipt, .. }) => {
            // The entry hands the body to the caller as it came: it must hold nothing.
            clean("a body attached as it came", &body)?;
            clean("a receipt", &receipt)?;
            prop_assert!(!receipt.contains("CONTEXT"), "a receipt names a context value: {receipt}");
            Ok(())
        }
        other => Err(TestCaseError::fail(format!("a token step for a static scheme: {other:?}"))),
    }
}

#[test]
fn requests_stay_in_their_slots_and_envelopes_hold_no_credential() {
    fuzz::run("request", input(), |input| {
        let provider = providers()[input.provider];
        let op = &provider.operations[input.op];
        let mut env = HashMap::new();
        if let Some(secret) = &input.secret {
            env.insert(provider.schemes[0].secret, secret.clone());
        }
        if input.loopback {
            env.insert(ORIGIN_OVERRIDE_VAR, "http://127.0.0.1:8787".to_owned());
        }
        if let Some(client) = &input.client {
            env.insert("FUZZ_CLIENT", client.clone());
        }
        let args = input.args.to_string();
        match begin(provider, input.op as u32, &args, &Env(env), 0.0) {
            Step::Done(Envelope::Complete(text)) => check_envelope(&text, true).map(|_| ()),
            Step::Done(other) => Err(TestCaseError::fail(format!("a refusal that is not a complete envelope: {other:?}"))),
            Step::Fetch(call) => {
                check_request(provider, op, &input, &call)?;
                respond(call, &input.answer)
            }
            // No provider here exchanges credentials for a token.
            other => Err(TestCaseError::fail(format!("a token step for a static scheme: {other:?}"))),
        }
    });
}
