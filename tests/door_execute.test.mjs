// Code mode at the agent door (door/execute.js, docs/door.md "execute"): the MCP SDK's Client
// against the built door in workerd with a Worker Loader binding, bound to the built Stripe and
// GitHub capabilities, upstream recorded. Each script runs in a sandbox of its own with no
// network; its `api` calls are made by the door, through the grant's sessions.
//
// The door here runs with a 2 s deadline and 8 calls an execution (its vars), so that the
// deadline and the budget are reached quickly. Scripts that test the deadline await (timers,
// calls): a synchronous endless loop would block Miniflare's whole process, which does not
// enforce `limits.cpuMs` (production does: docs/door.md).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDoor, textOf, assertNoDoorCanary, canaryRun, DOOR_CANARY } from "./door/harness.mjs";

const DEADLINE_MS = 2000;
const MAX_CALLS = 8;

let door;
const seen = []; // every tool list and result an agent saw, for the canary run
const tokens = []; // every grant token issued
before(async () => {
  door = await startDoor({ doorBindings: { DOOR_EXECUTE_DEADLINE_MS: String(DEADLINE_MS), DOOR_EXECUTE_MAX_CALLS: String(MAX_CALLS) } });
});
after(() => canaryRun(assert, door, seen, tokens));

/** A client for a new grant: `run(code)` executes a script and answers its parsed output. */
async function agent(grant) {
  const issued = await door.issue(grant);
  tokens.push(issued.token);
  const client = await door.client(issued.token);
  const tools = (await client.listTools()).tools;
  seen.push(tools);
  const call = async (name, args) => {
    const r = await client.callTool({ name, arguments: args });
    seen.push(r);
    return r;
  };
  const run = async (code) => {
    const r = await call("execute", { code });
    const out = JSON.parse(textOf(r));
    assert.equal(r.isError === true, !out.ok, "isError says what ok says");
    return out;
  };
  return { client, tools, call, run, token: issued.token };
}

const reset = () => {
  door.upstream.reply = () => ({ status: 200, json: {} });
  door.upstream.requests.splice(0);
};

test("the tool list offers execute, described; search tells how to use a hit in execute", async () => {
  const { tools, call } = await agent({ capabilities: { stripe: {}, github: {} } });
  const execute = tools.find((t) => t.name === "execute");
  assert.ok(execute, "execute is offered");
  assert.deepEqual(execute.inputSchema.required, ["code"]);
  assert.match(execute.description, /api\.stripe\.customers\.list/);
  assert.match(execute.description, /stripe, github/);
  const bytes = JSON.stringify(tools).length;
  console.log(`tool list for a Stripe+GitHub grant, with execute: ${bytes} bytes (~${Math.round(bytes / 4)} tokens)`);
  assert.ok(bytes < 4000, `the tool list stays small: ${bytes}`);
  const found = textOf(await call("search", { query: "list customers", limit: 3 }));
  assert.match(found, /Or in execute\(\{ code \}\), as a method of api with the same arguments: const r = await api\.stripe\.customers\.list\(…\)/);
});

test("a two-call script across two capabilities: each call on its own wire, a tenant's key for the tenant grant", async () => {
  const { run } = await agent({ capabilities: { stripe: { auth: { apiKey: DOOR_CANARY.tenantKey } }, github: {} } });
  door.upstream.reply = (req) => (req.url.startsWith("/v1/") ? { status: 200, json: { object: "list", data: [{ id: "cus_7", email: "a@b.c" }], has_more: false } } : { status: 200, json: { login: "octo", id: 1 } });
  const out = await run(`
    const customers = await api.stripe.customers.list({ limit: 3 });
    const me = await api.github.users.getAuthenticated();
    console.log("customers", customers.result.data.length, "user", me.result.login);
    return { customer: customers.result.data[0].id, login: me.result.login };
  `);
  assert.equal(out.ok, true, JSON.stringify(out));
  assert.deepEqual(out.value, { customer: "cus_7", login: "octo" });
  assert.deepEqual(out.logs, ["customers 1 user octo"]);
  assert.equal(out.calls, 2);
  assert.deepEqual(out.receipts.map((r) => [r.capability, r.call, r.credential]), [["stripe", "customers.list", "call"], ["github", "users.getAuthenticated", "secret"]]);
  const [stripe, github] = door.upstream.requests.splice(0);
  assert.equal(stripe.url, "/v1/customers?limit=3");
  assert.equal(stripe.headers.authorization, `Bearer ${DOOR_CANARY.tenantKey}`);
  assert.equal(github.url, "/user");
  assert.match(github.headers.authorization, new RegExp(DOOR_CANARY.githubSecret));
  reset();
});

test("a script looping over pages: by hand with starting_after, and with the pages option's next", async () => {
  const customers = Array.from({ length: 25 }, (_, i) => ({ id: `cus_${String(i + 1).padStart(3, "0")}`, object: "customer" }));
  door.upstream.reply = (req) => {
    const q = new URL(req.url, "http://x").searchParams;
    const limit = Number(q.get("limit") ?? 10);
    const after = q.get("starting_after");
    const start = after ? customers.findIndex((c) => c.id === after) + 1 : 0;
    return { status: 200, json: { object: "list", url: "/v1/customers", has_more: start + limit < customers.length, data: customers.slice(start, start + limit) } };
  };
  const { run } = await agent({ capabilities: { stripe: {} } });
  const byHand = await run(`
    const ids = [];
    let params = { limit: 10 };
    for (;;) {
      const r = await api.stripe.customers.list(params);
      if (!r.ok) return r.error;
      ids.push(...r.result.data.map((c) => c.id));
      if (!r.result.has_more) break;
      params = { limit: 10, starting_after: ids[ids.length - 1] };
    }
    return ids;
  `);
  assert.equal(byHand.ok, true, JSON.stringify(byHand));
  assert.deepEqual(byHand.value, customers.map((c) => c.id));
  assert.equal(byHand.calls, 3);
  assert.deepEqual(door.upstream.requests.splice(0).map((r) => r.url), ["/v1/customers?limit=10", "/v1/customers?limit=10&starting_after=cus_010", "/v1/customers?limit=10&starting_after=cus_020"]);

  const paged = await run(`
    const ids = [];
    let params = { limit: 5 };
    while (params) {
      const r = await api.stripe.customers.list(params, { pages: { maxItems: 10 } });
      if (!r.ok) return r.error;
      ids.push(...r.result.data.map((c) => c.id));
      params = r.result.next;
    }
    return ids;
  `);
  assert.equal(paged.ok, true, JSON.stringify(paged));
  assert.deepEqual(paged.value, customers.map((c) => c.id));
  assert.equal(paged.calls, 3, "three calls, each walking pages");
  assert.deepEqual(paged.receipts.map((r) => r.pages), [2, 2, 1]);
  reset();
});

test("fetch and connect to anywhere are refused in the sandbox; nothing reaches the network", async () => {
  const { run } = await agent({ capabilities: { stripe: {} } });
  const origin = door.upstream.origin;
  for (const code of [
    `return await fetch(${JSON.stringify(origin + "/v1/customers")})`,
    `return await fetch("https://api.stripe.com/v1/customers")`,
    `return await (await fetch(new Request(${JSON.stringify(origin)}, { method: "POST", body: "x" }))).text()`,
    `const { connect } = await import("cloudflare:sockets"); const s = connect(${JSON.stringify(new URL(origin).host)}); await s.opened; return "opened"`,
    `return await caches.default.match(${JSON.stringify(origin)})`,
  ]) {
    const out = await run(code);
    assert.equal(out.ok, false, `${code}: ${JSON.stringify(out)}`);
    assert.equal(out.calls, 0);
  }
  assert.equal(door.upstream.requests.splice(0).length, 0, "no request reached the upstream");
});

test("the deadline stops an awaiting loop: of timers, and of calls; a late call is never made", async () => {
  const { run } = await agent({ capabilities: { stripe: {} }, budget: { perMinute: 1000 } });
  let started = performance.now();
  const timers = await run(`console.log("before"); for (;;) await new Promise((r) => setTimeout(r, 20));`);
  let ms = performance.now() - started;
  assert.equal(timers.ok, false);
  assert.match(timers.error.message, /ran past its deadline \(2000 ms\)/);
  assert.deepEqual(timers.logs, ["before"], "the logs so far come back");
  assert.ok(ms >= DEADLINE_MS && ms < DEADLINE_MS + 3000, `${ms} ms`);

  // Calls that each take 300 ms: six fit in the deadline, the budget (8) is not what stops it.
  door.upstream.reply = () => ({ status: 200, delay: 300, json: { object: "list", data: [], has_more: false } });
  started = performance.now();
  const calls = await run(`for (let i = 0; ; i++) { await api.stripe.customers.list(); console.log("call", i); }`);
  ms = performance.now() - started;
  assert.equal(calls.ok, false);
  assert.match(calls.error.message, /deadline/);
  assert.ok(calls.calls >= 3 && calls.calls < MAX_CALLS, `calls ${calls.calls}`);
  assert.ok(ms < DEADLINE_MS + 3000, `${ms} ms`);
  // The sandbox may still be awaiting its last call: nothing more is made for it after.
  const sent = door.upstream.requests.length;
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(door.upstream.requests.length <= sent + 1, "no call after the deadline but the one in flight");
  reset();
});

test("the call budget: past its calls an execution's api answers rate_limited, nothing sent", async () => {
  const { run } = await agent({ capabilities: { stripe: {} }, budget: { perMinute: 1000 } });
  door.upstream.reply = () => ({ status: 200, json: { object: "list", data: [], has_more: false } });
  const out = await run(`
    const codes = [];
    for (let i = 0; i < ${MAX_CALLS + 3}; i++) codes.push((await api.stripe.customers.list()).ok ? "ok" : (await api.stripe.customers.list()).error.code);
    return codes;
  `);
  assert.equal(out.ok, true, JSON.stringify(out));
  assert.deepEqual(out.value.slice(0, MAX_CALLS), Array(MAX_CALLS).fill("ok"));
  assert.ok(out.value.slice(MAX_CALLS).every((c) => c === "rate_limited"), JSON.stringify(out.value));
  assert.equal(out.calls, MAX_CALLS);
  assert.equal(out.receipts.length, MAX_CALLS);
  assert.equal(door.upstream.requests.splice(0).length, MAX_CALLS);
  // Calls made at once are counted one by one: exactly the budget goes out.
  const parallel = await run(`const all = await Promise.all(Array.from({ length: ${MAX_CALLS + 4} }, () => api.stripe.customers.list())); return all.filter((e) => e.ok).length;`);
  assert.equal(parallel.value, MAX_CALLS);
  assert.equal(door.upstream.requests.splice(0).length, MAX_CALLS);
  // The grant's own per-minute budget holds inside scripts too, at stage grant.
  const small = await agent({ capabilities: { stripe: {} }, budget: { perMinute: 2 } });
  const spent = await small.run(`const r = []; for (let i = 0; i < 3; i++) r.push(await api.stripe.customers.list()); return r.map((e) => e.ok || e.error.message);`);
  assert.deepEqual(spent.value.slice(0, 2), [true, true]);
  assert.match(spent.value[2], /grant's budget is spent \(2 calls a minute\)/);
  reset();
});

test("a read-only grant's write is refused inside a script by the capability, before any request", async () => {
  const { run } = await agent({ capabilities: { stripe: {} } });
  const out = await run(`
    const w = await api.stripe.customers.create({ email: "a@b.c" });
    const r = await api.stripe.refunds.create({ charge: "ch_1" });
    const d = await api.stripe.customers.del("cus_1");
    return [w.error.code, r.error.code, d.error.code];
  `);
  assert.equal(out.ok, true, JSON.stringify(out));
  assert.deepEqual(out.value, ["operation_not_allowed", "operation_not_allowed", "operation_not_allowed"]);
  assert.equal(door.upstream.requests.splice(0).length, 0);
  // A capability the grant does not name is no name of api, and the door refuses it by name too.
  const other = await run(`return [typeof api.github, Object.keys(api)]`);
  assert.deepEqual(other.value, ["undefined", ["stripe"]]);
});

test("escapes: globalThis, env, the stub, api, import(), eval, constructor chains, auth in options", async () => {
  const { run } = await agent({ capabilities: { stripe: { auth: { apiKey: DOOR_CANARY.tenantKey } }, github: {} } });
  door.upstream.reply = () => ({ status: 200, json: { object: "list", data: [], has_more: false } });
  const outs = {};
  const attempts = {
    globals: `const o = {}; for (const k of Object.getOwnPropertyNames(globalThis)) { try { o[k] = String(globalThis[k]); } catch (e) { o[k] = e.message; } } console.log(JSON.stringify(o)); return o;`,
    env: `return [typeof env, typeof process === "object" ? JSON.stringify(process.env ?? null) : null, typeof this]`,
    harness: `const h = await import("./harness.js"); return [Object.keys(h), String(h.default), Object.getOwnPropertyNames(h.default.prototype)];`,
    api: `console.log(api, String(api.stripe), JSON.stringify(api)); return [Object.keys(api), String(api.stripe.customers), typeof api.stripe, Object.getOwnPropertyNames(api.stripe)];`,
    urlImport: `return await import("https://example.com/x.js")`,
    dataImport: `return await import("data:text/javascript,export default globalThis")`,
    eval: `return eval("1 + 1")`,
    newFunction: `return new Function("return this")()`,
    constructorChain: `return api.stripe.constructor.constructor("return globalThis")()`,
    asyncConstructor: `return await (async () => {}).constructor("return process.env")()`,
    stubConstructor: `const r = await api.stripe.customers.list.constructor.prototype; return [typeof r, String(r)]`,
    callConstructor: `return await api.stripe.constructor("x")`,
    protoWalk: `const p = Object.getPrototypeOf(api.stripe); return [String(p), Object.getOwnPropertyNames(p)]`,
    authInOptions: `return [await api.stripe.customers.list({ limit: 1 }, { auth: { apiKey: "sk_test_agentsOwnKey000000" } }), await api.stripe.customers.retrieve("cus_1", { auth: {} }), await api.github.users.getAuthenticated({ auth: { apiKey: "x" } })].map((e) => e.error?.code)`,
    withAuth: `return [await api.stripe.withAuth({ apiKey: "sk_test_x" }, null), await api.stripe.customers.withAuth({ apiKey: "sk_test_x" })].map((e) => e.error?.code)`,
    otherExecution: `return [typeof globalThis.DOOR, typeof globalThis.env]`,
    throwsStub: `throw api.stripe`,
    returnsStub: `return api.stripe.customers.list`,
  };
  for (const [label, code] of Object.entries(attempts)) outs[label] = await run(code);
  if (process.env.SHOW) console.log(JSON.stringify(outs, null, 1).slice(0, 20000));
  assert.equal(outs.globals.ok, true);
  assert.ok(!("DOOR" in outs.globals.value) && !("LOADER" in outs.globals.value) && !("STRIPE" in outs.globals.value), "no binding is a global");
  assert.deepEqual(outs.env.value, ["undefined", "{}", "undefined"], "no env in reach; process.env is empty");
  assert.deepEqual(outs.harness.value[2], ["constructor", "run"], "the harness module shows its class, never its env");
  assert.deepEqual(outs.api.value.slice(0, 3), [["stripe", "github"], "api.stripe.customers", "function"]);
  assert.deepEqual(outs.api.logs, ["{} api.stripe {}"], "api prints as names");
  assert.deepEqual(outs.otherExecution.value, ["undefined", "undefined"]);
  assert.equal(outs.callConstructor.value.error.code, "invalid_argument", "a name that is no operation is refused by the door");
  assert.match(outs.constructorChain.error.message, /is not a function/);
  assert.equal(outs.returnsStub.value, null, "a function returned is no value: nothing live leaves the sandbox");
  assert.equal(outs.throwsStub.error.message, "thrown: api.stripe");
  assert.deepEqual(outs.authInOptions.value, ["invalid_argument", "invalid_argument", "invalid_argument"]);
  assert.deepEqual(outs.withAuth.value, ["invalid_argument", "invalid_argument"]);
  for (const label of ["urlImport", "dataImport", "eval", "newFunction", "asyncConstructor"]) assert.equal(outs[label].ok, false, `${label}: ${JSON.stringify(outs[label])}`);
  assert.match(outs.eval.error.message, /EvalError|disallowed/);
  // A thrown error's stack is the script's own: no frame of the harness or of the door.
  for (const out of Object.values(outs)) {
    if (out.error?.stack) assert.doesNotMatch(out.error.stack, /harness\.js|index\.js|execute\.js|tools\.js|node_modules/, out.error.stack);
  }
  const text = JSON.stringify(outs);
  assert.doesNotMatch(text, /DOOR_SEAL_KEY|DOOR_TOKEN_KEY|props|execution"?:/);
  assertNoDoorCanary(assert, outs, "escape attempts", [...Object.values(DOOR_CANARY), ...tokens]);
  // Only auth-free, named calls went out; none with the agent's key.
  for (const r of door.upstream.requests.splice(0)) assert.doesNotMatch(JSON.stringify(r.headers), /agentsOwnKey|sk_test_x/);
  reset();
});

test("a thrown error: its message and the script's own stack, lines counted from the script's first", async () => {
  const { run } = await agent({ capabilities: { stripe: {} } });
  const out = await run(`const a = 1;\nfunction inner() { throw new TypeError("no " + a); }\ninner();`);
  assert.equal(out.ok, false);
  assert.equal(out.error.message, "TypeError: no 1");
  assert.match(out.error.stack, /at inner \(script\.js:2:\d+\)/);
  assert.match(out.error.stack, /script\.js:3:\d+/);
  const thrown = await run(`throw { reason: "plain" }`);
  assert.equal(thrown.error.message, 'thrown: {"reason":"plain"}');
  const syntax = await run(`const x = ;`);
  assert.match(syntax.error.message, /^the script did not run: .*SyntaxError/s);
  assert.match(syntax.error.message, /script\.js:1:/);
  assert.doesNotMatch(JSON.stringify(syntax), /harness\.js|execute\.js/);
  const empty = await run(`return undefined`);
  assert.deepEqual([empty.ok, empty.value], [true, null]);
});

test("the result is cut at the door's size with a note; binary values are shown by their size", async () => {
  const { run, call } = await agent({ capabilities: { stripe: {} } });
  const r = await call("execute", { code: `console.log("x".repeat(1000)); return "y".repeat(40000);` });
  const text = textOf(r);
  assert.ok(text.length < 24_500, `${text.length}`);
  assert.match(text, /\[cut: this result is \d+ characters, the door returns at most 24000/);
  const many = await run(`for (let i = 0; i < 600; i++) console.log("line", i); return new Uint8Array(5);`);
  assert.equal(many.logs.length, 501);
  assert.match(many.logs[500], /100 more console lines dropped/);
  assert.deepEqual(many.value, { binary: true, bytes: 5 });
});

test("canaries through execute: a hostile upstream echoing every credential it got", async () => {
  door.upstream.reply = (req) => ({ status: req.url.includes("fail") ? 400 : 200, headers: { "x-echo": req.headers.authorization ?? "" }, json: { echo: req.headers, again: Buffer.from(req.headers.authorization ?? "").toString("base64"), error: { message: `bad key ${req.headers.authorization}` } } });
  const own = await agent({ capabilities: { stripe: { rights: { readOnly: false } }, github: {} } });
  const tenant = await agent({ capabilities: { stripe: { auth: { apiKey: DOOR_CANARY.tenantKey, headers: { "Stripe-Account": "acct_door1" } } } } });
  const script = (gh) => `
    const all = [];
    all.push(await api.stripe.customers.retrieve("cus_1"));
    all.push(await api.stripe.customers.retrieve("fail"));
    all.push(await api.stripe.customers.list({ limit: 1 }));
    ${gh ? `all.push(await api.github.users.getAuthenticated()); all.push(await api.github.repos.get("fail", "x"));` : ""}
    for (const e of all) console.log(e, JSON.stringify(e), btoa(JSON.stringify(e)));
    if (all.some((e) => !e.ok)) throw new Error(JSON.stringify(all));
    return all;
  `;
  const a = await own.run(script(true));
  const b = await tenant.run(script(false));
  for (const out of [a, b]) {
    assert.equal(out.ok, false, "a failed call's envelope was thrown");
    assert.ok(out.logs.length >= 3);
    assert.ok(out.receipts.length >= 3);
  }
  assertNoDoorCanary(assert, [a, b], "execute's answers", [...Object.values(DOOR_CANARY), ...tokens]);
  const got = door.upstream.requests.splice(0);
  assert.ok(got.some((r) => r.headers.authorization === `Bearer ${DOOR_CANARY.tenantKey}`), "the tenant key reached the upstream");
  assert.ok(got.some((r) => r.headers.authorization === `Bearer ${DOOR_CANARY.stripeSecret}`));
  reset();
});

test("a door without a Worker Loader offers no execute, and search does not mention it", async () => {
  const plain = await startDoor({ loader: false });
  try {
    const { token } = await plain.issue({ capabilities: { stripe: {} } });
    tokens.push(token);
    const client = await plain.client(token);
    const tools = (await client.listTools()).tools;
    assert.deepEqual(tools.map((t) => t.name), ["search", "call"]);
    const found = await client.callTool({ name: "search", arguments: { query: "list customers" } });
    seen.push(tools, found);
    assert.doesNotMatch(textOf(found), /execute/);
    const refused = await client.callTool({ name: "execute", arguments: { code: "return 1" } });
    assert.equal(refused.isError, true);
    assert.match(textOf(refused), /No tool named execute/);
  } finally {
    await plain.dispose();
  }
});
