//! Sharing tokens across isolates through a Durable Object, which never holds a usable one.
//!
//! Each isolate keeps its tokens in memory ([`super::Tokens`]). A fleet of isolates would each
//! obtain their own, and all refresh at once. A deployment that binds the capability's own
//! Durable Object class as `CAPA_TOKENS` and sets the Worker secret `CAPA_TOKENS_KEY` shares
//! them instead:
//!
//! ```toml
//! [[env.acme.durable_objects.bindings]]
//! name = "CAPA_TOKENS"
//! class_name = "CapaTokens"
//! [[env.acme.migrations]]
//! tag = "capa-tokens-v1"
//! new_sqlite_classes = ["CapaTokens"]
//! ```
//!
//! (`wrangler secret put CAPA_TOKENS_KEY --env acme`, 32 characters or more:
//! `openssl rand -base64 32`.) Without both, the isolate cache works alone; the binding without
//! the key is a misconfiguration every token call names ([`Sharing::key`]).
//!
//! **Nothing the object holds or answers is usable.** Any Worker of the account can bind a
//! Durable Object class by `script_name` and call its methods, so the object stores and returns
//! only ciphertext: the entry seals each token with AES-256-GCM under a key derived by HKDF
//! (SHA-256) from `CAPA_TOKENS_KEY`, which the object never sees, and the runtime adopts only
//! what decrypts and authenticates. The additional data ([`aad`]) names the capability, the
//! scheme and a digest of the credentials that obtained the token, and is never stored: a token
//! of other credentials (rotated, or another deployment's) does not authenticate, and is
//! obtained afresh. The object's name is an HMAC of the same data under a second derived key,
//! so it says nothing either. A Worker that binds the class can at worst make the capability
//! obtain its own tokens (by storing junk or holding the lease): never read one.
//!
//! **One refresh for the fleet.** When an isolate's flight begins ([`super::Need::Fetch`]), the
//! runtime first answers `D` ([`push_take`]): the entry asks the object, which answers with the
//! sealed token if it has one; grants a *lease* (this isolate obtains it) when it has none, or
//! when it is due and nobody holds the lease; and otherwise holds the caller until the
//! leaseholder stores one (or gives up, or the lease lapses: then the caller obtains its own).
//! The entry opens what it got and hands it to `capa_unsealed` ([`adopt`]), which serves it,
//! or answers the flight's first step (the exchange, the signature, the login) as the isolate
//! would have without the object. Whatever a flight obtains, the runtime answers `P`
//! ([`push_put`]) and the entry seals and stores it (releasing the lease; a flight that obtained
//! nothing releases it too). A call whose token the upstream refused obtains the next one
//! without asking the object, and its `P` replaces the refused one there.
//!
//! The object stores `{iv, data, due, expires}`: the ciphertext, and the two times it needs to
//! decide (not secret). The plaintext ([`record`]) carries the times the runtime trusts.

use super::{Obtained, Tokens};
use crate::auth::WorkerSecrets;
use crate::error::CallError;
use crate::secret::Secret;
use crate::table::{AuthScheme, Provider};
use crate::value::Value;

/// The Durable Object binding that turns sharing on.
pub const BINDING: &str = "CAPA_TOKENS";

/// The Worker secret the sealing key is derived from.
pub const KEY_VAR: &str = "CAPA_TOKENS_KEY";

/// The shortest sealing key accepted (characters).
pub const MIN_KEY_LEN: usize = 32;

/// How long a due token taken from the object serves before the object is asked again (its
/// leaseholder is refreshing it).
pub const RECHECK_MS: f64 = 1_000.0;

/// Whether this deployment shares its tokens (see the module docs).
#[derive(Debug, Default)]
pub enum Sharing {
    /// No `CAPA_TOKENS` binding: the isolate cache alone.
    #[default]
    Off,
    /// Bound, sealing with this key.
    On(Secret),
    /// Bound, but `CAPA_TOKENS_KEY` is unset.
    Unset,
    /// Bound, but `CAPA_TOKENS_KEY` is too short to seal with.
    Short,
}

impl Sharing {
    /// From whether `CAPA_TOKENS` is bound and `CAPA_TOKENS_KEY`'s value.
    pub fn read(bound: bool, key: Option<&str>) -> Self {
        match (bound, key) {
            (false, _) => Sharing::Off,
            (true, None | Some("")) => Sharing::Unset,
            (true, Some(k)) if k.chars().count() < MIN_KEY_LEN => Sharing::Short,
            (true, Some(k)) => Sharing::On(Secret::new(k.to_owned())),
        }
    }

    /// The sealing key, if sharing is on; a misconfigured binding is the calls' error.
    pub fn key(&self, capability: &'static str) -> Result<Option<&Secret>, CallError> {
        match self {
            Sharing::Off => Ok(None),
            Sharing::On(key) => Ok(Some(key)),
            Sharing::Unset => Err(CallError::MissingCredential { capability, secret: KEY_VAR }),
            Sharing::Short => Err(CallError::UnsendableSecret {
                capability,
                secret: KEY_VAR,
                fault: "is shorter than 32 characters, too short to seal the shared tokens with (`openssl rand -base64 32` makes one)",
            }),
        }
    }
}

/// The additional data sealing scheme `index`'s token (see the module docs): the capability,
/// the scheme, and a digest of everything that obtained it (the prepared credentials and the
/// manifest's endpoint and claims). Never stored, never sent.
pub fn aad(provider: &Provider, index: u8, secrets: &WorkerSecrets) -> String {
    let mut digest = Fnv::default();
    if let Some(secret) = secrets.scheme(index) {
        digest.write(secret.wire.expose());
        for (name, value) in &secret.headers {
            digest.write(name);
            digest.write(value.expose());
        }
    }
    if let Some(scheme) = provider.schemes.get(usize::from(index)) {
        match scheme.auth {
            AuthScheme::ClientCredentials(e) => [e.token_url, e.client_id, e.scopes].iter().for_each(|s| digest.write(s)),
            AuthScheme::ServiceAccount(g) => [g.alg.as_str(), g.token_url, g.issuer, g.subject, g.audience, g.scope].iter().for_each(|s| digest.write(s)),
            AuthScheme::Session(l) => {
                digest.write(l.url);
                l.cookies.iter().for_each(|c| digest.write(c));
            }
            _ => {}
        }
    }
    let mut out = String::with_capacity(64);
    out.push_str("capa-tokens/v1 ");
    out.push_str(provider.capability);
    out.push(' ');
    crate::json::push_u64(&mut out, u64::from(index), 0);
    out.push(' ');
    for byte in digest.0.to_be_bytes() {
        out.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    out
}

/// FNV-1a, 64 bits: the credentials' digest inside [`aad`], which is authenticated, never
/// revealed, so it need not resist inversion; each part ends with a 0xff no UTF-8 text holds.
#[derive(Default)]
struct Fnv(u64);

impl Fnv {
    fn write(&mut self, text: &str) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in text.as_bytes().iter().chain([0xff].iter()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// A token as sealed: `[due, expires, obtained, wire, ...values]` (times in ms).
pub fn record(wire: &str, values: &[Secret], due_at: f64, expires_at: f64, obtained_at: f64) -> String {
    let mut out = String::with_capacity(wire.len() * 2 + 64);
    out.push('[');
    for t in [due_at, expires_at, obtained_at] {
        crate::json::push_u64(&mut out, t.max(0.0) as u64, 0);
        out.push(',');
    }
    crate::json::push_str(&mut out, wire);
    for v in values {
        out.push(',');
        crate::json::push_str(&mut out, v.expose());
    }
    out.push(']');
    out
}

/// What [`adopt`] made of what the object answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Adopted {
    /// The token serves: the flight is over.
    Serve,
    /// The token serves, and this isolate holds the lease to refresh it: go on obtaining one.
    Refresh,
    /// Nothing usable: go on obtaining one.
    Nothing,
}

/// The object's answer for scheme `scheme`'s flight: `record`, the plaintext the entry opened
/// (`None`: nothing, or nothing that authenticated), `lease`: this isolate is to obtain the
/// token. A record is adopted only by a flight still in the air and only while valid; a due one
/// serves without the lease for [`RECHECK_MS`], while its leaseholder refreshes it.
pub fn adopt(tokens: &Tokens, scheme: u8, record: Option<&str>, lease: bool, now: f64) -> Adopted {
    let Some((token, due_at, expires_at, obtained_at)) = record.and_then(read) else { return Adopted::Nothing };
    if now >= expires_at || !tokens.flying(scheme) {
        return Adopted::Nothing;
    }
    let due = now >= due_at;
    if due && lease {
        tokens.install(scheme, token, due_at, expires_at, obtained_at, Some(now));
        return Adopted::Refresh;
    }
    let due_at = if due { (now + RECHECK_MS).min(expires_at) } else { due_at };
    tokens.install(scheme, token, due_at, expires_at, obtained_at, None);
    Adopted::Serve
}

/// A [`record`] read back; `None` unless it is one in every part.
fn read(record: &str) -> Option<(Obtained, f64, f64, f64)> {
    let Ok(Value::Array(items)) = crate::parse::parse(record) else { return None };
    let time = |v: &Value| match v {
        Value::Number(n) => n.as_str().parse::<u64>().ok().map(|t| t as f64),
        _ => None,
    };
    let (due_at, expires_at, obtained_at) = (time(items.first()?)?, time(items.get(1)?)?, time(items.get(2)?)?);
    let wire = items.get(3)?.as_str().filter(|w| !w.is_empty() && crate::header::value_fault(w).is_none())?;
    let values = items[4..].iter().map(|v| v.as_str().filter(|v| !v.is_empty()).map(|v| Secret::new(v.to_owned()))).collect::<Option<Vec<_>>>()?;
    let token = Obtained { wire: Secret::new(wire.to_owned()), values, lifetime_s: 0 };
    Some((token, due_at.min(expires_at), expires_at, obtained_at))
}

/// The `D` step: `D<scheme>:[key, aad]`, the sealing key and the additional data the entry
/// names the object by and opens its answer with.
pub fn push_take(out: &mut String, scheme: u8, key: &Secret, aad: &str) {
    push_slot(out, 'D', scheme, key, aad);
    out.push(']');
}

/// `<step><scheme>:[key, aad`: what both steps begin with.
fn push_slot(out: &mut String, step: char, scheme: u8, key: &Secret, aad: &str) {
    out.push(step);
    crate::json::push_u64(out, u64::from(scheme), 0);
    out.push_str(":[");
    crate::json::push_str(out, key.expose());
    out.push(',');
    crate::json::push_str(out, aad);
}

/// The `P` step: `P<scheme>:[key, aad, record, due, expires]`, the token to seal and store.
pub fn push_put(out: &mut String, scheme: u8, key: &Secret, aad: &str, (record, due_at, expires_at): (String, f64, f64)) {
    push_slot(out, 'P', scheme, key, aad);
    out.push(',');
    crate::json::push_str(out, &record);
    for t in [due_at, expires_at] {
        out.push(',');
        crate::json::push_u64(out, t.max(0.0) as u64, 0);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ready, OK};
    use super::super::Need;
    use super::*;

    #[test]
    fn a_token_recorded_in_one_isolate_serves_in_another_and_a_due_one_is_refreshed_once() {
        let first = Tokens::default();
        first.need(0, 0.0);
        assert!(first.put(0, 200, OK, 0.0, 60));
        let (record, due, expires) = first.record(0).unwrap();
        assert_eq!((due, expires), (60_000.0, 120_000.0));
        assert!(record.contains("at_CANARY1"));

        let second = Tokens::default();
        assert!(matches!(second.need(0, 1_000.0), Need::Fetch));
        assert_eq!(adopt(&second, 0, Some(&record), false, 1_000.0), Adopted::Serve);
        let (wire, _) = ready(second.need(0, 1_001.0));
        assert_eq!(wire, "Bearer at_CANARY1");

        // Due, with the lease: it serves while this isolate refreshes.
        let third = Tokens::default();
        assert!(matches!(third.need(0, 70_000.0), Need::Fetch));
        assert_eq!(adopt(&third, 0, Some(&record), true, 70_000.0), Adopted::Refresh);
        ready(third.need(0, 70_001.0));
        // Due, without it: it serves, and the object is asked again a second later.
        let fourth = Tokens::default();
        fourth.need(0, 70_000.0);
        assert_eq!(adopt(&fourth, 0, Some(&record), false, 70_000.0), Adopted::Serve);
        ready(fourth.need(0, 70_500.0));
        assert!(matches!(fourth.need(0, 71_001.0), Need::Fetch));
    }

    #[test]
    fn nothing_expired_malformed_or_unasked_for_is_adopted() {
        let tokens = Tokens::default();
        let good = record("Bearer t", &[Secret::new("t".into())], 50.0, 100.0, 0.0);
        assert_eq!(adopt(&tokens, 0, Some(&good), false, 10.0), Adopted::Nothing, "no flight asked for it");
        tokens.need(0, 10.0);
        for bad in ["", "[]", "{}", "[1,2,3]", "[1,2,3,\"\"]", "[1,2,3,\"a\\nb\"]", "[1,2,3,\"w\",\"\"]", "[1,\"2\",3,\"w\"]", "[-1,2,3,\"w\"]"] {
            assert_eq!(adopt(&tokens, 0, Some(bad), false, 10.0), Adopted::Nothing, "{bad}");
        }
        assert_eq!(adopt(&tokens, 0, Some(&good), false, 100.0), Adopted::Nothing, "expired");
        assert_eq!(adopt(&tokens, 0, None, true, 10.0), Adopted::Nothing);
        assert_eq!(adopt(&tokens, 0, Some(&good), false, 10.0), Adopted::Serve);
    }

    #[test]
    fn sharing_needs_a_long_key_and_the_data_changes_with_the_credentials() {
        assert!(matches!(Sharing::read(false, Some("k")), Sharing::Off));
        assert!(matches!(Sharing::read(true, None).key("acme"), Err(CallError::MissingCredential { secret: KEY_VAR, .. })));
        assert!(matches!(Sharing::read(true, Some("short")).key("acme"), Err(CallError::UnsendableSecret { secret: KEY_VAR, .. })));
        let on = Sharing::read(true, Some("0123456789abcdef0123456789abcdef"));
        assert_eq!(on.key("acme").unwrap().unwrap().expose(), "0123456789abcdef0123456789abcdef");
        let mut a = Fnv::default();
        a.write("ab");
        let mut b = Fnv::default();
        b.write("a");
        b.write("b");
        assert_ne!(a.0, b.0, "parts are delimited");
    }
}
