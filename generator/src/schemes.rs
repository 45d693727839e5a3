//! The manifest's auth schemes, as data: `[auth]` (the default scheme, whose key is the
//! manifest's `secret`) and each `[auth.schemes.<name>]`, one shape for both
//! ([`Attach`](crate::schemes::Attach)), and the rules each must meet on its own
//! ([`Attach::check`](crate::schemes::Attach::check)).
//!
//! ```toml
//! [auth]
//! scheme = "bearer"          # bearer | basic | header | query | cookie | oauth2 | jwt | session
//! # header, name, username, headers, client_id, token_url, scopes, refresh_margin, jwt, login:
//! # each for the schemes the field doc says
//! # unspecified = "required"  # operations stating no `security` of their own
//!
//! # [auth.schemes.petstore_auth]   # by the spec's securitySchemes name; `secret` and the keys above
//! ```
//!
//! Everything that reads a scheme reads it here: the manifest's own checks across schemes
//! ([`crate::manifest`]), which scheme an operation's `security` is met by
//! ([`crate::security`]), the model's token endpoints ([`crate::model`]), the deploy-time check
//! ([`crate::check`]) and the emitted table and entry ([`crate::emit`]). This module knows the
//! schemes as the manifest states them, and what makes one well formed: not the spec (whether
//! the spec declares it is [`crate::security`]'s and [`crate::check`]'s to say), not the rest
//! of the manifest (a credential header's clash with a pinned or call header is asked of it).

use crate::fit::{is_loopback, unfit_for_raw_json};
use anyhow::{bail, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Headers a manifest may neither pin nor let callers set: the runtime owns them.
pub const RUNTIME_HEADERS: &[&str] = &["authorization", "content-type", "content-length", "host", "cookie", "transfer-encoding"];

/// Whether `s` is an UPPER_SNAKE_CASE name: a handle (a Worker secret, var or binding).
pub fn is_env_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether `s` is an HTTP token (RFC 9110): what a header name is.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `[auth]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// bearer, basic or header.
    pub scheme: Scheme,
    /// The header name, for `scheme = "header"`.
    pub header: Option<String>,
    /// The query parameter or cookie name, for `scheme = "query"` or `"cookie"`.
    pub name: Option<String>,
    /// For `scheme = "basic"`: the binding (a Worker secret or var) holding the user name; the
    /// secret is then the password.
    pub username: Option<String>,
    /// What operations stating no `security` of their own need. Unset: the document's
    /// `security`, or none when it has none. Set, it replaces the document's (Twitch's says `[]`
    /// though every Helix endpoint wants a token).
    pub unspecified: Option<Unspecified>,
    /// Credentials sent with the key, each in its header: header → handle (a key header plus a
    /// secret header, which the spec requires together).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Credentials the spec declares as parameters: parameter name → handle. Each is filled from
    /// its handle wherever an operation declares it (header, query, cookie, form or JSON body
    /// field), and is never the caller's (`src/creds.rs`).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// For `scheme = "oauth2"`: the handle holding the client id (the secret is the client
    /// secret).
    pub client_id: Option<String>,
    /// For `oauth2`: the token endpoint; unset, the spec's `flows.clientCredentials.tokenUrl`.
    pub token_url: Option<String>,
    /// For `oauth2`: the scopes asked for; unset, none.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// For `oauth2`: seconds before expiry a token is refreshed (default 60, at most half its
    /// lifetime).
    pub refresh_margin: Option<u32>,
    /// For `scheme = "jwt"`: the JWT's claims and how it is signed.
    #[serde(default)]
    pub jwt: Jwt,
    /// For `scheme = "session"`: the login and how a session is seen to end.
    #[serde(default)]
    pub login: Option<Login>,
    /// Further schemes, keyed by the spec's `securitySchemes` name each attaches.
    #[serde(default)]
    pub schemes: BTreeMap<String, Named>,
}

/// `[auth.schemes.<name>]`: a scheme beside the default, with a handle of its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Named {
    /// The handle holding its key.
    pub secret: String,
    /// How its key travels.
    pub scheme: Scheme,
    /// As `auth.header`.
    pub header: Option<String>,
    /// As `auth.name`.
    pub name: Option<String>,
    /// As `auth.username`.
    pub username: Option<String>,
    /// As `auth.headers`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// As `auth.params`: the credential parameters of the operations this scheme serves (on
    /// them, before `[auth]`'s of the same name).
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// For `scheme = "oauth2"`: the handle holding the client id (the secret is the client
    /// secret).
    pub client_id: Option<String>,
    /// For `oauth2`: the token endpoint; unset, the spec's `flows.clientCredentials.tokenUrl`.
    pub token_url: Option<String>,
    /// For `oauth2`: the scopes asked for; unset, none.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// For `oauth2`: seconds before expiry a token is refreshed (default 60, at most half its
    /// lifetime).
    pub refresh_margin: Option<u32>,
    /// For `scheme = "jwt"`: the JWT's claims and how it is signed.
    #[serde(default)]
    pub jwt: Jwt,
    /// For `scheme = "session"`: the login and how a session is seen to end.
    #[serde(default)]
    pub login: Option<Login>,
}

/// `jwt = { ... }`: a service account's JWT (for `scheme = "jwt"`).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jwt {
    /// `RS256` (default) or `ES256`.
    pub algorithm: Option<String>,
    /// The `iss` claim (a service account's email, a GitHub App's id).
    pub issuer: Option<String>,
    /// The `sub` claim, if any.
    pub subject: Option<String>,
    /// The `aud` claim; unset, the token URL (when there is one).
    pub audience: Option<String>,
    /// Seconds from `iat` to `exp` (default 3600, at most 3600).
    pub lifetime: Option<u32>,
}

/// `login = { ... }`: a cookie session's login (for `scheme = "session"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Where the login is POSTed (https, or loopback).
    pub url: String,
    /// A JSON body; default a form.
    #[serde(default)]
    pub json: bool,
    /// The body's fields: field → handle (the scheme's secret among them).
    pub fields: BTreeMap<String, String>,
    /// The cookies kept from its `Set-Cookie`s; unset: all.
    #[serde(default)]
    pub cookies: Vec<String>,
    /// Statuses meaning the session ended (default 401).
    pub relogin: Option<Vec<u16>>,
    /// A soft login wall: a 2xx that is the login page.
    #[serde(default)]
    pub wall: Wall,
    /// Seconds a session is kept (default 3600; less when a cookie's Max-Age says so).
    pub lifetime: Option<u32>,
}

/// `wall = { content_type, marker }`: what makes a 2xx the login page (either matching).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wall {
    /// Its media type (`text/html`, where the API answers JSON).
    pub content_type: Option<String>,
    /// Text only the login page holds (`name="password"`).
    pub marker: Option<String>,
}

/// One scheme the manifest declares, the default (`[auth]`) or a named one, as one shape.
#[derive(Debug, Clone, Copy)]
pub struct Attach<'a> {
    /// `None` for the default; else the spec's `securitySchemes` name.
    pub spec_name: Option<&'a str>,
    /// The key's handle.
    pub secret: &'a str,
    /// How the key travels.
    pub scheme: Scheme,
    /// The key's header, for `header`.
    pub header: Option<&'a str>,
    /// The key's query parameter or cookie.
    pub name: Option<&'a str>,
    /// A basic pair's user name handle.
    pub username: Option<&'a str>,
    /// Credential headers sent with the key: header → handle.
    pub headers: &'a BTreeMap<String, String>,
    /// Credential parameters: parameter → handle.
    pub params: &'a BTreeMap<String, String>,
    /// For `oauth2`: the client id's handle.
    pub client_id: Option<&'a str>,
    /// For `oauth2`: the token endpoint, if the manifest sets it.
    pub token_url: Option<&'a str>,
    /// For `oauth2`: the scopes asked for.
    pub scopes: &'a [String],
    /// For `oauth2`: the refresh margin, if set.
    pub refresh_margin: Option<u32>,
    /// For `jwt`: its claims and algorithm.
    pub jwt: &'a Jwt,
    /// For `session`: its login.
    pub login: Option<&'a Login>,
}

impl Attach<'_> {
    /// Where it is declared, for messages: `auth` or `auth.schemes.<name>`.
    pub fn table(&self) -> String {
        self.spec_name.map_or_else(|| "auth".to_owned(), |n| format!("auth.schemes.{n}"))
    }

    /// The header carrying the key, lowercase for bearer/basic, `cookie` for a cookie; empty for
    /// a key in the query.
    pub fn key_header(&self) -> &str {
        match self.scheme {
            Scheme::Header => self.header.unwrap_or(""),
            Scheme::Cookie => "cookie",
            Scheme::Query => "",
            Scheme::Bearer | Scheme::Basic | Scheme::Oauth2 | Scheme::Jwt => "authorization",
            Scheme::Session => "cookie",
        }
    }

    /// The query parameter carrying the key, for `scheme = "query"`.
    pub fn key_query(&self) -> Option<&str> {
        (self.scheme == Scheme::Query).then_some(self.name).flatten()
    }

    /// The cookie carrying the key, for `scheme = "cookie"`.
    pub fn key_cookie(&self) -> Option<&str> {
        (self.scheme == Scheme::Cookie).then_some(self.name).flatten()
    }

    /// Every handle it reads: the key's, a pair's user name or a client's id, its credential
    /// headers'.
    pub fn handles(&self) -> impl Iterator<Item = &str> {
        let login = self.login.into_iter().flat_map(|l| l.fields.values().map(String::as_str)).filter(|h| *h != self.secret);
        std::iter::once(self.secret)
            .chain(self.username)
            .chain(self.client_id)
            .chain(self.headers.values().map(String::as_str))
            .chain(login)
            .chain(self.params.values().map(String::as_str).filter(|h| *h != self.secret))
    }

    /// Fails unless this scheme is well formed on its own: each field set exactly for the
    /// schemes that read it, handles in UPPER_SNAKE_CASE, URLs a credential may travel to, text
    /// the runtime can write as it is. `other_header`: whether a header is the manifest's
    /// otherwise (pinned, bound or a call header), which a credential header may not be.
    pub fn check(&self, other_header: impl Fn(&str) -> bool) -> Result<()> {
        let t = self.table();
        match (self.scheme, self.header) {
            (Scheme::Header, Some(h)) if is_token(h) && !RUNTIME_HEADERS.contains(&h.to_ascii_lowercase().as_str()) => {}
            (Scheme::Header, _) => bail!("{t}.scheme = \"header\" needs {t}.header, a header name the runtime does not own"),
            (_, Some(_)) => bail!("{t}.header is only for {t}.scheme = \"header\""),
            _ => {}
        }
        // A query parameter or cookie name: what a URL or a Cookie header carries unescaped.
        let cookie_name = |s: &str| is_token(s) && !s.contains(['=', '%']);
        match (self.scheme, self.name) {
            (Scheme::Query | Scheme::Cookie, Some(n)) if cookie_name(n) => {}
            (Scheme::Query | Scheme::Cookie, _) => bail!("{t}.scheme = \"query\" or \"cookie\" needs {t}.name, the parameter or cookie name"),
            (_, Some(_)) => bail!("{t}.name is only for {t}.scheme = \"query\" or \"cookie\""),
            _ => {}
        }
        match (self.scheme, self.username) {
            (Scheme::Basic, Some(u)) if is_env_name(u) && u != self.secret => {}
            (Scheme::Basic, Some(u)) => bail!("{t}.username {u:?} must name a binding in UPPER_SNAKE_CASE other than the secret"),
            (_, Some(_)) => bail!("{t}.username is only for {t}.scheme = \"basic\""),
            _ => {}
        }
        if !is_env_name(self.secret) {
            bail!("{t}.secret {:?} must be an UPPER_SNAKE_CASE name", self.secret);
        }
        match (self.scheme, self.client_id) {
            (Scheme::Oauth2, Some(id)) if is_env_name(id) && id != self.secret => {}
            (Scheme::Oauth2, _) => bail!("{t}.scheme = \"oauth2\" needs {t}.client_id, the UPPER_SNAKE_CASE handle of the client id (the secret is the client secret)"),
            (_, Some(_)) => bail!("{t}.client_id is only for {t}.scheme = \"oauth2\""),
            _ => {}
        }
        let token_scheme = matches!(self.scheme, Scheme::Oauth2 | Scheme::Jwt);
        if !token_scheme && (self.token_url.is_some() || !self.scopes.is_empty() || self.refresh_margin.is_some()) {
            bail!("{t}.token_url, scopes and refresh_margin are only for {t}.scheme = \"oauth2\" or \"jwt\"");
        }
        let jwt = self.jwt;
        let claims = [&jwt.issuer, &jwt.subject, &jwt.audience];
        match self.scheme {
            Scheme::Jwt => {
                if !matches!(jwt.algorithm.as_deref(), None | Some("RS256" | "ES256")) {
                    bail!("{t}.jwt.algorithm is RS256 or ES256");
                }
                if jwt.issuer.as_deref().is_none_or(str::is_empty) {
                    bail!("{t}.jwt.issuer is required: the JWT's `iss` (a service account's email, a GitHub App's id)");
                }
                if claims.iter().any(|c| c.as_deref().is_some_and(unfit_for_raw_json)) {
                    bail!("{t}.jwt: a claim has a quote, backslash or control character");
                }
                if jwt.lifetime.is_some_and(|l| l == 0 || l > 3600) {
                    bail!("{t}.jwt.lifetime is 1 to 3600 seconds");
                }
            }
            _ if jwt.algorithm.is_some() || claims.iter().any(|c| c.is_some()) || jwt.lifetime.is_some() => {
                bail!("{t}.jwt is only for {t}.scheme = \"jwt\"")
            }
            _ => {}
        }
        match (self.scheme, self.login) {
            (Scheme::Session, Some(login)) => {
                if !login.url.starts_with("https://") && !is_loopback(&login.url) || unfit_for_raw_json(&login.url) {
                    bail!("{t}.login.url {:?} must be an https:// URL: the password travels there", login.url);
                }
                if !login.fields.values().any(|h| h == self.secret) {
                    bail!("{t}.login.fields must send the secret {} (the password) as one of its fields", self.secret);
                }
                for (field, handle) in &login.fields {
                    if field.is_empty() || unfit_for_raw_json(field) || !is_env_name(handle) {
                        bail!("{t}.login.fields: {field:?} must name an UPPER_SNAKE_CASE handle");
                    }
                }
                if login.cookies.iter().any(|c| !cookie_name(c)) {
                    bail!("{t}.login.cookies: cookie names are tokens without `=`");
                }
                if login.relogin.as_ref().is_some_and(|r| r.is_empty() || r.iter().any(|s| !(400..600).contains(s))) {
                    bail!("{t}.login.relogin lists 4xx or 5xx statuses");
                }
                // (The marker is only looked for, never written into JSON: quotes are fine.)
                let wall = [&login.wall.content_type, &login.wall.marker];
                if wall.iter().any(|w| w.as_deref().is_some_and(|w| w.is_empty() || w.chars().any(char::is_control))) {
                    bail!("{t}.login.wall: its content_type and marker are non-empty text without control characters");
                }
                if login.lifetime.is_some_and(|l| l == 0) {
                    bail!("{t}.login.lifetime is at least 1 second");
                }
            }
            (Scheme::Session, None) => bail!("{t}.scheme = \"session\" needs {t}.login = {{ url, fields, ... }}"),
            (_, Some(_)) => bail!("{t}.login is only for {t}.scheme = \"session\""),
            _ => {}
        }
        if let Some(url) = self.token_url {
            if !url.starts_with("https://") && !is_loopback(url) || unfit_for_raw_json(url) {
                bail!("{t}.token_url {url:?} must be an https:// URL: the client secret travels there");
            }
        }
        if self.scopes.iter().any(|s| s.is_empty() || s.contains(' ') || unfit_for_raw_json(s)) {
            bail!("{t}.scopes: each scope is one non-empty word");
        }
        if self.refresh_margin.is_some_and(|m| m > 3600) {
            bail!("{t}.refresh_margin is at most 3600 seconds");
        }
        for (name, handle) in self.params {
            if name.is_empty() || name.contains('.') || !is_env_name(handle) {
                bail!("{t}.params: {name:?} must name a parameter (no `.`) and a handle in UPPER_SNAKE_CASE, not {handle:?}");
            }
            if self.key_query() == Some(name.as_str()) || self.key_cookie() == Some(name.as_str()) {
                bail!("{t}.params: {name:?} is the scheme's own key parameter already");
            }
        }
        for (h, handle) in self.headers {
            let lower = h.to_ascii_lowercase();
            if !is_token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || lower == self.key_header().to_ascii_lowercase() {
                bail!("{t}.headers: {h:?} cannot carry a credential: not a header name, or the runtime owns it");
            }
            if !is_env_name(handle) || handle == self.secret || self.username == Some(handle) {
                bail!("{t}.headers: {h:?} must name a handle in UPPER_SNAKE_CASE other than the scheme's secret, not {handle:?}");
            }
            if other_header(h) {
                bail!("{t}.headers: {h:?} is also pinned, bound or a call header; a credential header is allowed per call by being one");
            }
        }
        Ok(())
    }
}

/// How the credential travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Scheme {
    Bearer,
    Basic,
    Header,
    Query,
    Cookie,
    /// OAuth2 client credentials: the secret is the client secret, `client_id` its id's handle.
    Oauth2,
    /// A service account: the secret is a PEM private key signing a JWT (RFC 7523).
    Jwt,
    /// A cookie session: the Worker logs in (`login`), the secret one of the login's fields.
    Session,
}

/// What an operation stating no `security` of its own needs, by the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Unspecified {
    Never,
    Optional,
    Required,
}
