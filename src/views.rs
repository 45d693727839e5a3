//! What a caller can decode from a string, and where in it a credential hides.
//!
//! Redaction is judged on what the caller *receives*, not on the upstream's bytes: a JSON
//! result reaches the caller parsed (its `\u0074` already a `t`), and the caller, or whoever it
//! hands the result to, can decode further. So the guarantee is stated on each string of the
//! envelope as the caller sees it — a result's strings and keys, a message, an `upstream`
//! member, a receipt field:
//!
//! > it holds no credential raw, nor after percent-decoding (with or without `+` as a space),
//! > nor after base64 or base64url decoding of any run at any alignment, nor after one more
//! > level of JSON-string unescaping — nor through any composition of two of these.
//!
//! This module searches those *views*. [`Needles::spans`] walks a string and, up to `depth`
//! decodings deep, reports each span of the string whose decoding holds a needle (a credential
//! value, or each long line of a multi-line one: `crate::redact`). Each decoding keeps, for
//! every byte it writes, where in its input that byte came from, so a find deep inside two
//! decodings maps back to the span of the original string that spelled it, and only that span
//! is replaced. A find inside base64 maps to the whole run: bits cannot be cut out of base64.
//!
//! The decodings, each applied only where its trigger is present, so a string without `%`, `\`
//! or a long base64 run costs one plain search:
//!
//! - **percent** (`%XX`, either hex case; a second reading with `+` as a space when a needle
//!   holds a space);
//! - **JSON string escapes** (`\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t` `\uXXXX`, surrogate pairs
//!   joined; an invalid escape stands for itself);
//! - **base64**: every maximal run of base64 characters (both alphabets at once, line breaks
//!   inside a run skipped, as MIME wraps it) long enough to encode the shortest needle, decoded
//!   from each of its first four characters. Decoding a run in the union of the alphabets, at
//!   each alignment, yields the bytes of every standard or URL-safe encoding inside it.
//!
//! What is out of reach, and said so in the Security docs: a credential split across separate
//! strings or fields, encodings other than these (hex, HTML entities, compression), and three
//! or more decodings stacked.

/// The strings searched for, and what follows from them.
#[derive(Debug)]
pub struct Needles<'a> {
    values: Vec<&'a [u8]>,
    /// Whether a needle starts with each byte.
    first: [bool; 256],
    /// The shortest needle's length.
    min_len: usize,
    /// A needle holds a space: a form may write it `+`.
    plus: bool,
}

/// The shortest base64 run that can encode `len` bytes.
pub fn min_run(len: usize) -> usize {
    (4 * len).div_ceil(3).max(2)
}

impl<'a> Needles<'a> {
    /// From `values` (empty ones ignored).
    pub fn new(values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut needles = Needles { values: Vec::new(), first: [false; 256], min_len: usize::MAX, plus: false };
        for value in values.into_iter().filter(|v| !v.is_empty()) {
            needles.first[usize::from(value[0])] = true;
            needles.min_len = needles.min_len.min(value.len());
            needles.plus |= value.contains(&b' ');
            needles.values.push(value);
        }
        needles
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether `text`, itself or in any view up to `depth` decodings deep, holds a needle.
    pub fn found(&self, text: &[u8], depth: u8) -> bool {
        !self.is_empty() && self.walk(text, depth, &mut |_, _| true)
    }

    /// Appends the spans of `text` (`[from, to)`) that hold a needle, themselves or in any view
    /// up to `depth` decodings deep. Spans may overlap and come in any order.
    pub fn spans(&self, text: &[u8], depth: u8, out: &mut Vec<(usize, usize)>) {
        if !self.is_empty() {
            self.walk(text, depth, &mut |from, to| {
                out.push((from, to));
                false
            });
        }
    }

    /// Reports each find to `hit` (in `text`'s coordinates); `hit` answers whether to stop.
    /// Answers whether it stopped.
    fn walk(&self, text: &[u8], depth: u8, hit: &mut dyn FnMut(usize, usize) -> bool) -> bool {
        if text.len() < self.min_len {
            return false;
        }
        if self.plain(text, hit) {
            return true;
        }
        if depth == 0 {
            return false;
        }
        let has = |b: u8| text.contains(&b);
        if has(b'%') || (self.plus && has(b'+')) {
            for plus in [false, true] {
                if plus && !(self.plus && has(b'+')) {
                    continue;
                }
                if let Some(view) = percent(text, plus) {
                    if self.walk(&view.bytes, depth - 1, &mut |a, b| hit(view.start(a), view.end(b))) {
                        return true;
                    }
                }
            }
        }
        if has(b'\\') {
            if let Some(view) = json_unescape(text) {
                if self.walk(&view.bytes, depth - 1, &mut |a, b| hit(view.start(a), view.end(b))) {
                    return true;
                }
            }
        }
        let least = min_run(self.min_len);
        let mut bytes = Vec::new();
        for (from, to) in base64_runs(text, least) {
            for skip in 0..4 {
                bytes.clear();
                if decode_base64(&text[from..to], skip, &mut bytes) >= self.min_len && self.walk(&bytes, depth - 1, &mut |_, _| hit(from, to)) {
                    return true;
                }
            }
        }
        false
    }

    /// Plain occurrences of any needle.
    fn plain(&self, text: &[u8], hit: &mut dyn FnMut(usize, usize) -> bool) -> bool {
        for i in 0..=text.len() - self.min_len {
            if !self.first[usize::from(text[i])] {
                continue;
            }
            for value in &self.values {
                if text[i..].starts_with(value) && hit(i, i + value.len()) {
                    return true;
                }
            }
        }
        false
    }
}

/// A decoding of a text, with where each byte came from.
#[derive(Debug)]
struct View {
    bytes: Vec<u8>,
    /// `from[i]`: where in the input the escape (or byte) that wrote byte `i` starts; one more
    /// entry, the input's length.
    from: Vec<u32>,
}

impl View {
    fn with_capacity(n: usize) -> Self {
        View { bytes: Vec::with_capacity(n), from: Vec::with_capacity(n + 1) }
    }

    fn push(&mut self, byte: u8, at: usize) {
        self.bytes.push(byte);
        self.from.push(at as u32);
    }

    /// Where the input's span holding output byte `i` starts.
    fn start(&self, i: usize) -> usize {
        self.from[i] as usize
    }

    /// Where the input's span holding output bytes before `end` ends: the start of the first
    /// later byte written by another escape (bytes of one escape share their start).
    fn end(&self, end: usize) -> usize {
        let last = self.from[end - 1];
        self.from[end..].iter().copied().find(|&f| f > last).unwrap_or(last) as usize
    }
}

/// `%XX` decoded (and `+` as a space when `plus`); `None` when nothing decodes.
fn percent(text: &[u8], plus: bool) -> Option<View> {
    let mut view = View::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < text.len() {
        let escaped = if text[i] == b'%' { text.get(i + 1..i + 3).and_then(hex_byte) } else { None };
        match text[i] {
            b'%' if escaped.is_some() => {
                view.push(escaped.unwrap_or(b'%'), i);
                changed = true;
                i += 3;
            }
            b'+' if plus => {
                view.push(b' ', i);
                changed = true;
                i += 1;
            }
            b => {
                view.push(b, i);
                i += 1;
            }
        }
    }
    view.from.push(text.len() as u32);
    changed.then_some(view)
}

/// One level of JSON string escapes undone; `None` when there is none.
fn json_unescape(text: &[u8]) -> Option<View> {
    let mut view = View::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < text.len() {
        if text[i] != b'\\' || i + 1 >= text.len() {
            view.push(text[i], i);
            i += 1;
            continue;
        }
        let simple = match text[i + 1] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(b) = simple {
            view.push(b, i);
            changed = true;
            i += 2;
            continue;
        }
        match unicode_escape(text, i) {
            Some((c, len)) => {
                let mut buf = [0; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    view.push(b, i);
                }
                changed = true;
                i += len;
            }
            None => {
                view.push(b'\\', i);
                i += 1;
            }
        }
    }
    view.from.push(text.len() as u32);
    changed.then_some(view)
}

/// The character a `\uXXXX` escape at `at` writes (a surrogate pair joined; a lone surrogate
/// U+FFFD), and the escape's length.
fn unicode_escape(text: &[u8], at: usize) -> Option<(char, usize)> {
    let unit = |i: usize| -> Option<u32> {
        if text.get(i..i + 2)? != b"\\u" {
            return None;
        }
        let hex = text.get(i + 2..i + 6)?;
        Some(u32::from(hex_byte(&hex[..2])?) << 8 | u32::from(hex_byte(&hex[2..])?))
    };
    let high = unit(at)?;
    if (0xd800..0xdc00).contains(&high) {
        if let Some(low) = unit(at + 6).filter(|l| (0xdc00..0xe000).contains(l)) {
            return Some((char::from_u32(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00))?, 12));
        }
    }
    Some((char::from_u32(high).unwrap_or('\u{fffd}'), 6))
}

/// The byte two hex digits spell (`two` holds at least two bytes).
pub fn hex_byte(two: &[u8]) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(*two.first()?)? * 16 + digit(*two.get(1)?)?) as u8)
}

/// The value of a base64 character of either alphabet, or 64 for a line break inside a run.
fn sextet(b: u8) -> Option<u8> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        b'\n' | b'\r' => 64,
        _ => return None,
    })
}

/// The maximal runs of base64 characters (line breaks inside a run allowed) holding at least
/// `least` characters of the alphabets.
fn base64_runs(text: &[u8], least: usize) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if !matches!(sextet(text[i]), Some(s) if s < 64) {
            i += 1;
            continue;
        }
        let start = i;
        let mut count = 0;
        let mut end = i;
        while i < text.len() {
            match sextet(text[i]) {
                Some(64) => {}
                Some(_) => {
                    count += 1;
                    end = i + 1;
                }
                None => break,
            }
            i += 1;
        }
        if count >= least {
            // Its padding is part of it, though it encodes nothing.
            let mut to = end;
            while to < text.len() && to < end + 2 && text[to] == b'=' {
                to += 1;
            }
            runs.push((start, to));
        }
    }
    runs
}

/// Decodes `run` from its `skip`-th base64 character on, appending to `out`; answers the number
/// of bytes written.
fn decode_base64(run: &[u8], skip: usize, out: &mut Vec<u8>) -> usize {
    let (mut bits, mut n, mut seen) = (0u32, 0u32, 0);
    let before = out.len();
    for &c in run {
        match sextet(c) {
            Some(s) if s < 64 => {
                seen += 1;
                if seen <= skip {
                    continue;
                }
                bits = (bits << 6 | u32::from(s)) & 0xffff;
                n += 6;
                if n >= 8 {
                    n -= 8;
                    out.push((bits >> n) as u8);
                }
            }
            _ => {}
        }
    }
    out.len() - before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8], url: bool) -> String {
        let alphabet: &[u8; 64] = if url {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        } else {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        };
        crate::forms::base64_with(bytes, alphabet, true)
    }

    fn spans(needles: &[&str], text: &str, depth: u8) -> Vec<(usize, usize)> {
        let n = Needles::new(needles.iter().map(|s| s.as_bytes()));
        let mut out = Vec::new();
        n.spans(text.as_bytes(), depth, &mut out);
        out.sort();
        out.dedup();
        out
    }

    const KEY: &str = "sk_test_KEY/+x\"y";

    #[test]
    fn plain_finds_are_their_own_span() {
        assert_eq!(spans(&[KEY], &format!("ab{KEY}cd"), 0), vec![(2, 2 + KEY.len())]);
        assert!(spans(&[KEY], "nothing", 2).is_empty());
    }

    #[test]
    fn every_byte_escaped_maps_back_to_its_escapes() {
        let all_percent: String = KEY.bytes().map(|b| format!("%{b:02x}")).collect();
        let text = format!("<{all_percent}>");
        assert_eq!(spans(&[KEY], &text, 1), vec![(1, 1 + all_percent.len())]);
        let all_unicode: String = KEY.bytes().map(|b| format!("\\u{b:04X}")).collect();
        let text = format!("<{all_unicode}>");
        assert_eq!(spans(&[KEY], &text, 1), vec![(1, 1 + all_unicode.len())]);
        // Not at depth 0.
        assert!(spans(&[KEY], &text, 0).is_empty());
    }

    #[test]
    fn compositions_of_two_are_found() {
        let pct: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
        // base64 of the percent-encoded form.
        let text = format!("x {} y", b64(pct.as_bytes(), false));
        assert_eq!(spans(&[KEY], &text, 2), vec![(2, text.len() - 2)]);
        assert!(spans(&[KEY], &text, 1).is_empty());
        // A JSON string nested in a JSON string (what the caller sees of it holds one level).
        let nested = serde_json::to_string(&serde_json::to_string(&serde_json::json!({ "k": KEY })).unwrap()).unwrap();
        assert!(!spans(&[KEY], &nested, 2).is_empty(), "{nested}");
        // base64 of base64, at an odd alignment, in the URL alphabet.
        let inner = b64(format!("user:{KEY}").as_bytes(), false);
        let outer = b64(format!("xy{inner}").as_bytes(), true);
        let text = format!("prefix{outer}");
        assert!(!spans(&[KEY], &text, 2).is_empty(), "{text}");
        // Percent-encoded base64 (a token in a query).
        let text = b64(KEY.as_bytes(), false).replace('/', "%2F").replace('+', "%2B");
        assert!(!spans(&[KEY], &text, 2).is_empty(), "{text}");
    }

    #[test]
    fn base64_at_every_alignment_and_across_line_breaks() {
        for prefix in ["", "a", "ab", "abc"] {
            for url in [false, true] {
                let encoded = b64(format!("{prefix}{KEY}!").as_bytes(), url);
                let wrapped: String = encoded.as_bytes().chunks(7).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\r\n");
                for text in [format!("-- {encoded} --"), format!("\"{wrapped}\"")] {
                    assert!(!spans(&[KEY], &text, 1).is_empty(), "{text}");
                }
            }
        }
    }

    #[test]
    fn plus_reads_as_a_space_only_for_needles_with_one() {
        assert_eq!(spans(&["a key here"], "x a+key%20here y", 1), vec![(2, 14)]);
        assert!(spans(&["a+key"], "a%2Bkey", 1).len() == 1);
    }

    #[test]
    fn surrogates_and_bad_escapes_are_not_mistaken() {
        assert_eq!(json_unescape(b"\\ud83d\\ude00").unwrap().bytes, "😀".as_bytes());
        assert_eq!(json_unescape(b"\\ud83d").unwrap().bytes, "\u{fffd}".as_bytes());
        assert_eq!(json_unescape(b"\\x\\u12").map(|v| v.bytes), None);
        assert_eq!(percent(b"%zz%4", false).map(|v| v.bytes), None);
        // A span ending just before a multi-byte character's escape ends at that escape.
        let text = "k\\u0065y\\u00e9";
        assert_eq!(spans(&["key"], text, 1), vec![(0, 8)]);
    }

    #[test]
    fn found_stops_at_the_first() {
        let n = Needles::new([KEY.as_bytes()]);
        assert!(n.found(format!("{KEY}{KEY}").as_bytes(), 0));
        assert!(!n.found(b"", 2));
        assert!(!Needles::new([&b""[..]]).found(b"anything", 2));
    }
}
