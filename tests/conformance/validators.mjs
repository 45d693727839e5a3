// The independent validators the conformance suites send requests to, each started on
// 127.0.0.1 ports of its own, and the tally they make.
import { spawn } from "node:child_process";
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
