// The wire a spec asks for, through the `wire` fixture Worker (tests/fixtures/wire/wire/) in
// workerd over a real service binding, against the recording upstream: the exact bytes of form
// bodies under each `encoding` (OpenAPI's defaults and every override), read back by references
// nobody here wrote — WHATWG `URLSearchParams` and Python's `urllib.parse.parse_qs` for forms,
// the platform's `FormData` parser for multipart — so that a provider reading its spec's
// encoding reads what the caller meant.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { startUpstream, startWorkers, bytes } from "./harness.mjs";
import { echoForms, findLeaks, unicodeEscapedJson, windowsOf } from "./security/corpus.mjs";

const TOKEN = "tok_CANARYwire000000000000000";
// A client id kept in a Worker secret, bound to `X-Client-Id` and marked secret by the manifest;
// characters every encoding treats differently.
const CLIENT_ID = "cid_CANARYclient/+%=&~ 9xQ";
// An app name in a var, bound to `X-App`: context, which a result may name.
const APP = "app_CONTEXTwire";
// Credentials the spec declares as parameters (`[auth] params`): a token and a key.
const PARAM_TOKEN = "ptok_CANARYparam/+= x0000";
const PARAM_KEY = "pkey_CANARYkey&?#11111";
// The named schemes' keys (a cookie's, a query's) and the query scheme's own `token` parameter.
const SID = "sid_CANARYcookie000000";
const QUERY_KEY = "qkey_CANARYquery/+= 2222";
const QUERY_TOKEN = "qtok_CANARYnamed&=?33333";
// A caller's own values (`options.auth.apiKey`, `options.auth.params`).
const CALL_TOKEN = "ctok_CANARYcall/+= 44444";
const CALL_KEY = "ckey_CANARYcallkey&?55555";
const TENANT = "sk_test_CANARYtenant0000";
const CANARIES = [TOKEN, CLIENT_ID, PARAM_TOKEN, PARAM_KEY, SID, QUERY_KEY, QUERY_TOKEN, CALL_TOKEN, CALL_KEY, TENANT];
const strict = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

let upstream, wire;

before(async () => {
  upstream = await startUpstream();
  const bindings = { WIRE_TOKEN: TOKEN, WIRE_CLIENT_ID: CLIENT_ID, WIRE_APP: APP, WIRE_PARAM_TOKEN: PARAM_TOKEN, WIRE_PARAM_KEY: PARAM_KEY, WIRE_SID: SID, WIRE_QUERY_KEY: QUERY_KEY, WIRE_QUERY_TOKEN: QUERY_TOKEN, CAPA_LOOPBACK_ORIGIN: upstream.origin };
  const { WIRE_PARAM_TOKEN: _, ...noParamToken } = bindings;
  wire = await startWorkers({ provider: "wire", bindings, variants: { CAP_NO_PARAM: { bindings: noParamToken } } });
});
after(async () => {
  await upstream?.close();
  if (!wire) return;
  await wire.dispose();
  assert.deepEqual(findLeaks(null, wire.logs, windowsOf(CANARIES)), []);
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = () => ({ status: 200, json: { id: 7 } });
});

async function call(dotted, ...args) {
  const envelope = await wire.call(dotted, ...args);
  assert.deepEqual(findLeaks(envelope, [], windowsOf(CANARIES)), [], dotted);
  assert.ok(!JSON.stringify(envelope).includes(TOKEN), dotted);
  return envelope;
}

/** `text` as Python's `parse_qs` reads it (blank values kept, strict): `{ key: [values] }`. */
function parseQs(text) {
  const script = "import sys, json, urllib.parse; print(json.dumps(urllib.parse.parse_qs(sys.stdin.read(), keep_blank_values=True, strict_parsing=True)))";
  return JSON.parse(execFileSync("python3", ["-c", script], { input: text }).toString());
}

/** `text` as WHATWG `URLSearchParams` reads it: `{ key: [values] }`, keys in first-seen order. */
function searchParams(text) {
  const out = {};
  for (const [k, v] of new URLSearchParams(text)) (out[k] ??= []).push(v);
  return out;
}

/** The multipart body the upstream received, parsed by the platform's own parser. */
function formData(req) {
  return new Request("http://upstream/", { method: "POST", headers: { "content-type": req.headers["content-type"] }, body: req.raw }).formData();
}

test("form: OpenAPI's default encoding repeats an array's key and spreads an object; each override as declared", async () => {
  const r = await call("messages.create", {
    To: ["+1 555 0100", "b&c=d"],
    Body: "hi there",
    Count: 3,
    Tags: { color: "red", size: "L" },
    Csv: ["a", "b,c"],
    CsvObject: { k: "v w" },
    Pipes: [1, 2],
    Spaces: [3, 4],
    Deep: { k: "v" },
    DeepList: ["x", "y"],
  });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const req = upstream.take();
  assert.equal(req.method, "POST");
  assert.equal(req.url, "/v1/messages");
  assert.equal(req.headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(
    req.body,
    "To=%2B1%20555%200100&To=b%26c%3Dd&Body=hi%20there&Count=3&color=red&size=L&Csv=a,b%2Cc&CsvObject=k,v%20w&Pipes=1|2&Spaces=3%204&Deep[k]=v&DeepList[0]=x&DeepList[1]=y",
  );
  const expected = {
    To: ["+1 555 0100", "b&c=d"],
    Body: ["hi there"],
    Count: ["3"],
    color: ["red"],
    size: ["L"],
    Csv: ["a,b,c"],
    CsvObject: ["k,v w"],
    Pipes: ["1|2"],
    Spaces: ["3 4"],
    "Deep[k]": ["v"],
    "DeepList[0]": ["x"],
    "DeepList[1]": ["y"],
  };
  assert.deepEqual(parseQs(req.body), expected);
  assert.deepEqual(searchParams(req.body), expected);
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
});

test("form: an exploded object's member may not take another parameter's name; nothing is sent", async () => {
  for (const params of [{ To: ["a"], Tags: { Body: "smuggled" } }, { To: ["a"], Tags: { To: "b" } }, { To: ["a"], Tags: { color: "x" }, color: "y" }]) {
    const r = await call("messages.create", params);
    assert.equal(r.ok, false, JSON.stringify(params));
    assert.ok(["invalid_argument", "unknown_parameter"].includes(r.error.code), JSON.stringify(r.error));
  }
  assert.equal(upstream.requests.length, 0);
});

test("form: a body whose containers declare deepObject (Stripe's) keeps brackets and indices", async () => {
  const r = await call("charges.create", { amount: 2500, expand: ["customer", "a b"], metadata: { order: "A 1", "k[]": "x" } });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const req = upstream.take();
  assert.equal(req.body, "amount=2500&expand[0]=customer&expand[1]=a%20b&metadata[order]=A%201&metadata[k%5B%5D]=x");
  const expected = { amount: ["2500"], "expand[0]": ["customer"], "expand[1]": ["a b"], "metadata[order]": ["A 1"], "metadata[k[]]": ["x"] };
  assert.deepEqual(parseQs(req.body), expected);
  assert.deepEqual(searchParams(req.body), expected);
});

test("multipart: arrays repeat their part, objects a JSON part, a deepObject field bracketed text parts, a file its bytes", async () => {
  const r = await call("uploads.create", { file: { data: bytes("PNG\x00bytes", { type: "image/png", as: "Blob" }), name: "a.png" }, labels: ["a", "b c"], meta: { a: "x" }, link: { create: true } });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const req = upstream.take();
  assert.match(req.headers["content-type"], /^multipart\/form-data; boundary=/);
  const form = await formData(req);
  assert.deepEqual(form.getAll("labels"), ["a", "b c"]);
  assert.equal(form.get("meta"), '{"a":"x"}');
  assert.equal(form.get("link[create]"), "true");
  const file = form.get("file");
  assert.equal(file.name, "a.png");
  assert.equal(file.type, "image/png");
  assert.equal(Buffer.from(await file.arrayBuffer()).toString("latin1"), "PNG\x00bytes");
  assert.deepEqual([...form.keys()], ["file", "labels", "labels", "meta", "link[create]"]);
});

test("query: an array at the default style repeats its key; deepObject arrays take empty brackets", async () => {
  const r = await call("search.retrieve", { id: ["1", "2 3"], expand: ["a", "b"] });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const req = upstream.take();
  assert.equal(req.url, "/v1/search?id=1&id=2%203&expand[]=a&expand[]=b");
  const query = req.url.split("?")[1];
  assert.deepEqual(parseQs(query), { id: ["1", "2 3"], "expand[]": ["a", "b"] });
});

test("required body fields: required whenever a body is sent, the body itself optional or not; none sent, none asked", async () => {
  // The body may be left out: no body fields, no body, no refusal.
  let r = await call("channels.update", { broadcaster_id: "b1" });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  let req = upstream.take();
  assert.equal(req.url, "/v1/channels?broadcaster_id=b1");
  assert.equal(req.body, "");
  assert.equal(req.headers["content-type"], undefined);
  // A body without its required field: refused, naming it, before any request.
  r = await call("channels.update", { broadcaster_id: "b1", delay: 5 });
  assert.equal(r.error.code, "invalid_argument");
  assert.match(r.error.message, /`title`/);
  assert.doesNotMatch(r.error.message, /broadcaster_id/);
  assert.equal(upstream.requests.length, 0);
  // Its required field given: sent.
  r = await call("channels.update", { broadcaster_id: "b1", title: "t", delay: 5 });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  req = upstream.take();
  assert.deepEqual(JSON.parse(req.body), { title: "t", delay: 5 });
  // A missing query parameter is refused as ever, named beside nothing else.
  r = await call("channels.update", { title: "t" });
  assert.equal(r.error.code, "invalid_argument");
  assert.match(r.error.message, /`broadcaster_id`/);
  assert.doesNotMatch(r.error.message, /`title`/);
  // An optional form body alike.
  r = await call("notes.create", {});
  assert.equal(r.ok, true, JSON.stringify(r.error));
  assert.equal(upstream.take().body, "");
  r = await call("notes.create", { pinned: true });
  assert.equal(r.error.code, "invalid_argument");
  assert.match(r.error.message, /`text`/);
  assert.equal(upstream.requests.length, 0);
  r = await call("notes.create", { text: "a b", pinned: true });
  assert.equal(upstream.take().body, "text=a%20b&pinned=true");
  // A required body's required field: refused whether or not other fields are given.
  for (const params of [{}, { Body: "x" }]) {
    r = await call("messages.create", params);
    assert.equal(r.error.code, "invalid_argument");
    assert.match(r.error.message, /`To`/);
  }
  assert.equal(upstream.requests.length, 0);
});

test("required body fields are required in index.d.ts and methods.txt", async () => {
  const { readFileSync } = await import("node:fs");
  const types = readFileSync(new URL("../generated/wire/index.d.ts", import.meta.url), "utf8");
  assert.match(types, /update\(params: \{ broadcaster_id: string; delay\?: number; title: string \}/);
  assert.match(types, /create\(params: \{ pinned\?: boolean; text: string \}/);
  const methods = readFileSync(new URL("../generated/wire/methods.txt", import.meta.url), "utf8");
  assert.match(methods, /^notes\.create\(params, options\?\)/m);
});

// Where a hostile upstream puts the echoed text `form` (tests/security/forms.test.mjs's places).
const headerSafe = (s) => s.replace(/[^\x20-\x7e]/g, "");
const PLACES = {
  jsonResult: (form) => ({ status: 200, json: { echo: form, [form]: 1 } }),
  unicodeEscapedResult: (_, value) => ({ status: 200, headers: { "content-type": "application/json" }, body: unicodeEscapedJson(value) }),
  textResult: (form) => ({ status: 200, headers: { "content-type": "text/plain" }, body: `you sent: ${form}` }),
  errorObject: (form) => ({ status: 400, json: { error: { message: `bad client ${form}`, param: form } } }),
  errorPage: (form) => ({ status: 502, headers: { "content-type": "text/html" }, body: `<pre>${form}</pre>` }),
  invalidJson: (form) => ({ status: 200, headers: { "content-type": "application/json" }, body: `{"echo":"${form}"` }),
  binary: (form) => ({ status: 200, headers: { "content-type": "application/octet-stream" }, body: Buffer.concat([Buffer.from([0, 255, 7]), Buffer.from(form, "latin1"), Buffer.from([1, 2])]) }),
  requestId: (form) => ({ status: 200, headers: { "request-id": headerSafe(form) }, json: { ok: 1 } }),
  redirectAway: (form) => ({ status: 302, headers: { location: `https://evil.example/x?k=${headerSafe(form)}` } }),
};

test("a secret bound header reaches the upstream and, echoed in every form in every place, none of it reaches the caller", async () => {
  upstream.reply = (req) => ({ status: 200, json: { client: req.headers["x-client-id"], app: req.headers["x-app"] } });
  const r = await call("search.retrieve", { id: ["1"] });
  const req = upstream.take();
  assert.equal(req.headers["x-client-id"], CLIENT_ID);
  assert.equal(req.headers["x-app"], APP);
  // The secret one is scrubbed from the result; the context one may be named there.
  assert.deepEqual(r.result, { client: "[REDACTED]", app: APP });
  const windows = windowsOf(CANARIES);
  const leaks = [];
  let calls = 0;
  for (const [place, answer] of Object.entries(PLACES)) {
    const forms = echoForms(CLIENT_ID);
    for (const [name, form] of forms) {
      upstream.reply = () => answer(form, CLIENT_ID);
      const envelope = await wire.call("search.retrieve", { id: ["1"] });
      calls++;
      for (const leak of findLeaks(envelope, [], windows)) leaks.push({ place, form: name, ...leak });
      if (JSON.stringify(envelope).includes(CLIENT_ID)) leaks.push({ place, form: name, raw: true });
    }
  }
  upstream.requests.length = 0;
  assert.ok(calls >= Object.keys(PLACES).length * 20, `${calls} calls`);
  assert.deepEqual(leaks, []);
});

test("soft errors: a 200 whose `ok` is false is upstream_error with the status as sent, the provider's object redacted, verdict fail", async () => {
  upstream.reply = () => ({ status: 200, json: { ok: false, error: "invalid_auth", detail: `token ${TOKEN}` } });
  let r = await call("search.retrieve", { id: ["1"] });
  assert.equal(upstream.requests.splice(0).length, 1, "sent once: a soft error is final");
  assert.equal(r.ok, false);
  assert.equal(r.error.code, "upstream_error");
  assert.equal(r.error.status, 200);
  assert.equal(r.error.message, "invalid_auth");
  assert.deepEqual(r.error.upstream, { ok: false, error: "invalid_auth", detail: "token [REDACTED]" });
  assert.equal(r.receipt.verdict, "fail");
  assert.equal(r.receipt.status, 200);
  // A key written with escapes is the same key.
  upstream.reply = () => ({ status: 200, headers: { "content-type": "application/json" }, body: '{"\\u006fk":false,"error":"ratelimited"}' });
  r = await call("search.retrieve", { id: ["1"] });
  assert.equal(r.error?.code, "upstream_error", JSON.stringify(r));
  assert.equal(r.error.message, "ratelimited");
  // `ok: true`, another value, or no `ok` at all: a success, as the body says.
  for (const json of [{ ok: true, error: "none" }, { ok: "false" }, { id: 7 }, [{ ok: false }], { nested: { ok: false } }]) {
    upstream.reply = () => ({ status: 200, json });
    r = await call("search.retrieve", { id: ["1"] });
    assert.equal(r.ok, true, JSON.stringify(json));
    assert.deepEqual(r.result, json);
    assert.equal(r.receipt.verdict, "pass");
  }
  upstream.requests.length = 0;
});

test("credential parameters: filled from their handles wherever each operation declares them, once, beside the scheme's key", async () => {
  upstream.reply = () => ({ status: 200, json: { id: 7 } });
  let r = await call("token.query.retrieve", { q: "a b" });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  let req = upstream.take();
  assert.equal(req.url, `/v1/token/query?q=a%20b&token=${strict(PARAM_TOKEN)}`);
  assert.deepEqual(new URL(req.url, "http://x").searchParams.getAll("token"), [PARAM_TOKEN]);
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);

  r = await call("token.header.retrieve");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  req = upstream.take();
  assert.equal(req.headers.token, PARAM_TOKEN);
  assert.equal(req.url, "/v1/token/header");

  r = await call("token.cookie.retrieve");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  req = upstream.take();
  assert.equal(req.headers.cookie, `token=${strict(PARAM_TOKEN)}`);
  assert.equal(decodeURIComponent(req.headers.cookie.slice("token=".length)), PARAM_TOKEN);

  r = await call("token.form.create", { text: "hi there" });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  req = upstream.take();
  assert.equal(req.headers["content-type"], "application/x-www-form-urlencoded");
  assert.deepEqual(parseQs(req.body), { text: ["hi there"], token: [PARAM_TOKEN] });

  r = await call("token.json.create", { text: "hi" });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  req = upstream.take();
  assert.deepEqual(JSON.parse(req.body), { text: "hi", token: PARAM_TOKEN });
  // Alone: the body is the credential's.
  r = await call("token.json.create");
  assert.deepEqual(JSON.parse(upstream.take().body), { token: PARAM_TOKEN });

  // Made of two parameters from two handles.
  r = await call("token.pair.retrieve");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  req = upstream.take();
  assert.equal(req.url, `/v1/token/pair?key=${strict(PARAM_KEY)}`);
  assert.equal(req.headers.token, PARAM_TOKEN);
});

test("credential parameters are never the caller's, travel with no per-call key, and an unset handle is missing_credential", async () => {
  for (const [method, params] of [["token.query.retrieve", { token: "attacker" }], ["token.form.create", { text: "x", token: "attacker" }], ["token.json.create", { token: "attacker" }], ["token.pair.retrieve", { key: "attacker" }]]) {
    const r = await call(method, params);
    assert.equal(r.error?.code, "unknown_parameter", `${method}: ${JSON.stringify(r.error)}`);
  }
  // Nor under cover: an exploded form object's member, or an open JSON body's extra key.
  let r = await call("token.form.create", { text: "x", meta: { token: "attacker" } });
  assert.equal(r.error?.code, "invalid_argument", JSON.stringify(r.error));
  r = await call("token.json.create", { text: "x", extra: 1, token: "attacker" });
  assert.equal(r.error?.code, "unknown_parameter", JSON.stringify(r.error));
  assert.equal(upstream.requests.length, 0);
  r = await call("token.form.create", { text: "x", meta: { a: "1" } });
  assert.deepEqual(parseQs(upstream.take().body), { text: ["x"], a: ["1"], token: [PARAM_TOKEN] });
  r = await call("token.json.create", { extra: 1 });
  assert.deepEqual(JSON.parse(upstream.take().body), { extra: 1, token: PARAM_TOKEN });
  r = await call("token.header.retrieve", { auth: { apiKey: "sk_test_CANARYtenant000" } });
  assert.equal(r.error?.code, "invalid_argument", JSON.stringify(r.error));
  assert.match(r.error.message, /WIRE_PARAM_TOKEN/);
  const bare = await wire.batch([{ target: "CAP_NO_PARAM", call: "token.header.retrieve", args: [] }]);
  assert.equal(bare[0].value.error.code, "missing_credential", JSON.stringify(bare[0]));
  assert.match(bare[0].value.error.message, /WIRE_PARAM_TOKEN/);
  assert.equal(upstream.requests.length, 0);
  // They are in no declaration a caller reads.
  const { readFileSync } = await import("node:fs");
  const types = readFileSync(new URL("../generated/wire/index.d.ts", import.meta.url), "utf8");
  assert.doesNotMatch(types, /[{;] (token|key)\??:/);
  assert.ok(types.includes("create(params?: { text?: string; [key: string]: unknown } | null, options?: O)"), "token.json.create without its token");
  assert.ok(types.includes("create(params: { meta?: Record<string, string>; text: string }, options?: O)"), "token.form.create without its token");
  const methods = readFileSync(new URL("../generated/wire/methods.txt", import.meta.url), "utf8");
  assert.match(methods, /^token\.header\.retrieve\(options\?\)/m);
});

test("credential parameters echoed by the upstream, in every form in every place, reach no caller", async () => {
  const windows = windowsOf(CANARIES);
  const leaks = [];
  for (const value of [PARAM_TOKEN, PARAM_KEY]) {
    for (const [place, answer] of Object.entries(PLACES)) {
      for (const [name, form] of echoForms(value)) {
        upstream.reply = () => answer(form, value);
        const envelope = await wire.call("token.pair.retrieve");
        for (const leak of findLeaks(envelope, [], windows)) leaks.push({ place, form: name, ...leak });
        if (JSON.stringify(envelope).includes(value)) leaks.push({ place, form: name, raw: true });
      }
    }
  }
  upstream.requests.length = 0;
  assert.deepEqual(leaks, []);
});

test("credential parameters beside a cookie scheme's key: one Cookie header holding both", async () => {
  const r = await call("named.cookie.retrieve");
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const req = upstream.take();
  // One header (two would arrive joined by a comma, which no cookie parser splits).
  assert.equal(req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === "cookie").length, 1, JSON.stringify(req.rawHeaders));
  assert.equal(req.headers.cookie, `sid=${SID}; token=${strict(PARAM_TOKEN)}`);
  const jar = Object.fromEntries(req.headers.cookie.split("; ").map((c) => [c.slice(0, c.indexOf("=")), decodeURIComponent(c.slice(c.indexOf("=") + 1))]));
  assert.deepEqual(jar, { sid: SID, token: PARAM_TOKEN });
  assert.equal(req.headers.authorization, undefined, "the bearer is another scheme's");
});

test("query credentials: a query scheme's key and credential parameters all join the one query string, each once", async () => {
  // Two credential parameters of [auth], both in the query, after the call's own.
  let r = await call("token.both.retrieve", { q: "a b" });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  let req = upstream.take();
  assert.equal(req.url, `/v1/token/both?q=a%20b&key=${strict(PARAM_KEY)}&token=${strict(PARAM_TOKEN)}`);
  let query = req.url.split("?").slice(1);
  assert.equal(query.length, 1, "one `?`");
  assert.deepEqual(parseQs(query[0]), { q: ["a b"], key: [PARAM_KEY], token: [PARAM_TOKEN] });
  // None of the call's own: the first credential opens the query.
  r = await call("token.both.retrieve");
  req = upstream.take();
  assert.equal(req.url, `/v1/token/both?key=${strict(PARAM_KEY)}&token=${strict(PARAM_TOKEN)}`);
  // A query scheme's key beside two credential parameters, `token` the named scheme's own handle.
  r = await call("named.query.retrieve", { q: "x" });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  req = upstream.take();
  assert.equal(req.url, `/v1/named/query?q=x&api_key=${strict(QUERY_KEY)}&key=${strict(PARAM_KEY)}&token=${strict(QUERY_TOKEN)}`);
  query = req.url.split("?").slice(1);
  assert.equal(query.length, 1, "one `?`");
  const expected = { q: ["x"], api_key: [QUERY_KEY], key: [PARAM_KEY], token: [QUERY_TOKEN] };
  assert.deepEqual(parseQs(query[0]), expected);
  assert.deepEqual(searchParams(query[0]), expected);
  assert.equal(req.headers.authorization, undefined);
  // Not the caller's, under the named scheme either.
  r = await call("named.query.retrieve", { token: "attacker" });
  assert.equal(r.error?.code, "unknown_parameter", JSON.stringify(r.error));
  assert.equal(upstream.requests.length, 0);
  // The receipt's URL is the template: no credential there.
  r = await call("named.query.retrieve");
  upstream.take();
  assert.ok(!JSON.stringify(r.receipt).includes("api_key="), JSON.stringify(r.receipt));
});

test("a named scheme's credential parameters: from its own handles on its operations, echoes of them reach no caller", async () => {
  const windows = windowsOf(CANARIES);
  const leaks = [];
  for (const value of [QUERY_TOKEN, QUERY_KEY, SID]) {
    for (const [place, answer] of Object.entries(PLACES)) {
      for (const [name, form] of echoForms(value)) {
        upstream.reply = () => answer(form, value);
        const envelope = await wire.call(value === SID ? "named.cookie.retrieve" : "named.query.retrieve");
        for (const leak of findLeaks(envelope, [], windows)) leaks.push({ place, form: name, ...leak });
        if (JSON.stringify(envelope).includes(value)) leaks.push({ place, form: name, raw: true });
      }
    }
  }
  upstream.requests.length = 0;
  assert.deepEqual(leaks, []);
  // The types hold none of them.
  const { readFileSync } = await import("node:fs");
  const methods = readFileSync(new URL("../generated/wire/methods.txt", import.meta.url), "utf8");
  assert.match(methods, /^named\.query\.retrieve\(params\?, options\?\)/m);
});

test("per-call credential parameters (options.auth.params): each replaces the deployment's for the call, scanned for like a per-call key", async () => {
  const windows = windowsOf(CANARIES);
  const checked = async (...args) => {
    const envelope = await wire.call(...args);
    assert.deepEqual(findLeaks(envelope, [], windows), [], args[0]);
    for (const c of [CALL_TOKEN, CALL_KEY, TENANT]) assert.ok(!JSON.stringify(envelope).includes(c), args[0]);
    return envelope;
  };
  // Alone: beside the deployment's bearer and its `key`.
  upstream.reply = (req) => ({ status: 200, json: { echo: req.headers.token, url: req.url } });
  let r = await checked("token.header.retrieve", { auth: { params: { token: CALL_TOKEN } } });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  let req = upstream.take();
  assert.equal(req.headers.token, CALL_TOKEN);
  assert.equal(req.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(r.result.echo, "[REDACTED]");
  r = await checked("token.pair.retrieve", { auth: { params: { token: CALL_TOKEN } } });
  req = upstream.take();
  assert.equal(req.url, `/v1/token/pair?key=${strict(PARAM_KEY)}`);
  assert.equal(req.headers.token, CALL_TOKEN);
  // In the body, and in the one query string beside a query scheme's key (the named scheme's own).
  upstream.reply = () => ({ status: 200, json: { id: 7 } });
  r = await checked("token.json.create", { text: "hi" }, { auth: { params: { token: CALL_TOKEN } } });
  assert.deepEqual(JSON.parse(upstream.take().body), { text: "hi", token: CALL_TOKEN });
  r = await checked("named.query.retrieve", { auth: { params: { token: CALL_TOKEN, key: CALL_KEY } } });
  assert.equal(upstream.take().url, `/v1/named/query?api_key=${strict(QUERY_KEY)}&key=${strict(CALL_KEY)}&token=${strict(CALL_TOKEN)}`);
  // With a tenant's key: every credential parameter the method declares comes with it.
  r = await checked("token.pair.retrieve", { auth: { apiKey: TENANT, params: { token: CALL_TOKEN, key: CALL_KEY } } });
  assert.equal(r.ok, true, JSON.stringify(r.error));
  req = upstream.take();
  assert.equal(req.headers.authorization, `Bearer ${TENANT}`);
  assert.equal(req.url, `/v1/token/pair?key=${strict(CALL_KEY)}`);
  assert.equal(req.headers.token, CALL_TOKEN);
  r = await checked("token.pair.retrieve", { auth: { apiKey: TENANT, params: { token: CALL_TOKEN } } });
  assert.equal(r.error?.code, "invalid_argument", JSON.stringify(r.error));
  assert.match(r.error.message, /`key`/);
  // A name the provider has but the method does not declare goes unused; one it does not have,
  // or a value no header could carry, is refused before any request.
  r = await checked("token.header.retrieve", { auth: { params: { token: CALL_TOKEN, key: CALL_KEY } } });
  assert.equal(upstream.take().headers.token, CALL_TOKEN);
  for (const params of [{ tokn: CALL_TOKEN }, { token: 7 }, { token: `${CALL_TOKEN}\n` }, { token: "" }]) {
    r = await checked("token.header.retrieve", { auth: { params } });
    assert.equal(r.error?.code, "invalid_argument", JSON.stringify(params));
  }
  assert.equal(upstream.requests.length, 0);
  // An unset handle: a per-call value fills it; without one it stays missing_credential.
  const [given, bare] = await wire.batch([
    { target: "CAP_NO_PARAM", call: "token.header.retrieve", args: [{ auth: { params: { token: CALL_TOKEN } } }] },
    { target: "CAP_NO_PARAM", call: "token.header.retrieve", args: [] },
  ]);
  assert.equal(given.value.ok, true, JSON.stringify(given));
  assert.equal(upstream.take().headers.token, CALL_TOKEN);
  assert.equal(bare.value.error.code, "missing_credential", JSON.stringify(bare));
  assert.match(bare.value.error.message, /WIRE_PARAM_TOKEN/);
  // Echoed by a hostile upstream in every form, in every place: none of it reaches the caller.
  const leaks = [];
  for (const [place, answer] of Object.entries(PLACES)) {
    for (const [name, form] of echoForms(CALL_TOKEN)) {
      upstream.reply = () => answer(form, CALL_TOKEN);
      const envelope = await wire.call("token.header.retrieve", { auth: { params: { token: CALL_TOKEN } } });
      for (const leak of findLeaks(envelope, [], windows)) leaks.push({ place, form: name, ...leak });
      if (JSON.stringify(envelope).includes(CALL_TOKEN)) leaks.push({ place, form: name, raw: true });
    }
  }
  upstream.requests.length = 0;
  assert.deepEqual(leaks, []);
});

/**
 * The multipart body the upstream received, parsed by Python's `email` package (no defects
 * allowed): each part's name, file name, Content-Type as sent (null: none) and bytes (latin1).
 */
function mimeParts(req) {
  const script = [
    "import sys, json, email, email.policy",
    "ct = sys.argv[1].encode()",
    "msg = email.message_from_bytes(b'Content-Type: ' + ct + b'\\r\\n\\r\\n' + sys.stdin.buffer.read(), policy=email.policy.HTTP)",
    "assert msg.is_multipart() and not msg.defects, msg.defects",
    "print(json.dumps([[p.get_param('name', header='content-disposition'), p.get_filename(), dict((k.lower(), v) for k, v in p.raw_items()).get('content-type'), p.get_payload(decode=True).decode('latin1')] for p in msg.iter_parts()]))",
  ].join("\n");
  return JSON.parse(execFileSync("python3", ["-c", script, req.headers["content-type"]], { input: req.raw }).toString());
}

test("multipart: a field whose encoding gives a contentType is a text part of that type, framed with a boundary no caller sees", async () => {
  const note = 'h\u00e9llo "q"\r\nline';
  // `doc`'s encoding types it application/pdf: a file the caller left untyped takes that type.
  const params = { meta: { a: "x y" }, note, rows: ["a,b", "c"], plain: "p", file: bytes("PNG\x00\r\n--x", { type: "image/png", as: "Blob" }), either: "e", doc: bytes("%PDF-1.7", { as: "Blob" }) };
  const r = await call("typed.create", params);
  assert.equal(r.ok, true, JSON.stringify(r.error));
  const req = upstream.take();
  const boundary = req.headers["content-type"].match(/^multipart\/form-data; boundary=(capa[0-9a-f]{32})$/)?.[1];
  assert.ok(boundary, req.headers["content-type"]);
  const utf8 = (s) => Buffer.from(s, "utf8").toString("latin1");
  assert.deepEqual(mimeParts(req), [
    ["meta", null, "application/json", '{"a":"x y"}'],
    ["note", null, "text/plain; charset=utf-8", utf8(note)],
    ["rows", null, "text/csv", "a,b"],
    ["rows", null, "text/csv", "c"],
    ["plain", null, null, "p"],
    ["file", "file", "image/png", "PNG\x00\r\n--x"],
    // A list of types names no one type a text part could say it is: untyped.
    ["either", null, null, "e"],
    ["doc", "doc", "application/pdf", "%PDF-1.7"],
  ]);
  // The platform's own parser reads it alike: text parts are strings, the file a file.
  const form = await formData(req);
  assert.equal(form.get("meta"), '{"a":"x y"}');
  assert.equal(form.get("note"), note);
  assert.deepEqual(form.getAll("rows"), ["a,b", "c"]);
  assert.equal(form.get("file").type, "image/png");
  assert.equal(form.get("doc").type, "application/pdf");
  // A fresh boundary per request; a value holding what looks like a part's end stays inside it.
  const hostile = `x\r\n--${boundary}\r\nContent-Disposition: form-data; name="plain"\r\n\r\nsmuggled`;
  await call("typed.create", { note: hostile, plain: "p" });
  const again = upstream.take();
  assert.notEqual(again.headers["content-type"], req.headers["content-type"]);
  assert.deepEqual(mimeParts(again).map(([name, , type, text]) => [name, type, text]), [["note", "text/plain; charset=utf-8", hostile], ["plain", null, "p"]]);
  // A body with no typed field given goes as FormData, as every other multipart body does.
  await call("typed.create", { plain: "p", either: "e" });
  const plain = upstream.take();
  assert.doesNotMatch(plain.headers["content-type"], /boundary=capa/);
  assert.deepEqual(mimeParts(plain).map(([name, , type, text]) => [name, type, text]), [["plain", null, "p"], ["either", null, "e"]]);
});
