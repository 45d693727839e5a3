//! What a caller holds, natively: binding props and sessions made into grants, and calls made
//! through them (the generated Stripe table). The same runs in workerd in
//! `tests/sessions.test.mjs`.

use capa_rs::call::{begin_held, Bindings, Resume, Step};
use capa_rs::grant;
use capa_rs::provider::PROVIDER;
use capa_rs::receipt::Envelope;
use std::collections::HashMap;

const SECRET: &str = "sk_test_CANARYworkersecret";
const TENANT: &str = "sk_test_CANARYtenantkey01";
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

/// What a call through `grant` does: `Ok(authorization header sent)` or `Err((code, message))`.
fn call(grant: &str, call: &str, args: &str) -> Result<String, (String, String)> {
    let held = (!grant.is_empty()).then_some(grant);
    match begin_held(&PROVIDER, op(call), args, &env(), NOW, Resume::default(), held) {
        Step::Fetch(c) => Ok(c.request().header("authorization").unwrap_or_default().to_owned()),
        Step::Done(Envelope::Complete(text)) => {
            assert!(!text.contains(SECRET) && !text.contains(TENANT), "credential in envelope: {text}");
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            Err((v["error"]["code"].as_str().unwrap().to_owned(), v["error"]["message"].as_str().unwrap().to_owned()))
        }
        other => panic!("{other:?}"),
    }
}

fn code(r: Result<String, (String, String)>) -> String {
    r.map_or_else(|(code, _)| code, |_| String::from("sent"))
}

fn session(from: &str, auth: &str, rights: &str) -> String {
    grant::session(&PROVIDER, from, &format!("[{auth},{rights}]"))
}

#[test]
fn a_session_sends_its_key_and_refuses_another() {
    let s = session("", &format!(r#"{{"apiKey":"{TENANT}","headers":{{"Stripe-Account":"acct_1"}}}}"#), "null");
    assert!(!format!("{:?}", grant::Held::read(&s).unwrap()).contains(TENANT), "Debug prints no credential");
    assert_eq!(call(&s, "customers.list", r#"[{"limit":1}]"#), Ok(format!("Bearer {TENANT}")));
    let (c, message) = call(&s, "customers.list", r#"[{"limit":1},{"auth":{"apiKey":"sk_other"}}]"#).unwrap_err();
    assert_eq!(c, "invalid_argument");
    assert!(message.contains("auth is fixed"), "{message}");
    // Refused as a switch whatever it holds: a malformed one, a header off the allow-list,
    // an empty one, null (README, "Sessions": "whatever it holds").
    for other in [r#"{"apiKey":5}"#, r#"{"headers":{"X-Other":"1"}}"#, "{}", "null"] {
        let (c, message) = call(&s, "customers.list", &format!(r#"[null,{{"auth":{other}}}]"#)).unwrap_err();
        assert_eq!(c, "invalid_argument", "{other}");
        assert!(message.contains("auth is fixed"), "{other}: {message}");
    }
    // `{ auth: null }` alone, where params would go, is options too: refused.
    let (c, message) = call(&s, "customers.list", r#"[{"auth":null}]"#).unwrap_err();
    assert_eq!(c, "invalid_argument");
    assert!(message.contains("auth is fixed") && message.contains("null too"), "{message}");
    assert_eq!(code(call(&s, "customers.retrieve", r#"["cus_1",{"auth":null}]"#)), "invalid_argument");
    // Options without auth, or no options, pass.
    assert_eq!(code(call(&s, "customers.list", r#"[null,{}]"#)), "sent");
    assert_eq!(code(call(&s, "customers.list", r#"[null,null]"#)), "sent");
    // Switching only the connected account is switching tenant too.
    assert_eq!(code(call(&s, "customers.list", r#"[null,{"auth":{"headers":{"Stripe-Account":"acct_2"}}}]"#)), "invalid_argument");
    // A session without a key sends the Worker's, and still fixes auth.
    let own = session("", "null", "null");
    assert_eq!(call(&own, "customers.list", "[]"), Ok(format!("Bearer {SECRET}")));
    assert_eq!(code(call(&own, "customers.list", r#"[{"auth":{"apiKey":"sk_x"}}]"#)), "invalid_argument");
    // Outside a session, per-call auth stays.
    assert_eq!(call("", "customers.list", &format!(r#"[{{"auth":{{"apiKey":"{TENANT}"}}}}]"#)), Ok(format!("Bearer {TENANT}")));
}

#[test]
fn a_session_made_with_bad_auth_or_rights_answers_invalid_argument() {
    for (auth, rights, says) in [
        (r#"{"apiKey":7}"#, "null", "apiKey must be a string"),
        (r#"{"headers":{"Authorization":"x"}}"#, "null", "Authorization"),
        (r#""sk_plain""#, "null", "must be an object"),
        (r#"{"apiKey":"k","token":"t"}"#, "null", "unknown key"),
        ("null", r#"{"except":["mony"]}"#, "`mony`"),
        ("null", r#"{"only":"customer.*"}"#, "`customer.*`"),
        ("null", r#"{"readOnly":"yes"}"#, "readOnly"),
        ("null", r#"{"all":true}"#, "`all`"),
        ("null", "7", "must be an object"),
        // Only ASCII spaces are trimmed: a no-break space or a tab makes a name that is no class.
        ("null", r#"{"except":["money\u00a0"]}"#, "`money` with a character around it that is no ASCII space"),
        ("null", r#"{"only":"\tread"}"#, "`read` with a character around it"),
        ("null", r#"{"except":["mo\u00a0ney"]}"#, "`<unprintable name>`"),
    ] {
        let s = session("", auth, rights);
        let (c, message) = call(&s, "customers.list", "[]").unwrap_err();
        assert_eq!(c, "invalid_argument", "{auth} {rights}");
        assert!(message.contains(says) && message.contains("withAuth"), "{message}");
        // And its attenuations with it.
        assert_eq!(code(call(&grant::attenuate(&PROVIDER, &s, "[null]"), "customers.list", "[]")), "invalid_argument");
    }
    let (_, message) = call(&grant::session(&PROVIDER, "", r#"[null,null,{}]"#), "customers.list", "[]").unwrap_err();
    assert!(message.contains("no more"), "{message}");
    // A value JSON would change, as the entry reports it.
    assert_eq!(code(call(&grant::session(&PROVIDER, "", "\0[\"Map\",0]"), "customers.list", "[]")), "invalid_argument");
}

#[test]
fn rights_only_narrow_and_name_the_layer() {
    let s = session("", "null", r#"{"only":["customers.*","charges.*"],"except":["money","destructive"]}"#);
    assert_eq!(code(call(&s, "customers.list", "[]")), "sent");
    assert_eq!(code(call(&s, "customers.create", "[]")), "sent");
    let (c, message) = call(&s, "customers.del", r#"["cus_1"]"#).unwrap_err();
    assert_eq!(c, "operation_not_allowed");
    assert!(message.contains("the session"), "{message}");
    assert_eq!(code(call(&s, "charges.create", "[]")), "operation_not_allowed");
    assert_eq!(code(call(&s, "charges.retrieve", r#"["ch_1"]"#)), "sent");
    assert_eq!(code(call(&s, "invoices.list", "[]")), "operation_not_allowed");

    // attenuate narrows; asking for more yields the intersection, never a wider session.
    let read = grant::attenuate(&PROVIDER, &s, r#"[{"readOnly":true}]"#);
    assert_eq!(code(call(&read, "customers.list", "[]")), "sent");
    assert_eq!(code(call(&read, "customers.create", "[]")), "operation_not_allowed");
    let wider = grant::attenuate(&PROVIDER, &read, r#"[{"only":["invoices.*","customers.create","customers.list"]}]"#);
    assert_eq!(code(call(&wider, "invoices.list", "[]")), "operation_not_allowed");
    assert_eq!(code(call(&wider, "customers.create", "[]")), "operation_not_allowed");
    assert_eq!(code(call(&wider, "customers.list", "[]")), "sent");
    let nothing = grant::attenuate(&PROVIDER, &wider, r#"[{"only":[]}]"#);
    assert_eq!(code(call(&nothing, "customers.list", "[]")), "operation_not_allowed");
    // Attenuation keeps the session's auth.
    let keyed = session("", &format!(r#"{{"apiKey":"{TENANT}"}}"#), "null");
    assert_eq!(call(&grant::attenuate(&PROVIDER, &keyed, r#"[{"only":"read"}]"#), "customers.list", "[]"), Ok(format!("Bearer {TENANT}")));
    // A bad attenuation makes a session that calls nothing, not one that calls more.
    assert_eq!(code(call(&grant::attenuate(&PROVIDER, &keyed, r#"[{"except":["mony"]}]"#), "customers.list", "[]")), "invalid_argument");
    // attenuate is a session's alone: a binding's grant has no session to narrow.
    assert_eq!(code(call(&grant::attenuate(&PROVIDER, &grant::props(&PROVIDER, r#"{"readOnly":true}"#), "[null]"), "customers.list", "[]")), "invalid_argument");

    // Every operation by class, through the whole table (more than four per hex digit).
    let money = session("", "null", r#"{"only":["money"]}"#);
    let count = PROVIDER.operations.iter().filter(|o| code(call(&money, o.call, "[]")) != "operation_not_allowed").count();
    assert_eq!(count, 67, "Stripe's money class");
}

#[test]
fn binding_props_narrow_its_calls_and_its_sessions() {
    assert_eq!(grant::props(&PROVIDER, "{}"), "", "no props, no grant: the plain path");
    let read = grant::props(&PROVIDER, r#"{"only":["read"],"readOnly":true}"#);
    assert_eq!(code(call(&read, "customers.list", "[]")), "sent");
    let (c, message) = call(&read, "customers.create", "[]").unwrap_err();
    assert_eq!(c, "operation_not_allowed");
    assert!(message.contains("the caller's binding"), "{message}");
    // Per-call auth passes through a binding's grant (it is no session).
    assert_eq!(call(&read, "customers.list", &format!(r#"[{{"auth":{{"apiKey":"{TENANT}"}}}}]"#)), Ok(format!("Bearer {TENANT}")));
    // A session made through the binding keeps its layer: asking for writes gets none.
    let s = session(&read, "null", r#"{"only":["customers.*"]}"#);
    let (_, message) = call(&s, "customers.create", "[]").unwrap_err();
    assert!(message.contains("the caller's binding"), "{message}");
    assert_eq!(code(call(&s, "customers.list", "[]")), "sent");
    assert_eq!(code(call(&s, "charges.list", "[]")), "operation_not_allowed");
    // A binding whose grant could not be made (a fault: the entry's fail-closed text) refuses
    // its sessions too; so does text the runtime did not write.
    for broken in ["!the capability could not read these rights", "Xforged"] {
        assert_eq!(code(call(&session(broken, "null", "null"), "customers.list", "[]")), "invalid_argument", "{broken}");
    }
    // Props that name nothing, or hold what capa does not read, refuse every call (fail closed).
    for props in [r#"{"except":["mony"]}"#, r#"{"auth":"STRIPE_TENANT"}"#, r#"{"readOnly":"true"}"#, "[]"] {
        let g = grant::props(&PROVIDER, props);
        let (c, message) = call(&g, "customers.list", "[]").unwrap_err();
        assert_eq!(c, "operation_not_allowed", "{props}");
        assert!(message.contains("props"), "{message}");
    }
}

#[test]
fn rights_lists_are_bounded_in_every_layer() {
    let list = |n: usize, entry: &str| format!("[{}]", vec![format!("\"{entry}\""); n].join(","));
    // 256 entries are read; 257 are not, in either form, whatever they hold.
    let s = session("", "null", &format!(r#"{{"except":{}}}"#, list(256, "money")));
    assert_eq!(code(call(&s, "customers.list", "[]")), "sent");
    assert_eq!(code(call(&s, "charges.create", "[]")), "operation_not_allowed");
    for rights in [
        format!(r#"{{"except":{}}}"#, list(257, "money")),
        format!(r#"{{"only":{}}}"#, list(257, "")),
        format!(r#"{{"only":"{}"}}"#, vec!["read"; 257].join(",")),
    ] {
        let (c, message) = call(&session("", "null", &rights), "customers.list", "[]").unwrap_err();
        assert_eq!(c, "invalid_argument");
        assert!(message.starts_with("withAuth's rights hold more than 256 entries in `"), "{message}");
        assert!(message.contains("(a rights list holds at most 256)"), "{message}");
    }
    let (c, message) = call(&session("", "null", &format!(r#"{{"except":["{}"]}}"#, "a".repeat(257))), "customers.list", "[]").unwrap_err();
    assert_eq!(c, "invalid_argument");
    assert!(message.contains("hold an entry of 257 bytes in `except` (a rights entry holds at most 256)"), "{message}");

    // attenuate: bounded the same, and a refused attenuation calls nothing.
    let (c, message) = call(&grant::attenuate(&PROVIDER, &s, &format!(r#"[{{"only":{}}}]"#, list(257, "read"))), "customers.list", "[]").unwrap_err();
    assert_eq!(c, "invalid_argument");
    assert!(message.starts_with("attenuate's rights hold more than 256 entries in `only`"), "{message}");

    // A binding's props past the bound refuse every call through it (fail closed, as props naming
    // nothing do).
    let props = grant::props(&PROVIDER, &format!(r#"{{"except":{}}}"#, list(300, "money")));
    let (c, message) = call(&props, "customers.list", "[]").unwrap_err();
    assert_eq!(c, "operation_not_allowed");
    assert!(message.contains("its props hold more than 256 entries in `except`"), "{message}");
}

#[test]
fn rights_at_their_bounds_fit_the_arguments_bound() {
    // Both lists full, every entry 256 bytes (a name padded with ASCII spaces, which are
    // trimmed), and a key: read, not refused for their size.
    let padded = |name: &str| format!("\"{name}{}\"", " ".repeat(256 - name.len()));
    let full = |name: &str| format!("[{}]", vec![padded(name); 256].join(","));
    let rights = format!(r#"{{"only":{},"except":{}}}"#, full("customers.*"), full("destructive"));
    let json = format!(r#"[{{"apiKey":"{TENANT}","headers":{{"Stripe-Account":"acct_1"}}}},{rights}]"#);
    assert!(json.len() > 128 * 1024 && json.len() <= grant::MAX_ARGUMENTS_JSON, "{}", json.len());
    let s = grant::session(&PROVIDER, "", &json);
    assert_eq!(call(&s, "customers.list", "[]"), Ok(format!("Bearer {TENANT}")));
    assert_eq!(code(call(&s, "customers.del", r#"["cus_1"]"#)), "operation_not_allowed");
    assert_eq!(code(call(&grant::attenuate(&PROVIDER, &s, &format!("[{rights}]")), "customers.list", "[]")), "sent");
    // A byte more than the arguments' bound is refused before it is parsed, naming both bounds.
    let over = format!(r#"[null,{{"except":["money"]}}{}]"#, " ".repeat(grant::MAX_ARGUMENTS_JSON));
    let (c, message) = call(&grant::session(&PROVIDER, "", &over), "customers.list", "[]").unwrap_err();
    assert_eq!(c, "invalid_argument");
    let says = format!("withAuth's arguments are {} bytes as JSON, more than its auth and rights can hold (at most 262144; a rights list holds at most 256 entries of at most 256 bytes)", over.len());
    assert!(message.starts_with(&says), "{message}");
}

#[test]
fn a_million_entries_answer_at_once() {
    // Unbounded, each entry was resolved against the 533 operations: about 1.6 s of CPU per
    // withAuth in workerd for a million. Now the text is measured, not even parsed.
    let rights = format!(r#"{{"except":[{}]}}"#, vec!["\"webhookEndpoints.update\""; 1_000_000].join(","));
    for (json, method) in [(format!("[null,{rights}]"), "withAuth"), (format!("[{rights}]"), "attenuate")] {
        let started = std::time::Instant::now();
        let s = if method == "withAuth" { grant::session(&PROVIDER, "", &json) } else { grant::attenuate(&PROVIDER, &session("", "null", "null"), &json) };
        let took = started.elapsed();
        let (c, message) = call(&s, "customers.list", "[]").unwrap_err();
        assert_eq!(c, "invalid_argument");
        assert!(message.starts_with(&format!("{method}'s arguments are {} bytes as JSON", json.len())), "{message}");
        assert!(took < std::time::Duration::from_millis(10), "{method}: {took:?}");
    }
}

#[test]
fn props_name_a_tenant_or_caller_which_sessions_keep_and_withauth_cannot_set() {
    use capa_rs::grant::Held;
    // A name alone makes a grant (the budget needs it) that narrows nothing.
    let g = grant::props(&PROVIDER, r#"{"caller":"billing","tenant":"acme"}"#);
    assert_eq!(Held::read(&g).unwrap().who, "tacme", "the tenant keys the bucket");
    assert_eq!(code(call(&g, "charges.create", "[]")), "sent");
    let g = grant::props(&PROVIDER, r#"{"caller":"billing","only":["read"]}"#);
    assert_eq!(Held::read(&g).unwrap().who, "cbilling");
    assert_eq!(code(call(&g, "charges.create", "[]")), "operation_not_allowed");
    // Sessions and their attenuations keep the binding's name.
    let s = session(&g, &format!(r#"{{"apiKey":"{TENANT}"}}"#), "null");
    assert_eq!(Held::read(&s).unwrap().who, "cbilling");
    let a = grant::attenuate(&PROVIDER, &s, r#"[{"only":["customers.list"]}]"#);
    assert_eq!(Held::read(&a).unwrap().who, "cbilling");
    assert_eq!(code(call(&a, "customers.list", "[]")), "sent");
    // Without props, no one is named.
    assert_eq!(grant::props(&PROVIDER, "{}"), "");
    // withAuth's rights take no names: a session cannot choose whose quota it spends.
    let (c, message) = call(&session("", "null", r#"{"tenant":"other"}"#), "customers.list", "[]").unwrap_err();
    assert_eq!(c, "invalid_argument");
    assert!(message.contains("`tenant`"), "{message}");
    // Malformed names refuse every call through the binding.
    for props in [r#"{"tenant":""}"#, r#"{"tenant":"a b"}"#, r#"{"caller":["x"]}"#, r#"{"caller":"x","who":"y"}"#] {
        let (c, _) = call(&grant::props(&PROVIDER, props), "customers.list", "[]").unwrap_err();
        assert_eq!(c, "operation_not_allowed", "{props}");
    }
}
