//! Soft errors: answers that report a failure with a success status.
//!
//! Only a Worker whose table has the rule carries this code (`capa_soft`, build.rs).
//!
//! Some APIs answer every call `200` and say in the body whether it worked (Slack's
//! `{ "ok": false, "error": "invalid_auth" }`; GraphQL-shaped `{ "errors": [...] }`). Read as a
//! success, such an answer would reach its caller as `ok: true` and a receipt's `verdict:
//! "pass"`. The manifest's `[upstream.soft_error]` ([`SoftError`]) names the member that tells,
//! and the answer becomes `upstream_error` with the status as sent, the provider's object (the
//! whole body, redacted) as `upstream` and its message from the member the rule names.
//!
//! It costs the plain path nothing: the call has the entry's scan watch for the member's quoted
//! name ([`SoftError::marker`], `"ok"`), so a body without it never crosses into wasm (it cannot
//! hold the member), and only a body that flags is parsed and judged here
//! ([`crate::response::judge`]). A key written with escapes flags too (the scan flags every
//! ASCII `\u00XX`).

use crate::error::{truncate, CallError};
use crate::redact::Redactor;
use crate::table::SoftError;
use crate::value::Value;

/// The failure `body` (a 2xx JSON answer's text) reports under `rule`, if it reports one.
#[cold]
#[inline(never)]
pub fn judge(rule: &SoftError, status: u16, body: &str, redactor: &Redactor) -> Option<CallError> {
    let parsed = crate::parse::parse(body).ok()?;
    let member = at(&parsed, rule.member)?;
    let failed = if rule.equals.is_empty() {
        !matches!(member, Value::Null | Value::Bool(false)) && !matches!(member, Value::String(s) if s.is_empty()) && !matches!(member, Value::Array(a) if a.is_empty()) && !matches!(member, Value::Object(o) if o.is_empty())
    } else {
        crate::parse::parse(rule.equals).is_ok_and(|failure| same(member, &failure))
    };
    if !failed {
        return None;
    }
    let upstream = redactor.redact_value(&parsed);
    let message = (!rule.message.is_empty())
        .then(|| at(&upstream, rule.message))
        .flatten()
        .and_then(message_text)
        .map(|m| truncate(&m, 1024).to_owned())
        .unwrap_or_else(|| format!("upstream answered HTTP {status} reporting a failure (`{}`)", rule.member));
    Some(CallError::Upstream { status, message, upstream: Some(upstream), retry_after_ms: None })
}

/// The member at a dotted path (`ok`, `error.code`).
fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |v, key| v.get(key))
}

/// Two JSON values alike; numbers by their text (`0` is not `0.0`: no float parsing is
/// compiled in for this).
fn same(a: &Value, b: &Value) -> bool {
    a == b
}

/// A message member's text: a string as it is; an object's own `message`, else its JSON; a
/// list's first item, so read.
fn message_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Object(_) => value.get("message").and_then(message_text).or_else(|| Some(value.to_json())),
        Value::Array(items) => items.first().and_then(message_text),
        Value::Number(_) | Value::Bool(_) => Some(value.to_json()),
        _ => None,
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    const SLACK: SoftError = SoftError { member: "ok", equals: "false", message: "error", marker: "\"ok\"" };
    const ERRORS: SoftError = SoftError { member: "errors", equals: "", message: "errors", marker: "\"errors\"" };

    fn redactor() -> Redactor {
        let mut r = Redactor::default();
        r.add("xoxb-CANARYsecret");
        r
    }

    #[test]
    fn a_flag_equal_to_the_failure_value_fails() {
        let e = judge(&SLACK, 200, r#"{"ok":false,"error":"invalid_auth xoxb-CANARYsecret"}"#, &redactor()).unwrap();
        assert_eq!((e.code(), e.status()), (crate::error::Code::UpstreamError, Some(200)));
        assert_eq!(e.to_string(), "invalid_auth [REDACTED]");
        assert_eq!(e.upstream().unwrap().to_json(), r#"{"ok":false,"error":"invalid_auth [REDACTED]"}"#);
        assert!(judge(&SLACK, 200, r#"{"ok":true,"error":"x"}"#, &redactor()).is_none());
        assert!(judge(&SLACK, 200, r#"{"okay":false}"#, &redactor()).is_none());
        assert!(judge(&SLACK, 200, "[1]", &redactor()).is_none());
        assert!(judge(&SLACK, 200, "not json", &redactor()).is_none());
        let nested = SoftError { member: "meta.status", equals: "\"error\"", message: "meta.detail", marker: "\"status\"" };
        assert_eq!(judge(&nested, 201, r#"{"meta":{"status":"error","detail":"no"}}"#, &redactor()).unwrap().to_string(), "no");
    }

    #[test]
    fn a_member_present_and_not_empty_fails() {
        let e = judge(&ERRORS, 200, r#"{"data":null,"errors":[{"message":"Field 'x' missing"}]}"#, &redactor()).unwrap();
        assert_eq!(e.to_string(), "Field 'x' missing");
        for fine in [r#"{"data":1}"#, r#"{"errors":[]}"#, r#"{"errors":null}"#, r#"{"errors":""}"#, r#"{"errors":{}}"#] {
            assert!(judge(&ERRORS, 200, fine, &redactor()).is_none(), "{fine}");
        }
        let bare = SoftError { message: "", ..ERRORS };
        assert_eq!(judge(&bare, 200, r#"{"errors":true}"#, &redactor()).unwrap().to_string(), "upstream answered HTTP 200 reporting a failure (`errors`)");
    }
}
