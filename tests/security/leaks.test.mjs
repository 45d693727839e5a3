// No leak, anywhere: randomized calls of every operation of the Stripe, Petstore and Twitch tables, with
// random arguments, random per-call credentials (canaries with characters JSON, URLs and forms
// escape) and a hostile upstream that echoes them back in every form, on every path a call can
// take — success, every typed error, 4xx/5xx echoes, malformed JSON, redirects carrying the key,
// request ids, dropped connections, a panic, a missing secret, a secret with odd characters.
// Everything the caller got and everything the Workers logged is searched, decoded two levels
// deep, for the canaries' markers and for distinctive pieces of every credential value the
// upstream received (tests/security/corpus.mjs). The count of leaks must be 0.
//
// SECURITY_CALLS (default 10000, shared by the providers) and SECURITY_SEED set the run;
// `SECURITY_CALLS=100000 node --test --test-timeout=0 tests/security/leaks.test.mjs` is the long
// run (after `npm test` has built the Workers).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startUpstream, startWorkers, tableOf } from "../harness.mjs";
import { CANARIES, canary, findLeaks, rng, windowsOf } from "./corpus.mjs";
import { OVER_LIMIT, credentialOf, hostileReply, randomArgs } from "./hostile.mjs";

const CALLS = Number(process.env.SECURITY_CALLS ?? 10000);
const SEED = Number(process.env.SECURITY_SEED ?? 20261201);
const CODES = ["missing_credential", "header_not_allowed", "invalid_argument", "unknown_parameter", "upstream_error", "upstream_redirect", "upstream_unreachable", "upstream_invalid_body", "upstream_body_withheld", "auth_failed", "operation_not_allowed", "upstream_outcome_unknown", "upstream_timeout", "upstream_too_large", "rate_limited", "internal"];
const [SECRET, HOSTILE_SECRET] = CANARIES.secret.values;
// What the Secrets Store variant holds: a credential canary of its own, so the run can tell the
// store path was taken.
const STORE_SECRET = "sk_test_CANARYstore0000000000000000";

// Twitch brings a deployment value bound to a header (Client-Id, a context canary) that calls may
// replace.
// The auth fixtures bring the other schemes: a key in the query, in a cookie, a basic pair (whose
// user name is a deployment binding, a context canary), a key header with a secret header beside
// a bearer token (two schemes, per operation).
const PROVIDERS = [
  { provider: "stripe", share: 0.25, secret: "STRIPE_API_KEY", panicOn: "customers.retrieve" },
  { provider: "petstore", share: 0.05, secret: "PETSTORE_API_KEY", panicOn: "pet.retrieve" },
  { provider: "twitch", share: 0.1, secret: "TWITCH_API_KEY", panicOn: "users.list", bound: { TWITCH_CLIENT_ID: "acct_CONTEXTdeploymentclient" } },
  { provider: "auth-query", share: 0.1, secret: "AUTHQ_TOKEN", panicOn: "projects.list" },
  { provider: "auth-cookie", share: 0.1, secret: "AUTHC_SESSION", panicOn: "me.retrieve" },
  { provider: "auth-basic", share: 0.1, secret: "AUTHB_AUTH_TOKEN", panicOn: "accounts.messages.list", bound: { AUTHB_ACCOUNT_SID: CANARIES.basicUsername.values[1] } },
  // A key header with a secret header, and a bearer token for the operations that take one.
  { provider: "auth-multi", share: 0.1, secret: "AUTHM_API_KEY", panicOn: "reports.list", bound: { AUTHM_API_SECRET: CANARIES.apiSecret.values[1], AUTHM_TOKEN: "tok_CANARYmultitoken000000" } },
  // OAuth2 client credentials: the secret is exchanged at a hostile token endpoint (below) for
  // short-lived tokens, which the API side then echoes and refuses (401s refresh them).
  { provider: "auth-oauth2", share: 0.1, secret: "AUTHO_CLIENT_SECRET", panicOn: "things.list", bound: { AUTHO_CLIENT_ID: "client-CONTEXTleaks" }, tokenUrl: "/oauth/token" },
  // A cookie session: the password is posted to a hostile login (below), whose cookies the API
  // side then echoes; its login pages (soft walls) and 401s log in again.
  // Its user name is a credential too (a canary of its own), which the app now and then echoes
  // with the whole login form (below).
  { provider: "auth-session", share: 0.1, secret: "AUTHS_PASSWORD", panicOn: "projects.list", bound: { AUTHS_USERNAME: CANARIES.loginUsername.values[0] }, loginUrl: "/login" },
  // The wire fixture (tests/fixtures/wire/): credentials the spec declares as parameters, filled
  // from their handles in the query, a header, a cookie, a form and a JSON field (a token, and a
  // key beside it), beside a cookie scheme's key in one Cookie header and a query scheme's in one
  // query string, or from a call's own options.auth.params; a bound header marked secret; a
  // soft-error rule answering some 200s as failures.
  { provider: "wire", share: 0.05, secret: "WIRE_TOKEN", panicOn: "search.retrieve", bound: { WIRE_PARAM_TOKEN: "ptok_CANARYleaks/+= 0000", WIRE_PARAM_KEY: "pkey_CANARYleaks&?#1111", WIRE_CLIENT_ID: "cid_CANARYleaks/+%2222", WIRE_APP: "app_CONTEXTleaks", WIRE_SID: "sid_CANARYleaks3333", WIRE_QUERY_KEY: "qkey_CANARYleaks/+= 4444", WIRE_QUERY_TOKEN: "qtok_CANARYleaks&=?5555" } },
];

/**
 * A hostile login: mostly a redirect setting a session cookie (sid_CANARY…, and a cookie not
 * kept), else a refusal echoing the posted form, a 200 setting nothing, its login page, or a
 * dropped connection. `tokens` collects the cookies it set, as the API side sees them.
 */
function hostileLoginReply(r, request, tokens, stats) {
  const pick = r.next();
  const name = pick < 0.7 ? "session" : pick < 0.8 ? "refused" : pick < 0.88 ? "noCookie" : pick < 0.95 ? "loginPage" : "dropped";
  stats[`login:${name}`] = (stats[`login:${name}`] ?? 0) + 1;
  switch (name) {
    case "session": {
      const sid = canary(r, "sessionCookie");
      tokens.add(`sid=${sid}`);
      return { status: r.pick([200, 302, 303]), headers: { location: "/home", "set-cookie": [`sid=${sid}; Path=/; HttpOnly; Max-Age=${1 + r.int(5)}`, "csrf=c; Path=/"] } };
    }
    case "refused":
      return { status: r.pick([400, 401, 403, 500]), headers: { "content-type": "text/html" }, body: `<p>bad login: ${request.body}</p>` };
    case "noCookie":
      return { status: 200, json: { echo: request.body } };
    case "loginPage":
      return { status: 200, headers: { "content-type": "text/html" }, body: `<form><input name="password" value="${new URLSearchParams(request.body).get("password")}"></form>` };
    default:
      return { destroy: true };
  }
}

/**
 * A hostile token endpoint: mostly a token (at_CANARY…, a lifetime of 1–5 s so refreshes
 * happen), else a refusal echoing the client's basic header and secret, malformed JSON, a 200
 * with no usable token, or a dropped connection. `tokens` collects what it issued.
 */
function hostileTokenReply(r, request, tokens, stats) {
  const basic = request.headers.authorization ?? "";
  const pair = Buffer.from(basic.replace(/^Basic /, ""), "base64").toString("latin1");
  const behaviours = {
    token: 0.7,
    refused: 0.1,
    malformed: 0.08,
    noToken: 0.07,
    dropped: 0.05,
  };
  let pick = r.next();
  let name = "token";
  for (const [k, p] of Object.entries(behaviours)) {
    if (pick < p) {
      name = k;
      break;
    }
    pick -= p;
  }
  stats[`token:${name}`] = (stats[`token:${name}`] ?? 0) + 1;
  switch (name) {
    case "token": {
      const token = canary(r, "accessToken");
      tokens.add(token);
      return { status: 200, json: { access_token: token, token_type: "Bearer", expires_in: 1 + r.int(5) } };
    }
    case "refused":
      return { status: r.pick([400, 401, 403, 500]), json: { error: "invalid_client", header: basic, pair, secret: pair.slice(pair.indexOf(":") + 1) } };
    case "malformed":
      return { status: 200, headers: { "content-type": "application/json" }, body: `{"access_token":"${pair}` };
    case "noToken":
      return { status: 200, json: { token_type: "mac", echo: basic } };
    default:
      return { destroy: true };
  }
}

const totals = { calls: 0, leaks: 0, thrown: 0, upstreamRequests: 0, outcomes: {}, behaviours: {} };
let upstream;
before(async () => {
  upstream = await startUpstream();
});
after(async () => {
  await upstream.close();
  console.log(
    `security: ${totals.calls} randomized calls, ${totals.upstreamRequests} upstream requests, ${totals.leaks} leaks, ${totals.thrown} thrown\n` +
      `  outcomes: ${JSON.stringify(totals.outcomes)}\n  upstream behaviours: ${JSON.stringify(totals.behaviours)}`,
  );
});

for (const { provider, share, secret, panicOn, bound = {}, tokenUrl, loginUrl } of PROVIDERS) {
  test(`${provider}: ${Math.round(CALLS * share)} randomized calls leak no credential, in any form, anywhere`, async () => {
    const table = tableOf(provider);
    const r = rng(SEED + provider.length);
    const stats = totals.behaviours;
    upstream.requests.length = 0;
    const tokens = new Set();
    // The login form (user name and password) that obtained each session cookie.
    const logins = new Map();
    upstream.reply = (request) => {
      if (tokenUrl && request.url === tokenUrl) return hostileTokenReply(r, request, tokens, stats);
      if (loginUrl && request.url === loginUrl) {
        const reply = hostileLoginReply(r, request, tokens, stats);
        const sid = /^sid=([^;]+)/.exec(reply.headers?.["set-cookie"]?.[0] ?? "")?.[1];
        if (sid) logins.set(sid, request.body);
        return reply;
      }
      // Now and then the session's app echoes the login form of the session a call sends (its
      // own Worker's: another's credentials are not its to scrub), as it is, in base64 and as
      // its request id.
      const login = logins.get(/(?:^|; )sid=([^;]+)/.exec(request.headers.cookie ?? "")?.[1]);
      if (login && r.chance(0.05)) {
        stats["app:loginEcho"] = (stats["app:loginEcho"] ?? 0) + 1;
        return { status: 200, headers: { "x-request-id": login }, json: { login, b64: Buffer.from(login).toString("base64") } };
      }
      // Now and then the session's app answers its login page (a soft wall).
      if (loginUrl && r.chance(0.05)) return { status: 200, headers: { "content-type": "text/html" }, body: `<form><input name="password"></form> ${request.headers.cookie}` };
      return hostileReply(r, request, { authHeader: table.authHeader, contextHeaders: table.callHeaders, stats, table });
    };
    // Retries wait a thousandth as long, an attempt may take 200 ms (slowerThanAnAttempt), and a
    // response 320 KB (overLimit).
    const base = { CAPA_LOOPBACK_ORIGIN: upstream.origin, CAPA_LOOPBACK_WAIT_SCALE: "0.001", CAPA_LOOPBACK_ATTEMPT_MS: "200", CAPA_LOOPBACK_BODY_LIMIT: String(OVER_LIMIT), ...bound };
    // A token provider's main Worker shares its tokens through its token object, and CAP_SHARED,
    // another Worker, takes them from it (src/token/shared.rs): sealed under a canary key.
    const expiring = tokenUrl || loginUrl;
    const sealing = expiring ? { CAPA_TOKENS_KEY: CANARIES.sealingKey.values[0] } : {};
    const cap = await startWorkers({
      provider,
      bindings: { ...base, [secret]: SECRET, ...sealing },
      ...(expiring ? { durableObjects: { CAPA_TOKENS: { className: "CapaTokens", useSQLite: true } } } : {}),
      variants: {
        ...(expiring ? { CAP_SHARED: { bindings: { ...base, [secret]: SECRET, ...sealing }, durableObjects: { CAPA_TOKENS: { className: "CapaTokens", scriptName: "capability", useSQLite: true } } } } : {}),
        CAP_HOSTILE: { bindings: { ...base, [secret]: HOSTILE_SECRET } },
        CAP_BARE: { bindings: base },
        // Narrowed by the deployment's vars (src/rights.rs): refused calls leak nothing either.
        CAP_READ_ONLY: { bindings: { ...base, [secret]: SECRET, ...sealing, CAPA_READ_ONLY: "true" } },
        CAP_PANIC: { bindings: { ...base, [secret]: SECRET, CAPA_FAULT_INJECTION: `panic:${panicOn}` } },
        // The secret in a Secrets Store, read through its binding on every call (TTL 0).
        CAP_STORE: { bindings: { ...base, CAPA_SECRETS_STORE_TTL: "0" }, secretsStoreSecrets: { [secret]: { store_id: "leaks", secret_name: provider } } },
      },
    });
    const issued = new Set();
    const seen = { leaks: [], outcomes: {} };
    // Pieces of every credential value known to the run: what calls passed, what the deployment
    // holds, and everything the upstream received in a credential's place (tokens, cookies,
    // assertions, passwords), added as requests arrive.
    const windows = windowsOf([SECRET, HOSTILE_SECRET, STORE_SECRET, ...Object.entries(bound).filter(([k]) => !/CLIENT_ID|USERNAME|ACCOUNT_SID/.test(k)).map(([, v]) => v)]);
    let read = 0;
    let sessions = 0;
    try {
      await (await cap.store(secret, "CAP_STORE")).create(STORE_SECRET);
      const n = Math.round(CALLS * share);
      for (let done = 0; done < n; ) {
        const calls = [];
        for (let i = 0; i < Math.min(500, n - done); i++) {
          const target = r.pick(["CAP", "CAP", "CAP", "CAP_HOSTILE", "CAP_BARE", "CAP_PANIC", "CAP_STORE", "CAP_READ_ONLY", ...(expiring ? ["CAP_SHARED"] : [])]);
          const op = target === "CAP_PANIC" && r.chance(0.5) ? table.operations.find((o) => o.call === panicOn) : r.pick(table.operations);
          const args = randomArgs(r, table, op, issued);
          // One call in six goes through a session (src/grant.rs) holding the call's auth, now
          // and then narrowed: the session's credential must be as invisible as a per-call one.
          if (r.chance(1 / 6)) {
            const last = args.at(-1);
            const options = last && typeof last === "object" && !Array.isArray(last) && Object.keys(last).length === 1 && "auth" in last;
            const auth = options ? args.pop().auth : {};
            const rights = r.pick([undefined, undefined, { readOnly: true }, { except: ["destructive"] }, { only: [op.call] }]);
            calls.push({ target, call: op.call, path: [{ call: "withAuth", args: rights ? [auth, rights] : [auth] }, ...op.call.split(".")], args });
            sessions++;
          } else {
            calls.push({ target, call: op.call, args });
          }
        }
        const outcomes = await cap.batch(calls, 24);
        done += calls.length;
        windowsOf([...issued, ...tokens], windows);
        for (; read < upstream.requests.length; read++) {
          const request = upstream.requests[read];
          const sent = tokenUrl && request.url === tokenUrl ? "" : loginUrl && request.url === loginUrl ? (new URLSearchParams(request.body).get("password") ?? "") : credentialOf(request, table.authHeader, table);
          windowsOf([sent], windows);
        }
        outcomes.forEach((outcome, i) => {
          if (outcome.thrown) {
            totals.thrown++;
            assert.fail(`${calls[i].call} threw over RPC (the contract: every call resolves): ${JSON.stringify(outcome.thrown)}`);
          }
          const envelope = outcome.value;
          assert.equal(typeof envelope.ok, "boolean", JSON.stringify(envelope).slice(0, 300));
          assert.equal(envelope.receipt.capability, provider);
          if (!envelope.ok) assert.ok(CODES.includes(envelope.error.code), envelope.error.code);
          const kind = envelope.ok ? "ok" : envelope.error.code;
          seen.outcomes[kind] = (seen.outcomes[kind] ?? 0) + 1;
          if (envelope.receipt.pages > 1) seen.outcomes.walked = (seen.outcomes.walked ?? 0) + 1;
          for (const leak of findLeaks(envelope, [], windows)) seen.leaks.push({ call: calls[i].call, target: calls[i].target, ...leak });
        });
      }
      for (const leak of findLeaks(null, cap.logs, windows)) seen.leaks.push(leak);

      // Upstream: every credential it received is the Worker secret of the instance or a key
      // some call passed; no call's key went anywhere else.
      const known = new Set([SECRET, HOSTILE_SECRET, STORE_SECRET, ...issued, ...Object.values(bound), ...tokens]);
      let fromStore = 0;
      for (const request of upstream.requests) {
        // A token exchange carries the client's secret (in its basic pair).
        const credential =
          tokenUrl && request.url === tokenUrl
            ? decodeURIComponent(credentialOf(request, "authorization", { authPair: true }))
            : loginUrl && request.url === loginUrl
              ? (new URLSearchParams(request.body).get("password") ?? "")
              : credentialOf(request, table.authHeader, table);
        if (credential) assert.ok(known.has(credential), `the upstream received a credential nobody passed: ${credential.slice(0, 40)}`);
        // The client secret goes to the token endpoint only, never to the API.
        const exchange = request.url === tokenUrl || request.url === loginUrl;
        if ((tokenUrl || loginUrl) && !exchange) assert.ok(![SECRET, HOSTILE_SECRET, STORE_SECRET].includes(credential), "a client secret or password reached the API");
        if (credential === STORE_SECRET) fromStore++;
      }
      assert.ok(fromStore > 0, "no request carried the Secrets Store's value: the store path was not taken");
      assert.ok(sessions > n / 10, `only ${sessions} of ${n} calls went through a session`);
      totals.calls += n;
      totals.upstreamRequests += upstream.requests.length;
      totals.leaks += seen.leaks.length;
      for (const [k, v] of Object.entries(seen.outcomes)) totals.outcomes[`${provider}:${k}`] = v;
      assert.deepEqual(seen.leaks.slice(0, 5), [], `${seen.leaks.length} leak(s)`);
      // The run reached the paths it claims to: successes, upstream errors, refusals, panics,
      // redirects and unreachable upstreams all occurred.
      // (A failed connection or a slow answer is retried where it may be, so its code is reached
      // when retries are spent or not allowed: one of the two, at least.)
      for (const kinds of [["walked"], ["ok"], ["upstream_error"], ["invalid_argument"], ["internal"], ["upstream_redirect"], ["upstream_unreachable", "upstream_timeout"], ["upstream_invalid_body"], ["upstream_body_withheld"], ["missing_credential"], ["rate_limited"], ["upstream_too_large"]]) {
        if (n >= 2000) assert.ok(kinds.some((kind) => seen.outcomes[kind] > 0), `no ${kinds.join(" or ")} outcome in ${n} calls: ${JSON.stringify(seen.outcomes)}`);
      }
      assert.ok(cap.logs.some((l) => l.includes("fault injection")), "the panics were logged (and their logs searched)");
    } finally {
      await cap.dispose();
    }
  });
}

// Found by the randomized run above: a panic replaces the wasm instance, whose new slab hands out
// the dead one's handles again, so a response to a call of the dead instance was judged and
// redacted as the new call holding its handle (another tenant's credentials, its receipt). And
// found by issue 31's attack: the call that died with the instance was then answered `internal`
// with `attempts: 0`, though its request had gone out and been answered: a caller trusting that
// receipt sends a POST again. It is `upstream_outcome_unknown`, with what went out.
test("a panic while calls are in flight: each call is answered for itself, and truly", async () => {
  upstream.requests.length = 0;
  upstream.reply = (request) => ({
    status: request.url.includes("slow") ? 201 : 200,
    delay: request.url.includes("slower") ? 600 : request.url.includes("slow") ? 300 : 0,
    headers: { "request-id": "req_1" },
    json: { id: request.url, echo: request.headers.authorization },
  });
  const cap = await startWorkers({
    provider: "stripe",
    bindings: { STRIPE_API_KEY: SECRET, CAPA_LOOPBACK_ORIGIN: upstream.origin, CAPA_FAULT_INJECTION: "panic:customers.del" },
  });
  try {
    const [a, b, c] = await cap.batch(
      [
        { call: "customers.update", args: ["cus_slow", { name: "x" }, { auth: { apiKey: "sk_test_CANARYtenantA111111" } }] },
        { call: "customers.del", args: ["cus_panics"] },
        { call: "customers.retrieve", args: ["cus_slower", { auth: { apiKey: "sk_test_CANARYtenantB222222" } }] },
      ],
      3,
    );
    console.log(`panic: receipts ${JSON.stringify({ a: [a.value.error?.code, a.value.receipt], b: [b.value.error?.code, b.value.receipt], c: [c.value.ok, c.value.receipt] })}`);
    // B panicked before its request: internal, nothing sent.
    assert.equal(b.value.error.code, "internal");
    assert.equal(b.value.receipt.attempts, 0);
    assert.equal(upstream.requests.filter((r) => r.url.includes("cus_panics")).length, 0);
    // A's call died with the instance that held it, after its POST went out and was answered:
    // never C's state, never `internal`, never "nothing was sent".
    assert.equal(a.value.ok, false, JSON.stringify(a.value));
    assert.equal(a.value.error.code, "upstream_outcome_unknown");
    assert.equal(a.value.error.status, 201);
    assert.equal(a.value.error.upstream, undefined);
    assert.equal(a.value.receipt.attempts, 1);
    assert.equal(a.value.receipt.credential, "call");
    assert.equal(a.value.receipt.status, 201);
    assert.equal(a.value.receipt.operation, "PostCustomersCustomer");
    assert.equal(a.value.receipt.verdict, "fail");
    assert.match(a.value.error.message, /was sent and answered HTTP 201.*may have taken effect/);
    assert.equal(upstream.requests.filter((r) => r.url.includes("cus_slow") && r.method === "POST").length, 1);
    assert.equal(c.value.ok, true, JSON.stringify(c.value));
    assert.equal(c.value.result.id, "/v1/customers/cus_slower");
    assert.equal(c.value.result.echo, "Bearer [REDACTED]");
    assert.equal(c.value.receipt.credential, "call");
    for (const outcome of [a, b, c]) assert.deepEqual(findLeaks(outcome.value), []);
  } finally {
    await cap.dispose();
  }
});
