// Bad arguments, made where a caller makes them (inside a caller Worker, so that Maps, typed
// arrays, functions and cycles travel over RPC as they would): wrong types, missing and extra
// arguments, huge bodies, deep nesting, prototype keys, and values JSON would silently change.
// Each gets a typed error (or, where it is a fair request, a faithful one) — never a crash, a
// hang, a partial request or a dead isolate: after each, the next call works.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { readdirSync } from "node:fs";
import path from "node:path";
import { COMPATIBILITY_DATE, ROOT, startUpstream } from "../harness.mjs";
import { CANARIES, findLeaks } from "./corpus.mjs";

// Named argument lists, built in the caller: `?case=name` calls customers.create(...args).
const CALLER = `
import { RpcTarget } from "cloudflare:workers";
class Thing extends RpcTarget { hello() { return "hi"; } }
const deep = (n) => { const root = {}; let at = root; for (let i = 0; i < n; i++) at = at.x = {}; return root; };
const cyclic = () => { const a = { b: {} }; a.b.a = a; return a; };
const CASES = {
  plain: () => [{ description: "ok" }],
  map: () => [{ metadata: new Map([["a", "1"]]) }],
  set: () => [{ expand: new Set(["a"]) }],
  uint8: () => [{ description: new Uint8Array([104, 105]) }],
  arrayBuffer: () => [{ description: new ArrayBuffer(2) }],
  date: () => [{ description: new Date(0) }],
  regexp: () => [{ description: /x/ }],
  error: () => [{ description: new Error("boom") }],
  nan: () => [{ balance: NaN }],
  infinity: () => [{ balance: -Infinity }],
  fn: () => [{ description: () => "x" }],
  rpcTarget: () => [{ description: new Thing() }],
  bigint: () => [{ balance: 10n }],
  undefinedInArray: () => [{ expand: ["a", undefined] }],
  sparse: () => [{ expand: ["a", , "c"] }],
  cyclic: () => [{ metadata: cyclic() }],
  deep1000: () => [{ metadata: deep(1000) }],
  deep127: () => [{ metadata: deep(124) }],
  deep128: () => [{ metadata: deep(125) }],
  deepForRpc: () => [{ metadata: deep(100000) }],
  over32MiB: () => [{ description: "x".repeat(33 * 1024 * 1024) }],
  body10MB: () => [{ description: "x".repeat(10 * 1024 * 1024) }],
  manyKeys: () => [{ metadata: Object.fromEntries(Array.from({ length: 50000 }, (_, i) => ["k" + i, "v" + i])) }],
  protoKeys: () => [JSON.parse('{"__proto__":{"polluted":1},"constructor":"c","description":"d"}')],
  protoInNested: () => [{ metadata: JSON.parse('{"__proto__":"p","constructor":"c","toString":"t"}') }],
  pathObject: () => [{ id: 1 }, {}],
  paramsNumber: () => [7],
  paramsString: () => ["a string"],
  optionsString: () => [{ description: "d" }, "options"],
  extraArgs: () => [{ description: "d" }, { auth: { apiKey: "sk_test_CANARYextra" } }, "third", "fourth"],
  missingPath: () => [],
  symbolKey: () => [{ description: "d", [Symbol("s")]: 1 }],
};
export default {
  async fetch(request, env) {
    const { case: name, call = "customers.create" } = await request.json();
    const [resource, method] = call.split(".");
    try {
      const value = await env.CAP[resource][method](...CASES[name]());
      return Response.json({ value });
    } catch (e) {
      return Response.json({ thrown: { name: e?.name, message: String(e?.message ?? e).slice(0, 300) } });
    }
  },
};`;

let upstream, mf;
const logs = [];
before(async () => {
  upstream = await startUpstream();
  upstream.reply = (req) => ({ status: 200, json: { id: "cus_1", bytes: req.body.length } });
  const dir = path.join(ROOT, "dist", "stripe");
  const wasm = readdirSync(dir).find((f) => f.endsWith(".wasm"));
  mf = new Miniflare(
    convertV4MiniflareOptions({
      cf: false,
      handleStructuredLogs: (log) => logs.push(log.message),
      workers: [
        { name: "caller", modules: true, script: CALLER, compatibilityDate: COMPATIBILITY_DATE, serviceBindings: { CAP: "capability" } },
        {
          name: "capability",
          modulesRoot: dir,
          modules: [
            { type: "ESModule", path: path.join(dir, "entry.js") },
            { type: "CompiledWasm", path: path.join(dir, wasm) },
          ],
          compatibilityDate: COMPATIBILITY_DATE,
          bindings: { STRIPE_API_KEY: CANARIES.secret.values[0], CAPA_LOOPBACK_ORIGIN: upstream.origin },
        },
      ],
    }),
  );
  await mf.ready;
});
after(async () => {
  assert.deepEqual(findLeaks(null, logs), []);
  await mf.dispose();
  await upstream.close();
});

async function run(name, call) {
  upstream.requests.length = 0;
  const res = await mf.dispatchFetch("http://caller/", { method: "POST", body: JSON.stringify({ case: name, call }) });
  const out = await res.json();
  const sent = upstream.requests.splice(0);
  // The isolate survived: the next call works.
  const next = await (await mf.dispatchFetch("http://caller/", { method: "POST", body: JSON.stringify({ case: "plain" }) })).json();
  assert.equal(next.value?.ok, true, `after ${name}, the next call: ${JSON.stringify(next)}`);
  upstream.requests.length = 0;
  if (out.value) assert.deepEqual(findLeaks(out.value), [], name);
  return { ...out, sent };
}

const REFUSED = {
  map: /argument 1\.metadata is a Map/,
  set: /argument 1\.expand is a Set/,
  // Bytes cross (binary bodies, multipart files), but a form field cannot carry them.
  uint8: /`description` holds binary data, which only a binary body or a multipart file field can carry/,
  arrayBuffer: /`description` holds binary data/,
  date: /argument 1\.description is a Date \(send a Unix timestamp or date\.toISOString\(\)\)/,
  regexp: /argument 1\.description is a RegExp/,
  error: /argument 1\.description is a Error/,
  nan: /argument 1\.balance is NaN \(JSON would send null\)/,
  infinity: /argument 1\.balance is -Infinity/,
  fn: /argument 1\.description is a function/,
  rpcTarget: /argument 1\.description is a function/,
  bigint: /argument 1\.balance is a BigInt/,
  undefinedInArray: /argument 1\.expand\[1\] is undefined inside an array/,
  sparse: /argument 1\.expand\[1\] is undefined inside an array/,
  cyclic: /nested deeper than 127 levels \(the argument list is the first\), or holds itself/,
  deep128: /nested deeper than 127 levels/,
  deep1000: /nested deeper than 127 levels \(the argument list is the first\), or holds itself/,
  paramsNumber: /params must be an object/,
  paramsString: /params must be an object/,
  optionsString: /options must be an object/,
  extraArgs: /takes params, then options; got 4 argument/,
};

for (const [name, message] of Object.entries(REFUSED)) {
  test(`arguments: ${name} is invalid_argument, named, with no upstream request`, async () => {
    const { value, thrown, sent } = await run(name);
    assert.equal(thrown, undefined, JSON.stringify(thrown));
    assert.equal(value.ok, false);
    assert.equal(value.error.code, "invalid_argument", JSON.stringify(value.error));
    assert.match(value.error.message, message);
    assert.equal(value.receipt.attempts, 0);
    assert.equal(sent.length, 0);
  });
}

test("arguments: wrong path arguments are invalid_argument", async () => {
  for (const [name, call, message] of [
    ["pathObject", "customers.retrieve", /path parameter `customer` must be a string or a number, not object/],
    ["missingPath", "customers.retrieve", /takes 1 path argument/],
  ]) {
    const { value, sent } = await run(name, call);
    assert.equal(value.error.code, "invalid_argument");
    assert.match(value.error.message, message);
    assert.equal(sent.length, 0);
  }
});

test("arguments: nesting the runtime can still read (127 levels) is sent whole", async () => {
  const { value, sent } = await run("deep127");
  assert.equal(value.ok, true, JSON.stringify(value.error));
  assert.equal(sent.length, 1);
  assert.equal(sent[0].body, "", "empty objects send nothing, however deep");
});

test("arguments: what RPC itself refuses (nesting past its limit, over 32 MiB) fails in the caller; the capability lives on", async () => {
  for (const name of ["deepForRpc", "over32MiB"]) {
    const { value, thrown, sent } = await run(name);
    assert.equal(value, undefined, `${name} reached the capability: ${JSON.stringify(value)?.slice(0, 200)}`);
    assert.ok(thrown, name);
    assert.equal(sent.length, 0);
  }
});

test("arguments: a 10 MB body and 50,000 keys are sent whole, byte for byte", async () => {
  const big = await run("body10MB");
  assert.equal(big.value.ok, true, JSON.stringify(big.value.error));
  assert.equal(big.sent.length, 1);
  assert.equal(big.sent[0].body, `description=${"x".repeat(10 * 1024 * 1024)}`);
  const many = await run("manyKeys");
  assert.equal(many.value.ok, true);
  assert.equal(many.sent[0].body.split("&").length, 50000);
  assert.ok(many.sent[0].body.startsWith("metadata[k0]=v0&metadata[k1]=v1&"));
});

test("arguments: __proto__ and constructor keys are data: refused where undeclared, sent as fields inside objects", async () => {
  const top = await run("protoKeys");
  assert.equal(top.value.error.code, "unknown_parameter");
  assert.match(top.value.error.message, /`__proto__`, `constructor`/);
  assert.equal(top.sent.length, 0);
  const nested = await run("protoInNested");
  assert.equal(nested.value.ok, true, JSON.stringify(nested.value.error));
  assert.equal(nested.sent[0].body, "metadata[__proto__]=p&metadata[constructor]=c&metadata[toString]=t");
});

test("arguments: symbol-keyed members are not data: RPC drops them, the rest is sent", async () => {
  const { value, sent } = await run("symbolKey");
  assert.equal(value.ok, true);
  assert.deepEqual(sent.map((s) => s.body), ["description=d"]);
});
