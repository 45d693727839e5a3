// One call, robust (src/retry.rs, docs/contract.md "Retries and deadlines"): the built Workers in
// workerd, called over a service binding, against an upstream on 127.0.0.1 scripted to fail.
// Each test asserts the requests the upstream received and the receipt's `tries`. Waits are
// scaled down by CAPA_LOOPBACK_WAIT_SCALE and attempts by CAPA_LOOPBACK_ATTEMPT_MS (honoured only
// with a loopback origin), never slept through.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers } from "./harness.mjs";
import { findLeaks } from "./security/corpus.mjs";

const SECRET = "sk_test_CANARYretry0000000000000000";
const SCALE = 0.01;
let upstream, stripe, github, petstore;

before(async () => {
  upstream = await startUpstream();
  // Waits a hundredth as long, and an attempt 300 ms instead of 30 s.
  const base = { CAPA_LOOPBACK_ORIGIN: upstream.origin, CAPA_LOOPBACK_WAIT_SCALE: String(SCALE), CAPA_LOOPBACK_ATTEMPT_MS: "300" };
  stripe = await startWorkers({ provider: "stripe", bindings: { ...base, STRIPE_API_KEY: SECRET } });
  github = await startWorkers({ provider: "github", bindings: { ...base, GITHUB_TOKEN: "ghp_CANARYretry000000000000000000000000" } });
  petstore = await startWorkers({ provider: "petstore", bindings: { ...base, PETSTORE_API_KEY: "pk_CANARYretry0000000" } });
  if (process.env.CAPA_SHOW_RECEIPTS) for (const w of [stripe, github, petstore]) shown(w);
});

// CAPA_SHOW_RECEIPTS=1: each call's outcome and receipt on stdout, one JSON line each, under the
// test's name: the figures issue 25's note reports (`node --test tests/retry.test.mjs`).
let current = "";
beforeEach((t) => {
  current = t.name;
});
function shown(workers) {
  const call = workers.call.bind(workers);
  workers.call = async (...args) => {
    const r = await call(...args);
    const error = r.ok ? undefined : { code: r.error.code, status: r.error.status, retryAfterMs: r.error.retryAfterMs, limit: r.error.limit };
    console.log(JSON.stringify({ test: current, op: args[0], ok: r.ok, error, receipt: r.receipt }));
    return r;
  };
}
after(async () => {
  await Promise.all([stripe?.dispose(), github?.dispose(), petstore?.dispose()]);
  await upstream.close();
});

/** Answers the n-th request with `script[n]` (the last one for any after it). */
function script(...answers) {
  upstream.requests.length = 0;
  let n = 0;
  upstream.reply = () => answers[Math.min(n++, answers.length - 1)];
}

const statuses = (r) => r.receipt.tries.map((t) => t.status ?? t.failure);

function noLeak(r) {
  assert.deepEqual(findLeaks(r), [], "nothing of a credential in the envelope");
}

test("a GET answered 503 then 200: two tries, the second after a backoff", async () => {
  script({ status: 503, json: { error: { message: `busy ${SECRET}` } } }, { status: 200, json: { id: "cus_1" } });
  const r = await stripe.call("customers.retrieve", "cus_1");
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual(statuses(r), [503, 200]);
  assert.equal(r.receipt.attempts, 2);
  assert.equal(upstream.requests.length, 2);
  const wait = r.receipt.tries[1].waitedMs;
  assert.ok(wait >= 500 * 0.5 * SCALE - 1 && wait <= 500 * SCALE, `the first backoff, scaled: ${wait}`);
  assert.equal(r.receipt.tries[0].waitedMs, 0);
  assert.match(r.receipt.callId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(r.receipt.idempotencyKey, null, "a GET carries no key");
  noLeak(r);
});

test("maxRetries: 0 answers the first failure", async () => {
  script({ status: 503, json: {} }, { status: 200, json: {} });
  const r = await stripe.call("customers.retrieve", "cus_1", { maxRetries: 0 });
  assert.equal(r.error.code, "upstream_error");
  assert.equal(r.error.status, 503);
  assert.equal(upstream.requests.length, 1);
  assert.deepEqual(statuses(r), [503]);
});

test("429 with Retry-After: 1 is waited for and retried; Retry-After: 120 is answered at once", async () => {
  script({ status: 429, headers: { "retry-after": "1" }, json: {} }, { status: 200, json: {} });
  let r = await stripe.call("customers.retrieve", "cus_1");
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual(statuses(r), [429, 200]);
  assert.equal(r.receipt.tries[1].waitedMs, 1000 * SCALE);

  script({ status: 429, headers: { "retry-after": "120" }, json: { error: { message: "slow down" } } }, { status: 200, json: {} });
  r = await stripe.call("customers.retrieve", "cus_1");
  assert.equal(r.error.code, "rate_limited");
  assert.equal(r.error.stage, "upstream");
  assert.equal(r.error.retryAfterMs, 120_000);
  assert.equal(r.error.status, 429);
  assert.equal(r.error.message, "slow down");
  assert.equal(upstream.requests.length, 1);
});

test("a rate wall (403, x-ratelimit-remaining: 0) is rate_limited with the reset's wait", async () => {
  const reset = Math.floor(Date.now() / 1000) + 3600;
  script({ status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) }, json: { message: "API rate limit exceeded" } });
  const r = await github.call("issues.get", "octo", "repo", 1);
  assert.equal(r.error.code, "rate_limited", JSON.stringify(r.error));
  assert.ok(r.error.retryAfterMs > 3_590_000 && r.error.retryAfterMs <= 3_600_000, String(r.error.retryAfterMs));
  assert.equal(upstream.requests.length, 1);
});

test("Stripe-Should-Retry: false ends a 503; x-should-retry: true retries GitHub's 409", async () => {
  script({ status: 503, headers: { "stripe-should-retry": "false" }, json: {} }, { status: 200, json: {} });
  let r = await stripe.call("customers.retrieve", "cus_1");
  assert.equal(r.error.code, "upstream_error");
  assert.equal(upstream.requests.length, 1);

  script({ status: 409, json: { message: "conflict" } }, { status: 200, json: {} });
  r = await github.call("issues.get", "octo", "repo", 1);
  assert.equal(r.error.code, "upstream_error", "GitHub's 409 is a conflict: final");
  assert.equal(upstream.requests.length, 1);

  script({ status: 409, headers: { "x-should-retry": "true" }, json: {} }, { status: 200, json: {} });
  r = await github.call("issues.get", "octo", "repo", 1);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual(statuses(r), [409, 200]);
});

test("400 and 404 are never retried", async () => {
  for (const status of [400, 404]) {
    script({ status, json: {} }, { status: 200, json: {} });
    const r = await stripe.call("customers.retrieve", "cus_1", { maxRetries: 5 });
    assert.equal(r.error.status, status);
    assert.equal(upstream.requests.length, 1);
  }
});

test("a POST to Stripe carries one Idempotency-Key on every attempt: its callId, or the caller's", async () => {
  script({ status: 502, json: {} }, { status: 200, json: { id: "pi_1" } });
  let r = await stripe.call("paymentIntents.create", { amount: 100, currency: "usd" });
  assert.equal(r.ok, true, JSON.stringify(r));
  const keys = upstream.requests.map((q) => q.headers["idempotency-key"]);
  assert.equal(keys.length, 2);
  assert.equal(keys[0], r.receipt.callId);
  assert.equal(keys[1], keys[0], "the retry reuses the key");
  assert.equal(r.receipt.idempotencyKey, r.receipt.callId);

  script({ status: 200, json: {} });
  r = await stripe.call("paymentIntents.create", { amount: 100, currency: "usd" }, { idempotencyKey: "order-42/attempt-1" });
  assert.equal(upstream.take().headers["idempotency-key"], "order-42/attempt-1");
  assert.equal(r.receipt.idempotencyKey, "order-42/attempt-1");

  for (const bad of ["", " lead", "x".repeat(256), "é", 42]) {
    script({ status: 200, json: {} });
    r = await stripe.call("paymentIntents.create", { amount: 100, currency: "usd" }, { idempotencyKey: bad });
    assert.equal(r.error.code, "invalid_argument", JSON.stringify(bad));
    assert.match(r.error.message, /idempotencyKey/);
    assert.equal(upstream.requests.length, 0);
  }
  // A provider that takes no key refuses one rather than pretend.
  r = await github.call("issues.create", "octo", "repo", { title: "t" }, { idempotencyKey: "k1" });
  assert.equal(r.error.code, "invalid_argument");
});

test("a POST to a provider without keys is sent once: after a 5xx, a reset, a timeout", async () => {
  script({ status: 502, json: {} }, { status: 201, json: {} });
  let r = await github.call("issues.create", "octo", "repo", { title: "t" });
  assert.equal(r.error.code, "upstream_error");
  assert.equal(upstream.requests.length, 1);

  script({ destroy: true }, { status: 201, json: {} });
  r = await github.call("issues.create", "octo", "repo", { title: "t" });
  assert.equal(r.error.code, "upstream_unreachable");
  assert.deepEqual(statuses(r), ["unreachable"]);
  assert.equal(upstream.requests.length, 1);

  script({ status: 201, delay: 2_000, json: {} }, { status: 201, json: {} });
  r = await github.call("issues.create", "octo", "repo", { title: "t" }, { timeoutMs: 400 });
  assert.equal(r.error.code, "upstream_timeout", JSON.stringify(r));
  assert.deepEqual(statuses(r), ["timeout"]);
  assert.equal(upstream.requests.length, 1);
  // A GET after a reset is sent again.
  script({ destroy: true }, { status: 200, json: {} });
  r = await github.call("issues.get", "octo", "repo", 1);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual(statuses(r), ["unreachable", 200]);
});

test("an upstream that never answers: each attempt times out, then the call, in bounded time", async () => {
  script({ status: 200, delay: 60_000, json: {} });
  const t0 = Date.now();
  // Attempts may take 300 ms here (30 s deployed); three fit the 2 s deadline.
  let r = await stripe.call("customers.retrieve", "cus_1", { timeoutMs: 2_000 });
  const took = Date.now() - t0;
  assert.equal(r.error.code, "upstream_timeout", JSON.stringify(r));
  assert.deepEqual(statuses(r), ["timeout", "timeout", "timeout"]);
  assert.ok(took < 2_500, `bounded: ${took} ms`);
  // The deadline, not the attempts, ends a call that asks for less than an attempt.
  script({ status: 200, delay: 60_000, json: {} });
  const t1 = Date.now();
  r = await stripe.call("customers.retrieve", "cus_1", { timeoutMs: 150 });
  assert.equal(r.error.code, "upstream_timeout");
  assert.match(r.error.message, /deadline of 150 ms/);
  assert.ok(Date.now() - t1 < 1_000);
  assert.deepEqual(statuses(r), ["timeout"]);
});

test("bad options are invalid_argument before any request; a session's calls take them", async () => {
  script({ status: 200, json: {} });
  for (const options of [{ maxRetries: 6 }, { maxRetries: -1 }, { maxRetries: 1.5 }, { maxRetries: "2" }, { timeoutMs: 0 }, { timeoutMs: 300_001 }, { timeoutMs: "fast" }]) {
    const r = await stripe.call("customers.retrieve", "cus_1", options);
    assert.equal(r.error.code, "invalid_argument", JSON.stringify(options));
    assert.match(r.error.message, new RegExp(Object.keys(options)[0]));
    assert.match(r.receipt.callId, /^[0-9a-f-]{36}$/, "a refused call has its id too");
    assert.deepEqual(r.receipt.tries, []);
  }
  assert.equal(upstream.requests.length, 0);
  script({ status: 503, json: {} }, { status: 200, json: {} });
  const r = await stripe.batch([{ path: [{ call: "withAuth", args: [{ apiKey: "sk_test_CANARYsession0000000000" }] }, "customers", "retrieve"], args: ["cus_1", { maxRetries: 0 }] }]);
  assert.equal(r[0].value.error.code, "upstream_error", JSON.stringify(r[0]));
  assert.equal(upstream.requests.length, 1, "the session's call kept its maxRetries: 0");
});

test("every call's tries add up: redirects and retries together, each request once", async () => {
  script({ status: 302, headers: { location: "/v1/customers/cus_2" } }, { status: 503, json: {} }, { status: 200, json: { id: "cus_2" } });
  const r = await stripe.call("customers.retrieve", "cus_1");
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.deepEqual(statuses(r), [302, 503, 200]);
  assert.equal(r.receipt.attempts, 3);
  assert.deepEqual(upstream.requests.map((q) => q.url), ["/v1/customers/cus_1", "/v1/customers/cus_2", "/v1/customers/cus_2"]);
});

// A streaming upstream for bodies of 50 MB: it writes in 64 KiB chunks as fast as the socket
// takes them, counting, until the capability stops reading and the connection closes.
import { createServer } from "node:http";

async function startBigUpstream() {
  const big = { written: [] };
  const server = createServer((req, res) => {
    const total = 50 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let written = 0;
    const sized = req.url.includes("sized");
    res.writeHead(200, { "content-type": req.url.includes("bin") ? "application/octet-stream" : "text/plain", ...(sized ? { "content-length": String(total) } : {}) });
    const done = () => big.written.push(written);
    res.on("close", done);
    const pump = () => {
      while (written < total) {
        written += chunk.length;
        if (!res.write(chunk)) return res.once("drain", pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  big.origin = `http://127.0.0.1:${server.address().port}`;
  big.close = () => new Promise((resolve) => server.close(resolve));
  return big;
}

test("a 50 MB body, with and without Content-Length, is upstream_too_large, its rest unread; the next call is fine", async () => {
  const big = await startBigUpstream();
  const cap = await startWorkers({ provider: "github", bindings: { CAPA_LOOPBACK_ORIGIN: big.origin, GITHUB_TOKEN: "ghp_CANARYbig00000000000000000000000000" } });
  if (process.env.CAPA_SHOW_RECEIPTS) shown(cap);
  try {
    const limit = 10 * 1024 * 1024;
    // What the socket and the runtime buffer before the Worker reads a byte: a body refused by
    // its Content-Length alone reads none, so what it saw written is that floor alone.
    let floor = 0;
    // repos.getContent answers a file's raw bytes or JSON; the path picks the upstream's behaviour.
    for (const path of ["sized", "chunked", "sized-bin", "chunked-bin"]) {
      big.written.length = 0;
      const r = await cap.call("repos.getContent", "octo", "repo", path);
      assert.equal(r.ok, false, JSON.stringify(r).slice(0, 300));
      assert.equal(r.error.code, "upstream_too_large", path);
      assert.equal(r.error.limit, limit);
      assert.equal(r.error.status, 200);
      assert.deepEqual(r.receipt.tries.map((t) => t.status), [200], "never retried");
      // The connection closes once the capability stops reading.
      for (let i = 0; i < 100 && big.written.length === 0; i++) await new Promise((ok) => setTimeout(ok, 50));
      assert.equal(big.written.length, 1, `${path}: the upstream saw its connection close`);
      if (path === "sized") floor = big.written[0];
      if (path.startsWith("sized")) assert.ok(big.written[0] <= 8 * 1024 * 1024, `${path}: refused by its length, yet ${big.written[0]} bytes were taken`);
      // Counting as it arrives: at most the limit and what workerd reads ahead of the Worker while
      // it reads (2-3 MiB here), past the buffers' floor.
      else assert.ok(big.written[0] <= floor + limit + 4 * 1024 * 1024, `${path}: ${big.written[0]} bytes written before the close (floor ${floor})`);
      console.log(`too large, ${path}: ${(big.written[0] / 1048576).toFixed(1)} MiB written before the close`);
    }
  } finally {
    await cap.dispose();
    await big.close();
  }
  // And the capability answers the next call as before.
  script({ status: 200, json: { id: "cus_1" } });
  const r = await stripe.call("customers.retrieve", "cus_1");
  assert.equal(r.ok, true);
});
