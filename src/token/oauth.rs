//! The exchanges of the token lifecycle ([`super`]): an OAuth2 client's credentials for an
//! access token (RFC 6749 §4.4: a form POST with the client's basic credentials), and a service
//! account's JWT (RFC 7523): its signing input, which the entry signs through WebCrypto (the
//! wasm holds no crypto), then the JWT exchanged at the token endpoint
//! (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`, Google's) or cached as the token
//! itself (a GitHub App's JWT).

use super::{Failure, Tokens, DEFAULT_LIFETIME_S};
use crate::forms::base64_with;
use crate::http::{HeaderValue, HttpRequest};
use crate::secret::Secret;
use crate::table::{JwtGrant, Method, TokenExchange};
use crate::value::Value;

/// The access token and its lifetime (seconds) from a token endpoint's answer (RFC 6749 §5.1).
pub(super) fn read_token(status: u16, body: &str) -> Result<(Secret, u32), Failure> {
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

/// What a signature came to ([`signed`]).
#[derive(Debug)]
pub enum Signed {
    /// The JWT to exchange: make this request.
    Exchange(HttpRequest),
    /// The JWT is the token, cached.
    Token,
    /// No signature (the flight failed), or the JWT was not cached.
    Failed,
}

/// What the entry's signature of `input` comes to: the token itself (no `token_url`), cached
/// here, or the exchange of the JWT to make.
pub fn signed(tokens: &Tokens, scheme: u8, grant: &'static JwtGrant, input: &str, signature: &[u8], now: f64, origin_override: Option<&str>) -> Signed {
    if signature.is_empty() {
        tokens.fail(scheme, Failure::Unsigned, now);
        return Signed::Failed;
    }
    let jwt = Secret::new([input, ".", &base64_with(signature, &BASE64URL, false)].concat());
    if grant.token_url.is_empty() {
        // Cached until its `exp`, counted from the backdated `iat`.
        let cached = tokens.put_token(scheme, jwt, grant.lifetime_s.saturating_sub(JWT_BACKDATE_S).max(1), now, grant.margin_s);
        return if cached { Signed::Token } else { Signed::Failed };
    }
    let mut form = crate::encode::Pairs::new();
    form.push("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
    form.push("assertion", jwt.expose());
    // Replayable until its `exp` (the backdated `iat` plus the lifetime; counted here from the
    // signature, a moment after `signing_input` wrote the claims: never before the JWT's own):
    // scrubbed with the tokens obtained until then (see `Tokens::sent`).
    let exp_ms = (((now / 1000.0) as u64).saturating_sub(u64::from(JWT_BACKDATE_S)) + u64::from(grant.lifetime_s)) as f64 * 1000.0;
    tokens.sent(scheme, jwt, exp_ms);
    // The form holds a replayable assertion: a body that does not print.
    let body = crate::body::RequestBody::Secret(Secret::new(form.into_string()));
    let mut request = token_request(grant.token_url, String::new(), None, origin_override);
    request.body = Some(body);
    Signed::Exchange(request)
}

const BASE64URL: [u8; 64] = *b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The token request for `exchange`: `POST` the form `grant_type=client_credentials` (and the
/// scopes) with the client's basic credentials (`client`, from
/// [`crate::auth::client_authorization`]).
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
    let url = super::endpoint(token_url, origin_override);
    let mut headers = vec![
        ("accept", HeaderValue::Static("application/json")),
        ("content-type", HeaderValue::Static("application/x-www-form-urlencoded")),
    ];
    headers.extend(client.map(|c| ("authorization", c)));
    HttpRequest { method: Method::Post, url, headers, body: Some(crate::body::RequestBody::Text(form)), query_credentials: Vec::new() }
}


#[cfg(test)]
mod tests {
    use super::super::tests::ready;
    use super::super::Need;
    use super::*;
    use crate::auth::client_authorization;
    use crate::forms::base64;

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
        let Signed::Exchange(exchange) = signed(&tokens, 0, &GRANT, &input, &[1, 2, 3], 0.0, None) else { panic!("an exchange") };
        match &exchange.body {
            Some(crate::body::RequestBody::Secret(t)) => assert_eq!(t.expose(), format!("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={input}.AQID")),
            other => panic!("{other:?}"),
        }
        assert_eq!(exchange.header("authorization"), None);
        // No token URL: the JWT is the token, cached; no signature: the flight failed.
        static APP: JwtGrant = JwtGrant { alg: JwtAlg::Es256, token_url: "", issuer: "1", subject: "", audience: "", scope: "", lifetime_s: 600, margin_s: 60 };
        assert!(matches!(signed(&tokens, 1, &APP, "h.c", &[1, 2, 3], 0.0, None), Signed::Token));
        assert_eq!(ready(tokens.need(1, 1.0)).0, "Bearer h.c.AQID");
        assert!(matches!(tokens.need(2, 0.0), Need::Fetch));
        assert!(matches!(signed(&tokens, 2, &APP, "h.c", &[], 0.0, None), Signed::Failed));
        assert!(matches!(tokens.need(2, 1.0), Need::Failed(Failure::Unsigned)));
        // A failure reported for no flight (a late one, its slot since served) changes nothing.
        assert!(matches!(signed(&tokens, 1, &APP, "h.c", &[], 2.0, None), Signed::Failed));
        ready(tokens.need(1, 3.0));
    }

    #[test]
    fn each_assertion_is_scrubbed_with_every_token_obtained_until_its_exp() {
        use crate::table::JwtAlg;
        static GRANT: JwtGrant = JwtGrant {
            alg: JwtAlg::Rs256,
            token_url: "https://oauth2.example.com/token",
            issuer: "sa@example.com",
            subject: "",
            audience: "",
            scope: "",
            lifetime_s: 3600,
            margin_s: 60,
        };
        const T0: f64 = 1_700_000_000_000.0;
        let tokens = Tokens::default();
        // Signs and exchanges at `now`, the signature `mark`: the assertion sent.
        let exchange = |now: f64, mark: u8| -> String {
            assert!(matches!(tokens.need(0, now), Need::Fetch));
            let input = signing_input(&GRANT, now);
            let Signed::Exchange(request) = signed(&tokens, 0, &GRANT, &input, &[mark; 48], now, None) else { panic!("an exchange") };
            let Some(crate::body::RequestBody::Secret(form)) = &request.body else { panic!() };
            let assertion = form.expose().split("assertion=").nth(1).unwrap().to_owned();
            let token = format!(r#"{{"access_token":"ya29.t{mark}","token_type":"Bearer","expires_in":3599}}"#);
            assert!(tokens.put(0, 200, &token, now, 60));
            assertion
        };
        let finds = |text: &str| crate::redact::Redactor::with_shared(tokens.cached(0)).finds_in(text);
        let first = exchange(T0, 1);
        assert!(finds(&first), "the assertion is a credential of its token");
        // Its token revoked within the hour (a 401): the next token carries both assertions.
        let (_, generation) = ready(tokens.need(0, T0 + 600_000.0));
        tokens.invalidate(0, generation);
        let second = exchange(T0 + 600_000.0, 2);
        assert!(finds(&first) && finds(&second), "the first is still valid, and still scrubbed");
        // Once the first has expired, the tokens obtained after it no longer carry it.
        let (_, generation) = ready(tokens.need(0, T0 + 3_600_000.0));
        tokens.invalidate(0, generation);
        let third = exchange(T0 + 3_600_000.0, 3);
        assert!(finds(&second) && finds(&third) && !finds(&first));
        // A refused exchange's assertion was sent too: scrubbed with the next token obtained.
        let (_, generation) = ready(tokens.need(0, T0 + 3_700_000.0));
        tokens.invalidate(0, generation);
        assert!(matches!(tokens.need(0, T0 + 3_700_000.0), Need::Fetch));
        let input = signing_input(&GRANT, T0 + 3_700_000.0);
        let Signed::Exchange(request) = signed(&tokens, 0, &GRANT, &input, &[4; 48], T0 + 3_700_000.0, None) else { panic!() };
        let Some(crate::body::RequestBody::Secret(form)) = &request.body else { panic!() };
        let refused = form.expose().split("assertion=").nth(1).unwrap().to_owned();
        assert!(!tokens.put(0, 400, r#"{"error":"invalid_grant"}"#, T0 + 3_700_000.0, 60));
        let fifth = exchange(T0 + 3_702_000.0, 5);
        assert!(finds(&refused) && finds(&fifth));
        // No more than MAX_ASSERTIONS are carried, the newest kept.
        for mark in 6..12 {
            let (_, generation) = ready(tokens.need(0, T0 + 3_800_000.0 + f64::from(mark)));
            tokens.invalidate(0, generation);
            exchange(T0 + 3_800_000.0 + f64::from(mark), mark);
        }
        let newest = exchange_after(&tokens, T0 + 3_900_000.0, 12, &exchange);
        assert!(finds(&newest) && !finds(&fifth));
    }

    /// `exchange` at `now` after dropping the cached token.
    fn exchange_after(tokens: &Tokens, now: f64, mark: u8, exchange: &dyn Fn(f64, u8) -> String) -> String {
        let (_, generation) = ready(tokens.need(0, now));
        tokens.invalidate(0, generation);
        exchange(now, mark)
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
