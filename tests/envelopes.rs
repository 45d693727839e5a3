//! Every envelope a call can end in, natively, for every scheme that sends a key as it is: the
//! upstream answers with a credential of the call — the deployment's, the call's own, its secret
//! header — or a context value in each form an attacker found reaching callers (every byte
//! percent-encoded, `\u00XX` letters, base64 of encoded forms, base64 of base64, a JSON string in
//! a JSON string), in each header and body a path reads: the content type (quoted by
//! `upstream_invalid_body` and `upstream_body_withheld`), the request id (the receipt), the
//! location (`upstream_redirect`, the redirect loop), the body (results, `upstream_error`,
//! malformed JSON, bytes), and `fetch`'s own failure message (`upstream_unreachable`). Each
//! envelope is read back by the independent decoder of `tests/security/echo.rs`, two decodings
//! deep. The workerd side is `tests/security/forms.test.mjs`; token schemes are
//! `tests/token_flow.rs`'s.

#[path = "security/echo.rs"]
mod echo;

use capa_rs::call::{begin, Bindings, Step};
use capa_rs::receipt::Envelope;
use capa_rs::http::HttpResponse;
use capa_rs::receipt::Attach;
use capa_rs::table::{AuthScheme, AuthUse, Body, Method, Operation, Provider, Scheme};
use echo::{contains, decodings, Encoding};
use std::collections::HashMap;

const NOW: f64 = 1_795_489_629_248.0;
const SECRET: &str = "sk_live_CANARYdeploy\"/%+&= 0123456789";
const CALL_KEY: &str = "sk_live_CANARYcall\\back/slash?#x";
const SECRET_HEADER: &str = "shv_CANARYheader+/=%& 42";
const CONTEXT: &str = "acct_CONTEXT\"%&=+ 77";
/// What a cookie value may hold (no space, quote, comma, semicolon or backslash).
const COOKIE_SECRET: &str = "ck_CANARYdeploy/+=%&?!#$'()*-.:<>@[]^_`{|}~";
const COOKIE_CALL_KEY: &str = "ck_CANARYcall/+=%&?!#0123";

static OPS: [Operation; 2] = [
    Operation { id: "list", call: "things.list", method: Method::Get, path: "/things", server: 0, path_params: &[], multi: 0, params: &[], body: Body::None, auth: AuthUse::Required, scheme: 0, classes: 1 },
    Operation { id: "create", call: "things.create", method: Method::Post, path: "/things", server: 0, path_params: &[], multi: 0, params: &[], body: Body::None, auth: AuthUse::Required, scheme: 0, classes: 2 },
];

/// A provider whose one scheme is `auth`, with a secret header and a context header callers set.
fn provider(auth: AuthScheme) -> &'static Provider {
    let schemes: &'static [Scheme] = Box::leak(Box::new([Scheme { secret: "T_KEY", auth, headers: &[] }]));
    Box::leak(Box::new(Provider {
        capability: "things",
        schemes,
        call_headers: &["X-Secret", "X-Account"],
        secret_call_headers: &["X-Secret"],
        static_headers: &[],
        bound_headers: &[],
        request_id_header: Some("Request-Id"),
        error_object: Some("error"),
        servers: &["https://api.example.com"],
        classes: &["read", "write", "destructive"],
        // Retries are their own suite's (tests/retry.test.mjs); here each path answers once.
        upstream: capa_rs::table::Upstream { max_retries: 0, ..capa_rs::table::Upstream::DEFAULT },
        operations: &OPS,
        paging: &[],
        optional_bodies: &[],
        credential_params: &[],
    }))
}

struct Env(HashMap<&'static str, &'static str>);

impl Bindings for Env {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).copied()
    }
}

/// The forms of `value` an upstream writes, each up to two encodings deep.
fn forms(value: &str) -> Vec<String> {
    let every = |upper: bool| Encoding::Percent { choices: vec![if upper { 1 } else { 2 }], plus: false };
    let b64 = |url: bool| Encoding::Base64 { url, pad: true, prefix: b"user:".to_vec(), suffix: vec![], wrap: 0 };
    let chains: Vec<Vec<Encoding>> = vec![
        vec![],
        vec![every(true)],
        vec![Encoding::Json(vec![2])],
        vec![every(false), b64(false)],
        vec![Encoding::Json(vec![0, 1]), b64(true)],
        vec![b64(false), b64(true)],
        vec![Encoding::Json(vec![0]), Encoding::Json(vec![0])],
        vec![b64(false), every(true)],
        vec![Encoding::Base64 { url: false, pad: false, prefix: vec![], suffix: vec![], wrap: 7 }, Encoding::Json(vec![0])],
    ];
    chains.iter().map(|chain| echo::render(value, chain)).collect()
}

/// Every answer a path reads, with `form` in the header or body it reads.
fn answers(form: &str) -> Vec<(&'static str, u16, String, String, String, bool)> {
    let media = form.replace(['\r', '\n'], "");
    let json = serde_json::to_string(form).unwrap();
    // (what, status, content type, request id, location or body, binary)
    vec![
        ("result", 200, "application/json".into(), "req_1".into(), format!(r#"{{"echo":{json},{json}:1}}"#), false),
        ("text result", 200, "text/plain".into(), "req_1".into(), format!("you sent {form}"), false),
        ("binary", 200, "application/pdf".into(), "req_1".into(), format!("%PDF {form}"), true),
        ("media type of bytes", 200, format!("application/x-{media}"), "req_1".into(), format!("%PDF {form}"), true),
        ("invalid JSON", 200, "application/json".into(), "req_1".into(), format!(r#"{{"echo":"{form}""#), false),
        ("media type of invalid JSON", 200, format!("application/vnd.{media}+json"), "req_1".into(), "not json".into(), false),
        ("request id", 200, "application/json".into(), media.clone(), "{}".into(), false),
        ("error object", 402, "application/json".into(), "req_1".into(), format!(r#"{{"error":{{"message":{json},"param":{json}}}}}"#), false),
        ("error page", 503, "text/html".into(), media.clone(), format!("<pre>{form}</pre>"), false),
        ("location away", 302, "text/plain".into(), "req_1".into(), format!("https://evil.example/?k={media}"), false),
        ("location loop", 302, "text/plain".into(), "req_1".into(), format!("/again?k={media}"), false),
    ]
}

/// What a caller sees of a call of `provider` with `args`, answered by each of `answers`.
fn envelopes(provider: &'static Provider, env: &Env, args: &str, form: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (what, status, content_type, request_id, text, binary) in answers(form) {
        for op in 0..2 {
            let mut call = match begin(provider, op, args, env, NOW) {
                Step::Fetch(call) => call,
                Step::Done(Envelope::Complete(refused)) => panic!("{args} was refused: {refused}"),
                other => panic!("{other:?}"),
            };
            let location = status == 302;
            let body: &str = Box::leak(if location { String::new() } else { text.clone() }.into_boxed_str());
            let body: &&str = Box::leak(Box::new(body));
            let response = HttpResponse {
                status,
                content_type: Some(Box::leak(content_type.clone().into_boxed_str())),
                request_id: Some(Box::leak(request_id.clone().into_boxed_str())),
                location: location.then(|| &*Box::leak(text.clone().into_boxed_str())),
                hints: Default::default(),
                link: None,
                binary,
                body,
            };
            // A redirect within the origin is followed until the loop ends in an error.
            let envelope = loop {
                match call.finish(&response, NOW + 5.0) {
                    Step::Fetch(next) => call = next,
                    Step::Pause { call: paused, .. } => match paused.resume(NOW + 6.0) {
                        Step::Fetch(next) => call = next,
                        Step::Done(Envelope::Complete(text)) => break text,
                        other => panic!("{other:?}"),
                    },
                    Step::Done(Envelope::Complete(text)) => break text,
                    Step::Done(Envelope::AttachBody { attach, receipt }) => {
                        // The entry attaches the body it holds (its scan flagged nothing in it):
                        // parsed, as text, or as bytes, whose text is what a reader searches.
                        let result = match attach {
                            Attach::Json => serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
                            Attach::Text | Attach::Bytes => serde_json::Value::String(body.to_string()),
                        };
                        let receipt: serde_json::Value = serde_json::from_str(&receipt).unwrap();
                        break serde_json::json!({ "ok": true, "result": result, "receipt": receipt }).to_string();
                    }
                    other => panic!("{other:?}"),
                }
            };
            out.push((what.to_owned(), envelope));
        }
        let Step::Fetch(call) = begin(provider, 0, args, env, NOW) else { panic!() };
        let Step::Done(Envelope::Complete(envelope)) = call.unreachable(&format!("connection reset by {form}"), false, NOW + 5.0) else { panic!() };
        out.push(("unreachable".to_owned(), envelope));
    }
    out
}

/// Whether an independent reader finds `value` (or the marker every credential canary holds)
/// in any decoding of any string of `envelope`.
fn shows(envelope: &str, value: &str, marker: &str) -> bool {
    let mut strings = Vec::new();
    collect(&serde_json::from_str(envelope).expect("an envelope is JSON"), &mut strings);
    strings.iter().any(|s| decodings(s).iter().any(|d| contains(d, value.as_bytes()) || contains(d, marker.as_bytes())))
}

fn collect(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
        serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.push(k.clone());
            collect(v, out)
        }),
        _ => {}
    }
}

#[test]
fn no_envelope_of_any_path_shows_a_credential_for_any_scheme() {
    let schemes = [
        AuthScheme::Bearer,
        AuthScheme::Basic,
        AuthScheme::Header("X-Api-Key"),
        AuthScheme::BasicPair { username: "T_USER" },
        AuthScheme::Query("api_key"),
        AuthScheme::Cookie("session"),
    ];
    let mut checked = 0;
    for auth in schemes {
        let provider = provider(auth);
        let (secret, call_key) = if matches!(auth, AuthScheme::Cookie(_)) { (COOKIE_SECRET, COOKIE_CALL_KEY) } else { (SECRET, CALL_KEY) };
        let env = Env(HashMap::from([("T_KEY", secret), ("T_USER", "AC_CONTEXTuser")]));
        // A basic pair's caller brings its user name (context) with its password.
        let key = match auth {
            AuthScheme::BasicPair { .. } => format!(r#""username":"AC_CONTEXTcaller","password":{}"#, serde_json::to_string(call_key).unwrap()),
            _ => format!(r#""apiKey":{}"#, serde_json::to_string(call_key).unwrap()),
        };
        let own = format!(r#"[{{"auth":{{{key},"headers":{{"X-Secret":{},"X-Account":{}}}}}}}]"#, serde_json::to_string(SECRET_HEADER).unwrap(), serde_json::to_string(CONTEXT).unwrap());
        // A basic scheme's pair as it travels (`Basic base64(user:key)`), echoed in turn: its
        // encodings are one decoding further from the key than the key's own.
        let pair = |user: &str, key: &str| capa_rs::forms::base64(format!("{user}:{key}").as_bytes());
        let sent = match auth {
            AuthScheme::Basic => vec![("[]", capa_rs::forms::base64(format!("{secret}:").as_bytes())), (own.as_str(), capa_rs::forms::base64(format!("{call_key}:").as_bytes()))],
            AuthScheme::BasicPair { .. } => vec![("[]", pair("AC_CONTEXTuser", secret)), (own.as_str(), pair("AC_CONTEXTcaller", call_key))],
            _ => vec![],
        };
        let values = [("[]", secret), (own.as_str(), call_key), (own.as_str(), SECRET_HEADER)].into_iter().chain(sent.iter().map(|(a, v)| (*a, v.as_str())));
        for (args, value) in values {
            for form in forms(value) {
                for (what, envelope) in envelopes(provider, &env, args, &form) {
                    assert!(!shows(&envelope, value, "CANARY"), "{auth:?}, {value} written {form:?} in the {what}: {envelope}");
                    checked += 1;
                }
            }
        }
        // The context value: in receipts and the capability's own words, never; a result and the
        // provider's own answer may name it.
        for form in forms(CONTEXT) {
            for (what, envelope) in envelopes(provider, &env, &own, &form) {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&envelope) else { continue };
                let mut own_words = vec![v["receipt"].to_string()];
                if v["error"]["code"] != "upstream_error" {
                    own_words.push(v["error"]["message"].to_string());
                }
                if v["error"]["code"] == "upstream_body_withheld" {
                    own_words.push(v["error"]["upstream"].to_string());
                }
                for text in own_words {
                    assert!(!shows(&text, CONTEXT, "CONTEXT"), "{auth:?}, the context value written {form:?} in the {what}: {envelope}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 2_000, "{checked} envelopes");
}
