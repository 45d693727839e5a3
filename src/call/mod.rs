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
use crate::receipt::{self, CredentialUse, Envelope, Receipt, Try};
use crate::redact::Redactor;
use crate::response::{self, Outcome};
use crate::retry::{self, Decision, Ending, Policy};
#[cfg(capa_tokens)]
use crate::secret::Secret;
use crate::table::{Method, Provider};
use crate::token::Tokens;
use std::rc::Rc;

mod round;
mod walk;

#[cfg(capa_tokens)]
pub use round::obtaining;
pub use round::{begin, begin_again, begin_held, begin_round, Round, ATTEMPT_MS_VAR, BODY_LIMIT_VAR, NATIVE_CALL_ID, WAIT_SCALE_VAR};

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

    /// Whether the deployment binds a call budget ([`crate::budget::BINDING`]), and if so whether
    /// it can key credentials ([`crate::budget::KEY_VAR`] is set); `None`: no budget.
    fn budget(&self) -> Option<bool> {
        None
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
    /// What became of its call budget's unit ([`crate::budget`]'s flags; 0: not asked yet).
    pub budget: u32,
}

impl Resume {
    /// From the entry's flags (bit 0 [`Resume::obtained`], bit 1 [`Resume::after_401`], bits 2–4
    /// [`Resume::budget`]) and the call's first round's time.
    pub fn from_flags(flags: u32, started_ms: f64) -> Self {
        let budget = flags & (crate::budget::SPENT | crate::budget::REFUSED | crate::budget::FAILED);
        Resume { obtained: flags & 1 != 0, after_401: flags & 2 != 0, started_ms: (flags != 0).then_some(started_ms), budget }
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
    /// `generation`), then begin the call again with [`Resume::after_401`], handing back
    /// `tries` (the JSON of the tries so far) as the next round's `earlier`.
    #[cfg(capa_tokens)]
    Refresh { scheme: u8, generation: u32, tries: String },
    /// Wait `wait_ms` before the call's next attempt (a retry: [`crate::retry`]), then
    /// [`Call::resume`].
    Pause { call: Call, wait_ms: u64 },
    /// Spend a unit of the call budget this keys ([`crate::budget`]), then begin again with the
    /// outcome's flag.
    Budget(crate::budget::Ask),
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
    /// The deployment's token it sent: `(scheme, generation, obtained_at)`.
    #[cfg_attr(not(capa_tokens), allow(dead_code))]
    token: Option<(u8, u32, f64)>,
    resume: Resume,
    /// The entry's id for the call (its receipt's `callId`, its jitter, its default key).
    call_id: String,
    /// The key its POST or PATCH carries, on every attempt.
    idempotency_key: Option<String>,
    policy: Policy,
    /// What waits are multiplied by ([`WAIT_SCALE_VAR`]; 1 outside tests).
    wait_scale: f64,
    /// How long an attempt may take ([`retry::ATTEMPT_MS`]; [`ATTEMPT_MS_VAR`] in tests).
    attempt_ms: u64,
    /// The most bytes a response may hold (the manifest's `upstream.max_body_bytes`;
    /// [`BODY_LIMIT_VAR`] in tests).
    max_body: u64,
    /// Retries made so far (the token's resend is none).
    retries: u8,
    /// Every request that went out, and how each ended.
    tries: Vec<Try>,
    /// When the request in flight went out, and how long the call waited before it.
    sent_ms: f64,
    waited_ms: u64,
    /// The walk of pages `options.pages` asked for ([`crate::pages`]); `None` on the plain path.
    paged: Option<Box<walk::Paged>>,
}

/// Tries an `R` step handed back ([`Step::Refresh`]), as [`Try::push_json`] wrote them.
fn earlier_tries(text: &str) -> Vec<Try> {
    let Ok(crate::value::Value::Array(items)) = crate::parse::parse(text) else { return Vec::new() };
    let number = |v: Option<&crate::value::Value>| v.and_then(|v| v.scalar_text()).and_then(|t| t.parse::<u64>().ok());
    items
        .iter()
        .map(|item| Try {
            status: number(item.get("status")).and_then(|s| u16::try_from(s).ok()),
            failure: match item.get("failure").and_then(crate::value::Value::as_str) {
                Some("timeout") => Some("timeout"),
                Some(_) => Some("unreachable"),
                None => None,
            },
            ms: number(item.get("ms")).unwrap_or(0),
            waited_ms: number(item.get("waitedMs")).unwrap_or(0),
        })
        .take(retry::MAX_REQUESTS as usize)
        .collect()
}

/// The tries so far, for a token refresh's fresh begin (only token builds refresh).
#[cfg(capa_tokens)]
fn tries_json(tries: &[Try]) -> String {
    let mut out = String::new();
    receipt::push_tries(&mut out, tries);
    out
}

impl Call {
    /// The request to send now.
    pub fn request(&self) -> &HttpRequest {
        &self.request
    }

    /// The request to send now, as the JS entry's `fetch` wants it (with the credentials to scan
    /// the response for): see [`HttpRequest::push_fetch_json`].
    pub fn push_fetch_json(&self, out: &mut String, now_ms: f64) {
        self.request.push_fetch_json(out, &self.redactor);
        // The credential it carries, for the entry's answer should the runtime lose the call
        // after sending it ([`lost`]); and how long this attempt may take.
        out.pop();
        out.push_str(",\"");
        out.push_str(self.credential.as_str());
        out.push_str("\",");
        crate::json::push_u64(out, self.attempt_ms(now_ms), 0);
        out.push(',');
        match &self.paged {
            None => crate::json::push_u64(out, self.max_body, 0),
            // A walk's pages share the limit; and the entry hands each page's `Link` in.
            Some(paged) => {
                crate::json::push_u64(out, self.max_body.saturating_sub(paged.bytes), 0);
                out.push_str(",1");
            }
        }
        out.push(']');
    }

    /// The upstream answered `status` with a body larger than the provider's limit, which the
    /// entry stopped reading: `upstream_too_large`, at `now_ms`. Final: the same request would
    /// bring the same body.
    pub fn too_large(mut self, status: u16, request_id: Option<&str>, now_ms: f64) -> Envelope {
        self.ended(Some(status), None, now_ms);
        let error = CallError::TooLarge { status, limit: self.max_body };
        self.fail(&error, Some(status), request_id, now_ms)
    }

    /// How long an attempt sent at `now_ms` may take: [`retry::ATTEMPT_MS`], or what is left of
    /// the call's deadline (at least 1 ms: the timer needs one).
    fn attempt_ms(&self, now_ms: f64) -> u64 {
        self.attempt_ms.min(self.left_ms(now_ms)).max(1)
    }

    /// What is left of the call's deadline at `now_ms`.
    fn left_ms(&self, now_ms: f64) -> u64 {
        (self.started_ms + self.policy.deadline_ms as f64 - now_ms).max(0.0) as u64
    }

    /// Records how the request in flight ended, at `now_ms`.
    fn ended(&mut self, status: Option<u16>, failure: Option<&'static str>, now_ms: f64) {
        self.tries.push(Try { status, failure, ms: (now_ms - self.sent_ms).max(0.0) as u64, waited_ms: self.waited_ms });
        self.waited_ms = 0;
    }

    /// Requests sent for the page in flight (for a call that walks no pages, for the call): what
    /// [`retry::MAX_REQUESTS`] bounds.
    fn page_requests(&self) -> u32 {
        (self.tries.len() - self.paged.as_ref().map_or(0, |p| p.page_start)) as u32
    }

    /// What the policy decides after an attempt that ended so: a pause before the next, or the
    /// call handed back (it answers). The call moves through by value, as every step's does;
    /// this runs only after a failed attempt, so its size costs the plain path nothing.
    #[allow(clippy::result_large_err)]
    fn retry(mut self, ending: Ending, now_ms: f64) -> Result<Step, Call> {
        let random = retry::jitter(&self.call_id, self.retries + 1);
        let requests = self.page_requests();
        match retry::decide(self.request.method, ending, &self.policy, self.retries, requests, self.left_ms(now_ms), random) {
            Decision::Retry { wait_ms } => {
                self.retries += 1;
                let wait_ms = (wait_ms as f64 * self.wait_scale) as u64;
                self.waited_ms = wait_ms;
                Ok(Step::Pause { call: self, wait_ms })
            }
            Decision::Final => Err(self),
        }
    }

    /// The wait a [`Step::Pause`] asked for is over, at `now_ms`: the next attempt, or the end
    /// of a call whose deadline passed meanwhile.
    pub fn resume(mut self, now_ms: f64) -> Step {
        if self.left_ms(now_ms) == 0 {
            let error = self.timeout(None, now_ms);
            return Step::Done(self.fail(&error, None, None, now_ms));
        }
        self.sent_ms = now_ms;
        Step::Fetch(self)
    }

    /// `upstream_timeout` at `now_ms`, saying which limit ended the call: its deadline, or (its
    /// retries spent or not allowed) its last attempt's time.
    fn timeout(&self, status: Option<u16>, now_ms: f64) -> CallError {
        let n = self.tries.len();
        let why = if self.left_ms(now_ms) == 0 {
            format!("no answer within the call's deadline of {} ms ({n} request(s) sent; the receipt's tries say how each ended)", self.policy.deadline_ms)
        } else {
            format!("no answer within an attempt's {} ms ({n} request(s) sent; the receipt's tries say how each ended)", self.attempt_ms(self.sent_ms))
        };
        CallError::Timeout(why, status)
    }

    /// The failure envelope, at `now_ms`, with the last answer's `status` and request id.
    #[inline(never)]
    fn fail(&self, error: &CallError, status: Option<u16>, request_id: Option<&str>, now_ms: f64) -> Envelope {
        let mut receipt = self.receipt(status, request_id);
        receipt.close(self.started_ms, now_ms, false);
        Envelope::Complete(self.partial(receipt::fail(error, &self.redactor, &receipt)))
    }

    /// A failure envelope of a walk past its first page, with `error.partial`: the items so
    /// far, and the params of the page that failed ([`crate::pages::Walk::partial`]).
    #[inline(never)]
    fn partial(&self, envelope: String) -> String {
        let Some(partial) = self.paged.as_ref().and_then(|p| p.walk.partial(&self.redactor)) else { return envelope };
        // The receipt is the envelope's last member, and no key of it (nor any escaped string
        // before it) spells `,"receipt":`; the error object closes just before.
        match envelope.rfind(",\"receipt\":") {
            Some(at) if at > 0 => {
                let mut out = String::with_capacity(envelope.len() + partial.len() + 12);
                out.push_str(&envelope[..at - 1]);
                out.push_str(",\"partial\":");
                out.push_str(&partial);
                out.push_str(&envelope[at - 1..]);
                out
            }
            _ => envelope,
        }
    }

    /// A page of a walk answered with success: its items join the result, then the next page
    /// or the result.
    #[cold]
    #[inline(never)]
    fn page(mut self, response: &HttpResponse<'_>, now_ms: f64) -> Step {
        let op = &self.provider.operations[self.op_index];
        let text = response.body.text();
        // A page the entry's scan did not flag holds no credential in any view: its items join
        // the result as the text they came in (split one level, checked, not built), as an
        // unflagged body reaches a plain call's caller untouched. A flagged one is read whole
        // and each item redacted.
        let clean = !response.body.flagged(&self.redactor, true);
        let items_member = self.paged.as_ref().map_or("", |p| p.walk.items_member());
        let read = if response.status == 204 || response.body.is_empty() {
            Ok((crate::value::Value::Null, None))
        } else if clean {
            split_page(&text, items_member)
        } else {
            crate::parse::parse(&text).map(|v| (v, None))
        };
        let (body, raw) = match read {
            Ok(read) => read,
            Err(_) => {
                let media = response::printable_type(response.content_type.unwrap_or(""), &self.redactor);
                let error = CallError::invalid_body(response.status, &media, &self.redactor.redact(&text));
                return Step::Done(self.fail(&error, Some(response.status), response.request_id, now_ms));
            }
        };
        // A page starts only while its worst case (every retry, every redirect) still fits in
        // the call's requests.
        let left = crate::pages::MAX_REQUESTS.saturating_sub(self.tries.len() as u32 + retry::MAX_REQUESTS - 1);
        let paged = self.paged.as_mut().expect("a page of a walk");
        paged.bytes += text.len() as u64;
        let turn = paged.walk.page(op, &body, raw.as_deref(), response.link, &self.request.url, left, &self.redactor);
        drop(text);
        match turn {
            Err(error) => Step::Done(self.fail(&error, Some(response.status), response.request_id, now_ms)),
            Ok(crate::pages::Turn::Done(result)) => {
                let mut receipt = self.receipt(Some(response.status), response.request_id);
                receipt.close(self.started_ms, now_ms, true);
                Step::Done(Envelope::Complete(receipt::ok(&result, &receipt)))
            }
            Ok(crate::pages::Turn::Next) => {
                let paged = self.paged.as_mut().expect("a page of a walk");
                match paged.request(self.provider, op) {
                    Ok(request) => {
                        paged.page_start = self.tries.len();
                        self.request = request;
                        self.retries = 0;
                        self.sent_ms = now_ms;
                        Step::Fetch(self)
                    }
                    Err(error) => Step::Done(self.fail(&error, Some(response.status), response.request_id, now_ms)),
                }
            }
        }
    }

    /// When the call began (ms since the epoch).
    pub fn started_ms(&self) -> f64 {
        self.started_ms
    }

    /// The upstream answered.
    pub fn finish(mut self, response: &HttpResponse<'_>, now_ms: f64) -> Step {
        self.ended(Some(response.status), None, now_ms);
        // The deployment's token refused: once, drop it and begin again; a fresh one refused
        // is the end (see `crate::token`).
        #[cfg(capa_tokens)]
        {
            let scheme_of = |call: &Call| call.provider.scheme(&call.provider.operations[call.op_index]);
            let ended = self.token.and_then(|t| Some((t, crate::token::ended(scheme_of(&self), response, &self.redactor)?)));
            if let Some(((scheme, generation, obtained_at), stage)) = ended {
                if !self.resume.after_401 && now_ms - obtained_at >= FRESH_TOKEN_MS {
                    return Step::Refresh { scheme, generation, tries: tries_json(&self.tries) };
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
        if self.paged.is_some() && (200..300).contains(&response.status) {
            return self.page(response, now_ms);
        }
        let post = self.request.method == Method::Post;
        // Redirects followed so far in this chain: the 3xx answers before this one.
        let redirects = (self.tries.iter().rev().take_while(|t| t.status.is_some_and(|s| (300..400).contains(&s))).count() as u32).saturating_sub(1);
        let outcome = response::judge(self.provider, &self.request.url, post, response, &self.redactor, redirects);
        if let Outcome::Follow { url, as_get } = outcome {
            if self.page_requests() >= retry::MAX_REQUESTS {
                let error = CallError::Upstream { status: response.status, message: format!("the call reached its {} upstream requests", retry::MAX_REQUESTS), upstream: None, retry_after_ms: None };
                return Step::Done(self.fail(&error, Some(response.status), response.request_id, now_ms));
            }
            self.request.url = url;
            if as_get {
                self.request.method = Method::Get;
                self.request.body = None;
                self.request.headers.retain(|(name, _)| *name != "content-type");
            }
            self.sent_ms = now_ms;
            return Step::Fetch(self);
        }
        // A transient failure: again, after a wait, if the policy allows.
        if let Outcome::Error(CallError::Upstream { .. }) = &outcome {
            match self.retry(Ending::Answered { status: response.status, hints: response.hints }, now_ms) {
                Ok(pause) => return pause,
                Err(call) => self = call,
            }
        }
        // The answer stands: a wall is `rate_limited`, and the wait the provider named, which
        // the call did not make, goes to the caller.
        let outcome = match outcome {
            Outcome::Error(CallError::Upstream { status, message, upstream, .. }) => {
                let retry_after_ms = response.hints.wait_ms();
                Outcome::Error(if retry::walled(status, &response.hints) {
                    CallError::RateLimited { status, message, upstream, retry_after_ms }
                } else {
                    CallError::Upstream { status, message, upstream, retry_after_ms }
                })
            }
            other => other,
        };
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
            Outcome::Error(error) => Envelope::Complete(self.partial(receipt::fail(&error, &self.redactor, &receipt))),
            Outcome::Follow { .. } => unreachable!("redirects return above"),
        })
    }

    /// `fetch` itself failed (DNS, connection refused, reset: `message` is the runtime's), or
    /// the attempt's time ran out (`timed_out`): again after a wait, if the policy allows; else
    /// the end.
    pub fn unreachable(mut self, message: &str, timed_out: bool, now_ms: f64) -> Step {
        self.ended(None, Some(if timed_out { "timeout" } else { "unreachable" }), now_ms);
        let ending = if timed_out { Ending::TimedOut } else { Ending::Unreachable };
        match self.retry(ending, now_ms) {
            Ok(pause) => pause,
            Err(call) => {
                let error = if timed_out || call.left_ms(now_ms) == 0 { call.timeout(None, now_ms) } else { CallError::Unreachable(message.to_owned()) };
                Step::Done(call.fail(&error, None, None, now_ms))
            }
        }
    }

    #[inline(never)]
    fn receipt<'r>(&'r self, status: Option<u16>, request_id: Option<&'r str>) -> Receipt<'r> {
        let op = &self.provider.operations[self.op_index];
        let mut receipt = Receipt::new(self.provider, op, self.started_ms);
        receipt.status = status;
        receipt.request_id = request_id.and_then(|id| self.redactor.redact_receipt(id));
        receipt.attempts = self.tries.len() as u32;
        receipt.tries = &self.tries;
        receipt.call_id = &self.call_id;
        receipt.idempotency_key = self.idempotency_key.as_deref();
        receipt.credential = self.credential.as_str();
        receipt.refreshed = refreshed(self.resume, self.token.is_some());
        receipt.pages = self.paged.as_ref().map(|p| p.walk.pages());
        receipt
    }
}

/// The receipt's `refreshed`: the call holds a deployment token (`holds`) that arrived since it
/// began (it obtained or waited for one, or its refused one was replaced). A round that waited
/// for an exchange that failed obtained nothing, whatever its flags say.
fn refreshed(resume: Resume, holds: bool) -> bool {
    holds && (resume.obtained || resume.after_401)
}

/// An unflagged page split for its walk: the answer's members but the items built (they are
/// few and small: `has_more`, a cursor, a total), and the items as their text; `items` names
/// their member (`""`: the answer is the array).
fn split_page<'t>(text: &'t str, items: &str) -> Result<(crate::value::Value, Option<Vec<&'t str>>), crate::parse::ParseError> {
    use crate::parse::{shallow, Shallow};
    use crate::value::Value;
    match shallow(text)? {
        Shallow::Array(raw) if items.is_empty() => Ok((Value::Null, Some(raw))),
        Shallow::Object(members) if !items.is_empty() => {
            let mut rest = Vec::with_capacity(members.len());
            let mut raw = None;
            for (name, value) in members {
                // Only the items' member is split again; the others are read once, whole.
                if name == items {
                    if let Shallow::Array(list) = shallow(value)? {
                        raw = Some(list);
                        continue;
                    }
                }
                rest.push((name, crate::parse::parse(value)?));
            }
            // No array at `items`: the answer as read, which the walk refuses naming it.
            Ok((Value::Object(rest), raw))
        }
        // Not the shape the walk reads: read whole, for the walk to refuse.
        _ => crate::parse::parse(text).map(|v| (v, None)),
    }
}

/// The envelope for a call whose request went out and which a fault then lost (its own panic
/// after the request, or another call's that replaced the instance holding it):
/// `upstream_outcome_unknown`, with a receipt saying what went out, as the entry saw it —
/// `attempts` requests, the last answered `status` (0: none), sent with `credential` (the word
/// the request named; anything else is `none`), after rounds `flags` ([`Resume::from_flags`]);
/// `call_id` the entry's id for it.
/// What came back is not judged: the call's redactor may be gone, so nothing of it is shown.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn lost(provider: &'static Provider, op_index: u32, now_ms: f64, started_ms: f64, attempts: u32, status: u16, credential: &str, flags: u32, call_id: &str) -> String {
    let Some(op) = provider.operations.get(op_index as usize) else { return internal(provider, op_index, now_ms, call_id) };
    let status = (status != 0).then_some(status);
    let error = CallError::OutcomeUnknown { status };
    let mut receipt = Receipt::new(provider, op, started_ms);
    receipt.status = status;
    receipt.attempts = attempts.clamp(1, retry::MAX_REQUESTS);
    // What the entry saw: that many requests went out, the last answered `status`.
    let tries: Vec<Try> = (0..receipt.attempts)
        .map(|i| Try { status: if i + 1 == receipt.attempts { status } else { None }, failure: None, ms: 0, waited_ms: 0 })
        .collect();
    receipt.tries = &tries;
    receipt.call_id = call_id;
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
pub fn internal(provider: &'static Provider, op_index: u32, now_ms: f64, call_id: &str) -> String {
    let error = CallError::Internal("the Worker's log has details");
    match provider.operations.get(op_index as usize) {
        Some(op) => {
            let mut receipt = Receipt::new(provider, op, now_ms);
            receipt.call_id = call_id;
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
