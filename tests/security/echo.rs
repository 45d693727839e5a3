//! How an upstream writes a credential it echoes (every form the README lists, as encoders
//! write them), and how an independent reader decodes text looking for one. Shared by the fuzz
//! targets; deliberately not the runtime's own code (`src/forms.rs`), which it checks.

#![allow(dead_code)]

use capa_rs::forms;
use proptest::prelude::*;

/// How one occurrence of a credential is written.
#[derive(Debug, Clone)]
pub enum Form {
    Raw,
    /// Per character, a choice among the escapes a JSON encoder may use.
    Json(Vec<u8>),
    /// Per character, a choice among raw, `%XX`, `%xx`, and `+` for a space.
    Percent(Vec<u8>),
    /// Base64 of `prefix + value + suffix` (of the value's JSON-escaped form when `json`), then
    /// itself written as text is: as it is, JSON with `\/` (PHP), JSON with `\u002B` (.NET's
    /// System.Text.Json), percent-encoded in either hex case (a query), by `wrap`.
    Base64 { url: bool, pad: bool, prefix: Vec<u8>, suffix: Vec<u8>, json: bool, wrap: u8 },
}

pub fn unencodable(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')
}

/// The JSON escapes real encoders write, each applied throughout: minimal (serde, JavaScript,
/// Python), PHP's `\/`, Go's and Gson's HTML-safe `\u003c` (lower-case), .NET's `\u0022` and
/// `\u002B` (upper-case).
fn json_as_an_encoder_writes_it(secret: &str, profile: u8) -> String {
    let minimal = serde_json::to_string(secret).unwrap();
    let minimal = &minimal[1..minimal.len() - 1];
    let escape = |text: &str, chars: &str, upper: bool| {
        text.chars()
            .map(|c| if chars.contains(c) { if upper { format!("\\u{:04X}", c as u32) } else { format!("\\u{:04x}", c as u32) } } else { c.to_string() })
            .collect::<String>()
    };
    match profile % 5 {
        0 => minimal.to_owned(),
        1 => minimal.replace('/', "\\/"),
        2 => escape(minimal, "<>&", false),
        3 => escape(minimal, "<>&='", false),
        _ => escape(&minimal.replace("\\\"", "\""), "\"<>&'+`", true),
    }
}

/// Percent-encoding as real encoders write it, each applied throughout.
fn percent_as_an_encoder_writes_it(secret: &str, profile: u8) -> String {
    // (kept besides alphanumerics, space as `+`, upper-case hex)
    let (keep, plus, upper) = match profile % 7 {
        0 => ("-._~", false, true),  // RFC 3986
        1 => ("-._~", false, false), // RFC 3986, lower-case
        2 => ("-._~", true, true),   // Go QueryEscape, Python quote_plus
        3 => ("-._~/", false, true), // Python quote
        4 => ("-._~!'()*", false, true), // encodeURIComponent
        5 => ("-._~!'()*", false, false),
        _ => ("*-._", true, true), // WHATWG application/x-www-form-urlencoded
    };
    secret
        .bytes()
        .map(|b| match b {
            b if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) => (b as char).to_string(),
            b' ' if plus => "+".to_owned(),
            b if upper => format!("%{b:02X}"),
            b => format!("%{b:02x}"),
        })
        .collect()
}

pub fn render(secret: &str, form: &Form) -> String {
    // A value without an anchor is found in the forms real encoders write; one with an anchor in
    // any mix of escapes (src/forms.rs).
    let anchored = forms::anchor(secret).is_some();
    match form {
        Form::Raw => secret.to_owned(),
        Form::Json(choices) if !anchored => json_as_an_encoder_writes_it(secret, choices[0]),
        Form::Percent(choices) if !anchored => percent_as_an_encoder_writes_it(secret, choices[0]),
        Form::Json(choices) => secret
            .chars()
            .enumerate()
            .map(|(i, c)| {
                let pick = choices[i % choices.len()];
                let unicode = |upper: bool| if upper { format!("\\u{:04X}", c as u32) } else { format!("\\u{:04x}", c as u32) };
                match c {
                    '"' | '\\' => match pick % 3 {
                        0 => format!("\\{c}"),
                        n => unicode(n == 2),
                    },
                    '/' => match pick % 4 {
                        0 => "/".to_owned(),
                        1 => "\\/".to_owned(),
                        n => unicode(n == 3),
                    },
                    c if unencodable(c) => c.to_string(),
                    c => match pick % 3 {
                        0 => c.to_string(),
                        n => unicode(n == 2),
                    },
                }
            })
            .collect(),
        Form::Percent(choices) => secret
            .bytes()
            .enumerate()
            .map(|(i, b)| {
                let pick = choices[i % choices.len()];
                match b {
                    b if unencodable(b as char) => (b as char).to_string(),
                    b' ' if pick % 4 == 3 => "+".to_owned(),
                    b if pick % 4 == 0 => (b as char).to_string(),
                    b if pick % 4 == 1 => format!("%{b:02X}"),
                    b => format!("%{b:02x}"),
                }
            })
            .collect(),
        Form::Base64 { url, pad, prefix, suffix, json, wrap } => {
            let value = if *json { forms::json_escaped(secret).into_owned() } else { secret.to_owned() };
            let bytes = [prefix.as_slice(), value.as_bytes(), suffix.as_slice()].concat();
            let alphabet: &[u8; 64] = if *url {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
            } else {
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            };
            let text = forms::base64_with(&bytes, alphabet, *pad);
            match wrap % 5 {
                1 => text.replace('/', "\\/"),
                2 => text.replace('+', "\\u002B"),
                3 => text.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D"),
                4 => text.replace('+', "%2b").replace('/', "%2f").replace('=', "%3d"),
                _ => text,
            }
        }
    }
}

/// Every decoding an independent reader would try: percent, JSON escapes, base64 runs.
pub fn decodings(text: &str) -> Vec<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = vec![bytes.to_vec()];
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut percent = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                percent.push(h * 16 + l);
                i += 3;
            }
            (b'+', _, _) => {
                percent.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                percent.push(b);
                i += 1;
            }
        }
    }
    out.push(percent);
    let mut json = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'u') && bytes.len() >= i + 6 {
            if let Some(code) = std::str::from_utf8(&bytes[i + 2..i + 6]).ok().and_then(|h| u32::from_str_radix(h, 16).ok()) {
                if code < 0x80 {
                    json.push(code as u8);
                    i += 6;
                    continue;
                }
            }
        }
        if bytes[i] == b'\\' && matches!(bytes.get(i + 1), Some(b'"' | b'\\' | b'/')) {
            json.push(bytes[i + 1]);
            i += 2;
            continue;
        }
        json.push(bytes[i]);
        i += 1;
    }
    out.push(json);
    let six = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    };
    for run in text.split(|c: char| six(c as u32 as u8).is_none() || !c.is_ascii()).filter(|r| r.len() >= 8) {
        for start in 0..4.min(run.len()) {
            let (mut bits, mut n, mut decoded) = (0u32, 0, Vec::new());
            for c in run.bytes().skip(start) {
                bits = (bits << 6) | u32::from(six(c).unwrap_or(0));
                n += 6;
                if n >= 8 {
                    n -= 8;
                    decoded.push((bits >> n) as u8);
                }
            }
            out.push(decoded);
        }
    }
    out
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}


/// A random form to write a value of `len` bytes in: any the redactor claims to find.
pub fn form(len: usize) -> BoxedStrategy<Form> {
    let choices = || prop::collection::vec(any::<u8>(), 1..8);
    let bytes = || prop::collection::vec(any::<u8>(), 0..8);
    // Base64 cores find a value anywhere in any base64 only from CORE_MIN_BYTES on; shorter
    // values are found by their standalone encodings (of `value` and `value:`).
    let base64 = if len >= forms::CORE_MIN_BYTES {
        (any::<bool>(), any::<bool>(), bytes(), bytes(), any::<bool>(), any::<u8>())
            .prop_map(|(url, pad, prefix, suffix, json, wrap)| Form::Base64 { url, pad, prefix, suffix, json, wrap })
            .boxed()
    } else {
        (any::<bool>(), any::<bool>(), prop_oneof![Just(vec![]), Just(b":".to_vec())], any::<u8>())
            .prop_map(|(url, pad, suffix, wrap)| Form::Base64 { url, pad, prefix: vec![], suffix, json: false, wrap })
            .boxed()
    };
    prop_oneof![Just(Form::Raw), choices().prop_map(Form::Json), choices().prop_map(Form::Percent), base64].boxed()
}

