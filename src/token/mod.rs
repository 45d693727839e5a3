//! Tokens that expire: what a scheme obtains with the deployment's credentials — an access token
//! for the client's credentials or a service account's signed JWT ([`oauth`]), a cookie session
//! for a login ([`session`]) — obtained, cached, refreshed and shared by the calls of one
//! isolate. This module is the lifecycle they share; the two others make and read the requests.
//!
//! The runtime never awaits anything, so obtaining a token is a step the entry performs, like a
//! fetch. When a call needs its scheme's token, [`Tokens::need`] answers from the cache:
//!
//! - **Ready**: the token is valid and not yet due; the call sends it.
//! - **Fetch**: none is cached (or it is due, or expired) and no call is obtaining one: this call
//!   does. The runtime answers `X` with the token request (or the login) ([`exchange_request`]); the entry sends
//!   it, hands the answer to [`Tokens::put`] (`capa_token`) and begins the call again.
//!   For a service account the flight starts with a signature: the runtime answers `G` with the
//!   JWT's signing input ([`signing_input`]: header and claims, `iat` now, `exp` its lifetime
//!   later) and the key, the entry signs it through WebCrypto (no crypto in the wasm) and hands
//!   the signature to [`signed`] (`capa_signed`), which makes the JWT and either exchanges it at
//!   the token endpoint (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, Google's) or
//!   caches it as the token itself (a GitHub App's JWT).
//! - **Wait**: another call of this isolate is obtaining it (*single flight*): the entry awaits
//!   that call's exchange, then begins again. A hundred calls meeting an empty cache make one
//!   token request.
//! - **Failed**: the last exchange failed less than [`FAILED_HOLD_MS`] ago: the call is
//!   `auth_failed` (`stage: "token"`) at once, so a refusing token endpoint is not stormed by
//!   every call; the first call after that tries again.
//!
//! A token is due `margin` seconds before it expires (the manifest's `refresh_margin`, default
//! 60), capped at half its lifetime so a short-lived token is not due on arrival. A due token
//! that has not expired keeps serving the calls that meet it while one of them refreshes it:
//! nobody waits for a refresh that could have been avoided. A token without `expires_in` is kept
//! for [`DEFAULT_LIFETIME_S`].
//!
//! When the upstream answers 401 to a call that sent a cached token (a session: a relogin status,
//! or its soft login wall, [`ended`]), the token is dropped (only
//! if it is still the cached one: [`Tokens::invalidate`] takes its generation) and the call
//! begins again, once: it obtains a fresh token and is sent a second time (`attempts` counts
//! both, the receipt says `refreshed`). A second 401 is `auth_failed` (`stage: "upstream"`):
//! a fresh token the upstream refuses is not the caller's to fix. So is a 401 to a token under
//! `crate::call::FRESH_TOKEN_MS` old, at once: another would not help, and no caller may turn
//! every call into an exchange.
//!
//! Per call, `options.auth.apiKey` is a ready access token: sent as a bearer token, never cached,
//! never refreshed (a 401 is the caller's `upstream_error`). Only the deployment's credentials
//! produce cached material. The cached token is a credential like any: held in [`Secret`]s,
//! scanned for in every response ([`crate::redact`]), never in a receipt, error or log; so is
//! what obtained it and an API could echo: a service account's exchanged JWT (the assertion,
//! replayable until its `exp`) joins the credentials of the token it obtained, and a session's
//! login fields are the deployment's credentials ([`crate::auth::credential_handles`]).

use crate::error::{AuthStage, CallError};
use crate::redact::Credentials;
use crate::secret::Secret;
use std::cell::RefCell;
use std::rc::Rc;

pub mod oauth;
pub mod session;
pub mod shared;

pub use oauth::{exchange_request, signed, signing_input, Signed, JWT_BACKDATE_S};
pub use session::{login_request, MIN_COOKIE_SECRET};

/// How long a failed exchange answers the calls that meet it before one tries again.
pub const FAILED_HOLD_MS: f64 = 1_000.0;

/// How long an exchange may be in flight before another call takes over (the call obtaining it
/// was cancelled, or its instance died).
pub const FLIGHT_STALE_MS: f64 = 30_000.0;

/// Lifetime of a token whose answer gives no `expires_in`.
pub const DEFAULT_LIFETIME_S: u32 = 3_600;

/// What a call does about its scheme's token.
#[derive(Debug)]
pub enum Need {
    /// Send this (`Bearer <token>`); `generation` names the token for [`Tokens::invalidate`];
    /// `obtained_at` is when it arrived (ms).
    Ready { wire: Rc<Secret>, credentials: Rc<Credentials>, generation: u32, obtained_at: f64 },
    /// Obtain one: this call's exchange is the flight.
    Fetch,
    /// Another call's exchange is in flight.
    Wait,
    /// The last exchange failed.
    Failed(Failure),
}

/// Why an exchange failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The endpoint answered this status (not 2xx).
    Refused(u16),
    /// The endpoint could not be reached.
    Unreachable,
    /// A 2xx whose body held no usable bearer token.
    Unusable(u16),
    /// WebCrypto could not sign with the private key.
    Unsigned,
    /// A session's login answered this status (not 2xx/3xx; 0: unreachable).
    Login(u16),
    /// A session's login answered this status without setting the cookies kept.
    NoSession(u16),
}

impl Failure {
    /// The `auth_failed` error, naming what to check ([`check`]).
    pub fn error(self, capability: &'static str, check: (&'static str, &'static str, &'static str)) -> CallError {
        let (status, why) = match self {
            Failure::Refused(status) => (Some(status), "the token endpoint refused the Worker's credentials"),
            Failure::Unreachable => (None, "the token endpoint could not be reached"),
            Failure::Unusable(status) => (Some(status), "the token endpoint answered without a usable bearer access token"),
            Failure::Unsigned => (None, "WebCrypto could not sign with the private key"),
            Failure::Login(0) => (None, "the login could not be reached"),
            Failure::Login(status) => (Some(status), "the login was refused"),
            Failure::NoSession(status) => (Some(status), "the login set none of the session's cookies"),
        };
        let stage = if matches!(self, Failure::Login(_) | Failure::NoSession(_)) { AuthStage::Login } else { AuthStage::Token };
        CallError::AuthFailed { capability, stage, status, why, check, upstream: None }
    }
}

#[derive(Debug, Default)]
enum Slot {
    #[default]
    Empty,
    Flight { since: f64 },
    Ready { token: Token, refreshing: Option<f64> },
    Failed { failure: Failure, at: f64 },
}

impl Slot {
    /// Whether a flight (or a refresh) is obtaining this slot's token.
    fn in_flight(&self) -> bool {
        matches!(self, Slot::Flight { .. } | Slot::Ready { refreshing: Some(_), .. })
    }
}

#[derive(Debug)]
struct Token {
    wire: Rc<Secret>,
    credentials: Rc<Credentials>,
    /// The values `credentials` finds (the token, a session's cookies), for [`Tokens::record`].
    values: Vec<Secret>,
    due_at: f64,
    expires_at: f64,
    generation: u32,
    obtained_at: f64,
}

/// The tokens of one isolate, by scheme index.
#[derive(Debug, Default)]
pub struct Tokens {
    slots: RefCell<Vec<Slot>>,
    generations: std::cell::Cell<u32>,
    /// By scheme, the assertions its exchanges sent (a service account's signed JWTs,
    /// [`oauth::signed`]) that have not expired, with their `exp` (ms), newest last: until then
    /// anyone holding one can exchange it for tokens, and an API may echo it, so each joins the
    /// credentials of every token obtained while it is valid ([`Tokens::put`]), and is scrubbed
    /// from every call's answers while one of those is cached. A token replaced early (revoked:
    /// a 401) thus leaves its assertion scrubbed. At most [`MAX_ASSERTIONS`].
    assertions: RefCell<Vec<Vec<(Secret, f64)>>>,
}

/// The most assertions a scheme's tokens carry: a token endpoint issuing tokens far shorter-lived
/// than the JWTs would otherwise grow every call's needles without bound.
pub const MAX_ASSERTIONS: usize = 4;

impl Tokens {
    /// What a call beginning at `now` does about scheme `scheme`'s token (see the module docs).
    /// Answering [`Need::Fetch`] makes that call the flight.
    pub fn need(&self, scheme: u8, now: f64) -> Need {
        let mut slots = self.slots.borrow_mut();
        let slot = slot_of(&mut slots, scheme);
        let flight = |since: f64| now - since < FLIGHT_STALE_MS && now >= since;
        match slot {
            Slot::Ready { token, refreshing } if now < token.expires_at => {
                let ready = Need::Ready {
                    wire: Rc::clone(&token.wire),
                    credentials: Rc::clone(&token.credentials),
                    generation: token.generation,
                    obtained_at: token.obtained_at,
                };
                if now < token.due_at || refreshing.is_some_and(flight) {
                    return ready;
                }
                *refreshing = Some(now);
                Need::Fetch
            }
            Slot::Ready { refreshing: Some(since), .. } if flight(*since) => Need::Wait,
            Slot::Flight { since } if flight(*since) => Need::Wait,
            Slot::Failed { failure, at } if now - *at < FAILED_HOLD_MS && now >= *at => Need::Failed(*failure),
            _ => {
                *slot = Slot::Flight { since: now };
                Need::Fetch
            }
        }
    }

    /// The credentials of scheme `scheme`'s cached token, expired or not, for a call that does
    /// not send it to scan for it all the same.
    pub fn cached(&self, scheme: u8) -> Option<Rc<Credentials>> {
        match self.slots.borrow().get(usize::from(scheme)) {
            Some(Slot::Ready { token, .. }) => Some(Rc::clone(&token.credentials)),
            _ => None,
        }
    }

    /// The token endpoint's answer for scheme `scheme` (`status` 0: it could not be reached),
    /// at `now`; `margin_s` as [`TokenExchange::margin_s`].
    pub fn put(&self, scheme: u8, status: u16, body: &str, now: f64, margin_s: u32) -> bool {
        // The assertions this scheme's exchanges sent that are still valid (a service
        // account's; the one this exchange sent among them): credentials of the token obtained.
        let obtained = oauth::read_token(status, body).map(bearer).map(|mut token| {
            if let Some(live) = self.assertions.borrow_mut().get_mut(usize::from(scheme)) {
                live.retain(|(_, exp)| now < *exp);
                token.values.extend(live.iter().map(|(a, _)| Secret::new(a.expose().to_owned())));
            }
            token
        });
        self.settle(scheme, obtained, now, margin_s)
    }

    /// The flight of scheme `scheme` is about to send `assertion`, valid until `exp_ms`, to the
    /// token endpoint ([`oauth::signed`]); [`Tokens::put`] adds it to the credentials of what it
    /// obtains, and of every token after it until `exp_ms`.
    fn sent(&self, scheme: u8, assertion: Secret, exp_ms: f64) {
        let mut assertions = self.assertions.borrow_mut();
        let i = usize::from(scheme);
        if assertions.len() <= i {
            assertions.resize_with(i + 1, Vec::new);
        }
        let live = &mut assertions[i];
        if live.len() >= MAX_ASSERTIONS {
            live.remove(0);
        }
        live.push((assertion, exp_ms));
    }

    /// A token obtained without an exchange (a service account's own JWT), valid `lifetime_s`.
    pub fn put_token(&self, scheme: u8, token: Secret, lifetime_s: u32, now: f64, margin_s: u32) -> bool {
        self.settle(scheme, Ok(bearer((token, lifetime_s))), now, margin_s)
    }

    /// A session's login answered `status` (0: unreachable), setting `set_cookies` (one
    /// `Set-Cookie` value per line), at `now`.
    pub fn put_session(&self, scheme: u8, login: &crate::table::Login, status: u16, set_cookies: &str, now: f64) -> bool {
        self.settle(scheme, session::read_session(login, status, set_cookies), now, login.margin_s)
    }

    /// The flight for `scheme` failed before any exchange (the signature).
    pub fn fail(&self, scheme: u8, failure: Failure, now: f64) {
        let _ = self.settle(scheme, Err(failure), now, 0);
    }

    /// Whether `scheme`'s flight, or its refresh, is still one (a token taken from the
    /// Durable Object is adopted only then).
    fn flying(&self, scheme: u8) -> bool {
        self.slots.borrow().get(usize::from(scheme)).is_some_and(Slot::in_flight)
    }

    /// Installs `token` (from another isolate, through [`shared`]), with its own times (ms).
    fn install(&self, scheme: u8, token: Obtained, due_at: f64, expires_at: f64, obtained_at: f64, refreshing: Option<f64>) {
        let ready = self.ready(token, due_at, expires_at, obtained_at, refreshing);
        *slot_of(&mut self.slots.borrow_mut(), scheme) = ready;
    }

    /// A slot holding `token`, under a new generation.
    fn ready(&self, obtained: Obtained, due_at: f64, expires_at: f64, obtained_at: f64, refreshing: Option<f64>) -> Slot {
        let generation = self.generations.get().wrapping_add(1);
        self.generations.set(generation);
        let credentials = Rc::new(obtained.credentials());
        let Obtained { wire, values, .. } = obtained;
        let token = Token { wire: Rc::new(wire), credentials, values, due_at, expires_at, generation, obtained_at };
        Slot::Ready { token, refreshing }
    }

    /// `scheme`'s token as [`shared::record`] writes it, with its due and expiry times (ms).
    pub fn record(&self, scheme: u8) -> Option<(String, f64, f64)> {
        match self.slots.borrow().get(usize::from(scheme))? {
            Slot::Ready { token, .. } => Some((shared::record(token.wire.expose(), &token.values, token.due_at, token.expires_at, token.obtained_at), token.due_at, token.expires_at)),
            _ => None,
        }
    }

    /// Settles `scheme`'s flight; `true`: a token arrived.
    fn settle(&self, scheme: u8, outcome: Result<Obtained, Failure>, now: f64, margin_s: u32) -> bool {
        let mut slots = self.slots.borrow_mut();
        let slot = slot_of(&mut slots, scheme);
        *slot = match outcome {
            Ok(token) => {
                let lifetime_ms = f64::from(token.lifetime_s) * 1000.0;
                let margin_ms = (f64::from(margin_s) * 1000.0).min(lifetime_ms / 2.0);
                self.ready(token, now + lifetime_ms - margin_ms, now + lifetime_ms, now, None)
            }
            // A failure of a flight that is no longer the slot's (a newer token arrived, or was
            // dropped and is being obtained again) changes nothing.
            Err(_) if !slot.in_flight() => return false,
            // A refresh that failed while the token is still valid: keep serving it, and try
            // again after the hold rather than on every call.
            Err(_) if matches!(slot, Slot::Ready { token, .. } if now < token.expires_at) => {
                if let Slot::Ready { token, refreshing } = slot {
                    token.due_at = now + FAILED_HOLD_MS;
                    *refreshing = None;
                }
                return false;
            }
            Err(failure) => Slot::Failed { failure, at: now },
        };
        matches!(slot, Slot::Ready { .. })
    }

    /// Drops whatever scheme `scheme` holds: its credentials changed (a new `env`, a rotated
    /// Secrets Store value), and what they obtained is not theirs to serve.
    pub fn forget(&self, scheme: u8) {
        if let Some(slot) = self.slots.borrow_mut().get_mut(usize::from(scheme)) {
            *slot = Slot::Empty;
        }
    }

    /// Drops scheme `scheme`'s token if it is still the one of `generation` (the upstream
    /// refused it); a newer one stays.
    pub fn invalidate(&self, scheme: u8, generation: u32) {
        if let Some(slot) = self.slots.borrow_mut().get_mut(usize::from(scheme)) {
            if matches!(slot, Slot::Ready { token, .. } if token.generation == generation) {
                *slot = Slot::Empty;
            }
        }
    }
}

/// What a flight obtained: the header value to send, the credential values in it (what the
/// redactor looks for in upstream text), and how long it lasts.
pub(crate) struct Obtained {
    pub(crate) wire: Secret,
    pub(crate) values: Vec<Secret>,
    pub(crate) lifetime_s: u32,
}

impl Obtained {
    /// What finds its values in upstream text.
    pub(crate) fn credentials(&self) -> Credentials {
        let mut credentials = Credentials::default();
        for value in &self.values {
            credentials.add(value.expose());
        }
        credentials
    }
}

/// Scheme `scheme`'s slot, made (empty) if there is none yet.
fn slot_of(slots: &mut Vec<Slot>, scheme: u8) -> &mut Slot {
    let i = usize::from(scheme);
    if slots.len() <= i {
        slots.resize_with(i + 1, Slot::default);
    }
    &mut slots[i]
}

/// An access token as a bearer token.
fn bearer((token, lifetime_s): (Secret, u32)) -> Obtained {
    Obtained { wire: Secret::new(["Bearer ", token.expose()].concat()), values: vec![token], lifetime_s }
}

/// A token or login endpoint's URL, its origin replaced by the vetted loopback one when set (dev
/// and tests), as the API's is.
fn endpoint(url: &str, origin_override: Option<&str>) -> String {
    match origin_override {
        Some(origin) => [origin, &url[crate::origin::origin_of(url).len()..]].concat(),
        None => url.to_owned(),
    }
}

/// Whether `response` says the deployment's credentials of `scheme` stopped working, and the
/// stage an `auth_failed` names if it persists after fresh ones: a token's 401; a session's
/// relogin statuses, or its soft login wall (a 2xx that is the login page, by its media type or
/// its marker, which the call's scan looks for).
pub fn ended(scheme: &crate::table::Scheme, response: &crate::http::HttpResponse<'_>, redactor: &crate::redact::Redactor) -> Option<AuthStage> {
    use crate::table::AuthScheme;
    let status = response.status;
    match scheme.auth {
        AuthScheme::Session(login) => {
            if login.relogin.contains(&status) {
                return Some(AuthStage::Upstream);
            }
            let page = (200..300).contains(&status)
                && ((!login.wall_type.is_empty() && response.content_type.is_some_and(|t| crate::media::essence(t).eq_ignore_ascii_case(login.wall_type)))
                    || (!login.wall_marker.is_empty() && response.body.flagged(redactor, crate::media::is_json(response.content_type)) && response.body.text().contains(login.wall_marker)));
            page.then_some(AuthStage::Login)
        }
        _ => (status == 401).then_some(AuthStage::Upstream),
    }
}

/// What an `auth_failed` of `scheme` says to check: the kind of credential and its handles
/// (another, or empty; the secret's).
pub fn check(scheme: &crate::table::Scheme) -> (&'static str, &'static str, &'static str) {
    use crate::table::AuthScheme;
    match scheme.auth {
        AuthScheme::ClientCredentials(exchange) => ("client credentials", exchange.client_id, scheme.secret),
        AuthScheme::Session(login) => ("login", login.fields.iter().map(|&(_, h)| h).find(|h| *h != scheme.secret).unwrap_or(""), scheme.secret),
        _ => ("private key", "", scheme.secret),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const OK: &str = r#"{"access_token":"at_CANARY1","token_type":"Bearer","expires_in":120}"#;

    pub(crate) fn ready(need: Need) -> (String, u32) {
        match need {
            Need::Ready { wire, generation, .. } => (wire.expose().to_owned(), generation),
            other => panic!("expected a token, got {other:?}"),
        }
    }

    #[test]
    fn one_flight_for_many_calls_then_the_token_for_all() {
        let tokens = Tokens::default();
        assert!(matches!(tokens.need(0, 1000.0), Need::Fetch));
        for _ in 0..99 {
            assert!(matches!(tokens.need(0, 1000.0), Need::Wait));
        }
        tokens.put(0, 200, OK, 1000.0, 60);
        assert_eq!(ready(tokens.need(0, 1000.0)).0, "Bearer at_CANARY1");
        // Another scheme has a slot of its own.
        assert!(matches!(tokens.need(1, 1000.0), Need::Fetch));
    }

    #[test]
    fn a_due_token_serves_while_one_call_refreshes_it_and_an_expired_one_does_not() {
        let tokens = Tokens::default();
        tokens.need(0, 0.0);
        tokens.put(0, 200, OK, 0.0, 60);
        // 120 s lifetime, 60 s margin (at most half): due at 60 s, expired at 120 s.
        let (_, first) = ready(tokens.need(0, 59_000.0));
        assert!(matches!(tokens.need(0, 100_000.0), Need::Fetch), "the first call past due refreshes");
        assert_eq!(ready(tokens.need(0, 100_001.0)).1, first, "the others keep the valid token");
        assert!(matches!(tokens.need(0, 121_000.0), Need::Wait), "expired while the refresh is in flight: wait");
        tokens.put(0, 200, r#"{"access_token":"at_CANARY2","token_type":"bearer"}"#, 121_000.0, 60);
        let (wire, second) = ready(tokens.need(0, 121_000.0));
        assert_eq!(wire, "Bearer at_CANARY2");
        assert_ne!(first, second);
        // No expires_in: an hour, due a minute before.
        assert!(matches!(tokens.need(0, 121_000.0 + 3_540_000.0), Need::Fetch));
    }

    #[test]
    fn a_failed_refresh_keeps_the_valid_token_and_waits_before_trying_again() {
        let tokens = Tokens::default();
        tokens.need(0, 0.0);
        tokens.put(0, 200, OK, 0.0, 60);
        assert!(matches!(tokens.need(0, 60_000.0), Need::Fetch));
        tokens.put(0, 503, "", 60_000.0, 60);
        ready(tokens.need(0, 60_500.0));
        assert!(matches!(tokens.need(0, 61_001.0), Need::Fetch));
    }

    #[test]
    fn a_refused_exchange_answers_for_a_moment_then_is_tried_again() {
        let tokens = Tokens::default();
        tokens.need(0, 0.0);
        tokens.put(0, 401, r#"{"error":"invalid_client"}"#, 0.0, 60);
        assert!(matches!(tokens.need(0, 10.0), Need::Failed(Failure::Refused(401))));
        assert!(matches!(tokens.need(0, FAILED_HOLD_MS + 1.0), Need::Fetch));
        for (status, body) in [(200, "{}"), (200, "not json"), (200, r#"{"access_token":"a","token_type":"mac"}"#), (200, r#"{"access_token":"a\nb","token_type":"bearer"}"#)] {
            assert_eq!(oauth::read_token(status, body).unwrap_err(), Failure::Unusable(200), "{body}");
        }
        assert_eq!(oauth::read_token(0, "").unwrap_err(), Failure::Unreachable);
    }

    #[test]
    fn a_refused_token_is_dropped_only_if_still_cached_and_a_stale_flight_is_taken_over() {
        let tokens = Tokens::default();
        tokens.need(0, 0.0);
        tokens.put(0, 200, OK, 0.0, 60);
        let (_, old) = ready(tokens.need(0, 1.0));
        tokens.invalidate(0, old.wrapping_add(7));
        assert_eq!(ready(tokens.need(0, 2.0)).1, old, "another generation's refusal drops nothing");
        tokens.invalidate(0, old);
        assert!(matches!(tokens.need(0, 3.0), Need::Fetch));
        assert!(matches!(tokens.need(0, 4.0), Need::Wait));
        assert!(matches!(tokens.need(0, 3.0 + FLIGHT_STALE_MS), Need::Fetch), "a flight nobody finished is taken over");
    }

}
