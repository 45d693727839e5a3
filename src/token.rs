//! Tokens that expire: the access tokens a scheme exchanges the deployment's credentials for
//! (OAuth2 client credentials, RFC 6749 §4.4; a service account's signed JWT, RFC 7523),
//! obtained, cached, refreshed and shared by the calls of one isolate.
//!
//! The runtime never awaits anything, so obtaining a token is a step the entry performs, like a
//! fetch. When a call needs its scheme's token, [`Tokens::need`] answers from the cache:
//!
//! - **Ready**: the token is valid and not yet due; the call sends it.
//! - **Fetch**: none is cached (or it is due, or expired) and no call is obtaining one: this call
//!   does. The runtime answers `T` with the token request ([`exchange_request`]); the entry sends
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
//! When the upstream answers 401 to a call that sent a cached token, the token is dropped (only
//! if it is still the cached one: [`Tokens::invalidate`] takes its generation) and the call
//! begins again, once: it obtains a fresh token and is sent a second time (`attempts` counts
//! both, the receipt says `refreshed`). A second 401 is `auth_failed` (`stage: "upstream"`):
//! a fresh token the upstream refuses is not the caller's to fix.
//!
//! Per call, `options.auth.apiKey` is a ready access token: sent as a bearer token, never cached,
//! never refreshed (a 401 is the caller's `upstream_error`). Only the deployment's credentials
//! produce cached material. The cached token is a credential like any: held in [`Secret`]s,
//! scanned for in every response ([`crate::redact`]), never in a receipt, error or log.

use crate::error::{AuthStage, CallError};
use crate::forms::{base64, base64_with};
use crate::redact::Credentials;
use crate::request::{HeaderValue, HttpRequest};
use crate::secret::Secret;
use crate::table::{JwtGrant, Login, Method, TokenExchange};
use crate::value::Value;
use std::cell::RefCell;
use std::rc::Rc;

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
        CallError::AuthFailed { capability, stage, status, why, check }
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

#[derive(Debug)]
struct Token {
    wire: Rc<Secret>,
    credentials: Rc<Credentials>,
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
}

impl Tokens {
    /// What a call beginning at `now` does about scheme `scheme`'s token (see the module docs).
    /// Answering [`Need::Fetch`] makes that call the flight.
    pub fn need(&self, scheme: u8, now: f64) -> Need {
        let mut slots = self.slots.borrow_mut();
        let i = usize::from(scheme);
        if slots.len() <= i {
            slots.resize_with(i + 1, Slot::default);
        }
        let slot = &mut slots[i];
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

    /// The token endpoint's answer for scheme `scheme` (`status` 0: it could not be reached),
    /// at `now`; `margin_s` as [`TokenExchange::margin_s`].
    pub fn put(&self, scheme: u8, status: u16, body: &str, now: f64, margin_s: u32) {
        self.settle(scheme, read_token(status, body).map(bearer), now, margin_s);
    }

    /// A token obtained without an exchange (a service account's own JWT), valid `lifetime_s`.
    pub fn put_token(&self, scheme: u8, token: Secret, lifetime_s: u32, now: f64, margin_s: u32) {
        self.settle(scheme, Ok(bearer((token, lifetime_s))), now, margin_s);
    }

    /// A session's login answered `status` (0: unreachable), setting `set_cookies` (one
    /// `Set-Cookie` value per line), at `now`.
    pub fn put_session(&self, scheme: u8, login: &Login, status: u16, set_cookies: &str, now: f64) {
        self.settle(scheme, read_session(login, status, set_cookies), now, login.margin_s);
    }

    /// The flight for `scheme` failed before any exchange (the signature).
    pub fn fail(&self, scheme: u8, failure: Failure, now: f64) {
        self.settle(scheme, Err(failure), now, 0);
    }

    fn settle(&self, scheme: u8, outcome: Result<Obtained, Failure>, now: f64, margin_s: u32) {
        let mut slots = self.slots.borrow_mut();
        let i = usize::from(scheme);
        if slots.len() <= i {
            slots.resize_with(i + 1, Slot::default);
        }
        let slot = match outcome {
            Ok(Obtained { wire, credentials, lifetime_s }) => {
                let generation = self.generations.get().wrapping_add(1);
                self.generations.set(generation);
                let lifetime_ms = f64::from(lifetime_s) * 1000.0;
                let margin_ms = (f64::from(margin_s) * 1000.0).min(lifetime_ms / 2.0);
                Slot::Ready {
                    token: Token {
                        wire: Rc::new(wire),
                        credentials: Rc::new(credentials),
                        due_at: now + lifetime_ms - margin_ms,
                        expires_at: now + lifetime_ms,
                        generation,
                        obtained_at: now,
                    },
                    refreshing: None,
                }
            }
            // A failure of a flight that is no longer the slot's (a newer token arrived, or was
            // dropped and is being obtained again) changes nothing.
            Err(_) if !matches!(&slots[i], Slot::Flight { .. } | Slot::Ready { refreshing: Some(_), .. }) => return,
            // A refresh that failed while the token is still valid: keep serving it, and try
            // again after the hold rather than on every call.
            Err(_) if matches!(&slots[i], Slot::Ready { token, .. } if now < token.expires_at) => {
                if let Slot::Ready { token, refreshing } = &mut slots[i] {
                    token.due_at = now + FAILED_HOLD_MS;
                    *refreshing = None;
                }
                return;
            }
            Err(failure) => Slot::Failed { failure, at: now },
        };
        slots[i] = slot;
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

/// What a flight obtained: the header value to send, what finds it in upstream text, and how
/// long it lasts.
struct Obtained {
    wire: Secret,
    credentials: Credentials,
    lifetime_s: u32,
}

/// An access token as a bearer token.
fn bearer((token, lifetime_s): (Secret, u32)) -> Obtained {
    let mut credentials = Credentials::default();
    credentials.add(token.expose());
    Obtained { wire: Secret::new(["Bearer ", token.expose()].concat()), credentials, lifetime_s }
}

/// A session from a login's answer: the cookies it set that the scheme keeps, as one `Cookie`
/// value, lasting the scheme's lifetime or the shortest `Max-Age` among them.
fn read_session(login: &Login, status: u16, set_cookies: &str) -> Result<Obtained, Failure> {
    if !(200..400).contains(&status) {
        return Err(Failure::Login(status));
    }
    // name → (value, Max-Age), the last of a repeated name winning (RFC 6265 §5.3).
    let mut kept: Vec<(&str, &str, Option<i64>)> = Vec::new();
    for line in set_cookies.lines() {
        let mut parts = line.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { continue };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || (!login.cookies.is_empty() && !login.cookies.contains(&name)) {
            continue;
        }
        // A Max-Age that is no number is ignored (§5.2.2).
        let max_age = parts.filter_map(|a| a.split_once('=')).filter(|(k, _)| k.trim().eq_ignore_ascii_case("max-age")).find_map(|(_, v)| v.trim().parse::<i64>().ok());
        kept.retain(|(n, _, _)| *n != name);
        kept.push((name, value, max_age));
    }
    // A cookie the login deletes (Max-Age 0 or less, or empty) is none.
    kept.retain(|(_, value, max_age)| !value.is_empty() && max_age.is_none_or(|s| s > 0));
    let whole = if login.cookies.is_empty() { !kept.is_empty() } else { login.cookies.iter().all(|c| kept.iter().any(|(n, _, _)| n == c)) };
    let mut jar = String::new();
    let mut credentials = Credentials::default();
    let mut lifetime_s = login.lifetime_s;
    for (name, value, max_age) in &kept {
        if let Some(seconds) = max_age {
            lifetime_s = lifetime_s.min(u32::try_from(*seconds).unwrap_or(u32::MAX));
        }
        if !jar.is_empty() {
            jar.push_str("; ");
        }
        jar.push_str(name);
        jar.push('=');
        jar.push_str(value);
        // A short value (`lang=en`) is no session secret, and as a needle would scrub every
        // occurrence of it from every answer.
        if value.len() >= MIN_COOKIE_SECRET {
            credentials.add(value);
        }
    }
    if !whole || crate::header::value_fault(&jar).is_some() {
        drop(Secret::new(jar));
        return Err(Failure::NoSession(status));
    }
    Ok(Obtained { wire: Secret::new(jar), credentials, lifetime_s: lifetime_s.max(1) })
}

/// The shortest cookie value treated as a credential (scrubbed from answers).
pub const MIN_COOKIE_SECRET: usize = 8;

/// A session's login: its fields (`body`, prepared from their handles) POSTed as a form or JSON.
pub fn login_request(login: &'static Login, body: Secret, origin_override: Option<&str>) -> HttpRequest {
    let url = match origin_override {
        Some(origin) => [origin, &login.url[crate::request::origin_of(login.url).len()..]].concat(),
        None => login.url.to_owned(),
    };
    let media = if login.json { "application/json" } else { "application/x-www-form-urlencoded" };
    HttpRequest {
        method: Method::Post,
        url,
        headers: vec![("content-type", HeaderValue::Static(media))],
        body: Some(crate::body::RequestBody::Secret(body)),
        query_credential: None,
    }
}

/// The access token and its lifetime (seconds) from a token endpoint's answer (RFC 6749 §5.1).
fn read_token(status: u16, body: &str) -> Result<(Secret, u32), Failure> {
    match status {
        0 => return Err(Failure::Unreachable),
        200..=299 => {}
        other => return Err(Failure::Refused(other)),
    }
    let unusable = Failure::Unusable(status);
    let value = crate::parse::parse(body).map_err(|_| unusable)?;
    let token = value.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty()).ok_or(unusable)?;
    if crate::header::value_fault(token).is_some() {
        return Err(unusable);
    }
    // `token_type` is required, and must be one a bearer header carries (case-insensitive).
    if !value.get("token_type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
        return Err(unusable);
    }
    // Whole seconds, as a number or (some servers) a string; anything else: the default.
    let lifetime = match value.get("expires_in") {
        Some(Value::Number(n)) => n.as_str().parse::<u32>().ok(),
        Some(Value::String(s)) => s.trim().parse::<u32>().ok(),
        _ => None,
    };
    Ok((Secret::new(token.to_owned()), lifetime.filter(|s| *s > 0).unwrap_or(DEFAULT_LIFETIME_S)))
}

/// Whether `response` says the deployment's credentials of `scheme` stopped working, and the
/// stage an `auth_failed` names if it persists after fresh ones: a token's 401; a session's
/// relogin statuses, or its soft login wall (a 2xx that is the login page, by its media type or
/// its marker, which the call's scan looks for).
pub fn ended(scheme: &crate::table::Scheme, response: &crate::response::HttpResponse<'_>, redactor: &crate::redact::Redactor) -> Option<AuthStage> {
    use crate::table::AuthScheme;
    let status = response.status;
    match scheme.auth {
        AuthScheme::Session(login) => {
            if login.relogin.contains(&status) {
                return Some(AuthStage::Upstream);
            }
            let page = (200..300).contains(&status)
                && ((!login.wall_type.is_empty() && response.content_type.is_some_and(|t| t.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case(login.wall_type)))
                    || (!login.wall_marker.is_empty() && response.body.holds_credential(redactor) && response.body.text().contains(login.wall_marker)));
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

/// The client's credentials as the token endpoint takes them (RFC 6749 §2.3.1: HTTP basic over
/// the form-encoded id and secret).
pub fn client_authorization(client_id: &str, secret: &str) -> Secret {
    let mut pair = String::with_capacity(client_id.len() + secret.len() + 8);
    crate::encode::percent_encode_into(&mut pair, client_id);
    pair.push(':');
    crate::encode::percent_encode_into(&mut pair, secret);
    let wire = Secret::new(format!("Basic {}", base64(pair.as_bytes())));
    drop(Secret::new(pair));
    wire
}

/// Seconds a JWT's `iat` is set in the past.
pub const JWT_BACKDATE_S: u32 = 30;

/// A service account's JWT before its signature: `base64url(header).base64url(claims)`, issued
/// at `now` (ms), expiring `lifetime_s` later.
pub fn signing_input(grant: &JwtGrant, now: f64) -> String {
    // Issued a little in the past: a server whose clock runs behind would refuse a JWT from its
    // future (GitHub recommends 60 s; `exp` stays within the lifetime asked for).
    let iat = ((now / 1000.0) as u64).saturating_sub(u64::from(JWT_BACKDATE_S));
    let mut claims = String::with_capacity(256);
    claims.push_str("{\"iss\":");
    crate::json::push_str(&mut claims, grant.issuer);
    for (name, value) in [("sub", grant.subject), ("aud", grant.audience), ("scope", grant.scope)] {
        if !value.is_empty() {
            claims.push_str(",\"");
            claims.push_str(name);
            claims.push_str("\":");
            crate::json::push_str(&mut claims, value);
        }
    }
    claims.push_str(",\"iat\":");
    crate::json::push_u64(&mut claims, iat, 0);
    claims.push_str(",\"exp\":");
    crate::json::push_u64(&mut claims, iat + u64::from(grant.lifetime_s), 0);
    claims.push('}');
    let header = format!("{{\"alg\":\"{}\",\"typ\":\"JWT\"}}", grant.alg.as_str());
    let url = |text: &str| base64_with(text.as_bytes(), &BASE64URL, false);
    [url(&header), url(&claims)].join(".")
}

/// What the entry's signature of `input` comes to: the token itself (no `token_url`), cached
/// here, or the exchange of the JWT to make (`None` when it was cached or the signing failed).
pub fn signed(tokens: &Tokens, scheme: u8, grant: &'static JwtGrant, input: &str, signature: &[u8], now: f64, origin_override: Option<&str>) -> Option<HttpRequest> {
    if signature.is_empty() {
        tokens.fail(scheme, Failure::Unsigned, now);
        return None;
    }
    let jwt = Secret::new([input, ".", &base64_with(signature, &BASE64URL, false)].concat());
    if grant.token_url.is_empty() {
        // Cached until its `exp`, counted from the backdated `iat`.
        tokens.put_token(scheme, jwt, grant.lifetime_s.saturating_sub(JWT_BACKDATE_S).max(1), now, grant.margin_s);
        return None;
    }
    let mut form = crate::encode::Pairs::new();
    form.push("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
    form.push("assertion", jwt.expose());
    // The form holds a replayable assertion: a body that does not print.
    let body = crate::body::RequestBody::Secret(Secret::new(form.into_string()));
    let mut request = token_request(grant.token_url, String::new(), None, origin_override);
    request.body = Some(body);
    Some(request)
}

const BASE64URL: [u8; 64] = *b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The token request for `exchange`: `POST` the form `grant_type=client_credentials` (and the
/// scopes) with the client's basic credentials (`client`, from [`client_authorization`]).
/// `origin_override` (a vetted loopback origin, dev and tests) replaces the endpoint's origin
/// as it does the API's.
pub fn exchange_request(exchange: &'static TokenExchange, client: HeaderValue, origin_override: Option<&str>) -> HttpRequest {
    let mut form = crate::encode::Pairs::new();
    form.push("grant_type", "client_credentials");
    if !exchange.scopes.is_empty() {
        form.push("scope", exchange.scopes);
    }
    token_request(exchange.token_url, form.into_string(), Some(client), origin_override)
}

/// A form POST to a token endpoint (its origin replaced by a vetted loopback one in dev).
fn token_request(token_url: &str, form: String, client: Option<HeaderValue>, origin_override: Option<&str>) -> HttpRequest {
    let url = match origin_override {
        Some(origin) => [origin, &token_url[crate::request::origin_of(token_url).len()..]].concat(),
        None => token_url.to_owned(),
    };
    let mut headers = vec![
        ("accept", HeaderValue::Static("application/json")),
        ("content-type", HeaderValue::Static("application/x-www-form-urlencoded")),
    ];
    headers.extend(client.map(|c| ("authorization", c)));
    HttpRequest { method: Method::Post, url, headers, body: Some(crate::body::RequestBody::Text(form)), query_credential: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"{"access_token":"at_CANARY1","token_type":"Bearer","expires_in":120}"#;

    fn ready(need: Need) -> (String, u32) {
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
            assert_eq!(read_token(status, body).unwrap_err(), Failure::Unusable(200), "{body}");
        }
        assert_eq!(read_token(0, "").unwrap_err(), Failure::Unreachable);
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

    #[test]
    fn a_service_accounts_jwt_carries_its_claims_and_becomes_the_token_or_its_exchange() {
        use crate::table::JwtAlg;
        static GRANT: JwtGrant = JwtGrant {
            alg: JwtAlg::Rs256,
            token_url: "https://oauth2.example.com/token",
            issuer: "sa@example.com",
            subject: "",
            audience: "https://oauth2.example.com/token",
            scope: "a b",
            lifetime_s: 3600,
            margin_s: 60,
        };
        let input = signing_input(&GRANT, 1_700_000_000_500.0);
        let (header, claims) = input.split_once('.').unwrap();
        let decode = |s: &str| String::from_utf8(crate::pem::tests_decode_base64url(s)).unwrap();
        assert_eq!(decode(header), r#"{"alg":"RS256","typ":"JWT"}"#);
        assert_eq!(decode(claims), r#"{"iss":"sa@example.com","aud":"https://oauth2.example.com/token","scope":"a b","iat":1699999970,"exp":1700003570}"#);
        let tokens = Tokens::default();
        let exchange = signed(&tokens, 0, &GRANT, &input, &[1, 2, 3], 0.0, None).unwrap();
        match &exchange.body {
            Some(crate::body::RequestBody::Secret(t)) => assert_eq!(t.expose(), format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={input}.AQID")),
            other => panic!("{other:?}"),
        }
        assert_eq!(exchange.header("authorization"), None);
        // No token URL: the JWT is the token, cached; no signature: the flight failed.
        static APP: JwtGrant = JwtGrant { alg: JwtAlg::Es256, token_url: "", issuer: "1", subject: "", audience: "", scope: "", lifetime_s: 600, margin_s: 60 };
        assert!(signed(&tokens, 1, &APP, "h.c", &[1, 2, 3], 0.0, None).is_none());
        assert_eq!(ready(tokens.need(1, 1.0)).0, "Bearer h.c.AQID");
        assert!(matches!(tokens.need(2, 0.0), Need::Fetch));
        assert!(signed(&tokens, 2, &APP, "h.c", &[], 0.0, None).is_none());
        assert!(matches!(tokens.need(2, 1.0), Need::Failed(Failure::Unsigned)));
        // A failure reported for no flight (a late one, its slot since served) changes nothing.
        assert!(signed(&tokens, 1, &APP, "h.c", &[], 2.0, None).is_none());
        ready(tokens.need(1, 3.0));
    }

    #[test]
    fn a_session_keeps_the_cookies_it_names_and_the_shortest_max_age() {
        static LOGIN: Login = Login {
            url: "https://app.example.com/login",
            json: false,
            fields: &[],
            cookies: &["sid", "xsrf"],
            relogin: &[401, 403],
            wall_type: "",
            wall_marker: "",
            lifetime_s: 3600,
            margin_s: 60,
        };
        let lines = "sid=old; Max-Age=5\nsid=s1CANARY00; Path=/; HttpOnly; Max-Age=600\nother=o; Path=/\nxsrf=x1; Max-Age=soon\ngone=; Max-Age=0";
        let got = read_session(&LOGIN, 302, lines).unwrap();
        assert_eq!(got.wire.expose(), "sid=s1CANARY00; xsrf=x1", "the last of a repeated name wins");
        assert_eq!(got.lifetime_s, 600, "a Max-Age that is no number is ignored");
        let redactor = crate::redact::Redactor::with_shared(Some(Rc::new(got.credentials)));
        assert!(redactor.finds_in("echo s1CANARY00"));
        assert!(!redactor.finds_in("x1 is short: no secret, no needle"));
        assert_eq!(read_session(&LOGIN, 302, "sid=s1").err(), Some(Failure::NoSession(302)), "every named cookie, or none");
        assert_eq!(read_session(&LOGIN, 302, "sid=s1\nxsrf=x; Max-Age=0").err(), Some(Failure::NoSession(302)));
        assert_eq!(read_session(&LOGIN, 401, lines).err(), Some(Failure::Login(401)));
        assert_eq!(read_session(&LOGIN, 0, "").err(), Some(Failure::Login(0)));
        static ALL: Login = Login { cookies: &[], ..LOGIN };
        assert_eq!(read_session(&ALL, 200, "a=1\nb=2; Secure").unwrap().wire.expose(), "a=1; b=2");
        assert_eq!(read_session(&ALL, 200, "").err(), Some(Failure::NoSession(200)));
    }

    #[test]
    fn the_exchange_is_a_basic_authenticated_form_post() {
        static EXCHANGE: TokenExchange = TokenExchange { token_url: "https://auth.example.com/oauth/token", client_id: "C_ID", scopes: "read write", margin_s: 60 };
        let client = client_authorization("id:1", "s&cret");
        assert_eq!(client.expose(), format!("Basic {}", base64(b"id%3A1:s%26cret")));
        let req = exchange_request(&EXCHANGE, HeaderValue::Secret(client), Some("http://127.0.0.1:9"));
        assert_eq!(req.url, "http://127.0.0.1:9/oauth/token");
        assert_eq!(req.method, Method::Post);
        match &req.body {
            Some(crate::body::RequestBody::Text(t)) => assert_eq!(t, "grant_type=client_credentials&scope=read%20write"),
            other => panic!("{other:?}"),
        }
        assert!(req.header("authorization").unwrap().starts_with("Basic "));
    }
}
