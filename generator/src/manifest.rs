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
            auth: Auth { scheme: Scheme::Bearer, header: None, name: None, username: None, unspecified: Some(Unspecified::Required) },
            call: Call::default(),
            // Relative servers resolve somewhere, so that every operation is counted.
            upstream: Upstream { origin: Some("https://stand-in.invalid".into()), ..Upstream::default() },
            naming: crate::names::Naming::Path,
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
        match (self.auth.scheme, &self.auth.header) {
            (Scheme::Header, Some(h)) if token(h) && !RUNTIME_HEADERS.contains(&h.to_ascii_lowercase().as_str()) => {}
            (Scheme::Header, _) => bail!("auth.scheme = \"header\" needs auth.header, a header name the runtime does not own"),
            (_, Some(_)) => bail!("auth.header is only for auth.scheme = \"header\""),
            _ => {}
        }
        // A query parameter or cookie name: what a URL or a Cookie header carries unescaped.
        let cookie_name = |s: &str| token(s) && !s.contains(['=', '%']);
        match (self.auth.scheme, &self.auth.name) {
            (Scheme::Query | Scheme::Cookie, Some(n)) if cookie_name(n) => {}
            (Scheme::Query | Scheme::Cookie, _) => bail!("auth.scheme = \"query\" or \"cookie\" needs auth.name, the parameter or cookie name"),
            (_, Some(_)) => bail!("auth.name is only for auth.scheme = \"query\" or \"cookie\""),
            _ => {}
        }
        match (self.auth.scheme, &self.auth.username) {
            (Scheme::Basic, Some(u)) if env_name(u) && *u != self.secret => {}
            (Scheme::Basic, Some(u)) => bail!("auth.username {u:?} must name a binding in UPPER_SNAKE_CASE other than the secret"),
            (_, Some(_)) => bail!("auth.username is only for auth.scheme = \"basic\""),
            _ => {}
        }
        let auth_header = self.auth_header().to_ascii_lowercase();
        let mut allowed: Vec<String> = self.call.allowed().map(|h| h.to_ascii_lowercase()).collect();
        allowed.sort();
        if let Some(w) = allowed.windows(2).find(|w| w[0] == w[1]) {
            bail!("call header {:?} is listed twice", w[0]);
        }
        for h in self.call.allowed() {
            let lower = h.to_ascii_lowercase();
            if !token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || lower == auth_header {
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
            if !token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || lower == auth_header {
                bail!("upstream header {h:?} cannot be pinned: not a header name, or the runtime owns it");
            }
            // The runtime writes pinned values into the request unescaped (src/request.rs).
            if crate::unfit_for_raw_json(v) {
                bail!("upstream header {h:?} has control characters, quotes or backslashes in its value");
            }
        }
        for (h, binding) in &self.upstream.bound_headers {
            let lower = h.to_ascii_lowercase();
            if !token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || lower == auth_header || self.upstream.headers.keys().any(|p| p.eq_ignore_ascii_case(h)) {
                bail!("bound header {h:?} cannot be sent: not a header name, pinned, or owned by the runtime");
            }
            if !env_name(binding) || *binding == self.secret {
                bail!("bound header {h:?} must name a binding in UPPER_SNAKE_CASE other than the secret, not {binding:?}");
            }
        }
        if let Some(origin) = &self.upstream.origin {
            if !(origin.starts_with("https://") || origin.starts_with("http://")) || origin.trim_end_matches('/').matches('/').count() > 2 {
                bail!("upstream.origin {origin:?} must be scheme://host[:port], no path");
            }
        }
        Ok(())
    }

    /// The header carrying the credential, lowercase for bearer/basic, `cookie` for a cookie;
    /// empty for a key in the query.
    pub fn auth_header(&self) -> &str {
        match self.auth.scheme {
            Scheme::Header => self.auth.header.as_deref().unwrap_or(""),
            Scheme::Cookie => "cookie",
            Scheme::Query => "",
            Scheme::Bearer | Scheme::Basic => "authorization",
        }
    }

    /// The query parameter carrying the credential, for `scheme = "query"`.
    pub fn auth_query(&self) -> Option<&str> {
        (self.auth.scheme == Scheme::Query).then(|| self.auth.name.as_deref()).flatten()
    }

    /// The cookie carrying the credential, for `scheme = "cookie"`.
    pub fn auth_cookie(&self) -> Option<&str> {
        (self.auth.scheme == Scheme::Cookie).then(|| self.auth.name.as_deref()).flatten()
    }
}
