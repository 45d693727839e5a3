//! The whole call, natively: arguments in, upstream request out, response in, envelope out,
//! through the generated Stripe table (the default build). The same flow runs in workerd in
//! `tests/*.test.mjs`; here it is fast and exhaustive about the pure decisions.

use capa_rs::call::{begin, Bindings, Call, Step, BODY_LIMIT_VAR, ORIGIN_OVERRIDE_VAR};
use capa_rs::provider::PROVIDER;
use capa_rs::receipt::Envelope;
use capa_rs::http::HttpResponse;
use std::collections::HashMap;

const SECRET: &str = "sk_test_CANARYsecret";
const NOW: f64 = 1_795_489_629_248.0;

struct Env(HashMap<&'static str, String>);

impl Bindings for Env {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

fn env() -> Env {
    Env(HashMap::from([("STRIPE_API_KEY", SECRET.to_owned())]))
}

fn op(call: &str) -> u32 {
    PROVIDER.operations.iter().position(|o| o.call == call).unwrap_or_else(|| panic!("no {call}")) as u32
}

fn start(call: &str, args: &str, env: &Env) -> Step {
    begin(&PROVIDER, op(call), args, env, NOW)
}

fn fetch(step: Step) -> Call {
    match step {
        Step::Fetch(call) => call,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn complete(step: Step) -> serde_json::Value {
    match step {
        Step::Done(Envelope::Complete(text)) => {
            assert!(!text.contains(SECRET), "credential in envelope: {text}");
            serde_json::from_str(&text).unwrap()
        }
        other => panic!("expected a complete envelope, got {other:?}"),
    }
}

/// A receipt from its values on the success wire, named as the JS entry names them (a `J`
/// answer's values end with one more, the media type to print should the body not parse).
fn receipt_of(values: &str) -> serde_json::Value {
    let mut values: Vec<serde_json::Value> = serde_json::from_str(values).unwrap();
    if values.len() == capa_rs::receipt::FIELDS.len() + 1 {
        assert!(values.pop().unwrap().is_string());
    }
    assert_eq!(values.len(), capa_rs::receipt::FIELDS.len());
    capa_rs::receipt::FIELDS.iter().map(|k| k.to_string()).zip(values).collect()
}

fn json_response<'a>(status: u16, body: &'a &'a str) -> HttpResponse<'a> {
    HttpResponse { status, content_type: Some("application/json"), request_id: Some("req_1"), location: None, hints: Default::default(), link: None, binary: false, body }
}

#[test]
fn retrieve_builds_the_request_and_attaches_the_body_in_js() {
    let call = fetch(start("customers.retrieve", r#"["cus_123",{"expand":["sources"]}]"#, &env()));
    let req = call.request();
    assert_eq!(req.url, "https://api.stripe.com/v1/customers/cus_123?expand[]=sources");
    assert_eq!(req.header("authorization"), Some(&*format!("Bearer {SECRET}")));
    assert_eq!(req.header("stripe-version"), Some("2024-04-10"));
    assert_eq!(req.body, None);
    let mut text = String::new();
    call.push_fetch_json(&mut text, NOW);
    // The entry's `fetch` wire: [url, method, body, headers, scan, credential], the headers a
    // record (no name repeats).
    let fetch_json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(fetch_json[0], req.url.as_str());
    assert_eq!(fetch_json[1], "GET");
    assert_eq!(fetch_json[2], serde_json::Value::Null);
    assert_eq!(fetch_json[3]["accept"], "application/json");
    assert_eq!(fetch_json[3]["authorization"], format!("Bearer {SECRET}"));
    // What the entry scans the body with (src/redact.rs): one needle, the secret (shared); the
    // shortest base64 run that could encode it; no escape that writes one of its characters.
    assert_eq!(fetch_json[4], serde_json::json!([1, (4 * SECRET.len()).div_ceil(3), "", SECRET]));
    assert_eq!(fetch_json[5], "secret");

    match call.finish(&json_response(200, &r#"{"id":"cus_123"}"#), NOW + 12.0) {
        Step::Done(Envelope::AttachBody { attach: capa_rs::receipt::Attach::Json, receipt }) => {
            let v = receipt_of(&receipt);
            assert_eq!(v["durationMs"], 12);
            assert_eq!(v["startedAt"], "2026-11-24T03:07:09.248Z");
            assert_eq!(v["requestId"], "req_1");
            assert_eq!(v["credential"], "secret");
            assert_eq!(v["verdict"], "pass");
            assert_eq!(v["path"], "/v1/customers/{customer}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_loopback_override_replaces_only_the_origin() {
    let mut e = env();
    e.0.insert(ORIGIN_OVERRIDE_VAR, "http://127.0.0.1:9999".into());
    assert_eq!(fetch(start("customers.del", r#"["cus_1"]"#, &e)).request().url, "http://127.0.0.1:9999/v1/customers/cus_1");
    for ignored in ["https://evil.example", "http://127.0.0.1:9999/x", "http://user@127.0.0.1:9999", "http://127.0.0.2"] {
        e.0.insert(ORIGIN_OVERRIDE_VAR, ignored.into());
        assert_eq!(fetch(start("customers.del", r#"["cus_1"]"#, &e)).request().url, "https://api.stripe.com/v1/customers/cus_1", "{ignored}");
    }
}

#[test]
fn the_body_limit_var_lowers_the_limit_only_with_a_loopback_origin() {
    // The limit the entry reads up to: the `fetch` wire's eighth value.
    let limit = |e: &Env| {
        let mut text = String::new();
        fetch(start("customers.retrieve", r#"["cus_1"]"#, e)).push_fetch_json(&mut text, NOW);
        serde_json::from_str::<serde_json::Value>(&text).unwrap()[7].as_u64().unwrap()
    };
    let manifest = PROVIDER.upstream.max_body_bytes;
    assert_eq!(manifest, 10 << 20);
    let mut e = env();
    e.0.insert(BODY_LIMIT_VAR, "4096".into());
    assert_eq!(limit(&e), manifest, "a deployment without a loopback origin cannot lower it");
    e.0.insert(ORIGIN_OVERRIDE_VAR, "http://127.0.0.1:9999".into());
    assert_eq!(limit(&e), 4096);
    // The error names the limit the call had.
    let text = match fetch(start("customers.retrieve", r#"["cus_1"]"#, &e)).too_large(200, None, NOW + 1.0) {
        Envelope::Complete(text) => text,
        other => panic!("{other:?}"),
    };
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!((v["error"]["code"].as_str(), v["error"]["limit"].as_u64()), (Some("upstream_too_large"), Some(4096)));
    // Never above the manifest's, never none.
    for ignored in ["0", "-1", "11000000", "4k", ""] {
        e.0.insert(BODY_LIMIT_VAR, ignored.into());
        assert_eq!(limit(&e), manifest, "{ignored:?}");
    }
}

#[test]
fn form_bodies_of_reads_travel_in_the_query() {
    // Stripe declares `expand` as a form body field on some DELETEs; fetch sends no DELETE body
    // the way stripe-node does, so it goes to the query.
    let id = PROVIDER
        .operations
        .iter()
        .position(|o| o.method == capa_rs::table::Method::Delete && matches!(o.body, capa_rs::table::Body::Form { .. }))
        .expect("a DELETE with a form body") as u32;
    let op = &PROVIDER.operations[id as usize];
    let field = op.params.iter().find(|p| p.at == capa_rs::table::At::Body).unwrap().name;
    let path_args: Vec<String> = op.path_params.iter().map(|_| "\"x\"".to_owned()).collect();
    let args = format!("[{}{}{{\"{field}\":[\"a\"]}}]", path_args.join(","), if path_args.is_empty() { "" } else { "," });
    let call = fetch(begin(&PROVIDER, id, &args, &env(), NOW));
    assert!(call.request().url.ends_with(&format!("?{field}[0]=a")), "{}", call.request().url);
    assert_eq!(call.request().body, None);
}

#[test]
fn refusals_happen_before_any_request_with_receipts() {
    let v = complete(start("customers.retrieve", r#"["cus_1",{"auth":{"headers":{"Cookie":"a"}}}]"#, &env()));
    assert_eq!(v["error"]["code"], "header_not_allowed");
    assert_eq!(v["receipt"]["attempts"], 0);
    assert_eq!(v["receipt"]["status"], serde_json::Value::Null);
    assert_eq!(v["receipt"]["call"], "customers.retrieve");

    let v = complete(start("customers.retrieve", r#"["cus_1"]"#, &Env(HashMap::new())));
    assert_eq!(v["error"]["code"], "missing_credential");

    let v = complete(start("customers.list", r#"[{"limit":3,"bogus":1}]"#, &env()));
    assert_eq!(v["error"]["code"], "unknown_parameter");

    let v = complete(start("customers.list", "not json", &env()));
    assert_eq!(v["error"]["code"], "invalid_argument");

    let v = complete(begin(&PROVIDER, u32::MAX, "[]", &env(), NOW));
    assert_eq!(v["error"]["code"], "internal");

    // Cloudflare's fetch refuses URLs over 16 KiB with an opaque error: refused here, named.
    let long = "a".repeat(capa_rs::request::MAX_URL);
    let v = complete(start("customers.retrieve", &format!(r#"["{long}"]"#), &env()));
    assert_eq!(v["error"]["code"], "invalid_argument");
    assert!(v["error"]["message"].as_str().unwrap().contains("over the 16 KiB Cloudflare allows"));
    let fits = "a".repeat(capa_rs::request::MAX_URL - "https://api.stripe.com/v1/customers/".len());
    assert_eq!(fetch(start("customers.retrieve", &format!(r#"["{fits}"]"#), &env())).request().url.len(), capa_rs::request::MAX_URL);

    // A Worker secret no header can carry (a trailing newline) is missing_credential, naming the fix.
    let v = complete(start("customers.retrieve", r#"["cus_1"]"#, &Env(HashMap::from([("STRIPE_API_KEY", format!("{SECRET}\n"))]))));
    assert_eq!(v["error"]["code"], "missing_credential");
    assert!(v["error"]["message"].as_str().unwrap().contains("wrangler secret put STRIPE_API_KEY --env stripe"), "{v}");
    assert!(!v.to_string().contains(SECRET));
    // A call with its own key does not need it.
    fetch(start("customers.retrieve", r#"["cus_1",{"auth":{"apiKey":"sk_test_own"}}]"#, &Env(HashMap::from([("STRIPE_API_KEY", format!("{SECRET}\n"))]))));
}

#[test]
fn a_per_call_key_is_redacted_even_from_our_own_messages() {
    let key = "sk_test_CANARYcall";
    // A caller pasting its key as a header name gets the refusal without the key echoed.
    let args = format!(r#"["cus_1",{{"auth":{{"apiKey":"{key}","headers":{{"{key}":"v"}}}}}}]"#);
    match start("customers.retrieve", &args, &env()) {
        Step::Done(Envelope::Complete(text)) => assert!(!text.contains(key) && !text.contains(SECRET), "{text}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn errors_redirects_and_network_failures() {
    let call = fetch(start("paymentIntents.confirm", r#"["pi_1",{"payment_method":"pm_x"}]"#, &env()));
    let body = format!(r#"{{"error":{{"type":"card_error","code":"card_declined","message":"declined {SECRET}"}}}}"#);
    let v = complete(call.finish(&json_response(402, &body.as_str()), NOW));
    assert_eq!(v["error"]["code"], "upstream_error");
    assert_eq!(v["error"]["status"], 402);
    assert_eq!(v["error"]["message"], "declined [REDACTED]");
    assert_eq!(v["error"]["upstream"]["code"], "card_declined");

    let call = fetch(start("customers.create", r#"[{"email":"a@b.c"}]"#, &env()));
    let moved = HttpResponse { status: 303, content_type: None, request_id: None, location: Some("/v1/customers/cus_9"), hints: Default::default(), link: None, binary: false, body: &"" };
    let call = fetch(call.finish(&moved, NOW));
    assert_eq!(call.request().url, "https://api.stripe.com/v1/customers/cus_9");
    assert_eq!(call.request().method, capa_rs::table::Method::Get);
    assert_eq!(call.request().body, None);
    assert_eq!(call.request().header("content-type"), None);
    assert_eq!(call.request().header("authorization"), Some(&*format!("Bearer {SECRET}")));
    let v = complete(call.finish(&HttpResponse { status: 204, content_type: None, request_id: None, location: None, hints: Default::default(), link: None, binary: false, body: &"" }, NOW));
    assert_eq!(v["result"], serde_json::Value::Null);
    assert_eq!(v["receipt"]["attempts"], 2);

    let call = fetch(start("customers.list", r#"[{"maxRetries":0}]"#, &env()));
    match call.unreachable(&format!("connect failed for Bearer {SECRET}"), false, NOW) {
        Step::Done(Envelope::Complete(text)) => {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["error"]["code"], "upstream_unreachable");
            assert_eq!(v["error"]["message"], "upstream unreachable: connect failed for Bearer [REDACTED]");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_generated_operation_has_a_consistent_entry() {
    let mut calls = std::collections::HashSet::new();
    for op in PROVIDER.operations {
        assert!(calls.insert(op.call), "duplicate call name {}", op.call);
        let template_params = op.path.matches('{').count();
        assert_eq!(template_params, op.path_params.len(), "{}", op.id);
        assert!(usize::from(op.server) < PROVIDER.servers.len(), "{}", op.id);
    }
    assert_eq!(PROVIDER.operations.len(), 533);
}
