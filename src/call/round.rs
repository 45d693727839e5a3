//! A round's beginning: from the entry's [`Round`] and the Worker's [`Bindings`] to the request
//! to send (a [`Call`] in flight), a step the scheme's token needs first, or the envelope of a
//! call refused.
//!
//! Everything a call is refused for is decided here, before any request exists, in this order:
//! fault injection, the deployment's rights, what the caller holds (its grant), the arguments,
//! the scheme's token (cached, or this call's flight to obtain it), then the request itself
//! ([`crate::request::build`]). The credentials a call carries join its redactor before
//! anything is judged, so no refusal can echo one. What happens after the request goes out is
//! the parent module's ([`Call::finish`]).

use super::walk::Paged;
use super::{internal, refreshed, Bindings, Call, Resume, Step, FAULT_VAR};
use crate::args;
use crate::http::HttpRequest;
use crate::receipt::{self, CredentialUse, Envelope, Receipt};
use crate::redact::Redactor;
use crate::request::{self, Config};
use crate::retry::Policy;
use crate::error::CallError;
use crate::table::{Method, Operation, Provider};
#[cfg(capa_tokens)]
use crate::{
    auth::WorkerSecrets,
    http::HeaderValue,
    secret::Secret,
    table::{AuthScheme, AuthUse, Scheme},
    token::Need,
};
#[cfg(capa_tokens)]
use std::rc::Rc;

/// One round of a call, as the entry begins it: everything [`begin_round`] reads of the call
/// but the Worker's bindings, which come as the [`Bindings`] read once per `env`. The wasm entry
/// makes one from `capa_begin`'s arguments per round (`src/wasm/mod.rs`); [`begin`],
/// [`begin_again`] and [`begin_held`] make them for native callers.
///
/// | field | what it is | on a call's first round, plain path |
/// |---|---|---|
/// | `op` | the operation: its index in the provider's table | |
/// | `args` | the JSON text of the call's argument array (`\u{1}` first: it names binary arguments the entry keeps, [`crate::body`]) | |
/// | `grant` | what the caller holds: its binding's props or its session, as [`crate::grant`] made it | `None` |
/// | `call_id` | the call's id, a UUID v4 the entry made ([`crate::receipt::Receipt::call_id`]) | |
/// | `resume` | what the call's earlier rounds did, and when its first began ([`Resume`]) | `Resume::default()` |
/// | `earlier` | the tries of an earlier round whose token the upstream refused (an `R` step's) | `None` |
/// | `now_ms` | when this round begins (ms since the epoch) | |
///
/// The first four are the call's and the same every round; the rest change as it goes (a round
/// that obtained a token, or whose token the upstream refused, begins it again).
#[derive(Debug, Clone, Copy)]
pub struct Round<'a> {
    pub op: u32,
    pub args: &'a str,
    pub grant: Option<&'a str>,
    pub call_id: &'a str,
    pub resume: Resume,
    pub earlier: Option<&'a str>,
    pub now_ms: f64,
}

/// The id native callers' rounds get ([`begin`] and its kin): the entry makes a fresh one per call.
pub const NATIVE_CALL_ID: &str = "00000000-0000-4000-8000-000000000000";

/// Worker variable scaling every wait a call makes between attempts (`0.01`: a hundredth), for
/// tests that retry without sleeping seconds; honoured only with a loopback origin
/// ([`super::ORIGIN_OVERRIDE_VAR`]), so a deployment cannot set it.
pub const WAIT_SCALE_VAR: &str = "CAPA_LOOPBACK_WAIT_SCALE";

/// Worker variable replacing how long an attempt may take ([`crate::retry::ATTEMPT_MS`], in ms),
/// for tests of an upstream that never answers; honoured only with a loopback origin.
pub const ATTEMPT_MS_VAR: &str = "CAPA_LOOPBACK_ATTEMPT_MS";

/// Worker variable lowering the response size limit (bytes, at most the manifest's
/// `upstream.max_body_bytes`), so that the security suite's randomized run sends bodies over it
/// by the hundred without sending 10 MiB each; honoured only with a loopback origin.
pub const BODY_LIMIT_VAR: &str = "CAPA_LOOPBACK_BODY_LIMIT";

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
    begin_round(provider, Round { op: op_index, args: args_json, grant, call_id: NATIVE_CALL_ID, resume, earlier: None, now_ms }, bindings)
}

/// Begins `round` of a call to one of `provider`'s operations, with the Worker's `bindings`:
/// the request to send, a step its scheme's token needs first (an exchange, a signature, a
/// wait, the Durable Object's copy), or the envelope of a call refused.
pub fn begin_round(provider: &'static Provider, round: Round<'_>, bindings: &dyn Bindings) -> Step {
    let Round { op: op_index, args: args_json, grant, call_id, resume, earlier, now_ms } = round;
    let earlier = earlier.map(super::earlier_tries).unwrap_or_default();
    let Some(op) = provider.operations.get(op_index as usize) else {
        // Only the generated entry calls in, with indices from the same table.
        return Step::Done(Envelope::Complete(internal(provider, op_index, now_ms, call_id)));
    };
    let secrets = bindings.worker_secrets(provider);
    let mut redactor = Redactor::with_shared(secrets.credentials());
    // A soft error's member: the entry's scan flags a body that may hold it (`crate::soft`;
    // only builds whose table has the rule).
    #[cfg(capa_soft)]
    if let Some(soft) = provider.upstream.soft_error {
        redactor.watch(soft.marker);
    }
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
        let (held, session) = match grant {
            None => (None, None),
            Some(grant) => held(provider, op, op_index, grant, &mut redactor)?,
        };
        let values = args::parse(args_json)?;
        // What keys a call budget's bucket when the props name no one: the call's own credential
        // (or its session's), only when the deployment can key it (`crate::budget`).
        let budget_credential = match bindings.budget() {
            Some(true) if resume.budget == 0 && held.as_ref().is_none_or(|h| h.who.is_empty()) => {
                crate::budget::credential_text(session.as_ref().map_or(values.as_slice(), std::slice::from_ref), provider.secret_call_headers)
            }
            _ => None,
        };
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
        let mut args = match &session {
            None => args::split(op, provider.call_headers, values)?,
            Some(options) => args::split_in_session(op, provider.call_headers, values, options)?,
        };
        // Robustness (`crate::retry`): a POST or PATCH to a provider that takes an idempotency
        // key carries one, the caller's or else the call's own id, on every attempt.
        if args.options.idempotency_key.is_some() && provider.upstream.idempotency_header.is_none() {
            return Err(crate::error::CallError::invalid(format!(
                "{} takes no idempotency key (options.idempotencyKey): its POST and PATCH requests are never sent twice",
                provider.capability
            )));
        }
        let keyed = provider.upstream.idempotency_header.is_some() && matches!(op.method, Method::Post | Method::Patch);
        let idempotency_key = keyed.then(|| args.options.idempotency_key.take().unwrap_or_else(|| call_id.to_owned()));
        let origin_override = bindings.origin_override();
        let wait_scale = bindings
            .get(WAIT_SCALE_VAR)
            .filter(|_| origin_override.is_some())
            .and_then(crate::retry::decimal)
            .filter(|v| *v > 0.0 && *v <= 1.0)
            .unwrap_or(1.0);
        // A test var only lowers a limit, to a whole number from 1 to it, and only with a
        // loopback origin; otherwise the limit stands.
        let lowered = |name: &str, limit: u64| {
            bindings
                .get(name)
                .filter(|_| origin_override.is_some())
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|v| (1..=limit).contains(v))
                .unwrap_or(limit)
        };
        let attempt_ms = lowered(ATTEMPT_MS_VAR, crate::retry::ATTEMPT_MS);
        let max_body = lowered(BODY_LIMIT_VAR, provider.upstream.max_body_bytes);
        let robust = Robust { policy: Policy::new(&provider.upstream, args.options.max_retries, args.options.timeout_ms, keyed), wait_scale, attempt_ms, max_body };
        #[cfg_attr(not(capa_tokens), allow(unused_mut))]
        let mut config = Config {
            secrets,
            origin_override,
            bound_headers,
            store_backed: crate::auth::handles(provider).filter(|n| bindings.in_store(n)).collect(),
            token: None,
            idempotency_key: idempotency_key.clone(),
        };
        args.binaries = args_json.starts_with('\u{1}');
        // Context headers (Stripe-Account) are no credentials, but the receipt carries none of
        // them either, even when the upstream puts one in its request id.
        for (name, value) in &args.options.headers {
            if !provider.secret_call_headers.contains(name) {
                redactor.add_context(value.expose());
            }
        }
        // The call budget, once per call: after every check above (a refused call spends
        // nothing), before any credential step or request.
        if let Some(keyed) = bindings.budget() {
            let who = held.as_ref().map_or("", |h| h.who);
            if resume.budget & crate::budget::REFUSED != 0 {
                return Err(crate::budget::refused(provider.capability, who));
            }
            if resume.budget == 0 {
                return Ok(Next::Budget(crate::budget::Ask::of(who, budget_credential, keyed)));
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
        // A walk of pages (`crate::pages`) keeps what rebuilds its requests.
        let paged = match args.options.pages.take() {
            None => None,
            Some(limits) => Some(Box::new(walk(provider, op, op_index, limits, &mut args, args_json, session.clone(), &config)?)),
        };
        let (request, credential) = request::build(provider, op, args, config)?;
        // A per-call key a basic scheme sends encoded: the pair as sent is a needle of its own,
        // as the deployment's is ([`crate::auth::basic_token`]), read from the request itself.
        if credential == CredentialUse::Call {
            if let Some(token) = request.header("authorization").and_then(crate::auth::basic_token) {
                redactor.add(token);
            }
        }
        Ok(Next::Send(request, credential, robust, idempotency_key, paged))
    })();

    let started_ms = resume.started_ms.unwrap_or(now_ms);
    match result {
        Ok(Next::Send(request, credential, robust, idempotency_key, paged)) => Step::Fetch(Call {
            provider,
            op_index: op_index as usize,
            request,
            redactor,
            credential,
            started_ms,
            token,
            resume,
            call_id: call_id.to_owned(),
            idempotency_key,
            policy: robust.policy,
            wait_scale: robust.wait_scale,
            attempt_ms: robust.attempt_ms,
            max_body: robust.max_body,
            retries: 0,
            tries: earlier,
            sent_ms: now_ms,
            waited_ms: 0,
            paged,
        }),
        Ok(Next::Budget(ask)) => Step::Budget(ask),
        #[cfg(capa_tokens)]
        Ok(Next::Token(request)) => Step::Token { scheme: op.scheme, request },
        #[cfg(capa_tokens)]
        Ok(Next::Sign { alg, key, input }) => Step::Sign { scheme: op.scheme, alg, key, input },
        #[cfg(capa_tokens)]
        Ok(Next::Wait) => Step::Wait { scheme: op.scheme },
        #[cfg(capa_tokens)]
        Ok(Next::Take { key, aad }) => Step::Take { scheme: op.scheme, key, aad },
        Err(error) => refused(provider, op, &error, &redactor, &earlier, call_id, refreshed(resume, token.is_some()), started_ms, now_ms),
    }
}

/// What the caller holds (a binding's props, a session), read and checked against `op`: the
/// grant and the session's options. Out of line: the plain path holds none.
#[inline(never)]
fn held<'g>(provider: &'static Provider, op: &'static crate::table::Operation, op_index: u32, grant: &'g str, redactor: &mut Redactor) -> Result<(Option<crate::grant::Held<'g>>, Option<crate::value::Value>), crate::error::CallError> {
    let held = crate::grant::Held::read(grant)?;
    if let Some(refusal) = held.refusal(provider, op, op_index as usize) {
        return Err(refusal);
    }
    let session = held.options()?;
    // A session's credentials are the call's own, redacted like them.
    if let Some(options) = &session {
        add_call_credentials(redactor, std::slice::from_ref(options), provider.secret_call_headers);
    }
    Ok((Some(held), session))
}

/// A round refused before its request: the failure's envelope. Out of line, as every path a
/// common call does not take (a Worker's first call compiles the wasm functions it runs, whole).
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn refused(provider: &'static Provider, op: &'static crate::table::Operation, error: &crate::error::CallError, redactor: &Redactor, earlier: &[crate::receipt::Try], call_id: &str, refreshed: bool, started_ms: f64, now_ms: f64) -> Step {
    let mut receipt = Receipt::new(provider, op, started_ms);
    // A second round's refusal still made the first round's attempt.
    receipt.attempts = earlier.len() as u32;
    receipt.tries = earlier;
    receipt.call_id = call_id;
    receipt.refreshed = refreshed;
    receipt.close(started_ms, now_ms, false);
    Step::Done(Envelope::Complete(receipt::fail(error, redactor, &receipt)))
}

/// The walk `options.pages` asked for (`limits`), for an operation that pages: its first
/// page's params set into `args`. An operation that does not page refuses it.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn walk(provider: &'static Provider, op: &Operation, op_index: u32, limits: crate::pages::Limits, args: &mut crate::args::Args, args_json: &str, session: Option<crate::value::Value>, config: &Config<'_>) -> Result<Paged, CallError> {
    let index = u16::try_from(op_index).ok();
    let Some(paging) = provider.paging.iter().find(|(i, _)| Some(*i) == index).map(|(_, p)| **p) else {
        return Err(CallError::invalid(format!(
            "{} does not page (its spec shows no way to a next page), so options.pages does not apply; methods.txt marks the operations that page",
            op.call
        )));
    };
    let params = match args.params.take() {
        None => Vec::new(),
        Some(crate::value::Value::Object(entries)) => entries,
        Some(other) => return Err(CallError::invalid(format!("params must be an object to walk pages, not {}", other.kind()))),
    };
    let walk = crate::pages::Walk::new(paging, limits, params);
    args.params = Some(crate::value::Value::Object(walk.params().to_vec()));
    Ok(Paged::new(walk, args_json, session, config))
}

/// What a call's options and its deployment chose of its robustness.
struct Robust {
    policy: Policy,
    wait_scale: f64,
    attempt_ms: u64,
    max_body: u64,
}

/// What the first round of a call comes to.
enum Next {
    Send(HttpRequest, CredentialUse, Robust, Option<String>, Option<Box<Paged>>),
    Budget(crate::budget::Ask),
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

#[cold]
#[inline(never)]
fn injected_panic(call: &str) -> ! {
    panic!("fault injection: {FAULT_VAR} asked {call} to panic");
}
