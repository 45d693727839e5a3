// Tokens shared across isolates through the capability's CapaTokens Durable Object
// (src/token/shared.rs), in workerd: the auth-oauth2 fixture Worker defines and binds it, other
// Workers (each its own isolate, with its own token cache) bind it by scriptName, as any Worker
// of an account can, against a token endpoint and an API of our own on 127.0.0.1. One token for
// all of them; a fleet meeting an empty object makes one token request; the object's storage
// (read from disk) and its replies (to a spy Worker of our own that binds the class) hold
// ciphertext only; what does not authenticate (forged, tampered, another key's) is ignored; a
// refused shared token is replaced; a binding without its key is a named misconfiguration.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { COMPATIBILITY_DATE, startUpstream, startWorkers } from "./harness.mjs";
import { CANARIES, findLeaks } from "./security/corpus.mjs";

const [SECRET] = CANARIES.clientSecret.values;
const [KEY] = CANARIES.sealingKey.values;
const OTHER_KEY = "tk_CANARYsealing1111111111111111111111";
const LIFETIMES = { "client-CONTEXTshared": 3600, "client-CONTEXTfleet": 3600, "client-CONTEXTdue": 2 };

let upstream, cap, persist;
let issued = 0, tokens = [], valid = new Map(), tokenRequests, apiRequests, slowTokens;

function serve(req) {
  if (req.url === "/oauth/token") {
    tokenRequests.push(req);
    const [id, secret] = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString("latin1").split(":").map(decodeURIComponent);
    if (!(id in LIFETIMES) || secret !== SECRET) return { status: 401, json: { error: "invalid_client" } };
    const token = `at_CANARY${++issued}_${"x".repeat(24)}`;
    tokens.push(token);
    valid.set(token, Date.now() + LIFETIMES[id] * 1000);
    return { status: 200, delay: slowTokens ? 300 : 0, json: { access_token: token, token_type: "Bearer", expires_in: LIFETIMES[id] } };
  }
  if (req.url.endsWith("/health")) return { status: 200, json: { ok: true } };
  apiRequests.push(req);
  const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
  if (!(valid.get(token) > Date.now())) return { status: 401, json: { error: "invalid_token" } };
  return { status: 200, json: { data: [{ id: "t1" }] } };
}

// A Worker of our own binding the class by scriptName, as any Worker of the account can: it
// asks the object whatever an attacker would, by the id it found.
const SPY = `
export default {
  async fetch(request, env) {
    const { id, method, args = [] } = await request.json();
    const stub = env.TOKENS.get(env.TOKENS.idFromString(id));
    const revive = (v) => (v && v.$b64 !== undefined ? Uint8Array.from(atob(v.$b64), (c) => c.charCodeAt(0)) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)])) : v);
    const out = await stub[method](...args.map(revive));
    const plain = (v) => (v instanceof Uint8Array ? { $b64: btoa(String.fromCharCode(...v)) } : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v);
    return Response.json(plain(out) ?? null);
  },
};`;

const OWN = { CAPA_TOKENS: { className: "CapaTokens", useSQLite: true } };
const BOUND = { CAPA_TOKENS: { className: "CapaTokens", scriptName: "capability", useSQLite: true } };

before(async () => {
  upstream = await startUpstream();
  upstream.reply = serve;
  persist = mkdtempSync(path.join(tmpdir(), "capa-tokens-"));
  const worker = (id, key = KEY, objects = BOUND) => ({
    bindings: { AUTHO_CLIENT_ID: id, AUTHO_CLIENT_SECRET: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin, ...(key ? { CAPA_TOKENS_KEY: key } : {}) },
    durableObjects: objects,
  });
  const variants = { CAP_NOKEY: worker("client-CONTEXTshared", null), CAP_SHORTKEY: worker("client-CONTEXTshared", "tk_CANARYshort"), CAP_OTHERKEY: worker("client-CONTEXTshared", OTHER_KEY) };
  // Each a Worker of its own (an isolate, a token cache), sharing through the one object.
  for (const v of ["B", "C", "D", "E", "F", "G"]) variants[`CAP_${v}`] = worker("client-CONTEXTshared");
  for (const v of [1, 2, 3, 4]) variants[`FLEET_${v}`] = worker("client-CONTEXTfleet");
  for (const v of [1, 2]) variants[`DUE_${v}`] = worker("client-CONTEXTdue");
  cap = await startWorkers({
    provider: "auth-oauth2",
    ...worker("client-CONTEXTshared", KEY, OWN),
    variants,
    workers: [{ name: "spy", modules: true, script: SPY, compatibilityDate: COMPATIBILITY_DATE, durableObjects: { TOKENS: { className: "CapaTokens", scriptName: "capability", useSQLite: true } } }],
    options: { resourcePersistencePath: persist },
  });
});
after(async () => {
  assert.deepEqual(findLeaks(null, cap.logs), []);
  await cap.dispose();
  await upstream.close();
  rmSync(persist, { recursive: true, force: true });
});
beforeEach(() => {
  tokenRequests = [];
  apiRequests = [];
  slowTokens = false;
});

async function run(target, call = "things.list", ...args) {
  const [out] = await cap.batch([{ target, call, args }], 1);
  assert.equal(out.thrown, undefined, JSON.stringify(out.thrown));
  assert.deepEqual(findLeaks(out.value), [], call);
  assert.ok(!JSON.stringify(out.value).includes("at_CANARY"), "no token in the envelope");
  return out.value;
}

// The object's files: every SQLite database (and journal) under the persistence directory.
function storageFiles(dir = persist) {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? storageFiles(p) : [p];
  });
}
const objectIds = async () => (await cap.mf.listDurableObjectIds("CapaTokens", "capability")).map(String);
const spy = async (id, method, ...args) => (await (await cap.mf.getWorker("spy")).fetch("http://spy/", { method: "POST", body: JSON.stringify({ id, method, args }) })).json();
const fromB64 = (v) => Buffer.from(v.$b64, "base64");

test("two Workers share one token through the Durable Object: one token request", async () => {
  const a = await run("CAP");
  assert.equal(a.ok, true, JSON.stringify(a.error));
  const b = await run("CAP_B");
  assert.equal(b.ok, true, JSON.stringify(b.error));
  assert.equal(tokenRequests.length, 1, "the second Worker took the first one's token");
  assert.equal(apiRequests.length, 2);
  assert.equal(apiRequests[0].headers.authorization, apiRequests[1].headers.authorization);
  assert.equal(apiRequests[1].headers.authorization, `Bearer ${tokens.at(-1)}`);
  // A Worker sealing under another key names another object, and cannot read this one's.
  assert.equal((await run("CAP_OTHERKEY")).ok, true);
  assert.equal(tokenRequests.length, 2);
  assert.notEqual(apiRequests[2].headers.authorization, apiRequests[0].headers.authorization);
});

test("the object's storage and its replies hold ciphertext only", async () => {
  const ids = await objectIds();
  assert.equal(ids.length, 2, `one object per key: ${ids}`);
  const secrets = [...tokens, SECRET, KEY, OTHER_KEY];
  for (const file of storageFiles()) {
    const bytes = readFileSync(file);
    for (const s of secrets) assert.equal(bytes.indexOf(s), -1, `${path.basename(file)} holds ${s.slice(0, 12)}…`);
    assert.equal(bytes.indexOf(Buffer.from(tokens[0]).toString("base64").slice(0, 24)), -1);
  }
  for (const id of ids) {
    const reply = await spy(id, "take");
    assert.deepEqual(Object.keys(reply), ["sealed"], "a valid token, not due: no lease");
    assert.deepEqual(Object.keys(reply.sealed).sort(), ["data", "due", "expires", "iv"]);
    assert.equal(fromB64(reply.sealed.iv).length, 12);
    const data = fromB64(reply.sealed.data);
    for (const s of secrets) assert.equal(data.indexOf(s), -1);
    assert.ok(!JSON.stringify(reply).includes("CANARY"));
    // What the files hold is that ciphertext.
    assert.ok(storageFiles().some((f) => readFileSync(f).indexOf(data) !== -1), "the stored bytes are the ciphertext");
  }
});

test("what does not authenticate is ignored: a forged blob, a tampered one", async () => {
  // The object of CAP's key (the one CAP_B read): its token was issued first, so expires first.
  let ours;
  for (const id of await objectIds()) {
    const { sealed } = await spy(id, "take");
    if (sealed && !(ours?.sealed.expires < sealed.expires)) ours = { id, sealed };
  }
  assert.ok(ours);
  // Its real ciphertext, one byte flipped.
  const tampered = fromB64(ours.sealed.data);
  tampered[tampered.length - 1] ^= 1;
  const forged = { iv: { $b64: Buffer.alloc(12, 7).toString("base64") }, data: { $b64: Buffer.from("[0,9999999999999,0,\"Bearer at_FORGED\"]").toString("base64") }, due: 9e12, expires: 9e12 };
  let before = tokenRequests.length;
  for (const [sealed, worker] of [
    [forged, "CAP_C"],
    [{ ...ours.sealed, data: { $b64: tampered.toString("base64") } }, "CAP_D"],
  ]) {
    // A put from a Worker that holds no lease is stored (last writer wins)...
    assert.equal(await spy(ours.id, "put", sealed, null), true);
    const r = await run(worker);
    assert.equal(r.ok, true, JSON.stringify(r.error));
    // ...and the capability that cannot open it obtains its own, and stores that.
    assert.equal(tokenRequests.length, ++before, worker);
    assert.equal(apiRequests.at(-1).headers.authorization, `Bearer ${tokens.at(-1)}`);
    assert.ok(!apiRequests.some((q) => q.headers.authorization?.includes("FORGED")));
    const now = await spy(ours.id, "take");
    assert.notEqual(now.sealed.data.$b64, sealed.data.$b64, "replaced by a sealed token of its own");
  }
  // Malformed puts are refused by the object itself.
  for (const bad of [null, {}, { iv: { $b64: "AA==" }, data: { $b64: "AA==" }, due: 1, expires: 1 }, { ...forged, due: "soon" }]) {
    assert.equal(await spy(ours.id, "put", bad, null), false);
  }
});

test("a fleet meeting an empty object makes one token request", async () => {
  slowTokens = true;
  const calls = Array.from({ length: 100 }, (_, i) => ({ target: `FLEET_${(i % 4) + 1}`, call: "things.retrieve", args: [`t${i}`] }));
  const outs = await cap.batch(calls, 100);
  for (const o of outs) {
    assert.equal(o.value?.ok, true, JSON.stringify(o.value?.error ?? o.thrown));
    assert.deepEqual(findLeaks(o.value), []);
  }
  assert.equal(tokenRequests.length, 1, `token requests: ${tokenRequests.length}`);
  assert.equal(new Set(apiRequests.map((r) => r.headers.authorization)).size, 1);
  console.log(`shared storm: 100 concurrent calls across 4 Workers, ${tokenRequests.length} token request(s)`);
});

test("a due shared token is refreshed once for the fleet; the others keep serving it", async () => {
  assert.equal((await run("DUE_1")).ok, true);
  assert.equal(tokenRequests.length, 1);
  await new Promise((resolve) => setTimeout(resolve, 1100)); // 2 s lifetime: due after 1 s
  const outs = await cap.batch(Array.from({ length: 20 }, (_, i) => ({ target: `DUE_${(i % 2) + 1}`, call: "things.list", args: [] })), 20);
  assert.ok(outs.every((o) => o.value?.ok), JSON.stringify(outs.find((o) => !o.value?.ok)));
  assert.equal(tokenRequests.length, 2, "one refresh");
  assert.equal(apiRequests.length, 21, "no call refused on the way");
});

test("a token the upstream refuses is replaced in the object by the fresh one", async () => {
  valid.clear();
  const r = await run("CAP");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.deepEqual([r.receipt.attempts, r.receipt.refreshed], [2, true]);
  assert.equal(tokenRequests.length, 1);
  const fresh = await run("CAP_E");
  assert.equal(fresh.ok, true, JSON.stringify(fresh.error));
  assert.equal(tokenRequests.length, 1, "a Worker meeting the object later takes the fresh token");
  assert.equal(apiRequests.at(-1).headers.authorization, `Bearer ${tokens.at(-1)}`);
});

test("the object bound without its key, or with a short one: every token call names CAPA_TOKENS_KEY", async () => {
  for (const [worker, pattern] of [
    ["CAP_NOKEY", /wrangler secret put CAPA_TOKENS_KEY --env auth-oauth2/],
    ["CAP_SHORTKEY", /CAPA_TOKENS_KEY is set but.*shorter than 32 characters/],
  ]) {
    const e = await run(worker);
    assert.equal(e.ok, false);
    assert.match(e.error.message, pattern);
    // A public operation needs no token, and is not refused.
    assert.equal((await run(worker, "health.retrieve")).ok, true);
  }
  assert.equal(tokenRequests.length, 0);
  assert.equal(apiRequests.length, 0);
});
