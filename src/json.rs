//! Hand-written JSON output for the per-call hot path.
//!
//! Every call writes a receipt and a request description. Through `serde_json` those cost more
//! than the rest of the call put together (formatter plumbing, an `io::Write` per string, an
//! allocation per number); these helpers write straight into one `String`, escaping strings as
//! serde_json does (the tests hold them to it).

/// Bytes JSON escapes inside strings: control characters, `"` and `\`.
static ESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Whether any byte is one JSON escapes, eight bytes at a time (SWAR): most strings written per
/// call (URLs, header values, receipt fields) need no escaping, and this check is their cost.
pub fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        // A byte below 0x20 (high bit clear and under 0x20), a `"` or a `\`.
        let below_space = x.wrapping_sub(0x20 * ONES) & !x & HIGHS != 0;
        if below_space || has_zero(x ^ (u64::from(b'"') * ONES)) || has_zero(x ^ (u64::from(b'\\') * ONES)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| ESCAPED[usize::from(b)])
}

/// Appends `s` as a JSON string literal.
pub fn push_str(out: &mut String, s: &str) {
    if !needs_escape(s.as_bytes()) {
        push_raw(out, s);
    } else {
        push_escaped(out, s);
    }
}

/// `s` as a JSON string literal, escaped as serde_json escapes (short forms where JSON has them,
/// `\u00xx` for other control characters).
#[cold]
#[inline(never)]
fn push_escaped(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 8);
    out.push('"');
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        if !ESCAPED[usize::from(b)] {
            continue;
        }
        // Escaped bytes are ASCII: the runs between them are whole characters.
        out.push_str(&s[from..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b => {
                out.push_str("\\u00");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
        from = i + 1;
    }
    out.push_str(&s[from..]);
    out.push('"');
}

/// Appends `s`, which needs no escaping, as a JSON string literal without checking it: for the
/// table's strings, which a test holds to that (`receipt::tests`).
pub fn push_raw(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    out.push_str(s);
    out.push('"');
}

/// The decimal digits of `n`, written at the end of `buf`: no allocation.
fn digits(buf: &mut [u8; 20], mut n: u64) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// `n` in decimal, written into `buf`: no allocation.
pub fn u64_text(buf: &mut [u8; 20], n: u64) -> &str {
    // Only ASCII digits were written.
    std::str::from_utf8(digits(buf, n)).unwrap_or_default()
}

/// Appends `n` in decimal, zero-padded to `width` digits. Byte by byte, with no `str` in
/// between: a receipt writes a dozen small numbers, and validating each as UTF-8 cost more
/// than writing it.
pub fn push_u64(out: &mut String, n: u64, width: usize) {
    let mut buf = [0u8; 20];
    let digits = digits(&mut buf, n);
    for _ in digits.len()..width {
        out.push('0');
    }
    for &d in digits {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_match_serde_json() {
        for s in ["plain", "", "quote\"d", "back\\slash", "tab\there", "é ü 😀", "\u{1}"] {
            let mut out = String::new();
            push_str(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn the_wide_check_agrees_with_the_table_at_every_position() {
        for len in 0..20 {
            for pos in 0..len {
                for special in [0u8, 0x1f, b'"', b'\\', 0x20, b'!', 0x7f, 0x80, 0xff, b'#', b']'] {
                    let mut bytes = vec![b'a'; len];
                    bytes[pos] = special;
                    let expected = bytes.iter().any(|&b| ESCAPED[usize::from(b)]);
                    assert_eq!(needs_escape(&bytes), expected, "len {len} pos {pos} byte {special:#x}");
                }
            }
        }
    }

    #[test]
    fn numbers_pad_and_do_not_truncate() {
        let mut out = String::new();
        push_u64(&mut out, 7, 3);
        out.push(' ');
        push_u64(&mut out, 0, 0);
        out.push(' ');
        push_u64(&mut out, u64::MAX, 2);
        assert_eq!(out, "007 0 18446744073709551615");
    }
}
