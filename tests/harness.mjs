// Test harness: the built capability Worker (the `wrangler deploy --dry-run` bundle in
// dist/<provider>/) in workerd through Miniflare, a caller Worker calling it over a real service
// binding, and a recording HTTP upstream on 127.0.0.1.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { createServer } from "node:http";
import { readdirSync } from "node:fs";
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

/** A recording upstream on 127.0.0.1. `reply` decides each response (default: 200 `{}`). */
export async function startUpstream() {
  const upstream = {
    requests: [],
    reply: () => ({ status: 200, json: {} }),
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const recorded = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      upstream.requests.push(recorded);
      const out = upstream.reply(recorded) ?? { status: 200, json: {} };
      const headers = { ...(out.headers ?? {}) };
      let body = out.body ?? "";
      if (out.json !== undefined) {
        body = JSON.stringify(out.json);
        headers["content-type"] ??= "application/json";
      }
      res.writeHead(out.status ?? 200, headers);
      res.end(body);
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

// The caller: POST {path: ["customers", "retrieve"], args: [...]} → env.CAP.customers.retrieve(...args).
const CALLER = `
export default {
  async fetch(request, env) {
    const { path, args } = await request.json();
    try {
      let target = env.CAP;
      for (const key of path.slice(0, -1)) target = target[key];
      const value = await target[path[path.length - 1]](...args);
      if (value instanceof Response) return Response.json({ value: { status: value.status, text: await value.text() } });
      return Response.json({ value });
    } catch (e) {
      return Response.json({ thrown: { name: e?.name, message: String(e?.message ?? e) } });
    }
  },
};`;

/** The capability Worker for `provider` and a caller bound to it. */
export async function startWorkers({ provider, bindings = {}, outboundService } = {}) {
  const dir = path.join(ROOT, "dist", provider);
  const wasm = readdirSync(dir).filter((f) => f.endsWith(".wasm"));
  if (wasm.length !== 1) throw new Error(`${dir}: expected one .wasm beside entry.js; run scripts/test.sh`);
  const logs = [];
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      cf: false,
      handleStructuredLogs: (log) => logs.push(log.message),
      workers: [
        { name: "caller", modules: true, script: CALLER, compatibilityDate: COMPATIBILITY_DATE, serviceBindings: { CAP: "capability" } },
        {
          name: "capability",
          modulesRoot: dir,
          modules: [
            { type: "ESModule", path: path.join(dir, "entry.js") },
            { type: "CompiledWasm", path: path.join(dir, wasm[0]) },
          ],
          compatibilityDate: COMPATIBILITY_DATE,
          bindings,
          ...(outboundService ? { outboundService } : {}),
        },
      ],
    }),
  );
  await mf.ready;
  const call = async (dotted, ...args) => {
    const res = await mf.dispatchFetch("http://caller/", { method: "POST", body: JSON.stringify({ path: dotted.split("."), args }) });
    const out = await res.json();
    if (out.thrown) throw Object.assign(new Error(`RPC threw: ${out.thrown.name}: ${out.thrown.message}`), { thrown: out.thrown });
    return out.value;
  };
  return { mf, call, logs, dispose: () => mf.dispose() };
}

/** Fails if any canary value appears in `what` (anything JSON-able). */
export function assertNoCanary(assert, what, label, canaries = Object.values(CANARY)) {
  const text = typeof what === "string" ? what : JSON.stringify(what);
  for (const canary of canaries) {
    assert.ok(!text.includes(canary), `${label} leaks a credential (${canary.slice(0, 12)}…): ${text.slice(0, 400)}`);
  }
}
