// The RPC surface is exactly the generated resources: no wasm export, no `env`, no dispatch
// function, no prototype member is reachable by a caller, for every provider; no argument can
// name an operation outside the table; and plain HTTP gets a 404 that says nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { ROOT, COMPATIBILITY_DATE, CANARY, startUpstream, startWorkers, tableOf } from "../harness.mjs";

// Loaded beside the bundle, this module lists every name workerd would expose over RPC: the
// main module's exports, and the members of the entrypoint's prototype chain above
// WorkerEntrypoint.
const INSPECTOR = `
import { WorkerEntrypoint } from "cloudflare:workers";
import * as mod from "./entry.js";
const Capability = mod.default;
export default {
  fetch() {
    const chain = [];
    for (let p = Capability.prototype; p && p !== WorkerEntrypoint.prototype && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
      chain.push(Object.getOwnPropertyNames(p).sort());
    }
    // Every resource, reached through the getters as a caller reaches it: its class's members.
    const resources = {};
    const walk = (target, prefix) => {
      const proto = Object.getPrototypeOf(target);
      const names = Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor").sort();
      resources[prefix] = { names, base: Object.getPrototypeOf(proto)?.constructor?.name, own: Object.keys(target) };
      for (const n of names) {
        const d = Object.getOwnPropertyDescriptor(proto, n);
        if (d.get) walk(d.get.call(target), prefix + "." + n);
      }
    };
    // As workerd makes it for a call over a binding without props.
    const cap = Object.create(Capability.prototype, { env: { value: {} }, ctx: { value: { props: {} } } });
    for (const n of chain[0]) {
      const d = Object.getOwnPropertyDescriptor(Capability.prototype, n);
      if (d.get) walk(d.get.call(cap), n);
    }
    // A session, and what it holds: the same resources, and attenuate.
    const session = cap.withAuth({});
    const sessionProto = Object.getPrototypeOf(session);
    const sessionNames = Object.getOwnPropertyNames(sessionProto).sort();
    const sessionSymbols = Object.getOwnPropertySymbols(sessionProto).map(String);
    for (const n of sessionNames) {
      const d = Object.getOwnPropertyDescriptor(sessionProto, n);
      if (d.get) walk(d.get.call(session), "session." + n);
    }
    resources["session"] = { names: sessionNames.filter((n) => n !== "constructor"), base: Object.getPrototypeOf(sessionProto)?.constructor?.name, own: Object.keys(session), symbols: sessionSymbols };
    // The named exports besides the entrypoint (a token provider's Durable Object class): their
    // public members, which any Worker binding the class could call.
    const objects = Object.fromEntries(Object.keys(mod).filter((k) => k !== "default").map((k) => [k, Object.getOwnPropertyNames(mod[k].prototype).sort()]));
    return Response.json({ chain, exports: Object.keys(mod), resources, objects });
  },
};`;

// auth-oauth2: a token provider, whose entry also exports its token object (src/token/shared.rs).
const OBJECTS = { "auth-oauth2": { CapaTokens: ["constructor", "put", "release", "take"] } };

for (const provider of ["stripe", "petstore", "github", "twitch", "auth-oauth2"]) {
  const dir = path.join(ROOT, "dist", provider);
  const wasmFile = readdirSync(dir).find((f) => f.endsWith(".wasm"));
  const table = tableOf(provider);
  // The resources: the first segment of every generated call name.
  const resources = [...new Set(table.operations.map((o) => o.call.split(".")[0]))].sort();

  test(`${provider}: the entrypoint exposes exactly fetch and the resources; each resource exactly its methods`, async () => {
    const mf = new Miniflare(
      convertV4MiniflareOptions({
        cf: false,
        modulesRoot: dir,
        modules: [
          { type: "ESModule", path: path.join(dir, "inspector.js"), contents: INSPECTOR },
          { type: "ESModule", path: path.join(dir, "entry.js") },
          { type: "CompiledWasm", path: path.join(dir, wasmFile) },
        ],
        compatibilityDate: COMPATIBILITY_DATE,
      }),
    );
    try {
      const { chain, exports, resources: found, objects } = await (await mf.dispatchFetch("http://inspect/")).json();
      assert.deepEqual(exports.sort(), [...Object.keys(OBJECTS[provider] ?? {}), "default"].sort(), "the main module exports one entrypoint (and a token provider its token object)");
      // The token object answers ciphertext only; nothing else is on it.
      assert.deepEqual(objects, OBJECTS[provider] ?? {});
      assert.equal(chain.length, 1, "the generated class, straight over WorkerEntrypoint");
      assert.deepEqual(chain[0], ["constructor", "fetch", "withAuth", ...resources].sort());
      // What each resource holds, from the table: its sub-resources and methods, nothing else
      // (no `env`: the Worker's env sits in a private field), straight over RpcTarget.
      const want = {};
      for (const op of table.operations) {
        const parts = op.call.split(".");
        for (let i = 1; i < parts.length; i++) (want[parts.slice(0, i).join(".")] ??= new Set()).add(parts[i]);
      }
      // A session holds the same tree below it, and attenuate beside the resources.
      for (const [k, v] of Object.entries(want)) want["session." + k] = v;
      want.session = new Set([...resources, "attenuate"]);
      for (const r of resources) want.session.add(r);
      assert.deepEqual(found.session.symbols, ["Symbol(Symbol.dispose)"], "a session's one symbol member");
      assert.deepEqual(Object.keys(found).sort(), Object.keys(want).sort());
      for (const [resource, { names, base, own }] of Object.entries(found)) {
        assert.deepEqual(names, [...want[resource]].sort(), resource);
        assert.equal(base, "RpcTarget", resource);
        assert.deepEqual(own, [], `${resource} has no own enumerable properties`);
      }
    } finally {
      await mf.dispose();
    }
  });

  test(`${provider}: every method names its own operation, by a constant; none takes one from its caller`, () => {
    const entry = readFileSync(path.join(ROOT, "generated", provider, "entry.js"), "utf8");
    const indices = [...entry.matchAll(/invoke\(([^)]*)\)/g)].map((m) => m[1]).filter((a) => a !== "env, op, args, grant");
    assert.equal(indices.length, table.operations.length);
    const seen = indices.map((a) => {
      const m = a.match(/^this\.#env, (\d+), args, this\.#grant$/);
      assert.ok(m, `invoke(${a}) must pass the Worker's env, a literal index, the arguments and the holder's grant`);
      return Number(m[1]);
    });
    assert.deepEqual([...seen].sort((x, y) => x - y), table.operations.map((_, i) => i), "each operation once");
  });

  test(`${provider}: wasm exports, internals and prototype members are not callable over RPC`, async () => {
    const wasmModule = new WebAssembly.Module(readFileSync(path.join(dir, wasmFile)));
    const exported = WebAssembly.Module.exports(wasmModule).map((e) => e.name);
    assert.ok(exported.includes("capa_begin"), "the runtime's entry point is a wasm export");
    const secretName = table.secret;
    const upstream = await startUpstream();
    const cap = await startWorkers({ provider, bindings: { [secretName]: CANARY.secret, CAPA_LOOPBACK_ORIGIN: upstream.origin } });
    // Object.prototype's members (toString, valueOf...) are answered by the caller's own stub
    // and never reach the capability: a call may resolve, but never to an envelope.
    const unreachable = async (dotted, ...args) => {
      try {
        const value = await cap.call(dotted, ...args);
        assert.ok(!(value && typeof value === "object" && ("receipt" in value || "ok" in value)), `${dotted} reached the capability: ${JSON.stringify(value)}`);
      } catch (e) {
        assert.match(e.message, /RPC threw/, dotted);
      }
    };
    try {
      const internals = ["env", "ctx", "constructor", "__proto__", "toString", "toLocaleString", "valueOf", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "__defineGetter__", "__lookupGetter__", "#env", "invoke", "internal", "receiptOf", "scanner", "__worker_init_state", "__wbg_reset_state", "CapaTokens", "take", "put", "release", "obtain", "flights", "sealers", "slot", "attenuate", "held", "propsGrant", "grantOf", "made", "Session", "#grant"];
      const first = table.operations[0].call.split(".");
      for (const name of [...exported, ...internals]) {
        if (!internals.includes(name) || !(name in Object.prototype)) {
          await assert.rejects(cap.call(name, 0, "[]", { [secretName]: "mine" }), /RPC threw/, `${name} must not be callable`);
        }
        await unreachable(name, 0, "[]", { [secretName]: "mine" });
        // On a resource too.
        await unreachable(`${first[0]}.${name}`, 0, "[]");
      }
      assert.equal(upstream.requests.length, 0, "none of them reached the upstream");
      const res = await cap.call("fetch", "http://capability/anything");
      assert.deepEqual(res, { status: 404, text: "Not found" });
    } finally {
      await cap.dispose();
      await upstream.close();
    }
  });

  test(`${provider}: fetch() answers 404 for every method and path, and says nothing`, async () => {
    const cap = await startWorkers({ provider, bindings: { [table.secret]: CANARY.secret } });
    try {
      const worker = await cap.mf.getWorker("capability");
      for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]) {
        for (const p of ["/", "/v1/customers", "/capa_begin", "/..%2f..%2f", "/?op=0&args=[]", "/__wbg_reset_state", "/" + "x".repeat(2000)]) {
          const body = ["GET", "HEAD"].includes(method) ? undefined : JSON.stringify([0, "[]"]);
          const res = await worker.fetch(`http://capability${p}`, { method, body });
          const text = await res.text();
          assert.equal(res.status, 404, `${method} ${p}`);
          assert.equal(text, method === "HEAD" ? "" : "Not found", `${method} ${p}`);
          const headers = [...res.headers].map(([k]) => k).filter((k) => k !== "content-length" && k !== "connection").sort();
          assert.deepEqual(headers, ["content-type"], `${method} ${p}: no header says what runs here`);
          assert.equal(res.headers.get("content-type"), "text/plain;charset=UTF-8");
        }
      }
    } finally {
      await cap.dispose();
    }
  });
}
