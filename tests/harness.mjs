// Test harness: the built capability Worker (the `wrangler deploy --dry-run` bundle in
// dist/<provider>/) in workerd through Miniflare, a caller Worker calling it over a real service
// binding, and a recording HTTP upstream on 127.0.0.1.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { createServer } from "node:http";
import { readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const COMPATIBILITY_DATE = "2026-11-01";

// Canary credentials: each must reach the upstream where it belongs, and nowhere else.
export const CANARY = {
  secret: "sk_test_CANARYsecret0000000000000000",
  callKey: "sk_test_CANARYcallkey111111111111111",
};
// A per-call context header value (Stripe-Account): never in receipts, errors or logs, but an
// identifier the upstream may legitimately return in results, so not scrubbed from them.
export const ACCOUNT = "acct_CONTEXT2222";

/**
 * A recording upstream on 127.0.0.1. `reply` decides each response (default: 200 `{}`):
 * `{ status, headers, json | body, delay? }`, or `{ destroy: true }` to drop the connection.
 */
export async function startUpstream() {
  const upstream = {
    requests: [],
    reply: () => ({ status: 200, json: {} }),
  };
  // Long URLs (hostile path values of 64 KiB) are read, not refused, so the tests see what was sent.
  const server = createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const recorded = { method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, body: raw.toString("utf8"), raw };
      upstream.requests.push(recorded);
      const out = upstream.reply(recorded) ?? { status: 200, json: {} };
      // `destroy`: the connection dies unanswered (the capability sees upstream_unreachable).
      if (out.destroy) return req.socket.destroy();
      const headers = { ...(out.headers ?? {}) };
      let body = out.body ?? "";
      if (out.json !== undefined) {
        body = JSON.stringify(out.json);
        headers["content-type"] ??= "application/json";
      }
      // A reply Node cannot write (a header with a line break) drops the connection rather than
      // leave the capability waiting for an answer that never comes; the test sees it counted.
      const send = () => {
        try {
          res.writeHead(out.status ?? 200, headers);
          res.end(body);
        } catch (e) {
          upstream.unwritable = (upstream.unwritable ?? 0) + 1;
          req.socket.destroy();
        }
      };
      if (out.delay) setTimeout(send, out.delay);
      else send();
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  upstream.origin = `http://127.0.0.1:${server.address().port}`;
  upstream.close = () => new Promise((resolve) => server.close(resolve));
  /** The only request since the last `take()`. */
  upstream.take = () => {
    const all = upstream.requests.splice(0);
    if (all.length !== 1) throw new Error(`expected one upstream request, got ${all.length}: ${JSON.stringify(all.map((r) => r.url))}`);
    return all[0];
  };
  return upstream;
}

// The caller: POST {target?, path: ["customers", "retrieve"], args: [...]} →
// env[target ?? "CAP"].customers.retrieve(...args) (a step of the path may be a call,
// {call: "withAuth", args}, made without awaiting it: a pipelined session); POST /batch {calls: [...], concurrency} runs
// many such calls, `concurrency` at a time, and answers their outcomes in order. Binary values
// cross as JSON both ways (see `bytes` below): an argument {$bytes: base64, as?, type?, name?}
// becomes a Uint8Array (or the `as` kind: ArrayBuffer, DataView, Uint16Array, Blob, File)
// in the caller, and binary data in a result comes back as {$bytes, as}.
export const CALLER = `
function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v === null || typeof v !== "object") return v;
  if (typeof v.$bytes !== "string") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
  const u8 = Uint8Array.from(atob(v.$bytes), (c) => c.charCodeAt(0));
  switch (v.as) {
    case "ArrayBuffer": return u8.buffer;
    case "DataView": return new DataView(u8.buffer);
    case "Uint16Array": return new Uint16Array(u8.buffer);
    case "Blob": return new Blob([u8], { type: v.type ?? "" });
    case "File": return new File([u8], v.name, { type: v.type ?? "" });
    default: return u8;
  }
}
function bytesOut(_, v) {
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
    const u8 = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    let text = "";
    for (let i = 0; i < u8.length; i += 8192) text += String.fromCharCode(...u8.subarray(i, i + 8192));
    return { $bytes: btoa(text), as: v.constructor.name };
  }
  return v;
}
const json = (v) => new Response(JSON.stringify(v, bytesOut), { headers: { "content-type": "application/json" } });
async function one({ target = "CAP", path, args }, env) {
  try {
    let stub = env[target];
    // A step may be a call ({ call: "withAuth", args }), pipelined: its answer is not awaited.
    for (const key of path.slice(0, -1)) stub = typeof key === "string" ? stub[key] : stub[key.call](...revive(key.args));
    const value = await stub[path[path.length - 1]](...revive(args));
    if (value instanceof Response) return { value: { status: value.status, text: await value.text() } };
    return { value };
  } catch (e) {
    return { thrown: { name: e?.name, message: String(e?.message ?? e) } };
  }
}
export default {
  async fetch(request, env) {
    const body = await request.json();
    if (new URL(request.url).pathname !== "/batch") return json(await one(body, env));
    const out = new Array(body.calls.length);
    let next = 0;
    const lane = async () => {
      while (next < body.calls.length) {
        const i = next++;
        out[i] = await one(body.calls[i], env);
      }
    };
    await Promise.all(Array.from({ length: body.concurrency ?? 1 }, lane));
    return json(out);
  },
};`;

/**
 * The capability Worker for `provider` and a caller bound to it as CAP. `variants` adds more
 * instances of the same bundle with other bindings, bound in the caller under their names
 * (`{ CAP_BARE: { bindings } }` → env.CAP_BARE). `durableObjects` (the main Worker's, or a
 * variant's) are Miniflare's; the main Worker is named "capability", for `scriptName`.
 * `workers` adds Worker options as they are (a spy); `options`, Miniflare's own. `props`
 * (`{ CAP_READ: { only: ["read"] } }`) adds bindings in the caller to the main Worker carrying
 * those props, as a caller's deployer would set them.
 */
export async function startWorkers({ provider, bindings = {}, outboundService, variants = {}, secretsStoreSecrets, durableObjects, extra = {}, workers = [], options = {}, props = {} } = {}) {
  const dir = path.join(ROOT, "dist", provider);
  const wasm = readdirSync(dir).filter((f) => f.endsWith(".wasm"));
  if (wasm.length !== 1) throw new Error(`${dir}: expected one .wasm beside entry.js; run scripts/test.sh`);
  const logs = [];
  // `secretsStoreSecrets` ({ BINDING: { store_id, secret_name } }) binds Secrets Store secrets
  // in the capability (a variant may bind its own); seed them with `store(binding).create(value)`.
  // `extra`: more of the main capability's Worker options (`ratelimits`, `serviceBindings`).
  const capability = (name, bindings, store = secretsStoreSecrets, objects) => ({
    ...(name === "capability" ? extra : {}),
    ...(store ? { secretsStoreSecrets: store } : {}),
    ...(objects ? { durableObjects: objects } : {}),
    name,
    modulesRoot: dir,
    modules: [
      { type: "ESModule", path: path.join(dir, "entry.js") },
      { type: "CompiledWasm", path: path.join(dir, wasm[0]) },
    ],
    compatibilityDate: COMPATIBILITY_DATE,
    bindings: withTestWaits(bindings),
    ...(outboundService ? { outboundService } : {}),
  });
  const targets = { CAP: "capability", ...Object.fromEntries(Object.keys(variants).map((v) => [v, `capability-${v.toLowerCase()}`])) };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      cf: false,
      // Every line workerd writes (console output, uncaught errors, its own warnings) arrives here.
      handleStructuredLogs: (log) => logs.push(log.message),
      workers: [
        {
          name: "caller",
          modules: true,
          script: CALLER,
          compatibilityDate: COMPATIBILITY_DATE,
          serviceBindings: { ...targets, ...Object.fromEntries(Object.entries(props).map(([b, p]) => [b, { name: "capability", props: p }])) },
        },
        capability("capability", bindings, secretsStoreSecrets, durableObjects),
        ...Object.entries(variants).map(([v, options]) => capability(targets[v], options.bindings ?? {}, options.secretsStoreSecrets, options.durableObjects)),
        ...workers,
      ],
      ...options,
    }),
  );
  await mf.ready;
  const call = async (dotted, ...args) => {
    const res = await mf.dispatchFetch("http://caller/", { method: "POST", body: JSON.stringify({ path: dotted.split("."), args }) });
    const out = await res.json();
    if (out.thrown) throw Object.assign(new Error(`RPC threw: ${out.thrown.name}: ${out.thrown.message}`), { thrown: out.thrown });
    return out.value;
  };
  /** Runs `calls` ({target?, call: "a.b", args}) `concurrency` at a time: [{value} | {thrown}]. */
  const batch = async (calls, concurrency = 16) => {
    const body = JSON.stringify({ calls: calls.map((c) => ({ target: c.target, path: c.path ?? c.call.split("."), args: c.args })), concurrency });
    const res = await mf.dispatchFetch("http://caller/batch", { method: "POST", body });
    return res.json();
  };
  /** The admin API of the Secrets Store secret bound as `binding` in the capability (or the
   * variant named `target`). */
  const store = async (binding, target = "CAP") => (await mf.getSecretsStoreSecretAPI(binding, targets[target]))();
  return { mf, call, batch, logs, store, dispose: () => mf.dispose() };
}

/**
 * A test's capability bindings with the waits between retries (src/retry.rs) scaled down to a
 * thousandth, unless the test sets the scale itself: a suite whose upstream answers 503 must not
 * sleep a second per call. The runtime honours the scale only with a loopback origin.
 */
function withTestWaits(bindings) {
  if (!bindings?.CAPA_LOOPBACK_ORIGIN || "CAPA_LOOPBACK_WAIT_SCALE" in bindings) return bindings;
  return { ...bindings, CAPA_LOOPBACK_WAIT_SCALE: "0.001" };
}

/** An argument the caller Worker turns into binary data (see CALLER): `as` one of Uint8Array
 * (the default), ArrayBuffer, DataView, Uint16Array, Blob, File. */
export function bytes(data, { as, type, name } = {}) {
  return { $bytes: Buffer.from(data).toString("base64"), as, type, name };
}

/** The bytes of a result's binary data, as the caller Worker sent them back. */
export function bytesOf(value) {
  if (typeof value?.$bytes !== "string") throw new Error(`not binary data: ${JSON.stringify(value)?.slice(0, 200)}`);
  return Buffer.from(value.$bytes, "base64");
}

/** The provider's method table as JSON (`capa-gen table`, built with the Worker). */
export function tableOf(provider) {
  return JSON.parse(execFileSync(path.join(ROOT, "target", "release", "capa-gen"), ["table", provider], { encoding: "utf8", maxBuffer: 64 << 20 }));
}

/** Fails if any canary value appears in `what` (anything JSON-able). */
export function assertNoCanary(assert, what, label, canaries = Object.values(CANARY)) {
  const text = typeof what === "string" ? what : JSON.stringify(what);
  for (const canary of canaries) {
    assert.ok(!text.includes(canary), `${label} leaks a credential (${canary.slice(0, 12)}…): ${text.slice(0, 400)}`);
  }
}
