// `node scripts/mock.mjs <provider> <port>`: a mock of the provider's API on 127.0.0.1:<port>,
// built from its own spec by Prism (`@stoplight/prism-cli`), for `npm start -- <provider>`.
//
// Prism serves the spec's `paths` at its root, while the capability sends the server's path too
// (`/api/v3/pet/1` for a server `https://petstore3.swagger.io/api/v3`): a small proxy in front
// takes that path off, and prints each request with Prism's verdict (its status, and the
// violations of its `sl-violations` header), so what the mock refused is visible. What Prism
// cannot judge is in docs/providers.md ("Try any API locally").
import { spawn, execFileSync } from "node:child_process";
import { createServer, request } from "node:http";
import { createServer as createNetServer } from "node:net";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [provider, portText] = process.argv.slice(2);
if (!provider || !/^\d+$/.test(portText ?? "")) {
  console.error("usage: node scripts/mock.mjs <provider> <port>");
  process.exit(2);
}

// The spec and the server path, as the generator read them (its table names each operation's
// server, already resolved).
const table = JSON.parse(execFileSync("cargo", ["run", "-q", "--release", "-p", "capa-gen", "--", "table", provider], { cwd: ROOT, encoding: "utf8" }));
const servers = [...new Set(table.operations.map((o) => new URL(o.server).pathname.replace(/\/$/, "")))].sort((a, b) => b.length - a.length);
const manifest = readFileSync(path.join(ROOT, "openapi", provider, "capa.toml"), "utf8");
const specFile = path.join(ROOT, "openapi", provider, /^spec\s*=\s*"([^"]+)"/m.exec(manifest)[1]);

// Prism 5 opens a 3.1 `$ref` naming an `$id` as a file: hand it a copy whose references are
// local pointers (as tests/conformance/prism.test.mjs does).
function prismSpec() {
  const text = readFileSync(specFile, "utf8");
  const doc = specFile.endsWith(".json") ? JSON.parse(text) : YAML.parse(text);
  if (!JSON.stringify(doc).includes('"$id"')) return specFile;
  const ids = new Map();
  const walk = (v, pointer) => {
    if (!v || typeof v !== "object") return;
    if (typeof v.$id === "string") ids.set(v.$id, pointer);
    for (const [k, x] of Object.entries(v)) walk(x, `${pointer}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
  };
  walk(doc, "");
  const rewrite = (v) => {
    if (!v || typeof v !== "object") return;
    if (typeof v.$ref === "string" && ids.has(v.$ref)) v.$ref = `#${ids.get(v.$ref)}`;
    Object.values(v).forEach(rewrite);
  };
  rewrite(doc);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "capa-mock-")), "spec.json");
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const free = await new Promise((resolve) => {
  const s = createNetServer();
  s.listen(0, "127.0.0.1", () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});
const bin = path.join(ROOT, "node_modules", "@stoplight", "prism-cli", "dist", "index.js");
const prism = spawn(process.execPath, [bin, "mock", "-h", "127.0.0.1", "-p", String(free), prismSpec()], { stdio: ["ignore", "ignore", "inherit"] });
const stop = () => {
  prism.kill();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
prism.on("exit", (code) => {
  console.error(`mock: prism exited (${code})`);
  process.exit(1);
});

const proxy = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const base = servers.find((s) => s && req.url.startsWith(s));
    const url = base ? req.url.slice(base.length) || "/" : req.url;
    const forward = request({ host: "127.0.0.1", port: free, method: req.method, path: url, headers: { ...req.headers, host: `127.0.0.1:${free}` } }, (answer) => {
      let violations = [];
      try {
        violations = JSON.parse(answer.headers["sl-violations"] ?? "[]").filter((v) => v.severity === "Error");
      } catch {}
      console.error(`mock: ${req.method} ${req.url} → ${answer.statusCode}${violations.map((v) => `\n  prism: ${v.location?.join(".")}: ${v.message}`).join("")}`);
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.writeHead(502).end());
    forward.end(Buffer.concat(chunks));
  });
});
// Prism takes a few seconds to read a large spec: the proxy listens once it answers.
for (let i = 0; ; i++) {
  try {
    await fetch(`http://127.0.0.1:${free}/`);
    break;
  } catch {
    if (i > 600) throw new Error("prism did not start within a minute");
    await new Promise((r) => setTimeout(r, 100));
  }
}
proxy.listen(Number(portText), "127.0.0.1", () => console.error(`mock: ${provider}'s spec served by Prism on http://127.0.0.1:${portText}`));
