// Tenant isolation: 1,000 interleaved concurrent calls from 50 tenants, each with its own
// per-call key (some with none, falling back to the Worker secret), some with per-call context
// headers, against an upstream that answers in random order and echoes (or refuses) what it got.
// Every upstream request must carry exactly its own caller's credential and headers; no envelope
// may name anything of another tenant; and nothing a call brought outlives it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { COMPATIBILITY_DATE, startUpstream, startWorkers } from "../harness.mjs";
import { CANARIES, canary, findLeaks, rng, strings } from "./corpus.mjs";

const SECRET = CANARIES.secret.values[0];
const TENANTS = 50;
const CALLS = 1000;

// An envelope holds no leak and nothing of any tenant but its own.
function assertOnlyItsOwn(envelope, tenant, tenants, n) {
  assert.deepEqual(findLeaks(envelope), [], `call ${n}`);
  const text = strings(envelope).join("\n");
  for (const other of tenants) {
    if (other === tenant) continue;
    if (other.key) assert.ok(!text.includes(other.key), `call ${n} names tenant ${other.id}'s key`);
    if (other.account) assert.ok(!text.includes(other.account), `call ${n} names tenant ${other.id}'s account`);
    assert.ok(!text.includes(`cus_t${other.id}_`), `call ${n} holds tenant ${other.id}'s answer`);
  }
}

let upstream;
before(async () => {
  upstream = await startUpstream();
});
after(() => upstream.close());

test(`stripe: ${CALLS} interleaved calls from ${TENANTS} tenants each carry exactly their own credential`, async () => {
  const r = rng(7);
  const tenants = Array.from({ length: TENANTS }, (_, t) => ({
    id: t,
    // One in five has no key of its own: the Worker secret serves it.
    key: t % 5 === 4 ? null : canary(r),
    account: t % 3 === 0 ? canary(r, "context") : null,
  }));
  upstream.requests.length = 0;
  upstream.reply = (request) => {
    const echo = { url: request.url, authorization: request.headers.authorization, account: request.headers["stripe-account"] ?? null };
    // Out of order, and now and then an error that quotes the key.
    return r.chance(0.2)
      ? { status: 401, delay: r.int(25), json: { error: { message: `Invalid API Key provided: ${request.headers.authorization}`, echo } } }
      : { status: 200, delay: r.int(25), json: { id: request.url, echo } };
  };
  const cap = await startWorkers({ provider: "stripe", bindings: { STRIPE_API_KEY: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  try {
    const calls = Array.from({ length: CALLS }, (_, n) => {
      const t = tenants[n % TENANTS];
      const auth = {};
      if (t.key) auth.apiKey = t.key;
      if (t.account) auth.headers = { "Stripe-Account": t.account };
      const args = [`cus_t${t.id}_c${n}`];
      if (Object.keys(auth).length) args.push({ auth });
      return { call: "customers.retrieve", args, tenant: t };
    });
    const outcomes = await cap.batch(calls, 50);

    // Upstream: each request's credential and headers are its caller's.
    assert.equal(upstream.requests.length, CALLS);
    let checked = 0;
    for (const request of upstream.requests) {
      const [, t] = request.url.match(/cus_t(\d+)_c\d+$/);
      const tenant = tenants[Number(t)];
      assert.equal(request.headers.authorization, `Bearer ${tenant.key ?? SECRET}`, `${request.url}: another tenant's credential`);
      assert.equal(request.headers["stripe-account"], tenant.account ?? undefined, `${request.url}: another tenant's account`);
      checked++;
    }
    assert.equal(checked, CALLS);

    // Envelopes: answered for their own call; nothing of another tenant anywhere in them.
    outcomes.forEach((outcome, n) => {
      const envelope = outcome.value;
      const { tenant } = calls[n];
      assertOnlyItsOwn(envelope, tenant, tenants, n);
      assert.equal(envelope.receipt.credential, tenant.key ? "call" : "secret");
      if (envelope.ok) {
        assert.equal(envelope.result.id, `/v1/customers/cus_t${tenant.id}_c${n}`);
        assert.equal(envelope.result.echo.authorization, "Bearer [REDACTED]");
        assert.equal(envelope.result.echo.account, tenant.account, "a context value comes back to its own caller");
      } else {
        assert.equal(envelope.error.code, "upstream_error");
        assert.equal(envelope.error.message, "Invalid API Key provided: Bearer [REDACTED]");
      }
    });

    // Nothing a call brought was kept: with no key of its own, a call sends the Worker secret.
    upstream.reply = (request) => ({ status: 200, json: { authorization: request.headers.authorization } });
    upstream.requests.length = 0;
    const after = await cap.call("customers.retrieve", "cus_after");
    assert.equal(upstream.take().headers.authorization, `Bearer ${SECRET}`);
    assert.equal(after.receipt.credential, "secret");
  } finally {
    await cap.dispose();
  }
});

// A caller that holds one session per tenant and makes the calls through them, interleaved.
const SESSIONS = `
export default {
  async fetch(request, env) {
    const { tenants, calls, concurrency } = await request.json();
    const sessions = await Promise.all(tenants.map((t) => env.CAP.withAuth(t.auth)));
    const out = new Array(calls.length);
    let next = 0;
    const lane = async () => {
      while (next < calls.length) {
        const i = next++;
        const c = calls[i];
        try {
          out[i] = { value: await sessions[c.t].customers.retrieve(...c.args) };
        } catch (e) {
          out[i] = { thrown: String(e?.message ?? e) };
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return Response.json(out);
  },
};`;

test(`stripe: ${CALLS} interleaved calls through ${TENANTS} sessions of ${TENANTS} tenants each carry their session's credential`, async () => {
  const r = rng(9);
  const tenants = Array.from({ length: TENANTS }, (_, t) => ({
    id: t,
    key: t % 5 === 4 ? null : canary(r),
    account: t % 3 === 0 ? canary(r, "context") : null,
  }));
  for (const t of tenants) {
    t.auth = {};
    if (t.key) t.auth.apiKey = t.key;
    if (t.account) t.auth.headers = { "Stripe-Account": t.account };
  }
  upstream.requests.length = 0;
  upstream.reply = (request) => {
    const echo = { url: request.url, authorization: request.headers.authorization, account: request.headers["stripe-account"] ?? null };
    return r.chance(0.2)
      ? { status: 401, delay: r.int(25), json: { error: { message: `Invalid API Key provided: ${request.headers.authorization}`, echo } } }
      : { status: 200, delay: r.int(25), json: { id: request.url, echo } };
  };
  const cap = await startWorkers({
    provider: "stripe",
    bindings: { STRIPE_API_KEY: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin },
    workers: [{ name: "sessions", modules: true, script: SESSIONS, compatibilityDate: COMPATIBILITY_DATE, serviceBindings: { CAP: "capability" } }],
  });
  try {
    // Random interleaving; one call in ten tries to switch to another tenant's key or account.
    const calls = Array.from({ length: CALLS }, (_, n) => {
      const t = tenants[r.int(TENANTS)];
      const other = tenants[(t.id + 1 + r.int(TENANTS - 1)) % TENANTS];
      const hostile = n % 10 === 9;
      const auth = other.key ? { apiKey: other.key } : { headers: { "Stripe-Account": other.account ?? "acct_OTHER" } };
      return { t: t.id, args: hostile ? [`cus_t${t.id}_c${n}`, null, { auth }] : [`cus_t${t.id}_c${n}`], hostile, tenant: t };
    });
    const res = await (await cap.mf.getWorker("sessions")).fetch("http://sessions/", {
      method: "POST",
      body: JSON.stringify({ tenants: tenants.map((t) => ({ auth: t.auth })), calls: calls.map(({ t, args }) => ({ t, args })), concurrency: 50 }),
    });
    const outcomes = await res.json();

    const hostile = calls.filter((c) => c.hostile).length;
    assert.equal(upstream.requests.length, CALLS - hostile, "a refused switch makes no request");
    for (const request of upstream.requests) {
      const [, t] = request.url.match(/cus_t(\d+)_c\d+$/);
      const tenant = tenants[Number(t)];
      assert.equal(request.headers.authorization, `Bearer ${tenant.key ?? SECRET}`, `${request.url}: another session's credential`);
      assert.equal(request.headers["stripe-account"], tenant.account ?? undefined, `${request.url}: another session's account`);
    }
    outcomes.forEach((outcome, n) => {
      assert.equal(outcome.thrown, undefined, `call ${n} threw: ${outcome.thrown}`);
      const envelope = outcome.value;
      const { tenant } = calls[n];
      assertOnlyItsOwn(envelope, tenant, tenants, n);
      if (calls[n].hostile) {
        assert.equal(envelope.error.code, "invalid_argument", `call ${n}`);
        assert.match(envelope.error.message, /auth is fixed by withAuth/);
        return;
      }
      assert.equal(envelope.receipt.credential, tenant.key ? "call" : "secret");
      if (envelope.ok) assert.equal(envelope.result.echo.authorization, "Bearer [REDACTED]");
      else assert.equal(envelope.error.message, "Invalid API Key provided: Bearer [REDACTED]");
    });
  } finally {
    await cap.dispose();
  }
});

test("stripe: a Worker without a secret keeps no per-call key for the next call", async () => {
  upstream.reply = () => ({ status: 200, json: { ok: true } });
  const bare = await startWorkers({ provider: "stripe", bindings: { CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  try {
    const r = rng(8);
    for (let i = 0; i < 20; i++) {
      upstream.requests.length = 0;
      const key = canary(r);
      const withKey = await bare.call("customers.retrieve", `cus_${i}`, { auth: { apiKey: key } });
      assert.equal(withKey.ok, true);
      assert.equal(upstream.take().headers.authorization, `Bearer ${key}`);
      const without = await bare.call("customers.retrieve", `cus_${i}`);
      assert.equal(without.error.code, "missing_credential", "the previous call's key was not kept");
      assert.equal(upstream.requests.length, 0);
    }
  } finally {
    await bare.dispose();
  }
});
