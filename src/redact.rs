//! Redaction: every credential of a call, in every form, out of everything its caller sees.
//!
//! A call's [`Redactor`] holds two sets of [`Credentials`]: the Worker secret's, prepared once
//! per `env` and shared by every call (`src/wasm.rs` keeps it), and the call's own (its
//! `options.auth.apiKey`, its secret per-call headers), made for the call and dropped with it.
//! Nothing a call brought outlives it.
//!
//! Looking is split from replacing, because nearly every body holds nothing:
//!
//! - **Looking** ([`Redactor::finds_in`], and the JS entry's one pass over each response body,
//!   `src/js/scan.js`) searches for a short list of plain strings, the *scan* needles, at least
//!   one of which is inside every form of every credential ([`crate::forms`]: the anchors, or
//!   literal variants, of each value and of its base64 cores; a typical key has four). The list
//!   crosses to the entry with the request, where the body is, so a body that holds nothing
//!   never enters the wasm.
//! - **Replacing** ([`Redactor::redact`]) runs only on text that looking flagged (and on error
//!   bodies, which are small and read anyway). One left-to-right pass finds, at each position,
//!   every form starting there — a whole textual form of a value or core (raw, JSON-escaped,
//!   percent-encoded, in any mix: [`crate::forms::decoded_len`]), or a plain one (an anchor, a
//!   literal variant) — and replaces the union of all of them, overlapping and adjacent ones
//!   under one marker. (Replacing the first form found and skipping past it let a short form cut
//!   into a longer one starting after it and leave that one's tail: the fuzz target found it.)
//!   Replaced text is not scanned again, so redaction always ends.
//! - **Failing closed**: if the result still holds a scan needle (a credential can contain `[`,
//!   and so reappear across the seam of a replacement), the whole text becomes `[REDACTED]`.

use crate::forms;
use crate::secret::Secret;
use std::borrow::Cow;
use std::rc::Rc;

/// What replaces a credential found in upstream text.
pub const REDACTED: &str = "[REDACTED]";

/// Credential values and the strings that find them.
#[derive(Debug, Default)]
pub struct Credentials {
    /// The values and their base64 cores, each matched whole in any textual form (a core, too,
    /// is text an upstream may JSON-escape or percent-encode: PHP writes `/` as `\/`).
    forms: Vec<Secret>,
    /// Plain strings replaced wherever they occur: the forms' anchors, or their literal
    /// variants when they have none.
    literals: Vec<Secret>,
    /// The needles looking searches for, one inside every textual form of every form: the
    /// literals, less those holding another.
    scan: Vec<Secret>,
    /// How many credentials were added (the first entries of `forms` are not all of them).
    count: usize,
}

impl Credentials {
    /// Adds a credential value. Empty values are ignored (they would match everywhere).
    pub fn add(&mut self, value: &str) {
        if value.is_empty() || self.holds(value) {
            return;
        }
        self.count += 1;
        let mut found: Vec<String> = vec![value.to_owned()];
        let mut push = |form: &str| {
            if !form.is_empty() && !found.iter().any(|f| f == form) {
                found.push(form.to_owned());
            }
        };
        forms::base64_cores(value.as_bytes(), &mut push);
        let json = forms::json_escaped(value);
        if *json != *value {
            forms::base64_cores(json.as_bytes(), &mut push);
        }
        for form in found {
            match forms::anchor(&form) {
                Some(anchor) => self.add_literal(anchor),
                None => forms::literal_variants(&form, &mut |v| self.add_literal(v)),
            }
            if !self.forms.iter().any(|f| f.expose() == form) {
                self.forms.push(Secret::new(form));
            }
        }
    }

    fn add_literal(&mut self, literal: &str) {
        if literal.is_empty() || self.literals.iter().any(|s| s.expose() == literal) {
            return;
        }
        let at = self.literals.partition_point(|s| s.expose().len() >= literal.len());
        self.literals.insert(at, Secret::new(literal.to_owned()));
        // Looking needs only the needles no other is inside of.
        if !self.scan.iter().any(|s| literal.contains(s.expose())) {
            self.scan.retain(|s| !s.expose().contains(literal));
            self.scan.push(Secret::new(literal.to_owned()));
        }
    }

    fn holds(&self, value: &str) -> bool {
        self.forms.iter().any(|v| v.expose() == value)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// The credentials of one call: the Worker secret's (shared) and the call's own; and the
/// call's context header values, kept out of its receipt alone.
#[derive(Debug, Default)]
pub struct Redactor {
    shared: Option<Rc<Credentials>>,
    /// The deployment's current access token, when the call sends one ([`crate::token`]):
    /// shared too, compiled once by the entry until it changes.
    token: Option<Rc<Credentials>>,
    own: Credentials,
    context: Vec<Secret>,
}

impl Redactor {
    /// A redactor starting from prepared credentials (the Worker secret's).
    pub fn with_shared(shared: Option<Rc<Credentials>>) -> Self {
        Redactor { shared, token: None, own: Credentials::default(), context: Vec::new() }
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

    /// Adds a per-call context value (`Stripe-Account`): an identifier results may hold, but
    /// a receipt may not ([`Redactor::redact_receipt`]).
    pub fn add_context(&mut self, value: &str) {
        if !value.is_empty() {
            self.context.push(Secret::new(value.to_owned()));
        }
    }

    /// Upstream text bound for the receipt (its request id): credentials and context values
    /// replaced, in one pass (a credential replaced first could cut into a context value and
    /// leave the rest of it standing).
    pub fn redact_receipt<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let context = |t: &str| self.context.iter().any(|c| t.contains(c.expose()));
        if !self.finds_in(text) && !context(text) {
            return Cow::Borrowed(text);
        }
        match self.replace_all(text, &self.context) {
            Some(out) if !self.finds_in(&out) && !context(&out) => Cow::Owned(out),
            _ => Cow::Borrowed(REDACTED),
        }
    }

    fn sets(&self) -> impl Iterator<Item = &Credentials> {
        self.shared.as_deref().into_iter().chain(self.token.as_deref()).chain(std::iter::once(&self.own))
    }

    fn scan_needles(&self) -> impl Iterator<Item = &Secret> {
        self.sets().flat_map(|s| s.scan.iter())
    }

    /// Whether `text` holds any credential.
    pub fn finds_in(&self, text: &str) -> bool {
        // Length first: most texts checked per call (request ids) are shorter than a needle, and
        // setting up a substring search costs more than the search.
        self.scan_needles().any(|n| n.expose().len() <= text.len() && text.contains(n.expose()))
    }

    /// Appends the scan needles as a JSON array for the JS entry, the number of the Worker
    /// secret's first: `[k, shared..., own...]`. The entry compiles the shared ones once and
    /// keeps them; the call's own are compiled for the call and dropped with it. Only the
    /// request description carries this list: it goes where the credentials themselves already
    /// go (the request's headers), never into an envelope.
    pub fn push_scan_json(&self, out: &mut String) {
        out.push('[');
        let shared = self.shared.as_ref().map_or(0, |s| s.scan.len()) + self.token.as_ref().map_or(0, |s| s.scan.len());
        crate::json::push_u64(out, shared as u64, 0);
        for needle in self.scan_needles() {
            out.push(',');
            crate::json::push_str(out, needle.expose());
        }
        out.push(']');
    }

    /// `text` with every credential replaced by [`REDACTED`]; borrowed when there is none.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        // Most texts checked per call (request ids) hold nothing: no allocation.
        if !self.finds_in(text) {
            return Cow::Borrowed(text);
        }
        match self.replace_all(text, &[]) {
            Some(out) if !self.finds_in(&out) => Cow::Owned(out),
            _ => Cow::Borrowed(REDACTED),
        }
    }

    /// One pass: every character inside any form of any credential is replaced, overlapping and
    /// adjacent forms under one marker. (Replacing the first form found and skipping past it
    /// would let a short form, an anchor, cut into a longer one that starts after it and leave
    /// that one's tail behind.)
    #[cold]
    #[inline(never)]
    fn replace_all(&self, text: &str, extra: &[Secret]) -> Option<String> {
        let bytes = text.as_bytes();
        let mut starts = [false; 256];
        for literal in extra {
            starts[usize::from(literal.expose().as_bytes()[0])] = true;
        }
        for set in self.sets() {
            for literal in &set.literals {
                starts[usize::from(literal.expose().as_bytes()[0])] = true;
            }
            for value in &set.forms {
                let first = value.expose().as_bytes()[0];
                starts[usize::from(first)] = true;
                starts[usize::from(b'%')] = true;
                starts[usize::from(b'\\')] = true;
                if first == b' ' {
                    starts[usize::from(b'+')] = true;
                }
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        // The interval being replaced, [from, to).
        let mut span: Option<(usize, usize)> = None;
        for i in 0..bytes.len() {
            if let Some((from, to)) = span {
                if i >= to {
                    out.push_str(text.get(copied..from)?);
                    out.push_str(REDACTED);
                    copied = to;
                    span = None;
                }
            }
            if !starts[usize::from(bytes[i])] {
                continue;
            }
            let mut end = i;
            for literal in extra.iter().filter(|l| bytes[i..].starts_with(l.expose().as_bytes())) {
                end = end.max(i + literal.expose().len());
            }
            for set in self.sets().filter(|s| !s.is_empty()) {
                for value in &set.forms {
                    let value = value.expose().as_bytes();
                    if forms::may_start(bytes[i], value[0]) {
                        end = end.max(i + forms::decoded_len(bytes, i, value).unwrap_or(0));
                    }
                }
                if let Some(literal) = set.literals.iter().find(|l| bytes[i..].starts_with(l.expose().as_bytes())) {
                    end = end.max(i + literal.expose().len());
                }
            }
            if end > i {
                span = Some(match span {
                    Some((from, to)) => (from, to.max(end)),
                    None => (i, end),
                });
            }
        }
        if let Some((from, _)) = span {
            out.push_str(text.get(copied..from)?);
            out.push_str(REDACTED);
        } else {
            out.push_str(text.get(copied..)?);
        }
        Some(out)
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
    fn every_listed_form_is_found_and_replaced_whole() {
        let key = "sk_test_CANARY\"&/+= x%~";
        let mut r = Redactor::default();
        r.add(key);
        let json = serde_json::to_string(key).unwrap();
        let json = &json[1..json.len() - 1];
        let upper: String = key.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b'_' { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
        let lower = upper.to_lowercase().replace("sk_test_canary", "sk_test_CANARY");
        let b64 = |s: &str, alphabet| forms::base64_with(s.as_bytes(), alphabet, true);
        let std = forms::base64(key.as_bytes());
        let forms = [
            key.to_owned(),
            json.to_owned(),
            upper,
            lower,
            std.clone(),
            std.trim_end_matches('=').to_owned(),
            b64(key, b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            forms::base64(format!("{key}:").as_bytes()),
            forms::base64(format!("user:{key}").as_bytes()),
            forms::base64(format!("{{\"authorization\":\"Bearer {json}\"}}").as_bytes()),
        ];
        for form in forms {
            let text = format!("echo <{form}> end");
            assert!(r.finds_in(&text), "not found: {form}");
            let out = r.redact(&text);
            assert!(out.starts_with("echo <") && out.ends_with("> end"), "{form} → {out}");
            assert!(!out.contains("CANARY") && !r.finds_in(&out), "{form} → {out}");
        }
    }

    #[test]
    fn shared_and_own_credentials_both_count_and_the_scan_list_says_which_is_which() {
        let mut shared = Credentials::default();
        shared.add("sk_test_SHAREDKEY1");
        let mut r = Redactor::with_shared(Some(Rc::new(shared)));
        r.add("sk_test_SHAREDKEY1");
        r.add("sk_test_OWNKEY2222");
        assert_eq!(r.redact("a sk_test_SHAREDKEY1 b sk_test_OWNKEY2222 c"), "a [REDACTED] b [REDACTED] c");
        let mut scan = String::new();
        r.push_scan_json(&mut scan);
        let scan: Vec<serde_json::Value> = serde_json::from_str(&scan).unwrap();
        // Each key: its anchor (the whole key) and three cores (no `+` or `/` in them, so the URL
        // alphabet's are the same); the Worker secret's first.
        assert_eq!(scan[0], 4);
        let needles: Vec<&str> = scan[1..].iter().filter_map(|v| v.as_str()).collect();
        assert_eq!(
            needles,
            [
                "sk_test_SHAREDKEY1", "c2tfdGVzdF9TSEFSRURLRVkx", "NrX3Rlc3RfU0hBUkVES0VZM", "za190ZXN0X1NIQVJFREtFWT",
                "sk_test_OWNKEY2222", "c2tfdGVzdF9PV05LRVkyMjIy", "NrX3Rlc3RfT1dOS0VZMjIyM", "za190ZXN0X09XTktFWTIyMj",
            ]
        );
    }

    #[test]
    fn context_values_leave_receipts_only() {
        let mut r = Redactor::default();
        r.add("sk_test_CANARYkey1");
        r.add_context("acct_CONTEXT1");
        assert_eq!(r.redact("req_acct_CONTEXT1"), "req_acct_CONTEXT1");
        assert_eq!(r.redact_receipt("req_acct_CONTEXT1_sk_test_CANARYkey1"), "req_[REDACTED]_[REDACTED]");
        assert!(matches!(r.redact_receipt("req_1"), Cow::Borrowed(_)));
        // A one-letter key inside the context value: both go in one pass (the fuzz target's case).
        let mut r = Redactor::default();
        r.add("t");
        r.add_context("acct_CONTEXTAx");
        assert_eq!(r.redact_receipt("acct_CONTEXTAx"), REDACTED);
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
}
