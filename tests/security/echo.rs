//! How an upstream may write a credential it echoes, and how an independent reader decodes a
//! string looking for one: the guarantee of the README's Security section, from outside. Shared
//! by the fuzz targets; deliberately not the runtime's own code (`src/views.rs`), which it checks.
//!
//! A form is a chain of up to two encodings, each chosen per character where the encoding lets
//! an encoder choose (any character may be `\u00XX` or `%XX`, either hex case): the writer side of
//! "raw, percent, base64 at any alignment, one more JSON level, and any two composed".

#![allow(dead_code)]

use proptest::prelude::*;

/// One encoding an upstream applies.
#[derive(Debug, Clone)]
pub enum Encoding {
    /// JSON string escapes; per character a choice: raw where JSON allows it, `\X`, or
    /// `\u00XX` in either case.
    Json(Vec<u8>),
    /// Percent-encoding; per byte a choice: raw where unambiguous, `%XX`, `%xx`; a space as `+`
    /// when `plus` (then a `+` itself is always `%2B`).
    Percent { choices: Vec<u8>, plus: bool },
    /// Base64 of `prefix + text + suffix`, in either alphabet, padded or not, wrapped in lines of
    /// `wrap` characters when `wrap > 0` (MIME writes 76).
    Base64 { url: bool, pad: bool, prefix: Vec<u8>, suffix: Vec<u8>, wrap: u8 },
}

/// How one occurrence of a credential is written: up to two encodings, applied in order.
pub type Form = Vec<Encoding>;

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
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

fn encode(text: &[u8], encoding: &Encoding) -> Vec<u8> {
    let pick = |choices: &[u8], i: usize| choices[i % choices.len()];
    match encoding {
        Encoding::Json(choices) => {
            let mut out = Vec::new();
            // Per byte: the text may hold any bytes; what is not ASCII is written as it is (a
            // JSON string holds UTF-8), and the reader decodes only what an escape wrote.
            for (i, &b) in text.iter().enumerate() {
                let unicode = |upper: bool| if upper { format!("\\u{:04X}", b) } else { format!("\\u{:04x}", b) };
                let written = match (b, pick(choices, i) % 3) {
                    (b'"' | b'\\', 0) => format!("\\{}", b as char),
                    (b'/', 0) => "\\/".to_owned(),
                    (b'\n', 0) => "\\n".to_owned(),
                    (b'\r', 0) => "\\r".to_owned(),
                    (b'\t', 0) => "\\t".to_owned(),
                    (0..=0x1f | b'"' | b'\\', n) => unicode(n == 2),
                    (0x80.., _) => (b as char).to_string(),
                    (_, 0) => (b as char).to_string(),
                    (_, 1) => (b as char).to_string(),
                    (_, _) => unicode(true),
                };
                if b >= 0x80 {
                    out.push(b);
                } else {
                    out.extend_from_slice(written.as_bytes());
                }
            }
            out
        }
        Encoding::Percent { choices, plus } => {
            let mut out = Vec::new();
            for (i, &b) in text.iter().enumerate() {
                let choice = pick(choices, i) % 3;
                if b == b' ' && *plus && choice == 0 {
                    out.push(b'+');
                } else if choice == 0 && b != b'%' && !(*plus && b == b'+') && b.is_ascii_graphic() {
                    out.push(b);
                } else if choice == 2 {
                    out.extend_from_slice(format!("%{b:02x}").as_bytes());
                } else {
                    out.extend_from_slice(format!("%{b:02X}").as_bytes());
                }
            }
            out
        }
        Encoding::Base64 { url, pad, prefix, suffix, wrap } => {
            let bytes = [prefix.as_slice(), text, suffix.as_slice()].concat();
            let encoded = base64(&bytes, if *url { URL_SAFE } else { STANDARD }, *pad);
            if *wrap == 0 {
                return encoded.into_bytes();
            }
            encoded.as_bytes().chunks(usize::from(*wrap)).collect::<Vec<_>>().join(&b"\r\n"[..])
        }
    }
}

/// `secret` written in `form`. The text is what the caller receives, so it must be text: a form
/// whose last encoding leaves bytes that are not UTF-8 (a JSON level over base64's decoded
/// bytes cannot) is written lossily, which only ever makes finding harder.
pub fn render(secret: &str, form: &Form) -> String {
    let mut text = secret.as_bytes().to_vec();
    for encoding in form {
        text = encode(&text, encoding);
    }
    String::from_utf8_lossy(&text).into_owned()
}

/// Every view an independent reader would take of `text`: itself, and up to two decodings deep,
/// percent (with and without `+` as a space), JSON escapes, and every base64-looking run at each
/// of its four alignments.
pub fn decodings(text: &str) -> Vec<Vec<u8>> {
    let mut out = vec![text.as_bytes().to_vec()];
    for _ in 0..2 {
        let mut next = Vec::new();
        for view in &out {
            next.push(view.clone());
            next.extend(decode_once(view));
        }
        next.sort();
        next.dedup();
        out = next;
    }
    out
}

fn decode_once(bytes: &[u8]) -> Vec<Vec<u8>> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::new();
    for plus in [false, true] {
        let mut percent = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                (b'%', Some(h), Some(l)) => {
                    percent.push(h * 16 + l);
                    i += 3;
                }
                (b'+', _, _) if plus => {
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
    }
    let mut json = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if let Some(code) = bytes.get(i + 2..i + 6).filter(|_| bytes.get(i + 1) == Some(&b'u')).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u32::from_str_radix(h, 16).ok()) {
                let mut buf = [0; 4];
                json.extend_from_slice(char::from_u32(code).unwrap_or('\u{fffd}').encode_utf8(&mut buf).as_bytes());
                i += 6;
                continue;
            }
            let simple = match bytes.get(i + 1) {
                Some(b'n') => Some(b'\n'),
                Some(b'r') => Some(b'\r'),
                Some(b't') => Some(b'\t'),
                Some(&c @ (b'"' | b'\\' | b'/')) => Some(c),
                _ => None,
            };
            if let Some(c) = simple {
                json.push(c);
                i += 2;
                continue;
            }
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
    // Runs of base64 characters, line breaks inside dropped.
    let joined: Vec<u8> = bytes.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    for run in joined.split(|&c| six(c).is_none()).filter(|r| r.len() >= 4) {
        for start in 0..4.min(run.len()) {
            let (mut bits, mut n, mut decoded) = (0u32, 0, Vec::new());
            for &c in &run[start..] {
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

/// A random form: up to two encodings.
pub fn form(_len: usize) -> BoxedStrategy<Form> {
    let choices = || prop::collection::vec(any::<u8>(), 1..8);
    // Any bytes around the text base64 carries, but those that would join an escape of the text
    // (a `\` before its `\u0073`, a `%` before its `73`): that makes another text, which may
    // hold the credential in no view at all.
    let bytes = || prop::collection::vec(any::<u8>().prop_filter("no escape start", |b| *b != b'\\' && *b != b'%'), 0..6);
    let encoding = prop_oneof![
        choices().prop_map(Encoding::Json),
        (choices(), any::<bool>()).prop_map(|(choices, plus)| Encoding::Percent { choices, plus }),
        (any::<bool>(), any::<bool>(), bytes(), bytes(), prop_oneof![4 => Just(0u8), 1 => 4u8..80])
            .prop_map(|(url, pad, prefix, suffix, wrap)| Encoding::Base64 { url, pad, prefix, suffix, wrap }),
    ];
    prop::collection::vec(encoding, 0..=2).boxed()
}
