//! One call, as a state machine that never touches the network.
//!
//! [`begin_round`] turns a [`Round`] (the operation, its arguments, what the caller holds, what
//! earlier rounds did, the time) and the Worker's [`Bindings`] into either a finished envelope
//! (the call was refused), a step to take first (a token), or a [`Call`] plus the request to
//! send ([`begin`] and its kin make the round for native callers). The JS entry sends it and
//! reports the response to [`Call::finish`], which answers with the envelope or with the next
//! request (a same-origin redirect). A network failure goes to [`Call::unreachable`].
//!
//! A round's beginning, everything a call can be refused for before a request exists, is
//! `src/call/round.rs`'s; this module holds what the rounds share (the [`Bindings`], what
//! earlier rounds did, the [`Step`]s) and the call in flight, from its request to its envelope.
//!
//! Keeping I/O out of Rust has three payoffs. Every step is a synchronous wasm call, so a panic
//! surfaces as an exception in the JS entry, which still answers with an envelope, instead of
//! stranding a promise inside the wasm executor. The awaits are the runtime's own, with no
//! future/closure glue per call. And the whole flow — arguments to envelope — is tested natively
//! with `cargo test`, no Worker needed.

use crate::auth::WorkerSecrets;
use crate::error::CallError;
#[cfg(capa_tokens)]
use crate::error::AuthStage;
use crate::http::{HttpRequest, HttpResponse};
use crate::receipt::{self, CredentialUse, Envelope, Receipt};
use crate::redact::Redactor;
use crate::response::{self, Outcome};
#[cfg(capa_tokens)]
use crate::secret::Secret;
use crate::table::{Method, Provider};
use crate::token::Tokens;
use std::rc::Rc;

mod round;

#[cfg(capa_tokens)]
pub use round::obtaining;
pub use round::{begin, begin_again, begin_held, begin_round, Round};

/// Worker variable holding a loopback origin that replaces the spec's servers. Set by `.dev.vars`
/// for `wrangler dev` and by the tests; ignored unless loopback
/// (see [`crate::origin::loopback_origin`]).
pub const ORIGIN_OVERRIDE_VAR: &str = "CAPA_LOOPBACK_ORIGIN";

/// Worker variable for fault injection: `panic:<call>` makes that call panic inside the runtime,
/// so tests can check that a panic still answers with an envelope. Only whoever configures the
/// Worker can set it; callers cannot.
pub const FAULT_VAR: &str = "CAPA_FAULT_INJECTION";

/// Reads the Worker's bindings (secrets and vars).
pub trait Bindings {
    fn get(&self, name: &str) -> Option<&str>;

    /// The vetted loopback origin that replaces the spec's servers and token endpoints (dev and
    /// tests): [`ORIGIN_OVERRIDE_VAR`], if loopback.
    fn origin_override(&self) -> Option<String> {
        self.get(ORIGIN_OVERRIDE_VAR).and_then(crate::origin::loopback_origin)
    }

    /// The deployment's credentials ([`WorkerSecrets`]) prepared for sending. Prepared per call
    /// unless the bindings keep them (the wasm entry does, per `env`).
    fn worker_secrets(&self, provider: &Provider) -> Rc<WorkerSecrets> {
        Rc::new(WorkerSecrets::new(provider, |name| self.get(name)))
    }

    /// Whether `name` is bound to a Secrets Store secret rather than a Worker secret
    /// ([`crate::store`]): what a missing value's error says to do differs.
    fn in_store(&self, _name: &str) -> bool {
        false
    }

    /// The isolate's access tokens ([`crate::token`]); `None`: this runtime keeps none, and
    /// operations whose scheme exchanges credentials for a token fail `internal`.
    fn tokens(&self) -> Option<&Tokens> {
        None
    }

    /// The deployment's rights ([`crate::rights`]): what this Worker offers at all.
    fn rights(&self) -> &crate::rights::Deployment {
        static OPEN: crate::rights::Deployment = crate::rights::Deployment::Open;
        &OPEN
    }

    /// Whether the isolates share tokens through the Durable Object ([`crate::token::shared`]).
    #[cfg(capa_tokens)]
    fn sharing(&self) -> &crate::token::shared::Sharing {
        static OFF: crate::token::shared::Sharing = crate::token::shared::Sharing::Off;
        &OFF
    }
}

/// What a call that begins again brings from its earlier rounds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Resume {
    /// A flight ended for it (it made the exchange, or waited for another call's): a token
    /// arrived, unless that flight failed (the receipt's `refreshed` tells them apart).
    pub obtained: bool,
    /// The upstream refused its cached credentials once (a token's 401, a session's relogin
    /// status or login wall) and they were dropped: this is the second attempt, and the last.
    pub after_401: bool,
    /// When the call's first round began (ms), for its receipt; `None`: this round's time.
    pub started_ms: Option<f64>,
}

impl Resume {
    /// From the entry's flags (bit 0 [`Resume::obtained`], bit 1 [`Resume::after_401`]) and the
    /// call's first round's time.
    pub fn from_flags(flags: u32, started_ms: f64) -> Self {
        Resume { obtained: flags & 1 != 0, after_401: flags & 2 != 0, started_ms: (flags != 0).then_some(started_ms) }
    }
}

/// A token younger than this that the upstream refuses was not expired: obtaining another would
/// not help, and a caller could otherwise make every call an exchange (a 401 for a scope the
/// deployment lacks). The call is `auth_failed` at once.
pub const FRESH_TOKEN_MS: f64 = 1_000.0;

/// What to do next.
#[derive(Debug)]
pub enum Step {
    /// Send [`Call::request`], then report to [`Call::finish`].
    Fetch(Call),
    /// Obtain scheme `scheme`'s token first: send `request` (the token exchange), hand the answer
    /// to [`Tokens::put`], then begin the call again. (This and the token steps below exist only
    /// in builds whose table has a token scheme, `capa_tokens`: see build.rs.)
    #[cfg(capa_tokens)]
    Token { scheme: u8, request: HttpRequest },
    /// Sign `input` (a JWT's header and claims) with `key` (PKCS#8 DER, base64) by `alg`, hand
    /// the signature to [`crate::token::signed`], then begin again.
    #[cfg(capa_tokens)]
    Sign { scheme: u8, alg: &'static str, key: Secret, input: String },
    /// Another call is obtaining scheme `scheme`'s token: wait for it, then begin again.
    #[cfg(capa_tokens)]
    Wait { scheme: u8 },
    /// Ask the Durable Object for scheme `scheme`'s token first, sealed with `key` and `aad`
    /// ([`crate::token::shared`]), then hand it to [`crate::token::shared::adopt`].
    #[cfg(capa_tokens)]
    Take { scheme: u8, key: Secret, aad: String },
    /// The upstream refused the call's token: drop it ([`Tokens::invalidate`] with
    /// `generation`), then begin the call again with [`Resume::after_401`].
    #[cfg(capa_tokens)]
    Refresh { scheme: u8, generation: u32 },
    /// The call is over.
    Done(Envelope),
}

/// A call in flight.
#[derive(Debug)]
pub struct Call {
    provider: &'static Provider,
    op_index: usize,
    request: HttpRequest,
    redactor: Redactor,
    credential: CredentialUse,
    started_ms: f64,
    attempts: u32,
    /// The deployment's token it sent: `(scheme, generation, obtained_at)`.
    #[cfg_attr(not(capa_tokens), allow(dead_code))]
    token: Option<(u8, u32, f64)>,
    resume: Resume,
}

impl Call {
    /// The request to send now.
    pub fn request(&self) -> &HttpRequest {
        &self.request
    }

    /// The request to send now, as the JS entry's `fetch` wants it (with the credentials to scan
    /// the response for): see [`HttpRequest::push_fetch_json`].
    pub fn push_fetch_json(&self, out: &mut String) {
        self.request.push_fetch_json(out, &self.redactor);
        // The credential it carries, for the entry's answer should the runtime lose the call
        // after sending it ([`lost`]).
        out.pop();
        out.push_str(",\"");
        out.push_str(self.credential.as_str());
        out.push_str("\"]");
    }

    /// When the call began (ms since the epoch).
    pub fn started_ms(&self) -> f64 {
        self.started_ms
    }

    /// The upstream answered.
    pub fn finish(mut self, response: &HttpResponse<'_>, now_ms: f64) -> Step {
        // The deployment's token refused: once, drop it and begin again; a fresh one refused
        // is the end (see `crate::token`).
        #[cfg(capa_tokens)]
        {
            let scheme_of = |call: &Call| call.provider.scheme(&call.provider.operations[call.op_index]);
            let ended = self.token.and_then(|t| Some((t, crate::token::ended(scheme_of(&self), response, &self.redactor)?)));
            if let Some(((scheme, generation, obtained_at), stage)) = ended {
                if !self.resume.after_401 && now_ms - obtained_at >= FRESH_TOKEN_MS {
                    return Step::Refresh { scheme, generation };
                }
                let why = match stage {
                    AuthStage::Login => "the login wall is still there after a fresh login",
                    _ => "the upstream refused freshly obtained credentials",
                };
                // The provider's own word on why (its error object, redacted), as an
                // upstream_error would carry it; a login wall's page is none.
                let upstream = match (stage, response::judge(self.provider, &self.request.url, false, response, &self.redactor, 0)) {
                    (AuthStage::Upstream, Outcome::Error(e)) => e.upstream().cloned(),
                    _ => None,
                };
                let error = CallError::AuthFailed {
                    capability: self.provider.capability,
                    stage,
                    status: Some(response.status),
                    why,
                    check: crate::token::check(scheme_of(&self)),
                    upstream,
                };
                let mut receipt = self.receipt(Some(response.status), response.request_id);
                receipt.close(self.started_ms, now_ms, false);
                return Step::Done(Envelope::Complete(receipt::fail(&error, &self.redactor, &receipt)));
            }
        }
        let post = self.request.method == Method::Post;
        let outcome = response::judge(self.provider, &self.request.url, post, response, &self.redactor, self.attempts - 1);
        if let Outcome::Follow { url, as_get } = outcome {
            self.request.url = url;
            if as_get {
                self.request.method = Method::Get;
                self.request.body = None;
                self.request.headers.retain(|(name, _)| *name != "content-type");
            }
            self.attempts += 1;
            return Step::Fetch(self);
        }
        let mut receipt = self.receipt(Some(response.status), response.request_id);
        receipt.close(self.started_ms, now_ms, !matches!(outcome, Outcome::Error(_)));
        Step::Done(match outcome {
            Outcome::Null => Envelope::Complete(receipt::ok("null", &receipt)),
            Outcome::Body(attach) => {
                // A JSON body the entry may yet find does not parse: what its message may say.
                let media_type = (attach == receipt::Attach::Json).then(|| response::printable_type(response.content_type.unwrap_or(""), &self.redactor));
                Envelope::AttachBody { attach, receipt: receipt::values(&receipt, media_type.as_deref()) }
            }
            Outcome::Redacted { json_text } => Envelope::Complete(receipt::ok(&json_text, &receipt)),
            Outcome::Error(error) => Envelope::Complete(receipt::fail(&error, &self.redactor, &receipt)),
            Outcome::Follow { .. } => unreachable!("redirects return above"),
        })
    }

    /// `fetch` itself failed: DNS, connection refused, reset. `message` is the runtime's.
    pub fn unreachable(self, message: &str, now_ms: f64) -> Envelope {
        let mut receipt = self.receipt(None, None);
        receipt.close(self.started_ms, now_ms, false);
        Envelope::Complete(receipt::fail(&CallError::Unreachable(message.to_owned()), &self.redactor, &receipt))
    }

    fn receipt<'r>(&'r self, status: Option<u16>, request_id: Option<&'r str>) -> Receipt<'r> {
        let op = &self.provider.operations[self.op_index];
        let mut receipt = Receipt::new(self.provider, op, self.started_ms);
        receipt.status = status;
        receipt.request_id = request_id.and_then(|id| self.redactor.redact_receipt(id));
        receipt.attempts = self.attempts;
        receipt.credential = self.credential.as_str();
        receipt.refreshed = refreshed(self.resume, self.token.is_some());
        receipt
    }
}

/// The receipt's `refreshed`: the call holds a deployment token (`holds`) that arrived since it
/// began (it obtained or waited for one, or its refused one was replaced). A round that waited
/// for an exchange that failed obtained nothing, whatever its flags say.
fn refreshed(resume: Resume, holds: bool) -> bool {
    holds && (resume.obtained || resume.after_401)
}

/// The envelope for a call whose request went out and which a fault then lost (its own panic
/// after the request, or another call's that replaced the instance holding it):
/// `upstream_outcome_unknown`, with a receipt saying what went out, as the entry saw it —
/// `attempts` requests, the last answered `status` (0: none), sent with `credential` (the word
/// the request named; anything else is `none`), after rounds `flags` ([`Resume::from_flags`]).
/// What came back is not judged: the call's redactor may be gone, so nothing of it is shown.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn lost(provider: &'static Provider, op_index: u32, now_ms: f64, started_ms: f64, attempts: u32, status: u16, credential: &str, flags: u32) -> String {
    let Some(op) = provider.operations.get(op_index as usize) else { return internal(provider, op_index, now_ms) };
    let status = (status != 0).then_some(status);
    let error = CallError::OutcomeUnknown { status };
    let mut receipt = Receipt::new(provider, op, started_ms);
    receipt.status = status;
    receipt.attempts = attempts.max(1);
    receipt.credential = CredentialUse::ALL.iter().map(|c| c.as_str()).find(|c| *c == credential).unwrap_or(CredentialUse::None.as_str());
    let resume = Resume::from_flags(flags, started_ms);
    receipt.refreshed = resume.obtained || resume.after_401;
    receipt.close(started_ms, now_ms, false);
    receipt::fail(&error, &Redactor::default(), &receipt)
}

/// The envelope for a fault inside the runtime before any request went out (a panic):
/// `internal`, with a receipt naming the operation when it is known. The details are in the
/// Worker's log, not here.
#[cold]
#[inline(never)]
pub fn internal(provider: &'static Provider, op_index: u32, now_ms: f64) -> String {
    let error = CallError::Internal("the Worker's log has details");
    match provider.operations.get(op_index as usize) {
        Some(op) => {
            let mut receipt = Receipt::new(provider, op, now_ms);
            receipt.close(now_ms, now_ms, false);
            receipt::fail(&error, &Redactor::default(), &receipt)
        }
        None => format!(
            r#"{{"ok":false,"error":{{"code":"internal","message":"{error}"}},"receipt":{{"capability":"{}","startedAt":"{}","verdict":"fail"}}}}"#,
            provider.capability,
            receipt::iso8601(now_ms)
        ),
    }
}
