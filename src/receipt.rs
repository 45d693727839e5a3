//! Receipts: evidence of what a call did, and envelopes that carry them.
//!
//! A receipt names the operation, the method and the path *template* (never the filled path,
//! whose values could be anything), the upstream status and request id, when the call started
//! and how long it took, how many upstream attempts it made, which credential kind it used, and
//! the verdict. It holds no credential, header value or query value: the struct has no field
//! that could take one.
//!
//! This module is the form of a call's answer, and its words: which credential a call used
//! ([`CredentialUse`]), how the entry attaches a body it holds ([`Attach`]), the envelopes
//! ([`Envelope`]). It knows the error a call ended in and the redactor its strings pass through,
//! not how either came about: the request is [`crate::request`]'s, the verdict on an answer
//! [`crate::response`]'s, and the call that joins them [`crate::call`]'s.

use crate::error::{CallError, Code};
use crate::json::{push_raw, push_str, push_u64};
use crate::redact::Redactor;
use crate::table::{Operation, Provider};
use crate::value::Value;
use std::borrow::Cow;

/// Written as JSON by [`Receipt::push_json`], camelCase keys in this order.
#[derive(Debug)]
pub struct Receipt<'a> {
    pub capability: &'static str,
    pub operation: &'static str,
    pub call: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    /// The upstream's final HTTP status; `null` when no upstream answered.
    pub status: Option<u16>,
    /// The upstream's request id header (Stripe `Request-Id`), for support tickets, when it is
    /// shaped like one ([`Redactor::redact_receipt`]); borrowed from the response unless
    /// redaction had to rewrite it.
    pub request_id: Option<Cow<'a, str>>,
    /// When the call started (ms since the epoch); written as ISO-8601, UTC, milliseconds.
    pub started_ms: f64,
    pub duration_ms: u64,
    /// Upstream requests made (redirects followed count too); 0 when refused before any.
    pub attempts: u32,
    /// `secret` (the Worker secret), `call` (`options.auth.apiKey`) or `none`.
    pub credential: &'static str,
    /// The call obtained a new token for the deployment's credentials (none was cached, it was
    /// due, or the upstream refused the cached one): [`crate::token`].
    pub refreshed: bool,
    /// `pass` when the call did what was asked, else `fail`.
    pub verdict: &'static str,
    /// The call's id: random (the entry's UUID v4), new for every call, refused ones included.
    pub call_id: &'a str,
    /// One entry per upstream request that went out ([`Try`]); `attempts` is their number.
    pub tries: &'a [Try],
    /// The idempotency key its POST or PATCH carried ([`crate::retry`]): the one header value a
    /// receipt carries, because it is no credential and it is what makes a retry safe.
    pub idempotency_key: Option<&'a str>,
    /// The pages a call walking them took (`options.pages`, [`crate::pages`]); `None` (null)
    /// for any other call.
    pub pages: Option<u32>,
}

/// One upstream request of a call, as its receipt tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Try {
    /// What it answered; `None` when nothing came back.
    pub status: Option<u16>,
    /// Why nothing came back: `unreachable` or `timeout`.
    pub failure: Option<&'static str>,
    /// How long it took.
    pub ms: u64,
    /// How long the call waited before sending it (a retry's backoff or `Retry-After`).
    pub waited_ms: u64,
}

impl Try {
    /// `{"status":..,"failure":..,"ms":..,"waitedMs":..}`, `failure` only when there is one.
    fn push_json(&self, out: &mut String) {
        out.push_str("{\"status\":");
        match self.status {
            Some(status) => push_u64(out, u64::from(status), 0),
            None => out.push_str("null"),
        }
        if let Some(failure) = self.failure {
            out.push_str(",\"failure\":");
            push_raw(out, failure);
        }
        out.push_str(",\"ms\":");
        push_u64(out, self.ms, 0);
        out.push_str(",\"waitedMs\":");
        push_u64(out, self.waited_ms, 0);
        out.push('}');
    }
}

/// `tries` as the receipt writes them, a JSON array.
pub fn push_tries(out: &mut String, tries: &[Try]) {
    out.push('[');
    for (i, t) in tries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        t.push_json(out);
    }
    out.push(']');
}

impl Receipt<'_> {
    pub fn new(provider: &'static Provider, op: &'static Operation, started_ms: f64) -> Self {
        Receipt {
            capability: provider.capability,
            operation: op.id,
            call: op.call,
            method: op.method.as_str(),
            path: op.path,
            status: None,
            request_id: None,
            started_ms,
            duration_ms: 0,
            attempts: 0,
            credential: CredentialUse::None.as_str(),
            refreshed: false,
            verdict: "fail",
            call_id: "",
            tries: &[],
            idempotency_key: None,
            pages: None,
        }
    }

    pub fn close(&mut self, started_ms: f64, now_ms: f64, pass: bool) {
        self.duration_ms = (now_ms - started_ms).max(0.0) as u64;
        self.verdict = if pass { "pass" } else { "fail" };
    }

    /// Appends the receipt as a JSON object, keys in [`FIELDS`] order. The table's strings
    /// (names, path templates) need no escaping — the generator leaves out operations whose id
    /// or path would, and a test checks the compiled table — so only the request id, which comes
    /// from upstream, goes through the escaping writer.
    pub fn push_json(&self, out: &mut String) {
        self.push(out, true);
    }

    /// Appends the receipt's values as a JSON array in [`FIELDS`] order: the success wire to the
    /// JS entry, which names them back. Parsing an array builds no object shape and looks up no
    /// key, and a success answer is what nearly every call returns.
    pub fn push_values(&self, out: &mut String) {
        self.push(out, false);
    }

    fn push(&self, out: &mut String, named: bool) {
        out.reserve(320);
        out.push(if named { '{' } else { '[' });
        let mut fields = FIELDS.iter();
        let mut field = |out: &mut String| {
            let name = fields.next().copied().unwrap_or_default();
            if name != FIELDS[0] {
                out.push(',');
            }
            if named {
                out.push('"');
                out.push_str(name);
                out.push_str("\":");
            }
        };
        for text in [self.capability, self.operation, self.call, self.method, self.path] {
            field(out);
            push_raw(out, text);
        }
        field(out);
        match self.status {
            Some(status) => push_u64(out, u64::from(status), 0),
            None => out.push_str("null"),
        }
        field(out);
        match &self.request_id {
            Some(id) => push_str(out, id),
            None => out.push_str("null"),
        }
        field(out);
        out.push('"');
        push_iso8601(out, self.started_ms);
        out.push('"');
        field(out);
        push_u64(out, self.duration_ms, 0);
        field(out);
        push_u64(out, u64::from(self.attempts), 0);
        field(out);
        push_raw(out, self.credential);
        field(out);
        out.push_str(if self.refreshed { "true" } else { "false" });
        field(out);
        push_raw(out, self.verdict);
        field(out);
        push_str(out, self.call_id);
        field(out);
        push_tries(out, self.tries);
        field(out);
        match self.idempotency_key {
            Some(key) => push_str(out, key),
            None => out.push_str("null"),
        }
        field(out);
        match self.pages {
            Some(pages) => push_u64(out, u64::from(pages), 0),
            None => out.push_str("null"),
        }
        out.push(if named { '}' } else { ']' });
    }
}

/// A receipt's fields, in the order [`Receipt::push_json`] writes them and
/// [`Receipt::push_values`] lists them. The generated JS entry names the values back in this
/// order (`receiptOf`); `tests/wire.rs` checks its list against this one.
pub const FIELDS: [&str; 17] = [
    "capability",
    "operation",
    "call",
    "method",
    "path",
    "status",
    "requestId",
    "startedAt",
    "durationMs",
    "attempts",
    "credential",
    "refreshed",
    "verdict",
    "callId",
    "tries",
    "idempotencyKey",
    "pages",
];

/// Which credential a call used; shown in the receipt as `credential`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialUse {
    /// The Worker secret.
    Secret,
    /// `options.auth.apiKey`.
    Call,
    /// None sent.
    None,
}

impl CredentialUse {
    pub const ALL: [CredentialUse; 3] = [CredentialUse::Secret, CredentialUse::Call, CredentialUse::None];

    pub fn as_str(self) -> &'static str {
        match self {
            CredentialUse::Secret => "secret",
            CredentialUse::Call => "call",
            CredentialUse::None => "none",
        }
    }
}

/// How the entry attaches a success body it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// Parsed as JSON.
    Json,
    /// As text.
    Text,
    /// As its bytes, a `Uint8Array`.
    Bytes,
}

/// How the success result reaches the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Envelope {
    /// The whole envelope, as JSON.
    Complete(String),
    /// Success, with the upstream body the JS entry already holds as `result`, attached as
    /// `attach` says; `receipt` is the receipt's values ([`Receipt::push_values`]).
    /// Used when the body holds no credential, so a large body is never copied back out of wasm
    /// nor re-encoded.
    AttachBody { attach: Attach, receipt: String },
}

/// `{ ok: true, result, receipt }` with `result` as raw JSON text.
pub fn ok(result_json: &str, receipt: &Receipt<'_>) -> String {
    let mut out = String::with_capacity(result_json.len() + 400);
    out.push_str("{\"ok\":true,\"result\":");
    out.push_str(result_json);
    out.push_str(",\"receipt\":");
    receipt.push_json(&mut out);
    out.push('}');
    out
}

/// The receipt's values for [`Envelope::AttachBody`] (with room for a wire prefix). For a body
/// the entry will parse as JSON, `media_type` follows them: what [`fail_with_values`] prints if
/// the body does not parse.
pub fn values(receipt: &Receipt<'_>, media_type: Option<&str>) -> String {
    let mut out = String::with_capacity(320);
    receipt.push_values(&mut out);
    if let Some(media_type) = media_type {
        out.pop();
        out.push(',');
        push_str(&mut out, media_type);
        out.push(']');
    }
    out
}

/// `{ ok: false, error: { code, message, status?, upstream? }, receipt }`, every string of it
/// passed through the call's redactor here, so no failure envelope can skip it: the message,
/// each string, key and number of `upstream`, and the receipt's request id (taken through
/// [`Redactor::redact_receipt`] when the receipt was made). What the capability says in its own
/// words — every message but an `upstream_error`'s (the provider's), and what it derives from a
/// header (a withheld body's `contentType`) — is scrubbed of context values too. What the
/// provider answered (`upstream`: its error object, a body's start, a redirect's location) may
/// name them, as a result may.
#[cold]
#[inline(never)]
pub fn fail(error: &CallError, redactor: &Redactor, receipt: &Receipt<'_>) -> String {
    let code = error.code();
    let message = error.to_string();
    let message = if matches!(code, Code::UpstreamError | Code::RateLimited) { redactor.redact(&message) } else { redactor.redact_own(&message) };
    let mut out = String::with_capacity(512);
    push_error(&mut out, error, &message, &|value, out| {
        redactor.push_value(value, code == Code::UpstreamBodyWithheld, out);
    });
    receipt.push_json(&mut out);
    out.push('}');
    out
}

/// A failure envelope for a call the runtime already answered with a success receipt's values
/// ([`values`]), which the entry hands back: the entry found the body it attached is not what
/// the receipt said (JSON that does not parse). The values end with the media type as the
/// message may print it (the runtime chose it while it held the call's redactor); the verdict
/// becomes `fail`; the rest is the runtime's own receipt. `excerpt` is the body's start, which
/// the entry's scan flagged nothing in. `None` when `values` is not such a list.
#[cold]
#[inline(never)]
pub fn fail_with_values(status: u16, values: &str, excerpt: &str) -> Option<String> {
    let Value::Array(mut values) = crate::parse::parse(values).ok()? else { return None };
    if values.len() != FIELDS.len() + 1 {
        return None;
    }
    let Some(Value::String(content_type)) = values.pop() else { return None };
    let error = CallError::invalid_body(status, &content_type, excerpt);
    let verdict = FIELDS.iter().position(|f| *f == "verdict")?;
    values[verdict] = Value::String("fail".into());
    let mut out = String::with_capacity(512);
    push_error(&mut out, &error, &error.to_string(), &|value, out| value.push_json(out));
    out.push('{');
    for (i, (name, value)) in FIELDS.iter().zip(&values).enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_raw(&mut out, name);
        out.push(':');
        value.push_json(&mut out);
    }
    out.push_str("}}");
    Some(out)
}

/// `{"ok":false,"error":{...},"receipt":` — the envelope up to its receipt; `upstream` is
/// written by `write`.
fn push_error(out: &mut String, error: &CallError, message: &str, write: &dyn Fn(&Value, &mut String)) {
    out.push_str("{\"ok\":false,\"error\":{\"code\":");
    push_raw(out, error.code().as_str());
    out.push_str(",\"message\":");
    push_str(out, message);
    if let Some(stage) = error.stage() {
        out.push_str(",\"stage\":");
        push_raw(out, stage);
    }
    if let Some(status) = error.status() {
        out.push_str(",\"status\":");
        push_u64(out, u64::from(status), 0);
    }
    if let Some(limit) = error.limit() {
        out.push_str(",\"limit\":");
        push_u64(out, limit, 0);
    }
    if let Some(ms) = error.retry_after_ms() {
        out.push_str(",\"retryAfterMs\":");
        push_u64(out, ms, 0);
    }
    if let Some(upstream) = error.upstream() {
        out.push_str(",\"upstream\":");
        write(upstream, out);
    }
    out.push_str("},\"receipt\":");
}

/// Milliseconds since the Unix epoch as `2026-11-24T03:07:00.123Z`.
pub fn iso8601(ms: f64) -> String {
    let mut out = String::with_capacity(24);
    push_iso8601(&mut out, ms);
    out
}

/// [`iso8601`], appended to `out` (by hand rather than `format!`: every receipt has one).
pub fn push_iso8601(out: &mut String, ms: f64) {
    let ms = if ms.is_finite() && ms >= 0.0 { ms as u64 } else { 0 };
    let (secs, millis) = (ms / 1000, ms % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    for (n, width, sep) in [
        (y.max(0) as u64, 4, '-'),
        (u64::from(m), 2, '-'),
        (u64::from(d), 2, 'T'),
        (rem / 3600, 2, ':'),
        (rem % 3600 / 60, 2, ':'),
        (rem % 60, 2, '.'),
        (millis, 3, 'Z'),
    ] {
        push_u64(out, n, width);
        out.push(sep);
    }
}

/// Howard Hinnant's `civil_from_days`: proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_strings_written_raw_need_no_escaping() {
        let provider = &crate::provider::PROVIDER;
        assert!(!crate::json::needs_escape(provider.capability.as_bytes()));
        for op in provider.operations {
            for text in [op.id, op.call, op.path, op.method.as_str()] {
                assert!(!crate::json::needs_escape(text.as_bytes()), "{text}");
            }
            // Static header values, written raw into the request description.
            if let crate::table::Body::Text(media_type) = op.body {
                assert!(!crate::json::needs_escape(media_type.as_bytes()), "{media_type}");
            }
        }
        for (name, value) in provider.static_headers {
            assert!(!crate::json::needs_escape(name.as_bytes()) && !crate::json::needs_escape(value.as_bytes()), "{name}");
        }
    }

    #[test]
    fn receipts_are_json() {
        let provider = &crate::provider::PROVIDER;
        let mut receipt = Receipt::new(provider, &provider.operations[0], 1_795_489_629_248.0);
        receipt.request_id = Some(Cow::Borrowed("req_\"1"));
        receipt.status = Some(200);
        receipt.close(1_795_489_629_248.0, 1_795_489_629_260.0, true);
        let mut out = String::new();
        receipt.push_json(&mut out);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["startedAt"], "2026-11-24T03:07:09.248Z");
        assert_eq!(v["requestId"], "req_\"1");
        assert_eq!(v["durationMs"], 12);
        assert_eq!(v["verdict"], "pass");
        assert_eq!(v["path"], provider.operations[0].path);
        let at = FIELDS.map(|name| out.find(&format!("\"{name}\":")).unwrap());
        assert!(at.windows(2).all(|w| w[0] < w[1]), "keys out of FIELDS order: {out}");
        let mut values = String::new();
        receipt.push_values(&mut values);
        let values: Vec<serde_json::Value> = serde_json::from_str(&values).unwrap();
        for (name, value) in FIELDS.iter().zip(&values) {
            assert_eq!(&v[name], value, "{name}");
        }
    }

    #[test]
    fn a_success_receipt_handed_back_becomes_a_failure_envelope() {
        let provider = &crate::provider::PROVIDER;
        let mut receipt = Receipt::new(provider, &provider.operations[0], 1_795_489_629_248.0);
        receipt.status = Some(200);
        receipt.close(1_795_489_629_248.0, 1_795_489_629_250.0, true);
        let envelope = fail_with_values(200, &values(&receipt, Some("application/json")), "<html>").unwrap();
        let v: serde_json::Value = serde_json::from_str(&envelope).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["error"]["code"], "upstream_invalid_body");
        assert_eq!(v["error"]["message"], "the upstream answered 200 as application/json with a body that does not parse as JSON");
        assert_eq!(v["error"]["upstream"], "<html>");
        assert_eq!(v["receipt"]["verdict"], "fail");
        assert_eq!(v["receipt"]["durationMs"], 2);
        assert_eq!(v["receipt"]["call"], provider.operations[0].call);
        assert_eq!(fail_with_values(200, "[1,2]", ""), None);
        assert_eq!(fail_with_values(200, &values(&receipt, None), ""), None, "no media type");
        assert_eq!(fail_with_values(200, "not json", ""), None);
    }

    #[test]
    fn iso8601_formats_utc_milliseconds() {
        assert_eq!(iso8601(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_000.0), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(1_795_489_629_248.0), "2026-11-24T03:07:09.248Z");
        assert_eq!(iso8601(f64::NAN), "1970-01-01T00:00:00.000Z");
    }
}
