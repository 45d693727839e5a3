// The independent validators the conformance suites send requests to, each started on
// 127.0.0.1 ports of its own, and the tally they make.
import { spawn } from "node:child_process";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { ROOT } from "../harness.mjs";

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(url, ms, child, name) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${child.output}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${name} did not answer at ${url} within ${ms} ms: ${child.output}`);
}

function started(name, command, args, env = {}) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  child.output = "";
  for (const stream of [child.stdout, child.stderr]) stream.on("data", (d) => (child.output = (child.output + d).slice(-4000)));
  return child;
}

/**
 * stripe-mock, Stripe's own validator (built by scripts/setup.sh into .tools/stripe-mock), both
 * its listeners on 127.0.0.1 (given one, it opens the other on every interface).
 */
export async function stripeMock() {
  const bin = path.join(ROOT, ".tools", "stripe-mock", "stripe-mock");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run scripts/setup.sh (it builds stripe-mock from ../shared/tools/stripe-mock)`);
  const [http, https] = [await freePort(), await freePort()];
  const env = { PORT: "" };
  const child = started("stripe-mock", bin, ["-http-addr", `127.0.0.1:${http}`, "-https-addr", `127.0.0.1:${https}`], env);
  const origin = `http://127.0.0.1:${http}`;
  await waitFor(`${origin}/v1/customers`, 20000, child, "stripe-mock");
  return { origin, stop: () => child.kill() };
}

/**
 * Prism (`@stoplight/prism-cli`, npm) mocking `spec`, behind a recording proxy on 127.0.0.1 that
 * takes the spec's server path off (Prism serves `paths` at its root; the capability sends
 * `/helix/channels` for Twitch's `https://api.twitch.tv/helix`). Each request is recorded with
 * Prism's verdict: its status and the request violations of its `sl-violations` header.
 */
export async function prism(spec, { serverPath = "" } = {}) {
  const port = await freePort();
  const bin = path.join(ROOT, "node_modules", "@stoplight", "prism-cli", "dist", "index.js");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run scripts/setup.sh (npm install)`);
  const child = started("prism", process.execPath, [bin, "mock", "-h", "127.0.0.1", "-p", String(port), spec]);
  await waitFor(`http://127.0.0.1:${port}/`, 60000, child, "prism");
  const requests = [];
  const proxy = createHttpServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const url = serverPath && req.url.startsWith(serverPath) ? req.url.slice(serverPath.length) || "/" : req.url;
      const forward = httpRequest({ host: "127.0.0.1", port, method: req.method, path: url, headers: { ...req.headers, host: `127.0.0.1:${port}` } }, (answer) => {
        const out = [];
        answer.on("data", (c) => out.push(c));
        answer.on("end", () => {
          let violations = [];
          try {
            violations = JSON.parse(answer.headers["sl-violations"] ?? "[]").filter((v) => v.severity === "Error" && v.location?.[0] === "request");
          } catch {}
          requests.push({ method: req.method, url, status: answer.statusCode, violations });
          res.writeHead(answer.statusCode, answer.headers);
          res.end(Buffer.concat(out));
        });
      });
      forward.on("error", (e) => {
        requests.push({ method: req.method, url, status: 0, violations: [{ location: ["request"], message: String(e) }] });
        res.writeHead(502).end();
      });
      forward.end(body);
    });
  });
  await new Promise((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${proxy.address().port}`,
    requests,
    stop: async () => {
      child.kill();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}

/**
 * The committed baseline of a provider: how many operations the validator accepted in every
 * round (the suite fails below it), and the rejections known to be the validator's fault, each
 * with the evidence that the request is right.
 */
export function baseline(provider) {
  const all = JSON.parse(readFileSync(path.join(ROOT, "tests", "conformance", "baseline.json"), "utf8"));
  return all[provider] ?? { operations: 0, known: {} };
}

/** Prints a provider's table: operations, generated, accepted, rejected with reasons. */
export function report(provider, { operations, generated, calls, accepted, rejected }) {
  const lines = [
    `conformance ${provider}: ${operations} operations in the spec, ${generated} generated, ${calls} calls, ${accepted} accepted, ${rejected.length} rejected`,
    ...rejected.slice(0, 40).map((r) => `  ${r.id} (${r.call}): ${r.reason}`),
  ];
  console.log(lines.join("\n"));
}
