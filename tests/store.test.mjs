// Credentials from a Secrets Store (src/store.rs): a handle bound with `secrets_store_secrets`
// instead of a Worker secret is read through the binding's `get()` by the entry, cached per
// isolate for CAPA_SECRETS_STORE_TTL seconds, and sent exactly as a Worker secret would be; a
// rotated value reaches calls once the cache expires; a secret the store lacks is
// missing_credential naming the binding. Real workerd Secrets Store bindings (Miniflare's).
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers } from "./harness.mjs";
import { CANARIES, findLeaks } from "./security/corpus.mjs";

const [KEY, ROTATED] = CANARIES.secret.values;
const STORE = { STRIPE_API_KEY: { store_id: "store-1", secret_name: "stripe-key" } };
const [USERNAME] = CANARIES.basicUsername.values;
const [PASSWORD] = CANARIES.basicPassword.values;
let upstream;

before(async () => {
  upstream = await startUpstream();
});
after(() => upstream.close());
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = () => ({ status: 200, json: { id: "cus_1", object: "customer" } });
});

async function call(cap, dotted, ...args) {
  const envelope = await cap.call(dotted, ...args);
  assert.deepEqual(findLeaks(envelope), [], dotted);
  return envelope;
}

test("a Secrets Store secret is sent as the Worker secret would be, and read once per TTL", async () => {
  const cap = await startWorkers({ provider: "stripe", bindings: { CAPA_LOOPBACK_ORIGIN: upstream.origin }, secretsStoreSecrets: STORE });
  try {
    await (await cap.store("STRIPE_API_KEY")).create(KEY);
    const r = await call(cap, "customers.retrieve", "cus_1");
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.receipt.credential, "secret");
    assert.equal(upstream.take().headers.authorization, `Bearer ${KEY}`);
    // Rotated in the store: the cached value (60 s by default) still serves.
    const admin = await cap.store("STRIPE_API_KEY");
    const [{ metadata }] = await admin.list();
    await admin.update(ROTATED, metadata.uuid);
    await call(cap, "customers.retrieve", "cus_1");
    assert.equal(upstream.take().headers.authorization, `Bearer ${KEY}`);
    assert.deepEqual(findLeaks(null, cap.logs), []);
  } finally {
    await cap.dispose();
  }
});

test("with CAPA_SECRETS_STORE_TTL = 0 a rotation reaches the next call", async () => {
  const cap = await startWorkers({ provider: "stripe", bindings: { CAPA_LOOPBACK_ORIGIN: upstream.origin, CAPA_SECRETS_STORE_TTL: "0" }, secretsStoreSecrets: STORE });
  try {
    const admin = await cap.store("STRIPE_API_KEY");
    const id = await admin.create(KEY);
    await call(cap, "customers.list", { limit: 1 });
    assert.equal(upstream.take().headers.authorization, `Bearer ${KEY}`);
    await admin.update(ROTATED, id);
    const r = await call(cap, "customers.list", { limit: 1 });
    assert.equal(r.ok, true);
    assert.equal(upstream.take().headers.authorization, `Bearer ${ROTATED}`);
    // Both values are the call's credentials: an echo of either is scrubbed.
    upstream.reply = (req) => ({ status: 400, json: { error: { message: `bad ${req.headers.authorization} / ${KEY}` } } });
    const e = await call(cap, "customers.list", { limit: 1 });
    assert.equal(e.error.code, "upstream_error");
  } finally {
    await cap.dispose();
  }
});

test("a secret the store lacks is missing_credential naming the binding, with no upstream call", async () => {
  const cap = await startWorkers({ provider: "stripe", bindings: { CAPA_LOOPBACK_ORIGIN: upstream.origin }, secretsStoreSecrets: STORE });
  try {
    const r = await call(cap, "customers.retrieve", "cus_1");
    assert.equal(r.error.code, "missing_credential");
    assert.match(r.error.message, /Secrets Store secret bound as STRIPE_API_KEY has no value/);
    assert.match(r.error.message, /secrets_store_secrets/);
    assert.equal(upstream.requests.length, 0);
    // A per-call key still works.
    const own = await call(cap, "customers.retrieve", "cus_1", { auth: { apiKey: CANARIES.callKey.values[0] } });
    assert.equal(own.ok, true);
    assert.equal(upstream.take().headers.authorization, `Bearer ${CANARIES.callKey.values[0]}`);
  } finally {
    await cap.dispose();
  }
});

test("a basic pair whose user name and password both live in the store", async () => {
  const cap = await startWorkers({
    provider: "auth-basic",
    bindings: { CAPA_LOOPBACK_ORIGIN: upstream.origin },
    secretsStoreSecrets: { AUTHB_AUTH_TOKEN: { store_id: "store-1", secret_name: "token" }, AUTHB_ACCOUNT_SID: { store_id: "store-1", secret_name: "sid" } },
  });
  try {
    await (await cap.store("AUTHB_AUTH_TOKEN")).create(PASSWORD);
    await (await cap.store("AUTHB_ACCOUNT_SID")).create(USERNAME);
    const r = await call(cap, "accounts.messages.list", "AC1");
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(upstream.take().headers.authorization, `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`).toString("base64")}`);
    assert.doesNotMatch(JSON.stringify(r.receipt), /CONTEXT|CANARY/);
  } finally {
    await cap.dispose();
  }
});
