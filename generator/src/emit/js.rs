//! `entry.js`: the Worker's main module.
//!
//! Thin on purpose. It holds no policy: each method hands its arguments (as JSON) and the
//! Worker's own `env` to the Rust runtime and performs the `fetch` the runtime asks for.

use super::tree::Node;
use crate::manifest::Manifest;
use crate::schemes::Scheme;
use crate::model::Model;
use crate::names::is_ident;
use heck::ToUpperCamelCase;
use std::fmt::Write;

const PRELUDE: &str = r#"import { RpcTarget, WorkerEntrypoint__DURABLE__ } from "cloudflare:workers";
import Base from "../../build/__CAPABILITY__/index.js";
import { argsJson, takeBinaries } from "../../src/js/args.js";
import { isJson, isText, readBody, requestBody, scanText } from "../../src/js/body.js";__FRAMED_IMPORT__
import { flagged } from "../../src/js/scan.js";

const CAPABILITY = "__CAPABILITY__";
const REQUEST_ID = __REQUEST_ID__;

// worker-build puts every wasm export on its entrypoint class, which would make each one an RPC
// method any caller could reach, passing its own env. Keep the runtime's exports here and
// strip that class bare; the entrypoint below does not extend it (no per-call Proxy either), so
// only the resources are callable (tests/surface.test.mjs). After a panic, wasm-bindgen's abort
// handler (worker-build enables it) replaces the wasm instance before the next call.
const proto = Base.prototype;
const { capa_begin, capa_finish, capa_unreachable, capa_resume, capa_too_large, capa_internal, capa_lost, capa_invalid_body, capa_store, capa_grant__TOKEN_EXPORTS__ } = proto;
for (const key of Object.getOwnPropertyNames(proto)) if (key !== "constructor") delete proto[key];
if ([capa_begin, capa_finish, capa_unreachable, capa_resume, capa_too_large, capa_internal, capa_lost, capa_invalid_body, capa_store, capa_grant__TOKEN_EXPORTS__].some((f) => typeof f !== "function")) {
  throw new Error("capa: the wasm build lacks the runtime's exports");
}

// The env whose bindings the runtime holds.
let bound;
// Each call's number, which the runtime checks its handle against (src/wasm/mod.rs): this module
// outlives the wasm instances a panic replaces, so no two calls share one.
let tickets = 0;

// One call: the runtime answers with an envelope or a request to send (see src/wasm/mod.rs).
async function invoke(env, op, args, grant) {
  const ticket = ++tickets;
  // The call's id (its receipt's callId, its default idempotency key): fresh for every call.
  const id = crypto.randomUUID();
  // `flags`: what earlier rounds did (see begin); `t0`: when the call began, for its receipt;
  // `earlier`: the tries an R step handed back. `sent`, `status`, `credential`: what went out
  // and came back, for the answer to a call the runtime faults on (or loses with its instance)
  // after its request went out (capa_lost).
  const t0 = Date.now();
  let out, body, bytes, status = null, type, flags = 0, sent = 0, credential = "none", earlier;
  try {
    // JSON text, or the report of a value JSON would change (a Map, NaN): src/js/args.js. Binary
    // arguments stay here; the runtime's requests name them by index (src/js/body.js).
    const json = argsJson(args);
    const binaries = json.charCodeAt(0) === 1 ? takeBinaries() : null;
    out = begin(env, op, ticket, json, flags, t0, grant, id, earlier);
    if (unsettled(out)) [out, flags] = await settle(env, op, ticket, json, out, flags, t0, grant, id, earlier);
    for (;;) {
      const step = out.charCodeAt(0);
      // Y<handle>:<ms>: wait before the call's next attempt (a retry, src/retry.rs).
      if (step === 89 /* Y */) {
        const colon = out.indexOf(":");
        await later(+out.slice(colon + 1));
        out = capa_resume(+out.slice(1, colon), ticket, Date.now());
        continue;
      }
      if (step !== 70 /* F: fetch */) break;
      const colon = out.indexOf(":");
      const handle = +out.slice(1, colon);
      const [url, method, reqBody, headers, scan, used, timeout, limit, paged] = JSON.parse(out.slice(colon + 1));
      credential = used;
      let res, h, read;
      // The attempt's time (src/retry.rs) bounds its answer and its body: the fetch's signal
      // aborts both, with a TimeoutError. workerd's own timeout signal costs the plain path less
      // than an AbortController and a timer cleared after the body (4 % of a call, measured in
      // one run: bench/README.md), and is what the twin does.
      try {
        const init = { method, headers, body: reqBody === null || typeof reqBody === "string" ? reqBody : requestBody(reqBody, binaries__FRAMED_ARG__), redirect: "manual", signal: AbortSignal.timeout(timeout) };
        sent++;
        status = null;
        res = await fetch(url, init);
        h = res.headers;
        status = res.status;
        type = h.get("content-type") ?? "";
        // A success that is not text is bytes, handed back as they came. At most `limit` bytes
        // of either are read (null: more; the rest is not).
        const binary = status >= 200 && status < 300 && !isText(type);
        read = await readBody(res, limit, binary);
        bytes = binary ? read : null;
        body = binary ? "" : read;
      } catch (e) {
        out = capa_unreachable(handle, ticket, op, Date.now(), String(e?.message ?? e), e?.name === "TimeoutError");
        continue;
      }
      if (read === null) {
        out = capa_too_large(handle, ticket, Date.now(), status, (REQUEST_ID && h.get(REQUEST_ID)) ?? "");
        continue;
      }
      // The runtime judges what the scan flags (src/js/scan.js): redacts it, withholds bytes that
      // hold a credential. Only then does the body cross into wasm (bytes as their text).
      let found = false;
      if (scan.length > 3) {
        if (bytes === null) found = body.length !== 0 && flagged(body, scan, isJson(type));
        else if (bytes.length !== 0 && flagged((body = scanText(bytes)), scan, false)) found = true;
        else body = "";
      }
      // Content type, request id and (for a redirect only: each read is a call into the runtime)
      // location, and for a failure what it says about trying again (src/retry.rs), as one
      // string: one copy into wasm instead of several. Values hold no line feed.
      let heads = type + "\n" + ((REQUEST_ID && h.get(REQUEST_ID)) ?? "");
      if (status >= 300 && status < 400) heads += "\n" + (h.get("location") ?? "");
      // A page of a walk (src/pages.rs): its Link, after an empty location.
      else if (paged && status < 300) heads += "\n\n" + (h.get("link") ?? "");
      else if (status >= 400) {
        heads += "\n";
        for (const name of HINTS) heads += "\n" + (h.get(name) ?? "");
      }
      const empty = bytes === null ? body.length === 0 : bytes.length === 0;
      out = capa_finish(handle, ticket, op, Date.now(), status, heads, body, empty, found, bytes !== null);
__TOKEN_RETRY__    }
  } catch {
    // A fault in the runtime: a panic aborts the wasm instance, which workers-rs replaces before
    // the next call. The panic is in the Worker's log; the caller still gets an envelope, which
    // says whether its request went out.
    return sent ? lost(op, t0, sent, status, credential, flags, id) : internal(op, id);
  }
  const kind = out.charCodeAt(0);
  if (kind === 123 /* { */) return JSON.parse(out);
  // L: the runtime lost the call with the instance a panic replaced, after its request went out.
  if (kind === 76 /* L */) return lost(op, t0, sent, status, credential, flags, id);
  // J/T/B: the scan flagged nothing in the body; attach it here rather than copy it through wasm.
  const values = JSON.parse(out.slice(1));
  const receipt = receiptOf(values);
  if (kind === 66 /* B */) return { ok: true, result: bytes, receipt };
  let result = body;
  if (kind === 74 /* J */) {
    try {
      result = JSON.parse(body);
    } catch {
      // Declared JSON but is not: the runtime's upstream_invalid_body, with the body's start
      // (the scan flagged nothing in it) and this very receipt turned to fail.
      try {
        return JSON.parse(capa_invalid_body(op, Date.now(), status, out.slice(1), body.slice(0, 2048)));
      } catch {
        return lost(op, t0, sent, status, credential, flags, id);
      }
    }
  }
  return { ok: true, result, receipt };
}

// What a failure's headers say about trying again, in the order src/wasm/mod.rs reads them.
const HINTS = ["retry-after-ms", "retry-after", "stripe-should-retry", "x-should-retry", "x-ratelimit-remaining", "x-ratelimit-reset"];
const later = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One round of the call (capa_begin in src/wasm/mod.rs: the call, the bindings, the round). The
// env is passed only when it is not the one the runtime read last (workerd hands every call the
// same one); "E": the runtime holds none (a new instance after a panic). `flags`: what the call's
// earlier rounds did (1: a token was obtained for it, 2: its token was refused once). `grant`:
// what the caller holds (its binding's props, its session), undefined on the plain path. `id`:
// the call's id. `earlier`: the tries an R step handed back, undefined on the plain path.
function begin(env, op, ticket, json, flags, t0, grant, id, earlier) {
  const out = capa_begin(op, json, grant, id, env === bound ? undefined : (bound = env), ticket, flags, t0, earlier, Date.now());
  return out === "E" ? capa_begin(op, json, grant, id, (bound = env), ticket, flags, t0, earlier, Date.now()) : out;
}

// What the caller's binding grants (src/grant.rs): none without props, which workerd hands each
// call as `ctx.props` (`{}` without). The runtime compiles each distinct props once; props that
// are no object reach it too, and refuse every call.
const propsGrants = new Map();
function held(ctx) {
  const props = ctx.props;
  if (props === undefined) return undefined;
  if (typeof props !== "object" || props === null || Array.isArray(props)) return propsGrant(props);
  for (const _ in props) return propsGrant(props);
  return undefined;
}

function propsGrant(props) {
  let json;
  try {
    json = JSON.stringify(props);
  } catch {
    json = "null";
  }
  let grant = propsGrants.get(json);
  if (grant === undefined) {
    grant = made("", json, 0) || null;
    // A fault's answer (refusing all) is not kept: the next call tries again.
    if (propsGrants.size < 64 && !grant?.startsWith("!")) propsGrants.set(json, grant);
  }
  return grant ?? undefined;
}

// The grant of `withAuth` (kind 1) or `attenuate` (2) from `args`, made by the runtime, which
// validates them now and answers each of the session's calls accordingly: neither ever throws.
function grantOf(from, args, kind) {
  let json;
  try {
    json = argsJson(args);
    takeBinaries();
  } catch {
    json = "\0[\"unserializable\"]";
  }
  return made(from, json, kind);
}

// A fault in the runtime makes a grant that refuses every call (fail closed), not an exception.
function made(from, json, kind) {
  try {
    return capa_grant(from, json, kind);
  } catch {
    return "!the capability could not read these rights: an internal error (the Worker's log has details)";
  }
}

// What the runtime needs before the fetch: S, Secrets Store values to read (src/store.rs); Q, a
// unit of the call budget to spend (src/budget.rs); X, a token exchange to make, G, a service
// account's JWT to sign (then maybe exchange), D, the shared token to take from the Durable
// Object (then maybe either), or W, another call's flight to await (src/token/).
function unsettled(out) {
  const step = out.charCodeAt(0);
  return step === 83 /* S */ || step === 81 /* Q */__TOKEN_STEPS__;
}

// Performs those steps, beginning the call again after each. Reads and waits are bounded; an
// exchange the runtime handed this call is always made (others wait for it).
async function settle(env, op, ticket, json, out, flags, t0, grant, id, earlier) {
  for (let round = 0; unsettled(out); ) {
    const step = out.charCodeAt(0);
    if (step === 83 || step === 87 || step === 81) {
      if (++round > 8) throw new Error("capa: the call's credentials did not settle");
    }
    if (step === 83) await readStore(env, JSON.parse(out.slice(1)));
    else if (step === 81) flags |= await spend(env, JSON.parse(out.slice(1)));__TOKEN_OBTAIN__
    out = begin(env, op, ticket, json, flags, t0, grant, id, earlier);
  }
  return [out, flags];
}

// Spends one unit of the call budget's bucket `key` (src/budget.rs) on the CAPA_BUDGET Rate
// Limiting binding: the runtime's flag for what happened (4 spent, 8 refused, 16 the limiter
// failed). A credential's bucket (`key` null) is keyed by an HMAC of `text` under a key derived
// from the CAPA_BUDGET_KEY secret, never by the credential itself.
async function spend(env, [key, text]) {
  try {
    if (key === null) key = "auth:" + (await budgetHmac(env.CAPA_BUDGET_KEY, text));
    return (await env.CAPA_BUDGET.limit({ key })).success ? 4 : 8;
  } catch {
    return 16;
  }
}

// The HMAC key derived (HKDF-SHA-256) from the secret, kept while the secret stays the same.
let budgetKey = null;
async function budgetHmac(secret, text) {
  if (budgetKey?.secret !== secret) {
    const raw = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveKey"]);
    const info = new TextEncoder().encode("capa-rs call budget buckets");
    const key = await crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info }, raw, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]);
    budgetKey = { secret, key };
  }
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", budgetKey.key, new TextEncoder().encode(text)));
  return Array.from(mac.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}

// Each named binding's `get()`, handed to the runtime; a failed read is no value (the runtime then
// answers missing_credential naming the binding).
async function readStore(env, names) {
  for (const name of names) {
    let value;
    try {
      value = await env[name].get();
    } catch {}
    capa_store(name, typeof value === "string" ? value : undefined, Date.now());
  }
}

// A success receipt arrives as its values, in the order of FIELDS in src/receipt.rs (tests/wire.rs
// holds this list to it): an array parses without building an object shape or looking up keys.
function receiptOf(v) {
  return { capability: v[0], operation: v[1], call: v[2], method: v[3], path: v[4], status: v[5], requestId: v[6], startedAt: v[7], durationMs: v[8], attempts: v[9], credential: v[10], refreshed: v[11], verdict: v[12], callId: v[13], tries: v[14], idempotencyKey: v[15], pages: v[16] };
}

// The receipt's callId is set here, not passed in: after a panic these run on the aborted
// instance, which can take numbers but not allocate a string.
function internal(op, id) {
  try {
    const envelope = JSON.parse(capa_internal(op, Date.now()));
    envelope.receipt.callId = id;
    return envelope;
  } catch {
    return { ok: false, error: { code: "internal", message: "internal error in the capability; the Worker's log has details" }, receipt: { capability: CAPABILITY, callId: id, verdict: "fail" } };
  }
}

// upstream_outcome_unknown: the call's request went out (`sent` times, the last answered
// `status`, or null), then the runtime faulted or lost the call, so its outcome is unknown. Never
// `internal`, which would say nothing was sent, and a caller trusting it would send it again.
const CREDENTIALS = ["secret", "call", "none"];
function lost(op, t0, sent, status, credential, flags, id) {
  try {
    const envelope = JSON.parse(capa_lost(op, Date.now(), t0, sent, status ?? 0, CREDENTIALS.indexOf(credential), flags));
    envelope.receipt.callId = id;
    return envelope;
  } catch {
    return {
      ok: false,
      error: { code: "upstream_outcome_unknown", message: "the request was sent, then a fault inside the capability lost its outcome: it may have taken effect; check before sending it again (the Worker's log has details)", ...(status ? { status } : {}) },
      receipt: { capability: CAPABILITY, status, attempts: sent, credential, callId: id, verdict: "fail" },
    };
  }
}
"#;

/// The entry's token lifecycle (src/token.rs), for providers with a token scheme only: exchanges,
/// signatures, logins and the single flight waiting on them.
const TOKENS: &str = r#"
// Token exchanges in flight, by scheme: the calls the runtime tells to wait (W) await them.
const flights = new Map();

// How long an exchange may take, and a call wait for another's, before it gives up on it.
const EXCHANGE_MS = 10000;
// `promise`'s value, or a rejection once EXCHANGE_MS have passed without one.
async function bounded(promise) {
  let timer;
  try {
    return await Promise.race([promise, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("capa: no answer in time")), EXCHANGE_MS)))]);
  } finally {
    clearTimeout(timer);
  }
}

// X<scheme>:<request> / G<scheme>:<signing> / D<scheme>:<slot>: make the token exchange, sign
// the JWT first, or ask the Durable Object first, keeping the flight's promise for the calls
// told to wait; W<scheme>: await the flight another call is making (or, if its instance is
// gone, a moment).
async function obtain(env, out) {
  const step = out.charCodeAt(0);
  const colon = out.indexOf(":");
  const scheme = +out.slice(1, step === 87 ? undefined : colon);
  // A waiter never adopts the flight's failure (its panic is the flight's call's), and never
  // waits past the exchange's own limit.
  if (step === 87) return void (await bounded(flights.get(scheme) ?? later(10)).catch(() => {}));
  const flight = fly(env, step, scheme, JSON.parse(out.slice(colon + 1)));
  flights.set(scheme, flight);
  try {
    await flight;
  } finally {
    if (flights.get(scheme) === flight) flights.delete(scheme);
  }
}

// One flight: the Durable Object's token (D), else the exchange (X) or the signature then the
// exchange (G); what the runtime then asks to share (P) is sealed and stored, releasing the
// lease, and a lease that obtained nothing is released.
async function fly(env, step, scheme, what) {
  let lease = null;
  if (step === 68) {
    const [next, taken] = await take(env, scheme, what);
    lease = taken;
    step = next.charCodeAt(0);
    if (step === 88 || step === 71) what = JSON.parse(next.slice(next.indexOf(":") + 1));
  }
  let done = "";
  try {
    if (step === 71) done = await signThenExchange(scheme, what);
    else if (step === 88) done = await exchange(scheme, what);
  } finally {
    if (done.charCodeAt(0) === 80) await put(env, JSON.parse(done.slice(done.indexOf(":") + 1)), lease);
    else if (lease) await bounded(lease.stub.release(lease.id)).catch(() => {});
  }
}

// A service account's JWT: its signing input signed with the key (PKCS#8 DER, base64) through
// WebCrypto, the signature handed to the runtime (empty if the key would not import or sign),
// and the exchange the runtime may then ask for.
async function signThenExchange(scheme, [alg, key, input]) {
  let signature = new Uint8Array(0);
  try {
    const rsa = alg === "RS256";
    const algorithm = rsa ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "ECDSA", namedCurve: "P-256" };
    const der = Uint8Array.from(atob(key), (c) => c.charCodeAt(0));
    const cryptoKey = await crypto.subtle.importKey("pkcs8", der, algorithm, false, ["sign"]);
    signature = new Uint8Array(await crypto.subtle.sign(rsa ? algorithm : { name: "ECDSA", hash: "SHA-256" }, cryptoKey, new TextEncoder().encode(input)));
  } catch {}
  const next = capa_signed(scheme, input, signature, Date.now());
  return next.charCodeAt(0) === 88 ? exchange(scheme, JSON.parse(next.slice(next.indexOf(":") + 1))) : next;
}

// A token exchange (or a session's login) the runtime asked for, its answer handed back with
// the cookies it set (status 0: fetch failed). The answer is the runtime's alone: it never
// reaches a caller.
async function exchange(scheme, [url, method, reqBody, headers]) {
  let status = 0,
    text = "",
    cookies = "";
  try {
    const res = await fetch(url, { method, headers, body: reqBody, redirect: "manual", signal: AbortSignal.timeout(EXCHANGE_MS) });
    status = res.status;
    cookies = res.headers.getSetCookie().join("\n");
    text = await res.text();
  } catch {}
  return capa_token(scheme, status, text, cookies, Date.now());
}

// Sharing through the CapaTokens Durable Object (src/token/shared.rs): it holds and answers
// ciphertext only, sealed under keys derived from the Worker secret it never sees.
const utf8 = (s) => new TextEncoder().encode(s);
const sealers = new Map();
async function slot(env, key, aad) {
  let keys = sealers.get(key);
  if (!keys) {
    if (sealers.size > 3) sealers.clear();
    sealers.set(key, (keys = derive(key)));
  }
  const { seal, name } = await keys;
  const data = utf8(aad);
  const id = [...new Uint8Array(await crypto.subtle.sign("HMAC", name, data))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { seal, data, stub: env.CAPA_TOKENS.get(env.CAPA_TOKENS.idFromName(id)) };
}
async function derive(key) {
  const base = await crypto.subtle.importKey("raw", utf8(key), "HKDF", false, ["deriveKey"]);
  const info = (what) => ({ name: "HKDF", hash: "SHA-256", salt: utf8("capa-tokens"), info: utf8("capa-tokens/v1 " + what) });
  const [seal, name] = await Promise.all([
    crypto.subtle.deriveKey(info("seal"), base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]),
    crypto.subtle.deriveKey(info("name"), base, { name: "HMAC", hash: "SHA-256", length: 256 }, false, ["sign"]),
  ]);
  return { seal, name };
}
// D: the object's answer, opened (nothing that does not authenticate), handed to the runtime.
async function take(env, scheme, [key, aad]) {
  let record, lease = null;
  try {
    const s = await slot(env, key, aad);
    const got = await bounded(s.stub.take());
    if (typeof got?.lease === "string") lease = { stub: s.stub, id: got.lease };
    const sealed = got?.sealed;
    if (sealed) record = new TextDecoder().decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv, additionalData: s.data }, s.seal, sealed.data));
  } catch {}
  return [capa_unsealed(scheme, record, lease !== null, Date.now()), lease];
}
// P: seal the token and store it with the times the object decides by.
async function put(env, [key, aad, record, due, expires], lease) {
  try {
    const s = await slot(env, key, aad);
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: s.data }, s.seal, utf8(record)));
    await bounded(s.stub.put({ iv, data, due, expires }, lease?.id ?? null));
  } catch {}
}

// How long a lease lasts (a flight: a signature and an exchange, each bounded by EXCHANGE_MS).
const LEASE_MS = 2 * EXCHANGE_MS + 1000;

/**
 * The capability's token object: bind it as CAPA_TOKENS to share tokens across isolates
 * (README, "Sharing tokens"). It stores one sealed token (`{iv, data, due, expires}`), hands it
 * out, and serialises refreshes with a lease: the first to find none (or a due one) obtains it,
 * the others wait for it. Any Worker of the account can bind it: it never holds a usable token.
 */
export class CapaTokens extends DurableObject {
  #slot;
  #lease = null;
  #waiters = new Set();

  async take() {
    const now = Date.now();
    if (this.#slot === undefined) this.#slot = (await this.ctx.storage.get("slot")) ?? null;
    const s = this.#slot;
    const leased = this.#lease !== null && now < this.#lease.until;
    if (s && now < s.expires) return now >= s.due && !leased ? { sealed: s, lease: this.#leaseFor(now) } : { sealed: s };
    if (!leased) return { lease: this.#leaseFor(now) };
    return new Promise((resolve) => {
      const waiter = { resolve };
      waiter.timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve({});
      }, Math.min(EXCHANGE_MS, this.#lease.until - now));
      this.#waiters.add(waiter);
    });
  }

  async put(sealed, lease) {
    const { iv, data, due, expires } = sealed ?? {};
    if (!(iv instanceof Uint8Array) || iv.length !== 12 || !(data instanceof Uint8Array) || data.length > 16384 || !Number.isFinite(due) || !Number.isFinite(expires)) return false;
    const s = { iv, data, due, expires };
    this.#slot = s;
    if (this.#lease?.id === lease) this.#lease = null;
    this.#wake({ sealed: s });
    await this.ctx.storage.put("slot", s);
    return true;
  }

  release(lease) {
    if (this.#lease === null || this.#lease.id !== lease) return;
    this.#lease = null;
    this.#wake({});
  }

  #leaseFor(now) {
    this.#lease = { id: crypto.randomUUID(), until: now + LEASE_MS };
    return this.#lease.id;
  }

  #wake(answer) {
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.resolve(answer);
    }
    this.#waiters.clear();
  }
}
"#;

/// The token steps in the call loop: `R`, begin again once with fresh credentials.
const TOKEN_RETRY: &str = r#"      // R<tries>: the upstream refused the deployment's token, which the runtime dropped: once
      // more, with a fresh one, the tries so far handed back.
      if (out.charCodeAt(0) === 82 /* R */ && !(flags & 2)) {
        flags |= 2;
        earlier = out.slice(1);
        out = begin(env, op, ticket, json, flags, t0, grant, id, earlier);
        if (unsettled(out)) [out, flags] = await settle(env, op, ticket, json, out, flags, t0, grant, id, earlier);
      }
"#;

/// The JS entry module.
pub fn emit(manifest: &Manifest, model: &Model, root: &Node) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "// Generated by capa-gen from openapi/{}/capa.toml: do not edit.", manifest.capability);
    let _ = writeln!(w, "// Regenerate with `npm run regen`.");
    let _ = writeln!(w, "//");
    let _ = writeln!(w, "// The {} capability's Worker entry: a WorkerEntrypoint whose getters return one RpcTarget", manifest.capability);
    let _ = writeln!(w, "// per resource. Each method forwards its arguments and this Worker's env to the Rust runtime.");
    let request_id = match &manifest.upstream.request_id_header {
        Some(h) => format!("{:?}", h.to_ascii_lowercase()),
        None => "null".to_owned(),
    };
    // Only a provider whose table has a token scheme carries the token lifecycle (its wasm
    // likewise: `capa_tokens` in build.rs).
    let tokens = manifest.schemes().iter().any(|a| matches!(a.scheme, Scheme::Oauth2 | Scheme::Jwt | Scheme::Session));
    let pick = |text: &'static str| if tokens { text } else { "" };
    // Only a provider with multipart text parts the spec types frames bodies itself.
    let typed = model.operations.iter().any(|op| matches!(&op.body, crate::model::Body::Multipart { types, .. } if !types.is_empty()));
    let typed = |text: &'static str| if typed { text } else { "" };
    w.push_str(
        &PRELUDE
            .replace("__FRAMED_IMPORT__", typed("\nimport { framed } from \"../../src/js/framed.js\";"))
            .replace("__FRAMED_ARG__", typed(", framed"))
            .replace("__CAPABILITY__", &manifest.capability)
            .replace("__REQUEST_ID__", &request_id)
            .replace("__DURABLE__", pick(", DurableObject"))
            .replace("__TOKEN_EXPORTS__", pick(", capa_token, capa_signed, capa_unsealed"))
            .replace("__TOKEN_STEPS__", pick(" || step === 88 /* X */ || step === 71 /* G */ || step === 68 /* D */ || step === 87 /* W */"))
            .replace("__TOKEN_RETRY__", pick(TOKEN_RETRY))
            .replace("__TOKEN_OBTAIN__", pick("\n    else {\n      await obtain(env, out);\n      flags |= 1;\n    }")),
    );
    w.push_str(pick(TOKENS));

    // Every resource object carries the env and the caller's grant (src/grant.rs) to its methods.
    for node in root.descendants() {
        let _ = writeln!(w);
        target_class(w, &node.type_name(), node);
        for (method, &i) in &node.methods {
            let op = &model.operations[i];
            let _ = writeln!(w, "  {}(...args) {{", member(method));
            let _ = writeln!(w, "    return invoke(this.#env, {i}, args, this.#grant); // {} {}", op.method, op.path);
            let _ = writeln!(w, "  }}");
        }
        let _ = writeln!(w, "}}");
    }

    // A session: the same resources, its grant fixing the auth and narrowing the rights.
    let _ = writeln!(w);
    let _ = writeln!(w, "// `withAuth(auth, rights)`'s answer (src/grant.rs): the resources, bound to one auth, narrowed.");
    target_class(w, "Session", root);
    let _ = writeln!(w, "  // Disposing the session's stub (`using`) wipes its credential here, if workerd calls this on");
    let _ = writeln!(w, "  // the target (README, \"Sessions\": what tests/sessions.test.mjs found).");
    let _ = writeln!(w, "  [Symbol.dispose]() {{");
    let _ = writeln!(w, "    this.#grant = \"!this session was disposed; it makes no call\";");
    let _ = writeln!(w, "  }}");
    let _ = writeln!(w, "  // A narrower session: the intersection of these rights with this one's, never wider.");
    let _ = writeln!(w, "  attenuate(...args) {{");
    let _ = writeln!(w, "    return new Session(this.#env, grantOf(this.#grant, args, 2));");
    let _ = writeln!(w, "  }}");
    let _ = writeln!(w, "}}");

    let _ = writeln!(w);
    let _ = writeln!(w, "export default class {}Capability extends WorkerEntrypoint {{", manifest.capability.to_upper_camel_case());
    for (name, child) in &root.children {
        let _ = writeln!(w, "  get {}() {{", member(name));
        let _ = writeln!(w, "    return new {}(this.env, held(this.ctx));", child.type_name());
        let _ = writeln!(w, "  }}");
    }
    let _ = writeln!(w, "  // A session bound to `auth`, narrowed by `rights` and by this caller's binding.");
    let _ = writeln!(w, "  withAuth(...args) {{");
    let _ = writeln!(w, "    return new Session(this.env, grantOf(held(this.ctx) ?? \"\", args, 1));");
    let _ = writeln!(w, "  }}");
    let _ = writeln!(w, "  // Reachable only over RPC: plain HTTP gets nothing.");
    let _ = writeln!(w, "  fetch() {{");
    let _ = writeln!(w, "    return new Response(\"Not found\", {{ status: 404 }});");
    let _ = writeln!(w, "  }}");
    let _ = writeln!(w, "}}");
    out
}

/// The head of an `RpcTarget` class holding the env and a grant, and its getters for `node`'s
/// children (the class is left open for its methods).
fn target_class(w: &mut String, name: &str, node: &Node) {
    let _ = writeln!(w, "class {name} extends RpcTarget {{");
    let _ = writeln!(w, "  #env;");
    let _ = writeln!(w, "  #grant;");
    let _ = writeln!(w, "  constructor(env, grant) {{");
    let _ = writeln!(w, "    super();");
    let _ = writeln!(w, "    this.#env = env;");
    let _ = writeln!(w, "    this.#grant = grant;");
    let _ = writeln!(w, "  }}");
    for (child_name, child) in &node.children {
        let _ = writeln!(w, "  get {}() {{", member(child_name));
        let _ = writeln!(w, "    return new {}(this.#env, this.#grant);", child.type_name());
        let _ = writeln!(w, "  }}");
    }
}

/// A class member name: bare when an identifier, quoted otherwise.
fn member(name: &str) -> String {
    if is_ident(name) { name.to_owned() } else { format!("{name:?}") }
}
