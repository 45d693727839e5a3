// The RPC surface is exactly the generated resources: no wasm export, no `env`, no dispatch
// function is reachable by a caller, and plain HTTP gets a 404.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { ROOT, COMPATIBILITY_DATE, CANARY, startWorkers } from "./harness.mjs";

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
    return Response.json({ chain, exports: Object.keys(mod) });
  },
};`;

for (const provider of ["stripe", "petstore"]) {
  const dir = path.join(ROOT, "dist", provider);
  const wasmFile = readdirSync(dir).find((f) => f.endsWith(".wasm"));
  // The resources: the first segment of every generated call name.
  const resources = [
    ...new Set(
      readFileSync(path.join(ROOT, "generated", provider, "methods.txt"), "utf8")
        .split("\n")
        .filter((l) => l && !l.startsWith("#") && l.includes("("))
        .map((l) => l.split(".")[0])
        .filter((r) => /^[a-zA-Z_$][\w$]*$/.test(r)),
    ),
  ].sort();

  test(`${provider}: the entrypoint exposes exactly fetch and the resources`, async () => {
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
      const { chain, exports } = await (await mf.dispatchFetch("http://inspect/")).json();
      assert.deepEqual(exports, ["default"], "the main module exports one entrypoint");
      assert.equal(chain.length, 1, "the generated class, straight over WorkerEntrypoint");
      assert.deepEqual(chain[0], ["constructor", "fetch", ...resources].sort());
    } finally {
      await mf.dispose();
    }
  });

  test(`${provider}: wasm exports and internals are not callable over RPC; fetch is 404`, async () => {
    const wasmModule = new WebAssembly.Module(readFileSync(path.join(dir, wasmFile)));
    const exported = WebAssembly.Module.exports(wasmModule).map((e) => e.name);
    assert.ok(exported.includes("capa_begin"), "the runtime's entry point is a wasm export");
    const cap = await startWorkers({ provider, bindings: { [`${provider.toUpperCase()}_API_KEY`]: CANARY.secret } });
    try {
      for (const name of [...exported, "env", "ctx", "constructor", "__worker_init_state", "__wbg_reset_state"]) {
        await assert.rejects(cap.call(name, 0, "[]", { [`${provider.toUpperCase()}_API_KEY`]: "mine" }), /RPC threw/, `${name} must not be callable`);
      }
      const res = await cap.call("fetch", "http://capability/anything");
      assert.deepEqual(res, { status: 404, text: "Not found" });
    } finally {
      await cap.dispose();
    }
  });
}
