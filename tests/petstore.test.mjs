// The Petstore capability: a second provider from data alone. JSON bodies, an API key in a
// header, a relative server resolved by the manifest, operations without security, and the
// documented names (`pet.retrieve(7)`).
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { CANARY, startUpstream, startWorkers, assertNoCanary } from "./harness.mjs";

let upstream, cap;

before(async () => {
  upstream = await startUpstream();
  cap = await startWorkers({ provider: "petstore", bindings: { PETSTORE_API_KEY: CANARY.secret, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
});
after(async () => {
  assertNoCanary(assert, cap.logs, "the Worker's console output");
  await cap.dispose();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = () => ({ status: 200, json: { id: 7, name: "doggie", status: "available" } });
});

async function call(dotted, ...args) {
  const envelope = await cap.call(dotted, ...args);
  assertNoCanary(assert, envelope, `the envelope of ${dotted}`);
  return envelope;
}

test("pet.retrieve(7): numeric path value, API key header, server base path kept", async () => {
  const r = await call("pet.retrieve", 7);
  const req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "GET /api/v3/pet/7");
  assert.equal(req.headers.api_key, CANARY.secret);
  assert.equal(req.headers.authorization, undefined);
  assert.equal(req.headers.accept, "application/json");
  assert.deepEqual(r.result, { id: 7, name: "doggie", status: "available" });
  assert.equal(r.receipt.operation, "getPetById");
  assert.equal(r.receipt.path, "/pet/{petId}");
  assert.equal(r.receipt.credential, "secret");
  assert.equal(r.receipt.requestId, null);
});

test("JSON bodies: exact bytes, caller's key order, nested values kept", async () => {
  await call("pet.create", { name: "doggie", photoUrls: ["https://x/1.png"], category: { id: 1, name: "Dogs" }, tags: [{ id: 2, name: "good" }], status: "available" });
  const req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "POST /api/v3/pet");
  assert.equal(req.headers["content-type"], "application/json");
  assert.equal(req.body, '{"name":"doggie","photoUrls":["https://x/1.png"],"category":{"id":1,"name":"Dogs"},"tags":[{"id":2,"name":"good"}],"status":"available"}');
});

test("a JSON array body is the params argument itself", async () => {
  await call("user.createWithList", [{ username: "a" }, { username: "b" }]);
  const req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "POST /api/v3/user/createWithList");
  assert.equal(req.body, '[{"username":"a"},{"username":"b"}]');
  // This operation has no security: the key is not sent where the spec does not ask for it.
  assert.equal(req.headers.api_key, undefined);
});

test("query arrays explode into repeated keys", async () => {
  await call("pet.findByTags", { tags: ["good boy", "small"] });
  assert.equal(upstream.take().url, "/api/v3/pet/findByTags?tags=good%20boy&tags=small");
  await call("pet.findByStatus", { status: "sold" });
  assert.equal(upstream.take().url, "/api/v3/pet/findByStatus?status=sold");
});

test("a raw body beside query params travels under `body`", async () => {
  upstream.reply = () => ({ status: 200, json: { code: 200, type: "ok", message: "uploaded" } });
  await call("pet.uploadImage", 7, { additionalMetadata: "front", body: "RAWBYTES" });
  const req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "POST /api/v3/pet/7/uploadImage?additionalMetadata=front");
  assert.equal(req.headers["content-type"], "application/octet-stream");
  assert.equal(req.body, "RAWBYTES");
});

test("JSON bodies refuse undeclared fields and missing required ones", async () => {
  let r = await call("pet.create", { name: "x", photoUrls: [], owner: "mallory" });
  assert.equal(r.error.code, "unknown_parameter");
  assert.equal(r.error.message, "pet.create does not accept parameter(s) `owner`");
  r = await call("pet.create", { name: "x" });
  assert.equal(r.error.code, "invalid_argument");
  assert.equal(r.error.message, "pet.create requires parameter(s) `photoUrls`");
  r = await call("pet.retrieve", 7, { auth: { headers: { "X-Anything": "1" } } });
  assert.equal(r.error.code, "header_not_allowed");
  assert.equal(r.error.message, "header `X-Anything` may not be set per call; allowed: none");
  assert.equal(upstream.requests.length, 0);
});

test("deployed config resolves the relative server against the manifest's origin", async () => {
  const seen = [];
  const real = await startWorkers({
    provider: "petstore",
    bindings: { PETSTORE_API_KEY: CANARY.secret },
    outboundService: async (request) => {
      seen.push(request.url);
      return Response.json({ id: 7 });
    },
  });
  try {
    const r = await real.call("pet.retrieve", 7);
    assert.equal(r.ok, true);
  } finally {
    await real.dispose();
  }
  assert.deepEqual(seen, ["https://petstore3.swagger.io/api/v3/pet/7"]);
});
