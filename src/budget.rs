//! Call budgets: how fast each caller may spend the deployment's provider quota.
//!
//! A deployment that binds a Workers **Rate Limiting** binding named [`BINDING`] caps its calls:
//!
//! ```toml
//! [[env.stripe.ratelimits]]
//! name = "CAPA_BUDGET"
//! namespace_id = "1001"
//! simple = { limit = 100, period = 60 }   # calls per 10 or 60 seconds, per bucket
//! ```
//!
//! Every call that would go upstream first spends one unit of its bucket; a spent bucket answers
//! `rate_limited` with `stage: "capability"` and makes no request. The binding says only whether
//! a unit was left, not when the window resets, so such an answer carries no `retryAfterMs`.
//! Calls the capability refuses anyway (rights, arguments) spend nothing: the budget is checked
//! after them, before any credential step or request. Without the binding nothing here runs: the
//! plain path asks [`crate::call::Bindings::budget`] once and goes on.
//!
//! **Whose bucket.** The binding's props are the only caller identity a capability sees
//! ([`crate::grant`]): the bucket is the props' `tenant` (whose quota), else their `caller` (who
//! is calling), else the call's own credential (a per-call `auth` or a session's), else the
//! deployment's one bucket. A credential never names a bucket as it is: the entry keys it as an
//! HMAC-SHA-256 of the credential under a key derived (HKDF) from the Worker secret
//! [`KEY_VAR`] — a bare hash of a password can be brute-forced from a limiter's logs, a keyed
//! one cannot. Without that secret, calls with their own credentials share the deployment's
//! bucket (stricter, never looser).
//!
//! **A limiter that fails** (its `limit()` throws) lets the call through: the budget meters a
//! quota; rights, not budgets, are what refuse a caller. The entry reports the failure as such
//! and this module decides.
//!
//! The round trip is a step like the credential steps: the runtime answers `Q` with what to key
//! ([`Ask`]), the entry spends the unit and begins the call again with one of the [`SPENT`],
//! [`REFUSED`], [`FAILED`] flags.

use crate::error::CallError;

/// The Rate Limiting binding's name in wrangler.toml.
pub const BINDING: &str = "CAPA_BUDGET";
/// The Worker secret an HMAC key for credential buckets is derived from.
pub const KEY_VAR: &str = "CAPA_BUDGET_KEY";

/// The entry's flags for a call that began again after its `Q` step: its unit was spent...
pub const SPENT: u32 = 4;
/// ...its bucket was empty...
pub const REFUSED: u32 = 8;
/// ...or the limiter failed (the call goes on).
pub const FAILED: u32 = 16;

/// The most bytes a props `caller` or `tenant` holds.
pub const MAX_NAME: usize = 128;

/// What the entry keys a bucket by.
#[derive(Debug, PartialEq)]
pub enum Ask {
    /// This key, as it is (`tenant:acme`, `caller:billing`, `deployment`).
    Key(String),
    /// `auth:` and the HMAC of this text (a credential) under the key [`KEY_VAR`] derives.
    Keyed(String),
}

impl Ask {
    /// The bucket of a call: `who`, the identity its binding's props named (`t<tenant>` or
    /// `c<caller>`, or `""`); `credential`, its own credential's text, if it sends one; `keyed`,
    /// whether [`KEY_VAR`] is set.
    pub fn of(who: &str, credential: Option<String>, keyed: bool) -> Ask {
        match who.split_at_checked(1) {
            Some(("t", tenant)) => Ask::Key(format!("tenant:{tenant}")),
            Some(("c", caller)) => Ask::Key(format!("caller:{caller}")),
            _ => match credential.filter(|_| keyed) {
                Some(text) => Ask::Keyed(text),
                None => Ask::Key(String::from("deployment")),
            },
        }
    }

    /// The `Q` step's JSON: `["key"]`, or `[null, "text to key"]`.
    pub fn push_json(&self, out: &mut String) {
        out.push('[');
        match self {
            Ask::Key(key) => crate::json::push_str(out, key),
            Ask::Keyed(text) => {
                out.push_str("null,");
                crate::json::push_str(out, text);
            }
        }
        out.push(']');
    }
}

/// The text a credential's bucket is keyed by: the credentials `args` carry in their `auth`
/// (the call's own, or its session's options), one per line, and a basic pair's user name; `None`
/// when they carry none.
pub fn credential_text(args: &[crate::value::Value], secret_headers: &[&str]) -> Option<String> {
    let mut text = String::new();
    for part in crate::args::credential_strings(args, secret_headers).chain(crate::args::call_username(args)) {
        text.push_str(part);
        text.push('\n');
    }
    (!text.is_empty()).then_some(text)
}

/// Why a props `caller` or `tenant` is refused, if it is: 1 to [`MAX_NAME`] bytes of letters,
/// digits and `-_.:@/` (a name for logs and buckets, never free text).
pub fn name_fault(value: &str) -> Option<String> {
    if value.is_empty() || value.len() > MAX_NAME {
        return Some(format!("must hold 1 to {MAX_NAME} characters"));
    }
    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:@/".contains(&b)) {
        return Some(String::from("may hold only letters, digits and - _ . : @ /"));
    }
    None
}

/// The answer to a call whose bucket is empty.
pub fn refused(capability: &'static str, who: &str) -> CallError {
    let bucket = match who.split_at_checked(1) {
        Some(("t", tenant)) => format!("tenant `{tenant}`'s"),
        Some(("c", caller)) => format!("caller `{caller}`'s"),
        _ => String::from("this caller's"),
    };
    CallError::OverBudget(format!(
        "{bucket} call budget on {capability} is spent (the deployment's {BINDING} rate limit); no request was sent. The limit does not say when its window (10 or 60 s) ends"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_go_tenant_then_caller_then_credential_then_deployment() {
        assert_eq!(Ask::of("tacme", Some("sk_1".into()), true), Ask::Key("tenant:acme".into()));
        assert_eq!(Ask::of("cbilling", Some("sk_1".into()), true), Ask::Key("caller:billing".into()));
        assert_eq!(Ask::of("", Some("sk_1".into()), true), Ask::Keyed("sk_1".into()));
        // Without the key a credential is never sent to be keyed: the deployment's bucket.
        assert_eq!(Ask::of("", Some("sk_1".into()), false), Ask::Key("deployment".into()));
        assert_eq!(Ask::of("", None, true), Ask::Key("deployment".into()));
        let mut out = String::new();
        Ask::Keyed("a\"b".into()).push_json(&mut out);
        assert_eq!(out, r#"[null,"a\"b"]"#);
    }

    #[test]
    fn names_are_short_and_plain() {
        assert_eq!(name_fault("acme-corp.eu:42@x/y_z"), None);
        assert!(name_fault("").is_some());
        assert!(name_fault(&"a".repeat(MAX_NAME + 1)).is_some());
        for bad in ["a b", "a\nb", "ü", "a\"b", "sk_live_\u{0}"] {
            assert!(name_fault(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_bucket_never_a_credential() {
        let e = refused("stripe", "tacme");
        assert!(e.to_string().contains("tenant `acme`'s call budget on stripe is spent"), "{e}");
        assert_eq!(e.code(), crate::error::Code::RateLimited);
        assert_eq!(e.stage(), Some("capability"));
        assert_eq!(e.retry_after_ms(), None);
        assert!(refused("stripe", "").to_string().starts_with("this caller's"));
    }
}
