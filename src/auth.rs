//! How a credential travels: the schemes that need no token exchange.
//!
//! A provider's table names one scheme ([`AuthScheme`]) and the handles it reads: the Worker
//! secret [`Provider::secret`] (the key, or basic's password) and, for basic with a user of its
//! own, the binding holding the user name. Each scheme puts exactly its bytes on the wire:
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
//! Per call, `options.auth.apiKey` replaces the key; for basic, `options.auth.password` is the
//! same thing, and a pair's `options.auth.username` comes with it: a call brings both or
//! neither, so no tenant's user name is ever sent with the deployment's password.
//!
//! A key in the query stays out of the request's URL until the request is written for `fetch`
//! ([`crate::request::HttpRequest::push_fetch_json`], the one place credentials are written
//! out): the URL a receipt, an error or a panic could show never holds it. Receipts carry the
//! path template alone, as always.
//!
//! The Worker's own credential is prepared once per `env` ([`WorkerSecret`]): its wire value and
//! the redactor's forms of it (and of the user name, kept out of receipts like a context value).

use crate::error::CallError;
use crate::forms::base64;
use crate::redact::Credentials;
use crate::secret::Secret;
use crate::table::{AuthScheme, Provider};
use std::rc::Rc;

/// Where the credential goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Header(&'static str),
    Query(&'static str),
}

/// Where `provider`'s credential goes.
pub fn place(provider: &Provider) -> Place {
    match provider.auth {
        AuthScheme::Bearer | AuthScheme::Basic | AuthScheme::BasicPair { .. } => Place::Header("authorization"),
        AuthScheme::Header(name) => Place::Header(name),
        AuthScheme::Cookie(_) => Place::Header("cookie"),
        AuthScheme::Query(name) => Place::Query(name),
    }
}

/// The binding holding a basic pair's user name, if the scheme has one.
pub fn username_binding(provider: &Provider) -> Option<&'static str> {
    match provider.auth {
        AuthScheme::BasicPair { username } => Some(username),
        _ => None,
    }
}

/// What travels for `key` (and a pair's `username`): a header's value, or a query parameter's.
pub fn wire_value(provider: &Provider, username: Option<&str>, key: &str) -> Secret {
    Secret::new(match provider.auth {
        AuthScheme::Bearer => ["Bearer ", key].concat(),
        AuthScheme::Basic => format!("Basic {}", base64(format!("{key}:").as_bytes())),
        AuthScheme::BasicPair { .. } => format!("Basic {}", base64(format!("{}:{key}", username.unwrap_or("")).as_bytes())),
        AuthScheme::Header(_) | AuthScheme::Query(_) => key.to_owned(),
        AuthScheme::Cookie(name) => format!("{name}={key}"),
    })
}

/// Why `value` cannot be this scheme's key, if it cannot: what no header can carry, and for a
/// cookie, what a cookie value cannot hold (RFC 6265: no space, `"`, `,`, `;` or `\`, which
/// would end it or add another).
pub fn key_fault(provider: &Provider, value: &str) -> Option<&'static str> {
    if let Some(fault) = crate::header::value_fault(value) {
        return Some(fault);
    }
    if matches!(provider.auth, AuthScheme::Cookie(_)) && value.bytes().any(|b| matches!(b, b' ' | b'"' | b',' | b';' | b'\\')) {
        return Some("holds a space, quote, comma, semicolon or backslash, which a cookie value cannot");
    }
    None
}

/// Why `value` cannot be a basic user name: what no header can carry, and `:`, which would end
/// the user name early (RFC 7617).
pub fn username_fault(value: &str) -> Option<&'static str> {
    crate::header::value_fault(value).or_else(|| value.contains(':').then_some("holds a `:`, which ends a basic user name"))
}

/// The Worker's credential with what every call that sends it needs: its wire value and what
/// finds it (and a pair's user name) in upstream text, for the redactor. The Worker's bindings do
/// not change between calls, so the wasm entry prepares this once per `env` (`src/wasm.rs`)
/// instead of once per call.
#[derive(Debug)]
pub struct WorkerSecret {
    pub(crate) wire: Secret,
    credentials: Rc<Credentials>,
    /// A pair's user name: context, kept out of receipts.
    pub(crate) username: Option<Secret>,
    /// Why the value cannot travel, if it cannot (a trailing newline from
    /// `echo key | wrangler secret put`, a basic pair missing its user name): calls that would
    /// send it are refused, naming the fix.
    pub(crate) fault: Option<Unsendable>,
}

/// Why the Worker's credential cannot be sent.
#[derive(Debug, Clone, Copy)]
pub enum Unsendable {
    /// The secret's value: `fault`.
    Secret(&'static str),
    /// The basic pair's user name binding is unset.
    NoUsername(&'static str),
    /// The basic pair's user name: `fault`.
    Username(&'static str, &'static str),
}

impl WorkerSecret {
    /// `value` is the secret's; `username` the pair's user name binding's, for a basic pair.
    pub fn new(provider: &Provider, value: &str, username: Option<&str>) -> Self {
        let mut credentials = Credentials::default();
        credentials.add(value);
        let binding = username_binding(provider);
        let fault = match (key_fault(provider, value), binding, username) {
            (Some(fault), _, _) => Some(Unsendable::Secret(fault)),
            (None, Some(b), None) => Some(Unsendable::NoUsername(b)),
            (None, Some(b), Some(u)) => username_fault(u).map(|f| Unsendable::Username(b, f)),
            (None, None, _) => None,
        };
        WorkerSecret {
            wire: wire_value(provider, username, value),
            credentials: Rc::new(credentials),
            username: binding.and(username).map(|u| Secret::new(u.to_owned())),
            fault,
        }
    }

    /// The credentials a call's redactor starts from.
    pub fn credentials(&self) -> Rc<Credentials> {
        Rc::clone(&self.credentials)
    }

    /// The refusal for a call that would send this credential, if it cannot be sent.
    pub fn refusal(&self, provider: &'static Provider) -> Option<CallError> {
        Some(match self.fault? {
            Unsendable::Secret(fault) => CallError::UnsendableSecret { capability: provider.capability, secret: provider.secret, fault },
            Unsendable::NoUsername(binding) => CallError::MissingCredential { capability: provider.capability, secret: binding },
            Unsendable::Username(binding, fault) => CallError::UnsendableSecret { capability: provider.capability, secret: binding, fault },
        })
    }
}

/// A call's own credential, from `options.auth`: its wire value, checked against the scheme.
/// `key` is `apiKey` (or `password`); `username` a pair's per-call user name.
pub fn call_credential(provider: &'static Provider, key: Secret, username: Option<Secret>) -> Result<Secret, CallError> {
    if let Some(fault) = key_fault(provider, key.expose()) {
        return Err(CallError::invalid(format!("options.auth.apiKey {fault}")));
    }
    match (username_binding(provider), &username) {
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
    Ok(wire_value(provider, username.as_ref().map(Secret::expose), key.expose()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(auth: AuthScheme) -> &'static Provider {
        Box::leak(Box::new(Provider {
            capability: "probe",
            secret: "PROBE_TOKEN",
            auth,
            call_headers: &[],
            secret_call_headers: &[],
            static_headers: &[],
            bound_headers: &[],
            request_id_header: None,
            error_object: None,
            servers: &["https://api.example.com"],
            operations: &[],
        }))
    }

    #[test]
    fn each_scheme_puts_its_bytes_on_the_wire() {
        let wire = |auth, user: Option<&str>, key: &str| wire_value(provider(auth), user, key).expose().to_owned();
        assert_eq!(wire(AuthScheme::Bearer, None, "k1"), "Bearer k1");
        assert_eq!(wire(AuthScheme::Basic, None, "sk_1"), "Basic c2tfMTo=");
        assert_eq!(wire(AuthScheme::BasicPair { username: "SID" }, Some("AC123"), "tok"), "Basic QUMxMjM6dG9r");
        assert_eq!(wire(AuthScheme::Header("X-Api-Key"), None, "k1"), "k1");
        assert_eq!(wire(AuthScheme::Query("private_token"), None, "k1"), "k1");
        assert_eq!(wire(AuthScheme::Cookie("session"), None, "k1"), "session=k1");
        assert_eq!(place(provider(AuthScheme::Cookie("session"))), Place::Header("cookie"));
        assert_eq!(place(provider(AuthScheme::Query("private_token"))), Place::Query("private_token"));
    }

    #[test]
    fn what_cannot_travel_is_refused_naming_the_handle() {
        let cookie = provider(AuthScheme::Cookie("session"));
        assert!(key_fault(cookie, "a;b").is_some() && key_fault(cookie, "a b").is_some() && key_fault(cookie, "ok-Value_1").is_none());
        let pair = provider(AuthScheme::BasicPair { username: "PROBE_SID" });
        let e = WorkerSecret::new(pair, "tok", None).refusal(pair).unwrap();
        assert_eq!(e.code(), crate::error::Code::MissingCredential);
        assert!(e.to_string().contains("PROBE_SID"), "{e}");
        assert!(WorkerSecret::new(pair, "tok", Some("a:b")).refusal(pair).unwrap().to_string().contains("PROBE_SID"));
        assert!(WorkerSecret::new(pair, "tok", Some("AC1")).refusal(pair).is_none());
        // Per call: a pair comes whole, a user name only where the scheme has one.
        assert!(call_credential(pair, Secret::new("t".into()), None).is_err());
        assert_eq!(call_credential(pair, Secret::new("t".into()), Some(Secret::new("u".into()))).unwrap().expose(), "Basic dTp0");
        let bearer = provider(AuthScheme::Bearer);
        assert!(call_credential(bearer, Secret::new("t".into()), Some(Secret::new("u".into()))).is_err());
        assert!(call_credential(cookie, Secret::new("a;b=c".into()), None).is_err());
    }
}
