//! Reading the upstream's answer: result, typed error, or a redirect to follow.
//!
//! - 2xx: the result. 204/205 and empty bodies give `null`, JSON media types give the parsed
//!   body, other text (as the entry tells text from bytes: `src/js/body.js`) gives the text,
//!   anything else the bytes, a `Uint8Array`. A binary body holding a credential of the call
//!   (in any view of its text: [`crate::views`]) is withheld (`upstream_body_withheld`): text
//!   can be redacted, bytes cannot without corrupting them, and a half-masked file is worse
//!   than none.
//! - 3xx: followed only within the request's origin (credentials never go elsewhere), at most
//!   [`MAX_REDIRECTS`] times; to another origin it is an `upstream_redirect` error.
//! - 4xx/5xx: `upstream_error` with the status and the provider's error object (the key named
//!   by the manifest's `error_object`, Stripe's `error`), its `message` as the message.
//!
//! A body the entry's scan flags ([`crate::redact`]) is judged here as its caller would receive
//! it: a JSON body parsed, each string and key redacted; text redacted whole; bytes withheld.
//! Everything an error keeps of the answer is redacted before it is cut to size (a cut through
//! a credential's encoding would hide the rest of it from redaction), and again, with the
//! call's context values, when the envelope is written ([`crate::receipt::fail`]).
//!
//! The verdict alone: the response arrives as the entry reported it ([`crate::http`]), and the
//! verdict leaves as an [`Outcome`] for [`crate::call`] to act on (follow the redirect, answer
//! the caller). This module sends nothing, holds no call, and writes no envelope.

use crate::error::{truncate, CallError};
use crate::http::HttpResponse;
use crate::media::{essence, is_json};
use crate::origin::origin_of;
use crate::receipt::Attach;
use crate::redact::Redactor;
use crate::table::Provider;
use crate::value::Value;

pub const MAX_REDIRECTS: u32 = 5;

/// The verdict on one upstream response.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Success with no body: `result: null`.
    Null,
    /// Success whose body holds no credential, for the entry to attach as it says.
    Body(Attach),
    /// Success whose body the runtime judged (the entry's scan flagged it): the result as JSON
    /// text, every string of it redacted.
    Redacted { json_text: String },
    /// Same-origin redirect: fetch this URL next, as `GET` without body when `as_get`.
    Follow { url: String, as_get: bool },
    Error(CallError),
}

/// Judges `response` to a request sent to `request_url` with `method`.
pub fn judge(provider: &Provider, request_url: &str, post: bool, response: &HttpResponse<'_>, redactor: &Redactor, redirects: u32) -> Outcome {
    let status = response.status;
    let json = is_json(response.content_type);
    match status {
        200..=299 => {
            if status == 204 || status == 205 || response.body.is_empty() {
                Outcome::Null
            } else if response.binary {
                if response.body.flagged(redactor, false) && redactor.finds_in(&response.body.text()) {
                    Outcome::Error(withheld(status, response.content_type.unwrap_or(""), redactor))
                } else {
                    Outcome::Body(Attach::Bytes)
                }
            } else if !response.body.flagged(redactor, json) {
                Outcome::Body(if json { Attach::Json } else { Attach::Text })
            } else {
                // A soft error (`crate::soft`): only builds whose table has the rule carry it.
                #[cfg(capa_soft)]
                if let Some(failure) = provider.upstream.soft_error.filter(|_| json).and_then(|rule| crate::soft::judge(rule, status, &response.body.text(), redactor)) {
                    return Outcome::Error(failure);
                }
                redacted(json, response, redactor)
            }
        }
        300..=399 if status != 304 => redirect(request_url, post, response, redactor, redirects),
        _ => Outcome::Error(upstream_error(provider, status, json, &response.body.text(), redactor)),
    }
}

// The branches below are out of line: a Worker's first call compiles the wasm functions it runs,
// whole, so code a common call does not take is kept out of the functions it does.

/// A success body the entry's scan flagged, judged as its caller would receive it: JSON parsed
/// and every string, key and number redacted (`upstream_invalid_body` when it does not parse),
/// text redacted whole. A text that held nothing is attached by the entry after all; a JSON body
/// is answered as written here even then, so that the entry never parses (and, failing, quotes)
/// a flagged body itself.
#[cold]
#[inline(never)]
fn redacted(json: bool, response: &HttpResponse<'_>, redactor: &Redactor) -> Outcome {
    let text = response.body.text();
    if json {
        return match crate::parse::parse(&text) {
            Ok(value) => {
                let mut json_text = String::with_capacity(text.len());
                redactor.push_value(&value, false, &mut json_text);
                Outcome::Redacted { json_text }
            }
            Err(_) => Outcome::Error(CallError::invalid_body(response.status, &printable_type(response.content_type.unwrap_or(""), redactor), &redactor.redact(&text))),
        };
    }
    match redactor.redact(&text) {
        std::borrow::Cow::Borrowed(_) => Outcome::Body(Attach::Text),
        std::borrow::Cow::Owned(redacted) => {
            let mut json_text = String::with_capacity(redacted.len() + 2);
            crate::json::push_str(&mut json_text, &redacted);
            Outcome::Redacted { json_text }
        }
    }
}

/// `upstream_body_withheld`: a binary success body holding a credential of the call.
#[cold]
#[inline(never)]
fn withheld(status: u16, content_type: &str, redactor: &Redactor) -> CallError {
    let content_type = printable_type(content_type, redactor);
    CallError::BodyWithheld {
        status,
        upstream: Some(Value::Object(vec![("contentType".into(), Value::String(content_type.clone()))])),
        content_type,
    }
}

/// A media type as a message may show it: the essence of the header value with the call's
/// credentials and context values (in any view) replaced — the whole value first, since its
/// essence ends at the first `;`, which may cut a credential in two — or a stand-in if it could
/// not travel in a header.
pub fn printable_type(content_type: &str, redactor: &Redactor) -> String {
    let redacted = redactor.redact_own(content_type);
    let essence = essence(&redacted);
    if essence.is_empty() || crate::header::value_fault(essence).is_some() {
        "an unnamed media type".to_owned()
    } else {
        essence.to_owned()
    }
}

/// A 3xx: followed within the request's origin, refused beyond it.
#[inline(never)]
fn redirect(request_url: &str, post: bool, response: &HttpResponse<'_>, redactor: &Redactor, redirects: u32) -> Outcome {
    let status = response.status;
    let location = response.location.map(|l| redactor.redact(l).into_owned());
    let origin = origin_of(request_url);
    let target = match location.as_deref() {
        Some(l) if l.starts_with('/') && !l.starts_with("//") => Some(format!("{origin}{l}")),
        Some(l) if origin_of(l).eq_ignore_ascii_case(origin) => Some(l.to_owned()),
        _ => None,
    };
    match target {
        Some(url) if redirects < MAX_REDIRECTS => Outcome::Follow { url, as_get: status == 303 || (post && (status == 301 || status == 302)) },
        Some(_) => Outcome::Error(CallError::Upstream {
            status,
            message: format!("upstream redirected more than {MAX_REDIRECTS} times"),
            upstream: None,
            retry_after_ms: None,
        }),
        None => Outcome::Error(CallError::Redirect {
            status,
            upstream: location.map(|l| Value::Object(vec![("location".into(), Value::String(l))])),
        }),
    }
}

/// The typed error for an HTTP error status, carrying the provider's error object: parsed
/// first, so that it is redacted as the caller will see it, and redacted before its message is
/// cut to size.
#[inline(never)]
fn upstream_error(provider: &Provider, status: u16, json: bool, body: &str, redactor: &Redactor) -> CallError {
    let parsed: Option<Value> = if json { crate::parse::parse(body).ok() } else { None };
    let upstream = match (parsed, provider.error_object) {
        (Some(whole), Some(key)) => match whole.get(key) {
            Some(inner) => Some(inner.clone()),
            None => Some(whole),
        },
        (Some(whole), None) => Some(whole),
        (None, _) if body.trim().is_empty() => None,
        (None, _) => Some(Value::String(truncate(&redactor.redact(body), 2048).to_owned())),
    };
    let upstream = upstream.map(|u| redactor.redact_value(&u));
    let message = upstream
        .as_ref()
        .and_then(|u| u.get("message"))
        .and_then(Value::as_str)
        .map(|m| truncate(m, 1024).to_owned())
        .unwrap_or_else(|| format!("upstream answered HTTP {status}"));
    CallError::Upstream { status, message, upstream, retry_after_ms: None }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{AuthScheme, Scheme};

    static STRIPE: Provider = Provider {
        capability: "stripe",
        schemes: &[Scheme { secret: "STRIPE_API_KEY", auth: AuthScheme::Bearer, headers: &[] }],
        call_headers: &[],
        secret_call_headers: &[],
        static_headers: &[],
        bound_headers: &[],
        request_id_header: Some("Request-Id"),
        error_object: Some("error"),
        servers: &["https://api.stripe.com"],
        classes: &["read", "write", "destructive"],
        upstream: crate::table::Upstream::DEFAULT,
        operations: &[],
        paging: &[],
        optional_bodies: &[],
        credential_params: &[],
    };

    fn resp(status: u16, ct: &'static str, body: &'static &'static str) -> HttpResponse<'static> {
        HttpResponse { status, content_type: Some(ct), request_id: None, location: None, hints: Default::default(), link: None, binary: false, body }
    }

    fn redactor() -> Redactor {
        let mut r = Redactor::default();
        r.add("sk_test_CANARY");
        r
    }

    const URL: &str = "https://api.stripe.com/v1/customers/cus_1";

    #[test]
    fn success_bodies() {
        let r = redactor();
        assert_eq!(judge(&STRIPE, URL, false, &resp(200, "application/json; charset=utf-8", &"{}"), &r, 0), Outcome::Body(Attach::Json));
        assert_eq!(judge(&STRIPE, URL, false, &resp(200, "text/plain", &"hi"), &r, 0), Outcome::Body(Attach::Text));
        let mut pdf = resp(200, "application/pdf", &"%PDF");
        pdf.binary = true;
        assert_eq!(judge(&STRIPE, URL, false, &pdf, &r, 0), Outcome::Body(Attach::Bytes));
        pdf.body = &"%PDF sk_test_CANARY";
        let Outcome::Error(e) = judge(&STRIPE, URL, false, &pdf, &r, 0) else { panic!() };
        assert_eq!((e.code(), e.status()), (crate::error::Code::UpstreamBodyWithheld, Some(200)));
        assert_eq!(e.upstream().unwrap().to_json(), r#"{"contentType":"application/pdf"}"#);
        assert_eq!(judge(&STRIPE, URL, false, &resp(204, "application/json", &""), &r, 0), Outcome::Null);
        assert_eq!(
            judge(&STRIPE, URL, false, &resp(200, "application/json", &r#"{"echo":"Bearer sk_test_CANARY"}"#), &r, 0),
            Outcome::Redacted { json_text: r#"{"echo":"Bearer [REDACTED]"}"#.into() }
        );
        assert_eq!(
            judge(&STRIPE, URL, false, &resp(200, "text/plain", &"key sk_test_CANARY"), &r, 0),
            Outcome::Redacted { json_text: r#""key [REDACTED]""#.into() }
        );
    }

    #[test]
    fn stripe_errors_carry_the_error_object() {
        const BODY: &str = r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds. sk_test_CANARY"}}"#;
        let Outcome::Error(e) = judge(&STRIPE, URL, true, &resp(402, "application/json", &BODY), &redactor(), 0) else { panic!() };
        assert_eq!(e.status(), Some(402));
        assert_eq!(e.to_string(), "Your card has insufficient funds. [REDACTED]");
        let upstream = e.upstream().unwrap().to_json();
        assert_eq!(upstream, r#"{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds. [REDACTED]"}"#);
    }

    #[test]
    fn non_json_errors_keep_text() {
        let Outcome::Error(e) = judge(&STRIPE, URL, false, &resp(502, "text/html", &"<h1>Bad gateway</h1>"), &redactor(), 0) else { panic!() };
        assert_eq!(e.to_string(), "upstream answered HTTP 502");
        assert_eq!(e.upstream(), Some(&Value::String("<h1>Bad gateway</h1>".into())));
    }

    #[test]
    fn redirects_stay_on_origin() {
        let r = redactor();
        let mut response = resp(302, "text/plain", &"");
        response.location = Some("/v1/customers/cus_2");
        assert_eq!(
            judge(&STRIPE, URL, true, &response, &r, 0),
            Outcome::Follow { url: "https://api.stripe.com/v1/customers/cus_2".into(), as_get: true }
        );
        response.status = 307;
        response.location = Some("https://API.stripe.com/v1/x");
        assert_eq!(judge(&STRIPE, URL, true, &response, &r, 0), Outcome::Follow { url: "https://API.stripe.com/v1/x".into(), as_get: false });
        for off in ["https://evil.example/v1/x", "//evil.example/x", "https://api.stripe.com.evil.example/x", "https://api.stripe.com@evil.example/"] {
            response.location = Some(off);
            let Outcome::Error(e) = judge(&STRIPE, URL, false, &response, &r, 0) else { panic!("{off}") };
            assert_eq!(e.code(), crate::error::Code::UpstreamRedirect, "{off}");
        }
        response.location = Some("/again");
        let Outcome::Error(e) = judge(&STRIPE, URL, false, &response, &r, MAX_REDIRECTS) else { panic!() };
        assert_eq!(e.code(), crate::error::Code::UpstreamError);
    }
}
