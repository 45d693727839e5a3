//! Credentials, and the redaction that keeps them out of everything a caller sees.
//!
//! A [`Secret`] can be read only by asking for it ([`Secret::expose`]). It prints as
//! `Secret(<redacted>)` under `Debug` and `Display`, and implements neither `Serialize` nor
//! `Clone`, so it cannot slip into a receipt, an error message, a log line or a panic message by
//! accident: the compiler refuses.
//!
//! Upstreams sometimes echo what they received (a debugging endpoint, an error quoting a header).
//! Every upstream text that reaches the caller therefore goes through a [`Redactor`] holding the
//! call's credentials, and each occurrence is replaced by [`REDACTED`].

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;

/// What replaces a credential found in upstream text.
pub const REDACTED: &str = "[REDACTED]";

/// A credential value: the Worker secret, a per-call key, or a per-call auth header value.
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The value itself, for the one place that must send it: the upstream request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The credential values of one call, and the forms in which they travel upstream.
///
/// The Worker secret's forms are the same for every call, so they are prepared once (per `env`)
/// and shared; a call adds only what it brought itself (`options.auth`).
#[derive(Debug, Default)]
pub struct Redactor {
    shared: Option<Rc<Needles>>,
    own: Needles,
}

/// Credential values, longest first, so a key is replaced whole before any shorter needle
/// inside it.
#[derive(Debug, Default)]
pub struct Needles(Vec<Secret>);

impl Needles {
    /// Adds a value to look for. Empty values are ignored (they would match everywhere).
    pub fn add(&mut self, value: &str) {
        if !value.is_empty() && !self.holds(value) {
            let at = self.0.partition_point(|n| n.0.len() >= value.len());
            self.0.insert(at, Secret(value.to_owned()));
        }
    }

    fn holds(&self, value: &str) -> bool {
        self.0.iter().any(|n| n.0 == value)
    }
}

impl Redactor {
    /// A redactor starting from prepared needles (the Worker secret's).
    pub fn with_shared(shared: Option<Rc<Needles>>) -> Self {
        Redactor { shared, own: Needles::default() }
    }

    /// Adds a value to look for. Empty values are ignored (they would match everywhere).
    pub fn add(&mut self, value: &str) {
        if !self.shared.as_ref().is_some_and(|s| s.holds(value)) {
            self.own.add(value);
        }
    }

    fn needles(&self) -> impl Iterator<Item = &Secret> {
        self.shared.iter().flat_map(|s| s.0.iter()).chain(&self.own.0)
    }

    /// Whether `text` holds any credential.
    pub fn finds_in(&self, text: &str) -> bool {
        // Length first: most texts checked per call (request ids) are shorter than a key, and
        // setting up a substring search costs more than the search.
        self.needles().any(|n| n.0.len() <= text.len() && text.contains(n.expose()))
    }

    /// Appends the values as a JSON array of strings, for the JS entry to scan response bodies
    /// with. Only the request description carries it: it goes where the credentials themselves
    /// already go (the request's headers), never into an envelope.
    pub fn push_needles_json(&self, out: &mut String) {
        out.push('[');
        for (i, needle) in self.needles().enumerate() {
            if i > 0 {
                out.push(',');
            }
            crate::json::push_str(out, needle.expose());
        }
        out.push(']');
    }

    /// `text` with every credential replaced by [`REDACTED`]; borrowed when there is none.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        // Most texts checked per call (request ids) hold nothing: no ordering, no allocation.
        if !self.finds_in(text) {
            return Cow::Borrowed(text);
        }
        // Longest first across both sets (each already is), so a key is replaced whole before any
        // shorter needle inside it.
        let shared = self.shared.as_deref().map_or(&[][..], |n| &n.0[..]);
        let own = &self.own.0[..];
        let (mut i, mut j) = (0, 0);
        let mut out = text.to_owned();
        while i < shared.len() || j < own.len() {
            let needle = if j == own.len() || (i < shared.len() && shared[i].0.len() >= own[j].0.len()) {
                i += 1;
                &shared[i - 1]
            } else {
                j += 1;
                &own[j - 1]
            };
            if out.contains(needle.expose()) {
                out = out.replace(needle.expose(), REDACTED);
            }
        }
        Cow::Owned(out)
    }
}

/// Standard base64 with padding: `Authorization: Basic` wants it, and an upstream echoing that
/// header echoes this form of the key, so the redactor looks for it too.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("sk_test_CANARY".into());
        assert_eq!(format!("{s:?} {s}"), "Secret(<redacted>) <redacted>");
    }

    #[test]
    fn redacts_every_occurrence_of_every_needle() {
        let mut r = Redactor::default();
        r.add("sk_test_CANARY");
        r.add("acct_1");
        r.add("");
        let text = r#"{"key":"sk_test_CANARY","h":"Bearer sk_test_CANARY","acct":"acct_1"}"#;
        assert!(r.finds_in(text));
        assert_eq!(
            r.redact(text),
            r#"{"key":"[REDACTED]","h":"Bearer [REDACTED]","acct":"[REDACTED]"}"#
        );
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        assert!(!r.finds_in("nothing here"));
        let mut json = String::new();
        r.push_needles_json(&mut json);
        assert_eq!(json, r#"["sk_test_CANARY","acct_1"]"#);
    }

    #[test]
    fn longer_needles_go_first_across_shared_and_own() {
        let mut shared = Needles::default();
        shared.add("abc");
        shared.add("wxyz");
        let mut r = Redactor::with_shared(Some(Rc::new(shared)));
        r.add("abcdef");
        r.add("xy");
        r.add("abc");
        assert_eq!(r.redact("xabcdefx abc wxyz xy"), "x[REDACTED]x [REDACTED] [REDACTED] [REDACTED]");
        let mut scan = String::new();
        r.push_needles_json(&mut scan);
        assert_eq!(scan, r#"["wxyz","abc","abcdef","xy"]"#);
    }

    #[test]
    fn longer_needles_go_first() {
        let mut r = Redactor::default();
        r.add("abc");
        r.add("abcdef");
        assert_eq!(r.redact("xabcdefx abc"), "x[REDACTED]x [REDACTED]");
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
