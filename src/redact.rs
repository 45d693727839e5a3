//! Redaction: every credential of a call, in every view, out of everything its caller sees.
//!
//! A call's [`Redactor`] holds its needles: the deployment's credentials, prepared once per `env`
//! and shared by every call (`src/wasm/env.rs` keeps them); the deployment's current token (and
//! what obtained it: an assertion, a login), shared the same way until it changes; and the
//! call's own (its `options.auth.apiKey`, its secret per-call headers, its session's), made for
//! the call and dropped with it. Each value is a needle, and so is each long line of a multi-line one (a
//! PEM key), which an upstream may echo reflowed. Beside them, the call's *context* values
//! (`Stripe-Account`, a basic pair's user name, a bound `Client-Id`): identifiers a result may
//! name, which the receipt and the capability's own words may not.
//!
//! **What is judged** is each string as the caller receives it (a JSON result parsed, its keys
//! too), searched in every view [`crate::views`] defines: raw, percent-decoded, base64-decoded,
//! one more level of JSON unescaping, and any two of these composed. The span that spelled a
//! find is replaced by [`REDACTED`]; if the result still holds one (a credential can contain
//! `[`, and so reappear across the seam of a replacement), the whole string is. Replaced text is
//! not searched again, so redaction always ends.
//!
//! **Looking is split from replacing**, because nearly every body holds nothing and most are
//! large. The JS entry looks first, in one pass over the body where it already is
//! (`src/js/scan.js`), and the body crosses into wasm only when that pass *flags* it
//! ([`Redactor::flags`] is the same rule, for native tests). The rule is sound for the views
//! above: a body flags when it holds a needle raw, or anything a view could decode — a `%`; a
//! `\` (in JSON, only the escapes that can write a credential's character: `\\`, an ASCII
//! `\u00XX`, and `\"` `\/` `\n`... when a credential holds that character); a `+` when a
//! credential holds a space; or a run of base64 characters long enough to encode the shortest
//! credential ([`crate::views::min_run`]). A body with none of these shows its caller nothing a
//! view could decode, so a credential in it would be raw, and the needles would have found it.
//! The list and what follows from it cross to the entry with the request
//! ([`Redactor::push_scan_json`]), where the credentials already go (the request's headers),
//! never into an envelope.

use crate::secret::Secret;
use crate::value::Value;
use crate::views::{min_run, Needles};
use std::borrow::Cow;
use std::rc::Rc;

/// What replaces a credential found in upstream text.
pub const REDACTED: &str = "[REDACTED]";

/// How many decodings deep the guarantee reaches (two, composed).
pub const DEPTH: u8 = 2;

/// A line of a multi-line credential at least this long is a needle of its own (a PEM key's
/// base64 lines; not its `-----BEGIN` armour, which is no secret).
pub const LINE_MIN: usize = 16;

/// The longest request id a receipt takes (`receipt.requestId`); a longer or odd one is `null`.
pub const REQUEST_ID_MAX: usize = 128;

/// A credential's *anchor* — its longest run of characters no JSON or URL encoder rewrites
/// (`A-Z a-z 0-9 - . _`) — is a needle of its own when it is at least this long and not the
/// whole value. Past the guarantee's two decodings (a JSON string inside a JSON string inside a
/// URL), every encoder still writes the anchor as it is: replacing it there too is defence in
/// depth, and a 12-character run of a key is distinctive enough not to occur by chance.
pub const ANCHOR_MIN: usize = 12;

/// Credential values, as needles.
#[derive(Debug, Default)]
pub struct Credentials {
    /// The values, and the long lines of multi-line ones: what the guarantee is stated on.
    needles: Vec<Secret>,
    /// Their anchors ([`ANCHOR_MIN`]), replaced too.
    anchors: Vec<Secret>,
    /// How many credentials were added.
    count: usize,
}

impl Credentials {
    /// Adds a credential value. Empty values are ignored (they would match everywhere).
    pub fn add(&mut self, value: &str) {
        if value.is_empty() || self.holds(value) {
            return;
        }
        self.count += 1;
        self.push(value);
        if value.contains('\n') {
            for line in value.lines().map(str::trim) {
                if line.len() >= LINE_MIN && !line.starts_with("-----") {
                    self.push(line);
                }
            }
        }
        if let Some(anchor) = anchor(value) {
            if !self.anchors.iter().any(|a| a.expose() == anchor) {
                self.anchors.push(Secret::new(anchor.to_owned()));
            }
        }
    }

    fn push(&mut self, needle: &str) {
        if !self.holds(needle) {
            self.needles.push(Secret::new(needle.to_owned()));
        }
    }

    fn holds(&self, value: &str) -> bool {
        self.needles.iter().any(|v| v.expose() == value)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn values(&self) -> impl Iterator<Item = &[u8]> {
        self.needles.iter().chain(&self.anchors).map(|s| s.expose().as_bytes())
    }
}

/// `value`'s anchor, if it is long enough and not `value` itself.
fn anchor(value: &str) -> Option<&str> {
    let plain = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
    let longest = value.as_bytes().split(|b| !plain(b)).max_by_key(|run| run.len())?;
    let start = longest.as_ptr() as usize - value.as_ptr() as usize;
    (longest.len() >= ANCHOR_MIN && longest.len() < value.len()).then(|| &value[start..start + longest.len()])
}

/// The needles of one call, and what it may show where.
#[derive(Debug, Default)]
pub struct Redactor {
    shared: Option<Rc<Credentials>>,
    /// The deployment's current access token, when the call sends one ([`crate::token`]):
    /// shared too, compiled once by the entry until it changes.
    token: Option<Rc<Credentials>>,
    own: Credentials,
    context: Vec<Secret>,
    /// Plain strings the entry flags a body for that are no credential (a login wall's marker,
    /// [`crate::token::ended`]): looked for, never replaced.
    watch: Vec<&'static str>,
}

impl Redactor {
    /// A redactor starting from prepared credentials (the Worker secret's).
    pub fn with_shared(shared: Option<Rc<Credentials>>) -> Self {
        Redactor { shared, ..Redactor::default() }
    }

    /// Adds the deployment's access token the call sends (prepared when it was obtained).
    pub fn share_token(&mut self, token: Rc<Credentials>) {
        self.token = Some(token);
    }

    /// Adds a credential the call brought. Empty values are ignored.
    pub fn add(&mut self, value: &str) {
        if !self.shared.as_ref().is_some_and(|s| s.holds(value)) && !self.token.as_ref().is_some_and(|s| s.holds(value)) {
            self.own.add(value);
        }
    }

    /// Adds a context value (`Stripe-Account`): an identifier results may hold, but a receipt
    /// and the capability's own words may not ([`Redactor::redact_own`]).
    pub fn add_context(&mut self, value: &str) {
        if !value.is_empty() && !self.context.iter().any(|c| c.expose() == value) {
            self.context.push(Secret::new(value.to_owned()));
        }
    }

    /// Has the entry flag bodies holding `marker` (no credential, so never replaced).
    pub fn watch(&mut self, marker: &'static str) {
        if !marker.is_empty() {
            self.watch.push(marker);
        }
    }

    fn sets(&self) -> impl Iterator<Item = &Credentials> {
        self.shared.as_deref().into_iter().chain(self.token.as_deref()).chain(std::iter::once(&self.own))
    }

    fn credentials(&self) -> Needles<'_> {
        Needles::new(self.sets().flat_map(Credentials::values))
    }

    fn credentials_and_context(&self) -> Needles<'_> {
        Needles::new(self.sets().flat_map(Credentials::values).chain(self.context.iter().map(|c| c.expose().as_bytes())))
    }

    /// The shortest credential needle (and context value, with `context`): a text shorter than
    /// it holds none in any view, since no decoding lengthens a text. Every call checks a few
    /// short texts (its request id, its media type); this answers for them without building a
    /// search.
    fn shortest(&self, context: bool) -> usize {
        // Plain loops: an iterator chain here compiles to 2 KiB of wasm on the path every call takes.
        let mut shortest = usize::MAX;
        for set in [self.shared.as_deref(), self.token.as_deref(), Some(&self.own)].into_iter().flatten() {
            for n in set.needles.iter().chain(&set.anchors) {
                shortest = shortest.min(n.expose().len());
            }
        }
        if context {
            for c in &self.context {
                shortest = shortest.min(c.expose().len());
            }
        }
        shortest.max(1)
    }

    /// Whether `text`, in any view, holds a credential.
    pub fn finds_in(&self, text: &str) -> bool {
        text.len() >= self.shortest(false) && self.credentials().found(text.as_bytes(), DEPTH)
    }

    /// `text` with every credential, in every view, replaced by [`REDACTED`]; borrowed when it
    /// holds none. For what the upstream said (results, its error objects).
    #[inline(never)]
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if text.len() < self.shortest(false) {
            return Cow::Borrowed(text);
        }
        replace(text, &self.credentials())
    }

    /// [`Redactor::redact`], context values too: for the capability's own words (its messages,
    /// and what it quotes of an answer outside an upstream error object) and receipts.
    pub fn redact_own<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if text.len() < self.shortest(true) {
            return Cow::Borrowed(text);
        }
        replace(text, &self.credentials_and_context())
    }

    /// The upstream's request id as a receipt may carry it: a bounded token of visible ASCII
    /// (else `None`, so nothing of an odd header reaches a receipt), credentials and context
    /// values replaced.
    pub fn redact_receipt<'a>(&self, text: &'a str) -> Option<Cow<'a, str>> {
        let shaped = (1..=REQUEST_ID_MAX).contains(&text.len()) && text.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        shaped.then(|| self.redact_own(text))
    }

    /// `value` as JSON with every string, key and number passed through `scrub`
    /// ([`Redactor::redact`] or [`Redactor::redact_own`]); a number that changed becomes a string.
    /// Answers whether anything changed.
    #[inline(never)]
    pub fn push_value(&self, value: &Value, own: bool, out: &mut String) -> bool {
        push_scrubbed(value, &Scrub { redactor: self, own }, out)
    }

    /// `value` with every string, key and number redacted (as [`Redactor::push_value`] writes
    /// it), for an upstream's error object kept as a value; unchanged, a clone.
    pub fn redact_value(&self, value: &Value) -> Value {
        let mut text = String::new();
        if !self.push_value(value, false, &mut text) {
            return value.clone();
        }
        crate::parse::parse(&text).unwrap_or(Value::String(REDACTED.to_owned()))
    }

    /// Whether the entry's one pass would flag `text` (`src/js/scan.js`, the same rule): it may
    /// hold a credential in some view, or holds a watched marker. `json`: the body is JSON,
    /// whose caller sees its strings unescaped once already.
    pub fn flags(&self, text: &str, json: bool) -> bool {
        // Read from the very list the entry gets, so that the two cannot drift apart.
        let mut wire = String::new();
        self.push_scan_json(&mut wire);
        let Ok(Value::Array(list)) = crate::parse::parse(&wire) else { return true };
        let number = |v: &Value| v.scalar_text().and_then(|t| t.parse::<usize>().ok()).unwrap_or(0);
        let scan = Scan {
            run: number(&list[1]),
            escapes: list[2].as_str().unwrap_or("").to_owned(),
            needles: list[3..].iter().filter_map(Value::as_str).collect(),
        };
        if scan.needles.is_empty() {
            return false;
        }
        let bytes = text.as_bytes();
        if scan.needles.iter().any(|n| text.contains(n)) || bytes.contains(&b'%') || (scan.escapes.contains('+') && bytes.contains(&b'+')) {
            return true;
        }
        let escapes = bytes.iter().enumerate().filter(|(_, &b)| b == b'\\').any(|(i, _)| {
            !json
                || match bytes.get(i + 1) {
                    Some(b'\\') => true,
                    Some(b'u') => bytes.get(i + 2..i + 5).is_some_and(|h| h[0] == b'0' && h[1] == b'0' && (b'0'..=b'7').contains(&h[2])),
                    Some(&c) => scan.escapes.contains(c as char),
                    None => false,
                }
        });
        escapes || (scan.run > 0 && long_run(bytes, scan.run, json))
    }

    /// What the entry scans with: `[k, run, escapes, ...needles]`, the first `k` needles the
    /// deployment's (compiled once by the entry and kept; the call's own are compiled for it and
    /// dropped); `run` the shortest base64 run that flags (0: none); `escapes` the letters of
    /// the JSON escapes that flag (`"`, `/`, `n`...: a credential holds that character), and `+`
    /// when a credential holds a space.
    pub fn push_scan_json(&self, out: &mut String) {
        let sets = [self.shared.as_deref(), self.token.as_deref(), Some(&self.own)];
        let shared: usize = sets[..2].iter().flatten().map(|s| s.needles.len() + s.anchors.len()).sum();
        // One pass over the needles' bytes: the shortest, and which escapes they need.
        let (mut shortest, mut holds) = (usize::MAX, [false; ESCAPES.len()]);
        for set in sets.iter().flatten() {
            for n in &set.needles {
                shortest = shortest.min(n.expose().len());
                for &b in n.expose().as_bytes() {
                    // Every escaped character is below 64: one bit test per byte, not eight.
                    if b < 64 && ESCAPED >> b & 1 == 1 {
                        holds[ESCAPES.iter().position(|(c, _)| *c as u8 == b).unwrap_or(0)] = true;
                    }
                }
            }
        }
        out.push('[');
        crate::json::push_u64(out, shared as u64, 0);
        out.push(',');
        crate::json::push_u64(out, if shortest == usize::MAX { 0 } else { min_run(shortest) as u64 }, 0);
        out.push_str(",\"");
        for (i, (_, letter)) in ESCAPES.iter().enumerate() {
            if holds[i] {
                out.push_str(letter);
            }
        }
        out.push('"');
        for set in sets.iter().flatten() {
            for needle in set.needles.iter().chain(&set.anchors) {
                out.push(',');
                crate::json::push_str(out, needle.expose());
            }
        }
        for marker in &self.watch {
            out.push(',');
            crate::json::push_str(out, marker);
        }
        out.push(']');
    }
}

/// The JSON escapes that can write a credential's character, by that character (as the scan
/// list names them: `\"` written `\\"` in JSON), and `+`, standing for a space in a form.
const ESCAPES: [(char, &str); 8] = [('"', "\\\""), ('/', "/"), ('\n', "n"), ('\r', "r"), ('\t', "t"), ('\u{8}', "b"), ('\u{c}', "f"), (' ', "+")];
/// [`ESCAPES`]' characters as bits of one word (each is below 64).
const ESCAPED: u64 = {
    let (mut bits, mut i) = (0u64, 0);
    while i < ESCAPES.len() {
        bits |= 1 << ESCAPES[i].0 as u32;
        i += 1;
    }
    bits
};

/// What the entry's scan is given (its count of shared needles aside).
struct Scan<'a> {
    run: usize,
    escapes: String,
    needles: Vec<&'a str>,
}

/// Whether `text` holds a run of at least `least` characters of one base64 alphabet (line
/// breaks inside it, and in JSON the escapes `\/`, `\n`, `\r`, count): the entry's rule
/// (`longRun` in `src/js/scan.js`).
fn long_run(text: &[u8], least: usize, json: bool) -> bool {
    let class = |i: usize| -> u8 {
        match text[i] {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'\n' | b'\r' => 3,
            b'+' | b'/' => 1,
            b'-' | b'_' => 2,
            b'\\' if json => match text.get(i + 1) {
                Some(b'/') => 1,
                Some(b'n' | b'r') => 3,
                _ => 0,
            },
            _ => 0,
        }
    };
    // One count per alphabet: a run is of one of them.
    let (mut standard, mut url) = (0, 0);
    for i in 0..text.len() {
        let c = class(i);
        standard = if c & 1 != 0 { standard + 1 } else { 0 };
        url = if c & 2 != 0 { url + 1 } else { 0 };
        if standard >= least || url >= least {
            return true;
        }
    }
    false
}

/// `text` with every span `needles` finds replaced.
fn replace<'a>(text: &'a str, needles: &Needles<'_>) -> Cow<'a, str> {
    // Most texts checked (request ids, messages) hold nothing: one search, no allocation.
    if !needles.found(text.as_bytes(), DEPTH) {
        return Cow::Borrowed(text);
    }
    let mut spans = Vec::new();
    needles.spans(text.as_bytes(), DEPTH, &mut spans);
    // By hand: spans are few, and a library sort costs the bundle ~5 KiB of code.
    for i in 1..spans.len() {
        let mut j = i;
        while j > 0 && spans[j - 1] > spans[j] {
            spans.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while i < spans.len() {
        let (mut from, mut to) = spans[i];
        i += 1;
        while i < spans.len() && spans[i].0 <= to {
            to = to.max(spans[i].1);
            i += 1;
        }
        from = from.max(copied);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        while !text.is_char_boundary(to) {
            to += 1;
        }
        out.push_str(&text[copied..from]);
        out.push_str(REDACTED);
        copied = to;
    }
    out.push_str(&text[copied..]);
    if needles.found(out.as_bytes(), DEPTH) {
        return Cow::Borrowed(REDACTED);
    }
    Cow::Owned(out)
}

/// Which redaction a value's strings get.
struct Scrub<'r> {
    redactor: &'r Redactor,
    own: bool,
}

impl Scrub<'_> {
    fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.own { self.redactor.redact_own(text) } else { self.redactor.redact(text) }
    }
}

/// [`Value::push_json`] with every string, key and number text passed through `scrub`.
fn push_scrubbed(value: &Value, scrub: &Scrub<'_>, out: &mut String) -> bool {
    match value {
        Value::String(s) => {
            let s = scrub.apply(s);
            crate::json::push_str(out, &s);
            matches!(s, Cow::Owned(_)) || s == REDACTED
        }
        Value::Number(n) => match scrub.apply(n.as_str()) {
            Cow::Borrowed(same) if same == n.as_str() => {
                out.push_str(same);
                false
            }
            other => {
                crate::json::push_str(out, &other);
                true
            }
        },
        Value::Array(items) => {
            out.push('[');
            let mut changed = false;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                changed |= push_scrubbed(item, scrub, out);
            }
            out.push(']');
            changed
        }
        Value::Object(entries) => {
            out.push('{');
            let mut changed = false;
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let key = scrub.apply(k);
                changed |= matches!(key, Cow::Owned(_)) || key != k.as_str();
                crate::json::push_str(out, &key);
                out.push(':');
                changed |= push_scrubbed(v, scrub, out);
            }
            out.push('}');
            changed
        }
        other => {
            other.push_json(out);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_occurrence_of_every_credential() {
        let mut r = Redactor::default();
        r.add("sk_test_CANARY");
        r.add("acct_1234567");
        r.add("");
        let text = r#"{"key":"sk_test_CANARY","h":"Bearer sk_test_CANARY","acct":"acct_1234567"}"#;
        assert!(r.finds_in(text));
        assert_eq!(r.redact(text), r#"{"key":"[REDACTED]","h":"Bearer [REDACTED]","acct":"[REDACTED]"}"#);
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        assert!(!r.finds_in("nothing here"));
    }

    #[test]
    fn the_forms_an_upstream_writes_are_replaced_whole() {
        let key = "sk_test_CANARY\"&/+= x%~";
        let mut r = Redactor::default();
        r.add(key);
        let json = serde_json::to_string(key).unwrap();
        let json = &json[1..json.len() - 1];
        let every_byte: String = key.bytes().map(|b| format!("%{b:02x}")).collect();
        let unicode: String = key.bytes().map(|b| format!("\\u{b:04x}")).collect();
        let std = crate::forms::base64(key.as_bytes());
        let forms = [
            key.to_owned(),
            json.to_owned(),
            every_byte.clone(),
            unicode,
            std.clone(),
            std.trim_end_matches('=').to_owned(),
            crate::forms::base64(format!("user:{key}").as_bytes()),
            crate::forms::base64(every_byte.as_bytes()),
            crate::forms::base64(format!("{{\"authorization\":\"Bearer {json}\"}}").as_bytes()),
        ];
        for form in forms {
            let text = format!("echo <{form}> end");
            assert!(r.finds_in(&text), "not found: {form}");
            assert_eq!(r.redact(&text), "echo <[REDACTED]> end", "{form}");
        }
    }

    #[test]
    fn multi_line_credentials_are_found_line_by_line() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nVJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n-----END PRIVATE KEY-----\n";
        let mut r = Redactor::default();
        r.add(pem);
        // Reflowed with \r\n and indented, the armour left: each line still goes.
        let echoed = pem.replace('\n', "\r\n    ");
        let out = r.redact(&echoed);
        assert!(!out.contains("MIIEvQ") && !out.contains("VJTUt9") && out.contains("BEGIN PRIVATE KEY"), "{out}");
    }

    #[test]
    fn context_values_leave_receipts_and_own_words_only() {
        let mut r = Redactor::default();
        r.add("sk_test_CANARYkey1");
        r.add_context("acct_CONTEXT1");
        assert_eq!(r.redact("req_acct_CONTEXT1"), "req_acct_CONTEXT1");
        assert_eq!(r.redact_receipt("req_acct_CONTEXT1_sk_test_CANARYkey1").unwrap(), "req_[REDACTED]_[REDACTED]");
        assert!(matches!(r.redact_receipt("req_1"), Some(Cow::Borrowed(_))));
        // In any view: base64 and percent-encoded, in a request id.
        let b64 = crate::forms::base64(b"acct_CONTEXT1");
        assert_eq!(r.redact_receipt(&b64).unwrap(), REDACTED);
        assert_eq!(r.redact_receipt("req_%61cct_CONTEXT1").unwrap(), "req_[REDACTED]");
        assert_eq!(r.redact_own("application/x-acct_CONTEXT1"), "application/x-[REDACTED]");
        // A request id that is no token of visible ASCII is none.
        for odd in ["", "two words", "quote\"d", &"x".repeat(REQUEST_ID_MAX + 1), "é"] {
            assert_eq!(r.redact_receipt(odd), None, "{odd}");
        }
        // A one-letter key inside the context value: both go in one pass.
        let mut r = Redactor::default();
        r.add("t");
        r.add_context("acct_CONTEXTAx");
        assert_eq!(r.redact_receipt("acct_CONTEXTAx").unwrap(), REDACTED);
    }

    #[test]
    fn longer_forms_go_first() {
        let mut r = Redactor::default();
        r.add("abcdefgh");
        r.add("abcdefghijkl");
        assert_eq!(r.redact("xabcdefghijklx abcdefgh"), "x[REDACTED]x [REDACTED]");
    }

    #[test]
    fn replacement_never_loops_and_fails_closed_on_seams() {
        // A key inside the marker: whatever is left holds it, so the whole text goes.
        let mut r = Redactor::default();
        r.add("ED]");
        assert_eq!(r.redact("[REDACTED] ED]"), REDACTED);
        // A key that reappears across the seam of its own replacement: the whole text goes.
        let mut r = Redactor::default();
        r.add("xx[RED");
        assert_eq!(r.redact("xxxx[RED"), REDACTED);
    }

    #[test]
    fn values_are_scrubbed_keys_and_numbers_too() {
        let mut r = Redactor::default();
        r.add("sk_test_CANARY");
        r.add("31415926");
        r.add_context("acct_CONTEXT1");
        let v = crate::parse::parse(r#"{"sk_test_CANARY":[1,31415926,"a sk_test_CANARY b"],"acct":"acct_CONTEXT1"}"#).unwrap();
        let mut out = String::new();
        assert!(r.push_value(&v, false, &mut out));
        assert_eq!(out, r#"{"[REDACTED]":[1,"[REDACTED]","a [REDACTED] b"],"acct":"acct_CONTEXT1"}"#);
        out.clear();
        assert!(r.push_value(&v, true, &mut out));
        assert!(out.ends_with(r#""acct":"[REDACTED]"}"#), "{out}");
        out.clear();
        assert!(!r.push_value(&crate::parse::parse(r#"{"a":[1,"b"]}"#).unwrap(), true, &mut out));
    }

    #[test]
    fn the_scan_list_says_which_needles_are_shared_and_what_flags() {
        let mut shared = Credentials::default();
        shared.add("sk_test_SHAREDKEY1");
        let mut r = Redactor::with_shared(Some(Rc::new(shared)));
        r.add("sk_test_SHAREDKEY1");
        r.add("own key/2\"");
        r.watch("name=\"password\"");
        let mut scan = String::new();
        r.push_scan_json(&mut scan);
        let scan: Vec<serde_json::Value> = serde_json::from_str(&scan).unwrap();
        assert_eq!(scan, serde_json::json!([1, 14, "\"/+", "sk_test_SHAREDKEY1", "own key/2\"", "name=\"password\""]).as_array().unwrap().clone());
    }

    #[test]
    fn the_entry_flags_what_a_view_could_decode_and_nothing_else() {
        let mut r = Redactor::default();
        r.add("sk_test_0123456789abcdef");
        let clean = r#"{"id":"cus_00000000000001","url":"/v1/customers/cus_1/sources","d":"line\nnext \"q\" \/"}"#;
        assert!(!r.flags(clean, true), "a JSON body with only harmless escapes");
        assert!(r.flags(clean, false), "as text its backslashes are what a view decodes");
        for flagged in [r#"{"a":"sk_test_0123456789abcdef"}"#, r#"{"a":"50%"}"#, r#"{"a":"\\"}"#, r#"{"a":"\u0041"}"#, &format!(r#"{{"a":"{}"}}"#, "QUJD".repeat(9))] {
            assert!(r.flags(flagged, true), "{flagged}");
        }
        // Non-ASCII escapes write no credential character.
        assert!(!r.flags(r#"{"a":"\u00e9\u4e2d"}"#, true));
        // No credential, nothing to look for.
        assert!(!Redactor::default().flags("sk_test_ %", false));
    }
}
