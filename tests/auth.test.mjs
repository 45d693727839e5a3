// The static credential schemes, each through its fixture Worker (tests/fixtures/auth/) in
// workerd over a real service binding, against the recording upstream: the exact bytes each puts
// on the wire, per-call credentials, what is refused before any request, and that no canary —
// a query key, a cookie, a basic password, a basic user name kept out of receipts — reaches a
// caller or a log.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers } from "./harness.mjs";
import { CANARIES, findLeaks } from "./security/corpus.mjs";

const [QUERY_KEY, QUERY_KEY_ODD] = CANARIES.queryKey.values;
const [COOKIE_KEY, COOKIE_KEY_ODD] = CANARIES.cookieKey.values;
const [PASSWORD, PASSWORD_ODD] = CANARIES.basicPassword.values;
const [USERNAME, USERNAME_ODD] = CANARIES.basicUsername.values;
const [API_SECRET, API_SECRET_ODD] = CANARIES.apiSecret.values;
const MULTI_KEY = "key_CANARYmulti00000000000";
const MULTI_TOKEN = "tok_CANARYmultitoken000000";
const b64 = (s) => Buffer.from(s).toString("base64");

let upstream, query, cookie, basic, multi;

before(async () => {
  upstream = await startUpstream();
  const loopback = { CAPA_LOOPBACK_ORIGIN: upstream.origin };
  const multiBindings = { AUTHM_API_KEY: MULTI_KEY, AUTHM_API_SECRET: API_SECRET, AUTHM_TOKEN: MULTI_TOKEN, ...loopback };
  [query, cookie, basic, multi] = await Promise.all([
    startWorkers({ provider: "auth-query", bindings: { AUTHQ_TOKEN: QUERY_KEY, ...loopback } }),
    startWorkers({ provider: "auth-cookie", bindings: { AUTHC_SESSION: COOKIE_KEY, ...loopback } }),
    startWorkers({
      provider: "auth-basic",
      bindings: { AUTHB_AUTH_TOKEN: PASSWORD, AUTHB_ACCOUNT_SID: USERNAME, ...loopback },
      variants: { CAP_NO_SID: { bindings: { AUTHB_AUTH_TOKEN: PASSWORD, ...loopback } } },
    }),
    startWorkers({
      provider: "auth-multi",
      bindings: multiBindings,
      variants: {
        CAP_NO_SECRET: { bindings: { AUTHM_API_KEY: MULTI_KEY, AUTHM_TOKEN: MULTI_TOKEN, ...loopback } },
        // The secret header's handle in the Secrets Store.
        CAP_STORE: { bindings: { AUTHM_API_KEY: MULTI_KEY, AUTHM_TOKEN: MULTI_TOKEN, ...loopback }, secretsStoreSecrets: { AUTHM_API_SECRET: { store_id: "auth", secret_name: "multi" } } },
      },
    }),
  ]);
});
after(async () => {
  for (const cap of [query, cookie, basic, multi]) assert.deepEqual(findLeaks(null, cap.logs), []);
  await Promise.all([query, cookie, basic, multi].map((c) => c.dispose()));
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = () => ({ status: 200, json: { id: 7, name: "p" } });
});

async function call(cap, dotted, ...args) {
  const envelope = await cap.call(dotted, ...args);
  assert.deepEqual(findLeaks(envelope), [], dotted);
  return envelope;
}

test("query: the key is the last query parameter, percent-encoded, and in no header", async () => {
  const r = await call(query, "projects.list", { search: "a b" });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const req = upstream.take();
  assert.equal(req.url, `/api/v4/projects?search=a%20b&private_token=${QUERY_KEY}`);
  assert.equal(req.headers.authorization, undefined);
  assert.equal(req.headers.cookie, undefined);
  assert.equal(r.receipt.path, "/projects");
  assert.equal(r.receipt.credential, "secret");
  // Alone in the query; and a key with characters URLs escape, per call, exactly encoded.
  await call(query, "projects.retrieve", 7, { auth: { apiKey: QUERY_KEY_ODD } });
  const odd = upstream.take();
  assert.equal(odd.url, `/api/v4/projects/7?private_token=${encodeURIComponent(QUERY_KEY_ODD).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase())}`);
  assert.equal(new URL(odd.url, "http://x").searchParams.get("private_token"), QUERY_KEY_ODD);
});

test("query: a parameter that is the credential is the capability's, never the caller's", async () => {
  const r = await call(query, "projects.retrieve", 7, { private_token: "attacker" });
  assert.equal(r.error.code, "unknown_parameter");
  assert.equal(upstream.requests.length, 0);
});

test("query: the key is out of every echo — errors, redirects, request ids", async () => {
  upstream.reply = (req) => ({ status: 404, json: { message: `no project at ${req.url}`, url: req.url } });
  const e = await call(query, "projects.retrieve", 7);
  assert.equal(e.error.code, "upstream_error");
  assert.match(e.error.message, /\[REDACTED\]/);
  upstream.reply = (req) => ({ status: 302, headers: { location: `https://elsewhere.example${req.url}` } });
  const away = await call(query, "projects.list");
  assert.equal(away.error.code, "upstream_redirect");
  assert.match(away.error.upstream.location, /private_token=\[REDACTED\]/);
  upstream.reply = (req) => ({ status: 200, headers: { "request-id": req.url }, json: { echo: req.url } });
  const echoed = await call(query, "projects.list");
  assert.equal(echoed.ok, true);
  assert.doesNotMatch(JSON.stringify(echoed), /CANARY/);
});

test("cookie: Cookie: <name>=<key>, and a key a cookie cannot hold is refused", async () => {
  const r = await call(cookie, "me.retrieve");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  let req = upstream.take();
  assert.equal(req.headers.cookie, `session=${COOKIE_KEY}`);
  assert.equal(req.headers.authorization, undefined);
  await call(cookie, "notes.create", { text: "hi" }, { auth: { apiKey: COOKIE_KEY_ODD } });
  req = upstream.take();
  assert.equal(req.headers.cookie, `session=${COOKIE_KEY_ODD}`);
  assert.equal(req.body, '{"text":"hi"}');
  for (const bad of ["ck_CANARYx; admin=1", "ck_CANARY x", 'ck_CANARY"x', "ck_CANARY,x", "ck_CANARY\\x"]) {
    const e = await call(cookie, "me.retrieve", { auth: { apiKey: bad } });
    assert.equal(e.error.code, "invalid_argument", bad);
    assert.match(e.error.message, /cookie value cannot/);
  }
  assert.equal(upstream.requests.length, 0);
  upstream.reply = (req) => ({ status: 401, headers: { "content-type": "text/plain" }, body: `bad cookie: ${req.headers.cookie}` });
  const e = await call(cookie, "me.retrieve");
  assert.equal(e.error.upstream, "bad cookie: session=[REDACTED]");
});

test("basic pair: base64(user:password) from two handles; per call, both or neither", async () => {
  upstream.reply = () => ({ status: 201, json: { sid: "SM1" } });
  const r = await call(basic, "accounts.messages.create", "AC1", { To: "+15558675310", Body: "hi" });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  let req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "POST /2010-04-01/Accounts/AC1/Messages.json");
  assert.equal(req.headers.authorization, `Basic ${b64(`${USERNAME}:${PASSWORD}`)}`);
  assert.equal(req.body, "To=%2B15558675310&Body=hi");
  // The user name is an identifier, kept out of receipts; the password a credential.
  assert.doesNotMatch(JSON.stringify(r.receipt), /CONTEXT|CANARY/);

  const user = "AC_CONTEXTtenant42";
  const own = await call(basic, "accounts.messages.list", "AC2", null, { auth: { username: user, password: PASSWORD_ODD } });
  assert.equal(own.receipt.credential, "call");
  req = upstream.take();
  assert.equal(req.headers.authorization, `Basic ${b64(`${user}:${PASSWORD_ODD}`)}`);
  // apiKey is password's other name.
  await call(basic, "accounts.messages.list", "AC2", null, { auth: { username: user, apiKey: PASSWORD } });
  assert.equal(upstream.take().headers.authorization, `Basic ${b64(`${user}:${PASSWORD}`)}`);

  const refused = [
    [{ password: PASSWORD_ODD }, /a pair: give username and password together/],
    [{ username: user }, /comes with its password/],
    [{ username: user, password: PASSWORD, apiKey: PASSWORD }, /apiKey or password, not both/],
    [{ username: "AC:1", password: PASSWORD }, /holds a `:`/],
  ];
  for (const [auth, why] of refused) {
    const e = await call(basic, "accounts.messages.list", "AC2", null, { auth });
    assert.equal(e.error?.code, "invalid_argument", JSON.stringify({ auth, e }));
    assert.match(e.error.message, why);
  }
  assert.equal(upstream.requests.length, 0);
});

test("basic pair: a session binds a user name and password, and keeps both out of receipts", async () => {
  const user = "AC_CONTEXTsession7";
  const session = { call: "withAuth", args: [{ username: user, password: PASSWORD_ODD }] };
  const [out] = await basic.batch([{ path: [session, "accounts", "messages", "list"], args: ["AC3"] }], 1);
  assert.equal(out.value?.ok, true, JSON.stringify(out));
  assert.deepEqual(findLeaks(out.value), []);
  assert.doesNotMatch(JSON.stringify(out.value.receipt), /CONTEXT|CANARY/);
  assert.equal(out.value.receipt.credential, "call");
  assert.equal(upstream.take().headers.authorization, `Basic ${b64(`${user}:${PASSWORD_ODD}`)}`);
  // Half a pair makes a session whose calls are refused, before any request.
  const [half] = await basic.batch([{ path: [{ call: "withAuth", args: [{ username: user }] }, "accounts", "messages", "list"], args: ["AC3"] }], 1);
  assert.equal(half.value?.error?.code, "invalid_argument", JSON.stringify(half));
  assert.equal(upstream.requests.length, 0);
});

test("basic pair: a missing user name handle is missing_credential naming it, before any request", async () => {
  const [out] = await basic.batch([{ target: "CAP_NO_SID", call: "accounts.messages.list", args: ["AC1"] }], 1);
  const e = out.value;
  assert.deepEqual(findLeaks(e), []);
  assert.equal(e.error.code, "missing_credential");
  assert.match(e.error.message, /AUTHB_ACCOUNT_SID/);
  assert.match(e.error.message, /wrangler secret put AUTHB_ACCOUNT_SID --env auth-basic/);
  assert.equal(upstream.requests.length, 0);
});

test("basic pair: an upstream echoing the header, the password or the user name leaks none of them", async () => {
  const forms = [PASSWORD, encodeURIComponent(PASSWORD), b64(`${USERNAME}:${PASSWORD}`), `Basic ${b64(`${USERNAME}:${PASSWORD}`)}`];
  upstream.reply = (req) => ({ status: 400, json: { error: req.headers.authorization, forms, user: USERNAME } });
  const e = await call(basic, "accounts.messages.list", "AC1");
  assert.equal(e.error.code, "upstream_error");
  assert.doesNotMatch(JSON.stringify(e), /CANARY/);
  // The user name may come back in the upstream's own answer (it names the account), never in
  // the receipt.
  assert.doesNotMatch(JSON.stringify(e.receipt), /CONTEXT/);
});

test("several at once: the key header and its secret header, each from its handle, exactly", async () => {
  const r = await call(multi, "reports.list", { limit: 2 });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const req = upstream.take();
  assert.equal(req.url, "/v1/reports?limit=2");
  assert.equal(req.headers["x-api-key"], MULTI_KEY);
  assert.equal(req.headers["x-api-secret"], API_SECRET);
  assert.equal(req.headers.authorization, undefined);
  assert.equal(r.receipt.credential, "secret");
  // The secret header the spec also declares as a parameter is the capability's, not the caller's.
  const e = await call(multi, "reports.list", { "X-Api-Secret": "attacker" });
  assert.equal(e.error.code, "unknown_parameter");
  assert.equal(upstream.requests.length, 0);
});

test("several at once: per call the key and its secret header come together, or neither", async () => {
  await call(multi, "reports.list", {}, { auth: { apiKey: "key_CANARYtenant1", headers: { "x-api-secret": API_SECRET_ODD } } });
  const req = upstream.take();
  assert.equal(req.headers["x-api-key"], "key_CANARYtenant1");
  assert.equal(req.headers["x-api-secret"], API_SECRET_ODD, "the tenant's secret alone, not joined to the deployment's");
  for (const auth of [{ apiKey: "key_CANARYtenant1" }, { headers: { "X-Api-Secret": "sec_CANARYtenant1" } }]) {
    const e = await call(multi, "reports.list", {}, { auth });
    assert.equal(e.error?.code, "invalid_argument", JSON.stringify({ auth, e }));
    assert.match(e.error.message, /X-Api-Secret/);
  }
  assert.equal(upstream.requests.length, 0);
});

test("a scheme per operation: each sends its own, by its spec security", async () => {
  const sent = async (dotted, ...args) => {
    const r = await call(multi, dotted, ...args);
    assert.equal(r.ok, true, `${dotted}: ${JSON.stringify(r.error)}`);
    const { headers } = upstream.take();
    return [headers.authorization, headers["x-api-key"], headers["x-api-secret"]];
  };
  assert.deepEqual(await sent("me.retrieve"), [`Bearer ${MULTI_TOKEN}`, undefined, undefined]);
  // The token is the first alternative of /either.
  assert.deepEqual(await sent("either.retrieve"), [`Bearer ${MULTI_TOKEN}`, undefined, undefined]);
  // A browser flow alone: [auth]'s credential.
  assert.deepEqual(await sent("browser.retrieve"), [undefined, MULTI_KEY, API_SECRET]);
  assert.deepEqual(await sent("public.retrieve"), [undefined, undefined, undefined]);
  // Per call, apiKey is the key of the operation's scheme.
  assert.deepEqual(await sent("me.retrieve", { auth: { apiKey: "tok_CANARYtenant2" } }), ["Bearer tok_CANARYtenant2", undefined, undefined]);
});

test("several at once: an unset handle is missing_credential naming it; the store serves one too", async () => {
  const outs = await multi.batch(
    [
      { target: "CAP_NO_SECRET", call: "reports.list", args: [] },
      { target: "CAP_NO_SECRET", call: "me.retrieve", args: [] },
    ],
    1,
  );
  const [missing, other] = outs.map((o) => o.value);
  assert.deepEqual(findLeaks(missing), []);
  assert.equal(missing.error.code, "missing_credential");
  assert.match(missing.error.message, /wrangler secret put AUTHM_API_SECRET --env auth-multi/);
  assert.equal(other.ok, true, "the bearer operations go on");
  assert.equal(upstream.take().headers.authorization, `Bearer ${MULTI_TOKEN}`);
  assert.equal(upstream.requests.length, 0);

  await (await multi.store("AUTHM_API_SECRET", "CAP_STORE")).create(API_SECRET_ODD);
  const [fromStore] = await multi.batch([{ target: "CAP_STORE", call: "reports.list", args: [] }], 1);
  assert.equal(fromStore.value.ok, true, JSON.stringify(fromStore.value.error));
  assert.equal(upstream.take().headers["x-api-secret"], API_SECRET_ODD);
});

test("several at once: echoes of the secret header, in any form, are scrubbed like the key", async () => {
  upstream.reply = (req) => ({
    status: 200,
    json: { secret: req.headers["x-api-secret"], b64: Buffer.from(req.headers["x-api-secret"]).toString("base64"), url: encodeURIComponent(req.headers["x-api-secret"]) },
  });
  const ok = await call(multi, "reports.list");
  assert.equal(ok.ok, true);
  assert.equal(ok.result.secret, "[REDACTED]");
  // Even from an operation that sent only the token: every deployment credential is scanned for.
  upstream.reply = () => ({ status: 403, json: { message: `not with ${API_SECRET} or ${MULTI_KEY}` } });
  const e = await call(multi, "me.retrieve");
  assert.equal(e.error.code, "upstream_error");
  assert.doesNotMatch(JSON.stringify(e), /CANARY/);
});
