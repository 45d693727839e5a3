// `npm start -- <provider>` for a provider other than Stripe: the demo caller bound to the
// provider's capability (as scripts/dev.sh binds it: its binding named by CAPA_BINDING), the
// built Worker (dist/<provider>), and the mock Prism builds from the provider's own spec
// (scripts/mock.mjs, the very script dev.sh runs) on 127.0.0.1; the demo's /call/<method> route
// answers for it. Petstore: a server with a path (/api/v3), which the mock takes off for Prism.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { ROOT, COMPATIBILITY_DATE } from "./harness.mjs";

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

test("npm start -- petstore: the demo caller's /call/<method> through the capability to Prism's mock of the spec", async (t) => {
  const dev = readFileSync(path.join(ROOT, "scripts/dev.sh"), "utf8");
  assert.match(dev, /node scripts\/mock\.mjs "\$provider" "\$UPSTREAM_PORT"/, "dev.sh runs the mock this test runs");
  assert.match(dev, /services = \[\{ binding = "\$binding", service = "capa-\$provider" \}\]\nvars = \{ CAPA_BINDING = "\$binding" \}/, "dev.sh binds the demo caller as this test does");

  const port = await freePort();
  const mock = spawn(process.execPath, [path.join(ROOT, "scripts/mock.mjs"), "petstore", String(port)], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  mock.stderr.on("data", (d) => (log += d));
  const dist = path.join(ROOT, "dist", "petstore");
  const wasm = readdirSync(dist).find((f) => f.endsWith(".wasm"));
  let mf;
  try {
    for (let i = 0; !log.includes("served by Prism"); i++) {
      assert.ok(i < 1200 && mock.exitCode === null, `the mock did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    mf = new Miniflare(
      convertV4MiniflareOptions({
        cf: false,
        workers: [
          { name: "capa-demo", modules: true, scriptPath: path.join(ROOT, "demo/caller.js"), compatibilityDate: COMPATIBILITY_DATE, bindings: { CAPA_BINDING: "PETSTORE" }, serviceBindings: { PETSTORE: "capa-petstore" } },
          {
            name: "capa-petstore",
            modulesRoot: dist,
            modules: [
              { type: "ESModule", path: path.join(dist, "entry.js") },
              { type: "CompiledWasm", path: path.join(dist, wasm) },
            ],
            compatibilityDate: COMPATIBILITY_DATE,
            bindings: { PETSTORE_API_KEY: "demo-petstore-api-key", CAPA_LOOPBACK_ORIGIN: `http://127.0.0.1:${port}` },
          },
        ],
      }),
    );
    const call = async (method, args) => (await mf.dispatchFetch(`http://127.0.0.1/call/${method}`, { method: "POST", body: JSON.stringify(args) })).json();
    const pet = await call("pet.retrieve", [1]);
    assert.equal(pet.ok, true, JSON.stringify(pet.error));
    assert.equal(typeof pet.result.name, "string", "Prism's example pet");
    assert.equal(pet.receipt.status, 200);
    const inventory = await call("store.inventory.retrieve", []);
    assert.equal(inventory.ok, true, JSON.stringify(inventory.error));
    // A call Prism refuses (a user name that is a number) is its verdict, the upstream's error.
    const refused = await call("user.create", [{ username: 5 }]);
    assert.equal(refused.ok, false);
    assert.equal(refused.error.status, 422, JSON.stringify(refused.error));
    t.diagnostic(log.split("\n").filter((l) => l.startsWith("mock: GET") || l.startsWith("mock: POST")).join("; "));
    assert.match(log, /mock: GET \/api\/v3\/pet\/1 → 200/);
    assert.match(log, /mock: POST \/api\/v3\/user → 422\n  prism: request\.body\.username: /);
    const help = await (await mf.dispatchFetch("http://127.0.0.1/")).text();
    assert.match(help, /bound to PETSTORE/);
  } finally {
    await mf?.dispose();
    mock.kill();
  }
});
