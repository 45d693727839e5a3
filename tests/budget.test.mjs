// Call budgets (src/budget.rs, docs/rights.md#call-budgets): the built Stripe Worker in workerd
// with a Rate Limiting binding (Miniflare's, which counts per key in windows aligned to the
// clock), called over service bindings whose props name a tenant or a caller, against an
// upstream on 127.0.0.1. Each test asserts what the upstream received and what the caller got.
// A spy limiter (a Worker bound as CAPA_BUDGET) shows the keys the capability spends: names as
// the props give them, credentials only as an HMAC under a key derived from CAPA_BUDGET_KEY.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac, hkdfSync } from "node:crypto";
import { startUpstream, startWorkers } from "./harness.mjs";
import { findLeaks } from "./security/corpus.mjs";

const SECRET = "sk_test_CANARYbudget000000000000000";
const TENANT_KEY = "sk_test_CANARYbudgetTenant0000000000";
const OTHER_KEY = "sk_test_CANARYbudgetOther00000000000";
const BUDGET_KEY = "budget-key-CANARY-0123456789abcdef0123456789";
const LIMIT = 2;
let upstream, cap, spied, down;

const SPY = `
import { WorkerEntrypoint } from "cloudflare:workers";
const spent = new Map();
export default class extends WorkerEntrypoint {
  async fetch() { return new Response(JSON.stringify(Object.fromEntries(spent))); }
  async limit({ key }) {
    if (this.env.MODE === "throw") throw new Error("the limiter is down");
    const n = (spent.get(key) ?? 0) + 1;
    spent.set(key, n);
    return { success: n <= ${LIMIT} };
  }
}`;

before(async () => {
  upstream = await startUpstream();
  upstream.reply = () => ({ status: 200, json: { object: "list", data: [{ id: "cus_1" }], has_more: false } });
  const bindings = { CAPA_LOOPBACK_ORIGIN: upstream.origin, STRIPE_API_KEY: SECRET, CAPA_BUDGET_KEY: BUDGET_KEY };
  const props = {
    CAP_ACME: { tenant: "acme" },
    CAP_BETA: { tenant: "beta", only: ["read"] },
    CAP_BILLING: { caller: "billing" },
    CAP_BOTH: { caller: "billing", tenant: "gamma" },
    CAP_BAD: { tenant: "acme corp" },
    CAP_ODD: { tenant: 42 },
    CAP_UNKNOWN: { who: "me" },
  };
  cap = await startWorkers({ provider: "stripe", bindings, props, extra: { ratelimits: { CAPA_BUDGET: { namespace_id: "1001", simple: { limit: LIMIT, period: 60 } } } } });
  // The same Worker with a spy for its limiter, and with one that throws.
  const withSpy = (mode) =>
    startWorkers({
      provider: "stripe",
      bindings,
      props: { CAP_ACME: { tenant: "acme" } },
      workers: [{ name: "spy", modules: true, script: SPY, compatibilityDate: "2026-11-01", bindings: { MODE: mode } }],
      extra: { serviceBindings: { CAPA_BUDGET: "spy" } },
    });
  spied = await withSpy("count");
  down = await withSpy("throw");
});

after(async () => {
  await cap?.dispose();
  await spied?.dispose();
  await down?.dispose();
  await upstream?.close();
});

/** Waits out the end of the current minute when less than 8 s of it remain: Miniflare's windows
 * are aligned to the clock, and a test must not straddle two. */
async function freshWindow() {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8_000) await new Promise((r) => setTimeout(r, left + 100));
}

const list = (c, target, ...extra) => c.batch([{ target, call: "customers.list", args: [{ limit: 1 }, ...extra] }]).then(([o]) => o.value ?? o);

function assertRefused(out, label) {
  assert.equal(out.ok, false, label);
  assert.equal(out.error.code, "rate_limited", label);
  assert.equal(out.error.stage, "capability", label);
  assert.equal("retryAfterMs" in out.error, false, `${label}: the limiter does not say when its window ends`);
  assert.equal(out.receipt.attempts, 0, label);
  assert.deepEqual(out.receipt.tries, [], label);
  assert.match(out.receipt.callId, /^[0-9a-f-]{36}$/, label);
  assert.deepEqual(findLeaks(out), [], label);
}

test("a tenant over its budget is refused with no request, while another tenant passes", async () => {
  await freshWindow();
  upstream.requests.length = 0;
  for (let i = 0; i < LIMIT; i++) assert.equal((await list(cap, "CAP_ACME")).ok, true);
  assert.equal(upstream.requests.length, LIMIT);
  const over = await list(cap, "CAP_ACME");
  assertRefused(over, "acme");
  assert.match(over.error.message, /tenant `acme`'s call budget on stripe is spent/);
  assert.equal(upstream.requests.length, LIMIT, "no request for a refused call");
  // Another tenant's bucket is its own; so is the same tenant's through a session (its props stay).
  assert.equal((await list(cap, "CAP_BETA")).ok, true);
  const session = await cap.batch([{ target: "CAP_ACME", path: [{ call: "withAuth", args: [{ apiKey: TENANT_KEY }] }, "customers", "list"], args: [{ limit: 1 }] }]);
  assertRefused(session[0].value, "acme's session");
  assert.equal(upstream.requests.length, LIMIT + 1);
  // A call the capability refuses anyway spends nothing: beta may only read, twice.
  const write = await cap.batch([{ target: "CAP_BETA", call: "customers.create", args: [{ email: "a@example.com" }] }]);
  assert.equal(write[0].value.error.code, "operation_not_allowed");
  assert.equal((await list(cap, "CAP_BETA")).ok, true, "beta's second unit is still there");
  assertRefused(await list(cap, "CAP_BETA"), "beta");
});

test("a caller's name keys its bucket when no tenant does; a tenant wins over a caller", async () => {
  await freshWindow();
  for (let i = 0; i < LIMIT; i++) assert.equal((await list(cap, "CAP_BILLING")).ok, true);
  const over = await list(cap, "CAP_BILLING");
  assertRefused(over, "billing");
  assert.match(over.error.message, /caller `billing`'s call budget/);
  // billing's bucket is spent, but CAP_BOTH spends tenant gamma's.
  assert.equal((await list(cap, "CAP_BOTH")).ok, true);
});

test("without a name, each credential has its own bucket, and the deployment's calls share one", async () => {
  await freshWindow();
  for (let i = 0; i < LIMIT; i++) assert.equal((await list(cap, "CAP", { auth: { apiKey: TENANT_KEY } })).ok, true);
  const over = await list(cap, "CAP", { auth: { apiKey: TENANT_KEY } });
  assertRefused(over, "a spent credential");
  assert.match(over.error.message, /^this caller's call budget/);
  assert.equal((await list(cap, "CAP", { auth: { apiKey: OTHER_KEY } })).ok, true, "another credential's bucket");
  for (let i = 0; i < LIMIT; i++) assert.equal((await list(cap, "CAP")).ok, true);
  assertRefused(await list(cap, "CAP"), "the deployment's bucket");
});

test("props with an unknown key or a malformed name refuse every call, spending nothing", async () => {
  upstream.requests.length = 0;
  for (const [target, why] of [["CAP_UNKNOWN", /`who`/], ["CAP_BAD", /`tenant` that may hold only letters/], ["CAP_ODD", /give `tenant` as a string/]]) {
    const out = await list(cap, target);
    assert.equal(out.error.code, "operation_not_allowed", target);
    assert.match(out.error.message, why, target);
  }
  assert.equal(upstream.requests.length, 0);
});

test("the limiter is keyed by names as given and by credentials only through an HMAC; a failing limiter lets calls through", async () => {
  assert.equal((await list(spied, "CAP_ACME")).ok, true);
  assert.equal((await list(spied, "CAP", { auth: { apiKey: TENANT_KEY } })).ok, true);
  assert.equal((await list(spied, "CAP")).ok, true);
  // The keys the spy was asked to spend, and how often.
  const spentNow = async () => (await (await spied.mf.getWorker("spy")).fetch("http://spy/")).json();
  const keysSeen = Object.keys(await spentNow());
  const hmacKey = Buffer.from(hkdfSync("sha256", BUDGET_KEY, Buffer.alloc(0), "capa-rs call budget buckets", 32));
  const expected = createHmac("sha256", hmacKey).update(`${TENANT_KEY}\n`).digest("hex").slice(0, 32);
  assert.deepEqual(keysSeen.sort(), [`auth:${expected}`, "deployment", "tenant:acme"].sort());
  for (const key of keysSeen) assert.equal(key.includes("CANARY"), false, key);
  // One unit per call, whatever its retries: a 503 then a 200 spends one.
  let n = 0;
  upstream.reply = () => (++n === 1 ? { status: 503, json: { error: { message: "busy" } } } : { status: 200, json: { object: "list", data: [], has_more: false } });
  const retried = await list(spied, "CAP_ACME");
  upstream.reply = () => ({ status: 200, json: { object: "list", data: [{ id: "cus_1" }], has_more: false } });
  assert.equal(retried.receipt.tries.length, 2);
  assert.equal((await spentNow())["tenant:acme"], 2);
  // Past the spy's limit, its refusal is the caller's rate_limited.
  assertRefused(await list(spied, "CAP_ACME"), "spied acme");
  // A limiter that throws meters nothing and refuses nothing.
  for (let i = 0; i < LIMIT + 2; i++) assert.equal((await list(down, "CAP_ACME")).ok, true);
});
