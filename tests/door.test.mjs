// The agent door (door/, docs/door.md) in workerd, through the MCP SDK's own Client over
// Streamable HTTP: the built door bound to the built Stripe and GitHub capabilities, upstream
// recorded. Grants are issued through the door's admin route, as `npm run grant` does against a
// deployed door.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./harness.mjs";
import { startDoor, textOf, envelopeOf, assertNoDoorCanary, canaryRun, DOOR_CANARY, ALLOWED_ORIGIN } from "./door/harness.mjs";

const DOCS = Object.fromEntries(["stripe", "github"].map((p) => [p, JSON.parse(readFileSync(path.join(ROOT, "generated", p, "door.json"), "utf8"))]));
const { reach, grantRights } = await import(path.join(ROOT, "door", "rights.js"));

// The pinned query table (issue 29): each expected answer in the top 3, first for ≥ 8 of 10.
export const QUERIES = {
  stripe: [
    ["create a payment intent", ["paymentIntents.create"]],
    ["refund a charge", ["refunds.create", "charges.refund", "charges.refunds.create"]],
    ["cancel a subscription", ["subscriptions.del"]],
    ["search customers by email", ["customers.search", "customers.list"]],
    ["create a product", ["products.create"]],
    ["set a price for a product", ["prices.create"]],
    ["start a checkout session", ["checkout.sessions.create"]],
    ["check the account balance", ["balance.retrieve"]],
    ["send a payout to the bank account", ["payouts.create"]],
    ["attach a payment method to a customer", ["paymentMethods.attach"]],
  ],
  github: [
    ["create an issue", ["issues.create"]],
    ["merge a pull request", ["pulls.merge"]],
    ["get the contents of a file", ["repos.getContent"]],
    ["comment on an issue", ["issues.createComment"]],
    ["list pull requests of a repository", ["pulls.list"]],
    ["trigger a workflow run", ["actions.createWorkflowDispatch"]],
    ["create a release", ["repos.createRelease"]],
    ["add labels to an issue", ["issues.addLabels"]],
    ["request reviewers for a pull request", ["pulls.requestReviewers"]],
    ["get the authenticated user", ["users.getAuthenticated"]],
  ],
};

// Everything a grant can name: every class of each provider.
const EVERYTHING = { stripe: { rights: { readOnly: false, only: ["read", "write", "destructive", "money"] } }, github: { rights: { readOnly: false, only: ["read", "write", "destructive"] } } };

let door;
const seen = []; // every tool list, result and error an agent saw, for the canary run
const tokens = []; // every grant token issued
before(async () => {
  door = await startDoor();
});
// The canary run: nothing any test saw, nor any log line, holds a secret, a tenant key, a grant
// token or the door's keys.
after(() => canaryRun(assert, door, seen, tokens));

/** A client for a new grant; `seen` keeps what it is shown. */
async function agent(grant) {
  const issued = await door.issue(grant);
  tokens.push(issued.token);
  const client = await door.client(issued.token);
  const tools = (await client.listTools()).tools;
  seen.push(tools, issued.id);
  const call = async (name, args) => {
    const r = await client.callTool({ name, arguments: args });
    seen.push(r);
    return r;
  };
  return { client, tools, call, issued, token: issued.token };
}

const hitsOf = (result) => textOf(result).split("\n").filter((l) => /^[a-z]+\.\S+  /.test(l)).map((l) => l.split("  ")[0]);

test("initialize and tools/list with the SDK's Client: 2025-11-25, search, call and execute for a large grant", async () => {
  const { client, tools } = await agent({ capabilities: EVERYTHING });
  assert.equal(client.getServerVersion().name, "capa-door");
  assert.deepEqual(tools.map((t) => t.name), ["search", "call", "execute"]);
  const bytes = JSON.stringify(tools).length;
  console.log(`tool list for a Stripe+GitHub grant: ${bytes} bytes (~${Math.round(bytes / 4)} tokens)`);
  assert.ok(bytes < 4000, `the tool list stays small: ${bytes}`);
  await client.close();
});

test("protocol versions: 2025-06-18 is answered as asked, an older one with 2025-11-25, an unknown header refused", async () => {
  const { token } = await door.issue({ capabilities: { stripe: {} } });
  tokens.push(token);
  const init = (v) => door.post({ authorization: `Bearer ${token}` }, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: v, capabilities: {}, clientInfo: { name: "raw", version: "0" } } });
  for (const [asked, answered] of [["2025-06-18", "2025-06-18"], ["2025-11-25", "2025-11-25"], ["2024-11-05", "2025-11-25"]]) {
    const r = await init(asked);
    assert.equal(r.status, 200);
    assert.equal((await r.json()).result.protocolVersion, answered, asked);
  }
  const list = await door.post({ authorization: `Bearer ${token}`, "mcp-protocol-version": "2025-06-18" }, { jsonrpc: "2.0", id: 2, method: "tools/list" });
  assert.equal(list.status, 200);
  assert.ok((await list.json()).result.tools.length >= 2);
  const old = await door.post({ authorization: `Bearer ${token}`, "mcp-protocol-version": "2025-03-26" }, { jsonrpc: "2.0", id: 3, method: "tools/list" });
  assert.equal(old.status, 400);
});

test("the pinned queries: every answer in the top 3, first for at least 8 of 10 per provider", async () => {
  const { call } = await agent({ capabilities: EVERYTHING });
  const table = [];
  for (const [provider, rows] of Object.entries(QUERIES)) {
    let first = 0;
    for (const [query, want] of rows) {
      const started = performance.now();
      const hits = hitsOf(await call("search", { query, limit: 5 }));
      const ms = performance.now() - started;
      const rank = hits.findIndex((h) => want.map((w) => `${provider}.${w}`).includes(h)) + 1;
      table.push(`${provider}  ${rank || "-"}  ${ms.toFixed(1)} ms  ${query} → ${hits.slice(0, 3).join(", ")}`);
      assert.ok(rank >= 1 && rank <= 3, `${query}: ${want} not in the top 3: ${hits.join(", ")}`);
      if (rank === 1) first++;
    }
    assert.ok(first >= 8, `${provider}: first for ${first} of 10`);
  }
  console.log(table.join("\n"));
});

test("search never offers an operation the grant refuses, over every operation of each table", async () => {
  const grants = [
    { stripe: {}, github: {} }, // read-only by default
    { stripe: { rights: { only: ["customers.*"], readOnly: false } } },
    { stripe: { rights: { readOnly: false } }, github: { rights: { readOnly: false, except: ["issues.*"] } } }, // writes, no destructive or money
    { github: { rights: { only: ["pulls.*", "destructive"], readOnly: false } } },
  ];
  for (const capabilities of grants) {
    for (const [provider, doc] of Object.entries(DOCS)) {
      // A client per table: the SDK's transport adds an abort listener to one signal per
      // request, and Node warns past 1,500 of them (GitHub's 1,223 queries and Stripe's 533).
      const { call, client } = await agent({ capabilities });
      const allowed = capabilities[provider] ? reach(doc, grantRights(doc, capabilities[provider].rights ?? {})) : new Set();
      // Every operation's own words as a query: the likeliest way to surface it.
      const queries = doc.operations.map((op) => `${op.name.replace(/\./g, " ")} ${op.summary}`.slice(0, 200));
      for (let i = 0; i < queries.length; i += 32) {
        const results = await Promise.all(queries.slice(i, i + 32).map((query) => call("search", { query, limit: 25 })));
        for (const r of results) {
          for (const hit of hitsOf(r)) {
            const [cap, ...rest] = hit.split(".");
            const name = rest.join(".");
            assert.ok(capabilities[cap], `${hit}: a capability the grant does not name`);
            if (cap === provider) assert.ok(allowed.has(name), `${hit} is offered, but the grant ${JSON.stringify(capabilities)} refuses it`);
          }
        }
      }
      await client.close();
    }
  }
});

test("call: the grant's credential on the wire, the envelope back; a tenant's credential for a tenant grant", async () => {
  const { call } = await agent({ capabilities: { stripe: {} } });
  door.upstream.reply = () => ({ status: 200, json: { id: "cus_123", object: "customer" } });
  const env = envelopeOf(await call("call", { name: "stripe.customers.retrieve", args: ["cus_123", { expand: ["sources"] }] }));
  assert.equal(env.ok, true);
  assert.equal(env.result.id, "cus_123");
  assert.equal(env.receipt.call, "customers.retrieve");
  const sent = door.upstream.take();
  assert.equal(sent.headers.authorization, `Bearer ${DOOR_CANARY.stripeSecret}`);
  assert.match(sent.url, /^\/v1\/customers\/cus_123\?expand/);

  const tenant = await agent({ capabilities: { stripe: { auth: { apiKey: DOOR_CANARY.tenantKey } } } });
  const t = envelopeOf(await tenant.call("call", { name: "stripe.customers.list", args: [{ limit: 1 }] }));
  assert.equal(t.ok, true);
  assert.equal(t.receipt.credential, "call");
  assert.equal(door.upstream.take().headers.authorization, `Bearer ${DOOR_CANARY.tenantKey}`);
  door.upstream.reply = () => ({ status: 200, json: {} });
});

test("a write is refused for a read-only grant, by the capability, before any request", async () => {
  const { call } = await agent({ capabilities: { stripe: {} } });
  const r = await call("call", { name: "stripe.customers.create", args: [{ email: "a@b.c" }] });
  assert.equal(r.isError, true);
  const env = envelopeOf(r);
  assert.equal(env.error.code, "operation_not_allowed");
  assert.equal(door.upstream.requests.splice(0).length, 0);
  // Money and destructive are reached only when named: a writing grant still cannot refund.
  const writer = await agent({ capabilities: { stripe: { rights: { readOnly: false } } } });
  assert.equal(envelopeOf(await writer.call("call", { name: "stripe.refunds.create", args: [{ charge: "ch_1" }] })).error.code, "operation_not_allowed");
  assert.equal(envelopeOf(await writer.call("call", { name: "stripe.customers.del", args: ["cus_1"] })).error.code, "operation_not_allowed");
  assert.equal(envelopeOf(await writer.call("call", { name: "stripe.customers.create", args: [{ email: "a@b.c" }] })).ok, true);
  door.upstream.requests.splice(0);
});

test("an agent's own auth is refused with invalid_argument and never forwarded", async () => {
  const { call } = await agent({ capabilities: { stripe: {} } });
  for (const args of [["cus_1", { auth: { apiKey: "sk_test_agentsOwnKey000000" } }], ["cus_1", {}, { auth: {} }], ["cus_1", { auth: null }]]) {
    const env = envelopeOf(await call("call", { name: "stripe.customers.retrieve", args }));
    assert.equal(env.error.code, "invalid_argument", JSON.stringify(args));
  }
  assert.equal(door.upstream.requests.splice(0).length, 0);
  const unknown = envelopeOf(await call("call", { name: "github.issues.create", args: [] }));
  assert.equal(unknown.error.code, "invalid_argument");
});

test("a grant reaching two capabilities with colliding names: each call goes to its own", async () => {
  const { call, tools } = await agent({ capabilities: { stripe: { rights: { only: ["apps.secrets.list"] } }, github: { rights: { only: ["apps.getAuthenticated", "apps.listInstallations"] } } } });
  // Three operations: the per-operation tools are offered, named by capability.
  assert.deepEqual(tools.map((t) => t.name).sort(), ["call", "execute", "github_apps_getAuthenticated", "github_apps_listInstallations", "search", "stripe_apps_secrets_list"]);
  const hits = hitsOf(await call("search", { query: "apps", limit: 10 }));
  assert.deepEqual(hits.sort(), ["github.apps.getAuthenticated", "github.apps.listInstallations", "stripe.apps.secrets.list"]);
  assert.equal(envelopeOf(await call("call", { name: "stripe.apps.secrets.list", args: [{ scope: { type: "account" } }] })).ok, true);
  let sent = door.upstream.take();
  assert.match(sent.url, /^\/v1\/apps\/secrets/);
  assert.equal(sent.headers.authorization, `Bearer ${DOOR_CANARY.stripeSecret}`);
  assert.equal(envelopeOf(await call("github_apps_getAuthenticated", {})).ok, true);
  sent = door.upstream.take();
  assert.equal(sent.url, "/app");
  assert.match(sent.headers.authorization, new RegExp(DOOR_CANARY.githubSecret));
  // Outside the grant in either: refused by the capability, nothing sent.
  assert.equal(envelopeOf(await call("call", { name: "github.apps.getInstallation", args: [1] })).error.code, "operation_not_allowed");
  assert.equal(door.upstream.requests.splice(0).length, 0);
});

test("per-operation tools: JSON Schema inputs, path parameters and params, for a small grant", async () => {
  const { tools, call } = await agent({ capabilities: { stripe: { rights: { only: ["customers.retrieve", "customers.list"] } } } });
  const retrieve = tools.find((t) => t.name === "stripe_customers_retrieve");
  assert.deepEqual(retrieve.inputSchema.required, ["customer"]);
  assert.equal(retrieve.inputSchema.properties.params.properties.expand.type, "array");
  door.upstream.reply = () => ({ status: 200, json: { id: "cus_9" } });
  const env = envelopeOf(await call("stripe_customers_retrieve", { customer: "cus_9", params: { expand: ["sources"] } }));
  assert.equal(env.result.id, "cus_9");
  assert.match(door.upstream.take().url, /^\/v1\/customers\/cus_9\?expand/);
  door.upstream.reply = () => ({ status: 200, json: {} });
});

test("a spent budget is rate_limited at stage grant; writes have their own cap", async () => {
  const { call } = await agent({ capabilities: { stripe: { rights: { readOnly: false } } }, budget: { perMinute: 2, writesPerMinute: 0 } });
  const w = envelopeOf(await call("call", { name: "stripe.customers.create", args: [{}] }));
  assert.equal(w.error.code, "rate_limited");
  assert.equal(w.error.stage, "grant");
  assert.ok(w.error.retryAfterMs > 0 && w.error.retryAfterMs <= 60_000);
  assert.equal(envelopeOf(await call("call", { name: "stripe.customers.list", args: [] })).ok, true);
  assert.equal(envelopeOf(await call("call", { name: "stripe.customers.list", args: [] })).ok, true);
  const spent = envelopeOf(await call("call", { name: "stripe.customers.list", args: [] }));
  assert.equal(spent.error.code, "rate_limited");
  assert.equal(spent.error.stage, "grant");
  assert.equal(door.upstream.requests.splice(0).length, 2);
});

test("no token, a wrong, a revoked and an expired one: 401 with WWW-Authenticate and nothing else", async () => {
  const { token, id } = await door.issue({ capabilities: { stripe: {} } });
  const short = await door.issue({ capabilities: { stripe: {} }, ttlDays: 0.5 / 86400 });
  tokens.push(token, short.token);
  const list = (t) => door.post(t ? { authorization: `Bearer ${t}` } : {}, { jsonrpc: "2.0", id: 1, method: "tools/list" });
  assert.equal((await list(token)).status, 200);
  const wrong = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
  await new Promise((r) => setTimeout(r, 600));
  await door.revoke(id);
  for (const [label, t] of [["none", null], ["wrong", wrong], ["garbage", "hello"], ["revoked", token], ["expired", short.token]]) {
    const r = await list(t);
    assert.equal(r.status, 401, label);
    assert.match(r.headers.get("www-authenticate"), /^Bearer /, label);
    assert.equal(await r.text(), "", label);
  }
  await assert.rejects(door.client(null));
  // Any method: a GET without a token is 401 too, with a token 405 (no stream to open).
  assert.equal((await fetch(new URL("/mcp", door.base))).status, 401);
  const other = await door.issue({ capabilities: { stripe: {} } });
  tokens.push(other.token);
  assert.equal((await fetch(new URL("/mcp", door.base), { headers: { authorization: `Bearer ${other.token}` } })).status, 405);
});

test("a foreign Origin is refused; the configured one passes", async () => {
  const { token } = await door.issue({ capabilities: { stripe: {} } });
  tokens.push(token);
  const body = { jsonrpc: "2.0", id: 1, method: "tools/list" };
  assert.equal((await door.post({ authorization: `Bearer ${token}`, origin: "https://evil.example" }, body)).status, 403);
  assert.equal((await door.post({ authorization: `Bearer ${token}`, origin: ALLOWED_ORIGIN }, body)).status, 200);
});

test("results past the documented size are cut, with a note", async () => {
  const { call } = await agent({ capabilities: { stripe: {} } });
  door.upstream.reply = () => ({ status: 200, json: { object: "list", data: Array.from({ length: 2000 }, (_, i) => ({ id: `cus_${i}`, object: "customer" })), has_more: true } });
  const r = await call("call", { name: "stripe.customers.list", args: [{ limit: 100 }] });
  const text = textOf(r);
  assert.ok(text.length < 24_500, `${text.length}`);
  assert.match(text, /\[cut: this result is \d+ characters, the door returns at most 24000/);
  door.upstream.reply = () => ({ status: 200, json: {} });
  door.upstream.requests.splice(0);
});

test("canaries: a hostile upstream echoing every credential it got, through every path", async () => {
  door.upstream.reply = (req) => ({ status: req.url.includes("fail") ? 400 : 200, headers: { "x-echo": req.headers.authorization ?? "" }, json: { echo: req.headers, again: Buffer.from(req.headers.authorization ?? "").toString("base64"), error: { message: `bad key ${req.headers.authorization}` } } });
  const own = await agent({ capabilities: { stripe: { rights: { readOnly: false } }, github: {} } });
  const tenant = await agent({ capabilities: { stripe: { auth: { apiKey: DOOR_CANARY.tenantKey, headers: { "Stripe-Account": "acct_door1" } } } } });
  for (const a of [own, tenant]) {
    await a.call("call", { name: "stripe.customers.retrieve", args: ["cus_1"] });
    await a.call("call", { name: "stripe.customers.retrieve", args: ["fail"] });
    await a.call("call", { name: "stripe.customers.list", args: [{ limit: 1 }] });
    await a.call("search", { query: "customer" });
  }
  await own.call("call", { name: "github.users.getAuthenticated", args: [] });
  await own.call("call", { name: "github.repos.get", args: ["fail", "x"] });
  const got = door.upstream.requests.splice(0);
  assert.ok(got.some((r) => r.headers.authorization === `Bearer ${DOOR_CANARY.tenantKey}`), "the tenant key reached the upstream");
  assert.ok(got.some((r) => r.headers.authorization === `Bearer ${DOOR_CANARY.stripeSecret}`));
  door.upstream.reply = () => ({ status: 200, json: {} });
});

test("npm run grant: issues (the token printed once, on stdout), lists and revokes through the admin route", async () => {
  const { execFile } = await import("node:child_process");
  const run = (...args) =>
    new Promise((resolve) => execFile(process.execPath, [path.join(ROOT, "scripts", "grant.mjs"), ...args], { env: { ...process.env, DOOR_URL: door.base, DOOR_ADMIN_SECRET: DOOR_CANARY.adminSecret, TENANT: DOOR_CANARY.tenantKey } }, (error, stdout, stderr) => resolve({ code: error?.code ?? 0, stdout, stderr })));
  const issued = await run("stripe:" + JSON.stringify({ only: ["customers.*"] }), "--ttl-days", "1", "--label", "cli", "--tenant-key-env", "TENANT");
  assert.equal(issued.code, 0, issued.stderr);
  const token = issued.stdout.trim();
  tokens.push(token);
  assert.match(token, /^capa_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  const id = token.split("_")[1];
  const client = await door.client(token);
  door.upstream.reply = () => ({ status: 200, json: { object: "list", data: [] } });
  const env = envelopeOf(await client.callTool({ name: "call", arguments: { name: "stripe.customers.list", args: [] } }));
  assert.equal(env.ok, true);
  assert.equal(door.upstream.take().headers.authorization, `Bearer ${DOOR_CANARY.tenantKey}`);
  const listed = await run("list");
  assert.equal(listed.code, 0);
  const mine = JSON.parse(listed.stdout).find((g) => g.id === id);
  assert.deepEqual(mine.capabilities.stripe, { rights: { only: ["customers.*"], except: ["destructive", "money"], readOnly: true }, tenant: true });
  seen.push(listed.stdout, issued.stderr);
  assert.equal((await run("revoke", id)).code, 0);
  await assert.rejects(client.listTools());
  const refused = await run("stripe:{not json");
  assert.equal(refused.code, 2);
  door.upstream.reply = () => ({ status: 200, json: {} });
});

test("the grants object's storage holds digests and sealed credentials: no token, no tenant key, no door key", async () => {
  const { mkdtempSync, readdirSync, readFileSync: read, rmSync, statSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { createHmac } = await import("node:crypto");
  const persist = mkdtempSync(path.join(tmpdir(), "capa-door-"));
  const files = (dir) => readdirSync(dir).flatMap((f) => (statSync(path.join(dir, f)).isDirectory() ? files(path.join(dir, f)) : [path.join(dir, f)]));
  const stored = await startDoor({ persist });
  try {
    const a = await stored.issue({ capabilities: { stripe: { auth: { apiKey: DOOR_CANARY.tenantKey } } } });
    const b = await stored.issue({ capabilities: { github: {} } });
    tokens.push(a.token, b.token);
    // The grant works from what is stored: a call with the tenant's key.
    const client = await stored.client(a.token);
    assert.equal(envelopeOf(await client.callTool({ name: "call", arguments: { name: "stripe.customers.list", args: [] } })).ok, true);
    assert.equal(stored.upstream.take().headers.authorization, `Bearer ${DOOR_CANARY.tenantKey}`);
    const bytes = Buffer.concat(files(persist).map((f) => read(f)));
    assert.ok(bytes.length > 0, "the object stored something");
    // A token's secret part is base64url, which may itself hold "_": it is what follows the id.
    const secretPart = (token) => token.slice("capa_".length + 16 + 1);
    for (const secret of [a.token, b.token, secretPart(a.token), secretPart(b.token), DOOR_CANARY.tenantKey, DOOR_CANARY.tokenKey, DOOR_CANARY.sealKey, DOOR_CANARY.adminSecret]) {
      assert.equal(bytes.indexOf(secret), -1, `the storage holds ${secret.slice(0, 14)}…`);
      assert.equal(bytes.indexOf(Buffer.from(secret).toString("base64").slice(0, 20)), -1, `the storage holds ${secret.slice(0, 14)}… in base64`);
    }
    for (const t of [a.token, b.token]) {
      const digest = createHmac("sha256", DOOR_CANARY.tokenKey).update(t).digest("hex");
      assert.notEqual(bytes.indexOf(digest), -1, "each token is stored as its HMAC digest under DOOR_TOKEN_KEY");
    }
  } finally {
    await stored.dispose();
    rmSync(persist, { recursive: true, force: true });
  }
});
