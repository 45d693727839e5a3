// OAuth2 client credentials through the auth-oauth2 fixture Worker in workerd, over a real
// service binding, against a token endpoint and an API of our own on 127.0.0.1 (the recording
// upstream): the exact bytes of the exchange, one token request for many calls and for 100
// concurrent ones, refresh before expiry, refresh on a 401 and one retry, auth_failed at each
// stage, per-call tokens untouched, and no client secret or access token in anything a caller or
// a log sees.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers } from "./harness.mjs";
import { CANARIES, findLeaks } from "./security/corpus.mjs";

const [SECRET, SECRET_ODD] = CANARIES.clientSecret.values;
const CLIENT = "client-CONTEXT1";
const b64 = (s) => Buffer.from(s).toString("base64");
const form = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

// The token endpoint and the API. Clients are known by id: each has its secret and the lifetime
// of the tokens it is issued. Tokens are at_CANARY…, valid until revoked or expired.
const CLIENTS = {
  [CLIENT]: { secret: SECRET, lifetime: 3600 },
  "client-CONTEXTshort": { secret: SECRET, lifetime: 2 },
  "client-CONTEXTodd": { secret: SECRET_ODD, lifetime: 3600 },
  // RFC 6749 §2.3.1 lets an id hold `:`: form-encoded, it is no separator.
  "urn:acme:CONTEXT client/1": { secret: SECRET_ODD, lifetime: 3600 },
};
let upstream, cap;
let issued, valid, tokenRequests, apiRequests, refuseAll, echo, slowTokens;

function serve(req) {
  if (req.url === "/oauth/token") {
    tokenRequests.push(req);
    const [id, secret] = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString("latin1").split(":").map(decodeURIComponent);
    const client = CLIENTS[id];
    if (!client || client.secret !== secret || req.headers["content-type"] !== "application/x-www-form-urlencoded") {
      return { status: 401, json: { error: "invalid_client", error_description: `unknown client ${id} with ${secret}` } };
    }
    if (!new URLSearchParams(req.body).get("grant_type")?.startsWith("client_credentials")) return { status: 400, json: { error: "unsupported_grant_type" } };
    const token = `at_CANARY${++issued}_${id.slice(-5)}`;
    valid.set(token, Date.now() + client.lifetime * 1000);
    return { status: 200, delay: slowTokens ? 300 : 0, json: { access_token: token, token_type: "Bearer", expires_in: client.lifetime, scope: new URLSearchParams(req.body).get("scope") } };
  }
  apiRequests.push(req);
  const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
  const until = valid.get(token);
  if (refuseAll || !until || until < Date.now()) return { status: 401, json: { error: "invalid_token", token } };
  if (echo) return { status: 200, json: { seen: req.headers.authorization, b64: b64(token) } };
  return { status: req.method === "POST" ? 201 : 200, json: { data: [{ id: "t1" }] } };
}

before(async () => {
  upstream = await startUpstream();
  upstream.reply = serve;
  const loopback = { CAPA_LOOPBACK_ORIGIN: upstream.origin };
  const client = (id, secret = SECRET) => ({ bindings: { AUTHO_CLIENT_ID: id, AUTHO_CLIENT_SECRET: secret, ...loopback } });
  cap = await startWorkers({
    provider: "auth-oauth2",
    bindings: client(CLIENT).bindings,
    variants: {
      CAP_STORM: client(CLIENT),
      CAP_SHORT: client("client-CONTEXTshort"),
      CAP_ODD: client("client-CONTEXTodd", SECRET_ODD),
      CAP_REFUSED: client(CLIENT, "cs_CANARYwrong0000000000"),
      CAP_NO_ID: { bindings: { AUTHO_CLIENT_SECRET: SECRET, ...loopback } },
      CAP_401: client(CLIENT),
      CAP_COLON: client("urn:acme:CONTEXT client/1", SECRET_ODD),
    },
  });
});
after(async () => {
  assert.deepEqual(findLeaks(null, cap.logs), []);
  await cap.dispose();
  await upstream.close();
});
beforeEach(() => {
  issued ??= 0;
  valid ??= new Map();
  tokenRequests = [];
  apiRequests = [];
  refuseAll = false;
  echo = false;
  slowTokens = false;
  upstream.requests.length = 0;
});

async function run(target, call, ...args) {
  const [out] = await cap.batch([{ target, call, args }], 1);
  assert.equal(out.thrown, undefined, JSON.stringify(out.thrown));
  assert.deepEqual(findLeaks(out.value), [], call);
  assert.doesNotMatch(JSON.stringify(out.value.receipt), /CONTEXT|CANARY/);
  return out.value;
}

test("the exchange: a basic-authenticated form POST to the spec's token URL, then the token as bearer", async () => {
  const r = await run("CAP", "things.list", { limit: 2 });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(tokenRequests.length, 1);
  const [exchange] = tokenRequests;
  assert.equal(`${exchange.method} ${exchange.url}`, "POST /oauth/token");
  assert.equal(exchange.headers.authorization, `Basic ${b64(`${form(CLIENT)}:${form(SECRET)}`)}`);
  assert.equal(exchange.headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(exchange.body, "grant_type=client_credentials&scope=read%3Athings%20write%3Athings");
  assert.equal(apiRequests.length, 1);
  assert.equal(apiRequests[0].url, "/v2/things?limit=2");
  assert.match(apiRequests[0].headers.authorization, /^Bearer at_CANARY\d+_/);
  assert.deepEqual([r.receipt.credential, r.receipt.refreshed, r.receipt.attempts], ["secret", true, 1]);
  // A secret with characters a form escapes is sent encoded, and accepted.
  const odd = await run("CAP_ODD", "things.list");
  assert.equal(odd.ok, true, JSON.stringify(odd.error));
  assert.equal(tokenRequests[1].headers.authorization, `Basic ${b64(`${form("client-CONTEXTodd")}:${form(SECRET_ODD)}`)}`);
});

test("a client id holding `:` is form-encoded into the basic pair, and works", async () => {
  const r = await run("CAP_COLON", "things.list");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(tokenRequests.length, 1);
  const sent = tokenRequests[0].headers.authorization;
  assert.equal(sent, `Basic ${b64(`urn%3Aacme%3ACONTEXT%20client%2F1:${form(SECRET_ODD)}`)}`);
  assert.equal(Buffer.from(sent.slice(6), "base64").toString().split(":").length, 2, "one `:`, the separator");
});

test("one token request serves the calls that follow; a public operation sends none", async () => {
  for (let i = 0; i < 20; i++) {
    const r = await run("CAP", i % 2 ? "things.create" : "things.retrieve", ...(i % 2 ? [{ name: "x" }] : ["t1"]));
    assert.equal(r.ok, true, JSON.stringify(r.error));
    assert.equal(r.receipt.refreshed, false);
  }
  assert.equal(tokenRequests.length, 0, "the first test's token is still cached");
  assert.equal(new Set(apiRequests.map((r) => r.headers.authorization)).size, 1);
  await run("CAP", "health.retrieve");
  assert.equal(apiRequests.at(-1).headers.authorization, undefined);
});

test("a session without a token of its own sends the deployment's cached one; with one, its own", async () => {
  const through = async (auth, call, ...args) => {
    const [out] = await cap.batch([{ path: [{ call: "withAuth", args: [auth] }, ...call.split(".")], args }], 1);
    assert.equal(out.thrown, undefined, JSON.stringify(out.thrown));
    assert.deepEqual(findLeaks(out.value), [], call);
    return out.value;
  };
  const cached = await through({}, "things.retrieve", "t1");
  assert.equal(cached.ok, true, JSON.stringify(cached.error));
  assert.equal(cached.receipt.credential, "secret");
  assert.match(apiRequests.at(-1).headers.authorization, /^Bearer at_CANARY\d+_/);
  assert.equal(tokenRequests.length, 0, "the cached token served");
  const own = await through({ apiKey: "at_CANARYsessiontoken" }, "things.retrieve", "t1");
  assert.equal(own.receipt.credential, "call");
  assert.equal(apiRequests.at(-1).headers.authorization, "Bearer at_CANARYsessiontoken");
  assert.equal(tokenRequests.length, 0);
});

test("100 concurrent calls meeting an empty cache make one token request", async () => {
  // The exchange takes 300 ms: every call arrives while it is in flight.
  slowTokens = true;
  const calls = Array.from({ length: 100 }, (_, i) => ({ target: "CAP_STORM", call: "things.retrieve", args: [`t${i}`] }));
  const outs = await cap.batch(calls, 100);
  for (const o of outs) {
    assert.equal(o.value?.ok, true, JSON.stringify(o.value?.error ?? o.thrown));
    assert.deepEqual(findLeaks(o.value), []);
  }
  assert.equal(tokenRequests.length, 1, `token requests: ${tokenRequests.length}`);
  assert.equal(apiRequests.length, 100);
  assert.equal(new Set(apiRequests.map((r) => r.headers.authorization)).size, 1);
  console.log(`oauth2 storm: 100 concurrent calls, ${tokenRequests.length} token request(s)`);
});

test("a token is refreshed before it expires (2 s lifetime: due after 1 s)", async () => {
  const first = await run("CAP_SHORT", "things.list");
  assert.equal(first.receipt.refreshed, true);
  const again = await run("CAP_SHORT", "things.list");
  assert.equal(again.receipt.refreshed, false);
  assert.equal(tokenRequests.length, 1);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const due = await run("CAP_SHORT", "things.list");
  assert.equal(due.ok, true, JSON.stringify(due.error));
  assert.equal(due.receipt.refreshed, true);
  assert.equal(tokenRequests.length, 2, "refreshed while still valid, before the upstream could refuse it");
  assert.ok(apiRequests.every((r) => r.headers.authorization !== undefined));
  assert.equal(apiRequests.length, 3, "no call was refused on the way");
});

const settled = () => new Promise((resolve) => setTimeout(resolve, 1100));

test("a 401 to a token just obtained is auth_failed at once: no exchange a caller could repeat at will", async () => {
  assert.equal((await run("CAP_401", "things.list")).ok, true);
  valid.clear();
  tokenRequests = [];
  apiRequests = [];
  const e = await run("CAP_401", "things.list");
  assert.deepEqual([e.error.code, e.error.stage, e.error.status, e.receipt.attempts], ["auth_failed", "upstream", 401, 1]);
  assert.equal(tokenRequests.length, 0);
});

test("a 401 to the cached token: dropped, a fresh one obtained, the call sent once more", async () => {
  // (The token from the test before; older than a second, it may have expired.)
  await settled();
  valid.clear(); // the upstream revokes every token
  tokenRequests = [];
  apiRequests = [];
  const r = await run("CAP_401", "things.list");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.deepEqual([r.receipt.attempts, r.receipt.refreshed, r.receipt.status], [2, true, 200]);
  assert.equal(tokenRequests.length, 1);
  assert.equal(apiRequests.length, 2);
  assert.notEqual(apiRequests[0].headers.authorization, apiRequests[1].headers.authorization);
  // A fresh token refused too: auth_failed at the upstream, after exactly one retry.
  await settled();
  refuseAll = true;
  tokenRequests = [];
  apiRequests = [];
  const e = await run("CAP_401", "things.list");
  assert.equal(e.error.code, "auth_failed");
  assert.equal(e.error.stage, "upstream");
  assert.equal(e.error.status, 401);
  // The provider's own word on why, as an upstream_error carries it: the token it echoed redacted.
  assert.deepEqual(e.error.upstream, { error: "invalid_token", token: "[REDACTED]" });
  assert.deepEqual([e.receipt.attempts, e.receipt.refreshed, e.receipt.verdict], [2, true, "fail"]);
  assert.equal(apiRequests.length, 2);
  assert.equal(tokenRequests.length, 1);
});

test("a refused client is auth_failed at the token stage, naming the handles, with no API request", async () => {
  const e = await run("CAP_REFUSED", "things.list");
  assert.equal(e.error.code, "auth_failed");
  assert.equal(e.error.stage, "token");
  assert.equal(e.error.status, 401);
  assert.match(e.error.message, /AUTHO_CLIENT_ID and AUTHO_CLIENT_SECRET/);
  assert.match(e.error.message, /wrangler secret put AUTHO_CLIENT_SECRET --env auth-oauth2/);
  assert.equal(e.result, undefined);
  assert.equal(apiRequests.length, 0);
  assert.deepEqual([e.receipt.refreshed, e.receipt.attempts], [false, 0], "no token was obtained");
  // The calls right after get the same answer without storming the endpoint.
  const outs = await cap.batch(Array.from({ length: 10 }, () => ({ target: "CAP_REFUSED", call: "things.list", args: [] })), 10);
  assert.ok(outs.every((o) => o.value.error?.code === "auth_failed"));
  assert.ok(outs.every((o) => o.value.receipt.refreshed === false));
  assert.equal(tokenRequests.length, 1, `token requests: ${tokenRequests.length}`);
});

test("a per-call token is sent as it is, never cached, and its 401 is the caller's", async () => {
  const mine = "at_CANARYcallers0000000000";
  valid.set(mine, Date.now() + 60_000);
  const r = await run("CAP_STORM", "things.list", {}, { auth: { apiKey: mine } });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.deepEqual([r.receipt.credential, r.receipt.refreshed], ["call", false]);
  assert.equal(apiRequests[0].headers.authorization, `Bearer ${mine}`);
  valid.delete(mine);
  const e = await run("CAP_STORM", "things.list", {}, { auth: { apiKey: mine } });
  assert.equal(e.error.code, "upstream_error");
  assert.equal(e.error.status, 401);
  assert.equal(e.receipt.attempts, 1);
  assert.equal(tokenRequests.length, 0);
});

test("an unset client id is missing_credential naming it, with no exchange", async () => {
  const e = await run("CAP_NO_ID", "things.list");
  assert.equal(e.error.code, "missing_credential");
  assert.match(e.error.message, /wrangler secret put AUTHO_CLIENT_ID --env auth-oauth2/);
  assert.equal(upstream.requests.length, 0);
});

test("the token and the client secret are scrubbed from every echo", async () => {
  echo = true;
  const r = await run("CAP", "things.list");
  assert.equal(r.ok, true);
  assert.equal(r.result.seen, "Bearer [REDACTED]");
  // The base64 form's core is replaced (its last character may keep a few bits of padding).
  assert.match(r.result.b64, /^\[REDACTED\].{0,3}$/);
  echo = false;
  refuseAll = true;
  const e = await run("CAP_REFUSED", "things.list");
  assert.doesNotMatch(JSON.stringify(e), /CANARY/);
});
