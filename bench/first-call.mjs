// Where a cold Worker's first call goes: CPU samples (Linux `perf`, with V8's perf map) of the
// whole run, from workerd's start through one `customers.list` call, split into start-up (the
// Worker being compiled and its module evaluated) and the first request, and within each into
// wasm compilation and the rest. Diagnostics, not a benchmark: run after `npm run bench` (or
// scripts/bench.sh) built dist/.
//   node bench/first-call.mjs [runs]     (OWN_CPU_V8_FLAGS adds V8 flags, e.g. --no-wasm-lazy-compilation)
// Under perf, V8 writes every compiled function to its perf map, so compilation reads slower here
// than it runs; compare the phases and the targets, not these figures with the bench's.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const COMPAT = "2026-11-01";
const HZ = 20000;

if (process.argv[2] === "--child") {
  // One cold start and one call; the parent records this process with perf.
  const target = process.argv[3];
  const dist = path.join(ROOT, "dist", "stripe");
  const wasm = readdirSync(dist).find((f) => f.endsWith(".wasm"));
  const source =
    target === "rust"
      ? { modulesRoot: dist, modules: [{ type: "ESModule", path: path.join(dist, "entry.js") }, { type: "CompiledWasm", path: path.join(dist, wasm) }] }
      : { modules: true, scriptPath: path.join(BENCH, "twin.js") };
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      cf: false,
      workers: [
        { name: "caller", modules: true, scriptPath: path.join(BENCH, "caller.js"), compatibilityDate: COMPAT, outboundService: "upstream", serviceBindings: { [target.toUpperCase()]: target } },
        { name: "upstream", modules: true, scriptPath: path.join(BENCH, "upstream.js"), compatibilityDate: COMPAT },
        { name: target, compatibilityDate: COMPAT, bindings: { STRIPE_API_KEY: "sk_test_first_call_0000" }, outboundService: "upstream", ...source },
      ],
    }),
  );
  await mf.ready;
  const out = await (await mf.dispatchFetch(`http://caller/?target=${target}&case=list&n=1`)).json();
  if (out.error) throw new Error(out.error);
  await mf.dispose();
  process.exit(0);
}

if (spawnSync("perf", ["--version"]).status !== 0) {
  console.log("first-call: needs Linux perf (`perf record`); not found, nothing measured");
  process.exit(0);
}
const runs = Number(process.argv[2] ?? 5);

async function measure(target) {
  const counts = { "start-up: wasm compile": 0, "start-up: the rest": 0, "first call: wasm compile": 0, "first call: the rest": 0 };
  for (let run = 0; run < runs; run++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "capa-first-call-"));
    const data = path.join(dir, "perf.data");
    const env = { ...process.env, MINIFLARE_WORKERD_V8_FLAGS: ["--perf-basic-prof", process.env.OWN_CPU_V8_FLAGS].filter(Boolean).join(" ") };
    const rec = spawnSync("perf", ["record", "-q", "-e", "cpu-clock", "-F", String(HZ), "-g", "-o", data, "--", process.execPath, fileURLToPath(import.meta.url), "--child", target], { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    for (const f of readdirSync(ROOT)) if (/^isolate-.*-v8\.log$/.test(f)) rmSync(path.join(ROOT, f));
    if (rec.status !== 0) throw new Error(`perf record failed: ${rec.stderr}`);
    const count = (lines) => {
      if (!lines[0]?.startsWith("workerd")) return;
      const stack = lines.slice(1).join("\n");
      // Start-up runs under the Worker's compilation and construction; a request under its lock.
      const phase = /compileWorker|workerd::Worker::Worker/.test(stack) ? "start-up" : stack.includes("workerd::Worker::AsyncLock") ? "first call" : null;
      if (!phase) return;
      const compiling = lines.some((l) => l.includes("v8::internal::wasm::") && /Compile|Liftoff|Decoder/.test(l));
      counts[`${phase}: ${compiling ? "wasm compile" : "the rest"}`]++;
    };
    const script = spawn("perf", ["script", "-i", data, "-F", "comm,ip,sym"], { stdio: ["ignore", "pipe", "ignore"] });
    const exited = new Promise((resolve) => script.on("close", resolve));
    let sample = [];
    for await (const line of createInterface({ input: script.stdout, crlfDelay: Infinity })) {
      if (line === "") {
        count(sample);
        sample = [];
      } else sample.push(line);
    }
    count(sample);
    const code = await exited;
    rmSync(dir, { recursive: true, force: true });
    if (code !== 0) throw new Error(`perf script failed (exit ${code})`);
  }
  return Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, (n / HZ / runs) * 1000]));
}

const rows = [];
for (const target of ["twin", "rust"]) {
  console.error(`first-call: ${target} (${runs} cold starts under perf)`);
  rows.push([target, await measure(target)]);
}
const keys = Object.keys(rows[0][1]);
console.log(`| target | ${keys.map((k) => `${k} (ms)`).join(" | ")} |`);
console.log(`| --- | ${keys.map(() => "---:").join(" | ")} |`);
for (const [target, ms] of rows) console.log(`| ${target} | ${keys.map((k) => ms[k].toFixed(2)).join(" | ")} |`);
