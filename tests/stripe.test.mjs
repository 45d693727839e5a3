// The Stripe capability, built as deployed, called over a service binding from a caller Worker,
// against a recording upstream on 127.0.0.1. Each case asserts the exact upstream request and the
// envelope the caller got; canary credentials must appear nowhere but upstream.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { ACCOUNT, CANARY, startUpstream, startWorkers, assertNoCanary } from "./harness.mjs";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
let upstream, cap;

before(async () => {
  upstream = await startUpstream();
  cap = await startWorkers({
    provider: "stripe",
    bindings: { STRIPE_API_KEY: CANARY.secret, CAPA_LOOPBACK_ORIGIN: upstream.origin },
  });
});
after(async () => {
  assertNoCanary(assert, cap.logs, "the Worker's console output");
  await cap.dispose();
  await upstream.close();
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.reply = () => ({ status: 200, json: { id: "cus_123", object: "customer" }, headers: { "request-id": "req_ok1" } });
});

/** Calls and checks no credential reached the caller. */
async function call(dotted, ...args) {
  const envelope = await cap.call(dotted, ...args);
  assertNoCanary(assert, envelope, `the envelope of ${dotted}`);
  return envelope;
}

function stripeHeaders(request, authorization) {
  assert.equal(request.headers.authorization, authorization);
  assert.equal(request.headers["stripe-version"], "2024-04-10");
  assert.equal(request.headers["user-agent"], "capa-rs/0.1");
  assert.equal(request.headers.accept, "application/json");
}

test("retrieve with the Worker secret: exact request, result and receipt", async () => {
  const r = await call("customers.retrieve", "cus_123");
  const req = upstream.take();
  assert.equal(req.method, "GET");
  assert.equal(req.url, "/v1/customers/cus_123");
  stripeHeaders(req, `Bearer ${CANARY.secret}`);
  assert.equal(req.headers["content-type"], undefined);
  assert.equal(req.body, "");

  assert.equal(r.ok, true);
  assert.deepEqual(r.result, { id: "cus_123", object: "customer" });
  const { startedAt, durationMs, callId, tries, ...rest } = r.receipt;
  assert.match(startedAt, ISO);
  assert.ok(Number.isInteger(durationMs) && durationMs >= 0);
  assert.match(callId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(tries.length, 1);
  assert.deepEqual({ ...tries[0], ms: 0 }, { status: 200, ms: 0, waitedMs: 0 });
  assert.deepEqual(rest, {
    capability: "stripe",
    operation: "GetCustomersCustomer",
    call: "customers.retrieve",
    method: "GET",
    path: "/v1/customers/{customer}",
    status: 200,
    requestId: "req_ok1",
    attempts: 1,
    credential: "secret",
    refreshed: false,
    verdict: "pass",
    idempotencyKey: null,
    pages: null,
  });
});

test("a trailing params object goes to the query; deepObject arrays as expand[]", async () => {
  await call("customers.retrieve", "cus_123", { expand: ["sources", "default_source"] });
  assert.equal(upstream.take().url, "/v1/customers/cus_123?expand[]=sources&expand[]=default_source");

  await call("customers.list", { limit: 3, expand: ["data.default_source"], created: { gte: 1690000000, lt: 1700000000 }, email: "a+b@c.d" });
  const req = upstream.take();
  assert.equal(req.method, "GET");
  assert.equal(req.url, "/v1/customers?limit=3&expand[]=data.default_source&created[gte]=1690000000&created[lt]=1700000000&email=a%2Bb%40c.d");
  assert.equal(req.body, "");
});

test("per-call apiKey replaces the secret for that call only", async () => {
  const r = await call("customers.retrieve", "cus_123", { auth: { apiKey: CANARY.callKey } });
  stripeHeaders(upstream.take(), `Bearer ${CANARY.callKey}`);
  assert.equal(r.receipt.credential, "call");

  await call("customers.retrieve", "cus_123");
  stripeHeaders(upstream.take(), `Bearer ${CANARY.secret}`);
});

test("params, then options: both honoured", async () => {
  const r = await call("customers.retrieve", "cus_123", { expand: ["sources"] }, { auth: { apiKey: CANARY.callKey } });
  const req = upstream.take();
  assert.equal(req.url, "/v1/customers/cus_123?expand[]=sources");
  stripeHeaders(req, `Bearer ${CANARY.callKey}`);
  assert.equal(r.receipt.credential, "call");
  // undefined params (null over the wire) with options after them
  await call("customers.retrieve", "cus_123", null, { auth: { apiKey: CANARY.callKey } });
  assert.equal(upstream.take().url, "/v1/customers/cus_123");
});

test("allow-listed per-call headers pass, matched case-insensitively", async () => {
  const r = await call("customers.retrieve", "cus_123", { auth: { headers: { "stripe-account": ACCOUNT } } });
  const req = upstream.take();
  assert.equal(req.headers["stripe-account"], ACCOUNT);
  stripeHeaders(req, `Bearer ${CANARY.secret}`);
  assert.equal(r.ok, true);
  assert.ok(!JSON.stringify(r.receipt).includes(ACCOUNT), "no header value in the receipt");
});

test("headers outside the allow-list are refused before any upstream call", async () => {
  for (const name of ["X-Forwarded-Host", "Authorization", "Stripe-Version", "Host"]) {
    const r = await call("customers.retrieve", "cus_123", { auth: { headers: { [name]: "x" } } });
    assert.equal(r.ok, false);
    assert.equal(r.error.code, "header_not_allowed");
    assert.equal(r.error.message, `header \`${name}\` may not be set per call; allowed: Stripe-Account, Stripe-Context`);
    assert.equal(r.receipt.attempts, 0);
    assert.equal(r.receipt.status, null);
    assert.equal(r.receipt.verdict, "fail");
  }
  assert.equal(upstream.requests.length, 0);
});

test("form bodies: nested objects and arrays in bracket form, exact bytes", async () => {
  upstream.reply = () => ({ status: 200, json: { id: "pi_1", object: "payment_intent", amount: 2500 } });
  const r = await call("paymentIntents.create", {
    amount: 2500,
    currency: "usd",
    metadata: { order_id: "A 1", note: "x&y=z" },
    payment_method_types: ["card", "link"],
    shipping: { name: "Jo", address: { line1: "1 Main St", city: "Zürich" } },
    description: "",
  });
  const req = upstream.take();
  assert.equal(req.method, "POST");
  assert.equal(req.url, "/v1/payment_intents");
  assert.equal(req.headers["content-type"], "application/x-www-form-urlencoded");
  stripeHeaders(req, `Bearer ${CANARY.secret}`);
  assert.equal(
    req.body,
    "amount=2500&currency=usd&metadata[order_id]=A%201&metadata[note]=x%26y%3Dz&payment_method_types[0]=card&payment_method_types[1]=link" +
      "&shipping[name]=Jo&shipping[address][line1]=1%20Main%20St&shipping[address][city]=Z%C3%BCrich&description=",
  );
  assert.deepEqual(r.result, { id: "pi_1", object: "payment_intent", amount: 2500 });
  assert.equal(r.receipt.operation, "PostPaymentIntents");
  assert.equal(r.receipt.call, "paymentIntents.create");
});

test("update, action and del build the documented requests", async () => {
  await call("customers.update", "cus_123", { email: "a@b.c", metadata: { tier: "gold" } });
  let req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "POST /v1/customers/cus_123");
  assert.equal(req.body, "email=a%40b.c&metadata[tier]=gold");

  await call("paymentIntents.confirm", "pi_1", { payment_method: "pm_card_visa" });
  req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "POST /v1/payment_intents/pi_1/confirm");
  assert.equal(req.body, "payment_method=pm_card_visa");

  // DELETE declares an empty form body in the spec: none is sent.
  upstream.reply = () => ({ status: 200, json: { id: "cus_123", object: "customer", deleted: true } });
  const r = await call("customers.del", "cus_123");
  req = upstream.take();
  assert.equal(`${req.method} ${req.url}`, "DELETE /v1/customers/cus_123");
  assert.equal(req.body, "");
  assert.equal(req.headers["content-type"], undefined);
  assert.equal(r.result.deleted, true);

  // A nested resource, with two path parameters in order.
  await call("customers.balanceTransactions.retrieve", "cus_123", "cbtxn_9");
  assert.equal(upstream.take().url, "/v1/customers/cus_123/balance_transactions/cbtxn_9");
});

test("path parameters are encoded so no value leaves its segment or changes the host", async () => {
  await call("customers.retrieve", "cus_1/../../v1/charges?x=1#frag");
  assert.equal(upstream.take().url, "/v1/customers/cus_1%2F..%2F..%2Fv1%2Fcharges%3Fx%3D1%23frag");
  await call("customers.retrieve", "@evil.example:80\\x y");
  assert.equal(upstream.take().url, "/v1/customers/%40evil.example%3A80%5Cx%20y");
  await call("customers.retrieve", "%2e%2e");
  assert.equal(upstream.take().url, "/v1/customers/%252e%252e");
});

test("dot segments, empty and non-scalar path values are refused with no upstream call", async () => {
  for (const bad of ["..", ".", "", null, { id: 1 }, ["a"], true]) {
    const r = await call("customers.retrieve", bad);
    assert.equal(r.ok, false, JSON.stringify(bad));
    assert.equal(r.error.code, "invalid_argument", JSON.stringify(bad));
  }
  const r = await call("customers.retrieve");
  assert.equal(r.error.code, "invalid_argument");
  assert.match(r.error.message, /customers\.retrieve takes 1 path argument\(s\) \(customer\)/);
  assert.equal(upstream.requests.length, 0);
});

test("unknown parameters are refused, named, before any upstream call", async () => {
  let r = await call("customers.list", { limit: 3, bogus: 1, also: "x" });
  assert.equal(r.error.code, "unknown_parameter");
  assert.equal(r.error.message, "customers.list does not accept parameter(s) `bogus`, `also`");
  r = await call("customers.update", "cus_123", { customer: "cus_other" });
  assert.equal(r.error.code, "unknown_parameter");
  assert.match(r.error.message, /path parameters are positional/);
  r = await call("customers.del", "cus_123", { expand: ["x"] });
  assert.equal(r.error.code, "unknown_parameter");
  r = await call("paymentIntents.create", { currency: "usd" });
  assert.equal(r.error.code, "invalid_argument");
  assert.equal(r.error.message, "paymentIntents.create requires parameter(s) `amount`");
  r = await call("customers.retrieve", "cus_123", { auth: { apiKey: CANARY.callKey, retries: 3 } });
  assert.equal(r.error.code, "invalid_argument");
  assert.equal(upstream.requests.length, 0);
});

test("upstream 4xx: typed error with Stripe's error object", async () => {
  upstream.reply = () => ({
    status: 402,
    headers: { "request-id": "req_declined" },
    json: { error: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds.", param: "" } },
  });
  const r = await call("paymentIntents.confirm", "pi_1", { payment_method: "pm_card_chargeDeclinedInsufficientFunds" });
  upstream.take();
  assert.equal(r.ok, false);
  assert.deepEqual(r.error, {
    code: "upstream_error",
    message: "Your card has insufficient funds.",
    status: 402,
    upstream: { type: "card_error", code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds.", param: "" },
  });
  assert.equal(r.receipt.status, 402);
  assert.equal(r.receipt.requestId, "req_declined");
  assert.equal(r.receipt.verdict, "fail");
});

test("upstream 5xx: typed error with the body it sent", async () => {
  upstream.reply = () => ({ status: 503, headers: { "content-type": "text/html" }, body: "<h1>Service Unavailable</h1>" });
  const r = await call("customers.retrieve", "cus_123");
  assert.deepEqual(r.error, { code: "upstream_error", message: "upstream answered HTTP 503", status: 503, upstream: "<h1>Service Unavailable</h1>" });
  assert.equal(r.receipt.status, 503);
});

test("credentials echoed back by the upstream are redacted, in results and errors", async () => {
  upstream.reply = (req) => ({ status: 200, json: { echo: req.headers.authorization, account: req.headers["stripe-account"] } });
  let r = await call("customers.retrieve", "cus_123", { auth: { headers: { "Stripe-Account": ACCOUNT } } });
  // The key is scrubbed; the connected account's id is context, and stays.
  assert.deepEqual(r.result, { echo: "Bearer [REDACTED]", account: ACCOUNT });

  upstream.reply = (req) => ({ status: 401, json: { error: { type: "invalid_request_error", message: `Invalid API Key provided: ${req.headers.authorization.slice(7)}` } } });
  r = await call("customers.retrieve", "cus_123", { auth: { apiKey: CANARY.callKey } });
  assert.equal(r.error.message, "Invalid API Key provided: [REDACTED]");
  assert.equal(r.error.upstream.message, "Invalid API Key provided: [REDACTED]");

  upstream.reply = (req) => ({ status: 200, headers: { "content-type": "text/plain" }, body: `you sent ${req.headers.authorization}` });
  r = await call("customers.retrieve", "cus_123");
  assert.equal(r.result, "you sent Bearer [REDACTED]");
});

test("204 gives null, text gives a string", async () => {
  upstream.reply = () => ({ status: 204 });
  assert.equal((await call("customers.retrieve", "cus_123")).result, null);
  upstream.reply = () => ({ status: 200, headers: { "content-type": "text/plain" }, body: "plain words" });
  assert.equal((await call("customers.retrieve", "cus_123")).result, "plain words");
});

test("redirects are followed within the origin only", async () => {
  upstream.reply = (req) =>
    req.url === "/v1/customers/cus_old" ? { status: 307, headers: { location: "/v1/customers/cus_new" } } : { status: 200, json: { id: "cus_new" } };
  let r = await call("customers.retrieve", "cus_old");
  assert.equal(r.result.id, "cus_new");
  assert.equal(r.receipt.attempts, 2);
  const [first, second] = upstream.requests.splice(0);
  assert.equal(first.url, "/v1/customers/cus_old");
  assert.equal(second.url, "/v1/customers/cus_new");
  assert.equal(second.headers.authorization, `Bearer ${CANARY.secret}`);

  upstream.reply = () => ({ status: 302, headers: { location: "https://evil.example/collect" } });
  r = await call("customers.retrieve", "cus_123");
  upstream.take();
  assert.equal(r.error.code, "upstream_redirect");
  assert.equal(r.error.status, 302);
  assert.deepEqual(r.error.upstream, { location: "https://evil.example/collect" });
});

test("a Worker without the secret refuses with missing_credential and no upstream call", async () => {
  const bare = await startWorkers({ provider: "stripe", bindings: { CAPA_LOOPBACK_ORIGIN: upstream.origin } });
  try {
    const r = await bare.call("customers.retrieve", "cus_123");
    assert.equal(r.ok, false);
    assert.equal(r.error.code, "missing_credential");
    assert.equal(r.error.message, "no credential for stripe: set the Worker secret with `wrangler secret put STRIPE_API_KEY --env stripe`, or pass options.auth.apiKey");
    assert.equal(upstream.requests.length, 0);
    const ok = await bare.call("customers.retrieve", "cus_123", { auth: { apiKey: CANARY.callKey } });
    assert.equal(ok.receipt.credential, "call");
    stripeHeaders(upstream.take(), `Bearer ${CANARY.callKey}`);
    assertNoCanary(assert, [r, ok, bare.logs], "envelopes and logs");
  } finally {
    await bare.dispose();
  }
});

test("a panic in the runtime still answers with an envelope, and the next call works", async () => {
  const faulty = await startWorkers({
    provider: "stripe",
    bindings: { STRIPE_API_KEY: CANARY.secret, CAPA_LOOPBACK_ORIGIN: upstream.origin, CAPA_FAULT_INJECTION: "panic:customers.retrieve" },
  });
  try {
    const r = await faulty.call("customers.retrieve", "cus_123", { auth: { apiKey: CANARY.callKey } });
    assert.equal(r.ok, false);
    assert.equal(r.error.code, "internal");
    assert.equal(r.receipt.call, "customers.retrieve");
    assert.equal(r.receipt.verdict, "fail");
    assert.equal(upstream.requests.length, 0);
    assert.ok(faulty.logs.some((l) => l.includes("fault injection")), "the panic is in the Worker's log");
    const next = await faulty.call("customers.list", { limit: 1 });
    assert.equal(next.ok, true);
    assert.equal(upstream.take().url, "/v1/customers?limit=1");
    assertNoCanary(assert, [r, next, faulty.logs], "envelopes and logs");
  } finally {
    await faulty.dispose();
  }
});

test("an unreachable upstream gives upstream_unreachable", async () => {
  const closed = await startUpstream();
  await closed.close();
  const lonely = await startWorkers({ provider: "stripe", bindings: { STRIPE_API_KEY: CANARY.secret, CAPA_LOOPBACK_ORIGIN: closed.origin } });
  try {
    // A GET is tried again after a failed connection (src/retry.rs): three tries in all.
    const r = await lonely.call("customers.retrieve", "cus_123");
    assert.equal(r.ok, false);
    assert.equal(r.error.code, "upstream_unreachable");
    assert.equal(r.receipt.status, null);
    assert.equal(r.receipt.attempts, 3);
    assert.deepEqual(r.receipt.tries.map((t) => t.failure), ["unreachable", "unreachable", "unreachable"]);
    assertNoCanary(assert, [r, lonely.logs], "envelope and logs");
  } finally {
    await lonely.dispose();
  }
});

test("deployed config calls https://api.stripe.com; a non-loopback override is ignored", async () => {
  const seen = [];
  const outboundService = async (request) => {
    seen.push({ url: request.url, authorization: request.headers.get("authorization") });
    return Response.json({ id: "cus_123" }, { headers: { "request-id": "req_real" } });
  };
  for (const override of [undefined, "https://evil.example", "http://127.0.0.1.evil.example:80", "http://localhost:80/path"]) {
    const bindings = { STRIPE_API_KEY: CANARY.secret, ...(override ? { CAPA_LOOPBACK_ORIGIN: override } : {}) };
    const real = await startWorkers({ provider: "stripe", bindings, outboundService });
    try {
      const r = await real.call("customers.retrieve", "cus_123", { expand: ["sources"] });
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.receipt.requestId, "req_real");
    } finally {
      await real.dispose();
    }
  }
  assert.equal(seen.length, 4);
  for (const s of seen) {
    assert.equal(s.url, "https://api.stripe.com/v1/customers/cus_123?expand[]=sources");
    assert.equal(s.authorization, `Bearer ${CANARY.secret}`);
  }
});

test("a success whose JSON media type comes with something else is upstream_invalid_body, credentials redacted", async () => {
  upstream.reply = () => ({ status: 200, headers: { "content-type": "application/json; charset=utf-8", "request-id": "req_bad" }, body: "<html>oops</html>" });
  let r = await call("customers.retrieve", "cus_123");
  assert.equal(r.ok, false);
  assert.deepEqual(r.error, {
    code: "upstream_invalid_body",
    message: "the upstream answered 200 as application/json with a body that does not parse as JSON",
    status: 200,
    upstream: "<html>oops</html>",
  });
  assert.equal(r.receipt.verdict, "fail");
  assert.equal(r.receipt.status, 200);
  assert.equal(r.receipt.requestId, "req_bad");
  assert.equal(r.receipt.call, "customers.retrieve");
  // With the key in it, the runtime reads it and redacts it.
  upstream.reply = (req) => ({ status: 201, headers: { "content-type": "application/json" }, body: `{"echo":"${req.headers.authorization}"` });
  r = await call("customers.retrieve", "cus_123");
  assert.equal(r.error.code, "upstream_invalid_body");
  assert.equal(r.error.status, 201);
  assert.equal(r.error.upstream, '{"echo":"Bearer [REDACTED]"');
});
