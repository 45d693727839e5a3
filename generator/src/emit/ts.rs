//! `index.d.ts`: the capability's RPC surface, for callers' type checking.
//!
//! Parameters, results and errors are typed from the spec's schemas ([`super::types`]): the
//! schemas under `components.schemas` a method reaches are declared once, by name, and referred
//! to by it. Each method resolves to `Result<T, E>`: `T` its success body (parsed JSON of the
//! declared schema, `string` for text, `Uint8Array` for bytes, `null` for no body), `E` the
//! provider's error object where the spec declares one (the manifest's `error_object` member of
//! the error body). The runtime, not these types, is what enforces the contract.

use super::tree::Node;
use crate::manifest::Manifest;
use super::types::{Types, Way};
use crate::model::{Answer, Body, Model, Operation};
use crate::names::is_ident;
use crate::spec::Spec;
use heck::ToUpperCamelCase;
use std::fmt::Write;

const COMMON: &str = r#"/** Evidence of what a call did. Never holds a credential. */
export interface Receipt {
  capability: string;
  /** The spec's operationId. */
  operation: string;
  /** `resource.method`, e.g. `customers.retrieve`. */
  call: string;
  method: string;
  /** The path template, e.g. `/v1/customers/{customer}`. */
  path: string;
  /** The upstream's final HTTP status; null when no upstream answered. */
  status: number | null;
  requestId: string | null;
  /** ISO-8601 UTC. */
  startedAt: string;
  durationMs: number;
  attempts: number;
  credential: "secret" | "call" | "none";
  /** The call obtained a new access token for the deployment's credentials (none was cached, it was due, or the upstream refused the cached one). */
  refreshed: boolean;
  verdict: "pass" | "fail";
  /** The call's id: random (a UUID v4), new for every call, refused ones included. */
  callId: string;
  /** One entry per upstream request that went out (redirects, retries and the resend after a refused token included); `attempts` is their number. */
  tries: Try[];
  /** The idempotency key its POST or PATCH carried (the caller's `idempotencyKey`, else its `callId`), on every attempt; null when none was sent. */
  idempotencyKey: string | null;
  /** The pages a call walking them took (`options.pages`); null for any other call. */
  pages: number | null;
}

/** One upstream request of a call. */
export interface Try {
  /** What it answered; null when nothing came back. */
  status: number | null;
  /** Why nothing came back. */
  failure?: "unreachable" | "timeout";
  /** How long it took. */
  ms: number;
  /** How long the call waited before sending it (a retry's backoff, or the provider's `Retry-After`). */
  waitedMs: number;
}

export type ErrorCode =
  | "missing_credential"
  | "header_not_allowed"
  | "invalid_argument"
  | "unknown_parameter"
  | "upstream_error"
  | "upstream_redirect"
  | "upstream_unreachable"
  | "upstream_invalid_body"
  | "upstream_body_withheld"
  | "auth_failed"
  | "operation_not_allowed"
  | "upstream_outcome_unknown"
  | "upstream_timeout"
  | "upstream_too_large"
  | "rate_limited"
  | "internal";

/** Bytes, for a binary body or a multipart file field (a Blob's type travels with it). */
export type Binary = Uint8Array | ArrayBuffer | ArrayBufferView | Blob;

/** A multipart file field: the bytes, or the bytes with the file's name and type (a File cannot cross RPC). */
export type FilePart = Binary | { data: Binary; name?: string; type?: string };

/** A failed call: `code` says what failed, and which of `status` and `upstream` it carries. */
export type CapabilityError<E = JsonValue> =
  | {
      code: "upstream_error";
      message: string;
      /** The upstream's HTTP status. */
      status: number;
      /** The provider's error object (credentials redacted), or its body's text when it is not JSON. */
      upstream?: E | string;
      /** The wait the provider named (`Retry-After`), which the call did not make: longer than a call waits, or past its deadline. */
      retryAfterMs?: number;
    }
  | {
      code: "rate_limited";
      message: string;
      /** `upstream`: the provider's wall (a 429, or its rate limit spent); `capability`: this Worker's call budget for the caller (its CAPA_BUDGET rate limit; no request sent, and no `retryAfterMs`: the limiter does not say); `grant`: the budget of the MCP door's grant an agent calls through (docs/door.md). */
      stage: "upstream" | "capability" | "grant";
      status?: number;
      /** When to try again, when it is known. */
      retryAfterMs?: number;
      upstream?: E | string;
    }
  | {
      code: "upstream_too_large";
      message: string;
      status: number;
      /** The most body bytes this capability reads (the manifest's `max_body_bytes`; 10 MiB unless it says). */
      limit: number;
      upstream?: undefined;
    }
  | {
      code: "upstream_timeout";
      message: string;
      /** What the upstream last answered, if anything; the receipt's `tries` say how each request ended. */
      status?: number;
      upstream?: undefined;
    }
  | { code: "upstream_redirect"; message: string; status: number; upstream?: { location: string } }
  | { code: "upstream_invalid_body"; message: string; status: number; /** The body's first 2 KiB. */ upstream?: string }
  | { code: "upstream_body_withheld"; message: string; status: number; upstream: { contentType: string } }
  | {
      code: "upstream_outcome_unknown";
      message: string;
      /** What the upstream last answered, when it answered; the request went out either way. */
      status?: number;
      upstream?: undefined;
    }
  | {
      code: "auth_failed";
      message: string;
      /** Where the credential's lifecycle failed: exchanging the deployment's credentials for a token, logging in (or a login wall after a fresh login), or the upstream refusing fresh credentials. */
      stage: "token" | "login" | "upstream";
      /** The token endpoint's, the login's or the upstream's status; absent when it could not be reached. */
      status?: number;
      /** At the `upstream` stage, the provider's error object (credentials redacted), or its body's text when it is not JSON. */
      upstream?: E | string;
    }
  | {
      code: "missing_credential" | "header_not_allowed" | "invalid_argument" | "unknown_parameter" | "upstream_unreachable" | "operation_not_allowed" | "internal";
      message: string;
      status?: undefined;
      upstream?: undefined;
    };

/** Parsed JSON: what a result is where the spec says nothing more. (Interfaces, not one
 * recursive alias: workers-types' RPC serializability check recurses without end into that.) */
export type JsonValue = string | number | boolean | null | JsonArray | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}
export interface JsonArray extends Array<JsonValue> {}

/** Every method resolves to one of these; none throws. `T`: the result; `E`: the provider's error object. */
export type Result<T = JsonValue, E = JsonValue> =
  | { ok: true; result: T; receipt: Receipt }
  | { ok: false; error: CapabilityError<E>; receipt: Receipt };

/** `options.pages` of an operation that pages (docs/pages.md): stop after `maxItems` items (1 to 10000; default 1000) or `maxPages` pages (1 to 40; default 10). */
export interface Pages {
  maxItems?: number;
  maxPages?: number;
}

/** Many pages in one call: every page's items, whether more follow, and the params that continue exactly where it stopped. */
export interface Page<T> {
  data: T[];
  hasMore: boolean;
  /** Pass these back as the params to continue; null after the last page. */
  next: { [key: string]: JsonValue } | null;
  pages: number;
  /** Kept from the last page where the answer has them (GitHub's searches; Twitch's `total`). */
  total_count?: number;
  incomplete_results?: boolean;
  total?: number;
}

/** The items of a list result: its `K` member's elements, or its own when `K` is "". */
export type ItemOf<R, K extends string> = K extends "" ? (R extends (infer I)[] ? I : JsonValue) : R extends { [k in K]?: (infer I)[] | null } ? I : JsonValue;

/** A walk's failure on a later page keeps what it gathered: the items so far, and the params of the page that failed. */
export type Paged<T, E = JsonValue> =
  | { ok: true; result: Page<T>; receipt: Receipt }
  | { ok: false; error: CapabilityError<E> & { partial?: { data: T[]; next: { [key: string]: JsonValue } | null } }; receipt: Receipt };
"#;

/// The TypeScript declaration.
pub fn emit(spec: &Spec, manifest: &Manifest, model: &Model, root: &Node, classes: &crate::classes::Classes) -> String {
    let prefix = manifest.capability.to_upper_camel_case();
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "// Generated by capa-gen from openapi/{}/capa.toml: do not edit.", manifest.capability);
    let _ = writeln!(w, "// Regenerate with `npm run regen`.");
    let _ = writeln!(w, "//");
    let _ = writeln!(w, "// Usage, in a Worker with a service binding `{}` to this capability:", manifest.binding);
    let _ = writeln!(w, "//   interface Env {{ {}: Service<{prefix}Capability> }}", manifest.binding);
    let _ = writeln!(w);
    w.push_str(COMMON);
    let _ = writeln!(w);
    let _ = writeln!(w, "/** Options every method takes last. */");
    let _ = writeln!(w, "export interface CallOptions {{");
    let _ = writeln!(w, "  auth?: {{");
    let secrets: Vec<&str> = manifest.schemes().iter().map(|a| a.secret).collect();
    let schemes = manifest.schemes();
    match secrets.as_slice() {
        [_] if schemes[0].scheme == crate::schemes::Scheme::Session => {
            let _ = writeln!(w, "    /** A ready `Cookie` value (`sid=…`) for this call alone: sent as it is, never kept (the Worker logs in with its own). */");
        }
        [_] if schemes[0].scheme == crate::schemes::Scheme::Jwt => {
            let _ = writeln!(w, "    /** A ready access token for this call alone: sent as a bearer token, never cached or refreshed (the Worker signs its own with {}). */", schemes[0].secret);
        }
        [_] if schemes[0].scheme == crate::schemes::Scheme::Oauth2 => {
            let _ = writeln!(w, "    /** A ready access token for this call alone: sent as a bearer token, never cached or refreshed (the Worker obtains its own from {} and {}). */", schemes[0].client_id.unwrap_or_default(), schemes[0].secret);
        }
        [one] => {
            let _ = writeln!(w, "    /** Replaces the Worker secret {one} for this call only. */");
        }
        many => {
            let _ = writeln!(w, "    /** Replaces, for this call only, the key of the scheme the method uses ({}). */", many.join(", "));
        }
    }
    let _ = writeln!(w, "    apiKey?: string;");
    if manifest.auth.scheme == crate::schemes::Scheme::Basic {
        let _ = writeln!(w, "    /** The basic password: apiKey's other name (give one of them). */");
        let _ = writeln!(w, "    password?: string;");
        if manifest.auth.username.is_some() {
            let _ = writeln!(w, "    /** The basic user name for this call, with its password: a pair comes whole. */");
            let _ = writeln!(w, "    username?: string;");
        }
    }
    let headers: Vec<String> = manifest.call_headers().iter().map(|h| format!("{h:?}?: string")).collect();
    let _ = writeln!(w, "    /** Per-call headers, from the provider's allow-list only. */");
    let _ = writeln!(w, "    headers?: {{ {} }};", headers.join("; "));
    // Credential parameters (`[auth] params`, any scheme's): only a provider that has them.
    let params = manifest.credential_params();
    if !params.is_empty() {
        let fields: Vec<String> = params.iter().map(|p| format!("{p:?}?: string")).collect();
        let _ = writeln!(w, "    /** Credential parameters for this call, by name: each replaces the deployment's; with apiKey, every one the method declares. */");
        let _ = writeln!(w, "    params?: {{ {} }};", fields.join("; "));
    }
    let _ = writeln!(w, "  }};");
    let _ = writeln!(w, "  /** Retries after a transient failure (a connection, a timeout, 408, 429, 5xx): 0 to 5; default {}. */", manifest.upstream.max_retries.unwrap_or(2));
    let _ = writeln!(w, "  maxRetries?: number;");
    match &manifest.upstream.idempotency_header {
        Some(h) => {
            let _ = writeln!(w, "  /** Sent as `{h}` on a POST or PATCH, on every attempt (default: the call's `callId`): 1 to 255 printable ASCII characters. */");
        }
        None => {
            let _ = writeln!(w, "  /** This provider takes no idempotency key (its POST and PATCH are never sent twice): refused. */");
        }
    }
    let _ = writeln!(w, "  idempotencyKey?: {};", if manifest.upstream.idempotency_header.is_some() { "string" } else { "never" });
    let _ = writeln!(w, "  /** How long the call may take, attempts and waits together: 1 to 300000 ms; default 60000. */");
    let _ = writeln!(w, "  timeoutMs?: number;");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w);
    let _ = writeln!(w, "/** A session's auth (`withAuth`): fixed for every call of the session. */");
    let _ = writeln!(w, "export type Auth = NonNullable<CallOptions[\"auth\"]>;");
    let _ = writeln!(w);
    let _ = writeln!(w, "/** Options of a session's methods: its auth is fixed, so they take none. */");
    let _ = writeln!(w, "export type SessionOptions = Omit<CallOptions, \"auth\"> & {{ auth?: never }};");
    let _ = writeln!(w);

    // The declaration's own names, which no schema's may shadow.
    let reserved: Vec<String> = ["Capability", "Session", "ReadSession", "Class", "Rights"]
        .iter()
        .map(|n| format!("{prefix}{n}"))
        .chain(root.descendants().iter().flat_map(|n| [format!("{prefix}{}", n.type_name()), format!("{prefix}Read{}", n.type_name())]))
        .collect();
    let types = Types::new(spec, &reserved);

    // Branded as workers-types brands what they are (a WorkerEntrypoint, RpcTargets), so that
    // `Service<StripeCapability>` types a binding to it: `Rpc` is the global namespace of
    // @cloudflare/workers-types (and of `wrangler types`).
    let _ = writeln!(w, "export interface {prefix}Capability extends Rpc.WorkerEntrypointBranded {{");
    for (name, child) in &root.children {
        let _ = writeln!(w, "  {}: {prefix}{};", member(name), child.type_name());
    }
    session_members(w, &prefix, "withAuth(auth: Auth | null | undefined, rights", "withAuth(auth?: Auth | null, rights?");
    let _ = writeln!(w, "}}");
    let read = |i: usize| classes.of[i] & 1 != 0;
    // Whether `node` or any node below it has a read method: it has a place in a read session.
    fn holds(node: &Node, read: &dyn Fn(usize) -> bool) -> bool {
        node.methods.values().any(|&i| read(i)) || node.children.values().any(|c| holds(c, read))
    }
    let holds_read = |node: &Node| holds(node, &read);

    // A session: the same resources, whose methods take no `auth` (README, "Sessions").
    let _ = writeln!(w);
    let _ = writeln!(w, "/** `withAuth`'s answer: the resources, bound to one auth and narrowed by rights. */");
    let _ = writeln!(w, "export interface {prefix}Session extends Rpc.RpcTargetBranded {{");
    for (name, child) in &root.children {
        let _ = writeln!(w, "  {}: {prefix}{}<SessionOptions>;", member(name), child.type_name());
    }
    session_members(w, &prefix, "attenuate(rights", "attenuate(rights");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w);
    let _ = writeln!(w, "/** A `readOnly` session: its read methods alone (classes: read). */");
    let _ = writeln!(w, "export interface {prefix}ReadSession extends Rpc.RpcTargetBranded {{");
    for (name, child) in root.children.iter().filter(|(_, c)| holds_read(c)) {
        let _ = writeln!(w, "  {}: {prefix}Read{};", member(name), child.type_name());
    }
    let _ = writeln!(w, "  attenuate(rights: {prefix}Rights): {prefix}ReadSession;");
    let _ = writeln!(w, "}}");
    let _ = writeln!(w);
    let names: Vec<String> = classes.names.iter().map(|c| format!("{c:?}")).collect();
    let _ = writeln!(w, "/** The classes of {}'s operations, which rights name (README, \"Rights\"). */", manifest.capability);
    let _ = writeln!(w, "export type {prefix}Class = {};", names.join(" | "));
    let _ = writeln!(w);
    let _ = writeln!(w, "/** What a session may call: `only` the union of its patterns (`resource.method`, `resource.*`, a class), `except` removed, `readOnly` the read class. */");
    let _ = writeln!(w, "export interface {prefix}Rights {{");
    let _ = writeln!(w, "  only?: ({prefix}Class | (string & {{}}))[] | string;");
    let _ = writeln!(w, "  except?: ({prefix}Class | (string & {{}}))[] | string;");
    let _ = writeln!(w, "  readOnly?: boolean;");
    let _ = writeln!(w, "}}");

    for node in root.descendants() {
        let _ = writeln!(w);
        let _ = writeln!(w, "export interface {prefix}{}<O = CallOptions> extends Rpc.RpcTargetBranded {{", node.type_name());
        for (name, child) in &node.children {
            let _ = writeln!(w, "  {}: {prefix}{}<O>;", member(name), child.type_name());
        }
        methods(w, &types, manifest, model, classes, node, |_| true);
        let _ = writeln!(w, "}}");
    }
    for node in root.descendants().into_iter().filter(|n| holds_read(n)) {
        let _ = writeln!(w);
        let _ = writeln!(w, "export interface {prefix}Read{}<O = SessionOptions> extends Rpc.RpcTargetBranded {{", node.type_name());
        for (name, child) in node.children.iter().filter(|(_, c)| holds_read(c)) {
            let _ = writeln!(w, "  {}: {prefix}Read{}<O>;", member(name), child.type_name());
        }
        methods(w, &types, manifest, model, classes, node, read);
        let _ = writeln!(w, "}}");
    }
    let declarations = types.declarations();
    if !declarations.is_empty() {
        let _ = writeln!(w);
        let _ = writeln!(w, "// The spec's named schemas (components.schemas) the methods use.");
        let _ = writeln!(w);
        w.push_str(&declarations);
    }
    out
}

/// `withAuth` (on the capability) or `attenuate` (on a session), each signature up to the rights'
/// type: `readOnly: true` (`narrow`) narrows the type to the read methods, anything else (`wide`)
/// does not.
fn session_members(w: &mut String, prefix: &str, narrow: &str, wide: &str) {
    let _ = writeln!(w, "  /** A session (README, \"Sessions\"): `readOnly` keeps the read methods alone. */");
    let _ = writeln!(w, "  {narrow}: {prefix}Rights & {{ readOnly: true }}): {prefix}ReadSession;");
    let _ = writeln!(w, "  {wide}: {prefix}Rights): {prefix}Session;");
}

/// The declarations of `node`'s methods that `keep` keeps (by operation index).
fn methods(w: &mut String, types: &Types<'_>, manifest: &Manifest, model: &Model, classes: &crate::classes::Classes, node: &Node, keep: impl Fn(usize) -> bool) {
    for (method, &i) in node.methods.iter().filter(|(_, &i)| keep(i)) {
        let op = &model.operations[i];
        let doc = match &op.summary {
            Some(s) => format!("{} — {} {}", s.replace("*/", "* /"), op.method, op.path),
            None => format!("{} {}", op.method, op.path),
        };
        let deprecated = if op.deprecated { " @deprecated" } else { "" };
        // Its classes, which rights name (README, "Rights").
        let classes = crate::classes::named(classes, classes.of[i]).join(", ");
        let path: Vec<String> = op.path_params.iter().map(|p| format!("{}: string | number", arg(p))).collect();
        let lead = if path.is_empty() { String::new() } else { format!("{}, ", path.join(", ")) };
        let result = result_type(types, manifest, op);
        // An operation that pages: an overload taking `pages` first, its result the items.
        if let Some(paging) = &op.paging {
            let (item_result, error) = result_type_parts(types, manifest, op);
            let error = error.map(|e| format!(", {e}")).unwrap_or_default();
            let paged = format!("Paged<ItemOf<{item_result}, {:?}>{error}>", paging.items);
            let params = match params_type(types, op) {
                Some((ty, true)) => ty,
                Some((ty, false)) => format!("{ty} | undefined"),
                None => "null | undefined".to_owned(),
            };
            let _ = writeln!(w, "  /** {doc} (classes: {classes}){deprecated}: many pages in one call ({}; docs/pages.md) */", paging.convention.label());
            let _ = writeln!(w, "  {}({lead}params: {params}, options: O & {{ pages: Pages }}): Promise<{paged}>;", member(method));
        }
        let _ = writeln!(w, "  /** {doc} (classes: {classes}){deprecated} */");
        match params_type(types, op) {
            Some((ty, required)) => {
                if !required {
                    let _ = writeln!(w, "  {}({lead}options?: O): Promise<{result}>;", member(method));
                }
                let q = if required { "" } else { "?" };
                let _ = writeln!(w, "  {}({lead}params{q}: {ty}, options?: O): Promise<{result}>;", member(method));
            }
            None => {
                let _ = writeln!(w, "  {}({lead}options?: O): Promise<{result}>;", member(method));
            }
        }
    }
}

/// `Result<T, E>` for `op`.
fn result_type(types: &Types<'_>, manifest: &Manifest, op: &Operation) -> String {
    match result_type_parts(types, manifest, op) {
        (result, Some(e)) => format!("Result<{result}, {e}>"),
        (result, None) => format!("Result<{result}>"),
    }
}

/// The types `op`'s 2xx answers have, distinct, in status order; `named` rewrites each schema's
/// type (the door's signatures shorten them).
pub(super) fn answer_types(types: &Types<'_>, op: &Operation, named: impl Fn(String) -> String) -> Vec<String> {
    let mut members: Vec<String> = Vec::new();
    for answer in &op.results {
        let ty = match answer {
            Answer::None => "null".to_owned(),
            Answer::Text => "string".to_owned(),
            Answer::Binary => "Uint8Array".to_owned(),
            Answer::Json(schema) if schema.is_null() => "JsonValue".to_owned(),
            Answer::Json(schema) => named(types.ty(schema, Way::Out)),
        };
        if !members.contains(&ty) {
            members.push(ty);
        }
    }
    members
}

/// `T` and `E` of `op`'s `Result<T, E>` (`None`: the default `E`).
fn result_type_parts(types: &Types<'_>, manifest: &Manifest, op: &Operation) -> (String, Option<String>) {
    let members = answer_types(types, op, |ty| ty);
    let result = if members.iter().any(|m| m == "JsonValue") { "JsonValue".to_owned() } else { members.join(" | ") };
    let error = op.error.as_ref().map(|schema| {
        // The runtime hands back the body's `error_object` member when the body has one.
        let inner = manifest.upstream.error_object.as_deref().and_then(|key| {
            let resolved = types.resolve(schema)?;
            resolved.get("properties")?.get(key).cloned()
        });
        types.ty(inner.as_ref().unwrap_or(schema), Way::Out)
    });
    (result, error.filter(|e| e != "JsonValue"))
}

/// The params argument's type and whether it is required; `None` when the operation takes none.
fn params_type(types: &Types<'_>, op: &Operation) -> Option<(String, bool)> {
    let whole = matches!(op.body, Body::JsonValue | Body::Text(_) | Body::Binary(_)) && op.params.is_empty();
    if whole {
        let ty = match op.body {
            Body::Text(_) => "string",
            Body::Binary(_) => "Binary | string",
            _ => "unknown",
        };
        return Some((ty.into(), false));
    }
    let binary_body = matches!(op.body, Body::Binary(_));
    let open = matches!(op.body, Body::Form { open: true, .. } | Body::Json { open: true } | Body::Multipart { open: true, .. });
    if op.params.is_empty() && !open {
        return None;
    }
    let mut fields: Vec<String> = op
        .params
        .iter()
        .map(|p| {
            let ty = if binary_body && p.name == "body" { "Binary | string".to_owned() } else { types.ty(&p.schema, Way::In) };
            format!("{}{}: {ty}", member(&p.name), if p.required { "" } else { "?" })
        })
        .collect();
    if open {
        fields.push("[key: string]: unknown".into());
    }
    let required = op.params.iter().any(|p| p.required);
    let ty = format!("{{ {} }}", fields.join("; "));
    Some((if required { ty } else { format!("{ty} | null") }, required))
}

fn member(name: &str) -> String {
    if is_ident(name) { name.to_owned() } else { format!("{name:?}") }
}

fn arg(name: &str) -> String {
    let camel = heck::ToLowerCamelCase::to_lower_camel_case(name);
    if is_ident(&camel) { camel } else { format!("_{camel}") }
}
