//! The provider manifest: the few facts a spec does not say, in `openapi/<provider>/capa.toml`.
//!
//! ```toml
//! capability = "stripe"                 # the wrangler env and receipt name
//! spec = "spec3.json"                  # next to this file
//! secret = "STRIPE_API_KEY"             # wrangler secret put STRIPE_API_KEY --env stripe
//! binding = "STRIPE"                    # the service binding name callers use (docs, d.ts)
//! # naming = "operationId"              # name methods from `tag/verb-noun` operationIds (GitHub)
//! # version_prefix = "/rest/api/3"      # the path prefix names leave out (default: the rule's)
//!
//! [auth]
//! scheme = "bearer"                     # bearer | basic | header | query | cookie
//! # header = "X-Api-Key"                # for scheme = "header"
//! # name = "private_token"              # for scheme = "query" or "cookie": the parameter or cookie
//! # username = "TWILIO_ACCOUNT_SID"     # for scheme = "basic": the binding holding the user name
//! #                                     # (the secret is then the password; unset: the secret is
//! #                                     # the user name, with no password, as Stripe takes it)
//! # unspecified = "required"            # operations stating no `security` of their own: never |
//! #                                     # optional | required; unset: the document's, else never
//! # headers = { "X-Api-Secret" = "ACME_API_SECRET" }  # credentials sent with the key, each a handle
//!
//! # [auth.schemes.petstore_auth]        # another scheme, by the spec's securitySchemes name:
//! # scheme = "bearer"                   # operations whose `security` it meets (and the default
//! # secret = "PETSTORE_OAUTH_TOKEN"     # does not meet first) use it; same keys as [auth]
//!
//! [call]
//! headers = ["Stripe-Account"]          # per-call context headers callers may set
//! # secret_headers = ["X-Client-Secret"] # per-call headers that are credentials (scrubbed from results)
//!
//! [upstream]
//! # origin = "https://petstore3.swagger.io"  # resolves relative `servers` URLs (none given: `/`)
//! # server_variables = { region = "eu" }     # values for `https://{region}.api.example.com`
//! # allow_http = true                   # send credentials to a plain http:// server (warned)
//! request_id_header = "Request-Id"
//! error_object = "error"                # where the provider's error object sits in error bodies
//! headers = { "Stripe-Version" = "2024-04-10" }   # pinned on every request
//! # bound_headers = { "Client-Id" = "TWITCH_CLIENT_ID" }   # value from a Worker secret or var
//!
//! [names]                               # operationId = "resource.method", when the rule's name won't do
//! ```

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A provider manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The provider's short name: wrangler env, receipts, `generated/<capability>/`.
    pub capability: String,
    /// The spec file, relative to the manifest.
    pub spec: PathBuf,
    /// The Worker secret holding the default credential.
    pub secret: String,
    /// The service binding name callers are expected to use.
    pub binding: String,
    /// How the credential is attached.
    pub auth: Auth,
    /// What callers may set per call.
    #[serde(default)]
    pub call: Call,
    /// Facts about the upstream.
    #[serde(default)]
    pub upstream: Upstream,
    /// How methods are named: from paths (default) or operationIds.
    #[serde(default)]
    pub naming: crate::names::Naming,
    /// The path prefix names leave out (`"/rest/api/3"`); unset, the rule's (see `names`).
    pub version_prefix: Option<String>,
    /// Name overrides: operationId → `resource.method`.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// Classes of operation beyond read, write and destructive, by pattern
    /// (`money = ["charges.create", "refunds.*"]`): see [`crate::classes`].
    #[serde(default)]
    pub classes: BTreeMap<String, Vec<String>>,
    /// The directory the manifest was read from.
    #[serde(skip)]
    pub dir: PathBuf,
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
        std::iter::once(self.secret).chain(self.username).chain(self.client_id).chain(self.headers.values().map(String::as_str)).chain(login)
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

/// `[call]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// Context headers callers may set through `options.auth.headers` (`Stripe-Account`).
    #[serde(default)]
    pub headers: Vec<String>,
    /// Allowed per-call headers whose values are credentials: scrubbed from upstream text.
    #[serde(default)]
    pub secret_headers: Vec<String>,
}

/// `[upstream]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// Resolves relative `servers` URLs.
    pub origin: Option<String>,
    /// Values for the servers' variables (`https://{region}.example.com`); unset ones take the
    /// spec's `default`.
    #[serde(default)]
    pub server_variables: BTreeMap<String, String>,
    /// Operations that send a credential may use a plain `http://` server (not loopback): the
    /// credential then travels in the clear. Off unless the manifest says so; warned when on.
    #[serde(default)]
    pub allow_http: bool,
    /// Response header with the upstream's request id.
    pub request_id_header: Option<String>,
    /// Key of the provider's error object in error bodies.
    pub error_object: Option<String>,
    /// Headers pinned on every request.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Headers whose value is a Worker binding (secret or var): header → binding name.
    #[serde(default)]
    pub bound_headers: BTreeMap<String, String>,
}

impl Call {
    /// Every header callers may set: context headers, then secret ones.
    pub fn allowed(&self) -> impl Iterator<Item = &String> {
        self.headers.iter().chain(&self.secret_headers)
    }
}

/// Headers a manifest may neither pin nor let callers set: the runtime owns them.
const RUNTIME_HEADERS: &[&str] = &["authorization", "content-type", "content-length", "host", "cookie", "transfer-encoding"];

impl Manifest {
    /// Reads and checks a manifest.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut manifest: Manifest = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        manifest.dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        manifest.check().with_context(|| format!("in {}", path.display()))?;
        Ok(manifest)
    }

    /// A stand-in manifest for measuring a spec that has none yet (`capa-gen stats`): bearer
    /// auth, credential required where the spec is silent.
    pub fn stand_in(spec: &Path) -> Manifest {
        Manifest {
            capability: "stats".into(),
            spec: spec.file_name().map(PathBuf::from).unwrap_or_default(),
            secret: "API_KEY".into(),
            binding: "API".into(),
            auth: Auth {
                scheme: Scheme::Bearer,
                header: None,
                name: None,
                username: None,
                unspecified: Some(Unspecified::Required),
                headers: BTreeMap::new(),
                client_id: None,
                token_url: None,
                scopes: Vec::new(),
                refresh_margin: None,
                jwt: Jwt::default(),
                login: None,
                schemes: BTreeMap::new(),
            },
            call: Call::default(),
            // Relative servers resolve somewhere, so that every operation is counted.
            upstream: Upstream { origin: Some("https://stand-in.invalid".into()), ..Upstream::default() },
            naming: crate::names::Naming::Path,
            classes: BTreeMap::new(),
            version_prefix: None,
            names: BTreeMap::new(),
            dir: spec.parent().unwrap_or(Path::new(".")).to_path_buf(),
        }
    }

    /// The spec's path.
    pub fn spec_path(&self) -> PathBuf {
        self.dir.join(&self.spec)
    }

    fn check(&self) -> Result<()> {
        let ident = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ident(&self.capability) {
            bail!("capability {:?} must be lowercase letters, digits, - or _", self.capability);
        }
        let env_name = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !env_name(&self.secret) || !env_name(&self.binding) {
            bail!("secret and binding must be UPPER_SNAKE_CASE names");
        }
        let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        let schemes = self.schemes();
        for a in &schemes {
            let t = a.table();
            match (a.scheme, a.header) {
                (Scheme::Header, Some(h)) if token(h) && !RUNTIME_HEADERS.contains(&h.to_ascii_lowercase().as_str()) => {}
                (Scheme::Header, _) => bail!("{t}.scheme = \"header\" needs {t}.header, a header name the runtime does not own"),
                (_, Some(_)) => bail!("{t}.header is only for {t}.scheme = \"header\""),
                _ => {}
            }
            // A query parameter or cookie name: what a URL or a Cookie header carries unescaped.
            let cookie_name = |s: &str| token(s) && !s.contains(['=', '%']);
            match (a.scheme, a.name) {
                (Scheme::Query | Scheme::Cookie, Some(n)) if cookie_name(n) => {}
                (Scheme::Query | Scheme::Cookie, _) => bail!("{t}.scheme = \"query\" or \"cookie\" needs {t}.name, the parameter or cookie name"),
                (_, Some(_)) => bail!("{t}.name is only for {t}.scheme = \"query\" or \"cookie\""),
                _ => {}
            }
            match (a.scheme, a.username) {
                (Scheme::Basic, Some(u)) if env_name(u) && u != a.secret => {}
                (Scheme::Basic, Some(u)) => bail!("{t}.username {u:?} must name a binding in UPPER_SNAKE_CASE other than the secret"),
                (_, Some(_)) => bail!("{t}.username is only for {t}.scheme = \"basic\""),
                _ => {}
            }
            if !env_name(a.secret) {
                bail!("{t}.secret {:?} must be an UPPER_SNAKE_CASE name", a.secret);
            }
            match (a.scheme, a.client_id) {
                (Scheme::Oauth2, Some(id)) if env_name(id) && id != a.secret => {}
                (Scheme::Oauth2, _) => bail!("{t}.scheme = \"oauth2\" needs {t}.client_id, the UPPER_SNAKE_CASE handle of the client id (the secret is the client secret)"),
                (_, Some(_)) => bail!("{t}.client_id is only for {t}.scheme = \"oauth2\""),
                _ => {}
            }
            let token_scheme = matches!(a.scheme, Scheme::Oauth2 | Scheme::Jwt);
            if !token_scheme && (a.token_url.is_some() || !a.scopes.is_empty() || a.refresh_margin.is_some()) {
                bail!("{t}.token_url, scopes and refresh_margin are only for {t}.scheme = \"oauth2\" or \"jwt\"");
            }
            let jwt = a.jwt;
            let claims = [&jwt.issuer, &jwt.subject, &jwt.audience];
            match a.scheme {
                Scheme::Jwt => {
                    if !matches!(jwt.algorithm.as_deref(), None | Some("RS256" | "ES256")) {
                        bail!("{t}.jwt.algorithm is RS256 or ES256");
                    }
                    if jwt.issuer.as_deref().is_none_or(str::is_empty) {
                        bail!("{t}.jwt.issuer is required: the JWT's `iss` (a service account's email, a GitHub App's id)");
                    }
                    if claims.iter().any(|c| c.as_deref().is_some_and(crate::unfit_for_raw_json)) {
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
            match (a.scheme, a.login) {
                (Scheme::Session, Some(login)) => {
                    if !login.url.starts_with("https://") && !crate::model::is_loopback(&login.url) || crate::unfit_for_raw_json(&login.url) {
                        bail!("{t}.login.url {:?} must be an https:// URL: the password travels there", login.url);
                    }
                    if !login.fields.values().any(|h| h == a.secret) {
                        bail!("{t}.login.fields must send the secret {} (the password) as one of its fields", a.secret);
                    }
                    for (field, handle) in &login.fields {
                        if field.is_empty() || crate::unfit_for_raw_json(field) || !env_name(handle) {
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
            if let Some(url) = a.token_url {
                if !url.starts_with("https://") && !crate::model::is_loopback(url) || crate::unfit_for_raw_json(url) {
                    bail!("{t}.token_url {url:?} must be an https:// URL: the client secret travels there");
                }
            }
            if a.scopes.iter().any(|s| s.is_empty() || s.contains(' ') || crate::unfit_for_raw_json(s)) {
                bail!("{t}.scopes: each scope is one non-empty word");
            }
            if a.refresh_margin.is_some_and(|m| m > 3600) {
                bail!("{t}.refresh_margin is at most 3600 seconds");
            }
            for (h, handle) in a.headers {
                let lower = h.to_ascii_lowercase();
                if !token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || lower == a.key_header().to_ascii_lowercase() {
                    bail!("{t}.headers: {h:?} cannot carry a credential: not a header name, or the runtime owns it");
                }
                if !env_name(handle) || handle == a.secret || a.username == Some(handle) {
                    bail!("{t}.headers: {h:?} must name a handle in UPPER_SNAKE_CASE other than the scheme's secret, not {handle:?}");
                }
                if self.upstream.headers.keys().chain(self.upstream.bound_headers.keys()).chain(self.call.allowed()).any(|o| o.eq_ignore_ascii_case(h)) {
                    bail!("{t}.headers: {h:?} is also pinned, bound or a call header; a credential header is allowed per call by being one");
                }
            }
        }
        if self.auth.schemes.contains_key("") {
            bail!("auth.schemes needs the spec's securitySchemes names as keys");
        }
        // A header carrying some scheme's key is the runtime's.
        let key_headers: Vec<String> = schemes.iter().map(|a| a.key_header().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
        let is_key_header = |lower: &str| key_headers.iter().any(|k| k == lower);
        let mut allowed: Vec<String> = self.call.allowed().map(|h| h.to_ascii_lowercase()).collect();
        allowed.sort();
        if let Some(w) = allowed.windows(2).find(|w| w[0] == w[1]) {
            bail!("call header {:?} is listed twice", w[0]);
        }
        for h in self.call.allowed() {
            let lower = h.to_ascii_lowercase();
            if !token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || is_key_header(&lower) {
                bail!("call header {h:?} cannot be allowed per call: not a header name, or the runtime owns it");
            }
            if self.upstream.headers.keys().any(|p| p.eq_ignore_ascii_case(h)) {
                bail!("call header {h:?} is also pinned in upstream.headers; a header is one or the other");
            }
            if self.call.secret_headers.contains(h) && self.upstream.bound_headers.keys().any(|b| b.eq_ignore_ascii_case(h)) {
                bail!("call header {h:?} is secret, but bound headers are context: its deployment value would not be scrubbed");
            }
        }
        for (h, v) in &self.upstream.headers {
            let lower = h.to_ascii_lowercase();
            if !token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || is_key_header(&lower) {
                bail!("upstream header {h:?} cannot be pinned: not a header name, or the runtime owns it");
            }
            // The runtime writes pinned values into the request unescaped (src/request.rs).
            if crate::unfit_for_raw_json(v) {
                bail!("upstream header {h:?} has control characters, quotes or backslashes in its value");
            }
        }
        for (h, binding) in &self.upstream.bound_headers {
            let lower = h.to_ascii_lowercase();
            if !token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || is_key_header(&lower) || self.upstream.headers.keys().any(|p| p.eq_ignore_ascii_case(h)) {
                bail!("bound header {h:?} cannot be sent: not a header name, pinned, or owned by the runtime");
            }
            if !env_name(binding) || schemes.iter().any(|a| a.handles().any(|h| h == binding)) {
                bail!("bound header {h:?} must name a binding in UPPER_SNAKE_CASE other than a credential handle, not {binding:?}");
            }
        }
        if let Some(origin) = &self.upstream.origin {
            if !(origin.starts_with("https://") || origin.starts_with("http://")) || origin.trim_end_matches('/').matches('/').count() > 2 {
                bail!("upstream.origin {origin:?} must be scheme://host[:port], no path");
            }
        }
        Ok(())
    }

    /// The header carrying the default scheme's key (see [`Attach::key_header`]).
    pub fn auth_header(&self) -> &str {
        match self.auth.scheme {
            Scheme::Header => self.auth.header.as_deref().unwrap_or(""),
            Scheme::Cookie => "cookie",
            Scheme::Query => "",
            Scheme::Bearer | Scheme::Basic | Scheme::Oauth2 | Scheme::Jwt => "authorization",
            Scheme::Session => "cookie",
        }
    }

    /// Every scheme it declares: the default first, then the named ones by name (the table's
    /// order, [`crate::model::Operation::scheme`] indexes it).
    pub fn schemes(&self) -> Vec<Attach<'_>> {
        let a = &self.auth;
        let default = Attach {
            spec_name: None,
            secret: &self.secret,
            scheme: a.scheme,
            header: a.header.as_deref(),
            name: a.name.as_deref(),
            username: a.username.as_deref(),
            headers: &a.headers,
            client_id: a.client_id.as_deref(),
            token_url: a.token_url.as_deref(),
            scopes: &a.scopes,
            refresh_margin: a.refresh_margin,
            jwt: &a.jwt,
            login: a.login.as_ref(),
        };
        std::iter::once(default)
            .chain(a.schemes.iter().map(|(n, s)| Attach {
                spec_name: Some(n),
                secret: &s.secret,
                scheme: s.scheme,
                header: s.header.as_deref(),
                name: s.name.as_deref(),
                username: s.username.as_deref(),
                headers: &s.headers,
                client_id: s.client_id.as_deref(),
                token_url: s.token_url.as_deref(),
                scopes: &s.scopes,
                refresh_margin: s.refresh_margin,
                jwt: &s.jwt,
                login: s.login.as_ref(),
            }))
            .collect()
    }

    /// Headers callers may set per call: `[call]`'s, then every scheme's credential headers.
    pub fn call_headers(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.call.allowed().map(String::as_str).collect();
        out.extend(self.credential_headers().into_iter().filter(|h| !out.contains(h)).collect::<Vec<_>>());
        out
    }

    /// Those of [`Manifest::call_headers`] whose values are credentials.
    pub fn secret_call_headers(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.call.secret_headers.iter().map(String::as_str).collect();
        out.extend(self.credential_headers().into_iter().filter(|h| !out.contains(h)).collect::<Vec<_>>());
        out
    }

    fn credential_headers(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for h in std::iter::once(&self.auth.headers).chain(self.auth.schemes.values().map(|s| &s.headers)).flat_map(|m| m.keys()) {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(h)) {
                out.push(h);
            }
        }
        out
    }
}
