//! The manifest's `[auth]` as the spec's `securitySchemes` state it.
//!
//! What every operation asks for is read first: its `security` (else the document's), each
//! alternative a set of the spec's schemes required together. The Worker can run an alternative
//! whose schemes are all API keys, bearer or basic tokens, or OAuth2 client credentials; a flow
//! through a browser (implicit, authorization code, OpenID Connect), OAuth2's password flow,
//! mutual TLS and HTTP digest it never runs, and says so. Each operation's first runnable
//! alternative is its *group*; the group most operations take becomes `[auth]`, every other one
//! an `[auth.schemes.<spec name>]` beside it, which [`crate::security::choose`] then picks per
//! operation exactly as the spec orders them. An alternative requiring an API key header with
//! another credential (a key and a secret together) is one scheme: the key, and
//! `headers = { "<other>" = "<HANDLE>" }` for the rest.
//!
//! Handles are named after the capability: `<NAME>_API_KEY` for a key, `<NAME>_TOKEN` for a
//! bearer token, `<NAME>_USERNAME` and `<NAME>_PASSWORD` for basic, `<NAME>_CLIENT_ID` and
//! `<NAME>_CLIENT_SECRET` for client credentials, `<NAME>_<SCHEME>` for a named scheme's key and
//! `<NAME>_<HEADER>` for a credential header (the name [`crate::check`] proposes).
//!
//! Never `scheme = "jwt"`: OpenAPI cannot say that a Worker signs a service account's JWT
//! itself; `bearerFormat: JWT` only says what the bearer token looks like, and is flagged.

use super::Note;
use crate::security::{kinds, Kind};
use crate::spec::Spec;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One manifest scheme, as it will be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The spec's scheme whose key it sends (the `[auth.schemes.<name>]` name).
    pub spec_name: String,
    /// `bearer`, `basic`, `header`, `query`, `cookie` or `oauth2`.
    pub scheme: &'static str,
    /// Its secret's handle.
    pub secret: String,
    /// Further keys, each `key = value` as TOML, in order.
    pub keys: Vec<(String, String)>,
    /// Comment lines written above it.
    pub comments: Vec<String>,
    /// Operations whose first runnable alternative it serves.
    pub operations: usize,
}

/// What the spec's security makes of `[auth]`.
#[derive(Debug, Default)]
pub struct Inferred {
    /// `[auth]`; `None` when the spec declares no scheme the Worker runs.
    pub default: Option<Entry>,
    /// `[auth.schemes.<name>]`, by name.
    pub named: Vec<Entry>,
    /// `unspecified = "..."`, and why.
    pub unspecified: Option<(&'static str, String)>,
    /// How many operations send a credential (their first runnable alternative is some group's).
    pub with_credential: usize,
    /// What the reader should know.
    pub notes: Vec<Note>,
}

/// `SHOUTY_SNAKE` of a scheme or header name (`apiKey` → `API_KEY`, `X-Api-Secret` →
/// `X_API_SECRET`).
pub fn shout(s: &str) -> String {
    use heck::ToShoutySnakeCase;
    let out = s.to_shouty_snake_case();
    let out: String = out.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if out.is_empty() {
        "KEY".to_owned()
    } else {
        out
    }
}

/// A runnable scheme's kind: what the Worker sends for it.
fn runnable(kind: &Kind, raw: &Value) -> bool {
    match kind {
        Kind::Key { place, .. } => matches!(place.as_str(), "header" | "query" | "cookie"),
        Kind::Bearer | Kind::Basic => true,
        Kind::Token { .. } => raw.pointer("/flows/clientCredentials").is_some(),
        Kind::Unsupported(_) => false,
    }
}

/// The spec's schemes, resolved.
fn raw_schemes(spec: &Spec) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Some(map) = spec.doc.pointer("/components/securitySchemes").and_then(Value::as_object) {
        for (name, s) in map {
            out.insert(name.clone(), spec.resolve(s).unwrap_or(s).clone());
        }
    }
    out
}

/// Every operation's `security` alternatives (its own, else the document's): `None` where it
/// states none and the document neither.
pub fn operations(spec: &Spec) -> Vec<(String, Option<Vec<BTreeMap<String, Vec<String>>>>)> {
    let mut out = Vec::new();
    let doc_security = spec.doc.get("security");
    for (path, item) in spec.doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        let item = spec.resolve(item).unwrap_or(item);
        for method in crate::model::METHODS {
            let Some(op) = item.get(method) else { continue };
            let id = op.get("operationId").and_then(Value::as_str).map_or_else(|| format!("{} {path}", method.to_uppercase()), str::to_owned);
            let security = op.get("security").or(doc_security).and_then(Value::as_array).map(|alts| {
                alts.iter()
                    .filter_map(Value::as_object)
                    .map(|alt| {
                        alt.iter()
                            .map(|(k, v)| (k.clone(), v.as_array().map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect()).unwrap_or_default()))
                            .collect()
                    })
                    .collect()
            });
            out.push((id, security));
        }
    }
    out
}

/// A group's primary scheme: the token or pair over keys, else the key that is not a header,
/// else the first header key by name.
fn primary(group: &BTreeSet<String>, kinds: &BTreeMap<String, Kind>) -> Option<String> {
    let rank = |s: &String| match kinds.get(s) {
        Some(Kind::Bearer | Kind::Basic | Kind::Token { .. }) => 0,
        Some(Kind::Key { place, .. }) if place != "header" => 1,
        _ => 2,
    };
    group.iter().min_by_key(|s| rank(s)).cloned()
}

/// Infers `[auth]` for a capability named `name` from `spec`.
pub fn infer(spec: &Spec, name: &str) -> Inferred {
    let prefix = shout(name);
    let kinds = kinds(spec);
    let raw = raw_schemes(spec);
    let mut out = Inferred::default();
    let ops = operations(spec);

    // Schemes no operation can be served by, noted once each.
    for (scheme, kind) in &kinds {
        let r = &raw[scheme];
        let why = match kind {
            Kind::Token { browser: true } => Some("a flow through a browser (a person signs in), which a Worker never runs".to_owned()),
            Kind::Token { browser: false } if !runnable(kind, r) => Some("an OAuth2 flow other than client credentials (a user's password), which a Worker does not run".to_owned()),
            Kind::Unsupported(what) => Some(format!("{what}, which a Worker cannot send")),
            Kind::Key { place, .. } if !runnable(kind, r) => Some(format!("an API key in `{place}`, not a header, the query or a cookie")),
            _ => None,
        };
        if let Some(why) = why {
            out.notes.push(Note::info(format!(
                "`{scheme}` is {why}: operations accepting only it send the manifest's credential, or a caller's per-call token (options.auth.apiKey)"
            )));
        }
    }

    // Each operation's group: its first alternative the Worker can run.
    let mut groups: Vec<(BTreeSet<String>, usize, BTreeSet<String>)> = Vec::new();
    let mut none_stated = 0;
    let mut browser_only = 0;
    for (_, security) in &ops {
        let Some(alternatives) = security else {
            none_stated += 1;
            continue;
        };
        if alternatives.is_empty() || alternatives.iter().any(BTreeMap::is_empty) {
            continue;
        }
        let group = alternatives.iter().find(|alt| alt.keys().all(|s| kinds.get(s).is_some_and(|k| runnable(k, &raw[s]))));
        let Some(group) = group else {
            browser_only += 1;
            continue;
        };
        out.with_credential += 1;
        let set: BTreeSet<String> = group.keys().cloned().collect();
        let scopes: BTreeSet<String> = group.values().flatten().cloned().collect();
        match groups.iter_mut().find(|(g, ..)| *g == set) {
            Some((_, n, s)) => {
                *n += 1;
                s.extend(scopes);
            }
            None => groups.push((set, 1, scopes)),
        }
    }
    // Most operations first; ties in the spec's order.
    groups.sort_by(|a, b| b.1.cmp(&a.1));

    // Groups become schemes, one per primary spec scheme (a group adding header keys to one
    // already taken widens it).
    let mut entries: Vec<(Entry, BTreeSet<String>, BTreeSet<String>)> = Vec::new();
    for (group, count, scopes) in &groups {
        let Some(key) = primary(group, &kinds) else { continue };
        let rest: BTreeSet<String> = group.iter().filter(|s| **s != key).cloned().collect();
        let unattachable: Vec<&String> = rest.iter().filter(|s| !matches!(kinds.get(*s), Some(Kind::Key { place, .. }) if place == "header")).collect();
        if !unattachable.is_empty() {
            out.notes.push(Note::warn(format!(
                "{count} operation(s) require `{key}` together with {}, which one manifest scheme cannot send beside it: they send `{key}` alone",
                unattachable.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
            )));
        }
        match entries.iter_mut().find(|(e, ..)| e.spec_name == key) {
            Some((e, headers, s)) => {
                e.operations += count;
                headers.extend(rest.into_iter().filter(|r| matches!(kinds.get(r), Some(Kind::Key { place, .. }) if place == "header")));
                s.extend(scopes.iter().cloned());
            }
            None => {
                let headers = rest.into_iter().filter(|r| matches!(kinds.get(r), Some(Kind::Key { place, .. }) if place == "header")).collect();
                let entry = Entry { spec_name: key.clone(), scheme: "bearer", secret: String::new(), keys: Vec::new(), comments: Vec::new(), operations: *count };
                entries.push((entry, headers, scopes.clone()));
            }
        }
    }

    // Declared schemes, stated by no operation nor the document: GitHub's case. The first one
    // the Worker runs is sent when set, and public operations work without.
    if entries.is_empty() && none_stated > 0 && browser_only == 0 {
        if let Some((scheme, _)) = kinds.iter().find(|(s, k)| runnable(k, &raw[*s])) {
            let entry = Entry { spec_name: scheme.clone(), scheme: "bearer", secret: String::new(), keys: Vec::new(), comments: Vec::new(), operations: 0 };
            entries.push((entry, BTreeSet::new(), BTreeSet::new()));
            out.unspecified = Some((
                "optional",
                format!("the spec declares `{scheme}` but no operation states a `security`: the credential is sent when set, and public operations work without"),
            ));
        }
    } else if none_stated > 0 && !entries.is_empty() {
        out.notes.push(Note::info(format!(
            "{none_stated} operation(s) state no `security` and the document none: they send no credential (set [auth] unspecified = \"required\" if the API wants it everywhere)"
        )));
    }

    // Handles, then each scheme's keys.
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut handle = |wanted: String| {
        let mut h = wanted.clone();
        let mut n = 2;
        while !taken.insert(h.clone()) {
            h = format!("{wanted}_{n}");
            n += 1;
        }
        h
    };
    let total = entries.len();
    for (i, (mut entry, headers, scopes)) in entries.into_iter().enumerate() {
        let is_default = i == 0;
        let spec_name = entry.spec_name.clone();
        let kind = &kinds[&spec_name];
        let r = &raw[&spec_name];
        let named_handle = |suffix: &str| if is_default { format!("{prefix}_{suffix}") } else { format!("{prefix}_{}", shout(&spec_name)) };
        let describe = r.get("description").and_then(Value::as_str).map(|d| d.lines().next().unwrap_or("").trim().to_owned()).filter(|d| !d.is_empty());
        entry.comments.push(format!(
            "The spec's `{spec_name}`{}{}.",
            if entry.operations > 0 { format!(", for {} operation(s)", entry.operations) } else { String::new() },
            describe.map(|d| format!(": {}", truncate(d.trim_end_matches('.'), 70))).unwrap_or_default()
        ));
        match kind {
            Kind::Bearer => {
                entry.scheme = "bearer";
                entry.secret = handle(named_handle("TOKEN"));
                if r.get("bearerFormat").and_then(Value::as_str).is_some_and(|f| f.eq_ignore_ascii_case("jwt")) {
                    entry.comments.push("bearerFormat: JWT. Set a token you were given; a JWT the Worker must sign itself (a service".into());
                    entry.comments.push("account) is scheme = \"jwt\" with its key and claims (docs/auth.md), which no spec can say.".into());
                    out.notes.push(Note::warn(format!(
                        "`{spec_name}` says its bearer token is a JWT (bearerFormat: JWT): {} holds a token you were given; if the Worker must sign one itself (a service account), change to scheme = \"jwt\" (docs/auth.md)",
                        entry.secret
                    )));
                }
            }
            Kind::Basic => {
                entry.scheme = "basic";
                entry.secret = handle(if is_default { format!("{prefix}_PASSWORD") } else { format!("{prefix}_{}_PASSWORD", shout(&spec_name)) });
                let user = handle(if is_default { format!("{prefix}_USERNAME") } else { format!("{prefix}_{}_USERNAME", shout(&spec_name)) });
                entry.comments.push("HTTP basic: the secret is the password, the user name its own handle (a secret or a var).".into());
                entry.keys.push(("username".into(), format!("{user:?}")));
            }
            Kind::Key { place, name: key_name } => {
                entry.scheme = match place.as_str() {
                    "query" => "query",
                    "cookie" => "cookie",
                    _ => "header",
                };
                entry.secret = handle(named_handle("API_KEY"));
                match place.as_str() {
                    "header" => entry.keys.push(("header".into(), format!("{key_name:?}"))),
                    _ => entry.keys.push(("name".into(), format!("{key_name:?}"))),
                }
            }
            Kind::Token { .. } => {
                entry.scheme = "oauth2";
                entry.secret = handle(if is_default { format!("{prefix}_CLIENT_SECRET") } else { format!("{prefix}_{}_CLIENT_SECRET", shout(&spec_name)) });
                let id = handle(if is_default { format!("{prefix}_CLIENT_ID") } else { format!("{prefix}_{}_CLIENT_ID", shout(&spec_name)) });
                let token_url = r.pointer("/flows/clientCredentials/tokenUrl").and_then(Value::as_str).unwrap_or("");
                entry.comments.push(format!("OAuth2 client credentials: the Worker exchanges the client id and secret at {token_url}"));
                entry.comments.push("(the spec's tokenUrl), caches the token and refreshes it.".into());
                entry.keys.push(("client_id".into(), format!("{id:?}")));
                out.notes.push(Note::info(format!(
                    "`{spec_name}`: each isolate obtains and caches its own token; to share one across isolates, bind the token object ([env.{name}] CAPA_TOKENS, docs/auth.md)"
                )));
                // The default scheme finds the spec's flow only when it is the spec's one
                // client-credentials flow; name it otherwise.
                let flows = raw.values().filter(|v| v.pointer("/flows/clientCredentials/tokenUrl").is_some()).count();
                if !token_url.starts_with("https://") || (is_default && flows > 1) {
                    entry.keys.push(("token_url".into(), format!("{token_url:?}")));
                }
                let offered: Vec<&String> = r.pointer("/flows/clientCredentials/scopes").and_then(Value::as_object).map(|m| m.keys().collect()).unwrap_or_default();
                if !scopes.is_empty() {
                    entry.comments.push("The scopes the operations it serves ask for.".into());
                    entry.keys.push(("scopes".into(), format!("[{}]", scopes.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", "))));
                } else if !offered.is_empty() {
                    entry.comments.push(format!("No operation names a scope; the flow offers: {}.", offered.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")));
                }
            }
            Kind::Unsupported(_) => {}
        }
        if !headers.is_empty() {
            let pairs: Vec<String> = headers
                .iter()
                .filter_map(|h| match kinds.get(h) {
                    Some(Kind::Key { name: header, .. }) => Some(format!("{header:?} = {:?}", handle(format!("{prefix}_{}", shout(header))))),
                    _ => None,
                })
                .collect();
            entry.comments.push(format!("Required together with {}: each its own handle.", headers.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")));
            entry.keys.push(("headers".into(), format!("{{ {} }}", pairs.join(", "))));
        }
        if !is_default {
            entry.comments.push("Operations whose `security` names it first send it instead of [auth]'s.".into());
        } else if total > 1 {
            entry.comments.push("The default: most operations take it.".into());
        }
        if is_default {
            out.default = Some(entry);
        } else {
            out.named.push(entry);
        }
    }
    if browser_only > 0 && out.default.is_none() {
        out.notes.push(Note::warn(format!(
            "{browser_only} operation(s) accept only flows a Worker cannot run: [auth] is a bearer token you obtain elsewhere ({prefix}_TOKEN), or a caller's per-call token"
        )));
    }
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(security_schemes: Value, paths: Value, doc_security: Option<Value>) -> Spec {
        let mut doc = json!({ "openapi": "3.0.3", "paths": paths, "components": { "securitySchemes": security_schemes } });
        if let Some(s) = doc_security {
            doc["security"] = s;
        }
        Spec::from_value(doc).unwrap()
    }

    fn op(security: Value) -> Value {
        json!({ "security": security, "responses": { "200": { "description": "ok" } } })
    }

    #[test]
    fn shouting_names() {
        assert_eq!(shout("apiKey"), "API_KEY");
        assert_eq!(shout("X-Api-Secret"), "X_API_SECRET");
        assert_eq!(shout("petstore_auth"), "PETSTORE_AUTH");
        assert_eq!(shout("acme-pay"), "ACME_PAY");
    }

    #[test]
    fn the_scheme_most_operations_take_is_the_default_and_the_others_are_named() {
        let s = spec(
            json!({
                "key": { "type": "apiKey", "in": "query", "name": "api_key" },
                "session": { "type": "apiKey", "in": "cookie", "name": "sid" },
                "token": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
            }),
            json!({
                "/a": { "get": op(json!([{ "key": [] }])), "post": op(json!([{ "key": [] }])) },
                "/b": { "get": op(json!([{ "token": [] }, { "key": [] }])) },
                "/c": { "get": op(json!([{ "session": [] }])) },
            }),
            None,
        );
        let i = infer(&s, "acme");
        let d = i.default.unwrap();
        assert_eq!((d.scheme, d.secret.as_str(), d.spec_name.as_str()), ("query", "ACME_API_KEY", "key"));
        assert_eq!(d.keys, vec![("name".to_owned(), "\"api_key\"".to_owned())]);
        let named: Vec<(&str, &str)> = i.named.iter().map(|e| (e.scheme, e.secret.as_str())).collect();
        assert!(named.contains(&("bearer", "ACME_TOKEN")) && named.contains(&("cookie", "ACME_SESSION")), "{named:?}");
        assert!(i.notes.iter().any(|n| n.text.contains("bearerFormat: JWT")), "JWT flagged");
        assert_eq!(i.with_credential, 4);
    }

    #[test]
    fn a_key_and_a_secret_together_are_one_scheme_with_a_credential_header() {
        let s = spec(
            json!({ "apiKey": { "type": "apiKey", "in": "header", "name": "X-Api-Key" }, "apiSecret": { "type": "apiKey", "in": "header", "name": "X-Api-Secret" } }),
            json!({ "/r": { "get": op(json!([{ "apiKey": [], "apiSecret": [] }])) } }),
            None,
        );
        let d = infer(&s, "multi").default.unwrap();
        assert_eq!((d.scheme, d.secret.as_str()), ("header", "MULTI_API_KEY"));
        assert!(d.keys.contains(&("headers".to_owned(), "{ \"X-Api-Secret\" = \"MULTI_X_API_SECRET\" }".to_owned())), "{:?}", d.keys);
    }

    #[test]
    fn basic_gets_a_user_name_handle_and_oauth2_its_client_credentials() {
        let s = spec(
            json!({ "basic": { "type": "http", "scheme": "basic" } }),
            json!({ "/r": { "get": op(json!([{ "basic": [] }])) } }),
            None,
        );
        let d = infer(&s, "tw").default.unwrap();
        assert_eq!((d.scheme, d.secret.as_str()), ("basic", "TW_PASSWORD"));
        assert_eq!(d.keys, vec![("username".to_owned(), "\"TW_USERNAME\"".to_owned())]);

        let s = spec(
            json!({
                "cc": { "type": "oauth2", "flows": { "clientCredentials": { "tokenUrl": "https://auth.example.com/token", "scopes": { "read": "", "write": "" } } } },
                "web": { "type": "oauth2", "flows": { "authorizationCode": { "authorizationUrl": "https://x/a", "tokenUrl": "https://x/t", "scopes": {} } } },
            }),
            json!({ "/r": { "get": op(json!([{ "web": [] }, { "cc": ["read"] }])), "post": op(json!([{ "cc": ["write"] }])) } }),
            None,
        );
        let i = infer(&s, "oa");
        let d = i.default.unwrap();
        assert_eq!((d.scheme, d.secret.as_str()), ("oauth2", "OA_CLIENT_SECRET"));
        assert!(d.keys.contains(&("client_id".to_owned(), "\"OA_CLIENT_ID\"".to_owned())));
        assert!(d.keys.contains(&("scopes".to_owned(), "[\"read\", \"write\"]".to_owned())), "{:?}", d.keys);
        assert!(!d.keys.iter().any(|(k, _)| k == "token_url"), "the spec's https token URL is found by the model");
        assert!(i.notes.iter().any(|n| n.text.contains("`web`") && n.text.contains("browser")), "{:?}", i.notes);
    }

    #[test]
    fn declared_but_never_stated_is_optional() {
        let s = spec(json!({ "t": { "type": "http", "scheme": "bearer" } }), json!({ "/r": { "get": { "responses": {} } } }), None);
        let i = infer(&s, "gh");
        assert_eq!(i.unspecified.map(|u| u.0), Some("optional"));
        assert_eq!(i.default.unwrap().secret, "GH_TOKEN");
    }

    #[test]
    fn never_jwt() {
        let s = spec(json!({ "t": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } }), json!({ "/r": { "get": { "responses": {} } } }), Some(json!([{ "t": [] }])));
        let i = infer(&s, "j");
        assert_eq!(i.default.unwrap().scheme, "bearer");
    }
}
