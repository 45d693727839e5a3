//! What a caller may put in an HTTP header.
//!
//! Header values a caller supplies (`options.auth.apiKey`, `options.auth.headers`, header
//! parameters) and the Worker secret are checked before anything is built, so that nothing is
//! changed or refused on the way: `fetch` strips leading and trailing spaces silently and
//! throws on control characters and on anything outside Latin-1, and what it does accept beyond
//! ASCII reaches upstreams as bytes they read in different ways. A value is therefore printable
//! ASCII (space to `~`), not empty, not padded with spaces, and at most [`MAX_VALUE`] bytes.

/// The longest header value accepted, in bytes: 8 KiB, the line most HTTP servers take.
pub const MAX_VALUE: usize = 8 * 1024;

/// [`value_fault`]'s words for control characters, which an unusable secret's message explains
/// ([`crate::error::CallError::UnsendableSecret`]).
pub const CONTROL_FAULT: &str = "must not hold control characters (CR, LF, NUL, tab...)";

/// Why a value cannot travel in a header: the end of a sentence that names it.
pub fn value_fault(value: &str) -> Option<&'static str> {
    let bytes = value.as_bytes();
    if bytes.is_empty() {
        Some("must not be empty")
    } else if bytes.len() > MAX_VALUE {
        Some("is over 8 KiB, more than an upstream takes in a header")
    } else if bytes.iter().any(|&b| b < 0x20 || b == 0x7f) {
        Some(CONTROL_FAULT)
    } else if !value.is_ascii() {
        Some("must be ASCII: headers carry bytes, and upstreams read others in different ways")
    } else if bytes[0] == b' ' || bytes[bytes.len() - 1] == b' ' {
        Some("must not start or end with a space (fetch would strip it)")
    } else {
        None
    }
}

/// Whether `name` is an HTTP header name (an RFC 9110 token).
pub fn is_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_printable_ascii_unpadded_and_bounded() {
        for ok in ["sk_test_1", "a b", "~!\"#", &"x".repeat(MAX_VALUE)] {
            assert_eq!(value_fault(ok), None, "{ok}");
        }
        for bad in ["", "a\r\nb", "a\nb", "a\0b", "a\tb", "\u{7f}", "é", "ａ", " a", "a ", &"x".repeat(MAX_VALUE + 1)] {
            assert!(value_fault(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn names_are_tokens() {
        assert!(is_name("Stripe-Account") && is_name("x_1"));
        for bad in ["", "a b", "a:b", "a\r\nb", "é", "(x)"] {
            assert!(!is_name(bad), "{bad:?}");
        }
    }
}
