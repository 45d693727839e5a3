// The plain-JS twin of the Stripe capability, for benchmarks only: the same RPC shape, the same
// request building (argument splitting, options detection, unknown/required checks, strict
// percent-encoding, deepObject query, bracketed form body, auth and pinned headers, manual
// redirects, an idempotency key on a POST and an attempt's timeout), the same envelope and
// receipt (its callId and tries too), and a credential scrub of upstream text for the
// forms the README lists (raw, JSON-escaped, percent-encoded in either hex case, base64 and
// base64url of the key and of `key:`), written the plain way: one `includes` per form. It is the
// bar the Rust Worker has to clear. With the var TWIN_SCAN=off it scans nothing: the baseline
// that says what looking costs at all (bench/workers.mjs binds it as "bare").
import { WorkerEntrypoint, RpcTarget } from "cloudflare:workers";

const PROVIDER = {
  capability: "stripe",
  secret: "STRIPE_API_KEY",
  callHeaders: ["Stripe-Account", "Stripe-Context"],
  staticHeaders: [["Stripe-Version", "2024-04-10"], ["User-Agent", "capa-rs/0.1"]],
  server: "https://api.stripe.com",
};
const q = (style) => ({ at: "query", style });
const b = { at: "body" };
const OPS = [
  {
    id: "PostPaymentIntents", call: "paymentIntents.create", method: "POST", path: "/v1/payment_intents", pathParams: [], body: "form",
    params: { amount: { ...b, required: true }, currency: { ...b, required: true }, metadata: b, description: b, customer: b, payment_method: b, payment_method_types: b, confirm: b, capture_method: b, expand: b, shipping: b, receipt_email: b, setup_future_usage: b, statement_descriptor: b },
  },
  {
    id: "GetCustomers", call: "customers.list", method: "GET", path: "/v1/customers", pathParams: [], body: "none",
    params: { created: q("deepObject"), email: q("form"), ending_before: q("form"), expand: q("deepObject"), limit: q("form"), starting_after: q("form"), test_clock: q("form") },
  },
  {
    id: "GetCustomersCustomer", call: "customers.retrieve", method: "GET", path: "/v1/customers/{customer}", pathParams: ["customer"], body: "none",
    params: { expand: q("deepObject") },
  },
];
const OPTION_KEYS = ["auth"];

class CallError extends Error {
  constructor(code, message, extra = {}) {
    super(message);
    Object.assign(this, { code, ...extra });
  }
}

function enc(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}
function scalar(v) {
  return v === null ? "" : String(v);
}
function nested(out, prefix, v, emptyBrackets) {
  if (Array.isArray(v)) {
    const bare = emptyBrackets && v.every((x) => x === null || typeof x !== "object");
    v.forEach((x, i) => nested(out, bare ? `${prefix}[]` : `${prefix}[${i}]`, x, emptyBrackets));
  } else if (v !== null && typeof v === "object") {
    for (const k of Object.keys(v)) nested(out, `${prefix}[${enc(k)}]`, v[k], emptyBrackets);
  } else {
    out.push(`${prefix}=${enc(scalar(v))}`);
  }
}
function query(out, name, style, v) {
  if (v === null || v === undefined) return;
  if (typeof v !== "object") return out.push(`${enc(name)}=${enc(scalar(v))}`);
  if (style === "deepObject") return nested(out, enc(name), v, true);
  if (Array.isArray(v)) for (const x of v) out.push(`${enc(name)}=${enc(typeof x === "object" ? JSON.stringify(x) : scalar(x))}`);
  else for (const k of Object.keys(v)) out.push(`${enc(k)}=${enc(scalar(v[k]))}`);
}

function split(op, args) {
  const n = op.pathParams.length;
  if (args.length < n) throw new CallError("invalid_argument", `${op.call} takes ${n} path argument(s) (${op.pathParams.join(", ")}) before params and options; got ${args.length}`);
  while (args.length > n && (args[args.length - 1] === null || args[args.length - 1] === undefined)) args.pop();
  const rest = args.slice(n);
  if (rest.length > 2) throw new CallError("invalid_argument", `${op.call}: too many arguments`);
  let params, options;
  if (rest.length === 1) {
    const only = rest[0];
    const keys = only && typeof only === "object" && !Array.isArray(only) ? Object.keys(only) : [];
    if (keys.length && keys.every((k) => OPTION_KEYS.includes(k) && !(k in op.params))) options = only;
    else params = only;
  } else if (rest.length === 2) [params, options] = rest;
  return { path: args.slice(0, n), params, options: parseOptions(options) };
}
function parseOptions(o) {
  const out = { apiKey: null, headers: [] };
  if (o == null) return out;
  if (typeof o !== "object") throw new CallError("invalid_argument", "options must be an object");
  for (const key of Object.keys(o)) {
    if (key !== "auth") throw new CallError("invalid_argument", `unknown option \`${key}\`; options are: auth`);
    const auth = o.auth ?? {};
    for (const k of Object.keys(auth)) {
      if (k === "apiKey") {
        if (typeof auth.apiKey !== "string" || !auth.apiKey || /[\u0000-\u001f\u007f]/.test(auth.apiKey)) throw new CallError("invalid_argument", "options.auth.apiKey must be a non-empty string without control characters");
        out.apiKey = auth.apiKey;
      } else if (k === "headers") {
        for (const [name, value] of Object.entries(auth.headers ?? {})) {
          const canonical = PROVIDER.callHeaders.find((h) => h.toLowerCase() === name.toLowerCase());
          if (!canonical) throw new CallError("header_not_allowed", `header \`${name}\` may not be set per call; allowed: ${PROVIDER.callHeaders.join(", ")}`);
          if (typeof value !== "string" || !value) throw new CallError("invalid_argument", `options.auth.headers[\`${canonical}\`] must be a non-empty string`);
          out.headers.push([canonical, value]);
        }
      } else throw new CallError("invalid_argument", `unknown key \`${k}\` in options.auth`);
    }
  }
  return out;
}

function build(op, args, env, callId) {
  const { path, params, options } = split(op, args);
  let url = PROVIDER.server;
  let i = 0;
  url += op.path.replace(/\{[^}]+\}/g, () => {
    const v = path[i++];
    if (typeof v !== "string" && typeof v !== "number") throw new CallError("invalid_argument", "path parameter must be a string or a number");
    const s = String(v);
    if (s === "" || s === "." || s === "..") throw new CallError("invalid_argument", "bad path parameter");
    return enc(s);
  });
  const qs = [];
  const form = [];
  const given = new Set();
  if (params != null) {
    if (typeof params !== "object" || Array.isArray(params)) throw new CallError("invalid_argument", "params must be an object");
    const unknown = [];
    for (const key of Object.keys(params)) {
      const p = op.params[key];
      if (!p) {
        unknown.push(key);
        continue;
      }
      const v = params[key];
      if (v !== null && v !== undefined) given.add(key);
      if (p.at === "query") query(qs, key, p.style, v);
      else nested(form, enc(key), v, false);
    }
    if (unknown.length) throw new CallError("unknown_parameter", `${op.call} does not accept parameter(s) ${unknown.map((k) => `\`${k}\``).join(", ")}`);
  }
  const missing = Object.keys(op.params).filter((k) => op.params[k].required && !given.has(k));
  if (missing.length) throw new CallError("invalid_argument", `${op.call} requires parameter(s) ${missing.map((k) => `\`${k}\``).join(", ")}`);
  const key = options.apiKey ?? env[PROVIDER.secret];
  if (!key) throw new CallError("missing_credential", `no credential for stripe: set the Worker secret with \`wrangler secret put ${PROVIDER.secret} --env stripe\`, or pass options.auth.apiKey`);
  const headers = [["accept", "application/json"], ...PROVIDER.staticHeaders, ["authorization", `Bearer ${key}`]];
  let body;
  if (op.body === "form") {
    headers.push(["content-type", "application/x-www-form-urlencoded"]);
    body = form.join("&");
  }
  headers.push(...options.headers);
  // As stripe-node, and the capability: every POST carries an idempotency key.
  const idempotencyKey = op.method === "POST" ? callId : null;
  if (idempotencyKey) headers.push(["idempotency-key", idempotencyKey]);
  if (qs.length) url += "?" + qs.join("&");
  return { url, init: { method: op.method, headers, body, redirect: "manual", signal: AbortSignal.timeout(30_000) }, secrets: formsOf(key, env), credential: options.apiKey ? "call" : "secret", idempotencyKey };
}

function receipt(op, started, status, requestId, attempts, credential, pass, callId, tries = [], idempotencyKey = null) {
  return {
    capability: PROVIDER.capability, operation: op.id, call: op.call, method: op.method, path: op.path, status, requestId,
    startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, attempts, credential, verdict: pass ? "pass" : "fail",
    callId, tries, idempotencyKey,
  };
}
function scrub(text, secrets) {
  for (const s of secrets) if (text.includes(s)) text = text.split(s).join("[REDACTED]");
  return text;
}
const base64url = (s) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
function forms(key) {
  const percent = enc(key);
  const all = [key, JSON.stringify(key).slice(1, -1), percent, percent.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()), btoa(key), base64url(key), btoa(`${key}:`), base64url(`${key}:`)];
  return [...new Set(all)].sort((a, b) => b.length - a.length);
}
// The Worker secret's forms are the same every call: made once per value.
let secretForms = { key: undefined, forms: [] };
function formsOf(key, env) {
  if (env.TWIN_SCAN === "off") return [];
  if (key !== env[PROVIDER.secret]) return forms(key);
  if (secretForms.key !== key) secretForms = { key, forms: forms(key) };
  return secretForms.forms;
}

async function invoke(env, opIndex, args) {
  const op = OPS[opIndex];
  const started = Date.now();
  const callId = crypto.randomUUID();
  let req;
  try {
    req = build(op, args, env, callId);
  } catch (e) {
    return { ok: false, error: { code: e.code ?? "internal", message: e.message }, receipt: receipt(op, started, null, null, 0, "none", false, callId) };
  }
  let res, text;
  const sent = Date.now();
  try {
    res = await fetch(req.url, req.init);
    text = await res.text();
  } catch (e) {
    const tries = [{ status: null, failure: "unreachable", ms: Date.now() - sent, waitedMs: 0 }];
    return { ok: false, error: { code: "upstream_unreachable", message: `upstream unreachable: ${e.message}` }, receipt: receipt(op, started, null, null, 1, req.credential, false, callId, tries, req.idempotencyKey) };
  }
  text = scrub(text, req.secrets);
  const json = /^application\/([\w.+-]*\+)?json/i.test(res.headers.get("content-type") ?? "");
  const tries = [{ status: res.status, ms: Date.now() - sent, waitedMs: 0 }];
  const rcpt = (pass) => receipt(op, started, res.status, res.headers.get("request-id"), 1, req.credential, pass, callId, tries, req.idempotencyKey);
  if (res.status >= 200 && res.status < 300) {
    let result = text;
    if (res.status === 204 || !text) result = null;
    else if (json) {
      try {
        result = JSON.parse(text);
      } catch {}
    }
    return { ok: true, result, receipt: rcpt(true) };
  }
  let upstream = text || undefined;
  if (json) {
    try {
      const parsed = JSON.parse(text);
      upstream = parsed.error ?? parsed;
    } catch {}
  }
  const message = typeof upstream?.message === "string" ? upstream.message : `upstream answered HTTP ${res.status}`;
  return { ok: false, error: { code: "upstream_error", message, status: res.status, upstream }, receipt: rcpt(false) };
}

class PaymentIntents extends RpcTarget {
  #env;
  constructor(env) {
    super();
    this.#env = env;
  }
  create(...args) {
    return invoke(this.#env, 0, args);
  }
}
class Customers extends RpcTarget {
  #env;
  constructor(env) {
    super();
    this.#env = env;
  }
  list(...args) {
    return invoke(this.#env, 1, args);
  }
  retrieve(...args) {
    return invoke(this.#env, 2, args);
  }
}
export default class StripeTwin extends WorkerEntrypoint {
  get paymentIntents() {
    return new PaymentIntents(this.env);
  }
  get customers() {
    return new Customers(this.env);
  }
  fetch() {
    return new Response("Not found", { status: 404 });
  }
}
