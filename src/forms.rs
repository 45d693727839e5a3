//! The forms a credential takes when an upstream echoes it, and how each is found.
//!
//! Upstreams echo what they received: a debugging endpoint returns the request's headers, an
//! error quotes the key it refused, a redirect carries it in a query, a log line base64s an
//! `Authorization: Basic` header. Few echo it verbatim. The forms fall in two families, and each
//! family is found by something every member of it contains.
//!
//! **Textual forms**: the value itself, JSON-escaped by any escaper (`\"`, `\\`, `\/`, Go's and
//! Gson's `\u0026`, .NET's `\u002B`), or percent-encoded by any encoder (RFC 3986's set,
//! `encodeURIComponent`'s, WHATWG forms' with `+` for a space; either hex case, or both at
//! once). All of them differ from the value only at characters outside `A-Z a-z 0-9 - . _`,
//! which no JSON or URL encoder rewrites. So [`decoded_len`] matches the whole family at once
//! (each byte of the value as itself, `%XX`, `\u00XX`, `\` + itself, or `+` for a space; the
//! runtime sends ASCII credentials only, so a byte is a character), and a
//! value's [`anchor`] — its longest run of such characters — is a plain string that every
//! textual form of it contains. A value too short or too punctuated to have an anchor of
//! [`ANCHOR_MIN`] characters is looked for by its [`literal_variants`] instead: the forms the
//! common encoders produce, spelled out.
//!
//! **Base64 forms** (standard and URL alphabets, padded or not), of the value alone or of
//! anything that contains it: `user:key` for Basic auth, a whole JSON document. Base64 writes
//! 6 bits per character, so the characters a value's bytes produce depend on where the value
//! starts modulo 3 bytes. For each of the three alignments, the run of characters that depend on
//! the value's bytes alone — its *core* ([`base64_cores`]) — is a string that every base64
//! encoding of every text containing the value at that alignment contains. Three cores (six
//! with the URL alphabet) find the value in any base64. A core is itself text an upstream may
//! escape (PHP's JSON writes `/` as `\/`, a query `%2F`), so the redactor treats cores as it
//! treats values: matched in any textual form, looked for by their anchors (the standard core's
//! anchor, an alphanumeric run, is inside the URL-alphabet core too). A value under
//! [`CORE_MIN_BYTES`] bytes has cores too short to tell from chance; its own standalone
//! encodings are used instead. A value that JSON escapes (it holds `"` or `\`) also gets the
//! cores of its escaped form, for base64 of a JSON document holding it (a JWT's claims, a logged
//! request); base64 of the value's other textual forms (of a percent-encoded value, say) is not
//! looked for.
//!
//! The anchors (or literal variants) of values and cores are what the JS entry scans response
//! bodies for (one pass, `src/js/scan.js`); redaction ([`crate::redact`]) replaces every
//! character inside any form it finds.

/// The shortest anchor taken as distinctive. Below this a run could occur by chance in a
/// response (and its redaction would then damage results), so the literal variants are used.
pub const ANCHOR_MIN: usize = 8;

/// Values shorter than this (bytes) have base64 cores under 8 characters: their standalone
/// encodings are used instead.
pub const CORE_MIN_BYTES: usize = 6;

/// Characters no JSON escaper or URL encoder rewrites. (`~` is not among them: WHATWG form
/// encoding escapes it.)
fn unencodable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')
}

/// The value's longest run of [`unencodable`] characters, if it is the whole value or at least
/// [`ANCHOR_MIN`] characters long: a plain string inside every textual form of the value.
pub fn anchor(value: &str) -> Option<&str> {
    let bytes = value.as_bytes();
    let (mut best, mut start) = ((0, 0), None);
    for i in 0..=bytes.len() {
        match (i < bytes.len() && unencodable(bytes[i]), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s > best.1 - best.0 {
                    best = (s, i);
                }
                start = None;
            }
            _ => {}
        }
    }
    let run = &value[best.0..best.1];
    (!run.is_empty() && (run.len() >= ANCHOR_MIN || run.len() == value.len())).then_some(run)
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// The textual forms common encoders produce, for values without an [`anchor`], each as that
/// encoder writes it (a value without an anchor is found only in these exact forms; one with an
/// anchor, in any mix of escapes):
///
/// - JSON: minimal (`\"`, `\\`: serde, JavaScript, Python), PHP's (`\/` too), Go's (`<>&` as
///   `\u003c`...), Gson's (`<>&='` likewise), and .NET's (`"<>&'+` and a backtick as `\u0022`...,
///   upper-case hex);
/// - percent-encoding: RFC 3986's (everything but unreserved; upper- and lower-case hex), with
///   `+` for a space (Go's `QueryEscape`, Python's `quote_plus`), keeping `/` (Python's `quote`),
///   `encodeURIComponent`'s (keeping `!'()*`, either case), and WHATWG forms' (keeping `*-._`,
///   `+` for a space).
///
/// `add` may see a form twice.
pub fn literal_variants(value: &str, add: &mut dyn FnMut(&str)) {
    add(value);
    let mut out = String::with_capacity(value.len() * 6);
    // JSON: (characters written as \u00XX, `/` as `\/`, `"` as \u0022, hex digits).
    const JSON: [(&str, bool, bool, &[u8; 16]); 5] = [
        ("", false, false, HEX_LOWER),
        ("", true, false, HEX_LOWER),
        ("<>&", false, false, HEX_LOWER),
        ("<>&='", false, false, HEX_LOWER),
        ("<>&'+`", false, true, HEX_UPPER),
    ];
    for (unicode, solidus, quote_unicode, hex) in JSON {
        out.clear();
        for c in value.chars() {
            match c {
                '"' if quote_unicode => push_unicode_escape(&mut out, b'"', hex),
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '/' if solidus => out.push_str("\\/"),
                c if (c as u32) < 0x20 || (c.is_ascii() && unicode.contains(c)) => push_unicode_escape(&mut out, c as u8, hex),
                c => out.push(c),
            }
        }
        add(&out);
    }
    // Percent-encoding: (characters kept besides alphanumerics, space as `+`, hex digits).
    const PERCENT: [(&str, bool, &[u8; 16]); 7] = [
        ("-._~", false, HEX_UPPER),
        ("-._~", false, HEX_LOWER),
        ("-._~", true, HEX_UPPER),
        ("-._~/", false, HEX_UPPER),
        ("-._~!'()*", false, HEX_UPPER),
        ("-._~!'()*", false, HEX_LOWER),
        ("*-._", true, HEX_UPPER),
    ];
    for (keep, plus, hex) in PERCENT {
        out.clear();
        for &b in value.as_bytes() {
            if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
                out.push(b as char);
            } else if b == b' ' && plus {
                out.push('+');
            } else {
                out.push('%');
                out.push(hex[usize::from(b >> 4)] as char);
                out.push(hex[usize::from(b & 15)] as char);
            }
        }
        add(&out);
    }
}

fn push_unicode_escape(out: &mut String, b: u8, hex: &[u8; 16]) {
    out.push_str("\\u00");
    out.push(hex[usize::from(b >> 4)] as char);
    out.push(hex[usize::from(b & 15)] as char);
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 of `bytes` in `alphabet`, with or without `=` padding.
pub fn base64_with(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 with padding, as `Authorization: Basic` wants it.
pub fn base64(bytes: &[u8]) -> String {
    base64_with(bytes, STANDARD, true)
}

/// The base64 forms to look for: for a value of at least [`CORE_MIN_BYTES`] bytes, its cores at
/// the three alignments in both alphabets (see the module docs); for a shorter one, the
/// standalone encodings of it and of `value:` (Basic auth's form with the key as user name).
pub fn base64_cores(value: &[u8], add: &mut dyn FnMut(&str)) {
    if value.len() < CORE_MIN_BYTES {
        for text in [value.to_vec(), [value, b":"].concat()] {
            for alphabet in [STANDARD, URL_SAFE] {
                for pad in [true, false] {
                    add(&base64_with(&text, alphabet, pad));
                }
            }
        }
        return;
    }
    let mut buf = Vec::with_capacity(value.len() + 2);
    for offset in 0..3usize {
        buf.clear();
        buf.resize(offset, 0);
        buf.extend_from_slice(value);
        // Characters j with bits [6j, 6j + 6) inside the value's bits [8·offset, 8·(offset + len)).
        let first = (8 * offset).div_ceil(6);
        let end = 8 * (offset + value.len()) / 6;
        for alphabet in [STANDARD, URL_SAFE] {
            let encoded = base64_with(&buf, alphabet, false);
            add(&encoded[first..end]);
        }
    }
}

/// The value JSON-escaped as the runtime and most encoders write it (`\"`, `\\`, `\n`,
/// `\u00XX`), for the base64 cores of a JSON document that holds the value (a JWT's claims, a
/// logged request); borrowed when escaping changes nothing.
pub fn json_escaped(value: &str) -> std::borrow::Cow<'_, str> {
    if !crate::json::needs_escape(value.as_bytes()) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::new();
    crate::json::push_str(&mut out, value);
    std::borrow::Cow::Owned(out[1..out.len() - 1].to_owned())
}

/// The length of the textual form of `value` starting at `text[at..]`, if one does: each byte of
/// the value as itself, as `%XX` (either case), as `\u00XX` (either case), as `\` followed by
/// itself (JSON's `\"`, `\\`, `\/`), or, for a space, as `+`. The longest such form is taken
/// (the redactor replaces the union of all forms it finds, so a reading that runs into the next
/// form's first character costs nothing).
///
/// Simulated as a small NFA (the set of text positions reachable after each byte of the value),
/// so a value holding `%`, `\` or `+`, which both stand for themselves and start an escape,
/// costs no backtracking.
pub fn decoded_len(text: &[u8], at: usize, value: &[u8]) -> Option<usize> {
    let mut here: Vec<usize> = vec![at];
    let mut next: Vec<usize> = Vec::with_capacity(4);
    for &want in value {
        next.clear();
        for &t in &here {
            let Some(&got) = text.get(t) else { continue };
            let mut reach = |end: usize| {
                if !next.contains(&end) {
                    next.push(end);
                }
            };
            if got == want {
                reach(t + 1);
            }
            match got {
                b'%' if text.get(t + 1..t + 3).and_then(hex_byte) == Some(want) => reach(t + 3),
                b'\\' => {
                    if text.get(t + 1) == Some(&want) && matches!(want, b'"' | b'\\' | b'/') {
                        reach(t + 2);
                    }
                    if text.get(t + 1) == Some(&b'u')
                        && text.get(t + 2..t + 4) == Some(b"00")
                        && text.get(t + 4..t + 6).and_then(hex_byte) == Some(want)
                    {
                        reach(t + 6);
                    }
                }
                b'+' if want == b' ' => reach(t + 1),
                _ => {}
            }
        }
        if next.is_empty() {
            return None;
        }
        std::mem::swap(&mut here, &mut next);
    }
    here.iter().max().map(|end| end - at)
}

/// The byte two hex digits spell (`two` holds at least two bytes).
pub(crate) fn hex_byte(two: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(two[0])? * 16 + digit(two[1])?) as u8)
}

/// Whether `b` can start a textual form of a value whose first byte is `first`.
pub fn may_start(b: u8, first: u8) -> bool {
    b == first || b == b'%' || b == b'\\' || (first == b' ' && b == b'+')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percent(value: &str, upper: bool) -> String {
        let hex = if upper { HEX_UPPER } else { HEX_LOWER };
        value
            .bytes()
            .map(|b| if unencodable(b) { (b as char).to_string() } else { format!("%{}{}", hex[usize::from(b >> 4)] as char, hex[usize::from(b & 15)] as char) })
            .collect()
    }

    #[test]
    fn anchors_are_long_unencodable_runs_or_the_whole_value() {
        assert_eq!(anchor("sk_test_51NfXk2Lkd"), Some("sk_test_51NfXk2Lkd"));
        assert_eq!(anchor("key"), Some("key"));
        assert_eq!(anchor("ab\"cdefghijk%x"), Some("cdefghijk"));
        assert_eq!(anchor("a!b@c#d$"), None);
        assert_eq!(anchor(""), None);
    }

    #[test]
    fn every_textual_form_decodes_to_the_value() {
        let value = "k\"e\\y/ &+=%é";
        let json = serde_json::to_string(value).unwrap();
        let forms = [
            value.to_owned(),
            json[1..json.len() - 1].to_owned(),
            json[1..json.len() - 1].replace('/', "\\/"),
            percent(value, true),
            percent(value, false),
            "k%22e%5cy%2F%20%26%2b%3D%25%C3%a9".to_owned(),
            "k\\u0022e\\\\y\\/+\\u0026\\u002B\\u003d%25é".to_owned(),
        ];
        for form in forms {
            let text = format!("<<{form}>>");
            assert_eq!(decoded_len(text.as_bytes(), 2, value.as_bytes()), Some(form.len()), "{form}");
        }
        assert_eq!(decoded_len(b"k\"e\\y/ &+=%", 0, value.as_bytes()), None, "a prefix is not the value");
        // `%` standing for itself, then as the start of `%25`: both paths are followed.
        assert_eq!(decoded_len(b"a%25%b", 0, b"a%%b"), Some(6));
        // A value ending in `\` before another escape: both readings, the longer taken.
        assert_eq!(decoded_len(b"ab\\\\u003b", 0, b"ab\\"), Some(4));
    }

    #[test]
    fn base64_cores_are_inside_every_encoding_of_every_text_holding_the_value() {
        let value = b"sk_test_CANARY+/?~\xff\x00";
        let mut cores = Vec::new();
        base64_cores(value, &mut |c| cores.push(c.to_owned()));
        assert_eq!(cores.len(), 6);
        for prefix in [&b""[..], b"u", b"us", b"user:", b"{\"authorization\":\"Basic "] {
            for suffix in [&b""[..], b":", b"xy", b"\"}"] {
                let text = [prefix, &value[..], suffix].concat();
                for alphabet in [STANDARD, URL_SAFE] {
                    for pad in [true, false] {
                        let encoded = base64_with(&text, alphabet, pad);
                        assert!(cores.iter().any(|c| encoded.contains(c.as_str())), "{encoded}");
                    }
                }
            }
        }
        assert!(cores.iter().all(|c| c.len() >= 8));
        let mut short = Vec::new();
        base64_cores(b"abc", &mut |c| short.push(c.to_owned()));
        assert!(short.contains(&"YWJj".to_owned()) && short.contains(&"YWJjOg==".to_owned()) && short.contains(&"YWJjOg".to_owned()));
    }

    #[test]
    fn literal_variants_include_the_common_encoders_output() {
        let mut seen = Vec::new();
        literal_variants("a b&c/d", &mut |v| seen.push(v.to_owned()));
        for want in ["a b&c/d", "a b&c\\/d", "a b\\u0026c/d", "a b\\u0026c/d", "a%20b%26c%2Fd", "a%20b%26c%2fd", "a+b%26c%2Fd", "a%20b%26c/d"] {
            assert!(seen.iter().any(|s| s == want), "{want} missing from {seen:?}");
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64_with(b"\xfb\xff", URL_SAFE, false), "-_8");
    }
}
