//! The operation table: what a capability can do, as static data.
//!
//! The generator (`generator/`, `capa-gen build <provider>`) turns a provider's OpenAPI spec and
//! manifest into one `static PROVIDER: Provider` written to `generated/<provider>/operations.rs`;
//! `build.rs` picks the file named by `CAPA_PROVIDER` and `lib.rs` includes it. Being plain
//! `'static` data, the table costs nothing at start-up: no parsing, no allocation.
//!
//! The table is also the capability's boundary. A call names an operation by its index in
//! [`Provider::operations`], and only what an [`Operation`] declares can reach the upstream.

/// One provider's capability: where it calls, how it authenticates, what it may do.
#[derive(Debug)]
pub struct Provider {
    /// Short name used in receipts and in `wrangler ... --env <capability>`.
    pub capability: &'static str,
    /// How the Worker authenticates: `[0]` the manifest's `[auth]`, any others its
    /// `[auth.schemes.<name>]` (see [`crate::auth`]). Each operation names the one it uses
    /// ([`Operation::scheme`]).
    pub schemes: &'static [Scheme],
    /// Headers a caller may set per call through `options.auth.headers`, in their canonical
    /// spelling. Compared case-insensitively; anything else is refused.
    pub call_headers: &'static [&'static str],
    /// Those of [`Provider::call_headers`] whose values are credentials (not mere context like
    /// `Stripe-Account`): scrubbed from upstream text like keys. Values of the others never
    /// reach receipts, errors or logs either, but may legitimately come back in results. A
    /// [`Provider::bound_headers`] header named here (the manifest's `secret_bound_headers`) is
    /// a credential in its deployment value too ([`crate::auth::WorkerSecrets::new`]).
    pub secret_call_headers: &'static [&'static str],
    /// Headers pinned on every upstream request (e.g. `Stripe-Version`). Callers cannot override them.
    pub static_headers: &'static [(&'static str, &'static str)],
    /// Headers whose value is a Worker binding, a secret or a var (Twitch's `Client-Id` from
    /// `TWITCH_CLIENT_ID`): `(header, binding)`. Sent when the binding is set; a caller replaces
    /// one per call when [`Provider::call_headers`] allows it.
    pub bound_headers: &'static [(&'static str, &'static str)],
    /// Response header carrying the upstream's request id (Stripe: `Request-Id`).
    pub request_id_header: Option<&'static str>,
    /// Key of the provider's error object in error bodies (Stripe: `error`); `None`: the whole body.
    pub error_object: Option<&'static str>,
    /// Absolute base URLs (origin plus base path, no trailing slash) from the spec's `servers`.
    pub servers: &'static [&'static str],
    /// The names of the classes of operation, by bit ([`Operation::classes`]).
    pub classes: &'static [&'static str],
    /// How the upstream is to be called again, and how much of an answer is read
    /// ([`crate::retry`]): the manifest's `[upstream]` keys.
    pub upstream: Upstream,
    /// Every callable operation; a call names one by index.
    pub operations: &'static [Operation],
    /// The operations that page, by index in [`Provider::operations`] (ascending), and how
    /// ([`crate::pages`]): what `options.pages` walks. Kept apart from [`Operation`] so that a
    /// table pays for paging only where an operation pages.
    pub paging: &'static [(u16, &'static Paging)],
    /// The operations whose request body may be left out though some of its fields are
    /// required, by index in [`Provider::operations`] (ascending): those fields
    /// ([`Param::required`]) are required only when a body is sent. Apart from [`Operation`],
    /// read only when a required parameter is missing.
    pub optional_bodies: &'static [u16],
    /// Credentials the spec declares as parameters (the manifest's `[auth] params`), each where
    /// an operation declares it, by operation index (ascending): filled from their handles
    /// ([`crate::creds`]), never the caller's (they are not among [`Operation::params`]).
    pub credential_params: &'static [CredentialParam],
}

/// A credential parameter of one operation ([`crate::creds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialParam {
    /// Index into [`Provider::operations`].
    pub op: u16,
    /// Its name on the wire.
    pub name: &'static str,
    pub at: CredentialAt,
    /// The handle (a Worker secret) its value comes from.
    pub handle: &'static str,
    /// The spec requires it: an unset handle is `missing_credential`; else it is left out.
    pub required: bool,
}

/// Where a credential parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialAt {
    Query,
    Header,
    /// A cookie of that name, in the request's `Cookie` header.
    Cookie,
    /// A top-level field of the request body (form, multipart or JSON object).
    Body,
}

/// How one operation's answers continue on a next page ([`crate::pages`]), as the generator
/// found it in the spec (or the manifest said).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub convention: Convention,
    /// The member of the answer holding the items (`data`, `items`); empty: the answer is the
    /// array itself.
    pub items: &'static str,
    /// The parameter that sets a page's size (`limit`, `per_page`, `first`); empty: none.
    pub size: &'static str,
    /// The most items a page may hold ([`Paging::size`]'s maximum in the spec; 100 unless it
    /// says).
    pub max_size: u32,
}

/// Where the way to the next page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// The next page starts after the last item: `param` (Stripe's `starting_after`) takes the
    /// last item's `key` (`id`), while the answer's `more` member (`has_more`) is true.
    LastItem { param: &'static str, key: &'static str, more: &'static str },
    /// The answer names the next page's cursor at `cursor` (a dotted member path:
    /// `pagination.cursor`, `next_cursor`, `next_page`), which `param` (`after`, `cursor`,
    /// `page`) takes; none, null or empty: the last page.
    BodyCursor { cursor: &'static str, param: &'static str },
    /// The answer's `Link` header names the next page (`rel="next"`, RFC 8288): its query,
    /// reduced to the operation's own parameters, is the next page's (GitHub).
    Link,
    /// `param` numbers the pages (`page`), the first being `first`; the walk stops at a page
    /// shorter than the size asked, an empty one, or a total reached.
    PageNumber { param: &'static str, first: u32 },
    /// `param` (`offset`) counts the items before the page; stops as page numbers do.
    Offset { param: &'static str },
}

/// The manifest's say on one call's robustness ([`crate::retry`]): what the provider takes and
/// answers, as data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upstream {
    /// The header the provider reads an idempotency key from (Stripe: `Idempotency-Key`): every
    /// POST and PATCH carries one, and only then may they be sent again.
    pub idempotency_header: Option<&'static str>,
    /// A 409 is transient here (Stripe's: a request that raced another with its key), as
    /// stripe-node retries it; elsewhere (GitHub) it is a real conflict and final.
    pub retry_conflict: bool,
    /// Retries a call makes after a transient failure when it does not say (`maxRetries`).
    pub max_retries: u8,
    /// The largest response body read, in bytes: a larger one is `upstream_too_large`, and the
    /// rest of it is not read.
    pub max_body_bytes: u64,
    /// How a success answer says it failed ([`crate::soft`]): the manifest's
    /// `[upstream.soft_error]`.
    pub soft_error: Option<&'static SoftError>,
}

impl Upstream {
    /// No idempotency key, 409 final, the default retries, bodies up to 10 MiB, no soft errors.
    pub const DEFAULT: Upstream = Upstream { idempotency_header: None, retry_conflict: false, max_retries: 2, max_body_bytes: 10 << 20, soft_error: None };
}

/// A success answer that reports a failure ([`crate::soft`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SoftError {
    /// The member that tells, a dotted path (`ok`, `meta.status`).
    pub member: &'static str,
    /// The JSON text of the value that means failure (`false`); empty: the member means
    /// failure when present and not empty (`errors`: not null, `false`, `""`, `[]` or `{}`).
    pub equals: &'static str,
    /// The member holding the message (`error`), a dotted path; empty: none.
    pub message: &'static str,
    /// What the entry's scan watches for so that only a body that may hold the member crosses
    /// into wasm: the member's last key, quoted (`"ok"`).
    pub marker: &'static str,
}

/// One way of authenticating: a key (or password) from a handle, attached as [`AuthScheme`]
/// says, and any credential headers that travel with it.
#[derive(Debug)]
pub struct Scheme {
    /// The handle holding the key, basic's password (`wrangler secret put <secret>`, or a
    /// Secrets Store binding of that name).
    pub secret: &'static str,
    /// How the key is attached to upstream requests.
    pub auth: AuthScheme,
    /// Credentials sent with the key, each in its header: `(header, handle)` (a key header plus
    /// a secret header, the spec requiring both together). Per call they come in
    /// `options.auth.headers`, with `apiKey`, all or none.
    pub headers: &'static [(&'static str, &'static str)],
}

/// How the credential travels upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// `Authorization: Basic base64(<key>:)`, the key as user name (Stripe accepts this too).
    Basic,
    /// The key as the value of the named header (OpenAPI `apiKey` in `header`).
    Header(&'static str),
    /// `Authorization: Basic base64(<user>:<key>)`, the user name from the Worker binding
    /// `username` (Twilio: account SID + auth token), the key the password.
    BasicPair { username: &'static str },
    /// The key as the named query parameter (OpenAPI `apiKey` in `query`: GitLab's
    /// `private_token`).
    Query(&'static str),
    /// The key as the named cookie (OpenAPI `apiKey` in `cookie`).
    Cookie(&'static str),
    /// `Authorization: Bearer <access token>`, the token exchanged for the client's credentials
    /// (OAuth2 client credentials, RFC 6749 §4.4): [`Scheme::secret`] is the client secret,
    /// the exchange's `client_id` the handle of its id. See [`crate::token`].
    ClientCredentials(&'static TokenExchange),
    /// A service account (RFC 7523): a JWT signed with the private key [`Scheme::secret`] holds
    /// (PEM), exchanged at a token endpoint for an access token, or sent itself as the bearer
    /// token (a GitHub App's JWT). See [`crate::token`].
    ServiceAccount(&'static JwtGrant),
    /// A cookie session: the Worker logs in with the fields [`Login::fields`] names (the
    /// password is [`Scheme::secret`]), keeps the cookies the login sets and sends them as
    /// `Cookie`, logging in again when the upstream stops honouring them. See [`crate::token`].
    Session(&'static Login),
}

/// How a cookie session logs in and notices it has ended.
#[derive(Debug, PartialEq, Eq)]
pub struct Login {
    /// Where the login is POSTed.
    pub url: &'static str,
    /// A JSON body (else a form).
    pub json: bool,
    /// The login's fields: `(field, handle)`.
    pub fields: &'static [(&'static str, &'static str)],
    /// The cookies kept from the login's `Set-Cookie`s; empty: all of them.
    pub cookies: &'static [&'static str],
    /// Statuses that mean the session ended: log in again (default 401).
    pub relogin: &'static [u16],
    /// A soft login wall: a 2xx of this media type (`text/html`) is the login page; empty: none.
    pub wall_type: &'static str,
    /// A soft login wall: a 2xx whose body holds this text is the login page; empty: none.
    pub wall_marker: &'static str,
    /// Seconds a session is kept (less when a kept cookie's `Max-Age` says so).
    pub lifetime_s: u32,
    pub margin_s: u32,
}

/// How a service account's JWT is made and used.
#[derive(Debug, PartialEq, Eq)]
pub struct JwtGrant {
    pub alg: JwtAlg,
    /// Where the JWT is exchanged (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`);
    /// empty: the JWT itself is the bearer token.
    pub token_url: &'static str,
    /// The claims: `iss`, and `sub`, `aud`, `scope` when not empty.
    pub issuer: &'static str,
    pub subject: &'static str,
    pub audience: &'static str,
    pub scope: &'static str,
    /// Seconds from `iat` to `exp` (at most an hour).
    pub lifetime_s: u32,
    /// As [`TokenExchange::margin_s`].
    pub margin_s: u32,
}

/// The JWS algorithms a service account signs with (through WebCrypto, in the entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256: an RSA key.
    Rs256,
    /// ECDSA P-256 with SHA-256: an EC key.
    Es256,
}

impl JwtAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlg::Rs256 => "RS256",
            JwtAlg::Es256 => "ES256",
        }
    }
}

/// Where and how a token is obtained.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenExchange {
    /// The token endpoint (absolute; with `CAPA_LOOPBACK_ORIGIN` set, its path on that origin).
    pub token_url: &'static str,
    /// The handle holding the client id.
    pub client_id: &'static str,
    /// The scopes asked for, space-separated; empty: none asked.
    pub scopes: &'static str,
    // The client authenticates with HTTP basic (RFC 6749 §2.3.1: servers must support it);
    // credentials in the form body, which the RFC discourages, are not offered.
    /// Seconds before expiry a token is refreshed (capped at half its lifetime).
    pub margin_s: u32,
}

/// Whether an operation needs the credential, from the spec's `security`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthUse {
    /// No credential, no call: refused with `missing_credential`.
    Required,
    /// Sent when there is one (the spec lists an empty requirement among others).
    Optional,
    /// Never sent (`security: []`): a key has no business travelling there.
    Never,
}

/// HTTP methods an operation may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl Provider {
    /// The scheme `op` authenticates with.
    pub fn scheme(&self, op: &Operation) -> &'static Scheme {
        self.schemes.get(usize::from(op.scheme)).unwrap_or(&self.schemes[0])
    }
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }
}

/// One operation of the spec, as the runtime needs it.
#[derive(Debug)]
pub struct Operation {
    /// The spec's `operationId` (or the generator's stand-in when it has none).
    pub id: &'static str,
    /// The public name, `resource.method` (`customers.balanceTransactions.list`).
    pub call: &'static str,
    pub method: Method,
    /// Path template as written in the spec (`/v1/customers/{customer}`); also the receipt's `path`.
    pub path: &'static str,
    /// Index into [`Provider::servers`].
    pub server: u16,
    /// Path parameters in template order: the call's leading positional arguments.
    pub path_params: &'static [&'static str],
    /// Bit `i` set: the `i`-th path parameter may span segments, keeping its `/`s (OpenAPI's
    /// `x-multi-segment`, GitHub's `{path}`).
    pub multi: u8,
    /// Declared query, header and body parameters: the keys of the params object.
    pub params: &'static [Param],
    /// How the params that go to the body are encoded.
    pub body: Body,
    pub auth: AuthUse,
    /// Index into [`Provider::schemes`]: how this operation authenticates, from its `security`.
    pub scheme: u8,
    /// Its classes: bit `i` names [`Provider::classes`]`[i]` (read, write, destructive, then the
    /// manifest's; see `generator/src/classes.rs`).
    pub classes: u8,
}

/// A named parameter of the params object.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub at: At,
    /// Must be given (and not null). A body field the body's schema requires is required
    /// whenever a body is sent; when the body may be left out ([`Provider::optional_bodies`]),
    /// only then.
    pub required: bool,
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    Query(Style),
    Header,
    /// A top-level field of the request body.
    Body,
    /// A query parameter whose name a body field (or a header) also has: the params key is
    /// `query.<name>`, the wire name what follows `query.`.
    QueryAlias(Style),
    /// A header parameter whose name another parameter also has: key `header.<name>`.
    HeaderAlias,
}

impl Param {
    /// The name the parameter has on the wire: its key, less an alias's `query.`/`header.`.
    pub fn wire_name(&self) -> &'static str {
        match self.at {
            At::QueryAlias(_) | At::HeaderAlias => self.name.split_once('.').map_or(self.name, |(_, n)| n),
            _ => self.name,
        }
    }
}

/// How a form body's fields are serialized: OpenAPI's `encoding` for the media type, each
/// property's `style` and `explode` (`form`, exploded, where it says nothing). `default` is
/// every field's style but those listed in `fields`: the generator makes it the style most of
/// the body's fields have, so that a body whose fields agree (Stripe's, `deepObject` on every
/// array and object) lists none and its fields cost no search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldStyles {
    pub default: Style,
    pub fields: &'static [(&'static str, Style)],
}

impl FieldStyles {
    /// The style of the field `name`.
    pub fn of(&self, name: &str) -> Style {
        for &(field, style) in self.fields {
            if field == name {
                return style;
            }
        }
        self.default
    }
}

/// OpenAPI serialization style of a query parameter, or of a form body's field
/// ([`FieldStyles`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `style: form, explode: true` (the default): `id=1&id=2`, objects spread into keys.
    Form,
    /// `style: form, explode: false`: `id=1,2`.
    FormCsv,
    /// `style: deepObject`: `created[gte]=1`; scalar arrays as `expand[]=a` (Stripe's form).
    DeepObject,
    /// `style: spaceDelimited`: `id=1%202`.
    SpaceDelimited,
    /// `style: pipeDelimited`: `id=1|2`.
    PipeDelimited,
}

/// The request body an operation sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body. Also GET/DELETE operations whose spec declares an empty form body.
    None,
    /// `application/x-www-form-urlencoded`, each field serialized in its style
    /// ([`FieldStyles`]; see [`crate::encode::Pairs::push_field`]).
    /// `open`: the schema allows properties it does not name.
    Form { open: bool, styles: FieldStyles },
    /// `application/json` object built from the body params. `open` as above.
    Json { open: bool },
    /// `application/json` whose schema is not an object (an array, say): the params argument
    /// is the body itself.
    JsonValue,
    /// A text body of the given media type: the params argument is the body, a string.
    Text(&'static str),
    /// `multipart/form-data`, one part per body field (see [`crate::body`]): binary data a file
    /// part, scalars text parts, arrays of either repeated parts; the objects named in `deep`
    /// (OpenAPI's `encoding: {style: deepObject}`) spread into bracketed text parts (`a[b]`, as
    /// Stripe reads them), any other object a part holding its JSON. `open` as above.
    Multipart { open: bool, deep: &'static [&'static str] },
    /// A multipart body as [`Body::Multipart`] whose `encoding` types some fields' text parts
    /// (`contentType`): `types` pairs a field with its part's `Content-Type`. The entry frames
    /// such a body itself (`src/js/body.js`): a `FormData` cannot type a text part without
    /// making it a file. Only operations declaring one carry it, so other providers' tables
    /// (Stripe's) read as before, and only their builds carry it (`capa_typed_parts`, build.rs).
    #[cfg(capa_typed_parts)]
    TypedMultipart { open: bool, deep: &'static [&'static str], types: &'static [(&'static str, &'static str)] },
    /// A binary body (`application/octet-stream`, `image/*`, `*/*`...): the params argument is
    /// the bytes (`Uint8Array`, `ArrayBuffer`, `Blob`), or a string sent as UTF-8.
    Binary(&'static str),
}

impl Body {
    /// Whether the body's schema is open: it takes keys the spec does not declare (a form, JSON
    /// or multipart body whose `additionalProperties` allows them).
    pub fn open(&self) -> bool {
        match self {
            Body::Form { open, .. } | Body::Json { open } | Body::Multipart { open, .. } => *open,
            #[cfg(capa_typed_parts)]
            Body::TypedMultipart { open, .. } => *open,
            Body::None | Body::JsonValue | Body::Text(_) | Body::Binary(_) => false,
        }
    }
}
