//! Hand-written JSON output for the per-call hot path.
//!
//! Every call writes a receipt and a request description. Through `serde_json` those cost more
//! than the rest of the call put together (formatter plumbing, an `io::Write` per string, an
//! allocation per number); these helpers write straight into one `String`. Anything unusual —
//! a string that needs escaping — still goes through `serde_json`, so the output is the same.

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

/// Appends `s` as a JSON string literal.
pub fn push_str(out: &mut String, s: &str) {
    if !s.bytes().any(|b| ESCAPED[usize::from(b)]) {
        out.reserve(s.len() + 2);
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
}

/// Appends `n` in decimal, zero-padded to `width` digits.
pub fn push_u64(out: &mut String, mut n: u64, width: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for _ in (buf.len() - i)..width {
        out.push('0');
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

/// `"key":` after a comma unless it is the first member.
pub fn push_key(out: &mut String, key: &str, first: bool) {
    if !first {
        out.push(',');
    }
    push_str(out, key);
    out.push(':');
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
