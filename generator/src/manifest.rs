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
//! # params = { token = "ACME_TOKEN" }   # credentials the spec declares as parameters: each filled
//! #                                     # from its handle wherever an operation declares it
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
//! # secret_bound_headers = ["Client-Id"] # bound headers whose values are credentials (scrubbed
//! #                                     # from everything a caller sees, per call values too)
//! # soft_error = { member = "ok", equals = false, message = "error" }  # a 2xx that says it
//! #                                     # failed (unset equals: `member` present and not empty)
//!
//! [names]                               # operationId = "resource.method", when the rule's name won't do
//! ```
//!
//! This module reads the file and holds it to the rules that span it: names, the headers it
//! pins, binds or lets callers set, none of them a header the runtime or a scheme owns. Its
//! schemes (`[auth]`, `[auth.schemes.<name>]`) are data of their own ([`crate::schemes`]), which
//! each check alone; what the settings mean for the operations is for the stages above to say
//! (how `naming` names them: [`crate::names`]). It knows nothing of the spec.

use crate::fit::unfit_for_raw_json;
use crate::schemes::{is_env_name, is_token, Attach, Auth, Jwt, Scheme, Unspecified, RUNTIME_HEADERS};
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
    pub naming: Naming,
    /// The path prefix names leave out (`"/rest/api/3"`); unset, the rule's (see `names`).
    pub version_prefix: Option<String>,
    /// Name overrides: operationId → `resource.method`.
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// Classes of operation beyond read, write and destructive, by pattern
    /// (`money = ["charges.create", "refunds.*"]`): see [`crate::classes`].
    #[serde(default)]
    pub classes: BTreeMap<String, Vec<String>>,
    /// How operations page where the spec does not show it, or shows it wrongly: operationId →
    /// rule (`[pages.<operationId>]`; docs/pages.md, "Overrides").
    #[serde(default)]
    pub pages: BTreeMap<String, PagesRule>,
    /// The directory the manifest was read from.
    #[serde(skip)]
    pub dir: PathBuf,
}

/// How operations are named (`naming`): see [`crate::names`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Naming {
    /// From the path and verb (the rule in [`crate::names`]).
    #[default]
    #[serde(rename = "path")]
    Path,
    /// From `tag/verb-noun` operationIds.
    #[serde(rename = "operationId")]
    OperationId,
}

/// `[pages.<operationId>]`: one operation's paging, set by hand. `convention` is one of
/// `last-item`, `cursor`, `link`, `page`, `offset` or `none` (it does not page); the other keys
/// say what that convention reads, defaulting to what the spec showed, else the usual names.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagesRule {
    /// `last-item`, `cursor`, `link`, `page`, `offset` or `none`.
    pub convention: String,
    /// The parameter taking the next page's value (`starting_after`, `after`, `page`, `offset`).
    pub param: Option<String>,
    /// `cursor`: the answer's member naming the next cursor (a dotted path).
    pub cursor: Option<String>,
    /// `last-item`: the item's member the next page starts after (`id`).
    pub key: Option<String>,
    /// `last-item`: the answer's member saying more follow (`has_more`).
    pub more: Option<String>,
    /// The answer's member holding the items; `""`: the answer is the array.
    pub items: Option<String>,
    /// The page size parameter.
    pub size: Option<String>,
    /// The most items a page may hold.
    pub max_size: Option<u32>,
    /// `page`: the first page's number.
    pub first: Option<u32>,
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
    /// Bound headers whose values are credentials (a client id kept in a Worker secret): the
    /// deployment's value, and a caller's per call, are scrubbed from everything a caller sees,
    /// upstream echoes included, like an `[auth] headers` credential.
    #[serde(default)]
    pub secret_bound_headers: Vec<String>,
    /// The header the provider reads an idempotency key from (Stripe: `Idempotency-Key`): every
    /// POST and PATCH then carries one, and only then may they be retried (src/retry.rs).
    pub idempotency_header: Option<String>,
    /// Whether a 409 is transient (Stripe's: a request racing another with its key, which
    /// stripe-node retries) rather than a real conflict (GitHub's).
    #[serde(default)]
    pub retry_409: bool,
    /// Retries after a transient failure when a call does not say (`options.maxRetries`); default
    /// 2, at most [`MAX_RETRIES`].
    pub max_retries: Option<u8>,
    /// The largest response body read, in bytes (default 10 MiB, at most 32 MiB: RPC's own
    /// limit): a larger one is refused with `upstream_too_large`, and the rest is not read.
    pub max_body_bytes: Option<u64>,
    /// How a success answer says it failed (`src/soft.rs`).
    pub soft_error: Option<SoftError>,
}

/// `[upstream.soft_error]`: a member of a 2xx JSON answer that says the call failed (Slack's
/// `ok = false`, GraphQL's `errors`), and where its message is.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftError {
    /// The member that tells, a dotted path (`ok`, `meta.status`).
    pub member: String,
    /// The value that means failure (`false`, `"error"`, `0`); unset: the member means failure
    /// when present and not empty.
    pub equals: Option<toml::Value>,
    /// The member holding the message, a dotted path (`error`).
    pub message: Option<String>,
}

impl SoftError {
    /// [`SoftError::equals`] as JSON text; empty when unset.
    pub fn equals_json(&self) -> String {
        match &self.equals {
            None => String::new(),
            Some(toml::Value::String(s)) => serde_json::Value::String(s.clone()).to_string(),
            Some(toml::Value::Boolean(b)) => b.to_string(),
            Some(toml::Value::Integer(i)) => i.to_string(),
            Some(toml::Value::Float(f)) => serde_json::json!(f).to_string(),
            Some(_) => String::new(),
        }
    }

    /// The member's last key, quoted as JSON writes it: what the entry's scan watches for.
    pub fn marker(&self) -> String {
        serde_json::Value::String(self.member.rsplit('.').next().unwrap_or("").to_owned()).to_string()
    }
}

/// The largest `max_body_bytes`: what Workers RPC carries at most.
pub const MAX_BODY_BYTES: u64 = 32 << 20;

/// The most retries a manifest or a call may ask for: the runtime's `retry::MAX_RETRIES`
/// (generator/tests/classes.rs holds the two equal).
pub const MAX_RETRIES: u8 = 5;

impl Call {
    /// Every header callers may set: context headers, then secret ones.
    pub fn allowed(&self) -> impl Iterator<Item = &String> {
        self.headers.iter().chain(&self.secret_headers)
    }
}

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
                params: BTreeMap::new(),
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
            naming: Naming::Path,
            classes: BTreeMap::new(),
            pages: BTreeMap::new(),
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
        if !is_env_name(&self.secret) || !is_env_name(&self.binding) {
            bail!("secret and binding must be UPPER_SNAKE_CASE names");
        }
        let schemes = self.schemes();
        for a in &schemes {
            a.check(|h| self.upstream.headers.keys().chain(self.upstream.bound_headers.keys()).chain(self.call.allowed()).any(|o| o.eq_ignore_ascii_case(h)))?;
        }
        if self.auth.schemes.contains_key("") {
            bail!("auth.schemes needs the spec's securitySchemes names as keys");
        }
        // A credential parameter is no scheme's key or credential header: both would be sent.
        for a in &schemes {
            for name in a.params.keys() {
                let taken = schemes.iter().find(|b| {
                    b.key_query() == Some(name.as_str()) || b.key_cookie() == Some(name.as_str()) || b.key_header().eq_ignore_ascii_case(name) || b.headers.keys().any(|h| h.eq_ignore_ascii_case(name))
                });
                if let Some(b) = taken {
                    bail!("{}.params: {name:?} is {}'s own key or credential header already: that scheme fills it where it travels", a.table(), b.table());
                }
            }
        }
        if let Some(h) = &self.upstream.idempotency_header {
            let lower = h.to_ascii_lowercase();
            let taken = self.upstream.headers.keys().chain(self.upstream.bound_headers.keys()).chain(self.call.allowed()).any(|o| o.eq_ignore_ascii_case(h));
            if !is_token(h) || taken || RUNTIME_HEADERS.contains(&lower.as_str()) || schemes.iter().any(|a| a.key_header().eq_ignore_ascii_case(h)) {
                bail!("upstream.idempotency_header {h:?} must be a header name no other key of the manifest or the runtime sets");
            }
        }
        if self.upstream.max_retries.is_some_and(|n| n > MAX_RETRIES) {
            bail!("upstream.max_retries is at most {MAX_RETRIES}");
        }
        if let Some(soft) = &self.upstream.soft_error {
            let path_ok = |p: &str| !p.is_empty() && p.split('.').all(|k| !k.is_empty()) && !unfit_for_raw_json(p);
            if !path_ok(&soft.member) || soft.message.as_deref().is_some_and(|m| !path_ok(m)) {
                bail!("upstream.soft_error: `member` and `message` are dotted member paths (`ok`, `meta.status`), without quotes, backslashes or control characters");
            }
            if matches!(soft.equals, Some(toml::Value::Array(_) | toml::Value::Table(_) | toml::Value::Datetime(_))) {
                bail!("upstream.soft_error.equals is a string, a number or a boolean (`equals = false`)");
            }
        }
        if self.upstream.max_body_bytes.is_some_and(|n| n == 0 || n > MAX_BODY_BYTES) {
            bail!("upstream.max_body_bytes is from 1 to {MAX_BODY_BYTES} (32 MiB, what RPC carries)");
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
            if !is_token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || is_key_header(&lower) {
                bail!("call header {h:?} cannot be allowed per call: not a header name, or the runtime owns it");
            }
            if self.upstream.headers.keys().any(|p| p.eq_ignore_ascii_case(h)) {
                bail!("call header {h:?} is also pinned in upstream.headers; a header is one or the other");
            }
            if self.call.secret_headers.contains(h)
                && self.upstream.bound_headers.keys().any(|b| b.eq_ignore_ascii_case(h))
                && !self.upstream.secret_bound_headers.iter().any(|b| b.eq_ignore_ascii_case(h))
            {
                bail!("call header {h:?} is secret, but its bound header is not: list it in upstream.secret_bound_headers too, or its deployment value would not be scrubbed");
            }
        }
        for (h, v) in &self.upstream.headers {
            let lower = h.to_ascii_lowercase();
            if !is_token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || is_key_header(&lower) {
                bail!("upstream header {h:?} cannot be pinned: not a header name, or the runtime owns it");
            }
            // The runtime writes pinned values into the request unescaped (src/http.rs).
            if unfit_for_raw_json(v) {
                bail!("upstream header {h:?} has control characters, quotes or backslashes in its value");
            }
        }
        for (h, binding) in &self.upstream.bound_headers {
            let lower = h.to_ascii_lowercase();
            if !is_token(h) || RUNTIME_HEADERS.contains(&lower.as_str()) || is_key_header(&lower) || self.upstream.headers.keys().any(|p| p.eq_ignore_ascii_case(h)) {
                bail!("bound header {h:?} cannot be sent: not a header name, pinned, or owned by the runtime");
            }
            if !is_env_name(binding) || schemes.iter().any(|a| a.handles().any(|h| h == binding)) {
                bail!("bound header {h:?} must name a binding in UPPER_SNAKE_CASE other than a credential handle, not {binding:?}");
            }
        }
        for h in &self.upstream.secret_bound_headers {
            if !self.upstream.bound_headers.contains_key(h) {
                bail!("upstream.secret_bound_headers names {h:?}, which is not in upstream.bound_headers (spelled alike)");
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

    /// Every credential parameter's name, of any scheme, sorted and each once: what
    /// `options.auth.params` takes (`index.d.ts`, `capa-gen table`).
    pub fn credential_params(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.auth.params.keys().chain(self.auth.schemes.values().flat_map(|s| s.params.keys())).map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        names
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
            params: &a.params,
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
                params: &s.params,
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
        // A secret bound header's values are credentials whichever way they come: the runtime
        // reads this list for both (src/auth.rs, `WorkerSecrets::new`).
        out.extend(self.upstream.secret_bound_headers.iter().map(String::as_str).filter(|h| !out.iter().any(|o| o.eq_ignore_ascii_case(h))).collect::<Vec<_>>());
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
