//! A call whose scheme exchanges the deployment's client credentials for a token, natively:
//! the exchange step, single flight, the token on the wire, refresh on a 401 then one retry,
//! `auth_failed` at each stage, and that neither the client secret nor the token reaches an
//! envelope; a service account's JWT assertion and a login's user name, echoed in every form,
//! reaching no envelope either. The workerd side is `tests/oauth2.test.mjs`, `jwt.test.mjs` and
//! `session.test.mjs` against the auth fixtures.

use capa_rs::call::{begin, begin_again, Bindings, Resume, Step};
use capa_rs::receipt::Envelope;
use capa_rs::http::HttpResponse;
use capa_rs::table::{AuthScheme, AuthUse, Body, JwtAlg, JwtGrant, Login, Method, Operation, Provider, Scheme, TokenExchange};
use capa_rs::token::shared::{adopt, Adopted, Sharing};
use capa_rs::token::{signed, Signed, Tokens};
use std::collections::HashMap;

#[path = "support/fetch.rs"]
mod fetch;
use fetch::wire_headers;

const NOW: f64 = 1_795_489_629_248.0;
const SECRET: &str = "cs_CANARYclientsecret";
const TOKEN: &str = "at_CANARYaccesstoken1";

static EXCHANGE: TokenExchange = TokenExchange { token_url: "https://auth.example.com/oauth/token", client_id: "O_CLIENT_ID", scopes: "read", margin_s: 60 };

static OPS: [Operation; 1] = [Operation {
    id: "ListThings",
    call: "things.list",
    method: Method::Get,
    path: "/things",
    server: 0,
    path_params: &[],
    multi: 0,
    params: &[],
    body: Body::None,
    auth: AuthUse::Required,
    scheme: 0,
    classes: 1,
}];

static OAUTH: Provider = Provider {
    capability: "oauth",
    schemes: &[Scheme { secret: "O_CLIENT_SECRET", auth: AuthScheme::ClientCredentials(&EXCHANGE), headers: &[] }],
    call_headers: &[],
    secret_call_headers: &[],
    static_headers: &[],
    bound_headers: &[],
    request_id_header: None,
    error_object: None,
    servers: &["https://api.example.com"],
    classes: &["read", "write", "destructive"],
    upstream: capa_rs::table::Upstream::DEFAULT,
    operations: &OPS,
    paging: &[],
    optional_bodies: &[],
    credential_params: &[],
};

struct Env {
    values: HashMap<&'static str, &'static str>,
    tokens: Tokens,
    sharing: Sharing,
}

impl Bindings for Env {
    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).copied()
    }
    fn tokens(&self) -> Option<&Tokens> {
        Some(&self.tokens)
    }
    fn sharing(&self) -> &Sharing {
        &self.sharing
    }
}

fn env() -> Env {
    Env { values: HashMap::from([("O_CLIENT_ID", "client-1"), ("O_CLIENT_SECRET", SECRET)]), tokens: Tokens::default(), sharing: Sharing::Off }
}

fn wire_of(step: &Step) -> serde_json::Value {
    let mut out = String::new();
    match step {
        Step::Fetch(call) => call.push_fetch_json(&mut out, NOW),
        Step::Token { request, .. } => request.push_fetch_json(&mut out, &capa_rs::redact::Redactor::default()),
        other => panic!("no request: {other:?}"),
    }
    serde_json::from_str(&out).unwrap()
}

fn header(wire: &serde_json::Value, name: &str) -> Option<String> {
    wire_headers(&wire[3]).into_iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

fn envelope(step: Step) -> serde_json::Value {
    let Step::Done(Envelope::Complete(text)) = step else { panic!("{step:?}") };
    assert!(!text.contains("CANARY"), "a credential in an envelope: {text}");
    serde_json::from_str(&text).unwrap()
}

const GRANTED: &str = r#"{"access_token":"at_CANARYaccesstoken1","token_type":"Bearer","expires_in":3600}"#;

#[test]
fn the_first_call_exchanges_the_client_credentials_then_sends_the_token() {
    let env = env();
    let step = begin(&OAUTH, 0, "[]", &env, NOW);
    assert!(matches!(step, Step::Token { scheme: 0, .. }), "{step:?}");
    let exchange = wire_of(&step);
    assert_eq!(exchange[0], "https://auth.example.com/oauth/token");
    assert_eq!(exchange[1], "POST");
    assert_eq!(exchange[2], "grant_type=client_credentials&scope=read");
    let basic = header(&exchange, "authorization").unwrap();
    assert_eq!(basic, format!("Basic {}", b64(&format!("client-1:{SECRET}"))));
    // Others meeting the flight wait for it.
    assert!(matches!(begin(&OAUTH, 0, "[]", &env, NOW), Step::Wait { scheme: 0 }));
    env.tokens.put(0, 200, GRANTED, NOW, 60);
    let resumed = begin_again(&OAUTH, 0, "[]", &env, NOW, Resume { obtained: true, after_401: false, ..Resume::default() });
    let request = wire_of(&resumed);
    assert_eq!(header(&request, "authorization").unwrap(), format!("Bearer {TOKEN}"));
    // The token is scanned for in the response, with the client secret.
    let scan: Vec<&str> = request[4].as_array().unwrap()[1..].iter().filter_map(|n| n.as_str()).collect();
    assert!(scan.iter().any(|n| TOKEN.contains(n)) && scan.iter().any(|n| SECRET.contains(n)), "{scan:?}");
    let Step::Fetch(call) = resumed else { unreachable!() };
    let body = format!(r#"{{"echo":"{TOKEN}"}}"#);
    let text = &body.as_str();
    let done = call.finish(&HttpResponse { status: 200, content_type: Some("application/json"), request_id: None, location: None, hints: Default::default(), link: None, binary: false, body: text }, NOW);
    let v = envelope(done);
    assert_eq!(v["result"]["echo"], "[REDACTED]");
    assert_eq!(v["receipt"]["refreshed"], true);
    assert_eq!(v["receipt"]["credential"], "secret");
    // The next call finds it cached: no exchange, not refreshed.
    assert!(matches!(begin(&OAUTH, 0, "[]", &env, NOW + 5.0), Step::Fetch(_)));
}

/// A round after an `R` step, with the tries it handed back.
fn resumed(env: &Env, now_ms: f64, resume: Resume, earlier: &str) -> Step {
    let round = capa_rs::call::Round { op: 0, args: "[]", grant: None, call_id: capa_rs::call::NATIVE_CALL_ID, resume, earlier: Some(earlier), now_ms };
    capa_rs::call::begin_round(&OAUTH, round, env)
}

#[test]
fn a_401_drops_the_token_once_and_a_second_is_auth_failed() {
    let env = env();
    env.tokens.need(0, NOW);
    env.tokens.put(0, 200, GRANTED, NOW, 60);
    let Step::Fetch(call) = begin(&OAUTH, 0, "[]", &env, NOW) else { panic!() };
    let unauthorized = &"{}";
    let response = HttpResponse { status: 401, content_type: Some("application/json"), request_id: None, location: None, hints: Default::default(), link: None, binary: false, body: unauthorized };
    let later = NOW + capa_rs::call::FRESH_TOKEN_MS + 1.0;
    let Step::Refresh { scheme: 0, generation, tries } = call.finish(&response, later) else { panic!("a 401 to a cached token refreshes") };
    env.tokens.invalidate(0, generation);
    // The next round brings the first's tries back (the entry hands an R step's to it).
    let again = resumed(&env, NOW, Resume { obtained: false, after_401: true, ..Resume::default() }, &tries);
    assert!(matches!(again, Step::Token { .. }), "the dropped token is exchanged anew");
    env.tokens.put(0, 200, GRANTED.replace("accesstoken1", "accesstoken2").as_str(), NOW, 60);
    let Step::Fetch(call) = resumed(&env, NOW, Resume { obtained: true, after_401: true, ..Resume::default() }, &tries) else { panic!() };
    let v = envelope(call.finish(&response, NOW));
    assert_eq!(v["error"]["code"], "auth_failed");
    assert_eq!(v["error"]["stage"], "upstream");
    assert_eq!(v["error"]["status"], 401);
    assert_eq!(v["receipt"]["attempts"], 2);
    assert_eq!(v["receipt"]["tries"].as_array().unwrap().iter().map(|t| t["status"].as_u64()).collect::<Vec<_>>(), [Some(401), Some(401)]);
    assert_eq!(v["receipt"]["refreshed"], true);
}

#[test]
fn a_401_to_a_token_just_obtained_is_auth_failed_at_once() {
    let env = env();
    env.tokens.need(0, NOW);
    env.tokens.put(0, 200, GRANTED, NOW, 60);
    let Step::Fetch(call) = begin(&OAUTH, 0, "[]", &env, NOW) else { panic!() };
    let body = &"{}";
    let response = HttpResponse { status: 401, content_type: Some("application/json"), request_id: None, location: None, hints: Default::default(), link: None, binary: false, body };
    let v = envelope(call.finish(&response, NOW + 10.0));
    assert_eq!((v["error"]["code"].as_str(), v["error"]["stage"].as_str()), (Some("auth_failed"), Some("upstream")));
    assert_eq!(v["receipt"]["attempts"], 1, "no exchange for a token a second old: another would not help");
}

#[test]
fn a_refused_client_is_auth_failed_at_the_token_stage_naming_the_handles() {
    let env = env();
    assert!(matches!(begin(&OAUTH, 0, "[]", &env, NOW), Step::Token { .. }));
    env.tokens.put(0, 401, &format!(r#"{{"error":"invalid_client","echo":"{SECRET}"}}"#), NOW, 60);
    let v = envelope(begin_again(&OAUTH, 0, "[]", &env, NOW, Resume { obtained: true, after_401: false, ..Resume::default() }));
    assert_eq!(v["error"]["code"], "auth_failed");
    assert_eq!(v["error"]["stage"], "token");
    assert_eq!(v["error"]["status"], 401);
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("O_CLIENT_ID") && message.contains("wrangler secret put O_CLIENT_SECRET --env oauth"), "{message}");
    assert_eq!(v["receipt"]["attempts"], 0);
    // No token was obtained: the receipt says so, for the call that made the exchange and for
    // one that waited for it.
    assert_eq!(v["receipt"]["refreshed"], false);
    let waited = envelope(begin_again(&OAUTH, 0, "[]", &env, NOW + 1.0, Resume { obtained: true, ..Resume::default() }));
    assert_eq!((waited["error"]["code"].as_str(), waited["receipt"]["refreshed"].as_bool()), (Some("auth_failed"), Some(false)));
}

#[test]
fn a_refused_token_whose_replacement_is_refused_at_the_endpoint_was_not_refreshed() {
    let env = env();
    env.tokens.need(0, NOW);
    env.tokens.put(0, 200, GRANTED, NOW, 60);
    let Step::Fetch(call) = begin(&OAUTH, 0, "[]", &env, NOW) else { panic!() };
    let body = &"{}";
    let response = HttpResponse { status: 401, content_type: Some("application/json"), request_id: None, location: None, hints: Default::default(), link: None, binary: false, body };
    let later = NOW + capa_rs::call::FRESH_TOKEN_MS + 1.0;
    let Step::Refresh { generation, tries, .. } = call.finish(&response, later) else { panic!("a 401 to a cached token refreshes") };
    env.tokens.invalidate(0, generation);
    let after = Resume { after_401: true, started_ms: Some(later), ..Resume::default() };
    assert!(matches!(resumed(&env, later, after, &tries), Step::Token { .. }));
    env.tokens.put(0, 400, r#"{"error":"invalid_client"}"#, later, 60);
    let v = envelope(resumed(&env, later, Resume { obtained: true, ..after }, &tries));
    assert_eq!((v["error"]["code"].as_str(), v["error"]["stage"].as_str()), (Some("auth_failed"), Some("token")));
    assert_eq!((v["receipt"]["attempts"].as_u64(), v["receipt"]["refreshed"].as_bool()), (Some(1), Some(false)));
}

#[test]
fn a_client_secret_is_scrubbed_as_its_basic_pair_sent_it_form_encoded() {
    // The pair is `urlencode(id):urlencode(secret)`: base64 of it holds the encoded secret's
    // core, not the secret's, whenever encoding changes it.
    const ODD: &str = "cs_CANARY/odd+secret=1&x";
    let mut env = env();
    env.values.insert("O_CLIENT_SECRET", ODD);
    let step = begin(&OAUTH, 0, "[]", &env, NOW);
    let basic = header(&wire_of(&step), "authorization").unwrap();
    assert_eq!(basic, format!("Basic {}", b64("client-1:cs_CANARY%2Fodd%2Bsecret%3D1%26x")));
    assert!(env.tokens.put(0, 200, GRANTED, NOW, 60));
    let Step::Fetch(call) = begin(&OAUTH, 0, "[]", &env, NOW + 1.0) else { panic!() };
    // An API that logs its gateway's requests, the token endpoint's among them.
    let logged = format!(r#"{{"log":["{basic}","{}"]}}"#, &basic["Basic ".len()..]);
    let body: &str = &logged;
    let v = envelope(call.finish(&HttpResponse { status: 200, content_type: Some("application/json"), request_id: None, location: None, hints: Default::default(), link: None, binary: false, body: &body }, NOW + 2.0));
    let core = &b64("client-1:cs_CANARY%2Fodd%2Bsecret%3D1%26x")[12..36];
    assert!(!v.to_string().contains(core), "{v}");
}

#[test]
fn a_client_id_holding_a_colon_is_form_encoded_into_the_basic_pair() {
    // RFC 6749 §2.3.1: id and secret are form-encoded before they join `id:secret`, so a `:` in
    // the id is no separator (a basic user name's `:` stays refused: src/auth.rs).
    let mut env = env();
    env.values.insert("O_CLIENT_ID", "urn:acme:client 1");
    let step = begin(&OAUTH, 0, "[]", &env, NOW);
    assert!(matches!(step, Step::Token { .. }), "{step:?}");
    assert_eq!(header(&wire_of(&step), "authorization").unwrap(), format!("Basic {}", b64(&format!("urn%3Aacme%3Aclient%201:{SECRET}"))));
    // What no header can carry is still a mistake, named.
    env.values.insert("O_CLIENT_ID", "client-1\n");
    let fresh = Env { values: env.values.clone(), tokens: Tokens::default(), sharing: Sharing::Off };
    let v = envelope(begin(&OAUTH, 0, "[]", &fresh, NOW));
    assert_eq!(v["error"]["code"], "missing_credential");
    assert!(v["error"]["message"].as_str().unwrap().contains("O_CLIENT_ID"), "{v}");
}

#[test]
fn a_per_call_token_is_sent_as_is_and_a_401_is_the_callers() {
    let env = env();
    let step = begin(&OAUTH, 0, r#"[{"auth":{"apiKey":"at_CANARYtenant"}}]"#, &env, NOW);
    let request = wire_of(&step);
    assert_eq!(header(&request, "authorization").unwrap(), "Bearer at_CANARYtenant");
    let Step::Fetch(call) = step else { unreachable!() };
    let body = &r#"{"error":"expired"}"#;
    let v = envelope(call.finish(&HttpResponse { status: 401, content_type: Some("application/json"), request_id: None, location: None, hints: Default::default(), link: None, binary: false, body }, NOW));
    assert_eq!(v["error"]["code"], "upstream_error");
    assert_eq!(v["receipt"]["refreshed"], false);
    assert!(matches!(begin(&OAUTH, 0, "[]", &env, NOW), Step::Token { .. }), "nothing was cached from the call's token");
}

#[test]
fn a_call_that_sends_no_cached_token_still_scans_for_it() {
    let env = env();
    assert!(matches!(begin(&OAUTH, 0, "[]", &env, NOW), Step::Token { .. }));
    assert!(env.tokens.put(0, 200, GRANTED, NOW, 60));
    // A per-call token goes out, and the deployment's cached one is among the needles.
    let step = begin(&OAUTH, 0, r#"[{"auth":{"apiKey":"at_CANARYtenant"}}]"#, &env, NOW + 1.0);
    let wire = wire_of(&step);
    assert_eq!(header(&wire, "authorization").unwrap(), "Bearer at_CANARYtenant");
    assert!(wire[4].as_array().unwrap().iter().any(|n| n == TOKEN), "the cached token is scanned for: {}", wire[4]);
    let Step::Fetch(call) = step else { unreachable!() };
    let text = format!(r#"{{"echo":"{TOKEN}"}}"#);
    let body: &str = &text;
    let v = envelope(call.finish(&HttpResponse { status: 400, content_type: Some("application/json"), request_id: None, location: None, hints: Default::default(), link: None, binary: false, body: &body }, NOW + 2.0));
    assert_eq!(v["error"]["upstream"]["echo"], "[REDACTED]");
}

#[test]
fn an_unset_client_id_is_missing_credential_before_any_exchange() {
    let env = Env { values: HashMap::from([("O_CLIENT_SECRET", SECRET)]), tokens: Tokens::default(), sharing: Sharing::Off };
    let v = envelope(begin(&OAUTH, 0, "[]", &env, NOW));
    assert_eq!(v["error"]["code"], "missing_credential");
    assert!(v["error"]["message"].as_str().unwrap().contains("O_CLIENT_ID"));
}

fn b64(s: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            out.push(if i <= c.len() { A[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

const KEY: &str = "tk_CANARYsealing0000000000000000000000";

/// An isolate of a deployment that shares its tokens.
fn shared_env() -> Env {
    Env { sharing: Sharing::read(true, Some(KEY)), ..env() }
}

#[test]
fn a_shared_flight_asks_the_object_first_and_a_call_after_a_401_does_not() {
    let env = shared_env();
    let Step::Take { scheme: 0, key, aad } = begin(&OAUTH, 0, "[]", &env, NOW) else { panic!("the object first") };
    assert_eq!(key.expose(), KEY);
    assert!(aad.starts_with("capa-tokens/v1 oauth 0 ") && !aad.contains("CANARY") && !aad.contains("client-1"), "{aad}");
    // The same credentials, the same data; others, other data (their tokens do not authenticate).
    let Step::Take { aad: again, .. } = begin(&OAUTH, 0, "[]", &shared_env(), NOW) else { panic!() };
    assert_eq!(aad, again);
    let mut rotated = shared_env();
    rotated.values.insert("O_CLIENT_SECRET", "cs_CANARYrotated000000");
    let Step::Take { aad: other, .. } = begin(&OAUTH, 0, "[]", &rotated, NOW) else { panic!() };
    assert_ne!(aad, other);
    // Others wait for the flight; the object had nothing: the flight goes on to the exchange.
    assert!(matches!(begin(&OAUTH, 0, "[]", &env, NOW), Step::Wait { scheme: 0 }));
    assert_eq!(adopt(&env.tokens, 0, None, true, NOW), Adopted::Nothing);
    assert!(env.tokens.put(0, 200, GRANTED, NOW, 60));
    let (record, due, expires) = env.tokens.record(0).unwrap();
    assert_eq!(expires - due, 60_000.0);
    // Another isolate adopts it: the token on the wire, no exchange.
    let second = shared_env();
    assert!(matches!(begin(&OAUTH, 0, "[]", &second, NOW), Step::Take { .. }));
    assert_eq!(adopt(&second.tokens, 0, Some(&record), false, NOW + 1.0), Adopted::Serve);
    let sent = begin_again(&OAUTH, 0, "[]", &second, NOW + 2.0, Resume { obtained: true, ..Resume::default() });
    assert_eq!(header(&wire_of(&sent), "authorization").unwrap(), format!("Bearer {TOKEN}"));
    // After a 401 the call obtains a fresh token itself: the object's may be the refused one.
    let after = begin_again(&OAUTH, 0, "[]", &shared_env(), NOW, Resume { after_401: true, started_ms: Some(NOW), ..Resume::default() });
    assert!(matches!(after, Step::Token { scheme: 0, .. }), "{after:?}");
}

#[test]
fn the_object_bound_without_a_key_is_named_and_begins_no_flight() {
    let mut env = env();
    env.sharing = Sharing::read(true, None);
    let v = envelope(begin(&OAUTH, 0, "[]", &env, NOW));
    assert_eq!(v["error"]["code"], "missing_credential");
    assert!(v["error"]["message"].as_str().unwrap().contains("wrangler secret put CAPA_TOKENS_KEY --env oauth"), "{v}");
    env.sharing = Sharing::read(true, Some("short"));
    let v = envelope(begin(&OAUTH, 0, "[]", &env, NOW));
    assert!(v["error"]["message"].as_str().unwrap().contains("shorter than 32 characters"), "{v}");
    // No flight was begun: with sharing off, the next call is the flight.
    env.sharing = Sharing::Off;
    assert!(matches!(begin(&OAUTH, 0, "[]", &env, NOW), Step::Token { .. }));
}

// A service account whose JWT is exchanged for a token (Google's kind), and a cookie session.

static GRANT: JwtGrant = JwtGrant {
    alg: JwtAlg::Rs256,
    token_url: "https://oauth2.example.com/token",
    issuer: "sa@example.iam.gserviceaccount.com",
    subject: "",
    audience: "https://oauth2.example.com/token",
    scope: "files.read",
    lifetime_s: 3600,
    margin_s: 60,
};

static SERVICE: Provider = Provider {
    capability: "sa",
    schemes: &[Scheme { secret: "SA_KEY", auth: AuthScheme::ServiceAccount(&GRANT), headers: &[] }],
    request_id_header: Some("X-Request-Id"),
    ..OAUTH
};

/// A PKCS#1 PEM as the runtime checks it (the signature itself is the entry's, WebCrypto's).
const PEM: &str = "-----BEGIN RSA PRIVATE KEY-----\nMAA=\n-----END RSA PRIVATE KEY-----\n";

/// Standard base64 without padding, as an API might encode what it echoes.
fn b64_bare(s: &str) -> String {
    b64(s).trim_end_matches('=').to_owned()
}

/// A response echoing `value` in the body (as it is, in base64, in a form) and as the request
/// id; or, `binary`, as the bytes of a binary body.
fn echo<'a>(value: &str, body: &'a mut String, binary: bool) -> HttpResponse<'a> {
    *body = if binary { format!("\u{1}\u{2}{value}\u{3}") } else { format!(r#"{{"raw":"{value}","b64":"{}","form":"assertion={value}&x=1"}}"#, b64_bare(value)) };
    let body: &'a String = body;
    let text: &'a &'a str = Box::leak(Box::new(body.as_str()));
    let id: &'a str = Box::leak(format!("req_{value}").into_boxed_str());
    HttpResponse { status: 200, content_type: Some(if binary { "application/octet-stream" } else { "application/json" }), request_id: Some(id), location: None, hints: Default::default(), link: None, binary, body: text }
}

/// That nothing of `value` (whole, base64) reached the envelope `v`.
fn scrubbed(v: &serde_json::Value, value: &str) {
    let text = v.to_string();
    assert!(!text.contains(value) && !text.contains(&b64_bare(value)), "{value} reached the caller: {text}");
    assert!(!text.contains(&value[..value.len().min(24)]), "a piece of {value} reached the caller: {text}");
}

#[test]
fn a_service_accounts_assertion_is_scrubbed_from_every_call_while_its_token_is_cached() {
    let env = Env { values: HashMap::from([("SA_KEY", PEM)]), tokens: Tokens::default(), sharing: Sharing::Off };
    let Step::Sign { scheme: 0, input, .. } = begin(&SERVICE, 0, "[]", &env, NOW) else { panic!("the JWT is signed first") };
    let Signed::Exchange(exchange) = signed(&env.tokens, 0, &GRANT, &input, &[7; 64], NOW, None) else { panic!("then exchanged") };
    let mut wire = String::new();
    exchange.push_fetch_json(&mut wire, &capa_rs::redact::Redactor::default());
    let wire: serde_json::Value = serde_json::from_str(&wire).unwrap();
    let assertion = wire[2].as_str().unwrap().split("assertion=").nth(1).unwrap().to_owned();
    assert!(assertion.starts_with(&input) && assertion.len() > input.len() + 64, "{assertion}");
    assert!(env.tokens.put(0, 200, r#"{"access_token":"ya29.CANARYsa1","token_type":"Bearer","expires_in":3599}"#, NOW, 60));
    // The call that obtained the token, one that finds it cached, and one sending its own token:
    // none shows the assertion, in any form, in its result, its request id or a binary body.
    let rounds = [
        begin_again(&SERVICE, 0, "[]", &env, NOW, Resume { obtained: true, ..Resume::default() }),
        begin(&SERVICE, 0, "[]", &env, NOW + 10_000.0),
        begin(&SERVICE, 0, r#"[{"auth":{"apiKey":"ya29.CANARYcaller"}}]"#, &env, NOW + 20_000.0),
    ];
    for step in rounds {
        let Step::Fetch(call) = step else { panic!("{step:?}") };
        let mut body = String::new();
        let v = envelope(call.finish(&echo(&assertion, &mut body, false), NOW + 30_000.0));
        assert_eq!(v["ok"], true, "{v}");
        // An id as long as a JWT is no request id (a receipt takes 128 characters at most).
        assert_eq!(v["receipt"]["requestId"], serde_json::Value::Null);
        assert_eq!(v["result"]["raw"], "[REDACTED]");
        scrubbed(&v, &assertion);
    }
    let Step::Fetch(call) = begin(&SERVICE, 0, "[]", &env, NOW + 40_000.0) else { panic!() };
    let mut body = String::new();
    let v = envelope(call.finish(&echo(&assertion, &mut body, true), NOW + 40_001.0));
    assert_eq!(v["error"]["code"], "upstream_body_withheld", "{v}");
    scrubbed(&v, &assertion);
    // Shared with its token through the token object (sealed there): another isolate that adopts
    // the token scrubs the assertion too.
    let (record, ..) = env.tokens.record(0).unwrap();
    let other = Env { values: env.values.clone(), tokens: Tokens::default(), sharing: Sharing::Off };
    other.tokens.need(0, NOW + 50_000.0);
    assert_eq!(adopt(&other.tokens, 0, Some(&record), false, NOW + 50_000.0), Adopted::Serve);
    let Step::Fetch(call) = begin(&SERVICE, 0, "[]", &other, NOW + 50_001.0) else { panic!() };
    let mut body = String::new();
    scrubbed(&envelope(call.finish(&echo(&assertion, &mut body, false), NOW + 50_002.0)), &assertion);
}

static LOGIN: Login = Login {
    url: "https://app.example.com/login",
    json: false,
    fields: &[("username", "APP_USER"), ("password", "APP_PASSWORD")],
    cookies: &["sid"],
    relogin: &[401],
    wall_type: "",
    wall_marker: "",
    lifetime_s: 3600,
    margin_s: 60,
};

static APP: Provider = Provider {
    capability: "app",
    schemes: &[Scheme { secret: "APP_PASSWORD", auth: AuthScheme::Session(&LOGIN), headers: &[] }],
    request_id_header: Some("X-Request-Id"),
    ..OAUTH
};

#[test]
fn a_logins_user_name_is_a_credential_scrubbed_like_its_password() {
    const USER: &str = "ada.lovelace@example.com";
    let env = Env { values: HashMap::from([("APP_USER", USER), ("APP_PASSWORD", "pw_CANARYlogin0000")]), tokens: Tokens::default(), sharing: Sharing::Off };
    let login = begin(&APP, 0, "[]", &env, NOW);
    assert_eq!(wire_of(&login)[2], "username=ada.lovelace%40example.com&password=pw_CANARYlogin0000");
    assert!(env.tokens.put_session(0, &LOGIN, 302, "sid=sid_CANARYsession0001; Max-Age=600", NOW));
    let Step::Fetch(call) = begin_again(&APP, 0, "[]", &env, NOW, Resume { obtained: true, ..Resume::default() }) else { panic!() };
    let mut body = String::new();
    let v = envelope(call.finish(&echo(USER, &mut body, false), NOW + 1.0));
    assert_eq!((v["result"]["raw"].as_str(), v["receipt"]["requestId"].as_str()), (Some("[REDACTED]"), Some("req_[REDACTED]")));
    scrubbed(&v, USER);
    assert!(!v.to_string().contains("ada.lovelace%40example.com"), "{v}");
    // The login as it was sent (form-encoded), logged in base64 and echoed: found too.
    let Step::Fetch(call) = begin(&APP, 0, "[]", &env, NOW + 1.5) else { panic!() };
    let logged = format!(r#"{{"logged":"{}"}}"#, b64("username=ada.lovelace%40example.com&password=pw_CANARYlogin0000"));
    let body: &str = &logged;
    let v = envelope(call.finish(&HttpResponse { status: 200, content_type: Some("application/json"), request_id: None, location: None, hints: Default::default(), link: None, binary: false, body: &body }, NOW + 1.6));
    assert!(!v.to_string().contains(&b64("ada.lovelace%40example.com")[..24]), "{v}");
    // A call sending its own cookie scans for it too: it is the deployment's credential.
    let Step::Fetch(call) = begin(&APP, 0, r#"[{"auth":{"apiKey":"sid=sid_CANARYcaller000"}}]"#, &env, NOW + 2.0) else { panic!() };
    let mut body = String::new();
    scrubbed(&envelope(call.finish(&echo(USER, &mut body, false), NOW + 3.0)), USER);
}
