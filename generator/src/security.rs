//! A spec's security schemes against the manifest's: which scheme an operation authenticates
//! with, and what the deploy-time check ([`crate::check`]) reads.
//!
//! An operation's `security` lists alternatives, each a set of the spec's schemes required
//! together. A manifest scheme ([`Attach`](crate::schemes::Attach): the default `[auth]`, or an `[auth.schemes.<name>]`)
//! *meets* an alternative when it attaches every scheme in it: its key one of them (a bearer
//! token also carries OAuth2 and OpenID Connect tokens), its credential headers or the
//! deployment's bound headers the API-key headers among the rest. An operation takes the first
//! alternative, in the spec's order, that some manifest scheme meets — the named scheme for one
//! of the alternative's schemes if it meets it, else the default (a named scheme stands for its
//! own spec scheme only: a bearer token named `token` does not carry another OAuth2 scheme's
//! tokens) — and the default when none does (a browser flow the Worker cannot run: the manifest's credential,
//! or a per-call token). A provider with one scheme therefore sends what it always sent.

use crate::manifest::Manifest;
use crate::schemes::{Attach, Scheme};
use crate::spec::Spec;
use serde_json::Value;
use std::collections::BTreeMap;

/// How a spec's security scheme authenticates.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// An API key `in` header, query or cookie, under `name`.
    Key {
        /// `header`, `query` or `cookie`.
        place: String,
        /// The header, parameter or cookie name.
        name: String,
    },
    /// HTTP bearer.
    Bearer,
    /// HTTP basic.
    Basic,
    /// An OAuth2 or OpenID Connect access token: sent as a bearer token. `browser`: every flow
    /// needs a person in a browser (implicit, authorization code), which the Worker never runs.
    Token {
        /// Only browser flows.
        browser: bool,
    },
    /// Mutual TLS, HTTP digest and the like: nothing the Worker sends.
    Unsupported(String),
}

/// The spec's `components.securitySchemes`, by name.
pub fn kinds(spec: &Spec) -> BTreeMap<String, Kind> {
    let mut out = BTreeMap::new();
    let Some(schemes) = spec.doc.pointer("/components/securitySchemes").and_then(Value::as_object) else { return out };
    for (name, scheme) in schemes {
        let scheme = spec.resolve(scheme).unwrap_or(scheme);
        let text = |k: &str| scheme.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let kind = match text("type").as_str() {
            "apiKey" => Kind::Key { place: text("in"), name: text("name") },
            "http" if text("scheme").eq_ignore_ascii_case("bearer") => Kind::Bearer,
            "http" if text("scheme").eq_ignore_ascii_case("basic") => Kind::Basic,
            "oauth2" => {
                let flows: Vec<String> = scheme.get("flows").and_then(Value::as_object).map(|f| f.keys().cloned().collect()).unwrap_or_default();
                Kind::Token { browser: !flows.is_empty() && flows.iter().all(|f| f == "implicit" || f == "authorizationCode") }
            }
            "openIdConnect" => Kind::Token { browser: true },
            other => Kind::Unsupported(if other == "http" { format!("http {}", text("scheme")) } else { other.to_owned() }),
        };
        out.insert(name.clone(), kind);
    }
    out
}

/// Whether `a`'s key is what `kind` asks for.
pub fn key_attaches(a: &Attach<'_>, kind: &Kind) -> bool {
    match (a.scheme, kind) {
        (Scheme::Bearer, Kind::Bearer | Kind::Token { .. }) => true,
        // The exchanged token is a bearer token too.
        (Scheme::Oauth2 | Scheme::Jwt, Kind::Bearer | Kind::Token { .. }) => true,
        (Scheme::Basic, Kind::Basic) => true,
        (Scheme::Header, Kind::Key { place, name }) => place == "header" && a.header.is_some_and(|h| h.eq_ignore_ascii_case(name)),
        (Scheme::Query, Kind::Key { place, name }) => place == "query" && a.name == Some(name.as_str()),
        (Scheme::Cookie, Kind::Key { place, name }) => place == "cookie" && a.name == Some(name.as_str()),
        // A session's jar: the cookie it keeps (or any, keeping all).
        (Scheme::Session, Kind::Key { place, name }) => place == "cookie" && a.login.is_some_and(|l| l.cookies.is_empty() || l.cookies.contains(name)),
        _ => false,
    }
}

/// Whether `a` (its key, its credential headers) or the deployment's bound headers attach `kind`.
pub fn attaches(manifest: &Manifest, a: &Attach<'_>, kind: &Kind) -> bool {
    let header = |name: &str| a.headers.keys().chain(manifest.upstream.bound_headers.keys()).any(|h| h.eq_ignore_ascii_case(name));
    key_attaches(a, kind) || matches!(kind, Kind::Key { place, name } if place == "header" && header(name))
}

/// Whether `a` meets `alternative` (a set of scheme names required together): its key attaches
/// one of them and the rest are attached too.
pub fn meets(manifest: &Manifest, kinds: &BTreeMap<String, Kind>, a: &Attach<'_>, alternative: &serde_json::Map<String, Value>) -> bool {
    let kind = |s: &String| kinds.get(s);
    !alternative.is_empty()
        && alternative.keys().any(|s| kind(s).is_some_and(|k| key_attaches(a, k)))
        && alternative.keys().all(|s| kind(s).is_some_and(|k| attaches(manifest, a, k)))
}

/// The index into [`Manifest::schemes`] of the scheme an operation with these `alternatives`
/// uses (see the module docs).
pub fn choose(spec: &Spec, manifest: &Manifest, alternatives: &[Value]) -> usize {
    let schemes = manifest.schemes();
    if schemes.len() == 1 {
        return 0;
    }
    let kinds = &kinds(spec);
    for alternative in alternatives.iter().filter_map(Value::as_object) {
        // A named scheme stands for its spec scheme alone; the default for any it attaches.
        let named = schemes.iter().position(|a| a.spec_name.is_some_and(|n| alternative.contains_key(n)) && meets(manifest, kinds, a, alternative));
        if let Some(i) = named.or_else(|| meets(manifest, kinds, &schemes[0], alternative).then_some(0)) {
            return i;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::Named;
    use serde_json::json;

    #[test]
    fn an_operation_takes_the_first_alternative_a_scheme_meets() {
        let spec = Spec::from_value(json!({
            "openapi": "3.0.3", "paths": {},
            "components": { "securitySchemes": {
                "key": { "type": "apiKey", "in": "header", "name": "X-Key" },
                "secret": { "type": "apiKey", "in": "header", "name": "X-Secret" },
                "token": { "type": "http", "scheme": "bearer" },
                "browser": { "type": "oauth2", "flows": { "implicit": { "authorizationUrl": "https://x", "scopes": {} } } },
            } },
        }))
        .unwrap();
        let mut m = Manifest::stand_in(std::path::Path::new("spec.json"));
        m.auth.scheme = Scheme::Header;
        m.auth.header = Some("X-Key".into());
        m.auth.headers.insert("X-Secret".into(), "STATS_SECRET".into());
        let choose = |m: &Manifest, security: Value| choose(&spec, m, security.as_array().unwrap());
        // One scheme: always it, as before.
        assert_eq!(choose(&m, json!([{ "token": [] }])), 0);
        m.auth.schemes.insert("token".into(), Named { secret: "STATS_TOKEN".into(), scheme: Scheme::Bearer, header: None, name: None, username: None, headers: BTreeMap::new(), params: BTreeMap::new(), client_id: None, token_url: None, scopes: Vec::new(), refresh_margin: None, jwt: Default::default(), login: None });
        assert_eq!(choose(&m, json!([{ "key": [], "secret": [] }])), 0);
        assert_eq!(choose(&m, json!([{ "token": [] }])), 1);
        assert_eq!(choose(&m, json!([{ "token": [] }, { "key": [], "secret": [] }])), 1, "spec order decides");
        assert_eq!(choose(&m, json!([{ "key": [] , "secret": [] }, { "token": [] }])), 0);
        // The key without its secret header is not met; a browser flow is the named token's
        // only if it names it: both fall to the default.
        assert_eq!(choose(&m, json!([{ "browser": [] }])), 0);
        m.auth.headers.clear();
        assert_eq!(choose(&m, json!([{ "key": [], "secret": [] }, { "token": [] }])), 1);
    }
}
