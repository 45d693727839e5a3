//! One call, as a state machine that never touches the network.
//!
//! [`begin_round`] turns a [`Round`] (the operation, its arguments, what the caller holds, what
//! earlier rounds did, the time) and the Worker's [`Bindings`] into either a finished envelope
//! (the call was refused), a step to take first (a token), or a [`Call`] plus the request to
//! send ([`begin`] and its kin make the round for native callers). The JS entry sends it and
//! reports the response to [`Call::finish`], which answers with the envelope or with the next
//! request (a same-origin redirect). A network failure goes to [`Call::unreachable`].
//!
//! Keeping I/O out of Rust has three payoffs. Every step is a synchronous wasm call, so a panic
//! surfaces as an exception in the JS entry, which still answers with an envelope, instead of
//! stranding a promise inside the wasm executor. The awaits are the runtime's own, with no
//! future/closure glue per call. And the whole flow — arguments to envelope — is tested natively
//! with `cargo test`, no Worker needed.

use crate::args;
use crate::error::CallError;
use crate::receipt::{self, CredentialUse, Envelope, Receipt};
use crate::auth::WorkerSecrets;
use crate::http::{HttpRequest, HttpResponse};
use crate::request::{self, Config};
use crate::token::Tokens;
#[cfg(capa_tokens)]
use crate::{
    error::AuthStage,
    http::HeaderValue,
    secret::Secret,
    table::{AuthScheme, AuthUse, Scheme},
    token::Need,
};
use crate::response::{self, Outcome};
use crate::redact::Redactor;
use crate::table::{Method, Provider};
use std::rc::Rc;

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

/// What the first round of a call comes to.
enum Next {
    Send(HttpRequest, CredentialUse),
    #[cfg(capa_tokens)]
    Token(HttpRequest),
    #[cfg(capa_tokens)]
    Sign { alg: &'static str, key: Secret, input: String },
    #[cfg(capa_tokens)]
    Wait,
    #[cfg(capa_tokens)]
    Take { key: Secret, aad: String },
}

/// The first step of obtaining `scheme`'s token, this call being the flight: the exchange of
/// the client's credentials, or the signature of a service account's JWT.
#[cold]
#[cfg(capa_tokens)]
fn first_step(scheme: &'static Scheme, index: u8, secrets: &Rc<WorkerSecrets>, origin_override: Option<&str>, now_ms: f64) -> Next {
    // What the deployment prepared for it (the key to sign with, the login body), copied for the
    // step that carries it out.
    let prepared = || Secret::new(secrets.scheme(index).map_or("", |s| s.wire.expose()).to_owned());
    match scheme.auth {
        AuthScheme::ServiceAccount(grant) => Next::Sign { alg: grant.alg.as_str(), key: prepared(), input: crate::token::signing_input(grant, now_ms) },
        AuthScheme::ClientCredentials(exchange) => {
            let client = HeaderValue::WorkerKey(Rc::clone(secrets), index);
            Next::Token(crate::token::exchange_request(exchange, client, origin_override))
        }
        AuthScheme::Session(login) => Next::Token(crate::token::login_request(login, prepared(), origin_override)),
        _ => unreachable!("only token schemes have a first step"),
    }
}

/// The first step of obtaining scheme `index`'s token when the Durable Object had none to
/// give ([`crate::token::shared::adopt`]): as [`first_step`].
#[cfg(capa_tokens)]
pub fn obtaining(provider: &'static Provider, index: u8, secrets: &Rc<WorkerSecrets>, origin_override: Option<&str>, now_ms: f64) -> Option<Step> {
    let scheme = provider.schemes.get(usize::from(index))?;
    if !matches!(scheme.auth, AuthScheme::ClientCredentials(_) | AuthScheme::ServiceAccount(_) | AuthScheme::Session(_)) {
        return None;
    }
    Some(match first_step(scheme, index, secrets, origin_override, now_ms) {
        Next::Token(request) => Step::Token { scheme: index, request },
        Next::Sign { alg, key, input } => Step::Sign { scheme: index, alg, key, input },
        _ => return None,
    })
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

/// The credentials a call's arguments carry (`auth.apiKey`, `password`, secret headers) into
/// `redactor`, and its basic user name as context (out of receipts).
fn add_call_credentials(redactor: &mut Redactor, values: &[crate::value::Value], secret_headers: &[&str]) {
    for value in args::credential_strings(values, secret_headers) {
        redactor.add(value);
    }
    if let Some(user) = args::call_username(values) {
        redactor.add_context(user);
    }
}

/// One round of a call, as the entry begins it: everything [`begin_round`] reads of the call
/// but the Worker's bindings, which come as the [`Bindings`] read once per `env`. The wasm entry
/// makes one from `capa_begin`'s arguments per round (`src/wasm.rs`); [`begin`], [`begin_again`]
/// and [`begin_held`] make them for native callers.
///
/// | field | what it is | on a call's first round, plain path |
/// |---|---|---|
/// | `op` | the operation: its index in the provider's table | |
/// | `args` | the JSON text of the call's argument array (`\u{1}` first: it names binary arguments the entry keeps, [`crate::body`]) | |
/// | `grant` | what the caller holds: its binding's props or its session, as [`crate::grant`] made it | `None` |
/// | `resume` | what the call's earlier rounds did, and when its first began ([`Resume`]) | `Resume::default()` |
/// | `now_ms` | when this round begins (ms since the epoch) | |
///
/// The first three are the call's and the same every round; the last two change as it goes
/// (a round that obtained a token, or whose token the upstream refused, begins it again).
#[derive(Debug, Clone, Copy)]
pub struct Round<'a> {
    pub op: u32,
    pub args: &'a str,
    pub grant: Option<&'a str>,
    pub resume: Resume,
    pub now_ms: f64,
}

/// Starts a call to operation `op_index` with `args_json`, the JSON array of the call's arguments.
pub fn begin(provider: &'static Provider, op_index: u32, args_json: &str, bindings: &dyn Bindings, now_ms: f64) -> Step {
    begin_again(provider, op_index, args_json, bindings, now_ms, Resume::default())
}

/// [`begin`], for a call beginning again after a step its earlier round asked for.
pub fn begin_again(provider: &'static Provider, op_index: u32, args_json: &str, bindings: &dyn Bindings, now_ms: f64, resume: Resume) -> Step {
    begin_held(provider, op_index, args_json, bindings, now_ms, resume, None)
}

/// [`begin_again`] for a call made through what its caller holds: `grant`, the text of its
/// binding's props or its session ([`crate::grant`]); `None`, the plain path.
pub fn begin_held(provider: &'static Provider, op_index: u32, args_json: &str, bindings: &dyn Bindings, now_ms: f64, resume: Resume, grant: Option<&str>) -> Step {
    begin_round(provider, Round { op: op_index, args: args_json, grant, resume, now_ms }, bindings)
}

/// Begins `round` of a call to one of `provider`'s operations, with the Worker's `bindings`:
/// the request to send, a step its scheme's token needs first (an exchange, a signature, a
/// wait, the Durable Object's copy), or the envelope of a call refused.
pub fn begin_round(provider: &'static Provider, round: Round<'_>, bindings: &dyn Bindings) -> Step {
    let Round { op: op_index, args: args_json, grant, resume, now_ms } = round;
    let Some(op) = provider.operations.get(op_index as usize) else {
        // Only the generated entry calls in, with indices from the same table.
        return Step::Done(Envelope::Complete(internal(provider, op_index, now_ms)));
    };
    let secrets = bindings.worker_secrets(provider);
    let mut redactor = Redactor::with_shared(secrets.credentials());
    #[cfg_attr(not(capa_tokens), allow(unused_mut))]
    let mut token = None;

    let result = (|| {
        if let Some(fault) = bindings.get(FAULT_VAR) {
            if fault.strip_prefix("panic:") == Some(op.call) {
                injected_panic(op.call);
            }
        }
        // Outside the rights: refused before its arguments are read, with no request.
        if let Some(refusal) = bindings.rights().refusal(provider, op) {
            return Err(refusal);
        }
        let held = grant.map(crate::grant::Held::read).transpose()?;
        if let Some(refusal) = held.as_ref().and_then(|h| h.refusal(provider, op, op_index as usize)) {
            return Err(refusal);
        }
        let session = held.as_ref().map(crate::grant::Held::options).transpose()?.flatten();
        // A session's credentials are the call's own, redacted like them.
        if let Some(options) = &session {
            add_call_credentials(&mut redactor, std::slice::from_ref(options), provider.secret_call_headers);
        }
        let values = args::parse(args_json)?;
        // The call's own credentials join the Worker secret's (already in the redactor) before
        // anything is judged: a call refused for a malformed option must not echo a key it
        // carried elsewhere in the same options.
        add_call_credentials(&mut redactor, &values, provider.secret_call_headers);
        // A basic pair's user name, the Worker's: context, out of receipts.
        for user in &secrets.identifiers {
            redactor.add_context(user.expose());
        }
        let bound_headers: Vec<(&'static str, &str)> =
            provider.bound_headers.iter().filter_map(|&(header, binding)| Some((header, bindings.get(binding).filter(|v| !v.is_empty())?))).collect();
        // Deployment context values (a Client-Id) stay out of receipts like per-call ones.
        for (_, value) in &bound_headers {
            redactor.add_context(value);
        }
        #[cfg_attr(not(capa_tokens), allow(unused_mut))]
        let mut config = Config {
            secrets,
            origin_override: bindings.origin_override(),
            bound_headers,
            store_backed: crate::auth::handles(provider).filter(|n| bindings.in_store(n)).collect(),
            token: None,
        };
        let mut args = match &session {
            None => args::split(op, provider.call_headers, values)?,
            Some(options) => args::split_in_session(op, provider.call_headers, values, options)?,
        };
        args.binaries = args_json.starts_with('\u{1}');
        // Context headers (Stripe-Account) are no credentials, but the receipt carries none of
        // them either, even when the upstream puts one in its request id.
        for (name, value) in &args.options.headers {
            if !provider.secret_call_headers.contains(name) {
                redactor.add_context(value.expose());
            }
        }
        // A scheme that exchanges the deployment's credentials for a token: the cached token,
        // or the exchange first. A per-call key is a ready token and needs none.
        #[cfg(capa_tokens)]
        let scheme = provider.scheme(op);
        // (`capa_tokens`: only in builds whose table has such a scheme; see build.rs.)
        #[cfg(capa_tokens)]
        if matches!(scheme.auth, AuthScheme::ClientCredentials(_) | AuthScheme::ServiceAccount(_) | AuthScheme::Session(_))
            && op.auth != AuthUse::Never
            && args.options.api_key.is_none()
        {
            let sendable = config.secrets.scheme(op.scheme).is_some_and(|s| s.refusal(provider, scheme).is_none());
            // Checked before the cache is asked: a flight begun here must be flown.
            let shared = if sendable { bindings.sharing().key(provider.capability)? } else { None };
            if sendable {
                match bindings.tokens().map(|t| t.need(op.scheme, now_ms)) {
                    Some(Need::Ready { wire, credentials, generation, obtained_at }) => {
                        redactor.share_token(credentials);
                        // A soft login wall's marker: the entry's scan then flags a page holding
                        // it, and `finish` reads it (see `crate::token`).
                        if let AuthScheme::Session(login) = scheme.auth {
                            redactor.watch(login.wall_marker);
                        }
                        config.token = Some(wire);
                        token = Some((op.scheme, generation, obtained_at));
                    }
                    // The Durable Object's token first, unless the upstream just refused the
                    // one this isolate had (perhaps the object's): then a fresh one replaces it.
                    Some(Need::Fetch) => {
                        if let Some(key) = shared.filter(|_| !resume.after_401) {
                            let aad = crate::token::shared::aad(provider, op.scheme, &config.secrets);
                            return Ok(Next::Take { key: Secret::new(key.expose().to_owned()), aad });
                        }
                        return Ok(first_step(scheme, op.scheme, &config.secrets, config.origin_override.as_deref(), now_ms));
                    }
                    Some(Need::Wait) => return Ok(Next::Wait),
                    Some(Need::Failed(failure)) => return Err(failure.error(provider.capability, crate::token::check(scheme))),
                    None => return Err(CallError::Internal("this runtime keeps no tokens")),
                }
            }
        }
        // A call that sends no cached token (its own key, a public operation) must not echo one
        // either: the upstream knows the deployment's token, and no result is a place for it.
        #[cfg(capa_tokens)]
        if config.token.is_none() {
            if let Some(cached) = bindings.tokens().and_then(|t| t.cached(op.scheme)) {
                redactor.share_token(cached);
            }
        }
        let (request, credential) = request::build(provider, op, args, config)?;
        Ok(Next::Send(request, credential))
    })();

    let started_ms = resume.started_ms.unwrap_or(now_ms);
    match result {
        Ok(Next::Send(request, credential)) => Step::Fetch(Call {
            provider,
            op_index: op_index as usize,
            request,
            redactor,
            credential,
            started_ms,
            attempts: 1 + u32::from(resume.after_401),
            token,
            resume,
        }),
        #[cfg(capa_tokens)]
        Ok(Next::Token(request)) => Step::Token { scheme: op.scheme, request },
        #[cfg(capa_tokens)]
        Ok(Next::Sign { alg, key, input }) => Step::Sign { scheme: op.scheme, alg, key, input },
        #[cfg(capa_tokens)]
        Ok(Next::Wait) => Step::Wait { scheme: op.scheme },
        #[cfg(capa_tokens)]
        Ok(Next::Take { key, aad }) => Step::Take { scheme: op.scheme, key, aad },
        Err(error) => {
            let mut receipt = Receipt::new(provider, op, started_ms);
            // A second round's refusal still made the first round's attempt.
            receipt.attempts = u32::from(resume.after_401);
            receipt.refreshed = refreshed(resume, token.is_some());
            receipt.close(started_ms, now_ms, false);
            Step::Done(Envelope::Complete(receipt::fail(&error, &redactor, &receipt)))
        }
    }
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

#[cold]
#[inline(never)]
fn injected_panic(call: &str) -> ! {
    panic!("fault injection: {FAULT_VAR} asked {call} to panic");
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
