//! How a credential travels: each scheme's bytes on the wire, and the deployment's credentials
//! prepared for them (the schemes that obtain a token first are [`crate::token`]'s).
//!
//! A provider's table lists its [`Scheme`]s: `[0]` the manifest's `[auth]`, others its
//! `[auth.schemes.<name>]`, each operation naming the one its spec `security` is met by
//! ([`crate::table::Operation::scheme`]; the generator chooses). A scheme reads handles: the key
//! ([`Scheme::secret`], basic's password), for basic with a user of its own the binding holding
//! the user name, and the credential headers that travel with the key ([`Scheme::headers`]: an
//! API key header plus a secret header). Each scheme puts exactly its bytes on the wire:
//!
//! | scheme | on the wire |
//! |---|---|
//! | `Bearer` | `Authorization: Bearer <key>` |
//! | `Basic` | `Authorization: Basic base64(<key>:)` (the key as user name: Stripe) |
//! | `BasicPair { username }` | `Authorization: Basic base64(<user>:<password>)` (Twilio: account SID + auth token) |
//! | `Header(name)` | `<name>: <key>` |
//! | `Query(name)` | `?<name>=<key>`, percent-encoded, after the call's own query (GitLab's `private_token`) |
//! | `Cookie(name)` | `Cookie: <name>=<key>` |
//!
//! Per call, `options.auth.apiKey` replaces the key of the operation's scheme; for basic,
//! `options.auth.password` is the same thing, and a pair's `options.auth.username` comes with it,
//! as a scheme's credential headers come in `options.auth.headers`: a call brings all of them or
//! none, so no tenant's key is ever sent with the deployment's user name or secret header.
//!
//! A key in the query stays out of the request's URL until the request is written for `fetch`
//! ([`crate::http::HttpRequest::push_fetch_json`], the one place credentials are written
//! out): the URL a receipt, an error or a panic could show never holds it. Receipts carry the
//! path template alone, as always.
//!
//! The Worker's own credentials are prepared once per `env` ([`WorkerSecrets`]): each scheme's
//! wire values ([`WorkerSecret`]) and the redactor's forms of every deployment credential, all
//! schemes' together (every call scans for all of them, whichever it sends).

use crate::error::CallError;
use crate::forms::base64;
use crate::redact::Credentials;
use crate::secret::Secret;
use crate::table::{AuthScheme, Provider, Scheme};
use std::rc::Rc;

/// Where the credential goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Header(&'static str),
    Query(&'static str),
}

/// Where `scheme`'s key goes.
pub fn place(scheme: &Scheme) -> Place {
    match scheme.auth {
        AuthScheme::Bearer | AuthScheme::Basic | AuthScheme::BasicPair { .. } | AuthScheme::ClientCredentials(_) | AuthScheme::ServiceAccount(_) => {
            Place::Header("authorization")
        }
        AuthScheme::Session(_) => Place::Header("cookie"),
        AuthScheme::Header(name) => Place::Header(name),
        AuthScheme::Cookie(_) => Place::Header("cookie"),
        AuthScheme::Query(name) => Place::Query(name),
    }
}

/// The binding holding a basic pair's user name, if the scheme has one.
pub fn username_binding(scheme: &Scheme) -> Option<&'static str> {
    match scheme.auth {
        AuthScheme::BasicPair { username } => Some(username),
        _ => None,
    }
}

/// The binding holding the identifier that goes with the key, if the scheme has one: a basic
/// pair's user name, an OAuth2 client's id. Context, kept out of receipts.
pub fn id_binding(scheme: &Scheme) -> Option<&'static str> {
    match scheme.auth {
        AuthScheme::BasicPair { username } => Some(username),
        AuthScheme::ClientCredentials(exchange) => Some(exchange.client_id),
        _ => None,
    }
}

/// A session's login field handles other than its secret (the user name): credentials like the
/// password, since whoever holds the login's fields holds the session.
fn login_handles(scheme: &Scheme) -> impl Iterator<Item = &'static str> {
    let fields: &'static [(&'static str, &'static str)] = match scheme.auth {
        AuthScheme::Session(login) => login.fields,
        _ => &[],
    };
    let secret = scheme.secret;
    fields.iter().map(|&(_, h)| h).filter(move |h| *h != secret)
}

/// Every handle of `provider`'s schemes whose value is a credential (keys, credential
/// headers, every field of a session's login, its user name too; a basic user name and a client
/// id are context): what the deployment's redactor scans for.
pub fn credential_handles(provider: &Provider) -> impl Iterator<Item = &'static str> {
    provider
        .schemes
        .iter()
        .flat_map(|s| std::iter::once(s.secret).chain(s.headers.iter().map(|&(_, h)| h)).chain(login_handles(s)))
        .chain(param_handles(provider))
}

/// The handles of the credential parameters ([`crate::creds`]): none in a build without them.
#[cfg(capa_creds)]
fn param_handles(provider: &Provider) -> impl Iterator<Item = &'static str> {
    provider.credential_params.iter().map(|c| c.handle)
}

#[cfg(not(capa_creds))]
fn param_handles(_: &Provider) -> std::iter::Empty<&'static str> {
    std::iter::empty()
}

/// Every handle `provider`'s schemes read: keys, user names, client ids, credential headers,
/// login fields.
pub fn handles(provider: &Provider) -> impl Iterator<Item = &'static str> {
    provider
        .schemes
        .iter()
        .flat_map(|s| std::iter::once(s.secret).chain(id_binding(s)).chain(s.headers.iter().map(|&(_, h)| h)).chain(login_handles(s)))
        .chain(param_handles(provider))
}

/// What travels for `key` (and a pair's `username`): a header's value, or a query parameter's.
pub fn wire_value(scheme: &Scheme, username: Option<&str>, key: &str) -> Secret {
    Secret::new(match scheme.auth {
        // Per call, a token scheme's key is a ready access token, a session's a ready `Cookie`.
        AuthScheme::Bearer | AuthScheme::ClientCredentials(_) | AuthScheme::ServiceAccount(_) => ["Bearer ", key].concat(),
        AuthScheme::Session(_) => key.to_owned(),
        AuthScheme::Basic => format!("Basic {}", base64(format!("{key}:").as_bytes())),
        AuthScheme::BasicPair { .. } => format!("Basic {}", base64(format!("{}:{key}", username.unwrap_or("")).as_bytes())),
        AuthScheme::Header(_) | AuthScheme::Query(_) => key.to_owned(),
        AuthScheme::Cookie(name) => format!("{name}={key}"),
    })
}

/// The encoded pair of a `Basic` header value (`wire`, as sent), if it is one: a needle of its own. The
/// views find a key inside it by decoding it (one decoding), so an upstream that echoes the
/// header encoded twice more (base64 inside a JSON string, say) would be three decodings from
/// the key, past the guarantee's two, though only two from what was sent (the security suite's
/// randomized run found this). As a needle, what was sent is covered as the key is.
pub fn basic_token(wire: &str) -> Option<&str> {
    wire.strip_prefix("Basic ").filter(|t| !t.is_empty())
}

/// The client's credentials as the token endpoint takes them (RFC 6749 §2.3.1: HTTP basic over
/// the form-encoded id and secret): what a client-credentials scheme sends to obtain its token
/// ([`crate::token`]), prepared with the deployment's other credentials.
pub fn client_authorization(client_id: &str, secret: &str) -> Secret {
    let mut pair = String::with_capacity(client_id.len() + secret.len() + 8);
    crate::encode::percent_encode_into(&mut pair, client_id);
    pair.push(':');
    crate::encode::percent_encode_into(&mut pair, secret);
    let wire = Secret::new(format!("Basic {}", base64(pair.as_bytes())));
    drop(Secret::new(pair));
    wire
}

/// Why `value` cannot be this scheme's key, if it cannot: what no header can carry, and for a
/// cookie, what a cookie value cannot hold (RFC 6265: no space, `"`, `,`, `;` or `\`, which
/// would end it or add another).
pub fn key_fault(scheme: &Scheme, value: &str) -> Option<&'static str> {
    if let Some(fault) = crate::header::value_fault(value) {
        return Some(fault);
    }
    if matches!(scheme.auth, AuthScheme::Cookie(_)) && value.bytes().any(|b| matches!(b, b' ' | b'"' | b',' | b';' | b'\\')) {
        return Some("holds a space, quote, comma, semicolon or backslash, which a cookie value cannot");
    }
    None
}

/// Why `value` cannot be a basic user name: what no header can carry, and `:`, which would end
/// the user name early (RFC 7617).
pub fn username_fault(value: &str) -> Option<&'static str> {
    crate::header::value_fault(value).or_else(|| value.contains(':').then_some("holds a `:`, which ends a basic user name"))
}

/// The deployment's credentials, prepared once per `env` (the Worker's bindings do not change
/// between calls, so the wasm entry keeps this, `src/wasm/env.rs`, instead of making it per call):
/// each scheme's [`WorkerSecret`], and what finds any of them in upstream text, for the
/// redactor.
#[derive(Debug)]
pub struct WorkerSecrets {
    /// By scheme index; `None` where the scheme's key is unset.
    pub(crate) schemes: Vec<Option<WorkerSecret>>,
    credentials: Option<Rc<Credentials>>,
    /// The basic user names and client ids: context, kept out of receipts.
    pub(crate) identifiers: Vec<Secret>,
    /// The values of the credential parameters' handles ([`crate::creds`]) that are set.
    params: Vec<(&'static str, Secret)>,
}

/// One scheme's credential as the deployment holds it: the key's wire value, the credential
/// headers sent with it, or why it cannot be sent.
#[derive(Debug)]
pub struct WorkerSecret {
    /// What travels: the key's wire value; for a client-credentials scheme, the client's
    /// authorization at the token endpoint ([`client_authorization`]).
    pub(crate) wire: Secret,
    /// The scheme's credential headers, in [`Scheme::headers`] order.
    pub(crate) headers: Vec<(&'static str, Secret)>,
    /// Why the value cannot travel, if it cannot (a trailing newline from
    /// `echo key | wrangler secret put`, a basic pair missing its user name, a credential header
    /// unset): calls that would send it are refused, naming the fix.
    fault: Option<Unsendable>,
}

/// Why a scheme's deployment credential cannot be sent.
#[derive(Debug, Clone, Copy)]
enum Unsendable {
    /// The key's value: `fault`.
    Secret(&'static str),
    /// A handle the scheme also needs (a pair's user name, a credential header) is unset.
    Unset(&'static str),
    /// That handle's value: `fault`.
    Handle(&'static str, &'static str),
}

/// A session's login body, its fields from their handles (`Err`: one is unset, named).
fn login_body<'v>(login: &crate::table::Login, get: &impl Fn(&str) -> Option<&'v str>) -> Result<Secret, &'static str> {
    let mut body = String::with_capacity(128);
    let mut form = crate::encode::Pairs::new();
    for (i, &(field, handle)) in login.fields.iter().enumerate() {
        let Some(value) = get(handle) else { return Err(handle) };
        if login.json {
            body.push(if i == 0 { '{' } else { ',' });
            crate::json::push_str(&mut body, field);
            body.push(':');
            crate::json::push_str(&mut body, value);
        } else {
            form.push(field, value);
        }
    }
    if !login.json {
        return Ok(Secret::new(form.into_string()));
    }
    if body.is_empty() {
        body.push('{');
    }
    body.push('}');
    Ok(Secret::new(body))
}

/// A service account's private key as the entry imports it (PKCS#8 DER, base64), or why it
/// cannot be one for the grant's algorithm.
fn signing_key(grant: &crate::table::JwtGrant, pem: &str) -> Result<Secret, &'static str> {
    use crate::pem::KeyKind;
    use crate::table::JwtAlg;
    let (der, kind) = crate::pem::pkcs8(pem)?;
    match (grant.alg, kind) {
        (JwtAlg::Rs256, KeyKind::Rsa) | (JwtAlg::Es256, KeyKind::Ec) => Ok(Secret::new(base64(&der))),
        (JwtAlg::Rs256, KeyKind::Ec) => Err("is an EC key, and the manifest's algorithm RS256 signs with RSA: store the RSA key, or set `jwt.algorithm = \"ES256\"` for an EC P-256 one"),
        (JwtAlg::Es256, KeyKind::Rsa) => Err("is an RSA key, and the manifest's algorithm ES256 signs with EC P-256: store the EC key, or set `jwt.algorithm = \"RS256\"` for an RSA one"),
    }
}

impl WorkerSecrets {
    /// Reads every scheme's handles through `get` (a binding's value; empty counts as unset).
    pub fn new<'v>(provider: &Provider, get: impl Fn(&str) -> Option<&'v str>) -> Self {
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        let mut credentials = Credentials::default();
        for handle in credential_handles(provider) {
            if let Some(value) = get(handle) {
                credentials.add(value);
            }
        }
        // A bound header marked secret (Twitch's Client-Id): its deployment value is a
        // credential like the keys, read once per `env` with them (no work per call; only
        // builds whose table binds headers carry it).
        #[cfg(capa_bound)]
        for &(header, binding) in provider.bound_headers {
            if provider.secret_call_headers.contains(&header) {
                if let Some(value) = get(binding) {
                    credentials.add(value);
                }
            }
        }
        // Values a scheme sends form-encoded (a form login's fields; an OAuth2 client's secret,
        // encoded into its basic pair): whatever logs or echoes that request holds them so, in
        // base64 too, and base64 of an encoded value is no form the redactor derives from the
        // value, so the encoded value is a needle of its own.
        for scheme in provider.schemes {
            let secret = [("", scheme.secret)];
            let encoded_handles: &[(&str, &str)] = match scheme.auth {
                AuthScheme::Session(login) if !login.json => login.fields,
                AuthScheme::ClientCredentials(_) => &secret,
                _ => &[],
            };
            for value in encoded_handles.iter().filter_map(|&(_, handle)| get(handle)) {
                let mut encoded = String::with_capacity(value.len() + 8);
                crate::encode::percent_encode_into(&mut encoded, value);
                if encoded != value {
                    credentials.add(&encoded);
                }
                drop(Secret::new(encoded));
            }
        }
        // Identifiers that travel with a credential (a basic user name, a client id): out of
        // receipts. (A login's user name is a credential, above.)
        let identifiers = provider
            .schemes
            .iter()
            .filter_map(id_binding)
            .filter_map(&get)
            .map(|u| Secret::new(u.to_owned()))
            .collect();
        let schemes = provider
            .schemes
            .iter()
            .map(|scheme| {
                let value = get(scheme.secret)?;
                let id = id_binding(scheme).map(|b| (b, get(b)));
                // A private key never travels: it only has to be one WebCrypto can sign with.
                let key = match scheme.auth {
                    AuthScheme::ServiceAccount(grant) if cfg!(capa_tokens) => Some(signing_key(grant, value).map_err(Unsendable::Secret)),
                    AuthScheme::Session(login) if cfg!(capa_tokens) => Some(login_body(login, &get).map_err(Unsendable::Unset)),
                    _ => None,
                };
                let mut fault = match &key {
                    Some(key) => key.as_ref().err().copied(),
                    None => key_fault(scheme, value).map(Unsendable::Secret),
                };
                if let Some((binding, id)) = id {
                    // A basic user name ends at its `:`; a client id is form-encoded before it
                    // joins the pair (RFC 6749 §2.3.1), so one may hold `:` (only what no
                    // header carries, a newline, is refused: it is a mistake, not an id).
                    let fault_of = match scheme.auth {
                        AuthScheme::ClientCredentials(_) => crate::header::value_fault,
                        _ => username_fault,
                    };
                    fault = fault.or(match id {
                        None => Some(Unsendable::Unset(binding)),
                        Some(u) => fault_of(u).map(|f| Unsendable::Handle(binding, f)),
                    });
                }
                let mut headers = Vec::with_capacity(scheme.headers.len());
                for &(header, handle) in scheme.headers {
                    match get(handle) {
                        None => fault = fault.or(Some(Unsendable::Unset(handle))),
                        Some(v) => {
                            fault = fault.or(crate::header::value_fault(v).map(|f| Unsendable::Handle(handle, f)));
                            headers.push((header, Secret::new(v.to_owned())));
                        }
                    }
                }
                let id = id.and_then(|(_, u)| u);
                let wire = match (scheme.auth, key) {
                    (AuthScheme::ClientCredentials(_), _) if cfg!(capa_tokens) => client_authorization(id.unwrap_or(""), value),
                    (_, Some(key)) => key.unwrap_or_else(|_| Secret::new(String::new())),
                    _ => wire_value(scheme, id, value),
                };
                if let Some(token) = basic_token(wire.expose()) {
                    credentials.add(token);
                }
                Some(WorkerSecret { wire, headers, fault })
            })
            .collect();
        #[cfg_attr(not(capa_creds), allow(unused_mut))]
        let mut params: Vec<(&'static str, Secret)> = Vec::new();
        #[cfg(capa_creds)]
        for c in provider.credential_params {
            if let Some(value) = get(c.handle).filter(|_| !params.iter().any(|(h, _)| *h == c.handle)) {
                params.push((c.handle, Secret::new(value.to_owned())));
            }
        }
        WorkerSecrets { schemes, credentials: (!credentials.is_empty()).then(|| Rc::new(credentials)), identifiers, params }
    }

    /// The credentials a call's redactor starts from: every deployment credential's.
    /// The value of a credential parameter's handle, when it is set.
    pub fn param(&self, handle: &str) -> Option<&Secret> {
        self.params.iter().find(|(h, _)| *h == handle).map(|(_, v)| v)
    }

    pub fn credentials(&self) -> Option<Rc<Credentials>> {
        self.credentials.clone()
    }

    /// Whether scheme `index` holds the same deployment credential as in `other` (what its
    /// cached tokens were obtained with).
    pub fn same_scheme(&self, other: &WorkerSecrets, index: u8) -> bool {
        match (self.scheme(index), other.scheme(index)) {
            (Some(a), Some(b)) => a.wire == b.wire && a.headers == b.headers,
            (None, None) => true,
            _ => false,
        }
    }

    /// Scheme `index`'s credential, if its key is set.
    pub fn scheme(&self, index: u8) -> Option<&WorkerSecret> {
        self.schemes.get(usize::from(index)).and_then(Option::as_ref)
    }
}

impl WorkerSecret {
    /// The refusal for a call that would send this credential, if it cannot be sent.
    pub fn refusal(&self, provider: &'static Provider, scheme: &'static Scheme) -> Option<CallError> {
        Some(match self.fault? {
            Unsendable::Secret(fault) => CallError::UnsendableSecret { capability: provider.capability, secret: scheme.secret, fault },
            Unsendable::Unset(handle) => CallError::MissingCredential { capability: provider.capability, secret: handle },
            Unsendable::Handle(handle, fault) => CallError::UnsendableSecret { capability: provider.capability, secret: handle, fault },
        })
    }
}

/// A call's own credential, from `options.auth`: its wire value, checked against the scheme.
/// `key` is `apiKey` (or `password`); `username` a pair's per-call user name. Out of line: only
/// calls that bring a key compile it.
#[inline(never)]
pub fn call_credential(scheme: &Scheme, key: Secret, username: Option<Secret>) -> Result<Secret, CallError> {
    if let Some(fault) = key_fault(scheme, key.expose()) {
        return Err(CallError::invalid(format!("options.auth.apiKey {fault}")));
    }
    match (username_binding(scheme), &username) {
        (Some(_), None) => {
            return Err(CallError::invalid(
                "options.auth: this provider's basic credentials are a pair: give username and password together, or neither",
            ))
        }
        (Some(_), Some(u)) => {
            if let Some(fault) = username_fault(u.expose()) {
                return Err(CallError::invalid(format!("options.auth.username {fault}")));
            }
        }
        (None, Some(_)) => return Err(CallError::invalid("options.auth.username is for providers whose basic credentials are a pair; this one takes apiKey")),
        (None, None) => {}
    }
    Ok(wire_value(scheme, username.as_ref().map(Secret::expose), key.expose()))
}

/// Whether the call's per-call headers and key agree with `scheme`'s credential headers: with
/// `apiKey`, every one of them; without, none (the deployment's travel then). `given` says
/// whether the call's `options.auth.headers` holds a header.
pub fn together(scheme: &Scheme, call_key: bool, given: impl Fn(&str) -> bool) -> Result<(), CallError> {
    let Some(&(header, _)) = scheme.headers.iter().find(|(h, _)| given(h) != call_key) else { return Ok(()) };
    let all: Vec<&str> = scheme.headers.iter().map(|(h, _)| *h).collect();
    Err(CallError::invalid(if call_key {
        format!("options.auth: this operation's credentials travel together: apiKey with headers {} (missing `{header}`)", all.join(", "))
    } else {
        format!("options.auth.headers[\"{header}\"] is a credential that travels with apiKey: give apiKey and headers {} together, or none", all.join(", "))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(auth: AuthScheme) -> &'static Scheme {
        scheme_with(auth, &[])
    }

    fn scheme_with(auth: AuthScheme, headers: &'static [(&'static str, &'static str)]) -> &'static Scheme {
        Box::leak(Box::new(Scheme { secret: "PROBE_TOKEN", auth, headers }))
    }

    fn provider(schemes: &'static [Scheme]) -> &'static Provider {
        Box::leak(Box::new(Provider {
            capability: "probe",
            schemes,
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
        }))
    }

    #[test]
    fn each_scheme_puts_its_bytes_on_the_wire() {
        let wire = |auth, user: Option<&str>, key: &str| wire_value(scheme(auth), user, key).expose().to_owned();
        assert_eq!(wire(AuthScheme::Bearer, None, "k1"), "Bearer k1");
        assert_eq!(wire(AuthScheme::Basic, None, "sk_1"), "Basic c2tfMTo=");
        assert_eq!(wire(AuthScheme::BasicPair { username: "SID" }, Some("AC123"), "tok"), "Basic QUMxMjM6dG9r");
        assert_eq!(wire(AuthScheme::Header("X-Api-Key"), None, "k1"), "k1");
        assert_eq!(wire(AuthScheme::Query("private_token"), None, "k1"), "k1");
        assert_eq!(wire(AuthScheme::Cookie("session"), None, "k1"), "session=k1");
        assert_eq!(place(scheme(AuthScheme::Cookie("session"))), Place::Header("cookie"));
        assert_eq!(place(scheme(AuthScheme::Query("private_token"))), Place::Query("private_token"));
    }

    #[test]
    fn what_cannot_travel_is_refused_naming_the_handle() {
        let cookie = scheme(AuthScheme::Cookie("session"));
        assert!(key_fault(cookie, "a;b").is_some() && key_fault(cookie, "a b").is_some() && key_fault(cookie, "ok-Value_1").is_none());
        let pair = provider(std::slice::from_ref(Box::leak(Box::new(Scheme { secret: "PROBE_TOKEN", auth: AuthScheme::BasicPair { username: "PROBE_SID" }, headers: &[] }))));
        let refusal = |sid: Option<&str>| {
            let secrets = WorkerSecrets::new(pair, |n| match n {
                "PROBE_TOKEN" => Some("tok"),
                "PROBE_SID" => sid,
                _ => None,
            });
            secrets.scheme(0).unwrap().refusal(pair, &pair.schemes[0])
        };
        let e = refusal(None).unwrap();
        assert_eq!(e.code(), crate::error::Code::MissingCredential);
        assert!(e.to_string().contains("PROBE_SID"), "{e}");
        assert!(refusal(Some("a:b")).unwrap().to_string().contains("PROBE_SID"));
        assert!(refusal(Some("AC1")).is_none());
        // Per call: a pair comes whole, a user name only where the scheme has one.
        let pair = &pair.schemes[0];
        assert!(call_credential(pair, Secret::new("t".into()), None).is_err());
        assert_eq!(call_credential(pair, Secret::new("t".into()), Some(Secret::new("u".into()))).unwrap().expose(), "Basic dTp0");
        let bearer = scheme(AuthScheme::Bearer);
        assert!(call_credential(bearer, Secret::new("t".into()), Some(Secret::new("u".into()))).is_err());
        assert!(call_credential(cookie, Secret::new("a;b=c".into()), None).is_err());
    }

    #[test]
    fn a_basic_pair_as_sent_is_a_needle_of_its_own() {
        // The upstream echoes the Authorization header base64-encoded inside a JSON-escaped
        // string: two decodings from what was sent, three from the key (found by the fuzz).
        let p = provider(std::slice::from_ref(scheme(AuthScheme::Basic)));
        let secrets = WorkerSecrets::new(p, |n| (n == "PROBE_TOKEN").then_some("sk_test_CANARY+H^@x"));
        let redactor = crate::redact::Redactor::with_shared(secrets.credentials());
        let sent = wire_value(&p.schemes[0], None, "sk_test_CANARY+H^@x");
        let encoded = base64(["\u{1}", sent.expose()].concat().as_bytes());
        let escaped: String = encoded.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        for text in [encoded.clone(), escaped, format!("{}\r\n{}", &encoded[..20], &encoded[20..])] {
            assert!(redactor.flags(&text, false) && redactor.finds_in(&text), "{text}");
            assert_eq!(redactor.redact(&text), crate::redact::REDACTED, "{text}");
        }
        assert_eq!(basic_token(sent.expose()), Some(&sent.expose()["Basic ".len()..]));
        assert_eq!(basic_token("Bearer x"), None);
    }

    #[test]
    fn credential_headers_travel_with_their_key_and_join_the_scan() {
        let schemes: &'static [Scheme] = Box::leak(Box::new([
            Scheme { secret: "PROBE_KEY", auth: AuthScheme::Header("X-Api-Key"), headers: &[("X-Api-Secret", "PROBE_API_SECRET")] },
            Scheme { secret: "PROBE_TOKEN", auth: AuthScheme::Bearer, headers: &[] },
        ]));
        let p = provider(schemes);
        let secrets = WorkerSecrets::new(p, |n| match n {
            "PROBE_KEY" => Some("key-1"),
            "PROBE_API_SECRET" => Some("secret-1"),
            _ => None,
        });
        let first = secrets.scheme(0).unwrap();
        assert!(first.refusal(p, &p.schemes[0]).is_none());
        assert_eq!(first.headers.iter().map(|(h, v)| (*h, v.expose())).collect::<Vec<_>>(), [("X-Api-Secret", "secret-1")]);
        assert!(secrets.scheme(1).is_none(), "an unset key is no credential");
        let redactor = crate::redact::Redactor::with_shared(secrets.credentials());
        assert!(redactor.finds_in("echo secret-1") && redactor.finds_in("echo key-1"));
        // The secret header unset: missing_credential naming its handle.
        let half = WorkerSecrets::new(p, |n| (n == "PROBE_KEY").then_some("key-1"));
        let e = half.scheme(0).unwrap().refusal(p, &p.schemes[0]).unwrap();
        assert!(e.to_string().contains("PROBE_API_SECRET"), "{e}");
        // Per call: all or none.
        let s = &p.schemes[0];
        assert!(together(s, true, |h| h == "X-Api-Secret").is_ok() && together(s, false, |_| false).is_ok());
        assert!(together(s, true, |_| false).unwrap_err().to_string().contains("X-Api-Secret"));
        assert!(together(s, false, |h| h == "X-Api-Secret").is_err());
    }
}
