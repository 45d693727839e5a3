//! The wasm exports the generated JS entry calls, and nothing else.
//!
//! worker-build puts every `#[wasm_bindgen]` export on its `WorkerEntrypoint` class, which would
//! make each one an RPC method any caller could invoke, handing in its own `env`. The generated
//! entry (`generated/<provider>/entry.js`) therefore takes these functions off that class before
//! anything can call it, and calls them only from the generated resource methods, with the
//! Worker's own `this.env`. `tests/surface.test.mjs` checks no export is reachable over RPC.
//!
//! # The wire between Rust and the entry
//!
//! Arguments cross as one JSON string (`JSON.stringify(args)`: one copy into wasm, one parse).
//! The entry passes the time (`Date.now()`) into every export rather than the runtime importing
//! it: each crossing of the boundary costs more than the call it makes. For the same reason the
//! exports return a JS string made inside the runtime (one import that decodes it),
//! not a Rust `String` the entry must decode and then free with another call into wasm. Every
//! export returns a string whose first character says what it is:
//!
//! - `F<handle>:<request JSON>`: fetch this (`[url, method, body, headers, scan, credential,
//!   timeout, limit]`, `credential` the receipt's word for what it carries, `timeout` the ms the
//!   attempt may take, answer and body: `AbortSignal.timeout`, `limit` the most body bytes to
//!   read, else [`capa_too_large`]), with
//!   `redirect: "manual"`; a body that is not a string or `null` is assembled from the call's
//!   binary arguments, which never enter the wasm: [`crate::body`]), scan the response body for
//!   the needles of `scan` (`[k, ...needles]`, the first `k` the Worker secret's: see
//!   [`crate::redact`]), then report the response to [`capa_finish`] (or a network failure to
//!   [`capa_unreachable`]). The scan is the entry's because the body is the entry's: it stays a
//!   JS string (or, for a 2xx whose media type is not text, bytes: `src/js/body.js`) unless the
//!   runtime must read it.
//! - `{...}`: the finished envelope.
//! - `E` (from [`capa_begin`] only): pass `env` again, the runtime holds no bindings.
//! - `S[names]` (from [`capa_begin`] only): these credential handles are Secrets Store secrets
//!   whose values are missing or stale ([`crate::store`]): await each `env[name].get()`, hand
//!   the values to [`capa_store`], and begin the call again.
//! - `X<scheme>:<request JSON>` (from [`capa_begin`] only): obtain scheme `scheme`'s access
//!   token first ([`crate::token`]): fetch this token exchange (the `F` array's shape; its
//!   answer is the runtime's alone, so no scan), hand the status and body text to
//!   [`capa_token`] (status 0 when `fetch` failed), and begin again with flag 1 set. The entry
//!   keeps the exchange's promise while it runs, so the calls told `W` can await it.
//! - `G<scheme>:[alg, key, input]` (from [`capa_begin`] only): a service account's token is
//!   wanted: sign `input` with `key` (PKCS#8 DER, base64) by `alg` (RS256, ES256) through
//!   WebCrypto, hand the signature to [`capa_signed`] (empty if signing failed), make the
//!   exchange it may answer (`X`, as above), and begin again with flag 1 set. One flight, as X.
//!   For a cookie session, `X` is its login, and the entry hands [`capa_token`] the answer's
//!   `Set-Cookie` values too.
//! - `D<scheme>:[key, aad]` (from [`capa_begin`] only): the flight of a deployment that shares
//!   its tokens ([`crate::token::shared`]): ask the `CAPA_TOKENS` Durable Object (named by an
//!   HMAC of `aad` under a key derived from `key`) for the sealed token, open it with `aad`, and
//!   hand it and the lease to [`capa_unsealed`], which answers `""` (it serves) or the flight's
//!   `X`/`G`; then begin again with flag 1 set. One flight, as X.
//! - `P<scheme>:[key, aad, record, due, expires]` (from [`capa_token`] and [`capa_signed`]):
//!   seal `record` and store it in that object (releasing the lease). A flight that holds a
//!   lease and gets no `P` releases it.
//! - `W<scheme>` (from [`capa_begin`] only): another call is obtaining that token (single
//!   flight): await its exchange, then begin again with flag 1 set.
//! - `R<tries>` (from [`capa_finish`] only): the upstream refused the deployment's token, which
//!   the runtime dropped: begin again with flag 2 set (the call's second and last attempt),
//!   handing `tries` (the JSON of the requests so far) back as `earlier`.
//! - `Q[key]` / `Q[null, text]` (from [`capa_begin`] only): spend a unit of the call budget
//!   ([`crate::budget`]) keyed by `key`, or by `auth:` and the HMAC of `text` under a key
//!   derived from `CAPA_BUDGET_KEY`; then begin again with flag 4 (spent), 8 (refused) or 16
//!   (the limiter failed) set.
//! - `Y<handle>:<ms>` (from [`capa_finish`] and [`capa_unreachable`]): wait `ms` before the
//!   call's next attempt (a retry: [`crate::retry`]), then [`capa_resume`].
//! - `J[...]` / `T[...]` / `B[...]`: success; the receipt's values in
//!   [`crate::receipt::FIELDS`] order, which the entry names back, and the response body it
//!   holds as `result`, parsed as JSON (`J`), as text (`T`) or as its bytes (`B`, a
//!   `Uint8Array`). Only when the body holds no credential. `J`'s values end with one more, the
//!   media type as [`capa_invalid_body`] may print it if the body does not parse.
//! - `L` (from [`capa_finish`] and [`capa_unreachable`]): the call was lost with the instance
//!   that held it; answer it with [`capa_lost`].
//!
//! The two per-call answers are JSON arrays, not objects: the entry parses one of each per
//! call, and parsing an array builds no object shape and internalizes no key (measured in
//! bench/README.md).
//!
//! Calls in flight live in a slab keyed by handle. A panic aborts the wasm instance, which
//! workers-rs then replaces; the entry answers that call with [`capa_internal`] if none of its
//! requests went out, else with [`capa_lost`] (`upstream_outcome_unknown`: it went out, and
//! whether it took effect is not known). Calls whose handles died with the old instance get `L`
//! from [`capa_finish`] or [`capa_unreachable`], and the entry answers them with [`capa_lost`]
//! too: their requests went out, and what came back can no longer be judged (their redactors,
//! which held their credentials, died with the instance). The new instance's
//! slab starts empty, so it hands out the dead one's handles again: every call therefore also
//! carries the entry's *ticket* (a counter in the JS module, which outlives instances), and a
//! handle is honoured only with the ticket it was issued with. Without it, a response to a call
//! of the dead instance would be judged by, and redacted for, a call of the new one that got its
//! handle: another tenant's credentials (the security suite found this).
//!
//! Here: the exports and the strings they answer. The bindings read once per `env` are
//! `src/wasm/env.rs`'s ([`EnvBindings`]); the calls in flight, by handle and ticket,
//! `src/wasm/slab.rs`'s.

use crate::call::{self, Step};
#[cfg(capa_tokens)]
use crate::call::Bindings;
use crate::http::{BodyText, HttpResponse};
use crate::provider::PROVIDER;
use crate::receipt::{Attach, Envelope};
#[cfg(capa_tokens)]
use crate::table::AuthScheme;
use crate::token::Tokens;
use js_sys::JsString;
use wasm_bindgen::prelude::*;

mod env;
mod slab;

use env::{EnvBindings, ENV};
use slab::CALLS;

/// A response body left in JS (see [`BodyText`]), with what the entry found scanning it.
struct JsBody {
    text: js_sys::JsString,
    empty: bool,
    /// The entry's scan flagged it, for this call's redactor's scan list.
    flagged: bool,
}

impl BodyText for JsBody {
    fn is_empty(&self) -> bool {
        self.empty
    }
    fn flagged(&self, _: &crate::redact::Redactor, _: bool) -> bool {
        self.flagged
    }
    fn text(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Owned(String::from(&self.text))
    }
}

/// A step as the entry reads it: a JS string made here (see the module docs).
fn wire(step: Step, ticket: f64, now: f64) -> JsString {
    let text = match step {
        #[cfg(capa_tokens)]
        Step::Token { scheme, request } => {
            let mut out = String::with_capacity(256);
            out.push('X');
            crate::json::push_u64(&mut out, u64::from(scheme), 0);
            out.push(':');
            // Its answer is read by the runtime alone: nothing to scan it for.
            request.push_fetch_json(&mut out, &crate::redact::Redactor::default());
            out
        }
        #[cfg(capa_tokens)]
        Step::Sign { scheme, alg, key, input } => {
            let mut out = String::with_capacity(key.expose().len() + input.len() + 32);
            out.push('G');
            crate::json::push_u64(&mut out, u64::from(scheme), 0);
            out.push_str(":[\"");
            out.push_str(alg);
            out.push_str("\",");
            crate::json::push_str(&mut out, key.expose());
            out.push(',');
            crate::json::push_str(&mut out, &input);
            out.push(']');
            out
        }
        #[cfg(capa_tokens)]
        Step::Wait { scheme } => {
            let mut out = String::from("W");
            crate::json::push_u64(&mut out, u64::from(scheme), 0);
            out
        }
        #[cfg(capa_tokens)]
        Step::Take { scheme, key, aad } => {
            let mut out = String::with_capacity(key.expose().len() + aad.len() + 16);
            crate::token::shared::push_take(&mut out, scheme, &key, &aad);
            out
        }
        #[cfg(capa_tokens)]
        Step::Refresh { scheme, generation, tries } => {
            ENV.with(|cache| {
                if let Some(bindings) = cache.borrow().as_ref() {
                    bindings.tokens.invalidate(scheme, generation);
                }
            });
            let mut out = String::with_capacity(tries.len() + 1);
            out.push('R');
            out.push_str(&tries);
            out
        }
        Step::Fetch(call) => CALLS.with(|calls| {
            let mut calls = calls.borrow_mut();
            let handle = calls.insert(ticket, call, now);
            let mut out = String::with_capacity(512);
            out.push('F');
            crate::json::push_u64(&mut out, u64::from(handle), 0);
            out.push(':');
            if let Some(call) = calls.get(handle) {
                call.push_fetch_json(&mut out, now);
            }
            out
        }),
        Step::Budget(ask) => {
            let mut out = String::from("Q");
            ask.push_json(&mut out);
            out
        }
        Step::Pause { call, wait_ms } => CALLS.with(|calls| {
            let handle = calls.borrow_mut().insert(ticket, call, now);
            let mut out = String::with_capacity(24);
            out.push('Y');
            crate::json::push_u64(&mut out, u64::from(handle), 0);
            out.push(':');
            crate::json::push_u64(&mut out, wait_ms, 0);
            out
        }),
        Step::Done(Envelope::Complete(envelope)) => envelope,
        Step::Done(Envelope::AttachBody { attach, mut receipt }) => {
            // Within the room `receipt::values` left: no copy to a new buffer.
            receipt.insert(
                0,
                match attach {
                    Attach::Json => 'J',
                    Attach::Text => 'T',
                    Attach::Bytes => 'B',
                },
            );
            receipt
        }
    };
    JsString::from(text.as_str())
}

/// The `internal` envelope for `op`, as the entry reads it.
fn internal(op: u32, now: f64, call_id: &str) -> JsString {
    JsString::from(call::internal(&PROVIDER, op, now, call_id).as_str())
}

/// Begins a round of a call: its first, or one after a step an earlier round asked the entry to
/// take (`S`, `X`, `G`, `D`, `W`, `R`: see the module docs). Its arguments, by what they are:
///
/// | argument | what it is | where it goes | first round, plain path |
/// |---|---|---|---|
/// | *the call* | | | |
/// | `op` | the operation: its index in the table | [`call::Round::op`] | |
/// | `args` | the JSON text of the argument array (`argsJson`, `src/js/args.js`) | [`call::Round::args`] | |
/// | `grant` | what the caller holds, its binding's props or its session ([`crate::grant`]), as [`capa_grant`] made it | [`call::Round::grant`] | `undefined` |
/// | `call_id` | the call's id, a UUID v4 (`crypto.randomUUID()`), the same every round | [`call::Round::call_id`] | |
/// | *the bindings* | | | |
/// | `env` | the Worker's `env`, when it is not the one passed last | read once, kept for the calls after ([`EnvBindings`]) | `undefined`: the one read serves |
/// | *the round* | | | |
/// | `ticket` | the entry's number for the call, the same every round | kept with the call's handle ([`Slab`]: see the module docs) | |
/// | `flags` | what the call's earlier rounds did: bit 0, a token was obtained for it; bit 1, its token was refused once | [`call::Round::resume`] ([`call::Resume::from_flags`]) | 0 |
/// | `started` | when the call's first round began (ms since the epoch), for its receipt | [`call::Round::resume`] | read only when `flags` is not 0 |
/// | `earlier` | the tries an `R` step handed back, for the round after it | [`call::Round::earlier`] | `undefined` |
/// | `now` | when this round begins (ms since the epoch) | [`call::Round::now_ms`] | |
///
/// Everything but `env` and `ticket` becomes one [`call::Round`], which is what the runtime
/// passes on ([`call::begin_round`]); numbers and strings cross as they are, so a round costs no
/// JS object and no wasm-bindgen struct. A runtime holding no bindings (a fresh instance, after
/// a panic replaced the old one) and given no `env` answers `E`, and the entry calls again with
/// `env`.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn capa_begin(op: u32, args: &str, grant: Option<String>, call_id: &str, env: Option<worker::Env>, ticket: f64, flags: u32, started: f64, earlier: Option<String>, now: f64) -> JsString {
    let round = call::Round { op, args, grant: grant.as_deref(), call_id, resume: call::Resume::from_flags(flags, started), earlier: earlier.as_deref(), now_ms: now };
    let step = ENV.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(env) = env {
            // The tokens stay with the credentials that obtained them.
            let (tokens, old) = cache.take().map_or_else(|| (Tokens::default(), None), |b| (b.tokens, Some(b.secrets)));
            let fresh = EnvBindings::read(env, tokens);
            if let Some(old) = &old {
                fresh.forget_changed(old);
            }
            *cache = Some(fresh);
        }
        cache.as_ref().map(|bindings| {
            // Store-backed handles to read first, if any are stale (none on the plain path).
            let read = if bindings.store.is_empty() { None } else { bindings.store.request(now) };
            match read {
                Some(read) => Err(read),
                None => Ok(call::begin_round(&PROVIDER, round, bindings)),
            }
        })
    });
    match step {
        Some(Ok(step)) => wire(step, ticket, now),
        Some(Err(read_store)) => JsString::from(read_store.as_str()),
        None => JsString::from("E"),
    }
}

/// A grant ([`crate::grant`]), for the entry to keep and hand to [`capa_begin`]: `kind` 0, of a
/// binding's props (`json`, their JSON; `""`: they narrow nothing); 1, of `withAuth` (`json`: its
/// argument array as `argsJson` wrote it) made through the binding whose grant is `from`; 2, of
/// `attenuate` (`json`: its argument array) on the session whose grant is `from`.
#[wasm_bindgen]
pub fn capa_grant(from: &str, json: &str, kind: u8) -> JsString {
    let made = match kind {
        0 => crate::grant::props(&PROVIDER, json),
        1 => crate::grant::session(&PROVIDER, from, json),
        _ => crate::grant::attenuate(&PROVIDER, from, json),
    };
    JsString::from(made.as_str())
}

/// What the entry read of the Secrets Store secret bound as `name` (`None`: its `get()` failed),
/// at `now`; see [`crate::store`]. The call that asked begins again afterwards.
#[wasm_bindgen]
pub fn capa_store(name: &str, value: Option<String>, now: f64) {
    ENV.with(|cache| {
        if let Some(bindings) = cache.borrow_mut().as_mut() {
            bindings.put(name, value, now);
        }
    });
}

/// The answer to the exchange (or a session's login) an `X<scheme>` step asked for: its
/// `status` (0: `fetch` failed), body text and, for a login, its `Set-Cookie` values one per
/// line, at `now`: see [`crate::token`]. The calls that asked and waited begin again. Answers
/// `P<scheme>:...` when the token obtained is to be shared ([`crate::token::shared`]), else `""`.
#[cfg(capa_tokens)]
#[wasm_bindgen]
pub fn capa_token(scheme: u8, status: u16, body: &str, set_cookies: &str, now: f64) -> JsString {
    let Some(s) = PROVIDER.schemes.get(usize::from(scheme)) else { return JsString::from("") };
    ENV.with(|cache| {
        let cache = cache.borrow();
        let Some(bindings) = cache.as_ref() else { return JsString::from("") };
        let arrived = match s.auth {
            AuthScheme::ClientCredentials(exchange) => bindings.tokens.put(scheme, status, body, now, exchange.margin_s),
            AuthScheme::ServiceAccount(grant) => bindings.tokens.put(scheme, status, body, now, grant.margin_s),
            AuthScheme::Session(login) => bindings.tokens.put_session(scheme, login, status, set_cookies, now),
            _ => false,
        };
        if arrived { bindings.share(scheme) } else { JsString::from("") }
    })
}

/// What the Durable Object gave a `D<scheme>` step: `record`, the token the entry opened
/// (`undefined`: none, or none that authenticated), and whether this isolate holds the lease,
/// at `now`: see [`crate::token::shared`]. Answers `""` when the token serves, else the
/// flight's next step (`X` or `G`, as [`capa_begin`] would have).
#[cfg(capa_tokens)]
#[wasm_bindgen]
pub fn capa_unsealed(scheme: u8, record: Option<String>, lease: bool, now: f64) -> JsString {
    use crate::token::shared::{adopt, Adopted};
    ENV.with(|cache| {
        let cache = cache.borrow();
        let Some(bindings) = cache.as_ref() else { return JsString::from("") };
        if adopt(&bindings.tokens, scheme, record.as_deref(), lease, now) == Adopted::Serve {
            return JsString::from("");
        }
        match call::obtaining(&PROVIDER, scheme, &bindings.secrets, bindings.origin_override().as_deref(), now) {
            Some(step) => wire(step, 0.0, now),
            None => JsString::from(""),
        }
    })
}

/// The entry's signature (`signature`; empty when WebCrypto could not sign) of `input`, the
/// signing input a `G<scheme>` step handed it, at `now`: the service account's JWT is cached as
/// the token, or its exchange answered as `X<scheme>:<request JSON>` for the entry to make
/// (then [`capa_token`]); `""` otherwise. See [`crate::token`].
#[cfg(capa_tokens)]
#[wasm_bindgen]
pub fn capa_signed(scheme: u8, input: &str, signature: &[u8], now: f64) -> JsString {
    let grant = PROVIDER.schemes.get(usize::from(scheme)).and_then(|s| match s.auth {
        AuthScheme::ServiceAccount(grant) => Some(grant),
        _ => None,
    });
    let Some(grant) = grant else { return JsString::from("") };
    ENV.with(|cache| {
        let cache = cache.borrow();
        let Some(bindings) = cache.as_ref() else { return JsString::from("") };
        match crate::token::signed(&bindings.tokens, scheme, grant, input, signature, now, bindings.origin_override().as_deref()) {
            crate::token::Signed::Exchange(request) => wire(Step::Token { scheme, request }, 0.0, now),
            crate::token::Signed::Token => bindings.share(scheme),
            crate::token::Signed::Failed => JsString::from(""),
        }
    })
}

/// The upstream answered the call `handle`, issued with `ticket`. `body` stays a JS string; `empty` and
/// `flagged` are what the entry found (the latter scanning with the request's `scan`);
/// `binary`: the entry read the body as bytes, which it keeps (`body` is then their text when
/// it flagged, for the runtime to judge, else empty).
/// `headers` holds the response's content type, request id ([`Provider::request_id_header`])
/// and, for a 3xx only, its location (each header the entry reads is a call into the runtime).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn capa_finish(
    handle: u32,
    ticket: f64,
    op: u32,
    now: f64,
    status: u16,
    headers: &str,
    body: js_sys::JsString,
    empty: bool,
    flagged: bool,
    binary: bool,
) -> JsString {
    let Some(call) = CALLS.with(|c| c.borrow_mut().take(handle, ticket)) else {
        // Its instance died (another call's panic) after its request went out.
        let _ = (op, now);
        return JsString::from("L");
    };
    // `content-type \n request-id \n location`, and for a 4xx or 5xx the retry hints after it
    // (`retry-after-ms`, `retry-after`, `stripe-should-retry`, `x-should-retry`,
    // `x-ratelimit-remaining`, `x-ratelimit-reset`): absent ones empty, one string to copy in.
    // A header value cannot hold a line feed (fetch refuses and strips them).
    let mut headers = headers.split('\n').map(|value| Some(value).filter(|v| !v.is_empty()));
    let mut next = || headers.next().flatten();
    let (content_type, request_id, location) = (next(), next(), next());
    let hints = if status >= 400 { crate::retry::Hints::read([next(), next(), next(), next(), next(), next()], now) } else { crate::retry::Hints::default() };
    // A page of a walk (`crate::pages`): its `Link` after an empty location.
    let link = if status < 300 { next() } else { None };
    let response = HttpResponse {
        status,
        content_type,
        request_id,
        location,
        hints,
        link,
        binary,
        body: &JsBody { text: body, empty, flagged },
    };
    wire(call.finish(&response, now), ticket, now)
}

/// `fetch` failed for the call `handle`, issued with `ticket`; `message` is the runtime's;
/// `timed_out`: the attempt's time (the request's timeout) ran out. Answers the next step: a
/// pause before another attempt (`Y`), or the envelope.
#[wasm_bindgen]
pub fn capa_unreachable(handle: u32, ticket: f64, op: u32, now: f64, message: &str, timed_out: bool) -> JsString {
    match CALLS.with(|c| c.borrow_mut().take(handle, ticket)) {
        Some(call) => wire(call.unreachable(message, timed_out, now), ticket, now),
        None => {
            let _ = op;
            JsString::from("L")
        }
    }
}

/// The upstream answered the call `handle`, issued with `ticket`, `status` with a body over the
/// limit its `F` step named, which the entry stopped reading (`request_id` its request id
/// header, `""` without): `upstream_too_large`.
#[wasm_bindgen]
pub fn capa_too_large(handle: u32, ticket: f64, now: f64, status: u16, request_id: &str) -> JsString {
    match CALLS.with(|c| c.borrow_mut().take(handle, ticket)) {
        Some(call) => wire(Step::Done(call.too_large(status, Some(request_id).filter(|r| !r.is_empty()), now)), ticket, now),
        None => JsString::from("L"),
    }
}

/// The wait a `Y` step asked for is over for the call `handle`, issued with `ticket`, at `now`:
/// its next attempt (`F`), or its envelope if its deadline passed; `L` if it was lost with its
/// instance meanwhile.
#[wasm_bindgen]
pub fn capa_resume(handle: u32, ticket: f64, now: f64) -> JsString {
    match CALLS.with(|c| c.borrow_mut().take(handle, ticket)) {
        Some(call) => wire(call.resume(now), ticket, now),
        None => JsString::from("L"),
    }
}

/// The upstream's success said JSON and the entry could not parse the body it attached (see
/// [`Envelope::AttachBody`]): `upstream_invalid_body`, with the receipt the runtime gave
/// (`values`, the `J` answer's, ending with the media type to print) turned to `fail`.
/// `excerpt` is the body's start, in which the entry's scan flagged nothing. Stateless: the
/// call is over.
#[wasm_bindgen]
pub fn capa_invalid_body(op: u32, now: f64, status: u16, values: &str, excerpt: &str) -> JsString {
    match crate::receipt::fail_with_values(status, values, excerpt) {
        Some(envelope) => JsString::from(envelope.as_str()),
        None => internal(op, now, ""),
    }
}

/// The envelope for a call that hit a fault in the runtime before any request of it went out
/// (the panic itself is in the log).
#[wasm_bindgen]
pub fn capa_internal(op: u32, now: f64) -> JsString {
    // No string comes in: after a panic this runs on the aborted instance, which cannot
    // allocate. The entry sets the receipt's callId.
    internal(op, now, "")
}

/// The envelope for a call whose request went out (`attempts` times since `started`, the last
/// answered `status`, 0 for none, sent with `credential`, an index into `CredentialUse::ALL`,
/// after rounds `flags`) and which the
/// runtime then faulted on or lost with its instance: `upstream_outcome_unknown`
/// ([`call::lost`]).
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn capa_lost(op: u32, now: f64, started: f64, attempts: u32, status: u16, credential: i32, flags: u32) -> JsString {
    // Numbers only, as for `capa_internal`: `credential` indexes `CredentialUse::ALL` (any other
    // number: none), and the entry sets the receipt's callId.
    let credential = usize::try_from(credential).ok().and_then(|i| crate::receipt::CredentialUse::ALL.get(i)).map_or("none", |c| c.as_str());
    JsString::from(call::lost(&PROVIDER, op, now, started, attempts, status, credential, flags, "").as_str())
}
