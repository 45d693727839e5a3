//! Typed call errors and their stable codes.
//!
//! Workers RPC keeps only `name` and `message` of a thrown error, so a capability never throws:
//! every failure is a value, `{ ok: false, error: { code, message, status?, upstream? } }`.
//! `code` is the contract callers branch on (listed in docs/contract.md); `message` is for humans and
//! names what went wrong — a parameter, a header name, the secret to set — never a value that
//! could be a credential.

use crate::value::Value;

/// The stable error codes. Their strings are part of the public contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// No Worker secret and no `options.auth.apiKey` for an operation that needs one, or a
    /// Worker secret no header can carry.
    MissingCredential,
    /// `options.auth.headers` named a header outside the provider's allow-list.
    HeaderNotAllowed,
    /// An argument has the wrong shape: arity, type, missing required parameter, bad option.
    InvalidArgument,
    /// The params object holds keys the operation does not declare.
    UnknownParameter,
    /// The upstream answered with an HTTP error status (4xx/5xx).
    UpstreamError,
    /// The upstream redirected to another origin; credentials are not sent there.
    UpstreamRedirect,
    /// The upstream could not be reached (DNS, connection, TLS, reset).
    UpstreamUnreachable,
    /// The upstream answered success with a JSON media type and a body that is not JSON.
    UpstreamInvalidBody,
    /// The upstream answered success with a binary body holding one of the call's credentials:
    /// bytes cannot be redacted without corrupting them, so the body is withheld.
    UpstreamBodyWithheld,
    /// The credential's lifecycle failed where a refresh cannot help: the token endpoint refused
    /// the client, or the upstream refused a freshly obtained token (`stage` says which).
    AuthFailed,
    /// The operation is outside the caller's rights (`crate::rights`); no upstream call.
    OperationNotAllowed,
    /// The call's request went out, then a fault inside the capability lost its outcome: it may
    /// have taken effect. Never `internal`, which says nothing was sent.
    UpstreamOutcomeUnknown,
    /// No answer in time: an attempt's timeout, or the call's deadline ([`crate::retry`]).
    UpstreamTimeout,
    /// A response body larger than the capability reads (`limit`, bytes); the rest was not read.
    UpstreamTooLarge,
    /// A rate limit: the provider's wall (`stage: "upstream"`: a 429, or a spent
    /// `x-ratelimit-remaining`), with `retryAfterMs` when it said; or this Worker's own call
    /// budget (`stage: "capability"`, [`crate::budget`]), with no request sent.
    RateLimited,
    /// A fault inside the capability itself (a bug, a panic); details go to the Worker log.
    Internal,
}

/// Where a credential's lifecycle failed, for `auth_failed`'s `stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStage {
    /// Exchanging the deployment's credentials for a token.
    Token,
    /// Logging in to a cookie session, or a login wall still there after a fresh login.
    Login,
    /// The upstream refused the token obtained for it.
    Upstream,
}

impl AuthStage {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthStage::Token => "token",
            AuthStage::Login => "login",
            AuthStage::Upstream => "upstream",
        }
    }
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MissingCredential => "missing_credential",
            Code::HeaderNotAllowed => "header_not_allowed",
            Code::InvalidArgument => "invalid_argument",
            Code::UnknownParameter => "unknown_parameter",
            Code::UpstreamError => "upstream_error",
            Code::UpstreamRedirect => "upstream_redirect",
            Code::UpstreamUnreachable => "upstream_unreachable",
            Code::UpstreamInvalidBody => "upstream_invalid_body",
            Code::UpstreamBodyWithheld => "upstream_body_withheld",
            Code::AuthFailed => "auth_failed",
            Code::OperationNotAllowed => "operation_not_allowed",
            Code::UpstreamOutcomeUnknown => "upstream_outcome_unknown",
            Code::UpstreamTimeout => "upstream_timeout",
            Code::UpstreamTooLarge => "upstream_too_large",
            Code::RateLimited => "rate_limited",
            Code::Internal => "internal",
        }
    }

    /// Every code, for the docs check (`tests/docs.rs`) and for callers' exhaustive matches.
    pub const ALL: [Code; 16] = [
        Code::MissingCredential,
        Code::HeaderNotAllowed,
        Code::InvalidArgument,
        Code::UnknownParameter,
        Code::UpstreamError,
        Code::UpstreamRedirect,
        Code::UpstreamUnreachable,
        Code::UpstreamInvalidBody,
        Code::UpstreamBodyWithheld,
        Code::AuthFailed,
        Code::OperationNotAllowed,
        Code::UpstreamOutcomeUnknown,
        Code::UpstreamTimeout,
        Code::UpstreamTooLarge,
        Code::RateLimited,
        Code::Internal,
    ];
}

/// Why a call failed.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum CallError {
    #[error(
        "no credential for {capability}: set the Worker secret with `wrangler secret put {secret} --env {capability}`, or pass options.auth.apiKey"
    )]
    MissingCredential { capability: &'static str, secret: &'static str },

    #[error(
        "no credential for {capability}: the Secrets Store secret bound as {binding} has no value (it is not in the store, or this Worker may not read it); create it with `wrangler secrets-store secret create <store-id> --name <secret-name>` and bind it in wrangler.toml's secrets_store_secrets, or pass options.auth.apiKey"
    )]
    MissingStoreSecret { capability: &'static str, binding: &'static str },

    #[error(
        "the Worker secret {secret} is set but cannot be used: it {fault}; set it again with `wrangler secret put {secret} --env {capability}`{}",
        newline_hint(.fault)
    )]
    UnsendableSecret { capability: &'static str, secret: &'static str, fault: &'static str },

    #[error(
        "the Worker binding {binding} is set but cannot be sent as `{header}`: it {fault}; set it again with `wrangler secret put {binding} --env {capability}` (or the var in wrangler.toml)"
    )]
    UnsendableBinding { capability: &'static str, binding: &'static str, header: &'static str, fault: &'static str },

    #[error("header `{name}` may not be set per call; allowed: {}", allowed_list(.allowed))]
    HeaderNotAllowed { name: String, allowed: &'static [&'static str] },

    #[error("{0}")]
    InvalidArgument(String),

    #[error("{call} does not accept parameter(s) {}{hint}", quoted(.names))]
    UnknownParameter { call: &'static str, names: Vec<String>, hint: &'static str },

    /// `message` comes from the provider's error object, already redacted. `retry_after_ms`:
    /// the wait the provider named (`Retry-After`), when the call did not make it.
    #[error("{message}")]
    Upstream { status: u16, message: String, upstream: Option<Value>, retry_after_ms: Option<u64> },

    /// The provider's rate wall, as [`CallError::Upstream`] carries its answer.
    #[error("{message}")]
    RateLimited { status: u16, message: String, upstream: Option<Value>, retry_after_ms: Option<u64> },

    /// A body over `limit` bytes, answered with `status`.
    #[error("the upstream answered {status} with a body over {limit} bytes, more than this capability reads (the manifest's upstream.max_body_bytes); the rest was not read")]
    TooLarge { status: u16, limit: u64 },

    /// No answer in time; `0` says which limit ended it, `status` what the last answer was, if
    /// one came.
    #[error("{0}")]
    Timeout(String, Option<u16>),

    #[error("upstream redirected ({status}) to another origin; not followed, so no credential leaves the API's origin")]
    Redirect { status: u16, upstream: Option<Value> },

    #[error("upstream unreachable: {0}")]
    Unreachable(String),

    /// `upstream` holds the body's first 2 KiB as text, credentials redacted.
    #[error("the upstream answered {status} as {content_type} with a body that does not parse as JSON")]
    InvalidBody { status: u16, content_type: String, upstream: Option<Value> },

    /// `upstream` holds the body's media type and size, never its bytes.
    #[error("the upstream answered {status} with a binary body ({content_type}) that holds a credential of this call; bytes cannot be redacted faithfully, so it is withheld")]
    BodyWithheld { status: u16, content_type: String, upstream: Option<Value> },

    /// `check`: what the message says to check — a kind (`client credentials`) and its handles,
    /// the secret's last (names, never values).
    #[error("{}", auth_failed(capability, *stage, *status, why, check))]
    /// `upstream`: at the `upstream` stage, the provider's error object (redacted), as
    /// `upstream_error` would carry it: why fresh credentials were refused (a missing scope).
    AuthFailed {
        capability: &'static str,
        stage: AuthStage,
        status: Option<u16>,
        why: &'static str,
        check: (&'static str, &'static str, &'static str),
        upstream: Option<Value>,
    },

    /// This Worker's own call budget ([`crate::budget`]) is spent: `rate_limited`, stage
    /// `capability`, with no status and no `retryAfterMs` (the limiter does not say).
    #[error("{0}")]
    OverBudget(String),

    #[error("{call} is not allowed: {layer} of {capability} does not offer it {why}")]
    NotAllowed { capability: &'static str, call: &'static str, layer: &'static str, why: String },

    /// `status`: what the upstream last answered, if it answered.
    #[error(
        "the request was sent{}, then a fault inside the capability lost its outcome: it may have taken effect; check before sending it again (the Worker's log has details)",
        .status.map_or(String::new(), |s| format!(" and answered HTTP {s}"))
    )]
    OutcomeUnknown { status: Option<u16> },

    #[error("internal error in the capability: {0}")]
    Internal(&'static str),
}

fn auth_failed(capability: &str, stage: AuthStage, status: Option<u16>, why: &str, &(kind, other, secret): &(&str, &str, &str)) -> String {
    let status = status.map_or(String::new(), |s| format!(" ({s})"));
    let what = if other.is_empty() { format!("the {kind} {secret}") } else { format!("the {kind} {other} and {secret}") };
    match stage {
        AuthStage::Token | AuthStage::Login => format!("{why}{status}: check {what} (`wrangler secret put {secret} --env {capability}`)"),
        AuthStage::Upstream => format!("{why}{status}: {what} may lack the access this call needs"),
    }
}

impl CallError {
    pub fn invalid(message: impl Into<String>) -> Self {
        CallError::InvalidArgument(message.into())
    }

    /// `upstream_invalid_body` for a success whose JSON media type came with something else;
    /// `text` has been redacted (or the entry's scan flagged nothing in it), and `content_type`
    /// is as `crate::response::printable_type` prints it. Made where the runtime judges the body
    /// ([`crate::response`]) and where the entry finds it does not parse after all
    /// ([`crate::receipt::fail_with_values`]).
    #[cold]
    #[inline(never)]
    pub fn invalid_body(status: u16, content_type: &str, text: &str) -> Self {
        CallError::InvalidBody {
            status,
            content_type: content_type.to_owned(),
            upstream: (!text.is_empty()).then(|| Value::String(truncate(text, 2048).to_owned())),
        }
    }

    pub fn code(&self) -> Code {
        match self {
            CallError::MissingCredential { .. }
            | CallError::MissingStoreSecret { .. }
            | CallError::UnsendableSecret { .. }
            | CallError::UnsendableBinding { .. } => Code::MissingCredential,
            CallError::HeaderNotAllowed { .. } => Code::HeaderNotAllowed,
            CallError::InvalidArgument(_) => Code::InvalidArgument,
            CallError::UnknownParameter { .. } => Code::UnknownParameter,
            CallError::Upstream { .. } => Code::UpstreamError,
            CallError::RateLimited { .. } | CallError::OverBudget(_) => Code::RateLimited,
            CallError::Timeout(..) => Code::UpstreamTimeout,
            CallError::TooLarge { .. } => Code::UpstreamTooLarge,
            CallError::Redirect { .. } => Code::UpstreamRedirect,
            CallError::Unreachable(_) => Code::UpstreamUnreachable,
            CallError::InvalidBody { .. } => Code::UpstreamInvalidBody,
            CallError::BodyWithheld { .. } => Code::UpstreamBodyWithheld,
            CallError::AuthFailed { .. } => Code::AuthFailed,
            CallError::NotAllowed { .. } => Code::OperationNotAllowed,
            CallError::OutcomeUnknown { .. } => Code::UpstreamOutcomeUnknown,
            CallError::Internal(_) => Code::Internal,
        }
    }

    /// The upstream HTTP status, when the upstream answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Upstream { status, .. }
            | CallError::RateLimited { status, .. }
            | CallError::TooLarge { status, .. }
            | CallError::Redirect { status, .. }
            | CallError::InvalidBody { status, .. }
            | CallError::BodyWithheld { status, .. } => Some(*status),
            CallError::AuthFailed { status, .. } | CallError::OutcomeUnknown { status } | CallError::Timeout(_, status) => *status,
            _ => None,
        }
    }

    /// `auth_failed`'s and `rate_limited`'s stage.
    pub fn stage(&self) -> Option<&'static str> {
        match self {
            CallError::AuthFailed { stage, .. } => Some(stage.as_str()),
            CallError::RateLimited { .. } => Some("upstream"),
            CallError::OverBudget(_) => Some("capability"),
            _ => None,
        }
    }

    /// The limit a body went over: `limit`.
    pub fn limit(&self) -> Option<u64> {
        match self {
            CallError::TooLarge { limit, .. } => Some(*limit),
            _ => None,
        }
    }

    /// The wait the provider named, which the call did not make: `retryAfterMs`.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            CallError::Upstream { retry_after_ms, .. } | CallError::RateLimited { retry_after_ms, .. } => *retry_after_ms,
            _ => None,
        }
    }

    /// The provider's own error object (Stripe's `error`), credentials redacted.
    pub fn upstream(&self) -> Option<&Value> {
        match self {
            CallError::Upstream { upstream, .. }
            | CallError::RateLimited { upstream, .. }
            | CallError::Redirect { upstream, .. }
            | CallError::InvalidBody { upstream, .. }
            | CallError::BodyWithheld { upstream, .. }
            | CallError::AuthFailed { upstream, .. } => upstream.as_ref(),
            _ => None,
        }
    }
}

/// At most `max` bytes of `text`, cut at a character boundary: what an error keeps of the
/// upstream's text (a body's start, a message).
pub fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// What an unusable secret's message adds about newlines: the usual cause of control characters
/// (`echo key | wrangler secret put` stores the newline), and of nothing else.
fn newline_hint(fault: &str) -> &'static str {
    if fault == crate::header::CONTROL_FAULT {
        " (a trailing newline is the usual cause: `echo` adds one; `printf %s key |` does not)"
    } else {
        ""
    }
}

fn allowed_list(allowed: &[&str]) -> String {
    if allowed.is_empty() {
        "none".to_owned()
    } else {
        allowed.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_to_do() {
        let e = CallError::MissingCredential { capability: "stripe", secret: "STRIPE_API_KEY" };
        assert_eq!(e.code().as_str(), "missing_credential");
        assert!(e.to_string().contains("wrangler secret put STRIPE_API_KEY --env stripe"));

        let e = CallError::HeaderNotAllowed { name: "X-Evil".into(), allowed: &["Stripe-Account"] };
        assert_eq!(e.to_string(), "header `X-Evil` may not be set per call; allowed: Stripe-Account");

        let e = CallError::UnknownParameter { call: "customers.list", names: vec!["foo".into(), "bar".into()], hint: "" };
        assert_eq!(e.to_string(), "customers.list does not accept parameter(s) `foo`, `bar`");
    }

    #[test]
    fn codes_are_distinct() {
        let mut seen: Vec<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), Code::ALL.len());
    }
}

