//! Credentials that cannot print.
//!
//! A [`Secret`] can be read only by asking for it ([`Secret::expose`]). It prints as
//! `Secret(<redacted>)` under `Debug` and `Display`, and implements neither `Serialize` nor
//! `Clone`, so it cannot slip into a receipt, an error message, a log line or a panic message by
//! accident: the compiler refuses. Keeping credentials out of what upstreams send back is
//! [`crate::redact`]'s work.

use std::fmt;

/// A credential value: the Worker secret, a per-call key, or a per-call auth header value, or
/// a form of one that finds it in upstream text.
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The value itself, for the places that must use it: the upstream request, and the
    /// redactor looking for it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// For tests comparing what holds secrets (a request body); nothing branches on it.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("sk_test_CANARY".into());
        assert_eq!(format!("{s:?} {s}"), "Secret(<redacted>) <redacted>");
    }
}
