// The agent door in workerd: the door's built bundle (dist/mcp, `wrangler deploy --dry-run
// --env mcp`) with its grants object, bound to the built Stripe and GitHub capabilities
// (dist/stripe, dist/github) over real service bindings, each calling a recording upstream on
// 127.0.0.1; and the MCP SDK's own Client over Streamable HTTP against it.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ROOT, COMPATIBILITY_DATE, startUpstream } from "../harness.mjs";

// Canaries: each must reach the upstream where it belongs (or stay in the door), nowhere else.
export const DOOR_CANARY = {
  stripeSecret: "sk_test_CANARYdoorStripe00000000000000",
  githubSecret: "ghp_CANARYdoorGithub1111111111111111111",
  tenantKey: "sk_test_CANARYdoorTenant2222222222222222",
  tokenKey: "CANARYdoorTokenKey3333333333333333",
  sealKey: "CANARYdoorSealKey44444444444444444",
  adminSecret: "CANARYdoorAdmin5555555555555555",
};
export const ALLOWED_ORIGIN = "http://localhost:6274";

function capability(provider, name, bindings) {
  const dir = path.join(ROOT, "dist", provider);
  const wasm = readdirSync(dir).filter((f) => f.endsWith(".wasm"));
  if (wasm.length !== 1) throw new Error(`${dir}: expected one .wasm; build it (scripts/test.sh)`);
  return {
    name,
    modulesRoot: dir,
    modules: [
      { type: "ESModule", path: path.join(dir, "entry.js") },
      { type: "CompiledWasm", path: path.join(dir, wasm[0]) },
    ],
    compatibilityDate: COMPATIBILITY_DATE,
    bindings,
  };
}

/**
 * The door bundled with more capabilities' documents than it ships with (`extra`: provider
 * names, whose generated/<p>/door.json join Stripe's and GitHub's): door/index.js as wrangler
 * bundles it, with door/catalog.js's list swapped for one naming them too. For suites that
 * need a capability the shipped door does not serve (a fixture of an expiring scheme).
 */
async function bundleWith(extra) {
  const esbuild = await import("esbuild");
  const dir = mkdtempSync(path.join(tmpdir(), "capa-door-bundle-"));
  const catalog = path.join(dir, "catalog.js");
  const docs = ["stripe", "github", ...extra].map((p) => path.join(ROOT, "generated", p, "door.json"));
  const original = readFileSync(path.join(ROOT, "door", "catalog.js"), "utf8");
  writeFileSync(
    catalog,
    docs.map((d, i) => `import d${i} from ${JSON.stringify(d)};`).join("\n") +
      `\nexport const CATALOG = Object.fromEntries([${docs.map((_, i) => `d${i}`).join(", ")}].map((doc) => [doc.capability, doc]));\n` +
      original.slice(original.indexOf("const BY_NAME")),
  );
  const stub = path.join(ROOT, "door", "stub", "ajv.js");
  await esbuild.build({
    entryPoints: [path.join(ROOT, "door", "index.js")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:workers"],
    alias: { ajv: stub, "ajv-formats": stub },
    outfile: path.join(dir, "index.js"),
    logLevel: "error",
    plugins: [{ name: "catalog", setup: (b) => b.onResolve({ filter: /^\.\/catalog\.js$/ }, () => ({ path: catalog })) }],
  });
  return dir;
}

/** The door, both capabilities and one upstream. `doorBindings` override the door's vars;
 * `persist`, a directory, keeps the grants object's storage there (on disk, to be read);
 * `extra` ({ provider: bindings }) binds more capabilities (built in dist/<provider>) to a door
 * bundled with their documents; `loader: false` leaves out the Worker Loader (no `execute`). */
export async function startDoor({ doorBindings = {}, persist, extra = {}, loader = true } = {}) {
  const bundle = Object.keys(extra).length ? await bundleWith(Object.keys(extra)) : path.join(ROOT, "dist", "mcp");
  const extraDocs = Object.keys(extra).map((p) => JSON.parse(readFileSync(path.join(ROOT, "generated", p, "door.json"), "utf8")));
  const upstream = await startUpstream();
  const logs = [];
  const loop = { CAPA_LOOPBACK_ORIGIN: upstream.origin, CAPA_LOOPBACK_WAIT_SCALE: "0.001" };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      cf: false,
      handleStructuredLogs: (log) => logs.push(log.message),
      workers: [
        {
          name: "door",
          modulesRoot: bundle,
          modules: [{ type: "ESModule", path: path.join(bundle, "index.js") }],
          compatibilityDate: COMPATIBILITY_DATE,
          durableObjects: { DOOR_GRANTS: "DoorGrants" },
          // Code mode's sandboxes (door/execute.js); `loader: false` for a door without.
          ...(loader ? { workerLoaders: { LOADER: {} } } : {}),
          serviceBindings: { STRIPE: "capa-stripe", GITHUB: "capa-github", ...Object.fromEntries(extraDocs.map((d) => [d.binding, `capa-${d.capability}`])) },
          bindings: {
            DOOR_TOKEN_KEY: DOOR_CANARY.tokenKey,
            DOOR_SEAL_KEY: DOOR_CANARY.sealKey,
            DOOR_ADMIN_SECRET: DOOR_CANARY.adminSecret,
            DOOR_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
            ...doorBindings,
          },
        },
        capability("stripe", "capa-stripe", { STRIPE_API_KEY: DOOR_CANARY.stripeSecret, ...loop }),
        capability("github", "capa-github", { GITHUB_TOKEN: DOOR_CANARY.githubSecret, ...loop }),
        ...Object.entries(extra).map(([p, bindings]) => capability(p, `capa-${p}`, { ...bindings, ...loop })),
      ],
      ...(persist ? { resourcePersistencePath: persist } : {}),
    }),
  );
  const url = await mf.ready;
  const base = new URL("/", url).href;
  const admin = (method, p, body) =>
    fetch(new URL(`/admin/grants${p}`, base), { method, headers: { authorization: `Bearer ${DOOR_CANARY.adminSecret}`, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) }).then(async (r) => ({ status: r.status, json: await r.json().catch(() => null) }));
  /** Issues a grant through the admin route: `{ token, id, expiresAt }`. */
  const issue = async (grant) => {
    const r = await admin("POST", "", grant);
    if (r.status !== 200) throw new Error(`issue: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  };
  const revoke = async (id) => (await admin("DELETE", `/${id}`)).json;
  /** A connected MCP client holding `token`. */
  const client = async (token) => {
    const transport = new StreamableHTTPClientTransport(new URL("/mcp", base), { requestInit: { headers: token ? { authorization: `Bearer ${token}` } : {} } });
    const c = new Client({ name: "door-test", version: "1.0.0" });
    await c.connect(transport);
    return c;
  };
  /** A raw POST to /mcp (headers as given). */
  const post = (headers, body) => fetch(new URL("/mcp", base), { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers }, body: JSON.stringify(body) });
  return { mf, base, upstream, logs, admin, issue, revoke, client, post, dispose: async () => { await mf.dispose(); await upstream.close(); } };
}

/** The text of a tool result. */
export const textOf = (result) => result.content.map((c) => c.text).join("\n");
/** The envelope a `call` answered (its text is JSON, unless cut). */
export const envelopeOf = (result) => JSON.parse(textOf(result));

/** Fails if any of `canaries` appears in `what`, as it is or in a view an agent can decode. */
export function assertNoDoorCanary(assert, what, label, canaries = Object.values(DOOR_CANARY)) {
  const text = typeof what === "string" ? what : JSON.stringify(what);
  const views = [text, decodeURIComponentSafe(text), text.replace(/\\u([0-9a-f]{4})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)))];
  for (const b64 of text.match(/[A-Za-z0-9+/_-]{16,}={0,2}/g) ?? []) {
    for (const shift of [0, 1, 2, 3]) views.push(Buffer.from(b64.slice(shift).replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("latin1"));
  }
  for (const canary of canaries) {
    for (const v of views) assert.ok(!v.includes(canary), `${label} leaks a secret (${canary.slice(0, 14)}…): ${text.slice(0, 300)}`);
  }
}

/**
 * A suite's canary run, at its end: nothing agents saw (`seen`: tool lists, results, errors) and
 * no log line of the door's workerd holds a secret, a tenant key, a grant token (`tokens`: each
 * is a credential, shown once to whoever issued it) or the door's keys; the door is disposed
 * whatever it finds.
 */
export async function canaryRun(assert, door, seen, tokens) {
  try {
    const canaries = [...Object.values(DOOR_CANARY), ...tokens];
    assertNoDoorCanary(assert, seen, "what agents saw", canaries);
    assertNoDoorCanary(assert, door.logs, "the logs", canaries);
  } finally {
    await door?.dispose();
  }
}

function decodeURIComponentSafe(t) {
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}
