//! Reading JSON into a [`Value`]: the call's arguments, and the upstream's error bodies.
//!
//! Why not serde_json's reader: it parses a number to an `f64` and the runtime would print it
//! again, and its default float parse is not correctly rounded (`990287651305.0679` came back
//! `990287651305.068`; the security suite's fuzzing found it), so a caller's number could reach
//! the upstream changed. Its remedies cost more than this file: `float_roundtrip` ~27 KiB of
//! wasm, `arbitrary_precision` a float printer and a magic object key
//! (`$serde_json::private::Number`) through which any caller could have written raw text into
//! a JSON body. Here a number is kept as the text it came in, checked against the grammar, and
//! written back as it is: the JSON the entry hands in is `JSON.stringify`'s, so numbers reach
//! the upstream exactly as JavaScript wrote them.
//!
//! RFC 8259, strictly: no trailing commas, no comments, no lone surrogates, no control
//! characters in strings, nothing after the value. Containers nest at most [`MAX_DEPTH`]
//! levels, the entry's limit too (`src/js/args.js`). An object's repeated key keeps its first
//! place and its last value, as `JSON.parse` does. `tests/fuzz_parse.rs` holds it to serde_json
//! on what is and is not JSON, and on every value read.

use crate::value::{Number, Value};
use std::fmt;

/// The deepest nesting of arrays and objects read.
pub const MAX_DEPTH: usize = 127;

/// Why a text is not JSON, and where (a byte offset; the text itself is never quoted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub what: &'static str,
    pub at: usize,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

/// Parses `text`, which must hold exactly one JSON value.
#[inline(never)]
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser { text, bytes: text.as_bytes(), at: 0 };
    let value = p.value(0)?;
    p.space();
    if p.at != p.bytes.len() {
        return Err(p.fail("text after the value"));
    }
    Ok(value)
}

/// A JSON text split one level down without building what lies below: an array's items, or an
/// object's members, each as its own text (a slice of the input, valid JSON). For a page of a
/// walk whose items go back to the caller as they came (`crate::pages`): every item checked
/// against the grammar, none turned into values and written again.
#[derive(Debug, PartialEq)]
pub enum Shallow<'a> {
    Array(Vec<&'a str>),
    /// Members in order; a repeated key keeps its first place and its last value.
    Object(Vec<(String, &'a str)>),
    /// A string, number, boolean or null.
    Scalar,
}

/// [`Shallow`] of `text`, which must hold exactly one JSON value. A lone surrogate escape
/// passes here (JavaScript's `JSON.parse`, which reads what this hands on, takes it).
#[inline(never)]
pub fn shallow(text: &str) -> Result<Shallow<'_>, ParseError> {
    let mut p = Parser { text, bytes: text.as_bytes(), at: 0 };
    p.space();
    let open = p.bytes.get(p.at).copied();
    let mut items = Vec::new();
    let mut members: Vec<(String, &str)> = Vec::new();
    match open {
        Some(b'[' | b'{') => {
            let close = if open == Some(b'[') { b']' } else { b'}' };
            p.at += 1;
            p.space();
            if p.bytes.get(p.at) == Some(&close) {
                p.at += 1;
            } else {
                loop {
                    p.space();
                    let key = if close == b'}' { Some(p.key()?) } else { None };
                    p.space();
                    let from = p.at;
                    p.skip(1)?;
                    let raw = &text[from..p.at];
                    match key {
                        None => items.push(raw),
                        Some(key) => match members.iter_mut().find(|(k, _)| *k == key) {
                            Some(slot) => slot.1 = raw,
                            None => members.push((key, raw)),
                        },
                    }
                    p.space();
                    match p.bytes.get(p.at) {
                        Some(b',') => p.at += 1,
                        Some(&b) if b == close => {
                            p.at += 1;
                            break;
                        }
                        _ => return Err(p.fail("expected `,` or a closing bracket")),
                    }
                }
            }
        }
        _ => {
            p.skip(0)?;
        }
    }
    p.space();
    if p.at != p.bytes.len() {
        return Err(p.fail("text after the value"));
    }
    Ok(match open {
        Some(b'[') => Shallow::Array(items),
        Some(b'{') => Shallow::Object(members),
        _ => Shallow::Scalar,
    })
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn fail(&self, what: &'static str) -> ParseError {
        ParseError { what, at: self.at }
    }

    fn space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.space();
        match self.bytes.get(self.at) {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.word("true", Value::Bool(true)),
            Some(b'f') => self.word("false", Value::Bool(false)),
            Some(b'n') => self.word("null", Value::Null),
            Some(_) => Err(self.fail("not a JSON value")),
            None => Err(self.fail("the text ends before a value")),
        }
    }

    /// An object member's key and its `:` (at the key's opening quote).
    fn key(&mut self) -> Result<String, ParseError> {
        if self.bytes.get(self.at) != Some(&b'"') {
            return Err(self.fail("expected a string key"));
        }
        let key = self.string()?;
        self.space();
        if self.bytes.get(self.at) != Some(&b':') {
            return Err(self.fail("expected `:`"));
        }
        self.at += 1;
        Ok(key)
    }

    /// Past one value, checking it, building nothing (strings' escapes checked, not decoded).
    fn skip(&mut self, depth: usize) -> Result<(), ParseError> {
        self.space();
        match self.bytes.get(self.at) {
            Some(&open @ (b'{' | b'[')) => {
                self.deeper(depth + 1)?;
                let close = if open == b'[' { b']' } else { b'}' };
                self.at += 1;
                self.space();
                if self.bytes.get(self.at) == Some(&close) {
                    self.at += 1;
                    return Ok(());
                }
                loop {
                    if close == b'}' {
                        self.space();
                        if self.bytes.get(self.at) != Some(&b'"') {
                            return Err(self.fail("expected a string key"));
                        }
                        self.skip_string()?;
                        self.space();
                        if self.bytes.get(self.at) != Some(&b':') {
                            return Err(self.fail("expected `:`"));
                        }
                        self.at += 1;
                    }
                    self.skip(depth + 1)?;
                    self.space();
                    match self.bytes.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(&b) if b == close => {
                            self.at += 1;
                            return Ok(());
                        }
                        _ => return Err(self.fail("expected `,` or a closing bracket")),
                    }
                }
            }
            Some(b'"') => self.skip_string(),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            Some(b't') => self.word("true", Value::Null).map(drop),
            Some(b'f') => self.word("false", Value::Null).map(drop),
            Some(b'n') => self.word("null", Value::Null).map(drop),
            Some(_) => Err(self.fail("not a JSON value")),
            None => Err(self.fail("the text ends before a value")),
        }
    }

    /// Past a string, its escapes checked.
    fn skip_string(&mut self) -> Result<(), ParseError> {
        self.at += 1;
        loop {
            match self.bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    match self.bytes.get(self.at + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.at += 2,
                        Some(b'u') => {
                            self.at += 2;
                            self.hex4()?;
                        }
                        _ => return Err(self.fail("an unknown escape")),
                    }
                }
                Some(&b) if b < 0x20 => return Err(self.fail("a control character in a string")),
                Some(_) => self.at += 1,
                None => return Err(self.fail("the text ends inside a string")),
            }
        }
    }

    fn word(&mut self, word: &'static str, value: Value) -> Result<Value, ParseError> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.fail("not a JSON value"))
        }
    }

    fn deeper(&self, depth: usize) -> Result<(), ParseError> {
        if depth > MAX_DEPTH {
            Err(self.fail("nested deeper than 127 levels"))
        } else {
            Ok(())
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.deeper(depth)?;
        self.at += 1;
        let mut items = Vec::new();
        self.space();
        if self.bytes.get(self.at) == Some(&b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.space();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.fail("expected `,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.deeper(depth)?;
        self.at += 1;
        let mut entries: Vec<(String, Value)> = Vec::new();
        self.space();
        if self.bytes.get(self.at) == Some(&b'}') {
            self.at += 1;
            return Ok(Value::Object(entries));
        }
        loop {
            self.space();
            let key = self.key()?;
            let value = self.value(depth)?;
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => entries.push((key, value)),
            }
            self.space();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(entries));
                }
                _ => return Err(self.fail("expected `,` or `}`")),
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept as its text.
    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.at;
        let digits = |p: &mut Self| {
            let from = p.at;
            while let Some(b'0'..=b'9') = p.bytes.get(p.at) {
                p.at += 1;
            }
            p.at > from
        };
        if self.bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match self.bytes.get(self.at) {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.fail("a number without digits")),
        }
        if self.bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            if !digits(self) {
                return Err(self.fail("a number without digits after `.`"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.at) {
                self.at += 1;
            }
            if !digits(self) {
                return Err(self.fail("a number without digits in its exponent"));
            }
        }
        Ok(Value::Number(Number::from_json(&self.text[start..self.at])))
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            // Runs without escapes are copied whole.
            let from = self.at;
            while let Some(&b) = self.bytes.get(self.at) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.at += 1;
            }
            // Stops only at ASCII, so on a character boundary of the (UTF-8) text.
            out.push_str(&self.text[from..self.at]);
            match self.bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escaped = match self.bytes.get(self.at) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.at += 1;
                            let c = self.unicode_escape()?;
                            out.push(c);
                            continue;
                        }
                        _ => return Err(self.fail("an unknown escape")),
                    };
                    self.at += 1;
                    out.push(escaped);
                }
                Some(_) => return Err(self.fail("a control character in a string")),
                None => return Err(self.fail("the text ends inside a string")),
            }
        }
    }

    /// The code point of `XXXX` (after `\u`), joined with a following `\uXXXX` when it is a
    /// surrogate pair; a lone surrogate is an error (no `String` can hold one).
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.at..].starts_with(b"\\u") {
                    return Err(self.fail("a lone surrogate"));
                }
                self.at += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.fail("a lone surrogate"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.fail("a lone surrogate")),
            code => code,
        };
        char::from_u32(code).ok_or_else(|| self.fail("a lone surrogate"))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self.bytes.get(self.at).and_then(|&b| (b as char).to_digit(16)).ok_or_else(|| self.fail("a bad \\u escape"))?;
            code = code * 16 + digit;
            self.at += 1;
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let mut out = String::new();
        parse(text).unwrap().push_json(&mut out);
        out
    }

    #[test]
    fn values_and_numbers_keep_their_text() {
        assert_eq!(round_trip(r#" {"z":1,"a":[true,false,null,"x"],"m":{"b":2.5,"a":-3}} "#), r#"{"z":1,"a":[true,false,null,"x"],"m":{"b":2.5,"a":-3}}"#);
        assert_eq!(round_trip("[990287651305.0679,1e+21,-0,1.5E-7,12345678901234567890123]"), "[990287651305.0679,1e+21,-0,1.5E-7,12345678901234567890123]");
        assert_eq!(round_trip(r#"["\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"]"#), "[\"é😀\\\"\\\\/\\b\\f\\n\\r\\t\"]");
    }

    #[test]
    fn repeated_keys_keep_the_first_place_and_the_last_value() {
        assert_eq!(round_trip(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn what_is_not_json_is_refused_with_where() {
        for bad in [
            "", " ", "[", "[1,]", "{\"a\":1,}", "{a:1}", "01", "1.", ".5", "1e", "-", "+1", "NaN", "Infinity", "[1 2]", "\"\\x\"",
            "\"\u{1}\"", "\"a", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "tru", "nul", "[] x", "'a'", "{\"a\" 1}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        assert_eq!(parse("[1, x]").unwrap_err(), ParseError { what: "not a JSON value", at: 4 });
        assert_eq!(parse("[1] 2").unwrap_err().to_string(), "text after the value at byte 4");
    }

    #[test]
    fn shallow_splits_one_level_and_checks_the_rest() {
        let text = r#" { "data" : [ {"id":"a\"b","n":[1,2.5e3]} , 7 ], "has_more": true, "data": [] } "#;
        let Ok(Shallow::Object(members)) = shallow(text) else { panic!() };
        assert_eq!(members, vec![(String::from("data"), "[]"), (String::from("has_more"), "true")]);
        assert_eq!(shallow(r#"[{"a":1}, "x\u00e9", null]"#), Ok(Shallow::Array(vec![r#"{"a":1}"#, r#""x\u00e9""#, "null"])));
        assert_eq!(shallow("3"), Ok(Shallow::Scalar));
        for bad in [r#"[{"a":1,}]"#, r#"{"a":[01]}"#, "[\"\u{1}\"]", r#"{"a":"\q"}"#, "[1] 2", r#"{"a" 1}"#, "[tru]"] {
            assert!(shallow(bad).is_err(), "{bad}");
            assert!(parse(bad).is_err(), "{bad}");
        }
        // Every item the split hands on parses as itself.
        let Ok(Shallow::Array(items)) = shallow(r#"[{"id":"cus_1","m":{"k":"v"}},[],"s",-0.5]"#) else { panic!() };
        for item in items {
            assert_eq!(round_trip(item), parse(item).unwrap().to_json());
        }
    }

    #[test]
    fn nesting_stops_at_127_levels() {
        assert!(parse(&format!("{}{}", "[".repeat(127), "]".repeat(127))).is_ok());
        assert_eq!(parse(&format!("{}{}", "[".repeat(128), "]".repeat(128))).unwrap_err().what, "nested deeper than 127 levels");
        assert!(parse(&format!("{}{}", "{\"a\":".repeat(128), "}".repeat(128))).is_err());
        // Far deeper: refused at the limit, never a stack overflow.
        assert!(parse(&"[".repeat(1_000_000)).is_err());
    }
}
