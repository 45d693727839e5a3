//! Several schemes in one provider, natively: each operation sends its own scheme's credentials
//! (a key header with its secret header, or a bearer token), per-call credentials come whole,
//! and an unset handle is `missing_credential` naming it. The workerd side is
//! `tests/auth.test.mjs` against the `auth-multi` fixture.

use capa_rs::call::{begin, Bindings, Step};
use capa_rs::receipt::Envelope;
use capa_rs::table::{AuthScheme, AuthUse, Body, Method, Operation, Provider, Scheme};
use std::collections::HashMap;

#[path = "support/fetch.rs"]
mod fetch;
use fetch::wire_headers;

const NOW: f64 = 1_795_489_629_248.0;

const fn op(call: &'static str, path: &'static str, auth: AuthUse, scheme: u8) -> Operation {
    Operation { id: call, call, method: Method::Get, path, server: 0, path_params: &[], multi: 0, params: &[], body: Body::None, auth, scheme, classes: 1 }
}

static OPS: [Operation; 3] = [
    op("reports.list", "/reports", AuthUse::Required, 0),
    op("me.retrieve", "/me", AuthUse::Required, 1),
    op("public.retrieve", "/public", AuthUse::Never, 0),
];

static MULTI: Provider = Provider {
    capability: "multi",
    schemes: &[
        Scheme { secret: "M_KEY", auth: AuthScheme::Header("X-Api-Key"), headers: &[("X-Api-Secret", "M_SECRET")] },
        Scheme { secret: "M_TOKEN", auth: AuthScheme::Bearer, headers: &[] },
    ],
    call_headers: &["X-Api-Secret"],
    secret_call_headers: &["X-Api-Secret"],
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

struct Env(HashMap<&'static str, &'static str>);

impl Bindings for Env {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).copied()
    }
}

fn full() -> Env {
    Env(HashMap::from([("M_KEY", "key_CANARY1"), ("M_SECRET", "sec_CANARY2"), ("M_TOKEN", "tok_CANARY3")]))
}

fn call(env: &Env, i: u32, args: &str) -> Result<Vec<(String, String)>, serde_json::Value> {
    match begin(&MULTI, i, args, env, NOW) {
        Step::Fetch(call) => {
            let mut wire = String::new();
            call.push_fetch_json(&mut wire, NOW);
            let v: serde_json::Value = serde_json::from_str(&wire).unwrap();
            Ok(wire_headers(&v[3]))
        }
        Step::Done(Envelope::Complete(text)) => {
            assert!(!text.contains("CANARY"), "a credential in an envelope: {text}");
            Err(serde_json::from_str(&text).unwrap())
        }
        other => panic!("{other:?}"),
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[test]
fn each_operation_sends_its_own_schemes_credentials() {
    let env = full();
    let reports = call(&env, 0, "[]").unwrap();
    assert_eq!(header(&reports, "X-Api-Key"), Some("key_CANARY1"));
    assert_eq!(header(&reports, "X-Api-Secret"), Some("sec_CANARY2"));
    assert_eq!(header(&reports, "authorization"), None);
    let me = call(&env, 1, "[]").unwrap();
    assert_eq!(header(&me, "authorization"), Some("Bearer tok_CANARY3"));
    assert_eq!((header(&me, "X-Api-Key"), header(&me, "X-Api-Secret")), (None, None));
    let public = call(&env, 2, "[]").unwrap();
    assert!(public.iter().all(|(_, v)| !v.contains("CANARY")), "{public:?}");
}

#[test]
fn per_call_credentials_come_whole() {
    let env = full();
    let both = call(&env, 0, r#"[{"auth":{"apiKey":"key_CANARYcall","headers":{"x-api-secret":"sec_CANARYcall"}}}]"#).unwrap();
    assert_eq!(header(&both, "X-Api-Key"), Some("key_CANARYcall"));
    assert_eq!(header(&both, "X-Api-Secret"), Some("sec_CANARYcall"), "the call's secret, not the deployment's, and only once");
    assert_eq!(both.iter().filter(|(n, _)| n.eq_ignore_ascii_case("x-api-secret")).count(), 1);
    for half in [r#"[{"auth":{"apiKey":"key_CANARYcall"}}]"#, r#"[{"auth":{"headers":{"X-Api-Secret":"sec_CANARYcall"}}}]"#] {
        let e = call(&env, 0, half).unwrap_err();
        assert_eq!(e["error"]["code"], "invalid_argument", "{half}: {e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("X-Api-Secret"), "{e}");
    }
    // A per-call key for the bearer operation is a bearer token; a secret header has no place.
    let me = call(&env, 1, r#"[{"auth":{"apiKey":"tok_CANARYcall"}}]"#).unwrap();
    assert_eq!(header(&me, "authorization"), Some("Bearer tok_CANARYcall"));
    // Never sends a credential, the call's secret header included.
    let public = call(&env, 2, r#"[{"auth":{"headers":{"X-Api-Secret":"sec_CANARYcall"}}}]"#).unwrap();
    assert!(public.iter().all(|(_, v)| !v.contains("CANARY")), "{public:?}");
}

#[test]
fn an_unset_handle_is_missing_credential_naming_it() {
    let no_secret = Env(HashMap::from([("M_KEY", "key_CANARY1"), ("M_TOKEN", "tok_CANARY3")]));
    let e = call(&no_secret, 0, "[]").unwrap_err();
    assert_eq!(e["error"]["code"], "missing_credential");
    assert!(e["error"]["message"].as_str().unwrap().contains("wrangler secret put M_SECRET --env multi"), "{e}");
    assert!(call(&no_secret, 1, "[]").is_ok(), "the other scheme's operations go on");
    let no_token = Env(HashMap::from([("M_KEY", "key_CANARY1"), ("M_SECRET", "sec_CANARY2")]));
    let e = call(&no_token, 1, "[]").unwrap_err();
    assert!(e["error"]["message"].as_str().unwrap().contains("M_TOKEN"), "{e}");
}

#[test]
fn every_deployment_credential_is_scanned_for_whichever_is_sent() {
    let env = full();
    let Step::Fetch(call) = begin(&MULTI, 1, "[]", &env, NOW) else { panic!() };
    let mut wire = String::new();
    call.push_fetch_json(&mut wire, NOW);
    let v: serde_json::Value = serde_json::from_str(&wire).unwrap();
    let scan: Vec<&str> = v[4].as_array().unwrap()[1..].iter().filter_map(|n| n.as_str()).collect();
    for value in ["key_CANARY1", "sec_CANARY2", "tok_CANARY3"] {
        assert!(scan.iter().any(|n| value.contains(n)), "{value} not scanned for: {scan:?}");
    }
}
